//! A verified token as Cedar entities, the way Verified Permissions builds them for an
//! API-linked policy store: the principal `NS::User::"<issuer id>|<sub>"` with the token's
//! claims as attributes, its groups as `NS::UserGroup::"<issuer id>|<group>"` parents, and
//! the token's claims again as `context.token` (Verified Permissions puts an ID token's
//! claims on the principal and an access token's in `context.token`; both are here, so a
//! policy store written for either works).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use cedar_policy_core::ast::{Eid, Entity, EntityType, EntityUID, Value};
use serde_json::Value as Json;
use smol_str::SmolStr;

use crate::token::{Claims, claim};

/// How deep nested claims are followed (deeper members are left out).
const MAX_DEPTH: usize = 8;

/// The issuer's part of entity ids: a Cognito user pool's id (`us-east-1_ABC1234`, the
/// last path segment of its issuer URL), else the issuer without `https://`, as Verified
/// Permissions prefixes an OIDC identity source's users and groups.
pub(crate) fn issuer_id(issuer: &str) -> &str {
    let host_path = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer);
    let host = host_path.split('/').next().unwrap_or_default();
    if host.starts_with("cognito-idp.")
        && host.ends_with(".amazonaws.com")
        && let Some(pool) = host_path.trim_end_matches('/').rsplit('/').next()
        && pool != host
    {
        return pool;
    }
    host_path
}

/// Which claims the policies can read, of the principal's attributes or of
/// `context.token`: found in the policies at init, so a request converts no claim no
/// policy reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Every claim (a policy reads `context.token` whole, or the context whole).
    All,
    /// These names only.
    Names(BTreeSet<String>),
}

impl Reads {
    /// Whether a claim of this name is read.
    pub(crate) fn wants(&self, name: &str) -> bool {
        match self {
            Reads::All => true,
            Reads::Names(names) => names.contains(name),
        }
    }

    pub(crate) fn add(&mut self, name: &str) {
        if let Reads::Names(names) = self {
            names.insert(name.to_owned());
        }
    }
}

/// The principal and its groups for one token: the entity uids.
pub(crate) struct Principal {
    /// Shared with each request the evaluator is given.
    pub(crate) uid: Arc<EntityUID>,
    /// Its parents (`explain` names them).
    pub(crate) groups: Vec<EntityUID>,
}

/// Builds the principal of a token, its entity (its attributes: the claims `attributes`
/// names) and the record of `context.token` (the claims `token_reads` names): Cedar's own
/// values, built here directly, not as restricted expressions Cedar would evaluate into
/// the same values per request. `Err` names why there is none (no `sub`).
pub(crate) fn principal(
    user_type: &EntityType,
    group_type: &EntityType,
    issuer: &str,
    claims: &Claims,
    group_claim: &str,
    (attributes, token_reads): (&Reads, &Reads),
) -> Result<(Principal, Entity, Value), String> {
    let prefix = issuer_id(issuer);
    let sub = claims
        .get("sub")
        .and_then(|s| s.as_str())
        .ok_or_else(|| "the token has no string sub to name the Cedar principal".to_owned())?;
    let uid = |ty: &EntityType, id: &str| {
        EntityUID::from_components(ty.clone(), Eid::new(format!("{prefix}|{id}")), None)
    };
    let groups: Vec<EntityUID> = group_names(claims, group_claim)
        .iter()
        .map(|g| uid(group_type, g))
        .collect();
    let principal_uid = uid(user_type, &sub);
    let mut attrs: Vec<(SmolStr, Value)> = Vec::new();
    let mut token: Vec<(SmolStr, Value)> = Vec::new();
    for (name, value) in claims.iter() {
        let (attribute, in_token) = (attributes.wants(&name), token_reads.wants(&name));
        if !attribute && !in_token {
            continue;
        }
        let Some(value) = claim_value(&name, &value.to_value()) else {
            continue;
        };
        let name = SmolStr::new(name);
        match (attribute, in_token) {
            (true, true) => {
                token.push((name.clone(), value.clone()));
                attrs.push((name, value));
            }
            (true, false) => attrs.push((name, value)),
            _ => token.push((name, value)),
        }
    }
    // Groups have no parents of their own: the principal's ancestors are its groups.
    let entity = Entity::new_with_attr_partial_value(
        principal_uid.clone(),
        attrs.into_iter().map(|(k, v)| (k, v.into())),
        HashSet::new(),
        groups.iter().cloned().collect(),
        [],
    );
    Ok((
        Principal {
            uid: Arc::new(principal_uid),
            groups,
        },
        entity,
        Value::record(token, None),
    ))
}

/// The group names a token carries in `group_claim`: an array of strings, or one string
/// of names separated by spaces (Verified Permissions reads an OIDC groups claim either way).
pub(crate) fn group_names(claims: &Claims, group_claim: &str) -> Vec<String> {
    match claim(claims, group_claim).map(|c| c.to_value()) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Json::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// A claim as the principal's attribute and `context.token`'s member hold it (`scope` a
/// set of its words), or `None` where Cedar has no such value (null, a fraction): then it
/// is left out.
pub(crate) fn claim_value(name: &str, value: &Json) -> Option<Value> {
    if name == "scope" {
        scope_set(value)
    } else {
        to_cedar(value, 0)
    }
}

/// `scope` as a set of strings (space-separated, or already an array), as Verified
/// Permissions gives it: `context.token.scope.contains("read")`.
fn scope_set(value: &Json) -> Option<Value> {
    match value {
        Json::String(s) => Some(Value::set(s.split_whitespace().map(Value::from), None)),
        other => to_cedar(other, 0),
    }
}

/// The scopes as a Cedar set (`context.scopes`).
pub(crate) fn scopes(scopes: &[String]) -> Value {
    Value::set(scopes.iter().map(|s| Value::from(s.as_str())), None)
}

/// A JSON value as a Cedar value: strings, booleans, integers, arrays as sets, objects as
/// records. Cedar has no null and no floating point: those are left out.
pub(crate) fn to_cedar(value: &Json, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Json::String(s) => Some(Value::from(s.as_str())),
        Json::Bool(b) => Some(Value::from(*b)),
        Json::Number(n) => n.as_i64().map(Value::from),
        Json::Array(items) => Some(Value::set(
            items.iter().filter_map(|i| to_cedar(i, depth + 1)),
            None,
        )),
        Json::Object(members) => Some(Value::record(
            members
                .iter()
                .filter_map(|(k, v)| Some((SmolStr::new(k), to_cedar(v, depth + 1)?))),
            None,
        )),
        Json::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_ids_are_the_user_pool_or_the_issuer_without_its_scheme() {
        assert_eq!(
            issuer_id("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_ABC1234"),
            "us-east-1_ABC1234"
        );
        assert_eq!(issuer_id("https://auth.example.com"), "auth.example.com");
        assert_eq!(
            issuer_id("https://acme.okta.com/oauth2/default"),
            "acme.okta.com/oauth2/default"
        );
        assert_eq!(
            issuer_id("https://acme.us.auth0.com/"),
            "acme.us.auth0.com/"
        );
    }

    #[test]
    fn groups_come_from_an_array_or_a_spaced_string() {
        let claims = |v: Json| {
            let Json::Object(m) = v else { unreachable!() };
            Claims::from_map(&m)
        };
        let c = claims(
            serde_json::json!({"cognito:groups": ["admin", "dev"], "roles": "a b", "x": {"g": ["y"]}}),
        );
        assert_eq!(group_names(&c, "cognito:groups"), ["admin", "dev"]);
        assert_eq!(group_names(&c, "roles"), ["a", "b"]);
        assert_eq!(group_names(&c, "/x/g"), ["y"]);
        assert!(group_names(&c, "none").is_empty());
    }

    /// The principal built here directly is the entity Cedar's own JSON entity parser
    /// builds from the same claims (floats and nulls left out, `scope` a set).
    #[test]
    fn the_principal_is_the_entity_cedar_parses_from_the_claims() {
        let Json::Object(map) = serde_json::json!({
            "sub": "s-1", "email": "a@b.example", "email_verified": true, "n": 42,
            "ratio": 0.5, "none": null, "cognito:groups": ["admin", "dev"],
            "org": {"id": "o-7", "tier": {"plan": "free", "seats": 3}, "gone": null},
            "scope": "read write",
        }) else {
            unreachable!()
        };
        let claims = Claims::from_map(&map);
        let ty = |name: &str| -> EntityType { name.parse().unwrap() };
        let (principal, entity, token) = principal(
            &ty("A::User"),
            &ty("A::UserGroup"),
            "https://idp.example",
            &claims,
            "cognito:groups",
            (&Reads::All, &Reads::All),
        )
        .unwrap();
        let parsed = cedar_policy::Entity::from_json_value(
            serde_json::json!({
                "uid": {"type": "A::User", "id": "idp.example|s-1"},
                "attrs": {
                    "sub": "s-1", "email": "a@b.example", "email_verified": true, "n": 42,
                    "cognito:groups": ["admin", "dev"],
                    "org": {"id": "o-7", "tier": {"plan": "free", "seats": 3}},
                    "scope": ["read", "write"],
                },
                "parents": [
                    {"type": "A::UserGroup", "id": "idp.example|admin"},
                    {"type": "A::UserGroup", "id": "idp.example|dev"},
                ],
            }),
            None,
        )
        .unwrap();
        let parsed: &Entity = parsed.as_ref();
        assert!(entity.deep_eq(parsed), "{entity} != {parsed}");
        assert_eq!(principal.uid.to_string(), r#"A::User::"idp.example|s-1""#);
        assert_eq!(
            token,
            Value::record(
                parsed
                    .attrs()
                    .map(|(k, v)| (k.clone(), Value::try_from(v.clone()).unwrap())),
                None
            )
        );
    }
}
