//! RPC connection set-up: an HTTP provider with bounded timeouts and a signing wallet.

use crate::error::{ChainError, Result};
use alloy::{
    network::{Ethereum, EthereumWallet},
    providers::{
        DynProvider, Provider, ProviderBuilder, SendableTx,
        fillers::{FillerControlFlow, TxFiller},
    },
    rpc::{client::RpcClient, types::TransactionRequest},
    signers::local::PrivateKeySigner,
    transports::{TransportResult, http::reqwest},
};
use std::{path::PathBuf, time::Duration};
use url::Url;

/// How long to wait for a TCP connection to the RPC endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one RPC request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// anvil's first default account (mnemonic "test test ... junk"): public knowledge, only ever
/// accepted on a local development chain.
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Chain id anvil uses by default; the dev key is refused elsewhere.
pub const ANVIL_CHAIN_ID: u64 = 31337;

/// Where the key that signs deployment transactions comes from.
#[derive(Clone)]
pub enum DeployerKey {
    /// A hex private key (from `NEST_DEPLOYER_KEY`).
    PrivateKey(String),
    /// An encrypted JSON keystore file and its password.
    Keystore {
        /// Keystore file.
        path: PathBuf,
        /// Its password.
        password: String,
    },
    /// anvil's first development account (local chains only).
    DevAccount,
}

impl std::fmt::Debug for DeployerKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKey(_) => f.write_str("PrivateKey(<redacted>)"),
            Self::Keystore { path, .. } => write!(f, "Keystore({})", path.display()),
            Self::DevAccount => f.write_str("DevAccount"),
        }
    }
}

impl DeployerKey {
    /// Loads the signer.
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        match self {
            Self::PrivateKey(hex) => hex
                .trim()
                .parse()
                .map_err(|_| ChainError::Key("the private key is not 32 bytes of hex".into())),
            Self::Keystore { path, password } => PrivateKeySigner::decrypt_keystore(path, password)
                .map_err(|e| {
                    ChainError::Key(format!("cannot decrypt keystore {}: {e}", path.display()))
                }),
            Self::DevAccount => ANVIL_DEV_KEY
                .parse()
                .map_err(|_| ChainError::Key("the built-in dev key is malformed".into())),
        }
    }

    /// True for the public development key.
    pub fn is_dev(&self) -> bool {
        matches!(self, Self::DevAccount)
    }
}

/// Gas limit given to an estimated transaction, in percent of the estimate (foundry's scripts use
/// the same 130 %).
pub const GAS_ESTIMATE_PERCENT: u64 = 130;

/// Raises an estimated gas limit to [`GAS_ESTIMATE_PERCENT`] of the estimate.
///
/// `eth_estimateGas` simulates the transaction in the pending block, but the block it is mined in
/// may carry a later timestamp, and code whose cost depends on the clock then needs more gas than
/// the estimate (a vote checkpoint written at a new timestamp costs a fresh storage slot, an
/// update at the same timestamp does not). A limit set by the caller is left alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct GasHeadroom;

impl TxFiller<Ethereum> for GasHeadroom {
    type Fillable = ();

    fn status(&self, tx: &TransactionRequest) -> FillerControlFlow {
        if tx.gas.is_some() {
            FillerControlFlow::Finished
        } else {
            FillerControlFlow::Ready
        }
    }

    fn fill_sync(&self, _tx: &mut SendableTx<Ethereum>) {}

    async fn prepare<P: Provider<Ethereum>>(
        &self,
        _provider: &P,
        _tx: &TransactionRequest,
    ) -> TransportResult<()> {
        Ok(())
    }

    async fn fill(
        &self,
        _fillable: (),
        mut tx: SendableTx<Ethereum>,
    ) -> TransportResult<SendableTx<Ethereum>> {
        // Runs after the gas filler in the same round, so the estimate is in place here.
        if let Some(builder) = tx.as_mut_builder()
            && let Some(estimate) = builder.gas
        {
            builder.gas = Some(estimate.saturating_mul(GAS_ESTIMATE_PERCENT) / 100);
        }
        Ok(tx)
    }
}

/// An HTTP provider to `url` whose requests time out instead of hanging; with a signer, estimated
/// gas limits get [`GasHeadroom`].
pub fn http_provider(url: &Url, signer: Option<PrivateKeySigner>) -> Result<DynProvider> {
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| ChainError::Rpc {
            url: redact(url),
            message: e.to_string(),
        })?;
    let is_local = url
        .host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]");
    let rpc = RpcClient::new_http_with_client(client, url.clone());
    let rpc = if is_local {
        rpc.with_poll_interval(Duration::from_millis(50))
    } else {
        rpc
    };
    Ok(match signer {
        Some(signer) => ProviderBuilder::new()
            .filler(GasHeadroom)
            .wallet(EthereumWallet::from(signer))
            .connect_client(rpc)
            .erased(),
        None => ProviderBuilder::new().connect_client(rpc).erased(),
    })
}

/// Asks the node for its chain id, with a clear error when it cannot be reached.
pub async fn chain_id(provider: &DynProvider, url: &Url) -> Result<u64> {
    provider.get_chain_id().await.map_err(|e| ChainError::Rpc {
        url: redact(url),
        message: format!("cannot reach the node: {e}"),
    })
}

/// The URL without user info, query or fragment (they may hold API keys).
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_key_is_anvils_first_account() {
        let signer = DeployerKey::DevAccount.signer().expect("dev key");
        assert_eq!(
            signer.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn malformed_private_key_is_rejected_without_echoing_it() {
        let err = DeployerKey::PrivateKey("0x1234secret".into())
            .signer()
            .expect_err("bad key");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(!format!("{:?}", DeployerKey::PrivateKey("0xsecret".into())).contains("secret"));
    }

    #[test]
    fn redact_strips_credentials_and_query() {
        let url: Url = "https://user:pass@rpc.example/v3/path?key=abc"
            .parse()
            .expect("url");
        assert_eq!(redact(&url), "https://rpc.example/v3/path");
    }

    #[tokio::test]
    async fn unreachable_rpc_fails_fast_with_a_clear_error() {
        // A port that nothing listens on: connection refused, well within the timeout.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let url: Url = format!("http://127.0.0.1:{port}").parse().expect("url");
        let provider = http_provider(&url, None).expect("provider");
        let started = std::time::Instant::now();
        let err = chain_id(&provider, &url)
            .await
            .expect_err("nothing listens");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(err.to_string().contains("cannot reach the node"), "{err}");
        assert!(err.is_transient());
    }
}
