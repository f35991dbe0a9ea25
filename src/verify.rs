//! Token → verified claims, or a [`Refusal`] naming exactly why not.
//!
//! The order is fixed and cheap checks come first: size and framing, header, issuer
//! routing by `iss` (before any key is looked up, so an unknown issuer causes no network
//! request), algorithm allow-list, key selection, signature, then the claims.

use crate::algorithm::Algorithm;
use crate::claims::{Claim, Claims, Kind};
use crate::config::IssuerConfig;
use crate::keys::{KeyCache, KeyError, KeyOrigin, Refetch};
use crate::refusal::{Reason, Refusal, sanitize};
use crate::token;

/// One trusted issuer: its rules and its keys.
#[derive(Debug)]
pub struct Issuer {
    /// Its configuration.
    pub config: IssuerConfig,
    /// Its key cache; never shared with another issuer (but kept across reloads).
    pub keys: std::sync::Arc<KeyCache>,
}

/// Routes tokens to their issuer and verifies them.
#[derive(Debug)]
pub struct Verifier {
    issuers: Vec<Issuer>,
    max_token_bytes: usize,
    opaque: Option<Opaque>,
}

/// The one issuer whose opaque tokens are validated by asking its identity provider.
#[derive(Debug)]
pub struct Opaque {
    /// Index of the issuer.
    pub issuer: usize,
    /// Its validator.
    pub validator: crate::opaque::OpaqueValidator,
}

/// What a log line may say about a token. Everything here is untrusted until verified,
/// and truncated; the token and its signature are never kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// Header `alg`.
    pub alg: Option<String>,
    /// Header `kid`.
    pub kid: Option<String>,
    /// Header `typ`.
    pub typ: Option<String>,
    /// Claim `iss`.
    pub iss: Option<String>,
    /// Claim `aud` (compact JSON when an array).
    pub aud: Option<String>,
    /// Claim `sub`.
    pub sub: Option<String>,
    /// How the key was obtained.
    pub key_origin: Option<KeyOrigin>,
    /// An opaque token validated by the identity provider: `userinfo` or `introspection`.
    pub opaque: Option<&'static str>,
    /// How that validation went: from the cache, asked, or refused without asking.
    pub opaque_lookup: Option<crate::opaque::Lookup>,
    /// An unknown `kid` was refused without a refetch because of the cool-down.
    pub cooled_down: bool,
}

/// Every check the authorizer runs on a token, in its order. [`Verifier::verify`] stops
/// at the first that fails; `explain` reports each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Size, compact JWS framing, strict base64url and JSON, header members.
    Framing,
    /// An opaque token: the identity provider's userinfo or introspection answer.
    Opaque,
    /// `iss` equals a configured issuer.
    Issuer,
    /// `alg` is in the allow-list.
    Algorithm,
    /// `typ` is an accepted token type.
    TokenType,
    /// One key in the issuer's JWKS fits `kid` and `alg`.
    Key,
    /// The signature verifies with that key.
    Signature,
    /// `exp`, `nbf`, `iat` are numbers.
    TimeClaims,
    /// Nothing marks the token as an ID token.
    IdToken,
    /// `token_use`, when present, is `access`.
    TokenUse,
    /// The audience claim names this API.
    Audience,
    /// `exp` is present and not past.
    Expiry,
    /// `nbf`, when present, is not in the future.
    NotBefore,
    /// `iat` is not in the future, nor older than `MAX_TOKEN_AGE_SECONDS`.
    IssuedAt,
    /// `REQUIRED_CLAIMS` are present.
    RequiredClaims,
    /// A `PRINCIPAL_CLAIMS` claim gives the principal id.
    Principal,
    /// `REQUIRED_SCOPES` are granted (a Deny, not a 401, when not).
    Scopes,
    /// The route rules allow the called route (a Deny when not).
    Routes,
}

impl Check {
    /// Every check, in the authorizer's order.
    pub const ALL: [Check; 18] = [
        Check::Framing,
        Check::Opaque,
        Check::Issuer,
        Check::Algorithm,
        Check::TokenType,
        Check::Key,
        Check::Signature,
        Check::TimeClaims,
        Check::IdToken,
        Check::TokenUse,
        Check::Audience,
        Check::Expiry,
        Check::NotBefore,
        Check::IssuedAt,
        Check::RequiredClaims,
        Check::Principal,
        Check::Scopes,
        Check::Routes,
    ];

    /// Stable `snake_case` name (reports, `--json`).
    ///
    /// (`Opaque` is the identity provider's answer about an opaque token, when an
    /// issuer is configured to validate them.)
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Check::Framing => "framing",
            Check::Opaque => "opaque_validation",
            Check::Issuer => "issuer",
            Check::Algorithm => "algorithm",
            Check::TokenType => "token_type",
            Check::Key => "key",
            Check::Signature => "signature",
            Check::TimeClaims => "time_claims",
            Check::IdToken => "not_id_token",
            Check::TokenUse => "token_use",
            Check::Audience => "audience",
            Check::Expiry => "expiry",
            Check::NotBefore => "not_before",
            Check::IssuedAt => "issued_at",
            Check::RequiredClaims => "required_claims",
            Check::Principal => "principal",
            Check::Scopes => "scopes",
            Check::Routes => "routes",
        }
    }
}

/// A check of verified claims against an issuer's rules at a time.
pub type ClaimCheck = fn(&Claims, &IssuerConfig, UnixTime) -> Result<(), Refusal>;

/// The claim checks, in order: [`check_claims`] runs them all and stops at the first
/// refusal.
pub const CLAIM_CHECKS: [(Check, ClaimCheck); 8] = [
    (Check::TimeClaims, check_time_claims),
    (Check::IdToken, check_not_id_token),
    (Check::TokenUse, check_token_use),
    (Check::Audience, check_audience_of),
    (Check::Expiry, check_expiry),
    (Check::NotBefore, check_not_before),
    (Check::IssuedAt, check_issued_at),
    (Check::RequiredClaims, check_required_claims),
];

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its claims.
    pub claims: Claims,
    /// The principal id (first present claim of the chain).
    pub principal: String,
    /// Index of its issuer in the verifier.
    pub issuer: usize,
    /// The algorithm it was signed with (`None`: an opaque token its provider vouched for).
    pub alg: Option<Algorithm>,
}

/// A claim by name, or by JSON Pointer (RFC 6901) when `path` starts with `/`:
/// `/realm_access/roles` reaches Keycloak's nested roles. Names never contain a pointer
/// by accident: a claim name starting with `/` is not a thing IdPs emit.
#[must_use]
pub fn claim<'a>(claims: &'a Claims, path: &str) -> Option<Claim<'a>> {
    let Some(pointer) = path.strip_prefix('/') else {
        return claims.get(path);
    };
    let mut segments = pointer.split('/');
    let first = unescape_pointer(segments.next()?);
    let mut value = claims.get(first.as_str())?;
    for segment in segments {
        let segment = unescape_pointer(segment);
        value = match value.kind() {
            Kind::Object => value.member(&segment)?,
            Kind::Array => *value.items()?.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Seconds since the Unix epoch, with fractions (claims may be non-integer).
pub type UnixTime = f64;

/// The current time as [`UnixTime`].
#[must_use]
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

const LOG_VALUE_CHARS: usize = 128;

impl Verifier {
    /// A verifier over these issuers.
    #[must_use]
    pub fn new(issuers: Vec<Issuer>, max_token_bytes: usize) -> Self {
        Verifier {
            issuers,
            max_token_bytes,
            opaque: None,
        }
    }

    /// Validates opaque tokens through the identity provider of `issuer`.
    #[must_use]
    pub fn with_opaque(mut self, opaque: Opaque) -> Self {
        self.opaque = Some(opaque);
        self
    }

    /// The opaque-token validation, if configured.
    #[must_use]
    pub fn opaque(&self) -> Option<&Opaque> {
        self.opaque.as_ref()
    }

    /// `MAX_TOKEN_BYTES`.
    #[must_use]
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// The issuers, in configuration order.
    #[must_use]
    pub fn issuers(&self) -> &[Issuer] {
        &self.issuers
    }

    /// Verifies `token` at time `now`, filling `facts` for the log line as it goes.
    ///
    /// # Errors
    /// A [`Refusal`] for the first check that fails.
    pub async fn verify(
        &self,
        token: &str,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let jws = match token::parse(token, self.max_token_bytes) {
            Ok(jws) => jws,
            Err(refusal) if goes_to_provider(&refusal, token) && self.opaque.is_some() => {
                return self.verify_opaque(token, now, facts).await;
            }
            Err(refusal) => return Err(refusal),
        };
        facts.alg = Some(sanitize(&jws.header.alg, 32));
        facts.kid = jws.header.kid.as_deref().map(|k| sanitize(k, 64));
        facts.typ = jws.header.typ.as_deref().map(|t| sanitize(t, 32));
        facts.iss = jws.claims.get("iss").map(loggable);
        facts.aud = jws.claims.get("aud").map(loggable);
        facts.sub = jws.claims.get("sub").map(loggable);

        let index = self.route(&jws.claims)?;
        let issuer = &self.issuers[index];
        let policy = &issuer.config;
        let alg = allowed_algorithm(&jws.header.alg, &policy.algorithms)?;
        check_token_type(&jws.header, &jws.claims, policy)?;

        let kid = jws.header.kid.as_deref();
        let hit = issuer.keys.key(kid, alg).await.map_err(|e| {
            facts.cooled_down = e == KeyError::Unknown(Refetch::CoolingDown);
            key_refusal(e, kid, alg, &issuer.keys)
        })?;
        facts.key_origin = Some(hit.origin);
        check_signature(&hit.key, alg, &jws)?;

        check_claims(&jws.claims, policy, now)?;
        let principal = principal(&jws.claims, &policy.principal_claims)?;
        Ok(Verified {
            claims: jws.claims,
            principal,
            issuer: index,
            alg: Some(alg),
        })
    }

    /// An opaque token: the configured issuer's identity provider vouches for it (or
    /// not), then its answer's claims are checked like a token's.
    async fn verify_opaque(
        &self,
        token: &str,
        now: UnixTime,
        facts: &mut TokenFacts,
    ) -> Result<Verified, Refusal> {
        let Some(opaque) = &self.opaque else {
            return Err(Refusal::new(
                Reason::OpaqueToken,
                "no opaque-token validation",
            ));
        };
        facts.opaque = Some(opaque.validator.mode().as_str());
        let (answer, lookup) = opaque.validator.validate(token, now).await;
        facts.opaque_lookup = Some(lookup);
        let claims = answer?;
        facts.iss = claims.get("iss").map(loggable);
        facts.aud = claims.get("aud").map(loggable);
        facts.sub = claims.get("sub").map(loggable);
        let policy = &self.issuers[opaque.issuer].config;
        for (_, check) in opaque_claim_checks(&claims) {
            check(&claims, policy, now)?;
        }
        let principal = principal(&claims, &policy.principal_claims)?;
        Ok(Verified {
            claims,
            principal,
            issuer: opaque.issuer,
            alg: None,
        })
    }

    /// Finds the issuer whose `iss` is exactly the token's.
    ///
    /// # Errors
    /// `missing_claim`, `invalid_claim` or `wrong_issuer` (naming a trailing-slash near miss).
    pub fn route(&self, claims: &Claims) -> Result<usize, Refusal> {
        let iss = match claims.get("iss") {
            Some(iss) => iss.as_str().ok_or_else(|| {
                Refusal::new(
                    Reason::InvalidClaim,
                    format!("iss is {}, not a string", iss.kind().name()),
                )
            })?,
            None => return Err(Refusal::new(Reason::MissingClaim, "the token has no iss")),
        };
        if let Some(index) = self.issuers.iter().position(|i| i.config.issuer == *iss) {
            return Ok(index);
        }
        let expected: Vec<&str> = self
            .issuers
            .iter()
            .map(|i| i.config.issuer.as_str())
            .collect();
        let near = expected
            .iter()
            .find(|e| e.trim_end_matches('/') == iss.trim_end_matches('/'));
        let detail = match near {
            Some(e) => format!(
                "iss is {} but TOKEN_ISSUER is {e}: they differ only by a trailing slash; set TOKEN_ISSUER to exactly the token's iss",
                sanitize(&iss, LOG_VALUE_CHARS)
            ),
            None => format!(
                "iss is {}, expected {}",
                sanitize(&iss, LOG_VALUE_CHARS),
                expected.join(" or ")
            ),
        };
        Err(Refusal::new(Reason::WrongIssuer, detail))
    }
}

/// A claim for a log line or a message: a string's value, otherwise its JSON text as
/// the token has it; sanitized and truncated.
fn loggable(value: Claim<'_>) -> String {
    match value.as_str() {
        Some(s) => sanitize(&s, LOG_VALUE_CHARS),
        None => sanitize(value.raw(), LOG_VALUE_CHARS),
    }
}

/// The token's `alg`, when the allow-list has it.
///
/// # Errors
/// `algorithm_not_allowed`, saying why (unknown, `none`, symmetric, or not listed).
pub fn allowed_algorithm(alg: &str, allowed: &[Algorithm]) -> Result<Algorithm, Refusal> {
    if let Some(a) = Algorithm::from_name(alg).filter(|a| allowed.contains(a)) {
        return Ok(a);
    }
    let shown = sanitize(alg, 32);
    let allowed_names = allowed
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ");
    let detail = if Algorithm::from_name(alg).is_some() {
        format!("alg {shown} is not in ALLOWED_ALGORITHMS ({allowed_names})")
    } else if alg.eq_ignore_ascii_case("none") {
        format!("alg {shown} means an unsigned token and is never accepted")
    } else if crate::algorithm::is_hmac_name(alg) {
        format!("alg {shown} is symmetric and never accepted (allowed: {allowed_names})")
    } else {
        format!("alg {shown} is not a supported algorithm (allowed: {allowed_names})")
    };
    Err(Refusal::new(Reason::AlgorithmNotAllowed, detail))
}

/// The refusal for a failed key lookup.
#[must_use]
pub fn key_refusal(error: KeyError, kid: Option<&str>, alg: Algorithm, keys: &KeyCache) -> Refusal {
    let kid_shown = kid.map_or_else(|| "(none)".to_owned(), |k| sanitize(k, 64));
    match error {
        KeyError::Unknown(refetch) => Refusal::new(
            Reason::UnknownKey,
            match kid {
                None => format!("the token has no kid and no {alg} key is in the key set"),
                Some(_) => format!(
                    "kid {kid_shown} is not in the key set of {} ({})",
                    keys.describe(),
                    match refetch {
                        Refetch::Done => "refetched",
                        Refetch::CoolingDown => {
                            "not refetched: one was made less than JWKS_COOLDOWN_SECONDS ago"
                        }
                        Refetch::BackingOff => {
                            "not refetched: the last fetch failed less than JWKS_RETRY_SECONDS ago"
                        }
                        Refetch::Fixed => "the key set is fixed",
                    }
                ),
            },
        ),
        KeyError::AlgorithmMismatch(detail) => Refusal::new(
            Reason::KeyAlgorithmMismatch,
            format!("kid {kid_shown}: token alg is {alg} but {detail}"),
        ),
        KeyError::Ambiguous(n) => Refusal::new(
            Reason::AmbiguousKey,
            match kid {
                None => format!("the token has no kid and {n} keys fit {alg}"),
                Some(_) => format!("{n} keys share kid {kid_shown}"),
            },
        ),
        KeyError::Unavailable(detail) => Refusal::new(
            Reason::JwksUnavailable,
            format!("{}: {detail}", keys.describe()),
        ),
    }
}

/// The header's `typ` against the accepted token types.
///
/// # Errors
/// `id_token` when the claims also mark an ID token, `wrong_token_type` otherwise.
pub fn check_token_type(
    header: &token::Header,
    claims: &Claims,
    policy: &IssuerConfig,
) -> Result<(), Refusal> {
    if policy.token_types.accepts(header.typ.as_deref()) {
        return Ok(());
    }
    if let Some(marker) = id_token_marker(claims) {
        return Err(Refusal::new(
            Reason::IdToken,
            format!(
                "typ is {}, {marker}",
                header
                    .typ
                    .as_deref()
                    .map_or_else(|| "absent".to_owned(), |t| sanitize(t, 32))
            ),
        ));
    }
    Err(Refusal::new(
        Reason::WrongTokenType,
        match &header.typ {
            Some(typ) => format!(
                "typ is {}, accepted: {}",
                sanitize(typ, 32),
                policy.token_types.allowed.join(", ")
            ),
            None => "the token has no typ and REQUIRE_TOKEN_TYPE is on".to_owned(),
        },
    ))
}

/// The signature over the signing input, with the chosen key.
///
/// # Errors
/// `invalid_signature`, naming the key.
pub fn check_signature(
    key: &crate::jwk::VerificationKey,
    alg: Algorithm,
    jws: &token::Jws<'_>,
) -> Result<(), Refusal> {
    if key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Ok(());
    }
    Err(Refusal::new(
        Reason::InvalidSignature,
        format!(
            "{alg} signature does not verify with key {}",
            key.kid.as_deref().unwrap_or("(no kid)")
        ),
    ))
}

/// Claims only ID tokens carry (OIDC Core §3.1.3.6, §3.3.2.11; hybrid `s_hash`).
const ID_TOKEN_MARKERS: [&str; 3] = ["at_hash", "c_hash", "s_hash"];

/// Whether a token refused at framing is one the identity provider can vouch for: an
/// opaque string, or a JWE (Auth0's tokens issued without an audience) only it decrypts.
#[must_use]
pub fn goes_to_provider(refusal: &Refusal, token: &str) -> bool {
    match refusal.reason {
        // Only token characters reach this reason.
        Reason::OpaqueToken => true,
        // Five segments are a JWE only in base64url: anything else is not sent.
        Reason::EncryptedToken => token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        _ => false,
    }
}

/// The checks an identity provider's answer about an opaque token gets, in order. The
/// provider vouched for the token, so nothing about signatures applies; `iss` is
/// compared, the token type must be an access token's (introspection also vouches for
/// refresh tokens), the audience must name this API unless the issuer accepts unbound
/// tokens (`OPAQUE_AUDIENCE=unbound`), and `exp` is judged when the answer has one.
pub fn opaque_claim_checks(claims: &Claims) -> Vec<(Check, ClaimCheck)> {
    let mut checks: Vec<(Check, ClaimCheck)> = vec![
        (Check::Issuer, check_answer_issuer),
        (Check::TokenType, check_answer_token_type),
    ];
    checks.extend(
        CLAIM_CHECKS
            .into_iter()
            .filter_map(|(check, run)| match check {
                Check::IdToken => None,
                Check::Audience => Some((check, check_answer_audience as ClaimCheck)),
                Check::Expiry if !claims.contains_key("exp") => None,
                _ => Some((check, run)),
            }),
    );
    checks
}

/// RFC 7662 `token_type` (and Keycloak's `typ`): refresh and ID tokens are refused.
fn check_answer_token_type(claims: &Claims, _: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    for member in ["token_type", "typ"] {
        match claims.get(member) {
            None => {}
            Some(kind)
                if kind.as_str().is_some_and(|kind| {
                    ["bearer", "access_token", "dpop", "n_a"]
                        .contains(&kind.to_ascii_lowercase().as_str())
                }) => {}
            Some(other) => {
                return Err(Refusal::new(
                    Reason::WrongTokenType,
                    format!(
                        "the identity provider's answer says {member} {}: not an access token",
                        loggable(other)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The answer's audience: `aud` (or the fallback claim) must name this API; without one,
/// only an issuer that accepts unbound tokens lets it pass.
fn check_answer_audience(
    claims: &Claims,
    policy: &IssuerConfig,
    now: UnixTime,
) -> Result<(), Refusal> {
    let fallback = policy
        .audience_fallback_claim
        .as_deref()
        .is_some_and(|c| claim(claims, c).is_some());
    if claims.contains_key("aud") || fallback {
        return check_audience_of(claims, policy, now);
    }
    match policy.opaque.as_ref().map(|o| o.audience) {
        Some(crate::opaque::OpaqueAudience::Unbound) => Ok(()),
        _ => Err(Refusal::new(
            Reason::WrongAudience,
            "the identity provider's answer names no audience, so nothing says this token is for this API (OPAQUE_AUDIENCE=unbound accepts that)",
        )),
    }
}

fn check_answer_issuer(claims: &Claims, policy: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    match claims.get("iss") {
        None => Ok(()),
        Some(iss) if iss == policy.issuer.as_str() => Ok(()),
        Some(other) => Err(Refusal::new(
            Reason::WrongIssuer,
            format!(
                "the identity provider's answer names iss {}, expected {}",
                loggable(other),
                policy.issuer
            ),
        )),
    }
}

/// Checks the claims of a token whose signature verified. Pure: `now` is passed in.
///
/// # Errors
/// A [`Refusal`] for the first failing check of [`CLAIM_CHECKS`], in this order:
/// time-claim types, ID-token markers, `token_use`, audience, `exp`, `nbf`, `iat` (and
/// age), required claims.
pub fn check_claims(claims: &Claims, policy: &IssuerConfig, now: UnixTime) -> Result<(), Refusal> {
    for (_, check) in CLAIM_CHECKS {
        check(claims, policy, now)?;
    }
    Ok(())
}

fn check_time_claims(claims: &Claims, _: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    for name in ["exp", "nbf", "iat"] {
        time_claim(claims, name)?;
    }
    Ok(())
}

fn check_not_id_token(claims: &Claims, _: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    match id_token_marker(claims) {
        Some(marker) => Err(Refusal::new(Reason::IdToken, marker)),
        None => Ok(()),
    }
}

fn check_token_use(claims: &Claims, _: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    match claims.get("token_use") {
        None => Ok(()),
        Some(usage) if usage == "access" || usage == "access_token" => Ok(()),
        Some(other) => Err(Refusal::new(
            Reason::WrongTokenType,
            format!("token_use is {}, expected access", loggable(other)),
        )),
    }
}

fn check_audience_of(claims: &Claims, policy: &IssuerConfig, _: UnixTime) -> Result<(), Refusal> {
    let audience_claim = match (claims.contains_key("aud"), &policy.audience_fallback_claim) {
        (false, Some(fallback)) => fallback.as_str(),
        _ => "aud",
    };
    check_audience(claims, audience_claim, &policy.audiences)
}

fn check_expiry(claims: &Claims, policy: &IssuerConfig, now: UnixTime) -> Result<(), Refusal> {
    let Some(exp) = time_claim(claims, "exp")? else {
        return Err(Refusal::new(Reason::MissingClaim, "the token has no exp"));
    };
    if now >= exp + policy.leeway.as_secs_f64() {
        return Err(Refusal::new(
            Reason::Expired,
            format!(
                "expired {} ago (leeway {}s)",
                ago(now - exp),
                policy.leeway.as_secs()
            ),
        ));
    }
    Ok(())
}

fn check_not_before(claims: &Claims, policy: &IssuerConfig, now: UnixTime) -> Result<(), Refusal> {
    if let Some(nbf) = time_claim(claims, "nbf")?
        && nbf > now + policy.leeway.as_secs_f64()
    {
        return Err(Refusal::new(
            Reason::NotYetValid,
            format!(
                "nbf is {} in the future (leeway {}s)",
                ago(nbf - now),
                policy.leeway.as_secs()
            ),
        ));
    }
    Ok(())
}

fn check_issued_at(claims: &Claims, policy: &IssuerConfig, now: UnixTime) -> Result<(), Refusal> {
    let leeway = policy.leeway.as_secs_f64();
    match (time_claim(claims, "iat")?, policy.max_token_age) {
        (Some(iat), _) if iat > now + leeway => Err(Refusal::new(
            Reason::IssuedInFuture,
            format!(
                "iat is {} in the future (leeway {}s)",
                ago(iat - now),
                policy.leeway.as_secs()
            ),
        )),
        (Some(iat), Some(max_age)) if now - iat > max_age.as_secs_f64() + leeway => {
            Err(Refusal::new(
                Reason::TokenTooOld,
                format!(
                    "issued {} ago, MAX_TOKEN_AGE_SECONDS is {}",
                    ago(now - iat),
                    max_age.as_secs()
                ),
            ))
        }
        (None, Some(_)) => Err(Refusal::new(
            Reason::MissingClaim,
            "the token has no iat and MAX_TOKEN_AGE_SECONDS is set",
        )),
        _ => Ok(()),
    }
}

fn check_required_claims(
    claims: &Claims,
    policy: &IssuerConfig,
    _: UnixTime,
) -> Result<(), Refusal> {
    for name in &policy.required_claims {
        if claim(claims, name).is_none_or(|c| c.is_null()) {
            return Err(Refusal::new(
                Reason::MissingClaim,
                format!("the token has no {} (REQUIRED_CLAIMS)", sanitize(name, 64)),
            ));
        }
    }
    Ok(())
}

/// What marks these claims as an `OpenID Connect` ID token, if anything: a hash claim,
/// Cognito's `token_use: id`, Keycloak's payload `typ: ID`, or a `nonce` without any
/// scope claim (some Keycloak versions put `nonce` into access tokens too, with scopes).
#[must_use]
pub fn id_token_marker(claims: &Claims) -> Option<String> {
    let marker = if let Some(marker) = ID_TOKEN_MARKERS.iter().find(|m| claims.contains_key(m)) {
        format!("it carries {marker}")
    } else if claims.get("token_use").is_some_and(|c| c == "id") {
        "token_use is id".to_owned()
    } else if claims.get("typ").is_some_and(|c| c == "ID") {
        "its typ claim is ID".to_owned()
    } else if claims.contains_key("nonce")
        && !["scope", "scp"].iter().any(|c| claims.contains_key(c))
    {
        "it carries nonce and no scope".to_owned()
    } else {
        return None;
    };
    Some(format!("{marker}, aud is {}", aud_shown(claims)))
}

/// A `NumericDate` claim: absent, or a finite JSON number. Anything else is a refusal,
/// never "absent" (the CVE-2026-25537 class).
fn time_claim(claims: &Claims, name: &str) -> Result<Option<f64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(n) if n.kind() == Kind::Number => n.as_f64().map(Some).ok_or_else(|| {
            Refusal::new(
                Reason::InvalidClaim,
                format!("{name} is not a finite number"),
            )
        }),
        Some(other) => Err(Refusal::new(
            Reason::InvalidClaim,
            format!(
                "{name} is {}, it must be a number of seconds",
                other.kind().name()
            ),
        )),
    }
}

fn check_audience(
    claims: &Claims,
    audience_claim: &str,
    accepted: &[String],
) -> Result<(), Refusal> {
    let name = audience_claim; // from the configuration, not the token
    let value = claim(claims, audience_claim);
    let found: Vec<Claim<'_>> = match value.map(|v| (v, v.kind())) {
        None | Some((_, Kind::Null)) => {
            return Err(Refusal::new(
                Reason::WrongAudience,
                format!(
                    "the token has no {name}; expected {}{}",
                    accepted.join(" or "),
                    id_token_suspicion(claims)
                ),
            ));
        }
        Some((one, Kind::String)) => vec![one],
        Some((array, Kind::Array)) => {
            let items = array.items().unwrap_or_default();
            if items.is_empty() {
                return Err(Refusal::new(
                    Reason::WrongAudience,
                    format!("{name} is an empty array"),
                ));
            }
            if !items.iter().all(Claim::is_string) {
                return Err(Refusal::new(
                    Reason::InvalidClaim,
                    format!("{name} holds a value that is not a string"),
                ));
            }
            items
        }
        Some((_, kind)) => {
            return Err(Refusal::new(
                Reason::InvalidClaim,
                format!(
                    "{name} is {}, it must be a string or an array of strings",
                    kind.name()
                ),
            ));
        }
    };
    if found
        .iter()
        .any(|aud| accepted.iter().any(|a| aud == &a.as_str()))
    {
        return Ok(());
    }
    let found: Vec<_> = found.iter().filter_map(Claim::as_str).collect();
    let found = found.iter().map(|aud| &**aud);
    let slash = found.clone().find_map(|aud| {
        accepted
            .iter()
            .find(|a| a.trim_end_matches('/') == aud.trim_end_matches('/'))
            .map(|a| {
                format!(
                    " ({} and {a} differ only by a trailing slash)",
                    sanitize(aud, LOG_VALUE_CHARS)
                )
            })
    });
    let shown = value.map_or_else(|| "absent".to_owned(), loggable);
    Err(Refusal::new(
        Reason::WrongAudience,
        format!(
            "{name} is {shown}, expected {}{}{}",
            accepted.join(" or "),
            slash.unwrap_or_default(),
            id_token_suspicion(claims)
        ),
    ))
}

fn aud_shown(claims: &Claims) -> String {
    claims
        .get("aud")
        .map_or_else(|| "absent".to_owned(), loggable)
}

/// A hint when a token without the standard markers still looks like an ID token.
fn id_token_suspicion(claims: &Claims) -> &'static str {
    let has_scopes = ["scope", "scp", "permissions"]
        .iter()
        .any(|c| claims.contains_key(c));
    let identity = ["auth_time", "sid", "email", "name", "nickname"]
        .iter()
        .any(|c| claims.contains_key(c));
    if !has_scopes && identity {
        "; it has identity claims and no scope, so it may be an ID token: send the access token"
    } else {
        ""
    }
}

/// The principal id: the first claim of `chain` that is a non-empty string or a number.
///
/// # Errors
/// `missing_claim` when none is.
pub fn principal(claims: &Claims, chain: &[String]) -> Result<String, Refusal> {
    for name in chain {
        match claim(claims, name) {
            Some(s) if s.as_str().is_some_and(|s| !s.is_empty()) => {
                return Ok(s.as_str().unwrap_or_default().into_owned());
            }
            // As serde_json writes the number (`1e3` is `1000.0`).
            Some(n) if n.kind() == Kind::Number => return Ok(n.to_value().to_string()),
            _ => {}
        }
    }
    Err(Refusal::new(
        Reason::MissingClaim,
        format!(
            "none of PRINCIPAL_CLAIMS ({}) is a non-empty string or a number",
            chain.join(", ")
        ),
    ))
}

/// "3h 2m", "41s": a human duration for hints.
#[must_use]
pub fn ago(seconds: f64) -> String {
    let s = seconds.abs().round();
    // Truncation is intended: durations of hints are whole seconds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = if s > 1e15 { u64::MAX } else { s as u64 };
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Map, Value, json};

    use super::*;
    use crate::config::{KeySourceConfig, ScopeMatch, TokenTypes};

    const NOW: f64 = 1_800_000_000.0;

    fn policy() -> IssuerConfig {
        IssuerConfig {
            issuer: "https://idp.example.com/".into(),
            audiences: vec!["https://api.example.com".into()],
            audience_fallback_claim: None,
            keys: KeySourceConfig::Discovery,
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(60),
            token_types: TokenTypes {
                allowed: vec!["at+jwt".into(), "jwt".into()],
                required: false,
            },
            principal_claims: vec!["sub".into()],
            required_scopes: vec![],
            scope_match: ScopeMatch::All,
            scope_claims: vec!["scope".into()],
            required_claims: vec![],
            max_token_age: None,
            opaque: None,
        }
    }

    fn claims(extra: Value) -> Claims {
        Claims::from_map(&map(extra))
    }

    fn map(extra: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "https://idp.example.com/", "sub": "user-1", "aud": "https://api.example.com",
            "iat": NOW - 10.0, "exp": NOW + 300.0,
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            for (k, v) in e {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    b.insert(k, v);
                }
            }
        }
        let Value::Object(map) = base else {
            unreachable!()
        };
        map
    }

    fn reason(extra: Value) -> Option<Reason> {
        check_claims(&claims(extra), &policy(), NOW)
            .err()
            .map(|r| r.reason)
    }

    #[test]
    fn a_valid_token_passes() {
        assert_eq!(reason(json!({})), None);
    }

    #[test]
    fn exp_boundaries_honour_the_leeway_exactly() {
        assert_eq!(reason(json!({"exp": NOW - 59.0})), None);
        assert_eq!(reason(json!({"exp": NOW - 60.0})), Some(Reason::Expired));
        assert_eq!(reason(json!({"exp": NOW - 61.0})), Some(Reason::Expired));
        assert_eq!(reason(json!({"exp": null})), Some(Reason::MissingClaim));
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused_beyond_the_leeway() {
        assert_eq!(reason(json!({"nbf": NOW + 60.0})), None);
        assert_eq!(
            reason(json!({"nbf": NOW + 61.0})),
            Some(Reason::NotYetValid)
        );
        assert_eq!(reason(json!({"iat": NOW + 60.0})), None);
        assert_eq!(
            reason(json!({"iat": NOW + 61.0})),
            Some(Reason::IssuedInFuture)
        );
    }

    #[test]
    fn time_claims_of_the_wrong_type_are_refused_not_ignored() {
        for claim in ["exp", "nbf", "iat"] {
            for bad in [
                json!("99999999999"),
                json!(true),
                json!({}),
                json!([]),
                json!([NOW]),
            ] {
                assert_eq!(
                    reason(json!({ claim: bad })),
                    Some(Reason::InvalidClaim),
                    "{claim}={bad}"
                );
            }
        }
        // null is "present with the wrong type" for a time claim, not absent.
        let mut m = map(json!({}));
        m.insert("nbf".into(), Value::Null);
        let c = Claims::from_map(&m);
        assert_eq!(
            check_claims(&c, &policy(), NOW).unwrap_err().reason,
            Reason::InvalidClaim
        );
    }

    #[test]
    fn fractional_and_huge_times_are_numbers() {
        assert_eq!(reason(json!({"exp": NOW + 0.5})), None);
        assert_eq!(reason(json!({"exp": 1e20})), None);
        assert_eq!(reason(json!({"exp": -1})), Some(Reason::Expired));
        assert_eq!(reason(json!({"nbf": NOW - 0.5, "iat": NOW - 0.25})), None);
        assert_eq!(reason(json!({"nbf": -1e20, "iat": 0.5})), None);
        assert_eq!(reason(json!({"nbf": 1e20})), Some(Reason::NotYetValid));
        assert_eq!(reason(json!({"iat": 1e20})), Some(Reason::IssuedInFuture));
    }

    #[test]
    fn audience_traps() {
        assert_eq!(
            reason(json!({"aud": ["https://x", "https://api.example.com"]})),
            None
        );
        assert_eq!(
            reason(json!({"aud": "https://api.example.com/"})),
            Some(Reason::WrongAudience)
        );
        assert_eq!(
            reason(json!({"aud": "https://api.example"})),
            Some(Reason::WrongAudience)
        );
        assert_eq!(
            reason(json!({"aud": "https://api.example.com.evil"})),
            Some(Reason::WrongAudience)
        );
        assert_eq!(reason(json!({"aud": []})), Some(Reason::WrongAudience));
        assert_eq!(reason(json!({"aud": null})), Some(Reason::WrongAudience));
        assert_eq!(reason(json!({"aud": 123})), Some(Reason::InvalidClaim));
        assert_eq!(reason(json!({"aud": [123]})), Some(Reason::InvalidClaim));
        assert_eq!(reason(json!({"aud": {}})), Some(Reason::InvalidClaim));
        let slash = check_claims(
            &claims(json!({"aud": "https://api.example.com/"})),
            &policy(),
            NOW,
        )
        .unwrap_err();
        assert!(slash.detail.contains("trailing slash"), "{}", slash.detail);
    }

    #[test]
    fn id_tokens_are_named() {
        assert_eq!(
            reason(json!({"nonce": "n", "aud": "client-id"})),
            Some(Reason::IdToken)
        );
        assert_eq!(reason(json!({"at_hash": "h"})), Some(Reason::IdToken));
        assert_eq!(reason(json!({"token_use": "id"})), Some(Reason::IdToken));
        assert_eq!(reason(json!({"token_use": "access"})), None);
        let suspicious = check_claims(
            &claims(json!({"aud": "client-id", "email": "a@b"})),
            &policy(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(suspicious.reason, Reason::WrongAudience);
        assert!(
            suspicious.detail.contains("ID token"),
            "{}",
            suspicious.detail
        );
    }

    #[test]
    fn required_claims_and_max_age() {
        let mut p = policy();
        p.required_claims = vec!["client_id".into()];
        assert_eq!(
            check_claims(&claims(json!({})), &p, NOW)
                .unwrap_err()
                .reason,
            Reason::MissingClaim
        );
        assert!(check_claims(&claims(json!({"client_id": "c"})), &p, NOW).is_ok());
        let mut p = policy();
        p.max_token_age = Some(Duration::from_secs(3600));
        assert!(check_claims(&claims(json!({"iat": NOW - 3000.0})), &p, NOW).is_ok());
        assert_eq!(
            check_claims(&claims(json!({"iat": NOW - 4000.0})), &p, NOW)
                .unwrap_err()
                .reason,
            Reason::TokenTooOld
        );
        assert_eq!(
            check_claims(&claims(json!({"iat": null})), &p, NOW)
                .unwrap_err()
                .reason,
            Reason::MissingClaim
        );
    }

    /// The deliberate choices SECURITY.md lists: an access token without `iat` passes
    /// (RFC 9068 asks for one; every IdP sends it, and no peer refuses its absence) unless
    /// a maximum age needs it; a required claim is judged present, whatever its type.
    #[test]
    fn iat_is_needed_only_for_a_maximum_age_and_required_claims_only_present() {
        assert!(check_claims(&claims(json!({"iat": null})), &policy(), NOW).is_ok());
        let mut p = policy();
        p.required_claims = vec!["client_id".into(), "jti".into()];
        for value in [json!(5), json!(false), json!(""), json!([]), json!({})] {
            let present = json!({"client_id": value, "jti": "j-1"});
            assert!(check_claims(&claims(present), &p, NOW).is_ok(), "{value}");
        }
        // `null` is absent (the `claims` helper drops nulls, so build this one directly).
        let mut with_null = map(json!({"jti": "j-1"}));
        with_null.insert("client_id".into(), Value::Null);
        assert_eq!(
            check_claims(&Claims::from_map(&with_null), &p, NOW)
                .unwrap_err()
                .reason,
            Reason::MissingClaim
        );
    }

    /// A number is a principal as `serde_json` writes it (`1.5e3` is `1500.0`): some IdPs'
    /// user ids are numbers; a boolean, object or empty string never is one.
    #[test]
    fn a_numeric_principal_claim_is_written_as_its_number() {
        let chain = vec!["sub".to_owned()];
        assert_eq!(
            principal(&claims(json!({"sub": 123})), &chain).unwrap(),
            "123"
        );
        assert_eq!(
            principal(&claims(json!({"sub": 1.5e3})), &chain).unwrap(),
            "1500.0"
        );
        for value in [json!(true), json!({}), json!([]), json!("")] {
            assert_eq!(
                principal(&claims(json!({"sub": value})), &chain)
                    .unwrap_err()
                    .reason,
                Reason::MissingClaim,
                "{value}"
            );
        }
    }

    #[test]
    fn the_principal_is_the_first_present_claim_of_the_chain() {
        let chain = vec!["email".to_owned(), "sub".to_owned()];
        assert_eq!(principal(&claims(json!({})), &chain).unwrap(), "user-1");
        assert_eq!(
            principal(&claims(json!({"email": "a@b"})), &chain).unwrap(),
            "a@b"
        );
        assert_eq!(
            principal(&claims(json!({"email": "", "sub": null})), &chain)
                .unwrap_err()
                .reason,
            Reason::MissingClaim
        );
    }

    #[test]
    fn algorithms_outside_the_allow_list_are_refused_with_the_reason() {
        let allowed = [Algorithm::RS256];
        assert_eq!(allowed_algorithm("RS256", &allowed), Ok(Algorithm::RS256));
        for alg in [
            "none", "None", "NONE", "nOnE", "HS256", "RS384", "ES256", "RS256 ", "", "RS257", "é",
        ] {
            assert_eq!(
                allowed_algorithm(alg, &allowed).unwrap_err().reason,
                Reason::AlgorithmNotAllowed,
                "{alg}"
            );
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(ago(41.0), "41s");
        assert_eq!(ago(125.0), "2m 5s");
        assert_eq!(ago(7260.0), "2h 1m");
        assert_eq!(
            ago(1e300),
            format!("{}d {}h", u64::MAX / 86400, (u64::MAX % 86400) / 3600)
        );
    }
}
