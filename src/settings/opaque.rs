//! How an issuer's opaque tokens are validated: asking its userinfo or introspection endpoint.

use std::time::Duration;

use url::Url;

use super::http::ClientAuth;

/// Default for `OPAQUE_CACHE_SECONDS`: answers are reused for a minute.
pub const DEFAULT_CACHE: Duration = Duration::from_secs(60);

/// Largest `OPAQUE_CACHE_SECONDS`: a revoked opaque token stops working within 5 minutes.
pub const MAX_CACHE: Duration = Duration::from_secs(300);

/// How opaque tokens are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpaqueMode {
    /// `GET userinfo` with the token as bearer: 200 and a `sub` mean valid.
    Userinfo,
    /// RFC 7662 `POST introspection` with client credentials: `active: true` means valid.
    Introspection,
}

impl OpaqueMode {
    /// The name in configuration and logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OpaqueMode::Userinfo => "userinfo",
            OpaqueMode::Introspection => "introspection",
        }
    }

    /// The discovery member naming the endpoint.
    #[must_use]
    pub const fn discovery_member(self) -> &'static str {
        match self {
            OpaqueMode::Userinfo => "userinfo_endpoint",
            OpaqueMode::Introspection => "introspection_endpoint",
        }
    }
}

/// Whether an answer must name this API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpaqueAudience {
    /// The answer's `aud` (or `AUDIENCE_FALLBACK_CLAIM`) must name one of `AUDIENCE`; an
    /// answer without one is refused (`wrong_audience`).
    Enforce,
    /// Answers without an audience are accepted: any valid token of the provider passes.
    /// A deliberate choice (userinfo answers never carry `aud`).
    Unbound,
}

/// An issuer's opaque-token settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueSettings {
    /// How.
    pub mode: OpaqueMode,
    /// The endpoint; `None`: from the issuer's discovery document.
    pub endpoint: Option<Url>,
    /// The introspection client's id.
    pub client_id: Option<String>,
    /// The SSM parameter (`SecureString`) holding the introspection client's secret.
    pub client_secret_parameter: Option<String>,
    /// How the introspection client authenticates.
    pub client_auth: ClientAuth,
    /// How long an answer is reused (0: never).
    pub cache_ttl: Duration,
    /// Whether answers must name this API.
    pub audience: OpaqueAudience,
}
