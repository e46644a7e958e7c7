#![doc = include_str!("../README.md")]

#[cfg(feature = "aws-kms")]
pub mod aws_kms;
pub mod config;
pub mod error;
#[cfg(feature = "gcp-kms")]
pub mod gcp_kms;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;
#[cfg(any(feature = "pkcs11", feature = "aws-kms", feature = "gcp-kms"))]
mod signature;
mod signer;
#[cfg(feature = "test-utils")]
pub mod testing;
pub mod token;

pub use config::{
    AwsKmsConfig, GcpKeyVersion, GcpKmsConfig, LocalKeyConfig, Pkcs11Config, Pkcs11KeySelector,
    SignerConfig,
};
pub use error::{KeyError, Result};
#[cfg(feature = "pkcs11")]
pub use pkcs11::{Pkcs11Signer, generate_secp256k1_key};
pub use secrecy::SecretString;
pub use signer::NestSigner;
pub use token::{SessionClaims, TokenSigner, TokenVerifier};

/// Expands its input only when this crate is built with the `aws-kms` feature, so a dependent's
/// tests can follow `--features nest-keys/aws-kms` (the relayer's KMS test does).
#[cfg(feature = "aws-kms")]
#[macro_export]
macro_rules! with_aws_kms {
    ($($item:tt)*) => { $($item)* };
}

/// Expands its input only when this crate is built with the `aws-kms` feature, so a dependent's
/// tests can follow `--features nest-keys/aws-kms` (the relayer's KMS test does).
#[cfg(not(feature = "aws-kms"))]
#[macro_export]
macro_rules! with_aws_kms {
    ($($item:tt)*) => {};
}
