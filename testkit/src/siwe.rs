//! Sign-In with Ethereum (EIP-4361) for tests: the message the api expects from the dApp on
//! [`ORIGIN`](crate::ORIGIN), signed by a dev key, and a whole sign-in over HTTP.

use crate::HttpClient;
use alloy::signers::{Signer, local::PrivateKeySigner};

/// The origin the api is configured with in tests and by default (`nest api`'s
/// `NEST_API_ORIGIN`).
pub const SIWE_ORIGIN: &str = "http://localhost:8080";

/// An EIP-4361 message for `address`.
pub fn siwe_message(
    domain: &str,
    uri: &str,
    address: &str,
    chain_id: u64,
    nonce: &str,
    issued_at: &str,
) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\nSign in to Nest.\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {issued_at}"
    )
}

/// Now, as RFC 3339 UTC.
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    rfc3339(secs)
}

/// `secs` since the epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    // Civil-from-days (Howard Hinnant), UTC.
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A signed sign-in for `key` against the api behind `client`: the `POST /v1/auth/verify` body
/// and the message signed.
pub async fn sign_in_body(client: &HttpClient, key: &PrivateKeySigner) -> (String, String) {
    let nonce = client.get("/v1/auth/nonce").await.json()["nonce"]
        .as_str()
        .expect("nonce")
        .to_string();
    let message = siwe_message(
        "localhost:8080",
        SIWE_ORIGIN,
        &key.address().to_checksum(None),
        crate::CHAIN_ID,
        &nonce,
        &rfc3339_now(),
    );
    let signature = key.sign_message(message.as_bytes()).await.expect("sign");
    let body =
        serde_json::json!({ "message": message, "signature": format!("{signature}") }).to_string();
    (body, message)
}

/// Signs `key` in through the api behind `client`; the `Authorization` header value.
pub async fn bearer(client: &HttpClient, key: &PrivateKeySigner) -> String {
    let (body, _) = sign_in_body(client, key).await;
    let signed = client
        .request(
            "POST",
            "/v1/auth/verify",
            &[("Content-Type", "application/json")],
            Some(&body),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    format!("Bearer {}", signed.json()["token"].as_str().expect("token"))
}
