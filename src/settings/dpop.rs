//! How DPoP proofs (RFC 9449) are judged: which algorithms a proof may use, how old it
//! may be, where a proof's `jti` is remembered so it cannot be replayed, and the URL the
//! clients call when an event cannot tell it. They are the API's settings, not an
//! issuer's: every issuer with `SENDER_CONSTRAINT` on shares them.

use std::time::Duration;

use super::Algorithm;

/// Default for `DPOP_MAX_AGE_SECONDS`: a proof's `iat` may be at most 60 s in the past
/// (RFC 9449 §11.1 suggests "seconds or minutes"; oidc-provider and Keycloak accept 60 s
/// at their token endpoints), and no more than the issuer's leeway in the future.
pub const DEFAULT_DPOP_MAX_AGE: Duration = Duration::from_secs(60);

/// Upper bound of `DPOP_MAX_AGE_SECONDS`: a longer window only widens what the replay
/// cache must remember.
pub const MAX_DPOP_MAX_AGE: Duration = Duration::from_secs(600);

/// Default for the proofs' algorithms (`DPOP_ALGORITHMS`): every asymmetric algorithm this
/// verifier supports; `none` and HMAC never verify a proof (RFC 9449 §4.2).
pub const DEFAULT_DPOP_ALGORITHMS: [Algorithm; 11] = Algorithm::ALL;

/// How many proofs' `jti` one execution environment remembers (`DPOP_REPLAY_CAPACITY`):
/// 65 536 entries of 32 bytes, about 2 MiB at most. One environment answers one request
/// at a time, so this holds more than 1 000 proofs a second over the 60 s window.
pub const DEFAULT_REPLAY_CAPACITY: usize = 65_536;

/// The DPoP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopSettings {
    /// Algorithms a proof may be signed with (`DPOP_ALGORITHMS`).
    pub algorithms: Vec<Algorithm>,
    /// How far in the past a proof's `iat` may lie (`DPOP_MAX_AGE_SECONDS`).
    pub max_age: Duration,
    /// Proofs remembered per execution environment (`DPOP_REPLAY_CAPACITY`).
    pub replay_capacity: usize,
    /// The DynamoDB table shared by every execution environment (`DPOP_REPLAY_TABLE`):
    /// a proof used in one is refused in all. `None`: each environment remembers alone.
    pub replay_table: Option<String>,
}

impl Default for DpopSettings {
    fn default() -> Self {
        DpopSettings {
            algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
            max_age: DEFAULT_DPOP_MAX_AGE,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_table: None,
        }
    }
}
