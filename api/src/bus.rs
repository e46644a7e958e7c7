//! Change notices from the indexer, carried on Redis pub/sub so every api instance hears them
//! (or in-process when there is no Redis). They drive cache invalidation and live updates.

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tokio::sync::broadcast;
use tracing::{info, warn};

/// Redis channel of change notices (hash-tagged: cluster-safe).
pub const CHANNEL: &str = "nest:{bus}:notices";

/// A projection document that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Collection (`listings`, `auctions`, `proposals`, ...).
    pub kind: String,
    /// Document id.
    pub key: String,
}

/// Publishes and delivers notices.
#[derive(Debug, Clone)]
pub struct NoticeBus {
    tx: broadcast::Sender<Notice>,
    redis: Option<ConnectionManager>,
    connected: Arc<AtomicBool>,
}

impl NoticeBus {
    /// A bus inside this process only.
    pub fn local() -> Self {
        let (tx, _) = broadcast::channel(65_536);
        Self {
            tx,
            redis: None,
            connected: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A bus over Redis at `url`: publishes with PUBLISH and delivers what a background
    /// subscriber hears (it reconnects by itself). `connected` is false while it cannot hear.
    pub async fn redis(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let manager = ConnectionManager::new(client.clone()).await?;
        let (tx, _) = broadcast::channel(65_536);
        let connected = Arc::new(AtomicBool::new(false));
        let bus = Self {
            tx: tx.clone(),
            redis: Some(manager),
            connected: connected.clone(),
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(subscribe_loop(client, tx, connected, ready_tx));
        let _ = tokio::time::timeout(Duration::from_secs(2), ready_rx).await;
        Ok(bus)
    }

    /// Receives every notice delivered from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// True while the bus hears notices (always true in-process). Caches must not be trusted
    /// while it is false: an invalidation could be missed.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Publishes a notice to every instance.
    pub async fn publish(&self, notice: Notice) {
        match &self.redis {
            None => {
                let _ = self.tx.send(notice);
            }
            Some(manager) => {
                let mut manager = manager.clone();
                let payload = serde_json::to_string(&notice).unwrap_or_default();
                let sent: Result<Result<i64, _>, _> = tokio::time::timeout(
                    Duration::from_millis(500),
                    redis::cmd("PUBLISH")
                        .arg(CHANNEL)
                        .arg(payload)
                        .query_async(&mut manager),
                )
                .await;
                if !matches!(sent, Ok(Ok(_))) {
                    warn!("could not publish a change notice to Redis");
                }
            }
        }
    }
}

async fn subscribe_loop(
    client: redis::Client,
    tx: broadcast::Sender<Notice>,
    connected: Arc<AtomicBool>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use futures_util::StreamExt;
    let mut ready = Some(ready);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(CHANNEL).await.is_ok() {
                    connected.store(true, Ordering::SeqCst);
                    info!("listening for change notices on Redis");
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(payload) = message.get_payload::<String>()
                            && let Ok(notice) = serde_json::from_str::<Notice>(&payload)
                        {
                            let _ = tx.send(notice);
                        }
                    }
                }
            }
            Err(e) => warn!(error = %e, "Redis pub/sub unavailable"),
        }
        if connected.swap(false, Ordering::SeqCst) {
            warn!("lost the Redis notice channel; caches are bypassed until it is back");
        }
        // Every bus handle is gone: nobody can hear us any more.
        if Arc::strong_count(&connected) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
