//! The one error type of `nest-relayer`, and the one place that maps each error to what a client
//! sees: a stable machine code (`relay.*`), an HTTP status and an English title.
//!
//! The api crate mounts [`crate::http::router`] and translates by [`RelayerError::code`], so codes
//! never change meaning; add new ones instead. Codes of refusals any service makes (the body's
//! media type and size) are the shared `request.*` ones.

use axum::http::StatusCode;
use std::time::Duration;

/// Everything that can refuse a relay request or stop the relayer.
#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    /// The body is not a well-formed relay request.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body is not declared as `application/json`.
    #[error("send the relay request as application/json")]
    UnsupportedMediaType,
    /// The body is larger than the limit.
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, bytes.
        limit: usize,
    },
    /// The signature does not recover to the request's signer.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The request was signed for another chain.
    #[error("the request is signed for chain id {signed}, this relayer serves chain id {served}")]
    WrongChain {
        /// Chain id the request was signed for.
        signed: u64,
        /// Chain id this relayer serves.
        served: u64,
    },
    /// The nonce is not the signer's next unused one.
    #[error("nonce {got} is not the next unused nonce of {from}: expected {expected}")]
    Nonce {
        /// The signer.
        from: String,
        /// Nonce in the request.
        got: String,
        /// The next unused nonce (on chain, counting requests already queued).
        expected: String,
    },
    /// The same signed request is already queued or done.
    #[error("this signed request was already accepted (job {job})")]
    Duplicate {
        /// The existing job.
        job: String,
    },
    /// Another request of the same signer already used this nonce: the client must sign again
    /// with the next nonce.
    #[error(
        "nonce {nonce} of {from} was already used by another request; the next unused nonce is {expected}"
    )]
    NonceUsed {
        /// The signer.
        from: String,
        /// Nonce in the request.
        nonce: String,
        /// The next unused nonce.
        expected: String,
    },
    /// The deadline is past or too close.
    #[error(
        "the deadline {deadline} is too close: it must be at least {margin_secs} s after the chain's time {now}"
    )]
    Expired {
        /// Deadline of the request (unix seconds).
        deadline: u64,
        /// The chain's time (unix seconds).
        now: u64,
        /// Required margin.
        margin_secs: u64,
    },
    /// The target contract or function is not one the relayer sponsors.
    #[error("{0}")]
    TargetNotAllowed(String),
    /// A transaction was refused by the signing policy before reaching the key (a job in the
    /// store that the intake would never have accepted).
    #[error("refused by the signing policy: {0}")]
    PolicyRefused(String),
    /// The request moves ETH; sponsored calls must have value 0.
    #[error("the request sends {0} wei; the relayer only sponsors calls with value 0")]
    ValueNotZero(String),
    /// The request allows more gas than the relayer sponsors.
    #[error("the request allows {requested} gas; the relayer sponsors at most {cap}")]
    GasCap {
        /// Gas in the request.
        requested: String,
        /// The cap.
        cap: u64,
    },
    /// The call data is larger than the relayer accepts.
    #[error("the call data has {size} bytes; the relayer accepts at most {cap}")]
    CalldataTooLarge {
        /// Size of the call data.
        size: usize,
        /// The cap.
        cap: usize,
    },
    /// Simulating the call on the current chain state reverted.
    #[error("the call would revert: {reason}")]
    Reverts {
        /// The decoded revert reason.
        reason: String,
    },
    /// The signer is over its quota.
    #[error("{message}")]
    Quota {
        /// Which quota, and its limit.
        message: String,
        /// When trying again may succeed.
        retry_after: Duration,
    },
    /// The relayer cannot take the request now (no funded relayer account, the store or the
    /// node unreachable).
    #[error("the relayer is unavailable: {0}")]
    Unavailable(String),
    /// No job with this id.
    #[error("no relay job {0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] nest_store::StoreError),
    /// A signer failed.
    #[error(transparent)]
    Key(#[from] nest_keys::KeyError),
    /// The node failed or answered something unexpected.
    #[error("RPC: {0}")]
    Rpc(String),
    /// The configuration is invalid.
    #[error("relayer configuration: {0}")]
    Config(String),
}

/// Result alias for `nest-relayer`.
pub type Result<T, E = RelayerError> = std::result::Result<T, E>;

impl RelayerError {
    /// The stable machine code clients and the api translate by.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "relay.malformed",
            Self::UnsupportedMediaType => "request.unsupported_media_type",
            Self::BodyTooLarge { .. } => "request.body_too_large",
            Self::BadSignature(_) => "relay.bad_signature",
            Self::WrongChain { .. } => "relay.wrong_chain",
            Self::Nonce { .. } => "relay.nonce",
            Self::Duplicate { .. } => "relay.duplicate",
            Self::NonceUsed { .. } => "relay.nonce_used",
            Self::Expired { .. } => "relay.expired",
            Self::TargetNotAllowed(_) => "relay.target_not_allowed",
            Self::ValueNotZero(_) => "relay.value_not_zero",
            Self::GasCap { .. } => "relay.gas_cap",
            Self::CalldataTooLarge { .. } => "relay.calldata_too_large",
            Self::Reverts { .. } => "relay.reverts",
            Self::Quota { .. } => "relay.quota",
            Self::NotFound(_) => "relay.not_found",
            Self::Config(_) | Self::PolicyRefused(_) => "relay.internal",
            Self::Unavailable(_) | Self::Store(_) | Self::Key(_) | Self::Rpc(_) => {
                "relay.unavailable"
            }
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::BadSignature(_) | Self::WrongChain { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::TargetNotAllowed(_)
            | Self::ValueNotZero(_)
            | Self::GasCap { .. }
            | Self::CalldataTooLarge { .. } => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Nonce { .. } | Self::Duplicate { .. } | Self::NonceUsed { .. } => {
                StatusCode::CONFLICT
            }
            Self::Expired { .. } | Self::Reverts { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Quota { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Config(_) | Self::PolicyRefused(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) | Self::Store(_) | Self::Key(_) | Self::Rpc(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// A short English title for the code (the problem document's `title`).
    pub fn title(&self) -> &'static str {
        match self.code() {
            "relay.malformed" => "Malformed relay request",
            "relay.bad_signature" => "Bad signature",
            "relay.wrong_chain" => "Signed for another chain",
            "relay.nonce" => "Wrong nonce",
            "relay.duplicate" => "Request already accepted",
            "relay.nonce_used" => "Nonce already used",
            "request.unsupported_media_type" => "Unsupported media type",
            "request.body_too_large" => "Request body too large",
            "relay.expired" => "Deadline too close",
            "relay.target_not_allowed" => "Target not allowed",
            "relay.value_not_zero" => "Value must be zero",
            "relay.gas_cap" => "Gas above the cap",
            "relay.calldata_too_large" => "Call data too large",
            "relay.reverts" => "The call would revert",
            "relay.quota" => "Quota exceeded",
            "relay.not_found" => "No such relay job",
            "relay.unavailable" => "Relayer unavailable",
            _ => "Relayer error",
        }
    }

    /// The English detail shown to the client. Infrastructure errors are summarised (their
    /// details go to the log, not to the client).
    pub fn detail(&self) -> String {
        match self {
            Self::Store(_) => "the relayer cannot reach its store; try again shortly".into(),
            Self::Key(_) => "the relayer cannot reach its signing keys; try again shortly".into(),
            Self::Rpc(_) => "the relayer cannot reach the chain; try again shortly".into(),
            Self::Config(_) => "the relayer is misconfigured".into(),
            Self::PolicyRefused(_) => "the relayer refused to sign this job".into(),
            other => other.to_string(),
        }
    }

    /// How long a client should wait before retrying, for 429 and 503 answers.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Quota { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) | Self::Store(_) | Self::Key(_) | Self::Rpc(_) => {
                Some(Duration::from_secs(5))
            }
            _ => None,
        }
    }

    /// True when the request itself was refused (a 4xx): nothing was stored.
    pub fn is_refusal(&self) -> bool {
        self.status().is_client_error()
    }

    /// True when retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Rpc(_) | Self::Unavailable(_) => true,
            Self::Store(e) => e.is_transient(),
            Self::Key(e) => e.is_transient(),
            _ => false,
        }
    }

    /// Wraps an RPC failure.
    pub(crate) fn rpc(what: &str, e: impl std::fmt::Display) -> Self {
        Self::Rpc(format!("{what}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_stable_code_and_a_4xx_or_5xx_status() {
        let cases: Vec<(RelayerError, &str, u16)> = vec![
            (RelayerError::Malformed("x".into()), "relay.malformed", 400),
            (
                RelayerError::BadSignature("x".into()),
                "relay.bad_signature",
                400,
            ),
            (
                RelayerError::WrongChain {
                    signed: 1,
                    served: 31337,
                },
                "relay.wrong_chain",
                400,
            ),
            (
                RelayerError::Nonce {
                    from: "a".into(),
                    got: "1".into(),
                    expected: "0".into(),
                },
                "relay.nonce",
                409,
            ),
            (
                RelayerError::Duplicate { job: "j".into() },
                "relay.duplicate",
                409,
            ),
            (
                RelayerError::NonceUsed {
                    from: "a".into(),
                    nonce: "0".into(),
                    expected: "1".into(),
                },
                "relay.nonce_used",
                409,
            ),
            (
                RelayerError::UnsupportedMediaType,
                "request.unsupported_media_type",
                415,
            ),
            (
                RelayerError::BodyTooLarge { limit: 1 },
                "request.body_too_large",
                413,
            ),
            (
                RelayerError::Expired {
                    deadline: 1,
                    now: 2,
                    margin_secs: 3,
                },
                "relay.expired",
                422,
            ),
            (
                RelayerError::TargetNotAllowed("x".into()),
                "relay.target_not_allowed",
                403,
            ),
            (
                RelayerError::ValueNotZero("1".into()),
                "relay.value_not_zero",
                403,
            ),
            (
                RelayerError::GasCap {
                    requested: "9".into(),
                    cap: 1,
                },
                "relay.gas_cap",
                403,
            ),
            (
                RelayerError::CalldataTooLarge { size: 9, cap: 1 },
                "relay.calldata_too_large",
                403,
            ),
            (
                RelayerError::Reverts { reason: "x".into() },
                "relay.reverts",
                422,
            ),
            (
                RelayerError::Quota {
                    message: "x".into(),
                    retry_after: Duration::from_secs(1),
                },
                "relay.quota",
                429,
            ),
            (
                RelayerError::Unavailable("x".into()),
                "relay.unavailable",
                503,
            ),
            (RelayerError::Rpc("x".into()), "relay.unavailable", 503),
            (RelayerError::NotFound("x".into()), "relay.not_found", 404),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().as_u16(), status, "{code}");
            assert_ne!(error.title(), "Relayer error", "{code} has a title");
            assert!(!error.detail().is_empty());
        }
        let rpc = RelayerError::Rpc("http://secret-host: refused".into());
        assert!(
            !rpc.detail().contains("secret"),
            "infrastructure details stay in the log"
        );
    }
}
