//! The signing policy holds against a tampered store: a job rewritten in the store into an
//! ERC-20 transfer on another contract fails before it takes a nonce, and the relayer's key
//! never signs it.

mod common;

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use bson::doc;
use common::*;
use nest_chain::AnvilOptions;
use nest_store::RelayJobStatus;

alloy::sol! {
    function transfer(address to, uint256 amount) external returns (bool);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_rewritten_into_a_transfer_is_refused_before_the_key_signs() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("policy").await;
    let a = chain.addresses;
    let account = chain.keys[6].clone();
    // The intake accepts a legitimate gasless approval...
    let intake = Relayer::intake_only(
        &chain,
        &store,
        chain.config("policy"),
        vec![account.address()],
    )
    .await;
    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    let id = intake
        .accept(&Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 0, deadline).body())
        .await;
    // ...and someone with write access to the store turns it into a NEST `transfer` sent by the
    // relayer account itself (the token is a contract the relayer does call, for delegations).
    let thief = Address::repeat_byte(0x66);
    let transfer = transferCall {
        to: thief,
        amount: U256::from(10).pow(U256::from(21)),
    }
    .abi_encode();
    store
        .database()
        .collection::<bson::Document>("relay_jobs")
        .update_one(
            doc! { "_id": &id },
            doc! { "$set": {
                "kind": "governance",
                "to": nest_store::codec::address_key(&a.token),
                "data": alloy::hex::encode_prefixed(&transfer),
            } },
        )
        .await
        .expect("tamper");

    let relayer = Relayer::with_key(&chain, &store, chain.config("policy"), &account).await;
    let failed = wait_for(&store, &chain, &id, RelayJobStatus::Failed).await;
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("signing policy")),
        "{failed:?}"
    );
    assert!(
        failed.attempt.is_none() && failed.tx_hashes.is_empty(),
        "never signed: {failed:?}"
    );
    let nonce = chain
        .reader()
        .get_transaction_count(account.address())
        .await
        .expect("nonce");
    assert_eq!(nonce, 0, "the relayer account sent nothing");
    assert_eq!(
        store.key_ring().verify_audit().await.expect("audit"),
        (0, None),
        "and signed nothing"
    );
    relayer.stop().await;
}
