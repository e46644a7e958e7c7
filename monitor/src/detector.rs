//! The anomaly detector: a seasonal, outlier-robust baseline per series, a score per point and
//! alarms from a two-sided CUSUM of the scores.
//!
//! Per point, in log space (`y = ln(x + offset)`, so seasonality and noise scale with the level):
//! 1. seasonal profile, refitted once a day from the complete days of the history window:
//!    hour of day `S_hod[b] = median_d(y[d,b] - m_d)` (with `m_d` the day's median) and day of
//!    week `S_dow[w] = median over days of weekday w of (m_d - median of m over d-3..d+3)`;
//! 2. level: the median of the deseasonalised values of the last `level_hours`, so a short spike
//!    moves it little and a level shift becomes the new normal after about half that window;
//! 3. score `z = (y - S - level) / sigma[b]`, with `sigma[b]` = 1.4826 * MAD of the recent
//!    residuals at that time of day (robust to the anomalies inside them), floored;
//! 4. alarm: up and down CUSUM accumulators `max(0, a + |z| - slack)`, capped; an alarm starts
//!    when one passes `threshold` and ends when both are back at 0. A large spike alarms at once,
//!    a small persistent departure after a few points, noise almost never.

use serde::{Deserialize, Serialize};

/// One observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Unix time, seconds.
    pub ts: i64,
    /// The value.
    pub value: f64,
}

/// Settings of the detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// Seconds between points (must divide a day).
    pub step_secs: i64,
    /// Days of history the seasonal profile and the scales learn from.
    pub history_days: i64,
    /// Points are scored only once this many days of history exist.
    pub min_history_days: i64,
    /// Hours of the robust level's window.
    pub level_hours: i64,
    /// Added before the logarithm (counts can be 0).
    pub log_offset: f64,
    /// CUSUM slack: scores below it (in absolute value) wear the accumulators down.
    pub slack: f64,
    /// CUSUM threshold: an accumulator above it raises an alarm.
    pub threshold: f64,
    /// Smallest scale, in log units (a flat series must not make every wobble an anomaly).
    pub scale_floor: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            step_secs: 3600,
            history_days: 28,
            min_history_days: 14,
            level_hours: 72,
            log_offset: 1.0,
            slack: 2.0,
            threshold: 5.0,
            scale_floor: 0.02,
        }
    }
}

impl DetectorConfig {
    /// Points per day.
    pub fn points_per_day(&self) -> usize {
        (DAY / self.step_secs.max(1)).max(1) as usize
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), String> {
        if self.step_secs <= 0 || DAY % self.step_secs != 0 {
            return Err(format!("step {} s does not divide a day", self.step_secs));
        }
        if self.min_history_days < 7 || self.history_days < self.min_history_days {
            return Err("history_days >= min_history_days >= 7 (weekly seasonality)".into());
        }
        if self.level_hours * 3600 < 2 * self.step_secs {
            return Err("level_hours must span at least two points".into());
        }
        if !(self.slack > 0.0 && self.threshold > 0.0 && self.scale_floor > 0.0) {
            return Err("slack, threshold and scale_floor must be positive".into());
        }
        Ok(())
    }
}

const DAY: i64 = 86_400;
/// MAD to standard deviation for normal data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// Whether a series went above or below its band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Above the band (a spike, a storm).
    Up,
    /// Below the band (a dip, a collapse).
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

/// One scored point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    /// Unix time, seconds.
    pub ts: i64,
    /// The observed value (NaN when missing).
    pub value: f64,
    /// The baseline's expected value (NaN before enough history).
    pub expected: f64,
    /// Signed score in robust standard deviations (NaN when not scored).
    pub score: f64,
    /// An alarm is active at this point.
    pub alarm: bool,
}

/// A period during which the series stayed out of its band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alarm {
    /// First point of the alarm.
    pub start: i64,
    /// Last point of the alarm (`None` while still active at the end of the series).
    pub end: Option<i64>,
    /// Up or down.
    pub direction: Direction,
    /// Largest absolute score seen during the alarm.
    pub peak: f64,
}

/// The detector's view of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Every point of the regular grid from the first to the last observation.
    pub points: Vec<Scored>,
    /// Alarms, in time order.
    pub alarms: Vec<Alarm>,
}

impl Analysis {
    /// The last scored point, if any.
    pub fn latest(&self) -> Option<&Scored> {
        self.points.iter().rev().find(|p| p.score.is_finite())
    }

    /// The alarm still active at the end of the series.
    pub fn active_alarm(&self) -> Option<&Alarm> {
        self.alarms.last().filter(|a| a.end.is_none())
    }
}

/// The median of `values` (NaN when empty). Reorders them.
fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if values.len() % 2 == 1 {
        m
    } else {
        let lower = values[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (m + lower) / 2.0
    }
}

/// The seasonal profile and scales learnt for one day.
#[derive(Debug, Clone)]
struct Profile {
    hour_of_day: Vec<f64>,
    day_of_week: [f64; 7],
    scale: Vec<f64>,
}

/// Scores a series and finds its alarms. `points` need not be sorted; points off the grid are
/// put on the nearest earlier grid point, and missing grid points are NaN.
pub fn analyse(points: &[Point], config: &DetectorConfig) -> Analysis {
    let step = config.step_secs.max(1);
    let ppd = config.points_per_day();
    let mut sorted: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.value.is_finite())
        .collect();
    sorted.sort_by_key(|p| p.ts);
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return Analysis {
            points: Vec::new(),
            alarms: Vec::new(),
        };
    };
    // The grid starts at the first day's midnight (UTC) so bucket b of day d is index d*ppd+b.
    let origin = first.ts.div_euclid(DAY) * DAY;
    let len = ((last.ts - origin) / step + 1) as usize;
    let mut raw = vec![f64::NAN; len];
    for p in &sorted {
        raw[((p.ts - origin) / step) as usize] = p.value;
    }
    let y: Vec<f64> = raw
        .iter()
        .map(|v| (v.max(0.0) + config.log_offset).ln())
        .collect();
    let days = len.div_ceil(ppd);
    let first_day = origin.div_euclid(DAY);
    let level_points = ((config.level_hours * 3600) / step).max(2) as usize;

    let mut scored = Vec::with_capacity(len);
    let mut alarms: Vec<Alarm> = Vec::new();
    let (mut up, mut down) = (0.0_f64, 0.0_f64);
    let cap = 2.0 * config.threshold;
    let mut profile: Option<Profile> = None;
    for day in 0..days {
        let scoring = day as i64 >= config.min_history_days;
        if scoring {
            profile = Some(fit_profile(&y, day, ppd, first_day, level_points, config));
        }
        for b in 0..ppd {
            let i = day * ppd + b;
            if i >= len {
                break;
            }
            let ts = origin + i as i64 * step;
            let mut point = Scored {
                ts,
                value: raw[i],
                expected: f64::NAN,
                score: f64::NAN,
                alarm: false,
            };
            if let Some(p) = profile.as_ref().filter(|_| scoring) {
                let weekday = weekday(first_day + day as i64);
                let season = |j: usize| {
                    p.hour_of_day[j % ppd] + p.day_of_week[weekday_of(first_day, j, ppd)]
                };
                let mut window: Vec<f64> = (i.saturating_sub(level_points)..i)
                    .filter(|&j| y[j].is_finite())
                    .map(|j| y[j] - season(j))
                    .collect();
                let level = median(&mut window);
                let expected = level + p.hour_of_day[b] + p.day_of_week[weekday];
                point.expected = (expected.exp() - config.log_offset).max(0.0);
                if y[i].is_finite() && level.is_finite() {
                    let z = (y[i] - expected) / p.scale[b];
                    point.score = z;
                    up = (up + z - config.slack).clamp(0.0, cap);
                    down = (down - z - config.slack).clamp(0.0, cap);
                }
                let active = alarms.last().is_some_and(|a| a.end.is_none());
                if !active && (up > config.threshold || down > config.threshold) {
                    alarms.push(Alarm {
                        start: ts,
                        end: None,
                        direction: if up >= down {
                            Direction::Up
                        } else {
                            Direction::Down
                        },
                        peak: 0.0,
                    });
                } else if active
                    && up <= 0.0
                    && down <= 0.0
                    && let Some(a) = alarms.last_mut()
                {
                    a.end = Some(ts - step);
                }
                if let Some(a) = alarms.last_mut().filter(|a| a.end.is_none()) {
                    point.alarm = true;
                    if point.score.is_finite() {
                        a.peak = a.peak.max(point.score.abs());
                    }
                }
            }
            scored.push(point);
        }
    }
    Analysis {
        points: scored,
        alarms,
    }
}

/// Day of week of a day number since the epoch (0 = Monday; the epoch was a Thursday).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

fn weekday_of(first_day: i64, index: usize, ppd: usize) -> usize {
    weekday(first_day + (index / ppd) as i64)
}

/// Learns the profile used on `day` from the complete days before it.
fn fit_profile(
    y: &[f64],
    day: usize,
    ppd: usize,
    first_day: i64,
    level_points: usize,
    config: &DetectorConfig,
) -> Profile {
    let from = day.saturating_sub(config.history_days as usize);
    let day_values = |d: usize| -> Vec<f64> {
        y[d * ppd..((d + 1) * ppd).min(y.len())]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect()
    };
    // Daily medians (days with too few points are left out).
    let medians: Vec<Option<f64>> = (from..day)
        .map(|d| {
            let mut v = day_values(d);
            (v.len() * 2 >= ppd).then(|| median(&mut v))
        })
        .collect();
    let mut hour_of_day = vec![0.0; ppd];
    for (b, slot) in hour_of_day.iter_mut().enumerate() {
        let mut devs: Vec<f64> = (from..day)
            .filter_map(|d| {
                let m = medians[d - from]?;
                let v = y[d * ppd + b];
                v.is_finite().then_some(v - m)
            })
            .collect();
        let m = median(&mut devs);
        *slot = if m.is_finite() { m } else { 0.0 };
    }
    let mut per_weekday: [Vec<f64>; 7] = Default::default();
    for d in from..day {
        let (lo, hi) = (d.saturating_sub(3).max(from), d + 3);
        if hi >= day || lo + 6 != hi {
            continue;
        }
        let Some(m) = medians[d - from] else { continue };
        let mut around: Vec<f64> = (lo..=hi).filter_map(|e| medians[e - from]).collect();
        if around.len() < 5 {
            continue;
        }
        per_weekday[weekday(first_day + d as i64)].push(m - median(&mut around));
    }
    let mut day_of_week = [0.0; 7];
    for (w, devs) in per_weekday.iter_mut().enumerate() {
        let m = median(devs);
        day_of_week[w] = if m.is_finite() { m } else { 0.0 };
    }
    // Residuals of the history against this profile give the scale per time of day.
    let season = |j: usize| hour_of_day[j % ppd] + day_of_week[weekday_of(first_day, j, ppd)];
    let scale_from = from * ppd;
    let mut residuals: Vec<Vec<f64>> = vec![Vec::new(); ppd];
    for i in scale_from..(day * ppd).min(y.len()) {
        if !y[i].is_finite() {
            continue;
        }
        let mut window: Vec<f64> = (i.saturating_sub(level_points)..i)
            .filter(|&j| y[j].is_finite())
            .map(|j| y[j] - season(j))
            .collect();
        if window.len() < level_points / 2 {
            continue;
        }
        let level = median(&mut window);
        residuals[i % ppd].push(y[i] - season(i) - level);
    }
    let mut raw_scale: Vec<f64> = residuals
        .iter_mut()
        .map(|r| {
            let m = median(r);
            let mut abs: Vec<f64> = r.iter().map(|v| (v - m).abs()).collect();
            MAD_TO_SIGMA * median(&mut abs)
        })
        .collect();
    // A bucket's scale from a few residuals is noisy: never below half the typical one.
    let mut finite: Vec<f64> = raw_scale
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .collect();
    let typical = median(&mut finite);
    for s in &mut raw_scale {
        let base = if s.is_finite() { *s } else { typical };
        *s = base.max(0.5 * typical.max(0.0)).max(config.scale_floor);
        if !s.is_finite() {
            *s = config.scale_floor;
        }
    }
    Profile {
        hour_of_day,
        day_of_week,
        scale: raw_scale,
    }
}
