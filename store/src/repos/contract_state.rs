//! Per-contract state the indexer derives from events: marketplace settings (fee, treasury,
//! auction config, payment tokens), the governance token's total supply, the governor's quorum
//! numerator, the NFT collection's default royalty and mint count.
//!
//! Collection `contract_state`: `_id` = `{chainId}:{contract}`; shard key `{ _id: "hashed" }`
//! (read by id).

use super::{Projection, collect, create_indexes, index};
use crate::{codec, error::Result};
use alloy::primitives::Address;
use bson::{Document, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

/// State of one contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractState {
    /// `{chainId}:{contract}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The contract.
    #[serde(with = "codec::address")]
    pub contract: Address,
    /// What it is (`marketplace`, `token`, `governor`, `nft`).
    pub kind: String,
    /// Its fields, in the codec's forms.
    pub fields: Document,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl ContractState {
    /// The id of a contract's state.
    pub fn id_for(chain_id: u64, contract: &Address) -> String {
        format!("{chain_id}:{}", codec::address_key(contract))
    }
}

/// Contract state.
#[derive(Debug, Clone)]
pub struct ContractStateRepository {
    collection: Collection<ContractState>,
}

impl ContractStateRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(ContractState::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index("chain_kind", doc! { "chainId": 1, "kind": 1 }, false)],
        )
        .await
    }

    /// One contract's state.
    pub async fn get(&self, chain_id: u64, contract: &Address) -> Result<Option<ContractState>> {
        Ok(self
            .collection
            .find_one(doc! { "_id": ContractState::id_for(chain_id, contract) })
            .await?)
    }

    /// Every contract's state on a chain.
    pub async fn list(&self, chain_id: u64) -> Result<Vec<ContractState>> {
        collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64 })
                .await?,
        )
        .await
    }
}
