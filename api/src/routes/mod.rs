//! HTTP handlers, grouped by domain.

pub mod activity;
pub mod collection_tokens;
pub mod docs;
pub mod governance;
pub mod live;
pub mod market;
pub mod meta;
pub mod nft_data;
pub mod portfolio;
pub mod social;
pub mod units;

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
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| none_match(v, &body.etag));
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

/// True when an `If-None-Match` field value matches `etag`: `*`, or a listed tag equal to it
/// under the weak comparison RFC 9110 §13.1.2 prescribes (a `W/` prefix is ignored on both).
fn none_match(field: &str, etag: &str) -> bool {
    let opaque = |tag: &str| {
        let tag = tag.trim();
        tag.strip_prefix("W/").unwrap_or(tag).to_string()
    };
    let ours = opaque(etag);
    field.trim() == "*" || field.split(',').any(|tag| opaque(tag) == ours)
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

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn if_none_match_uses_the_weak_comparison() {
        let etag = "\"abc\"";
        assert!(none_match("\"abc\"", etag));
        assert!(none_match("W/\"abc\"", etag), "a weak validator matches");
        assert!(none_match("\"x\", W/\"abc\"", etag), "one of a list");
        assert!(none_match(" * ", etag));
        assert!(!none_match("\"abd\"", etag));
        assert!(!none_match("W/\"ab\"", etag));
        assert!(
            !none_match("abc", etag),
            "an unquoted tag is not the same tag"
        );
    }
}
