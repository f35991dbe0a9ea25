//! `explain` with Cedar policies: the Policies check for `--arn`'s route, and the entities
//! built from the token with the policies that determined the decision.

use super::{Options, fail, not_checked, pass};
use crate::authorizer::active::Active;
use crate::decision::CalledRoute;
use crate::decision::cedar::entities::claim_value;
use crate::decision::cedar::{CedarPolicies, policy_texts};
use crate::decision::scopes::granted_scopes;
use crate::refusal::{Reason, Refusal};
use crate::settings::IssuerSettings;
use crate::token::Claims;
use crate::verify::checks::Check;

use super::report::{CedarExplained, Step};

/// The Policies check: Cedar's decision for `--arn`'s route, as the authorizer takes it.
pub(super) fn step(
    active: &Active,
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
) -> Step {
    let Some(cedar) = &active.cedar else {
        return pass(Check::Policies, "no Cedar policies");
    };
    match options.arn.as_deref().map(CalledRoute::from_arn) {
        None => not_checked(
            Check::Policies,
            "Cedar policies are configured: give --arn with the route's methodArn or routeArn",
        ),
        Some(None) => fail(
            Check::Policies,
            Refusal::new(
                Reason::RouteNotAllowed,
                "the route ARN has no stage/method/path, so no Cedar action can be named",
            ),
        ),
        Some(Some(route)) => {
            let judged =
                crate::authorizer::cedar::judge(cedar, &route, claims, policy, None, false);
            match judged.verdict {
                Ok(()) => pass(
                    Check::Policies,
                    format!(
                        "Cedar permits {} (by {})",
                        judged.trace.action.unwrap_or_default(),
                        judged.trace.determining.join(", ")
                    ),
                ),
                Err(refusal) => fail(Check::Policies, refusal),
            }
        }
    }
}

/// The entities Cedar sees for this token, and, with `--arn`, its decision's policies.
pub(super) fn section(
    active: &Active,
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
) -> Option<CedarExplained> {
    let cedar: &CedarPolicies = active.cedar.as_deref()?;
    let scopes = granted_scopes(claims, &policy.scope_claims);
    let caller = cedar.caller(&policy.issuer, claims, &scopes).ok()?;
    // The attributes the principal carries: claims the policies read that Cedar can hold.
    let mut attributes: Vec<String> = claims
        .iter()
        .filter(|(name, value)| {
            cedar.reads_attribute(name) && claim_value(name, &value.to_value()).is_some()
        })
        .map(|(name, _)| name.into_owned())
        .collect();
    attributes.sort();
    let mut explained = CedarExplained {
        principal: caller.principal.uid.to_string(),
        parents: caller
            .principal
            .groups
            .iter()
            .map(ToString::to_string)
            .collect(),
        attributes,
        resource: cedar.resource_name(),
        context: vec!["token".to_owned(), "scopes".to_owned()],
        permitted: cedar
            .permitted(&caller)
            .allowed
            .iter()
            .enumerate()
            .filter(|(_, allowed)| **allowed)
            .map(|(i, _)| cedar.action_name(i).to_owned())
            .collect(),
        ..CedarExplained::default()
    };
    if let Some(route) = options.arn.as_deref().and_then(CalledRoute::from_arn) {
        let judged = crate::authorizer::cedar::judge(cedar, &route, claims, policy, None, false);
        if let Some((_, captured)) = cedar.action_for(&route.method, &route.segments) {
            explained.context.push(format!(
                "pathParameters {{{}}}",
                captured
                    .iter()
                    .map(|(k, v)| format!("{k}: {v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let texts = policy_texts(cedar);
        explained.action = judged.trace.action;
        explained.determining = judged
            .trace
            .determining
            .iter()
            .map(|id| (id.clone(), texts.get(id).cloned().unwrap_or_default()))
            .collect();
        explained.errors = judged.trace.errors;
    }
    Some(explained)
}
