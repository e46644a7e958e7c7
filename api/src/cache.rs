//! Response cache: in-process (moka, with single-flight so a cold key is computed once under
//! load) backed by Redis shared between instances. Entries carry tags (a collection, or one
//! document); a change notice invalidates exactly the entries tagged with what it touched.
//! While the notice bus is disconnected the cache is bypassed, so nothing stale is served.

use crate::{bus::NoticeBus, error::ApiError};
use axum::body::Bytes;
use moka::future::Cache;
use redis::aio::ConnectionManager;
use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

/// A cached JSON body with its entity tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedBody {
    /// The JSON.
    pub body: Bytes,
    /// Strong ETag (quoted).
    pub etag: String,
}

impl CachedBody {
    fn new(body: Bytes) -> Self {
        let etag = format!(
            "\"{}\"",
            &alloy::primitives::keccak256(&body).to_string()[2..34]
        );
        Self { body, etag }
    }
}

const REDIS_TIMEOUT: Duration = Duration::from_millis(150);

/// The two-level response cache.
#[derive(Clone)]
pub struct ResponseCache {
    local: Cache<String, Arc<CachedBody>>,
    tags: Arc<Mutex<HashMap<String, HashSet<String>>>>,
    generations: Arc<Mutex<HashMap<String, u64>>>,
    redis: Option<ConnectionManager>,
    bus: NoticeBus,
    ttl: Duration,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.local.entry_count())
            .field("redis", &self.redis.is_some())
            .finish()
    }
}

impl ResponseCache {
    /// A cache of up to `capacity` entries living at most `ttl`, invalidated through `bus`.
    pub fn new(
        capacity: u64,
        ttl: Duration,
        bus: NoticeBus,
        redis: Option<ConnectionManager>,
    ) -> Self {
        Self {
            local: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            tags: Arc::default(),
            generations: Arc::default(),
            redis,
            bus,
            ttl,
        }
    }

    /// Starts the task that applies change notices.
    pub fn listen(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        let mut notices = self.bus.subscribe();
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(n) => cache.invalidate_notice(&n.kind, &n.key).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => cache.clear(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }

    /// The cached body for `key`, or `compute`'s, cached under `tags`. Concurrent misses of one
    /// key run `compute` once. A result computed while one of its tags was invalidated is
    /// served but not kept.
    pub async fn get_or_compute<F>(
        &self,
        key: &str,
        tags: &[String],
        compute: F,
    ) -> Result<Arc<CachedBody>, ApiError>
    where
        F: Future<Output = Result<Bytes, ApiError>> + Send,
    {
        if !self.bus.is_connected() {
            metrics::counter!("nest_api_cache_bypass_total").increment(1);
            return compute.await.map(|b| Arc::new(CachedBody::new(b)));
        }
        if let Some(hit) = self.local.get(key).await {
            metrics::counter!("nest_api_cache_hits_total", "level" => "local").increment(1);
            return Ok(hit);
        }
        let before = self.generation_of(tags);
        let redis_key = format!("nest:{{cache}}:{key}");
        let this = self.clone();
        let tags_owned: Vec<String> = tags.to_vec();
        let result = self
            .local
            .try_get_with(key.to_string(), async move {
                if let Some(body) = this.redis_get(&redis_key).await {
                    metrics::counter!("nest_api_cache_hits_total", "level" => "redis").increment(1);
                    return Ok(Arc::new(CachedBody::new(body)));
                }
                metrics::counter!("nest_api_cache_misses_total").increment(1);
                let body = compute.await?;
                // A result computed across an invalidation of its tags may predate the change:
                // it is served to this caller but never shared through Redis (where it would
                // outlive the invalidation for the whole TTL). The second look closes the
                // window between the first and the write.
                if this.generation_of(&tags_owned) == before {
                    this.redis_put(&redis_key, &tags_owned, &body).await;
                    if this.generation_of(&tags_owned) != before {
                        this.redis_delete(&redis_key).await;
                    }
                }
                Ok::<_, ApiError>(Arc::new(CachedBody::new(body)))
            })
            .await
            .map_err(|e: Arc<ApiError>| (*e).clone())?;
        self.remember(key, tags);
        if self.generation_of(tags) != before {
            self.local.invalidate(key).await;
        }
        Ok(result)
    }

    fn remember(&self, key: &str, tags: &[String]) {
        if let Ok(mut index) = self.tags.lock() {
            for tag in tags {
                index
                    .entry(tag.clone())
                    .or_default()
                    .insert(key.to_string());
            }
        }
    }

    fn generation_of(&self, tags: &[String]) -> u64 {
        self.generations
            .lock()
            .map(|g| tags.iter().map(|t| g.get(t).copied().unwrap_or(0)).sum())
            .unwrap_or(0)
    }

    /// Drops every entry tagged `tag`, here and in Redis.
    pub async fn invalidate(&self, tag: &str) {
        if let Ok(mut g) = self.generations.lock() {
            *g.entry(tag.to_string()).or_default() += 1;
        }
        let keys: Vec<String> = self
            .tags
            .lock()
            .ok()
            .and_then(|mut i| i.remove(tag))
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        for key in &keys {
            self.local.invalidate(key).await;
        }
        if let Some(manager) = &self.redis {
            let mut manager = manager.clone();
            let set = format!("nest:{{cache}}:tag:{tag}");
            let members: Result<Result<Vec<String>, _>, _> = tokio::time::timeout(
                REDIS_TIMEOUT,
                redis::cmd("SMEMBERS").arg(&set).query_async(&mut manager),
            )
            .await;
            if let Ok(Ok(members)) = members {
                let mut cmd = redis::cmd("DEL");
                cmd.arg(&set);
                for m in members {
                    cmd.arg(m);
                }
                let _: Result<Result<i64, _>, _> =
                    tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async(&mut manager)).await;
            }
        }
    }

    /// Drops everything held in this process.
    pub fn clear(&self) {
        self.local.invalidate_all();
        if let Ok(mut i) = self.tags.lock() {
            i.clear();
        }
    }

    /// Drops what a change notice touched (its kind, and its one document), here and in Redis,
    /// before the notice reaches the other instances: a writer reads its own write at once.
    pub async fn invalidate_notice(&self, kind: &str, key: &str) {
        self.invalidate(kind).await;
        self.invalidate(&format!("{kind}:{key}")).await;
    }

    async fn redis_delete(&self, key: &str) {
        let Some(mut manager) = self.redis.clone() else {
            return;
        };
        let _: Result<Result<i64, _>, _> = tokio::time::timeout(
            REDIS_TIMEOUT,
            redis::cmd("DEL").arg(key).query_async(&mut manager),
        )
        .await;
    }

    async fn redis_get(&self, key: &str) -> Option<Bytes> {
        let mut manager = self.redis.clone()?;
        let value: Result<Result<Option<Vec<u8>>, _>, _> = tokio::time::timeout(
            REDIS_TIMEOUT,
            redis::cmd("GET").arg(key).query_async(&mut manager),
        )
        .await;
        value.ok()?.ok()?.map(Bytes::from)
    }

    async fn redis_put(&self, key: &str, tags: &[String], body: &Bytes) {
        let Some(mut manager) = self.redis.clone() else {
            return;
        };
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(key)
            .arg(body.as_ref())
            .arg("EX")
            .arg(self.ttl.as_secs().max(1))
            .ignore();
        for tag in tags {
            let set = format!("nest:{{cache}}:tag:{tag}");
            pipe.cmd("SADD").arg(&set).arg(key).ignore();
            pipe.cmd("EXPIRE")
                .arg(&set)
                .arg(self.ttl.as_secs().max(1) * 2)
                .ignore();
        }
        let _: Result<Result<(), _>, _> =
            tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async(&mut manager)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::NoticeBus;

    async fn redis_cache(url: &str) -> (ResponseCache, ConnectionManager) {
        let client = redis::Client::open(url).expect("redis url");
        let manager = ConnectionManager::new(client).await.expect("redis");
        let bus = NoticeBus::redis(url).await.expect("bus");
        let cache = ResponseCache::new(100, Duration::from_secs(300), bus, Some(manager.clone()));
        (cache, manager)
    }

    #[tokio::test]
    async fn a_result_computed_across_an_invalidation_is_served_but_never_shared() {
        let redis = nest_testkit::TestRedis::start();
        let (cache, mut manager) = redis_cache(&redis.url()).await;
        let tags = vec!["social-profile:0xaa".to_string()];
        // The read starts, the write lands and invalidates its tag, then the read finishes.
        let stale = cache
            .get_or_compute("following:0xaa", &tags, {
                let cache = cache.clone();
                async move {
                    cache.invalidate_notice("social-profile", "0xaa").await;
                    Ok(Bytes::from_static(b"[]"))
                }
            })
            .await
            .expect("served");
        assert_eq!(stale.body, Bytes::from_static(b"[]"));
        let shared: Option<Vec<u8>> = redis::cmd("GET")
            .arg("nest:{cache}:following:0xaa")
            .query_async(&mut manager)
            .await
            .expect("get");
        assert_eq!(shared, None, "the stale page did not reach Redis");
        // Nor this instance: the next read computes afresh and is cached everywhere.
        let fresh = cache
            .get_or_compute("following:0xaa", &tags, async {
                Ok(Bytes::from_static(b"[\"0xbb\"]"))
            })
            .await
            .expect("computed");
        assert_eq!(fresh.body, Bytes::from_static(b"[\"0xbb\"]"));
        let shared: Option<Vec<u8>> = redis::cmd("GET")
            .arg("nest:{cache}:following:0xaa")
            .query_async(&mut manager)
            .await
            .expect("get");
        assert_eq!(shared.as_deref(), Some(&b"[\"0xbb\"]"[..]));
    }
}
