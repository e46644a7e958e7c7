//! `nest indexer [run|status|reindex]`: the indexer as its own process.

use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use nest_chain::{DeploymentManifest, NestAddresses, ProjectLayout, http_provider};
use nest_indexer::{Indexer, IndexerConfig};
use nest_store::{Store, StoreConfig};
use std::path::PathBuf;
use url::Url;

/// Arguments of `nest indexer`.
#[derive(Debug, Args)]
pub(crate) struct IndexerArgs {
    #[command(subcommand)]
    command: Option<IndexerCommand>,
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "NEST_RPC_URL", global = true)]
    rpc_url: Option<Url>,
    /// Deployment manifest (default: deployments/<chain-id>.json).
    #[arg(long, env = "NEST_MANIFEST", global = true)]
    manifest: Option<PathBuf>,
    /// Blocks to stay behind the head.
    #[arg(long, default_value_t = 0, global = true)]
    confirmations: u64,
    /// WebSocket endpoint for new-head notifications (default: the RPC URL with ws/wss; the
    /// indexer polls when the node offers none).
    #[arg(long, env = "NEST_WS_URL", global = true)]
    ws_url: Option<Url>,
    /// Poll for new heads instead of subscribing.
    #[arg(long, global = true)]
    poll: bool,
    #[command(flatten)]
    metadata: crate::metadata::MetadataArgs,
}

#[derive(Debug, Subcommand)]
enum IndexerCommand {
    /// Backfill, then follow the chain until Ctrl-C (the default).
    Run,
    /// Print per-contract progress and counts.
    Status,
    /// Rebuild projections from the stored raw events (no refetching).
    Reindex {
        /// Replay from this block (projections are rolled back through the undo log).
        #[arg(long)]
        from: Option<u64>,
    },
}

pub(crate) async fn run(args: IndexerArgs) -> eyre::Result<()> {
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
    let ws_url = match (args.poll, args.ws_url.clone()) {
        (true, _) => None,
        (false, Some(url)) => Some(url),
        (false, None) => nest_indexer::ws_url_for(&rpc_url),
    };
    let config = indexer_config(&manifest, args.confirmations, ws_url)?;
    let metadata_config = args.metadata.config()?;
    let store = Store::connect(store_config).await?;
    let indexer = Indexer::new(config, store.clone(), provider).await?;
    match args.command.unwrap_or(IndexerCommand::Run) {
        IndexerCommand::Run => {
            let shutdown = crate::shutdown::Shutdown::install()?;
            // Metadata is resolved beside indexing, from the store's durable queue.
            let resolver = nest_indexer::MetadataResolver::new(store, metadata_config)?
                .with_notices(indexer.notice_sender());
            let resolving = {
                let shutdown = shutdown.clone();
                tokio::spawn(
                    async move { resolver.run(async move { shutdown.wait().await }).await },
                )
            };
            indexer.run(async move { shutdown.wait().await }).await?;
            let _ = resolving.await;
        }
        IndexerCommand::Status => {
            let status = indexer.status().await?;
            println!(
                "chain {}  head {}  indexed {}  lag {} blocks  dead letters {}",
                status.chain_id,
                status.head,
                status
                    .indexed
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into()),
                status.lag_blocks,
                status.dead_letters
            );
            for (name, events) in status.events {
                println!("  {name:16} {events:>10} events");
            }
        }
        IndexerCommand::Reindex { from } => {
            let replayed = indexer.reindex(from).await.wrap_err("reindex")?;
            println!("replayed {replayed} events");
        }
    }
    Ok(())
}

/// The indexer configuration for a deployment: its addresses, from its earliest deploy block,
/// following new heads through `ws_url` when given.
pub(crate) fn indexer_config(
    manifest: &DeploymentManifest,
    confirmations: u64,
    ws_url: Option<Url>,
) -> eyre::Result<IndexerConfig> {
    let addresses = NestAddresses::from_manifest(manifest)?;
    let start = manifest
        .contracts
        .values()
        .map(|c| c.deploy_block)
        .min()
        .unwrap_or(0);
    let mut config = IndexerConfig::new(manifest.chain_id, addresses, start);
    config.confirmations = confirmations;
    config.ws_url = ws_url;
    Ok(config)
}
