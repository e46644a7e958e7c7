//! What a client posts to the relayer, parsed strictly, and the EIP-712 messages it signs.
//!
//! Three kinds share `POST /v1/relay`, chosen by `kind` (default `forward`):
//!
//! - `forward`: an ERC-2771 `ForwardRequest` for Nest's forwarder, sent as `Forwarder.execute`.
//! - `vote`: a governor ballot (`castVoteBySig`, or `castVoteWithReasonAndParamsBySig` when it
//!   carries a reason), sent to the governor directly.
//! - `delegate`: a token delegation (`delegateBySig`), sent to the token directly.
//!
//! Numbers may be JSON numbers, decimal strings or `0x` hex strings; byte strings are `0x` hex.
//! Unknown fields are refused, so a misspelt field is an error rather than a silent default.

use crate::error::{RelayerError, Result};
use alloy::{
    primitives::{Address, B256, Bytes, Signature, U256, Uint},
    sol_types::{Eip712Domain, SolCall, SolStruct},
};
use nest_abis::{NestForwarder, NestGovernor, NestToken};
use nest_store::RelayJobKind;
use serde::{Deserialize, Deserializer};

/// The EIP-712 structs users sign, exactly as the contracts hash them.
pub mod typed {
    alloy::sol! {
        /// OpenZeppelin `ERC2771Forwarder`'s request (the nonce is the forwarder's for `from`).
        #[derive(Debug, PartialEq, Eq)]
        struct ForwardRequest {
            address from;
            address to;
            uint256 value;
            uint256 gas;
            uint256 nonce;
            uint48 deadline;
            bytes data;
        }

        /// OpenZeppelin `Governor`'s ballot for `castVoteBySig`.
        #[derive(Debug, PartialEq, Eq)]
        struct Ballot {
            uint256 proposalId;
            uint8 support;
            address voter;
            uint256 nonce;
        }

        /// OpenZeppelin `Governor`'s ballot with a reason, for
        /// `castVoteWithReasonAndParamsBySig` (Nest sends no params: they stay empty).
        #[derive(Debug, PartialEq, Eq)]
        struct ExtendedBallot {
            uint256 proposalId;
            uint8 support;
            address voter;
            uint256 nonce;
            string reason;
            bytes params;
        }

        /// OpenZeppelin `Votes`' delegation for `delegateBySig`.
        #[derive(Debug, PartialEq, Eq)]
        struct Delegation {
            address delegatee;
            uint256 nonce;
            uint256 expiry;
        }
    }
}

/// A 256-bit number from a JSON number, a decimal string or a `0x` hex string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quantity(pub U256);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(|v| Quantity(U256::from(v)))
                .ok_or_else(|| D::Error::custom("a number must be a non-negative integer below 2^64 (use a string for larger values)")),
            serde_json::Value::String(s) => {
                let parsed = match s.strip_prefix("0x") {
                    Some(hex) => U256::from_str_radix(hex, 16),
                    None => U256::from_str_radix(&s, 10),
                };
                parsed
                    .map(Quantity)
                    .map_err(|_| D::Error::custom(format!("{s:?} is not a decimal or 0x-hex integer")))
            }
            other => Err(D::Error::custom(format!(
                "expected an integer (number or string), got {other}"
            ))),
        }
    }
}

/// Documented as an integer, a decimal string or a `0x` hex string.
impl utoipa::PartialSchema for Quantity {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^([0-9]{1,78}|0x[0-9a-fA-F]{1,64})$")),
            )
            .description(Some(
                "An integer: a JSON number below 2^64, a decimal string or a 0x hex string",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Quantity {}

/// The body of `POST /v1/relay`, by `kind` (`forward` when absent). Only describes the body for
/// the OpenAPI document: [`RelayRequest::parse`] reads it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RelayRequestSchema {
    /// An ERC-2771 forward request signed for the forwarder.
    Forward(ForwardBody),
    /// A governor ballot (`castVoteBySig`).
    Vote(VoteBody),
    /// A token delegation (`delegateBySig`).
    Delegate(DelegateBody),
}

/// The body of a `forward` request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForwardBody {
    #[serde(default)]
    /// The kind of request: `forward` (the default when absent).
    #[schema(pattern = "^forward$")]
    pub kind: Option<String>,
    /// The signer, on whose behalf the call runs.
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub from: Address,
    /// The target contract.
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub to: Address,
    #[serde(default)]
    /// ETH sent along; the relayer only sponsors 0.
    pub value: Quantity,
    /// Gas the call may use.
    pub gas: Quantity,
    /// The forwarder's nonce of `from`.
    pub nonce: Quantity,
    /// Deadline, unix seconds (uint48).
    pub deadline: Quantity,
    /// Call data for `to`.
    #[schema(value_type = String, pattern = "^0x([0-9a-fA-F]{2})*$")]
    pub data: Bytes,
    /// EIP-712 signature (65 bytes, r ‖ s ‖ v).
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{130}$")]
    pub signature: Bytes,
    #[serde(default)]
    /// The chain id signed for (checked against the relayer's).
    pub chain_id: Option<u64>,
}

/// The body of a `vote` request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoteBody {
    /// The kind of request: `vote`.
    #[schema(pattern = "^vote$")]
    pub kind: String,
    /// The voter.
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub voter: Address,
    /// The proposal.
    pub proposal_id: Quantity,
    /// 0 against, 1 for, 2 abstain.
    #[schema(maximum = 2)]
    pub support: u8,
    /// The governor's nonce of the voter.
    pub nonce: Quantity,
    /// EIP-712 signature of the ballot (an `ExtendedBallot` with empty params when a reason
    /// is given).
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{130}$")]
    pub signature: Bytes,
    #[serde(default)]
    /// The voter's reason, stored on chain in the `VoteCast` event (at most 1,000 bytes).
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
    #[serde(default)]
    /// Optional deadline, unix seconds (the proposal's own applies anyway).
    pub deadline: Option<Quantity>,
    #[serde(default)]
    /// The chain id signed for.
    pub chain_id: Option<u64>,
}

/// The body of a `delegate` request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegateBody {
    /// The kind of request: `delegate`.
    #[schema(pattern = "^delegate$")]
    pub kind: String,
    /// The delegator (who signed).
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub from: Address,
    /// Who receives the voting power.
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub delegatee: Address,
    /// The token's nonce of `from`.
    pub nonce: Quantity,
    /// Expiry, unix seconds.
    pub expiry: Quantity,
    /// EIP-712 signature of the delegation.
    #[schema(value_type = String, pattern = "^0x[0-9a-fA-F]{130}$")]
    pub signature: Bytes,
    #[serde(default)]
    /// The chain id signed for.
    pub chain_id: Option<u64>,
}

/// An ERC-2771 forward request and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRequest {
    /// The signer, on whose behalf the call runs.
    pub from: Address,
    /// The target contract.
    pub to: Address,
    /// ETH sent along (the relayer only sponsors 0).
    pub value: U256,
    /// Gas the call may use.
    pub gas: U256,
    /// The forwarder's nonce of `from`.
    pub nonce: U256,
    /// Deadline, unix seconds (uint48).
    pub deadline: u64,
    /// Call data for `to`.
    pub data: Bytes,
    /// 65-byte signature, `v` as 27/28.
    pub signature: Bytes,
}

/// A governor ballot signed by the voter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRequest {
    /// The voter.
    pub voter: Address,
    /// The proposal.
    pub proposal_id: U256,
    /// 0 against, 1 for, 2 abstain.
    pub support: u8,
    /// The governor's nonce of the voter.
    pub nonce: U256,
    /// 65-byte signature, `v` as 27/28.
    pub signature: Bytes,
    /// The voter's reason: the ballot is then an `ExtendedBallot`, sent with
    /// `castVoteWithReasonAndParamsBySig`.
    pub reason: Option<String>,
    /// Optional deadline requested by the client (the proposal's own deadline applies anyway).
    pub deadline: Option<u64>,
}

/// Longest vote reason the relayer pays to put on chain, in bytes.
pub const MAX_VOTE_REASON_BYTES: usize = 1_000;

/// A token delegation signed by the delegator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRequest {
    /// The delegator (who signed).
    pub from: Address,
    /// Who receives the voting power.
    pub delegatee: Address,
    /// The token's nonce of `from`.
    pub nonce: U256,
    /// Expiry, unix seconds.
    pub expiry: u64,
    /// The signature.
    pub signature: Signature,
}

/// A parsed relay request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayRequest {
    /// An ERC-2771 forward request.
    Forward(ForwardRequest),
    /// A `castVoteBySig` ballot.
    Vote(VoteRequest),
    /// A `delegateBySig` delegation.
    Delegate(DelegateRequest),
}

/// The contracts and EIP-712 domains a request is checked against.
#[derive(Debug, Clone)]
pub struct Domains {
    /// Chain id.
    pub chain_id: u64,
    /// The forwarder.
    pub forwarder: Address,
    /// The governor.
    pub governor: Address,
    /// The token.
    pub token: Address,
    /// The forwarder's EIP-712 domain ("NestForwarder", "1").
    pub forwarder_domain: Eip712Domain,
    /// The governor's EIP-712 domain.
    pub governor_domain: Eip712Domain,
    /// The token's EIP-712 domain.
    pub token_domain: Eip712Domain,
}

/// Chain ids a mis-targeted signature is most often made for, to tell "wrong chain" from "bad
/// signature" precisely.
const WELL_KNOWN_CHAINS: [u64; 12] = [
    1, 10, 56, 100, 137, 324, 8453, 42161, 43114, 84532, 11155111, 31337,
];

/// The largest uint48, 2^48 - 1 (the forwarder's deadline type).
pub const UINT48_MAX: u64 = (1 << 48) - 1;

fn malformed(e: impl std::fmt::Display) -> RelayerError {
    RelayerError::Malformed(e.to_string())
}

/// Parses a 65-byte `r ‖ s ‖ v` signature, refusing high-s ones (OpenZeppelin's ECDSA refuses
/// them on chain).
fn parse_signature(bytes: &[u8]) -> Result<Signature> {
    if bytes.len() != 65 {
        return Err(malformed(format!(
            "the signature must be 65 bytes (r, s, v), got {}",
            bytes.len()
        )));
    }
    let signature = Signature::from_raw(bytes)
        .map_err(|e| RelayerError::BadSignature(format!("unparseable signature: {e}")))?;
    if signature.normalize_s().is_some() {
        return Err(RelayerError::BadSignature(
            "the signature's s value is in the upper half of the curve order (EIP-2); sign again"
                .into(),
        ));
    }
    Ok(signature)
}

fn u64_field(name: &str, value: U256) -> Result<u64> {
    u64::try_from(value).map_err(|_| malformed(format!("{name} {value} is too large")))
}

impl RelayRequest {
    /// Parses a JSON body (`kind` defaults to `forward`) into the request and the chain id the
    /// client declared, if any (it is not part of what is signed; [`Self::verify_signature`]
    /// compares it with the relayer's).
    pub fn parse(body: &[u8]) -> Result<(Self, Option<u64>)> {
        let mut value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| malformed(format!("the body is not JSON: {e}")))?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| malformed("the body must be a JSON object"))?;
        let kind = match object.get("kind") {
            None => "forward".to_string(),
            Some(serde_json::Value::String(kind)) => kind.clone(),
            Some(other) => return Err(malformed(format!("kind must be a string, got {other}"))),
        };
        let request = match kind.as_str() {
            "forward" => {
                let body: ForwardBody = serde_json::from_value(value).map_err(malformed)?;
                let deadline = body.deadline.0;
                if deadline > U256::from(UINT48_MAX) {
                    return Err(malformed(format!(
                        "deadline {deadline} does not fit in uint48 (at most {UINT48_MAX})"
                    )));
                }
                let signature = parse_signature(&body.signature)?;
                let request = ForwardRequest {
                    from: body.from,
                    to: body.to,
                    value: body.value.0,
                    gas: body.gas.0,
                    nonce: body.nonce.0,
                    deadline: u64_field("deadline", deadline)?,
                    data: body.data,
                    signature: Bytes::copy_from_slice(&signature.as_bytes()),
                };
                (Self::Forward(request), body.chain_id)
            }
            "vote" => {
                let body: VoteBody = serde_json::from_value(value).map_err(malformed)?;
                if body.support > 2 {
                    return Err(malformed(format!(
                        "support must be 0 (against), 1 (for) or 2 (abstain), got {}",
                        body.support
                    )));
                }
                if let Some(reason) = &body.reason
                    && reason.len() > MAX_VOTE_REASON_BYTES
                {
                    return Err(malformed(format!(
                        "reason is {} bytes; at most {MAX_VOTE_REASON_BYTES} are put on chain",
                        reason.len()
                    )));
                }
                let signature = parse_signature(&body.signature)?;
                let deadline = body
                    .deadline
                    .map(|d| u64_field("deadline", d.0))
                    .transpose()?;
                let request = VoteRequest {
                    voter: body.voter,
                    proposal_id: body.proposal_id.0,
                    support: body.support,
                    nonce: body.nonce.0,
                    signature: Bytes::copy_from_slice(&signature.as_bytes()),
                    reason: body.reason,
                    deadline,
                };
                (Self::Vote(request), body.chain_id)
            }
            "delegate" => {
                let body: DelegateBody = serde_json::from_value(value).map_err(malformed)?;
                let request = DelegateRequest {
                    from: body.from,
                    delegatee: body.delegatee,
                    nonce: body.nonce.0,
                    expiry: u64_field("expiry", body.expiry.0)?,
                    signature: parse_signature(&body.signature)?,
                };
                (Self::Delegate(request), body.chain_id)
            }
            other => {
                return Err(malformed(format!(
                    "unknown kind {other:?}; use forward, vote or delegate"
                )));
            }
        };
        Ok(request)
    }

    /// What the job submits.
    pub fn kind(&self) -> RelayJobKind {
        match self {
            Self::Forward(_) => RelayJobKind::Forward,
            Self::Vote(_) => RelayJobKind::Vote,
            Self::Delegate(_) => RelayJobKind::Delegate,
        }
    }

    /// The account that signed and on whose behalf the call runs.
    pub fn from(&self) -> Address {
        match self {
            Self::Forward(r) => r.from,
            Self::Vote(r) => r.voter,
            Self::Delegate(r) => r.from,
        }
    }

    /// The request's nonce (in its nonce space).
    pub fn nonce(&self) -> U256 {
        match self {
            Self::Forward(r) => r.nonce,
            Self::Vote(r) => r.nonce,
            Self::Delegate(r) => r.nonce,
        }
    }

    /// The signature as a job stores it: `0x` hex of `r ‖ s ‖ v`.
    pub fn signature_hex(&self) -> String {
        match self {
            Self::Forward(r) => r.signature.to_string(),
            Self::Vote(r) => r.signature.to_string(),
            Self::Delegate(r) => Bytes::from(r.signature.as_bytes()).to_string(),
        }
    }

    /// The contract whose nonce the request uses.
    pub fn nonce_space(&self, domains: &Domains) -> Address {
        match self {
            Self::Forward(_) => domains.forwarder,
            Self::Vote(_) => domains.governor,
            Self::Delegate(_) => domains.token,
        }
    }

    /// The EIP-712 digest the signer signed, under `domain`.
    fn digest(&self, domain: &Eip712Domain) -> B256 {
        match self {
            Self::Forward(r) => typed::ForwardRequest {
                from: r.from,
                to: r.to,
                value: r.value,
                gas: r.gas,
                nonce: r.nonce,
                deadline: Uint::<48, 1>::from(r.deadline),
                data: r.data.clone(),
            }
            .eip712_signing_hash(domain),
            Self::Vote(r) => match &r.reason {
                None => typed::Ballot {
                    proposalId: r.proposal_id,
                    support: r.support,
                    voter: r.voter,
                    nonce: r.nonce,
                }
                .eip712_signing_hash(domain),
                Some(reason) => typed::ExtendedBallot {
                    proposalId: r.proposal_id,
                    support: r.support,
                    voter: r.voter,
                    nonce: r.nonce,
                    reason: reason.clone(),
                    params: Bytes::new(),
                }
                .eip712_signing_hash(domain),
            },
            Self::Delegate(r) => typed::Delegation {
                delegatee: r.delegatee,
                nonce: r.nonce,
                expiry: U256::from(r.expiry),
            }
            .eip712_signing_hash(domain),
        }
    }

    fn signature(&self) -> Result<Signature> {
        match self {
            Self::Forward(r) => parse_signature(&r.signature),
            Self::Vote(r) => parse_signature(&r.signature),
            Self::Delegate(r) => Ok(r.signature),
        }
    }

    fn domain<'d>(&self, domains: &'d Domains) -> &'d Eip712Domain {
        match self {
            Self::Forward(_) => &domains.forwarder_domain,
            Self::Vote(_) => &domains.governor_domain,
            Self::Delegate(_) => &domains.token_domain,
        }
    }

    /// Checks that the signature recovers to [`Self::from`] under the contract's EIP-712 domain
    /// on this chain. A signature made for another chain id (declared in the body, or found
    /// among well-known chains) is [`RelayerError::WrongChain`]; any other mismatch is
    /// [`RelayerError::BadSignature`].
    pub fn verify_signature(&self, domains: &Domains, declared_chain: Option<u64>) -> Result<()> {
        if let Some(signed) = declared_chain
            && signed != domains.chain_id
        {
            return Err(RelayerError::WrongChain {
                signed,
                served: domains.chain_id,
            });
        }
        let signature = self.signature()?;
        let domain = self.domain(domains);
        let recovers_to = |domain: &Eip712Domain| {
            signature
                .recover_address_from_prehash(&self.digest(domain))
                .ok()
        };
        let recovered = recovers_to(domain);
        if recovered == Some(self.from()) {
            return Ok(());
        }
        for chain in WELL_KNOWN_CHAINS
            .into_iter()
            .filter(|c| *c != domains.chain_id)
        {
            let mut other = domain.clone();
            other.chain_id = Some(U256::from(chain));
            if recovers_to(&other) == Some(self.from()) {
                return Err(RelayerError::WrongChain {
                    signed: chain,
                    served: domains.chain_id,
                });
            }
        }
        Err(RelayerError::BadSignature(match recovered {
            Some(signer) => format!(
                "the signature recovers to {signer}, not to {} (check the EIP-712 domain: name {:?}, version {:?}, chain id {}, verifying contract {}, and every field)",
                self.from(),
                domain.name.as_deref().unwrap_or_default(),
                domain.version.as_deref().unwrap_or_default(),
                domains.chain_id,
                domain.verifying_contract.unwrap_or_default(),
            ),
            None => "the signature does not recover to any address".into(),
        }))
    }

    /// The transaction the relayer sends for it: target and call data.
    pub fn call(&self, domains: &Domains) -> (Address, Bytes) {
        match self {
            Self::Forward(r) => (domains.forwarder, forward_execute_calldata(r)),
            Self::Vote(r) => (
                domains.governor,
                match &r.reason {
                    None => NestGovernor::castVoteBySigCall {
                        proposalId: r.proposal_id,
                        support: r.support,
                        voter: r.voter,
                        signature: r.signature.clone(),
                    }
                    .abi_encode()
                    .into(),
                    Some(reason) => NestGovernor::castVoteWithReasonAndParamsBySigCall {
                        proposalId: r.proposal_id,
                        support: r.support,
                        voter: r.voter,
                        reason: reason.clone(),
                        params: Bytes::new(),
                        signature: r.signature.clone(),
                    }
                    .abi_encode()
                    .into(),
                },
            ),
            Self::Delegate(r) => {
                let (v, rr, s) = vrs(&r.signature);
                (
                    domains.token,
                    NestToken::delegateBySigCall {
                        delegatee: r.delegatee,
                        nonce: r.nonce,
                        expiry: U256::from(r.expiry),
                        v,
                        r: rr,
                        s,
                    }
                    .abi_encode()
                    .into(),
                )
            }
        }
    }
}

/// `v` (27/28), `r`, `s` of a signature.
fn vrs(signature: &Signature) -> (u8, B256, B256) {
    (
        27 + u8::from(signature.v()),
        B256::from(signature.r()),
        B256::from(signature.s()),
    )
}

/// `Forwarder.execute(request)` call data.
pub fn forward_execute_calldata(r: &ForwardRequest) -> Bytes {
    NestForwarder::executeCall {
        request: nest_abis::bindings::ERC2771Forwarder::ForwardRequestData {
            from: r.from,
            to: r.to,
            value: r.value,
            gas: r.gas,
            deadline: Uint::<48, 1>::from(r.deadline),
            data: r.data.clone(),
            signature: r.signature.clone(),
        },
    }
    .abi_encode()
    .into()
}

/// A forward request rebuilt from a stored job.
pub fn forward_request_of(job: &nest_store::RelayJob) -> Result<ForwardRequest> {
    let data: Bytes = job
        .data
        .parse()
        .map_err(|e| RelayerError::Config(format!("job {}: stored data: {e}", job.id)))?;
    let signature: Bytes = job
        .signature
        .parse()
        .map_err(|e| RelayerError::Config(format!("job {}: stored signature: {e}", job.id)))?;
    Ok(ForwardRequest {
        from: job.from,
        to: job.to,
        value: U256::ZERO,
        gas: U256::from(job.gas.max(0) as u64),
        nonce: job.nonce,
        deadline: job.deadline.max(0) as u64,
        data,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    fn domains() -> Domains {
        let forwarder = Address::repeat_byte(0xf0);
        let domain = |name: &'static str, contract: Address| Eip712Domain {
            name: Some(name.into()),
            version: Some("1".into()),
            chain_id: Some(U256::from(31337)),
            verifying_contract: Some(contract),
            salt: None,
        };
        Domains {
            chain_id: 31337,
            forwarder,
            governor: Address::repeat_byte(0x90),
            token: Address::repeat_byte(0x70),
            forwarder_domain: domain("NestForwarder", forwarder),
            governor_domain: domain("NestGovernor", Address::repeat_byte(0x90)),
            token_domain: domain("Nest", Address::repeat_byte(0x70)),
        }
    }

    fn signed_forward(key: &PrivateKeySigner, chain: u64) -> serde_json::Value {
        signed_forward_until(key, chain, 2_000_000_000)
    }

    fn signed_forward_until(
        key: &PrivateKeySigner,
        chain: u64,
        deadline: u64,
    ) -> serde_json::Value {
        let d = domains();
        let mut domain = d.forwarder_domain.clone();
        domain.chain_id = Some(U256::from(chain));
        let message = typed::ForwardRequest {
            from: key.address(),
            to: Address::repeat_byte(0x11),
            value: U256::ZERO,
            gas: U256::from(100_000),
            nonce: U256::from(3),
            deadline: Uint::<48, 1>::from(deadline),
            data: Bytes::from_static(&[0xde, 0xad]),
        };
        let signature = key
            .sign_hash_sync(&message.eip712_signing_hash(&domain))
            .expect("sign");
        serde_json::json!({
            "from": key.address(),
            "to": Address::repeat_byte(0x11),
            "gas": 100000,
            "nonce": "3",
            "deadline": format!("{deadline:#x}"),
            "data": "0xdead",
            "signature": Bytes::from(signature.as_bytes()),
        })
    }

    #[test]
    fn the_forward_typehash_is_openzeppelins() {
        assert_eq!(
            typed::ForwardRequest::eip712_encode_type(),
            "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
        );
        assert_eq!(
            typed::Ballot::eip712_encode_type(),
            "Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)"
        );
        assert_eq!(
            typed::Delegation::eip712_encode_type(),
            "Delegation(address delegatee,uint256 nonce,uint256 expiry)"
        );
        assert_eq!(
            typed::ExtendedBallot::eip712_encode_type(),
            "ExtendedBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason,bytes params)"
        );
    }

    #[test]
    fn a_reasoned_ballot_verifies_as_signed_and_a_changed_or_oversized_reason_does_not() {
        let key = PrivateKeySigner::random();
        let d = domains();
        let ballot = |reason: &str| typed::ExtendedBallot {
            proposalId: U256::from(7),
            support: 2,
            voter: key.address(),
            nonce: U256::from(1),
            reason: reason.into(),
            params: Bytes::new(),
        };
        let signature = key
            .sign_hash_sync(&ballot("too risky").eip712_signing_hash(&d.governor_domain))
            .expect("sign");
        let mut body = serde_json::json!({
            "kind": "vote",
            "voter": key.address(),
            "proposalId": "7",
            "support": 2,
            "nonce": 1,
            "reason": "too risky",
            "signature": Bytes::from(signature.as_bytes()),
        });
        let (request, _) = RelayRequest::parse(body.to_string().as_bytes()).expect("parse");
        request.verify_signature(&d, None).expect("verifies");
        let (_, call) = request.call(&d);
        assert!(call.starts_with(&NestGovernor::castVoteWithReasonAndParamsBySigCall::SELECTOR));

        body["reason"] = "not risky".into();
        let (changed, _) = RelayRequest::parse(body.to_string().as_bytes()).expect("parse");
        assert_eq!(
            changed
                .verify_signature(&d, None)
                .expect_err("changed")
                .code(),
            "relay.bad_signature"
        );
        body["reason"] = "x".repeat(MAX_VOTE_REASON_BYTES + 1).into();
        let err = RelayRequest::parse(body.to_string().as_bytes()).expect_err("oversized");
        assert_eq!(err.code(), "relay.malformed");
        assert!(err.to_string().contains("at most 1000"), "{err}");
    }

    #[test]
    fn a_signed_forward_request_parses_and_verifies() {
        let key = PrivateKeySigner::random();
        let body = signed_forward(&key, 31337);
        let (request, declared) = RelayRequest::parse(body.to_string().as_bytes()).expect("parse");
        assert_eq!(declared, None);
        assert_eq!(request.from(), key.address());
        assert_eq!(request.nonce(), U256::from(3));
        request
            .verify_signature(&domains(), declared)
            .expect("verifies");
    }

    #[test]
    fn a_signature_for_another_chain_is_named_as_such() {
        let key = PrivateKeySigner::random();
        let body = signed_forward(&key, 1);
        let (request, declared) = RelayRequest::parse(body.to_string().as_bytes()).expect("parse");
        let err = request
            .verify_signature(&domains(), declared)
            .expect_err("chain 1");
        assert!(
            matches!(
                err,
                RelayerError::WrongChain {
                    signed: 1,
                    served: 31337
                }
            ),
            "{err}"
        );
        let mut declared_body = signed_forward(&key, 31337);
        declared_body["chainId"] = 5.into();
        let (request, declared) =
            RelayRequest::parse(declared_body.to_string().as_bytes()).expect("parse");
        assert!(matches!(
            request.verify_signature(&domains(), declared),
            Err(RelayerError::WrongChain { signed: 5, .. })
        ));
    }

    #[test]
    fn tampered_fields_and_malformed_bodies_are_refused_precisely() {
        let key = PrivateKeySigner::random();
        let mut body = signed_forward(&key, 31337);
        body["gas"] = 100001.into();
        let (request, _) = RelayRequest::parse(body.to_string().as_bytes()).expect("parse");
        let err = request
            .verify_signature(&domains(), None)
            .expect_err("tampered");
        assert_eq!(err.code(), "relay.bad_signature");

        let cases = [
            ("not json", "not JSON"),
            ("[1]", "JSON object"),
            (r#"{"kind":"swap"}"#, "unknown kind"),
            (r#"{"kind":"forward","from":"0x1"}"#, ""),
        ];
        for (text, needle) in cases {
            let err = RelayRequest::parse(text.as_bytes()).expect_err(text);
            assert_eq!(err.code(), "relay.malformed", "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
        let mut typo = signed_forward(&key, 31337);
        typo["deadine"] = 1.into();
        let err = RelayRequest::parse(typo.to_string().as_bytes()).expect_err("typo");
        assert!(err.to_string().contains("deadine"), "{err}");
        let mut short = signed_forward(&key, 31337);
        short["signature"] = "0x1234".into();
        let err = RelayRequest::parse(short.to_string().as_bytes()).expect_err("short");
        assert!(err.to_string().contains("65 bytes"), "{err}");
    }

    #[test]
    fn the_largest_uint48_is_a_valid_deadline_and_one_more_is_not() {
        let key = PrivateKeySigner::random();
        let body = signed_forward_until(&key, 31337, UINT48_MAX);
        let (request, _) = RelayRequest::parse(body.to_string().as_bytes()).expect("2^48 - 1");
        assert!(matches!(&request, RelayRequest::Forward(r) if r.deadline == UINT48_MAX));
        request
            .verify_signature(&domains(), None)
            .expect("verifies");
        let mut as_decimal = body.clone();
        as_decimal["deadline"] = "281474976710655".into();
        RelayRequest::parse(as_decimal.to_string().as_bytes()).expect("decimal 2^48 - 1");
        let mut too_big = body;
        too_big["deadline"] = "281474976710656".into();
        let err = RelayRequest::parse(too_big.to_string().as_bytes()).expect_err("2^48");
        assert_eq!(err.code(), "relay.malformed");
        assert!(err.to_string().contains("uint48"), "{err}");
    }
}
