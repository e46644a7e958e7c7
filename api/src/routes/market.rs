//! Marketplace reads: listings, NFTs, auctions, offers, sales, collection stats.

use super::{
    PageDto,
    activity::decimal_string,
    cached, now,
    units::{CurrencyDto, Priced, priced, priced_one},
};
use crate::{
    error::ApiError,
    extract::{ApiPath, ApiQuery, limit, one_of, parse_address, parse_u256},
    state::AppState,
};
use alloy::primitives::{Address, U256};
use axum::{
    extract::{OriginalUri, State},
    http::HeaderMap,
    response::Response,
};
use nest_store::{
    Auction, AuctionStatus, Bid, CollectionStats, Listing, ListingQuery, ListingSort,
    ListingStatus, Nft, NftTransfer, Offer, OfferStatus, Projection, Sale, TokenTotals,
};
use serde::{Deserialize, Serialize};

fn addr(a: &Address) -> String {
    a.to_checksum(None)
}

fn opt_addr(a: &Option<Address>) -> Option<String> {
    a.as_ref().map(addr)
}

/// A fixed-price listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListingDto {
    /// Listing id on chain.
    pub id: String,
    /// Seller.
    pub seller: String,
    /// NFT contract.
    pub nft: String,
    /// Token id.
    pub token_id: String,
    /// Payment token (zero address: ETH).
    pub payment_token: String,
    /// Price in the payment token's smallest unit.
    pub price: String,
    /// The payment token's symbol and decimals (absent when the chain cannot be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<CurrencyDto>,
    /// The price in whole units (`1.5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_decimal: Option<String>,
    /// Expiry (unix seconds, 0: none).
    pub expires_at: i64,
    /// active, sold, cancelled, expired or stale.
    pub status: String,
    /// Buyer once sold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    /// Block it was created in.
    pub created_block: i64,
}

impl From<&Listing> for ListingDto {
    fn from(l: &Listing) -> Self {
        let expired =
            l.status == ListingStatus::Active && l.expires_at != 0 && l.expires_at < now();
        Self {
            id: l.listing_id.to_string(),
            seller: addr(&l.seller),
            nft: addr(&l.nft),
            token_id: l.token_id.to_string(),
            payment_token: addr(&l.payment_token),
            price: l.price.to_string(),
            currency: None,
            price_decimal: None,
            expires_at: l.expires_at,
            status: if expired {
                "expired".into()
            } else {
                l.status.as_str().into()
            },
            buyer: opt_addr(&l.buyer),
            created_block: l.created_block,
        }
    }
}

/// Listing filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListingParams {
    /// active, sold, cancelled, expired, stale.
    #[param(pattern = "^(active|sold|cancelled|expired|stale)$")]
    pub status: Option<String>,
    /// Seller address.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub seller: Option<String>,
    /// NFT contract.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub nft: Option<String>,
    /// Payment token (0x000…000 for ETH).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub payment_token: Option<String>,
    /// Lowest price (decimal, smallest unit).
    #[param(pattern = "^[0-9]{1,78}$")]
    pub min_price: Option<String>,
    /// Highest price.
    #[param(pattern = "^[0-9]{1,78}$")]
    pub max_price: Option<String>,
    /// recent (default), price_asc, price_desc.
    #[param(pattern = "^(recent|price_asc|price_desc)$")]
    pub sort: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

const LISTING_STATUSES: [(&str, ListingStatus); 5] = [
    ("active", ListingStatus::Active),
    ("sold", ListingStatus::Sold),
    ("cancelled", ListingStatus::Cancelled),
    ("expired", ListingStatus::Expired),
    ("stale", ListingStatus::Stale),
];

/// `GET /v1/listings`
#[utoipa::path(get, path = "/v1/listings", tag = "marketplace", params(ListingParams),
    responses((status = 200, body = PageDto<ListingDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn listings(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<ListingParams>,
) -> Result<Response, ApiError> {
    let query = ListingQuery {
        status: p
            .status
            .as_deref()
            .map(|s| one_of("status", s, &LISTING_STATUSES))
            .transpose()?,
        seller: p
            .seller
            .as_deref()
            .map(|v| parse_address("seller", v))
            .transpose()?,
        nft: p
            .nft
            .as_deref()
            .map(|v| parse_address("nft", v))
            .transpose()?,
        payment_token: p
            .payment_token
            .as_deref()
            .map(|v| parse_address("paymentToken", v))
            .transpose()?,
        min_price: p
            .min_price
            .as_deref()
            .map(|v| parse_u256("minPrice", v))
            .transpose()?,
        max_price: p
            .max_price
            .as_deref()
            .map(|v| parse_u256("maxPrice", v))
            .transpose()?,
        sort: p
            .sort
            .as_deref()
            .map(|s| {
                one_of(
                    "sort",
                    s,
                    &[
                        ("recent", ListingSort::Recent),
                        ("price_asc", ListingSort::PriceAsc),
                        ("price_desc", ListingSort::PriceDesc),
                    ],
                )
            })
            .transpose()?
            .unwrap_or_default(),
        cursor: p.cursor.clone(),
        limit: limit(p.limit)?,
    };
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["listings".into()],
        async move {
            let page = store.listings().query(chain, &query).await?;
            Ok(PageDto {
                items: priced(&st, page.items.iter().map(ListingDto::from).collect()).await,
                next_cursor: page.next_cursor,
            })
        },
    )
    .await
}

/// `GET /v1/listings/{id}`
#[utoipa::path(get, path = "/v1/listings/{id}", tag = "marketplace", params(("id" = String, Path, description = "Listing id (decimal)", pattern = "^[0-9]{1,78}$")),
    responses((status = 200, body = ListingDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn listing(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_u256("id", &id)?;
    let (chain, market) = (
        state.inner.config.chain_id,
        state.inner.config.addresses.marketplace,
    );
    let doc_id = Listing::id_for(chain, &market, &id);
    let store = state.inner.store.clone();
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec![format!("listings:{doc_id}")],
        async move {
            let listing = store
                .listings()
                .get(chain, &market, &id)
                .await?
                .ok_or_else(|| ApiError::not_found("listing", id))?;
            Ok(priced_one(&st, ListingDto::from(&listing)).await)
        },
    )
    .await
}

/// An NFT.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NftDto {
    /// Contract.
    pub contract: String,
    /// Token id.
    pub token_id: String,
    /// Owner.
    pub owner: String,
    /// Metadata URI.
    pub token_uri: String,
    /// Per-token royalty receiver (else the collection default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub royalty_receiver: Option<String>,
    /// Per-token royalty, basis points.
    pub royalty_bps: i32,
    /// Block it was minted in.
    pub minted_block: i64,
    /// Resolved metadata: name, image, traits (see `MetadataDto`).
    pub metadata: super::nft_data::MetadataDto,
}

impl NftDto {
    /// The view of `n` with its metadata (`None`: not resolved yet).
    pub fn with_metadata(n: &Nft, metadata: Option<super::nft_data::MetadataDto>) -> Self {
        Self {
            contract: addr(&n.contract),
            token_id: n.token_id.to_string(),
            owner: addr(&n.owner),
            token_uri: n.token_uri.clone(),
            royalty_receiver: opt_addr(&n.royalty_receiver),
            royalty_bps: n.royalty_bps,
            minted_block: n.minted_block,
            metadata: metadata.unwrap_or_else(|| super::nft_data::MetadataDto::of(None, false)),
        }
    }
}

/// One transfer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferDto {
    /// From (zero for a mint).
    pub from: String,
    /// To.
    pub to: String,
    /// Block.
    pub block_number: i64,
    /// Transaction.
    pub tx_hash: String,
}

impl From<&NftTransfer> for TransferDto {
    fn from(t: &NftTransfer) -> Self {
        Self {
            from: addr(&t.from),
            to: addr(&t.to),
            block_number: t.block_number,
            tx_hash: format!("{:#x}", t.tx_hash),
        }
    }
}

/// An NFT with its history, offers and sales.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NftDetailDto {
    /// The NFT.
    #[serde(flatten)]
    pub nft: NftDto,
    /// Transfers, oldest first.
    pub history: Vec<TransferDto>,
    /// Open offers, highest first.
    pub offers: Vec<OfferDto>,
    /// Sales, newest first.
    pub sales: Vec<SaleDto>,
}

/// NFTs of an owner.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NftParams {
    /// Owner address (required).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub owner: String,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/nfts?owner=`
#[utoipa::path(get, path = "/v1/nfts", tag = "marketplace", params(NftParams),
    responses((status = 200, body = PageDto<NftDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn nfts(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<NftParams>,
) -> Result<Response, ApiError> {
    let owner = parse_address("owner", &p.owner)?;
    let limit = limit(p.limit)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["nfts".into(), "nft_metadata".into()],
        async move {
            let page = store
                .nfts()
                .by_owner(chain, &owner, p.cursor.as_deref(), limit)
                .await?;
            let metadata = super::nft_data::metadata_for(&st, &page.items).await?;
            Ok(PageDto {
                items: page
                    .items
                    .iter()
                    .map(|n| NftDto::with_metadata(n, metadata.get(&n.id).cloned()))
                    .collect::<Vec<_>>(),
                next_cursor: page.next_cursor,
            })
        },
    )
    .await
}

/// `GET /v1/nfts/{contract}/{tokenId}`
#[utoipa::path(get, path = "/v1/nfts/{contract}/{tokenId}", tag = "marketplace",
    params(("contract" = String, Path, description = "NFT contract", pattern = "^0x[0-9a-fA-F]{40}$"), ("tokenId" = String, Path, description = "Token id (decimal)", pattern = "^[0-9]{1,78}$")),
    responses((status = 200, body = NftDetailDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn nft(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath((contract, token)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let token = parse_u256("tokenId", &token)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let nft_id = Nft::id_for(chain, &contract, &token);
    let st = state.clone();
    let tags = vec![
        format!("nfts:{nft_id}"),
        format!("nft_metadata:{nft_id}"),
        "offers".into(),
        "sales".into(),
    ];
    cached(&state, &headers, uri.to_string(), tags, async move {
        let nft = store
            .nfts()
            .get(chain, &contract, &token)
            .await?
            .ok_or_else(|| ApiError::not_found("NFT", token))?;
        let history = store.nfts().history(chain, &contract, &token).await?;
        let offers = store
            .offers()
            .for_token(chain, &contract, &token, Some(OfferStatus::Open))
            .await?;
        let sales = store.sales().for_token(chain, &contract, &token).await?;
        let metadata = super::nft_data::metadata_of(&st, &nft.id).await?;
        Ok(NftDetailDto {
            nft: NftDto::with_metadata(&nft, Some(metadata)),
            history: history.iter().map(TransferDto::from).collect(),
            offers: priced(&st, offers.iter().map(OfferDto::from).collect()).await,
            sales: priced(&st, sales.iter().map(SaleDto::from).collect()).await,
        })
    })
    .await
}

/// An English auction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuctionDto {
    /// Auction id.
    pub id: String,
    /// Seller.
    pub seller: String,
    /// NFT contract.
    pub nft: String,
    /// Token id.
    pub token_id: String,
    /// Payment token.
    pub payment_token: String,
    /// Reserve price.
    pub reserve_price: String,
    /// Start (unix seconds).
    pub start_time: i64,
    /// End after extensions.
    pub end_time: i64,
    /// Highest bidder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest_bidder: Option<String>,
    /// Highest bid.
    pub highest_bid: String,
    /// The payment token's symbol and decimals (absent when the chain cannot be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<CurrencyDto>,
    /// The reserve price in whole units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserve_price_decimal: Option<String>,
    /// The highest bid in whole units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highest_bid_decimal: Option<String>,
    /// Bids so far.
    pub bid_count: i64,
    /// live, ended (awaiting settlement), settled, cancelled.
    pub status: String,
    /// Winner once settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
}

impl From<&Auction> for AuctionDto {
    fn from(a: &Auction) -> Self {
        let status = match a.status {
            AuctionStatus::Live if a.end_time <= now() => "ended",
            other => other.as_str(),
        };
        Self {
            id: a.auction_id.to_string(),
            seller: addr(&a.seller),
            nft: addr(&a.nft),
            token_id: a.token_id.to_string(),
            payment_token: addr(&a.payment_token),
            reserve_price: a.reserve_price.to_string(),
            start_time: a.start_time,
            end_time: a.end_time,
            highest_bidder: opt_addr(&a.highest_bidder),
            highest_bid: a.highest_bid.to_string(),
            currency: None,
            reserve_price_decimal: None,
            highest_bid_decimal: None,
            bid_count: a.bid_count,
            status: status.into(),
            winner: opt_addr(&a.winner),
        }
    }
}

/// One bid.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BidDto {
    /// Bidder.
    pub bidder: String,
    /// Amount.
    pub amount: String,
    /// Block.
    pub block_number: i64,
}

impl From<&Bid> for BidDto {
    fn from(b: &Bid) -> Self {
        Self {
            bidder: addr(&b.bidder),
            amount: b.amount.to_string(),
            block_number: b.block_number,
        }
    }
}

/// An auction with its bids.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuctionDetailDto {
    /// The auction.
    #[serde(flatten)]
    pub auction: AuctionDto,
    /// Bids, oldest first.
    pub bids: Vec<BidDto>,
}

/// Auction filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuctionParams {
    /// Only those ending within this many seconds ("ending soon").
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295.0)]
    pub ending_within: Option<u32>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/auctions` (live, soonest end first)
#[utoipa::path(get, path = "/v1/auctions", tag = "marketplace", params(AuctionParams),
    responses((status = 200, body = PageDto<AuctionDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn auctions(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<AuctionParams>,
) -> Result<Response, ApiError> {
    let limit = limit(p.limit)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let st = state.clone();
    let ending_before = p.ending_within.map(|s| now() + i64::from(s));
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["auctions".into()],
        async move {
            let page = store
                .auctions()
                .live(chain, None, ending_before, p.cursor.as_deref(), limit)
                .await?;
            Ok(PageDto {
                items: priced(&st, page.items.iter().map(AuctionDto::from).collect()).await,
                next_cursor: page.next_cursor,
            })
        },
    )
    .await
}

/// `GET /v1/auctions/{id}`
#[utoipa::path(get, path = "/v1/auctions/{id}", tag = "marketplace", params(("id" = String, Path, description = "Auction id (decimal)", pattern = "^[0-9]{1,78}$")),
    responses((status = 200, body = AuctionDetailDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn auction(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_u256("id", &id)?;
    let (chain, market) = (
        state.inner.config.chain_id,
        state.inner.config.addresses.marketplace,
    );
    let doc_id = Auction::id_for(chain, &market, &id);
    let store = state.inner.store.clone();
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec![format!("auctions:{doc_id}"), "bids".into()],
        async move {
            let auction = store
                .auctions()
                .get(chain, &market, &id)
                .await?
                .ok_or_else(|| ApiError::not_found("auction", id))?;
            let bids = store.auctions().bids(&doc_id).await?;
            Ok(AuctionDetailDto {
                auction: priced_one(&st, AuctionDto::from(&auction)).await,
                bids: bids.iter().map(BidDto::from).collect(),
            })
        },
    )
    .await
}

/// An offer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferDto {
    /// Offer id.
    pub id: String,
    /// Buyer.
    pub buyer: String,
    /// NFT contract.
    pub nft: String,
    /// Token id.
    pub token_id: String,
    /// ERC-20 payment token.
    pub payment_token: String,
    /// Amount.
    pub amount: String,
    /// The payment token's symbol and decimals (absent when the chain cannot be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<CurrencyDto>,
    /// The amount in whole units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_decimal: Option<String>,
    /// Expiry (0: none).
    pub expires_at: i64,
    /// open, accepted, cancelled, expired.
    pub status: String,
}

impl From<&Offer> for OfferDto {
    fn from(o: &Offer) -> Self {
        let expired = o.status == OfferStatus::Open && o.expires_at != 0 && o.expires_at < now();
        Self {
            id: o.offer_id.to_string(),
            buyer: addr(&o.buyer),
            nft: addr(&o.nft),
            token_id: o.token_id.to_string(),
            payment_token: addr(&o.payment_token),
            amount: o.amount.to_string(),
            currency: None,
            amount_decimal: None,
            expires_at: o.expires_at,
            status: if expired {
                "expired".into()
            } else {
                o.status.as_str().into()
            },
        }
    }
}

/// Offer filters: by buyer, or by token.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferParams {
    /// Buyer address.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub buyer: Option<String>,
    /// NFT contract (with tokenId).
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub nft: Option<String>,
    /// Token id (with nft).
    #[param(pattern = "^[0-9]{1,78}$")]
    pub token_id: Option<String>,
}

/// `GET /v1/offers?buyer=` or `?nft=&tokenId=`
#[utoipa::path(get, path = "/v1/offers", tag = "marketplace", params(OfferParams),
    responses((status = 200, body = Vec<OfferDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn offers(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<OfferParams>,
) -> Result<Response, ApiError> {
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let st = state.clone();
    enum By {
        Buyer(Address),
        Token(Address, U256),
    }
    let by = match (&p.buyer, &p.nft, &p.token_id) {
        (Some(b), None, None) => By::Buyer(parse_address("buyer", b)?),
        (None, Some(n), Some(t)) => By::Token(parse_address("nft", n)?, parse_u256("tokenId", t)?),
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "request.offer_filter",
            ));
        }
    };
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["offers".into()],
        async move {
            let offers = match by {
                By::Buyer(buyer) => store.offers().by_buyer(chain, &buyer, None).await?,
                By::Token(nft, token) => {
                    store.offers().for_token(chain, &nft, &token, None).await?
                }
            };
            Ok(priced(&st, offers.iter().map(OfferDto::from).collect()).await)
        },
    )
    .await
}

/// A sale.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleDto {
    /// listing, auction or offer.
    pub kind: String,
    /// NFT contract.
    pub nft: String,
    /// Token id.
    pub token_id: String,
    /// Seller.
    pub seller: String,
    /// Buyer.
    pub buyer: String,
    /// Payment token.
    pub payment_token: String,
    /// Price.
    pub price: String,
    /// The payment token's symbol and decimals (absent when the chain cannot be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<CurrencyDto>,
    /// The price in whole units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_decimal: Option<String>,
    /// Platform fee.
    pub fee: String,
    /// Royalty.
    pub royalty: String,
    /// Royalty receiver.
    pub royalty_receiver: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// Transaction.
    pub tx_hash: String,
}

impl From<&Sale> for SaleDto {
    fn from(s: &Sale) -> Self {
        Self {
            kind: format!("{:?}", s.kind).to_ascii_lowercase(),
            nft: addr(&s.nft),
            token_id: s.token_id.to_string(),
            seller: addr(&s.seller),
            buyer: addr(&s.buyer),
            payment_token: addr(&s.payment_token),
            price: s.price.to_string(),
            currency: None,
            price_decimal: None,
            fee: s.fee.to_string(),
            royalty: s.royalty.to_string(),
            royalty_receiver: addr(&s.royalty_receiver),
            timestamp: s.timestamp,
            tx_hash: format!("{:#x}", s.tx_hash),
        }
    }
}

/// Sales filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SalesParams {
    /// How many, 1..=100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/sales` (newest first)
#[utoipa::path(get, path = "/v1/sales", tag = "marketplace", params(SalesParams),
    responses((status = 200, body = Vec<SaleDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn sales(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<SalesParams>,
) -> Result<Response, ApiError> {
    let limit = limit(p.limit)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["sales".into()],
        async move {
            let sales = store.sales().recent(chain, limit).await?;
            Ok(priced(&st, sales.iter().map(SaleDto::from).collect()).await)
        },
    )
    .await
}

/// Volume and number of sales over one window, in one payment token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WindowTotalsDto {
    /// Sum of sale prices in the token's smallest unit.
    pub volume: String,
    /// The same in whole units (`1.5`), when the token's decimals are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_decimal: Option<String>,
    /// Number of sales.
    pub sales: i64,
}

/// A collection's figures in one payment token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTokenStatsDto {
    /// Payment token (zero address: ETH).
    pub payment_token: String,
    /// Its symbol, when the chain could be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Its decimals, when the chain could be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Cheapest active listing in this token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_price: Option<String>,
    /// The floor in whole units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_price_decimal: Option<String>,
    /// Last 24 hours (hour resolution).
    pub last_24h: WindowTotalsDto,
    /// Last 7 days (hour resolution).
    pub last_7d: WindowTotalsDto,
    /// Last 30 days (hour resolution).
    pub last_30d: WindowTotalsDto,
    /// Since the collection was first indexed.
    pub all_time: WindowTotalsDto,
}

/// Collection statistics, kept incrementally by the indexer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStatsDto {
    /// Contract.
    pub contract: String,
    /// Cheapest active ETH listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_price: Option<String>,
    /// ETH volume over 24 hours.
    pub volume_24h: String,
    /// ETH volume over 7 days.
    pub volume_7d: String,
    /// Distinct owners.
    pub owners: i64,
    /// Tokens minted and not burned (indexed collection only).
    pub supply: i64,
    /// Active fixed-price listings.
    pub listed: i64,
    /// Live auctions.
    pub on_auction: i64,
    /// Sales in any payment token, all time.
    pub sales: i64,
    /// Floor, volume and sales per payment token (ETH first, then every token the marketplace
    /// accepts or was paid in).
    pub by_payment_token: Vec<PaymentTokenStatsDto>,
    /// Last block that changed the counters (0: nothing indexed yet).
    pub updated_block: i64,
}

/// `GET /v1/collections/{contract}/stats`
#[utoipa::path(get, path = "/v1/collections/{contract}/stats", tag = "marketplace", params(("contract" = String, Path, description = "NFT contract", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses((status = 200, body = CollectionStatsDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn collection_stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(contract): ApiPath<String>,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let chain = state.inner.config.chain_id;
    let stats_tag = format!(
        "{}:{}",
        CollectionStats::COLLECTION,
        CollectionStats::id_for(chain, &contract)
    );
    let view = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["listings".into(), stats_tag],
        async move { collection_stats_view(&view, chain, contract).await },
    )
    .await
}

async fn collection_stats_view(
    state: &AppState,
    chain: u64,
    contract: Address,
) -> Result<CollectionStatsDto, ApiError> {
    let store = &state.inner.store;
    let repo = store.collection_stats();
    let counters = repo
        .get(chain, &contract)
        .await?
        .unwrap_or_else(|| CollectionStats::empty(chain, contract));
    let t = now();
    let day = 86_400;
    let windows = [
        repo.totals_since(chain, &contract, t - day).await?,
        repo.totals_since(chain, &contract, t - 7 * day).await?,
        repo.totals_since(chain, &contract, t - 30 * day).await?,
        counters.totals.clone(),
    ];
    // ETH, the tokens the marketplace accepts, and any token the collection was paid in.
    let mut tokens = vec![Address::ZERO];
    if let Some(market) = store
        .contract_state()
        .get(chain, &state.inner.config.addresses.marketplace)
        .await?
        && let Ok(accepted) = market.fields.get_array("paymentTokens")
    {
        tokens.extend(
            accepted
                .iter()
                .filter_map(|t| t.as_str())
                .filter_map(|t| t.parse::<Address>().ok()),
        );
    }
    tokens.extend(counters.totals.iter().map(|t| t.payment_token));
    let mut seen = std::collections::BTreeSet::new();
    tokens.retain(|t| seen.insert(*t));

    let mut by_payment_token = Vec::with_capacity(tokens.len());
    for token in tokens {
        let floor = store
            .listings()
            .query(
                chain,
                &ListingQuery {
                    status: Some(ListingStatus::Active),
                    nft: Some(contract),
                    payment_token: Some(token),
                    sort: ListingSort::PriceAsc,
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?
            .items
            .first()
            .map(|l| l.price);
        let info = state.inner.token_info.get(state, &token).await;
        let decimal = |raw: U256| info.as_ref().map(|(_, d)| decimal_string(raw, *d));
        let window = |totals: &[TokenTotals]| {
            let found = totals.iter().find(|x| x.payment_token == token);
            let volume = found.map_or(U256::ZERO, |x| x.volume);
            WindowTotalsDto {
                volume: volume.to_string(),
                volume_decimal: decimal(volume),
                sales: found.map_or(0, |x| x.sales),
            }
        };
        by_payment_token.push(PaymentTokenStatsDto {
            payment_token: token.to_checksum(None),
            symbol: info.as_ref().map(|(s, _)| s.clone()),
            decimals: info.as_ref().map(|(_, d)| *d),
            floor_price: floor.map(|f| f.to_string()),
            floor_price_decimal: floor.and_then(decimal),
            last_24h: window(&windows[0]),
            last_7d: window(&windows[1]),
            last_30d: window(&windows[2]),
            all_time: window(&windows[3]),
        });
    }
    // ETH comes first in the list (it is put there above).
    let eth = by_payment_token.first();
    let eth_volume = |w: fn(&PaymentTokenStatsDto) -> &WindowTotalsDto| {
        eth.map_or_else(|| "0".to_string(), |e| w(e).volume.clone())
    };
    Ok(CollectionStatsDto {
        contract: addr(&contract),
        floor_price: eth.and_then(|e| e.floor_price.clone()),
        volume_24h: eth_volume(|e| &e.last_24h),
        volume_7d: eth_volume(|e| &e.last_7d),
        owners: counters.owners,
        supply: counters.supply,
        listed: counters.listed,
        on_auction: counters.on_auction,
        sales: counters.totals.iter().map(|t| t.sales).sum(),
        updated_block: counters.updated_block,
        by_payment_token,
    })
}

impl Priced for ListingDto {
    fn payment_token(&self) -> &str {
        &self.payment_token
    }
    fn set_units(&mut self, currency: CurrencyDto, decimal: &dyn Fn(&str) -> Option<String>) {
        self.price_decimal = decimal(&self.price);
        self.currency = Some(currency);
    }
}

impl Priced for AuctionDto {
    fn payment_token(&self) -> &str {
        &self.payment_token
    }
    fn set_units(&mut self, currency: CurrencyDto, decimal: &dyn Fn(&str) -> Option<String>) {
        self.reserve_price_decimal = decimal(&self.reserve_price);
        self.highest_bid_decimal = decimal(&self.highest_bid);
        self.currency = Some(currency);
    }
}

impl Priced for OfferDto {
    fn payment_token(&self) -> &str {
        &self.payment_token
    }
    fn set_units(&mut self, currency: CurrencyDto, decimal: &dyn Fn(&str) -> Option<String>) {
        self.amount_decimal = decimal(&self.amount);
        self.currency = Some(currency);
    }
}

impl Priced for SaleDto {
    fn payment_token(&self) -> &str {
        &self.payment_token
    }
    fn set_units(&mut self, currency: CurrencyDto, decimal: &dyn Fn(&str) -> Option<String>) {
        self.price_decimal = decimal(&self.price);
        self.currency = Some(currency);
    }
}
