//! Amounts in whole units beside the exact integer strings: each priced answer (listings,
//! auctions, offers, sales) carries its payment token's symbol and decimals, read from the chain
//! once per token and cached, and its amounts as exact decimals (`1.5`). When the chain cannot
//! be asked, the integer strings stand alone.

use super::activity::decimal_string;
use crate::state::AppState;
use alloy::primitives::{Address, U256};
use serde::Serialize;

/// A payment token as people read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrencyDto {
    /// `ETH`, `NEST`, ...
    pub symbol: String,
    /// Decimals of its smallest unit.
    pub decimals: u8,
}

/// An answer with amounts in a payment token.
pub(crate) trait Priced {
    /// The payment token, as the answer spells it.
    fn payment_token(&self) -> &str;
    /// Sets the currency and each amount in whole units (`decimal` turns an integer string
    /// into one).
    fn set_units(&mut self, currency: CurrencyDto, decimal: &dyn Fn(&str) -> Option<String>);
}

/// Fills in `item`'s currency and decimal amounts.
async fn fill<T: Priced>(state: &AppState, item: &mut T) {
    let Ok(token) = item.payment_token().parse::<Address>() else {
        return;
    };
    let Some((symbol, decimals)) = state.inner.token_info.get(state, &token).await else {
        return;
    };
    let decimal = move |raw: &str| {
        U256::from_str_radix(raw, 10)
            .ok()
            .map(|v| decimal_string(v, decimals))
    };
    item.set_units(CurrencyDto { symbol, decimals }, &decimal);
}

/// `items` with their currencies and decimal amounts filled in.
pub(crate) async fn priced<T: Priced>(state: &AppState, mut items: Vec<T>) -> Vec<T> {
    for item in &mut items {
        fill(state, item).await;
    }
    items
}

/// One item with its currency and decimal amounts filled in.
pub(crate) async fn priced_one<T: Priced>(state: &AppState, mut item: T) -> T {
    fill(state, &mut item).await;
    item
}
