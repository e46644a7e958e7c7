//! Deployment against a real anvil: order, wiring, manifest, idempotency and every refusal.

mod common;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use common::{anvil, provider_for};
use nest_abis::{NestGovernor, NestMarketplace, NestNFT, NestTimelock, NestToken};
use nest_chain::{
    ChainError, DEPLOYABLE_CONTRACTS, Deployer, DeploymentConfig, DeploymentManifest,
    NestAddresses,
    deploy::{DEFAULT_ADMIN_ROLE, role},
};

async fn deployer_on(
    node: &nest_chain::AnvilNode,
    key: &PrivateKeySigner,
    manifest: &std::path::Path,
    config: DeploymentConfig,
) -> Result<Deployer, ChainError> {
    Deployer::new(
        provider_for(node, key),
        node.endpoint(),
        key.address(),
        None,
        manifest.to_path_buf(),
        config,
    )
    .await
}

fn dev_config(node: &nest_chain::AnvilNode) -> DeploymentConfig {
    let mut config = DeploymentConfig::dev();
    config.dev_accounts = node.addresses();
    config
}

#[tokio::test]
async fn deploys_the_whole_set_in_order_and_hands_admin_to_the_timelock() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let manifest_path = dir.path().join("deployments/31337.json");
    let key = node.keys()[0].clone();
    let deployer = deployer_on(&node, &key, &manifest_path, dev_config(&node))
        .await
        .expect("connect");
    let report = deployer.run().await.expect("deploy");

    assert_eq!(
        report.deployed,
        DEPLOYABLE_CONTRACTS.map(String::from).to_vec()
    );
    assert!(report.skipped.is_empty());
    let manifest = DeploymentManifest::load(&manifest_path)
        .expect("load")
        .expect("written");
    assert_eq!(manifest, report.manifest);
    assert_eq!(manifest.chain_id, 31337);
    assert_eq!(manifest.deployer, key.address());
    let blocks: Vec<u64> = DEPLOYABLE_CONTRACTS
        .iter()
        .map(|n| manifest.contracts[*n].deploy_block)
        .collect();
    assert!(
        blocks.windows(2).all(|w| w[0] < w[1]),
        "deployed in order: {blocks:?}"
    );
    for name in DEPLOYABLE_CONTRACTS {
        let entry = &manifest.contracts[name];
        let artifact = nest_abis::artifact(name).expect("artifact");
        assert_eq!(entry.artifact_hash, artifact.creation_code_hash(), "{name}");
    }

    let provider = provider_for(&node, &key);
    let a = NestAddresses::from_manifest(&manifest).expect("addresses");
    let me = key.address();
    let has = |contract: Address, role: alloy::primitives::B256, who: Address| {
        let provider = provider.clone();
        async move {
            NestNFT::new(contract, &provider)
                .hasRole(role, who)
                .call()
                .await
                .expect("hasRole")
        }
    };
    // The DAO owns the NFT and the marketplace; the deployer kept no admin role anywhere.
    for contract in [a.nft, a.marketplace, a.timelock] {
        assert!(
            !has(contract, DEFAULT_ADMIN_ROLE, me).await,
            "deployer renounced admin"
        );
    }
    assert!(has(a.nft, DEFAULT_ADMIN_ROLE, a.timelock).await);
    assert!(has(a.marketplace, DEFAULT_ADMIN_ROLE, a.timelock).await);
    assert!(has(a.timelock, role("PROPOSER_ROLE"), a.governor).await);
    assert!(has(a.timelock, role("CANCELLER_ROLE"), a.governor).await);
    assert!(
        has(a.timelock, role("EXECUTOR_ROLE"), Address::ZERO).await,
        "anyone may execute"
    );
    assert!(has(a.nft, role("MINTER_ROLE"), me).await);
    assert!(has(a.marketplace, role("GUARDIAN_ROLE"), me).await);

    let market = NestMarketplace::new(a.marketplace, &provider);
    assert!(
        market
            .isPaymentTokenAllowed(a.token)
            .call()
            .await
            .expect("call")
    );
    assert_eq!(market.feeBps().call().await.expect("call"), 250);
    assert_eq!(market.treasury().call().await.expect("call"), a.timelock);
    assert!(
        market
            .isTrustedForwarder(a.forwarder)
            .call()
            .await
            .expect("call")
    );
    assert!(
        NestNFT::new(a.nft, &provider)
            .isTrustedForwarder(a.forwarder)
            .call()
            .await
            .expect("call")
    );
    let governor = NestGovernor::new(a.governor, &provider);
    assert_eq!(governor.token().call().await.expect("call"), a.token);
    assert_eq!(governor.timelock().call().await.expect("call"), a.timelock);
    let token = NestToken::new(a.token, &provider);
    for account in node.addresses().into_iter().skip(1) {
        assert_eq!(
            token.balanceOf(account).call().await.expect("call"),
            DeploymentConfig::dev().dev_token_amount,
            "dev account {account} funded"
        );
    }
    let timelock = NestTimelock::new(a.timelock, &provider);
    assert_eq!(
        timelock.getMinDelay().call().await.expect("call"),
        U256::from(3_600)
    );
}

#[tokio::test]
async fn rerunning_skips_what_is_deployed_and_replaces_what_changed() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let manifest_path = dir.path().join("31337.json");
    let key = node.keys()[0].clone();
    let first = deployer_on(&node, &key, &manifest_path, dev_config(&node))
        .await
        .expect("connect")
        .run()
        .await
        .expect("first deploy");

    let second = deployer_on(&node, &key, &manifest_path, dev_config(&node))
        .await
        .expect("connect")
        .run()
        .await
        .expect("second deploy");
    assert!(
        second.deployed.is_empty(),
        "nothing redeployed: {:?}",
        second.deployed
    );
    assert!(
        second.wired.is_empty(),
        "nothing rewired: {:?}",
        second.wired
    );
    assert_eq!(second.skipped.len(), DEPLOYABLE_CONTRACTS.len());
    assert_eq!(second.manifest, first.manifest);

    // A manifest entry that no longer matches the artifact (as after a source change) is
    // redeployed, and so is everything whose constructor arguments point at it.
    let mut manifest = first.manifest.clone();
    manifest
        .contracts
        .get_mut("NestForwarder")
        .expect("entry")
        .artifact_hash = Default::default();
    manifest.save(&manifest_path).expect("save");
    let third = deployer_on(&node, &key, &manifest_path, dev_config(&node))
        .await
        .expect("connect")
        .run()
        .await
        .expect("third deploy");
    assert_eq!(
        third.deployed,
        vec!["NestForwarder", "NestNFT", "NestMarketplace"]
    );
    assert_eq!(
        third.skipped,
        vec!["NestToken", "NestTimelock", "NestGovernor"]
    );
    let a = NestAddresses::from_manifest(&third.manifest).expect("addresses");
    assert_ne!(
        a.forwarder,
        first.manifest.address("NestForwarder").expect("old")
    );
    let provider = provider_for(&node, &key);
    assert!(
        NestMarketplace::new(a.marketplace, &provider)
            .isTrustedForwarder(a.forwarder)
            .call()
            .await
            .expect("call")
    );
    assert!(
        NestNFT::new(a.marketplace, &provider)
            .hasRole(DEFAULT_ADMIN_ROLE, a.timelock)
            .call()
            .await
            .expect("call"),
        "the replacement marketplace is handed to the DAO too"
    );

    // A contract whose code vanished (a different chain state) is redeployed.
    let mut manifest = third.manifest.clone();
    manifest
        .contracts
        .get_mut("NestToken")
        .expect("entry")
        .address = Address::repeat_byte(0x42);
    manifest.save(&manifest_path).expect("save");
    let fourth = deployer_on(&node, &key, &manifest_path, dev_config(&node))
        .await
        .expect("connect")
        .run()
        .await
        .expect("fourth deploy");
    assert_eq!(fourth.deployed[0], "NestToken");
}

#[tokio::test]
async fn wrong_chain_id_is_refused_before_anything_is_sent() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let key = node.keys()[0].clone();
    let err = Deployer::new(
        provider_for(&node, &key),
        node.endpoint(),
        key.address(),
        Some(1),
        dir.path().join("1.json"),
        DeploymentConfig::dev(),
    )
    .await
    .expect_err("chain 1 expected, anvil is 31337");
    assert!(
        matches!(
            err,
            ChainError::WrongChain {
                expected: 1,
                actual: 31337
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("31337"));
}

#[tokio::test]
async fn a_manifest_from_another_chain_is_refused() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("31337.json");
    DeploymentManifest::new(1, Address::ZERO)
        .save(&path)
        .expect("save");
    let key = node.keys()[0].clone();
    let err = deployer_on(&node, &key, &path, DeploymentConfig::dev())
        .await
        .expect_err("manifest of chain 1");
    assert!(
        matches!(
            err,
            ChainError::ManifestChainMismatch {
                manifest: 1,
                node: 31337,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn insufficient_funds_stop_with_a_clear_error_and_the_manifest_keeps_what_was_deployed() {
    let node = anvil();
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("31337.json");
    let poor = PrivateKeySigner::random();

    // No funds at all: nothing is deployed, nothing recorded.
    let err = deployer_on(&node, &poor, &path, DeploymentConfig::dev())
        .await
        .expect("connect")
        .run()
        .await
        .expect_err("no funds");
    assert!(matches!(err, ChainError::InsufficientFunds { .. }), "{err}");
    assert!(err.to_string().contains("insufficient funds"));
    assert_eq!(DeploymentManifest::load(&path).expect("load"), None);

    // Enough for the forwarder only: it is deployed and recorded, then the token step fails.
    let rich = provider_for(&node, &node.keys()[0]);
    let forwarder_gas = {
        let artifact = nest_abis::artifact("NestForwarder").expect("artifact");
        let tx = TransactionRequest::default()
            .with_from(poor.address())
            .with_deploy_code(artifact.bytecode.object.clone());
        rich.estimate_gas(tx).await.expect("estimate")
    };
    let fees = rich.estimate_eip1559_fees().await.expect("fees");
    let budget = U256::from(forwarder_gas) * U256::from(fees.max_fee_per_gas) * U256::from(2);
    let fund = TransactionRequest::default()
        .with_to(poor.address())
        .with_value(budget);
    rich.send_transaction(fund)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");

    let err = deployer_on(&node, &poor, &path, DeploymentConfig::dev())
        .await
        .expect("connect")
        .run()
        .await
        .expect_err("runs out of funds after the forwarder");
    assert!(matches!(err, ChainError::InsufficientFunds { .. }), "{err}");
    let manifest = DeploymentManifest::load(&path)
        .expect("load")
        .expect("written");
    assert_eq!(
        manifest.contracts.keys().collect::<Vec<_>>(),
        vec!["NestForwarder"]
    );
    let code = rich
        .get_code_at(manifest.address("NestForwarder").expect("recorded"))
        .await
        .expect("code");
    assert!(
        !code.is_empty(),
        "the recorded forwarder really is on chain"
    );
}
