// The site-wide outbid notice: which auction states seen by the app (an auction read after a
// stream notice, the portfolio's leading/outbid lists) mean "someone else just outbid you", and
// the small store of notices the tray shows (kept apart from React so it is tested alone).

/** What the app last saw of one auction: its highest bidder and bid. */
export interface Seen {
  bidder?: string;
  bid: bigint;
}

/** One auction state as the api reported it (an `Auction`, or a part of one). */
export interface Observation {
  id: string;
  tokenId: string;
  paymentToken: string;
  highestBidder?: string;
  highestBid: string;
}

/** "You were outbid on `tokenId`'s auction: `amount` by `bidder`." */
export interface OutbidNotice {
  /** One per bid: auction id and the new highest bid. */
  key: string;
  auction: string;
  tokenId: string;
  paymentToken: string;
  amount: string;
  bidder: string;
}

const same = (a?: string, b?: string) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/**
 * Records `o` in `known` and returns a notice when it shows that `me`, the highest bidder when
 * the auction was last seen, has been outbid by someone else. Bids only go up, so the highest
 * bid orders what is seen: an older or repeated state (a stale cache, the same bid read twice)
 * changes nothing and says nothing. An auction first seen now was never seen led by `me`.
 */
export function observe(known: Map<string, Seen>, me: string, o: Observation): OutbidNotice | null {
  let bid: bigint;
  try {
    bid = BigInt(o.highestBid || "0");
  } catch {
    return null;
  }
  const before = known.get(o.id);
  if (before && bid <= before.bid) return null;
  known.set(o.id, { bidder: o.highestBidder, bid });
  if (!before || !same(before.bidder, me) || !o.highestBidder || same(o.highestBidder, me)) return null;
  return {
    key: `${o.id}:${bid}`,
    auction: o.id,
    tokenId: o.tokenId,
    paymentToken: o.paymentToken,
    amount: bid.toString(),
    bidder: o.highestBidder,
  };
}

/** The auctions `me` leads as far as the app knows, in a stable order. */
export function leadingIds(known: Map<string, Seen>, me: string): string[] {
  return [...known].filter(([, s]) => same(s.bidder, me)).map(([id]) => id).sort();
}

// The notices on screen, newest first (a few at most), each shown once.
type Listener = () => void;
const listeners = new Set<Listener>();
let notices: OutbidNotice[] = [];
const shown = new Set<string>();

export function outbidNotices(): OutbidNotice[] {
  return notices;
}
export function subscribeOutbid(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
export function showOutbid(n: OutbidNotice): void {
  if (shown.has(n.key)) return;
  shown.add(n.key);
  // A newer notice for the same auction replaces the older one.
  notices = [n, ...notices.filter((e) => e.auction !== n.auction)].slice(0, 3);
  listeners.forEach((l) => l());
}
export function dismissOutbid(key: string): void {
  notices = notices.filter((e) => e.key !== key);
  listeners.forEach((l) => l());
}
