//! Session-token keys as a ring of versions in the store.
//!
//! The active version signs new tokens; after a rotation the previous one stays `verify-only`
//! for an overlap window (at least the token lifetime), so tokens it signed keep working; when
//! the window has passed it is retired and its tokens get 401. Every api instance reads the
//! ring from the store (at start and every second), so a rotation or retirement made by any
//! instance or by `nest keys` reaches all of them within that interval. Each version's public
//! key is published in the JWKS.

use crate::{
    error::{KeyRingError, Result},
    local::LocalKeyStore,
};
use alloy::primitives::{Address, B256};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use nest_keys::{KeyError, NestSigner, SessionClaims, TokenSigner, TokenVerifier};
use nest_store::{AuditRecord, KeyState, KeyVersion, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, RwLock, Weak},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{info, warn};

/// The purpose name of session-token keys.
pub const SESSION_TOKEN: &str = "session-token";

/// The backend name of [`LocalKeyStore`] versions.
pub const LOCAL_BACKEND: &str = "local";

/// One public key in the JWKS (RFC 7517; `crv` as RFC 8812 registers it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Always `EC`.
    pub kty: &'static str,
    /// Always `secp256k1`.
    pub crv: &'static str,
    /// X coordinate, base64url.
    pub x: String,
    /// Y coordinate, base64url.
    pub y: String,
    /// The key's Ethereum address, the `kid` tokens carry.
    pub kid: String,
    /// `ES256K-R`: ES256K with the recovery parity appended to the signature.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// The published key set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Jwks {
    /// Every key whose tokens are accepted now.
    pub keys: Vec<Jwk>,
}

/// The JWK of an uncompressed public key (hex `04 ‖ x ‖ y`) with address `kid`.
pub fn jwk(public_key_hex: &str, kid: Address) -> Option<Jwk> {
    let bytes = hex::decode(public_key_hex.trim_start_matches("0x")).ok()?;
    let (Some(4), Some(x), Some(y), 65) = (
        bytes.first().copied(),
        bytes.get(1..33),
        bytes.get(33..65),
        bytes.len(),
    ) else {
        return None;
    };
    Some(Jwk {
        kty: "EC",
        crv: "secp256k1",
        x: URL_SAFE_NO_PAD.encode(x),
        y: URL_SAFE_NO_PAD.encode(y),
        kid: kid.to_checksum(None),
        alg: nest_keys::token::TOKEN_ALG,
        use_: "sig",
    })
}

/// The public key of `signer` (hex `04 ‖ x ‖ y`), found by recovering it from a signature, so
/// it works for every backend (an HSM or KMS key included).
pub async fn public_key(signer: &NestSigner) -> Result<String> {
    let digest = B256::from_slice(Sha256::digest(b"nest key identity").as_slice());
    let signature = signer.sign_digest(&digest).await?;
    let key = signature
        .recover_from_prehash(&digest)
        .map_err(|e| KeyRingError::Config(format!("cannot recover the public key: {e}")))?;
    Ok(hex::encode(key.to_encoded_point(false).as_bytes()))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A fresh file name for a local key version: instances creating the same version at once
/// (two first starts on an empty ring) write different files, and the store decides which one
/// the ring records.
fn key_file(purpose: &str, version: i64) -> String {
    format!("{purpose}-v{version}-{:08x}.json", rand::random::<u32>())
}

/// A new version `version` of `purpose` in `keystore`, not yet recorded.
async fn new_version(
    keystore: &LocalKeyStore,
    purpose: &str,
    version: i64,
) -> Result<(KeyVersion, NestSigner)> {
    let name = key_file(purpose, version);
    let signer = keystore.create(&name)?;
    let now = unix_now();
    let record = KeyVersion {
        id: KeyVersion::id_for(purpose, version),
        purpose: purpose.to_string(),
        version,
        backend: LOCAL_BACKEND.into(),
        key_ref: name,
        address: signer.address(),
        public_key: public_key(&signer).await?,
        state: KeyState::Active,
        created_at: now,
        activated_at: now,
        verify_until: None,
        retired_at: None,
    };
    Ok((record, signer))
}

/// Rotates `purpose`: a new version becomes active and the active one turns verify-only for
/// `overlap`. Returns the new version. Safe when several instances try at once: one wins, the
/// others get a store `StateConflict` and change nothing.
pub async fn rotate(
    store: &Store,
    keystore: &LocalKeyStore,
    purpose: &str,
    overlap: Duration,
) -> Result<KeyVersion> {
    let ring = store.key_ring().ring(purpose).await?;
    let previous = ring.iter().find(|v| v.state == KeyState::Active).cloned();
    let next = ring.last().map_or(1, |v| v.version + 1);
    let (fresh, _) = new_version(keystore, purpose, next).await?;
    let verify_until = unix_now() + overlap.as_secs() as i64;
    let repo = store.key_ring();
    store
        .transaction(|session| {
            let (repo, fresh, previous) = (repo.clone(), fresh.clone(), previous.clone());
            Box::pin(async move {
                repo.rotate_in(session, &fresh, previous.as_ref(), verify_until)
                    .await
            })
        })
        .await?;
    info!(purpose, version = fresh.version, address = %fresh.address, "key rotated");
    Ok(fresh)
}

/// Retires version `version` of `purpose` now (it must be verify-only: the active version is
/// replaced by a rotation first).
pub async fn retire(store: &Store, purpose: &str, version: i64) -> Result<KeyVersion> {
    let id = KeyVersion::id_for(purpose, version);
    if !store.key_ring().retire(&id, unix_now()).await? {
        return Err(KeyRingError::Version {
            id,
            reason: "only a verify-only version can be retired (rotate the active one first)"
                .into(),
        });
    }
    let ring = store.key_ring().ring(purpose).await?;
    ring.into_iter()
        .find(|v| v.version == version)
        .ok_or_else(|| KeyRingError::Version {
            id: KeyVersion::id_for(purpose, version),
            reason: "vanished".into(),
        })
}

/// The scheduled upkeep of `purpose`: retires verify-only versions whose window has passed,
/// and rotates when the active version is older than `rotate_every` (if given). Returns what it
/// did, for the log.
pub async fn maintain(
    store: &Store,
    keystore: &LocalKeyStore,
    purpose: &str,
    rotate_every: Option<Duration>,
    overlap: Duration,
) -> Result<Vec<String>> {
    let now = unix_now();
    let mut done = Vec::new();
    for v in store.key_ring().ring(purpose).await? {
        if v.state == KeyState::VerifyOnly
            && v.verify_until.is_some_and(|t| t <= now)
            && store.key_ring().retire(&v.id, now).await?
        {
            done.push(format!("retired {}", v.id));
        }
        if v.state == KeyState::Active
            && rotate_every.is_some_and(|every| now - v.activated_at >= every.as_secs() as i64)
        {
            match rotate(store, keystore, purpose, overlap).await {
                Ok(fresh) => done.push(format!("rotated to {}", fresh.id)),
                // Another instance rotated first.
                Err(KeyRingError::Store(nest_store::StoreError::StateConflict { .. })) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(done)
}

/// What one instance knows of the ring.
#[derive(Debug, Default)]
struct Snapshot {
    active: Option<(i64, TokenSigner)>,
    verifier: Option<TokenVerifier>,
    retired: HashSet<Address>,
    jwks: Jwks,
}

/// Session tokens signed by the ring's active version and verified against every version in
/// the overlap window.
#[derive(Debug)]
pub struct SessionKeyRing {
    store: Store,
    keystore: LocalKeyStore,
    snapshot: RwLock<Arc<Snapshot>>,
    signers: Mutex<HashMap<i64, TokenSigner>>,
}

impl SessionKeyRing {
    /// Opens the ring of session-token keys, creating version 1 when the ring is empty.
    pub async fn open(store: Store, keystore: LocalKeyStore) -> Result<Arc<Self>> {
        let ring = Arc::new(Self {
            store,
            keystore,
            snapshot: RwLock::new(Arc::default()),
            signers: Mutex::new(HashMap::new()),
        });
        let versions = ring.store.key_ring().ring(SESSION_TOKEN).await?;
        if versions.is_empty() {
            let (first, _) = new_version(&ring.keystore, SESSION_TOKEN, 1).await?;
            match ring.store.key_ring().create_first(&first).await {
                Ok(()) => info!(address = %first.address, "session-token key ring created"),
                // Another instance created it first: use theirs (and drop this file).
                Err(nest_store::StoreError::StateConflict { .. }) => {
                    let _ = std::fs::remove_file(ring.keystore.dir().join(&first.key_ref));
                }
                Err(e) => return Err(e.into()),
            }
        }
        ring.refresh().await?;
        Ok(ring)
    }

    /// Re-reads the ring from the store.
    pub async fn refresh(&self) -> Result<()> {
        let versions = self.store.key_ring().ring(SESSION_TOKEN).await?;
        let mut snapshot = Snapshot::default();
        let mut trusted = Vec::new();
        for v in &versions {
            match v.state {
                KeyState::Active | KeyState::VerifyOnly => {
                    trusted.push(v.address);
                    if let Some(key) = jwk(&v.public_key, v.address) {
                        snapshot.jwks.keys.push(key);
                    }
                }
                KeyState::Retired | KeyState::Destroyed => {
                    snapshot.retired.insert(v.address);
                }
            }
            if v.state == KeyState::Active {
                snapshot.active = Some((v.version, self.signer_for(v)?));
            }
        }
        snapshot.verifier = Some(TokenVerifier::new(trusted));
        if let Ok(mut current) = self.snapshot.write() {
            *current = Arc::new(snapshot);
        }
        Ok(())
    }

    fn signer_for(&self, v: &KeyVersion) -> Result<TokenSigner> {
        let mut signers = self
            .signers
            .lock()
            .map_err(|_| KeyRingError::Config("signer cache poisoned".into()))?;
        if let Some(found) = signers.get(&v.version) {
            return Ok(found.clone());
        }
        if v.backend != LOCAL_BACKEND {
            return Err(KeyRingError::Version {
                id: v.id.clone(),
                reason: format!("backend {} is not supported for session tokens", v.backend),
            });
        }
        let signer = TokenSigner::new(self.keystore.load(&v.key_ref)?);
        if signer.address() != v.address {
            return Err(KeyRingError::Version {
                id: v.id.clone(),
                reason: "its key file holds a different key".into(),
            });
        }
        signers.insert(v.version, signer.clone());
        Ok(signer)
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Re-reads the ring every `every` until the ring is dropped.
    pub fn spawn_refresh(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(ring) = weak.upgrade() else { return };
                if let Err(e) = ring.refresh().await {
                    warn!(error = %e, "cannot re-read the session-token key ring");
                }
            }
        })
    }

    /// Issues a token with the active version and records the signature in the audit chain.
    pub async fn issue(
        &self,
        sub: &str,
        sid: &str,
        ttl: Duration,
    ) -> Result<(String, SessionClaims)> {
        let snapshot = self.current();
        let Some((version, signer)) = snapshot.active.as_ref() else {
            return Err(KeyRingError::NoActiveVersion {
                purpose: SESSION_TOKEN.into(),
            });
        };
        let (token, claims) = signer.issue(sub, sid, ttl).await?;
        let signed = token.rsplit_once('.').map_or(token.as_str(), |(s, _)| s);
        self.store
            .key_ring()
            .audit(AuditRecord {
                purpose: SESSION_TOKEN.into(),
                version: *version,
                digest: hex::encode(Sha256::digest(signed.as_bytes())),
                caller: sub.to_string(),
                reference: sid.to_string(),
                at_ms: unix_now_ms(),
            })
            .await?;
        Ok((token, claims))
    }

    /// Verifies `token` against every version in its overlap window.
    pub fn verify(&self, token: &str) -> std::result::Result<SessionClaims, KeyError> {
        match &self.current().verifier {
            Some(verifier) => verifier.verify(token),
            None => Err(KeyError::TokenMalformed("no session-token key is loaded")),
        }
    }

    /// True when `signer` is a retired version of this ring.
    pub fn is_retired(&self, signer: &Address) -> bool {
        self.current().retired.contains(signer)
    }

    /// The keys whose tokens are accepted now.
    pub fn jwks(&self) -> Jwks {
        self.current().jwks.clone()
    }

    /// The version signing new tokens.
    pub fn active_version(&self) -> Option<i64> {
        self.current().active.as_ref().map(|(v, _)| *v)
    }
}

/// Where an api's session tokens come from: one fixed key (`NEST_SESSION_KEY` or the service
/// signer) or the rotating ring.
#[derive(Debug, Clone)]
pub enum SessionTokens {
    /// One key for the process's life.
    Fixed {
        /// The signer (boxed: a KMS signer is large).
        signer: Box<TokenSigner>,
        /// Its JWKS entry, worked out on first use.
        jwks: Arc<tokio::sync::OnceCell<Jwks>>,
    },
    /// The ring in the store.
    Ring(Arc<SessionKeyRing>),
}

impl From<TokenSigner> for SessionTokens {
    fn from(signer: TokenSigner) -> Self {
        Self::Fixed {
            signer: Box::new(signer),
            jwks: Arc::default(),
        }
    }
}

impl From<Arc<SessionKeyRing>> for SessionTokens {
    fn from(ring: Arc<SessionKeyRing>) -> Self {
        Self::Ring(ring)
    }
}

impl SessionTokens {
    /// Issues a token for `sub` and session `sid`, valid for `ttl`.
    pub async fn issue(
        &self,
        sub: &str,
        sid: &str,
        ttl: Duration,
    ) -> Result<(String, SessionClaims)> {
        match self {
            Self::Fixed { signer, .. } => Ok(signer.issue(sub, sid, ttl).await?),
            Self::Ring(ring) => ring.issue(sub, sid, ttl).await,
        }
    }

    /// Verifies `token` now.
    pub fn verify(&self, token: &str) -> std::result::Result<SessionClaims, KeyError> {
        match self {
            Self::Fixed { signer, .. } => signer.verify(token),
            Self::Ring(ring) => ring.verify(token),
        }
    }

    /// True when `signer` was a key of this issuer and is retired.
    pub fn is_retired(&self, signer: &Address) -> bool {
        match self {
            Self::Fixed { .. } => false,
            Self::Ring(ring) => ring.is_retired(signer),
        }
    }

    /// The published key set.
    pub async fn jwks(&self) -> Result<Jwks> {
        match self {
            Self::Fixed { signer, jwks } => jwks
                .get_or_try_init(|| async {
                    let key = public_key(signer.signer()).await?;
                    Ok::<_, KeyRingError>(Jwks {
                        keys: jwk(&key, signer.address()).into_iter().collect(),
                    })
                })
                .await
                .cloned(),
            Self::Ring(ring) => Ok(ring.jwks()),
        }
    }
}
