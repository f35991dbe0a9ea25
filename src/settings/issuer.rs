//! One issuer's validated rules: which tokens it signs, for whom, and what they must
//! carry. What the verifier and the decision read; built by `config` from its sources.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::algorithm::Algorithm;
use super::opaque::OpaqueSettings;
use super::preset::Preset;

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

/// Default for `MAX_TOKEN_BYTES`: 16 KiB. API Gateway caps request line plus headers at
/// 10 KiB, so no genuine bearer token is larger; anything bigger is refused before any
/// base64 or JSON work.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
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

/// Whether tokens must be bound to a key or certificate the client proves it holds
/// (`SENDER_CONSTRAINT`): RFC 8705 certificate-bound tokens so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SenderConstraint {
    /// Bindings are not checked (a token's `cnf` is ignored).
    #[default]
    Off,
    /// A bound token must come with what it is bound to; an unbound token still passes.
    Allow,
    /// Only bound tokens pass, each with what it is bound to.
    Require,
}

impl SenderConstraint {
    /// Its name in the configuration.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SenderConstraint::Off => "off",
            SenderConstraint::Allow => "allow",
            SenderConstraint::Require => "require",
        }
    }
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
pub struct IssuerSettings {
    /// The exact `iss` value.
    pub issuer: String,
    /// Accepted audiences; the token's audience claim must contain one.
    pub audiences: Vec<String>,
    /// The claim compared with `audiences` when a token has no `aud` at all (Cognito
    /// access tokens carry `client_id` instead). A token with `aud` is always judged by it.
    pub audience_fallback_claim: Option<String>,
    /// Where its keys come from.
    pub keys: KeySource,
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
    /// Whether its tokens must be bound to the client's certificate.
    pub sender_constraint: SenderConstraint,
    /// How its opaque tokens are validated; `None`: they are refused (`opaque_token`).
    pub opaque: Option<OpaqueSettings>,
    /// Its identity provider, when a preset names it: refusals advise in its terms.
    pub preset: Option<Preset>,
    /// Where its settings are written: refusals name them as written there.
    pub source: IssuerSource,
}

/// Where an issuer's settings are written, and so what a hint calls them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssuerSource {
    /// `TOKEN_ISSUER`, `AUDIENCE` and the variables set beside them.
    #[default]
    Environment,
    /// An entry of a configuration document's `issuers`.
    Document {
        /// Its position in `issuers`.
        index: usize,
    },
}

/// A per-issuer setting a refusal's hint may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `TOKEN_ISSUER` / `issuer`.
    Issuer,
    /// `AUDIENCE` / `audiences`.
    Audiences,
    /// `ALLOWED_ALGORITHMS` / `algorithms`.
    Algorithms,
    /// `REQUIRED_SCOPES` / `required_scopes`.
    RequiredScopes,
    /// `PRINCIPAL_CLAIMS` / `principal_claims`.
    PrincipalClaims,
    /// `REQUIRED_CLAIMS` / `required_claims`.
    RequiredClaims,
    /// `MAX_TOKEN_AGE_SECONDS` / `max_token_age_seconds`.
    MaxTokenAge,
    /// `REQUIRE_TOKEN_TYPE` / `require_token_type`.
    RequireTokenType,
    /// `JWKS_URI` / `jwks_uri`.
    JwksUri,
    /// `OPAQUE_ENDPOINT` / `opaque_tokens.endpoint`.
    OpaqueEndpoint,
    /// `OPAQUE_AUDIENCE` / `opaque_tokens.audience`.
    OpaqueAudience,
}

impl Setting {
    /// Its environment variable.
    #[must_use]
    pub const fn variable(self) -> &'static str {
        match self {
            Setting::Issuer => "TOKEN_ISSUER",
            Setting::Audiences => "AUDIENCE",
            Setting::Algorithms => "ALLOWED_ALGORITHMS",
            Setting::RequiredScopes => "REQUIRED_SCOPES",
            Setting::PrincipalClaims => "PRINCIPAL_CLAIMS",
            Setting::RequiredClaims => "REQUIRED_CLAIMS",
            Setting::MaxTokenAge => "MAX_TOKEN_AGE_SECONDS",
            Setting::RequireTokenType => "REQUIRE_TOKEN_TYPE",
            Setting::JwksUri => "JWKS_URI",
            Setting::OpaqueEndpoint => "OPAQUE_ENDPOINT",
            Setting::OpaqueAudience => "OPAQUE_AUDIENCE",
        }
    }

    /// Its member in a document's issuer entry.
    #[must_use]
    pub const fn member(self) -> &'static str {
        match self {
            Setting::Issuer => "issuer",
            Setting::Audiences => "audiences",
            Setting::Algorithms => "algorithms",
            Setting::RequiredScopes => "required_scopes",
            Setting::PrincipalClaims => "principal_claims",
            Setting::RequiredClaims => "required_claims",
            Setting::MaxTokenAge => "max_token_age_seconds",
            Setting::RequireTokenType => "require_token_type",
            Setting::JwksUri => "jwks_uri",
            Setting::OpaqueEndpoint => "opaque_tokens.endpoint",
            Setting::OpaqueAudience => "opaque_tokens.audience",
        }
    }
}

impl IssuerSource {
    /// What `setting` is called where this issuer is written: `AUDIENCE`, or
    /// `issuers[1].audiences`.
    #[must_use]
    pub fn name(self, setting: Setting) -> Cow<'static, str> {
        match self {
            IssuerSource::Environment => Cow::Borrowed(setting.variable()),
            IssuerSource::Document { index } => {
                Cow::Owned(format!("issuers[{index}].{}", setting.member()))
            }
        }
    }
}

impl IssuerSettings {
    /// An issuer as the defaults make it (`https://idp.example.com/` for
    /// `https://api.example.com`, discovery, RS256), for unit tests.
    #[cfg(test)]
    pub(crate) fn example() -> IssuerSettings {
        IssuerSettings {
            issuer: "https://idp.example.com/".into(),
            audiences: vec!["https://api.example.com".into()],
            audience_fallback_claim: None,
            keys: KeySource::Discovery,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            token_types: TokenTypes {
                allowed: vec!["at+jwt".into(), "jwt".into()],
                required: false,
            },
            principal_claims: vec![DEFAULT_PRINCIPAL_CLAIMS.into()],
            required_scopes: vec![],
            scope_match: ScopeMatch::All,
            scope_claims: vec!["scope".into()],
            required_claims: vec![],
            max_token_age: None,
            sender_constraint: SenderConstraint::Off,
            opaque: None,
            preset: None,
            source: IssuerSource::Environment,
        }
    }

    /// What `setting` is called where this issuer is written (see [`IssuerSource::name`]).
    #[must_use]
    pub fn name(&self, setting: Setting) -> Cow<'static, str> {
        self.source.name(setting)
    }
}
