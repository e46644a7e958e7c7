//! `Monitor::pass` against a real Prometheus holding synthetic history (backfilled with
//! promtool) and a real Alertmanager: an anomaly is read, scored, alerted, and resolved.

use nest_monitor::{
    AlertmanagerClient, DetectorConfig, Monitor, MonitorConfig, PrometheusClient, SeriesSpec,
    analyse,
    local::{AlertmanagerServer, PrometheusServer, backfill},
    synthetic::{self, AnomalyKind},
};

const AM_CONFIG: &str = "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dip_in_prometheus_history_is_alerted_then_resolved() {
    let data = synthetic::generate(synthetic::SEED, synthetic::ANOMALOUS_SERIES, 1);
    let config = DetectorConfig::default();
    // The first dip of the data set that the detector finds, and a clean series beside it.
    let (series, dip, alarm_start) = data
        .iter()
        .flat_map(|s| s.anomalies.iter().map(move |a| (s, a)))
        .filter(|(_, a)| a.kind == AnomalyKind::Dip)
        .find_map(|(s, a)| {
            let alarm = analyse(&s.points, &config)
                .alarms
                .into_iter()
                .find(|al| al.start >= a.start && al.start <= a.end)?;
            Some((s, a, alarm.start))
        })
        .expect("a detected dip");
    let clean = data.last().expect("clean series");
    let dir = tempfile::tempdir().expect("tmp");
    backfill(
        dir.path(),
        &dir.path().join("prometheus/data"),
        "nest_synthetic",
        &[(&series.name, &series.points), (&clean.name, &clean.points)],
    )
    .expect("backfill");
    let prometheus = PrometheusServer::start(
        &dir.path().join("prometheus"),
        "global:\n  scrape_interval: 1m\n",
    )
    .expect("prometheus");
    let alertmanager =
        AlertmanagerServer::start(&dir.path().join("alertmanager"), AM_CONFIG, &[]).expect("am");

    let spec = |name: &str| SeriesSpec {
        name: name.to_string(),
        query: format!("sum(nest_synthetic{{series=\"{name}\"}})"),
        meaning: "synthetic".into(),
        severity: "warning".into(),
    };
    let mut monitor = Monitor::new(
        MonitorConfig {
            series: vec![spec(&series.name), spec(&clean.name)],
            detector: config,
            interval_secs: 60,
        },
        PrometheusClient::new(prometheus.url()).expect("client"),
        Some(AlertmanagerClient::new(alertmanager.url()).expect("client")),
    )
    .expect("monitor");
    let am = AlertmanagerClient::new(alertmanager.url()).expect("client");

    // During the dip: the dipping series alarms downwards, the clean one does not.
    let reports = monitor.pass(alarm_start).await.expect("pass");
    let report = |name: &str| {
        reports
            .iter()
            .find(|r| r.series == name)
            .unwrap_or_else(|| panic!("report of {name}"))
            .clone()
    };
    let dipping = report(&series.name);
    assert!(dipping.points > 24 * 14, "{} points read", dipping.points);
    let alarm = dipping.alarm.expect("alarm during the dip");
    assert_eq!(alarm.direction, nest_monitor::Direction::Down);
    assert!(dipping.score.expect("scored") < -3.0, "{dipping:?}");
    let clean_report = report(&clean.name);
    assert!(clean_report.alarm.is_none(), "{clean_report:?}");
    assert!(clean_report.score.expect("scored").abs() < 5.0);
    // What Prometheus gave back is the data set (the values at each step).
    let value = series
        .points
        .iter()
        .find(|p| p.ts == alarm_start)
        .expect("point")
        .value;
    assert_eq!(dipping.value, Some(value));

    let alerts = am.alerts().await.expect("alerts");
    let ours: Vec<_> = alerts
        .iter()
        .filter(|a| a.get("alertname").map(String::as_str) == Some("BusinessAnomaly"))
        .collect();
    assert_eq!(ours.len(), 1, "{alerts:?}");
    assert_eq!(ours[0].get("series"), Some(&series.name));
    assert_eq!(ours[0].get("direction").map(String::as_str), Some("down"));
    assert_eq!(ours[0].get("service").map(String::as_str), Some("monitor"));
    assert_eq!(ours[0].get("state").map(String::as_str), Some("active"));

    // A day after the dip the series is back in its band: the alert is resolved.
    let later = dip.end + 86_400;
    let reports = monitor.pass(later).await.expect("pass");
    assert!(reports.iter().all(|r| r.alarm.is_none()), "{reports:?}");
    let alerts = am.alerts().await.expect("alerts");
    assert!(
        alerts
            .iter()
            .all(|a| a.get("alertname").map(String::as_str) != Some("BusinessAnomaly")),
        "resolved: {alerts:?}"
    );
}
