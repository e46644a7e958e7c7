//! `nest deploy`: deploy and wire the contracts on any EVM chain.

use crate::bootstrap::RpcArgs;
use clap::Args;
use eyre::bail;
use nest_chain::{
    Deployer, DeployerKey, DeploymentConfig, ProjectLayout, http_provider, provider::ANVIL_CHAIN_ID,
};
use std::path::PathBuf;

/// Arguments of `nest deploy`.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Deployer private key (hex).
    #[arg(long, env = "NEST_DEPLOYER_KEY", hide_env_values = true)]
    deployer_key: Option<String>,
    /// Encrypted JSON keystore holding the deployer key.
    #[arg(long, conflicts_with = "dev")]
    keystore: Option<PathBuf>,
    /// Password of the keystore.
    #[arg(
        long,
        env = "NEST_KEYSTORE_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    keystore_password: String,
    /// Use anvil's first dev account (only on chain 31337).
    #[arg(long)]
    dev: bool,
    /// Use production governance delays instead of development ones.
    #[arg(long)]
    production: bool,
    /// Print the manifest as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: DeployArgs) -> eyre::Result<()> {
    let key = if args.dev {
        DeployerKey::DevAccount
    } else if let Some(path) = args.keystore {
        DeployerKey::Keystore {
            path,
            password: args.keystore_password,
        }
    } else if let Some(hex) = args.deployer_key {
        DeployerKey::PrivateKey(hex)
    } else {
        bail!("no deployer key: set NEST_DEPLOYER_KEY, pass --keystore FILE, or --dev on anvil");
    };
    let signer = key.signer()?;
    let deployer_address = signer.address();
    let rpc_url = args.rpc.url()?;
    let provider = http_provider(&rpc_url, Some(signer))?;
    let chain_id = nest_chain::provider::chain_id(&provider, &rpc_url).await?;
    if key.is_dev() && chain_id != ANVIL_CHAIN_ID {
        bail!(
            "--dev uses a public key and is only allowed on chain {ANVIL_CHAIN_ID}, this node is chain {chain_id}"
        );
    }
    let manifest_path = match args.rpc.manifest {
        Some(path) => path,
        None => ProjectLayout::discover()?.manifest_path(chain_id),
    };
    let mut config = if args.production {
        DeploymentConfig::production()
    } else {
        DeploymentConfig::dev()
    };
    if chain_id == ANVIL_CHAIN_ID {
        use alloy::providers::Provider;
        config.dev_accounts = provider.get_accounts().await.unwrap_or_default();
    }
    let deployer = Deployer::new(
        provider,
        rpc_url,
        deployer_address,
        args.rpc.chain_id,
        manifest_path.clone(),
        config,
    )
    .await?;
    let report = deployer.run().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.manifest)?);
    } else {
        println!("manifest: {}", manifest_path.display());
        for (name, contract) in &report.manifest.contracts {
            let state = if report.deployed.contains(name) {
                "deployed"
            } else {
                "unchanged"
            };
            println!(
                "{name:16} {} ({state}, block {})",
                contract.address, contract.deploy_block
            );
        }
        for step in &report.wired {
            println!("wired: {step}");
        }
    }
    Ok(())
}
