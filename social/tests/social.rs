//! The social service against the real local store: the signing model, content rules, exact
//! counts under concurrency, pagination under concurrent writes, the woven home feed,
//! notifications and moderation.

#![allow(missing_docs)]

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use nest_social::{
    Body, SocialConfig, SocialDomain, SocialService,
    message::{AppKeyGrant, AppKeyRevoke, Delete, Edit, Hide, Like, Link, Moderate, Post, Profile},
    service::now_ms,
    views::FeedItem,
};
use nest_store::{Sale, SaleKind};
use nest_testkit::TestStore;
use std::collections::HashSet;

const ORIGIN: &str = "http://localhost:8080";

async fn service(label: &str, moderators: Vec<Address>) -> SocialService {
    let store = TestStore::fresh(label).await;
    let mut config = SocialConfig::new(
        31337,
        ORIGIN,
        Address::repeat_byte(0xaa),
        Address::repeat_byte(0xbb),
        Address::repeat_byte(0xcc),
    );
    config.moderators = moderators;
    SocialService::new(store, config, None)
}

fn envelope(domain: &SocialDomain, body: &Body, key: &PrivateKeySigner, app_key: bool) -> Vec<u8> {
    nest_social::message::signed_envelope(domain, body, key, app_key.then(|| key.address()))
        .expect("signed")
}

fn now() -> u64 {
    (now_ms() / 1000) as u64
}

fn post(account: Address, text: &str) -> Body {
    Body::Post(Post {
        account,
        timestamp: now(),
        text: text.into(),
        mentions: vec![],
        embeds: vec![],
        channel: String::new(),
        parent: B256::ZERO,
    })
}

fn reply(account: Address, text: &str, parent: B256) -> Body {
    Body::Post(Post {
        account,
        timestamp: now(),
        text: text.into(),
        mentions: vec![],
        embeds: vec![],
        channel: String::new(),
        parent,
    })
}

fn link(account: Address, kind: &str, target: Address, active: bool) -> Body {
    Body::Link(Link {
        account,
        timestamp: now(),
        kind: kind.into(),
        target,
        active,
    })
}

async fn send(s: &SocialService, body: &Body, key: &PrivateKeySigner) -> B256 {
    s.submit(&envelope(s.domain(), body, key, false), now_ms())
        .await
        .unwrap_or_else(|e| panic!("{} refused: {e}", body.kind()))
        .hash
}

async fn refused(s: &SocialService, body: &Body, key: &PrivateKeySigner) -> &'static str {
    s.submit(&envelope(s.domain(), body, key, false), now_ms())
        .await
        .expect_err("refused")
        .code()
}

#[tokio::test]
async fn signing_model_wallets_app_keys_replays_and_refusals() {
    let s = service("signing", vec![]).await;
    let alice = PrivateKeySigner::random();
    let a = alice.address();
    let first = post(a, "hello nest");
    let bytes = envelope(s.domain(), &first, &alice, false);
    let accepted = s.submit(&bytes, now_ms()).await.expect("accepted");
    assert!(!accepted.duplicate);
    // A replay is a no-op.
    let again = s.submit(&bytes, now_ms()).await.expect("replay");
    assert!(again.duplicate);
    assert_eq!(again.hash, accepted.hash);
    let stored = s.message(&accepted.hash).await.expect("stored");
    assert_eq!(stored.signer_kind, "eoa");
    assert_eq!(stored.message, first.to_json());
    // Served back, it verifies under the served domain.
    let body = Body::parse(&stored.kind, stored.message.clone()).expect("parses");
    assert_eq!(body.signing_hash(s.domain().eip712()), accepted.hash);

    // Signed by someone else, for another chain, for another site, too far ahead in time.
    let mallory = PrivateKeySigner::random();
    assert_eq!(
        refused(&s, &post(a, "forged"), &mallory).await,
        "social.bad_signature"
    );
    let other_chain = SocialDomain::new(1, ORIGIN);
    let err = s
        .submit(
            &envelope(&other_chain, &post(a, "x"), &alice, false),
            now_ms(),
        )
        .await
        .expect_err("chain");
    assert_eq!(err.code(), "social.wrong_chain");
    let other_site = SocialDomain::new(31337, "https://evil.example");
    let err = s
        .submit(
            &envelope(&other_site, &post(a, "x"), &alice, false),
            now_ms(),
        )
        .await
        .expect_err("site");
    assert_eq!(err.code(), "social.wrong_domain");
    let mut future = post(a, "from the future");
    if let Body::Post(p) = &mut future {
        p.timestamp = now() + 11 * 60;
    }
    assert_eq!(
        refused(&s, &future, &alice).await,
        "social.future_timestamp"
    );
    let mut near = post(a, "nine minutes ahead is fine");
    if let Body::Post(p) = &mut near {
        p.timestamp = now() + 9 * 60;
    }
    send(&s, &near, &alice).await;

    // App keys: delegated by the wallet, scoped, expiring, revocable.
    let app = PrivateKeySigner::random();
    let target = accepted.hash;
    let like = |active| {
        Body::Like(Like {
            account: a,
            timestamp: now(),
            target,
            active,
        })
    };
    let with_app = |body: &Body| envelope(s.domain(), body, &app, true);
    let err = s
        .submit(&with_app(&like(true)), now_ms())
        .await
        .expect_err("no grant");
    assert_eq!(err.code(), "social.app_key_unknown");
    let grant = Body::AppKeyGrant(AppKeyGrant {
        account: a,
        timestamp: now(),
        appKey: app.address(),
        scope: "social".into(),
        expiry: now() + 60,
    });
    // The app key cannot delegate itself.
    let err = s
        .submit(&with_app(&grant), now_ms())
        .await
        .expect_err("scope");
    assert_eq!(err.code(), "social.app_key_scope");
    send(&s, &grant, &alice).await;
    let liked = s
        .submit(&with_app(&like(true)), now_ms())
        .await
        .expect("app key like");
    assert_eq!(
        s.message(&liked.hash).await.expect("stored").signer_kind,
        "app_key"
    );
    assert_eq!(s.post(&target).await.expect("post").likes, 1);
    // Expired: checked at the server's time (two minutes later, the delegation ran out).
    let later = now_ms() + 120 * 1000;
    let err = s
        .submit(&with_app(&like(false)), later)
        .await
        .expect_err("expired");
    assert_eq!(err.code(), "social.app_key_expired");
    let revoke = Body::AppKeyRevoke(AppKeyRevoke {
        account: a,
        timestamp: now(),
        appKey: app.address(),
    });
    send(&s, &revoke, &alice).await;
    let err = s
        .submit(&with_app(&like(false)), now_ms())
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), "social.app_key_revoked");
    assert_eq!(
        s.post(&target).await.expect("post").likes,
        1,
        "nothing changed"
    );
}

#[tokio::test]
async fn content_rules_profiles_edits_deletes_hides_blocks() {
    let s = service("content", vec![]).await;
    let (alice, bob) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let (a, b) = (alice.address(), bob.address());
    let profile = |account, handle: &str, bio: &str| {
        Body::Profile(Profile {
            account,
            timestamp: now(),
            handle: handle.into(),
            displayName: "Alice".into(),
            bio: bio.into(),
            avatarContract: Address::ZERO,
            avatarTokenId: U256::ZERO,
        })
    };
    send(&s, &profile(a, "Alice_1", "hi"), &alice).await;
    assert_eq!(s.by_handle("alice_1").await.expect("handle"), a);
    assert_eq!(
        refused(&s, &profile(b, "ALICE_1", ""), &bob).await,
        "social.handle_taken"
    );
    assert_eq!(
        refused(&s, &profile(b, "admin", ""), &bob).await,
        "social.reserved_handle"
    );
    assert_eq!(
        refused(&s, &profile(b, "x", ""), &bob).await,
        "social.bad_handle"
    );
    assert_eq!(
        refused(&s, &profile(b, "bob", &"b".repeat(257)), &bob).await,
        "social.too_long"
    );
    assert_eq!(
        refused(&s, &profile(a, "alice_2", ""), &alice).await,
        "social.handle_cooldown"
    );
    let mut avatar = profile(b, "bob", "");
    if let Body::Profile(p) = &mut avatar {
        p.avatarContract = Address::repeat_byte(9);
        p.avatarTokenId = U256::from(1);
    }
    assert_eq!(refused(&s, &avatar, &bob).await, "social.unknown_target");

    // Posts: size, NFC, mentions, embeds, links.
    assert_eq!(
        refused(&s, &post(a, &"x".repeat(1025)), &alice).await,
        "social.too_long"
    );
    assert_eq!(
        refused(&s, &post(a, "cafe\u{301}"), &alice).await,
        "social.not_nfc"
    );
    let mut embeds = post(a, "look");
    if let Body::Post(p) = &mut embeds {
        p.embeds = vec!["listing:1".into()];
    }
    assert_eq!(refused(&s, &embeds, &alice).await, "social.unknown_target");
    assert_eq!(
        refused(
            &s,
            &post(
                a,
                "https://a.io https://b.io https://c.io https://d.io https://e.io"
            ),
            &alice
        )
        .await,
        "social.too_many_links"
    );
    let root = send(&s, &post(a, "root post"), &alice).await;
    assert_eq!(
        refused(&s, &post(a, "Root   POST"), &alice).await,
        "social.duplicate_text"
    );
    let r1 = send(&s, &reply(b, "first reply", root), &bob).await;
    let r2 = send(&s, &reply(a, "reply to the reply", r1), &alice).await;
    let thread = s
        .thread(&root, None, false, None, 50)
        .await
        .expect("thread");
    assert_eq!(thread.root.replies, 2);
    assert_eq!(thread.replies.len(), 2);
    assert_eq!(
        thread.replies[1].parent.as_deref(),
        Some(format!("{r1:#x}").as_str())
    );
    assert_eq!(thread.replies[1].depth, 2);
    let _ = r2;

    // Edits: the author only, within 15 minutes, history kept.
    let edit = |account, target, text: &str| {
        Body::Edit(Edit {
            account,
            timestamp: now(),
            target,
            text: text.into(),
            mentions: vec![],
        })
    };
    assert_eq!(
        refused(&s, &edit(b, root, "mine now"), &bob).await,
        "social.not_author"
    );
    send(&s, &edit(a, root, "root post, edited"), &alice).await;
    let edited = s.post(&root).await.expect("post");
    assert_eq!(edited.text, "root post, edited");
    assert_eq!(edited.revisions, 1);
    let late = s
        .submit(
            &envelope(s.domain(), &edit(a, root, "too late"), &alice, false),
            now_ms(),
        )
        .await;
    assert!(late.is_ok(), "still inside the window");
    // Sixteen minutes later the window is closed (the message is signed then).
    let mut closed = edit(a, root, "way too late");
    if let Body::Edit(e) = &mut closed {
        e.timestamp = now() + 16 * 60;
    }
    let err = s
        .submit(
            &envelope(s.domain(), &closed, &alice, false),
            now_ms() + 16 * 60 * 1000,
        )
        .await
        .expect_err("closed");
    assert_eq!(err.code(), "social.edit_window_closed");

    // Hide: only the root's author.
    let hide = |account, target| {
        Body::Hide(Hide {
            account,
            timestamp: now(),
            target,
            hidden: true,
        })
    };
    assert_eq!(
        refused(&s, &hide(b, r1), &bob).await,
        "social.not_root_author"
    );
    send(&s, &hide(a, r1), &alice).await;
    let thread = s
        .thread(&root, None, false, None, 50)
        .await
        .expect("thread");
    assert_eq!(thread.replies.len(), 1, "the hidden reply is left out");
    assert_eq!(
        s.thread(&root, None, true, None, 50)
            .await
            .expect("t")
            .replies
            .len(),
        2
    );

    // Delete: a tombstone keeps the thread.
    send(
        &s,
        &Body::Delete(Delete {
            account: b,
            timestamp: now(),
            target: r1,
        }),
        &bob,
    )
    .await;
    let tomb = s.post(&r1).await.expect("tombstone");
    assert!(tomb.deleted);
    assert!(tomb.text.is_empty());
    assert_eq!(
        refused(&s, &reply(b, "reply to a deleted post", r1), &bob).await,
        "social.deleted"
    );

    // Blocks: a blocked account can neither reply nor mention.
    send(&s, &link(a, "block", b, true), &alice).await;
    assert_eq!(
        refused(&s, &reply(b, "let me in", root), &bob).await,
        "social.blocked"
    );
    let mut mention = post(b, "hey @alice");
    if let Body::Post(p) = &mut mention {
        p.mentions = vec![nest_social::message::Mention {
            account: a,
            start: 4,
            end: 10,
        }];
    }
    assert_eq!(refused(&s, &mention, &bob).await, "social.blocked");
    assert_eq!(
        refused(&s, &link(a, "follow", a, true), &alice).await,
        "social.self_link"
    );
}

#[tokio::test]
async fn counts_stay_exact_under_concurrent_and_duplicate_likes() {
    let s = service("likes", vec![]).await;
    let author = PrivateKeySigner::random();
    let target = send(&s, &post(author.address(), "like me"), &author).await;
    let likers: Vec<PrivateKeySigner> = (0..200).map(|_| PrivateKeySigner::random()).collect();
    let mut messages: Vec<Vec<u8>> = likers
        .iter()
        .map(|k| {
            let like = Body::Like(Like {
                account: k.address(),
                timestamp: now(),
                target,
                active: true,
            });
            envelope(s.domain(), &like, k, false)
        })
        .collect();
    // 25 exact replays and 25 new messages (other timestamps) liking again.
    messages.extend(messages[..25].to_vec());
    for k in &likers[25..50] {
        let like = Body::Like(Like {
            account: k.address(),
            timestamp: now() - 1,
            target,
            active: true,
        });
        messages.push(envelope(s.domain(), &like, k, false));
    }
    assert_eq!(messages.len(), 250);
    let tasks: Vec<_> = messages
        .into_iter()
        .map(|m| {
            let s = s.clone();
            tokio::spawn(async move { s.submit(&m, now_ms()).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("accepted");
    }
    assert_eq!(s.post(&target).await.expect("post").likes, 200);
    assert_eq!(
        s.repo()
            .count_likes(&format!("{target:#x}"))
            .await
            .expect("count"),
        200
    );
}

#[tokio::test]
async fn pages_stay_exact_while_posts_arrive() {
    let s = service("paging", vec![]).await;
    let keys: Vec<PrivateKeySigner> = (0..4).map(|_| PrivateKeySigner::random()).collect();
    let mut before = HashSet::new();
    for i in 0..60 {
        let k = &keys[i % 4];
        before.insert(send(&s, &post(k.address(), &format!("post {i}")), k).await);
    }
    let writer = {
        let (s, k) = (s.clone(), keys[0].clone());
        tokio::spawn(async move {
            for i in 0..40 {
                send(&s, &post(k.address(), &format!("late {i}")), &k).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = s
            .posts(nest_store::PostFilter::Global, None, cursor.as_deref(), 7)
            .await
            .expect("page");
        for item in page.items {
            if let FeedItem::Post { post } = item {
                seen.push(post.id);
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no post repeated");
    for id in before {
        assert!(unique.contains(&format!("{id:#x}")), "no post skipped");
    }
}

#[tokio::test]
async fn home_feed_weaves_posts_wide_accounts_and_a_followed_sale() {
    let mut s = service("home", vec![]).await;
    let (me, friend, star) = (
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
        PrivateKeySigner::random(),
    );
    send(
        &s,
        &link(me.address(), "follow", friend.address(), true),
        &me,
    )
    .await;
    send(&s, &link(me.address(), "follow", star.address(), true), &me).await;
    let notes = s
        .notifications(&friend.address(), None, 10)
        .await
        .expect("n");
    assert_eq!(notes.unread, 1);
    assert_eq!(notes.items[0].kind, "follow");
    let p1 = send(&s, &post(friend.address(), "friend post"), &friend).await;
    // The star is wide (fan-out limit 1): read-time merge.
    let mut config = s.config().clone();
    config.fanout_limit = 1;
    s = SocialService::new(s.store_handle().clone(), config, None);
    let p2 = send(&s, &post(star.address(), "star post"), &star).await;
    // The friend sells an NFT on chain: the indexer's sale projection and its notice.
    let sale = Sale {
        id: "31337:0xabc:7".into(),
        chain_id: 31337,
        kind: SaleKind::Listing,
        ref_id: U256::from(1),
        nft: Address::repeat_byte(5),
        token_id: U256::from(7),
        seller: friend.address(),
        buyer: Address::repeat_byte(6),
        payment_token: Address::ZERO,
        price: U256::from(10u64.pow(18)),
        fee: U256::ZERO,
        royalty_receiver: Address::ZERO,
        royalty: U256::ZERO,
        block_number: 10,
        timestamp: now() as i64,
        tx_hash: B256::repeat_byte(1),
    };
    s.store_handle()
        .sales()
        .record(&sale, None)
        .await
        .expect("sale");
    let touched = s.ingest("sales", &sale.id, now_ms()).await.expect("ingest");
    assert!(touched.iter().any(|t| t.0 == "notifications"));
    assert!(
        s.ingest("sales", &sale.id, now_ms())
            .await
            .expect("again")
            .is_empty()
    );
    let home = s.home(&me.address(), None, 20).await.expect("home");
    let kinds: Vec<String> = home
        .items
        .iter()
        .map(|i| match i {
            FeedItem::Post { post } => post.id.clone(),
            FeedItem::Activity { activity } => {
                format!("{}:{}", activity.kind, activity.actor.address)
            }
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            format!("sold:{}", nest_store::codec::address_key(&friend.address())),
            format!("{p2:#x}"),
            format!("{p1:#x}"),
        ]
    );
    let sold = s
        .notifications(&friend.address(), None, 10)
        .await
        .expect("n");
    assert_eq!(sold.items[0].kind, "listing_sold");
    assert_eq!(sold.unread, 2);
    s.mark_read(&friend.address(), None).await.expect("read");
    assert_eq!(
        s.notifications(&friend.address(), None, 10)
            .await
            .expect("n")
            .unread,
        0
    );
    // Keyword mutes and mutes apply when reading.
    let mute_word = Body::KeywordMute(nest_social::message::KeywordMute {
        account: me.address(),
        timestamp: now(),
        keyword: "STAR".into(),
        active: true,
    });
    send(&s, &mute_word, &me).await;
    let home = s.home(&me.address(), None, 20).await.expect("home");
    assert_eq!(home.items.len(), 2, "the star post is muted by keyword");
    send(&s, &link(me.address(), "mute", friend.address(), true), &me).await;
    let home = s.home(&me.address(), None, 20).await.expect("home");
    assert!(
        home.items.is_empty(),
        "the friend's post and sale are muted"
    );
    send(
        &s,
        &link(me.address(), "mute", friend.address(), false),
        &me,
    )
    .await;
    let unmute_word = Body::KeywordMute(nest_social::message::KeywordMute {
        account: me.address(),
        timestamp: now(),
        keyword: "star".into(),
        active: false,
    });
    send(&s, &unmute_word, &me).await;
    assert_eq!(
        s.home(&me.address(), None, 20)
            .await
            .expect("home")
            .items
            .len(),
        3
    );
    // Unfollowing removes the friend's posts and activity.
    send(
        &s,
        &link(me.address(), "follow", friend.address(), false),
        &me,
    )
    .await;
    let home = s.home(&me.address(), None, 20).await.expect("home");
    assert_eq!(home.items.len(), 1);
}

#[tokio::test]
async fn moderators_take_down_and_ban_with_an_audit_log() {
    let moderator = PrivateKeySigner::random();
    let s = service("moderation", vec![moderator.address()]).await;
    let user = PrivateKeySigner::random();
    let spam = send(&s, &post(user.address(), "buy my stuff"), &user).await;
    let moderate = |account, action: &str, target: String| {
        Body::Moderate(Moderate {
            account,
            timestamp: now(),
            action: action.into(),
            target,
            reason: "spam".into(),
        })
    };
    assert_eq!(
        refused(
            &s,
            &moderate(user.address(), "takedown", format!("{spam:#x}")),
            &user
        )
        .await,
        "social.not_moderator"
    );
    send(
        &s,
        &moderate(moderator.address(), "takedown", format!("{spam:#x}")),
        &moderator,
    )
    .await;
    assert!(s.post(&spam).await.expect("post").taken_down);
    let global = s
        .posts(nest_store::PostFilter::Global, None, None, 20)
        .await
        .expect("global");
    assert!(global.items.is_empty());
    send(
        &s,
        &moderate(moderator.address(), "ban", format!("{:#x}", user.address())),
        &moderator,
    )
    .await;
    assert_eq!(
        refused(&s, &post(user.address(), "again"), &user).await,
        "social.banned"
    );
    let report = Body::Report(nest_social::message::Report {
        account: moderator.address(),
        timestamp: now(),
        target: format!("{spam:#x}"),
        reason: "spam again".into(),
    });
    send(&s, &report, &moderator).await;
    let (reports, _) = s.reports(None, 10).await.expect("reports");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].target, format!("{spam:#x}"));
    let (log, _) = s.moderation_log(None, 10).await.expect("log");
    assert_eq!(
        log.iter().map(|l| l.action.as_str()).collect::<Vec<_>>(),
        vec!["ban", "takedown"]
    );
}

#[tokio::test]
async fn contract_wallets_sign_through_eip1271() {
    use nest_abis::test_contracts::ERC1271Wallet;
    use nest_chain::{AnvilNode, AnvilOptions, http_provider};
    let layout = nest_testkit::layout();
    let node = AnvilNode::spawn(&layout.anvil_binary(), &AnvilOptions::default()).expect("anvil");
    let deployer = node.keys()[0].clone();
    let provider = http_provider(&node.endpoint(), Some(deployer)).expect("provider");
    let owner = PrivateKeySigner::random();
    let wallet = ERC1271Wallet::deploy(provider.clone(), owner.address())
        .await
        .expect("deploy");
    let store = TestStore::fresh("eip1271").await;
    let config = SocialConfig::new(
        31337,
        ORIGIN,
        Address::repeat_byte(0xaa),
        Address::repeat_byte(0xbb),
        Address::repeat_byte(0xcc),
    );
    let s = SocialService::new(store.clone(), config.clone(), Some(provider));
    // The owner key signs for the wallet: not the wallet's own key, so the contract decides.
    let accepted = s
        .submit(
            &envelope(
                s.domain(),
                &post(*wallet.address(), "posted by a contract wallet"),
                &owner,
                false,
            ),
            now_ms(),
        )
        .await
        .expect("accepted by the contract");
    assert_eq!(
        s.message(&accepted.hash).await.expect("m").signer_kind,
        "contract"
    );
    let stranger = PrivateKeySigner::random();
    let err = s
        .submit(
            &envelope(
                s.domain(),
                &post(*wallet.address(), "not the owner"),
                &stranger,
                false,
            ),
            now_ms(),
        )
        .await
        .expect_err("refused by the contract");
    assert_eq!(err.code(), "social.bad_signature");
    // Without a chain connection a contract wallet cannot be checked: refused, not stored.
    let offline = SocialService::new(store, config, None);
    let err = offline
        .submit(
            &envelope(
                s.domain(),
                &post(*wallet.address(), "offline"),
                &owner,
                false,
            ),
            now_ms(),
        )
        .await
        .expect_err("no chain");
    assert_eq!(err.code(), "social.bad_signature");
}

#[tokio::test]
async fn the_dev_seed_brings_the_feeds_alive_once() {
    let s = service("seed", vec![]).await;
    let keys: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let seeded = nest_social::seed::seed_demo(&s, &keys, None)
        .await
        .expect("seed");
    assert_eq!((seeded.profiles, seeded.posts, seeded.likes), (3, 3, 2));
    let global = s
        .posts(nest_store::PostFilter::Global, None, None, 20)
        .await
        .expect("global");
    assert_eq!(global.items.len(), 1);
    let home = s.home(&keys[2].address(), None, 20).await.expect("home");
    assert_eq!(home.items.len(), 1);
    let again = nest_social::seed::seed_demo(&s, &keys, None)
        .await
        .expect("again");
    assert_eq!(again, Default::default());
}

#[tokio::test]
async fn outbids_channels_and_trending() {
    use nest_store::{Auction, AuctionStatus, Bid};
    let s = service("outbid", vec![]).await;
    let (first, second) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let auction = Auction {
        id: "31337:0xaa:1".into(),
        chain_id: 31337,
        marketplace: Address::repeat_byte(0xaa),
        auction_id: U256::from(1),
        seller: Address::repeat_byte(3),
        nft: Address::repeat_byte(5),
        token_id: U256::from(2),
        payment_token: Address::ZERO,
        reserve_price: U256::from(1),
        start_time: 0,
        end_time: i64::MAX,
        highest_bidder: Some(second.address()),
        highest_bid: U256::from(20),
        bid_count: 2,
        status: AuctionStatus::Live,
        winner: None,
        created_block: 1,
        updated_block: 3,
    };
    let store = s.store_handle();
    store
        .auctions()
        .upsert(&auction, None)
        .await
        .expect("auction");
    for (n, (bidder, amount)) in [(first.address(), 10u64), (second.address(), 20)]
        .into_iter()
        .enumerate()
    {
        let bid = Bid {
            id: format!("bid{n}"),
            chain_id: 31337,
            auction: auction.id.clone(),
            bidder,
            amount: U256::from(amount),
            block_number: 2 + n as i64,
            log_index: 0,
            tx_hash: B256::repeat_byte(n as u8),
        };
        store.auctions().record_bid(&bid, None).await.expect("bid");
    }
    s.ingest("bids", "bid0", now_ms()).await.expect("first bid");
    s.ingest("bids", "bid1", now_ms())
        .await
        .expect("second bid");
    let inbox = s
        .notifications(&first.address(), None, 10)
        .await
        .expect("n");
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].kind, "outbid");
    assert_eq!(inbox.items[0].detail.as_deref(), Some("20"));
    assert!(
        s.notifications(&second.address(), None, 10)
            .await
            .expect("n")
            .items
            .is_empty()
    );

    // Channels, and trending by likes and replies.
    let mut in_art = post(first.address(), "art talk");
    if let Body::Post(p) = &mut in_art {
        p.channel = "art".into();
    }
    let art = send(&s, &in_art, &first).await;
    let quiet = send(&s, &post(second.address(), "quiet post"), &second).await;
    let channel = s
        .posts(
            nest_store::PostFilter::Channel("art".into()),
            None,
            None,
            10,
        )
        .await
        .expect("channel");
    assert_eq!(channel.items.len(), 1);
    send(&s, &reply(second.address(), "nice", art), &second).await;
    let like = Body::Like(Like {
        account: second.address(),
        timestamp: now(),
        target: quiet,
        active: true,
    });
    send(&s, &like, &second).await;
    let trending = s.trending(now_ms(), 10).await.expect("trending");
    let ids: Vec<String> = trending
        .items
        .iter()
        .filter_map(|i| match i {
            FeedItem::Post { post } => Some(post.id.clone()),
            FeedItem::Activity { .. } => None,
        })
        .collect();
    assert_eq!(
        ids,
        vec![format!("{art:#x}"), format!("{quiet:#x}")],
        "a reply weighs two likes"
    );
}
