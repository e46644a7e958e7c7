//! Detector cost: `analyse` over the whole labelled data set (12 hourly series, 60 or 44 days:
//! what one `nest monitor` pass re-reads for 12 series is 29 days each, so this is more than a
//! pass), with its ratio to a baseline measured in the same run: a plain z-score against the
//! mean and standard deviation of the previous 72 points, the cheapest detector that could be
//! written. Target: a pass over 12 series well under a second.
//!
//! `cargo bench -p nest-monitor --bench detector`

use nest_monitor::{DetectorConfig, Point, analyse, synthetic};
use std::time::Instant;

fn rolling_z(points: &[Point]) -> usize {
    let mut alarms = 0;
    for i in 72..points.len() {
        let window = &points[i - 72..i];
        let mean = window.iter().map(|p| p.value).sum::<f64>() / 72.0;
        let var = window.iter().map(|p| (p.value - mean).powi(2)).sum::<f64>() / 71.0;
        if ((points[i].value - mean) / var.sqrt().max(1e-9)).abs() > 4.0 {
            alarms += 1;
        }
    }
    alarms
}

fn main() {
    let data = synthetic::generate(
        synthetic::SEED,
        synthetic::ANOMALOUS_SERIES,
        synthetic::CLEAN_SERIES,
    );
    let points: usize = data.iter().map(|s| s.points.len()).sum();
    let config = DetectorConfig::default();
    let rounds = 5;
    let started = Instant::now();
    let mut alarms = 0;
    for _ in 0..rounds {
        for s in &data {
            alarms += analyse(&s.points, &config).alarms.len();
        }
    }
    let detector = started.elapsed().as_secs_f64() / rounds as f64;
    let started = Instant::now();
    let mut baseline_alarms = 0;
    for _ in 0..rounds {
        for s in &data {
            baseline_alarms += rolling_z(&s.points);
        }
    }
    let baseline = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "detector: {points} points in {:.1} ms ({:.0} points/s, {} alarms); baseline rolling z-score: {:.2} ms ({} alarm points); ratio {:.1}x",
        detector * 1e3,
        points as f64 / detector,
        alarms / rounds,
        baseline * 1e3,
        baseline_alarms / rounds,
        detector / baseline
    );
}
