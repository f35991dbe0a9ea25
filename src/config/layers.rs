//! Settings as one source states them, before they are combined: `None` means "this
//! source says nothing". The issuer's own settings win over its preset, the preset over
//! the environment's per-issuer variables, those over the built-in defaults.

use std::time::Duration;

use crate::settings::{
    Algorithm, CedarSettings, HttpApiResponse, PolicyResource, ScopeMatch, SenderConstraint,
    TlsRoots,
};

/// Per-issuer settings as one source states them: `None` means "this source says
/// nothing". Layers stack: the issuer's own settings (its document entry, or for the
/// issuer of `TOKEN_ISSUER` the variables set beside it) > its preset > the environment's
/// per-issuer variables > built-in default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssuerLayer {
    /// `AUDIENCE_FALLBACK_CLAIM`.
    pub audience_fallback_claim: Option<String>,
    /// `ALLOWED_ALGORITHMS`.
    pub algorithms: Option<Vec<Algorithm>>,
    /// `LEEWAY_SECONDS`.
    pub leeway: Option<Duration>,
    /// `ALLOWED_TOKEN_TYPES` (as written).
    pub token_types: Option<Vec<String>>,
    /// `REQUIRE_TOKEN_TYPE`.
    pub require_token_type: Option<bool>,
    /// `PRINCIPAL_CLAIMS`.
    pub principal_claims: Option<Vec<String>>,
    /// `REQUIRED_SCOPES`.
    pub required_scopes: Option<Vec<String>>,
    /// `SCOPE_MATCH`.
    pub scope_match: Option<ScopeMatch>,
    /// `SCOPE_CLAIMS`.
    pub scope_claims: Option<Vec<String>>,
    /// `REQUIRED_CLAIMS`.
    pub required_claims: Option<Vec<String>>,
    /// `MAX_TOKEN_AGE_SECONDS`.
    pub max_token_age: Option<Duration>,
    /// `SENDER_CONSTRAINT`.
    pub sender_constraint: Option<SenderConstraint>,
}

impl IssuerLayer {
    /// The settings this layer states, each as its environment variable and its
    /// document member.
    #[must_use]
    pub fn stated(&self) -> Vec<(&'static str, &'static str)> {
        [
            (
                self.audience_fallback_claim.is_some(),
                ("AUDIENCE_FALLBACK_CLAIM", "audience_fallback_claim"),
            ),
            (
                self.algorithms.is_some(),
                ("ALLOWED_ALGORITHMS", "algorithms"),
            ),
            (self.leeway.is_some(), ("LEEWAY_SECONDS", "leeway_seconds")),
            (
                self.token_types.is_some(),
                ("ALLOWED_TOKEN_TYPES", "token_types"),
            ),
            (
                self.require_token_type.is_some(),
                ("REQUIRE_TOKEN_TYPE", "require_token_type"),
            ),
            (
                self.principal_claims.is_some(),
                ("PRINCIPAL_CLAIMS", "principal_claims"),
            ),
            (
                self.required_scopes.is_some(),
                ("REQUIRED_SCOPES", "required_scopes"),
            ),
            (self.scope_match.is_some(), ("SCOPE_MATCH", "scope_match")),
            (
                self.scope_claims.is_some(),
                ("SCOPE_CLAIMS", "scope_claims"),
            ),
            (
                self.required_claims.is_some(),
                ("REQUIRED_CLAIMS", "required_claims"),
            ),
            (
                self.max_token_age.is_some(),
                ("MAX_TOKEN_AGE_SECONDS", "max_token_age_seconds"),
            ),
            (
                self.sender_constraint.is_some(),
                ("SENDER_CONSTRAINT", "sender_constraint"),
            ),
        ]
        .into_iter()
        .filter_map(|(stated, names)| stated.then_some(names))
        .collect()
    }

    /// This layer, with `lower` filling what it leaves unset.
    #[must_use]
    pub fn or(self, lower: IssuerLayer) -> IssuerLayer {
        IssuerLayer {
            audience_fallback_claim: self
                .audience_fallback_claim
                .or(lower.audience_fallback_claim),
            algorithms: self.algorithms.or(lower.algorithms),
            leeway: self.leeway.or(lower.leeway),
            token_types: self.token_types.or(lower.token_types),
            require_token_type: self.require_token_type.or(lower.require_token_type),
            principal_claims: self.principal_claims.or(lower.principal_claims),
            required_scopes: self.required_scopes.or(lower.required_scopes),
            scope_match: self.scope_match.or(lower.scope_match),
            scope_claims: self.scope_claims.or(lower.scope_claims),
            required_claims: self.required_claims.or(lower.required_claims),
            max_token_age: self.max_token_age.or(lower.max_token_age),
            sender_constraint: self.sender_constraint.or(lower.sender_constraint),
        }
    }
}

/// Settings that are not per issuer, as one source states them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlobalLayer {
    /// `TOKEN_HEADER`.
    pub token_header: Option<String>,
    /// `TOKEN_QUERY_PARAM`.
    pub token_query: Option<String>,
    /// `HTTP_API_RESPONSE`.
    pub http_api_response: Option<HttpApiResponse>,
    /// `POLICY_RESOURCE`.
    pub policy_resource: Option<PolicyResource>,
    /// `CONTEXT_CLAIMS` (`Some(None)`: all claims).
    #[allow(clippy::option_option)] // three states: unstated, every claim, these claims
    pub context_claims: Option<Option<Vec<String>>>,
    /// `CONTEXT_MAX_BYTES`.
    pub context_max_bytes: Option<usize>,
    /// `APPSYNC_TTL_SECONDS`.
    pub appsync_ttl: Option<u32>,
    /// `MAX_TOKEN_BYTES`.
    pub max_token_bytes: Option<usize>,
    /// `JWKS_CACHE_TTL_SECONDS`.
    pub cache_ttl: Option<Duration>,
    /// `JWKS_STALE_SECONDS`.
    pub cache_stale: Option<Duration>,
    /// `JWKS_COOLDOWN_SECONDS`.
    pub cache_cooldown: Option<Duration>,
    /// `JWKS_RETRY_SECONDS`.
    pub cache_retry: Option<Duration>,
    /// `HTTP_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Option<Duration>,
    /// `HTTP_TIMEOUT_MS`.
    pub timeout: Option<Duration>,
    /// `JWKS_MAX_BYTES`.
    pub max_bytes: Option<usize>,
    /// `TLS_ROOTS`.
    pub tls_roots: Option<TlsRoots>,
    /// `PUBLIC_BASE_URL`.
    pub public_base_url: Option<String>,
    /// `DPOP_ALGORITHMS`.
    pub dpop_algorithms: Option<Vec<Algorithm>>,
    /// `DPOP_MAX_AGE_SECONDS`.
    pub dpop_max_age: Option<Duration>,
    /// `DPOP_REPLAY_TABLE`.
    pub dpop_replay_table: Option<String>,
    /// `DPOP_REPLAY_CAPACITY`.
    pub dpop_replay_capacity: Option<usize>,
    /// `CEDAR_POLICIES_FILE` and `CEDAR_SCHEMA_FILE`, or a document's `authorization.cedar`
    /// (taken whole: a document's set replaces the environment's).
    pub cedar: Option<CedarSettings>,
}

impl GlobalLayer {
    /// This layer, with `lower` filling what it leaves unset.
    #[must_use]
    pub fn or(self, lower: GlobalLayer) -> GlobalLayer {
        GlobalLayer {
            token_header: self.token_header.or(lower.token_header),
            token_query: self.token_query.or(lower.token_query),
            http_api_response: self.http_api_response.or(lower.http_api_response),
            policy_resource: self.policy_resource.or(lower.policy_resource),
            context_claims: self.context_claims.or(lower.context_claims),
            context_max_bytes: self.context_max_bytes.or(lower.context_max_bytes),
            appsync_ttl: self.appsync_ttl.or(lower.appsync_ttl),
            max_token_bytes: self.max_token_bytes.or(lower.max_token_bytes),
            cache_ttl: self.cache_ttl.or(lower.cache_ttl),
            cache_stale: self.cache_stale.or(lower.cache_stale),
            cache_cooldown: self.cache_cooldown.or(lower.cache_cooldown),
            cache_retry: self.cache_retry.or(lower.cache_retry),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
            timeout: self.timeout.or(lower.timeout),
            max_bytes: self.max_bytes.or(lower.max_bytes),
            tls_roots: self.tls_roots.or(lower.tls_roots),
            public_base_url: self.public_base_url.or(lower.public_base_url),
            dpop_algorithms: self.dpop_algorithms.or(lower.dpop_algorithms),
            dpop_max_age: self.dpop_max_age.or(lower.dpop_max_age),
            dpop_replay_table: self.dpop_replay_table.or(lower.dpop_replay_table),
            dpop_replay_capacity: self.dpop_replay_capacity.or(lower.dpop_replay_capacity),
            cedar: self.cedar.or(lower.cedar),
        }
    }
}
