//! Governance: proposals, votes, delegations and voting power.
//!
//! Collections `proposals` (`_id` = `{chainId}:{governor}:{proposalId}`; shard key
//! `{ chainId: 1, governor: 1, proposalId: 1 }`), `votes` (`_id` =
//! `{chainId}:{governor}:{proposalId}:{voter}`; shard key `{ proposal: 1 }`, votes are read per
//! proposal) and `delegates` (`_id` = `{chainId}:{token}:{account}`; shard key
//! `{ chainId: 1, token: 1, account: 1 }`).

use super::{
    Page, Projection, clear_chain, collect, create_indexes, find_by_id, index, page_size,
    replace_by_id,
};
use crate::{codec, error::Result};
use alloy::primitives::{Address, B256, U256};
use bson::doc;
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

/// OpenZeppelin Governor's proposal states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalState {
    /// Waiting for the voting delay.
    Pending,
    /// Voting.
    Active,
    /// Cancelled.
    Canceled,
    /// Lost or missed quorum.
    Defeated,
    /// Passed, not queued yet.
    Succeeded,
    /// Queued in the timelock.
    Queued,
    /// Queued too long.
    Expired,
    /// Executed.
    Executed,
}

impl ProposalState {
    /// From the Governor's `state()` number.
    pub fn from_index(index: u8) -> Option<Self> {
        Some(match index {
            0 => Self::Pending,
            1 => Self::Active,
            2 => Self::Canceled,
            3 => Self::Defeated,
            4 => Self::Succeeded,
            5 => Self::Queued,
            6 => Self::Expired,
            7 => Self::Executed,
            _ => return None,
        })
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Canceled => "canceled",
            Self::Defeated => "defeated",
            Self::Succeeded => "succeeded",
            Self::Queued => "queued",
            Self::Expired => "expired",
            Self::Executed => "executed",
        }
    }
}

/// One proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// `{chainId}:{governor}:{proposalId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Governor contract.
    #[serde(with = "codec::address")]
    pub governor: Address,
    /// Proposal id.
    #[serde(with = "codec::u256")]
    pub proposal_id: U256,
    /// Proposer.
    #[serde(with = "codec::address")]
    pub proposer: Address,
    /// Call targets.
    pub targets: Vec<String>,
    /// Call values.
    #[serde(with = "codec::vec_u256")]
    pub values: Vec<U256>,
    /// Call data, hex.
    pub calldatas: Vec<String>,
    /// Description.
    pub description: String,
    /// Voting starts (clock value, seconds).
    pub vote_start: i64,
    /// Voting ends.
    pub vote_end: i64,
    /// Lifecycle state as last known.
    pub state: ProposalState,
    /// Votes for.
    #[serde(with = "codec::u256")]
    pub for_votes: U256,
    /// Votes against.
    #[serde(with = "codec::u256")]
    pub against_votes: U256,
    /// Abstentions.
    #[serde(with = "codec::u256")]
    pub abstain_votes: U256,
    /// Quorum at the snapshot.
    #[serde(with = "codec::u256")]
    pub quorum: U256,
    /// Timelock eta once queued (seconds).
    pub eta: Option<i64>,
    /// Block it was created in.
    pub created_block: i64,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Proposal {
    /// The state at time `now` (seconds, the governor's clock), as OpenZeppelin's Governor
    /// computes it: terminal states stay; otherwise pending until the snapshot, active until the
    /// deadline, then succeeded if quorum (for + abstain) is reached and for beats against.
    pub fn state_at(&self, now: i64) -> ProposalState {
        match self.state {
            ProposalState::Canceled
            | ProposalState::Executed
            | ProposalState::Queued
            | ProposalState::Expired => self.state,
            _ if self.vote_start >= now => ProposalState::Pending,
            _ if self.vote_end >= now => ProposalState::Active,
            _ => {
                let quorum_reached =
                    self.quorum <= self.for_votes.saturating_add(self.abstain_votes);
                if quorum_reached && self.for_votes > self.against_votes {
                    ProposalState::Succeeded
                } else {
                    ProposalState::Defeated
                }
            }
        }
    }

    /// The id of a proposal.
    pub fn id_for(chain_id: u64, governor: &Address, proposal_id: &U256) -> String {
        format!("{chain_id}:{}:{proposal_id}", codec::address_key(governor))
    }
}

/// Proposals.
#[derive(Debug, Clone)]
pub struct ProposalRepository {
    collection: Collection<Proposal>,
}

impl ProposalRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Proposal::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "by_created",
                    doc! { "chainId": 1, "createdBlock": -1, "_id": -1 },
                    false,
                ),
                index(
                    "by_state",
                    doc! { "chainId": 1, "state": 1, "voteEnd": 1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// Stores the proposal as given.
    pub async fn upsert(
        &self,
        proposal: &Proposal,
        session: Option<&mut ClientSession>,
    ) -> Result<()> {
        replace_by_id(&self.collection, proposal, session).await
    }

    /// One proposal.
    pub async fn get(
        &self,
        chain_id: u64,
        governor: &Address,
        proposal_id: &U256,
    ) -> Result<Option<Proposal>> {
        find_by_id(
            &self.collection,
            &Proposal::id_for(chain_id, governor, proposal_id),
        )
        .await
    }

    /// Proposals newest first, optionally in one state.
    pub async fn list(
        &self,
        chain_id: u64,
        state: Option<ProposalState>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Proposal>> {
        let mut filter = doc! { "chainId": chain_id as i64 };
        if let Some(state) = state {
            filter.insert("state", state.as_str());
        }
        super::keyset_page(
            &self.collection,
            filter,
            "createdBlock",
            false,
            cursor,
            limit,
            |p| (p.created_block, &p.id),
        )
        .await
    }

    /// Deletes proposals of `chain_id` (before a rebuild).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}

/// One vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    /// `{proposal}:{voter}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// The proposal's id (`Proposal::id`).
    pub proposal: String,
    /// Voter.
    #[serde(with = "codec::address")]
    pub voter: Address,
    /// 0 against, 1 for, 2 abstain.
    pub support: i32,
    /// Voting weight.
    #[serde(with = "codec::u256")]
    pub weight: U256,
    /// Reason given.
    pub reason: String,
    /// Block number.
    pub block_number: i64,
    /// Transaction.
    #[serde(with = "codec::b256")]
    pub tx_hash: B256,
}

impl Vote {
    /// The id of a vote.
    pub fn id_for(proposal: &str, voter: &Address) -> String {
        format!("{proposal}:{}", codec::address_key(voter))
    }
}

/// Votes.
#[derive(Debug, Clone)]
pub struct VoteRepository {
    collection: Collection<Vote>,
}

impl VoteRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Vote::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![
                index(
                    "by_proposal",
                    doc! { "proposal": 1, "blockNumber": 1 },
                    false,
                ),
                index(
                    "by_voter",
                    doc! { "chainId": 1, "voter": 1, "blockNumber": -1 },
                    false,
                ),
            ],
        )
        .await
    }

    /// Records a vote (a voter votes once per proposal).
    pub async fn record(&self, vote: &Vote, session: Option<&mut ClientSession>) -> Result<()> {
        replace_by_id(&self.collection, vote, session).await
    }

    /// Votes on one proposal, in order.
    pub async fn for_proposal(&self, proposal: &str) -> Result<Vec<Vote>> {
        collect(
            self.collection
                .find(doc! { "proposal": proposal })
                .sort(doc! { "blockNumber": 1, "_id": 1 })
                .await?,
        )
        .await
    }

    /// Votes cast by `voter`, newest first.
    pub async fn by_voter(&self, chain_id: u64, voter: &Address) -> Result<Vec<Vote>> {
        collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64, "voter": codec::address_key(voter) })
                .sort(doc! { "blockNumber": -1 })
                .await?,
        )
        .await
    }

    /// Deletes votes of `chain_id` (before a rebuild).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}

/// An account's delegation and voting power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    /// `{chainId}:{token}:{account}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Chain id.
    pub chain_id: i64,
    /// Votes token.
    #[serde(with = "codec::address")]
    pub token: Address,
    /// The account.
    #[serde(with = "codec::address")]
    pub account: Address,
    /// Whom it delegates to.
    #[serde(with = "codec::option_address")]
    pub delegate: Option<Address>,
    /// Voting power delegated to it.
    #[serde(with = "codec::u256")]
    pub votes: U256,
    /// Last block that changed it.
    pub updated_block: i64,
}

impl Delegate {
    /// The id of an account's record.
    pub fn id_for(chain_id: u64, token: &Address, account: &Address) -> String {
        format!(
            "{chain_id}:{}:{}",
            codec::address_key(token),
            codec::address_key(account)
        )
    }
}

/// Delegations and voting power.
#[derive(Debug, Clone)]
pub struct DelegateRepository {
    collection: Collection<Delegate>,
}

impl DelegateRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            collection: db.collection(Delegate::COLLECTION),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.collection,
            vec![index(
                "by_power",
                doc! { "chainId": 1, "token": 1, "votes": -1 },
                false,
            )],
        )
        .await
    }

    /// Stores the record as given.
    pub async fn upsert(
        &self,
        delegate: &Delegate,
        session: Option<&mut ClientSession>,
    ) -> Result<()> {
        replace_by_id(&self.collection, delegate, session).await
    }

    /// One account's record.
    pub async fn get(
        &self,
        chain_id: u64,
        token: &Address,
        account: &Address,
    ) -> Result<Option<Delegate>> {
        find_by_id(
            &self.collection,
            &Delegate::id_for(chain_id, token, account),
        )
        .await
    }

    /// Accounts with the most voting power.
    pub async fn top(&self, chain_id: u64, token: &Address, limit: u32) -> Result<Vec<Delegate>> {
        let limit = page_size(limit);
        collect(
            self.collection
                .find(doc! { "chainId": chain_id as i64, "token": codec::address_key(token) })
                .sort(doc! { "votes": -1 })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Deletes records of `chain_id` (before a rebuild).
    pub async fn clear(&self, chain_id: u64, session: Option<&mut ClientSession>) -> Result<()> {
        clear_chain(&self.collection, chain_id, session).await?;
        Ok(())
    }
}
