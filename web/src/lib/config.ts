// The deployment the api serves this page for: chain id, contract addresses and an RPC URL a
// wallet may add, read from the page's <meta name="nest-config"> (written by the api).
import type { Address } from "viem";

export interface NestConfig {
  chainId: number;
  rpcUrl?: string;
  contracts: {
    forwarder: Address;
    token: Address;
    timelock: Address;
    governor: Address;
    nft: Address;
    marketplace: Address;
  };
}

const ZERO = "0x0000000000000000000000000000000000000000" as Address;

/** Parses the meta tag's content; a page served without the api (vite dev) falls back to anvil. */
export function parseConfig(content: string | null | undefined): NestConfig {
  const fallback: NestConfig = {
    chainId: 31337,
    rpcUrl: "http://127.0.0.1:8545",
    contracts: { forwarder: ZERO, token: ZERO, timelock: ZERO, governor: ZERO, nft: ZERO, marketplace: ZERO },
  };
  if (!content || content.startsWith("__")) return fallback;
  try {
    const parsed = JSON.parse(content) as NestConfig;
    if (typeof parsed.chainId !== "number" || !parsed.contracts) return fallback;
    return parsed;
  } catch {
    return fallback;
  }
}

export const config: NestConfig = parseConfig(
  typeof document === "undefined"
    ? null
    : document.querySelector('meta[name="nest-config"]')?.getAttribute("content"),
);

export const ETH = ZERO;
