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
use crate::fetch::{self, HttpSettings, check_key_url};
use crate::keys::{self, CacheSettings};
use crate::token::DEFAULT_MAX_TOKEN_BYTES;

/// Default for `LEEWAY_SECONDS`: 60 s of clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Largest accepted `LEEWAY_SECONDS`: 5 minutes. More would quietly extend every token.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Default for `ALLOWED_ALGORITHMS`: what Auth0, Cognito, Okta, Keycloak and Entra ID sign with.
pub const DEFAULT_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];

/// Default for `AUDIENCE_CLAIM`: the registered audience claim.
pub const DEFAULT_AUDIENCE_CLAIM: &str = "aud";

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
pub const VARIABLES: [&str; 30] = [
    "TOKEN_ISSUER",
    "AUDIENCE",
    "AUDIENCE_CLAIM",
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
    /// Tokens longer than this are refused before decoding.
    pub max_token_bytes: usize,
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
        let lower = typ.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map_or(lower.clone(), str::to_owned)
    }

    /// Whether a header `typ` is acceptable.
    #[must_use]
    pub fn accepts(&self, typ: Option<&str>) -> bool {
        match typ {
            None => !self.required,
            Some(t) => self.allowed.contains(&Self::normalise(t)),
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
    /// The claim holding the audience: `aud`, or `client_id` (Cognito access tokens),
    /// `azp` (Keycloak), `cid` (Okta).
    pub audience_claim: String,
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

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (an environment, a map in tests).
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let issuer = env
            .get("TOKEN_ISSUER")
            .ok_or_else(|| ConfigError::new("TOKEN_ISSUER", "is required: the exact iss of your access tokens, e.g. https://your-tenant.us.auth0.com/"))?;
        let audiences = env.list("AUDIENCE");
        if audiences.is_empty() {
            return Err(ConfigError::new(
                "AUDIENCE",
                "is required: your API identifier (comma-separate several); there is no accept-any-audience mode",
            ));
        }
        let keys = key_source(&env, &issuer)?;
        let algorithms = if env.get("ALLOWED_ALGORITHMS").is_none() {
            DEFAULT_ALGORITHMS.to_vec()
        } else {
            let mut algs = Vec::new();
            for name in env.list("ALLOWED_ALGORITHMS") {
                let alg = parse_configured(&name)
                    .map_err(|e| ConfigError::new("ALLOWED_ALGORITHMS", e.to_string()))?;
                if !algs.contains(&alg) {
                    algs.push(alg);
                }
            }
            if algs.is_empty() {
                return Err(ConfigError::new("ALLOWED_ALGORITHMS", "is empty"));
            }
            algs
        };
        let leeway = env.seconds("LEEWAY_SECONDS", DEFAULT_LEEWAY, 0)?;
        if leeway > MAX_LEEWAY {
            return Err(ConfigError::new(
                "LEEWAY_SECONDS",
                format!("is at most {} seconds", MAX_LEEWAY.as_secs()),
            ));
        }
        let token_types = TokenTypes {
            allowed: env
                .list_or("ALLOWED_TOKEN_TYPES", DEFAULT_TOKEN_TYPES)
                .iter()
                .map(|t| TokenTypes::normalise(t))
                .collect(),
            required: env.flag("REQUIRE_TOKEN_TYPE", false)?,
        };
        let scope_match = match env.get("SCOPE_MATCH").as_deref() {
            None | Some("all") => ScopeMatch::All,
            Some("any") => ScopeMatch::Any,
            Some(other) => {
                return Err(ConfigError::new(
                    "SCOPE_MATCH",
                    format!("is `{other}`; use `all` or `any`"),
                ));
            }
        };
        let principal_claims = env.list_or("PRINCIPAL_CLAIMS", DEFAULT_PRINCIPAL_CLAIMS);
        let max_token_age = match env.get("MAX_TOKEN_AGE_SECONDS") {
            None => None,
            Some(_) => Some(env.seconds("MAX_TOKEN_AGE_SECONDS", Duration::ZERO, 1)?),
        };
        let issuer_config = IssuerConfig {
            issuer,
            audiences,
            audience_claim: env
                .get("AUDIENCE_CLAIM")
                .unwrap_or_else(|| DEFAULT_AUDIENCE_CLAIM.to_owned()),
            keys,
            algorithms,
            leeway,
            token_types,
            principal_claims,
            required_scopes: env.words("REQUIRED_SCOPES"),
            scope_match,
            scope_claims: env.list_or("SCOPE_CLAIMS", DEFAULT_SCOPE_CLAIMS),
            required_claims: env.list("REQUIRED_CLAIMS"),
            max_token_age,
        };

        let cache = CacheSettings {
            ttl: env.seconds("JWKS_CACHE_TTL_SECONDS", keys::DEFAULT_TTL, 1)?,
            stale: env.seconds("JWKS_STALE_SECONDS", keys::DEFAULT_STALE, 0)?,
            cooldown: env.seconds("JWKS_COOLDOWN_SECONDS", keys::DEFAULT_COOLDOWN, 1)?,
            retry: env.seconds("JWKS_RETRY_SECONDS", keys::DEFAULT_RETRY, 1)?,
        };
        let http = HttpSettings {
            connect_timeout: env
                .millis("HTTP_CONNECT_TIMEOUT_MS", fetch::DEFAULT_CONNECT_TIMEOUT)?,
            timeout: env.millis("HTTP_TIMEOUT_MS", fetch::DEFAULT_TIMEOUT)?,
            max_bytes: env.number("JWKS_MAX_BYTES", fetch::DEFAULT_MAX_BYTES, 1024)?,
        };
        if http.timeout > Duration::from_secs(8) {
            return Err(ConfigError::new(
                "HTTP_TIMEOUT_MS",
                "is at most 8000: API Gateway gives an authorizer 10 s in all",
            ));
        }
        let gateway = GatewaySettings {
            token_header: env
                .get("TOKEN_HEADER")
                .unwrap_or_else(|| DEFAULT_TOKEN_HEADER.to_owned()),
            token_query: env.get("TOKEN_QUERY_PARAM"),
            http_api_response: match env.get("HTTP_API_RESPONSE").as_deref() {
                None | Some("simple") => HttpApiResponse::Simple,
                Some("policy") => HttpApiResponse::Policy,
                Some(other) => {
                    return Err(ConfigError::new(
                        "HTTP_API_RESPONSE",
                        format!("is `{other}`; use `simple` or `policy`"),
                    ));
                }
            },
            policy_resource: match env.get("POLICY_RESOURCE").as_deref() {
                None | Some("stage") => PolicyResource::Stage,
                Some("api") => PolicyResource::Api,
                Some("route") => PolicyResource::Route,
                Some(other) => {
                    return Err(ConfigError::new(
                        "POLICY_RESOURCE",
                        format!(
                            "is `{other}`; use `stage`, `api` or `route` (route is safe only with authorizer caching off)"
                        ),
                    ));
                }
            },
            context: ContextSettings {
                claims: match env.get("CONTEXT_CLAIMS").as_deref() {
                    None | Some("*") => None,
                    Some(_) => Some(env.list("CONTEXT_CLAIMS")),
                },
                max_bytes: env.number("CONTEXT_MAX_BYTES", DEFAULT_CONTEXT_MAX_BYTES, 256)?,
            },
        };
        Ok(Config {
            issuers: vec![issuer_config],
            cache,
            http,
            gateway,
            max_token_bytes: env.number("MAX_TOKEN_BYTES", DEFAULT_MAX_TOKEN_BYTES, 256)?,
        })
    }
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
    if let Some(uri) = env.get("JWKS_URI") {
        let url = Url::parse(&uri)
            .map_err(|e| ConfigError::new("JWKS_URI", format!("`{uri}` is not a URL ({e})")))?;
        check_key_url(&url).map_err(|e| ConfigError::new("JWKS_URI", e))?;
        return Ok(KeySourceConfig::Uri(url));
    }
    if let Some(path) = env.get("JWKS_FILE") {
        return Ok(KeySourceConfig::File(PathBuf::from(path)));
    }
    if let Some(json) = env.get("JWKS_JSON") {
        return Ok(KeySourceConfig::Inline(json));
    }
    let discovery = Url::parse(&fetch::discovery_url(issuer)).map_err(|e| {
        ConfigError::new(
            "TOKEN_ISSUER",
            format!(
                "`{issuer}` is not a URL, so its keys cannot be discovered ({e}); set JWKS_URI"
            ),
        )
    })?;
    check_key_url(&discovery).map_err(|e| {
        ConfigError::new(
            "TOKEN_ISSUER",
            format!("discovery needs https: {e}; or set JWKS_URI"),
        )
    })?;
    Ok(KeySourceConfig::Discovery)
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

    fn list_or(&self, name: &str, default: &str) -> Vec<String> {
        split_list(&self.get(name).unwrap_or_else(|| default.to_owned()))
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
        assert!(!issuer.token_types.accepts(Some("JWT")));
        assert!(!issuer.token_types.accepts(None));
        assert_eq!(
            config.gateway.context.claims,
            Some(vec!["sub".to_owned(), "scope".to_owned()])
        );
    }
}
