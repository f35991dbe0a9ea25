//! `token-verifier explain`: what a token is, and every check the authorizer would run on
//! it, in the authorizer's order, each passed or failed with the authorizer's own reason
//! code and hint.
//!
//! The token is never trusted: its header and claims are shown as decoded, and the report
//! says whether the signature check established them. The checks are the functions
//! `Verifier::verify` runs
//! (`verify::checks::CLAIM_CHECKS` and its neighbours), so a report cannot disagree with
//! the authorizer; unlike the authorizer, `explain` goes on after a failure, so one run
//! shows everything that is wrong. Only the CLI links this module: it is built with the
//! `tools` feature, which the Lambda binary does not have.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

#[cfg(feature = "cedar")]
mod cedar;
pub mod display;
pub mod report;

pub use display::utc;
use display::{relative, shown_claim};
pub use report::{CedarExplained, Report, Status, Step, TokenKind, Verdict, http_status};

use crate::authorizer::active::Active;
use crate::authorizer::{Authorizer, fingerprint};
use crate::config::Config;
use crate::decision::{CalledRoute, check_scopes};
use crate::keys::VerificationKey;
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::issuer::DEFAULT_MAX_TOKEN_BYTES;
use crate::settings::{Algorithm, IssuerSettings};
use crate::token::{self, Claims, Jws, UnixTime, claim};
use crate::verify::advice::tailor;
use crate::verify::checks::{CLAIM_CHECKS, Check, id_token_marker, opaque_claim_checks, principal};
use crate::verify::header::{allowed_algorithm, check_signature, check_token_type, key_refusal};
use crate::verify::verifier::goes_to_provider;

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
    /// The client certificate (PEM) to judge a certificate-bound token against (`--cert`).
    pub client_cert: Option<String>,
    /// The DPoP proof and its request, to judge a DPoP-bound token with (`--dpop`,
    /// `--method`, `--url`).
    pub dpop: Option<Proof>,
}

/// A DPoP proof as the request carried it.
#[derive(Debug, Clone)]
pub struct Proof {
    /// The `DPoP` header's value.
    pub proof: String,
    /// The request's method (`GET`).
    pub method: String,
    /// The URL the client called.
    pub url: String,
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
/// `None`, against nothing but the rules that need no configuration. Refusals advise as
/// the authorizer's do: in the terms of the token's issuer (its preset, its configuration).
pub async fn explain(authorizer: Option<&Authorizer>, input: &str, options: &Options) -> Report {
    let mut report = explained(authorizer, input, options).await;
    if let Some(authorizer) = authorizer {
        advise(&authorizer.current(), &mut report);
    }
    report
}

/// The report's refusals and its advice in the terms of the issuer the token names (an
/// opaque token's: the issuer that validates them), or of the one issuer there is.
fn advise(active: &Active, report: &mut Report) {
    let verifier = &active.verifier;
    let routed = if matches!(report.kind, TokenKind::Opaque | TokenKind::Encrypted) {
        verifier.opaque().map(|o| o.issuer)
    } else {
        report
            .claims
            .as_ref()
            .and_then(|claims| claims.get("iss"))
            .and_then(Value::as_str)
            .and_then(|iss| {
                verifier
                    .issuers()
                    .iter()
                    .position(|i| i.config.issuer == iss)
            })
    };
    let advised = |refusal: Refusal| match routed {
        Some(index) => tailor(refusal, &verifier.issuers()[index].config),
        None => verifier.advising_unrouted(refusal),
    };
    for step in &mut report.steps {
        if let Status::Fail(refusal) = &mut step.status {
            *refusal = advised(refusal.clone());
        }
    }
    let reason = match report.kind {
        TokenKind::Opaque => Reason::OpaqueToken,
        TokenKind::Encrypted => Reason::EncryptedToken,
        TokenKind::IdToken => Reason::IdToken,
        _ => return,
    };
    report.kind_advice = advised(Refusal::new(reason, "")).advice;
}

async fn explained(authorizer: Option<&Authorizer>, input: &str, options: &Options) -> Report {
    let token = credential(input);
    let active = authorizer.map(Authorizer::current);
    let max_bytes = active
        .as_ref()
        .map_or(DEFAULT_MAX_TOKEN_BYTES, |a| a.verifier.max_token_bytes());
    let mut report = Report {
        kind: TokenKind::Malformed,
        bytes: token.len(),
        fingerprint: fingerprint(token),
        header: None,
        claims: None,
        steps: Vec::new(),
        now: options.now,
        kind_advice: None,
        cedar: None,
    };
    // What the authorizer's event layer refuses before any parsing: several credentials,
    // whitespace or control characters inside one.
    let framed = crate::gateway::credential::bearer(&format!("Bearer {token}"))
        .map(|_| ())
        .and_then(|()| token::parse(token, max_bytes));
    let jws = match framed {
        Ok(jws) => jws,
        Err(refusal) => {
            if goes_to_provider(&refusal, token)
                && let Some(active) = &active
                && active.verifier.opaque().is_some()
            {
                report.kind = if refusal.reason == Reason::EncryptedToken {
                    TokenKind::Encrypted
                } else {
                    TokenKind::Opaque
                };
                report.header = peek(token).0;
                opaque_token(active, token, options, &mut report).await;
                return report;
            }
            report.kind = match refusal.reason {
                _ if token.is_empty() => TokenKind::Empty,
                Reason::OpaqueToken => TokenKind::Opaque,
                Reason::EncryptedToken => TokenKind::Encrypted,
                _ => TokenKind::Malformed,
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
        Some(active) => {
            configured(&active, token, &jws, options, &mut report.steps).await;
            #[cfg(feature = "cedar")]
            if let Ok(index) = active.verifier.route(&jws.claims) {
                let policy = &active.verifier.issuers()[index].config;
                report.cedar = cedar::section(&active, &jws.claims, policy, options);
            }
        }
        None => unconfigured(&jws, options, &mut report.steps),
    }
    report
}

/// An opaque token of the issuer configured to validate them: the identity provider's
/// answer, then the checks [`opaque_claim_checks`] gives it.
async fn opaque_token(active: &Active, token: &str, options: &Options, report: &mut Report) {
    let Some(opaque) = active.verifier.opaque() else {
        return;
    };
    let mode = opaque.validator.mode().as_str();
    report.steps.push(pass(
        Check::Framing,
        format!(
            "{}, validated by the identity provider's {mode} endpoint (OPAQUE_TOKENS={mode})",
            if report.kind == TokenKind::Encrypted {
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
            if lookup == crate::verify::Lookup::Cached {
                " (cached answer)"
            } else {
                ""
            }
        ),
    ));
    let policy = &active.verifier.issuers()[opaque.issuer].config;
    let checks = opaque_claim_checks(&claims);
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
    permission_steps(active, token, &claims, policy, options, &mut report.steps);
    report.claims = Some(claims.to_map());
}

/// Every check against a configuration.
async fn configured(
    active: &Active,
    token: &str,
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
    let alg = match allowed_algorithm(&jws.header.alg, policy) {
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
    permission_steps(active, token, &jws.claims, policy, options, steps);
}

/// Principal, scopes and route rules: the same for a JWT and an opaque token.
fn permission_steps(
    active: &Active,
    token: &str,
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
    steps: &mut Vec<Step>,
) {
    steps.push(outcome_of(
        Check::Principal,
        principal(claims, policy).map(|_| ()),
        || principal_detail(claims, policy),
    ));
    steps.push(binding_step(active, token, claims, policy, options));
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
    steps.push(routes_step(active, claims, policy, options));
    #[cfg(feature = "cedar")]
    steps.push(cedar::step(active, claims, policy, options));
    #[cfg(not(feature = "cedar"))]
    steps.push(pass(
        Check::Policies,
        "no Cedar policies (a build without Cedar)",
    ));
}

/// The route rules, for `--arn`.
fn routes_step(
    active: &Active,
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
) -> Step {
    if active.routes.is_empty() {
        return pass(Check::Routes, "no route rules");
    }
    match options.arn.as_deref().map(CalledRoute::from_arn) {
        None => not_checked(
            Check::Routes,
            "route rules are configured: give --arn with the route's methodArn or routeArn",
        ),
        Some(None) => fail(
            Check::Routes,
            Refusal::new(
                Reason::RouteNotAllowed,
                "the route ARN has no stage/method/path, so no route rule can be applied",
            ),
        ),
        Some(Some(called)) => outcome_of(
            Check::Routes,
            active.routes.check(&called, claims, &policy.scope_claims),
            || format!("the route rules allow {}", called.key()),
        ),
    }
}

/// The token's binding as `SENDER_CONSTRAINT` says, against `--cert` and `--dpop` when
/// given. A proof is judged as the authorizer judges it, but for its `jti`: `explain`
/// remembers no proofs, so a replay is not detected here.
fn binding_step(
    active: &Active,
    token: &str,
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
) -> Step {
    use crate::settings::SenderConstraint;
    use crate::verify::binding::{self, DpopRequest, Presented, ProofClock, Scheme};
    if policy.sender_constraint == SenderConstraint::Off {
        return pass(
            Check::Binding,
            "SENDER_CONSTRAINT is off: cnf is not checked",
        );
    }
    let cnf = claims.get("cnf");
    let cert_bound = cnf.and_then(|cnf| cnf.member("x5t#S256")).is_some();
    let dpop_bound = cnf.and_then(|cnf| cnf.member("jkt")).is_some();
    if cert_bound && options.client_cert.is_none() && (!dpop_bound || options.dpop.is_some()) {
        return not_checked(
            Check::Binding,
            "the token is bound to a client certificate (cnf.x5t#S256): give --cert FILE with the client's certificate (PEM)",
        );
    }
    if dpop_bound && options.dpop.is_none() {
        return not_checked(
            Check::Binding,
            "the token is DPoP-bound (cnf.jkt): give --dpop PROOF --method METHOD --url URL with the request's DPoP header, method and URL (as a Bearer token it is refused: bound_token_as_bearer)",
        );
    }
    let request = options.dpop.as_ref().map(|p| DpopRequest {
        proof: Ok(Some(p.proof.clone())),
        method: p.method.clone(),
        url: Ok(p.url.clone()),
    });
    let presented = Presented {
        token,
        scheme: if request.is_some() {
            Scheme::DPoP
        } else {
            Scheme::Bearer
        },
        client_cert: options.client_cert.as_deref(),
        dpop: request.as_ref(),
    };
    let clock = ProofClock {
        settings: &active.dpop,
        keys: &active.proof_keys,
        leeway: policy.leeway.as_secs(),
        now: options.now,
    };
    outcome_of(
        Check::Binding,
        binding::check(claims, policy.sender_constraint, presented, clock).map(|_| ()),
        || {
            match (dpop_bound, cert_bound) {
            (true, true) => "the DPoP proof is valid for this request (replay not checked) and the certificate is the bound one".to_owned(),
            (true, false) => "the DPoP proof is valid for this request and signed by the bound key (replay not checked: explain remembers no proofs)".to_owned(),
            (false, true) => "bound to the given client certificate".to_owned(),
            (false, false) => format!(
                "not bound, and SENDER_CONSTRAINT is {}",
                policy.sender_constraint.as_str()
            ),
        }
        },
    )
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
        principal(&jws.claims, &policy).map(|_| ()),
        || principal_detail(&jws.claims, &policy),
    ));
    steps.push(not_checked(Check::Binding, WHY));
    steps.push(not_checked(Check::Scopes, WHY));
    steps.push(not_checked(Check::Routes, WHY));
}

/// The default rules of an issuer (leeway, token types, principal claims), for the
/// checks that need no configuration.
fn default_policy(claims: &Claims) -> Option<IssuerSettings> {
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

fn claim_checks(
    claims: &Claims,
    policy: &IssuerSettings,
    options: &Options,
    steps: &mut Vec<Step>,
) {
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
fn pass_detail(check: Check, claims: &Claims, policy: &IssuerSettings, now: UnixTime) -> String {
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

fn principal_detail(claims: &Claims, policy: &IssuerSettings) -> String {
    policy
        .principal_claims
        .iter()
        .find_map(|name| {
            let one = IssuerSettings {
                principal_claims: vec![name.clone()],
                ..policy.clone()
            };
            principal(claims, &one)
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

fn kind_of(jws: &Jws<'_>) -> TokenKind {
    if id_token_marker(&jws.claims).is_some() {
        return TokenKind::IdToken;
    }
    let typ = jws.header.typ.as_deref().map(str::to_ascii_lowercase);
    let access_typ = matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt"));
    let access_claims = ["scope", "scp", "permissions", "client_id", "cid"]
        .iter()
        .any(|c| jws.claims.contains_key(c))
        || jws.claims.get("token_use").is_some_and(|c| c == "access");
    if access_typ || access_claims {
        TokenKind::AccessToken
    } else {
        TokenKind::SignedJwt
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

fn names(algorithms: &[Algorithm]) -> String {
    algorithms
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
