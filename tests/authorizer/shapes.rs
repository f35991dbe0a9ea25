//! Every event shape answered with the exact JSON API Gateway expects.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use token_verifier::Failure;

use crate::support::*;

fn assert_allow_policy(answer: &Value, resource: &str) {
    assert_eq!(answer["principalId"], "user-123");
    assert_eq!(
        answer["policyDocument"],
        json!({"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [resource]}
        ]})
    );
    // The official event types accept it.
    let _: ApiGatewayCustomAuthorizerResponse = serde_json::from_value(answer.clone()).unwrap();
    assert!(answer.get("usageIdentifierKey").is_none());
}

fn assert_flat(context: &Value) {
    for (key, value) in context.as_object().unwrap() {
        assert!(
            value.is_string() || value.is_number() || value.is_boolean(),
            "{key} is {value}: API Gateway answers 500 for that"
        );
    }
}

#[tokio::test]
async fn rest_token_allow_is_a_stage_wide_policy_with_a_flat_context() {
    let key = rsa_a();
    let authorizer = fixed_authorizer(&[&key], &[]);
    let token = key
        .mint(&claims(json!({
            "permissions": ["read:messages", "write:messages"],
            "https://my-app.example.com/user_meta": {"plan": "gold"},
            "email_verified": true,
        })))
        .unwrap();
    let answer = decide(&authorizer, rest_token(&format!("Bearer {token}")))
        .await
        .allowed();
    assert_allow_policy(&answer, STAGE_ARN);
    let context = &answer["context"];
    assert_flat(context);
    assert_eq!(context["sub"], "user-123");
    assert_eq!(context["scope"], "openid read:messages");
    assert_eq!(
        context["permissions"],
        r#"["read:messages","write:messages"]"#
    );
    assert_eq!(
        context["https://my-app.example.com/user_meta"],
        r#"{"plan":"gold"}"#
    );
    assert_eq!(context["email_verified"], true);
    assert_eq!(context["iss"], ISSUER);
    assert!(context["exp"].is_number());
    // The whole answer, key by key, so nothing extra slips in.
    // (Sorted: how a map of the test's JSON orders them depends on serde_json's features.)
    let mut keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["context", "policyDocument", "principalId"]);
}

#[tokio::test]
async fn rest_request_reads_the_configured_header_case_insensitively() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[]);
    let answer = decide(
        &authorizer,
        rest_request(json!({"authorization": format!("bearer {token}")})),
    )
    .await
    .allowed();
    assert_allow_policy(&answer, STAGE_ARN);

    let custom = fixed_authorizer(&[&key], &[("TOKEN_HEADER", "X-Api-Token")]);
    let answer = decide(
        &custom,
        rest_request(json!({"x-api-token": format!("Bearer {token}")})),
    )
    .await
    .allowed();
    assert_allow_policy(&answer, STAGE_ARN);
    let missing = decide(
        &custom,
        rest_request(json!({"Authorization": format!("Bearer {token}")})),
    )
    .await;
    assert_eq!(missing.reason(), "missing_token");
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[]);
    let mut event = rest_request(json!({"Authorization": format!("Bearer {token}")}));
    event["multiValueHeaders"]["Authorization"] =
        json!([format!("Bearer {token}"), "Bearer other"]);
    let decided = decide(&authorizer, event).await;
    assert_eq!(decided.reason(), "missing_token");
    assert_eq!(decided.answer, Err(Failure::Unauthorized));
}

#[tokio::test]
async fn http_api_v1_answers_with_a_policy() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({"roles": ["admin"]}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[]);
    let answer = decide(&authorizer, http_v1(&format!("Bearer {token}")))
        .await
        .allowed();
    assert_allow_policy(&answer, STAGE_ARN);
    assert_flat(&answer["context"]);
    assert_eq!(answer["context"]["roles"], r#"["admin"]"#);
}

#[tokio::test]
async fn http_api_v2_answers_simply_with_native_json_by_default() {
    let key = rsa_a();
    let token = key
        .mint(&claims(
            json!({"permissions": ["read:messages"], "org": {"id": 7}}),
        ))
        .unwrap();
    let authorizer = fixed_authorizer(&[&key], &[]);
    let answer = decide(&authorizer, http_v2(&format!("Bearer {token}")))
        .await
        .allowed();
    assert_eq!(answer["isAuthorized"], true);
    assert_eq!(answer["context"]["principalId"], "user-123");
    assert_eq!(answer["context"]["permissions"], json!(["read:messages"]));
    assert_eq!(answer["context"]["org"], json!({"id": 7}));
    // (Sorted: how a map of the test's JSON orders them depends on serde_json's features.)
    let mut keys: Vec<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["context", "isAuthorized"]);
    let _: ApiGatewayV2CustomAuthorizerSimpleResponse = serde_json::from_value(answer).unwrap();
}

#[tokio::test]
async fn http_api_v2_answers_with_a_policy_when_configured() {
    let key = rsa_a();
    let token = key
        .mint(&claims(json!({"permissions": ["read:messages"]})))
        .unwrap();
    let authorizer = fixed_authorizer(&[&key], &[("HTTP_API_RESPONSE", "policy")]);
    let answer = decide(&authorizer, http_v2(&format!("Bearer {token}")))
        .await
        .allowed();
    assert_allow_policy(&answer, STAGE_ARN);
    assert_eq!(answer["context"]["permissions"], json!(["read:messages"]));
}

#[tokio::test]
async fn websocket_connect_takes_the_token_from_the_query_string() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[("TOKEN_QUERY_PARAM", "token")]);
    let answer = decide(&authorizer, websocket(&token)).await.allowed();
    assert_allow_policy(
        &answer,
        "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/prod/*",
    );
    let without_param = fixed_authorizer(&[&key], &[]);
    assert_eq!(
        decide(&without_param, websocket(&token)).await.reason(),
        "missing_token"
    );
}

/// A query-parameter credential follows the header's rules: spaces and tabs around it
/// are tolerated, any other whitespace or control character is refused, not trimmed
/// away (RFC 7519 §7.2: no line breaks, whitespace or extra characters).
#[tokio::test]
async fn a_query_parameter_token_with_line_breaks_or_unicode_spaces_is_refused() {
    let (authorizer, token, _) = event_reader();
    // Spaces and tabs around it, and a `Bearer` scheme as in a header (space or tab).
    for value in [
        format!(" {token}\t"),
        format!("Bearer {token}"),
        format!("bearer\t{token}"),
    ] {
        let answer = decide(&authorizer, websocket(&value)).await.allowed();
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Effect"], "Allow",
            "{value:?}"
        );
    }
    // ASCII whitespace, a control character or a comma: no credential; other non-ASCII
    // text reaches the token reader, which refuses it as malformed.
    for (value, reason) in [
        (format!("{token}\n"), "missing_token"),
        (format!("\r\n{token}"), "missing_token"),
        (format!("{token}\u{0}"), "missing_token"),
        (format!("{token},{token}"), "missing_token"),
        ("Bearer".to_owned(), "missing_token"),
        (format!("Bearer {token}\n"), "missing_token"),
        (format!("{token}\u{a0}"), "malformed_token"),
        (format!("\u{2003}{token}"), "malformed_token"),
    ] {
        let decided = decide(&authorizer, websocket(&value)).await;
        assert_eq!(decided.reason(), reason, "{value:?}");
        assert_eq!(decided.answer, Err(Failure::Unauthorized), "{value:?}");
    }
}

#[tokio::test]
async fn the_policy_resource_scope_is_configurable() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    for (scope, expected) in [
        ("stage", STAGE_ARN),
        (
            "api",
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*",
        ),
        ("route", METHOD_ARN),
    ] {
        let authorizer = fixed_authorizer(&[&key], &[("POLICY_RESOURCE", scope)]);
        let answer = decide(&authorizer, rest_token(&format!("Bearer {token}")))
            .await
            .allowed();
        assert_allow_policy(&answer, expected);
    }
}

#[tokio::test]
async fn a_missing_scope_is_an_explicit_deny_without_claims() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({"scope": "openid"}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[("REQUIRED_SCOPES", "read:messages")]);
    let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_eq!(decided.reason(), "insufficient_scope");
    assert_eq!(
        decided.allowed(),
        json!({
            "principalId": "user-123",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [STAGE_ARN]}
            ]},
            "context": {"reason": "insufficient_scope"},
        })
    );
    let v2 = decide(&authorizer, http_v2(&format!("Bearer {token}"))).await;
    assert_eq!(
        v2.allowed(),
        json!({"isAuthorized": false, "context": {"reason": "insufficient_scope"}})
    );
    let granted = key
        .mint(&claims(json!({"scope": "read:messages"})))
        .unwrap();
    assert_eq!(
        decide(&authorizer, rest_token(&format!("Bearer {granted}")))
            .await
            .reason(),
        "ok"
    );
}

#[tokio::test]
async fn refusals_are_exactly_unauthorized_and_dependency_failures_are_not() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let decided = decide(&authorizer, rest_token("Bearer not-a-jwt")).await;
    let Err(failure) = decided.answer else {
        panic!("expected a failure")
    };
    let diagnostic = Diagnostic::from(failure);
    assert_eq!(diagnostic.error_message, "Unauthorized");

    let decided = decide(
        &authorizer,
        json!({"type": "SOMETHING", "methodArn": METHOD_ARN}),
    )
    .await;
    assert_eq!(decided.reason(), "unrecognised_event");
    let Err(failure) = decided.answer else {
        panic!("expected a failure")
    };
    assert!(matches!(failure, Failure::Error(_)));
    let diagnostic = Diagnostic::from(failure);
    assert_ne!(diagnostic.error_message, "Unauthorized");
    assert_eq!(diagnostic.error_type, "unrecognised_event");
}

#[tokio::test]
async fn every_shape_refuses_a_missing_credential_with_401() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("TOKEN_QUERY_PARAM", "token")]);
    let mut ws = websocket("x");
    ws["queryStringParameters"] = json!({});
    ws["multiValueQueryStringParameters"] = json!({});
    let mut v2 = http_v2("");
    v2["headers"] = json!({"host": "x"});
    for event in [rest_token(""), rest_request(json!({})), http_v1(""), v2, ws] {
        let decided = decide(&authorizer, event).await;
        assert_eq!(decided.reason(), "missing_token");
        assert_eq!(decided.answer, Err(Failure::Unauthorized));
    }
}

#[tokio::test]
async fn an_event_spelled_with_json_escapes_means_what_it_says() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[]);
    // `\u0042` is `B`, `\/` is `/`: the same event as plain text.
    let escaped_arn = METHOD_ARN.replace('/', "\\/");
    let rest = format!(
        r#"{{"type":"TOKEN","authorizationToken":"\u0042earer {token}","methodArn":"{escaped_arn}"}}"#
    );
    let answer = decide_text(&authorizer, &rest).await.allowed();
    assert_allow_policy(&answer, STAGE_ARN);

    let mut request = rest_request(json!({}));
    request["headers"] = json!({"host": "x", "authorization": null});
    let text = request.to_string().replace(
        r#""multiValueHeaders":{}"#,
        &format!(
            r#""multiValueHeaders":{{"Authori\u007aation":[null,"Bearer {token}"],"Host":["x"]}}"#
        ),
    );
    assert!(text.contains("Authori\\u007aation"), "{text}");
    let answer = decide_text(&authorizer, &text).await.allowed();
    assert_allow_policy(&answer, STAGE_ARN);
}

/// The authorizer of the event-reading tests: the dev key, a token also accepted from a
/// `token` query parameter; and a genuine bearer credential.
fn event_reader() -> (token_verifier::Authorizer, String, String) {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&key], &[("TOKEN_QUERY_PARAM", "token")]);
    let bearer = format!("Bearer {token}");
    (authorizer, token, bearer)
}

/// `event` is refused as `unrecognised_event` (HTTP 500, not cached), with `detail` in
/// the refusal and no token in it.
async fn refused_as_unrecognised(
    authorizer: &token_verifier::Authorizer,
    event: &str,
    detail: &str,
    token: &str,
) {
    let decided = decide_text(authorizer, event).await;
    assert_eq!(decided.reason(), "unrecognised_event", "{event}");
    assert!(
        matches!(decided.answer, Err(Failure::Error(_))),
        "{event}: {:?}",
        decided.answer
    );
    let refusal = decided.record.refusal.unwrap();
    assert!(
        refusal.detail.contains(detail),
        "{event}: {}",
        refusal.detail
    );
    assert!(
        !refusal.detail.contains(token),
        "the token leaked: {}",
        refusal.detail
    );
}

#[tokio::test]
async fn headers_parameters_and_context_of_another_json_type_are_an_unrecognised_event() {
    let (authorizer, token, bearer) = event_reader();
    let request = |members: Value| {
        let mut event = json!({"type": "REQUEST", "methodArn": METHOD_ARN});
        event
            .as_object_mut()
            .unwrap()
            .extend(members.as_object().unwrap().clone());
        event.to_string()
    };
    let cases = [
        (
            request(json!({"headers": bearer})),
            "headers is a string, not an object",
        ),
        (
            request(json!({"multiValueHeaders": {"authorization": bearer}})),
            "multiValueHeaders.authorization is a string, not an array",
        ),
        (
            request(json!({"multiValueHeaders": {"authorization": [{}]}})),
            "multiValueHeaders.authorization[0] is an object, not a string",
        ),
        (
            request(json!({"headers": {"Authorization": 7}})),
            "headers.Authorization is a number, not a string",
        ),
        (
            request(json!({"queryStringParameters": [bearer]})),
            "queryStringParameters is an array, not an object",
        ),
        (
            request(json!({"requestContext": [], "headers": {"authorization": bearer}})),
            "requestContext is an array, not an object",
        ),
        (
            request(json!({"requestContext": {"eventType": true}})),
            "requestContext.eventType is a boolean, not a string",
        ),
        (
            format!(
                r#"{{"type":"REQUEST","methodArn":"{METHOD_ARN}","requestContext":{{"routeKey":"$default","routeKey":"$connect"}}}}"#
            ),
            "requestContext has routeKey twice",
        ),
    ];
    for (event, detail) in cases {
        refused_as_unrecognised(&authorizer, &event, detail, &token).await;
    }
}

#[tokio::test]
async fn a_header_value_or_name_serde_json_accepts_but_no_text_spells_is_never_skipped() {
    let (authorizer, token, bearer) = event_reader();
    // What serde_json lets through in the event but the strict scanner would refuse: a
    // lone surrogate, a number out of f64's range. Never skipped, never read as "".
    let cases = [
        (
            r#""multiValueHeaders":{"Authorization":["BEARER","\udc00"]}"#,
            "multiValueHeaders.Authorization[1] holds an unpaired surrogate escape",
        ),
        (
            r#""multiValueHeaders":{"Authorization":["BEARER",1e400]}"#,
            "multiValueHeaders.Authorization[1] is a number, not a string",
        ),
        (
            r#""multiValueHeaders":{"Authorization":["\udc00x","BEARER"]},"headers":{"Authorization":"BEARER"}"#,
            "multiValueHeaders.Authorization[0] holds an unpaired surrogate escape",
        ),
        (
            r#""headers":{"Authorization":"Bearer \ud800"}"#,
            "headers.Authorization holds an unpaired surrogate escape",
        ),
        (
            r#""headers":{"Authorizatio\udc00":"BEARER","Authorization":"BEARER"}"#,
            "headers has a member name holding an unpaired surrogate escape",
        ),
        (
            r#""multiValueQueryStringParameters":{"token":["TOKEN","\udc00"]}"#,
            "multiValueQueryStringParameters.token[1] holds an unpaired surrogate escape",
        ),
    ];
    for (members, detail) in cases {
        let event = format!(r#"{{"type":"REQUEST","methodArn":"{METHOD_ARN}",{members}}}"#)
            .replace("BEARER", &bearer)
            .replace("TOKEN", &token);
        refused_as_unrecognised(&authorizer, &event, detail, &token).await;
    }
}

#[tokio::test]
async fn the_same_header_name_twice_in_the_event_text_is_two_credentials() {
    let (authorizer, _, bearer) = event_reader();
    let twice = format!(
        r#"{{"type":"REQUEST","methodArn":"{METHOD_ARN}","headers":{{"authorization":"{bearer}","authorization":"{bearer}"}}}}"#
    );
    assert_eq!(
        decide_text(&authorizer, &twice).await.reason(),
        "missing_token"
    );
}

#[tokio::test]
async fn members_the_decision_does_not_read_may_hold_anything() {
    let (authorizer, _, bearer) = event_reader();
    let mut event = rest_token(&bearer);
    event["headers"] = json!(17);
    event["requestContext"] = json!("anything");
    assert_eq!(decide(&authorizer, event).await.reason(), "ok");
    // The single-value map is not read when the multi-value map has the header.
    let mut event = rest_request(json!({"Authorization": bearer}));
    event["headers"] = json!(17);
    assert_eq!(decide(&authorizer, event).await.reason(), "ok");
}
