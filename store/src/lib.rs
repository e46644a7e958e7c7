#![doc = include_str!("../README.md")]

pub mod codec;
pub mod config;
pub mod error;
pub mod local_server;
pub mod repos;
pub mod schema;
mod store;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use config::StoreConfig;
pub use error::{Result, StoreError};
pub use local_server::LocalStoreServer;
pub use repos::*;
pub use store::Store;

/// Re-exports for callers that run transactions.
pub use mongodb::{ClientSession, Database};
