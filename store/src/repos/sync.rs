//! Indexer progress: checkpoints (block number + hash per stream) and recent block headers used
//! to detect reorgs.
//!
//! Collections `checkpoints` (`_id` = `{chainId}:{stream}`; shard key `{ _id: "hashed" }`, read by
//! id only) and `block_headers` (`_id` = `{chainId}:{number}`; shard key
//! `{ chainId: 1, number: 1 }`, read by number ranges).

use super::{create_indexes, in_session, index};
use crate::{
    codec,
    error::{Result, StoreError},
};
use alloy::primitives::B256;
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// Where one indexing stream has got to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// `{chainId}:{stream}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Stream name (`nest`).
    pub stream: String,
    /// Last fully processed block.
    pub block_number: i64,
    /// Its hash.
    #[serde(with = "codec::b256")]
    pub block_hash: B256,
    /// Its timestamp (seconds): the chain's clock as far as it is indexed.
    #[serde(default)]
    pub block_timestamp: i64,
}

impl Checkpoint {
    /// A checkpoint for `stream` on `chain_id`.
    pub fn new(chain_id: u64, stream: &str, block_number: u64, block_hash: B256) -> Self {
        Self {
            id: format!("{chain_id}:{stream}"),
            chain_id: chain_id as i64,
            stream: stream.to_string(),
            block_number: block_number as i64,
            block_hash,
            block_timestamp: 0,
        }
    }

    /// The same checkpoint with the block's timestamp.
    pub fn at(mut self, timestamp: u64) -> Self {
        self.block_timestamp = timestamp as i64;
        self
    }
}

/// Indexer checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointRepository {
    collection: Collection<Checkpoint>,
}

impl CheckpointRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("checkpoints"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index(
                "chain_stream",
                doc! { "chainId": 1, "stream": 1 },
                true,
            )],
        )
        .await
    }

    /// The checkpoint of `stream` on `chain_id`.
    pub async fn get(&self, chain_id: u64, stream: &str) -> Result<Option<Checkpoint>> {
        Ok(self
            .collection
            .find_one(doc! { "_id": format!("{chain_id}:{stream}") })
            .await?)
    }

    /// Records `checkpoint` (optionally inside a transaction).
    pub async fn set(
        &self,
        checkpoint: &Checkpoint,
        session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let action = self
            .collection
            .replace_one(doc! { "_id": &checkpoint.id }, checkpoint)
            .upsert(true);
        in_session!(action, session)?;
        Ok(())
    }

    /// Moves the checkpoint to `next` only if it still is at `previous` (`None`: no checkpoint
    /// yet), inside `session`'s transaction. A writer that lost the race gets
    /// [`StoreError::StateConflict`] and must re-read the checkpoint: a batch is never applied
    /// twice, even by two indexers on one stream.
    pub async fn advance(
        &self,
        session: &mut ClientSession,
        previous: Option<(u64, B256)>,
        next: &Checkpoint,
    ) -> Result<()> {
        let conflict = || StoreError::StateConflict {
            entity: "checkpoint",
            id: next.id.clone(),
            expected: match previous {
                Some((number, hash)) => format!("block {number} ({hash})"),
                None => "absent".into(),
            },
        };
        match previous {
            Some((number, hash)) => {
                let filter = doc! {
                    "_id": &next.id,
                    "blockNumber": number as i64,
                    "blockHash": format!("{hash:#x}"),
                };
                let result = self
                    .collection
                    .replace_one(filter, next)
                    .session(session)
                    .await?;
                if result.matched_count == 0 {
                    return Err(conflict());
                }
            }
            None => match self.collection.insert_one(next).session(session).await {
                Ok(_) => {}
                Err(e) if crate::error::is_duplicate_key(&e) => return Err(conflict()),
                Err(e) => return Err(e.into()),
            },
        }
        Ok(())
    }
}

/// A block header kept for reorg detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockHeader {
    /// `{chainId}:{number}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Block number.
    pub number: i64,
    /// Block hash.
    #[serde(with = "codec::b256")]
    pub hash: B256,
    /// Parent hash.
    #[serde(with = "codec::b256")]
    pub parent_hash: B256,
}

impl BlockHeader {
    /// A header record.
    pub fn new(chain_id: u64, number: u64, hash: B256, parent_hash: B256) -> Self {
        Self {
            id: format!("{chain_id}:{number}"),
            chain_id: chain_id as i64,
            number: number as i64,
            hash,
            parent_hash,
        }
    }
}

/// Recent block headers.
#[derive(Debug, Clone)]
pub struct BlockRepository {
    collection: Collection<BlockHeader>,
}

impl BlockRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("block_headers"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index(
                "chain_number",
                doc! { "chainId": 1, "number": 1 },
                true,
            )],
        )
        .await
    }

    /// Records (or replaces) headers.
    pub async fn put(
        &self,
        headers: &[BlockHeader],
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        for header in headers {
            let action = self
                .collection
                .replace_one(doc! { "_id": &header.id }, header)
                .upsert(true);
            in_session!(action, session.as_deref_mut())?;
        }
        Ok(())
    }

    /// The header stored for block `number`.
    pub async fn get(&self, chain_id: u64, number: u64) -> Result<Option<BlockHeader>> {
        Ok(self
            .collection
            .find_one(doc! { "_id": format!("{chain_id}:{number}") })
            .await?)
    }

    /// The highest stored header.
    pub async fn latest(&self, chain_id: u64) -> Result<Option<BlockHeader>> {
        Ok(self
            .collection
            .find_one(doc! { "chainId": chain_id as i64 })
            .sort(doc! { "number": -1 })
            .await?)
    }

    /// Forgets headers above `number` (after a reorg).
    pub async fn delete_above(
        &self,
        chain_id: u64,
        number: u64,
        session: Option<&mut ClientSession>,
    ) -> Result<u64> {
        let action = self
            .collection
            .delete_many(doc! { "chainId": chain_id as i64, "number": { "$gt": number as i64 } });
        Ok(in_session!(action, session)?.deleted_count)
    }

    /// Forgets headers below `number` (older than any reorg we handle).
    pub async fn prune_below(&self, chain_id: u64, number: u64) -> Result<u64> {
        Ok(self
            .collection
            .delete_many(doc! { "chainId": chain_id as i64, "number": { "$lt": number as i64 } })
            .await?
            .deleted_count)
    }
}
