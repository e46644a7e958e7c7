//! The `nest` command line: thin glue over the Nest libraries.
//!
//! stdout carries each command's result (JSON with `--json`); stderr carries logs.

mod api;
mod bootstrap;
mod contracts;
mod deploy;
mod dev;
mod indexer;
mod keys;
mod metadata;
mod metrics;
mod monitor;
mod monitoring;
mod relayer;
mod shutdown;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Nest: NFT marketplace, DAO governance and social feed for wallet users.
#[derive(Debug, Parser)]
#[command(name = "nest", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (`tracing` syntax, e.g. `info,nest_indexer=debug`); logs go to stderr.
    #[arg(long, env = "NEST_LOG", default_value = "info", global = true)]
    log: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile the Solidity contracts or check the committed artifacts.
    Contracts(contracts::ContractsArgs),
    /// Deploy and wire the contract set on a chain, recording a manifest.
    Deploy(deploy::DeployArgs),
    /// Run the whole stack locally: anvil, contracts, demo data and the services.
    Dev(dev::DevArgs),
    /// Mirror the chain into the store (run, status, reindex).
    Indexer(indexer::IndexerArgs),
    /// Serve the HTTP API.
    Api(api::ApiArgs),
    /// Send gasless meta-transactions (and serve their intake with --listen).
    Relayer(relayer::RelayerArgs),
    /// Watch business series for anomalies (Prometheus in, Alertmanager out).
    Monitor(monitor::MonitorArgs),
    /// Key rings (status, rotate, retire) and the signing audit (verify, report).
    Keys(keys::KeysArgs),
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Contracts(args) => contracts::run(args).await,
            Command::Deploy(args) => deploy::run(args).await,
            Command::Dev(args) => dev::run(args).await,
            Command::Indexer(args) => indexer::run(args).await,
            Command::Api(args) => api::run(args).await,
            Command::Relayer(args) => relayer::run(args).await,
            Command::Monitor(args) => monitor::run(args).await,
            Command::Keys(args) => keys::run(args).await,
        }
    })
}
