//! The admin listener of a service run on its own (`nest indexer|relayer|monitor
//! --metrics-listen`): `GET /metrics` in the Prometheus text format, from the process-wide
//! recorder the api's exporter installs. (`nest api` serves its own, with its state.)

use axum::{Router, http::header, response::IntoResponse, routing::get};
use eyre::WrapErr;
use std::net::SocketAddr;
use tracing::info;

/// Installs the recorder and serves `/metrics` on `addr` until `stop` completes.
pub(crate) async fn serve(
    addr: SocketAddr,
    service: &'static str,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> eyre::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let handle = nest_api::metrics::handle();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .wrap_err_with(|| format!("cannot listen on {addr} (metrics)"))?;
    info!(%service, metrics = %listener.local_addr()?, "metrics listening");
    let router = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    );
    Ok(tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await
    }))
}

/// Serves `/metrics` on `addr` as one of `tasks`: stopped with them, and stopping them if it fails.
pub(crate) async fn spawn(
    tasks: &crate::bootstrap::Tasks,
    addr: SocketAddr,
    service: &'static str,
) -> eyre::Result<()> {
    let server = serve(addr, service, tasks.stopped()).await?;
    tasks.spawn("metrics", async move {
        match server.await {
            Ok(served) => served.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    });
    Ok(())
}
