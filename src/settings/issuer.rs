//! One issuer's validated rules: which tokens it signs, for whom, and what they must
//! carry. What the verifier and the decision read; built by `config` from its sources.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::algorithm::Algorithm;
use super::opaque::OpaqueSettings;

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
    /// How its opaque tokens are validated; `None`: they are refused (`opaque_token`).
    pub opaque: Option<OpaqueSettings>,
}
