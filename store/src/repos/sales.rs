//! Completed sales (listing purchases, settled auctions, accepted offers).
//!
//! Collection `sales`: `_id` = the `Sale` event id; shard key `{ chainId: 1, nft: 1, timestamp: 1 }`
//! (collection stats and token history both filter on the NFT contract and time).

use super::{Projection, clear_chain, collect, create_indexes, index, replace_by_id};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256, U256};
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// How the sale happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaleKind {
    /// A fixed-price listing was bought.
    Listing,
    /// An auction was settled.
    Auction,
    /// An offer was accepted.
    Offer,
}

/// One sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sale {
    /// The event id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// How it happened.
    pub kind: SaleKind,
    /// Listing, auction or offer id.
    #[serde(with = "codec::u256")]
    pub ref_id: U256,
    /// NFT contract.
    #[serde(with = "codec::address")]
    pub nft: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// Seller.
    #[serde(with = "codec::address")]
    pub seller: Address,
    /// Buyer.
    #[serde(with = "codec::address")]
    pub buyer: Address,
    /// Payment token (zero: ETH).
    #[serde(with = "codec::address")]
    pub payment_token: Address,
    /// Price.
    #[serde(with = "codec::u256")]
    pub price: U256,
    /// Platform fee.
    #[serde(with = "codec::u256")]
    pub fee: U256,
    /// Royalty receiver.
    #[serde(with = "codec::address")]
    pub royalty_receiver: Address,
    /// Royalty paid.
    #[serde(with = "codec::u256")]
    pub royalty: U256,
    /// Block number.
    pub block_number: i64,
    /// Block timestamp, seconds.
    pub timestamp: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
}

/// Sales.
#[derive(Debug, Clone)]
pub struct SaleRepository {
    collection: Collection<Sale>,
}

impl SaleRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Sale::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "by_collection_time",
                    doc! { "chainId": 1, "nft": 1, "timestamp": -1 },
                    false,
                ),
                index(
                    "by_token",
                    doc! { "chainId": 1, "nft": 1, "tokenId": 1, "blockNumber": -1 },
                    false,
                ),
                index(
                    "recent",
                    doc! { "chainId": 1, "timestamp": -1, "_id": -1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// Records a sale; recording the same event twice changes nothing.
    pub async fn record(&self, sale: &Sale, session: Option<&mut ClientSession>) -> Result<()> {
        replace_by_id(&self.collection, sale, session).await
    }

    /// Sales of one token, newest first.
    pub async fn for_token(
        &self,
        chain_id: u64,
        nft: &Address,
        token_id: &U256,
    ) -> Result<Vec<Sale>> {
        let filter = doc! { "chainId": chain_id as i64, "nft": codec::address_key(nft), "tokenId": codec::u256_key(token_id) };
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "blockNumber": -1 })
                .await?,
        )
        .await
    }

    /// The newest sales of the chain.
    pub async fn recent(&self, chain_id: u64, limit: u32) -> Result<Vec<Sale>> {
        let limit = super::page_size(limit);
        collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64 })
                .sort(doc! { "timestamp": -1, "_id": -1 })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Sales of NFTs of `nft`, newest first.
    pub async fn in_collection(
        &self,
        chain_id: u64,
        nft: &Address,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<super::Page<Sale>> {
        let filter = doc! { "chainId": chain_id as i64, "nft": codec::address_key(nft) };
        super::keyset_page(
            &self.collection,
            filter,
            "timestamp",
            false,
            cursor,
            limit,
            |s| (s.timestamp, &s.id),
        )
        .await
    }

    /// Total volume of `nft` paid in `payment_token` since `since` (seconds), exact.
    pub async fn volume_since(
        &self,
        chain_id: u64,
        nft: &Address,
        payment_token: &Address,
        since: i64,
    ) -> Result<U256> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "nft": codec::address_key(nft),
            "paymentToken": codec::address_key(payment_token),
            "timestamp": { "$gte": since },
        };
        let sales = collect(self.collection.find(filter).await?).await?;
        Ok(sales
            .iter()
            .fold(U256::ZERO, |sum, s| sum.saturating_add(s.price)))
    }

    /// Deletes sales of `chain_id` (before a rebuild from raw events).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}
