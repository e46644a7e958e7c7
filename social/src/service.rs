//! The social service: accepts signed messages (verify, check, store, fan out, notify) and
//! answers reads (feeds, threads, profiles, notifications, moderation).
//!
//! A message is checked completely (signature, rules, targets) before anything is written;
//! then the message itself is inserted first, under its hash: the unique id makes a replay,
//! even a concurrent one, a no-op, and only the writer that inserted it applies its effects.

use crate::{
    config::SocialConfig,
    content::{self, Embed, Reference},
    error::{Result, SocialError},
    message::{self, APP_KEY_SCOPE, Body, Mention, Parsed, SocialDomain},
    verify::{self, Signer},
    views::*,
};
use alloy::{
    primitives::{Address, B256, U256},
    providers::DynProvider,
};
use nest_store::{
    AppKey, LinkKind, ModerationAction, PostEdit, PostFilter, PostRevision, SocialMention,
    SocialMessage, SocialNotification, SocialPost, SocialProfile, SocialReport, SocialRepository,
    Store, TimelineEntry, codec::address_key,
};
use std::collections::{HashMap, HashSet};
use tracing::{info, instrument};

/// Largest page.
pub const MAX_PAGE: i64 = 100;
/// Posts a new follower's timeline receives from the followed account.
const FOLLOW_BACKFILL: i64 = 50;

/// A change the api turns into cache invalidations and live-stream events: `(kind, key)`.
pub type Touched = (String, String);

/// The outcome of a posted message.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The message's id.
    pub hash: B256,
    /// Its type.
    pub kind: &'static str,
    /// The account it acted for.
    pub account: Address,
    /// True when it was stored before (nothing changed).
    pub duplicate: bool,
    /// What changed.
    pub touched: Vec<Touched>,
}

/// The social service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SocialService {
    store: Store,
    repo: SocialRepository,
    domain: SocialDomain,
    config: SocialConfig,
    chain: Option<DynProvider>,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A sort key: receipt time then id, so keys are unique and time-ordered.
pub fn sort_key(ms: i64, id: &str) -> String {
    format!("{:013}:{id}", ms.max(0))
}

fn hex(hash: &B256) -> String {
    format!("{hash:#x}")
}

fn to_store_mentions(mentions: &[Mention]) -> Vec<SocialMention> {
    mentions
        .iter()
        .map(|m| SocialMention {
            account: m.account,
            start: m.start as i32,
            end: m.end as i32,
        })
        .collect()
}

fn page_limit(limit: u32) -> i64 {
    i64::from(limit).clamp(1, MAX_PAGE)
}

impl SocialService {
    /// A service over `store`; `chain` answers EIP-1271 checks and NEST balances.
    pub fn new(store: Store, config: SocialConfig, chain: Option<DynProvider>) -> Self {
        Self {
            repo: store.social(),
            domain: SocialDomain::new(config.chain_id, &config.origin),
            store,
            config,
            chain,
        }
    }

    /// The EIP-712 domain messages must be signed under.
    pub fn domain(&self) -> &SocialDomain {
        &self.domain
    }

    /// The settings.
    pub fn config(&self) -> &SocialConfig {
        &self.config
    }

    /// The repository.
    pub fn repo(&self) -> &SocialRepository {
        &self.repo
    }

    /// The store.
    pub fn store_handle(&self) -> &Store {
        &self.store
    }

    // ------------------------------------------------------------------ writes

    /// Parses and verifies a posted envelope without writing anything (the api checks the
    /// account's write limit between this and [`Self::apply`]). A message stored before comes
    /// back with `Ok(None)`-like `duplicate` through [`Self::apply`] too.
    #[instrument(skip_all)]
    pub async fn verify(&self, bytes: &[u8], now_ms: i64) -> Result<Verified> {
        let parsed = message::parse_envelope(bytes, &self.domain)?;
        let id = hex(&parsed.hash);
        if self.repo.message(&id).await?.is_some() {
            return Ok(Verified {
                parsed,
                signer: None,
            });
        }
        let now = (now_ms / 1000).max(0) as u64;
        let timestamp = parsed.body.timestamp();
        let skew = self.config.clock_skew.as_secs();
        if timestamp > now + skew {
            return Err(SocialError::FutureTimestamp {
                timestamp,
                now,
                skew,
            });
        }
        if timestamp + skew < now {
            return Err(SocialError::StaleTimestamp {
                timestamp,
                now,
                skew,
            });
        }
        let signer = verify::verify(&parsed, now, &self.repo, self.chain.as_ref()).await?;
        let account = parsed.body.account();
        if self.repo.is_banned(&account).await? {
            return Err(SocialError::Banned(address_key(&account)));
        }
        Ok(Verified {
            parsed,
            signer: Some(signer),
        })
    }

    /// True when `account` gets the stricter write limit: first seen less than a day ago, or
    /// holding no NFT and no NEST.
    pub async fn is_new_account(&self, account: &Address, now_ms: i64) -> Result<bool> {
        let young = match self.repo.profile(account).await? {
            None => true,
            Some(p) => {
                p.first_seen_ms == 0
                    || now_ms - p.first_seen_ms < self.config.young_account.as_millis() as i64
            }
        };
        if young {
            return Ok(true);
        }
        let nfts = self
            .store
            .nfts()
            .by_owner(self.config.chain_id, account, None, 1)
            .await?;
        if !nfts.items.is_empty() {
            return Ok(false);
        }
        Ok(!self.holds_nest(account).await)
    }

    async fn holds_nest(&self, account: &Address) -> bool {
        let Some(chain) = &self.chain else {
            return false;
        };
        alloy::sol! {
            #[sol(rpc)]
            interface IBalance { function balanceOf(address) external view returns (uint256); }
        }
        let token = IBalance::new(self.config.token, chain.clone());
        let call = token.balanceOf(*account);
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(3), call.call()).await,
            Ok(Ok(balance)) if balance > U256::ZERO
        )
    }

    /// Verifies and applies a posted envelope at server time `now_ms`.
    pub async fn submit(&self, bytes: &[u8], now_ms: i64) -> Result<Accepted> {
        let verified = self.verify(bytes, now_ms).await?;
        self.apply(verified, now_ms).await
    }

    /// Applies a verified message: checks its rules, stores it, then its effects.
    #[instrument(skip_all, fields(kind = verified.parsed.body.kind()))]
    pub async fn apply(&self, verified: Verified, now_ms: i64) -> Result<Accepted> {
        let Verified { parsed, signer } = verified;
        let body = &parsed.body;
        let account = body.account();
        let mut accepted = Accepted {
            hash: parsed.hash,
            kind: body.kind(),
            account,
            duplicate: false,
            touched: Vec::new(),
        };
        let Some(signer) = signer else {
            accepted.duplicate = true;
            return Ok(accepted);
        };
        let plan = self.check(&parsed, now_ms).await?;
        let stored = SocialMessage {
            id: hex(&parsed.hash),
            kind: body.kind().to_string(),
            account,
            signer: signer.address,
            signer_kind: signer.kind.as_str().to_string(),
            message: body.to_json().to_string(),
            signature: format!("0x{}", alloy::hex::encode(&parsed.signature)),
            timestamp: body.timestamp() as i64,
            received_ms: now_ms,
        };
        // Recording the account's first sight is idempotent, so it need not wait for the
        // message insert (one round trip less per write).
        let (inserted, ()) = futures_util::try_join!(
            self.repo.insert_message(&stored),
            self.repo.touch_profile(&account, now_ms)
        )?;
        if !inserted {
            accepted.duplicate = true;
            return Ok(accepted);
        }
        match self.effects(&parsed, plan, signer, now_ms).await {
            Ok(touched) => {
                accepted.touched = touched;
                Ok(accepted)
            }
            Err(e) => {
                // The message must not stay without its effects: the client may retry.
                let _ = self.repo.delete_message(&stored.id).await;
                Err(e)
            }
        }
    }

    /// Read-only checks of a message against the store. Returns what the effects need.
    async fn check(&self, parsed: &Parsed, now_ms: i64) -> Result<Plan> {
        let now = now_ms / 1000;
        let account = parsed.body.account();
        match &parsed.body {
            Body::Post(p) => {
                content::check_text("text", &p.text, content::MAX_TEXT)?;
                if p.text.trim().is_empty() && p.embeds.is_empty() {
                    return Err(SocialError::malformed(
                        "text",
                        "a post needs text or an embed",
                    ));
                }
                content::check_mentions(&p.text, &p.mentions)?;
                if p.embeds.len() > content::MAX_EMBEDS {
                    return Err(SocialError::TooMany {
                        field: "embeds",
                        count: p.embeds.len(),
                        limit: content::MAX_EMBEDS,
                    });
                }
                let mut links = content::link_count(&p.text);
                for embed in &p.embeds {
                    match content::parse_embed(embed)? {
                        Embed::Url(_) => links += 1,
                        Embed::Nest(r) => self.check_reference(&r).await?,
                    }
                }
                if links > content::MAX_LINKS {
                    return Err(SocialError::TooManyLinks {
                        limit: content::MAX_LINKS,
                    });
                }
                if let Some(r) = content::parse_channel(&p.channel)? {
                    self.check_reference(&r).await?;
                }
                for m in &p.mentions {
                    if self
                        .repo
                        .has_link(LinkKind::Block, &m.account, &account)
                        .await?
                    {
                        return Err(SocialError::Blocked(address_key(&m.account)));
                    }
                }
                let fingerprint = content::fingerprint(&p.text);
                let since = now - self.config.duplicate_window.as_secs() as i64;
                if !p.text.trim().is_empty()
                    && self
                        .repo
                        .posted_same_text(&account, &fingerprint, since)
                        .await?
                {
                    return Err(SocialError::DuplicateText {
                        hours: self.config.duplicate_window.as_secs() / 3600,
                    });
                }
                let parent = if p.parent == B256::ZERO {
                    None
                } else {
                    let parent = self.live_post(&p.parent).await?;
                    let root_id = parent.root.clone().unwrap_or_else(|| parent.id.clone());
                    let root = if root_id == parent.id {
                        parent.clone()
                    } else {
                        self.live_post_id(&root_id).await?
                    };
                    for owner in [parent.author, root.author] {
                        if self
                            .repo
                            .has_link(LinkKind::Block, &owner, &account)
                            .await?
                        {
                            return Err(SocialError::Blocked(address_key(&owner)));
                        }
                    }
                    Some(Box::new((parent, root)))
                };
                Ok(Plan::Post {
                    fingerprint,
                    parent,
                })
            }
            Body::Edit(e) => {
                let post = self.live_post(&e.target).await?;
                if post.author != account {
                    return Err(SocialError::NotAuthor);
                }
                let window = self.config.edit_window.as_secs();
                if now - post.created_at > window as i64 {
                    return Err(SocialError::EditWindowClosed {
                        minutes: window / 60,
                    });
                }
                content::check_text("text", &e.text, content::MAX_TEXT)?;
                content::check_mentions(&e.text, &e.mentions)?;
                for m in &e.mentions {
                    if self
                        .repo
                        .has_link(LinkKind::Block, &m.account, &account)
                        .await?
                    {
                        return Err(SocialError::Blocked(address_key(&m.account)));
                    }
                }
                Ok(Plan::Edit(Box::new(post)))
            }
            Body::Delete(d) => {
                let post = self.live_post(&d.target).await?;
                if post.author != account {
                    return Err(SocialError::NotAuthor);
                }
                Ok(Plan::Target(Box::new(post)))
            }
            Body::Like(l) => {
                let post = self.existing_post(&l.target).await?;
                if l.active && (post.deleted || post.taken_down) {
                    return Err(SocialError::Deleted);
                }
                Ok(Plan::Target(Box::new(post)))
            }
            Body::Hide(h) => {
                let post = self.existing_post(&h.target).await?;
                let root = post
                    .root
                    .as_deref()
                    .ok_or(SocialError::NotRootAuthor)
                    .map(str::to_string)?;
                let root = self.live_post_id(&root).await.map_err(|e| match e {
                    SocialError::Deleted => SocialError::NotRootAuthor,
                    e => e,
                })?;
                if root.author != account {
                    return Err(SocialError::NotRootAuthor);
                }
                Ok(Plan::Target(Box::new(post)))
            }
            Body::Link(l) => {
                if !["follow", "mute", "block"].contains(&l.kind.as_str()) {
                    return Err(SocialError::malformed(
                        "kind",
                        "kind must be follow, mute or block",
                    ));
                }
                if l.target == account {
                    return Err(SocialError::SelfLink(l.kind.clone()));
                }
                if l.target == Address::ZERO {
                    return Err(SocialError::malformed("target", "the zero address"));
                }
                if l.kind == "follow"
                    && l.active
                    && self
                        .repo
                        .has_link(LinkKind::Block, &l.target, &account)
                        .await?
                {
                    return Err(SocialError::Blocked(address_key(&l.target)));
                }
                Ok(Plan::None)
            }
            Body::KeywordMute(k) => {
                let keyword = k.keyword.trim();
                if keyword.is_empty() {
                    return Err(SocialError::malformed("keyword", "empty keyword"));
                }
                content::check_text("keyword", &k.keyword, content::MAX_KEYWORD)?;
                Ok(Plan::None)
            }
            Body::Profile(p) => {
                content::check_text("displayName", &p.displayName, content::MAX_DISPLAY_NAME)?;
                content::check_text("bio", &p.bio, content::MAX_BIO)?;
                let current = self.repo.profile(&account).await?.unwrap_or_default();
                let handle = if p.handle.is_empty() {
                    None
                } else {
                    let lower = content::check_handle(&p.handle)?;
                    let unchanged = current.handle.as_deref().map(str::to_ascii_lowercase)
                        == Some(lower.clone());
                    if !unchanged {
                        if let Some(changed) = current.handle_changed_at {
                            let until = changed + self.config.handle_cooldown.as_secs() as i64;
                            if now < until {
                                return Err(SocialError::HandleCooldown { until });
                            }
                        }
                        if let Some(owner) = self.repo.handle_owner(&lower).await?
                            && owner != address_key(&account)
                        {
                            return Err(SocialError::HandleTaken(lower));
                        }
                    }
                    Some((lower, unchanged))
                };
                if p.avatarContract != Address::ZERO {
                    let nft = self
                        .store
                        .nfts()
                        .get(self.config.chain_id, &p.avatarContract, &p.avatarTokenId)
                        .await?;
                    match nft {
                        None => {
                            return Err(SocialError::UnknownTarget {
                                kind: "nft",
                                id: format!(
                                    "{}:{}",
                                    address_key(&p.avatarContract),
                                    p.avatarTokenId
                                ),
                            });
                        }
                        Some(n) if n.owner != account => return Err(SocialError::AvatarNotOwned),
                        Some(_) => {}
                    }
                }
                Ok(Plan::Profile {
                    handle,
                    previous: current.handle.map(|h| h.to_ascii_lowercase()),
                })
            }
            Body::Report(r) => {
                content::check_text("reason", &r.reason, content::MAX_REASON)?;
                self.check_subject(&r.target).await?;
                Ok(Plan::None)
            }
            Body::Moderate(m) => {
                if !self.config.moderators.contains(&account) {
                    return Err(SocialError::NotModerator(address_key(&account)));
                }
                content::check_text("reason", &m.reason, content::MAX_REASON)?;
                match m.action.as_str() {
                    "takedown" | "restore" => {
                        let id: B256 = m.target.parse().map_err(|_| {
                            SocialError::malformed("target", "a post id (0x + 64 hex)")
                        })?;
                        self.existing_post(&id).await?;
                    }
                    "ban" | "unban" => {
                        let _: Address = m
                            .target
                            .parse()
                            .map_err(|_| SocialError::malformed("target", "an account address"))?;
                    }
                    _ => {
                        return Err(SocialError::malformed(
                            "action",
                            "action must be takedown, restore, ban or unban",
                        ));
                    }
                }
                Ok(Plan::None)
            }
            Body::AppKeyGrant(g) => {
                if g.scope != APP_KEY_SCOPE {
                    return Err(SocialError::AppKeyScope(g.scope.chars().take(40).collect()));
                }
                if g.appKey == Address::ZERO || g.appKey == account {
                    return Err(SocialError::malformed("appKey", "not a separate key"));
                }
                if g.expiry as i64 <= now {
                    return Err(SocialError::AppKeyExpired(address_key(&g.appKey)));
                }
                Ok(Plan::None)
            }
            Body::AppKeyRevoke(r) => {
                if self.repo.app_key(&account, &r.appKey).await?.is_none() {
                    return Err(SocialError::AppKeyUnknown(address_key(&r.appKey)));
                }
                Ok(Plan::None)
            }
        }
    }

    async fn check_subject(&self, target: &str) -> Result<()> {
        if target.len() == 66 {
            let id: B256 = target
                .parse()
                .map_err(|_| SocialError::malformed("target", "a post id or an address"))?;
            self.existing_post(&id).await?;
        } else {
            let _: Address = target
                .parse()
                .map_err(|_| SocialError::malformed("target", "a post id or an address"))?;
        }
        Ok(())
    }

    async fn check_reference(&self, r: &Reference) -> Result<()> {
        let chain = self.config.chain_id;
        let (kind, id, found) = match r {
            Reference::Nft(contract, token) => (
                "nft",
                format!("{}:{token}", address_key(contract)),
                self.store
                    .nfts()
                    .get(chain, contract, token)
                    .await?
                    .is_some(),
            ),
            Reference::Collection(contract) => (
                "collection",
                address_key(contract),
                self.store.nfts().collection_exists(chain, contract).await?,
            ),
            Reference::Listing(id) => (
                "listing",
                id.to_string(),
                self.store
                    .listings()
                    .get(chain, &self.config.marketplace, id)
                    .await?
                    .is_some(),
            ),
            Reference::Auction(id) => (
                "auction",
                id.to_string(),
                self.store
                    .auctions()
                    .get(chain, &self.config.marketplace, id)
                    .await?
                    .is_some(),
            ),
            Reference::Proposal(id) => (
                "proposal",
                id.to_string(),
                self.store
                    .proposals()
                    .get(chain, &self.config.governor, id)
                    .await?
                    .is_some(),
            ),
        };
        if found {
            Ok(())
        } else {
            Err(SocialError::UnknownTarget { kind, id })
        }
    }

    async fn existing_post(&self, id: &B256) -> Result<SocialPost> {
        self.repo
            .post(&hex(id))
            .await?
            .ok_or_else(|| SocialError::UnknownTarget {
                kind: "post",
                id: hex(id),
            })
    }

    async fn live_post(&self, id: &B256) -> Result<SocialPost> {
        self.live_post_id(&hex(id)).await
    }

    async fn live_post_id(&self, id: &str) -> Result<SocialPost> {
        let post = self
            .repo
            .post(id)
            .await?
            .ok_or_else(|| SocialError::UnknownTarget {
                kind: "post",
                id: id.to_string(),
            })?;
        if post.deleted || post.taken_down {
            return Err(SocialError::Deleted);
        }
        Ok(post)
    }

    // The notification's fields, plus where to announce it: a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        touched: &mut Vec<Touched>,
        id: String,
        owner: &Address,
        kind: &str,
        actor: Option<&Address>,
        target: Option<String>,
        now_ms: i64,
    ) -> Result<()> {
        if actor == Some(owner) {
            return Ok(());
        }
        if let Some(actor) = actor
            && (self.repo.has_link(LinkKind::Mute, owner, actor).await?
                || self.repo.has_link(LinkKind::Block, owner, actor).await?)
        {
            return Ok(());
        }
        let notification = SocialNotification {
            key: sort_key(now_ms, &id),
            id,
            owner: address_key(owner),
            kind: kind.to_string(),
            actor: actor.map(address_key),
            target,
            detail: None,
            at: now_ms / 1000,
            read: false,
        };
        if self.repo.notify(&notification).await? {
            touched.push(("notifications".into(), notification.owner));
        }
        Ok(())
    }

    /// Writes a checked message's effects.
    async fn effects(
        &self,
        parsed: &Parsed,
        plan: Plan,
        _signer: Signer,
        now_ms: i64,
    ) -> Result<Vec<Touched>> {
        let id = hex(&parsed.hash);
        let account = parsed.body.account();
        let me = address_key(&account);
        let now = now_ms / 1000;
        let mut touched: Vec<Touched> = Vec::new();
        match (&parsed.body, plan) {
            (
                Body::Post(p),
                Plan::Post {
                    fingerprint,
                    parent,
                },
            ) => {
                let key = sort_key(now_ms, &id);
                let (parent_id, root_id, depth) = match parent.as_deref() {
                    Some((parent, root)) => (
                        Some(parent.id.clone()),
                        Some(root.id.clone()),
                        parent.depth + 1,
                    ),
                    None => (None, None, 0),
                };
                let post = SocialPost {
                    id: id.clone(),
                    key: key.clone(),
                    author: account,
                    text: p.text.clone(),
                    mentions: to_store_mentions(&p.mentions),
                    embeds: p.embeds.clone(),
                    channel: (!p.channel.is_empty()).then(|| p.channel.clone()),
                    parent: parent_id,
                    root: root_id,
                    reply: parent.is_some(),
                    depth,
                    created_at: p.timestamp as i64,
                    likes: 0,
                    replies: 0,
                    edited_at: None,
                    history: Vec::new(),
                    message: id.clone(),
                    deleted: false,
                    hidden: false,
                    taken_down: false,
                    fingerprint,
                };
                self.repo.insert_post(&post).await?;
                touched.push(("social-posts".into(), id.clone()));
                touched.push(("social-author".into(), me.clone()));
                if let Some(channel) = &post.channel {
                    touched.push(("social-channel".into(), channel.clone()));
                }
                match parent.as_deref() {
                    None => {
                        futures_util::try_join!(
                            async { Ok(self.repo.add_to_profile(&account, "posts", 1).await?) },
                            self.fan_out(&post)
                        )?;
                    }
                    Some((parent, root)) => {
                        self.repo.add_to_post(&parent.id, "replies", 1).await?;
                        if root.id != parent.id {
                            self.repo.add_to_post(&root.id, "replies", 1).await?;
                        }
                        touched.push(("social-thread".into(), root.id.clone()));
                        touched.push(("social-post".into(), parent.id.clone()));
                        touched.push(("social-author".into(), address_key(&root.author)));
                        for owner in [parent.author, root.author] {
                            self.notify(
                                &mut touched,
                                format!("reply:{id}:{}", address_key(&owner)),
                                &owner,
                                "reply",
                                Some(&account),
                                Some(id.clone()),
                                now_ms,
                            )
                            .await?;
                        }
                    }
                }
                for m in &p.mentions {
                    self.notify(
                        &mut touched,
                        format!("mention:{id}:{}", address_key(&m.account)),
                        &m.account,
                        "mention",
                        Some(&account),
                        Some(id.clone()),
                        now_ms,
                    )
                    .await?;
                }
            }
            (Body::Edit(e), Plan::Edit(post)) => {
                let revision = PostRevision {
                    text: post.text.clone(),
                    mentions: post.mentions.clone(),
                    message: post.message.clone(),
                    replaced_at: now,
                };
                let done = self
                    .repo
                    .edit_post(
                        &post.id,
                        &PostEdit {
                            text: e.text.clone(),
                            mentions: to_store_mentions(&e.mentions),
                            fingerprint: content::fingerprint(&e.text),
                            message: id.clone(),
                            at: now,
                        },
                        &revision,
                    )
                    .await?;
                if !done {
                    return Err(SocialError::EditConflict);
                }
                self.post_touched(&mut touched, &post);
                for m in &e.mentions {
                    self.notify(
                        &mut touched,
                        format!("mention:{}:{}", post.id, address_key(&m.account)),
                        &m.account,
                        "mention",
                        Some(&account),
                        Some(post.id.clone()),
                        now_ms,
                    )
                    .await?;
                }
            }
            (Body::Delete(_), Plan::Target(post)) => {
                if self.repo.tombstone(&post.id).await? && !post.reply {
                    self.repo.add_to_profile(&account, "posts", -1).await?;
                }
                self.post_touched(&mut touched, &post);
            }
            (Body::Like(l), Plan::Target(post)) => {
                if l.active {
                    if self.repo.insert_like(&account, &post.id, now).await? {
                        self.repo.add_to_post(&post.id, "likes", 1).await?;
                        self.notify(
                            &mut touched,
                            format!("like:{me}:{}", post.id),
                            &post.author,
                            "like",
                            Some(&account),
                            Some(post.id.clone()),
                            now_ms,
                        )
                        .await?;
                    }
                } else if self.repo.delete_like(&account, &post.id).await? {
                    self.repo.add_to_post(&post.id, "likes", -1).await?;
                }
                // Pages asked with this account as viewer show its like state.
                touched.push(("social-likes".into(), me.clone()));
                self.post_touched(&mut touched, &post);
            }
            (Body::Hide(h), Plan::Target(post)) => {
                self.repo
                    .set_post_flag(&post.id, "hidden", h.hidden)
                    .await?;
                self.post_touched(&mut touched, &post);
            }
            (Body::Link(l), _) => {
                let kind = match l.kind.as_str() {
                    "follow" => LinkKind::Follow,
                    "mute" => LinkKind::Mute,
                    _ => LinkKind::Block,
                };
                let key = sort_key(now_ms, &id);
                let changed = if l.active {
                    self.repo
                        .insert_link(kind, &account, &l.target, &key)
                        .await?
                } else {
                    self.repo.delete_link(kind, &account, &l.target).await?
                };
                touched.push(("social-home".into(), me.clone()));
                if changed && kind == LinkKind::Follow {
                    let delta = if l.active { 1 } else { -1 };
                    self.repo
                        .add_to_profile(&account, "following", delta)
                        .await?;
                    self.repo
                        .add_to_profile(&l.target, "followers", delta)
                        .await?;
                    touched.push(("social-profile".into(), me.clone()));
                    touched.push(("social-profile".into(), address_key(&l.target)));
                    if l.active {
                        self.backfill_timeline(&account, &l.target).await?;
                        self.notify(
                            &mut touched,
                            format!("follow:{me}:{}", address_key(&l.target)),
                            &l.target,
                            "follow",
                            Some(&account),
                            None,
                            now_ms,
                        )
                        .await?;
                    } else {
                        self.repo.remove_from_timeline(&account, &l.target).await?;
                    }
                }
                if changed && kind == LinkKind::Block && l.active {
                    // A block also ends the blocked account's follow.
                    if self
                        .repo
                        .delete_link(LinkKind::Follow, &l.target, &account)
                        .await?
                    {
                        self.repo.add_to_profile(&l.target, "following", -1).await?;
                        self.repo.add_to_profile(&account, "followers", -1).await?;
                        self.repo.remove_from_timeline(&l.target, &account).await?;
                        touched.push(("social-home".into(), address_key(&l.target)));
                    }
                }
            }
            (Body::KeywordMute(k), _) => {
                self.repo
                    .set_keyword_mute(&account, &k.keyword.trim().to_lowercase(), k.active)
                    .await?;
                touched.push(("social-home".into(), me.clone()));
            }
            (Body::Profile(p), Plan::Profile { handle, previous }) => {
                let mut fields = bson::doc! {
                    "displayName": (!p.displayName.is_empty()).then(|| p.displayName.clone()),
                    "bio": (!p.bio.is_empty()).then(|| p.bio.clone()),
                    "message": &id,
                };
                if p.avatarContract == Address::ZERO {
                    fields.insert("avatarContract", bson::Bson::Null);
                    fields.insert("avatarTokenId", bson::Bson::Null);
                } else {
                    fields.insert("avatarContract", address_key(&p.avatarContract));
                    fields.insert("avatarTokenId", p.avatarTokenId.to_string());
                }
                match handle {
                    Some((lower, true)) => {
                        fields.insert("handle", p.handle.clone());
                        let _ = lower;
                    }
                    Some((lower, false)) => {
                        if !self.repo.claim_handle(&lower, &account).await? {
                            return Err(SocialError::HandleTaken(lower));
                        }
                        if let Some(old) = previous {
                            self.repo.release_handle(&old, &account).await?;
                        }
                        fields.insert("handle", p.handle.clone());
                        fields.insert("handleChangedAt", now);
                    }
                    None => {
                        if let Some(old) = previous {
                            self.repo.release_handle(&old, &account).await?;
                            fields.insert("handleChangedAt", now);
                        }
                        fields.insert("handle", bson::Bson::Null);
                    }
                }
                self.repo.set_profile(&account, fields).await?;
                touched.push(("social-profile".into(), me.clone()));
                touched.push(("social-author".into(), me.clone()));
            }
            (Body::Report(r), _) => {
                self.repo
                    .report(&SocialReport {
                        key: sort_key(now_ms, &id),
                        id: id.clone(),
                        reporter: me.clone(),
                        target: r.target.to_ascii_lowercase(),
                        reason: r.reason.clone(),
                        at: now,
                    })
                    .await?;
            }
            (Body::Moderate(m), _) => {
                let target = m.target.to_ascii_lowercase();
                match m.action.as_str() {
                    "takedown" | "restore" => {
                        let taken = m.action == "takedown";
                        self.repo.set_post_flag(&target, "takenDown", taken).await?;
                        if let Some(post) = self.repo.post(&target).await? {
                            self.post_touched(&mut touched, &post);
                        }
                    }
                    _ => {
                        let subject: Address = target
                            .parse()
                            .map_err(|_| SocialError::malformed("target", "an address"))?;
                        self.repo
                            .set_banned(&subject, m.action == "ban", &m.reason)
                            .await?;
                        touched.push(("social-profile".into(), target.clone()));
                    }
                }
                self.repo
                    .log_moderation(&ModerationAction {
                        key: sort_key(now_ms, &id),
                        id: id.clone(),
                        moderator: me.clone(),
                        action: m.action.clone(),
                        target: target.clone(),
                        reason: m.reason.clone(),
                        at: now,
                    })
                    .await?;
                info!(moderator = %me, action = %m.action, %target, "moderation");
            }
            (Body::AppKeyGrant(g), _) => {
                self.repo
                    .put_app_key(&AppKey {
                        id: format!("{me}:{}", address_key(&g.appKey)),
                        account: me.clone(),
                        key: address_key(&g.appKey),
                        scope: vec![g.scope.clone()],
                        expiry: g.expiry as i64,
                        revoked_at: None,
                        grant: id.clone(),
                    })
                    .await?;
            }
            (Body::AppKeyRevoke(r), _) => {
                self.repo.revoke_app_key(&account, &r.appKey, now).await?;
            }
            _ => {}
        }
        Ok(touched)
    }

    fn post_touched(&self, touched: &mut Vec<Touched>, post: &SocialPost) {
        touched.push(("social-post".into(), post.id.clone()));
        touched.push(("social-posts".into(), post.id.clone()));
        touched.push(("social-author".into(), address_key(&post.author)));
        if let Some(root) = &post.root {
            touched.push(("social-thread".into(), root.clone()));
        } else {
            touched.push(("social-thread".into(), post.id.clone()));
        }
        if let Some(channel) = &post.channel {
            touched.push(("social-channel".into(), channel.clone()));
        }
    }

    /// Write fan-out: an ordinary author's post goes into every follower's timeline (and the
    /// author's own); a wide author's only into their own, followers merge it at read time.
    async fn fan_out(&self, post: &SocialPost) -> Result<()> {
        let author = address_key(&post.author);
        let followers = self
            .repo
            .link_sources(LinkKind::Follow, &post.author)
            .await?;
        let mut owners = vec![author.clone()];
        if (followers.len() as i64) < self.config.fanout_limit {
            owners.extend(followers);
        }
        let entries: Vec<TimelineEntry> = owners
            .into_iter()
            .map(|owner| TimelineEntry {
                id: format!("{owner}:{}", post.key),
                owner,
                key: post.key.clone(),
                post: post.id.clone(),
                author: author.clone(),
            })
            .collect();
        for chunk in entries.chunks(1000) {
            self.repo.add_to_timelines(chunk).await?;
        }
        Ok(())
    }

    async fn backfill_timeline(&self, follower: &Address, followed: &Address) -> Result<()> {
        let recent = self
            .repo
            .post_page(&PostFilter::Author(*followed), None, FOLLOW_BACKFILL)
            .await?;
        let entries: Vec<TimelineEntry> = recent
            .iter()
            .map(|p| TimelineEntry {
                id: format!("{}:{}", address_key(follower), p.key),
                owner: address_key(follower),
                key: p.key.clone(),
                post: p.id.clone(),
                author: address_key(followed),
            })
            .collect();
        Ok(self.repo.add_to_timelines(&entries).await?)
    }

    // ------------------------------------------------------------------ reads

    /// A stored message with its domain, for anyone to re-verify.
    pub async fn message(&self, hash: &B256) -> Result<MessageView> {
        let id = hex(hash);
        let m = self
            .repo
            .message(&id)
            .await?
            .ok_or_else(|| SocialError::NotFound {
                kind: "message",
                id: id.clone(),
            })?;
        Ok(MessageView {
            hash: m.id,
            kind: m.kind,
            domain: serde_json::to_value(self.domain.json()).unwrap_or_default(),
            message: serde_json::from_str(&m.message).unwrap_or_default(),
            signature: m.signature,
            signer: address_key(&m.signer),
            signer_kind: m.signer_kind,
            received_ms: m.received_ms,
        })
    }

    /// Account views of `addresses` (lowercase).
    pub async fn accounts(&self, addresses: &[String]) -> Result<HashMap<String, AccountView>> {
        let unique: Vec<String> = addresses
            .iter()
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let profiles = self.repo.profiles(&unique).await?;
        let mut map: HashMap<String, AccountView> = profiles
            .into_iter()
            .map(|p| {
                (
                    p.id.clone(),
                    AccountView {
                        address: p.id,
                        handle: p.handle,
                        display_name: p.display_name,
                    },
                )
            })
            .collect();
        for a in unique {
            map.entry(a.clone()).or_insert(AccountView {
                address: a,
                handle: None,
                display_name: None,
            });
        }
        Ok(map)
    }

    async fn post_views(&self, posts: &[SocialPost]) -> Result<Vec<PostView>> {
        let authors: Vec<String> = posts.iter().map(|p| address_key(&p.author)).collect();
        let accounts = self.accounts(&authors).await?;
        Ok(posts
            .iter()
            .map(|p| {
                let a = address_key(&p.author);
                let view = accounts.get(&a).cloned().unwrap_or(AccountView {
                    address: a,
                    handle: None,
                    display_name: None,
                });
                PostView::new(p, view)
            })
            .collect())
    }

    /// Marks which of `views` `viewer` likes (one query for the page).
    async fn mark_liked(&self, views: &mut [PostView], viewer: Option<&Address>) -> Result<()> {
        let Some(viewer) = viewer else {
            return Ok(());
        };
        let ids: Vec<String> = views.iter().map(|v| v.id.clone()).collect();
        let liked: std::collections::HashSet<String> = self
            .repo
            .liked_among(viewer, &ids)
            .await?
            .into_iter()
            .collect();
        for view in views {
            view.liked_by_viewer = Some(liked.contains(&view.id));
        }
        Ok(())
    }

    /// Marks the posts of `page` `viewer` likes.
    async fn mark_liked_items(&self, page: &mut FeedPage, viewer: Option<&Address>) -> Result<()> {
        let mut posts: Vec<PostView> = Vec::new();
        let mut at = Vec::new();
        for (i, item) in page.items.iter().enumerate() {
            if let FeedItem::Post { post } = item {
                posts.push(post.clone());
                at.push(i);
            }
        }
        self.mark_liked(&mut posts, viewer).await?;
        for (i, view) in at.into_iter().zip(posts) {
            if let Some(FeedItem::Post { post }) = page.items.get_mut(i) {
                *post = view;
            }
        }
        Ok(())
    }

    /// One post.
    pub async fn post(&self, id: &B256) -> Result<PostView> {
        let post = self
            .repo
            .post(&hex(id))
            .await?
            .ok_or_else(|| SocialError::NotFound {
                kind: "post",
                id: hex(id),
            })?;
        Ok(self
            .post_views(std::slice::from_ref(&post))
            .await?
            .remove(0))
    }

    /// A profile; the avatar only while its NFT is still owned by the account.
    pub async fn profile(&self, account: &Address) -> Result<ProfileView> {
        let p = self.repo.profile(account).await?.unwrap_or(SocialProfile {
            id: address_key(account),
            ..Default::default()
        });
        let avatar = match (&p.avatar_contract, &p.avatar_token_id) {
            (Some(contract), Some(token)) => {
                let owned = match (contract.parse::<Address>(), token.parse::<U256>()) {
                    (Ok(c), Ok(t)) => self
                        .store
                        .nfts()
                        .get(self.config.chain_id, &c, &t)
                        .await?
                        .is_some_and(|n| n.owner == *account),
                    _ => false,
                };
                owned.then(|| AvatarView {
                    contract: contract.clone(),
                    token_id: token.clone(),
                })
            }
            _ => None,
        };
        Ok(ProfileView {
            address: address_key(account),
            handle: p.handle,
            display_name: p.display_name,
            bio: p.bio,
            avatar,
            followers: p.followers.max(0),
            following: p.following.max(0),
            posts: p.posts.max(0),
            first_seen: p.first_seen_ms / 1000,
            banned: self.repo.is_banned(account).await?,
        })
    }

    /// The account holding `handle`.
    pub async fn by_handle(&self, handle: &str) -> Result<Address> {
        let lower = handle.to_ascii_lowercase();
        self.repo
            .handle_owner(&lower)
            .await?
            .and_then(|a| a.parse().ok())
            .ok_or(SocialError::NotFound {
                kind: "handle",
                id: lower,
            })
    }

    /// What `viewer` does not want to see: muted and blocked accounts, muted keywords.
    async fn filters(&self, viewer: Option<&Address>) -> Result<Filters> {
        let Some(viewer) = viewer else {
            return Ok(Filters::default());
        };
        let mut hidden: HashSet<String> = self
            .repo
            .link_targets(LinkKind::Mute, viewer)
            .await?
            .into_iter()
            .collect();
        hidden.extend(self.repo.link_targets(LinkKind::Block, viewer).await?);
        Ok(Filters {
            accounts: hidden,
            keywords: self.repo.keyword_mutes(viewer).await?,
        })
    }

    /// A page of top-level posts: everyone's (`Global`), a channel's, an author's.
    pub async fn posts(
        &self,
        filter: PostFilter,
        viewer: Option<&Address>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<FeedPage> {
        let limit = page_limit(limit);
        let filters = self.filters(viewer).await?;
        let posts = self.repo.post_page(&filter, cursor, limit).await?;
        let next_cursor = (posts.len() as i64 == limit)
            .then(|| posts.last().map(|p| p.key.clone()))
            .flatten();
        let shown: Vec<SocialPost> = posts
            .into_iter()
            .filter(|p| !p.deleted && !p.taken_down && filters.allows(p))
            .collect();
        let mut views = self.post_views(&shown).await?;
        self.mark_liked(&mut views, viewer).await?;
        let items = views
            .into_iter()
            .map(|post| FeedItem::Post { post })
            .collect();
        Ok(FeedPage { items, next_cursor })
    }

    /// The accounts `viewer` follows (lowercase), for the home feed and its cache tags.
    pub async fn followed(&self, viewer: &Address) -> Result<Vec<String>> {
        Ok(self.repo.link_targets(LinkKind::Follow, viewer).await?)
    }

    /// The home feed of `viewer`: its timeline (fanned-out posts of ordinary accounts), the
    /// posts of followed wide accounts (merged now), and the on-chain activity of followed
    /// accounts, newest first.
    #[instrument(skip(self))]
    pub async fn home(
        &self,
        viewer: &Address,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<FeedPage> {
        let limit = page_limit(limit);
        let followed = self.followed(viewer).await?;
        let (timeline, wide, activity, filters) = futures_util::try_join!(
            async { Ok::<_, SocialError>(self.repo.timeline_page(viewer, cursor, limit).await?) },
            async {
                Ok(self
                    .repo
                    .wide_accounts(&followed, self.config.fanout_limit)
                    .await?)
            },
            async { Ok(self.repo.activity_page(&followed, cursor, limit).await?) },
            self.filters(Some(viewer)),
        )?;
        let wide_posts = if wide.is_empty() {
            Vec::new()
        } else {
            let wide: Vec<Address> = wide.iter().filter_map(|a| a.parse().ok()).collect();
            self.repo
                .post_page(&PostFilter::Authors(wide), cursor, limit)
                .await?
        };
        enum Candidate {
            Post(String),
            Activity(usize),
        }
        let mut candidates: Vec<(String, Candidate)> = Vec::new();
        let mut seen = HashSet::new();
        for e in &timeline {
            if seen.insert(e.post.clone()) {
                candidates.push((e.key.clone(), Candidate::Post(e.post.clone())));
            }
        }
        for p in &wide_posts {
            if seen.insert(p.id.clone()) {
                candidates.push((p.key.clone(), Candidate::Post(p.id.clone())));
            }
        }
        for (i, a) in activity.iter().enumerate() {
            candidates.push((a.key.clone(), Candidate::Activity(i)));
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0));
        candidates.truncate(limit as usize);
        let next_cursor = (candidates.len() as i64 == limit)
            .then(|| candidates.last().map(|c| c.0.clone()))
            .flatten();
        let ids: Vec<String> = candidates
            .iter()
            .filter_map(|c| match &c.1 {
                Candidate::Post(id) => Some(id.clone()),
                Candidate::Activity(_) => None,
            })
            .collect();
        let posts: HashMap<String, SocialPost> = self
            .repo
            .posts_by_id(&ids)
            .await?
            .into_iter()
            .filter(|p| !p.deleted && !p.taken_down && filters.allows(p))
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut addresses: Vec<String> = posts.values().map(|p| address_key(&p.author)).collect();
        addresses.extend(activity.iter().map(|a| a.actor.clone()));
        let accounts = self.accounts(&addresses).await?;
        let account = |a: &str| {
            accounts.get(a).cloned().unwrap_or(AccountView {
                address: a.to_string(),
                handle: None,
                display_name: None,
            })
        };
        let mut items = Vec::with_capacity(candidates.len());
        for (_, candidate) in candidates {
            match candidate {
                Candidate::Post(id) => {
                    if let Some(p) = posts.get(&id) {
                        items.push(FeedItem::Post {
                            post: PostView::new(p, account(&address_key(&p.author))),
                        });
                    }
                }
                Candidate::Activity(i) => {
                    let a = &activity[i];
                    if !filters.accounts.contains(&a.actor) {
                        items.push(FeedItem::Activity {
                            activity: ActivityView::new(a, account(&a.actor)),
                        });
                    }
                }
            }
        }
        let mut page = FeedPage { items, next_cursor };
        self.mark_liked_items(&mut page, Some(viewer)).await?;
        Ok(page)
    }

    /// A post's thread: the root and a page of its comments (any depth, oldest first).
    /// Replies hidden by the root's author are left out unless `include_hidden`.
    pub async fn thread(
        &self,
        id: &B256,
        viewer: Option<&Address>,
        include_hidden: bool,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ThreadView> {
        let limit = page_limit(limit);
        let post = self
            .repo
            .post(&hex(id))
            .await?
            .ok_or_else(|| SocialError::NotFound {
                kind: "post",
                id: hex(id),
            })?;
        let root_id = post.root.clone().unwrap_or_else(|| post.id.clone());
        let root = if root_id == post.id {
            post
        } else {
            self.repo
                .post(&root_id)
                .await?
                .ok_or_else(|| SocialError::NotFound {
                    kind: "post",
                    id: root_id.clone(),
                })?
        };
        let filters = self.filters(viewer).await?;
        let replies = self
            .repo
            .post_page(&PostFilter::Thread(root_id.clone()), cursor, limit)
            .await?;
        let next_cursor = (replies.len() as i64 == limit)
            .then(|| replies.last().map(|p| p.key.clone()))
            .flatten();
        // Tombstones stay (the thread keeps its shape); hidden and filtered replies go.
        let shown: Vec<SocialPost> = replies
            .into_iter()
            .filter(|p| (include_hidden || !p.hidden) && filters.allows_author(p))
            .collect();
        let mut views = self.post_views(std::slice::from_ref(&root)).await?;
        views.extend(self.post_views(&shown).await?);
        self.mark_liked(&mut views, viewer).await?;
        let mut views = views.into_iter();
        let root = views.next().ok_or_else(|| SocialError::NotFound {
            kind: "post",
            id: root_id.clone(),
        })?;
        Ok(ThreadView {
            root,
            replies: views.collect(),
            next_cursor,
        })
    }

    /// Trending posts: likes and replies of the last 24 h, weighted by recency
    /// (`(likes + 2 × replies) / (age in hours + 2)^1.5`), best first.
    pub async fn trending(&self, now_ms: i64, limit: u32) -> Result<FeedPage> {
        let now = now_ms / 1000;
        let since = now - 24 * 3600;
        let (likes, replies) =
            futures_util::try_join!(self.repo.likes_since(since), self.repo.replies_since(since))?;
        let mut score: HashMap<String, f64> = HashMap::new();
        for (id, n) in likes {
            *score.entry(id).or_default() += n as f64;
        }
        for (id, n) in replies {
            *score.entry(id).or_default() += 2.0 * n as f64;
        }
        let ids: Vec<String> = score.keys().cloned().collect();
        let posts = self.repo.posts_by_id(&ids).await?;
        let mut ranked: Vec<(f64, SocialPost)> = posts
            .into_iter()
            .filter(|p| !p.reply && !p.deleted && !p.taken_down)
            .map(|p| {
                let age_hours = ((now - p.created_at).max(0) as f64) / 3600.0;
                let s = score.get(&p.id).copied().unwrap_or(0.0) / (age_hours + 2.0).powf(1.5);
                (s, p)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.key.cmp(&a.1.key)));
        ranked.truncate(page_limit(limit) as usize);
        let posts: Vec<SocialPost> = ranked.into_iter().map(|(_, p)| p).collect();
        Ok(FeedPage {
            items: self
                .post_views(&posts)
                .await?
                .into_iter()
                .map(|post| FeedItem::Post { post })
                .collect(),
            next_cursor: None,
        })
    }

    /// Followers (`outgoing` false) or followed accounts of `account`.
    pub async fn follows(
        &self,
        account: &Address,
        outgoing: bool,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<AccountPage> {
        let limit = page_limit(limit);
        let links = self
            .repo
            .link_page(LinkKind::Follow, account, outgoing, cursor, limit)
            .await?;
        let next_cursor = (links.len() as i64 == limit)
            .then(|| links.last().map(|l| l.1.clone()))
            .flatten();
        let addresses: Vec<String> = links.iter().map(|l| l.0.clone()).collect();
        let accounts = self.accounts(&addresses).await?;
        Ok(AccountPage {
            items: addresses
                .iter()
                .filter_map(|a| accounts.get(a).cloned())
                .collect(),
            next_cursor,
        })
    }

    /// `owner`'s notifications with the unread count.
    pub async fn notifications(
        &self,
        owner: &Address,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<NotificationPage> {
        let limit = page_limit(limit);
        let (items, unread) = futures_util::try_join!(
            self.repo.notification_page(owner, cursor, limit),
            self.repo.unread_count(owner)
        )?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|n| n.key.clone()))
            .flatten();
        Ok(NotificationPage {
            items: items.iter().map(NotificationView::from).collect(),
            unread,
            next_cursor,
        })
    }

    /// Marks `owner`'s notifications read up to `up_to` (a notification key; all when none).
    pub async fn mark_read(&self, owner: &Address, up_to: Option<&str>) -> Result<u64> {
        Ok(self.repo.mark_read(owner, up_to).await?)
    }

    /// The moderation log, newest first.
    pub async fn moderation_log(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<ModerationView>, Option<String>)> {
        let limit = page_limit(limit);
        let items = self.repo.moderation_page(cursor, limit).await?;
        let next = (items.len() as i64 == limit)
            .then(|| items.last().map(|m| m.key.clone()))
            .flatten();
        Ok((
            items
                .into_iter()
                .map(|m| ModerationView {
                    id: m.id,
                    moderator: m.moderator,
                    action: m.action,
                    target: m.target,
                    reason: m.reason,
                    at: m.at,
                    key: m.key,
                })
                .collect(),
            next,
        ))
    }

    /// Reports, newest first (moderators only: the api checks the session).
    pub async fn reports(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<ReportView>, Option<String>)> {
        let limit = page_limit(limit);
        let items = self.repo.report_page(cursor, limit).await?;
        let next = (items.len() as i64 == limit)
            .then(|| items.last().map(|m| m.key.clone()))
            .flatten();
        Ok((
            items
                .into_iter()
                .map(|r| ReportView {
                    id: r.id,
                    reporter: r.reporter,
                    target: r.target,
                    reason: r.reason,
                    at: r.at,
                    key: r.key,
                })
                .collect(),
            next,
        ))
    }

    /// True when `account` is a moderator.
    pub fn is_moderator(&self, account: &Address) -> bool {
        self.config.moderators.contains(account)
    }
}

/// A verified message waiting to be applied (`signer` is `None` for a message stored before).
#[derive(Debug, Clone)]
pub struct Verified {
    /// The parsed message.
    pub parsed: Parsed,
    /// Who signed it.
    pub signer: Option<Signer>,
}

impl Verified {
    /// The account the message acts for.
    pub fn account(&self) -> Address {
        self.parsed.body.account()
    }

    /// True for a message stored before.
    pub fn is_duplicate(&self) -> bool {
        self.signer.is_none()
    }
}

/// What the effects of a checked message need.
enum Plan {
    None,
    Post {
        fingerprint: String,
        parent: Option<Box<(SocialPost, SocialPost)>>,
    },
    Edit(Box<SocialPost>),
    Target(Box<SocialPost>),
    Profile {
        handle: Option<(String, bool)>,
        previous: Option<String>,
    },
}

#[derive(Debug, Default)]
struct Filters {
    accounts: HashSet<String>,
    keywords: Vec<String>,
}

impl Filters {
    fn allows_author(&self, post: &SocialPost) -> bool {
        !self.accounts.contains(&address_key(&post.author))
    }

    fn allows(&self, post: &SocialPost) -> bool {
        if !self.allows_author(post) {
            return false;
        }
        if self.keywords.is_empty() {
            return true;
        }
        let text = post.text.to_lowercase();
        !self.keywords.iter().any(|k| text.contains(k.as_str()))
    }
}
