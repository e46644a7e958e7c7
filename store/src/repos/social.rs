//! The social layer's persistence (written by `nest-social`): signed messages as received,
//! posts and their counters, likes, links (follows, mutes, blocks), profiles and handles,
//! keyword mutes, per-account timelines (write fan-out), on-chain activity, notifications,
//! app keys, reports, moderation log and bans.
//!
//! Every page is a keyset page on a `key` string: the receipt time in milliseconds (13 digits)
//! then the message hash, so keys are unique, sort by time, and a cursor is simply the last
//! key served (`$lt` it for the next page): items written while a client pages never shift
//! the pages it has yet to read.
//!
//! Shard keys (documented per collection): `social_messages`, `social_posts` `{ _id: "hashed" }`
//! (looked up by hash); `social_timelines`, `social_notifications` `{ owner: 1, key: 1 }`;
//! `social_activity` `{ actor: 1, key: 1 }`; `social_likes` `{ target: 1 }`; `social_links`
//! `{ account: 1 }`; the small rest `{ _id: "hashed" }`.

use super::{collect, create_indexes, index};
use crate::{codec, error::Result};
use alloy::primitives::Address;
use bson::{Document, doc};
use mongodb::{Collection, Database, options::InsertManyOptions};
use serde::{Deserialize, Serialize};

/// A signed social message exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialMessage {
    /// The EIP-712 signing hash (0x hex): the message's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Message type (`post`, `like`, `follow`, ...).
    pub kind: String,
    /// The account it acts for.
    #[serde(with = "codec::address")]
    pub account: Address,
    /// Who signed: the account itself or its app key.
    #[serde(with = "codec::address")]
    pub signer: Address,
    /// `eoa`, `contract` (EIP-1271) or `app_key`.
    pub signer_kind: String,
    /// The signed message as the client sent it (JSON text).
    pub message: String,
    /// The signature (0x hex).
    pub signature: String,
    /// The message's own timestamp, seconds.
    pub timestamp: i64,
    /// Receipt time, milliseconds.
    pub received_ms: i64,
}

/// A mention inside a post: a byte range of the text and the account it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialMention {
    /// The mentioned account.
    #[serde(with = "codec::address")]
    pub account: Address,
    /// Byte offset of the mention in the text.
    pub start: i32,
    /// Byte offset just after it.
    pub end: i32,
}

/// A previous version of an edited post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostRevision {
    /// The text before the edit.
    pub text: String,
    /// Its mentions.
    pub mentions: Vec<SocialMention>,
    /// The message that had set this text.
    pub message: String,
    /// When it was replaced, seconds.
    pub replaced_at: i64,
}

/// A new version of a post's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostEdit {
    /// The new text.
    pub text: String,
    /// Its mentions.
    pub mentions: Vec<SocialMention>,
    /// Its duplicate-detection fingerprint.
    pub fingerprint: String,
    /// The edit message.
    pub message: String,
    /// When, seconds.
    pub at: i64,
}

/// A post or comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialPost {
    /// The hash of the creating message.
    #[serde(rename = "_id")]
    pub id: String,
    /// Sort key (receipt ms + hash).
    pub key: String,
    /// Author.
    #[serde(with = "codec::address")]
    pub author: Address,
    /// NFC text (empty once deleted).
    pub text: String,
    /// Mentions.
    pub mentions: Vec<SocialMention>,
    /// Embeds (`nft:…`, `listing:…`, `auction:…`, `proposal:…` or an http(s) URL).
    pub embeds: Vec<String>,
    /// Channel (`art`, `collection:0x…`, `nft:0x…:1`, `proposal:…`).
    pub channel: Option<String>,
    /// The replied-to post (comments only).
    pub parent: Option<String>,
    /// The thread's root post (comments only).
    pub root: Option<String>,
    /// True for comments (indexed for the top-level feeds).
    pub reply: bool,
    /// Depth in the thread (0 for posts).
    pub depth: i32,
    /// The message's timestamp, seconds.
    pub created_at: i64,
    /// Likes.
    pub likes: i64,
    /// Direct and indirect replies (for a root) or direct replies (for a comment).
    pub replies: i64,
    /// Latest edit, seconds.
    pub edited_at: Option<i64>,
    /// Earlier versions, oldest first.
    pub history: Vec<PostRevision>,
    /// The message that set the current text.
    pub message: String,
    /// Tombstone: deleted by its author (text removed, thread kept).
    pub deleted: bool,
    /// Hidden by the thread root's author.
    pub hidden: bool,
    /// Taken down by a moderator.
    pub taken_down: bool,
    /// Hash of the normalised text (duplicate detection).
    pub fingerprint: String,
}

/// A follow, mute or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// `account` follows `target`.
    Follow,
    /// `account` does not want to see `target`.
    Mute,
    /// `target` may not reply to or mention `account`.
    Block,
}

impl LinkKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Follow => "follow",
            Self::Mute => "mute",
            Self::Block => "block",
        }
    }
}

/// A profile with its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SocialProfile {
    /// Lowercase address.
    #[serde(rename = "_id")]
    pub id: String,
    /// Handle as chosen (unique case-insensitively).
    pub handle: Option<String>,
    /// When the handle last changed, seconds.
    pub handle_changed_at: Option<i64>,
    /// Display name.
    pub display_name: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Avatar NFT contract.
    pub avatar_contract: Option<String>,
    /// Avatar token id (decimal).
    pub avatar_token_id: Option<String>,
    /// First accepted message, milliseconds.
    pub first_seen_ms: i64,
    /// Followers.
    pub followers: i64,
    /// Accounts followed.
    pub following: i64,
    /// Top-level posts.
    pub posts: i64,
    /// The latest profile message.
    pub message: Option<String>,
}

/// An entry of a home timeline (write fan-out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// `{owner}:{key}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Whose timeline.
    pub owner: String,
    /// The post's key.
    pub key: String,
    /// The post.
    pub post: String,
    /// Its author.
    pub author: String,
}

/// Something an account did on chain (from the indexer's projections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityItem {
    /// `{kind}:{source id}:{actor}`: recording twice is a no-op.
    #[serde(rename = "_id")]
    pub id: String,
    /// Sort key (block time ms + id).
    pub key: String,
    /// Who did it (lowercase address).
    pub actor: String,
    /// `sold`, `bought`, `listed`, `bid`, `offered`, `voted`.
    pub kind: String,
    /// The projection document (`sales`, `listings`, ... id).
    pub source: String,
    /// NFT contract, when about an NFT.
    pub nft: Option<String>,
    /// Token id (decimal), when about an NFT.
    pub token_id: Option<String>,
    /// Amount (decimal wei), when there is one.
    pub amount: Option<String>,
    /// Payment token, when there is an amount.
    pub payment_token: Option<String>,
    /// Proposal id (decimal), for votes.
    pub proposal: Option<String>,
    /// Vote support (0 against, 1 for, 2 abstain).
    pub support: Option<i32>,
    /// Time, seconds.
    pub at: i64,
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialNotification {
    /// Deterministic id: the same event never notifies twice.
    #[serde(rename = "_id")]
    pub id: String,
    /// Recipient (lowercase address).
    pub owner: String,
    /// Sort key.
    pub key: String,
    /// `mention`, `reply`, `like`, `follow`, `outbid`, `listing_sold`, `offer_received`,
    /// `proposal_outcome`.
    pub kind: String,
    /// Who caused it, when an account did.
    pub actor: Option<String>,
    /// The post, or the projection document, it is about.
    pub target: Option<String>,
    /// Extra detail (a proposal's new state).
    pub detail: Option<String>,
    /// Time, seconds.
    pub at: i64,
    /// Read by the owner.
    pub read: bool,
}

/// An app key an account delegated social writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKey {
    /// `{account}:{key}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The delegating account.
    pub account: String,
    /// The app key address.
    pub key: String,
    /// Message types it may sign.
    pub scope: Vec<String>,
    /// Expiry, seconds.
    pub expiry: i64,
    /// Revocation time, seconds.
    pub revoked_at: Option<i64>,
    /// The delegation message.
    pub grant: String,
}

/// A user's report of a post or account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialReport {
    /// The report message's hash.
    #[serde(rename = "_id")]
    pub id: String,
    /// Sort key.
    pub key: String,
    /// Reporter.
    pub reporter: String,
    /// Reported post (hash) or account (address).
    pub target: String,
    /// Reason given.
    pub reason: String,
    /// Time, seconds.
    pub at: i64,
}

/// One moderation action (the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationAction {
    /// The moderation message's hash.
    #[serde(rename = "_id")]
    pub id: String,
    /// Sort key.
    pub key: String,
    /// The moderator.
    pub moderator: String,
    /// `takedown`, `restore`, `ban`, `unban`.
    pub action: String,
    /// The post (hash) or account (address) acted on.
    pub target: String,
    /// Reason given.
    pub reason: String,
    /// Time, seconds.
    pub at: i64,
}

const MESSAGES: &str = "social_messages";
const POSTS: &str = "social_posts";
const LIKES: &str = "social_likes";
const LINKS: &str = "social_links";
const PROFILES: &str = "social_profiles";
const HANDLES: &str = "social_handles";
const KEYWORD_MUTES: &str = "social_keyword_mutes";
const TIMELINES: &str = "social_timelines";
const ACTIVITY: &str = "social_activity";
const NOTIFICATIONS: &str = "social_notifications";
const APP_KEYS: &str = "social_app_keys";
const REPORTS: &str = "social_reports";
const MODERATION: &str = "social_moderation";
const BANS: &str = "social_bans";

/// The social collections.
#[derive(Debug, Clone)]
pub struct SocialRepository {
    messages: Collection<SocialMessage>,
    posts: Collection<SocialPost>,
    likes: Collection<Document>,
    links: Collection<Document>,
    profiles: Collection<SocialProfile>,
    handles: Collection<Document>,
    keyword_mutes: Collection<Document>,
    timelines: Collection<TimelineEntry>,
    activity: Collection<ActivityItem>,
    notifications: Collection<SocialNotification>,
    app_keys: Collection<AppKey>,
    reports: Collection<SocialReport>,
    moderation: Collection<ModerationAction>,
    bans: Collection<Document>,
}

/// Which posts a post page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostFilter {
    /// Every top-level post.
    Global,
    /// Top-level posts of a channel.
    Channel(String),
    /// Top-level posts of one author.
    Author(Address),
    /// Top-level posts of any of these authors (read-time merge of wide accounts).
    Authors(Vec<Address>),
    /// Every comment of a thread.
    Thread(String),
}

fn key_before(filter: Document, before: Option<&str>) -> Document {
    match before {
        Some(cursor) => {
            let mut f = filter;
            f.insert("key", doc! { "$lt": cursor });
            f
        }
        None => filter,
    }
}

/// The documents matching `filter` with keys strictly below `cursor`, newest first.
async fn newest_first<T>(
    collection: &Collection<T>,
    filter: Document,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<T>>
where
    T: serde::de::DeserializeOwned + Send + Sync + Unpin,
{
    collect(
        collection
            .find(key_before(filter, cursor))
            .sort(doc! { "key": -1 })
            .limit(limit)
            .await?,
    )
    .await
}

fn addresses(list: &[Address]) -> Vec<String> {
    list.iter().map(codec::address_key).collect()
}

/// Inserts `docs`, skipping the ones already there (unique `_id`).
async fn insert_new<T: Serialize + Send + Sync>(
    collection: &Collection<T>,
    docs: &[T],
) -> Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let outcome = collection
        .insert_many(docs)
        .with_options(InsertManyOptions::builder().ordered(false).build())
        .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Inserts one document; `false` when its `_id` exists already.
async fn insert_one_new<T: Serialize + Send + Sync>(
    collection: &Collection<T>,
    value: &T,
) -> Result<bool> {
    match collection.insert_one(value).await {
        Ok(_) => Ok(true),
        Err(e) if crate::error::is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl SocialRepository {
    pub(crate) fn new(db: &Database) -> Self {
        Self {
            messages: db.collection(MESSAGES),
            posts: db.collection(POSTS),
            likes: db.collection(LIKES),
            links: db.collection(LINKS),
            profiles: db.collection(PROFILES),
            handles: db.collection(HANDLES),
            keyword_mutes: db.collection(KEYWORD_MUTES),
            timelines: db.collection(TIMELINES),
            activity: db.collection(ACTIVITY),
            notifications: db.collection(NOTIFICATIONS),
            app_keys: db.collection(APP_KEYS),
            reports: db.collection(REPORTS),
            moderation: db.collection(MODERATION),
            bans: db.collection(BANS),
        }
    }

    pub(crate) async fn ensure_indexes(&self) -> Result<()> {
        create_indexes(
            &self.messages,
            vec![index(
                "by_account",
                doc! { "account": 1, "receivedMs": -1 },
                false,
            )],
        )
        .await?;
        create_indexes(
            &self.posts,
            vec![
                index("feed", doc! { "reply": 1, "key": -1 }, false),
                index(
                    "by_author",
                    doc! { "author": 1, "reply": 1, "key": -1 },
                    false,
                ),
                index(
                    "by_channel",
                    doc! { "channel": 1, "reply": 1, "key": -1 },
                    false,
                ),
                index("by_root", doc! { "root": 1, "key": 1 }, false),
                index(
                    "duplicates",
                    doc! { "author": 1, "fingerprint": 1, "createdAt": -1 },
                    false,
                ),
                index(
                    "recent_replies",
                    doc! { "reply": 1, "createdAt": -1 },
                    false,
                ),
            ],
        )
        .await?;
        create_indexes(
            &self.likes,
            vec![
                index("by_target", doc! { "target": 1 }, false),
                index("recent", doc! { "at": -1 }, false),
            ],
        )
        .await?;
        create_indexes(
            &self.links,
            vec![
                index(
                    "by_account",
                    doc! { "kind": 1, "account": 1, "key": -1 },
                    false,
                ),
                index(
                    "by_target",
                    doc! { "kind": 1, "target": 1, "key": -1 },
                    false,
                ),
            ],
        )
        .await?;
        create_indexes(
            &self.profiles,
            vec![index("by_followers", doc! { "followers": -1 }, false)],
        )
        .await?;
        create_indexes(
            &self.keyword_mutes,
            vec![index("by_account", doc! { "account": 1 }, false)],
        )
        .await?;
        create_indexes(
            &self.timelines,
            vec![
                index("page", doc! { "owner": 1, "key": -1 }, false),
                index("by_author", doc! { "owner": 1, "author": 1 }, false),
            ],
        )
        .await?;
        create_indexes(
            &self.activity,
            vec![index("page", doc! { "actor": 1, "key": -1 }, false)],
        )
        .await?;
        create_indexes(
            &self.notifications,
            vec![
                index("page", doc! { "owner": 1, "key": -1 }, false),
                index("unread", doc! { "owner": 1, "read": 1 }, false),
            ],
        )
        .await?;
        create_indexes(
            &self.app_keys,
            vec![index("by_account", doc! { "account": 1 }, false)],
        )
        .await?;
        create_indexes(
            &self.reports,
            vec![index("page", doc! { "key": -1 }, false)],
        )
        .await?;
        create_indexes(
            &self.moderation,
            vec![index("page", doc! { "key": -1 }, false)],
        )
        .await
    }

    // ---- messages ----

    /// Stores a message; `false` when a message with this hash is stored already.
    pub async fn insert_message(&self, message: &SocialMessage) -> Result<bool> {
        insert_one_new(&self.messages, message).await
    }

    /// The message with hash `id`.
    pub async fn message(&self, id: &str) -> Result<Option<SocialMessage>> {
        Ok(self.messages.find_one(doc! { "_id": id }).await?)
    }

    /// Removes a message (undoing a write whose effects could not be applied).
    pub async fn delete_message(&self, id: &str) -> Result<()> {
        self.messages.delete_one(doc! { "_id": id }).await?;
        Ok(())
    }

    // ---- posts ----

    /// Stores a new post; `false` when it exists.
    pub async fn insert_post(&self, post: &SocialPost) -> Result<bool> {
        insert_one_new(&self.posts, post).await
    }

    /// The post `id`.
    pub async fn post(&self, id: &str) -> Result<Option<SocialPost>> {
        Ok(self.posts.find_one(doc! { "_id": id }).await?)
    }

    /// The posts with these ids (any order).
    pub async fn posts_by_id(&self, ids: &[String]) -> Result<Vec<SocialPost>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        collect(self.posts.find(doc! { "_id": { "$in": ids } }).await?).await
    }

    /// A page of posts, newest first (a thread: oldest first), strictly after `cursor`.
    pub async fn post_page(
        &self,
        filter: &PostFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SocialPost>> {
        let (query, order) = match filter {
            PostFilter::Global => (doc! { "reply": false }, -1),
            PostFilter::Channel(c) => (doc! { "channel": c, "reply": false }, -1),
            PostFilter::Author(a) => (doc! { "author": codec::address_key(a), "reply": false }, -1),
            PostFilter::Authors(list) => (
                doc! { "author": { "$in": addresses(list) }, "reply": false },
                -1,
            ),
            PostFilter::Thread(root) => (doc! { "root": root }, 1),
        };
        let query = match (cursor, order) {
            (Some(c), 1) => {
                let mut q = query;
                q.insert("key", doc! { "$gt": c });
                q
            }
            _ => key_before(query, cursor),
        };
        collect(
            self.posts
                .find(query)
                .sort(doc! { "key": order })
                .limit(limit)
                .await?,
        )
        .await
    }

    /// Adds `delta` to a post's counter (`likes` or `replies`).
    pub async fn add_to_post(&self, id: &str, field: &str, delta: i64) -> Result<()> {
        self.posts
            .update_one(doc! { "_id": id }, doc! { "$inc": { field: delta } })
            .await?;
        Ok(())
    }

    /// Replaces a post's text, keeping the previous one in its history. Only a live post is
    /// edited; `false` otherwise.
    pub async fn edit_post(
        &self,
        id: &str,
        edit: &PostEdit,
        revision: &PostRevision,
    ) -> Result<bool> {
        let PostEdit {
            text,
            mentions,
            fingerprint,
            message,
            at,
        } = edit;
        let update = doc! {
            "$set": {
                "text": text,
                "mentions": bson::to_bson(mentions)?,
                "fingerprint": fingerprint,
                "message": message,
                "editedAt": at,
            },
            "$push": { "history": bson::to_bson(revision)? },
        };
        let outcome = self
            .posts
            .update_one(
                doc! { "_id": id, "deleted": false, "message": &revision.message },
                update,
            )
            .await?;
        Ok(outcome.matched_count == 1)
    }

    /// Turns a post into a tombstone (content and history removed, thread kept); `false` when
    /// it was one already.
    pub async fn tombstone(&self, id: &str) -> Result<bool> {
        let outcome = self
            .posts
            .update_one(
                doc! { "_id": id, "deleted": false },
                doc! { "$set": { "deleted": true, "text": "", "mentions": [], "embeds": [], "history": [] } },
            )
            .await?;
        Ok(outcome.modified_count == 1)
    }

    /// Sets a post's `hidden` or `takenDown` flag.
    pub async fn set_post_flag(&self, id: &str, flag: &str, value: bool) -> Result<()> {
        self.posts
            .update_one(doc! { "_id": id }, doc! { "$set": { flag: value } })
            .await?;
        Ok(())
    }

    /// True when `author` posted text with `fingerprint` at or after `since` (seconds).
    pub async fn posted_same_text(
        &self,
        author: &Address,
        fingerprint: &str,
        since: i64,
    ) -> Result<bool> {
        let found = self
            .posts
            .find_one(doc! {
                "author": codec::address_key(author),
                "fingerprint": fingerprint,
                "createdAt": { "$gte": since },
                "deleted": false,
            })
            .await?;
        Ok(found.is_some())
    }

    /// Likes per target since `since` (seconds).
    pub async fn likes_since(&self, since: i64) -> Result<Vec<(String, i64)>> {
        self.group_count(&self.likes, doc! { "at": { "$gte": since } }, "$target")
            .await
    }

    /// Replies per thread root since `since` (seconds).
    pub async fn replies_since(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let posts = self.posts.clone_with_type::<Document>();
        self.group_count(
            &posts,
            doc! { "reply": true, "createdAt": { "$gte": since }, "deleted": false },
            "$root",
        )
        .await
    }

    async fn group_count(
        &self,
        collection: &Collection<Document>,
        filter: Document,
        field: &str,
    ) -> Result<Vec<(String, i64)>> {
        use futures_util::TryStreamExt;
        let cursor = collection
            .aggregate(vec![
                doc! { "$match": filter },
                doc! { "$group": { "_id": field, "n": { "$sum": 1 } } },
            ])
            .await?;
        let groups: Vec<Document> = cursor.try_collect().await?;
        Ok(groups
            .into_iter()
            .filter_map(|g| {
                let id = g.get_str("_id").ok()?.to_string();
                let n = g
                    .get_i32("n")
                    .map(i64::from)
                    .or_else(|_| g.get_i64("n"))
                    .ok()?;
                Some((id, n))
            })
            .collect())
    }

    // ---- likes ----

    /// Records `account`'s like of `target`; `false` when it was there already.
    pub async fn insert_like(&self, account: &Address, target: &str, at: i64) -> Result<bool> {
        let account = codec::address_key(account);
        insert_one_new(
            &self.likes,
            &doc! { "_id": format!("{account}:{target}"), "account": &account, "target": target, "at": at },
        )
        .await
    }

    /// Removes `account`'s like of `target`; `false` when there was none.
    pub async fn delete_like(&self, account: &Address, target: &str) -> Result<bool> {
        let id = format!("{}:{target}", codec::address_key(account));
        Ok(self
            .likes
            .delete_one(doc! { "_id": id })
            .await?
            .deleted_count
            == 1)
    }

    /// The likes of `target` counted one by one (to repair a counter).
    pub async fn count_likes(&self, target: &str) -> Result<u64> {
        Ok(self
            .likes
            .count_documents(doc! { "target": target })
            .await?)
    }

    /// Which of `targets` `account` likes.
    pub async fn liked_among(&self, account: &Address, targets: &[String]) -> Result<Vec<String>> {
        let account = codec::address_key(account);
        let ids: Vec<String> = targets.iter().map(|t| format!("{account}:{t}")).collect();
        let found = collect(self.likes.find(doc! { "_id": { "$in": ids } }).await?).await?;
        Ok(found
            .iter()
            .filter_map(|d| d.get_str("target").ok().map(str::to_string))
            .collect())
    }

    // ---- links ----

    fn link_id(kind: LinkKind, account: &Address, target: &Address) -> String {
        format!(
            "{}:{}:{}",
            kind.as_str(),
            codec::address_key(account),
            codec::address_key(target)
        )
    }

    /// Records a link; `false` when it was there already.
    pub async fn insert_link(
        &self,
        kind: LinkKind,
        account: &Address,
        target: &Address,
        key: &str,
    ) -> Result<bool> {
        insert_one_new(
            &self.links,
            &doc! {
                "_id": Self::link_id(kind, account, target),
                "kind": kind.as_str(),
                "account": codec::address_key(account),
                "target": codec::address_key(target),
                "key": key,
            },
        )
        .await
    }

    /// Removes a link; `false` when there was none.
    pub async fn delete_link(
        &self,
        kind: LinkKind,
        account: &Address,
        target: &Address,
    ) -> Result<bool> {
        let id = Self::link_id(kind, account, target);
        Ok(self
            .links
            .delete_one(doc! { "_id": id })
            .await?
            .deleted_count
            == 1)
    }

    /// True when the link exists.
    pub async fn has_link(
        &self,
        kind: LinkKind,
        account: &Address,
        target: &Address,
    ) -> Result<bool> {
        let id = Self::link_id(kind, account, target);
        Ok(self.links.find_one(doc! { "_id": id }).await?.is_some())
    }

    /// Every account `account` links to with `kind` (lowercase addresses).
    pub async fn link_targets(&self, kind: LinkKind, account: &Address) -> Result<Vec<String>> {
        let found = collect(
            self.links
                .find(doc! { "kind": kind.as_str(), "account": codec::address_key(account) })
                .projection(doc! { "target": 1 })
                .await?,
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|d| d.get_str("target").ok().map(str::to_string))
            .collect())
    }

    /// Every account linking to `target` with `kind` (lowercase addresses).
    pub async fn link_sources(&self, kind: LinkKind, target: &Address) -> Result<Vec<String>> {
        let found = collect(
            self.links
                .find(doc! { "kind": kind.as_str(), "target": codec::address_key(target) })
                .projection(doc! { "account": 1 })
                .await?,
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|d| d.get_str("account").ok().map(str::to_string))
            .collect())
    }

    /// A page of links, newest first: `outgoing` lists whom `account` follows, otherwise who
    /// follows it. Returns (address, key) pairs.
    pub async fn link_page(
        &self,
        kind: LinkKind,
        account: &Address,
        outgoing: bool,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        let (mine, other) = if outgoing {
            ("account", "target")
        } else {
            ("target", "account")
        };
        let found = newest_first(
            &self.links,
            doc! { "kind": kind.as_str(), mine: codec::address_key(account) },
            cursor,
            limit,
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|d| {
                Some((
                    d.get_str(other).ok()?.to_string(),
                    d.get_str("key").ok()?.to_string(),
                ))
            })
            .collect())
    }

    // ---- profiles and handles ----

    /// The profile of `account`.
    pub async fn profile(&self, account: &Address) -> Result<Option<SocialProfile>> {
        Ok(self
            .profiles
            .find_one(doc! { "_id": codec::address_key(account) })
            .await?)
    }

    /// The profiles of `accounts`.
    pub async fn profiles(&self, accounts: &[String]) -> Result<Vec<SocialProfile>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        collect(
            self.profiles
                .find(doc! { "_id": { "$in": accounts } })
                .await?,
        )
        .await
    }

    /// Records that `account` was seen at `ms` (first sight only).
    pub async fn touch_profile(&self, account: &Address, ms: i64) -> Result<()> {
        self.profiles
            .update_one(
                doc! { "_id": codec::address_key(account) },
                doc! { "$setOnInsert": {
                    "firstSeenMs": ms, "followers": 0_i64, "following": 0_i64, "posts": 0_i64,
                } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Sets profile fields (`fields` holds only profile field names).
    pub async fn set_profile(&self, account: &Address, fields: Document) -> Result<()> {
        self.profiles
            .update_one(
                doc! { "_id": codec::address_key(account) },
                doc! { "$set": fields },
            )
            .await?;
        Ok(())
    }

    /// Adds `delta` to a profile counter (`followers`, `following`, `posts`).
    pub async fn add_to_profile(&self, account: &Address, field: &str, delta: i64) -> Result<()> {
        self.profiles
            .update_one(
                doc! { "_id": codec::address_key(account) },
                doc! { "$inc": { field: delta } },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Of `accounts`, those with at least `followers` followers (wide accounts).
    pub async fn wide_accounts(&self, accounts: &[String], followers: i64) -> Result<Vec<String>> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let found = collect(
            self.profiles
                .find(doc! { "_id": { "$in": accounts }, "followers": { "$gte": followers } })
                .await?,
        )
        .await?;
        Ok(found.into_iter().map(|p| p.id).collect())
    }

    /// Claims `handle` (lowercase) for `account`; `false` when another account holds it.
    pub async fn claim_handle(&self, handle: &str, account: &Address) -> Result<bool> {
        let owner = codec::address_key(account);
        if insert_one_new(&self.handles, &doc! { "_id": handle, "account": &owner }).await? {
            return Ok(true);
        }
        Ok(self
            .handles
            .find_one(doc! { "_id": handle, "account": &owner })
            .await?
            .is_some())
    }

    /// Releases `handle` if `account` holds it.
    pub async fn release_handle(&self, handle: &str, account: &Address) -> Result<()> {
        self.handles
            .delete_one(doc! { "_id": handle, "account": codec::address_key(account) })
            .await?;
        Ok(())
    }

    /// The account holding `handle` (lowercase).
    pub async fn handle_owner(&self, handle: &str) -> Result<Option<String>> {
        Ok(self
            .handles
            .find_one(doc! { "_id": handle })
            .await?
            .and_then(|d| d.get_str("account").ok().map(str::to_string)))
    }

    // ---- keyword mutes ----

    /// Adds (or with `active` false removes) a muted keyword.
    pub async fn set_keyword_mute(
        &self,
        account: &Address,
        keyword: &str,
        active: bool,
    ) -> Result<()> {
        let account = codec::address_key(account);
        let id = format!("{account}:{keyword}");
        if active {
            insert_one_new(
                &self.keyword_mutes,
                &doc! { "_id": id, "account": account, "keyword": keyword },
            )
            .await?;
        } else {
            self.keyword_mutes.delete_one(doc! { "_id": id }).await?;
        }
        Ok(())
    }

    /// The keywords `account` muted.
    pub async fn keyword_mutes(&self, account: &Address) -> Result<Vec<String>> {
        let found = collect(
            self.keyword_mutes
                .find(doc! { "account": codec::address_key(account) })
                .await?,
        )
        .await?;
        Ok(found
            .iter()
            .filter_map(|d| d.get_str("keyword").ok().map(str::to_string))
            .collect())
    }

    // ---- timelines ----

    /// Adds entries to home timelines (existing ones are kept).
    pub async fn add_to_timelines(&self, entries: &[TimelineEntry]) -> Result<()> {
        insert_new(&self.timelines, entries).await
    }

    /// Removes `author`'s posts from `owner`'s timeline (after an unfollow).
    pub async fn remove_from_timeline(&self, owner: &Address, author: &Address) -> Result<()> {
        self.timelines
            .delete_many(
                doc! { "owner": codec::address_key(owner), "author": codec::address_key(author) },
            )
            .await?;
        Ok(())
    }

    /// A page of `owner`'s timeline, newest first.
    pub async fn timeline_page(
        &self,
        owner: &Address,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>> {
        newest_first(
            &self.timelines,
            doc! { "owner": codec::address_key(owner) },
            cursor,
            limit,
        )
        .await
    }

    // ---- activity ----

    /// Records on-chain activity (recording twice is a no-op); `true` when new.
    pub async fn record_activity(&self, item: &ActivityItem) -> Result<bool> {
        insert_one_new(&self.activity, item).await
    }

    /// A page of the activity of `actors`, newest first.
    pub async fn activity_page(
        &self,
        actors: &[String],
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ActivityItem>> {
        if actors.is_empty() {
            return Ok(Vec::new());
        }
        newest_first(
            &self.activity,
            doc! { "actor": { "$in": actors } },
            cursor,
            limit,
        )
        .await
    }

    // ---- notifications ----

    /// Stores a notification; `false` when the same one exists.
    pub async fn notify(&self, notification: &SocialNotification) -> Result<bool> {
        insert_one_new(&self.notifications, notification).await
    }

    /// A page of `owner`'s notifications, newest first.
    pub async fn notification_page(
        &self,
        owner: &Address,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SocialNotification>> {
        newest_first(
            &self.notifications,
            doc! { "owner": codec::address_key(owner) },
            cursor,
            limit,
        )
        .await
    }

    /// Unread notifications of `owner`.
    pub async fn unread_count(&self, owner: &Address) -> Result<u64> {
        Ok(self
            .notifications
            .count_documents(doc! { "owner": codec::address_key(owner), "read": false })
            .await?)
    }

    /// Marks `owner`'s notifications read, up to and including `up_to` (all when `None`).
    /// Returns how many changed.
    pub async fn mark_read(&self, owner: &Address, up_to: Option<&str>) -> Result<u64> {
        let mut filter = doc! { "owner": codec::address_key(owner), "read": false };
        if let Some(key) = up_to {
            filter.insert("key", doc! { "$lte": key });
        }
        Ok(self
            .notifications
            .update_many(filter, doc! { "$set": { "read": true } })
            .await?
            .modified_count)
    }

    // ---- app keys ----

    /// Records (or renews) a delegation.
    pub async fn put_app_key(&self, key: &AppKey) -> Result<()> {
        self.app_keys
            .replace_one(doc! { "_id": &key.id }, key)
            .upsert(true)
            .await?;
        Ok(())
    }

    /// The delegation of `key` by `account`.
    pub async fn app_key(&self, account: &Address, key: &Address) -> Result<Option<AppKey>> {
        let id = format!(
            "{}:{}",
            codec::address_key(account),
            codec::address_key(key)
        );
        Ok(self.app_keys.find_one(doc! { "_id": id }).await?)
    }

    /// Every delegation of `account`.
    pub async fn app_keys(&self, account: &Address) -> Result<Vec<AppKey>> {
        collect(
            self.app_keys
                .find(doc! { "account": codec::address_key(account) })
                .await?,
        )
        .await
    }

    /// Revokes a delegation; `false` when there was no live one.
    pub async fn revoke_app_key(&self, account: &Address, key: &Address, at: i64) -> Result<bool> {
        let id = format!(
            "{}:{}",
            codec::address_key(account),
            codec::address_key(key)
        );
        let outcome = self
            .app_keys
            .update_one(
                doc! { "_id": id, "revokedAt": null },
                doc! { "$set": { "revokedAt": at } },
            )
            .await?;
        Ok(outcome.modified_count == 1)
    }

    // ---- reports, moderation, bans ----

    /// Stores a report.
    pub async fn report(&self, report: &SocialReport) -> Result<bool> {
        insert_one_new(&self.reports, report).await
    }

    /// A page of reports, newest first.
    pub async fn report_page(&self, cursor: Option<&str>, limit: i64) -> Result<Vec<SocialReport>> {
        newest_first(&self.reports, doc! {}, cursor, limit).await
    }

    /// Appends to the moderation log.
    pub async fn log_moderation(&self, action: &ModerationAction) -> Result<bool> {
        insert_one_new(&self.moderation, action).await
    }

    /// A page of the moderation log, newest first.
    pub async fn moderation_page(
        &self,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ModerationAction>> {
        newest_first(&self.moderation, doc! {}, cursor, limit).await
    }

    /// Bans (`true`) or unbans an account.
    pub async fn set_banned(&self, account: &Address, banned: bool, reason: &str) -> Result<()> {
        let id = codec::address_key(account);
        if banned {
            self.bans
                .replace_one(doc! { "_id": &id }, doc! { "_id": &id, "reason": reason })
                .upsert(true)
                .await?;
        } else {
            self.bans.delete_one(doc! { "_id": &id }).await?;
        }
        Ok(())
    }

    /// True when `account` is banned.
    pub async fn is_banned(&self, account: &Address) -> Result<bool> {
        Ok(self
            .bans
            .find_one(doc! { "_id": codec::address_key(account) })
            .await?
            .is_some())
    }
}
