//! Relayer accounts: who may send from each one (a lease) and its next transaction nonce.
//!
//! Collection `relay_signers`: `_id` = `{chainId}:{address}`; shard key `{ _id: "hashed" }` (read
//! and written by id only). One document per relayer account and chain:
//!
//! - **Lease**: `owner` (a relayer instance id) may send from the account until `leaseUntil`.
//!   Every acquisition raises `epoch`, a fencing token: an instance that lost its lease (paused,
//!   partitioned) can no longer reserve nonces, because reservations compare owner *and* epoch.
//! - **Nonce counter**: `nextNonce` is the account's next unreserved nonce. It only ever grows:
//!   a reservation takes a block of nonces in the same transaction that binds each of them to a
//!   job, so a nonce is never handed out twice, and never skipped while the store is the only
//!   writer. If the chain is ahead (the account was used elsewhere), the holder raises it.

use super::in_session;
use crate::{codec, error::Result};
use alloy::primitives::Address;
use bson::{DateTime, doc};
use mongodb::{ClientSession, Collection, Database, options::ReturnDocument};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One relayer account's lease and nonce counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerLease {
    /// `{chainId}:{address}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The relayer account.
    #[serde(with = "codec::address")]
    pub address: Address,
    /// Instance holding the lease (none before the first acquisition).
    pub owner: Option<String>,
    /// Fencing token, raised by every acquisition.
    pub epoch: i64,
    /// The lease ends then unless renewed.
    pub lease_until: DateTime,
    /// Next unreserved nonce.
    pub next_nonce: i64,
    /// Last change.
    pub updated_at: DateTime,
}

impl SignerLease {
    /// The id of an account's document.
    pub fn id_for(chain_id: u64, address: &Address) -> String {
        format!("{chain_id}:{}", codec::address_key(address))
    }
}

/// Relayer account leases and nonce counters.
#[derive(Debug, Clone)]
pub struct RelaySignerRepository {
    collection: Collection<SignerLease>,
}

fn after(ttl: Duration) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis() + ttl.as_millis() as i64)
}

impl RelaySignerRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("relay_signers"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        // Every query goes by `_id`.
        Ok(())
    }

    /// Takes the lease on `address` for `owner` if it is free, expired or already `owner`'s, for
    /// `ttl`, raising the epoch. `None` when another instance holds a live lease.
    pub async fn acquire(
        &self,
        chain_id: u64,
        address: &Address,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<SignerLease>> {
        let id = SignerLease::id_for(chain_id, address);
        let now = DateTime::now();
        // Create the document on first sight; a concurrent creator makes this a no-op.
        let created = self
            .collection
            .update_one(
                doc! { "_id": &id },
                doc! { "$setOnInsert": {
                    "chainId": chain_id as i64,
                    "address": codec::address_key(address),
                    "owner": bson::Bson::Null,
                    "epoch": 0_i64,
                    "leaseUntil": DateTime::from_millis(0),
                    "nextNonce": 0_i64,
                    "updatedAt": now,
                } },
            )
            .upsert(true)
            .await;
        match created {
            Ok(_) => {}
            Err(e) if crate::error::is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self
            .collection
            .find_one_and_update(
                doc! {
                    "_id": &id,
                    "$or": [ { "owner": owner }, { "leaseUntil": { "$lt": now } } ],
                },
                doc! {
                    "$set": { "owner": owner, "leaseUntil": after(ttl), "updatedAt": now },
                    "$inc": { "epoch": 1_i64 },
                },
            )
            .return_document(ReturnDocument::After)
            .await?)
    }

    /// Extends `owner`'s lease of epoch `epoch` by `ttl`. False when the lease was lost.
    pub async fn renew(
        &self,
        chain_id: u64,
        address: &Address,
        owner: &str,
        epoch: i64,
        ttl: Duration,
    ) -> Result<bool> {
        let result = self
            .collection
            .update_one(
                doc! { "_id": SignerLease::id_for(chain_id, address), "owner": owner, "epoch": epoch },
                doc! { "$set": { "leaseUntil": after(ttl), "updatedAt": DateTime::now() } },
            )
            .await?;
        Ok(result.matched_count == 1)
    }

    /// Gives the lease up at once (clean shutdown), so another instance need not wait for it to
    /// expire. False when it was not held.
    pub async fn release(
        &self,
        chain_id: u64,
        address: &Address,
        owner: &str,
        epoch: i64,
    ) -> Result<bool> {
        let result = self
            .collection
            .update_one(
                doc! { "_id": SignerLease::id_for(chain_id, address), "owner": owner, "epoch": epoch },
                doc! { "$set": { "leaseUntil": DateTime::from_millis(0), "updatedAt": DateTime::now() } },
            )
            .await?;
        Ok(result.matched_count == 1)
    }

    /// Reserves `count` consecutive nonces for the lease holder, inside `session` (the same
    /// transaction must bind each nonce to a job). Returns the first one, or `None` when
    /// `owner`/`epoch` no longer hold the lease.
    pub async fn reserve_nonces_in(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        address: &Address,
        owner: &str,
        epoch: i64,
        count: u64,
    ) -> Result<Option<u64>> {
        let action = self
            .collection
            .find_one_and_update(
                doc! { "_id": SignerLease::id_for(chain_id, address), "owner": owner, "epoch": epoch },
                doc! {
                    "$inc": { "nextNonce": count as i64 },
                    "$set": { "updatedAt": DateTime::now() },
                },
            )
            .return_document(ReturnDocument::Before);
        let before = in_session!(action, Some(session))?;
        Ok(before.map(|lease| lease.next_nonce as u64))
    }

    /// Raises the next nonce to at least `at_least` (the chain is ahead: the account was used
    /// outside the relayer). Returns the lease after the change, or `None` when not held.
    pub async fn raise_next_nonce(
        &self,
        chain_id: u64,
        address: &Address,
        owner: &str,
        epoch: i64,
        at_least: u64,
    ) -> Result<Option<SignerLease>> {
        let id = SignerLease::id_for(chain_id, address);
        self.collection
            .update_one(
                doc! { "_id": &id, "owner": owner, "epoch": epoch, "nextNonce": { "$lt": at_least as i64 } },
                doc! { "$set": { "nextNonce": at_least as i64, "updatedAt": DateTime::now() } },
            )
            .await?;
        Ok(self
            .collection
            .find_one(doc! { "_id": &id, "owner": owner, "epoch": epoch })
            .await?)
    }

    /// The account's document.
    pub async fn get(&self, chain_id: u64, address: &Address) -> Result<Option<SignerLease>> {
        Ok(self
            .collection
            .find_one(doc! { "_id": SignerLease::id_for(chain_id, address) })
            .await?)
    }
}
