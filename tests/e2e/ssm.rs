//! The configuration document and key snapshots through a real SSM API (moto), with the
//! built authorizer under the Lambda emulator.

use std::time::Duration;

use serde_json::{Value, json};
use token_verifier::testing::snapshot_name;
use token_verifier::tool::dev::jwks;

use crate::emulator::{Emulator, allowed};
use crate::moto::Moto;
use crate::support::*;

const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

async fn emulator(name: &str, moto: &Moto, vars: &[(&str, &str)]) -> Emulator {
    let ssm = moto.env();
    let mut all: Vec<(&str, &str)> = ssm.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(vars);
    Emulator::start(name, &all).await
}

fn doc(audience: &str, server: &JwksServer) -> String {
    json!({"issuers": [{"issuer": ISSUER, "audiences": [audience], "jwks_uri": server.url("/jwks")}]}).to_string()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_secure_string_document_is_loaded_reloaded_and_a_bad_one_ignored() {
    let moto = Moto::start("reload").await;
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    moto.put("/tv/config", &doc("https://old-api", &server), true)
        .await;
    let emulator = emulator(
        "ssm-reload",
        &moto,
        &[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("CONFIG_TTL_SECONDS", "1"),
        ],
    )
    .await;
    let token = key
        .mint(&claims(json!({"aud": "https://new-api"})))
        .unwrap();
    assert!(!allowed(&emulator.bearer(&token).await));

    moto.put("/tv/config", &doc("https://new-api", &server), true)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = emulator.bearer(&token).await;
    assert!(allowed(&answer), "{answer}\n{}", emulator.log());

    moto.put("/tv/config", "{\"issuers\": [}", true).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        allowed(&emulator.bearer(&token).await),
        "last good configuration kept"
    );
    let lines = emulator.json_lines();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "configuration reloaded" && l["version"] == 2)
    );
    assert!(
        lines.iter().any(|l| l["message"]
            == "the new configuration is invalid; keeping the last good configuration")
    );
    assert_eq!(
        server.hits("/jwks"),
        1,
        "the reload kept the issuer's key cache"
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_missing_parameter_or_invalid_document_fails_init_with_one_line() {
    let moto = Moto::start("init").await;
    moto.put(
        "/tv/bad",
        r#"{"issuers": [{"issuer": "https://x/", "audiences": []}]}"#,
        false,
    )
    .await;
    for (parameter, expected) in [
        (
            "/tv/none",
            "configuration error: CONFIG_PARAMETER /tv/none: no such parameter",
        ),
        (
            "/tv/bad",
            "configuration error: CONFIG_PARAMETER /tv/bad: issuers[0].audiences: at least one audience is required",
        ),
    ] {
        let emulator = emulator(
            &format!("ssm-init{}", parameter.replace('/', "-")),
            &moto,
            &[("CONFIG_PARAMETER", parameter)],
        )
        .await;
        let answer = emulator.invoke(&rest_token("Bearer x")).await;
        assert!(answer.get("policyDocument").is_none());
        let errors: Vec<Value> = emulator
            .json_lines()
            .into_iter()
            .filter(|l| l["level"] == "ERROR")
            .collect();
        assert_eq!(errors.len(), 1, "{}", emulator.log());
        assert!(
            errors[0]["error"].as_str().unwrap().starts_with(expected),
            "{}",
            errors[0]
        );
    }
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn several_issuers_presets_and_route_rules_in_both_api_shapes() {
    let moto = Moto::start("routes").await;
    let (auth0_key, cognito_key) = (rsa_a(), ec_p256());
    let cognito_iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool";
    let document = json!({
        "issuers": [
            {"issuer": ISSUER, "preset": "auth0", "audiences": [AUDIENCE], "jwks": jwks(&[&auth0_key])},
            {"issuer": cognito_iss, "preset": "cognito", "audiences": ["app-client"], "jwks": jwks(&[&cognito_key]), "algorithms": ["ES256"]},
        ],
        "routes": {"default": "deny", "rules": [
            {"route": "GET /messages", "scopes": ["read:messages", "readers"], "scope_match": "any"},
            {"route": "* /tenants/{tenant}/**", "claims": {"tenant_id": "{tenant}"}},
        ]},
    });
    moto.put("/tv/config", &document.to_string(), false).await;
    let emulator = emulator("ssm-routes", &moto, &[("CONFIG_PARAMETER", "/tv/config")]).await;
    let auth0 = auth0_key
        .mint(&claims(
            json!({"permissions": ["read:messages"], "tenant_id": "acme", "scope": null}),
        ))
        .unwrap();
    let now = unix_now();
    let cognito = cognito_key
        .mint(&json!({"iss": cognito_iss, "sub": "u-1", "username": "jane", "client_id": "app-client", "token_use": "access",
                      "cognito:groups": ["readers"], "iat": now, "exp": now + 600}))
        .unwrap();
    let rest = |route: &str, token: &str| {
        let mut event = rest_token(&format!("Bearer {token}"));
        event["methodArn"] = json!(format!("{STAGE}/{route}"));
        event
    };
    let v2 = |route: &str, token: &str| {
        let mut event = http_v2(&format!("Bearer {token}"));
        event["routeArn"] = json!(format!("{STAGE}/{route}"));
        event
    };
    // REST: one cache-safe policy per token listing exactly its routes.
    let answer = emulator.invoke(&rest("GET/messages", &auth0)).await;
    assert_eq!(
        answer["policyDocument"]["Statement"][0]["Resource"],
        json!([
            format!("{STAGE}/GET/messages"),
            format!("{STAGE}/*/tenants/acme/*")
        ])
    );
    let answer = emulator.invoke(&rest("GET/messages", &cognito)).await;
    assert_eq!(answer["principalId"], "jane");
    assert_eq!(answer["context"]["cognito:groups"], r#"["readers"]"#);
    // HTTP API: decided per route.
    assert_eq!(
        emulator.invoke(&v2("GET/tenants/acme/x", &auth0)).await["isAuthorized"],
        true
    );
    assert_eq!(
        emulator.invoke(&v2("GET/tenants/globex/x", &auth0)).await["isAuthorized"],
        false
    );
    assert_eq!(
        emulator.invoke(&v2("DELETE/other", &cognito)).await["isAuthorized"],
        false
    );
    let reasons: Vec<String> = emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        ["ok", "ok", "ok", "claim_mismatch", "route_not_allowed"]
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_key_snapshot_carries_a_cold_start_through_an_idp_outage() {
    let moto = Moto::start("snapshot").await;
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let uri = server.url("/jwks");
    let vars = [
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_URI", uri.as_str()),
        ("JWKS_SNAPSHOT_PARAMETER", "/tv/jwks"),
    ];
    let token = key.mint(&claims(json!({}))).unwrap();
    {
        let warm = emulator("ssm-snapshot-1", &moto, &vars).await;
        assert!(allowed(&warm.bearer(&token).await));
    }
    let stored = moto
        .get(&snapshot_name("/tv/jwks", ISSUER))
        .await
        .expect("snapshot saved in SSM");
    assert!(stored.contains("rsa-a") && !stored.contains("\"d\""));

    server.set("/jwks", Reply::Status(503, "down".into()));
    let cold = emulator("ssm-snapshot-2", &moto, &vars).await;
    let answer = cold.bearer(&token).await;
    assert!(allowed(&answer), "{answer}\n{}", cold.log());
    assert_eq!(cold.decisions()[0]["keys"], "snapshot");
    let used = cold
        .json_lines()
        .into_iter()
        .find(|l| l["message"] == "the IdP is unreachable: using the last-known-good key snapshot")
        .unwrap();
    assert!(used["age_s"].is_u64());
}
