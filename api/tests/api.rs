//! The api end to end against anvil, the store server, the indexer and a real redis-server.

mod common;

use alloy::{
    primitives::{Address, U256},
    signers::Signer,
};
use common::*;
use nest_abis::NestMarketplace;
use std::time::Duration;

async fn sign_in(api: &Api, stack: &Stack, account: usize) -> (String, String) {
    let nonce = api.client.get("/v1/auth/nonce").await.json()["nonce"]
        .as_str()
        .expect("nonce")
        .to_string();
    let key = &stack.keys[account];
    let message = siwe_message(
        "localhost:8080",
        ORIGIN,
        &key.address().to_checksum(None),
        31337,
        &nonce,
        &rfc3339_now(),
    );
    let signature = key.sign_message(message.as_bytes()).await.expect("sign");
    let body =
        serde_json::json!({ "message": message, "signature": format!("{signature}") }).to_string();
    (body, message)
}

async fn post(api: &Api, path: &str, body: &str, extra: &[(&str, &str)]) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    api.client.request("POST", path, &headers, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siwe_sign_in_refresh_logout_and_replay_rejected() {
    let stack = Stack::start("api_siwe").await;
    let api = stack.api(stack.config(), None).await;
    let (body, _) = sign_in(&api, &stack, 1).await;
    let signed = post(&api, "/v1/auth/verify", &body, &[]).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let session = signed.json();
    let token = session["token"].as_str().expect("token").to_string();
    assert_eq!(
        session["address"],
        stack.keys[1].address().to_checksum(None)
    );

    let auth = format!("Bearer {token}");
    let me = api
        .client
        .request("GET", "/v1/me", &[("Authorization", &auth)], None)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json()["address"],
        stack.keys[1].address().to_checksum(None)
    );
    assert_eq!(me.header("cache-control"), Some("private, no-store"));

    // The same signed message again: its nonce is spent.
    let replay = post(&api, "/v1/auth/verify", &body, &[("Accept-Language", "ko")]).await;
    assert_eq!(replay.status, 401);
    let problem = replay.json();
    assert_eq!(problem["code"], "auth.nonce_unknown");
    assert!(
        problem["detail"].as_str().expect("detail").contains("논스"),
        "Korean: {problem}"
    );
    assert_eq!(
        replay.header("content-type"),
        Some("application/problem+json")
    );

    // Refresh ends the old session.
    let refreshed = api
        .client
        .request(
            "POST",
            "/v1/auth/refresh",
            &[("Authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let new_auth = format!(
        "Bearer {}",
        refreshed.json()["token"].as_str().expect("token")
    );
    let old = api
        .client
        .request("GET", "/v1/me", &[("Authorization", &auth)], None)
        .await;
    assert_eq!(old.json()["code"], "auth.session_revoked");
    let logout = api
        .client
        .request(
            "POST",
            "/v1/auth/logout",
            &[("Authorization", &new_auth)],
            None,
        )
        .await;
    assert_eq!(logout.status, 204);
    let after = api
        .client
        .request("GET", "/v1/me", &[("Authorization", &new_auth)], None)
        .await;
    assert_eq!(
        (after.status, after.json()["code"].as_str()),
        (401, Some("auth.session_revoked"))
    );
    let none = api.client.get("/v1/me").await;
    assert_eq!(none.json()["code"], "auth.missing_token");
    let forged = api
        .client
        .request(
            "GET",
            "/v1/me",
            &[("Authorization", "Bearer abc.def.ghi")],
            None,
        )
        .await;
    assert_eq!(forged.json()["code"], "auth.invalid_token");

    // Each check of the message, with its precise code.
    let key = &stack.keys[2];
    let address = key.address().to_checksum(None);
    for (domain, uri, chain, issued, code) in [
        (
            "evil.example",
            ORIGIN,
            31337,
            rfc3339_now(),
            "auth.wrong_domain",
        ),
        (
            "localhost:8080",
            "https://evil.example",
            31337,
            rfc3339_now(),
            "auth.wrong_uri",
        ),
        (
            "localhost:8080",
            ORIGIN,
            1,
            rfc3339_now(),
            "auth.wrong_chain",
        ),
        (
            "localhost:8080",
            ORIGIN,
            31337,
            rfc3339(1_000_000_000),
            "auth.message_expired",
        ),
    ] {
        let nonce = api.client.get("/v1/auth/nonce").await.json()["nonce"]
            .as_str()
            .expect("nonce")
            .to_string();
        let message = siwe_message(domain, uri, &address, chain, &nonce, &issued);
        let signature = key.sign_message(message.as_bytes()).await.expect("sign");
        let body = serde_json::json!({ "message": message, "signature": format!("{signature}") })
            .to_string();
        let response = post(&api, "/v1/auth/verify", &body, &[]).await;
        assert_eq!(response.json()["code"], code, "{}", response.body);
    }
    // A signature by another key.
    let nonce = api.client.get("/v1/auth/nonce").await.json()["nonce"]
        .as_str()
        .expect("nonce")
        .to_string();
    let message = siwe_message(
        "localhost:8080",
        ORIGIN,
        &address,
        31337,
        &nonce,
        &rfc3339_now(),
    );
    let signature = stack.keys[3]
        .sign_message(message.as_bytes())
        .await
        .expect("sign");
    let body =
        serde_json::json!({ "message": message, "signature": format!("{signature}") }).to_string();
    assert_eq!(
        post(&api, "/v1/auth/verify", &body, &[]).await.json()["code"],
        "auth.bad_signature"
    );
    let garbage = serde_json::json!({ "message": "hello", "signature": "0x00" }).to_string();
    assert_eq!(
        post(&api, "/v1/auth/verify", &garbage, &[]).await.json()["code"],
        "auth.bad_message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_endpoint_answers_and_bad_input_gets_precise_translated_errors() {
    let stack = Stack::start("api_reads").await;
    let api = stack.api(stack.config(), None).await;
    let a = stack.addresses;
    let nft = a.nft.to_checksum(None);
    let seller = stack.seed.actors[0].to_checksum(None);
    let offerer = stack.seed.actors[2].to_checksum(None);
    let proposal = stack.seed.proposal_id.to_string();
    for (path, check) in [
        (
            "/v1/listings?status=active&sort=price_asc".to_string(),
            "items",
        ),
        ("/v1/listings/1".to_string(), "price"),
        (format!("/v1/nfts?owner={seller}"), "items"),
        (format!("/v1/nfts/{nft}/1"), "history"),
        ("/v1/auctions".to_string(), "items"),
        ("/v1/auctions/1".to_string(), "bids"),
        (format!("/v1/offers?buyer={offerer}"), ""),
        (format!("/v1/offers?nft={nft}&tokenId=3"), ""),
        ("/v1/sales?limit=5".to_string(), ""),
        (format!("/v1/collections/{nft}/stats"), "owners"),
        ("/v1/proposals".to_string(), "items"),
        (format!("/v1/proposals/{proposal}"), "votes"),
        (format!("/v1/votes?voter={seller}"), ""),
        ("/v1/delegates?limit=3".to_string(), ""),
        (format!("/v1/delegates/{seller}"), "votes"),
        ("/openapi.json".to_string(), "openapi"),
        ("/readyz".to_string(), "store"),
    ] {
        let response = api.client.get(&path).await;
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        if !check.is_empty() {
            assert!(
                response.json().get(check).is_some(),
                "{path} has {check}: {}",
                response.body
            );
        }
    }
    let listing = api.client.get("/v1/listings/1").await.json();
    assert_eq!(listing["status"], "active");
    assert_eq!(listing["seller"], seller);
    let detail = api
        .client
        .get(&format!("/v1/proposals/{proposal}"))
        .await
        .json();
    assert_eq!(detail["state"], "active");
    assert_eq!(detail["actions"][0]["function"], "setFeeBps(uint16)");
    assert_eq!(detail["votes"][0]["support"], "for");
    let doc = api.client.get("/openapi.json").await.json();
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    assert!(doc["paths"]["/v1/listings"].is_object());
    assert_eq!(api.client.get("/healthz").await.body, "ok");

    // Conditional GET.
    let first = api.client.get("/v1/listings/1").await;
    let etag = first.header("etag").expect("etag").to_string();
    assert!(
        first
            .header("cache-control")
            .expect("cc")
            .starts_with("public")
    );
    let again = api
        .client
        .request("GET", "/v1/listings/1", &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(again.status, 304);

    // Bad input: a 4xx with a precise code, in the asked language, with the request id.
    let lower_seller = seller.to_lowercase();
    let bad_checksum = seller.replacen(|c: char| c.is_ascii_lowercase(), "X", 0);
    let mut wrong_case = seller.clone();
    if let Some(pos) = wrong_case
        .char_indices()
        .skip(2)
        .find(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
    {
        let c = wrong_case.as_bytes()[pos] as char;
        let flipped = if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        };
        wrong_case.replace_range(pos..=pos, &flipped.to_string());
    }
    let _ = bad_checksum;
    assert_eq!(
        api.client
            .get(&format!("/v1/nfts?owner={lower_seller}"))
            .await
            .status,
        200,
        "lowercase accepted"
    );
    for (path, status, code) in [
        (
            format!("/v1/nfts?owner={wrong_case}"),
            400,
            "request.bad_checksum",
        ),
        (
            "/v1/nfts?owner=0x123".to_string(),
            400,
            "request.invalid_address",
        ),
        (
            "/v1/nfts?owner[$ne]=x".to_string(),
            400,
            "request.invalid_parameter",
        ),
        (
            "/v1/listings?limit=0".to_string(),
            400,
            "request.limit_out_of_range",
        ),
        (
            "/v1/listings?limit=1000".to_string(),
            400,
            "request.limit_out_of_range",
        ),
        (
            "/v1/listings?status=everything".to_string(),
            400,
            "request.unknown_value",
        ),
        (
            "/v1/listings?color=red".to_string(),
            400,
            "request.invalid_parameter",
        ),
        (
            "/v1/listings?minPrice=-5".to_string(),
            400,
            "request.invalid_parameter",
        ),
        (
            "/v1/listings?cursor=zz".to_string(),
            400,
            "request.invalid_cursor",
        ),
        ("/v1/listings/999".to_string(), 404, "not_found"),
        (
            "/v1/listings/abc".to_string(),
            400,
            "request.invalid_parameter",
        ),
        ("/v1/nope".to_string(), 404, "route.not_found"),
        ("/v1/offers".to_string(), 400, "request.invalid_parameter"),
    ] {
        let response = api
            .client
            .request("GET", &path, &[("Accept-Language", "ja,en;q=0.5")], None)
            .await;
        assert_eq!(response.status, status, "{path}: {}", response.body);
        let problem = response.json();
        assert_eq!(problem["code"], code, "{path}");
        assert_eq!(response.header("content-language"), Some("ja"));
        assert!(problem["requestId"].is_string(), "{path}: request id");
        assert_eq!(problem["status"], status);
    }
    let zh = api
        .client
        .request(
            "GET",
            "/v1/listings/999",
            &[("Accept-Language", "zh-CN")],
            None,
        )
        .await
        .json();
    assert!(
        zh["detail"].as_str().expect("detail").contains("不存在"),
        "{zh}"
    );
    let wrong_method = api
        .client
        .request("DELETE", "/v1/listings", &[], None)
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.json()["code"].as_str()),
        (405, Some("method.not_allowed"))
    );
    let malformed = post(&api, "/v1/auth/verify", "{\"message\": ", &[]).await;
    assert_eq!(
        (malformed.status, malformed.json()["code"].as_str()),
        (400, Some("request.malformed_json"))
    );
    let not_json = api
        .client
        .request(
            "POST",
            "/v1/auth/verify",
            &[("Content-Type", "text/plain")],
            Some("hi"),
        )
        .await;
    assert_eq!(not_json.json()["code"], "request.unsupported_media_type");
    let huge = format!(
        "{{\"message\": \"{}\", \"signature\": \"0x\"}}",
        "a".repeat(100_000)
    );
    let too_big = post(&api, "/v1/auth/verify", &huge, &[]).await;
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    let injection = serde_json::json!({ "message": { "$gt": "" }, "signature": "0x" }).to_string();
    assert_eq!(
        post(&api, "/v1/auth/verify", &injection, &[]).await.json()["code"],
        "request.malformed_json"
    );

    let metrics = api.client.get("/metrics").await;
    assert!(
        metrics.body.contains("nest_api_requests_total"),
        "{}",
        &metrics.body[..metrics.body.len().min(500)]
    );
    let security = api.client.get("/v1/listings/1").await;
    assert_eq!(security.header("x-content-type-options"), Some("nosniff"));
    assert!(security.header("x-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_shows_at_the_api_once_indexed_never_stale_through_redis() {
    let mut redis = RedisServer::start();
    let stack = Stack::start("api_fresh").await;
    // Two instances sharing Redis: the one that did not hear the change directly still updates.
    let api = stack.api(stack.config(), Some(&redis.url())).await;
    let other = stack.api(stack.config(), Some(&redis.url())).await;
    for instance in [&api, &other] {
        assert_eq!(
            instance.client.get("/v1/listings/1").await.json()["status"],
            "active"
        );
        assert_eq!(
            instance
                .client
                .get("/v1/listings?status=active")
                .await
                .json()["items"]
                .as_array()
                .expect("items")
                .len(),
            1
        );
    }
    let mut stream = tokio::net::TcpStream::connect(other.addr)
        .await
        .expect("connect");
    {
        use tokio::io::AsyncWriteExt;
        stream
            .write_all(b"GET /v1/stream?topics=listings:1,sales HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            .await
            .expect("subscribe");
    }

    let buyer = stack.provider(5);
    let buy = NestMarketplace::new(stack.addresses.marketplace, &buyer)
        .buy(U256::from(1), U256::from(10u64).pow(U256::from(18)))
        .value(U256::from(10u64).pow(U256::from(18)))
        .into_transaction_request();
    use alloy::providers::Provider;
    let receipt = buyer
        .send_transaction(buy)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    stack.index().await;

    for instance in [&api, &other] {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let listing = instance.client.get("/v1/listings/1").await.json();
            if listing["status"] == "sold" {
                assert_eq!(listing["buyer"], stack.keys[5].address().to_checksum(None));
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sale reached every instance: {listing}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            instance
                .client
                .get("/v1/listings?status=active")
                .await
                .json()["items"]
                .as_array()
                .expect("items")
                .is_empty()
        );
        assert_eq!(
            instance
                .client
                .get("/v1/sales")
                .await
                .json()
                .as_array()
                .expect("sales")
                .len(),
            1
        );
    }
    // The live stream told the subscriber.
    {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 4096];
        let mut seen = String::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !seen.contains("event: listings") && std::time::Instant::now() < deadline {
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await
            {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        assert!(
            seen.contains("event: listings") && seen.contains("\"id\":\"1\""),
            "{seen}"
        );
    }

    // Redis dies: answers keep coming from the store (degraded, never 5xx), never stale.
    redis.kill();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ready = api.client.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["redis"], false);
    assert_eq!(
        api.client.get("/v1/listings/1").await.json()["status"],
        "sold"
    );
    let seller = stack.provider(1);
    let relist = NestMarketplace::new(stack.addresses.marketplace, &seller)
        .createListing(
            stack.addresses.nft,
            stack.seed.minted[3],
            Address::ZERO,
            U256::from(7),
            0,
        )
        .into_transaction_request();
    seller
        .send_transaction(relist)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    stack.index().await;
    let page = api.client.get("/v1/listings?status=active").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.json()["items"].as_array().expect("items").len(),
        1,
        "not stale without Redis"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_shared_through_redis_and_answer_429_with_retry_after() {
    let redis = RedisServer::start();
    let stack = Stack::start("api_limits").await;
    let mut config = stack.config();
    config.rate_limits.per_ip = 6;
    let a = stack.api(config.clone(), Some(&redis.url())).await;
    let b = stack.api(config, Some(&redis.url())).await;
    for _ in 0..3 {
        assert_eq!(a.client.get("/v1/ping").await.status, 200);
        assert_eq!(b.client.get("/v1/ping").await.status, 200);
    }
    let limited = a
        .client
        .request("GET", "/v1/ping", &[("Accept-Language", "ko")], None)
        .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    assert_eq!(limited.json()["code"], "rate_limited");
    assert!(
        limited.json()["detail"]
            .as_str()
            .expect("detail")
            .contains("초"),
        "Korean"
    );
    assert_eq!(
        b.client.get("/v1/ping").await.status,
        429,
        "the other instance shares the count"
    );
    assert_eq!(
        a.client.get("/healthz").await.status,
        200,
        "operations are not limited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_from_mounted_routers_are_translated_keeping_their_specifics() {
    use alloy::signers::local::PrivateKeySigner;
    use axum::{
        http::{StatusCode, header},
        routing::post,
    };
    let store = nest_store::testing::fresh_test_store("api_foreign")
        .await
        .expect("store");
    let addresses = nest_chain::NestAddresses {
        forwarder: Address::repeat_byte(1),
        token: Address::repeat_byte(2),
        timelock: Address::repeat_byte(3),
        governor: Address::repeat_byte(4),
        nft: Address::repeat_byte(5),
        marketplace: Address::repeat_byte(6),
    };
    let tokens =
        nest_keys::TokenSigner::new(nest_keys::NestSigner::from_local(PrivateKeySigner::random()));
    let state = nest_api::AppState::new(
        nest_api::ApiConfig::new(31337, addresses, ORIGIN),
        store,
        tokens,
        None,
        None,
    )
    .await
    .expect("state");
    // Stands in for the relayer's intake: an English problem with a stable code.
    let relay = axum::Router::new().route(
        "/v1/relay",
        post(|| async {
            (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "application/problem+json")],
                r#"{"type":"urn:nest:problem:relay.nonce","title":"Wrong nonce","status":409,"detail":"nonce 7 is not the next one (5)","code":"relay.nonce"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(nest_api::serve(
        listener,
        nest_api::router(state, Some(relay)),
        std::future::pending(),
    ));
    let client = HttpClient::new(addr);
    let response = client
        .request(
            "POST",
            "/v1/relay",
            &[
                ("Accept-Language", "ja"),
                ("Content-Type", "application/json"),
            ],
            Some("{}"),
        )
        .await;
    assert_eq!(response.status, 409);
    assert_eq!(response.header("content-language"), Some("ja"));
    let problem = response.json();
    assert_eq!(problem["code"], "relay.nonce");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("ノンス"),
        "{problem}"
    );
    assert_eq!(
        problem["reason"], "nonce 7 is not the next one (5)",
        "the specifics are kept"
    );
}
