//! CloudWatch Embedded Metric Format lines from the built authorizer under the Lambda
//! emulator: decisions by outcome and reason, key fetches with their latency and
//! failures, stale keys served during an outage, cool-down rejections; none with
//! `METRICS=off`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::{Emulator, policy_allows};
use crate::support::*;

fn emf(emulator: &Emulator) -> Vec<Value> {
    emulator
        .json_lines()
        .into_iter()
        .filter(|l| l.get("_aws").is_some())
        .collect()
}

fn with_metric<'a>(lines: &'a [Value], metric: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l.get(metric).is_some()).collect()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn decisions_key_fetches_stale_keys_and_cool_downs_become_metrics() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let uri = server.url("/jwks");
    let emulator = Emulator::start(
        "metrics",
        &[
            ("TOKEN_ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            ("JWKS_URI", &uri),
            ("JWKS_CACHE_TTL_SECONDS", "1"),
            ("JWKS_RETRY_SECONDS", "60"),
            ("METRICS_NAMESPACE", "Acme/Auth"),
        ],
    )
    .await;
    let valid = rsa_a().mint(&claims(json!({}))).unwrap();
    let wrong_audience = rsa_a()
        .mint(&claims(json!({"aud": "https://other"})))
        .unwrap();
    let unknown_kid = rsa_b().mint(&claims(json!({}))).unwrap();
    for token in [&valid, &wrong_audience, &unknown_kid, &unknown_kid] {
        emulator.bearer(token).await;
    }
    // The IdP goes down; once the TTL has passed, the last good keys still serve.
    server.set("/jwks", Reply::Status(503, "down".into()));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stale = emulator.bearer(&valid).await;
    assert!(policy_allows(&stale), "{stale}");

    let lines = emf(&emulator);
    for line in &lines {
        for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], "Acme/Auth");
        }
        assert_eq!(line["Function"], "authorizer");
    }
    let decisions: Vec<(&str, &str)> = with_metric(&lines, "Decisions")
        .iter()
        .map(|l| {
            (
                l["Outcome"].as_str().unwrap(),
                l["Reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("allow", "ok"),
            ("unauthorized", "wrong_audience"),
            ("unauthorized", "unknown_kid"),
            ("unauthorized", "unknown_kid"),
            ("allow", "ok"),
        ]
    );
    // A decision's log line and metric line leave in one write: both reach the log.
    let logged: Vec<String> = emulator
        .decisions()
        .iter()
        .map(|l| l["reason"].as_str().unwrap_or("absent").to_owned())
        .collect();
    let metered: Vec<&str> = decisions.iter().map(|(_, reason)| *reason).collect();
    assert_eq!(logged, metered);
    let fetches = with_metric(&lines, "KeyFetches");
    let triggers: Vec<(&str, u64)> = fetches
        .iter()
        .map(|l| {
            (
                l["Trigger"].as_str().unwrap(),
                l["KeyFetchFailures"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(triggers, [("init", 0), ("unknown_kid", 0), ("ttl", 1)]);
    assert!(fetches.iter().all(|l| l["KeyFetchLatency"].is_u64()));
    assert_eq!(
        with_metric(&lines, "CooldownRejections").len(),
        1,
        "the second unknown kid"
    );
    assert_eq!(
        with_metric(&lines, "StaleKeysServed").len(),
        1,
        "the answer during the outage"
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn metrics_off_writes_none() {
    let emulator = Emulator::start(
        "metrics-off",
        &[
            ("TOKEN_ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            (
                "JWKS_JSON",
                &token_verifier::tool::dev::jwks(&[&rsa_a()]).to_string(),
            ),
            ("METRICS", "off"),
        ],
    )
    .await;
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    emulator.bearer(&token).await;
    assert_eq!(emulator.decisions().len(), 1);
    assert!(emf(&emulator).is_empty());
}
