//! The one error type of `nest-indexer`.

/// Everything that can stop the indexer.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] nest_store::StoreError),
    /// The node failed or timed out (retried with backoff before this surfaces).
    #[error("RPC: {0}")]
    Rpc(String),
    /// The node serves another chain than configured.
    #[error(
        "wrong chain: the RPC endpoint serves chain id {actual}, the indexer is configured for {expected}"
    )]
    WrongChain {
        /// Configured chain id.
        expected: u64,
        /// The node's chain id.
        actual: u64,
    },
    /// A reorg went deeper than the blocks the indexer keeps.
    #[error(
        "reorg deeper than the {kept} blocks kept (no common ancestor found above block {floor})"
    )]
    ReorgTooDeep {
        /// Blocks kept for reorg detection.
        kept: u64,
        /// Lowest block checked.
        floor: u64,
    },
    /// The configuration is invalid.
    #[error("indexer configuration: {0}")]
    Config(String),
    /// `reindex --from` asked for a block older than the undo log.
    #[error(
        "cannot replay from block {requested}: projections can only be rolled back to block {oldest}; run `nest indexer reindex` without --from to rebuild from the start"
    )]
    ReplayTooOld {
        /// Requested block.
        requested: u64,
        /// Oldest block the undo log covers.
        oldest: u64,
    },
    /// A metadata URI or document could not be resolved (stored on the token, never stops the
    /// indexer).
    #[error(transparent)]
    Metadata(#[from] FetchFailure),
    /// A projection document in the store has an unexpected shape.
    #[error("projection {collection}: {message}")]
    Projection {
        /// Collection.
        collection: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl IndexerError {
    /// True when retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Rpc(_) => true,
            // A duplicate key or a moved checkpoint means another writer committed this batch
            // first: re-reading the checkpoint and going on is correct.
            Self::Store(e) => {
                e.is_transient()
                    || e.is_duplicate_key()
                    || matches!(
                        e,
                        nest_store::StoreError::StateConflict {
                            entity: "checkpoint",
                            ..
                        }
                    )
            }
            _ => false,
        }
    }
}

/// Why one metadata resolution failed. `reason()` is the stable code stored on the token and
/// counted in `nest_metadata_failures_total{reason}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    /// Not data:, http(s)://, ipfs:// or ar://.
    #[error("unsupported URI scheme {0}")]
    UnsupportedScheme(String),
    /// The URI does not parse.
    #[error("malformed URI: {0}")]
    BadUri(String),
    /// The host is (or resolves to) a forbidden address.
    #[error("blocked address {0}")]
    BlockedAddress(String),
    /// The host name does not resolve.
    #[error("DNS: {0}")]
    Dns(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The connection failed.
    #[error("connection: {0}")]
    Connect(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(u8),
    /// Larger than the size cap.
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    /// Not JSON (by content, whatever the declared type).
    #[error("not a JSON document: {0}")]
    BadJson(String),
    /// Nested deeper than allowed.
    #[error("JSON nested deeper than {0}")]
    TooDeep(usize),
    /// The image is not a known format or could not be sanitised.
    #[error("image: {0}")]
    BadImage(String),
}

impl FetchFailure {
    /// The stable reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnsupportedScheme(_) => "unsupported_scheme",
            Self::BadUri(_) => "bad_uri",
            Self::BlockedAddress(_) => "blocked_address",
            Self::Dns(_) => "dns",
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect",
            Self::Status(_) => "http_status",
            Self::TooManyRedirects(_) => "too_many_redirects",
            Self::TooLarge(_) => "too_large",
            Self::BadJson(_) => "bad_json",
            Self::TooDeep(_) => "too_deep",
            Self::BadImage(_) => "bad_image",
        }
    }

    /// True when a later attempt may succeed (network trouble, 5xx, 429); hostile or malformed
    /// content fails at once.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Dns(_) | Self::Timeout | Self::Connect(_) => true,
            Self::Status(code) => *code >= 500 || *code == 429 || *code == 408,
            _ => false,
        }
    }
}

/// Result alias for `nest-indexer`.
pub type Result<T, E = IndexerError> = std::result::Result<T, E>;
