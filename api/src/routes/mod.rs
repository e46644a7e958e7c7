//! HTTP handlers, grouped by domain.

pub mod governance;
pub mod live;
pub mod market;
pub mod meta;

use crate::{error::ApiError, state::AppState};
use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use serde::Serialize;
use std::future::Future;

/// A page of items with the cursor for the next page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageDto<T> {
    /// Items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Serves `compute`'s JSON through the response cache under `key` and `tags`, with `ETag`,
/// conditional GET (`If-None-Match` → 304) and a CDN-friendly `Cache-Control`.
pub(crate) async fn cached<T, F>(
    state: &AppState,
    headers: &HeaderMap,
    key: String,
    tags: Vec<String>,
    compute: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: Future<Output = Result<T, ApiError>> + Send,
{
    let body = state
        .inner
        .cache
        .get_or_compute(&key, &tags, async move {
            let value = compute.await?;
            serde_json::to_vec(&value)
                .map(Bytes::from)
                .map_err(ApiError::internal)
        })
        .await?;
    let cache_control = format!("public, max-age={}", state.inner.config.public_max_age);
    let mut builder = Response::builder()
        .header(header::ETAG, body.etag.as_str())
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::VARY, "Accept-Language");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == body.etag || t.trim() == "*")
        });
    if matches {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).map_err(ApiError::internal);
    }
    builder
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .body(Body::from(body.body.clone()))
        .map_err(ApiError::internal)
}

/// The chain's clock: the later of the wall clock and the last indexed block's timestamp (a
/// development chain may run ahead of the wall clock).
pub(crate) async fn chain_now(state: &AppState) -> Result<i64, ApiError> {
    let checkpoint = state
        .inner
        .store
        .checkpoints()
        .get(state.inner.config.chain_id, "nest")
        .await?;
    Ok(now().max(checkpoint.map(|c| c.block_timestamp).unwrap_or(0)))
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
