//! How an issuer's key cache keeps its keys: refresh, stale window, cool-down, retry.

use std::time::Duration;

/// Default for `JWKS_CACHE_TTL_SECONDS`: 10 minutes, as jose and jwks-rsa. Bounds how long
/// a key removed from the JWKS (revoked) keeps verifying while the `IdP` answers.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// Default for `JWKS_STALE_SECONDS`: 6 hours. How long past the TTL the last good keys
/// keep serving while the `IdP` cannot be reached (the Auth0/Cloudflare outage class).
pub const DEFAULT_STALE: Duration = Duration::from_secs(6 * 3600);

/// Largest accepted `JWKS_STALE_SECONDS`: 7 days.
pub const MAX_STALE: Duration = Duration::from_secs(7 * 86400);

/// Default for `JWKS_COOLDOWN_SECONDS`: 15 s between refetches caused by unknown kids
/// (aws-jwt-verify waits 10 s, jose 30 s).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(15);

/// Default for `JWKS_RETRY_SECONDS`: 5 s between attempts after a failed fetch, so an `IdP`
/// outage costs one timeout per 5 s, not one per request.
pub const DEFAULT_RETRY: Duration = Duration::from_secs(5);

/// The cache's timing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// Age after which keys are refreshed.
    pub ttl: Duration,
    /// How long past `ttl` the last good keys serve when refreshing fails.
    pub stale: Duration,
    /// Minimum time between unknown-kid refetches.
    pub cooldown: Duration,
    /// Minimum time between attempts after a failure.
    pub retry: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            ttl: DEFAULT_TTL,
            stale: DEFAULT_STALE,
            cooldown: DEFAULT_COOLDOWN,
            retry: DEFAULT_RETRY,
        }
    }
}
