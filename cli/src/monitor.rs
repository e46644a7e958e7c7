//! `nest monitor`: anomaly detection on business series read from Prometheus, scores exported
//! for Prometheus to scrape, alerts posted to Alertmanager.

use clap::Args;
use eyre::WrapErr;
use nest_monitor::{
    AlertmanagerClient, DetectorConfig, Monitor, MonitorConfig, PrometheusClient, default_series,
};
use std::{net::SocketAddr, path::PathBuf, time::Duration};
use tracing::warn;
use url::Url;

/// Arguments of `nest monitor`.
#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// Prometheus to read business series from.
    #[arg(long, env = "NEST_PROMETHEUS_URL")]
    prometheus_url: Url,
    /// Alertmanager to post anomaly alerts to (without it, scores are only exported).
    #[arg(long, env = "NEST_ALERTMANAGER_URL")]
    alertmanager_url: Option<Url>,
    /// JSON file with the series to watch: `[{"name", "query", "meaning", "severity"}]`
    /// (default: sales count and volume, bids, relay refusals, votes, sign-ins).
    #[arg(long, env = "NEST_MONITOR_SERIES")]
    series: Option<PathBuf>,
    /// Seconds between passes.
    #[arg(long, env = "NEST_MONITOR_INTERVAL_SECS", default_value_t = 60)]
    interval_secs: u64,
    /// Seconds between the points of a series (divides a day; hourly by default).
    #[arg(long, env = "NEST_MONITOR_STEP_SECS", default_value_t = 3600)]
    step_secs: u64,
    /// Admin listener serving `/metrics` (`nest_anomaly_score{series}` and friends).
    #[arg(
        long,
        env = "NEST_MONITOR_METRICS_LISTEN",
        default_value = "127.0.0.1:9467"
    )]
    metrics_listen: SocketAddr,
    /// One pass, its report as JSON on stdout, then exit.
    #[arg(long)]
    once: bool,
    /// With --once: the end of the window (unix seconds), to replay history.
    #[arg(long, requires = "once")]
    at: Option<i64>,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) async fn run(args: MonitorArgs) -> eyre::Result<()> {
    let series = match &args.series {
        Some(path) => MonitorConfig::series_from_json(
            &std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading {}", path.display()))?,
        )?,
        None => default_series(),
    };
    let config = MonitorConfig {
        series,
        detector: DetectorConfig {
            step_secs: args.step_secs as i64,
            ..DetectorConfig::default()
        },
        interval_secs: args.interval_secs.max(1) as i64,
    };
    let mut monitor = Monitor::new(
        config,
        PrometheusClient::new(args.prometheus_url.clone())?,
        args.alertmanager_url
            .clone()
            .map(AlertmanagerClient::new)
            .transpose()?,
    )?;
    if args.once {
        let reports = monitor.pass(args.at.unwrap_or_else(unix_now)).await?;
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    let shutdown = crate::shutdown::Shutdown::install()?;
    let stop = shutdown.clone();
    let server = crate::metrics::serve(
        args.metrics_listen,
        "monitor",
        async move { stop.wait().await },
    )
    .await?;
    let mut ticker = tokio::time::interval(Duration::from_secs(args.interval_secs.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(e) = monitor.pass(unix_now()).await {
                    warn!(error = %e, transient = e.is_transient(), "monitor pass failed");
                }
            }
            _ = shutdown.wait() => break,
        }
    }
    server.await??;
    Ok(())
}
