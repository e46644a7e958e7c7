//! The api end to end against anvil, the store server, the indexer and a real redis-server.

mod common;

use alloy::{
    primitives::{Address, U256},
    signers::Signer,
};
use common::*;
use nest_abis::NestMarketplace;
use std::time::Duration;

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

    // Sign out everywhere: two sessions of one wallet (two devices) end with one request;
    // another wallet's session stays.
    let mut tokens = Vec::new();
    for account in [1, 1, 2] {
        let (body, _) = sign_in(&api, &stack, account).await;
        let signed = post(&api, "/v1/auth/verify", &body, &[]).await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        tokens.push(format!(
            "Bearer {}",
            signed.json()["token"].as_str().expect("token")
        ));
    }
    let all = api
        .client
        .request(
            "POST",
            "/v1/auth/logout-all",
            &[("Authorization", &tokens[0])],
            None,
        )
        .await;
    assert_eq!(all.status, 204, "{}", all.body);
    for (token, expected) in tokens.iter().zip([401, 401, 200]) {
        let me = api
            .client
            .request("GET", "/v1/me", &[("Authorization", token)], None)
            .await;
        assert_eq!(me.status, expected, "{}", me.body);
    }
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
            "request.unknown_parameter",
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
            "request.unknown_parameter",
        ),
        (
            "/v1/listings?minPrice=-5".to_string(),
            400,
            "request.invalid_number",
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
            "request.invalid_number",
        ),
        ("/v1/nope".to_string(), 404, "route.not_found"),
        ("/v1/offers".to_string(), 400, "request.offer_filter"),
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
    let injected = post(&api, "/v1/auth/verify", &injection, &[]).await.json();
    assert_eq!(injected["code"], "request.invalid_field", "{injected}");
    assert_eq!(injected["parameter"], "message", "{injected}");

    let metrics = api.admin.get("/metrics").await;
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

/// Stands in for the relayer's intake: an English problem with a stable code, and a handler
/// slower than the api's time limit.
fn mounted_stand_in() -> nest_api::Mounted {
    use axum::{
        http::{StatusCode, header},
        routing::{get, post},
    };
    let router = axum::Router::new()
        .route(
            "/v1/relay",
            post(|| async {
                (
                    StatusCode::CONFLICT,
                    [(header::CONTENT_TYPE, "application/problem+json")],
                    r#"{"type":"urn:nest:problem:relay.nonce","title":"Wrong nonce","status":409,"detail":"nonce 7 is not the next one (5)","code":"relay.nonce"}"#,
                )
            }),
        )
        .route(
            "/v1/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let openapi = utoipa::openapi::OpenApiBuilder::new()
        .paths(utoipa::openapi::PathsBuilder::new().path(
            "/v1/relay",
            utoipa::openapi::PathItem::new(
                utoipa::openapi::HttpMethod::Post,
                utoipa::openapi::path::OperationBuilder::new().operation_id(Some("relay")),
            ),
        ))
        .build();
    nest_api::Mounted { router, openapi }
}

/// Asserts `response` is a problem with `status` and `code`, in `lang`, naming the request.
#[track_caller]
fn assert_problem(
    response: &HttpResponse,
    status: u16,
    code: &str,
    lang: &str,
) -> serde_json::Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{}",
        response.body
    );
    assert_eq!(
        response.header("content-language"),
        Some(lang),
        "{}",
        response.body
    );
    let problem = response.json();
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(
        problem["type"],
        format!("urn:nest:problem:{code}"),
        "{problem}"
    );
    assert!(
        problem["requestId"]
            .as_str()
            .is_some_and(|id| Some(id) == response.header("x-request-id")),
        "{problem}"
    );
    problem
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layer_answers_with_a_translated_problem() {
    let api = bare_api(
        "api_layers",
        |c| c.request_timeout = Duration::from_millis(300),
        Some(mounted_stand_in()),
    )
    .await;
    let ko = [("Accept-Language", "ko")];

    // The body limit, with a Content-Length (refused before the body is read) and chunked, on
    // the api's routes and on a mounted router's.
    let big = "a".repeat(100_000);
    for path in ["/v1/auth/verify", "/v1/relay"] {
        let response = api
            .client
            .request(
                "POST",
                path,
                &[
                    ("Accept-Language", "ko"),
                    ("Content-Type", "application/json"),
                ],
                Some(&big),
            )
            .await;
        let problem = assert_problem(&response, 413, "request.body_too_large", "ko");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("65536바이트"),
            "{problem}"
        );
    }
    let mut chunked = b"POST /v1/auth/verify HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept-Language: ko\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 20_000, "a".repeat(20_000)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_problem(
        &api.client.raw(&chunked).await,
        413,
        "request.body_too_large",
        "ko",
    );

    // The time limit.
    let slow = api.client.request("GET", "/v1/slow", &ko, None).await;
    assert_problem(&slow, 503, "request.timeout", "ko");
    assert!(slow.header("retry-after").is_some());

    // Routing: unknown path, wrong method (with the allowed ones named).
    assert_problem(
        &api.client.request("GET", "/v1/nope", &ko, None).await,
        404,
        "route.not_found",
        "ko",
    );
    let wrong = api
        .client
        .request("DELETE", "/v1/listings", &ko, None)
        .await;
    assert_problem(&wrong, 405, "method.not_allowed", "ko");
    assert!(
        wrong.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        wrong.headers
    );

    // Extractors: a path parameter that is not UTF-8, a query parameter that is not a number,
    // unknown and missing ones; each names the parameter, the detail is translated and the
    // parser's English stays in `reason`.
    let problem = assert_problem(
        &api.client
            .request("GET", "/v1/listings/%FF", &ko, None)
            .await,
        400,
        "request.invalid_parameter",
        "ko",
    );
    assert_eq!(problem["parameter"], "id", "{problem}");
    for lang in ["ko", "ja", "zh"] {
        let response = api
            .client
            .request(
                "GET",
                "/v1/listings?limit=abc",
                &[("Accept-Language", lang)],
                None,
            )
            .await;
        let problem = assert_problem(&response, 400, "request.invalid_parameter", lang);
        assert_eq!(problem["parameter"], "limit", "{problem}");
        let detail = problem["detail"].as_str().expect("detail");
        assert!(
            detail.contains("limit") && !detail.contains("invalid digit"),
            "{lang}: {detail}"
        );
        assert!(!detail.is_ascii(), "{lang}: translated: {detail}");
        assert!(
            problem["reason"]
                .as_str()
                .expect("reason")
                .contains("invalid digit"),
            "{problem}"
        );
    }
    let problem = assert_problem(
        &api.client
            .request("GET", "/v1/sales?colour=red", &ko, None)
            .await,
        400,
        "request.unknown_parameter",
        "ko",
    );
    assert_eq!(problem["parameter"], "colour");
    let problem = assert_problem(
        &api.client.request("GET", "/v1/nfts", &ko, None).await,
        400,
        "request.missing_parameter",
        "ko",
    );
    assert_eq!(problem["parameter"], "owner");
    let problem = assert_problem(
        &api.client
            .request("GET", "/v1/listings?limit=0", &ko, None)
            .await,
        400,
        "request.limit_out_of_range",
        "ko",
    );
    assert_eq!(problem["parameter"], "limit");

    // Bodies: media type, JSON syntax, and fields wrongly typed, unknown or missing.
    let text = api
        .client
        .request(
            "POST",
            "/v1/auth/verify",
            &[("Accept-Language", "ja"), ("Content-Type", "text/plain")],
            Some("{}"),
        )
        .await;
    assert_problem(&text, 415, "request.unsupported_media_type", "ja");
    let problem = assert_problem(
        &post(
            &api,
            "/v1/auth/verify",
            "{\"message\": ",
            &[("Accept-Language", "ja")],
        )
        .await,
        400,
        "request.malformed_json",
        "ja",
    );
    assert!(problem["reason"].is_string(), "{problem}");
    for (body, code, field) in [
        (
            r#"{"message": 5, "signature": "0x"}"#,
            "request.invalid_field",
            "message",
        ),
        (
            r#"{"message": "m", "signature": "0x", "extra": 1}"#,
            "request.unknown_field",
            "extra",
        ),
        (r#"{"message": "m"}"#, "request.missing_field", "signature"),
    ] {
        let problem = assert_problem(
            &post(&api, "/v1/auth/verify", body, &[("Accept-Language", "ja")]).await,
            400,
            code,
            "ja",
        );
        assert_eq!(problem["parameter"], field, "{problem}");
        assert!(
            problem["detail"].as_str().expect("detail").contains(field),
            "{problem}"
        );
    }

    // A title is the code's own text, whatever the detail quotes (here a URI with a colon).
    let message = siwe_message(
        "localhost:8080",
        "https://evil.example/login",
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        31337,
        "abcdefgh12345678",
        &rfc3339_now(),
    );
    let body = serde_json::json!({ "message": message, "signature": "0x00" }).to_string();
    let response = api
        .client
        .request(
            "POST",
            "/v1/auth/verify",
            &[("Content-Type", "application/json")],
            Some(&body),
        )
        .await;
    let problem = assert_problem(&response, 401, "auth.wrong_uri", "en");
    assert_eq!(problem["title"], "Sign-in URI of another site", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("https://evil.example/login")
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer realm=\"nest\"")
    );

    // 401s carry an RFC 6750 challenge.
    let anonymous = api.client.get("/v1/me").await;
    assert_problem(&anonymous, 401, "auth.missing_token", "en");
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Bearer realm=\"nest\"")
    );
    let forged = api
        .client
        .request(
            "GET",
            "/v1/me",
            &[("Authorization", "Bearer not.a.token")],
            None,
        )
        .await;
    assert_problem(&forged, 401, "auth.invalid_token", "en");
    let challenge = forged.header("www-authenticate").expect("challenge");
    assert!(
        challenge.starts_with("Bearer realm=\"nest\", error=\"invalid_token\""),
        "{challenge}"
    );

    // A mounted router's problem: translated, its specifics kept, the request id added.
    let relay = api
        .client
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
    let problem = assert_problem(&relay, 409, "relay.nonce", "ja");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("ノンス"),
        "{problem}"
    );
    assert_eq!(problem["title"], "ノンスの誤り");
    assert_eq!(
        problem["reason"], "nonce 7 is not the next one (5)",
        "the specifics are kept"
    );

    // Conditional GET: weak comparison, lists and `*`.
    let first = api.client.get("/v1/sales").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let etag = first.header("etag").expect("etag").to_string();
    for condition in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", W/{etag}"),
        "*".to_string(),
    ] {
        let again = api
            .client
            .request("GET", "/v1/sales", &[("If-None-Match", &condition)], None)
            .await;
        assert_eq!(again.status, 304, "If-None-Match: {condition}");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
    let changed = api
        .client
        .request(
            "GET",
            "/v1/sales",
            &[("If-None-Match", "W/\"other\"")],
            None,
        )
        .await;
    assert_eq!(changed.status, 200);

    // Metrics are on the admin listener only.
    assert_problem(
        &api.client.get("/metrics").await,
        404,
        "route.not_found",
        "en",
    );
    let metrics = api.admin.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("nest_api_requests_total"));

    // The document includes the mounted router's paths.
    let doc = api.client.get("/openapi.json").await.json();
    assert!(
        doc["paths"]["/v1/relay"]["post"].is_object(),
        "mounted paths are described"
    );
    assert!(doc["paths"]["/v1/ping"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_declares_query_parameters_limits_and_problem_answers() {
    let doc: serde_json::Value =
        serde_json::from_str(&nest_api::openapi::document()).expect("JSON");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in ["/healthz", "/readyz", "/v1/ping", "/v1/listings"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is described");
    }
    let mut lists = 0;
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(
                operation_ids.insert(id.to_string()),
                "{method} {path}: operationId {id} is not unique"
            );
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().expect("name");
                let placed = parameter["in"].as_str().expect("in");
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    placed == "path",
                    in_template,
                    "{method} {path} {name} is in {placed}"
                );
                if name == "limit" {
                    lists += 1;
                    assert_eq!(parameter["schema"]["minimum"], 1, "{path}");
                    assert_eq!(parameter["schema"]["maximum"], 100, "{path}");
                }
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    let response = match response["$ref"].as_str() {
                        Some(r) => {
                            &doc["components"]["responses"][r.rsplit('/').next().expect("name")]
                        }
                        None => response,
                    };
                    if path == "/readyz" {
                        continue;
                    }
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is a problem: {response}"
                    );
                }
            }
            if path.starts_with("/v1/") {
                assert!(
                    operation["responses"]["429"].is_object(),
                    "{method} {path} documents 429"
                );
            }
        }
    }
    // 10 marketplace, activity and governance lists, 13 social ones.
    assert_eq!(lists, 23, "every page size is bounded");
    assert!(doc["paths"]["/v1/auth/verify"]["post"]["responses"]["413"].is_object());
    assert!(doc["paths"]["/v1/auth/verify"]["post"]["responses"]["415"].is_object());
    let unauthorized = &doc["components"]["responses"]["Unauthorized"];
    assert!(
        unauthorized["headers"]["WWW-Authenticate"].is_object(),
        "{unauthorized}"
    );
}
