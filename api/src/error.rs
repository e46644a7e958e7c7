//! Errors as RFC 9457 problem documents: a stable `code`, an HTTP status, and a message in the
//! caller's language. Handlers return [`ApiError`]; the `localize_problems` middleware renders it
//! in the language the request's `Accept-Language` asks for.

use crate::i18n;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// One API error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} ({status})")]
pub struct ApiError {
    /// Stable machine code, also the message catalogue key.
    pub code: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// Values for the message's placeholders.
    pub params: Vec<(&'static str, String)>,
    /// Seconds to wait (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `code` and `status`.
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            code,
            status,
            params: Vec::new(),
            retry_after: None,
        }
    }

    /// Adds a placeholder value.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    /// 400 for a bad query or path parameter.
    pub fn invalid_parameter(name: &str, detail: impl ToString) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "request.invalid_parameter")
            .with("name", name)
            .with("detail", detail)
    }

    /// 404 for a missing entity.
    pub fn not_found(kind: &str, id: impl ToString) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
            .with("kind", kind)
            .with("id", id)
    }

    /// 500, logged.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }

    /// 503 when a dependency (the store) is down.
    pub fn unavailable(error: impl std::fmt::Display) -> Self {
        tracing::warn!(%error, "dependency unavailable");
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        e.retry_after = Some(5);
        e
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            .with("retry_after", retry_after);
        e.retry_after = Some(retry_after);
        e
    }
}

impl From<nest_store::StoreError> for ApiError {
    fn from(e: nest_store::StoreError) -> Self {
        match e {
            nest_store::StoreError::InvalidInput(_) => {
                Self::new(StatusCode::BAD_REQUEST, "request.invalid_cursor")
            }
            e if e.is_transient() => Self::unavailable(e),
            e => Self::internal(e),
        }
    }
}

/// The problem document's JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the error kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, translated title.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Translated explanation with the specifics.
    pub detail: String,
    /// Stable machine code.
    pub code: String,
    /// The request id (also in `x-request-id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status;
        if let Some(seconds) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// Renders [`ApiError`] responses as problem documents in the request's language.
pub async fn localize_problems(request: Request, next: Next) -> Response {
    let lang = i18n::negotiate(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return translate_foreign_problem(response, lang).await;
    };
    let detail = i18n::message(lang, error.code, &error.params);
    let problem = Problem {
        kind: format!("https://nest.invalid/problems/{}", error.code),
        title: detail
            .split(':')
            .next()
            .unwrap_or(&detail)
            .trim_end_matches('.')
            .to_string(),
        status: error.status.as_u16(),
        detail,
        code: error.code.to_string(),
        request_id,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Ok(v) = HeaderValue::from_str(lang) {
        parts.headers.insert(header::CONTENT_LANGUAGE, v);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Problem documents produced by mounted routers (the relayer's intake) carry a `code` but
/// English text: replace title and detail with the catalogue's translation, keeping the original
/// specifics as `reason`.
async fn translate_foreign_problem(response: Response, lang: &'static str) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let translated = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|mut doc| {
            let code = doc.get("code")?.as_str()?.to_string();
            if !i18n::codes("en").contains(&code) {
                return None;
            }
            let message = i18n::message(lang, &code, &[]);
            if let Some(detail) = doc.get("detail").cloned() {
                doc["reason"] = detail;
            }
            doc["title"] =
                serde_json::Value::String(message.trim_end_matches(['.', '。']).to_string());
            doc["detail"] = serde_json::Value::String(message);
            serde_json::to_vec(&doc).ok()
        });
    match translated {
        Some(body) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            if let Ok(v) = HeaderValue::from_str(lang) {
                parts.headers.insert(header::CONTENT_LANGUAGE, v);
            }
            Response::from_parts(parts, Body::from(body))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Fallback for unknown paths.
pub async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route.not_found")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method.not_allowed")
}
