//! The checks before the claims: the token's `alg` against the allow-list, its `typ`,
//! the one key that fits it, and the signature over it.

use crate::keys::{KeyCache, KeyError, Refetch, VerificationKey};
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::{Algorithm, IssuerSettings, Setting};
use crate::token::{Claims, Header, Jws};

use super::checks::id_token_marker;

/// The token's `alg`, when the allow-list has it.
///
/// # Errors
/// `algorithm_not_allowed`, saying why (unknown, `none`, symmetric, or not listed).
pub(crate) fn allowed_algorithm(alg: &str, policy: &IssuerSettings) -> Result<Algorithm, Refusal> {
    let allowed = policy.algorithms.as_slice();
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
        format!(
            "alg {shown} is not in {} ({allowed_names})",
            policy.name(Setting::Algorithms)
        )
    } else if alg.eq_ignore_ascii_case("none") {
        format!("alg {shown} means an unsigned token and is never accepted")
    } else if crate::settings::algorithm::is_hmac_name(alg) {
        format!("alg {shown} is symmetric and never accepted (allowed: {allowed_names})")
    } else {
        format!("alg {shown} is not a supported algorithm (allowed: {allowed_names})")
    };
    Err(Refusal::new(Reason::AlgorithmNotAllowed, detail))
}

/// The refusal for a failed key lookup.
#[must_use]
pub(crate) fn key_refusal(
    error: KeyError,
    kid: Option<&str>,
    alg: Algorithm,
    keys: &KeyCache,
) -> Refusal {
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
pub(crate) fn check_token_type(
    header: &Header,
    claims: &Claims,
    policy: &IssuerSettings,
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
            None => format!(
                "the token has no typ and {} is on",
                policy.name(Setting::RequireTokenType)
            ),
        },
    ))
}

/// The signature over the signing input, with the chosen key.
///
/// # Errors
/// `invalid_signature`, naming the key.
pub(crate) fn check_signature(
    key: &VerificationKey,
    alg: Algorithm,
    jws: &Jws<'_>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_outside_the_allow_list_are_refused_with_the_reason() {
        let allowed = IssuerSettings {
            algorithms: vec![Algorithm::RS256],
            ..IssuerSettings::example()
        };
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
}
