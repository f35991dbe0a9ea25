//! One issuer's keys, cached across warm invocations.
//!
//! The promises, each proved by a request-counting test:
//! - keys are fetched at init and then at most once per `JWKS_CACHE_TTL_SECONDS`;
//! - an unknown `kid` triggers one refetch (key rotation needs no restart), but at most one
//!   per `JWKS_COOLDOWN_SECONDS`, so a flood of random kids cannot hammer the `IdP`;
//! - concurrent callers needing a fetch share one (single flight);
//! - when a refresh fails, the last good keys keep serving for `JWKS_STALE_SECONDS`, and
//!   failed fetches are retried at most once per `JWKS_RETRY_SECONDS`;
//! - verifications of cached keys never wait for a fetch: the lock they take is held only
//!   to clone an `Arc`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::algorithm::Algorithm;
use crate::fetch::{FetchError, JwksSource};
use crate::jwk::{KeySet, Selection, VerificationKey};

/// Default for `JWKS_CACHE_TTL_SECONDS`: 10 minutes, as jose and jwks-rsa. Bounds how long
/// a key removed from the JWKS (revoked) keeps verifying.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);

/// Default for `JWKS_STALE_SECONDS`: 6 hours. How long past the TTL the last good keys
/// keep serving while the `IdP` cannot be reached (the Auth0/Cloudflare outage class).
pub const DEFAULT_STALE: Duration = Duration::from_secs(6 * 3600);

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

/// How the key of a successful lookup was obtained (logged with the decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// From the cache, fresh.
    Cached,
    /// Fetched during this request (TTL refresh or unknown-kid refetch).
    Fetched,
    /// From the cache past its TTL, because refreshing failed.
    Stale,
    /// From a fixed key set (`JWKS_FILE` / `JWKS_JSON`).
    Fixed,
}

impl KeyOrigin {
    /// Lowercase name for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Cached => "cached",
            KeyOrigin::Fetched => "fetched",
            KeyOrigin::Stale => "stale",
            KeyOrigin::Fixed => "fixed",
        }
    }
}

/// Why no key could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// No key with this `kid`; `refetched` tells whether a refetch was made or allowed.
    Unknown {
        /// Whether this lookup refetched the set (false: cool-down or fixed keys).
        refetched: bool,
    },
    /// Keys with this `kid` are for other algorithms.
    AlgorithmMismatch(String),
    /// Several keys fit.
    Ambiguous(usize),
    /// No usable keys: never fetched, or the last good ones are past the stale window.
    Unavailable(String),
}

/// A chosen key and how it was obtained.
#[derive(Debug, Clone)]
pub struct KeyHit {
    /// The key.
    pub key: Arc<VerificationKey>,
    /// Where it came from.
    pub origin: KeyOrigin,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_failure: Option<(Instant, String)>,
    last_miss_refetch: Option<Instant>,
    generation: u64,
    fetches: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Init,
    Expired,
    UnknownKid,
}

/// One issuer's key cache.
pub struct KeyCache {
    source: Option<Arc<dyn JwksSource>>,
    algorithms: Vec<Algorithm>,
    settings: CacheSettings,
    state: RwLock<Arc<State>>,
    fetch_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("source", &self.describe())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    /// A cache over a remote (or any refreshable) source. Nothing is fetched yet; call
    /// [`KeyCache::prefetch`] during init.
    #[must_use]
    pub fn new(
        source: Arc<dyn JwksSource>,
        algorithms: Vec<Algorithm>,
        settings: CacheSettings,
    ) -> Self {
        KeyCache {
            source: Some(source),
            algorithms,
            settings,
            state: RwLock::new(Arc::new(State::default())),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// A cache holding a fixed key set that is never refreshed.
    #[must_use]
    pub fn fixed(keys: KeySet) -> Self {
        let state = State {
            keys: Some(Arc::new(keys)),
            fetched_at: Some(Instant::now()),
            ..State::default()
        };
        KeyCache {
            source: None,
            algorithms: Vec::new(),
            settings: CacheSettings::default(),
            state: RwLock::new(Arc::new(state)),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Where the keys come from.
    #[must_use]
    pub fn describe(&self) -> String {
        self.source
            .as_ref()
            .map_or_else(|| "fixed key set".to_owned(), |s| s.describe())
    }

    /// How many fetch attempts were made (successful or not).
    #[must_use]
    pub fn fetch_count(&self) -> u64 {
        self.snapshot().fetches
    }

    /// The current key set, if any.
    #[must_use]
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.snapshot().keys.clone()
    }

    /// Fetches the keys now (during init). A failure is logged and remembered; requests
    /// then retry after `JWKS_RETRY_SECONDS`.
    pub async fn prefetch(&self) {
        if self.source.is_some() {
            let generation = self.snapshot().generation;
            self.refresh(generation, Trigger::Init).await;
        }
    }

    fn snapshot(&self) -> Arc<State> {
        match self.state.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn store(&self, state: State) {
        let state = Arc::new(state);
        match self.state.write() {
            Ok(mut guard) => *guard = state,
            Err(poisoned) => *poisoned.into_inner() = state,
        }
    }

    /// The one key for a token's `kid` and `alg`, fetching or refetching as the rules allow.
    ///
    /// # Errors
    /// [`KeyError`] when no single usable key exists.
    pub async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<KeyHit, KeyError> {
        let state = self.snapshot();
        let now = Instant::now();
        if self.source.is_none() {
            let keys = state
                .keys
                .as_ref()
                .ok_or_else(|| KeyError::Unavailable("no keys".into()))?;
            return select(keys, kid, alg, KeyOrigin::Fixed, false);
        }

        if let (Some(keys), Some(at)) = (&state.keys, state.fetched_at)
            && now.duration_since(at) < self.settings.ttl
        {
            match keys.select(kid, alg) {
                Ok(key) => {
                    return Ok(KeyHit {
                        key: Arc::clone(key),
                        origin: KeyOrigin::Cached,
                    });
                }
                Err(Selection::Unknown) if self.may_refetch_for_miss(&state, now) => {
                    self.refresh(state.generation, Trigger::UnknownKid).await;
                    return self.select_current(kid, alg, state.fetched_at, true);
                }
                Err(Selection::Unknown) => return Err(KeyError::Unknown { refetched: false }),
                Err(other) => return Err(selection_error(other, false)),
            }
        }
        if !self.backing_off(&state, now) {
            self.refresh(state.generation, Trigger::Expired).await;
        }
        self.select_current(kid, alg, state.fetched_at, false)
    }

    fn may_refetch_for_miss(&self, state: &State, now: Instant) -> bool {
        let cooled = state
            .last_miss_refetch
            .is_none_or(|t| now.duration_since(t) >= self.settings.cooldown);
        cooled && !self.backing_off(state, now)
    }

    fn backing_off(&self, state: &State, now: Instant) -> bool {
        state
            .last_failure
            .as_ref()
            .is_some_and(|(t, _)| now.duration_since(*t) < self.settings.retry)
    }

    fn select_current(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        previously_fetched_at: Option<Instant>,
        refetched: bool,
    ) -> Result<KeyHit, KeyError> {
        let state = self.snapshot();
        let now = Instant::now();
        let (Some(keys), Some(at)) = (&state.keys, state.fetched_at) else {
            return Err(KeyError::Unavailable(unavailable_detail(&state)));
        };
        let age = now.duration_since(at);
        let origin = if age < self.settings.ttl {
            if previously_fetched_at == Some(at) {
                KeyOrigin::Cached
            } else {
                KeyOrigin::Fetched
            }
        } else if age < self.settings.ttl + self.settings.stale {
            KeyOrigin::Stale
        } else {
            return Err(KeyError::Unavailable(format!(
                "the last good keys are {}s old, past the stale window; {}",
                age.as_secs(),
                unavailable_detail(&state)
            )));
        };
        if origin == KeyOrigin::Stale {
            tracing::warn!(
                source = %self.describe(),
                age_s = age.as_secs(),
                "serving stale keys: the key set could not be refreshed"
            );
        }
        select(keys, kid, alg, origin, refetched)
    }

    /// Fetches and swaps in a new key set, once for all concurrent callers: whoever gets
    /// the lock after another caller's fetch finished finds a newer generation and returns.
    async fn refresh(&self, seen_generation: u64, trigger: Trigger) {
        let Some(source) = &self.source else { return };
        let _flight = self.fetch_lock.lock().await;
        let before = self.snapshot();
        if before.generation != seen_generation {
            return;
        }
        let started = Instant::now();
        let result = source.fetch().await.and_then(|body| {
            let set = KeySet::parse(&body, &self.algorithms)
                .map_err(|e| FetchError::Other(e.to_string()))?;
            if set.is_empty() {
                let reasons: Vec<String> = set
                    .skipped()
                    .iter()
                    .map(|s| format!("{}: {}", s.kid.as_deref().unwrap_or("-"), s.reason))
                    .collect();
                return Err(FetchError::Other(format!(
                    "the key set holds no usable key ({})",
                    reasons.join("; ")
                )));
            }
            Ok(set)
        });
        let elapsed_ms = started.elapsed().as_millis();
        let now = Instant::now();
        let mut next = State {
            keys: before.keys.clone(),
            fetched_at: before.fetched_at,
            last_failure: before.last_failure.clone(),
            last_miss_refetch: before.last_miss_refetch,
            generation: before.generation + 1,
            fetches: before.fetches + 1,
        };
        if trigger == Trigger::UnknownKid {
            next.last_miss_refetch = Some(now);
        }
        let trigger_name = match trigger {
            Trigger::Init => "init",
            Trigger::Expired => "ttl",
            Trigger::UnknownKid => "unknown_kid",
        };
        match result {
            Ok(set) => {
                for skipped in set.skipped() {
                    tracing::warn!(
                        source = %source.describe(),
                        kid = skipped.kid.as_deref().unwrap_or("-"),
                        reason = %skipped.reason,
                        "key left out of the key set"
                    );
                }
                tracing::info!(
                    source = %source.describe(),
                    trigger = trigger_name,
                    keys = set.len(),
                    kids = %set.kids(),
                    elapsed_ms,
                    "key set fetched"
                );
                next.keys = Some(Arc::new(set));
                next.fetched_at = Some(now);
                next.last_failure = None;
            }
            Err(error) => {
                tracing::warn!(
                    source = %source.describe(),
                    trigger = trigger_name,
                    error = %error,
                    elapsed_ms,
                    have_keys = next.keys.is_some(),
                    "key set fetch failed"
                );
                next.last_failure = Some((now, error.to_string()));
            }
        }
        self.store(next);
    }
}

fn unavailable_detail(state: &State) -> String {
    match &state.last_failure {
        Some((_, error)) => format!("last fetch failed: {error}"),
        None => "the key set was never fetched".to_owned(),
    }
}

fn select(
    keys: &KeySet,
    kid: Option<&str>,
    alg: Algorithm,
    origin: KeyOrigin,
    refetched: bool,
) -> Result<KeyHit, KeyError> {
    keys.select(kid, alg)
        .map(|key| KeyHit {
            key: Arc::clone(key),
            origin,
        })
        .map_err(|e| selection_error(e, refetched))
}

fn selection_error(selection: Selection, refetched: bool) -> KeyError {
    match selection {
        Selection::Unknown => KeyError::Unknown { refetched },
        Selection::AlgorithmMismatch(detail) => KeyError::AlgorithmMismatch(detail),
        Selection::Ambiguous(n) => KeyError::Ambiguous(n),
    }
}
