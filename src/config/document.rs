//! The JSON configuration document (kept in SSM Parameter Store, named by
//! `CONFIG_PARAMETER`, or checked locally with `token-verifier check-config FILE`).
//!
//! Its schema is `config.schema.json`; `docs/config.example.json` is a full example.
//! Parsing is strict: an unknown member is an error with its path (`issuers[1].audince`),
//! so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::error::ConfigError;
use super::layers::{GlobalLayer, IssuerLayer};
use super::parse::{self, key_source_for};
use super::presets::Preset;
use super::spec::IssuerSpec;
use crate::settings::cedar::DEFAULT_GROUP_CLAIM;
use crate::settings::dpop::MAX_DPOP_MAX_AGE;
use crate::settings::gateway::MAX_APPSYNC_TTL_SECONDS;
use crate::settings::http::MAX_HTTP_TIMEOUT;
use crate::settings::issuer::MAX_LEEWAY;
use crate::settings::keys::MAX_STALE;
use crate::settings::routes::{
    ClaimCondition, DefaultRoute, Expected, RoutePattern, RouteRule, RouteRules,
};
use crate::settings::{CedarSettings, CedarText, IssuerSource, KeySource};

/// A parsed, validated document: the parts that override the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigDocument {
    /// Where it came from (`CONFIG_PARAMETER /name`, a file path), for error lines.
    pub label: Option<String>,
    /// Its issuers, if it lists any (they replace the environment's issuer).
    pub issuers: Option<Vec<IssuerSpec>>,
    /// Its global settings.
    pub global: GlobalLayer,
    /// Its route rules.
    pub routes: Option<RouteRules>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(rename = "$schema")]
    _schema: Option<String>,
    issuers: Option<Vec<RawIssuer>>,
    routes: Option<RawRoutes>,
    gateway: Option<RawGateway>,
    cache: Option<RawCache>,
    http: Option<RawHttp>,
    dpop: Option<RawDpop>,
    authorization: Option<RawAuthorization>,
    max_token_bytes: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthorization {
    cedar: Option<RawCedar>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCedar {
    policies: String,
    /// Cedar schema text, or the JSON schema as an object.
    schema: Value,
    group_claim: Option<String>,
    namespace: Option<String>,
    seal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDpop {
    algorithms: Option<Vec<String>>,
    max_age_seconds: Option<u64>,
    replay_table: Option<String>,
    replay_capacity: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    issuer: String,
    audiences: Vec<String>,
    preset: Option<String>,
    jwks_uri: Option<String>,
    jwks: Option<Value>,
    audience_fallback_claim: Option<String>,
    algorithms: Option<Vec<String>>,
    leeway_seconds: Option<u64>,
    token_types: Option<Vec<String>>,
    require_token_type: Option<bool>,
    principal_claims: Option<Vec<String>>,
    required_scopes: Option<Vec<String>>,
    scope_match: Option<String>,
    scope_claims: Option<Vec<String>>,
    required_claims: Option<Vec<String>>,
    max_token_age_seconds: Option<u64>,
    sender_constraint: Option<String>,
    opaque_tokens: Option<RawOpaque>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpaque {
    mode: String,
    endpoint: Option<String>,
    client_id: Option<String>,
    client_secret_parameter: Option<String>,
    cache_seconds: Option<u64>,
    audience: Option<String>,
    client_auth: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoutes {
    default: Option<String>,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    route: String,
    scopes: Option<Vec<String>>,
    scope_match: Option<String>,
    claims: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    token_header: Option<String>,
    token_query_param: Option<String>,
    http_api_response: Option<String>,
    policy_resource: Option<String>,
    context_claims: Option<Vec<String>>,
    context_max_bytes: Option<usize>,
    appsync_ttl_seconds: Option<u32>,
    public_base_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)] // the document's member names
struct RawCache {
    ttl_seconds: Option<u64>,
    stale_seconds: Option<u64>,
    cooldown_seconds: Option<u64>,
    retry_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    connect_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
    max_bytes: Option<usize>,
    tls_roots: Option<String>,
}

impl ConfigDocument {
    /// Parses and validates a document. `label` names its origin in error lines.
    ///
    /// # Errors
    /// One [`ConfigError`] whose variable is `label` and whose message starts with the
    /// path of the offending member.
    pub fn parse(label: &str, text: &str) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            variable: label.to_owned(),
            message,
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let raw: RawDocument =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let what = inner.to_string();
                if matches!(
                    inner.classify(),
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                ) {
                    // Not JSON at all: where in the text, not a member path it never reached.
                    let (line, column) = (inner.line(), inner.column());
                    let what = what
                        .strip_suffix(&format!(" at line {line} column {column}"))
                        .unwrap_or(&what);
                    error(format!(
                        "not valid JSON at line {line}, column {column}: {what}"
                    ))
                } else if path == "." {
                    error(format!("not a valid document: {what}"))
                } else {
                    error(format!("{path}: {what}"))
                }
            })?;
        let issuers = match raw.issuers {
            None => None,
            Some(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, issuer)| {
                        issuer
                            .into_spec(i)
                            .map_err(|m| error(format!("issuers[{i}].{m}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let routes = raw
            .routes
            .map(RawRoutes::into_rules)
            .transpose()
            .map_err(|m| error(format!("routes.{m}")))?;
        let mut global = GlobalLayer {
            max_token_bytes: raw.max_token_bytes,
            ..GlobalLayer::default()
        };
        if let Some(g) = raw.gateway {
            global.token_header = g.token_header;
            global.token_query = g.token_query_param;
            global.http_api_response = g
                .http_api_response
                .as_deref()
                .map(parse::parse_http_api_response)
                .transpose()
                .map_err(|m| error(format!("gateway.http_api_response: {m}")))?;
            global.policy_resource = g
                .policy_resource
                .as_deref()
                .map(parse::parse_policy_resource)
                .transpose()
                .map_err(|m| error(format!("gateway.policy_resource: {m}")))?;
            global.context_claims = g.context_claims.map(|c| {
                if c.iter().any(|x| x == "*") {
                    None
                } else {
                    Some(c)
                }
            });
            global.context_max_bytes = g.context_max_bytes;
            if let Some(ttl) = g.appsync_ttl_seconds
                && ttl > MAX_APPSYNC_TTL_SECONDS
            {
                return Err(error(format!(
                    "gateway.appsync_ttl_seconds: is at most {MAX_APPSYNC_TTL_SECONDS} (AppSync's own bound)"
                )));
            }
            global.appsync_ttl = g.appsync_ttl_seconds;
            global.public_base_url = g
                .public_base_url
                .as_deref()
                .map(parse::parse_public_base_url)
                .transpose()
                .map_err(|m| error(format!("gateway.public_base_url: {m}")))?;
        }
        if let Some(d) = raw.dpop {
            global.dpop_algorithms = d
                .algorithms
                .map(|names| parse::parse_algorithms(&names))
                .transpose()
                .map_err(|m| error(format!("dpop.algorithms: {m}")))?;
            if let Some(age) = d.max_age_seconds
                && !(1..=MAX_DPOP_MAX_AGE.as_secs()).contains(&age)
            {
                return Err(error(format!(
                    "dpop.max_age_seconds: is 1 to {}",
                    MAX_DPOP_MAX_AGE.as_secs()
                )));
            }
            global.dpop_max_age = d.max_age_seconds.map(Duration::from_secs);
            if d.replay_capacity.is_some_and(|c| c < 1024) {
                return Err(error("dpop.replay_capacity: is at least 1024".to_owned()));
            }
            global.dpop_replay_capacity = d.replay_capacity;
            global.dpop_replay_table = d.replay_table;
        }
        if let Some(cedar) = raw.authorization.and_then(|a| a.cedar) {
            global.cedar = Some(cedar.into_settings(label).map_err(error)?);
        }
        if let Some(c) = raw.cache {
            if c.ttl_seconds == Some(0) {
                return Err(error("cache.ttl_seconds: must be at least 1".to_owned()));
            }
            global.cache_ttl = c.ttl_seconds.map(Duration::from_secs);
            global.cache_stale = c.stale_seconds.map(Duration::from_secs);
            if global.cache_stale.is_some_and(|s| s > MAX_STALE) {
                return Err(error(
                    "cache.stale_seconds: at most 604800 (7 days)".to_owned(),
                ));
            }
            global.cache_cooldown = c.cooldown_seconds.map(Duration::from_secs);
            global.cache_retry = c.retry_seconds.map(Duration::from_secs);
        }
        if let Some(h) = raw.http {
            global.connect_timeout = h.connect_timeout_ms.map(Duration::from_millis);
            global.timeout = h.timeout_ms.map(Duration::from_millis);
            global.max_bytes = h.max_bytes;
            global.tls_roots = h
                .tls_roots
                .as_deref()
                .map(parse::parse_tls_roots)
                .transpose()
                .map_err(|m| error(format!("http.tls_roots: {m}")))?;
            if global
                .timeout
                .is_some_and(|t| t > MAX_HTTP_TIMEOUT || t.is_zero())
            {
                return Err(error(
                    "http.timeout_ms: between 1 and 8000 (API Gateway gives an authorizer 10 s)"
                        .to_owned(),
                ));
            }
        }
        Ok(ConfigDocument {
            label: Some(label.to_owned()),
            issuers,
            global,
            routes,
        })
    }
}

impl ConfigDocument {
    /// Parses the Cedar policies and schema of their own SSM parameter
    /// (`CEDAR_PARAMETER`): the object a document holds as `authorization.cedar`.
    ///
    /// # Errors
    /// One [`ConfigError`] whose variable is `label`.
    pub fn parse_cedar(label: &str, text: &str) -> Result<CedarSettings, ConfigError> {
        let error = |message: String| ConfigError {
            variable: label.to_owned(),
            message,
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let raw: RawCedar = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            error(format!(
                "not a Cedar parameter ({{\"policies\", \"schema\"}}): {e}"
            ))
        })?;
        let mut settings = raw.into_settings(label).map_err(|m| {
            error(
                m.strip_prefix("authorization.cedar.")
                    .unwrap_or(&m)
                    .to_owned(),
            )
        })?;
        label.clone_into(&mut settings.origin);
        Ok(settings)
    }
}

impl RawCedar {
    fn into_settings(self, label: &str) -> Result<CedarSettings, String> {
        let schema = match self.schema {
            Value::String(text) => text,
            object @ Value::Object(_) => object.to_string(),
            _ => {
                return Err(
                    "authorization.cedar.schema: is Cedar schema text or a JSON schema object"
                        .to_owned(),
                );
            }
        };
        if self.policies.trim().is_empty() {
            return Err("authorization.cedar.policies: must not be empty".to_owned());
        }
        Ok(CedarSettings {
            origin: format!("authorization.cedar of {label}"),
            policies: CedarText::Inline(self.policies),
            schema: CedarText::Inline(schema),
            group_claim: self
                .group_claim
                .unwrap_or_else(|| DEFAULT_GROUP_CLAIM.to_owned()),
            namespace: self.namespace,
            seal: self.seal,
        })
    }
}

impl RawIssuer {
    fn into_spec(self, index: usize) -> Result<IssuerSpec, String> {
        if self.issuer.trim().is_empty() {
            return Err("issuer: must not be empty".to_owned());
        }
        let audiences: Vec<String> = self
            .audiences
            .into_iter()
            .filter(|a| !a.trim().is_empty())
            .collect();
        if audiences.is_empty() {
            return Err("audiences: at least one audience is required (there is no accept-any-audience mode)".to_owned());
        }
        let preset = match self.preset {
            None => None,
            Some(name) => Some(Preset::parse(&name).ok_or_else(|| {
                format!(
                    "preset: `{name}` is not a preset ({})",
                    Preset::ALL.map(|(n, _)| n).join(", ")
                )
            })?),
        };
        let keys = match (self.jwks_uri, self.jwks) {
            (Some(_), Some(_)) => return Err("jwks: give jwks_uri or jwks, not both".to_owned()),
            (None, Some(jwks)) => KeySource::Inline(jwks.to_string()),
            (uri, None) => key_source_for(&self.issuer, uri.as_deref())
                .map_err(|m| format!("jwks_uri: {m}"))?,
        };
        let algorithms = self
            .algorithms
            .map(|names| parse::parse_algorithms(&names))
            .transpose()
            .map_err(|m| format!("algorithms: {m}"))?;
        let leeway = self.leeway_seconds.map(Duration::from_secs);
        if leeway.is_some_and(|l| l > MAX_LEEWAY) {
            return Err(format!("leeway_seconds: at most {}", MAX_LEEWAY.as_secs()));
        }
        let scope_match = self
            .scope_match
            .as_deref()
            .map(parse::parse_scope_match)
            .transpose()
            .map_err(|m| format!("scope_match: {m}"))?;
        let sender_constraint = self
            .sender_constraint
            .as_deref()
            .map(parse::parse_sender_constraint)
            .transpose()
            .map_err(|m| format!("sender_constraint: {m}"))?;
        let opaque = match self.opaque_tokens {
            None => None,
            Some(raw) => parse::opaque_settings(parse::OpaqueParts {
                mode: Some(&raw.mode),
                endpoint: raw.endpoint.as_deref(),
                client_id: raw.client_id,
                client_secret_parameter: raw.client_secret_parameter,
                cache_seconds: raw.cache_seconds,
                audience: raw.audience.as_deref(),
                client_auth: raw.client_auth.as_deref(),
            })
            .map_err(|(part, message)| format!("opaque_tokens.{part}: {message}"))?,
        };
        Ok(IssuerSpec {
            issuer: self.issuer,
            audiences,
            keys,
            preset,
            opaque,
            source: IssuerSource::Document { index },
            layer: IssuerLayer {
                audience_fallback_claim: self.audience_fallback_claim,
                algorithms,
                leeway,
                token_types: self.token_types,
                require_token_type: self.require_token_type,
                principal_claims: self.principal_claims,
                required_scopes: self.required_scopes,
                scope_match,
                scope_claims: self.scope_claims,
                required_claims: self.required_claims,
                max_token_age: self.max_token_age_seconds.map(Duration::from_secs),
                sender_constraint,
            },
        })
    }
}

impl RawRoutes {
    fn into_rules(self) -> Result<RouteRules, String> {
        let default = match self.default.as_deref() {
            None | Some("allow") => DefaultRoute::Allow,
            Some("deny") => DefaultRoute::Deny,
            Some(other) => return Err(format!("default: `{other}`; use `allow` or `deny`")),
        };
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.into_iter().enumerate() {
            let pattern =
                RoutePattern::parse(&rule.route).map_err(|e| format!("rules[{i}].route: {e}"))?;
            let scope_match = rule
                .scope_match
                .as_deref()
                .map(parse::parse_scope_match)
                .transpose()
                .map_err(|m| format!("rules[{i}].scope_match: {m}"))?
                .unwrap_or(crate::settings::ScopeMatch::All);
            let claims = rule
                .claims
                .unwrap_or_default()
                .into_iter()
                .map(|(claim, value)| ClaimCondition {
                    claim,
                    expected: match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                        Some(param) => Expected::Param(param.to_owned()),
                        None => Expected::Literal(value),
                    },
                })
                .collect();
            rules.push(RouteRule {
                pattern,
                scopes: rule.scopes.unwrap_or_default(),
                scope_match,
                claims,
            });
        }
        Ok(RouteRules { default, rules })
    }
}
