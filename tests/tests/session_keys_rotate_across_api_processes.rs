//! Two `nest api` processes share a session-token key ring (one store, one keys folder, one
//! Redis). Requests with a signed-in wallet's token go to both without pause while
//! `nest keys rotate` runs: none fails. Both publish both keys and accept tokens from either
//! version through the overlap window; `nest keys retire` then makes both refuse the old
//! tokens with 401 `auth.retired_key` within the ring's refresh interval, and the audit chain
//! of every signature is intact.

mod common;

use common::Processes;
use nest_testkit::{HttpClient, TestChain, TestRedis, TestStore, siwe::bearer};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

const PASSWORD: &str = "e2e key ring password";

/// Runs `nest keys ARGS` against the stack; its standard output.
fn nest_keys(processes: &Processes<'_>, args: &[&str]) -> String {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    let output = processes.nest(&all).output();
    assert!(
        output.status.success(),
        "nest keys {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

async fn me(client: &HttpClient, token: &str) -> (u16, String) {
    let r = client
        .request("GET", "/v1/me", &[("Authorization", token)], None)
        .await;
    let code = if r.status == 200 {
        String::new()
    } else {
        r.json()["code"].as_str().unwrap_or_default().to_string()
    };
    (r.status, code)
}

async fn jwks_kids(client: &HttpClient) -> Vec<String> {
    let jwks = client.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    jwks.json()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_keys_rotate_and_retire_across_two_api_processes_without_a_failed_request() {
    let chain = TestChain::builder().seeded().start().await;
    let store = TestStore::fresh("e2e_keys").await;
    let redis = TestRedis::start();
    let keys = tempfile::tempdir().expect("keys dir");
    let processes =
        Processes::new(&chain, store.database().name(), &redis).with_keys(keys.path(), PASSWORD);
    let (_a, a) = processes.api();
    let (_b, b) = processes.api();
    let wallet = chain.keys[1].clone();
    let old = bearer(&a, &wallet).await;
    assert_eq!(me(&b, &old).await.0, 200, "the other process verifies it");
    let first_kids = jwks_kids(&a).await;
    assert_eq!(first_kids.len(), 1);
    assert_eq!(jwks_kids(&b).await, first_kids, "one ring for both");

    // Requests with the old token, alternating between the processes, never pausing.
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (stop, served, failed) = (stop.clone(), served.clone(), failed.clone());
        let (a, b, token) = (a.clone(), b.clone(), old.clone());
        tokio::spawn(async move {
            let mut turn = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let client = if turn.is_multiple_of(2) { &a } else { &b };
                turn += 1;
                match me(client, &token).await {
                    (200, _) => served.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rotated = nest_keys(&processes, &["rotate", "session-token"]);
    assert!(rotated.contains("v2 is active"), "{rotated}");
    // Within the refresh interval both processes sign with v2 and publish both keys.
    let deadline = Instant::now() + Duration::from_secs(10);
    while jwks_kids(&a).await.len() < 2 || jwks_kids(&b).await.len() < 2 {
        assert!(Instant::now() < deadline, "the rotation never reached both");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load");
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no request failed during the rotation"
    );
    assert!(served.load(Ordering::Relaxed) > 20, "the load kept going");

    let new = bearer(&b, &wallet).await;
    assert_eq!(
        me(&a, &new).await.0,
        200,
        "v2 tokens verify on the other process"
    );
    assert_eq!(
        me(&a, &old).await.0,
        200,
        "v1 tokens still verify in the window"
    );

    let status = nest_keys(&processes, &["status"]);
    assert!(
        status.contains("verify-only") && status.contains("active"),
        "{status}"
    );
    nest_keys(&processes, &["retire", "session-token", "1"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (ra, rb) = (me(&a, &old).await, me(&b, &old).await);
        let refused = |r: &(u16, String)| r.0 == 401 && r.1 == "auth.retired_key";
        if refused(&ra) && refused(&rb) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old tokens still accepted: {ra:?} {rb:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(me(&a, &new).await.0, 200);
    assert_eq!(me(&b, &new).await.0, 200);
    assert_eq!(jwks_kids(&a).await.len(), 1);

    let audit = nest_keys(&processes, &["audit", "--verify"]);
    assert!(audit.contains("audit chain intact: 2 entries"), "{audit}");
}
