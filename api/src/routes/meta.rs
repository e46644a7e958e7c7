//! Operations: health, readiness, metrics, the OpenAPI document and its browsable page, and a
//! static route (the framework's ceiling in the benchmark).

use crate::state::AppState;
use alloy::providers::Provider;
use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Serialize;
use std::time::Duration;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness of each dependency.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// The store answers a ping.
    pub store: bool,
    /// Redis answers a ping (`null` when not configured).
    pub redis: Option<bool>,
    /// The RPC endpoint answers (`null` when not configured).
    pub rpc: Option<bool>,
    /// Change notices are being received.
    pub notices: bool,
}

/// `GET /readyz`: 200 when the store answers (Redis and RPC are reported; without them the api
/// still serves, degraded).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = tokio::time::timeout(
        Duration::from_secs(2),
        state
            .inner
            .store
            .database()
            .run_command(bson::doc! { "ping": 1 }),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let redis = match &state.inner.redis {
        None => None,
        Some(manager) => {
            let mut manager = manager.clone();
            let pong: Result<Result<String, _>, _> = tokio::time::timeout(
                Duration::from_millis(300),
                redis::cmd("PING").query_async(&mut manager),
            )
            .await;
            Some(matches!(pong, Ok(Ok(_))))
        }
    };
    let rpc = match &state.inner.provider {
        None => None,
        Some(p) => Some(
            tokio::time::timeout(Duration::from_secs(2), p.get_chain_id())
                .await
                .is_ok_and(|r| r.is_ok()),
        ),
    };
    let body = Readiness {
        store,
        redis,
        rpc,
        notices: state.inner.bus.is_connected(),
    };
    let status = if store {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// `GET /metrics` (Prometheus text format)
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.inner.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}

/// `GET /docs`: a browsable page over `/openapi.json`.
pub async fn docs() -> Html<&'static str> {
    Html(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Nest API</title></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
<noscript><p>The API description is at <a href="/openapi.json">/openapi.json</a>.</p></noscript></body></html>"#,
    )
}

/// `GET /v1/ping`: a static answer, the framework's ceiling for the benchmark.
pub async fn ping() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        "{\"pong\":true}",
    )
        .into_response()
}
