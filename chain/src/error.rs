//! The one error type of `nest-chain`.

use alloy::primitives::{Address, U256};
use std::path::PathBuf;

/// Everything that can go wrong while compiling, deploying or seeding Nest's contracts.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The project layout (contracts folder, solc wrapper, node_modules) was not found.
    #[error("project layout: {0}")]
    Layout(String),
    /// The Solidity compiler could not be run or reported errors.
    #[error("compilation failed: {0}")]
    Compile(String),
    /// A committed artifact differs from what the sources compile to.
    #[error("artifact {name} is out of date with contracts/src (run `nest contracts build`)")]
    StaleArtifact {
        /// Contract name.
        name: String,
    },
    /// A deployment manifest could not be read or written, or lacks a contract.
    #[error(transparent)]
    Deployment(#[from] nest_abis::AbiError),
    /// A child process (anvil) could not be started or did not become ready.
    #[error(transparent)]
    Process(#[from] nest_process::ProcessError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document (artifact, manifest) could not be read or written.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The RPC endpoint could not be reached or answered with an error.
    #[error("RPC {url}: {message}")]
    Rpc {
        /// The endpoint (without credentials).
        url: String,
        /// What failed.
        message: String,
    },
    /// The node's chain id is not the one the caller expected.
    #[error("wrong chain: the RPC endpoint serves chain id {actual}, expected {expected}")]
    WrongChain {
        /// Chain id the caller asked for.
        expected: u64,
        /// Chain id the node reports.
        actual: u64,
    },
    /// The manifest file belongs to another chain than the node's.
    #[error(
        "manifest {path} records chain id {manifest}, but the RPC endpoint serves chain id {node}"
    )]
    ManifestChainMismatch {
        /// Manifest file.
        path: PathBuf,
        /// Chain id in the manifest.
        manifest: u64,
        /// Chain id of the node.
        node: u64,
    },
    /// The deployer cannot pay for the deployment.
    #[error(
        "insufficient funds: deployer {deployer} holds {balance} wei, the next step needs about {needed} wei"
    )]
    InsufficientFunds {
        /// Deployer account.
        deployer: Address,
        /// Its balance.
        balance: U256,
        /// Estimated cost of the next step.
        needed: U256,
    },
    /// A transaction was sent but failed (reverted or was dropped).
    #[error("{step}: transaction failed: {message}")]
    Transaction {
        /// The deployment or seeding step.
        step: String,
        /// What failed.
        message: String,
    },
    /// A deployer key could not be loaded.
    #[error("deployer key: {0}")]
    Key(String),
    /// The local anvil node could not be started.
    #[error("anvil: {0}")]
    Anvil(String),
}

impl ChainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a JSON error with the path it concerns.
    pub fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.into(),
            source,
        }
    }

    /// True when retrying later may succeed (the node was unreachable or timed out).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Rpc { .. })
    }
}

/// Result alias for `nest-chain`.
pub type Result<T, E = ChainError> = std::result::Result<T, E>;
