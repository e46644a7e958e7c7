//! Every metric a rule or a dashboard names is one the services export: its name stands as a
//! string literal in the code of a service crate (where `metrics::counter!`/`gauge!`/
//! `histogram!` or a name constant uses it). `_bucket` series need buckets configured (the
//! exporter renders other histograms as summaries: `{quantile=...}`, `_sum`, `_count`).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `nest_*` names in a PromQL-bearing text.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = text[i..].find("nest_") {
        let start = i + found;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(text.len(), |e| start + e);
        if boundary {
            names.insert(text[start..end].to_string());
        }
        i = end;
    }
    names
}

/// The Rust sources of the service crates, concatenated.
fn service_sources() -> String {
    let mut text = String::new();
    let mut stack: Vec<PathBuf> = [
        "api/src",
        "indexer/src",
        "relayer/src",
        "rpc/src",
        "monitor/src",
    ]
    .iter()
    .map(|d| workspace().join(d))
    .collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("dir") {
                stack.push(entry.expect("entry").path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(&path).expect("source"));
        }
    }
    text
}

#[test]
fn every_metric_named_by_a_rule_or_dashboard_is_exported() {
    let monitor = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    let rules =
        std::fs::read_to_string(monitor.join("prometheus/rules/nest.rules.yml")).expect("rules");
    for name in names_in(&rules) {
        named.insert((name, "rules".into()));
    }
    let mut dashboards = 0;
    for entry in std::fs::read_dir(monitor.join("grafana")).expect("grafana") {
        let path = entry.expect("entry").path();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard"))
                .expect("json");
        dashboards += 1;
        let panels = json["panels"].as_array().expect("panels");
        assert!(!panels.is_empty(), "{}", path.display());
        for panel in panels {
            for target in panel["targets"].as_array().expect("targets") {
                let expr = target["expr"].as_str().expect("expr");
                for name in names_in(expr) {
                    named.insert((
                        name,
                        path.file_name().expect("name").to_string_lossy().into(),
                    ));
                }
            }
        }
    }
    assert_eq!(dashboards, 4, "overview, marketplace, relayer, indexer");
    let sources = service_sources();
    let buckets =
        std::fs::read_to_string(workspace().join("api/src/metrics.rs")).expect("metrics.rs");
    let mut missing = Vec::new();
    for (name, file) in &named {
        if let Some(base) = name.strip_suffix("_bucket") {
            if !buckets.contains(&format!("Matcher::Full(\"{base}\"")) {
                missing.push(format!("{name} ({file}): no buckets configured for {base}"));
            }
            continue;
        }
        let base = ["_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| sources.contains(&format!("\"{b}\"")))
            .unwrap_or(name);
        if !sources.contains(&format!("\"{base}\"")) {
            missing.push(format!("{name} ({file})"));
        }
    }
    assert!(missing.is_empty(), "named but not exported: {missing:#?}");
    assert!(named.len() >= 40, "{} names checked", named.len());
}
