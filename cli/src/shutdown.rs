//! The one stop signal of every long-running command: SIGINT (Ctrl-C) or SIGTERM (what process
//! managers and container runtimes send). Installed once per process; clones wait on the same
//! signal, so every part of `nest dev` and each service command stops on either.

use tokio::{
    signal::unix::{SignalKind, signal},
    sync::watch,
};
use tracing::info;

/// A shutdown signal shared by the tasks of a command. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown {
    stopped: watch::Receiver<bool>,
}

impl Shutdown {
    /// Registers SIGINT and SIGTERM now (a signal arriving later during start-up still counts)
    /// and returns the signal they trigger.
    pub(crate) fn install() -> eyre::Result<Self> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            info!(signal = name, "stopping");
            let _ = stop.send(true);
        });
        Ok(Self { stopped })
    }

    /// Completes once a stop signal came.
    pub(crate) async fn wait(&self) {
        let mut stopped = self.stopped.clone();
        // An error means the signal task is gone, which happens only after it sent.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }
}
