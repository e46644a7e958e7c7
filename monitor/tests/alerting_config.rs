//! The shipped Prometheus rules and Alertmanager routing, checked by the real tools:
//! `promtool check rules` + `promtool test rules` (monitor/prometheus/tests), `amtool
//! check-config` and `amtool config routes test` (who hears what). scripts/setup installs them
//! (Debian `prometheus`, `prometheus-alertmanager`).

use std::{path::Path, process::Command};

fn monitor_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a tool, failing the test with its output when it fails.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(monitor_dir())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/setup installs it)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{text}"
    );
    text
}

#[test]
fn rules_are_valid_and_their_unit_tests_pass() {
    let checked = run(
        "promtool",
        &["check", "rules", "prometheus/rules/nest.rules.yml"],
    );
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = run(
        "promtool",
        &["test", "rules", "prometheus/tests/nest.rules.test.yml"],
    );
    assert!(tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn every_rule_has_severity_service_summary_and_runbook() {
    let text = std::fs::read_to_string(monitor_dir().join("prometheus/rules/nest.rules.yml"))
        .expect("rules");
    let alerts: Vec<&str> = text.split("- alert: ").skip(1).collect();
    assert!(alerts.len() >= 10, "{} rules", alerts.len());
    for alert in alerts {
        let name = alert.lines().next().unwrap_or_default();
        for field in ["severity: ", "summary: ", "description: ", "runbook: "] {
            assert!(alert.contains(field), "{name} has no {field}");
        }
        // ServiceDown takes `service` from the scraped target's label.
        assert!(
            alert.contains("service: ") || alert.contains("up{service"),
            "{name} names no service"
        );
    }
}

#[test]
fn alertmanager_config_is_valid_and_routes_by_severity_and_service() {
    let checked = run("amtool", &["check-config", "alertmanager/alertmanager.yml"]);
    assert!(checked.contains("SUCCESS"), "{checked}");
    for (labels, receiver) in [
        (&["severity=critical", "service=indexer"][..], "oncall"),
        (&["severity=critical", "service=relayer"][..], "oncall"),
        (&["severity=warning", "service=relayer"][..], "relayer-team"),
        (&["severity=warning", "service=indexer"][..], "team"),
        (&["severity=warning", "service=social"][..], "moderators"),
        (&["severity=info", "service=api"][..], "digest"),
        (&["severity=warning", "service=monitor"][..], "anomalies"),
    ] {
        let mut args = vec![
            "config",
            "routes",
            "test",
            "--config.file=alertmanager/alertmanager.yml",
        ];
        args.extend_from_slice(labels);
        let routed = run("amtool", &args);
        assert_eq!(
            routed.lines().next().map(str::trim),
            Some(receiver),
            "{labels:?}: {routed}"
        );
    }
}
