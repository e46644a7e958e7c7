//! Errors as RFC 9457 problem documents ([`nest_http::Problem`]): a stable `code`, an HTTP
//! status, a title and a detail in the caller's language, the offending parameter and the
//! machine specifics (`reason`) kept apart. Handlers return [`ApiError`]; the
//! [`localize_problems`] middleware renders it in the language `Accept-Language` asks for, and
//! turns every other error answer (the framework's rejections, the body limit, problems of a
//! mounted router) into a translated problem too.

use crate::i18n;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use nest_http::{BODY_LIMIT, Problem};

/// Realm named in `WWW-Authenticate` challenges.
const REALM: &str = "nest";

/// Largest framework rejection text kept as a problem's `reason`.
const MAX_REASON: usize = 300;

/// One API error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} ({status})")]
pub struct ApiError {
    /// Stable machine code, also the message catalogue key.
    pub code: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// Values for the detail's placeholders.
    pub params: Vec<(&'static str, String)>,
    /// Seconds to wait (429, 503).
    pub retry_after: Option<u64>,
    /// The query or path parameter, or body field, at fault.
    pub parameter: Option<String>,
    /// Machine specifics (a parser's message), untranslated.
    pub reason: Option<String>,
}

impl ApiError {
    /// An error with `code` and `status`.
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            code,
            status,
            params: Vec::new(),
            retry_after: None,
            parameter: None,
            reason: None,
        }
    }

    /// Adds a placeholder value.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    /// Names the parameter or field at fault (also the `{name}` placeholder).
    pub fn for_parameter(mut self, name: impl ToString) -> Self {
        let name = name.to_string();
        self.params.push(("name", name.clone()));
        self.parameter = Some(name);
        self
    }

    /// Adds machine specifics, shown untranslated as `reason`.
    pub fn because(mut self, reason: impl ToString) -> Self {
        let reason: String = reason.to_string().chars().take(MAX_REASON).collect();
        self.reason = Some(reason);
        self
    }

    /// 400 for a query or path parameter whose value is not valid; `reason` says why.
    pub fn invalid_parameter(name: &str, reason: impl ToString) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "request.invalid_parameter")
            .for_parameter(name)
            .because(reason)
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

    /// 413 for a body over [`BODY_LIMIT`].
    pub fn body_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "request.body_too_large").with("limit", BODY_LIMIT)
    }

    /// 503 for a request that ran past the server's time limit.
    pub fn timeout() -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "request.timeout");
        e.retry_after = Some(1);
        e
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 9110 §11.6.1, RFC 6750 §3): a bad,
    /// expired or ended token is `error="invalid_token"`; a request without one gets the bare
    /// challenge.
    pub fn www_authenticate(&self) -> Option<String> {
        if self.status != StatusCode::UNAUTHORIZED {
            return None;
        }
        Some(match self.code {
            "auth.invalid_token" | "auth.expired_token" | "auth.session_revoked" => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                i18n::message("en", self.code, &[]).replace('"', "'")
            ),
            _ => format!("Bearer realm=\"{REALM}\""),
        })
    }
}

impl From<nest_store::StoreError> for ApiError {
    fn from(e: nest_store::StoreError) -> Self {
        match e {
            nest_store::StoreError::InvalidInput(reason) => {
                Self::new(StatusCode::BAD_REQUEST, "request.invalid_cursor")
                    .for_parameter("cursor")
                    .because(reason)
            }
            e if e.is_transient() => Self::unavailable(e),
            e => Self::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status;
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self.www_authenticate()
            && let Ok(v) = HeaderValue::from_str(&challenge)
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// The problem document of `error` in `lang`.
pub fn problem_of(error: &ApiError, lang: &str, request_id: Option<String>) -> Problem {
    let mut problem = Problem::new(
        error.status.as_u16(),
        error.code,
        &i18n::title(lang, error.code),
        &i18n::message(lang, error.code, &error.params),
    );
    problem.request_id = request_id;
    problem.parameter = error.parameter.clone();
    problem.reason = error.reason.clone();
    problem
}

/// Renders every error answer as a problem document in the request's language: [`ApiError`]s,
/// problems of mounted routers (translated by code), and the plain-text rejections of the
/// framework's layers (body limit, extractors, routing).
pub async fn localize_problems(request: Request, next: Next) -> Response {
    let lang = i18n::negotiate(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = Problem::request_id_of(request.headers());
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        return render(response, &error, lang, request_id);
    }
    if nest_http::is_problem(response.headers()) {
        return translate_foreign_problem(response, lang, request_id).await;
    }
    let status = response.status();
    if (status.is_client_error() || status.is_server_error()) && is_plain(response.headers()) {
        let (parts, body) = response.into_parts();
        let text = axum::body::to_bytes(body, 4 * 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let mut error = framework_error(status);
        if !text.is_empty() {
            error = error.because(text);
        }
        return render(
            Response::from_parts(parts, Body::empty()),
            &error,
            lang,
            request_id,
        );
    }
    response
}

/// The error a bare framework answer of `status` stands for.
fn framework_error(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "route.not_found"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(status, "method.not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::body_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "request.unsupported_media_type")
        }
        StatusCode::REQUEST_TIMEOUT => ApiError::timeout(),
        s if s.is_client_error() => ApiError::new(s, "request.rejected"),
        _ => ApiError::internal(format!("a layer answered {status} without a problem")),
    }
}

/// An answer with no body type or a plain-text one: what the framework's layers send.
fn is_plain(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"))
}

fn render(
    response: Response,
    error: &ApiError,
    lang: &str,
    request_id: Option<String>,
) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.status = error.status;
    let problem = problem_of(error, lang, request_id);
    let rendered = problem.into_response_with(error.retry_after);
    for (name, value) in rendered.headers() {
        parts.headers.insert(name, value.clone());
    }
    if let Some(challenge) = error.www_authenticate()
        && let Ok(v) = HeaderValue::from_str(&challenge)
    {
        parts.headers.insert(header::WWW_AUTHENTICATE, v);
    }
    if let Ok(v) = HeaderValue::from_str(lang) {
        parts.headers.insert(header::CONTENT_LANGUAGE, v);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, rendered.into_body())
}

/// Problem documents produced by mounted routers (the relayer's intake) carry a `code` but
/// English text: replace title and detail with the catalogue's translation, keep the original
/// detail as `reason` (unless it has one), and add the request id.
async fn translate_foreign_problem(
    response: Response,
    lang: &'static str,
    request_id: Option<String>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut problem) = serde_json::from_slice::<Problem>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if problem.request_id.is_none() {
        problem.request_id = request_id;
    }
    if i18n::codes("en").contains(&problem.code) {
        // Codes a mounted router uses take only the shared body limit as a value.
        let params = [("limit", BODY_LIMIT.to_string())];
        let detail = i18n::message(lang, &problem.code, &params);
        if problem.reason.is_none() && problem.detail != detail {
            problem.reason = Some(std::mem::take(&mut problem.detail));
        }
        problem.title = i18n::title(lang, &problem.code);
        problem.detail = detail;
        if let Ok(v) = HeaderValue::from_str(lang) {
            parts.headers.insert(header::CONTENT_LANGUAGE, v);
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    // Serialising a struct of strings and integers cannot fail.
    Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&problem).unwrap_or_default()),
    )
}

/// Fallback for unknown paths.
pub async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route.not_found")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method.not_allowed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_the_codes_own_text_whatever_the_detail_quotes() {
        let error = ApiError::new(StatusCode::UNAUTHORIZED, "auth.wrong_uri")
            .with("value", "https://evil.example/login");
        for lang in i18n::LANGUAGES {
            let problem = problem_of(&error, lang, None);
            assert_eq!(problem.title, i18n::title(lang, "auth.wrong_uri"), "{lang}");
            assert!(
                problem.detail.contains("https://evil.example/login"),
                "{lang}: {}",
                problem.detail
            );
            assert!(
                !problem.title.contains("https"),
                "{lang}: {}",
                problem.title
            );
        }
        assert_eq!(
            problem_of(&error, "en", None).title,
            "Sign-in URI of another site"
        );
    }

    #[test]
    fn unauthorized_answers_carry_a_bearer_challenge() {
        let challenge = |code| {
            ApiError::new(StatusCode::UNAUTHORIZED, code)
                .www_authenticate()
                .expect("401 has a challenge")
        };
        assert_eq!(challenge("auth.missing_token"), "Bearer realm=\"nest\"");
        for code in [
            "auth.invalid_token",
            "auth.expired_token",
            "auth.session_revoked",
        ] {
            let c = challenge(code);
            assert!(
                c.starts_with(
                    "Bearer realm=\"nest\", error=\"invalid_token\", error_description=\""
                ),
                "{c}"
            );
            assert!(c.is_ascii());
        }
        assert!(
            ApiError::new(StatusCode::NOT_FOUND, "not_found")
                .www_authenticate()
                .is_none()
        );
    }
}
