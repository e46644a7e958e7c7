//! The one error type of `nest-store`, classified so callers decide by kind.

use mongodb::error::{ErrorKind, WriteFailure};

/// Server error code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;
/// Server error code for a write conflict inside a transaction.
const WRITE_CONFLICT: i32 = 112;
/// Server error code: the transaction no longer exists (ended by the server or killed).
const NO_SUCH_TRANSACTION: i32 = 251;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server could not be reached within the configured time.
    #[error("cannot reach the store at {uri} within {timeout_ms} ms: {message}")]
    Unreachable {
        /// Connection string without credentials.
        uri: String,
        /// How long we waited.
        timeout_ms: u64,
        /// What the driver said.
        message: String,
    },
    /// The database was written by a newer Nest whose schema this build does not know.
    #[error(
        "the store's schema is version {found}, newer than this build supports ({supported}); upgrade Nest instead of running an old build against it"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// The configuration is invalid (bad URI, empty database name).
    #[error("store configuration: {0}")]
    Config(String),
    /// A caller passed a value the store cannot use (a forged page cursor).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A value read from the store does not have the expected shape.
    #[error("corrupt document in {collection}: {message}")]
    Corrupt {
        /// Collection name.
        collection: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A state change was refused because the record is not in the expected state.
    #[error("{entity} {id} is not in state {expected}")]
    StateConflict {
        /// Entity kind.
        entity: &'static str,
        /// Its id.
        id: String,
        /// State the caller expected.
        expected: String,
    },
    /// The local store server process could not be started or did not become ready.
    #[error("local store server: {0}")]
    Process(#[from] nest_process::ProcessError),
    /// The local server (SecantusDB) could not be set up (its data folder, the shared test
    /// server).
    #[error("local store server: {0}")]
    LocalServer(String),
    /// Any other driver error.
    #[error(transparent)]
    Driver(#[from] mongodb::error::Error),
    /// A document could not be encoded.
    #[error("encoding: {0}")]
    Encode(#[from] bson::ser::Error),
    /// A document could not be decoded.
    #[error("decoding: {0}")]
    Decode(#[from] bson::de::Error),
}

impl StoreError {
    /// True when the write hit a unique index (error 11000): the record already exists, which
    /// idempotent writers treat as done.
    pub fn is_duplicate_key(&self) -> bool {
        match self {
            Self::Driver(e) => is_duplicate_key(e),
            _ => false,
        }
    }

    /// True when retrying the operation (or the whole transaction) may succeed: network errors,
    /// write conflicts, primary changes, and errors the server labels transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Driver(e) => is_transient(e),
            _ => false,
        }
    }
}

/// True when `e` is a duplicate-key error (including inside a bulk write).
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(failure) => failure.write_errors.as_ref().is_some_and(|errors| {
            !errors.is_empty() && errors.iter().all(|w| w.code == DUPLICATE_KEY)
        }),
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// True when `e` may succeed on retry.
pub(crate) fn is_transient(e: &mongodb::error::Error) -> bool {
    if e.contains_label(mongodb::error::TRANSIENT_TRANSACTION_ERROR)
        || e.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
        || e.contains_label(mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT)
    {
        return true;
    }
    match e.kind.as_ref() {
        // A transaction the server ended under us (reaped after its lifetime limit, or killed
        // by an operator's killAllSessions) is retried from the start: NoSuchTransaction on
        // MongoDB, "transaction already closed" on the local server (which labels neither).
        ErrorKind::Command(c) => {
            c.code == WRITE_CONFLICT
                || c.code == NO_SUCH_TRANSACTION
                || c.message.contains("transaction already closed")
        }
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. } => true,
        _ => false,
    }
}

/// Result alias for `nest-store`.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
