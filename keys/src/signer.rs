//! [`NestSigner`]: the one signer Nest's services hold, whatever backend keeps the key.

use crate::{
    config::{LocalKeyConfig, SignerConfig, parse_private_key},
    error::{KeyError, Result},
};
use alloy::{
    consensus::SignableTransaction,
    network::TxSigner,
    primitives::{Address, B256, ChainId, Signature},
    signers::{Signer, SignerSync, local::PrivateKeySigner},
};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::{path::Path, time::Instant};
use tracing::{debug, info};

/// An Ethereum signer over a local key, a PKCS#11 HSM, AWS KMS or Google Cloud KMS.
///
/// It implements alloy's [`Signer`] (hashes, EIP-191 messages, EIP-712 typed data) and
/// [`TxSigner`], so it goes into an `EthereumWallet` and a provider's wallet filler. Cloning is
/// cheap and clones share the backend (one HSM session, one KMS client).
///
/// Keys in an HSM or KMS never leave it; a local key lives in this process's memory and is never
/// printed (`Debug` shows the backend and the address only).
#[derive(Clone)]
pub struct NestSigner {
    backend: Backend,
    address: Address,
    chain_id: Option<ChainId>,
}

#[derive(Clone)]
enum Backend {
    Local(PrivateKeySigner),
    #[cfg(feature = "pkcs11")]
    Pkcs11(crate::pkcs11::Pkcs11Signer),
    #[cfg(feature = "aws-kms")]
    AwsKms(alloy_signer_aws::AwsSigner),
    #[cfg(feature = "gcp-kms")]
    GcpKms(alloy_signer_gcp::GcpSigner),
}

impl std::fmt::Debug for NestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("NestSigner");
        s.field("backend", &self.backend_name())
            .field("address", &self.address)
            .field("chain_id", &self.chain_id);
        match &self.backend {
            #[cfg(feature = "pkcs11")]
            Backend::Pkcs11(key) => {
                s.field("key", key);
            }
            #[cfg(feature = "aws-kms")]
            Backend::AwsKms(key) => {
                s.field("key", key);
            }
            #[cfg(feature = "gcp-kms")]
            Backend::GcpKms(key) => {
                s.field("key", key);
            }
            // A local key has nothing to show but its address.
            Backend::Local(_) => {}
        }
        s.finish()
    }
}

impl NestSigner {
    /// Opens the configured key: decrypts a keystore, logs in to the HSM, or asks the KMS for
    /// the public key. A backend left out of this build gives [`KeyError::BackendDisabled`].
    pub async fn from_config(config: &SignerConfig) -> Result<Self> {
        config.validate()?;
        let signer = match config {
            SignerConfig::Local(local) => Self::from_local_config(local).await?,
            #[cfg(feature = "pkcs11")]
            SignerConfig::Pkcs11(c) => {
                Self::from_pkcs11(crate::pkcs11::Pkcs11Signer::connect(c).await?)
            }
            #[cfg(not(feature = "pkcs11"))]
            SignerConfig::Pkcs11(_) => return Err(disabled("pkcs11", "pkcs11")),
            #[cfg(feature = "aws-kms")]
            SignerConfig::AwsKms(c) => Self::from_aws(crate::aws_kms::connect(c).await?),
            #[cfg(not(feature = "aws-kms"))]
            SignerConfig::AwsKms(_) => return Err(disabled("aws-kms", "aws-kms")),
            #[cfg(feature = "gcp-kms")]
            SignerConfig::GcpKms(c) => Self::from_gcp(crate::gcp_kms::connect(c).await?),
            #[cfg(not(feature = "gcp-kms"))]
            SignerConfig::GcpKms(_) => return Err(disabled("gcp-kms", "gcp-kms")),
        };
        info!(backend = signer.backend_name(), address = %signer.address, "signer ready");
        Ok(signer)
    }

    async fn from_local_config(config: &LocalKeyConfig) -> Result<Self> {
        match (&config.private_key, &config.keystore) {
            (Some(key), _) => Self::from_private_key(key),
            (None, Some(path)) => {
                let password = config
                    .keystore_password
                    .clone()
                    .unwrap_or_else(|| SecretString::from(String::new()));
                Self::from_keystore(path, &password).await
            }
            (None, None) => Err(KeyError::Config(
                "local signer: no private key and no keystore".into(),
            )),
        }
    }

    /// A local key from 32 bytes of hex (with or without `0x`).
    pub fn from_private_key(key: &SecretString) -> Result<Self> {
        let bytes = parse_private_key(key)?;
        let signer = PrivateKeySigner::from_bytes(&B256::from(bytes))
            .map_err(|_| KeyError::InvalidKey("not a valid secp256k1 scalar".into()))?;
        Ok(Self::from_local(signer))
    }

    /// A local key decrypted from an encrypted JSON keystore (scrypt or pbkdf2; the key
    /// derivation runs on the blocking pool).
    pub async fn from_keystore(path: &Path, password: &SecretString) -> Result<Self> {
        let owned = path.to_path_buf();
        let password = password.clone();
        let decrypted = tokio::task::spawn_blocking(move || {
            PrivateKeySigner::decrypt_keystore(&owned, password.expose_secret().as_bytes())
        })
        .await
        .map_err(|e| KeyError::Task(format!("keystore decryption: {e}")))?;
        let signer = decrypted.map_err(|e| KeyError::Keystore {
            path: path.to_path_buf(),
            message: keystore_message(&e.to_string()),
        })?;
        Ok(Self::from_local(signer))
    }

    /// Wraps a local alloy signer.
    pub fn from_local(signer: PrivateKeySigner) -> Self {
        Self {
            address: signer.address(),
            chain_id: None,
            backend: Backend::Local(signer),
        }
    }

    /// Wraps a PKCS#11 key.
    #[cfg(feature = "pkcs11")]
    pub fn from_pkcs11(signer: crate::pkcs11::Pkcs11Signer) -> Self {
        Self {
            address: signer.address(),
            chain_id: None,
            backend: Backend::Pkcs11(signer),
        }
    }

    /// Wraps an AWS KMS key.
    #[cfg(feature = "aws-kms")]
    pub fn from_aws(signer: alloy_signer_aws::AwsSigner) -> Self {
        Self {
            address: Signer::address(&signer),
            chain_id: None,
            backend: Backend::AwsKms(signer),
        }
    }

    /// Wraps a Google Cloud KMS key.
    #[cfg(feature = "gcp-kms")]
    pub fn from_gcp(signer: alloy_signer_gcp::GcpSigner) -> Self {
        Self {
            address: Signer::address(&signer),
            chain_id: None,
            backend: Backend::GcpKms(signer),
        }
    }

    /// The key's Ethereum address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The backend's name as written in `NEST_SIGNER`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Local(_) => "local",
            #[cfg(feature = "pkcs11")]
            Backend::Pkcs11(_) => "pkcs11",
            #[cfg(feature = "aws-kms")]
            Backend::AwsKms(_) => "aws-kms",
            #[cfg(feature = "gcp-kms")]
            Backend::GcpKms(_) => "gcp-kms",
        }
    }

    /// Signs a 32-byte digest. Unlike [`Signer::sign_hash`], the error keeps its kind, so the
    /// caller can ask [`KeyError::is_transient`]. The signature is low-s and recovers to
    /// [`Self::address`].
    pub async fn sign_digest(&self, digest: &B256) -> Result<Signature> {
        let started = Instant::now();
        let signature = match &self.backend {
            Backend::Local(key) => key.sign_hash_sync(digest)?,
            #[cfg(feature = "pkcs11")]
            Backend::Pkcs11(key) => key.sign_digest(digest).await?,
            #[cfg(feature = "aws-kms")]
            Backend::AwsKms(key) => crate::signature::with_recovered_parity(
                key.sign_digest(digest).await?,
                *digest,
                self.address,
                "aws-kms",
            )?,
            #[cfg(feature = "gcp-kms")]
            Backend::GcpKms(key) => crate::signature::with_recovered_parity(
                key.sign_digest(digest).await?,
                *digest,
                self.address,
                "gcp-kms",
            )?,
        };
        debug!(
            backend = self.backend_name(),
            address = %self.address,
            micros = started.elapsed().as_micros() as u64,
            "signed a digest"
        );
        Ok(signature)
    }
}

/// Keystore errors come from eth-keystore; keep their meaning, and name the common one plainly.
fn keystore_message(raw: &str) -> String {
    if raw.contains("Mac Mismatch") || raw.contains("MacMismatch") {
        "wrong password (MAC mismatch)".into()
    } else {
        raw.to_string()
    }
}

#[cfg(any(
    not(feature = "pkcs11"),
    not(feature = "aws-kms"),
    not(feature = "gcp-kms")
))]
fn disabled(backend: &'static str, feature: &'static str) -> KeyError {
    KeyError::BackendDisabled { backend, feature }
}

#[async_trait]
impl Signer for NestSigner {
    async fn sign_hash(&self, hash: &B256) -> alloy::signers::Result<Signature> {
        self.sign_digest(hash)
            .await
            .map_err(alloy::signers::Error::other)
    }

    fn address(&self) -> Address {
        self.address
    }

    fn chain_id(&self) -> Option<ChainId> {
        self.chain_id
    }

    fn set_chain_id(&mut self, chain_id: Option<ChainId>) {
        self.chain_id = chain_id;
    }
}

#[async_trait]
impl TxSigner<Signature> for NestSigner {
    fn address(&self) -> Address {
        self.address
    }

    async fn sign_transaction(
        &self,
        tx: &mut dyn SignableTransaction<Signature>,
    ) -> alloy::signers::Result<Signature> {
        // EIP-155: a signer bound to a chain fills an unset chain id and refuses another one.
        if let Some(chain_id) = self.chain_id
            && !tx.set_chain_id_checked(chain_id)
        {
            return Err(alloy::signers::Error::TransactionChainIdMismatch {
                signer: chain_id,
                tx: tx.chain_id().unwrap_or_default(),
            });
        }
        self.sign_hash(&tx.signature_hash()).await
    }
}
