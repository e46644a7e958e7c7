//! The governance keeper takes a passed proposal through the timelock by itself: it queues it
//! once voting has ended, executes it once the delay has passed, each step exactly once and
//! nothing before it is due.

mod common;

use alloy::{
    primitives::{U256, keccak256},
    providers::ext::AnvilApi,
    sol_types::SolCall,
};
use common::*;
use nest_abis::{NestGovernor, NestMarketplace};
use nest_chain::{AnvilOptions, seed::seed_demo};
use nest_keys::NestSigner;
use nest_relayer::{GovernanceKeeper, KeeperStep};
use nest_store::{Proposal, ProposalState, RelayJobStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passed_proposal_is_queued_then_executed_by_the_keeper() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let a = chain.addresses;
    let store = store("keeper").await;
    let seed = seed_demo(&chain.node.endpoint(), &a, &chain.keys)
        .await
        .expect("seed")
        .expect("seeded");
    let id = seed.proposal_id;
    let deployer = chain.provider(0);
    let governor = NestGovernor::new(a.governor, &deployer);
    // The largest holder votes for it too: quorum and majority.
    send(
        &deployer,
        governor.castVote(id, 1).into_transaction_request(),
    )
    .await;
    // The proposal as the indexer projects it (this crate does not depend on the indexer).
    let description = "Raise the marketplace fee to 3%".to_string();
    let calldata = NestMarketplace::setFeeBpsCall { newFeeBps: 300 }.abi_encode();
    assert_eq!(
        governor
            .hashProposal(
                vec![a.marketplace],
                vec![U256::ZERO],
                vec![calldata.clone().into()],
                keccak256(description.as_bytes()),
            )
            .call()
            .await
            .expect("hash"),
        id,
        "the seeded proposal's actions"
    );
    let proposal = Proposal {
        id: Proposal::id_for(CHAIN_ID, &a.governor, &id),
        chain_id: CHAIN_ID as i64,
        governor: a.governor,
        proposal_id: id,
        proposer: chain.keys[0].address(),
        targets: vec![a.marketplace.to_string()],
        values: vec![U256::ZERO],
        calldatas: vec![alloy::primitives::Bytes::from(calldata).to_string()],
        description,
        vote_start: 0,
        vote_end: 0,
        state: ProposalState::Active,
        for_votes: U256::ZERO,
        against_votes: U256::ZERO,
        abstain_votes: U256::ZERO,
        quorum: U256::ZERO,
        eta: None,
        created_block: 0,
        updated_block: 0,
    };
    store
        .proposals()
        .upsert(&proposal, None)
        .await
        .expect("proposal");

    let relayer_key = chain.keys[9].clone();
    let relayer = Relayer::start(
        &chain,
        &store,
        chain.config("keeper"),
        vec![NestSigner::from_local(relayer_key.clone())],
    )
    .await;
    let keeper = GovernanceKeeper::new(
        relayer.chain.clone(),
        store.clone(),
        vec![relayer_key.address()],
    )
    .expect("keeper");
    let state = || async { governor.state(id).call().await.expect("state") };

    // Voting is open: nothing to do.
    assert!(keeper.tick().await.expect("tick").is_empty());

    let period: u64 = governor.votingPeriod().call().await.expect("period").to();
    deployer
        .anvil_increase_time(period + 1)
        .await
        .expect("time");
    deployer.evm_mine(None).await.expect("mine");
    assert_eq!(state().await, 4, "succeeded");
    assert_eq!(
        keeper.tick().await.expect("tick"),
        vec![(id, KeeperStep::Queue)]
    );
    assert!(
        keeper.tick().await.expect("again").is_empty(),
        "enqueued once"
    );
    let queue_job = format!("{CHAIN_ID}:governance:queue:{id}");
    wait_for(&store, &chain, &queue_job, RelayJobStatus::Confirmed).await;
    assert_eq!(state().await, 5, "queued");

    // The timelock delay has not passed: executing would revert, so nothing is enqueued.
    assert!(keeper.tick().await.expect("tick").is_empty());
    let eta: u64 = governor.proposalEta(id).call().await.expect("eta").to();
    let now = chain.now().await;
    deployer
        .anvil_increase_time(eta.saturating_sub(now) + 1)
        .await
        .expect("time");
    deployer.evm_mine(None).await.expect("mine");
    assert_eq!(
        keeper.tick().await.expect("tick"),
        vec![(id, KeeperStep::Execute)]
    );
    let execute_job = format!("{CHAIN_ID}:governance:execute:{id}");
    wait_for(&store, &chain, &execute_job, RelayJobStatus::Confirmed).await;
    assert_eq!(state().await, 7, "executed");
    let market = NestMarketplace::new(a.marketplace, &deployer);
    assert_eq!(market.feeBps().call().await.expect("fee"), 300);
    relayer.stop().await;
}
