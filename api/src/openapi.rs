//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::{auth, error::Problem, routes};
use std::sync::OnceLock;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Nest API", description = "NFT marketplace, DAO governance and live updates for wallet users. Errors are RFC 9457 problem documents in the language of Accept-Language (en, ko, ja, zh)."),
    paths(
        auth::nonce, auth::verify, auth::refresh, auth::logout, auth::me,
        routes::market::listings, routes::market::listing, routes::market::nfts, routes::market::nft,
        routes::market::auctions, routes::market::auction, routes::market::offers, routes::market::sales,
        routes::market::collection_stats,
        routes::governance::proposals, routes::governance::proposal, routes::governance::votes,
        routes::governance::delegates, routes::governance::delegate,
        routes::live::stream,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Sign-In with Ethereum sessions"), (name = "marketplace"), (name = "governance"), (name = "live"))
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

/// The document as JSON.
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|_| "{}".into())
    })
    .clone()
}
