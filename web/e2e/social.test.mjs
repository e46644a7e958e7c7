// The social pages in a real browser against a running nest dev (NEST_API_URL): sign in, post
// (the wallet signs the EIP-712 message), see it in the feed, like it, reply, and from a second
// browser follow the author, see the post in the home feed, the author's unread notification
// count, and likes signed by a delegated app key with no further wallet prompt. The like state
// is the api's (a reload keeps it), and the author edits the post (shown "edited").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { KEYS, connect, connectAndSignIn, loadStack, openApp } from "./stack.mjs";

let stack;
before(async () => {
  stack = await loadStack();
});
after(async () => {
  await stack?.browser.close();
});

const typedSignatures = (wallet) => wallet.state.calls.filter((c) => c === "eth_signTypedData_v4").length;

test("post, see it in the feed, like, reply; follow from another browser, home feed, notifications, app-key likes", { timeout: 180_000 }, async () => {
  // Fresh accounts: social messages need no gas, and nothing else in the suite touches them.
  const aliceKey = generatePrivateKey();
  const bobKey = generatePrivateKey();
  const alice = privateKeyToAccount(aliceKey).address;
  const text = `gm from the e2e suite ${Date.now()} ✨`;

  const a = await openApp(stack, { key: aliceKey, width: 360 });
  await a.page.goto(stack.origin + "/social");
  await connectAndSignIn(a.page);

  // Post: one typed-data signature by the wallet, then the post shows in the global feed.
  const before = typedSignatures(a.wallet);
  await a.page.getByTestId("compose-text").fill(text);
  await a.page.getByTestId("post-send").click();
  const mine = a.page.getByTestId("feed").getByTestId("post").filter({ hasText: text });
  await mine.waitFor({ timeout: 20_000 });
  assert.equal(typedSignatures(a.wallet), before + 1, "the wallet signed the post");
  const id = await mine.getAttribute("data-id");
  assert.match(id, /^0x[0-9a-f]{64}$/);
  const stored = await stack.api(`/v1/social/posts/${id}`);
  assert.equal(stored.text, text);
  assert.equal(stored.author.address, alice.toLowerCase());

  // Like it (wallet signature: no app key yet).
  await mine.getByTestId("like").click();
  await mine.getByTestId("like").and(a.page.locator('[aria-pressed="true"]')).waitFor({ timeout: 20_000 });
  await mine.getByTestId("like").getByText(/1/).waitFor({ timeout: 20_000 });
  // The button answers at once (optimistically); the api follows once the signed like lands.
  const likesReach = async (n) => {
    const deadline = Date.now() + 20_000;
    while ((await stack.api(`/v1/social/posts/${id}`)).likes !== n) {
      assert.ok(Date.now() < deadline, `the api never counted ${n} likes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await likesReach(1);
  // The pressed state comes from the api (likedByViewer), not from this browser: still pressed
  // after a reload, once the wallet reconnects and the feed is asked with it as viewer.
  assert.equal(await a.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("nest.social.liked")).length), 0);
  await a.page.reload();
  await a.page.getByTestId("account").waitFor({ state: "attached" });
  await mine.waitFor({ timeout: 20_000 });
  await mine.getByTestId("like").and(a.page.locator('[aria-pressed="true"]')).waitFor({ timeout: 20_000 });
  await mine.getByTestId("like").getByText(/1/).waitFor({ timeout: 20_000 });

  // Reply on the post's page.
  await mine.getByTestId("open-post").click();
  await a.page.waitForURL(`**/social/post/${id}`);
  const reply = `a reply ${Date.now()}`;
  await a.page.getByTestId("reply-text").fill(reply);
  await a.page.getByTestId("reply-send").click();
  await a.page.getByTestId("replies").getByText(reply).waitFor({ timeout: 20_000 });
  const replies = await stack.api(`/v1/social/posts/${id}/thread`);
  assert.ok(replies.replies.some((r) => r.text === reply && r.parent === id));

  // Alice edits her post (inside the edit window; one wallet signature): the new text shows
  // with an "edited" mark, as the api serves it, also after a reload. The new text keeps the
  // old one as a prefix, so the steps below still find the post by it.
  const root = a.page.locator(`[data-testid="post"][data-id="${id}"]`);
  const edited = `${text} (edited)`;
  const beforeEdit = typedSignatures(a.wallet);
  await root.getByTestId("edit").click();
  await root.getByTestId("edit-text").fill(edited);
  await root.getByTestId("edit-save").click();
  await root.getByTestId("edit-form").waitFor({ state: "detached", timeout: 20_000 });
  await root.getByTestId("edited").waitFor({ timeout: 20_000 });
  await root.locator("p.post-text").filter({ hasText: edited }).waitFor({ timeout: 20_000 });
  assert.equal(typedSignatures(a.wallet), beforeEdit + 1, "the wallet signed the edit");
  const afterEdit = await stack.api(`/v1/social/posts/${id}`);
  assert.equal(afterEdit.text, edited);
  assert.ok(afterEdit.editedAt > 0, "the api has the edit time");
  await a.page.reload();
  await root.getByTestId("edited").waitFor({ timeout: 20_000 });
  await root.locator("p.post-text").filter({ hasText: edited }).waitFor({ timeout: 20_000 });
  await a.page.screenshot({ path: `${stack.shots}/social-thread-360.png`, fullPage: true });

  // Bob follows Alice from her profile (another browser, 1280 px, dark).
  const b = await openApp(stack, { key: bobKey, width: 1280, colorScheme: "dark" });
  await b.page.goto(`${stack.origin}/social/u/${alice}`);
  await connect(b.page);
  await b.page.getByTestId("profile").waitFor();
  await b.page.getByTestId("follow").click();
  await b.page.getByTestId("follow").and(b.page.locator('[aria-pressed="true"]')).waitFor({ timeout: 20_000 });
  await b.page.getByTestId("followers").getByText("1").waitFor({ timeout: 20_000 });
  const links = await stack.api(`/v1/social/accounts/${bob(bobKey)}/following`);
  assert.ok(links.items.some((x) => x.address === alice.toLowerCase()), "the follow is stored");

  // Alice's header shows the unread follow; opening the inbox lists it and marks it read.
  await a.page.getByTestId("unread").waitFor({ timeout: 30_000 });
  await a.page.getByTestId("notifications-link").click();
  await a.page.getByTestId("notification").first().waitFor({ timeout: 20_000 });
  assert.match(await a.page.getByTestId("notifications").innerText(), /followed you/);
  await a.page.getByTestId("unread").waitFor({ state: "detached", timeout: 20_000 });
  await a.page.screenshot({ path: `${stack.shots}/social-notifications-360.png`, fullPage: true });

  // Bob's home feed has Alice's post; he turns on quick actions (one wallet signature), then
  // likes it with the app key: no further wallet prompt.
  await b.page.goto(`${stack.origin}/social`);
  await b.page.getByTestId("tab-home").click();
  const inHome = b.page.getByTestId("feed").getByTestId("post").filter({ hasText: text });
  await inHome.waitFor({ timeout: 20_000 });
  const beforeKey = typedSignatures(b.wallet);
  await b.page.getByTestId("app-key-enable").click();
  await b.page.getByTestId("app-key-on").waitFor({ timeout: 20_000 });
  assert.equal(typedSignatures(b.wallet), beforeKey + 1, "one signature delegates the app key");
  await inHome.getByTestId("like").click();
  await inHome.getByTestId("like").and(b.page.locator('[aria-pressed="true"]')).waitFor({ timeout: 20_000 });
  assert.equal(typedSignatures(b.wallet), beforeKey + 1, "the like needed no wallet prompt");
  await likesReach(2);
  await b.page.screenshot({ path: `${stack.shots}/social-home-1280-dark.png`, fullPage: true });

  // Report (signed by the app key too).
  await inHome.getByTestId("report").click();
  await inHome.getByTestId("report-send").click();
  await inHome.getByRole("status").waitFor({ timeout: 20_000 });
  assert.equal(typedSignatures(b.wallet), beforeKey + 1);

  // A post in an NFT's discussion, from its page.
  const nft = (await stack.api(`/v1/nfts?owner=${privateKeyToAccount(KEYS[1]).address}`)).items[0];
  await b.page.goto(`${stack.origin}/nft/${nft.contract}/${nft.tokenId}`);
  await b.page.getByTestId("owner").waitFor();
  // The discussion loads when scrolled near.
  await b.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await b.page.getByTestId("discussion").waitFor();
  const about = `about this one ${Date.now()}`;
  await b.page.getByTestId("discussion").getByTestId("compose-text").fill(about);
  await b.page.getByTestId("discussion").getByTestId("post-send").click();
  await b.page.getByTestId("discussion").getByTestId("feed").getByText(about).waitFor({ timeout: 20_000 });
  const thread = await stack.api(`/v1/social/nfts/${nft.contract}/${nft.tokenId}/posts`);
  assert.ok(thread.items.some((i) => i.type === "post" && i.post.text === about));

  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.context.close();
  await b.context.close();
});

function bob(key) {
  return privateKeyToAccount(key).address;
}
