// The page: sign-in until a token is accepted, then the navigation (overview, runs,
// approvals with their count) and the view the URL's hash names.
import { useState } from "preact/hooks";
import { hrefOf, useRoute, type Route } from "./route.ts";
import { clearToken, loadToken, saveToken } from "./session.ts";
import { applyTheme, currentTheme, type Theme } from "./theme.ts";
import { Login } from "./views/login.tsx";

export function App() {
  const [token, setToken] = useState(loadToken);
  const route = useRoute();
  if (token === null)
    return (
      <Login
        onSubmit={async (t) => {
          saveToken(t);
          setToken(t);
          return null;
        }}
      />
    );
  const signOut = (): void => {
    clearToken();
    setToken(null);
  };
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          endure
        </a>
        <Nav route={route} />
        <ThemeToggle />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        <h1>{titleOf(route)}</h1>
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

function Nav({ route }: { route: Route }) {
  const items: { label: string; to: Route; current: boolean }[] = [
    { label: "Overview", to: { view: "overview" }, current: route.view === "overview" },
    { label: "Runs", to: { view: "runs" }, current: route.view === "runs" || route.view === "run" },
    { label: "Approvals", to: { view: "approvals" }, current: route.view === "approvals" },
  ];
  return (
    <nav class="main" aria-label="Main">
      {items.map((item) => (
        <a href={hrefOf(item.to)} aria-current={item.current ? "page" : undefined}>
          {item.label}
        </a>
      ))}
    </nav>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(currentTheme);
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      aria-label={`Switch to the ${next} theme`}
      onClick={() => {
        applyTheme(next, true);
        setTheme(next);
      }}
    >
      {theme === "dark" ? "Light" : "Dark"}
    </button>
  );
}
