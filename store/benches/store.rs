//! Store throughput against the local wire-protocol server, with the repository layer and with
//! raw driver calls in the same run (the ratio is the layer's overhead; target >= 0.9).
//!
//! `cargo bench -p nest-store --bench store` (uses `NEST_MONGODB_URI` if set).

use alloy::primitives::{Address, B256, U256};
use bson::doc;
use nest_store::{ChainEvent, ChainEventRepository, LocalStoreServer, Nft, Store, StoreConfig};
use std::time::Instant;

const EVENTS: usize = 100_000;
const CHUNK: usize = 1_000;
const UPSERTS: usize = 3_000;
const CHAIN: u64 = 1;

fn events() -> Vec<ChainEvent> {
    (0..EVENTS as u64)
        .map(|n| {
            let tx = B256::left_padding_from(&(n / 4).to_be_bytes());
            ChainEvent {
                chain_id: CHAIN,
                block_number: n / 40,
                block_hash: B256::left_padding_from(&(n / 40).to_be_bytes()),
                block_timestamp: 1_700_000_000 + n / 40,
                tx_hash: tx,
                log_index: n % 40,
                contract: Address::repeat_byte(7),
                // A Transfer: signature, from, to, token id.
                topics: vec![
                    B256::repeat_byte(0xdd),
                    B256::ZERO,
                    B256::left_padding_from(Address::repeat_byte((n % 251) as u8).as_slice()),
                    B256::left_padding_from(&n.to_be_bytes()),
                ],
                data: Default::default(),
            }
        })
        .collect()
}

fn nft(n: usize) -> Nft {
    let token = U256::from(n);
    Nft {
        id: Nft::id_for(CHAIN, &Address::repeat_byte(1), &token),
        chain_id: CHAIN as i64,
        contract: Address::repeat_byte(1),
        token_id: token,
        owner: Address::repeat_byte((n % 200) as u8),
        token_uri: format!("ipfs://nest/{n}.json"),
        approved: None,
        royalty_receiver: None,
        royalty_bps: 0,
        minted_block: n as i64,
        updated_block: n as i64,
    }
}

async fn connect(uri: &str, database: &str) -> Store {
    let store = Store::connect(StoreConfig::new(uri, database))
        .await
        .expect("connect");
    store.database().drop().await.expect("drop");
    Store::connect(StoreConfig::new(uri, database))
        .await
        .expect("reconnect")
}

async fn bulk_raw(store: &Store, events: &[ChainEvent]) -> f64 {
    let collection = store
        .database()
        .collection::<bson::Document>("chain_log_blocks");
    let started = Instant::now();
    for chunk in events.chunks(CHUNK) {
        collection
            .insert_many(ChainEventRepository::block_documents(chunk))
            .ordered(false)
            .await
            .expect("insert");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

async fn bulk_repo(store: &Store, events: &[ChainEvent]) -> f64 {
    let repo = store.events();
    let started = Instant::now();
    for chunk in events.chunks(CHUNK) {
        repo.put_final(chunk).await.expect("insert");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

async fn upserts_raw(store: &Store, nfts: &[Nft]) -> f64 {
    let collection = store.database().collection::<Nft>("nfts");
    let started = Instant::now();
    for nft in nfts {
        collection
            .replace_one(doc! { "_id": &nft.id }, nft)
            .upsert(true)
            .await
            .expect("upsert");
    }
    nfts.len() as f64 / started.elapsed().as_secs_f64()
}

async fn upserts_repo(store: &Store, nfts: &[Nft]) -> f64 {
    let repo = store.nfts();
    let started = Instant::now();
    for nft in nfts {
        repo.upsert(nft, None).await.expect("upsert");
    }
    nfts.len() as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let data = std::env::temp_dir().join(format!("nest-store-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (uri, _server) = match std::env::var("NEST_MONGODB_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let server =
                LocalStoreServer::start(&data, 0).expect("local server (run scripts/setup)");
            (server.uri(), Some(server))
        }
    };
    let events = events();
    let nfts: Vec<Nft> = (0..UPSERTS).map(nft).collect();

    // Alternate the two paths and keep each one's best of two, so neither is favoured by
    // warm-up or by a cache the other filled.
    let (mut raw_bulk, mut repo_bulk, mut raw_up, mut repo_up) = (0f64, 0f64, 0f64, 0f64);
    for round in 0..2 {
        let raw = connect(&uri, &format!("bench_raw_{round}")).await;
        let repo = connect(&uri, &format!("bench_repo_{round}")).await;
        if round % 2 == 0 {
            raw_bulk = raw_bulk.max(bulk_raw(&raw, &events).await);
            repo_bulk = repo_bulk.max(bulk_repo(&repo, &events).await);
            raw_up = raw_up.max(upserts_raw(&raw, &nfts).await);
            repo_up = repo_up.max(upserts_repo(&repo, &nfts).await);
        } else {
            repo_bulk = repo_bulk.max(bulk_repo(&repo, &events).await);
            raw_bulk = raw_bulk.max(bulk_raw(&raw, &events).await);
            repo_up = repo_up.max(upserts_repo(&repo, &nfts).await);
            raw_up = raw_up.max(upserts_raw(&raw, &nfts).await);
        }
        raw.database().drop().await.expect("drop");
        repo.database().drop().await.expect("drop");
    }
    println!(
        "store benchmark ({EVENTS} chain events in insert_many chunks of {CHUNK}; {UPSERTS} single NFT upserts)"
    );
    println!(
        "  bulk insert   repository {repo_bulk:>10.0} docs/s   raw driver {raw_bulk:>10.0} docs/s   ratio {:.3}",
        repo_bulk / raw_bulk
    );
    println!(
        "  single upsert repository {repo_up:>10.0} docs/s   raw driver {raw_up:>10.0} docs/s   ratio {:.3}",
        repo_up / raw_up
    );
    drop(_server);
    let _ = std::fs::remove_dir_all(&data);
}
