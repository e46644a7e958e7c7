//! Key versions over the store.
//!
//! Each key purpose has a ring of versions (`active`, `verify-only`, `retired`, `destroyed`)
//! recorded in the store's `key_versions`. This crate rotates them (a new version becomes
//! active; the previous one verifies through an overlap window; then it is retired), serves
//! session tokens from the ring with its JWKS, and appends every signature it makes to the
//! hash-chained `key_audit`. Key material lives in the backend (today: encrypted keystore files
//! of the local backend); the store holds only public identities and states.

mod error;
mod local;
mod session;

pub use error::{KeyRingError, Result};
pub use local::LocalKeyStore;
pub use session::{
    Jwk, Jwks, LOCAL_BACKEND, SESSION_TOKEN, SessionKeyRing, SessionTokens, jwk, maintain,
    public_key, retire, rotate,
};
