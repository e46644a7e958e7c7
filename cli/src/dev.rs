//! `nest dev`: the whole stack on one machine with embedded defaults.

use crate::{
    api::ApiBackends,
    bootstrap::{StoreArgs, Tasks},
};
use clap::Args;
use eyre::WrapErr;
use nest_chain::{
    AnvilNode, AnvilOptions, Deployer, DeploymentConfig, NestAddresses, ProjectLayout,
    http_provider, seed::seed_demo,
};
use nest_indexer::Indexer;
use nest_store::{LocalStoreServer, Store};
use tracing::info;

/// How often the governance keeper looks for proposals to queue or execute.
const KEEPER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Arguments of `nest dev`.
#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Port for anvil (default: a free one).
    #[arg(long)]
    anvil_port: Option<u16>,
    /// Port for the api (0: a free one).
    #[arg(long, default_value_t = 8080)]
    api_port: u16,
    /// Port for the local store server (default: a free one; ignored with NEST_MONGODB_URI).
    #[arg(long)]
    store_port: Option<u16>,
    /// Drop the database given by NEST_MONGODB_URI/NEST_MONGODB_DATABASE first (the local
    /// store is always reset, since every run starts a fresh chain).
    #[arg(long)]
    reset_store: bool,
    /// Do not create demo data.
    #[arg(long)]
    no_seed: bool,
    /// Start, deploy, seed, print, then exit (for smoke tests).
    #[arg(long)]
    exit_after_start: bool,
    /// Also start Prometheus (the shipped rules) and Alertmanager, alerts to the log and to
    /// `<state>/alerts.mbox`.
    #[arg(long)]
    monitoring: bool,
    /// Chain id of the dev chain.
    #[arg(long, default_value_t = nest_chain::provider::ANVIL_CHAIN_ID)]
    chain_id: u64,
    /// The store; without NEST_MONGODB_URI, a local server on the state folder.
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    api: ApiBackends,
    #[command(flatten)]
    metadata: crate::metadata::MetadataArgs,
}

pub(crate) async fn run(args: DevArgs) -> eyre::Result<()> {
    // Listen for Ctrl-C / SIGTERM before starting anything, so a signal that arrives during
    // start-up is not lost (the default action would kill us without stopping the children).
    let tasks = Tasks::install()?;
    // The metrics recorder first, so the indexer's business counters count the demo data too.
    let _ = nest_api::metrics::handle();
    let layout = ProjectLayout::discover()?;
    let state_dir = layout.state_dir();
    std::fs::create_dir_all(&state_dir)
        .wrap_err_with(|| format!("creating {}", state_dir.display()))?;
    // One `nest dev` per state folder: a second would find the store's files held.
    let mut dev_lock = DevLock::acquire(&state_dir)?;

    // The store: NEST_MONGODB_URI if given, else the local server on .nest/store.
    let (store_config, _local_store) = match args.store.config()? {
        Some(config) => (config, None),
        None => {
            let server =
                LocalStoreServer::start(&state_dir.join("store"), args.store_port.unwrap_or(0))?;
            (
                server.config(nest_store::config::DEFAULT_DATABASE),
                Some(server),
            )
        }
    };
    let mut store = Store::connect(store_config.clone()).await?;
    // Every run starts a fresh anvil, so data indexed from an earlier run's chain is stale.
    if _local_store.is_some() || args.reset_store {
        store.database().drop().await?;
        store = Store::connect(store_config.clone()).await?;
    } else if store
        .checkpoints()
        .get(args.chain_id, "nest")
        .await?
        .is_some()
    {
        eyre::bail!(
            "database {} already holds data of an earlier dev chain; pass --reset-store to drop it",
            store_config.database
        );
    }
    if _local_store.is_some() {
        // A crashed local writer frees its documents after 5 s instead of MongoDB's 60 s.
        store.set_transaction_lifetime(5).await?;
    }
    info!(config = ?store_config, "store ready");

    let anvil = AnvilNode::spawn(
        &layout.anvil_binary(),
        &AnvilOptions {
            port: args.anvil_port,
            chain_id: Some(args.chain_id),
            ..Default::default()
        },
    )?;
    let url = anvil.endpoint();
    info!(%url, pid = anvil.pid(), "anvil started");

    let keys = anvil.keys().to_vec();
    let deployer_key = keys
        .first()
        .cloned()
        .ok_or_else(|| eyre::eyre!("anvil has no dev accounts"))?;
    let deployer_address = deployer_key.address();
    let provider = http_provider(&url, Some(deployer_key))?;
    let mut config = DeploymentConfig::dev();
    config.dev_accounts = anvil.addresses();
    // A fresh anvil every run: the manifest lives in the local state folder, not deployments/.
    let manifest_path = state_dir.join("deployments").join("31337.json");
    let _ = std::fs::remove_file(&manifest_path);
    let deployer = Deployer::new(
        provider,
        url.clone(),
        deployer_address,
        None,
        manifest_path.clone(),
        config,
    )
    .await?;
    let report = deployer.run().await?;
    let addresses = NestAddresses::from_manifest(&report.manifest)?;
    let seeded = if args.no_seed {
        None
    } else {
        seed_demo(&url, &addresses, &keys).await?
    };

    println!("Nest dev stack is up");
    println!("  RPC URL        {url}");
    println!("  chain id       {}", deployer.chain_id());
    println!("  manifest       {}", manifest_path.display());
    println!(
        "  store          {}",
        nest_store::config::redact_uri(&store_config.uri)
    );
    for (name, contract) in &report.manifest.contracts {
        println!("  {name:15} {}", contract.address);
    }
    println!("  funded test accounts (10,000 ETH and 1,000,000 NEST each):");
    for (i, key) in keys.iter().enumerate() {
        println!(
            "    [{i}] {}  key 0x{}",
            key.address(),
            alloy::hex::encode(key.to_bytes())
        );
    }
    if let Some(seed) = &seeded {
        println!(
            "  demo data: NFTs {:?}, listing #{}, auction #{} (one bid), offer #{}, proposal {} in voting",
            seed.minted
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>(),
            seed.listing_id,
            seed.auction_id,
            seed.offer_id,
            seed.proposal_id
        );
    }
    // The indexer follows the chain into the store.
    let indexer = Indexer::new(
        crate::indexer::indexer_config(&report.manifest, 0, nest_indexer::ws_url_for(&url))?,
        store.clone(),
        http_provider(&url, None)?,
    )
    .await?;
    indexer.backfill(None).await?;
    while indexer.follow_step().await? > 0 {}
    let status = indexer.status().await?;
    println!(
        "  indexer        block {} indexed, {} events",
        status.indexed.unwrap_or_default(),
        status.events.iter().map(|(_, n)| n).sum::<u64>()
    );
    // Token metadata: what the seed minted is resolved before the api serves (a gallery at
    // once); later mints are resolved in the background.
    let resolver = nest_indexer::MetadataResolver::new(store.clone(), args.metadata.config()?)?
        .with_notices(indexer.notice_sender());
    let resolved = resolver.drain().await?;
    println!("  metadata       {resolved} tokens resolved");
    // The api, fed by the indexer's change notices.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.api_port)).await?;
    let api_addr = listener.local_addr()?;
    let origin = format!("http://localhost:{}", api_addr.port());
    let mut api_config = nest_api::ApiConfig::new(deployer.chain_id(), addresses, &origin);
    // The dApp, when built (scripts/dev builds it): served on the api's origin.
    let web_dir = layout.root().join("web").join("dist");
    let web_served = web_dir.join("index.html").is_file();
    if web_served {
        api_config.web = Some(crate::api::web_app(
            &web_dir,
            &api_config,
            Some(url.to_string()),
        )?);
    }
    let api_state = nest_api::AppState::new(
        api_config,
        store.clone(),
        args.api.sessions.tokens(&store, &tasks).await?,
        args.api.redis.redis_url.as_deref(),
        Some(http_provider(&url, None)?),
    )
    .await?;
    if let Some(seed) = &seeded {
        let nft = seed.minted.first().map(|token| (addresses.nft, *token));
        let social = nest_social::seed::seed_demo(api_state.social(), &keys, nft).await?;
        println!(
            "  social         {} profiles, {} posts and comments, {} likes (feed at /v1/social/feeds/global)",
            social.profiles, social.posts, social.likes
        );
    }
    crate::indexer::carry_notices(&indexer, api_state.bus().clone());
    // The relayer: anvil's last dev account pays for gasless requests; its intake is served by
    // the api (same origin for the frontend).
    let relay_account = keys
        .last()
        .cloned()
        .ok_or_else(|| eyre::eyre!("anvil has no dev accounts"))?;
    let mut relay_config = nest_relayer::RelayerConfig::new(deployer.chain_id(), addresses);
    // Receipts are tracked from anvil's new-head notifications, as the indexer follows them;
    // anvil mines only when transactions come, so a stuck one is not left waiting for blocks.
    relay_config.ws_url = nest_rpc::ws_url_for(&url);
    relay_config.stuck_after = std::time::Duration::from_secs(5);
    let relay_chain =
        nest_relayer::RelayChain::connect(relay_config, http_provider(&url, None)?).await?;
    let submitter = nest_relayer::RelaySubmitter::new(
        relay_chain.clone(),
        store.clone(),
        vec![nest_keys::NestSigner::from_local(relay_account)],
    )
    .await?;
    // The governance keeper: passed proposals are queued and executed through the relayer.
    let keeper = nest_relayer::GovernanceKeeper::new(
        relay_chain.clone(),
        store.clone(),
        submitter.addresses(),
    )?;
    let intake =
        nest_relayer::RelayIntake::new(relay_chain, store.clone(), submitter.addresses()).await?;
    crate::relayer::spawn_relayer(&tasks, submitter, Some((keeper, KEEPER_INTERVAL)));
    let admin = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let metrics_addr = admin.local_addr()?;
    crate::api::serve_api(
        &tasks,
        listener,
        admin,
        api_state,
        Some(crate::api::relay_mount(intake)),
    );
    dev_lock.record_url(&format!("http://{api_addr}"))?;
    println!("  api            http://{api_addr}  (docs at /docs, OpenAPI at /openapi.json)");
    if web_served {
        println!("  dApp           {origin}/  (open this one: sign-in checks the origin)");
    } else {
        println!("  dApp           not built (scripts/dev builds web/)");
    }
    println!("  metrics        http://{metrics_addr}/metrics");
    let _monitoring = if args.monitoring {
        let rules = layout
            .root()
            .join("monitor/prometheus/rules/nest.rules.yml");
        let monitoring = crate::monitoring::start(&state_dir, &rules, metrics_addr).await?;
        println!("  prometheus     {}", monitoring.prometheus.url());
        println!("  alertmanager   {}", monitoring.alertmanager.url());
        println!(
            "  alerts         in the log and {}",
            monitoring.mailbox.display()
        );
        Some(monitoring)
    } else {
        None
    };
    println!(
        "  relayer        POST http://{api_addr}/v1/relay (gas paid by account [{}])",
        keys.len() - 1
    );
    if args.exit_after_start {
        tasks.stop();
        return tasks.wait().await;
    }
    let stopped = tasks.stopped();
    tasks.spawn("metadata", async move {
        resolver.run(stopped).await;
        Ok::<(), std::convert::Infallible>(())
    });
    let stopped = tasks.stopped();
    tasks.spawn("indexer", async move { indexer.run(stopped).await });
    println!("Press Ctrl-C to stop.");
    // Every part stops on SIGINT or SIGTERM (or when one fails); all are awaited.
    let stopped = tasks.wait().await;
    info!("stopped");
    drop(anvil);
    drop(store);
    drop(_local_store);
    stopped
}

/// Held while a `nest dev` runs on a state folder: `<state>/dev.lock`, exclusively locked (the
/// kernel releases the lock when the process ends, however it ends), naming the holder's pid
/// and api URL for the next one to report.
#[derive(Debug)]
struct DevLock {
    file: std::fs::File,
    path: std::path::PathBuf,
}

/// Why [`DevLock::acquire`] failed.
#[derive(Debug, thiserror::Error)]
enum DevLockError {
    /// Another `nest dev` holds the state folder.
    #[error(
        "another nest dev is running on {state} (pid {pid}, api {url}); stop it first, or give this one its own state folder with NEST_STATE_DIR"
    )]
    Running {
        /// The state folder.
        state: String,
        /// The holder's pid, as it recorded it.
        pid: String,
        /// The holder's api URL, as it recorded it.
        url: String,
    },
    /// The lock file could not be used.
    #[error("lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
}

impl DevLock {
    /// Locks `state_dir` for this process, or says who holds it.
    fn acquire(state_dir: &std::path::Path) -> Result<Self, DevLockError> {
        use std::io::{Read, Seek, Write};
        let path = state_dir.join("dev.lock");
        let io = |source| DevLockError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let field = |name: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| "not known yet".into())
                };
                return Err(DevLockError::Running {
                    state: state_dir.display().to_string(),
                    pid: field("pid="),
                    url: field("url="),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "pid={}", std::process::id()).map_err(io)?;
        Ok(Self { file, path })
    }

    /// Records the api URL for a second `nest dev` to report.
    fn record_url(&mut self, url: &str) -> Result<(), DevLockError> {
        use std::io::{Seek, Write};
        let path = self.path.display().to_string();
        let io = |source| DevLockError::Io {
            path: path.clone(),
            source,
        };
        self.file.set_len(0).map_err(io)?;
        self.file.rewind().map_err(io)?;
        write!(self.file, "pid={}\nurl={url}\n", std::process::id()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_dev_on_the_same_state_folder_is_told_who_runs() {
        let state = tempfile::tempdir().expect("tmp");
        let mut first = DevLock::acquire(state.path()).expect("first");
        let err = DevLock::acquire(state.path()).expect_err("held");
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("api not known yet"), "{text}");
        first.record_url("http://127.0.0.1:8080").expect("url");
        let text = DevLock::acquire(state.path())
            .expect_err("held")
            .to_string();
        assert!(text.contains("another nest dev is running"), "{text}");
        assert!(text.contains("api http://127.0.0.1:8080"), "{text}");
        drop(first);
        let again = DevLock::acquire(state.path()).expect("free once the first ends");
        drop(again);
        let other = tempfile::tempdir().expect("tmp");
        let _own = DevLock::acquire(other.path()).expect("another state folder is free");
    }
}
