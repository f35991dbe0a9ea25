//! A verified token as Cedar entities, the way Verified Permissions builds them for an
//! API-linked policy store: the principal `NS::User::"<issuer id>|<sub>"` with the token's
//! claims as attributes, its groups as `NS::UserGroup::"<issuer id>|<group>"` parents, and
//! the token's claims again as `context.token` (Verified Permissions puts an ID token's
//! claims on the principal and an access token's in `context.token`; both are here, so a
//! policy store written for either works).

use std::collections::{BTreeSet, HashMap, HashSet};

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde_json::Value;

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

/// The principal and its groups for one token: the entity uids and the entities.
pub(crate) struct Principal {
    pub(crate) uid: EntityUid,
    /// Its parents (`explain` names them).
    #[cfg_attr(not(feature = "tools"), allow(dead_code))]
    pub(crate) groups: Vec<EntityUid>,
    /// The claims the policies read of `context.token`, as one Cedar record.
    pub(crate) token: RestrictedExpression,
}

/// Builds the principal of a token and its entity (its attributes: the claims
/// `attributes` names). `Err` names why there is none (no `sub`).
pub(crate) fn principal(
    user_type: &EntityTypeName,
    group_type: &EntityTypeName,
    issuer: &str,
    claims: &Claims,
    group_claim: &str,
    (attributes, token_reads): (&Reads, &Reads),
) -> Result<(Principal, Entity), String> {
    let prefix = issuer_id(issuer);
    let sub = claims
        .get("sub")
        .and_then(|s| s.as_str())
        .ok_or_else(|| "the token has no string sub to name the Cedar principal".to_owned())?;
    let uid = EntityUid::from_type_name_and_id(
        user_type.clone(),
        EntityId::new(format!("{prefix}|{sub}")),
    );
    let groups: Vec<EntityUid> = group_names(claims, group_claim)
        .into_iter()
        .map(|g| {
            EntityUid::from_type_name_and_id(
                group_type.clone(),
                EntityId::new(format!("{prefix}|{g}")),
            )
        })
        .collect();
    let mut attrs: HashMap<String, RestrictedExpression> = HashMap::new();
    let mut token: Vec<(String, RestrictedExpression)> = Vec::new();
    for (name, value) in claims.iter() {
        let (attribute, in_token) = (attributes.wants(&name), token_reads.wants(&name));
        if !attribute && !in_token {
            continue;
        }
        let value = if name == "scope" {
            scope_set(&value.to_value())
        } else {
            to_cedar(&value.to_value(), 0)
        };
        let Some(value) = value else {
            continue;
        };
        match (attribute, in_token) {
            (true, true) => {
                token.push((name.clone().into_owned(), value.clone()));
                attrs.insert(name.into_owned(), value);
            }
            (true, false) => {
                attrs.insert(name.into_owned(), value);
            }
            _ => token.push((name.into_owned(), value)),
        }
    }
    let token = RestrictedExpression::new_record(token)
        .map_err(|e| format!("the token's claims are no Cedar record: {e}"))?;
    let entity = Entity::new(
        uid.clone(),
        attrs,
        groups.iter().cloned().collect::<HashSet<_>>(),
    )
    .map_err(|e| format!("the token's claims are no Cedar entity: {e}"))?;
    Ok((Principal { uid, groups, token }, entity))
}

/// The group names a token carries in `group_claim`: an array of strings, or one string
/// of names separated by spaces (Verified Permissions reads an OIDC groups claim either way).
pub(crate) fn group_names(claims: &Claims, group_claim: &str) -> Vec<String> {
    match claim(claims, group_claim).map(|c| c.to_value()) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// `scope` as a set of strings (space-separated, or already an array), as Verified
/// Permissions gives it: `context.token.scope.contains("read")`.
fn scope_set(value: &Value) -> Option<RestrictedExpression> {
    match value {
        Value::String(s) => Some(RestrictedExpression::new_set(
            s.split_whitespace()
                .map(|s| RestrictedExpression::new_string(s.to_owned())),
        )),
        other => to_cedar(other, 0),
    }
}

/// The scopes as a Cedar set (`context.scopes`).
pub(crate) fn scopes(scopes: &[String]) -> RestrictedExpression {
    RestrictedExpression::new_set(
        scopes
            .iter()
            .map(|s| RestrictedExpression::new_string(s.clone())),
    )
}

/// A JSON value as a Cedar value: strings, booleans, integers, arrays as sets, objects as
/// records. Cedar has no null and no floating point: those are left out.
pub(crate) fn to_cedar(value: &Value, depth: usize) -> Option<RestrictedExpression> {
    if depth > MAX_DEPTH {
        return None;
    }
    match value {
        Value::String(s) => Some(RestrictedExpression::new_string(s.clone())),
        Value::Bool(b) => Some(RestrictedExpression::new_bool(*b)),
        Value::Number(n) => n.as_i64().map(RestrictedExpression::new_long),
        Value::Array(items) => Some(RestrictedExpression::new_set(
            items.iter().filter_map(|i| to_cedar(i, depth + 1)),
        )),
        Value::Object(members) => RestrictedExpression::new_record(
            members
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), to_cedar(v, depth + 1)?))),
        )
        .ok(),
        Value::Null => None,
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
        let claims = |v: Value| {
            let Value::Object(m) = v else { unreachable!() };
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
}
