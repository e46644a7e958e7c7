//! `nest api`: the HTTP API as its own process.

use alloy::primitives::Address;
use clap::Args;
use eyre::bail;
use nest_api::{ApiConfig, AppState};
use nest_chain::{DeploymentManifest, NestAddresses, ProjectLayout, http_provider};
use nest_keys::{NestSigner, SecretString, TokenSigner};
use nest_relayer::{RelayChain, RelayIntake, RelayerConfig};
use nest_store::{Store, StoreConfig};
use std::{net::SocketAddr, path::PathBuf};
use tracing::{info, warn};
use url::Url;

/// Arguments of `nest api`.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "NEST_API_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The public origin of the dApp (SIWE domain and URI are checked against it).
    #[arg(long, env = "NEST_API_ORIGIN", default_value = "http://localhost:8080")]
    origin: String,
    /// JSON-RPC endpoint (checked by /readyz).
    #[arg(long, env = "NEST_RPC_URL")]
    rpc_url: Url,
    /// Deployment manifest (default: deployments/<chain-id>.json).
    #[arg(long, env = "NEST_MANIFEST")]
    manifest: Option<PathBuf>,
    /// Redis for the shared cache, rate limits and change notices (NEST_REDIS_URL).
    #[arg(long, env = "NEST_REDIS_URL")]
    redis_url: Option<String>,
    /// Relayer accounts (comma-separated addresses) whose funds pay for gasless requests: when
    /// given, the api also serves the relay intake (POST /v1/relay, GET /v1/relay/{id}) on its
    /// own origin, and `nest relayer` (same store) submits what it accepts.
    #[arg(long, env = "NEST_RELAY_ACCOUNTS", value_delimiter = ',')]
    relay_accounts: Vec<Address>,
    /// Fee cap, gwei per gas, the intake checks the relayer accounts' funds against (as
    /// `nest relayer`'s).
    #[arg(long, env = "NEST_RELAYER_MAX_FEE_GWEI", default_value_t = 500)]
    relay_max_fee_gwei: u64,
}

/// The key that signs session tokens: `NEST_SESSION_KEY` (hex), else an ephemeral one.
pub(crate) fn session_tokens() -> eyre::Result<TokenSigner> {
    let signer = match std::env::var("NEST_SESSION_KEY") {
        Ok(hex) => NestSigner::from_private_key(&SecretString::from(hex))?,
        Err(_) => {
            warn!(
                "NEST_SESSION_KEY is not set: session tokens are signed by an ephemeral key (they end with this process, and other instances cannot verify them)"
            );
            NestSigner::from_local(alloy::signers::local::PrivateKeySigner::random())
        }
    };
    Ok(TokenSigner::new(signer))
}

/// The addresses of a manifest, for the api.
pub(crate) fn api_config(manifest: &DeploymentManifest, origin: &str) -> eyre::Result<ApiConfig> {
    Ok(ApiConfig::new(
        manifest.chain_id,
        NestAddresses::from_manifest(manifest)?,
        origin,
    ))
}

pub(crate) async fn run(args: ApiArgs) -> eyre::Result<()> {
    let Some(store_config) = StoreConfig::from_env()? else {
        bail!("no store: set NEST_MONGODB_URI (nest dev runs a local one for you)");
    };
    let provider = http_provider(&args.rpc_url, None)?;
    let chain_id = nest_chain::provider::chain_id(&provider, &args.rpc_url).await?;
    let manifest_path = match args.manifest {
        Some(path) => path,
        None => ProjectLayout::discover()?.manifest_path(chain_id),
    };
    let manifest = DeploymentManifest::load(&manifest_path)?
        .ok_or_else(|| eyre::eyre!("no deployment manifest at {}", manifest_path.display()))?;
    let store = Store::connect(store_config).await?;
    let relay = if args.relay_accounts.is_empty() {
        None
    } else {
        let mut config = RelayerConfig::new(chain_id, NestAddresses::from_manifest(&manifest)?);
        config.max_fee_per_gas = u128::from(args.relay_max_fee_gwei) * nest_relayer::config::GWEI;
        let chain = RelayChain::connect(config, http_provider(&args.rpc_url, None)?).await?;
        let intake = RelayIntake::new(chain, store.clone(), args.relay_accounts.clone()).await?;
        info!(accounts = ?args.relay_accounts, "serving the relay intake");
        Some(nest_relayer::router(intake))
    };
    let state = AppState::new(
        api_config(&manifest, &args.origin)?,
        store,
        session_tokens()?,
        args.redis_url.as_deref(),
        Some(provider),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    info!(listen = %args.listen, "api listening");
    nest_api::serve(listener, nest_api::router(state, relay), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
