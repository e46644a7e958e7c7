/// <reference types="node" />
// The social messages the dApp signs against nest-social's own definitions: the EIP-712 structs
// are read from social/src/message.rs (the `sol!` block) and compared field by field, so a change
// on either side fails here rather than as a "bad signature" in the browser.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import { encodeAbiParameters, hashDomain, hashTypedData, keccak256, recoverTypedDataAddress, stringToHex, type Address, type Hex } from "viem";
import {
  APP_KEY_STRUCTS,
  ZERO_HASH,
  ZERO_ADDRESS,
  appKeyGrantMessage,
  deleteMessage,
  editMessage,
  envelope,
  envelopeType,
  followMessage,
  likeMessage,
  originSalt,
  postMessage,
  profileMessage,
  reportMessage,
  socialTypes,
  typedData,
  type SocialDomain,
  type SocialStruct,
} from "../src/social/messages";
import { carryMentions, embedHref, segments } from "../src/social/text";
import { EDIT_WINDOW_SECONDS, MAX_BIO, MAX_DISPLAY_NAME, MAX_TEXT, RESERVED_HANDLES, byteSize, canEdit, checkHandle, checkPostText, checkProfile } from "../src/social/validate";
import { INTENT_MS, intentSettled, patchPost, shownLike, withLike } from "../src/social/likes";
import type { FeedItem, SocialPost } from "../src/api/types";

const rust = readFileSync(new URL("../../social/src/message.rs", import.meta.url), "utf8");

/** `struct Name { type name; ... }` of the sol! block, as [name, [{name, type}]]. */
function solStructs(source: string): Map<string, { name: string; type: string }[]> {
  const out = new Map<string, { name: string; type: string }[]>();
  for (const m of source.matchAll(/struct (\w+) \{([^}]*)\}/g)) {
    const fields = m[2]
      .split(";")
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => {
        const [type, name] = f.split(/\s+/);
        return { name, type };
      });
    out.set(m[1], fields);
  }
  return out;
}

/** A Rust `pub const NAME: [&str; N] = [ ... ];` list. */
function constList(source: string, name: string): string[] {
  const m = new RegExp(`pub const ${name}: \\[&str; \\d+\\] = \\[([^\\]]*)\\]`).exec(source);
  if (!m) throw new Error(`${name} not found in message.rs`);
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
}

const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const domain: SocialDomain = { name: "Nest Social", version: "1", chainId: 31337, salt: originSalt("http://localhost:8080") };
const structs = solStructs(rust);

/** The domain separator, over exactly the fields the domain has (as alloy's Eip712Domain). */
function domainHash(d: SocialDomain): Hex {
  return hashDomain({
    domain: { ...d, chainId: BigInt(d.chainId) },
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "salt", type: "bytes32" },
      ],
    },
  });
}

describe("social typed data matches nest-social (social/src/message.rs)", () => {
  it("has every struct the dApp signs, with the same fields, types and order", () => {
    expect(structs.size).toBeGreaterThanOrEqual(12);
    for (const [name, fields] of Object.entries(socialTypes)) {
      expect(structs.get(name), name).toEqual(fields.map((f) => ({ name: f.name, type: f.type })));
    }
  });

  it("names envelope types as message.rs does, and lets app keys sign only what it allows", () => {
    const types = constList(rust, "TYPES");
    for (const t of Object.values(envelopeType)) expect(types).toContain(t);
    const appKeyTypes = constList(rust, "APP_KEY_TYPES");
    for (const s of APP_KEY_STRUCTS) expect(appKeyTypes).toContain(envelopeType[s]);
    expect(rust).toContain('pub const APP_KEY_SCOPE: &str = "social"');
    expect(rust).toContain('pub const DOMAIN_NAME: &str = "Nest Social"');
    expect(rust).toContain('pub const DOMAIN_VERSION: &str = "1"');
  });

  it("builds messages whose JSON fields are exactly the struct's (the api denies unknown fields)", () => {
    const messages: [SocialStruct, Record<string, unknown>][] = [
      ["Post", postMessage(account.address, "gm", {}, 1_700_000_000)],
      ["Like", likeMessage(account.address, `0x${"ab".repeat(32)}`, true, 1)],
      ["Link", followMessage(account.address, "0x000000000000000000000000000000000000dEaD", true, 1)],
      ["Report", reportMessage(account.address, `0x${"cd".repeat(32)}`, "spam", 1)],
      ["Edit", editMessage(account.address, `0x${"ab".repeat(32)}`, "new text", [], 1)],
      ["Delete", deleteMessage(account.address, `0x${"ab".repeat(32)}`, 1)],
      ["Profile", profileMessage(account.address, { handle: "Alice_1", displayName: "Alice", bio: "", avatar: null }, 1)],
      ["AppKeyGrant", appKeyGrantMessage(account.address, "0x000000000000000000000000000000000000bEEF", 30, 1)],
    ];
    for (const [struct, message] of messages) {
      expect(Object.keys(message).sort(), struct).toEqual(structs.get(struct)!.map((f) => f.name).sort());
      // uint64 travels as a JSON number (serde's u64), never a string.
      expect(typeof message.timestamp).toBe("number");
    }
  });

  it("posts: NFC text, no parent is the zero hash, no channel is empty", () => {
    const m = postMessage(account.address, "cafe\u0301", {}, 5);
    expect(m.text).toBe("café".normalize("NFC"));
    expect(m.parent).toBe(ZERO_HASH);
    expect(m.channel).toBe("");
    expect(m.mentions).toEqual([]);
    const reply = postMessage(account.address, "yes", { parent: `0x${"11".repeat(32)}` }, 5);
    expect(reply.parent).toBe(`0x${"11".repeat(32)}`);
  });

  it("grants an app key for 30 days with scope social", () => {
    const g = appKeyGrantMessage(account.address, "0x000000000000000000000000000000000000bEEF", 30, 1000);
    expect(g.scope).toBe("social");
    expect(g.expiry).toBe(1000 + 30 * 86_400);
  });

  it("uses the domain {name, version, chainId, salt} as alloy encodes it (no verifying contract)", () => {
    expect(domain.salt).toBe(keccak256(stringToHex("http://localhost:8080")));
    expect(originSalt("http://localhost:8080/")).toBe(domain.salt);
    const typeHash = keccak256(stringToHex("EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)"));
    const expected = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }],
        [typeHash, keccak256(stringToHex("Nest Social")), keccak256(stringToHex("1")), 31337n, domain.salt],
      ),
    );
    const d = typedData(domain, "Like", likeMessage(account.address, ZERO_HASH, true, 1)).domain;
    expect(domainHash(d)).toBe(expected);
  });

  it("a post's struct hash follows EIP-712 with the Mention type appended", () => {
    const msg = postMessage(account.address, "hello @bob", {
      mentions: [{ account: "0x000000000000000000000000000000000000dEaD" as Address, start: 6, end: 10 }],
      embeds: ["nft:0x0000000000000000000000000000000000000001:1"],
    }, 42);
    const data = typedData(domain, "Post", msg);
    expect(Object.keys(data.types).sort()).toEqual(["Mention", "Post"]);
    // The type string nest-social's sol! derives: the primary struct, then referenced ones.
    const encodeType =
      "Post(address account,uint64 timestamp,string text,Mention[] mentions,string[] embeds,string channel,bytes32 parent)" +
      "Mention(address account,uint32 start,uint32 end)";
    const mentionHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint32" }, { type: "uint32" }],
        [keccak256(stringToHex("Mention(address account,uint32 start,uint32 end)")), "0x000000000000000000000000000000000000dEaD", 6, 10],
      ),
    );
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint64" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
        [
          keccak256(stringToHex(encodeType)),
          account.address,
          42n,
          keccak256(stringToHex("hello @bob")),
          keccak256(mentionHash),
          keccak256(keccak256(stringToHex("nft:0x0000000000000000000000000000000000000001:1"))),
          keccak256(stringToHex("")),
          ZERO_HASH,
        ],
      ),
    );
    const digest = keccak256(`0x1901${domainHash(data.domain).slice(2)}${structHash.slice(2)}` as Hex);
    expect(hashTypedData(data as Parameters<typeof hashTypedData>[0])).toBe(digest);
  });

  it("signs a like that recovers to the signer, in an envelope the api reads", async () => {
    const msg = likeMessage(account.address, `0x${"ab".repeat(32)}`, true, 7);
    const data = typedData(domain, "Like", msg);
    expect(data.message.timestamp).toBe(7n);
    const signature = await account.signTypedData(data as Parameters<typeof account.signTypedData>[0]);
    expect(await recoverTypedDataAddress({ ...(data as Parameters<typeof recoverTypedDataAddress>[0]), signature })).toBe(account.address);
    const e = envelope(domain, "Like", msg, signature);
    expect(e).toEqual({ type: "like", domain, message: msg, signature });
    const json = JSON.parse(JSON.stringify(envelope(domain, "Like", msg, signature, "0x000000000000000000000000000000000000bEEF")));
    expect(Object.keys(json).sort()).toEqual(["appKey", "domain", "message", "signature", "type"]);
    expect(Object.keys(json.domain).sort()).toEqual(["chainId", "name", "salt", "version"]);
  });
});

describe("edit, delete and profile messages", () => {
  const target = `0x${"ab".repeat(32)}` as Hex;

  it("an edit's struct hash follows EIP-712 as message.rs's Edit (Mention appended)", () => {
    const mentions = [{ account: "0x000000000000000000000000000000000000dEaD" as Address, start: 0, end: 4 }];
    const msg = editMessage(account.address, target, "@bob cafe\u0301", mentions, 9);
    expect(msg.text).toBe("@bob café".normalize("NFC"));
    const data = typedData(domain, "Edit", msg);
    expect(Object.keys(data.types).sort()).toEqual(["Edit", "Mention"]);
    const mentionType = "Mention(address account,uint32 start,uint32 end)";
    const mentionHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint32" }, { type: "uint32" }],
        [keccak256(stringToHex(mentionType)), mentions[0].account, 0, 4],
      ),
    );
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint64" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
        [
          keccak256(stringToHex("Edit(address account,uint64 timestamp,bytes32 target,string text,Mention[] mentions)" + mentionType)),
          account.address,
          9n,
          target,
          keccak256(stringToHex(msg.text as string)),
          keccak256(mentionHash),
        ],
      ),
    );
    const digest = keccak256(`0x1901${domainHash(data.domain).slice(2)}${structHash.slice(2)}` as Hex);
    expect(hashTypedData(data as Parameters<typeof hashTypedData>[0])).toBe(digest);
  });

  it("a delete's struct hash follows EIP-712 and its envelope type is delete", async () => {
    const msg = deleteMessage(account.address, target, 11);
    const data = typedData(domain, "Delete", msg);
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint64" }, { type: "bytes32" }],
        [keccak256(stringToHex("Delete(address account,uint64 timestamp,bytes32 target)")), account.address, 11n, target],
      ),
    );
    expect(hashTypedData(data as Parameters<typeof hashTypedData>[0])).toBe(keccak256(`0x1901${domainHash(data.domain).slice(2)}${structHash.slice(2)}` as Hex));
    const signature = await account.signTypedData(data as Parameters<typeof account.signTypedData>[0]);
    expect(envelope(domain, "Delete", msg, signature).type).toBe("delete");
    expect(envelope(domain, "Edit", editMessage(account.address, target, "x", [], 1), signature).type).toBe("edit");
  });

  it("a profile: lowercase handle, NFC texts, uint256 token id as a decimal string, no avatar as zeros", async () => {
    const none = profileMessage(account.address, { handle: " Alice_1 ", displayName: "cafe\u0301", bio: "hi", avatar: null }, 3);
    expect(none).toEqual({ account: account.address, timestamp: 3, handle: "alice_1", displayName: "café".normalize("NFC"), bio: "hi", avatarContract: ZERO_ADDRESS, avatarTokenId: "0" });
    const nft = "0x00000000000000000000000000000000000000AA";
    const withAvatar = profileMessage(account.address, { handle: "", displayName: "", bio: "", avatar: { contract: nft, tokenId: "340282366920938463463374607431768211457" } }, 3);
    expect(withAvatar.avatarContract).toBe(nft.toLowerCase());
    expect(withAvatar.avatarTokenId).toBe("340282366920938463463374607431768211457");
    const data = typedData(domain, "Profile", withAvatar);
    expect(Object.keys(data.types)).toEqual(["Profile"]);
    expect(data.message.avatarTokenId).toBe(340282366920938463463374607431768211457n);
    const encodeType = "Profile(address account,uint64 timestamp,string handle,string displayName,string bio,address avatarContract,uint256 avatarTokenId)";
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint64" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "address" }, { type: "uint256" }],
        [keccak256(stringToHex(encodeType)), account.address, 3n, keccak256(stringToHex("")), keccak256(stringToHex("")), keccak256(stringToHex("")), nft.toLowerCase() as Address, 340282366920938463463374607431768211457n],
      ),
    );
    expect(hashTypedData(data as Parameters<typeof hashTypedData>[0])).toBe(keccak256(`0x1901${domainHash(data.domain).slice(2)}${structHash.slice(2)}` as Hex));
    const signature = await account.signTypedData(data as Parameters<typeof account.signTypedData>[0]);
    expect(await recoverTypedDataAddress({ ...(data as Parameters<typeof recoverTypedDataAddress>[0]), signature })).toBe(account.address);
    expect(envelope(domain, "Profile", withAvatar, signature).type).toBe("profile");
  });
});

describe("content limits match nest-social (social/src/content.rs)", () => {
  const content = readFileSync(new URL("../../social/src/content.rs", import.meta.url), "utf8");
  const config = readFileSync(new URL("../../social/src/config.rs", import.meta.url), "utf8");
  const limit = (name: string) => Number(new RegExp(`pub const ${name}: usize = (\\d+);`).exec(content)?.[1]);

  it("has the same limits, reserved handles and edit window", () => {
    expect(limit("MAX_TEXT")).toBe(MAX_TEXT);
    expect(limit("MAX_DISPLAY_NAME")).toBe(MAX_DISPLAY_NAME);
    expect(limit("MAX_BIO")).toBe(MAX_BIO);
    expect(constList(content, "RESERVED_HANDLES")).toEqual([...RESERVED_HANDLES]);
    expect(content).toContain("(3..=20).contains(&lower.len())");
    expect(config).toContain(`edit_window: Duration::from_secs(${EDIT_WINDOW_SECONDS / 60} * 60)`);
  });

  it("measures UTF-8 bytes of the NFC form", () => {
    expect(byteSize("cafe\u0301")).toBe(5);
    expect(byteSize("한")).toBe(3);
    expect(checkPostText("a".repeat(MAX_TEXT))).toBeNull();
    expect(checkPostText("a".repeat(MAX_TEXT + 1))).toBe("tooLong");
    expect(checkPostText("한".repeat(342))).toBe("tooLong");
    expect(checkPostText("  \n ")).toBe("empty");
  });

  it("handles: none, 3-20 of [a-z0-9_] in any case, not reserved", () => {
    expect(checkHandle("")).toBeNull();
    expect(checkHandle("Alice_01")).toBeNull();
    expect(checkHandle("ab")).toBe("handleShape");
    expect(checkHandle("a".repeat(21))).toBe("handleShape");
    expect(checkHandle("al-ice")).toBe("handleShape");
    expect(checkHandle("안녕하세요")).toBe("handleShape");
    expect(checkHandle("Admin")).toBe("handleReserved");
  });

  it("a profile is signed only with every field valid", () => {
    const ok = { handle: "alice", displayName: "Alice", bio: "gm", avatar: null };
    expect(checkProfile(ok)).toEqual({});
    expect(checkProfile({ ...ok, displayName: "é".repeat(33) })).toEqual({ displayName: "tooLong" });
    expect(checkProfile({ ...ok, displayName: "é".repeat(32) })).toEqual({});
    expect(checkProfile({ ...ok, bio: "x".repeat(MAX_BIO + 1), handle: "root" })).toEqual({ bio: "tooLong", handle: "handleReserved" });
    expect(checkProfile({ ...ok, avatar: { contract: ZERO_ADDRESS, tokenId: "1" } })).toEqual({ avatar: "avatar" });
    expect(checkProfile({ ...ok, avatar: { contract: "0x00000000000000000000000000000000000000aa", tokenId: "1" } })).toEqual({});
  });

  it("offers an edit only inside the window", () => {
    expect(canEdit(1000, 1000 + 60)).toBe(true);
    expect(canEdit(1000, 1000 + EDIT_WINDOW_SECONDS)).toBe(false);
  });
});

describe("like state", () => {
  const post = (over: Partial<SocialPost> = {}): SocialPost => ({
    id: "0x01", author: { address: "0xa" }, text: "t", mentions: [], embeds: [], depth: 0, createdAt: 1, revisions: 0,
    likes: 3, replies: 0, deleted: false, hidden: false, takenDown: false, message: "0x01", key: "k", ...over,
  });

  it("shows the api's state, and a fresh intent over a stale page", () => {
    expect(shownLike(post({ likedByViewer: true }), null)).toEqual({ liked: true, likes: 3 });
    expect(shownLike(post(), null)).toEqual({ liked: false, likes: 3 });
    const like = { active: true, at: 1000 };
    expect(shownLike(post({ likedByViewer: false }), like, 2000)).toEqual({ liked: true, likes: 4 });
    expect(shownLike(post({ likedByViewer: true, likes: 4 }), like, 2000)).toEqual({ liked: true, likes: 4 });
    expect(shownLike(post({ likedByViewer: true, likes: 1 }), { active: false, at: 1000 }, 2000)).toEqual({ liked: false, likes: 0 });
    // Too old to trust: the api wins.
    expect(shownLike(post({ likedByViewer: false }), like, 1000 + INTENT_MS + 1)).toEqual({ liked: false, likes: 3 });
  });

  it("drops the intent once the api agrees or it is too old", () => {
    const like = { active: true, at: 1000 };
    expect(intentSettled(post({ likedByViewer: false }), like, 2000)).toBe(false);
    expect(intentSettled(post({ likedByViewer: true }), like, 2000)).toBe(true);
    expect(intentSettled(post({ likedByViewer: false }), like, 1000 + INTENT_MS + 1)).toBe(true);
    expect(intentSettled(post(), null, 2000)).toBe(false);
  });

  it("patches the post in cached feed and thread pages, and leaves other data alone", () => {
    const p = post({ likedByViewer: false });
    const other = post({ id: "0x02" });
    const feed = { pages: [{ items: [{ type: "post", post: other }, { type: "post", post: p }] as FeedItem[] }], pageParams: [undefined] };
    const liked = patchPost(feed, "0x01", (x) => withLike(x, true));
    expect(liked).not.toBe(feed);
    expect((liked.pages[0].items[1] as { post: SocialPost }).post).toMatchObject({ likedByViewer: true, likes: 4 });
    expect((liked.pages[0].items[0] as { post: SocialPost }).post).toBe(other);
    // Liking again changes nothing: same object back.
    expect(patchPost(liked, "0x01", (x) => withLike(x, true))).toBe(liked);
    const thread = { pages: [{ root: other, replies: [p] }] };
    expect(patchPost(thread, "0x01", (x) => withLike(x, true)).pages[0].replies[0].likedByViewer).toBe(true);
    const profile = { address: "0xa", followers: 1 };
    expect(patchPost(profile, "0x01", (x) => withLike(x, true))).toBe(profile);
    expect(patchPost(undefined, "0x01", (x) => x)).toBeUndefined();
    expect(withLike(post({ likes: 0, likedByViewer: true }), false).likes).toBe(0);
  });
});

describe("showing posts", () => {
  it("carries mentions over an edit when their text is still there", () => {
    const before = "hi @bob and @한글 ok";
    const at = (text: string, s: string, from = 0) => new TextEncoder().encode(text.slice(0, text.indexOf(s, from))).length;
    const bob = { account: "0xb0b", start: at(before, "@bob"), end: at(before, "@bob") + 4 };
    const han = { account: "0x4a2", start: at(before, "@한글"), end: at(before, "@한글") + 7 };
    const after = "안녕 @한글, hi @bob";
    // @bob now comes after @한글: in order, @bob is found first only if it follows; the earlier
    // mention is kept, the out-of-order one dropped (mentions must stay sorted).
    expect(carryMentions(before, [bob, han], after)).toEqual([{ ...bob, start: at(after, "@bob"), end: at(after, "@bob") + 4 }]);
    const edited = "hey @bob and @한글!";
    expect(carryMentions(before, [han, bob], edited)).toEqual([
      { ...bob, start: at(edited, "@bob"), end: at(edited, "@bob") + 4 },
      { ...han, start: at(edited, "@한글"), end: at(edited, "@한글") + 7 },
    ]);
    expect(carryMentions(before, [bob], "no one")).toEqual([]);
  });

  it("cuts text at mentions given as UTF-8 byte ranges", () => {
    const text = "안녕 @bob 🦊 and @carol!";
    const bytes = new TextEncoder().encode(text);
    const at = (s: string) => new TextEncoder().encode(text.slice(0, text.indexOf(s))).length;
    const bob = { account: "0xb0b", start: at("@bob"), end: at("@bob") + 4 };
    const carol = { account: "0xca7", start: at("@carol"), end: at("@carol") + 6 };
    expect(segments(text, [carol, bob])).toEqual([
      { text: "안녕 " },
      { text: "@bob", account: "0xb0b" },
      { text: " 🦊 and " },
      { text: "@carol", account: "0xca7" },
      { text: "!" },
    ]);
    // Out of range, empty or overlapping ranges stay plain text.
    expect(segments(text, [{ account: "0x1", start: 0, end: bytes.length + 1 }])).toEqual([{ text }]);
    expect(segments(text, [bob, { ...carol, start: bob.start + 1 }])).toHaveLength(3);
    expect(segments("", [])).toEqual([{ text: "" }]);
  });

  it("links embeds inside the dApp, URLs outside, and nothing else", () => {
    expect(embedHref("nft:0x0000000000000000000000000000000000000001:7")).toEqual({ href: "/nft/0x0000000000000000000000000000000000000001/7", external: false });
    expect(embedHref("auction:3")).toEqual({ href: "/auction/3", external: false });
    expect(embedHref("proposal:12")).toEqual({ href: "/dao/12", external: false });
    expect(embedHref("https://example.com/a")).toEqual({ href: "https://example.com/a", external: true });
    expect(embedHref("javascript:alert(1)")).toBeNull();
    expect(embedHref("nft:../../x:1")).toBeNull();
    expect(embedHref("listing:4")).toBeNull();
  });
});
