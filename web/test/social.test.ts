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
  appKeyGrantMessage,
  envelope,
  envelopeType,
  followMessage,
  likeMessage,
  originSalt,
  postMessage,
  reportMessage,
  socialTypes,
  typedData,
  type SocialDomain,
  type SocialStruct,
} from "../src/social/messages";
import { embedHref, segments } from "../src/social/text";

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

describe("showing posts", () => {
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
