//! A decision → the exact JSON each API Gateway shape wants. Pure.
//!
//! Allow and Deny policies name the whole stage (`arn:…:{api}/{stage}/*`) by default:
//! API Gateway caches an authorizer's answer per token and reuses it for every route,
//! so a policy naming only the called `methodArn` would refuse the token's next route
//! with 403 until the cache expires.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{GatewaySettings, HttpApiResponse, PolicyResource};
use crate::context::{self, FlatContext, Omitted, Scalar};
use crate::event::{Request, Shape};
use crate::refusal::Reason;

/// What the Lambda function returns on success.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// An IAM policy (REST, WebSocket, HTTP 1.0, HTTP 2.0 with `HTTP_API_RESPONSE=policy`).
    Policy(PolicyAnswer),
    /// `{isAuthorized, context}` (HTTP 2.0 simple responses).
    Simple(SimpleAnswer),
}

/// An IAM policy answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAnswer {
    /// The caller, `$context.authorizer.principalId`.
    pub principal_id: String,
    /// The policy.
    pub policy_document: PolicyDocument,
    /// Values passed to the backend.
    pub context: Context,
}

/// The context of a policy answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Context {
    /// Strings, numbers and booleans only (REST, WebSocket, HTTP 1.0).
    Flat(FlatContext),
    /// Native JSON (HTTP 2.0).
    Native(Map<String, Value>),
}

/// An IAM policy document with one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statement.
    #[serde(rename = "Statement")]
    pub statement: [Statement; 1],
}

/// `execute-api:Invoke` allowed or denied on resources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// Always `execute-api:Invoke`.
    #[serde(rename = "Action")]
    pub action: &'static str,
    /// `Allow` or `Deny`.
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    /// The covered ARNs.
    #[serde(rename = "Resource")]
    pub resource: Vec<String>,
}

/// An HTTP API simple answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleAnswer {
    /// Allow or deny.
    pub is_authorized: bool,
    /// Values passed to the backend (`requestContext.authorizer.lambda`).
    pub context: Map<String, Value>,
}

/// The Allow answer for a verified caller, and the claims that did not fit the context.
#[must_use]
pub fn allow(
    request: &Request,
    principal: &str,
    claims: &Map<String, Value>,
    settings: &GatewaySettings,
) -> (Answer, Omitted) {
    if request.shape == Shape::HttpV2 {
        let (mut native, omitted) = context::native(claims, &settings.context);
        match settings.http_api_response {
            HttpApiResponse::Simple => {
                native.insert(
                    "principalId".to_owned(),
                    Value::String(principal.to_owned()),
                );
                let answer = SimpleAnswer {
                    is_authorized: true,
                    context: native,
                };
                (Answer::Simple(answer), omitted)
            }
            HttpApiResponse::Policy => {
                let answer = policy(
                    request,
                    principal,
                    "Allow",
                    Context::Native(native),
                    settings,
                );
                (answer, omitted)
            }
        }
    } else {
        let (flat, omitted) = context::flat(claims, &settings.context);
        (
            policy(request, principal, "Allow", Context::Flat(flat), settings),
            omitted,
        )
    }
}

/// The explicit Deny (HTTP 403) for a valid token without the needed permission. It
/// carries the reason code and no claims.
#[must_use]
pub fn deny(
    request: &Request,
    principal: &str,
    reason: Reason,
    settings: &GatewaySettings,
) -> Answer {
    let mut flat = FlatContext::default();
    flat.insert("reason", Scalar::Str(reason.code().to_owned()));
    match (request.shape, settings.http_api_response) {
        (Shape::HttpV2, HttpApiResponse::Simple) => {
            let mut context = Map::new();
            context.insert("reason".to_owned(), Value::String(reason.code().to_owned()));
            Answer::Simple(SimpleAnswer {
                is_authorized: false,
                context,
            })
        }
        _ => policy(request, principal, "Deny", Context::Flat(flat), settings),
    }
}

fn policy(
    request: &Request,
    principal: &str,
    effect: &'static str,
    context: Context,
    settings: &GatewaySettings,
) -> Answer {
    Answer::Policy(PolicyAnswer {
        principal_id: principal.to_owned(),
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: [Statement {
                action: "execute-api:Invoke",
                effect,
                resource: vec![resource(&request.arn, settings.policy_resource)],
            }],
        },
        context,
    })
}

/// The policy resource for a called route's ARN
/// (`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}`).
/// An ARN that does not have that form is used as it is (narrower, never wider).
#[must_use]
pub fn resource(arn: &str, scope: PolicyResource) -> String {
    let Some((prefix, path)) = arn.split_once('/') else {
        return arn.to_owned();
    };
    if !prefix.starts_with("arn:") || !prefix.contains(":execute-api:") {
        return arn.to_owned();
    }
    match scope {
        PolicyResource::Route => arn.to_owned(),
        PolicyResource::Api => format!("{prefix}/*"),
        PolicyResource::Stage => match path.split_once('/') {
            Some((stage, _)) if !stage.is_empty() => format!("{prefix}/{stage}/*"),
            _ => arn.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_resources_cover_the_stage_so_cached_answers_fit_every_route() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/pets/7";
        assert_eq!(
            resource(arn, PolicyResource::Stage),
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*"
        );
        assert_eq!(
            resource(arn, PolicyResource::Api),
            "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*"
        );
        assert_eq!(resource(arn, PolicyResource::Route), arn);
        let ws = "arn:aws:execute-api:eu-west-1:123456789012:wsapi12345/dev/$connect";
        assert_eq!(
            resource(ws, PolicyResource::Stage),
            "arn:aws:execute-api:eu-west-1:123456789012:wsapi12345/dev/*"
        );
        let gov = "arn:aws-us-gov:execute-api:us-gov-west-1:1:api/$default/GET/";
        assert_eq!(
            resource(gov, PolicyResource::Stage),
            "arn:aws-us-gov:execute-api:us-gov-west-1:1:api/$default/*"
        );
        for odd in [
            "not-an-arn",
            "arn:aws:s3:::bucket/key",
            "arn:aws:execute-api:r:a:api",
        ] {
            assert_eq!(resource(odd, PolicyResource::Stage), odd);
        }
    }
}
