//! Cedar beside the route rules (feature `cedar`): a request is allowed when the route
//! rules (if any) and Cedar both allow it. A simple response, AppSync and the tower layer
//! take this request's decision; a policy answer evaluates every action of the schema for
//! the token and allows exactly the routes Cedar permits, so API Gateway may cache it per
//! token — unless the policies read the request's own context, route rules stand beside
//! them, or no policy of IAM wildcards can tell the permitted routes from the forbidden
//! ones: then the answer names the called route alone.

use super::record::PolicyTrace;
use crate::decision::CalledRoute;
use crate::decision::cedar::{Caller, CedarPolicies, Judgement, Permitted};
use crate::decision::scopes::granted_scopes;
use crate::gateway::Grant;
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::IssuerSettings;
use crate::token::Claims;

/// One request as Cedar judges it: this request's verdict, its trace for the log line.
pub(crate) struct Judged {
    pub(crate) verdict: Result<(), Refusal>,
    pub(crate) trace: PolicyTrace,
    /// Every action's decision for the token, when a policy answer for the token is
    /// asked (`per_token`).
    pub(crate) permitted: Option<Permitted>,
}

/// Cedar's verdict on one called route; with `per_token` (a policy answer for the token
/// to come: no route rules beside Cedar, no policy reads the request's own context),
/// also every action's decision for the token, from the same evaluations.
pub(crate) fn judge(
    cedar: &CedarPolicies,
    route: &CalledRoute,
    claims: &Claims,
    policy: &IssuerSettings,
    source_ip: Option<&str>,
    per_token: bool,
) -> Judged {
    let mut trace = PolicyTrace::default();
    let scopes = granted_scopes(claims, &policy.scope_claims);
    let caller = match cedar.caller(&policy.issuer, claims, &scopes) {
        Ok(caller) => caller,
        Err(why) => {
            return Judged {
                verdict: Err(Refusal::new(Reason::PolicyDenied, why)),
                trace,
                permitted: None,
            };
        }
    };
    let Some((action, captured)) = cedar.action_for(&route.method, &route.segments) else {
        let verdict = Err(Refusal::new(
            Reason::PolicyDenied,
            format!(
                "no action of the Cedar schema names {} (Verified Permissions names them \"{} /path\")",
                sanitize(&route.key(), 128),
                route.method.to_ascii_lowercase()
            ),
        ));
        // The token's answer still covers the routes it may call.
        let permitted = per_token.then(|| cedar.permitted(&caller));
        return Judged {
            verdict,
            trace,
            permitted,
        };
    };
    let name = cedar.action_name(action).to_owned();
    trace.action = Some(name.clone());
    let (judgement, permitted) = if per_token {
        let (judgement, permitted) = cedar.judge_with_all(&caller, action);
        (judgement, Some(permitted))
    } else {
        let context = cedar.context(&caller, &captured, source_ip);
        (cedar.judge(&caller, action, &context), None)
    };
    let verdict = verdict(&judgement, &name, &caller);
    trace.determining = judgement.determining;
    trace.errors = judgement.errors;
    Judged {
        verdict,
        trace,
        permitted,
    }
}

/// The refusal for a judgement that does not allow.
fn verdict(judgement: &Judgement, action: &str, caller: &Caller) -> Result<(), Refusal> {
    if judgement.allowed {
        return Ok(());
    }
    let principal = sanitize(&caller.principal.uid.to_string(), 160);
    let why = if judgement.determining.is_empty() {
        "no permit policy applies".to_owned()
    } else {
        format!("forbidden by {}", ids(&judgement.determining))
    };
    let erred = if judgement.errors.is_empty() {
        String::new()
    } else {
        format!(
            " ({} policies erred and were skipped)",
            judgement.errors.len()
        )
    };
    Err(Refusal::new(
        Reason::PolicyDenied,
        format!(
            "Cedar denies {} to {principal}: {why}{erred}",
            sanitize(action, 160)
        ),
    ))
}

fn ids(ids: &[String]) -> String {
    ids.iter()
        .take(8)
        .map(|id| format!("`{}`", sanitize(id, 64)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The policy answer for a judged request: every action of the schema for this caller
/// when it was judged for every action (`per_token`) and that is a policy IAM can state;
/// else the called route alone (`arn`), allowed or denied by `allowed`.
pub(crate) fn grant(
    cedar: &CedarPolicies,
    judged: &mut Judged,
    route: &CalledRoute,
    arn: &str,
    allowed: bool,
) -> Grant {
    let trace = &mut judged.trace;
    let route_only = |trace: &mut PolicyTrace| {
        trace.answer = Some("route");
        if allowed {
            Grant {
                allow: vec![arn.to_owned()],
                deny: Vec::new(),
            }
        } else {
            Grant {
                allow: Vec::new(),
                deny: vec![arn.to_owned()],
            }
        }
    };
    let Some(permitted) = judged.permitted.take() else {
        return route_only(trace);
    };
    match cedar
        .routes
        .statements(&permitted.allowed, &route.stage_prefix)
    {
        Some((allow, mut deny)) => {
            trace.answer = Some("actions");
            // The errors of every action's policies shaped this answer, which API Gateway
            // may reuse for them all: the log line names them beside the called action's.
            for error in permitted.errors {
                if !trace.errors.contains(&error) {
                    trace.errors.push(error);
                }
            }
            if allow.is_empty() {
                // Nothing permitted: the whole stage denied, for this token.
                return Grant {
                    allow,
                    deny: vec![format!("{}/*", route.stage_prefix)],
                };
            }
            // A refused call is denied by name as well: a route the schema does not name
            // can lie under a permitted route's `*` where no Deny of wildcards may take it
            // (`Routes::statements`).
            if !allowed && !deny.iter().any(|d| d == arn) {
                deny.push(arn.to_owned());
            }
            Grant { allow, deny }
        }
        None => route_only(trace),
    }
}

/// What stands beside a Cedar set in its configuration that its warnings depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Beside {
    /// Route rules are configured too: policy answers name the called route alone.
    pub(crate) route_rules: bool,
    /// HTTP API 2.0 answers are simple responses (`HTTP_API_RESPONSE=simple`).
    pub(crate) simple_responses: bool,
}

impl Beside {
    pub(crate) fn of(config: &crate::config::Config) -> Beside {
        Beside {
            route_rules: !config.routes.is_empty(),
            simple_responses: config.gateway.http_api_response
                == crate::settings::HttpApiResponse::Simple,
        }
    }
}

/// What init logs as warnings about a set, and `check-config` prints, one line each:
/// policies that read a member of the context no request has, and what API Gateway's
/// result cache must be keyed by besides the token (a cached answer is reused for every
/// request with the same identity sources, so whatever a decision depends on must be
/// among them, or the TTL be 0).
pub(crate) fn warnings(cedar: &CedarPolicies, beside: Beside) -> Vec<String> {
    let mut advice = Vec::new();
    if !cedar.unbuilt_context.is_empty() {
        advice.push(format!(
            "Cedar policies read members of the context that no request has ({}; the context holds token, scopes, pathParameters and sourceIp): they always err and Cedar skips them, so such a permit permits nothing and such a forbid forbids nothing",
            ids(&cedar.unbuilt_context)
        ));
    }
    if beside.simple_responses {
        advice.push(
            "Cedar decides an HTTP API simple response for the called route alone, and API Gateway reuses a cached simple response for every route: add $context.routeKey to the HTTP API authorizer's identity sources or set its TTL to 0 (HTTP_API_RESPONSE=policy answers for every route instead)".to_owned(),
        );
    }
    if !cedar.request_dependent.is_empty() {
        advice.push(format!(
            "Cedar policies {} read the request's own context (path parameters, source IP): their decisions hold for one called path and one caller's address, and answers name the called route alone; set the authorizer's TTL to 0 (all a TOKEN authorizer can do), or add what they read to its identity sources: the called path ($context.path; $context.resourcePath and $context.routeKey name the template, not the path) and the caller's address ($context.identity.sourceIp)",
            ids(&cedar.request_dependent)
        ));
    }
    if beside.route_rules {
        advice.push(
            "route rules beside Cedar policies: policy answers name the called route alone (IAM cannot intersect the two), so a cached answer holds for that path only: add $context.path (and $context.httpMethod) to the authorizer's identity sources or set its TTL to 0; or state the rules in Cedar".to_owned(),
        );
    }
    advice
}

/// AppSync's `deniedFields` by Cedar: every action of the schema named as a GraphQL field
/// (`Query.getPost`, `Mutation.addPost`) that Cedar does not permit this token, the same
/// for every operation of the token.
///
/// # Errors
/// A `policy_denied` refusal when the token names no principal (no `sub`).
pub(crate) fn denied_fields(
    cedar: &CedarPolicies,
    claims: &Claims,
    policy: &IssuerSettings,
) -> Result<(Vec<String>, PolicyTrace), Refusal> {
    let scopes = granted_scopes(claims, &policy.scope_claims);
    let caller = cedar
        .caller(&policy.issuer, claims, &scopes)
        .map_err(|why| Refusal::new(Reason::PolicyDenied, why))?;
    let mut trace = PolicyTrace {
        answer: Some("actions"),
        ..PolicyTrace::default()
    };
    let permitted = cedar.permitted(&caller);
    let denied = permitted
        .allowed
        .iter()
        .enumerate()
        .filter(|(_, allowed)| !**allowed)
        .filter_map(|(action, _)| cedar.field(action).map(str::to_owned))
        .collect();
    trace.errors = permitted.errors;
    Ok((denied, trace))
}
