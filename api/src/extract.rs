//! Strict input: JSON bodies and query strings whose rejections become translated problems,
//! and parsers for addresses, ids and page sizes. Nothing from a request reaches a store query
//! except as a typed value.

use crate::error::ApiError;
use alloy::primitives::{Address, U256};
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request, rejection::PathRejection},
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;

/// Largest page size the API serves.
pub const MAX_LIMIT: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 20;

/// A JSON body (`Content-Type: application/json`); a body of another type, oversized, malformed
/// or wrongly typed becomes a problem naming the field at fault.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !nest_http::is_json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::body_too_large()
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "request.malformed_json")
                    .because(e.body_text())
            }
        })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(body_error)?;
        deserializer.end().map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "request.malformed_json").because(e)
        })?;
        Ok(Self(value))
    }
}

/// The problem for a body that did not deserialise: bad JSON, or a field missing, unknown or of
/// the wrong type.
fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        Category::Data => field_error(Source::Body, &path, &inner.to_string()),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "request.malformed_json").because(inner),
    }
}

/// Where a value that did not deserialise came from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Query,
    Body,
}

/// The problem for a value from `source` that did not deserialise at `path`, from the
/// deserialiser's `message` (kept as `reason`).
fn field_error(source: Source, path: &str, message: &str) -> ApiError {
    // serde names the field of unknown- and missing-field errors between backticks.
    let quoted = message.split('`').nth(1).map(str::to_string);
    let unknown = message.starts_with("unknown field");
    let missing = message.starts_with("missing field");
    let code = match (source, unknown, missing) {
        (Source::Query, true, _) => "request.unknown_parameter",
        (Source::Query, _, true) => "request.missing_parameter",
        (Source::Query, _, _) => "request.invalid_parameter",
        (Source::Body, true, _) => "request.unknown_field",
        (Source::Body, _, true) => "request.missing_field",
        (Source::Body, _, _) => "request.invalid_field",
    };
    let name = quoted.filter(|_| unknown || missing).unwrap_or_else(|| {
        if path.is_empty() || path == "." || path == "?" {
            "(body)".to_string()
        } else {
            path.to_string()
        }
    });
    ApiError::new(StatusCode::BAD_REQUEST, code)
        .for_parameter(name)
        .because(message)
}

/// A query string; an unknown, missing or malformed parameter becomes a problem naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Self)
            .map_err(|e| field_error(Source::Query, &e.path().to_string(), &e.inner().to_string()))
    }
}

/// Path parameters; a value that does not fit becomes a problem naming the parameter.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let reason = e.body_text();
                let name = match e.into_kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::DeserializeError { key, .. } => key,
                    _ => "(path)".to_string(),
                };
                Err(ApiError::invalid_parameter(&name, reason))
            }
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// Parses the address given as parameter `name`: all-lowercase (or all-uppercase) hex, or a
/// correct EIP-55 checksum.
pub fn parse_address(name: &str, value: &str) -> Result<Address, ApiError> {
    let invalid = || {
        ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_address")
            .with("value", truncate(value))
            .for_parameter(name)
    };
    let hex = value.strip_prefix("0x").unwrap_or("");
    if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let address: Address = value.parse().map_err(|_| invalid())?;
    let mixed =
        hex.chars().any(|c| c.is_ascii_lowercase()) && hex.chars().any(|c| c.is_ascii_uppercase());
    if mixed && address.to_checksum(None) != value {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, "request.bad_checksum")
                .with("value", truncate(value))
                .for_parameter(name),
        );
    }
    Ok(address)
}

/// Parses a decimal token or entity id.
pub fn parse_u256(name: &str, value: &str) -> Result<U256, ApiError> {
    let invalid = || {
        ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_number")
            .for_parameter(name)
            .because(format!(
                "{:?} is not a decimal number below 2^256",
                truncate(value)
            ))
    };
    if value.is_empty() || value.len() > 78 || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    U256::from_str_radix(value, 10).map_err(|_| invalid())
}

/// Checks a page size.
pub fn limit(value: Option<u32>) -> Result<u32, ApiError> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(
            ApiError::new(StatusCode::BAD_REQUEST, "request.limit_out_of_range")
                .with("max", MAX_LIMIT)
                .for_parameter("limit"),
        ),
    }
}

/// Parses one of `accepted` values.
pub fn one_of<T: Copy>(name: &str, value: &str, accepted: &[(&str, T)]) -> Result<T, ApiError> {
    accepted
        .iter()
        .find(|(k, _)| *k == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "request.unknown_value")
                .with("value", truncate(value))
                .for_parameter(name)
                .with(
                    "accepted",
                    accepted
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
        })
}

fn truncate(value: &str) -> String {
    value.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_must_be_hex_and_checksummed_when_mixed_case() {
        assert!(parse_address("a", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").is_ok());
        assert!(parse_address("a", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").is_ok());
        assert_eq!(
            parse_address("a", "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266")
                .expect_err("bad")
                .code,
            "request.bad_checksum"
        );
        assert_eq!(
            parse_address("a", "0x123").expect_err("short").code,
            "request.invalid_address"
        );
        assert_eq!(
            parse_address("a", "{\"$ne\":null}")
                .expect_err("operator")
                .code,
            "request.invalid_address"
        );
    }

    #[test]
    fn ids_and_limits_are_bounded() {
        assert_eq!(parse_u256("id", "42").expect("ok"), U256::from(42));
        assert!(parse_u256("id", "-1").is_err());
        assert!(parse_u256("id", "1e5").is_err());
        assert_eq!(limit(None).expect("default"), DEFAULT_LIMIT);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
    }
}
