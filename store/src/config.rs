//! Store configuration: connection string, database name and time bounds.

use crate::error::{Result, StoreError};
use std::time::Duration;

/// Database used when none is configured.
pub const DEFAULT_DATABASE: &str = "nest";

/// How to reach the store.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// MongoDB connection string (`NEST_MONGODB_URI`).
    pub uri: String,
    /// Database name (`NEST_MONGODB_DATABASE`).
    pub database: String,
    /// How long to look for a usable server before failing (also bounds every operation's wait
    /// for a server).
    pub server_selection_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Application name reported to the server.
    pub app_name: String,
}

impl std::fmt::Debug for StoreConfig {
    // The URI may carry a password: show it redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("uri", &redact_uri(&self.uri))
            .field("database", &self.database)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .finish()
    }
}

impl StoreConfig {
    /// A configuration for `uri` and `database` with default time bounds.
    pub fn new(uri: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: database.into(),
            server_selection_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            app_name: "nest".into(),
        }
    }

    /// Checks the values before connecting.
    pub fn validate(&self) -> Result<()> {
        if !(self.uri.starts_with("mongodb://") || self.uri.starts_with("mongodb+srv://")) {
            return Err(StoreError::Config(format!(
                "the connection string must start with mongodb:// or mongodb+srv://, got {}",
                redact_uri(&self.uri)
            )));
        }
        if self.database.is_empty()
            || self.database.len() > 63
            || self
                .database
                .contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return Err(StoreError::Config(format!(
                "invalid database name {:?}",
                self.database
            )));
        }
        Ok(())
    }
}

/// The connection string with any password replaced.
pub fn redact_uri(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if !host.is_empty() => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configuration_is_refused_with_a_clear_message() {
        let err = StoreConfig::new("http://x", "nest")
            .validate()
            .expect_err("scheme");
        assert!(err.to_string().contains("mongodb://"), "{err}");
        let err = StoreConfig::new("mongodb://h", "a.b")
            .validate()
            .expect_err("name");
        assert!(err.to_string().contains("invalid database name"), "{err}");
        StoreConfig::new("mongodb://127.0.0.1:27017", "nest")
            .validate()
            .expect("valid");
    }

    #[test]
    fn passwords_never_show() {
        let config = StoreConfig::new("mongodb://nest:s3cret@db.example:27017/?tls=true", "nest");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("nest:***@db.example"), "{shown}");
    }
}
