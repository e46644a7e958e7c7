//! The zero-config local store: a SecantusDB server (MongoDB wire protocol over WiredTiger) run
//! as a separate process on a loopback port. It is GPL-2.0, so it is never linked into Nest;
//! `scripts/setup` builds it once into `~/.cache/nest/tools/secantus-<version>/`.
//!
//! `nest dev` runs one on a data folder under the local state directory; tests run one per test
//! binary on a temporary folder. The process is stopped on drop and, through the kernel's
//! parent-death signal, if its parent dies.

use crate::{
    config::StoreConfig,
    error::{Result, StoreError},
};
use std::{
    net::TcpStream,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, mpsc},
    time::{Duration, Instant},
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

/// A running local store server.
#[derive(Debug)]
pub struct LocalStoreServer {
    pid: u32,
    exited: Mutex<mpsc::Receiver<String>>,
    port: u16,
    data_dir: PathBuf,
}

impl LocalStoreServer {
    /// Starts the server on `port` (0: a free one) with its data in `data_dir`, durable on
    /// every commit, and waits until it accepts connections.
    ///
    /// The process is spawned and awaited by a dedicated thread that lives exactly as long as
    /// the server, so the kernel's parent-death signal (tied to the spawning thread) stops the
    /// server only when this process dies, whatever thread called `start`.
    pub fn start(data_dir: &Path, port: u16) -> Result<Self> {
        let binary = secantus_binary();
        if !binary.is_file() {
            return Err(StoreError::LocalServer(format!(
                "{} not found; run scripts/setup (it builds SecantusDB {SECANTUS_VERSION} once) or set NEST_MONGODB_URI",
                binary.display()
            )));
        }
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
            .arg("--sync-on-commit")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it asks the kernel to stop the server if we die.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (spawned_tx, spawned_rx) = mpsc::channel();
        let (exit_tx, exit_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("secantusd:{port}"))
            .spawn(move || match cmd.spawn() {
                Ok(mut child) => {
                    let _ = spawned_tx.send(Ok(child.id()));
                    let status = child
                        .wait()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|e| e.to_string());
                    let _ = exit_tx.send(status);
                }
                Err(e) => {
                    let _ = spawned_tx.send(Err(e));
                }
            })
            .map_err(|e| StoreError::LocalServer(format!("cannot start a watcher thread: {e}")))?;
        let pid = spawned_rx
            .recv()
            .map_err(|_| StoreError::LocalServer("the watcher thread died".into()))?
            .map_err(|e| {
                StoreError::LocalServer(format!("cannot start {}: {e}", binary.display()))
            })?;
        let server = Self {
            pid,
            exited: Mutex::new(exit_rx),
            port,
            data_dir: data_dir.to_path_buf(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(status) = server.try_exit_status() {
                return Err(StoreError::LocalServer(format!(
                    "exited during start ({status}); is port {port} taken or {} locked by another server?",
                    data_dir.display()
                )));
            }
            if Instant::now() > deadline {
                return Err(StoreError::LocalServer(format!(
                    "not accepting connections after {START_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
        self.pid
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(self) {
        // Drop does it.
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(self) {
        self.signal(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(10));
    }

    fn try_exit_status(&self) -> Option<String> {
        self.exited.lock().ok()?.try_recv().ok()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child, which the watcher thread has not reaped yet unless
        // `exited` says so (checked by callers through `wait_exit`).
        unsafe {
            libc::kill(self.pid as i32, signal);
        }
    }

    fn wait_exit(&self, timeout: Duration) -> bool {
        match self.exited.lock() {
            Ok(rx) => match rx.recv_timeout(timeout) {
                Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => true,
                Err(mpsc::RecvTimeoutError::Timeout) => false,
            },
            Err(_) => true,
        }
    }
}

impl Drop for LocalStoreServer {
    fn drop(&mut self) {
        if let Ok(rx) = self.exited.lock()
            && !matches!(rx.try_recv(), Err(mpsc::TryRecvError::Empty))
        {
            return;
        }
        self.signal(libc::SIGTERM);
        if !self.wait_exit(Duration::from_secs(10)) {
            self.signal(libc::SIGKILL);
            self.wait_exit(Duration::from_secs(5));
        }
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| StoreError::LocalServer(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| StoreError::LocalServer(format!("no free port: {e}")))
}
