// Reading a collection's stats (GET /v1/collections/{contract}/stats): payment token symbols and
// decimals, the ETH floor, and volume and sales over a window across payment tokens.
import { formatUnits } from "viem";
import type { CollectionStats, PaymentTokenStats } from "../api/types";
import { ETH } from "./config";
import { tokenSymbol } from "./format";

export type StatsWindow = "last24h" | "last7d" | "last30d" | "allTime";

function entry(stats: CollectionStats | undefined, paymentToken: string): PaymentTokenStats | undefined {
  const wanted = paymentToken.toLowerCase();
  return stats?.byPaymentToken.find((p) => p.paymentToken.toLowerCase() === wanted);
}

/** The symbol and decimals of a payment token: from the stats when the api knew them, else ETH, NEST or a short address (18 decimals). */
export function tokenInfo(stats: CollectionStats | undefined, paymentToken: string): { symbol: string; decimals: number } {
  const found = entry(stats, paymentToken);
  return { symbol: found?.symbol || tokenSymbol(paymentToken), decimals: found?.decimals ?? 18 };
}

/** The cheapest active ETH listing in whole units ("1.5"), or undefined when nothing is listed in ETH. */
export function ethFloor(stats: CollectionStats): string | undefined {
  const eth = entry(stats, ETH);
  if (eth?.floorPriceDecimal) return eth.floorPriceDecimal;
  const raw = eth?.floorPrice ?? stats.floorPrice;
  return raw === undefined ? undefined : formatUnits(BigInt(raw), 18);
}

/** One payment token's volume over a window, in whole units. */
export interface Volume {
  paymentToken: string;
  symbol: string;
  decimal: string;
}

/** Volume over `window` per payment token: ETH always (first), other tokens when they had any. */
export function windowVolumes(stats: CollectionStats, window: StatsWindow): Volume[] {
  const out: Volume[] = [];
  const tokens = stats.byPaymentToken.some((p) => p.paymentToken.toLowerCase() === ETH)
    ? stats.byPaymentToken
    : [{ paymentToken: ETH } as PaymentTokenStats, ...stats.byPaymentToken];
  for (const p of tokens) {
    const isEth = p.paymentToken.toLowerCase() === ETH;
    const totals = p[window];
    const raw = totals?.volume ?? "0";
    if (!isEth && BigInt(raw) === 0n) continue;
    const { symbol, decimals } = tokenInfo(stats, p.paymentToken);
    const volume: Volume = { paymentToken: p.paymentToken, symbol, decimal: totals?.volumeDecimal ?? formatUnits(BigInt(raw), decimals) };
    if (isEth) out.unshift(volume);
    else out.push(volume);
  }
  return out;
}

/** Sales over `window` in every payment token. */
export function windowSales(stats: CollectionStats, window: StatsWindow): number {
  return stats.byPaymentToken.reduce((sum, p) => sum + (p[window]?.sales ?? 0), 0);
}
