//! The signing provider: estimated gas limits carry headroom, explicit ones are kept.

mod common;

use alloy::{
    consensus::Transaction, network::TransactionBuilder, primitives::U256, providers::Provider,
    rpc::types::TransactionRequest,
};
use common::{anvil, provider_for};
use nest_chain::provider::GAS_ESTIMATE_PERCENT;

#[tokio::test]
async fn an_estimated_gas_limit_gets_headroom_and_an_explicit_one_is_kept() {
    let node = anvil();
    let provider = provider_for(&node, &node.keys()[0]);
    let to = node.addresses()[1];
    let transfer = TransactionRequest::default()
        .with_to(to)
        .with_value(U256::from(1));

    let estimate = provider
        .estimate_gas(transfer.clone())
        .await
        .expect("estimate");
    assert_eq!(
        sent_gas_limit(&provider, transfer.clone()).await,
        estimate * GAS_ESTIMATE_PERCENT / 100,
        "the estimate plus headroom"
    );
    assert_eq!(
        sent_gas_limit(&provider, transfer.with_gas_limit(50_000)).await,
        50_000,
        "a caller's limit is kept"
    );
}

/// Sends `tx` (it must succeed) and returns the gas limit it was mined with.
async fn sent_gas_limit(provider: &alloy::providers::DynProvider, tx: TransactionRequest) -> u64 {
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    provider
        .get_transaction_by_hash(receipt.transaction_hash)
        .await
        .expect("tx")
        .expect("known")
        .inner
        .gas_limit()
}
