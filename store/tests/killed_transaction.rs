//! A transaction the server ends under its writer (an operator's `killAllSessions`, or the
//! transaction lifetime limit) is retried from the start and commits exactly once. Its own test
//! binary: killing every session must not reach other tests' transactions.

use alloy::primitives::{Address, B256};
use bson::doc;
use futures_util::FutureExt;
use nest_store::{ChainEvent, testing::fresh_test_store};
use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

const CHAIN: u64 = 31337;

fn event(log: u64) -> ChainEvent {
    let tx = B256::repeat_byte(7);
    ChainEvent {
        chain_id: CHAIN,
        block_number: 1,
        block_hash: B256::repeat_byte(1),
        block_timestamp: 1_700_000_000,
        tx_hash: tx,
        log_index: log,
        contract: Address::repeat_byte(9),
        topics: Vec::new(),
        data: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_killed_by_an_operator_is_retried_from_the_start() {
    let store = fresh_test_store("killed_transaction")
        .await
        .expect("store (run scripts/setup)");
    let batch: Vec<ChainEvent> = (0..5).map(event).collect();
    let attempts = Arc::new(AtomicU32::new(0));
    let committed_on = store
        .transaction(|session| {
            let store = store.clone();
            let batch = batch.clone();
            let attempts = attempts.clone();
            async move {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                store
                    .events()
                    .replace_from_block_in(session, CHAIN, 1, &batch)
                    .await?;
                if attempt == 1 {
                    // The operator ends every session while this transaction is open.
                    store
                        .client()
                        .database("admin")
                        .run_command(doc! { "killAllSessions": [] })
                        .await?;
                    // The next statement of the dead transaction fails.
                    store
                        .checkpoints()
                        .set(
                            &nest_store::Checkpoint::new(CHAIN, "nest", 1, B256::ZERO),
                            Some(session),
                        )
                        .await?;
                }
                Ok(attempt)
            }
            .boxed()
        })
        .await
        .expect("retried after the kill");
    assert!(committed_on >= 2, "the killed attempt did not commit");
    assert_eq!(
        store.events().count(CHAIN).await.expect("count"),
        batch.len() as u64,
        "written once"
    );
}
