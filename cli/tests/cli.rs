//! The `nest` binary end to end: `nest dev` starts and stops cleanly (no orphan anvil, also when
//! `nest` itself is killed), and `nest deploy` deploys, is idempotent and refuses clearly.

mod common;

use common::{deployed_by_the_binary, listening, nest};
use nest_testkit::{ChildProcess, TestStore, free_port};
use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// Starts `nest dev` and returns it with the anvil and store ports once it printed "Press Ctrl-C".
fn start_dev(state_dir: &std::path::Path) -> (ChildProcess, u16, u16) {
    let mut command = nest(state_dir);
    command.args(["dev", "--api-port", "0"]);
    let child = ChildProcess::spawn("nest dev", command).expect("nest dev starts");
    child
        .wait_for_line("\"Press Ctrl-C\"", Duration::from_secs(60), |l| {
            l.contains("Press Ctrl-C")
        })
        .expect("nest dev came up");
    let output = child.output();
    let field = |name: &str| {
        output
            .iter()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("nest dev printed no {name}: {output:?}"))
    };
    let port = field("RPC URL")
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("RPC port");
    let store_port = field("store")
        .trim_start_matches("mongodb://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("store port");
    (child, port, store_port)
}

fn wait_until_closed(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !listening(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn dev_stops_everything_on_ctrl_c() {
    let state = tempfile::tempdir().expect("tmp");
    let (child, port, store_port) = start_dev(state.path());
    assert!(listening(port), "anvil serves RPC while nest dev runs");
    assert!(
        listening(store_port),
        "the local store serves while nest dev runs"
    );
    assert!(
        state.path().join("store").is_dir(),
        "store data under the state folder"
    );
    assert!(
        state.path().join("deployments/31337.json").is_file(),
        "dev manifest written"
    );
    child
        .stop_cleanly(libc::SIGINT, Duration::from_secs(60))
        .expect("clean exit on Ctrl-C");
    assert!(wait_until_closed(port), "anvil stopped with nest dev");
    assert!(
        wait_until_closed(store_port),
        "the store stopped with nest dev"
    );
}

#[test]
fn killing_nest_dev_orphans_neither_anvil_nor_the_store() {
    let state = tempfile::tempdir().expect("tmp");
    let (child, port, store_port) = start_dev(state.path());
    child.kill();
    assert!(
        wait_until_closed(port),
        "the kernel took anvil down with nest"
    );
    assert!(wait_until_closed(store_port), "and the store server");
}

#[test]
fn a_second_dev_on_the_same_state_folder_names_the_running_one() {
    use std::io::Write;
    let state = tempfile::tempdir().expect("tmp");
    // Holds the state folder as a running `nest dev` does.
    let mut held = std::fs::File::create(state.path().join("dev.lock")).expect("lock file");
    held.lock().expect("lock");
    writeln!(held, "pid=4242\nurl=http://127.0.0.1:18080").expect("write");
    let started = Instant::now();
    let output = nest(state.path())
        .args(["dev", "--api-port", "0"])
        .output()
        .expect("nest dev runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("another nest dev is running")
            && stderr.contains("pid 4242")
            && stderr.contains("http://127.0.0.1:18080"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it stops at once"
    );
    assert!(!state.path().join("store").exists(), "nothing started");
}

#[test]
fn deploy_is_idempotent_and_refuses_a_wrong_chain() {
    let state = tempfile::tempdir().expect("tmp");
    let anvil = nest_chain::AnvilNode::spawn(
        &nest_testkit::layout().anvil_binary(),
        &nest_chain::AnvilOptions::default(),
    )
    .expect("anvil");
    let url = anvil.endpoint().to_string();
    let manifest = state.path().join("manifest.json");

    let first = nest(state.path())
        .args(["deploy", "--dev", "--json", "--rpc-url", &url, "--manifest"])
        .arg(&manifest)
        .output()
        .expect("runs");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON on stdout");
    assert_eq!(printed["chainId"], 31337);
    assert_eq!(
        printed["contracts"].as_object().expect("contracts").len(),
        6
    );

    let second = nest(state.path())
        .args(["deploy", "--dev", "--rpc-url", &url, "--manifest"])
        .arg(&manifest)
        .output()
        .expect("runs");
    assert!(second.status.success());
    let text = String::from_utf8_lossy(&second.stdout);
    assert_eq!(text.matches("(unchanged").count(), 6, "{text}");

    let wrong = nest(state.path())
        .args([
            "deploy",
            "--dev",
            "--chain-id",
            "1",
            "--rpc-url",
            &url,
            "--manifest",
        ])
        .arg(&manifest)
        .output()
        .expect("runs");
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("wrong chain"), "{err}");
}

#[test]
fn deploy_without_a_key_or_a_node_says_what_is_missing() {
    let state = tempfile::tempdir().expect("tmp");
    let no_key = nest(state.path())
        .env_remove("NEST_DEPLOYER_KEY")
        .args(["deploy", "--rpc-url", "http://127.0.0.1:9"])
        .output()
        .expect("runs");
    assert!(!no_key.status.success());
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("no deployer key"));

    let unreachable = nest(state.path())
        .args(["deploy", "--dev", "--rpc-url", "http://127.0.0.1:9"])
        .output()
        .expect("runs");
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("cannot reach the node"));
}

#[test]
fn indexer_runs_reports_status_and_reindexes_from_raw_events() {
    let (state, _anvil, url, manifest) = deployed_by_the_binary();
    let store_uri = TestStore::uri();
    let indexer = |args: &[&str]| {
        let mut cmd = nest(state.path());
        cmd.env("NEST_MONGODB_URI", &store_uri)
            .env(
                "NEST_MONGODB_DATABASE",
                format!("cli_indexer_{}", std::process::id()),
            )
            .arg("indexer")
            .args(args)
            .args(["--rpc-url", &url, "--manifest"])
            .arg(&manifest);
        cmd
    };

    let running = ChildProcess::spawn("nest indexer run", indexer(&["run"])).expect("indexer runs");
    wait_until_indexed(|| indexer(&["status"]));
    running
        .stop_cleanly(libc::SIGINT, Duration::from_secs(30))
        .expect("clean stop on Ctrl-C");

    let text = indexed_to_head(indexer(&["status"]));
    let events: u64 = text
        .lines()
        .filter_map(|l| l.trim().strip_suffix("events"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    assert!(events > 10, "{text}");

    let reindex = indexer(&["reindex"]).output().expect("reindex");
    assert!(
        reindex.status.success(),
        "{}",
        String::from_utf8_lossy(&reindex.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&reindex.stdout).trim(),
        format!("replayed {events} events")
    );

    let missing = nest(state.path())
        .env_remove("NEST_MONGODB_URI")
        .args(["indexer", "status", "--rpc-url", &url])
        .output()
        .expect("runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NEST_MONGODB_URI"));
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept-Language: ja\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn api_serves_the_relay_intake_when_given_relayer_accounts() {
    let (state, anvil, url, manifest) = deployed_by_the_binary();
    let store_uri = TestStore::uri();
    let relayer_account = anvil.addresses()[9].to_string();
    let api = |relay: bool| {
        let port = free_port();
        let metrics_port = free_port();
        let mut cmd = nest(state.path());
        cmd.env("NEST_MONGODB_URI", &store_uri)
            .env(
                "NEST_MONGODB_DATABASE",
                format!("cli_api_{}", std::process::id()),
            )
            .args(["api", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
            .args(["--rpc-url", &url, "--manifest"])
            .arg(&manifest);
        if relay {
            cmd.args(["--relay-accounts", &relayer_account]);
        }
        let child = ChildProcess::spawn("nest api", cmd).expect("api starts");
        child
            .wait_for_port(port, Duration::from_secs(60))
            .expect("api listening");
        (child, port, metrics_port)
    };

    let (with_relay, port, metrics_port) = api(true);
    // Metrics on the admin listener only (counting the public listener's requests).
    let (status, _) = http(port, "GET", "/healthz", "");
    assert_eq!(status, 200);
    let (status, body) = http(metrics_port, "GET", "/metrics", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("nest_api_requests_total"), "{body}");
    let (status, body) = http(port, "GET", "/metrics", "");
    assert_eq!(status, 404, "not on the public listener: {body}");
    // The document describes the mounted intake.
    let (_, doc) = http(port, "GET", "/openapi.json", "");
    assert!(doc.contains("\"/v1/relay/{id}\""), "relay paths documented");
    // Mounted: a malformed request is refused by the intake, with its code, translated.
    let (status, body) = http(port, "POST", "/v1/relay", "{");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("relay.malformed"), "{body}");
    let (status, body) = http(port, "GET", "/v1/relay/0x00", "");
    assert!((400..500).contains(&status), "{status} {body}");
    drop(with_relay);

    let (without, port, _) = api(false);
    let (status, _) = http(port, "POST", "/v1/relay", "{");
    assert_eq!(status, 404, "no relay accounts, no intake");
    drop(without);
}

#[test]
fn every_long_running_command_stops_cleanly_on_sigterm() {
    let (state, anvil, url, manifest) = deployed_by_the_binary();
    let store_uri = TestStore::uri();
    let database = format!("cli_sigterm_{}", std::process::id());
    let command = |args: &[&str]| {
        let mut cmd = nest(state.path());
        cmd.env("NEST_MONGODB_URI", &store_uri)
            .env("NEST_MONGODB_DATABASE", &database)
            .env("NEST_SIGNER", "local")
            .env("NEST_SIGNER_KEY", anvil.keys()[9].to_bytes().to_string())
            .args(args)
            .args(["--rpc-url", &url, "--manifest"])
            .arg(&manifest);
        cmd
    };
    let spawn = |args: &[&str]| ChildProcess::spawn(format!("nest {}", args[0]), command(args));
    let api_port = free_port();
    let relay_port = free_port();
    let api_listen = format!("127.0.0.1:{api_port}");
    let relay_listen = format!("127.0.0.1:{relay_port}");
    let running = vec![
        (
            "indexer",
            spawn(&["indexer", "run"]).expect("indexer"),
            None,
        ),
        (
            "api",
            spawn(&[
                "api",
                "--listen",
                &api_listen,
                "--metrics-listen",
                "127.0.0.1:0",
            ])
            .expect("api"),
            Some(api_port),
        ),
        (
            "relayer",
            spawn(&["relayer", "--listen", &relay_listen]).expect("relayer"),
            Some(relay_port),
        ),
    ];
    for (name, child, port) in &running {
        if let Some(port) = port {
            child
                .wait_for_port(*port, Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("{name} never listened: {e}"));
        }
    }
    // Let the indexer catch up and the relayer take its account's lease.
    wait_until_indexed(|| command(&["indexer", "status"]));
    std::thread::sleep(Duration::from_secs(1));
    for (name, child, _) in &running {
        child
            .stop_cleanly(libc::SIGTERM, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{name} did not stop cleanly on SIGTERM: {e}"));
    }
    // Nothing half-written: the indexer's checkpoint is whole and at the head.
    indexed_to_head(command(&["indexer", "status"]));
}

/// Polls `nest indexer status` (made by `status_command`) until the running indexer is at the
/// head, for at most a minute (a loaded machine may need more than a few seconds).
fn wait_until_indexed(status_command: impl Fn() -> Command) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = status_command().output().expect("status");
        if status.status.success()
            && String::from_utf8_lossy(&status.stdout).contains("lag 0 blocks")
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the indexer did not reach the head within a minute: {}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Runs `nest indexer status` and checks it succeeds with the indexer at the head; its output.
fn indexed_to_head(mut status_command: Command) -> String {
    let status = status_command.output().expect("status");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(text.contains("lag 0 blocks"), "{text}");
    text
}

#[test]
fn dev_with_monitoring_runs_prometheus_and_alertmanager_and_delivers_to_the_mailbox() {
    let state = tempfile::tempdir().expect("tmp");
    let mut child = nest(state.path())
        .args(["dev", "--api-port", "0", "--monitoring"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("nest dev starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut urls = (None, None, None);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let line = line.trim().to_string();
            if let Some(url) = line.strip_prefix("prometheus") {
                urls.0 = Some(url.trim().trim_end_matches('/').to_string());
            }
            if let Some(url) = line.strip_prefix("alertmanager") {
                urls.1 = Some(url.trim().trim_end_matches('/').to_string());
            }
            if let Some(url) = line.strip_prefix("metrics") {
                urls.2 = url
                    .trim()
                    .trim_start_matches("http://127.0.0.1:")
                    .trim_end_matches("/metrics")
                    .parse::<u16>()
                    .ok();
            }
            if line.contains("Press Ctrl-C") {
                let _ = tx.send(urls.clone());
            }
        }
    });
    let (prometheus, alertmanager, metrics) = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("nest dev came up");
    // The business gauges describe the demo data (a listing, an auction, an offer, a proposal
    // in voting) read from the store.
    let (_, scraped) = http(
        metrics.expect("metrics port printed"),
        "GET",
        "/metrics",
        "",
    );
    for line in [
        "nest_market_listings_active 1",
        "nest_market_auctions_active 1",
        "nest_market_offers_open 1",
        "nest_dao_proposals{state=\"active\"} 1",
        "nest_dependency_up{dependency=\"store\"} 1",
        "nest_dependency_up{dependency=\"chain\"} 1",
        "nest_indexer_checkpoint_lag_blocks 0",
        "nest_market_listings_created_total 1",
        "nest_market_auctions_created_total 1",
        "nest_market_bids_total 1",
        "nest_market_offers_total 1",
        "nest_dao_proposals_created_total 1",
    ] {
        assert!(
            scraped.lines().any(|l| l == line),
            "no {line:?} in:\n{scraped}"
        );
    }
    let (prometheus, alertmanager) = (
        prometheus.expect("prometheus URL printed"),
        alertmanager.expect("alertmanager URL printed"),
    );
    let port = |url: &str| -> u16 {
        url.rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    };
    let (prom_port, am_port) = (port(&prometheus), port(&alertmanager));
    // Prometheus scrapes the stack and has the shipped rules.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http(prom_port, "GET", "/api/v1/query?query=up", "");
        if body.contains(r#""service":"api""#) && body.contains(r#""1"]"#) {
            break;
        }
        assert!(Instant::now() < deadline, "the api never scraped: {body}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, rules) = http(prom_port, "GET", "/api/v1/rules", "");
    assert!(
        rules.contains("IndexerLagging") && rules.contains("RelayerBalanceLow"),
        "{rules}"
    );
    // An alert reaches the log and the mailbox file.
    let alert = r#"[{"labels":{"alertname":"DevCheck","service":"api","severity":"warning"},"annotations":{"summary":"a dev check","runbook":"none"}}]"#;
    let (status, body) = http(am_port, "POST", "/api/v2/alerts", alert);
    assert_eq!(status, 200, "{body}");
    let mailbox = state.path().join("alerts.mbox");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&mailbox).unwrap_or_default();
        if text.contains("Subject: [FIRING:1] nest api: DevCheck") {
            assert!(text.starts_with("From alertmanager@nest.local "), "{text}");
            assert!(text.contains("FIRING DevCheck: a dev check"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no alert in the mailbox: {text}");
        std::thread::sleep(Duration::from_millis(250));
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    assert!(child.wait().expect("exits").success());
    assert!(
        wait_until_closed(prom_port),
        "prometheus stopped with nest dev"
    );
    assert!(
        wait_until_closed(am_port),
        "alertmanager stopped with nest dev"
    );
}

#[test]
fn monitor_once_scores_series_read_from_prometheus() {
    use nest_monitor::{
        DetectorConfig, analyse,
        local::{PrometheusServer, backfill},
        synthetic,
    };
    let data = synthetic::generate(synthetic::SEED, 1, 1);
    let (anomalous, clean) = (&data[0], &data[1]);
    // The end of the first alarm the detector raises on the anomalous series.
    let alarm = analyse(&anomalous.points, &DetectorConfig::default())
        .alarms
        .first()
        .copied()
        .expect("an alarm");
    let dir = tempfile::tempdir().expect("tmp");
    backfill(
        dir.path(),
        &dir.path().join("prometheus/data"),
        "nest_synthetic",
        &[
            (&anomalous.name, &anomalous.points),
            (&clean.name, &clean.points),
        ],
    )
    .expect("backfill");
    let prometheus = PrometheusServer::start(&dir.path().join("prometheus"), "global: {}\n")
        .expect("prometheus");
    let series = dir.path().join("series.json");
    let spec = |name: &str| serde_json::json!({"name": name, "query": format!("sum(nest_synthetic{{series=\"{name}\"}})")});
    std::fs::write(
        &series,
        serde_json::json!([spec(&anomalous.name), spec(&clean.name)]).to_string(),
    )
    .expect("series file");
    let out = nest(dir.path())
        .args([
            "monitor",
            "--once",
            "--prometheus-url",
            prometheus.url().as_str(),
        ])
        .arg("--series")
        .arg(&series)
        .args(["--at", &alarm.start.to_string()])
        .output()
        .expect("nest monitor");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let report = |name: &str| {
        reports
            .as_array()
            .expect("array")
            .iter()
            .find(|r| r["series"] == name)
            .cloned()
            .expect("report")
    };
    assert_eq!(
        report(&anomalous.name)["alarm"]["direction"],
        alarm.direction.as_str(),
        "{reports}"
    );
    assert!(report(&clean.name)["alarm"].is_null(), "{reports}");
    assert!(report(&clean.name)["score"].as_f64().expect("score").abs() < 5.0);
}

/// The variables `nest <command> --help` must list (each as `[env: NAME...]`).
const SIGNER_VARIABLES: [&str; 14] = [
    "NEST_SIGNER",
    "NEST_SIGNER_KEY",
    "NEST_SIGNER_KEYSTORE",
    "NEST_SIGNER_KEYSTORE_PASSWORD",
    "NEST_PKCS11_MODULE",
    "NEST_PKCS11_TOKEN_LABEL",
    "NEST_PKCS11_PIN",
    "NEST_PKCS11_KEY_LABEL",
    "NEST_PKCS11_KEY_ID",
    "NEST_AWS_KMS_KEY_ID",
    "NEST_AWS_KMS_ENDPOINT",
    "NEST_AWS_KMS_REGION",
    "NEST_GCP_KMS_KEY",
    "NEST_GCP_KMS_ENDPOINT",
];

fn help(command: &[&str]) -> String {
    let state = tempfile::tempdir().expect("tmp");
    let output = nest(state.path())
        .env("NEST_SIGNER_KEY", "0xsecretmarker")
        .env(
            "NEST_MONGODB_URI",
            "mongodb://nest:secretmarker@127.0.0.1:1", // pragma: allowlist secret (a marker the help must not echo)
        )
        .env("NEST_DEPLOYER_KEY", "0xsecretmarker")
        .args(command)
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success(), "{command:?} --help");
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn every_command_lists_the_variables_it_reads_in_its_help() {
    let service = [
        "NEST_RPC_URL",
        "NEST_CHAIN_ID",
        "NEST_MANIFEST",
        "NEST_MONGODB_URI",
        "NEST_MONGODB_DATABASE",
        "NEST_LOG",
    ];
    let api = [
        "NEST_API_LISTEN",
        "NEST_METRICS_LISTEN",
        "NEST_API_ORIGIN",
        "NEST_RELAY_ACCOUNTS",
        "NEST_RELAYER_MAX_FEE_GWEI",
        "NEST_REDIS_URL",
        "NEST_SESSION_KEY",
        "NEST_SOCIAL_MODERATORS",
        "NEST_WEB_DIR",
        "NEST_PUBLIC_RPC_URL",
    ];
    let key_ring = [
        "NEST_KEYS_DIR",
        "NEST_KEYS_PASSWORD",
        "NEST_KEYS_SESSION_OVERLAP",
        "NEST_KEYS_ROTATE_SESSION_TOKEN",
    ];
    let metadata = [
        "NEST_IPFS_GATEWAY",
        "NEST_ARWEAVE_GATEWAY",
        "NEST_METADATA_WORKERS",
        "NEST_METADATA_PER_HOST",
        "NEST_METADATA_TIMEOUT",
    ];
    let relayer = [
        "NEST_RELAYER_LISTEN",
        "NEST_RELAYER_SIGNERS",
        "NEST_RELAYER_INSTANCE",
        "NEST_RELAYER_CONFIRMATIONS",
        "NEST_RELAYER_STUCK_AFTER_SECS",
        "NEST_RELAYER_MAX_FEE_GWEI",
        "NEST_KEEPER_INTERVAL_SECS",
        "NEST_WS_URL",
        "NEST_RELAYER_METRICS_LISTEN",
    ];
    let expected: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["api"],
            [&service[..], &api, &SIGNER_VARIABLES, &key_ring].concat(),
        ),
        (
            vec!["keys"],
            [
                &["NEST_MONGODB_URI", "NEST_MONGODB_DATABASE", "NEST_LOG"][..],
                &key_ring,
            ]
            .concat(),
        ),
        (
            vec!["relayer"],
            [&service[..], &relayer, &SIGNER_VARIABLES].concat(),
        ),
        (
            vec!["indexer"],
            [
                &service[..],
                &[
                    "NEST_WS_URL",
                    "NEST_REDIS_URL",
                    "NEST_INDEXER_METRICS_LISTEN",
                ],
                &metadata,
            ]
            .concat(),
        ),
        (
            vec!["indexer", "run"],
            [
                &service[..],
                &[
                    "NEST_WS_URL",
                    "NEST_REDIS_URL",
                    "NEST_INDEXER_METRICS_LISTEN",
                ],
                &metadata,
            ]
            .concat(),
        ),
        (
            vec!["monitor"],
            vec![
                "NEST_PROMETHEUS_URL",
                "NEST_ALERTMANAGER_URL",
                "NEST_MONITOR_SERIES",
                "NEST_MONITOR_INTERVAL_SECS",
                "NEST_MONITOR_STEP_SECS",
                "NEST_MONITOR_METRICS_LISTEN",
                "NEST_LOG",
            ],
        ),
        (
            vec!["dev"],
            [
                &[
                    "NEST_MONGODB_URI",
                    "NEST_MONGODB_DATABASE",
                    "NEST_REDIS_URL",
                    "NEST_SESSION_KEY",
                    "NEST_LOG",
                ][..],
                &metadata,
                &SIGNER_VARIABLES,
                &key_ring,
            ]
            .concat(),
        ),
        (
            vec!["deploy"],
            vec![
                "NEST_RPC_URL",
                "NEST_CHAIN_ID",
                "NEST_MANIFEST",
                "NEST_DEPLOYER_KEY",
                "NEST_KEYSTORE_PASSWORD",
                "NEST_LOG",
            ],
        ),
    ];
    let mut listed = String::new();
    for (command, variables) in &expected {
        let text = help(command);
        for variable in variables {
            assert!(
                text.contains(&format!("[env: {variable}")),
                "nest {} --help does not list {variable}:\n{text}",
                command.join(" ")
            );
        }
        // Secrets are never echoed from the environment into the help.
        assert!(!text.contains("secretmarker"), "{text}");
        listed.push_str(&text);
    }
    // Every variable the command line binds is listed by some command, and no command reads
    // the environment behind clap's back.
    let sources = std::fs::read_dir(nest_testkit::root().join("cli/src")).expect("cli/src");
    for entry in sources {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("source");
        assert!(
            !text.contains("std::env::var("),
            "{} reads the environment directly",
            path.display()
        );
        for bound in text.split("env = \"").skip(1) {
            let name = bound.split('"').next().unwrap_or_default();
            assert!(
                listed.contains(&format!("[env: {name}")),
                "{name} ({}) is listed by no command's --help",
                path.display()
            );
        }
    }
}

#[test]
fn keys_rotate_retire_and_audit_from_the_command_line() {
    let state = tempfile::tempdir().expect("tmp");
    let keys_dir = state.path().join("keys");
    let database = format!("cli_keys_{}", std::process::id());
    let keys = |args: &[&str]| {
        let mut cmd = nest(state.path());
        cmd.env("NEST_MONGODB_URI", TestStore::uri())
            .env("NEST_MONGODB_DATABASE", &database)
            .env("NEST_KEYS_DIR", &keys_dir)
            .env("NEST_KEYS_PASSWORD", "command line pw")
            .arg("keys")
            .args(args);
        cmd.output().expect("runs")
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    for expected in ["v1 is active", "v2 is active"] {
        let rotated = keys(&["rotate", "session-token"]);
        assert!(rotated.status.success(), "{}", text(&rotated));
        assert!(text(&rotated).contains(expected), "{}", text(&rotated));
    }
    let status = keys(&["status"]);
    let listing = text(&status);
    assert!(listing.contains("session-token: 2 version(s)"), "{listing}");
    assert!(
        listing.contains("verify-only") && listing.contains("active"),
        "{listing}"
    );
    let files: Vec<String> = std::fs::read_dir(&keys_dir)
        .expect("keys dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert!(
        files.iter().any(|f| f.starts_with("session-token-v2-")),
        "{files:?}"
    );

    let active = keys(&["retire", "session-token", "2"]);
    assert!(
        !active.status.success(),
        "the active version cannot be retired"
    );
    assert!(
        text(&active).contains("only a verify-only version"),
        "{}",
        text(&active)
    );
    let retired = keys(&["retire", "session-token", "1"]);
    assert!(retired.status.success(), "{}", text(&retired));
    assert!(text(&retired).contains("retired"), "{}", text(&retired));

    let unknown = keys(&["rotate", "payments"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("unknown key purpose"),
        "{}",
        text(&unknown)
    );

    let audit = keys(&["audit", "--verify", "--report", "2026-12-03"]);
    assert!(audit.status.success(), "{}", text(&audit));
    assert!(
        text(&audit).contains("audit chain intact: 0 entries"),
        "{}",
        text(&audit)
    );
    assert!(
        text(&audit).contains("# Key use on 2026-12-03"),
        "{}",
        text(&audit)
    );
    let bad_day = keys(&["audit", "--report", "yesterday"]);
    assert!(!bad_day.status.success());
}
