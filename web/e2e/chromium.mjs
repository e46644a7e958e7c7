// How the project's browser tests start Debian's Chromium (headless, offline, no first-run
// work); shared by web/e2e and api/tests/browser. No dependencies, so either can import it.
export const CHROMIUM_PATH = process.env.NEST_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
