//! The one start-up every service command shares: argument groups flattened into each command
//! (each flag with its `env =` variable, so `--help` lists every variable a command reads) and
//! [`Environment::init`] (RPC, chain id check, manifest, store), and the [`Tasks`] a command's
//! parts run as, stopped together on SIGINT or SIGTERM.

use alloy::providers::DynProvider;
use clap::Args;
use eyre::bail;
use nest_abis::{DeploymentManifest, NestAddresses};
use nest_chain::{ProjectLayout, http_provider};
use nest_keys::SignerConfig;
use nest_store::{Store, StoreConfig};
use std::{
    future::Future,
    path::PathBuf,
    sync::{Arc, Mutex},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{Instrument, info, info_span, warn};
use url::Url;

/// Where the chain is and what is deployed on it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Chain")]
pub(crate) struct RpcArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "NEST_RPC_URL", global = true)]
    pub(crate) rpc_url: Option<Url>,
    /// Refuse to start unless the node reports this chain id.
    #[arg(long, env = "NEST_CHAIN_ID", global = true)]
    pub(crate) chain_id: Option<u64>,
    /// Deployment manifest (default: deployments/<chain-id>.json).
    #[arg(long, env = "NEST_MANIFEST", global = true)]
    pub(crate) manifest: Option<PathBuf>,
}

impl RpcArgs {
    /// The RPC URL, or an error saying how to give one.
    pub(crate) fn url(&self) -> eyre::Result<Url> {
        match &self.rpc_url {
            Some(url) => Ok(url.clone()),
            None => bail!("no RPC endpoint: pass --rpc-url or set NEST_RPC_URL"),
        }
    }
}

/// The store (MongoDB).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Store")]
pub(crate) struct StoreArgs {
    /// MongoDB connection string (replica set or mongos).
    #[arg(long, env = "NEST_MONGODB_URI", hide_env_values = true, global = true)]
    pub(crate) mongodb_uri: Option<String>,
    /// Database name.
    #[arg(
        long,
        env = "NEST_MONGODB_DATABASE",
        default_value = nest_store::config::DEFAULT_DATABASE,
        global = true
    )]
    pub(crate) mongodb_database: String,
}

impl StoreArgs {
    /// The configuration, validated; `None` without a connection string.
    pub(crate) fn config(&self) -> eyre::Result<Option<StoreConfig>> {
        let Some(uri) = &self.mongodb_uri else {
            return Ok(None);
        };
        let config = StoreConfig::new(uri.clone(), self.mongodb_database.clone());
        config.validate()?;
        Ok(Some(config))
    }

    /// The configuration, or an error saying how to give one.
    pub(crate) fn require(&self) -> eyre::Result<StoreConfig> {
        match self.config()? {
            Some(config) => Ok(config),
            None => bail!("no store: set NEST_MONGODB_URI (nest dev runs a local one for you)"),
        }
    }
}

/// Redis: the api's shared cache, rate limits and change notices.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Redis")]
pub(crate) struct RedisArgs {
    /// Redis URL; without it the cache, limits and notices stay in-process.
    #[arg(long, env = "NEST_REDIS_URL", hide_env_values = true, global = true)]
    pub(crate) redis_url: Option<String>,
}

/// The service's signing key, in any `nest-keys` backend (see keys/README.md).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Signer")]
pub(crate) struct SignerArgs {
    /// Backend: local, pkcs11, aws-kms or gcp-kms.
    #[arg(long, env = "NEST_SIGNER")]
    signer: Option<String>,
    /// local: private key (hex).
    #[arg(long, env = "NEST_SIGNER_KEY", hide_env_values = true)]
    signer_key: Option<String>,
    /// local: encrypted JSON keystore (instead of the key).
    #[arg(long, env = "NEST_SIGNER_KEYSTORE")]
    signer_keystore: Option<String>,
    /// local: the keystore's password.
    #[arg(long, env = "NEST_SIGNER_KEYSTORE_PASSWORD", hide_env_values = true)]
    signer_keystore_password: Option<String>,
    /// pkcs11: the module (default: Debian's SoftHSM2).
    #[arg(long, env = "NEST_PKCS11_MODULE")]
    pkcs11_module: Option<String>,
    /// pkcs11: token label.
    #[arg(long, env = "NEST_PKCS11_TOKEN_LABEL")]
    pkcs11_token_label: Option<String>,
    /// pkcs11: user PIN.
    #[arg(long, env = "NEST_PKCS11_PIN", hide_env_values = true)]
    pkcs11_pin: Option<String>,
    /// pkcs11: key label.
    #[arg(long, env = "NEST_PKCS11_KEY_LABEL")]
    pkcs11_key_label: Option<String>,
    /// pkcs11: key id (hex), instead of the label.
    #[arg(long, env = "NEST_PKCS11_KEY_ID")]
    pkcs11_key_id: Option<String>,
    /// aws-kms: key id or ARN.
    #[arg(long, env = "NEST_AWS_KMS_KEY_ID")]
    aws_kms_key_id: Option<String>,
    /// aws-kms: endpoint override.
    #[arg(long, env = "NEST_AWS_KMS_ENDPOINT")]
    aws_kms_endpoint: Option<String>,
    /// aws-kms: region override.
    #[arg(long, env = "NEST_AWS_KMS_REGION")]
    aws_kms_region: Option<String>,
    /// gcp-kms: key version name.
    #[arg(long, env = "NEST_GCP_KMS_KEY")]
    gcp_kms_key: Option<String>,
    /// gcp-kms: endpoint override.
    #[arg(long, env = "NEST_GCP_KMS_ENDPOINT")]
    gcp_kms_endpoint: Option<String>,
}

impl SignerArgs {
    /// The value given for variable `name` (flag or environment).
    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        let value = match name {
            "NEST_SIGNER" => &self.signer,
            "NEST_SIGNER_KEY" => &self.signer_key,
            "NEST_SIGNER_KEYSTORE" => &self.signer_keystore,
            "NEST_SIGNER_KEYSTORE_PASSWORD" => &self.signer_keystore_password,
            "NEST_PKCS11_MODULE" => &self.pkcs11_module,
            "NEST_PKCS11_TOKEN_LABEL" => &self.pkcs11_token_label,
            "NEST_PKCS11_PIN" => &self.pkcs11_pin,
            "NEST_PKCS11_KEY_LABEL" => &self.pkcs11_key_label,
            "NEST_PKCS11_KEY_ID" => &self.pkcs11_key_id,
            "NEST_AWS_KMS_KEY_ID" => &self.aws_kms_key_id,
            "NEST_AWS_KMS_ENDPOINT" => &self.aws_kms_endpoint,
            "NEST_AWS_KMS_REGION" => &self.aws_kms_region,
            "NEST_GCP_KMS_KEY" => &self.gcp_kms_key,
            "NEST_GCP_KMS_ENDPOINT" => &self.gcp_kms_endpoint,
            _ => return None,
        };
        value.clone()
    }

    /// The signer configuration; `None` when no backend is chosen.
    pub(crate) fn config(&self) -> eyre::Result<Option<SignerConfig>> {
        Ok(SignerConfig::from_lookup(|name| self.lookup(name))?)
    }
}

/// What a service command runs against, checked at start: the node (and that it serves the
/// expected chain), the deployment on it and the store.
#[derive(Debug)]
pub(crate) struct Environment {
    /// The RPC endpoint.
    pub(crate) rpc_url: Url,
    /// A provider without a signer.
    pub(crate) provider: DynProvider,
    /// The chain id the node reports.
    pub(crate) chain_id: u64,
    /// The deployment manifest.
    pub(crate) manifest: DeploymentManifest,
    /// The contracts' addresses from it.
    pub(crate) addresses: NestAddresses,
    /// The connected store.
    pub(crate) store: Store,
}

impl Environment {
    /// Connects to the node, checks its chain id (against `--chain-id` and the manifest), reads
    /// the manifest and connects to the store.
    pub(crate) async fn init(rpc: &RpcArgs, store: &StoreArgs) -> eyre::Result<Self> {
        let rpc_url = rpc.url()?;
        let store_config = store.require()?;
        let provider = http_provider(&rpc_url, None)?;
        let chain_id = nest_chain::provider::chain_id(&provider, &rpc_url).await?;
        if let Some(expected) = rpc.chain_id
            && expected != chain_id
        {
            bail!("wrong chain: the RPC endpoint serves chain id {chain_id}, expected {expected}");
        }
        let manifest_path = match &rpc.manifest {
            Some(path) => path.clone(),
            None => ProjectLayout::discover()?.manifest_path(chain_id),
        };
        let manifest = DeploymentManifest::load(&manifest_path)?
            .ok_or_else(|| eyre::eyre!("no deployment manifest at {}", manifest_path.display()))?;
        if manifest.chain_id != chain_id {
            bail!(
                "manifest {} records chain id {}, but the RPC endpoint serves chain id {chain_id}",
                manifest_path.display(),
                manifest.chain_id
            );
        }
        let addresses = NestAddresses::from_manifest(&manifest)?;
        let store = Store::connect(store_config).await?;
        info!(chain_id, manifest = %manifest_path.display(), "environment ready");
        Ok(Self {
            rpc_url,
            provider,
            chain_id,
            manifest,
            addresses,
            store,
        })
    }
}

/// The tasks of one command: each runs until the shared stop token is cancelled (by SIGINT,
/// SIGTERM, or a part ending early), and [`Tasks::wait`] waits for every one of them.
#[derive(Debug, Clone)]
pub(crate) struct Tasks {
    stop: CancellationToken,
    tracker: TaskTracker,
    failed: Arc<Mutex<Vec<String>>>,
}

impl Tasks {
    /// Tasks stopped by SIGINT or SIGTERM (registered now, so a signal during start-up counts).
    pub(crate) fn install() -> eyre::Result<Self> {
        let shutdown = crate::shutdown::Shutdown::install()?;
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            shutdown.wait().await;
            on_signal.cancel();
        });
        Ok(Self {
            stop,
            tracker: TaskTracker::new(),
            failed: Arc::default(),
        })
    }

    /// Completes once the stop is requested.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        self.stop.clone().cancelled_owned()
    }

    /// Requests the stop (a part ended and the others should follow).
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }

    /// Runs `part` as task `name`; its error is logged and stops the others.
    pub(crate) fn spawn<E>(
        &self,
        name: &'static str,
        part: impl Future<Output = Result<(), E>> + Send + 'static,
    ) where
        E: std::fmt::Display + Send + 'static,
    {
        let stop = self.stop.clone();
        let failed = self.failed.clone();
        self.tracker.spawn(
            async move {
                if let Err(e) = part.await {
                    warn!(error = %e, "stopped with an error");
                    if let Ok(mut failed) = failed.lock() {
                        failed.push(format!("{name}: {e}"));
                    }
                    stop.cancel();
                }
            }
            .instrument(info_span!("task", name)),
        );
    }

    /// Waits for every task to end (after the stop, or after all ended on their own); an
    /// error naming the tasks that failed, if any did.
    pub(crate) async fn wait(&self) -> eyre::Result<()> {
        self.tracker.close();
        self.tracker.wait().await;
        let failed = self.failed.lock().map(|f| f.clone()).unwrap_or_default();
        if failed.is_empty() {
            Ok(())
        } else {
            bail!("{}", failed.join("; "))
        }
    }
}
