//! SVG sanitising. An SVG served from our origin runs script in a visitor's browser unless it
//! is cleaned, and may load outside resources (tracking, SSRF from a renderer). The markup is
//! tokenised and rebuilt from an allow-list: known drawing elements only (no `script`,
//! `foreignObject`, `style`, animation or link elements: each is dropped with its content), no
//! event handler attributes, references only to fragments of the same document (`#id`), or
//! embedded raster images for `<image>`; no DOCTYPE (entity tricks), comments or processing
//! instructions. The output is well-formed and re-escaped.

use crate::error::FetchFailure;
use xmlparser::{ElementEnd, Token, Tokenizer};

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "symbol",
    "use",
    "marker",
    "image",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feMerge",
    "feMergeNode",
    "feFlood",
    "feComposite",
    "feTurbulence",
    "feDisplacementMap",
    "feMorphology",
];

/// Namespaces an `xmlns` attribute may declare.
const NAMESPACES: &[&str] = &["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"];

/// Deepest element nesting and most elements accepted.
const MAX_DEPTH: usize = 64;
const MAX_ELEMENTS: usize = 20_000;

struct Open {
    name: String,
    kept: bool,
}

/// Returns a cleaned copy of `svg`, or an error when it is not well-formed SVG.
pub fn sanitize_svg(svg: &str) -> Result<String, FetchFailure> {
    let bad = |m: &str| FetchFailure::BadImage(format!("SVG: {m}"));
    let mut out = String::with_capacity(svg.len());
    let mut stack: Vec<Open> = Vec::new();
    let mut pending: Option<Open> = None;
    let mut elements = 0usize;
    let mut root_seen = false;
    for token in Tokenizer::from(svg) {
        let token = token.map_err(|e| bad(&e.to_string()))?;
        match token {
            Token::Declaration { .. } | Token::Comment { .. } => {}
            Token::ProcessingInstruction { .. } => {}
            Token::DtdStart { .. }
            | Token::EmptyDtd { .. }
            | Token::EntityDeclaration { .. }
            | Token::DtdEnd { .. } => return Err(bad("DOCTYPE not allowed")),
            Token::ElementStart { prefix, local, .. } => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(bad("too many or too deeply nested elements"));
                }
                let name = if prefix.is_empty() {
                    local.as_str().to_string()
                } else {
                    format!("{}:{}", prefix.as_str(), local.as_str())
                };
                if stack.is_empty() {
                    if root_seen || local.as_str() != "svg" || !prefix.is_empty() {
                        return Err(bad("the root element must be <svg>"));
                    }
                    root_seen = true;
                }
                let parent_kept = stack.last().is_none_or(|o| o.kept);
                let kept = parent_kept && prefix.is_empty() && ELEMENTS.contains(&local.as_str());
                if kept {
                    out.push('<');
                    out.push_str(&name);
                }
                pending = Some(Open { name, kept });
            }
            Token::Attribute {
                prefix,
                local,
                value,
                ..
            } => {
                let Some(open) = &pending else {
                    return Err(bad("attribute outside a tag"));
                };
                if !open.kept {
                    continue;
                }
                let value = decode_entities(value.as_str()).ok_or_else(|| bad("bad entity"))?;
                let name = if prefix.is_empty() {
                    local.as_str().to_string()
                } else {
                    format!("{}:{}", prefix.as_str(), local.as_str())
                };
                if attribute_allowed(&open.name, &name, &value) {
                    out.push(' ');
                    out.push_str(&name);
                    out.push_str("=\"");
                    escape_into(&mut out, &value);
                    out.push('"');
                }
            }
            Token::ElementEnd { end, .. } => match end {
                ElementEnd::Open => {
                    let open = pending.take().ok_or_else(|| bad("stray '>'"))?;
                    if open.kept {
                        out.push('>');
                    }
                    stack.push(open);
                }
                ElementEnd::Empty => {
                    let open = pending.take().ok_or_else(|| bad("stray '/>'"))?;
                    if open.kept {
                        out.push_str("/>");
                    }
                }
                ElementEnd::Close(prefix, local) => {
                    let open = stack.pop().ok_or_else(|| bad("unbalanced close tag"))?;
                    let name = if prefix.is_empty() {
                        local.as_str().to_string()
                    } else {
                        format!("{}:{}", prefix.as_str(), local.as_str())
                    };
                    if name != open.name {
                        return Err(bad("mismatched close tag"));
                    }
                    if open.kept {
                        out.push_str("</");
                        out.push_str(&name);
                        out.push('>');
                    }
                }
            },
            Token::Text { text } | Token::Cdata { text, .. } => {
                if stack.last().is_some_and(|o| o.kept) {
                    let text = decode_entities(text.as_str()).ok_or_else(|| bad("bad entity"))?;
                    escape_into(&mut out, &text);
                }
            }
        }
    }
    if !root_seen || !stack.is_empty() || pending.is_some() {
        return Err(bad("not a complete SVG document"));
    }
    Ok(out)
}

fn attribute_allowed(element: &str, name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("on") {
        return false;
    }
    if lower == "xmlns" || lower.starts_with("xmlns:") {
        return NAMESPACES.contains(&value.trim());
    }
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if lower == "href" || lower == "xlink:href" {
        return squeezed.starts_with('#')
            || (element == "image"
                && ["png", "jpeg", "gif", "webp"]
                    .iter()
                    .any(|t| squeezed.starts_with(&format!("data:image/{t};base64,"))));
    }
    if name.contains(':') && lower != "xml:space" {
        return false;
    }
    for danger in [
        "javascript:",
        "vbscript:",
        "data:",
        "expression(",
        "@import",
        "behavior:",
    ] {
        if squeezed.contains(danger) {
            return false;
        }
    }
    // Paint servers and filters may point at fragments of this document only.
    let mut rest = squeezed.as_str();
    while let Some(at) = rest.find("url(") {
        let inner = rest[at + 4..].trim_start_matches(['"', '\'']);
        if !inner.starts_with('#') {
            return false;
        }
        rest = &rest[at + 4..];
    }
    true
}

/// Decodes the five predefined entities and numeric character references.
fn decode_entities(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail.find(';')?;
        let entity = &tail[..end];
        let ch = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code =
                    if let Some(hex) = entity.strip_prefix("#x").or(entity.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok()?
                    } else {
                        entity.strip_prefix('#')?.parse().ok()?
                    };
                char::from_u32(code)?
            }
        };
        out.push(ch);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawing_survives() {
        let svg = r##"<?xml version="1.0"?><!-- hi --><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/><text x="1">a &amp; b</text></svg>"##;
        let clean = sanitize_svg(svg).expect("test value");
        assert_eq!(
            clean,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/><text x="1">a &amp; b</text></svg>"##
        );
    }

    #[test]
    fn script_handlers_and_external_references_are_removed() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:evil="http://evil" onload="alert(1)">
            <script>alert(1)</script>
            <script xlink:href="https://evil/x.js"/>
            <foreignObject><iframe src="https://evil"/></foreignObject>
            <style>@import url(https://evil/x.css);</style>
            <a href="javascript:alert(1)"><rect width="1"/></a>
            <rect width="1" OnClick="x()" fill="url(https://evil/p)" style="background:url('https://evil')"/>
            <use href="https://evil/sprite.svg#a"/>
            <use xlink:href="&#106;avascript:alert(1)"/>
            <image href="https://evil/track.png"/>
            <image href="data:image/png;base64,iVBOR"/>
            <animate attributeName="href" to="javascript:alert(1)"/>
            <circle r="1" fill="url( '#ok' )"/>
        </svg>"##;
        let clean = sanitize_svg(svg).expect("test value");
        for bad in [
            "script",
            "onload",
            "OnClick",
            "evil",
            "javascript",
            "foreignObject",
            "iframe",
            "style",
            "animate",
            "<a",
            "@import",
        ] {
            assert!(!clean.contains(bad), "{bad} left in {clean}");
        }
        assert!(clean.contains(r#"<image href="data:image/png;base64,iVBOR"/>"#));
        assert!(clean.contains("<circle r=\"1\" fill=\"url( &#39;#ok&#39; )\"/>"));
    }

    #[test]
    fn malformed_or_tricky_documents_are_refused() {
        for svg in [
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>"#,
            "<html><svg/></html>",
            "<svg><g></svg>",
            "<svg>",
            "<svg/><svg/>",
            "not xml",
            "<svg>&bogus;</svg>",
        ] {
            assert!(sanitize_svg(svg).is_err(), "{svg}");
        }
        let deep = format!("<svg>{}{}</svg>", "<g>".repeat(100), "</g>".repeat(100));
        assert!(sanitize_svg(&deep).is_err());
    }
}
