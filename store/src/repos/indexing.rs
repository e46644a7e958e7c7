//! Indexer support collections: dead letters (logs that could not be decoded) and the
//! projection undo log (prior versions of projection documents, kept for the blocks a reorg
//! may still replace).
//!
//! Collections `dead_letters` (`_id` = event id; shard key `{ chainId: 1, blockNumber: 1 }`) and
//! `projection_undo` (`_id` = `{chainId}:{block}:{collection}:{docId}`; shard key
//! `{ chainId: 1, block: 1 }`, read by block ranges on rollback).

use super::{collect, create_indexes, index};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256};
use bson::{Document, doc};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// A log the indexer could not decode, kept with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The event id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Block number.
    pub block_number: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
    /// Log index.
    pub log_index: i64,
    /// Emitting contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// Topics, hex.
    pub topics: Vec<String>,
    /// Data, hex.
    pub data: String,
    /// Why it could not be decoded.
    pub reason: String,
}

/// Dead letters.
#[derive(Debug, Clone)]
pub struct DeadLetterRepository {
    collection: Collection<DeadLetter>,
}

impl DeadLetterRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("dead_letters"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index(
                "chain_block",
                doc! { "chainId": 1, "blockNumber": 1 },
                false,
            )],
        )
        .await
    }

    /// Records dead letters inside a transaction (replacing same-id records).
    pub async fn put_in(&self, session: &mut ClientSession, letters: &[DeadLetter]) -> Result<()> {
        for letter in letters {
            self.collection
                .replace_one(doc! { "_id": &letter.id }, letter)
                .upsert(true)
                .session(&mut *session)
                .await?;
        }
        Ok(())
    }

    /// Dead letters of a chain, in chain order.
    pub async fn list(&self, chain_id: u64) -> Result<Vec<DeadLetter>> {
        collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64 })
                .sort(doc! { "blockNumber": 1, "logIndex": 1 })
                .await?,
        )
        .await
    }

    /// Number of dead letters of a chain.
    pub async fn count(&self, chain_id: u64) -> Result<u64> {
        Ok(self
            .collection
            .count_documents(doc! { "chainId": chain_id as i64 })
            .await?)
    }

    /// Deletes those above `block` (reorg rollback).
    pub async fn delete_above(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        block: u64,
    ) -> Result<()> {
        self.collection
            .delete_many(
                doc! { "chainId": chain_id as i64, "blockNumber": { "$gt": block as i64 } },
            )
            .session(session)
            .await?;
        Ok(())
    }
}

/// The version of one projection document before a block changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoRecord {
    /// `{chainId}:{block}:{collection}:{docId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The block whose events changed the document.
    pub block: i64,
    /// Projection collection.
    pub collection: String,
    /// Document id.
    pub doc_id: String,
    /// The document before; `None` when the block created it.
    pub prior: Option<Document>,
}

impl UndoRecord {
    /// An undo record.
    pub fn new(
        chain_id: u64,
        block: u64,
        collection: &str,
        doc_id: &str,
        prior: Option<Document>,
    ) -> Self {
        Self {
            id: format!("{chain_id}:{block}:{collection}:{doc_id}"),
            chain_id: chain_id as i64,
            block: block as i64,
            collection: collection.to_string(),
            doc_id: doc_id.to_string(),
            prior,
        }
    }
}

/// The projection undo log.
#[derive(Debug, Clone)]
pub struct UndoRepository {
    collection: Collection<UndoRecord>,
}

impl UndoRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("projection_undo"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index(
                "chain_block",
                doc! { "chainId": 1, "block": 1 },
                false,
            )],
        )
        .await
    }

    /// Stores undo records inside a transaction.
    pub async fn put_in(&self, session: &mut ClientSession, records: &[UndoRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        self.collection
            .delete_many(doc! { "_id": { "$in": ids } })
            .session(&mut *session)
            .await?;
        self.collection
            .insert_many(records)
            .session(&mut *session)
            .await?;
        Ok(())
    }

    /// Undo records of blocks above `block`, newest block first.
    pub async fn above_in(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        block: u64,
    ) -> Result<Vec<UndoRecord>> {
        let cursor = self
            .collection
            .find(doc! { "chainId": chain_id as i64, "block": { "$gt": block as i64 } })
            .sort(doc! { "block": -1 })
            .session(&mut *session)
            .await?;
        super::collect_in(cursor, session).await
    }

    /// The lowest block that still has undo records.
    pub async fn oldest_block(&self, chain_id: u64) -> Result<Option<u64>> {
        Ok(self
            .collection
            .find_one(doc! { "chainId": chain_id as i64 })
            .sort(doc! { "block": 1 })
            .await?
            .map(|r| r.block as u64))
    }

    /// Deletes records above `block` (after they were applied).
    pub async fn delete_above(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        block: u64,
    ) -> Result<()> {
        self.collection
            .delete_many(doc! { "chainId": chain_id as i64, "block": { "$gt": block as i64 } })
            .session(session)
            .await?;
        Ok(())
    }

    /// Forgets records of blocks at or below `block` (final beyond any reorg handled).
    pub async fn prune_through(&self, chain_id: u64, block: u64) -> Result<u64> {
        Ok(self
            .collection
            .delete_many(doc! { "chainId": chain_id as i64, "block": { "$lte": block as i64 } })
            .await?
            .deleted_count)
    }

    /// Deletes every record of a chain.
    pub async fn clear(&self, chain_id: u64) -> Result<()> {
        self.collection
            .delete_many(doc! { "chainId": chain_id as i64 })
            .await?;
        Ok(())
    }
}

/// Replaces whole projection documents in `collection` inside a transaction: the ids in
/// `deleted` are removed, every document in `upserts` (each with its `_id`) is written as given.
/// Used by the indexer's batched projection writes; delete-then-insert keeps it to two round
/// trips per collection whatever the batch size.
pub async fn replace_documents_in(
    db: &Database,
    session: &mut ClientSession,
    collection: &str,
    upserts: Vec<Document>,
    deleted: Vec<String>,
) -> Result<()> {
    let coll = db.collection::<Document>(collection);
    let mut ids: Vec<bson::Bson> = deleted.into_iter().map(bson::Bson::String).collect();
    for d in &upserts {
        if let Some(id) = d.get("_id") {
            ids.push(id.clone());
        }
    }
    if !ids.is_empty() {
        for chunk in ids.chunks(10_000) {
            coll.delete_many(doc! { "_id": { "$in": chunk } })
                .session(&mut *session)
                .await?;
        }
    }
    if !upserts.is_empty() {
        coll.insert_many(upserts).session(&mut *session).await?;
    }
    Ok(())
}

/// Loads documents of `collection` by id inside a transaction.
pub async fn load_documents_in(
    db: &Database,
    session: &mut ClientSession,
    collection: &str,
    filter: Document,
) -> Result<Vec<Document>> {
    let cursor = db
        .collection::<Document>(collection)
        .find(filter)
        .session(&mut *session)
        .await?;
    super::collect_in(cursor, session).await
}
