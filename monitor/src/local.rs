//! Real Prometheus and Alertmanager for tests and `nest dev --monitoring`: each on a free
//! loopback port with its state in a folder of the caller's, stopped when dropped. The binaries
//! come from the Debian packages `prometheus` and `prometheus-alertmanager` (scripts/setup),
//! or `NEST_PROMETHEUS_BIN` / `NEST_ALERTMANAGER_BIN` / `NEST_PROMTOOL_BIN`.

use crate::{MonitorError, Result};
use nest_process::ChildProcess;
use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

/// The shipped rule file.
pub fn rules_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("prometheus/rules/nest.rules.yml")
}

/// The shipped Alertmanager configuration.
pub fn alertmanager_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("alertmanager/alertmanager.yml")
}

/// The shipped Alertmanager templates folder.
pub fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("alertmanager/templates")
}

fn bin(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn harness(message: impl Into<String>) -> MonitorError {
    MonitorError::Config(message.into())
}

/// A free loopback port (free when asked; the caller binds it soon after).
pub fn free_port() -> Result<u16> {
    Ok(nest_process::free_port()?)
}

/// Starts `command` supervised by `nest-process` (stopped SIGTERM-then-SIGKILL when dropped,
/// and with this process even when it is killed outright: no orphaned Prometheus after
/// `kill -9 nest`), its output in `log`, then waits until `GET /-/ready` on `port` answers 200.
fn spawn_ready(
    command: Command,
    name: &'static str,
    port: u16,
    log: &Path,
) -> Result<ChildProcess> {
    let process = ChildProcess::builder(name, command).log_file(log).start()?;
    process.wait_until("GET /-/ready", Duration::from_secs(30), || {
        http_status(port, "/-/ready") == Some(200)
    })?;
    Ok(process)
}

/// The status code of a plain `GET path` on a loopback port.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A Prometheus server.
#[derive(Debug)]
pub struct PrometheusServer {
    _process: ChildProcess,
    port: u16,
}

impl PrometheusServer {
    /// Starts Prometheus with `config` (YAML text, written to `dir/prometheus.yml`; rule files it
    /// names are read relative to `dir`) and its storage in `dir/data`.
    pub fn start(dir: &Path, config: &str) -> Result<Self> {
        let (config_path, port) = prepare(dir, "prometheus.yml", config)?;
        let mut command = Command::new(bin("NEST_PROMETHEUS_BIN", "prometheus"));
        command
            .current_dir(dir)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Backfilled test data lies in the past.
            .arg("--storage.tsdb.retention.time=100y")
            .arg("--log.level=warn");
        let process = spawn_ready(command, "prometheus", port, &dir.join("prometheus.log"))?;
        Ok(Self {
            _process: process,
            port,
        })
    }

    /// Its base URL.
    pub fn url(&self) -> url::Url {
        loopback_url(self.port)
    }
}

/// An Alertmanager (clustering off).
#[derive(Debug)]
pub struct AlertmanagerServer {
    _process: ChildProcess,
    port: u16,
}

impl AlertmanagerServer {
    /// Starts Alertmanager with `config` (YAML text, written to `dir/alertmanager.yml`) and its
    /// state in `dir/data`; `env` is added to its environment (e.g. AWS credentials for SNS).
    pub fn start(dir: &Path, config: &str, env: &[(&str, &str)]) -> Result<Self> {
        let (config_path, port) = prepare(dir, "alertmanager.yml", config)?;
        let mut command = Command::new(bin("NEST_ALERTMANAGER_BIN", "prometheus-alertmanager"));
        command
            .current_dir(dir)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .envs(env.iter().copied());
        let process = spawn_ready(command, "alertmanager", port, &dir.join("alertmanager.log"))?;
        Ok(Self {
            _process: process,
            port,
        })
    }

    /// Its base URL.
    pub fn url(&self) -> url::Url {
        loopback_url(self.port)
    }
}

/// Creates `dir/data`, writes `config` to `dir/file` and picks a port.
fn prepare(dir: &Path, file: &str, config: &str) -> Result<(PathBuf, u16)> {
    std::fs::create_dir_all(dir.join("data"))
        .map_err(|e| harness(format!("{}: {e}", dir.display())))?;
    let path = dir.join(file);
    std::fs::write(&path, config).map_err(|e| harness(format!("{}: {e}", path.display())))?;
    Ok((path, free_port()?))
}

fn loopback_url(port: u16) -> url::Url {
    // A literal that always parses: only the port varies.
    url::Url::parse(&format!("http://127.0.0.1:{port}/"))
        .unwrap_or_else(|_| unreachable!("a loopback URL with a port parses"))
}

/// Writes `series` (name, points) as OpenMetrics gauges `metric{series="name"}` and turns them
/// into TSDB blocks in `data_dir` with `promtool tsdb create-blocks-from openmetrics`, so a
/// Prometheus started on `data_dir` serves them.
pub fn backfill(
    dir: &Path,
    data_dir: &Path,
    metric: &str,
    series: &[(&str, &[crate::Point])],
) -> Result<()> {
    use std::fmt::Write as _;
    let mut text = format!("# TYPE {metric} gauge\n");
    for (name, points) in series {
        for p in *points {
            let _ = writeln!(text, "{metric}{{series=\"{name}\"}} {} {}", p.value, p.ts);
        }
    }
    text.push_str("# EOF\n");
    let input = dir.join("backfill.om");
    std::fs::write(&input, text).map_err(|e| harness(format!("{}: {e}", input.display())))?;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| harness(format!("{}: {e}", data_dir.display())))?;
    let output = Command::new(bin("NEST_PROMTOOL_BIN", "promtool"))
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        // Few large blocks: one per 2 h (the default) makes Prometheus start slowly.
        .arg("--max-block-duration=2000h")
        .arg(&input)
        .arg(data_dir)
        .output()
        .map_err(|e| harness(format!("promtool: {e}")))?;
    if !output.status.success() {
        return Err(harness(format!(
            "promtool tsdb create-blocks-from failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let _ = std::fs::remove_file(&input);
    Ok(())
}
