//! Every refusal of the intake, through the HTTP router against a real chain and store: each
//! answers a 4xx (or 503) problem document with its precise code, and stores nothing.

mod common;

use alloy::{
    primitives::{Address, Bytes, U256},
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use axum::http::StatusCode;
use common::*;
use nest_abis::{NestMarketplace, NestToken};
use nest_chain::AnvilOptions;
use nest_store::RelayJobStatus;
use tower::ServiceExt;

/// Posts `body`, expects `status` and `code`, and checks nothing was stored.
async fn refused(
    relayer: &Relayer,
    body: &serde_json::Value,
    status: StatusCode,
    code: &str,
) -> serde_json::Value {
    refused_raw(relayer, body.to_string().into_bytes(), status, code).await
}

async fn refused_raw(
    relayer: &Relayer,
    body: Vec<u8>,
    status: StatusCode,
    code: &str,
) -> serde_json::Value {
    refused_as(relayer, "application/json", body, status, code).await
}

async fn refused_as(
    relayer: &Relayer,
    content_type: &str,
    body: Vec<u8>,
    status: StatusCode,
    code: &str,
) -> serde_json::Value {
    let before = job_count(&relayer.store).await;
    let (got, problem) = relayer.post_as(content_type, body).await;
    assert_eq!(got, status, "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
    assert_eq!(problem["type"], format!("urn:nest:problem:{code}"));
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(problem["detail"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        problem["requestId"].as_str().is_some_and(|t| !t.is_empty()),
        "every problem names the request: {problem}"
    );
    assert_eq!(
        job_count(&relayer.store).await,
        before,
        "{code}: nothing queued"
    );
    problem
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_precisely_and_nothing_is_queued() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("intake").await;
    let a = chain.addresses;
    let mut config = chain.config("intake");
    config.requests_per_minute = 3;
    let relayer = Relayer::intake_only(&chain, &store, config, vec![chain.keys[9].address()]).await;
    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    let approve = approve_all(a.marketplace);
    let good = || Forward::new(&user, &a, a.nft, approve.clone(), 0, deadline);

    // Malformed bodies.
    refused_raw(
        &relayer,
        b"{not json".to_vec(),
        StatusCode::BAD_REQUEST,
        "relay.malformed",
    )
    .await;
    refused(
        &relayer,
        &serde_json::json!({"kind": "forward", "from": user.address()}),
        StatusCode::BAD_REQUEST,
        "relay.malformed",
    )
    .await;
    let mut bad_hex = good().body();
    bad_hex["data"] = "0xzz".into();
    refused(
        &relayer,
        &bad_hex,
        StatusCode::BAD_REQUEST,
        "relay.malformed",
    )
    .await;
    let mut huge = good().body();
    huge["data"] = Bytes::from(vec![0xab; 70 * 1024]).to_string().into();
    refused(
        &relayer,
        &huge,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request.body_too_large",
    )
    .await;
    // A valid body must still be declared as JSON.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
        refused_as(
            &relayer,
            content_type,
            good().body().to_string().into_bytes(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
        )
        .await;
    }

    // Signatures: another signer, another chain.
    let other = PrivateKeySigner::random();
    let mut forged = Forward::new(&other, &a, a.nft, approve.clone(), 0, deadline).body();
    forged["from"] = user.address().to_string().into();
    let problem = refused(
        &relayer,
        &forged,
        StatusCode::BAD_REQUEST,
        "relay.bad_signature",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("recovers to"),
        "{problem}"
    );
    let mut mainnet = good();
    mainnet.chain_id = 1;
    let problem = refused(
        &relayer,
        &mainnet.body(),
        StatusCode::BAD_REQUEST,
        "relay.wrong_chain",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("chain id 1"),
        "{problem}"
    );
    let mut declared = good().body();
    declared["chainId"] = 5.into();
    refused(
        &relayer,
        &declared,
        StatusCode::BAD_REQUEST,
        "relay.wrong_chain",
    )
    .await;

    // Nonces: too high; then a replay of an accepted request.
    refused(
        &relayer,
        &Forward::new(&user, &a, a.nft, approve.clone(), 1, deadline).body(),
        StatusCode::CONFLICT,
        "relay.nonce",
    )
    .await;
    let first = relayer.accept(&good().body()).await;
    let problem = refused(
        &relayer,
        &good().body(),
        StatusCode::CONFLICT,
        "relay.duplicate",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&first),
        "{problem}"
    );
    let job = store
        .relay_jobs()
        .get(&first)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(job.status, RelayJobStatus::Queued);
    assert_eq!(job.signer, Some(chain.keys[9].address()));
    // The next nonce counts the queued job: the same request signed again is a replay, a
    // different one with the spent nonce must be signed again with the next.
    refused(
        &relayer,
        &Forward::new(&user, &a, a.nft, approve.clone(), 0, deadline).body(),
        StatusCode::CONFLICT,
        "relay.duplicate",
    )
    .await;
    let problem = refused(
        &relayer,
        &Forward::new(&user, &a, a.nft, approve.clone(), 0, deadline + 1).body(),
        StatusCode::CONFLICT,
        "relay.nonce_used",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("next unused nonce is 1"),
        "{problem}"
    );

    // Deadline too close (the margin is 10 s).
    let soon = chain.now().await + 5;
    refused(
        &relayer,
        &Forward::new(&user, &a, a.nft, approve.clone(), 1, soon).body(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "relay.expired",
    )
    .await;

    // Policy: target, selector, value, gas, call data size.
    let transfer: Bytes = NestToken::transferCall {
        to: other.address(),
        value: U256::from(1),
    }
    .abi_encode()
    .into();
    refused(
        &relayer,
        &Forward::new(&user, &a, a.token, transfer, 1, deadline).body(),
        StatusCode::FORBIDDEN,
        "relay.target_not_allowed",
    )
    .await;
    let pause: Bytes = NestMarketplace::pauseCall {}.abi_encode().into();
    refused(
        &relayer,
        &Forward::new(&user, &a, a.marketplace, pause, 1, deadline).body(),
        StatusCode::FORBIDDEN,
        "relay.target_not_allowed",
    )
    .await;
    let mut paying = Forward::new(&user, &a, a.nft, approve.clone(), 1, deadline);
    paying.value = U256::from(1);
    refused(
        &relayer,
        &paying.body(),
        StatusCode::FORBIDDEN,
        "relay.value_not_zero",
    )
    .await;
    let mut greedy = Forward::new(&user, &a, a.nft, approve.clone(), 1, deadline);
    greedy.gas = 5_000_000;
    refused(
        &relayer,
        &greedy.body(),
        StatusCode::FORBIDDEN,
        "relay.gas_cap",
    )
    .await;
    let mut padded = approve.to_vec();
    padded.extend(vec![0u8; 5_000]);
    refused(
        &relayer,
        &Forward::new(&user, &a, a.nft, padded, 1, deadline).body(),
        StatusCode::FORBIDDEN,
        "relay.calldata_too_large",
    )
    .await;

    // A call that would revert, with the target's reason decoded.
    let not_mine = create_listing(a.nft, U256::from(999_999), ether(1), deadline);
    let problem = refused(
        &relayer,
        &Forward::new(&user, &a, a.marketplace, not_mine, 1, deadline).body(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "relay.reverts",
    )
    .await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("NonexistentToken")
            || detail.contains("NotTokenOwner")
            || detail.contains("ERC721NonexistentToken"),
        "{detail}"
    );
    // A vote on a proposal that does not exist, and a delegation signed by someone else.
    let ghost_vote = vote_body(&user, a.governor, U256::from(42), 1, 0, None);
    refused(
        &relayer,
        &ghost_vote,
        StatusCode::UNPROCESSABLE_ENTITY,
        "relay.reverts",
    )
    .await;
    let mut wrong_delegation = delegate_body(&other, a.token, other.address(), 0, deadline);
    wrong_delegation["from"] = user.address().to_string().into();
    refused(
        &relayer,
        &wrong_delegation,
        StatusCode::BAD_REQUEST,
        "relay.bad_signature",
    )
    .await;

    // Quota: 3 requests a minute (one already made by `user`; a fresh signer makes three).
    let busy = PrivateKeySigner::random();
    for nonce in 0..3 {
        relayer
            .accept(&Forward::new(&busy, &a, a.nft, approve.clone(), nonce, deadline).body())
            .await;
    }
    let problem = refused(
        &relayer,
        &Forward::new(&busy, &a, a.nft, approve.clone(), 3, deadline).body(),
        StatusCode::TOO_MANY_REQUESTS,
        "relay.quota",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("last minute"),
        "{problem}"
    );

    // The largest uint48 is a valid deadline.
    let patient = PrivateKeySigner::random();
    let last = relayer
        .accept(
            &Forward::new(
                &patient,
                &a,
                a.nft,
                approve.clone(),
                0,
                nest_relayer::request::UINT48_MAX,
            )
            .body(),
        )
        .await;
    let (_, view) = relayer.get(&last).await;
    assert_eq!(view["deadline"], (1u64 << 48) - 1);

    // Unknown job.
    let (status, problem) = relayer.get("no-such-job").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "relay.not_found");

    // A job's view.
    let (status, view) = relayer.get(&first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["status"], "queued");
    assert_eq!(view["from"], user.address().to_string());
    assert_eq!(view["kind"], "forward");
    assert_eq!(job_count(&store).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfunded_pool_is_unavailable() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("unfunded").await;
    let a = chain.addresses;
    let broke = Address::repeat_byte(0x42);
    let relayer = Relayer::intake_only(&chain, &store, chain.config("unfunded"), vec![broke]).await;
    let user = PrivateKeySigner::random();
    let deadline = chain.now().await + 3_600;
    let body = Forward::new(&user, &a, a.nft, approve_all(a.marketplace), 0, deadline).body();
    let (status, problem) = relayer.post(&body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "relay.unavailable");
    assert_eq!(job_count(&store).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_alone_unknown_routes_and_methods_are_problems() {
    let chain = deployed_chain(AnvilOptions::default()).await;
    let store = store("standalone").await;
    let relayer = Relayer::intake_only(
        &chain,
        &store,
        chain.config("standalone"),
        vec![chain.keys[9].address()],
    )
    .await;
    let alone = nest_relayer::standalone_router(relayer.intake.clone());
    for (method, path, status, code) in [
        (
            "GET",
            "/v1/nothing",
            StatusCode::NOT_FOUND,
            "route.not_found",
        ),
        (
            "DELETE",
            "/v1/relay",
            StatusCode::METHOD_NOT_ALLOWED,
            "method.not_allowed",
        ),
    ] {
        let response = alone
            .clone()
            .oneshot(
                axum::http::Request::builder()
                    .method(method)
                    .uri(path)
                    .header("x-request-id", "req-42")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("router");
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let problem: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(problem["code"], code);
        assert_eq!(problem["requestId"], "req-42");
        assert_eq!(problem["type"], nest_http::problem_type(code));
    }
}
