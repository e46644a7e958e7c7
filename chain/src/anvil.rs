//! A local anvil node run from the pinned binary: started on a free (or given) loopback port,
//! stopped when dropped, and killed by the kernel if its parent dies (no orphans).

use crate::error::{ChainError, Result};
use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use std::{
    io::{BufRead, BufReader},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};
use url::Url;

/// How long anvil may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Options for starting anvil.
#[derive(Debug, Clone, Default)]
pub struct AnvilOptions {
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Seconds between blocks; `None` mines a block per transaction.
    pub block_time: Option<u64>,
    /// Chain id; `None` keeps anvil's default (31337).
    pub chain_id: Option<u64>,
    /// Number of funded dev accounts (anvil's default is 10).
    pub accounts: Option<u32>,
    /// Extra command-line arguments.
    pub extra_args: Vec<String>,
}

/// A running anvil process.
#[derive(Debug)]
pub struct AnvilNode {
    child: Child,
    port: u16,
    keys: Vec<PrivateKeySigner>,
    _config_dir: ConfigDir,
}

impl AnvilNode {
    /// Starts `binary` with `options` and waits until it listens.
    ///
    /// The kernel's parent-death signal fires when the *thread* that spawned the child ends, so
    /// call this from a thread that lives as long as the node (the main thread, a runtime
    /// worker, a test thread), never from a short-lived `spawn_blocking` task.
    pub fn spawn(binary: &Path, options: &AnvilOptions) -> Result<Self> {
        if !binary.is_file() {
            return Err(ChainError::Anvil(format!(
                "{} not found; run the setup step (scripts/setup) to install the pinned anvil",
                binary.display()
            )));
        }
        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        let config_dir = ConfigDir::new()?;
        let config_out = config_dir.0.join("anvil.json");
        let mut cmd = Command::new(binary);
        cmd.arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .arg("--config-out")
            .arg(&config_out)
            // Historical states anvil spills to disk go into the node's own temporary directory
            // (removed with it), not ~/.foundry/anvil/tmp, where a killed node leaves them forever.
            .arg("--cache-path")
            .arg(config_dir.0.join("states"));
        if let Some(block_time) = options.block_time {
            cmd.arg("--block-time").arg(block_time.to_string());
        }
        if let Some(chain_id) = options.chain_id {
            cmd.arg("--chain-id").arg(chain_id.to_string());
        }
        if let Some(accounts) = options.accounts {
            cmd.arg("--accounts").arg(accounts.to_string());
        }
        cmd.args(&options.extra_args);
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to send SIGTERM to the
        // child when this process dies, so a killed `nest dev` never leaves anvil behind.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| ChainError::Anvil(format!("cannot start {}: {e}", binary.display())))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ChainError::Anvil("no stdout pipe".into()))?;
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining stdout for the node's whole life so it never blocks on a full pipe.
            let mut announced = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !announced && line.contains("Listening on") {
                    announced = true;
                    let _ = ready_tx.send(());
                }
            }
        });
        let mut node = Self {
            child,
            port,
            keys: Vec::new(),
            _config_dir: config_dir,
        };
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(()) => {}
            Err(_) => {
                let status = node.child.try_wait().ok().flatten();
                return Err(ChainError::Anvil(match status {
                    Some(status) => {
                        format!("exited before listening ({status}); is port {port} taken?")
                    }
                    None => format!("did not listen within {START_TIMEOUT:?}"),
                }));
            }
        }
        node.keys = read_keys(&config_out)?;
        Ok(node)
    }

    /// The HTTP endpoint.
    pub fn endpoint(&self) -> Url {
        // The format is fixed and always parses.
        Url::parse(&format!("http://127.0.0.1:{}", self.port)).expect("loopback URL is valid")
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Private keys of the funded dev accounts, in anvil's order.
    pub fn keys(&self) -> &[PrivateKeySigner] {
        &self.keys
    }

    /// Addresses of the funded dev accounts.
    pub fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(|k| k.address()).collect()
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AnvilNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| ChainError::Anvil(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| ChainError::Anvil(format!("no free port: {e}")))
}

fn read_keys(config_out: &Path) -> Result<Vec<PrivateKeySigner>> {
    let text = std::fs::read_to_string(config_out).map_err(|e| ChainError::io(config_out, e))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ChainError::json(config_out, e))?;
    let keys = value
        .get("private_keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| ChainError::Anvil("--config-out has no private_keys".into()))?;
    keys.iter()
        .map(|k| {
            k.as_str()
                .and_then(|s| s.parse::<PrivateKeySigner>().ok())
                .ok_or_else(|| ChainError::Anvil("malformed dev key in --config-out".into()))
        })
        .collect()
}

/// A private temporary folder for anvil's `--config-out`, removed on drop.
#[derive(Debug)]
struct ConfigDir(PathBuf);

impl ConfigDir {
    fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "nest-anvil-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| ChainError::io(&dir, e))?;
        Ok(Self(dir))
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
