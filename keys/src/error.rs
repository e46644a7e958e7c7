//! The one error type of `nest-keys`, classified so callers decide by kind.
//!
//! No variant ever carries a private key, a PIN or a password: messages name the variable or the
//! file instead, and wrapped errors come from layers that never see the secret (a keystore
//! decryption error says "wrong password", not which one).

use alloy::primitives::Address;
use std::path::PathBuf;

/// Result with [`KeyError`].
pub type Result<T, E = KeyError> = std::result::Result<T, E>;

/// Everything that can go wrong while loading a key, signing, or checking a session token.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The signer configuration is missing a value or has a malformed one.
    #[error("signer configuration: {0}")]
    Config(String),
    /// The configuration chose a backend this build does not include.
    #[error(
        "the {backend} signer is not compiled into this build: enable the `{feature}` cargo feature of nest-keys"
    )]
    BackendDisabled {
        /// Backend name as written in `NEST_SIGNER`.
        backend: &'static str,
        /// Cargo feature that compiles it in.
        feature: &'static str,
    },
    /// A local private key is malformed (the key itself is never included).
    #[error("invalid private key: {0}")]
    InvalidKey(String),
    /// A JSON keystore could not be read or decrypted.
    #[error("keystore {}: {message}", path.display())]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// What went wrong (for example a wrong password).
        message: String,
    },
    /// The PKCS#11 module could not be loaded or initialised.
    #[error("PKCS#11 module {}: {message}", module.display())]
    Pkcs11Module {
        /// Path of the module (shared library).
        module: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No initialised token with this label is present.
    #[error("no PKCS#11 token labelled {label:?} (tokens present: {present})")]
    TokenNotFound {
        /// The label that was looked for.
        label: String,
        /// Labels of the tokens that are present, for the operator.
        present: String,
    },
    /// The token refused the user PIN.
    #[error("the token {token:?} refused the user PIN (wrong PIN)")]
    PinIncorrect {
        /// Token label.
        token: String,
    },
    /// The user PIN is locked after too many failed attempts.
    #[error("the user PIN of token {token:?} is locked; the security officer must reset it")]
    PinLocked {
        /// Token label.
        token: String,
    },
    /// The key is not on the token (or not visible to the logged-in user).
    #[error("no secp256k1 private key {key} on token {token:?}")]
    KeyNotFound {
        /// Token label.
        token: String,
        /// How the key was looked for (`label "x"` or `id 0x..`).
        key: String,
    },
    /// The key exists but cannot sign Ethereum messages (not secp256k1, ambiguous, no public key).
    #[error("unusable key: {0}")]
    UnusableKey(String),
    /// A PKCS#11 call failed.
    #[cfg(feature = "pkcs11")]
    #[error("PKCS#11 {operation}: {source}")]
    Pkcs11 {
        /// What we were doing.
        operation: &'static str,
        /// The module's answer.
        #[source]
        source: cryptoki::error::Error,
    },
    /// AWS KMS refused or could not be reached.
    #[cfg(feature = "aws-kms")]
    #[error("AWS KMS: {0}")]
    AwsKms(Box<alloy_signer_aws::AwsSignerError>),
    /// Google Cloud KMS refused or could not be reached.
    #[cfg(feature = "gcp-kms")]
    #[error("Google Cloud KMS: {0}")]
    GcpKms(Box<alloy_signer_gcp::GcpSignerError>),
    /// A backend returned a signature that does not belong to its public key.
    #[error("the signature returned by the {backend} backend does not recover to {address}")]
    SignatureMismatch {
        /// Backend name.
        backend: &'static str,
        /// The key's address.
        address: Address,
    },
    /// Signing failed in alloy's signer layer.
    #[error(transparent)]
    Signer(#[from] alloy::signers::Error),
    /// A blocking task (HSM call, keystore decryption) panicked or was cancelled.
    #[error("background task: {0}")]
    Task(String),
    /// A session token is not of the expected shape (bad encoding, header, JSON or signature).
    #[error("malformed session token: {0}")]
    TokenMalformed(&'static str),
    /// A local key service for development and tests (SoftHSM, LocalStack) could not be set up.
    #[error("local key service: {0}")]
    LocalService(String),
    /// A session token's signature does not match its content: it was altered after signing.
    #[error("session token was tampered with: its signature does not match its content")]
    TokenTampered,
    /// A session token was validly signed, but by a key this verifier does not trust.
    #[error("session token was signed by {signer}, which is not a trusted token key")]
    TokenWrongSigner {
        /// Address of the key that signed it.
        signer: Address,
    },
    /// A session token is past its expiry.
    #[error("session token expired at {expired_at} (unix seconds)")]
    TokenExpired {
        /// The token's `exp` claim.
        expired_at: u64,
    },
}

impl KeyError {
    /// True when retrying the same operation later may succeed: KMS network failures,
    /// timeouts, throttling and server-side errors; an HSM that lost its session or device.
    /// Configuration, authentication and token errors are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11 { source, .. } => crate::pkcs11::is_transient(source),
            #[cfg(feature = "aws-kms")]
            Self::AwsKms(e) => crate::aws_kms::is_transient(e),
            #[cfg(feature = "gcp-kms")]
            Self::GcpKms(e) => crate::gcp_kms::is_transient(e),
            _ => false,
        }
    }

    /// True for the errors that reject a session token (malformed, tampered, wrong signer,
    /// expired): the caller should answer 401, not 500.
    pub fn is_token_rejection(&self) -> bool {
        matches!(
            self,
            Self::TokenMalformed(_)
                | Self::TokenTampered
                | Self::TokenWrongSigner { .. }
                | Self::TokenExpired { .. }
        )
    }
}

// The SDK errors are large; boxed, they keep every `Result` of this crate small.
#[cfg(feature = "aws-kms")]
impl From<alloy_signer_aws::AwsSignerError> for KeyError {
    fn from(e: alloy_signer_aws::AwsSignerError) -> Self {
        Self::AwsKms(Box::new(e))
    }
}

#[cfg(feature = "gcp-kms")]
impl From<alloy_signer_gcp::GcpSignerError> for KeyError {
    fn from(e: alloy_signer_gcp::GcpSignerError) -> Self {
        Self::GcpKms(Box::new(e))
    }
}
