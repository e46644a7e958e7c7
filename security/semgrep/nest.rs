// Test cases for nest.yml (`semgrep --test security/semgrep`): `ruleid:` lines must match,
// `ok:` lines must not.

fn store_filters(q: Query<Params>, coll: Collection<Document>) {
    // ruleid: nest-store-filter-from-user-string
    let filter = serde_json::from_str::<Document>(&q.filter)?;
    // ruleid: nest-store-filter-from-user-string
    let filter: Document = serde_json::from_str(&q.filter)?;
    // ruleid: nest-store-filter-from-user-string
    let js = doc! { "$where": q.code.clone() };
    // ruleid: nest-store-filter-from-user-string
    let by_name = doc! { "name": { "$regex": q.name.clone() } };
    // ok: nest-store-filter-from-user-string
    let escaped = doc! { "name": { "$regex": regex::escape(&q.name) } };
    // ok: nest-store-filter-from-user-string
    let typed = doc! { "seller": parse_address(&q.seller)?.to_string(), "status": "active" };
}

fn secrets(key: SecretString, signer: PrivateKeySigner, password: String) {
    // ruleid: nest-secret-in-log-or-error
    tracing::info!(key = %key.expose_secret(), "loaded");
    // ruleid: nest-secret-in-log-or-error
    let e = eyre::eyre!("bad key {}", key.expose_secret());
    // ruleid: nest-secret-in-log-or-error
    println!("key 0x{}", hex::encode(signer_key.to_bytes()));
    // ruleid: nest-secret-in-log-or-error
    warn!(%password, "keystore rejected");
    // ruleid: nest-secret-in-log-or-error
    let msg = format!("unlock with {password}");
    // ok: nest-secret-in-log-or-error
    info!(address = %signer.address(), "signer ready");
    // ok: nest-secret-in-log-or-error
    let e = eyre::eyre!("wrong password for keystore {}", path.display());
}

fn conversions(p: ProposalCreated, x: U256) {
    // ruleid: nest-u256-to-i64-unchecked
    let start = p.voteStart.to::<u64>() as i64;
    // ruleid: nest-u256-to-i64-unchecked
    let n = x.to::<i64>();
    // ruleid: nest-u256-to-i64-unchecked
    let low = x.as_limbs()[0] as i64;
    // ok: nest-u256-to-i64-unchecked
    let start = p.voteStart.saturating_to::<i64>();
    // ok: nest-u256-to-i64-unchecked
    let n = i64::try_from(x).map_err(|_| Error::OutOfRange)?;
}

fn clients(url: Url) {
    // ruleid: nest-http-client-without-timeout
    let c = reqwest::Client::new();
    // ruleid: nest-http-client-without-timeout
    let c = reqwest::Client::builder().user_agent("nest").build()?;
    // ruleid: nest-http-client-without-timeout
    let provider = ProviderBuilder::new().connect_http(url);
    // ok: nest-http-client-without-timeout
    let c = reqwest::Client::builder().connect_timeout(T).timeout(T).build()?;
}

async fn fetch_metadata(client: &reqwest::Client, q: Query<P>) -> Result<()> {
    // ruleid: nest-http-request-to-user-url-without-ssrf-guard
    let r = client.get(&q.url).header("accept", "application/json").send().await?;
    // ok: nest-http-request-to-user-url-without-ssrf-guard
    let r = client.get("https://fixed.example/x").send().await?;
    Ok(())
}

async fn fetch_guarded(client: &reqwest::Client, q: Query<P>) -> Result<()> {
    let url = guard_outbound_url(&q.url).await?;
    // ok: nest-http-request-to-user-url-without-ssrf-guard
    let r = client.get(url).send().await?;
    Ok(())
}

pub fn open_router(state: S) -> Router {
    // ruleid: nest-axum-router-without-body-limit
    Router::new().route("/x", post(handler)).with_state(state)
}

pub fn limited_router(state: S) -> Router {
    let v1 = Router::new().route("/y", post(h));
    // ok: nest-axum-router-without-body-limit
    let app = Router::new().merge(v1);
    app.fallback(nf).layer(RequestBodyLimitLayer::new(1024)).layer(X)
}

pub fn relay_router(state: S) -> Router {
    // ok: nest-axum-router-without-body-limit
    Router::new().route("/v1/relay", post(h)).layer(DefaultBodyLimit::max(1024))
}

fn unlimited(body: Body) {
    // ruleid: nest-axum-router-without-body-limit
    let bytes = axum::body::to_bytes(body, usize::MAX).await?;
}
