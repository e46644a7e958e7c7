//! Harness for the api's integration tests: anvil with Nest deployed and seeded, a fresh store
//! database, the indexer, a real `redis-server` on a free port, and the api on a free port.

#![allow(dead_code, unreachable_pub, missing_docs)]

use alloy::{providers::DynProvider, signers::local::PrivateKeySigner};
use nest_api::{ApiConfig, AppState, Mounted, bus::Notice};
use nest_chain::{
    AnvilNode, AnvilOptions, Deployer, DeploymentConfig, NestAddresses, ProjectLayout,
    http_provider,
    seed::{SeedReport, seed_demo},
};
use nest_indexer::{Indexer, IndexerConfig};
use nest_keys::{NestSigner, TokenSigner};
use nest_store::{Store, testing::fresh_test_store};
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

pub const ORIGIN: &str = "http://localhost:8080";

pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/setup installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub struct Stack {
    pub node: AnvilNode,
    pub addresses: NestAddresses,
    pub keys: Vec<PrivateKeySigner>,
    pub store: Store,
    pub indexer: Arc<Indexer>,
    pub seed: SeedReport,
    pub start_block: u64,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub async fn start(label: &str) -> Self {
        let layout = ProjectLayout::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
            .expect("checkout");
        let node =
            AnvilNode::spawn(&layout.anvil_binary(), &AnvilOptions::default()).expect("anvil");
        let keys = node.keys().to_vec();
        let dir = tempfile::tempdir().expect("tmp");
        let mut config = DeploymentConfig::dev();
        config.dev_accounts = node.addresses();
        let report = Deployer::new(
            http_provider(&node.endpoint(), Some(keys[0].clone())).expect("provider"),
            node.endpoint(),
            keys[0].address(),
            Some(31337),
            dir.path().join("m.json"),
            config,
        )
        .await
        .expect("connect")
        .run()
        .await
        .expect("deploy");
        let addresses = NestAddresses::from_manifest(&report.manifest).expect("addresses");
        let seed = seed_demo(&node.endpoint(), &addresses, &keys)
            .await
            .expect("seed")
            .expect("seeded");
        let start_block = report
            .manifest
            .contracts
            .values()
            .map(|c| c.deploy_block)
            .min()
            .unwrap_or(0);
        let store = fresh_test_store(label).await.expect("store");
        let indexer = Indexer::new(
            IndexerConfig::new(31337, addresses, start_block),
            store.clone(),
            http_provider(&node.endpoint(), None).expect("p"),
        )
        .await
        .expect("indexer");
        let stack = Self {
            node,
            addresses,
            keys,
            store,
            indexer: Arc::new(indexer),
            seed,
            start_block,
            _dir: dir,
        };
        stack.index().await;
        stack
    }

    pub fn provider(&self, account: usize) -> DynProvider {
        http_provider(&self.node.endpoint(), Some(self.keys[account].clone())).expect("provider")
    }

    /// Brings the store up to the chain head.
    pub async fn index(&self) {
        self.indexer.backfill(None).await.expect("backfill");
        while self.indexer.follow_step().await.expect("follow") > 0 {}
    }

    pub fn config(&self) -> ApiConfig {
        ApiConfig::new(31337, self.addresses, ORIGIN)
    }

    /// Starts an api instance; its bus receives the indexer's notices.
    pub async fn api(&self, config: ApiConfig, redis: Option<&str>) -> Api {
        let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
        let state = AppState::new(
            config,
            self.store.clone(),
            tokens,
            redis,
            Some(http_provider(&self.node.endpoint(), None).expect("p")),
        )
        .await
        .expect("state");
        // The indexer's notices go onto the bus (through Redis when configured).
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
        serve_api(state, None).await
    }
}

/// Serves `state`'s public router (with `extra` mounted) and its admin router, each on a free
/// port.
pub async fn serve_api(state: AppState, extra: Option<Mounted>) -> Api {
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
    Api {
        addr,
        client: HttpClient::new(addr),
        admin: HttpClient::new(admin_addr),
        state,
    }
}

/// An api over a fresh store database, with placeholder contract addresses and no chain: for
/// tests of the HTTP surface itself. `configure` adjusts the configuration; `extra` is mounted.
pub async fn bare_api(
    label: &str,
    configure: impl FnOnce(&mut ApiConfig),
    extra: Option<Mounted>,
) -> Api {
    let store = fresh_test_store(label).await.expect("store");
    bare_api_on(store, configure, None, extra).await
}

/// [`bare_api`] over `store`, sharing its cache, limits and notices through `redis`.
pub async fn bare_api_on(
    store: Store,
    configure: impl FnOnce(&mut ApiConfig),
    redis: Option<&str>,
    extra: Option<Mounted>,
) -> Api {
    let addresses = NestAddresses {
        forwarder: alloy::primitives::Address::repeat_byte(1),
        token: alloy::primitives::Address::repeat_byte(2),
        timelock: alloy::primitives::Address::repeat_byte(3),
        governor: alloy::primitives::Address::repeat_byte(4),
        nft: alloy::primitives::Address::repeat_byte(5),
        marketplace: alloy::primitives::Address::repeat_byte(6),
    };
    let mut config = ApiConfig::new(31337, addresses, ORIGIN);
    configure(&mut config);
    let tokens = TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()));
    let state = AppState::new(config, store, tokens, redis, None)
        .await
        .expect("state");
    serve_api(state, extra).await
}

pub struct Api {
    pub addr: SocketAddr,
    /// The public listener.
    pub client: HttpClient,
    /// The admin listener (`/metrics`).
    pub admin: HttpClient,
    pub state: AppState,
}

/// A tiny HTTP/1.1 client over tokio (no extra dependency): enough for tests.
#[derive(Clone)]
pub struct HttpClient {
    addr: SocketAddr,
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("JSON body ({e}): {}", self.body))
    }
}

impl HttpClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr }
    }

    pub async fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, &[], None).await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> HttpResponse {
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        if let Some(b) = body {
            head.push_str(b);
        }
        self.raw(head.as_bytes()).await
    }

    /// Sends `request` as is (head and body) and reads the answer.
    pub async fn raw(&self, request: &[u8]) -> HttpResponse {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        // The server may answer (and close) before reading a refused body.
        let _ = stream.write_all(request).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        HttpResponse {
            status,
            headers,
            body,
        }
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        out.push_str(&after[..n.min(after.len())]);
        rest = after.get(n + 2..).unwrap_or("");
    }
    out
}

/// An EIP-4361 message for `address`.
pub fn siwe_message(
    domain: &str,
    uri: &str,
    address: &str,
    chain_id: u64,
    nonce: &str,
    issued_at: &str,
) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\nSign in to Nest.\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {issued_at}"
    )
}

pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    rfc3339(secs)
}

pub fn rfc3339(secs: u64) -> String {
    // Civil-from-days (Howard Hinnant), UTC.
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}
