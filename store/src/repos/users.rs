//! Wallet users, Sign-In with Ethereum nonces and sessions.
//!
//! Collections `users` (`_id` = address; shard key `{ _id: "hashed" }`), `siwe_nonces` and
//! `sessions` (`_id` = random id; shard key `{ _id: "hashed" }`; TTL indexes drop expired
//! documents).

use super::{create_indexes, index};
use crate::{codec, error::Result};
use alloy::primitives::Address;
use bson::{DateTime, doc};
use mongodb::{Collection, Database, IndexModel, options::IndexOptions};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A wallet user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Lowercase address.
    #[serde(rename = "_id")]
    pub id: String,
    /// First sign-in.
    pub created_at: DateTime,
    /// Latest sign-in.
    pub last_seen_at: DateTime,
}

/// Users.
#[derive(Debug, Clone)]
pub struct UserRepository {
    collection: Collection<User>,
}

impl UserRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection("users"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index("by_last_seen", doc! { "lastSeenAt": -1 }, false)],
        )
        .await
    }

    /// Records a sign-in by `address` (creating the user on first sight).
    pub async fn seen(&self, address: &Address) -> Result<User> {
        let now = DateTime::now();
        let id = codec::address_key(address);
        self.collection
            .update_one(
                doc! { "_id": &id },
                doc! { "$set": { "lastSeenAt": now }, "$setOnInsert": { "createdAt": now } },
            )
            .upsert(true)
            .await?;
        self.collection
            .find_one(doc! { "_id": &id })
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt {
                collection: "users",
                message: "upserted user missing".into(),
            })
    }

    /// One user.
    pub async fn get(&self, address: &Address) -> Result<Option<User>> {
        Ok(self
            .collection
            .find_one(doc! { "_id": codec::address_key(address) })
            .await?)
    }
}

/// A single-use SIWE nonce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiweNonce {
    /// The nonce.
    #[serde(rename = "_id")]
    pub id: String,
    /// When it stops being accepted.
    pub expires_at: DateTime,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Session id (carried in the token).
    #[serde(rename = "_id")]
    pub id: String,
    /// The wallet.
    #[serde(with = "codec::address")]
    pub address: Address,
    /// Issued.
    pub created_at: DateTime,
    /// Expires.
    pub expires_at: DateTime,
    /// Revoked by logout.
    pub revoked: bool,
}

/// SIWE nonces and sessions.
#[derive(Debug, Clone)]
pub struct SessionRepository {
    nonces: Collection<SiweNonce>,
    sessions: Collection<Session>,
}

impl SessionRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            nonces: db.collection("siwe_nonces"),
            sessions: db.collection("sessions"),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        let ttl = |name: &str| {
            IndexModel::builder()
                .keys(doc! { "expiresAt": 1 })
                .options(
                    IndexOptions::builder()
                        .name(name.to_string())
                        .expire_after(Duration::from_secs(0))
                        .build(),
                )
                .build()
        };
        create_indexes(&self.nonces, vec![ttl("ttl")]).await?;
        create_indexes(
            &self.sessions,
            vec![
                ttl("ttl"),
                index("by_address", doc! { "address": 1 }, false),
            ],
        )
        .await
    }

    /// Stores a fresh nonce valid for `ttl`.
    pub async fn issue_nonce(&self, nonce: &str, ttl: Duration) -> Result<()> {
        let expires_at =
            DateTime::from_millis(DateTime::now().timestamp_millis() + ttl.as_millis() as i64);
        self.nonces
            .insert_one(SiweNonce {
                id: nonce.to_string(),
                expires_at,
            })
            .await?;
        Ok(())
    }

    /// Consumes `nonce`: true exactly once, and only before it expires.
    pub async fn consume_nonce(&self, nonce: &str) -> Result<bool> {
        let deleted = self
            .nonces
            .find_one_and_delete(doc! { "_id": nonce, "expiresAt": { "$gt": DateTime::now() } })
            .await?;
        Ok(deleted.is_some())
    }

    /// Stores a new session.
    pub async fn create(&self, session: &Session) -> Result<()> {
        self.sessions.insert_one(session).await?;
        Ok(())
    }

    /// The session if it exists, is not revoked and has not expired.
    pub async fn active(&self, id: &str) -> Result<Option<Session>> {
        Ok(self
            .sessions
            .find_one(doc! { "_id": id, "revoked": false, "expiresAt": { "$gt": DateTime::now() } })
            .await?)
    }

    /// Revokes a session (logout). True if it was active.
    pub async fn revoke(&self, id: &str) -> Result<bool> {
        let result = self
            .sessions
            .update_one(
                doc! { "_id": id, "revoked": false },
                doc! { "$set": { "revoked": true } },
            )
            .await?;
        Ok(result.modified_count == 1)
    }

    /// Revokes every active session of `address` (sign out everywhere). How many it ended.
    pub async fn revoke_all(&self, address: &Address) -> Result<u64> {
        let result = self
            .sessions
            .update_many(
                doc! { "address": codec::address_key(address), "revoked": false },
                doc! { "$set": { "revoked": true } },
            )
            .await?;
        Ok(result.modified_count)
    }
}
