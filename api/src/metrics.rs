//! Prometheus metrics: requests by route and status, latency histograms, cache hits and misses,
//! rate-limit fallbacks, and business counters (sales, volume) fed by the notice bus.
//!
//! Names: `nest_api_requests_total{route,method,status}`, `nest_api_request_seconds{route}`,
//! `nest_api_cache_hits_total{level}`, `nest_api_cache_misses_total`,
//! `nest_api_cache_bypass_total`, `nest_api_ratelimit_local_fallback_total`,
//! `nest_api_rate_limited_total`, `nest_api_timeouts_total`, `nest_sales_observed_total`,
//! `nest_api_siwe_sign_ins_total`; the business and dependency gauges of [`crate::business`];
//! `nest_social_messages_total{type,duplicate}` (social messages accepted, replays apart),
//! `nest_social_rate_limited_total{by}` (social writes refused by the ip or account limit).
//! They are served by [`crate::admin_router`], on the admin listener.

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::{sync::OnceLock, time::Instant};

/// The process-wide recorder's handle (installed on first use).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("nest_api_request_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed (a test harness): keep a private one for rendering.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// Records one request.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("nest_api_requests_total", "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!("nest_api_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
