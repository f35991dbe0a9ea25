//! `token-verifier explain` against the real OpenID Provider: discovery and keys over the
//! network, and the provider's own access, opaque and ID tokens.

use std::process::Command;

use serde_json::Value;

use crate::provider::Provider;

const API: &str = "https://api.example.com/rs256";

fn explain(provider: &Provider, token: &str) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .args([
            "explain",
            "--json",
            "--issuer",
            &provider.issuer,
            "--audience",
            API,
            "--algorithms",
            "RS256,PS256,ES256,EdDSA",
            token,
        ])
        .env_clear()
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), report)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap()
}

#[tokio::test]
#[ignore = "needs Node; run scripts/test"]
async fn explain_verifies_the_providers_tokens_over_the_network() {
    let provider = Provider::start("explain", None, "1").await;

    let access = provider.access_token(Some(API)).await;
    let (code, report) = explain(&provider, &access);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["kind"], "access_token");
    assert_eq!(report["verdict"]["result"], "allow");
    let key = check(&report, "key")["detail"].as_str().unwrap().to_owned();
    assert!(
        key.contains("(fetched)") && key.contains(&provider.issuer),
        "{key}"
    );
    assert_eq!(check(&report, "signature")["status"], "pass");

    let opaque = provider.access_token(None).await;
    let (code, report) = explain(&provider, &opaque);
    assert_eq!(code, 1);
    assert_eq!(report["kind"], "opaque");
    assert_eq!(report["verdict"]["reason"], "opaque_token");
    assert!(report["advice"].as_str().unwrap().contains("audience"));

    let id_token = provider.id_token().await;
    let (code, report) = explain(&provider, &id_token);
    assert_eq!(code, 1);
    assert_eq!(report["kind"], "id_token");
    assert_eq!(report["verdict"]["reason"], "id_token", "{report:#}");
    assert_eq!(
        check(&report, "signature")["status"],
        "pass",
        "a real provider signature"
    );
}
