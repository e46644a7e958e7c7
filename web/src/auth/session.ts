// The SIWE session: sign in (nonce → EIP-4361 message → wallet signature → token), remembered
// across reloads in localStorage, refreshed before it expires, ended on sign-out in every tab of
// this browser (storage events) and on the server.
import { createSiweMessage } from "viem/siwe";
import { getAddress, type Address } from "viem";
import { endpoints } from "../api/endpoints";
import type { Session } from "../api/types";

const KEY = "nest.session";
type Listener = () => void;
const listeners = new Set<Listener>();
let current: Session | null = load();
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

function load(): Session | null {
  try {
    const raw = typeof localStorage === "undefined" ? null : localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s.expiresAt * 1000 > Date.now() ? s : null;
  } catch {
    return null;
  }
}

function set(next: Session | null): void {
  current = next;
  try {
    if (next) localStorage.setItem(KEY, JSON.stringify(next));
    else localStorage.removeItem(KEY);
  } catch {
    /* not remembered */
  }
  schedule();
  listeners.forEach((l) => l());
}

function schedule(): void {
  clearTimeout(refreshTimer);
  if (!current) return;
  // Refresh a minute before expiry (at once if less is left).
  const wait = Math.max(0, current.expiresAt * 1000 - Date.now() - 60_000);
  refreshTimer = setTimeout(() => void refresh(), wait);
}

export function session(): Session | null {
  return current;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function refresh(): Promise<void> {
  if (!current) return;
  try {
    set(await endpoints.refresh());
  } catch {
    set(null);
  }
}

/** The EIP-4361 message for `address` with the api's `nonce`, for this page's origin. */
export function siweMessage(address: Address, chainId: number, nonce: string, now = new Date()): string {
  return createSiweMessage({
    domain: location.host,
    address: getAddress(address),
    statement: "Sign in to Nest.",
    uri: location.origin,
    version: "1",
    chainId,
    nonce,
    issuedAt: now,
    expirationTime: new Date(now.getTime() + 10 * 60_000),
  });
}

export async function signIn(
  address: Address,
  chainId: number,
  sign: (message: string) => Promise<string>,
): Promise<Session> {
  const { nonce } = await endpoints.nonce();
  const message = siweMessage(address, chainId, nonce);
  const signature = await sign(message);
  const s = await endpoints.verify(message, signature);
  set(s);
  return s;
}

export async function signOut(): Promise<void> {
  const had = current;
  set(null);
  if (had) {
    try {
      // The token is gone locally; tell the server with it.
      await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${had.token}` } });
    } catch {
      /* offline: the token expires on its own */
    }
  }
}

/** Ends every session of this wallet on every device (the api revokes them all). */
export async function signOutEverywhere(): Promise<void> {
  const had = current;
  if (!had) return;
  await fetch("/v1/auth/logout-all", { method: "POST", headers: { Authorization: `Bearer ${had.token}` } });
  set(null);
}

if (typeof window !== "undefined") {
  schedule();
  // Another tab signed in or out.
  window.addEventListener("storage", (e) => {
    if (e.key !== KEY) return;
    current = load();
    schedule();
    listeners.forEach((l) => l());
  });
}
