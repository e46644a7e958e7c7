//! Offers: a buyer's ERC-20 bid for one token.
//!
//! Collection `offers`: `_id` = `{chainId}:{marketplace}:{offerId}`; shard key
//! `{ chainId: 1, nft: 1, tokenId: 1 }` (offers of a token; by-buyer pages use their own index).

use super::{
    Projection, clear_chain, collect, create_indexes, find_by_id, index, partial_index,
    replace_by_id,
};
use crate::{codec, error::Result};
use alloy::primitives::{Address, U256};
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    /// May be accepted.
    Open,
    /// Accepted by the owner.
    Accepted,
    /// Cancelled by the buyer.
    Cancelled,
    /// Past its expiry.
    Expired,
}

impl OfferStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

/// One offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// `{chainId}:{marketplace}:{offerId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Marketplace contract.
    #[serde(with = "codec::address")]
    pub marketplace: Address,
    /// Offer id on chain.
    #[serde(with = "codec::u256")]
    pub offer_id: U256,
    /// Buyer.
    #[serde(with = "codec::address")]
    pub buyer: Address,
    /// NFT contract.
    #[serde(with = "codec::address")]
    pub nft: Address,
    /// Token id.
    #[serde(with = "codec::u256")]
    pub token_id: U256,
    /// ERC-20 payment token.
    #[serde(with = "codec::address")]
    pub payment_token: Address,
    /// Amount offered.
    #[serde(with = "codec::u256")]
    pub amount: U256,
    /// Expiry, seconds.
    pub expires_at: i64,
    /// Status.
    pub status: OfferStatus,
    /// Seller once accepted.
    #[serde(with = "codec::option_address")]
    pub accepted_by: Option<Address>,
    /// Block it was created in.
    pub created_block: i64,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Offer {
    /// The id of an offer.
    pub fn id_for(chain_id: u64, marketplace: &Address, offer_id: &U256) -> String {
        format!("{chain_id}:{}:{offer_id}", codec::address_key(marketplace))
    }
}

/// Offers.
#[derive(Debug, Clone)]
pub struct OfferRepository {
    collection: Collection<Offer>,
}

impl OfferRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Offer::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "by_token",
                    doc! { "chainId": 1, "nft": 1, "tokenId": 1, "status": 1, "amount": -1 },
                    false,
                ),
                index(
                    "by_buyer",
                    doc! { "chainId": 1, "buyer": 1, "status": 1 },
                    false,
                ),
                index(
                    "collection_open_recent",
                    doc! { "chainId": 1, "nft": 1, "status": 1, "createdBlock": -1, "_id": -1 },
                    false,
                ),
                // The indexer's per-batch "which open offers expire now" query; only offers
                // with an expiry are in it (most have none, and would fill its scanned range).
                partial_index(
                    "expiry",
                    doc! { "chainId": 1, "status": 1, "expiresAt": 1 },
                    doc! { "expiresAt": { "$gt": 0_i64 } },
                ),
            ],
        )
        .await
    }

    /// Stores the offer as given.
    pub async fn upsert(&self, offer: &Offer, session: Option<&mut ClientSession>) -> Result<()> {
        replace_by_id(&self.collection, offer, session).await
    }

    /// One offer.
    pub async fn get(
        &self,
        chain_id: u64,
        marketplace: &Address,
        offer_id: &U256,
    ) -> Result<Option<Offer>> {
        find_by_id(
            &self.collection,
            &Offer::id_for(chain_id, marketplace, offer_id),
        )
        .await
    }

    /// Offers on one token, highest first; `status` narrows them.
    pub async fn for_token(
        &self,
        chain_id: u64,
        nft: &Address,
        token_id: &U256,
        status: Option<OfferStatus>,
    ) -> Result<Vec<Offer>> {
        let mut filter = doc! { "chainId": chain_id as i64, "nft": codec::address_key(nft), "tokenId": codec::u256_key(token_id) };
        if let Some(status) = status {
            filter.insert("status", status.as_str());
        }
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "amount": -1, "_id": 1 })
                .await?,
        )
        .await
    }

    /// Open offers on any of `tokens` (contract, token id), highest first.
    pub async fn open_for_tokens(
        &self,
        chain_id: u64,
        tokens: &[(Address, U256)],
    ) -> Result<Vec<Offer>> {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = tokens.iter().map(|(_, t)| codec::u256_key(t)).collect();
        let mut contracts: Vec<String> =
            tokens.iter().map(|(c, _)| codec::address_key(c)).collect();
        contracts.sort();
        contracts.dedup();
        let found: Vec<Offer> = collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64, "nft": { "$in": contracts }, "tokenId": { "$in": ids }, "status": OfferStatus::Open.as_str() })
                .sort(doc! { "amount": -1 })
                .await?,
        )
        .await?;
        Ok(found
            .into_iter()
            .filter(|o| tokens.contains(&(o.nft, o.token_id)))
            .collect())
    }

    /// Offers made by `buyer`, newest first.
    pub async fn by_buyer(
        &self,
        chain_id: u64,
        buyer: &Address,
        status: Option<OfferStatus>,
    ) -> Result<Vec<Offer>> {
        let mut filter = doc! { "chainId": chain_id as i64, "buyer": codec::address_key(buyer) };
        if let Some(status) = status {
            filter.insert("status", status.as_str());
        }
        collect(
            self.collection
                .find(filter)
                .sort(doc! { "createdBlock": -1, "_id": -1 })
                .await?,
        )
        .await
    }

    /// Open offers on NFTs of `nft`, newest first.
    pub async fn open_in_collection(
        &self,
        chain_id: u64,
        nft: &Address,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<super::Page<Offer>> {
        let filter = doc! {
            "chainId": chain_id as i64,
            "nft": codec::address_key(nft),
            "status": OfferStatus::Open.as_str(),
        };
        super::keyset_page(
            &self.collection,
            filter,
            "createdBlock",
            false,
            cursor,
            limit,
            |o| (o.created_block, &o.id),
        )
        .await
    }

    /// Deletes offers of `chain_id` (before a rebuild from raw events).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}
