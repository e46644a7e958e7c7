//! secp256k1 keys inside a PKCS#11 hardware security module (SoftHSM2 in development and tests).
//!
//! The private key never leaves the token: we send it 32-byte digests (`CKM_ECDSA`) and get
//! `r ‖ s` back. The token neither normalises `s` nor returns a recovery id, so we make `s` low
//! (EIP-2) and pick the parity whose recovered address is the key's.
//!
//! PKCS#11 calls block, so they run on tokio's blocking pool. A session must not be used by two
//! threads at once (cryptoki's `Session` is `Send` but not `Sync`): each signer keeps one logged-in
//! session behind a mutex and reopens it once if the module reports it lost (token reset, HSM
//! restart).
//!
//! Two PKCS#11 rules shape this module:
//! - `C_Initialize` is once per process per module, so modules are loaded once and kept in a
//!   process-wide table; and SoftHSM reads `SOFTHSM2_CONF` at that moment.
//! - Login state belongs to the application, not the session: once one session of this process
//!   logged in to a token, every session on that token is logged in (`C_Login` then answers
//!   `CKR_USER_ALREADY_LOGGED_IN`, which we accept).

use crate::{
    config::{Pkcs11Config, Pkcs11KeySelector},
    error::{KeyError, Result},
    signature::with_recovered_parity,
};
use alloy::{
    primitives::{Address, B256, Signature},
    signers::k256::ecdsa::{self, VerifyingKey},
};
use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as CkError, RvError},
    mechanism::Mechanism,
    object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};
use secrecy::{ExposeSecret, SecretString};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};
use tracing::{debug, info, warn};

/// DER encoding of the secp256k1 curve's OID 1.3.132.0.10 (`CKA_EC_PARAMS`).
pub const SECP256K1_EC_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

/// A secp256k1 key in a PKCS#11 token that signs digests for Ethereum.
#[derive(Clone)]
pub struct Pkcs11Signer {
    inner: Arc<TokenKey>,
}

/// Everything needed to (re)open a session and sign with the key.
struct TokenKey {
    ctx: Pkcs11,
    module: PathBuf,
    slot: Slot,
    token_label: String,
    selector: Pkcs11KeySelector,
    pin: SecretString,
    address: Address,
    public_key: VerifyingKey,
    /// The logged-in session and the private key's handle in it; `None` after a loss.
    session: Mutex<Option<OpenKey>>,
}

struct OpenKey {
    session: Session,
    private_key: ObjectHandle,
}

impl std::fmt::Debug for Pkcs11Signer {
    // The PIN is deliberately absent.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("module", &self.inner.module)
            .field("token", &self.inner.token_label)
            .field("key", &self.inner.selector.to_string())
            .field("address", &self.inner.address)
            .finish()
    }
}

impl Pkcs11Signer {
    /// Loads the module, finds the token and the key, logs in and reads the public key.
    pub async fn connect(config: &Pkcs11Config) -> Result<Self> {
        config.validate()?;
        let config = config.clone();
        run_blocking(move || Self::connect_blocking(&config)).await
    }

    fn connect_blocking(config: &Pkcs11Config) -> Result<Self> {
        let selector = config.key_selector()?;
        let ctx = module(&config.module)?;
        let slot = find_token(&ctx, &config.token_label)?;
        let session = open_logged_in(&ctx, slot, &config.token_label, &config.pin, false)?;
        let private_key = find_private_key(&session, &config.token_label, &selector)?;
        let public_key = read_public_key(&session, private_key, &config.token_label, &selector)?;
        let address = alloy::signers::utils::public_key_to_address(&public_key);
        info!(
            module = %config.module.display(),
            token = %config.token_label,
            key = %selector,
            %address,
            "PKCS#11 signer ready"
        );
        Ok(Self {
            inner: Arc::new(TokenKey {
                ctx,
                module: config.module.clone(),
                slot,
                token_label: config.token_label.clone(),
                selector,
                pin: config.pin.clone(),
                address,
                public_key,
                session: Mutex::new(Some(OpenKey {
                    session,
                    private_key,
                })),
            }),
        })
    }

    /// The key's Ethereum address, derived from its public key.
    pub fn address(&self) -> Address {
        self.inner.address
    }

    /// The key's public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.inner.public_key
    }

    /// Signs a 32-byte digest on the token; the result is low-s with the parity that recovers
    /// this key's address.
    pub async fn sign_digest(&self, digest: &B256) -> Result<Signature> {
        let inner = Arc::clone(&self.inner);
        let digest = *digest;
        let raw = run_blocking(move || inner.sign_blocking(&digest)).await?;
        let signature = ecdsa::Signature::from_slice(&raw).map_err(|_| {
            KeyError::UnusableKey(format!(
                "the token returned a {}-byte ECDSA signature, expected 64 (r ‖ s)",
                raw.len()
            ))
        })?;
        with_recovered_parity(signature, digest, self.inner.address, "pkcs11")
    }
}

impl TokenKey {
    fn sign_blocking(&self, digest: &B256) -> Result<Vec<u8>> {
        // A poisoned lock only means another signing thread panicked; the session is either
        // still usable or absent and reopened below.
        let mut guard = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut reopened = false;
        loop {
            let open = match guard.take() {
                Some(open) => open,
                None => {
                    reopened = true;
                    self.reopen()?
                }
            };
            match open
                .session
                .sign(&Mechanism::Ecdsa, open.private_key, digest.as_slice())
            {
                Ok(signature) => {
                    *guard = Some(open);
                    return Ok(signature);
                }
                Err(e) if session_lost(&e) && !reopened => {
                    warn!(token = %self.token_label, error = %e, "PKCS#11 session lost; reopening");
                }
                Err(source) => {
                    if !session_lost(&source) {
                        *guard = Some(open);
                    }
                    return Err(KeyError::Pkcs11 {
                        operation: "signing (C_Sign)",
                        source,
                    });
                }
            }
        }
    }

    fn reopen(&self) -> Result<OpenKey> {
        let session = open_logged_in(&self.ctx, self.slot, &self.token_label, &self.pin, false)?;
        let private_key = find_private_key(&session, &self.token_label, &self.selector)?;
        debug!(token = %self.token_label, "PKCS#11 session reopened");
        Ok(OpenKey {
            session,
            private_key,
        })
    }
}

/// Generates a secp256k1 key pair on the token (private part sensitive and not extractable),
/// labelled and identified as `config` says (`key_label` also becomes the `CKA_ID` when no id is
/// given). Refuses when a private key with that label or id already exists. Returns the address.
pub async fn generate_secp256k1_key(config: &Pkcs11Config) -> Result<Address> {
    config.validate()?;
    let config = config.clone();
    run_blocking(move || {
        let selector = config.key_selector()?;
        let ctx = module(&config.module)?;
        let slot = find_token(&ctx, &config.token_label)?;
        let session = open_logged_in(&ctx, slot, &config.token_label, &config.pin, true)?;
        if !session
            .find_objects(&private_key_template(&selector))
            .map_err(|source| KeyError::Pkcs11 {
                operation: "searching keys (C_FindObjects)",
                source,
            })?
            .is_empty()
        {
            return Err(KeyError::UnusableKey(format!(
                "a private key {selector} already exists on token {:?}",
                config.token_label
            )));
        }
        let (label, id) = match &selector {
            Pkcs11KeySelector::Label(label) => (label.as_bytes().to_vec(), label.as_bytes().to_vec()),
            Pkcs11KeySelector::Id(id) => (Vec::new(), id.clone()),
        };
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(SECP256K1_EC_PARAMS.to_vec()),
            Attribute::Id(id.clone()),
        ];
        let mut private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Id(id),
        ];
        if !label.is_empty() {
            public.push(Attribute::Label(label.clone()));
            private.push(Attribute::Label(label));
        }
        let (public_key, _) = session
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
            .map_err(|source| KeyError::Pkcs11 {
                operation: "generating a secp256k1 key pair (C_GenerateKeyPair)",
                source,
            })?;
        let point = read_ec_point(&session, public_key)?;
        let address = alloy::signers::utils::public_key_to_address(&point);
        info!(token = %config.token_label, key = %selector, %address, "generated a secp256k1 key on the token");
        Ok(address)
    })
    .await
}

/// The module at `path`, loaded and initialised once per process.
fn module(path: &Path) -> Result<Pkcs11> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(ctx) = modules.get(path) {
        return Ok(ctx.clone());
    }
    let module_error = |message: String| KeyError::Pkcs11Module {
        module: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(module_error(
            "not found (install the vendor's PKCS#11 library, e.g. Debian's softhsm2, or set NEST_PKCS11_MODULE)".into(),
        ));
    }
    let ctx = Pkcs11::new(path).map_err(|e| module_error(format!("cannot load: {e}")))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_error(format!("C_Initialize failed: {e}"))),
    }
    modules.insert(path.to_path_buf(), ctx.clone());
    Ok(ctx)
}

/// The slot holding the initialised token labelled `label`.
fn find_token(ctx: &Pkcs11, label: &str) -> Result<Slot> {
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|source| KeyError::Pkcs11 {
            operation: "listing slots (C_GetSlotList)",
            source,
        })?;
    let mut present = Vec::new();
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|source| KeyError::Pkcs11 {
                operation: "reading token info (C_GetTokenInfo)",
                source,
            })?;
        let found = info.label().trim_end();
        if found == label.trim_end() {
            return Ok(slot);
        }
        present.push(format!("{found:?}"));
    }
    Err(KeyError::TokenNotFound {
        label: label.to_string(),
        present: if present.is_empty() {
            "none".into()
        } else {
            present.join(", ")
        },
    })
}

/// A session on `slot`, logged in as the user.
fn open_logged_in(
    ctx: &Pkcs11,
    slot: Slot,
    token: &str,
    pin: &SecretString,
    read_write: bool,
) -> Result<Session> {
    let opened = if read_write {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    };
    let session = opened.map_err(|source| KeyError::Pkcs11 {
        operation: "opening a session (C_OpenSession)",
        source,
    })?;
    let pin = AuthPin::from(pin.expose_secret());
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => Err(KeyError::PinIncorrect {
            token: token.to_string(),
        }),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(KeyError::PinLocked {
            token: token.to_string(),
        }),
        Err(source) => Err(KeyError::Pkcs11 {
            operation: "logging in (C_Login)",
            source,
        }),
    }
}

fn private_key_template(selector: &Pkcs11KeySelector) -> Vec<Attribute> {
    let mut template = vec![
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::KeyType(KeyType::EC),
    ];
    template.push(match selector {
        Pkcs11KeySelector::Label(label) => Attribute::Label(label.as_bytes().to_vec()),
        Pkcs11KeySelector::Id(id) => Attribute::Id(id.clone()),
    });
    template
}

/// The one secp256k1 private key matching `selector`.
fn find_private_key(
    session: &Session,
    token: &str,
    selector: &Pkcs11KeySelector,
) -> Result<ObjectHandle> {
    let found = session
        .find_objects(&private_key_template(selector))
        .map_err(|source| KeyError::Pkcs11 {
            operation: "searching keys (C_FindObjects)",
            source,
        })?;
    let key = match found.as_slice() {
        [] => {
            return Err(KeyError::KeyNotFound {
                token: token.to_string(),
                key: selector.to_string(),
            });
        }
        [key] => *key,
        more => {
            return Err(KeyError::UnusableKey(format!(
                "{} private keys {selector} on token {token:?}; labels and ids must be unique",
                more.len()
            )));
        }
    };
    let params = attribute_bytes(session, key, AttributeType::EcParams)?;
    if params.as_deref() != Some(SECP256K1_EC_PARAMS.as_slice()) {
        return Err(KeyError::UnusableKey(format!(
            "the private key {selector} on token {token:?} is not on secp256k1 (CKA_EC_PARAMS {})",
            params.map(hex::encode).unwrap_or_else(|| "missing".into())
        )));
    }
    Ok(key)
}

/// The public key paired with `private_key`: the public key object with the same `CKA_ID`
/// (or, when the private key has no id, the same label).
fn read_public_key(
    session: &Session,
    private_key: ObjectHandle,
    token: &str,
    selector: &Pkcs11KeySelector,
) -> Result<VerifyingKey> {
    let id = attribute_bytes(session, private_key, AttributeType::Id)?.unwrap_or_default();
    let mut template = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(KeyType::EC),
    ];
    if id.is_empty() {
        match selector {
            Pkcs11KeySelector::Label(label) => {
                template.push(Attribute::Label(label.as_bytes().to_vec()))
            }
            Pkcs11KeySelector::Id(id) => template.push(Attribute::Id(id.clone())),
        }
    } else {
        template.push(Attribute::Id(id));
    }
    let found = session
        .find_objects(&template)
        .map_err(|source| KeyError::Pkcs11 {
            operation: "searching the public key (C_FindObjects)",
            source,
        })?;
    let [public_key] = found.as_slice() else {
        return Err(KeyError::UnusableKey(format!(
            "expected one public key object for the private key {selector} on token {token:?}, found {}",
            found.len()
        )));
    };
    read_ec_point(session, *public_key)
}

fn read_ec_point(session: &Session, public_key: ObjectHandle) -> Result<VerifyingKey> {
    let point = attribute_bytes(session, public_key, AttributeType::EcPoint)?
        .ok_or_else(|| KeyError::UnusableKey("the public key has no CKA_EC_POINT".into()))?;
    parse_ec_point(&point).ok_or_else(|| {
        KeyError::UnusableKey(format!(
            "CKA_EC_POINT is not a secp256k1 point: {}",
            hex::encode(&point)
        ))
    })
}

/// Parses `CKA_EC_POINT`: PKCS#11 wraps the SEC1 point in a DER OCTET STRING (`04 41` + 65
/// bytes), but some modules return the bare point.
pub(crate) fn parse_ec_point(raw: &[u8]) -> Option<VerifyingKey> {
    if raw.len() > 2
        && raw[0] == 0x04
        && usize::from(raw[1]) == raw.len() - 2
        && let Ok(key) = VerifyingKey::from_sec1_bytes(&raw[2..])
    {
        return Some(key);
    }
    VerifyingKey::from_sec1_bytes(raw).ok()
}

fn attribute_bytes(
    session: &Session,
    object: ObjectHandle,
    kind: AttributeType,
) -> Result<Option<Vec<u8>>> {
    let attributes =
        session
            .get_attributes(object, &[kind])
            .map_err(|source| KeyError::Pkcs11 {
                operation: "reading key attributes (C_GetAttributeValue)",
                source,
            })?;
    Ok(attributes.into_iter().find_map(|a| match a {
        Attribute::EcParams(v) | Attribute::EcPoint(v) | Attribute::Id(v) | Attribute::Label(v) => {
            Some(v)
        }
        _ => None,
    }))
}

/// Errors after which reopening the session (or retrying later) may succeed.
fn session_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent,
            _
        )
    )
}

/// True when a PKCS#11 error may go away on retry.
pub(crate) fn is_transient(e: &CkError) -> bool {
    session_lost(e)
        || matches!(
            e,
            CkError::Pkcs11(
                RvError::DeviceError | RvError::DeviceMemory | RvError::FunctionCanceled,
                _
            )
        )
}

/// Runs blocking PKCS#11 work on tokio's blocking pool.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KeyError::Task(format!("PKCS#11 call: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_points_parse_wrapped_and_bare() {
        let key = alloy::signers::local::PrivateKeySigner::random();
        let point = key.credential().verifying_key().to_encoded_point(false);
        let bare = point.as_bytes().to_vec();
        assert_eq!(bare.len(), 65);
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend_from_slice(&bare);
        let expected = *key.credential().verifying_key();
        assert_eq!(parse_ec_point(&wrapped), Some(expected));
        assert_eq!(parse_ec_point(&bare), Some(expected));
        assert_eq!(parse_ec_point(&wrapped[..40]), None);
    }
}
