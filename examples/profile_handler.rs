//! Runs the warm request path in a loop, for profilers (`valgrind --tool=callgrind`,
//! `perf`): `cargo build --release --example profile_handler`.

#![allow(clippy::unwrap_used, missing_docs, clippy::pedantic)]

use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use token_verifier::algorithm::Algorithm;
use token_verifier::dev::{SigningKey, jwks};
use token_verifier::{Authorizer, AuthorizerEvent, Config};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa-a.pem"))
        .unwrap();
    let key = SigningKey::from_pem(&pem, "rsa-a", Algorithm::RS256).unwrap();
    let token = key
        .mint(&json!({
            "iss": "https://acme.us.auth0.com/", "sub": "auth0|64f1c2a9e1b2c3d4e5f60718",
            "aud": ["https://api.acme.example", "https://acme.us.auth0.com/userinfo"],
            "iat": 1_795_000_000u64, "exp": 4_102_444_800u64, "azp": "8mQ2yMn0QkqG1dY2xVbFh3ZcPpR4sT6u",
            "scope": "openid profile email read:messages write:messages offline_access",
            "permissions": ["read:messages", "write:messages", "delete:messages"],
            "https://acme.example/claims": {"tenant_id": "acme", "roles": ["editor", "viewer"], "email": "jane@acme.example", "email_verified": true},
            "org_id": "org_9AbCdEfGhIjKlMnO",
        }))
        .unwrap();
    let event = serde_json::to_vec(&json!({
        "type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/messages",
    }))
    .unwrap();
    let document = jwks(&[&key]).to_string();
    let config = Config::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some("https://acme.us.auth0.com/".into()),
        "AUDIENCE" => Some("https://api.acme.example".into()),
        "JWKS_JSON" => Some(document.clone()),
        "REQUIRED_SCOPES" => Some("read:messages".into()),
        _ => None,
    })
    .unwrap();
    let authorizer = Authorizer::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut total = 0;
    for _ in 0..iterations {
        let parsed: AuthorizerEvent = serde_json::from_slice(&event).unwrap();
        let (answer, _) = runtime.block_on(authorizer.decide(parsed, 1_800_000_000.0));
        total += serde_json::to_vec(&answer.unwrap()).unwrap().len();
    }
    println!("{total}");
}
