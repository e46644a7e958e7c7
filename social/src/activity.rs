//! Weaving the chain into the social layer: the indexer's change notices (a projection
//! document changed) become activity items of the accounts involved (shown in their
//! followers' home feeds) and notifications (outbid, listing sold, offer received, proposal
//! outcome). Every id is derived from the projection document, so hearing a notice twice
//! (several api instances, a replay) records nothing twice.

use crate::{
    error::Result,
    service::{SocialService, Touched, sort_key},
};
use alloy::primitives::Address;
use bson::doc;
use nest_store::{
    ActivityItem, Auction, Bid, Listing, ListingStatus, Offer, OfferStatus, Projection, Proposal,
    ProposalState, Sale, SocialNotification, Vote, codec::address_key,
};

impl SocialService {
    async fn projection<T: Projection>(&self, id: &str) -> Result<Option<T>> {
        Ok(self
            .store_handle()
            .database()
            .collection::<T>(T::COLLECTION)
            .find_one(doc! { "_id": id })
            .await
            .map_err(nest_store::StoreError::from)?)
    }

    async fn record(&self, touched: &mut Vec<Touched>, item: ActivityItem) -> Result<()> {
        let actor = item.actor.clone();
        if self.repo().record_activity(&item).await? {
            touched.push(("social-author".into(), actor));
        }
        Ok(())
    }

    // The notification's fields, plus where to announce it: a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn chain_notify(
        &self,
        touched: &mut Vec<Touched>,
        id: String,
        owner: &Address,
        kind: &str,
        target: &str,
        detail: Option<String>,
        now_ms: i64,
    ) -> Result<()> {
        let notification = SocialNotification {
            key: sort_key(now_ms, &id),
            id,
            owner: address_key(owner),
            kind: kind.into(),
            actor: None,
            target: Some(target.into()),
            detail,
            at: now_ms / 1000,
            read: false,
        };
        if self.repo().notify(&notification).await? {
            touched.push(("notifications".into(), notification.owner));
        }
        Ok(())
    }

    /// Handles one change notice of the indexer (`kind` = projection collection, `key` = its
    /// document id). Returns what changed for the api to announce.
    pub async fn ingest(&self, kind: &str, key: &str, now_ms: i64) -> Result<Vec<Touched>> {
        let mut touched = Vec::new();
        let item = |id: String, actor: &Address, kind: &str, source: &str| ActivityItem {
            key: sort_key(now_ms, &id),
            id,
            actor: address_key(actor),
            kind: kind.into(),
            source: source.into(),
            nft: None,
            token_id: None,
            amount: None,
            payment_token: None,
            proposal: None,
            support: None,
            at: now_ms / 1000,
        };
        match kind {
            Sale::COLLECTION => {
                let Some(sale) = self.projection::<Sale>(key).await? else {
                    return Ok(touched);
                };
                for (actor, what) in [(sale.seller, "sold"), (sale.buyer, "bought")] {
                    let mut a = item(format!("{what}:{key}"), &actor, what, key);
                    a.nft = Some(address_key(&sale.nft));
                    a.token_id = Some(sale.token_id.to_string());
                    a.amount = Some(sale.price.to_string());
                    a.payment_token = Some(address_key(&sale.payment_token));
                    a.at = sale.timestamp;
                    self.record(&mut touched, a).await?;
                }
                self.chain_notify(
                    &mut touched,
                    format!("listing_sold:{key}"),
                    &sale.seller,
                    "listing_sold",
                    key,
                    None,
                    now_ms,
                )
                .await?;
            }
            Listing::COLLECTION => {
                let Some(listing) = self.projection::<Listing>(key).await? else {
                    return Ok(touched);
                };
                if listing.status == ListingStatus::Active {
                    let mut a = item(format!("listed:{key}"), &listing.seller, "listed", key);
                    a.nft = Some(address_key(&listing.nft));
                    a.token_id = Some(listing.token_id.to_string());
                    a.amount = Some(listing.price.to_string());
                    a.payment_token = Some(address_key(&listing.payment_token));
                    self.record(&mut touched, a).await?;
                }
            }
            Bid::COLLECTION => {
                let Some(bid) = self.projection::<Bid>(key).await? else {
                    return Ok(touched);
                };
                let auction = self.projection::<Auction>(&bid.auction).await?;
                let mut a = item(format!("bid:{key}"), &bid.bidder, "bid", &bid.auction);
                a.amount = Some(bid.amount.to_string());
                if let Some(auction) = &auction {
                    a.nft = Some(address_key(&auction.nft));
                    a.token_id = Some(auction.token_id.to_string());
                    a.payment_token = Some(address_key(&auction.payment_token));
                }
                self.record(&mut touched, a).await?;
                // The bid this one beat: the highest earlier bid of another bidder.
                let bids = self.store_handle().auctions().bids(&bid.auction).await?;
                let beaten = bids
                    .iter()
                    .filter(|b| {
                        (b.block_number, b.log_index) < (bid.block_number, bid.log_index)
                            && b.bidder != bid.bidder
                    })
                    .max_by_key(|b| (b.amount, b.block_number, b.log_index));
                if let Some(beaten) = beaten {
                    self.chain_notify(
                        &mut touched,
                        format!("outbid:{key}"),
                        &beaten.bidder,
                        "outbid",
                        &bid.auction,
                        Some(bid.amount.to_string()),
                        now_ms,
                    )
                    .await?;
                }
            }
            Offer::COLLECTION => {
                let Some(offer) = self.projection::<Offer>(key).await? else {
                    return Ok(touched);
                };
                if offer.status == OfferStatus::Open {
                    let mut a = item(format!("offered:{key}"), &offer.buyer, "offered", key);
                    a.nft = Some(address_key(&offer.nft));
                    a.token_id = Some(offer.token_id.to_string());
                    a.amount = Some(offer.amount.to_string());
                    a.payment_token = Some(address_key(&offer.payment_token));
                    self.record(&mut touched, a).await?;
                    let nft = self
                        .store_handle()
                        .nfts()
                        .get(self.config().chain_id, &offer.nft, &offer.token_id)
                        .await?;
                    if let Some(nft) = nft
                        && nft.owner != offer.buyer
                    {
                        self.chain_notify(
                            &mut touched,
                            format!("offer_received:{key}"),
                            &nft.owner,
                            "offer_received",
                            key,
                            Some(offer.amount.to_string()),
                            now_ms,
                        )
                        .await?;
                    }
                }
            }
            Vote::COLLECTION => {
                let Some(vote) = self.projection::<Vote>(key).await? else {
                    return Ok(touched);
                };
                let proposal = self.projection::<Proposal>(&vote.proposal).await?;
                let mut a = item(format!("voted:{key}"), &vote.voter, "voted", &vote.proposal);
                a.proposal = proposal.map(|p| p.proposal_id.to_string());
                a.support = Some(vote.support);
                self.record(&mut touched, a).await?;
            }
            Proposal::COLLECTION => {
                let Some(proposal) = self.projection::<Proposal>(key).await? else {
                    return Ok(touched);
                };
                let outcome = proposal.state_at(now_ms / 1000);
                if matches!(
                    outcome,
                    ProposalState::Succeeded | ProposalState::Defeated | ProposalState::Executed
                ) {
                    let voters = self.store_handle().votes().for_proposal(key).await?;
                    for vote in voters {
                        self.chain_notify(
                            &mut touched,
                            format!(
                                "proposal:{key}:{}:{}",
                                outcome.as_str(),
                                address_key(&vote.voter)
                            ),
                            &vote.voter,
                            "proposal_outcome",
                            key,
                            Some(outcome.as_str().to_string()),
                            now_ms,
                        )
                        .await?;
                    }
                }
            }
            _ => {}
        }
        Ok(touched)
    }
}
