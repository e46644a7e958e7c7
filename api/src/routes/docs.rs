//! `/docs`: the browsable API reference. Swagger UI's assets come from the npm package pinned in
//! `package-lock.json` (`swagger-ui-dist`), embedded in the binary at build time and served from
//! this origin with Subresource Integrity: the page names each asset's SHA-384, pinned here, so
//! a browser refuses an asset that is not the reviewed one (and a test fails first).

use axum::{
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};

/// Swagger UI's script (`swagger-ui-dist/swagger-ui-bundle.js`).
const BUNDLE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../node_modules/swagger-ui-dist/swagger-ui-bundle.js"
));
/// Swagger UI's style sheet (`swagger-ui-dist/swagger-ui.css`).
const STYLE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../node_modules/swagger-ui-dist/swagger-ui.css"
));
/// The page's own script: starts Swagger UI on `/openapi.json`.
const INIT: &str = include_str!("docs/init.js");

/// SHA-384 (base64) of [`BUNDLE`], swagger-ui-dist 5.35.0.
pub(crate) const BUNDLE_SHA384: &str =
    "gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"; // pragma: allowlist secret (a public file digest)
/// SHA-384 (base64) of [`STYLE`], swagger-ui-dist 5.35.0.
pub(crate) const STYLE_SHA384: &str =
    "WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"; // pragma: allowlist secret (a public file digest)

/// The reference's content security policy: scripts and styles from this origin only; images
/// may also be `data:` URIs (Swagger UI's icons).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/// `GET /docs`
pub async fn page() -> Response {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Nest API</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css" integrity="sha384-{STYLE_SHA384}">
</head><body><div id="api-reference"></div>
<noscript><p>The API description is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<script src="/docs/swagger-ui-bundle.js" integrity="sha384-{BUNDLE_SHA384}"></script>
<script src="/docs/init.js"></script></body></html>"#
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    response
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `GET /docs/swagger-ui-bundle.js`
pub async fn bundle() -> Response {
    asset("text/javascript; charset=utf-8", BUNDLE)
}

/// `GET /docs/swagger-ui.css`
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /docs/init.js`
pub async fn init() -> Response {
    asset("text/javascript; charset=utf-8", INIT.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::Digest;

    fn sri(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    }

    #[test]
    fn the_embedded_assets_are_the_pinned_ones() {
        assert_eq!(
            sri(BUNDLE),
            BUNDLE_SHA384,
            "swagger-ui-bundle.js differs from the pinned swagger-ui-dist 5.35.0 (run scripts/setup; update the pin after reviewing a new version)"
        );
        assert_eq!(
            sri(STYLE),
            STYLE_SHA384,
            "swagger-ui.css differs from the pin"
        );
    }
}
