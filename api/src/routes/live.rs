//! Live updates: a Server-Sent Events stream of the change notices a client subscribed to.

use crate::{error::ApiError, extract::ApiQuery, state::AppState};
use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use std::{collections::HashSet, convert::Infallible, time::Duration};
use tokio_stream_shim::BroadcastStream;

/// What to follow.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Comma-separated `kind:id` pairs (`listings:1,auctions:2,proposals:123`) or bare kinds
    /// (`sales`) to follow a whole collection. Social: `social-posts` (a new or changed post,
    /// id = post id) and `notifications:<address>` (that account's inbox changed).
    #[param(
        pattern = "^((listings|auctions|offers|proposals)(:[0-9]{1,78})?|notifications:0x[0-9a-fA-F]{40}|sales|votes|nfts|delegates|activity|nft_metadata|social-posts)(,((listings|auctions|offers|proposals)(:[0-9]{1,78})?|notifications:0x[0-9a-fA-F]{40}|sales|votes|nfts|delegates|activity|nft_metadata|social-posts)){0,49}$"
    )]
    pub topics: String,
}

const KINDS: [&str; 12] = [
    "notifications",
    "social-posts",
    "listings",
    "auctions",
    "offers",
    "sales",
    "proposals",
    "votes",
    "nfts",
    "delegates",
    "activity",
    "nft_metadata",
];

/// `GET /v1/stream?topics=`
#[utoipa::path(get, path = "/v1/stream", tag = "live", params(StreamParams),
    responses((status = 200, description = "Server-Sent Events: one event per change notice, named by kind, with data `{\"kind\", \"id\"}`", content_type = "text/event-stream", body = String), (status = 400, response = crate::openapi::BadRequest), (status = 429, response = crate::openapi::TooManyRequests), (status = 500, response = crate::openapi::InternalError), (status = 503, response = crate::openapi::Unavailable)))]
pub async fn stream(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (chain, a) = (state.inner.config.chain_id, state.inner.config.addresses);
    let mut kinds = HashSet::new();
    let mut keys = HashSet::new();
    for topic in p
        .topics
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(50)
    {
        let (kind, id) = topic
            .split_once(':')
            .map(|(k, i)| (k, Some(i)))
            .unwrap_or((topic, None));
        if !KINDS.contains(&kind) {
            return Err(
                crate::extract::one_of("topics", kind, &KINDS.map(|k| (k, ())))
                    .err()
                    .unwrap_or_else(|| ApiError::invalid_parameter("topics", kind)),
            );
        }
        match id {
            None => {
                kinds.insert(kind.to_string());
            }
            Some(id) if kind == "notifications" => {
                let account = crate::extract::parse_address("topics", id)?;
                keys.insert((kind.to_string(), nest_store::codec::address_key(&account)));
            }
            Some(id) => {
                let n = crate::extract::parse_u256("topics", id)?;
                let contract = match kind {
                    "listings" | "auctions" | "offers" => a.marketplace,
                    "proposals" => a.governor,
                    _ => {
                        return Err(ApiError::invalid_parameter(
                            "topics",
                            format!("{kind} is followed as a whole"),
                        ));
                    }
                };
                keys.insert((
                    kind.to_string(),
                    format!("{chain}:{}:{n}", nest_store::codec::address_key(&contract)),
                ));
            }
        }
    }
    let items = state.clone();
    let notices = BroadcastStream::new(state.inner.bus.subscribe()).filter_map(move |n| {
        let wanted = kinds.contains(&n.kind) || keys.contains(&(n.kind.clone(), n.key.clone()));
        let id = n.key.rsplit(':').next().unwrap_or_default().to_string();
        let state = items.clone();
        async move {
            if !wanted {
                return None;
            }
            // An activity item travels whole: the same JSON as in `/v1/activity`.
            if n.kind == "activity" {
                let item = state.inner.store.activity().get(&n.key).await.ok()??;
                let dto = super::activity::dto(&state, &item).await;
                let data = serde_json::to_string(&dto).ok()?;
                return Some(Ok(Event::default().event("activity").data(data)));
            }
            Some(Ok(Event::default().event(n.kind.clone()).data(format!(
                "{{\"kind\":\"{}\",\"id\":\"{}\"}}",
                n.kind, id
            ))))
        }
    });
    Ok(Sse::new(notices).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A `Stream` over a broadcast receiver that skips lag gaps.
mod tokio_stream_shim {
    use crate::bus::Notice;
    use futures_util::Stream;
    use std::{
        pin::Pin,
        task::{Context, Poll},
    };
    use tokio::sync::broadcast;

    type Recv = Pin<
        Box<
            dyn std::future::Future<
                    Output = (
                        Result<Notice, broadcast::error::RecvError>,
                        broadcast::Receiver<Notice>,
                    ),
                > + Send,
        >,
    >;

    /// Notices as a stream.
    pub(super) struct BroadcastStream {
        next: Recv,
    }

    async fn recv(
        mut rx: broadcast::Receiver<Notice>,
    ) -> (
        Result<Notice, broadcast::error::RecvError>,
        broadcast::Receiver<Notice>,
    ) {
        let r = rx.recv().await;
        (r, rx)
    }

    impl BroadcastStream {
        pub(super) fn new(rx: broadcast::Receiver<Notice>) -> Self {
            Self {
                next: Box::pin(recv(rx)),
            }
        }
    }

    impl Stream for BroadcastStream {
        type Item = Notice;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Notice>> {
            loop {
                match self.next.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready((result, rx)) => {
                        self.next = Box::pin(recv(rx));
                        match result {
                            Ok(n) => return Poll::Ready(Some(n)),
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return Poll::Ready(None),
                        }
                    }
                }
            }
        }
    }
}
