//! [`RelaySubmitter`]: sends queued jobs from a pool of relayer accounts and follows them to
//! finality. One *lane* per relayer account; a lane works only while its instance holds the
//! account's lease in the store.
//!
//! How it never loses, skips or reuses a nonce, across crashes and instances:
//!
//! - **Reservation binds nonces to jobs atomically.** A lane signs its next jobs with the nonces
//!   it predicts, then, in one store transaction, reserves that block of nonces from the
//!   account's counter (fenced by lease owner and epoch) and moves each job to `submitted` with
//!   its nonce and signed transaction. Either every nonce has a job, or none was taken.
//! - **Write before send.** Every signed transaction (first try, fee bump, no-op fill) is
//!   stored as the job's `attempt` *before* it is broadcast, so after a crash the lane re-sends
//!   exactly what may already be in the pool, and every hash that may be mined is known.
//! - **Reconciliation with the chain** when a lease is taken: the counter is raised past nonces
//!   used outside the relayer (never lowered), nonces reserved but unknown to the node are
//!   re-sent, and a reserved nonce without a job (impossible unless the store was edited) is
//!   filled with a no-op.
//! - **One nonce per job, forever.** A job keeps its nonce until a transaction at that nonce is
//!   mined: its call, a fee bump of it, or a no-op.
//!
//! What keeps the queue moving (OpenZeppelin Relayer users' complaints, designed against):
//!
//! - **Stuck transactions** (not mined `stuck_after_blocks` blocks or `stuck_after` time after
//!   sending: an idle chain makes no blocks to count) are replaced at the same nonce with fees
//!   raised by at least 12.5% and to the current estimate.
//! - **Nonce order at the node.** Each account's transactions are broadcast one after the other
//!   in nonce order (a node parks one that arrives before its predecessor, and anvil promotes
//!   it only when a block comes). Every round compares the node's pending nonce with the
//!   highest nonce in flight: a gap (a transaction the node dropped or parked) is closed by
//!   broadcasting from the gap up again, then, if it persists for `gap_grace`, by replacing the
//!   transaction at the gap with higher fees. No block from outside is needed.
//! - **Receipts follow the head subscription** (`newHeads` over WebSocket when the node offers
//!   it): a lane settles its jobs as soon as their block arrives, as the indexer projects it. The fee cap
//!   bounds every fee; while the network needs more than the cap, lanes stop taking new nonces
//!   (jobs wait in the queue, where they can still expire cleanly) instead of piling up
//!   transactions that cannot be mined.
//! - **Expired jobs never stall the jobs behind them.** A job whose deadline passes before it is
//!   sent is dropped without a nonce. One whose transaction is already out is replaced by a
//!   no-op (a 0-value self-transfer) at its nonce with bumped fees, so later nonces proceed; if
//!   the cap forbids the bump, its own transaction will still be mined (and revert), which frees
//!   the nonce just the same.
//! - **Failed requests** (reverted on chain, expired) fail the signer's later queued requests in
//!   the same nonce space at once, since the forwarder could never run them.
//!
//! States: `queued` → `submitted` → `mined` → `confirmed` (after `confirmations` blocks on the
//! same chain; a reorg moves a job back to `submitted`), or `failed` (reason) / `expired`.

use crate::{
    chain::{FeeEstimate, RelayChain, forward_gas_limit, wait_for_head},
    error::{RelayerError, Result},
    metrics as m,
    policy::SigningPolicy,
    request::{forward_execute_calldata, forward_request_of},
};
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::{BlockNumberOrTag, Encodable2718},
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, TxKind, U256},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
};
use bson::DateTime;
use futures_util::{FutureExt, StreamExt, future::join_all, stream};
use nest_keys::NestSigner;
use nest_store::{
    AuditRecord, JobChange, ReceiptSummary, RelayJob, RelayJobKind, RelayJobStatus, Store,
    StoreError, TxAttempt,
};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// Entity name of the nonce-counter conflict (a stale prediction; nothing committed).
const NONCE_COUNTER: &str = "relayer nonce counter";
/// Gas of a no-op (a plain transfer).
const NOOP_GAS: u64 = 21_000;
/// Signatures made at once while claiming (KMS and HSM calls overlap).
const SIGN_CONCURRENCY: usize = 16;
/// Least pause before looking at an empty queue again.
const IDLE_CLAIM_PAUSE: Duration = Duration::from_millis(50);
/// Checks of a settled nonce without any known receipt before its job is failed (a node behind
/// a load balancer may report the nonce before it serves the receipt).
const MISSING_RECEIPT_CHECKS: u32 = 20;

/// Sends and tracks relay jobs from a pool of relayer accounts. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RelaySubmitter {
    inner: Arc<SubmitterInner>,
}

#[derive(Debug)]
struct SubmitterInner {
    chain: RelayChain,
    store: Store,
    signers: Vec<NestSigner>,
}

impl RelaySubmitter {
    /// A submitter for `signers` (any `nest-keys` backend), each bound to the chain's id.
    pub async fn new(chain: RelayChain, store: Store, signers: Vec<NestSigner>) -> Result<Self> {
        if signers.is_empty() {
            return Err(RelayerError::Config(
                "the submitter needs at least one relayer account".into(),
            ));
        }
        let chain_id = chain.config().chain_id;
        let signers: Vec<NestSigner> = signers
            .into_iter()
            .map(|s| alloy::signers::Signer::with_chain_id(s, Some(chain_id)))
            .collect();
        let mut seen = HashSet::new();
        for s in &signers {
            if !seen.insert(s.address()) {
                return Err(RelayerError::Config(format!(
                    "relayer account {} is in the pool twice",
                    s.address()
                )));
            }
        }
        let addresses: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        chain.track_balances(&addresses).await?;
        Ok(Self {
            inner: Arc::new(SubmitterInner {
                chain,
                store,
                signers,
            }),
        })
    }

    /// The relayer accounts of the pool.
    pub fn addresses(&self) -> Vec<Address> {
        self.inner.signers.iter().map(|s| s.address()).collect()
    }

    /// Runs one lane per relayer account until `shutdown` completes, then lets each lane finish
    /// its round and release its lease. Dropping the returned future instead stops the lanes
    /// at once, without releasing (as a crash would: the leases expire).
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Tasks(Vec::new());
        for signer in &self.inner.signers {
            let lane = Lane::new(&self.inner.chain, &self.inner.store, signer.clone());
            tasks.0.push(tokio::spawn(lane.run(stop_rx.clone())));
        }
        tasks.0.push(tokio::spawn(job_gauges(
            self.inner.store.clone(),
            stop_rx.clone(),
        )));
        let stats = tasks.0.len() - 1;
        shutdown.await;
        let _ = stop_tx.send(true);
        tasks.0[stats].abort();
        for task in tasks.0.drain(..) {
            match task.await {
                Err(e) if e.is_panic() => warn!(error = %e, "a relayer lane panicked"),
                _ => {}
            }
        }
        info!("relayer submitter stopped");
        Ok(())
    }
}

/// Lane tasks, aborted if the submitter's `run` future is dropped.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Refreshes the per-state job gauges and the queue depth.
async fn job_gauges(store: Store, mut stop: watch::Receiver<bool>) {
    let states = [
        RelayJobStatus::Queued,
        RelayJobStatus::Submitted,
        RelayJobStatus::Mined,
        RelayJobStatus::Confirmed,
        RelayJobStatus::Failed,
        RelayJobStatus::Expired,
    ];
    while !*stop.borrow() {
        for state in states {
            if let Ok(count) = store.relay_jobs().count_in(state).await {
                metrics::gauge!(m::JOBS, "state" => state.as_str()).set(count as f64);
                if state == RelayJobStatus::Queued {
                    metrics::gauge!(m::QUEUE_DEPTH).set(count as f64);
                }
            }
        }
        pending_gauges(&store).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), stop.changed()).await;
    }
}

/// The age of the oldest job not yet mined, and the submitted transactions without progress.
async fn pending_gauges(store: &Store) {
    let now = bson::DateTime::now().timestamp_millis();
    let mut oldest = None::<i64>;
    for state in [RelayJobStatus::Queued, RelayJobStatus::Submitted] {
        if let Ok(jobs) = store.relay_jobs().oldest_in(state, 1).await
            && let Some(job) = jobs.first()
        {
            let created = job.created_at.timestamp_millis();
            oldest = Some(oldest.map_or(created, |o| o.min(created)));
        }
    }
    let age = oldest.map_or(0, |t| (now - t).max(0)) as f64 / 1_000.0;
    metrics::gauge!(m::OLDEST_PENDING).set(age);
    if let Ok(jobs) = store
        .relay_jobs()
        .oldest_in(RelayJobStatus::Submitted, nest_store::MAX_PAGE_SIZE)
        .await
    {
        let stuck = jobs
            .iter()
            .filter(|j| now - j.updated_at.timestamp_millis() > m::STUCK_AFTER_SECS * 1_000)
            .count();
        metrics::gauge!(m::STUCK).set(stuck as f64);
    }
}

/// A state change a round will write.
#[derive(Debug, Clone)]
struct Plan {
    /// The job's relayer nonce.
    nonce: u64,
    /// The job as the lane knows it (its status is the expected one).
    job: RelayJob,
    /// Its next state.
    next: RelayJobStatus,
    /// What else changes.
    change: JobChange,
    /// Also move it from mined to confirmed (no confirmations configured).
    confirm_now: bool,
}

/// Outcome of broadcasting one raw transaction.
enum Sent {
    /// The node has it (or already mined it).
    Done,
    /// Try again later.
    Retry(String),
}

/// Classifies a broadcast error by the node's message (nodes share these phrases).
fn classify_send_error(message: &str) -> Sent {
    let m = message.to_ascii_lowercase();
    if m.contains("already known")
        || m.contains("known transaction")
        || m.contains("already imported")
        || m.contains("nonce too low")
        || m.contains("already exists")
        || m.contains("underpriced")
    {
        Sent::Done
    } else {
        Sent::Retry(message.to_string())
    }
}

/// Fees of a replacement of a transaction offered at `old_max`/`old_priority`: at least
/// `permille`‰ above both, and at least the current estimate, within `cap`. `None` when even the
/// smallest valid bump would pass the cap.
pub fn bumped_fees(
    old_max: u128,
    old_priority: u128,
    estimate: &FeeEstimate,
    cap: u128,
    permille: u64,
) -> Option<(u128, u128)> {
    let up = |v: u128| {
        v.saturating_mul(1_000 + u128::from(permille))
            .div_ceil(1_000)
            .max(v.saturating_add(1))
    };
    let min_max = up(old_max);
    if min_max > cap {
        return None;
    }
    let priority = up(old_priority).max(estimate.priority_fee);
    let max_fee = min_max.max(estimate.max_fee).max(priority).min(cap);
    Some((max_fee, priority.min(max_fee)))
}

/// One relayer account's worker.
struct Lane {
    chain: RelayChain,
    store: Store,
    signer: NestSigner,
    address: Address,
    chain_id: u64,
    epoch: i64,
    next_nonce: u64,
    /// Jobs holding one of this account's nonces, not yet final, by that nonce.
    open: BTreeMap<u64, RelayJob>,
    /// Nonces whose latest attempt must be (re)broadcast.
    unsent: BTreeSet<u64>,
    /// Checks of settled nonces with no receipt found, by nonce.
    missing: HashMap<u64, u32>,
    /// Jobs whose replacement the fee cap blocked (warned once).
    capped: HashSet<String>,
    last_warning: Option<Instant>,
    /// No queued job was found at the last look: do not look again before this.
    idle_until: Option<Instant>,
    /// When the latest attempt of each open nonce was last broadcast (stuck detection by time).
    sent_at: HashMap<u64, Instant>,
    /// The nonce gap the node reports, if any, and since when.
    gap: Option<NonceGap>,
}

/// A nonce the node is missing although the lane sent it (and later ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NonceGap {
    /// The node's pending nonce: the first one it cannot execute.
    nonce: u64,
    /// When it was first seen (or last acted on).
    since: Instant,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane")
            .field("address", &self.address)
            .field("epoch", &self.epoch)
            .field("next_nonce", &self.next_nonce)
            .field("open", &self.open.len())
            .finish()
    }
}

impl Lane {
    fn new(chain: &RelayChain, store: &Store, signer: NestSigner) -> Self {
        Self {
            chain: chain.clone(),
            store: store.clone(),
            address: signer.address(),
            chain_id: chain.config().chain_id,
            signer,
            epoch: 0,
            next_nonce: 0,
            open: BTreeMap::new(),
            unsent: BTreeSet::new(),
            missing: HashMap::new(),
            capped: HashSet::new(),
            last_warning: None,
            idle_until: None,
            sent_at: HashMap::new(),
            gap: None,
        }
    }

    fn owner(&self) -> &str {
        &self.chain.config().instance_id
    }

    /// Warns at most every 10 s per lane (a node or store outage would otherwise flood the log).
    fn warn_limited(&mut self, message: &str, error: &dyn std::fmt::Display) {
        let now = Instant::now();
        if self
            .last_warning
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(10))
        {
            self.last_warning = Some(now);
            warn!(signer = %self.address, error = %error, "{message}");
        }
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let config = self.chain.config().clone();
        let mut heads = self.chain.head_changes();
        'outer: while !*stop.borrow() {
            let lease = self
                .store
                .relay_signers()
                .acquire(self.chain_id, &self.address, self.owner(), config.lease_ttl)
                .await;
            match lease {
                Ok(Some(lease)) => {
                    self.epoch = lease.epoch;
                    self.next_nonce = lease.next_nonce.max(0) as u64;
                    info!(signer = %self.address, epoch = lease.epoch, next_nonce = self.next_nonce, "relayer account lease taken");
                }
                Ok(None) => {
                    debug!(signer = %self.address, "relayer account leased by another instance");
                    let _ = tokio::time::timeout(config.lease_ttl / 3, stop.changed()).await;
                    continue;
                }
                Err(e) => {
                    self.warn_limited("cannot take the relayer account lease", &e);
                    let _ = tokio::time::timeout(config.poll_interval * 5, stop.changed()).await;
                    continue;
                }
            }
            if let Err(e) = self.reconcile().await {
                self.warn_limited("reconciling the relayer account with the chain failed", &e);
                let _ = tokio::time::timeout(config.poll_interval * 5, stop.changed()).await;
                continue;
            }
            let mut renewed = Instant::now();
            loop {
                if *stop.borrow() {
                    let _ = self
                        .store
                        .relay_signers()
                        .release(self.chain_id, &self.address, self.owner(), self.epoch)
                        .await;
                    break 'outer;
                }
                if renewed.elapsed() >= config.lease_ttl / 3 {
                    match self
                        .store
                        .relay_signers()
                        .renew(
                            self.chain_id,
                            &self.address,
                            self.owner(),
                            self.epoch,
                            config.lease_ttl,
                        )
                        .await
                    {
                        Ok(true) => renewed = Instant::now(),
                        Ok(false) => {
                            warn!(signer = %self.address, "relayer account lease lost; taking it again");
                            break;
                        }
                        Err(e) => self.warn_limited("cannot renew the lease", &e),
                    }
                }
                match self.round().await {
                    Ok(()) => {}
                    Err(RelayerError::Store(StoreError::StateConflict { .. })) => {
                        // Someone else moved one of our jobs: our view is stale, rebuild it.
                        break;
                    }
                    Err(e) => self.warn_limited("relayer round failed", &e),
                }
                metrics::gauge!(m::IN_FLIGHT, "signer" => format!("{:#x}", self.address))
                    .set(self.open.len() as f64);
                wait_for_head(&mut heads, config.poll_interval).await;
            }
        }
        debug!(signer = %self.address, "lane stopped");
    }

    /// Brings the lane in line with the store and the chain after taking the lease.
    async fn reconcile(&mut self) -> Result<()> {
        let provider = self.chain.provider().clone();
        let latest = provider
            .get_transaction_count(self.address)
            .latest()
            .await
            .map_err(|e| RelayerError::rpc("eth_getTransactionCount", e))?;
        let pending = provider
            .get_transaction_count(self.address)
            .pending()
            .await
            .map_err(|e| RelayerError::rpc("eth_getTransactionCount", e))?;
        let jobs = self
            .store
            .relay_jobs()
            .open_for_signer(self.chain_id, &self.address)
            .await?;
        self.open = jobs
            .into_iter()
            .filter_map(|j| j.signer_nonce.map(|n| (n.max(0) as u64, j)))
            .collect();
        self.missing.clear();
        self.sent_at.clear();
        self.gap = None;
        let floor = latest.max(pending);
        if floor > self.next_nonce {
            warn!(signer = %self.address, store = self.next_nonce, chain = floor, "the account was used outside the relayer: skipping to the chain's nonce");
            let lease = self
                .store
                .relay_signers()
                .raise_next_nonce(
                    self.chain_id,
                    &self.address,
                    self.owner(),
                    self.epoch,
                    floor,
                )
                .await?
                .ok_or_else(|| RelayerError::Unavailable("lease lost while reconciling".into()))?;
            self.next_nonce = lease.next_nonce.max(0) as u64;
        }
        // Reserved nonces the chain has not seen and no job holds: fill them so later ones run.
        for nonce in latest..self.next_nonce {
            if !self.open.contains_key(&nonce) {
                warn!(signer = %self.address, nonce, "reserved nonce without a job: filling it with a no-op");
                let fees = self.chain.fees().await?;
                let cap = self.chain.config().max_fee_per_gas;
                let (tx, _) = self
                    .sign(
                        format!("no-op at nonce {nonce}"),
                        nonce,
                        self.address,
                        Bytes::new(),
                        NOOP_GAS,
                        fees.max_fee.saturating_mul(2).min(cap),
                        fees.priority_fee.saturating_mul(2).min(cap),
                    )
                    .await?;
                if let Sent::Retry(e) = self.broadcast(&tx).await {
                    warn!(signer = %self.address, nonce, error = %e, "no-op fill not accepted");
                }
            }
        }
        self.unsent = self
            .open
            .iter()
            .filter(|(_, j)| j.status == RelayJobStatus::Submitted && j.attempt.is_some())
            .map(|(n, _)| *n)
            .collect();
        info!(signer = %self.address, open = self.open.len(), chain_nonce = latest, next_nonce = self.next_nonce, "relayer account reconciled");
        Ok(())
    }

    /// One round: settle what was mined, confirm, close a nonce gap at the node, replace stuck
    /// or expired transactions, claim new jobs, and (re)broadcast.
    async fn round(&mut self) -> Result<()> {
        let head = self.chain.head();
        self.settle().await?;
        self.confirm(head.number).await?;
        self.close_gap(head.number).await?;
        self.replace(head.number, head.timestamp).await?;
        self.claim(head.number, head.timestamp).await?;
        self.send_unsent().await;
        Ok(())
    }

    /// The time the next block will at least have.
    fn next_block_time(&self, head_timestamp: u64) -> u64 {
        (head_timestamp + 1).max(crate::chain::unix_now())
    }

    async fn settle(&mut self) -> Result<()> {
        if !self
            .open
            .values()
            .any(|j| j.status == RelayJobStatus::Submitted)
        {
            return Ok(());
        }
        let latest = self
            .chain
            .provider()
            .get_transaction_count(self.address)
            .latest()
            .await
            .map_err(|e| RelayerError::rpc("eth_getTransactionCount", e))?;
        let settled: Vec<(u64, RelayJob)> = self
            .open
            .range(..latest)
            .filter(|(_, j)| j.status == RelayJobStatus::Submitted)
            .map(|(n, j)| (*n, j.clone()))
            .collect();
        if settled.is_empty() {
            return Ok(());
        }
        let provider = self.chain.provider().clone();
        let lookups = settled.iter().map(|(_, job)| {
            let provider = provider.clone();
            let hashes: Vec<String> = job.tx_hashes.iter().rev().cloned().collect();
            async move {
                for hash in hashes {
                    let Ok(hash) = hash.parse::<B256>() else {
                        continue;
                    };
                    match provider.get_transaction_receipt(hash).await {
                        Ok(Some(receipt)) => return Ok(Some(receipt)),
                        Ok(None) => {}
                        Err(e) => return Err(RelayerError::rpc("eth_getTransactionReceipt", e)),
                    }
                }
                Ok(None)
            }
        });
        let receipts = join_all(lookups).await;
        let mut plans = Vec::new();
        for ((nonce, job), receipt) in settled.into_iter().zip(receipts) {
            match receipt? {
                Some(receipt) => plans.push(self.plan_mined(nonce, job, receipt).await),
                None => {
                    let checks = self.missing.entry(nonce).or_default();
                    *checks += 1;
                    if *checks >= MISSING_RECEIPT_CHECKS {
                        self.missing.remove(&nonce);
                        warn!(signer = %self.address, nonce, job = %job.id, "the nonce was used by a transaction the relayer did not send");
                        let reason = format!(
                            "relayer account {} nonce {nonce} was used by a transaction outside the relayer before this request ran; send it again",
                            self.address
                        );
                        plans.push(Plan {
                            nonce,
                            next: RelayJobStatus::Failed,
                            change: JobChange::default().error(reason),
                            confirm_now: false,
                            job,
                        });
                    }
                }
            }
        }
        for (nonce, job) in self.apply(plans).await? {
            self.missing.remove(&nonce);
            self.unsent.remove(&nonce);
            if job.status.is_final() {
                self.open.remove(&nonce);
                if matches!(job.status, RelayJobStatus::Failed | RelayJobStatus::Expired) {
                    self.cascade(&job).await?;
                }
            } else {
                self.open.insert(nonce, job);
            }
        }
        Ok(())
    }

    /// Writes planned state changes in one store transaction (one commit for the round);
    /// returns the jobs as stored.
    async fn apply(&self, plans: Vec<Plan>) -> Result<Vec<(u64, RelayJob)>> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        let store = self.store.clone();
        let stored = store
            .transaction(|session| {
                let jobs = store.relay_jobs();
                let plans = plans.clone();
                async move {
                    let mut stored = Vec::with_capacity(plans.len());
                    for plan in plans {
                        let mut job = jobs
                            .transition_in(
                                session,
                                &plan.job.id,
                                plan.job.status,
                                plan.next,
                                plan.change,
                            )
                            .await?;
                        if plan.confirm_now {
                            job = jobs
                                .transition_in(
                                    session,
                                    &plan.job.id,
                                    RelayJobStatus::Mined,
                                    RelayJobStatus::Confirmed,
                                    JobChange::default(),
                                )
                                .await?;
                        }
                        stored.push((plan.nonce, job));
                    }
                    Ok(stored)
                }
                .boxed()
            })
            .await?;
        let now = DateTime::now().timestamp_millis();
        for (plan, (_, job)) in plans.iter().zip(&stored) {
            metrics::counter!(m::TRANSITIONS, "state" => plan.next.as_str()).increment(1);
            if plan.next == RelayJobStatus::Mined {
                let waited = now - plan.job.created_at.timestamp_millis();
                metrics::histogram!(m::TIME_TO_MINED).record(waited.max(0) as f64 / 1_000.0);
            }
            if plan.confirm_now {
                metrics::counter!(m::TRANSITIONS, "state" => "confirmed").increment(1);
            }
            debug!(job = %job.id, status = job.status.as_str(), "relay job moved");
        }
        Ok(stored)
    }

    /// What the receipt of a job's nonce says: the job's next state.
    async fn plan_mined(&self, nonce: u64, job: RelayJob, receipt: TransactionReceipt) -> Plan {
        let hash = receipt.transaction_hash;
        let block = receipt.block_number.unwrap_or_default() as i64;
        let noop = receipt.to == Some(self.address);
        let summary = ReceiptSummary {
            success: receipt.status(),
            block_hash: receipt.block_hash.unwrap_or_default(),
            gas_used: receipt.gas_used as i64,
            effective_gas_price: U256::from(receipt.effective_gas_price),
            noop,
        };
        let change = JobChange::default().mined(hash, block).receipt(summary);
        let intended_noop = job.attempt.as_ref().is_some_and(|a| a.noop);
        let (next, change) = if noop {
            (
                RelayJobStatus::Expired,
                change.error(format!(
                    "the deadline passed before it was mined; relayer nonce {nonce} was filled with a no-op"
                )),
            )
        } else if receipt.status() {
            (RelayJobStatus::Mined, change)
        } else if intended_noop || (job.deadline.max(0) as u64) < self.chain.head().timestamp {
            // Its own transaction was mined after the deadline (the no-op replacement lost the
            // race, or the fee cap left no room for one) and reverted.
            (
                RelayJobStatus::Expired,
                change.error("the deadline passed before it was mined (its transaction was mined late and reverted)"),
            )
        } else {
            let reason = self
                .chain
                .explain_revert(&job, block.saturating_sub(1) as u64)
                .await;
            (
                RelayJobStatus::Failed,
                change.error(format!("reverted on chain: {reason}")),
            )
        };
        Plan {
            nonce,
            confirm_now: next == RelayJobStatus::Mined && self.chain.config().confirmations == 0,
            next,
            change,
            job,
        }
    }

    /// Fails the signer's queued requests behind a job that did not run (they can never run).
    async fn cascade(&self, job: &RelayJob) -> Result<()> {
        let jobs = self.store.relay_jobs();
        let behind = jobs
            .queued_after(self.chain_id, &job.forwarder, &job.from, &job.nonce)
            .await?;
        for later in behind {
            let reason = format!(
                "an earlier request of {} (nonce {}) did not run, so this one cannot; sign it again with nonce {}",
                job.from, job.nonce, job.nonce
            );
            match jobs
                .transition(
                    &later.id,
                    RelayJobStatus::Queued,
                    RelayJobStatus::Failed,
                    JobChange::default().error(reason),
                )
                .await
            {
                Ok(_) => {
                    metrics::counter!(m::TRANSITIONS, "state" => "failed").increment(1);
                }
                Err(StoreError::StateConflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn confirm(&mut self, head: u64) -> Result<()> {
        let depth = self.chain.config().confirmations;
        let due: Vec<(u64, RelayJob)> = self
            .open
            .iter()
            .filter(|(_, j)| {
                j.status == RelayJobStatus::Mined
                    && j.mined_block
                        .is_some_and(|b| head >= (b.max(0) as u64).saturating_add(depth))
            })
            .map(|(n, j)| (*n, j.clone()))
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let mut hashes: HashMap<u64, Option<B256>> = HashMap::new();
        for (_, job) in &due {
            let number = job.mined_block.unwrap_or_default().max(0) as u64;
            if let std::collections::hash_map::Entry::Vacant(entry) = hashes.entry(number) {
                let block = self
                    .chain
                    .provider()
                    .get_block_by_number(BlockNumberOrTag::Number(number))
                    .await
                    .map_err(|e| RelayerError::rpc("eth_getBlockByNumber", e))?;
                entry.insert(block.map(|b| b.header.hash));
            }
        }
        let mut plans = Vec::new();
        for (nonce, job) in due {
            let number = job.mined_block.unwrap_or_default().max(0) as u64;
            let canonical = hashes.get(&number).copied().flatten();
            let expected = job.receipt.as_ref().map(|r| r.block_hash);
            if canonical.is_some() && canonical == expected {
                plans.push(Plan {
                    nonce,
                    next: RelayJobStatus::Confirmed,
                    change: JobChange::default(),
                    confirm_now: false,
                    job,
                });
            } else {
                warn!(job = %job.id, block = number, "the job's block was reorganised away: sending it again");
                plans.push(Plan {
                    nonce,
                    next: RelayJobStatus::Submitted,
                    change: JobChange::default().unmined(),
                    confirm_now: false,
                    job,
                });
            }
        }
        for (nonce, job) in self.apply(plans).await? {
            if job.status.is_final() {
                self.open.remove(&nonce);
            } else {
                self.unsent.insert(nonce);
                self.open.insert(nonce, job);
            }
        }
        Ok(())
    }

    /// Replaces transactions stuck for `stuck_after_blocks` blocks or `stuck_after` time, and
    /// those of jobs past their deadline with a no-op.
    async fn replace(&mut self, head: u64, head_timestamp: u64) -> Result<()> {
        let config = self.chain.config().clone();
        let next_time = self.next_block_time(head_timestamp);
        let candidates: Vec<(u64, RelayJob, bool)> = self
            .open
            .iter()
            .filter(|(_, j)| j.status == RelayJobStatus::Submitted)
            .filter_map(|(n, j)| {
                let attempt = j.attempt.as_ref()?;
                let expired = !attempt.noop && (j.deadline.max(0) as u64) < next_time;
                let stuck = head >= (attempt.sent_block.max(0) as u64) + config.stuck_after_blocks
                    || self
                        .sent_at
                        .get(n)
                        .is_some_and(|t| t.elapsed() >= config.stuck_after);
                (expired || stuck).then(|| (*n, j.clone(), expired || attempt.noop))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let fees = self.chain.fees().await?;
        for (nonce, job, noop) in candidates {
            let reason = if noop { "expired" } else { "stuck" };
            self.replace_one(nonce, job, noop, reason, head, &fees)
                .await?;
        }
        Ok(())
    }

    /// Signs a replacement of `job`'s transaction at `nonce` (its call, or a no-op) with fees
    /// raised past the node's replacement rule, stores it as the job's attempt and queues it for
    /// broadcast. Does nothing (but warn once) when the fee cap leaves no room.
    async fn replace_one(
        &mut self,
        nonce: u64,
        job: RelayJob,
        noop: bool,
        reason: &'static str,
        head: u64,
        fees: &FeeEstimate,
    ) -> Result<()> {
        let config = self.chain.config().clone();
        let Some(old) = job.attempt.clone() else {
            return Ok(());
        };
        let old_max = u128::try_from(old.max_fee_per_gas).unwrap_or(u128::MAX);
        let old_priority = u128::try_from(old.max_priority_fee_per_gas).unwrap_or(u128::MAX);
        let Some((max_fee, priority)) = bumped_fees(
            old_max,
            old_priority,
            fees,
            config.max_fee_per_gas,
            config.fee_bump_permille,
        ) else {
            metrics::counter!(m::FEE_CAP_HITS).increment(1);
            if self.capped.insert(job.id.clone()) {
                warn!(job = %job.id, nonce, old_max, cap = config.max_fee_per_gas, "the fee cap leaves no room to replace this transaction; it stays in the pool at its fee (it still frees the nonce when mined)");
            }
            return Ok(());
        };
        let (to, input, gas) = if noop {
            (self.address, Bytes::new(), NOOP_GAS)
        } else {
            let (to, input) = self.call_of(&job)?;
            (to, input, old.gas_limit.max(0) as u64)
        };
        let (envelope, attempt) = self
            .sign(job.id.clone(), nonce, to, input, gas, max_fee, priority)
            .await
            .map(|(tx, mut attempt)| {
                attempt.sent_block = head as i64;
                (tx, attempt)
            })?;
        let stored = self
            .store
            .relay_jobs()
            .transition(
                &job.id,
                RelayJobStatus::Submitted,
                RelayJobStatus::Submitted,
                JobChange::default().attempt(attempt),
            )
            .await?;
        metrics::counter!(m::REPLACEMENTS, "reason" => reason).increment(1);
        info!(job = %job.id, nonce, reason, max_fee, priority, hash = %envelope.tx_hash(), "replacing a relay transaction");
        self.open.insert(nonce, stored);
        self.sent_at.remove(&nonce);
        self.unsent.insert(nonce);
        Ok(())
    }

    /// Finds a nonce gap at the node: its pending nonce (the first nonce of this account it
    /// cannot execute) below a nonce the lane has sent. The node lost the transaction at the
    /// gap (dropped from its pool, evicted) or parked it as *queued* and never promoted it
    /// (it reached the node before its predecessor was mined, and the node re-checks only when a
    /// block comes; an idle chain brings none). First the transactions from the gap up are
    /// broadcast again, in nonce order; if the node still reports the same gap `gap_grace`
    /// later, the one at the gap is replaced with higher fees, which every node evaluates
    /// afresh. Needs no new block from anyone.
    async fn close_gap(&mut self, head: u64) -> Result<()> {
        let unsent = &self.unsent;
        let Some(top) = self
            .open
            .iter()
            .rev()
            .find(|(n, j)| {
                j.status == RelayJobStatus::Submitted && j.attempt.is_some() && !unsent.contains(n)
            })
            .map(|(n, _)| *n)
        else {
            self.gap = None;
            return Ok(());
        };
        let pending = self
            .chain
            .provider()
            .get_transaction_count(self.address)
            .pending()
            .await
            .map_err(|e| RelayerError::rpc("eth_getTransactionCount", e))?;
        if pending > top {
            self.gap = None;
            return Ok(());
        }
        let Some(job) = self
            .open
            .get(&pending)
            .filter(|j| j.status == RelayJobStatus::Submitted && !self.unsent.contains(&pending))
            .cloned()
        else {
            // Not a nonce the lane is waiting on (one settled a moment ago, or mined since), or
            // one about to be broadcast anyway.
            self.gap = None;
            return Ok(());
        };
        let grace = self.chain.config().gap_grace;
        match self.gap {
            Some(gap) if gap.nonce == pending && gap.since.elapsed() < grace => {}
            Some(gap) if gap.nonce == pending => {
                metrics::counter!(m::NONCE_GAPS, "action" => "replace").increment(1);
                warn!(signer = %self.address, nonce = pending, top, "the node still lacks the transaction at the nonce gap: replacing it with higher fees");
                let fees = self.chain.fees().await?;
                let noop = job.attempt.as_ref().is_some_and(|a| a.noop);
                self.replace_one(pending, job, noop, "gap", head, &fees)
                    .await?;
                self.gap = Some(NonceGap {
                    nonce: pending,
                    since: Instant::now(),
                });
            }
            _ => {
                metrics::counter!(m::NONCE_GAPS, "action" => "rebroadcast").increment(1);
                warn!(signer = %self.address, nonce = pending, top, "the node is missing a relay transaction: broadcasting it and those after it again, in nonce order");
                let again: Vec<u64> = self
                    .open
                    .range(pending..=top)
                    .filter(|(_, j)| j.status == RelayJobStatus::Submitted && j.attempt.is_some())
                    .map(|(n, _)| *n)
                    .collect();
                self.unsent.extend(again);
                self.gap = Some(NonceGap {
                    nonce: pending,
                    since: Instant::now(),
                });
            }
        }
        Ok(())
    }

    /// The target and call data of a job's transaction.
    fn call_of(&self, job: &RelayJob) -> Result<(Address, Bytes)> {
        match job.kind {
            RelayJobKind::Forward => {
                let request = forward_request_of(job)?;
                Ok((
                    self.chain.domains().forwarder,
                    forward_execute_calldata(&request),
                ))
            }
            RelayJobKind::Vote | RelayJobKind::Delegate | RelayJobKind::Governance => {
                let data: Bytes = job.data.parse().map_err(|e| {
                    RelayerError::Config(format!("job {}: stored call data: {e}", job.id))
                })?;
                Ok((job.to, data))
            }
        }
    }

    fn gas_limit_of(&self, job: &RelayJob) -> u64 {
        match job.kind {
            RelayJobKind::Forward => {
                forward_gas_limit(job.gas.max(0) as u64, job.data.len().saturating_sub(2) / 2)
            }
            _ => job.gas.max(0) as u64,
        }
    }

    /// Signs a type-2 transaction from this account, and records the signature in the audit
    /// chain under `reference` (the job, or the nonce a no-op fills).
    #[allow(clippy::too_many_arguments)]
    async fn sign(
        &self,
        reference: String,
        nonce: u64,
        to: Address,
        input: Bytes,
        gas_limit: u64,
        max_fee: u128,
        priority: u128,
    ) -> Result<(TxEnvelope, TxAttempt)> {
        let signed = sign_tx(
            &self.signer,
            &SigningPolicy::new(self.chain.config(), self.address),
            self.chain_id,
            nonce,
            to,
            input,
            gas_limit,
            max_fee,
            priority,
        )
        .await?;
        self.audit(vec![(&signed.1, reference)]).await?;
        Ok(signed)
    }

    /// Appends the signatures of `signed` (attempt, job or nonce reference) to the audit chain.
    async fn audit(&self, signed: Vec<(&TxAttempt, String)>) -> Result<()> {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        let caller = format!("{:#x}", self.address);
        let records = signed
            .into_iter()
            .map(|(attempt, reference)| AuditRecord {
                purpose: TX_SIGNING.into(),
                version: 0,
                digest: format!("{:#x}", attempt.hash),
                caller: caller.clone(),
                reference,
                at_ms,
            })
            .collect();
        self.store.key_ring().audit_many(records).await?;
        Ok(())
    }

    /// Gives nonces to the next queued jobs and sends them.
    async fn claim(&mut self, head: u64, head_timestamp: u64) -> Result<()> {
        let config = self.chain.config().clone();
        if self.open.len() >= config.max_in_flight {
            return Ok(());
        }
        if self.idle_until.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        let fees = self.chain.fees().await?;
        let jobs = self.store.relay_jobs();
        let limit = (config.max_in_flight - self.open.len()).min(config.claim_batch as usize);
        let queued = jobs
            .claimable(self.chain_id, &self.address, limit as u32)
            .await?;
        if queued.is_empty() {
            // An empty queue is looked at again after a pause, not every round.
            self.idle_until = Some(Instant::now() + IDLE_CLAIM_PAUSE.max(config.poll_interval * 2));
            return Ok(());
        }
        self.idle_until = None;
        // Jobs past their deadline leave without a nonce (and take their successors along).
        let next_time = self.next_block_time(head_timestamp);
        let margin = config.deadline_margin.as_secs().min(5);
        let mut dropped: HashSet<(Address, Address)> = HashSet::new();
        let mut batch = Vec::new();
        for job in queued {
            if dropped.contains(&(job.forwarder, job.from)) {
                continue;
            }
            if (job.deadline.max(0) as u64) < next_time + margin {
                dropped.insert((job.forwarder, job.from));
                match jobs
                    .transition(
                        &job.id,
                        RelayJobStatus::Queued,
                        RelayJobStatus::Expired,
                        JobChange::default()
                            .error("the deadline passed before the relayer could send it"),
                    )
                    .await
                {
                    Ok(stored) => {
                        metrics::counter!(m::TRANSITIONS, "state" => "expired").increment(1);
                        self.cascade(&stored).await?;
                    }
                    Err(StoreError::StateConflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            // A job the signing policy refuses (it could only come from a tampered store) fails
            // here, before it takes a nonce, instead of blocking the lane.
            let policy = SigningPolicy::new(&config, self.address);
            let refusal = self.call_of(&job).and_then(|(to, input)| {
                policy.check(to, &input, self.gas_limit_of(&job), config.max_fee_per_gas)
            });
            if let Err(refusal) = refusal {
                warn!(job = %job.id, error = %refusal, "job refused by the signing policy");
                match jobs
                    .transition(
                        &job.id,
                        RelayJobStatus::Queued,
                        RelayJobStatus::Failed,
                        JobChange::default().error(refusal.to_string()),
                    )
                    .await
                {
                    Ok(stored) => {
                        metrics::counter!(m::TRANSITIONS, "state" => "failed").increment(1);
                        dropped.insert((job.forwarder, job.from));
                        self.cascade(&stored).await?;
                    }
                    Err(StoreError::StateConflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            batch.push(job);
        }
        if batch.is_empty() {
            return Ok(());
        }
        if fees.required() > config.max_fee_per_gas {
            metrics::counter!(m::FEE_CAP_HITS).increment(1);
            let e = format!(
                "the next block needs {} wei per gas, above the cap of {}",
                fees.required(),
                config.max_fee_per_gas
            );
            self.warn_limited("holding queued jobs: network fees are above the cap", &e);
            return Ok(());
        }
        let balance = self.chain.balance(&self.address).unwrap_or_default();
        if balance < config.min_signer_balance {
            let e = format!("balance {balance} wei");
            self.warn_limited(
                "holding queued jobs: the relayer account is short of funds",
                &e,
            );
            return Ok(());
        }
        let max_fee = fees.max_fee.min(config.max_fee_per_gas);
        let priority = fees.priority_fee.min(max_fee);
        let first = self.next_nonce;
        // Sign with the predicted nonces first (outside the store transaction: KMS and HSM
        // calls are slow); the reservation below checks the prediction.
        let mut to_sign = Vec::new();
        for (i, job) in batch.iter().enumerate() {
            let (to, input) = self.call_of(job)?;
            to_sign.push((first + i as u64, to, input, self.gas_limit_of(job)));
        }
        let signer = self.signer.clone();
        let chain_id = self.chain_id;
        let policy = SigningPolicy::new(&config, self.address);
        let signed: Vec<Result<(TxEnvelope, TxAttempt)>> = stream::iter(to_sign)
            .map(|(nonce, to, input, gas)| {
                let (signer, policy) = (signer.clone(), policy.clone());
                async move {
                    sign_tx(
                        &signer, &policy, chain_id, nonce, to, input, gas, max_fee, priority,
                    )
                    .await
                }
            })
            .buffered(SIGN_CONCURRENCY)
            .collect()
            .await;
        let mut attempts = Vec::new();
        for result in signed {
            let (_, mut attempt) = result?;
            attempt.sent_block = head as i64;
            attempts.push(attempt);
        }
        self.audit(
            attempts
                .iter()
                .zip(&batch)
                .map(|(attempt, job)| (attempt, job.id.clone()))
                .collect(),
        )
        .await?;
        let count = batch.len() as u64;
        let owner = self.owner().to_string();
        let epoch = self.epoch;
        let address = self.address;
        let store = self.store.clone();
        let ids: Vec<String> = batch.iter().map(|j| j.id.clone()).collect();
        let reserved = store
            .transaction(|session| {
                let (jobs, signers) = (store.relay_jobs(), store.relay_signers());
                let (owner, ids, attempts) = (owner.clone(), ids.clone(), attempts.clone());
                async move {
                    let reserved = signers
                        .reserve_nonces_in(session, chain_id, &address, &owner, epoch, count)
                        .await?
                        .ok_or_else(|| StoreError::StateConflict {
                            entity: "relayer account lease",
                            id: format!("{address:#x}"),
                            expected: format!("held by {owner} at epoch {epoch}"),
                        })?;
                    if reserved != first {
                        // Abort: committing would reserve nonces no job holds.
                        return Err(StoreError::StateConflict {
                            entity: NONCE_COUNTER,
                            id: format!("{address:#x}"),
                            expected: format!("next nonce {first}, found {reserved}"),
                        });
                    }
                    let mut stored = Vec::new();
                    for (i, (id, attempt)) in ids.iter().zip(attempts).enumerate() {
                        stored.push(
                            jobs.transition_in(
                                session,
                                id,
                                RelayJobStatus::Queued,
                                RelayJobStatus::Submitted,
                                JobChange::default()
                                    .signer(address)
                                    .signer_nonce((first + i as u64) as i64)
                                    .attempt(attempt),
                            )
                            .await?,
                        );
                    }
                    Ok(stored)
                }
                .boxed()
            })
            .await;
        let stored = match reserved {
            Ok(stored) => stored,
            Err(StoreError::StateConflict {
                entity: NONCE_COUNTER,
                expected,
                ..
            }) => {
                // Our counter was stale and nothing was committed; re-read it for next round.
                warn!(signer = %self.address, %expected, "nonce counter moved; re-reading it");
                let lease = self
                    .store
                    .relay_signers()
                    .get(self.chain_id, &self.address)
                    .await?;
                if let Some(lease) = lease {
                    self.next_nonce = lease.next_nonce.max(0) as u64;
                }
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        self.next_nonce = first + count;
        for (i, job) in stored.into_iter().enumerate() {
            let nonce = first + i as u64;
            self.unsent.insert(nonce);
            self.open.insert(nonce, job);
        }
        metrics::counter!(m::TRANSITIONS, "state" => "submitted").increment(count);
        debug!(signer = %self.address, first, count, "relay jobs claimed");
        Ok(())
    }

    /// Broadcasts the latest attempt of every nonce waiting for it, one after the other in
    /// nonce order: a node parks a transaction that arrives before its predecessor as *queued*,
    /// and some (anvil) promote it only when a later block comes. A failed broadcast ends the
    /// round's sends (the later nonces would only be parked behind it); they go next round.
    async fn send_unsent(&mut self) {
        let nonces: Vec<u64> = self.unsent.iter().copied().collect();
        for nonce in nonces {
            let raw = self
                .open
                .get(&nonce)
                .and_then(|j| j.attempt.as_ref())
                .and_then(|a| a.raw.parse::<Bytes>().ok());
            let Some(raw) = raw else {
                self.unsent.remove(&nonce);
                continue;
            };
            let sent = match self.chain.provider().send_raw_transaction(&raw).await {
                Ok(_) => Sent::Done,
                Err(e) => classify_send_error(&e.to_string()),
            };
            match sent {
                Sent::Done => {
                    self.unsent.remove(&nonce);
                    self.sent_at.insert(nonce, Instant::now());
                }
                Sent::Retry(e) => {
                    metrics::counter!(m::RPC_ERRORS, "call" => "eth_sendRawTransaction")
                        .increment(1);
                    self.warn_limited("broadcast failed; will retry in nonce order", &e);
                    break;
                }
            }
        }
        // Nonces no longer open need no broadcast and no clock.
        let open = &self.open;
        self.unsent.retain(|n| open.contains_key(n));
        self.sent_at.retain(|n, _| open.contains_key(n));
    }

    async fn broadcast(&self, tx: &TxEnvelope) -> Sent {
        match self
            .chain
            .provider()
            .send_raw_transaction(&tx.encoded_2718())
            .await
        {
            Ok(_) => Sent::Done,
            Err(e) => classify_send_error(&e.to_string()),
        }
    }
}

/// The audit chain's purpose name for relayer transaction signatures (version 0: relayer
/// accounts are not versioned yet).
pub const TX_SIGNING: &str = "tx-signing";

/// Signs a type-2 transaction and returns it with its stored form (`sent_block` left 0).
#[allow(clippy::too_many_arguments)]
async fn sign_tx(
    signer: &NestSigner,
    policy: &SigningPolicy,
    chain_id: u64,
    nonce: u64,
    to: Address,
    input: Bytes,
    gas_limit: u64,
    max_fee: u128,
    priority: u128,
) -> Result<(TxEnvelope, TxAttempt)> {
    // The last check before the key: whatever the job says, only Nest's contracts or the
    // account's own no-op, under the caps.
    policy.check(to, &input, gas_limit, max_fee)?;
    // A no-op is a 0-value transfer to oneself.
    let noop = input.is_empty() && to == signer.address();
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input,
    };
    // Sign the digest directly so a key error keeps its kind (transient KMS/HSM trouble).
    let signature = signer.sign_digest(&tx.signature_hash()).await?;
    let envelope = TxEnvelope::from(tx.into_signed(signature));
    let attempt = TxAttempt {
        hash: *envelope.tx_hash(),
        raw: Bytes::from(envelope.encoded_2718()).to_string(),
        max_fee_per_gas: U256::from(max_fee),
        max_priority_fee_per_gas: U256::from(priority),
        gas_limit: gas_limit as i64,
        sent_block: 0,
        noop,
    };
    Ok((envelope, attempt))
}

impl RelayChain {
    /// Why a job's mined transaction reverted: its call replayed on the state at `block`.
    pub async fn explain_revert(&self, job: &RelayJob, block: u64) -> String {
        let Some(signer) = job.signer else {
            return "unknown".into();
        };
        let forward = match job.kind {
            RelayJobKind::Forward => forward_request_of(job).ok(),
            _ => None,
        };
        let (to, input) = match &forward {
            Some(r) => (self.domains().forwarder, forward_execute_calldata(r)),
            None => match job.data.parse::<Bytes>() {
                Ok(data) => (job.to, data),
                Err(_) => return "unknown".into(),
            },
        };
        let tx = TransactionRequest::default()
            .with_from(signer)
            .with_to(to)
            .with_input(input);
        let outcome = self
            .provider()
            .call(tx)
            .block(BlockNumberOrTag::Number(block).into())
            .await;
        let data = match outcome {
            Ok(_) => {
                return "the revert could not be reproduced on the parent block's state".into();
            }
            Err(e) => match crate::chain::revert_data(&e) {
                Some(data) => data,
                None => return e.to_string(),
            },
        };
        if crate::revert::RevertDecoder::is_failed_call(&data)
            && let Some(r) = forward
        {
            let mut inner = r.data.to_vec();
            inner.extend_from_slice(r.from.as_slice());
            let tx = TransactionRequest::default()
                .with_from(self.domains().forwarder)
                .with_to(r.to)
                .with_input(Bytes::from(inner));
            if let Err(e) = self
                .provider()
                .call(tx)
                .block(BlockNumberOrTag::Number(block).into())
                .await
                && let Some(inner) = crate::chain::revert_data(&e)
            {
                return self.reverts().decode(&inner);
            }
        }
        self.reverts().decode(&data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(base: u128, priority: u128) -> FeeEstimate {
        FeeEstimate {
            base_fee: base,
            priority_fee: priority,
            max_fee: base * 2 + priority,
        }
    }

    #[test]
    fn replacements_raise_both_fees_by_at_least_an_eighth() {
        let (max, prio) = bumped_fees(1_000, 100, &estimate(1, 1), 10_000, 125).expect("room");
        assert!(max >= 1_125 && prio >= 113, "{max} {prio}");
        // The estimate wins when the network moved further.
        let (max, prio) =
            bumped_fees(1_000, 100, &estimate(4_000, 500), 100_000, 125).expect("room");
        assert_eq!((max, prio), (8_500, 500));
        // The cap bounds the result, and forbids a bump that cannot reach +12.5%.
        let (max, _) = bumped_fees(1_000, 100, &estimate(4_000, 500), 2_000, 125).expect("room");
        assert_eq!(max, 2_000);
        assert_eq!(bumped_fees(1_900, 100, &estimate(1, 1), 2_000, 125), None);
        // Tiny fees still move up.
        let (max, prio) = bumped_fees(1, 0, &estimate(0, 0), 100, 125).expect("room");
        assert!(max >= 2 && prio >= 1);
    }

    #[test]
    fn broadcast_errors_are_classified_by_meaning() {
        for done in [
            "already known",
            "nonce too low: next nonce 5, tx nonce 4",
            "replacement transaction underpriced",
        ] {
            assert!(matches!(classify_send_error(done), Sent::Done), "{done}");
        }
        assert!(matches!(
            classify_send_error("connection refused"),
            Sent::Retry(_)
        ));
    }
}
