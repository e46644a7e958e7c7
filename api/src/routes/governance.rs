//! DAO reads: proposals (state, tallies, quorum progress, eta, decoded actions), votes,
//! delegates and voting power.

use super::{PageDto, cached, chain_now};
use crate::{
    error::ApiError,
    extract::{ApiPath, ApiQuery, limit, one_of, parse_address, parse_u256},
    state::AppState,
};
use alloy::{
    dyn_abi::JsonAbiExt,
    primitives::{Address, Bytes},
};
use axum::{
    extract::{OriginalUri, State},
    http::HeaderMap,
    response::Response,
};
use nest_store::{Delegate, Proposal, ProposalState, Vote};
use serde::{Deserialize, Serialize};

/// One call a proposal makes, decoded with the Nest ABIs when it targets a Nest contract.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionDto {
    /// Target contract.
    pub target: String,
    /// ETH sent.
    pub value: String,
    /// Raw calldata.
    pub calldata: String,
    /// `setFeeBps(uint16)` style signature, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Decoded arguments, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
}

/// A proposal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalDto {
    /// Proposal id.
    pub id: String,
    /// Proposer.
    pub proposer: String,
    /// Description.
    pub description: String,
    /// pending, active, canceled, defeated, succeeded, queued, expired, executed (now).
    pub state: String,
    /// Voting starts (unix seconds).
    pub vote_start: i64,
    /// Voting ends.
    pub vote_end: i64,
    /// For.
    pub for_votes: String,
    /// Against.
    pub against_votes: String,
    /// Abstain.
    pub abstain_votes: String,
    /// Votes needed (for + abstain).
    pub quorum: String,
    /// Quorum reached, percent (may exceed 100).
    pub quorum_progress_percent: f64,
    /// Executable from (unix seconds) once queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<i64>,
    /// The calls it makes.
    pub actions: Vec<ActionDto>,
}

fn decode_action(target: &str, value: String, calldata: &str) -> ActionDto {
    let bytes: Option<Bytes> = calldata.parse().ok();
    let decoded = bytes.as_ref().filter(|b| b.len() >= 4).and_then(|b| {
        nest_abis::ARTIFACT_NAMES.iter().find_map(|name| {
            let abi = nest_abis::artifact(name).ok()?.abi;
            let f = abi
                .functions()
                .find(|f| f.selector().as_slice() == &b[..4])?
                .clone();
            let values = f.abi_decode_input(&b[4..]).ok()?;
            Some((
                f.signature(),
                values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>(),
            ))
        })
    });
    ActionDto {
        target: target
            .parse::<Address>()
            .map(|a| a.to_checksum(None))
            .unwrap_or_else(|_| target.to_string()),
        value,
        calldata: calldata.to_string(),
        function: decoded.as_ref().map(|d| d.0.clone()),
        args: decoded.map(|d| d.1),
    }
}

impl ProposalDto {
    /// The proposal as of `now` (the chain's clock).
    pub(crate) fn at(p: &Proposal, now: i64) -> Self {
        let support = p.for_votes.saturating_add(p.abstain_votes);
        let progress = if p.quorum.is_zero() {
            100.0
        } else {
            let s: f64 = support.to_string().parse().unwrap_or(0.0);
            let q: f64 = p.quorum.to_string().parse().unwrap_or(1.0);
            (s / q * 10_000.0).round() / 100.0
        };
        Self {
            id: p.proposal_id.to_string(),
            proposer: p.proposer.to_checksum(None),
            description: p.description.clone(),
            state: p.state_at(now).as_str().into(),
            vote_start: p.vote_start,
            vote_end: p.vote_end,
            for_votes: p.for_votes.to_string(),
            against_votes: p.against_votes.to_string(),
            abstain_votes: p.abstain_votes.to_string(),
            quorum: p.quorum.to_string(),
            quorum_progress_percent: progress,
            eta: p.eta,
            actions: p
                .targets
                .iter()
                .zip(p.values.iter())
                .zip(p.calldatas.iter())
                .map(|((t, v), c)| decode_action(t, v.to_string(), c))
                .collect(),
        }
    }
}

/// A vote.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoteDto {
    /// Proposal id.
    pub proposal_id: String,
    /// Voter.
    pub voter: String,
    /// against, for, abstain.
    pub support: String,
    /// Weight.
    pub weight: String,
    /// Reason given.
    pub reason: String,
    /// Block.
    pub block_number: i64,
}

impl From<&Vote> for VoteDto {
    fn from(v: &Vote) -> Self {
        Self {
            proposal_id: v
                .proposal
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            voter: v.voter.to_checksum(None),
            support: ["against", "for", "abstain"]
                .get(v.support as usize)
                .copied()
                .unwrap_or("unknown")
                .into(),
            weight: v.weight.to_string(),
            reason: v.reason.clone(),
            block_number: v.block_number,
        }
    }
}

/// A proposal with its votes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalDetailDto {
    /// The proposal.
    #[serde(flatten)]
    pub proposal: ProposalDto,
    /// Votes in order.
    pub votes: Vec<VoteDto>,
}

/// Proposal filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProposalParams {
    /// Stored lifecycle state.
    #[param(pattern = "^(pending|active|canceled|defeated|succeeded|queued|expired|executed)$")]
    pub state: Option<String>,
    /// Cursor.
    pub cursor: Option<String>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

const STATES: [(&str, ProposalState); 8] = [
    ("pending", ProposalState::Pending),
    ("active", ProposalState::Active),
    ("canceled", ProposalState::Canceled),
    ("defeated", ProposalState::Defeated),
    ("succeeded", ProposalState::Succeeded),
    ("queued", ProposalState::Queued),
    ("expired", ProposalState::Expired),
    ("executed", ProposalState::Executed),
];

/// `GET /v1/proposals`
#[utoipa::path(get, path = "/v1/proposals", tag = "governance", params(ProposalParams),
    responses((status = 200, body = PageDto<ProposalDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn proposals(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<ProposalParams>,
) -> Result<Response, ApiError> {
    let filter = p
        .state
        .as_deref()
        .map(|s| one_of("state", s, &STATES))
        .transpose()?;
    let limit = limit(p.limit)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    let state_for_clock = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["proposals".into()],
        async move {
            let page = store
                .proposals()
                .list(chain, filter, p.cursor.as_deref(), limit)
                .await?;
            let now = chain_now(&state_for_clock).await?;
            Ok(PageDto {
                items: page
                    .items
                    .iter()
                    .map(|x| ProposalDto::at(x, now))
                    .collect::<Vec<_>>(),
                next_cursor: page.next_cursor,
            })
        },
    )
    .await
}

/// `GET /v1/proposals/{id}`
#[utoipa::path(get, path = "/v1/proposals/{id}", tag = "governance", params(("id" = String, Path, description = "Proposal id (decimal)", pattern = "^[0-9]{1,78}$")),
    responses((status = 200, body = ProposalDetailDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn proposal(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = parse_u256("id", &id)?;
    let (chain, governor) = (
        state.inner.config.chain_id,
        state.inner.config.addresses.governor,
    );
    let doc_id = Proposal::id_for(chain, &governor, &id);
    let store = state.inner.store.clone();
    let state_for_clock = state.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec![format!("proposals:{doc_id}"), "votes".into()],
        async move {
            let proposal = store
                .proposals()
                .get(chain, &governor, &id)
                .await?
                .ok_or_else(|| ApiError::not_found("proposal", id))?;
            let votes = store.votes().for_proposal(&doc_id).await?;
            let now = chain_now(&state_for_clock).await?;
            Ok(ProposalDetailDto {
                proposal: ProposalDto::at(&proposal, now),
                votes: votes.iter().map(VoteDto::from).collect(),
            })
        },
    )
    .await
}

/// Votes of a voter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoteParams {
    /// Voter address.
    #[param(pattern = "^0x[0-9a-fA-F]{40}$")]
    pub voter: String,
}

/// `GET /v1/votes?voter=`
#[utoipa::path(get, path = "/v1/votes", tag = "governance", params(VoteParams),
    responses((status = 200, body = Vec<VoteDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn votes(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<VoteParams>,
) -> Result<Response, ApiError> {
    let voter = parse_address("voter", &p.voter)?;
    let chain = state.inner.config.chain_id;
    let store = state.inner.store.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["votes".into()],
        async move {
            Ok(store
                .votes()
                .by_voter(chain, &voter)
                .await?
                .iter()
                .map(VoteDto::from)
                .collect::<Vec<_>>())
        },
    )
    .await
}

/// Voting power.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegateDto {
    /// Account.
    pub account: String,
    /// Whom it delegates to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegate: Option<String>,
    /// Votes delegated to it.
    pub votes: String,
}

impl From<&Delegate> for DelegateDto {
    fn from(d: &Delegate) -> Self {
        Self {
            account: d.account.to_checksum(None),
            delegate: d.delegate.map(|a| a.to_checksum(None)),
            votes: d.votes.to_string(),
        }
    }
}

/// Delegates list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegateParams {
    /// How many, 1..=100.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /v1/delegates` (most voting power first)
#[utoipa::path(get, path = "/v1/delegates", tag = "governance", params(DelegateParams),
    responses((status = 200, body = Vec<DelegateDto>), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn delegates(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<DelegateParams>,
) -> Result<Response, ApiError> {
    let limit = limit(p.limit)?;
    let (chain, token) = (
        state.inner.config.chain_id,
        state.inner.config.addresses.token,
    );
    let store = state.inner.store.clone();
    cached(
        &state,
        &headers,
        uri.to_string(),
        vec!["delegates".into()],
        async move {
            Ok(store
                .delegates()
                .top(chain, &token, limit)
                .await?
                .iter()
                .map(DelegateDto::from)
                .collect::<Vec<_>>())
        },
    )
    .await
}

/// `GET /v1/delegates/{address}`
#[utoipa::path(get, path = "/v1/delegates/{address}", tag = "governance", params(("address" = String, Path, description = "Account", pattern = "^0x[0-9a-fA-F]{40}$")),
    responses((status = 200, body = DelegateDto), (status = 304, response = crate::openapi::NotModified), (status = 400, response = crate::openapi::BadRequest), (status = 404, response = crate::openapi::NotFound), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn delegate(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    ApiPath(address): ApiPath<String>,
) -> Result<Response, ApiError> {
    let account = parse_address("address", &address)?;
    let (chain, token) = (
        state.inner.config.chain_id,
        state.inner.config.addresses.token,
    );
    let store = state.inner.store.clone();
    let tag = format!("delegates:{}", Delegate::id_for(chain, &token, &account));
    cached(&state, &headers, uri.to_string(), vec![tag], async move {
        let d = store
            .delegates()
            .get(chain, &token, &account)
            .await?
            .ok_or_else(|| ApiError::not_found("delegate", account))?;
        Ok(DelegateDto::from(&d))
    })
    .await
}
