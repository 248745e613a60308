// Light and dark themes: the system's preference unless the user picked one, which is kept
// (it is not a secret) in localStorage.
export type Theme = "light" | "dark";

const THEME_KEY = "endure.theme";

/** The theme to show now. */
export function currentTheme(): Theme {
  const picked = localStorage.getItem(THEME_KEY);
  if (picked === "light" || picked === "dark") return picked;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Shows `theme` and remembers the choice. */
export function applyTheme(theme: Theme, remember = false): void {
  document.documentElement.dataset.theme = theme;
  if (remember) localStorage.setItem(THEME_KEY, theme);
}
