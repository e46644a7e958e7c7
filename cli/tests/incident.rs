//! A real incident, end to end: `nest api`, `nest indexer` and `nest relayer` on anvil (blocks
//! keep coming), scraped by a real Prometheus evaluating the shipped rules, routed by a real
//! Alertmanager with the shipped configuration (only addresses and timings changed for the
//! test) to a local SMTP server, Slack/Telegram/Discord webhook sinks and LocalStack's SNS.
//! The indexer is stopped and the relayer account drained; every channel must get exactly one
//! grouped message per incident within 60 s, then a resolved one after recovery.

mod common;

use axum::{Router, body::Bytes, extract::State, routing::post};
use common::{deployed_by_the_binary, listening, nest};
use nest_monitor::local::{
    AlertmanagerServer, PrometheusServer, alertmanager_file, free_port, rules_file, templates_dir,
};
use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Messages received, by channel, with when they came.
type Inbox = Arc<Mutex<Vec<(&'static str, Instant, String)>>>;

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal SMTP server: takes every message and records its DATA.
fn smtp_sink(inbox: Inbox) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("smtp port");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().expect("clone");
                let mut lines = BufReader::new(stream);
                let _ = write!(out, "220 sink ESMTP\r\n");
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    let reply = if command.starts_with("EHLO") {
                        "250-sink\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("DATA") {
                        let _ = write!(out, "354 go on\r\n");
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        inbox
                            .lock()
                            .expect("inbox")
                            .push(("email", Instant::now(), data));
                        "250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        let _ = write!(out, "221 bye\r\n");
                        return;
                    } else {
                        "250 ok\r\n"
                    };
                    let _ = write!(out, "{reply}");
                }
            });
        }
    });
    port
}

/// Slack, Telegram and Discord webhook sinks on one HTTP server.
async fn webhook_sinks(inbox: Inbox) -> u16 {
    async fn record(inbox: &Inbox, channel: &'static str, body: Bytes) {
        let text = String::from_utf8_lossy(&body).to_string();
        inbox
            .lock()
            .expect("inbox")
            .push((channel, Instant::now(), text));
    }
    let router = Router::new()
        .route(
            "/slack",
            post(|State(inbox): State<Inbox>, body: Bytes| async move {
                record(&inbox, "slack", body).await;
                "ok"
            }),
        )
        .route(
            "/telegram/{*method}",
            post(|State(inbox): State<Inbox>, body: Bytes| async move {
                record(&inbox, "telegram", body).await;
                (
                    [("content-type", "application/json")],
                    r#"{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":-1000000000001,"type":"group"}}}"#,
                )
            }),
        )
        .route(
            "/discord",
            post(|State(inbox): State<Inbox>, body: Bytes| async move {
                record(&inbox, "discord", body).await;
                axum::http::StatusCode::NO_CONTENT
            }),
        )
        .with_state(inbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("sink port");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

/// LocalStack with SNS only (the venv scripts/setup builds for the nest-keys tests).
fn localstack_sns(dir: &Path) -> (Running, u16) {
    let python = std::env::var_os("NEST_LOCALSTACK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME"))
                .join(".cache/nest/tools/localstack-2026.3.0/bin/python")
        });
    let port = free_port().expect("port");
    let log = std::fs::File::create(dir.join("localstack.log")).expect("log");
    let child = Command::new(python)
        .args(["-m", "localstack.runtime.main"])
        .current_dir(dir)
        .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("SERVICES", "sns")
        .env("OVERRIDE_IN_DOCKER", "0")
        .env("FILESYSTEM_ROOT", dir)
        .env("DNS_ADDRESS", "0")
        .env("SKIP_SSL_CERT_DOWNLOAD", "1")
        .env("LOCALSTACK_TELEMETRY", "0")
        .env("DISABLE_EVENTS", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("localstack (scripts/setup installs it)");
    (Running(child), port)
}

/// The SMS LocalStack's SNS would have sent.
async fn sms_messages(http: &reqwest::Client, port: u16) -> Vec<String> {
    let Ok(response) = http
        .get(format!("http://127.0.0.1:{port}/_aws/sns/sms-messages"))
        .send()
        .await
    else {
        return Vec::new();
    };
    let json: serde_json::Value = response.json().await.unwrap_or_default();
    json["sms_messages"]
        .as_object()
        .map(|phones| {
            phones
                .values()
                .flat_map(|list| list.as_array().cloned().unwrap_or_default())
                .filter_map(|m| m["Message"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces each `from` (which must occur) by `to`.
fn substitute(text: &str, pairs: &[(&str, String)]) -> String {
    let mut text = text.to_string();
    for (from, to) in pairs {
        assert!(text.contains(from), "the shipped config has no {from:?}");
        text = text.replace(from, to);
    }
    text
}

/// Sets `key: value` on every line whose trimmed start is `key:`.
fn set_all(text: &str, key: &str, value: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with(&format!("{key}:")) {
                let indent = &line[..line.len() - trimmed.len()];
                format!("{indent}{key}: {value}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn rpc(http: &reqwest::Client, url: &str, method: &str, params: serde_json::Value) {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: serde_json::Value = http
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("anvil")
        .json()
        .await
        .expect("json");
    assert!(answer.get("error").is_none(), "{method}: {answer}");
}

/// Which incident a message is about, and whether it says resolved.
fn classify(body: &str) -> Option<(&'static str, bool)> {
    let group = if body.contains("nest indexer (critical)") {
        "indexer"
    } else if body.contains("nest relayer (critical)") {
        "relayer"
    } else {
        return None;
    };
    Some((group, body.contains("[RESOLVED]")))
}

const CHANNELS: [&str; 5] = ["email", "sms", "slack", "telegram", "discord"];

/// Every message so far, SMS included, classified: (channel, when, group, resolved, body).
async fn messages(
    inbox: &Inbox,
    http: &reqwest::Client,
    sns: u16,
    sms_seen: &Mutex<Vec<(Instant, String)>>,
) -> Vec<(&'static str, Instant, &'static str, bool, String)> {
    let sms = sms_messages(http, sns).await;
    let mut seen = sms_seen.lock().expect("sms");
    for text in sms.into_iter().skip(seen.len()) {
        seen.push((Instant::now(), text));
    }
    let mut all: Vec<(&'static str, Instant, String)> = inbox.lock().expect("inbox").clone();
    all.extend(seen.iter().map(|(t, m)| ("sms", *t, m.clone())));
    all.into_iter()
        .filter_map(|(channel, at, body)| {
            classify(&body).map(|(group, resolved)| (channel, at, group, resolved, body))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_indexer_and_draining_the_relayer_reach_every_channel_once_then_resolve() {
    let started = Instant::now();
    let work = tempfile::tempdir().expect("tmp");
    let (ls_dir, prom_dir, am_dir) = (
        work.path().join("localstack"),
        work.path().join("prometheus"),
        work.path().join("alertmanager"),
    );
    std::fs::create_dir_all(&ls_dir).expect("dir");
    let (_localstack, sns_port) = localstack_sns(&ls_dir);
    let (state, anvil, url, manifest) = deployed_by_the_binary();
    let store_uri = nest_testkit::TestStore::uri();
    let database = format!("cli_incident_{}", std::process::id());
    let relayer_key = anvil.keys()[9].clone();
    let relayer_address = format!("{:#x}", relayer_key.address());

    let inbox: Inbox = Arc::default();
    let smtp_port = smtp_sink(inbox.clone());
    let hooks_port = webhook_sinks(inbox.clone()).await;

    // Alertmanager: the shipped routing, pointed at the sinks, with short timings.
    let am_config = substitute(
        &std::fs::read_to_string(alertmanager_file()).expect("alertmanager.yml"),
        &[
            ("smtp.example.com:587", format!("127.0.0.1:{smtp_port}")),
            ("smtp_require_tls: true", "smtp_require_tls: false".into()),
            (
                "https://hooks.slack.com/services/CHANGE-ME",
                format!("http://127.0.0.1:{hooks_port}/slack"),
            ),
            (
                "https://api.telegram.org",
                format!("http://127.0.0.1:{hooks_port}/telegram"),
            ),
            (
                "https://discord.com/api/webhooks/000000000000000000/CHANGEME",
                format!("http://127.0.0.1:{hooks_port}/discord"),
            ),
            (
                "https://sns.eu-west-1.amazonaws.com",
                format!("http://127.0.0.1:{sns_port}"),
            ),
            ("region: eu-west-1", "region: us-east-1".into()),
            (
                "templates/*.tmpl",
                format!("{}/*.tmpl", templates_dir().display()),
            ),
        ],
    );
    // Long enough a wait to gather an incident's alerts into one message.
    let am_config = set_all(&am_config, "group_wait", "15s");
    let am_config = set_all(&am_config, "group_interval", "5s");
    let alertmanager = AlertmanagerServer::start(
        &am_dir,
        &am_config,
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    )
    .expect("alertmanager");

    // The services, each with its metrics listener.
    let ports: Vec<u16> = (0..4).map(|_| free_port().expect("port")).collect();
    let (api_port, api_metrics, indexer_metrics, relayer_metrics) =
        (ports[0], ports[1], ports[2], ports[3]);
    let service = |args: &[String]| {
        let mut cmd = nest(state.path());
        cmd.env("NEST_MONGODB_URI", &store_uri)
            .env("NEST_MONGODB_DATABASE", &database)
            .env("NEST_SIGNER", "local")
            .env("NEST_SIGNER_KEY", relayer_key.to_bytes().to_string())
            .args(args)
            .args(["--rpc-url", &url, "--manifest"])
            .arg(&manifest)
            .stdout(Stdio::null());
        Running(cmd.spawn().expect("nest"))
    };
    let listen = |port: u16| format!("127.0.0.1:{port}");
    let indexer_args: Vec<String> = vec![
        "indexer".into(),
        "run".into(),
        "--metrics-listen".into(),
        listen(indexer_metrics),
    ];
    let _api = service(&[
        "api".into(),
        "--listen".into(),
        listen(api_port),
        "--metrics-listen".into(),
        listen(api_metrics),
    ]);
    let mut indexer = service(&indexer_args);
    let _relayer = service(&[
        "relayer".into(),
        "--metrics-listen".into(),
        listen(relayer_metrics),
    ]);
    for port in [api_metrics, indexer_metrics, relayer_metrics] {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !listening(port) {
            assert!(Instant::now() < deadline, "a service never listened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Prometheus: the shipped rules with short `for`s, scraping every second.
    let rules = set_all(
        &std::fs::read_to_string(rules_file()).expect("rules"),
        "for",
        "3s",
    );
    std::fs::create_dir_all(&prom_dir).expect("dir");
    std::fs::write(prom_dir.join("rules.yml"), rules).expect("rules");
    let target = |port: u16, service: &str| {
        format!("      - targets: ['127.0.0.1:{port}']\n        labels: {{service: {service}}}\n")
    };
    let prom_config = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{}']\nscrape_configs:\n  - job_name: nest\n    static_configs:\n{}{}{}",
        alertmanager.url().authority(),
        target(api_metrics, "api"),
        target(indexer_metrics, "indexer"),
        target(relayer_metrics, "relayer"),
    );
    let prometheus = PrometheusServer::start(&prom_dir, &prom_config).expect("prometheus");

    // Blocks keep coming.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let miner = {
        let (http, url) = (http.clone(), url.clone());
        tokio::spawn(async move {
            loop {
                rpc(&http, &url, "evm_mine", serde_json::json!([])).await;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    // Healthy first: every target up and the relayer's job cost known, no alert firing.
    let query = |q: &str| {
        let (http, base, q) = (http.clone(), prometheus.url(), q.to_string());
        async move {
            let mut url = base.join("api/v1/query").expect("url");
            url.query_pairs_mut().append_pair("query", &q);
            let v: serde_json::Value = http
                .get(url)
                .send()
                .await
                .expect("prometheus")
                .json()
                .await
                .expect("json");
            v["data"]["result"].as_array().cloned().unwrap_or_default()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = query("sum(up)").await;
        let cost = query("nest_relayer_job_cost_wei").await;
        let lag = query("nest_indexer_checkpoint_lag_blocks < 3").await;
        if up.first().and_then(|r| r["value"][1].as_str()) == Some("3")
            && !cost.is_empty()
            && !lag.is_empty()
        {
            break;
        }
        assert!(Instant::now() < deadline, "stack never became healthy");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let healthy_at = started.elapsed();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let firing = query("ALERTS{alertstate=\"firing\"}").await;
    assert!(firing.is_empty(), "alerts while healthy: {firing:?}");

    // The incident: the indexer stops while blocks keep coming; the relayer account is drained.
    let incident = Instant::now();
    drop(indexer);
    rpc(
        &http,
        &url,
        "anvil_setBalance",
        serde_json::json!([relayer_address, "0x0"]),
    )
    .await;
    let sms_seen = Mutex::new(Vec::new());
    let deadline = incident + Duration::from_secs(60);
    loop {
        let got = messages(&inbox, &http, sns_port, &sms_seen).await;
        let complete = CHANNELS.iter().all(|c| {
            ["indexer", "relayer"]
                .iter()
                .all(|g| got.iter().any(|m| m.0 == *c && m.2 == *g && !m.3))
        });
        if complete {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every channel heard of both incidents within 60 s: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let notified_in = incident.elapsed();
    // Longer than a group interval: a second message would have come by now.
    tokio::time::sleep(Duration::from_secs(8)).await;

    // Recovery: the indexer restarts and catches up; the account is topped up.
    let recovery = Instant::now();
    indexer = service(&indexer_args);
    rpc(
        &http,
        &url,
        "anvil_setBalance",
        serde_json::json!([relayer_address, "0x8ac7230489e80000"]),
    )
    .await;
    let deadline = recovery + Duration::from_secs(60);
    let got = loop {
        let got = messages(&inbox, &http, sns_port, &sms_seen).await;
        let resolved = CHANNELS.iter().all(|c| {
            ["indexer", "relayer"].iter().all(|g| {
                got.iter()
                    .filter(|m| m.0 == *c && m.2 == *g)
                    .max_by_key(|m| m.1)
                    .is_some_and(|m| m.3)
            })
        });
        if resolved {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "not every channel heard the resolution within 60 s: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let resolved_in = recovery.elapsed();
    miner.abort();
    drop(indexer);

    // Exactly one message per channel and incident before recovery, naming its alerts.
    for channel in CHANNELS {
        for (group, alerts) in [
            ("indexer", &["IndexerLagging", "ServiceDown"][..]),
            ("relayer", &["RelayerBalanceLow"][..]),
        ] {
            let before: Vec<_> = got
                .iter()
                .filter(|m| m.0 == channel && m.2 == group && m.1 < recovery)
                .collect();
            assert_eq!(before.len(), 1, "{channel} {group}: {before:#?}");
            assert!(!before[0].3, "{channel} {group}: firing first");
            for alert in alerts {
                assert!(
                    before[0].4.contains(alert),
                    "{channel} {group} names {alert}: {}",
                    before[0].4
                );
            }
        }
    }
    // The SMS are short; the email carries the runbook.
    let email = got.iter().find(|m| m.0 == "email" && !m.3).expect("email");
    assert!(email.4.contains("runbook"), "{}", email.4);
    eprintln!(
        "incident test: healthy after {healthy_at:?}, every channel notified {notified_in:?} after the incident, resolved {resolved_in:?} after recovery, {:?} in all",
        started.elapsed()
    );
}
