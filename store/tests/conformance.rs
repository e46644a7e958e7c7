//! Conformance suite for every repository, run against a real MongoDB wire-protocol server (the
//! local SecantusDB server, or `NEST_MONGODB_URI` to run the same suite on real MongoDB).

use alloy::primitives::{Address, B256, U256};
use bson::{DateTime, doc};
use futures_util::FutureExt;
use nest_store::{
    Activity, Auction, AuctionStatus, Bid, BlockHeader, ChainEvent, Checkpoint, Delegate,
    JobChange, Listing, ListingQuery, ListingSort, ListingStatus, Nft, Offer, OfferStatus,
    Proposal, ProposalState, ReceiptSummary, RelayJob, RelayJobKind, RelayJobStatus, Sale,
    SaleKind, Session, Store, StoreConfig, StoreError, TxAttempt, Vote,
    schema::{self, SCHEMA_VERSION},
    testing::{fresh_test_config, fresh_test_store},
};
use std::time::{Duration, Instant};

const CHAIN: u64 = 31337;

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn wei(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

async fn store(label: &str) -> Store {
    fresh_test_store(label)
        .await
        .expect("test store (run scripts/setup)")
}

fn event(block: u64, log: u64, contract: u8) -> ChainEvent {
    let tx = B256::with_last_byte(block as u8);
    ChainEvent {
        chain_id: CHAIN,
        block_number: block,
        block_hash: B256::repeat_byte(block as u8),
        block_timestamp: 1_700_000_000 + block,
        tx_hash: tx,
        log_index: log,
        contract: addr(contract),
        topics: vec![tx, B256::repeat_byte(0x24)],
        // Bytes that look like an operator when read as text stay plain data.
        data: alloy::primitives::Bytes::from_static(b"{\"$gt\": \"\"}"),
    }
}

#[tokio::test]
async fn raw_logs_are_stored_per_block_once_and_read_back_in_chain_order() {
    let store = store("events").await;
    let events = store.events();
    let batch: Vec<ChainEvent> = (1..=5)
        .flat_map(|b| (0..3).map(move |l| event(b, b * 10 + l, if l == 2 { 8 } else { 9 })))
        .collect();
    events.put_final(&batch).await.expect("put");
    // Idempotent: the same blocks again change nothing; a block written again is replaced by
    // the new version (an interrupted run's leftover is not kept).
    events.put_final(&batch).await.expect("again");
    let mut rewritten = batch[..6].to_vec();
    rewritten[0].data = alloy::primitives::Bytes::from_static(b"rewritten");
    events.put_final(&rewritten).await.expect("some again");
    assert_eq!(
        events.in_blocks(CHAIN, 1, 1).await.expect("read"),
        rewritten[..3].to_vec()
    );
    events.put_final(&batch[..3]).await.expect("back");
    assert_eq!(events.count(CHAIN).await.expect("count"), 15);
    assert_eq!(events.count_for(CHAIN, &addr(8)).await.expect("count"), 5);
    assert_eq!(events.count_for(CHAIN, &addr(9)).await.expect("count"), 10);
    let blocks = store
        .database()
        .collection::<bson::Document>("chain_log_blocks")
        .count_documents(doc! {})
        .await
        .expect("blocks");
    assert_eq!(blocks, 5, "one document per block");

    let range = events.in_blocks(CHAIN, 2, 3).await.expect("range");
    assert_eq!(range, batch[3..9].to_vec(), "round trip, in chain order");

    // Inside a transaction, blocks from a height up are replaced by the new ones.
    let mut replacement = vec![event(4, 0, 9)];
    replacement.push(event(6, 0, 9));
    store
        .transaction(|session| {
            let events = store.events();
            let replacement = replacement.clone();
            async move {
                events
                    .replace_from_block_in(session, CHAIN, 4, &replacement)
                    .await
            }
            .boxed()
        })
        .await
        .expect("transaction");
    assert_eq!(events.count(CHAIN).await.expect("count"), 11);
    assert_eq!(
        events.in_blocks(CHAIN, 4, 10).await.expect("range"),
        replacement
    );

    assert_eq!(
        events.delete_above(CHAIN, 4, None).await.expect("rollback"),
        1
    );
    assert_eq!(events.count(CHAIN).await.expect("count"), 10);
}

#[tokio::test]
async fn duplicate_keys_and_bad_cursors_are_classified() {
    let store = store("dup").await;
    let raw = store
        .database()
        .collection::<bson::Document>("chain_log_blocks");
    let e = doc! { "_id": "31337:1", "n": 1 };
    raw.insert_one(&e).await.expect("first");
    let err: StoreError = raw.insert_one(&e).await.expect_err("duplicate").into();
    assert!(err.is_duplicate_key(), "{err}");
    assert!(!err.is_transient());

    let q = ListingQuery {
        cursor: Some("not-hex".into()),
        limit: 10,
        ..Default::default()
    };
    let err = store
        .listings()
        .query(CHAIN, &q)
        .await
        .expect_err("forged cursor");
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err}");
}

#[tokio::test]
async fn checkpoints_and_block_headers_track_progress() {
    let store = store("sync").await;
    let checkpoints = store.checkpoints();
    assert_eq!(checkpoints.get(CHAIN, "nest").await.expect("get"), None);
    let cp = Checkpoint::new(CHAIN, "nest", 10, B256::repeat_byte(10));
    checkpoints.set(&cp, None).await.expect("set");
    let moved = Checkpoint::new(CHAIN, "nest", 11, B256::repeat_byte(11));
    checkpoints.set(&moved, None).await.expect("move");
    assert_eq!(
        checkpoints.get(CHAIN, "nest").await.expect("get"),
        Some(moved)
    );

    let blocks = store.blocks();
    let headers: Vec<BlockHeader> = (1..=10u8)
        .map(|n| {
            BlockHeader::new(
                CHAIN,
                n as u64,
                B256::repeat_byte(n),
                B256::repeat_byte(n - 1),
            )
        })
        .collect();
    blocks.put(&headers, None).await.expect("put");
    assert_eq!(
        blocks
            .latest(CHAIN)
            .await
            .expect("latest")
            .expect("some")
            .number,
        10
    );
    assert_eq!(
        blocks.get(CHAIN, 4).await.expect("get").expect("some").hash,
        B256::repeat_byte(4)
    );
    assert_eq!(blocks.delete_above(CHAIN, 7, None).await.expect("reorg"), 3);
    assert_eq!(blocks.prune_below(CHAIN, 3).await.expect("prune"), 2);
    assert_eq!(
        blocks
            .latest(CHAIN)
            .await
            .expect("latest")
            .expect("some")
            .number,
        7
    );
    assert_eq!(blocks.get(CHAIN, 2).await.expect("get"), None);
}

#[tokio::test]
async fn a_checkpoint_moves_only_from_where_the_writer_saw_it() {
    let store = store("checkpoint_cas").await;
    let advance = |previous: Option<(u64, B256)>, next: Checkpoint| {
        let store = store.clone();
        async move {
            store
                .transaction(|session| {
                    let store = store.clone();
                    let next = next.clone();
                    async move { store.checkpoints().advance(session, previous, &next).await }
                        .boxed()
                })
                .await
        }
    };
    let first = Checkpoint::new(CHAIN, "nest", 10, B256::repeat_byte(10));
    advance(None, first.clone()).await.expect("first batch");
    // A second writer that also saw no checkpoint loses.
    let err = advance(None, first.clone())
        .await
        .expect_err("stale: absent");
    assert!(
        matches!(
            err,
            StoreError::StateConflict {
                entity: "checkpoint",
                ..
            }
        ),
        "{err}"
    );
    let second = Checkpoint::new(CHAIN, "nest", 20, B256::repeat_byte(20));
    advance(Some((10, B256::repeat_byte(10))), second.clone())
        .await
        .expect("from 10");
    // From the right number but another hash (a replaced block), or from an old number: refused,
    // and the checkpoint stays where it is.
    for stale in [(20, B256::repeat_byte(99)), (10, B256::repeat_byte(10))] {
        let err = advance(Some(stale), Checkpoint::new(CHAIN, "nest", 30, B256::ZERO))
            .await
            .expect_err("stale");
        assert!(matches!(err, StoreError::StateConflict { .. }), "{err}");
    }
    assert_eq!(
        store.checkpoints().get(CHAIN, "nest").await.expect("get"),
        Some(second)
    );
}

fn nft(token: u64, owner: Address) -> Nft {
    let id = U256::from(token);
    Nft {
        id: Nft::id_for(CHAIN, &addr(1), &id),
        chain_id: CHAIN as i64,
        contract: addr(1),
        token_id: id,
        owner,
        token_uri: format!("ipfs://token/{token}"),
        approved: None,
        royalty_receiver: Some(addr(7)),
        royalty_bps: 500,
        minted_block: token as i64,
        updated_block: token as i64,
    }
}

#[tokio::test]
async fn nfts_page_by_owner_and_keep_their_history() {
    let store = store("nfts").await;
    let nfts = store.nfts();
    for token in 1..=5 {
        nfts.upsert(&nft(token, addr(2)), None)
            .await
            .expect("upsert");
    }
    nfts.upsert(&nft(6, addr(3)), None).await.expect("upsert");
    let mut moved = nft(1, addr(3));
    moved.updated_block = 99;
    nfts.upsert(&moved, None).await.expect("transfer");
    assert_eq!(
        nfts.get(CHAIN, &addr(1), &U256::from(1))
            .await
            .expect("get"),
        Some(moved)
    );

    let first = nfts
        .by_owner(CHAIN, &addr(2), None, 3)
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 3);
    let second = nfts
        .by_owner(CHAIN, &addr(2), first.next_cursor.as_deref(), 3)
        .await
        .expect("page 2");
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next_cursor, None);
    assert_eq!(nfts.owner_count(CHAIN, &addr(1)).await.expect("owners"), 2);

    // The transfer history is the token's mint and transfer activity, oldest first (other
    // kinds and other tokens are not part of it).
    let activity = store.database().collection::<Activity>("activity");
    for (i, (kind, token, from, to)) in [
        ("transfer", 1u64, Some(addr(2)), Some(addr(3))),
        ("mint", 1, None, Some(addr(2))),
        ("listing", 1, Some(addr(3)), None),
        ("mint", 2, None, Some(addr(4))),
    ]
    .into_iter()
    .enumerate()
    {
        let block = if kind == "mint" { 10 } else { 11 + i as i64 };
        activity
            .insert_one(Activity {
                id: format!("a{i}"),
                chain_id: CHAIN as i64,
                seq: block * nest_store::SEQ_PER_BLOCK + i as i64,
                kind: kind.into(),
                contract: Some(addr(1)),
                token_id: Some(nest_store::codec::u256_key(&U256::from(token))),
                from,
                to,
                users: Vec::new(),
                amount: None,
                payment_token: None,
                ref_id: None,
                block_number: block,
                timestamp: 1_700_000_000,
                tx_hash: B256::repeat_byte(i as u8),
            })
            .await
            .expect("activity");
    }
    let history = nfts
        .history(CHAIN, &addr(1), &U256::from(1))
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .map(|t| (t.from, t.to, t.block_number, t.log_index))
            .collect::<Vec<_>>(),
        vec![(Address::ZERO, addr(2), 10, 1), (addr(2), addr(3), 11, 0)]
    );
}

fn listing(n: u64, price: U256, status: ListingStatus, seller: Address) -> Listing {
    let id = U256::from(n);
    Listing {
        id: Listing::id_for(CHAIN, &addr(5), &id),
        chain_id: CHAIN as i64,
        marketplace: addr(5),
        listing_id: id,
        seller,
        nft: addr(1),
        token_id: U256::from(n),
        payment_token: Address::ZERO,
        price,
        expires_at: 0,
        status,
        buyer: None,
        created_block: n as i64,
        updated_block: n as i64,
    }
}

#[tokio::test]
async fn listings_filter_sort_and_paginate_exactly() {
    let store = store("listings").await;
    let listings = store.listings();
    let prices = [5u64, 1, 9, 3, 7, 2, 8, 6, 4, 10];
    for (i, p) in prices.iter().enumerate() {
        let status = if i == 9 {
            ListingStatus::Sold
        } else {
            ListingStatus::Active
        };
        let seller = if i % 2 == 0 { addr(2) } else { addr(3) };
        listings
            .upsert(&listing(i as u64 + 1, wei(*p), status, seller), None)
            .await
            .expect("upsert");
    }
    // A huge price beyond f64 precision still sorts and compares exactly.
    listings
        .upsert(
            &listing(
                11,
                U256::MAX - U256::from(1),
                ListingStatus::Active,
                addr(2),
            ),
            None,
        )
        .await
        .expect("upsert");

    let mut query = ListingQuery {
        status: Some(ListingStatus::Active),
        sort: ListingSort::PriceAsc,
        limit: 4,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = listings.query(CHAIN, &query).await.expect("page");
        seen.extend(page.items.iter().map(|l| l.price));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let mut expected: Vec<U256> = prices[..9].iter().map(|p| wei(*p)).collect();
    expected.sort();
    expected.push(U256::MAX - U256::from(1));
    assert_eq!(
        seen, expected,
        "every active listing once, cheapest first, across pages"
    );

    let q = ListingQuery {
        min_price: Some(wei(3)),
        max_price: Some(wei(6)),
        sort: ListingSort::PriceDesc,
        limit: 50,
        ..Default::default()
    };
    let page = listings.query(CHAIN, &q).await.expect("range");
    assert_eq!(
        page.items.iter().map(|l| l.price).collect::<Vec<_>>(),
        vec![wei(6), wei(5), wei(4), wei(3)]
    );

    let q = ListingQuery {
        seller: Some(addr(3)),
        sort: ListingSort::Recent,
        limit: 50,
        ..Default::default()
    };
    let page = listings.query(CHAIN, &q).await.expect("seller");
    assert_eq!(
        page.items
            .iter()
            .map(|l| l.created_block)
            .collect::<Vec<_>>(),
        vec![10, 8, 6, 4, 2]
    );

    let q = ListingQuery {
        status: Some(ListingStatus::Sold),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        listings.query(CHAIN, &q).await.expect("sold").items.len(),
        1
    );
    assert_eq!(
        listings
            .active_for_token(CHAIN, &addr(1), &U256::from(3))
            .await
            .expect("token")
            .len(),
        1
    );
    listings.clear(CHAIN, None).await.expect("clear");
    assert!(
        listings
            .query(
                CHAIN,
                &ListingQuery {
                    limit: 5,
                    ..Default::default()
                }
            )
            .await
            .expect("empty")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn auctions_list_live_by_end_time_with_their_bids() {
    let store = store("auctions").await;
    let auctions = store.auctions();
    for (n, end, status) in [
        (1u64, 300i64, AuctionStatus::Live),
        (2, 100, AuctionStatus::Live),
        (3, 200, AuctionStatus::Settled),
        (4, 150, AuctionStatus::Live),
    ] {
        let id = U256::from(n);
        let a = Auction {
            id: Auction::id_for(CHAIN, &addr(5), &id),
            chain_id: CHAIN as i64,
            marketplace: addr(5),
            auction_id: id,
            seller: addr(2),
            nft: addr(1),
            token_id: id,
            payment_token: Address::ZERO,
            reserve_price: wei(1),
            start_time: 0,
            end_time: end,
            highest_bidder: None,
            highest_bid: U256::ZERO,
            bid_count: 0,
            status,
            winner: None,
            created_block: n as i64,
            updated_block: n as i64,
        };
        auctions.upsert(&a, None).await.expect("upsert");
    }
    let page = auctions
        .live(CHAIN, None, None, None, 2)
        .await
        .expect("live");
    assert_eq!(
        page.items.iter().map(|a| a.end_time).collect::<Vec<_>>(),
        vec![100, 150]
    );
    let rest = auctions
        .live(CHAIN, None, None, page.next_cursor.as_deref(), 2)
        .await
        .expect("next");
    assert_eq!(
        rest.items.iter().map(|a| a.end_time).collect::<Vec<_>>(),
        vec![300]
    );
    let soon = auctions
        .live(CHAIN, None, Some(160), None, 10)
        .await
        .expect("ending soon");
    assert_eq!(soon.items.len(), 2);

    let auction_id = Auction::id_for(CHAIN, &addr(5), &U256::from(1));
    for (i, amount) in [1u64, 2, 3].iter().enumerate() {
        let bid = Bid {
            id: format!("b{i}"),
            chain_id: CHAIN as i64,
            auction: auction_id.clone(),
            bidder: addr(10 + i as u8),
            amount: wei(*amount),
            block_number: 20 + i as i64,
            log_index: 0,
            tx_hash: B256::ZERO,
        };
        auctions.record_bid(&bid, None).await.expect("bid");
    }
    let bids = auctions.bids(&auction_id).await.expect("bids");
    assert_eq!(
        bids.iter().map(|b| b.amount).collect::<Vec<_>>(),
        vec![wei(1), wei(2), wei(3)]
    );
}

#[tokio::test]
async fn offers_rank_by_amount_per_token_and_list_per_buyer() {
    let store = store("offers").await;
    let offers = store.offers();
    for (n, amount, buyer, status) in [
        (1u64, 5u64, addr(2), OfferStatus::Open),
        (2, 9, addr(3), OfferStatus::Open),
        (3, 7, addr(2), OfferStatus::Cancelled),
    ] {
        let id = U256::from(n);
        let o = Offer {
            id: Offer::id_for(CHAIN, &addr(5), &id),
            chain_id: CHAIN as i64,
            marketplace: addr(5),
            offer_id: id,
            buyer,
            nft: addr(1),
            token_id: U256::from(42),
            payment_token: addr(8),
            amount: wei(amount),
            expires_at: 0,
            status,
            accepted_by: None,
            created_block: n as i64,
            updated_block: n as i64,
        };
        offers.upsert(&o, None).await.expect("upsert");
    }
    let all = offers
        .for_token(CHAIN, &addr(1), &U256::from(42), None)
        .await
        .expect("token");
    assert_eq!(
        all.iter().map(|o| o.amount).collect::<Vec<_>>(),
        vec![wei(9), wei(7), wei(5)]
    );
    let open = offers
        .for_token(CHAIN, &addr(1), &U256::from(42), Some(OfferStatus::Open))
        .await
        .expect("open");
    assert_eq!(open.len(), 2);
    let mine = offers.by_buyer(CHAIN, &addr(2), None).await.expect("buyer");
    assert_eq!(
        mine.iter().map(|o| o.created_block).collect::<Vec<_>>(),
        vec![3, 1]
    );
}

#[tokio::test]
async fn sales_are_recorded_once_and_volume_is_exact() {
    let store = store("sales").await;
    let sales = store.sales();
    let big = U256::from(10u64).pow(U256::from(40));
    for (i, (price, ts)) in [(big, 1_000i64), (big, 2_000), (wei(1), 3_000)]
        .into_iter()
        .enumerate()
    {
        let sale = Sale {
            id: format!("s{i}"),
            chain_id: CHAIN as i64,
            kind: SaleKind::Listing,
            ref_id: U256::from(i),
            nft: addr(1),
            token_id: U256::from(1),
            seller: addr(2),
            buyer: addr(3),
            payment_token: Address::ZERO,
            price,
            fee: U256::ZERO,
            royalty_receiver: addr(7),
            royalty: U256::ZERO,
            block_number: i as i64,
            timestamp: ts,
            tx_hash: B256::ZERO,
        };
        sales.record(&sale, None).await.expect("record");
        sales.record(&sale, None).await.expect("idempotent");
    }
    assert_eq!(
        sales
            .for_token(CHAIN, &addr(1), &U256::from(1))
            .await
            .expect("token")
            .len(),
        3
    );
    assert_eq!(
        sales
            .volume_since(CHAIN, &addr(1), &Address::ZERO, 1_500)
            .await
            .expect("volume"),
        big + wei(1)
    );
    assert_eq!(
        sales.recent(CHAIN, 1).await.expect("recent")[0].timestamp,
        3_000
    );
}

#[tokio::test]
async fn governance_records_proposals_votes_and_voting_power() {
    let store = store("gov").await;
    let proposals = store.proposals();
    for n in 1..=3u64 {
        let id = U256::from(n);
        let p = Proposal {
            id: Proposal::id_for(CHAIN, &addr(6), &id),
            chain_id: CHAIN as i64,
            governor: addr(6),
            proposal_id: id,
            proposer: addr(2),
            targets: vec![format!("{:#x}", addr(5))],
            values: vec![U256::ZERO],
            calldatas: vec!["0x1234".into()],
            description: format!("Proposal {n}"),
            vote_start: 10,
            vote_end: 20,
            state: if n == 3 {
                ProposalState::Active
            } else {
                ProposalState::Executed
            },
            for_votes: wei(n),
            against_votes: U256::ZERO,
            abstain_votes: U256::ZERO,
            quorum: wei(1),
            eta: None,
            created_block: n as i64,
            updated_block: n as i64,
        };
        proposals.upsert(&p, None).await.expect("upsert");
    }
    let page = proposals.list(CHAIN, None, None, 2).await.expect("list");
    assert_eq!(
        page.items
            .iter()
            .map(|p| p.created_block)
            .collect::<Vec<_>>(),
        vec![3, 2]
    );
    let rest = proposals
        .list(CHAIN, None, page.next_cursor.as_deref(), 2)
        .await
        .expect("next");
    assert_eq!(rest.items.len(), 1);
    assert_eq!(
        proposals
            .list(CHAIN, Some(ProposalState::Active), None, 10)
            .await
            .expect("active")
            .items
            .len(),
        1
    );

    let votes = store.votes();
    let proposal = Proposal::id_for(CHAIN, &addr(6), &U256::from(3));
    for (voter, support) in [(addr(2), 1), (addr(3), 0)] {
        let v = Vote {
            id: Vote::id_for(&proposal, &voter),
            chain_id: CHAIN as i64,
            proposal: proposal.clone(),
            voter,
            support,
            weight: wei(1),
            reason: "because".into(),
            block_number: 15,
            tx_hash: B256::ZERO,
        };
        votes.record(&v, None).await.expect("vote");
    }
    assert_eq!(votes.for_proposal(&proposal).await.expect("votes").len(), 2);
    assert_eq!(
        votes.by_voter(CHAIN, &addr(3)).await.expect("voter")[0].support,
        0
    );

    let delegates = store.delegates();
    for (n, power) in [(2u8, 5u64), (3, 50), (4, 7)] {
        let d = Delegate {
            id: Delegate::id_for(CHAIN, &addr(8), &addr(n)),
            chain_id: CHAIN as i64,
            token: addr(8),
            account: addr(n),
            delegate: Some(addr(n)),
            votes: wei(power),
            updated_block: 1,
        };
        delegates.upsert(&d, None).await.expect("delegate");
    }
    let top = delegates.top(CHAIN, &addr(8), 2).await.expect("top");
    assert_eq!(
        top.iter().map(|d| d.account).collect::<Vec<_>>(),
        vec![addr(3), addr(4)]
    );
}

fn job(id: &str, nonce: u64) -> RelayJob {
    RelayJob {
        id: id.into(),
        chain_id: CHAIN as i64,
        forwarder: addr(4),
        from: addr(2),
        to: addr(5),
        nonce: U256::from(nonce),
        gas: 200_000,
        deadline: 2_000_000_000,
        data: "0xabcdef".into(),
        signature: "0x00".into(),
        status: RelayJobStatus::Queued,
        signer: None,
        signer_nonce: None,
        tx_hashes: Vec::new(),
        mined_tx: None,
        mined_block: None,
        error: None,
        kind: RelayJobKind::Forward,
        attempt: None,
        receipt: None,
        created_at: DateTime::now(),
        updated_at: DateTime::now(),
    }
}

#[tokio::test]
async fn relay_jobs_are_unique_per_request_and_move_by_compare_and_set() {
    let store = store("jobs").await;
    let jobs = store.relay_jobs();
    jobs.insert(&job("a", 0)).await.expect("insert");
    jobs.insert(&job("b", 1)).await.expect("insert");
    let err = jobs
        .insert(&job("c", 0))
        .await
        .expect_err("same signed request");
    assert!(err.is_duplicate_key(), "{err}");
    assert_eq!(
        jobs.pending_for(CHAIN, &addr(4), &addr(2))
            .await
            .expect("pending")
            .len(),
        2
    );
    assert_eq!(
        jobs.oldest_in(RelayJobStatus::Queued, 10)
            .await
            .expect("queued")[0]
            .id,
        "a"
    );

    let change = JobChange::default()
        .signer(addr(9))
        .signer_nonce(7)
        .tx(B256::repeat_byte(1));
    let moved = jobs
        .transition(
            "a",
            RelayJobStatus::Queued,
            RelayJobStatus::Submitted,
            change,
        )
        .await
        .expect("submit");
    assert_eq!(moved.status, RelayJobStatus::Submitted);
    assert_eq!(moved.signer, Some(addr(9)));
    assert_eq!(moved.tx_hashes.len(), 1);
    // A second worker that still thinks the job is queued loses.
    let err = jobs
        .transition(
            "a",
            RelayJobStatus::Queued,
            RelayJobStatus::Submitted,
            Default::default(),
        )
        .await
        .expect_err("already moved");
    assert!(matches!(err, StoreError::StateConflict { .. }), "{err}");
    let bumped = JobChange::default().tx(B256::repeat_byte(2));
    let again = jobs
        .transition(
            "a",
            RelayJobStatus::Submitted,
            RelayJobStatus::Submitted,
            bumped,
        )
        .await
        .expect("bump");
    assert_eq!(again.tx_hashes.len(), 2, "every hash tried is kept");
    assert_eq!(
        jobs.count_in(RelayJobStatus::Submitted)
            .await
            .expect("count"),
        1
    );
}

fn attempt(n: u8, noop: bool) -> TxAttempt {
    TxAttempt {
        hash: B256::repeat_byte(n),
        raw: "0x02f8".into(),
        max_fee_per_gas: U256::from(2_000_000_000u64),
        max_priority_fee_per_gas: U256::from(1_000_000_000u64),
        gas_limit: 250_000,
        sent_block: 7,
        noop,
    }
}

#[tokio::test]
async fn relay_jobs_serve_the_relayers_lanes_and_intakes_sender_view() {
    let store = store("jobs_lanes").await;
    let jobs = store.relay_jobs();
    let signer = addr(9);
    for (id, nonce) in [("a", 0), ("b", 1), ("c", 2)] {
        let mut j = job(id, nonce);
        j.signer = Some(signer);
        jobs.insert(&j).await.expect("insert");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // A batch stores the new jobs and reports the already queued ones.
    let mut replay = job("a2", 0);
    replay.signer = Some(signer);
    let fresh = job("d", 3);
    assert_eq!(
        jobs.insert_batch(&[replay, fresh]).await.expect("batch"),
        vec![false, true]
    );
    assert_eq!(
        jobs.insert_batch(&[]).await.expect("empty"),
        Vec::<bool>::new()
    );
    let mut vote = job("v", 0);
    vote.kind = RelayJobKind::Vote;
    vote.forwarder = addr(6);
    jobs.insert(&vote)
        .await
        .expect("a vote has its own nonce space");
    let stored = jobs.get("v").await.expect("get").expect("present");
    assert_eq!(stored.kind, RelayJobKind::Vote);

    let claimable = jobs.claimable(CHAIN, &signer, 10).await.expect("claimable");
    assert_eq!(
        claimable.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec!["a", "b", "c"],
        "creation order"
    );
    let activity = jobs
        .sender_activity(CHAIN, &addr(2), DateTime::now())
        .await
        .expect("activity");
    assert_eq!(activity.len(), 5, "live jobs count whatever their age");
    assert!(activity.iter().all(|j| j.status == RelayJobStatus::Queued));

    // Claiming binds a nonce and stores the signed transaction in one transaction.
    let first = store
        .transaction(|session| {
            let (jobs, signers) = (store.relay_jobs(), store.relay_signers());
            async move {
                let Some(first) = signers
                    .reserve_nonces_in(session, CHAIN, &addr(8), "nobody", 1, 1)
                    .await?
                else {
                    return Ok(None);
                };
                jobs.transition_in(
                    session,
                    "a",
                    RelayJobStatus::Queued,
                    RelayJobStatus::Submitted,
                    JobChange::default()
                        .signer_nonce(first as i64)
                        .attempt(attempt(1, false)),
                )
                .await?;
                Ok(Some(first))
            }
            .boxed()
        })
        .await
        .expect("transaction");
    assert_eq!(first, None, "no lease, no nonce");

    let lease = store
        .relay_signers()
        .acquire(CHAIN, &signer, "i1", Duration::from_secs(30))
        .await
        .expect("acquire")
        .expect("free");
    let reserved = store
        .transaction(|session| {
            let (jobs, signers) = (store.relay_jobs(), store.relay_signers());
            let epoch = lease.epoch;
            async move {
                let first = signers
                    .reserve_nonces_in(session, CHAIN, &signer, "i1", epoch, 2)
                    .await?
                    .ok_or_else(|| StoreError::InvalidInput("lease lost".into()))?;
                for (i, id) in ["a", "b"].into_iter().enumerate() {
                    jobs.transition_in(
                        session,
                        id,
                        RelayJobStatus::Queued,
                        RelayJobStatus::Submitted,
                        JobChange::default()
                            .signer_nonce(first as i64 + i as i64)
                            .attempt(attempt(i as u8 + 1, false)),
                    )
                    .await?;
                }
                Ok(first)
            }
            .boxed()
        })
        .await
        .expect("reserve");
    assert_eq!(reserved, 0);
    let open = jobs.open_for_signer(CHAIN, &signer).await.expect("open");
    assert_eq!(
        open.iter().map(|j| j.signer_nonce).collect::<Vec<_>>(),
        vec![Some(0), Some(1)]
    );
    assert_eq!(open[0].attempt, Some(attempt(1, false)));
    assert_eq!(
        open[0].tx_hashes,
        vec![format!("{:#x}", B256::repeat_byte(1))]
    );

    // Mined, then reorganised away, then mined again with a receipt.
    let receipt = ReceiptSummary {
        success: true,
        block_hash: B256::repeat_byte(0xbb),
        gas_used: 60_000,
        effective_gas_price: U256::from(1_500_000_000u64),
        noop: false,
    };
    let mined = jobs
        .transition(
            "a",
            RelayJobStatus::Submitted,
            RelayJobStatus::Mined,
            JobChange::default()
                .mined(B256::repeat_byte(1), 12)
                .receipt(receipt.clone()),
        )
        .await
        .expect("mined");
    assert_eq!(mined.receipt, Some(receipt));
    let back = jobs
        .transition(
            "a",
            RelayJobStatus::Mined,
            RelayJobStatus::Submitted,
            JobChange::default().unmined(),
        )
        .await
        .expect("reorg");
    assert_eq!(
        (back.mined_tx, back.mined_block, back.receipt),
        (None, None, None)
    );

    assert_eq!(
        jobs.queued_after(CHAIN, &addr(4), &addr(2), &U256::from(0))
            .await
            .expect("after")
            .iter()
            .map(|j| j.id.as_str())
            .collect::<Vec<_>>(),
        vec!["c", "d"]
    );
    assert_eq!(
        jobs.find_request(CHAIN, &addr(4), &addr(2), &U256::from(2))
            .await
            .expect("find")
            .map(|j| j.id),
        Some("c".to_string())
    );
    assert!(
        jobs.find_request(CHAIN, &addr(4), &addr(2), &U256::from(4))
            .await
            .expect("find")
            .is_none()
    );
}

#[tokio::test]
async fn relayer_account_leases_fence_nonce_reservations() {
    let store = store("leases").await;
    let signers = store.relay_signers();
    let account = addr(7);
    let ttl = Duration::from_millis(300);
    let a = signers
        .acquire(CHAIN, &account, "a", ttl)
        .await
        .expect("acquire")
        .expect("free");
    assert_eq!((a.epoch, a.next_nonce), (1, 0));
    assert!(
        signers
            .acquire(CHAIN, &account, "b", ttl)
            .await
            .expect("acquire")
            .is_none(),
        "held by a"
    );
    assert!(
        signers
            .renew(CHAIN, &account, "a", a.epoch, ttl)
            .await
            .expect("renew")
    );

    let reserve = |owner: &'static str, epoch: i64, count: u64| {
        let store = store.clone();
        async move {
            store
                .transaction(|session| {
                    let signers = store.relay_signers();
                    async move {
                        signers
                            .reserve_nonces_in(session, CHAIN, &account, owner, epoch, count)
                            .await
                    }
                    .boxed()
                })
                .await
                .expect("reserve")
        }
    };
    assert_eq!(reserve("a", a.epoch, 3).await, Some(0));
    assert_eq!(reserve("a", a.epoch, 2).await, Some(3));

    // The chain is ahead: the holder raises the counter, never lowers it.
    let raised = signers
        .raise_next_nonce(CHAIN, &account, "a", a.epoch, 9)
        .await
        .expect("raise")
        .expect("held");
    assert_eq!(raised.next_nonce, 9);
    let kept = signers
        .raise_next_nonce(CHAIN, &account, "a", a.epoch, 4)
        .await
        .expect("raise")
        .expect("held");
    assert_eq!(kept.next_nonce, 9);

    // After the lease expires another instance takes it with a higher epoch, and the old
    // holder's reservations are refused (fencing).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = signers
        .acquire(CHAIN, &account, "b", ttl)
        .await
        .expect("acquire")
        .expect("expired lease is free");
    assert_eq!(b.epoch, a.epoch + 1);
    assert_eq!(b.next_nonce, 9, "the counter survives the handover");
    assert_eq!(reserve("a", a.epoch, 1).await, None, "fenced");
    assert!(
        !signers
            .renew(CHAIN, &account, "a", a.epoch, ttl)
            .await
            .expect("renew")
    );
    assert_eq!(reserve("b", b.epoch, 1).await, Some(9));
    // A restarted instance with the same id takes its own lease back at once.
    let b2 = signers
        .acquire(CHAIN, &account, "b", ttl)
        .await
        .expect("acquire")
        .expect("own lease");
    assert_eq!(b2.epoch, b.epoch + 1);
    assert!(
        signers
            .release(CHAIN, &account, "b", b2.epoch)
            .await
            .expect("release")
    );
    let c = signers
        .acquire(CHAIN, &account, "c", ttl)
        .await
        .expect("acquire")
        .expect("released lease is free");
    assert_eq!(c.next_nonce, 10);
    assert_eq!(
        signers
            .get(CHAIN, &account)
            .await
            .expect("get")
            .map(|l| l.owner),
        Some(Some("c".to_string()))
    );
}

#[tokio::test]
async fn siwe_nonces_are_single_use_and_sessions_can_be_revoked() {
    let store = store("sessions").await;
    let user = store.users().seen(&addr(2)).await.expect("seen");
    let again = store.users().seen(&addr(2)).await.expect("seen again");
    assert_eq!(user.created_at, again.created_at);
    assert!(again.last_seen_at >= user.last_seen_at);

    let sessions = store.sessions();
    sessions
        .issue_nonce("n1", Duration::from_secs(60))
        .await
        .expect("issue");
    assert!(sessions.consume_nonce("n1").await.expect("consume"));
    assert!(
        !sessions.consume_nonce("n1").await.expect("replay"),
        "single use"
    );
    sessions
        .issue_nonce("n2", Duration::from_millis(1))
        .await
        .expect("issue");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !sessions.consume_nonce("n2").await.expect("late"),
        "expired"
    );

    let now = DateTime::now();
    let s = Session {
        id: "s1".into(),
        address: addr(2),
        created_at: now,
        expires_at: DateTime::from_millis(now.timestamp_millis() + 60_000),
        revoked: false,
    };
    sessions.create(&s).await.expect("create");
    assert_eq!(sessions.active("s1").await.expect("active"), Some(s));
    assert!(sessions.revoke("s1").await.expect("revoke"));
    assert!(!sessions.revoke("s1").await.expect("twice"));
    assert_eq!(sessions.active("s1").await.expect("active"), None);
}

#[tokio::test]
async fn a_transaction_is_all_or_nothing_and_invisible_until_committed() {
    let store = store("tx").await;
    // A failing body leaves nothing behind.
    let outcome: Result<(), StoreError> = store
        .transaction(|session| {
            let events = store.events();
            async move {
                events
                    .replace_from_block_in(session, CHAIN, 1, &[event(1, 0, 9), event(1, 1, 9)])
                    .await?;
                Err(StoreError::InvalidInput("boom".into()))
            }
            .boxed()
        })
        .await;
    assert!(outcome.is_err());
    assert_eq!(store.events().count(CHAIN).await.expect("count"), 0);

    // While a transaction is open, a second client sees none of its writes.
    let observer = Store::connect_unmigrated(store.config().clone())
        .await
        .expect("second client");
    let mut session = store.client().start_session().await.expect("session");
    session.start_transaction().await.expect("start");
    store
        .events()
        .replace_from_block_in(&mut session, CHAIN, 2, &[event(2, 0, 9)])
        .await
        .expect("write");
    assert_eq!(
        observer.events().count(CHAIN).await.expect("count"),
        0,
        "isolation"
    );
    session.commit_transaction().await.expect("commit");
    assert_eq!(
        observer.events().count(CHAIN).await.expect("count"),
        1,
        "visible after commit"
    );
}

#[tokio::test]
async fn schema_versions_migrate_forward_and_a_newer_schema_refuses_to_start() {
    let config = fresh_test_config("schema").expect("config");
    let store = Store::connect(config.clone())
        .await
        .expect("fresh database migrates");
    assert_eq!(
        schema::current_version(&store).await.expect("version"),
        SCHEMA_VERSION
    );
    Store::connect(config.clone())
        .await
        .expect("second start is a no-op");

    // A version-1 database (one document per raw log, with the unique index restating its _id)
    // migrates to 2, which drops that index, and to 5, which moves the logs into block
    // documents.
    let events = store
        .database()
        .collection::<bson::Document>("chain_events");
    let legacy = event(1, 0, 9);
    events
        .insert_one(doc! {
            "_id": ChainEvent::id_for(CHAIN, &legacy.tx_hash, 0),
            "chainId": CHAIN as i64,
            "blockNumber": 1_i64,
            "blockHash": format!("{:#x}", legacy.block_hash),
            "blockTimestamp": legacy.block_timestamp as i64,
            "txHash": format!("{:#x}", legacy.tx_hash),
            "logIndex": 0_i64,
            "contract": format!("{:#x}", legacy.contract),
            "name": "Transfer",
            "topics": legacy.topics.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
            "data": format!("{}", legacy.data),
            "fields": { "tokenId": "1" },
        })
        .await
        .expect("a version-1 raw log");
    store
        .database()
        .collection::<bson::Document>("nft_transfers")
        .insert_one(doc! { "_id": "t", "chainId": CHAIN as i64 })
        .await
        .expect("a version-1 transfer record");
    events
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "chainId": 1, "txHash": 1, "logIndex": 1 })
                .options(
                    mongodb::options::IndexOptions::builder()
                        .name("chain_tx_log".to_string())
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .expect("v1 index");
    // Projections indexed before version 4 kept collection stats: three tokens of two owners,
    // one active listing.
    for (token, owner) in [(1, addr(2)), (2, addr(2)), (3, addr(3))] {
        store
            .nfts()
            .upsert(&nft(token, owner), None)
            .await
            .expect("nft");
    }
    store
        .listings()
        .upsert(
            &listing(1, U256::from(5), ListingStatus::Active, addr(2)),
            None,
        )
        .await
        .expect("listing");
    store
        .database()
        .collection::<bson::Document>(schema::META_COLLECTION)
        .update_one(
            doc! { "_id": "schema" },
            doc! { "$set": { "version": 1_i64 } },
        )
        .await
        .expect("back to version 1");
    let migrated = Store::connect(config.clone())
        .await
        .expect("migrates 1 -> 2 -> 3");
    assert_eq!(
        schema::current_version(&migrated).await.expect("version"),
        SCHEMA_VERSION
    );
    // Version 3 adds the social collections with their indexes.
    let social_indexes = migrated
        .database()
        .collection::<bson::Document>("social_timelines")
        .list_index_names()
        .await
        .expect("social indexes");
    assert!(
        social_indexes.contains(&"page".to_string()),
        "{social_indexes:?}"
    );
    let left = migrated
        .database()
        .list_collection_names()
        .await
        .expect("collections");
    assert!(!left.contains(&"chain_events".to_string()), "{left:?}");
    assert!(!left.contains(&"nft_transfers".to_string()), "{left:?}");
    // Version 4 counts the collection stats from the projections.
    let stats = migrated
        .collection_stats()
        .get(CHAIN, &addr(1))
        .await
        .expect("stats")
        .expect("counted");
    assert_eq!((stats.supply, stats.owners, stats.listed), (3, 2, 1));
    assert_eq!(
        migrated
            .collection_stats()
            .holding(CHAIN, &addr(1), &addr(2))
            .await
            .expect("holding"),
        2
    );
    assert_eq!(migrated.events().count(CHAIN).await.expect("count"), 1);
    assert_eq!(
        migrated
            .events()
            .in_blocks(CHAIN, 1, 1)
            .await
            .expect("moved"),
        vec![legacy],
        "the log survives the move byte for byte"
    );

    store
        .database()
        .collection::<bson::Document>(schema::META_COLLECTION)
        .update_one(
            doc! { "_id": "schema" },
            doc! { "$set": { "version": 999_i64 } },
        )
        .await
        .expect("simulate a newer build");
    let err = Store::connect(config).await.expect_err("newer schema");
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 999,
                supported: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade Nest"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_fails_within_the_configured_bound() {
    // A socket that accepts connections but never answers (a black hole), held for the whole
    // test so no other server can take the port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut config = StoreConfig::new(
        format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
        "nest",
    );
    config.server_selection_timeout = Duration::from_millis(800);
    let started = Instant::now();
    let err = Store::connect(config).await.expect_err("nothing listens");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("cannot reach the store"), "{err}");
    drop(listener);
}

#[tokio::test]
async fn trait_filters_page_in_id_order_with_or_within_a_type_and_and_across_types() {
    use nest_store::{MetadataState, NftMetadata};
    let store = store("traits").await;
    let colors = ["Red", "Blue", "Green"];
    let shapes = ["Circle", "Square"];
    let docs: Vec<NftMetadata> = (0..60u64)
        .map(|n| {
            let token = U256::from(n);
            NftMetadata {
                id: Nft::id_for(CHAIN, &addr(1), &token),
                chain_id: CHAIN as i64,
                contract: addr(1),
                token_id: token,
                uri: format!("ipfs://t/{n}"),
                state: MetadataState::Resolved,
                raw: None,
                trait_keys: vec![
                    NftMetadata::trait_key("Color", colors[(n % 3) as usize]),
                    NftMetadata::trait_key("Shape", shapes[(n / 3 % 2) as usize]),
                ],
                name_lower: None,
                search_terms: Vec::new(),
                parsed: None,
                image_media: None,
                fetched_at: 0,
                error: None,
                attempts: 1,
            }
        })
        .collect();
    store
        .database()
        .collection::<NftMetadata>("nft_metadata")
        .insert_many(&docs)
        .await
        .expect("insert");
    // (Red or Blue) and Circle: the two-value group does not drive, the one-value group does.
    let groups = vec![
        vec![
            NftMetadata::trait_key("Color", "Red"),
            NftMetadata::trait_key("Color", "Blue"),
        ],
        vec![NftMetadata::trait_key("Shape", "Circle")],
    ];
    let mut expected: Vec<String> = docs
        .iter()
        .filter(|d| {
            groups
                .iter()
                .all(|g| g.iter().any(|k| d.trait_keys.contains(k)))
        })
        .map(|d| d.id.clone())
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 20);
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: Vec<String> = store
            .metadata()
            .tokens_with_traits(CHAIN, &addr(1), &groups, after.as_deref(), 7)
            .await
            .expect("page")
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert!(page.len() <= 7);
        let done = page.len() < 7;
        after = page.last().cloned();
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, expected, "every match once, in id order");
    // A group of only the driver's values (OR), alone.
    let either: Vec<String> = store
        .metadata()
        .tokens_with_traits(CHAIN, &addr(1), &groups[..1], None, 100)
        .await
        .expect("or")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(either.len(), 40);
    assert!(either.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    let none = store
        .metadata()
        .tokens_with_traits(CHAIN, &addr(1), &[], None, 10)
        .await
        .expect("none");
    assert!(none.is_empty());
}
