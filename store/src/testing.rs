//! Test support for every crate that needs a store: one local server per test process (or the
//! server named by `NEST_MONGODB_URI`, so the same suites run against real MongoDB), and a fresh
//! database per test.

use crate::{config::StoreConfig, error::Result, local_server::LocalStoreServer, store::Store};
use std::{
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

static SERVER: OnceLock<std::result::Result<(LocalStoreServer, PathBuf), String>> = OnceLock::new();
static NEXT_DB: AtomicU64 = AtomicU64::new(0);

extern "C" fn stop_shared_server() {
    if let Some(Ok((server, dir))) = SERVER.get() {
        // SAFETY: signalling our own child at process exit; the data folder is ours.
        unsafe {
            libc::kill(server.pid() as i32, libc::SIGTERM);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The connection string tests use: `NEST_MONGODB_URI`, or the process-wide local server
/// (started on first use, stopped at exit).
pub fn test_server_uri() -> Result<String> {
    if let Ok(uri) = std::env::var("NEST_MONGODB_URI") {
        return Ok(uri);
    }
    let shared = SERVER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("nest-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let started = LocalStoreServer::start(&dir, 0).map_err(|e| e.to_string());
        if started.is_ok() {
            // SAFETY: registering a plain extern "C" function to run at exit.
            unsafe {
                libc::atexit(stop_shared_server);
            }
        }
        started.map(|server| (server, dir))
    });
    match shared {
        Ok((server, _)) => Ok(server.uri()),
        Err(message) => Err(crate::StoreError::LocalServer(message.clone())),
    }
}

/// A configuration for a database no other test uses.
pub fn fresh_test_config(label: &str) -> Result<StoreConfig> {
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(30)
        .collect();
    Ok(StoreConfig::new(
        test_server_uri()?,
        format!("t{}_{n}_{label}", std::process::id()),
    ))
}

/// A connected, migrated store on a fresh database. On the local server, idle transactions
/// are reaped after 5 s, so a test that kills a writer does not wait out MongoDB's default 60 s
/// before the next writer can touch the same documents.
pub async fn fresh_test_store(label: &str) -> Result<Store> {
    let store = Store::connect(fresh_test_config(label)?).await?;
    if std::env::var_os("NEST_MONGODB_URI").is_none() {
        store.set_transaction_lifetime(5).await?;
    }
    Ok(store)
}
