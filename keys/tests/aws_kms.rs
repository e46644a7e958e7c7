//! The AWS KMS backend against LocalStack's KMS, started by the harness on a free loopback port
//! (one per test binary): keys created in KMS sign digests, messages and transactions that
//! recover to the address derived from KMS's public key.
#![cfg(feature = "aws-kms")]

use alloy::{
    consensus::{SignableTransaction, TxEip1559},
    network::TxSigner,
    primitives::{Address, TxKind, U256, keccak256},
    signers::Signer,
};
use nest_keys::{AwsKmsConfig, KeyError, NestSigner, TokenSigner, aws_kms, testing::LocalStackKms};

async fn kms_signer() -> (NestSigner, &'static LocalStackKms) {
    let kms = tokio::task::spawn_blocking(LocalStackKms::shared)
        .await
        .expect("harness thread")
        .expect("LocalStack KMS");
    let key_id = kms.create_secp256k1_key().await.expect("create key");
    let signer = aws_kms::connect_with(&kms.config(&key_id), kms.loader())
        .await
        .expect("connect");
    (NestSigner::from_aws(signer), kms)
}

#[tokio::test]
async fn kms_keys_sign_what_recovers_to_their_address() {
    let (signer, _) = kms_signer().await;
    assert_eq!(signer.backend_name(), "aws-kms");
    let message = b"signed by KMS";
    let sig = signer.sign_message(message).await.expect("sign");
    assert_eq!(
        sig.recover_address_from_msg(message).expect("recover"),
        signer.address()
    );
    for n in 0u32..10 {
        let digest = keccak256(n.to_be_bytes());
        let sig = signer.sign_digest(&digest).await.expect("sign digest");
        assert!(sig.normalize_s().is_none(), "low s");
        assert_eq!(
            sig.recover_address_from_prehash(&digest).expect("recover"),
            signer.address()
        );
    }

    let signer = signer.with_chain_id(Some(31337));
    let mut tx = TxEip1559 {
        chain_id: 31337,
        nonce: 3,
        gas_limit: 21_000,
        max_fee_per_gas: 2_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x22)),
        value: U256::from(9),
        ..Default::default()
    };
    let sig = TxSigner::sign_transaction(&signer, &mut tx)
        .await
        .expect("sign tx");
    assert_eq!(
        sig.recover_address_from_prehash(&tx.signature_hash())
            .expect("recover"),
        signer.address()
    );
}

#[tokio::test]
async fn two_keys_have_two_addresses_and_issue_tokens() {
    let (a, _) = kms_signer().await;
    let (b, _) = kms_signer().await;
    assert_ne!(a.address(), b.address());
    let tokens = TokenSigner::new(a);
    let (token, claims) = tokens
        .issue("0xabc", "kms-session", std::time::Duration::from_secs(60))
        .await
        .expect("issue");
    assert_eq!(tokens.verify(&token).expect("verify"), claims);
    let err = TokenSigner::new(b).verify(&token).expect_err("other key");
    assert!(matches!(err, KeyError::TokenWrongSigner { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unknown_key_is_a_permanent_error() {
    let (_, kms) = kms_signer().await;
    let config = kms.config("6f9bf1b0-0000-4000-8000-000000000000");
    let err = aws_kms::connect_with(&config, kms.loader())
        .await
        .expect_err("unknown key");
    assert!(matches!(err, KeyError::AwsKms(_)), "{err:?}");
    assert!(!err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let (_, kms) = kms_signer().await;
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = AwsKmsConfig {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        ..kms.config("any")
    };
    let err = aws_kms::connect_with(&config, kms.loader())
        .await
        .expect_err("unreachable");
    assert!(err.is_transient(), "{err:?}");
}
