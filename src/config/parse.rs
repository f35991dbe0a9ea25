//! Values as the environment and the document spell them, parsed and checked: algorithm
//! lists, choices, key sources, opaque-token settings.

use std::time::Duration;

use url::Url;

use crate::http::{check_key_url, discovery_url};
use crate::settings::http::ClientAuth;
use crate::settings::opaque::{self, OpaqueAudience, OpaqueMode, OpaqueSettings};
use crate::settings::{
    Algorithm, HttpApiResponse, KeySource, PolicyResource, ScopeMatch, SenderConstraint, TlsRoots,
    algorithm::parse_configured,
};

/// Parses algorithm names, refusing `none`, `HS*` and unknown names.
///
/// # Errors
/// The message for the first bad name, or for an empty list.
pub(crate) fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
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
pub(crate) fn parse_scope_match(text: &str) -> Result<ScopeMatch, String> {
    match text {
        "all" => Ok(ScopeMatch::All),
        "any" => Ok(ScopeMatch::Any),
        other => Err(format!("is `{other}`; use `all` or `any`")),
    }
}

/// Parses `off` / `allow` / `require`.
///
/// # Errors
/// A message naming the accepted values.
pub(crate) fn parse_sender_constraint(text: &str) -> Result<SenderConstraint, String> {
    match text {
        "off" => Ok(SenderConstraint::Off),
        "allow" => Ok(SenderConstraint::Allow),
        "require" => Ok(SenderConstraint::Require),
        other => Err(format!("is `{other}`; use `off`, `allow` or `require`")),
    }
}

/// Parses `PUBLIC_BASE_URL`: an absolute `https` URL without query or fragment, kept as
/// written but for a trailing `/`.
///
/// # Errors
/// A message saying what is wrong.
pub(crate) fn parse_public_base_url(text: &str) -> Result<String, String> {
    let url = Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!(
            "is a {} URL; it must be the https URL clients call",
            url.scheme()
        ));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(
            "must be scheme, host and optional base path (https://api.example.com/v1), no query or fragment"
                .to_owned(),
        );
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Parses `bundled` / `system`.
///
/// # Errors
/// A message naming the accepted values.
pub(crate) fn parse_tls_roots(text: &str) -> Result<TlsRoots, String> {
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
pub(crate) fn parse_http_api_response(text: &str) -> Result<HttpApiResponse, String> {
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
pub(crate) fn parse_policy_resource(text: &str) -> Result<PolicyResource, String> {
    match text {
        "stage" => Ok(PolicyResource::Stage),
        "api" => Ok(PolicyResource::Api),
        "route" => Ok(PolicyResource::Route),
        other => Err(format!(
            "is `{other}`; use `stage`, `api` or `route` (route is safe only with authorizer caching off)"
        )),
    }
}

/// Where an issuer's keys come from, from a `jwks_uri` (or none: discovery).
///
/// # Errors
/// A message when the URL is not an https (or loopback) URL.
pub(crate) fn key_source_for(issuer: &str, jwks_uri: Option<&str>) -> Result<KeySource, String> {
    if let Some(uri) = jwks_uri {
        let url = Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL ({e})"))?;
        check_key_url(&url)?;
        return Ok(KeySource::Uri(url));
    }
    let discovery = Url::parse(&discovery_url(issuer)).map_err(|e| {
        format!("`{issuer}` is not a URL, so its keys cannot be discovered ({e}); give a JWKS URI")
    })?;
    check_key_url(&discovery)
        .map_err(|e| format!("discovery needs https: {e}; or give a JWKS URI"))?;
    Ok(KeySource::Discovery)
}

/// Opaque-token settings as a source (environment or document) states them.
#[derive(Debug, Default)]
pub(crate) struct OpaqueParts<'a> {
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
pub(crate) fn opaque_settings(
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

pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
