//! What both indexer benchmarks measure the same way.

use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider},
    rpc::types::Filter,
};
use futures_util::{StreamExt, stream};
use std::time::Instant;

/// The node's own `eth_getLogs` rate over `from..=to` for `addresses`: ranges of `range`
/// blocks, 4 requests in flight, logs parsed. Returns (logs, logs per second).
pub(crate) async fn getlogs_rate(
    provider: &DynProvider,
    addresses: &[Address],
    from: u64,
    to: u64,
    range: u64,
) -> (usize, f64) {
    let started = Instant::now();
    let ranges: Vec<(u64, u64)> = (from..=to)
        .step_by(range as usize)
        .map(|f| (f, (f + range - 1).min(to)))
        .collect();
    let counts: Vec<usize> = stream::iter(ranges)
        .map(|(from, to)| {
            let filter = Filter::new()
                .address(addresses.to_vec())
                .from_block(from)
                .to_block(to);
            async move { provider.get_logs(&filter).await.expect("logs").len() }
        })
        .buffered(4)
        .collect()
        .await;
    let logs: usize = counts.iter().sum();
    (logs, logs as f64 / started.elapsed().as_secs_f64())
}
