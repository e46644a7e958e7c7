//! The social endpoints over HTTP, against the local store and a real `redis-server`: XSS
//! payloads come back byte-identical as JSON, refusals are translated problems that store
//! nothing, write limits are shared between instances through Redis, notifications are
//! announced on the bus the live stream reads.

#![allow(missing_docs)]

mod common;

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use common::{Api, RedisServer, bare_api_on};
use nest_social::{
    Body, SocialDomain,
    message::{Like, Post, signed_envelope},
    service::now_ms,
};
use nest_testkit::TestStore;

fn post_body(account: Address, text: &str) -> Body {
    Body::Post(Post {
        account,
        timestamp: (now_ms() / 1000) as u64,
        text: text.into(),
        mentions: vec![],
        embeds: vec![],
        channel: String::new(),
        parent: B256::ZERO,
    })
}

async fn send(api: &Api, envelope: &[u8], lang: &str) -> common::HttpResponse {
    let body = String::from_utf8(envelope.to_vec()).expect("utf-8");
    api.client
        .request(
            "POST",
            "/v1/social/messages",
            &[
                ("Content-Type", "application/json"),
                ("Accept-Language", lang),
            ],
            Some(&body),
        )
        .await
}

fn domain() -> SocialDomain {
    SocialDomain::new(31337, common::ORIGIN)
}

/// OWASP XSS filter evasion cheat sheet payloads (a representative selection).
const XSS: [&str; 16] = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert(&quot;XSS&quot;)>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<BODY ONLOAD=alert('XSS')>",
    "<svg/onload=alert('XSS')>",
    "<iframe src=\"javascript:alert('XSS');\"></iframe>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "\\\";alert('XSS');//",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>\u{0}\u{1f}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xss_payloads_come_back_byte_identical_as_json() {
    let store = TestStore::fresh("social_xss").await;
    let api = bare_api_on(
        store,
        |c| c.social_limits.per_new_account = 1_000,
        None,
        None,
    )
    .await;
    let key = PrivateKeySigner::random();
    for payload in XSS {
        let envelope = signed_envelope(&domain(), &post_body(key.address(), payload), &key, None)
            .expect("signed");
        let answer = send(&api, &envelope, "en").await;
        assert_eq!(answer.status, 201, "{payload}: {}", answer.body);
        let hash = answer.json()["hash"].as_str().expect("hash").to_string();
        let got = api.client.get(&format!("/v1/social/posts/{hash}")).await;
        assert_eq!(got.status, 200);
        assert!(
            got.header("content-type")
                .is_some_and(|v| v.starts_with("application/json")),
            "{:?}",
            got.header("content-type")
        );
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(got.json()["text"].as_str(), Some(payload), "byte-identical");
        let message = api.client.get(&format!("/v1/social/messages/{hash}")).await;
        assert_eq!(message.json()["message"]["text"].as_str(), Some(payload));
    }
    let feed = api.client.get("/v1/social/feeds/global?limit=100").await;
    let texts: Vec<String> = feed.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["post"]["text"].as_str().expect("text").to_string())
        .collect();
    assert_eq!(texts.len(), XSS.len());
    for payload in XSS {
        assert!(texts.iter().any(|t| t == payload));
    }
    // The api's only HTML pages carry a CSP.
    let docs = api.client.get("/docs").await;
    assert!(
        docs.header("content-security-policy")
            .is_some_and(|v| v.contains("script-src 'self'")),
        "{:?}",
        docs.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_get_translated_problems_and_store_nothing() {
    let store = TestStore::fresh("social_problems").await;
    let api = bare_api_on(store, |_| {}, None, None).await;
    let key = PrivateKeySigner::random();
    let other = PrivateKeySigner::random();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            signed_envelope(&domain(), &post_body(key.address(), "forged"), &other, None)
                .expect("signed"),
            400,
            "social.bad_signature",
        ),
        (
            signed_envelope(
                &SocialDomain::new(1, common::ORIGIN),
                &post_body(key.address(), "chain"),
                &key,
                None,
            )
            .expect("signed"),
            400,
            "social.wrong_chain",
        ),
        (
            signed_envelope(
                &SocialDomain::new(31337, "https://evil.example"),
                &post_body(key.address(), "site"),
                &key,
                None,
            )
            .expect("signed"),
            400,
            "social.wrong_domain",
        ),
        (
            signed_envelope(
                &domain(),
                &post_body(key.address(), &"x".repeat(1025)),
                &key,
                None,
            )
            .expect("signed"),
            413,
            "social.too_long",
        ),
        (
            signed_envelope(
                &domain(),
                &Body::Like(Like {
                    account: key.address(),
                    timestamp: (now_ms() / 1000) as u64,
                    target: B256::repeat_byte(9),
                    active: true,
                }),
                &key,
                None,
            )
            .expect("signed"),
            422,
            "social.unknown_target",
        ),
        (
            br#"{"type":"poke","domain":{},"message":{},"signature":"0x"}"#.to_vec(),
            400,
            "social.malformed",
        ),
    ];
    for (lang, expected_title) in [
        ("ko", "잘못된 서명"),
        ("ja", "不正な署名"),
        ("zh", "签名无效"),
    ] {
        let answer = send(&api, &cases[0].0, lang).await;
        assert_eq!(answer.json()["title"].as_str(), Some(expected_title));
        assert_eq!(answer.header("content-language"), Some(lang));
    }
    for (envelope, status, code) in &cases {
        let answer = send(&api, envelope, "en").await;
        assert_eq!(answer.status, *status, "{code}: {}", answer.body);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|v| v.starts_with("application/problem+json"))
        );
        assert_eq!(
            answer.json()["code"].as_str(),
            Some(*code),
            "{}",
            answer.body
        );
        assert_eq!(
            answer.json()["type"].as_str(),
            Some(format!("urn:nest:problem:{code}").as_str())
        );
    }
    let feed = api.client.get("/v1/social/feeds/global").await;
    assert_eq!(feed.json()["items"].as_array().map(Vec::len), Some(0));
    let wrong_type = api
        .client
        .request(
            "POST",
            "/v1/social/messages",
            &[("Content-Type", "text/plain")],
            Some("{}"),
        )
        .await;
    assert_eq!(wrong_type.status, 415);
    let bad_cursor = api.client.get("/v1/social/feeds/global?cursor=x").await;
    assert_eq!(
        bad_cursor.json()["code"].as_str(),
        Some("request.invalid_cursor")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_limits_are_shared_through_redis_notifications_are_announced_and_like_state_follows()
{
    let redis = RedisServer::start();
    let store = TestStore::fresh("social_limits").await;
    let limits = |c: &mut nest_api::ApiConfig| {
        c.social_limits.per_new_account = 3;
        c.social_limits.per_account = 100;
    };
    let a = bare_api_on(store.clone(), limits, Some(&redis.url()), None).await;
    let b = bare_api_on(store, limits, Some(&redis.url()), None).await;
    let key = PrivateKeySigner::random();
    let mut hashes = Vec::new();
    for (i, api) in [&a, &b, &a].into_iter().enumerate() {
        let envelope = signed_envelope(
            &domain(),
            &post_body(key.address(), &format!("post {i}")),
            &key,
            None,
        )
        .expect("signed");
        let answer = send(api, &envelope, "en").await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        hashes.push(answer.json()["hash"].as_str().expect("hash").to_string());
    }
    // A young account holding nothing gets 3 writes a minute, counted across instances.
    let envelope = signed_envelope(&domain(), &post_body(key.address(), "post 4"), &key, None)
        .expect("signed");
    let limited = send(&b, &envelope, "en").await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(limited.json()["code"].as_str(), Some("rate_limited"));
    // Both show in the business metrics the moderators' alerts read (the recorder is the
    // process's: other tests may add to the counts, never take from them).
    let metrics = a.admin.get("/metrics").await.body;
    let sample = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} not exported"))
    };
    assert!(sample("nest_social_messages_total{type=\"post\",duplicate=\"false\"}") >= 3.0);
    assert!(sample("nest_social_rate_limited_total{by=\"account\"}") >= 1.0);
    // A liker's like notifies the author: announced on the bus (the live stream reads it).
    let mut notices = a.state.bus().subscribe();
    let liker = PrivateKeySigner::random();
    let like = Body::Like(Like {
        account: liker.address(),
        timestamp: (now_ms() / 1000) as u64,
        target: hashes[0].parse().expect("hash"),
        active: true,
    });
    let answer = send(
        &b,
        &signed_envelope(&domain(), &like, &liker, None).expect("s"),
        "en",
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let author = nest_store::codec::address_key(&key.address());
    let heard = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let n = notices.recv().await.expect("notice");
            if n.kind == "notifications" && n.key == author {
                return n;
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "the notification was announced through Redis"
    );
    // The replay is a no-op answered 200.
    let replay = send(
        &b,
        &signed_envelope(&domain(), &like, &liker, None).expect("s"),
        "en",
    )
    .await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.json()["status"].as_str(), Some("duplicate"));
    let post = a
        .client
        .get(&format!("/v1/social/posts/{}", hashes[0]))
        .await;
    assert_eq!(post.json()["likes"].as_i64(), Some(1));

    // Pages asked with the liker as viewer say which posts it likes, and follow an unlike at
    // once on the other instance (cached there before).
    let liker_key = nest_store::codec::address_key(&liker.address());
    let path = format!("/v1/social/feeds/global?viewer={liker_key}");
    let liked = |page: &serde_json::Value| -> Vec<(String, bool)> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| {
                Some((
                    i["post"]["id"].as_str()?.to_string(),
                    i["post"]["likedByViewer"].as_bool()?,
                ))
            })
            .collect()
    };
    let page = a.client.get(&path).await.json();
    let states = liked(&page);
    assert!(states.len() >= 3, "{page}");
    assert!(
        states.iter().all(|(id, l)| *l == (id == &hashes[0])),
        "{states:?}"
    );
    let anonymous = a.client.get("/v1/social/feeds/global").await.json();
    assert!(
        anonymous["items"][0]["post"].get("likedByViewer").is_none(),
        "no viewer, no like state: {anonymous}"
    );
    let unlike = Body::Like(Like {
        account: liker.address(),
        timestamp: (now_ms() / 1000) as u64 + 1,
        target: hashes[0].parse().expect("hash"),
        active: false,
    });
    let answer = send(
        &b,
        &signed_envelope(&domain(), &unlike, &liker, None).expect("s"),
        "en",
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let states = liked(&a.client.get(&path).await.json());
        if states.iter().all(|(_, l)| !l) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still liked: {states:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
