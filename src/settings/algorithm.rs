//! The JWS signature algorithms token-verifier accepts, and nothing else.
//!
//! Only asymmetric algorithms exist here: an authorizer that verified HMAC (`HS*`) tokens
//! would have to hold the identity provider's signing secret, and `none` is not a
//! signature at all. Both are refused when the configuration is read, so they can never
//! reach the allow-list.

use std::fmt;

use aws_lc_rs::signature::{self, VerificationAlgorithm};

/// An asymmetric JWS algorithm (RFC 7518 §3, RFC 8037, RFC 9864).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// `EdDSA` (RFC 8037); only the Ed25519 curve is supported.
    EdDSA,
    /// Ed25519, the fully-specified name of RFC 9864.
    Ed25519,
}

/// The key a JWK must describe to be usable with an algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `kty: RSA`.
    Rsa,
    /// `kty: EC` with the given `crv`.
    Ec(&'static str),
    /// `kty: OKP` with `crv: Ed25519`.
    Ed25519,
}

impl Algorithm {
    /// Every supported algorithm, in the order the README lists them.
    pub const ALL: [Algorithm; 11] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
        Algorithm::Ed25519,
    ];

    /// The algorithm named exactly `name` (JWS `alg` values are case-sensitive).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The registered JWS name, e.g. `RS256`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::Ed25519 => "Ed25519",
        }
    }

    /// The kind of key this algorithm verifies with.
    #[must_use]
    pub const fn key_type(self) -> KeyType {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyType::Rsa,
            Algorithm::ES256 => KeyType::Ec("P-256"),
            Algorithm::ES384 => KeyType::Ec("P-384"),
            Algorithm::ES512 => KeyType::Ec("P-521"),
            Algorithm::EdDSA | Algorithm::Ed25519 => KeyType::Ed25519,
        }
    }

    /// The aws-lc-rs verification algorithm. RSA ones accept 2048 to 8192-bit moduli
    /// only; ECDSA ones take the fixed-width `R || S` signature JWS uses.
    #[must_use]
    pub fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Algorithm::ES512 => &signature::ECDSA_P521_SHA512_FIXED,
            Algorithm::EdDSA | Algorithm::Ed25519 => &signature::ED25519,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a configured algorithm name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmNameError {
    /// `none`, in any spelling.
    #[error("`{0}` is never accepted: it means an unsigned token")]
    None(String),
    /// An HMAC algorithm.
    #[error(
        "`{0}` is a symmetric (shared-secret) algorithm and is refused: an authorizer must verify with the identity provider's public keys"
    )]
    Symmetric(String),
    /// Anything else.
    #[error("`{0}` is not a supported algorithm (supported: {list})", list = supported_list())]
    Unknown(String),
}

fn supported_list() -> String {
    Algorithm::ALL.map(Algorithm::name).join(", ")
}

/// Whether `name` is an HMAC algorithm name (`HS256`, `hs512`, ...), whatever follows.
#[must_use]
pub fn is_hmac_name(name: &str) -> bool {
    name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS"))
}

/// Parses one configured algorithm name, refusing `none` and `HS*` with a reason.
///
/// # Errors
/// [`AlgorithmNameError`] when the name is not an accepted asymmetric algorithm.
pub fn parse_configured(name: &str) -> Result<Algorithm, AlgorithmNameError> {
    if let Some(alg) = Algorithm::from_name(name) {
        return Ok(alg);
    }
    if name.eq_ignore_ascii_case("none") {
        return Err(AlgorithmNameError::None(name.to_owned()));
    }
    if is_hmac_name(name) {
        return Err(AlgorithmNameError::Symmetric(name.to_owned()));
    }
    Err(AlgorithmNameError::Unknown(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("rs256"), None);
        assert_eq!(Algorithm::from_name("RS256 "), None);
    }

    #[test]
    fn none_and_hmac_are_refused_with_a_reason() {
        for none in ["none", "None", "NONE"] {
            assert!(matches!(
                parse_configured(none),
                Err(AlgorithmNameError::None(_))
            ));
        }
        for hs in ["HS256", "HS384", "HS512", "hs256"] {
            assert!(matches!(
                parse_configured(hs),
                Err(AlgorithmNameError::Symmetric(_))
            ));
        }
        assert!(matches!(
            parse_configured("RS257"),
            Err(AlgorithmNameError::Unknown(_))
        ));
        assert!(matches!(
            parse_configured("€"),
            Err(AlgorithmNameError::Unknown(_))
        ));
        assert!(matches!(
            parse_configured("H€"),
            Err(AlgorithmNameError::Unknown(_))
        ));
        assert_eq!(parse_configured("PS256"), Ok(Algorithm::PS256));
    }
}
