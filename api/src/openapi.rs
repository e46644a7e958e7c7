//! The OpenAPI 3.1 document, generated from the handlers' annotations. Every status an
//! operation can answer is documented; errors are `application/problem+json` documents
//! ([`Problem`]), declared once here as reusable responses.
//!
//! A mounted router (the relayer's intake) brings its own paths: [`document_with`] merges them.

use crate::{auth, routes};
use nest_http::Problem;
use std::sync::OnceLock;
use utoipa::{
    Modify, OpenApi, ToResponse,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

/// The request's parameters or body are not valid; the problem names the parameter or field at
/// fault (`parameter`) and keeps the parser's message apart (`reason`).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No session token, or an invalid, expired or ended one (RFC 6750 challenge in
/// `WWW-Authenticate`).
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"nest\"`, with `error=\"invalid_token\"` when a token was sent but is not valid"))
)]
pub struct Unauthorized(pub Problem);

/// Nothing with this id.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// Not modified: the representation matching `If-None-Match` is still current.
#[derive(Debug, ToResponse)]
#[response(headers(("ETag" = String, description = "The current entity tag")))]
pub struct NotModified;

/// The body is larger than the limit (64 KiB).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub Problem);

/// The body is not sent as `application/json`.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub Problem);

/// Too many requests from this address or account; retry after `Retry-After` seconds.
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct TooManyRequests(pub Problem);

/// The server failed; it has been logged.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct InternalError(pub Problem);

/// A dependency (the store) is unavailable, or the request ran past the time limit; retry
/// after `Retry-After` seconds.
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct Unavailable(pub Problem);

#[derive(OpenApi)]
#[openapi(
    info(title = "Nest API", description = "NFT marketplace, DAO governance and live updates for wallet users. Errors are RFC 9457 problem documents (application/problem+json) in the language of Accept-Language (en, ko, ja, zh)."),
    paths(
        auth::nonce, auth::verify, auth::refresh, auth::logout, auth::logout_all, auth::me, auth::jwks,
        routes::market::listings, routes::market::listing, routes::market::nfts, routes::market::nft,
        routes::market::auctions, routes::market::auction, routes::market::offers, routes::market::sales,
        routes::market::collection_stats,
        routes::nft_data::refresh, routes::nft_data::media, routes::nft_data::traits,
        routes::collection_tokens::tokens, routes::nft_data::autocomplete, routes::activity::activity, routes::nft_data::search,
        routes::portfolio::portfolio,
        routes::governance::proposals, routes::governance::proposal, routes::governance::votes,
        routes::governance::delegates, routes::governance::delegate,
        routes::social::domain, routes::social::post_message, routes::social::message,
        routes::social::global, routes::social::home, routes::social::channel, routes::social::trending,
        routes::social::profile, routes::social::handle, routes::social::account_posts,
        routes::social::followers, routes::social::following, routes::social::post, routes::social::thread,
        routes::social::nft_posts, routes::social::proposal_posts,
        routes::social::notifications, routes::social::mark_read,
        routes::social::moderation_log, routes::social::reports,
        routes::live::stream,
        routes::meta::ping, routes::meta::healthz, routes::meta::readyz,
    ),
    components(
        schemas(Problem),
        responses(BadRequest, Unauthorized, NotFound, NotModified, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, InternalError, Unavailable),
    ),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Sign-In with Ethereum sessions"), (name = "marketplace"), (name = "governance"), (name = "social", description = "Signed social messages (EIP-712), feeds woven with on-chain activity, notifications, moderation"), (name = "live"), (name = "operations"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The api's own document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The api's document with a mounted router's paths and components merged in.
pub fn document_with(mounted: Option<utoipa::openapi::OpenApi>) -> String {
    let mut doc = openapi();
    if let Some(other) = mounted {
        doc.merge(other);
    }
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
}

/// The api's own document as JSON.
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| document_with(None)).clone()
}
