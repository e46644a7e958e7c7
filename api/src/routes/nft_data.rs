//! What a marketplace page shows of a token beyond its on-chain record: resolved metadata
//! (name, image, traits), the token's image resized for galleries, trait counts for the filter
//! sidebar, name autocomplete, and a refresh that queues the metadata
//! again. Metadata is resolved by the indexer's workers; this module only reads it (and queues
//! refreshes).

use super::cached;
use crate::auth::AuthSession;
use crate::{
    error::ApiError,
    extract::{ApiPath, ApiQuery, limit, parse_address, parse_u256},
    state::AppState,
};
use axum::{
    Json,
    body::Body,
    extract::{OriginalUri, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use nest_store::{MetadataJob, Nft, NftMetadata};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Widths the media endpoint renders.
pub const MEDIA_WIDTHS: [u32; 3] = [96, 384, 1024];

/// One trait of a token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraitDto {
    /// `trait_type` (empty when the token gave none).
    pub trait_type: String,
    /// Value as text.
    pub value: String,
    /// `display_type`, when given (`number`, `boost_percentage`, `date`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
}

/// A token's metadata as resolved by the indexer. Every string is untrusted text: render it as
/// text, never as HTML.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetadataDto {
    /// `pending` (not resolved yet, or being refreshed with nothing resolved before),
    /// `resolved` or `failed`.
    pub state: String,
    /// True while a (re-)resolution is queued.
    pub refreshing: bool,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The image as served by Nest (content-addressed: `/v1/media/{sha256}`; add `?w=96|384|1024`
    /// and `format=png|webp` for a resized copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The `image` the metadata names (unsafe to load directly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_original: Option<String>,
    /// `animation_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub animation_url: Option<String>,
    /// `external_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// `background_color` (six hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Traits.
    pub attributes: Vec<TraitDto>,
    /// When it was fetched (unix milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<i64>,
    /// Why the last resolution (or its image) failed: `timeout`, `http_status`, `too_large`,
    /// `too_deep`, `bad_json`, `blocked_address`, `unsupported_scheme`, `too_many_redirects`,
    /// `image_…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl MetadataDto {
    /// The view of `doc` (`None`: nothing resolved yet); `queued` when a job waits.
    pub fn of(doc: Option<&NftMetadata>, queued: bool) -> Self {
        let Some(doc) = doc else {
            return Self {
                state: "pending".into(),
                refreshing: queued,
                name: None,
                description: None,
                image: None,
                image_original: None,
                animation_url: None,
                external_url: None,
                background_color: None,
                attributes: Vec::new(),
                fetched_at: None,
                error: None,
            };
        };
        let parsed = doc.parsed.clone().unwrap_or_default();
        Self {
            state: doc.state.as_str().into(),
            refreshing: queued,
            name: parsed.name,
            description: parsed.description,
            image: doc.image_media.as_ref().map(|id| format!("/v1/media/{id}")),
            // A data: image is already served by Nest; its text is not worth repeating.
            image_original: parsed.image.filter(|i| !i.starts_with("data:")),
            animation_url: parsed.animation_url,
            external_url: parsed.external_url,
            background_color: parsed.background_color,
            attributes: parsed
                .attributes
                .into_iter()
                .map(|t| TraitDto {
                    trait_type: t.trait_type,
                    value: t.value,
                    display_type: t.display_type,
                })
                .collect(),
            fetched_at: Some(doc.fetched_at),
            error: doc.error.as_ref().map(|e| e.reason.clone()),
        }
    }
}

/// The metadata of `nfts`, by NFT id (one query).
pub(crate) async fn metadata_for(
    state: &AppState,
    nfts: &[Nft],
) -> Result<HashMap<String, MetadataDto>, ApiError> {
    let ids: Vec<String> = nfts.iter().map(|n| n.id.clone()).collect();
    let docs = state.inner.store.metadata().get_many(&ids).await?;
    let by_id: HashMap<&str, &NftMetadata> = docs.iter().map(|d| (d.id.as_str(), d)).collect();
    Ok(ids
        .iter()
        .map(|id| {
            let dto = MetadataDto::of(by_id.get(id.as_str()).copied(), false);
            (id.clone(), dto)
        })
        .collect())
}

/// One token's metadata, with whether a job is queued for it.
pub(crate) async fn metadata_of(state: &AppState, nft_id: &str) -> Result<MetadataDto, ApiError> {
    let metadata = state.inner.store.metadata();
    let doc = metadata.get(nft_id).await?;
    let queued = metadata.job(nft_id).await?.is_some();
    Ok(MetadataDto::of(doc.as_ref(), queued))
}

/// The answer to a refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshDto {
    /// Always true: the resolution is queued (the token's `metadata.refreshing` shows it until
    /// it is done; a live `nft_metadata` notice follows).
    pub queued: bool,
}

/// Refreshes allowed per token per window (any user).
const REFRESH_PER_TOKEN: u32 = 2;
/// Refreshes allowed per user per window.
const REFRESH_PER_USER: u32 = 20;

/// `POST /v1/nfts/{contract}/{tokenId}/refresh`
#[utoipa::path(post, path = "/v1/nfts/{contract}/{tokenId}/refresh", operation_id = "refresh_nft_metadata", tag = "marketplace",
    params(("contract" = String, Path, description = "NFT contract", pattern = "^0x[0-9a-fA-F]{40}$"), ("tokenId" = String, Path, description = "Token id (decimal)", pattern = "^[0-9]{1,78}$")),
    security(("bearer" = [])),
    responses((status = 202, body = RefreshDto), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::Unauthorized), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn refresh(
    State(state): State<AppState>,
    session: AuthSession,
    ApiPath((contract, token)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let token = parse_u256("tokenId", &token)?;
    let chain = state.inner.config.chain_id;
    let nft = state
        .inner
        .store
        .nfts()
        .get(chain, &contract, &token)
        .await?
        .ok_or_else(|| ApiError::not_found("NFT", token))?;
    let limiter = &state.inner.limiter;
    let user_key = format!("refresh:user:{:#x}", session.address);
    limiter
        .check(&user_key, REFRESH_PER_USER)
        .await
        .map_err(ApiError::rate_limited)?;
    limiter
        .check(&format!("refresh:token:{}", nft.id), REFRESH_PER_TOKEN)
        .await
        .map_err(ApiError::rate_limited)?;
    let ticket = format!(
        "refresh:{:#x}:{}",
        session.address,
        uuid::Uuid::new_v4().simple()
    );
    let job = MetadataJob::new(chain, contract, token, &nft.token_uri, &ticket);
    state.inner.store.metadata().enqueue(&job).await?;
    // The token's page shows `refreshing` at once.
    state
        .inner
        .cache
        .invalidate(&format!("nft_metadata:{}", nft.id))
        .await;
    Ok((StatusCode::ACCEPTED, Json(RefreshDto { queued: true })).into_response())
}

/// Resizing options of a media request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaParams {
    /// Width in pixels: 96, 384 or 1024 (height follows the aspect ratio). Without it, the
    /// stored image as it is. Ignored for SVG (vector) images.
    pub w: Option<u32>,
    /// `png` (default when resizing) or `webp`.
    #[param(pattern = "^(png|webp)$")]
    pub format: Option<String>,
}

/// `GET /v1/media/{id}`
#[utoipa::path(get, path = "/v1/media/{id}", tag = "marketplace",
    params(("id" = String, Path, description = "Media id: SHA-256 of the stored image, lowercase hex", pattern = "^[0-9a-f]{64}$"), MediaParams),
    responses(
        (status = 200, description = "The image (PNG, JPEG, GIF, WebP, or sanitised SVG)", content((Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/svg+xml")),
            headers(("ETag" = String, description = "Strong validator"), ("Cache-Control" = String, description = "public, max-age=31536000, immutable"))),
        (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn media(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<MediaParams>,
) -> Result<Response, ApiError> {
    if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ApiError::invalid_parameter("id", "not a media id"));
    }
    if let Some(w) = p.w
        && !MEDIA_WIDTHS.contains(&w)
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "media.bad_width")
            .for_parameter("w")
            .with("widths", "96, 384, 1024"));
    }
    let format = match p.format.as_deref() {
        None | Some("png") => crate::media::Format::Png,
        Some("webp") => crate::media::Format::WebP,
        Some(other) => {
            return Err(ApiError::invalid_parameter(
                "format",
                format!("{other:?} is not png or webp"),
            ));
        }
    };
    let rendered = state
        .inner
        .media
        .render(&state.inner.store, &id, p.w, format)
        .await?;
    let etag = format!("\"{}\"", rendered.tag);
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim() == "*" || v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // An SVG opened directly runs nothing and loads nothing.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
        );
    if matches {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(ApiError::internal);
    }
    builder
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        )
        .body(Body::from(rendered.bytes))
        .map_err(ApiError::internal)
}

/// Count of one trait value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraitValueDto {
    /// Value.
    pub value: String,
    /// Tokens with it.
    pub count: u64,
}

/// One trait type with its values.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraitTypeDto {
    /// `trait_type`.
    pub trait_type: String,
    /// Values, by value.
    pub values: Vec<TraitValueDto>,
}

/// The trait counts of a collection (the filter sidebar).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TraitsDto {
    /// Collection contract.
    pub contract: String,
    /// Trait types, by name.
    pub traits: Vec<TraitTypeDto>,
}

/// `GET /v1/collections/{contract}/traits`
#[utoipa::path(get, path = "/v1/collections/{contract}/traits", tag = "marketplace",
    params(("contract" = String, Path, description = "NFT contract", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses((status = 200, body = TraitsDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn traits(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(contract): ApiPath<String>,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["nft_metadata".into()],
        async move {
            let counts = store.metadata().trait_counts(chain, &contract).await?;
            let mut types: BTreeMap<String, Vec<TraitValueDto>> = BTreeMap::new();
            for c in counts {
                types.entry(c.trait_type).or_default().push(TraitValueDto {
                    value: c.value,
                    count: c.count,
                });
            }
            Ok(TraitsDto {
                contract: contract.to_checksum(None),
                traits: types
                    .into_iter()
                    .map(|(trait_type, values)| TraitTypeDto { trait_type, values })
                    .collect(),
            })
        },
    )
    .await
}

/// A suggestion of the autocomplete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionDto {
    /// NFT contract.
    pub contract: String,
    /// Token id.
    pub token_id: String,
    /// Name.
    pub name: String,
    /// Image (`/v1/media/…`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// Autocomplete parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutocompleteParams {
    /// The start of a name (1 to 64 characters, case-insensitive).
    #[param(min_length = 1, max_length = 64)]
    pub q: String,
    /// Suggestions, 1..=100 (default 8).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/search/autocomplete`
#[utoipa::path(get, path = "/v1/search/autocomplete", tag = "marketplace", params(AutocompleteParams),
    responses((status = 200, body = Vec<SuggestionDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn autocomplete(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<AutocompleteParams>,
) -> Result<Response, ApiError> {
    let q = p.q.trim().to_string();
    if q.is_empty() || q.chars().count() > 64 {
        return Err(ApiError::invalid_parameter("q", "1 to 64 characters"));
    }
    let size = match p.limit {
        None => 8,
        some => limit(some)?,
    };
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["nft_metadata".into()],
        async move {
            let found = store
                .metadata()
                .names_starting(chain, &q, i64::from(size))
                .await?;
            Ok(found
                .into_iter()
                .filter_map(|d| {
                    let name = d.parsed.as_ref()?.name.clone()?;
                    Some(SuggestionDto {
                        contract: d.contract.to_checksum(None),
                        token_id: d.token_id.to_string(),
                        name,
                        image: d.image_media.map(|id| format!("/v1/media/{id}")),
                    })
                })
                .collect::<Vec<_>>())
        },
    )
    .await
}

/// A search hit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHitDto {
    /// NFT contract.
    pub contract: String,
    /// Token id.
    pub token_id: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image (`/v1/media/…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Relevance: words found in the name count three, in the description one, a name that
    /// starts with the query ten more.
    pub score: u32,
}

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchParams {
    /// Words to find (every word must occur in the name or description; case-insensitive).
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Hits, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Candidates ranked per search.
const SEARCH_CANDIDATES: i64 = 500;

/// `GET /v1/search`
#[utoipa::path(get, path = "/v1/search", tag = "marketplace", params(SearchParams),
    responses((status = 200, body = Vec<SearchHitDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    let terms = nest_store::search_terms(&p.q);
    if terms.is_empty() || p.q.chars().count() > 200 {
        return Err(ApiError::invalid_parameter(
            "q",
            "1 to 200 characters with a word of two or more letters",
        ));
    }
    let size = match p.limit {
        None => 20,
        some => limit(some)?,
    };
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let phrase = p.q.trim().to_lowercase();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["nft_metadata".into()],
        async move {
            let found = store
                .metadata()
                .search(chain, &terms, SEARCH_CANDIDATES)
                .await?;
            let mut hits: Vec<SearchHitDto> = found
                .into_iter()
                .map(|d| {
                    let parsed = d.parsed.unwrap_or_default();
                    let in_name = parsed
                        .name
                        .as_deref()
                        .map(nest_store::search_terms)
                        .unwrap_or_default();
                    let in_description = parsed
                        .description
                        .as_deref()
                        .map(nest_store::search_terms)
                        .unwrap_or_default();
                    let mut score: u32 = terms
                        .iter()
                        .map(|t| {
                            3 * u32::from(in_name.contains(t))
                                + u32::from(in_description.contains(t))
                        })
                        .sum();
                    if d.name_lower
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&phrase))
                    {
                        score += 10;
                    }
                    SearchHitDto {
                        contract: d.contract.to_checksum(None),
                        token_id: d.token_id.to_string(),
                        name: parsed.name,
                        image: d.image_media.map(|id| format!("/v1/media/{id}")),
                        score,
                    }
                })
                .collect();
            hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
            hits.truncate(size as usize);
            Ok(hits)
        },
    )
    .await
}
