// Signing and posting social messages: with the connected wallet (one prompt each), or, for
// likes and follows once the account delegated one, with this browser's app key (no prompt).
// The app key is a local private key kept in localStorage per chain and account; the wallet
// signs one `app_key` grant for it (scope `social`, 30 days), and the api checks every message
// it signs against that grant (social/src/verify.rs).
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import { endpoints } from "../api/endpoints";
import { ApiError } from "../api/client";
import type { Accepted } from "../api/types";
import { walletClient } from "../chain/tx";
import {
  APP_KEY_STRUCTS,
  appKeyGrantMessage,
  envelope,
  nowSeconds,
  typedData,
  type MessageJson,
  type SocialDomain,
  type SocialStruct,
} from "./messages";

let domainPromise: Promise<SocialDomain> | null = null;

/** The api's domain, fetched once per page load. */
export function socialDomain(): Promise<SocialDomain> {
  domainPromise ??= endpoints.socialDomain().catch((e) => {
    domainPromise = null;
    throw e;
  });
  return domainPromise;
}

interface StoredKey {
  privateKey: Hex;
  address: Address;
  expiry: number;
}

const storageKey = (chainId: number, account: string) => `nest.social.appKey:${chainId}:${account.toLowerCase()}`;

/** The delegated app key of `account`, if this browser holds one that is still valid. */
export function storedAppKey(chainId: number, account: string): StoredKey | null {
  try {
    const raw = localStorage.getItem(storageKey(chainId, account));
    if (!raw) return null;
    const key = JSON.parse(raw) as StoredKey;
    return key.expiry > nowSeconds() + 60 ? key : null;
  } catch {
    return null;
  }
}

export function forgetAppKey(chainId: number, account: string): void {
  try {
    localStorage.removeItem(storageKey(chainId, account));
  } catch {
    /* nothing stored */
  }
  window.dispatchEvent(new Event("nest-app-key"));
}

async function signWithWallet(domain: SocialDomain, struct: SocialStruct, message: MessageJson): Promise<Hex> {
  const client = await walletClient();
  const data = typedData(domain, struct, message);
  // The typed data is built from socialTypes at run time; viem checks it against the types.
  return client.signTypedData({ account: client.account, ...(data as Parameters<typeof client.signTypedData>[0]) });
}

async function signWithKey(privateKey: Hex, domain: SocialDomain, struct: SocialStruct, message: MessageJson): Promise<Hex> {
  const data = typedData(domain, struct, message);
  return privateKeyToAccount(privateKey).signTypedData(data as Parameters<ReturnType<typeof privateKeyToAccount>["signTypedData"]>[0]);
}

const APP_KEY_REFUSED = ["social.app_key_unknown", "social.app_key_expired", "social.app_key_revoked", "social.app_key_scope"];

/**
 * Signs `message` (a `struct`) and posts it. With `quick`, an app key this browser holds for the
 * account signs instead of the wallet; if the api no longer accepts it, it is forgotten and the
 * wallet signs.
 */
export async function sendMessage(struct: SocialStruct, message: MessageJson, quick = false): Promise<Accepted> {
  const domain = await socialDomain();
  const key = quick && APP_KEY_STRUCTS.includes(struct) ? storedAppKey(domain.chainId, message.account) : null;
  if (key) {
    const signature = await signWithKey(key.privateKey, domain, struct, message);
    try {
      return await endpoints.socialSend(envelope(domain, struct, message, signature, key.address));
    } catch (e) {
      if (!(e instanceof ApiError && APP_KEY_REFUSED.includes(e.code))) throw e;
      forgetAppKey(domain.chainId, message.account);
    }
  }
  const signature = await signWithWallet(domain, struct, message);
  return endpoints.socialSend(envelope(domain, struct, message, signature));
}

/** Creates an app key in this browser and delegates it with one wallet signature. */
export async function delegateAppKey(account: Address, days = 30): Promise<void> {
  const domain = await socialDomain();
  const privateKey = generatePrivateKey();
  const appKey = privateKeyToAccount(privateKey).address;
  const grant = appKeyGrantMessage(account, appKey, days);
  await sendMessage("AppKeyGrant", grant);
  const stored: StoredKey = { privateKey, address: appKey, expiry: grant.expiry as number };
  localStorage.setItem(storageKey(domain.chainId, account), JSON.stringify(stored));
  window.dispatchEvent(new Event("nest-app-key"));
}

/** Revokes this browser's app key (one wallet signature) and forgets it. */
export async function revokeAppKey(account: Address): Promise<void> {
  const domain = await socialDomain();
  const key = storedAppKey(domain.chainId, account);
  if (key) await sendMessage("AppKeyRevoke", { account, timestamp: nowSeconds(), appKey: key.address });
  forgetAppKey(domain.chainId, account);
}
