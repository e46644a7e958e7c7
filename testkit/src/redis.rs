//! A real Redis for tests.

use nest_process::ChildProcess;
use std::{process::Command, time::Duration};

/// A `redis-server` on a free loopback port, without persistence; stopped on drop.
#[derive(Debug)]
pub struct TestRedis {
    process: ChildProcess,
    /// The port it listens on.
    pub port: u16,
}

impl TestRedis {
    /// Starts one and waits until it accepts connections.
    pub fn start() -> Self {
        let port = crate::free_port();
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]);
        let process = ChildProcess::spawn(format!("redis-server:{port}"), command)
            .expect("redis-server (scripts/setup installs it)");
        process
            .wait_for_port(port, Duration::from_secs(10))
            .expect("redis-server starts");
        Self { process, port }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills it (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}
