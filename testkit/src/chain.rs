//! The pinned anvil with Nest deployed.

use crate::CHAIN_ID;
use alloy::{
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use nest_abis::NestNFT;
use nest_chain::{
    AnvilNode, AnvilOptions, Deployer, DeploymentConfig, DeploymentManifest, NestAddresses,
    http_provider,
    seed::{SeedReport, seed_demo},
};
use std::time::Duration;
use url::Url;

/// How to start a [`TestChain`].
#[derive(Debug, Default)]
pub struct TestChainBuilder {
    options: AnvilOptions,
    dev_accounts: Option<usize>,
    seeded: bool,
}

impl TestChainBuilder {
    /// Anvil's options (block time, accounts, extra arguments).
    pub fn anvil(mut self, options: AnvilOptions) -> Self {
        self.options = options;
        self
    }

    /// Funds only the first `n` dev accounts with NEST and votes (the deployment's
    /// `dev_accounts`); all of anvil's by default.
    pub fn dev_accounts(mut self, n: usize) -> Self {
        self.dev_accounts = Some(n);
        self
    }

    /// Seeds the demo data (`nest_chain::seed`) after deploying.
    pub fn seeded(mut self) -> Self {
        self.seeded = true;
        self
    }

    /// Starts anvil, deploys Nest (and seeds it).
    pub async fn start(self) -> TestChain {
        crate::init_logs();
        let node = AnvilNode::spawn(&crate::layout().anvil_binary(), &self.options)
            .expect("anvil (run scripts/setup)");
        let keys = node.keys().to_vec();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut config = DeploymentConfig::dev();
        let addresses = node.addresses();
        config.dev_accounts = match self.dev_accounts {
            Some(n) => addresses[..n.min(addresses.len())].to_vec(),
            None => addresses,
        };
        let manifest_path = dir.path().join(format!("{CHAIN_ID}.json"));
        let report = Deployer::new(
            http_provider(&node.endpoint(), Some(keys[0].clone())).expect("provider"),
            node.endpoint(),
            keys[0].address(),
            Some(CHAIN_ID),
            manifest_path.clone(),
            config,
        )
        .await
        .expect("connect to anvil")
        .run()
        .await
        .expect("deploy Nest");
        let addresses = NestAddresses::from_manifest(&report.manifest).expect("addresses");
        let seed = if self.seeded {
            Some(
                seed_demo(&node.endpoint(), &addresses, &keys)
                    .await
                    .expect("seed")
                    .expect("a fresh chain is seeded"),
            )
        } else {
            None
        };
        TestChain {
            node,
            manifest: report.manifest,
            manifest_path,
            addresses,
            keys,
            seed,
            _dir: dir,
        }
    }
}

/// The pinned anvil on a free port with Nest deployed; stopped on drop.
#[derive(Debug)]
pub struct TestChain {
    /// The node.
    pub node: AnvilNode,
    /// What was deployed.
    pub manifest: DeploymentManifest,
    /// Where the manifest is written (for `nest` child processes).
    pub manifest_path: std::path::PathBuf,
    /// The contracts' addresses.
    pub addresses: NestAddresses,
    /// The dev accounts' keys, in anvil's order (account 0 deployed and mints).
    pub keys: Vec<PrivateKeySigner>,
    /// The demo data, when seeded.
    pub seed: Option<SeedReport>,
    _dir: tempfile::TempDir,
}

impl TestChain {
    /// How to start one.
    pub fn builder() -> TestChainBuilder {
        TestChainBuilder::default()
    }

    /// Anvil with default options, Nest deployed, not seeded.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// The RPC endpoint.
    pub fn endpoint(&self) -> Url {
        self.node.endpoint()
    }

    /// A provider that signs with dev account `account`.
    pub fn provider(&self, account: usize) -> DynProvider {
        http_provider(&self.endpoint(), Some(self.keys[account].clone())).expect("provider")
    }

    /// A provider without a signer.
    pub fn reader(&self) -> DynProvider {
        http_provider(&self.endpoint(), None).expect("provider")
    }

    /// The first block of the deployment (where indexing starts).
    pub fn start_block(&self) -> u64 {
        self.manifest
            .contracts
            .values()
            .map(|c| c.deploy_block)
            .min()
            .unwrap_or(0)
    }

    /// The demo data (panics unless built `seeded()`).
    pub fn seed(&self) -> &SeedReport {
        self.seed.as_ref().expect("the chain was started seeded()")
    }

    /// Turns anvil's automine on or off.
    pub async fn automine(&self, on: bool) {
        self.reader()
            .anvil_set_auto_mine(on)
            .await
            .expect("anvil_setAutomine");
    }

    /// The later of the head's timestamp and the wall clock, in seconds.
    pub async fn now(&self) -> u64 {
        let block = self
            .reader()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .expect("block")
            .expect("latest");
        block.header.timestamp.max(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_secs(),
        )
    }

    /// Mints `count` NFTs to `to` (account 0 is the minter); returns their ids.
    pub async fn mint(&self, to: Address, count: usize) -> Vec<U256> {
        let minter = self.provider(0);
        let nft = NestNFT::new(self.addresses.nft, &minter);
        let first = nft.nextTokenId().call().await.expect("next id");
        let uris: Vec<String> = (0..count).map(|i| format!("ipfs://test/{i}")).collect();
        send(&minter, nft.mintBatch(to, uris).into_transaction_request()).await;
        (0..count as u64).map(|i| first + U256::from(i)).collect()
    }

    /// Sends `wei` from account 0 to `to`.
    pub async fn fund(&self, to: Address, wei: U256) {
        send_value(&self.provider(0), to, wei).await;
    }

    /// The balance of `who`, in wei.
    pub async fn balance(&self, who: Address) -> U256 {
        self.reader().get_balance(who).await.expect("balance")
    }
}

/// Sends `tx` and waits for a successful receipt (a revert fails the test).
pub async fn send(provider: &DynProvider, tx: TransactionRequest) -> TransactionReceipt {
    let receipt = provider
        .send_transaction(tx)
        .await
        .expect("send")
        .with_timeout(Some(Duration::from_secs(30)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(
        receipt.status(),
        "transaction reverted: {}",
        receipt.transaction_hash
    );
    receipt
}

/// Sends `value` wei to `to`.
pub async fn send_value(provider: &DynProvider, to: Address, value: U256) {
    send(
        provider,
        TransactionRequest::default().with_to(to).with_value(value),
    )
    .await;
}

/// `n` ether in wei.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}
