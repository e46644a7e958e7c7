//! `nest api`: the HTTP API as its own process.

use crate::bootstrap::{Environment, RedisArgs, RpcArgs, SignerArgs, StoreArgs, Tasks};
use alloy::primitives::Address;
use clap::Args;
use eyre::WrapErr;
use nest_api::{ApiConfig, AppState};
use nest_keyring::SessionTokens;
use nest_keys::{NestSigner, SecretString, SignerConfig, TokenSigner};
use nest_relayer::{RelayChain, RelayIntake, RelayerConfig};
use std::{net::SocketAddr, path::PathBuf};
use tracing::{info, warn};

/// Arguments of `nest api`.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "NEST_API_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the admin listener serving `/metrics` (Prometheus); never the public one.
    #[arg(long, env = "NEST_METRICS_LISTEN", default_value = "127.0.0.1:9464")]
    metrics_listen: SocketAddr,
    /// The public origin of the dApp (SIWE domain and URI are checked against it).
    #[arg(long, env = "NEST_API_ORIGIN", default_value = "http://localhost:8080")]
    origin: String,
    /// Relayer accounts (comma-separated addresses) whose funds pay for gasless requests: when
    /// given, the api also serves the relay intake (POST /v1/relay, GET /v1/relay/{id}) on its
    /// own origin, and `nest relayer` (same store) submits what it accepts.
    #[arg(long, env = "NEST_RELAY_ACCOUNTS", value_delimiter = ',')]
    relay_accounts: Vec<Address>,
    /// Fee cap, gwei per gas, the intake checks the relayer accounts' funds against (as
    /// `nest relayer`'s).
    #[arg(long, env = "NEST_RELAYER_MAX_FEE_GWEI", default_value_t = 500)]
    relay_max_fee_gwei: u64,
    /// Addresses allowed to take social posts down and ban accounts (comma-separated).
    #[arg(long, env = "NEST_SOCIAL_MODERATORS", value_delimiter = ',')]
    social_moderators: Vec<Address>,
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    backends: ApiBackends,
    /// The built dApp (`web/dist`) to serve on this origin; not served when absent.
    #[arg(long, env = "NEST_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// A JSON-RPC URL the dApp offers wallets for this chain (`wallet_addEthereumChain`).
    #[arg(long, env = "NEST_PUBLIC_RPC_URL")]
    public_rpc_url: Option<String>,
}

/// What an api instance uses besides the chain and the store (shared by `nest api` and
/// `nest dev`).
#[derive(Debug, Clone, Args)]
pub(crate) struct ApiBackends {
    #[command(flatten)]
    pub(crate) redis: RedisArgs,
    #[command(flatten)]
    pub(crate) sessions: SessionArgs,
}

/// The key that signs session tokens.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Session tokens")]
pub(crate) struct SessionArgs {
    /// Private key (hex) that signs session tokens; without it, the service signer (a KMS or
    /// HSM key every instance shares without holding it), else an ephemeral key.
    #[arg(long, env = "NEST_SESSION_KEY", hide_env_values = true)]
    session_key: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    pub(crate) keys: crate::keys::KeyStoreArgs,
}

impl SessionArgs {
    /// The session tokens these arguments choose: `NEST_SESSION_KEY`, else the key ring when
    /// `NEST_KEYS_DIR` is set (its upkeep running as one of `tasks`), else the service signer,
    /// else an ephemeral key.
    pub(crate) async fn tokens(
        &self,
        store: &nest_store::Store,
        tasks: &Tasks,
    ) -> eyre::Result<SessionTokens> {
        if self.session_key.is_none()
            && let Some(ring) = self.keys.session_ring(store, tasks).await?
        {
            return Ok(ring.into());
        }
        Ok(TokenSigner::new(
            session_signer(|name| match name {
                "NEST_SESSION_KEY" => self.session_key.clone(),
                other => self.signer.lookup(other),
            })
            .await?,
        )
        .into())
    }
}

/// The session tokens' key, from the variables `get` returns: `NEST_SESSION_KEY` (hex); else
/// the service signer configured by `NEST_SIGNER`; else an ephemeral key.
async fn session_signer(get: impl Fn(&str) -> Option<String>) -> eyre::Result<NestSigner> {
    if let Some(hex) = get("NEST_SESSION_KEY").filter(|v| !v.trim().is_empty()) {
        return Ok(NestSigner::from_private_key(&SecretString::from(hex))?);
    }
    if let Some(config) = SignerConfig::from_lookup(&get)? {
        // Boxed: the KMS backends' futures are deep, and this one sits inside `nest dev`'s.
        let signer = Box::pin(NestSigner::from_config(&config)).await?;
        info!(backend = config.backend(), address = %signer.address(), "session tokens signed by the service signer");
        return Ok(signer);
    }
    warn!(
        "neither NEST_SESSION_KEY nor NEST_SIGNER is set: session tokens are signed by an ephemeral key (they end with this process, and other instances cannot verify them)"
    );
    Ok(NestSigner::from_local(
        alloy::signers::local::PrivateKeySigner::random(),
    ))
}

/// Loads the built dApp in `dir` for `config`'s deployment (`rpc_url`: offered to wallets).
pub(crate) fn web_app(
    dir: &std::path::Path,
    config: &ApiConfig,
    rpc_url: Option<String>,
) -> eyre::Result<nest_api::web::WebApp> {
    let page = nest_api::web::PageConfig::new(config.chain_id, &config.addresses, rpc_url);
    Ok(nest_api::web::WebApp::load(dir, &page)?)
}

pub(crate) async fn run(args: ApiArgs) -> eyre::Result<()> {
    let tasks = Tasks::install()?;
    let env = Environment::init(&args.rpc, &args.store).await?;
    let relay = if args.relay_accounts.is_empty() {
        None
    } else {
        let mut config = RelayerConfig::new(env.chain_id, env.addresses);
        config.max_fee_per_gas = u128::from(args.relay_max_fee_gwei) * nest_relayer::config::GWEI;
        let chain = RelayChain::connect(config, env.provider.clone()).await?;
        let intake =
            RelayIntake::new(chain, env.store.clone(), args.relay_accounts.clone()).await?;
        info!(accounts = ?args.relay_accounts, "serving the relay intake");
        Some(relay_mount(intake))
    };
    let mut config = ApiConfig::new(env.chain_id, env.addresses, &args.origin);
    config.social_moderators = args.social_moderators.clone();
    if let Some(dir) = &args.web_dir {
        config.web = Some(web_app(dir, &config, args.public_rpc_url.clone())?);
        info!(dir = %dir.display(), "serving the dApp");
    }
    let tokens = args.backends.sessions.tokens(&env.store, &tasks).await?;
    let state = AppState::new(
        config,
        env.store,
        tokens,
        args.backends.redis.redis_url.as_deref(),
        Some(env.provider),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .wrap_err_with(|| format!("cannot listen on {}", args.listen))?;
    let admin = tokio::net::TcpListener::bind(args.metrics_listen)
        .await
        .wrap_err_with(|| format!("cannot listen on {} (metrics)", args.metrics_listen))?;
    info!(listen = %args.listen, metrics = %admin.local_addr()?, "api listening");
    serve_api(&tasks, listener, admin, state, relay);
    tasks.wait().await
}

/// Serves the api's public router (with `relay` mounted) and its admin router as two of
/// `tasks`; when either ends, both do.
pub(crate) fn serve_api(
    tasks: &Tasks,
    listener: tokio::net::TcpListener,
    admin: tokio::net::TcpListener,
    state: AppState,
    relay: Option<nest_api::Mounted>,
) {
    let admin_router = nest_api::admin_router(state.clone());
    let stopped = tasks.stopped();
    let on_end = tasks.clone();
    tasks.spawn("api-admin", async move {
        let served = nest_api::serve(admin, admin_router, stopped).await;
        on_end.stop();
        served
    });
    let stopped = tasks.stopped();
    let on_end = tasks.clone();
    tasks.spawn("api", async move {
        let served = nest_api::serve(listener, nest_api::router(state, relay), stopped).await;
        on_end.stop();
        served
    });
}

/// The relayer's intake routes with their OpenAPI description, for the api to serve.
pub(crate) fn relay_mount(intake: RelayIntake) -> nest_api::Mounted {
    nest_api::Mounted {
        router: nest_relayer::router(intake),
        openapi: nest_relayer::http::openapi(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    async fn signer_for(vars: &[(&str, &str)]) -> eyre::Result<NestSigner> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        session_signer(|name| vars.get(name).cloned()).await
    }

    #[tokio::test]
    async fn session_tokens_use_the_session_key_then_the_service_signer_then_an_ephemeral_key() {
        let expected = NestSigner::from_private_key(&SecretString::from(KEY.to_string()))
            .expect("key")
            .address();
        let by_key = signer_for(&[("NEST_SESSION_KEY", KEY)]).await.expect("key");
        assert_eq!(by_key.address(), expected);
        // The service signer (here a local key; KMS and HSM keys come the same way).
        let by_signer = signer_for(&[("NEST_SIGNER", "local"), ("NEST_SIGNER_KEY", KEY)])
            .await
            .expect("signer");
        assert_eq!(by_signer.address(), expected);
        // The session key wins over the service signer.
        let other = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
        let both = signer_for(&[
            ("NEST_SESSION_KEY", other),
            ("NEST_SIGNER", "local"),
            ("NEST_SIGNER_KEY", KEY),
        ])
        .await
        .expect("both");
        assert_ne!(both.address(), expected);
        let first = signer_for(&[]).await.expect("ephemeral");
        let second = signer_for(&[]).await.expect("ephemeral");
        assert_ne!(first.address(), second.address());
        // A broken service signer configuration is an error, not a silent ephemeral key.
        assert!(signer_for(&[("NEST_SIGNER", "pkcs11")]).await.is_err());
    }
}
