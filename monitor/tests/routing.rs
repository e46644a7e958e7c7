//! The shipped Alertmanager configuration in a real Alertmanager: "store down" inhibits the
//! alerts that follow from it, a silence suppresses an alert, and the rest stay active.

use nest_monitor::{
    AlertmanagerClient, PostableAlert,
    clients::rfc3339,
    local::{AlertmanagerServer, alertmanager_file, templates_dir},
};
use std::collections::{BTreeMap, HashMap};

fn alert(name: &str, labels: &[(&str, &str)]) -> PostableAlert {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let mut all = BTreeMap::from([("alertname".to_string(), name.to_string())]);
    all.extend(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    PostableAlert {
        labels: all,
        annotations: BTreeMap::from([("summary".to_string(), format!("{name} in a test"))]),
        starts_at: rfc3339(now - 60),
        ends_at: rfc3339(now + 600),
        generator_url: None,
    }
}

fn state_of<'a>(alerts: &'a [HashMap<String, String>], name: &str) -> &'a str {
    alerts
        .iter()
        .find(|a| a.get("alertname").map(String::as_str) == Some(name))
        .and_then(|a| a.get("state"))
        .map(String::as_str)
        .unwrap_or("absent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_down_inhibits_its_consequences_and_silences_suppress() {
    let config = std::fs::read_to_string(alertmanager_file())
        .expect("config")
        .replace(
            "templates/*.tmpl",
            &format!("{}/*.tmpl", templates_dir().display()),
        );
    let dir = tempfile::tempdir().expect("tmp");
    let am = AlertmanagerServer::start(dir.path(), &config, &[]).expect("alertmanager");
    let client = AlertmanagerClient::new(am.url()).expect("client");
    client
        .post(&[
            alert(
                "StoreUnreachable",
                &[("severity", "critical"), ("service", "store")],
            ),
            alert(
                "IndexerLagging",
                &[
                    ("severity", "critical"),
                    ("service", "indexer"),
                    ("needs_store", "true"),
                ],
            ),
            alert(
                "RelayerBalanceLow",
                &[
                    ("severity", "critical"),
                    ("service", "relayer"),
                    ("signer", "0xaa"),
                ],
            ),
            alert(
                "RedisUnreachable",
                &[("severity", "warning"), ("service", "redis")],
            ),
        ])
        .await
        .expect("post");
    // A silence on the relayer's alert, as `amtool silence add` makes one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let silence = serde_json::json!({
        "matchers": [{"name": "alertname", "value": "RelayerBalanceLow", "isRegex": false, "isEqual": true}],
        "startsAt": rfc3339(now - 1),
        "endsAt": rfc3339(now + 3600),
        "createdBy": "test",
        "comment": "topping up"
    });
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("http")
        .post(am.url().join("api/v2/silences").expect("url"))
        .json(&silence)
        .send()
        .await
        .expect("silence");
    assert!(response.status().is_success(), "{response:?}");
    // Inhibition and silences are evaluated as alerts are listed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let alerts = client.alerts().await.expect("alerts");
        let states = [
            state_of(&alerts, "StoreUnreachable"),
            state_of(&alerts, "IndexerLagging"),
            state_of(&alerts, "RelayerBalanceLow"),
            state_of(&alerts, "RedisUnreachable"),
        ];
        if states == ["active", "suppressed", "suppressed", "active"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "states: {states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
