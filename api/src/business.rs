//! Business and dependency gauges read from the store's projections when Prometheus scrapes
//! (at most once per [`REFRESH`]): what the marketplace and the DAO look like now, how far the
//! indexed data lags the chain (seen from here, so it shows even while the indexer is down),
//! and whether the store, Redis and the RPC node answer. Labels are bounded: payment tokens
//! and collections are the deployment's, proposal states are the Governor's eight.
//!
//! | name | labels |
//! | --- | --- |
//! | `nest_market_listings_active` | — |
//! | `nest_market_auctions_active` | — |
//! | `nest_market_auctions_ending_soon` | — (live auctions ending within the hour) |
//! | `nest_market_offers_open` | — |
//! | `nest_market_floor_price` | `collection`, `token` (whole tokens; NaN when nothing is listed) |
//! | `nest_dao_proposals` | `state` |
//! | `nest_indexer_checkpoint_lag_blocks`, `nest_indexer_checkpoint_lag_seconds` | — |
//! | `nest_indexer_dead_letters` | — |
//! | `nest_dependency_up` | `dependency` (`store`, `redis`, `chain`) |

use crate::state::AppState;
use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};
use bson::{Document, doc};
use nest_store::{
    Auction, AuctionStatus, Listing, ListingQuery, ListingSort, ListingStatus, Offer, OfferStatus,
    Projection, ProposalState,
};
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// Smallest time between two refreshes (scrapes in between see the last values).
const REFRESH: Duration = Duration::from_secs(5);
/// Longest a single dependency check or query may take.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a refresh may hold a scrape (Prometheus's default scrape timeout is 10 s).
const BUDGET: Duration = Duration::from_secs(5);
/// Pages of proposals (of the store's largest page) counted by state.
const PROPOSAL_PAGES: usize = 5;
/// "Ending soon": within this many seconds.
const ENDING_SOON_SECS: i64 = 3600;

static LAST: Mutex<Option<Instant>> = Mutex::new(None);

/// Refreshes the gauges unless another scrape did within [`REFRESH`].
pub(crate) async fn refresh(state: &AppState) {
    {
        let Ok(mut last) = LAST.lock() else { return };
        if last.is_some_and(|t| t.elapsed() < REFRESH) {
            return;
        }
        *last = Some(Instant::now());
    }
    // A scrape never waits long for a slow store: what is not read by then keeps its value.
    let _ = tokio::time::timeout(BUDGET, async {
        if dependencies(state).await {
            market(state).await;
        }
    })
    .await;
}

fn up(dependency: &'static str, ok: bool) {
    metrics::gauge!("nest_dependency_up", "dependency" => dependency).set(if ok {
        1.0
    } else {
        0.0
    });
}

/// Pings the store, Redis and the node; measures the checkpoint's lag. Returns the store's state.
async fn dependencies(state: &AppState) -> bool {
    let inner = &state.inner;
    let store = tokio::time::timeout(
        TIMEOUT,
        inner.store.database().run_command(doc! { "ping": 1 }),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    up("store", store);
    if let Some(manager) = &inner.redis {
        let mut manager = manager.clone();
        let pong: Result<Result<String, _>, _> =
            tokio::time::timeout(TIMEOUT, redis::cmd("PING").query_async(&mut manager)).await;
        up("redis", matches!(pong, Ok(Ok(_))));
    }
    if let Some(provider) = &inner.provider {
        let head = tokio::time::timeout(TIMEOUT, provider.get_block_number())
            .await
            .ok()
            .and_then(Result::ok);
        up("chain", head.is_some());
        let checkpoint = if store {
            inner
                .store
                .checkpoints()
                .get(inner.config.chain_id, "nest")
                .await
                .ok()
                .flatten()
        } else {
            None
        };
        if let (Some(head), Some(cp)) = (head, checkpoint) {
            let behind = head.saturating_sub(cp.block_number.max(0) as u64);
            metrics::gauge!("nest_indexer_checkpoint_lag_blocks").set(behind as f64);
            let head_time = tokio::time::timeout(
                TIMEOUT,
                provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Number(head)),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
            .map(|b| b.header.timestamp as i64);
            if let Some(t) = head_time {
                metrics::gauge!("nest_indexer_checkpoint_lag_seconds")
                    .set((t - cp.block_timestamp).max(0) as f64);
            }
        }
    }
    store
}

/// Counts documents of a projection matching `filter` (None when the store fails).
async fn count<P: Projection>(state: &AppState, filter: Document) -> Option<u64> {
    let collection = state
        .inner
        .store
        .database()
        .collection::<Document>(P::COLLECTION);
    tokio::time::timeout(TIMEOUT, collection.count_documents(filter))
        .await
        .ok()
        .and_then(Result::ok)
}

/// Whole tokens (18 decimals) as a float, for a gauge.
fn whole_tokens(wei: U256) -> f64 {
    let wei: f64 = wei.to_string().parse().unwrap_or(f64::NAN);
    wei / 1e18
}

async fn market(state: &AppState) {
    let config = &state.inner.config;
    let chain = config.chain_id as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    // The chain's clock (a dev chain may run ahead of the wall clock).
    let clock = crate::routes::chain_now(state).await.unwrap_or(now);
    let gauges = [
        (
            "nest_market_listings_active",
            count::<Listing>(
                state,
                doc! { "chainId": chain, "status": ListingStatus::Active.as_str() },
            )
            .await,
        ),
        (
            "nest_market_auctions_active",
            count::<Auction>(
                state,
                doc! { "chainId": chain, "status": AuctionStatus::Live.as_str() },
            )
            .await,
        ),
        (
            "nest_market_auctions_ending_soon",
            count::<Auction>(
                state,
                doc! { "chainId": chain, "status": AuctionStatus::Live.as_str(),
                "endTime": { "$gt": clock, "$lte": clock + ENDING_SOON_SECS } },
            )
            .await,
        ),
        (
            "nest_market_offers_open",
            count::<Offer>(
                state,
                doc! { "chainId": chain, "status": OfferStatus::Open.as_str() },
            )
            .await,
        ),
    ];
    for (name, value) in gauges {
        if let Some(v) = value {
            metrics::gauge!(name).set(v as f64);
        }
    }
    // Proposals by their state now (active, succeeded and defeated follow from the clock, not
    // from an event), over the latest few pages (older proposals are final and do not move).
    let mut by_state = std::collections::HashMap::new();
    let mut cursor: Option<String> = None;
    for _ in 0..PROPOSAL_PAGES {
        let page = tokio::time::timeout(
            TIMEOUT,
            state.inner.store.proposals().list(
                config.chain_id,
                None,
                cursor.as_deref(),
                nest_store::MAX_PAGE_SIZE,
            ),
        )
        .await;
        let Ok(Ok(page)) = page else { break };
        for p in &page.items {
            *by_state.entry(p.state_at(clock)).or_insert(0u64) += 1;
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    for s in [
        ProposalState::Pending,
        ProposalState::Active,
        ProposalState::Canceled,
        ProposalState::Defeated,
        ProposalState::Succeeded,
        ProposalState::Queued,
        ProposalState::Expired,
        ProposalState::Executed,
    ] {
        let n = by_state.get(&s).copied().unwrap_or(0);
        metrics::gauge!("nest_dao_proposals", "state" => s.as_str()).set(n as f64);
    }
    if let Ok(Ok(dead)) = tokio::time::timeout(
        TIMEOUT,
        state.inner.store.dead_letters().count(config.chain_id),
    )
    .await
    {
        metrics::gauge!("nest_indexer_dead_letters").set(dead as f64);
    }
    // Floor per collection and payment token: the cheapest active listing.
    let nft = config.addresses.nft;
    for (token, name) in [(Address::ZERO, "ETH"), (config.addresses.token, "NEST")] {
        let query = ListingQuery {
            status: Some(ListingStatus::Active),
            nft: Some(nft),
            payment_token: Some(token),
            sort: ListingSort::PriceAsc,
            limit: 1,
            ..ListingQuery::default()
        };
        let floor = tokio::time::timeout(
            TIMEOUT,
            state.inner.store.listings().query(config.chain_id, &query),
        )
        .await
        .ok()
        .and_then(Result::ok);
        let Some(page) = floor else { continue };
        let gauge = metrics::gauge!("nest_market_floor_price", "collection" => format!("{nft:#x}"), "token" => name);
        match page.items.first() {
            Some(listing) => gauge.set(whole_tokens(listing.price)),
            None => gauge.set(f64::NAN),
        }
    }
}
