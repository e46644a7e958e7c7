//! The zero-config local store: a SecantusDB server (MongoDB wire protocol over WiredTiger) run
//! as a separate process on a loopback port. It is GPL-2.0, so it is never linked into Nest;
//! `scripts/setup` builds it once into `~/.cache/nest/tools/secantus-<version>/`.
//!
//! `nest dev` runs one on a data folder under the local state directory; tests run one per test
//! binary on a temporary folder. The process is supervised by `nest-process` (stopped on drop and,
//! through the kernel's parent-death signal, if its parent dies).

use crate::{
    config::StoreConfig,
    error::{Result, StoreError},
};
use nest_process::ChildProcess;
use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};
use tracing::info;

/// The SecantusDB release Nest is tested with.
pub const SECANTUS_VERSION: &str = "0.5.3-beta.196";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The installed `secantusd-rs` binary: `NEST_SECANTUS_BIN`, else the versioned tools cache.
pub fn secantus_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NEST_SECANTUS_BIN") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("NEST_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nest")))
        .unwrap_or_else(|| PathBuf::from(".cache/nest"));
    cache.join(format!(
        "tools/secantus-{SECANTUS_VERSION}/bin/secantusd-rs"
    ))
}

/// A running local store server, supervised by [`ChildProcess`].
#[derive(Debug)]
pub struct LocalStoreServer {
    process: ChildProcess,
    port: u16,
    data_dir: PathBuf,
}

impl LocalStoreServer {
    /// Starts the server on `port` (0: a free one) with its data in `data_dir`, durable on
    /// every commit, and waits until it accepts connections.
    pub fn start(data_dir: &Path, port: u16) -> Result<Self> {
        let binary = secantus_binary();
        ChildProcess::require_installed(
            &binary,
            &format!(
                "run scripts/setup (it builds SecantusDB {SECANTUS_VERSION} once) or set NEST_MONGODB_URI"
            ),
        )?;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::LocalServer(format!("{}: {e}", data_dir.display())))?;
        let port = if port == 0 { free_port()? } else { port };
        let mut cmd = Command::new(&binary);
        cmd.arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .arg("--storage-path")
            .arg(data_dir)
            .arg("--sync-on-commit");
        let process = ChildProcess::spawn(format!("secantusd:{port}"), cmd)?;
        process.wait_for_port(port, START_TIMEOUT).map_err(|e| {
            StoreError::LocalServer(format!(
                "{e} (is port {port} taken or {} locked by another server?)",
                data_dir.display()
            ))
        })?;
        let server = Self {
            process,
            port,
            data_dir: data_dir.to_path_buf(),
        };
        info!(port, data = %server.data_dir.display(), "local store server started");
        Ok(server)
    }

    /// The connection string.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// A store configuration for `database` on this server.
    pub fn config(&self, database: &str) -> StoreConfig {
        StoreConfig::new(self.uri(), database)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(self) {
        self.process.stop(Duration::from_secs(10));
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(self) {
        self.process.kill();
    }
}

fn free_port() -> Result<u16> {
    Ok(nest_process::free_port()?)
}
