//! Compact session tokens signed by a [`NestSigner`]: `header.payload.signature`, each part
//! base64url without padding, like a JWS.
//!
//! - header: `{"alg":"ES256K-R","typ":"JWT","kid":"0x<signer address>"}`
//! - payload: [`SessionClaims`] as JSON (`sub`, `sid`, `iat`, `exp`)
//! - signature: secp256k1 ECDSA over SHA-256 of `header.payload` (ES256K), as 65 bytes
//!   `r ‖ s ‖ v` with `v` the recovery parity (0 or 1) — hence `ES256K-R`. `s` is always low.
//!
//! Verification recovers the signing address from the signature, so any backend (local key, HSM,
//! KMS) can issue tokens and a verifier needs only the issuer's address. The `kid` lets the
//! verifier tell the failures apart: a signature that does not recover to `kid` means the token
//! was altered ([`KeyError::TokenTampered`]); a valid signature by an address it does not trust
//! is [`KeyError::TokenWrongSigner`]; then comes expiry ([`KeyError::TokenExpired`]).

use crate::{
    error::{KeyError, Result},
    signer::NestSigner,
};
use alloy::primitives::{Address, B256, Signature, U256};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `alg` of Nest session tokens: ES256K with the recovery parity appended.
pub const TOKEN_ALG: &str = "ES256K-R";

/// Longest token accepted; anything longer is refused before decoding.
pub const MAX_TOKEN_LEN: usize = 4096;

/// What a session token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Subject: the wallet address (or user id) the session belongs to.
    pub sub: String,
    /// Session id, so a session can be revoked server-side.
    pub sid: String,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Expires at, unix seconds; the token is refused from this second on.
    pub exp: u64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: Address,
}

/// Issues session tokens with a [`NestSigner`] and verifies its own tokens.
#[derive(Clone, Debug)]
pub struct TokenSigner {
    signer: NestSigner,
    header: String,
}

impl TokenSigner {
    /// A token issuer over `signer`.
    pub fn new(signer: NestSigner) -> Self {
        let header = Header {
            alg: TOKEN_ALG.into(),
            typ: "JWT".into(),
            kid: signer.address(),
        };
        // Serialising three strings cannot fail.
        let header = serde_json::to_vec(&header).unwrap_or_default();
        Self {
            signer,
            header: URL_SAFE_NO_PAD.encode(header),
        }
    }

    /// The key that signs.
    pub fn signer(&self) -> &NestSigner {
        &self.signer
    }

    /// The issuer's address, which verifiers trust.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Issues a token for `sub` and session `sid`, valid for `ttl` from now.
    pub async fn issue(
        &self,
        sub: &str,
        sid: &str,
        ttl: Duration,
    ) -> Result<(String, SessionClaims)> {
        let iat = unix_now();
        let claims = SessionClaims {
            sub: sub.to_string(),
            sid: sid.to_string(),
            iat,
            exp: iat.saturating_add(ttl.as_secs().max(1)),
        };
        let token = self.sign(&claims).await?;
        Ok((token, claims))
    }

    /// Signs `claims` as they are.
    pub async fn sign(&self, claims: &SessionClaims) -> Result<String> {
        let payload = serde_json::to_vec(claims)
            .map_err(|_| KeyError::TokenMalformed("claims cannot be encoded"))?;
        let signing_input = format!("{}.{}", self.header, URL_SAFE_NO_PAD.encode(payload));
        let signature = self.signer.sign_digest(&digest(&signing_input)).await?;
        let mut raw = [0u8; 65];
        raw[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
        raw[32..64].copy_from_slice(&signature.s().to_be_bytes::<32>());
        raw[64] = u8::from(signature.v());
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw)))
    }

    /// Verifies a token issued by this signer, now.
    pub fn verify(&self, token: &str) -> Result<SessionClaims> {
        self.verifier().verify(token)
    }

    /// A verifier that trusts this signer's address.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new([self.address()])
    }
}

/// Verifies session tokens against the addresses of trusted issuers (several during a key
/// rotation). Needs no key: only addresses.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    trusted: Vec<Address>,
}

impl TokenVerifier {
    /// A verifier trusting tokens signed by any of `trusted`.
    pub fn new(trusted: impl IntoIterator<Item = Address>) -> Self {
        Self {
            trusted: trusted.into_iter().collect(),
        }
    }

    /// Verifies `token` at the current time.
    pub fn verify(&self, token: &str) -> Result<SessionClaims> {
        self.verify_at(token, unix_now())
    }

    /// Verifies `token` as of `now` (unix seconds): shape, signature, issuer, then expiry.
    pub fn verify_at(&self, token: &str, now: u64) -> Result<SessionClaims> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(KeyError::TokenMalformed("longer than 4096 bytes"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::TokenMalformed(
                "expected three dot-separated parts",
            ));
        };
        let header: Header = decode_json(
            header_b64,
            "header is not base64url",
            "header is not the expected JSON",
        )?;
        if header.alg != TOKEN_ALG {
            return Err(KeyError::TokenMalformed(
                "unsupported alg (expected ES256K-R)",
            ));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| KeyError::TokenMalformed("signature is not base64url"))?;
        let [r @ .., v] = raw.as_slice() else {
            return Err(KeyError::TokenMalformed("empty signature"));
        };
        if r.len() != 64 || *v > 1 {
            return Err(KeyError::TokenMalformed(
                "signature must be 65 bytes r ‖ s ‖ v with v 0 or 1",
            ));
        }
        let signature = Signature::new(
            U256::from_be_slice(&r[..32]),
            U256::from_be_slice(&r[32..]),
            *v == 1,
        );
        // One token, one encoding: the high-s twin of a valid signature is refused.
        if signature.normalize_s().is_some() {
            return Err(KeyError::TokenMalformed("high-s signature"));
        }
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        let recovered = signature
            .recover_address_from_prehash(&digest(signing_input))
            .map_err(|_| KeyError::TokenTampered)?;
        if recovered != header.kid {
            return Err(KeyError::TokenTampered);
        }
        if !self.trusted.contains(&recovered) {
            return Err(KeyError::TokenWrongSigner { signer: recovered });
        }
        let claims: SessionClaims = decode_json(
            payload_b64,
            "payload is not base64url",
            "payload is not the expected JSON",
        )?;
        if now >= claims.exp {
            return Err(KeyError::TokenExpired {
                expired_at: claims.exp,
            });
        }
        Ok(claims)
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(
    part: &str,
    not_base64: &'static str,
    not_json: &'static str,
) -> Result<T> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| KeyError::TokenMalformed(not_base64))?;
    serde_json::from_slice(&bytes).map_err(|_| KeyError::TokenMalformed(not_json))
}

fn digest(signing_input: &str) -> B256 {
    B256::from_slice(Sha256::digest(signing_input.as_bytes()).as_slice())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
