//! `nest relayer`: the relayer's submitter as its own process, optionally serving the intake.

use clap::Args;
use eyre::{WrapErr, bail};
use nest_chain::{DeploymentManifest, NestAddresses, ProjectLayout, http_provider};
use nest_keys::{NestSigner, SignerConfig};
use nest_relayer::{GovernanceKeeper, RelayChain, RelayIntake, RelaySubmitter, RelayerConfig};
use nest_store::{Store, StoreConfig};
use std::{net::SocketAddr, path::PathBuf};
use tracing::info;
use url::Url;

/// Arguments of `nest relayer`.
#[derive(Debug, Args)]
pub(crate) struct RelayerArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "NEST_RPC_URL")]
    rpc_url: Option<Url>,
    /// Deployment manifest (default: deployments/<chain-id>.json).
    #[arg(long, env = "NEST_MANIFEST")]
    manifest: Option<PathBuf>,
    /// Also serve the intake (POST /v1/relay, GET /v1/relay/{id}) on this address.
    #[arg(long, env = "NEST_RELAYER_LISTEN")]
    listen: Option<SocketAddr>,
    /// Relayer accounts: a JSON file holding an array of signer configurations (each as
    /// nest-keys reads one, e.g. `{"backend": "aws-kms", "key_id": "..."}`). Default: the one
    /// signer configured by NEST_SIGNER and its variables.
    #[arg(long, env = "NEST_RELAYER_SIGNERS")]
    signers: Option<PathBuf>,
    /// Name of this instance (its leases on relayer accounts are held in this name; a restarted
    /// instance with the same name resumes at once). Default: a random one.
    #[arg(long, env = "NEST_RELAYER_INSTANCE")]
    instance_id: Option<String>,
    /// Blocks on top of a job's block before it is confirmed.
    #[arg(long, env = "NEST_RELAYER_CONFIRMATIONS", default_value_t = 2)]
    confirmations: u64,
    /// WebSocket endpoint for new-head notifications, so receipts are looked for as soon as a
    /// block arrives (default: the RPC URL with ws/wss; the relayer polls when the node offers
    /// none).
    #[arg(long, env = "NEST_WS_URL")]
    ws_url: Option<Url>,
    /// Poll for new heads instead of subscribing.
    #[arg(long)]
    poll: bool,
    /// Seconds after which a transaction not mined is replaced with higher fees, even when no
    /// block came (idle chains); blocks count too (3 by default).
    #[arg(long, env = "NEST_RELAYER_STUCK_AFTER_SECS", default_value_t = 30)]
    stuck_after_secs: u64,
    /// Fee cap, gwei per gas.
    #[arg(long, env = "NEST_RELAYER_MAX_FEE_GWEI", default_value_t = 500)]
    max_fee_gwei: u64,
    /// Seconds between the governance keeper's passes (queue and execute passed proposals,
    /// read from the indexer's projection in the store); 0 turns the keeper off.
    #[arg(long, env = "NEST_KEEPER_INTERVAL_SECS", default_value_t = 5)]
    keeper_interval_secs: u64,
    /// Serve `/metrics` (Prometheus) on this admin address (not served by default).
    #[arg(long, env = "NEST_RELAYER_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

/// The relayer accounts: the file's signer configurations, else the one from `NEST_SIGNER*`.
async fn load_signers(file: Option<&PathBuf>) -> eyre::Result<Vec<NestSigner>> {
    let configs: Vec<SignerConfig> = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).wrap_err_with(|| {
                format!(
                    "{}: expected a JSON array of signer configurations",
                    path.display()
                )
            })?
        }
        None => match SignerConfig::from_env()? {
            Some(config) => vec![config],
            None => bail!(
                "no relayer account: set NEST_SIGNER (and its variables, see keys/README.md) or NEST_RELAYER_SIGNERS"
            ),
        },
    };
    let mut signers = Vec::new();
    for config in &configs {
        signers.push(NestSigner::from_config(config).await?);
    }
    Ok(signers)
}

pub(crate) async fn run(args: RelayerArgs) -> eyre::Result<()> {
    let shutdown = crate::shutdown::Shutdown::install()?;
    let Some(rpc_url) = args.rpc_url.clone() else {
        bail!("no RPC endpoint: pass --rpc-url or set NEST_RPC_URL");
    };
    let Some(store_config) = StoreConfig::from_env()? else {
        bail!("no store: set NEST_MONGODB_URI (nest dev runs a local one for you)");
    };
    let provider = http_provider(&rpc_url, None)?;
    let chain_id = nest_chain::provider::chain_id(&provider, &rpc_url).await?;
    let manifest_path = match args.manifest.clone() {
        Some(path) => path,
        None => ProjectLayout::discover()?.manifest_path(chain_id),
    };
    let manifest = DeploymentManifest::load(&manifest_path)?
        .ok_or_else(|| eyre::eyre!("no deployment manifest at {}", manifest_path.display()))?;
    let mut config = RelayerConfig::new(chain_id, NestAddresses::from_manifest(&manifest)?);
    config.confirmations = args.confirmations;
    config.stuck_after = std::time::Duration::from_secs(args.stuck_after_secs.max(1));
    config.ws_url = match (args.poll, args.ws_url.clone()) {
        (true, _) => None,
        (false, Some(url)) => Some(url),
        (false, None) => nest_rpc::ws_url_for(&rpc_url),
    };
    config.max_fee_per_gas = u128::from(args.max_fee_gwei) * nest_relayer::config::GWEI;
    if let Some(id) = args.instance_id.clone() {
        config.instance_id = id;
    }
    let metrics = match args.metrics_listen {
        Some(addr) => {
            let stop = shutdown.clone();
            let server =
                crate::metrics::serve(addr, "relayer", async move { stop.wait().await }).await?;
            nest_relayer::metrics::describe();
            Some(server)
        }
        None => None,
    };
    let signers = load_signers(args.signers.as_ref()).await?;
    let store = Store::connect(store_config).await?;
    let chain = RelayChain::connect(config, provider).await?;
    let submitter = RelaySubmitter::new(chain.clone(), store.clone(), signers).await?;
    info!(accounts = ?submitter.addresses(), "relayer accounts ready");
    let keeper = match args.keeper_interval_secs {
        0 => None,
        secs => Some((
            GovernanceKeeper::new(chain.clone(), store.clone(), submitter.addresses())?,
            std::time::Duration::from_secs(secs),
        )),
    };

    let server = match args.listen {
        Some(addr) => {
            let stop = shutdown.clone();
            let intake = RelayIntake::new(chain, store, submitter.addresses()).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .wrap_err_with(|| format!("cannot listen on {addr}"))?;
            info!(%addr, "relay intake listening");
            Some(tokio::spawn(async move {
                axum::serve(listener, nest_relayer::standalone_router(intake))
                    .with_graceful_shutdown(async move { stop.wait().await })
                    .await
            }))
        }
        None => None,
    };
    let keep = async {
        if let Some((keeper, interval)) = &keeper {
            keeper.run(*interval, shutdown.wait()).await;
        }
    };
    let submit = submitter.run(shutdown.wait());
    let ((), submitted) = tokio::join!(keep, submit);
    submitted?;
    if let Some(server) = server {
        server.await??;
    }
    if let Some(server) = metrics {
        server.await??;
    }
    Ok(())
}
