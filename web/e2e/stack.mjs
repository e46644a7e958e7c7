// The stack the browser tests run against: a running `nest dev` (NEST_API_URL), opened on its
// SIWE origin (http://localhost:<port>), with the deployment read from the served page.
import { createPublicClient, createWalletClient, defineChain, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { installWallet } from "./wallet.mjs";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.mjs";

// anvil's public development keys (the mnemonic every anvil uses; never real funds).
export const KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
];

export { CHROMIUM_ARGS, CHROMIUM_PATH };

export async function loadStack() {
  const api = process.env.NEST_API_URL;
  if (!api) throw new Error("NEST_API_URL names the running nest dev api");
  const url = new URL(api);
  const origin = `http://localhost:${url.port}`;
  const html = await (await fetch(`${origin}/`)).text();
  const content = /<meta name="nest-config" content="([^"]+)"/.exec(html)?.[1];
  if (!content) throw new Error("the api serves no dApp page with a deployment (is web/dist built?)");
  const config = JSON.parse(content.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&"));
  const chain = defineChain({
    id: config.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  const reader = createPublicClient({ chain, transport: http(config.rpcUrl) });
  const root = process.env.NEST_ROOT ?? new URL("../..", import.meta.url).pathname;
  const shots = join(root, "target", "web-screenshots");
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  return {
    origin,
    config,
    chain,
    reader,
    browser,
    shots,
    signer: (key) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(config.rpcUrl) }),
    rpc: (method, params = []) => reader.request({ method, params }),
    api: async (path) => {
      const r = await fetch(origin + path);
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      return r.json();
    },
  };
}

/**
 * A browser context at `width` px in `colorScheme`, with the test wallet for `key` (if given).
 * Every console error, page error and failed same-origin request is collected in `problems`.
 */
export async function openApp(stack, { key, width = 1280, colorScheme = "light", locale = "en-US" } = {}) {
  const context = await stack.browser.newContext({
    viewport: { width, height: width < 500 ? 780 : 900 },
    colorScheme,
    locale,
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page: ${e.message}`));
  page.on("response", (r) => {
    // A 4xx the app expects (a refused request it shows) is not a page fault; a 5xx is.
    if (r.status() >= 500) problems.push(`${r.url()}: HTTP ${r.status()}`);
  });
  let wallet = null;
  if (key) wallet = await installWallet(page, { privateKey: key, rpcUrl: stack.config.rpcUrl, chainId: stack.config.chainId });
  return { context, page, problems, wallet };
}

export async function connectAndSignIn(page) {
  await page.getByTestId("connect").click();
  await page.getByRole("button", { name: "Nest Test Wallet" }).click();
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor({ timeout: 20_000 });
}

export async function connect(page) {
  await page.getByTestId("connect").click();
  await page.getByRole("button", { name: "Nest Test Wallet" }).click();
  await page.getByTestId("account").waitFor({ state: "attached" });
}

/** Waits for the newest action in the tray to reach `stage` ("indexed"), failing on "failed". */
export async function waitTx(page, count = 1, timeout = 60_000) {
  const handle = await page.waitForFunction(
    (n) => {
      const all = [...document.querySelectorAll('[data-testid="tx"]')];
      if (all.some((e) => e.dataset.stage === "failed")) return { failed: all.map((e) => e.textContent).join(" | ") };
      const done = all.filter((e) => e.dataset.stage === "indexed").length;
      return done >= n ? { ok: true } : false;
    },
    count,
    { timeout, polling: 250 },
  );
  const result = await handle.jsonValue();
  if (result.failed) throw new Error(`an action failed: ${result.failed}`);
}

export async function warp(stack, seconds) {
  await stack.rpc("evm_increaseTime", [seconds]);
  await stack.rpc("evm_mine", []);
}

export async function chainTime(stack) {
  const block = await stack.reader.getBlock();
  return Number(block.timestamp);
}

/**
 * Posts `text` as the holder of `key` through the api (signed in Node like nest dev's seed), so
 * a page has a post to show; returns the post id.
 */
export async function socialPostAs(stack, key, text, parent = `0x${"0".repeat(64)}`) {
  const account = privateKeyToAccount(key);
  const domain = await stack.api("/v1/social/domain");
  const message = { account: account.address, timestamp: Math.floor(Date.now() / 1000), text, mentions: [], embeds: [], channel: "", parent };
  const signature = await account.signTypedData({
    domain,
    types: {
      Post: [
        { name: "account", type: "address" },
        { name: "timestamp", type: "uint64" },
        { name: "text", type: "string" },
        { name: "mentions", type: "Mention[]" },
        { name: "embeds", type: "string[]" },
        { name: "channel", type: "string" },
        { name: "parent", type: "bytes32" },
      ],
      Mention: [
        { name: "account", type: "address" },
        { name: "start", type: "uint32" },
        { name: "end", type: "uint32" },
      ],
    },
    primaryType: "Post",
    message: { ...message, timestamp: BigInt(message.timestamp) },
  });
  const r = await fetch(`${stack.origin}/v1/social/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "post", domain, message, signature }),
  });
  if (!r.ok) throw new Error(`post: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).hash;
}
