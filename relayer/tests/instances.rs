//! Two relayer instances share one pool of relayer accounts: only the lease holder sends from an
//! account; when it dies (its lanes stop without releasing), the other takes the accounts over
//! once the leases expire and finishes every job, each executed exactly once, nonces contiguous.

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use common::*;
use futures_util::TryStreamExt;
use nest_abis::{NestForwarder, NestNFT};
use nest_chain::AnvilOptions;
use nest_keys::NestSigner;
use nest_relayer::{RelayChain, RelaySubmitter};
use nest_store::{RelayJob, RelayJobStatus, Store};
use std::{collections::BTreeSet, time::Duration};

const USERS: usize = 6;
const PER_USER: u64 = 10;

fn operator(n: u64) -> Address {
    Address::left_padding_from(&(0x7000 + n).to_be_bytes())
}

async fn submitter(
    chain: &Chain,
    store: &Store,
    instance: &str,
    keys: &[PrivateKeySigner],
) -> RelaySubmitter {
    let mut config = chain.config(instance);
    config.lease_ttl = Duration::from_secs(1);
    config.max_in_flight = 8;
    config.claim_batch = 4;
    let relay_chain = RelayChain::connect(config, chain.reader())
        .await
        .expect("chain");
    let signers = keys.iter().cloned().map(NestSigner::from_local).collect();
    RelaySubmitter::new(relay_chain, store.clone(), signers)
        .await
        .expect("submitter")
}

async fn count(store: &Store, state: RelayJobStatus) -> u64 {
    store.relay_jobs().count_in(state).await.expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_takes_over_a_dead_ones_accounts_without_sending_anything_twice() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let store = store("instances").await;
    let keys = [chain.keys[7].clone(), chain.keys[8].clone()];
    let pool: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let intake = Relayer::intake_only(
        &chain,
        &store,
        chain.config("instances-intake"),
        pool.clone(),
    )
    .await;
    let users: Vec<PrivateKeySigner> = (0..USERS).map(|_| PrivateKeySigner::random()).collect();
    let deadline = chain.now().await + 3_600;
    for user in &users {
        for nonce in 0..PER_USER {
            let data = NestNFT::setApprovalForAllCall {
                operator: operator(nonce),
                approved: true,
            }
            .abi_encode();
            intake
                .accept(&Forward::new(user, &a, a.nft, data, nonce, deadline).body())
                .await;
        }
    }
    let total = USERS as u64 * PER_USER;
    chain
        .reader()
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    chain
        .reader()
        .anvil_set_interval_mining(1)
        .await
        .expect("interval mining");

    // Instance A takes both accounts and starts sending.
    let first = submitter(&chain, &store, "instance-a", &keys).await;
    let a_task = tokio::spawn(async move { first.run(std::future::pending()).await });
    let started = tokio::time::Instant::now();
    while count(&store, RelayJobStatus::Submitted).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "instance A sends"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Instance B starts while A holds the leases: it must not send.
    let second = submitter(&chain, &store, "instance-b", &keys).await;
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let b_task = tokio::spawn(async move {
        second
            .run(async {
                let _ = stopped_b.await;
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for account in &pool {
        let lease = store
            .relay_signers()
            .get(CHAIN_ID, account)
            .await
            .expect("lease")
            .expect("exists");
        assert_eq!(
            lease.owner.as_deref(),
            Some("instance-a"),
            "A still holds {account}"
        );
    }
    // A dies with jobs in flight (its lanes stop at once; the leases are not released).
    a_task.abort();
    let _ = a_task.await;
    let left = total - count(&store, RelayJobStatus::Confirmed).await;
    assert!(left > 0, "A died with work left");

    let started = tokio::time::Instant::now();
    while count(&store, RelayJobStatus::Confirmed).await < total {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "instance B finishes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_b.send(());
    b_task.await.expect("B").expect("B run");

    // Each request executed once; every approval is in place.
    let reader = chain.reader();
    let executed = reader
        .get_logs(
            &Filter::new()
                .address(a.forwarder)
                .event_signature(NestForwarder::ExecutedForwardRequest::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .expect("logs");
    assert_eq!(executed.len() as u64, total, "no request executed twice");
    let nft = NestNFT::new(a.nft, &reader);
    for user in &users {
        for n in 0..PER_USER {
            assert!(
                nft.isApprovedForAll(user.address(), operator(n))
                    .call()
                    .await
                    .expect("approved")
            );
        }
        assert_eq!(
            forwarder_nonce(&chain, user.address()).await,
            U256::from(PER_USER)
        );
    }
    // Each account: nonces 0..n, one job each, and B holds the lease now.
    let mut sent = 0;
    for account in &pool {
        let on_chain = reader.get_transaction_count(*account).await.expect("nonce");
        let jobs: Vec<RelayJob> = store
            .database()
            .collection::<RelayJob>("relay_jobs")
            .find(bson::doc! { "signer": format!("{account:#x}") })
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        let nonces: BTreeSet<i64> = jobs.iter().filter_map(|j| j.signer_nonce).collect();
        assert_eq!(
            nonces,
            (0..on_chain as i64).collect::<BTreeSet<_>>(),
            "{account}"
        );
        let lease = store
            .relay_signers()
            .get(CHAIN_ID, account)
            .await
            .expect("lease")
            .expect("exists");
        assert_eq!(lease.next_nonce as u64, on_chain);
        sent += on_chain;
    }
    assert_eq!(sent, total, "one transaction per job");
}
