import { describe, expect, it } from "vitest";
import { query } from "../src/api/client";
import { keys } from "../src/api/endpoints";
import type { CollectionToken } from "../src/api/types";
import {
  STATUSES,
  hasMarketFilter,
  hasPriceRange,
  normalizeSort,
  pageTokens,
  parsePrice,
  parsePriceRange,
  sortsFor,
  tokenQuery,
  type GalleryFilter,
  type GallerySort,
} from "../src/lib/gallery-filters";

const ETH = "0x0000000000000000000000000000000000000000";
const ALL_SORTS: GallerySort[] = ["token_id", "price_asc", "price_desc", "recently_listed", "ending_soon", "recently_sold"];

// The api's rule (routes/collection_tokens.rs, TokenFilters::driver), written out independently:
// would it answer this query, or 400?
function apiAccepts(q: Record<string, unknown>): boolean {
  const status = q.status as string | undefined;
  const sort = (q.sort as string | undefined) ?? "token_id";
  const priced = q.minPrice !== undefined || q.maxPrice !== undefined;
  const listable = status === undefined || status === "listed";
  if (["price_asc", "price_desc", "recently_listed"].includes(sort)) return listable;
  if (priced) return listable && sort === "token_id";
  if (sort === "ending_soon") return status === undefined || status === "auction";
  if (sort === "recently_sold") return status === undefined;
  if (status === "offers") return q.sort === undefined;
  return true;
}

describe("gallery market filters", () => {
  it("offer only the sorts the api takes with each status, the first being the default", () => {
    expect(sortsFor("all")).toEqual(ALL_SORTS);
    expect(sortsFor("listed")).toEqual(["recently_listed", "price_asc", "price_desc"]);
    expect(sortsFor("auction")).toEqual(["ending_soon"]);
    expect(sortsFor("offers")).toEqual([]);
    expect(normalizeSort("listed", "price_desc")).toBe("price_desc");
    expect(normalizeSort("listed", "ending_soon")).toBe("recently_listed");
    expect(normalizeSort("auction", "price_asc")).toBe("ending_soon");
    expect(normalizeSort("offers", "price_asc")).toBeUndefined();
    expect(normalizeSort("all", undefined)).toBe("token_id");
    expect(hasPriceRange("listed")).toBe(true);
    expect(hasPriceRange("all")).toBe(false);
  });

  it("build only queries the api accepts, whatever the state of the controls", () => {
    for (const status of STATUSES) {
      for (const sort of [undefined, ...ALL_SORTS]) {
        for (const [minPrice, maxPrice] of [[undefined, undefined], [1n, undefined], [undefined, 5n], [1n, 5n]]) {
          const q = tokenQuery({ traits: [], status, sort, minPrice, maxPrice });
          expect(apiAccepts(q as Record<string, unknown>), JSON.stringify(q)).toBe(true);
          // Every sort offered for the status is sent as chosen (the default order left out).
          if (sort && sortsFor(status).includes(sort)) expect(q.sort ?? "token_id").toBe(sort);
        }
      }
    }
  });

  it("turn the filter state into query parameters", () => {
    const plain: GalleryFilter = { traits: ["Shape:Diamond", "Background:Sky"], status: "all" };
    expect(tokenQuery(plain)).toEqual({ trait: ["Background:Sky", "Shape:Diamond"] });
    expect(hasMarketFilter(plain)).toBe(false);
    expect(tokenQuery({ traits: [], status: "all", sort: "token_id" })).toEqual({});

    const listed: GalleryFilter = { traits: ["Shape:Diamond"], status: "listed", sort: "price_asc", minPrice: 10n ** 18n, maxPrice: 25n * 10n ** 17n };
    const q = tokenQuery(listed);
    expect(q).toEqual({
      trait: ["Shape:Diamond"],
      status: "listed",
      sort: "price_asc",
      minPrice: "1000000000000000000",
      maxPrice: "2500000000000000000",
      currency: ETH,
    });
    expect(hasMarketFilter(listed)).toBe(true);
    expect(query({ ...q, limit: 24 })).toBe(
      `?trait=Shape%3ADiamond&status=listed&sort=price_asc&minPrice=1000000000000000000&maxPrice=2500000000000000000&currency=${ETH}&limit=24`,
    );
    // Listed, newest first, no range: any currency.
    expect(tokenQuery({ traits: [], status: "listed" })).toEqual({ status: "listed", sort: "recently_listed" });
    expect(tokenQuery({ traits: [], status: "listed", minPrice: 0n })).toEqual({
      status: "listed",
      sort: "recently_listed",
      minPrice: "0",
      currency: ETH,
    });
    // A range left in the inputs does not travel with another status.
    expect(tokenQuery({ traits: [], status: "auction", sort: "price_asc", minPrice: 1n })).toEqual({ status: "auction", sort: "ending_soon" });
    expect(tokenQuery({ traits: [], status: "offers", sort: "recently_sold" })).toEqual({ status: "offers" });
    // Price sorts without a status are ETH listings too.
    expect(tokenQuery({ traits: [], status: "all", sort: "price_desc" })).toEqual({ sort: "price_desc", currency: ETH });
    expect(tokenQuery({ traits: [], status: "all", sort: "recently_sold" })).toEqual({ sort: "recently_sold" });
    expect(hasMarketFilter({ traits: [], status: "all", sort: "recently_sold" })).toBe(true);
  });

  it("key the query by its filters, trait order aside", () => {
    const a = keys.collectionTokens("0xABC", tokenQuery({ traits: ["B:1", "A:2"], status: "listed" }));
    const b = keys.collectionTokens("0xabc", tokenQuery({ traits: ["A:2", "B:1"], status: "listed" }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = keys.collectionTokens("0xabc", tokenQuery({ traits: ["A:2", "B:1"], status: "auction" }));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
    expect(a.slice(0, 2)).toEqual(["nfts", "collection"]); // what live notices invalidate
  });
});

describe("typed ETH prices", () => {
  it("parse with viem's parseEther, exactly", () => {
    expect(parsePrice("1.5")).toEqual({ ok: true, wei: 1_500_000_000_000_000_000n });
    expect(parsePrice(" 0,25 ")).toEqual({ ok: true, wei: 250_000_000_000_000_000n });
    expect(parsePrice(".5")).toEqual({ ok: true, wei: 500_000_000_000_000_000n });
    expect(parsePrice("2.")).toEqual({ ok: true, wei: 2_000_000_000_000_000_000n });
    expect(parsePrice("0")).toEqual({ ok: true, wei: 0n });
    expect(parsePrice("0.000000000000000001")).toEqual({ ok: true, wei: 1n });
    expect(parsePrice("")).toEqual({ ok: true });
    expect(parsePrice("   ")).toEqual({ ok: true });
  });

  it("refuse what is not a plain non-negative amount", () => {
    for (const bad of ["-1", "+1", "1e3", "abc", "1.2.3", "1,000.5", ".", "0x10", "1 000", "∞", "NaN"]) {
      expect(parsePrice(bad), bad).toEqual({ ok: false, error: "invalid" });
    }
    expect(parsePrice("0.0000000000000000001")).toEqual({ ok: false, error: "precision" });
    expect(parsePrice("9".repeat(60))).toEqual({ ok: false, error: "tooLarge" });
    expect(parsePrice("9".repeat(58)).ok).toBe(true);
  });

  it("pair into a range, refusing min above max", () => {
    expect(parsePriceRange("1", "2.5")).toEqual({ valid: true, min: 10n ** 18n, max: 25n * 10n ** 17n });
    expect(parsePriceRange("", "")).toEqual({ valid: true, min: undefined, max: undefined });
    expect(parsePriceRange("", "3")).toEqual({ valid: true, min: undefined, max: 3n * 10n ** 18n });
    expect(parsePriceRange("1", "1")).toEqual({ valid: true, min: 10n ** 18n, max: 10n ** 18n });
    expect(parsePriceRange("3", "1")).toEqual({ valid: false, maxError: "order" });
    expect(parsePriceRange("x", "1")).toEqual({ valid: false, minError: "invalid" });
    expect(parsePriceRange("1", "-2")).toEqual({ valid: false, maxError: "invalid" });
  });
});

describe("gallery pages", () => {
  const token = (tokenId: string, price?: string): CollectionToken => ({
    contract: "0xC0",
    tokenId,
    owner: "0x01",
    tokenUri: "",
    royaltyBps: 0,
    mintedBlock: 1,
    market: price === undefined ? undefined : { kind: "offer", id: tokenId, price, paymentToken: ETH },
  });

  it("list every token once, in page order, across short and empty pages", () => {
    const pages = [
      { items: [token("3", "5"), token("1", "4")], nextCursor: "a" },
      { items: [], nextCursor: "b" },
      { items: [token("3", "2"), token("7", "1")] },
    ];
    const tokens = pageTokens(pages);
    expect(tokens.map((t) => t.tokenId)).toEqual(["3", "1", "7"]);
    expect(tokens[0].market?.price).toBe("5");
    expect(pageTokens(undefined)).toEqual([]);
  });
});
