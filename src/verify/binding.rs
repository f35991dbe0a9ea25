//! Sender-constrained tokens (`SENDER_CONSTRAINT`): a token bound to a client certificate
//! (RFC 8705 `cnf.x5t#S256`) passes only with that certificate, as API Gateway's mutual
//! TLS hands it to the authorizer; a DPoP-bound token (RFC 9449 `cnf.jkt`) sent without
//! its proof is refused (§7.2; proofs are not verified yet, so every such token is);
//! `require` refuses a token bound to nothing. Pure: claims, setting, certificate in.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::SenderConstraint;
use crate::token::{Claims, Kind};

/// Checks the token's binding against the client certificate of the request (PEM).
///
/// # Errors
/// `certificate_missing`, `certificate_mismatch`, `token_not_bound`,
/// `bound_token_as_bearer`, or `invalid_claim` for a `cnf` that is not an object.
pub(crate) fn check(
    claims: &Claims,
    constraint: SenderConstraint,
    client_cert: Option<&str>,
) -> Result<(), Refusal> {
    if constraint == SenderConstraint::Off {
        return Ok(());
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
    if cnf.and_then(|c| c.member("jkt")).is_some() {
        return Err(Refusal::new(
            Reason::BoundTokenAsBearer,
            "the token is DPoP-bound (cnf.jkt) and came as a bearer token, without a DPoP proof",
        ));
    }
    let Some(bound) = cnf.and_then(|c| c.member("x5t#S256")) else {
        // A confirmation method this authorizer does not check (RFC 7800 `jwk`, `kid`,
        // `x5t`...): a proof-of-possession token, never accepted as a bearer token.
        if let Some(serde_json::Value::Object(members)) = cnf.map(|c| c.to_value())
            && let Some(method) = members.keys().next()
        {
            return Err(Refusal::new(
                Reason::TokenNotBound,
                format!(
                    "cnf names a confirmation method this authorizer does not check ({}); only cnf.x5t#S256 is",
                    sanitize(method, 32)
                ),
            ));
        }
        return match constraint {
            SenderConstraint::Require => Err(Refusal::new(
                Reason::TokenNotBound,
                "the token has no cnf.x5t#S256 (nor any other binding) and SENDER_CONSTRAINT is require",
            )),
            _ => Ok(()),
        };
    };
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

    fn reason(result: Result<(), Refusal>) -> Option<&'static str> {
        result.err().map(|r| r.reason.code())
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
