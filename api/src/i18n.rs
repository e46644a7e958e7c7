//! Message catalogues (`api/i18n/{en,ko,ja,zh}.json`) and `Accept-Language` negotiation.
//!
//! Each code has a `title` (the problem type's summary, fixed text) and a `detail` (this
//! occurrence, with `{name}` placeholders). Titles are their own text, never derived from a
//! detail, so a value quoted in the detail cannot change the title.

use serde::Deserialize;
use std::{collections::HashMap, sync::OnceLock};

/// Languages Nest answers in; the first is the fallback.
pub const LANGUAGES: [&str; 4] = ["en", "ko", "ja", "zh"];

/// One code's texts in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    title: String,
    detail: String,
}

type Catalog = HashMap<String, Entry>;

fn catalogs() -> &'static HashMap<&'static str, Catalog> {
    static CATALOGS: OnceLock<HashMap<&'static str, Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        let sources = [
            ("en", include_str!("../i18n/en.json")),
            ("ko", include_str!("../i18n/ko.json")),
            ("ja", include_str!("../i18n/ja.json")),
            ("zh", include_str!("../i18n/zh.json")),
        ];
        sources
            .into_iter()
            // The catalogues are checked in and validated by a test; a broken one is empty.
            .map(|(lang, text)| (lang, serde_json::from_str(text).unwrap_or_default()))
            .collect()
    })
}

/// Every message code of the catalogue of `lang`.
pub fn codes(lang: &str) -> Vec<String> {
    catalogs()
        .get(lang)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default()
}

/// The best supported language for an `Accept-Language` header (RFC 9110 quality values),
/// English when nothing matches.
pub fn negotiate(header: Option<&str>) -> &'static str {
    let Some(header) = header else {
        return LANGUAGES[0];
    };
    let mut best: Option<(&'static str, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        if let Some(lang) = LANGUAGES.iter().find(|l| **l == primary)
            && quality > 0.0
            && best.is_none_or(|(_, q)| quality > q)
        {
            best = Some((lang, quality));
        }
    }
    best.map(|(lang, _)| lang).unwrap_or(LANGUAGES[0])
}

fn entry(lang: &str, code: &str) -> Option<&'static Entry> {
    let all = catalogs();
    all.get(lang)
        .and_then(|c| c.get(code))
        .or_else(|| all.get("en").and_then(|c| c.get(code)))
}

/// The detail for `code` in `lang` (English fallback) with `{name}` placeholders filled.
pub fn message(lang: &str, code: &str, params: &[(&str, String)]) -> String {
    let template = entry(lang, code)
        .map(|e| e.detail.clone())
        .unwrap_or_else(|| code.to_string());
    params.iter().fold(template, |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

/// The title of `code` in `lang` (English fallback): fixed text, no placeholders.
pub fn title(lang: &str, code: &str) -> String {
    entry(lang, code)
        .map(|e| e.title.clone())
        .unwrap_or_else(|| code.to_string())
}

/// The `{name}` placeholders of a template, sorted.
fn placeholders(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|p| p.split('}').next())
        .map(str::to_string)
        .collect();
    found.sort();
    found
}

/// True when the detail of `code` needs no values (codes a mounted router answers with, which
/// the api translates by code alone).
pub fn needs_no_params(code: &str) -> bool {
    entry("en", code).is_some_and(|e| placeholders(&e.detail).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_all_four_languages_with_the_same_placeholders() {
        let english = codes("en");
        assert!(english.len() >= 20, "catalogue loaded");
        for lang in LANGUAGES {
            let mut these = codes(lang);
            let mut expected = english.clone();
            these.sort();
            expected.sort();
            assert_eq!(these, expected, "{lang} covers exactly the English codes");
            for code in &english {
                let title = super::title(lang, code);
                assert!(
                    placeholders(&title).is_empty() && !title.is_empty() && title != *code,
                    "{lang}/{code} has a fixed title"
                );
                let en = message("en", code, &[]);
                let other = message(lang, code, &[]);
                assert_eq!(
                    placeholders(&en),
                    placeholders(&other),
                    "{lang}/{code} placeholders"
                );
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(negotiate(None), "en");
        assert_eq!(negotiate(Some("ko-KR,ko;q=0.9,en;q=0.8")), "ko");
        assert_eq!(negotiate(Some("fr-FR, ja;q=0.5, zh;q=0.7")), "zh");
        assert_eq!(negotiate(Some("de, fr")), "en");
        assert_eq!(negotiate(Some("ja;q=0")), "en");
        assert_eq!(
            message("ja", "request.limit_out_of_range", &[("max", "100".into())]),
            "ページサイズは 1 から 100 の範囲で指定してください。"
        );
    }
}
