//! The JSON shapes the api serves (camelCase; addresses lowercase hex; token ids and amounts
//! decimal strings; times unix seconds). Text is plain text, never HTML.

use nest_store::{ActivityItem, SocialMention, SocialNotification, SocialPost};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An account as shown next to its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Address (lowercase hex).
    pub address: String,
    /// Handle, if set.
    pub handle: Option<String>,
    /// Display name, if set.
    pub display_name: Option<String>,
}

/// An NFT used as avatar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarView {
    /// NFT contract.
    pub contract: String,
    /// Token id (decimal).
    pub token_id: String,
}

/// A profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    /// Address.
    pub address: String,
    /// Handle.
    pub handle: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Bio (plain text, ≤ 256 bytes).
    pub bio: Option<String>,
    /// The avatar NFT, only while the account still owns it (checked on every read).
    pub avatar: Option<AvatarView>,
    /// Followers.
    pub followers: i64,
    /// Accounts followed.
    pub following: i64,
    /// Posts.
    pub posts: i64,
    /// First seen (unix seconds).
    pub first_seen: i64,
    /// Banned by a moderator.
    pub banned: bool,
}

/// A mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MentionView {
    /// The mentioned account.
    pub account: String,
    /// Byte offset in the text.
    pub start: i32,
    /// Byte offset after the mention.
    pub end: i32,
}

impl From<&SocialMention> for MentionView {
    fn from(m: &SocialMention) -> Self {
        Self {
            account: nest_store::codec::address_key(&m.account),
            start: m.start,
            end: m.end,
        }
    }
}

/// A post or comment. A deleted post keeps its place in its thread with empty text
/// (`deleted`); a taken-down one likewise (`takenDown`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    /// Id: the hash of the signed message that created it (`GET /v1/social/messages/{id}`).
    pub id: String,
    /// Author.
    pub author: AccountView,
    /// Plain text (NFC, ≤ 1024 bytes).
    pub text: String,
    /// Mentions as byte ranges of `text`.
    pub mentions: Vec<MentionView>,
    /// Embeds: `nft:<contract>:<tokenId>`, `listing:<id>`, `auction:<id>`, `proposal:<id>` or
    /// an http(s) URL.
    pub embeds: Vec<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Replied-to post (comments).
    pub parent: Option<String>,
    /// Thread root (comments).
    pub root: Option<String>,
    /// Depth in the thread.
    pub depth: i32,
    /// Signed at (unix seconds).
    pub created_at: i64,
    /// Last edit (unix seconds).
    pub edited_at: Option<i64>,
    /// Earlier versions kept.
    pub revisions: usize,
    /// Likes.
    pub likes: i64,
    /// Replies.
    pub replies: i64,
    /// Deleted by its author.
    pub deleted: bool,
    /// Hidden by the thread's author.
    pub hidden: bool,
    /// Taken down by a moderator.
    pub taken_down: bool,
    /// The message that set the current text.
    pub message: String,
    /// Page key (pass as `cursor` to continue after this item).
    pub key: String,
    /// Whether the `viewer` the page was asked for likes it (absent without a viewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liked_by_viewer: Option<bool>,
}

impl PostView {
    /// The view of `post` by `author`.
    pub fn new(post: &SocialPost, author: AccountView) -> Self {
        let gone = post.deleted || post.taken_down;
        Self {
            id: post.id.clone(),
            author,
            text: if gone {
                String::new()
            } else {
                post.text.clone()
            },
            mentions: if gone {
                Vec::new()
            } else {
                post.mentions.iter().map(MentionView::from).collect()
            },
            embeds: if gone {
                Vec::new()
            } else {
                post.embeds.clone()
            },
            channel: post.channel.clone(),
            parent: post.parent.clone(),
            root: post.root.clone(),
            depth: post.depth,
            created_at: post.created_at,
            edited_at: post.edited_at,
            revisions: post.history.len(),
            likes: post.likes,
            replies: post.replies,
            deleted: post.deleted,
            hidden: post.hidden,
            taken_down: post.taken_down,
            message: post.message.clone(),
            key: post.key.clone(),
            liked_by_viewer: None,
        }
    }
}

/// Something a followed account did on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityView {
    /// Who.
    pub actor: AccountView,
    /// `sold`, `bought`, `listed`, `bid`, `offered` or `voted`.
    pub kind: String,
    /// The marketplace or governance record (`GET /v1/sales`, `/v1/listings/{id}`, ...).
    pub source: String,
    /// NFT contract.
    pub nft: Option<String>,
    /// Token id.
    pub token_id: Option<String>,
    /// Amount, wei (decimal).
    pub amount: Option<String>,
    /// Payment token (zero address: ETH).
    pub payment_token: Option<String>,
    /// Proposal id.
    pub proposal: Option<String>,
    /// Vote: 0 against, 1 for, 2 abstain.
    pub support: Option<i32>,
    /// When (unix seconds).
    pub at: i64,
    /// Page key.
    pub key: String,
}

impl ActivityView {
    /// The view of `item`.
    pub fn new(item: &ActivityItem, actor: AccountView) -> Self {
        Self {
            actor,
            kind: item.kind.clone(),
            source: item.source.clone(),
            nft: item.nft.clone(),
            token_id: item.token_id.clone(),
            amount: item.amount.clone(),
            payment_token: item.payment_token.clone(),
            proposal: item.proposal.clone(),
            support: item.support,
            at: item.at,
            key: item.key.clone(),
        }
    }
}

/// One item of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FeedItem {
    /// A post.
    Post {
        /// The post.
        post: PostView,
    },
    /// On-chain activity of a followed account.
    Activity {
        /// The activity.
        activity: ActivityView,
    },
}

/// A page of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedPage {
    /// Items, newest first (threads: oldest first).
    pub items: Vec<FeedItem>,
    /// Pass as `cursor` for the next page; absent on the last page. Stays exact while new
    /// items arrive: nothing is skipped or repeated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A post with a page of its thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadView {
    /// The root post.
    pub root: PostView,
    /// Comments at any depth, oldest first; build the tree from `parent`.
    pub replies: Vec<PostView>,
    /// Pass as `cursor` for more replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    /// Id.
    pub id: String,
    /// `mention`, `reply`, `like`, `follow`, `outbid`, `listing_sold`, `offer_received` or
    /// `proposal_outcome`.
    pub kind: String,
    /// Who caused it.
    pub actor: Option<String>,
    /// The post or marketplace/governance record it is about.
    pub target: Option<String>,
    /// Detail (a proposal's outcome: `succeeded`, `defeated`, `executed`).
    pub detail: Option<String>,
    /// When (unix seconds).
    pub at: i64,
    /// Read.
    pub read: bool,
    /// Page key (also what `upTo` of mark-read takes).
    pub key: String,
}

impl From<&SocialNotification> for NotificationView {
    fn from(n: &SocialNotification) -> Self {
        Self {
            id: n.id.clone(),
            kind: n.kind.clone(),
            actor: n.actor.clone(),
            target: n.target.clone(),
            detail: n.detail.clone(),
            at: n.at,
            read: n.read,
            key: n.key.clone(),
        }
    }
}

/// A page of notifications with the unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// Unread notifications in total.
    pub unread: u64,
    /// Pass as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A stored message, served back so anyone can verify it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// Id: the EIP-712 signing hash.
    pub hash: String,
    /// Message type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The EIP-712 domain it was signed under.
    #[schema(value_type = Object)]
    pub domain: serde_json::Value,
    /// The typed message, as signed.
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
    /// The signature.
    pub signature: String,
    /// The address that signed (the account, or its app key).
    pub signer: String,
    /// `eoa`, `contract` (EIP-1271) or `app_key`.
    pub signer_kind: String,
    /// Received at (unix milliseconds).
    pub received_ms: i64,
}

/// The answer to a posted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedView {
    /// The message's id.
    pub hash: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `accepted`, or `duplicate` for a message stored before (a replay changes nothing).
    pub status: String,
}

/// A moderation log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModerationView {
    /// The signed moderation message.
    pub id: String,
    /// Moderator.
    pub moderator: String,
    /// `takedown`, `restore`, `ban`, `unban`.
    pub action: String,
    /// Post id or account.
    pub target: String,
    /// Reason.
    pub reason: String,
    /// When (unix seconds).
    pub at: i64,
    /// Page key.
    pub key: String,
}

/// A report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    /// The signed report message.
    pub id: String,
    /// Reporter.
    pub reporter: String,
    /// Post id or account.
    pub target: String,
    /// Reason.
    pub reason: String,
    /// When (unix seconds).
    pub at: i64,
    /// Page key.
    pub key: String,
}

/// A page of accounts (followers, following).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountPage {
    /// Accounts, newest link first.
    pub items: Vec<AccountView>,
    /// Pass as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
