#![doc = include_str!("../README.md")]
// A test kit: failing loudly with a clear message is what a test wants.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod chain;
mod http;
mod nest;
mod redis;
pub mod siwe;
#[cfg(feature = "stack")]
mod stack;
mod store;
mod wrk;

pub use chain::{TestChain, TestChainBuilder, ether, send, send_value};
pub use http::{HttpClient, HttpResponse};
pub use nest::NestCommand;
pub use nest_chain::{AnvilOptions, ProjectLayout};
#[cfg(feature = "aws-kms")]
pub use nest_keys::testing::LocalStackKms as TestKms;
pub use nest_keys::testing::SoftHsm as TestHsm;
pub use nest_process::{ChildProcess, ProcessError, port_open};
pub use redis::TestRedis;
#[cfg(feature = "stack")]
pub use stack::{ORIGIN, TestApi, TestStack};
pub use store::TestStore;
pub use wrk::{WrkResult, wrk};

use std::path::PathBuf;

/// The chain id of every test chain (anvil's default).
pub const CHAIN_ID: u64 = 31337;

/// The checkout the tests run in.
pub fn layout() -> ProjectLayout {
    ProjectLayout::new(root()).expect("tests run inside the Nest checkout")
}

/// The checkout's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Distinct made-up contract addresses, for services tested without a chain.
pub fn placeholder_addresses() -> nest_abis::NestAddresses {
    use alloy::primitives::Address;
    nest_abis::NestAddresses {
        forwarder: Address::repeat_byte(1),
        token: Address::repeat_byte(2),
        timelock: Address::repeat_byte(3),
        governor: Address::repeat_byte(4),
        nft: Address::repeat_byte(5),
        marketplace: Address::repeat_byte(6),
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    nest_process::free_port().expect("a free loopback port")
}

/// Prints the tests' logs when `NEST_TEST_LOG` holds a filter (`NEST_TEST_LOG=nest_indexer=debug`).
pub fn init_logs() {
    if let Ok(filter) = std::env::var("NEST_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}
