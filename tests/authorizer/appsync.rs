//! AppSync's Lambda authorizers (README "AppSync"): the GraphQL API's event and the Events
//! API's, the token bare or as `Bearer …`; the answer `{isAuthorized, resolverContext,
//! deniedFields, ttlOverride}` with the claims flat, route rules over GraphQL fields as
//! `deniedFields` (the same for every operation, so AppSync's cache stays right), a
//! `ttlOverride` never past the token's `exp`, and every refusal `isAuthorized: false`.

use serde_json::{Value, json};
use token_verifier::tool::dev::jwks;
use token_verifier::{Authorizer, Config, ConfigDocument, EnvConfig};

use crate::support::*;

fn graphql(authorization: &str) -> Value {
    json!({
        "authorizationToken": authorization,
        "requestContext": {
            "apiId": "aaaaaa123123123example123",
            "accountId": "111122223333",
            "requestId": "f4081827-1111-4444-5555-5cf4695f339f",
            "queryString": "query ListMessages { listMessages { id text } }",
            "operationName": "ListMessages",
            "variables": {},
        },
        "requestHeaders": {"authorization": authorization, "host": "example.appsync-api.us-east-1.amazonaws.com"},
    })
}

fn events(authorization: &str, operation: &str) -> Value {
    json!({
        "authorizationToken": authorization,
        "requestContext": {
            "apiId": "bbbbbb123123123example123",
            "accountId": "111122223333",
            "requestId": "8819e8e3-7f4f-4c1c-9d3b-d0a2f5e1e0b6",
            "operation": operation,
            "channelNamespaceName": "news",
            "channel": "/news/latest",
        },
        "requestHeaders": {"authorization": authorization},
    })
}

/// Field rules for a messages API: deleting needs `admin:messages`, the audit log an
/// auditor; an HTTP route rule in the same document does not concern AppSync.
fn with_field_rules() -> Authorizer {
    let document = json!({
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()])}],
        "routes": {"default": "allow", "rules": [
            {"route": "Mutation.deleteMessage", "scopes": ["admin:messages"]},
            {"route": "Query.auditLog", "claims": {"role": "auditor"}},
            {"route": "GET /messages", "scopes": ["never:granted"]},
        ]},
    });
    let document = ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap()
}

#[tokio::test]
async fn a_graphql_request_is_authorized_with_the_claims_flat_and_a_ttl_within_exp() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let token = rsa_a()
        .mint(&claims(
            json!({"https://acme.example/meta": {"plan": "gold"}, "exp": unix_now() + 120}),
        ))
        .unwrap();
    for authorization in [token.clone(), format!("Bearer {token}")] {
        let decided = decide(&authorizer, graphql(&authorization)).await;
        assert_eq!(decided.reason(), "ok");
        assert_eq!(decided.record.shape, Some("appsync_graphql"));
        let answer = decided.allowed();
        assert_eq!(answer["isAuthorized"], true);
        let context = &answer["resolverContext"];
        assert_eq!(context["principalId"], "user-123");
        assert_eq!(context["scope"], "openid read:messages");
        // AppSync takes no nested keys: an object claim arrives as its JSON text.
        assert_eq!(context["https://acme.example/meta"], r#"{"plan":"gold"}"#);
        assert!(
            context
                .as_object()
                .unwrap()
                .values()
                .all(|v| !v.is_object() && !v.is_array())
        );
        let ttl = answer["ttlOverride"].as_u64().unwrap();
        assert!((118..=120).contains(&ttl), "ttlOverride {ttl} is past exp");
        assert!(answer.get("deniedFields").is_none(), "{answer}");
    }
    // A long-lived token: the configured bound (APPSYNC_TTL_SECONDS, default 300).
    let token = rsa_a()
        .mint(&claims(json!({"exp": unix_now() + 86_400})))
        .unwrap();
    let answer = decide(&authorizer, graphql(&token)).await.allowed();
    assert_eq!(answer["ttlOverride"], 300);
    let no_cache = fixed_authorizer(&[&rsa_a()], &[("APPSYNC_TTL_SECONDS", "0")]);
    assert_eq!(
        decide(&no_cache, graphql(&token)).await.allowed()["ttlOverride"],
        0
    );
}

/// `deniedFields` lists every field rule the token does not meet, whatever this
/// operation asks for: AppSync caches the answer per token for all of its operations.
#[tokio::test]
async fn field_rules_become_denied_fields_for_every_operation_of_the_token() {
    let authorizer = with_field_rules();
    let reader = rsa_a().mint(&claims(json!({"role": "user"}))).unwrap();
    let answer = decide(&authorizer, graphql(&reader)).await.allowed();
    assert_eq!(answer["isAuthorized"], true);
    assert_eq!(
        answer["deniedFields"],
        json!(["Mutation.deleteMessage", "Query.auditLog"])
    );
    let mut mutation = graphql(&reader);
    mutation["requestContext"]["queryString"] = json!("mutation { deleteMessage(id: 1) { id } }");
    assert_eq!(
        decide(&authorizer, mutation).await.allowed()["deniedFields"],
        answer["deniedFields"]
    );
    let admin = rsa_a()
        .mint(&claims(
            json!({"scope": "read:messages admin:messages", "role": ["auditor"]}),
        ))
        .unwrap();
    let answer = decide(&authorizer, graphql(&admin)).await.allowed();
    assert!(answer.get("deniedFields").is_none(), "{answer}");
}

/// Every refusal is `isAuthorized: false` and never cached (AppSync answers the client
/// `UnauthorizedException`); the reason is the decision line's, as for API Gateway.
#[tokio::test]
async fn refusals_are_unauthorized_and_never_cached() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("REQUIRED_SCOPES", "read:messages")]);
    let refused = json!({"isAuthorized": false, "ttlOverride": 0});
    let expired = rsa_a()
        .mint(&claims(
            json!({"exp": unix_now() - 600, "iat": unix_now() - 1200}),
        ))
        .unwrap();
    let no_scope = rsa_a().mint(&claims(json!({"scope": "openid"}))).unwrap();
    let forged = rsa_b().mint(&claims(json!({}))).unwrap();
    for (authorization, reason) in [
        (expired.as_str(), "expired"),
        ("", "missing_token"),
        ("undefined", "missing_token"),
        ("Bearer", "missing_token"),
        (forged.as_str(), "unknown_kid"),
        ("8xLOxBtZp8NO2bAlXDEzOhNpZX5zBtJZ", "opaque_token"),
        (no_scope.as_str(), "insufficient_scope"),
    ] {
        let decided = decide(&authorizer, graphql(authorization)).await;
        assert_eq!(decided.reason(), reason, "{authorization}");
        assert_eq!(decided.allowed(), refused, "{authorization}");
        let decided = decide(&authorizer, events(authorization, "EVENT_SUBSCRIBE")).await;
        assert_eq!(decided.reason(), reason, "{authorization}");
        assert_eq!(decided.allowed(), refused, "{authorization}");
    }
}

/// Keys that cannot be had: refused (fail closed), not an error AppSync might read
/// otherwise.
#[tokio::test]
async fn unavailable_keys_fail_closed() {
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Status(503, "down".into()));
    let authorizer = authorizer(&server, &[]).await;
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let decided = decide(&authorizer, graphql(&token)).await;
    assert_eq!(decided.reason(), "jwks_unavailable");
    assert_eq!(
        decided.allowed(),
        json!({"isAuthorized": false, "ttlOverride": 0})
    );
}

#[tokio::test]
async fn an_events_api_request_gets_the_claims_as_handler_context() {
    let authorizer = with_field_rules();
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    for operation in ["EVENT_CONNECT", "EVENT_SUBSCRIBE", "EVENT_PUBLISH"] {
        let decided = decide(&authorizer, events(&format!("Bearer {token}"), operation)).await;
        assert_eq!(decided.record.shape, Some("appsync_events"));
        let answer = decided.allowed();
        assert_eq!(answer["isAuthorized"], true, "{operation}");
        assert_eq!(answer["handlerContext"]["principalId"], "user-123");
        assert!(answer.get("deniedFields").is_none() && answer.get("resolverContext").is_none());
        assert!(answer["ttlOverride"].as_u64().unwrap() > 0);
    }
}

/// Only AppSync's own shapes are taken for AppSync: an `apiId` alone is no such event.
#[tokio::test]
async fn an_event_that_only_looks_like_appsync_is_unrecognised() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let mut event = graphql(&token);
    event["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("queryString");
    let decided = decide(&authorizer, event).await;
    assert_eq!(decided.reason(), "unrecognised_event");
    assert!(decided.answer.is_err());
    let mut event = events(&token, "PUBLISH");
    event["requestContext"]["operation"] = json!("PUBLISH");
    assert_eq!(
        decide(&authorizer, event).await.reason(),
        "unrecognised_event"
    );
}

/// The official event types (`aws_lambda_events::appsync`) read our samples and our
/// answers: the field names and types are AppSync's.
#[tokio::test]
async fn the_official_appsync_types_read_the_events_and_the_answers() {
    use aws_lambda_events::appsync::{
        AppSyncLambdaAuthorizerRequest, AppSyncLambdaAuthorizerResponse,
    };
    let authorizer = with_field_rules();
    let token = rsa_a().mint(&claims(json!({"role": "user"}))).unwrap();
    let event = graphql(&format!("Bearer {token}"));
    let request: AppSyncLambdaAuthorizerRequest = serde_json::from_value(event.clone()).unwrap();
    assert_eq!(
        request.request_context.apiid.as_deref(),
        Some("aaaaaa123123123example123")
    );
    let answer = decide(&authorizer, event).await.allowed();
    let read: AppSyncLambdaAuthorizerResponse = serde_json::from_value(answer.clone()).unwrap();
    assert!(read.is_authorized);
    assert_eq!(read.resolver_context["principalId"], "user-123");
    assert_eq!(
        read.denied_fields,
        Some(vec![
            "Mutation.deleteMessage".to_owned(),
            "Query.auditLog".to_owned()
        ])
    );
    assert!(read.ttl_override.is_some_and(|ttl| ttl > 0));
    let refused = decide(&authorizer, graphql("")).await.allowed();
    let read: AppSyncLambdaAuthorizerResponse = serde_json::from_value(refused).unwrap();
    assert!(!read.is_authorized && read.ttl_override == Some(0));
}
