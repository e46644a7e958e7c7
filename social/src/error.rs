//! The one error type of `nest-social`, and the one place that maps each refusal to what a
//! client sees: a stable code (`social.*`, translated by the api's catalogues), an HTTP status
//! and the values the translated detail quotes. Codes never change meaning; add new ones.

use nest_store::StoreError;

/// Everything that can refuse a social message or fail a read.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// The body is not a well-formed message envelope, or a field has the wrong shape.
    #[error("malformed message: {reason}")]
    Malformed {
        /// The field at fault, when one is.
        field: Option<String>,
        /// What the parser said.
        reason: String,
    },
    /// The envelope names a message type Nest does not know.
    #[error("unknown message type {0}")]
    UnknownType(String),
    /// The message was signed for another chain.
    #[error("signed for chain {signed}, this api serves chain {served}")]
    WrongChain {
        /// Chain id of the signed domain.
        signed: u64,
        /// Chain id served.
        served: u64,
    },
    /// The message was signed for another domain (name, version or origin).
    #[error("signed for another domain ({field})")]
    WrongDomain {
        /// The domain field that differs.
        field: &'static str,
    },
    /// The signature is not the account's (nor its app key's, nor accepted by its contract).
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The timestamp is more than the allowed skew in the future.
    #[error("timestamp {timestamp} is more than {skew} s ahead of {now}")]
    FutureTimestamp {
        /// The message's timestamp.
        timestamp: u64,
        /// The server's time.
        now: u64,
        /// Allowed skew, seconds.
        skew: u64,
    },
    /// The timestamp is too old for a new message.
    #[error("timestamp {timestamp} is more than {skew} s before {now}")]
    StaleTimestamp {
        /// The message's timestamp.
        timestamp: u64,
        /// The server's time.
        now: u64,
        /// Allowed age, seconds.
        skew: u64,
    },
    /// The app key was never delegated by the account.
    #[error("app key {0} is not delegated by the account")]
    AppKeyUnknown(String),
    /// The app key's delegation expired.
    #[error("app key {0} expired")]
    AppKeyExpired(String),
    /// The app key was revoked.
    #[error("app key {0} was revoked")]
    AppKeyRevoked(String),
    /// App keys may not sign this message type (or the delegation's scope is not `social`).
    #[error("an app key may not sign {0} messages")]
    AppKeyScope(String),
    /// The account is banned by a moderator.
    #[error("account {0} is banned")]
    Banned(String),
    /// A text is longer than allowed.
    #[error("{field} has {size} bytes, at most {limit} are allowed")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The text is not in Unicode Normalization Form C.
    #[error("the text is not NFC-normalised")]
    NotNfc,
    /// Too many items of a list (mentions, embeds, links).
    #[error("{field} has {count} items, at most {limit} are allowed")]
    TooMany {
        /// Which list.
        field: &'static str,
        /// How many were sent.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A mention's byte range is outside the text, not on character boundaries, or overlaps.
    #[error("mention {index} has an invalid byte range")]
    BadMention {
        /// Position of the mention in the list.
        index: usize,
    },
    /// An embed is not a Nest reference or an http(s) URL of at most 256 bytes.
    #[error("embed {value} is not valid")]
    BadEmbed {
        /// The embed.
        value: String,
    },
    /// A channel name is not valid.
    #[error("channel {value} is not valid")]
    BadChannel {
        /// The channel.
        value: String,
    },
    /// The referenced post, NFT, listing, auction or proposal does not exist.
    #[error("{kind} {id} does not exist")]
    UnknownTarget {
        /// What kind of thing.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The handle breaks the handle rules.
    #[error("handle {0} is not valid: 3 to 20 characters of a-z, 0-9 and _")]
    BadHandle(String),
    /// The handle is reserved.
    #[error("handle {0} is reserved")]
    ReservedHandle(String),
    /// Another account holds the handle.
    #[error("handle {0} is taken")]
    HandleTaken(String),
    /// The handle was changed too recently.
    #[error("the handle can change again at {until}")]
    HandleCooldown {
        /// When it may change (unix seconds).
        until: i64,
    },
    /// The avatar NFT is not owned by the account.
    #[error("the avatar NFT is not owned by the account")]
    AvatarNotOwned,
    /// Only the author may edit or delete a post.
    #[error("only the author may change this post")]
    NotAuthor,
    /// The edit window is over.
    #[error("posts can be edited for {minutes} minutes")]
    EditWindowClosed {
        /// The window, minutes.
        minutes: u64,
    },
    /// The post was deleted.
    #[error("the post was deleted")]
    Deleted,
    /// The edit does not apply to the current version (edited meanwhile).
    #[error("the post was edited meanwhile")]
    EditConflict,
    /// Only the thread root's author may hide replies.
    #[error("only the author of the thread may hide its replies")]
    NotRootAuthor,
    /// The target account blocked the author.
    #[error("{0} blocked this account")]
    Blocked(String),
    /// An account cannot follow, mute or block itself.
    #[error("an account cannot {0} itself")]
    SelfLink(String),
    /// The same text was posted recently.
    #[error("the same text was posted in the last {hours} hours")]
    DuplicateText {
        /// The window, hours.
        hours: u64,
    },
    /// Too many links.
    #[error("at most {limit} links are allowed")]
    TooManyLinks {
        /// The limit.
        limit: usize,
    },
    /// The signer is not a moderator.
    #[error("{0} is not a moderator")]
    NotModerator(String),
    /// Contract wallets (EIP-1271) cannot be checked: no chain connection.
    #[error("contract wallet signatures cannot be checked now: {0}")]
    ChainUnavailable(String),
    /// Nothing with this id.
    #[error("no {kind} {id}")]
    NotFound {
        /// What kind of thing.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SocialError {
    /// A malformed-message error for `field`.
    pub fn malformed(field: impl Into<String>, reason: impl ToString) -> Self {
        Self::Malformed {
            field: Some(field.into()),
            reason: reason.to_string(),
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "social.malformed",
            Self::UnknownType(_) => "social.unknown_type",
            Self::WrongChain { .. } => "social.wrong_chain",
            Self::WrongDomain { .. } => "social.wrong_domain",
            Self::BadSignature(_) => "social.bad_signature",
            Self::FutureTimestamp { .. } => "social.future_timestamp",
            Self::StaleTimestamp { .. } => "social.stale_timestamp",
            Self::AppKeyUnknown(_) => "social.app_key_unknown",
            Self::AppKeyExpired(_) => "social.app_key_expired",
            Self::AppKeyRevoked(_) => "social.app_key_revoked",
            Self::AppKeyScope(_) => "social.app_key_scope",
            Self::Banned(_) => "social.banned",
            Self::TooLong { .. } => "social.too_long",
            Self::NotNfc => "social.not_nfc",
            Self::TooMany { .. } => "social.too_many",
            Self::BadMention { .. } => "social.bad_mention",
            Self::BadEmbed { .. } => "social.bad_embed",
            Self::BadChannel { .. } => "social.bad_channel",
            Self::UnknownTarget { .. } => "social.unknown_target",
            Self::BadHandle(_) => "social.bad_handle",
            Self::ReservedHandle(_) => "social.reserved_handle",
            Self::HandleTaken(_) => "social.handle_taken",
            Self::HandleCooldown { .. } => "social.handle_cooldown",
            Self::AvatarNotOwned => "social.avatar_not_owned",
            Self::NotAuthor => "social.not_author",
            Self::EditWindowClosed { .. } => "social.edit_window_closed",
            Self::Deleted => "social.deleted",
            Self::EditConflict => "social.edit_conflict",
            Self::NotRootAuthor => "social.not_root_author",
            Self::Blocked(_) => "social.blocked",
            Self::SelfLink(_) => "social.self_link",
            Self::DuplicateText { .. } => "social.duplicate_text",
            Self::TooManyLinks { .. } => "social.too_many_links",
            Self::NotModerator(_) => "social.not_moderator",
            Self::ChainUnavailable(_) => "social.chain_unavailable",
            Self::NotFound { .. } => "not_found",
            Self::Store(_) => "unavailable",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed { .. }
            | Self::UnknownType(_)
            | Self::WrongChain { .. }
            | Self::WrongDomain { .. }
            | Self::BadSignature(_)
            | Self::FutureTimestamp { .. }
            | Self::StaleTimestamp { .. }
            | Self::NotNfc
            | Self::TooMany { .. }
            | Self::BadMention { .. }
            | Self::BadEmbed { .. }
            | Self::BadChannel { .. }
            | Self::BadHandle(_)
            | Self::SelfLink(_)
            | Self::TooManyLinks { .. } => 400,
            Self::TooLong { .. } => 413,
            Self::AppKeyUnknown(_)
            | Self::AppKeyExpired(_)
            | Self::AppKeyRevoked(_)
            | Self::AppKeyScope(_)
            | Self::Banned(_)
            | Self::NotAuthor
            | Self::NotRootAuthor
            | Self::Blocked(_)
            | Self::NotModerator(_) => 403,
            Self::NotFound { .. } => 404,
            Self::ReservedHandle(_)
            | Self::HandleTaken(_)
            | Self::HandleCooldown { .. }
            | Self::EditWindowClosed { .. }
            | Self::Deleted
            | Self::EditConflict
            | Self::DuplicateText { .. } => 409,
            Self::UnknownTarget { .. } | Self::AvatarNotOwned => 422,
            Self::ChainUnavailable(_) | Self::Store(_) => 503,
        }
    }

    /// The values the translated detail quotes (`{name}` placeholders), and the field at fault.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Malformed { field, .. } => {
                vec![("name", field.clone().unwrap_or_else(|| "body".into()))]
            }
            Self::UnknownType(t) => vec![("value", t.clone())],
            Self::WrongChain { signed, served } => {
                vec![
                    ("signed", signed.to_string()),
                    ("served", served.to_string()),
                ]
            }
            Self::WrongDomain { field } => vec![("name", (*field).to_string())],
            Self::FutureTimestamp { skew, .. } | Self::StaleTimestamp { skew, .. } => {
                vec![("minutes", (skew / 60).to_string())]
            }
            Self::AppKeyUnknown(k)
            | Self::AppKeyExpired(k)
            | Self::AppKeyRevoked(k)
            | Self::Banned(k)
            | Self::Blocked(k)
            | Self::NotModerator(k) => vec![("value", k.clone())],
            Self::AppKeyScope(t) | Self::SelfLink(t) => vec![("value", t.clone())],
            Self::TooLong { field, limit, .. } => {
                vec![("name", (*field).to_string()), ("limit", limit.to_string())]
            }
            Self::TooMany { field, limit, .. } => {
                vec![("name", (*field).to_string()), ("limit", limit.to_string())]
            }
            Self::BadMention { index } => vec![("index", index.to_string())],
            Self::BadEmbed { value } | Self::BadChannel { value } => {
                vec![("value", value.clone())]
            }
            Self::UnknownTarget { kind, id } | Self::NotFound { kind, id } => {
                vec![("kind", (*kind).to_string()), ("id", id.clone())]
            }
            Self::BadHandle(h) | Self::ReservedHandle(h) | Self::HandleTaken(h) => {
                vec![("value", h.clone())]
            }
            Self::HandleCooldown { until } => vec![("until", until.to_string())],
            Self::EditWindowClosed { minutes } => vec![("minutes", minutes.to_string())],
            Self::DuplicateText { hours } => vec![("hours", hours.to_string())],
            Self::TooManyLinks { limit } => vec![("limit", limit.to_string())],
            _ => Vec::new(),
        }
    }

    /// Machine specifics shown untranslated (a parser's message), if any.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::Malformed { reason, .. } => Some(reason.clone()),
            Self::BadSignature(r) => Some(r.clone()),
            Self::FutureTimestamp { timestamp, now, .. }
            | Self::StaleTimestamp { timestamp, now, .. } => {
                Some(format!("timestamp {timestamp}, server time {now}"))
            }
            Self::TooLong { size, .. } => Some(format!("{size} bytes")),
            Self::TooMany { count, .. } => Some(format!("{count} items")),
            _ => None,
        }
    }

    /// The parameter or field at fault.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Malformed { field, .. } => field.clone(),
            Self::TooLong { field, .. } | Self::TooMany { field, .. } => Some((*field).to_string()),
            Self::BadMention { .. } => Some("mentions".into()),
            Self::BadEmbed { .. } => Some("embeds".into()),
            Self::BadChannel { .. } => Some("channel".into()),
            Self::BadHandle(_) | Self::ReservedHandle(_) | Self::HandleTaken(_) => {
                Some("handle".into())
            }
            _ => None,
        }
    }
}

/// Result alias for `nest-social`.
pub type Result<T, E = SocialError> = std::result::Result<T, E>;
