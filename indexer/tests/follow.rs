//! Following the head: the indexer wakes on WebSocket `newHeads` notifications when the node
//! offers them, and polls when it does not.

mod common;

use common::*;
use nest_abis::NestNFT;
use nest_chain::AnvilOptions;
use nest_indexer::{HeadSource, Indexer, ws_url_for};
use std::{sync::Arc, time::Duration};

/// `Indexer::run` in a task, until stopped.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<nest_indexer::Result<()>>,
}

impl Running {
    fn start(indexer: Arc<Indexer>) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            indexer
                .run(async {
                    let _ = stopped.await;
                })
                .await
        });
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("join").expect("run ended cleanly");
    }
}

/// Mints one token and returns how long the indexer took to report the new NFT.
async fn mint_and_wait(chain: &Chain, indexer: &Indexer, n: usize) -> Duration {
    let mut notices = indexer.subscribe();
    let provider = chain.provider(0);
    let nft = NestNFT::new(chain.addresses.nft, &provider);
    let receipt = send(
        &provider,
        nft.mintBatch(chain.keys[1].address(), vec![format!("ipfs://follow/{n}")])
            .into_transaction_request(),
    )
    .await;
    let mined = std::time::Instant::now();
    loop {
        let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
            .await
            .expect("indexed within 5 s")
            .expect("notices open");
        if notice.kind == "activity"
            && notice
                .key
                .contains(&format!("{:#x}", receipt.transaction_hash))
        {
            return mined.elapsed();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_arrive_by_websocket_subscription_when_the_node_offers_it() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("follow_ws").await;
    let mut config = chain.indexer_config();
    // Polling this slowly would miss every deadline below: only notifications can explain them.
    config.poll_interval = Duration::from_secs(30);
    config.ws_url = ws_url_for(&chain.node.endpoint());
    let indexer = Arc::new(chain.indexer(&store, config).await);
    let running = Running::start(indexer.clone());
    // The first wait after catching up subscribes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while indexer.head_source() != HeadSource::Subscription {
        assert!(tokio::time::Instant::now() < deadline, "never subscribed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 0..5 {
        let lag = mint_and_wait(&chain, &indexer, n).await;
        assert!(
            lag < Duration::from_secs(2),
            "notified, not polled: {lag:?}"
        );
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_websocket_endpoint_the_indexer_polls() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("follow_poll").await;
    let mut config = chain.indexer_config();
    // Nothing listens here: the subscription fails and polling takes over.
    let closed = nest_chain::anvil::free_port().expect("port");
    config.ws_url = Some(format!("ws://127.0.0.1:{closed}").parse().expect("url"));
    config.poll_interval = Duration::from_millis(5);
    let indexer = Arc::new(chain.indexer(&store, config).await);
    let running = Running::start(indexer.clone());
    for n in 0..3 {
        mint_and_wait(&chain, &indexer, n).await;
    }
    assert_eq!(indexer.head_source(), HeadSource::Polling);
    running.stop().await;
}
