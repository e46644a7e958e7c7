//! The indexer is killed with SIGKILL at random points of a backfill, 10 times, and still ends
//! with exactly the store contents of an uninterrupted run; so does a backfill whose RPC
//! connections keep breaking, and two indexers racing on one stream; a reorg that removes a sale
//! and reorders bids leaves projections equal to a fresh index of the new chain.

mod common;

use alloy::{
    primitives::U256,
    providers::{Provider, ext::AnvilApi},
};
use common::*;
use nest_abis::{NestMarketplace, NestNFT};
use nest_chain::{AnvilOptions, NestAddresses};
use nest_indexer::{Indexer, IndexerConfig};
use nest_store::{Store, StoreConfig};
use std::{
    process::{Command, Stdio},
    time::Duration,
};

const TOKENS_PER_TX: usize = 5;
const MINT_TXS: usize = 300;

/// Generates a few thousand events in many blocks.
async fn busy_chain() -> Chain {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let minter = chain.provider(0);
    let nft = NestNFT::new(chain.addresses.nft, &minter);
    let owner = chain.keys[1].address();
    for tx in 0..MINT_TXS {
        let uris: Vec<String> = (0..TOKENS_PER_TX)
            .map(|i| format!("ipfs://busy/{tx}/{i}"))
            .collect();
        send(
            &minter,
            nft.mintBatch(owner, uris).into_transaction_request(),
        )
        .await;
    }
    chain
}

fn config_from_env() -> Option<(String, String, String, NestAddresses, u64)> {
    let rpc = std::env::var("NEST_TEST_RPC").ok()?;
    let uri = std::env::var("NEST_TEST_STORE_URI").ok()?;
    let db = std::env::var("NEST_TEST_STORE_DB").ok()?;
    let a: NestAddresses = std::env::var("NEST_TEST_ADDRESSES").ok()?.parse().ok()?;
    let start = std::env::var("NEST_TEST_START").ok()?.parse().ok()?;
    Some((rpc, uri, db, a, start))
}

fn small_batches(config: &mut IndexerConfig) {
    // Many small transactions so that kills land mid-backfill.
    config.initial_range = 1;
    config.max_range = 1;
    config.fetch_concurrency = 2;
    config.reorg_window = 0;
}

/// The indexer run in a child process by the crash test (ignored when run directly).
#[test]
#[ignore = "child process of the crash test"]
fn indexer_child() {
    let Some((rpc, uri, db, addresses, start)) = config_from_env() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Store::connect(StoreConfig::new(uri, db))
            .await
            .expect("store");
        let mut config = IndexerConfig::new(31337, addresses, start);
        small_batches(&mut config);
        let provider =
            nest_chain::http_provider(&rpc.parse().expect("url"), None).expect("provider");
        let indexer = Indexer::new(config, store, provider)
            .await
            .expect("indexer");
        indexer.backfill(None).await.expect("backfill");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_backfill_ten_times_ends_with_the_same_store_contents() {
    let chain = busy_chain().await;
    let a = chain.addresses;
    let reference = store("reference").await;
    let mut config = chain.indexer_config();
    small_batches(&mut config);
    chain
        .indexer(&reference, config.clone())
        .await
        .backfill(None)
        .await
        .expect("uninterrupted run");
    let head = chain.provider(0).get_block_number().await.expect("head");

    let crashed = store("crashed").await;
    let addresses = a.to_string();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos() as u64
        | 1;
    let mut progress = Vec::new();
    for _ in 0..10 {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "indexer_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("NEST_TEST_RPC", chain.node.endpoint().to_string())
            .env("NEST_TEST_STORE_URI", &crashed.config().uri)
            .env("NEST_TEST_STORE_DB", &crashed.config().database)
            .env("NEST_TEST_ADDRESSES", &addresses)
            .env("NEST_TEST_START", chain.start_block().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("child");
        // Kill once the checkpoint has moved a random 1..=25 blocks past where this run
        // started, plus a random 0..8 ms (often inside the next batch's transaction).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let before = checkpoint_of(&crashed).await.unwrap_or(0);
        let goal = before + 1 + (seed % 25) as i64;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while checkpoint_of(&crashed).await.unwrap_or(0) < goal.min(head as i64)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis((seed >> 8) % 8)).await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        // The dead writer's open transaction would hold its documents until the server reaps
        // it; end it now, as an operator would, so the next run starts at once.
        crashed
            .client()
            .database("admin")
            .run_command(bson::doc! { "killAllSessions": [] })
            .await
            .expect("killAllSessions");
        let cp = crashed
            .checkpoints()
            .get(31337, "nest")
            .await
            .expect("cp")
            .map(|c| c.block_number);
        progress.push(cp);
    }
    let mid_run = progress
        .iter()
        .filter(|cp| cp.is_some_and(|b| (b as u64) < head))
        .count();
    assert!(
        mid_run >= 5,
        "most kills landed mid-backfill: checkpoints {progress:?}, head {head}"
    );
    eprintln!("checkpoints after each SIGKILL: {progress:?} (head {head})");
    // A final run finishes the job.
    chain
        .indexer(&crashed, config)
        .await
        .backfill(None)
        .await
        .expect("final run");
    assert_eq!(
        digest(&crashed).await,
        digest(&reference).await,
        "checkpoints after kills: {progress:?}"
    );
    assert_same_contents(&crashed, &reference).await;
    assert_eq!(
        crashed.events().count(31337).await.expect("count"),
        reference.events().count(31337).await.expect("count")
    );
    assert!(
        reference.events().count(31337).await.expect("count") as usize
            >= TOKENS_PER_TX * MINT_TXS * 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_connections_failing_mid_backfill_are_retried_and_no_block_is_skipped() {
    let chain = busy_chain().await;
    let mut config = chain.indexer_config();
    small_batches(&mut config);
    let reference = store("flaky_reference").await;
    chain
        .indexer(&reference, config.clone())
        .await
        .backfill(None)
        .await
        .expect("direct run");

    let proxy = FlakyProxy::start(&chain.node.endpoint()).await;
    let flaky = store("flaky").await;
    let provider = nest_chain::http_provider(&proxy.url, None).expect("provider");
    let indexer = Indexer::new(config, flaky.clone(), provider)
        .await
        .expect("indexer through the proxy");
    indexer
        .backfill(None)
        .await
        .expect("backfill despite faults");
    assert!(
        proxy.faults() >= 10,
        "the proxy broke connections: {}",
        proxy.faults()
    );
    eprintln!("connections broken by the proxy: {}", proxy.faults());
    assert_eq!(digest(&flaky).await, digest(&reference).await);
    assert_same_contents(&flaky, &reference).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_indexers_racing_on_one_stream_apply_every_batch_once() {
    let chain = busy_chain().await;
    let mut config = chain.indexer_config();
    small_batches(&mut config);
    let reference = store("race_reference").await;
    chain
        .indexer(&reference, config.clone())
        .await
        .backfill(None)
        .await
        .expect("single writer");

    let shared = store("race_shared").await;
    let first = chain.indexer(&shared, config.clone()).await;
    let second = chain.indexer(&shared, config).await;
    // Each keeps going until the whole range is indexed; losing a race for a batch (the
    // checkpoint moved under it) means re-reading the checkpoint and carrying on.
    async fn until_done(indexer: &Indexer) -> u32 {
        let mut lost = 0;
        loop {
            match indexer.backfill(None).await {
                Ok(_) => return lost,
                Err(e) if e.is_transient() => lost += 1,
                Err(e) => panic!("backfill failed: {e}"),
            }
        }
    }
    let (lost_first, lost_second) = tokio::join!(until_done(&first), until_done(&second));
    eprintln!("batches lost to the other writer: {lost_first} + {lost_second}");
    assert_eq!(digest(&shared).await, digest(&reference).await);
    assert_same_contents(&shared, &reference).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_that_removes_a_sale_and_reorders_bids_matches_a_fresh_index() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let seed = nest_chain::seed::seed_demo(&chain.node.endpoint(), &a, &chain.keys)
        .await
        .expect("seed")
        .expect("seeded");
    let store = store("reorg").await;
    let mut config = chain.indexer_config();
    config.reorg_window = 32;
    let indexer = chain.indexer(&store, config.clone()).await;
    indexer.backfill(None).await.expect("backfill");
    while indexer.follow_step().await.expect("follow") > 0 {}

    let provider = chain.provider(0);
    let snapshot = provider.anvil_snapshot().await.expect("snapshot");
    let (p2, p3, p4) = (chain.provider(2), chain.provider(3), chain.provider(4));
    let bid = |p: &alloy::providers::DynProvider, amount: U256| {
        NestMarketplace::new(a.marketplace, p)
            .bid(seed.auction_id, amount)
            .value(amount)
            .into_transaction_request()
    };
    // Original branch: a sale of listing #1, then bids by accounts 3 then 4.
    let buy = NestMarketplace::new(a.marketplace, &p2)
        .buy(seed.listing_id, ether(1))
        .value(ether(1))
        .into_transaction_request();
    send(&p2, buy).await;
    send(&p3, bid(&p3, ether(1))).await;
    send(&p4, bid(&p4, ether(2))).await;
    while indexer.follow_step().await.expect("follow") > 0 {}
    assert_eq!(
        store.sales().recent(31337, 10).await.expect("sales").len(),
        1,
        "the sale was indexed"
    );

    // The chain reorganises: no sale, the bids come in the other order, and the new branch is
    // longer than the old one.
    assert!(provider.anvil_revert(snapshot).await.expect("revert"));
    // Fresh providers: the old ones cached nonces of the abandoned branch.
    let (p3, p4) = (chain.provider(3), chain.provider(4));
    send(&p4, bid(&p4, ether(1))).await;
    send(&p3, bid(&p3, ether(2))).await;
    provider.anvil_mine(Some(3), None).await.expect("mine");
    while indexer.follow_step().await.expect("follow after reorg") > 0 {}

    assert!(
        store
            .sales()
            .recent(31337, 10)
            .await
            .expect("sales")
            .is_empty(),
        "the sale is gone"
    );
    let auction = store
        .auctions()
        .get(31337, &a.marketplace, &seed.auction_id)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(auction.highest_bidder, Some(chain.keys[3].address()));
    let listing = store
        .listings()
        .get(31337, &a.marketplace, &seed.listing_id)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(listing.status, nest_store::ListingStatus::Active);
    assert_stats_match_recount(&store).await;

    let fresh = store_named("reorg_fresh").await;
    let fresh_indexer = chain.indexer(&fresh, config).await;
    fresh_indexer.backfill(None).await.expect("fresh backfill");
    while fresh_indexer.follow_step().await.expect("fresh follow") > 0 {}
    assert_same_contents(&store, &fresh).await;
}

async fn checkpoint_of(store: &Store) -> Option<i64> {
    store
        .checkpoints()
        .get(31337, "nest")
        .await
        .expect("checkpoint")
        .map(|c| c.block_number)
}

async fn store_named(label: &str) -> Store {
    store(label).await
}
