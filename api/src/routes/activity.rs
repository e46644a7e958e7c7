//! The activity stream (per token, collection, user, or global) and amounts in decimal units.

use super::{PageDto, cached};
use crate::{
    error::ApiError,
    extract::{ApiQuery, limit, parse_address, parse_u256},
    state::AppState,
};
use alloy::primitives::{Address, U256};
use axum::{
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use nest_store::{Activity, ActivityQuery};
use serde::{Deserialize, Serialize};
use std::{collections::HashMap, sync::Mutex};

/// An amount of a payment token, exact and in decimal units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountDto {
    /// Integer amount in the token's smallest unit.
    pub raw: String,
    /// The same in whole units (`1.5`), exact.
    pub decimal: String,
    /// Token symbol (`ETH`, `NEST`).
    pub symbol: String,
    /// Token decimals.
    pub decimals: u8,
    /// Token address (zero address: ETH).
    pub token: String,
}

/// `raw` / 10^`decimals` as an exact decimal string without trailing zeros.
pub fn decimal_string(raw: U256, decimals: u8) -> String {
    let digits = raw.to_string();
    let d = decimals as usize;
    let (whole, frac) = if digits.len() > d {
        digits.split_at(digits.len() - d)
    } else {
        ("0", "")
    };
    let frac = if digits.len() > d {
        frac.to_string()
    } else {
        format!("{digits:0>d$}")
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

/// Symbols and decimals of payment tokens, read from the chain once per token.
#[derive(Debug, Default)]
pub struct TokenInfoCache {
    known: Mutex<HashMap<Address, (String, u8)>>,
}

impl TokenInfoCache {
    /// Symbol and decimals of `token` (ETH for the zero address); `None` when the chain cannot
    /// be asked (the amount is then shown raw only).
    pub async fn get(&self, state: &AppState, token: &Address) -> Option<(String, u8)> {
        if *token == Address::ZERO {
            return Some(("ETH".into(), 18));
        }
        if let Some(found) = self.known.lock().ok()?.get(token).cloned() {
            return Some(found);
        }
        let provider = state.inner.provider.as_ref()?;
        let erc20 = nest_abis::NestToken::new(*token, provider);
        let decimals = erc20.decimals().call().await.ok()?;
        let symbol = erc20.symbol().call().await.ok()?;
        let info = (symbol.chars().take(16).collect::<String>(), decimals);
        self.known.lock().ok()?.insert(*token, info.clone());
        Some(info)
    }

    /// The view of an amount.
    pub async fn amount(&self, state: &AppState, token: &Address, raw: U256) -> Option<AmountDto> {
        let (symbol, decimals) = self.get(state, token).await?;
        Some(AmountDto {
            raw: raw.to_string(),
            decimal: decimal_string(raw, decimals),
            symbol,
            decimals,
            token: token.to_checksum(None),
        })
    }
}

/// One activity item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityDto {
    /// Event id (`{chainId}:{txHash}:{logIndex}`).
    pub id: String,
    /// `mint`, `transfer`, `listing`, `price_change`, `listing_cancelled`, `sale`, `auction`,
    /// `bid`, `auction_cancelled`, `offer`, `offer_cancelled`, `proposal`, `vote`.
    pub kind: String,
    /// NFT contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Who acted (seller, bidder, voter, sender).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Who received (buyer, recipient).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Price, bid or offer (votes: `amount.raw` is the vote weight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<AmountDto>,
    /// Listing, auction, offer or proposal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// Block.
    pub block_number: i64,
    /// Block time (unix seconds).
    pub timestamp: i64,
    /// Transaction.
    pub tx_hash: String,
}

/// The view of an activity item.
pub(crate) async fn dto(state: &AppState, a: &Activity) -> ActivityDto {
    let raw = a
        .amount
        .as_deref()
        .and_then(|s| U256::from_str_radix(s, 10).ok());
    let amount = match (raw, a.payment_token, a.kind.as_str()) {
        (Some(raw), Some(token), _) => state.inner.token_info.amount(state, &token, raw).await,
        (Some(raw), None, "vote") => Some(AmountDto {
            raw: raw.to_string(),
            decimal: decimal_string(raw, 18),
            symbol: "votes".into(),
            decimals: 18,
            token: state.inner.config.addresses.token.to_checksum(None),
        }),
        _ => None,
    };
    ActivityDto {
        id: a.id.clone(),
        kind: a.kind.clone(),
        contract: a.contract.map(|c| c.to_checksum(None)),
        token_id: a
            .token_id
            .as_deref()
            .and_then(|t| U256::from_str_radix(t, 10).ok())
            .map(|t| t.to_string()),
        from: a.from.map(|x| x.to_checksum(None)),
        to: a.to.map(|x| x.to_checksum(None)),
        amount,
        ref_id: a.ref_id.clone(),
        block_number: a.block_number,
        timestamp: a.timestamp,
        tx_hash: format!("{:#x}", a.tx_hash),
    }
}

/// Activity filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityParams {
    /// Only this NFT contract.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub contract: Option<String>,
    /// Only this token (needs `contract`).
    #[param(pattern = "^[0-9]{1,78}$")]
    pub token_id: Option<String>,
    /// Only items involving this account.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub user: Option<String>,
    /// Comma-separated kinds (`sale,bid`).
    pub kinds: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

const KINDS: [&str; 13] = [
    "mint",
    "transfer",
    "listing",
    "price_change",
    "listing_cancelled",
    "sale",
    "auction",
    "bid",
    "auction_cancelled",
    "offer",
    "offer_cancelled",
    "proposal",
    "vote",
];

/// `GET /v1/activity`
#[utoipa::path(get, path = "/v1/activity", tag = "marketplace", params(ActivityParams),
    responses((status = 200, body = PageDto<ActivityDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<ActivityParams>,
) -> Result<Response, ApiError> {
    let contract = p
        .contract
        .as_deref()
        .map(|v| parse_address("contract", v))
        .transpose()?;
    let token_id = p
        .token_id
        .as_deref()
        .map(|v| parse_u256("tokenId", v))
        .transpose()?;
    if token_id.is_some() && contract.is_none() {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, "request.missing_parameter")
                .for_parameter("contract"),
        );
    }
    let kinds: Vec<String> = match p.kinds.as_deref() {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                KINDS
                    .iter()
                    .find(|known| **known == k.trim())
                    .map(|k| k.to_string())
                    .ok_or_else(|| {
                        ApiError::new(StatusCode::BAD_REQUEST, "request.unknown_value")
                            .for_parameter("kinds")
                            .with("value", k)
                            .with("accepted", KINDS.join(", "))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    if let Some(cursor) = &p.cursor
        && cursor.parse::<i64>().is_err()
    {
        return Err(
            ApiError::new(StatusCode::BAD_REQUEST, "request.invalid_cursor")
                .for_parameter("cursor"),
        );
    }
    let query = ActivityQuery {
        contract,
        token_id,
        user: p
            .user
            .as_deref()
            .map(|v| parse_address("user", v))
            .transpose()?,
        kinds,
        cursor: p.cursor.clone(),
        limit: limit(p.limit)?,
    };
    let chain = state.inner.config.chain_id;
    let st = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["activity".into()],
        async move {
            let page = st.inner.store.activity().query(chain, &query).await?;
            let mut items = Vec::with_capacity(page.items.len());
            for a in &page.items {
                items.push(dto(&st, a).await);
            }
            Ok(PageDto {
                items,
                next_cursor: page.next_cursor,
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_decimals() {
        let wei = |s: &str| U256::from_str_radix(s, 10).expect("number");
        assert_eq!(decimal_string(wei("1000000000000000000"), 18), "1");
        assert_eq!(decimal_string(wei("1500000000000000000"), 18), "1.5");
        assert_eq!(decimal_string(wei("1"), 18), "0.000000000000000001");
        assert_eq!(decimal_string(wei("0"), 18), "0");
        assert_eq!(decimal_string(wei("123450"), 2), "1234.5");
        assert_eq!(decimal_string(wei("7"), 0), "7");
    }
}
