//! Social throughput against the local wire-protocol server (or `NEST_MONGODB_URI`), each
//! figure with a same-run baseline:
//!
//! - home feed (uncached, through `SocialService::home`) of an account following
//!   `NEST_SOCIAL_BENCH_FOLLOWING` (1,000) of `NEST_SOCIAL_BENCH_ACCOUNTS` (10,000) accounts
//!   with `NEST_SOCIAL_BENCH_POSTS` (1,000,000) posts in the store: p50/p99 latency, against
//!   a raw indexed find of 20 timeline entries (the floor of any home page);
//! - signed writes (envelope parsing, EIP-712 hashing, ecrecover, rule checks, message +
//!   post + fan-out writes): messages/s with 16 in flight, against raw inserts of the same
//!   message documents.
//!
//! `cargo bench -p nest-social --bench feed`; a quick run:
//! `NEST_SOCIAL_BENCH_POSTS=50000 NEST_SOCIAL_BENCH_ACCOUNTS=2000 cargo bench -p nest-social --bench feed`.

#![allow(missing_docs)]

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use bson::doc;
use futures_util::{StreamExt, TryStreamExt, stream};
use nest_social::{
    Body, SocialConfig, SocialService,
    message::{Post, signed_envelope},
    service::{now_ms, sort_key},
};
use nest_store::{SocialPost, TimelineEntry, codec::address_key};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1_000.0
}

fn account(n: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[12..].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    Address::from(bytes)
}

#[tokio::main]
async fn main() {
    let accounts = env("NEST_SOCIAL_BENCH_ACCOUNTS", 10_000);
    let posts = env("NEST_SOCIAL_BENCH_POSTS", 1_000_000);
    let following = env("NEST_SOCIAL_BENCH_FOLLOWING", 1_000).min(accounts);
    let writes = env("NEST_SOCIAL_BENCH_WRITES", 2_000);
    let store = nest_testkit::TestStore::fresh("social_bench").await;
    let config = SocialConfig::new(
        31337,
        "http://localhost:8080",
        Address::repeat_byte(1),
        Address::repeat_byte(2),
        Address::repeat_byte(3),
    );
    let social = SocialService::new(store.clone(), config, None);
    let db = store.database();
    let viewer = account(accounts + 7);
    let viewer_key = address_key(&viewer);

    // Seed: the viewer follows accounts 0..following; posts are spread over every account,
    // and those of followed accounts are fanned out to the viewer's timeline.
    let started = Instant::now();
    let links: Vec<bson::Document> = (0..following)
        .map(|n| {
            let target = address_key(&account(n));
            doc! {
                "_id": format!("follow:{viewer_key}:{target}"), "kind": "follow",
                "account": &viewer_key, "target": target, "key": sort_key(n as i64, "seed"),
            }
        })
        .collect();
    db.collection::<bson::Document>("social_links")
        .insert_many(links)
        .await
        .expect("links");
    let base_ms = now_ms() - posts as i64 * 10;
    let chunk = 5_000;
    for start in (0..posts).step_by(chunk) {
        let mut batch = Vec::with_capacity(chunk);
        let mut timeline = Vec::new();
        for n in start..(start + chunk).min(posts) {
            let author_n = (n * 7919) % accounts;
            let id = format!("{:#x}", B256::left_padding_from(&(n as u64).to_be_bytes()));
            let key = sort_key(base_ms + n as i64 * 10, &id);
            let author = account(author_n);
            if author_n < following {
                timeline.push(TimelineEntry {
                    id: format!("{viewer_key}:{key}"),
                    owner: viewer_key.clone(),
                    key: key.clone(),
                    post: id.clone(),
                    author: address_key(&author),
                });
            }
            batch.push(SocialPost {
                id: id.clone(),
                key,
                author,
                text: format!("post number {n} about nests and wallets"),
                mentions: vec![],
                embeds: vec![],
                channel: None,
                parent: None,
                root: None,
                reply: false,
                depth: 0,
                created_at: (base_ms / 1000) + n as i64 / 100,
                likes: (n % 13) as i64,
                replies: 0,
                edited_at: None,
                history: vec![],
                message: id,
                deleted: false,
                hidden: false,
                taken_down: false,
                fingerprint: format!("{n:x}"),
            });
        }
        db.collection::<SocialPost>("social_posts")
            .insert_many(batch)
            .await
            .expect("posts");
        if !timeline.is_empty() {
            db.collection::<TimelineEntry>("social_timelines")
                .insert_many(timeline)
                .await
                .expect("timeline");
        }
    }
    println!(
        "seeded {posts} posts by {accounts} accounts (viewer follows {following}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Home feed, first page and a deep page, against the raw indexed find.
    let rounds = 200;
    let first = social.home(&viewer, None, 20).await.expect("home");
    assert_eq!(first.items.len(), 20, "a full first page");
    let deep_cursor = first.next_cursor.clone();
    let mut home = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let cursor = if i % 2 == 0 {
            None
        } else {
            deep_cursor.as_deref()
        };
        let t = Instant::now();
        let page = social.home(&viewer, cursor, 20).await.expect("home");
        home.push(t.elapsed());
        assert!(!page.items.is_empty());
    }
    let timelines = db.collection::<bson::Document>("social_timelines");
    let mut raw = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let found: Vec<bson::Document> = timelines
            .find(doc! { "owner": &viewer_key })
            .sort(doc! { "key": -1 })
            .limit(20)
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        raw.push(t.elapsed());
        assert_eq!(found.len(), 20);
    }
    let (h50, h99) = (percentile(&mut home, 0.5), percentile(&mut home, 0.99));
    let (r50, r99) = (percentile(&mut raw, 0.5), percentile(&mut raw, 0.99));
    println!("home feed (uncached)    p50 {h50:.2} ms  p99 {h99:.2} ms   (target p99 < 50 ms)");
    println!(
        "baseline raw find (20)  p50 {r50:.2} ms  p99 {r99:.2} ms   ratio p99 {:.1}x",
        h99 / r99
    );

    // Signed writes: pre-signed by 100 accounts (clients sign), submitted 16 at a time.
    let keys: Vec<PrivateKeySigner> = (0..100).map(|_| PrivateKeySigner::random()).collect();
    let now = (now_ms() / 1000) as u64;
    let envelopes: Vec<Vec<u8>> = (0..writes)
        .map(|n| {
            let key = &keys[n % keys.len()];
            let body = Body::Post(Post {
                account: key.address(),
                timestamp: now,
                text: format!("signed write {n}"),
                mentions: vec![],
                embeds: vec![],
                channel: String::new(),
                parent: B256::ZERO,
            });
            signed_envelope(social.domain(), &body, key, None).expect("sign")
        })
        .collect();
    let t = Instant::now();
    let accepted: Vec<bool> = stream::iter(envelopes)
        .map(|e| {
            let social = social.clone();
            async move { social.submit(&e, now_ms()).await.is_ok() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let write_secs = t.elapsed().as_secs_f64();
    assert!(accepted.iter().all(|ok| *ok), "every write accepted");
    let messages = db.collection::<bson::Document>("bench_raw_messages");
    let docs: Vec<bson::Document> = (0..writes)
        .map(|n| doc! { "_id": format!("raw{n}"), "kind": "post", "account": "0x00", "message": format!("signed write {n}"), "signature": "0x00" })
        .collect();
    let t = Instant::now();
    stream::iter(docs)
        .map(|d| {
            let messages = messages.clone();
            async move { messages.insert_one(d).await.expect("insert") }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let raw_secs = t.elapsed().as_secs_f64();
    println!(
        "signed writes           {:.0} msg/s  (target >= 2,000)",
        writes as f64 / write_secs
    );
    println!(
        "baseline raw insert     {:.0} doc/s   ratio {:.2}",
        writes as f64 / raw_secs,
        raw_secs / write_secs
    );
    let _ = db.drop().await;
}
