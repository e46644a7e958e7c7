//! The local backend: a hex key and an encrypted JSON keystore, signing hashes, messages and
//! transactions that recover to the key's address.

use alloy::{
    consensus::{SignableTransaction, TxEip1559},
    network::{EthereumWallet, TxSigner},
    primitives::{Address, B256, TxKind, U256, address, keccak256},
    signers::{Signer, local::PrivateKeySigner},
};
use nest_keys::{KeyError, LocalKeyConfig, NestSigner, SecretString, SignerConfig};

/// Anvil's second account: a well-known test key and its address.
const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ADDRESS: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

async fn local_signer() -> NestSigner {
    NestSigner::from_config(&SignerConfig::Local(LocalKeyConfig::private_key(KEY)))
        .await
        .expect("local signer")
}

fn transfer(chain_id: u64) -> TxEip1559 {
    TxEip1559 {
        chain_id,
        nonce: 7,
        gas_limit: 21_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(address!("0x000000000000000000000000000000000000dEaD")),
        value: U256::from(1_000_000_000_000_000u64),
        ..Default::default()
    }
}

#[tokio::test]
async fn hex_key_signs_messages_and_hashes_that_recover() {
    let signer = local_signer().await;
    assert_eq!(signer.address(), ADDRESS);
    assert_eq!(signer.backend_name(), "local");

    let message = b"nest: sign in";
    let sig = signer.sign_message(message).await.expect("message");
    assert_eq!(
        sig.recover_address_from_msg(message).expect("recover"),
        ADDRESS
    );

    let hash = keccak256(b"a transaction's signing hash");
    let sig = signer.sign_hash(&hash).await.expect("hash");
    assert_eq!(
        sig.recover_address_from_prehash(&hash).expect("recover"),
        ADDRESS
    );
    assert!(sig.normalize_s().is_none(), "low s");
    let sig2 = signer.sign_digest(&hash).await.expect("digest");
    assert_eq!(sig, sig2, "RFC 6979: deterministic");
}

#[tokio::test]
async fn transactions_sign_through_tx_signer_and_the_wallet() {
    let signer = local_signer().await.with_chain_id(Some(31337));
    let mut tx = transfer(31337);
    let sig = TxSigner::sign_transaction(&signer, &mut tx)
        .await
        .expect("sign tx");
    // The signer filled nothing (the chain id was set) and signed the EIP-155 signing hash.
    assert_eq!(tx.chain_id, 31337);
    let sighash = tx.signature_hash();
    assert_eq!(
        sig.recover_address_from_prehash(&sighash).expect("recover"),
        ADDRESS
    );
    let signed = tx.into_signed(sig);
    assert_eq!(*signed.signature(), sig);

    // A signer bound to one chain refuses a transaction for another (EIP-155).
    let mut other_chain = transfer(1);
    let err = TxSigner::sign_transaction(&signer, &mut other_chain)
        .await
        .expect_err("chain mismatch");
    assert!(err.to_string().contains("chain"), "{err}");

    // It goes into alloy's wallet as is.
    let wallet = EthereumWallet::from(signer);
    assert_eq!(wallet.default_signer().address(), ADDRESS);
}

#[tokio::test]
async fn keystore_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = "correct horse battery staple 0x1f";
    let key_bytes = B256::from_slice(&hex_decode(KEY));
    let (_, _) = PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rand::thread_rng(),
        key_bytes,
        password,
        Some("relayer.json"),
    )
    .expect("encrypt keystore");
    let path = dir.path().join("relayer.json");

    let signer = NestSigner::from_config(&SignerConfig::Local(LocalKeyConfig::keystore(
        &path, password,
    )))
    .await
    .expect("decrypt");
    assert_eq!(signer.address(), ADDRESS);
    let sig = signer.sign_message(b"from a keystore").await.expect("sign");
    assert_eq!(
        sig.recover_address_from_msg(b"from a keystore")
            .expect("recover"),
        ADDRESS
    );

    let wrong = "Tr0ub4dor&3";
    let err = NestSigner::from_keystore(&path, &SecretString::from(wrong))
        .await
        .expect_err("wrong password");
    assert!(matches!(err, KeyError::Keystore { .. }), "{err:?}");
    assert!(err.to_string().contains("wrong password"), "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains(wrong) && !shown.contains(password),
            "{shown}"
        );
    }
    let err = NestSigner::from_keystore(&dir.path().join("missing.json"), &"x".to_string().into())
        .await
        .expect_err("missing file");
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[tokio::test]
async fn the_key_never_shows() {
    let signer = local_signer().await;
    let shown = format!("{signer:?} {signer:#?}");
    assert!(!shown.contains(&KEY[2..]), "{shown}");
    assert!(shown.contains("local"), "{shown}");

    let err = NestSigner::from_private_key(&SecretString::from(format!("{}zz", &KEY[..64])))
        .expect_err("not hex");
    assert!(!format!("{err} {err:?}").contains(&KEY[2..64]), "{err:?}");
    // The zero scalar is 64 hex digits but no key.
    let err = NestSigner::from_private_key(&SecretString::from("00".repeat(32))).expect_err("zero");
    assert!(matches!(err, KeyError::InvalidKey(_)), "{err:?}");
}

#[cfg(not(feature = "aws-kms"))]
#[tokio::test]
async fn a_backend_left_out_of_the_build_names_its_feature() {
    let err = NestSigner::from_config(&SignerConfig::AwsKms(nest_keys::AwsKmsConfig::new(
        "alias/relayer",
    )))
    .await
    .expect_err("disabled");
    assert!(matches!(err, KeyError::BackendDisabled { .. }), "{err:?}");
    assert!(err.to_string().contains("`aws-kms` cargo feature"), "{err}");
}

#[cfg(not(feature = "gcp-kms"))]
#[tokio::test]
async fn gcp_left_out_of_the_build_names_its_feature() {
    let err = NestSigner::from_config(&SignerConfig::GcpKms(nest_keys::GcpKmsConfig::new(
        "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
    )))
    .await
    .expect_err("disabled");
    assert!(err.to_string().contains("`gcp-kms` cargo feature"), "{err}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    alloy::primitives::hex::decode(s).expect("hex")
}
