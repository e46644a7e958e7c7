//! Fixed-window rate limits per client IP and per account, shared through Redis (one counter
//! per key and minute); when Redis is unreachable each instance counts on its own.

use redis::aio::ConnectionManager;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Requests allowed per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per client IP.
    pub per_ip: u32,
    /// Per signed-in account.
    pub per_account: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_ip: 1_200,
            per_account: 600,
            window_secs: 60,
        }
    }
}

/// The limiter.
#[derive(Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    redis: Option<ConnectionManager>,
    local: Arc<Mutex<HashMap<String, (u64, u32)>>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("redis", &self.redis.is_some())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter with `limits`, shared through `redis` when given.
    pub fn new(limits: RateLimits, redis: Option<ConnectionManager>) -> Self {
        Self {
            limits,
            redis,
            local: Arc::default(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Counts one request for `key` against `limit`; `Err(seconds)` when over it.
    pub async fn check(&self, key: &str, limit: u32) -> Result<(), u64> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let window = now / self.limits.window_secs;
        let retry_after = (window + 1) * self.limits.window_secs - now;
        let count = match self.count_in_redis(key, window).await {
            Some(count) => count,
            None => self.count_locally(key, window),
        };
        if count > u64::from(limit) {
            Err(retry_after.max(1))
        } else {
            Ok(())
        }
    }

    async fn count_in_redis(&self, key: &str, window: u64) -> Option<u64> {
        let mut manager = self.redis.clone()?;
        let redis_key = format!("nest:{{rl}}:{key}:{window}");
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("INCR")
            .arg(&redis_key)
            .cmd("EXPIRE")
            .arg(&redis_key)
            .arg(self.limits.window_secs + 1)
            .ignore();
        let result: Result<Result<(u64,), _>, _> =
            tokio::time::timeout(Duration::from_millis(150), pipe.query_async(&mut manager)).await;
        match result {
            Ok(Ok((count,))) => Some(count),
            _ => {
                metrics::counter!("nest_api_ratelimit_local_fallback_total").increment(1);
                None
            }
        }
    }

    fn count_locally(&self, key: &str, window: u64) -> u64 {
        let Ok(mut counters) = self.local.lock() else {
            return 0;
        };
        if counters.len() > 100_000 {
            counters.retain(|_, (w, _)| *w == window);
        }
        let entry = counters.entry(key.to_string()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        u64::from(entry.1)
    }
}
