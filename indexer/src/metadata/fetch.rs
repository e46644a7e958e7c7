//! Fetching a URI's bytes: `data:` URIs decoded in place, `ipfs://` and `ar://` through the
//! configured gateways, `http(s)://` behind the SSRF guard with bounded redirects, a size cap
//! enforced while reading (a `Content-Length` is not trusted) and one deadline for the whole
//! fetch (a server trickling bytes cannot hold a worker).

use super::guard::{AddressPolicy, GuardedResolver, guard_outbound_url};
use crate::error::{FetchFailure, IndexerError, Result};
use base64::Engine;
use std::{sync::Arc, time::Duration};
use url::Url;

/// Where content-addressed URIs are fetched from.
#[derive(Debug, Clone)]
pub struct Gateways {
    /// `ipfs://{cid}/{path}` → `{ipfs}{cid}/{path}` (ends with `/`).
    pub ipfs: Url,
    /// `ar://{id}` → `{arweave}{id}` (ends with `/`).
    pub arweave: Url,
}

impl Default for Gateways {
    fn default() -> Self {
        Self {
            ipfs: Url::parse("https://ipfs.io/ipfs/").expect("a literal, valid URL"),
            arweave: Url::parse("https://arweave.net/").expect("a literal, valid URL"),
        }
    }
}

/// Bounds on what one resolution may cost.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// Largest metadata document.
    pub max_document_bytes: usize,
    /// Largest image.
    pub max_image_bytes: usize,
    /// Redirects followed per fetch.
    pub max_redirects: u8,
    /// Deadline of one fetch (connect, redirects and body).
    pub timeout: Duration,
    /// Deepest JSON nesting accepted.
    pub max_json_depth: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_document_bytes: 256 * 1024,
            max_image_bytes: 4 * 1024 * 1024,
            max_redirects: 3,
            timeout: Duration::from_secs(10),
            max_json_depth: 32,
        }
    }
}

/// Fetched bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The content.
    pub bytes: Vec<u8>,
    /// The host that served it (`None` for `data:`), for per-host accounting.
    pub host: Option<String>,
}

/// Fetches URIs within [`FetchLimits`] behind the SSRF guard.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    gateways: Gateways,
    limits: FetchLimits,
}

impl Fetcher {
    /// A fetcher with its own HTTP client (no proxy, no automatic redirects, guarded DNS).
    pub fn new(policy: AddressPolicy, gateways: Gateways, limits: FetchLimits) -> Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(GuardedResolver::new(policy.clone()))
            .connect_timeout(limits.timeout)
            .timeout(limits.timeout)
            .user_agent(concat!("nest-metadata/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| IndexerError::Config(format!("metadata HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy,
            gateways,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// The HTTP(S) URL a URI is fetched from (`None` for `data:`).
    pub fn locate(&self, uri: &str) -> std::result::Result<Option<Url>, FetchFailure> {
        let uri = uri.trim();
        let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("data") => Ok(None),
            Some("ipfs") => {
                let rest = uri[5..].trim_start_matches('/');
                let rest = rest.strip_prefix("ipfs/").unwrap_or(rest);
                gateway_url(&self.gateways.ipfs, rest).map(Some)
            }
            Some("ar") => {
                gateway_url(&self.gateways.arweave, uri[3..].trim_start_matches('/')).map(Some)
            }
            Some("http" | "https") => Url::parse(uri)
                .map(Some)
                .map_err(|e| FetchFailure::BadUri(e.to_string())),
            Some(other) => Err(FetchFailure::UnsupportedScheme(truncate(other, 32))),
            None => Err(FetchFailure::BadUri("no scheme".into())),
        }
    }

    /// Fetches `uri`, at most `cap` bytes, within the deadline.
    pub async fn fetch(&self, uri: &str, cap: usize) -> std::result::Result<Fetched, FetchFailure> {
        match self.locate(uri)? {
            None => decode_data_uri(uri.trim(), cap).map(|bytes| Fetched { bytes, host: None }),
            Some(url) => tokio::time::timeout(self.limits.timeout, self.fetch_http(url, cap))
                .await
                .map_err(|_| FetchFailure::Timeout)?,
        }
    }

    async fn fetch_http(
        &self,
        mut url: Url,
        cap: usize,
    ) -> std::result::Result<Fetched, FetchFailure> {
        for _ in 0..=self.limits.max_redirects {
            let mut response = self.get_guarded(&url).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchFailure::Status(status.as_u16()))?;
                url = url
                    .join(location)
                    .map_err(|e| FetchFailure::BadUri(e.to_string()))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchFailure::Status(status.as_u16()));
            }
            if response.content_length().is_some_and(|n| n > cap as u64) {
                return Err(FetchFailure::TooLarge(cap));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if bytes.len() + chunk.len() > cap {
                    return Err(FetchFailure::TooLarge(cap));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                bytes,
                host: url.host_str().map(str::to_string),
            });
        }
        Err(FetchFailure::TooManyRedirects(self.limits.max_redirects))
    }

    /// One GET of a URL that passed the SSRF guard.
    async fn get_guarded(&self, url: &Url) -> std::result::Result<reqwest::Response, FetchFailure> {
        let _checked = guard_outbound_url(url, &self.policy).await?;
        self.client.get(url.clone()).send().await.map_err(classify)
    }
}

fn gateway_url(gateway: &Url, path: &str) -> std::result::Result<Url, FetchFailure> {
    if path.is_empty() || path.contains("..") || path.contains('\\') {
        return Err(FetchFailure::BadUri("bad content path".into()));
    }
    gateway
        .join(path)
        .map_err(|e| FetchFailure::BadUri(e.to_string()))
}

fn classify(e: reqwest::Error) -> FetchFailure {
    if e.is_timeout() {
        FetchFailure::Timeout
    } else if e.is_connect() {
        // The guarded resolver refusing every address surfaces as a connect error.
        let message = error_chain(&e);
        if message.contains("no permitted address") {
            FetchFailure::BlockedAddress(message)
        } else {
            FetchFailure::Connect(message)
        }
    } else {
        FetchFailure::Connect(error_chain(&e))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    truncate(&message, 300)
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Decodes a `data:[<type>][;base64],<payload>` URI (RFC 2397), at most `cap` decoded bytes.
pub fn decode_data_uri(uri: &str, cap: usize) -> std::result::Result<Vec<u8>, FetchFailure> {
    let body = uri
        .get(5..)
        .filter(|_| uri[..5].eq_ignore_ascii_case("data:"))
        .ok_or_else(|| FetchFailure::BadUri("not a data: URI".into()))?;
    let (header, payload) = body
        .split_once(',')
        .ok_or_else(|| FetchFailure::BadUri("data: URI without a comma".into()))?;
    let base64 = header
        .rsplit(';')
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("base64"));
    if base64 {
        // Checked before decoding: the decoded size is three quarters of the text's.
        if payload.len() / 4 * 3 > cap + 3 {
            return Err(FetchFailure::TooLarge(cap));
        }
        let text: String = percent_decode(payload)?
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(char::from)
            .collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text.trim_end_matches('=').to_string() + padding(&text))
            .map_err(|e| FetchFailure::BadUri(format!("base64: {e}")))?;
        if decoded.len() > cap {
            return Err(FetchFailure::TooLarge(cap));
        }
        Ok(decoded)
    } else {
        if payload.len() > cap.saturating_mul(3) {
            return Err(FetchFailure::TooLarge(cap));
        }
        let decoded = percent_decode(payload)?;
        if decoded.len() > cap {
            return Err(FetchFailure::TooLarge(cap));
        }
        Ok(decoded)
    }
}

fn padding(text: &str) -> &'static str {
    match text.trim_end_matches('=').len() % 4 {
        2 => "==",
        3 => "=",
        _ => "",
    }
}

fn percent_decode(text: &str) -> std::result::Result<Vec<u8>, FetchFailure> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| FetchFailure::BadUri("bad percent escape".into()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_uris_decode_base64_and_percent_encoded_text() {
        assert_eq!(
            decode_data_uri("data:application/json;base64,eyJhIjoxfQ==", 100).expect("test value"),
            br#"{"a":1}"#
        );
        assert_eq!(
            decode_data_uri("data:application/json;base64,eyJhIjoxfQ", 100).expect("test value"),
            br#"{"a":1}"#,
            "missing padding is tolerated"
        );
        assert_eq!(
            decode_data_uri("data:application/json;utf8,%7B%22a%22%3A1%7D", 100)
                .expect("test value"),
            br#"{"a":1}"#
        );
        assert_eq!(
            decode_data_uri(r#"data:application/json,{"a":1}"#, 100).expect("test value"),
            br#"{"a":1}"#
        );
        assert_eq!(
            decode_data_uri("data:text/plain;base64,QUFBQUFBQUFBQQ==", 5)
                .expect_err("must fail")
                .reason(),
            "too_large"
        );
        assert_eq!(
            decode_data_uri("data:;base64,%%%", 100)
                .expect_err("must fail")
                .reason(),
            "bad_uri"
        );
        assert_eq!(
            decode_data_uri("data:nocomma", 100)
                .expect_err("must fail")
                .reason(),
            "bad_uri"
        );
    }

    #[test]
    fn content_addressed_uris_go_through_the_gateways() {
        let fetcher = Fetcher::new(
            AddressPolicy::default(),
            Gateways::default(),
            FetchLimits::default(),
        )
        .expect("test value");
        let at = |u: &str| {
            fetcher
                .locate(u)
                .expect("test value")
                .map(|u| u.to_string())
        };
        assert_eq!(
            at("ipfs://bafyabc/1.json").as_deref(),
            Some("https://ipfs.io/ipfs/bafyabc/1.json")
        );
        assert_eq!(
            at("ipfs://ipfs/bafyabc").as_deref(),
            Some("https://ipfs.io/ipfs/bafyabc")
        );
        assert_eq!(at("ar://txid").as_deref(), Some("https://arweave.net/txid"));
        assert_eq!(at("data:,x"), None);
        assert_eq!(
            fetcher
                .locate("ipfs://../../etc")
                .expect_err("must fail")
                .reason(),
            "bad_uri"
        );
        assert_eq!(
            fetcher
                .locate("javascript:alert(1)")
                .expect_err("must fail")
                .reason(),
            "unsupported_scheme"
        );
    }
}
