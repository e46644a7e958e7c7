//! The indexer's integration-test helpers over `nest-testkit` (anvil with Nest deployed, a
//! fresh store database), plus what only the indexer's tests need: comparing store contents
//! and a flaky RPC proxy.

#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

use alloy::primitives::keccak256;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use nest_chain::AnvilOptions;
use nest_indexer::{Indexer, IndexerConfig};
use nest_store::Store;
use nest_testkit::{TestChain, TestStore};

pub use nest_testkit::{ether, layout, send, send_value};

/// The kit's chain; the indexer's additions are [`IndexerChain`]'s.
pub type Chain = TestChain;

/// What the indexer's tests build from a chain.
#[allow(async_fn_in_trait)]
pub trait IndexerChain {
    fn indexer_config(&self) -> IndexerConfig;
    async fn indexer(&self, store: &Store, config: IndexerConfig) -> Indexer;
}

impl IndexerChain for TestChain {
    fn indexer_config(&self) -> IndexerConfig {
        let mut config =
            IndexerConfig::new(nest_testkit::CHAIN_ID, self.addresses, self.start_block());
        config.poll_interval = std::time::Duration::from_millis(5);
        config
    }

    async fn indexer(&self, store: &Store, config: IndexerConfig) -> Indexer {
        Indexer::new(config, store.clone(), self.provider(0))
            .await
            .expect("indexer")
    }
}

pub async fn deployed_chain(options: AnvilOptions) -> Chain {
    TestChain::builder().anvil(options).start().await
}

pub async fn store(label: &str) -> Store {
    TestStore::fresh(label).await
}

/// Collections whose contents define the indexer's output.
pub const DIGEST_COLLECTIONS: [&str; 16] = [
    "chain_log_blocks",
    "dead_letters",
    "nfts",
    "nft_operator_approvals",
    "listings",
    "auctions",
    "bids",
    "offers",
    "sales",
    "proposals",
    "votes",
    "delegates",
    "contract_state",
    "collection_stats",
    "sale_buckets",
    "holdings",
];

/// Every document of every indexer collection, in id order, canonically serialised.
pub async fn contents(store: &Store) -> Vec<(String, Vec<Document>)> {
    let mut out = Vec::new();
    for name in DIGEST_COLLECTIONS {
        let docs: Vec<Document> = store
            .database()
            .collection::<Document>(name)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        out.push((name.to_string(), docs));
    }
    out
}

/// keccak256 over `contents`.
pub async fn digest(store: &Store) -> String {
    let mut bytes = Vec::new();
    for (name, docs) in contents(store).await {
        bytes.extend_from_slice(name.as_bytes());
        for d in docs {
            bytes.extend_from_slice(format!("{d}").as_bytes());
        }
    }
    format!("{}", keccak256(bytes))
}

/// Asserts the collection stats, sale buckets and holdings the indexer kept incrementally equal a
/// recount from the projections (`updatedBlock` aside: the recount only approximates it).
pub async fn assert_stats_match_recount(store: &Store) {
    use nest_store::{CollectionStats, Holding, Projection, SaleBucket};
    async fn all<T>(store: &Store) -> Vec<T>
    where
        T: Projection,
    {
        store
            .database()
            .collection::<T>(T::COLLECTION)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect")
    }
    let recount = store
        .collection_stats()
        .recount(31337)
        .await
        .expect("recount");
    let without_block = |mut s: CollectionStats| {
        s.updated_block = 0;
        s
    };
    let stored: Vec<CollectionStats> = all::<CollectionStats>(store)
        .await
        .into_iter()
        .map(without_block)
        .collect();
    let counted: Vec<CollectionStats> = recount.stats.into_values().map(without_block).collect();
    assert_eq!(stored, counted, "collection stats");
    assert_eq!(
        all::<SaleBucket>(store).await,
        recount.buckets.into_values().collect::<Vec<_>>(),
        "sale buckets"
    );
    assert_eq!(
        all::<Holding>(store).await,
        recount.holdings.into_values().collect::<Vec<_>>(),
        "holdings"
    );
}

/// Asserts two stores hold the same indexer output, naming the first difference.
pub async fn assert_same_contents(a: &Store, b: &Store) {
    let (left, right) = (contents(a).await, contents(b).await);
    for ((name, l), (_, r)) in left.iter().zip(right.iter()) {
        assert_eq!(l.len(), r.len(), "{name}: document counts differ");
        for (x, y) in l.iter().zip(r.iter()) {
            assert_eq!(x, y, "{name}: documents differ");
        }
    }
}

/// A TCP proxy in front of the node that breaks connections: every fourth one is closed at
/// once, and every other one is cut in the middle of a response after a byte budget (60 to
/// 300 KB), so RPC calls keep failing in flight throughout a run.
pub struct FlakyProxy {
    pub url: url::Url,
    faults: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    pub async fn start(target: &url::Url) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let target = format!(
            "{}:{}",
            target.host_str().expect("host"),
            target.port().expect("port")
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"))
            .parse()
            .expect("url");
        let faults = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = faults.clone();
        let task = tokio::spawn(async move {
            let mut n: u64 = 0;
            while let Ok((inbound, _)) = listener.accept().await {
                n += 1;
                if n.is_multiple_of(4) {
                    counter.fetch_add(1, Ordering::Relaxed);
                    drop(inbound);
                    continue;
                }
                let budget = 60_000 + (n.wrapping_mul(7_919) % 240_000) as usize;
                let target = target.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = inbound.into_split();
                    let (mut node_read, mut node_write) = outbound.into_split();
                    let up = tokio::io::copy(&mut client_read, &mut node_write);
                    let down = async {
                        let mut buf = [0u8; 8192];
                        let mut sent = 0usize;
                        loop {
                            let read = node_read.read(&mut buf).await?;
                            if read == 0 {
                                return Ok::<_, std::io::Error>(());
                            }
                            if sent + read > budget {
                                client_write.write_all(&buf[..budget - sent]).await?;
                                counter.fetch_add(1, Ordering::Relaxed);
                                return Ok(());
                            }
                            client_write.write_all(&buf[..read]).await?;
                            sent += read;
                        }
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
            }
        });
        Self { url, faults, task }
    }

    /// Connections broken so far.
    pub fn faults(&self) -> u64 {
        self.faults.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
