//! Collection stats from a projected batch: the changes the batch made to NFTs, listings,
//! auctions and sales become deltas of the per-collection counters, the holdings and the hourly
//! sale buckets, written in the same transaction (and undone with it on a reorg).

use super::{Projector, by_ids};
use crate::error::Result;
use alloy::primitives::Address;
use nest_store::{
    AuctionStatus, ClientSession, CollectionStats, Holding, ListingStatus, SaleBucket, Store,
    TokenTotals,
};
use std::collections::BTreeMap;

/// What a batch changes in one collection's counters.
#[derive(Debug, Default)]
struct StatsDelta {
    supply: i64,
    listed: i64,
    on_auction: i64,
    totals: Vec<TokenTotals>,
    /// Earliest and latest block of the changes.
    blocks: Option<(u64, u64)>,
}

impl StatsDelta {
    fn at(&mut self, block: u64) -> &mut Self {
        self.blocks = Some(self.blocks.map_or((block, block), |(first, last)| {
            (first.min(block), last.max(block))
        }));
        self
    }
}

/// Sales of one collection in one hour.
#[derive(Debug, Default)]
struct BucketDelta {
    totals: Vec<TokenTotals>,
    first_block: u64,
}

fn nonzero(owner: Address) -> Option<Address> {
    (owner != Address::ZERO).then_some(owner)
}

impl Projector {
    /// Turns the batch's changes into collection stats, holdings and sale buckets (loading the
    /// documents those touch inside `session`).
    pub(crate) async fn derive_collection_stats(
        &mut self,
        store: &Store,
        session: &mut ClientSession,
    ) -> Result<()> {
        let chain_id = self.chain_id;
        let mut deltas: BTreeMap<Address, StatsDelta> = BTreeMap::new();
        // (contract, owner) -> (tokens gained minus lost, first block).
        let mut holdings: BTreeMap<(Address, Address), (i64, u64)> = BTreeMap::new();
        let mut buckets: BTreeMap<(Address, i64), BucketDelta> = BTreeMap::new();

        for (prior, current, block) in self.nfts.changed() {
            let Some(contract) = current.or(prior).map(|n| n.contract) else {
                continue;
            };
            let before = prior.and_then(|n| nonzero(n.owner));
            let after = current.and_then(|n| nonzero(n.owner));
            if before == after {
                continue;
            }
            let delta = deltas.entry(contract).or_default().at(block);
            if let Some(owner) = before {
                delta.supply -= 1;
                let h = holdings.entry((contract, owner)).or_insert((0, block));
                h.0 -= 1;
                h.1 = h.1.min(block);
            }
            if let Some(owner) = after {
                delta.supply += 1;
                let h = holdings.entry((contract, owner)).or_insert((0, block));
                h.0 += 1;
                h.1 = h.1.min(block);
            }
        }
        for (prior, current, block) in self.listings.changed() {
            let active = |l: Option<&nest_store::Listing>| {
                l.is_some_and(|l| l.status == ListingStatus::Active)
            };
            let change = i64::from(active(current)) - i64::from(active(prior));
            if let (true, Some(listing)) = (change != 0, current.or(prior)) {
                deltas.entry(listing.nft).or_default().at(block).listed += change;
            }
        }
        for (prior, current, block) in self.auctions.changed() {
            let live = |a: Option<&nest_store::Auction>| {
                a.is_some_and(|a| a.status == AuctionStatus::Live)
            };
            let change = i64::from(live(current)) - i64::from(live(prior));
            if let (true, Some(auction)) = (change != 0, current.or(prior)) {
                deltas.entry(auction.nft).or_default().at(block).on_auction += change;
            }
        }
        for (prior, current, block) in self.sales.changed() {
            let (None, Some(sale)) = (prior, current) else {
                continue;
            };
            let delta = deltas.entry(sale.nft).or_default().at(block);
            TokenTotals::add_sale(&mut delta.totals, sale.payment_token, sale.price);
            let bucket = buckets
                .entry((sale.nft, SaleBucket::hour_of(sale.timestamp)))
                .or_insert_with(|| BucketDelta {
                    totals: Vec::new(),
                    first_block: block,
                });
            bucket.first_block = bucket.first_block.min(block);
            TokenTotals::add_sale(&mut bucket.totals, sale.payment_token, sale.price);
        }
        holdings.retain(|_, (change, _)| *change != 0);
        if deltas.is_empty() {
            return Ok(());
        }

        let db = store.database();
        let stats_ids = deltas
            .keys()
            .map(|c| CollectionStats::id_for(chain_id, c))
            .collect();
        by_ids(db, session, &mut self.collection_stats, stats_ids).await?;
        let holding_ids = holdings
            .keys()
            .map(|(c, o)| Holding::id_for(chain_id, c, o))
            .collect();
        by_ids(db, session, &mut self.holdings, holding_ids).await?;
        let bucket_ids = buckets
            .keys()
            .map(|(c, hour)| SaleBucket::id_for(chain_id, c, *hour))
            .collect();
        by_ids(db, session, &mut self.sale_buckets, bucket_ids).await?;

        // Owners gained or lost per collection: holdings that start or end.
        let mut owners: BTreeMap<Address, i64> = BTreeMap::new();
        for ((contract, owner), (change, block)) in holdings {
            let id = Holding::id_for(chain_id, &contract, &owner);
            let before = self.holdings.get(&id).map_or(0, |h| h.count);
            let after = before + change;
            if after <= 0 {
                self.holdings.remove(&id, block);
            } else if before == 0 {
                self.holdings.put(
                    Holding {
                        id,
                        chain_id: chain_id as i64,
                        contract,
                        owner,
                        count: after,
                    },
                    block,
                );
            } else {
                self.holdings.update(&id, block, |h| h.count = after);
            }
            *owners.entry(contract).or_default() += i64::from(after > 0) - i64::from(before > 0);
        }
        for (contract, delta) in deltas {
            let Some((first, last)) = delta.blocks else {
                continue;
            };
            let id = CollectionStats::id_for(chain_id, &contract);
            if self.collection_stats.get(&id).is_none() {
                self.collection_stats
                    .put(CollectionStats::empty(chain_id, contract), first);
            }
            let owners = owners.get(&contract).copied().unwrap_or_default();
            self.collection_stats.update(&id, first, |s| {
                s.supply += delta.supply;
                s.owners += owners;
                s.listed += delta.listed;
                s.on_auction += delta.on_auction;
                for t in &delta.totals {
                    TokenTotals::merge(&mut s.totals, t);
                }
                s.updated_block = s.updated_block.max(last as i64);
            });
        }
        for ((contract, hour), delta) in buckets {
            let id = SaleBucket::id_for(chain_id, &contract, hour);
            if self.sale_buckets.get(&id).is_none() {
                self.sale_buckets.put(
                    SaleBucket::empty(chain_id, contract, hour),
                    delta.first_block,
                );
            }
            self.sale_buckets.update(&id, delta.first_block, |b| {
                for t in &delta.totals {
                    TokenTotals::merge(&mut b.totals, t);
                }
            });
        }
        Ok(())
    }
}
