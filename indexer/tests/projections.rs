//! Every event kind lands in its projection, with the values checked against contract state.

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
};
use common::*;
use nest_abis::{NestGovernor, NestMarketplace, NestNFT, NestToken};
use nest_chain::{AnvilOptions, seed::seed_demo};
use nest_indexer::IndexerError;
use nest_store::{
    Auction, AuctionStatus, Delegate, ListingStatus, OfferStatus, Proposal, ProposalState,
    SaleKind, Vote,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_kind_lands_in_its_projection_matching_contract_state() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let store = store("projections").await;
    let seed = seed_demo(&chain.node.endpoint(), &a, &chain.keys)
        .await
        .expect("seed")
        .expect("seeded");
    let [seller, bidder, offerer] = seed.actors;
    let (p_seller, p_bidder, p_buyer) = (chain.provider(1), chain.provider(2), chain.provider(4));
    let buyer = chain.keys[4].address();
    let market_seller = NestMarketplace::new(a.marketplace, &p_seller);

    // Listing #2 on token 4: price update, then cancel.
    send(
        &p_seller,
        market_seller
            .createListing(a.nft, seed.minted[3], Address::ZERO, ether(2), 0)
            .into_transaction_request(),
    )
    .await;
    send(
        &p_seller,
        market_seller
            .updateListingPrice(U256::from(2), ether(3))
            .into_transaction_request(),
    )
    .await;
    send(
        &p_seller,
        market_seller
            .cancelListing(U256::from(2))
            .into_transaction_request(),
    )
    .await;
    // Listing #3 on token 5, bought.
    send(
        &p_seller,
        market_seller
            .createListing(a.nft, seed.minted[4], Address::ZERO, ether(1), 0)
            .into_transaction_request(),
    )
    .await;
    let buy = NestMarketplace::new(a.marketplace, &p_buyer)
        .buy(U256::from(3), ether(1))
        .value(ether(1))
        .into_transaction_request();
    send(&p_buyer, buy).await;
    // Listing #4 on token 6, then the seller gives the token away: stale.
    send(
        &p_seller,
        market_seller
            .createListing(a.nft, seed.minted[5], Address::ZERO, ether(5), 0)
            .into_transaction_request(),
    )
    .await;
    let nft_seller = NestNFT::new(a.nft, &p_seller);
    send(
        &p_seller,
        nft_seller
            .transferFrom(seller, bidder, seed.minted[5])
            .into_transaction_request(),
    )
    .await;
    // The offer on token 3 is accepted.
    send(
        &p_seller,
        market_seller
            .acceptOffer(seed.offer_id)
            .into_transaction_request(),
    )
    .await;
    // A second, outbidding bid on the auction.
    let bid = NestMarketplace::new(a.marketplace, &p_bidder)
        .bid(seed.auction_id, ether(1))
        .value(ether(1))
        .into_transaction_request();
    send(&p_bidder, bid).await;
    // The deployer votes against, the bidder delegates to the seller.
    let gov0 = NestGovernor::new(a.governor, chain.provider(0));
    send(
        &chain.provider(0),
        gov0.castVote(seed.proposal_id, 0)
            .into_transaction_request(),
    )
    .await;
    let token_bidder = NestToken::new(a.token, &p_bidder);
    send(
        &p_bidder,
        token_bidder.delegate(seller).into_transaction_request(),
    )
    .await;

    let indexer = chain.indexer(&store, chain.indexer_config()).await;
    let mut notices = indexer.subscribe();
    indexer.backfill(None).await.expect("backfill");
    while indexer.follow_step().await.expect("follow") > 0 {}
    let head = chain.provider(0).get_block_number().await.expect("head");
    assert_eq!(
        indexer
            .checkpoint()
            .await
            .expect("cp")
            .expect("some")
            .block_number as u64,
        head
    );
    assert!(notices.try_recv().is_ok(), "change notices were published");

    let provider = chain.provider(0);
    let market = NestMarketplace::new(a.marketplace, &provider);
    let nft = NestNFT::new(a.nft, &provider);
    let token = NestToken::new(a.token, &provider);
    let governor = NestGovernor::new(a.governor, &provider);

    // NFTs: owner and URI match the contract for every minted token.
    for id in &seed.minted {
        let stored = store
            .nfts()
            .get(31337, &a.nft, id)
            .await
            .expect("get")
            .expect("indexed");
        assert_eq!(
            stored.owner,
            nft.ownerOf(*id).call().await.expect("ownerOf"),
            "owner of {id}"
        );
        assert_eq!(
            stored.token_uri,
            nft.tokenURI(*id).call().await.expect("uri"),
            "uri of {id}"
        );
    }
    let history = store
        .nfts()
        .history(31337, &a.nft, &seed.minted[5])
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|t| t.to).collect::<Vec<_>>(),
        vec![seller, bidder]
    );

    // Listings: status per the contract's own record, and the staleness it cannot express.
    let listing = |n: u64| {
        let store = store.clone();
        async move {
            store
                .listings()
                .get(31337, &a.marketplace, &U256::from(n))
                .await
                .expect("get")
                .expect("indexed")
        }
    };
    assert_eq!(listing(1).await.status, ListingStatus::Active);
    assert_eq!(
        listing(1).await.price,
        market
            .listings(U256::from(1))
            .call()
            .await
            .expect("l")
            .price
    );
    let cancelled = listing(2).await;
    assert_eq!(
        (cancelled.status, cancelled.price),
        (ListingStatus::Cancelled, ether(3))
    );
    let sold = listing(3).await;
    assert_eq!(
        (sold.status, sold.buyer),
        (ListingStatus::Sold, Some(buyer))
    );
    assert_eq!(
        listing(4).await.status,
        ListingStatus::Stale,
        "seller gave the token away"
    );

    // Auction: highest bid and bidder, bid history.
    let on_chain = market
        .auctions(seed.auction_id)
        .call()
        .await
        .expect("auction");
    let auction = store
        .auctions()
        .get(31337, &a.marketplace, &seed.auction_id)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(auction.highest_bid, on_chain.highestBid);
    assert_eq!(auction.highest_bidder, Some(on_chain.highestBidder));
    assert_eq!(auction.end_time, on_chain.endTime as i64);
    assert_eq!(
        (auction.bid_count, auction.status),
        (2, AuctionStatus::Live)
    );
    assert_eq!(
        store
            .auctions()
            .bids(&Auction::id_for(31337, &a.marketplace, &seed.auction_id))
            .await
            .expect("bids")
            .len(),
        2
    );

    // Offer accepted; sales with the exact split.
    let offer = store
        .offers()
        .get(31337, &a.marketplace, &seed.offer_id)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(
        (offer.status, offer.accepted_by),
        (OfferStatus::Accepted, Some(seller))
    );
    assert_eq!(offer.buyer, offerer);
    let sales = store.sales().recent(31337, 10).await.expect("sales");
    assert_eq!(sales.len(), 2);
    for sale in &sales {
        assert_eq!(
            sale.price,
            sale.fee + sale.royalty + (sale.price - sale.fee - sale.royalty)
        );
        assert_eq!(
            sale.fee,
            sale.price * U256::from(250) / U256::from(10_000),
            "2.5% fee"
        );
        assert_eq!(
            sale.royalty,
            sale.price * U256::from(500) / U256::from(10_000),
            "5% royalty"
        );
    }
    assert!(
        sales
            .iter()
            .any(|s| s.kind == SaleKind::Listing && s.buyer == buyer)
    );
    assert!(
        sales
            .iter()
            .any(|s| s.kind == SaleKind::Offer && s.buyer == offerer)
    );

    // Governance: tallies match the governor, votes recorded with reasons, voting power matches.
    let proposal = store
        .proposals()
        .get(31337, &a.governor, &seed.proposal_id)
        .await
        .expect("get")
        .expect("indexed");
    let votes = governor
        .proposalVotes(seed.proposal_id)
        .call()
        .await
        .expect("votes");
    assert_eq!(
        (
            proposal.against_votes,
            proposal.for_votes,
            proposal.abstain_votes
        ),
        (votes.againstVotes, votes.forVotes, votes.abstainVotes)
    );
    let snapshot = governor
        .proposalSnapshot(seed.proposal_id)
        .call()
        .await
        .expect("snapshot");
    assert_eq!(
        proposal.quorum,
        governor.quorum(snapshot).call().await.expect("quorum")
    );
    let now = provider
        .get_block(alloy::eips::BlockId::latest())
        .await
        .expect("block")
        .expect("some")
        .header
        .timestamp as i64;
    let expected_state = ProposalState::from_index(
        governor
            .state(seed.proposal_id)
            .call()
            .await
            .expect("state"),
    )
    .expect("known");
    assert_eq!(proposal.state_at(now), expected_state);
    let pid = Proposal::id_for(31337, &a.governor, &seed.proposal_id);
    let recorded = store.votes().for_proposal(&pid).await.expect("votes");
    assert_eq!(recorded.len(), 2);
    assert!(
        recorded
            .iter()
            .any(|v| v.id == Vote::id_for(&pid, &seller) && v.reason.contains("treasury"))
    );
    for account in [seller, bidder, offerer, chain.keys[0].address()] {
        let d = store
            .delegates()
            .get(31337, &a.token, &account)
            .await
            .expect("get");
        let power = token.getVotes(account).call().await.expect("votes");
        assert_eq!(
            d.map(|d| d.votes).unwrap_or_default(),
            power,
            "voting power of {account}"
        );
    }
    let bidder_record = store
        .delegates()
        .get(31337, &a.token, &bidder)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(bidder_record.delegate, Some(seller));
    assert_eq!(bidder_record.id, Delegate::id_for(31337, &a.token, &bidder));

    // Contract state from events: fee, treasury, payment tokens, supply.
    let m = store
        .contract_state()
        .get(31337, &a.marketplace)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(
        m.fields.get_i64("feeBps").expect("fee"),
        market.feeBps().call().await.expect("fee") as i64
    );
    assert_eq!(m.fields.get_i64("sales").expect("sales"), 2);
    let t = store
        .contract_state()
        .get(31337, &a.token)
        .await
        .expect("get")
        .expect("indexed");
    assert_eq!(
        t.fields.get_str("totalSupply").expect("supply"),
        token
            .totalSupply()
            .call()
            .await
            .expect("supply")
            .to_string()
    );

    // Collection stats, kept incrementally: the same as a recount, and as the chain says.
    assert_stats_match_recount(&store).await;
    let stats = store
        .collection_stats()
        .get(31337, &a.nft)
        .await
        .expect("stats")
        .expect("kept");
    let minted = nft.totalMinted().call().await.expect("minted");
    assert_eq!(U256::from(stats.supply), minted, "nothing is burned");
    assert_eq!(
        U256::from(seed.minted.len()),
        minted,
        "the seed minted them all"
    );
    let mut owners = std::collections::BTreeSet::new();
    for id in &seed.minted {
        owners.insert(nft.ownerOf(*id).call().await.expect("owner"));
    }
    assert_eq!(stats.owners, owners.len() as i64);
    assert_eq!(
        stats.totals.iter().map(|t| t.sales).sum::<i64>(),
        2,
        "the bought listing and the accepted offer"
    );
    let eth = stats
        .totals
        .iter()
        .find(|t| t.payment_token == Address::ZERO)
        .expect("ETH sales");
    assert_eq!(
        (eth.sales, eth.volume),
        (1, ether(1)),
        "listing #3 bought for 1 ETH"
    );
    assert_eq!(stats.on_auction, 1);
    assert_eq!(
        stats.listed,
        store
            .listings()
            .query(
                31337,
                &nest_store::ListingQuery {
                    status: Some(ListingStatus::Active),
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .expect("listings")
            .items
            .len() as i64
    );

    // Idle polls change nothing; anvil time moves on.
    provider.anvil_increase_time(10).await.expect("time");
    assert_eq!(indexer.follow_step().await.expect("idle"), 0);
    let status = indexer.status().await.expect("status");
    assert_eq!(status.lag_blocks, 0);
    assert!(
        status
            .events
            .iter()
            .any(|(name, n)| name == "NestMarketplace" && *n > 10)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_past_its_expiry_is_expired_by_the_next_batch() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let store = store("expiry").await;
    let seed = seed_demo(&chain.node.endpoint(), &a, &chain.keys)
        .await
        .expect("seed")
        .expect("seeded");
    let p_seller = chain.provider(1);
    let market = NestMarketplace::new(a.marketplace, &p_seller);
    let now = p_seller
        .get_block_by_number(Default::default())
        .await
        .expect("block")
        .expect("latest")
        .header
        .timestamp;
    let expiring_id = market.nextListingId().call().await.expect("id");
    send(
        &p_seller,
        market
            .createListing(a.nft, seed.minted[3], Address::ZERO, ether(1), now + 100)
            .into_transaction_request(),
    )
    .await;
    let indexer = chain.indexer(&store, chain.indexer_config()).await;
    indexer.backfill(None).await.expect("backfill");
    while indexer.follow_step().await.expect("follow") > 0 {}
    let listing = |id: U256| {
        let store = store.clone();
        async move {
            store
                .listings()
                .get(31337, &a.marketplace, &id)
                .await
                .expect("get")
                .expect("listed")
                .status
        }
    };
    assert_eq!(listing(expiring_id).await, ListingStatus::Active);

    // Time passes; the next block with a Nest event (a listing without expiry) expires it.
    chain
        .provider(0)
        .anvil_increase_time(200)
        .await
        .expect("time");
    let lasting_id = market.nextListingId().call().await.expect("id");
    send(
        &p_seller,
        market
            .createListing(a.nft, seed.minted[4], Address::ZERO, ether(1), 0)
            .into_transaction_request(),
    )
    .await;
    while indexer.follow_step().await.expect("follow") > 0 {}
    assert_eq!(listing(expiring_id).await, ListingStatus::Expired);
    assert_eq!(listing(lasting_id).await, ListingStatus::Active);
}

#[tokio::test]
async fn a_node_on_another_chain_is_refused() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("wrongchain").await;
    let mut config = chain.indexer_config();
    config.chain_id = 1;
    let err = nest_indexer::Indexer::new(config, store, chain.provider(0))
        .await
        .expect_err("wrong chain");
    assert!(
        matches!(
            err,
            IndexerError::WrongChain {
                expected: 1,
                actual: 31337
            }
        ),
        "{err}"
    );
}
