// The signed-in token lives in sessionStorage only: it ends with the browser tab, and is
// never written to localStorage, cookies or the URL.
const TOKEN_KEY = "endure.token";

/** The token of this tab's session, or null before sign-in. */
export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps `token` for this tab's session. */
export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token (sign out, or a token the server refused). */
export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
