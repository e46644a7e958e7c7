//! Real key services for tests and benchmarks (feature `test-utils`: never in release builds), each on a temporary folder and (for LocalStack) a
//! free loopback port, stopped and removed when the process exits:
//!
//! - [`SoftHsm`]: a SoftHSM2 token directory (Debian `softhsm2`), for the PKCS#11 backend.
//! - [`LocalStackKms`]: LocalStack's KMS (built by `scripts/setup` into the tools cache), for the
//!   AWS KMS backend.

#[cfg(any(feature = "pkcs11", feature = "aws-kms"))]
use crate::error::{KeyError, Result};
#[cfg(any(feature = "pkcs11", feature = "aws-kms"))]
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The tools cache (`NEST_CACHE_DIR`, else `~/.cache/nest`).
#[cfg(feature = "aws-kms")]
fn cache_dir() -> PathBuf {
    std::env::var_os("NEST_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nest")))
        .unwrap_or_else(|| PathBuf::from(".cache/nest"))
}

#[cfg(any(feature = "pkcs11", feature = "aws-kms"))]
fn harness_error(message: impl Into<String>) -> KeyError {
    KeyError::LocalService(message.into())
}

#[cfg(any(feature = "pkcs11", feature = "aws-kms"))]
/// A fresh, empty folder under the system temp dir, unique to this process and `name`.
fn fresh_dir(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("nest-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| harness_error(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

#[cfg(feature = "pkcs11")]
/// Runs `command`, turning a failure into an error that carries its output.
fn run(mut command: Command, what: &str) -> Result<String> {
    let output = command
        .output()
        .map_err(|e| harness_error(format!("{what}: cannot run: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(harness_error(format!(
            "{what} failed ({}): {}",
            output.status,
            text.trim()
        )));
    }
    Ok(text)
}

#[cfg(feature = "pkcs11")]
pub use softhsm::SoftHsm;

#[cfg(feature = "pkcs11")]
mod softhsm {
    use super::*;
    use crate::config::{DEFAULT_PKCS11_MODULE, Pkcs11Config};
    use std::sync::OnceLock;

    static SHARED: OnceLock<std::result::Result<SoftHsm, String>> = OnceLock::new();

    /// A SoftHSM2 token directory for this process.
    ///
    /// SoftHSM reads its configuration from `SOFTHSM2_CONF` once, when the module is initialised,
    /// so there is one per process: tests in one binary share it (each uses its own token or key
    /// labels), and tokens are created before the first signer opens the module.
    #[derive(Debug)]
    pub struct SoftHsm {
        dir: PathBuf,
        conf: PathBuf,
    }

    extern "C" fn remove_token_dir() {
        if let Some(Ok(hsm)) = SHARED.get() {
            let _ = std::fs::remove_dir_all(&hsm.dir);
        }
    }

    impl SoftHsm {
        /// Security-officer PIN of the tokens [`SoftHsm::init_token`] creates.
        pub const SO_PIN: &str = "nest-test-so-pin";

        /// The process's token directory, created on first use: writes a `softhsm2.conf` whose
        /// token directory is a fresh temporary folder and points `SOFTHSM2_CONF` at it. The
        /// folder is removed at exit.
        ///
        /// # Safety
        ///
        /// This sets an environment variable, so no other thread may read or write the
        /// environment while the first call runs: call it before starting threads (a benchmark's
        /// `main`), or first thing in every test of the binary (the others then wait on its
        /// initialisation rather than touch the environment).
        pub unsafe fn process_wide() -> Result<&'static Self> {
            let shared = SHARED.get_or_init(|| {
                let dir = fresh_dir("softhsm").map_err(|e| e.to_string())?;
                let tokens = dir.join("tokens");
                std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
                let conf = dir.join("softhsm2.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                        tokens.display()
                    ),
                )
                .map_err(|e| format!("{}: {e}", conf.display()))?;
                // SAFETY: the caller guarantees no concurrent access to the environment.
                unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
                // SAFETY: registering a plain extern "C" function to run at exit.
                unsafe { libc::atexit(remove_token_dir) };
                Ok(Self { dir, conf })
            });
            shared.as_ref().map_err(|e| harness_error(e.clone()))
        }

        /// The PKCS#11 module: `NEST_PKCS11_MODULE`, else Debian's SoftHSM2 path.
        pub fn module() -> PathBuf {
            std::env::var_os("NEST_PKCS11_MODULE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_PKCS11_MODULE))
        }

        /// The configuration file `SOFTHSM2_CONF` points at.
        pub fn conf(&self) -> &Path {
            &self.conf
        }

        /// Initialises a token labelled `label` in a free slot with user PIN `pin` (and
        /// [`Self::SO_PIN`]) with `softhsm2-util`.
        pub fn init_token(&self, label: &str, pin: &str) -> Result<()> {
            let mut command = Command::new("softhsm2-util");
            command
                .env("SOFTHSM2_CONF", &self.conf)
                .args([
                    "--init-token",
                    "--free",
                    "--label",
                    label,
                    "--so-pin",
                    Self::SO_PIN,
                ])
                .args(["--pin", pin]);
            run(
                command,
                "softhsm2-util --init-token (install Debian's softhsm2)",
            )
            .map(|_| ())
        }

        /// A signer configuration for the key labelled `key_label` on token `token`.
        pub fn config(&self, token: &str, pin: &str, key_label: &str) -> Pkcs11Config {
            Pkcs11Config::new(Self::module(), token, pin, key_label)
        }
    }
}

#[cfg(feature = "aws-kms")]
pub use localstack::LocalStackKms;

#[cfg(feature = "aws-kms")]
mod localstack {
    use super::*;
    use crate::config::AwsKmsConfig;
    use aws_config::{BehaviorVersion, ConfigLoader, Region};
    use aws_sdk_kms::{
        config::Credentials,
        types::{KeySpec, KeyUsageType},
    };
    use nest_process::ChildProcess;
    use std::{
        io::{Read, Write},
        net::TcpStream,
        sync::OnceLock,
        time::{Duration, Instant},
    };
    use tracing::info;

    /// The LocalStack release the tests run (`keys/localstack-requirements.txt`).
    const LOCALSTACK_VERSION: &str = LocalStackKms::VERSION;

    /// Region the tests use; LocalStack accepts any.
    const REGION: &str = LocalStackKms::REGION;

    /// How long LocalStack may take to serve KMS (it takes 2-6 s on an idle machine).
    const START_TIMEOUT: Duration = Duration::from_secs(90);

    static SHARED: OnceLock<std::result::Result<LocalStackKms, String>> = OnceLock::new();

    /// A running LocalStack serving KMS on a loopback port; stopped (its whole process group) on
    /// drop or, for the shared one, at process exit, and through the parent-death signal if this
    /// process dies.
    #[derive(Debug)]
    pub struct LocalStackKms {
        process: ChildProcess,
        port: u16,
        dir: PathBuf,
    }

    extern "C" fn stop_shared() {
        if let Some(Ok(kms)) = SHARED.get() {
            kms.stop();
            let _ = std::fs::remove_dir_all(&kms.dir);
        }
    }

    impl LocalStackKms {
        /// The LocalStack release the tests run (`keys/localstack-requirements.txt`).
        pub const VERSION: &str = "2026.3.0";

        /// Region the tests use; LocalStack accepts any.
        pub const REGION: &str = "us-east-1";

        /// The venv's Python: `NEST_LOCALSTACK_PYTHON`, else the tools cache `scripts/setup`
        /// fills.
        pub fn python() -> PathBuf {
            if let Some(path) = std::env::var_os("NEST_LOCALSTACK_PYTHON") {
                return PathBuf::from(path);
            }
            cache_dir().join(format!("tools/localstack-{LOCALSTACK_VERSION}/bin/python"))
        }

        /// One LocalStack for the whole process, started on first use and stopped at exit.
        pub fn shared() -> Result<&'static Self> {
            let shared = SHARED.get_or_init(|| {
                let dir = fresh_dir("localstack").map_err(|e| e.to_string())?;
                let started = Self::start(&dir).map_err(|e| e.to_string());
                if started.is_ok() {
                    // SAFETY: registering a plain extern "C" function to run at exit.
                    unsafe { libc::atexit(stop_shared) };
                }
                started
            });
            shared.as_ref().map_err(|e| harness_error(e.clone()))
        }

        /// Starts LocalStack (KMS only) with its state in `dir` on a free loopback port and
        /// waits until KMS answers.
        pub fn start(dir: &Path) -> Result<Self> {
            let python = Self::python();
            ChildProcess::require_installed(
                &python,
                &format!(
                    "run scripts/setup (it installs LocalStack {LOCALSTACK_VERSION} once) or set NEST_LOCALSTACK_PYTHON"
                ),
            )
            .map_err(|e| harness_error(e.to_string()))?;
            std::fs::create_dir_all(dir)
                .map_err(|e| harness_error(format!("{}: {e}", dir.display())))?;
            let port = nest_process::free_port().map_err(|e| harness_error(e.to_string()))?;
            let mut command = Command::new(&python);
            command
                .args(["-m", "localstack.runtime.main"])
                .current_dir(dir)
                .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
                .env("SERVICES", "kms")
                .env("OVERRIDE_IN_DOCKER", "0")
                .env("FILESYSTEM_ROOT", dir)
                .env("DNS_ADDRESS", "0")
                .env("SKIP_SSL_CERT_DOWNLOAD", "1")
                .env("LOCALSTACK_TELEMETRY", "0")
                .env("DISABLE_EVENTS", "1");
            // LocalStack starts helpers of its own: its whole process group is stopped.
            let process = ChildProcess::builder(format!("localstack:{port}"), command)
                .process_group(true)
                .log_file(dir.join("localstack.log"))
                .start()
                .map_err(|e| harness_error(e.to_string()))?;
            let started = Instant::now();
            process
                .wait_until("KMS available", START_TIMEOUT, || kms_ready(port))
                .map_err(|e| harness_error(format!("LocalStack: {e}")))?;
            let kms = Self {
                process,
                port,
                dir: dir.to_path_buf(),
            };
            info!(
                port,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "LocalStack KMS started"
            );
            Ok(kms)
        }

        /// The endpoint URL.
        pub fn endpoint(&self) -> String {
            format!("http://127.0.0.1:{}", self.port)
        }

        /// An AWS configuration loader with dummy credentials, the test region and this endpoint.
        pub fn loader(&self) -> ConfigLoader {
            aws_config::defaults(BehaviorVersion::latest())
                .credentials_provider(Credentials::new(
                    "test",
                    "test",
                    None,
                    None,
                    "nest-keys-localstack",
                ))
                .region(Region::new(REGION))
                .endpoint_url(self.endpoint())
        }

        /// A KMS client for this LocalStack.
        pub async fn client(&self) -> aws_sdk_kms::Client {
            aws_sdk_kms::Client::new(&self.loader().load().await)
        }

        /// Creates an `ECC_SECG_P256K1` `SIGN_VERIFY` key and returns its id.
        pub async fn create_secp256k1_key(&self) -> Result<String> {
            let created = self
                .client()
                .await
                .create_key()
                .key_spec(KeySpec::EccSecgP256K1)
                .key_usage(KeyUsageType::SignVerify)
                .description("nest-keys test key")
                .send()
                .await
                .map_err(|e| {
                    harness_error(format!(
                        "CreateKey: {}",
                        aws_sdk_kms::error::DisplayErrorContext(&e)
                    ))
                })?;
            created
                .key_metadata()
                .map(|m| m.key_id().to_string())
                .ok_or_else(|| harness_error("CreateKey answered without key metadata"))
        }

        /// A signer configuration for `key_id` on this LocalStack.
        pub fn config(&self, key_id: &str) -> AwsKmsConfig {
            AwsKmsConfig {
                key_id: key_id.to_string(),
                endpoint: Some(self.endpoint()),
                region: Some(REGION.to_string()),
            }
        }

        /// Stops LocalStack: SIGTERM to its process group, SIGKILL after 3 s.
        pub fn stop(&self) {
            self.process.stop(Duration::from_secs(3));
        }
    }

    /// True once LocalStack's health endpoint reports KMS available.
    fn kms_ready(port: u16) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET /_localstack/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut body = String::new();
        let _ = stream.read_to_string(&mut body);
        body.starts_with("HTTP/1.")
            && body.contains(" 200 ")
            && (body.contains("\"kms\": \"available\"") || body.contains("\"kms\": \"running\""))
    }
}
