//! The demo seed on a real anvil, and the DAO wiring proven end to end: the seeded proposal
//! passes, is queued in the timelock and executed, and the marketplace fee changes.

mod common;

use alloy::{
    primitives::{Address, U256, keccak256},
    providers::{Provider, ext::AnvilApi},
    sol_types::SolCall,
};
use common::{anvil, provider_for};
use nest_abis::{NestGovernor, NestMarketplace, NestNFT};
use nest_chain::{Deployer, DeploymentConfig, NestAddresses, seed::seed_demo};

#[tokio::test]
async fn seeded_demo_data_is_on_chain_and_the_proposal_executes_through_the_timelock() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let keys = node.keys().to_vec();
    let mut config = DeploymentConfig::dev();
    config.dev_accounts = node.addresses();
    let deployer = Deployer::new(
        provider_for(&node, &keys[0]),
        node.endpoint(),
        keys[0].address(),
        Some(31337),
        dir.path().join("31337.json"),
        config,
    )
    .await
    .expect("connect");
    let report = deployer.run().await.expect("deploy");
    let a = NestAddresses::from_manifest(&report.manifest).expect("addresses");
    let seed = seed_demo(&node.endpoint(), &a, &keys)
        .await
        .expect("seed")
        .expect("seeded");
    assert!(
        seed_demo(&node.endpoint(), &a, &keys)
            .await
            .expect("second seed")
            .is_none(),
        "seeding twice does nothing"
    );

    let provider = provider_for(&node, &keys[0]);
    let market = NestMarketplace::new(a.marketplace, &provider);
    let [seller, bidder, offerer] = seed.actors;

    let listing = market
        .listings(seed.listing_id)
        .call()
        .await
        .expect("listing");
    assert_eq!(listing.seller, seller);
    assert_eq!(listing.tokenId, seed.minted[0]);
    assert_eq!(listing.price, U256::from(10u64).pow(U256::from(18)));

    let auction = market
        .auctions(seed.auction_id)
        .call()
        .await
        .expect("auction");
    assert_eq!(auction.seller, seller);
    assert_eq!(auction.highestBidder, bidder);
    let nft = NestNFT::new(a.nft, &provider);
    assert_eq!(
        nft.ownerOf(seed.minted[1]).call().await.expect("owner"),
        a.marketplace,
        "escrowed"
    );

    let offer = market.offers(seed.offer_id).call().await.expect("offer");
    assert_eq!(offer.buyer, offerer);
    assert_eq!(offer.paymentToken, a.token);

    let governor = NestGovernor::new(a.governor, &provider);
    assert_eq!(
        governor
            .state(seed.proposal_id)
            .call()
            .await
            .expect("state"),
        1,
        "Active"
    );

    // The deployer holds most of the supply: its vote carries the proposal.
    let tx = governor
        .castVote(seed.proposal_id, 1)
        .into_transaction_request();
    provider
        .send_transaction(tx)
        .await
        .expect("vote")
        .get_receipt()
        .await
        .expect("receipt");
    let period: u64 = governor.votingPeriod().call().await.expect("period").to();
    provider
        .anvil_increase_time(period + 1)
        .await
        .expect("time");
    provider.evm_mine(None).await.expect("mine");
    assert_eq!(
        governor
            .state(seed.proposal_id)
            .call()
            .await
            .expect("state"),
        4,
        "Succeeded"
    );

    let targets = vec![a.marketplace];
    let values = vec![U256::ZERO];
    let calldatas = vec![
        NestMarketplace::setFeeBpsCall { newFeeBps: 300 }
            .abi_encode()
            .into(),
    ];
    let description = keccak256("Raise the marketplace fee to 3%".as_bytes());
    let tx = governor
        .queue(
            targets.clone(),
            values.clone(),
            calldatas.clone(),
            description,
        )
        .into_transaction_request();
    provider
        .send_transaction(tx)
        .await
        .expect("queue")
        .get_receipt()
        .await
        .expect("receipt");
    assert_eq!(
        governor
            .state(seed.proposal_id)
            .call()
            .await
            .expect("state"),
        5,
        "Queued"
    );
    provider.anvil_increase_time(3_601).await.expect("time");
    provider.evm_mine(None).await.expect("mine");
    let tx = governor
        .execute(targets, values, calldatas, description)
        .into_transaction_request();
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("execute")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    assert_eq!(
        governor
            .state(seed.proposal_id)
            .call()
            .await
            .expect("state"),
        7,
        "Executed"
    );
    assert_eq!(
        market.feeBps().call().await.expect("fee"),
        300,
        "the DAO changed the fee"
    );
    assert_ne!(a.timelock, Address::ZERO);
}
