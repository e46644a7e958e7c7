//! Crash safety with a real server: a child process writes batches of events plus a checkpoint in
//! transactions and is killed with SIGKILL at random points, 20 times (every fifth time the
//! server is SIGKILLed too and restarted on the same data). After each crash every acknowledged
//! batch is there whole, no partial batch is visible, and the checkpoint matches the data.

use alloy::primitives::{Address, B256};
use bson::{Document, doc};
use futures_util::{FutureExt, TryStreamExt};
use nest_store::{ChainEvent, Checkpoint, LocalStoreServer, Store, StoreConfig};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

const CHAIN: u64 = 7;
const BATCH_SIZE: u64 = 25;
const ROUNDS: u32 = 20;
const DATABASE: &str = "crash";

fn batch(k: u64) -> Vec<ChainEvent> {
    (0..BATCH_SIZE)
        .map(|i| {
            let tx = B256::left_padding_from(&k.to_be_bytes());
            ChainEvent {
                chain_id: CHAIN,
                block_number: k,
                block_hash: tx,
                block_timestamp: k,
                tx_hash: tx,
                log_index: i,
                contract: Address::ZERO,
                topics: Vec::new(),
                data: alloy::primitives::Bytes::copy_from_slice(&k.to_be_bytes()),
            }
        })
        .collect()
}

/// The writer, run in a child process by the test below (ignored when run directly).
#[test]
#[ignore = "child process of committed_batches_survive_sigkill_whole"]
fn batch_writer_child() {
    let Ok(uri) = std::env::var("NEST_CRASH_URI") else {
        return;
    };
    let start: u64 = std::env::var("NEST_CRASH_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Store::connect_unmigrated(StoreConfig::new(uri, DATABASE))
            .await
            .expect("connect");
        let mut stdout = std::io::stdout();
        for k in start.. {
            store
                .transaction(|session| {
                    let events = store.events();
                    let checkpoints = store.checkpoints();
                    async move {
                        events
                            .replace_from_block_in(session, CHAIN, k, &batch(k))
                            .await?;
                        let cp = Checkpoint::new(
                            CHAIN,
                            "crash",
                            k,
                            B256::left_padding_from(&k.to_be_bytes()),
                        );
                        checkpoints.set(&cp, Some(session)).await
                    }
                    .boxed()
                })
                .await
                .expect("batch commits");
            writeln!(stdout, "committed {k}").expect("stdout");
            stdout.flush().expect("flush");
        }
    });
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Batch sizes and the checkpoint, read in one snapshot: a commit the killed writer had already
/// sent may still be applied while we look, and must be seen by both reads or by neither.
async fn snapshot(store: &Store) -> (BTreeMap<i64, i64>, i64) {
    let mut session = store.client().start_session().await.expect("session");
    session
        .start_transaction()
        .read_concern(mongodb::options::ReadConcern::snapshot())
        .await
        .expect("snapshot");
    let mut cursor = store
        .database()
        .collection::<Document>("chain_log_blocks")
        .aggregate(vec![
            doc! { "$match": { "chainId": CHAIN as i64 } },
            doc! { "$group": { "_id": "$blockNumber", "n": { "$sum": "$n" } } },
        ])
        .session(&mut session)
        .await
        .expect("aggregate");
    let groups: Vec<Document> = cursor
        .stream(&mut session)
        .try_collect()
        .await
        .expect("groups");
    let checkpoint = store
        .database()
        .collection::<Document>("checkpoints")
        .find_one(doc! { "_id": format!("{CHAIN}:crash") })
        .session(&mut session)
        .await
        .expect("checkpoint")
        .and_then(|d| d.get_i64("blockNumber").ok())
        .unwrap_or(0);
    session.commit_transaction().await.expect("end snapshot");
    let sizes = groups
        .iter()
        .map(|g| {
            let n = g
                .get_i32("n")
                .map(i64::from)
                .or_else(|_| g.get_i64("n"))
                .expect("count");
            (g.get_i64("_id").expect("block"), n)
        })
        .collect();
    (sizes, checkpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_batches_survive_sigkill_whole() {
    let data = tempfile::tempdir().expect("tmp");
    let mut server = LocalStoreServer::start(data.path(), 0).expect("server (run scripts/setup)");
    let mut store = Store::connect(server.config(DATABASE))
        .await
        .expect("connect");
    // A killed writer's open transaction holds its documents until the server reaps it.
    store
        .set_transaction_lifetime(1)
        .await
        .expect("setParameter");
    let mut rng = Xorshift(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_nanos() as u64
            | 1,
    );
    let mut next = 1u64;
    let mut total_acknowledged = 0i64;
    for round in 0..ROUNDS {
        let acknowledged = Arc::new(AtomicI64::new(0));
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "batch_writer_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("NEST_CRASH_URI", server.uri())
            .env("NEST_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("stdout");
        let seen = acknowledged.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(k) = line
                    .strip_prefix("committed ")
                    .and_then(|k| k.parse::<i64>().ok())
                {
                    seen.store(k, Ordering::SeqCst);
                }
            }
        });
        // Let it get going, then kill it at a random point.
        let wait_for_first = tokio::time::Instant::now() + Duration::from_secs(20);
        while acknowledged.load(Ordering::SeqCst) == 0
            && tokio::time::Instant::now() < wait_for_first
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(20 + rng.next() % 300)).await;
        child.kill().expect("SIGKILL the writer");
        let _ = child.wait();
        let _ = reader.join();
        let last_ack = acknowledged.load(Ordering::SeqCst);
        assert!(
            last_ack >= next as i64,
            "round {round}: the writer committed at least one batch"
        );

        if round % 5 == 4 {
            // The server crashes too; committed transactions must survive it (sync on commit).
            drop(store);
            server.kill();
            server =
                LocalStoreServer::start(data.path(), 0).expect("server restarts on the same data");
            store = Store::connect(server.config(DATABASE))
                .await
                .expect("reconnect");
            store
                .set_transaction_lifetime(1)
                .await
                .expect("setParameter");
        }

        let (sizes, checkpoint) = snapshot(&store).await;
        for (k, n) in &sizes {
            assert_eq!(*n, BATCH_SIZE as i64, "round {round}: batch {k} is whole");
        }
        let highest = sizes.keys().max().copied().unwrap_or(0);
        assert!(
            highest >= last_ack,
            "round {round}: acknowledged batch {last_ack} is durable (highest {highest})"
        );
        assert!(
            highest <= last_ack + 1,
            "round {round}: at most the in-flight batch committed unacknowledged"
        );
        assert_eq!(
            sizes.len() as i64,
            highest,
            "round {round}: no batch missing below the highest"
        );
        let cp_block = checkpoint;
        assert_eq!(
            cp_block, highest,
            "round {round}: checkpoint moved with its batch"
        );
        total_acknowledged = last_ack;
        next = highest as u64 + 1;
    }
    assert!(
        total_acknowledged >= ROUNDS as i64,
        "at least one batch per round"
    );
}
