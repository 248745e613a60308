// The page: sign-in until the server accepts a token, then the navigation (overview, runs,
// approvals with their count) and the view the URL's hash names.
import { useCallback, useEffect, useState } from "preact/hooks";
import type { ApprovalView } from "endure/client";
import { isUnauthorized, openSession, SessionContext, type Session } from "./api.ts";
import { APPROVALS_POLL_MS, APPROVALS_READ_MAX } from "./limits.ts";
import { hrefOf, useRoute, type Route } from "./route.ts";
import { clearToken, loadToken, saveToken } from "./session.ts";
import { useAsync, useInterval } from "./use-async.ts";
import { Approvals } from "./views/approvals.tsx";
import { Login } from "./views/login.tsx";
import { ThemeToggle } from "./views/theme-toggle.tsx";
import { Overview } from "./views/overview.tsx";
import { RunDetail } from "./views/run-detail.tsx";
import { RunsList } from "./views/runs-list.tsx";

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [restoring, setRestoring] = useState(() => loadToken() !== null);
  const signIn = useCallback(async (token: string): Promise<string | null> => {
    const opened = await openSession(token);
    if ("error" in opened) return opened.error;
    saveToken(token);
    setNotice(null);
    setSession(opened);
    return null;
  }, []);
  useEffect(() => {
    const token = loadToken();
    if (token === null) return;
    void signIn(token).then((error) => {
      if (error !== null) {
        clearToken();
        setNotice(error);
      }
      setRestoring(false);
    });
  }, [signIn]);
  const signOut = useCallback((why: string | null) => {
    clearToken();
    setSession(null);
    setNotice(why);
  }, []);
  if (session === null)
    return restoring ? (
      <p aria-busy="true">Signing in…</p>
    ) : (
      <Login onSubmit={signIn} notice={notice} />
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({
  session,
  onSignOut,
}: {
  session: Session;
  onSignOut: (why: string | null) => void;
}) {
  const route = useRoute();
  const approvals = useAsync(
    () => session.client.approvals({ limit: APPROVALS_READ_MAX }),
    [session],
  );
  useInterval(approvals.reload, APPROVALS_POLL_MS);
  useEffect(() => {
    if (isUnauthorized(approvals.error))
      onSignOut("The server no longer accepts this token. Sign in again.");
  }, [approvals.error, onSignOut]);
  useEffect(() => {
    document.title = `${titleOf(route)} · endure`;
    document.getElementById("content")?.focus({ preventScroll: true });
  }, [route]);
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          endure
        </a>
        <Nav route={route} pending={approvals.value} />
        <span class="who">
          {session.name} ({session.role})
        </span>
        <ThemeToggle />
        <button type="button" onClick={() => onSignOut(null)}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        {route.view === "overview" && <Overview approvals={approvals.value} />}
        {route.view === "runs" && <RunsList />}
        {route.view === "run" && (
          <RunDetail id={route.id} tab={route.tab} onChange={approvals.reload} />
        )}
        {route.view === "approvals" && (
          <Approvals
            approvals={approvals.value}
            error={approvals.error}
            reload={approvals.reload}
          />
        )}
      </main>
    </>
  );
}

function titleOf(route: Route): string {
  switch (route.view) {
    case "overview":
      return "Overview";
    case "runs":
      return "Runs";
    case "run":
      return `Run ${route.id}`;
    case "approvals":
      return "Approvals";
  }
}

function Nav({ route, pending }: { route: Route; pending: ApprovalView[] | undefined }) {
  const count = pending?.length ?? 0;
  const badge = count >= APPROVALS_READ_MAX ? `${APPROVALS_READ_MAX}+` : String(count);
  const items: { label: string; to: Route; current: boolean; badge?: string }[] = [
    { label: "Overview", to: { view: "overview" }, current: route.view === "overview" },
    { label: "Runs", to: { view: "runs" }, current: route.view === "runs" || route.view === "run" },
    {
      label: "Approvals",
      to: { view: "approvals" },
      current: route.view === "approvals",
      ...(count > 0 ? { badge } : {}),
    },
  ];
  return (
    <nav class="main" aria-label="Main">
      {items.map((item) => (
        <a href={hrefOf(item.to)} aria-current={item.current ? "page" : undefined}>
          {item.label}
          {item.badge !== undefined && (
            <span class="badge" aria-label={`${item.badge} pending`} data-testid="approvals-badge">
              {item.badge}
            </span>
          )}
        </a>
      ))}
    </nav>
  );
}
