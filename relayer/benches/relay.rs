//! Relayer throughput against anvil and the local store, each number with its ratio to a
//! baseline measured in the same run: raw `eth_sendRawTransaction` of 1,000 pre-signed
//! transactions from one local key, until all are mined.
//!
//! - intake: 1,000 meta-transactions from 100 users posted concurrently (each user's requests
//!   in nonce order) through the HTTP router on a real loopback listener, every check included
//!   (signature, nonce, deadline, policy, `eth_call` simulation, quota, balance, durable insert);
//!   the submitter is not running, so this is intake alone. Target >= 2,000 req/s.
//! - end to end: another 1,000 from 100 other users with the submitter running (4 local relayer
//!   accounts), from the first post until the last job is mined. Target >= 200 tx/s.
//!
//! `cargo bench -p nest-relayer --bench relay` (uses `NEST_MONGODB_URI` if set).

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::Encodable2718,
    network::TxSignerSync,
    primitives::{Address, Bytes, TxKind, U256, Uint},
    providers::Provider,
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolCall, SolStruct},
    transports::http::reqwest,
};
use futures_util::{StreamExt, stream};
use nest_abis::NestNFT;
use nest_chain::NestAddresses;

use nest_keys::NestSigner;
use nest_relayer::{
    RelayChain, RelayIntake, RelaySubmitter, RelayerConfig, request::typed::ForwardRequest,
};
use nest_store::{RelayJobStatus, Store};
use nest_testkit::{TestChain, TestStore};
use std::time::{Duration, Instant};

const USERS: usize = 100;
const PER_USER: u64 = 10;
const TOTAL: u64 = USERS as u64 * PER_USER;
const CHAIN_ID: u64 = 31337;

fn approval(operator: u64) -> Bytes {
    NestNFT::setApprovalForAllCall {
        operator: Address::left_padding_from(&(0x1000 + operator).to_be_bytes()),
        approved: true,
    }
    .abi_encode()
    .into()
}

/// Signed request bodies: `PER_USER` per user, in nonce order.
fn bodies(users: &[PrivateKeySigner], a: &NestAddresses, deadline: u64) -> Vec<Vec<String>> {
    let domain = Eip712Domain::new(
        Some("NestForwarder".into()),
        Some("1".into()),
        Some(U256::from(CHAIN_ID)),
        Some(a.forwarder),
        None,
    );
    users
        .iter()
        .map(|user| {
            (0..PER_USER)
                .map(|nonce| {
                    let data = approval(nonce);
                    let message = ForwardRequest {
                        from: user.address(),
                        to: a.nft,
                        value: U256::ZERO,
                        gas: U256::from(100_000),
                        nonce: U256::from(nonce),
                        deadline: Uint::<48, 1>::from(deadline),
                        data: data.clone(),
                    };
                    let signature = user
                        .sign_hash_sync(&message.eip712_signing_hash(&domain))
                        .expect("sign");
                    serde_json::json!({
                        "from": user.address(),
                        "to": a.nft,
                        "gas": 100_000,
                        "nonce": nonce,
                        "deadline": deadline,
                        "data": data,
                        "signature": Bytes::from(signature.as_bytes()),
                    })
                    .to_string()
                })
                .collect()
        })
        .collect()
}

/// Posts every user's bodies (users concurrently, each in order); returns the elapsed time.
async fn post_all(client: &reqwest::Client, url: &str, bodies: Vec<Vec<String>>) -> Duration {
    let started = Instant::now();
    let tasks = bodies.into_iter().map(|user_bodies| {
        let client = client.clone();
        let url = url.to_string();
        tokio::spawn(async move {
            for body in user_bodies {
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                assert_eq!(status.as_u16(), 202, "{text}");
            }
        })
    });
    for task in futures_util::future::join_all(tasks).await {
        task.expect("poster");
    }
    started.elapsed()
}

async fn mined(store: &Store) -> u64 {
    let jobs = store.relay_jobs();
    jobs.count_in(RelayJobStatus::Mined).await.expect("count")
        + jobs
            .count_in(RelayJobStatus::Confirmed)
            .await
            .expect("count")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let chain = TestChain::builder().dev_accounts(1).start().await;
    let keys = chain.keys.clone();
    let a = chain.addresses;
    let reader = chain.reader();

    // ---- baseline: raw eth_sendRawTransaction from one local key
    let key = keys[1].clone();
    let start_nonce = reader
        .get_transaction_count(key.address())
        .await
        .expect("nonce");
    let raws: Vec<Bytes> = (0..TOTAL)
        .map(|i| {
            let mut tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: start_nonce + i,
                gas_limit: 100_000,
                max_fee_per_gas: 20_000_000_000,
                max_priority_fee_per_gas: 1_000_000_000,
                to: TxKind::Call(a.nft),
                value: U256::ZERO,
                access_list: Default::default(),
                input: approval(i),
            };
            let signature = key.sign_transaction_sync(&mut tx).expect("sign");
            Bytes::from(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
        })
        .collect();
    let started = Instant::now();
    let sent: Vec<()> = stream::iter(raws)
        .map(|raw| {
            let reader = reader.clone();
            async move {
                let _pending = reader.send_raw_transaction(&raw).await.expect("send raw");
            }
        })
        .buffered(32)
        .collect()
        .await;
    assert_eq!(sent.len() as u64, TOTAL);
    while reader
        .get_transaction_count(key.address())
        .await
        .expect("nonce")
        < start_nonce + TOTAL
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let baseline = TOTAL as f64 / started.elapsed().as_secs_f64();

    // ---- the relayer: store, chain view, intake on a loopback listener, 4 relayer accounts
    let store = TestStore::fresh("relay_bench").await;
    let mut config = RelayerConfig::new(CHAIN_ID, a);
    config.poll_interval = Duration::from_millis(10);
    config.confirmations = 1;
    config.requests_per_minute = 1_000;
    config.instance_id = "bench".into();
    let chain = RelayChain::connect(config, reader.clone())
        .await
        .expect("chain");
    let signers: Vec<NestSigner> = keys[5..9]
        .iter()
        .cloned()
        .map(NestSigner::from_local)
        .collect();
    let pool: Vec<Address> = signers.iter().map(|s| s.address()).collect();
    let intake = RelayIntake::new(chain.clone(), store.clone(), pool)
        .await
        .expect("intake");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let url = format!("http://{}/v1/relay", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(listener, nest_relayer::router(intake))
            .await
            .expect("serve");
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(USERS)
        .build()
        .expect("client");
    let deadline = chain.chain_time() + 3_600;

    // ---- intake alone
    let users: Vec<PrivateKeySigner> = (0..USERS).map(|_| PrivateKeySigner::random()).collect();
    let signed = bodies(&users, &a, deadline);
    let took = post_all(&client, &url, signed).await;
    let intake_rate = TOTAL as f64 / took.as_secs_f64();

    // ---- end to end: the first batch drains, then a second batch is posted and mined
    let submitter = RelaySubmitter::new(chain.clone(), store.clone(), signers)
        .await
        .expect("submitter");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        submitter
            .run(async {
                let _ = stopped.await;
            })
            .await
            .expect("submitter");
    });
    let drain = Instant::now();
    while mined(&store).await < TOTAL {
        assert!(
            drain.elapsed() < Duration::from_secs(120),
            "draining the intake batch"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain_rate = TOTAL as f64 / drain.elapsed().as_secs_f64();
    let users: Vec<PrivateKeySigner> = (0..USERS).map(|_| PrivateKeySigner::random()).collect();
    let signed = bodies(&users, &a, deadline);
    let started = Instant::now();
    let posting = tokio::spawn({
        let client = client.clone();
        let url = url.clone();
        async move { post_all(&client, &url, signed).await }
    });
    while mined(&store).await < 2 * TOTAL {
        assert!(started.elapsed() < Duration::from_secs(120), "end to end");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let e2e = started.elapsed();
    let posted = posting.await.expect("posting");
    let e2e_rate = TOTAL as f64 / e2e.as_secs_f64();
    let _ = stop.send(());
    worker.await.expect("worker");

    println!(
        "relayer benchmark: {TOTAL} meta-transactions from {USERS} users, anvil + local store, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "  baseline: raw eth_sendRawTransaction from one key  {baseline:>8.0} tx/s (until mined)"
    );
    println!(
        "  intake (HTTP, all checks, durable)               {intake_rate:>8.0} req/s  ratio {:.2} (target >= 2000 req/s)",
        intake_rate / baseline
    );
    println!(
        "  end to end (post -> mined)                       {e2e_rate:>8.0} tx/s   ratio {:.2} (target >= 200 tx/s; posting took {:.2} s)",
        e2e_rate / baseline,
        posted.as_secs_f64()
    );
    println!(
        "  draining a full queue (submitter alone)          {drain_rate:>8.0} tx/s   ratio {:.2}",
        drain_rate / baseline
    );
}
