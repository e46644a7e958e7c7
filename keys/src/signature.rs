//! Turning a bare ECDSA signature from an HSM or KMS into an Ethereum signature.

use crate::error::{KeyError, Result};
use alloy::{
    primitives::{Address, B256, Signature},
    signers::k256::ecdsa,
};

/// Makes `s` low (EIP-2: Ethereum rejects high-s signatures) and finds the recovery parity by
/// trying both against the key's known address, since HSMs and KMSs do not return it.
pub(crate) fn with_recovered_parity(
    signature: ecdsa::Signature,
    digest: B256,
    address: Address,
    backend: &'static str,
) -> Result<Signature> {
    let signature = signature.normalize_s().unwrap_or(signature);
    for parity in [false, true] {
        let candidate = Signature::from_signature_and_parity(signature, parity);
        if candidate
            .recover_address_from_prehash(&digest)
            .is_ok_and(|recovered| recovered == address)
        {
            return Ok(candidate);
        }
    }
    Err(KeyError::SignatureMismatch { backend, address })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    /// secp256k1's order n; a signature (r, s) and (r, n - s) are both valid.
    const ORDER: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    #[test]
    fn high_s_is_normalised_and_parity_recovered() {
        let key = PrivateKeySigner::random();
        for n in 0u8..16 {
            let digest = B256::repeat_byte(n);
            let reference = key.sign_hash_sync(&digest).expect("sign");
            let order = alloy::primitives::U256::from_str_radix(ORDER, 16).expect("order");
            // The same signature with s flipped high, and no parity: what an HSM may return.
            let high = ecdsa::Signature::from_scalars(
                reference.r().to_be_bytes::<32>(),
                (order - reference.s()).to_be_bytes::<32>(),
            )
            .expect("valid scalars");
            let fixed = with_recovered_parity(high, digest, key.address(), "test").expect("ok");
            assert_eq!(fixed, reference);
            assert!(fixed.normalize_s().is_none(), "low s");
        }
    }

    #[test]
    fn a_signature_from_another_key_is_refused() {
        let key = PrivateKeySigner::random();
        let other = PrivateKeySigner::random();
        let digest = B256::repeat_byte(7);
        let sig = other.sign_hash_sync(&digest).expect("sign");
        let bare = sig.to_k256().expect("k256");
        let err = with_recovered_parity(bare, digest, key.address(), "test").expect_err("refused");
        assert!(matches!(err, KeyError::SignatureMismatch { .. }), "{err}");
    }
}
