// The gallery's market filters as the api's collection-tokens endpoint takes them: a market state
// (listed, on auction, with open offers), the sorts valid for it, and for listed tokens a price
// range typed in ETH. The api refuses other combinations (400), so the page offers, and sends,
// only these:
//   price_asc, price_desc, recently_listed: no status or listed; a price range: no status or listed;
//   ending_soon: no status or auction; recently_sold: no status; offers: no sort.
import { parseEther } from "viem";
import { ETH } from "./config";
import type { TokenQuery } from "../api/endpoints";
import type { CollectionToken, Page } from "../api/types";

export const STATUSES = ["all", "listed", "auction", "offers"] as const;
export type GalleryStatus = (typeof STATUSES)[number];
export type GallerySort = NonNullable<TokenQuery["sort"]>;

// The first sort of each status is its default (the order the api uses without one).
const SORTS: Record<GalleryStatus, readonly GallerySort[]> = {
  all: ["token_id", "price_asc", "price_desc", "recently_listed", "ending_soon", "recently_sold"],
  listed: ["recently_listed", "price_asc", "price_desc"],
  auction: ["ending_soon"],
  offers: [],
};

/** The sorts the api accepts with `status` (none for tokens with offers: newest offer first). */
export function sortsFor(status: GalleryStatus): readonly GallerySort[] {
  return SORTS[status];
}

/** `sort` when it is valid with `status`, else that status's default (none for offers). */
export function normalizeSort(status: GalleryStatus, sort?: GallerySort): GallerySort | undefined {
  const valid = SORTS[status];
  return sort && valid.includes(sort) ? sort : valid[0];
}

/** Whether the price range applies to `status` (the page offers it for listed tokens only). */
export function hasPriceRange(status: GalleryStatus): boolean {
  return status === "listed";
}

/** What the gallery filters by: traits (`Type:Value`), market state, order and ETH price range (wei). */
export interface GalleryFilter {
  traits: readonly string[];
  status: GalleryStatus;
  sort?: GallerySort;
  minPrice?: bigint;
  maxPrice?: bigint;
}

/** Whether any market filter (status, non-default sort, price range) is on. */
export function hasMarketFilter(f: GalleryFilter): boolean {
  const q = tokenQuery(f);
  return q.status !== undefined || q.sort !== undefined;
}

/**
 * The query of GET /v1/collections/{contract}/tokens for `f`: only valid combinations (a sort
 * the status does not take falls back to its default; the price range only for listed tokens),
 * the default order left out, and prices in ETH (`currency`) whenever they are involved.
 */
export function tokenQuery(f: GalleryFilter): TokenQuery {
  const q: TokenQuery = {};
  if (f.traits.length > 0) q.trait = [...f.traits].sort();
  if (f.status !== "all") q.status = f.status;
  const sort = normalizeSort(f.status, f.sort);
  if (sort && sort !== "token_id") q.sort = sort;
  let priced = false;
  if (hasPriceRange(f.status)) {
    if (f.minPrice !== undefined) q.minPrice = f.minPrice.toString();
    if (f.maxPrice !== undefined) q.maxPrice = f.maxPrice.toString();
    priced = f.minPrice !== undefined || f.maxPrice !== undefined;
  }
  if (priced || sort === "price_asc" || sort === "price_desc") q.currency = ETH;
  return q;
}

/** Why a typed price is refused: not a number, finer than 1 wei, too large, or min above max. */
export type PriceError = "invalid" | "precision" | "tooLarge" | "order";

export type ParsedPrice = { ok: true; wei?: bigint } | { ok: false; error: PriceError };

const MAX_UINT256 = 2n ** 256n - 1n;

/**
 * An ETH amount typed by a user ("1.5", "0,25", ".5"), in wei; empty means no bound. Refuses
 * signs, exponents, group separators and more than 18 decimals (viem would round them).
 */
export function parsePrice(text: string): ParsedPrice {
  const clean = text.trim().replace(",", ".");
  if (clean === "") return { ok: true };
  if (!/^(\d+\.?\d*|\.\d+)$/.test(clean)) return { ok: false, error: "invalid" };
  const fraction = clean.split(".")[1] ?? "";
  if (fraction.length > 18) return { ok: false, error: "precision" };
  const wei = parseEther(clean);
  if (wei > MAX_UINT256) return { ok: false, error: "tooLarge" };
  return { ok: true, wei };
}

/** A typed min/max pair: the bounds when both are valid, else what is wrong with each. */
export interface PriceRange {
  valid: boolean;
  min?: bigint;
  max?: bigint;
  minError?: PriceError;
  maxError?: PriceError;
}

export function parsePriceRange(minText: string, maxText: string): PriceRange {
  const min = parsePrice(minText);
  const max = parsePrice(maxText);
  const out: PriceRange = { valid: false };
  if (min.ok) out.min = min.wei;
  else out.minError = min.error;
  if (max.ok) out.max = max.wei;
  else out.maxError = max.error;
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) {
    out.maxError = "order";
    out.min = out.max = undefined;
  }
  out.valid = !out.minError && !out.maxError;
  if (!out.valid) out.min = out.max = undefined;
  return out;
}

/**
 * The tokens of every loaded page, in order, each once: pages of a market filter are deduplicated
 * by the api within a page only (a token with two offers may come back on a later page).
 */
export function pageTokens(pages: readonly Page<CollectionToken>[] | undefined): CollectionToken[] {
  const seen = new Set<string>();
  const out: CollectionToken[] = [];
  for (const page of pages ?? []) {
    for (const token of page.items) {
      const key = `${token.contract.toLowerCase()}/${token.tokenId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(token);
    }
  }
  return out;
}
