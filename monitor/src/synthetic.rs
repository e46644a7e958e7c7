//! The labelled synthetic data set the detector is evaluated on (`data/synthetic.csv`, written
//! by `cargo run -p nest-monitor --example synthetic`; a test checks the file matches).
//!
//! Hourly business-like series: a daily shape (quiet nights, busy evenings), a weekend effect,
//! a trend, multiplicative and count noise; some series carry injected anomalies (spikes, dips,
//! level shifts, slow drifts), the others are clean. A CSV row is
//! `series,timestamp,value,label` where `label` is empty or `<kind>#<id>` on the points of an
//! injected anomaly's window.

use crate::{MonitorError, Result, detector::Point};
use std::{collections::BTreeMap, fmt::Write as _};

/// Kinds of injected anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnomalyKind {
    /// A short burst (a bid storm).
    Spike,
    /// A short collapse (sales stop for a few hours).
    Dip,
    /// A lasting step up or down.
    LevelShift,
    /// A slow ramp to a new level over days.
    Drift,
}

impl AnomalyKind {
    /// The label used in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spike => "spike",
            Self::Dip => "dip",
            Self::LevelShift => "level_shift",
            Self::Drift => "drift",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Spike, Self::Dip, Self::LevelShift, Self::Drift]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One injected anomaly: its labelled window.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// Id, unique in the data set.
    pub id: u32,
    /// What was injected.
    pub kind: AnomalyKind,
    /// First labelled point.
    pub start: i64,
    /// Last labelled point.
    pub end: i64,
}

/// One labelled series.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSeries {
    /// Its name.
    pub name: String,
    /// Its points.
    pub points: Vec<Point>,
    /// The anomalies injected into it (none for a clean series).
    pub anomalies: Vec<Anomaly>,
}

/// A deterministic generator (splitmix64), so the data set is reproducible without a crate.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Seed of the committed data set.
pub const SEED: u64 = 17;
/// Series with injected anomalies in the committed data set.
pub const ANOMALOUS_SERIES: usize = 8;
/// Clean series in the committed data set.
pub const CLEAN_SERIES: usize = 4;

/// Monday 2026-01-05 00:00 UTC: the first point of every series.
pub const START: i64 = 1_767_571_200;
const HOUR: i64 = 3600;
/// Days of history before the first injected anomaly (the detector scores after 14).
const WARM_UP_DAYS: i64 = 17;

/// The data set: `anomalous` series of 60 days with injected anomalies every 5-6 days after a
/// clean warm-up, and `clean` series of 44 days (14 days of warm-up + 30 scored) with none.
pub fn generate(seed: u64, anomalous: usize, clean: usize) -> Vec<LabelledSeries> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let mut next_id = 1;
    for s in 0..anomalous + clean {
        let is_clean = s >= anomalous;
        let days = if is_clean { 44 } else { 60 };
        let base = rng.range(30.0, 800.0);
        let amplitude = rng.range(0.4, 0.8);
        let peak_hour = rng.range(14.0, 21.0);
        let weekend = rng.range(0.7, 1.25);
        let trend_per_day = rng.range(-0.004, 0.008);
        let noise = rng.range(0.04, 0.09);
        let len = (days * 24) as usize;
        let mut factor = vec![1.0_f64; len];
        let mut burst = vec![0.0_f64; len];
        let mut anomalies = Vec::new();
        if !is_clean {
            let kinds = [
                AnomalyKind::Spike,
                AnomalyKind::Dip,
                AnomalyKind::LevelShift,
                AnomalyKind::Drift,
                AnomalyKind::Spike,
                AnomalyKind::Dip,
                AnomalyKind::Drift,
                AnomalyKind::LevelShift,
            ];
            let mut at = WARM_UP_DAYS * 24 + rng.range(0.0, 48.0) as i64;
            let mut k = s % kinds.len();
            while at + 5 * 24 < len as i64 {
                let kind = kinds[k % kinds.len()];
                k += 1;
                let start = at as usize;
                let (labelled, next_gap) = inject(kind, start, &mut factor, &mut burst, &mut rng);
                let end = (start + labelled).min(len) - 1;
                anomalies.push(Anomaly {
                    id: next_id,
                    kind,
                    start: START + start as i64 * HOUR,
                    end: START + end as i64 * HOUR,
                });
                next_id += 1;
                at += next_gap as i64 + rng.range(0.0, 24.0) as i64;
            }
        }
        let mut points = Vec::with_capacity(len);
        for (i, f) in factor.iter().enumerate() {
            let hour = (i % 24) as f64;
            let day = i / 24;
            let daily =
                1.0 + amplitude * (2.0 * std::f64::consts::PI * (hour - peak_hour) / 24.0).cos();
            let week = if day % 7 >= 5 { weekend } else { 1.0 };
            let trend = 1.0 + trend_per_day * i as f64 / 24.0;
            let mean = base * (daily * week * f + burst[i]) * trend;
            let noisy = mean * (noise * rng.normal()).exp() + mean.sqrt() * rng.normal();
            points.push(Point {
                ts: START + i as i64 * HOUR,
                value: noisy.max(0.0).round(),
            });
        }
        out.push(LabelledSeries {
            name: if is_clean {
                format!("clean_{}", s - anomalous + 1)
            } else {
                format!("series_{}", s + 1)
            },
            points,
            anomalies,
        });
    }
    out
}

/// Multiplies `factor` (or adds to `burst`, in multiples of the base level) from `start` for
/// one anomaly of `kind`; returns the labelled length and
/// the hours to wait before the next one (so level adaptations do not overlap).
fn inject(
    kind: AnomalyKind,
    start: usize,
    factor: &mut [f64],
    burst: &mut [f64],
    rng: &mut Rng,
) -> (usize, usize) {
    let len = factor.len();
    match kind {
        AnomalyKind::Spike => {
            // A burst on top of the usual traffic: 2.5-5 times the series' typical hourly level,
            // whatever the hour (a bid storm at 4 am is as odd as one at 8 pm).
            let hours = rng.range(1.0, 4.0) as usize;
            let extra = rng.range(2.5, 5.0);
            for f in &mut burst[start..(start + hours).min(len)] {
                *f += extra;
            }
            (hours, 5 * 24)
        }
        AnomalyKind::Dip => {
            // Sales collapse to 5-30% for 2-5 hours.
            let hours = rng.range(2.0, 6.0) as usize;
            let m = rng.range(0.05, 0.3);
            for f in &mut factor[start..(start + hours).min(len)] {
                *f *= m;
            }
            (hours, 5 * 24)
        }
        AnomalyKind::LevelShift => {
            let m = if rng.uniform() < 0.5 {
                rng.range(1.6, 2.2)
            } else {
                rng.range(0.35, 0.55)
            };
            for f in &mut factor[start..] {
                *f *= m;
            }
            // The shifted level is the new normal once the detector has adapted (48 h).
            (48, 6 * 24)
        }
        AnomalyKind::Drift => {
            let target = if rng.uniform() < 0.5 {
                rng.range(1.8, 2.4)
            } else {
                rng.range(0.35, 0.5)
            };
            let ramp = 72;
            for (j, f) in factor[start..].iter_mut().enumerate() {
                let t = (j as f64 / ramp as f64).min(1.0);
                *f *= target.powf(t);
            }
            (ramp + 24, 7 * 24)
        }
    }
}

/// The data set as CSV.
pub fn to_csv(series: &[LabelledSeries]) -> String {
    let mut out = String::from("series,timestamp,value,label\n");
    for s in series {
        for p in &s.points {
            let label = s
                .anomalies
                .iter()
                .find(|a| (a.start..=a.end).contains(&p.ts))
                .map(|a| format!("{}#{}", a.kind.as_str(), a.id))
                .unwrap_or_default();
            let _ = writeln!(out, "{},{},{},{}", s.name, p.ts, p.value, label);
        }
    }
    out
}

/// Reads the data set back from CSV (`path` names it in errors).
pub fn from_csv(text: &str, path: &str) -> Result<Vec<LabelledSeries>> {
    let bad = |line: usize, message: &str| MonitorError::DataSet {
        path: path.to_string(),
        message: format!("line {line}: {message}"),
    };
    let mut by_name: BTreeMap<String, (Vec<Point>, BTreeMap<u32, Anomaly>)> = BTreeMap::new();
    let mut order = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let [name, ts, value, label] = fields[..] else {
            return Err(bad(n + 1, "expected 4 fields"));
        };
        let ts: i64 = ts.parse().map_err(|_| bad(n + 1, "timestamp"))?;
        let value: f64 = value.parse().map_err(|_| bad(n + 1, "value"))?;
        if !by_name.contains_key(name) {
            order.push(name.to_string());
        }
        let (points, anomalies) = by_name.entry(name.to_string()).or_default();
        points.push(Point { ts, value });
        if !label.is_empty() {
            let (kind, id) = label
                .split_once('#')
                .ok_or_else(|| bad(n + 1, "label is kind#id"))?;
            let kind = AnomalyKind::parse(kind).ok_or_else(|| bad(n + 1, "unknown kind"))?;
            let id: u32 = id.parse().map_err(|_| bad(n + 1, "anomaly id"))?;
            let a = anomalies.entry(id).or_insert(Anomaly {
                id,
                kind,
                start: ts,
                end: ts,
            });
            a.start = a.start.min(ts);
            a.end = a.end.max(ts);
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|name| {
            let (points, anomalies) = by_name.remove(&name)?;
            Some(LabelledSeries {
                name,
                points,
                anomalies: anomalies.into_values().collect(),
            })
        })
        .collect())
}
