//! When to look for new blocks: on each `newHeads` notification of a WebSocket subscription
//! when the node offers one, every poll interval otherwise. A dropped subscription falls back to
//! polling at once and is re-established in the background of the following waits.

use alloy::{
    providers::{Provider, ProviderBuilder, RootProvider, WsConnect},
    pubsub::SubscriptionStream,
    rpc::types::Header,
};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::time::{Instant, timeout};
use tracing::{info, warn};
use url::Url;

/// The least a subscribed follower waits for a notification before looking anyway (a missed
/// notification costs at most this much lag, or the poll interval if that is longer).
const SAFETY_NET: Duration = Duration::from_secs(2);
/// Bound on connecting and subscribing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between attempts to (re)subscribe while polling.
const RESUBSCRIBE_EVERY: Duration = Duration::from_secs(30);

/// How the follower learns of new heads right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadSource {
    /// A WebSocket `newHeads` subscription.
    Subscription,
    /// Polling every poll interval.
    Polling,
}

/// Waits for the next head, by subscription or by polling. Its state is reported as a gauge
/// (1 while subscribed, 0 while polling) named by its owner.
pub struct HeadWatch {
    ws_url: Option<Url>,
    gauge: &'static str,
    poll_interval: Duration,
    live: Option<(RootProvider, SubscriptionStream<Header>)>,
    next_attempt: Instant,
}

impl std::fmt::Debug for HeadWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadWatch")
            .field("ws_url", &self.ws_url.as_ref().map(redact))
            .field("source", &self.source())
            .finish()
    }
}

impl HeadWatch {
    /// A watch subscribing at `ws_url` (if any), polling every `poll_interval` without one;
    /// `gauge` names the metric reporting its source.
    pub fn new(ws_url: Option<Url>, poll_interval: Duration, gauge: &'static str) -> Self {
        Self {
            ws_url,
            gauge,
            poll_interval,
            live: None,
            next_attempt: Instant::now(),
        }
    }

    /// The current source of heads.
    pub fn source(&self) -> HeadSource {
        if self.live.is_some() {
            HeadSource::Subscription
        } else {
            HeadSource::Polling
        }
    }

    /// Subscribes if there is no live subscription and an attempt is due.
    pub async fn subscribe_if_due(&mut self) {
        if self.live.is_none() && Instant::now() >= self.next_attempt {
            self.subscribe().await;
        }
    }

    /// Returns when a new head may be there: on the next notification (or after the safety
    /// net: the longer of 2 s and the poll interval), or after one poll interval when there is
    /// no subscription.
    pub async fn wait(&mut self) {
        let Some((_, stream)) = &mut self.live else {
            tokio::time::sleep(self.poll_interval).await;
            return;
        };
        match timeout(SAFETY_NET.max(self.poll_interval), stream.next()).await {
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => {
                warn!("new-head subscription ended; polling until it is back");
                self.live = None;
                self.next_attempt = Instant::now() + RESUBSCRIBE_EVERY;
                metrics::gauge!(self.gauge).set(0.0);
            }
        }
    }

    async fn subscribe(&mut self) {
        let Some(url) = self.ws_url.clone() else {
            return;
        };
        self.next_attempt = Instant::now() + RESUBSCRIBE_EVERY;
        let attempt = async {
            let provider = ProviderBuilder::new()
                .disable_recommended_fillers()
                .connect_ws(WsConnect::new(url.as_str()))
                .await?;
            let subscription = provider.subscribe_blocks().await?;
            Ok::<_, alloy::transports::TransportError>((provider, subscription.into_stream()))
        };
        match timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(Ok(live)) => {
                info!(url = %redact(&url), "following new heads by WebSocket subscription");
                metrics::gauge!(self.gauge).set(1.0);
                self.live = Some(live);
            }
            Ok(Err(e)) => {
                warn!(url = %redact(&url), error = %e, "no new-head subscription; polling");
            }
            Err(_) => warn!(url = %redact(&url), "new-head subscription timed out; polling"),
        }
    }
}

/// The URL without credentials or query (API keys often ride in either).
fn redact(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// The WebSocket endpoint most nodes serve beside an HTTP one (`http` → `ws`, `https` → `wss`,
/// same host, port and path), as a default for a service's WebSocket setting.
pub fn ws_url_for(rpc: &Url) -> Option<Url> {
    let scheme = match rpc.scheme() {
        "http" => "ws",
        "https" => "wss",
        "ws" | "wss" => return Some(rpc.clone()),
        _ => return None,
    };
    let mut ws = rpc.clone();
    ws.set_scheme(scheme).ok()?;
    Some(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_endpoint_mirrors_the_http_one() {
        let http: Url = "http://127.0.0.1:8545/".parse().expect("url");
        assert_eq!(
            ws_url_for(&http).map(|u| u.to_string()),
            Some("ws://127.0.0.1:8545/".into())
        );
        let https: Url = "https://user:key@rpc.example/v1/abc".parse().expect("url");
        assert_eq!(
            ws_url_for(&https).map(|u| u.to_string()),
            Some("wss://user:key@rpc.example/v1/abc".into())
        );
        let ipc: Url = "file:///tmp/geth.ipc".parse().expect("url");
        assert_eq!(ws_url_for(&ipc), None);
        assert_eq!(redact(&https), "https://rpc.example");
    }
}
