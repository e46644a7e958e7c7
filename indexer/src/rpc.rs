//! RPC access with retries: every call is retried with exponential backoff and jitter until it
//! succeeds (a block is never skipped), except `eth_getLogs` range errors, which the caller
//! answers by splitting the range.

use crate::error::{IndexerError, Result};
use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Header, Log},
};
use std::{future::Future, time::Duration};
use tracing::warn;

/// How many attempts before an RPC error surfaces (about two minutes of backoff).
const MAX_ATTEMPTS: u32 = 40;

/// True when a `eth_getLogs` error means "ask for less".
pub(crate) fn is_range_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "too many",
        "limit exceeded",
        "query returned more than",
        "response size",
        "block range",
        "range is too large",
        "exceed",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Runs `call` until it succeeds, backing off with jitter; gives up after `MAX_ATTEMPTS`.
pub(crate) async fn with_retry<T, F, Fut>(what: &str, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, String>>,
{
    let mut attempt = 0u32;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(message) => {
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(IndexerError::Rpc(format!("{what}: {message}")));
                }
                let delay = backoff(attempt);
                warn!(what, attempt, error = %message, delay_ms = delay.as_millis() as u64, "RPC failed, retrying");
                metrics::counter!("nest_indexer_rpc_retries_total").increment(1);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// 100 ms doubling to 5 s, with up to 50% random jitter.
fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6)).min(5_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    Duration::from_millis(base + nanos % (base / 2 + 1))
}

/// The RPC calls the indexer makes.
#[derive(Debug, Clone)]
pub(crate) struct ChainReader {
    provider: DynProvider,
}

impl ChainReader {
    pub(crate) fn new(provider: DynProvider) -> Self {
        Self { provider }
    }

    pub(crate) async fn chain_id(&self) -> Result<u64> {
        with_retry("eth_chainId", || async {
            self.provider
                .get_chain_id()
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    pub(crate) async fn head(&self) -> Result<u64> {
        with_retry("eth_blockNumber", || async {
            self.provider
                .get_block_number()
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// The header of block `number`; `None` if the node does not have it (yet).
    pub(crate) async fn header(&self, number: u64) -> Result<Option<Header>> {
        with_retry("eth_getBlockByNumber", || async {
            self.provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map(|b| b.map(|b| b.header))
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Logs of `addresses` in `from..=to`; `Err(Ok(message))` for a range error the caller should
    /// split, other failures are retried.
    pub(crate) async fn logs_in_range(
        &self,
        addresses: &[Address],
        from: u64,
        to: u64,
    ) -> Result<std::result::Result<Vec<Log>, String>> {
        let filter = Filter::new()
            .address(addresses.to_vec())
            .from_block(from)
            .to_block(to);
        let mut attempt = 0u32;
        loop {
            match self.provider.get_logs(&filter).await {
                Ok(logs) => return Ok(Ok(logs)),
                Err(e) => {
                    let message = e.to_string();
                    if is_range_error(&message) && from < to {
                        return Ok(Err(message));
                    }
                    attempt += 1;
                    if attempt >= MAX_ATTEMPTS {
                        return Err(IndexerError::Rpc(format!(
                            "eth_getLogs {from}..={to}: {message}"
                        )));
                    }
                    warn!(from, to, attempt, error = %message, "eth_getLogs failed, retrying");
                    metrics::counter!("nest_indexer_rpc_retries_total").increment(1);
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
    }

    /// Logs of `addresses` in the block with hash `hash` (consistent with that exact block).
    pub(crate) async fn logs_at(&self, addresses: &[Address], hash: B256) -> Result<Vec<Log>> {
        let filter = Filter::new()
            .address(addresses.to_vec())
            .at_block_hash(hash);
        with_retry("eth_getLogs(blockHash)", || async {
            self.provider
                .get_logs(&filter)
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }
}
