//! [`RelayIntake`]: takes a signed request, runs every check in a fixed order, and stores the job
//! durably before answering. Nothing is stored for a refused request.
//!
//! Checks, in order (the first failure answers):
//! 1. well-formed (`relay.malformed`);
//! 2. the signature recovers the signer under the contract's EIP-712 domain on this chain
//!    (`relay.bad_signature`, `relay.wrong_chain`);
//! 3. the nonce is the next unused one: the larger of the on-chain nonce and one past the
//!    highest nonce of the signer's jobs not yet final (`relay.nonce`; an already accepted
//!    request is `relay.duplicate`, a different request reusing a spent nonce
//!    `relay.nonce_used`);
//! 4. the deadline is at least the configured margin after the chain's time (`relay.expired`);
//! 5. forward requests only: target and selector on the allow-list, value 0, gas and call data
//!    under their caps (`relay.target_not_allowed`, `relay.value_not_zero`, `relay.gas_cap`,
//!    `relay.calldata_too_large`);
//! 6. an `eth_call` of the relayer's transaction succeeds, with the signer's nonce set to the
//!    request's (`relay.reverts`, with the decoded reason);
//! 7. the signer is within its quotas, counted from its jobs in the store: requests per minute
//!    and gas per rolling day (`relay.quota`);
//! 8. the relayer account that will send it has funds (cached balance) (`relay.unavailable`).
//!
//! Then the job is inserted (unique per chain, nonce space, signer and nonce: a concurrent replay
//! loses with `relay.duplicate`, a concurrent different request with `relay.nonce_used`) and its id returned. Concurrent requests' jobs are stored in one
//! write per round (group commit); each answer still waits for its own job to be stored.
//!
//! Requests of one signer are checked one at a time in this process, so its nonce and quota
//! checks see each other's jobs; across instances the store's unique index still refuses a
//! reused nonce, and quotas may overshoot by at most one request per instance.
//!
//! A signer's jobs read from the store are reused for up to a second (the jobs this process
//! stores are added at once), and a request is never refused on such a cached view: a nonce
//! mismatch reads the store again first. The one effect of the cache: if a signer's job fails
//! within that second, one request behind it may still be accepted; it then fails on chain like
//! the forwarder's nonce says (nothing runs twice, no relayer nonce is lost).

use crate::{
    chain::{RelayChain, gas_limit_for},
    error::{RelayerError, Result},
    metrics as m,
    request::RelayRequest,
};
use alloy::{
    primitives::{Address, U256, keccak256},
    sol_types::SolCall,
};
use bson::DateTime;
use nest_abis::NestGovernor;
use nest_store::{RelayJob, RelayJobStatus, SenderJob, Store};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

/// Stripes of the per-signer lock.
const LOCK_STRIPES: usize = 512;
/// Most jobs stored in one write.
const MAX_INSERT_BATCH: usize = 256;

/// How long a sender's jobs read from the store are reused by this process (its own new jobs
/// are added at once).
const SENDER_VIEW_TTL: Duration = Duration::from_secs(1);
/// Cached sender views kept before stale ones are dropped.
const SENDER_VIEWS_MAX: usize = 10_000;

/// A job waiting to be stored, and who waits for the outcome.
type PendingInsert = (RelayJob, oneshot::Sender<Result<bool>>);

/// What the intake answers for an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The job id (`GET /v1/relay/{id}`).
    pub id: String,
    /// Its state (queued).
    pub status: RelayJobStatus,
    /// The relayer account that will send it.
    pub signer: Address,
}

/// Relay intake: checks and durable queueing. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RelayIntake {
    inner: Arc<IntakeInner>,
}

#[derive(Debug)]
struct IntakeInner {
    chain: RelayChain,
    store: Store,
    pool: Vec<Address>,
    locks: Vec<tokio::sync::Mutex<()>>,
    inserts: mpsc::Sender<PendingInsert>,
    senders: std::sync::Mutex<HashMap<Address, SenderView>>,
}

/// A sender's jobs as last read from the store, plus the ones this process stored since.
#[derive(Debug, Clone)]
struct SenderView {
    read_at: Instant,
    jobs: Vec<SenderJob>,
}

/// Group commit: stores the jobs of concurrent requests in one write each round (one commit
/// instead of one per request); every request still waits for its own job to be stored.
async fn store_jobs(store: Store, mut pending: mpsc::Receiver<PendingInsert>) {
    let jobs = store.relay_jobs();
    let mut batch: Vec<PendingInsert> = Vec::new();
    while let Some(first) = pending.recv().await {
        batch.push(first);
        while batch.len() < MAX_INSERT_BATCH {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let docs: Vec<RelayJob> = batch.iter().map(|(job, _)| job.clone()).collect();
        match jobs.insert_batch(&docs).await {
            Ok(stored) => {
                for ((_, reply), stored) in batch.drain(..).zip(stored) {
                    let _ = reply.send(Ok(stored));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "cannot store relay jobs");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(RelayerError::Unavailable(
                        "the relayer could not store the job; try again shortly".into(),
                    )));
                }
            }
        }
    }
}

impl RelayIntake {
    /// An intake for relayer accounts `pool` (the addresses the submitters send from).
    pub async fn new(chain: RelayChain, store: Store, pool: Vec<Address>) -> Result<Self> {
        if pool.is_empty() {
            return Err(RelayerError::Config(
                "the relayer needs at least one relayer account".into(),
            ));
        }
        chain.track_balances(&pool).await?;
        let (inserts, pending) = mpsc::channel(4 * MAX_INSERT_BATCH);
        tokio::spawn(store_jobs(store.clone(), pending));
        Ok(Self {
            inner: Arc::new(IntakeInner {
                chain,
                store,
                pool,
                inserts,
                senders: std::sync::Mutex::new(HashMap::new()),
                locks: (0..LOCK_STRIPES)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
            }),
        })
    }

    /// The chain view.
    pub fn chain(&self) -> &RelayChain {
        &self.inner.chain
    }

    /// Parses and checks a JSON body, then stores the job. Counts the outcome in
    /// `nest_relayer_intake_total`.
    pub async fn submit(&self, body: &[u8]) -> Result<Accepted> {
        let outcome = match RelayRequest::parse(body) {
            Ok((request, declared_chain)) => self.accept(request, declared_chain).await,
            Err(e) => Err(e),
        };
        let label = match &outcome {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        };
        metrics::counter!(m::INTAKE, "outcome" => label).increment(1);
        if let Err(e) = &outcome {
            if e.is_refusal() {
                debug!(code = e.code(), error = %e, "relay request refused");
            } else {
                tracing::warn!(code = e.code(), error = %e, "relay request failed");
            }
        }
        outcome
    }

    /// Checks a parsed request and stores its job (steps 2-8 and the insert).
    pub async fn accept(
        &self,
        request: RelayRequest,
        declared_chain: Option<u64>,
    ) -> Result<Accepted> {
        let chain = &self.inner.chain;
        let config = chain.config();
        let domains = chain.domains();
        // 2. signature
        request.verify_signature(domains, declared_chain)?;

        let from = request.from();
        let hash = keccak256(from);
        let stripe = usize::from(u16::from_be_bytes([hash[0], hash[1]])) % LOCK_STRIPES;
        let _serialised = self.inner.locks[stripe].lock().await;

        // Steps 4 and 5 need no I/O for forward requests: judge them now (they are reported
        // after the nonce), so that when they pass the simulation (6) runs alongside the nonce
        // reads instead of after them.
        let space = request.nonce_space(domains);
        let judged = self.deadline_and_policy(&request).await;
        let since = DateTime::from_millis(DateTime::now().timestamp_millis() - 86_400_000);
        let jobs = self.inner.store.relay_jobs();
        let simulation = async {
            match &judged {
                // Any pool account will do as the caller: the contracts only see the forwarder.
                Ok(_) => Some(chain.simulate(&request, self.inner.pool[0]).await),
                Err(_) => None,
            }
        };
        let cached = self.cached_view(&from);
        let from_cache = cached.is_some();
        let activity = async {
            match cached {
                Some(jobs) => Ok(jobs),
                None => jobs.sender_activity(config.chain_id, &from, since).await,
            }
        };
        let (activity, onchain, simulated) =
            tokio::join!(activity, chain.onchain_nonce(space, from), simulation);

        // 3. nonce
        let (mut activity, onchain) = (activity?, onchain?);
        if !from_cache {
            self.remember_view(from, activity.clone());
        }
        let live = |j: &&SenderJob| {
            matches!(
                j.status,
                RelayJobStatus::Queued | RelayJobStatus::Submitted | RelayJobStatus::Mined
            )
        };
        let expected_in = |activity: &[SenderJob]| {
            activity
                .iter()
                .filter(live)
                .filter(|j| j.forwarder == space)
                .map(|j| j.nonce + U256::from(1))
                .fold(onchain, U256::max)
        };
        let mut expected = expected_in(&activity);
        let nonce = request.nonce();
        if nonce != expected && from_cache {
            // Never refuse on a cached view: read the store again first.
            activity = jobs.sender_activity(config.chain_id, &from, since).await?;
            self.remember_view(from, activity.clone());
            expected = expected_in(&activity);
        }
        if nonce != expected {
            if nonce < expected {
                let existing = jobs
                    .find_request(config.chain_id, &space, &from, &nonce)
                    .await?;
                return Err(spent_nonce(&request, existing, expected));
            }
            return Err(RelayerError::Nonce {
                from: from.to_string(),
                got: nonce.to_string(),
                expected: expected.to_string(),
            });
        }

        // 4 and 5. deadline and policy
        let (deadline, requested_gas) = judged?;

        // 6. simulation
        if let Some(outcome) = simulated {
            outcome?;
        }

        // The relayer account: the one already sending this signer's live jobs (so they are
        // mined in nonce order), else one picked by the signer's address among funded ones.
        let sticky = activity.iter().filter(live).find_map(|j| j.signer);
        let relayer = match sticky {
            Some(signer) => signer,
            None => self.pick_funded(&from, &request)?,
        };

        // 7. quotas
        let now_ms = DateTime::now().timestamp_millis();
        let minute_ago = now_ms - 60_000;
        let in_last_minute: Vec<&SenderJob> = activity
            .iter()
            .filter(|j| j.created_at.timestamp_millis() >= minute_ago)
            .collect();
        if in_last_minute.len() >= config.requests_per_minute as usize {
            let oldest = in_last_minute
                .first()
                .map(|j| j.created_at.timestamp_millis())
                .unwrap_or(now_ms);
            return Err(RelayerError::Quota {
                message: format!(
                    "{from} made {} relay requests in the last minute; the limit is {}",
                    in_last_minute.len(),
                    config.requests_per_minute
                ),
                retry_after: retry_after(oldest + 60_000 - now_ms),
            });
        }
        let day_ago = now_ms - 86_400_000;
        let gas_today: u64 = activity
            .iter()
            .filter(|j| j.created_at.timestamp_millis() >= day_ago)
            .map(|j| j.gas.max(0) as u64)
            .sum();
        if gas_today.saturating_add(requested_gas) > config.gas_per_day {
            let oldest = activity
                .iter()
                .find(|j| j.created_at.timestamp_millis() >= day_ago)
                .map(|j| j.created_at.timestamp_millis())
                .unwrap_or(now_ms);
            return Err(RelayerError::Quota {
                message: format!(
                    "{from}'s requests allowed {gas_today} gas in the last 24 hours; with {requested_gas} more they would pass the daily limit of {}",
                    config.gas_per_day
                ),
                retry_after: retry_after(oldest + 86_400_000 - now_ms),
            });
        }

        // 8. the relayer account can pay
        let gas_limit = gas_limit_for(config, &request);
        let needed =
            config.min_signer_balance + U256::from(gas_limit) * U256::from(config.max_fee_per_gas);
        match chain.balance(&relayer) {
            Some(balance) if balance >= needed => {}
            Some(balance) => {
                return Err(RelayerError::Unavailable(format!(
                    "relayer account {relayer} holds {balance} wei, less than the {needed} wei this request may cost"
                )));
            }
            None => {
                return Err(RelayerError::Unavailable(format!(
                    "relayer account {relayer} is not in this relayer's pool"
                )));
            }
        }

        let job = self.job_for(&request, space, deadline, requested_gas, relayer);
        let (reply, stored) = oneshot::channel();
        let unavailable = || RelayerError::Unavailable("the relayer is shutting down".into());
        self.inner
            .inserts
            .send((job.clone(), reply))
            .await
            .map_err(|_| unavailable())?;
        if !stored.await.map_err(|_| unavailable())?? {
            let existing = jobs
                .find_request(config.chain_id, &space, &from, &nonce)
                .await?;
            return Err(spent_nonce(&request, existing, nonce + U256::from(1)));
        }
        self.add_to_view(&job);
        info!(job = %job.id, kind = job.kind.as_str(), %from, %nonce, signer = %relayer, "relay job queued");
        Ok(Accepted {
            id: job.id,
            status: job.status,
            signer: relayer,
        })
    }

    /// Steps 4 (deadline far enough ahead) and 5 (forward requests: allow-list, value 0, gas and
    /// call data caps). Returns the deadline and the gas the request allows.
    async fn deadline_and_policy(&self, request: &RelayRequest) -> Result<(u64, u64)> {
        let chain = &self.inner.chain;
        let config = chain.config();
        let deadline = match request {
            RelayRequest::Forward(r) => r.deadline,
            RelayRequest::Delegate(r) => r.expiry,
            RelayRequest::Vote(r) => {
                let ends = NestGovernor::new(chain.domains().governor, chain.provider())
                    .proposalDeadline(r.proposal_id)
                    .call()
                    .await
                    .map_err(|e| RelayerError::rpc("proposalDeadline", e))?;
                let ends = u64::try_from(ends).unwrap_or(u64::MAX);
                if ends == 0 {
                    return Err(RelayerError::Reverts {
                        reason: format!(
                            "GovernorNonexistentProposal(proposalId: {})",
                            r.proposal_id
                        ),
                    });
                }
                r.deadline.map_or(ends, |d| d.min(ends))
            }
        };
        let now = chain.chain_time();
        let margin = config.deadline_margin.as_secs();
        if deadline < now.saturating_add(margin) {
            return Err(RelayerError::Expired {
                deadline,
                now,
                margin_secs: margin,
            });
        }
        let gas = match request {
            RelayRequest::Forward(r) => {
                chain.allow_list().check(r.to, &r.data)?;
                if !r.value.is_zero() {
                    return Err(RelayerError::ValueNotZero(r.value.to_string()));
                }
                if r.gas > U256::from(config.max_request_gas) {
                    return Err(RelayerError::GasCap {
                        requested: r.gas.to_string(),
                        cap: config.max_request_gas,
                    });
                }
                if r.data.len() > config.max_calldata_bytes {
                    return Err(RelayerError::CalldataTooLarge {
                        size: r.data.len(),
                        cap: config.max_calldata_bytes,
                    });
                }
                u64::try_from(r.gas).unwrap_or(u64::MAX)
            }
            _ => config.direct_call_gas,
        };
        Ok((deadline, gas))
    }

    /// The sender's cached jobs, if read recently.
    fn cached_view(&self, from: &Address) -> Option<Vec<SenderJob>> {
        let views = self.inner.senders.lock().ok()?;
        views
            .get(from)
            .filter(|v| v.read_at.elapsed() < SENDER_VIEW_TTL)
            .map(|v| v.jobs.clone())
    }

    fn remember_view(&self, from: Address, jobs: Vec<SenderJob>) {
        if let Ok(mut views) = self.inner.senders.lock() {
            if views.len() >= SENDER_VIEWS_MAX {
                views.retain(|_, v| v.read_at.elapsed() < SENDER_VIEW_TTL);
            }
            views.insert(
                from,
                SenderView {
                    read_at: Instant::now(),
                    jobs,
                },
            );
        }
    }

    fn add_to_view(&self, job: &RelayJob) {
        if let Ok(mut views) = self.inner.senders.lock()
            && let Some(view) = views.get_mut(&job.from)
        {
            view.jobs.push(SenderJob {
                id: job.id.clone(),
                forwarder: job.forwarder,
                nonce: job.nonce,
                gas: job.gas,
                status: job.status,
                signer: job.signer,
                created_at: job.created_at,
            });
        }
    }

    /// A job by id.
    pub async fn job(&self, id: &str) -> Result<RelayJob> {
        self.inner
            .store
            .relay_jobs()
            .get(id)
            .await?
            .ok_or_else(|| RelayerError::NotFound(id.to_string()))
    }

    /// A funded relayer account for a signer with no live jobs, stable per signer.
    fn pick_funded(&self, from: &Address, request: &RelayRequest) -> Result<Address> {
        let chain = &self.inner.chain;
        let config = chain.config();
        let needed = config.min_signer_balance
            + U256::from(gas_limit_for(config, request)) * U256::from(config.max_fee_per_gas);
        let funded: Vec<Address> = self
            .inner
            .pool
            .iter()
            .copied()
            .filter(|a| chain.balance(a).is_some_and(|b| b >= needed))
            .collect();
        if funded.is_empty() {
            return Err(RelayerError::Unavailable(
                "no relayer account has the funds to send this request".into(),
            ));
        }
        let hash = keccak256(from);
        let index = u64::from_be_bytes([
            hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7],
        ]) % funded.len() as u64;
        Ok(funded[index as usize])
    }

    fn job_for(
        &self,
        request: &RelayRequest,
        space: Address,
        deadline: u64,
        gas: u64,
        relayer: Address,
    ) -> RelayJob {
        let domains = self.inner.chain.domains();
        let now = DateTime::now();
        let signature = request.signature_hex();
        let (to, data) = match request {
            RelayRequest::Forward(r) => (r.to, r.data.to_string()),
            RelayRequest::Vote(_) | RelayRequest::Delegate(_) => {
                let (to, call) = request.call(domains);
                (to, call.to_string())
            }
        };
        debug_assert!(
            !matches!(request, RelayRequest::Vote(_))
                || [
                    NestGovernor::castVoteBySigCall::SELECTOR,
                    NestGovernor::castVoteWithReasonAndParamsBySigCall::SELECTOR
                ]
                .iter()
                .any(|s| data.starts_with(&alloy::primitives::hex::encode_prefixed(s)))
        );
        RelayJob {
            id: uuid::Uuid::new_v4().to_string(),
            chain_id: domains.chain_id as i64,
            forwarder: space,
            from: request.from(),
            to,
            nonce: request.nonce(),
            gas: gas.min(i64::MAX as u64) as i64,
            deadline: deadline.min(i64::MAX as u64) as i64,
            data,
            signature,
            status: RelayJobStatus::Queued,
            signer: Some(relayer),
            signer_nonce: None,
            tx_hashes: Vec::new(),
            mined_tx: None,
            mined_block: None,
            error: None,
            kind: request.kind(),
            attempt: None,
            receipt: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The refusal of a request whose nonce is spent: an exact replay of the stored request (the
/// same signature) is `relay.duplicate`; a different request reusing the nonce is
/// `relay.nonce_used`, so the client knows to sign again with `expected`.
fn spent_nonce(request: &RelayRequest, existing: Option<RelayJob>, expected: U256) -> RelayerError {
    match existing {
        Some(job) if job.signature.eq_ignore_ascii_case(&request.signature_hex()) => {
            RelayerError::Duplicate { job: job.id }
        }
        _ => RelayerError::NonceUsed {
            from: request.from().to_string(),
            nonce: request.nonce().to_string(),
            expected: expected.to_string(),
        },
    }
}

fn retry_after(millis: i64) -> Duration {
    Duration::from_millis(millis.max(1_000) as u64)
}
