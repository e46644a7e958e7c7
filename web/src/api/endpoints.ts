// The api's operations the dApp uses, one function each, typed. New server endpoints (metadata,
// activity, social) get a function here and a query key in `keys`.
import { api } from "./client";
import type {
  Auction,
  AuctionDetail,
  CollectionStats,
  CollectionToken,
  CollectionTraits,
  Delegate,
  Listing,
  Nft,
  NftDetail,
  Offer,
  Page,
  Portfolio,
  Proposal,
  ProposalDetail,
  RelayAccepted,
  RelayJob,
  Sale,
  Session,
  Vote,
  Accepted,
  FeedItem,
  NotificationPage,
  SocialAccount,
  SocialPost,
  SocialProfile,
  SocialThread,
} from "./types";
import type { Envelope, SocialDomain } from "../social/messages";

export interface ListingFilter {
  status?: string;
  seller?: string;
  nft?: string;
  paymentToken?: string;
  minPrice?: string;
  maxPrice?: string;
  sort?: "recent" | "price_asc" | "price_desc";
  cursor?: string;
  limit?: number;
}

/**
 * Filters of a collection's token page. `trait`: `Type:Value` (OR within a type, AND across
 * types); `status`, `sort`, a price range (smallest unit) and its `currency` narrow it by market
 * state: lib/gallery-filters.ts builds only the combinations the api accepts.
 */
export interface TokenQuery {
  trait?: string[];
  status?: "listed" | "auction" | "offers";
  sort?: "token_id" | "price_asc" | "price_desc" | "recently_listed" | "ending_soon" | "recently_sold";
  minPrice?: string;
  maxPrice?: string;
  currency?: string;
}

export const endpoints = {
  listings: (f: ListingFilter = {}) => api.get<Page<Listing>>("/v1/listings", { ...f }),
  listing: (id: string) => api.get<Listing>(`/v1/listings/${id}`),
  nfts: (owner: string, cursor?: string) => api.get<Page<Nft>>("/v1/nfts", { owner, cursor, limit: 50 }),
  nft: (contract: string, tokenId: string) => api.get<NftDetail>(`/v1/nfts/${contract}/${tokenId}`),
  traits: (contract: string) => api.get<CollectionTraits>(`/v1/collections/${contract}/traits`),
  /** A collection's tokens, filtered; with a market filter a page may be short while a cursor remains. */
  collectionTokens: (contract: string, q: TokenQuery, cursor?: string) =>
    api.get<Page<CollectionToken>>(`/v1/collections/${contract}/tokens`, { ...q, cursor, limit: 24 }),
  collectionStats: (contract: string) => api.get<CollectionStats>(`/v1/collections/${contract}/stats`),
  auctions: (cursor?: string, endingWithin?: number) =>
    api.get<Page<Auction>>("/v1/auctions", { cursor, endingWithin, limit: 24 }),
  auction: (id: string) => api.get<AuctionDetail>(`/v1/auctions/${id}`),
  portfolio: (address: string) => api.get<Portfolio>(`/v1/users/${address}/portfolio`),
  offersByBuyer: (buyer: string) => api.get<Offer[]>("/v1/offers", { buyer }),
  offersForToken: (nft: string, tokenId: string) => api.get<Offer[]>("/v1/offers", { nft, tokenId }),
  sales: (params: Record<string, string | undefined> = {}) => api.get<Page<Sale>>("/v1/sales", params),
  proposals: (state?: string, cursor?: string) => api.get<Page<Proposal>>("/v1/proposals", { state, cursor }),
  proposal: (id: string) => api.get<ProposalDetail>(`/v1/proposals/${id}`),
  votes: (params: Record<string, string | undefined>) => api.get<Page<Vote>>("/v1/votes", params),
  delegate: (address: string) => api.get<Delegate>(`/v1/delegates/${address}`),
  nonce: () => api.get<{ nonce: string; expiresAt: number }>("/v1/auth/nonce"),
  verify: (message: string, signature: string) => api.post<Session>("/v1/auth/verify", { message, signature }),
  refresh: () => api.post<Session>("/v1/auth/refresh", undefined, true),
  logout: () => api.post<void>("/v1/auth/logout", undefined, true),
  me: () => api.get<{ address: string; firstSeen: string }>("/v1/me", undefined, true),
  relay: (body: Record<string, unknown>) => api.post<RelayAccepted>("/v1/relay", body),
  relayJob: (id: string) => api.get<RelayJob>(`/v1/relay/${id}`),
  socialDomain: () => api.get<SocialDomain>("/v1/social/domain"),
  socialSend: (e: Envelope) => api.post<Accepted>("/v1/social/messages", e),
  globalFeed: (cursor?: string, viewer?: string) => api.get<Page<FeedItem>>("/v1/social/feeds/global", { cursor, viewer }),
  homeFeed: (account: string, cursor?: string) => api.get<Page<FeedItem>>("/v1/social/feeds/home", { account, cursor }),
  nftPosts: (contract: string, tokenId: string, cursor?: string, viewer?: string) =>
    api.get<Page<FeedItem>>(`/v1/social/nfts/${contract}/${tokenId}/posts`, { cursor, viewer }),
  socialProfile: (address: string) => api.get<SocialProfile>(`/v1/social/accounts/${address}`),
  accountPosts: (address: string, cursor?: string, viewer?: string) =>
    api.get<Page<FeedItem>>(`/v1/social/accounts/${address}/posts`, { cursor, viewer }),
  following: (address: string, cursor?: string) =>
    api.get<Page<SocialAccount>>(`/v1/social/accounts/${address}/following`, { cursor, limit: 100 }),
  socialPost: (id: string) => api.get<SocialPost>(`/v1/social/posts/${id}`),
  thread: (id: string, cursor?: string, viewer?: string) => api.get<SocialThread>(`/v1/social/posts/${id}/thread`, { cursor, viewer }),
  notifications: (cursor?: string, limit?: number) => api.get<NotificationPage>("/v1/social/notifications", { cursor, limit }, true),
  markRead: (upTo?: string) => api.post<{ marked: number; unread: number }>("/v1/social/notifications/read", upTo ? { upTo } : {}, true),
};

/** TanStack Query keys, one family per resource, so live notices invalidate exactly. */
export const keys = {
  listings: (f: ListingFilter = {}) => ["listings", f] as const,
  nft: (contract: string, tokenId: string) => ["nft", contract.toLowerCase(), tokenId] as const,
  nfts: (owner: string) => ["nfts", owner.toLowerCase()] as const,
  traits: (contract: string) => ["traits", contract.toLowerCase()] as const,
  collectionTokens: (contract: string, q: TokenQuery) =>
    ["nfts", "collection", contract.toLowerCase(), { ...q, trait: q.trait && [...q.trait].sort() }] as const,
  collectionStats: (contract: string) => ["collection-stats", contract.toLowerCase()] as const,
  auctions: () => ["auctions"] as const,
  auction: (id: string) => ["auction", id] as const,
  offers: (who: string) => ["offers", who.toLowerCase()] as const,
  portfolio: (address: string) => ["portfolio", address.toLowerCase()] as const,
  proposals: (state?: string) => ["proposals", state ?? "all"] as const,
  proposal: (id: string) => ["proposal", id] as const,
  delegate: (address: string) => ["delegate", address.toLowerCase()] as const,
  // Social: every family starts with "social" so one notice can refresh them all. Pages asked
  // with a viewer (likedByViewer) carry it last in their key.
  socialDomain: () => ["social", "domain"] as const,
  feed: (name: string, who?: string, viewer?: string) => ["social", "feed", name, who?.toLowerCase() ?? "", viewer?.toLowerCase() ?? ""] as const,
  socialProfile: (address: string) => ["social", "profile", address.toLowerCase()] as const,
  following: (address: string) => ["social", "following", address.toLowerCase()] as const,
  thread: (id: string, viewer?: string) => ["social", "thread", id, viewer?.toLowerCase() ?? ""] as const,
  notifications: (address: string) => ["social-notifications", address.toLowerCase()] as const,
};
