//! The scopes and permissions a token grants, and the issuer's required scopes against
//! them: a missing one is `insufficient_scope`, an explicit Deny (HTTP 403).

use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::{IssuerSettings, ScopeMatch};
use crate::token::{Claims, Kind, claim};

/// Visits the scopes and permissions a token grants: every whole word of each
/// space-separated string, and every string of each array, of the configured scope claims
/// (names or JSON Pointers such as `/realm_access/roles`), until `visit` says stop
/// (returns `true`). Substrings never match (`read:user` does not grant `read:users`).
/// Returns whether `visit` stopped it. Nothing is collected: the request path asks for
/// one or two scopes.
fn each_grant(
    claims: &Claims,
    scope_claims: &[String],
    mut visit: impl FnMut(&str) -> bool,
) -> bool {
    scope_claims.iter().any(|name| {
        let Some(value) = claim(claims, name) else {
            return false;
        };
        match value.kind() {
            Kind::String => value
                .as_str()
                .is_some_and(|words| words.split(' ').filter(|w| !w.is_empty()).any(&mut visit)),
            Kind::Array => value
                .each_item()
                .any(|item| item.as_str().is_some_and(|s| visit(&s))),
            _ => false,
        }
    })
}

/// The scopes and permissions a token grants (see [`each_grant`]), for messages.
#[must_use]
pub(crate) fn granted_scopes(claims: &Claims, scope_claims: &[String]) -> Vec<String> {
    let mut granted = Vec::new();
    each_grant(claims, scope_claims, |scope| {
        granted.push(scope.to_owned());
        false
    });
    granted
}

/// Whether the token grants `scope`.
#[must_use]
pub(crate) fn grants(claims: &Claims, scope_claims: &[String], scope: &str) -> bool {
    each_grant(claims, scope_claims, |granted| granted == scope)
}

/// Checks the required scopes of `policy` against the token's grants.
///
/// # Errors
/// An `insufficient_scope` refusal naming what is missing.
pub(crate) fn check_scopes(claims: &Claims, policy: &IssuerSettings) -> Result<(), Refusal> {
    if policy.required_scopes.is_empty() {
        return Ok(());
    }
    let grants = |scope: &String| grants(claims, &policy.scope_claims, scope);
    let passes = match policy.scope_match {
        ScopeMatch::All => policy.required_scopes.iter().all(grants),
        ScopeMatch::Any => policy.required_scopes.iter().any(grants),
    };
    if passes {
        return Ok(());
    }
    let granted = granted_scopes(claims, &policy.scope_claims);
    let has = |scope: &String| granted.contains(scope);
    let missing: Vec<&str> = policy
        .required_scopes
        .iter()
        .filter(|s| !has(s))
        .map(String::as_str)
        .collect();
    let shown: Vec<String> = granted.iter().take(20).map(|g| sanitize(g, 64)).collect();
    Err(Refusal::new(
        Reason::InsufficientScope,
        format!(
            "{} of [{}] required, missing [{}], granted [{}] (from {})",
            match policy.scope_match {
                ScopeMatch::All => "all",
                ScopeMatch::Any => "one",
            },
            policy.required_scopes.join(" "),
            missing.join(" "),
            shown.join(" "),
            policy.scope_claims.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::settings::{Algorithm, KeySource, TokenTypes};

    fn policy(required: &[&str], scope_match: ScopeMatch) -> IssuerSettings {
        IssuerSettings {
            issuer: "https://idp/".into(),
            audiences: vec!["api".into()],
            audience_fallback_claim: None,
            keys: KeySource::Discovery,
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(60),
            token_types: TokenTypes {
                allowed: vec![],
                required: false,
            },
            principal_claims: vec!["sub".into()],
            required_scopes: required.iter().map(|s| (*s).to_owned()).collect(),
            scope_match,
            scope_claims: vec!["scope".into(), "scp".into(), "permissions".into()],
            required_claims: vec![],
            max_token_age: None,
            sender_constraint: crate::settings::SenderConstraint::Off,
            opaque: None,
            preset: None,
            source: crate::settings::IssuerSource::Environment,
        }
    }

    fn claims(v: serde_json::Value) -> Claims {
        let serde_json::Value::Object(m) = v else {
            unreachable!()
        };
        Claims::from_map(&m)
    }

    #[test]
    fn scopes_come_from_strings_and_arrays_of_every_scope_claim() {
        let c = claims(
            json!({"scope": "openid  read:messages", "scp": ["a", 1, "b"], "permissions": ["write:messages"]}),
        );
        assert_eq!(
            granted_scopes(&c, &policy(&[], ScopeMatch::All).scope_claims),
            vec!["openid", "read:messages", "a", "b", "write:messages"]
        );
    }

    #[test]
    fn all_of_and_any_of() {
        let c = claims(json!({"scope": "read:messages"}));
        assert!(check_scopes(&c, &policy(&[], ScopeMatch::All)).is_ok());
        assert!(check_scopes(&c, &policy(&["read:messages"], ScopeMatch::All)).is_ok());
        assert_eq!(
            check_scopes(
                &c,
                &policy(&["read:messages", "write:messages"], ScopeMatch::All)
            )
            .unwrap_err()
            .reason,
            Reason::InsufficientScope
        );
        assert!(
            check_scopes(
                &c,
                &policy(&["read:messages", "write:messages"], ScopeMatch::Any)
            )
            .is_ok()
        );
        assert!(check_scopes(&c, &policy(&["admin"], ScopeMatch::Any)).is_err());
    }

    #[test]
    fn substrings_and_near_misses_grant_nothing() {
        let cases = [
            ("superadmin", "admin"),
            ("read:user", "read:users"),
            ("read:users", "read:user"),
            ("READ:MESSAGES", "read:messages"),
            ("read:messages\tadmin", "admin"),
            ("read:messages,admin", "admin"),
        ];
        for (granted, required) in cases {
            let c = claims(json!({ "scope": granted }));
            assert!(
                check_scopes(&c, &policy(&[required], ScopeMatch::All)).is_err(),
                "{granted} vs {required}"
            );
        }
        let c = claims(json!({"scope": ["read:messages"]}));
        assert!(check_scopes(&c, &policy(&["read:messages"], ScopeMatch::All)).is_ok());
        let c = claims(json!({"scope": {"read:messages": true}}));
        assert!(check_scopes(&c, &policy(&["read:messages"], ScopeMatch::All)).is_err());
    }
}
