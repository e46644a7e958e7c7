//! The `nest` binary as a supervised child process.

use crate::TestChain;
use nest_process::ChildProcess;
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// A `nest` command line, configured through its environment like a deployment would be.
#[derive(Debug)]
pub struct NestCommand {
    command: Command,
    name: String,
}

impl NestCommand {
    /// `nest <args>` with the binary found by [`NestCommand::binary`].
    pub fn new(args: &[&str]) -> Self {
        Self::at(&Self::binary(), args)
    }

    /// `binary <args>` (a crate's own tests pass `env!("CARGO_BIN_EXE_nest")`), with
    /// `NEST_ROOT` set to the checkout and logs at `warn` (override with `env`).
    pub fn at(binary: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env("NEST_ROOT", crate::root())
            .env("NEST_LOG", "warn");
        Self {
            command,
            name: format!("nest {}", args.first().copied().unwrap_or_default()),
        }
    }

    /// The `nest` binary: `NEST_BIN`, else the one Cargo built beside the running test
    /// (`target/debug/nest`; `cargo test --workspace` builds it).
    pub fn binary() -> PathBuf {
        if let Some(path) = std::env::var_os("NEST_BIN") {
            return PathBuf::from(path);
        }
        let exe = std::env::current_exe().expect("the test binary's path");
        // target/debug/deps/<test> -> target/debug/nest
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test binary lies in target/<profile>/deps");
        let binary = dir.join("nest");
        assert!(
            binary.is_file(),
            "{} not built: run `cargo build -p nest` first (or set NEST_BIN)",
            binary.display()
        );
        binary
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Adds arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.command.args(args);
        self
    }

    /// Points it at `chain`: `NEST_RPC_URL` and `NEST_MANIFEST`.
    pub fn chain(self, chain: &TestChain) -> Self {
        self.env("NEST_RPC_URL", chain.endpoint().as_str())
            .env("NEST_MANIFEST", &chain.manifest_path)
    }

    /// Points it at database `database` on the store at `uri`.
    pub fn store(self, uri: &str, database: &str) -> Self {
        self.env("NEST_MONGODB_URI", uri)
            .env("NEST_MONGODB_DATABASE", database)
    }

    /// Starts it, supervised (stopped on drop, killed with the test).
    pub fn spawn(self) -> ChildProcess {
        let name = self.name.clone();
        ChildProcess::spawn(name, self.command).expect("nest starts")
    }

    /// Starts `nest api` (this command, made with `["api"]`) on a free loopback port, its
    /// metrics on any port, and waits until it listens: the process and a client for it.
    pub fn serve_api(self) -> (ChildProcess, crate::HttpClient) {
        let port = crate::free_port();
        let listen = format!("127.0.0.1:{port}");
        let api = self
            .args(&["--listen", &listen, "--metrics-listen", "127.0.0.1:0"])
            .spawn();
        api.wait_for_port(port, std::time::Duration::from_secs(60))
            .expect("nest api listens");
        (
            api,
            crate::HttpClient::new(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
        )
    }

    /// Runs it to completion.
    pub fn output(mut self) -> Output {
        self.command.output().expect("nest runs")
    }

    /// The underlying command.
    pub fn into_command(self) -> Command {
        self.command
    }
}
