//! Deployment manifests: `deployments/<chain-id>.json` records what is deployed where. The types
//! live in `nest-abis` (services read them without linking the deployer); the deployer here
//! rewrites the manifest after every successful step.

pub use nest_abis::deployment::{DeployedContract, DeploymentManifest, NestAddresses};
