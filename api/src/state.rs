//! Configuration and shared state of the api.

use crate::{
    bus::NoticeBus,
    cache::ResponseCache,
    ratelimit::{RateLimiter, RateLimits},
};
use alloy::providers::DynProvider;
use metrics_exporter_prometheus::PrometheusHandle;
use nest_chain::NestAddresses;
use nest_keys::TokenSigner;
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
    pub(crate) tokens: TokenSigner,
    pub(crate) cache: ResponseCache,
    pub(crate) limiter: RateLimiter,
    pub(crate) bus: NoticeBus,
    pub(crate) redis: Option<ConnectionManager>,
    pub(crate) provider: Option<DynProvider>,
    pub(crate) metrics: PrometheusHandle,
}

impl AppState {
    /// Builds the state. `redis` shares the cache, rate limits and notices between instances;
    /// without it everything stays in this process. `provider` is checked by `/readyz`.
    pub async fn new(
        config: ApiConfig,
        store: Store,
        tokens: TokenSigner,
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
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                tokens,
                cache,
                limiter,
                bus,
                redis,
                provider,
                metrics,
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
}
