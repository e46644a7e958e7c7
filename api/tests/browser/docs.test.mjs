// The API reference page in a real browser (Debian's Chromium driven by playwright-core): /docs
// renders every operation of /openapi.json, and no request of the page fails or goes to another
// origin. Run by scripts/test against a running `nest dev` (NEST_API_URL).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../../web/e2e/chromium.mjs";

const base = process.env.NEST_API_URL;

test("/docs lists every operation with no failed request", { timeout: 60_000 }, async () => {
  assert.ok(base, "NEST_API_URL names the api under test");
  const origin = new URL(base).origin;
  const spec = await (await fetch(`${base}/openapi.json`)).json();
  const operations = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).length, 0);

  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const failed = [];
    const foreign = [];
    const errors = [];
    page.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.url()}: HTTP ${r.status()}`);
    });
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.protocol.startsWith("http") && url.origin !== origin) foreign.push(r.url());
    });
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`${base}/docs`, { waitUntil: "networkidle" });
    await page.waitForSelector(".opblock", { timeout: 30_000 });
    const shown = await page.locator(".opblock").count();
    const title = await page.locator(".info .title").innerText();

    assert.deepEqual(failed, [], "no request failed");
    assert.deepEqual(foreign, [], "nothing is loaded from another origin");
    assert.deepEqual(errors, [], "no script or policy error");
    assert.match(title, /Nest API/);
    assert.equal(shown, operations, "every operation is listed");
  } finally {
    await browser.close();
  }
});
