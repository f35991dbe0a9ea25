//! Per-route rules as configured: which scopes and claims each route needs. Parsed and
//! checked for consistency here; `decision::routes` judges a request by them.
//!
//! A rule is a route pattern (`METHOD /path`, as in `methodArn` and `routeKey`) with
//! requirements. Patterns: a method (`GET`, or `*`/`ANY` for all), then `/`-separated
//! segments: a literal, `*` (one segment), `{name}` (one segment, captured), or a final
//! `**` / `{name+}` (the rest of the path). A claim condition compares a claim (name or
//! JSON Pointer) with a literal or with a captured segment: `{"tenant_id": "{tenant}"}`
//! lets a token call `/tenants/acme/...` only when its `tenant_id` is `acme`.
//!
//! For AppSync GraphQL APIs a rule names a field instead, `Type.field`
//! (`Mutation.deleteMessage`, `Query.auditLog`): a token that does not meet it gets the
//! field in the answer's `deniedFields`. Field rules never match an HTTP route, and HTTP rules
//! never apply to AppSync.

use std::fmt;

use super::issuer::ScopeMatch;

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Any,
    Param(String),
    Rest,
}

/// A parsed `METHOD /path` pattern, or a GraphQL field `Type.field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    /// `None`: any method.
    pub(crate) method: Option<String>,
    pub(crate) segments: Vec<Segment>,
    /// `Some("Type.field")` for an AppSync GraphQL field (then no method, no segments).
    pub(crate) field: Option<String>,
    pub(crate) text: String,
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a claim must equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A fixed value.
    Literal(String),
    /// The path segment captured as `{name}`.
    Param(String),
}

/// A claim condition: the claim (a string, or an array containing the value) must equal
/// the expected value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCondition {
    /// Claim name or JSON Pointer.
    pub claim: String,
    /// The value it must have.
    pub expected: Expected,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    /// Which requests it applies to.
    pub pattern: RoutePattern,
    /// Scopes it needs.
    pub scopes: Vec<String>,
    /// All or any of `scopes`.
    pub scope_match: ScopeMatch,
    /// Claim conditions, all of which must hold.
    pub claims: Vec<ClaimCondition>,
}

/// What to do with a request no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultRoute {
    /// Allowed (the token and the global requirements suffice).
    Allow,
    /// Denied.
    Deny,
}

/// The rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRules {
    /// For requests no rule matches.
    pub default: DefaultRoute,
    /// The rules, in configuration order.
    pub rules: Vec<RouteRule>,
}

impl Default for RouteRules {
    fn default() -> Self {
        RouteRules {
            default: DefaultRoute::Allow,
            rules: Vec::new(),
        }
    }
}

/// Why a route pattern or rule is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route `{route}`: {message}")]
pub struct RuleError {
    /// The pattern text.
    pub route: String,
    /// What is wrong.
    pub message: String,
}

impl RoutePattern {
    /// Parses `METHOD /path/{param}/*/**`.
    ///
    /// # Errors
    /// [`RuleError`] for a missing method or path, an empty `{}`, or `**` not last.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let error = |message: &str| RuleError {
            route: text.to_owned(),
            message: message.to_owned(),
        };
        if let Some(field) = graphql_field(text.trim()) {
            return Ok(RoutePattern {
                method: None,
                segments: Vec::new(),
                field: Some(field.to_owned()),
                text: text.trim().to_owned(),
            });
        }
        let (method, path) = text.trim().split_once(' ').ok_or_else(|| {
            error("expected `METHOD /path`, e.g. `GET /messages` or `* /admin/**`, or a GraphQL field `Type.field`, e.g. `Mutation.deleteMessage`")
        })?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(error("the path must start with /"));
        }
        let method = match method {
            "*" | "ANY" => None,
            m if m.chars().all(|c| c.is_ascii_uppercase()) => Some(m.to_owned()),
            _ => {
                return Err(error(
                    "the method must be upper case (GET, POST, ...) or * / ANY",
                ));
            }
        };
        let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(raw.len());
        for (i, part) in raw.iter().enumerate() {
            let last = i + 1 == raw.len();
            let segment = match *part {
                "**" => Segment::Rest,
                "*" => Segment::Any,
                p if p.starts_with('{') && p.ends_with("+}") => Segment::Rest,
                p if p.starts_with('{') && p.ends_with('}') => {
                    let name = &p[1..p.len() - 1];
                    if name.is_empty() {
                        return Err(error("empty {} parameter"));
                    }
                    Segment::Param(name.to_owned())
                }
                p if p.contains(['*', '{', '}']) => {
                    return Err(error("wildcards and parameters must be whole segments"));
                }
                p => Segment::Literal(p.to_owned()),
            };
            if segment == Segment::Rest && !last {
                return Err(error("** (or {name+}) must be the last segment"));
            }
            segments.push(segment);
        }
        Ok(RoutePattern {
            method,
            segments,
            field: None,
            text: text.trim().to_owned(),
        })
    }

    /// The GraphQL field (`Type.field`) this pattern names, if it names one.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The parameter names this pattern captures.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            _ => None,
        })
    }
}

/// `Type.field` when `text` is one: two GraphQL names (`[_A-Za-z][_0-9A-Za-z]*`) joined
/// by one dot.
fn graphql_field(text: &str) -> Option<&str> {
    let (type_name, field) = text.split_once('.')?;
    let name = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && s.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
    };
    (name(type_name) && name(field)).then_some(text)
}

impl RouteRule {
    /// Whether a claim condition of this rule is bound to a path parameter.
    fn binds_params(&self) -> bool {
        self.claims
            .iter()
            .any(|c| matches!(c.expected, Expected::Param(_)))
    }
}

impl RouteRules {
    /// Whether any rule exists.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Checks the rules' consistency.
    ///
    /// # Errors
    /// A rule binding a parameter needs `default: deny` (an Allow-everything policy cannot
    /// exclude other parameter values), and may only bind parameters its pattern captures.
    pub fn validate(&self) -> Result<(), RuleError> {
        for rule in &self.rules {
            for condition in &rule.claims {
                if let Expected::Param(p) = &condition.expected
                    && !rule.pattern.params().any(|name| name == p)
                {
                    return Err(RuleError {
                        route: rule.pattern.text.clone(),
                        message: format!(
                            "claim {} refers to {{{p}}}, which the route does not capture",
                            condition.claim
                        ),
                    });
                }
            }
            if rule.binds_params() && self.default == DefaultRoute::Allow {
                return Err(RuleError {
                    route: rule.pattern.text.clone(),
                    message: "a claim bound to a path parameter needs routes.default = \"deny\": only then can a cached policy list exactly the routes a token may call".to_owned(),
                });
            }
        }
        Ok(())
    }
}
