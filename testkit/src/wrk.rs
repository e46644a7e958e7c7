//! Load generation for the HTTP benchmarks: `wrk` (Debian package, installed by
//! `scripts/setup`) against one URL, its throughput and latency percentiles parsed.

use std::process::Command;

/// What one `wrk` run measured.
#[derive(Debug, Clone, Copy)]
pub struct WrkResult {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// Runs `wrk -t2 -c<connections> -d<seconds>s --latency url` (server and load generator share
/// the machine's cores) and parses its report; warns when wrk saw non-2xx answers.
pub fn wrk(url: &str, connections: u32, seconds: u32) -> WrkResult {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("wrk (scripts/setup installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()))
    };
    if text.contains("Non-2xx") {
        eprintln!("warning: wrk saw non-2xx responses for {url}:\n{text}");
    }
    WrkResult {
        rps: find("Requests/sec:")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0.0),
        p50_ms: find("50%").map_or(f64::NAN, |v| duration_ms(&v)),
        p99_ms: find("99%").map_or(f64::NAN, |v| duration_ms(&v)),
    }
}

/// `wrk`'s durations (`812.00us`, `1.20ms`, `2.00s`) in milliseconds.
fn duration_ms(text: &str) -> f64 {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1_000.0,
        "ms" => n,
        "s" => n * 1_000.0,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::duration_ms;

    #[test]
    fn wrk_durations_read_in_milliseconds() {
        assert_eq!(duration_ms("812.00us"), 0.812);
        assert_eq!(duration_ms("1.20ms"), 1.2);
        assert_eq!(duration_ms("2.00s"), 2000.0);
        assert!(duration_ms("soon").is_nan());
    }
}
