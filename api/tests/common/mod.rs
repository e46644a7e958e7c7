//! Harness for the api's integration tests, over `nest-testkit`: anvil with Nest deployed and
//! seeded, a fresh store database, the indexer, a real `redis-server` and the api on free ports.
//! The names here are the ones the api's tests were written with; the set-up lives in the kit.

#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

use alloy::{primitives::Address, providers::DynProvider, signers::local::PrivateKeySigner};
use nest_api::{ApiConfig, AppState, Mounted};
use nest_chain::{NestAddresses, seed::SeedReport};
use nest_indexer::Indexer;
use nest_keys::{NestSigner, TokenSigner};
use nest_store::Store;
use nest_testkit::{TestApi, TestChain, TestStack, TestStore};
use std::sync::Arc;

pub use nest_testkit::{
    HttpClient, HttpResponse, ORIGIN, TestRedis as RedisServer, free_port,
    siwe::{rfc3339, rfc3339_now, siwe_message},
};

/// An api instance on free ports.
pub type Api = TestApi;

/// A seeded chain, a store and the indexer caught up (the kit's [`TestStack`]), with the
/// fields the api's tests read directly.
pub struct Stack {
    pub addresses: NestAddresses,
    pub keys: Vec<PrivateKeySigner>,
    pub store: Store,
    pub indexer: Arc<Indexer>,
    pub seed: SeedReport,
    pub start_block: u64,
    inner: TestStack,
}

impl std::ops::Deref for Stack {
    type Target = TestChain;

    /// `stack.node`, `stack.manifest`, ...: the chain.
    fn deref(&self) -> &TestChain {
        &self.inner.chain
    }
}

impl Stack {
    pub async fn start(label: &str) -> Self {
        let inner = TestStack::start(label).await;
        Self {
            addresses: inner.chain.addresses,
            keys: inner.chain.keys.clone(),
            store: inner.store.clone(),
            indexer: inner.indexer.clone(),
            seed: inner.chain.seed().clone(),
            start_block: inner.chain.start_block(),
            inner,
        }
    }

    pub fn provider(&self, account: usize) -> DynProvider {
        self.inner.chain.provider(account)
    }

    /// Brings the store up to the chain head.
    pub async fn index(&self) {
        self.inner.index().await;
    }

    pub fn config(&self) -> ApiConfig {
        self.inner.api_config()
    }

    /// Starts an api instance; its bus receives the indexer's notices.
    pub async fn api(&self, config: ApiConfig, redis: Option<&str>) -> Api {
        self.inner.api(config, redis).await
    }

    /// Starts an api instance whose session tokens come from `tokens`.
    pub async fn api_with_tokens(
        &self,
        config: ApiConfig,
        tokens: impl Into<nest_keyring::SessionTokens>,
    ) -> Api {
        self.inner.api_with_tokens(config, None, tokens).await
    }
}

/// Serves `state`'s public router (with `extra` mounted) and its admin router, each on a free
/// port.
pub async fn serve_api(state: AppState, extra: Option<Mounted>) -> Api {
    TestApi::serve(state, extra).await
}

/// An api over a fresh store database, with placeholder contract addresses and no chain: for
/// tests of the HTTP surface itself. `configure` adjusts the configuration; `extra` is mounted.
pub async fn bare_api(
    label: &str,
    configure: impl FnOnce(&mut ApiConfig),
    extra: Option<Mounted>,
) -> Api {
    let store = TestStore::fresh(label).await;
    bare_api_on(store, configure, None, extra).await
}

/// [`bare_api`] over `store`, sharing its cache, limits and notices through `redis`.
pub async fn bare_api_on(
    store: Store,
    configure: impl FnOnce(&mut ApiConfig),
    redis: Option<&str>,
    extra: Option<Mounted>,
) -> Api {
    let addresses = nest_testkit::placeholder_addresses();
    let mut config = ApiConfig::new(nest_testkit::CHAIN_ID, addresses, ORIGIN);
    configure(&mut config);
    let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
    let state = AppState::new(config, store, tokens, redis, None)
        .await
        .expect("state");
    TestApi::serve(state, extra).await
}

/// A signed SIWE sign-in for dev account `account`: the `POST /v1/auth/verify` body and the
/// message signed.
pub async fn sign_in(api: &Api, stack: &Stack, account: usize) -> (String, String) {
    nest_testkit::siwe::sign_in_body(&api.client, &stack.keys[account]).await
}

/// A session for dev account `account`: its `Authorization` header value.
pub async fn session(api: &Api, stack: &Stack, account: usize) -> String {
    nest_testkit::siwe::bearer(&api.client, &stack.keys[account]).await
}
