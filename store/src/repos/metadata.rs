//! Token metadata: the durable resolution queue, the resolved documents, and the media they
//! point at.
//!
//! Collection `metadata_queue`: one job per token (`_id` = the NFT id), written in the same
//! transaction as the projection of the event that asked for it (a mint, an ERC-4906 update) or
//! by a refresh request. A worker leases a job (`leaseUntil`), resolves it, stores the outcome,
//! then deletes the job only if its `ticket` is unchanged: a job re-queued while it was being
//! resolved stays queued, and a worker killed mid-job leaves its lease to expire, so no request
//! is ever lost. Shard key `{ _id: "hashed" }` (jobs are claimed by due time, spread evenly).
//!
//! Collection `nft_metadata`: `_id` = the NFT id; the raw document, the parsed OpenSea fields,
//! the traits, the image's media id, the fetch time and the last error. Shard key
//! `{ chainId: 1, contract: 1, tokenId: 1 }` like `nfts` (trait filters run per collection).
//!
//! Collection `media`: `_id` = the SHA-256 of the (sanitised) bytes, so a URL naming it never
//! changes content. Shard key `{ _id: "hashed" }`.

use super::{Projection, collect, create_indexes, find_by_id, index, partial_index};
use crate::{codec, error::Result};
use alloy::primitives::{Address, U256};
use bson::{Bson, Document, doc, spec::BinarySubtype};
use mongodb::{ClientSession, Collection, Database, options::ReturnDocument};
use serde::{Deserialize, Serialize};

/// A pending resolution of one token's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataJob {
    /// The NFT id (`{chainId}:{contract}:{tokenId}`).
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
    /// The token URI to resolve.
    pub uri: String,
    /// Who queued it last (an event id, or `refresh:…`): completion deletes the job only if it
    /// still carries the ticket it was claimed with.
    pub ticket: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// Earliest next attempt, unix milliseconds.
    pub due_at: i64,
    /// A worker holds the job until then (unix milliseconds; 0: free).
    pub lease_until: i64,
}

impl MetadataJob {
    /// A fresh job, due at once.
    pub fn new(chain_id: u64, contract: Address, token_id: U256, uri: &str, ticket: &str) -> Self {
        Self {
            id: crate::Nft::id_for(chain_id, &contract, &token_id),
            chain_id: chain_id as i64,
            contract,
            token_id,
            uri: uri.to_string(),
            ticket: ticket.to_string(),
            attempts: 0,
            due_at: 0,
            lease_until: 0,
        }
    }
}

/// Where a token's metadata stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataState {
    /// Resolved and parsed.
    Resolved,
    /// Gave up (a permanent error, or retries exhausted): `error` says why.
    Failed,
}

impl MetadataState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Failed => "failed",
        }
    }
}

/// One trait (OpenSea `attributes` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trait {
    /// `trait_type` (empty when the entry had none).
    #[serde(rename = "type")]
    pub trait_type: String,
    /// The value, as text (numbers keep their JSON spelling).
    pub value: String,
    /// `display_type`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
}

/// The OpenSea metadata standard's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedMetadata {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `image` (as given; the served copy is `NftMetadata::image_media`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `animation_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animation_url: Option<String>,
    /// `external_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// `background_color` (six hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// `attributes`.
    #[serde(default)]
    pub attributes: Vec<Trait>,
}

/// Why a resolution failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataError {
    /// A stable reason code (`timeout`, `too_large`, `blocked_address`, `bad_json`, …).
    pub reason: String,
    /// Details for operators.
    pub message: String,
}

/// A token's resolved (or failed) metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NftMetadata {
    /// The NFT id.
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
    /// The URI that was resolved.
    pub uri: String,
    /// Resolved or failed.
    pub state: MetadataState,
    /// The document as fetched (text, capped by the resolver's size limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The parsed fields (kept from the last success when a later attempt fails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsed: Option<ParsedMetadata>,
    /// Traits as `"{type}\u{1f}{value}"`, indexed for filters (AND across types, OR within).
    #[serde(default)]
    pub trait_keys: Vec<String>,
    /// Lowercased words of the name and description, for full-text search (see
    /// [`search_terms`]).
    #[serde(default)]
    pub search_terms: Vec<String>,
    /// Lowercased name for prefix search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_lower: Option<String>,
    /// Media id (SHA-256 hex) of the sanitised image, when it could be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_media: Option<String>,
    /// When it was fetched, unix milliseconds.
    pub fetched_at: i64,
    /// The last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MetadataError>,
    /// Attempts the last resolution took.
    pub attempts: i32,
}

/// The words of `text` as the search index keeps them: lowercased alphanumeric runs of two or
/// more characters (or numbers of any length), each once, at most 64 per document.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 || w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(32).collect())
        .collect();
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms.truncate(64);
    terms
}

impl NftMetadata {
    /// The indexed key of one trait.
    pub fn trait_key(trait_type: &str, value: &str) -> String {
        format!("{trait_type}\u{1f}{value}")
    }
}

/// A stored image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// SHA-256 hex of `bytes`.
    pub id: String,
    /// `image/png`, `image/jpeg`, `image/gif`, `image/webp` or `image/svg+xml`.
    pub content_type: String,
    /// The bytes (SVG already sanitised).
    pub bytes: Vec<u8>,
}

/// The count of one trait value in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitCount {
    /// `trait_type`.
    pub trait_type: String,
    /// Value.
    pub value: String,
    /// Tokens with it.
    pub count: u64,
}

/// What to re-queue after an ERC-4906 `BatchMetadataUpdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRangeUpdate {
    /// Chain id.
    pub chain_id: u64,
    /// Collection contract.
    pub contract: Address,
    /// First token id.
    pub from: U256,
    /// Last token id (inclusive).
    pub to: U256,
    /// The ticket the re-queued jobs carry.
    pub ticket: String,
}

/// The queue, the resolved documents and the media.
#[derive(Debug, Clone)]
pub struct MetadataRepository {
    db: Database,
    jobs: Collection<MetadataJob>,
    docs: Collection<NftMetadata>,
    media: Collection<Document>,
}

impl Projection for MetadataJob {
    const COLLECTION: &'static str = "metadata_queue";
    fn id(&self) -> &str {
        &self.id
    }
}

impl Projection for NftMetadata {
    const COLLECTION: &'static str = "nft_metadata";
    fn id(&self) -> &str {
        &self.id
    }
}

/// Collection of stored images.
pub const MEDIA_COLLECTION: &str = "media";

/// The index trait filters walk: `{ chainId, contract, traitKeys, _id }` (per trait value, in id
/// order).
pub const TRAIT_INDEX: &str = "chain_contract_trait_id";

impl MetadataRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            db: db.clone(),
            jobs: db.collection(MetadataJob::COLLECTION),
            docs: db.collection(NftMetadata::COLLECTION),
            media: db.collection(MEDIA_COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.jobs,
            vec![index("due", doc! { "dueAt": 1, "leaseUntil": 1 }, false)],
        )
        .await?;
        create_indexes(
            &self.docs,
            vec![
                index(
                    "chain_contract_token",
                    doc! { "chainId": 1, "contract": 1, "tokenId": 1 },
                    true,
                ),
                index(
                    TRAIT_INDEX,
                    doc! { "chainId": 1, "contract": 1, "traitKeys": 1, "_id": 1 },
                    false,
                ),
                index(
                    "chain_search_terms",
                    doc! { "chainId": 1, "searchTerms": 1 },
                    false,
                ),
                partial_index(
                    "chain_name_prefix",
                    doc! { "chainId": 1, "nameLower": 1 },
                    doc! { "nameLower": { "$exists": true } },
                ),
            ],
        )
        .await
    }

    /// Queues `jobs` inside `session` (the projection's transaction), replacing any queued job
    /// of the same token: the newest request wins, its attempts start from zero.
    pub async fn enqueue_in(
        &self,
        session: &mut ClientSession,
        jobs: &[MetadataJob],
    ) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let docs = jobs
            .iter()
            .map(|j| Ok(bson::to_document(j)?))
            .collect::<Result<Vec<_>>>()?;
        let ids = jobs.iter().map(|j| j.id.clone()).collect();
        super::replace_documents_in(&self.db, session, MetadataJob::COLLECTION, docs, ids).await
    }

    /// Queues a job outside any transaction (a refresh request).
    pub async fn enqueue(&self, job: &MetadataJob) -> Result<()> {
        self.jobs
            .replace_one(doc! { "_id": &job.id }, job)
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Re-queues every resolved or failed token of `update`'s range (ERC-4906
    /// `BatchMetadataUpdate`) inside `session`, with the URI each was last resolved from.
    /// At most `cap` tokens (a range may be astronomically wide): returns how many.
    pub async fn requeue_range_in(
        &self,
        session: &mut ClientSession,
        update: &MetadataRangeUpdate,
        cap: i64,
    ) -> Result<u64> {
        let filter = doc! {
            "chainId": update.chain_id as i64,
            "contract": codec::address_key(&update.contract),
            "tokenId": { "$gte": codec::u256_key(&update.from), "$lte": codec::u256_key(&update.to) },
        };
        let cursor = self
            .docs
            .find(filter)
            .projection(doc! { "raw": 0, "parsed": 0, "traitKeys": 0 })
            .limit(cap)
            .session(&mut *session)
            .await?;
        let found: Vec<NftMetadata> = super::collect_in(cursor, session).await?;
        let jobs: Vec<MetadataJob> = found
            .iter()
            .map(|d| {
                MetadataJob::new(
                    d.chain_id as u64,
                    d.contract,
                    d.token_id,
                    &d.uri,
                    &update.ticket,
                )
            })
            .collect();
        self.enqueue_in(session, &jobs).await?;
        Ok(jobs.len() as u64)
    }

    /// Leases up to `limit` due jobs (due at or before `now_ms`, not leased) until
    /// `now_ms + lease_ms`, counting the attempt. One indexed query finds candidates; each is
    /// then taken by id under the same condition, so two workers never take the same job.
    pub async fn claim(&self, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<MetadataJob>> {
        let due = doc! { "dueAt": { "$lte": now_ms }, "leaseUntil": { "$lte": now_ms } };
        let candidates: Vec<Document> = collect(
            self.jobs
                .clone_with_type::<Document>()
                .find(due.clone())
                .projection(doc! { "_id": 1 })
                .limit(limit)
                .await?,
        )
        .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let Ok(id) = candidate.get_str("_id") else {
                continue;
            };
            // By id alone (plus the lease), so the server takes the `_id` index.
            let filter = doc! { "_id": id, "leaseUntil": { "$lte": now_ms } };
            let taken = self
                .jobs
                .find_one_and_update(
                    filter,
                    doc! { "$set": { "leaseUntil": now_ms + lease_ms }, "$inc": { "attempts": 1 } },
                )
                .return_document(ReturnDocument::After)
                .await?;
            claimed.extend(taken);
        }
        Ok(claimed)
    }

    /// Puts a leased job back for a later attempt (unless it was re-queued meanwhile).
    pub async fn retry_at(&self, job: &MetadataJob, due_ms: i64) -> Result<()> {
        self.jobs
            .update_one(
                doc! { "_id": &job.id, "ticket": &job.ticket },
                doc! { "$set": { "dueAt": due_ms, "leaseUntil": 0_i64 } },
            )
            .await?;
        Ok(())
    }

    /// Puts a leased job back without counting the attempt (its host was busy).
    pub async fn release(&self, job: &MetadataJob, due_ms: i64) -> Result<()> {
        self.jobs
            .update_one(
                doc! { "_id": &job.id, "ticket": &job.ticket },
                doc! { "$set": { "dueAt": due_ms, "leaseUntil": 0_i64 }, "$inc": { "attempts": -1 } },
            )
            .await?;
        Ok(())
    }

    /// Stores the outcome of `job` (keeping the last good parse when `outcome` failed without
    /// one), then removes the job if nobody re-queued it meanwhile.
    pub async fn complete(&self, job: &MetadataJob, mut outcome: NftMetadata) -> Result<()> {
        if outcome.parsed.is_none()
            && let Some(previous) = find_by_id(&self.docs, &outcome.id).await?
            && previous.uri == outcome.uri
        {
            outcome.parsed = previous.parsed;
            outcome.trait_keys = previous.trait_keys;
            outcome.name_lower = previous.name_lower;
            outcome.search_terms = previous.search_terms;
            outcome.image_media = previous.image_media;
            outcome.raw = outcome.raw.or(previous.raw);
        }
        self.docs
            .replace_one(doc! { "_id": &outcome.id }, &outcome)
            .upsert(true)
            .await?;
        self.jobs
            .delete_one(doc! { "_id": &job.id, "ticket": &job.ticket })
            .await?;
        Ok(())
    }

    /// Jobs waiting (due or not, leased or not).
    pub async fn queue_depth(&self) -> Result<u64> {
        Ok(self.jobs.estimated_document_count().await?)
    }

    /// The queued job of a token.
    pub async fn job(&self, id: &str) -> Result<Option<MetadataJob>> {
        find_by_id(&self.jobs, id).await
    }

    /// A token's metadata.
    pub async fn get(&self, id: &str) -> Result<Option<NftMetadata>> {
        find_by_id(&self.docs, id).await
    }

    /// The metadata of several tokens (any order).
    pub async fn get_many(&self, ids: &[String]) -> Result<Vec<NftMetadata>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        collect(
            self.docs
                .find(doc! { "_id": { "$in": ids } })
                .projection(doc! { "raw": 0 })
                .await?,
        )
        .await
    }

    /// The metadata (without the raw document) of the tokens of `contract` whose traits match
    /// every group of `groups` (one value of each group: OR within a trait type, AND across
    /// types), in id order after `after`.
    ///
    /// The group with the fewest values drives: one query per value walks [`TRAIT_INDEX`] from
    /// `after` in id order (so a page reads about `limit` index entries divided by the other
    /// groups' selectivity, never the whole collection, and needs no sort), the other groups
    /// filter the fetched documents, and the per-value pages are merged here. The index is
    /// hinted: the store would otherwise trial every candidate plan on each query.
    pub async fn tokens_with_traits(
        &self,
        chain_id: u64,
        contract: &Address,
        groups: &[Vec<String>],
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<NftMetadata>> {
        let Some((driver, driver_keys)) = groups
            .iter()
            .enumerate()
            .filter(|(_, keys)| !keys.is_empty())
            .min_by_key(|(_, keys)| keys.len())
        else {
            return Ok(Vec::new());
        };
        let others: Vec<Bson> = groups
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != driver)
            .map(|(_, keys)| Bson::Document(doc! { "traitKeys": { "$in": keys } }))
            .collect();
        let mut merged = std::collections::BTreeMap::new();
        for key in driver_keys {
            let mut filter = doc! {
                "chainId": chain_id as i64,
                "contract": codec::address_key(contract),
                "traitKeys": key,
            };
            if let Some(after) = after {
                filter.insert("_id", doc! { "$gt": after });
            }
            if !others.is_empty() {
                filter.insert("$and", others.clone());
            }
            let cursor = self
                .docs
                .find(filter)
                .projection(doc! { "raw": 0 })
                .sort(doc! { "_id": 1 })
                .hint(mongodb::options::Hint::Name(TRAIT_INDEX.to_string()))
                .limit(limit)
                .await?;
            for doc in collect(cursor).await? {
                merged.insert(doc.id.clone(), doc);
            }
        }
        Ok(merged
            .into_values()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    /// Every trait value of `contract` with its token count, by type then value.
    pub async fn trait_counts(&self, chain_id: u64, contract: &Address) -> Result<Vec<TraitCount>> {
        let pipeline = vec![
            doc! { "$match": { "chainId": chain_id as i64, "contract": codec::address_key(contract), "state": "resolved" } },
            doc! { "$unwind": "$traitKeys" },
            doc! { "$group": { "_id": "$traitKeys", "count": { "$sum": 1_i64 } } },
            doc! { "$sort": { "_id": 1 } },
        ];
        let docs: Vec<Document> = collect(self.docs.aggregate(pipeline).await?).await?;
        Ok(docs
            .iter()
            .filter_map(|d| {
                let key = d.get_str("_id").ok()?;
                let (trait_type, value) = key.split_once('\u{1f}')?;
                let count = d
                    .get_i64("count")
                    .or_else(|_| d.get_i32("count").map(i64::from))
                    .ok()?;
                Some(TraitCount {
                    trait_type: trait_type.to_string(),
                    value: value.to_string(),
                    count: count.max(0) as u64,
                })
            })
            .collect())
    }

    /// Tokens whose name or description holds every word of `terms` (at most `limit`
    /// candidates; the caller ranks them).
    pub async fn search(
        &self,
        chain_id: u64,
        terms: &[String],
        limit: i64,
    ) -> Result<Vec<NftMetadata>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        collect(
            self.docs
                .find(doc! { "chainId": chain_id as i64, "searchTerms": { "$all": terms } })
                .projection(doc! { "raw": 0 })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Tokens whose lowercased name starts with `prefix` (autocomplete), by name.
    pub async fn names_starting(
        &self,
        chain_id: u64,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<NftMetadata>> {
        let prefix = prefix.to_lowercase();
        // The upper bound of the prefix range: the prefix followed by the highest code point.
        let upper = format!("{prefix}\u{10ffff}");
        collect(
            self.docs
                .find(doc! { "chainId": chain_id as i64, "nameLower": { "$gte": &prefix, "$lt": upper } })
                .projection(doc! { "raw": 0 })
                .sort(doc! { "nameLower": 1 })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Stores an image under its id (idempotent: the id is its content hash).
    pub async fn put_media(&self, media: &Media) -> Result<()> {
        let document = doc! {
            "_id": &media.id,
            "contentType": &media.content_type,
            "bytes": bson::Binary { subtype: BinarySubtype::Generic, bytes: media.bytes.clone() },
        };
        self.media
            .replace_one(doc! { "_id": &media.id }, document)
            .upsert(true)
            .await?;
        Ok(())
    }

    /// One image.
    pub async fn media(&self, id: &str) -> Result<Option<Media>> {
        let Some(found) = self.media.find_one(doc! { "_id": id }).await? else {
            return Ok(None);
        };
        let corrupt = |message: &str| crate::StoreError::Corrupt {
            collection: MEDIA_COLLECTION,
            message: message.to_string(),
        };
        let content_type = found
            .get_str("contentType")
            .map_err(|_| corrupt("no content type"))?
            .to_string();
        let bytes = found
            .get_binary_generic("bytes")
            .map_err(|_| corrupt("no bytes"))?
            .clone();
        Ok(Some(Media {
            id: id.to_string(),
            content_type,
            bytes,
        }))
    }
}
