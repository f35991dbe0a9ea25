//! Every reason a request is not allowed, each with a stable code and the fix a user needs.
//!
//! The codes are part of the product: they appear in the decision log line, in the
//! README's reason table and (later) in metrics. Never rename one; add a new variant.

use std::borrow::Cow;
use std::fmt;

/// What API Gateway makes of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Allow policy (or `isAuthorized: true`): the request reaches the backend.
    Allow,
    /// The token is missing, malformed or invalid: Lambda error `Unauthorized` → HTTP 401.
    Unauthorized,
    /// The token is valid but lacks a permission: explicit Deny policy → HTTP 403.
    Deny,
    /// A dependency failed (keys unavailable, event not understood): a Lambda error whose
    /// message is not `Unauthorized` → HTTP 500, and API Gateway does not cache it.
    Error,
}

impl Outcome {
    /// The lowercase name used in logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Deny => "deny",
            Outcome::Error => "error",
        }
    }
}

/// Why a request was refused. One variant per log code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No credential, or not in the `Bearer <token>` form.
    MissingToken,
    /// Longer than `MAX_TOKEN_BYTES`; refused before any decoding.
    TokenTooLarge,
    /// No dots at all: an opaque (reference) token, not a JWT.
    OpaqueToken,
    /// Five segments: an encrypted JWE, not a signed JWS.
    EncryptedToken,
    /// Not a well-formed compact JWS (segments, base64url, JSON, duplicate members).
    MalformedToken,
    /// A header this verifier must not ignore: `crit`, `b64: false`, nested `cty: JWT`.
    UnsupportedHeader,
    /// `alg` missing, `none`, symmetric, unknown or not in `ALLOWED_ALGORITHMS`.
    AlgorithmNotAllowed,
    /// `typ` is not an access-token type (e.g. an ID token or a logout token).
    WrongTokenType,
    /// `iss` missing, not a string, or not the configured issuer.
    WrongIssuer,
    /// No key in the issuer's JWKS has the token's `kid` (after the allowed refetch).
    UnknownKey,
    /// Several keys fit (a duplicate `kid`, or no `kid` and several candidates).
    AmbiguousKey,
    /// The key with this `kid` is for another algorithm or key type.
    KeyAlgorithmMismatch,
    /// The signature does not verify.
    InvalidSignature,
    /// An `OpenID` Connect ID token sent where an access token belongs.
    IdToken,
    /// `aud` missing, malformed, or naming none of the accepted audiences.
    WrongAudience,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `iat` is older than `MAX_TOKEN_AGE_SECONDS`.
    TokenTooOld,
    /// A required claim is absent (`exp`, a `REQUIRED_CLAIMS` entry, or every principal claim).
    MissingClaim,
    /// A claim has the wrong JSON type (e.g. a string `nbf`).
    InvalidClaim,
    /// Valid token without the required scopes or permissions.
    InsufficientScope,
    /// Valid token whose claim does not meet a route rule (e.g. another tenant's path).
    ClaimMismatch,
    /// No route rule covers the called route and `routes.default` is `deny`.
    RouteNotAllowed,
    /// The Cedar policies do not permit this action (no `permit` applies, or a `forbid`
    /// does), or the route is no action of the Cedar schema.
    PolicyDenied,
    /// The issuer's keys could not be obtained and no usable cached copy exists.
    JwksUnavailable,
    /// The identity provider says an opaque token is not valid (userinfo 401/403, or
    /// introspection `active: false`).
    TokenInactive,
    /// The userinfo or introspection endpoint could not be asked about an opaque token.
    IntrospectionUnavailable,
    /// The Lambda event is not an API Gateway authorizer event this function understands.
    UnrecognisedEvent,
    /// A certificate-bound token (`cnf.x5t#S256`) without a client certificate.
    CertificateMissing,
    /// A certificate-bound token with another client certificate than the one it is bound to.
    CertificateMismatch,
    /// `SENDER_CONSTRAINT=require` and the token is bound to nothing.
    TokenNotBound,
    /// A DPoP-bound token (`cnf.jkt`) sent as a bearer token, without its proof.
    BoundTokenAsBearer,
    /// `Authorization: DPoP` without a `DPoP` proof header.
    MissingProof,
    /// The DPoP proof is not one valid proof: framing, `typ`, `alg`, `jwk`, signature,
    /// `iat`, `jti`, or several `DPoP` headers.
    InvalidProof,
    /// The proof was made for another request: its `htm` or `htu`.
    ProofRequestMismatch,
    /// The proof was made for another access token: its `ath`.
    ProofTokenMismatch,
    /// The proof is signed by another key than the one the token is bound to (`cnf.jkt`).
    ProofKeyMismatch,
    /// The proof's `jti` was already used: a replayed request.
    ProofReplayed,
    /// The shared replay store (`DPOP_REPLAY_TABLE`) could not be asked: fails closed.
    ReplayStoreUnavailable,
}

impl Reason {
    /// Every reason, for the README table and its test.
    pub const ALL: [Reason; 40] = [
        Reason::MissingToken,
        Reason::TokenTooLarge,
        Reason::OpaqueToken,
        Reason::EncryptedToken,
        Reason::MalformedToken,
        Reason::UnsupportedHeader,
        Reason::AlgorithmNotAllowed,
        Reason::WrongTokenType,
        Reason::WrongIssuer,
        Reason::UnknownKey,
        Reason::AmbiguousKey,
        Reason::KeyAlgorithmMismatch,
        Reason::InvalidSignature,
        Reason::IdToken,
        Reason::WrongAudience,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::IssuedInFuture,
        Reason::TokenTooOld,
        Reason::MissingClaim,
        Reason::InvalidClaim,
        Reason::InsufficientScope,
        Reason::ClaimMismatch,
        Reason::RouteNotAllowed,
        Reason::PolicyDenied,
        Reason::JwksUnavailable,
        Reason::TokenInactive,
        Reason::IntrospectionUnavailable,
        Reason::UnrecognisedEvent,
        Reason::CertificateMissing,
        Reason::CertificateMismatch,
        Reason::TokenNotBound,
        Reason::BoundTokenAsBearer,
        Reason::MissingProof,
        Reason::InvalidProof,
        Reason::ProofRequestMismatch,
        Reason::ProofTokenMismatch,
        Reason::ProofKeyMismatch,
        Reason::ProofReplayed,
        Reason::ReplayStoreUnavailable,
    ];

    /// The stable code written to logs.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::TokenTooLarge => "token_too_large",
            Reason::OpaqueToken => "opaque_token",
            Reason::EncryptedToken => "encrypted_token",
            Reason::MalformedToken => "malformed_token",
            Reason::UnsupportedHeader => "unsupported_header",
            Reason::AlgorithmNotAllowed => "algorithm_not_allowed",
            Reason::WrongTokenType => "wrong_token_type",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::UnknownKey => "unknown_kid",
            Reason::AmbiguousKey => "ambiguous_key",
            Reason::KeyAlgorithmMismatch => "key_algorithm_mismatch",
            Reason::InvalidSignature => "invalid_signature",
            Reason::IdToken => "id_token",
            Reason::WrongAudience => "wrong_audience",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::IssuedInFuture => "issued_in_future",
            Reason::TokenTooOld => "token_too_old",
            Reason::MissingClaim => "missing_claim",
            Reason::InvalidClaim => "invalid_claim",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::ClaimMismatch => "claim_mismatch",
            Reason::RouteNotAllowed => "route_not_allowed",
            Reason::PolicyDenied => "policy_denied",
            Reason::JwksUnavailable => "jwks_unavailable",
            Reason::TokenInactive => "token_inactive",
            Reason::IntrospectionUnavailable => "introspection_unavailable",
            Reason::UnrecognisedEvent => "unrecognised_event",
            Reason::CertificateMissing => "certificate_missing",
            Reason::CertificateMismatch => "certificate_mismatch",
            Reason::TokenNotBound => "token_not_bound",
            Reason::BoundTokenAsBearer => "bound_token_as_bearer",
            Reason::MissingProof => "missing_proof",
            Reason::InvalidProof => "invalid_proof",
            Reason::ProofRequestMismatch => "proof_request_mismatch",
            Reason::ProofTokenMismatch => "proof_token_mismatch",
            Reason::ProofKeyMismatch => "proof_key_mismatch",
            Reason::ProofReplayed => "proof_replayed",
            Reason::ReplayStoreUnavailable => "replay_store_unavailable",
        }
    }

    /// How API Gateway answers the client for this reason.
    #[must_use]
    pub const fn outcome(self) -> Outcome {
        match self {
            Reason::InsufficientScope
            | Reason::ClaimMismatch
            | Reason::RouteNotAllowed
            | Reason::PolicyDenied => Outcome::Deny,
            Reason::JwksUnavailable
            | Reason::IntrospectionUnavailable
            | Reason::UnrecognisedEvent
            | Reason::ReplayStoreUnavailable => Outcome::Error,
            _ => Outcome::Unauthorized,
        }
    }

    /// The general cause and fix; a [`Refusal`] adds the specifics of one token.
    #[must_use]
    pub const fn advice(self) -> &'static str {
        match self {
            Reason::MissingToken => {
                "send the access token in the Authorization header as `Bearer <token>`"
            }
            Reason::TokenTooLarge => {
                "the token exceeds MAX_TOKEN_BYTES; send the access token, not a token bundle"
            }
            Reason::OpaqueToken => {
                "this is an opaque token, not a JWT: the app asked for no API audience, so the identity provider issued a token only it can read; request the access token with your API identifier as audience (auth0-spa-js: authorizationParams.audience)"
            }
            Reason::EncryptedToken => {
                "this is an encrypted JWE, not a signed JWT: identity providers issue these when no API audience is requested; request the access token with your API identifier as audience (auth0-spa-js: authorizationParams.audience)"
            }
            Reason::MalformedToken => {
                "the token is not a well-formed compact JWS (header.payload.signature)"
            }
            Reason::UnsupportedHeader => {
                "the token header uses an extension this verifier does not implement, so it must be refused"
            }
            Reason::AlgorithmNotAllowed => {
                "the token's alg is not in ALLOWED_ALGORITHMS; add it there if your identity provider really signs with it"
            }
            Reason::WrongTokenType => "the token's typ says it is not an access token",
            Reason::WrongIssuer => {
                "the token's iss must equal TOKEN_ISSUER exactly, character for character"
            }
            Reason::UnknownKey => {
                "no key in the issuer's JWKS has this kid, even after a refetch; the token was signed by another issuer or tenant, or with a key that was removed"
            }
            Reason::AmbiguousKey => {
                "several keys in the JWKS could verify this token; tokens must name their key with a unique kid"
            }
            Reason::KeyAlgorithmMismatch => {
                "the key named by kid is declared for another algorithm or key type than the token's alg"
            }
            Reason::InvalidSignature => {
                "the signature does not verify with the issuer's key: the token was altered or signed by someone else"
            }
            Reason::IdToken => {
                "this is an ID token; send the access token (requested with your API identifier as audience) instead"
            }
            Reason::WrongAudience => {
                "the token's aud does not name this API; request the token with one of AUDIENCE as audience, or add its audience to AUDIENCE"
            }
            Reason::Expired => "the token has expired; the app must refresh it",
            Reason::NotYetValid => "the token is not valid yet (nbf); check the clocks",
            Reason::IssuedInFuture => {
                "the token's iat is in the future; check the identity provider's clock"
            }
            Reason::TokenTooOld => {
                "the token was issued longer ago than MAX_TOKEN_AGE_SECONDS allows"
            }
            Reason::MissingClaim => "the token lacks a claim this authorizer requires",
            Reason::InvalidClaim => {
                "a claim has the wrong JSON type (times must be numbers, iss a string)"
            }
            Reason::InsufficientScope => {
                "the token is valid but lacks the scopes or permissions REQUIRED_SCOPES asks for; grant them to the client or user"
            }
            Reason::ClaimMismatch => {
                "the token is valid but a route rule requires a claim value it does not have (e.g. another tenant's path)"
            }
            Reason::RouteNotAllowed => {
                "no route rule allows this route and routes.default is deny; add a rule for it"
            }
            Reason::PolicyDenied => {
                "the token is valid but the Cedar policies do not permit this action for this principal (no permit applies, or a forbid does); the log line names the determining policies, `token-verifier explain --arn` prints the entities built from the token"
            }
            Reason::JwksUnavailable => {
                "the issuer's signing keys could not be fetched and no cached copy is usable; check the identity provider, JWKS_URI and network egress"
            }
            Reason::TokenInactive => {
                "the identity provider says this opaque token is not valid: expired, revoked, or not one of its tokens; the app must get a new one"
            }
            Reason::IntrospectionUnavailable => {
                "the identity provider's userinfo or introspection endpoint could not be asked, so the opaque token could not be validated (failing closed); check the IdP, OPAQUE_ENDPOINT, the client credentials and the function's egress"
            }
            Reason::UnrecognisedEvent => {
                "the Lambda event is not an API Gateway authorizer event (TOKEN, REQUEST, HTTP API 1.0 or 2.0); check how the function is attached"
            }
            Reason::CertificateMissing => {
                "the token is bound to a client certificate (cnf.x5t#S256) but the request came without one: call the API's mutual-TLS custom domain with the certificate the token was issued to (the default execute-api endpoint carries none)"
            }
            Reason::CertificateMismatch => {
                "the token is bound to another client certificate than the one presented: use the certificate the token was issued to, or get a token with this one"
            }
            Reason::TokenNotBound => {
                "SENDER_CONSTRAINT is require and the token is bound to nothing: have the identity provider issue certificate-bound tokens to this client (tls_client_certificate_bound_access_tokens)"
            }
            Reason::BoundTokenAsBearer => {
                "the token is DPoP-bound (cnf.jkt), so it is only valid with its DPoP proof: send it as `Authorization: DPoP <token>` with a `DPoP: <proof>` header; a DPoP-bound token sent as Bearer is refused (RFC 9449 §7.2)"
            }
            Reason::MissingProof => {
                "the request uses the DPoP scheme but carries no DPoP header: the client must sign a fresh proof for each request and send it as `DPoP: <proof>` (RFC 9449 §7.1)"
            }
            Reason::InvalidProof => {
                "the DPoP proof is not valid: it must be one JWS with typ dpop+jwt, an asymmetric alg of DPOP_ALGORITHMS, the client's public jwk in its header, a signature by that key, a jti, and an iat within DPOP_MAX_AGE_SECONDS; the client must make a new proof for every request"
            }
            Reason::ProofRequestMismatch => {
                "the DPoP proof was made for another request: htm must be the request's method and htu its URL without query and fragment, exactly as the client calls it (the stage or base path included); set PUBLIC_BASE_URL when clients call a URL API Gateway's event does not show"
            }
            Reason::ProofTokenMismatch => {
                "the DPoP proof was made for another access token: its ath must be the base64url SHA-256 of the token it is sent with"
            }
            Reason::ProofKeyMismatch => {
                "the DPoP proof is signed by another key than the one the token is bound to (cnf.jkt): the client must sign proofs with the key it used at the token endpoint, or get a new token for this key"
            }
            Reason::ProofReplayed => {
                "this DPoP proof (its jti) was already used: each proof is for one request; a replay is refused, and a client must make a new proof for every request, retries included"
            }
            Reason::ReplayStoreUnavailable => {
                "the DPoP replay table (DPOP_REPLAY_TABLE) could not be asked, so the proof's freshness is unknown (failing closed); check the table, the function's dynamodb:PutItem permission and its egress"
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One refused request: the reason and what exactly was wrong with this token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The stable reason.
    pub reason: Reason,
    /// What was found, e.g. `aud is ["https://a"], expected https://b`. Never holds
    /// the token or its signature; attacker-controlled values are truncated.
    pub detail: String,
    /// The fix in the terms of the token's identity provider and of the configuration its
    /// issuer came from, when they differ from the reason's general [`Reason::advice`].
    pub advice: Option<Cow<'static, str>>,
}

impl Refusal {
    /// A refusal with its specifics.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Refusal {
            reason,
            detail: detail.into(),
            advice: None,
        }
    }

    /// This refusal with its own fix instead of the reason's general one.
    #[must_use]
    pub fn advising(mut self, advice: impl Into<Cow<'static, str>>) -> Self {
        self.advice = Some(advice.into());
        self
    }

    /// The fix: this refusal's own, or the reason's general one.
    #[must_use]
    pub fn advice(&self) -> &str {
        self.advice.as_deref().unwrap_or(self.reason.advice())
    }

    /// The line a user reads: the specifics, then the fix.
    #[must_use]
    pub fn hint(&self) -> String {
        if self.detail.is_empty() {
            self.advice().to_owned()
        } else {
            format!("{}: {}", self.detail, self.advice())
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.hint())
    }
}

impl std::error::Error for Refusal {}

/// Shortens an untrusted value for a log line or hint: at most `max` characters, control
/// characters replaced, so a hostile `kid` or claim cannot flood or forge log lines.
#[must_use]
pub fn sanitize(value: &str, max: usize) -> String {
    if value.len() <= max && value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return value.to_owned();
    }
    let mut out: String = value
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            let code = reason.code();
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }

    #[test]
    fn only_scopes_deny_and_only_dependencies_error() {
        for reason in Reason::ALL {
            let expected = match reason {
                Reason::InsufficientScope
                | Reason::ClaimMismatch
                | Reason::RouteNotAllowed
                | Reason::PolicyDenied => Outcome::Deny,
                Reason::JwksUnavailable
                | Reason::IntrospectionUnavailable
                | Reason::UnrecognisedEvent
                | Reason::ReplayStoreUnavailable => Outcome::Error,
                _ => Outcome::Unauthorized,
            };
            assert_eq!(reason.outcome(), expected, "{reason}");
        }
    }

    #[test]
    fn sanitize_truncates_and_neutralises_control_characters() {
        assert_eq!(sanitize("abc", 10), "abc");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(sanitize("a\nb\u{0}c", 10), "a\u{FFFD}b\u{FFFD}c");
    }
}
