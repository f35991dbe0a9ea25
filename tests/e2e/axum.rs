//! The axum example server (`examples/axum_server.rs`) behind the tower layer, over real
//! TCP, with real tokens from a real OpenID Provider: what a user of the library gets.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::provider::Provider;

const AUDIENCE: &str = "https://api.example.com/rs256";

/// The example, built by `cargo test` beside the authorizer, listening on a free port.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(provider: &Provider) -> Server {
    let binary = Path::new(env!("CARGO_BIN_EXE_authorizer"))
        .parent()
        .unwrap()
        .join("examples/axum_server");
    if !binary.exists() {
        // `cargo test --test e2e` alone does not build the examples; `cargo test` does.
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-q", "--example", "axum_server"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example axum_server");
    }
    let mut child = Command::new(&binary)
        .env_clear()
        .env("ADDR", "127.0.0.1:0")
        .env("TOKEN_ISSUER", &provider.issuer)
        .env("AUDIENCE", AUDIENCE)
        .env("REQUIRED_SCOPES", "read:messages")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", binary.display()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    // Keep reading its log so the pipe never fills.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

#[tokio::test]
#[ignore = "needs Node for the OpenID Provider; run scripts/test"]
async fn the_axum_example_verifies_provider_tokens_over_tcp() {
    let provider = Provider::start("axum", None, "1").await;
    let server = start(&provider);
    let client = reqwest::Client::new();
    let me = format!("{}/me", server.url);

    let token = provider.access_token(Some(AUDIENCE)).await;
    let response = client.get(&me).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["principal"], "svc");
    assert_eq!(body["issuer"], provider.issuer.as_str());
    assert_eq!(body["scopes"], serde_json::json!(["read:messages"]));
    assert_eq!(body["client_id"], "svc");

    let response = client.get(&me).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="example""#
    );

    // The provider's opaque token (no resource asked for): refused, and said why.
    let opaque = provider.access_token(None).await;
    let response = client.get(&me).bearer_auth(&opaque).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="example", error="invalid_token", error_description="opaque_token""#
    );
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "opaque_token");
}
