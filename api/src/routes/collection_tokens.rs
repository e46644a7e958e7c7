//! A collection's token page (`GET /v1/collections/{contract}/tokens`): every token, or those
//! matching trait filters (OR within a trait type, AND across types), an owner, and a market
//! state (listed, on auction, with open offers) with a price range and the market's sorts.
//!
//! Without a market filter or sort the page walks tokens (or the trait index) in id order. With
//! one, the market collection that answers it drives (active listings by price or age, live
//! auctions by end time, open offers or sales by age) and the token filters apply to each page
//! of it: a page may then hold fewer items than asked while a next cursor remains.

use super::{
    PageDto, cached,
    market::NftDto,
    nft_data::{MetadataDto, metadata_for},
};
use crate::{
    error::ApiError,
    extract::{ApiPath, limit, one_of, parse_address, parse_u256},
    routes::activity::decimal_string,
    state::AppState,
};
use alloy::primitives::{Address, U256};
use axum::{
    extract::{OriginalUri, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use nest_store::{ListingQuery, ListingSort, ListingStatus, Nft, NftMetadata};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Driver pages read for one answer at most (a selective token filter over a long market
/// collection returns a short page with a cursor rather than scanning on).
const MAX_DRIVER_PAGES: usize = 8;

/// What the token is doing on the market, for the filter or sort that found it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenMarketDto {
    /// `listing`, `auction`, `offer` or `sale`.
    pub kind: &'static str,
    /// The listing, auction or offer id on chain (for a sale: what was sold).
    pub id: String,
    /// Listing price, highest bid (or reserve before any bid), best offer, or sale price.
    pub price: String,
    /// The price in whole units, when the token's decimals are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_decimal: Option<String>,
    /// Payment token (zero address: ETH).
    pub payment_token: String,
    /// Auction end (unix seconds), for auctions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Sale time (unix seconds), for sales.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// A token of a collection page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenDto {
    /// The NFT.
    #[serde(flatten)]
    pub nft: NftDto,
    /// Its market state, when a market filter or sort found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market: Option<TokenMarketDto>,
}

/// Market state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Listed,
    Auction,
    Offers,
}

/// Order of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    TokenId,
    PriceAsc,
    PriceDesc,
    RecentlyListed,
    EndingSoon,
    RecentlySold,
}

/// The collection that drives a market-filtered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    Listings(ListingSort),
    Auctions,
    Offers,
    Sales,
}

/// Every filter of a token page.
#[derive(Debug, Default)]
struct TokenFilters {
    groups: Vec<Vec<String>>,
    owner: Option<Address>,
    status: Option<Status>,
    sort: Option<Sort>,
    min_price: Option<U256>,
    max_price: Option<U256>,
    currency: Option<Address>,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl TokenFilters {
    fn parse(query: &str) -> Result<Self, ApiError> {
        let mut f = Self::default();
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "trait" => {
                    let (t, v) = value.split_once(':').ok_or_else(|| {
                        ApiError::invalid_parameter("trait", "expected Type:Value")
                    })?;
                    groups
                        .entry(t.to_string())
                        .or_default()
                        .push(NftMetadata::trait_key(t, v));
                }
                "owner" => f.owner = Some(parse_address("owner", &value)?),
                "status" => {
                    f.status = Some(one_of(
                        "status",
                        &value,
                        &[
                            ("listed", Status::Listed),
                            ("auction", Status::Auction),
                            ("offers", Status::Offers),
                        ],
                    )?)
                }
                "sort" => {
                    f.sort = Some(one_of(
                        "sort",
                        &value,
                        &[
                            ("token_id", Sort::TokenId),
                            ("price_asc", Sort::PriceAsc),
                            ("price_desc", Sort::PriceDesc),
                            ("recently_listed", Sort::RecentlyListed),
                            ("ending_soon", Sort::EndingSoon),
                            ("recently_sold", Sort::RecentlySold),
                        ],
                    )?)
                }
                "minPrice" => f.min_price = Some(parse_u256("minPrice", &value)?),
                "maxPrice" => f.max_price = Some(parse_u256("maxPrice", &value)?),
                "currency" => f.currency = Some(parse_address("currency", &value)?),
                "cursor" => f.cursor = Some(value.into_owned()),
                "limit" => {
                    f.limit = Some(value.parse::<u32>().map_err(|_| {
                        ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_number")
                            .for_parameter("limit")
                    })?)
                }
                other => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "request.unknown_parameter",
                    )
                    .for_parameter(other));
                }
            }
        }
        if groups.len() > 16 || groups.values().map(Vec::len).sum::<usize>() > 64 {
            return Err(ApiError::invalid_parameter(
                "trait",
                "too many trait filters",
            ));
        }
        if let (Some(min), Some(max)) = (f.min_price, f.max_price)
            && min > max
        {
            return Err(ApiError::invalid_parameter(
                "minPrice",
                "minPrice is above maxPrice",
            ));
        }
        f.groups = groups.into_values().collect();
        Ok(f)
    }

    /// The market collection that answers the filters, `None` for a plain token page; a refusal
    /// when the filters ask for two different ones.
    fn driver(&self) -> Result<Option<Driver>, ApiError> {
        let priced = self.min_price.is_some() || self.max_price.is_some();
        let listing_sort = match self.sort {
            Some(Sort::PriceAsc) => Some(ListingSort::PriceAsc),
            Some(Sort::PriceDesc) => Some(ListingSort::PriceDesc),
            Some(Sort::RecentlyListed) => Some(ListingSort::Recent),
            _ => None,
        };
        let conflict = |reason: &str| Err(ApiError::invalid_parameter("sort", reason));
        let listable = matches!(self.status, None | Some(Status::Listed));
        if let Some(sort) = listing_sort {
            return if listable {
                Ok(Some(Driver::Listings(sort)))
            } else {
                conflict("price and listing sorts apply to listed tokens")
            };
        }
        if priced {
            return match (listable, self.sort) {
                (true, None | Some(Sort::TokenId)) => {
                    Ok(Some(Driver::Listings(ListingSort::PriceAsc)))
                }
                _ => Err(ApiError::invalid_parameter(
                    "minPrice",
                    "a price range applies to listed tokens only",
                )),
            };
        }
        match (self.status, self.sort) {
            (None, None | Some(Sort::TokenId)) => Ok(None),
            (Some(Status::Listed), None | Some(Sort::TokenId)) => {
                Ok(Some(Driver::Listings(ListingSort::Recent)))
            }
            (Some(Status::Listed), Some(_)) => {
                conflict("listed tokens sort by price_asc, price_desc or recently_listed")
            }
            (None | Some(Status::Auction), Some(Sort::EndingSoon))
            | (Some(Status::Auction), None) => Ok(Some(Driver::Auctions)),
            (Some(Status::Auction), Some(_)) => conflict("auctions sort by ending_soon"),
            (None, Some(Sort::RecentlySold)) => Ok(Some(Driver::Sales)),
            (Some(Status::Offers), None) => Ok(Some(Driver::Offers)),
            (Some(Status::Offers), Some(_)) => conflict("tokens with offers sort newest first"),
            (None, Some(_)) => conflict("this sort needs a matching status"),
        }
    }

    fn matches(&self, nft: &Nft, metadata: Option<&NftMetadata>) -> bool {
        self.owner.is_none_or(|o| nft.owner == o)
            && self.groups.iter().all(|group| {
                metadata.is_some_and(|m| group.iter().any(|k| m.trait_keys.contains(k)))
            })
    }
}

/// `GET /v1/collections/{contract}/tokens`
#[utoipa::path(get, path = "/v1/collections/{contract}/tokens", tag = "marketplace",
    params(
        ("contract" = String, Path, description = "NFT contract", pattern = "^0x[0-9a-fA-F]{40}$"),
        ("trait" = Option<Vec<String>>, Query, description = "`Type:Value`, repeatable: values of one type are alternatives (OR), types must all match (AND)", explode = true),
        ("owner" = Option<String>, Query, description = "Owner address", pattern = "^0x[0-9a-fA-F]{40}$"),
        ("status" = Option<String>, Query, description = "Market state: `listed`, `auction` (live) or `offers` (open offers)", pattern = "^(listed|auction|offers)$"),
        ("sort" = Option<String>, Query, description = "`token_id` (default), `price_asc`, `price_desc`, `recently_listed` (listed tokens), `ending_soon` (auctions), `recently_sold`", pattern = "^(token_id|price_asc|price_desc|recently_listed|ending_soon|recently_sold)$"),
        ("minPrice" = Option<String>, Query, description = "Lowest listing price (inclusive), in the currency's smallest unit", pattern = "^[0-9]{1,78}$"),
        ("maxPrice" = Option<String>, Query, description = "Highest listing price (inclusive), in the currency's smallest unit", pattern = "^[0-9]{1,78}$"),
        ("currency" = Option<String>, Query, description = "Listing payment token (zero address: ETH; default: any, or ETH with a price range or price sort)", pattern = "^0x[0-9a-fA-F]{40}$"),
        ("cursor" = Option<String>, Query, description = "Cursor from the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1..=100", minimum = 1, maximum = 100),
    ),
    responses((status = 200, body = PageDto<TokenDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(contract): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let contract = parse_address("contract", &contract)?;
    let filters = TokenFilters::parse(&query.unwrap_or_default())?;
    let driver = filters.driver()?;
    let size = limit(filters.limit)?;
    let mut tags = vec!["nfts".to_string(), "nft_metadata".to_string()];
    if driver.is_some() {
        tags.extend(["listings", "auctions", "offers", "sales"].map(String::from));
    }
    let st = state.clone();
    cached(&state, &headers, uri.to_string(), tags, async move {
        match driver {
            None => token_page(&st, contract, &filters, size).await,
            Some(driver) => market_page(&st, contract, &filters, driver, size).await,
        }
    })
    .await
}

/// Tokens in id order (all, or through the trait index), with the owner filter.
async fn token_page(
    state: &AppState,
    contract: Address,
    f: &TokenFilters,
    size: u32,
) -> Result<PageDto<TokenDto>, ApiError> {
    let chain = state.inner.config.chain_id;
    let store = &state.inner.store;
    let (nfts, metadata) = if f.groups.is_empty() {
        let nfts = store
            .nfts()
            .in_collection(
                chain,
                &contract,
                f.owner.as_ref(),
                f.cursor.as_deref(),
                size,
            )
            .await?;
        let metadata = metadata_for(state, &nfts).await?;
        (nfts, metadata)
    } else {
        // Trait matches in id order (with their metadata: no second read), then their NFT
        // documents (and the owner filter).
        let mut found = Vec::new();
        let mut metadata = HashMap::new();
        let mut after = f.cursor.clone();
        loop {
            let docs = store
                .metadata()
                .tokens_with_traits(
                    chain,
                    &contract,
                    &f.groups,
                    after.as_deref(),
                    i64::from(size),
                )
                .await?;
            let exhausted = docs.len() < size as usize;
            after = docs.last().map(|d| d.id.clone());
            let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
            let mut batch = store.nfts().by_ids(&ids).await?;
            batch.retain(|n| f.owner.is_none_or(|o| n.owner == o));
            found.extend(batch);
            metadata.extend(
                docs.iter()
                    .map(|d| (d.id.clone(), MetadataDto::of(Some(d), false))),
            );
            if exhausted || found.len() >= size as usize {
                break;
            }
        }
        found.truncate(size as usize);
        (found, metadata)
    };
    let next_cursor = (nfts.len() == size as usize)
        .then(|| nfts.last().map(|n| n.id.clone()))
        .flatten();
    Ok(PageDto {
        items: nfts
            .iter()
            .map(|n| TokenDto {
                nft: NftDto::with_metadata(n, metadata.get(&n.id).cloned()),
                market: None,
            })
            .collect(),
        next_cursor,
    })
}

/// One page of the driving market collection: `(token, market state)` in its order.
struct DriverPage {
    items: Vec<(U256, TokenMarketDto)>,
    next_cursor: Option<String>,
}

async fn driver_page(
    state: &AppState,
    contract: Address,
    f: &TokenFilters,
    driver: Driver,
    cursor: Option<&str>,
    size: u32,
) -> Result<DriverPage, ApiError> {
    let chain = state.inner.config.chain_id;
    let store = &state.inner.store;
    let view = |kind: &'static str, id: U256, price: U256, token: Address| TokenMarketDto {
        kind,
        id: id.to_string(),
        price: price.to_string(),
        price_decimal: None,
        payment_token: token.to_checksum(None),
        end_time: None,
        timestamp: None,
    };
    let (items, next_cursor) = match driver {
        Driver::Listings(sort) => {
            let priced = f.min_price.is_some()
                || f.max_price.is_some()
                || matches!(sort, ListingSort::PriceAsc | ListingSort::PriceDesc);
            let currency = f.currency.or(priced.then_some(Address::ZERO));
            let page = store
                .listings()
                .query(
                    chain,
                    &ListingQuery {
                        status: Some(ListingStatus::Active),
                        nft: Some(contract),
                        payment_token: currency,
                        min_price: f.min_price,
                        max_price: f.max_price,
                        sort,
                        cursor: cursor.map(str::to_string),
                        limit: size,
                        ..Default::default()
                    },
                )
                .await?;
            let items = page
                .items
                .iter()
                .map(|l| {
                    let market = view("listing", l.listing_id, l.price, l.payment_token);
                    (l.token_id, market)
                })
                .collect();
            (items, page.next_cursor)
        }
        Driver::Auctions => {
            let page = store
                .auctions()
                .live(chain, Some(&contract), None, cursor, size)
                .await?;
            let items = page
                .items
                .iter()
                .map(|a| {
                    let price = if a.bid_count > 0 {
                        a.highest_bid
                    } else {
                        a.reserve_price
                    };
                    let mut market = view("auction", a.auction_id, price, a.payment_token);
                    market.end_time = Some(a.end_time);
                    (a.token_id, market)
                })
                .collect();
            (items, page.next_cursor)
        }
        Driver::Offers => {
            let page = store
                .offers()
                .open_in_collection(chain, &contract, cursor, size)
                .await?;
            let items = page
                .items
                .iter()
                .map(|o| {
                    let market = view("offer", o.offer_id, o.amount, o.payment_token);
                    (o.token_id, market)
                })
                .collect();
            (items, page.next_cursor)
        }
        Driver::Sales => {
            let page = store
                .sales()
                .in_collection(chain, &contract, cursor, size)
                .await?;
            let items = page
                .items
                .iter()
                .map(|s| {
                    let mut market = view("sale", s.ref_id, s.price, s.payment_token);
                    market.timestamp = Some(s.timestamp);
                    (s.token_id, market)
                })
                .collect();
            (items, page.next_cursor)
        }
    };
    Ok(DriverPage { items, next_cursor })
}

/// Tokens in the driving market collection's order, filtered by owner and traits; a token is
/// shown once per page (its first entry: the cheapest listing, the newest offer or sale).
async fn market_page(
    state: &AppState,
    contract: Address,
    f: &TokenFilters,
    driver: Driver,
    size: u32,
) -> Result<PageDto<TokenDto>, ApiError> {
    let chain = state.inner.config.chain_id;
    let store = &state.inner.store;
    let mut cursor = f.cursor.clone();
    let mut found: Vec<(Nft, TokenMarketDto)> = Vec::new();
    let mut shown = HashSet::new();
    for _ in 0..MAX_DRIVER_PAGES {
        let remaining = size - found.len() as u32;
        let page = driver_page(state, contract, f, driver, cursor.as_deref(), remaining).await?;
        let ids: Vec<String> = page
            .items
            .iter()
            .map(|(token, _)| Nft::id_for(chain, &contract, token))
            .collect();
        let nfts: HashMap<String, Nft> = store
            .nfts()
            .by_ids(&ids)
            .await?
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect();
        let metadata: HashMap<String, NftMetadata> = if f.groups.is_empty() {
            HashMap::new()
        } else {
            store
                .metadata()
                .get_many(&ids)
                .await?
                .into_iter()
                .map(|m| (m.id.clone(), m))
                .collect()
        };
        for (id, (_, market)) in ids.iter().zip(page.items) {
            if let Some(nft) = nfts.get(id)
                && f.matches(nft, metadata.get(id))
                && shown.insert(id.clone())
            {
                found.push((nft.clone(), market));
            }
        }
        cursor = page.next_cursor;
        if cursor.is_none() || found.len() >= size as usize {
            break;
        }
    }
    let nfts: Vec<Nft> = found.iter().map(|(n, _)| n.clone()).collect();
    let metadata: HashMap<String, MetadataDto> = metadata_for(state, &nfts).await?;
    let mut items = Vec::with_capacity(found.len());
    for (nft, mut market) in found {
        if let Ok(token) = market.payment_token.parse::<Address>()
            && let Some((_, decimals)) = state.inner.token_info.get(state, &token).await
            && let Ok(raw) = U256::from_str_radix(&market.price, 10)
        {
            market.price_decimal = Some(decimal_string(raw, decimals));
        }
        items.push(TokenDto {
            nft: NftDto::with_metadata(&nft, metadata.get(&nft.id).cloned()),
            market: Some(market),
        });
    }
    Ok(PageDto {
        items,
        next_cursor: cursor,
    })
}
