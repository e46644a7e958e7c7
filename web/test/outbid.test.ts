import { describe, expect, it } from "vitest";
import { dismissOutbid, leadingIds, observe, outbidNotices, showOutbid, type Seen } from "../src/lib/outbid";

const ME = "0x00000000000000000000000000000000000000aA";
const OTHER = "0x00000000000000000000000000000000000000bb";
const THIRD = "0x00000000000000000000000000000000000000cc";
const ETH = "0x0000000000000000000000000000000000000000";
const at = (id: string, bidder: string | undefined, bid: string) => ({ id, tokenId: `1${id}`, paymentToken: ETH, highestBidder: bidder, highestBid: bid });

describe("outbid decision", () => {
  it("another bidder on an auction I led: one notice with their bid", () => {
    const known = new Map<string, Seen>();
    expect(observe(known, ME.toLowerCase(), at("5", ME, "10"))).toBeNull();
    expect(leadingIds(known, ME)).toEqual(["5"]);
    const n = observe(known, ME.toLowerCase(), at("5", OTHER, "20"));
    expect(n).toEqual({ key: "5:20", auction: "5", tokenId: "15", paymentToken: ETH, amount: "20", bidder: OTHER });
    expect(leadingIds(known, ME)).toEqual([]);
  });

  it("my own bid, even over my own lead, is no notice", () => {
    const known = new Map<string, Seen>();
    expect(observe(known, ME, at("5", OTHER, "10"))).toBeNull();
    expect(observe(known, ME, at("5", ME, "20"))).toBeNull();
    expect(observe(known, ME, at("5", ME, "30"))).toBeNull();
    expect(leadingIds(known, ME)).toEqual(["5"]);
  });

  it("the same bid seen twice (and an older state after it) gives one notice", () => {
    const known = new Map<string, Seen>();
    observe(known, ME, at("5", ME, "10"));
    expect(observe(known, ME, at("5", OTHER, "20"))).not.toBeNull();
    expect(observe(known, ME, at("5", OTHER, "20"))).toBeNull();
    // A stale read (the portfolio cached before the bid) does not bring the lead back.
    expect(observe(known, ME, at("5", ME, "10"))).toBeNull();
    expect(observe(known, ME, at("5", THIRD, "30"))).toBeNull();
  });

  it("an auction I never led: no notice, whoever bids", () => {
    const known = new Map<string, Seen>();
    expect(observe(known, ME, at("7", OTHER, "10"))).toBeNull();
    expect(observe(known, ME, at("7", THIRD, "20"))).toBeNull();
    // First seen already outbid: nothing was seen led by me.
    expect(observe(known, ME, at("8", OTHER, "20"))).toBeNull();
    expect(leadingIds(known, ME)).toEqual([]);
  });

  it("the store shows a bid's notice once, newest per auction, until dismissed", () => {
    const n = { key: "9:20", auction: "9", tokenId: "1", paymentToken: ETH, amount: "20", bidder: OTHER };
    showOutbid(n);
    showOutbid({ ...n });
    expect(outbidNotices().filter((e) => e.auction === "9")).toHaveLength(1);
    showOutbid({ ...n, key: "9:30", amount: "30" });
    expect(outbidNotices().filter((e) => e.auction === "9").map((e) => e.key)).toEqual(["9:30"]);
    dismissOutbid("9:30");
    showOutbid({ ...n, key: "9:30", amount: "30" });
    expect(outbidNotices().filter((e) => e.auction === "9")).toEqual([]);
  });
});
