//! Configuration: typed, validated once at init, every default a named constant.
//!
//! [`Config::from_lookup`] reads the environment variables of the README's table through
//! a lookup function (tests pass a map). The shape already holds a list of issuers, so
//! a JSON document (SSM Parameter Store) or several issuers plug in as new sources of the
//! same [`Config`] without touching the verifier.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::algorithm::{Algorithm, parse_configured};
pub use crate::document::ConfigDocument;
use crate::fetch::ClientAuth;
use crate::fetch::{self, HttpSettings, TlsRoots, check_key_url};
use crate::keys::{self, CacheSettings};
pub use crate::opaque::OpaqueSettings;
use crate::opaque::{self, OpaqueAudience, OpaqueMode};
use crate::presets::Preset;
use crate::routes::RouteRules;
use crate::token::DEFAULT_MAX_TOKEN_BYTES;

/// Default for `LEEWAY_SECONDS`: 60 s of clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Largest accepted `LEEWAY_SECONDS`: 5 minutes. More would quietly extend every token.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Default for `ALLOWED_ALGORITHMS`: what Auth0, Cognito, Okta, Keycloak and Entra ID sign with.
pub const DEFAULT_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];

/// Default for `PRINCIPAL_CLAIMS`: the subject.
pub const DEFAULT_PRINCIPAL_CLAIMS: &str = "sub";

/// Default for `SCOPE_CLAIMS`: where granted scopes or permissions are read from
/// (`scope`: RFC 9068 / Auth0 / Cognito / Keycloak; `scp`: Okta / Entra ID;
/// `permissions`: Auth0 RBAC).
pub const DEFAULT_SCOPE_CLAIMS: &str = "scope,scp,permissions";

/// Default for `ALLOWED_TOKEN_TYPES`: RFC 9068 access tokens and the plain `JWT` most `IdPs` send.
pub const DEFAULT_TOKEN_TYPES: &str = "at+jwt,JWT";

/// Default for `TOKEN_HEADER`.
pub const DEFAULT_TOKEN_HEADER: &str = "Authorization";

/// Default for `CONTEXT_MAX_BYTES`: 4 KiB of claims in the authorizer context. WebSocket
/// authorizer results are capped at 8 KB and every byte is copied to each integration.
pub const DEFAULT_CONTEXT_MAX_BYTES: usize = 4096;

/// Every environment variable this module reads (the README documents each).
pub const VARIABLES: [&str; 44] = [
    "TOKEN_ISSUER",
    "AUDIENCE",
    "IDP_PRESET",
    "CONFIG_PARAMETER",
    "CONFIG_TTL_SECONDS",
    "JWKS_SNAPSHOT_PARAMETER",
    "AUDIENCE_FALLBACK_CLAIM",
    "JWKS_URI",
    "JWKS_FILE",
    "JWKS_JSON",
    "ALLOWED_ALGORITHMS",
    "LEEWAY_SECONDS",
    "REQUIRED_SCOPES",
    "SCOPE_MATCH",
    "SCOPE_CLAIMS",
    "PRINCIPAL_CLAIMS",
    "REQUIRED_CLAIMS",
    "MAX_TOKEN_AGE_SECONDS",
    "ALLOWED_TOKEN_TYPES",
    "REQUIRE_TOKEN_TYPE",
    "TOKEN_HEADER",
    "TOKEN_QUERY_PARAM",
    "HTTP_API_RESPONSE",
    "POLICY_RESOURCE",
    "CONTEXT_CLAIMS",
    "CONTEXT_MAX_BYTES",
    "MAX_TOKEN_BYTES",
    "JWKS_CACHE_TTL_SECONDS",
    "JWKS_STALE_SECONDS",
    "JWKS_COOLDOWN_SECONDS",
    "JWKS_RETRY_SECONDS",
    "HTTP_CONNECT_TIMEOUT_MS",
    "HTTP_TIMEOUT_MS",
    "JWKS_MAX_BYTES",
    "TLS_ROOTS",
    "METRICS",
    "METRICS_NAMESPACE",
    "OPAQUE_TOKENS",
    "OPAQUE_ENDPOINT",
    "INTROSPECTION_CLIENT_ID",
    "INTROSPECTION_SECRET_PARAMETER",
    "OPAQUE_CACHE_SECONDS",
    "OPAQUE_AUDIENCE",
    "INTROSPECTION_CLIENT_AUTH",
];

/// A configuration mistake, reported at init as one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable (or document path) at fault.
    pub variable: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &str, message: impl Into<String>) -> Self {
        ConfigError {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }
}

/// Everything the authorizer needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The trusted issuers; a token is routed to one by its exact `iss`.
    pub issuers: Vec<IssuerConfig>,
    /// Key cache timing.
    pub cache: CacheSettings,
    /// HTTP client limits.
    pub http: HttpSettings,
    /// How tokens are found in events and answers are shaped.
    pub gateway: GatewaySettings,
    /// Per-route rules.
    pub routes: RouteRules,
    /// Tokens longer than this are refused before decoding.
    pub max_token_bytes: usize,
    /// SSM sources (configuration document, key snapshots).
    pub sources: Sources,
    /// What is valid but probably not meant: logged at init and on reload, printed by
    /// `token-verifier check-config`.
    pub warnings: Vec<String>,
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySourceConfig {
    /// `OpenID` Connect discovery from the issuer.
    Discovery,
    /// An explicit JWKS URL.
    Uri(Url),
    /// A JWKS document given inline (`JWKS_JSON`).
    Inline(String),
    /// A JWKS file (`JWKS_FILE`), read once at init.
    File(PathBuf),
}

/// How required scopes combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeMatch {
    /// Every required scope must be granted.
    All,
    /// At least one required scope must be granted.
    Any,
}

/// Which `typ` header values are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTypes {
    /// Normalised (lowercase, no `application/`) accepted values.
    pub allowed: Vec<String>,
    /// Whether a token without `typ` is refused.
    pub required: bool,
}

impl TokenTypes {
    /// Normalises a media type for comparison (RFC 7515 §4.1.9).
    #[must_use]
    pub fn normalise(typ: &str) -> String {
        Self::without_application(typ).to_ascii_lowercase()
    }

    /// `typ` without a leading `application/` (in any case).
    fn without_application(typ: &str) -> &str {
        match typ.split_at_checked("application/".len()) {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
            _ => typ,
        }
    }

    /// Whether a header `typ` is acceptable (compared as [`Self::normalise`] would, on
    /// every request, without allocating).
    #[must_use]
    pub fn accepts(&self, typ: Option<&str>) -> bool {
        match typ {
            None => !self.required,
            Some(t) => {
                let t = Self::without_application(t);
                self.allowed.iter().any(|a| a.eq_ignore_ascii_case(t))
            }
        }
    }
}

/// One trusted issuer and its rules.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerConfig {
    /// The exact `iss` value.
    pub issuer: String,
    /// Accepted audiences; the token's audience claim must contain one.
    pub audiences: Vec<String>,
    /// The claim compared with `audiences` when a token has no `aud` at all (Cognito
    /// access tokens carry `client_id` instead). A token with `aud` is always judged by it.
    pub audience_fallback_claim: Option<String>,
    /// Where its keys come from.
    pub keys: KeySourceConfig,
    /// The algorithm allow-list.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew tolerated on time claims.
    pub leeway: Duration,
    /// Accepted `typ` values.
    pub token_types: TokenTypes,
    /// Claims tried in order for the principal id.
    pub principal_claims: Vec<String>,
    /// Scopes the token must carry.
    pub required_scopes: Vec<String>,
    /// All or any of `required_scopes`.
    pub scope_match: ScopeMatch,
    /// Claims holding granted scopes (space-separated string or array).
    pub scope_claims: Vec<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// Oldest accepted `iat`, if limited.
    pub max_token_age: Option<Duration>,
    /// How its opaque tokens are validated; `None`: they are refused (`opaque_token`).
    pub opaque: Option<OpaqueSettings>,
}

/// HTTP API answer shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{isAuthorized, context}` (payload 2.0 with simple responses enabled).
    Simple,
    /// An IAM policy.
    Policy,
}

/// What an Allow policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyResource {
    /// Every route of the stage (`{api}/{stage}/*`): correct under result caching.
    Stage,
    /// Every stage and route of the API (`{api}/*`).
    Api,
    /// Only the called route: correct only with result caching off.
    Route,
}

/// Which claims reach the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextSettings {
    /// `None`: every claim; otherwise only these.
    pub claims: Option<Vec<String>>,
    /// Upper bound of the serialised context.
    pub max_bytes: usize,
}

/// Event and answer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewaySettings {
    /// Header holding `Bearer <token>` in REQUEST and HTTP API events.
    pub token_header: String,
    /// Query-string parameter holding the bare token (WebSocket `$connect`), if any.
    pub token_query: Option<String>,
    /// HTTP API 2.0 answer shape.
    pub http_api_response: HttpApiResponse,
    /// Allow/Deny policy resource scope.
    pub policy_resource: PolicyResource,
    /// Claims in the context.
    pub context: ContextSettings,
}

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
        }
    }
}

/// One issuer as a source describes it, before layering.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSpec {
    /// The exact `iss`.
    pub issuer: String,
    /// Accepted audiences.
    pub audiences: Vec<String>,
    /// Where its keys come from.
    pub keys: KeySourceConfig,
    /// Its identity provider, if named.
    pub preset: Option<Preset>,
    /// What this source sets explicitly.
    pub layer: IssuerLayer,
    /// Opaque-token validation, if asked for.
    pub opaque: Option<OpaqueSettings>,
}

impl IssuerSpec {
    /// The final issuer configuration: this spec's settings, then the preset's, then
    /// `defaults` (the environment), then the built-in defaults.
    #[must_use]
    pub fn build(self, defaults: &IssuerLayer) -> IssuerConfig {
        let preset = self
            .preset
            .map(|p| p.layer(&self.audiences))
            .unwrap_or_default();
        let layer = self.layer.or(preset).or(defaults.clone());
        let strings = |items: &str| split_list(items);
        IssuerConfig {
            issuer: self.issuer,
            audiences: self.audiences,
            audience_fallback_claim: layer.audience_fallback_claim,
            keys: self.keys,
            algorithms: layer
                .algorithms
                .unwrap_or_else(|| DEFAULT_ALGORITHMS.to_vec()),
            leeway: layer.leeway.unwrap_or(DEFAULT_LEEWAY),
            token_types: TokenTypes {
                allowed: layer
                    .token_types
                    .unwrap_or_else(|| strings(DEFAULT_TOKEN_TYPES))
                    .iter()
                    .map(|t| TokenTypes::normalise(t))
                    .collect(),
                required: layer.require_token_type.unwrap_or(false),
            },
            principal_claims: layer
                .principal_claims
                .unwrap_or_else(|| strings(DEFAULT_PRINCIPAL_CLAIMS)),
            required_scopes: layer.required_scopes.unwrap_or_default(),
            scope_match: layer.scope_match.unwrap_or(ScopeMatch::All),
            scope_claims: layer
                .scope_claims
                .unwrap_or_else(|| strings(DEFAULT_SCOPE_CLAIMS)),
            required_claims: layer.required_claims.unwrap_or_default(),
            max_token_age: layer.max_token_age,
            opaque: self.opaque,
        }
    }
}

/// Opaque-token settings as a source (environment or document) states them.
#[derive(Debug, Default)]
pub struct OpaqueParts<'a> {
    /// `reject`, `userinfo` or `introspection`.
    pub mode: Option<&'a str>,
    /// The endpoint URL.
    pub endpoint: Option<&'a str>,
    /// The introspection client id.
    pub client_id: Option<String>,
    /// The SSM parameter of its secret.
    pub client_secret_parameter: Option<String>,
    /// Answer cache lifetime.
    pub cache_seconds: Option<u64>,
    /// `enforce` or `unbound`.
    pub audience: Option<&'a str>,
    /// `basic` or `post`.
    pub client_auth: Option<&'a str>,
}

/// Opaque-token settings from their parts, checked.
///
/// # Errors
/// A message naming the part (`mode`, `endpoint`, `client_id`, `client_secret_parameter`,
/// `cache_seconds`) that is wrong.
pub fn opaque_settings(
    parts: OpaqueParts<'_>,
) -> Result<Option<OpaqueSettings>, (&'static str, String)> {
    let OpaqueParts {
        mode,
        endpoint,
        client_id,
        client_secret_parameter,
        cache_seconds,
        audience,
        client_auth,
    } = parts;
    let mode = match mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("reject") => {
            if endpoint.is_some()
                || client_id.is_some()
                || client_secret_parameter.is_some()
                || audience.is_some()
                || client_auth.is_some()
            {
                return Err((
                    "mode",
                    "opaque-token settings are given but opaque tokens are rejected; set it to userinfo or introspection".to_owned(),
                ));
            }
            return Ok(None);
        }
        Some("userinfo") => OpaqueMode::Userinfo,
        Some("introspection") => OpaqueMode::Introspection,
        Some(other) => {
            return Err((
                "mode",
                format!("`{other}` is not reject, userinfo or introspection"),
            ));
        }
    };
    let endpoint = endpoint
        .map(|text| {
            let url = Url::parse(text)
                .map_err(|e| ("endpoint", format!("`{text}` is not a URL ({e})")))?;
            check_key_url(&url).map_err(|m| ("endpoint", m))?;
            Ok(url)
        })
        .transpose()?;
    match mode {
        OpaqueMode::Introspection if client_id.is_none() => {
            return Err((
                "client_id",
                "introspection needs the client id the endpoint authenticates (RFC 7662 §2.1)"
                    .to_owned(),
            ));
        }
        OpaqueMode::Introspection if client_secret_parameter.is_none() => {
            return Err((
                "client_secret_parameter",
                "introspection needs the SSM SecureString parameter holding the client secret"
                    .to_owned(),
            ));
        }
        OpaqueMode::Userinfo if client_id.is_some() || client_secret_parameter.is_some() => {
            return Err((
                "client_id",
                "userinfo takes no client credentials (the token itself authenticates)".to_owned(),
            ));
        }
        _ => {}
    }
    let cache_ttl = match cache_seconds {
        None => opaque::DEFAULT_CACHE,
        Some(seconds) if Duration::from_secs(seconds) <= opaque::MAX_CACHE => {
            Duration::from_secs(seconds)
        }
        Some(_) => {
            return Err((
                "cache_seconds",
                format!(
                    "is at most {} (a revoked token must stop working soon)",
                    opaque::MAX_CACHE.as_secs()
                ),
            ));
        }
    };
    let audience = match audience.map(str::to_ascii_lowercase).as_deref() {
        None | Some("enforce") => OpaqueAudience::Enforce,
        Some("unbound") => OpaqueAudience::Unbound,
        Some(other) => {
            return Err(("audience", format!("`{other}` is not enforce or unbound")));
        }
    };
    let client_auth = match client_auth.map(str::to_ascii_lowercase).as_deref() {
        None | Some("basic" | "client_secret_basic") => ClientAuth::Basic,
        Some("post" | "client_secret_post") if mode == OpaqueMode::Introspection => {
            ClientAuth::Post
        }
        Some("post" | "client_secret_post") => {
            return Err((
                "client_auth",
                "only introspection authenticates a client".to_owned(),
            ));
        }
        Some(other) => return Err(("client_auth", format!("`{other}` is not basic or post"))),
    };
    Ok(Some(OpaqueSettings {
        mode,
        endpoint,
        client_id,
        client_secret_parameter,
        client_auth,
        cache_ttl,
        audience,
    }))
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
    pub context_claims: Option<Option<Vec<String>>>,
    /// `CONTEXT_MAX_BYTES`.
    pub context_max_bytes: Option<usize>,
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
            max_token_bytes: self.max_token_bytes.or(lower.max_token_bytes),
            cache_ttl: self.cache_ttl.or(lower.cache_ttl),
            cache_stale: self.cache_stale.or(lower.cache_stale),
            cache_cooldown: self.cache_cooldown.or(lower.cache_cooldown),
            cache_retry: self.cache_retry.or(lower.cache_retry),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
            timeout: self.timeout.or(lower.timeout),
            max_bytes: self.max_bytes.or(lower.max_bytes),
            tls_roots: self.tls_roots.or(lower.tls_roots),
        }
    }
}

/// Where configuration and key snapshots live besides the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources {
    /// `CONFIG_PARAMETER`: an SSM parameter holding the JSON configuration document.
    pub config_parameter: Option<String>,
    /// `CONFIG_TTL_SECONDS`: how often the document is re-read.
    pub config_ttl: Duration,
    /// `JWKS_SNAPSHOT_PARAMETER`: an SSM path under which last-known-good key sets are kept.
    pub jwks_snapshot: Option<String>,
}

/// Default for `CONFIG_TTL_SECONDS`: the document is re-read every 5 minutes.
pub const DEFAULT_CONFIG_TTL: Duration = Duration::from_secs(300);

/// What the environment says, before any document is combined with it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnvConfig {
    /// The issuer of `TOKEN_ISSUER`/`AUDIENCE`/`JWKS_*`/`IDP_PRESET`, if `TOKEN_ISSUER` is set.
    pub issuer: Option<IssuerSpec>,
    /// Per-issuer defaults for every issuer.
    pub issuer_layer: IssuerLayer,
    /// Global settings.
    pub global: GlobalLayer,
    /// SSM sources.
    pub sources: Sources,
    /// `METRICS`, `METRICS_NAMESPACE` (and the function's name).
    pub metrics: crate::metrics::MetricsSettings,
}

impl EnvConfig {
    /// Reads the environment through `lookup`.
    ///
    /// # Errors
    /// The first [`ConfigError`], naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let algorithms = match env.get("ALLOWED_ALGORITHMS") {
            None => None,
            Some(_) => Some(
                parse_algorithms(&env.list("ALLOWED_ALGORITHMS"))
                    .map_err(|m| ConfigError::new("ALLOWED_ALGORITHMS", m))?,
            ),
        };
        let leeway = env.optional_seconds("LEEWAY_SECONDS", 0)?;
        if leeway.is_some_and(|l| l > MAX_LEEWAY) {
            return Err(ConfigError::new(
                "LEEWAY_SECONDS",
                format!("is at most {} seconds", MAX_LEEWAY.as_secs()),
            ));
        }
        let scope_match = match env.get("SCOPE_MATCH").as_deref() {
            None => None,
            Some(text) => {
                Some(parse_scope_match(text).map_err(|m| ConfigError::new("SCOPE_MATCH", m))?)
            }
        };
        let issuer_layer = IssuerLayer {
            audience_fallback_claim: env.get("AUDIENCE_FALLBACK_CLAIM"),
            algorithms,
            leeway,
            token_types: env
                .get("ALLOWED_TOKEN_TYPES")
                .map(|_| env.list("ALLOWED_TOKEN_TYPES")),
            require_token_type: env.optional_flag("REQUIRE_TOKEN_TYPE")?,
            principal_claims: env
                .get("PRINCIPAL_CLAIMS")
                .map(|_| env.list("PRINCIPAL_CLAIMS")),
            required_scopes: env
                .get("REQUIRED_SCOPES")
                .map(|_| env.words("REQUIRED_SCOPES")),
            scope_match,
            scope_claims: env.get("SCOPE_CLAIMS").map(|_| env.list("SCOPE_CLAIMS")),
            required_claims: env
                .get("REQUIRED_CLAIMS")
                .map(|_| env.list("REQUIRED_CLAIMS")),
            max_token_age: env.optional_seconds("MAX_TOKEN_AGE_SECONDS", 1)?,
        };
        let preset = match env.get("IDP_PRESET") {
            None => None,
            Some(name) => Some(Preset::parse(&name).ok_or_else(|| {
                ConfigError::new(
                    "IDP_PRESET",
                    format!("`{name}` is not a preset ({})", preset_names()),
                )
            })?),
        };
        let issuer = match env.get("TOKEN_ISSUER") {
            None => None,
            Some(issuer) => {
                let audiences = env.list("AUDIENCE");
                if audiences.is_empty() {
                    return Err(ConfigError::new(
                        "AUDIENCE",
                        "is required: your API identifier (comma-separate several); there is no accept-any-audience mode",
                    ));
                }
                let keys = key_source(&env, &issuer)?;
                let opaque = opaque_settings(OpaqueParts {
                    mode: env.get("OPAQUE_TOKENS").as_deref(),
                    endpoint: env.get("OPAQUE_ENDPOINT").as_deref(),
                    client_id: env.get("INTROSPECTION_CLIENT_ID"),
                    client_secret_parameter: env.get("INTROSPECTION_SECRET_PARAMETER"),
                    cache_seconds: env
                        .optional_seconds("OPAQUE_CACHE_SECONDS", 0)?
                        .map(|d| d.as_secs()),
                    audience: env.get("OPAQUE_AUDIENCE").as_deref(),
                    client_auth: env.get("INTROSPECTION_CLIENT_AUTH").as_deref(),
                })
                .map_err(|(part, message)| {
                    ConfigError::new(
                        match part {
                            "endpoint" => "OPAQUE_ENDPOINT",
                            "client_id" => "INTROSPECTION_CLIENT_ID",
                            "client_secret_parameter" => "INTROSPECTION_SECRET_PARAMETER",
                            "cache_seconds" => "OPAQUE_CACHE_SECONDS",
                            "audience" => "OPAQUE_AUDIENCE",
                            "client_auth" => "INTROSPECTION_CLIENT_AUTH",
                            _ => "OPAQUE_TOKENS",
                        },
                        message,
                    )
                })?;
                Some(IssuerSpec {
                    issuer,
                    audiences,
                    keys,
                    preset,
                    // The variables set beside `IDP_PRESET` are this issuer's own settings:
                    // they win over the preset, as a document issuer's do over its preset.
                    layer: issuer_layer.clone(),
                    opaque,
                })
            }
        };
        if issuer.is_none()
            && let Some(mode) = env.get("OPAQUE_TOKENS")
            && !mode.eq_ignore_ascii_case("reject")
        {
            return Err(ConfigError::new(
                "OPAQUE_TOKENS",
                "needs TOKEN_ISSUER and AUDIENCE (in a configuration document, set issuers[].opaque_tokens)",
            ));
        }
        if issuer.is_none() && preset.is_some() {
            return Err(ConfigError::new(
                "IDP_PRESET",
                "needs TOKEN_ISSUER and AUDIENCE",
            ));
        }
        let global = GlobalLayer {
            token_header: env.get("TOKEN_HEADER"),
            token_query: env.get("TOKEN_QUERY_PARAM"),
            http_api_response: match env.get("HTTP_API_RESPONSE").as_deref() {
                None => None,
                Some(text) => Some(
                    parse_http_api_response(text)
                        .map_err(|m| ConfigError::new("HTTP_API_RESPONSE", m))?,
                ),
            },
            policy_resource: match env.get("POLICY_RESOURCE").as_deref() {
                None => None,
                Some(text) => Some(
                    parse_policy_resource(text)
                        .map_err(|m| ConfigError::new("POLICY_RESOURCE", m))?,
                ),
            },
            context_claims: match env.get("CONTEXT_CLAIMS").as_deref() {
                None => None,
                Some("*") => Some(None),
                Some(_) => Some(Some(env.list("CONTEXT_CLAIMS"))),
            },
            context_max_bytes: env.optional_number("CONTEXT_MAX_BYTES", 256)?,
            max_token_bytes: env.optional_number("MAX_TOKEN_BYTES", 256)?,
            cache_ttl: env.optional_seconds("JWKS_CACHE_TTL_SECONDS", 1)?,
            cache_stale: env.optional_seconds("JWKS_STALE_SECONDS", 0)?,
            cache_cooldown: env.optional_seconds("JWKS_COOLDOWN_SECONDS", 1)?,
            cache_retry: env.optional_seconds("JWKS_RETRY_SECONDS", 1)?,
            connect_timeout: env.optional_millis("HTTP_CONNECT_TIMEOUT_MS")?,
            timeout: env.optional_millis("HTTP_TIMEOUT_MS")?,
            max_bytes: env.optional_number("JWKS_MAX_BYTES", 1024)?,
            tls_roots: match env.get("TLS_ROOTS").as_deref() {
                None => None,
                Some(text) => {
                    Some(parse_tls_roots(text).map_err(|m| ConfigError::new("TLS_ROOTS", m))?)
                }
            },
        };
        if global.cache_stale.is_some_and(|s| s > keys::MAX_STALE) {
            return Err(ConfigError::new(
                "JWKS_STALE_SECONDS",
                "is at most 604800 (7 days)",
            ));
        }
        if global.timeout.is_some_and(|t| t > MAX_HTTP_TIMEOUT) {
            return Err(ConfigError::new(
                "HTTP_TIMEOUT_MS",
                "is at most 8000: API Gateway gives an authorizer 10 s in all",
            ));
        }
        let sources = Sources {
            config_parameter: env.get("CONFIG_PARAMETER"),
            config_ttl: env
                .optional_seconds("CONFIG_TTL_SECONDS", 1)?
                .unwrap_or(DEFAULT_CONFIG_TTL),
            jwks_snapshot: env
                .get("JWKS_SNAPSHOT_PARAMETER")
                .map(|p| p.trim_end_matches('/').to_owned()),
        };
        let defaults = crate::metrics::MetricsSettings::default();
        let metrics = crate::metrics::MetricsSettings {
            enabled: match env
                .get("METRICS")
                .map(|m| m.to_ascii_lowercase())
                .as_deref()
            {
                None | Some("emf") => true,
                Some("off") => false,
                Some(_) => return Err(ConfigError::new("METRICS", "is emf or off")),
            },
            namespace: match env.get("METRICS_NAMESPACE") {
                None => defaults.namespace,
                Some(namespace) => {
                    crate::metrics::check_namespace(&namespace)
                        .map_err(|m| ConfigError::new("METRICS_NAMESPACE", m))?;
                    namespace
                }
            },
            function: lookup("AWS_LAMBDA_FUNCTION_NAME").unwrap_or(defaults.function),
        };
        Ok(EnvConfig {
            issuer,
            issuer_layer,
            global,
            sources,
            metrics,
        })
    }
}

/// Largest accepted `HTTP_TIMEOUT_MS`.
pub const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(8);

fn preset_names() -> String {
    Preset::ALL.map(|(name, _)| name).join(", ")
}

/// Parses algorithm names, refusing `none`, `HS*` and unknown names.
///
/// # Errors
/// The message for the first bad name, or for an empty list.
pub fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    let mut algs = Vec::new();
    for name in names {
        let alg = parse_configured(name).map_err(|e| e.to_string())?;
        if !algs.contains(&alg) {
            algs.push(alg);
        }
    }
    if algs.is_empty() {
        return Err("is empty".to_owned());
    }
    Ok(algs)
}

/// Parses `all` / `any`.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_scope_match(text: &str) -> Result<ScopeMatch, String> {
    match text {
        "all" => Ok(ScopeMatch::All),
        "any" => Ok(ScopeMatch::Any),
        other => Err(format!("is `{other}`; use `all` or `any`")),
    }
}

/// Parses `bundled` / `system`.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_tls_roots(text: &str) -> Result<TlsRoots, String> {
    match text {
        "bundled" => Ok(TlsRoots::Bundled),
        "system" => Ok(TlsRoots::System),
        other => Err(format!(
            "is `{other}`; use `bundled` (Mozilla's roots, built in) or `system` (the OS trust store)"
        )),
    }
}

/// Parses `simple` / `policy`.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_http_api_response(text: &str) -> Result<HttpApiResponse, String> {
    match text {
        "simple" => Ok(HttpApiResponse::Simple),
        "policy" => Ok(HttpApiResponse::Policy),
        other => Err(format!("is `{other}`; use `simple` or `policy`")),
    }
}

/// Parses `stage` / `api` / `route`.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_policy_resource(text: &str) -> Result<PolicyResource, String> {
    match text {
        "stage" => Ok(PolicyResource::Stage),
        "api" => Ok(PolicyResource::Api),
        "route" => Ok(PolicyResource::Route),
        other => Err(format!(
            "is `{other}`; use `stage`, `api` or `route` (route is safe only with authorizer caching off)"
        )),
    }
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
                .any(|i: &IssuerConfig| i.issuer == spec.issuer)
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
        }
        let global = document.global.or(env.global.clone());
        let cache = CacheSettings {
            ttl: global.cache_ttl.unwrap_or(keys::DEFAULT_TTL),
            stale: global.cache_stale.unwrap_or(keys::DEFAULT_STALE),
            cooldown: global.cache_cooldown.unwrap_or(keys::DEFAULT_COOLDOWN),
            retry: global.cache_retry.unwrap_or(keys::DEFAULT_RETRY),
        };
        let http = HttpSettings {
            connect_timeout: global
                .connect_timeout
                .unwrap_or(fetch::DEFAULT_CONNECT_TIMEOUT),
            timeout: global.timeout.unwrap_or(fetch::DEFAULT_TIMEOUT),
            max_bytes: global.max_bytes.unwrap_or(fetch::DEFAULT_MAX_BYTES),
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
            routes,
            max_token_bytes: global.max_token_bytes.unwrap_or(DEFAULT_MAX_TOKEN_BYTES),
            sources: env.sources.clone(),
            warnings,
        })
    }
}

/// A document issuer's preset sits above the environment's per-issuer variables: name
/// each variable it hides, so moving from variables to a document changes nothing
/// silently.
fn hidden_by_preset(spec: &IssuerSpec, preset: Preset, env: &IssuerLayer) -> Vec<String> {
    let own = spec.layer.stated();
    let preset_states = preset.layer(&spec.audiences).stated();
    env.stated()
        .into_iter()
        .filter(|setting| preset_states.contains(setting) && !own.contains(setting))
        .map(|(variable, member)| {
            format!(
                "issuer {}: {variable} from the environment is not used: its preset {} sets it; set {member} in the document's issuer entry to change it",
                spec.issuer,
                preset.as_str()
            )
        })
        .collect()
}

/// Where an issuer's keys come from, from a `jwks_uri` (or none: discovery).
///
/// # Errors
/// A message when the URL is not an https (or loopback) URL.
pub fn key_source_for(issuer: &str, jwks_uri: Option<&str>) -> Result<KeySourceConfig, String> {
    if let Some(uri) = jwks_uri {
        let url = Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL ({e})"))?;
        check_key_url(&url)?;
        return Ok(KeySourceConfig::Uri(url));
    }
    let discovery = Url::parse(&fetch::discovery_url(issuer)).map_err(|e| {
        format!("`{issuer}` is not a URL, so its keys cannot be discovered ({e}); give a JWKS URI")
    })?;
    check_key_url(&discovery)
        .map_err(|e| format!("discovery needs https: {e}; or give a JWKS URI"))?;
    Ok(KeySourceConfig::Discovery)
}

fn key_source(env: &Env<'_>, issuer: &str) -> Result<KeySourceConfig, ConfigError> {
    let given: Vec<&str> = ["JWKS_URI", "JWKS_FILE", "JWKS_JSON"]
        .into_iter()
        .filter(|v| env.get(v).is_some())
        .collect();
    if given.len() > 1 {
        return Err(ConfigError::new(
            given[1],
            format!(
                "set only one of JWKS_URI, JWKS_FILE and JWKS_JSON (also set: {})",
                given[0]
            ),
        ));
    }
    if let Some(path) = env.get("JWKS_FILE") {
        return Ok(KeySourceConfig::File(PathBuf::from(path)));
    }
    if let Some(json) = env.get("JWKS_JSON") {
        return Ok(KeySourceConfig::Inline(json));
    }
    let uri = env.get("JWKS_URI");
    key_source_for(issuer, uri.as_deref()).map_err(|m| {
        ConfigError::new(
            if uri.is_some() {
                "JWKS_URI"
            } else {
                "TOKEN_ISSUER"
            },
            m,
        )
    })
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// A set, non-blank value, trimmed.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated list, trimmed, blanks dropped.
    fn list(&self, name: &str) -> Vec<String> {
        split_list(&self.get(name).unwrap_or_default())
    }

    /// A list separated by commas or whitespace (scopes).
    fn words(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn number(&self, name: &str, default: usize, min: usize) -> Result<usize, ConfigError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(ConfigError::new(
                name,
                format!("`{text}` is not a whole number of at least {min}"),
            )),
        }
    }

    fn seconds(&self, name: &str, default: Duration, min: u64) -> Result<Duration, ConfigError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<u64>() {
            Ok(n) if n >= min => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::new(
                name,
                format!("`{text}` is not a whole number of seconds of at least {min}"),
            )),
        }
    }

    fn millis(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Duration::from_millis(n)),
            _ => Err(ConfigError::new(
                name,
                format!("`{text}` is not a positive whole number of milliseconds"),
            )),
        }
    }

    fn optional_number(&self, name: &str, min: usize) -> Result<Option<usize>, ConfigError> {
        self.get(name)
            .map(|_| self.number(name, 0, min))
            .transpose()
    }

    fn optional_seconds(&self, name: &str, min: u64) -> Result<Option<Duration>, ConfigError> {
        self.get(name)
            .map(|_| self.seconds(name, Duration::ZERO, min))
            .transpose()
    }

    fn optional_millis(&self, name: &str) -> Result<Option<Duration>, ConfigError> {
        self.get(name)
            .map(|_| self.millis(name, Duration::ZERO))
            .transpose()
    }

    fn optional_flag(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        self.get(name).map(|_| self.flag(name, false)).transpose()
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(ConfigError::new(
                name,
                format!("`{other}` is not true or false"),
            )),
        }
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const MINIMAL: [(&str, &str); 2] = [
        ("TOKEN_ISSUER", "https://tenant.example.com/"),
        ("AUDIENCE", "https://api.example.com"),
    ];

    #[test]
    fn two_variables_are_enough_and_defaults_apply() {
        let config = load(&MINIMAL).unwrap();
        let issuer = &config.issuers[0];
        assert_eq!(issuer.issuer, "https://tenant.example.com/");
        assert_eq!(issuer.audiences, vec!["https://api.example.com"]);
        assert_eq!(issuer.keys, KeySourceConfig::Discovery);
        assert_eq!(issuer.algorithms, vec![Algorithm::RS256]);
        assert_eq!(issuer.leeway, DEFAULT_LEEWAY);
        assert_eq!(issuer.principal_claims, vec!["sub"]);
        assert_eq!(issuer.scope_claims, vec!["scope", "scp", "permissions"]);
        assert_eq!(config.cache, CacheSettings::default());
        assert_eq!(config.http, HttpSettings::default());
        assert_eq!(config.gateway.token_header, "Authorization");
        assert_eq!(config.gateway.http_api_response, HttpApiResponse::Simple);
        assert_eq!(config.gateway.policy_resource, PolicyResource::Stage);
        assert_eq!(config.max_token_bytes, DEFAULT_MAX_TOKEN_BYTES);
    }

    /// Valid but probably not meant: an issuer that does not look like its preset's, and
    /// (for a document issuer) an environment variable its preset hides.
    #[test]
    fn warnings_name_what_is_valid_but_probably_not_meant() {
        let env = EnvConfig::from_lookup(|name| match name {
            "PRINCIPAL_CLAIMS" => Some("employee_id".into()),
            "LEEWAY_SECONDS" => Some("30".into()),
            _ => None,
        })
        .unwrap();
        let document = ConfigDocument::parse(
            "doc.json",
            r#"{"issuers": [
                {"issuer": "https://dev-1.okta.com/oauth2/default", "audiences": ["api://default"], "preset": "okta"},
                {"issuer": "https://acme.us.auth0.com", "audiences": ["a"], "preset": "auth0", "principal_claims": ["nickname"]}
            ]}"#,
        )
        .unwrap();
        let config = Config::combine(&env, Some(document)).unwrap();
        assert_eq!(
            config.warnings,
            [
                "issuer https://dev-1.okta.com/oauth2/default: PRINCIPAL_CLAIMS from the environment is not used: its preset okta sets it; set principal_claims in the document's issuer entry to change it",
                "preset auth0: issuer https://acme.us.auth0.com does not look like this IdP's; its tokens carry https://{tenant}.{region}.auth0.com/ (with the trailing slash)",
            ]
        );
        // What the warnings say is what happens; LEEWAY_SECONDS, which no preset sets, applies.
        assert_eq!(config.issuers[0].principal_claims, ["uid", "sub"]);
        assert_eq!(config.issuers[1].principal_claims, ["nickname"]);
        assert_eq!(config.issuers[0].leeway, Duration::from_secs(30));

        // The issuer of TOKEN_ISSUER: the variables set beside its preset win, nothing to say.
        let config = load(&[
            ("TOKEN_ISSUER", "https://dev-1.okta.com/oauth2/default"),
            ("AUDIENCE", "api://default"),
            ("IDP_PRESET", "okta"),
            ("PRINCIPAL_CLAIMS", "employee_id"),
        ])
        .unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        assert_eq!(config.issuers[0].principal_claims, ["employee_id"]);
    }

    /// The names a warning gives are real: each variable is read by this module, each
    /// member is in the document schema's issuer.
    #[test]
    fn stated_settings_are_named_as_variables_and_document_members() {
        let all = IssuerLayer {
            audience_fallback_claim: Some(String::new()),
            algorithms: Some(Vec::new()),
            leeway: Some(Duration::ZERO),
            token_types: Some(Vec::new()),
            require_token_type: Some(true),
            principal_claims: Some(Vec::new()),
            required_scopes: Some(Vec::new()),
            scope_match: Some(ScopeMatch::All),
            scope_claims: Some(Vec::new()),
            required_claims: Some(Vec::new()),
            max_token_age: Some(Duration::ZERO),
        };
        let schema = include_str!("../config.schema.json");
        let stated = all.stated();
        assert_eq!(stated.len(), 11);
        for (variable, member) in stated {
            assert!(VARIABLES.contains(&variable), "{variable}");
            assert!(schema.contains(&format!("\"{member}\"")), "{member}");
        }
        assert!(IssuerLayer::default().stated().is_empty());
    }

    #[test]
    fn the_issuer_is_kept_exactly_as_given() {
        let with = load(&[("TOKEN_ISSUER", "https://x/"), ("AUDIENCE", "a")]).unwrap();
        let without = load(&[("TOKEN_ISSUER", "https://x"), ("AUDIENCE", "a")]).unwrap();
        assert_eq!(with.issuers[0].issuer, "https://x/");
        assert_eq!(without.issuers[0].issuer, "https://x");
    }

    #[test]
    fn issuer_and_audience_are_required() {
        assert_eq!(
            load(&[("AUDIENCE", "a")]).unwrap_err().variable,
            "TOKEN_ISSUER"
        );
        assert_eq!(
            load(&[("TOKEN_ISSUER", "https://x/")])
                .unwrap_err()
                .variable,
            "AUDIENCE"
        );
        assert_eq!(
            load(&[("TOKEN_ISSUER", "https://x/"), ("AUDIENCE", " , ")])
                .unwrap_err()
                .variable,
            "AUDIENCE"
        );
    }

    #[test]
    fn audiences_are_comma_separated() {
        let config = load(&[
            ("TOKEN_ISSUER", "https://x/"),
            ("AUDIENCE", "https://a, https://b ,"),
        ])
        .unwrap();
        assert_eq!(config.issuers[0].audiences, vec!["https://a", "https://b"]);
    }

    #[test]
    fn none_and_hmac_algorithms_fail_at_startup() {
        for bad in ["none", "RS256,none", "HS256", "RS256, HS512", "RS257", ","] {
            let err = load(&[MINIMAL[0], MINIMAL[1], ("ALLOWED_ALGORITHMS", bad)]).unwrap_err();
            assert_eq!(err.variable, "ALLOWED_ALGORITHMS", "{bad}");
        }
        let ok = load(&[
            MINIMAL[0],
            MINIMAL[1],
            ("ALLOWED_ALGORITHMS", "RS256, PS256,ES256,EdDSA,RS256"),
        ])
        .unwrap();
        assert_eq!(
            ok.issuers[0].algorithms,
            vec![
                Algorithm::RS256,
                Algorithm::PS256,
                Algorithm::ES256,
                Algorithm::EdDSA
            ]
        );
    }

    #[test]
    fn key_urls_must_be_https_unless_loopback() {
        let err = load(&[
            MINIMAL[0],
            MINIMAL[1],
            ("JWKS_URI", "http://idp.example.com/jwks"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "JWKS_URI");
        assert!(err.to_string().contains("https"), "{err}");
        let ok = load(&[
            MINIMAL[0],
            MINIMAL[1],
            ("JWKS_URI", "http://127.0.0.1:9000/jwks"),
        ])
        .unwrap();
        assert!(matches!(ok.issuers[0].keys, KeySourceConfig::Uri(_)));
        let err = load(&[
            ("TOKEN_ISSUER", "http://idp.example.com/"),
            ("AUDIENCE", "a"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "TOKEN_ISSUER");
        let err = load(&[
            MINIMAL[0],
            MINIMAL[1],
            ("JWKS_URI", "https://x/j"),
            ("JWKS_FILE", "/k.json"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "JWKS_FILE");
    }

    #[test]
    fn numbers_and_choices_are_validated_with_the_variable_named() {
        let cases = [
            ("LEEWAY_SECONDS", "-1"),
            ("LEEWAY_SECONDS", "301"),
            ("JWKS_CACHE_TTL_SECONDS", "0"),
            ("JWKS_CACHE_TTL_SECONDS", "ten"),
            ("HTTP_TIMEOUT_MS", "9000"),
            ("HTTP_CONNECT_TIMEOUT_MS", "0"),
            ("SCOPE_MATCH", "some"),
            ("HTTP_API_RESPONSE", "iam"),
            ("POLICY_RESOURCE", "method"),
            ("REQUIRE_TOKEN_TYPE", "maybe"),
            ("MAX_TOKEN_BYTES", "10"),
        ];
        for (name, value) in cases {
            let err = load(&[MINIMAL[0], MINIMAL[1], (name, value)]).unwrap_err();
            assert_eq!(err.variable, name, "{name}={value}");
        }
    }

    #[test]
    fn scopes_and_types_are_parsed() {
        let config = load(&[
            MINIMAL[0],
            MINIMAL[1],
            ("REQUIRED_SCOPES", "read:messages write:messages,admin"),
            ("SCOPE_MATCH", "any"),
            ("ALLOWED_TOKEN_TYPES", "application/at+jwt"),
            ("REQUIRE_TOKEN_TYPE", "true"),
            ("CONTEXT_CLAIMS", "sub, scope"),
        ])
        .unwrap();
        let issuer = &config.issuers[0];
        assert_eq!(
            issuer.required_scopes,
            vec!["read:messages", "write:messages", "admin"]
        );
        assert_eq!(issuer.scope_match, ScopeMatch::Any);
        assert!(issuer.token_types.accepts(Some("AT+JWT")));
        assert!(issuer.token_types.accepts(Some("Application/at+JWT")));
        assert!(!issuer.token_types.accepts(Some("application-at+jwt")));
        assert!(!issuer.token_types.accepts(Some("application/")));
        assert!(!issuer.token_types.accepts(Some("é+jwt")));
        assert_eq!(TokenTypes::normalise("APPLICATION/At+Jwt"), "at+jwt");
        assert!(!issuer.token_types.accepts(Some("JWT")));
        assert!(!issuer.token_types.accepts(None));
        assert_eq!(
            config.gateway.context.claims,
            Some(vec!["sub".to_owned(), "scope".to_owned()])
        );
    }
}
