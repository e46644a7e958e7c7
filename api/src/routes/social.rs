//! Social endpoints (`/v1/social/*`) over [`nest_social::SocialService`]: one write endpoint
//! for every signed message, and cached reads (feeds, threads, profiles) invalidated by the
//! notices every write publishes. Notifications need a session (they are the owner's inbox).

use crate::{
    auth::AuthSession,
    error::ApiError,
    extract::{ApiPath, ApiQuery, limit, parse_address, parse_u256},
    routes::cached,
    state::AppState,
};
use alloy::primitives::{Address, B256};
use axum::{
    Extension, Json,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use nest_social::{
    DomainJson, SocialError,
    views::{
        AcceptedView, AccountPage, FeedPage, MessageView, ModerationView, NotificationPage,
        PostView, ProfileView, ReportView, ThreadView,
    },
};
use nest_store::{PostFilter, codec::address_key};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

impl From<SocialError> for ApiError {
    fn from(e: SocialError) -> Self {
        match e {
            SocialError::Store(e) => e.into(),
            SocialError::NotFound { kind, id } => ApiError::not_found(kind, id),
            e => {
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                if status.is_server_error() {
                    tracing::warn!(error = %e, "social dependency unavailable");
                }
                let mut error = ApiError::new(status, e.code());
                error.params = e.params();
                error.parameter = e.field();
                if let Some(reason) = e.reason() {
                    error = error.because(reason);
                }
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    error.retry_after = Some(5);
                }
                error
            }
        }
    }
}

/// A page cursor: a key this api issued (`{13 digits}:{id}`).
fn cursor(value: Option<&String>) -> Result<Option<&str>, ApiError> {
    match value {
        None => Ok(None),
        Some(c) => {
            let ok = c.len() <= 300
                && c.as_bytes().get(13) == Some(&b':')
                && c.as_bytes()
                    .get(..13)
                    .is_some_and(|digits| digits.iter().all(u8::is_ascii_digit))
                && c.chars().all(|ch| ch.is_ascii_graphic());
            if ok {
                Ok(Some(c.as_str()))
            } else {
                Err(
                    ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_cursor")
                        .for_parameter("cursor"),
                )
            }
        }
    }
}

fn parse_hash(name: &str, value: &str) -> Result<B256, ApiError> {
    let ok = value.len() == 66
        && value
            .strip_prefix("0x")
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !ok {
        return Err(ApiError::invalid_parameter(
            name,
            "a 0x-prefixed 32-byte hex hash",
        ));
    }
    value
        .parse()
        .map_err(|e| ApiError::invalid_parameter(name, e))
}

fn viewer(value: Option<&String>) -> Result<Option<Address>, ApiError> {
    value.map(|v| parse_address("viewer", v)).transpose()
}

/// `GET /v1/social/domain`: the EIP-712 domain social messages are signed under.
#[utoipa::path(get, path = "/v1/social/domain", tag = "social",
    responses((status = 200, body = DomainJson), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError)))]
pub async fn domain(State(state): State<AppState>) -> Json<DomainJson> {
    Json(state.inner.social.domain().json().clone())
}

/// `POST /v1/social/messages`: a signed social message.
#[utoipa::path(post, path = "/v1/social/messages", tag = "social",
    request_body(content = nest_social::Envelope, content_type = "application/json", description = "`{type, domain, message, signature, appKey?}`; see the nest-social README for every type"),
    responses(
        (status = 200, description = "Stored before: a replay changes nothing", body = AcceptedView),
        (status = 201, description = "Verified, checked and stored", body = AcceptedView),
        (status = 400, description = "Malformed, bad signature, wrong chain or domain, clock skew, a broken content rule", body = nest_http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "App key unknown, expired, revoked or out of scope; banned account; blocked; not the author; not a moderator", body = nest_http::Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, description = "Handle taken or in cooldown, duplicate text, edit window closed, post deleted", body = nest_http::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, description = "Unknown post, NFT, listing, auction or proposal; avatar not owned", body = nest_http::Problem, content_type = "application/problem+json"),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 500, response = crate::openapi::InternalError),
        (status = 503, response = crate::openapi::Unavailable),
    ))]
pub async fn post_message(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !nest_http::is_json_content_type(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::body_too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "request.malformed_json").because(r.body_text())
        }
    })?;
    let social = &state.inner.social;
    let limits = social.config().limits;
    let ip = connection
        .map(|c| c.0.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    if let Err(retry) = state
        .inner
        .limiter
        .check(&format!("social:ip:{ip}"), limits.per_ip)
        .await
    {
        ::metrics::counter!("nest_social_rate_limited_total", "by" => "ip").increment(1);
        tracing::info!(%ip, "social write refused by the per-IP rate limit");
        return Err(ApiError::rate_limited(retry));
    }
    let now = nest_social::service::now_ms();
    let verified = social.verify(&body, now).await?;
    if !verified.is_duplicate() {
        let account = verified.account();
        let strict = social.is_new_account(&account, now).await?;
        let limit = if strict {
            limits.per_new_account
        } else {
            limits.per_account
        };
        if let Err(retry) = state
            .inner
            .limiter
            .check(&format!("social:acct:{}", address_key(&account)), limit)
            .await
        {
            ::metrics::counter!("nest_social_rate_limited_total", "by" => "account").increment(1);
            tracing::info!(%account, new_account = strict, "social write refused by the per-account rate limit");
            return Err(ApiError::rate_limited(retry));
        }
    }
    let accepted = social.apply(verified, now).await?;
    ::metrics::counter!("nest_social_messages_total", "type" => accepted.kind, "duplicate" => accepted.duplicate.to_string()).increment(1);
    for (kind, key) in accepted.touched {
        state.inner.cache.invalidate_notice(&kind, &key).await;
        state
            .inner
            .bus
            .publish(crate::bus::Notice { kind, key })
            .await;
    }
    let view = AcceptedView {
        hash: format!("{:#x}", accepted.hash),
        kind: accepted.kind.to_string(),
        status: if accepted.duplicate {
            "duplicate".into()
        } else {
            "accepted".into()
        },
    };
    let status = if accepted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)).into_response())
}

/// `GET /v1/social/messages/{hash}`: a stored message, as signed.
#[utoipa::path(get, path = "/v1/social/messages/{hash}", tag = "social",
    params(("hash" = String, Path, description = "Message id (EIP-712 signing hash)", pattern = "^0x[0-9a-fA-F]{64}$")),
    responses((status = 200, body = MessageView), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn message(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(hash): ApiPath<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash("hash", &hash)?;
    let social = state.inner.social.clone();
    cached(
        &state,
        &headers,
        format!("social:message:{hash:#x}"),
        vec![],
        async move { Ok(social.message(&hash).await?) },
    )
    .await
}

/// Paging parameters of public feeds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// Continue after this key (`nextCursor` of the previous page).
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Apply this account's mutes, blocks and keyword mutes, and say whether it likes each post
    /// (`likedByViewer`).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub viewer: Option<String>,
}

async fn post_feed(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    filter: PostFilter,
    p: FeedParams,
    mut tags: Vec<String>,
) -> Result<Response, ApiError> {
    let cursor = cursor(p.cursor.as_ref())?.map(str::to_string);
    let limit = limit(p.limit)?;
    let viewer = viewer(p.viewer.as_ref())?;
    if let Some(v) = &viewer {
        tags.push(format!("social-home:{}", address_key(v)));
        tags.push(format!("social-likes:{}", address_key(v)));
    }
    let social = state.inner.social.clone();
    cached(state, headers, uri.to_string(), tags, async move {
        Ok(social
            .posts(filter, viewer.as_ref(), cursor.as_deref(), limit)
            .await?)
    })
    .await
}

/// `GET /v1/social/feeds/global`: every top-level post, newest first.
#[utoipa::path(get, path = "/v1/social/feeds/global", tag = "social", params(FeedParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn global(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    post_feed(
        &state,
        &headers,
        &uri,
        PostFilter::Global,
        p,
        vec!["social-posts".into()],
    )
    .await
}

/// Parameters of a channel feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelParams {
    /// The channel: a name (`[a-z0-9_-]{1,32}`), `collection:<contract>`,
    /// `nft:<contract>:<tokenId>` or `proposal:<id>`.
    #[param(
        pattern = "^([a-z0-9_-]{1,32}|collection:0x[0-9a-f]{40}|nft:0x[0-9a-f]{40}:[0-9]{1,78}|proposal:[0-9]{1,78})$"
    )]
    pub channel: String,
    /// Continue after this key.
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Apply this account's mutes, and say whether it likes each post (`likedByViewer`).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub viewer: Option<String>,
}

async fn channel_feed(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    channel: String,
    p: FeedParams,
) -> Result<Response, ApiError> {
    if channel.is_empty() {
        return Err(ApiError::invalid_parameter("channel", "empty"));
    }
    nest_social::content::parse_channel(&channel).map_err(ApiError::from)?;
    let tags = vec![format!("social-channel:{channel}")];
    post_feed(state, headers, uri, PostFilter::Channel(channel), p, tags).await
}

/// `GET /v1/social/feeds/channel`: a channel's top-level posts, newest first.
#[utoipa::path(get, path = "/v1/social/feeds/channel", tag = "social", params(ChannelParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn channel(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiQuery(p): ApiQuery<ChannelParams>,
) -> Result<Response, ApiError> {
    let params = FeedParams {
        cursor: p.cursor,
        limit: p.limit,
        viewer: p.viewer,
    };
    channel_feed(&state, &headers, &uri, p.channel, params).await
}

/// `GET /v1/social/nfts/{contract}/{tokenId}/posts`: an NFT's discussion thread.
#[utoipa::path(get, path = "/v1/social/nfts/{contract}/{tokenId}/posts", tag = "social",
    params(("contract" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$"), ("tokenId" = String, Path, pattern = "^[0-9]{1,78}$"), FeedParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn nft_posts(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath((contract, token_id)): ApiPath<(String, String)>,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let token_id = parse_u256("tokenId", &token_id)?;
    let channel = format!("nft:{}:{token_id}", address_key(&contract));
    channel_feed(&state, &headers, &uri, channel, p).await
}

/// `GET /v1/social/proposals/{id}/posts`: a proposal's discussion thread.
#[utoipa::path(get, path = "/v1/social/proposals/{id}/posts", tag = "social",
    params(("id" = String, Path, pattern = "^[0-9]{1,78}$"), FeedParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn proposal_posts(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    let id = parse_u256("id", &id)?;
    channel_feed(&state, &headers, &uri, format!("proposal:{id}"), p).await
}

/// Parameters of the home feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HomeParams {
    /// Whose home feed.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub account: String,
    /// Continue after this key.
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/social/feeds/home`: posts of followed accounts and their on-chain activity.
#[utoipa::path(get, path = "/v1/social/feeds/home", tag = "social", params(HomeParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiQuery(p): ApiQuery<HomeParams>,
) -> Result<Response, ApiError> {
    let account = parse_address("account", &p.account)?;
    let cursor = cursor(p.cursor.as_ref())?.map(str::to_string);
    let limit = limit(p.limit)?;
    let social = state.inner.social.clone();
    // Any post, like or chain activity may change a home page: they all announce
    // `social-posts` or `social-author`.
    let tags = vec![
        format!("social-home:{}", address_key(&account)),
        format!("social-likes:{}", address_key(&account)),
        "social-posts".into(),
        "social-author".into(),
    ];
    cached(&state, &headers, uri.to_string(), tags, async move {
        Ok(social.home(&account, cursor.as_deref(), limit).await?)
    })
    .await
}

/// Parameters of trending.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendingParams {
    /// How many (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/social/feeds/trending`: posts with the most likes and replies of the last 24 h,
/// weighted by recency.
#[utoipa::path(get, path = "/v1/social/feeds/trending", tag = "social", params(TrendingParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn trending(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiQuery(p): ApiQuery<TrendingParams>,
) -> Result<Response, ApiError> {
    let limit = limit(p.limit)?;
    let social = state.inner.social.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["social-posts".into()],
        async move {
            Ok(social
                .trending(nest_social::service::now_ms(), limit)
                .await?)
        },
    )
    .await
}

/// `GET /v1/social/accounts/{address}`: a profile with its counters.
#[utoipa::path(get, path = "/v1/social/accounts/{address}", tag = "social",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$")),
    responses((status = 200, body = ProfileView), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(address): ApiPath<String>,
) -> Result<Response, ApiError> {
    let account = parse_address("address", &address)?;
    let social = state.inner.social.clone();
    let key = address_key(&account);
    cached(
        &state,
        &headers,
        format!("social:profile:{key}"),
        // The avatar is shown only while owned: NFT transfers invalidate.
        vec![format!("social-profile:{key}"), "nfts".into()],
        async move { Ok(social.profile(&account).await?) },
    )
    .await
}

/// `GET /v1/social/handles/{handle}`: the profile holding a handle.
#[utoipa::path(get, path = "/v1/social/handles/{handle}", tag = "social",
    params(("handle" = String, Path, pattern = "^[A-Za-z0-9_]{3,20}$")),
    responses((status = 200, body = ProfileView), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn handle(
    State(state): State<AppState>,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<ProfileView>, ApiError> {
    let well_formed = (3..=20).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(ApiError::invalid_parameter(
            "handle",
            "3 to 20 characters of a-z, 0-9 and _",
        ));
    }
    let social = &state.inner.social;
    let account = social.by_handle(&handle).await?;
    Ok(Json(social.profile(&account).await?))
}

/// `GET /v1/social/accounts/{address}/posts`: an account's posts, newest first.
#[utoipa::path(get, path = "/v1/social/accounts/{address}/posts", tag = "social",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$"), FeedParams),
    responses((status = 200, body = FeedPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn account_posts(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(address): ApiPath<String>,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> Result<Response, ApiError> {
    let account = parse_address("address", &address)?;
    let tags = vec![format!("social-author:{}", address_key(&account))];
    post_feed(&state, &headers, &uri, PostFilter::Author(account), p, tags).await
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Continue after this key.
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

async fn follows(
    state: AppState,
    headers: HeaderMap,
    uri: Uri,
    address: String,
    p: PageParams,
    outgoing: bool,
) -> Result<Response, ApiError> {
    let account = parse_address("address", &address)?;
    let cursor = cursor(p.cursor.as_ref())?.map(str::to_string);
    let limit = limit(p.limit)?;
    let social = state.inner.social.clone();
    let tags = vec![format!("social-profile:{}", address_key(&account))];
    cached(&state, &headers, uri.to_string(), tags, async move {
        Ok(social
            .follows(&account, outgoing, cursor.as_deref(), limit)
            .await?)
    })
    .await
}

/// `GET /v1/social/accounts/{address}/followers`
#[utoipa::path(get, path = "/v1/social/accounts/{address}/followers", tag = "social",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$"), PageParams),
    responses((status = 200, body = AccountPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn followers(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(address): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    follows(state, headers, uri, address, p, false).await
}

/// `GET /v1/social/accounts/{address}/following`
#[utoipa::path(get, path = "/v1/social/accounts/{address}/following", tag = "social",
    params(("address" = String, Path, pattern = "^0x[0-9a-fA-F]{40}$"), PageParams),
    responses((status = 200, body = AccountPage), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn following(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(address): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    follows(state, headers, uri, address, p, true).await
}

/// `GET /v1/social/posts/{id}`
#[utoipa::path(get, path = "/v1/social/posts/{id}", tag = "social",
    params(("id" = String, Path, pattern = "^0x[0-9a-fA-F]{64}$")),
    responses((status = 200, body = PostView), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_hash("id", &id)?;
    let social = state.inner.social.clone();
    cached(
        &state,
        &headers,
        format!("social:post:{id:#x}"),
        vec![format!("social-post:{id:#x}"), "social-posts".into()],
        async move { Ok(social.post(&id).await?) },
    )
    .await
}

/// Parameters of a thread.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThreadParams {
    /// Continue after this key.
    pub cursor: Option<String>,
    /// Page size (1-100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Apply this account's mutes and blocks, and say whether it likes each post
    /// (`likedByViewer`).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub viewer: Option<String>,
    /// Also list replies the thread's author hid.
    pub include_hidden: Option<bool>,
}

/// `GET /v1/social/posts/{id}/thread`: the thread's root and its comments, oldest first.
#[utoipa::path(get, path = "/v1/social/posts/{id}/thread", tag = "social",
    params(("id" = String, Path, pattern = "^0x[0-9a-fA-F]{64}$"), ThreadParams),
    responses((status = 200, body = ThreadView), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn thread(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<ThreadParams>,
) -> Result<Response, ApiError> {
    let id = parse_hash("id", &id)?;
    let cursor = cursor(p.cursor.as_ref())?.map(str::to_string);
    let limit = limit(p.limit)?;
    let viewer = viewer(p.viewer.as_ref())?;
    let hidden = p.include_hidden.unwrap_or(false);
    let social = state.inner.social.clone();
    let mut tags: Vec<String> = vec!["social-thread".into(), "social-posts".into()];
    if let Some(v) = &viewer {
        tags.push(format!("social-likes:{}", address_key(v)));
    }
    cached(&state, &headers, uri.to_string(), tags, async move {
        Ok(social
            .thread(&id, viewer.as_ref(), hidden, cursor.as_deref(), limit)
            .await?)
    })
    .await
}

/// `GET /v1/social/notifications`: the signed-in account's inbox, newest first.
#[utoipa::path(get, path = "/v1/social/notifications", tag = "social", params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = NotificationPage), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::Unauthorized), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn notifications(
    State(state): State<AppState>,
    session: AuthSession,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<NotificationPage>, ApiError> {
    let cursor = cursor(p.cursor.as_ref())?;
    let limit = limit(p.limit)?;
    Ok(Json(
        state
            .inner
            .social
            .notifications(&session.address, cursor, limit)
            .await?,
    ))
}

/// Body of `POST /v1/social/notifications/read`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MarkRead {
    /// Mark read up to and including this notification key; all when absent.
    pub up_to: Option<String>,
}

/// Answer of `POST /v1/social/notifications/read`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkedRead {
    /// Notifications newly marked read.
    pub marked: u64,
    /// Unread notifications left.
    pub unread: u64,
}

/// `POST /v1/social/notifications/read`: marks the signed-in account's notifications read.
#[utoipa::path(post, path = "/v1/social/notifications/read", tag = "social",
    request_body(content = MarkRead, content_type = "application/json"),
    security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::Unauthorized), (status = 413, response = crate::openapi::PayloadTooLarge), (status = 415, response = crate::openapi::UnsupportedMediaType), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn mark_read(
    State(state): State<AppState>,
    session: AuthSession,
    crate::extract::ApiJson(body): crate::extract::ApiJson<MarkRead>,
) -> Result<Json<MarkedRead>, ApiError> {
    let up_to = cursor(body.up_to.as_ref())?;
    let social = &state.inner.social;
    let marked = social.mark_read(&session.address, up_to).await?;
    let unread = social
        .repo()
        .unread_count(&session.address)
        .await
        .map_err(ApiError::from)?;
    let key = address_key(&session.address);
    state
        .inner
        .cache
        .invalidate_notice("notifications", &key)
        .await;
    state
        .inner
        .bus
        .publish(crate::bus::Notice {
            kind: "notifications".into(),
            key,
        })
        .await;
    Ok(Json(MarkedRead { marked, unread }))
}

/// `GET /v1/social/moderation/log`: every moderation action (public audit log).
#[utoipa::path(get, path = "/v1/social/moderation/log", tag = "social", params(PageParams),
    responses((status = 200, body = super::PageDto<ModerationView>), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn moderation_log(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<super::PageDto<ModerationView>>, ApiError> {
    let cursor = cursor(p.cursor.as_ref())?;
    let limit = limit(p.limit)?;
    let (items, next_cursor) = state.inner.social.moderation_log(cursor, limit).await?;
    Ok(Json(super::PageDto { items, next_cursor }))
}

/// `GET /v1/social/reports`: users' reports (moderators only).
#[utoipa::path(get, path = "/v1/social/reports", tag = "social", params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = super::PageDto<ReportView>), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::Unauthorized), (status = 403, description = "Not a moderator", body = nest_http::Problem, content_type = "application/problem+json"), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn reports(
    State(state): State<AppState>,
    session: AuthSession,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<super::PageDto<ReportView>>, ApiError> {
    if !state.inner.social.is_moderator(&session.address) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "social.not_moderator_session",
        ));
    }
    let cursor = cursor(p.cursor.as_ref())?;
    let limit = limit(p.limit)?;
    let (items, next_cursor) = state.inner.social.reports(cursor, limit).await?;
    Ok(Json(super::PageDto { items, next_cursor }))
}
