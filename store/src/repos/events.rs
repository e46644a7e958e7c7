//! Raw chain events: every decoded log, written idempotently.
//!
//! Collection `chain_events`. `_id` = `{chainId}:{txHash}:{logIndex}` is the uniqueness
//! guarantee (no second unique index: it would cost every insert and could not be kept on a
//! collection sharded by block). Shard key `{ chainId: 1, blockNumber: 1 }`: the main queries
//! are block ranges (replay, reorg rollback); an event's id always lands in its block's chunk.

use super::{collect, collect_in, create_indexes, in_session, index};
use crate::{
    codec,
    error::{Result, is_duplicate_key},
};
use alloy::primitives::{Address, B256};
use bson::{Document, doc};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Collection name.
pub(crate) const COLLECTION: &str = "chain_events";

/// One decoded log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainEvent {
    /// `{chainId}:{txHash}:{logIndex}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Block number.
    pub block_number: i64,
    /// Block hash.
    #[serde(with = "codec::b256")]
    pub block_hash: B256,
    /// Block timestamp, seconds.
    pub block_timestamp: i64,
    /// Transaction hash.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
    /// Log index within the block.
    pub log_index: i64,
    /// Emitting contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Event name (`ListingCreated`).
    pub name: String,
    /// Log topics, hex (kept so projections can be rebuilt without refetching).
    pub topics: Vec<String>,
    /// Log data, hex.
    pub data: String,
    /// Decoded fields (addresses and integers as strings, in the codec's forms).
    pub fields: Document,
}

impl ChainEvent {
    /// The unique id of a log.
    pub fn id_for(chain_id: u64, tx_hash: &B256, log_index: u64) -> String {
        format!("{chain_id}:{tx_hash:#x}:{log_index}")
    }
}

/// Raw chain events.
#[derive(Debug, Clone)]
pub struct ChainEventRepository {
    collection: Collection<ChainEvent>,
}

impl ChainEventRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "chain_block",
                    doc! { "chainId": 1, "blockNumber": 1, "logIndex": 1 },
                    false,
                ),
                index(
                    "chain_contract_name",
                    doc! { "chainId": 1, "contract": 1, "name": 1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// Inserts events outside a transaction; events already stored are skipped. Returns how many
    /// were new. This is the fast path for bulk loads.
    pub async fn insert_many(&self, events: &[ChainEvent]) -> Result<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        match self.collection.insert_many(events).ordered(false).await {
            Ok(result) => Ok(result.inserted_ids.len() as u64),
            Err(e) if is_duplicate_key(&e) => {
                let duplicates = match e.kind.as_ref() {
                    mongodb::error::ErrorKind::InsertMany(f) => {
                        f.write_errors.as_ref().map(|w| w.len()).unwrap_or(0)
                    }
                    _ => 0,
                };
                Ok((events.len() - duplicates) as u64)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores events of final blocks outside a transaction, idempotently: new ones are inserted
    /// in one unordered bulk write; ones already stored (left by an interrupted run) are
    /// replaced by these. The indexer's backfill writes raw events this way, concurrently with
    /// the transaction that moves the checkpoint over them once this has returned.
    pub async fn put_final(&self, events: &[ChainEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let failure = match self.collection.insert_many(events).ordered(false).await {
            Ok(_) => return Ok(()),
            Err(e) if is_duplicate_key(&e) => e,
            Err(e) => return Err(e.into()),
        };
        let duplicates: Vec<usize> = match failure.kind.as_ref() {
            mongodb::error::ErrorKind::InsertMany(f) => {
                f.write_errors.iter().flatten().map(|w| w.index).collect()
            }
            _ => (0..events.len()).collect(),
        };
        for event in duplicates.into_iter().filter_map(|i| events.get(i)) {
            self.collection
                .replace_one(doc! { "_id": &event.id }, event)
                .upsert(true)
                .await?;
        }
        Ok(())
    }

    /// Inserts the events not yet stored, inside `session`'s transaction (a duplicate-key error
    /// would abort the transaction, so existing ids are looked up first). Returns the new ones.
    pub async fn insert_new_in(
        &self,
        session: &mut ClientSession,
        events: &[ChainEvent],
    ) -> Result<Vec<ChainEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let existing = self
            .collection
            .clone_with_type::<Document>()
            .find(doc! { "_id": { "$in": &ids } })
            .projection(doc! { "_id": 1 })
            .session(&mut *session)
            .await?;
        let existing: HashSet<String> = collect_in(existing, session)
            .await?
            .into_iter()
            .filter_map(|d| d.get_str("_id").ok().map(str::to_string))
            .collect();
        let fresh: Vec<ChainEvent> = events
            .iter()
            .filter(|e| !existing.contains(&e.id))
            .cloned()
            .collect();
        if !fresh.is_empty() {
            self.collection
                .insert_many(&fresh)
                .session(&mut *session)
                .await?;
        }
        Ok(fresh)
    }

    /// Makes `events` the only stored events of `chain_id` from block `from` upward, inside
    /// `session`'s transaction: whatever is stored there (left by an interrupted backfill, or by
    /// a block since replaced) is deleted first, then `events` are inserted. Two round trips.
    pub async fn replace_from_block_in(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        from: u64,
        events: &[ChainEvent],
    ) -> Result<()> {
        self.collection
            .delete_many(
                doc! { "chainId": chain_id as i64, "blockNumber": { "$gte": from as i64 } },
            )
            .session(&mut *session)
            .await?;
        if !events.is_empty() {
            self.collection
                .insert_many(events)
                .session(&mut *session)
                .await?;
        }
        Ok(())
    }

    /// Events of `chain_id` in blocks `from..=to`, in chain order.
    pub async fn in_blocks(&self, chain_id: u64, from: u64, to: u64) -> Result<Vec<ChainEvent>> {
        let cursor = self
            .collection
            .find(doc! { "chainId": chain_id as i64, "blockNumber": { "$gte": from as i64, "$lte": to as i64 } })
            .sort(doc! { "blockNumber": 1, "logIndex": 1 })
            .await?;
        collect(cursor).await
    }

    /// One event by id.
    pub async fn get(&self, id: &str) -> Result<Option<ChainEvent>> {
        Ok(self.collection.find_one(doc! { "_id": id }).await?)
    }

    /// Deletes the events of blocks above `block` (reorg rollback). Returns how many.
    pub async fn delete_above(
        &self,
        chain_id: u64,
        block: u64,
        session: Option<&mut ClientSession>,
    ) -> Result<u64> {
        let action = self.collection.delete_many(
            doc! { "chainId": chain_id as i64, "blockNumber": { "$gt": block as i64 } },
        );
        Ok(in_session!(action, session)?.deleted_count)
    }

    /// Number of events emitted by `contract`.
    pub async fn count_for(&self, chain_id: u64, contract: &Address) -> Result<u64> {
        Ok(self
            .collection
            .count_documents(
                doc! { "chainId": chain_id as i64, "contract": codec::address_key(contract) },
            )
            .await?)
    }

    /// Number of events stored for `chain_id`.
    pub async fn count(&self, chain_id: u64) -> Result<u64> {
        Ok(self
            .collection
            .count_documents(doc! { "chainId": chain_id as i64 })
            .await?)
    }
}
