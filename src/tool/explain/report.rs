//! An explanation: what the credential is, each check and how it went, the verdict;
//! rendered for people or as JSON.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::display::{relative, shown, time_value, utc};
use crate::refusal::{Outcome, Reason, Refusal};
use crate::token::UnixTime;
use crate::verify::checks::Check;

/// What the credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
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

impl TokenKind {
    /// Stable name (`--json`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "access_token",
            TokenKind::IdToken => "id_token",
            TokenKind::SignedJwt => "signed_jwt",
            TokenKind::Opaque => "opaque",
            TokenKind::Encrypted => "jwe",
            TokenKind::Malformed => "malformed",
            TokenKind::Empty => "empty",
        }
    }

    /// One line for people.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "a signed JWT access token (JWS)",
            TokenKind::IdToken => {
                "an OpenID Connect ID token (a signed JWT about the user, not for APIs)"
            }
            TokenKind::SignedJwt => "a signed JWT (JWS); nothing in it says it is an access token",
            TokenKind::Opaque => {
                "an opaque token (not a JWT: only the identity provider can read it)"
            }
            TokenKind::Encrypted => "an encrypted JWE (5 segments), not a signed JWT",
            TokenKind::Malformed => "not a token this authorizer can read",
            TokenKind::Empty => "nothing: the input is empty",
        }
    }

    /// The fix for the kinds that are the wrong kind of token.
    #[must_use]
    pub const fn advice(self) -> Option<&'static str> {
        match self {
            TokenKind::Opaque => Some(Reason::OpaqueToken.advice()),
            TokenKind::Encrypted => Some(Reason::EncryptedToken.advice()),
            TokenKind::IdToken => Some(Reason::IdToken.advice()),
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
    pub kind: TokenKind,
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
    /// The fix for a wrong kind of token in the terms of the issuer's identity provider
    /// and configuration, when they have their own (see [`Report::advice`]).
    pub kind_advice: Option<Cow<'static, str>>,
    /// What the Cedar policies were asked, when configured.
    pub cedar: Option<CedarExplained>,
}

/// The Cedar entities built from the token and what the policies decided (`explain`
/// with Cedar policies configured).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CedarExplained {
    /// The principal (`MyAPI::User::"us-east-1_ABC|sub"`).
    pub principal: String,
    /// Its parents: the groups (`MyAPI::UserGroup::"us-east-1_ABC|admin"`).
    pub parents: Vec<String>,
    /// The claims the policies read, as the principal's attributes or `context.token`'s
    /// members (the others are not converted).
    pub attributes: Vec<String>,
    /// The resource (`MyAPI::Application::"MyAPI"`).
    pub resource: String,
    /// The context's members for the called route.
    pub context: Vec<String>,
    /// The called route's action, with `--arn`.
    pub action: Option<String>,
    /// The determining policies: id and text.
    pub determining: Vec<(String, String)>,
    /// Policies that erred and were skipped.
    pub errors: Vec<String>,
    /// Every action of the schema Cedar permits this token in its context alone (what a
    /// policy answer allows).
    pub permitted: Vec<String>,
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

    /// The fix for a wrong kind of token, when the authorizer refuses it for being one: in
    /// the issuer's terms when it has its own, otherwise [`TokenKind::advice`].
    #[must_use]
    pub fn advice(&self) -> Option<Cow<'static, str>> {
        let framing_failed = self
            .steps
            .first()
            .is_some_and(|s| matches!(s.status, Status::Fail(_)));
        let applies = match self.kind {
            TokenKind::Opaque | TokenKind::Encrypted => framing_failed,
            TokenKind::IdToken => true,
            _ => false,
        };
        if !applies {
            return None;
        }
        self.kind_advice
            .clone()
            .or_else(|| self.kind.advice().map(Cow::Borrowed))
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
            "cedar": self.cedar.as_ref().map(|c| json!({
                "principal": c.principal, "parents": c.parents, "attributes": c.attributes,
                "resource": c.resource, "context": c.context, "action": c.action,
                "determining": c.determining.iter().map(|(id, text)| json!({"id": id, "policy": text})).collect::<Vec<_>>(),
                "errors": c.errors, "permitted": c.permitted,
            })),
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
        if let Some(cedar) = &self.cedar {
            let _ = writeln!(out, "Cedar     (the entities built from the token)");
            let _ = writeln!(out, "  principal   {}", cedar.principal);
            let parents = if cedar.parents.is_empty() {
                "(no groups)".to_owned()
            } else {
                cedar.parents.join(", ")
            };
            let _ = writeln!(out, "  in          {parents}");
            let _ = writeln!(
                out,
                "  attributes  {} (the claims the policies read, also in context.token)",
                cedar.attributes.join(", ")
            );
            let _ = writeln!(out, "  resource    {}", cedar.resource);
            let _ = writeln!(out, "  context     {}", cedar.context.join(", "));
            if let Some(action) = &cedar.action {
                let _ = writeln!(out, "  action      {action}");
            }
            for (id, text) in &cedar.determining {
                let _ = writeln!(out, "  determined by `{id}`:");
                for line in text.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
            for error in &cedar.errors {
                let _ = writeln!(out, "  skipped     {error}");
            }
            let permitted = if cedar.permitted.is_empty() {
                "(none)".to_owned()
            } else {
                cedar.permitted.join(", ")
            };
            let _ = writeln!(out, "  permitted   {permitted}");
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
