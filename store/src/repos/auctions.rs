//! English auctions and their bids.
//!
//! Collection `auctions`: `_id` = `{chainId}:{marketplace}:{auctionId}`; shard key
//! `{ chainId: 1, nft: 1, tokenId: 1 }` (token page; the live list uses the `live_by_end` index).
//! Collection `bids`: `_id` = the event id; shard key `{ auction: 1, blockNumber: 1 }` (bids of one
//! auction).

use super::{
    Page, Projection, clear_chain, collect, create_indexes, find_by_id, index, replace_by_id,
};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256, U256};
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// Where an auction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuctionStatus {
    /// Accepting bids (or ended and waiting for settlement).
    Live,
    /// Settled.
    Settled,
    /// Cancelled by the seller before any bid.
    Cancelled,
}

impl AuctionStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Settled => "settled",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One auction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auction {
    /// `{chainId}:{marketplace}:{auctionId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Marketplace contract.
    #[serde(with = "codec::address")]
    pub marketplace: Address,
    /// Auction id on chain.
    #[serde(with = "codec::u256")]
    pub auction_id: U256,
    /// Seller.
    #[serde(with = "codec::address")]
    pub seller: Address,
    /// NFT contract.
    #[serde(with = "codec::address")]
    pub nft: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// Payment token (zero: ETH).
    #[serde(with = "codec::address")]
    pub payment_token: Address,
    /// Reserve price.
    #[serde(with = "codec::u256")]
    pub reserve_price: U256,
    /// Start, seconds.
    pub start_time: i64,
    /// End (after anti-sniping extensions), seconds.
    pub end_time: i64,
    /// Highest bidder.
    #[serde(with = "codec::option_address")]
    pub highest_bidder: Option<Address>,
    /// Highest bid.
    #[serde(with = "codec::u256")]
    pub highest_bid: U256,
    /// Number of bids.
    pub bid_count: i64,
    /// Status.
    pub status: AuctionStatus,
    /// Winner once settled.
    #[serde(with = "codec::option_address")]
    pub winner: Option<Address>,
    /// Block it was created in.
    pub created_block: i64,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Auction {
    /// The id of an auction.
    pub fn id_for(chain_id: u64, marketplace: &Address, auction_id: &U256) -> String {
        format!(
            "{chain_id}:{}:{auction_id}",
            codec::address_key(marketplace)
        )
    }
}

/// One bid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    /// The event id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The auction's id.
    pub auction: String,
    /// Bidder.
    #[serde(with = "codec::address")]
    pub bidder: Address,
    /// Amount.
    #[serde(with = "codec::u256")]
    pub amount: U256,
    /// Block number.
    pub block_number: i64,
    /// Log index.
    pub log_index: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
}

/// Auctions and bids.
#[derive(Debug, Clone)]
pub struct AuctionRepository {
    auctions: Collection<Auction>,
    bids: Collection<Bid>,
}

impl AuctionRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            auctions: db.collection(Auction::COLLECTION),
            bids: db.collection(Bid::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.auctions,
            vec![
                index(
                    "live_by_end",
                    doc! { "chainId": 1, "status": 1, "endTime": 1, "_id": 1 },
                    false,
                ),
                index(
                    "by_token",
                    doc! { "chainId": 1, "nft": 1, "tokenId": 1 },
                    false,
                ),
                index("by_seller", doc! { "chainId": 1, "seller": 1 }, false),
                index(
                    "collection_live_by_end",
                    doc! { "chainId": 1, "nft": 1, "status": 1, "endTime": 1, "_id": 1 },
                    false,
                ),
            ],
        )
        .await?;
        create_indexes(
            &self.bids,
            vec![
                index(
                    "by_auction",
                    doc! { "auction": 1, "blockNumber": 1, "logIndex": 1 },
                    false,
                ),
                index("by_bidder", doc! { "chainId": 1, "bidder": 1 }, false),
            ],
        )
        .await
    }

    /// Stores the auction as given.
    pub async fn upsert(
        &self,
        auction: &Auction,
        session: Option<&mut ClientSession>,
    ) -> Result<()> {
        replace_by_id(&self.auctions, auction, session).await
    }

    /// One auction.
    pub async fn get(
        &self,
        chain_id: u64,
        marketplace: &Address,
        auction_id: &U256,
    ) -> Result<Option<Auction>> {
        find_by_id(
            &self.auctions,
            &Auction::id_for(chain_id, marketplace, auction_id),
        )
        .await
    }

    /// Live auctions ending soonest first: of NFTs of `nft` when given, and with
    /// `ending_before` only those ending by then.
    pub async fn live(
        &self,
        chain_id: u64,
        nft: Option<&Address>,
        ending_before: Option<i64>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Auction>> {
        let mut filter = doc! { "chainId": chain_id as i64 };
        if let Some(nft) = nft {
            filter.insert("nft", codec::address_key(nft));
        }
        filter.insert("status", AuctionStatus::Live.as_str());
        if let Some(t) = ending_before {
            filter.insert("endTime", doc! { "$lte": t });
        }
        super::keyset_page(
            &self.auctions,
            filter,
            "endTime",
            true,
            cursor,
            limit,
            |a| (a.end_time, &a.id),
        )
        .await
    }

    /// Live auctions `bidder` has bid in (leading or outbid).
    pub async fn live_bid_on_by(&self, chain_id: u64, bidder: &Address) -> Result<Vec<Auction>> {
        let ids = self
            .bids
            .distinct(
                "auction",
                doc! { "chainId": chain_id as i64, "bidder": codec::address_key(bidder) },
            )
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        collect(
            self.auctions
                .find(doc! { "_id": { "$in": ids }, "status": AuctionStatus::Live.as_str() })
                .sort(doc! { "endTime": 1 })
                .await?,
        )
        .await
    }

    /// Live auctions `seller` runs.
    pub async fn live_by_seller(&self, chain_id: u64, seller: &Address) -> Result<Vec<Auction>> {
        collect(
            self.auctions
                .find(doc! { "chainId": chain_id as i64, "seller": codec::address_key(seller), "status": AuctionStatus::Live.as_str() })
                .sort(doc! { "endTime": 1 })
                .await?,
        )
        .await
    }

    /// Records a bid; recording the same event twice changes nothing.
    pub async fn record_bid(&self, bid: &Bid, session: Option<&mut ClientSession>) -> Result<()> {
        replace_by_id(&self.bids, bid, session).await
    }

    /// Bids of one auction, oldest first.
    pub async fn bids(&self, auction_id: &str) -> Result<Vec<Bid>> {
        collect(
            self.bids
                .find(doc! { "auction": auction_id })
                .sort(doc! { "blockNumber": 1, "logIndex": 1 })
                .await?,
        )
        .await
    }

    /// Deletes auctions and bids of `chain_id` (before a rebuild from raw events).
    pub async fn clear(
        &self,
        chain_id: u64,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        clear_chain(&self.auctions, chain_id, session.as_deref_mut()).await?;
        clear_chain(&self.bids, chain_id, session).await?;
        Ok(())
    }
}
