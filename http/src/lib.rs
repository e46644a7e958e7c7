#![doc = include_str!("../README.md")]

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

/// Largest request body, bytes, on every route of every service.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The header carrying the request id (set by the server when the client sent none).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type`: the code follows it.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:nest:problem:";

/// The `type` URI of the problem with `code`.
pub fn problem_type(code: &str) -> String {
    format!("{PROBLEM_TYPE_PREFIX}{code}")
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the problem type: `urn:nest:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type, in the language of `Content-Language`.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation of this occurrence, in the language of `Content-Language`.
    pub detail: String,
    /// Stable machine code (the last part of `type`).
    pub code: String,
    /// The request id (also in `x-request-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The query or path parameter, or the body field, the problem is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Machine specifics (a parser's message, the values compared), untranslated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Problem {
    /// A problem with `code`, its `type` derived from it.
    pub fn new(status: u16, code: &str, title: &str, detail: &str) -> Self {
        Self {
            kind: problem_type(code),
            title: title.to_string(),
            status,
            detail: detail.to_string(),
            code: code.to_string(),
            request_id: None,
            parameter: None,
            reason: None,
        }
    }

    /// The request id of the request being answered, from its headers.
    pub fn request_id_of(headers: &axum::http::HeaderMap) -> Option<String> {
        headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The response: this document as `application/problem+json` with its status, and
    /// `Retry-After` when given.
    pub fn into_response_with(self, retry_after_secs: Option<u64>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serialising a struct of strings and integers cannot fail.
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        self.into_response_with(None)
    }
}

/// True when `headers` declare a JSON body (`application/json`, parameters allowed).
pub fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// True when a response is a problem document.
pub fn is_problem(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn a_problem_renders_as_problem_json_with_its_type_and_retry_after() {
        let mut problem = Problem::new(429, "rate_limited", "Too many requests", "Wait.");
        problem.request_id = Some("r-1".into());
        let response = problem.into_response_with(Some(3));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(is_problem(response.headers()));
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"3"[..])
        );
        let json = serde_json::to_value(Problem::new(400, "x.y", "t", "d")).expect("json");
        assert_eq!(json["type"], "urn:nest:problem:x.y");
        assert!(
            json.get("requestId").is_none(),
            "absent members are left out"
        );
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters_only() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(v));
            is_json_content_type(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(!with("text/plain"));
        assert!(!with("application/jsonx"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }
}
