//! Session-token key rollover through the api: a rotation while a thousand requests with old
//! tokens are in flight fails none of them; the JWKS lists both keys through the overlap
//! window; once the old version retires, its tokens get 401 `auth.retired_key`.

mod common;

use common::*;
use futures_util::{StreamExt, stream};
use nest_keyring::{LocalKeyStore, SESSION_TOKEN, SessionKeyRing};
use nest_keys::SecretString;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3_600);

/// `n` authenticated `GET /v1/me` with `token`, 100 in flight at a time; their statuses and
/// problem codes.
async fn me_many(api: &Api, token: &str, n: usize) -> Vec<(u16, String)> {
    stream::iter(0..n)
        .map(|_| async {
            let r = api
                .client
                .request("GET", "/v1/me", &[("Authorization", token)], None)
                .await;
            let code = if r.status == 200 {
                String::new()
            } else {
                r.json()["code"].as_str().unwrap_or_default().to_string()
            };
            (r.status, code)
        })
        .buffer_unordered(100)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_fails_no_request_in_flight_and_a_retired_key_gets_401() {
    let stack = Stack::start("api_key_rollover").await;
    let dir = tempfile::tempdir().expect("dir");
    let keystore = LocalKeyStore::new(dir.path(), SecretString::from("rollover pw".to_string()))
        .expect("keystore");
    let ring = SessionKeyRing::open(stack.store.clone(), keystore.clone())
        .await
        .expect("ring");
    let mut config = stack.config();
    config.rate_limits.per_ip = 1_000_000;
    config.rate_limits.per_account = 1_000_000;
    let api = stack.api_with_tokens(config, ring.clone()).await;
    let old = session(&api, &stack, 1).await;
    let jwks = api.client.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    assert_eq!(jwks.json()["keys"].as_array().map(Vec::len), Some(1));

    // A thousand requests with the old token while the key rotates under them.
    let rotation = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        nest_keyring::rotate(&stack.store, &keystore, SESSION_TOKEN, HOUR)
            .await
            .expect("rotate");
        ring.refresh().await.expect("refresh");
    };
    let (answers, ()) = tokio::join!(me_many(&api, &old, 1_000), rotation);
    let failed: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert_eq!(ring.active_version(), Some(2));

    // Through the window both keys are published; new sign-ins use the new one.
    let jwks = api.client.get("/.well-known/jwks.json").await.json();
    let kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect();
    assert_eq!(kids.len(), 2, "{jwks}");
    let new = session(&api, &stack, 2).await;
    assert!(me_many(&api, &new, 10).await.iter().all(|(s, _)| *s == 200));
    assert!(me_many(&api, &old, 10).await.iter().all(|(s, _)| *s == 200));

    // Retired: every old token is refused with the precise problem; new ones are not.
    nest_keyring::retire(&stack.store, SESSION_TOKEN, 1)
        .await
        .expect("retire");
    ring.refresh().await.expect("refresh");
    let answers = me_many(&api, &old, 1_000).await;
    assert!(
        answers
            .iter()
            .all(|(s, c)| *s == 401 && c == "auth.retired_key"),
        "{:?}",
        answers
            .iter()
            .find(|(s, c)| *s != 401 || c != "auth.retired_key")
    );
    let problem = api
        .client
        .request(
            "GET",
            "/v1/me",
            &[("Authorization", &old), ("Accept-Language", "ko")],
            None,
        )
        .await
        .json();
    assert_eq!(problem["title"], "세션 키 폐기됨", "translated: {problem}");
    assert!(me_many(&api, &new, 10).await.iter().all(|(s, _)| *s == 200));
    let jwks = api.client.get("/.well-known/jwks.json").await.json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(jwks["keys"][0]["kid"], kids[1]);

    // Every sign-in signature is in the audit chain, which is intact.
    let (entries, broken) = stack.store.key_ring().verify_audit().await.expect("audit");
    assert_eq!((entries, broken), (2, None));
}
