//! `nest indexer [run|status|reindex]`: the indexer as its own process.

use crate::bootstrap::{Environment, RedisArgs, RpcArgs, StoreArgs, Tasks};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use nest_abis::{DeploymentManifest, NestAddresses};
use nest_indexer::{Indexer, IndexerConfig};
use url::Url;

/// Arguments of `nest indexer`.
#[derive(Debug, Args)]
pub(crate) struct IndexerArgs {
    #[command(subcommand)]
    command: Option<IndexerCommand>,
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
    /// `run`: serve `/metrics` (Prometheus) on this admin address (not served by default).
    #[arg(long, env = "NEST_INDEXER_METRICS_LISTEN", global = true)]
    metrics_listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// Where `run` publishes its change notices for the api instances (their cache
    /// invalidation and live updates); without it, only in-process subscribers hear them.
    #[command(flatten)]
    redis: RedisArgs,
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
    // Installed before connecting, so a signal during start-up is not lost.
    let tasks = match args.command {
        None | Some(IndexerCommand::Run) => Some(Tasks::install()?),
        _ => None,
    };
    let Environment {
        rpc_url,
        provider,
        manifest,
        store,
        ..
    } = Environment::init(&args.rpc, &args.store).await?;
    let ws_url = match (args.poll, args.ws_url.clone()) {
        (true, _) => None,
        (false, Some(url)) => Some(url),
        (false, None) => nest_indexer::ws_url_for(&rpc_url),
    };
    let config = indexer_config(&manifest, args.confirmations, ws_url)?;
    let metadata_config = args.metadata.config()?;
    let indexer = Indexer::new(config, store.clone(), provider).await?;
    match args.command.unwrap_or(IndexerCommand::Run) {
        IndexerCommand::Run => {
            let Some(tasks) = tasks else {
                bail!("the stop signal was not installed");
            };
            if let Some(url) = &args.redis.redis_url {
                let bus = nest_api::bus::NoticeBus::redis(url)
                    .await
                    .wrap_err("cannot reach Redis (NEST_REDIS_URL)")?;
                carry_notices(&indexer, bus);
            }
            if let Some(addr) = args.metrics_listen {
                crate::metrics::spawn(&tasks, addr, "indexer").await?;
            }
            // Metadata is resolved beside indexing, from the store's durable queue.
            let resolver = nest_indexer::MetadataResolver::new(store, metadata_config)?
                .with_notices(indexer.notice_sender());
            let stopped = tasks.stopped();
            tasks.spawn("metadata", async move {
                resolver.run(stopped).await;
                Ok::<(), std::convert::Infallible>(())
            });
            let stopped = tasks.stopped();
            tasks.spawn("indexer", async move { indexer.run(stopped).await });
            tasks.wait().await?;
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

/// Carries `indexer`'s change notices onto `bus` (the api's: in-process, or Redis between
/// processes) until the indexer is dropped.
pub(crate) fn carry_notices(indexer: &Indexer, bus: nest_api::bus::NoticeBus) {
    let mut notices = indexer.subscribe();
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(n) => {
                    bus.publish(nest_api::bus::Notice {
                        kind: n.kind.to_string(),
                        key: n.key,
                    })
                    .await
                }
                // Fell behind: the missed documents' cache entries expire by their TTL.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "change notices dropped: subscriber lagged");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
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
