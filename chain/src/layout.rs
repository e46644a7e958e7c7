//! Where the project's files live: the contracts folder, the artifacts folder, the pinned
//! tools under `node_modules`, deployment manifests and the local state directory.

use crate::error::{ChainError, Result};
use std::path::{Path, PathBuf};

/// The names of the contracts Nest deploys, in deployment order.
pub const DEPLOYABLE_CONTRACTS: [&str; 6] = [
    "NestForwarder",
    "NestToken",
    "NestTimelock",
    "NestGovernor",
    "NestNFT",
    "NestMarketplace",
];

/// Contracts compiled and checked in for tests only, never deployed by Nest: (name, folder
/// under `contracts/`).
pub const TEST_CONTRACTS: [(&str, &str); 1] = [("ERC1271Wallet", "test/mocks")];

/// Paths of one checkout of the Nest repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectLayout {
    root: PathBuf,
}

impl ProjectLayout {
    /// Uses `root` as the repository root (the folder holding `contracts/`).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let layout = Self { root };
        if !layout.contracts_dir().join("foundry.toml").is_file() {
            return Err(ChainError::Layout(format!(
                "{} is not a Nest checkout (no contracts/foundry.toml)",
                layout.root.display()
            )));
        }
        Ok(layout)
    }

    /// Finds the repository root: `NEST_ROOT` if set, else the first ancestor of the current
    /// directory holding `contracts/foundry.toml`.
    pub fn discover() -> Result<Self> {
        if let Some(root) = std::env::var_os("NEST_ROOT") {
            return Self::new(PathBuf::from(root));
        }
        let cwd = std::env::current_dir().map_err(|e| ChainError::io(".", e))?;
        for dir in cwd.ancestors() {
            if dir.join("contracts/foundry.toml").is_file() {
                return Self::new(dir);
            }
        }
        Err(ChainError::Layout(format!(
            "no Nest checkout found at or above {} (set NEST_ROOT)",
            cwd.display()
        )))
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The forge project.
    pub fn contracts_dir(&self) -> PathBuf {
        self.root.join("contracts")
    }

    /// Solidity sources of the deployable contracts.
    pub fn contract_sources_dir(&self) -> PathBuf {
        self.contracts_dir().join("src")
    }

    /// Checked-in compiled artifacts, one JSON file per deployable contract.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.root.join("abis").join("artifacts")
    }

    /// npm packages (OpenZeppelin, solc, Foundry binaries).
    pub fn node_modules(&self) -> PathBuf {
        self.root.join("node_modules")
    }

    /// The project's solc wrapper over the pinned npm `solc`.
    pub fn solc_wrapper(&self) -> PathBuf {
        self.root.join("tools").join("solc")
    }

    /// The pinned anvil binary (`NEST_ANVIL_BIN` overrides it).
    pub fn anvil_binary(&self) -> PathBuf {
        if let Some(path) = std::env::var_os("NEST_ANVIL_BIN") {
            return PathBuf::from(path);
        }
        self.node_modules()
            .join("@foundry-rs/anvil-linux-amd64/bin/anvil")
    }

    /// Folder of deployment manifests, `deployments/<chain-id>.json`.
    pub fn deployments_dir(&self) -> PathBuf {
        self.root.join("deployments")
    }

    /// The manifest file for `chain_id`.
    pub fn manifest_path(&self, chain_id: u64) -> PathBuf {
        self.deployments_dir().join(format!("{chain_id}.json"))
    }

    /// Local state of `nest dev` (data folders, logs); ignored by git.
    pub fn state_dir(&self) -> PathBuf {
        std::env::var_os("NEST_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join(".nest"))
    }
}
