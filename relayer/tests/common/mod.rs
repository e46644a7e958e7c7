//! The relayer's integration-test helpers over `nest-testkit` (anvil with Nest deployed, a fresh
//! store database), plus a relayer (intake router and optionally the submitter) over them, and
//! helpers that sign requests the way a wallet does.

#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

use alloy::{
    primitives::{Address, Bytes, U256, Uint},
    providers::ext::AnvilApi,
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolCall, SolStruct},
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use nest_abis::{NestMarketplace, NestNFT};
use nest_chain::{AnvilOptions, NestAddresses};
use nest_keys::NestSigner;
use nest_relayer::{
    RelayChain, RelayIntake, RelaySubmitter, RelayerConfig,
    request::typed::{Ballot, Delegation, ExtendedBallot, ForwardRequest},
};
use nest_store::{RelayJob, RelayJobStatus, Store};
use nest_testkit::{TestChain, TestStore};
use std::time::Duration;
use tower::ServiceExt;

pub use nest_testkit::{CHAIN_ID, ether, init_logs, layout, send};

/// The kit's chain; the relayer's additions are [`RelayerChain`]'s.
pub type Chain = TestChain;

/// What the relayer's tests build from a chain.
pub trait RelayerChain {
    /// A relayer configuration with short intervals for tests.
    fn config(&self, instance: &str) -> RelayerConfig;
}

impl RelayerChain for TestChain {
    fn config(&self, instance: &str) -> RelayerConfig {
        let mut config = RelayerConfig::new(CHAIN_ID, self.addresses);
        config.poll_interval = Duration::from_millis(20);
        config.balance_refresh = Duration::from_millis(500);
        config.lease_ttl = Duration::from_secs(3);
        config.deadline_margin = Duration::from_secs(10);
        config.confirmations = 1;
        config.stuck_after_blocks = 2;
        config.instance_id = instance.to_string();
        config
    }
}

/// Anvil with Nest deployed; the first four dev accounts hold NEST.
pub async fn deployed_chain(options: AnvilOptions) -> Chain {
    TestChain::builder()
        .anvil(options)
        .dev_accounts(4)
        .start()
        .await
}

pub async fn store(label: &str) -> Store {
    TestStore::fresh(label).await
}

pub async fn fund(chain: &Chain, to: Address, wei: U256) {
    chain.fund(to, wei).await;
}

/// A running relayer: intake (as an axum router) and, unless `intake_only`, the submitter.
pub struct Relayer {
    pub chain: RelayChain,
    pub intake: RelayIntake,
    pub router: Router,
    pub store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relayer {
    pub async fn start(
        chain: &Chain,
        store: &Store,
        config: RelayerConfig,
        signers: Vec<NestSigner>,
    ) -> Self {
        let relay_chain = RelayChain::connect(config, chain.reader())
            .await
            .expect("relay chain");
        let pool: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        let intake = RelayIntake::new(relay_chain.clone(), store.clone(), pool)
            .await
            .expect("intake");
        let submitter = RelaySubmitter::new(relay_chain.clone(), store.clone(), signers)
            .await
            .expect("submitter");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            submitter
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("submitter run");
        });
        Self {
            router: nest_relayer::router(intake.clone()),
            chain: relay_chain,
            intake,
            store: store.clone(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A relayer whose one account is the local key `key`.
    pub async fn with_key(
        chain: &Chain,
        store: &Store,
        config: RelayerConfig,
        key: &PrivateKeySigner,
    ) -> Self {
        Self::start(
            chain,
            store,
            config,
            vec![NestSigner::from_local(key.clone())],
        )
        .await
    }

    pub async fn intake_only(
        chain: &Chain,
        store: &Store,
        config: RelayerConfig,
        pool: Vec<Address>,
    ) -> Self {
        let relay_chain = RelayChain::connect(config, chain.reader())
            .await
            .expect("relay chain");
        let intake = RelayIntake::new(relay_chain.clone(), store.clone(), pool)
            .await
            .expect("intake");
        Self {
            router: nest_relayer::router(intake.clone()),
            chain: relay_chain,
            intake,
            store: store.clone(),
            stop: None,
            task: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("submitter task");
        }
    }

    /// POSTs a body to `/v1/relay`; returns the status and the JSON answer.
    pub async fn post(&self, body: &serde_json::Value) -> (StatusCode, serde_json::Value) {
        self.post_raw(body.to_string().into_bytes()).await
    }

    pub async fn post_raw(&self, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
        self.post_as("application/json", body).await
    }

    /// POSTs `body` declared as `content_type`.
    pub async fn post_as(
        &self,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, serde_json::Value) {
        let response = self
            .router
            .clone()
            .oneshot(
                Request::post("/v1/relay")
                    .header("content-type", content_type)
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await
            .expect("router");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON answer");
        if !status.is_success() {
            assert_eq!(content_type, "application/problem+json", "{json}");
        }
        (status, json)
    }

    /// POSTs and expects 202; returns the job id.
    pub async fn accept(&self, body: &serde_json::Value) -> String {
        let (status, json) = self.post(body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{json}");
        json["id"].as_str().expect("id").to_string()
    }

    /// GET `/v1/relay/{id}`.
    pub async fn get(&self, id: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .router
            .clone()
            .oneshot(
                Request::get(format!("/v1/relay/{id}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("router");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("JSON"))
    }
}

/// Waits until job `id` reaches `status` (mining a block now and then, so confirmations come
/// on an automining anvil), failing on any other final state.
pub async fn wait_for(store: &Store, chain: &Chain, id: &str, status: RelayJobStatus) -> RelayJob {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let miner = chain.reader();
    let mut polls = 0u32;
    loop {
        let job = store
            .relay_jobs()
            .get(id)
            .await
            .expect("get")
            .expect("job exists");
        if job.status == status {
            return job;
        }
        assert!(
            !job.status.is_final(),
            "job {id} ended {:?} ({:?}) instead of {status:?}",
            job.status,
            job.error
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} still {:?} after 60 s",
            job.status
        );
        polls += 1;
        if job.status == RelayJobStatus::Mined && polls.is_multiple_of(5) {
            let _ = miner.anvil_mine(Some(1), None).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn domain(name: &'static str, contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(name.into()),
        Some("1".into()),
        Some(U256::from(CHAIN_ID)),
        Some(contract),
        None,
    )
}

/// A signed forward request body.
pub struct Forward<'a> {
    pub key: &'a PrivateKeySigner,
    pub forwarder: Address,
    pub to: Address,
    pub data: Bytes,
    pub nonce: u64,
    pub deadline: u64,
    pub gas: u64,
    pub value: U256,
    pub chain_id: u64,
}

impl<'a> Forward<'a> {
    pub fn new(
        key: &'a PrivateKeySigner,
        addresses: &NestAddresses,
        to: Address,
        data: impl Into<Bytes>,
        nonce: u64,
        deadline: u64,
    ) -> Self {
        Self {
            key,
            forwarder: addresses.forwarder,
            to,
            data: data.into(),
            nonce,
            deadline,
            gas: 300_000,
            value: U256::ZERO,
            chain_id: CHAIN_ID,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut domain = domain("NestForwarder", self.forwarder);
        domain.chain_id = Some(U256::from(self.chain_id));
        let message = ForwardRequest {
            from: self.key.address(),
            to: self.to,
            value: self.value,
            gas: U256::from(self.gas),
            nonce: U256::from(self.nonce),
            deadline: Uint::<48, 1>::from(self.deadline),
            data: self.data.clone(),
        };
        let signature = self
            .key
            .sign_hash_sync(&message.eip712_signing_hash(&domain))
            .expect("sign");
        serde_json::json!({
            "kind": "forward",
            "from": self.key.address(),
            "to": self.to,
            "value": self.value.to_string(),
            "gas": self.gas,
            "nonce": self.nonce.to_string(),
            "deadline": self.deadline,
            "data": self.data,
            "signature": Bytes::from(signature.as_bytes()),
        })
    }
}

/// A signed `castVoteBySig` body, or with a reason a `castVoteWithReasonAndParamsBySig` one.
pub fn vote_body(
    key: &PrivateKeySigner,
    governor: Address,
    proposal: U256,
    support: u8,
    nonce: u64,
    reason: Option<&str>,
) -> serde_json::Value {
    let domain = domain("NestGovernor", governor);
    let digest = match reason {
        None => Ballot {
            proposalId: proposal,
            support,
            voter: key.address(),
            nonce: U256::from(nonce),
        }
        .eip712_signing_hash(&domain),
        Some(reason) => ExtendedBallot {
            proposalId: proposal,
            support,
            voter: key.address(),
            nonce: U256::from(nonce),
            reason: reason.to_string(),
            params: Bytes::new(),
        }
        .eip712_signing_hash(&domain),
    };
    let signature = key.sign_hash_sync(&digest).expect("sign");
    let mut body = serde_json::json!({
        "kind": "vote",
        "voter": key.address(),
        "proposalId": proposal.to_string(),
        "support": support,
        "nonce": nonce,
        "signature": Bytes::from(signature.as_bytes()),
    });
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    body
}

/// A signed `delegateBySig` body.
pub fn delegate_body(
    key: &PrivateKeySigner,
    token: Address,
    delegatee: Address,
    nonce: u64,
    expiry: u64,
) -> serde_json::Value {
    let delegation = Delegation {
        delegatee,
        nonce: U256::from(nonce),
        expiry: U256::from(expiry),
    };
    let signature = key
        .sign_hash_sync(&delegation.eip712_signing_hash(&domain("Nest", token)))
        .expect("sign");
    serde_json::json!({
        "kind": "delegate",
        "from": key.address(),
        "delegatee": delegatee,
        "nonce": nonce,
        "expiry": expiry,
        "signature": Bytes::from(signature.as_bytes()),
    })
}

/// The forwarder's nonce of `user`: how many of its requests ran.
pub async fn forwarder_nonce(chain: &Chain, user: Address) -> U256 {
    nest_abis::NestForwarder::new(chain.addresses.forwarder, chain.reader())
        .nonces(user)
        .call()
        .await
        .expect("forwarder nonce")
}

pub fn approve_all(marketplace: Address) -> Bytes {
    NestNFT::setApprovalForAllCall {
        operator: marketplace,
        approved: true,
    }
    .abi_encode()
    .into()
}

pub fn create_listing(nft: Address, token: U256, price: U256, expires: u64) -> Bytes {
    NestMarketplace::createListingCall {
        nft,
        tokenId: token,
        paymentToken: Address::ZERO,
        price,
        expiresAt: expires,
    }
    .abi_encode()
    .into()
}

/// Number of relay jobs in the store.
pub async fn job_count(store: &Store) -> u64 {
    store
        .database()
        .collection::<bson::Document>("relay_jobs")
        .count_documents(bson::doc! {})
        .await
        .expect("count")
}
