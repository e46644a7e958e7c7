//! The activity stream: one item per user-visible event (mints, transfers, listings, price
//! changes, sales, auctions, bids, offers, cancellations, proposals, votes), projected by the
//! indexer from the event alone (plus the listing, auction or offer it names), so it is rolled
//! back and rebuilt like every projection.
//!
//! Collection `activity`: `_id` = the event id; `seq` = block number × 100,000 + log index
//! (chain order, unique per chain). Shard key `{ chainId: 1, contract: 1, tokenId: 1 }` (the
//! token page's stream stays on one shard; user and global streams use their own indexes; a
//! collection's stream reads the global one).

use super::{Page, Projection, bad_cursor, collect, create_indexes, index, page_size};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256, U256};
use bson::doc;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

/// `seq` = block number × this + log index.
pub const SEQ_PER_BLOCK: i64 = 100_000;

/// One activity item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// The event id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Chain order: block number × 100,000 + log index.
    pub seq: i64,
    /// `mint`, `transfer`, `listing`, `price_change`, `listing_cancelled`, `sale`, `auction`,
    /// `bid`, `auction_cancelled`, `offer`, `offer_cancelled`, `proposal`, `vote`.
    pub kind: String,
    /// NFT contract (absent for governance items).
    #[serde(default, with = "codec::option_address")]
    pub contract: Option<Address>,
    /// Token id (zero-padded decimal, like every stored U256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Who acted.
    #[serde(with = "codec::option_address")]
    pub from: Option<Address>,
    /// Who received (buyer, recipient).
    #[serde(with = "codec::option_address")]
    pub to: Option<Address>,
    /// Every account involved, lowercase hex (the user stream's key).
    pub users: Vec<String>,
    /// Amount in the payment token's smallest unit (prices, bids, offers, vote weight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Payment token (zero address: ETH).
    #[serde(default, with = "codec::option_address")]
    pub payment_token: Option<Address>,
    /// Listing, auction, offer or proposal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// Block number.
    pub block_number: i64,
    /// Block time (unix seconds).
    pub timestamp: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
}

impl Projection for Activity {
    const COLLECTION: &'static str = "activity";
    fn id(&self) -> &str {
        &self.id
    }
}

/// Which stream to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Only this collection.
    pub contract: Option<Address>,
    /// Only this token (with `contract`).
    pub token_id: Option<U256>,
    /// Only items involving this account.
    pub user: Option<Address>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
    /// Items older than this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// The activity stream.
#[derive(Debug, Clone)]
pub struct ActivityRepository {
    items: Collection<Activity>,
}

impl ActivityRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            items: db.collection(Activity::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.items,
            vec![
                index("chain_seq", doc! { "chainId": 1, "seq": -1 }, false),
                index(
                    "chain_token_seq",
                    doc! { "chainId": 1, "contract": 1, "tokenId": 1, "seq": -1 },
                    false,
                ),
                index(
                    "chain_users_seq",
                    doc! { "chainId": 1, "users": 1, "seq": -1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// One item by its event id.
    pub async fn get(&self, id: &str) -> Result<Option<Activity>> {
        super::find_by_id(&self.items, id).await
    }

    /// Newest first; the cursor is the last item's `seq`.
    pub async fn query(&self, chain_id: u64, query: &ActivityQuery) -> Result<Page<Activity>> {
        let mut filter = doc! { "chainId": chain_id as i64 };
        if let Some(contract) = &query.contract {
            filter.insert("contract", codec::address_key(contract));
            if let Some(token) = &query.token_id {
                filter.insert("tokenId", codec::u256_key(token));
            }
        }
        if let Some(user) = &query.user {
            filter.insert("users", codec::address_key(user));
        }
        if !query.kinds.is_empty() {
            filter.insert("kind", doc! { "$in": &query.kinds });
        }
        if let Some(cursor) = &query.cursor {
            let seq: i64 = cursor.parse().map_err(|_| bad_cursor())?;
            filter.insert("seq", doc! { "$lt": seq });
        }
        let limit = page_size(query.limit);
        let mut find = self
            .items
            .find(filter)
            .sort(doc! { "seq": -1 })
            .limit(limit);
        // A collection's stream walks the chain's stream and keeps the collection's items (a
        // Nest deployment indexes one collection, so nearly every item is one of them): a
        // third index on this most written collection would cost every event more than it
        // saves this read.
        if query.contract.is_some() && query.token_id.is_none() && query.user.is_none() {
            find = find.hint(mongodb::options::Hint::Name("chain_seq".into()));
        }
        let items = collect(find.await?).await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|a| a.seq.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
