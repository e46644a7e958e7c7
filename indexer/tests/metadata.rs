//! Metadata resolution against a local HTTP server serving slow, failing, oversized and hostile
//! documents: every token ends in a defined state, nothing reaches a forbidden address, a
//! worker that dies mid-queue loses no job, and a mint on chain queues its resolution.

mod common;

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine;
use nest_indexer::metadata::{AddressPolicy, FetchLimits, Gateways};
use nest_indexer::{MetadataConfig, MetadataResolver};
use nest_store::{MetadataJob, MetadataState, NftMetadata, Store};
use nest_testkit::TestStore;
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

#[derive(Clone, Default)]
struct Hits {
    flaky: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    forbidden: Arc<AtomicUsize>,
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test step");
    let addr = listener.local_addr().expect("test step");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The hostile metadata server. `{base}` in documents is its own address.
fn hostile(hits: Hits, base: Arc<std::sync::OnceLock<String>>, forbidden: SocketAddr) -> Router {
    let b = move || base.get().cloned().unwrap_or_default();
    let (b1, b2, b3) = (b.clone(), b.clone(), b.clone());
    Router::new()
        .route(
            "/ok/{n}",
            get(move |Path(n): Path<u32>| async move {
                json(format!(
                    r#"{{"name":"Token {n}","image":"{}/img.png","attributes":[{{"trait_type":"Parity","value":"{}"}}]}}"#,
                    b1(),
                    if n % 2 == 0 { "even" } else { "odd" }
                ))
            }),
        )
        .route("/img.png", get(|| async { ([(header::CONTENT_TYPE, "text/html")], PNG) }))
        .route(
            "/svg/{n}",
            get(move |Path(n): Path<u32>| async move {
                json(format!(r#"{{"name":"Svg {n}","image":"{}/evil.svg"}}"#, b2()))
            }),
        )
        .route(
            "/evil.svg",
            get(|| async {
                r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script><rect width="5" height="5" fill="url(https://evil/x)"/><circle r="2"/></svg>"#
            }),
        )
        .route(
            "/slow/{n}",
            get(|_: Path<u32>| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                json("{}".into())
            }),
        )
        .route("/fail/{n}", get(|_: Path<u32>| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/gone/{n}", get(|_: Path<u32>| async { StatusCode::NOT_FOUND }))
        .route(
            "/flaky/{n}",
            get(|State(hits): State<Hits>, Path(n): Path<u32>| async move {
                let seen = {
                    let mut map = hits.flaky.lock().expect("test step");
                    let seen = map.entry(n.to_string()).or_default();
                    *seen += 1;
                    *seen
                };
                if seen == 1 {
                    StatusCode::SERVICE_UNAVAILABLE.into_response()
                } else {
                    json(format!(r#"{{"name":"Flaky {n}"}}"#))
                }
            }),
        )
        .route(
            "/big/{n}",
            get(|_: Path<u32>| async { json(format!("{{\"a\":\"{}\"}}", "x".repeat(100_000))) }),
        )
        .route(
            "/deep/{n}",
            get(|_: Path<u32>| async { json(format!("{{\"a\":{}1{}}}", "[".repeat(500), "]".repeat(500))) }),
        )
        .route("/html/{n}", get(|_: Path<u32>| async { json("<html><body>hi</body></html>".into()) }))
        .route(
            "/loop/{n}",
            get(|Path(n): Path<u32>| async move {
                (StatusCode::FOUND, [(header::LOCATION, format!("/loop/{}", n + 1))]).into_response()
            }),
        )
        .route(
            "/to-metadata-service/{n}",
            get(|_: Path<u32>| async {
                (StatusCode::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")]).into_response()
            }),
        )
        .route(
            "/to-api/{n}",
            get(move |_: Path<u32>| async move {
                (StatusCode::FOUND, [(header::LOCATION, format!("http://{forbidden}/v1/ping"))]).into_response()
            }),
        )
        .route(
            "/ipfs/{cid}/{file}",
            get(move |Path((cid, _file)): Path<(String, String)>| async move {
                json(format!(r#"{{"name":"IPFS {cid}","image":"{}/img.png"}}"#, b3()))
            }),
        )
        .with_state(hits)
}

fn config(allowed: SocketAddr) -> MetadataConfig {
    let gateway = url::Url::parse(&format!("http://{allowed}/ipfs/")).expect("test step");
    MetadataConfig {
        gateways: Gateways {
            ipfs: gateway.clone(),
            arweave: gateway,
        },
        limits: FetchLimits {
            max_document_bytes: 64 * 1024,
            max_image_bytes: 64 * 1024,
            max_redirects: 3,
            timeout: Duration::from_millis(400),
            max_json_depth: 32,
        },
        policy: AddressPolicy {
            allowed: vec![allowed],
        },
        workers: 16,
        per_host: 16,
        lease: Duration::from_secs(2),
        max_attempts: 2,
        backoff: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        idle: Duration::from_millis(20),
    }
}

async fn drain_all(resolver: &MetadataResolver, store: &Store, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        resolver.drain().await.expect("test step");
        if store.metadata().queue_depth().await.expect("test step") == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "queue not drained in {within:?}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn job(n: u32, uri: String) -> MetadataJob {
    MetadataJob::new(
        31337,
        alloy::primitives::Address::repeat_byte(0x11),
        alloy::primitives::U256::from(n),
        &uri,
        &format!("test:{n}"),
    )
}

/// (path kind, expected state, expected reason) for token `n`.
fn plan(n: u32) -> (&'static str, MetadataState, Option<&'static str>) {
    match n % 20 {
        0 => ("slow", MetadataState::Failed, Some("timeout")),
        1 => ("fail", MetadataState::Failed, Some("http_status")),
        2 => ("gone", MetadataState::Failed, Some("http_status")),
        3 => ("flaky", MetadataState::Resolved, None),
        4 => ("big", MetadataState::Failed, Some("too_large")),
        5 => ("deep", MetadataState::Failed, Some("too_deep")),
        6 => ("html", MetadataState::Failed, Some("bad_json")),
        7 => ("loop", MetadataState::Failed, Some("too_many_redirects")),
        8 => (
            "to-metadata-service",
            MetadataState::Failed,
            Some("blocked_address"),
        ),
        9 => ("to-api", MetadataState::Failed, Some("blocked_address")),
        10 => ("svg", MetadataState::Resolved, None),
        11 => ("ipfs", MetadataState::Resolved, None),
        12 => (
            "metadata-service",
            MetadataState::Failed,
            Some("blocked_address"),
        ),
        13 => ("api", MetadataState::Failed, Some("blocked_address")),
        14 => ("data", MetadataState::Resolved, None),
        15 => ("file", MetadataState::Failed, Some("unsupported_scheme")),
        _ => ("ok", MetadataState::Resolved, None),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_hostile_tokens_each_end_in_a_defined_state() {
    let store = TestStore::fresh("metadata_hostile").await;
    let hits = Hits::default();
    // A listener standing for the api (loopback, not allow-listed): it must never be reached.
    let forbidden_hits = hits.forbidden.clone();
    let forbidden = serve(Router::new().fallback(move || {
        forbidden_hits.fetch_add(1, Ordering::SeqCst);
        async { "pong" }
    }))
    .await;
    let base = Arc::new(std::sync::OnceLock::new());
    let addr = serve(hostile(hits.clone(), base.clone(), forbidden)).await;
    base.set(format!("http://{addr}")).expect("test step");
    let tokens = 1_000u32;
    for n in 0..tokens {
        let (kind, _, _) = plan(n);
        let uri = match kind {
            "ipfs" => format!("ipfs://cid{n}/meta.json"),
            "metadata-service" => "http://169.254.169.254/latest/meta-data/".to_string(),
            "api" => format!("http://{forbidden}/v1/ping"),
            "data" => format!(
                "data:application/json;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    r#"{{"name":"Data {n}","image_data":"<svg xmlns='http://www.w3.org/2000/svg'><rect onclick='x()' width='1'/></svg>"}}"#
                ))
            ),
            "file" => "file:///etc/passwd".to_string(),
            other => format!("http://{addr}/{other}/{n}"),
        };
        store
            .metadata()
            .enqueue(&job(n, uri))
            .await
            .expect("test step");
    }
    let resolver = MetadataResolver::new(store.clone(), config(addr)).expect("test step");
    let started = Instant::now();
    drain_all(&resolver, &store, Duration::from_secs(90)).await;
    eprintln!("{tokens} tokens resolved in {:?}", started.elapsed());
    let ids: Vec<String> = (0..tokens).map(|n| job(n, String::new()).id).collect();
    let docs: HashMap<String, NftMetadata> = store
        .metadata()
        .get_many(&ids)
        .await
        .expect("test step")
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect();
    assert_eq!(
        docs.len(),
        tokens as usize,
        "every token has a stored outcome"
    );
    for n in 0..tokens {
        let (kind, state, reason) = plan(n);
        let doc = &docs[&ids[n as usize]];
        assert_eq!(doc.state, state, "token {n} ({kind}): {:?}", doc.error);
        assert_eq!(
            doc.error.as_ref().map(|e| e.reason.as_str()),
            reason,
            "token {n} ({kind})"
        );
        if state == MetadataState::Resolved && kind != "flaky" {
            let media = doc.image_media.as_deref().expect("an image");
            let media = store
                .metadata()
                .media(media)
                .await
                .expect("test step")
                .expect("test step");
            match kind {
                "svg" | "data" => {
                    let svg = String::from_utf8(media.bytes).expect("test step");
                    assert_eq!(media.content_type, "image/svg+xml");
                    for bad in ["script", "onload", "onclick", "evil"] {
                        assert!(!svg.contains(bad), "{bad} in {svg}");
                    }
                }
                _ => assert_eq!(media.content_type, "image/png", "sniffed, not declared"),
            }
        }
    }
    assert_eq!(docs[&ids[3]].attempts, 2, "the flaky token needed a retry");
    assert_eq!(
        docs[&ids[0]].attempts, 2,
        "timeouts are retried up to the limit"
    );
    assert_eq!(docs[&ids[1]].attempts, 2);
    assert_eq!(docs[&ids[2]].attempts, 1, "a 404 is not retried");
    let ok = &docs[&ids[16]];
    let parsed = ok.parsed.as_ref().expect("test step");
    assert_eq!(parsed.name.as_deref(), Some("Token 16"));
    assert_eq!(
        ok.trait_keys,
        vec![NftMetadata::trait_key("Parity", "even")]
    );
    assert_eq!(
        hits.forbidden.load(Ordering::SeqCst),
        0,
        "the api stand-in was never requested"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_queue_loses_no_job() {
    let store = TestStore::fresh("metadata_killed").await;
    let addr = serve(Router::new().route(
        "/doc/{n}",
        get(|Path(n): Path<u32>| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            json(format!(r#"{{"name":"Doc {n}"}}"#))
        }),
    ))
    .await;
    let tokens = 200u32;
    for n in 0..tokens {
        store
            .metadata()
            .enqueue(&job(n, format!("http://{addr}/doc/{n}")))
            .await
            .expect("test step");
    }
    let resolver = MetadataResolver::new(store.clone(), config(addr)).expect("test step");
    let running = {
        let resolver = resolver.clone();
        tokio::spawn(async move { resolver.run(std::future::pending()).await })
    };
    // Let it lease and finish some, then kill it mid-flight (leases held, nothing released).
    while store.metadata().queue_depth().await.expect("test step") > u64::from(tokens) - 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
    let _ = running.await;
    let left = store.metadata().queue_depth().await.expect("test step");
    assert!(left > 0, "killed with jobs still queued");
    // A new worker takes the rest, the abandoned leases once they expire.
    let again = MetadataResolver::new(store.clone(), config(addr)).expect("test step");
    drain_all(&again, &store, Duration::from_secs(30)).await;
    let ids: Vec<String> = (0..tokens).map(|n| job(n, String::new()).id).collect();
    let docs = store.metadata().get_many(&ids).await.expect("test step");
    assert_eq!(docs.len(), tokens as usize);
    assert!(docs.iter().all(|d| d.state == MetadataState::Resolved));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_queued_again_while_resolving_stays_queued() {
    let store = TestStore::fresh("metadata_requeue").await;
    let first = job(1, r#"data:application/json,{"name":"old"}"#.into());
    store.metadata().enqueue(&first).await.expect("test step");
    let claimed = store
        .metadata()
        .claim(i64::MAX / 2, 1_000, 1)
        .await
        .expect("test step")
        .remove(0);
    // A newer request arrives while the old one is being resolved.
    let mut newer = job(1, r#"data:application/json,{"name":"new"}"#.into());
    newer.ticket = "test:newer".into();
    store.metadata().enqueue(&newer).await.expect("test step");
    let resolver =
        MetadataResolver::new(store.clone(), MetadataConfig::default()).expect("test step");
    // The old job's completion does not remove the newer one.
    store
        .metadata()
        .complete(
            &claimed,
            NftMetadata {
                id: claimed.id.clone(),
                chain_id: 31337,
                contract: claimed.contract,
                token_id: claimed.token_id,
                uri: claimed.uri.clone(),
                state: MetadataState::Resolved,
                raw: None,
                parsed: None,
                trait_keys: vec![],
                name_lower: Some("old".into()),
                search_terms: vec![],
                image_media: None,
                fetched_at: 1,
                error: None,
                attempts: 1,
            },
        )
        .await
        .expect("test step");
    assert_eq!(store.metadata().queue_depth().await.expect("test step"), 1);
    resolver.drain().await.expect("test step");
    let doc = store
        .metadata()
        .get(&first.id)
        .await
        .expect("test step")
        .expect("test step");
    assert_eq!(doc.parsed.expect("test step").name.as_deref(), Some("new"));
}
