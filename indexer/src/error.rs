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

/// Result alias for `nest-indexer`.
pub type Result<T, E = IndexerError> = std::result::Result<T, E>;
