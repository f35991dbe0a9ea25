//! What the decision log line may say about a token, gathered as it is verified.

use crate::keys::KeyOrigin;
use crate::verify::opaque::Lookup;

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
    pub opaque_lookup: Option<Lookup>,
    /// An unknown `kid` was refused without a refetch because of the cool-down.
    pub cooled_down: bool,
}
