//! Liveness on an idle chain: anvil automines (a block only when a transaction comes) and nothing
//! else sends transactions, so no block arrives to count. Bursts of requests are all mined, none
//! twice; a transaction the node drops from its pool is sent again without any block from
//! outside; receipts are tracked from the node's `newHeads` notifications.

mod common;

use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use common::*;
use futures_util::future::join_all;
use nest_chain::AnvilOptions;
use nest_relayer::RelayerConfig;
use nest_rpc::HeadSource;
use nest_store::{RelayJob, RelayJobStatus, Store};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// Users sending in each burst, and requests each sends in it.
const USERS: usize = 20;
const PER_USER: usize = 25;
const BURSTS: usize = 5;
/// Every accepted job is mined within this after its burst was accepted.
const MINED_WITHIN: Duration = Duration::from_secs(30);

fn is_mined(job: &RelayJob) -> bool {
    matches!(
        job.status,
        RelayJobStatus::Mined | RelayJobStatus::Confirmed
    )
}

/// Waits until every job in `ids` is mined (or confirmed), failing on a final state that is not
/// a success and after `within`. Never mines a block itself.
async fn all_mined(store: &Store, ids: &[String], within: Duration) -> Vec<RelayJob> {
    let deadline = Instant::now() + within;
    loop {
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            let job = store.relay_jobs().get(id).await.expect("get").expect("job");
            assert!(
                is_mined(&job) || !job.status.is_final(),
                "job {id} ended {:?}: {:?}",
                job.status,
                job.error
            );
            jobs.push(job);
        }
        let waiting = jobs.iter().filter(|j| !is_mined(j)).count();
        if waiting == 0 {
            return jobs;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} of {} jobs not mined after {within:?} on an idle chain; first: {:?}",
            ids.len(),
            jobs.iter().find(|j| !is_mined(j))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A signed request of `user` (forwarder nonce `nonce`) approving the marketplace.
fn approval(
    user: &PrivateKeySigner,
    chain: &Chain,
    nonce: u64,
    deadline: u64,
) -> serde_json::Value {
    let a = chain.addresses;
    Forward::new(user, &a, a.nft, approve_all(a.marketplace), nonce, deadline).body()
}

/// A relayer configuration for bursts: quotas out of the way; stuck-by-blocks can never fire
/// (no blocks come but ours), so only what the relayer does by itself can keep it moving.
fn burst_config(chain: &Chain, instance: &str) -> RelayerConfig {
    let mut config = chain.config(instance);
    config.requests_per_minute = 10_000;
    config.gas_per_day = u64::MAX / 2;
    config.stuck_after_blocks = 1_000;
    config.stuck_after = Duration::from_secs(5);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_on_an_idle_automining_chain_are_all_mined_and_none_twice() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("liveness_bursts").await;
    let relayer_key = chain.keys[7].clone();
    let relayer =
        Relayer::with_key(&chain, &store, burst_config(&chain, "bursts"), &relayer_key).await;
    let reader = chain.reader();
    let users: Vec<PrivateKeySigner> = (0..USERS).map(|_| PrivateKeySigner::random()).collect();
    let deadline = chain.now().await + 3_600;
    let mut sent: HashMap<Address, u64> = HashMap::new();
    let mut all = Vec::new();
    for burst in 0..BURSTS {
        // Every user sends its requests back to back, all users at once.
        let bursts = users.iter().map(|user| {
            let (relayer, chain) = (&relayer, &chain);
            let first = (burst * PER_USER) as u64;
            async move {
                let mut ids = Vec::with_capacity(PER_USER);
                for nonce in first..first + PER_USER as u64 {
                    ids.push(
                        relayer
                            .accept(&approval(user, chain, nonce, deadline))
                            .await,
                    );
                }
                ids
            }
        });
        let ids: Vec<String> = join_all(bursts).await.into_iter().flatten().collect();
        assert_eq!(ids.len(), USERS * PER_USER);
        let accepted = Instant::now();
        let jobs = all_mined(&store, &ids, MINED_WITHIN).await;
        eprintln!(
            "burst {burst}: {} jobs mined {:?} after the last acceptance",
            jobs.len(),
            accepted.elapsed()
        );
        for job in &jobs {
            assert!(
                job.receipt.as_ref().is_some_and(|r| r.success && !r.noop),
                "{job:?}"
            );
        }
        for user in &users {
            *sent.entry(user.address()).or_default() += PER_USER as u64;
        }
        all.extend(ids);
    }
    // The forwarder ran each request exactly once: a user's forwarder nonce is the number of
    // requests it sent (a request sent twice would either revert or have been refused).
    for user in &users {
        assert_eq!(
            forwarder_nonce(&chain, user.address()).await,
            U256::from(sent[&user.address()]),
            "{}",
            user.address()
        );
    }
    // One mined transaction per job from the relayer account, no other (no no-op fills).
    let relayer_nonce = reader
        .get_transaction_count(relayer_key.address())
        .await
        .expect("nonce");
    assert_eq!(relayer_nonce, all.len() as u64);
    relayer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_dropped_from_the_pool_is_sent_again_without_any_new_block() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("liveness_dropped").await;
    let relayer_key = chain.keys[8].clone();
    let mut config = burst_config(&chain, "dropped");
    // Neither stuck rule can explain a recovery within the test's bounds.
    config.stuck_after = Duration::from_secs(600);
    config.gap_grace = Duration::from_secs(600);
    let relayer = Relayer::with_key(&chain, &store, config, &relayer_key).await;
    let reader = chain.reader();
    chain.automine(false).await;
    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    let mut ids = Vec::new();
    for nonce in 0..3 {
        ids.push(
            relayer
                .accept(&approval(&user, &chain, nonce, deadline))
                .await,
        );
    }
    // All three are in the node's pool; the first (and with it, the two that need it) is lost.
    let start = Instant::now();
    let mut first = None;
    while first.is_none() || reader_pending(&reader, relayer_key.address()).await < 3 {
        assert!(start.elapsed() < Duration::from_secs(20), "never sent");
        let job = store
            .relay_jobs()
            .get(&ids[0])
            .await
            .expect("get")
            .expect("job");
        first = job.attempt.map(|attempt| attempt.hash);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first: B256 = first.expect("sent");
    // The node loses it. (Whether the pool already looks whole again when asked next depends on
    // how fast the relayer notices, so only the drop itself is checked here.)
    let dropped = reader
        .anvil_drop_transaction(first)
        .await
        .expect("drop the first transaction");
    assert_eq!(dropped, Some(first), "the node had it and dropped it");
    chain.automine(true).await;

    let jobs = all_mined(&store, &ids, Duration::from_secs(20)).await;
    for job in &jobs {
        assert_eq!(
            job.tx_hashes.len(),
            1,
            "broadcast again as signed, not replaced: {job:?}"
        );
        assert!(job.receipt.as_ref().is_some_and(|r| r.success));
    }
    assert_eq!(
        forwarder_nonce(&chain, user.address()).await,
        U256::from(3u64),
        "each request ran once"
    );
    relayer.stop().await;
}

/// The relayer account's pending nonce at the node.
async fn reader_pending(reader: &alloy::providers::DynProvider, account: Address) -> u64 {
    reader
        .get_transaction_count(account)
        .pending()
        .await
        .expect("pending nonce")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_are_tracked_from_new_head_notifications() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("liveness_heads").await;
    let relayer_key = chain.keys[9].clone();
    let mut config = burst_config(&chain, "heads");
    // Polling alone would see a new block up to 10 s late.
    config.poll_interval = Duration::from_secs(10);
    config.lease_ttl = Duration::from_secs(60);
    config.ws_url = nest_rpc::ws_url_for(&chain.node.endpoint());
    let relayer = Relayer::with_key(&chain, &store, config, &relayer_key).await;
    let start = Instant::now();
    while relayer.chain.head_source() != HeadSource::Subscription {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reader = chain.reader();
    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    for nonce in 0..3u64 {
        let id = relayer
            .accept(&approval(&user, &chain, nonce, deadline))
            .await;
        // The lane takes the job at its next wake-up (a head or the 10 s poll), sends it, and
        // anvil mines it at once.
        let hash = loop {
            let job = store
                .relay_jobs()
                .get(&id)
                .await
                .expect("get")
                .expect("job");
            if let Some(attempt) = job.attempt {
                break attempt.hash;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let readable = loop {
            if reader
                .get_transaction_receipt(hash)
                .await
                .expect("receipt")
                .is_some()
            {
                break Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let job = all_mined(&store, std::slice::from_ref(&id), Duration::from_secs(8)).await;
        let lag = readable.elapsed();
        assert!(
            lag < Duration::from_secs(2),
            "mined status {lag:?} after the receipt was readable: only a notification explains less than the 10 s poll"
        );
        assert!(job[0].receipt.as_ref().is_some_and(|r| r.success));
    }
    relayer.stop().await;
}
