//! One problem type for every error: every operation of the served OpenAPI document (the relay
//! intake mounted by `nest api --relay-accounts` included) is sent bad input (malformed path
//! parameters, an unknown and an out-of-range query parameter, a malformed body, no session, a
//! wrong method), and every 4xx/5xx answer must be an RFC 9457 problem document with the one
//! `type` scheme, `urn:nest:problem:<code>`, and the status it is sent with.

use nest_testkit::{HttpClient, HttpResponse, NestCommand, TestChain, TestStore, free_port};
use std::{collections::BTreeSet, net::SocketAddr, time::Duration};

#[track_caller]
fn assert_one_scheme(what: &str, response: &HttpResponse) {
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{what}: {} {}",
        response.status,
        response.body
    );
    let problem = response.json();
    let code = problem["code"].as_str().unwrap_or_default();
    assert!(!code.is_empty(), "{what}: no code: {problem}");
    assert_eq!(
        problem["type"],
        format!("urn:nest:problem:{code}"),
        "{what}: {problem}"
    );
    assert_eq!(problem["status"], response.status, "{what}: {problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_of_every_route_is_a_problem_with_one_type_scheme() {
    let chain = TestChain::start().await;
    let store = TestStore::fresh("e2e_problems").await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let relay_account = chain.keys[9].address().to_string();
    let api = NestCommand::new(&[
        "api",
        "--listen",
        &listen,
        "--metrics-listen",
        "127.0.0.1:0",
        "--relay-accounts",
        &relay_account,
    ])
    .chain(&chain)
    .store(&TestStore::uri(), store.database().name())
    .spawn();
    api.wait_for_port(port, Duration::from_secs(60))
        .expect("nest api listens");
    let client = HttpClient::new(SocketAddr::from(([127, 0, 0, 1], port)));

    let document = client.get("/openapi.json").await.json();
    let paths = document["paths"].as_object().expect("paths");
    assert!(
        paths.contains_key("/v1/relay"),
        "the relay intake is mounted"
    );
    let mut errors = 0;
    let mut codes = BTreeSet::new();
    for (template, item) in paths {
        // Every path parameter replaced by something no parameter accepts.
        let path: String = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "not-an-id%20"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let methods = item.as_object().expect("path item");
        let mut path_errors = 0;
        let mut requests: Vec<(String, String, Option<&str>)> = Vec::new();
        for method in methods.keys() {
            let method = method.to_uppercase();
            requests.push((method.clone(), path.clone(), None));
            requests.push((
                method.clone(),
                format!("{path}?limit=0&no_such_parameter=1"),
                None,
            ));
            if method == "POST" {
                requests.push((method.clone(), path.clone(), Some("{")));
            }
        }
        // A method no route of Nest serves.
        requests.push(("DELETE".into(), path.clone(), None));
        for (method, target, body) in requests {
            let headers = [("Content-Type", "application/json")];
            let response = client.request(&method, &target, &headers, body).await;
            if response.status >= 400 {
                assert_one_scheme(&format!("{method} {target}"), &response);
                codes.insert(response.json()["code"].to_string());
                errors += 1;
                path_errors += 1;
            }
        }
        assert!(path_errors > 0, "{template}: no request was refused");
    }
    assert!(errors >= paths.len(), "{errors} refusals");
    // The refusals came from different layers: routing, extraction, validation, auth, intake.
    for expected in [
        "\"method.not_allowed\"",
        "\"relay.malformed\"",
        "\"auth.missing_token\"",
    ] {
        assert!(codes.contains(expected), "{expected} not among {codes:?}");
    }
}
