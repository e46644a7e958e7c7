//! Configuration and shared state of the api.

use crate::{
    bus::NoticeBus,
    cache::ResponseCache,
    ratelimit::{RateLimiter, RateLimits},
};
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use metrics_exporter_prometheus::PrometheusHandle;
use nest_abis::NestAddresses;
use nest_keyring::SessionTokens;
use nest_social::{SocialConfig, SocialService, WriteLimits};
use nest_store::Store;
use redis::aio::ConnectionManager;
use std::{sync::Arc, time::Duration};

/// Api settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Chain the dApp runs on.
    pub chain_id: u64,
    /// Nest contract addresses.
    pub addresses: NestAddresses,
    /// The domain SIWE messages must name (`app.example`, `localhost:8080`).
    pub siwe_domain: String,
    /// The origin SIWE message URIs must start with (`https://app.example`).
    pub siwe_origin: String,
    /// How long a session token lives.
    pub session_ttl: Duration,
    /// How long a sign-in nonce stays valid.
    pub nonce_ttl: Duration,
    /// Origins allowed by CORS (empty: none).
    pub cors_origins: Vec<String>,
    /// Request limits.
    pub rate_limits: RateLimits,
    /// Longest life of a cached response.
    pub cache_ttl: Duration,
    /// `Cache-Control: max-age` on public GETs, seconds.
    pub public_max_age: u64,
    /// Longest time a handler may take before the request is answered 503 `request.timeout`.
    pub request_timeout: Duration,
    /// Addresses allowed to moderate social content.
    pub social_moderators: Vec<Address>,
    /// Social write limits per minute.
    pub social_limits: WriteLimits,
    /// The dApp served on this origin (paths outside the api), when built.
    pub web: Option<crate::web::WebApp>,
}

impl ApiConfig {
    /// Defaults for a deployment served at `origin`.
    pub fn new(chain_id: u64, addresses: NestAddresses, origin: &str) -> Self {
        let domain = origin
            .split("://")
            .nth(1)
            .unwrap_or(origin)
            .trim_end_matches('/')
            .to_string();
        Self {
            chain_id,
            addresses,
            siwe_domain: domain,
            siwe_origin: origin.trim_end_matches('/').to_string(),
            session_ttl: Duration::from_secs(15 * 60),
            nonce_ttl: Duration::from_secs(10 * 60),
            cors_origins: vec![origin.trim_end_matches('/').to_string()],
            rate_limits: RateLimits::default(),
            cache_ttl: Duration::from_secs(300),
            public_max_age: 2,
            request_timeout: Duration::from_secs(15),
            social_moderators: Vec::new(),
            social_limits: WriteLimits::default(),
            web: None,
        }
    }
}

/// Everything a handler may use.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: ApiConfig,
    pub(crate) store: Store,
    pub(crate) tokens: SessionTokens,
    pub(crate) cache: ResponseCache,
    pub(crate) limiter: RateLimiter,
    pub(crate) bus: NoticeBus,
    pub(crate) redis: Option<ConnectionManager>,
    pub(crate) provider: Option<DynProvider>,
    pub(crate) metrics: PrometheusHandle,
    pub(crate) media: crate::media::MediaRenderer,
    pub(crate) token_info: crate::routes::activity::TokenInfoCache,
    pub(crate) social: SocialService,
}

impl AppState {
    /// Builds the state. `redis` shares the cache, rate limits and notices between instances;
    /// without it everything stays in this process. `provider` is checked by `/readyz`.
    pub async fn new(
        config: ApiConfig,
        store: Store,
        tokens: impl Into<SessionTokens>,
        redis_url: Option<&str>,
        provider: Option<DynProvider>,
    ) -> Result<Self, redis::RedisError> {
        let (bus, redis) = match redis_url {
            Some(url) => {
                let bus = NoticeBus::redis(url).await?;
                let manager = ConnectionManager::new(redis::Client::open(url)?).await?;
                (bus, Some(manager))
            }
            None => (NoticeBus::local(), None),
        };
        let cache = ResponseCache::new(50_000, config.cache_ttl, bus.clone(), redis.clone());
        cache.listen();
        let limiter = RateLimiter::new(config.rate_limits, redis.clone());
        let metrics = crate::metrics::handle();
        let social = SocialService::new(store.clone(), social_config(&config), provider.clone());
        weave_chain_into_social(&bus, &social);
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                tokens: tokens.into(),
                cache,
                limiter,
                bus,
                redis,
                provider,
                metrics,
                media: crate::media::MediaRenderer::default(),
                token_info: Default::default(),
                social,
            }),
        })
    }

    /// The notice bus (publish indexer notices here).
    pub fn bus(&self) -> &NoticeBus {
        &self.inner.bus
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// The social service.
    pub fn social(&self) -> &SocialService {
        &self.inner.social
    }
}

fn social_config(config: &ApiConfig) -> SocialConfig {
    let mut social = SocialConfig::new(
        config.chain_id,
        &config.siwe_origin,
        config.addresses.marketplace,
        config.addresses.governor,
        config.addresses.token,
    );
    social.moderators = config.social_moderators.clone();
    social.limits = config.social_limits;
    social
}

/// Chain notices the social layer turns into activity and notifications.
const CHAIN_KINDS: [&str; 6] = ["sales", "listings", "bids", "offers", "votes", "proposals"];

/// Feeds the indexer's change notices heard on `bus` to the social layer (activity of
/// followed accounts, marketplace and DAO notifications) and announces what that changed.
/// Every instance hears every notice; the social layer records each effect once.
fn weave_chain_into_social(bus: &NoticeBus, social: &SocialService) {
    let mut notices = bus.subscribe();
    let (bus, social) = (bus.clone(), social.clone());
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(n) if CHAIN_KINDS.contains(&n.kind.as_str()) => {
                    match social
                        .ingest(&n.kind, &n.key, nest_social::service::now_ms())
                        .await
                    {
                        Ok(touched) => {
                            for (kind, key) in touched {
                                bus.publish(crate::bus::Notice { kind, key }).await;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, kind = %n.kind, key = %n.key, "social could not weave a chain notice")
                        }
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "social missed chain notices");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
