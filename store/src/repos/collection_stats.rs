//! Collection statistics, kept incrementally by the indexer in each batch's transaction (and
//! rolled back with it on a reorg), so a stats read is a handful of id and index lookups however
//! many tokens, listings and sales a collection has.
//!
//! - `collection_stats`: one document per collection, `_id` = `{chainId}:{contract}`: supply,
//!   distinct owners, active listings, live auctions, and all-time volume and sales count per
//!   payment token. Shard key `{ _id: "hashed" }` (read by id).
//! - `sale_buckets`: sales volume and count per collection, hour and payment token, `_id` =
//!   `{chainId}:{contract}:{hourStart}`; the 24 h / 7 d / 30 d windows sum at most 720 of them
//!   (only hours with sales have one). Shard key `{ chainId: 1, contract: 1, hour: 1 }`.
//! - `holdings`: how many tokens of a collection each owner holds, `_id` =
//!   `{chainId}:{contract}:{owner}`; the owners count changes when one goes from 0 to 1 or back.
//!   Shard key `{ _id: "hashed" }`.
//!
//! [`CollectionStatsRepository::recount`] derives the same documents from the projections in
//! one pass; the store's migration uses it for data indexed before these collections existed,
//! and the indexer's tests use it to prove the incremental counts exact.

use super::{
    AuctionStatus, ListingStatus, Projection, clear_chain, collect, create_indexes, find_by_id,
    index,
};
use crate::{codec, error::Result, repos::Auction, repos::Listing, repos::Nft, repos::Sale};
use alloy::primitives::{Address, U256};
use bson::doc;
use futures_util::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Width of a sale bucket, seconds.
pub const BUCKET_SECONDS: i64 = 3_600;

/// Volume and number of sales in one payment token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenTotals {
    /// Payment token (zero address: ETH).
    #[serde(with = "codec::address")]
    pub payment_token: Address,
    /// Sum of sale prices, in the token's smallest unit.
    #[serde(with = "codec::u256")]
    pub volume: U256,
    /// Number of sales.
    pub sales: i64,
}

impl TokenTotals {
    /// Adds one sale of `price` in `token` to `totals` (kept sorted by token).
    pub fn add_sale(totals: &mut Vec<TokenTotals>, token: Address, price: U256) {
        Self::merge(
            totals,
            &TokenTotals {
                payment_token: token,
                volume: price,
                sales: 1,
            },
        );
    }

    /// Adds `other` into `totals` (kept sorted by token).
    pub fn merge(totals: &mut Vec<TokenTotals>, other: &TokenTotals) {
        match totals.binary_search_by(|t| t.payment_token.cmp(&other.payment_token)) {
            Ok(i) => {
                totals[i].volume = totals[i].volume.saturating_add(other.volume);
                totals[i].sales += other.sales;
            }
            Err(i) => totals.insert(i, other.clone()),
        }
    }
}

/// Counters of one collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStats {
    /// `{chainId}:{contract}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The NFT contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Tokens minted and not burned (tracked for the indexed NFT contract only).
    pub supply: i64,
    /// Distinct accounts holding at least one token.
    pub owners: i64,
    /// Active fixed-price listings.
    pub listed: i64,
    /// Live auctions (accepting bids or waiting for settlement).
    pub on_auction: i64,
    /// All-time volume and sales per payment token, sorted by token.
    pub totals: Vec<TokenTotals>,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl CollectionStats {
    /// The id of a collection's stats.
    pub fn id_for(chain_id: u64, contract: &Address) -> String {
        format!("{chain_id}:{}", codec::address_key(contract))
    }

    /// Empty counters for `contract`.
    pub fn empty(chain_id: u64, contract: Address) -> Self {
        Self {
            id: Self::id_for(chain_id, &contract),
            chain_id: chain_id as i64,
            contract,
            supply: 0,
            owners: 0,
            listed: 0,
            on_auction: 0,
            totals: Vec::new(),
            updated_block: 0,
        }
    }
}

/// Sales of one collection in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleBucket {
    /// `{chainId}:{contract}:{hour}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The NFT contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Start of the hour, unix seconds.
    pub hour: i64,
    /// Volume and sales per payment token, sorted by token.
    pub totals: Vec<TokenTotals>,
}

impl SaleBucket {
    /// The start of the hour holding `timestamp`.
    pub fn hour_of(timestamp: i64) -> i64 {
        timestamp - timestamp.rem_euclid(BUCKET_SECONDS)
    }

    /// The id of a collection's bucket for the hour holding `timestamp`.
    pub fn id_for(chain_id: u64, contract: &Address, timestamp: i64) -> String {
        format!(
            "{chain_id}:{}:{}",
            codec::address_key(contract),
            Self::hour_of(timestamp)
        )
    }

    /// An empty bucket for the hour holding `timestamp`.
    pub fn empty(chain_id: u64, contract: Address, timestamp: i64) -> Self {
        Self {
            id: Self::id_for(chain_id, &contract, timestamp),
            chain_id: chain_id as i64,
            contract,
            hour: Self::hour_of(timestamp),
            totals: Vec::new(),
        }
    }
}

/// How many tokens of a collection one account holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holding {
    /// `{chainId}:{contract}:{owner}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The NFT contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// The holder.
    #[serde(with = "codec::address")]
    pub owner: Address,
    /// Tokens held (always at least 1: a holding that reaches 0 is deleted).
    pub count: i64,
}

impl Holding {
    /// The id of an account's holding in a collection.
    pub fn id_for(chain_id: u64, contract: &Address, owner: &Address) -> String {
        format!(
            "{chain_id}:{}:{}",
            codec::address_key(contract),
            codec::address_key(owner)
        )
    }
}

/// Everything [`CollectionStatsRepository::recount`] derives for one chain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsRecount {
    /// Per-collection counters, by id.
    pub stats: BTreeMap<String, CollectionStats>,
    /// Hourly sale buckets, by id.
    pub buckets: BTreeMap<String, SaleBucket>,
    /// Holdings, by id.
    pub holdings: BTreeMap<String, Holding>,
}

/// Collection stats, sale buckets and holdings.
#[derive(Debug, Clone)]
pub struct CollectionStatsRepository {
    db: Database,
    stats: Collection<CollectionStats>,
    buckets: Collection<SaleBucket>,
    holdings: Collection<Holding>,
}

impl CollectionStatsRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            db: db.clone(),
            stats: db.collection(CollectionStats::COLLECTION),
            buckets: db.collection(SaleBucket::COLLECTION),
            holdings: db.collection(Holding::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.buckets,
            vec![index(
                "chain_contract_hour",
                doc! { "chainId": 1, "contract": 1, "hour": -1 },
                false,
            )],
        )
        .await?;
        create_indexes(
            &self.holdings,
            vec![index(
                "chain_owner_contract",
                doc! { "chainId": 1, "owner": 1, "contract": 1 },
                false,
            )],
        )
        .await
    }

    /// The counters of one collection (`None`: nothing of it was ever indexed).
    pub async fn get(&self, chain_id: u64, contract: &Address) -> Result<Option<CollectionStats>> {
        find_by_id(&self.stats, &CollectionStats::id_for(chain_id, contract)).await
    }

    /// Volume and sales per payment token in the buckets from the hour holding `since` on (the
    /// window is `now - since` rounded up to whole hours).
    pub async fn totals_since(
        &self,
        chain_id: u64,
        contract: &Address,
        since: i64,
    ) -> Result<Vec<TokenTotals>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "contract": codec::address_key(contract),
            "hour": { "$gte": SaleBucket::hour_of(since) },
        };
        let mut cursor = self.buckets.find(filter).await?;
        let mut totals = Vec::new();
        while let Some(bucket) = cursor.try_next().await? {
            for t in &bucket.totals {
                TokenTotals::merge(&mut totals, t);
            }
        }
        Ok(totals)
    }

    /// How many tokens of `contract` `owner` holds.
    pub async fn holding(&self, chain_id: u64, contract: &Address, owner: &Address) -> Result<i64> {
        Ok(
            find_by_id(&self.holdings, &Holding::id_for(chain_id, contract, owner))
                .await?
                .map_or(0, |h| h.count),
        )
    }

    /// Derives every stats document of `chain_id` from the projections (NFTs, active listings,
    /// live auctions, sales) in one pass over each.
    pub async fn recount(&self, chain_id: u64) -> Result<StatsRecount> {
        let chain = chain_id as i64;
        let mut out = StatsRecount::default();
        fn stats_of(
            out: &mut StatsRecount,
            chain_id: u64,
            contract: Address,
        ) -> &mut CollectionStats {
            out.stats
                .entry(CollectionStats::id_for(chain_id, &contract))
                .or_insert_with(|| CollectionStats::empty(chain_id, contract))
        }
        let nfts: Vec<Nft> = collect(
            self.db
                .collection::<Nft>(Nft::COLLECTION)
                .find(doc! { "chainId": chain })
                .await?,
        )
        .await?;
        for nft in &nfts {
            let block = nft.updated_block;
            let stats = stats_of(&mut out, chain_id, nft.contract);
            stats.updated_block = stats.updated_block.max(block);
            if nft.owner == Address::ZERO {
                continue;
            }
            stats.supply += 1;
            let id = Holding::id_for(chain_id, &nft.contract, &nft.owner);
            let holding = out.holdings.entry(id.clone()).or_insert_with(|| Holding {
                id,
                chain_id: chain,
                contract: nft.contract,
                owner: nft.owner,
                count: 0,
            });
            holding.count += 1;
            if holding.count == 1 {
                stats_of(&mut out, chain_id, nft.contract).owners += 1;
            }
        }
        let listings: Vec<Listing> = collect(
            self.db
                .collection::<Listing>(Listing::COLLECTION)
                .find(doc! { "chainId": chain, "status": ListingStatus::Active.as_str() })
                .await?,
        )
        .await?;
        for listing in &listings {
            let stats = stats_of(&mut out, chain_id, listing.nft);
            stats.listed += 1;
            stats.updated_block = stats.updated_block.max(listing.updated_block);
        }
        let auctions: Vec<Auction> = collect(
            self.db
                .collection::<Auction>(Auction::COLLECTION)
                .find(doc! { "chainId": chain, "status": AuctionStatus::Live.as_str() })
                .await?,
        )
        .await?;
        for auction in &auctions {
            let stats = stats_of(&mut out, chain_id, auction.nft);
            stats.on_auction += 1;
            stats.updated_block = stats.updated_block.max(auction.updated_block);
        }
        let sales: Vec<Sale> = collect(
            self.db
                .collection::<Sale>(Sale::COLLECTION)
                .find(doc! { "chainId": chain })
                .await?,
        )
        .await?;
        for sale in &sales {
            let stats = stats_of(&mut out, chain_id, sale.nft);
            TokenTotals::add_sale(&mut stats.totals, sale.payment_token, sale.price);
            stats.updated_block = stats.updated_block.max(sale.block_number);
            let bucket = out
                .buckets
                .entry(SaleBucket::id_for(chain_id, &sale.nft, sale.timestamp))
                .or_insert_with(|| SaleBucket::empty(chain_id, sale.nft, sale.timestamp));
            TokenTotals::add_sale(&mut bucket.totals, sale.payment_token, sale.price);
        }
        Ok(out)
    }

    /// Replaces every stats document of each chain with data in the projections by a
    /// [`recount`](Self::recount) (for data indexed before these collections existed).
    pub async fn rebuild_all(&self) -> Result<()> {
        let chains = self
            .db
            .collection::<Nft>(Nft::COLLECTION)
            .distinct("chainId", doc! {})
            .await?;
        for chain in chains.iter().filter_map(|c| c.as_i64()) {
            let chain_id = chain as u64;
            let recount = self.recount(chain_id).await?;
            self.clear(chain_id, None).await?;
            if !recount.stats.is_empty() {
                self.stats.insert_many(recount.stats.values()).await?;
            }
            if !recount.buckets.is_empty() {
                self.buckets.insert_many(recount.buckets.values()).await?;
            }
            if !recount.holdings.is_empty() {
                self.holdings.insert_many(recount.holdings.values()).await?;
            }
        }
        Ok(())
    }

    /// Deletes the stats documents of `chain_id` (before a rebuild from raw events).
    pub async fn clear(
        &self,
        chain_id: u64,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        clear_chain(&self.stats, chain_id, session.as_deref_mut()).await?;
        clear_chain(&self.buckets, chain_id, session.as_deref_mut()).await?;
        clear_chain(&self.holdings, chain_id, session).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_on_the_hour() {
        assert_eq!(SaleBucket::hour_of(7_199), 3_600);
        assert_eq!(SaleBucket::hour_of(7_200), 7_200);
        assert_eq!(SaleBucket::hour_of(0), 0);
    }

    #[test]
    fn totals_stay_sorted_by_token_and_sum_per_token() {
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let mut totals = Vec::new();
        TokenTotals::add_sale(&mut totals, b, U256::from(5));
        TokenTotals::add_sale(&mut totals, a, U256::from(7));
        TokenTotals::add_sale(&mut totals, b, U256::from(1));
        assert_eq!(
            totals,
            vec![
                TokenTotals {
                    payment_token: a,
                    volume: U256::from(7),
                    sales: 1
                },
                TokenTotals {
                    payment_token: b,
                    volume: U256::from(6),
                    sales: 2
                },
            ]
        );
    }
}
