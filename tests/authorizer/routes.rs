//! Per-route rules from a configuration document, in every answer shape, and the
//! document itself: presets, several issuers, strict parsing with paths.

use std::collections::HashMap;

use serde_json::{Value, json};
use token_verifier::tool::dev::jwks;
use token_verifier::{Authorizer, Config};
use token_verifier::{ConfigDocument, EnvConfig};

use crate::support::*;

const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

fn env(vars: &[(&str, &str)]) -> EnvConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    EnvConfig::from_lookup(|name| map.get(name).cloned()).unwrap()
}

fn with_document(vars: &[(&str, &str)], document: &Value) -> Authorizer {
    let doc = ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    Authorizer::new(Config::combine(&env(vars), Some(doc)).unwrap()).unwrap()
}

fn document(routes: Value) -> Value {
    json!({
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()])}],
        "routes": routes,
    })
}

fn event_at(method_and_path: &str, token: &str) -> Value {
    let mut event = rest_token(&format!("Bearer {token}"));
    event["methodArn"] = json!(format!("{STAGE}/{method_and_path}"));
    event
}

fn v2_at(method_and_path: &str, token: &str) -> Value {
    let mut event = http_v2(&format!("Bearer {token}"));
    event["routeArn"] = json!(format!("{STAGE}/{method_and_path}"));
    event
}

fn messages_rules() -> Value {
    json!({
        "default": "allow",
        "rules": [
            {"route": "GET /messages", "scopes": ["read:messages"]},
            {"route": "POST /messages", "scopes": ["write:messages"]},
            {"route": "* /admin/**", "claims": {"role": "admin"}},
        ],
    })
}

#[tokio::test]
async fn rest_policies_list_exactly_what_the_token_may_and_may_not_call() {
    let authorizer = with_document(&[], &document(messages_rules()));
    let reader = rsa_a()
        .mint(&claims(json!({"scope": "read:messages", "role": "user"})))
        .unwrap();
    let decided = decide(&authorizer, event_at("GET/messages", &reader)).await;
    assert_eq!(decided.reason(), "ok");
    let answer = decided.allowed();
    assert_eq!(
        statements(&answer),
        vec![
            (
                "Allow".to_owned(),
                vec![format!("{STAGE}/*"), format!("{STAGE}/GET/messages")]
            ),
            (
                "Deny".to_owned(),
                vec![
                    format!("{STAGE}/POST/messages"),
                    format!("{STAGE}/*/admin/*")
                ]
            ),
        ]
    );
    assert_eq!(answer["context"]["role"], "user");
    // The same token on a route it may not call: 403 with the same cache-safe policy.
    let decided = decide(&authorizer, event_at("POST/messages", &reader)).await;
    assert_eq!(decided.reason(), "insufficient_scope");
    assert_eq!(statements(&decided.allowed()), statements(&answer));
    let decided = decide(&authorizer, event_at("DELETE/admin/users/7", &reader)).await;
    assert_eq!(decided.reason(), "claim_mismatch");
    // An admin writer may call everything: no Deny statement.
    let admin = rsa_a()
        .mint(&claims(
            json!({"scope": "read:messages write:messages", "role": ["user", "admin"]}),
        ))
        .unwrap();
    let answer = decide(&authorizer, event_at("DELETE/admin/users/7", &admin))
        .await
        .allowed();
    assert_eq!(statements(&answer).len(), 1);
}

#[tokio::test]
async fn http_api_simple_responses_decide_per_route() {
    let authorizer = with_document(&[], &document(messages_rules()));
    let reader = rsa_a()
        .mint(&claims(json!({"scope": "read:messages"})))
        .unwrap();
    assert_eq!(
        decide(&authorizer, v2_at("GET/messages", &reader))
            .await
            .allowed()["isAuthorized"],
        true
    );
    let denied = decide(&authorizer, v2_at("POST/messages", &reader)).await;
    assert_eq!(
        denied.allowed(),
        json!({"isAuthorized": false, "context": {"reason": "insufficient_scope"}})
    );
    assert_eq!(
        decide(&authorizer, v2_at("GET/anything/else", &reader))
            .await
            .allowed()["isAuthorized"],
        true
    );
}

#[tokio::test]
async fn a_tenant_claim_bound_to_the_path_with_default_deny() {
    let routes = json!({
        "default": "deny",
        "rules": [
            {"route": "* /tenants/{tenant}/**", "claims": {"tenant_id": "{tenant}"}},
            {"route": "GET /health"},
        ],
    });
    let authorizer = with_document(&[], &document(routes));
    let acme = rsa_a().mint(&claims(json!({"tenant_id": "acme"}))).unwrap();
    let decided = decide(&authorizer, event_at("GET/tenants/acme/reports", &acme)).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(
        statements(&decided.allowed()),
        vec![(
            "Allow".to_owned(),
            vec![
                format!("{STAGE}/*/tenants/acme/*"),
                format!("{STAGE}/GET/health")
            ]
        )]
    );
    assert_eq!(
        decide(&authorizer, event_at("GET/tenants/globex/reports", &acme))
            .await
            .reason(),
        "claim_mismatch"
    );
    assert_eq!(
        decide(&authorizer, event_at("GET/other", &acme))
            .await
            .reason(),
        "route_not_allowed"
    );
    let v2 = decide(&authorizer, v2_at("GET/tenants/globex/reports", &acme)).await;
    assert_eq!(v2.allowed()["isAuthorized"], false);
    // No tenant claim at all: nothing under /tenants, only /health.
    let nobody = rsa_a().mint(&claims(json!({}))).unwrap();
    let answer = decide(&authorizer, event_at("GET/health", &nobody))
        .await
        .allowed();
    assert_eq!(
        statements(&answer),
        vec![
            ("Allow".to_owned(), vec![format!("{STAGE}/GET/health")]),
            ("Deny".to_owned(), vec![format!("{STAGE}/*/tenants/*/*")]),
        ]
    );
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys_and_rules() {
    let (a, b) = (rsa_a(), ec_p256());
    let doc = json!({
        "issuers": [
            {"issuer": "https://acme.us.auth0.com/", "preset": "auth0", "audiences": ["https://api.acme.example"],
             "jwks": jwks(&[&a]), "required_scopes": ["read:messages"]},
            {"issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "preset": "cognito",
             "audiences": ["app-client-id"], "jwks": jwks(&[&b]), "algorithms": ["ES256"]},
        ],
    });
    let authorizer = with_document(&[], &doc);
    let now = unix_now();
    let auth0 = a
        .mint(&json!({"iss": "https://acme.us.auth0.com/", "sub": "auth0|1", "aud": ["https://api.acme.example"],
                      "iat": now, "exp": now + 60, "permissions": ["read:messages"]}))
        .unwrap();
    assert_eq!(
        decide(&authorizer, rest_token(&format!("Bearer {auth0}")))
            .await
            .reason(),
        "ok"
    );
    let cognito = b
        .mint(&json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "sub": "u", "username": "jane",
                      "client_id": "app-client-id", "token_use": "access", "iat": now, "exp": now + 60, "scope": "openid"}))
        .unwrap();
    let decided = decide(&authorizer, rest_token(&format!("Bearer {cognito}"))).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.principal.as_deref(), Some("jane"));
    // Issuer A's key can never verify a token claiming issuer B.
    let forged = a
        .mint(&json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "sub": "u",
                      "client_id": "app-client-id", "token_use": "access", "iat": now, "exp": now + 60}))
        .unwrap();
    let decided = decide(&authorizer, rest_token(&format!("Bearer {forged}"))).await;
    assert!(
        ["algorithm_not_allowed", "unknown_kid"].contains(&decided.reason()),
        "{}",
        decided.reason()
    );
}

#[tokio::test]
async fn an_env_preset_is_one_line() {
    let authorizer = fixed_authorizer(
        &[&rsa_a()],
        &[
            (
                "TOKEN_ISSUER",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
            ),
            ("AUDIENCE", "app-client-id"),
            ("IDP_PRESET", "cognito"),
        ],
    );
    let now = unix_now();
    let token = rsa_a()
        .mint(&json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool", "sub": "u", "username": "jane",
                      "client_id": "app-client-id", "token_use": "access", "iat": now, "exp": now + 60}))
        .unwrap();
    let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.principal.as_deref(), Some("jane"));
}

#[test]
fn document_errors_name_the_path() {
    let cases = [
        (
            json!({"issuers": [{"issuer": ISSUER, "audince": ["x"]}]}),
            "issuers[0]",
        ),
        (
            json!({"issuers": [{"issuer": ISSUER, "audiences": []}]}),
            "issuers[0].audiences",
        ),
        (
            json!({"issuers": [{"issuer": ISSUER, "audiences": ["a"], "algorithms": ["HS256"]}]}),
            "issuers[0].algorithms",
        ),
        (
            json!({"issuers": [{"issuer": ISSUER, "audiences": ["a"], "preset": "ping"}]}),
            "issuers[0].preset",
        ),
        (
            json!({"issuers": [{"issuer": ISSUER, "audiences": ["a"], "jwks_uri": "http://idp.example.com/k"}]}),
            "issuers[0].jwks_uri",
        ),
        (
            json!({"routes": {"rules": [{"route": "messages"}]}}),
            "routes.rules[0].route",
        ),
        (
            json!({"routes": {"default": "maybe", "rules": []}}),
            "routes.default",
        ),
        (
            json!({"gateway": {"http_api_response": "iam"}}),
            "gateway.http_api_response",
        ),
        (json!({"http": {"timeout_ms": 20000}}), "http.timeout_ms"),
        (
            json!({"cache": {"ttl_seconds": "600"}}),
            "cache.ttl_seconds",
        ),
        (json!({"extra": 1}), "extra"),
    ];
    for (doc, path) in cases {
        let error =
            ConfigDocument::parse("CONFIG_PARAMETER /tv/config", &doc.to_string()).unwrap_err();
        assert_eq!(error.variable, "CONFIG_PARAMETER /tv/config");
        assert!(error.message.contains(path), "{doc}: {error}");
    }
    let error = ConfigDocument::parse("f", "{not json").unwrap_err();
    assert!(error.message.contains("line 1"), "{error}");
    // A document cut short: where the text ends, not a member path it never reached.
    let error =
        ConfigDocument::parse("f", "{\"issuers\": [\n  {\"issuer\": \"https://x/\",").unwrap_err();
    assert_eq!(
        error.message,
        "not valid JSON at line 2, column 26: EOF while parsing a value"
    );
    assert_eq!(error.setting(), "f");
}

#[test]
fn the_document_wins_and_the_environment_fills_in() {
    let doc = ConfigDocument::parse(
        "d",
        &json!({
            "issuers": [{"issuer": "https://doc.example/", "audiences": ["doc-api"], "leeway_seconds": 5}],
            "gateway": {"token_header": "X-Token"},
        })
        .to_string(),
    )
    .unwrap();
    let env = env(&[
        ("TOKEN_ISSUER", "https://env.example/"),
        ("AUDIENCE", "env-api"),
        ("LEEWAY_SECONDS", "30"),
        ("ALLOWED_ALGORITHMS", "RS256,ES256"),
        ("TOKEN_HEADER", "X-Env"),
        ("TOKEN_QUERY_PARAM", "token"),
    ]);
    let config = Config::combine(&env, Some(doc)).unwrap();
    assert_eq!(
        config.issuers.len(),
        1,
        "the document's issuers replace the environment's"
    );
    assert_eq!(config.issuers[0].issuer, "https://doc.example/");
    assert_eq!(config.issuers[0].leeway.as_secs(), 5, "document wins");
    assert_eq!(
        config.issuers[0].algorithms.len(),
        2,
        "environment fills in"
    );
    assert_eq!(config.gateway.token_header, "X-Token");
    assert_eq!(config.gateway.token_query.as_deref(), Some("token"));
    // A bound parameter needs default deny.
    let bad = ConfigDocument::parse(
        "d",
        &json!({"routes": {"rules": [{"route": "GET /t/{t}", "claims": {"tenant": "{t}"}}]}})
            .to_string(),
    )
    .unwrap();
    let error = Config::combine(&env, Some(bad)).unwrap_err();
    assert!(error.message.contains("default"), "{error}");
}

#[test]
fn the_example_document_is_valid() {
    let text = include_str!("../../docs/config.example.json");
    let doc = ConfigDocument::parse("docs/config.example.json", text).unwrap();
    let config = Config::combine(&EnvConfig::default(), Some(doc)).unwrap();
    assert!(config.issuers.len() >= 3);
    assert!(!config.routes.is_empty());
}
