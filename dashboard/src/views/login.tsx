// The sign-in screen: one field for the token. The token is checked against the server
// before it is kept (in this tab's session only).
import { useState } from "preact/hooks";
import { ThemeToggle } from "./theme-toggle.tsx";

export interface LoginProps {
  /** Checks the token; resolves with an error message when the server refused it. */
  readonly onSubmit: (token: string) => Promise<string | null>;
  readonly notice?: string | null;
}

export function Login({ onSubmit, notice }: LoginProps) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (token.trim() === "") {
      setError("Enter the token your operator gave you.");
      return;
    }
    setBusy(true);
    setError(await onSubmit(token.trim()));
    setBusy(false);
  };
  return (
    <main>
      <form class="login panel" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to endure</h1>
        <p class="muted">
          Paste an API token. It is kept in this browser tab only and forgotten when the tab closes.
        </p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <label>
          Token
          <input
            type="password"
            name="token"
            autoComplete="off"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            aria-invalid={error !== null}
            aria-describedby={error === null ? undefined : "login-error"}
            autoFocus
          />
        </label>
        {error !== null && (
          <p id="login-error" class="error-box" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <ThemeToggle />
      </form>
    </main>
  );
}
