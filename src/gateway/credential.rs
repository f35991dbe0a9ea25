//! The credential of a request: `Authorization: Bearer <token>` read by RFC 6750's
//! rules — scheme case-insensitive, HTTP's optional whitespace around it, exactly one
//! credential, no whitespace or control character inside it.

use crate::refusal::{Reason, Refusal};
use crate::verify::binding::Scheme;

/// Authorization schemes a refusal may name (IANA HTTP Authentication Scheme Registry).
const KNOWN_SCHEMES: [&str; 10] = [
    "Basic",
    "Digest",
    "DPoP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "OAuth",
    "SCRAM-SHA-256",
    "Token",
];

/// What a client sends when it has no token: a variable that was never set, printed.
/// Refused as what they are (`missing_token`, "the client sent no token"), not as an
/// opaque token its identity provider issued.
const PLACEHOLDERS: [&str; 14] = [
    "undefined",
    "null",
    "nil",
    "none",
    "nan",
    "false",
    "[object object]",
    "[object promise]",
    "<token>",
    "<access_token>",
    "{token}",
    "${token}",
    "{{token}}",
    "your_token_here",
];

/// The placeholder `value` is, if it is one (compared without case): they are short, so
/// a real token is told apart by its length alone.
fn placeholder(value: &str) -> Option<&'static str> {
    if value.len() > 20 {
        return None;
    }
    PLACEHOLDERS
        .iter()
        .find(|p| value.eq_ignore_ascii_case(p))
        .copied()
}

/// `Err` when `value` is a placeholder rather than a credential (see [`PLACEHOLDERS`]).
pub(crate) fn not_a_placeholder(value: &str) -> Result<(), Refusal> {
    placeholder(value).map_or(Ok(()), |p| Err(no_token_sent(p)))
}

/// The refusal of a placeholder: it may be named, it is no secret.
fn no_token_sent(placeholder: &str) -> Refusal {
    Refusal::new(
        Reason::MissingToken,
        format!(
            "the credential is `{placeholder}`, a placeholder: the client sent no token at all (a variable that was never set, or a sign-in that had not finished), not a token the identity provider issued"
        ),
    )
}

/// Extracts the token from `Bearer <token>`: the scheme matched case-insensitively,
/// spaces and tabs around it tolerated (HTTP's optional whitespace), exactly one
/// credential (RFC 6750 §2.1). Any other whitespace or control character is refused.
///
/// # Errors
/// A `missing_token` refusal saying what was found instead.
pub fn bearer(value: &str) -> Result<&str, Refusal> {
    credential(value, false).map(|(_, token)| token)
}

/// [`bearer`], also accepting `DPoP <token>` (RFC 9449 §7.1, the same rules) when `dpop`.
///
/// # Errors
/// A `missing_token` refusal saying what was found instead.
pub(crate) fn credential(value: &str, dpop: bool) -> Result<(Scheme, &str), Refusal> {
    let missing = |detail: &str| Refusal::new(Reason::MissingToken, detail.to_owned());
    let value = value.trim_matches(is_ows);
    if value.is_empty() {
        return Err(missing("the credential is empty"));
    }
    if let Some(placeholder) = placeholder(value) {
        return Err(no_token_sent(placeholder));
    }
    let Some((scheme, rest)) = value.split_once(is_ows) else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            missing("Bearer without a token")
        } else if dpop && value.eq_ignore_ascii_case("dpop") {
            missing("DPoP without a token")
        } else {
            missing("no `Bearer ` scheme before the token")
        });
    };
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if dpop && scheme.eq_ignore_ascii_case("dpop") {
        Scheme::DPoP
    } else if scheme.eq_ignore_ascii_case("dpop") {
        return Err(Refusal::new(
            Reason::MissingToken,
            "the credential uses DPoP, and no issuer here checks DPoP proofs (SENDER_CONSTRAINT is off): send it as Bearer, or turn SENDER_CONSTRAINT on",
        ));
    } else {
        // Name only well-known schemes: an unknown "scheme" may be part of a secret.
        let shown = KNOWN_SCHEMES
            .iter()
            .find(|known| scheme.eq_ignore_ascii_case(known))
            .map_or("an unrecognised scheme", |known| *known);
        return Err(Refusal::new(
            Reason::MissingToken,
            if dpop {
                format!("the credential uses {shown}, not Bearer or DPoP")
            } else {
                format!("the credential uses {shown}, not Bearer")
            },
        ));
    };
    let token = rest.trim_start_matches(is_ows);
    if let Some(placeholder) = placeholder(token) {
        return Err(no_token_sent(placeholder));
    }
    if !is_one_credential(token) {
        return Err(missing(&format!(
            "more than one credential, or whitespace or control characters, after {}",
            scheme.as_str()
        )));
    }
    Ok((scheme, token))
}

/// HTTP's optional whitespace: a space or a tab.
pub(crate) fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether `token` can be one credential: no whitespace, control character or comma
/// (which would join several). Bytes, not chars: a credential is ASCII; any other
/// non-ASCII byte passes here and is refused later as malformed.
pub(crate) fn is_one_credential(token: &str) -> bool {
    // This scan runs on every request. No early exit: a branch-free fold the compiler
    // vectorises, then the exact check only when something looked unusual.
    let unusual = token.bytes().fold(0u8, |seen, b| {
        seen | u8::from(b <= b' ') | u8::from(b >= 0x7f) | u8::from(b == b',')
    }) != 0;
    !unusual || !token.bytes().any(|b| b <= b' ' || b == 0x7f || b == b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_case_insensitive_and_takes_exactly_one_token() {
        assert_eq!(bearer("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(bearer("bearer abc"), Ok("abc"));
        assert_eq!(bearer("BEARER   abc  "), Ok("abc"));
        assert_eq!(bearer(" Bearer\tabc"), Ok("abc"));
        for bad in [
            "",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "abc.def.ghi",
            "Bearer a b",
            "Bearer a, Bearer b",
            "Bearerabc",
            "Token abc",
            "Bearer abc\n",
            "Bearer abc\r\nX-Evil: 1",
            "Bearer a\u{0}b",
            "Bearer\nabc",
        ] {
            let refusal = bearer(bad).unwrap_err();
            assert!(
                !refusal.detail.contains("dXNlcjpw") && !refusal.detail.contains("abc.def"),
                "{refusal:?}"
            );
            assert_eq!(
                bearer(bad).unwrap_err().reason,
                Reason::MissingToken,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dpop_is_a_scheme_only_where_proofs_are_checked() {
        assert_eq!(credential("DPoP abc", true), Ok((Scheme::DPoP, "abc")));
        assert_eq!(credential("dpop  abc ", true), Ok((Scheme::DPoP, "abc")));
        assert_eq!(credential("Bearer abc", true), Ok((Scheme::Bearer, "abc")));
        let off = credential("DPoP abc", false).unwrap_err();
        assert!(off.detail.contains("SENDER_CONSTRAINT is off"), "{off:?}");
        for bad in ["DPoP", "DPoP a b", "DPoP undefined", "Basic abc"] {
            assert_eq!(
                credential(bad, true).unwrap_err().reason,
                Reason::MissingToken,
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unknown_scheme_is_never_echoed() {
        let refusal = bearer("s3cr3tT0kenValue x").unwrap_err();
        assert!(!refusal.detail.contains("s3cr3t"), "{}", refusal.detail);
        assert!(
            bearer("Basic dXNlcjpwYXNz")
                .unwrap_err()
                .detail
                .contains("Basic")
        );
    }

    #[test]
    fn a_placeholder_is_no_token_and_is_named_as_one() {
        for value in [
            "Bearer undefined",
            "Bearer null",
            "bearer [object Object]",
            "Bearer NaN",
            "Bearer ${token}",
            "undefined",
            "Bearer  None ",
        ] {
            let refusal = bearer(value).unwrap_err();
            assert_eq!(refusal.reason, Reason::MissingToken, "{value:?}");
            assert!(
                refusal
                    .detail
                    .contains("a placeholder: the client sent no token at all"),
                "{value:?}: {}",
                refusal.detail
            );
        }
        // A real credential that merely starts like one is a credential.
        assert_eq!(bearer("Bearer nullish0123456789"), Ok("nullish0123456789"));
        assert_eq!(bearer("Bearer undefinedX"), Ok("undefinedX"));
    }
}
