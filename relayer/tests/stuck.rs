//! Transactions that do not get mined: a stuck one is replaced at the same nonce with fees at
//! least 12.5% higher and mined; a job whose deadline passes after it was sent is replaced by a
//! no-op so the job behind it still runs; while fees are above the cap, jobs wait without a
//! nonce and expire there cleanly.

mod common;

use alloy::{
    primitives::U256,
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use common::*;
use nest_abis::{NestForwarder, NestNFT};
use nest_chain::AnvilOptions;
use nest_keys::NestSigner;
use nest_relayer::config::GWEI;
use nest_store::{RelayJob, RelayJobStatus, Store};
use std::time::Duration;

/// Polls job `id` until `done` holds, mining a block every `mine_every` polls (0: never).
async fn until(
    store: &Store,
    chain: &Chain,
    id: &str,
    mine_every: u32,
    done: impl Fn(&RelayJob) -> bool,
) -> RelayJob {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let miner = chain.reader();
    let mut polls = 0u32;
    loop {
        let job = store.relay_jobs().get(id).await.expect("get").expect("job");
        if done(&job) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} stuck at {job:?}"
        );
        polls += 1;
        if mine_every > 0 && polls.is_multiple_of(mine_every) {
            miner.anvil_mine(Some(1), None).await.expect("mine");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn fee(job: &RelayJob) -> u128 {
    u128::try_from(job.attempt.as_ref().expect("attempt").max_fee_per_gas).expect("fits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_transaction_is_replaced_with_higher_fees_and_mined() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("stuck").await;
    let a = chain.addresses;
    let signer = NestSigner::from_local(chain.keys[6].clone());
    let relayer = Relayer::start(&chain, &store, chain.config("stuck"), vec![signer]).await;
    let reader = chain.reader();
    chain.automine(false).await;

    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    let id = relayer
        .accept(&Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 0, deadline).body())
        .await;
    let sent = until(&store, &chain, &id, 0, |j| j.attempt.is_some()).await;
    let first_fee = fee(&sent);

    // The network's base fee jumps far above what the transaction offers: blocks pass without it.
    reader
        .anvil_set_next_block_base_fee_per_gas(first_fee * 20)
        .await
        .expect("base fee");
    let replaced = until(&store, &chain, &id, 4, |j| j.tx_hashes.len() >= 2).await;
    let second_fee = fee(&replaced);
    assert!(
        second_fee * 1000 >= first_fee * 1125,
        "bumped by at least 12.5%: {first_fee} -> {second_fee}"
    );
    assert_eq!(replaced.signer_nonce, sent.signer_nonce, "same nonce");

    let mined = until(&store, &chain, &id, 2, |j| j.mined_tx.is_some()).await;
    assert_eq!(
        mined.mined_tx.as_deref(),
        mined.tx_hashes.last().map(String::as_str),
        "the replacement is what got mined"
    );
    assert!(mined.receipt.as_ref().is_some_and(|r| r.success && !r.noop));
    let done = wait_for(&store, &chain, &id, RelayJobStatus::Confirmed).await;
    assert!(done.tx_hashes.len() >= 2);
    let nft = NestNFT::new(a.nft, &reader);
    assert!(
        nft.isApprovedForAll(user.address(), a.marketplace)
            .call()
            .await
            .expect("approved")
    );
    relayer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_job_is_filled_with_a_noop_and_the_job_behind_it_still_runs() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("expired").await;
    let a = chain.addresses;
    let relayer_key = chain.keys[5].clone();
    let mut config = chain.config("expired");
    config.max_fee_per_gas = 10_000 * GWEI;
    let relayer = Relayer::with_key(&chain, &store, config, &relayer_key).await;
    let reader = chain.reader();
    chain.automine(false).await;
    let start_nonce = reader
        .get_transaction_count(relayer_key.address())
        .await
        .expect("nonce");

    let (early, late) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let now = chain.now().await;
    let short = now + 15;
    let expiring = relayer
        .accept(&Forward::new(&early, &a, a.nft, approve_all(a.marketplace), 0, short).body())
        .await;
    let behind = relayer
        .accept(&Forward::new(&late, &a, a.nft, approve_all(a.marketplace), 0, now + 3_600).body())
        .await;
    let first = until(&store, &chain, &expiring, 0, |j| j.attempt.is_some()).await;
    let second = until(&store, &chain, &behind, 0, |j| j.attempt.is_some()).await;
    assert_eq!(
        second.signer_nonce,
        first.signer_nonce.map(|n| n + 1),
        "queued behind it"
    );

    // Neither can be mined (base fee far above their fees) and time passes the first deadline.
    reader
        .anvil_set_next_block_base_fee_per_gas(fee(&first) * 20)
        .await
        .expect("base fee");
    reader
        .anvil_set_next_block_timestamp(short + 5)
        .await
        .expect("time");
    reader.anvil_mine(Some(1), None).await.expect("mine");
    let filling = until(&store, &chain, &expiring, 0, |j| {
        j.attempt.as_ref().is_some_and(|a| a.noop)
    })
    .await;
    assert_eq!(
        filling.status,
        RelayJobStatus::Submitted,
        "settled only once the no-op is mined"
    );

    let expired = until(&store, &chain, &expiring, 3, |j| j.status.is_final()).await;
    assert_eq!(
        expired.status,
        RelayJobStatus::Expired,
        "{:?}",
        expired.error
    );
    assert!(
        expired
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no-op"),
        "{:?}",
        expired.error
    );
    let receipt = expired.receipt.as_ref().expect("receipt");
    assert!(receipt.noop && receipt.success);
    let tx = reader
        .get_transaction_by_hash(
            expired
                .mined_tx
                .as_deref()
                .expect("mined")
                .parse()
                .expect("hash"),
        )
        .await
        .expect("tx")
        .expect("exists");
    {
        use alloy::consensus::Transaction;
        assert_eq!(tx.to(), Some(relayer_key.address()), "a self-transfer");
        assert_eq!(tx.value(), U256::ZERO);
        assert!(tx.input().is_empty());
    }
    let forwarder = NestForwarder::new(a.forwarder, &reader);
    assert_eq!(
        forwarder
            .nonces(early.address())
            .call()
            .await
            .expect("nonce"),
        U256::ZERO,
        "the expired request never ran"
    );

    let done = until(&store, &chain, &behind, 3, |j| j.status.is_final()).await;
    assert_eq!(done.status, RelayJobStatus::Confirmed, "{:?}", done.error);
    assert!(done.receipt.as_ref().is_some_and(|r| r.success && !r.noop));
    let nft = NestNFT::new(a.nft, &reader);
    assert!(
        nft.isApprovedForAll(late.address(), a.marketplace)
            .call()
            .await
            .expect("approved")
    );
    assert!(
        !nft.isApprovedForAll(early.address(), a.marketplace)
            .call()
            .await
            .expect("not approved")
    );
    let end_nonce = reader
        .get_transaction_count(relayer_key.address())
        .await
        .expect("nonce");
    assert_eq!(end_nonce, start_nonce + 2, "two nonces, both mined, no gap");
    relayer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_wait_without_a_nonce_while_fees_are_above_the_cap_and_expire_there() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("capped").await;
    let a = chain.addresses;
    let relayer_key = chain.keys[4].clone();
    let mut config = chain.config("capped");
    config.max_fee_per_gas = 5 * GWEI;
    let relayer = Relayer::with_key(&chain, &store, config, &relayer_key).await;
    let reader = chain.reader();
    chain.automine(false).await;
    reader
        .anvil_set_next_block_base_fee_per_gas(50 * GWEI)
        .await
        .expect("base fee");
    reader.anvil_mine(Some(1), None).await.expect("mine");
    let start_nonce = reader
        .get_transaction_count(relayer_key.address())
        .await
        .expect("nonce");

    let user = PrivateKeySigner::random();
    let now = chain.now().await;
    let soon = relayer
        .accept(&Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 0, now + 15).body())
        .await;
    let later = relayer
        .accept(&Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 1, now + 3_600).body())
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = store
        .relay_jobs()
        .get(&soon)
        .await
        .expect("get")
        .expect("job");
    assert_eq!(
        held.status,
        RelayJobStatus::Queued,
        "no nonce while the network needs more than the cap"
    );
    assert!(held.tx_hashes.is_empty());

    reader
        .anvil_set_next_block_timestamp(now + 30)
        .await
        .expect("time");
    reader.anvil_mine(Some(1), None).await.expect("mine");
    let expired = until(&store, &chain, &soon, 0, |j| j.status.is_final()).await;
    assert_eq!(expired.status, RelayJobStatus::Expired);
    assert_eq!(expired.signer_nonce, None, "dropped without a nonce");
    let failed = until(&store, &chain, &later, 0, |j| j.status.is_final()).await;
    assert_eq!(failed.status, RelayJobStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("nonce 0"),
        "{:?}",
        failed.error
    );
    assert_eq!(
        reader
            .get_transaction_count(relayer_key.address())
            .await
            .expect("nonce"),
        start_nonce,
        "nothing was sent"
    );
    relayer.stop().await;
}
