//! The signed messages: EIP-712 types, the domain (bound to the chain id and the api's
//! origin), and the JSON envelope clients post.
//!
//! The domain is `{ name: "Nest Social", version: "1", chainId, salt: keccak256(origin) }`:
//! a signature made for another deployment (chain) or another site (origin) never verifies
//! here. The envelope repeats the domain so a mismatch is refused with a precise code instead
//! of a bare "bad signature".
//!
//! A message's id is its EIP-712 signing hash: a replayed message has the same id and is a
//! no-op.

use crate::error::{Result, SocialError};
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    sol,
    sol_types::{Eip712Domain, SolStruct},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The domain's `name`.
pub const DOMAIN_NAME: &str = "Nest Social";
/// The domain's `version`.
pub const DOMAIN_VERSION: &str = "1";

sol! {
    /// A mention: the account, and the byte range `[start, end)` of the text showing it.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Mention {
        address account;
        uint32 start;
        uint32 end;
    }

    /// A post, or (with a non-zero `parent`) a comment.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Post {
        address account;
        uint64 timestamp;
        string text;
        Mention[] mentions;
        string[] embeds;
        string channel;
        bytes32 parent;
    }

    /// An edit of a post's text (within the edit window).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Edit {
        address account;
        uint64 timestamp;
        bytes32 target;
        string text;
        Mention[] mentions;
    }

    /// Deletes a post (a tombstone stays in its thread).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Delete {
        address account;
        uint64 timestamp;
        bytes32 target;
    }

    /// Likes (`active`) or unlikes a post.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Like {
        address account;
        uint64 timestamp;
        bytes32 target;
        bool active;
    }

    /// Follows, mutes or blocks (`kind`) an account, or undoes it (`active` false).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Link {
        address account;
        uint64 timestamp;
        string kind;
        address target;
        bool active;
    }

    /// Mutes (or unmutes) a keyword in the account's feeds.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct KeywordMute {
        address account;
        uint64 timestamp;
        string keyword;
        bool active;
    }

    /// Hides (or shows again) a reply in a thread the account started.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Hide {
        address account;
        uint64 timestamp;
        bytes32 target;
        bool hidden;
    }

    /// Sets the profile: handle (empty: none), display name, bio, avatar NFT (zero contract:
    /// none).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Profile {
        address account;
        uint64 timestamp;
        string handle;
        string displayName;
        string bio;
        address avatarContract;
        uint256 avatarTokenId;
    }

    /// Reports a post (hash) or an account (address) to the moderators.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Report {
        address account;
        uint64 timestamp;
        string target;
        string reason;
    }

    /// A moderator's action: `takedown` / `restore` a post, `ban` / `unban` an account.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Moderate {
        address account;
        uint64 timestamp;
        string action;
        string target;
        string reason;
    }

    /// Delegates social writes to an app key until `expiry` (signed by the wallet itself).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct AppKeyGrant {
        address account;
        uint64 timestamp;
        address appKey;
        string scope;
        uint64 expiry;
    }

    /// Revokes an app key (signed by the wallet itself).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct AppKeyRevoke {
        address account;
        uint64 timestamp;
        address appKey;
    }
}

/// The only scope an app key can be given: social writes.
pub const APP_KEY_SCOPE: &str = "social";

/// A parsed message of any type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `post`
    Post(Post),
    /// `edit`
    Edit(Edit),
    /// `delete`
    Delete(Delete),
    /// `like`
    Like(Like),
    /// `link`
    Link(Link),
    /// `keyword_mute`
    KeywordMute(KeywordMute),
    /// `hide`
    Hide(Hide),
    /// `profile`
    Profile(Profile),
    /// `report`
    Report(Report),
    /// `moderate`
    Moderate(Moderate),
    /// `app_key`
    AppKeyGrant(AppKeyGrant),
    /// `app_key_revoke`
    AppKeyRevoke(AppKeyRevoke),
}

/// Every message type, as named in the envelope's `type`.
pub const TYPES: [&str; 12] = [
    "post",
    "edit",
    "delete",
    "like",
    "link",
    "keyword_mute",
    "hide",
    "profile",
    "report",
    "moderate",
    "app_key",
    "app_key_revoke",
];

/// Types an app key may sign (everything but key management and moderation).
pub const APP_KEY_TYPES: [&str; 9] = [
    "post",
    "edit",
    "delete",
    "like",
    "link",
    "keyword_mute",
    "hide",
    "profile",
    "report",
];

macro_rules! each_body {
    ($body:expr, $m:ident => $e:expr) => {
        match $body {
            Body::Post($m) => $e,
            Body::Edit($m) => $e,
            Body::Delete($m) => $e,
            Body::Like($m) => $e,
            Body::Link($m) => $e,
            Body::KeywordMute($m) => $e,
            Body::Hide($m) => $e,
            Body::Profile($m) => $e,
            Body::Report($m) => $e,
            Body::Moderate($m) => $e,
            Body::AppKeyGrant($m) => $e,
            Body::AppKeyRevoke($m) => $e,
        }
    };
}

impl Body {
    /// The envelope `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Post(_) => "post",
            Self::Edit(_) => "edit",
            Self::Delete(_) => "delete",
            Self::Like(_) => "like",
            Self::Link(_) => "link",
            Self::KeywordMute(_) => "keyword_mute",
            Self::Hide(_) => "hide",
            Self::Profile(_) => "profile",
            Self::Report(_) => "report",
            Self::Moderate(_) => "moderate",
            Self::AppKeyGrant(_) => "app_key",
            Self::AppKeyRevoke(_) => "app_key_revoke",
        }
    }

    /// The account the message acts for.
    pub fn account(&self) -> Address {
        each_body!(self, m => m.account)
    }

    /// The message's timestamp, seconds.
    pub fn timestamp(&self) -> u64 {
        each_body!(self, m => m.timestamp)
    }

    /// The EIP-712 signing hash under `domain`: the message's id.
    pub fn signing_hash(&self, domain: &Eip712Domain) -> B256 {
        each_body!(self, m => m.eip712_signing_hash(domain))
    }

    /// The message as canonical JSON (what is stored and served back).
    pub fn to_json(&self) -> serde_json::Value {
        each_body!(self, m => serde_json::to_value(m).unwrap_or_default())
    }

    /// Parses the `message` of an envelope of type `kind`.
    pub fn parse(kind: &str, message: serde_json::Value) -> Result<Self> {
        fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
            serde_json::from_value(value).map_err(|e| {
                let text = e.to_string();
                let field = text
                    .split('`')
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or_else(|| "message".into());
                SocialError::malformed(field, text)
            })
        }
        Ok(match kind {
            "post" => Self::Post(typed(message)?),
            "edit" => Self::Edit(typed(message)?),
            "delete" => Self::Delete(typed(message)?),
            "like" => Self::Like(typed(message)?),
            "link" => Self::Link(typed(message)?),
            "keyword_mute" => Self::KeywordMute(typed(message)?),
            "hide" => Self::Hide(typed(message)?),
            "profile" => Self::Profile(typed(message)?),
            "report" => Self::Report(typed(message)?),
            "moderate" => Self::Moderate(typed(message)?),
            "app_key" => Self::AppKeyGrant(typed(message)?),
            "app_key_revoke" => Self::AppKeyRevoke(typed(message)?),
            other => return Err(SocialError::UnknownType(other.chars().take(40).collect())),
        })
    }
}

/// The EIP-712 domain as JSON (in envelopes and `GET /v1/social/domain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainJson {
    /// `Nest Social`.
    pub name: String,
    /// `1`.
    pub version: String,
    /// The chain id.
    pub chain_id: u64,
    /// keccak256 of the api's origin (`https://app.example`).
    #[schema(value_type = String, pattern = "^0x[0-9a-f]{64}$")]
    pub salt: B256,
}

/// The domain messages are signed under.
#[derive(Debug, Clone)]
pub struct SocialDomain {
    json: DomainJson,
    domain: Eip712Domain,
}

impl SocialDomain {
    /// The domain of chain `chain_id` served at `origin` (`https://app.example`, no trailing
    /// slash).
    pub fn new(chain_id: u64, origin: &str) -> Self {
        let salt = keccak256(origin.trim_end_matches('/').as_bytes());
        let json = DomainJson {
            name: DOMAIN_NAME.into(),
            version: DOMAIN_VERSION.into(),
            chain_id,
            salt,
        };
        let domain = Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(chain_id)),
            None,
            Some(salt),
        );
        Self { json, domain }
    }

    /// The alloy domain.
    pub fn eip712(&self) -> &Eip712Domain {
        &self.domain
    }

    /// The JSON form.
    pub fn json(&self) -> &DomainJson {
        &self.json
    }

    /// Refuses a domain other than this one, naming what differs.
    pub fn check(&self, other: &DomainJson) -> Result<()> {
        if other.chain_id != self.json.chain_id {
            return Err(SocialError::WrongChain {
                signed: other.chain_id,
                served: self.json.chain_id,
            });
        }
        if other.name != self.json.name {
            return Err(SocialError::WrongDomain { field: "name" });
        }
        if other.version != self.json.version {
            return Err(SocialError::WrongDomain { field: "version" });
        }
        if other.salt != self.json.salt {
            return Err(SocialError::WrongDomain { field: "salt" });
        }
        Ok(())
    }
}

/// What clients post to `POST /v1/social/messages`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// The message type (`post`, `like`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The domain it was signed under.
    pub domain: DomainJson,
    /// The typed message (fields of the EIP-712 struct of `type`, camelCase; uint256 as
    /// decimal strings, bytes32 and addresses as 0x hex).
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
    /// The signature: 65 bytes (r, s, v) for a wallet or app key, anything the contract
    /// accepts for an EIP-1271 wallet.
    pub signature: String,
    /// The app key that signed, when not the account itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^0x[0-9a-fA-F]{40}$")]
    pub app_key: Option<Address>,
}

/// A parsed envelope: the message, its id, and the signature bytes.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The message.
    pub body: Body,
    /// Its id (signing hash).
    pub hash: B256,
    /// The signature.
    pub signature: Vec<u8>,
    /// The app key that signed, if any.
    pub app_key: Option<Address>,
}

/// Largest signature accepted, bytes (contract wallets may send more than 65).
pub const MAX_SIGNATURE: usize = 4096;

/// Parses an envelope posted as JSON text, checks its domain and computes its id.
pub fn parse_envelope(bytes: &[u8], domain: &SocialDomain) -> Result<Parsed> {
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        let field = text.split('`').nth(1).map(str::to_string);
        SocialError::Malformed {
            field,
            reason: text,
        }
    })?;
    if !TYPES.contains(&envelope.kind.as_str()) {
        return Err(SocialError::UnknownType(
            envelope.kind.chars().take(40).collect(),
        ));
    }
    domain.check(&envelope.domain)?;
    let body = Body::parse(&envelope.kind, envelope.message)?;
    let hex = envelope
        .signature
        .strip_prefix("0x")
        .unwrap_or(&envelope.signature);
    if hex.len() > MAX_SIGNATURE * 2 {
        return Err(SocialError::TooLong {
            field: "signature",
            size: hex.len() / 2,
            limit: MAX_SIGNATURE,
        });
    }
    let signature = alloy::hex::decode(hex)
        .map_err(|e| SocialError::malformed("signature", format!("not hex: {e}")))?;
    Ok(Parsed {
        hash: body.signing_hash(domain.eip712()),
        body,
        signature,
        app_key: envelope.app_key,
    })
}

/// Signs `body` under `domain` with `signer` and wraps it in an envelope (JSON bytes) ready to
/// post; `app_key` names the signer when it is an app key rather than the account. Used by
/// `nest dev`'s seeding, tests and benchmarks (browsers sign with the wallet instead).
pub fn signed_envelope(
    domain: &SocialDomain,
    body: &Body,
    signer: &dyn alloy::signers::SignerSync,
    app_key: Option<Address>,
) -> Result<Vec<u8>> {
    let signature = signer
        .sign_hash_sync(&body.signing_hash(domain.eip712()))
        .map_err(|e| SocialError::BadSignature(e.to_string()))?;
    let envelope = Envelope {
        kind: body.kind().to_string(),
        domain: domain.json().clone(),
        message: body.to_json(),
        signature: format!("0x{}", alloy::hex::encode(signature.as_bytes())),
        app_key,
    };
    serde_json::to_vec(&envelope).map_err(|e| SocialError::malformed("envelope", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_depends_on_chain_and_origin() {
        let like = Body::Like(Like {
            account: Address::repeat_byte(1),
            timestamp: 1,
            target: B256::repeat_byte(2),
            active: true,
        });
        let here = SocialDomain::new(1, "https://app.example");
        let other_chain = SocialDomain::new(2, "https://app.example");
        let other_site = SocialDomain::new(1, "https://evil.example");
        let id = like.signing_hash(here.eip712());
        assert_ne!(id, like.signing_hash(other_chain.eip712()));
        assert_ne!(id, like.signing_hash(other_site.eip712()));
        assert_eq!(
            id,
            like.signing_hash(SocialDomain::new(1, "https://app.example/").eip712())
        );
    }

    #[test]
    fn an_envelope_names_what_is_wrong() {
        let domain = SocialDomain::new(31337, "http://localhost:8080");
        let envelope = |kind: &str, chain: u64, message: serde_json::Value| {
            serde_json::json!({
                "type": kind,
                "domain": { "name": "Nest Social", "version": "1", "chainId": chain, "salt": domain.json().salt },
                "message": message,
                "signature": "0x00",
            })
            .to_string()
        };
        let like = serde_json::json!({
            "account": Address::repeat_byte(1), "timestamp": 5,
            "target": B256::repeat_byte(2), "active": true,
        });
        let ok = parse_envelope(envelope("like", 31337, like.clone()).as_bytes(), &domain)
            .expect("parses");
        assert_eq!(ok.body.kind(), "like");
        let code = |text: String| {
            parse_envelope(text.as_bytes(), &domain)
                .expect_err("refused")
                .code()
        };
        assert_eq!(
            code(envelope("like", 1, like.clone())),
            "social.wrong_chain"
        );
        assert_eq!(
            code(envelope("poke", 31337, like.clone())),
            "social.unknown_type"
        );
        let mut extra = like.clone();
        extra["admin"] = true.into();
        assert_eq!(code(envelope("like", 31337, extra)), "social.malformed");
        assert_eq!(code("{".into()), "social.malformed");
        let wrong_salt = envelope("like", 31337, like).replace(
            &format!("{:#x}", domain.json().salt),
            &format!("{:#x}", B256::ZERO),
        );
        assert_eq!(code(wrong_salt), "social.wrong_domain");
    }
}
