//! Strict input: JSON bodies and query strings whose rejections become translated problems,
//! and parsers for addresses, ids and page sizes. Nothing from a request reaches a store query
//! except as a typed value.

use crate::error::ApiError;
use alloy::primitives::{Address, U256};
use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;

/// Largest page size the API serves.
pub const MAX_LIMIT: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 20;

/// A JSON body; malformed, oversized or wrongly typed bodies become problems.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request.unsupported_media_type",
            )),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request.body_too_large")
                        .with("limit", crate::BODY_LIMIT),
                )
            }
            Err(e) => Err(
                ApiError::new(StatusCode::BAD_REQUEST, "request.malformed_json")
                    .with("detail", e.body_text()),
            ),
        }
    }
}

/// A query string; unknown or malformed parameters become problems.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::invalid_parameter("query", e.body_text()))
    }
}

/// Parses an address: all-lowercase (or all-uppercase) hex, or a correct EIP-55 checksum.
pub fn parse_address(value: &str) -> Result<Address, ApiError> {
    let invalid = || {
        ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_address")
            .with("value", truncate(value))
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
                .with("value", truncate(value)),
        );
    }
    Ok(address)
}

/// Parses a decimal token or entity id.
pub fn parse_u256(name: &str, value: &str) -> Result<U256, ApiError> {
    if value.is_empty() || value.len() > 78 || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid_parameter(
            name,
            "expected a decimal number",
        ));
    }
    U256::from_str_radix(value, 10)
        .map_err(|_| ApiError::invalid_parameter(name, "expected a decimal number below 2^256"))
}

/// Checks a page size.
pub fn limit(value: Option<u32>) -> Result<u32, ApiError> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(
            ApiError::new(StatusCode::BAD_REQUEST, "request.limit_out_of_range")
                .with("max", MAX_LIMIT),
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
                .with("name", name)
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
        assert!(parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").is_ok());
        assert!(parse_address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").is_ok());
        assert_eq!(
            parse_address("0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266")
                .expect_err("bad")
                .code,
            "request.bad_checksum"
        );
        assert_eq!(
            parse_address("0x123").expect_err("short").code,
            "request.invalid_address"
        );
        assert_eq!(
            parse_address("{\"$ne\":null}").expect_err("operator").code,
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
