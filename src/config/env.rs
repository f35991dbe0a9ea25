//! What the environment says, read once through a lookup function (the process
//! environment; a map in tests), before any document is combined with it.

use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::layers::{GlobalLayer, IssuerLayer};
use super::parse::{
    OpaqueParts, key_source_for, opaque_settings, parse_algorithms, parse_http_api_response,
    parse_policy_resource, parse_public_base_url, parse_scope_match, parse_sender_constraint,
    parse_tls_roots, split_list,
};
use super::presets::Preset;
use super::spec::IssuerSpec;
use crate::settings::cedar::DEFAULT_GROUP_CLAIM;
use crate::settings::dpop::MAX_DPOP_MAX_AGE;
use crate::settings::gateway::MAX_APPSYNC_TTL_SECONDS;
use crate::settings::http::MAX_HTTP_TIMEOUT;
use crate::settings::issuer::MAX_LEEWAY;
use crate::settings::keys::MAX_STALE;
use crate::settings::metrics::{MetricsSettings, check_namespace};
use crate::settings::{CedarSettings, CedarText, IssuerSource, KeySource};

/// Where configuration and key snapshots live besides the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources {
    /// `CONFIG_PARAMETER`: an SSM parameter holding the JSON configuration document.
    pub config_parameter: Option<String>,
    /// `CONFIG_TTL_SECONDS`: how often the document is re-read.
    pub config_ttl: Duration,
    /// `JWKS_SNAPSHOT_PARAMETER`: an SSM path under which last-known-good key sets are kept.
    pub jwks_snapshot: Option<String>,
    /// `CEDAR_PARAMETER`: an SSM parameter holding the Cedar policies and schema
    /// (`{"policies", "schema"}`, as `authorization.cedar` in a document), re-read with
    /// the document every `CONFIG_TTL_SECONDS`.
    pub cedar_parameter: Option<String>,
}

/// Default for `CONFIG_TTL_SECONDS`: the document is re-read every 5 minutes.
pub(crate) const DEFAULT_CONFIG_TTL: Duration = Duration::from_secs(300);

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
    pub metrics: MetricsSettings,
}

impl EnvConfig {
    /// Where metrics go: `METRICS`, `METRICS_NAMESPACE` and the function's name.
    #[must_use]
    pub fn metrics(&self) -> &MetricsSettings {
        &self.metrics
    }

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
            sender_constraint: match env.get("SENDER_CONSTRAINT").as_deref() {
                None => None,
                Some(text) => Some(
                    parse_sender_constraint(text)
                        .map_err(|m| ConfigError::new("SENDER_CONSTRAINT", m))?,
                ),
            },
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
                    source: IssuerSource::Environment,
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
            appsync_ttl: match env.optional_seconds("APPSYNC_TTL_SECONDS", 0)? {
                Some(ttl) if ttl.as_secs() > u64::from(MAX_APPSYNC_TTL_SECONDS) => {
                    return Err(ConfigError::new(
                        "APPSYNC_TTL_SECONDS",
                        format!("is at most {MAX_APPSYNC_TTL_SECONDS} (AppSync's own bound)"),
                    ));
                }
                ttl => ttl.map(|t| u32::try_from(t.as_secs()).unwrap_or(MAX_APPSYNC_TTL_SECONDS)),
            },
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
            public_base_url: match env.get("PUBLIC_BASE_URL") {
                None => None,
                Some(text) => Some(
                    parse_public_base_url(&text)
                        .map_err(|m| ConfigError::new("PUBLIC_BASE_URL", m))?,
                ),
            },
            dpop_algorithms: match env.get("DPOP_ALGORITHMS") {
                None => None,
                Some(_) => Some(
                    parse_algorithms(&env.list("DPOP_ALGORITHMS"))
                        .map_err(|m| ConfigError::new("DPOP_ALGORITHMS", m))?,
                ),
            },
            dpop_max_age: match env.optional_seconds("DPOP_MAX_AGE_SECONDS", 1)? {
                Some(age) if age > MAX_DPOP_MAX_AGE => {
                    return Err(ConfigError::new(
                        "DPOP_MAX_AGE_SECONDS",
                        format!(
                            "is at most {} (a proof is made for one request, just before it)",
                            MAX_DPOP_MAX_AGE.as_secs()
                        ),
                    ));
                }
                age => age,
            },
            dpop_replay_table: env.get("DPOP_REPLAY_TABLE"),
            dpop_replay_capacity: env.optional_number("DPOP_REPLAY_CAPACITY", 1024)?,
            cedar: cedar_files(&env)?,
        };
        if global.cache_stale.is_some_and(|s| s > MAX_STALE) {
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
            cedar_parameter: env.get("CEDAR_PARAMETER"),
            config_ttl: env
                .optional_seconds("CONFIG_TTL_SECONDS", 1)?
                .unwrap_or(DEFAULT_CONFIG_TTL),
            jwks_snapshot: env
                .get("JWKS_SNAPSHOT_PARAMETER")
                .map(|p| p.trim_end_matches('/').to_owned()),
        };
        if sources.cedar_parameter.is_some() && global.cedar.is_some() {
            return Err(ConfigError::new(
                "CEDAR_PARAMETER",
                "and CEDAR_POLICIES_FILE both name Cedar policies: keep one",
            ));
        }
        let defaults = MetricsSettings::default();
        let metrics = MetricsSettings {
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
                    check_namespace(&namespace)
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

fn preset_names() -> String {
    Preset::ALL.map(|(name, _)| name).join(", ")
}

fn key_source(env: &Env<'_>, issuer: &str) -> Result<KeySource, ConfigError> {
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
        return Ok(KeySource::File(PathBuf::from(path)));
    }
    if let Some(json) = env.get("JWKS_JSON") {
        return Ok(KeySource::Inline(json));
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

/// `CEDAR_POLICIES_FILE` with `CEDAR_SCHEMA_FILE` (both, or neither), `CEDAR_GROUP_CLAIM`,
/// `CEDAR_NAMESPACE` and `CEDAR_SEAL`. The files are read when the authorizer is built.
fn cedar_files(env: &Env<'_>) -> Result<Option<CedarSettings>, ConfigError> {
    let policies = env.get("CEDAR_POLICIES_FILE");
    let schema = env.get("CEDAR_SCHEMA_FILE");
    let (policies, schema) = match (policies, schema) {
        (None, None) => {
            for name in ["CEDAR_GROUP_CLAIM", "CEDAR_NAMESPACE"] {
                if env.get(name).is_some() {
                    return Err(ConfigError::new(
                        name,
                        "names how Cedar entities are built, but no Cedar policies are configured (CEDAR_POLICIES_FILE and CEDAR_SCHEMA_FILE, or authorization.cedar in the document)",
                    ));
                }
            }
            if env.get("CEDAR_SEAL").is_some() {
                return Err(ConfigError::new(
                    "CEDAR_SEAL",
                    "is the seal of CEDAR_POLICIES_FILE and CEDAR_SCHEMA_FILE, which are not set (a set in the document or in CEDAR_PARAMETER carries its seal beside its policies, as `seal`)",
                ));
            }
            return Ok(None);
        }
        (Some(policies), Some(schema)) => (policies, schema),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "CEDAR_SCHEMA_FILE",
                "is needed beside CEDAR_POLICIES_FILE: policies are validated against their schema",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "CEDAR_POLICIES_FILE",
                "is needed beside CEDAR_SCHEMA_FILE",
            ));
        }
    };
    Ok(Some(CedarSettings {
        origin: format!("CEDAR_POLICIES_FILE {policies}"),
        policies: CedarText::File(policies.into()),
        schema: CedarText::File(schema.into()),
        group_claim: env
            .get("CEDAR_GROUP_CLAIM")
            .unwrap_or_else(|| DEFAULT_GROUP_CLAIM.to_owned()),
        namespace: env.get("CEDAR_NAMESPACE"),
        seal: env.get("CEDAR_SEAL"),
    }))
}
