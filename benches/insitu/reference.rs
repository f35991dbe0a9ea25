//! What the two reference functions of `scripts/bench-insitu` share: the event as a minimal
//! function reads it (only the members it needs; serde skips the rest) and the answer it
//! writes for each event shape.

use serde::Deserialize;
use serde_json::{Value, json};

/// The members of a TOKEN, REQUEST or HTTP API 2.0 authorizer event a reference needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    #[serde(default)]
    authorization_token: Option<String>,
    #[serde(default)]
    headers: Option<Headers>,
    #[serde(default)]
    method_arn: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct Headers {
    #[serde(default)]
    authorization: Option<String>,
}

impl Event {
    /// The bearer token, from `authorizationToken` or the `authorization` header.
    #[allow(dead_code)] // the bare reference reads no token
    pub(crate) fn token(&self) -> Option<&str> {
        let header = self
            .authorization_token
            .as_deref()
            .or_else(|| self.headers.as_ref()?.authorization.as_deref())?;
        header.strip_prefix("Bearer ")
    }

    /// A fixed answer: `{isAuthorized}` for HTTP API 2.0, a policy for the method otherwise.
    pub(crate) fn answer(&self, allow: bool) -> Value {
        if self.version.as_deref() == Some("2.0") {
            return json!({ "isAuthorized": allow });
        }
        json!({
            "principalId": "user",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": "execute-api:Invoke",
                    "Effect": if allow { "Allow" } else { "Deny" },
                    "Resource": self.method_arn.as_deref().unwrap_or("*"),
                }]
            }
        })
    }
}

/// The runtime as the authorizer runs it on classic Lambda: one thread, one request at a
/// time, the same allocator.
pub(crate) fn run<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(lambda_runtime::LambdaEvent<Event>) -> Fut,
    Fut: std::future::Future<Output = Result<Value, lambda_runtime::Error>>,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(lambda_runtime::run(lambda_runtime::service_fn(handler)))
}
