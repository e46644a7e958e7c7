//! `nest relayer`: the relayer's submitter as its own process, optionally serving the intake.

use crate::bootstrap::{Environment, RpcArgs, SignerArgs, StoreArgs, Tasks};
use clap::Args;
use eyre::{WrapErr, bail};
use nest_keys::{NestSigner, SignerConfig};
use nest_relayer::{GovernanceKeeper, RelayChain, RelayIntake, RelaySubmitter, RelayerConfig};
use std::{net::SocketAddr, path::PathBuf};
use tracing::info;
use url::Url;

/// Arguments of `nest relayer`.
#[derive(Debug, Args)]
pub(crate) struct RelayerArgs {
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
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    signer: SignerArgs,
}

/// The relayer accounts: the file's signer configurations, else the one from `NEST_SIGNER*`.
async fn load_signers(
    file: Option<&PathBuf>,
    signer: &SignerArgs,
) -> eyre::Result<Vec<NestSigner>> {
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
        None => match signer.config()? {
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
    let tasks = Tasks::install()?;
    let Environment {
        rpc_url,
        provider,
        chain_id,
        addresses,
        store,
        ..
    } = Environment::init(&args.rpc, &args.store).await?;
    let mut config = RelayerConfig::new(chain_id, addresses);
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
    if let Some(addr) = args.metrics_listen {
        crate::metrics::spawn(&tasks, addr, "relayer").await?;
        nest_relayer::metrics::describe();
    }
    let signers = load_signers(args.signers.as_ref(), &args.signer).await?;
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

    if let Some(addr) = args.listen {
        let intake = RelayIntake::new(chain, store, submitter.addresses()).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("cannot listen on {addr}"))?;
        info!(%addr, "relay intake listening");
        let stopped = tasks.stopped();
        tasks.spawn("relay-intake", async move {
            axum::serve(listener, nest_relayer::standalone_router(intake))
                .with_graceful_shutdown(stopped)
                .await
        });
    }
    spawn_relayer(&tasks, submitter, keeper);
    tasks.wait().await
}

/// Runs the submitter and, when given, the governance keeper (every `interval`) as `tasks`.
pub(crate) fn spawn_relayer(
    tasks: &Tasks,
    submitter: RelaySubmitter,
    keeper: Option<(GovernanceKeeper, std::time::Duration)>,
) {
    if let Some((keeper, interval)) = keeper {
        let stopped = tasks.stopped();
        tasks.spawn("keeper", async move {
            keeper.run(interval, stopped).await;
            Ok::<(), std::convert::Infallible>(())
        });
    }
    let stopped = tasks.stopped();
    tasks.spawn("submitter", async move { submitter.run(stopped).await });
}
