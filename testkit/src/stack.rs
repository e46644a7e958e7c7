//! The services in-process over a test chain and store.

use crate::{HttpClient, TestChain, TestStore};
use alloy::signers::local::PrivateKeySigner;
use nest_api::{ApiConfig, AppState, Mounted, bus::Notice};
use nest_chain::http_provider;
use nest_indexer::{Indexer, IndexerConfig};
use nest_keys::{NestSigner, TokenSigner};
use nest_store::Store;
use std::{net::SocketAddr, sync::Arc};

/// The origin test api instances are configured with.
pub const ORIGIN: &str = crate::siwe::SIWE_ORIGIN;

/// A [`TestChain`] (seeded) and a [`TestStore`] with the indexer in-process, caught up with the
/// chain; api instances are added with [`TestStack::api`].
#[derive(Debug)]
pub struct TestStack {
    /// The chain.
    pub chain: TestChain,
    /// The store the services share.
    pub store: Store,
    /// The indexer.
    pub indexer: Arc<Indexer>,
}

impl TestStack {
    /// A seeded chain, a fresh database called after `label`, and the indexer caught up.
    pub async fn start(label: &str) -> Self {
        Self::over(TestChain::builder().seeded().start().await, label).await
    }

    /// The stack over an already started `chain`.
    pub async fn over(chain: TestChain, label: &str) -> Self {
        let store = TestStore::fresh(label).await;
        let indexer = Indexer::new(
            IndexerConfig::new(crate::CHAIN_ID, chain.addresses, chain.start_block()),
            store.clone(),
            chain.reader(),
        )
        .await
        .expect("indexer");
        let stack = Self {
            chain,
            store,
            indexer: Arc::new(indexer),
        };
        stack.index().await;
        stack
    }

    /// Brings the store up to the chain head.
    pub async fn index(&self) {
        self.indexer.backfill(None).await.expect("backfill");
        while self.indexer.follow_step().await.expect("follow") > 0 {}
    }

    /// The api configuration for this chain.
    pub fn api_config(&self) -> ApiConfig {
        ApiConfig::new(crate::CHAIN_ID, self.chain.addresses, ORIGIN)
    }

    /// Starts an api instance (through Redis when `redis` is given); its bus receives the
    /// indexer's notices.
    pub async fn api(&self, config: ApiConfig, redis: Option<&str>) -> TestApi {
        let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
        self.api_with_tokens(config, redis, tokens).await
    }

    /// Starts an api instance whose session tokens come from `tokens` (a fixed key or a key
    /// ring).
    pub async fn api_with_tokens(
        &self,
        config: ApiConfig,
        redis: Option<&str>,
        tokens: impl Into<nest_keyring::SessionTokens>,
    ) -> TestApi {
        let state = AppState::new(
            config,
            self.store.clone(),
            tokens,
            redis,
            Some(http_provider(&self.chain.endpoint(), None).expect("provider")),
        )
        .await
        .expect("api state");
        let bus = state.bus().clone();
        let mut notices = self.indexer.subscribe();
        tokio::spawn(async move {
            while let Ok(n) = notices.recv().await {
                bus.publish(Notice {
                    kind: n.kind.to_string(),
                    key: n.key,
                })
                .await;
            }
        });
        TestApi::serve(state, None).await
    }
}

/// An api instance serving on free loopback ports until the test ends.
#[derive(Debug)]
pub struct TestApi {
    /// The public listener's address.
    pub addr: SocketAddr,
    /// A client of the public listener.
    pub client: HttpClient,
    /// A client of the admin listener (`/metrics`).
    pub admin: HttpClient,
    /// The api's state.
    pub state: AppState,
}

impl TestApi {
    /// Serves `state`'s public router (with `extra` mounted) and its admin router.
    pub async fn serve(state: AppState, extra: Option<Mounted>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = nest_api::router(state.clone(), extra);
        tokio::spawn(nest_api::serve(listener, router, std::future::pending()));
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let admin_addr = admin.local_addr().expect("addr");
        tokio::spawn(nest_api::serve(
            admin,
            nest_api::admin_router(state.clone()),
            std::future::pending(),
        ));
        Self {
            addr,
            client: HttpClient::new(addr),
            admin: HttpClient::new(admin_addr),
            state,
        }
    }
}
