//! Load test of the api on this machine with `wrk` (Debian package): a cached
//! `GET /v1/listings` query, a cached social home feed and, in the same run, a static route
//! (the framework's ceiling).
//! Prints requests/s, p50/p99 latency and the ratio. Targets: ratio >= 0.7, >= 20,000 req/s.
//!
//! `cargo bench -p nest-api --bench api` (scripts/setup first).

#![allow(missing_docs)]

use alloy::{
    primitives::{Address, U256},
    signers::local::PrivateKeySigner,
};
use nest_api::{ApiConfig, AppState, ratelimit::RateLimits};
use nest_keys::{NestSigner, TokenSigner};
use nest_store::{Listing, ListingStatus};
use nest_testkit::{TestStore, wrk};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let store = TestStore::fresh("bench_api").await;
    let addresses = nest_testkit::placeholder_addresses();
    for n in 1..=1_000u64 {
        let id = U256::from(n);
        let listing = Listing {
            id: Listing::id_for(31337, &addresses.marketplace, &id),
            chain_id: 31337,
            marketplace: addresses.marketplace,
            listing_id: id,
            seller: Address::repeat_byte((n % 50) as u8 + 10),
            nft: addresses.nft,
            token_id: id,
            payment_token: Address::ZERO,
            price: U256::from(1_000_000 + n * 7 % 1_000),
            expires_at: 0,
            status: ListingStatus::Active,
            buyer: None,
            created_block: n as i64,
            updated_block: n as i64,
        };
        store
            .listings()
            .upsert(&listing, None)
            .await
            .expect("insert");
    }
    let mut config = ApiConfig::new(31337, addresses, "http://localhost:8080");
    config.rate_limits = RateLimits {
        per_ip: u32::MAX,
        per_account: u32::MAX,
        window_secs: 60,
    };
    let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
    let state = AppState::new(config, store, tokens, None, None)
        .await
        .expect("state");
    // A social home feed (demo content signed by three accounts).
    let people: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    nest_social::seed::seed_demo(state.social(), &people, None)
        .await
        .expect("social seed");
    let reader = people[2].address();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(nest_api::serve(
        listener,
        nest_api::router(state, None),
        std::future::pending(),
    ));

    let listings_url = format!("http://{addr}/v1/listings?status=active&sort=price_asc&limit=20");
    let ping_url = format!("http://{addr}/v1/ping");
    let home_url = format!("http://{addr}/v1/social/feeds/home?account={reader:#x}&limit=20");
    // Warm the cache, then measure the routes in the same run.
    let (l, p, h) = tokio::task::spawn_blocking(move || {
        let _ = wrk(&listings_url, 64, 1);
        let ping = wrk(&ping_url, 64, 6);
        let listings = wrk(&listings_url, 64, 6);
        let home = wrk(&home_url, 64, 6);
        (listings, ping, home)
    })
    .await
    .expect("wrk");
    println!("api benchmark (wrk -t2 -c64 -d6s, server and load generator share 2 cores)");
    println!(
        "  GET /v1/listings (cached) {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        l.rps, l.p50_ms, l.p99_ms
    );
    println!(
        "  GET /v1/social/feeds/home (cached) {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   (target >= 5,000 req/s)",
        h.rps, h.p50_ms, h.p99_ms
    );
    println!(
        "  GET /v1/ping (static)     {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        p.rps, p.p50_ms, p.p99_ms
    );
    println!(
        "  ratio listings/static     {:>9.3}   (targets: ratio >= 0.7, >= 20,000 req/s)",
        l.rps / p.rps
    );
}
