// The api's JSON shapes (GET /openapi.json), as the dApp reads them. Amounts are decimal strings
// in the token's smallest unit; times are unix seconds.

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId?: string;
}

export interface Listing {
  id: string;
  seller: string;
  nft: string;
  tokenId: string;
  paymentToken: string;
  price: string;
  expiresAt: number;
  status: "active" | "sold" | "cancelled" | "expired" | "stale";
  buyer?: string;
  createdBlock: number;
}

/** One trait of a token (OpenSea metadata standard). */
export interface NftTrait {
  traitType: string;
  value: string;
  displayType?: string;
}

/** A token's metadata as the api resolved it; `image` is a `/v1/media/{sha256}` path. */
export interface NftMetadata {
  state: "pending" | "resolved" | "failed";
  refreshing: boolean;
  name?: string;
  description?: string;
  image?: string;
  externalUrl?: string;
  attributes: NftTrait[];
  error?: string;
}

/** Trait counts of a collection (the gallery's filter sidebar). */
export interface CollectionTraits {
  contract: string;
  traits: { traitType: string; values: { value: string; count: number }[] }[];
}

export interface Nft {
  contract: string;
  tokenId: string;
  owner: string;
  tokenUri: string;
  metadata?: NftMetadata;
  royaltyReceiver?: string;
  royaltyBps: number;
  mintedBlock: number;
}

/** What a token is doing on the market, when a market filter or sort of the gallery found it. */
export interface TokenMarket {
  kind: "listing" | "auction" | "offer" | "sale";
  /** The listing, auction or offer id (for a sale: what was sold). */
  id: string;
  /** Listing price, highest bid (or the reserve before any bid), offer amount, or sale price. */
  price: string;
  /** `price` in whole units ("1.5"), when the token's decimals are known. */
  priceDecimal?: string;
  paymentToken: string;
  /** Auction end (unix seconds). */
  endTime?: number;
  /** Sale time (unix seconds). */
  timestamp?: number;
}

/** A token of a collection page (GET /v1/collections/{contract}/tokens). */
export interface CollectionToken extends Nft {
  market?: TokenMarket;
}

/** Volume (smallest unit, and whole units when the decimals are known) and sales over a window. */
export interface WindowTotals {
  volume: string;
  volumeDecimal?: string;
  sales: number;
}

/** A collection's figures in one payment token (zero address: ETH). */
export interface PaymentTokenStats {
  paymentToken: string;
  symbol?: string;
  decimals?: number;
  floorPrice?: string;
  floorPriceDecimal?: string;
  last24h: WindowTotals;
  last7d: WindowTotals;
  last30d: WindowTotals;
  allTime: WindowTotals;
}

/** GET /v1/collections/{contract}/stats: ETH figures at the top, every payment token below (ETH first). */
export interface CollectionStats {
  contract: string;
  floorPrice?: string;
  volume24h: string;
  volume7d: string;
  owners: number;
  supply: number;
  listed: number;
  onAuction: number;
  /** Sales in any payment token, all time. */
  sales: number;
  updatedBlock: number;
  byPaymentToken: PaymentTokenStats[];
}

export interface Transfer {
  from: string;
  to: string;
  blockNumber: number;
  txHash: string;
}

export interface Offer {
  id: string;
  buyer: string;
  nft: string;
  tokenId: string;
  paymentToken: string;
  amount: string;
  expiresAt: number;
  status: "open" | "accepted" | "cancelled" | "expired";
}

export interface Sale {
  kind?: string;
  nft: string;
  tokenId: string;
  seller: string;
  buyer: string;
  paymentToken: string;
  price: string;
  blockNumber?: number;
  [key: string]: unknown;
}

export interface NftDetail extends Nft {
  history: Transfer[];
  offers: Offer[];
  sales: Sale[];
}

export interface Auction {
  id: string;
  seller: string;
  nft: string;
  tokenId: string;
  paymentToken: string;
  reservePrice: string;
  startTime: number;
  endTime: number;
  highestBidder?: string;
  highestBid: string;
  bidCount: number;
  status: "live" | "ended" | "settled" | "cancelled";
  winner?: string;
}

export interface Bid {
  bidder: string;
  amount: string;
  blockNumber: number;
}

export interface AuctionDetail extends Auction {
  bids: Bid[];
}

export interface Action {
  target: string;
  value: string;
  calldata: string;
  function?: string;
  args?: string[];
}

export type ProposalState =
  | "pending"
  | "active"
  | "canceled"
  | "defeated"
  | "succeeded"
  | "queued"
  | "expired"
  | "executed";

export interface Proposal {
  id: string;
  proposer: string;
  description: string;
  state: ProposalState;
  voteStart: number;
  voteEnd: number;
  forVotes: string;
  againstVotes: string;
  abstainVotes: string;
  quorum: string;
  quorumProgressPercent: number;
  eta?: number;
  actions: Action[];
}

export interface Vote {
  proposalId: string;
  voter: string;
  support: "for" | "against" | "abstain";
  weight: string;
  reason: string;
  blockNumber: number;
}

export interface ProposalDetail extends Proposal {
  votes: Vote[];
}

export interface Delegate {
  address: string;
  votes?: string;
  [key: string]: unknown;
}

export interface Session {
  token: string;
  address: string;
  expiresAt: number;
}

export interface RelayAccepted {
  id: string;
  status: string;
  statusUrl: string;
}

export interface RelayJob {
  id: string;
  kind: string;
  status: "queued" | "submitted" | "mined" | "confirmed" | "failed" | "expired";
  txHashes: string[];
  receipt?: { txHash: string; blockNumber: number; success: boolean };
  error?: string;
}

// Social (nest-social views): addresses lowercase, times unix seconds, text plain text.
export interface SocialAccount {
  address: string;
  handle?: string | null;
  displayName?: string | null;
}

export interface SocialProfile extends SocialAccount {
  bio?: string | null;
  avatar?: { contract: string; tokenId: string } | null;
  followers: number;
  following: number;
  posts: number;
  firstSeen: number;
  banned: boolean;
}

export interface SocialPost {
  id: string;
  author: SocialAccount;
  text: string;
  mentions: { account: string; start: number; end: number }[];
  embeds: string[];
  channel?: string | null;
  parent?: string | null;
  root?: string | null;
  depth: number;
  createdAt: number;
  editedAt?: number | null;
  revisions: number;
  likes: number;
  replies: number;
  deleted: boolean;
  hidden: boolean;
  takenDown: boolean;
  message: string;
  key: string;
  /** Whether the `viewer` the page was asked for likes it (only with a viewer). */
  likedByViewer?: boolean;
}

export interface SocialActivity {
  actor: SocialAccount;
  kind: string;
  source: string;
  nft?: string | null;
  tokenId?: string | null;
  amount?: string | null;
  paymentToken?: string | null;
  proposal?: string | null;
  support?: number | null;
  at: number;
  key: string;
}

export type FeedItem = { type: "post"; post: SocialPost } | { type: "activity"; activity: SocialActivity };

export interface SocialThread {
  root: SocialPost;
  replies: SocialPost[];
  nextCursor?: string;
}

export interface SocialNotification {
  id: string;
  kind: string;
  actor?: string | null;
  target?: string | null;
  detail?: string | null;
  at: number;
  read: boolean;
  key: string;
}

export interface NotificationPage extends Page<SocialNotification> {
  unread: number;
}

export interface Accepted {
  hash: string;
  type: string;
  status: "accepted" | "duplicate";
}

/** A token amount as the api writes it (`raw` in the smallest unit, `decimal` in whole units). */
export interface TokenAmount {
  raw: string;
  decimal: string;
  symbol: string;
  decimals: number;
  token: string;
}

/** `GET /v1/users/{address}/portfolio`: a wallet's positions in one read. */
export interface Portfolio {
  address: string;
  owned: Nft[];
  ownedNextCursor?: string;
  listings: Listing[];
  auctions: { leading: Auction[]; outbid: Auction[]; selling: Auction[] };
  offers: { made: Offer[]; received: Offer[] };
  withdrawable: TokenAmount[];
  governance: { votingPower: string; delegate?: string; openProposalsNotVoted: Proposal[] };
}
