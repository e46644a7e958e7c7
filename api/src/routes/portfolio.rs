//! A wallet user's portfolio in one read: what they own, list, lead or were outbid in, the
//! offers they made and received, what they can withdraw, and their governance standing.

use super::{
    activity::AmountDto,
    cached, chain_now,
    governance::ProposalDto,
    market::{AuctionDto, ListingDto, NftDto, OfferDto},
    nft_data::metadata_for,
    units::priced,
};
use crate::{
    error::ApiError,
    extract::{ApiPath, parse_address},
    state::AppState,
};
use alloy::primitives::{Address, U256};
use axum::{
    extract::{OriginalUri, State},
    http::HeaderMap,
    response::Response,
};
use nest_store::{ListingQuery, ListingStatus, OfferStatus, ProposalState};
use serde::Serialize;
use std::collections::BTreeSet;

/// NFTs shown in the portfolio (the rest through `/v1/nfts?owner=`).
const OWNED_SHOWN: u32 = 48;

/// Auctions a user bid in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BidPositionsDto {
    /// Live auctions the user leads.
    pub leading: Vec<AuctionDto>,
    /// Live auctions where the user was outbid (their bid is refundable, see `withdrawable`).
    pub outbid: Vec<AuctionDto>,
    /// Live auctions the user runs.
    pub selling: Vec<AuctionDto>,
}

/// Offers of a user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferPositionsDto {
    /// Open offers the user made.
    pub made: Vec<OfferDto>,
    /// Open offers on tokens the user owns.
    pub received: Vec<OfferDto>,
}

/// Governance standing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GovernanceStandingDto {
    /// Votes delegated to the user (integer, 18 decimals).
    pub voting_power: String,
    /// Whom the user delegates to (absent: nobody, so their tokens do not vote).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegate: Option<String>,
    /// Proposals in their voting period the user has not voted on.
    pub open_proposals_not_voted: Vec<ProposalDto>,
}

/// A user's portfolio.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioDto {
    /// The user.
    pub address: String,
    /// NFTs owned (the first 48, with metadata).
    pub owned: Vec<NftDto>,
    /// Cursor for `/v1/nfts?owner=…&cursor=` when more are owned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_next_cursor: Option<String>,
    /// Active listings.
    pub listings: Vec<ListingDto>,
    /// Auctions.
    pub auctions: BidPositionsDto,
    /// Offers.
    pub offers: OfferPositionsDto,
    /// Refunds and proceeds withdrawable from the marketplace, per payment token
    /// (`pendingWithdrawal`, read from the chain); absent tokens hold nothing.
    pub withdrawable: Vec<AmountDto>,
    /// Governance.
    pub governance: GovernanceStandingDto,
}

/// `GET /v1/users/{address}/portfolio`
#[utoipa::path(get, path = "/v1/users/{address}/portfolio", tag = "marketplace",
    params(("address" = String, Path, description = "Wallet address", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses((status = 200, body = PortfolioDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn portfolio(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(address): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = parse_address("address", &address)?;
    let st = state.clone();
    // Every collection the portfolio reads; `sales` and `auctions` also cover the refunds and
    // proceeds credited on chain (they are credited by the same transactions).
    let tags = [
        "nfts",
        "nft_metadata",
        "listings",
        "auctions",
        "bids",
        "offers",
        "sales",
        "delegates",
        "proposals",
        "votes",
    ]
    .map(String::from)
    .to_vec();
    cached(&state, &headers, uri.to_string(), tags, async move {
        build(&st, user).await
    })
    .await
}

async fn build(state: &AppState, user: Address) -> Result<PortfolioDto, ApiError> {
    let store = &state.inner.store;
    let config = &state.inner.config;
    let chain = config.chain_id;
    let owned = store
        .nfts()
        .by_owner(chain, &user, None, OWNED_SHOWN)
        .await?;
    let metadata = metadata_for(state, &owned.items).await?;
    let listings = store
        .listings()
        .query(
            chain,
            &ListingQuery {
                status: Some(ListingStatus::Active),
                seller: Some(user),
                limit: 100,
                ..Default::default()
            },
        )
        .await?;
    let bid_on = store.auctions().live_bid_on_by(chain, &user).await?;
    let (leading, outbid): (Vec<_>, Vec<_>) =
        bid_on.iter().partition(|a| a.highest_bidder == Some(user));
    let selling = store.auctions().live_by_seller(chain, &user).await?;
    let made = store
        .offers()
        .by_buyer(chain, &user, Some(OfferStatus::Open))
        .await?;
    let tokens: Vec<(Address, U256)> = owned
        .items
        .iter()
        .map(|n| (n.contract, n.token_id))
        .collect();
    let received = store.offers().open_for_tokens(chain, &tokens).await?;
    let delegate = store
        .delegates()
        .get(chain, &config.addresses.token, &user)
        .await?;
    let now = chain_now(state).await?;
    let voted: BTreeSet<String> = store
        .votes()
        .by_voter(chain, &user)
        .await?
        .into_iter()
        .map(|v| v.proposal)
        .collect();
    let proposals = store.proposals().list(chain, None, None, 100).await?;
    let open_proposals_not_voted = proposals
        .items
        .iter()
        .filter(|p| p.state_at(now) == ProposalState::Active && !voted.contains(&p.id))
        .map(|p| ProposalDto::at(p, now))
        .collect();
    Ok(PortfolioDto {
        address: user.to_checksum(None),
        owned: owned
            .items
            .iter()
            .map(|n| NftDto::with_metadata(n, metadata.get(&n.id).cloned()))
            .collect(),
        owned_next_cursor: owned.next_cursor,
        listings: priced(state, listings.items.iter().map(ListingDto::from).collect()).await,
        auctions: BidPositionsDto {
            leading: priced(state, leading.into_iter().map(AuctionDto::from).collect()).await,
            outbid: priced(state, outbid.into_iter().map(AuctionDto::from).collect()).await,
            selling: priced(state, selling.iter().map(AuctionDto::from).collect()).await,
        },
        offers: OfferPositionsDto {
            made: priced(state, made.iter().map(OfferDto::from).collect()).await,
            received: priced(state, received.iter().map(OfferDto::from).collect()).await,
        },
        withdrawable: withdrawable(state, user).await?,
        governance: GovernanceStandingDto {
            voting_power: delegate
                .as_ref()
                .map(|d| d.votes.to_string())
                .unwrap_or_else(|| "0".into()),
            delegate: delegate
                .and_then(|d| d.delegate)
                .map(|a| a.to_checksum(None)),
            open_proposals_not_voted,
        },
    })
}

/// `pendingWithdrawal(user, token)` for ETH and the NEST token, read from the chain.
async fn withdrawable(state: &AppState, user: Address) -> Result<Vec<AmountDto>, ApiError> {
    let Some(provider) = &state.inner.provider else {
        return Ok(Vec::new());
    };
    let addresses = &state.inner.config.addresses;
    let market = nest_abis::NestMarketplace::new(addresses.marketplace, provider);
    let mut out = Vec::new();
    for token in [Address::ZERO, addresses.token] {
        let amount = market
            .pendingWithdrawal(user, token)
            .call()
            .await
            .map_err(ApiError::unavailable)?;
        if amount.is_zero() {
            continue;
        }
        if let Some(dto) = state.inner.token_info.amount(state, &token, amount).await {
            out.push(dto);
        }
    }
    Ok(out)
}
