//! Settings of the metadata resolver that runs beside the indexer (`nest indexer run`,
//! `nest dev`).

use clap::Args;
use nest_indexer::{
    MetadataConfig,
    metadata::{FetchLimits, Gateways},
};
use url::Url;

/// Metadata resolution settings.
#[derive(Debug, Clone, Args)]
pub(crate) struct MetadataArgs {
    /// Gateway for `ipfs://` token URIs (`{gateway}{cid}/{path}`).
    #[arg(
        long,
        env = "NEST_IPFS_GATEWAY",
        default_value = "https://ipfs.io/ipfs/",
        global = true
    )]
    ipfs_gateway: Url,
    /// Gateway for `ar://` token URIs.
    #[arg(
        long,
        env = "NEST_ARWEAVE_GATEWAY",
        default_value = "https://arweave.net/",
        global = true
    )]
    arweave_gateway: Url,
    /// Metadata resolutions in flight at once.
    #[arg(
        long,
        env = "NEST_METADATA_WORKERS",
        default_value_t = 8,
        global = true
    )]
    metadata_workers: usize,
    /// Requests in flight per metadata host.
    #[arg(
        long,
        env = "NEST_METADATA_PER_HOST",
        default_value_t = 2,
        global = true
    )]
    metadata_per_host: usize,
    /// Deadline of one metadata or image fetch, in seconds.
    #[arg(
        long,
        env = "NEST_METADATA_TIMEOUT",
        default_value_t = 10,
        global = true
    )]
    metadata_timeout: u64,
}

impl MetadataArgs {
    /// The resolver configuration (gateways must end with `/`: relative joins keep their path).
    pub(crate) fn config(&self) -> eyre::Result<MetadataConfig> {
        for (name, url) in [
            ("--ipfs-gateway", &self.ipfs_gateway),
            ("--arweave-gateway", &self.arweave_gateway),
        ] {
            if !matches!(url.scheme(), "http" | "https") || !url.path().ends_with('/') {
                eyre::bail!("{name} must be an http(s) URL ending with '/', got {url}");
            }
        }
        if self.metadata_workers == 0 || self.metadata_per_host == 0 || self.metadata_timeout == 0 {
            eyre::bail!("metadata workers, per-host limit and timeout must be positive");
        }
        Ok(MetadataConfig {
            gateways: Gateways {
                ipfs: self.ipfs_gateway.clone(),
                arweave: self.arweave_gateway.clone(),
            },
            limits: FetchLimits {
                timeout: std::time::Duration::from_secs(self.metadata_timeout),
                ..FetchLimits::default()
            },
            workers: self.metadata_workers,
            per_host: self.metadata_per_host,
            ..MetadataConfig::default()
        })
    }
}
