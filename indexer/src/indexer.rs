//! The indexer service: backfill with `eth_getLogs` over adaptive ranges (a fetch → decode →
//! write pipeline), then follow new blocks one by one with reorg detection. Every batch is one
//! store transaction holding the projection changes, the undo records, the header and the
//! checkpoint (moved by compare-and-set), plus the raw events for followed blocks; a backfill
//! batch's raw events are written beside it and acknowledged before it commits (see
//! [`RawEvents`]).

use crate::{
    decode::{Decoded, IndexedLog, LogDecoder},
    error::{IndexerError, Result},
    project::{ChangeNotice, PROJECTION_COLLECTIONS, Projector},
    rpc::ChainReader,
};
use alloy::{primitives::B256, providers::DynProvider, rpc::types::Log};
use bson::doc;
use futures_util::{FutureExt, StreamExt, stream};
use nest_abis::NestAddresses;
use nest_rpc::{HeadSource, HeadWatch};
use nest_store::{
    BlockHeader, ChainEvent, Checkpoint, DeadLetter, Store, StoreError, replace_documents_in,
};
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::{OnceCell, broadcast, mpsc};
use tracing::{debug, info, warn};

/// Indexer settings.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// Chain id the node must serve.
    pub chain_id: u64,
    /// Nest contract addresses.
    pub addresses: NestAddresses,
    /// First block to index (the earliest deploy block).
    pub start_block: u64,
    /// Blocks to stay behind the head.
    pub confirmations: u64,
    /// Recent blocks processed one by one with undo records (deepest reorg handled).
    pub reorg_window: u64,
    /// Pause between polls when caught up and no new-head subscription is live (with one, the
    /// indexer still looks every 2 s, or every poll interval if longer, in case a notification
    /// was lost).
    pub poll_interval: Duration,
    /// WebSocket endpoint for a `newHeads` subscription (see [`crate::ws_url_for`]); `None`, or
    /// a node that refuses it, means polling. A dropped subscription falls back to polling and
    /// is re-established.
    pub ws_url: Option<url::Url>,
    /// First `eth_getLogs` range during backfill, in blocks.
    pub initial_range: u64,
    /// Largest `eth_getLogs` range.
    pub max_range: u64,
    /// Logs per backfill batch the range size aims for.
    pub target_logs_per_batch: usize,
    /// `eth_getLogs` requests in flight during backfill.
    pub fetch_concurrency: usize,
    /// Checkpoint stream name.
    pub stream: String,
}

impl IndexerConfig {
    /// Defaults for a deployment: start at its earliest deploy block.
    pub fn new(chain_id: u64, addresses: NestAddresses, start_block: u64) -> Self {
        Self {
            chain_id,
            addresses,
            start_block,
            confirmations: 0,
            reorg_window: 64,
            poll_interval: Duration::from_millis(10),
            ws_url: None,
            initial_range: 2_000,
            max_range: 100_000,
            target_logs_per_batch: 10_000,
            fetch_concurrency: 4,
            stream: "nest".into(),
        }
    }
}

/// What a backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillStats {
    /// Blocks covered.
    pub blocks: u64,
    /// Events written.
    pub events: u64,
    /// Dead letters written.
    pub dead_letters: u64,
}

/// Per-contract and overall progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexerStatus {
    /// Chain id.
    pub chain_id: u64,
    /// The node's head.
    pub head: u64,
    /// Last indexed block.
    pub indexed: Option<u64>,
    /// Blocks behind the head.
    pub lag_blocks: u64,
    /// Raw events per contract name.
    pub events: Vec<(String, u64)>,
    /// Dead letters.
    pub dead_letters: u64,
}

/// Follows one chain into the store.
#[derive(Debug)]
pub struct Indexer {
    config: IndexerConfig,
    store: Store,
    reader: ChainReader,
    decoder: LogDecoder,
    notices: broadcast::Sender<ChangeNotice>,
    range: AtomicU64,
    processed_since_prune: AtomicU64,
    subscribed: AtomicBool,
}

struct Batch {
    raw: Vec<ChainEvent>,
    logs: Vec<IndexedLog>,
    dead: Vec<DeadLetter>,
}

/// Decoded chunks of whole blocks the backfill's writer may hold beyond the one it writes.
const PIPELINE_DEPTH: usize = 2;

/// A decoded batch with the header of its last block, ready to write.
struct Prepared {
    batch: Batch,
    header: BlockHeader,
    timestamp: u64,
}

/// How a batch's raw events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawEvents {
    /// Final blocks (backfill, below the reorg window): an idempotent unordered bulk write on
    /// its own connection, concurrent with the projection transaction, which commits only after
    /// it has been acknowledged. A crash in between leaves raw events above the checkpoint that
    /// the next run writes again, identically.
    Final,
    /// A followed block, which a reorg may replace: written inside the transaction, replacing
    /// anything stored from this block up; projection changes get undo records.
    Followed,
}

/// Stores a final batch's raw events once, whoever asks first: the concurrent writer, or the
/// transaction about to commit (which waits for, or redoes, the write).
async fn put_final_once(
    store: &Store,
    stored: &OnceCell<()>,
    events: &[ChainEvent],
) -> std::result::Result<(), StoreError> {
    stored
        .get_or_try_init(|| async {
            // Large batches go in as two concurrent bulk writes (the server works on both),
            // split between blocks (a block is one document).
            let events_repo = store.events();
            let split = if events.len() >= PARALLEL_RAW_WRITE {
                let middle = events.len() / 2;
                let block = events[middle].block_number;
                middle
                    + events[middle..]
                        .iter()
                        .take_while(|e| e.block_number == block)
                        .count()
            } else {
                events.len()
            };
            let (first, second) = events.split_at(split);
            let (a, b) = tokio::join!(events_repo.put_final(first), events_repo.put_final(second));
            a.and(b)
        })
        .await
        .map(|_| ())
}

/// Raw events in a final batch from which they are written as two concurrent bulk writes.
const PARALLEL_RAW_WRITE: usize = 2_000;

impl Indexer {
    /// Connects to the node through `provider`, checking its chain id.
    pub async fn new(config: IndexerConfig, store: Store, provider: DynProvider) -> Result<Self> {
        if config.fetch_concurrency == 0
            || config.initial_range == 0
            || config.max_range < config.initial_range
        {
            return Err(IndexerError::Config(
                "fetch concurrency and ranges must be positive, max range >= initial range".into(),
            ));
        }
        let reader = ChainReader::new(provider);
        let actual = reader.chain_id().await?;
        if actual != config.chain_id {
            return Err(IndexerError::WrongChain {
                expected: config.chain_id,
                actual,
            });
        }
        let decoder = LogDecoder::new(config.chain_id, &config.addresses);
        let (notices, _) = broadcast::channel(65_536);
        let range = AtomicU64::new(config.initial_range);
        Ok(Self {
            config,
            store,
            reader,
            decoder,
            notices,
            range,
            processed_since_prune: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
        })
    }

    /// Change notices for every projection document written (after its transaction commits).
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.notices.subscribe()
    }

    /// The sender of change notices, for a component that changes projections beside the
    /// indexer (the metadata resolver) and must be heard by the same subscribers.
    pub fn notice_sender(&self) -> broadcast::Sender<ChangeNotice> {
        self.notices.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &IndexerConfig {
        &self.config
    }

    /// How [`Indexer::run`] currently learns of new heads.
    pub fn head_source(&self) -> HeadSource {
        if self.subscribed.load(Ordering::Relaxed) {
            HeadSource::Subscription
        } else {
            HeadSource::Polling
        }
    }

    /// The last indexed block.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        Ok(self
            .store
            .checkpoints()
            .get(self.config.chain_id, &self.config.stream)
            .await?)
    }

    /// Backfills up to the block below the reorg window (or `until`, if lower).
    ///
    /// A pipeline: concurrent `eth_getLogs` over adaptive ranges feed the decoding of chunks of
    /// whole blocks, which feeds the writer; while chunk N is being written, chunk N+1 is
    /// fetched and decoded. Each chunk's raw events go in over their own connection while its
    /// projection transaction runs; the transaction moves the checkpoint only once they are
    /// stored (a crash in between leaves raw events above the checkpoint, which the next run
    /// writes again identically).
    pub async fn backfill(&self, until: Option<u64>) -> Result<BackfillStats> {
        let head = self.reader.head().await?;
        let mut target = head
            .saturating_sub(self.config.confirmations)
            .saturating_sub(self.config.reorg_window);
        if let Some(until) = until {
            target = target.min(until);
        }
        let checkpoint = self.checkpoint().await?;
        let start = match &checkpoint {
            Some(cp) => cp.block_number as u64 + 1,
            None => self.config.start_block,
        };
        if start > target {
            return Ok(BackfillStats::default());
        }
        info!(from = start, to = target, "backfilling");
        let (prepared_tx, mut prepared_rx) = mpsc::channel::<Prepared>(PIPELINE_DEPTH);
        let produce = async move {
            let addresses = Arc::new(self.decoder.addresses());
            let next_from = Arc::new(AtomicU64::new(start));
            let ranges = stream::unfold((), |()| {
                let from = next_from.load(Ordering::SeqCst);
                if from > target {
                    return std::future::ready(None);
                }
                // A short remaining span is spread over the concurrent requests, so the writer
                // gets its first chunk after a fraction of the span is fetched, not all of it.
                let spread = (target - from + 1).div_ceil(self.config.fetch_concurrency as u64);
                let size = self.range.load(Ordering::SeqCst).min(spread).max(1);
                let to = (from + size - 1).min(target);
                next_from.store(to + 1, Ordering::SeqCst);
                std::future::ready(Some(((from, to), ())))
            });
            let mut fetched = ranges
                .map(|(from, to)| {
                    let addresses = addresses.clone();
                    async move {
                        self.fetch_range(&addresses, from, to)
                            .await
                            .map(|logs| (from, to, logs))
                    }
                })
                .buffered(self.config.fetch_concurrency);
            let mut blocks = 0;
            while let Some(next) = fetched.next().await {
                let (from, to, logs) = next?;
                self.adapt_range(logs.len());
                blocks += to - from + 1;
                // Keep transactions bounded: a dense range is committed in chunks of whole
                // blocks of about `target_logs_per_batch` logs, each with its own checkpoint.
                for (chunk_end, chunk) in
                    chunk_by_blocks(logs, to, self.config.target_logs_per_batch)
                {
                    let Some(header) = self.reader.header(chunk_end).await? else {
                        return Err(IndexerError::Rpc(format!(
                            "the node has no block {chunk_end}"
                        )));
                    };
                    let prepared = Prepared {
                        batch: self.decode_all(&chunk, None).await?,
                        header: BlockHeader::new(
                            self.config.chain_id,
                            chunk_end,
                            header.hash,
                            header.parent_hash,
                        ),
                        timestamp: header.timestamp,
                    };
                    if prepared_tx.send(prepared).await.is_err() {
                        // The writer stopped; its error is the one reported.
                        return Ok(blocks);
                    }
                }
            }
            Ok(blocks)
        };
        let write = async {
            let mut previous = checkpoint.map(|cp| (cp.block_number as u64, cp.block_hash));
            let mut stats = BackfillStats::default();
            while let Some(prepared) = prepared_rx.recv().await {
                stats.events += prepared.batch.logs.len() as u64;
                stats.dead_letters += prepared.batch.dead.len() as u64;
                let reached = (prepared.header.number as u64, prepared.header.hash);
                self.commit(prepared, previous, RawEvents::Final).await?;
                previous = Some(reached);
            }
            Ok(stats)
        };
        let (blocks, mut stats) = tokio::try_join!(produce, write)?;
        stats.blocks = blocks;
        Ok(stats)
    }

    /// Fetches `from..=to`, splitting the range while the node says it is too large.
    async fn fetch_range(
        &self,
        addresses: &[alloy::primitives::Address],
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>> {
        let mut pending = vec![(from, to)];
        let mut logs = Vec::new();
        while let Some((a, b)) = pending.pop() {
            match self.reader.logs_in_range(addresses, a, b).await? {
                Ok(mut found) => logs.append(&mut found),
                Err(message) => {
                    let mid = a + (b - a) / 2;
                    debug!(a, b, %message, "range too large, splitting");
                    self.range
                        .store((b - a).div_ceil(2).max(1), Ordering::SeqCst);
                    pending.push((mid + 1, b));
                    pending.push((a, mid));
                }
            }
        }
        Ok(logs)
    }

    fn adapt_range(&self, logs: usize) {
        let size = self.range.load(Ordering::SeqCst);
        let target = self.config.target_logs_per_batch;
        let next = if logs < target / 2 {
            (size * 2).min(self.config.max_range)
        } else if logs > target * 2 {
            (size / 2).max(1)
        } else {
            size
        };
        self.range.store(next, Ordering::SeqCst);
    }

    async fn decode_all(&self, logs: &[Log], block_timestamp: Option<u64>) -> Result<Batch> {
        let mut batch = Batch {
            raw: Vec::with_capacity(logs.len()),
            logs: Vec::with_capacity(logs.len()),
            dead: Vec::new(),
        };
        let mut timestamps: HashMap<u64, u64> = HashMap::new();
        for log in logs {
            let mut timestamp = block_timestamp;
            if log.block_timestamp.is_none() && timestamp.is_none() {
                // Nodes that omit `blockTimestamp` in logs: one header per block, cached.
                let number = log.block_number.unwrap_or_default();
                if let Some(t) = timestamps.get(&number) {
                    timestamp = Some(*t);
                } else if let Some(h) = self.reader.header(number).await? {
                    timestamps.insert(number, h.timestamp);
                    timestamp = Some(h.timestamp);
                }
            }
            match self.decoder.decode(log, timestamp) {
                Decoded::Event(boxed) => {
                    let (raw, indexed) = *boxed;
                    batch.raw.push(raw);
                    batch.logs.push(indexed);
                }
                Decoded::Dead(letter) => {
                    warn!(id = %letter.id, reason = %letter.reason, "dead letter");
                    batch.dead.push(letter);
                }
            }
        }
        Ok(batch)
    }

    /// Writes one batch: projections, undo records (for followed blocks), dead letters, the
    /// header and the checkpoint in one transaction, which also holds the raw events or commits
    /// only after they are stored (see [`RawEvents`]). The checkpoint moves only from
    /// `previous`. Publishes change notices after the commit.
    async fn commit(
        &self,
        prepared: Prepared,
        previous: Option<(u64, B256)>,
        raw: RawEvents,
    ) -> Result<()> {
        let started = Instant::now();
        let chain_id = self.config.chain_id;
        let stream = self.config.stream.clone();
        let addresses = self.config.addresses;
        let Prepared {
            batch,
            header,
            timestamp,
        } = prepared;
        let block = header.number as u64;
        let batch = Arc::new(batch);
        let events = batch.logs.len();
        let dead = batch.dead.len();
        let raw_stored = Arc::new(OnceCell::new());
        let undo = raw == RawEvents::Followed;
        let transaction = self.store.transaction(|session| {
            let store = self.store.clone();
            let batch = batch.clone();
            let header = header.clone();
            let stream = stream.clone();
            let raw_stored = raw_stored.clone();
            async move {
                if raw == RawEvents::Followed {
                    store
                        .events()
                        .replace_from_block_in(session, chain_id, block, &batch.raw)
                        .await?;
                }
                let notices =
                    project_in(&store, session, chain_id, addresses, &batch.logs, undo).await?;
                if !batch.dead.is_empty() {
                    store.dead_letters().put_in(session, &batch.dead).await?;
                }
                store
                    .blocks()
                    .put(std::slice::from_ref(&header), Some(&mut *session))
                    .await?;
                let checkpoint =
                    Checkpoint::new(chain_id, &stream, block, header.hash).at(timestamp);
                store
                    .checkpoints()
                    .advance(session, previous, &checkpoint)
                    .await?;
                if raw == RawEvents::Final {
                    put_final_once(&store, &raw_stored, &batch.raw).await?;
                }
                Ok(notices)
            }
            .boxed()
        });
        let notices = match raw {
            RawEvents::Final => {
                // The transaction re-runs the raw write if this one failed.
                let (_, committed) = tokio::join!(
                    put_final_once(&self.store, &raw_stored, &batch.raw),
                    transaction
                );
                committed?
            }
            RawEvents::Followed => transaction.await?,
        };
        for notice in notices {
            let _ = self.notices.send(notice);
        }
        crate::business::observe(&batch.logs, addresses.token);
        metrics::counter!("nest_indexer_events_total").increment(events as u64);
        metrics::counter!("nest_indexer_dead_letters_total").increment(dead as u64);
        metrics::histogram!("nest_indexer_batch_seconds").record(started.elapsed().as_secs_f64());
        debug!(
            block,
            events,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "batch committed"
        );
        Ok(())
    }

    /// Processes every new block up to the head (minus confirmations), one block per
    /// transaction, rolling back first when the chain reorganised. Returns the blocks processed.
    pub async fn follow_step(&self) -> Result<u64> {
        let head = self.reader.head().await?;
        let target = head.saturating_sub(self.config.confirmations);
        let mut processed = 0;
        loop {
            let checkpoint = self.checkpoint().await?;
            let (next, parent) = match &checkpoint {
                Some(cp) => (cp.block_number as u64 + 1, Some(cp.block_hash)),
                None => (self.config.start_block, None),
            };
            if next > target {
                // Caught up: make sure the block we stopped at is still on the chain (a reorg
                // may have replaced it, possibly with a shorter chain).
                if let Some(cp) = &checkpoint
                    && processed == 0
                {
                    let node = self.reader.header(cp.block_number as u64).await?;
                    if node.is_none_or(|h| h.hash != cp.block_hash) {
                        warn!(block = cp.block_number, "checkpoint block replaced: reorg");
                        self.handle_reorg(cp.block_number as u64).await?;
                        continue;
                    }
                }
                break;
            }
            let Some(header) = self.reader.header(next).await? else {
                break;
            };
            if let Some(parent) = parent
                && header.parent_hash != parent
            {
                warn!(block = next, "parent hash mismatch: reorg");
                self.handle_reorg(next - 1).await?;
                continue;
            }
            let logs = self
                .reader
                .logs_at(&self.decoder.addresses(), header.hash)
                .await?;
            let prepared = Prepared {
                batch: self.decode_all(&logs, Some(header.timestamp)).await?,
                header: BlockHeader::new(
                    self.config.chain_id,
                    next,
                    header.hash,
                    header.parent_hash,
                ),
                timestamp: header.timestamp,
            };
            let previous = checkpoint.map(|cp| (cp.block_number as u64, cp.block_hash));
            self.commit(prepared, previous, RawEvents::Followed).await?;
            processed += 1;
            metrics::gauge!("nest_indexer_head_lag_blocks").set(head.saturating_sub(next) as f64);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            metrics::gauge!("nest_indexer_head_lag_seconds")
                .set(now.saturating_sub(header.timestamp) as f64);
            if self.processed_since_prune.fetch_add(1, Ordering::Relaxed) >= 64 {
                self.processed_since_prune.store(0, Ordering::Relaxed);
                let keep_from = next.saturating_sub(self.config.reorg_window);
                self.store
                    .undo()
                    .prune_through(self.config.chain_id, keep_from)
                    .await?;
                self.store
                    .blocks()
                    .prune_below(self.config.chain_id, keep_from)
                    .await?;
            }
        }
        Ok(processed)
    }

    /// Finds the common ancestor at or below `from` and rolls everything above it back.
    async fn handle_reorg(&self, from: u64) -> Result<()> {
        let floor = from
            .saturating_sub(self.config.reorg_window)
            .max(self.config.start_block);
        let mut h = from;
        let ancestor = loop {
            let stored = self.store.blocks().get(self.config.chain_id, h).await?;
            let node = self.reader.header(h).await?;
            if let (Some(stored), Some(node)) = (&stored, &node)
                && stored.hash == node.hash
            {
                break Some((h, stored.hash));
            }
            if h <= floor {
                break None;
            }
            h -= 1;
        };
        let Some((ancestor, hash)) = ancestor else {
            return Err(IndexerError::ReorgTooDeep {
                kept: self.config.reorg_window,
                floor,
            });
        };
        info!(ancestor, "rolling back to the common ancestor");
        metrics::counter!("nest_indexer_reorgs_total").increment(1);
        self.rollback_to(ancestor, Some(hash), true).await
    }

    /// Restores projections to their state at `block` from the undo log. With `drop_raw`, also
    /// removes raw events, dead letters and headers above it and moves the checkpoint there.
    async fn rollback_to(&self, block: u64, hash: Option<B256>, drop_raw: bool) -> Result<()> {
        let chain_id = self.config.chain_id;
        let stream = self.config.stream.clone();
        let restored = self
            .store
            .transaction(|session| {
                let store = self.store.clone();
                let stream = stream.clone();
                async move {
                    let records = store.undo().above_in(session, chain_id, block).await?;
                    let mut notices = Vec::new();
                    // Newest first: the last write for a document is its state before block+1.
                    for record in records {
                        let (upserts, deletes) = match record.prior {
                            Some(prior) => (vec![prior], Vec::new()),
                            None => (Vec::new(), vec![record.doc_id.clone()]),
                        };
                        replace_documents_in(
                            store.database(),
                            session,
                            &record.collection,
                            upserts,
                            deletes,
                        )
                        .await?;
                        notices.push((record.collection, record.doc_id));
                    }
                    store.undo().delete_above(session, chain_id, block).await?;
                    if drop_raw {
                        store
                            .events()
                            .delete_above(chain_id, block, Some(&mut *session))
                            .await?;
                        store
                            .dead_letters()
                            .delete_above(session, chain_id, block)
                            .await?;
                        store
                            .blocks()
                            .delete_above(chain_id, block, Some(&mut *session))
                            .await?;
                        if let Some(hash) = hash {
                            let checkpoint = Checkpoint::new(chain_id, &stream, block, hash);
                            store.checkpoints().set(&checkpoint, Some(session)).await?;
                        }
                    }
                    Ok(notices)
                }
                .boxed()
            })
            .await?;
        for (collection, key) in restored {
            if let Some(kind) = PROJECTION_COLLECTIONS.iter().find(|c| **c == collection) {
                let _ = self.notices.send(ChangeNotice { kind, key });
            }
        }
        Ok(())
    }

    /// Backfills, then follows the chain until `shutdown` resolves. Transient failures are
    /// retried after a pause; the indexer never skips a block.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                result = self.backfill(None) => match result {
                    Ok(stats) => {
                        info!(events = stats.events, blocks = stats.blocks, "backfill done");
                        break;
                    }
                    Err(e) if e.is_transient() => {
                        warn!(error = %e, "backfill failed, retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let mut heads = HeadWatch::new(
            self.config.ws_url.clone(),
            self.config.poll_interval,
            "nest_indexer_head_subscription",
        );
        loop {
            let step = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                step = self.follow_step() => step,
            };
            match step {
                Ok(0) => {
                    tokio::select! {
                        _ = &mut shutdown => return Ok(()),
                        _ = heads.subscribe_if_due() => {}
                    }
                    self.subscribed.store(
                        heads.source() == HeadSource::Subscription,
                        Ordering::Relaxed,
                    );
                    tokio::select! {
                        _ = &mut shutdown => return Ok(()),
                        _ = heads.wait() => {}
                    }
                }
                Ok(_) => {}
                Err(e) if e.is_transient() => {
                    warn!(error = %e, "follow step failed, retrying");
                    tokio::select! {
                        _ = &mut shutdown => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                Err(e) => return Err(e),
            }
            self.subscribed.store(
                heads.source() == HeadSource::Subscription,
                Ordering::Relaxed,
            );
        }
    }

    /// Rebuilds projections from the stored raw events without refetching anything. With
    /// `from`, rolls projections back to the block before it (through the undo log) and replays
    /// from there; without, clears them and replays every event. Returns the events replayed.
    pub async fn reindex(&self, from: Option<u64>) -> Result<u64> {
        let chain_id = self.config.chain_id;
        let Some(checkpoint) = self.checkpoint().await? else {
            return Ok(0);
        };
        let last = checkpoint.block_number as u64;
        let first = match from {
            Some(block) => {
                let oldest = self.store.undo().oldest_block(chain_id).await?;
                match oldest {
                    Some(oldest) if oldest <= block => {
                        self.rollback_to(block.saturating_sub(1), None, false)
                            .await?;
                        block
                    }
                    _ => {
                        return Err(IndexerError::ReplayTooOld {
                            requested: block,
                            oldest: oldest.unwrap_or(last + 1),
                        });
                    }
                }
            }
            None => {
                for collection in PROJECTION_COLLECTIONS {
                    self.store
                        .database()
                        .collection::<bson::Document>(collection)
                        .delete_many(doc! { "chainId": chain_id as i64 })
                        .await
                        .map_err(StoreError::from)?;
                }
                self.store.undo().clear(chain_id).await?;
                self.config.start_block
            }
        };
        let mut replayed = 0u64;
        let chunk = 2_000u64;
        let mut block = first;
        while block <= last {
            let to = (block + chunk - 1).min(last);
            let raw = self.store.events().in_blocks(chain_id, block, to).await?;
            let logs: Vec<IndexedLog> = raw
                .iter()
                .filter_map(|r| self.decoder.decode_stored(r))
                .collect();
            replayed += logs.len() as u64;
            let undo = from.is_some();
            let addresses = self.config.addresses;
            let logs = Arc::new(logs);
            let notices = self
                .store
                .transaction(|session| {
                    let store = self.store.clone();
                    let logs = logs.clone();
                    async move {
                        project_in(&store, session, chain_id, addresses, &logs, undo).await
                    }
                    .boxed()
                })
                .await?;
            for notice in notices {
                let _ = self.notices.send(notice);
            }
            block = to + 1;
        }
        Ok(replayed)
    }

    /// Head, progress and counts.
    pub async fn status(&self) -> Result<IndexerStatus> {
        let chain_id = self.config.chain_id;
        let head = self.reader.head().await?;
        let indexed = self.checkpoint().await?.map(|c| c.block_number as u64);
        let a = &self.config.addresses;
        let mut events = Vec::new();
        for (name, address) in [
            ("NestForwarder", a.forwarder),
            ("NestToken", a.token),
            ("NestTimelock", a.timelock),
            ("NestGovernor", a.governor),
            ("NestNFT", a.nft),
            ("NestMarketplace", a.marketplace),
        ] {
            events.push((
                name.to_string(),
                self.store.events().count_for(chain_id, &address).await?,
            ));
        }
        Ok(IndexerStatus {
            chain_id,
            head,
            indexed,
            lag_blocks: head.saturating_sub(indexed.unwrap_or(0)),
            events,
            dead_letters: self.store.dead_letters().count(chain_id).await?,
        })
    }
}

/// Splits the logs of a range ending at block `to` into chunks of whole blocks holding about
/// `target` logs each; returns each chunk with its last block (the last chunk ends at `to`).
fn chunk_by_blocks(logs: Vec<Log>, to: u64, target: usize) -> Vec<(u64, Vec<Log>)> {
    let mut chunks = Vec::new();
    let mut current: Vec<Log> = Vec::new();
    let mut iter = logs.into_iter().peekable();
    while let Some(log) = iter.next() {
        let block = log.block_number.unwrap_or_default();
        current.push(log);
        let block_ends = iter
            .peek()
            .is_none_or(|next| next.block_number.unwrap_or_default() != block);
        if block_ends && current.len() >= target.max(1) && iter.peek().is_some() {
            chunks.push((block, std::mem::take(&mut current)));
        }
    }
    chunks.push((to, current));
    chunks
}

/// Projects `logs` inside `session`: loads what they touch, applies them, writes the changed
/// documents (and, with `undo`, their prior versions). Returns the change notices.
async fn project_in(
    store: &Store,
    session: &mut nest_store::ClientSession,
    chain_id: u64,
    addresses: NestAddresses,
    logs: &[IndexedLog],
    undo: bool,
) -> std::result::Result<Vec<ChangeNotice>, StoreError> {
    let mut projector = Projector::new(chain_id, addresses);
    projector
        .prefetch(store, session, logs)
        .await
        .map_err(to_store_error)?;
    projector.apply(logs);
    projector
        .derive_collection_stats(store, session)
        .await
        .map_err(to_store_error)?;
    let writes = projector.writes(undo).map_err(to_store_error)?;
    let mut undo_records = Vec::new();
    for (collection, changes) in &writes.collections {
        if !changes.inserts.is_empty() {
            store
                .database()
                .collection::<bson::Document>(collection)
                .insert_many(&changes.inserts)
                .session(&mut *session)
                .await?;
        }
        if !(changes.upserts.is_empty() && changes.deletes.is_empty()) {
            replace_documents_in(
                store.database(),
                session,
                collection,
                changes.upserts.clone(),
                changes.deletes.clone(),
            )
            .await?;
        }
        undo_records.extend(changes.undo.iter().cloned());
    }
    store.undo().put_in(session, &undo_records).await?;
    // Metadata is resolved later by the resolver workers; only the request is written here, in
    // the batch's transaction, so a crash can neither lose it nor queue it for an uncommitted
    // block.
    let (jobs, ranges) = projector.metadata_requests();
    store.metadata().enqueue_in(session, &jobs).await?;
    for range in ranges {
        store
            .metadata()
            .requeue_range_in(session, range, METADATA_RANGE_CAP)
            .await?;
    }
    Ok(writes.notices())
}

/// Most tokens one `BatchMetadataUpdate` re-queues (its range may span all of U256).
const METADATA_RANGE_CAP: i64 = 100_000;

fn to_store_error(e: IndexerError) -> StoreError {
    match e {
        IndexerError::Store(e) => e,
        other => StoreError::Corrupt {
            collection: "projections",
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, LogData};

    fn log_at(block: u64) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address: Address::ZERO,
                data: LogData::default(),
            },
            block_number: Some(block),
            ..Default::default()
        }
    }

    #[test]
    fn dense_ranges_are_committed_in_chunks_of_whole_blocks() {
        let logs: Vec<Log> = [1, 1, 1, 2, 2, 3, 5, 5, 5, 5]
            .into_iter()
            .map(log_at)
            .collect();
        let chunks = chunk_by_blocks(logs, 9, 3);
        let shape: Vec<(u64, Vec<u64>)> = chunks
            .iter()
            .map(|(end, c)| {
                (
                    *end,
                    c.iter()
                        .map(|l| l.block_number.unwrap_or_default())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (1, vec![1, 1, 1]),
                (3, vec![2, 2, 3]),
                (9, vec![5, 5, 5, 5])
            ]
        );
        assert_eq!(chunk_by_blocks(Vec::new(), 4, 3), vec![(4, Vec::new())]);
    }
}
