//! Sign-In with Ethereum (EIP-4361): single-use nonces, message checks (domain, URI, chain id,
//! issued/expiry times, signature), short-lived session tokens signed by a `nest-keys` key,
//! refresh and logout (server-side revocation).

use crate::{error::ApiError, extract::ApiJson, state::AppState};
use alloy::primitives::{Address, Signature};
use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{StatusCode, header, request::Parts},
};
use bson::DateTime;
use nest_keys::KeyError;
use nest_store::Session as StoredSession;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Allowed clock skew for `issuedAt`, seconds.
const CLOCK_SKEW: i64 = 300;

/// A fresh sign-in nonce.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NonceResponse {
    /// Put this in the SIWE message's `Nonce:` line.
    pub nonce: String,
    /// When it stops being accepted (unix seconds).
    pub expires_at: i64,
}

/// A signed SIWE message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The EIP-4361 message, exactly as signed.
    pub message: String,
    /// The EIP-191 signature, 65 bytes hex.
    pub signature: String,
}

/// A session token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The wallet signed in.
    pub address: String,
    /// Expiry, unix seconds.
    pub expires_at: u64,
}

/// A verified, active session (extractor).
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// The wallet.
    pub address: Address,
    /// The session id.
    pub session_id: String,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "auth.missing_token"))?;
        let claims = state
            .inner
            .tokens
            .verify(token.trim())
            .map_err(|e| match e {
                KeyError::TokenExpired { .. } => {
                    ApiError::new(StatusCode::UNAUTHORIZED, "auth.expired_token")
                }
                KeyError::TokenWrongSigner { signer } if state.inner.tokens.is_retired(&signer) => {
                    ApiError::new(StatusCode::UNAUTHORIZED, "auth.retired_key")
                }
                _ => ApiError::new(StatusCode::UNAUTHORIZED, "auth.invalid_token"),
            })?;
        let session = state.inner.store.sessions().active(&claims.sid).await?;
        let Some(session) = session else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.session_revoked",
            ));
        };
        if format!("{:#x}", session.address) != claims.sub.to_ascii_lowercase() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.invalid_token",
            ));
        }
        Ok(Self {
            address: session.address,
            session_id: session.id,
        })
    }
}

/// `GET /v1/auth/nonce`
#[utoipa::path(get, path = "/v1/auth/nonce", tag = "auth",
    responses((status = 200, body = NonceResponse), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn nonce(State(state): State<AppState>) -> Result<Json<NonceResponse>, ApiError> {
    // 128 random bits, alphanumeric as EIP-4361 requires.
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let ttl = state.inner.config.nonce_ttl;
    state
        .inner
        .store
        .sessions()
        .issue_nonce(&nonce, ttl)
        .await?;
    Ok(Json(NonceResponse {
        nonce,
        expires_at: unix_now() + ttl.as_secs() as i64,
    }))
}

/// `POST /v1/auth/verify`
#[utoipa::path(post, path = "/v1/auth/verify", tag = "auth", request_body(content = VerifyRequest, content_type = "application/json"),
    responses((status = 200, body = SessionResponse), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::Unauthorized), (status = 413, response = crate::openapi::PayloadTooLarge), (status = 415, response = crate::openapi::UnsupportedMediaType), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let config = &state.inner.config;
    let message = siwe::Message::from_str(&request.message).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "auth.bad_message")
            .for_parameter("message")
            .because(e)
    })?;
    if message.domain.as_str() != config.siwe_domain {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "auth.wrong_domain")
            .with("value", message.domain));
    }
    let uri = message.uri.to_string();
    if !(uri == config.siwe_origin || uri.starts_with(&format!("{}/", config.siwe_origin))) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "auth.wrong_uri").with("value", uri));
    }
    if message.chain_id != config.chain_id {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "auth.wrong_chain")
            .with("value", message.chain_id)
            .with("expected", config.chain_id));
    }
    let now = unix_now();
    let issued = message.issued_at.as_ref().unix_timestamp();
    if issued > now + CLOCK_SKEW {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.not_yet_valid",
        ));
    }
    if let Some(nb) = &message.not_before
        && nb.as_ref().unix_timestamp() > now + CLOCK_SKEW
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.not_yet_valid",
        ));
    }
    let expired = message
        .expiration_time
        .as_ref()
        .is_some_and(|e| e.as_ref().unix_timestamp() <= now)
        || issued + config.nonce_ttl.as_secs() as i64 + CLOCK_SKEW < now;
    if expired {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.message_expired",
        ));
    }
    let address = Address::from(message.address);
    let signature = Signature::from_str(request.signature.trim())
        .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "auth.bad_signature"))?;
    let recovered = signature
        .recover_address_from_msg(request.message.as_bytes())
        .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "auth.bad_signature"))?;
    if recovered != address {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.bad_signature",
        ));
    }
    // Single use: a replayed message finds its nonce gone.
    if !state
        .inner
        .store
        .sessions()
        .consume_nonce(&message.nonce)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.nonce_unknown",
        ));
    }
    state.inner.store.users().seen(&address).await?;
    metrics::counter!("nest_api_siwe_sign_ins_total").increment(1);
    open_session(&state, address).await.map(Json)
}

/// `POST /v1/auth/refresh`: a new token for the same wallet; the old session ends.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionResponse), (status = 401, response = crate::openapi::Unauthorized), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn refresh(
    State(state): State<AppState>,
    session: AuthSession,
) -> Result<Json<SessionResponse>, ApiError> {
    state
        .inner
        .store
        .sessions()
        .revoke(&session.session_id)
        .await?;
    open_session(&state, session.address).await.map(Json)
}

/// `POST /v1/auth/logout`
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "The session has ended"), (status = 401, response = crate::openapi::Unauthorized), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn logout(
    State(state): State<AppState>,
    session: AuthSession,
) -> Result<StatusCode, ApiError> {
    state
        .inner
        .store
        .sessions()
        .revoke(&session.session_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/auth/logout-all`: ends every session of the signed-in wallet, on every device.
#[utoipa::path(post, path = "/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session of this wallet has ended"), (status = 401, response = crate::openapi::Unauthorized), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn logout_all(
    State(state): State<AppState>,
    session: AuthSession,
) -> Result<StatusCode, ApiError> {
    let ended = state
        .inner
        .store
        .sessions()
        .revoke_all(&session.address)
        .await?;
    tracing::info!(address = %session.address, ended, "signed out everywhere");
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeResponse {
    /// Checksummed address.
    pub address: String,
    /// First sign-in, RFC 3339.
    pub first_seen: String,
}

/// `GET /v1/me` (private: never cached by shared caches)
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, response = crate::openapi::Unauthorized), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn me(
    State(state): State<AppState>,
    session: AuthSession,
) -> Result<([(header::HeaderName, &'static str); 1], Json<MeResponse>), ApiError> {
    let user = state
        .inner
        .store
        .users()
        .get(&session.address)
        .await?
        .ok_or_else(|| ApiError::not_found("user", session.address))?;
    Ok((
        [(header::CACHE_CONTROL, "private, no-store")],
        Json(MeResponse {
            address: session.address.to_checksum(None),
            first_seen: user.created_at.try_to_rfc3339_string().unwrap_or_default(),
        }),
    ))
}

/// One public key of the session-token issuer (RFC 7517 JWK).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwkDto {
    /// `EC`.
    pub kty: String,
    /// `secp256k1`.
    pub crv: String,
    /// X coordinate, base64url.
    pub x: String,
    /// Y coordinate, base64url.
    pub y: String,
    /// The key's Ethereum address: the `kid` of the tokens it signs.
    pub kid: String,
    /// `ES256K-R`: ES256K (secp256k1, SHA-256) with the recovery parity appended, so a
    /// verifier may also recover the signer and compare it with `kid`.
    pub alg: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

/// The session-token issuer's key set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwksResponse {
    /// Every key whose tokens are accepted now: the active one and those in their overlap
    /// window after a rotation.
    pub keys: Vec<JwkDto>,
}

/// `GET /.well-known/jwks.json`
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = JwksResponse), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn jwks(
    State(state): State<AppState>,
) -> Result<([(header::HeaderName, &'static str); 1], Json<JwksResponse>), ApiError> {
    let set = state
        .inner
        .tokens
        .jwks()
        .await
        .map_err(ApiError::internal)?;
    Ok((
        // Short: a rotation must reach verifiers within the overlap window.
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(JwksResponse {
            keys: set
                .keys
                .into_iter()
                .map(|k| JwkDto {
                    kty: k.kty.into(),
                    crv: k.crv.into(),
                    x: k.x,
                    y: k.y,
                    kid: k.kid,
                    alg: k.alg.into(),
                    use_: k.use_.into(),
                })
                .collect(),
        }),
    ))
}

async fn open_session(state: &AppState, address: Address) -> Result<SessionResponse, ApiError> {
    let config = &state.inner.config;
    let id = uuid::Uuid::new_v4().to_string();
    let now = DateTime::now();
    let session = StoredSession {
        id: id.clone(),
        address,
        created_at: now,
        expires_at: DateTime::from_millis(
            now.timestamp_millis() + config.session_ttl.as_millis() as i64,
        ),
        revoked: false,
    };
    state.inner.store.sessions().create(&session).await?;
    let (token, claims) = state
        .inner
        .tokens
        .issue(&format!("{address:#x}"), &id, config.session_ttl)
        .await
        .map_err(ApiError::internal)?;
    Ok(SessionResponse {
        token,
        address: address.to_checksum(None),
        expires_at: claims.exp,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
