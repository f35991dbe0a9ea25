//! Certificate-bound tokens (RFC 8705; README "Certificate-bound tokens"): with
//! `SENDER_CONSTRAINT`, a token whose `cnf.x5t#S256` names a client certificate passes
//! only with that certificate, as API Gateway's mutual TLS puts it in REQUEST and HTTP
//! API events; `require` refuses unbound tokens; a DPoP-bound token sent as Bearer is
//! refused.

use serde_json::{Value, json};
use token_verifier::tool::dev::jwks;
use token_verifier::{Authorizer, Config, ConfigDocument, EnvConfig};

use crate::support::*;

/// The test certificate (tests/keys) and its RFC 8705 thumbprint, as openssl computes it:
/// `openssl x509 -in tests/keys/tls-self-signed.crt -outform der | openssl dgst -sha256
/// -binary | base64 | tr '+/' '-_' | tr -d '='`.
const CERT: &str = include_str!("../keys/tls-self-signed.crt");
const THUMBPRINT: &str = "9gYtUUUkYscCKj8xZmBiZMdWUnHStv7i54UJATfqsGc";

fn bound_token() -> String {
    rsa_a()
        .mint(&claims(json!({"cnf": {"x5t#S256": THUMBPRINT}})))
        .unwrap()
}

/// A REST REQUEST event as API Gateway sends it with mutual TLS on.
fn rest_with_cert(token: &str, cert: Option<&str>) -> Value {
    let mut event = rest_request(json!({"Authorization": format!("Bearer {token}")}));
    if let Some(cert) = cert {
        event["requestContext"]["identity"] = json!({
            "sourceIp": "203.0.113.9",
            "clientCert": {"clientCertPem": cert, "subjectDN": "CN=localhost", "issuerDN": "CN=localhost",
                           "serialNumber": "1", "validity": {"notBefore": "Jan 1 00:00:00 2026 GMT", "notAfter": "Jan 1 00:00:00 2036 GMT"}},
        });
    }
    event
}

/// An HTTP API payload 2.0 event with mutual TLS on (`requestContext.authentication`).
fn http_v2_with_cert(token: &str, cert: &str) -> Value {
    let mut event = http_v2(&format!("Bearer {token}"));
    event["requestContext"]["authentication"] = json!({"clientCert": {"clientCertPem": cert}});
    event
}

#[tokio::test]
async fn a_certificate_bound_token_passes_with_its_certificate_only() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("SENDER_CONSTRAINT", "allow")]);
    let token = bound_token();
    assert_eq!(
        decide(&authorizer, rest_with_cert(&token, Some(CERT)))
            .await
            .reason(),
        "ok"
    );
    assert_eq!(
        decide(&authorizer, http_v2_with_cert(&token, CERT))
            .await
            .reason(),
        "ok"
    );
    let mut v1 = http_v1(&format!("Bearer {token}"));
    v1["requestContext"]["identity"] = json!({"clientCert": {"clientCertPem": CERT}});
    assert_eq!(decide(&authorizer, v1).await.reason(), "ok");
    // Without a certificate (mutual TLS off, the execute-api endpoint, a TOKEN event).
    let missing = decide(&authorizer, rest_with_cert(&token, None)).await;
    assert_eq!(missing.reason(), "certificate_missing");
    assert!(missing.answer.is_err(), "a 401");
    let token_event = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_eq!(token_event.reason(), "certificate_missing");
    // Another client's certificate: the token's thumbprint and the presented one named.
    let other = rsa_a()
        .mint(&claims(
            json!({"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}),
        ))
        .unwrap();
    let mismatch = decide(&authorizer, rest_with_cert(&other, Some(CERT))).await;
    assert_eq!(mismatch.reason(), "certificate_mismatch");
    assert!(
        mismatch.detail().contains(THUMBPRINT),
        "{}",
        mismatch.detail()
    );
    // An unbound token still passes with allow.
    let plain = rsa_a().mint(&claims(json!({}))).unwrap();
    assert_eq!(
        decide(&authorizer, rest_with_cert(&plain, Some(CERT)))
            .await
            .reason(),
        "ok"
    );
}

#[tokio::test]
async fn require_refuses_unbound_tokens_and_off_checks_nothing() {
    let plain = rsa_a().mint(&claims(json!({}))).unwrap();
    let require = fixed_authorizer(&[&rsa_a()], &[("SENDER_CONSTRAINT", "require")]);
    assert_eq!(
        decide(&require, rest_with_cert(&plain, Some(CERT)))
            .await
            .reason(),
        "token_not_bound"
    );
    assert_eq!(
        decide(&require, rest_with_cert(&bound_token(), Some(CERT)))
            .await
            .reason(),
        "ok"
    );
    // Off (the default): a binding is not looked at, as before this setting existed.
    let off = fixed_authorizer(&[&rsa_a()], &[]);
    assert_eq!(
        decide(&off, rest_with_cert(&bound_token(), None))
            .await
            .reason(),
        "ok"
    );
}

/// RFC 9449 §7.2: a DPoP-bound token (`cnf.jkt`) sent as Bearer is refused.
#[tokio::test]
async fn a_dpop_bound_token_sent_as_bearer_is_refused() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("SENDER_CONSTRAINT", "allow")]);
    let dpop = rsa_a()
        .mint(&claims(
            json!({"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}),
        ))
        .unwrap();
    assert_eq!(
        decide(&authorizer, rest_with_cert(&dpop, Some(CERT)))
            .await
            .reason(),
        "bound_token_as_bearer"
    );
}

/// Per issuer in a document: one issuer's tokens bound, another's not.
#[tokio::test]
async fn the_setting_is_per_issuer_in_a_document() {
    let document = json!({"issuers": [
        {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()]), "sender_constraint": "require"},
        {"issuer": "https://other.example/", "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_b()])},
    ]});
    let document = ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    let authorizer = Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap();
    let plain = rsa_a().mint(&claims(json!({}))).unwrap();
    assert_eq!(
        decide(&authorizer, rest_with_cert(&plain, None))
            .await
            .reason(),
        "token_not_bound"
    );
    let other = rsa_b()
        .mint(&claims(json!({"iss": "https://other.example/"})))
        .unwrap();
    assert_eq!(
        decide(&authorizer, rest_with_cert(&other, None))
            .await
            .reason(),
        "ok"
    );
    let bad = json!({"issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()]), "sender_constraint": "yes"}]});
    let error = ConfigDocument::parse("test.json", &bad.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("sender_constraint") && error.contains("`off`, `allow` or `require`"),
        "{error}"
    );
}

/// `explain --cert FILE` judges a bound token as the authorizer does; without the
/// certificate the binding is reported as not checked, never as passed.
#[tokio::test]
async fn explain_judges_the_binding_with_the_certificate_given() {
    use token_verifier::tool::explain::{Options, Status, Verdict, explain};
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("SENDER_CONSTRAINT", "allow")]);
    let options = |client_cert: Option<&str>| Options {
        offline: false,
        audience_known: true,
        arn: None,
        now: token_verifier::now(),
        client_cert: client_cert.map(str::to_owned),
        dpop: None,
    };
    let token = bound_token();
    let binding = binding_status;
    let with = explain(Some(&authorizer), &token, &options(Some(CERT))).await;
    assert_eq!(with.verdict(), Verdict::Allow);
    assert_eq!(binding(&with), Status::Pass);
    let without = explain(Some(&authorizer), &token, &options(None)).await;
    assert_eq!(binding(&without), Status::NotChecked);
    assert_ne!(without.verdict(), Verdict::Allow);
    let other = explain(
        Some(&authorizer),
        &token,
        &options(Some(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        )),
    )
    .await;
    match other.verdict() {
        Verdict::Refused(refusal) => assert_eq!(refusal.reason.code(), "certificate_mismatch"),
        verdict => panic!("{verdict:?}"),
    }
}

/// Userinfo answers carry no `cnf`: an opaque token validated that way could never show
/// its binding, so the combination is refused at init.
#[test]
fn userinfo_and_a_sender_constraint_are_refused_together() {
    let env = EnvConfig::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(ISSUER.into()),
        "AUDIENCE" => Some(AUDIENCE.into()),
        "OPAQUE_TOKENS" => Some("userinfo".into()),
        "OPAQUE_AUDIENCE" => Some("unbound".into()),
        "SENDER_CONSTRAINT" => Some("allow".into()),
        _ => None,
    })
    .unwrap();
    let error = Config::combine(&env, None).unwrap_err().to_string();
    assert!(
        error.starts_with("SENDER_CONSTRAINT") && error.contains("introspection"),
        "{error}"
    );
}

/// No client certificate reaches a service behind the tower layer: a bound token is
/// refused there (401 `certificate_missing`), an unbound one passes with `allow`.
#[tokio::test]
async fn the_tower_layer_refuses_a_bound_token() {
    use std::sync::Arc;
    use tower::{ServiceBuilder, ServiceExt as _, service_fn};
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("SENDER_CONSTRAINT", "allow")]);
    let layer = token_verifier::layer::VerifyLayer::new(Arc::new(authorizer));
    let call = |token: String| {
        let service = ServiceBuilder::new()
            .layer(layer.clone())
            .service(service_fn(|_: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            }));
        async move {
            let request = http::Request::get("/messages")
                .header("authorization", format!("Bearer {token}"))
                .body(String::new())
                .unwrap();
            let response = service.oneshot(request).await.unwrap();
            (response.status().as_u16(), response.into_body())
        }
    };
    let (status, body) = call(bound_token()).await;
    assert_eq!(status, 401);
    assert!(body.contains("certificate_missing"), "{body}");
    assert_eq!(call(rsa_a().mint(&claims(json!({}))).unwrap()).await.0, 200);
}
