//! The dApp (`web/dist`, built by Vite) served on the api's own origin, so SIWE's domain and the
//! session headers need no CORS.
//!
//! - The files are read once at start into memory (a few hundred kB): no path from a request
//!   ever reaches the file system.
//! - Hashed build assets (`/assets/…`) are immutable for a year; `index.html` is never cached.
//! - Any other `GET` path without a file extension is a client-side route: it answers
//!   `index.html` (SPA fallback). API paths (`/v1/…`) and other methods keep the api's problem
//!   documents.
//! - `index.html` carries the deployment (chain id, contract addresses) in a
//!   `<meta name="nest-config">` tag, and a strict Content-Security-Policy whose only inline
//!   script is the theme bootstrap, allowed by its SHA-256.

use axum::{
    body::Body,
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use sha2::Digest;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

/// Placeholder in `web/index.html` replaced by the deployment's JSON.
const CONFIG_PLACEHOLDER: &str = "__NEST_CONFIG__";

/// Why the dApp's files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A file or folder could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The folder has no `index.html` (not built: run `npm run build` in `web/`).
    #[error("{0} has no index.html (build the dApp: scripts/setup, or npm run build in web/)")]
    NoIndex(PathBuf),
    /// `index.html` has no `__NEST_CONFIG__` placeholder for the deployment.
    #[error("{0}/index.html has no __NEST_CONFIG__ placeholder")]
    NoConfigSlot(PathBuf),
}

/// What the dApp is told about its deployment.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageConfig {
    /// The chain the contracts live on.
    pub chain_id: u64,
    /// A JSON-RPC URL a wallet may add for this chain (`wallet_addEthereumChain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    /// Contract addresses by name (`marketplace`, `nft`, `token`, `governor`, `forwarder`, …).
    pub contracts: std::collections::BTreeMap<String, String>,
}

impl PageConfig {
    /// The page config of `addresses` on `chain_id`.
    pub fn new(
        chain_id: u64,
        addresses: &nest_abis::NestAddresses,
        rpc_url: Option<String>,
    ) -> Self {
        let contracts = [
            ("forwarder", addresses.forwarder),
            ("token", addresses.token),
            ("timelock", addresses.timelock),
            ("governor", addresses.governor),
            ("nft", addresses.nft),
            ("marketplace", addresses.marketplace),
        ]
        .into_iter()
        .map(|(name, address)| (name.to_string(), address.to_checksum(None)))
        .collect();
        Self {
            chain_id,
            rpc_url,
            contracts,
        }
    }
}

struct Asset {
    content_type: &'static str,
    body: axum::body::Bytes,
    immutable: bool,
}

/// The built dApp, in memory.
#[derive(Clone)]
pub struct WebApp {
    files: Arc<HashMap<String, Asset>>,
    index: axum::body::Bytes,
    csp: HeaderValue,
}

impl std::fmt::Debug for WebApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApp")
            .field("files", &self.files.len())
            .field("csp", &self.csp)
            .finish()
    }
}

impl WebApp {
    /// Reads the built app in `dir` (Vite's `dist/`), with `config` written into its page.
    pub fn load(dir: &Path, config: &PageConfig) -> Result<Self, WebError> {
        let mut files = HashMap::new();
        collect(dir, dir, &mut files)?;
        let index = files
            .remove("/index.html")
            .ok_or_else(|| WebError::NoIndex(dir.to_path_buf()))?;
        let html = String::from_utf8_lossy(&index.body).into_owned();
        if !html.contains(CONFIG_PLACEHOLDER) {
            return Err(WebError::NoConfigSlot(dir.to_path_buf()));
        }
        // Serialising a struct of strings and integers cannot fail.
        let json = serde_json::to_string(config).unwrap_or_default();
        let html = html.replace(CONFIG_PLACEHOLDER, &escape_attribute(&json));
        let hashes: Vec<String> = inline_scripts(&html)
            .iter()
            .map(|s| {
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s))
                )
            })
            .collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' {}; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            hashes.join(" ")
        );
        Ok(Self {
            files: Arc::new(files),
            index: html.into_bytes().into(),
            // Built from hashes (base64) and fixed ASCII: always a valid header value.
            csp: HeaderValue::from_str(&csp)
                .unwrap_or(HeaderValue::from_static("default-src 'self'")),
        })
    }

    /// The Content-Security-Policy of the app's page.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }

    /// Answers `GET`/`HEAD` `path`: a file, the page for a client-side route, or `None` (the
    /// api's own 404 applies).
    pub fn respond(&self, method: &Method, path: &str) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        if is_api_path(path) {
            return None;
        }
        if let Some(asset) = self.files.get(path) {
            let cache = if asset.immutable {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=300"
            };
            let mut response = (
                [
                    (header::CONTENT_TYPE, asset.content_type),
                    (header::CACHE_CONTROL, cache),
                ],
                asset.body.clone(),
            )
                .into_response();
            if method == Method::HEAD {
                *response.body_mut() = Body::empty();
            }
            return Some(response);
        }
        if path.starts_with("/assets/") || !is_client_route(path) {
            return None;
        }
        Some(self.page(method))
    }

    fn page(&self, method: &Method) -> Response {
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(self.index.clone())
        };
        let mut response = (StatusCode::OK, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        response
    }
}

/// A path the app's router may own: `/`, or non-empty segments of letters, digits, `-` and `_`
/// (no dots, encodings, empty segments or parameters: those are never the app's, and a
/// traversal attempt gets the api's 404 rather than the page).
fn is_client_route(path: &str) -> bool {
    path == "/"
        || path.strip_prefix('/').is_some_and(|rest| {
            rest.split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
        })
}

/// Paths that belong to the api, never to the app.
fn is_api_path(path: &str) -> bool {
    path == "/v1"
        || path.starts_with("/v1/")
        || path.starts_with("/docs")
        || matches!(path, "/openapi.json" | "/healthz" | "/readyz" | "/metrics")
}

fn collect(root: &Path, dir: &Path, files: &mut HashMap<String, Asset>) -> Result<(), WebError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WebError::Read { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
        let entry = entry.map_err(read_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(read_err(&path))?;
        if kind.is_dir() {
            collect(root, &path, files)?;
        } else if kind.is_file() {
            let body = std::fs::read(&path).map_err(read_err(&path))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let key = format!(
                "/{}",
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            );
            files.insert(
                key.clone(),
                Asset {
                    content_type: content_type(&key),
                    body: body.into(),
                    immutable: key.starts_with("/assets/"),
                },
            );
        }
    }
    Ok(())
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `text` safe inside a double-quoted HTML attribute.
fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The bodies of the page's inline scripts (`<script>` without `src`).
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some((_, after)) = rest.split_once("<script") {
        let Some((tag, body_and_rest)) = after.split_once('>') else {
            break;
        };
        let Some((body, next)) = body_and_rest.split_once("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            out.push(body);
        }
        rest = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> (tempfile::TempDir, WebApp) {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("assets")).expect("mkdir");
        std::fs::write(
            dir.path().join("index.html"),
            r#"<html><head><meta name="nest-config" content="__NEST_CONFIG__"><script>document.documentElement.dataset.theme="dark"</script><script type="module" src="/assets/index-abc.js"></script></head></html>"#,
        )
        .expect("index");
        std::fs::write(dir.path().join("assets/index-abc.js"), "console.log(1)").expect("js");
        std::fs::write(dir.path().join("robots.txt"), "User-agent: *").expect("txt");
        let config = PageConfig {
            chain_id: 31337,
            rpc_url: Some("http://127.0.0.1:8545".into()),
            contracts: [(
                "nft".to_string(),
                "0x00000000000000000000000000000000000000aa".to_string(),
            )]
            .into_iter()
            .collect(),
        };
        let app = WebApp::load(dir.path(), &config).expect("load");
        (dir, app)
    }

    #[tokio::test]
    async fn pages_assets_and_fallback() {
        let (_dir, app) = app();
        let page = app
            .respond(&Method::GET, "/nft/0xabc/1")
            .expect("client route");
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .to_string();
        let expected = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
            r#"document.documentElement.dataset.theme="dark""#,
        ));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let body = axum::body::to_bytes(page.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = String::from_utf8(body.to_vec()).expect("utf8");
        assert!(
            body.contains(r#"content="{&quot;chainId&quot;:31337,"#),
            "{body}"
        );
        assert!(!body.contains(CONFIG_PLACEHOLDER));

        let js = app
            .respond(&Method::GET, "/assets/index-abc.js")
            .expect("asset");
        assert_eq!(
            js.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            js.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let txt = app.respond(&Method::GET, "/robots.txt").expect("file");
        assert_eq!(txt.headers()[header::CACHE_CONTROL], "public, max-age=300");

        // Missing assets and files are 404s, never the page; API paths and other methods too.
        assert!(app.respond(&Method::GET, "/assets/gone-123.js").is_none());
        assert!(app.respond(&Method::GET, "/favicon.png").is_none());
        assert!(app.respond(&Method::GET, "/v1/nope").is_none());
        assert!(app.respond(&Method::GET, "/openapi.json").is_none());
        assert!(app.respond(&Method::POST, "/market").is_none());
        // No request path reaches the file system, and dot segments, encodings, empty segments
        // and parameters are not client routes either: the api's 404 answers them.
        for path in [
            "/assets/../../etc/passwd",
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "//etc/passwd",
            "/nft/0xabc/1;x",
            "/dao/",
        ] {
            assert!(app.respond(&Method::GET, path).is_none(), "{path}");
        }
        assert!(app.respond(&Method::GET, "/dao/123").is_some());
        assert!(app.respond(&Method::GET, "/").is_some());
        let head = app.respond(&Method::HEAD, "/").expect("head");
        let body = axum::body::to_bytes(head.into_body(), 1 << 20)
            .await
            .expect("body");
        assert!(body.is_empty());
    }

    #[test]
    fn a_folder_without_a_page_or_config_slot_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let config = PageConfig {
            chain_id: 1,
            rpc_url: None,
            contracts: Default::default(),
        };
        assert!(matches!(
            WebApp::load(dir.path(), &config),
            Err(WebError::NoIndex(_))
        ));
        std::fs::write(dir.path().join("index.html"), "<html></html>").expect("index");
        assert!(matches!(
            WebApp::load(dir.path(), &config),
            Err(WebError::NoConfigSlot(_))
        ));
        assert!(WebApp::load(&dir.path().join("missing"), &config).is_err());
    }
}
