//! Relayer jobs: meta-transactions accepted for submission, and their life.
//!
//! Collection `relay_jobs`: `_id` = job id; unique `{ chainId, forwarder, from, nonce }` so one
//! signed request is never queued twice. Shard key `{ _id: "hashed" }`: jobs are read by id (status
//! polls) and scanned by status, which an index serves.

use super::{collect, create_indexes, index};
use crate::{
    codec,
    error::{Result, StoreError},
};
use alloy::primitives::{Address, B256, U256};
use bson::{DateTime, doc};
use mongodb::{Collection, Database, options::ReturnDocument};
use serde::{Deserialize, Serialize};

/// A job's state: queued → submitted → mined → confirmed, or failed / expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayJobStatus {
    /// Stored, not yet sent.
    Queued,
    /// Sent at least once.
    Submitted,
    /// Included in a block.
    Mined,
    /// Past the confirmation depth.
    Confirmed,
    /// Will not be sent (reason recorded).
    Failed,
    /// Deadline passed before it was mined.
    Expired,
}

impl RelayJobStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Submitted => "submitted",
            Self::Mined => "mined",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// True for states a job never leaves.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Confirmed | Self::Failed | Self::Expired)
    }
}

/// One meta-transaction job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayJob {
    /// Job id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Forwarder contract.
    #[serde(with = "codec::address")]
    pub forwarder: Address,
    /// Signer of the request.
    #[serde(with = "codec::address")]
    pub from: Address,
    /// Target contract.
    #[serde(with = "codec::address")]
    pub to: Address,
    /// Forwarder nonce of `from`.
    #[serde(with = "codec::u256")]
    pub nonce: U256,
    /// Gas the request allows.
    pub gas: i64,
    /// Deadline, seconds.
    pub deadline: i64,
    /// Call data, hex.
    pub data: String,
    /// EIP-712 signature, hex.
    pub signature: String,
    /// State.
    pub status: RelayJobStatus,
    /// Relayer account that sends it, once assigned.
    #[serde(with = "codec::option_address")]
    pub signer: Option<Address>,
    /// Nonce of the relayer account used for it.
    pub signer_nonce: Option<i64>,
    /// Every transaction hash tried, in order.
    pub tx_hashes: Vec<String>,
    /// Hash of the mined transaction.
    pub mined_tx: Option<String>,
    /// Block it was mined in.
    pub mined_block: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: DateTime,
    /// Last change.
    pub updated_at: DateTime,
}

/// Relayer jobs.
#[derive(Debug, Clone)]
pub struct RelayJobRepository {
    collection: Collection<RelayJob>,
}

impl RelayJobRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("relay_jobs"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "request",
                    doc! { "chainId": 1, "forwarder": 1, "from": 1, "nonce": 1 },
                    true,
                ),
                index("by_status", doc! { "status": 1, "createdAt": 1 }, false),
                index(
                    "by_signer_nonce",
                    doc! { "signer": 1, "signerNonce": 1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// Stores a new job. A second job for the same signed request fails with a duplicate-key
    /// error (`StoreError::is_duplicate_key`).
    pub async fn insert(&self, job: &RelayJob) -> Result<()> {
        self.collection.insert_one(job).await?;
        Ok(())
    }

    /// One job.
    pub async fn get(&self, id: &str) -> Result<Option<RelayJob>> {
        Ok(self.collection.find_one(doc! { "_id": id }).await?)
    }

    /// The oldest jobs in `status`.
    pub async fn oldest_in(&self, status: RelayJobStatus, limit: u32) -> Result<Vec<RelayJob>> {
        let limit = super::page_size(limit);
        collect(
            self.collection
                .find(doc! { "status": status.as_str() })
                .sort(doc! { "createdAt": 1 })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Jobs not yet final for `from` (to count queued nonces).
    pub async fn pending_for(
        &self,
        chain_id: u64,
        forwarder: &Address,
        from: &Address,
    ) -> Result<Vec<RelayJob>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "forwarder": codec::address_key(forwarder),
            "from": codec::address_key(from),
            "status": { "$in": ["queued", "submitted"] },
        };
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "nonce": 1 })
                .await?,
        )
        .await
    }

    /// Number of jobs in `status`.
    pub async fn count_in(&self, status: RelayJobStatus) -> Result<u64> {
        Ok(self
            .collection
            .count_documents(doc! { "status": status.as_str() })
            .await?)
    }

    /// Moves job `id` from `expected` to `next`, atomically (compare-and-set), applying `change`.
    /// Fails with `StateConflict` when the job is not in `expected` (another worker moved it).
    pub async fn transition(
        &self,
        id: &str,
        expected: RelayJobStatus,
        next: RelayJobStatus,
        change: JobChange,
    ) -> Result<RelayJob> {
        let mut set = doc! { "status": next.as_str(), "updatedAt": DateTime::now() };
        if let Some(signer) = change.signer {
            set.insert("signer", codec::address_key(&signer));
        }
        if let Some(nonce) = change.signer_nonce {
            set.insert("signerNonce", nonce);
        }
        if let Some(hash) = change.mined_tx {
            set.insert("minedTx", format!("{hash:#x}"));
        }
        if let Some(block) = change.mined_block {
            set.insert("minedBlock", block);
        }
        if let Some(error) = change.error {
            set.insert("error", error);
        }
        let mut update = doc! { "$set": set };
        if let Some(hash) = change.add_tx_hash {
            update.insert("$push", doc! { "txHashes": format!("{hash:#x}") });
        }
        self.collection
            .find_one_and_update(doc! { "_id": id, "status": expected.as_str() }, update)
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| StoreError::StateConflict {
                entity: "relay job",
                id: id.to_string(),
                expected: expected.as_str().into(),
            })
    }
}

/// Fields a state transition may set.
#[derive(Debug, Clone, Default)]
pub struct JobChange {
    /// Assign a relayer account.
    pub signer: Option<Address>,
    /// Assign its nonce.
    pub signer_nonce: Option<i64>,
    /// Append a transaction hash tried.
    pub add_tx_hash: Option<B256>,
    /// The mined transaction.
    pub mined_tx: Option<B256>,
    /// Its block.
    pub mined_block: Option<i64>,
    /// Failure reason.
    pub error: Option<String>,
}

impl JobChange {
    /// Assigns a relayer account.
    pub fn signer(mut self, signer: Address) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Assigns the relayer account's nonce.
    pub fn signer_nonce(mut self, nonce: i64) -> Self {
        self.signer_nonce = Some(nonce);
        self
    }

    /// Appends a transaction hash tried.
    pub fn tx(mut self, hash: B256) -> Self {
        self.add_tx_hash = Some(hash);
        self
    }

    /// Records the mined transaction and block.
    pub fn mined(mut self, hash: B256, block: i64) -> Self {
        self.mined_tx = Some(hash);
        self.mined_block = Some(block);
        self
    }

    /// Records why the job failed.
    pub fn error(mut self, reason: impl Into<String>) -> Self {
        self.error = Some(reason.into());
        self
    }
}
