//! Relayer jobs: meta-transactions accepted for submission, and their life.
//!
//! Collection `relay_jobs`: `_id` = job id; unique `{ chainId, forwarder, from, nonce }` so one
//! signed request is never queued twice. Shard key `{ _id: "hashed" }`: jobs are read by id (status
//! polls) and scanned by status, signer (the relayer's lanes) and sender (intake's nonce and
//! quota checks), which indexes serve. Those queries name their index (`hint`): the planner
//! would otherwise race the other compound indexes on every call.
//!
//! A job also records the relayer's side: the relayer account (`signer`) chosen at intake, the
//! account nonce it was given (`signerNonce`, exactly one per job, never changed), the latest
//! signed transaction for that nonce (`attempt`, written before it is broadcast, so a restarted
//! relayer can re-send it) and the receipt once mined.

use super::{collect, create_indexes, in_session, index};
use crate::{
    codec,
    error::{Result, StoreError},
};
use alloy::primitives::{Address, B256, U256};
use bson::{DateTime, Document, doc};
use mongodb::{
    ClientSession, Collection, Database,
    options::{Hint, ReturnDocument},
};
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

/// What a job submits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayJobKind {
    /// An ERC-2771 `ForwardRequest`, sent through `Forwarder.execute`.
    #[default]
    Forward,
    /// A governor `castVoteBySig`, sent to the governor directly.
    Vote,
    /// A token `delegateBySig`, sent to the token directly.
    Delegate,
    /// A governor `queue` or `execute` of a passed proposal, sent by the governance keeper.
    Governance,
}

impl RelayJobKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Vote => "vote",
            Self::Delegate => "delegate",
            Self::Governance => "governance",
        }
    }
}

/// The latest signed transaction of a job, stored before it is broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxAttempt {
    /// Transaction hash.
    #[serde(with = "codec::b256")]
    pub hash: B256,
    /// The signed transaction (EIP-2718 bytes), hex: re-sent as is after a restart.
    pub raw: String,
    /// `maxFeePerGas`, wei.
    #[serde(with = "codec::u256")]
    pub max_fee_per_gas: U256,
    /// `maxPriorityFeePerGas`, wei.
    #[serde(with = "codec::u256")]
    pub max_priority_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: i64,
    /// Chain head when it was signed (a transaction not mined some blocks later is replaced).
    pub sent_block: i64,
    /// True for a no-op (0-value self-transfer) that fills the nonce of a job that will not run.
    pub noop: bool,
}

/// What the receipt of a mined job said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptSummary {
    /// Execution status (false: reverted).
    pub success: bool,
    /// Hash of the block that holds it.
    #[serde(with = "codec::b256")]
    pub block_hash: B256,
    /// Gas used.
    pub gas_used: i64,
    /// Price paid per gas, wei.
    #[serde(with = "codec::u256")]
    pub effective_gas_price: U256,
    /// True when the mined transaction was a no-op filler rather than the job's call.
    pub noop: bool,
}

/// A light view of a sender's job, for intake's nonce and quota checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SenderJob {
    /// Job id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Contract whose nonce the request uses.
    #[serde(with = "codec::address")]
    pub forwarder: Address,
    /// The request's nonce.
    #[serde(with = "codec::u256")]
    pub nonce: U256,
    /// Gas the request allows.
    pub gas: i64,
    /// State.
    pub status: RelayJobStatus,
    /// Relayer account chosen for it.
    #[serde(default, with = "codec::option_address")]
    pub signer: Option<Address>,
    /// Created.
    pub created_at: DateTime,
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
    /// Contract whose nonce the request uses: the forwarder for forward requests, the governor
    /// for votes, the token for delegations (the unique index is per nonce space).
    #[serde(with = "codec::address")]
    pub forwarder: Address,
    /// Signer of the request.
    #[serde(with = "codec::address")]
    pub from: Address,
    /// Target contract.
    #[serde(with = "codec::address")]
    pub to: Address,
    /// Nonce of `from` in `forwarder`'s nonce space.
    #[serde(with = "codec::u256")]
    pub nonce: U256,
    /// Gas the request allows.
    pub gas: i64,
    /// Deadline, seconds.
    pub deadline: i64,
    /// Call data, hex: the forwarded call (forward requests) or the whole call to `to` (votes,
    /// delegations).
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
    /// What the job submits.
    #[serde(default)]
    pub kind: RelayJobKind,
    /// The latest signed transaction for `signer_nonce`.
    #[serde(default)]
    pub attempt: Option<TxAttempt>,
    /// The receipt, once mined.
    #[serde(default)]
    pub receipt: Option<ReceiptSummary>,
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
                index(
                    "claim",
                    doc! { "chainId": 1, "signer": 1, "status": 1, "createdAt": 1, "nonce": 1 },
                    false,
                ),
                index(
                    "by_sender",
                    doc! { "chainId": 1, "from": 1, "createdAt": 1 },
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

    /// Stores several new jobs in one write (one commit for all: the relayer's intake groups
    /// concurrent requests this way). Returns, per job, true when stored and false when its
    /// signed request was already queued (duplicate key); any other failure fails the call.
    pub async fn insert_batch(&self, jobs: &[RelayJob]) -> Result<Vec<bool>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        match self.collection.insert_many(jobs).ordered(false).await {
            Ok(_) => Ok(vec![true; jobs.len()]),
            Err(e) => {
                let mut stored = vec![true; jobs.len()];
                let duplicates_only = match e.kind.as_ref() {
                    mongodb::error::ErrorKind::InsertMany(failure)
                        if failure.write_concern_error.is_none() =>
                    {
                        let errors = failure.write_errors.as_deref().unwrap_or_default();
                        for w in errors {
                            if let Some(slot) = stored.get_mut(w.index) {
                                *slot = false;
                            }
                        }
                        !errors.is_empty() && errors.iter().all(|w| w.code == 11000)
                    }
                    _ => false,
                };
                if duplicates_only {
                    Ok(stored)
                } else {
                    Err(e.into())
                }
            }
        }
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
        self.transition_with(None, id, expected, next, change).await
    }

    /// [`Self::transition`] inside a transaction.
    pub async fn transition_in(
        &self,
        session: &mut ClientSession,
        id: &str,
        expected: RelayJobStatus,
        next: RelayJobStatus,
        change: JobChange,
    ) -> Result<RelayJob> {
        self.transition_with(Some(session), id, expected, next, change)
            .await
    }

    async fn transition_with(
        &self,
        session: Option<&mut ClientSession>,
        id: &str,
        expected: RelayJobStatus,
        next: RelayJobStatus,
        change: JobChange,
    ) -> Result<RelayJob> {
        let update = change.update(next)?;
        let action = self
            .collection
            .find_one_and_update(doc! { "_id": id, "status": expected.as_str() }, update)
            .return_document(ReturnDocument::After);
        in_session!(action, session)?.ok_or_else(|| StoreError::StateConflict {
            entity: "relay job",
            id: id.to_string(),
            expected: expected.as_str().into(),
        })
    }

    /// A sender's jobs created since `since` or not yet final, oldest first (intake counts its
    /// quota and its next nonce from them).
    pub async fn sender_activity(
        &self,
        chain_id: u64,
        from: &Address,
        since: DateTime,
    ) -> Result<Vec<SenderJob>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "from": codec::address_key(from),
            "$or": [
                { "createdAt": { "$gte": since } },
                { "status": { "$in": ["queued", "submitted", "mined"] } },
            ],
        };
        let projection = doc! {
            "_id": 1, "forwarder": 1, "nonce": 1, "gas": 1, "status": 1, "signer": 1, "createdAt": 1,
        };
        collect(
            self.collection
                .clone_with_type::<SenderJob>()
                .find(filter)
                .projection(projection)
                .sort(doc! { "createdAt": 1 })
                .hint(Hint::Name("by_sender".into()))
                .await?,
        )
        .await
    }

    /// Queued jobs bound to relayer account `signer`, in the order they must be sent (creation,
    /// then request nonce).
    pub async fn claimable(
        &self,
        chain_id: u64,
        signer: &Address,
        limit: u32,
    ) -> Result<Vec<RelayJob>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "signer": codec::address_key(signer),
            "status": RelayJobStatus::Queued.as_str(),
        };
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "createdAt": 1, "nonce": 1 })
                .limit(super::page_size(limit))
                .hint(Hint::Name("claim".into()))
                .await?,
        )
        .await
    }

    /// Jobs of relayer account `signer` holding one of its nonces and not yet final
    /// (submitted or mined), by that nonce.
    pub async fn open_for_signer(&self, chain_id: u64, signer: &Address) -> Result<Vec<RelayJob>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "signer": codec::address_key(signer),
            "status": { "$in": ["submitted", "mined"] },
        };
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "signerNonce": 1 })
                .hint(Hint::Name("claim".into()))
                .await?,
        )
        .await
    }

    /// Queued jobs of `from` in the same nonce space with a nonce above `nonce` (they can never
    /// run once `nonce` will not be used).
    pub async fn queued_after(
        &self,
        chain_id: u64,
        forwarder: &Address,
        from: &Address,
        nonce: &U256,
    ) -> Result<Vec<RelayJob>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "forwarder": codec::address_key(forwarder),
            "from": codec::address_key(from),
            "nonce": { "$gt": codec::u256_key(nonce) },
            "status": RelayJobStatus::Queued.as_str(),
        };
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "nonce": 1 })
                .hint(Hint::Name("request".into()))
                .await?,
        )
        .await
    }

    /// The job of a signed request, if one was stored.
    pub async fn find_request(
        &self,
        chain_id: u64,
        forwarder: &Address,
        from: &Address,
        nonce: &U256,
    ) -> Result<Option<RelayJob>> {
        Ok(self
            .collection
            .find_one(doc! {
                "chainId": chain_id as i64,
                "forwarder": codec::address_key(forwarder),
                "from": codec::address_key(from),
                "nonce": codec::u256_key(nonce),
            })
            .await?)
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
    /// Replace the latest signed transaction.
    pub attempt: Option<TxAttempt>,
    /// The receipt summary.
    pub receipt: Option<ReceiptSummary>,
    /// Forget the mined transaction, block and receipt (its block was reorganised away).
    pub unmined: bool,
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

    /// Records a newly signed transaction: it becomes the latest attempt and its hash is
    /// appended to the hashes tried.
    pub fn attempt(mut self, attempt: TxAttempt) -> Self {
        self.add_tx_hash = Some(attempt.hash);
        self.attempt = Some(attempt);
        self
    }

    /// Records the receipt summary.
    pub fn receipt(mut self, receipt: ReceiptSummary) -> Self {
        self.receipt = Some(receipt);
        self
    }

    /// Forgets the mined transaction (a reorg removed its block).
    pub fn unmined(mut self) -> Self {
        self.unmined = true;
        self
    }

    /// The update document for a move to `next`.
    fn update(self, next: RelayJobStatus) -> Result<Document> {
        let mut set = doc! { "status": next.as_str(), "updatedAt": DateTime::now() };
        if let Some(signer) = self.signer {
            set.insert("signer", codec::address_key(&signer));
        }
        if let Some(nonce) = self.signer_nonce {
            set.insert("signerNonce", nonce);
        }
        if let Some(hash) = self.mined_tx {
            set.insert("minedTx", format!("{hash:#x}"));
        }
        if let Some(block) = self.mined_block {
            set.insert("minedBlock", block);
        }
        if let Some(error) = self.error {
            set.insert("error", error);
        }
        if let Some(attempt) = &self.attempt {
            set.insert("attempt", bson::to_bson(attempt)?);
        }
        if let Some(receipt) = &self.receipt {
            set.insert("receipt", bson::to_bson(receipt)?);
        }
        let mut update = doc! { "$set": set };
        if let Some(hash) = self.add_tx_hash {
            update.insert("$push", doc! { "txHashes": format!("{hash:#x}") });
        }
        if self.unmined {
            update.insert(
                "$unset",
                doc! { "minedTx": "", "minedBlock": "", "receipt": "" },
            );
        }
        Ok(update)
    }
}
