#![doc = include_str!("../README.md")]

pub mod auth;
pub mod bus;
mod business;
pub mod cache;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod web;

pub use state::{ApiConfig, AppState};

use axum::{
    Router,
    extract::{ConnectInfo, DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

/// Largest request body, bytes (the limit every Nest service applies).
pub use nest_http::BODY_LIMIT;

/// A router served under the api's middleware (the relayer's intake), with the OpenAPI
/// description of its paths, which `/openapi.json` then includes.
pub struct Mounted {
    /// The routes.
    pub router: Router,
    /// Their description.
    pub openapi: utoipa::openapi::OpenApi,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mounted")
            .field(
                "paths",
                &self.openapi.paths.paths.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The public HTTP interface. `extra` is merged under the same middleware (the relayer's
/// intake routes). Metrics are not on it: serve [`admin_router`] on a separate listener.
pub fn router(state: AppState, extra: Option<Mounted>) -> Router {
    let (extra, mounted_doc) = match extra {
        Some(m) => (Some(m.router), Some(m.openapi)),
        None => (None, None),
    };
    let document: Arc<str> = openapi::document_with(mounted_doc).into();
    let v1 = Router::new()
        .route("/v1/auth/nonce", get(auth::nonce))
        .route("/v1/auth/verify", post(auth::verify))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/logout-all", post(auth::logout_all))
        .route("/v1/me", get(auth::me))
        .route("/.well-known/jwks.json", get(auth::jwks))
        .route("/v1/listings", get(routes::market::listings))
        .route("/v1/listings/{id}", get(routes::market::listing))
        .route("/v1/nfts", get(routes::market::nfts))
        .route("/v1/nfts/{contract}/{token_id}", get(routes::market::nft))
        .route("/v1/auctions", get(routes::market::auctions))
        .route("/v1/auctions/{id}", get(routes::market::auction))
        .route("/v1/offers", get(routes::market::offers))
        .route("/v1/sales", get(routes::market::sales))
        .route(
            "/v1/collections/{contract}/stats",
            get(routes::market::collection_stats),
        )
        .route(
            "/v1/nfts/{contract}/{token_id}/refresh",
            post(routes::nft_data::refresh),
        )
        .route("/v1/media/{id}", get(routes::nft_data::media))
        .route("/v1/activity", get(routes::activity::activity))
        .route("/v1/search", get(routes::nft_data::search))
        .route(
            "/v1/users/{address}/portfolio",
            get(routes::portfolio::portfolio),
        )
        .route(
            "/v1/collections/{contract}/traits",
            get(routes::nft_data::traits),
        )
        .route(
            "/v1/collections/{contract}/tokens",
            get(routes::collection_tokens::tokens),
        )
        .route(
            "/v1/search/autocomplete",
            get(routes::nft_data::autocomplete),
        )
        .route("/v1/proposals", get(routes::governance::proposals))
        .route("/v1/proposals/{id}", get(routes::governance::proposal))
        .route("/v1/votes", get(routes::governance::votes))
        .route("/v1/delegates", get(routes::governance::delegates))
        .route("/v1/delegates/{address}", get(routes::governance::delegate))
        .route("/v1/social/domain", get(routes::social::domain))
        .route("/v1/social/messages", post(routes::social::post_message))
        .route("/v1/social/messages/{hash}", get(routes::social::message))
        .route("/v1/social/feeds/global", get(routes::social::global))
        .route("/v1/social/feeds/home", get(routes::social::home))
        .route("/v1/social/feeds/channel", get(routes::social::channel))
        .route("/v1/social/feeds/trending", get(routes::social::trending))
        .route(
            "/v1/social/accounts/{address}",
            get(routes::social::profile),
        )
        .route(
            "/v1/social/accounts/{address}/posts",
            get(routes::social::account_posts),
        )
        .route(
            "/v1/social/accounts/{address}/followers",
            get(routes::social::followers),
        )
        .route(
            "/v1/social/accounts/{address}/following",
            get(routes::social::following),
        )
        .route("/v1/social/handles/{handle}", get(routes::social::handle))
        .route("/v1/social/posts/{id}", get(routes::social::post))
        .route("/v1/social/posts/{id}/thread", get(routes::social::thread))
        .route(
            "/v1/social/nfts/{contract}/{tokenId}/posts",
            get(routes::social::nft_posts),
        )
        .route(
            "/v1/social/proposals/{id}/posts",
            get(routes::social::proposal_posts),
        )
        .route(
            "/v1/social/notifications",
            get(routes::social::notifications),
        )
        .route(
            "/v1/social/notifications/read",
            post(routes::social::mark_read),
        )
        .route(
            "/v1/social/moderation/log",
            get(routes::social::moderation_log),
        )
        .route("/v1/social/reports", get(routes::social::reports))
        .route("/v1/stream", get(routes::live::stream))
        .route("/v1/ping", get(routes::meta::ping))
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    let mut app: Router = Router::new()
        .route("/healthz", get(routes::meta::healthz))
        .route("/readyz", get(routes::meta::readyz))
        .route(
            "/openapi.json",
            get(move || routes::meta::openapi(document.clone())),
        )
        .route("/docs", get(routes::docs::page))
        .route("/docs/swagger-ui-bundle.js", get(routes::docs::bundle))
        .route("/docs/swagger-ui.css", get(routes::docs::style))
        .route("/docs/init.js", get(routes::docs::init))
        .merge(v1)
        .with_state(state.clone());
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            state
                .config()
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT_LANGUAGE,
            header::IF_NONE_MATCH,
        ]);
    let request_id = HeaderName::from_static("x-request-id");
    let timeout = state.config().request_timeout;
    // Inner to outer: the time limit and the body limit answer inside `localize_problems`, so
    // their refusals are problem documents too.
    app = match state.config().web.clone() {
        // The dApp answers what the api does not (compressed: its bundles are text).
        Some(web) => app.fallback_service(
            Router::new()
                .fallback(move |request: Request| web_or_not_found(web.clone(), request))
                .layer(tower_http::compression::CompressionLayer::new()),
        ),
        None => app.fallback(error::route_not_found),
    };
    app.method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(error::localize_problems))
        .layer(middleware::from_fn(metrics::track))
        .layer(cors)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; frame-ancestors 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The dApp's file or page for `request`, else the api's 404 problem.
async fn web_or_not_found(web: web::WebApp, request: Request) -> Response {
    match web.respond(request.method(), request.uri().path()) {
        Some(response) => response,
        None => error::route_not_found().await.into_response(),
    }
}

/// The operators' interface: `/metrics` (Prometheus), served on its own listener (loopback by
/// default), never on the public one.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(routes::meta::metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Answers 503 (`request.timeout`) when the handler has not answered within `limit` (a stream
/// counts as answered once its headers are sent).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ::metrics::counter!("nest_api_timeouts_total").increment(1);
            error::ApiError::timeout().into_response()
        }
    }
}

/// Per-IP and per-account limits (429 with `Retry-After`).
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let limits = state.inner.limiter.limits();
    if let Err(retry) = state
        .inner
        .limiter
        .check(&format!("ip:{ip}"), limits.per_ip)
        .await
    {
        ::metrics::counter!("nest_api_rate_limited_total", "by" => "ip").increment(1);
        return error::ApiError::rate_limited(retry).into_response();
    }
    let account = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| state.inner.tokens.verify(t.trim()).ok())
        .map(|claims| claims.sub);
    if let Some(account) = account
        && let Err(retry) = state
            .inner
            .limiter
            .check(&format!("acct:{account}"), limits.per_account)
            .await
    {
        ::metrics::counter!("nest_api_rate_limited_total", "by" => "account").increment(1);
        return error::ApiError::rate_limited(retry).into_response();
    }
    next.run(request).await
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
