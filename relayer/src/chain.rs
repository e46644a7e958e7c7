//! The chain as the relayer sees it: the node (checked to serve the configured chain), the
//! contracts' EIP-712 domains and nonce storage slots, the head (by `newHeads` subscription when
//! the node offers one, polled otherwise), fee estimates from
//! `eth_feeHistory` (cached per block), relayer account balances (polled, cached) and
//! simulation with revert reasons decoded.
//!
//! One [`RelayChain`] is shared by the intake and the submitter of a process. Its background
//! pollers stop when the last clone is dropped.

use crate::{
    config::RelayerConfig,
    error::{RelayerError, Result},
    metrics as m,
    policy::AllowList,
    request::{Domains, RelayRequest},
    revert::RevertDecoder,
};
use alloy::{
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::{
        TransactionRequest,
        state::{AccountOverride, StateOverride},
    },
    sol_types::{Eip712Domain, SolCall, SolValue},
    transports::{RpcError, TransportErrorKind},
};
use nest_abis::NestForwarder;
use nest_rpc::{HeadSource, HeadWatch};
use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, Mutex, RwLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{sync::watch, task::JoinHandle};
use tracing::{debug, warn};

/// The latest block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Block timestamp, unix seconds.
    pub timestamp: u64,
}

/// An EIP-1559 fee suggestion for the next block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeEstimate {
    /// Base fee of the next block, wei.
    pub base_fee: u128,
    /// Priority fee to offer, wei.
    pub priority_fee: u128,
    /// `maxFeePerGas` to offer (twice the base fee plus the priority fee: room for six full
    /// blocks of base fee increases), wei.
    pub max_fee: u128,
}

impl FeeEstimate {
    /// The least `maxFeePerGas` a transaction needs to be included in the next block.
    pub fn required(&self) -> u128 {
        self.base_fee.saturating_add(self.priority_fee)
    }
}

/// Where each nonce space keeps `nonces[account]` (OpenZeppelin `Nonces`' mapping slot), found
/// at start by probing, so simulations of requests queued behind others can set the nonce they
/// will run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceSlots {
    /// The forwarder's.
    pub forwarder: u64,
    /// The governor's.
    pub governor: u64,
    /// The token's.
    pub token: u64,
}

/// The relayer's view of the chain. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RelayChain {
    inner: Arc<ChainInner>,
}

#[derive(Debug)]
struct ChainInner {
    config: RelayerConfig,
    provider: DynProvider,
    domains: Domains,
    slots: NonceSlots,
    reverts: RevertDecoder,
    allow: AllowList,
    head: watch::Receiver<Head>,
    subscribed: Arc<AtomicBool>,
    fees: tokio::sync::Mutex<Option<(u64, FeeEstimate)>>,
    balances: RwLock<HashMap<Address, U256>>,
    tracked: Mutex<BTreeSet<Address>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for ChainInner {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.iter() {
                task.abort();
            }
        }
    }
}

/// Unix time now, seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The revert data of a failed call, if the node returned any.
pub(crate) fn revert_data(e: &RpcError<TransportErrorKind>) -> Option<Bytes> {
    e.as_error_resp()
        .and_then(|payload| payload.as_revert_data())
}

impl RelayChain {
    /// Connects: checks the chain id, reads the EIP-712 domains of the forwarder, governor and
    /// token, finds their nonce slots, reads the head and starts polling it.
    pub async fn connect(config: RelayerConfig, provider: DynProvider) -> Result<Self> {
        config.validate()?;
        m::describe();
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|e| RelayerError::rpc("eth_chainId", e))?;
        if chain_id != config.chain_id {
            return Err(RelayerError::Config(format!(
                "the RPC endpoint serves chain id {chain_id}, the relayer is configured for {}",
                config.chain_id
            )));
        }
        let a = config.addresses;
        let domains = Domains {
            chain_id,
            forwarder: a.forwarder,
            governor: a.governor,
            token: a.token,
            forwarder_domain: read_domain(&provider, a.forwarder).await?,
            governor_domain: read_domain(&provider, a.governor).await?,
            token_domain: read_domain(&provider, a.token).await?,
        };
        let slots = NonceSlots {
            forwarder: find_nonce_slot(&provider, a.forwarder).await?,
            governor: find_nonce_slot(&provider, a.governor).await?,
            token: find_nonce_slot(&provider, a.token).await?,
        };
        debug!(?slots, "nonce slots found");
        let first = read_head(&provider).await?;
        let (head_tx, head_rx) = watch::channel(first);
        let head_provider = provider.clone();
        let subscribed = Arc::new(AtomicBool::new(false));
        let mut heads = HeadWatch::new(
            config.ws_url.clone(),
            config.poll_interval,
            m::HEAD_SUBSCRIPTION,
        );
        let source = subscribed.clone();
        let head_task = tokio::spawn(async move {
            let mut failures = 0u32;
            while !head_tx.is_closed() {
                heads.subscribe_if_due().await;
                source.store(
                    heads.source() == HeadSource::Subscription,
                    Ordering::Relaxed,
                );
                heads.wait().await;
                match read_head(&head_provider).await {
                    Ok(head) => {
                        failures = 0;
                        head_tx.send_if_modified(|current| {
                            let changed = *current != head;
                            *current = head;
                            changed
                        });
                    }
                    Err(e) => {
                        failures += 1;
                        if failures % 50 == 1 {
                            warn!(error = %e, failures, "cannot read the chain head");
                        }
                        metrics::counter!(m::RPC_ERRORS, "call" => "head").increment(1);
                    }
                }
            }
        });
        let chain = Self {
            inner: Arc::new(ChainInner {
                allow: AllowList::nest(&config.addresses),
                config,
                provider,
                domains,
                slots,
                reverts: RevertDecoder::nest(),
                head: head_rx,
                subscribed,
                fees: tokio::sync::Mutex::new(None),
                balances: RwLock::new(HashMap::new()),
                tracked: Mutex::new(BTreeSet::new()),
                tasks: Mutex::new(vec![head_task]),
            }),
        };
        let weak = Arc::downgrade(&chain.inner);
        let refresh = chain.inner.config.balance_refresh;
        let balance_task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(refresh).await;
                let Some(inner) = Weak::upgrade(&weak) else {
                    return;
                };
                let chain = RelayChain { inner };
                if let Err(e) = chain.refresh_balances().await {
                    warn!(error = %e, "cannot refresh relayer balances");
                }
            }
        });
        if let Ok(mut tasks) = chain.inner.tasks.lock() {
            tasks.push(balance_task);
        }
        Ok(chain)
    }

    /// The configuration.
    pub fn config(&self) -> &RelayerConfig {
        &self.inner.config
    }

    /// The node.
    pub fn provider(&self) -> &DynProvider {
        &self.inner.provider
    }

    /// Contracts and EIP-712 domains.
    pub fn domains(&self) -> &Domains {
        &self.inner.domains
    }

    /// The allow-list.
    pub fn allow_list(&self) -> &AllowList {
        &self.inner.allow
    }

    /// The revert decoder.
    pub fn reverts(&self) -> &RevertDecoder {
        &self.inner.reverts
    }

    /// The latest head seen.
    pub fn head(&self) -> Head {
        *self.inner.head.borrow()
    }

    /// How new heads are learnt right now.
    pub fn head_source(&self) -> HeadSource {
        if self.inner.subscribed.load(Ordering::Relaxed) {
            HeadSource::Subscription
        } else {
            HeadSource::Polling
        }
    }

    /// A receiver that changes with the head.
    pub fn head_changes(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// The chain's time for deadline checks: the later of the head's timestamp and the wall
    /// clock (the next block cannot be older than either).
    pub fn chain_time(&self) -> u64 {
        self.head().timestamp.max(unix_now())
    }

    /// Re-reads the head now (instead of waiting for the poller).
    pub async fn refresh_head(&self) -> Result<Head> {
        read_head(&self.inner.provider).await
    }

    /// Fee suggestion for the next block, from `eth_feeHistory` (cached per head).
    pub async fn fees(&self) -> Result<FeeEstimate> {
        let head = self.head().number;
        let mut cached = self.inner.fees.lock().await;
        if let Some((at, estimate)) = *cached
            && at == head
        {
            return Ok(estimate);
        }
        let config = &self.inner.config;
        let history = self
            .inner
            .provider
            .get_fee_history(
                config.fee_history_blocks.max(1),
                BlockNumberOrTag::Latest,
                &[config.fee_percentile],
            )
            .await
            .map_err(|e| RelayerError::rpc("eth_feeHistory", e))?;
        let base_fee = history.base_fee_per_gas.last().copied().unwrap_or(0);
        let mut rewards: Vec<u128> = history
            .reward
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.first().copied())
            .filter(|r| *r > 0)
            .collect();
        rewards.sort_unstable();
        let median = rewards.get(rewards.len() / 2).copied().unwrap_or(0);
        let priority_fee = median.max(config.min_priority_fee);
        let estimate = FeeEstimate {
            base_fee,
            priority_fee,
            max_fee: base_fee.saturating_mul(2).saturating_add(priority_fee),
        };
        *cached = Some((head, estimate));
        Ok(estimate)
    }

    /// Adds relayer accounts to the balance poller and reads their balances now.
    pub async fn track_balances(&self, accounts: &[Address]) -> Result<()> {
        if let Ok(mut tracked) = self.inner.tracked.lock() {
            tracked.extend(accounts.iter().copied());
        }
        self.refresh_balances().await
    }

    /// The cached balance of a tracked relayer account.
    pub fn balance(&self, account: &Address) -> Option<U256> {
        self.inner
            .balances
            .read()
            .ok()
            .and_then(|b| b.get(account).copied())
    }

    /// Reads every tracked balance, updates the gauges and warns under the threshold.
    pub async fn refresh_balances(&self) -> Result<()> {
        let accounts: Vec<Address> = match self.inner.tracked.lock() {
            Ok(tracked) => tracked.iter().copied().collect(),
            Err(_) => Vec::new(),
        };
        let reads = accounts
            .iter()
            .map(|a| self.inner.provider.get_balance(*a).into_future());
        let results = futures_util::future::join_all(reads).await;
        let warn_under = self.inner.config.low_balance_warning;
        if let Ok(fees) = self.fees().await {
            let gas = u128::from(self.inner.config.max_request_gas);
            metrics::gauge!(m::JOB_COST).set(fees.max_fee.saturating_mul(gas) as f64);
        }
        for (account, result) in accounts.iter().zip(results) {
            let balance = result.map_err(|e| RelayerError::rpc("eth_getBalance", e))?;
            let label = format!("{account:#x}");
            metrics::gauge!(m::SIGNER_BALANCE, "signer" => label.clone())
                .set(u128::try_from(balance).unwrap_or(u128::MAX) as f64);
            let low = balance < warn_under;
            metrics::gauge!(m::SIGNER_LOW_BALANCE, "signer" => label).set(if low {
                1.0
            } else {
                0.0
            });
            let was_low = self.balance(account).is_some_and(|b| b < warn_under);
            if low && !was_low {
                warn!(signer = %account, balance = %balance, threshold = %warn_under, "relayer account balance is low: top it up");
            }
            if let Ok(mut balances) = self.inner.balances.write() {
                balances.insert(*account, balance);
            }
        }
        Ok(())
    }

    /// The nonce slot of a nonce space.
    fn nonce_slot(&self, space: Address) -> Option<u64> {
        let d = &self.inner.domains;
        let s = self.inner.slots;
        if space == d.forwarder {
            Some(s.forwarder)
        } else if space == d.governor {
            Some(s.governor)
        } else if space == d.token {
            Some(s.token)
        } else {
            None
        }
    }

    /// The on-chain nonce of `account` in nonce space `space`.
    pub async fn onchain_nonce(&self, space: Address, account: Address) -> Result<U256> {
        // Forwarder, governor and token all expose OpenZeppelin's `nonces(address)`.
        NestForwarder::new(space, &self.inner.provider)
            .nonces(account)
            .call()
            .await
            .map_err(|e| RelayerError::rpc("nonces", e))
    }

    /// Runs the request's transaction with `eth_call` from relayer account `relayer`, with the
    /// signer's nonce set to the request's (so a request queued behind others is judged on its
    /// own), and returns the decoded revert reason when it would revert.
    pub async fn simulate(&self, request: &RelayRequest, relayer: Address) -> Result<()> {
        let domains = &self.inner.domains;
        let (to, calldata) = request.call(domains);
        let space = request.nonce_space(domains);
        let mut overrides = StateOverride::default();
        if let Some(slot) = self.nonce_slot(space) {
            overrides.insert(
                space,
                AccountOverride::default().with_state_diff([(
                    mapping_key(request.from(), slot),
                    B256::from(request.nonce()),
                )]),
            );
        }
        let gas = gas_limit_for(&self.inner.config, request);
        let tx = TransactionRequest::default()
            .with_from(relayer)
            .with_to(to)
            .with_input(calldata)
            .with_gas_limit(gas);
        let outcome = self.inner.provider.call(tx).overrides(overrides).await;
        let e = match outcome {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let Some(data) = revert_data(&e) else {
            return match e.as_error_resp() {
                // The node ran the call and refused it without data (out of gas, invalid opcode).
                Some(payload) => Err(RelayerError::Reverts {
                    reason: payload.message.to_string(),
                }),
                None => Err(RelayerError::rpc("eth_call", e)),
            };
        };
        if RevertDecoder::is_failed_call(&data)
            && let RelayRequest::Forward(forward) = request
        {
            // The forwarder hides the target's reason: run the forwarded call itself, as the
            // forwarder would (ERC-2771 appends the signer to the call data).
            let mut inner = forward.data.to_vec();
            inner.extend_from_slice(forward.from.as_slice());
            let inner_gas = u64::try_from(forward.gas).unwrap_or(u64::MAX);
            let tx = TransactionRequest::default()
                .with_from(domains.forwarder)
                .with_to(forward.to)
                .with_input(Bytes::from(inner))
                .with_gas_limit(inner_gas);
            let reason = match self.inner.provider.call(tx).await {
                Ok(_) => format!(
                    "the forwarded call fails inside the forwarder (out of gas with {inner_gas} gas?)"
                ),
                Err(e) => match revert_data(&e) {
                    Some(inner) => self.inner.reverts.decode(&inner),
                    None => e
                        .as_error_resp()
                        .map(|p| p.message.to_string())
                        .ok_or_else(|| RelayerError::rpc("eth_call", &e))?,
                },
            };
            return Err(RelayerError::Reverts { reason });
        }
        Err(RelayerError::Reverts {
            reason: self.inner.reverts.decode(&data),
        })
    }
}

/// Gas limit of the relayer's transaction for a request.
pub fn gas_limit_for(config: &RelayerConfig, request: &RelayRequest) -> u64 {
    match request {
        RelayRequest::Forward(r) => {
            forward_gas_limit(u64::try_from(r.gas).unwrap_or(u64::MAX), r.data.len())
        }
        _ => config.direct_call_gas,
    }
}

/// Gas limit of `Forwarder.execute` for a request allowing `gas` with `data_len` bytes of call
/// data: the forwarder checks that the call received `gas` (EIP-150 keeps 1/64 back), and spends
/// about 40-60k itself (signature check, nonce, event) besides the transaction's intrinsic cost.
pub fn forward_gas_limit(gas: u64, data_len: usize) -> u64 {
    gas.saturating_mul(64) / 63 + 100_000 + 16 * (data_len as u64 + 320)
}

/// Storage key of `mapping(address => uint256)` at `slot` for `key`.
fn mapping_key(key: Address, slot: u64) -> B256 {
    keccak256((key, U256::from(slot)).abi_encode())
}

async fn read_head(provider: &DynProvider) -> Result<Head> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|e| RelayerError::rpc("eth_getBlockByNumber", e))?
        .ok_or_else(|| RelayerError::Rpc("the node has no latest block".into()))?;
    Ok(Head {
        number: block.header.number,
        hash: block.header.hash,
        timestamp: block.header.timestamp,
    })
}

async fn read_domain(provider: &DynProvider, contract: Address) -> Result<Eip712Domain> {
    let d = NestForwarder::new(contract, provider)
        .eip712Domain()
        .call()
        .await
        .map_err(|e| RelayerError::rpc(&format!("eip712Domain of {contract}"), e))?;
    Ok(Eip712Domain::new(
        Some(d.name.into()),
        Some(d.version.into()),
        Some(d.chainId),
        Some(d.verifyingContract),
        None,
    ))
}

/// Finds the storage slot of `nonces` in `contract` by setting a probe account's entry in each
/// candidate slot and reading `nonces(probe)` back.
async fn find_nonce_slot(provider: &DynProvider, contract: Address) -> Result<u64> {
    const PROBE: Address = Address::repeat_byte(0x5a);
    const MARK: u64 = 0x6e657374;
    for slot in 0..64u64 {
        let mut overrides = StateOverride::default();
        overrides.insert(
            contract,
            AccountOverride::default()
                .with_state_diff([(mapping_key(PROBE, slot), B256::from(U256::from(MARK)))]),
        );
        let call = NestForwarder::noncesCall { owner: PROBE };
        let tx = TransactionRequest::default()
            .with_to(contract)
            .with_input(Bytes::from(call.abi_encode()));
        let out = provider
            .call(tx)
            .overrides(overrides)
            .await
            .map_err(|e| RelayerError::rpc("eth_call with state override", e))?;
        if NestForwarder::noncesCall::abi_decode_returns(&out).ok() == Some(U256::from(MARK)) {
            return Ok(slot);
        }
    }
    Err(RelayerError::Config(format!(
        "cannot find the nonces mapping of {contract} (is it a Nest contract, and does the node support eth_call state overrides?)"
    )))
}

/// Sleeps for `d` or until the head changes, whichever comes first.
pub(crate) async fn wait_for_head(changes: &mut watch::Receiver<Head>, d: Duration) {
    let _ = tokio::time::timeout(d, changes.changed()).await;
}
