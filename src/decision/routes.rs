//! The route rules applied: which of them a request matches, whether the token meets
//! them, and the policy that lets a token call exactly the routes it may — correct under
//! API Gateway's result cache. (The rules themselves, parsed and checked, are
//! [`crate::settings::routes`].)
//!
//! Semantics, chosen so that an IAM policy can express them exactly: a request is allowed
//! when **every** rule whose pattern matches it is satisfied, and — with `default: deny` —
//! at least one rule matches. In a policy, a satisfied rule becomes an Allow statement on
//! its resources and an unsatisfied one a Deny (IAM's explicit Deny wins over any Allow,
//! exactly like "every matching rule must hold").

use serde_json::Value;

use super::scopes::grants;
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::ScopeMatch;
use crate::settings::routes::{
    DefaultRoute, Expected, RoutePattern, RouteRule, RouteRules, Segment,
};
use crate::token::{Claims, claim};

/// A called route, from its ARN: `arn:…:{api}/{stage}/{METHOD}/{path…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalledRoute {
    /// `arn:…:{api}/{stage}`.
    pub stage_prefix: String,
    /// The HTTP method (or a WebSocket route key such as `$connect`).
    pub method: String,
    /// The path segments.
    pub segments: Vec<String>,
}

impl CalledRoute {
    /// Parses a `methodArn`/`routeArn`. `None` when it has no `{api}/{stage}/{method}` part.
    #[must_use]
    pub fn from_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(4, '/');
        let api = parts.next()?;
        let stage = parts.next()?;
        let method = parts.next()?;
        if !api.starts_with("arn:") || stage.is_empty() || method.is_empty() {
            return None;
        }
        let segments = parts
            .next()
            .unwrap_or_default()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Some(CalledRoute {
            stage_prefix: format!("{api}/{stage}"),
            method: method.to_owned(),
            segments,
        })
    }

    /// A route from an HTTP request's method and its path relative to the API (the tower
    /// layer: no ARN, no stage). The path is taken as the request carries it, neither
    /// percent-decoded nor normalised, as the ARN carries it and routers match it.
    #[cfg(feature = "tower")]
    #[must_use]
    pub fn from_request(method: &str, path: &str) -> Self {
        CalledRoute {
            stage_prefix: String::new(),
            method: method.to_owned(),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// `METHOD /path` for logs.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{} /{}", self.method, self.segments.join("/"))
    }
}

impl RoutePattern {
    /// Matches a called route, returning the captured parameters.
    #[must_use]
    pub fn captures<'a>(&self, route: &'a CalledRoute) -> Option<Vec<(&str, &'a str)>> {
        if self.field.is_some() || self.method.as_ref().is_some_and(|m| *m != route.method) {
            return None;
        }
        let mut captured = Vec::new();
        let mut path = route.segments.iter();
        for segment in &self.segments {
            match segment {
                Segment::Rest => return Some(captured),
                Segment::Literal(literal) => {
                    if path.next() != Some(literal) {
                        return None;
                    }
                }
                Segment::Any => {
                    path.next()?;
                }
                Segment::Param(name) => captured.push((name.as_str(), path.next()?.as_str())),
            }
        }
        path.next().is_none().then_some(captured)
    }

    /// The policy resource for this pattern under `stage_prefix`, with bound parameters
    /// substituted. IAM's `*` also spans `/`, so `*` and `**` both become `*`.
    fn resource(&self, stage_prefix: &str, bound: &[(&str, String)]) -> String {
        let method = self.method.as_deref().unwrap_or("*");
        let mut out = format!("{stage_prefix}/{method}");
        if self.segments.is_empty() {
            out.push('/');
        }
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(l) => out.push_str(l),
                Segment::Any | Segment::Rest => out.push('*'),
                Segment::Param(name) => match bound.iter().find(|(n, _)| n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push('*'),
                },
            }
        }
        out
    }
}

/// Whether a claim holds `value` (a string equal to it, or an array containing it).
fn claim_holds(claims: &Claims, name: &str, value: &str) -> bool {
    match claim(claims, name).map(|c| c.to_value()) {
        Some(Value::String(s)) => s == value,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(value)),
        Some(Value::Number(n)) => n.to_string() == value,
        Some(Value::Bool(b)) => b.to_string() == value,
        _ => false,
    }
}

impl RouteRule {
    /// Whether the token has this rule's scopes.
    fn scopes_ok(&self, claims: &Claims, scope_claims: &[String]) -> bool {
        if self.scopes.is_empty() {
            return true;
        }
        let has = |s: &String| grants(claims, scope_claims, s);
        match self.scope_match {
            ScopeMatch::All => self.scopes.iter().all(has),
            ScopeMatch::Any => self.scopes.iter().any(has),
        }
    }

    /// Checks this rule for one request, given the parameters its pattern captured.
    fn check(
        &self,
        claims: &Claims,
        scope_claims: &[String],
        captured: &[(&str, &str)],
    ) -> Result<(), Refusal> {
        if !self.scopes_ok(claims, scope_claims) {
            return Err(Refusal::new(
                Reason::InsufficientScope,
                format!(
                    "route rule `{}` needs {} of [{}]",
                    self.pattern,
                    match self.scope_match {
                        ScopeMatch::All => "all",
                        ScopeMatch::Any => "one",
                    },
                    self.scopes.join(" ")
                ),
            ));
        }
        for condition in &self.claims {
            let expected = match &condition.expected {
                Expected::Literal(v) => v.as_str(),
                Expected::Param(p) => captured
                    .iter()
                    .find(|(n, _)| n == p)
                    .map_or("", |(_, v)| *v),
            };
            if !claim_holds(claims, &condition.claim, expected) {
                return Err(Refusal::new(
                    Reason::ClaimMismatch,
                    format!(
                        "route rule `{}` needs {} = {}",
                        self.pattern,
                        sanitize(&condition.claim, 64),
                        sanitize(expected, 64)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// This rule as policy statements for a token: `(allowed resources, denied resources)`.
    fn statements(
        &self,
        claims: &Claims,
        scope_claims: &[String],
        stage_prefix: &str,
    ) -> (Vec<String>, Vec<String>) {
        let deny_all = || (Vec::new(), vec![self.pattern.resource(stage_prefix, &[])]);
        if !self.scopes_ok(claims, scope_claims) {
            return deny_all();
        }
        // Literal conditions hold or fail for every route of the pattern.
        let literals_hold = self.claims.iter().all(|c| match &c.expected {
            Expected::Literal(v) => claim_holds(claims, &c.claim, v),
            Expected::Param(_) => true,
        });
        if !literals_hold {
            return deny_all();
        }
        // Bound parameters: the token may call the pattern with its own claim values only.
        let mut bindings: Vec<Vec<(&str, String)>> = vec![Vec::new()];
        for condition in &self.claims {
            let Expected::Param(param) = &condition.expected else {
                continue;
            };
            let values: Vec<String> = match claim(claims, &condition.claim).map(|c| c.to_value()) {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Some(Value::Number(n)) => vec![n.to_string()],
                _ => Vec::new(),
            };
            // A value that could not be a single path segment never matches one.
            let values: Vec<String> = values
                .into_iter()
                .filter(|v| !v.is_empty() && !v.contains(['/', '*', '?']))
                .take(20)
                .collect();
            let mut next = Vec::new();
            for binding in &bindings {
                for value in &values {
                    let mut b = binding.clone();
                    b.push((param.as_str(), value.clone()));
                    next.push(b);
                }
            }
            bindings = next;
        }
        if bindings.is_empty() {
            return deny_all();
        }
        let allowed = bindings
            .iter()
            .map(|b| self.pattern.resource(stage_prefix, b))
            .collect();
        (allowed, Vec::new())
    }
}

/// The policy of a token under the rules: Allow and Deny resource lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePolicy {
    /// Resources allowed.
    pub allow: Vec<String>,
    /// Resources denied (IAM: Deny wins).
    pub deny: Vec<String>,
}

impl RouteRules {
    /// Decides one request: every matching rule must hold; with `default: deny`, at least
    /// one rule must match.
    ///
    /// # Errors
    /// An `insufficient_scope`, `claim_mismatch` or `route_not_allowed` refusal (all 403).
    pub fn check(
        &self,
        route: &CalledRoute,
        claims: &Claims,
        scope_claims: &[String],
    ) -> Result<(), Refusal> {
        let mut matched = false;
        for rule in &self.rules {
            if let Some(captured) = rule.pattern.captures(route) {
                matched = true;
                rule.check(claims, scope_claims, &captured)?;
            }
        }
        if !matched && self.default == DefaultRoute::Deny {
            return Err(Refusal::new(
                Reason::RouteNotAllowed,
                format!(
                    "no route rule covers {} and routes.default is deny",
                    sanitize(&route.key(), 128)
                ),
            ));
        }
        Ok(())
    }

    /// The GraphQL fields (`Type.field`) a token may not resolve: those of every field
    /// rule whose scopes or claims it does not meet (AppSync's `deniedFields`). The same
    /// for every operation of the token, so AppSync may cache it per token.
    #[must_use]
    pub fn denied_fields(&self, claims: &Claims, scope_claims: &[String]) -> Vec<String> {
        let mut denied: Vec<String> = Vec::new();
        for rule in &self.rules {
            let Some(field) = rule.pattern.field.as_deref() else {
                continue;
            };
            if rule.check(claims, scope_claims, &[]).is_err() && !denied.iter().any(|d| d == field)
            {
                denied.push(field.to_owned());
            }
        }
        denied
    }

    /// The scopes the rules matching `route` need (for a 403's `scope` attribute).
    #[cfg(feature = "tower")]
    #[must_use]
    pub fn scopes_for(&self, route: &CalledRoute) -> Vec<&str> {
        let mut scopes: Vec<&str> = Vec::new();
        for rule in &self.rules {
            if rule.pattern.captures(route).is_some() {
                for scope in &rule.scopes {
                    if !scopes.contains(&scope.as_str()) {
                        scopes.push(scope);
                    }
                }
            }
        }
        scopes
    }

    /// The token's whole policy for the stage: what it may and may not call.
    #[must_use]
    pub fn policy(
        &self,
        stage_prefix: &str,
        claims: &Claims,
        scope_claims: &[String],
    ) -> RoutePolicy {
        let mut policy = RoutePolicy::default();
        if self.default == DefaultRoute::Allow {
            policy.allow.push(format!("{stage_prefix}/*"));
        }
        for rule in self.rules.iter().filter(|r| r.pattern.field.is_none()) {
            let (allow, deny) = rule.statements(claims, scope_claims, stage_prefix);
            for resource in allow {
                if !policy.allow.contains(&resource) {
                    policy.allow.push(resource);
                }
            }
            for resource in deny {
                if !policy.deny.contains(&resource) {
                    policy.deny.push(resource);
                }
            }
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::routes::ClaimCondition;

    const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

    fn route(arn_tail: &str) -> CalledRoute {
        CalledRoute::from_arn(&format!("{STAGE}/{arn_tail}")).unwrap()
    }

    fn rule(pattern: &str, scopes: &[&str], claims: &[(&str, &str)]) -> RouteRule {
        RouteRule {
            pattern: RoutePattern::parse(pattern).unwrap(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            scope_match: ScopeMatch::All,
            claims: claims
                .iter()
                .map(|(c, v)| ClaimCondition {
                    claim: (*c).to_owned(),
                    expected: match v.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                        Some(p) => Expected::Param(p.to_owned()),
                        None => Expected::Literal((*v).to_owned()),
                    },
                })
                .collect(),
        }
    }

    fn claims(v: Value) -> Claims {
        let Value::Object(m) = v else { unreachable!() };
        Claims::from_map(&m)
    }

    fn scope_claims() -> Vec<String> {
        vec!["scope".into()]
    }

    #[test]
    fn arns_parse_into_method_and_path() {
        let r = route("GET/tenants/acme/reports");
        assert_eq!(r.method, "GET");
        assert_eq!(r.segments, vec!["tenants", "acme", "reports"]);
        assert_eq!(r.stage_prefix, STAGE);
        assert_eq!(route("GET/").segments, Vec::<String>::new());
        assert_eq!(route("$connect").method, "$connect");
        assert!(CalledRoute::from_arn("not-an-arn").is_none());
    }

    #[test]
    fn patterns_match_methods_segments_params_and_rest() {
        let p = RoutePattern::parse("GET /tenants/{tenant}/reports").unwrap();
        assert_eq!(
            p.captures(&route("GET/tenants/acme/reports")),
            Some(vec![("tenant", "acme")])
        );
        assert_eq!(p.captures(&route("POST/tenants/acme/reports")), None);
        assert_eq!(p.captures(&route("GET/tenants/acme/reports/1")), None);
        assert_eq!(p.captures(&route("GET/tenants/reports")), None);
        let any = RoutePattern::parse("* /admin/**").unwrap();
        assert!(any.captures(&route("DELETE/admin/users/7")).is_some());
        assert!(any.captures(&route("GET/admin")).is_some());
        assert!(any.captures(&route("GET/administrator")).is_none());
        let star = RoutePattern::parse("ANY /items/*").unwrap();
        assert!(star.captures(&route("PUT/items/3")).is_some());
        assert!(star.captures(&route("PUT/items/3/x")).is_none());
        let proxy = RoutePattern::parse("GET /{proxy+}").unwrap();
        assert!(proxy.captures(&route("GET/a/b/c")).is_some());
    }

    #[test]
    fn bad_patterns_are_named() {
        for bad in [
            "/messages",
            "GET messages",
            "get /x",
            "GET /a/**/b",
            "GET /a{b}",
            "GET /{}",
        ] {
            assert!(RoutePattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_matching_rule_must_hold() {
        let rules = RouteRules {
            default: DefaultRoute::Allow,
            rules: vec![
                rule("GET /messages", &["read:messages"], &[]),
                rule("* /messages", &["messages"], &[]),
                rule("* /admin/**", &["admin"], &[]),
            ],
        };
        let reader = claims(json!({"scope": "read:messages messages"}));
        assert!(
            rules
                .check(&route("GET/messages"), &reader, &scope_claims())
                .is_ok()
        );
        assert_eq!(
            rules
                .check(
                    &route("POST/messages"),
                    &claims(json!({"scope": "read:messages"})),
                    &scope_claims()
                )
                .unwrap_err()
                .reason,
            Reason::InsufficientScope
        );
        assert_eq!(
            rules
                .check(&route("GET/admin/x"), &reader, &scope_claims())
                .unwrap_err()
                .reason,
            Reason::InsufficientScope
        );
        assert!(
            rules
                .check(&route("GET/other"), &reader, &scope_claims())
                .is_ok(),
            "default allow"
        );
        let deny = RouteRules {
            default: DefaultRoute::Deny,
            ..rules
        };
        assert_eq!(
            deny.check(&route("GET/other"), &reader, &scope_claims())
                .unwrap_err()
                .reason,
            Reason::RouteNotAllowed
        );
    }

    #[test]
    fn claims_bound_to_path_segments() {
        let rules = RouteRules {
            default: DefaultRoute::Deny,
            rules: vec![rule(
                "* /tenants/{tenant}/**",
                &[],
                &[("tenant_id", "{tenant}")],
            )],
        };
        rules.validate().unwrap();
        let acme = claims(json!({"tenant_id": "acme"}));
        assert!(
            rules
                .check(&route("GET/tenants/acme/reports"), &acme, &scope_claims())
                .is_ok()
        );
        assert_eq!(
            rules
                .check(&route("GET/tenants/evil/reports"), &acme, &scope_claims())
                .unwrap_err()
                .reason,
            Reason::ClaimMismatch
        );
        let policy = rules.policy(STAGE, &acme, &scope_claims());
        assert_eq!(policy.allow, vec![format!("{STAGE}/*/tenants/acme/*")]);
        assert!(policy.deny.is_empty());
        let several = claims(json!({"tenant_id": ["acme", "globex", "a/b", "*"]}));
        assert_eq!(
            rules.policy(STAGE, &several, &scope_claims()).allow,
            vec![
                format!("{STAGE}/*/tenants/acme/*"),
                format!("{STAGE}/*/tenants/globex/*")
            ]
        );
        let none = rules.policy(STAGE, &claims(json!({})), &scope_claims());
        assert!(none.allow.is_empty());
        assert_eq!(none.deny, vec![format!("{STAGE}/*/tenants/*/*")]);
    }

    #[test]
    fn bound_parameters_need_default_deny_and_a_captured_name() {
        let allow = RouteRules {
            default: DefaultRoute::Allow,
            rules: vec![rule(
                "* /tenants/{tenant}/**",
                &[],
                &[("tenant_id", "{tenant}")],
            )],
        };
        assert!(allow.validate().unwrap_err().message.contains("default"));
        let unknown = RouteRules {
            default: DefaultRoute::Deny,
            rules: vec![rule("* /tenants/{tenant}/**", &[], &[("org", "{org}")])],
        };
        assert!(unknown.validate().is_err());
    }

    #[test]
    fn policies_list_allowed_and_denied_routes() {
        let rules = RouteRules {
            default: DefaultRoute::Allow,
            rules: vec![
                rule("GET /messages", &["read:messages"], &[]),
                rule("POST /messages", &["write:messages"], &[]),
                rule("* /admin/**", &[], &[("role", "admin")]),
            ],
        };
        let reader = claims(json!({"scope": "read:messages", "role": ["user"]}));
        let policy = rules.policy(STAGE, &reader, &scope_claims());
        assert_eq!(
            policy.allow,
            vec![format!("{STAGE}/*"), format!("{STAGE}/GET/messages")]
        );
        assert_eq!(
            policy.deny,
            vec![
                format!("{STAGE}/POST/messages"),
                format!("{STAGE}/*/admin/*")
            ]
        );
        let admin =
            claims(json!({"scope": "read:messages write:messages", "role": ["user", "admin"]}));
        let policy = rules.policy(STAGE, &admin, &scope_claims());
        assert!(policy.deny.is_empty());
        assert!(policy.allow.contains(&format!("{STAGE}/*/admin/*")));
    }
}
