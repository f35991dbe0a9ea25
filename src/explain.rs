//! `token-verifier explain`: what a token is, and every check the authorizer would run on
//! it, in the authorizer's order, each passed or failed with the authorizer's own reason
//! code and hint.
//!
//! The token is never trusted: its header and claims are shown as decoded, and the report
//! says whether the signature check established them. The checks are the functions
//! [`Verifier::verify`](crate::verify::Verifier::verify) runs
//! ([`crate::verify::CLAIM_CHECKS`] and its neighbours), so a report cannot disagree with
//! the authorizer; unlike the authorizer, `explain` goes on after a failure, so one run
//! shows everything that is wrong. Only the CLI links this module: the Lambda binary does
//! not.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::claims::{Claim, Claims};

use crate::authorizer::{Authorizer, fingerprint};
use crate::config::{Config, IssuerConfig};
use crate::decision::check_scopes;
use crate::jwk::VerificationKey;
use crate::refusal::{Outcome, Reason, Refusal, sanitize};
use crate::routes::CalledRoute;
use crate::token::{self, DEFAULT_MAX_TOKEN_BYTES, Jws};
use crate::verify::{
    CLAIM_CHECKS, Check, UnixTime, ago, allowed_algorithm, check_signature, check_token_type,
    claim, id_token_marker, key_refusal, principal,
};

/// How to explain.
#[derive(Debug, Clone)]
pub struct Options {
    /// Do not fetch keys over the network (fixed key sets are still used).
    pub offline: bool,
    /// Whether the configuration names the API's audience (`--audience`, a document, or
    /// the environment); when not, the audience is shown but not judged.
    pub audience_known: bool,
    /// The route ARN to judge route rules against (`--arn`).
    pub arn: Option<String>,
    /// The time to judge `exp`/`nbf`/`iat` at.
    pub now: UnixTime,
}

/// What the credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A signed JWT marked as an access token (`typ: at+jwt`, or scopes, `client_id`,
    /// `token_use: access`).
    AccessToken,
    /// A signed JWT that is an `OpenID Connect` ID token.
    IdToken,
    /// A signed JWT with nothing that says what it is for.
    SignedJwt,
    /// An opaque string only its issuer can read.
    Opaque,
    /// An encrypted JWE (five segments).
    Encrypted,
    /// Not a token this verifier can read.
    Malformed,
    /// Nothing at all.
    Empty,
}

impl Kind {
    /// Stable name (`--json`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::AccessToken => "access_token",
            Kind::IdToken => "id_token",
            Kind::SignedJwt => "signed_jwt",
            Kind::Opaque => "opaque",
            Kind::Encrypted => "jwe",
            Kind::Malformed => "malformed",
            Kind::Empty => "empty",
        }
    }

    /// One line for people.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Kind::AccessToken => "a signed JWT access token (JWS)",
            Kind::IdToken => {
                "an OpenID Connect ID token (a signed JWT about the user, not for APIs)"
            }
            Kind::SignedJwt => "a signed JWT (JWS); nothing in it says it is an access token",
            Kind::Opaque => "an opaque token (not a JWT: only the identity provider can read it)",
            Kind::Encrypted => "an encrypted JWE (5 segments), not a signed JWT",
            Kind::Malformed => "not a token this authorizer can read",
            Kind::Empty => "nothing: the input is empty",
        }
    }

    /// The fix for the kinds that are the wrong kind of token.
    #[must_use]
    pub const fn advice(self) -> Option<&'static str> {
        match self {
            Kind::Opaque => Some(Reason::OpaqueToken.advice()),
            Kind::Encrypted => Some(Reason::EncryptedToken.advice()),
            Kind::IdToken => Some(Reason::IdToken.advice()),
            _ => None,
        }
    }
}

/// How one check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It passed; the detail says what was found.
    Pass,
    /// It failed, with the authorizer's refusal.
    Fail(Refusal),
    /// It could not run because an earlier check failed.
    Skipped,
    /// It could not run for lack of configuration, keys or a route.
    NotChecked,
}

impl Status {
    /// Stable name (`--json`).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail(_) => "fail",
            Status::Skipped => "skipped",
            Status::NotChecked => "not_checked",
        }
    }
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Which check.
    pub check: Check,
    /// How it went.
    pub status: Status,
    /// What was found (pass), or why it could not run (skipped, not checked).
    pub detail: String,
}

/// The whole explanation of one credential.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the credential is.
    pub kind: Kind,
    /// Its size in bytes.
    pub bytes: usize,
    /// The fingerprint the authorizer logs as `token_fp`.
    pub fingerprint: String,
    /// The (protected) header, as decoded, untrusted.
    pub header: Option<Map<String, Value>>,
    /// The claims, as decoded, untrusted unless the signature check passed.
    pub claims: Option<Map<String, Value>>,
    /// Every check, in the authorizer's order.
    pub steps: Vec<Step>,
    /// The time the checks were judged at.
    pub now: UnixTime,
}

/// What the authorizer would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allow: every check passed.
    Allow,
    /// The first failing check's refusal: 401, 403, or an error (500).
    Refused(Refusal),
    /// Every check that ran passed, but these could not run.
    Incomplete(Vec<Check>),
}

impl Report {
    /// The authorizer's answer, as far as the checks that ran can tell.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        if let Some(refusal) = self.steps.iter().find_map(|s| match &s.status {
            Status::Fail(r) => Some(r.clone()),
            _ => None,
        }) {
            return Verdict::Refused(refusal);
        }
        let missing: Vec<Check> = self
            .steps
            .iter()
            .filter(|s| s.status == Status::NotChecked)
            .map(|s| s.check)
            .collect();
        if missing.is_empty() {
            Verdict::Allow
        } else {
            Verdict::Incomplete(missing)
        }
    }

    /// The fix for a wrong kind of token, when the authorizer refuses it for being one.
    #[must_use]
    pub fn advice(&self) -> Option<&'static str> {
        let framing_failed = self
            .steps
            .first()
            .is_some_and(|s| matches!(s.status, Status::Fail(_)));
        match self.kind {
            Kind::Opaque | Kind::Encrypted if framing_failed => self.kind.advice(),
            Kind::IdToken => self.kind.advice(),
            _ => None,
        }
    }

    /// 0 when the authorizer would allow the token, 1 otherwise (refused, or not every
    /// check could run).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict() != Verdict::Allow)
    }

    /// The report as JSON (`--json`).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let times: Map<String, Value> = self
            .claims
            .iter()
            .flat_map(|c| c.iter())
            .filter_map(|(name, value)| {
                let at = time_value(name, value)?;
                Some((
                    name.clone(),
                    json!({"unix": value, "utc": utc(at), "relative": relative(name, at, self.now)}),
                ))
            })
            .collect();
        let checks: Vec<Value> = self
            .steps
            .iter()
            .map(|step| {
                let mut entry = json!({"check": step.check.name(), "status": step.status.name()});
                if let Status::Fail(refusal) = &step.status {
                    entry["reason"] = json!(refusal.reason.code());
                    entry["outcome"] = json!(refusal.reason.outcome().as_str());
                    entry["detail"] = json!(refusal.detail);
                    entry["hint"] = json!(refusal.hint());
                } else {
                    entry["detail"] = json!(step.detail);
                }
                entry
            })
            .collect();
        let verdict = match self.verdict() {
            Verdict::Allow => json!({"result": "allow", "http_status": 200}),
            Verdict::Refused(refusal) => json!({
                "result": refusal.reason.outcome().as_str(),
                "http_status": http_status(refusal.reason.outcome()),
                "reason": refusal.reason.code(),
                "hint": refusal.hint(),
            }),
            Verdict::Incomplete(missing) => json!({
                "result": "incomplete",
                "not_checked": missing.iter().map(|c| c.name()).collect::<Vec<_>>(),
            }),
        };
        json!({
            "kind": self.kind.name(),
            "description": self.kind.describe(),
            "advice": self.advice(),
            "bytes": self.bytes,
            "fingerprint": self.fingerprint,
            "header": self.header,
            "claims": self.claims,
            "times": times,
            "checks": checks,
            "verdict": verdict,
            "exit_code": self.exit_code(),
        })
    }

    /// The report for people.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Token     {} ({} bytes, fingerprint {})",
            self.kind.describe(),
            self.bytes,
            self.fingerprint
        );
        if let Some(advice) = self.advice() {
            let _ = writeln!(out, "          fix: {advice}");
        }
        let signature_passed = self
            .steps
            .iter()
            .any(|s| s.check == Check::Signature && s.status == Status::Pass);
        let vouched = self
            .steps
            .iter()
            .any(|s| s.check == Check::Opaque && s.status == Status::Pass);
        if let Some(header) = &self.header {
            let _ = writeln!(out, "Header");
            for (name, value) in header {
                let _ = writeln!(out, "  {name:<14}{}", shown(value));
            }
        }
        if let Some(claims) = &self.claims {
            let _ = writeln!(
                out,
                "Claims    {}",
                if signature_passed {
                    "(signature verified)"
                } else if vouched {
                    "(vouched for by the identity provider)"
                } else {
                    "(untrusted: the signature was not verified)"
                }
            );
            for (name, value) in claims {
                let mut line = format!("  {name:<14}{}", shown(value));
                if let Some(at) = time_value(name, value) {
                    let _ = write!(line, "  = {}, {}", utc(at), relative(name, at, self.now));
                }
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = writeln!(out, "Checks    (in the authorizer's order)");
        for step in &self.steps {
            let (mark, text) = match &step.status {
                Status::Pass => ("pass", step.detail.clone()),
                Status::Fail(refusal) => (
                    "FAIL",
                    format!("{}: {}", refusal.reason.code(), refusal.hint()),
                ),
                Status::Skipped => ("skip", step.detail.clone()),
                Status::NotChecked => ("----", format!("not checked: {}", step.detail)),
            };
            let _ = writeln!(out, "  {mark}  {:<18}{text}", step.check.name());
        }
        let verdict = match self.verdict() {
            Verdict::Allow => "ALLOW: the authorizer would allow this token (200)".to_owned(),
            Verdict::Refused(refusal) => {
                let outcome = refusal.reason.outcome();
                format!(
                    "{} ({}): {}",
                    outcome.as_str().to_ascii_uppercase(),
                    http_status(outcome),
                    refusal.reason.code()
                )
            }
            Verdict::Incomplete(missing) => format!(
                "INCOMPLETE: every check that ran passed; not checked: {}",
                missing
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let _ = writeln!(out, "Verdict   {verdict}");
        out
    }
}

/// The HTTP status API Gateway returns for an outcome.
#[must_use]
pub const fn http_status(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Allow => 200,
        Outcome::Unauthorized => 401,
        Outcome::Deny => 403,
        Outcome::Error => 500,
    }
}

/// The credential in what a user pastes: surrounding whitespace and quotes, an
/// `Authorization:` prefix and the `Bearer` scheme are removed.
#[must_use]
pub fn credential(input: &str) -> &str {
    let mut s = input.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    for prefix in ["authorization:", "bearer "] {
        // `get` and not indexing: the input may be any text, and a byte index inside a
        // multi-byte character must not panic.
        if s.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        {
            s = s[prefix.len()..].trim_start();
        }
    }
    s
}

/// Explains `input` (a token, as pasted) against the authorizer's configuration, or, with
/// `None`, against nothing but the rules that need no configuration.
pub async fn explain(authorizer: Option<&Authorizer>, input: &str, options: &Options) -> Report {
    let token = credential(input);
    let active = authorizer.map(Authorizer::current);
    let max_bytes = active
        .as_ref()
        .map_or(DEFAULT_MAX_TOKEN_BYTES, |a| a.verifier.max_token_bytes());
    let mut report = Report {
        kind: Kind::Malformed,
        bytes: token.len(),
        fingerprint: fingerprint(token),
        header: None,
        claims: None,
        steps: Vec::new(),
        now: options.now,
    };
    // What the authorizer's event layer refuses before any parsing: several credentials,
    // whitespace or control characters inside one.
    let framed = crate::event::bearer(&format!("Bearer {token}"))
        .map(|_| ())
        .and_then(|()| token::parse(token, max_bytes));
    let jws = match framed {
        Ok(jws) => jws,
        Err(refusal) => {
            if crate::verify::goes_to_provider(&refusal, token)
                && let Some(active) = &active
                && active.verifier.opaque().is_some()
            {
                report.kind = if refusal.reason == Reason::EncryptedToken {
                    Kind::Encrypted
                } else {
                    Kind::Opaque
                };
                report.header = peek(token).0;
                opaque_token(active, token, options, &mut report).await;
                return report;
            }
            report.kind = match refusal.reason {
                _ if token.is_empty() => Kind::Empty,
                Reason::OpaqueToken => Kind::Opaque,
                Reason::EncryptedToken => Kind::Encrypted,
                _ => Kind::Malformed,
            };
            (report.header, report.claims) = peek(token);
            report.steps.push(fail(Check::Framing, refusal));
            skip_rest(&mut report.steps, "the token could not be decoded");
            return report;
        }
    };
    report.kind = kind_of(&jws);
    report.header = peek(token).0;
    report.claims = Some(jws.claims.to_map());
    report.steps.push(pass(
        Check::Framing,
        format!(
            "compact JWS header.payload.signature, alg {}, {} claims",
            sanitize(&jws.header.alg, 32),
            jws.claims.len()
        ),
    ));
    report.steps.push(skipped(
        Check::Opaque,
        "a JWT: verified by its signature, not by asking the identity provider",
    ));
    match active {
        Some(active) => configured(&active, &jws, options, &mut report.steps).await,
        None => unconfigured(&jws, options, &mut report.steps),
    }
    report
}

/// An opaque token of the issuer configured to validate them: the identity provider's
/// answer, then the checks [`crate::verify::opaque_claim_checks`] gives it.
async fn opaque_token(
    active: &crate::authorizer::Active,
    token: &str,
    options: &Options,
    report: &mut Report,
) {
    let Some(opaque) = active.verifier.opaque() else {
        return;
    };
    let mode = opaque.validator.mode().as_str();
    report.steps.push(pass(
        Check::Framing,
        format!(
            "{}, validated by the identity provider's {mode} endpoint (OPAQUE_TOKENS={mode})",
            if report.kind == Kind::Encrypted {
                "a JWE only the provider can read"
            } else {
                "an opaque token"
            }
        ),
    ));
    if options.offline {
        report.steps.push(not_checked(
            Check::Opaque,
            format!("--offline: {} was not asked", opaque.validator.describe()),
        ));
        skip_rest(&mut report.steps, "the identity provider was not asked");
        return;
    }
    let (answer, lookup) = opaque.validator.validate(token, options.now).await;
    let claims = match answer {
        Ok(claims) => claims,
        Err(refusal) => {
            report.steps.push(fail(Check::Opaque, refusal));
            skip_rest(
                &mut report.steps,
                "the identity provider did not vouch for the token",
            );
            return;
        }
    };
    report.steps.push(pass(
        Check::Opaque,
        format!(
            "{} vouches for it{}",
            opaque.validator.describe(),
            if lookup == crate::opaque::Lookup::Cached {
                " (cached answer)"
            } else {
                ""
            }
        ),
    ));
    let policy = &active.verifier.issuers()[opaque.issuer].config;
    let checks = crate::verify::opaque_claim_checks(&claims);
    for check in &Check::ALL[2..] {
        let check = *check;
        if matches!(check, Check::Algorithm | Check::Key | Check::Signature) {
            report.steps.push(skipped(
                check,
                "an opaque token: its identity provider vouched for it",
            ));
        } else if check == Check::Audience && !options.audience_known {
            report.steps.push(not_checked(
                check,
                format!(
                    "no audience configured (give --audience); the answer's aud is {}",
                    claims
                        .get("aud")
                        .map_or_else(|| "absent".to_owned(), shown_claim)
                ),
            ));
        } else if let Some((_, run)) = checks.iter().find(|(c, _)| *c == check) {
            report.steps.push(outcome_of(
                check,
                run(&claims, policy, options.now),
                || match check {
                    Check::Issuer => claims.get("iss").map_or_else(
                        || "the answer names no iss".to_owned(),
                        |iss| format!("iss is {}", shown_claim(iss)),
                    ),
                    Check::TokenType => claims.get("token_type").map_or_else(
                        || "the answer names no token_type".to_owned(),
                        |t| format!("token_type is {}", shown_claim(t)),
                    ),
                    Check::Audience if !claims.contains_key("aud") => {
                        "the answer names no audience; OPAQUE_AUDIENCE=unbound accepts that"
                            .to_owned()
                    }
                    _ => pass_detail(check, &claims, policy, options.now),
                },
            ));
        } else if check == Check::IdToken {
            report
                .steps
                .push(skipped(check, "does not apply to an opaque token"));
        } else if CLAIM_CHECKS.iter().any(|(c, _)| *c == check) {
            report
                .steps
                .push(skipped(check, "not in the identity provider's answer"));
        }
        if check == Check::RequiredClaims {
            break;
        }
    }
    permission_steps(active, &claims, policy, options, &mut report.steps);
    report.claims = Some(claims.to_map());
}

/// Every check against a configuration.
async fn configured(
    active: &crate::authorizer::Active,
    jws: &Jws<'_>,
    options: &Options,
    steps: &mut Vec<Step>,
) {
    let verifier = &active.verifier;
    let issuers = verifier.issuers();
    let index = match verifier.route(&jws.claims) {
        Ok(index) => {
            steps.push(pass(
                Check::Issuer,
                format!(
                    "iss is {}, a configured issuer",
                    issuers[index].config.issuer
                ),
            ));
            index
        }
        Err(refusal) => {
            steps.push(fail(Check::Issuer, refusal));
            if issuers.len() != 1 {
                skip_rest(
                    steps,
                    "no configured issuer matches iss, so no issuer's rules apply",
                );
                return;
            }
            0
        }
    };
    let issuer = &issuers[index];
    let policy = &issuer.config;
    let alg = match allowed_algorithm(&jws.header.alg, &policy.algorithms) {
        Ok(alg) => {
            steps.push(pass(
                Check::Algorithm,
                format!(
                    "{alg} is in ALLOWED_ALGORITHMS ({})",
                    names(&policy.algorithms)
                ),
            ));
            Some(alg)
        }
        Err(refusal) => {
            steps.push(fail(Check::Algorithm, refusal));
            None
        }
    };
    steps.push(outcome_of(
        Check::TokenType,
        check_token_type(&jws.header, &jws.claims, policy),
        || typ_detail(jws),
    ));

    let kid = jws.header.kid.as_deref();
    let key: Option<std::sync::Arc<VerificationKey>> = match alg {
        None => {
            steps.push(skipped(Check::Key, "the algorithm is not allowed"));
            None
        }
        Some(_) if options.offline && !issuer.keys.is_fixed() => {
            steps.push(not_checked(
                Check::Key,
                format!(
                    "--offline: the keys of {} were not fetched (give --jwks FILE to check offline)",
                    issuer.keys.describe()
                ),
            ));
            None
        }
        Some(alg) => match issuer.keys.key(kid, alg).await {
            Ok(hit) => {
                let origin = match hit.origin {
                    crate::keys::KeyOrigin::Fixed => String::new(),
                    other => format!(" ({})", other.as_str()),
                };
                steps.push(pass(
                    Check::Key,
                    format!(
                        "kid {} in {}{origin}",
                        hit.key.kid.as_deref().unwrap_or("(none)"),
                        issuer.keys.describe(),
                    ),
                ));
                Some(hit.key)
            }
            Err(error) => {
                steps.push(fail(Check::Key, key_refusal(error, kid, alg, &issuer.keys)));
                None
            }
        },
    };
    if let (Some(key), Some(alg)) = (&key, alg) {
        steps.push(outcome_of(
            Check::Signature,
            check_signature(key, alg, jws),
            || {
                format!(
                    "{alg} signature verifies with kid {}",
                    key.kid.as_deref().unwrap_or("(none)")
                )
            },
        ));
    } else {
        let key_step = steps.last().map(|s| s.status.clone());
        steps.push(if key_step == Some(Status::NotChecked) {
            not_checked(Check::Signature, "no key to verify with")
        } else {
            skipped(Check::Signature, "no key to verify with")
        });
    }

    claim_checks(&jws.claims, policy, options, steps);
    permission_steps(active, &jws.claims, policy, options, steps);
}

/// Principal, scopes and route rules: the same for a JWT and an opaque token.
fn permission_steps(
    active: &crate::authorizer::Active,
    claims: &Claims,
    policy: &IssuerConfig,
    options: &Options,
    steps: &mut Vec<Step>,
) {
    steps.push(outcome_of(
        Check::Principal,
        principal(claims, &policy.principal_claims).map(|_| ()),
        || principal_detail(claims, policy),
    ));
    steps.push(outcome_of(
        Check::Scopes,
        check_scopes(claims, policy),
        || {
            if policy.required_scopes.is_empty() {
                "no REQUIRED_SCOPES".to_owned()
            } else {
                format!("granted: {}", policy.required_scopes.join(" "))
            }
        },
    ));
    if active.routes.is_empty() {
        steps.push(pass(Check::Routes, "no route rules"));
        return;
    }
    match options.arn.as_deref().map(CalledRoute::from_arn) {
        None => steps.push(not_checked(
            Check::Routes,
            "route rules are configured: give --arn with the route's methodArn or routeArn",
        )),
        Some(None) => steps.push(fail(
            Check::Routes,
            Refusal::new(
                Reason::RouteNotAllowed,
                "the route ARN has no stage/method/path, so no route rule can be applied",
            ),
        )),
        Some(Some(called)) => steps.push(outcome_of(
            Check::Routes,
            active.routes.check(&called, claims, &policy.scope_claims),
            || format!("the route rules allow {}", called.key()),
        )),
    }
}

/// The checks that need no configuration, under the default rules; the rest are named
/// as not checked.
fn unconfigured(jws: &Jws<'_>, options: &Options, steps: &mut Vec<Step>) {
    const WHY: &str = "no issuer configured (give --issuer, --config FILE or --env)";
    let Some(policy) = default_policy(&jws.claims) else {
        skip_rest(steps, WHY);
        return;
    };
    steps.push(not_checked(Check::Issuer, WHY));
    steps.push(not_checked(Check::Algorithm, WHY));
    steps.push(outcome_of(
        Check::TokenType,
        check_token_type(&jws.header, &jws.claims, &policy),
        || typ_detail(jws),
    ));
    steps.push(not_checked(Check::Key, WHY));
    steps.push(not_checked(Check::Signature, WHY));
    let options = Options {
        audience_known: false,
        ..options.clone()
    };
    claim_checks(&jws.claims, &policy, &options, steps);
    steps.push(outcome_of(
        Check::Principal,
        principal(&jws.claims, &policy.principal_claims).map(|_| ()),
        || principal_detail(&jws.claims, &policy),
    ));
    steps.push(not_checked(Check::Scopes, WHY));
    steps.push(not_checked(Check::Routes, WHY));
}

/// The default rules of an issuer (leeway, token types, principal claims), for the
/// checks that need no configuration.
fn default_policy(claims: &Claims) -> Option<IssuerConfig> {
    let issuer = claims
        .get("iss")
        .and_then(|c| c.as_str())
        .filter(|s| !s.is_empty())
        .map_or_else(
            || "https://issuer.invalid/".to_owned(),
            std::borrow::Cow::into_owned,
        );
    let config = Config::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(issuer.clone()),
        "AUDIENCE" => Some("-".to_owned()),
        _ => None,
    })
    .ok()?;
    config.issuers.into_iter().next()
}

fn claim_checks(claims: &Claims, policy: &IssuerConfig, options: &Options, steps: &mut Vec<Step>) {
    for (check, run) in CLAIM_CHECKS {
        if check == Check::Audience && !options.audience_known {
            steps.push(not_checked(
                check,
                format!(
                    "no audience configured (give --audience); the token's aud is {}",
                    claims
                        .get("aud")
                        .map_or_else(|| "absent".to_owned(), shown_claim)
                ),
            ));
            continue;
        }
        steps.push(outcome_of(check, run(claims, policy, options.now), || {
            pass_detail(check, claims, policy, options.now)
        }));
    }
}

/// What a passing claim check found.
fn pass_detail(check: Check, claims: &Claims, policy: &IssuerConfig, now: UnixTime) -> String {
    let number = |name: &str| claims.get(name).and_then(|c| c.as_f64());
    match check {
        Check::TimeClaims => {
            let present: Vec<&str> = ["exp", "nbf", "iat"]
                .into_iter()
                .filter(|n| claims.contains_key(n))
                .collect();
            if present.is_empty() {
                "no time claims".to_owned()
            } else {
                format!("{} are numbers", present.join(", "))
            }
        }
        Check::IdToken => {
            "no at_hash, c_hash, s_hash, token_use id, typ ID, or nonce without scope".to_owned()
        }
        Check::TokenUse => match claims.get("token_use") {
            None => "no token_use claim".to_owned(),
            Some(value) => format!("token_use is {}", shown_claim(value)),
        },
        Check::Audience => {
            let name = match (claims.contains_key("aud"), &policy.audience_fallback_claim) {
                (false, Some(fallback)) => fallback.as_str(),
                _ => "aud",
            };
            format!(
                "{name} is {}, which names {}",
                claim(claims, name).map_or_else(|| "absent".to_owned(), shown_claim),
                policy.audiences.join(" or ")
            )
        }
        Check::Expiry => number("exp").map_or_else(String::new, |exp| {
            format!(
                "expires {} ({}, leeway {}s)",
                utc(exp),
                relative("exp", exp, now),
                policy.leeway.as_secs()
            )
        }),
        Check::NotBefore => number("nbf").map_or_else(
            || "no nbf".to_owned(),
            |nbf| format!("valid from {} ({})", utc(nbf), relative("nbf", nbf, now)),
        ),
        Check::IssuedAt => number("iat").map_or_else(
            || "no iat".to_owned(),
            |iat| {
                let limit = policy.max_token_age.map_or_else(
                    || "no MAX_TOKEN_AGE_SECONDS".to_owned(),
                    |m| format!("MAX_TOKEN_AGE_SECONDS {}", m.as_secs()),
                );
                format!(
                    "issued {} ({}; {limit})",
                    utc(iat),
                    relative("iat", iat, now)
                )
            },
        ),
        Check::RequiredClaims if policy.required_claims.is_empty() => {
            "no REQUIRED_CLAIMS".to_owned()
        }
        Check::RequiredClaims => format!("{} present", policy.required_claims.join(", ")),
        _ => String::new(),
    }
}

fn principal_detail(claims: &Claims, policy: &IssuerConfig) -> String {
    policy
        .principal_claims
        .iter()
        .find_map(|name| {
            principal(claims, std::slice::from_ref(name))
                .ok()
                .map(|id| format!("principalId {} (from {name})", sanitize(&id, 128)))
        })
        .unwrap_or_default()
}

fn typ_detail(jws: &Jws<'_>) -> String {
    match &jws.header.typ {
        Some(typ) => format!("typ {} is accepted", sanitize(typ, 32)),
        None => "no typ, accepted (REQUIRE_TOKEN_TYPE is off)".to_owned(),
    }
}

fn kind_of(jws: &Jws<'_>) -> Kind {
    if id_token_marker(&jws.claims).is_some() {
        return Kind::IdToken;
    }
    let typ = jws.header.typ.as_deref().map(str::to_ascii_lowercase);
    let access_typ = matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt"));
    let access_claims = ["scope", "scp", "permissions", "client_id", "cid"]
        .iter()
        .any(|c| jws.claims.contains_key(c))
        || jws.claims.get("token_use").is_some_and(|c| c == "access");
    if access_typ || access_claims {
        Kind::AccessToken
    } else {
        Kind::SignedJwt
    }
}

type Decoded = Option<Map<String, Value>>;

/// Header and claims of a token that did not parse strictly, decoded leniently for
/// display only.
fn peek(token: &str) -> (Decoded, Decoded) {
    let segments: Vec<&str> = token.split('.').collect();
    let object = |segment: &str| -> Option<Map<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let header = if segments.len() >= 3 {
        object(segments[0])
    } else {
        None
    };
    let claims = if segments.len() == 3 {
        object(segments[1])
    } else {
        None
    };
    (header, claims)
}

fn pass(check: Check, detail: impl Into<String>) -> Step {
    Step {
        check,
        status: Status::Pass,
        detail: detail.into(),
    }
}

fn fail(check: Check, refusal: Refusal) -> Step {
    Step {
        check,
        status: Status::Fail(refusal),
        detail: String::new(),
    }
}

fn skipped(check: Check, why: impl Into<String>) -> Step {
    Step {
        check,
        status: Status::Skipped,
        detail: why.into(),
    }
}

fn not_checked(check: Check, why: impl Into<String>) -> Step {
    Step {
        check,
        status: Status::NotChecked,
        detail: why.into(),
    }
}

fn outcome_of(check: Check, result: Result<(), Refusal>, detail: impl FnOnce() -> String) -> Step {
    match result {
        Ok(()) => pass(check, detail()),
        Err(refusal) => fail(check, refusal),
    }
}

/// Marks every check not yet reported as skipped.
fn skip_rest(steps: &mut Vec<Step>, why: &str) {
    for check in Check::ALL {
        if !steps.iter().any(|s| s.check == check) {
            steps.push(skipped(check, why));
        }
    }
}

fn names(algorithms: &[crate::algorithm::Algorithm]) -> String {
    algorithms
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A claim value on one line: strings as they are, the rest as compact JSON; truncated.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => sanitize(s, 200),
        other => sanitize(&other.to_string(), 200),
    }
}

/// A claim value on one line, as [`shown`].
fn shown_claim(value: Claim<'_>) -> String {
    shown(&value.to_value())
}

/// The claims that hold times.
const TIME_CLAIMS: [&str; 5] = ["exp", "nbf", "iat", "auth_time", "updated_at"];

fn time_value(name: &str, value: &Value) -> Option<f64> {
    TIME_CLAIMS
        .contains(&name)
        .then(|| value.as_f64())
        .flatten()
        .filter(|v| v.is_finite())
}

/// "expires in 3h 2m", "expired 41s ago", "issued 2d 1h ago".
fn relative(name: &str, at: f64, now: UnixTime) -> String {
    let future = at > now;
    let span = ago(at - now);
    match (name, future) {
        ("exp", true) => format!("expires in {span}"),
        ("exp", false) => format!("expired {span} ago"),
        ("nbf", true) => format!("not valid for another {span}"),
        (_, true) => format!("{span} in the future"),
        (_, false) => format!("{span} ago"),
    }
}

/// A Unix time as `2026-11-22 19:30:00 UTC` (proleptic Gregorian, no time-zone data).
#[must_use]
pub fn utc(unix: f64) -> String {
    // Years 0..=9999 only: anything else is shown as the number it is.
    if !(-62_167_219_200.0..=253_402_300_799.0).contains(&unix) {
        return format!("{unix} (out of range)");
    }
    // In range, so the cast is exact for the whole seconds shown.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = unix.floor() as i64;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3600,
        (second_of_day % 3600) / 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_right_across_eras_and_leap_days() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_800_000_000.0), "2027-01-15 08:00:00 UTC");
        assert_eq!(utc(4_102_444_800.0), "2100-01-01 00:00:00 UTC");
        assert_eq!(utc(-1.0), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc(253_402_300_799.0), "9999-12-31 23:59:59 UTC");
        assert!(utc(1e300).ends_with("(out of range)"));
        assert!(utc(f64::NAN).ends_with("(out of range)"));
    }

    #[test]
    fn pasted_credentials_are_cleaned() {
        assert_eq!(credential("  eyJ.a.b \n"), "eyJ.a.b");
        assert_eq!(credential("Bearer eyJ.a.b"), "eyJ.a.b");
        assert_eq!(credential("authorization: bearer eyJ.a.b"), "eyJ.a.b");
        assert_eq!(credential("\"eyJ.a.b\""), "eyJ.a.b");
        assert_eq!(credential(""), "");
        // Multi-byte characters where a prefix would end: no panic, nothing removed.
        assert_eq!(credential("aéééééééé"), "aéééééééé");
        assert_eq!(credential("Authorizatioé x"), "Authorizatioé x");
        assert_eq!(credential("beareré"), "beareré");
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative("exp", 1060.0, 1000.0), "expires in 1m 0s");
        assert_eq!(relative("exp", 1000.0, 4600.0), "expired 1h 0m ago");
        assert_eq!(relative("iat", 1000.0, 1030.0), "30s ago");
        assert_eq!(relative("nbf", 1030.0, 1000.0), "not valid for another 30s");
    }
}
