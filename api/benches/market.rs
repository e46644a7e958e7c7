//! Read performance of the marketplace-data endpoints at scale: 100,000 NFTs (with resolved
//! metadata and traits), 50,000 listings and 1,000,000 activity items in the store (multiply
//! by `NEST_BENCH_SCALE`, e.g. 0.01 for a quick run). Measures, in the same run:
//! - uncached latency (p50/p99 over distinct URLs, one request at a time) of a trait-filtered
//!   token page, a portfolio and a user's activity page, against `/v1/ping` as the baseline;
//! - cached throughput with `wrk` of the same reads against `/v1/ping`;
//! - the store's `explain` plan of each underlying query (index used, keys and documents
//!   examined), so none scans a collection.
//!
//! Targets (issue 10): >= 5,000 req/s cached and p99 < 20 ms uncached.
//!
//! `cargo bench -p nest-api --bench market` (scripts/setup first; wrk from Debian).

#![allow(missing_docs)]

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use bson::{Document, doc};
use nest_api::{ApiConfig, AppState, ratelimit::RateLimits};
use nest_keys::{NestSigner, TokenSigner};
use nest_store::{
    Activity, Listing, ListingStatus, MetadataState, Nft, NftMetadata, ParsedMetadata, Projection,
    Store, Trait,
};
use std::time::{Duration, Instant};

const BACKGROUNDS: [&str; 8] = [
    "Sand", "Sky", "Mint", "Night", "Rose", "Moss", "Ash", "Gold",
];
const SHAPES: [&str; 6] = ["Circle", "Square", "Diamond", "Star", "Ring", "Cross"];
const USERS: u64 = 5_000;

fn user(n: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[12..].copy_from_slice(&(n % USERS + 1).to_be_bytes());
    Address::from(bytes)
}

async fn insert<T: Projection>(store: &Store, items: Vec<T>) {
    let docs: Vec<Document> = items
        .iter()
        .map(|i| bson::to_document(i).expect("encode"))
        .collect();
    let collection = store.database().collection::<Document>(T::COLLECTION);
    for chunk in docs.chunks(10_000) {
        collection.insert_many(chunk).await.expect("insert");
    }
}

async fn fill(store: &Store, nft: Address, market: Address, scale: f64) -> (u64, u64, u64) {
    let (nfts, listings, activity) = (
        (100_000.0 * scale) as u64,
        (50_000.0 * scale) as u64,
        (1_000_000.0 * scale) as u64,
    );
    let mut batch = Vec::new();
    let mut meta = Vec::new();
    for n in 0..nfts {
        let token = U256::from(n);
        let id = Nft::id_for(31337, &nft, &token);
        batch.push(Nft {
            id: id.clone(),
            chain_id: 31337,
            contract: nft,
            token_id: token,
            owner: user(n),
            token_uri: format!("ipfs://cid/{n}"),
            approved: None,
            royalty_receiver: None,
            royalty_bps: 0,
            minted_block: n as i64,
            updated_block: n as i64,
        });
        let traits = vec![
            Trait {
                trait_type: "Background".into(),
                value: BACKGROUNDS[(n % 8) as usize].into(),
                display_type: None,
            },
            Trait {
                trait_type: "Shape".into(),
                value: SHAPES[(n / 8 % 6) as usize].into(),
                display_type: None,
            },
        ];
        meta.push(NftMetadata {
            id,
            chain_id: 31337,
            contract: nft,
            token_id: token,
            uri: format!("ipfs://cid/{n}"),
            state: MetadataState::Resolved,
            raw: None,
            trait_keys: traits
                .iter()
                .map(|t| NftMetadata::trait_key(&t.trait_type, &t.value))
                .collect(),
            name_lower: Some(format!("token {n}")),
            search_terms: vec!["token".into(), n.to_string()],
            parsed: Some(ParsedMetadata {
                name: Some(format!("Token {n}")),
                attributes: traits,
                ..Default::default()
            }),
            image_media: None,
            fetched_at: 0,
            error: None,
            attempts: 1,
        });
    }
    insert(store, batch).await;
    insert(store, meta).await;
    let items: Vec<Listing> = (0..listings)
        .map(|n| {
            let id = U256::from(n);
            Listing {
                id: Listing::id_for(31337, &market, &id),
                chain_id: 31337,
                marketplace: market,
                listing_id: id,
                seller: user(n),
                nft,
                token_id: U256::from(n * 2 % nfts.max(1)),
                payment_token: Address::ZERO,
                price: U256::from(1_000_000 + n * 7 % 1_000),
                expires_at: 0,
                status: if n % 3 == 0 {
                    ListingStatus::Sold
                } else {
                    ListingStatus::Active
                },
                buyer: None,
                created_block: n as i64,
                updated_block: n as i64,
            }
        })
        .collect();
    insert(store, items).await;
    let mut done = 0;
    while done < activity {
        let chunk: Vec<Activity> = (done..(done + 50_000).min(activity))
            .map(|n| Activity {
                id: format!("31337:{n}"),
                chain_id: 31337,
                seq: n as i64,
                kind: ["transfer", "listing", "sale", "bid"][(n % 4) as usize].into(),
                contract: Some(nft),
                token_id: Some(nest_store::codec::u256_key(&U256::from(n % nfts.max(1)))),
                from: Some(user(n)),
                to: Some(user(n + 7)),
                users: vec![
                    nest_store::codec::address_key(&user(n)),
                    nest_store::codec::address_key(&user(n + 7)),
                ],
                amount: Some("1000000000000000000".into()),
                payment_token: Some(Address::ZERO),
                ref_id: None,
                block_number: (n / 10) as i64,
                timestamp: 1_700_000_000 + n as i64,
                tx_hash: B256::ZERO,
            })
            .collect();
        done += chunk.len() as u64;
        insert(store, chunk).await;
    }
    (nfts, listings, activity)
}

/// One GET at a time over a fresh connection; returns (status, elapsed).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    let status = String::from_utf8_lossy(&out[..out.len().min(12)])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

async fn uncached(addr: std::net::SocketAddr, paths: &[String]) -> (f64, f64) {
    let mut times = Vec::new();
    for path in paths {
        let (status, elapsed) = get(addr, path).await;
        assert_eq!(status, 200, "{path}");
        times.push(elapsed.as_secs_f64() * 1_000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99))
}

async fn explain(
    store: &Store,
    collection: &str,
    filter: Document,
    sort: Document,
    hint: Option<&str>,
) -> String {
    let mut find = doc! { "find": collection, "filter": filter, "sort": sort, "limit": 24 };
    if let Some(hint) = hint {
        find.insert("hint", hint);
    }
    let answer = store
        .database()
        .run_command(doc! { "explain": find, "verbosity": "executionStats" })
        .await
        .expect("explain");
    let plan = answer
        .get_document("queryPlanner")
        .and_then(|q| q.get_document("winningPlan"))
        .cloned()
        .unwrap_or_default();
    let mut stages = Vec::new();
    let mut node = Some(plan);
    while let Some(n) = node {
        let stage = n.get_str("stage").unwrap_or("?").to_string();
        let index = n
            .get_str("indexName")
            .map(|i| format!("({i})"))
            .unwrap_or_default();
        stages.push(format!("{stage}{index}"));
        node = n.get_document("inputStage").ok().cloned();
    }
    let stats = answer
        .get_document("executionStats")
        .cloned()
        .unwrap_or_default();
    let num = |k: &str| {
        stats
            .get_i64(k)
            .or_else(|_| stats.get_i32(k).map(i64::from))
            .unwrap_or(-1)
    };
    format!(
        "{}  keys {} docs {} returned {}",
        stages.join(" <- "),
        num("totalKeysExamined"),
        num("totalDocsExamined"),
        num("nReturned")
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scale: f64 = std::env::var("NEST_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let store = nest_testkit::TestStore::fresh("bench_market").await;
    let addresses = nest_testkit::placeholder_addresses();
    let filled = Instant::now();
    let (nfts, listings, activity) =
        fill(&store, addresses.nft, addresses.marketplace, scale).await;
    eprintln!(
        "filled {nfts} NFTs, {listings} listings, {activity} activity items in {:?}",
        filled.elapsed()
    );
    let mut config = ApiConfig::new(31337, addresses, "http://localhost:8080");
    config.rate_limits = RateLimits {
        per_ip: u32::MAX,
        per_account: u32::MAX,
        window_secs: 60,
    };
    let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
    let state = AppState::new(config, store.clone(), tokens, None, None)
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(nest_api::serve(
        listener,
        nest_api::router(state, None),
        std::future::pending(),
    ));

    let nft = addresses.nft.to_checksum(None);
    let samples = 200u64;
    let traits = |i: u64| {
        format!(
            "/v1/collections/{nft}/tokens?trait=Background:{}&trait=Background:{}&trait=Shape:{}&limit=24",
            BACKGROUNDS[(i % 8) as usize],
            BACKGROUNDS[((i + 3) % 8) as usize],
            SHAPES[(i / 8 % 6) as usize]
        )
    };
    // Distinct URLs (another cursor, another user) so every request misses the cache.
    let trait_paths: Vec<String> = (0..samples)
        .map(|i| format!("{}&cursor=31337:{:#x}:{i}", traits(i), addresses.nft))
        .collect();
    let portfolio_paths: Vec<String> = (0..samples)
        .map(|i| format!("/v1/users/{}/portfolio", user(i * 13)))
        .collect();
    let activity_paths: Vec<String> = (0..samples)
        .map(|i| format!("/v1/activity?user={}&limit=24", user(i * 17)))
        .collect();
    let ping_paths: Vec<String> = (0..samples).map(|i| format!("/v1/ping?n={i}")).collect();
    let _ = uncached(addr, &ping_paths[..10]).await; // warm up connections and code paths
    let ping = uncached(addr, &ping_paths).await;
    let by_trait = uncached(addr, &trait_paths).await;
    let portfolio = uncached(addr, &portfolio_paths).await;
    let user_activity = uncached(addr, &activity_paths).await;
    // Store floor for the trait page: the same trait query straight through the driver (no
    // HTTP, no NFT documents, no rendering), same groups and cursors.
    let mut store_times = Vec::with_capacity(samples as usize);
    for i in 0..samples {
        let key = |t: &str, v: &str| NftMetadata::trait_key(t, v);
        let groups = vec![
            vec![
                key("Background", BACKGROUNDS[(i % 8) as usize]),
                key("Background", BACKGROUNDS[((i + 3) % 8) as usize]),
            ],
            vec![key("Shape", SHAPES[(i / 8 % 6) as usize])],
        ];
        let after = format!("31337:{:#x}:{i}", addresses.nft);
        let started = Instant::now();
        store
            .metadata()
            .tokens_with_traits(31337, &addresses.nft, &groups, Some(&after), 24)
            .await
            .expect("trait query");
        store_times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    store_times.sort_by(|a, b| a.total_cmp(b));
    let at =
        |q: f64| store_times[((store_times.len() as f64 * q) as usize).min(store_times.len() - 1)];
    let trait_store = (at(0.5), at(0.99));

    let urls = [
        format!("http://{addr}{}", traits(1)),
        format!("http://{addr}/v1/users/{}/portfolio", user(1)),
        format!("http://{addr}/v1/activity?user={}&limit=24", user(1)),
        format!("http://{addr}/v1/ping"),
    ];
    let cached = tokio::task::spawn_blocking(move || {
        urls.iter()
            .map(|u| nest_testkit::wrk(u, 32, 4))
            .collect::<Vec<_>>()
    })
    .await
    .expect("wrk");

    println!(
        "marketplace read benchmark: {nfts} NFTs, {listings} listings, {activity} activity items (NEST_BENCH_SCALE={scale})"
    );
    println!("  uncached, one at a time ({samples} distinct URLs each)     p50 ms   p99 ms");
    for (name, (p50, p99)) in [
        ("trait-filtered tokens page", by_trait),
        ("  its store query alone", trait_store),
        ("portfolio", portfolio),
        ("user activity page", user_activity),
        ("/v1/ping (baseline)", ping),
    ] {
        println!("    {name:28} {p50:>24.2} {p99:>8.2}");
    }
    println!("  cached (wrk -t2 -c32 -d4s; server and wrk share 2 cores)   req/s   p99 ms");
    for (name, r) in [
        "trait-filtered tokens page",
        "portfolio",
        "user activity page",
        "/v1/ping (baseline)",
    ]
    .iter()
    .zip(&cached)
    {
        println!("    {name:28} {:>24.0} {:>8.2}", r.rps, r.p99_ms);
    }
    println!("  targets: >= 5,000 req/s cached, p99 < 20 ms uncached");
    println!("  explain (winning plan, innermost last):");
    let owner = nest_store::codec::address_key(&user(1));
    let bg: Vec<String> = ["Sand", "Mint"]
        .iter()
        .map(|v| NftMetadata::trait_key("Background", v))
        .collect();
    let shape = NftMetadata::trait_key("Shape", "Circle");
    // The trait page's query: the smallest group (Shape) drives through the hinted trait index.
    for (name, collection, filter, sort, hint) in [
        (
            "tokens by trait",
            "nft_metadata",
            doc! { "chainId": 31337_i64, "contract": format!("{:#x}", addresses.nft), "traitKeys": &shape, "$and": [ { "traitKeys": { "$in": &bg } } ] },
            doc! { "_id": 1 },
            Some(nest_store::TRAIT_INDEX),
        ),
        (
            "NFTs of an owner",
            "nfts",
            doc! { "chainId": 31337_i64, "owner": &owner },
            doc! { "_id": 1 },
            None,
        ),
        (
            "active listings of a seller",
            "listings",
            doc! { "chainId": 31337_i64, "seller": &owner, "status": "active" },
            doc! { "createdBlock": -1, "_id": -1 },
            None,
        ),
        (
            "activity of a user",
            "activity",
            doc! { "chainId": 31337_i64, "users": &owner },
            doc! { "seq": -1 },
            None,
        ),
        (
            "activity of a token",
            "activity",
            doc! { "chainId": 31337_i64, "contract": format!("{:#x}", addresses.nft), "tokenId": nest_store::codec::u256_key(&U256::from(5)) },
            doc! { "seq": -1 },
            None,
        ),
        (
            "open offers of a buyer",
            "offers",
            doc! { "chainId": 31337_i64, "buyer": &owner, "status": "open" },
            doc! { "createdBlock": -1 },
            None,
        ),
    ] {
        println!(
            "    {name:28} {}",
            explain(&store, collection, filter, sort, hint).await
        );
    }
}
