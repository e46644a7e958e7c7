//! The connection to the store: client options (majority writes, retryable writes, bounded
//! waits), start-up checks and migrations, repository handles, and transactions.

use crate::{
    config::{StoreConfig, redact_uri},
    error::{Result, StoreError, is_transient},
    repos::{
        ActivityRepository, AuctionRepository, BlockRepository, ChainEventRepository,
        CheckpointRepository, CollectionStatsRepository, ContractStateRepository,
        DeadLetterRepository, DelegateRepository, KeyRingRepository, ListingRepository,
        MetadataRepository, NftRepository, OfferRepository, ProposalRepository, RelayJobRepository,
        RelaySignerRepository, SaleRepository, SessionRepository, SocialRepository, UndoRepository,
        UserRepository, VoteRepository,
    },
    schema,
};
use bson::doc;
use futures_util::future::BoxFuture;
use mongodb::{
    Client, ClientSession, Database,
    options::{ClientOptions, ReadConcern, ReadPreference, SelectionCriteria, WriteConcern},
};
use std::time::Duration;
use tracing::{debug, info, warn};

/// How long a transaction keeps being retried on transient errors. Longer than MongoDB's default
/// `transactionLifetimeLimitSeconds` (60 s): a writer restarted after a crash finds the documents
/// its dead transaction touched locked (write conflicts) until the server reaps that transaction,
/// and must wait it out rather than fail.
const TRANSACTION_RETRY_BUDGET: Duration = Duration::from_secs(75);
/// Commit retries on an unknown commit result.
const COMMIT_ATTEMPTS: u32 = 5;

/// A connected, migrated store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    db: Database,
    config: StoreConfig,
}

impl Store {
    /// Connects, checks the server answers within the configured time, refuses a schema newer
    /// than this build, runs forward migrations and creates every index.
    pub async fn connect(config: StoreConfig) -> Result<Self> {
        let store = Self::connect_unmigrated(config).await?;
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// Connects and checks reachability without touching the schema.
    pub async fn connect_unmigrated(config: StoreConfig) -> Result<Self> {
        config.validate()?;
        let mut options = ClientOptions::parse(&config.uri)
            .await
            .map_err(|e| StoreError::Config(format!("{}: {e}", redact_uri(&config.uri))))?;
        options.app_name = Some(config.app_name.clone());
        options.server_selection_timeout = Some(config.server_selection_timeout);
        options.connect_timeout = Some(config.connect_timeout);
        options.retry_writes = Some(true);
        options.retry_reads = Some(true);
        // Acknowledged by a majority: a write we report as done survives a primary failover.
        options.write_concern = Some(WriteConcern::majority());
        options.read_concern = Some(ReadConcern::majority());
        let client = Client::with_options(options)?;
        let db = client.database(&config.database);
        let timeout = config.server_selection_timeout;
        // Bounded even if the driver's own selection loop were to misbehave.
        let ping = tokio::time::timeout(
            timeout + Duration::from_secs(1),
            db.run_command(doc! { "ping": 1 }),
        );
        match ping.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(StoreError::Unreachable {
                    uri: redact_uri(&config.uri),
                    timeout_ms: timeout.as_millis() as u64,
                    message: e.to_string(),
                });
            }
            Err(_) => {
                return Err(StoreError::Unreachable {
                    uri: redact_uri(&config.uri),
                    timeout_ms: timeout.as_millis() as u64,
                    message: "no answer".into(),
                });
            }
        }
        info!(uri = %redact_uri(&config.uri), database = %config.database, "store connected");
        Ok(Self { client, db, config })
    }

    /// The database handle.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The driver client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Reads that tolerate replication lag (listings pages, stats) may go to secondaries.
    pub fn lag_tolerant_reads() -> SelectionCriteria {
        SelectionCriteria::ReadPreference(ReadPreference::SecondaryPreferred {
            options: Default::default(),
        })
    }

    /// Runs `body` in a multi-document transaction with majority write concern, retrying the
    /// whole transaction on transient errors (write conflicts, failovers) and the commit on an
    /// unknown commit result. `body` may run more than once: it must only write through the
    /// session it is given.
    pub async fn transaction<T, F>(&self, mut body: F) -> Result<T>
    where
        F: for<'s> FnMut(&'s mut ClientSession) -> BoxFuture<'s, Result<T>>,
    {
        let mut session = self.client.start_session().await?;
        let started = std::time::Instant::now();
        let retry = |attempt: u32| attempt < 3 || started.elapsed() < TRANSACTION_RETRY_BUDGET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            session
                .start_transaction()
                .write_concern(WriteConcern::majority())
                .read_concern(ReadConcern::snapshot())
                .await?;
            let outcome = body(&mut session).await;
            let value = match outcome {
                Ok(value) => value,
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    if e.is_transient() && retry(attempt) {
                        warn!(attempt, error = %e, "transaction body failed transiently, retrying");
                        backoff(attempt).await;
                        continue;
                    }
                    return Err(e);
                }
            };
            let mut commit_attempt = 0;
            loop {
                commit_attempt += 1;
                match session.commit_transaction().await {
                    Ok(()) => return Ok(value),
                    Err(e)
                        if e.contains_label(mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT)
                            && commit_attempt < COMMIT_ATTEMPTS =>
                    {
                        debug!(commit_attempt, "commit result unknown, retrying commit");
                        continue;
                    }
                    Err(e) if is_transient(&e) && retry(attempt) => {
                        warn!(attempt, error = %e, "commit failed transiently, retrying transaction");
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            backoff(attempt).await;
        }
    }

    /// Sets how long the server lets an idle transaction live (`transactionLifetimeLimitSeconds`).
    /// Used on the local server, where a crashed writer should free its documents quickly;
    /// production MongoDB keeps its operator's setting.
    pub async fn set_transaction_lifetime(&self, seconds: u32) -> Result<()> {
        self.client
            .database("admin")
            .run_command(
                doc! { "setParameter": 1, "transactionLifetimeLimitSeconds": seconds as i32 },
            )
            .await?;
        Ok(())
    }

    /// Logs the indexer could not decode.
    pub fn dead_letters(&self) -> DeadLetterRepository {
        DeadLetterRepository::new(&self.db)
    }
    /// Per-contract state derived from events.
    pub fn contract_state(&self) -> ContractStateRepository {
        ContractStateRepository::new(&self.db)
    }
    /// The projection undo log.
    pub fn undo(&self) -> UndoRepository {
        UndoRepository::new(&self.db)
    }

    /// Raw chain events.
    pub fn events(&self) -> ChainEventRepository {
        ChainEventRepository::new(&self.db)
    }
    /// Indexer checkpoints.
    pub fn checkpoints(&self) -> CheckpointRepository {
        CheckpointRepository::new(&self.db)
    }
    /// Recent block headers for reorg detection.
    pub fn blocks(&self) -> BlockRepository {
        BlockRepository::new(&self.db)
    }
    /// NFTs and their transfers.
    pub fn nfts(&self) -> NftRepository {
        NftRepository::new(&self.db)
    }
    /// The activity stream.
    pub fn activity(&self) -> ActivityRepository {
        ActivityRepository::new(&self.db)
    }
    /// Token metadata: the resolution queue, resolved documents, media.
    pub fn metadata(&self) -> MetadataRepository {
        MetadataRepository::new(&self.db)
    }
    /// Fixed-price listings.
    pub fn listings(&self) -> ListingRepository {
        ListingRepository::new(&self.db)
    }
    /// Auctions and bids.
    pub fn auctions(&self) -> AuctionRepository {
        AuctionRepository::new(&self.db)
    }
    /// Offers.
    pub fn offers(&self) -> OfferRepository {
        OfferRepository::new(&self.db)
    }
    /// Collection stats, hourly sale buckets and holdings.
    pub fn collection_stats(&self) -> CollectionStatsRepository {
        CollectionStatsRepository::new(&self.db)
    }
    /// Key versions and the signing audit.
    pub fn key_ring(&self) -> KeyRingRepository {
        KeyRingRepository::new(&self.db)
    }
    /// Completed sales.
    pub fn sales(&self) -> SaleRepository {
        SaleRepository::new(&self.db)
    }
    /// Governance proposals.
    pub fn proposals(&self) -> ProposalRepository {
        ProposalRepository::new(&self.db)
    }
    /// Governance votes.
    pub fn votes(&self) -> VoteRepository {
        VoteRepository::new(&self.db)
    }
    /// Delegations and voting power.
    pub fn delegates(&self) -> DelegateRepository {
        DelegateRepository::new(&self.db)
    }
    /// Relayer jobs.
    pub fn relay_jobs(&self) -> RelayJobRepository {
        RelayJobRepository::new(&self.db)
    }
    /// Relayer account leases and nonce counters.
    pub fn relay_signers(&self) -> RelaySignerRepository {
        RelaySignerRepository::new(&self.db)
    }
    /// Wallet users.
    pub fn users(&self) -> UserRepository {
        UserRepository::new(&self.db)
    }
    /// Sign-in nonces and sessions.
    pub fn sessions(&self) -> SessionRepository {
        SessionRepository::new(&self.db)
    }
    /// The social layer (messages, posts, links, timelines, notifications, moderation).
    pub fn social(&self) -> SocialRepository {
        SocialRepository::new(&self.db)
    }
}

async fn backoff(attempt: u32) {
    // 20 ms doubling up to 500 ms.
    let millis = (10u64 << attempt.min(6)).min(500);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
