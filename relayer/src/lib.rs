#![doc = include_str!("../README.md")]

pub mod chain;
pub mod config;
pub mod error;
pub mod http;
pub mod intake;
pub mod keeper;
pub mod metrics;
pub mod policy;
pub mod request;
pub mod revert;
pub mod submitter;

pub use chain::{FeeEstimate, Head, RelayChain};
pub use config::RelayerConfig;
pub use error::{RelayerError, Result};
pub use http::{JobView, Problem, router, standalone_router};
pub use intake::{Accepted, RelayIntake};
pub use keeper::{GovernanceKeeper, KeeperStep};
pub use request::{Domains, RelayRequest};
pub use revert::RevertDecoder;
pub use submitter::RelaySubmitter;
