//! `nest dev --monitoring`: Prometheus (the shipped rules, scraping the dev stack's metrics) and
//! Alertmanager beside the stack, alerts delivered to the log and to a local mailbox file
//! (`<state>/alerts.mbox`, mbox format, readable with `mail -f` or any mail client).

use axum::{Json, Router, extract::State, routing::post};
use eyre::WrapErr;
use nest_monitor::local::{AlertmanagerServer, PrometheusServer};
use serde::Deserialize;
use std::{
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};
use tracing::warn;

/// Prometheus and Alertmanager of a dev stack; stopped when dropped.
#[derive(Debug)]
pub(crate) struct DevMonitoring {
    /// Prometheus.
    pub(crate) prometheus: PrometheusServer,
    /// Alertmanager.
    pub(crate) alertmanager: AlertmanagerServer,
    /// The mailbox file alerts are appended to.
    pub(crate) mailbox: PathBuf,
}

/// An Alertmanager webhook notification (the fields used here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    status: String,
    #[serde(default)]
    common_labels: std::collections::BTreeMap<String, String>,
    alerts: Vec<NotifiedAlert>,
}

#[derive(Debug, Deserialize)]
struct NotifiedAlert {
    status: String,
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// Logs a notification and appends it to the mailbox as one message.
async fn deliver(State(mailbox): State<Arc<PathBuf>>, Json(n): Json<Notification>) -> &'static str {
    let name = |a: &NotifiedAlert| a.labels.get("alertname").cloned().unwrap_or_default();
    let names: Vec<String> = n.alerts.iter().map(name).collect();
    let service = n.common_labels.get("service").cloned().unwrap_or_default();
    let subject = format!(
        "[{}:{}] nest {service}: {}",
        n.status.to_uppercase(),
        n.alerts.len(),
        names.join(", ")
    );
    warn!(status = %n.status, service = %service, alerts = ?names, "alert");
    let mut body = String::new();
    for a in &n.alerts {
        let get = |k: &str| a.annotations.get(k).cloned().unwrap_or_default();
        body.push_str(&format!(
            "{} {}: {}\n  runbook: {}\n",
            a.status.to_uppercase(),
            name(a),
            get("summary"),
            get("runbook")
        ));
    }
    let message = format!(
        "From alertmanager@nest.local {}\nFrom: alertmanager@nest.local\nTo: dev@nest.local\nSubject: {subject}\n\n{body}\n",
        nest_monitor::clients::rfc3339(unix_now())
    );
    let path = mailbox.as_path().to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(message.as_bytes()))
    })
    .await;
    if !matches!(written, Ok(Ok(()))) {
        warn!(mailbox = %mailbox.display(), "cannot append to the alert mailbox");
    }
    "ok"
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Starts the alert sink, Alertmanager and Prometheus (scraping `metrics` every 5 s, evaluating
/// the rule file `rules`) with their state under `state_dir/monitoring` (fresh each run, as the
/// chain is).
pub(crate) async fn start(
    state_dir: &Path,
    rules: &Path,
    metrics: SocketAddr,
) -> eyre::Result<DevMonitoring> {
    let dir = state_dir.join("monitoring");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let mailbox = state_dir.join("alerts.mbox");
    let sink = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let sink_addr = sink.local_addr()?;
    let router = Router::new()
        .route("/alerts", post(deliver))
        .with_state(Arc::new(mailbox.clone()));
    tokio::spawn(async move { axum::serve(sink, router).await });

    let am_config = format!(
        "route:\n  receiver: dev-log\n  group_by: [service, severity]\n  group_wait: 5s\n  group_interval: 30s\n  repeat_interval: 4h\ninhibit_rules:\n  - source_matchers: [alertname=\"StoreUnreachable\"]\n    target_matchers: [needs_store=\"true\"]\nreceivers:\n  - name: dev-log\n    webhook_configs:\n      - url: http://{sink_addr}/alerts\n        send_resolved: true\n"
    );
    let alertmanager = tokio::task::block_in_place(|| {
        AlertmanagerServer::start(&dir.join("alertmanager"), &am_config, &[])
    })?;
    let prom_config = format!(
        "global: {{scrape_interval: 5s, evaluation_interval: 5s}}\nrule_files: ['{}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{}']\nscrape_configs:\n  - job_name: nest\n    static_configs:\n      - targets: ['{metrics}']\n        labels: {{service: api}}\n",
        rules.display(),
        alertmanager.url().authority(),
    );
    let prometheus = tokio::task::block_in_place(|| {
        PrometheusServer::start(&dir.join("prometheus"), &prom_config)
    })?;
    Ok(DevMonitoring {
        prometheus,
        alertmanager,
        mailbox,
    })
}
