//! Key versions per purpose (the key ring) and the hash-chained audit of every signature.
//!
//! - `key_versions`: `_id` = `{purpose}:{version}` (version zero-padded, so ids sort by
//!   version); one document per key version with its backend reference, public identity,
//!   state and the times it changed state. Shard key `{ _id: "hashed" }` (a ring is tiny).
//! - `key_audit`: append-only; `_id` = the entry's sequence number, each entry carrying the
//!   hash of the previous one, so an edited or deleted entry breaks the chain. Two writers
//!   racing for the same sequence number cannot both insert it (unique `_id`); the loser
//!   re-reads the head and retries. Shard key `{ _id: 1 }`.

use super::{collect, create_indexes, index};
use crate::{
    codec,
    error::{Result, StoreError},
};
use alloy::primitives::Address;
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Collection of key versions.
pub const KEY_VERSIONS: &str = "key_versions";
/// Collection of the signing audit.
pub const KEY_AUDIT: &str = "key_audit";

/// Lifecycle of a key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyState {
    /// Signs (or encrypts) new material.
    Active,
    /// Still verifies (or decrypts) what it made, until its overlap window ends.
    VerifyOnly,
    /// Trusted for nothing; kept for the record.
    Retired,
    /// Its key material is gone.
    Destroyed,
}

impl KeyState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::VerifyOnly => "verify-only",
            Self::Retired => "retired",
            Self::Destroyed => "destroyed",
        }
    }
}

/// One version of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    /// `{purpose}:{version:06}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// What the key is for (`session-token`, ...).
    pub purpose: String,
    /// 1, 2, ...
    pub version: i64,
    /// Where the key lives (`local`, `pkcs11`, `aws-kms`, `gcp-kms`).
    pub backend: String,
    /// The backend's reference to it (keystore file name, key label, KMS key id).
    pub key_ref: String,
    /// The address of its secp256k1 public key (the token `kid`).
    #[serde(with = "codec::address")]
    pub address: Address,
    /// The uncompressed public key, hex (`04 ‖ x ‖ y`), for the JWKS.
    pub public_key: String,
    /// Its state.
    pub state: KeyState,
    /// Created, unix seconds.
    pub created_at: i64,
    /// Became active, unix seconds.
    pub activated_at: i64,
    /// End of its verify-only overlap window, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_until: Option<i64>,
    /// Retired, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

impl KeyVersion {
    /// The id of a version.
    pub fn id_for(purpose: &str, version: i64) -> String {
        format!("{purpose}:{version:06}")
    }
}

/// One signature in the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Sequence number, from 1.
    #[serde(rename = "_id")]
    pub seq: i64,
    /// Hash of the previous entry (64 zeros for the first).
    pub prev: String,
    /// SHA-256 over `prev` and this entry's fields.
    pub hash: String,
    /// Key purpose.
    pub purpose: String,
    /// Key version that signed.
    pub version: i64,
    /// What was signed (hex digest).
    pub digest: String,
    /// Who asked (account, service).
    pub caller: String,
    /// The request, session or job it belongs to.
    pub reference: String,
    /// When, unix milliseconds.
    pub at_ms: i64,
}

impl AuditEntry {
    /// The hash an entry with these fields must carry after `prev`.
    pub fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.prev.as_str(),
            &self.seq.to_string(),
            &self.purpose,
            &self.version.to_string(),
            &self.digest,
            &self.caller,
            &self.reference,
            &self.at_ms.to_string(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// What a signature to audit is (the chain fields are added on append).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Key purpose.
    pub purpose: String,
    /// Key version.
    pub version: i64,
    /// Digest signed, hex.
    pub digest: String,
    /// Who asked.
    pub caller: String,
    /// Request, session or job.
    pub reference: String,
    /// When, unix milliseconds.
    pub at_ms: i64,
}

/// The first broken link of an audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// A sequence number is missing (an entry was deleted).
    Missing {
        /// The missing sequence number.
        seq: i64,
    },
    /// The entry's fields do not hash to its stored hash (it was edited).
    Edited {
        /// The edited entry.
        seq: i64,
    },
    /// The entry does not point at its predecessor's hash (entries were replaced).
    Unlinked {
        /// The entry whose `prev` is wrong.
        seq: i64,
    },
}

/// A duplicate key on inserting version `id` means another instance created it first.
fn exists_already(e: mongodb::error::Error, id: &str) -> StoreError {
    if crate::error::is_duplicate_key(&e) {
        StoreError::StateConflict {
            entity: "key version",
            id: id.to_string(),
            expected: "absent".into(),
        }
    } else {
        e.into()
    }
}

/// Key versions and the signing audit.
#[derive(Debug, Clone)]
pub struct KeyRingRepository {
    versions: Collection<KeyVersion>,
    audit: Collection<AuditEntry>,
}

/// Attempts at appending to the audit chain before giving up (each loss means another writer
/// appended meanwhile).
const AUDIT_APPEND_ATTEMPTS: usize = 64;

impl KeyRingRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            versions: db.collection(KEY_VERSIONS),
            audit: db.collection(KEY_AUDIT),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.versions,
            vec![index(
                "purpose_version",
                doc! { "purpose": 1, "version": 1 },
                true,
            )],
        )
        .await?;
        create_indexes(
            &self.audit,
            vec![index("purpose_at", doc! { "purpose": 1, "atMs": 1 }, false)],
        )
        .await
    }

    /// Every version of `purpose`, oldest first.
    pub async fn ring(&self, purpose: &str) -> Result<Vec<KeyVersion>> {
        collect(
            self.versions
                .find(doc! { "purpose": purpose })
                .sort(doc! { "version": 1 })
                .await?,
        )
        .await
    }

    /// Adds `fresh` as the active version and moves the previous active one (`previous`, if
    /// any) to verify-only until `verify_until`, inside `session`'s transaction: if another
    /// instance rotated meanwhile, `StateConflict` is returned (and the transaction aborts).
    pub async fn rotate_in(
        &self,
        session: &mut ClientSession,
        fresh: &KeyVersion,
        previous: Option<&KeyVersion>,
        verify_until: i64,
    ) -> Result<()> {
        if let Some(previous) = previous {
            let moved = self
                .versions
                .update_one(
                    doc! { "_id": &previous.id, "state": KeyState::Active.as_str() },
                    doc! { "$set": { "state": KeyState::VerifyOnly.as_str(), "verifyUntil": verify_until } },
                )
                .session(&mut *session)
                .await?;
            if moved.matched_count == 0 {
                return Err(StoreError::StateConflict {
                    entity: "key version",
                    id: previous.id.clone(),
                    expected: KeyState::Active.as_str().into(),
                });
            }
        }
        self.versions
            .insert_one(fresh)
            .session(&mut *session)
            .await
            .map_err(|e| exists_already(e, &fresh.id))?;
        Ok(())
    }

    /// Records the first version of a ring (`StateConflict` when another instance did first).
    pub async fn create_first(&self, fresh: &KeyVersion) -> Result<()> {
        self.versions
            .insert_one(fresh)
            .await
            .map_err(|e| exists_already(e, &fresh.id))?;
        Ok(())
    }

    /// Moves version `id` from verify-only to retired at `now`; false when it was not
    /// verify-only.
    pub async fn retire(&self, id: &str, now: i64) -> Result<bool> {
        let moved = self
            .versions
            .update_one(
                doc! { "_id": id, "state": KeyState::VerifyOnly.as_str() },
                doc! { "$set": { "state": KeyState::Retired.as_str(), "retiredAt": now } },
            )
            .await?;
        Ok(moved.modified_count == 1)
    }

    /// Appends `record` to the audit chain; the entry as stored.
    pub async fn audit(&self, record: AuditRecord) -> Result<AuditEntry> {
        let mut entries = self.audit_many(vec![record]).await?;
        entries.pop().ok_or_else(|| StoreError::StateConflict {
            entity: "audit chain",
            id: "head".into(),
            expected: "one entry appended".into(),
        })
    }

    /// Appends `records` to the audit chain as consecutive entries (one read of the head, one
    /// ordered insert); the entries as stored. When another writer appended meanwhile, the
    /// first insert hits its sequence number, nothing is written, and the append is retried on
    /// the new head.
    pub async fn audit_many(&self, records: Vec<AuditRecord>) -> Result<Vec<AuditEntry>> {
        let mut pending: &[AuditRecord] = &records;
        let mut appended = Vec::with_capacity(records.len());
        for _ in 0..AUDIT_APPEND_ATTEMPTS {
            if pending.is_empty() {
                return Ok(appended);
            }
            let head = self
                .audit
                .find_one(doc! {})
                .sort(doc! { "_id": -1 })
                .await?;
            let (mut seq, mut prev) = match head {
                Some(h) => (h.seq + 1, h.hash),
                None => (1, "0".repeat(64)),
            };
            let mut entries = Vec::with_capacity(pending.len());
            for record in pending {
                let mut entry = AuditEntry {
                    seq,
                    prev: prev.clone(),
                    hash: String::new(),
                    purpose: record.purpose.clone(),
                    version: record.version,
                    digest: record.digest.clone(),
                    caller: record.caller.clone(),
                    reference: record.reference.clone(),
                    at_ms: record.at_ms,
                };
                entry.hash = entry.expected_hash();
                prev = entry.hash.clone();
                seq += 1;
                entries.push(entry);
            }
            match self.audit.insert_many(&entries).ordered(true).await {
                Ok(_) => {
                    appended.extend(entries);
                    return Ok(appended);
                }
                Err(e) if crate::error::is_duplicate_key(&e) => {
                    // Another writer took a sequence number: keep what went in before it (an
                    // ordered insert stops at the first failure) and chain the rest on the
                    // new head.
                    let inserted = match e.kind.as_ref() {
                        mongodb::error::ErrorKind::InsertMany(f) => f
                            .write_errors
                            .as_ref()
                            .and_then(|w| w.iter().map(|e| e.index).min())
                            .unwrap_or(0),
                        _ => 0,
                    };
                    pending = pending.get(inserted..).unwrap_or_default();
                    appended.extend(entries.into_iter().take(inserted));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::StateConflict {
            entity: "audit chain",
            id: "head".into(),
            expected: "stable while appending".into(),
        })
    }

    /// Walks the whole chain in order; the number of entries and the first break, if any.
    pub async fn verify_audit(&self) -> Result<(u64, Option<ChainBreak>)> {
        use futures_util::TryStreamExt;
        let mut cursor = self.audit.find(doc! {}).sort(doc! { "_id": 1 }).await?;
        let (mut expected_seq, mut prev, mut count) = (1_i64, "0".repeat(64), 0u64);
        while let Some(entry) = cursor.try_next().await? {
            if entry.seq != expected_seq {
                return Ok((count, Some(ChainBreak::Missing { seq: expected_seq })));
            }
            if entry.prev != prev {
                return Ok((count, Some(ChainBreak::Unlinked { seq: entry.seq })));
            }
            if entry.expected_hash() != entry.hash {
                return Ok((count, Some(ChainBreak::Edited { seq: entry.seq })));
            }
            prev = entry.hash;
            expected_seq += 1;
            count += 1;
        }
        Ok((count, None))
    }

    /// Audit entries from `from_ms` (inclusive) to `to_ms` (exclusive), in order.
    pub async fn audit_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<AuditEntry>> {
        collect(
            self.audit
                .find(doc! { "atMs": { "$gte": from_ms, "$lt": to_ms } })
                .sort(doc! { "_id": 1 })
                .await?,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            prev: prev.to_string(),
            hash: String::new(),
            purpose: "session-token".into(),
            version: 1,
            digest: "ab".repeat(32),
            caller: "0xabc".into(),
            reference: "sid".into(),
            at_ms: 1_700_000_000_000,
        };
        e.hash = e.expected_hash();
        e
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = entry(1, &"0".repeat(64));
        let mut changed = base.clone();
        changed.caller = "0xabd".into();
        assert_ne!(changed.expected_hash(), base.hash);
        let mut moved = base.clone();
        moved.seq = 2;
        assert_ne!(moved.expected_hash(), base.hash);
        // Field boundaries count: "ab" + "c" differs from "a" + "bc".
        let mut a = base.clone();
        a.caller = "ab".into();
        a.reference = "c".into();
        let mut b = base;
        b.caller = "a".into();
        b.reference = "bc".into();
        assert_ne!(a.expected_hash(), b.expected_hash());
    }
}
