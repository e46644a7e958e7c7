//! Freshness: how long after the indexer commits a block every endpoint the change affects
//! answers the new state, although each had cached the old one a moment before.
//!
//! Each round lowers the price of the seeded listing (so it is also the collection's ETH floor),
//! warms the five affected answers (the listing, the collection stats, the token's activity,
//! the seller's portfolio, the collection's listed tokens sorted by price), lets the indexer
//! commit the block, then polls all five until each shows the new price. The figure is the
//! time from the commit to the last of them being fresh; the same-run baseline is the time for
//! a direct store read to see the change.
//!
//! Target (issue 10): p99 < 100 ms. `NEST_BENCH_ROUNDS` rounds (default 100).
//!
//! `cargo bench -p nest-api --bench freshness` (scripts/setup first).

#![allow(missing_docs)]

use alloy::primitives::U256;
use nest_testkit::{HttpClient, TestStack};
use std::time::{Duration, Instant};

/// How long one answer may stay stale before the round fails.
const GIVE_UP: Duration = Duration::from_secs(10);

fn percentile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)]
}

/// Polls `path` until `fresh` holds for its JSON answer; the time it took.
async fn until_fresh(
    client: &HttpClient,
    path: &str,
    fresh: impl Fn(&serde_json::Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let response = client.get(path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        if fresh(&response.json()) {
            return started.elapsed();
        }
        assert!(started.elapsed() < GIVE_UP, "{path} stayed stale");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("NEST_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let stack = TestStack::start("bench_freshness").await;
    let api = stack.api(stack.api_config(), None).await;
    let client = &api.client;
    let seed = stack.chain.seed().clone();
    let nft = stack.chain.addresses.nft.to_checksum(None);
    let seller = seed.actors[0].to_checksum(None);
    let token = seed.minted[0];
    let listing = seed.listing_id;
    let paths = [
        format!("/v1/listings/{listing}"),
        format!("/v1/collections/{nft}/stats"),
        format!("/v1/activity?contract={nft}&tokenId={token}&limit=1"),
        format!("/v1/users/{seller}/portfolio"),
        format!("/v1/collections/{nft}/tokens?status=listed&sort=price_asc&limit=1"),
    ];
    let market =
        nest_abis::NestMarketplace::new(stack.chain.addresses.marketplace, stack.chain.provider(1));
    let mut api_ms = Vec::with_capacity(rounds);
    let mut store_ms = Vec::with_capacity(rounds);
    let mut index_ms = Vec::with_capacity(rounds);
    let mut slowest: [f64; 5] = [0.0; 5];
    // Seeded at 1 ETH; each round is 1 gwei cheaper, so the new price is the floor too.
    let one_eth = U256::from(10u64).pow(U256::from(18u64));
    for round in 0..rounds {
        let price = one_eth - U256::from(1_000_000_000u64) * U256::from(round as u64 + 1);
        for path in &paths {
            client.get(path).await;
        }
        market
            .updateListingPrice(listing, price)
            .send()
            .await
            .expect("update")
            .get_receipt()
            .await
            .expect("receipt");
        let started = Instant::now();
        stack.index().await;
        let committed = Instant::now();
        index_ms.push((committed - started).as_secs_f64() * 1e3);

        let want = price.to_string();
        let w = want.as_str();
        let checks = futures_util::future::join5(
            until_fresh(client, &paths[0], |v| v["price"] == w),
            until_fresh(client, &paths[1], |v| v["floorPrice"] == w),
            until_fresh(client, &paths[2], |v| v["items"][0]["amount"]["raw"] == w),
            until_fresh(client, &paths[3], |v| {
                v["listings"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["price"] == w))
            }),
            until_fresh(client, &paths[4], |v| v["items"][0]["market"]["price"] == w),
        )
        .await;
        let each = [checks.0, checks.1, checks.2, checks.3, checks.4];
        for (slot, d) in slowest.iter_mut().zip(each) {
            *slot = slot.max(d.as_secs_f64() * 1e3);
        }
        api_ms.push(committed.elapsed().as_secs_f64() * 1e3);

        // Baseline: a direct store read of the same listing after the same commit.
        let read = Instant::now();
        let stored = stack
            .store
            .listings()
            .get(31337, &stack.chain.addresses.marketplace, &listing)
            .await
            .expect("read")
            .expect("listing");
        assert_eq!(stored.price, price);
        store_ms.push(read.elapsed().as_secs_f64() * 1e3);
    }
    let (api50, api99) = (percentile(&mut api_ms, 0.5), percentile(&mut api_ms, 0.99));
    let (store50, store99) = (
        percentile(&mut store_ms, 0.5),
        percentile(&mut store_ms, 0.99),
    );
    let index50 = percentile(&mut index_ms, 0.5);
    println!(
        "freshness over {rounds} rounds (commit of the block -> every affected answer fresh):"
    );
    println!("  all five answers fresh      p50 {api50:>7.2} ms  p99 {api99:>7.2} ms");
    println!("  baseline: one store read    p50 {store50:>7.2} ms  p99 {store99:>7.2} ms");
    println!(
        "  ratio (p99 answers / p99 store read): {:.1}x",
        api99 / store99.max(1e-3)
    );
    println!("  indexing the block (for scale) p50 {index50:.2} ms");
    for (path, worst) in paths.iter().zip(slowest) {
        println!("    worst {worst:>7.2} ms  {path}");
    }
    println!("  target: p99 < 100 ms");
}
