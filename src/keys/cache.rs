//! One issuer's keys, cached across warm invocations.
//!
//! The promises, each proved by a request-counting test (per execution environment:
//! every Lambda instance has its own cache):
//! - keys are fetched at init and then at most once per `JWKS_CACHE_TTL_SECONDS`;
//! - a key set the `IdP` serves is authoritative, even when it no longer holds a key: a
//!   removed key stops verifying within the TTL while the `IdP` answers;
//! - an unknown `kid` triggers one refetch (key rotation needs no restart), but at most one
//!   per `JWKS_COOLDOWN_SECONDS`, so a flood of random kids cannot hammer the `IdP`;
//! - concurrent callers needing a fetch share one (single flight);
//! - when the `IdP` cannot be reached (transport error, non-200, malformed document), the
//!   last good keys keep serving for `JWKS_STALE_SECONDS` past the TTL, and failed fetches
//!   are retried at most once per `JWKS_RETRY_SECONDS`;
//! - verifications of cached keys never wait for a fetch: the lock they take is held only
//!   to clone an `Arc`.
//!
//! Optionally a [`SnapshotStore`] keeps the last good key set outside the process (SSM
//! Parameter Store), for cold starts while the `IdP` is unreachable.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::jwk::{KeySet, Selection, VerificationKey};
use super::snapshot::{Snapshot, SnapshotStore};
use super::source::JwksSource;
use crate::http::FetchError;
use crate::settings::Algorithm;
use crate::settings::keys::CacheSettings;

/// How the key of a successful lookup was obtained (logged with the decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// From the cache, fresh.
    Cached,
    /// Fetched during this request (TTL refresh or unknown-kid refetch).
    Fetched,
    /// From the cache just past its TTL, while another request refreshes it.
    Refreshing,
    /// From the cache past its TTL, because refreshing failed.
    Stale,
    /// From the last-known-good snapshot, because the `IdP` could not be reached.
    Snapshot,
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
            KeyOrigin::Refreshing => "refreshing",
            KeyOrigin::Stale => "stale",
            KeyOrigin::Snapshot => "snapshot",
            KeyOrigin::Fixed => "fixed",
        }
    }

    /// Whether the key was served past its TTL or from a snapshot: the identity provider
    /// could not be reached (counted as `StaleKeysServed`).
    #[must_use]
    pub const fn is_stale(self) -> bool {
        matches!(self, KeyOrigin::Stale | KeyOrigin::Snapshot)
    }
}

/// Whether an unknown `kid` led to a refetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refetch {
    /// The key set was refetched (by this or a concurrent request) and still lacks it.
    Done,
    /// Not refetched: one was made less than `JWKS_COOLDOWN_SECONDS` ago.
    CoolingDown,
    /// Not refetched: the last attempt failed less than `JWKS_RETRY_SECONDS` ago.
    BackingOff,
    /// Not refetched: the keys are fixed (`JWKS_FILE` / `JWKS_JSON`).
    Fixed,
}

/// Why no key could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// No key with this `kid`.
    Unknown(Refetch),
    /// Keys with this `kid` are for other algorithms.
    AlgorithmMismatch(String),
    /// Several keys fit.
    Ambiguous(usize),
    /// No usable keys: never fetched, past the stale window, or a needed refetch failed.
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

#[derive(Default, Clone)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    from_snapshot: bool,
    last_failure: Option<(Instant, String)>,
    last_miss_refetch: Option<Instant>,
    /// One more per fetch attempt.
    generation: u64,
    saved: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Init,
    /// A key cache a configuration reload created (an issuer added or changed).
    Reload,
    Expired,
    UnknownKid,
}

/// The outcome of [`KeyCache::refresh`] for its caller.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refreshed {
    /// The newest attempt (this caller's or a concurrent one's) succeeded.
    Ok,
    /// The newest attempt failed.
    Failed,
}

/// One issuer's key cache.
pub struct KeyCache {
    source: Option<Arc<dyn JwksSource>>,
    snapshots: Option<Arc<dyn SnapshotStore>>,
    algorithms: Vec<Algorithm>,
    settings: CacheSettings,
    state: RwLock<Arc<State>>,
    fetch_lock: tokio::sync::Mutex<()>,
    /// Snapshot saves, one at a time, outside `fetch_lock`.
    save_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("source", &self.describe())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
            snapshots: None,
            algorithms,
            settings,
            state: RwLock::new(Arc::new(State::default())),
            fetch_lock: tokio::sync::Mutex::new(()),
            save_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Keeps last-known-good snapshots in `store`: written when a new key set is fetched,
    /// read when the `IdP` cannot be reached at init.
    #[must_use]
    pub fn with_snapshots(mut self, store: Arc<dyn SnapshotStore>) -> Self {
        self.snapshots = Some(store);
        self
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
            snapshots: None,
            algorithms: Vec::new(),
            settings: CacheSettings::default(),
            state: RwLock::new(Arc::new(state)),
            fetch_lock: tokio::sync::Mutex::new(()),
            save_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the keys are a fixed set (`JWKS_FILE` / `JWKS_JSON`), never fetched.
    #[must_use]
    pub fn is_fixed(&self) -> bool {
        self.source.is_none()
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
        self.snapshot().generation
    }

    /// The current key set, if any.
    #[must_use]
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.snapshot().keys.clone()
    }

    /// The algorithms keys are parsed for, and the timing rules (to reuse this cache
    /// across configuration reloads only when they are unchanged).
    #[must_use]
    pub fn parameters(&self) -> (&[Algorithm], CacheSettings) {
        (&self.algorithms, self.settings)
    }

    /// Fetches the keys now (during init). A failure is logged and remembered; requests
    /// then retry after `JWKS_RETRY_SECONDS`. With a snapshot store, a failure falls back
    /// to the last-known-good snapshot when it is within the stale window.
    pub async fn prefetch(&self) {
        self.prefetch_for(Trigger::Init).await;
    }

    /// [`KeyCache::prefetch`] for a cache a configuration reload created: the fetch is
    /// logged and counted with the trigger `reload`.
    pub(crate) async fn prefetch_on_reload(&self) {
        self.prefetch_for(Trigger::Reload).await;
    }

    async fn prefetch_for(&self, trigger: Trigger) {
        if self.source.is_none() {
            return;
        }
        let generation = self.snapshot().generation;
        if self.refresh(generation, trigger).await == Refreshed::Failed {
            self.restore_snapshot().await;
        }
    }

    async fn restore_snapshot(&self) {
        let Some(store) = &self.snapshots else { return };
        let snapshot = match store.load().await {
            Ok(Some(snapshot)) => snapshot,
            Ok(None) => {
                tracing::warn!(source = %self.describe(), "no key snapshot to fall back on");
                return;
            }
            Err(error) => {
                tracing::warn!(source = %self.describe(), error = %error, "key snapshot unreadable");
                return;
            }
        };
        let age = Duration::from_secs(unix_now().saturating_sub(snapshot.fetched_at));
        let limit = self.settings.ttl.saturating_add(self.settings.stale);
        if age >= limit {
            tracing::warn!(source = %self.describe(), age_s = age.as_secs(), "key snapshot too old to use");
            return;
        }
        let keys = match KeySet::parse(snapshot.jwks.as_bytes(), &self.algorithms) {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(source = %self.describe(), error = %error, "key snapshot unusable");
                return;
            }
        };
        let now = Instant::now();
        let fetched_at = now.checked_sub(age).unwrap_or(now);
        let _flight = self.fetch_lock.lock().await;
        let before = self.snapshot();
        if before.keys.is_some() {
            // A fetch succeeded meanwhile: fresher than any snapshot.
            return;
        }
        tracing::warn!(
            source = %self.describe(),
            age_s = age.as_secs(),
            kids = %keys.kids(),
            "the IdP is unreachable: using the last-known-good key snapshot"
        );
        self.store(State {
            keys: Some(Arc::new(keys)),
            fetched_at: Some(fetched_at),
            from_snapshot: true,
            last_failure: before.last_failure.clone(),
            last_miss_refetch: before.last_miss_refetch,
            generation: before.generation,
            saved: Some(snapshot.jwks),
        });
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
    /// `KeyError` when no single usable key exists.
    pub async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<KeyHit, KeyError> {
        let state = self.snapshot();
        let now = Instant::now();
        if self.source.is_none() {
            let keys = state
                .keys
                .as_ref()
                .ok_or_else(|| KeyError::Unavailable("no keys".into()))?;
            return select(keys, kid, alg, KeyOrigin::Fixed, Refetch::Fixed);
        }

        if let (Some(keys), Some(at)) = (&state.keys, state.fetched_at)
            && now.duration_since(at) < self.settings.ttl
        {
            let origin = if state.from_snapshot {
                KeyOrigin::Snapshot
            } else {
                KeyOrigin::Cached
            };
            match keys.select(kid, alg) {
                Ok(key) => {
                    return Ok(KeyHit {
                        key: Arc::clone(key),
                        origin,
                    });
                }
                Err(Selection::Unknown) => {}
                Err(other) => return Err(selection_error(other, Refetch::Done)),
            }
            if self.backing_off(&state, now) {
                return Err(KeyError::Unknown(Refetch::BackingOff));
            }
            if !self.cooled_down(&state, now) {
                return Err(KeyError::Unknown(Refetch::CoolingDown));
            }
            if self.refresh(state.generation, Trigger::UnknownKid).await == Refreshed::Failed {
                return Err(KeyError::Unavailable(format!(
                    "the key set had to be refetched for an unknown kid and the fetch failed; {}",
                    unavailable_detail(&self.snapshot())
                )));
            }
            return self.select_current(kid, alg, state.fetched_at, Refetch::Done);
        }
        // Past the TTL (or never fetched). When another request is already refreshing and
        // the keys are still usable, answer with them now instead of waiting for the
        // network: a slow identity provider must not stall every concurrent request.
        if let (Some(keys), Some(at)) = (&state.keys, state.fetched_at)
            && now.duration_since(at) < self.settings.ttl.saturating_add(self.settings.stale)
            && self.fetch_lock.try_lock().is_err()
            && let Ok(key) = keys.select(kid, alg)
        {
            return Ok(KeyHit {
                key: Arc::clone(key),
                origin: KeyOrigin::Refreshing,
            });
        }
        if !self.backing_off(&state, now) {
            self.refresh(state.generation, Trigger::Expired).await;
        }
        self.select_current(kid, alg, state.fetched_at, Refetch::Done)
    }

    fn cooled_down(&self, state: &State, now: Instant) -> bool {
        state
            .last_miss_refetch
            .is_none_or(|t| now.duration_since(t) >= self.settings.cooldown)
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
        refetch: Refetch,
    ) -> Result<KeyHit, KeyError> {
        let state = self.snapshot();
        let now = Instant::now();
        let (Some(keys), Some(at)) = (&state.keys, state.fetched_at) else {
            return Err(KeyError::Unavailable(unavailable_detail(&state)));
        };
        let age = now.duration_since(at);
        let origin = if age >= self.settings.ttl.saturating_add(self.settings.stale) {
            return Err(KeyError::Unavailable(format!(
                "the last good keys are {}s old, past the stale window; {}",
                age.as_secs(),
                unavailable_detail(&state)
            )));
        } else if state.from_snapshot {
            KeyOrigin::Snapshot
        } else if age >= self.settings.ttl {
            KeyOrigin::Stale
        } else if previously_fetched_at == Some(at) {
            KeyOrigin::Cached
        } else {
            KeyOrigin::Fetched
        };
        select(keys, kid, alg, origin, refetch)
    }

    /// Fetches and swaps in a new key set, once for all concurrent callers: whoever gets
    /// the lock after another caller's fetch finished finds a newer generation and returns
    /// that attempt's outcome.
    async fn refresh(&self, seen_generation: u64, trigger: Trigger) -> Refreshed {
        let Some(source) = &self.source else {
            return Refreshed::Failed;
        };
        let flight = self.fetch_lock.lock().await;
        let before = self.snapshot();
        if before.generation != seen_generation {
            return if before.last_failure.is_some() {
                Refreshed::Failed
            } else {
                Refreshed::Ok
            };
        }
        let started = Instant::now();
        let result = source.fetch().await.and_then(|body| {
            KeySet::parse(&body, &self.algorithms).map_err(|e| FetchError::Other(e.to_string()))
        });
        let elapsed_ms = started.elapsed().as_millis();
        let now = Instant::now();
        let trigger_name = match trigger {
            Trigger::Init => "init",
            Trigger::Reload => "reload",
            Trigger::Expired => "ttl",
            Trigger::UnknownKid => "unknown_kid",
        };
        crate::telemetry::metrics::key_fetch(trigger_name, result.is_ok(), elapsed_ms);
        let mut next = State {
            keys: before.keys.clone(),
            fetched_at: before.fetched_at,
            from_snapshot: before.from_snapshot,
            last_failure: before.last_failure.clone(),
            last_miss_refetch: if trigger == Trigger::UnknownKid {
                Some(now)
            } else {
                before.last_miss_refetch
            },
            generation: before.generation + 1,
            saved: before.saved.clone(),
        };
        let mut to_save = None;
        let outcome = match result {
            Ok(set) => {
                for skipped in set.skipped() {
                    tracing::warn!(
                        source = %source.describe(),
                        kid = skipped.kid.as_deref().unwrap_or("-"),
                        reason = %skipped.reason,
                        "key left out of the key set"
                    );
                }
                if set.is_empty() {
                    tracing::warn!(
                        source = %source.describe(),
                        "the key set holds no usable key: every token of this issuer is refused until it does"
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
                let document = set.minimal_document();
                let set = Arc::new(set);
                if next.saved.as_deref() != Some(document.as_str()) && !set.is_empty() {
                    to_save = Some((document, Arc::clone(&set)));
                }
                next.keys = Some(set);
                next.fetched_at = Some(now);
                next.from_snapshot = false;
                next.last_failure = None;
                Refreshed::Ok
            }
            Err(error) => {
                let serving = match (&next.keys, next.fetched_at) {
                    (Some(_), Some(at)) => {
                        let left = self
                            .settings
                            .ttl
                            .saturating_add(self.settings.stale)
                            .saturating_sub(now.duration_since(at));
                        format!(
                            "serving the last good keys for up to {}s more",
                            left.as_secs()
                        )
                    }
                    _ => "no keys to serve: requests fail closed".to_owned(),
                };
                tracing::warn!(
                    source = %source.describe(),
                    trigger = trigger_name,
                    error = %error,
                    elapsed_ms,
                    serving,
                    "key set fetch failed"
                );
                next.last_failure = Some((now, error.to_string()));
                Refreshed::Failed
            }
        };
        // The new keys are published first; requests waiting for a new `kid` go on while
        // the snapshot is written.
        self.store(next);
        drop(flight);
        if let (Some((document, fetched)), Some(store)) = (to_save, &self.snapshots) {
            self.save_snapshot(store.as_ref(), source.describe(), document, &fetched)
                .await;
        }
        outcome
    }

    /// Saves the `fetched` key set to SSM, one save at a time; skipped when the keys
    /// served are no longer these (a newer fetch published other keys and saves its own)
    /// or the same document is already saved. A failed attempt meanwhile keeps these keys
    /// served, so it does not cancel their save.
    async fn save_snapshot(
        &self,
        store: &dyn SnapshotStore,
        source: String,
        document: String,
        fetched: &Arc<KeySet>,
    ) {
        let _saving = self.save_lock.lock().await;
        let current = self.snapshot();
        let still_served = current
            .keys
            .as_ref()
            .is_some_and(|keys| Arc::ptr_eq(keys, fetched));
        if !still_served || current.saved.as_deref() == Some(document.as_str()) {
            return;
        }
        let snapshot = Snapshot {
            jwks: document.clone(),
            fetched_at: unix_now(),
        };
        match store.save(snapshot).await {
            Ok(()) => {
                // State changes only under the fetch lock: a refresh must not be undone.
                let _flight = self.fetch_lock.lock().await;
                let mut state = (*self.snapshot()).clone();
                state.saved = Some(document);
                self.store(state);
            }
            Err(error) => {
                tracing::warn!(source = %source, error = %error, "key snapshot not saved");
            }
        }
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
    refetch: Refetch,
) -> Result<KeyHit, KeyError> {
    keys.select(kid, alg)
        .map(|key| KeyHit {
            key: Arc::clone(key),
            origin,
        })
        .map_err(|e| selection_error(e, refetch))
}

fn selection_error(selection: Selection, refetch: Refetch) -> KeyError {
    match selection {
        Selection::Unknown => KeyError::Unknown(refetch),
        Selection::AlgorithmMismatch(detail) => KeyError::AlgorithmMismatch(detail),
        Selection::Ambiguous(n) => KeyError::Ambiguous(n),
    }
}
