//! The store tests use.

use nest_store::{Store, StoreConfig, testing};

/// The local store server shared by a test binary (or `NEST_MONGODB_URI`), and a fresh
/// database per test on it.
#[derive(Debug, Clone, Copy)]
pub struct TestStore;

impl TestStore {
    /// A connected, migrated store on a database no other test uses.
    pub async fn fresh(label: &str) -> Store {
        testing::fresh_test_store(label)
            .await
            .expect("store (run scripts/setup, or set NEST_MONGODB_URI)")
    }

    /// A configuration for a database no other test uses (not connected yet).
    pub fn config(label: &str) -> StoreConfig {
        testing::fresh_test_config(label).expect("store (run scripts/setup)")
    }

    /// The connection string of the shared server.
    pub fn uri() -> String {
        testing::test_server_uri().expect("store server (run scripts/setup)")
    }
}
