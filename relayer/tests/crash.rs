//! The submitter runs in a child process and is killed with SIGKILL three times while 200 jobs
//! are in flight (blocks every second), then runs to the end: every job is mined exactly once
//! (each forward request nonce executed once, 200 listings created), and the relayer accounts'
//! nonces have no gap and no transaction the relayer did not intend.

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use common::*;
use futures_util::TryStreamExt;
use nest_abis::{NestForwarder, NestMarketplace, NestNFT};
use nest_chain::{AnvilOptions, NestAddresses};
use nest_keys::NestSigner;
use nest_relayer::{RelayChain, RelaySubmitter};
use nest_store::{RelayJobStatus, Store, StoreConfig};
use std::{
    collections::{BTreeSet, HashSet},
    process::{Child, Command, Stdio},
    time::Duration,
};

const USERS: usize = 20;
const JOBS_PER_USER: u64 = 10;
const JOBS: u64 = USERS as u64 * JOBS_PER_USER;
const WORKER: &str = "crash-worker";

/// The submitter run in a child process by the crash test (ignored when run directly).
#[test]
#[ignore = "child process of the crash test"]
fn relayer_child() {
    let (Ok(rpc), Ok(uri), Ok(db), Ok(addresses), Ok(keys)) = (
        std::env::var("NEST_TEST_RPC"),
        std::env::var("NEST_TEST_STORE_URI"),
        std::env::var("NEST_TEST_STORE_DB"),
        std::env::var("NEST_TEST_ADDRESSES"),
        std::env::var("NEST_TEST_KEYS"),
    ) else {
        return;
    };
    init_logs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let addresses: NestAddresses = addresses.parse().expect("addresses");
        let store = Store::connect(StoreConfig::new(uri, db))
            .await
            .expect("store");
        let mut config = nest_relayer::RelayerConfig::new(CHAIN_ID, addresses);
        config.poll_interval = Duration::from_millis(20);
        config.lease_ttl = Duration::from_secs(3);
        config.confirmations = 1;
        config.stuck_after_blocks = 3;
        config.claim_batch = 16;
        // At most 80 in flight over both accounts: with a block a second, 200 jobs take several
        // blocks, so every kill lands with jobs in flight.
        config.max_in_flight = 40;
        config.instance_id = WORKER.into();
        let provider =
            nest_chain::http_provider(&rpc.parse().expect("url"), None).expect("provider");
        let chain = RelayChain::connect(config, provider).await.expect("chain");
        let signers: Vec<NestSigner> = keys
            .split(',')
            .map(|k| NestSigner::from_local(k.parse::<PrivateKeySigner>().expect("key")))
            .collect();
        let submitter = RelaySubmitter::new(chain, store, signers)
            .await
            .expect("submitter");
        submitter.run(std::future::pending()).await.expect("run");
    });
}

struct Worker {
    child: Child,
}

impl Worker {
    fn spawn(chain: &Chain, store: &Store, keys: &str) -> Self {
        let quiet = std::env::var_os("NEST_TEST_LOG").is_none();
        let child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "relayer_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("NEST_TEST_RPC", chain.node.endpoint().to_string())
            .env("NEST_TEST_STORE_URI", &store.config().uri)
            .env("NEST_TEST_STORE_DB", &store.config().database)
            .env("NEST_TEST_ADDRESSES", chain.addresses.to_string())
            .env("NEST_TEST_KEYS", keys)
            .stdout(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .stderr(if quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("child");
        Self { child }
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn count(store: &Store, states: &[RelayJobStatus]) -> u64 {
    let mut total = 0;
    for s in states {
        total += store.relay_jobs().count_in(*s).await.expect("count");
    }
    total
}

async fn wait_until(
    store: &Store,
    what: &str,
    states: &[RelayJobStatus],
    at_least: u64,
    timeout: Duration,
) -> u64 {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = count(store, states).await;
        if n >= at_least {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: only {n} of {at_least} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_200_jobs_in_flight_mines_each_exactly_once_without_nonce_gaps() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let store = store("crash").await;
    let deployer = chain.provider(0);

    // Users own NFTs and approved the marketplace themselves (set-up, not under test).
    let users: Vec<PrivateKeySigner> = (0..USERS).map(|_| PrivateKeySigner::random()).collect();
    let mut tokens = Vec::new();
    for user in &users {
        tokens.push(chain.mint(user.address(), JOBS_PER_USER as usize).await);
        fund(&chain, user.address(), ether(1) / U256::from(10)).await;
        let provider = nest_chain::http_provider(&chain.node.endpoint(), Some(user.clone()))
            .expect("provider");
        send(
            &provider,
            NestNFT::new(a.nft, &provider)
                .setApprovalForAll(a.marketplace, true)
                .into_transaction_request(),
        )
        .await;
    }
    let relayer_keys = [chain.keys[7].clone(), chain.keys[8].clone()];
    let pool: Vec<Address> = relayer_keys.iter().map(|k| k.address()).collect();
    let keys_env = relayer_keys
        .iter()
        .map(|k| alloy::primitives::hex::encode_prefixed(k.to_bytes()))
        .collect::<Vec<_>>()
        .join(",");

    // From now on a block every second, so transactions wait in the pool.
    deployer
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    deployer
        .anvil_set_interval_mining(1)
        .await
        .expect("interval mining");

    let intake =
        Relayer::intake_only(&chain, &store, chain.config("crash-intake"), pool.clone()).await;
    let deadline = chain.now().await + 3_600;
    let posts = users.iter().zip(&tokens).map(|(user, tokens)| {
        let intake = &intake;
        async move {
            for (nonce, token) in tokens.iter().enumerate() {
                let data = create_listing(a.nft, *token, ether(1), deadline);
                intake
                    .accept(
                        &Forward::new(user, &a, a.marketplace, data, nonce as u64, deadline).body(),
                    )
                    .await;
            }
        }
    });
    futures_util::future::join_all(posts).await;
    assert_eq!(count(&store, &[RelayJobStatus::Queued]).await, JOBS);

    // Three kills: right after the first jobs are sent, then with about a third and a half
    // mined; then a last run to the end.
    let sent = [
        RelayJobStatus::Submitted,
        RelayJobStatus::Mined,
        RelayJobStatus::Confirmed,
    ];
    let mined = [RelayJobStatus::Mined, RelayJobStatus::Confirmed];
    let worker = Worker::spawn(&chain, &store, &keys_env);
    let at_kill_1 = wait_until(&store, "first claims", &sent, 1, Duration::from_secs(30)).await;
    worker.kill();
    let worker = Worker::spawn(&chain, &store, &keys_env);
    let at_kill_2 = wait_until(
        &store,
        "a third mined",
        &mined,
        JOBS / 3,
        Duration::from_secs(60),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(137)).await;
    worker.kill();
    let worker = Worker::spawn(&chain, &store, &keys_env);
    let at_kill_3 = wait_until(
        &store,
        "half mined",
        &mined,
        JOBS / 2,
        Duration::from_secs(60),
    )
    .await;
    worker.kill();
    eprintln!(
        "jobs sent or mined at each SIGKILL: {at_kill_1}, {at_kill_2}, {at_kill_3} of {JOBS}"
    );
    assert!(
        at_kill_3 < JOBS,
        "the last kill landed with jobs still in flight"
    );
    let worker = Worker::spawn(&chain, &store, &keys_env);
    wait_until(
        &store,
        "all confirmed",
        &[RelayJobStatus::Confirmed],
        JOBS,
        Duration::from_secs(90),
    )
    .await;
    worker.kill();
    assert_eq!(
        count(&store, &[RelayJobStatus::Failed, RelayJobStatus::Expired]).await,
        0
    );

    // On chain: each forward request ran exactly once, and succeeded.
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
    let mut seen = HashSet::new();
    for log in &executed {
        let event = NestForwarder::ExecutedForwardRequest::decode_log(&log.inner).expect("decode");
        assert!(event.success, "forwarded call succeeded");
        assert!(
            seen.insert((event.signer, event.nonce)),
            "request {}:{} executed twice",
            event.signer,
            event.nonce
        );
    }
    let expected: HashSet<(Address, U256)> = users
        .iter()
        .flat_map(|u| (0..JOBS_PER_USER).map(move |n| (u.address(), U256::from(n))))
        .collect();
    assert_eq!(seen, expected, "every request executed once");
    let market = NestMarketplace::new(a.marketplace, &reader);
    assert_eq!(
        market.nextListingId().call().await.expect("next"),
        U256::from(JOBS + 1),
        "200 listings, no more"
    );
    for (user, tokens) in users.iter().zip(&tokens) {
        assert_eq!(
            forwarder_nonce(&chain, user.address()).await,
            U256::from(JOBS_PER_USER)
        );
        assert_eq!(tokens.len() as u64, JOBS_PER_USER);
    }

    // Relayer accounts: every nonce up to the chain's is one job's, no gap, nothing else sent.
    let mut total = 0;
    for account in &pool {
        let on_chain = reader.get_transaction_count(*account).await.expect("nonce");
        let jobs: Vec<nest_store::RelayJob> = store
            .database()
            .collection::<nest_store::RelayJob>("relay_jobs")
            .find(bson::doc! { "signer": format!("{account:#x}") })
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        let nonces: BTreeSet<i64> = jobs.iter().filter_map(|j| j.signer_nonce).collect();
        assert_eq!(nonces.len(), jobs.len(), "one nonce per job");
        assert_eq!(
            nonces,
            (0..on_chain as i64).collect::<BTreeSet<_>>(),
            "{account}: nonces 0..{on_chain} all used by jobs"
        );
        for job in &jobs {
            let hash = job.mined_tx.as_ref().expect("mined").parse().expect("hash");
            let receipt = reader
                .get_transaction_receipt(hash)
                .await
                .expect("receipt")
                .expect("exists");
            assert!(receipt.status());
            assert_eq!(receipt.from, *account);
        }
        let lease = store
            .relay_signers()
            .get(CHAIN_ID, account)
            .await
            .expect("lease")
            .expect("exists");
        assert_eq!(
            lease.next_nonce as u64, on_chain,
            "the store's counter matches the chain"
        );
        total += on_chain;
    }
    assert_eq!(total, JOBS, "no transaction beyond one per job");
}
