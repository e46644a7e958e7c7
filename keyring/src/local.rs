//! The local backend of key versions: each version is an encrypted JSON keystore (scrypt +
//! AES-128-CTR, the Ethereum keystore format) in one folder, under one password.

use crate::error::{KeyRingError, Result};
use alloy::signers::local::PrivateKeySigner;
use nest_keys::{NestSigner, SecretString};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};

/// A folder of keystore files, one per key version.
#[derive(Clone)]
pub struct LocalKeyStore {
    dir: PathBuf,
    password: SecretString,
}

impl std::fmt::Debug for LocalKeyStore {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalKeyStore({})", self.dir.display())
    }
}

impl LocalKeyStore {
    /// Keystores in `dir` (created when missing), encrypted with `password`.
    pub fn new(dir: impl Into<PathBuf>, password: SecretString) -> Result<Self> {
        let dir = dir.into();
        if password.expose_secret().len() < 8 {
            return Err(KeyRingError::Config(
                "the key store password must be at least 8 characters".into(),
            ));
        }
        std::fs::create_dir_all(&dir).map_err(|e| KeyRingError::KeyFile {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        Ok(Self { dir, password })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates a new random key named `name` (its file name); the signer over it.
    pub fn create(&self, name: &str) -> Result<NestSigner> {
        let path = self.dir.join(name);
        if path.exists() {
            return Err(KeyRingError::KeyFile {
                path,
                message: "exists already: a key file is never overwritten".into(),
            });
        }
        let (signer, _) = PrivateKeySigner::new_keystore(
            &self.dir,
            &mut rand::thread_rng(),
            self.password.expose_secret().as_bytes(),
            Some(name),
        )
        .map_err(|e| KeyRingError::KeyFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        restrict(&path)?;
        Ok(NestSigner::from_local(signer))
    }

    /// Loads the key named `name`.
    pub fn load(&self, name: &str) -> Result<NestSigner> {
        let path = self.dir.join(name);
        if name.contains('/') || name.contains("..") {
            return Err(KeyRingError::KeyFile {
                path,
                message: "not a key file name".into(),
            });
        }
        let signer =
            PrivateKeySigner::decrypt_keystore(&path, self.password.expose_secret().as_bytes())
                .map_err(|e| KeyRingError::KeyFile {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
        Ok(NestSigner::from_local(signer))
    }
}

/// Only the owner may read a key file.
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        KeyRingError::KeyFile {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}
