//! The one error type of `nest-keyring`.

use std::path::PathBuf;

/// Result with [`KeyRingError`].
pub type Result<T, E = KeyRingError> = std::result::Result<T, E>;

/// Everything that can go wrong while managing key versions.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// Loading a key or signing failed.
    #[error(transparent)]
    Key(#[from] nest_keys::KeyError),
    /// The store failed, or refused a state change another instance made first.
    #[error(transparent)]
    Store(#[from] nest_store::StoreError),
    /// A key file could not be written or read.
    #[error("key file {}: {message}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong (never the key or the password).
        message: String,
    },
    /// The ring has no active version (it was never created, or a rotation is half-done).
    #[error("the {purpose} key ring has no active version: run `nest keys rotate {purpose}`")]
    NoActiveVersion {
        /// Key purpose.
        purpose: String,
    },
    /// The version named does not exist or is not in a state that allows the operation.
    #[error("key version {id}: {reason}")]
    Version {
        /// `{purpose}:{version}`.
        id: String,
        /// Why the operation is refused.
        reason: String,
    },
    /// The ring's configuration is incomplete.
    #[error("key ring configuration: {0}")]
    Config(String),
}
