//! What every scenario stands on: `nest` processes sharing one chain, one store database and
//! one Redis; polling the api until it shows what the chain did; reading its live stream.

#![allow(dead_code)]

use alloy::primitives::U256;
use nest_testkit::{ChildProcess, HttpClient, NestCommand, TestChain, TestRedis, TestStore};
use std::{
    path::Path,
    time::{Duration, Instant},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `nest` child processes on one chain, store database and Redis (and, when given, one keys
/// folder).
pub(crate) struct Processes<'a> {
    chain: &'a TestChain,
    redis: &'a TestRedis,
    uri: String,
    database: String,
    keys: Option<(&'a Path, &'a str)>,
}

impl<'a> Processes<'a> {
    /// Processes on the test server's `database` (created and migrated by the caller with
    /// `TestStore::fresh`: on the local server this also shortens how long a killed writer's
    /// open transaction holds its documents).
    pub(crate) fn new(chain: &'a TestChain, database: &str, redis: &'a TestRedis) -> Self {
        Self {
            chain,
            redis,
            uri: TestStore::uri(),
            database: database.to_string(),
            keys: None,
        }
    }

    /// Every process shares the key ring in `folder`, unlocked with `password`.
    pub(crate) fn with_keys(mut self, folder: &'a Path, password: &'a str) -> Self {
        self.keys = Some((folder, password));
        self
    }

    /// `nest ARGS` configured for this stack.
    pub(crate) fn nest(&self, args: &[&str]) -> NestCommand {
        let command = NestCommand::new(args)
            .chain(self.chain)
            .store(&self.uri, &self.database)
            .env("NEST_CHAIN_ID", "31337")
            .env("NEST_REDIS_URL", self.redis.url());
        match self.keys {
            Some((folder, password)) => command
                .env("NEST_KEYS_DIR", folder)
                .env("NEST_KEYS_PASSWORD", password),
            None => command,
        }
    }

    /// `nest indexer run`, polling for new heads.
    pub(crate) fn indexer(&self) -> ChildProcess {
        self.nest(&["indexer", "run", "--poll"]).spawn()
    }

    /// `nest api`, once it answers.
    pub(crate) fn api(&self) -> (ChildProcess, HttpClient) {
        self.nest(&["api"]).serve_api()
    }
}

/// Polls `path` on `client` until `done` holds for its JSON body (a 404 means "not indexed
/// yet"); returns the body.
pub(crate) async fn eventually(
    client: &HttpClient,
    path: &str,
    within: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let response = client.get(path).await;
        assert!(
            matches!(response.status, 200 | 404),
            "{path}: {}",
            response.body
        );
        if response.status == 200 && done(&response.json()) {
            return response.json();
        }
        assert!(
            Instant::now() < deadline,
            "{path} on {} never became ready: {}",
            client.addr(),
            response.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A decimal amount the api serves, as a number.
pub(crate) fn wei(value: &serde_json::Value) -> U256 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a decimal amount: {value}"))
}

/// A subscriber to the api's live stream (`GET /v1/stream`, server-sent events).
pub(crate) struct LiveStream {
    stream: tokio::net::TcpStream,
    seen: String,
}

impl LiveStream {
    /// Subscribes to `topics` (comma-separated) on `client`'s api.
    pub(crate) async fn open(client: &HttpClient, topics: &str) -> Self {
        let mut stream = tokio::net::TcpStream::connect(client.addr())
            .await
            .expect("connect");
        stream
            .write_all(
                format!(
                    "GET /v1/stream?topics={topics} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .expect("subscribe");
        Self {
            stream,
            seen: String::new(),
        }
    }

    /// Reads until `done` holds for everything received so far (or `within` passes); returns
    /// it.
    pub(crate) async fn until(&mut self, within: Duration, done: impl Fn(&str) -> bool) -> &str {
        let mut buf = vec![0u8; 4096];
        let deadline = Instant::now() + within;
        while !done(&self.seen) && Instant::now() < deadline {
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(500), self.stream.read(&mut buf)).await
            {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        &self.seen
    }
}
