//! The resolver workers: lease a due job from the store's queue, resolve it, store the outcome.
//! A worker killed mid-job leaves a lease that expires, and the job is taken again; a job queued
//! again while it was being resolved (a newer ERC-4906 event, a refresh) stays queued. Hosts are
//! served at most `per_host` requests at a time; a job whose host is busy goes back to the
//! queue for a moment without counting as an attempt.

use super::{
    document::{ImageKind, parse_document, sniff_image},
    fetch::{FetchLimits, Fetcher, Gateways, truncate},
    guard::AddressPolicy,
    svg::sanitize_svg,
};
use crate::{
    ChangeNotice,
    error::{FetchFailure, Result},
};
use nest_store::{
    Media, MetadataError, MetadataJob, MetadataState, NftMetadata, ParsedMetadata, Store,
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use tracing::{Instrument, debug, info_span, warn};

/// The notice kind sent when a token's metadata changed (its key is the NFT id).
pub const NFT_METADATA_NOTICE: &str = "nft_metadata";

/// Resolver settings.
#[derive(Debug, Clone)]
pub struct MetadataConfig {
    /// Gateways for `ipfs://` and `ar://`.
    pub gateways: Gateways,
    /// Size, redirect, time and nesting bounds.
    pub limits: FetchLimits,
    /// Addresses requests may reach beyond public ones (tests only).
    pub policy: AddressPolicy,
    /// Jobs resolved at once.
    pub workers: usize,
    /// Requests in flight per host.
    pub per_host: usize,
    /// How long a claimed job stays leased (longer than a whole resolution).
    pub lease: Duration,
    /// Attempts before a retryable failure is final.
    pub max_attempts: i32,
    /// First retry delay (doubled per attempt, capped by `backoff_max`).
    pub backoff: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Pause when no job is due.
    pub idle: Duration,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        Self {
            gateways: Gateways::default(),
            limits: FetchLimits::default(),
            policy: AddressPolicy::default(),
            workers: 8,
            per_host: 2,
            lease: Duration::from_secs(60),
            max_attempts: 5,
            backoff: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
            idle: Duration::from_millis(250),
        }
    }
}

/// Resolves queued metadata jobs.
#[derive(Debug, Clone)]
pub struct MetadataResolver {
    store: Store,
    fetcher: Fetcher,
    config: MetadataConfig,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    notices: Option<broadcast::Sender<ChangeNotice>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl MetadataResolver {
    /// A resolver over `store`'s queue.
    pub fn new(store: Store, config: MetadataConfig) -> Result<Self> {
        let fetcher = Fetcher::new(
            config.policy.clone(),
            config.gateways.clone(),
            config.limits,
        )?;
        Ok(Self {
            store,
            fetcher,
            config,
            hosts: Arc::default(),
            notices: None,
        })
    }

    /// Sends a [`NFT_METADATA_NOTICE`] on `notices` for every stored outcome (the indexer's
    /// notice channel: the api's cache and live stream hear it).
    pub fn with_notices(mut self, notices: broadcast::Sender<ChangeNotice>) -> Self {
        self.notices = Some(notices);
        self
    }

    /// Resolves jobs, `workers` at a time, until `shutdown` resolves. Store errors are logged
    /// and retried.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let work = async {
            loop {
                if let Err(e) = self.work(false).await {
                    warn!(error = %e, "metadata worker: store error, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        tokio::select! {
            _ = shutdown => {}
            _ = work => {}
        }
    }

    /// Works until no job is due (those waiting for a retry later are left); returns the jobs
    /// handled. For tests and one-shot tools.
    pub async fn drain(&self) -> Result<usize> {
        self.work(true).await
    }

    /// Keeps up to `workers` jobs in flight, claiming more as slots free up. With `until_idle`,
    /// returns once nothing is due and nothing is in flight; otherwise pauses when idle and
    /// goes on.
    async fn work(&self, until_idle: bool) -> Result<usize> {
        let metadata = self.store.metadata();
        let slots = self.config.workers.max(1);
        let lease = self.config.lease.as_millis() as i64;
        let mut in_flight = tokio::task::JoinSet::new();
        let mut handled = 0;
        loop {
            let free = slots - in_flight.len();
            let claimed = if free > 0 {
                metadata.claim(now_ms(), lease, free as i64).await?
            } else {
                Vec::new()
            };
            for job in claimed {
                let this = self.clone();
                let span = info_span!("resolve_metadata", token = %job.id, attempt = job.attempts);
                in_flight.spawn(async move { this.handle(job).await }.instrument(span));
            }
            if in_flight.is_empty() {
                if let Ok(depth) = metadata.queue_depth().await {
                    metrics::gauge!("nest_metadata_queue_depth").set(depth as f64);
                }
                if until_idle {
                    return Ok(handled);
                }
                tokio::time::sleep(self.config.idle).await;
                continue;
            }
            // Wait for one job to finish (or a moment, to claim jobs that became due).
            tokio::select! {
                done = in_flight.join_next() => {
                    if let Some(done) = done {
                        handled += 1;
                        match done {
                            Ok(outcome) => outcome?,
                            Err(e) => warn!(error = %e, "metadata job task failed"),
                        }
                    }
                }
                _ = tokio::time::sleep(self.config.idle) => {}
            }
        }
    }

    async fn handle(&self, job: MetadataJob) -> Result<()> {
        let metadata = self.store.metadata();
        // Per-host concurrency: a busy host's job waits a moment, not counted as an attempt.
        let host = self
            .fetcher
            .locate(&job.uri)
            .ok()
            .flatten()
            .and_then(|u| u.host_str().map(str::to_string));
        let _permit = match host.as_deref().map(|h| self.host_permit(h)) {
            Some(None) => {
                metadata.release(&job, now_ms() + 100).await?;
                return Ok(());
            }
            Some(Some(permit)) => Some(permit),
            None => None,
        };
        let started = Instant::now();
        let outcome = self.resolve(&job).await;
        metrics::histogram!("nest_metadata_resolve_seconds")
            .record(started.elapsed().as_secs_f64());
        let record = match outcome {
            Ok(record) => record,
            Err(failure) => {
                metrics::counter!("nest_metadata_failures_total", "reason" => failure.reason())
                    .increment(1);
                if failure.is_retryable() && job.attempts < self.config.max_attempts {
                    let delay = self.backoff(job.attempts);
                    debug!(
                        reason = failure.reason(),
                        ?delay,
                        "metadata: retrying later"
                    );
                    metadata
                        .retry_at(&job, now_ms() + delay.as_millis() as i64)
                        .await?;
                    return Ok(());
                }
                failed_record(&job, Some(error_of(&failure)))
            }
        };
        if record.state == MetadataState::Resolved {
            metrics::counter!("nest_metadata_resolved_total").increment(1);
        }
        metadata.complete(&job, record).await?;
        if let Some(notices) = &self.notices {
            let _ = notices.send(ChangeNotice {
                kind: NFT_METADATA_NOTICE,
                key: job.id.clone(),
            });
        }
        Ok(())
    }

    fn host_permit(&self, host: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut hosts = self.hosts.lock().ok()?;
            hosts
                .entry(host.to_ascii_lowercase())
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host.max(1))))
                .clone()
        };
        semaphore.try_acquire_owned().ok()
    }

    /// Exponential backoff with jitter (up to a quarter more), capped.
    fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 20) as u32 - 1;
        let base = self
            .config
            .backoff
            .saturating_mul(1u32 << exp.min(16))
            .min(self.config.backoff_max);
        let jitter = (now_ms() as u64 % 256) as u32;
        base + base / 4 * jitter / 256
    }

    /// Fetches and parses the document, then its image. An image that fails leaves the
    /// document resolved, with the image's error recorded.
    async fn resolve(&self, job: &MetadataJob) -> std::result::Result<NftMetadata, FetchFailure> {
        let limits = self.fetcher.limits();
        let fetched = self
            .fetcher
            .fetch(&job.uri, limits.max_document_bytes)
            .await?;
        let document = parse_document(&fetched.bytes, limits.max_json_depth)?;
        let raw = String::from_utf8_lossy(&fetched.bytes).into_owned();
        let mut error = None;
        let mut image_media = None;
        let image = match (&document.image_data, &document.parsed.image) {
            (Some(svg), _) => Some(self.store_svg(svg.as_bytes()).await),
            (None, Some(uri)) => Some(self.fetch_image(uri).await),
            (None, None) => None,
        };
        match image {
            Some(Ok(id)) => image_media = Some(id),
            Some(Err(failure)) => {
                metrics::counter!("nest_metadata_failures_total", "reason" => failure.reason())
                    .increment(1);
                let mut image_error = error_of(&failure);
                image_error.reason = format!("image_{}", image_error.reason);
                error = Some(image_error);
            }
            None => {}
        }
        Ok(resolved_record(
            job,
            raw,
            document.parsed,
            image_media,
            error,
        ))
    }

    async fn fetch_image(&self, uri: &str) -> std::result::Result<String, FetchFailure> {
        let fetched = self
            .fetcher
            .fetch(uri, self.fetcher.limits().max_image_bytes)
            .await?;
        match sniff_image(&fetched.bytes) {
            Some(ImageKind::Svg) => self.store_svg(&fetched.bytes).await,
            Some(kind) => self.store_media(kind, fetched.bytes).await,
            None => Err(FetchFailure::BadImage("unknown image format".into())),
        }
    }

    async fn store_svg(&self, bytes: &[u8]) -> std::result::Result<String, FetchFailure> {
        if bytes.len() > self.fetcher.limits().max_image_bytes {
            return Err(FetchFailure::TooLarge(
                self.fetcher.limits().max_image_bytes,
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| FetchFailure::BadImage("SVG is not UTF-8".into()))?;
        let clean = sanitize_svg(text)?;
        self.store_media(ImageKind::Svg, clean.into_bytes()).await
    }

    async fn store_media(
        &self,
        kind: ImageKind,
        bytes: Vec<u8>,
    ) -> std::result::Result<String, FetchFailure> {
        let id = hex::encode(Sha256::digest(&bytes));
        let media = Media {
            id: id.clone(),
            content_type: kind.content_type().to_string(),
            bytes,
        };
        // A store failure here is retried like a network failure.
        self.store
            .metadata()
            .put_media(&media)
            .await
            .map_err(|e| FetchFailure::Connect(format!("store: {e}")))?;
        Ok(id)
    }
}

fn resolved_record(
    job: &MetadataJob,
    raw: String,
    parsed: ParsedMetadata,
    image_media: Option<String>,
    error: Option<MetadataError>,
) -> NftMetadata {
    let mut record = failed_record(job, error);
    record.state = MetadataState::Resolved;
    record.trait_keys = parsed
        .attributes
        .iter()
        .map(|t| NftMetadata::trait_key(&t.trait_type, &t.value))
        .collect();
    record.name_lower = parsed.name.as_ref().map(|n| n.to_lowercase());
    record.search_terms = nest_store::search_terms(&format!(
        "{} {}",
        parsed.name.as_deref().unwrap_or_default(),
        parsed.description.as_deref().unwrap_or_default()
    ));
    record.raw = Some(raw);
    record.parsed = Some(parsed);
    record.image_media = image_media;
    record
}

/// A failed outcome (the base of a resolved one).
fn failed_record(job: &MetadataJob, error: Option<MetadataError>) -> NftMetadata {
    NftMetadata {
        id: job.id.clone(),
        chain_id: job.chain_id,
        contract: job.contract,
        token_id: job.token_id,
        uri: job.uri.clone(),
        state: MetadataState::Failed,
        raw: None,
        parsed: None,
        trait_keys: Vec::new(),
        name_lower: None,
        search_terms: Vec::new(),
        image_media: None,
        fetched_at: now_ms(),
        error,
        attempts: job.attempts,
    }
}

fn error_of(failure: &FetchFailure) -> MetadataError {
    MetadataError {
        reason: failure.reason().to_string(),
        message: truncate(&failure.to_string(), 300),
    }
}
