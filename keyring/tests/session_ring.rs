//! The session-token key ring against a real store: rotation with an overlap window seen by a
//! second instance, retirement, concurrent rotations, scheduled upkeep, the JWKS, and the
//! audit chain's tamper detection.

use alloy::primitives::{Address, keccak256};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bson::doc;
use nest_keyring::{LocalKeyStore, SESSION_TOKEN, SessionKeyRing, maintain, retire, rotate};
use nest_keys::{KeyError, SecretString};
use nest_store::{ChainBreak, KeyState, Store, StoreError};
use nest_testkit::TestStore;
use std::time::Duration;

fn keystore(dir: &tempfile::TempDir) -> LocalKeyStore {
    LocalKeyStore::new(dir.path(), SecretString::from("test password".to_string()))
        .expect("keystore")
}

const HOUR: Duration = Duration::from_secs(3_600);

async fn ring_state(store: &Store) -> Vec<(i64, KeyState)> {
    store
        .key_ring()
        .ring(SESSION_TOKEN)
        .await
        .expect("ring")
        .iter()
        .map(|v| (v.version, v.state))
        .collect()
}

#[tokio::test]
async fn a_rotated_key_verifies_through_its_window_on_every_instance_then_retires() {
    let store = TestStore::fresh("ring_rollover").await;
    let dir = tempfile::tempdir().expect("dir");
    let first = SessionKeyRing::open(store.clone(), keystore(&dir))
        .await
        .expect("open");
    let second = SessionKeyRing::open(store.clone(), keystore(&dir))
        .await
        .expect("a second instance shares the ring");
    assert_eq!(ring_state(&store).await, [(1, KeyState::Active)]);
    let (old_token, _) = first.issue("0xabc", "s1", HOUR).await.expect("issue");
    second
        .verify(&old_token)
        .expect("the other instance verifies it");

    // The JWKS key is the signer's: its coordinates hash to the `kid` address.
    let jwks = first.jwks();
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!((key.kty, key.crv, key.use_), ("EC", "secp256k1", "sig"));
    let mut point = URL_SAFE_NO_PAD.decode(&key.x).expect("x");
    point.extend(URL_SAFE_NO_PAD.decode(&key.y).expect("y"));
    let address = Address::from_slice(&keccak256(&point)[12..]);
    assert_eq!(address.to_checksum(None), key.kid);

    let fresh = rotate(&store, &keystore(&dir), SESSION_TOKEN, HOUR)
        .await
        .expect("rotate");
    assert_eq!(fresh.version, 2);
    assert_eq!(
        ring_state(&store).await,
        [(1, KeyState::VerifyOnly), (2, KeyState::Active)]
    );
    for ring in [&first, &second] {
        ring.refresh().await.expect("refresh");
        assert_eq!(ring.active_version(), Some(2));
        ring.verify(&old_token)
            .expect("the old key verifies in its window");
        assert_eq!(ring.jwks().keys.len(), 2);
    }
    let (new_token, _) = second.issue("0xabc", "s2", HOUR).await.expect("issue");
    let header = new_token.split('.').next().expect("header");
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64")).expect("json");
    assert_eq!(
        header["kid"].as_str().map(str::to_lowercase),
        Some(format!("{:#x}", fresh.address)),
        "new tokens carry the new version's kid"
    );
    first
        .verify(&new_token)
        .expect("new tokens verify everywhere");

    // Retiring the active version is refused; the verify-only one retires.
    assert!(retire(&store, SESSION_TOKEN, 2).await.is_err());
    retire(&store, SESSION_TOKEN, 1).await.expect("retire");
    for ring in [&first, &second] {
        ring.refresh().await.expect("refresh");
        let err = ring.verify(&old_token).expect_err("retired");
        let KeyError::TokenWrongSigner { signer } = err else {
            panic!("expected a wrong-signer refusal, got {err}");
        };
        assert!(ring.is_retired(&signer));
        ring.verify(&new_token)
            .expect("the active key still verifies");
        assert_eq!(ring.jwks().keys.len(), 1);
    }
}

#[tokio::test]
async fn concurrent_rotations_change_the_ring_once_and_upkeep_rotates_and_retires() {
    let store = TestStore::fresh("ring_race").await;
    let dir = tempfile::tempdir().expect("dir");
    // Two instances start at once on an empty ring: one version 1, both use it.
    let (x, y) = tokio::join!(
        SessionKeyRing::open(store.clone(), keystore(&dir)),
        SessionKeyRing::open(store.clone(), keystore(&dir))
    );
    let (x, y) = (x.expect("first start"), y.expect("second start"));
    assert_eq!(ring_state(&store).await, [(1, KeyState::Active)]);
    let (token, _) = x.issue("0xabc", "s", HOUR).await.expect("issue");
    y.verify(&token).expect("the same key");
    let (a, b) = (keystore(&dir), keystore(&dir));
    let (x, y) = tokio::join!(
        rotate(&store, &a, SESSION_TOKEN, HOUR),
        rotate(&store, &b, SESSION_TOKEN, HOUR)
    );
    let wins = [x.is_ok(), y.is_ok()].iter().filter(|w| **w).count();
    assert!(wins >= 1, "one rotation wins: {x:?} {y:?}");
    let states = ring_state(&store).await;
    assert_eq!(
        states
            .iter()
            .filter(|(_, s)| *s == KeyState::Active)
            .count(),
        1,
        "exactly one active version: {states:?}"
    );
    for loser in [x, y].into_iter().filter_map(Result::err) {
        assert!(
            matches!(
                loser,
                nest_keyring::KeyRingError::Store(StoreError::StateConflict { .. })
                    | nest_keyring::KeyRingError::KeyFile { .. }
            ),
            "{loser}"
        );
    }

    // Upkeep: an active key older than the rotation period rotates; a verify-only key whose
    // window (here none) has passed retires.
    let before = ring_state(&store).await.len();
    let done = maintain(
        &store,
        &keystore(&dir),
        SESSION_TOKEN,
        Some(Duration::ZERO),
        Duration::ZERO,
    )
    .await
    .expect("upkeep");
    assert!(done.iter().any(|d| d.starts_with("rotated")), "{done:?}");
    assert_eq!(ring_state(&store).await.len(), before + 1);
    let done = maintain(&store, &keystore(&dir), SESSION_TOKEN, None, Duration::ZERO)
        .await
        .expect("upkeep");
    assert!(done.iter().any(|d| d.starts_with("retired")), "{done:?}");
    // The version rotated out with no overlap retired; any rotated out by the race still has
    // its hour.
    let states = ring_state(&store).await;
    let n = states.len();
    assert_eq!(states[n - 1], (n as i64, KeyState::Active), "{states:?}");
    assert_eq!(
        states[n - 2],
        (n as i64 - 1, KeyState::Retired),
        "{states:?}"
    );
    assert!(
        states[..n - 2]
            .iter()
            .all(|(_, s)| *s == KeyState::VerifyOnly),
        "{states:?}"
    );
}

#[tokio::test]
async fn the_audit_chain_records_every_token_and_detects_edits_and_deletions() {
    let store = TestStore::fresh("ring_audit").await;
    let dir = tempfile::tempdir().expect("dir");
    let ring = SessionKeyRing::open(store.clone(), keystore(&dir))
        .await
        .expect("open");
    let issued = futures_util::future::join_all((0..40).map(|i| {
        let ring = ring.clone();
        async move {
            ring.issue(&format!("0x{i:040x}"), &format!("s{i}"), HOUR)
                .await
        }
    }))
    .await;
    assert!(issued.iter().all(Result::is_ok));
    assert_eq!(
        store.key_ring().verify_audit().await.expect("verify"),
        (40, None),
        "concurrent appends form one unbroken chain"
    );
    let audit = store.database().collection::<bson::Document>("key_audit");
    audit
        .update_one(
            doc! { "_id": 17_i64 },
            doc! { "$set": { "caller": "0xforged" } },
        )
        .await
        .expect("edit");
    assert_eq!(
        store.key_ring().verify_audit().await.expect("verify"),
        (16, Some(ChainBreak::Edited { seq: 17 }))
    );
    audit
        .delete_one(doc! { "_id": 9_i64 })
        .await
        .expect("delete");
    assert_eq!(
        store.key_ring().verify_audit().await.expect("verify"),
        (8, Some(ChainBreak::Missing { seq: 9 }))
    );
}
