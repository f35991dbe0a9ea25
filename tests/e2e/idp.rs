//! Real tokens from a real OpenID Provider, through the built authorizer under the Lambda
//! emulator: every algorithm, the opaque token, the ID token, discovery and key rotation.

use serde_json::Value;

use crate::emulator::{Emulator, policy_allows};
use crate::provider::Provider;
use crate::support::http_v2;

const APIS: [(&str, &str); 4] = [
    ("RS256", "https://api.example.com/rs256"),
    ("PS256", "https://api.example.com/ps256"),
    ("ES256", "https://api.example.com/es256"),
    ("EdDSA", "https://api.example.com/eddsa"),
];

async fn authorizer_for(provider: &Provider, name: &str) -> Emulator {
    let audiences = APIS.map(|(_, aud)| aud).join(",");
    Emulator::start(
        name,
        &[
            ("TOKEN_ISSUER", provider.issuer.as_str()),
            ("AUDIENCE", &audiences),
            ("ALLOWED_ALGORITHMS", "RS256,PS256,ES256,EdDSA"),
            ("REQUIRED_SCOPES", "read:messages"),
            ("REQUIRE_TOKEN_TYPE", "true"),
            ("ALLOWED_TOKEN_TYPES", "at+jwt"),
        ],
    )
    .await
}

fn log_lines(emulator: &Emulator, message: &str) -> Vec<Value> {
    emulator
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == message)
        .collect()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn provider_tokens_in_every_algorithm_are_allowed_with_their_claims() {
    let provider = Provider::start("algs", None, "1").await;
    let emulator = authorizer_for(&provider, "op-algs").await;
    for (alg, resource) in APIS {
        let token = provider.access_token(Some(resource)).await;
        let answer = emulator.bearer(&token).await;
        assert!(policy_allows(&answer), "{alg}: {answer}");
        assert_eq!(answer["principalId"], "svc", "{alg}");
        let context = &answer["context"];
        assert_eq!(context["aud"], resource);
        assert_eq!(context["client_id"], "svc");
        assert_eq!(context["scope"], "read:messages");
        assert_eq!(context["iss"], provider.issuer.as_str());
        let simple = emulator.invoke(&http_v2(&format!("Bearer {token}"))).await;
        assert_eq!(simple["isAuthorized"], true, "{alg}: {simple}");
    }
    let decisions = emulator.decisions();
    let algs: Vec<&str> = decisions
        .iter()
        .step_by(2)
        .map(|d| d["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, APIS.map(|(alg, _)| alg));
    assert!(
        decisions
            .iter()
            .all(|d| d["typ"] == "at+jwt" && d["keys"] == "cached")
    );
    // Discovery found the jwks_uri once; the keys were fetched once, at init.
    assert_eq!(log_lines(&emulator, "discovered jwks_uri").len(), 1);
    let fetched = log_lines(&emulator, "key set fetched");
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0]["trigger"], "init");
    assert_eq!(fetched[0]["keys"], 4);
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn the_providers_opaque_token_is_named_with_the_audience_fix() {
    let provider = Provider::start("opaque", None, "1").await;
    let emulator = authorizer_for(&provider, "op-opaque").await;
    let opaque = provider.access_token(None).await;
    assert!(
        !opaque.contains('.'),
        "the provider issued a JWT without a resource"
    );
    let answer = emulator.bearer(&opaque).await;
    assert_eq!(answer["errorMessage"], "Unauthorized");
    let decision = &emulator.decisions()[0];
    assert_eq!(decision["reason"], "opaque_token");
    assert!(decision["hint"].as_str().unwrap().contains("audience"));
    assert!(!emulator.log().contains(&opaque));
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn the_providers_id_token_is_refused_as_an_id_token() {
    let provider = Provider::start("id", None, "1").await;
    let emulator = authorizer_for(&provider, "op-id").await;
    let id_token = provider.id_token().await;
    let answer = emulator.bearer(&id_token).await;
    assert_eq!(answer["errorMessage"], "Unauthorized");
    let decision = &emulator.decisions()[0];
    assert_eq!(decision["reason"], "id_token", "{decision}");
    assert_eq!(decision["aud"], "svc");
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn a_provider_restarted_with_new_keys_is_picked_up_with_one_refetch() {
    let first = Provider::start("rotation", None, "1").await;
    let port = first.port;
    let emulator = authorizer_for(&first, "op-rotation").await;
    let old = first.access_token(Some(APIS[0].1)).await;
    assert!(emulator.bearer(&old).await.get("policyDocument").is_some());
    first.stop();

    let second = Provider::start("rotation", Some(port), "2").await;
    let new = second.access_token(Some(APIS[0].1)).await;
    for _ in 0..3 {
        let answer = emulator.bearer(&new).await;
        assert!(policy_allows(&answer), "{answer}");
    }
    // The old key is gone from the new set: refused, and within the cool-down no refetch.
    let answer = emulator.bearer(&old).await;
    assert_eq!(answer["errorMessage"], "Unauthorized");
    let reasons: Vec<String> = emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["ok", "ok", "ok", "ok", "unknown_kid"]);
    let fetched = log_lines(&emulator, "key set fetched");
    let triggers: Vec<&str> = fetched
        .iter()
        .map(|f| f["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(
        triggers,
        ["init", "unknown_kid"],
        "exactly one refetch for the rotation"
    );
    assert_eq!(fetched[1]["kids"], "rs256-2,ps256-2,es256-2,eddsa-2");
}

/// AppSync's GraphQL and Events authorizer events with the provider's tokens, through the
/// runtime: the claims flat in `resolverContext` / `handlerContext`, the cache bound by
/// the token's lifetime, a refusal `isAuthorized: false`.
#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn appsync_events_with_provider_tokens() {
    let provider = Provider::start("appsync", None, "1").await;
    let emulator = authorizer_for(&provider, "op-appsync").await;
    let token = provider.access_token(Some(APIS[0].1)).await;
    let graphql = serde_json::json!({
        "authorizationToken": format!("Bearer {token}"),
        "requestContext": {"apiId": "aaaaaa123123123example123", "accountId": "123456789012",
                           "requestId": "r-1", "queryString": "query { me { id } }", "variables": {}},
        "requestHeaders": {},
    });
    let answer = emulator.invoke(&graphql).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["resolverContext"]["client_id"], "svc");
    assert_eq!(answer["resolverContext"]["principalId"], "svc");
    let ttl = answer["ttlOverride"].as_u64().unwrap();
    assert!(ttl > 0 && ttl <= 300, "ttlOverride {ttl}");
    let events = serde_json::json!({
        "authorizationToken": token,
        "requestContext": {"apiId": "bbbbbb123123123example123", "accountId": "123456789012",
                           "requestId": "r-2", "operation": "EVENT_CONNECT"},
        "requestHeaders": {},
    });
    let answer = emulator.invoke(&events).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(answer["handlerContext"]["scope"], "read:messages");
    // The provider's opaque token (no resource): refused, not cached.
    let opaque = provider.access_token(None).await;
    let mut refused = graphql.clone();
    refused["authorizationToken"] = serde_json::json!(opaque);
    let answer = emulator.invoke(&refused).await;
    assert_eq!(
        answer,
        serde_json::json!({"isAuthorized": false, "ttlOverride": 0})
    );
    let reasons: Vec<Value> = emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].clone())
        .collect();
    assert_eq!(reasons, ["ok", "ok", "opaque_token"]);
}

/// Certificate-bound tokens (RFC 8705) from the provider, through the runtime: with
/// `SENDER_CONSTRAINT=require` the token passes with the client certificate it was issued
/// for (an HTTP API 2.0 event with mutual TLS), not without it, and the provider's unbound
/// tokens are refused.
#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn certificate_bound_provider_tokens_need_their_certificate() {
    // The client's certificate, and another client's, made now.
    let cert = token_verifier::tool::dev::self_signed_certificate("svc-mtls").unwrap();
    let other = token_verifier::tool::dev::self_signed_certificate("another-client").unwrap();
    let provider = Provider::start("mtls", None, "1").await;
    let audiences = APIS.map(|(_, aud)| aud).join(",");
    let emulator = Emulator::start(
        "op-mtls",
        &[
            ("TOKEN_ISSUER", provider.issuer.as_str()),
            ("AUDIENCE", &audiences),
            ("ALLOWED_ALGORITHMS", "RS256,PS256,ES256,EdDSA"),
            ("SENDER_CONSTRAINT", "require"),
        ],
    )
    .await;
    let bound = provider.bound_access_token(APIS[0].1, &cert).await;
    let with_cert = |token: &str, cert: Option<&str>| {
        let mut event = http_v2(&format!("Bearer {token}"));
        if let Some(cert) = cert {
            event["requestContext"]["authentication"] =
                serde_json::json!({"clientCert": {"clientCertPem": cert}});
        }
        event
    };
    let answer = emulator.invoke(&with_cert(&bound, Some(&cert))).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert!(answer["context"]["cnf"]["x5t#S256"].is_string(), "{answer}");
    let refused = emulator.invoke(&with_cert(&bound, None)).await;
    assert_eq!(refused["errorMessage"], "Unauthorized", "{refused}");
    let refused = emulator.invoke(&with_cert(&bound, Some(&other))).await;
    assert_eq!(refused["errorMessage"], "Unauthorized", "{refused}");
    let unbound = provider.access_token(Some(APIS[0].1)).await;
    let refused = emulator.invoke(&with_cert(&unbound, Some(&cert))).await;
    assert_eq!(refused["errorMessage"], "Unauthorized", "{refused}");
    let reasons: Vec<Value> = emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            "ok",
            "certificate_missing",
            "certificate_mismatch",
            "token_not_bound"
        ]
    );
}
