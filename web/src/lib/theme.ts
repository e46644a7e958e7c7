// Light/dark theme: the system's by default, a remembered choice once toggled. The page's inline
// bootstrap (index.html) applies it before the first paint, so there is no flash.
export type Theme = "light" | "dark";
const KEY = "nest.theme";

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    /* not remembered */
  }
}
