#![doc = include_str!("../README.md")]

use std::{
    collections::VecDeque,
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Condvar, Mutex, MutexGuard, mpsc},
    time::{Duration, Instant},
};
use tracing::debug;

/// How many lines of output a [`ChildProcess`] keeps in memory.
const KEPT_LINES: usize = 4096;

/// How many lines of output error messages quote.
const TAIL_LINES: usize = 20;

/// Errors of `nest-process`.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program to run is not installed where it was looked for.
    #[error("{program} not found; {hint}")]
    NotInstalled {
        /// The program looked for.
        program: PathBuf,
        /// How to install it.
        hint: String,
    },
    /// The operating system refused to start the program.
    #[error("cannot start {name}: {source}")]
    Spawn {
        /// Name of the process.
        name: String,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
    /// The process exited while it was expected to run.
    #[error("{name} exited ({status}) while {waiting_for}; last output:\n{tail}")]
    Exited {
        /// Name of the process.
        name: String,
        /// Its exit status.
        status: String,
        /// What the caller was waiting for.
        waiting_for: String,
        /// Its last lines of output.
        tail: String,
    },
    /// The process did not become ready in time.
    #[error("{name}: no {waiting_for} after {after:?}; last output:\n{tail}")]
    Timeout {
        /// Name of the process.
        name: String,
        /// What the caller was waiting for.
        waiting_for: String,
        /// How long it waited.
        after: Duration,
        /// Its last lines of output.
        tail: String,
    },
    /// A local resource (a port, a log file, a thread) could not be had.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
}

/// Result of this crate.
pub type Result<T, E = ProcessError> = std::result::Result<T, E>;

/// A loopback port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| ProcessError::Io {
            what: "no free loopback port".into(),
            source,
        })
}

/// True when something accepts TCP connections on `127.0.0.1:port`.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// What the watcher and reader threads share with the handle.
#[derive(Debug, Default)]
struct State {
    lines: VecDeque<String>,
    exit: Option<String>,
    success: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A reader thread that panicked mid-push leaves consistent data behind: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_line(&self, line: String) {
        let mut state = self.lock();
        if state.lines.len() == KEPT_LINES {
            state.lines.pop_front();
        }
        state.lines.push_back(line);
        drop(state);
        self.changed.notify_all();
    }
}

/// How to start a [`ChildProcess`]; see [`ChildProcess::builder`].
#[derive(Debug)]
pub struct Spawn {
    name: String,
    command: Command,
    process_group: bool,
    log_file: Option<PathBuf>,
    echo: bool,
}

impl Spawn {
    /// Puts the child in a process group of its own and signals the whole group on stop, for
    /// programs that start children of their own (LocalStack, `nest dev`).
    pub fn process_group(mut self, yes: bool) -> Self {
        self.process_group = yes;
        self
    }

    /// Appends every line of output to `path` as well.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Forwards every line of output to this process's stderr, prefixed with the name (for
    /// debugging a test: `NEST_TEST_LOG`).
    pub fn echo(mut self, yes: bool) -> Self {
        self.echo = yes;
        self
    }

    /// Starts the process.
    pub fn start(self) -> Result<ChildProcess> {
        let Spawn {
            name,
            mut command,
            process_group,
            log_file,
            echo,
        } = self;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if process_group {
            command.process_group(0);
        }
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to send SIGTERM to the
        // child when the thread that spawned it ends, and that thread (the watcher below) lives
        // exactly as long as the child, so the child goes when this process dies.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let log = match &log_file {
            Some(path) => Some(Arc::new(Mutex::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| ProcessError::Io {
                        what: format!("log file {}", path.display()),
                        source,
                    })?,
            ))),
            None => None,
        };
        let shared = Arc::new(Shared::default());
        let (spawned_tx, spawned_rx) = mpsc::channel();
        let watcher_shared = shared.clone();
        let thread_name = name.clone();
        std::thread::Builder::new()
            .name(format!("child:{name}"))
            .spawn(move || {
                let mut child = match command.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = spawned_tx.send(Err(e));
                        return;
                    }
                };
                let readers = [
                    child
                        .stdout
                        .take()
                        .map(|s| Box::new(s) as Box<dyn Read + Send>),
                    child
                        .stderr
                        .take()
                        .map(|s| Box::new(s) as Box<dyn Read + Send>),
                ];
                let (done_tx, done_rx) = mpsc::channel::<()>();
                let mut readers_running = 0;
                for stream in readers.into_iter().flatten() {
                    readers_running += 1;
                    let done = done_tx.clone();
                    let shared = watcher_shared.clone();
                    let log = log.clone();
                    let prefix = thread_name.clone();
                    std::thread::spawn(move || {
                        // Drain for the child's whole life so it never blocks on a full pipe.
                        for line in BufReader::new(stream).lines() {
                            let Ok(line) = line else { break };
                            if let Some(log) = &log
                                && let Ok(mut file) = log.lock()
                            {
                                let _ = writeln!(file, "{line}");
                            }
                            if echo {
                                eprintln!("[{prefix}] {line}");
                            }
                            shared.push_line(line);
                        }
                        let _ = done.send(());
                    });
                }
                let _ = spawned_tx.send(Ok(child.id()));
                let (status, success) = child
                    .wait()
                    .map(|s| (s.to_string(), s.success()))
                    .unwrap_or_else(|e| (e.to_string(), false));
                // Let the readers take the last lines in, but not wait for grandchildren that
                // inherited the pipes and keep them open.
                let deadline = Instant::now() + Duration::from_secs(2);
                for _ in 0..readers_running {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if done_rx.recv_timeout(left).is_err() {
                        break;
                    }
                }
                let mut state = watcher_shared.lock();
                state.exit = Some(status);
                state.success = success;
                drop(state);
                watcher_shared.changed.notify_all();
            })
            .map_err(|source| ProcessError::Io {
                what: "cannot start a watcher thread".into(),
                source,
            })?;
        let pid = spawned_rx
            .recv()
            .map_err(|_| ProcessError::Io {
                what: format!("the watcher thread of {name} died"),
                source: std::io::Error::other("watcher thread ended"),
            })?
            .map_err(|source| ProcessError::Spawn {
                name: name.clone(),
                source,
            })?;
        debug!(name, pid, "child process started");
        Ok(ChildProcess {
            name,
            pid,
            process_group,
            shared,
        })
    }
}

/// A supervised child process; see the crate documentation. Stopped on drop.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    pid: u32,
    process_group: bool,
    shared: Arc<Shared>,
}

impl ChildProcess {
    /// How `command` will be started, named `name` in logs and errors.
    pub fn builder(name: impl Into<String>, command: Command) -> Spawn {
        Spawn {
            name: name.into(),
            command,
            process_group: false,
            log_file: None,
            echo: false,
        }
    }

    /// Starts `command` with the default options.
    pub fn spawn(name: impl Into<String>, command: Command) -> Result<Self> {
        Self::builder(name, command).start()
    }

    /// Fails with [`ProcessError::NotInstalled`] unless `program` is a file.
    pub fn require_installed(program: &Path, hint: &str) -> Result<()> {
        if program.is_file() {
            Ok(())
        } else {
            Err(ProcessError::NotInstalled {
                program: program.to_path_buf(),
                hint: hint.to_string(),
            })
        }
    }

    /// The name given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status once it has exited.
    pub fn exit_status(&self) -> Option<String> {
        self.shared.lock().exit.clone()
    }

    /// Whether it exited with status 0; `None` while it runs.
    pub fn succeeded(&self) -> Option<bool> {
        let state = self.shared.lock();
        state.exit.as_ref().map(|_| state.success)
    }

    /// The last `n` lines of output, one per line.
    pub fn log_tail(&self, n: usize) -> String {
        let state = self.shared.lock();
        let skip = state.lines.len().saturating_sub(n);
        state
            .lines
            .iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every line of output kept so far (the last few thousand).
    pub fn output(&self) -> Vec<String> {
        self.shared.lock().lines.iter().cloned().collect()
    }

    /// Waits until `127.0.0.1:port` accepts connections.
    pub fn wait_for_port(&self, port: u16, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("listener on port {port}"), timeout, || {
            port_open(port)
        })
    }

    /// Waits until a line of output satisfies `matches`; returns that line.
    pub fn wait_for_line(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let found = self.wait_for_state(timeout, |state| {
            if let Some(line) = state.lines.iter().find(|l| matches(l)) {
                return Some(Ok(line.clone()));
            }
            state.exit.clone().map(Err)
        });
        match found {
            Some(Ok(line)) => Ok(line),
            Some(Err(status)) => Err(self.exited(status, what)),
            None => Err(self.timeout(what, timeout)),
        }
    }

    /// Polls `ready` every 20 ms until it holds, failing early if the process exits.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            if let Some(status) = self.exit_status() {
                return Err(self.exited(status, what));
            }
            if Instant::now() >= deadline {
                return Err(self.timeout(what, timeout));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `timeout` for the process to exit; its status if it did.
    pub fn wait_exit(&self, timeout: Duration) -> Option<String> {
        self.wait_for_state(timeout, |state| state.exit.clone())
    }

    /// Sends `signal` and waits up to `within` for a successful exit (a clean stop).
    pub fn stop_cleanly(&self, signal: i32, within: Duration) -> Result<()> {
        let what = format!("a clean exit on signal {signal}");
        self.signal(signal);
        match self.wait_exit(within) {
            None => Err(self.timeout(&what, within)),
            Some(_) if self.succeeded() == Some(true) => Ok(()),
            Some(status) => Err(self.exited(status, &what)),
        }
    }

    /// Waits until `check` returns something for the shared state, or `timeout` passes.
    fn wait_for_state<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(found) = check(&state) {
                return Some(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Sends `signal` to the process (or its group), unless it has exited.
    pub fn signal(&self, signal: i32) {
        // Checked under the lock the watcher sets the status with: until it is set the child
        // is not reaped, so its pid cannot have been reused.
        let state = self.shared.lock();
        if state.exit.is_some() && !self.process_group {
            return;
        }
        let target = if self.process_group {
            -(self.pid as i32)
        } else {
            self.pid as i32
        };
        // SAFETY: signalling our own child (or the process group we created for it).
        unsafe {
            libc::kill(target, signal);
        }
        drop(state);
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`. With a process group, every
    /// member of the group is stopped.
    pub fn stop(&self, grace: Duration) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + grace;
        let gone = self.wait_exit(grace).is_some();
        if self.process_group {
            while Instant::now() < deadline && self.group_alive() {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.group_alive() {
                self.signal(libc::SIGKILL);
            }
        } else if !gone {
            self.signal(libc::SIGKILL);
        }
        self.wait_exit(Duration::from_secs(5));
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it to be gone.
    pub fn kill(&self) {
        self.signal(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(10));
    }

    fn group_alive(&self) -> bool {
        // SAFETY: signal 0 only checks whether the group still has members.
        unsafe { libc::kill(-(self.pid as i32), 0) == 0 }
    }

    fn exited(&self, status: String, what: &str) -> ProcessError {
        ProcessError::Exited {
            name: self.name.clone(),
            status,
            waiting_for: what.to_string(),
            tail: self.log_tail(TAIL_LINES),
        }
    }

    fn timeout(&self, what: &str, after: Duration) -> ProcessError {
        ProcessError::Timeout {
            name: self.name.clone(),
            waiting_for: what.to_string(),
            after,
            tail: self.log_tail(TAIL_LINES),
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.exit_status().is_none() || self.process_group {
            self.stop(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn output_is_captured_and_lines_awaited() {
        let child =
            ChildProcess::spawn("echo", sh("echo starting; echo ready >&2; sleep 30")).expect("sh");
        let line = child
            .wait_for_line("ready", Duration::from_secs(5), |l| l == "ready")
            .expect("line");
        assert_eq!(line, "ready");
        // stdout and stderr are read by separate threads: the stdout line may land second.
        child
            .wait_for_line("starting", Duration::from_secs(5), |l| l == "starting")
            .expect("stdout captured too");
        assert!(child.log_tail(5).contains("starting"));
        assert!(child.exit_status().is_none());
    }

    #[test]
    fn an_early_exit_fails_the_wait_with_the_output() {
        let child = ChildProcess::spawn("failing", sh("echo boom; exit 3")).expect("sh");
        assert!(child.wait_exit(Duration::from_secs(5)).is_some());
        assert_eq!(child.succeeded(), Some(false));
        let clean =
            ChildProcess::spawn("clean", sh("trap 'exit 0' TERM; echo up; sleep 30 & wait"))
                .expect("sh");
        clean
            .wait_for_line("up", Duration::from_secs(5), |l| l == "up")
            .expect("up");
        clean
            .stop_cleanly(libc::SIGTERM, Duration::from_secs(5))
            .expect("exits 0 on SIGTERM");
        let error = child
            .wait_for_port(free_port().expect("port"), Duration::from_secs(5))
            .expect_err("exits");
        let text = error.to_string();
        assert!(matches!(error, ProcessError::Exited { .. }), "{text}");
        assert!(text.contains("boom") && text.contains('3'), "{text}");
    }

    #[test]
    fn a_wait_times_out_naming_what_it_waited_for() {
        let child = ChildProcess::spawn("sleeper", sh("sleep 30")).expect("sh");
        let error = child
            .wait_for_line("a greeting", Duration::from_millis(100), |l| l == "hi")
            .expect_err("no line");
        assert!(matches!(error, ProcessError::Timeout { .. }));
        assert!(error.to_string().contains("a greeting"));
    }

    #[test]
    fn stop_escalates_to_sigkill_and_drop_stops() {
        let child =
            ChildProcess::spawn("stubborn", sh("trap '' TERM; echo up; sleep 30")).expect("sh");
        child
            .wait_for_line("up", Duration::from_secs(5), |l| l == "up")
            .expect("up");
        let error = child
            .stop_cleanly(libc::SIGTERM, Duration::from_millis(300))
            .expect_err("ignores SIGTERM");
        assert!(matches!(error, ProcessError::Timeout { .. }), "{error}");
        let started = Instant::now();
        child.stop(Duration::from_millis(300));
        assert!(child.exit_status().is_some());
        assert!(started.elapsed() < Duration::from_secs(5));

        let pid = {
            let child = ChildProcess::spawn("dropped", sh("sleep 30")).expect("sh");
            child.pid()
        };
        // SAFETY: probing whether a pid exists.
        assert_ne!(
            unsafe { libc::kill(pid as i32, 0) },
            0,
            "dropped child still runs"
        );
    }

    #[test]
    fn a_process_group_is_stopped_whole() {
        let child = ChildProcess::builder("group", sh("sleep 30 & echo $!; wait"))
            .process_group(true)
            .start()
            .expect("sh");
        let grandchild: i32 = child
            .wait_for_line("grandchild pid", Duration::from_secs(5), |l| {
                l.parse::<i32>().is_ok()
            })
            .expect("pid")
            .parse()
            .expect("number");
        child.stop(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: probing whether a pid exists.
        assert_ne!(
            unsafe { libc::kill(grandchild, 0) },
            0,
            "grandchild still runs"
        );
    }

    #[test]
    fn the_log_file_receives_every_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("out.log");
        let child = ChildProcess::builder("logger", sh("echo one; echo two"))
            .log_file(&path)
            .start()
            .expect("sh");
        assert!(child.wait_exit(Duration::from_secs(5)).is_some());
        assert_eq!(child.succeeded(), Some(true));
        let text = std::fs::read_to_string(&path).expect("log");
        assert_eq!(text, "one\ntwo\n");
    }

    #[test]
    fn a_missing_program_is_named() {
        let error = ChildProcess::require_installed(Path::new("/nonexistent/anvil"), "run setup")
            .expect_err("missing");
        assert_eq!(error.to_string(), "/nonexistent/anvil not found; run setup");
        let error = ChildProcess::spawn("ghost", Command::new("/nonexistent/ghost"))
            .expect_err("cannot spawn");
        assert!(matches!(error, ProcessError::Spawn { .. }));
    }
}
