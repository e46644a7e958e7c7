#![doc = include_str!("../README.md")]

pub mod anvil;
pub mod compile;
pub mod deploy;
pub mod error;
pub mod layout;
pub mod manifest;
pub mod provider;
pub mod seed;

pub use anvil::{AnvilNode, AnvilOptions};
pub use compile::ContractCompiler;
pub use deploy::{DeployReport, Deployer, DeploymentConfig};
pub use error::{ChainError, Result};
pub use layout::{DEPLOYABLE_CONTRACTS, ProjectLayout, TEST_CONTRACTS};
pub use manifest::{DeployedContract, DeploymentManifest, NestAddresses};
pub use provider::{DeployerKey, http_provider};
