//! Schema versioning: a monotonic version in `_nest_meta`, forward migrations run at start, and
//! a refusal to run against a database written by a newer build.

use crate::{
    error::{Result, StoreError},
    store::Store,
};
use bson::{Document, doc};
use tracing::info;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 5;

/// Collection holding the schema version document.
pub const META_COLLECTION: &str = "_nest_meta";
const SCHEMA_DOC_ID: &str = "schema";

/// One forward migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version the migration leads to.
    pub version: u32,
    /// What it changes.
    pub description: &'static str,
}

/// Every migration, in order. Version 1 is the initial layout (collections and indexes).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial collections and indexes",
    },
    Migration {
        version: 2,
        description: "drop chain_events.chain_tx_log, a unique index restating _id",
    },
    Migration {
        version: 3,
        description: "social collections (messages, posts, links, timelines, notifications, moderation) and their indexes",
    },
    Migration {
        version: 4,
        description: "collection stats, hourly sale buckets and holdings, counted from the projections; the trait index gains _id (nft_metadata.chain_contract_traits is replaced by chain_contract_trait_id)",
    },
    Migration {
        version: 5,
        description: "raw logs one document per block (chain_log_blocks, binary topics and data, no stored decoded fields) instead of one per log (chain_events, dropped); transfer history read from the activity stream (nft_transfers, a second copy, dropped); two indexes restating others dropped (nfts.chain_contract_token, activity.chain_contract_seq)",
    },
];

/// Indexes version 2 dropped: `chain_events.chain_tx_log` restated the `_id`
/// (`{chainId}:{txHash}:{logIndex}`), so every raw event paid for a second unique index (and a
/// unique index not prefixed by the shard key cannot be kept on a sharded collection anyway).
const DROPPED_IN_V2: &[(&str, &str)] = &[("chain_events", "chain_tx_log")];

/// Indexes version 5 dropped: the NFTs' unique `{chainId, contract, tokenId}` restated their
/// `_id` (a collection is read by `_id` range); the activity's per-collection index (its stream
/// reads the chain's).
const DROPPED_IN_V5: &[(&str, &str)] = &[
    ("nfts", "chain_contract_token"),
    ("activity", "chain_contract_seq"),
];

/// Indexes version 4 dropped: the trait index without `_id` (trait filters page in id order).
const DROPPED_IN_V4: &[(&str, &str)] = &[("nft_metadata", "chain_contract_traits")];

/// Server error code for "index not found".
const INDEX_NOT_FOUND: i32 = 27;
/// Server error code for "namespace not found" (the collection does not exist yet).
const NAMESPACE_NOT_FOUND: i32 = 26;

/// The version recorded in the database (0 for a fresh database).
pub async fn current_version(store: &Store) -> Result<u32> {
    let meta = store.database().collection::<Document>(META_COLLECTION);
    let Some(found) = meta.find_one(doc! { "_id": SCHEMA_DOC_ID }).await? else {
        return Ok(0);
    };
    let version = found
        .get_i64("version")
        .or_else(|_| found.get_i32("version").map(i64::from));
    version
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| StoreError::Corrupt {
            collection: META_COLLECTION,
            message: "schema document without a valid version".into(),
        })
}

/// Refuses newer schemas, applies pending migrations in order, then (re)creates every index.
pub async fn migrate(store: &Store) -> Result<()> {
    let found = current_version(store).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        info!(
            version = migration.version,
            description = migration.description,
            "migrating store"
        );
        apply(store, migration.version).await?;
        set_version(store, migration.version).await?;
    }
    ensure_indexes(store).await
}

/// Data changes of each version (index changes happen in `ensure_indexes`).
async fn apply(store: &Store, version: u32) -> Result<()> {
    match version {
        2 => drop_indexes(store, DROPPED_IN_V2).await,
        4 => {
            drop_indexes(store, DROPPED_IN_V4).await?;
            store.collection_stats().rebuild_all().await
        }
        5 => {
            let moved = store
                .events()
                .migrate_from_per_log_documents(store.database())
                .await?;
            info!(moved, "raw logs moved into block documents");
            drop_collection(store, crate::repos::LEGACY_TRANSFERS).await?;
            drop_indexes(store, DROPPED_IN_V5).await
        }
        // Version 1 is the initial layout, version 3 adds collections (created with their
        // indexes): no data to transform.
        _ => Ok(()),
    }
}

/// Drops a collection no longer used (absent already is fine).
async fn drop_collection(store: &Store, name: &str) -> Result<()> {
    match store.database().collection::<Document>(name).drop().await {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == NAMESPACE_NOT_FOUND) => {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Drops each `(collection, index)`; one already gone (or a collection not created yet) is fine.
async fn drop_indexes(store: &Store, indexes: &[(&str, &str)]) -> Result<()> {
    for (collection, index) in indexes {
        let outcome = store
            .database()
            .collection::<Document>(collection)
            .drop_index(*index)
            .await;
        match outcome {
            Ok(()) => info!(collection, index, "dropped redundant index"),
            Err(e)
                if command_code(&e)
                    .is_some_and(|c| c == INDEX_NOT_FOUND || c == NAMESPACE_NOT_FOUND) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn command_code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        mongodb::error::ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}

async fn set_version(store: &Store, version: u32) -> Result<()> {
    let meta = store.database().collection::<Document>(META_COLLECTION);
    // Monotonic: only raise the version. If another instance already recorded a higher one, the
    // filter misses and the upsert's insert hits the unique _id, which means "already done".
    let outcome = meta
        .update_one(
            doc! { "_id": SCHEMA_DOC_ID, "version": { "$lt": version as i64 } },
            doc! { "$set": { "version": version as i64 } },
        )
        .upsert(true)
        .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates every repository's indexes; idempotent.
pub async fn ensure_indexes(store: &Store) -> Result<()> {
    store.events().ensure_indexes().await?;
    store.checkpoints().ensure_indexes().await?;
    store.blocks().ensure_indexes().await?;
    store.nfts().ensure_indexes().await?;
    store.metadata().ensure_indexes().await?;
    store.activity().ensure_indexes().await?;
    store.listings().ensure_indexes().await?;
    store.auctions().ensure_indexes().await?;
    store.offers().ensure_indexes().await?;
    store.sales().ensure_indexes().await?;
    store.proposals().ensure_indexes().await?;
    store.votes().ensure_indexes().await?;
    store.delegates().ensure_indexes().await?;
    store.relay_jobs().ensure_indexes().await?;
    store.relay_signers().ensure_indexes().await?;
    store.users().ensure_indexes().await?;
    store.sessions().ensure_indexes().await?;
    store.dead_letters().ensure_indexes().await?;
    store.undo().ensure_indexes().await?;
    store.contract_state().ensure_indexes().await?;
    store.collection_stats().ensure_indexes().await?;
    store.key_ring().ensure_indexes().await?;
    store.social().ensure_indexes().await?;
    Ok(())
}
