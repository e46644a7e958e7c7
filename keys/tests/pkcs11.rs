//! The PKCS#11 backend against a real SoftHSM2 token in a temporary folder: the address derived
//! from the token's public key is the one signatures recover to, every signature is low-s,
//! concurrent signing works, and a wrong PIN or a missing key is a clear error.
//!
//! SoftHSM reads `SOFTHSM2_CONF` once per process, so every test here starts with [`hsm`], which
//! sets up one token directory (and its tokens and key) for the whole binary.
#![cfg(feature = "pkcs11")]

use alloy::{
    consensus::{SignableTransaction, TxLegacy},
    network::TxSigner,
    primitives::{Address, TxKind, U256, keccak256},
    signers::Signer,
};
use nest_keys::{
    KeyError, NestSigner, Pkcs11Config, SignerConfig, TokenSigner, generate_secp256k1_key,
    testing::SoftHsm,
};
use std::sync::OnceLock;

const TOKEN: &str = "nest-relayer";
const PIN: &str = "pin-8675309";
const KEY_LABEL: &str = "relayer-hot";
/// A second token nobody logs in to successfully: PKCS#11 login state is per process and
/// token, so a wrong PIN must be tried on a token no test has logged in to.
const UNTOUCHED_TOKEN: &str = "nest-untouched";

struct Fixture {
    hsm: &'static SoftHsm,
    address: Address,
}

fn hsm() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // SAFETY: every test in this binary calls `hsm()` first, so the other test threads are
        // waiting on this initialisation, not touching the environment.
        let hsm = unsafe { SoftHsm::process_wide() }.expect("SoftHSM token directory");
        hsm.init_token(TOKEN, PIN).expect("init token");
        hsm.init_token(UNTOUCHED_TOKEN, PIN)
            .expect("init second token");
        let config = hsm.config(TOKEN, PIN, KEY_LABEL);
        // Key generation is async (blocking pool); this may run inside a test's runtime, so use
        // a runtime of its own on its own thread.
        let address = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(generate_secp256k1_key(&config))
        })
        .join()
        .expect("key generation thread")
        .expect("generate key");
        Fixture { hsm, address }
    })
}

async fn hsm_signer() -> NestSigner {
    let fixture = hsm();
    NestSigner::from_config(&SignerConfig::Pkcs11(
        fixture.hsm.config(TOKEN, PIN, KEY_LABEL),
    ))
    .await
    .expect("PKCS#11 signer")
}

#[tokio::test]
async fn the_hsm_address_is_the_one_signatures_recover_to() {
    let fixture = hsm();
    let signer = hsm_signer().await;
    assert_eq!(signer.address(), fixture.address);
    assert_eq!(signer.backend_name(), "pkcs11");

    let message = b"signed inside SoftHSM";
    let sig = signer.sign_message(message).await.expect("sign");
    assert_eq!(
        sig.recover_address_from_msg(message).expect("recover"),
        fixture.address
    );

    let mut tx = TxLegacy {
        chain_id: Some(31337),
        nonce: 1,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x11)),
        value: U256::from(5),
        ..Default::default()
    };
    let sig = TxSigner::sign_transaction(&signer, &mut tx)
        .await
        .expect("sign tx");
    assert_eq!(
        sig.recover_address_from_prehash(&tx.signature_hash())
            .expect("recover"),
        fixture.address
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_signatures_are_low_s_and_all_recover() {
    let fixture = hsm();
    let signer = hsm_signer().await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0u32..50 {
        let signer = signer.clone();
        tasks.spawn(async move {
            let digest = keccak256(n.to_be_bytes());
            (digest, signer.sign_digest(&digest).await)
        });
    }
    let mut checked = 0;
    while let Some(joined) = tasks.join_next().await {
        let (digest, sig) = joined.expect("task");
        let sig = sig.expect("sign");
        assert!(sig.normalize_s().is_none(), "high s for {digest}");
        assert_eq!(
            sig.recover_address_from_prehash(&digest).expect("recover"),
            fixture.address
        );
        checked += 1;
    }
    assert_eq!(checked, 50);
}

#[tokio::test]
async fn keys_are_found_by_id_too() {
    let fixture = hsm();
    let config = Pkcs11Config {
        key_label: None,
        // Generated keys get their label as CKA_ID.
        key_id: Some(alloy::primitives::hex::encode(KEY_LABEL)),
        ..fixture.hsm.config(TOKEN, PIN, KEY_LABEL)
    };
    let signer = NestSigner::from_config(&SignerConfig::Pkcs11(config))
        .await
        .expect("by id");
    assert_eq!(signer.address(), fixture.address);
}

#[tokio::test]
async fn a_wrong_pin_is_a_clear_error() {
    let fixture = hsm();
    let wrong = "pin-0000000";
    let err = NestSigner::from_config(&SignerConfig::Pkcs11(fixture.hsm.config(
        UNTOUCHED_TOKEN,
        wrong,
        KEY_LABEL,
    )))
    .await
    .expect_err("wrong PIN");
    assert!(matches!(err, KeyError::PinIncorrect { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("wrong PIN") && shown.contains(UNTOUCHED_TOKEN),
        "{shown}"
    );
    assert!(!shown.contains(wrong), "{shown}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_missing_key_label_is_a_clear_error() {
    let fixture = hsm();
    let err = NestSigner::from_config(&SignerConfig::Pkcs11(fixture.hsm.config(
        TOKEN,
        PIN,
        "no-such-key",
    )))
    .await
    .expect_err("missing key");
    assert!(matches!(err, KeyError::KeyNotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("\"no-such-key\"") && err.to_string().contains(TOKEN),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_token_or_module_is_a_clear_error() {
    let fixture = hsm();
    let err = NestSigner::from_config(&SignerConfig::Pkcs11(fixture.hsm.config(
        "no-such-token",
        PIN,
        KEY_LABEL,
    )))
    .await
    .expect_err("missing token");
    assert!(matches!(err, KeyError::TokenNotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains(TOKEN),
        "lists present tokens: {err}"
    );

    let config = Pkcs11Config::new("/nonexistent/libpkcs11.so", TOKEN, PIN, KEY_LABEL);
    let err = NestSigner::from_config(&SignerConfig::Pkcs11(config))
        .await
        .expect_err("missing module");
    assert!(matches!(err, KeyError::Pkcs11Module { .. }), "{err:?}");
    assert!(err.to_string().contains("not found"), "{err}");
}

#[tokio::test]
async fn generating_over_an_existing_key_is_refused() {
    let fixture = hsm();
    let err = generate_secp256k1_key(&fixture.hsm.config(TOKEN, PIN, KEY_LABEL))
        .await
        .expect_err("duplicate");
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[tokio::test]
async fn the_pin_never_shows() {
    let signer = hsm_signer().await;
    let config = SignerConfig::Pkcs11(hsm().hsm.config(TOKEN, PIN, KEY_LABEL));
    let shown = format!("{signer:?} {signer:#?} {config:?}");
    assert!(!shown.contains(PIN), "{shown}");
    assert!(
        shown.contains(TOKEN) && shown.contains(KEY_LABEL),
        "{shown}"
    );
}

#[tokio::test]
async fn session_tokens_can_be_issued_by_the_hsm() {
    let tokens = TokenSigner::new(hsm_signer().await);
    let (token, claims) = tokens
        .issue("0xabc", "hsm-session", std::time::Duration::from_secs(60))
        .await
        .expect("issue");
    assert_eq!(tokens.verify(&token).expect("verify"), claims);
    assert_eq!(tokens.address(), hsm().address);
}
