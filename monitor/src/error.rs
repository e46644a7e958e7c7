//! The one error type of `nest-monitor`.

/// What can go wrong reading series, posting alerts or loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// An HTTP call to Prometheus or Alertmanager failed (connection, status or body).
    #[error("{service} at {url}: {source}")]
    Http {
        /// `prometheus` or `alertmanager`.
        service: &'static str,
        /// The URL called.
        url: String,
        /// The failure.
        source: reqwest::Error,
    },
    /// Prometheus answered, but with an error or an unexpected document.
    #[error("prometheus query {query:?}: {message}")]
    Query {
        /// The PromQL expression.
        query: String,
        /// Prometheus's error, or what was unexpected.
        message: String,
    },
    /// The series configuration is invalid.
    #[error("monitor configuration: {0}")]
    Config(String),
    /// A local Prometheus, Alertmanager or promtool could not be started or did not get ready.
    #[error(transparent)]
    Process(#[from] nest_process::ProcessError),
    /// A data set could not be read.
    #[error("data set {path}: {message}")]
    DataSet {
        /// The file.
        path: String,
        /// What is wrong, with the line number when known.
        message: String,
    },
}

impl MonitorError {
    /// True when retrying later may succeed (the server was unreachable or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http { source, .. } => {
                source.is_connect()
                    || source.is_timeout()
                    || source.status().is_some_and(|s| s.is_server_error())
            }
            _ => false,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = MonitorError> = std::result::Result<T, E>;
