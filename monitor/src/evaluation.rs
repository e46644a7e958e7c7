//! Scores the detector against labelled series: precision, recall, detection delay, and false
//! alarms on clean series.

use crate::{
    detector::{DetectorConfig, analyse},
    synthetic::{AnomalyKind, LabelledSeries},
};
use std::collections::BTreeMap;

/// An alarm that starts this long after a labelled window's end still belongs to it.
pub const GRACE_SECS: i64 = 6 * 3600;

/// What an evaluation found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Labelled anomalies.
    pub anomalies: usize,
    /// Labelled anomalies with an alarm starting inside their window (plus the grace).
    pub detected: usize,
    /// Alarms on anomalous series.
    pub alarms: usize,
    /// Alarms inside a labelled window (plus the grace).
    pub true_alarms: usize,
    /// Alarms on the clean series.
    pub clean_alarms: usize,
    /// Days scored on the clean series.
    pub clean_days: f64,
    /// Detection delay of each detected anomaly, seconds, by kind.
    pub delays: BTreeMap<&'static str, Vec<i64>>,
    /// Detected and total per kind.
    pub per_kind: BTreeMap<&'static str, (usize, usize)>,
}

impl Evaluation {
    /// True alarms over all alarms (1 when there are none).
    pub fn precision(&self) -> f64 {
        if self.alarms == 0 {
            1.0
        } else {
            self.true_alarms as f64 / self.alarms as f64
        }
    }

    /// Detected anomalies over all anomalies.
    pub fn recall(&self) -> f64 {
        if self.anomalies == 0 {
            1.0
        } else {
            self.detected as f64 / self.anomalies as f64
        }
    }

    /// Median detection delay of `kind`, hours.
    pub fn median_delay_hours(&self, kind: AnomalyKind) -> Option<f64> {
        let mut d = self.delays.get(kind.as_str())?.clone();
        d.sort_unstable();
        d.get(d.len() / 2).map(|s| *s as f64 / 3600.0)
    }

    /// A table for people.
    pub fn report(&self) -> String {
        let mut out = format!(
            "precision {:.3} ({}/{} alarms)  recall {:.3} ({}/{} anomalies)  false alarms on clean data {} in {:.0} series-days\n",
            self.precision(),
            self.true_alarms,
            self.alarms,
            self.recall(),
            self.detected,
            self.anomalies,
            self.clean_alarms,
            self.clean_days
        );
        for kind in [
            AnomalyKind::Spike,
            AnomalyKind::Dip,
            AnomalyKind::LevelShift,
            AnomalyKind::Drift,
        ] {
            let (found, total) = self.per_kind.get(kind.as_str()).copied().unwrap_or((0, 0));
            let delays = self.delays.get(kind.as_str()).cloned().unwrap_or_default();
            let max = delays.iter().max().map(|s| *s as f64 / 3600.0);
            out.push_str(&format!(
                "  {:12} detected {found}/{total}  delay median {} h, max {} h\n",
                kind.as_str(),
                self.median_delay_hours(kind)
                    .map(|h| format!("{h:.0}"))
                    .unwrap_or_else(|| "-".into()),
                max.map(|h| format!("{h:.0}")).unwrap_or_else(|| "-".into()),
            ));
        }
        out
    }
}

/// Runs the detector over every series and compares its alarms with the labels.
pub fn evaluate(series: &[LabelledSeries], config: &DetectorConfig) -> Evaluation {
    let mut e = Evaluation::default();
    for s in series {
        let analysis = analyse(&s.points, config);
        if s.anomalies.is_empty() {
            e.clean_alarms += analysis.alarms.len();
            e.clean_days += analysis
                .points
                .iter()
                .filter(|p| p.score.is_finite())
                .count() as f64
                * config.step_secs as f64
                / 86_400.0;
            continue;
        }
        e.alarms += analysis.alarms.len();
        for alarm in &analysis.alarms {
            if s.anomalies
                .iter()
                .any(|a| (a.start..=a.end + GRACE_SECS).contains(&alarm.start))
            {
                e.true_alarms += 1;
            }
        }
        for a in &s.anomalies {
            e.anomalies += 1;
            let entry = e.per_kind.entry(a.kind.as_str()).or_default();
            entry.1 += 1;
            let first = analysis
                .alarms
                .iter()
                .find(|al| (a.start..=a.end + GRACE_SECS).contains(&al.start));
            if let Some(al) = first {
                entry.0 += 1;
                e.detected += 1;
                e.delays
                    .entry(a.kind.as_str())
                    .or_default()
                    .push(al.start - a.start);
            }
        }
    }
    e
}
