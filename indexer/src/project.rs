//! Projections: from decoded events to the store's read models (NFTs, listings, auctions, offers,
//! sales, proposals, votes, delegations, contract state). Everything is derived from events
//! alone, so projections can always be rebuilt from the raw events.
//!
//! A batch is projected in three steps: `prefetch` loads every document the batch's events may
//! touch (one query per collection), `apply` changes them in memory in chain order, and the
//! caller writes the changed documents back in the batch's transaction.

use crate::{
    decode::{IndexedLog, NestEvent},
    error::Result,
    tables::{Table, TableChanges},
};
use alloy::primitives::{Address, U256};
use bson::{Bson, Document, doc};
use nest_abis::NestAddresses;
use nest_abis::{
    NestGovernor::NestGovernorEvents, NestMarketplace::NestMarketplaceEvents,
    NestNFT::NestNFTEvents, NestToken::NestTokenEvents,
};
use nest_store::{
    Activity, Auction, AuctionStatus, Bid, ClientSession, CollectionStats, ContractState, Delegate,
    Holding, Listing, ListingStatus, MetadataJob, MetadataRangeUpdate, Nft, Offer, OfferStatus,
    OperatorApproval, Projection, Proposal, ProposalState, Sale, SaleBucket, SaleKind, Store, Vote,
    codec, load_documents_in,
};
use std::collections::{BTreeMap, BTreeSet};

mod collection_stats;

/// One changed projection document, for cache invalidation and live updates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChangeNotice {
    /// Collection (`listings`, `auctions`, ...).
    pub kind: &'static str,
    /// Document id.
    pub key: String,
}

/// The documents a batch changed, ready to write.
#[derive(Debug, Default)]
pub(crate) struct ProjectionWrites {
    pub(crate) collections: Vec<(&'static str, TableChanges)>,
}

impl ProjectionWrites {
    /// Every change notice of the batch.
    pub(crate) fn notices(&self) -> Vec<ChangeNotice> {
        self.collections
            .iter()
            .flat_map(|(kind, c)| {
                c.changed.iter().map(|key| ChangeNotice {
                    kind,
                    key: key.clone(),
                })
            })
            .collect()
    }
}

/// Projects one batch of events.
#[derive(Debug)]
pub(crate) struct Projector {
    chain_id: u64,
    addresses: NestAddresses,
    nfts: Table<Nft>,
    operators: Table<OperatorApproval>,
    listings: Table<Listing>,
    auctions: Table<Auction>,
    bids: Table<Bid>,
    offers: Table<Offer>,
    sales: Table<Sale>,
    proposals: Table<Proposal>,
    votes: Table<Vote>,
    delegates: Table<Delegate>,
    contracts: Table<ContractState>,
    activity: Table<Activity>,
    collection_stats: Table<CollectionStats>,
    sale_buckets: Table<SaleBucket>,
    holdings: Table<Holding>,
    /// Metadata resolutions to queue (mints, ERC-4906 updates), by NFT id: the newest wins.
    metadata_jobs: BTreeMap<String, MetadataJob>,
    /// ERC-4906 `BatchMetadataUpdate` ranges to re-queue.
    metadata_ranges: Vec<MetadataRangeUpdate>,
}

fn key(a: &Address) -> String {
    codec::address_key(a)
}

/// A chain time (unix seconds) as the store's i64. Event fields are user-chosen (a listing may
/// expire at `type(uint64).max`): `as i64` would wrap those to negative times (an "expired"
/// listing that is active on chain), so times past i64::MAX are clamped to it (still "never").
fn chain_time(seconds: impl TryInto<i64>) -> i64 {
    seconds.try_into().unwrap_or(i64::MAX)
}

/// A U256 time from the governor as the store's i64, clamped like [`chain_time`]; `to::<u64>()`
/// would panic (and stop the indexer) on a value above 2^64.
fn chain_time_u256(seconds: U256) -> i64 {
    seconds.saturating_to::<i64>()
}

impl Projector {
    pub(crate) fn new(chain_id: u64, addresses: NestAddresses) -> Self {
        Self {
            chain_id,
            addresses,
            nfts: Table::default(),
            operators: Table::default(),
            listings: Table::default(),
            auctions: Table::default(),
            bids: Table::event_keyed(),
            offers: Table::default(),
            sales: Table::event_keyed(),
            proposals: Table::default(),
            votes: Table::default(),
            delegates: Table::default(),
            contracts: Table::default(),
            activity: Table::event_keyed(),
            collection_stats: Table::default(),
            sale_buckets: Table::default(),
            holdings: Table::default(),
            metadata_jobs: BTreeMap::new(),
            metadata_ranges: Vec::new(),
        }
    }

    fn nft_id(&self, contract: &Address, token: &U256) -> String {
        Nft::id_for(self.chain_id, contract, token)
    }

    fn listing_id(&self, id: &U256) -> String {
        Listing::id_for(self.chain_id, &self.addresses.marketplace, id)
    }

    fn auction_id(&self, id: &U256) -> String {
        Auction::id_for(self.chain_id, &self.addresses.marketplace, id)
    }

    fn offer_id(&self, id: &U256) -> String {
        Offer::id_for(self.chain_id, &self.addresses.marketplace, id)
    }

    fn proposal_id(&self, id: &U256) -> String {
        Proposal::id_for(self.chain_id, &self.addresses.governor, id)
    }

    fn delegate_id(&self, account: &Address) -> String {
        Delegate::id_for(self.chain_id, &self.addresses.token, account)
    }

    fn operator_id(&self, owner: &Address, operator: &Address) -> String {
        OperatorApproval::id_for(self.chain_id, &self.addresses.nft, owner, operator)
    }

    /// Loads every document `logs` may touch (inside `session`, so the reads see the same
    /// snapshot the writes build on), plus active listings and open offers past expiry.
    pub(crate) async fn prefetch(
        &mut self,
        store: &Store,
        session: &mut ClientSession,
        logs: &[IndexedLog],
    ) -> Result<()> {
        let mut nfts = BTreeSet::new();
        let mut operators = BTreeSet::new();
        let mut listings = BTreeSet::new();
        let mut auctions = BTreeSet::new();
        let mut offers = BTreeSet::new();
        let mut proposals = BTreeSet::new();
        let mut votes = BTreeSet::new();
        let mut delegates = BTreeSet::new();
        // Listings to re-check when a token moves or approvals change.
        let mut tokens: BTreeSet<(String, String)> = BTreeSet::new();
        let mut sellers = BTreeSet::new();
        let nft = self.addresses.nft;
        let market = self.addresses.marketplace;
        for log in logs {
            match &log.event {
                NestEvent::Nft(e) => match e {
                    NestNFTEvents::Transfer(t) => {
                        nfts.insert(self.nft_id(&nft, &t.tokenId));
                        tokens.insert((key(&nft), codec::u256_key(&t.tokenId)));
                    }
                    NestNFTEvents::Approval(a) => {
                        nfts.insert(self.nft_id(&nft, &a.tokenId));
                        tokens.insert((key(&nft), codec::u256_key(&a.tokenId)));
                    }
                    NestNFTEvents::ApprovalForAll(a) => {
                        operators.insert(self.operator_id(&a.owner, &a.operator));
                        sellers.insert(key(&a.owner));
                    }
                    NestNFTEvents::TokenMinted(m) => {
                        nfts.insert(self.nft_id(&nft, &m.tokenId));
                    }
                    NestNFTEvents::TokenRoyaltySet(r) => {
                        nfts.insert(self.nft_id(&nft, &r.tokenId));
                    }
                    NestNFTEvents::MetadataUpdate(m) => {
                        nfts.insert(self.nft_id(&nft, &m._tokenId));
                    }
                    _ => {}
                },
                NestEvent::Marketplace(e) => match e {
                    NestMarketplaceEvents::ListingCreated(l) => {
                        listings.insert(self.listing_id(&l.listingId));
                        nfts.insert(self.nft_id(&l.nft, &l.tokenId));
                        operators.insert(self.operator_id(&l.seller, &market));
                    }
                    NestMarketplaceEvents::ListingPriceUpdated(l) => {
                        listings.insert(self.listing_id(&l.listingId));
                    }
                    NestMarketplaceEvents::ListingCancelled(l) => {
                        listings.insert(self.listing_id(&l.listingId));
                    }
                    NestMarketplaceEvents::ListingSold(l) => {
                        listings.insert(self.listing_id(&l.listingId));
                    }
                    NestMarketplaceEvents::AuctionCreated(a) => {
                        auctions.insert(self.auction_id(&a.auctionId));
                    }
                    NestMarketplaceEvents::BidPlaced(b) => {
                        auctions.insert(self.auction_id(&b.auctionId));
                    }
                    NestMarketplaceEvents::AuctionExtended(a) => {
                        auctions.insert(self.auction_id(&a.auctionId));
                    }
                    NestMarketplaceEvents::AuctionSettled(a) => {
                        auctions.insert(self.auction_id(&a.auctionId));
                    }
                    NestMarketplaceEvents::AuctionCancelled(a) => {
                        auctions.insert(self.auction_id(&a.auctionId));
                    }
                    NestMarketplaceEvents::OfferCreated(o) => {
                        offers.insert(self.offer_id(&o.offerId));
                    }
                    NestMarketplaceEvents::OfferCancelled(o) => {
                        offers.insert(self.offer_id(&o.offerId));
                    }
                    NestMarketplaceEvents::OfferAccepted(o) => {
                        offers.insert(self.offer_id(&o.offerId));
                    }
                    _ => {}
                },
                NestEvent::Governor(e) => match e {
                    NestGovernorEvents::ProposalCreated(p) => {
                        proposals.insert(self.proposal_id(&p.proposalId));
                    }
                    NestGovernorEvents::VoteCast(v) => {
                        let p = self.proposal_id(&v.proposalId);
                        votes.insert(Vote::id_for(&p, &v.voter));
                        proposals.insert(p);
                    }
                    NestGovernorEvents::VoteCastWithParams(v) => {
                        let p = self.proposal_id(&v.proposalId);
                        votes.insert(Vote::id_for(&p, &v.voter));
                        proposals.insert(p);
                    }
                    NestGovernorEvents::ProposalQueued(p) => {
                        proposals.insert(self.proposal_id(&p.proposalId));
                    }
                    NestGovernorEvents::ProposalExecuted(p) => {
                        proposals.insert(self.proposal_id(&p.proposalId));
                    }
                    NestGovernorEvents::ProposalCanceled(p) => {
                        proposals.insert(self.proposal_id(&p.proposalId));
                    }
                    _ => {}
                },
                NestEvent::Token(e) => match e {
                    NestTokenEvents::DelegateChanged(d) => {
                        delegates.insert(self.delegate_id(&d.delegator));
                    }
                    NestTokenEvents::DelegateVotesChanged(d) => {
                        delegates.insert(self.delegate_id(&d.delegate));
                    }
                    _ => {}
                },
                NestEvent::Timelock(_) | NestEvent::Forwarder(_) => {}
            }
        }
        let db = store.database();
        let chain = self.chain_id as i64;
        by_ids(db, session, &mut self.nfts, nfts).await?;
        by_ids(db, session, &mut self.operators, operators).await?;
        by_ids(db, session, &mut self.listings, listings).await?;
        by_ids(db, session, &mut self.auctions, auctions).await?;
        by_ids(db, session, &mut self.offers, offers).await?;
        by_ids(db, session, &mut self.proposals, proposals).await?;
        by_ids(db, session, &mut self.votes, votes).await?;
        by_ids(db, session, &mut self.delegates, delegates).await?;
        if !self.contracts.knows(&ContractState::id_for(
            self.chain_id,
            &self.addresses.marketplace,
        )) {
            let docs = load_documents_in(
                db,
                session,
                ContractState::COLLECTION,
                doc! { "chainId": chain },
            )
            .await?;
            self.contracts.loaded(docs)?;
        }
        // Open listings whose validity may change: of moved/approved tokens, of owners whose
        // operator approval changed.
        let live = doc! { "$in": [ListingStatus::Active.as_str(), ListingStatus::Stale.as_str()] };
        if !tokens.is_empty() {
            let token_ids: Vec<&String> = tokens.iter().map(|(_, t)| t).collect();
            let contracts: BTreeSet<&String> = tokens.iter().map(|(c, _)| c).collect();
            for chunk in token_ids.chunks(5_000) {
                let filter = doc! { "chainId": chain, "nft": { "$in": contracts.iter().map(|c| c.as_str()).collect::<Vec<_>>() }, "tokenId": { "$in": chunk }, "status": live.clone() };
                let docs = load_documents_in(db, session, Listing::COLLECTION, filter).await?;
                self.listings.loaded(docs)?;
            }
        }
        if !sellers.is_empty() {
            let filter = doc! { "chainId": chain, "seller": { "$in": sellers.into_iter().collect::<Vec<_>>() }, "status": live };
            let docs = load_documents_in(db, session, Listing::COLLECTION, filter).await?;
            self.listings.loaded(docs)?;
        }
        // Listings and offers that expire within this batch: one equality + range query per
        // status, each a single range of the partial `expiry` index (expiring documents only).
        if let Some(latest) = logs.iter().map(|l| l.block_timestamp).max() {
            let expiring = doc! { "$gt": 0_i64, "$lt": latest as i64 };
            for status in [ListingStatus::Active, ListingStatus::Stale] {
                let filter = doc! { "chainId": chain, "status": status.as_str(), "expiresAt": expiring.clone() };
                let docs = load_documents_in(db, session, Listing::COLLECTION, filter).await?;
                self.listings.loaded(docs)?;
            }
            let filter = doc! { "chainId": chain, "status": OfferStatus::Open.as_str(), "expiresAt": expiring };
            let docs = load_documents_in(db, session, Offer::COLLECTION, filter).await?;
            self.offers.loaded(docs)?;
        }
        Ok(())
    }

    /// Applies `logs` (in chain order) to the working set.
    pub(crate) fn apply(&mut self, logs: &[IndexedLog]) {
        for log in logs {
            match &log.event {
                NestEvent::Nft(e) => self.apply_nft(log, e),
                NestEvent::Marketplace(e) => self.apply_marketplace(log, e),
                NestEvent::Token(e) => self.apply_token(log, e),
                NestEvent::Governor(e) => self.apply_governor(log, e),
                NestEvent::Timelock(_) | NestEvent::Forwarder(_) => {}
            }
            if let Some(item) = self.activity_of(log) {
                self.activity.put(item, log.block_number);
            }
        }
        if let Some(last) = logs.last() {
            self.expire(
                last.block_number,
                logs.iter()
                    .map(|l| l.block_timestamp)
                    .max()
                    .unwrap_or_default(),
            );
        }
    }

    fn contract_field(
        &mut self,
        contract: Address,
        kind: &str,
        block: u64,
        change: impl FnOnce(&mut Document),
    ) {
        let id = ContractState::id_for(self.chain_id, &contract);
        if self.contracts.get(&id).is_none() {
            let fresh = ContractState {
                id: id.clone(),
                chain_id: self.chain_id as i64,
                contract,
                kind: kind.into(),
                fields: Document::new(),
                updated_block: block as i64,
            };
            self.contracts.put(fresh, block);
        }
        self.contracts.update(&id, block, |c| {
            change(&mut c.fields);
            c.updated_block = block as i64;
        });
    }

    fn field_u256(&self, contract: &Address, field: &str) -> U256 {
        self.contracts
            .get(&ContractState::id_for(self.chain_id, contract))
            .and_then(|c| c.fields.get_str(field).ok())
            .and_then(|s| U256::from_str_radix(s, 10).ok())
            .unwrap_or_default()
    }

    fn apply_nft(&mut self, log: &IndexedLog, event: &NestNFTEvents) {
        let block = log.block_number;
        let contract = log.contract;
        match event {
            NestNFTEvents::Transfer(t) => {
                let id = self.nft_id(&contract, &t.tokenId);
                if t.from == Address::ZERO {
                    self.nfts.put(
                        Nft {
                            id: id.clone(),
                            chain_id: self.chain_id as i64,
                            contract,
                            token_id: t.tokenId,
                            owner: t.to,
                            token_uri: String::new(),
                            approved: None,
                            royalty_receiver: None,
                            royalty_bps: 0,
                            minted_block: block as i64,
                            updated_block: block as i64,
                        },
                        block,
                    );
                    self.contract_field(contract, "nft", block, |f| {
                        let minted = f.get_i64("minted").unwrap_or(0) + 1;
                        f.insert("minted", minted);
                    });
                } else {
                    self.nfts.update(&id, block, |n| {
                        n.owner = t.to;
                        n.approved = None;
                        n.updated_block = block as i64;
                    });
                }
                self.recheck_token(&contract, &t.tokenId, block);
            }
            NestNFTEvents::Approval(a) => {
                let id = self.nft_id(&contract, &a.tokenId);
                let approved = (a.approved != Address::ZERO).then_some(a.approved);
                self.nfts.update(&id, block, |n| {
                    n.approved = approved;
                    n.updated_block = block as i64;
                });
                self.recheck_token(&contract, &a.tokenId, block);
            }
            NestNFTEvents::ApprovalForAll(a) => {
                let id = self.operator_id(&a.owner, &a.operator);
                self.operators.put(
                    OperatorApproval {
                        id,
                        chain_id: self.chain_id as i64,
                        contract,
                        owner: a.owner,
                        operator: a.operator,
                        approved: a.approved,
                    },
                    block,
                );
                let owner = a.owner;
                let ids = self
                    .listings
                    .matching(|l| l.seller == owner && is_open(l.status));
                for id in ids {
                    self.recheck_listing(&id, block);
                }
            }
            NestNFTEvents::TokenMinted(m) => {
                let id = self.nft_id(&contract, &m.tokenId);
                self.nfts.update(&id, block, |n| {
                    n.token_uri = m.uri.clone();
                    n.updated_block = block as i64;
                });
                self.queue_metadata(log, &contract, &m.tokenId, &m.uri);
            }
            // ERC-4906: the token's metadata changed; resolve its URI again. (At a mint this
            // comes before `TokenMinted`, while the URI is still unknown: that one queues it.)
            NestNFTEvents::MetadataUpdate(m) => {
                let uri = self
                    .nfts
                    .get(&self.nft_id(&contract, &m._tokenId))
                    .map(|n| n.token_uri.clone())
                    .unwrap_or_default();
                if !uri.is_empty() {
                    self.queue_metadata(log, &contract, &m._tokenId, &uri);
                }
            }
            NestNFTEvents::BatchMetadataUpdate(b) => {
                self.metadata_ranges.push(MetadataRangeUpdate {
                    chain_id: self.chain_id,
                    contract,
                    from: b._fromTokenId,
                    to: b._toTokenId,
                    ticket: log.id.clone(),
                });
            }
            NestNFTEvents::TokenRoyaltySet(r) => {
                let id = self.nft_id(&contract, &r.tokenId);
                let receiver = (r.receiver != Address::ZERO).then_some(r.receiver);
                let bps: u64 = r.bps.to();
                self.nfts.update(&id, block, |n| {
                    n.royalty_receiver = receiver;
                    n.royalty_bps = bps as i32;
                    n.updated_block = block as i64;
                });
            }
            NestNFTEvents::DefaultRoyaltySet(r) => {
                let bps: u64 = r.bps.to();
                let receiver = key(&r.receiver);
                self.contract_field(contract, "nft", block, |f| {
                    f.insert("defaultRoyaltyReceiver", receiver);
                    f.insert("defaultRoyaltyBps", bps as i64);
                });
            }
            _ => {}
        }
    }

    fn queue_metadata(&mut self, log: &IndexedLog, contract: &Address, token: &U256, uri: &str) {
        let job = MetadataJob::new(self.chain_id, *contract, *token, uri, &log.id);
        self.metadata_jobs.insert(job.id.clone(), job);
    }

    /// The activity item of `log` (after it was applied: the listing, auction or offer it names
    /// is in the working set), if it is one users see.
    fn activity_of(&self, log: &IndexedLog) -> Option<Activity> {
        struct Item {
            kind: &'static str,
            nft: Option<(Address, U256)>,
            from: Option<Address>,
            to: Option<Address>,
            amount: Option<U256>,
            payment_token: Option<Address>,
            ref_id: Option<U256>,
        }
        let item = |kind, nft, from, to| Item {
            kind,
            nft,
            from,
            to,
            amount: None,
            payment_token: None,
            ref_id: None,
        };
        let listing = |id: &U256| self.listings.get(&self.listing_id(id));
        let auction = |id: &U256| self.auctions.get(&self.auction_id(id));
        let offer = |id: &U256| self.offers.get(&self.offer_id(id));
        let item = match &log.event {
            NestEvent::Nft(NestNFTEvents::Transfer(t)) => {
                let kind = if t.from == Address::ZERO {
                    "mint"
                } else {
                    "transfer"
                };
                let from = (t.from != Address::ZERO).then_some(t.from);
                item(kind, Some((log.contract, t.tokenId)), from, Some(t.to))
            }
            NestEvent::Marketplace(e) => match e {
                NestMarketplaceEvents::ListingCreated(l) => Item {
                    amount: Some(l.price),
                    payment_token: Some(l.paymentToken),
                    ref_id: Some(l.listingId),
                    ..item("listing", Some((l.nft, l.tokenId)), Some(l.seller), None)
                },
                NestMarketplaceEvents::ListingPriceUpdated(l) => {
                    let x = listing(&l.listingId)?;
                    Item {
                        amount: Some(l.newPrice),
                        payment_token: Some(x.payment_token),
                        ref_id: Some(l.listingId),
                        ..item(
                            "price_change",
                            Some((x.nft, x.token_id)),
                            Some(x.seller),
                            None,
                        )
                    }
                }
                NestMarketplaceEvents::ListingCancelled(l) => {
                    let x = listing(&l.listingId)?;
                    Item {
                        ref_id: Some(l.listingId),
                        ..item(
                            "listing_cancelled",
                            Some((x.nft, x.token_id)),
                            Some(x.seller),
                            None,
                        )
                    }
                }
                NestMarketplaceEvents::AuctionCreated(a) => Item {
                    amount: Some(a.reservePrice),
                    payment_token: Some(a.paymentToken),
                    ref_id: Some(a.auctionId),
                    ..item("auction", Some((a.nft, a.tokenId)), Some(a.seller), None)
                },
                NestMarketplaceEvents::BidPlaced(b) => {
                    let x = auction(&b.auctionId)?;
                    Item {
                        amount: Some(b.amount),
                        payment_token: Some(x.payment_token),
                        ref_id: Some(b.auctionId),
                        ..item(
                            "bid",
                            Some((x.nft, x.token_id)),
                            Some(b.bidder),
                            Some(x.seller),
                        )
                    }
                }
                NestMarketplaceEvents::AuctionCancelled(a) => {
                    let x = auction(&a.auctionId)?;
                    Item {
                        ref_id: Some(a.auctionId),
                        ..item(
                            "auction_cancelled",
                            Some((x.nft, x.token_id)),
                            Some(x.seller),
                            None,
                        )
                    }
                }
                NestMarketplaceEvents::OfferCreated(o) => Item {
                    amount: Some(o.amount),
                    payment_token: Some(o.paymentToken),
                    ref_id: Some(o.offerId),
                    ..item("offer", Some((o.nft, o.tokenId)), Some(o.buyer), None)
                },
                NestMarketplaceEvents::OfferCancelled(o) => {
                    let x = offer(&o.offerId)?;
                    Item {
                        ref_id: Some(o.offerId),
                        ..item(
                            "offer_cancelled",
                            Some((x.nft, x.token_id)),
                            Some(x.buyer),
                            None,
                        )
                    }
                }
                // Listing sales, settled auctions and accepted offers all emit `Sale`.
                NestMarketplaceEvents::Sale(s) => Item {
                    amount: Some(s.price),
                    payment_token: Some(s.paymentToken),
                    ref_id: Some(s.refId),
                    ..item(
                        "sale",
                        Some((s.nft, s.tokenId)),
                        Some(s.seller),
                        Some(s.buyer),
                    )
                },
                _ => return None,
            },
            NestEvent::Governor(NestGovernorEvents::ProposalCreated(p)) => Item {
                ref_id: Some(p.proposalId),
                ..item("proposal", None, Some(p.proposer), None)
            },
            NestEvent::Governor(NestGovernorEvents::VoteCast(v)) => Item {
                amount: Some(v.weight),
                ref_id: Some(v.proposalId),
                ..item("vote", None, Some(v.voter), None)
            },
            NestEvent::Governor(NestGovernorEvents::VoteCastWithParams(v)) => Item {
                amount: Some(v.weight),
                ref_id: Some(v.proposalId),
                ..item("vote", None, Some(v.voter), None)
            },
            _ => return None,
        };
        let users = [item.from, item.to]
            .into_iter()
            .flatten()
            .map(|a| key(&a))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Some(Activity {
            id: log.id.clone(),
            chain_id: self.chain_id as i64,
            seq: log.block_number as i64 * nest_store::SEQ_PER_BLOCK + log.log_index as i64,
            kind: item.kind.to_string(),
            contract: item.nft.map(|(c, _)| c),
            token_id: item.nft.map(|(_, t)| codec::u256_key(&t)),
            from: item.from,
            to: item.to,
            users,
            amount: item.amount.map(|a| a.to_string()),
            payment_token: item.payment_token,
            ref_id: item.ref_id.map(|r| r.to_string()),
            block_number: log.block_number as i64,
            timestamp: log.block_timestamp as i64,
            tx_hash: log.tx_hash,
        })
    }

    /// Metadata resolutions the batch asks for: single tokens, then ERC-4906 ranges.
    pub(crate) fn metadata_requests(&self) -> (Vec<MetadataJob>, &[MetadataRangeUpdate]) {
        (
            self.metadata_jobs.values().cloned().collect(),
            &self.metadata_ranges,
        )
    }

    /// Marks the token's open listings active or stale by who owns and approves it now.
    fn recheck_token(&mut self, contract: &Address, token: &U256, block: u64) {
        let (contract, token) = (*contract, *token);
        let ids = self
            .listings
            .matching(|l| l.nft == contract && l.token_id == token && is_open(l.status));
        for id in ids {
            self.recheck_listing(&id, block);
        }
    }

    fn recheck_listing(&mut self, id: &str, block: u64) {
        let Some(listing) = self.listings.get(id) else {
            return;
        };
        let valid = self.listing_valid(listing);
        let status = if valid {
            ListingStatus::Active
        } else {
            ListingStatus::Stale
        };
        if listing.status != status {
            self.listings.update(id, block, |l| {
                l.status = status;
                l.updated_block = block as i64;
            });
        }
    }

    /// A listing can be bought while its seller owns the token and the marketplace may move it.
    /// Tokens of collections Nest does not index are assumed valid.
    fn listing_valid(&self, listing: &Listing) -> bool {
        if listing.nft != self.addresses.nft {
            return true;
        }
        let Some(nft) = self.nfts.get(&self.nft_id(&listing.nft, &listing.token_id)) else {
            return true;
        };
        let market = self.addresses.marketplace;
        let operator = self
            .operators
            .get(&self.operator_id(&listing.seller, &market))
            .is_some_and(|a| a.approved);
        nft.owner == listing.seller && (nft.approved == Some(market) || operator)
    }

    fn apply_marketplace(&mut self, log: &IndexedLog, event: &NestMarketplaceEvents) {
        let block = log.block_number;
        let chain = self.chain_id as i64;
        let market = log.contract;
        match event {
            NestMarketplaceEvents::ListingCreated(l) => {
                let mut listing = Listing {
                    id: self.listing_id(&l.listingId),
                    chain_id: chain,
                    marketplace: market,
                    listing_id: l.listingId,
                    seller: l.seller,
                    nft: l.nft,
                    token_id: l.tokenId,
                    payment_token: l.paymentToken,
                    price: l.price,
                    expires_at: chain_time(l.expiresAt),
                    status: ListingStatus::Active,
                    buyer: None,
                    created_block: block as i64,
                    updated_block: block as i64,
                };
                if !self.listing_valid(&listing) {
                    listing.status = ListingStatus::Stale;
                }
                self.listings.put(listing, block);
            }
            NestMarketplaceEvents::ListingPriceUpdated(l) => {
                self.listings
                    .update(&self.listing_id(&l.listingId), block, |x| {
                        x.price = l.newPrice;
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::ListingCancelled(l) => {
                self.listings
                    .update(&self.listing_id(&l.listingId), block, |x| {
                        x.status = ListingStatus::Cancelled;
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::ListingSold(l) => {
                self.listings
                    .update(&self.listing_id(&l.listingId), block, |x| {
                        x.status = ListingStatus::Sold;
                        x.buyer = Some(l.buyer);
                        x.price = l.price;
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::AuctionCreated(a) => {
                let auction = Auction {
                    id: self.auction_id(&a.auctionId),
                    chain_id: chain,
                    marketplace: market,
                    auction_id: a.auctionId,
                    seller: a.seller,
                    nft: a.nft,
                    token_id: a.tokenId,
                    payment_token: a.paymentToken,
                    reserve_price: a.reservePrice,
                    start_time: chain_time(a.startTime),
                    end_time: chain_time(a.endTime),
                    highest_bidder: None,
                    highest_bid: U256::ZERO,
                    bid_count: 0,
                    status: AuctionStatus::Live,
                    winner: None,
                    created_block: block as i64,
                    updated_block: block as i64,
                };
                self.auctions.put(auction, block);
            }
            NestMarketplaceEvents::BidPlaced(b) => {
                let auction = self.auction_id(&b.auctionId);
                self.auctions.update(&auction, block, |a| {
                    a.highest_bidder = Some(b.bidder);
                    a.highest_bid = b.amount;
                    a.bid_count += 1;
                    a.end_time = chain_time(b.endTime);
                    a.updated_block = block as i64;
                });
                self.bids.put(
                    Bid {
                        id: log.id.clone(),
                        chain_id: chain,
                        auction,
                        bidder: b.bidder,
                        amount: b.amount,
                        block_number: block as i64,
                        log_index: log.log_index as i64,
                        tx_hash: log.tx_hash,
                    },
                    block,
                );
            }
            NestMarketplaceEvents::AuctionExtended(a) => {
                self.auctions
                    .update(&self.auction_id(&a.auctionId), block, |x| {
                        x.end_time = chain_time(a.newEndTime);
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::AuctionSettled(a) => {
                let winner = (a.winner != Address::ZERO).then_some(a.winner);
                self.auctions
                    .update(&self.auction_id(&a.auctionId), block, |x| {
                        x.status = AuctionStatus::Settled;
                        x.winner = winner;
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::AuctionCancelled(a) => {
                self.auctions
                    .update(&self.auction_id(&a.auctionId), block, |x| {
                        x.status = AuctionStatus::Cancelled;
                        x.updated_block = block as i64;
                    });
            }
            NestMarketplaceEvents::OfferCreated(o) => {
                let offer = Offer {
                    id: self.offer_id(&o.offerId),
                    chain_id: chain,
                    marketplace: market,
                    offer_id: o.offerId,
                    buyer: o.buyer,
                    nft: o.nft,
                    token_id: o.tokenId,
                    payment_token: o.paymentToken,
                    amount: o.amount,
                    expires_at: chain_time(o.expiresAt),
                    status: OfferStatus::Open,
                    accepted_by: None,
                    created_block: block as i64,
                    updated_block: block as i64,
                };
                self.offers.put(offer, block);
            }
            NestMarketplaceEvents::OfferCancelled(o) => {
                self.offers.update(&self.offer_id(&o.offerId), block, |x| {
                    x.status = OfferStatus::Cancelled;
                    x.updated_block = block as i64;
                });
            }
            NestMarketplaceEvents::OfferAccepted(o) => {
                self.offers.update(&self.offer_id(&o.offerId), block, |x| {
                    x.status = OfferStatus::Accepted;
                    x.accepted_by = Some(o.seller);
                    x.updated_block = block as i64;
                });
            }
            NestMarketplaceEvents::Sale(s) => {
                let kind = match s.kind {
                    0 => SaleKind::Listing,
                    1 => SaleKind::Auction,
                    _ => SaleKind::Offer,
                };
                self.sales.put(
                    Sale {
                        id: log.id.clone(),
                        chain_id: chain,
                        kind,
                        ref_id: s.refId,
                        nft: s.nft,
                        token_id: s.tokenId,
                        seller: s.seller,
                        buyer: s.buyer,
                        payment_token: s.paymentToken,
                        price: s.price,
                        fee: s.fee,
                        royalty_receiver: s.royaltyReceiver,
                        royalty: s.royalty,
                        block_number: block as i64,
                        timestamp: log.block_timestamp as i64,
                        tx_hash: log.tx_hash,
                    },
                    block,
                );
                let price = s.price;
                self.contract_field(market, "marketplace", block, |f| {
                    let sales = f.get_i64("sales").unwrap_or(0) + 1;
                    f.insert("sales", sales);
                    let _ = price;
                });
            }
            NestMarketplaceEvents::FeeUpdated(f) => {
                let fee = f.newFeeBps as i64;
                self.contract_field(market, "marketplace", block, |d| {
                    d.insert("feeBps", fee);
                });
            }
            NestMarketplaceEvents::TreasuryUpdated(t) => {
                let treasury = key(&t.newTreasury);
                self.contract_field(market, "marketplace", block, |d| {
                    d.insert("treasury", treasury);
                });
            }
            NestMarketplaceEvents::PaymentTokenUpdated(p) => {
                let (token, allowed) = (key(&p.token), p.allowed);
                self.contract_field(market, "marketplace", block, |d| {
                    let mut tokens: Vec<String> = d
                        .get_array("paymentTokens")
                        .map(|a| {
                            a.iter()
                                .filter_map(|b| b.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    tokens.retain(|t| t != &token);
                    if allowed {
                        tokens.push(token);
                    }
                    tokens.sort();
                    d.insert(
                        "paymentTokens",
                        tokens.into_iter().map(Bson::String).collect::<Vec<_>>(),
                    );
                });
            }
            NestMarketplaceEvents::AuctionConfigUpdated(c) => {
                let (inc, window, ext) = (
                    c.minBidIncrementBps as i64,
                    c.extensionWindow as i64,
                    c.extensionDuration as i64,
                );
                self.contract_field(market, "marketplace", block, |d| {
                    d.insert("minBidIncrementBps", inc);
                    d.insert("extensionWindow", window);
                    d.insert("extensionDuration", ext);
                });
            }
            _ => {}
        }
    }

    fn apply_token(&mut self, log: &IndexedLog, event: &NestTokenEvents) {
        let block = log.block_number;
        let token = log.contract;
        match event {
            NestTokenEvents::Transfer(t) if t.from == Address::ZERO || t.to == Address::ZERO => {
                let mut supply = self.field_u256(&token, "totalSupply");
                if t.from == Address::ZERO {
                    supply = supply.saturating_add(t.value);
                } else {
                    supply = supply.saturating_sub(t.value);
                }
                self.contract_field(token, "token", block, |f| {
                    f.insert("totalSupply", supply.to_string());
                });
            }
            NestTokenEvents::DelegateChanged(d) => {
                let id = self.delegate_id(&d.delegator);
                let to = (d.toDelegate != Address::ZERO).then_some(d.toDelegate);
                if !self.delegates.update(&id, block, |x| {
                    x.delegate = to;
                    x.updated_block = block as i64;
                }) {
                    self.delegates.put(
                        self.new_delegate(id, d.delegator, to, U256::ZERO, block),
                        block,
                    );
                }
            }
            NestTokenEvents::DelegateVotesChanged(d) => {
                let id = self.delegate_id(&d.delegate);
                let votes = d.newVotes;
                if !self.delegates.update(&id, block, |x| {
                    x.votes = votes;
                    x.updated_block = block as i64;
                }) {
                    self.delegates
                        .put(self.new_delegate(id, d.delegate, None, votes, block), block);
                }
            }
            _ => {}
        }
    }

    fn new_delegate(
        &self,
        id: String,
        account: Address,
        delegate: Option<Address>,
        votes: U256,
        block: u64,
    ) -> Delegate {
        Delegate {
            id,
            chain_id: self.chain_id as i64,
            token: self.addresses.token,
            account,
            delegate,
            votes,
            updated_block: block as i64,
        }
    }

    fn apply_governor(&mut self, log: &IndexedLog, event: &NestGovernorEvents) {
        let block = log.block_number;
        let now = log.block_timestamp as i64;
        match event {
            NestGovernorEvents::QuorumNumeratorUpdated(q) => {
                let numerator = q.newQuorumNumerator.to_string();
                self.contract_field(log.contract, "governor", block, |f| {
                    f.insert("quorumNumerator", numerator);
                });
            }
            NestGovernorEvents::ProposalCreated(p) => {
                // Quorum as GovernorVotesQuorumFraction computes it: supply * numerator / 100.
                let supply = self.field_u256(&self.addresses.token, "totalSupply");
                let numerator = self.field_u256(&log.contract, "quorumNumerator");
                let quorum = supply.saturating_mul(numerator) / U256::from(100);
                let mut proposal = Proposal {
                    id: self.proposal_id(&p.proposalId),
                    chain_id: self.chain_id as i64,
                    governor: log.contract,
                    proposal_id: p.proposalId,
                    proposer: p.proposer,
                    targets: p.targets.iter().map(key).collect(),
                    values: p.values.clone(),
                    calldatas: p.calldatas.iter().map(|c| format!("{c}")).collect(),
                    description: p.description.clone(),
                    vote_start: chain_time_u256(p.voteStart),
                    vote_end: chain_time_u256(p.voteEnd),
                    state: ProposalState::Pending,
                    for_votes: U256::ZERO,
                    against_votes: U256::ZERO,
                    abstain_votes: U256::ZERO,
                    quorum,
                    eta: None,
                    created_block: block as i64,
                    updated_block: block as i64,
                };
                proposal.state = proposal.state_at(now);
                self.proposals.put(proposal, block);
            }
            NestGovernorEvents::VoteCast(v) => {
                self.record_vote(log, &v.proposalId, v.voter, v.support, v.weight, &v.reason);
            }
            NestGovernorEvents::VoteCastWithParams(v) => {
                self.record_vote(log, &v.proposalId, v.voter, v.support, v.weight, &v.reason);
            }
            NestGovernorEvents::ProposalQueued(p) => {
                let eta = chain_time_u256(p.etaSeconds);
                self.proposals
                    .update(&self.proposal_id(&p.proposalId), block, |x| {
                        x.state = ProposalState::Queued;
                        x.eta = Some(eta);
                        x.updated_block = block as i64;
                    });
            }
            NestGovernorEvents::ProposalExecuted(p) => {
                self.proposals
                    .update(&self.proposal_id(&p.proposalId), block, |x| {
                        x.state = ProposalState::Executed;
                        x.updated_block = block as i64;
                    });
            }
            NestGovernorEvents::ProposalCanceled(p) => {
                self.proposals
                    .update(&self.proposal_id(&p.proposalId), block, |x| {
                        x.state = ProposalState::Canceled;
                        x.updated_block = block as i64;
                    });
            }
            _ => {}
        }
    }

    fn record_vote(
        &mut self,
        log: &IndexedLog,
        proposal_id: &U256,
        voter: Address,
        support: u8,
        weight: U256,
        reason: &str,
    ) {
        let block = log.block_number;
        let now = log.block_timestamp as i64;
        let proposal = self.proposal_id(proposal_id);
        self.proposals.update(&proposal, block, |p| {
            match support {
                0 => p.against_votes = p.against_votes.saturating_add(weight),
                1 => p.for_votes = p.for_votes.saturating_add(weight),
                _ => p.abstain_votes = p.abstain_votes.saturating_add(weight),
            }
            p.state = p.state_at(now);
            p.updated_block = block as i64;
        });
        self.votes.put(
            Vote {
                id: Vote::id_for(&proposal, &voter),
                chain_id: self.chain_id as i64,
                proposal,
                voter,
                support: support as i32,
                weight,
                reason: reason.to_string(),
                block_number: block as i64,
                tx_hash: log.tx_hash,
            },
            block,
        );
    }

    /// Listings and offers whose expiry passed by `timestamp` become expired.
    fn expire(&mut self, block: u64, timestamp: u64) {
        let now = timestamp as i64;
        let ids = self
            .listings
            .matching(|l| is_open(l.status) && l.expires_at != 0 && l.expires_at < now);
        for id in ids {
            self.listings.update(&id, block, |l| {
                l.status = ListingStatus::Expired;
                l.updated_block = block as i64;
            });
        }
        let ids = self
            .offers
            .matching(|o| o.status == OfferStatus::Open && o.expires_at != 0 && o.expires_at < now);
        for id in ids {
            self.offers.update(&id, block, |o| {
                o.status = OfferStatus::Expired;
                o.updated_block = block as i64;
            });
        }
    }

    /// Everything the batch changed. With `undo`, also the prior versions for the undo log.
    pub(crate) fn writes(&self, undo: bool) -> Result<ProjectionWrites> {
        let chain = undo.then_some(self.chain_id);
        Ok(ProjectionWrites {
            collections: vec![
                (Nft::COLLECTION, self.nfts.changes(chain)?),
                (OperatorApproval::COLLECTION, self.operators.changes(chain)?),
                (Listing::COLLECTION, self.listings.changes(chain)?),
                (Auction::COLLECTION, self.auctions.changes(chain)?),
                (Bid::COLLECTION, self.bids.changes(chain)?),
                (Offer::COLLECTION, self.offers.changes(chain)?),
                (Sale::COLLECTION, self.sales.changes(chain)?),
                (Proposal::COLLECTION, self.proposals.changes(chain)?),
                (Vote::COLLECTION, self.votes.changes(chain)?),
                (Delegate::COLLECTION, self.delegates.changes(chain)?),
                (ContractState::COLLECTION, self.contracts.changes(chain)?),
                (Activity::COLLECTION, self.activity.changes(chain)?),
                (
                    CollectionStats::COLLECTION,
                    self.collection_stats.changes(chain)?,
                ),
                (SaleBucket::COLLECTION, self.sale_buckets.changes(chain)?),
                (Holding::COLLECTION, self.holdings.changes(chain)?),
            ],
        })
    }
}

/// Loads the documents of `ids` the table does not know yet (inside `session`), and records the
/// missing ones as absent.
async fn by_ids<T: Projection>(
    db: &nest_store::Database,
    session: &mut ClientSession,
    table: &mut Table<T>,
    ids: BTreeSet<String>,
) -> Result<()> {
    let wanted: Vec<String> = ids.into_iter().filter(|id| !table.knows(id)).collect();
    for chunk in wanted.chunks(5_000) {
        let docs =
            load_documents_in(db, session, T::COLLECTION, doc! { "_id": { "$in": chunk } }).await?;
        table.loaded(docs)?;
        for id in chunk {
            table.absent(id);
        }
    }
    Ok(())
}

fn is_open(status: ListingStatus) -> bool {
    matches!(status, ListingStatus::Active | ListingStatus::Stale)
}

/// Every projection collection, for rebuilds and rollbacks.
pub(crate) const PROJECTION_COLLECTIONS: [&str; 15] = [
    Nft::COLLECTION,
    OperatorApproval::COLLECTION,
    Listing::COLLECTION,
    Auction::COLLECTION,
    Bid::COLLECTION,
    Offer::COLLECTION,
    Sale::COLLECTION,
    Proposal::COLLECTION,
    Vote::COLLECTION,
    Delegate::COLLECTION,
    ContractState::COLLECTION,
    Activity::COLLECTION,
    CollectionStats::COLLECTION,
    SaleBucket::COLLECTION,
    Holding::COLLECTION,
];

#[cfg(test)]
mod time_tests {
    use super::{U256, chain_time, chain_time_u256};

    #[test]
    fn chain_times_past_i64_are_clamped_not_wrapped() {
        assert_eq!(chain_time(1_700_000_000_u64), 1_700_000_000);
        assert_eq!(chain_time(u64::MAX), i64::MAX);
        assert_eq!(chain_time(1_u64 << 63), i64::MAX);
        assert_eq!(
            chain_time_u256(U256::from(1_700_000_000_u64)),
            1_700_000_000
        );
        assert_eq!(chain_time_u256(U256::MAX), i64::MAX);
    }
}
