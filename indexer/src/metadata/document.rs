//! Reading a metadata document: sniffed as JSON by content (a declared type proves nothing),
//! nesting bounded before parsing, then the OpenSea metadata standard's fields taken out with
//! every string capped and stripped of control characters (clients render them as text).

use crate::error::FetchFailure;
use nest_store::{ParsedMetadata, Trait};
use serde_json::Value;

/// Most attributes kept per token.
const MAX_ATTRIBUTES: usize = 100;
/// Longest name, trait type or value kept (characters).
const MAX_SHORT: usize = 200;
/// Longest description kept.
const MAX_DESCRIPTION: usize = 10_000;
/// Longest URL kept (a `data:` image may be long; the image cap bounds it too).
const MAX_URL: usize = 8 * 1024 * 1024;

/// The parsed document and, when it embeds an SVG (`image_data`), that SVG's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The OpenSea fields.
    pub parsed: ParsedMetadata,
    /// `image_data`: raw SVG markup, to sanitise like a fetched SVG.
    pub image_data: Option<String>,
}

/// Parses `bytes` as a metadata document.
pub fn parse_document(bytes: &[u8], max_depth: usize) -> Result<Document, FetchFailure> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(FetchFailure::BadJson("not a JSON object".into()));
    }
    check_depth(bytes, max_depth)?;
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| FetchFailure::BadJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(FetchFailure::BadJson("not a JSON object".into()));
    };
    let text = |key: &str, max: usize| map.get(key).and_then(|v| scalar(v, max));
    let attributes = match map.get("attributes").or_else(|| map.get("traits")) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Object(a) => {
                    let value = a.get("value").and_then(|v| scalar(v, MAX_SHORT))?;
                    Some(Trait {
                        trait_type: a
                            .get("trait_type")
                            .and_then(|v| scalar(v, MAX_SHORT))
                            .unwrap_or_default(),
                        value,
                        display_type: a.get("display_type").and_then(|v| scalar(v, MAX_SHORT)),
                    })
                }
                // A bare value is a trait without a type.
                other => scalar(other, MAX_SHORT).map(|value| Trait {
                    trait_type: String::new(),
                    value,
                    display_type: None,
                }),
            })
            .take(MAX_ATTRIBUTES)
            .collect(),
        // The older `{ "type": "value" }` form.
        Some(Value::Object(pairs)) => pairs
            .iter()
            .filter_map(|(k, v)| {
                Some(Trait {
                    trait_type: clean(k, MAX_SHORT),
                    value: scalar(v, MAX_SHORT)?,
                    display_type: None,
                })
            })
            .take(MAX_ATTRIBUTES)
            .collect(),
        _ => Vec::new(),
    };
    let parsed = ParsedMetadata {
        name: text("name", MAX_SHORT),
        description: text("description", MAX_DESCRIPTION),
        image: text("image", MAX_URL).or_else(|| text("image_url", MAX_URL)),
        animation_url: text("animation_url", MAX_URL),
        external_url: text("external_url", MAX_URL),
        background_color: text("background_color", 6)
            .filter(|c| c.len() == 6 && c.chars().all(|ch| ch.is_ascii_hexdigit())),
        attributes,
    };
    let image_data = match map.get("image_data") {
        Some(Value::String(svg)) => Some(svg.clone()),
        _ => None,
    };
    Ok(Document { parsed, image_data })
}

/// A string, number or boolean as text; other values are ignored.
fn scalar(value: &Value, max: usize) -> Option<String> {
    match value {
        Value::String(s) => Some(clean(s, max)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Drops control characters (newlines and tabs excepted) and keeps at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Refuses JSON nested deeper than `max` (counted without parsing, so a hostile document cannot
/// exhaust the parser's stack or memory first).
fn check_depth(bytes: &[u8], max: usize) -> Result<(), FetchFailure> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(FetchFailure::TooDeep(max));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// An image format recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    WebP,
    /// SVG (text).
    Svg,
}

impl ImageKind {
    /// The media type served.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
            Self::Svg => "image/svg+xml",
        }
    }
}

/// Sniffs an image's format from its content.
pub fn sniff_image(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(ImageKind::Png);
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Some(ImageKind::Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageKind::Gif);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(ImageKind::WebP);
    }
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head));
    let text = text.trim_start();
    if (text.starts_with('<')) && text.contains("<svg") {
        return Some(ImageKind::Svg);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opensea_fields_are_parsed() {
        let doc = parse_document(
            br#"{"name":"Nest #1","description":"d\u0007","image":"ipfs://x","external_url":"https://e",
               "animation_url":"ar://a","background_color":"00ff00",
               "attributes":[{"trait_type":"Color","value":"Red"},{"trait_type":"Level","value":5,"display_type":"number"},"Loose",{"value":{"x":1}}]}"#,
            32,
        )
        .expect("test value");
        let p = doc.parsed;
        assert_eq!(p.name.as_deref(), Some("Nest #1"));
        assert_eq!(
            p.description.as_deref(),
            Some("d"),
            "control characters dropped"
        );
        assert_eq!(p.image.as_deref(), Some("ipfs://x"));
        assert_eq!(p.background_color.as_deref(), Some("00ff00"));
        assert_eq!(p.attributes.len(), 3, "an object value is not a trait");
        assert_eq!(p.attributes[1].value, "5");
        assert_eq!(p.attributes[1].display_type.as_deref(), Some("number"));
        assert_eq!(p.attributes[2].trait_type, "");
        let legacy = parse_document(br#"{"attributes":{"Hat":"Cap"}}"#, 32).expect("test value");
        assert_eq!(legacy.parsed.attributes[0].trait_type, "Hat");
    }

    #[test]
    fn hostile_json_is_refused() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            parse_document(deep.as_bytes(), 32)
                .expect_err("must fail")
                .reason(),
            "too_deep"
        );
        let in_string = format!("{{\"a\":\"{}\"}}", "[".repeat(100));
        assert!(parse_document(in_string.as_bytes(), 32).is_ok());
        assert_eq!(
            parse_document(b"<html>", 32)
                .expect_err("must fail")
                .reason(),
            "bad_json"
        );
        assert_eq!(
            parse_document(b"[1]", 32).expect_err("must fail").reason(),
            "bad_json"
        );
        assert_eq!(
            parse_document(b"{\"a\":", 32)
                .expect_err("must fail")
                .reason(),
            "bad_json"
        );
    }

    #[test]
    fn images_are_recognised_by_content() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some(ImageKind::Png));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::WebP));
        assert_eq!(
            sniff_image(b"  <?xml version=\"1.0\"?><svg></svg>"),
            Some(ImageKind::Svg)
        );
        assert_eq!(sniff_image(b"<html><script>"), None);
        assert_eq!(sniff_image(b"MZ\x90\0"), None);
    }
}
