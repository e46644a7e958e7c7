//! A user with zero ETH delegates, lists an NFT, accepts an offer and votes, all through the
//! relayer, once with each signer backend sending: a local key, a key in a SoftHSM2 token
//! (PKCS#11) and, with the `nest-keys/aws-kms` feature, a key in LocalStack's KMS.
//!
//! SoftHSM reads `SOFTHSM2_CONF` once per process, so every test here starts with [`hsm`].

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use axum::http::StatusCode;
use common::*;
use nest_abis::{NestGovernor, NestMarketplace, NestNFT, NestToken};
use nest_chain::AnvilOptions;
use nest_keys::{NestSigner, SignerConfig, generate_secp256k1_key, testing::SoftHsm};
use nest_store::RelayJobStatus;
use std::sync::OnceLock;

const TOKEN: &str = "nest-relayer-test";
const PIN: &str = "relayer-pin-1234";

fn hsm() -> &'static SoftHsm {
    static FIXTURE: OnceLock<&'static SoftHsm> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // SAFETY: every test in this binary calls `hsm()` first, so the other test threads wait
        // on this initialisation instead of touching the environment.
        let hsm = unsafe { SoftHsm::process_wide() }.expect("SoftHSM token directory");
        hsm.init_token(TOKEN, PIN).expect("init token");
        hsm
    })
}

/// The whole zero-ETH journey with `signer` as the only relayer account.
async fn zero_eth_user_journey(label: &str, signer: NestSigner) {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store(label).await;
    let a = chain.addresses;
    fund(&chain, signer.address(), ether(10)).await;
    let relayer = Relayer::start(&chain, &store, chain.config(label), vec![signer.clone()]).await;
    let deployer = chain.provider(0);
    let user = PrivateKeySigner::random();
    let tokens = chain.mint(user.address(), 2).await;
    let nest = NestToken::new(a.token, &deployer);
    send(
        &deployer,
        nest.transfer(user.address(), ether(1_000))
            .into_transaction_request(),
    )
    .await;
    let deadline = chain.now().await + 3_600;

    // Delegate votes to itself (token nonce space) and approve the marketplace (forwarder nonce
    // space), both gasless and in flight together.
    let delegation = relayer
        .accept(&delegate_body(&user, a.token, user.address(), 0, deadline))
        .await;
    let approval = relayer
        .accept(&Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 0, deadline).body())
        .await;
    wait_for(&store, &chain, &delegation, RelayJobStatus::Confirmed).await;
    wait_for(&store, &chain, &approval, RelayJobStatus::Confirmed).await;
    assert_eq!(
        nest.delegates(user.address())
            .call()
            .await
            .expect("delegates"),
        user.address()
    );

    // List the first NFT.
    let market = NestMarketplace::new(a.marketplace, &deployer);
    let listing_id = market.nextListingId().call().await.expect("next listing");
    let listing = relayer
        .accept(
            &Forward::new(
                &user,
                &a,
                a.marketplace,
                create_listing(a.nft, tokens[0], ether(1), deadline),
                1,
                deadline,
            )
            .body(),
        )
        .await;
    let job = wait_for(&store, &chain, &listing, RelayJobStatus::Confirmed).await;
    let stored = market.listings(listing_id).call().await.expect("listing");
    assert_eq!(stored.seller, user.address(), "listed in the user's name");
    assert_eq!(stored.tokenId, tokens[0]);
    assert_eq!(job.signer, Some(signer.address()));
    let (status, view) = relayer.get(&listing).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "confirmed");
    assert_eq!(view["receipt"]["success"], true);
    assert_eq!(view["txHashes"].as_array().map(|h| h.len()), Some(1));
    assert_eq!(view["receipt"]["txHash"], view["txHashes"][0]);

    // A buyer offers NEST for the second NFT; the user accepts gaslessly.
    let buyer = chain.provider(2);
    let price = ether(100);
    send(
        &buyer,
        NestToken::new(a.token, &buyer)
            .approve(a.marketplace, price)
            .into_transaction_request(),
    )
    .await;
    let offers = NestMarketplace::new(a.marketplace, &buyer);
    let offer_id = offers.nextOfferId().call().await.expect("next offer");
    send(
        &buyer,
        offers
            .makeOffer(a.nft, tokens[1], a.token, price, deadline)
            .into_transaction_request(),
    )
    .await;
    let before = nest
        .balanceOf(user.address())
        .call()
        .await
        .expect("balance");
    let accept = NestMarketplace::acceptOfferCall { offerId: offer_id }.abi_encode();
    let accepted = relayer
        .accept(&Forward::new(&user, &a, a.marketplace, accept, 2, deadline).body())
        .await;
    wait_for(&store, &chain, &accepted, RelayJobStatus::Confirmed).await;
    let nft = NestNFT::new(a.nft, &deployer);
    assert_eq!(
        nft.ownerOf(tokens[1]).call().await.expect("owner"),
        chain.keys[2].address()
    );
    let after = nest
        .balanceOf(user.address())
        .call()
        .await
        .expect("balance");
    assert!(after > before, "the user was paid: {before} -> {after}");

    // A proposal; once voting opens the user votes for it gaslessly.
    let governor = NestGovernor::new(a.governor, &deployer);
    let calldata = NestMarketplace::setFeeBpsCall { newFeeBps: 300 }.abi_encode();
    let description = format!("Raise the fee ({label})");
    let proposal = governor
        .hashProposal(
            vec![a.marketplace],
            vec![U256::ZERO],
            vec![calldata.clone().into()],
            alloy::primitives::keccak256(description.as_bytes()),
        )
        .call()
        .await
        .expect("hash");
    send(
        &deployer,
        governor
            .propose(
                vec![a.marketplace],
                vec![U256::ZERO],
                vec![calldata.into()],
                description,
            )
            .into_transaction_request(),
    )
    .await;
    deployer.anvil_increase_time(5).await.expect("time");
    deployer.evm_mine(None).await.expect("mine");
    // The ballot carries a reason: the relayer sends castVoteWithReasonAndParamsBySig and the
    // reason is on chain in the VoteCast event.
    let reason = "A lower fee brings more listings — 수수료 인하";
    let vote = relayer
        .accept(&vote_body(&user, a.governor, proposal, 1, 0, Some(reason)))
        .await;
    wait_for(&store, &chain, &vote, RelayJobStatus::Confirmed).await;
    assert!(
        governor
            .hasVoted(proposal, user.address())
            .call()
            .await
            .expect("voted")
    );
    let cast = governor
        .VoteCast_filter()
        .from_block(0)
        .query()
        .await
        .expect("VoteCast logs");
    assert!(
        cast.iter()
            .any(|(e, _)| e.voter == user.address() && e.reason == reason && e.support == 1),
        "the reason is on chain"
    );
    let tally = governor
        .proposalVotes(proposal)
        .call()
        .await
        .expect("votes");
    assert!(
        tally.forVotes >= after,
        "the user's voting power counted: {}",
        tally.forVotes
    );

    // Never a wei of ETH.
    assert_eq!(
        chain
            .reader()
            .get_balance(user.address())
            .await
            .expect("balance"),
        U256::ZERO
    );
    let jobs = store
        .relay_jobs()
        .open_for_signer(CHAIN_ID, &signer.address())
        .await
        .expect("open");
    assert!(jobs.is_empty(), "nothing left in flight");
    // Every transaction the relayer account signed is in the audit chain, which is intact:
    // as many `tx-signing` entries as the account sent transactions.
    let (entries, broken) = store.key_ring().verify_audit().await.expect("audit");
    assert_eq!(broken, None);
    let sent = chain
        .reader()
        .get_transaction_count(signer.address())
        .await
        .expect("nonce");
    let signed = store
        .key_ring()
        .audit_between(0, i64::MAX)
        .await
        .expect("entries")
        .iter()
        .filter(|e| e.purpose == "tx-signing" && e.caller == format!("{:#x}", signer.address()))
        .count() as u64;
    assert!(
        entries >= signed && signed >= sent,
        "{signed} audited, {sent} sent"
    );
    relayer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_eth_user_trades_and_votes_through_a_local_key() {
    hsm();
    let key = PrivateKeySigner::random();
    zero_eth_user_journey("gasless_local", NestSigner::from_local(key)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_eth_user_trades_and_votes_through_an_hsm_key() {
    let hsm = hsm();
    let config = hsm.config(TOKEN, PIN, "relayer-hsm");
    let address: Address = generate_secp256k1_key(&config).await.expect("generate key");
    let signer = NestSigner::from_config(&SignerConfig::Pkcs11(config))
        .await
        .expect("PKCS#11 signer");
    assert_eq!(signer.address(), address);
    assert_eq!(signer.backend_name(), "pkcs11");
    zero_eth_user_journey("gasless_pkcs11", signer).await;
}

nest_keys::with_aws_kms! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_zero_eth_user_trades_and_votes_through_a_kms_key() {
        hsm();
        let kms = tokio::task::spawn_blocking(nest_keys::testing::LocalStackKms::shared)
            .await
            .expect("harness thread")
            .expect("LocalStack KMS");
        let key_id = kms.create_secp256k1_key().await.expect("create key");
        let signer = NestSigner::from_aws(
            nest_keys::aws_kms::connect_with(&kms.config(&key_id), kms.loader())
                .await
                .expect("connect"),
        );
        assert_eq!(signer.backend_name(), "aws-kms");
        zero_eth_user_journey("gasless_kms", signer).await;
    }
}
