//! Typed repositories, one per aggregate. Each owns its collection name, its indexes (created
//! idempotently at start), its shard key (documented on the type: the key its main query
//! filters on) and its queries. Callers pass typed values; no filter is ever built from raw
//! user input, so no query operator can be injected.

mod activity;
mod auctions;
mod collection_stats;
mod contract_state;
mod events;
mod governance;
mod indexing;
mod key_ring;
mod listings;
mod metadata;
mod nfts;
mod offers;
mod relay_jobs;
mod relay_signers;
mod sales;
mod social;
mod sync;
mod users;

pub use activity::{Activity, ActivityQuery, ActivityRepository, SEQ_PER_BLOCK};
pub use auctions::{Auction, AuctionRepository, AuctionStatus, Bid};
pub use collection_stats::{
    BUCKET_SECONDS, CollectionStats, CollectionStatsRepository, Holding, SaleBucket, StatsRecount,
    TokenTotals,
};
pub use contract_state::{ContractState, ContractStateRepository};
pub use events::{ChainEvent, ChainEventRepository};
pub use governance::{
    Delegate, DelegateRepository, Proposal, ProposalRepository, ProposalState, Vote, VoteRepository,
};
pub use indexing::{
    DeadLetter, DeadLetterRepository, UndoRecord, UndoRepository, load_documents_in,
    replace_documents_in,
};
pub use key_ring::{
    AuditEntry, AuditRecord, ChainBreak, KEY_AUDIT, KEY_VERSIONS, KeyRingRepository, KeyState,
    KeyVersion,
};
pub use listings::{Listing, ListingQuery, ListingRepository, ListingSort, ListingStatus};
pub use metadata::{
    MEDIA_COLLECTION, Media, MetadataError, MetadataJob, MetadataRangeUpdate, MetadataRepository,
    MetadataState, NftMetadata, ParsedMetadata, TRAIT_INDEX, Trait, TraitCount, search_terms,
};
pub(crate) use nfts::LEGACY_TRANSFERS;
pub use nfts::{Nft, NftRepository, NftTransfer, OperatorApproval};
pub use offers::{Offer, OfferRepository, OfferStatus};
pub use relay_jobs::{
    JobChange, ReceiptSummary, RelayJob, RelayJobKind, RelayJobRepository, RelayJobStatus,
    SenderJob, TxAttempt,
};
pub use relay_signers::{RelaySignerRepository, SignerLease};
pub use sales::{Sale, SaleKind, SaleRepository};
pub use social::{
    ActivityItem, AppKey, LinkKind, ModerationAction, PostEdit, PostFilter, PostRevision,
    SocialMention, SocialMessage, SocialNotification, SocialPost, SocialProfile, SocialReport,
    SocialRepository, TimelineEntry,
};
pub use sync::{BlockHeader, BlockRepository, Checkpoint, CheckpointRepository};
pub use users::{Session, SessionRepository, SiweNonce, User, UserRepository};

use crate::error::Result;
use bson::{Document, doc};
use mongodb::{ClientSession, Collection, IndexModel, options::IndexOptions};
use serde::{Serialize, de::DeserializeOwned};

/// One page of results and the cursor for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Largest page any query returns.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Builds an index model.
pub(crate) fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_string())
                .unique(unique)
                .build(),
        )
        .build()
}

/// Builds an index over only the documents matching `filter` (a partial index): smaller, and
/// a query whose predicate implies `filter` scans only those documents.
pub(crate) fn partial_index(name: &str, keys: Document, filter: Document) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_string())
                .partial_filter_expression(filter)
                .build(),
        )
        .build()
}

/// Creates `models` on `collection` (idempotent for unchanged definitions).
pub(crate) async fn create_indexes<T: Send + Sync>(
    collection: &Collection<T>,
    models: Vec<IndexModel>,
) -> Result<()> {
    collection.create_indexes(models).await?;
    Ok(())
}

/// A projection document: a read model derived from chain events, stored whole under its `_id`.
pub trait Projection:
    Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + Unpin
{
    /// Collection name.
    const COLLECTION: &'static str;
    /// Document id (`_id`).
    fn id(&self) -> &str;
}

macro_rules! projection {
    ($($t:ty => $c:literal),* $(,)?) => {
        $(impl Projection for $t {
            const COLLECTION: &'static str = $c;
            fn id(&self) -> &str {
                &self.id
            }
        })*
    };
}

projection!(
    Nft => "nfts",
    OperatorApproval => "nft_operator_approvals",
    Listing => "listings",
    Auction => "auctions",
    Bid => "bids",
    Offer => "offers",
    Sale => "sales",
    Proposal => "proposals",
    Vote => "votes",
    Delegate => "delegates",
    ContractState => "contract_state",
    CollectionStats => "collection_stats",
    SaleBucket => "sale_buckets",
    Holding => "holdings",
);

/// Runs a driver action inside `session` when one is given.
macro_rules! in_session {
    ($action:expr, $session:expr) => {
        match $session {
            Some(session) => $action.session(session).await,
            None => $action.await,
        }
    };
}
pub(crate) use in_session;

/// Stores `value` whole under its id (insert or replace), inside `session` when one is given.
pub(crate) async fn replace_by_id<T: Projection>(
    collection: &Collection<T>,
    value: &T,
    session: Option<&mut ClientSession>,
) -> Result<()> {
    let action = collection
        .replace_one(doc! { "_id": value.id() }, value)
        .upsert(true);
    in_session!(action, session)?;
    Ok(())
}

/// The document with `_id` = `id`.
pub(crate) async fn find_by_id<T>(collection: &Collection<T>, id: &str) -> Result<Option<T>>
where
    T: DeserializeOwned + Send + Sync,
{
    Ok(collection.find_one(doc! { "_id": id }).await?)
}

/// Deletes every document of `chain_id` (before a rebuild from raw events), inside `session`
/// when one is given.
pub(crate) async fn clear_chain<T: Send + Sync>(
    collection: &Collection<T>,
    chain_id: u64,
    session: Option<&mut ClientSession>,
) -> Result<()> {
    let action = collection.delete_many(doc! { "chainId": chain_id as i64 });
    in_session!(action, session)?;
    Ok(())
}

/// Collects a cursor into a vector (with or without a session).
pub(crate) async fn collect<T>(cursor: mongodb::Cursor<T>) -> Result<Vec<T>>
where
    T: serde::de::DeserializeOwned + Send + Sync + Unpin,
{
    use futures_util::TryStreamExt;
    Ok(cursor.try_collect().await?)
}

/// Collects a session cursor into a vector.
pub(crate) async fn collect_in<T>(
    mut cursor: mongodb::SessionCursor<T>,
    session: &mut ClientSession,
) -> Result<Vec<T>>
where
    T: serde::de::DeserializeOwned + Send + Sync + Unpin,
{
    use futures_util::TryStreamExt;
    Ok(cursor.stream(session).try_collect().await?)
}

/// Clamps a requested page size into 1..=MAX_PAGE_SIZE.
pub(crate) fn page_size(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE_SIZE))
}

/// The error for a page cursor that was not issued by the store.
pub(crate) fn bad_cursor() -> crate::StoreError {
    crate::StoreError::InvalidInput("invalid page cursor".into())
}

/// One page of `collection` matching `filter`, ordered by the integer `field` then `_id`
/// (ascending when `ascending`), after `cursor` (a `{number}|{id}` keyset issued by an earlier
/// page); `key` gives an item's `(field value, id)` for the next cursor.
pub(crate) async fn keyset_page<T>(
    collection: &Collection<T>,
    filter: Document,
    field: &str,
    ascending: bool,
    cursor: Option<&str>,
    limit: u32,
    key: impl Fn(&T) -> (i64, &str),
) -> Result<Page<T>>
where
    T: DeserializeOwned + Send + Sync + Unpin,
{
    let (op, direction) = if ascending { ("$gt", 1) } else { ("$lt", -1) };
    let filter = match cursor {
        Some(after) => after_keyset(filter, after, field, op)?,
        None => filter,
    };
    let limit = page_size(limit);
    let items = collect(
        collection
            .find(filter)
            .sort(doc! { field: direction, "_id": direction })
            .limit(limit)
            .await?,
    )
    .await?;
    let next_cursor = if items.len() as i64 == limit {
        items.last().map(|item| {
            let (value, id) = key(item);
            format!("{value}|{id}")
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Narrows `filter` to the documents after a `{number}|{id}` keyset cursor, ordered by `field`
/// then `_id` in the direction of `op` (`$gt` ascending, `$lt` descending).
pub(crate) fn after_keyset(
    filter: Document,
    cursor: &str,
    field: &str,
    op: &str,
) -> Result<Document> {
    let (key, id) = cursor.split_once('|').ok_or_else(bad_cursor)?;
    let key: i64 = key.parse().map_err(|_| bad_cursor())?;
    Ok(
        bson::doc! { "$and": [filter, { "$or": [ { field: { op: key } }, { field: key, "_id": { op: id } } ] }] },
    )
}
