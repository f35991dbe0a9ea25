//! The developer tool: `check-config`, `mint`, `jwks`, with their exit codes.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn tool(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_token-verifier"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn check_config_accepts_the_example_and_prints_the_effective_configuration() {
    let (code, out, _) = tool(&["check-config", "docs/config.example.json"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("valid"));
    assert!(
        out.contains("audience claim   client_id when a token has no aud"),
        "{out}"
    );
    assert!(out.contains("/resource_access/web-app/roles"));
}

#[test]
fn check_config_names_what_is_wrong_and_where() {
    let dir = std::env::temp_dir().join(format!("tv-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"issuers":[{"issuer":"https://x/","audiences":["a"],"algorithms":["none"]}]}"#,
    )
    .unwrap();
    let (code, _, err) = tool(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("issuers[0].algorithms: `none` is never accepted"),
        "{err}"
    );
    let (code, _, err) = tool(&["check-config", "/nonexistent.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"));
}

#[test]
fn mint_and_jwks_produce_a_token_the_key_set_verifies() {
    let (code, jwks, _) = tool(&[
        "jwks",
        "--key",
        "events/dev-keys/dev-rs256.pem:dev-rs256:RS256",
    ]);
    assert_eq!(code, 0);
    assert!(jwks.contains("\"kid\": \"dev-rs256\""));
    let (code, token, _) = tool(&[
        "mint",
        "--key",
        "events/dev-keys/dev-rs256.pem",
        "--kid",
        "dev-rs256",
        "--iss",
        "https://i/",
        "--aud",
        "a",
        "--claim",
        "n=7",
        "--claims",
        r#"{"client_id":null}"#,
    ]);
    assert_eq!(code, 0);
    assert_eq!(token.trim().split('.').count(), 3);
    let (code, _, err) = tool(&["mint", "--key", "events/dev-keys/dev-rs256.pem"]);
    assert_eq!(code, 2, "no issuer");
    assert!(err.contains("--iss"));
    assert_eq!(tool(&["frobnicate"]).0, 2);
}
