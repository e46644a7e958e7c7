//! A local anvil node run from the pinned binary: started on a free (or given) loopback port,
//! stopped when dropped, and killed by the kernel if its parent dies (no orphans): the
//! supervision is `nest-process`'s [`ChildProcess`].

use crate::error::{ChainError, Result};
use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use nest_process::ChildProcess;
use std::{
    path::{Path, PathBuf},
    process::Command,
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

/// A running anvil process, supervised by [`ChildProcess`] (stopped on drop).
#[derive(Debug)]
pub struct AnvilNode {
    process: ChildProcess,
    port: u16,
    keys: Vec<PrivateKeySigner>,
    _config_dir: ConfigDir,
}

impl AnvilNode {
    /// Starts `binary` with `options` and waits until it listens.
    pub fn spawn(binary: &Path, options: &AnvilOptions) -> Result<Self> {
        ChildProcess::require_installed(
            binary,
            "run the setup step (scripts/setup) to install the pinned anvil",
        )?;
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
        let process = ChildProcess::spawn(format!("anvil:{port}"), cmd)?;
        process.wait_for_line("\"Listening on\"", START_TIMEOUT, |line| {
            line.contains("Listening on")
        })?;
        let keys = read_keys(&config_out)?;
        Ok(Self {
            process,
            port,
            keys,
            _config_dir: config_dir,
        })
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
        self.process.pid()
    }

    /// The supervised process (its output, signals).
    pub fn process(&self) -> &ChildProcess {
        &self.process
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(nest_process::free_port()?)
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
