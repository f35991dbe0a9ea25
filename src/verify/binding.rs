//! Sender-constrained tokens (`SENDER_CONSTRAINT`): a token bound to a key of the client
//! passes only with proof of that key. A DPoP-bound token (RFC 9449 `cnf.jkt`) comes as
//! `Authorization: DPoP` with a proof signed by the key it names ([`super::dpop`]); a
//! token bound to a client certificate (RFC 8705 `cnf.x5t#S256`) comes over mutual TLS
//! with that certificate, as API Gateway hands it to the authorizer. `require` refuses a
//! token bound to nothing. Pure: claims, setting and what the request presented in; the
//! replay check of a proof's `jti` comes after, in the authorizer.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::dpop::{self, ProofKeys, ProofRequest, Proven};
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::{DpopSettings, SenderConstraint};
use crate::token::{Claims, Kind, UnixTime};

/// How the client presents its token (RFC 6750 `Bearer`, RFC 9449 `DPoP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `Authorization: Bearer <token>`: whoever holds the token may use it.
    #[default]
    Bearer,
    /// `Authorization: DPoP <token>`, with a `DPoP: <proof>` header signed by the key the
    /// token is bound to.
    DPoP,
}

impl Scheme {
    /// Its name, as the `Authorization` header writes it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Bearer => "Bearer",
            Scheme::DPoP => "DPoP",
        }
    }
}

/// A request's DPoP proof and what it must have been made for, as a front door read them.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopRequest {
    /// The `DPoP` header: `Ok(None)` when there is none, refused when there are several.
    pub proof: Result<Option<String>, Refusal>,
    /// The request's method.
    pub method: String,
    /// The URL the client called, query left out, or why the front door cannot tell it.
    pub url: Result<String, Refusal>,
}

impl std::fmt::Debug for DpopRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopRequest")
            .field(
                "proof",
                &self
                    .proof
                    .as_ref()
                    .map(|p| p.as_ref().map(|p| format!("{} bytes", p.len()))),
            )
            .field("method", &self.method)
            .field("url", &self.url)
            .finish()
    }
}

/// What the request presented beside the token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    /// The access token itself (a proof's `ath` is its hash).
    pub(crate) token: &'a str,
    /// `Bearer` or `DPoP`.
    pub(crate) scheme: Scheme,
    /// The client certificate (PEM) of mutual TLS, when the event carries one.
    pub(crate) client_cert: Option<&'a str>,
    /// The DPoP proof and its request, when the front door carries headers.
    pub(crate) dpop: Option<&'a DpopRequest>,
}

/// How a proof is checked: its settings, the client keys already parsed, the issuer's
/// leeway (how far ahead its `iat` may be), and now.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofClock<'a> {
    pub(crate) settings: &'a DpopSettings,
    pub(crate) keys: &'a ProofKeys,
    pub(crate) leeway: u64,
    pub(crate) now: UnixTime,
}

/// Checks the token's binding against what the request presented.
///
/// # Errors
/// `certificate_missing`, `certificate_mismatch`, `token_not_bound`,
/// `bound_token_as_bearer`, `missing_proof`, a proof's refusal ([`dpop::verify`]),
/// `missing_token` for the DPoP scheme where bindings are off, or `invalid_claim` for a
/// `cnf` that is not an object.
pub(crate) fn check(
    claims: &Claims,
    constraint: SenderConstraint,
    presented: Presented<'_>,
    clock: ProofClock<'_>,
) -> Result<Option<Proven>, Refusal> {
    if constraint == SenderConstraint::Off {
        if presented.scheme == Scheme::DPoP {
            return Err(Refusal::new(
                Reason::MissingToken,
                "the credential uses DPoP, and this token's issuer does not check bindings (its SENDER_CONSTRAINT is off): send it as Bearer, or turn SENDER_CONSTRAINT on for it",
            ));
        }
        return Ok(None);
    }
    let cnf = match claims.get("cnf") {
        None => None,
        Some(cnf) if cnf.kind() == Kind::Object => Some(cnf),
        Some(cnf) => {
            return Err(Refusal::new(
                Reason::InvalidClaim,
                format!("cnf is {}, not an object", cnf.kind().name()),
            ));
        }
    };
    let mut proven = None;
    if let Some(jkt) = cnf.and_then(|c| c.member("jkt")) {
        let Some(jkt) = jkt.as_str() else {
            return Err(Refusal::new(
                Reason::InvalidClaim,
                "cnf.jkt is not a string",
            ));
        };
        proven = Some(check_proof(&jkt, presented, clock)?);
    } else if presented.scheme == Scheme::DPoP {
        return Err(Refusal::new(
            Reason::TokenNotBound,
            "the token came with the DPoP scheme but is bound to no DPoP key (it has no cnf.jkt): the identity provider issued a bearer token; send it as Bearer, or request the token with a DPoP proof",
        ));
    }
    let Some(bound) = cnf.and_then(|c| c.member("x5t#S256")) else {
        if proven.is_some() {
            return Ok(proven);
        }
        // A confirmation method this authorizer does not check (RFC 7800 `jwk`, `kid`,
        // `x5t`...): a proof-of-possession token, never accepted as a bearer token.
        if let Some(serde_json::Value::Object(members)) = cnf.map(|c| c.to_value())
            && let Some(method) = members.keys().next()
        {
            return Err(Refusal::new(
                Reason::TokenNotBound,
                format!(
                    "cnf names a confirmation method this authorizer does not check ({}); only cnf.jkt and cnf.x5t#S256 are",
                    sanitize(method, 32)
                ),
            ));
        }
        return match constraint {
            SenderConstraint::Require => Err(Refusal::new(
                Reason::TokenNotBound,
                "the token has no cnf.jkt or cnf.x5t#S256 (nor any other binding) and SENDER_CONSTRAINT is require",
            )),
            _ => Ok(None),
        };
    };
    check_certificate(bound, presented.client_cert)?;
    Ok(proven)
}

/// A DPoP-bound token's proof: present, one, for this request, token and key.
fn check_proof(
    jkt: &str,
    presented: Presented<'_>,
    clock: ProofClock<'_>,
) -> Result<Proven, Refusal> {
    if presented.scheme == Scheme::Bearer {
        return Err(Refusal::new(
            Reason::BoundTokenAsBearer,
            "the token is DPoP-bound (cnf.jkt) and came as a bearer token (Authorization: Bearer), not as Authorization: DPoP with its proof",
        ));
    }
    let Some(request) = presented.dpop else {
        return Err(Refusal::new(
            Reason::MissingProof,
            "this kind of request carries no DPoP header to the authorizer (a REST TOKEN or WebSocket authorizer): use a REQUEST authorizer or an HTTP API",
        ));
    };
    let proof = match &request.proof {
        Ok(Some(proof)) => proof,
        Ok(None) => {
            return Err(Refusal::new(
                Reason::MissingProof,
                "Authorization: DPoP came without a DPoP header",
            ));
        }
        Err(refusal) => return Err(refusal.clone()),
    };
    let url = request.url.as_ref().map_err(Clone::clone)?;
    dpop::verify(
        proof,
        ProofRequest {
            method: &request.method,
            url,
        },
        presented.token,
        jkt,
        clock.settings,
        clock.keys,
        clock.leeway,
        clock.now,
    )
}

/// A certificate-bound token's certificate: present, and the one it names.
fn check_certificate(
    bound: crate::token::Claim<'_>,
    client_cert: Option<&str>,
) -> Result<(), Refusal> {
    let Some(bound) = bound.as_str() else {
        return Err(Refusal::new(
            Reason::InvalidClaim,
            "cnf.x5t#S256 is not a string",
        ));
    };
    let Some(pem) = client_cert else {
        return Err(Refusal::new(
            Reason::CertificateMissing,
            "the token is bound to a client certificate (cnf.x5t#S256) and the request carries none",
        ));
    };
    let Some(presented) = certificate_thumbprint(pem) else {
        return Err(Refusal::new(
            Reason::CertificateMismatch,
            "the request's client certificate is not a PEM certificate this authorizer can read",
        ));
    };
    if presented != bound {
        return Err(Refusal::new(
            Reason::CertificateMismatch,
            format!(
                "the token is bound to certificate {}, the client presented {presented}",
                sanitize(&bound, 64)
            ),
        ));
    }
    Ok(())
}

/// RFC 8705 §3.1: base64url (no padding) of the SHA-256 of the certificate's DER, from
/// its PEM (the first `CERTIFICATE` block). `None` when there is none or it is not base64.
#[must_use]
pub(crate) fn certificate_thumbprint(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let body = pem.split_once(BEGIN)?.1.split_once(END)?.0;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(base64).ok()?;
    if der.is_empty() {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &der)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../tests/keys/tls-self-signed.crt");
    /// `openssl x509 -in tests/keys/tls-self-signed.crt -outform der | openssl dgst -sha256
    /// -binary | base64 | tr '+/' '-_' | tr -d '='`
    const THUMBPRINT: &str = "9gYtUUUkYscCKj8xZmBiZMdWUnHStv7i54UJATfqsGc";

    fn claims(json: &str) -> Claims {
        Claims::parse(json.to_owned()).unwrap()
    }

    fn reason(result: Result<Option<Proven>, Refusal>) -> Option<&'static str> {
        result.err().map(|r| r.reason.code())
    }

    /// The check as a bearer token with `cert` (no DPoP).
    fn check(
        claims: &Claims,
        constraint: SenderConstraint,
        cert: Option<&str>,
    ) -> Result<Option<Proven>, Refusal> {
        super::check(
            claims,
            constraint,
            Presented {
                token: "t",
                scheme: Scheme::Bearer,
                client_cert: cert,
                dpop: None,
            },
            ProofClock {
                settings: &DpopSettings::default(),
                keys: &ProofKeys::default(),
                leeway: 0,
                now: 0.0,
            },
        )
    }

    #[test]
    fn the_thumbprint_is_the_sha256_of_the_der_as_openssl_computes_it() {
        assert_eq!(certificate_thumbprint(CERT).as_deref(), Some(THUMBPRINT));
        // As API Gateway sends it: the PEM with \n line ends, maybe with \r\n.
        assert_eq!(
            certificate_thumbprint(&CERT.replace('\n', "\r\n")).as_deref(),
            Some(THUMBPRINT)
        );
        assert_eq!(certificate_thumbprint("not a certificate"), None);
        // Text before the block, and a second block (a chain): the first one counts.
        let chain = format!(
            "subject=CN=x\n{CERT}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        );
        assert_eq!(certificate_thumbprint(&chain).as_deref(), Some(THUMBPRINT));
        assert_eq!(
            certificate_thumbprint("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            None
        );
    }

    /// RFC 8705 §3: a bound token with its certificate passes, with another or none it
    /// does not; `require` refuses an unbound token, `allow` lets it pass, `off` looks at
    /// nothing; a DPoP-bound token without its proof never passes (RFC 9449 §7.2).
    #[test]
    fn each_binding_is_checked_as_the_setting_says() {
        use SenderConstraint::{Allow, Off, Require};
        let bound = claims(&format!(
            r#"{{"sub":"a","cnf":{{"x5t#S256":"{THUMBPRINT}"}}}}"#
        ));
        let other = claims(
            r#"{"sub":"a","cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}"#,
        );
        let unbound = claims(r#"{"sub":"a"}"#);
        let dpop =
            claims(r#"{"sub":"a","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}"#);
        let odd = claims(r#"{"sub":"a","cnf":"x"}"#);
        for (claims, constraint, cert, expected) in [
            (&bound, Allow, Some(CERT), None),
            (&bound, Require, Some(CERT), None),
            (&bound, Allow, None, Some("certificate_missing")),
            (&other, Allow, Some(CERT), Some("certificate_mismatch")),
            (&bound, Allow, Some("garbage"), Some("certificate_mismatch")),
            (&unbound, Allow, None, None),
            (&unbound, Allow, Some(CERT), None),
            (&unbound, Require, Some(CERT), Some("token_not_bound")),
            (&dpop, Allow, None, Some("bound_token_as_bearer")),
            (&dpop, Require, Some(CERT), Some("bound_token_as_bearer")),
            (&odd, Allow, None, Some("invalid_claim")),
            (&claims(r#"{"cnf":{}}"#), Allow, None, None),
            (
                &claims(r#"{"cnf":{}}"#),
                Require,
                None,
                Some("token_not_bound"),
            ),
            (
                &claims(r#"{"cnf":{"jwk":{"kty":"EC"}}}"#),
                Allow,
                Some(CERT),
                Some("token_not_bound"),
            ),
            (
                &claims(r#"{"cnf":{"x5t#S256":7}}"#),
                Allow,
                Some(CERT),
                Some("invalid_claim"),
            ),
            (
                &claims(r#"{"cnf":null}"#),
                Allow,
                None,
                Some("invalid_claim"),
            ),
            (&bound, Off, None, None),
            (&dpop, Off, None, None),
            (&unbound, Off, None, None),
        ] {
            assert_eq!(
                reason(check(claims, constraint, cert)),
                expected,
                "{constraint:?} {claims:?} {}",
                cert.is_some()
            );
        }
    }
}
