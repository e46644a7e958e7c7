//! Raw chain logs, kept so projections can be rebuilt (`reindex`) without refetching anything:
//! one document per block holding every Nest log of that block, written idempotently.
//!
//! Collection `chain_log_blocks`. `_id` = `{chainId}:{blockNumber}`; one secondary index
//! `{ chainId, blockNumber }` for the block-range reads (replay, rollback). Each log keeps only
//! what cannot be derived: transaction hash, log index, emitting contract, topics and data, as
//! binary (the decoded fields follow from topics and data and the ABI, losslessly, so they are
//! not stored twice). `n` and `counts` (logs per contract) let counts be read without
//! unpacking the logs. Shard key `{ chainId: 1, blockNumber: 1 }`.
//!
//! Before schema version 5 every log was its own document in `chain_events` (with decoded
//! fields, hex topics and data, and two secondary indexes): about 2.5 times the bytes and 57
//! times the documents of this layout on a busy marketplace chain (see the indexer's
//! `realistic` benchmark); migration 5 moves such stores forward.

use super::{collect, create_indexes, in_session, index};
use crate::{
    codec,
    error::{Result, StoreError, is_duplicate_key},
};
use alloy::primitives::{Address, B256, Bytes};
use bson::{Bson, Document, doc, spec::BinarySubtype};
use futures_util::TryStreamExt;
use mongodb::{ClientSession, Collection, Database};

/// Collection name.
pub(crate) const COLLECTION: &str = "chain_log_blocks";

/// Collection of the pre-version-5 layout (one document per log), read by migration 5.
pub(crate) const LEGACY_COLLECTION: &str = "chain_events";

/// One raw log, as the indexer decoded it from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEvent {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Block timestamp, seconds.
    pub block_timestamp: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Log index within the block.
    pub log_index: u64,
    /// Emitting contract.
    pub contract: Address,
    /// Log topics.
    pub topics: Vec<B256>,
    /// Log data.
    pub data: Bytes,
}

impl ChainEvent {
    /// The unique id of a log (projections keyed by event use it).
    pub fn id_for(chain_id: u64, tx_hash: &B256, log_index: u64) -> String {
        format!("{chain_id}:{tx_hash:#x}:{log_index}")
    }

    /// This log's unique id.
    pub fn id(&self) -> String {
        Self::id_for(self.chain_id, &self.tx_hash, self.log_index)
    }
}

fn binary(bytes: &[u8]) -> Bson {
    Bson::Binary(bson::Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    })
}

fn corrupt(collection: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        collection,
        message: message.into(),
    }
}

fn bytes_of<'a>(doc: &'a Document, key: &str) -> Result<&'a [u8]> {
    match doc.get(key) {
        Some(Bson::Binary(b)) => Ok(&b.bytes),
        _ => Err(corrupt(COLLECTION, format!("field {key} is not binary"))),
    }
}

fn int_of(doc: &Document, key: &str) -> Result<i64> {
    match doc.get(key) {
        Some(Bson::Int64(v)) => Ok(*v),
        Some(Bson::Int32(v)) => Ok(i64::from(*v)),
        _ => Err(corrupt(
            COLLECTION,
            format!("field {key} is not an integer"),
        )),
    }
}

/// The document of one block's logs (`events` all of that block, in log order).
fn block_document(events: &[ChainEvent]) -> Option<Document> {
    let first = events.first()?;
    let mut counts = Document::new();
    let logs: Vec<Bson> = events
        .iter()
        .map(|e| {
            let key = codec::address_key(&e.contract);
            let n = counts.get_i32(&key).unwrap_or(0) + 1;
            counts.insert(key, n);
            let mut topics = Vec::with_capacity(e.topics.len() * 32);
            for t in &e.topics {
                topics.extend_from_slice(t.as_slice());
            }
            Bson::Document(doc! {
                "x": binary(e.tx_hash.as_slice()),
                "i": e.log_index as i64,
                "c": binary(e.contract.as_slice()),
                "t": binary(&topics),
                "d": binary(&e.data),
            })
        })
        .collect();
    Some(doc! {
        "_id": format!("{}:{}", first.chain_id, first.block_number),
        "chainId": first.chain_id as i64,
        "blockNumber": first.block_number as i64,
        "blockHash": binary(first.block_hash.as_slice()),
        "blockTimestamp": first.block_timestamp as i64,
        "n": events.len() as i64,
        "counts": counts,
        "logs": logs,
    })
}

/// The logs of one block document, in log order.
fn events_of(block: &Document) -> Result<Vec<ChainEvent>> {
    let chain_id = int_of(block, "chainId")? as u64;
    let block_number = int_of(block, "blockNumber")? as u64;
    let block_hash = B256::try_from(bytes_of(block, "blockHash")?)
        .map_err(|e| corrupt(COLLECTION, format!("blockHash: {e}")))?;
    let block_timestamp = int_of(block, "blockTimestamp")? as u64;
    let logs = block
        .get_array("logs")
        .map_err(|e| corrupt(COLLECTION, format!("logs: {e}")))?;
    logs.iter()
        .map(|log| {
            let Bson::Document(log) = log else {
                return Err(corrupt(COLLECTION, "a log is not a document"));
            };
            let bad = |what: &str| corrupt(COLLECTION, what);
            let topics = bytes_of(log, "t")?;
            if topics.len() % 32 != 0 {
                return Err(bad("topics are not 32-byte words"));
            }
            Ok(ChainEvent {
                chain_id,
                block_number,
                block_hash,
                block_timestamp,
                tx_hash: B256::try_from(bytes_of(log, "x")?).map_err(|_| bad("tx hash"))?,
                log_index: int_of(log, "i")? as u64,
                contract: Address::try_from(bytes_of(log, "c")?).map_err(|_| bad("contract"))?,
                topics: topics.chunks_exact(32).map(B256::from_slice).collect(),
                data: Bytes::copy_from_slice(bytes_of(log, "d")?),
            })
        })
        .collect()
}

/// Raw chain logs, one document per block.
#[derive(Debug, Clone)]
pub struct ChainEventRepository {
    collection: Collection<Document>,
}

impl ChainEventRepository {
    /// The documents [`Self::put_final`] writes for `events` (in chain order, whole blocks):
    /// one per block.
    pub fn block_documents(events: &[ChainEvent]) -> Vec<Document> {
        events
            .chunk_by(|a, b| a.chain_id == b.chain_id && a.block_number == b.block_number)
            .filter_map(block_document)
            .collect()
    }

    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(COLLECTION),
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

    /// Stores the logs of final blocks outside a transaction, idempotently: `events` (whole
    /// blocks, in chain order) go in as one unordered bulk write of one document per block; a
    /// block already stored (left by an interrupted run) is replaced by this one. The indexer's
    /// backfill writes raw logs this way, concurrently with the transaction that moves the
    /// checkpoint over them once this has returned.
    pub async fn put_final(&self, events: &[ChainEvent]) -> Result<()> {
        let blocks = Self::block_documents(events);
        if blocks.is_empty() {
            return Ok(());
        }
        let failure = match self.collection.insert_many(&blocks).ordered(false).await {
            Ok(_) => return Ok(()),
            Err(e) if is_duplicate_key(&e) => e,
            Err(e) => return Err(e.into()),
        };
        let duplicates: Vec<usize> = match failure.kind.as_ref() {
            mongodb::error::ErrorKind::InsertMany(f) => {
                f.write_errors.iter().flatten().map(|w| w.index).collect()
            }
            _ => (0..blocks.len()).collect(),
        };
        for block in duplicates.into_iter().filter_map(|i| blocks.get(i)) {
            let id = block.get("_id").cloned().unwrap_or(Bson::Null);
            self.collection
                .replace_one(doc! { "_id": id }, block)
                .upsert(true)
                .await?;
        }
        Ok(())
    }

    /// Makes `events` the only stored logs of `chain_id` from block `from` upward, inside
    /// `session`'s transaction: whatever is stored there (left by an interrupted backfill, or by
    /// a block since replaced) is deleted first, then `events` (whole blocks) are inserted. Two
    /// round trips.
    pub async fn replace_from_block_in(
        &self,
        session: &mut ClientSession,
        chain_id: u64,
        from: u64,
        events: &[ChainEvent],
    ) -> Result<()> {
        self.collection
            .delete_many(
                doc! { "chainId": chain_id as i64, "blockNumber": { "$gte": from as i64 } },
            )
            .session(&mut *session)
            .await?;
        let blocks = Self::block_documents(events);
        if !blocks.is_empty() {
            self.collection
                .insert_many(&blocks)
                .session(&mut *session)
                .await?;
        }
        Ok(())
    }

    /// Logs of `chain_id` in blocks `from..=to`, in chain order.
    pub async fn in_blocks(&self, chain_id: u64, from: u64, to: u64) -> Result<Vec<ChainEvent>> {
        let cursor = self
            .collection
            .find(doc! { "chainId": chain_id as i64, "blockNumber": { "$gte": from as i64, "$lte": to as i64 } })
            .sort(doc! { "blockNumber": 1 })
            .await?;
        let mut events = Vec::new();
        for block in collect(cursor).await? {
            events.extend(events_of(&block)?);
        }
        Ok(events)
    }

    /// Deletes the logs of blocks above `block` (reorg rollback). Returns how many blocks.
    pub async fn delete_above(
        &self,
        chain_id: u64,
        block: u64,
        session: Option<&mut ClientSession>,
    ) -> Result<u64> {
        let action = self.collection.delete_many(
            doc! { "chainId": chain_id as i64, "blockNumber": { "$gt": block as i64 } },
        );
        Ok(in_session!(action, session)?.deleted_count)
    }

    /// Sums `field` (a count kept per block document) over `chain_id`'s blocks.
    async fn sum(&self, chain_id: u64, field: &str) -> Result<u64> {
        let mut cursor = self
            .collection
            .find(doc! { "chainId": chain_id as i64 })
            .projection(doc! { field: 1, "_id": 0 })
            .await?;
        let mut total = 0u64;
        while let Some(block) = cursor.try_next().await? {
            let mut value: Option<&Bson> = None;
            let mut current = &block;
            for (i, part) in field.split('.').enumerate() {
                let last = i + 1 == field.split('.').count();
                match current.get(part) {
                    Some(Bson::Document(d)) if !last => current = d,
                    found if last => value = found,
                    _ => break,
                }
            }
            total += match value {
                Some(Bson::Int32(n)) => *n as u64,
                Some(Bson::Int64(n)) => *n as u64,
                _ => 0,
            };
        }
        Ok(total)
    }

    /// Number of logs emitted by `contract`.
    pub async fn count_for(&self, chain_id: u64, contract: &Address) -> Result<u64> {
        self.sum(
            chain_id,
            &format!("counts.{}", codec::address_key(contract)),
        )
        .await
    }

    /// Number of logs stored for `chain_id`.
    pub async fn count(&self, chain_id: u64) -> Result<u64> {
        self.sum(chain_id, "n").await
    }

    /// Moves logs stored one document per log (before schema version 5) into block documents,
    /// block range by block range, then drops the old collection. Returns the logs moved.
    pub(crate) async fn migrate_from_per_log_documents(&self, db: &Database) -> Result<u64> {
        let legacy = db.collection::<Document>(LEGACY_COLLECTION);
        let mut cursor = legacy
            .find(doc! {})
            .sort(doc! { "chainId": 1, "blockNumber": 1, "logIndex": 1 })
            .await?;
        let mut moved = 0u64;
        let mut pending: Vec<ChainEvent> = Vec::new();
        while let Some(old) = cursor.try_next().await? {
            let event = legacy_event(&old)?;
            let block_ends = pending.last().is_some_and(|last| {
                last.chain_id != event.chain_id || last.block_number != event.block_number
            });
            if block_ends && pending.len() >= 5_000 {
                moved += pending.len() as u64;
                self.put_final(&pending).await?;
                pending.clear();
            }
            pending.push(event);
        }
        moved += pending.len() as u64;
        self.put_final(&pending).await?;
        match legacy.drop().await {
            Ok(()) => Ok(moved),
            // Never created (a store that indexed nothing before).
            Err(e) if matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 26) => {
                Ok(moved)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// A log stored in the pre-version-5 layout (hex strings).
fn legacy_event(old: &Document) -> Result<ChainEvent> {
    let bad = |what: &str| corrupt(LEGACY_COLLECTION, what);
    let text = |key: &str| old.get_str(key).map_err(|_| bad(key));
    let int = |key: &str| match old.get(key) {
        Some(Bson::Int64(v)) => Ok(*v as u64),
        Some(Bson::Int32(v)) => Ok(*v as u64),
        _ => Err(bad(key)),
    };
    let topics = old
        .get_array("topics")
        .map_err(|_| bad("topics"))?
        .iter()
        .map(|t| {
            t.as_str()
                .and_then(|t| t.parse::<B256>().ok())
                .ok_or_else(|| bad("topic"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ChainEvent {
        chain_id: int("chainId")?,
        block_number: int("blockNumber")?,
        block_hash: text("blockHash")?.parse().map_err(|_| bad("blockHash"))?,
        block_timestamp: int("blockTimestamp")?,
        tx_hash: text("txHash")?.parse().map_err(|_| bad("txHash"))?,
        log_index: int("logIndex")?,
        contract: text("contract")?.parse().map_err(|_| bad("contract"))?,
        topics,
        data: text("data")?.parse().map_err(|_| bad("data"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(block: u64, log: u64, contract: u8) -> ChainEvent {
        ChainEvent {
            chain_id: 31337,
            block_number: block,
            block_hash: B256::repeat_byte(block as u8),
            block_timestamp: 1_700_000_000 + block,
            tx_hash: B256::repeat_byte(0xa0 + log as u8),
            log_index: log,
            contract: Address::repeat_byte(contract),
            topics: vec![B256::repeat_byte(1), B256::repeat_byte(log as u8)],
            data: Bytes::from(vec![log as u8; log as usize * 7]),
        }
    }

    #[test]
    fn a_block_document_gives_back_its_logs_exactly_with_counts_per_contract() {
        let events = vec![
            event(9, 0, 1),
            event(9, 1, 2),
            event(9, 2, 1),
            event(10, 3, 1),
        ];
        let blocks = ChainEventRepository::block_documents(&events);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].get_str("_id").expect("id"), "31337:9");
        assert_eq!(blocks[0].get_i64("n").expect("n"), 3);
        let counts = blocks[0].get_document("counts").expect("counts");
        assert_eq!(
            counts
                .get_i32(codec::address_key(&Address::repeat_byte(1)))
                .expect("c"),
            2
        );
        let back: Vec<ChainEvent> = blocks
            .iter()
            .flat_map(|b| events_of(b).expect("decodes"))
            .collect();
        assert_eq!(back, events);
    }

    #[test]
    fn a_damaged_block_document_is_an_error_not_a_wrong_log() {
        let mut block = ChainEventRepository::block_documents(&[event(1, 0, 1)]).remove(0);
        let mut logs = block.get_array("logs").expect("logs").clone();
        if let Some(Bson::Document(log)) = logs.get_mut(0) {
            log.insert("t", binary(&[0u8; 33]));
        }
        block.insert("logs", logs);
        assert!(matches!(events_of(&block), Err(StoreError::Corrupt { .. })));
    }
}
