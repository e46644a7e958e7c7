//! Operations: health, readiness, metrics, the OpenAPI document and its browsable page, and a
//! static route (the framework's ceiling in the benchmark).

use crate::state::AppState;
use alloy::providers::Provider;
use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::time::Duration;

/// `GET /healthz`: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process answers", content_type = "text/plain", body = String)))]
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
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Readiness), (status = 503, description = "The store does not answer", body = Readiness)))]
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
    crate::business::refresh(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.inner.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`: `document`, the api's description with the mounted routers' paths.
pub(crate) async fn openapi(document: std::sync::Arc<str>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.to_string(),
    )
        .into_response()
}

/// A static answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pong {
    /// Always true.
    pub pong: bool,
}

/// `GET /v1/ping`: a static answer, the framework's ceiling for the benchmark.
#[utoipa::path(get, path = "/v1/ping", tag = "operations",
    responses((status = 200, body = Pong), (status = 429, response = crate::openapi::TooManyRequests)))]
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
