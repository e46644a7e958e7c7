import { describe, expect, it } from "vitest";
import type { CollectionStats, WindowTotals } from "../src/api/types";
import { ethFloor, tokenInfo, windowSales, windowVolumes } from "../src/lib/stats";
import { formatDecimal, formatPrice } from "../src/lib/format";

const ETH = "0x0000000000000000000000000000000000000000";
const USD = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const totals = (volume: string, sales: number, volumeDecimal?: string): WindowTotals => ({ volume, sales, volumeDecimal });

const stats: CollectionStats = {
  contract: "0xC0",
  floorPrice: "1000000000000000000",
  volume24h: "1500000000000000000",
  volume7d: "2500000000000000000",
  owners: 3,
  supply: 6,
  listed: 1,
  onAuction: 1,
  sales: 3,
  updatedBlock: 40,
  byPaymentToken: [
    {
      paymentToken: ETH,
      symbol: "ETH",
      decimals: 18,
      floorPrice: "1000000000000000000",
      floorPriceDecimal: "1",
      last24h: totals("1500000000000000000", 1, "1.5"),
      last7d: totals("2500000000000000000", 2, "2.5"),
      last30d: totals("2500000000000000000", 2, "2.5"),
      allTime: totals("2500000000000000000", 2, "2.5"),
    },
    {
      paymentToken: USD,
      symbol: "USDC",
      decimals: 6,
      last24h: totals("0", 0, "0"),
      last7d: totals("12500000", 1),
      last30d: totals("12500000", 1, "12.5"),
      allTime: totals("12500000", 1, "12.5"),
    },
  ],
};

describe("collection stats", () => {
  it("name payment tokens from the stats, else as the app knows them", () => {
    expect(tokenInfo(stats, USD.toLowerCase())).toEqual({ symbol: "USDC", decimals: 6 });
    expect(tokenInfo(stats, ETH)).toEqual({ symbol: "ETH", decimals: 18 });
    expect(tokenInfo(undefined, ETH)).toEqual({ symbol: "ETH", decimals: 18 });
    expect(tokenInfo(stats, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).toEqual({ symbol: "0x7099…79C8", decimals: 18 });
  });

  it("read the ETH floor in whole units, or none", () => {
    expect(ethFloor(stats)).toBe("1");
    const noDecimal = { ...stats, byPaymentToken: [{ ...stats.byPaymentToken[0], floorPriceDecimal: undefined, floorPrice: "250000000000000000" }] };
    expect(ethFloor(noDecimal)).toBe("0.25");
    const unlisted = { ...stats, floorPrice: undefined, byPaymentToken: [{ ...stats.byPaymentToken[0], floorPrice: undefined, floorPriceDecimal: undefined }] };
    expect(ethFloor(unlisted)).toBeUndefined();
  });

  it("sum a window's volume per token (ETH always, others when traded) and its sales across tokens", () => {
    expect(windowVolumes(stats, "last24h")).toEqual([{ paymentToken: ETH, symbol: "ETH", decimal: "1.5" }]);
    expect(windowVolumes(stats, "last7d")).toEqual([
      { paymentToken: ETH, symbol: "ETH", decimal: "2.5" },
      { paymentToken: USD, symbol: "USDC", decimal: "12.5" }, // from the raw volume and the decimals
    ]);
    expect(windowSales(stats, "last24h")).toBe(1);
    expect(windowSales(stats, "allTime")).toBe(3);
    const empty = { ...stats, byPaymentToken: [] };
    expect(windowVolumes(empty, "allTime")).toEqual([{ paymentToken: ETH, symbol: "ETH", decimal: "0" }]);
    expect(windowSales(empty, "allTime")).toBe(0);
  });
});

describe("decimal amounts", () => {
  it("format the api's whole-unit decimals in the reader's language", () => {
    expect(formatDecimal("1234567.5", "en")).toBe("1,234,567.5");
    expect(formatDecimal("1234567.5", "de")).toBe("1.234.567,5");
    expect(formatDecimal("0.000012345", "en")).toBe("0");
    expect(formatDecimal("0.000012345", "en", 6)).toBe("0.000012");
    expect(formatDecimal("2", "ja")).toBe("2");
    expect(formatPrice("2500000000000000000", "2.5", "ETH", "en")).toBe("2.5 ETH");
    expect(formatPrice("250000000000000000000", undefined, "NEST", "ko")).toBe("250 NEST");
    expect(formatPrice("12500000", undefined, "USDC", "en", 6)).toBe("12.5 USDC");
  });
});
