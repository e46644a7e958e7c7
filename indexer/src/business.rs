//! Business counters, counted from the events of each committed batch (so a retried
//! transaction counts once; a reorg's replay may count a few twice, which `increase()` shrugs
//! off). Labels are bounded: `token` is `ETH`, `NEST` or `other` (allow-listed ERC-20s beyond
//! the deployment's), `kind` is the sale kind, `support` the Governor's three choices.
//!
//! | name | labels | meaning |
//! | --- | --- | --- |
//! | `nest_market_sales_total` | `token`, `kind` | sales paid out (`listing`, `auction`, `offer`) |
//! | `nest_market_sales_volume_gwei_total` | `token` | their full prices, in units of 1e-9 token (gwei for ETH) |
//! | `nest_market_listings_created_total` | — | listings created |
//! | `nest_market_auctions_created_total` | — | auctions created |
//! | `nest_market_bids_total` | — | auction bids |
//! | `nest_market_offers_total` | — | offers made |
//! | `nest_dao_proposals_created_total` | — | proposals created |
//! | `nest_dao_votes_total` | `support` | votes cast (`against`, `for`, `abstain`) |

use crate::decode::{IndexedLog, NestEvent};
use alloy::primitives::{Address, U256};
use nest_abis::{NestGovernor::NestGovernorEvents, NestMarketplace::NestMarketplaceEvents};

/// Counts the business events of a committed batch; `token` is the deployment's NEST token.
pub(crate) fn observe(logs: &[IndexedLog], token: Address) {
    let token_label = |t: Address| {
        if t == Address::ZERO {
            "ETH"
        } else if t == token {
            "NEST"
        } else {
            "other"
        }
    };
    for log in logs {
        match &log.event {
            NestEvent::Marketplace(e) => match e {
                NestMarketplaceEvents::Sale(s) => {
                    let t = token_label(s.paymentToken);
                    let kind = match s.kind {
                        0 => "listing",
                        1 => "auction",
                        _ => "offer",
                    };
                    metrics::counter!("nest_market_sales_total", "token" => t, "kind" => kind)
                        .increment(1);
                    // Gwei: a u64 counter holds 18 billion tokens of volume that way.
                    let gwei = s.price / U256::from(1_000_000_000u64);
                    metrics::counter!("nest_market_sales_volume_gwei_total", "token" => t)
                        .increment(u64::try_from(gwei).unwrap_or(u64::MAX));
                }
                NestMarketplaceEvents::ListingCreated(_) => {
                    metrics::counter!("nest_market_listings_created_total").increment(1)
                }
                NestMarketplaceEvents::AuctionCreated(_) => {
                    metrics::counter!("nest_market_auctions_created_total").increment(1)
                }
                NestMarketplaceEvents::BidPlaced(_) => {
                    metrics::counter!("nest_market_bids_total").increment(1)
                }
                NestMarketplaceEvents::OfferCreated(_) => {
                    metrics::counter!("nest_market_offers_total").increment(1)
                }
                _ => {}
            },
            NestEvent::Governor(e) => match e {
                NestGovernorEvents::ProposalCreated(_) => {
                    metrics::counter!("nest_dao_proposals_created_total").increment(1)
                }
                NestGovernorEvents::VoteCast(v) => vote(v.support),
                NestGovernorEvents::VoteCastWithParams(v) => vote(v.support),
                _ => {}
            },
            _ => {}
        }
    }
}

fn vote(support: u8) {
    let support = match support {
        0 => "against",
        1 => "for",
        _ => "abstain",
    };
    metrics::counter!("nest_dao_votes_total", "support" => support).increment(1);
}
