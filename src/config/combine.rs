//! The environment and a configuration document combined into one validated [`Config`]:
//! the document wins for everything it states, the environment fills the rest, built-in
//! defaults fill what neither states.

use super::document::ConfigDocument;
use super::env::EnvConfig;
use super::error::ConfigError;
use super::spec::IssuerSpec;
use super::warnings::hidden_by_preset;
use crate::settings::dpop::{
    DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_MAX_AGE, DEFAULT_REPLAY_CAPACITY, DpopSettings,
};
use crate::settings::gateway::{
    DEFAULT_APPSYNC_TTL_SECONDS, DEFAULT_CONTEXT_MAX_BYTES, DEFAULT_TOKEN_HEADER,
};
use crate::settings::http::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT};
use crate::settings::issuer::DEFAULT_MAX_TOKEN_BYTES;
use crate::settings::keys::{DEFAULT_COOLDOWN, DEFAULT_RETRY, DEFAULT_STALE, DEFAULT_TTL};
use crate::settings::opaque::{OpaqueAudience, OpaqueMode};
use crate::settings::{
    CacheSettings, CedarSettings, ContextSettings, GatewaySettings, HttpApiResponse, HttpSettings,
    IssuerSettings, PolicyResource, RouteRules, SenderConstraint,
};

use super::env::Sources;

/// Everything the authorizer needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The trusted issuers; a token is routed to one by its exact `iss`.
    pub issuers: Vec<IssuerSettings>,
    /// Key cache timing.
    pub cache: CacheSettings,
    /// HTTP client limits.
    pub http: HttpSettings,
    /// How tokens are found in events and answers are shaped.
    pub gateway: GatewaySettings,
    /// How DPoP proofs are judged and remembered.
    pub dpop: DpopSettings,
    /// Per-route rules.
    pub routes: RouteRules,
    /// Cedar policies, when configured.
    pub cedar: Option<CedarSettings>,
    /// Tokens longer than this are refused before decoding.
    pub max_token_bytes: usize,
    /// SSM sources (configuration document, key snapshots).
    pub sources: Sources,
    /// What is valid but probably not meant: logged at init and on reload, printed by
    /// `token-verifier check-config`.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads the process environment (no document).
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (an environment, a map in tests), without a
    /// document.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = EnvConfig::from_lookup(lookup)?;
        Self::combine(&env, None)
    }

    /// Combines the environment with a configuration document. The document wins for
    /// everything it states; the environment fills the rest; built-in defaults fill what
    /// neither states. A document that lists `issuers` replaces the environment's issuer
    /// (`TOKEN_ISSUER`/`AUDIENCE`/`JWKS_*`/`IDP_PRESET`); the per-issuer variables
    /// (`ALLOWED_ALGORITHMS`, `LEEWAY_SECONDS`, ...) remain defaults for its issuers.
    ///
    /// # Errors
    /// A [`ConfigError`] when the result has no issuer, repeats one, or is inconsistent.
    pub fn combine(env: &EnvConfig, document: Option<ConfigDocument>) -> Result<Self, ConfigError> {
        let document = document.unwrap_or_default();
        let label = document
            .label
            .clone()
            .unwrap_or_else(|| "configuration".to_owned());
        let doc_error = |message: String| ConfigError {
            variable: label.clone(),
            message,
        };
        let from_document = document.issuers.is_some();
        let specs: Vec<IssuerSpec> = match document.issuers {
            Some(issuers) => issuers,
            None => env.issuer.clone().into_iter().collect(),
        };
        let mut warnings = Vec::new();
        if specs.is_empty() {
            return Err(match &document.label {
                Some(_) => doc_error("issuers: at least one issuer is required".to_owned()),
                None => ConfigError::new(
                    "TOKEN_ISSUER",
                    "is required: the exact iss of your access tokens, e.g. https://your-tenant.us.auth0.com/ (or set CONFIG_PARAMETER to a configuration document that lists issuers)",
                ),
            });
        }
        let mut issuers = Vec::with_capacity(specs.len());
        for spec in specs {
            if issuers
                .iter()
                .any(|i: &IssuerSettings| i.issuer == spec.issuer)
            {
                return Err(doc_error(format!("issuer {} is listed twice", spec.issuer)));
            }
            if let Some(preset) = spec.preset {
                if let Some(warning) = preset.check_issuer(&spec.issuer) {
                    warnings.push(format!("preset {}: {warning}", preset.as_str()));
                }
                if from_document {
                    warnings.extend(hidden_by_preset(&spec, preset, &env.issuer_layer));
                }
            }
            issuers.push(spec.build(&env.issuer_layer));
        }
        let opaque: Vec<&str> = issuers
            .iter()
            .filter(|i| i.opaque.is_some())
            .map(|i| i.issuer.as_str())
            .collect();
        if opaque.len() > 1 {
            return Err(doc_error(format!(
                "opaque tokens carry no iss, so only one issuer can validate them; {} all ask to",
                opaque.join(", ")
            )));
        }
        for issuer in &issuers {
            if let Some(o) = &issuer.opaque
                && o.mode == OpaqueMode::Userinfo
                && o.audience == OpaqueAudience::Enforce
                && issuer.audience_fallback_claim.is_none()
            {
                return Err(ConfigError::new(
                    "OPAQUE_AUDIENCE",
                    format!(
                        "userinfo answers name no audience, so {} cannot check that a token is for this API: set OPAQUE_AUDIENCE=unbound (opaque_tokens.audience in a document) to accept any valid token of the provider, knowingly (README: Opaque tokens, deliberately)",
                        issuer.issuer
                    ),
                ));
            }
            if let Some(o) = &issuer.opaque
                && o.mode == OpaqueMode::Userinfo
                && issuer.sender_constraint != SenderConstraint::Off
            {
                return Err(ConfigError::new(
                    "SENDER_CONSTRAINT",
                    format!(
                        "userinfo answers carry no cnf, so {}'s opaque tokens could never show their binding: use introspection (OPAQUE_TOKENS=introspection), which answers with cnf, or SENDER_CONSTRAINT=off",
                        issuer.issuer
                    ),
                ));
            }
        }
        let global = document.global.or(env.global.clone());
        let cache = CacheSettings {
            ttl: global.cache_ttl.unwrap_or(DEFAULT_TTL),
            stale: global.cache_stale.unwrap_or(DEFAULT_STALE),
            cooldown: global.cache_cooldown.unwrap_or(DEFAULT_COOLDOWN),
            retry: global.cache_retry.unwrap_or(DEFAULT_RETRY),
        };
        let http = HttpSettings {
            connect_timeout: global.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            timeout: global.timeout.unwrap_or(DEFAULT_TIMEOUT),
            max_bytes: global.max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
            roots: global.tls_roots.unwrap_or_default(),
        };
        let gateway = GatewaySettings {
            token_header: global
                .token_header
                .unwrap_or_else(|| DEFAULT_TOKEN_HEADER.to_owned()),
            token_query: global.token_query,
            http_api_response: global.http_api_response.unwrap_or(HttpApiResponse::Simple),
            policy_resource: global.policy_resource.unwrap_or(PolicyResource::Stage),
            context: ContextSettings {
                claims: global.context_claims.unwrap_or(None),
                max_bytes: global
                    .context_max_bytes
                    .unwrap_or(DEFAULT_CONTEXT_MAX_BYTES),
            },
            appsync_ttl: global.appsync_ttl.unwrap_or(DEFAULT_APPSYNC_TTL_SECONDS),
            client_certs: issuers
                .iter()
                .any(|i| i.sender_constraint != SenderConstraint::Off),
            dpop: issuers
                .iter()
                .any(|i| i.sender_constraint != SenderConstraint::Off),
            public_base_url: global.public_base_url,
            source_ip: global.cedar.is_some(),
        };
        let dpop = DpopSettings {
            algorithms: global
                .dpop_algorithms
                .unwrap_or_else(|| DEFAULT_DPOP_ALGORITHMS.to_vec()),
            max_age: global.dpop_max_age.unwrap_or(DEFAULT_DPOP_MAX_AGE),
            replay_capacity: global
                .dpop_replay_capacity
                .unwrap_or(DEFAULT_REPLAY_CAPACITY),
            replay_table: global.dpop_replay_table,
        };
        let routes = document.routes.unwrap_or_default();
        routes
            .validate()
            .map_err(|e| doc_error(format!("routes: {e}")))?;
        Ok(Config {
            issuers,
            cache,
            http,
            gateway,
            dpop,
            routes,
            cedar: global.cedar,
            max_token_bytes: global.max_token_bytes.unwrap_or(DEFAULT_MAX_TOKEN_BYTES),
            sources: env.sources.clone(),
            warnings,
        })
    }
}
