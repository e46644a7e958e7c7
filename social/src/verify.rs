//! Who signed a message: the account's own key (ecrecover), its contract (EIP-1271
//! `isValidSignature`, asked over the chain RPC), or an app key it delegated.

use crate::{
    error::{Result, SocialError},
    message::{APP_KEY_SCOPE, APP_KEY_TYPES, Parsed},
};
use alloy::{
    primitives::{Address, B256, Bytes, FixedBytes, Signature},
    providers::{DynProvider, Provider},
    sol,
};
use nest_store::SocialRepository;
use std::time::Duration;

sol! {
    #[sol(rpc)]
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);
    }
}

/// `isValidSignature`'s success value (`bytes4(keccak256("isValidSignature(bytes32,bytes)"))`).
pub const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// How long an EIP-1271 check may take.
const CHAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a message was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    /// By the account's own key.
    Eoa,
    /// By the account's contract (EIP-1271).
    Contract,
    /// By an app key the account delegated.
    AppKey,
}

impl SignerKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eoa => "eoa",
            Self::Contract => "contract",
            Self::AppKey => "app_key",
        }
    }
}

/// Who signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    /// The signing address (the account, or its app key).
    pub address: Address,
    /// How.
    pub kind: SignerKind,
}

fn recover(hash: &B256, signature: &[u8]) -> Result<Address> {
    let signature = Signature::from_raw(signature)
        .map_err(|e| SocialError::BadSignature(format!("not a 65-byte signature: {e}")))?;
    signature
        .recover_address_from_prehash(hash)
        .map_err(|e| SocialError::BadSignature(e.to_string()))
}

/// Checks the signature of `parsed` (at server time `now`, seconds).
pub async fn verify(
    parsed: &Parsed,
    now: u64,
    repo: &SocialRepository,
    chain: Option<&DynProvider>,
) -> Result<Signer> {
    let account = parsed.body.account();
    let kind = parsed.body.kind();
    if let Some(app_key) = parsed.app_key {
        if !APP_KEY_TYPES.contains(&kind) {
            return Err(SocialError::AppKeyScope(kind.to_string()));
        }
        let recovered = recover(&parsed.hash, &parsed.signature)?;
        if recovered != app_key {
            return Err(SocialError::BadSignature(format!(
                "signed by {recovered}, not by the app key {app_key}"
            )));
        }
        let grant = repo
            .app_key(&account, &app_key)
            .await?
            .ok_or_else(|| SocialError::AppKeyUnknown(app_key.to_string()))?;
        if grant.revoked_at.is_some() {
            return Err(SocialError::AppKeyRevoked(app_key.to_string()));
        }
        if grant.expiry <= now as i64 {
            return Err(SocialError::AppKeyExpired(app_key.to_string()));
        }
        if !grant.scope.iter().any(|s| s == APP_KEY_SCOPE) {
            return Err(SocialError::AppKeyScope(kind.to_string()));
        }
        return Ok(Signer {
            address: app_key,
            kind: SignerKind::AppKey,
        });
    }
    if parsed.signature.len() == 65
        && let Ok(recovered) = recover(&parsed.hash, &parsed.signature)
        && recovered == account
    {
        return Ok(Signer {
            address: account,
            kind: SignerKind::Eoa,
        });
    }
    // Not the account's key: it may be a contract wallet.
    let Some(provider) = chain else {
        return Err(SocialError::BadSignature(
            "the signature does not recover to the account".into(),
        ));
    };
    let code = tokio::time::timeout(CHAIN_TIMEOUT, provider.get_code_at(account))
        .await
        .map_err(|_| SocialError::ChainUnavailable("timed out".into()))?
        .map_err(|e| SocialError::ChainUnavailable(e.to_string()))?;
    if code.is_empty() {
        return Err(SocialError::BadSignature(
            "the signature does not recover to the account, which is not a contract".into(),
        ));
    }
    let wallet = IERC1271::new(account, provider.clone());
    let call = wallet.isValidSignature(parsed.hash, Bytes::from(parsed.signature.clone()));
    let answer = tokio::time::timeout(CHAIN_TIMEOUT, call.call()).await;
    match answer {
        Err(_) => Err(SocialError::ChainUnavailable("timed out".into())),
        Ok(Ok(magic)) if magic == FixedBytes::<4>::from(ERC1271_MAGIC) => Ok(Signer {
            address: account,
            kind: SignerKind::Contract,
        }),
        // A revert or any other answer is a refusal by the contract.
        Ok(Ok(_))
        | Ok(Err(alloy::contract::Error::TransportError(
            alloy::transports::RpcError::ErrorResp(_),
        ))) => Err(SocialError::BadSignature(
            "the account's contract does not accept the signature (EIP-1271)".into(),
        )),
        Ok(Err(e)) => Err(SocialError::ChainUnavailable(e.to_string())),
    }
}
