//! The checks of a token's claims against its issuer's rules, in the authorizer's order:
//! each a pure function of the claims, the issuer's settings and the time, so `explain`
//! runs exactly these and a report cannot disagree with the authorizer.

use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::opaque::OpaqueAudience;
use crate::settings::{IssuerSettings, Setting};
use crate::token::{Claim, Claims, Kind, UnixTime, ago, claim};

/// Every check the authorizer runs on a token, in its order. `Verifier::verify` stops
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
    /// The token's binding (`SENDER_CONSTRAINT`): its client certificate, when bound.
    Binding,
    /// `REQUIRED_SCOPES` are granted (a Deny, not a 401, when not).
    Scopes,
    /// The route rules allow the called route (a Deny when not).
    Routes,
    /// The Cedar policies permit the called route's action (a Deny when not).
    Policies,
}

impl Check {
    /// Every check, in the authorizer's order.
    pub const ALL: [Check; 20] = [
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
        Check::Binding,
        Check::Scopes,
        Check::Routes,
        Check::Policies,
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
            Check::Binding => "binding",
            Check::Scopes => "scopes",
            Check::Routes => "routes",
            Check::Policies => "policies",
        }
    }
}

/// A check of verified claims against an issuer's rules at a time.
pub(crate) type ClaimCheck = fn(&Claims, &IssuerSettings, UnixTime) -> Result<(), Refusal>;

/// The claim checks, in order: [`check_claims`] runs them all and stops at the first
/// refusal.
pub(crate) const CLAIM_CHECKS: [(Check, ClaimCheck); 8] = [
    (Check::TimeClaims, check_time_claims),
    (Check::IdToken, check_not_id_token),
    (Check::TokenUse, check_token_use),
    (Check::Audience, check_audience_of),
    (Check::Expiry, check_expiry),
    (Check::NotBefore, check_not_before),
    (Check::IssuedAt, check_issued_at),
    (Check::RequiredClaims, check_required_claims),
];

pub(crate) const LOG_VALUE_CHARS: usize = 128;

/// A claim for a log line or a message: a string's value, otherwise its JSON text as
/// the token has it; sanitized and truncated.
pub(crate) fn loggable(value: Claim<'_>) -> String {
    match value.as_str() {
        Some(s) => sanitize(&s, LOG_VALUE_CHARS),
        None => sanitize(value.raw(), LOG_VALUE_CHARS),
    }
}

/// Claims only ID tokens carry (OIDC Core §3.1.3.6, §3.3.2.11; hybrid `s_hash`).
const ID_TOKEN_MARKERS: [&str; 3] = ["at_hash", "c_hash", "s_hash"];

/// The checks an identity provider's answer about an opaque token gets, in order. The
/// provider vouched for the token, so nothing about signatures applies; `iss` is
/// compared, the token type must be an access token's (introspection also vouches for
/// refresh tokens), the audience must name this API unless the issuer accepts unbound
/// tokens (`OPAQUE_AUDIENCE=unbound`), and `exp` is judged when the answer has one.
pub(crate) fn opaque_claim_checks(claims: &Claims) -> Vec<(Check, ClaimCheck)> {
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
fn check_answer_token_type(
    claims: &Claims,
    _: &IssuerSettings,
    _: UnixTime,
) -> Result<(), Refusal> {
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
    policy: &IssuerSettings,
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
        Some(OpaqueAudience::Unbound) => Ok(()),
        _ => Err(Refusal::new(
            Reason::WrongAudience,
            format!(
                "the identity provider's answer names no audience, so nothing says this token is for this API ({}=unbound accepts that)",
                policy.name(Setting::OpaqueAudience)
            ),
        )),
    }
}

fn check_answer_issuer(
    claims: &Claims,
    policy: &IssuerSettings,
    _: UnixTime,
) -> Result<(), Refusal> {
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
pub(crate) fn check_claims(
    claims: &Claims,
    policy: &IssuerSettings,
    now: UnixTime,
) -> Result<(), Refusal> {
    for (_, check) in CLAIM_CHECKS {
        check(claims, policy, now)?;
    }
    Ok(())
}

fn check_time_claims(claims: &Claims, _: &IssuerSettings, _: UnixTime) -> Result<(), Refusal> {
    for name in ["exp", "nbf", "iat"] {
        time_claim(claims, name)?;
    }
    Ok(())
}

fn check_not_id_token(claims: &Claims, _: &IssuerSettings, _: UnixTime) -> Result<(), Refusal> {
    match id_token_marker(claims) {
        Some(marker) => Err(Refusal::new(Reason::IdToken, marker)),
        None => Ok(()),
    }
}

fn check_token_use(claims: &Claims, _: &IssuerSettings, _: UnixTime) -> Result<(), Refusal> {
    match claims.get("token_use") {
        None => Ok(()),
        Some(usage) if usage == "access" || usage == "access_token" => Ok(()),
        Some(other) => Err(Refusal::new(
            Reason::WrongTokenType,
            format!("token_use is {}, expected access", loggable(other)),
        )),
    }
}

fn check_audience_of(claims: &Claims, policy: &IssuerSettings, _: UnixTime) -> Result<(), Refusal> {
    let audience_claim = match (claims.contains_key("aud"), &policy.audience_fallback_claim) {
        (false, Some(fallback)) => fallback.as_str(),
        _ => "aud",
    };
    check_audience(claims, audience_claim, &policy.audiences)
}

fn check_expiry(claims: &Claims, policy: &IssuerSettings, now: UnixTime) -> Result<(), Refusal> {
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

fn check_not_before(
    claims: &Claims,
    policy: &IssuerSettings,
    now: UnixTime,
) -> Result<(), Refusal> {
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

fn check_issued_at(claims: &Claims, policy: &IssuerSettings, now: UnixTime) -> Result<(), Refusal> {
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
                    "issued {} ago, {} is {}",
                    ago(now - iat),
                    policy.name(Setting::MaxTokenAge),
                    max_age.as_secs()
                ),
            ))
        }
        (None, Some(_)) => Err(Refusal::new(
            Reason::MissingClaim,
            format!(
                "the token has no iat and {} is set",
                policy.name(Setting::MaxTokenAge)
            ),
        )),
        _ => Ok(()),
    }
}

fn check_required_claims(
    claims: &Claims,
    policy: &IssuerSettings,
    _: UnixTime,
) -> Result<(), Refusal> {
    for name in &policy.required_claims {
        if claim(claims, name).is_none_or(|c| c.is_null()) {
            return Err(Refusal::new(
                Reason::MissingClaim,
                format!(
                    "the token has no {} ({})",
                    sanitize(name, 64),
                    policy.name(Setting::RequiredClaims)
                ),
            ));
        }
    }
    Ok(())
}

/// What marks these claims as an `OpenID Connect` ID token, if anything: a hash claim,
/// Cognito's `token_use: id`, Keycloak's payload `typ: ID`, or a `nonce` without any
/// scope claim (some Keycloak versions put `nonce` into access tokens too, with scopes).
#[must_use]
pub(crate) fn id_token_marker(claims: &Claims) -> Option<String> {
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

/// The principal id: the first claim of the issuer's `principal_claims` that is a
/// non-empty string or a number.
///
/// # Errors
/// `missing_claim` when none is.
pub(crate) fn principal(claims: &Claims, policy: &IssuerSettings) -> Result<String, Refusal> {
    let chain = &policy.principal_claims;
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
            "none of {} ({}) is a non-empty string or a number",
            policy.name(Setting::PrincipalClaims),
            chain.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Map, Value, json};

    use super::*;
    use crate::settings::Algorithm;

    const NOW: f64 = 1_800_000_000.0;

    fn policy() -> IssuerSettings {
        IssuerSettings {
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(60),
            principal_claims: vec!["sub".into()],
            ..IssuerSettings::example()
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
        let chain = IssuerSettings {
            principal_claims: vec!["sub".to_owned()],
            ..policy()
        };
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
        let chain = IssuerSettings {
            principal_claims: vec!["email".to_owned(), "sub".to_owned()],
            ..policy()
        };
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
}
