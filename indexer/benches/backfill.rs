//! Indexer throughput on this machine, against anvil and the local store server:
//!
//! 1. generates about 100,000 events (batch mints, listings, auctions and bids);
//! 2. backfills them from scratch and prints events/s into the store, next to the raw
//!    `eth_getLogs` rate for the same range measured in the same run (the node's own limit);
//! 3. follows 1,000 new transactions and prints the lag from each receipt to its projection
//!    being readable (p50, p99).
//!
//! `cargo bench -p nest-indexer --bench backfill` (scripts/setup first).

#![allow(missing_docs)]

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::TransactionRequest,
};
use futures_util::{StreamExt, stream};
use nest_abis::{NestMarketplace, NestNFT};
use nest_chain::{AnvilOptions, http_provider};
use nest_indexer::{Indexer, IndexerConfig};
use nest_store::Listing;
use nest_testkit::{TestChain, TestStore};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

const MINT_TXS: usize = 200;
const TOKENS_PER_MINT: usize = 150;
const LISTINGS: usize = 5_000;
const AUCTIONS: usize = 1_000;
const BIDS: usize = 3_000;
const LIVE_TXS: usize = 1_000;

async fn fire(provider: &DynProvider, from: Address, txs: Vec<TransactionRequest>) {
    // Generation must be fast: automine off, every field filled here (nonce, gas, fees) so the
    // provider makes no calls but eth_sendRawTransaction, 32 sends in flight, then blocks are
    // mined until every transaction is in.
    use alloy::network::TransactionBuilder;
    provider
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    let start = provider
        .get_transaction_count(from)
        .pending()
        .await
        .expect("nonce");
    let fees = provider.estimate_eip1559_fees().await.expect("fees");
    let count = txs.len() as u64;
    let requests: Vec<TransactionRequest> = txs
        .into_iter()
        .enumerate()
        .map(|(i, tx)| {
            let gas = tx.gas.unwrap_or(400_000);
            tx.with_nonce(start + i as u64)
                .with_gas_limit(gas)
                .with_max_fee_per_gas(fees.max_fee_per_gas * 2)
                .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
        })
        .collect();
    let sent: Vec<_> = stream::iter(requests)
        .map(|tx| async move { provider.send_transaction(tx).await.map(|p| *p.tx_hash()) })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        sent.iter().all(|r| r.is_ok()),
        "every generation transaction was accepted"
    );
    loop {
        provider.evm_mine(None).await.expect("mine");
        let mined = provider.get_transaction_count(from).await.expect("nonce");
        if mined >= start + count {
            break;
        }
    }
    provider
        .anvil_set_auto_mine(true)
        .await
        .expect("automine on");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let options = AnvilOptions {
        // No historical states: 100k events would otherwise spill ~10 GB of them to disk.
        extra_args: vec![
            "--gas-limit".into(),
            "100000000".into(),
            "--prune-history".into(),
        ],
        ..Default::default()
    };
    let chain = TestChain::builder().anvil(options).start().await;
    let keys = chain.keys.clone();
    let url = chain.endpoint();
    let deployer_provider = chain.provider(0);
    let a = chain.addresses;
    let start_block = chain.start_block();

    // ---- 1. generate events
    let started = Instant::now();
    let seller = keys[1].address();
    let nft = NestNFT::new(a.nft, &deployer_provider);
    let mints = (0..MINT_TXS)
        .map(|t| {
            let uris = (0..TOKENS_PER_MINT)
                .map(|i| format!("ipfs://bench/{t}/{i}"))
                .collect();
            nft.mintBatch(seller, uris)
                .gas(25_000_000)
                .into_transaction_request()
        })
        .collect();
    fire(&deployer_provider, keys[0].address(), mints).await;
    let seller_provider = http_provider(&url, Some(keys[1].clone())).expect("provider");
    let seller_nft = NestNFT::new(a.nft, &seller_provider);
    fire(
        &seller_provider,
        keys[1].address(),
        vec![
            seller_nft
                .setApprovalForAll(a.marketplace, true)
                .into_transaction_request(),
        ],
    )
    .await;
    let market = NestMarketplace::new(a.marketplace, &seller_provider);
    let listings = (1..=LISTINGS)
        .map(|i| {
            market
                .createListing(
                    a.nft,
                    U256::from(i),
                    Address::ZERO,
                    U256::from(1_000_000 + i),
                    0,
                )
                .into_transaction_request()
        })
        .collect();
    fire(&seller_provider, keys[1].address(), listings).await;
    let auctions = (0..AUCTIONS)
        .map(|i| {
            market
                .createAuction(
                    a.nft,
                    U256::from(LISTINGS + 1 + i),
                    Address::ZERO,
                    U256::from(1_000),
                    7 * 86_400,
                )
                .into_transaction_request()
        })
        .collect();
    fire(&seller_provider, keys[1].address(), auctions).await;
    let bidders: Vec<DynProvider> = (2..5)
        .map(|k| http_provider(&url, Some(keys[k].clone())).expect("provider"))
        .collect();
    for round in 0..BIDS / AUCTIONS {
        let bidder = &bidders[round % bidders.len()];
        let m = NestMarketplace::new(a.marketplace, bidder);
        let amount = U256::from(1_000u64 * 2u64.pow(round as u32 + 1));
        let bids = (1..=AUCTIONS)
            .map(|i| {
                m.bid(U256::from(i), amount)
                    .value(amount)
                    .into_transaction_request()
            })
            .collect();
        fire(bidder, keys[2 + round % bidders.len()].address(), bids).await;
    }
    let head = deployer_provider.get_block_number().await.expect("head");
    println!(
        "generated chain up to block {head} in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // ---- 2a. raw eth_getLogs over the same range (the node's own limit)
    let (raw_events, raw_rate) =
        common::getlogs_rate(&deployer_provider, &a.all(), start_block, head, 1_000).await;

    // ---- 2b. indexer backfill from scratch
    let store = TestStore::fresh("bench_backfill").await;
    let mut config = IndexerConfig::new(31337, a, start_block);
    config.reorg_window = 0;
    let indexer = Indexer::new(config, store.clone(), deployer_provider.clone())
        .await
        .expect("indexer");
    let backfill_started = Instant::now();
    let stats = indexer.backfill(None).await.expect("backfill");
    let backfill_secs = backfill_started.elapsed().as_secs_f64();
    let rate = stats.events as f64 / backfill_secs;
    println!(
        "backfill: {} events over {} blocks in {backfill_secs:.2}s",
        stats.events, stats.blocks
    );
    println!("  indexer into store  {rate:>10.0} events/s");
    println!("  raw eth_getLogs     {raw_rate:>10.0} events/s   ({raw_events} logs)");
    println!(
        "  ratio indexer/raw   {:>10.3}   (target: >= 20,000 events/s into the store)",
        rate / raw_rate
    );

    // ---- 3. live lag: receipt -> projection readable
    // The follower wakes on WebSocket newHeads notifications. Each notice is timestamped as it
    // arrives (notices are published after the batch's commit, so the projection is readable
    // then); each transaction's receipt time is the first moment `eth_getTransactionReceipt`
    // returns it, polled back to back. Lag = notice time - receipt time (0 when the projection
    // was already readable by the time the receipt was).
    let mut follow_config = IndexerConfig::new(31337, a, start_block);
    follow_config.ws_url = nest_indexer::ws_url_for(&url);
    let follower = Arc::new(
        Indexer::new(follow_config, store.clone(), deployer_provider.clone())
            .await
            .expect("indexer"),
    );
    while follower.follow_step().await.expect("catch up") > 0 {}
    let mut notices = follower.subscribe();
    let seen: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(n) if n.kind == "listings" => {
                        let at = Instant::now();
                        seen.lock().expect("lock").entry(n.key).or_insert(at);
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                }
            }
        })
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = {
        let follower = follower.clone();
        tokio::spawn(async move {
            follower
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    while follower.head_source() != nest_indexer::HeadSource::Subscription {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut lags = Vec::with_capacity(LIVE_TXS);
    for i in 0..LIVE_TXS {
        let token = U256::from(LISTINGS + AUCTIONS + 1 + i);
        let listing_id = market.nextListingId().call().await.expect("next id");
        let tx = market
            .createListing(a.nft, token, Address::ZERO, U256::from(7 + i), 0)
            .into_transaction_request();
        let hash = *seller_provider
            .send_transaction(tx)
            .await
            .expect("send")
            .tx_hash();
        let receipt = loop {
            if let Some(r) = seller_provider
                .get_transaction_receipt(hash)
                .await
                .expect("receipt")
            {
                break r;
            }
        };
        let receipt_at = Instant::now();
        assert!(receipt.status());
        let key = Listing::id_for(31337, &a.marketplace, &listing_id);
        let deadline = receipt_at + Duration::from_secs(10);
        let notice_at = loop {
            if let Some(at) = seen.lock().expect("lock").get(&key) {
                break *at;
            }
            assert!(Instant::now() < deadline, "listing {key} indexed in time");
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        lags.push(notice_at.saturating_duration_since(receipt_at));
    }
    recorder.abort();
    let _ = stop_tx.send(());
    let _ = runner.await;
    lags.sort();
    let p = |q: f64| {
        lags[((lags.len() as f64 * q) as usize).min(lags.len() - 1)].as_secs_f64() * 1_000.0
    };
    println!("live lag over {LIVE_TXS} transactions (receipt -> projection readable)");
    println!(
        "  p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   (target: p99 < 100 ms)",
        p(0.50),
        p(0.99),
        p(1.0)
    );
    let readable = store
        .listings()
        .get(31337, &a.marketplace, &U256::from(LISTINGS + LIVE_TXS))
        .await
        .expect("get");
    assert!(readable.is_some(), "the last live listing is in the store");
}
