// The EIP-712 social messages of nest-social (social/src/message.rs): their types, the domain
// the api serves (GET /v1/social/domain), the JSON envelope POST /v1/social/messages takes,
// and the form a signer takes (uints as bigints). Pure functions: the unit tests compare the
// types with the Rust structs field by field.
import { keccak256, stringToHex, type Address, type Hex } from "viem";

/** The domain as the api serves and the envelope repeats it. */
export interface SocialDomain {
  name: string;
  version: string;
  chainId: number;
  salt: Hex;
}

const mention = [
  { name: "account", type: "address" },
  { name: "start", type: "uint32" },
  { name: "end", type: "uint32" },
] as const;

/** Every struct a browser signs, named and ordered exactly as in message.rs. */
export const socialTypes = {
  Mention: mention,
  Post: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "text", type: "string" },
    { name: "mentions", type: "Mention[]" },
    { name: "embeds", type: "string[]" },
    { name: "channel", type: "string" },
    { name: "parent", type: "bytes32" },
  ],
  Edit: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "target", type: "bytes32" },
    { name: "text", type: "string" },
    { name: "mentions", type: "Mention[]" },
  ],
  Delete: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "target", type: "bytes32" },
  ],
  Like: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "target", type: "bytes32" },
    { name: "active", type: "bool" },
  ],
  Link: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "kind", type: "string" },
    { name: "target", type: "address" },
    { name: "active", type: "bool" },
  ],
  Profile: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "handle", type: "string" },
    { name: "displayName", type: "string" },
    { name: "bio", type: "string" },
    { name: "avatarContract", type: "address" },
    { name: "avatarTokenId", type: "uint256" },
  ],
  Report: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "target", type: "string" },
    { name: "reason", type: "string" },
  ],
  AppKeyGrant: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "appKey", type: "address" },
    { name: "scope", type: "string" },
    { name: "expiry", type: "uint64" },
  ],
  AppKeyRevoke: [
    { name: "account", type: "address" },
    { name: "timestamp", type: "uint64" },
    { name: "appKey", type: "address" },
  ],
} as const;

export type SocialStruct = Exclude<keyof typeof socialTypes, "Mention">;

/** The envelope `type` of each struct. */
export const envelopeType: Record<SocialStruct, string> = {
  Post: "post",
  Edit: "edit",
  Delete: "delete",
  Like: "like",
  Link: "link",
  Profile: "profile",
  Report: "report",
  AppKeyGrant: "app_key",
  AppKeyRevoke: "app_key_revoke",
};

/** Types an app key may sign (message.rs APP_KEY_TYPES, of those the dApp sends). */
export const APP_KEY_STRUCTS: readonly SocialStruct[] = ["Post", "Delete", "Like", "Link", "Report"];

export const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;
export const ZERO_ADDRESS = `0x${"0".repeat(40)}` as Address;

export interface Mention {
  account: Address;
  start: number;
  end: number;
}

/** Message fields as JSON (what is posted): uint64/uint32 as numbers, bytes32/addresses as hex. */
export type MessageJson = Record<string, unknown> & { account: Address; timestamp: number };

export function postMessage(
  account: Address,
  text: string,
  opts: { parent?: Hex; channel?: string; embeds?: string[]; mentions?: Mention[] } = {},
  now = nowSeconds(),
): MessageJson {
  return {
    account,
    timestamp: now,
    // Sent NFC-normalised: the server refuses other forms and never rewrites signed text.
    text: text.normalize("NFC"),
    mentions: opts.mentions ?? [],
    embeds: opts.embeds ?? [],
    channel: opts.channel ?? "",
    parent: opts.parent ?? ZERO_HASH,
  };
}

export function likeMessage(account: Address, target: Hex, active: boolean, now = nowSeconds()): MessageJson {
  return { account, timestamp: now, target, active };
}

export function followMessage(account: Address, target: Address, active: boolean, now = nowSeconds()): MessageJson {
  return { account, timestamp: now, kind: "follow", target, active };
}

/** A new text for the author's own post `target` (NFC, like a post). */
export function editMessage(account: Address, target: Hex, text: string, mentions: Mention[] = [], now = nowSeconds()): MessageJson {
  return { account, timestamp: now, target, text: text.normalize("NFC"), mentions };
}

export interface ProfileFields {
  handle: string;
  displayName: string;
  bio: string;
  /** The avatar NFT, or none. */
  avatar: { contract: string; tokenId: string } | null;
}

/**
 * The whole profile (a profile message replaces every field): handle lowercase (empty: none),
 * texts NFC, no avatar as the zero contract and token 0 (uint256 travels as a decimal string).
 */
export function profileMessage(account: Address, p: ProfileFields, now = nowSeconds()): MessageJson {
  return {
    account,
    timestamp: now,
    handle: p.handle.trim().toLowerCase(),
    displayName: p.displayName.normalize("NFC"),
    bio: p.bio.normalize("NFC"),
    avatarContract: (p.avatar ? p.avatar.contract.toLowerCase() : ZERO_ADDRESS) as Address,
    avatarTokenId: p.avatar ? BigInt(p.avatar.tokenId).toString() : "0",
  };
}

export function deleteMessage(account: Address, target: Hex, now = nowSeconds()): MessageJson {
  return { account, timestamp: now, target };
}

export function reportMessage(account: Address, target: string, reason: string, now = nowSeconds()): MessageJson {
  return { account, timestamp: now, target, reason: reason.normalize("NFC") };
}

/** Delegates social writes to `appKey` for `days` days. */
export function appKeyGrantMessage(account: Address, appKey: Address, days = 30, now = nowSeconds()): MessageJson {
  return { account, timestamp: now, appKey, scope: "social", expiry: now + days * 86_400 };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The salt the api derives from its origin (for tests and checks: the api serves the domain). */
export function originSalt(origin: string): Hex {
  return keccak256(stringToHex(origin.replace(/\/+$/, "")));
}

type Field = { readonly name: string; readonly type: string };

/** The message in the form viem's signers take: every uint as a bigint. */
export function signable(struct: string, message: Record<string, unknown>): Record<string, unknown> {
  const fields = (socialTypes as Record<string, readonly Field[]>)[struct];
  const convert = (type: string, value: unknown): unknown => {
    if (type.endsWith("[]")) return (value as unknown[]).map((v) => convert(type.slice(0, -2), v));
    if (/^uint\d*$/.test(type)) return BigInt(value as number | string);
    if (type in socialTypes) return signable(type, value as Record<string, unknown>);
    return value;
  };
  return Object.fromEntries(fields.map((f) => [f.name, convert(f.type, message[f.name])]));
}

/** Only the types `struct` uses (itself and Mention when it has mentions), as EIP-712 wants. */
export function typesFor(struct: SocialStruct) {
  const fields = socialTypes[struct];
  const uses = fields.some((f) => f.type.startsWith("Mention"));
  return (uses ? { [struct]: fields, Mention: socialTypes.Mention } : { [struct]: fields }) as Record<string, readonly Field[]>;
}

/** Everything a signer needs: domain, types, primary type and the message with bigints. */
export function typedData(domain: SocialDomain, struct: SocialStruct, message: MessageJson) {
  return {
    domain: { name: domain.name, version: domain.version, chainId: domain.chainId, salt: domain.salt },
    types: typesFor(struct),
    primaryType: struct,
    message: signable(struct, message),
  };
}

export interface Envelope {
  type: string;
  domain: SocialDomain;
  message: MessageJson;
  signature: Hex;
  appKey?: Address;
}

export function envelope(domain: SocialDomain, struct: SocialStruct, message: MessageJson, signature: Hex, appKey?: Address): Envelope {
  const e: Envelope = { type: envelopeType[struct], domain, message, signature };
  if (appKey) e.appKey = appKey;
  return e;
}
