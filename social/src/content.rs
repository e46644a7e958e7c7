//! Content rules that need no store: text size and normalisation, mentions, embeds, channels,
//! handles, links. Everything is plain text: nothing is ever rendered or escaped here, the api
//! returns it as JSON strings.

use crate::{
    error::{Result, SocialError},
    message::Mention,
};
use alloy::primitives::{Address, U256};
use unicode_normalization::{IsNormalized, is_nfc_quick};

/// Largest post text, bytes (Farcaster's long casts).
pub const MAX_TEXT: usize = 1024;
/// Most mentions per post.
pub const MAX_MENTIONS: usize = 10;
/// Most embeds per post.
pub const MAX_EMBEDS: usize = 4;
/// Largest URL embed, bytes.
pub const MAX_URL: usize = 256;
/// Largest bio, bytes.
pub const MAX_BIO: usize = 256;
/// Largest display name, bytes.
pub const MAX_DISPLAY_NAME: usize = 64;
/// Largest report reason or moderation reason, bytes.
pub const MAX_REASON: usize = 512;
/// Largest muted keyword, bytes.
pub const MAX_KEYWORD: usize = 64;
/// Most links (URLs in the text plus URL embeds) per post.
pub const MAX_LINKS: usize = 4;

/// Handles nobody may take.
pub const RESERVED_HANDLES: [&str; 16] = [
    "admin",
    "administrator",
    "api",
    "dao",
    "help",
    "mod",
    "moderator",
    "moderators",
    "nest",
    "null",
    "official",
    "root",
    "security",
    "support",
    "system",
    "undefined",
];

/// Checks a text field's size and NFC form.
pub fn check_text(field: &'static str, text: &str, limit: usize) -> Result<()> {
    if text.len() > limit {
        return Err(SocialError::TooLong {
            field,
            size: text.len(),
            limit,
        });
    }
    // Signed as sent: we never rewrite the text (that would change what was signed and move
    // the mentions' byte positions), so it must arrive normalised.
    let nfc = match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => unicode_normalization::is_nfc(text),
    };
    if !nfc {
        return Err(SocialError::NotNfc);
    }
    Ok(())
}

/// Checks mentions: at most [`MAX_MENTIONS`], each a non-empty byte range on character
/// boundaries inside `text`, sorted and not overlapping.
pub fn check_mentions(text: &str, mentions: &[Mention]) -> Result<()> {
    if mentions.len() > MAX_MENTIONS {
        return Err(SocialError::TooMany {
            field: "mentions",
            count: mentions.len(),
            limit: MAX_MENTIONS,
        });
    }
    let mut previous_end = 0usize;
    for (index, m) in mentions.iter().enumerate() {
        let (start, end) = (m.start as usize, m.end as usize);
        let ok = start < end
            && end <= text.len()
            && start >= previous_end
            && text.is_char_boundary(start)
            && text.is_char_boundary(end)
            && m.account != Address::ZERO;
        if !ok {
            return Err(SocialError::BadMention { index });
        }
        previous_end = end;
    }
    Ok(())
}

/// A Nest thing an embed or channel refers to, checked against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `nft:<contract>:<tokenId>`
    Nft(Address, U256),
    /// `collection:<contract>`
    Collection(Address),
    /// `listing:<id>`
    Listing(U256),
    /// `auction:<id>`
    Auction(U256),
    /// `proposal:<id>`
    Proposal(U256),
}

fn parse_reference(text: &str) -> Option<Reference> {
    let (kind, rest) = text.split_once(':')?;
    let number = |s: &str| -> Option<U256> {
        if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let address = |s: &str| -> Option<Address> {
        if s.len() != 42 || !s.starts_with("0x") || s != s.to_ascii_lowercase() {
            return None;
        }
        s.parse().ok()
    };
    match kind {
        "nft" => {
            let (contract, token) = rest.split_once(':')?;
            Some(Reference::Nft(address(contract)?, number(token)?))
        }
        "collection" => Some(Reference::Collection(address(rest)?)),
        "listing" => Some(Reference::Listing(number(rest)?)),
        "auction" => Some(Reference::Auction(number(rest)?)),
        "proposal" => Some(Reference::Proposal(number(rest)?)),
        _ => None,
    }
}

/// What an embed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embed {
    /// A Nest thing (checked against the store).
    Nest(Reference),
    /// An http(s) URL.
    Url(String),
}

/// Parses an embed: a Nest reference (`nft:0x…:1`, `listing:3`, `auction:2`, `proposal:…`) or
/// an http(s) URL of at most [`MAX_URL`] bytes without whitespace or control characters.
pub fn parse_embed(text: &str) -> Result<Embed> {
    let bad = || SocialError::BadEmbed {
        value: text.chars().take(80).collect(),
    };
    if text.starts_with("https://") || text.starts_with("http://") {
        let clean = text.len() <= MAX_URL
            && text.len() > "https://".len()
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        return if clean {
            Ok(Embed::Url(text.to_string()))
        } else {
            Err(bad())
        };
    }
    match parse_reference(text) {
        Some(Reference::Collection(_)) | None => Err(bad()),
        Some(r) => Ok(Embed::Nest(r)),
    }
}

/// Parses a channel: empty (none), a name of 1-32 `[a-z0-9_-]`, or a Nest thread
/// (`collection:0x…`, `nft:0x…:1`, `proposal:…`). Returns the reference to check, if any.
pub fn parse_channel(channel: &str) -> Result<Option<Reference>> {
    if channel.is_empty() {
        return Ok(None);
    }
    let bad = || SocialError::BadChannel {
        value: channel.chars().take(80).collect(),
    };
    if channel.contains(':') {
        return match parse_reference(channel) {
            Some(r @ (Reference::Collection(_) | Reference::Nft(..) | Reference::Proposal(_))) => {
                Ok(Some(r))
            }
            _ => Err(bad()),
        };
    }
    let name_ok = channel.len() <= 32
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if name_ok { Ok(None) } else { Err(bad()) }
}

/// Checks a handle (3-20 of `[a-z0-9_]`, compared case-insensitively, not reserved) and
/// returns its lowercase form.
pub fn check_handle(handle: &str) -> Result<String> {
    let lower = handle.to_ascii_lowercase();
    let ok = (3..=20).contains(&lower.len())
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(SocialError::BadHandle(handle.chars().take(40).collect()));
    }
    if RESERVED_HANDLES.contains(&lower.as_str()) {
        return Err(SocialError::ReservedHandle(lower));
    }
    Ok(lower)
}

/// URLs in a text (`http://` or `https://` prefixes).
pub fn link_count(text: &str) -> usize {
    let lower = text.to_ascii_lowercase();
    lower.matches("http://").count() + lower.matches("https://").count()
}

/// The duplicate-detection fingerprint of a text: keccak of its lowercase words.
pub fn fingerprint(text: &str) -> String {
    let normal: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    format!("{:x}", alloy::primitives::keccak256(normal.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(start: u32, end: u32) -> Mention {
        Mention {
            account: Address::repeat_byte(7),
            start,
            end,
        }
    }

    #[test]
    fn text_rules() {
        assert!(check_text("text", &"a".repeat(1024), MAX_TEXT).is_ok());
        assert_eq!(
            check_text("text", &"a".repeat(1025), MAX_TEXT)
                .expect_err("long")
                .code(),
            "social.too_long"
        );
        // "é" as e + combining acute is not NFC; the precomposed form is.
        assert_eq!(
            check_text("text", "cafe\u{301}", MAX_TEXT)
                .expect_err("nfd")
                .code(),
            "social.not_nfc"
        );
        assert!(check_text("text", "caf\u{e9}", MAX_TEXT).is_ok());
    }

    #[test]
    fn mentions_are_byte_ranges_on_char_boundaries() {
        let text = "hi @bob and @한글";
        assert!(check_mentions(text, &[mention(3, 7), mention(12, 19)]).is_ok());
        for bad in [
            vec![mention(3, 3)],
            vec![mention(3, 40)],
            vec![mention(14, 19)],
            vec![mention(12, 19), mention(3, 7)],
            vec![mention(3, 7), mention(5, 9)],
        ] {
            assert_eq!(
                check_mentions(text, &bad).expect_err("bad").code(),
                "social.bad_mention"
            );
        }
        let many: Vec<Mention> = (0..11).map(|i| mention(i, i + 1)).collect();
        assert_eq!(
            check_mentions(&"x".repeat(20), &many)
                .expect_err("many")
                .code(),
            "social.too_many"
        );
    }

    #[test]
    fn embeds_channels_and_handles() {
        assert!(matches!(
            parse_embed("nft:0x1111111111111111111111111111111111111111:7"),
            Ok(Embed::Nest(Reference::Nft(..)))
        ));
        assert!(matches!(parse_embed("proposal:123"), Ok(Embed::Nest(_))));
        assert!(matches!(
            parse_embed("https://example.com/a"),
            Ok(Embed::Url(_))
        ));
        for bad in [
            "javascript:alert(1)",
            "https://a b",
            "listing:-1",
            "ftp://x",
            "nft:0x11:1",
        ] {
            assert!(parse_embed(bad).is_err(), "{bad}");
        }
        assert!(parse_embed(&format!("https://e.com/{}", "a".repeat(250))).is_err());
        assert_eq!(parse_channel("art").expect("ok"), None);
        assert!(parse_channel("proposal:5").expect("ok").is_some());
        assert!(parse_channel("Art").is_err());
        assert!(parse_channel("listing:1").is_err());
        assert_eq!(check_handle("Alice_01").expect("ok"), "alice_01");
        assert_eq!(
            check_handle("ab").expect_err("short").code(),
            "social.bad_handle"
        );
        assert_eq!(
            check_handle("al-ice").expect_err("dash").code(),
            "social.bad_handle"
        );
        assert_eq!(
            check_handle("Admin").expect_err("reserved").code(),
            "social.reserved_handle"
        );
        assert_eq!(link_count("see https://a.com and HTTP://b.com"), 2);
        assert_eq!(fingerprint("Hello   World"), fingerprint("hello world"));
    }
}
