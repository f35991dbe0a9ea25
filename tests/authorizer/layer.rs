//! The tower layer (README "Behind a Function URL, an ALB or any axum server"): the same
//! decisions as the authorizer, answered as RFC 6750 says, the verified token handed on in
//! the request's extensions; in process through `tower`, and over real TCP through axum.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use token_verifier::layer::{Verified, VerifyLayer};
use token_verifier::tool::dev::jwks;
use token_verifier::{Authorizer, Config, ConfigDocument, EnvConfig};
use tower::{ServiceBuilder, ServiceExt as _, service_fn};

use crate::support::*;

/// Route rules for the messages API: reading needs `read:messages`, writing
/// `write:messages`, a tenant's messages its own `org_id`.
fn layer_with_routes() -> VerifyLayer {
    let document = json!({
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()])}],
        "routes": {"default": "deny", "rules": [
            {"route": "GET /messages", "scopes": ["read:messages"]},
            {"route": "POST /messages", "scopes": ["write:messages"]},
            {"route": "GET /orgs/{org}/messages", "scopes": ["read:messages"], "claims": {"org_id": "{org}"}},
            {"route": "GET /public/**"},
        ]},
    });
    let document = ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    let authorizer = Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap();
    VerifyLayer::new(Arc::new(authorizer)).realm("messages")
}

/// What the protected service saw, as JSON: the principal and scopes of its `Verified`.
async fn echo(request: http::Request<String>) -> Result<http::Response<String>, Infallible> {
    let verified = request.extensions().get::<Verified>();
    let body = json!({
        "principal": verified.map(Verified::principal),
        "scopes": verified.map(Verified::scopes),
        "org": verified.and_then(|v| v.claim("org_id")).map(|c| c.to_value()),
    });
    Ok(http::Response::new(body.to_string()))
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    body: Value,
}

async fn call(layer: &VerifyLayer, method: &str, path: &str, authorization: &[&str]) -> Answer {
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .service(service_fn(echo));
    let mut request = http::Request::builder().method(method).uri(path);
    for value in authorization {
        request = request.header("authorization", *value);
    }
    let response = service
        .oneshot(request.body(String::new()).unwrap())
        .await
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        challenge: response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: serde_json::from_str(response.body()).unwrap(),
    }
}

fn token(extra: Value) -> String {
    rsa_a().mint(&claims(extra)).unwrap()
}

#[tokio::test]
async fn an_allowed_request_reaches_the_service_with_the_verified_token() {
    let layer = layer_with_routes();
    let bearer = format!("Bearer {}", token(json!({"scope": "read:messages openid"})));
    let answer = call(&layer, "GET", "/messages", &[&bearer]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"principal": "user-123", "scopes": ["read:messages", "openid"], "org": null})
    );
    let bearer = format!(
        "Bearer {}",
        token(json!({"org_id": "acme", "scope": "read:messages"}))
    );
    let answer = call(&layer, "GET", "/orgs/acme/messages", &[&bearer]).await;
    assert_eq!((answer.status, &answer.body["org"]), (200, &json!("acme")));
}

/// RFC 6750 §3.1: no error code when the request has no bearer credential; the reason
/// code as `error_description` for a refused token; never the token in the answer.
#[tokio::test]
async fn a_refused_token_is_a_401_with_its_reason_in_the_challenge() {
    let layer = layer_with_routes();
    for authorization in [
        vec![],
        vec!["Basic dXNlcjpwYXNz"],
        vec!["eyJhbGciOi.eyJzdWIi.c2ln"],
    ] {
        let answer = call(&layer, "GET", "/messages", &authorization).await;
        assert_eq!(answer.status, 401, "{authorization:?}");
        assert_eq!(
            answer.challenge.as_deref(),
            Some(r#"Bearer realm="messages""#)
        );
        assert_eq!(answer.body["error"], "missing_token");
    }
    // A bearer credential attempted but malformed: 400 invalid_request (§3.1).
    for authorization in [
        vec!["Bearer a", "Bearer b"],
        vec!["Bearer"],
        vec!["Bearer a b"],
    ] {
        let answer = call(&layer, "GET", "/messages", &authorization).await;
        assert_eq!(answer.status, 400, "{authorization:?}");
        assert_eq!(
            answer.challenge.as_deref(),
            Some(
                r#"Bearer realm="messages", error="invalid_request", error_description="missing_token""#
            )
        );
    }
    let expired = token(json!({"exp": unix_now() - 3600, "iat": unix_now() - 7200}));
    let bearer = format!("Bearer {expired}");
    let answer = call(&layer, "GET", "/messages", &[&bearer]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="messages", error="invalid_token", error_description="expired""#)
    );
    assert_eq!(answer.body["error"], "expired");
    assert!(
        !answer
            .body
            .to_string()
            .contains(&expired[expired.len() - 20..])
    );
    let forged = format!("Bearer {}", rsa_b().mint(&claims(json!({}))).unwrap());
    let answer = call(&layer, "GET", "/messages", &[&forged]).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (401, Some("unknown_kid"))
    );
}

/// Route rules are judged for the request's own method and path: a 403 names the scope
/// the route needs (RFC 6750 §3.1 `insufficient_scope`).
#[tokio::test]
async fn a_missing_permission_is_a_403_naming_the_scope_the_route_needs() {
    let layer = layer_with_routes();
    let reader = format!(
        "Bearer {}",
        token(json!({"scope": "read:messages", "org_id": "acme"}))
    );
    let answer = call(&layer, "POST", "/messages", &[&reader]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="messages", error="insufficient_scope", error_description="insufficient_scope", scope="write:messages""#
        )
    );
    // Another tenant's path: the token has the route's scope, so no scope to ask for.
    let answer = call(&layer, "GET", "/orgs/globex/messages", &[&reader]).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (403, Some("claim_mismatch"))
    );
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="messages", error="insufficient_scope", error_description="claim_mismatch""#
        )
    );
    let answer = call(&layer, "DELETE", "/messages/7", &[&reader]).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (403, Some("route_not_allowed"))
    );
}

/// Keys that cannot be had fail closed: 503 with `Retry-After`, never the service.
#[tokio::test]
async fn keys_that_cannot_be_fetched_fail_closed_with_a_503() {
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Status(500, "down".into()));
    let layer = VerifyLayer::new(Arc::new(authorizer(&server, &[]).await));
    let bearer = format!("Bearer {}", token(json!({})));
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(|_: http::Request<String>| async {
                panic!("the service must not be called");
                #[allow(unreachable_code)]
                Ok::<http::Response<String>, Infallible>(http::Response::new(String::new()))
            }));
    let request = http::Request::get("/messages")
        .header("authorization", bearer)
        .body(String::new())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert!(response.headers().get("www-authenticate").is_none());
    let body: Value = serde_json::from_str(response.body()).unwrap();
    assert_eq!(body["error"], "jwks_unavailable");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Caller {
    sub: String,
    org_id: String,
    #[serde(rename = "https://acme.example/roles")]
    roles: Vec<String>,
}

/// The axum extractor, a claim by JSON Pointer and the claims in the user's own struct,
/// over real TCP with an HTTP client.
#[tokio::test]
async fn an_axum_server_behind_the_layer_over_tcp() {
    async fn me(caller: Verified) -> String {
        let ours: Caller = caller.deserialize().unwrap();
        json!({
            "principal": caller.principal(),
            "issuer": caller.issuer(),
            "reads": caller.has_scope("read:messages"),
            "first_role": caller.claim("/https:~1~1acme.example~1roles/0").map(|c| c.to_value()),
            "ours": format!("{ours:?}"),
        })
        .to_string()
    }
    let app = Router::new()
        .route("/messages", get(me))
        .layer(layer_with_routes());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/messages", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    let token = token(json!({"org_id": "acme", "https://acme.example/roles": ["admin", "ops"]}));
    let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["principal"], "user-123");
    assert_eq!(body["issuer"], ISSUER);
    assert_eq!(body["reads"], true);
    assert_eq!(body["first_role"], "admin");
    assert_eq!(
        body["ours"],
        r#"Caller { sub: "user-123", org_id: "acme", roles: ["admin", "ops"] }"#
    );

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="messages""#
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    let response = client.post(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .ends_with(r#"scope="write:messages""#)
    );
}

/// A handler that asks for `Verified` behind no layer is a server mistake: 500, not an
/// open door.
#[tokio::test]
async fn the_extractor_without_the_layer_answers_500() {
    async fn me(caller: Verified) -> String {
        caller.principal().to_owned()
    }
    let app: Router = Router::new().route("/", get(me));
    let response = app
        .oneshot(
            http::Request::get("/")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
}

/// A HEAD request runs the GET handler: it must meet the GET route's rules too (here,
/// with `default: allow`, where no rule names HEAD).
#[tokio::test]
async fn a_head_request_is_judged_by_the_get_rules_too() {
    let document = json!({
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()])}],
        "routes": {"default": "allow", "rules": [{"route": "GET /messages", "scopes": ["read:messages"]}]},
    });
    let document = ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    let authorizer = Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap();
    let layer = VerifyLayer::new(Arc::new(authorizer));
    let no_scope = format!("Bearer {}", token(json!({"scope": "openid"})));
    let answer = call(&layer, "HEAD", "/messages", &[&no_scope]).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    assert!(
        answer
            .challenge
            .unwrap()
            .ends_with(r#"scope="read:messages""#)
    );
    assert_eq!(
        call(&layer, "HEAD", "/other", &[&no_scope]).await.status,
        200
    );
    let reader = format!("Bearer {}", token(json!({"scope": "read:messages"})));
    assert_eq!(
        call(&layer, "HEAD", "/messages", &[&reader]).await.status,
        200
    );
}

/// A path the router and the rules could read differently (`..`, encoded or not, a
/// backslash, an encoded separator) is refused with 400 once the token is verified, and
/// never reaches the service.
#[tokio::test]
async fn a_path_with_dot_segments_is_refused_not_judged() {
    let layer = layer_with_routes();
    let reader = format!("Bearer {}", token(json!({"scope": "read:messages"})));
    for path in [
        "/public/../messages",
        "/public/%2e%2e/admin",
        "/public/.%2E/admin",
        "/public/a%2fb",
        "/public/%5cadmin",
    ] {
        let answer = call(&layer, "GET", path, &[&reader]).await;
        assert_eq!(
            (answer.status, answer.body["error"].as_str()),
            (400, Some("route_not_allowed")),
            "{path}"
        );
        assert_eq!(answer.challenge, None, "{path}");
    }
    assert_eq!(
        call(&layer, "GET", "/public/readme.txt", &[&reader])
            .await
            .status,
        200
    );
}

fn front_door_event(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events/front-doors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Through `lambda_http` the rules judge the path the router sees, relative to the stage:
/// the REST proxy's `/prod` and the HTTP API's named stage taken off, a Function URL's and
/// an ALB's path as it is; a `..` in the event's raw path never reaches the service.
#[tokio::test]
async fn lambda_http_requests_are_judged_on_the_routers_path_without_the_stage() {
    use token_verifier::layer::api_path;
    for name in [
        "apigw-rest-proxy.json",
        "apigw-http-proxy.json",
        "function-url.json",
        "alb.json",
    ] {
        let request = lambda_http::request::from_str(&front_door_event(name).to_string()).unwrap();
        assert_eq!(api_path(&request), "/messages", "{name}");
    }
    let mut event = front_door_event("function-url.json");
    event["rawPath"] = json!("/public/%2e%2e/messages");
    event["requestContext"]["http"]["path"] = json!("/public/%2e%2e/messages");
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let judged = api_path(&request);
    let layer = VerifyLayer::new(Arc::new(dev_authorizer()));
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(|_: lambda_http::Request| async {
                Ok::<_, Infallible>(http::Response::new(lambda_http::Body::from("reached")))
            }));
    let response = service.oneshot(request).await.unwrap();
    // Only GET /public/** is allowed: /messages, however it is spelt, is not.
    assert_eq!(response.status(), 403, "{judged}");
}

/// An authorizer for the dev issuer of `events/` (its key set inline, as events/env.json
/// has it) that allows only `GET /public/**`.
fn dev_authorizer() -> Authorizer {
    let env: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/env.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let vars = &env["MessagesVerifiedFunction"];
    let document = json!({
        "issuers": [{
            "issuer": vars["TOKEN_ISSUER"], "audiences": [vars["AUDIENCE"]],
            "jwks": serde_json::from_str::<Value>(vars["JWKS_JSON"].as_str().unwrap()).unwrap(),
        }],
        "routes": {"default": "deny", "rules": [{"route": "GET /public/**"}]},
    });
    let document = ConfigDocument::parse("dev.json", &document.to_string()).unwrap();
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap()
}
