//! The governance keeper: queues proposals that passed and executes them once the timelock
//! allows, so a vote's result applies itself.
//!
//! Each pass reads the proposals the store does not know to be over (the indexer's
//! projection), asks the governor for their state, and simulates the due step (`queue` when
//! succeeded, `execute` when queued) from a relayer account. A step that would succeed becomes a
//! job for the submitter, which sends it like any relayed call (nonce lease, fee bumps,
//! confirmation). Jobs are keyed by proposal and step, so a step is enqueued once, however many
//! keeper instances see it.

use crate::{chain::RelayChain, error::Result};
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256, keccak256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use bson::DateTime;
use nest_abis::NestGovernor;
use nest_store::{Proposal, ProposalState, RelayJob, RelayJobKind, RelayJobStatus, Store};
use std::{future::Future, time::Duration};
use tracing::{debug, info, warn};

/// How long a keeper job may wait for its transaction before it expires.
const JOB_LIFETIME_SECS: u64 = 3_600;
/// Proposals read per store page.
const PAGE: u32 = 100;

/// A step of a passed proposal's way to execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeeperStep {
    /// `queue` into the timelock.
    Queue,
    /// `execute` after the timelock delay.
    Execute,
}

impl KeeperStep {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Execute => "execute",
        }
    }
}

/// Moves passed proposals through the timelock.
#[derive(Debug, Clone)]
pub struct GovernanceKeeper {
    chain: RelayChain,
    store: Store,
    pool: Vec<Address>,
}

impl GovernanceKeeper {
    /// A keeper whose jobs are sent by the relayer accounts in `pool` (the submitter's).
    pub fn new(chain: RelayChain, store: Store, pool: Vec<Address>) -> Result<Self> {
        if pool.is_empty() {
            return Err(crate::RelayerError::Config(
                "the governance keeper needs at least one relayer account".into(),
            ));
        }
        Ok(Self { chain, store, pool })
    }

    /// One pass over the open proposals; returns the steps it enqueued.
    pub async fn tick(&self) -> Result<Vec<(U256, KeeperStep)>> {
        let chain_id = self.chain.config().chain_id;
        let mut enqueued = Vec::new();
        for state in [
            ProposalState::Pending,
            ProposalState::Active,
            ProposalState::Succeeded,
            ProposalState::Queued,
        ] {
            let mut cursor: Option<String> = None;
            loop {
                let page = self
                    .store
                    .proposals()
                    .list(chain_id, Some(state), cursor.as_deref(), PAGE)
                    .await?;
                for proposal in &page.items {
                    if let Some(step) = self.due_step(proposal).await?
                        && self.enqueue(proposal, step).await?
                    {
                        enqueued.push((proposal.proposal_id, step));
                    }
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(enqueued)
    }

    /// Runs a pass every `interval` until `shutdown` resolves; a failed pass is logged and the
    /// next one tries again.
    pub async fn run(&self, interval: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.tick().await {
                Ok(steps) if !steps.is_empty() => info!(?steps, "governance steps enqueued"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "governance keeper pass failed"),
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// The step the governor's state calls for, if any.
    async fn due_step(&self, proposal: &Proposal) -> Result<Option<KeeperStep>> {
        let governor = NestGovernor::new(
            self.chain.config().addresses.governor,
            self.chain.provider(),
        );
        let state = governor
            .state(proposal.proposal_id)
            .call()
            .await
            .map_err(|e| crate::RelayerError::Rpc(format!("governor state: {e}")))?;
        Ok(match ProposalState::from_index(state) {
            Some(ProposalState::Succeeded) => Some(KeeperStep::Queue),
            Some(ProposalState::Queued) => Some(KeeperStep::Execute),
            _ => None,
        })
    }

    /// Simulates `step` and, if it would succeed, stores it as a job (once). Returns whether a
    /// job was stored now.
    async fn enqueue(&self, proposal: &Proposal, step: KeeperStep) -> Result<bool> {
        let config = self.chain.config();
        let Some(call) = governor_call(proposal, step) else {
            warn!(proposal = %proposal.proposal_id, "stored proposal actions do not parse");
            return Ok(false);
        };
        let id = format!(
            "{}:governance:{}:{}",
            config.chain_id,
            step.as_str(),
            proposal.proposal_id
        );
        if self.store.relay_jobs().get(&id).await?.is_some() {
            return Ok(false);
        }
        let index = (proposal.proposal_id % U256::from(self.pool.len())).to::<usize>();
        let signer = self.pool[index];
        let governor = config.addresses.governor;
        let request = TransactionRequest::default()
            .with_from(signer)
            .with_to(governor)
            .with_input(call.clone());
        // The simulation is the authority on timing: `execute` passes once the eta is reached.
        let gas = match self.chain.provider().estimate_gas(request).await {
            Ok(gas) => gas,
            Err(e) => {
                debug!(proposal = %proposal.proposal_id, step = step.as_str(), error = %e, "not due yet");
                return Ok(false);
            }
        };
        // The deadline counts from the chain's clock as of now (it may run ahead of ours).
        let chain_now = self
            .chain
            .refresh_head()
            .await?
            .timestamp
            .max(self.chain.chain_time());
        let now = DateTime::now();
        let job = RelayJob {
            id,
            chain_id: config.chain_id as i64,
            // The request key: the step's contract as nonce space, the DAO as requester, the
            // proposal as nonce. No user request can take it (the governor signs nothing).
            forwarder: match step {
                KeeperStep::Queue => governor,
                KeeperStep::Execute => config.addresses.timelock,
            },
            from: governor,
            to: governor,
            nonce: proposal.proposal_id,
            gas: (gas.saturating_mul(12) / 10).min(i64::MAX as u64) as i64,
            deadline: (chain_now + JOB_LIFETIME_SECS).min(i64::MAX as u64) as i64,
            data: call.to_string(),
            signature: "0x".into(),
            status: RelayJobStatus::Queued,
            signer: Some(signer),
            signer_nonce: None,
            tx_hashes: Vec::new(),
            mined_tx: None,
            mined_block: None,
            error: None,
            kind: RelayJobKind::Governance,
            attempt: None,
            receipt: None,
            created_at: now,
            updated_at: now,
        };
        match self.store.relay_jobs().insert(&job).await {
            Ok(()) => {
                info!(proposal = %proposal.proposal_id, step = step.as_str(), job = %job.id, "governance step enqueued");
                Ok(true)
            }
            // Another keeper enqueued it first.
            Err(e) if e.is_duplicate_key() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// The governor call for `step` of `proposal`, from its stored actions.
fn governor_call(proposal: &Proposal, step: KeeperStep) -> Option<Bytes> {
    let targets = proposal
        .targets
        .iter()
        .map(|t| t.parse::<Address>().ok())
        .collect::<Option<Vec<_>>>()?;
    let calldatas = proposal
        .calldatas
        .iter()
        .map(|c| c.parse::<Bytes>().ok())
        .collect::<Option<Vec<_>>>()?;
    let values = proposal.values.clone();
    let description_hash = keccak256(proposal.description.as_bytes());
    Some(Bytes::from(match step {
        KeeperStep::Queue => NestGovernor::queueCall {
            targets,
            values,
            calldatas,
            descriptionHash: description_hash,
        }
        .abi_encode(),
        KeeperStep::Execute => NestGovernor::executeCall {
            targets,
            values,
            calldatas,
            descriptionHash: description_hash,
        }
        .abi_encode(),
    }))
}
