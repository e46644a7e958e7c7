//! The monitor's pass: read each business series from Prometheus, score it, export
//! `nest_anomaly_score{series}`, and raise or resolve a `BusinessAnomaly` alert in Alertmanager.
//!
//! A pass is stateless but for the alerts it posted: it analyses the whole lookback window
//! again (cheap: hundreds of points a series), so a restarted monitor carries on where it was,
//! and an alert it can no longer resolve expires by its `endsAt`.

use crate::{
    MonitorError, Result,
    clients::{AlertmanagerClient, PostableAlert, PrometheusClient, rfc3339},
    detector::{Alarm, DetectorConfig, Direction, analyse},
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tracing::{info, warn};

/// Score of the latest point of each series (signed, robust standard deviations).
pub const ANOMALY_SCORE: &str = "nest_anomaly_score";
/// The baseline's expected value of the latest point of each series.
pub const ANOMALY_EXPECTED: &str = "nest_anomaly_expected";
/// 1 while a series is in an alarm.
pub const ANOMALY_ALARM: &str = "nest_anomaly_alarm";
/// Passes that failed to read a series, by `series`.
pub const ANOMALY_ERRORS: &str = "nest_anomaly_read_errors_total";

/// One business series to watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// Name (the `series` label of the score and the alert).
    pub name: String,
    /// PromQL yielding one value per step (aggregate with `sum(...)`).
    pub query: String,
    /// What a person should know when it leaves its band.
    #[serde(default)]
    pub meaning: String,
    /// Alert severity (`warning` by default).
    #[serde(default = "default_severity")]
    pub severity: String,
}

fn default_severity() -> String {
    "warning".into()
}

/// The series watched when no file is given: the marketplace's and the DAO's pulse.
pub fn default_series() -> Vec<SeriesSpec> {
    let spec = |name: &str, query: &str, meaning: &str| SeriesSpec {
        name: name.into(),
        query: query.into(),
        meaning: meaning.into(),
        severity: default_severity(),
    };
    vec![
        spec(
            "sales_count",
            "sum(increase(nest_market_sales_total[1h]))",
            "sales per hour (a collapse: checkout broken; a surge: wash trading)",
        ),
        spec(
            "sales_volume",
            "sum(increase(nest_market_sales_volume_gwei_total[1h])) / 1e9",
            "sales volume per hour, whole tokens of every payment token",
        ),
        spec(
            "bids",
            "sum(increase(nest_market_bids_total[1h]))",
            "auction bids per hour (a storm: a bot, or a mispriced auction)",
        ),
        spec(
            "relay_refusals",
            "sum(increase(nest_relayer_intake_total{outcome!=\"accepted\"}[1h]))",
            "gasless requests refused per hour (a spike: a broken client or abuse)",
        ),
        spec(
            "votes",
            "sum(increase(nest_dao_votes_total[1h]))",
            "governance votes per hour (a surge: a contested or captured proposal)",
        ),
        spec(
            "social_posts",
            "sum(increase(nest_social_messages_total{type=\"post\",duplicate=\"false\"}[1h]))",
            "social posts per hour (a surge: spam or a raid; a collapse: posting broken)",
        ),
        spec(
            "sign_ins",
            "sum(increase(nest_api_siwe_sign_ins_total[1h]))",
            "SIWE sign-ins per hour",
        ),
    ]
}

/// The monitor's settings.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// The series.
    pub series: Vec<SeriesSpec>,
    /// The detector (its `step_secs` is the query step).
    pub detector: DetectorConfig,
    /// Seconds between passes (alerts are posted to last three of them).
    pub interval_secs: i64,
}

impl MonitorConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        self.detector.validate().map_err(MonitorError::Config)?;
        if self.series.is_empty() {
            return Err(MonitorError::Config("no series to watch".into()));
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.series {
            if s.name.is_empty() || s.query.is_empty() || !names.insert(&s.name) {
                return Err(MonitorError::Config(format!(
                    "series {:?}: names must be unique and queries non-empty",
                    s.name
                )));
            }
        }
        if self.interval_secs <= 0 {
            return Err(MonitorError::Config("interval must be positive".into()));
        }
        Ok(())
    }

    /// Reads series specs from a JSON file (an array of `{name, query, meaning?, severity?}`).
    pub fn series_from_json(text: &str) -> Result<Vec<SeriesSpec>> {
        serde_json::from_str(text).map_err(|e| MonitorError::Config(format!("series file: {e}")))
    }
}

/// What a pass found for one series.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesReport {
    /// The series.
    pub series: String,
    /// Points read.
    pub points: usize,
    /// Time of the latest scored point.
    pub ts: Option<i64>,
    /// Its value.
    pub value: Option<f64>,
    /// The baseline's expectation.
    pub expected: Option<f64>,
    /// Its score.
    pub score: Option<f64>,
    /// The alarm active at the end of the window.
    pub alarm: Option<Alarm>,
    /// Why the series could not be read.
    pub error: Option<String>,
}

/// The watcher: one per process.
#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    prometheus: PrometheusClient,
    alertmanager: Option<AlertmanagerClient>,
    /// Alerts posted and not yet resolved, by series.
    posted: HashMap<String, PostableAlert>,
}

impl Monitor {
    /// A monitor reading from `prometheus`, alerting through `alertmanager` when given.
    pub fn new(
        config: MonitorConfig,
        prometheus: PrometheusClient,
        alertmanager: Option<AlertmanagerClient>,
    ) -> Result<Self> {
        config.validate()?;
        describe();
        Ok(Self {
            config,
            prometheus,
            alertmanager,
            posted: HashMap::new(),
        })
    }

    /// One pass over the window ending at `at` (unix seconds; the current time in service, a
    /// past one to replay history): reads, scores, exports and alerts. Alerts' end times are
    /// always reckoned from the wall clock, which Alertmanager compares them with.
    #[tracing::instrument(skip(self))]
    pub async fn pass(&mut self, at: i64) -> Result<Vec<SeriesReport>> {
        let now = wall_clock();
        let step = self.config.detector.step_secs;
        let end = at - at.rem_euclid(step);
        let start = end - (self.config.detector.history_days + 1) * 86_400;
        let mut reports = Vec::new();
        let mut alerts = Vec::new();
        for spec in &self.config.series {
            let name = spec.name.clone();
            let points = match self
                .prometheus
                .query_range(&spec.query, start, end, step)
                .await
            {
                Ok(points) => points,
                Err(e) => {
                    warn!(series = %name, error = %e, "cannot read the series");
                    metrics::counter!(ANOMALY_ERRORS, "series" => name.clone()).increment(1);
                    reports.push(SeriesReport {
                        series: name,
                        points: 0,
                        ts: None,
                        value: None,
                        expected: None,
                        score: None,
                        alarm: None,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let analysis = analyse(&points, &self.config.detector);
            let latest = analysis.latest().copied();
            let alarm = analysis.active_alarm().copied();
            if let Some(p) = latest {
                metrics::gauge!(ANOMALY_SCORE, "series" => name.clone()).set(p.score);
                metrics::gauge!(ANOMALY_EXPECTED, "series" => name.clone()).set(p.expected);
            }
            metrics::gauge!(ANOMALY_ALARM, "series" => name.clone()).set(if alarm.is_some() {
                1.0
            } else {
                0.0
            });
            match (alarm, self.posted.get(&name)) {
                (Some(alarm), _) => {
                    let alert = self.alert(spec, &alarm, latest.map(|p| p.score), now);
                    if !self.posted.contains_key(&name) {
                        info!(series = %name, direction = alarm.direction.as_str(), "business anomaly");
                    }
                    self.posted.insert(name.clone(), alert.clone());
                    alerts.push(alert);
                }
                (None, Some(previous)) => {
                    let mut resolved = previous.clone();
                    resolved.ends_at = rfc3339(now);
                    info!(series = %name, "business anomaly over");
                    alerts.push(resolved);
                    self.posted.remove(&name);
                }
                (None, None) => {}
            }
            reports.push(SeriesReport {
                series: name,
                points: points.len(),
                ts: latest.map(|p| p.ts),
                value: latest.map(|p| p.value),
                expected: latest.map(|p| p.expected),
                score: latest.map(|p| p.score),
                alarm,
                error: None,
            });
        }
        if let (Some(am), false) = (&self.alertmanager, alerts.is_empty()) {
            am.post(&alerts).await?;
        }
        Ok(reports)
    }

    fn alert(
        &self,
        spec: &SeriesSpec,
        alarm: &Alarm,
        score: Option<f64>,
        now: i64,
    ) -> PostableAlert {
        let (word, far) = match alarm.direction {
            Direction::Up => ("up", "above"),
            Direction::Down => ("down", "below"),
        };
        let labels = BTreeMap::from([
            ("alertname".to_string(), "BusinessAnomaly".to_string()),
            ("series".to_string(), spec.name.clone()),
            ("direction".to_string(), word.to_string()),
            ("severity".to_string(), spec.severity.clone()),
            ("service".to_string(), "monitor".to_string()),
        ]);
        let annotations = BTreeMap::from([
            (
                "summary".to_string(),
                format!(
                    "{} is far {far} its usual level for this hour and weekday (score {:.1})",
                    spec.name,
                    score.unwrap_or(alarm.peak)
                ),
            ),
            ("description".to_string(), spec.meaning.clone()),
            (
                "runbook".to_string(),
                "Compare the series with the same hour of past weeks in the Grafana overview; check recent deploys, the relayer's refusals and the indexer's lag before reading it as a business change.".to_string(),
            ),
        ]);
        PostableAlert {
            labels,
            annotations,
            starts_at: rfc3339(alarm.start),
            // Lasts three passes unless posted again: a stopped monitor's alerts expire.
            ends_at: rfc3339(now + 3 * self.config.interval_secs),
            generator_url: None,
        }
    }
}

/// Unix seconds now.
fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Registers the descriptions of the monitor's metrics with the installed recorder.
pub fn describe() {
    metrics::describe_gauge!(
        ANOMALY_SCORE,
        "Anomaly score of the latest point of a business series (robust standard deviations)"
    );
    metrics::describe_gauge!(
        ANOMALY_EXPECTED,
        "Expected value of the latest point of a business series (seasonal baseline)"
    );
    metrics::describe_gauge!(ANOMALY_ALARM, "1 while a business series is in an alarm");
    metrics::describe_counter!(ANOMALY_ERRORS, "Failed reads of a business series");
}
