//! Session tokens: issue and verify, expiry, tampering, a foreign key, malformed input.

use alloy::signers::local::PrivateKeySigner;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use nest_keys::{KeyError, NestSigner, SessionClaims, TokenSigner, TokenVerifier};
use std::time::Duration;

fn issuer() -> TokenSigner {
    TokenSigner::new(NestSigner::from_local(PrivateKeySigner::random()))
}

fn claims(exp: u64) -> SessionClaims {
    SessionClaims {
        sub: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8".into(),
        sid: "s-0001".into(),
        iat: 1_700_000_000,
        exp,
    }
}

#[tokio::test]
async fn issue_and_verify_round_trip() {
    let tokens = issuer();
    let (token, claims) = tokens
        .issue("0xabc", "session-1", Duration::from_secs(3600))
        .await
        .expect("issue");
    assert_eq!(token.split('.').count(), 3);
    assert!(!token.contains('='), "base64url without padding");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert_eq!(tokens.verify(&token).expect("verify"), claims);
    // A verifier needs only the issuer's address.
    let verifier = TokenVerifier::new([tokens.address()]);
    assert_eq!(verifier.verify(&token).expect("verify"), claims);
    // The header names the algorithm and the key.
    let header = String::from_utf8(
        URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("utf8");
    assert!(header.contains("\"alg\":\"ES256K-R\""), "{header}");
    assert!(
        header
            .to_lowercase()
            .contains(&format!("{:#x}", tokens.address())),
        "{header}"
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let tokens = issuer();
    let token = tokens.sign(&claims(1_700_000_600)).await.expect("sign");
    let verifier = tokens.verifier();
    verifier
        .verify_at(&token, 1_700_000_599)
        .expect("still valid");
    for now in [1_700_000_600, 1_800_000_000] {
        let err = verifier.verify_at(&token, now).expect_err("expired");
        assert!(
            matches!(
                err,
                KeyError::TokenExpired {
                    expired_at: 1_700_000_600
                }
            ),
            "{err:?}"
        );
        assert!(err.is_token_rejection());
    }
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let tokens = issuer();
    let token = tokens.sign(&claims(u64::MAX)).await.expect("sign");
    let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else {
        panic!("three parts")
    };
    // Another subject with the original signature.
    let mut forged = claims(u64::MAX);
    forged.sub = "0x000000000000000000000000000000000000dead".into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("json"));
    let err = tokens
        .verify(&format!("{header}.{payload}.{signature}"))
        .expect_err("tampered");
    assert!(matches!(err, KeyError::TokenTampered), "{err:?}");

    // A flipped bit in the signature.
    let mut raw = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    raw[10] ^= 0x01;
    let err = tokens
        .verify(&format!(
            "{header}.{}.{}",
            token.split('.').nth(1).expect("payload"),
            URL_SAFE_NO_PAD.encode(&raw)
        ))
        .expect_err("tampered");
    assert!(matches!(err, KeyError::TokenTampered), "{err:?}");

    // The high-s twin of the valid signature is the same signature in another encoding: refused.
    let mut raw = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    let order = alloy::primitives::U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .expect("n");
    let s = alloy::primitives::U256::from_be_slice(&raw[32..64]);
    raw[32..64].copy_from_slice(&(order - s).to_be_bytes::<32>());
    raw[64] ^= 1;
    let err = tokens
        .verify(&format!(
            "{header}.{}.{}",
            token.split('.').nth(1).expect("payload"),
            URL_SAFE_NO_PAD.encode(&raw)
        ))
        .expect_err("high s");
    assert!(matches!(err, KeyError::TokenMalformed(_)), "{err:?}");
}

#[tokio::test]
async fn tokens_from_another_key_are_refused() {
    let trusted = issuer();
    let stranger = issuer();
    let token = stranger.sign(&claims(u64::MAX)).await.expect("sign");
    let err = trusted.verify(&token).expect_err("wrong signer");
    assert!(
        matches!(err, KeyError::TokenWrongSigner { signer } if signer == stranger.address()),
        "{err:?}"
    );
    // During a key rotation a verifier trusts both keys.
    let rotating = TokenVerifier::new([trusted.address(), stranger.address()]);
    rotating.verify(&token).expect("trusted during rotation");
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let tokens = issuer();
    let token = tokens.sign(&claims(u64::MAX)).await.expect("sign");
    let parts: Vec<&str> = token.split('.').collect();
    let other_alg = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"HS256","typ":"JWT","kid":"{:#x}"}}"#,
        tokens.address()
    ));
    let cases = [
        String::new(),
        "a.b".to_string(),
        format!("{token}.extra"),
        format!("!!.{}.{}", parts[1], parts[2]),
        format!("{other_alg}.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
        format!("{}.{}.{}", parts[0], parts[1], "A".repeat(5000)),
    ];
    for case in cases {
        let err = tokens.verify(&case).expect_err("malformed");
        assert!(
            matches!(err, KeyError::TokenMalformed(_)),
            "{case}: {err:?}"
        );
        assert!(err.is_token_rejection() && !err.is_transient());
    }
}
