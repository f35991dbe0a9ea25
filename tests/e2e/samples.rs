//! The sample events, the key cache and init failures, through the real Lambda runtime.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::emulator::{Emulator, policy_allows};
use crate::support::*;

fn sample_env() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("events/env.json")).unwrap())
            .unwrap();
    env["AuthorizerFunction"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Every credential-looking string in the samples: none may appear in any log line.
fn secrets_in(event: &Value) -> Vec<String> {
    let text = event.to_string();
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .filter(|s| s.len() >= 30)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn every_sample_event_through_the_emulator() {
    let env = sample_env();
    let emulator = Emulator::start("samples", &borrowed(&env)).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut expected_reasons = Vec::new();
    let mut secrets = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(root.join("events/expected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let event: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("events").join(name)).unwrap())
                .unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("events/expected").join(name)).unwrap(),
        )
        .unwrap();
        let answer = emulator.invoke(&event).await;
        assert_eq!(answer, expected["response"], "{name}");
        expected_reasons.push(expected["reason"].as_str().unwrap().to_owned());
        secrets.extend(secrets_in(&event));
    }
    let decisions = emulator.decisions();
    let reasons: Vec<&str> = decisions
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons, expected_reasons,
        "one decision line per invocation, with its reason"
    );
    for decision in &decisions {
        assert!(decision["latency_us"].is_u64());
        if decision["reason"] != "missing_token" {
            assert_eq!(decision["token_fp"].as_str().unwrap().len(), 32);
        }
    }
    let log = emulator.log();
    for secret in secrets
        .iter()
        .filter(|s| s.matches('.').count() >= 2 || s.len() >= 40)
    {
        assert!(
            !log.contains(secret.as_str()),
            "a token or signature reached the log"
        );
    }
    assert!(
        !log.contains("\"level\":\"ERROR\""),
        "a refusal is not an error:\n{log}"
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn keys_are_fetched_at_init_and_cached_across_invocations() {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let uri = server.url("/jwks");
    let emulator = Emulator::start(
        "cache",
        &[
            ("TOKEN_ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            ("JWKS_URI", &uri),
        ],
    )
    .await;
    let token = old.mint(&claims(json!({}))).unwrap();
    for _ in 0..20 {
        let answer = emulator.bearer(&token).await;
        assert!(policy_allows(&answer), "{answer}");
    }
    assert_eq!(
        server.hits("/jwks"),
        1,
        "one fetch (at init) for 20 warm invocations"
    );
    server.set_keys(&[&old, &new]);
    let rotated = new.mint(&claims(json!({}))).unwrap();
    for _ in 0..5 {
        let answer = emulator
            .invoke(&http_v2(&format!("Bearer {rotated}")))
            .await;
        assert_eq!(answer["isAuthorized"], true, "{answer}");
    }
    assert_eq!(
        server.hits("/jwks"),
        2,
        "rotation costs exactly one refetch"
    );
    let fetches: Vec<Value> = emulator
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == "key set fetched")
        .collect();
    assert_eq!(fetches.len(), 2);
    assert_eq!(fetches[0]["trigger"], "init");
    assert_eq!(fetches[1]["trigger"], "unknown_kid");
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn an_unreachable_idp_fails_closed_within_the_deadline() {
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Hang);
    let uri = server.url("/jwks");
    let emulator = Emulator::start(
        "outage",
        &[
            ("TOKEN_ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            ("JWKS_URI", &uri),
            ("HTTP_TIMEOUT_MS", "1000"),
        ],
    )
    .await;
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let started = Instant::now();
    let answer = emulator.bearer(&token).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(answer["errorType"], "jwks_unavailable", "{answer}");
    assert_ne!(
        answer["errorMessage"], "Unauthorized",
        "a 500, never cached, never a 401"
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn a_bad_configuration_fails_init_with_one_line_naming_the_variable() {
    let cases: HashMap<&str, Vec<(&str, &str)>> = HashMap::from([
        (
            "ALLOWED_ALGORITHMS",
            vec![
                ("TOKEN_ISSUER", ISSUER),
                ("AUDIENCE", AUDIENCE),
                ("ALLOWED_ALGORITHMS", "HS256"),
            ],
        ),
        ("AUDIENCE", vec![("TOKEN_ISSUER", ISSUER)]),
        (
            "JWKS_URI",
            vec![
                ("TOKEN_ISSUER", ISSUER),
                ("AUDIENCE", AUDIENCE),
                ("JWKS_URI", "http://idp.example.com/jwks"),
            ],
        ),
    ]);
    for (variable, vars) in cases {
        let emulator = Emulator::start(&format!("init-{variable}"), &vars).await;
        let answer = emulator.invoke(&rest_token("Bearer x")).await;
        assert!(answer.get("policyDocument").is_none(), "{answer}");
        let errors: Vec<Value> = emulator
            .json_lines()
            .into_iter()
            .filter(|l| l["level"] == "ERROR")
            .collect();
        assert_eq!(errors.len(), 1, "{}", emulator.log());
        let error = errors[0]["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("configuration error: {variable}: ")),
            "{error}"
        );
    }
}
