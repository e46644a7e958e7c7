//! Deploying and wiring Nest's contracts, idempotently, with a manifest of what is deployed.
//!
//! Order: forwarder, token, timelock, governor, NFT, marketplace. Then the wiring: the governor
//! may propose to and cancel on the timelock, anyone may execute, the NFT's and marketplace's
//! admin roles move to the timelock (the DAO), the deployer gives up every admin role, and on
//! development chains governance tokens go to the dev accounts.
//!
//! Re-running skips every contract whose manifest entry matches the current artifact and
//! constructor arguments and still has code on chain; wiring steps check on-chain state first.

pub use nest_abis::NestAddresses;

use crate::{
    error::{ChainError, Result},
    manifest::{DeployedContract, DeploymentManifest},
    provider::redact,
};
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::SolConstructor,
};
use nest_abis::{NestGovernor, NestMarketplace, NestNFT, NestTimelock, NestToken};
use std::path::PathBuf;
use tracing::{info, warn};
use url::Url;

/// `DEFAULT_ADMIN_ROLE` of OpenZeppelin's AccessControl.
pub const DEFAULT_ADMIN_ROLE: B256 = B256::ZERO;

/// Parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentConfig {
    /// Minimum delay of the timelock, seconds.
    pub timelock_min_delay: u64,
    /// Governor voting delay, seconds (the token's clock is timestamps).
    pub voting_delay: u64,
    /// Governor voting period, seconds.
    pub voting_period: u32,
    /// Votes needed to propose, in token units (wei).
    pub proposal_threshold: U256,
    /// Quorum as a percentage of the total supply.
    pub quorum_percent: u64,
    /// Total NEST supply, minted to the deployer.
    pub token_supply: U256,
    /// Marketplace platform fee, basis points.
    pub marketplace_fee_bps: u16,
    /// Default NFT royalty, basis points (to the treasury).
    pub default_royalty_bps: u16,
    /// Who receives fees and default royalties; `None` means the timelock (the DAO).
    pub treasury: Option<Address>,
    /// Who may pause the marketplace; `None` means the deployer.
    pub guardian: Option<Address>,
    /// Who may mint NFTs; `None` means the deployer.
    pub minter: Option<Address>,
    /// ERC-20 payment tokens to allow-list besides ETH; the NEST token is always allowed.
    pub extra_payment_tokens: Vec<Address>,
    /// Development accounts that receive NEST (dev chains).
    pub dev_accounts: Vec<Address>,
    /// NEST each dev account receives.
    pub dev_token_amount: U256,
}

impl DeploymentConfig {
    /// Short delays for local development and tests.
    pub fn dev() -> Self {
        Self {
            timelock_min_delay: 3_600,
            voting_delay: 1,
            voting_period: 3 * 24 * 3_600,
            proposal_threshold: U256::ZERO,
            quorum_percent: 4,
            token_supply: U256::from(100_000_000u64) * U256::from(10u64).pow(U256::from(18)),
            marketplace_fee_bps: 250,
            default_royalty_bps: 500,
            treasury: None,
            guardian: None,
            minter: None,
            extra_payment_tokens: Vec::new(),
            dev_accounts: Vec::new(),
            dev_token_amount: U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18)),
        }
    }

    /// Delays a live DAO would use.
    pub fn production() -> Self {
        Self {
            timelock_min_delay: 2 * 24 * 3_600,
            voting_delay: 24 * 3_600,
            voting_period: 7 * 24 * 3_600,
            proposal_threshold: U256::from(100_000u64) * U256::from(10u64).pow(U256::from(18)),
            ..Self::dev()
        }
    }
}

/// What a deployment run did.
#[derive(Debug, Clone)]
pub struct DeployReport {
    /// The manifest after the run.
    pub manifest: DeploymentManifest,
    /// Contracts deployed in this run.
    pub deployed: Vec<String>,
    /// Contracts already deployed and matching, skipped.
    pub skipped: Vec<String>,
    /// Wiring steps carried out in this run.
    pub wired: Vec<String>,
}

/// Deploys and wires the Nest contracts on one chain.
#[derive(Debug)]
pub struct Deployer {
    provider: DynProvider,
    url: Url,
    deployer: Address,
    chain_id: u64,
    manifest_path: PathBuf,
    config: DeploymentConfig,
}

impl Deployer {
    /// A deployer sending from `deployer` through `provider` (which must hold its key), writing
    /// the manifest to `manifest_path`. Fails when the node's chain id is not `expected_chain_id`
    /// (if given) or the manifest belongs to another chain.
    pub async fn new(
        provider: DynProvider,
        url: Url,
        deployer: Address,
        expected_chain_id: Option<u64>,
        manifest_path: PathBuf,
        config: DeploymentConfig,
    ) -> Result<Self> {
        let chain_id = crate::provider::chain_id(&provider, &url).await?;
        if let Some(expected) = expected_chain_id
            && expected != chain_id
        {
            return Err(ChainError::WrongChain {
                expected,
                actual: chain_id,
            });
        }
        if let Some(existing) = DeploymentManifest::load(&manifest_path)?
            && existing.chain_id != chain_id
        {
            return Err(ChainError::ManifestChainMismatch {
                path: manifest_path,
                manifest: existing.chain_id,
                node: chain_id,
            });
        }
        Ok(Self {
            provider,
            url,
            deployer,
            chain_id,
            manifest_path,
            config,
        })
    }

    /// The chain id of the node.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Deploys what is missing or outdated, wires everything, and returns what it did.
    pub async fn run(&self) -> Result<DeployReport> {
        let mut manifest = match DeploymentManifest::load(&self.manifest_path)? {
            Some(m) => m,
            None => DeploymentManifest::new(self.chain_id, self.deployer),
        };
        let mut report = DeployReport {
            manifest: manifest.clone(),
            deployed: Vec::new(),
            skipped: Vec::new(),
            wired: Vec::new(),
        };
        let cfg = &self.config;

        let forwarder = self
            .ensure("NestForwarder", Bytes::new(), &mut manifest, &mut report)
            .await?;
        let token_args = NestToken::constructorCall {
            recipient: self.deployer,
            initialSupply: cfg.token_supply,
        }
        .abi_encode();
        let token = self
            .ensure("NestToken", token_args.into(), &mut manifest, &mut report)
            .await?;

        let timelock_args: Bytes = NestTimelock::constructorCall {
            minDelay: U256::from(cfg.timelock_min_delay),
            proposers: Vec::new(),
            executors: vec![Address::ZERO],
            admin: self.deployer,
        }
        .abi_encode()
        .into();
        let governor_args = |timelock: Address| -> Bytes {
            NestGovernor::constructorCall {
                token,
                timelock,
                initialVotingDelay: alloy::primitives::Uint::<48, 1>::from(cfg.voting_delay),
                initialVotingPeriod: cfg.voting_period,
                initialProposalThreshold: cfg.proposal_threshold,
                quorumNumeratorValue: U256::from(cfg.quorum_percent),
            }
            .abi_encode()
            .into()
        };
        // The governor can only be (re)wired while the deployer still administers the timelock;
        // if the governor must change and the timelock is already handed over, replace both.
        let mut force_timelock = false;
        if let Some(existing) = manifest.address("NestTimelock")
            && self
                .matches(&manifest, "NestTimelock", &timelock_args)
                .await?
            && !self
                .matches(&manifest, "NestGovernor", &governor_args(existing))
                .await?
            && !self
                .has_role(existing, DEFAULT_ADMIN_ROLE, self.deployer)
                .await?
        {
            warn!("the governor changed but the timelock is already handed over: redeploying both");
            force_timelock = true;
        }
        let timelock = if force_timelock {
            self.deploy("NestTimelock", timelock_args, &mut manifest, &mut report)
                .await?
        } else {
            self.ensure("NestTimelock", timelock_args, &mut manifest, &mut report)
                .await?
        };
        let governor = self
            .ensure(
                "NestGovernor",
                governor_args(timelock),
                &mut manifest,
                &mut report,
            )
            .await?;

        let treasury = cfg.treasury.unwrap_or(timelock);
        let guardian = cfg.guardian.unwrap_or(self.deployer);
        let minter = cfg.minter.unwrap_or(self.deployer);
        let nft_args = NestNFT::constructorCall {
            name_: "Nest".into(),
            symbol_: "NEST-NFT".into(),
            admin: self.deployer,
            minter,
            trustedForwarder: forwarder,
            defaultRoyaltyReceiver: treasury,
            defaultRoyaltyBps: alloy::primitives::Uint::<96, 2>::from(cfg.default_royalty_bps),
        }
        .abi_encode();
        let nft = self
            .ensure("NestNFT", nft_args.into(), &mut manifest, &mut report)
            .await?;
        let marketplace_args = NestMarketplace::constructorCall {
            admin: self.deployer,
            guardian,
            trustedForwarder: forwarder,
            treasury_: treasury,
            feeBps_: cfg.marketplace_fee_bps,
        }
        .abi_encode();
        let marketplace = self
            .ensure(
                "NestMarketplace",
                marketplace_args.into(),
                &mut manifest,
                &mut report,
            )
            .await?;

        // ---- wiring
        let timelock_c = NestTimelock::new(timelock, &self.provider);
        let proposer = timelock_c
            .PROPOSER_ROLE()
            .call()
            .await
            .map_err(|e| self.rpc(e))?;
        let canceller = timelock_c
            .CANCELLER_ROLE()
            .call()
            .await
            .map_err(|e| self.rpc(e))?;
        for (role, label) in [(proposer, "proposer"), (canceller, "canceller")] {
            if !self.has_role(timelock, role, governor).await? {
                let tx = timelock_c
                    .grantRole(role, governor)
                    .into_transaction_request();
                self.send(&format!("grant the governor the timelock {label} role"), tx)
                    .await?;
                report
                    .wired
                    .push(format!("timelock {label} role -> governor"));
            }
        }

        let marketplace_c = NestMarketplace::new(marketplace, &self.provider);
        let mut payment_tokens = vec![token];
        payment_tokens.extend(cfg.extra_payment_tokens.iter().copied());
        for payment_token in payment_tokens {
            let allowed = marketplace_c
                .isPaymentTokenAllowed(payment_token)
                .call()
                .await
                .map_err(|e| self.rpc(e))?;
            if allowed {
                continue;
            }
            if self
                .has_role(marketplace, DEFAULT_ADMIN_ROLE, self.deployer)
                .await?
            {
                let tx = marketplace_c
                    .setPaymentToken(payment_token, true)
                    .into_transaction_request();
                self.send("allow-list a payment token", tx).await?;
                report
                    .wired
                    .push(format!("payment token {payment_token} allowed"));
            } else {
                warn!(%payment_token, "payment token not allowed and the marketplace belongs to the DAO: propose setPaymentToken through governance");
            }
        }

        if cfg.dev_accounts.iter().any(|a| *a != self.deployer) {
            let token_c = NestToken::new(token, &self.provider);
            for account in cfg.dev_accounts.iter().filter(|a| **a != self.deployer) {
                let balance = token_c
                    .balanceOf(*account)
                    .call()
                    .await
                    .map_err(|e| self.rpc(e))?;
                if balance.is_zero() {
                    let tx = token_c
                        .transfer(*account, cfg.dev_token_amount)
                        .into_transaction_request();
                    self.send("distribute dev tokens", tx).await?;
                    report.wired.push(format!("NEST -> {account}"));
                }
            }
        }

        // Hand every admin role to the timelock, then renounce the deployer's.
        for (name, address) in [
            ("NestNFT", nft),
            ("NestMarketplace", marketplace),
            ("NestTimelock", timelock),
        ] {
            if name != "NestTimelock"
                && !self.has_role(address, DEFAULT_ADMIN_ROLE, timelock).await?
            {
                let tx = NestNFT::new(address, &self.provider)
                    .grantRole(DEFAULT_ADMIN_ROLE, timelock)
                    .into_transaction_request();
                self.send(&format!("grant the timelock admin of {name}"), tx)
                    .await?;
                report.wired.push(format!("{name} admin -> timelock"));
            }
            if self
                .has_role(address, DEFAULT_ADMIN_ROLE, self.deployer)
                .await?
            {
                let tx = NestNFT::new(address, &self.provider)
                    .renounceRole(DEFAULT_ADMIN_ROLE, self.deployer)
                    .into_transaction_request();
                self.send(&format!("renounce the deployer's admin of {name}"), tx)
                    .await?;
                report
                    .wired
                    .push(format!("{name} deployer admin renounced"));
            }
        }

        report.manifest = manifest;
        Ok(report)
    }

    /// Deploys `name` unless the manifest's entry matches and has code on chain.
    async fn ensure(
        &self,
        name: &str,
        args: Bytes,
        manifest: &mut DeploymentManifest,
        report: &mut DeployReport,
    ) -> Result<Address> {
        if self.matches(manifest, name, &args).await? {
            info!(name, "already deployed, skipping");
            report.skipped.push(name.to_string());
            return Ok(manifest.require(name)?);
        }
        self.deploy(name, args, manifest, report).await
    }

    /// True when the manifest's entry for `name` was built from the current artifact with
    /// `args` and the address still holds code.
    async fn matches(
        &self,
        manifest: &DeploymentManifest,
        name: &str,
        args: &Bytes,
    ) -> Result<bool> {
        let Some(entry) = manifest.contracts.get(name) else {
            return Ok(false);
        };
        let artifact = artifact(name)?;
        if entry.artifact_hash != artifact.creation_code_hash() || &entry.constructor_args != args {
            return Ok(false);
        }
        let code = self
            .provider
            .get_code_at(entry.address)
            .await
            .map_err(|e| self.rpc(e))?;
        Ok(!code.is_empty())
    }

    async fn deploy(
        &self,
        name: &str,
        args: Bytes,
        manifest: &mut DeploymentManifest,
        report: &mut DeployReport,
    ) -> Result<Address> {
        let artifact = artifact(name)?;
        let mut code = artifact.bytecode.object.to_vec();
        code.extend_from_slice(&args);
        let tx = TransactionRequest::default().with_deploy_code(code);
        let receipt = self.send(&format!("deploy {name}"), tx).await?;
        let address = receipt
            .contract_address
            .ok_or_else(|| ChainError::Transaction {
                step: format!("deploy {name}"),
                message: "the receipt has no contract address".into(),
            })?;
        manifest.contracts.insert(
            name.to_string(),
            DeployedContract {
                address,
                deploy_block: receipt.block_number.unwrap_or_default(),
                tx_hash: receipt.transaction_hash,
                artifact_hash: artifact.creation_code_hash(),
                constructor_args: args,
            },
        );
        manifest.deployer = self.deployer;
        manifest.save(&self.manifest_path)?;
        info!(name, %address, block = receipt.block_number, "deployed");
        report.deployed.push(name.to_string());
        Ok(address)
    }

    /// Sends `tx` from the deployer after checking it can pay, and waits for a successful receipt.
    async fn send(&self, step: &str, tx: TransactionRequest) -> Result<TransactionReceipt> {
        let tx = tx.with_from(self.deployer);
        let gas =
            self.provider
                .estimate_gas(tx.clone())
                .await
                .map_err(|e| ChainError::Transaction {
                    step: step.to_string(),
                    message: format!("would fail: {e}"),
                })?;
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| self.rpc(e))?;
        let needed = U256::from(gas) * U256::from(fees.max_fee_per_gas);
        let balance = self
            .provider
            .get_balance(self.deployer)
            .await
            .map_err(|e| self.rpc(e))?;
        if balance < needed {
            return Err(ChainError::InsufficientFunds {
                deployer: self.deployer,
                balance,
                needed,
            });
        }
        let pending = self
            .provider
            .send_transaction(tx.with_gas_limit(gas))
            .await
            .map_err(|e| ChainError::Transaction {
                step: step.to_string(),
                message: e.to_string(),
            })?;
        let receipt = pending
            .get_receipt()
            .await
            .map_err(|e| ChainError::Transaction {
                step: step.to_string(),
                message: e.to_string(),
            })?;
        if !receipt.status() {
            return Err(ChainError::Transaction {
                step: step.to_string(),
                message: format!("reverted in {}", receipt.transaction_hash),
            });
        }
        Ok(receipt)
    }

    async fn has_role(&self, contract: Address, role: B256, account: Address) -> Result<bool> {
        // Every Nest contract with roles uses OpenZeppelin's AccessControl ABI.
        NestNFT::new(contract, &self.provider)
            .hasRole(role, account)
            .call()
            .await
            .map_err(|e| self.rpc(e))
    }

    fn rpc(&self, e: impl std::fmt::Display) -> ChainError {
        ChainError::Rpc {
            url: redact(&self.url),
            message: e.to_string(),
        }
    }
}

fn artifact(name: &str) -> Result<nest_abis::ContractArtifact> {
    nest_abis::artifact(name).map_err(|e| ChainError::Layout(e.to_string()))
}

/// keccak256 of a role name, as OpenZeppelin defines roles.
pub fn role(name: &str) -> B256 {
    keccak256(name.as_bytes())
}
