//! A decision → the exact JSON each API Gateway shape wants. Pure.
//!
//! Allow and Deny policies name the whole stage (`arn:…:{api}/{stage}/*`) by default:
//! API Gateway caches an authorizer's answer per token and reuses it for every route,
//! so a policy naming only the called `methodArn` would refuse the token's next route
//! with 403 until the cache expires.

use serde::Serialize;
use serde_json::Value;

use super::context::{self, FlatContext, NativeContext, Omitted, Scalar};
use super::event::{Request, Shape};
use crate::refusal::Reason;
use crate::settings::{GatewaySettings, HttpApiResponse, PolicyResource};
use crate::token::Claims;

/// What the Lambda function returns on success.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// An IAM policy (REST, WebSocket, HTTP 1.0, HTTP 2.0 with `HTTP_API_RESPONSE=policy`).
    Policy(PolicyAnswer),
    /// `{isAuthorized, context}` (HTTP 2.0 simple responses).
    Simple(SimpleAnswer),
    /// `{isAuthorized, resolverContext, deniedFields, ttlOverride}` (AppSync GraphQL).
    AppSync(AppSyncAnswer),
    /// `{isAuthorized, handlerContext, ttlOverride}` (AppSync Events).
    AppSyncEvents(AppSyncEventsAnswer),
}

/// An AppSync GraphQL authorizer's answer. AppSync caches it per token for `ttlOverride`
/// seconds and applies it to every operation of the token: `deniedFields` lists every
/// field the token may not resolve, whatever this operation asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSyncAnswer {
    /// Allow or deny (`UnauthorizedException`).
    pub is_authorized: bool,
    /// The claims, flat (AppSync accepts no nested keys): `$ctx.identity.resolverContext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver_context: Option<FlatContext>,
    /// Fields resolved to `null` for this token, as `Type.field`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denied_fields: Vec<String>,
    /// How long AppSync may reuse this answer: never past the token's `exp`; 0 for a refusal.
    pub ttl_override: u32,
}

/// An AppSync Events authorizer's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSyncEventsAnswer {
    /// Allow or deny.
    pub is_authorized: bool,
    /// The claims, flat: the handlers' `ctx.identity.handlerContext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler_context: Option<FlatContext>,
    /// How long AppSync may reuse this answer: never past the token's `exp`; 0 for a refusal.
    pub ttl_override: u32,
}

impl Answer {
    /// AppSync's refusal (`isAuthorized: false`, not cached): AppSync answers the client
    /// `UnauthorizedException`; the reason is in the log line.
    #[must_use]
    pub(crate) fn appsync_refusal(shape: Shape) -> Option<Answer> {
        match shape {
            Shape::AppSyncEvents => Some(Answer::AppSyncEvents(AppSyncEventsAnswer {
                is_authorized: false,
                handler_context: None,
                ttl_override: 0,
            })),
            Shape::AppSyncGraphql => Some(Answer::AppSync(AppSyncAnswer {
                is_authorized: false,
                resolver_context: None,
                denied_fields: Vec::new(),
                ttl_override: 0,
            })),
            _ => None,
        }
    }
}

/// The answer to AppSync for a caller it may let in: its claims as the flat context, the
/// fields it may not resolve, cached for `ttl` seconds.
#[must_use]
pub(crate) fn appsync(
    shape: Shape,
    principal: String,
    claims: Claims,
    denied_fields: Vec<String>,
    ttl: u32,
    settings: &GatewaySettings,
) -> (Answer, Omitted) {
    let (mut flat, omitted) = context::flat(claims, &settings.context);
    flat.insert("principalId", Scalar::Str(principal));
    let answer = if shape == Shape::AppSyncEvents {
        Answer::AppSyncEvents(AppSyncEventsAnswer {
            is_authorized: true,
            handler_context: Some(flat),
            ttl_override: ttl,
        })
    } else {
        Answer::AppSync(AppSyncAnswer {
            is_authorized: true,
            resolver_context: Some(flat),
            denied_fields,
            ttl_override: ttl,
        })
    };
    (answer, omitted)
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
    Native(NativeContext),
}

/// An IAM policy document with one statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    #[serde(rename = "Version")]
    pub version: &'static str,
    /// The statements: an Allow, a Deny, or both.
    #[serde(rename = "Statement")]
    pub statement: Vec<Statement>,
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
    pub context: NativeContext,
}

/// What a verified caller's policy allows and denies. Without route rules: the stage
/// (or the scope `POLICY_RESOURCE` names) allowed, or — for a missing global scope —
/// denied; with route rules, exactly the routes the token may and may not call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grant {
    /// Allowed resources.
    pub allow: Vec<String>,
    /// Denied resources (an explicit Deny wins in IAM evaluation).
    pub deny: Vec<String>,
}

impl Grant {
    /// Everything `POLICY_RESOURCE` covers for this request, allowed.
    #[must_use]
    pub(crate) fn allow_all(request: &Request, settings: &GatewaySettings) -> Self {
        Grant {
            allow: vec![resource(&request.arn, settings.policy_resource)],
            deny: Vec::new(),
        }
    }

    /// Everything `POLICY_RESOURCE` covers for this request, denied.
    #[must_use]
    pub(crate) fn deny_all(request: &Request, settings: &GatewaySettings) -> Self {
        Grant {
            allow: Vec::new(),
            deny: vec![resource(&request.arn, settings.policy_resource)],
        }
    }
}

/// The answer for a verified caller. `verdict` is this request's decision (it alone
/// drives simple responses); `grant` is the token's policy (policy responses, which API
/// Gateway applies to this and, when cached, to later requests). Claims go into the
/// context only when something is allowed; a refusal carries only its reason code.
#[must_use]
pub(crate) fn verified(
    request: &Request,
    principal: String,
    claims: Claims,
    verdict: Result<(), Reason>,
    grant: Grant,
    settings: &GatewaySettings,
) -> (Answer, Omitted) {
    let reason_only = |reason: Reason| {
        let mut flat = FlatContext::default();
        flat.insert("reason", Scalar::Str(reason.code().to_owned()));
        flat
    };
    if request.shape == Shape::HttpV2 && settings.http_api_response == HttpApiResponse::Simple {
        return match verdict {
            Ok(()) => {
                let (mut native, omitted) = context::native(claims, &settings.context);
                native.insert("principalId", Value::String(principal));
                (
                    Answer::Simple(SimpleAnswer {
                        is_authorized: true,
                        context: native,
                    }),
                    omitted,
                )
            }
            Err(reason) => {
                let mut context = NativeContext::default();
                context.insert("reason", Value::String(reason.code().to_owned()));
                (
                    Answer::Simple(SimpleAnswer {
                        is_authorized: false,
                        context,
                    }),
                    Omitted::default(),
                )
            }
        };
    }
    let (context, omitted) = if grant.allow.is_empty() {
        let reason = verdict.err().unwrap_or(Reason::RouteNotAllowed);
        (Context::Flat(reason_only(reason)), Omitted::default())
    } else if request.shape == Shape::HttpV2 {
        let (native, omitted) = context::native(claims, &settings.context);
        (Context::Native(native), omitted)
    } else {
        let (flat, omitted) = context::flat(claims, &settings.context);
        (Context::Flat(flat), omitted)
    };
    let mut statements = Vec::with_capacity(2);
    if !grant.allow.is_empty() {
        statements.push(Statement {
            action: "execute-api:Invoke",
            effect: "Allow",
            resource: grant.allow,
        });
    }
    if !grant.deny.is_empty() {
        statements.push(Statement {
            action: "execute-api:Invoke",
            effect: "Deny",
            resource: grant.deny,
        });
    }
    let answer = Answer::Policy(PolicyAnswer {
        principal_id: principal,
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: statements,
        },
        context,
    });
    (answer, omitted)
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
    // Cut from the ARN itself (`format!` cost 0.1 µs per request here).
    let with_star = |end: usize| {
        let mut resource = String::with_capacity(end + 2);
        resource.push_str(&arn[..end]);
        resource.push_str("/*");
        resource
    };
    match scope {
        PolicyResource::Route => arn.to_owned(),
        PolicyResource::Api => with_star(prefix.len()),
        PolicyResource::Stage => match path.split_once('/') {
            Some((stage, _)) if !stage.is_empty() => with_star(prefix.len() + 1 + stage.len()),
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
