//! NFTs (owner, URI, royalty) and their transfer history.
//!
//! Collection `nfts`: `_id` = `{chainId}:{contract}:{tokenId}`; shard key
//! `{ chainId: 1, contract: 1, tokenId: 1 }` (the token page reads one NFT; by-owner pages use the
//! `owner` index). A token's transfer history is read from its activity stream (the `mint` and
//! `transfer` items, which hold every field of a transfer): before schema version 5 it was kept
//! a second time in `nft_transfers`, a document per transfer that cost every mint a write.

use super::{
    Activity, Page, Projection, clear_chain, collect, create_indexes, find_by_id, index, page_size,
    replace_by_id,
};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256, U256};
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// One NFT as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nft {
    /// `{chainId}:{contract}:{tokenId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Collection contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// Current owner.
    #[serde(with = "codec::address")]
    pub owner: Address,
    /// Metadata URI.
    pub token_uri: String,
    /// Account approved for this token (cleared on transfer).
    #[serde(with = "codec::option_address")]
    pub approved: Option<Address>,
    /// Royalty receiver for this token (`None`: the collection default or none).
    #[serde(with = "codec::option_address")]
    pub royalty_receiver: Option<Address>,
    /// Royalty in basis points.
    pub royalty_bps: i32,
    /// Block it was minted in.
    pub minted_block: i64,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Nft {
    /// The id of a token.
    pub fn id_for(chain_id: u64, contract: &Address, token_id: &U256) -> String {
        format!("{chain_id}:{}:{token_id}", codec::address_key(contract))
    }
}

/// Whether `operator` may move every token `owner` holds in `contract` (ERC-721
/// `setApprovalForAll`). Collection `nft_operator_approvals`, `_id` =
/// `{chainId}:{contract}:{owner}:{operator}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorApproval {
    /// `{chainId}:{contract}:{owner}:{operator}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Collection contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Token owner.
    #[serde(with = "codec::address")]
    pub owner: Address,
    /// Operator.
    #[serde(with = "codec::address")]
    pub operator: Address,
    /// Approved or not.
    pub approved: bool,
}

impl OperatorApproval {
    /// The id of an approval.
    pub fn id_for(
        chain_id: u64,
        contract: &Address,
        owner: &Address,
        operator: &Address,
    ) -> String {
        format!(
            "{chain_id}:{}:{}:{}",
            codec::address_key(contract),
            codec::address_key(owner),
            codec::address_key(operator)
        )
    }
}

/// One transfer of an NFT (read from the activity stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NftTransfer {
    /// The event id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Collection contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// Sender (zero for a mint).
    #[serde(with = "codec::address")]
    pub from: Address,
    /// Recipient.
    #[serde(with = "codec::address")]
    pub to: Address,
    /// Block number.
    pub block_number: i64,
    /// Log index.
    pub log_index: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
}

/// The ids of `contract`'s tokens lie strictly between these two (ids are
/// `{chainId}:{contract}:{tokenId}`; `;` follows `:`): a collection is read on the `_id` index,
/// with no second index restating it on every mint.
fn collection_id_range(chain_id: u64, contract: &Address) -> (String, String) {
    let prefix = format!("{chain_id}:{}", codec::address_key(contract));
    (format!("{prefix}:"), format!("{prefix};"))
}

/// NFTs, and their transfers as the activity stream records them.
#[derive(Debug, Clone)]
pub struct NftRepository {
    nfts: Collection<Nft>,
    activity: Collection<Activity>,
}

/// The collection that kept transfers before schema version 5 (dropped by migration 5).
pub(crate) const LEGACY_TRANSFERS: &str = "nft_transfers";

impl NftRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            nfts: db.collection(Nft::COLLECTION),
            activity: db.collection(Activity::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.nfts,
            vec![index(
                "chain_owner",
                doc! { "chainId": 1, "owner": 1, "_id": 1 },
                false,
            )],
        )
        .await
    }

    /// Stores the NFT as given (insert or replace).
    pub async fn upsert(&self, nft: &Nft, session: Option<&mut ClientSession>) -> Result<()> {
        replace_by_id(&self.nfts, nft, session).await
    }

    /// One NFT.
    pub async fn get(
        &self,
        chain_id: u64,
        contract: &Address,
        token_id: &U256,
    ) -> Result<Option<Nft>> {
        find_by_id(&self.nfts, &Nft::id_for(chain_id, contract, token_id)).await
    }

    /// NFTs owned by `owner`, in id order, `limit` per page after `cursor`.
    pub async fn by_owner(
        &self,
        chain_id: u64,
        owner: &Address,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Nft>> {
        let mut filter = doc! { "chainId": chain_id as i64, "owner": codec::address_key(owner) };
        if let Some(after) = cursor {
            filter.insert("_id", doc! { "$gt": after });
        }
        let limit = page_size(limit);
        let items = collect(
            self.nfts
                .find(filter)
                .sort(doc! { "_id": 1 })
                .limit(limit)
                .await?,
        )
        .await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|n| n.id.clone()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// NFTs of `contract` (optionally of one owner), in id order, `limit` per page after
    /// `cursor` (an NFT id).
    pub async fn in_collection(
        &self,
        chain_id: u64,
        contract: &Address,
        owner: Option<&Address>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Nft>> {
        let (first, end) = collection_id_range(chain_id, contract);
        let after = cursor.filter(|c| *c > first.as_str()).unwrap_or(&first);
        let mut filter = doc! { "_id": { "$gt": after, "$lt": end } };
        if let Some(owner) = owner {
            filter.insert("owner", codec::address_key(owner));
        }
        collect(
            self.nfts
                .find(filter)
                .sort(doc! { "_id": 1 })
                .limit(page_size(limit))
                .await?,
        )
        .await
    }

    /// The NFTs of `ids`, in the order of `ids` (missing ones left out).
    pub async fn by_ids(&self, ids: &[String]) -> Result<Vec<Nft>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<Nft> =
            collect(self.nfts.find(doc! { "_id": { "$in": ids } }).await?).await?;
        let mut by_id: std::collections::HashMap<String, Nft> =
            found.into_iter().map(|n| (n.id.clone(), n)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Number of distinct owners of `contract`'s tokens.
    pub async fn owner_count(&self, chain_id: u64, contract: &Address) -> Result<u64> {
        let (first, end) = collection_id_range(chain_id, contract);
        let owners = self
            .nfts
            .distinct("owner", doc! { "_id": { "$gt": first, "$lt": end } })
            .await?;
        Ok(owners.len() as u64)
    }

    /// True when at least one token of `contract` is indexed.
    pub async fn collection_exists(&self, chain_id: u64, contract: &Address) -> Result<bool> {
        let (first, end) = collection_id_range(chain_id, contract);
        Ok(self
            .nfts
            .find_one(doc! { "_id": { "$gt": first, "$lt": end } })
            .await?
            .is_some())
    }

    /// Transfer history of one token, oldest first: its `mint` and `transfer` activity items
    /// (on the activity's token index).
    pub async fn history(
        &self,
        chain_id: u64,
        contract: &Address,
        token_id: &U256,
    ) -> Result<Vec<NftTransfer>> {
        let cursor = self
            .activity
            .find(doc! {
                "chainId": chain_id as i64,
                "contract": codec::address_key(contract),
                "tokenId": codec::u256_key(token_id),
                "kind": { "$in": ["mint", "transfer"] },
            })
            .sort(doc! { "seq": 1 })
            .await?;
        let items: Vec<Activity> = collect(cursor).await?;
        Ok(items
            .into_iter()
            .map(|a| NftTransfer {
                chain_id: a.chain_id,
                contract: *contract,
                token_id: *token_id,
                from: a.from.unwrap_or(Address::ZERO),
                to: a.to.unwrap_or(Address::ZERO),
                block_number: a.block_number,
                log_index: a.seq % super::activity::SEQ_PER_BLOCK,
                tx_hash: a.tx_hash,
                id: a.id,
            })
            .collect())
    }

    /// Deletes the NFTs of `chain_id` (before a rebuild from raw events).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.nfts, chain_id, session).await
    }
}
