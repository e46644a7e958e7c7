//! Indexer throughput on a chain shaped like a busy marketplace, not like a stress test: about
//! 1,900 blocks of 5 to 10 transactions each (14,004 transactions, ~110,000 Nest logs: mints
//! with their Transfer and MetadataUpdate, listings, price updates, sales in ETH and NEST, NEST
//! approvals, auctions, bids and the refunds they credit).
//!
//! The chain is generated once, saved with anvil's state dump under the cache
//! (`~/.cache/nest/bench/realistic-v<N>/`) and reloaded into a fresh anvil on every run, so every
//! run indexes the identical chain. Each run prints, measured in the same run on this machine:
//!
//! - the node's own `eth_getLogs` rate over the range (4 requests in flight, logs parsed);
//! - the indexer from launch (connect, migrate) to caught up with the head: events/s overall,
//!   the backfill and the followed last blocks (the reorg window) apart;
//! - the store server's CPU-seconds per 1,000 events and the bytes it wrote (and keeps on disk)
//!   per event, from `/proc` of its process and its data folder;
//! - the store's raw bulk-insert ceiling: the same documents (every collection the indexer
//!   wrote) copied into an empty database with unordered bulk inserts.
//!
//! `cargo bench -p nest-indexer --bench realistic` (scripts/setup first).

#![allow(missing_docs)]

mod common;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::TransactionRequest,
};
use bson::{Document, doc};
use futures_util::{StreamExt, TryStreamExt, stream};
use nest_abis::{DeploymentManifest, NestAddresses, NestMarketplace, NestNFT, NestToken};
use nest_chain::{AnvilNode, AnvilOptions, http_provider};
use nest_indexer::{Indexer, IndexerConfig};
use nest_store::{LocalStoreServer, Store};
use nest_testkit::TestChain;
use std::{
    io::Read,
    path::{Path, PathBuf},
    time::Instant,
};

/// Bump when the generated chain changes: a new version is generated once, then reused.
const GENERATOR_VERSION: u32 = 1;
const MINT_TXS: usize = 2_000;
const TOKENS_PER_MINT: usize = 15;
const NEST_APPROVALS: usize = 1_000;
const LISTINGS: usize = 5_000;
const AUCTIONS: usize = 1_000;
const PRICE_UPDATES: usize = 1_000;
const SALES: usize = 1_000;
const BID_ROUNDS: usize = 3;
/// Sellers (mint recipients) and buyers/bidders, as anvil dev account indexes.
const SELLERS: [usize; 4] = [1, 2, 3, 4];
const BUYERS: [usize; 5] = [5, 6, 7, 8, 9];

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("NEST_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nest")))
        .unwrap_or_else(|| PathBuf::from(".cache/nest"));
    base.join(format!("bench/realistic-v{GENERATOR_VERSION}"))
}

fn seller_of(token: usize) -> usize {
    SELLERS[((token - 1) / TOKENS_PER_MINT) % SELLERS.len()]
}

/// One planned transaction: who sends it, and what.
struct Planned {
    sender: usize,
    tx: TransactionRequest,
}

/// The transactions in dependency order, as phases: a phase starts in a block after the previous
/// phase's last one (a listing never shares a block with its token's mint).
fn plan(a: &NestAddresses, provider: &DynProvider, accounts: &[Address]) -> Vec<Vec<Planned>> {
    let nft = NestNFT::new(a.nft, provider);
    let market = NestMarketplace::new(a.marketplace, provider);
    let token = NestToken::new(a.token, provider);
    let price = |i: usize, nest: bool| {
        U256::from(if nest { 10u64.pow(18) } else { 10u64.pow(15) }) + U256::from(i)
    };
    let is_nest = |listing: usize| listing.is_multiple_of(5);
    let mints = (0..MINT_TXS)
        .map(|t| Planned {
            sender: 0,
            tx: nft
                .mintBatch(
                    accounts[SELLERS[t % SELLERS.len()]],
                    (0..TOKENS_PER_MINT)
                        .map(|i| format!("ipfs://bafybench/{t}/{i}.json"))
                        .collect(),
                )
                .gas(4_000_000)
                .into_transaction_request(),
        })
        .collect::<Vec<_>>();
    let approvals = SELLERS
        .iter()
        .map(|&s| Planned {
            sender: s,
            tx: nft
                .setApprovalForAll(a.marketplace, true)
                .gas(100_000)
                .into_transaction_request(),
        })
        .chain((0..NEST_APPROVALS).map(|i| {
            Planned {
                sender: BUYERS[i % BUYERS.len()],
                tx: token
                    .approve(a.marketplace, U256::from(10u64.pow(24)) + U256::from(i))
                    .gas(100_000)
                    .into_transaction_request(),
            }
        }))
        .collect();
    let listings = (1..=LISTINGS)
        .map(|i| Planned {
            sender: seller_of(i),
            tx: market
                .createListing(
                    a.nft,
                    U256::from(i),
                    if is_nest(i) { a.token } else { Address::ZERO },
                    price(i, is_nest(i)),
                    0,
                )
                .gas(400_000)
                .into_transaction_request(),
        })
        .collect();
    let auctions = (0..AUCTIONS)
        .map(|i| {
            let id = LISTINGS + 1 + i;
            Planned {
                sender: seller_of(id),
                tx: market
                    .createAuction(
                        a.nft,
                        U256::from(id),
                        Address::ZERO,
                        U256::from(1_000),
                        7 * 86_400,
                    )
                    .gas(400_000)
                    .into_transaction_request(),
            }
        })
        .collect();
    // Price updates of listings 1..=1000 interleaved with sales of 1001..=2000.
    let mut trades = Vec::new();
    for i in 0..PRICE_UPDATES.max(SALES) {
        if i < PRICE_UPDATES {
            let listing = 1 + i;
            trades.push(Planned {
                sender: seller_of(listing),
                tx: market
                    .updateListingPrice(
                        U256::from(listing),
                        price(listing, is_nest(listing)) * U256::from(2),
                    )
                    .gas(200_000)
                    .into_transaction_request(),
            });
        }
        if i < SALES {
            let listing = PRICE_UPDATES + 1 + i;
            let amount = price(listing, is_nest(listing));
            let buy = market
                .buy(U256::from(listing), amount)
                .gas(500_000)
                .into_transaction_request();
            trades.push(Planned {
                sender: BUYERS[i % BUYERS.len()],
                tx: if is_nest(listing) {
                    buy
                } else {
                    buy.with_value(amount)
                },
            });
        }
    }
    let mut phases = vec![mints, approvals, listings, auctions, trades];
    for round in 0..BID_ROUNDS {
        let amount = U256::from(1_000u64 * 2u64.pow(round as u32 + 1));
        phases.push(
            (1..=AUCTIONS)
                .map(|auction| Planned {
                    sender: BUYERS[(auction + round) % BUYERS.len()],
                    tx: market
                        .bid(U256::from(auction), amount)
                        .value(amount)
                        .gas(300_000)
                        .into_transaction_request(),
                })
                .collect(),
        );
    }
    phases
}

/// Generates the chain on a fresh anvil and saves its state and manifest into `dir`.
async fn generate(dir: &Path) {
    let started = Instant::now();
    let chain = TestChain::builder()
        .anvil(AnvilOptions {
            extra_args: vec!["--gas-limit".into(), "100000000".into()],
            ..Default::default()
        })
        .start()
        .await;
    let a = chain.addresses;
    let reader = chain.reader();
    let providers: Vec<DynProvider> = (0..10).map(|k| chain.provider(k)).collect();
    let accounts: Vec<Address> = chain.keys.iter().map(|k| k.address()).collect();
    let phases = plan(&a, &reader, &accounts);
    reader
        .anvil_set_block_timestamp_interval(12)
        .await
        .expect("block interval");
    reader
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    let mut nonces = Vec::new();
    for k in 0..10 {
        nonces.push(
            reader
                .get_transaction_count(chain.keys[k].address())
                .await
                .expect("nonce"),
        );
    }
    let fees = reader.estimate_eip1559_fees().await.expect("fees");
    // Blocks of 5 to 10 transactions, sizes from a fixed sequence (the chain is reproducible).
    let mut lcg: u64 = 0x2545_F491_4F6C_DD1D;
    let mut blocks = 0u64;
    let mut transactions = 0usize;
    for phase in phases {
        let mut rest = phase.into_iter().peekable();
        while rest.peek().is_some() {
            lcg = lcg
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let size = 5 + (lcg >> 33) as usize % 6;
            let block: Vec<Planned> = rest.by_ref().take(size).collect();
            let signed: Vec<(usize, TransactionRequest)> = block
                .into_iter()
                .map(|p| {
                    let nonce = nonces[p.sender];
                    nonces[p.sender] += 1;
                    (
                        p.sender,
                        p.tx.with_nonce(nonce)
                            .with_chain_id(nest_testkit::CHAIN_ID)
                            .with_max_fee_per_gas(fees.max_fee_per_gas * 4)
                            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas),
                    )
                })
                .collect();
            transactions += signed.len();
            let sent: Vec<_> = stream::iter(signed)
                .map(|(sender, tx)| {
                    let provider = providers[sender].clone();
                    async move { provider.send_transaction(tx).await.map(|_| ()) }
                })
                .buffer_unordered(10)
                .collect()
                .await;
            assert!(sent.iter().all(Result::is_ok), "every transaction accepted");
            reader.evm_mine(None).await.expect("mine");
            blocks += 1;
        }
    }
    reader.anvil_set_auto_mine(true).await.expect("automine on");
    let head = reader.get_block_number().await.expect("head");
    let dump = reader.anvil_dump_state().await.expect("dump");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(dump.as_ref())
        .read_to_end(&mut json)
        .expect("the dump is gzip");
    std::fs::create_dir_all(dir).expect("cache folder");
    std::fs::write(dir.join("state.json"), json).expect("state");
    std::fs::copy(&chain.manifest_path, dir.join("manifest.json")).expect("manifest");
    std::fs::write(
        dir.join("chain.json"),
        serde_json::json!({ "head": head, "startBlock": chain.start_block() }).to_string(),
    )
    .expect("chain");
    println!(
        "generated {transactions} transactions in {blocks} blocks (head {head}) in {:.1}s, saved to {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
}

/// Clock ticks the kernel counts CPU time in (`getconf CLK_TCK`, 100 on Linux).
const TICKS: f64 = 100.0;

/// CPU-seconds a process has used (user + system).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the parenthesised command name: state is field 3; utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / TICKS
}

/// Bytes a process has caused to be written to storage.
fn written_bytes(pid: &str) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).expect("io");
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("write_bytes")
}

fn folder_bytes(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            for entry in std::fs::read_dir(&p).expect("dir").flatten() {
                stack.push(entry.path());
            }
        } else {
            total += meta.len();
        }
    }
    total
}

/// Copies every collection of `from` into `to` with unordered bulk inserts (2 in flight):
/// documents, BSON bytes, seconds. Prints each collection's documents and their BSON bytes.
async fn bulk_copy(from: &Store, to: &Store) -> (u64, u64, f64) {
    let mut all: Vec<(String, Vec<Document>)> = Vec::new();
    for name in from
        .database()
        .list_collection_names()
        .await
        .expect("collections")
    {
        if name.starts_with('_') {
            continue;
        }
        let docs: Vec<Document> = from
            .database()
            .collection::<Document>(&name)
            .find(doc! {})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("read");
        all.push((name, docs));
    }
    let mut sizes: Vec<(String, usize, usize)> = all
        .iter()
        .map(|(name, docs)| {
            let bytes = docs
                .iter()
                .map(|d| bson::to_vec(d).map(|v| v.len()).unwrap_or(0))
                .sum();
            (name.clone(), docs.len(), bytes)
        })
        .collect();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.2));
    println!("documents by collection (count, BSON bytes):");
    for (name, count, bytes) in sizes.iter().filter(|(_, c, _)| *c > 0) {
        println!(
            "  {name:<24} {count:>8} {:>10.1} MB  {:>6} B/doc",
            *bytes as f64 / 1e6,
            bytes / count.max(&1)
        );
    }
    let batches: Vec<(String, Vec<Document>)> = all
        .into_iter()
        .flat_map(|(name, docs)| {
            docs.chunks(5_000)
                .map(|c| (name.clone(), c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    let count: u64 = batches.iter().map(|(_, d)| d.len() as u64).sum();
    let bytes: u64 = sizes.iter().map(|(_, _, b)| *b as u64).sum();
    let started = Instant::now();
    let db = to.database().clone();
    stream::iter(batches)
        .map(|(name, docs)| {
            let db = db.clone();
            async move {
                db.collection::<Document>(&name)
                    .insert_many(docs)
                    .ordered(false)
                    .await
                    .expect("insert")
            }
        })
        .buffer_unordered(2)
        .collect::<Vec<_>>()
        .await;
    (count, bytes, started.elapsed().as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = cache_dir();
    if !dir.join("chain.json").exists() {
        generate(&dir).await;
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("chain.json")).expect("chain"))
            .expect("json");
    let head = saved["head"].as_u64().expect("head");
    let start_block = saved["startBlock"].as_u64().expect("start");
    let manifest = DeploymentManifest::load(&dir.join("manifest.json"))
        .expect("manifest")
        .expect("manifest saved");
    let a = NestAddresses::from_manifest(&manifest).expect("addresses");

    // ---- a fresh node holding the saved chain
    let loaded = Instant::now();
    let state = dir.join("state.json");
    let node = AnvilNode::spawn(
        &nest_testkit::layout().anvil_binary(),
        &AnvilOptions {
            extra_args: vec![
                "--load-state".into(),
                state.display().to_string(),
                "--gas-limit".into(),
                "100000000".into(),
            ],
            ..Default::default()
        },
    )
    .expect("anvil");
    let provider = http_provider(&node.endpoint(), None).expect("provider");
    assert_eq!(
        provider.get_block_number().await.expect("head"),
        head,
        "the saved chain is loaded"
    );
    println!(
        "chain: blocks {start_block}..={head} loaded in {:.1}s",
        loaded.elapsed().as_secs_f64()
    );

    // ---- the node's own getLogs rate
    let (logs, getlogs_rate) =
        common::getlogs_rate(&provider, &a.all(), start_block, head, 100).await;

    // ---- the indexer, from launch to caught up, on a fresh store server
    let data = tempfile::tempdir().expect("data folder");
    let server = LocalStoreServer::start(data.path(), 0).expect("store server");
    let pid = server.pid().to_string();
    let me = std::process::id().to_string();
    let (store_cpu0, store_written0, own_cpu0) =
        (cpu_seconds(&pid), written_bytes(&pid), cpu_seconds(&me));
    let launched = Instant::now();
    let store = Store::connect(server.config("realistic"))
        .await
        .expect("store");
    let mut config = IndexerConfig::new(nest_testkit::CHAIN_ID, a, start_block);
    // Tuning knob: logs per backfill transaction (default: the indexer's).
    if let Some(n) = std::env::var("NEST_BENCH_LOGS_PER_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.target_logs_per_batch = n;
    }
    println!("logs per backfill batch: {}", config.target_logs_per_batch);
    let window = config.reorg_window;
    let indexer = Indexer::new(config, store.clone(), provider.clone())
        .await
        .expect("indexer");
    let backfill = indexer.backfill(None).await.expect("backfill");
    let backfilled = launched.elapsed().as_secs_f64();
    let mut followed_blocks = 0;
    loop {
        let n = indexer.follow_step().await.expect("follow");
        if n == 0 {
            break;
        }
        followed_blocks += n;
    }
    let caught_up = launched.elapsed().as_secs_f64();
    let store_cpu = cpu_seconds(&pid) - store_cpu0;
    let written = written_bytes(&pid) - store_written0;
    let own_cpu = cpu_seconds(&me) - own_cpu0;
    let events = store
        .events()
        .count(nest_testkit::CHAIN_ID)
        .await
        .expect("count");
    let followed_events = events - backfill.events;
    assert_eq!(events as usize, logs, "every log is indexed");
    let on_disk = folder_bytes(data.path());

    let status = indexer.status().await.expect("status");
    let mix_text: Vec<String> = status
        .events
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(contract, n)| format!("{contract} {n}"))
        .collect();
    println!("events: {events} ({})", mix_text.join(", "));

    // ---- the store's ceiling: the same documents, bulk-inserted into an empty database
    let empty = Store::connect_unmigrated(server.config("ceiling"))
        .await
        .expect("store");
    let (documents, logical, copy_secs) = bulk_copy(&store, &empty).await;
    let ceiling = events as f64 / copy_secs;

    let rate = events as f64 / caught_up;
    println!(
        "indexer, launch to caught up ({} blocks, reorg window {window}):",
        head - start_block + 1
    );
    println!("  overall             {rate:>10.0} events/s   ({caught_up:.2}s)");
    println!(
        "  backfill            {:>10.0} events/s   ({} events, {backfilled:.2}s incl. launch)",
        backfill.events as f64 / backfilled,
        backfill.events
    );
    println!(
        "  followed blocks     {:>10.0} events/s   ({followed_events} events in {followed_blocks} blocks, {:.2}s)",
        followed_events as f64 / (caught_up - backfilled).max(1e-9),
        caught_up - backfilled
    );
    println!(
        "  store CPU           {:>10.3} s per 1,000 events ({store_cpu:.1}s; indexer process {own_cpu:.1}s)",
        store_cpu * 1_000.0 / events as f64
    );
    println!(
        "  stored              {:>10.0} bytes per event in documents (BSON, indexes apart)",
        logical as f64 / events as f64
    );
    println!(
        "  store disk writes   {:>10.0} bytes per event written (journal and pages), {:.0} on disk ({:.1} MB written)",
        written as f64 / events as f64,
        on_disk as f64 / events as f64,
        written as f64 / 1e6
    );
    println!("same-run ceilings:");
    println!(
        "  node eth_getLogs    {getlogs_rate:>10.0} events/s   ratio indexer/getLogs {:.3}",
        rate / getlogs_rate
    );
    println!(
        "  store bulk insert   {ceiling:>10.0} events/s   ({documents} documents in {copy_secs:.2}s)   ratio indexer/ceiling {:.3}",
        rate / ceiling
    );
    println!("targets: >= 25,000 events/s launch to caught up; <= 800 bytes per event");
    drop(server);
    drop(node);
}
