//! Fixed-price listings.
//!
//! Collection `listings`: `_id` = `{chainId}:{marketplace}:{listingId}`. Shard key
//! `{ chainId: 1, nft: 1, tokenId: 1 }`: it keeps a token's listings together for the token page
//! and the stale check; the status is left out because it changes (a shard key field must not).
//! The browse query (status + price or recency) is served by its own indexes.

use super::{
    Page, Projection, bad_cursor, clear_chain, collect, create_indexes, find_by_id, index,
    page_size, partial_index, replace_by_id,
};
use crate::{codec, error::Result};
use alloy::primitives::{Address, U256};
use bson::{Bson, Document, doc};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// Where a listing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListingStatus {
    /// Can be bought.
    Active,
    /// Bought.
    Sold,
    /// Cancelled by the seller.
    Cancelled,
    /// Past its expiry.
    Expired,
    /// The seller no longer owns or approves the token.
    Stale,
}

impl ListingStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Sold => "sold",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Stale => "stale",
        }
    }
}

/// One listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// `{chainId}:{marketplace}:{listingId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Marketplace contract.
    #[serde(with = "codec::address")]
    pub marketplace: Address,
    /// Listing id on chain.
    #[serde(with = "codec::u256")]
    pub listing_id: U256,
    /// Seller.
    #[serde(with = "codec::address")]
    pub seller: Address,
    /// NFT contract.
    #[serde(with = "codec::address")]
    pub nft: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// Payment token (zero address: ETH).
    #[serde(with = "codec::address")]
    pub payment_token: Address,
    /// Price in the payment token's smallest unit.
    #[serde(with = "codec::u256")]
    pub price: U256,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    /// Status.
    pub status: ListingStatus,
    /// Buyer once sold.
    #[serde(with = "codec::option_address")]
    pub buyer: Option<Address>,
    /// Block it was created in.
    pub created_block: i64,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Listing {
    /// The id of a listing.
    pub fn id_for(chain_id: u64, marketplace: &Address, listing_id: &U256) -> String {
        format!(
            "{chain_id}:{}:{listing_id}",
            codec::address_key(marketplace)
        )
    }
}

/// Order of a listings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListingSort {
    /// Newest first.
    #[default]
    Recent,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
}

/// A typed listings query: every filter is a typed value.
#[derive(Debug, Clone, Default)]
pub struct ListingQuery {
    /// Status filter.
    pub status: Option<ListingStatus>,
    /// Seller filter.
    pub seller: Option<Address>,
    /// NFT contract filter.
    pub nft: Option<Address>,
    /// Payment token filter.
    pub payment_token: Option<Address>,
    /// Lowest price (inclusive).
    pub min_price: Option<U256>,
    /// Highest price (inclusive).
    pub max_price: Option<U256>,
    /// Order.
    pub sort: ListingSort,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size (clamped to 1..=200).
    pub limit: u32,
}

/// Listings.
#[derive(Debug, Clone)]
pub struct ListingRepository {
    collection: Collection<Listing>,
}

impl ListingRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Listing::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "browse_price",
                    doc! { "chainId": 1, "status": 1, "price": 1, "_id": 1 },
                    false,
                ),
                index(
                    "browse_recent",
                    doc! { "chainId": 1, "status": 1, "createdBlock": -1, "_id": -1 },
                    false,
                ),
                index(
                    "by_seller",
                    doc! { "chainId": 1, "seller": 1, "status": 1 },
                    false,
                ),
                index(
                    "by_token",
                    doc! { "chainId": 1, "nft": 1, "tokenId": 1 },
                    false,
                ),
                // The indexer's per-batch "which open listings expire now" query; only listings
                // with an expiry are in it (most have none, and would fill its scanned range).
                partial_index(
                    "expiry",
                    doc! { "chainId": 1, "status": 1, "expiresAt": 1 },
                    doc! { "expiresAt": { "$gt": 0_i64 } },
                ),
            ],
        )
        .await
    }

    /// Stores the listing as given.
    pub async fn upsert(
        &self,
        listing: &Listing,
        session: Option<&mut ClientSession>,
    ) -> Result<()> {
        replace_by_id(&self.collection, listing, session).await
    }

    /// One listing.
    pub async fn get(
        &self,
        chain_id: u64,
        marketplace: &Address,
        listing_id: &U256,
    ) -> Result<Option<Listing>> {
        find_by_id(
            &self.collection,
            &Listing::id_for(chain_id, marketplace, listing_id),
        )
        .await
    }

    /// Active listings of one token (to mark them stale when the token moves).
    pub async fn active_for_token(
        &self,
        chain_id: u64,
        nft: &Address,
        token_id: &U256,
    ) -> Result<Vec<Listing>> {
        let cursor = self
            .collection
            .find(doc! {
                "chainId": chain_id as i64,
                "nft": codec::address_key(nft),
                "tokenId": codec::u256_key(token_id),
                "status": ListingStatus::Active.as_str(),
            })
            .await?;
        collect(cursor).await
    }

    /// One page of listings matching `query`, with keyset pagination (stable under inserts).
    pub async fn query(&self, chain_id: u64, query: &ListingQuery) -> Result<Page<Listing>> {
        let mut filter = doc! { "chainId": chain_id as i64 };
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        if let Some(seller) = &query.seller {
            filter.insert("seller", codec::address_key(seller));
        }
        if let Some(nft) = &query.nft {
            filter.insert("nft", codec::address_key(nft));
        }
        if let Some(token) = &query.payment_token {
            filter.insert("paymentToken", codec::address_key(token));
        }
        let mut price = Document::new();
        if let Some(min) = &query.min_price {
            price.insert("$gte", codec::u256_key(min));
        }
        if let Some(max) = &query.max_price {
            price.insert("$lte", codec::u256_key(max));
        }
        if !price.is_empty() {
            filter.insert("price", price);
        }
        let (sort, key_field, direction) = match query.sort {
            ListingSort::Recent => (
                doc! { "createdBlock": -1, "_id": -1 },
                "createdBlock",
                "$lt",
            ),
            ListingSort::PriceAsc => (doc! { "price": 1, "_id": 1 }, "price", "$gt"),
            ListingSort::PriceDesc => (doc! { "price": -1, "_id": -1 }, "price", "$lt"),
        };
        if let Some(cursor) = &query.cursor {
            let (key, id) = decode_cursor(cursor)?;
            let key: Bson = if key_field == "createdBlock" {
                Bson::Int64(key.parse().map_err(|_| bad_cursor())?)
            } else {
                Bson::String(key)
            };
            let after = doc! { "$or": [
                { key_field: { direction: key.clone() } },
                { key_field: key, "_id": { direction: id } },
            ] };
            filter = doc! { "$and": [filter, after] };
        }
        let limit = page_size(query.limit);
        let items = collect(self.collection.find(filter).sort(sort).limit(limit).await?).await?;
        let next_cursor = if items.len() as i64 == limit {
            items.last().map(|l| {
                let key = match query.sort {
                    ListingSort::Recent => l.created_block.to_string(),
                    _ => codec::u256_key(&l.price),
                };
                encode_cursor(&key, &l.id)
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Deletes listings of `chain_id` (before a rebuild from raw events).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}

fn encode_cursor(key: &str, id: &str) -> String {
    alloy::hex::encode(format!("{key}|{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let bytes = alloy::hex::decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let (key, id) = text.split_once('|').ok_or_else(bad_cursor)?;
    Ok((key.to_string(), id.to_string()))
}
