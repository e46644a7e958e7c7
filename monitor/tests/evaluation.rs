//! The detector against the labelled synthetic data set: prints precision, recall and detection
//! delays, and holds them to the bar.

use nest_monitor::{DetectorConfig, evaluation::evaluate, synthetic};

fn data_set() -> Vec<synthetic::LabelledSeries> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/synthetic.csv");
    let text =
        std::fs::read_to_string(path).expect("data/synthetic.csv (run the synthetic example)");
    synthetic::from_csv(&text, path).expect("valid data set")
}

#[test]
fn the_committed_data_set_is_the_generators() {
    let generated = synthetic::generate(
        synthetic::SEED,
        synthetic::ANOMALOUS_SERIES,
        synthetic::CLEAN_SERIES,
    );
    let committed = data_set();
    assert_eq!(
        committed, generated,
        "regenerate with `cargo run -p nest-monitor --example synthetic`"
    );
    let kinds: std::collections::BTreeSet<_> = generated
        .iter()
        .flat_map(|s| s.anomalies.iter().map(|a| a.kind))
        .collect();
    assert_eq!(kinds.len(), 4, "spikes, dips, level shifts and drifts");
}

#[test]
fn precision_and_recall_reach_0_9_with_at_most_one_false_alarm_in_30_clean_days() {
    let config = DetectorConfig::default();
    let e = evaluate(&data_set(), &config);
    println!("{}", e.report());
    assert!(
        e.anomalies >= 30,
        "enough labelled anomalies: {}",
        e.anomalies
    );
    assert!(e.precision() >= 0.9, "precision {:.3}", e.precision());
    assert!(e.recall() >= 0.9, "recall {:.3}", e.recall());
    assert!(e.clean_days >= 30.0 * synthetic::CLEAN_SERIES as f64 - 1.0);
    assert!(
        e.clean_alarms <= 1,
        "{} false alarms on clean series",
        e.clean_alarms
    );
}
