//! The two HTTP APIs the monitor talks to: Prometheus's `query_range` (reading business series)
//! and Alertmanager's `/api/v2/alerts` (raising and resolving anomaly alerts).

use crate::{MonitorError, Result, detector::Point};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use url::Url;

/// Longest a call to Prometheus or Alertmanager may take.
const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The HTTP client of both: every request bounded by [`HTTP_TIMEOUT`].
fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| MonitorError::Config(format!("http client: {e}")))
}

/// Reads series from Prometheus.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    http: reqwest::Client,
    base: Url,
}

#[derive(Debug, Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<QueryData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryData {
    result_type: String,
    result: Vec<MatrixSeries>,
}

#[derive(Debug, Deserialize)]
struct MatrixSeries {
    values: Vec<(f64, String)>,
}

impl PrometheusClient {
    /// A client of the Prometheus at `base` (e.g. `http://127.0.0.1:9090`).
    pub fn new(base: Url) -> Result<Self> {
        Ok(Self {
            http: http_client()?,
            base,
        })
    }

    /// The values of `query` from `start` to `end` (unix seconds) every `step` seconds. When the
    /// query yields several series, their values are summed per timestamp (write queries that
    /// aggregate, e.g. `sum(increase(nest_sales_total[1h]))`).
    #[tracing::instrument(skip(self), level = "debug")]
    pub async fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Point>> {
        let mut url = self
            .base
            .join("api/v1/query_range")
            .map_err(|e| MonitorError::Config(format!("prometheus url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("start", &start.to_string())
            .append_pair("end", &end.to_string())
            .append_pair("step", &step.to_string());
        let http = |source| MonitorError::Http {
            service: "prometheus",
            url: url.to_string(),
            source,
        };
        let response: QueryResponse = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(http)?
            .json()
            .await
            .map_err(http)?;
        let failed = |message: String| MonitorError::Query {
            query: query.to_string(),
            message,
        };
        if response.status != "success" {
            return Err(failed(response.error.unwrap_or(response.status)));
        }
        let data = response
            .data
            .ok_or_else(|| failed("no data in the answer".into()))?;
        if data.result_type != "matrix" {
            return Err(failed(format!(
                "a {} instead of a matrix",
                data.result_type
            )));
        }
        let mut sums: BTreeMap<i64, f64> = BTreeMap::new();
        for series in data.result {
            for (ts, value) in series.values {
                let value: f64 = value
                    .parse()
                    .map_err(|_| failed(format!("value {value:?} is not a number")))?;
                *sums.entry(ts.round() as i64).or_default() += value;
            }
        }
        Ok(sums
            .into_iter()
            .map(|(ts, value)| Point { ts, value })
            .collect())
    }
}

/// One alert as Alertmanager's API v2 takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Identifying labels (`alertname`, `severity`, `service`, ...).
    pub labels: BTreeMap<String, String>,
    /// Texts (`summary`, `description`, `runbook`).
    pub annotations: BTreeMap<String, String>,
    /// When it started (RFC 3339).
    pub starts_at: String,
    /// When it ends (RFC 3339): in the past resolves it; in the future keeps it firing that long
    /// unless posted again.
    pub ends_at: String,
    /// Link back to the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
}

/// Posts alerts to Alertmanager.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    http: reqwest::Client,
    base: Url,
}

impl AlertmanagerClient {
    /// A client of the Alertmanager at `base` (e.g. `http://127.0.0.1:9093`).
    pub fn new(base: Url) -> Result<Self> {
        Ok(Self {
            http: http_client()?,
            base,
        })
    }

    /// The alerts endpoint, and how to report a failure calling it.
    fn endpoint(&self) -> Result<(Url, impl Fn(reqwest::Error) -> MonitorError + use<>)> {
        let url = self
            .base
            .join("api/v2/alerts")
            .map_err(|e| MonitorError::Config(format!("alertmanager url: {e}")))?;
        let name = url.to_string();
        Ok((url, move |source| MonitorError::Http {
            service: "alertmanager",
            url: name.clone(),
            source,
        }))
    }

    /// Posts `alerts` (firing or resolved by their `ends_at`).
    #[tracing::instrument(skip_all, fields(count = alerts.len()))]
    pub async fn post(&self, alerts: &[PostableAlert]) -> Result<()> {
        let (url, http) = self.endpoint()?;
        self.http
            .post(url)
            .json(alerts)
            .send()
            .await
            .map_err(&http)?
            .error_for_status()
            .map_err(&http)?;
        Ok(())
    }

    /// The alerts Alertmanager holds (active, silenced and inhibited), as label maps with their
    /// state (`active`, `suppressed`, `unprocessed`) under the key `state`.
    pub async fn alerts(&self) -> Result<Vec<HashMap<String, String>>> {
        #[derive(Deserialize)]
        struct Gettable {
            labels: HashMap<String, String>,
            status: Status,
        }
        #[derive(Deserialize)]
        struct Status {
            state: String,
        }
        let (url, http) = self.endpoint()?;
        let alerts: Vec<Gettable> = self
            .http
            .get(url)
            .send()
            .await
            .map_err(&http)?
            .error_for_status()
            .map_err(&http)?
            .json()
            .await
            .map_err(&http)?;
        Ok(alerts
            .into_iter()
            .map(|mut a| {
                a.labels.insert("state".into(), a.status.state);
                a.labels
            })
            .collect())
    }
}

/// Unix seconds as RFC 3339 UTC (`2026-01-05T00:00:00Z`), without a date crate.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_767_571_200), "2026-01-05T00:00:00Z");
        assert_eq!(super::rfc3339(951_827_696), "2000-02-29T12:34:56Z");
    }
}
