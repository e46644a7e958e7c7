//! `nest dev`: the whole stack on one machine with embedded defaults.

use clap::Args;
use eyre::WrapErr;
use nest_chain::{
    AnvilNode, AnvilOptions, Deployer, DeploymentConfig, NestAddresses, ProjectLayout,
    http_provider, seed::seed_demo,
};
use nest_indexer::Indexer;
use nest_store::{LocalStoreServer, Store, StoreConfig};
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
}

pub(crate) async fn run(args: DevArgs) -> eyre::Result<()> {
    // Listen for Ctrl-C / SIGTERM before starting anything, so a signal that arrives during
    // start-up is not lost (the default action would kill us without stopping the children).
    let shutdown = crate::shutdown::Shutdown::install()?;
    let layout = ProjectLayout::discover()?;
    let state_dir = layout.state_dir();
    std::fs::create_dir_all(&state_dir)
        .wrap_err_with(|| format!("creating {}", state_dir.display()))?;

    // The store: NEST_MONGODB_URI if given, else the local server on .nest/store.
    let (store_config, _local_store) = match StoreConfig::from_env()? {
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
    } else if store.checkpoints().get(31337, "nest").await?.is_some() {
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
    if let Some(seed) = seeded {
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
    // The api, fed by the indexer's change notices.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.api_port)).await?;
    let api_addr = listener.local_addr()?;
    let origin = format!("http://localhost:{}", api_addr.port());
    let api_state = nest_api::AppState::new(
        crate::api::api_config(&report.manifest, &origin)?,
        store.clone(),
        crate::api::session_tokens().await?,
        std::env::var("NEST_REDIS_URL").ok().as_deref(),
        Some(http_provider(&url, None)?),
    )
    .await?;
    let bus = api_state.bus().clone();
    let mut notices = indexer.subscribe();
    tokio::spawn(async move {
        while let Ok(n) = notices.recv().await {
            bus.publish(nest_api::bus::Notice {
                kind: n.kind.to_string(),
                key: n.key,
            })
            .await;
        }
    });
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
    let (stop_keeper, keeper_stopped) = tokio::sync::oneshot::channel::<()>();
    let keeper_task = tokio::spawn(async move {
        keeper
            .run(KEEPER_INTERVAL, async {
                let _ = keeper_stopped.await;
            })
            .await
    });
    let (stop_relayer, relayer_stopped) = tokio::sync::oneshot::channel::<()>();
    let relayer_task = tokio::spawn(async move {
        submitter
            .run(async {
                let _ = relayer_stopped.await;
            })
            .await
    });
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_router = nest_api::router(api_state, Some(nest_relayer::router(intake)));
    let api_task = tokio::spawn(nest_api::serve(listener, api_router, async {
        let _ = api_stopped.await;
    }));
    println!("  api            http://{api_addr}  (docs at /docs, OpenAPI at /openapi.json)");
    println!(
        "  relayer        POST http://{api_addr}/v1/relay (gas paid by account [{}])",
        keys.len() - 1
    );
    if args.exit_after_start {
        let _ = stop_keeper.send(());
        let _ = keeper_task.await;
        let _ = stop_relayer.send(());
        let _ = relayer_task.await;
        return Ok(());
    }
    let (stop_indexer, indexer_stopped) = tokio::sync::oneshot::channel::<()>();
    let indexer_task = tokio::spawn(async move {
        indexer
            .run(async {
                let _ = indexer_stopped.await;
            })
            .await
    });
    println!("Press Ctrl-C to stop.");
    shutdown.wait().await;
    info!("shutting down");
    let _ = stop_indexer.send(());
    let _ = stop_api.send(());
    let _ = api_task.await;
    let _ = stop_keeper.send(());
    let _ = keeper_task.await;
    let _ = stop_relayer.send(());
    match relayer_task.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "relayer stopped with an error"),
        Err(e) => tracing::warn!(error = %e, "relayer task failed"),
        Ok(Ok(())) => {}
    }
    match indexer_task.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "indexer stopped with an error"),
        Err(e) => tracing::warn!(error = %e, "indexer task failed"),
        Ok(Ok(())) => {}
    }
    drop(anvil);
    drop(store);
    drop(_local_store);
    Ok(())
}
