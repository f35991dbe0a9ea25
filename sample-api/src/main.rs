//! A sample API behind token-verifier, in both of its forms.
//!
//! - **Behind the authorizer** (API Gateway calls it first): the API never sees or checks
//!   a token; the verified claims arrive in the request context (REST:
//!   `requestContext.authorizer.*`, every value a string; HTTP API:
//!   `requestContext.authorizer.lambda.*`, native JSON).
//! - **Verifying itself**, when the function has the authorizer's configuration
//!   (`TOKEN_ISSUER` or `CONFIG_PARAMETER`): token-verifier's tower layer wraps the
//!   handler, for the front doors that have no authorizer — a Function URL with
//!   `AuthType: NONE`, an ALB, an API Gateway proxy integration without an authorizer.
//!   Refusals are answered by the layer (401/403/503 with `WWW-Authenticate`); the
//!   handler sees the verified token in the request's extensions.
//!
//! Either way the API trusts the claims and decides with them, with no call to the
//! identity provider's `/userinfo` per request.
//!
//! - `GET /me`: who the caller is and what they may do.
//! - `GET /messages`: needs the `read:messages` permission (scope or `permissions` claim).

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::tower::ServiceBuilder;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use serde_json::{Value, json};
use token_verifier::layer::{Verified, VerifyLayer};

/// The permission `GET /messages` requires.
const READ_MESSAGES: &str = "read:messages";

/// The caller as the authorizer described it.
#[derive(Debug, Clone, PartialEq)]
struct Caller {
    principal: String,
    scopes: Vec<String>,
    permissions: Vec<String>,
    via: &'static str,
    claims: HashMap<String, Value>,
}

impl Caller {
    fn may(&self, permission: &str) -> bool {
        self.scopes
            .iter()
            .chain(&self.permissions)
            .any(|p| p == permission)
    }
}

/// The caller the layer verified in this function: its claims, read as the context is.
fn verified_caller(verified: &Verified) -> Option<Caller> {
    let mut fields: HashMap<String, Value> = verified.claims().to_map().into_iter().collect();
    fields.insert(
        "principalId".to_owned(),
        Value::String(verified.principal().to_owned()),
    );
    from_fields(fields, "layer")
}

/// Reads the caller from the authorizer context of either API type.
fn caller(context: Option<&RequestContext>) -> Option<Caller> {
    let (fields, via) = match context? {
        RequestContext::ApiGatewayV1(rest) => (rest.authorizer.fields.clone(), "rest"),
        RequestContext::ApiGatewayV2(http) => (http.authorizer.as_ref()?.fields.clone(), "http"),
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    from_fields(fields, via)
}

/// The caller from its claims: native JSON (HTTP API, the layer) or flat strings (REST).
fn from_fields(fields: HashMap<String, Value>, via: &'static str) -> Option<Caller> {
    let principal = text(fields.get("principalId")).or_else(|| text(fields.get("sub")))?;
    Some(Caller {
        principal,
        scopes: text(fields.get("scope"))
            .map(|s| {
                s.split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        permissions: list(fields.get("permissions")),
        via,
        claims: fields,
    })
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A list claim: native JSON (HTTP API) or the JSON string the REST context carries.
fn list(value: Option<&Value>) -> Vec<String> {
    let parsed;
    let array = match value {
        Some(Value::Array(items)) => items,
        Some(Value::String(s)) => {
            parsed = serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
            match &parsed {
                Value::Array(items) => items,
                _ => return Vec::new(),
            }
        }
        _ => return Vec::new(),
    };
    array
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn reply(status: u16, body: &Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))?)
}

/// Routes a request for a known (or missing) caller.
fn respond(method: &str, path: &str, caller: Option<&Caller>) -> Result<Response<Body>, Error> {
    let Some(caller) = caller else {
        // Only reachable if the API was deployed without the authorizer.
        return reply(401, &json!({"error": "no authorizer context"}));
    };
    match (method, path.trim_end_matches('/')) {
        ("GET", "/me") => reply(
            200,
            &json!({
                "principal": caller.principal,
                "via": caller.via,
                "scopes": caller.scopes,
                "permissions": caller.permissions,
                "may_read_messages": caller.may(READ_MESSAGES),
                "issuer": text(caller.claims.get("iss")),
            }),
        ),
        ("GET", "/messages") if caller.may(READ_MESSAGES) => reply(
            200,
            &json!({"messages": [
                {"id": 1, "to": caller.principal, "text": "Your token was verified once, by the authorizer."},
                {"id": 2, "to": caller.principal, "text": "This API read your claims from the request context."},
            ]}),
        ),
        ("GET", "/messages") => reply(
            403,
            &json!({"error": "insufficient_scope", "required": READ_MESSAGES}),
        ),
        _ => reply(404, &json!({"error": "not found"})),
    }
}

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let caller = match request.extensions().get::<Verified>() {
        Some(verified) => verified_caller(verified),
        None => caller(request.request_context_ref()),
    };
    // The path relative to the API (no stage), as token-verifier's route rules see it.
    let path = token_verifier::layer::api_path(&request);
    respond(request.method().as_str(), &path, caller.as_ref())
}

/// Whether this function verifies tokens itself: it has the authorizer's configuration.
fn verifies_here() -> bool {
    ["TOKEN_ISSUER", "CONFIG_PARAMETER"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if !verifies_here() {
        return run(service_fn(handle)).await;
    }
    token_verifier::init_logging();
    let layer = match VerifyLayer::from_env().await {
        Ok(layer) => layer,
        Err(error) => {
            tracing::error!(error = %error, error_type = %error.error_type(), "cannot start");
            token_verifier::report_init_error(&error).await;
            return Err(error.into());
        }
    };
    run(ServiceBuilder::new()
        .layer(layer.realm("messages"))
        .service(service_fn(handle)))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest_request(path: &str, context: &Value) -> Request {
        let event = json!({
            "resource": path, "path": path, "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "pathParameters": null, "stageVariables": null, "body": null, "isBase64Encoded": false,
            "requestContext": {
                "accountId": "123456789012", "resourceId": "r", "stage": "prod", "requestId": "q",
                "identity": {"sourceIp": "203.0.113.9"}, "resourcePath": path, "httpMethod": "GET",
                "apiId": "abcdef1234", "path": format!("/prod{path}"), "authorizer": context,
            },
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn http_request(path: &str, lambda: &Value) -> Request {
        let event = json!({
            "version": "2.0", "routeKey": format!("GET {path}"), "rawPath": path, "rawQueryString": "",
            "headers": {"host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
            "requestContext": {
                "accountId": "123456789012", "apiId": "abcdef1234", "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "abcdef1234", "requestId": "q", "routeKey": format!("GET {path}"), "stage": "$default",
                "time": "22/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000_i64,
                "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "curl"},
                "authorizer": {"lambda": lambda},
            },
            "isBase64Encoded": false,
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    async fn call(request: Request) -> (u16, Value) {
        let response = handle(request).await.unwrap();
        let status = response.status().as_u16();
        let body = match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("unexpected body {other:?}"),
        };
        (status, body)
    }

    #[tokio::test]
    async fn rest_context_values_are_strings_and_lists_arrive_as_json_text() {
        // What token-verifier answers for REST: every value flat.
        let context = json!({
            "principalId": "auth0|user-1", "sub": "auth0|user-1", "scope": "openid profile",
            "permissions": "[\"read:messages\"]", "iss": "https://tenant.example.com/", "exp": "1795369644",
        });
        let (status, me) = call(rest_request("/me", &context)).await;
        assert_eq!(status, 200);
        assert_eq!(me["principal"], "auth0|user-1");
        assert_eq!(me["via"], "rest");
        assert_eq!(me["permissions"], json!(["read:messages"]));
        assert_eq!(me["may_read_messages"], true);
        let (status, messages) = call(rest_request("/messages", &context)).await;
        assert_eq!(status, 200);
        assert_eq!(messages["messages"][0]["to"], "auth0|user-1");
    }

    #[tokio::test]
    async fn http_api_context_is_native_json() {
        let lambda = json!({"principalId": "user-2", "scope": "read:messages", "permissions": []});
        let (status, me) = call(http_request("/me", &lambda)).await;
        assert_eq!(status, 200);
        assert_eq!(me["via"], "http");
        assert_eq!(me["scopes"], json!(["read:messages"]));
        assert_eq!(call(http_request("/messages", &lambda)).await.0, 200);
    }

    #[tokio::test]
    async fn a_caller_without_the_permission_is_refused_by_the_api() {
        let context = json!({"principalId": "user-3", "scope": "openid read:message", "permissions": "[\"read:messagesX\"]"});
        let (status, body) = call(rest_request("/messages", &context)).await;
        assert_eq!(status, 403);
        assert_eq!(body["required"], "read:messages");
        assert_eq!(call(rest_request("/other", &context)).await.0, 404);
    }

    #[tokio::test]
    async fn no_authorizer_context_is_a_401() {
        assert_eq!(call(rest_request("/me", &json!({}))).await.0, 401);
    }
}
