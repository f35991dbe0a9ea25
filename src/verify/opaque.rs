//! Opaque access tokens, deliberately: when an issuer is configured for it, a token that
//! is not a JWT (an opaque string, or a JWE only the provider can decrypt) is validated
//! by asking its identity provider — its `/userinfo` endpoint (what Auth0 suggests for
//! tokens issued without an audience) or an RFC 7662 introspection endpoint — instead of
//! being refused with `opaque_token`.
//!
//! Answers are cached by the token's SHA-256 for a short, bounded time (never past the
//! token's `exp`; bounded in entries and bytes), positive and negative alike, so a busy
//! API does not call the provider on every request. Concurrent requests with the same
//! token share one question; at most [`MAX_IN_FLIGHT`] questions run at once. A refusal
//! that concerns one token (userinfo: 401/403, or 400/413/414/431 for a malformed or
//! oversized request; introspection: `active: false`, or 413/414/431) is that token's
//! negative answer; a userinfo rate limit (429, per user at Auth0) refuses that token
//! alone for [`FAILURE_BACKOFF`]; a failure of the provider itself (transport, timeout,
//! 5xx, an unexpected answer, our client refused or rate-limited) refuses every new token
//! without asking for [`FAILURE_BACKOFF`]. Failures fail closed (`introspection_unavailable`, a 500). The
//! token goes only to the configured issuer's endpoint, in a header or a form body,
//! never in a URL or a log line.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use futures_util::FutureExt as _;
use futures_util::future::Shared;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::http::{BoxFuture, Call, FetchError, Http, discover_member, discovery_url, redact};
use crate::refusal::{Reason, Refusal};
use crate::settings::opaque::{OpaqueAudience, OpaqueMode, OpaqueSettings};
use crate::ssm::ParameterStore;
use crate::telemetry::metrics::OpaqueMetric;
use crate::token::{Claims, UnixTime};

/// At most this many answers are cached.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// At most this many bytes of answers are cached (answers are at most [`MAX_ANSWER_BYTES`]).
pub(crate) const MAX_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// A provider's answer larger than this is refused (a user profile is a few hundred bytes).
pub(crate) const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// At most this many questions to the provider at once; more wait (within the deadline).
pub(crate) const MAX_IN_FLIGHT: usize = 64;

/// After a failed question, tokens not in the cache are refused without asking for this
/// long: an outage or a flood costs the provider one question per 2 s, not one per request.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(2);

/// Credentials shorter than this are never sent: `undefined`, `null`, a placeholder.
/// Real opaque tokens are 32 characters (Auth0) or more.
pub(crate) const MIN_TOKEN_CHARS: usize = 16;

/// Credentials longer than this are never sent: opaque tokens are tens of characters and
/// JWEs a few kilobytes; a larger string would only make the provider refuse the request
/// (431, 413) at our expense.
pub const MAX_TOKEN_CHARS: usize = 8 * 1024;

/// After an introspection 401, the client secret is re-read from SSM (a rotation) at most
/// this often.
pub(crate) const SECRET_REREAD: Duration = Duration::from_secs(60);

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What the provider said about one token.
#[derive(Clone)]
enum Answer {
    Valid(Claims),
    Invalid(Refusal),
}

/// A cached answer: until when, and its size.
struct Entry {
    until: Instant,
    bytes: usize,
    answer: Answer,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<[u8; 32], Entry>,
    bytes: usize,
}

/// A question to the provider that concurrent requests for the same token share.
type Pending = Shared<BoxFuture<'static, Result<(Answer, usize), FetchError>>>;

/// The validator of one issuer's opaque tokens.
pub struct OpaqueValidator {
    asker: Arc<Asker>,
    cache: Mutex<Cache>,
    in_flight: Mutex<HashMap<[u8; 32], Pending>>,
    failed_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for OpaqueValidator {
    /// Never the cached answers (claims, e-mail addresses) nor the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpaqueValidator")
            .field("mode", &self.asker.settings.mode)
            .field("endpoint", &self.asker.describe())
            .field("cached", &self.cache.lock().map_or(0, |c| c.entries.len()))
            .finish_non_exhaustive()
    }
}

/// Asks the provider: what a shared question needs, owned.
struct Asker {
    settings: OpaqueSettings,
    issuer: String,
    http: Arc<Http>,
    secret: RwLock<Option<Secret>>,
    /// Where the secret can be re-read after a 401 (a rotation), and when it last was.
    secret_source: Option<(Arc<dyn ParameterStore>, String)>,
    secret_read_at: Mutex<Instant>,
    endpoint: OnceCell<Url>,
    permits: tokio::sync::Semaphore,
}

/// How one validation went, for the decision log line and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Answered from the cache.
    Cached,
    /// Asked the provider (or tried to).
    Asked,
    /// Refused without asking and without the cache: a credential too short or too long
    /// to send, or the back-off after a provider failure.
    NotAsked,
}

impl Lookup {
    /// Name for the decision log line (`opaque_cache`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Lookup::Cached => "hit",
            Lookup::Asked => "miss",
            Lookup::NotAsked => "not_asked",
        }
    }

    /// What the metrics count: a cache hit, a question to the provider, or nothing (refused
    /// without either).
    #[must_use]
    pub const fn metric(self) -> Option<OpaqueMetric> {
        match self {
            Lookup::Cached => Some(OpaqueMetric::CacheHit),
            Lookup::Asked => Some(OpaqueMetric::Lookup),
            Lookup::NotAsked => None,
        }
    }
}

impl OpaqueValidator {
    /// A validator; nothing is fetched yet. `secret_source` is the parameter store the
    /// secret was read from, for re-reading it after a rotation.
    #[must_use]
    pub fn new(
        settings: OpaqueSettings,
        issuer: String,
        http: Arc<Http>,
        secret: Option<Secret>,
        secret_source: Option<Arc<dyn ParameterStore>>,
    ) -> Self {
        let secret_source = secret_source.zip(settings.client_secret_parameter.clone());
        OpaqueValidator {
            asker: Arc::new(Asker {
                settings,
                issuer,
                http,
                secret: RwLock::new(secret),
                secret_source,
                // The first 401 after init may re-read at once (a rotation during init).
                secret_read_at: Mutex::new(
                    Instant::now()
                        .checked_sub(SECRET_REREAD)
                        .unwrap_or_else(Instant::now),
                ),
                endpoint: OnceCell::new(),
                permits: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            }),
            cache: Mutex::new(Cache::default()),
            in_flight: Mutex::new(HashMap::new()),
            failed_at: Mutex::new(None),
        }
    }

    /// The mode.
    #[must_use]
    pub fn mode(&self) -> OpaqueMode {
        self.asker.settings.mode
    }

    /// Whether answers must name this API.
    #[must_use]
    pub fn audience(&self) -> OpaqueAudience {
        self.asker.settings.audience
    }

    /// Resolves the endpoint by discovery during init (when none is configured), so the
    /// first request does not pay for it.
    pub async fn prefetch(&self) {
        if let Err(error) = self.asker.endpoint().await {
            tracing::warn!(issuer = %self.asker.issuer, error = %error, "opaque-token endpoint not discovered yet");
        }
    }

    /// Asks the provider about `token` (or reuses a recent answer) and returns the claims
    /// it vouches for.
    ///
    /// # Errors
    /// `opaque_token` for a credential too short or too long to send, `token_inactive` when the
    /// provider says the token is not valid, `introspection_unavailable` when it cannot
    /// be asked or answers unexpectedly.
    pub async fn validate(&self, token: &str, now: UnixTime) -> (Result<Claims, Refusal>, Lookup) {
        if token.len() < MIN_TOKEN_CHARS || token.len() > MAX_TOKEN_CHARS {
            let size = if token.len() < MIN_TOKEN_CHARS {
                "too short"
            } else {
                "too long"
            };
            return (
                Err(Refusal::new(
                    Reason::OpaqueToken,
                    format!(
                        "{} characters: {size} to be an access token, not sent to the identity provider",
                        token.len()
                    ),
                )),
                Lookup::NotAsked,
            );
        }
        let key: [u8; 32] = digest::digest(&digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .unwrap_or([0; 32]);
        if let Some(answer) = self.cached(&key) {
            // A rate-limited token's remembered refusal is not an answer from the cache.
            let lookup = match &answer {
                Err(r) if r.reason == Reason::IntrospectionUnavailable => Lookup::NotAsked,
                _ => Lookup::Cached,
            };
            return (answer, lookup);
        }
        if let Ok(failed_at) = self.failed_at.lock()
            && let Some(at) = *failed_at
            && at.elapsed() < FAILURE_BACKOFF
        {
            return (
                Err(unavailable(
                    &self.asker,
                    &format!(
                        "not asked: the last question failed less than {} s ago",
                        FAILURE_BACKOFF.as_secs()
                    ),
                )),
                Lookup::NotAsked,
            );
        }
        // Concurrent requests with the same token share one question.
        let pending = {
            let Ok(mut in_flight) = self.in_flight.lock() else {
                return (
                    Err(unavailable(&self.asker, "internal lock poisoned")),
                    Lookup::NotAsked,
                );
            };
            in_flight
                .entry(key)
                .or_insert_with(|| {
                    let asker = Arc::clone(&self.asker);
                    let token = token.to_owned();
                    let question: BoxFuture<'static, Result<(Answer, usize), FetchError>> =
                        Box::pin(async move { asker.ask_within_deadline(&token).await });
                    question.shared()
                })
                .clone()
        };
        let asked = pending.clone().await;
        if let Ok(mut in_flight) = self.in_flight.lock()
            && in_flight.get(&key).is_some_and(|p| p.ptr_eq(&pending))
        {
            in_flight.remove(&key);
        }
        match asked {
            Ok((answer, bytes)) => {
                match &answer {
                    // Rate-limited for this token: refuse it alone for a moment.
                    Answer::Invalid(refusal)
                        if refusal.reason == Reason::IntrospectionUnavailable =>
                    {
                        self.remember_for(key, &answer, bytes, FAILURE_BACKOFF);
                    }
                    _ => self.remember(key, &answer, bytes, now),
                }
                (into_result(answer), Lookup::Asked)
            }
            Err(error) => {
                if let Ok(mut failed_at) = self.failed_at.lock() {
                    *failed_at = Some(Instant::now());
                }
                (
                    Err(unavailable(&self.asker, &error.to_string())),
                    Lookup::Asked,
                )
            }
        }
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Result<Claims, Refusal>> {
        let cache = self.cache.lock().ok()?;
        let entry = cache.entries.get(key)?;
        (Instant::now() < entry.until).then(|| into_result(entry.answer.clone()))
    }

    fn remember(&self, key: [u8; 32], answer: &Answer, bytes: usize, now: UnixTime) {
        let mut ttl = self.asker.settings.cache_ttl;
        if let Answer::Valid(claims) = answer
            && let Some(exp) = claims.get("exp").and_then(|e| e.as_f64())
        {
            let left = (exp - now).max(0.0).min(ttl.as_secs_f64());
            ttl = Duration::from_secs_f64(left);
        }
        self.remember_for(key, answer, bytes, ttl);
    }

    fn remember_for(&self, key: [u8; 32], answer: &Answer, bytes: usize, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let instant = Instant::now();
        if cache.entries.len() >= MAX_ENTRIES || cache.bytes + bytes > MAX_CACHE_BYTES {
            cache.make_room(instant);
        }
        if let Some(old) = cache.entries.insert(
            key,
            Entry {
                until: instant + ttl,
                bytes,
                answer: answer.clone(),
            },
        ) {
            cache.bytes -= old.bytes;
        }
        cache.bytes += bytes;
    }

    /// Where the tokens go, for logs.
    #[must_use]
    pub fn describe(&self) -> String {
        self.asker.describe()
    }
}

impl Cache {
    /// Frees room without dropping everything: expired answers first, then negative ones
    /// (a flood of made-up tokens), then the half that expires soonest.
    fn make_room(&mut self, now: Instant) {
        self.entries.retain(|_, e| e.until > now);
        if self.entries.len() >= MAX_ENTRIES || self.bytes_now() > MAX_CACHE_BYTES / 2 {
            self.entries
                .retain(|_, e| matches!(e.answer, Answer::Valid(_)));
        }
        if self.entries.len() >= MAX_ENTRIES / 2 || self.bytes_now() > MAX_CACHE_BYTES / 2 {
            let mut untils: Vec<Instant> = self.entries.values().map(|e| e.until).collect();
            let middle = untils.len() / 2;
            untils.select_nth_unstable(middle);
            let cut = untils[middle];
            self.entries.retain(|_, e| e.until > cut);
        }
        self.bytes = self.bytes_now();
    }

    fn bytes_now(&self) -> usize {
        self.entries.values().map(|e| e.bytes).sum()
    }
}

fn unavailable(asker: &Asker, message: &str) -> Refusal {
    Refusal::new(
        Reason::IntrospectionUnavailable,
        format!(
            "{} of {}: {message}",
            asker.settings.mode.as_str(),
            asker.issuer
        ),
    )
}

/// Puts the last re-read time back when a re-read is dropped before it finished.
struct Rearm<'a> {
    slot: &'a Mutex<Instant>,
    previous: Option<Instant>,
}

impl Drop for Rearm<'_> {
    fn drop(&mut self) {
        if let (Some(previous), Ok(mut slot)) = (self.previous, self.slot.lock()) {
            *slot = previous;
        }
    }
}

fn into_result(answer: Answer) -> Result<Claims, Refusal> {
    match answer {
        Answer::Valid(claims) => Ok(claims),
        Answer::Invalid(refusal) => Err(refusal),
    }
}

impl Asker {
    fn describe(&self) -> String {
        match (self.endpoint.get(), &self.settings.endpoint) {
            (Some(url), _) | (None, Some(url)) => redact(url),
            (None, None) => format!(
                "{} from {}",
                self.settings.mode.discovery_member(),
                discovery_url(&self.issuer)
            ),
        }
    }

    async fn endpoint(&self) -> Result<Url, FetchError> {
        if let Some(url) = &self.settings.endpoint {
            return Ok(url.clone());
        }
        self.endpoint
            .get_or_try_init(|| async {
                let url = discover_member(
                    &self.http,
                    &self.issuer,
                    self.settings.mode.discovery_member(),
                    "; set OPAQUE_ENDPOINT",
                )
                .await?;
                tracing::info!(
                    issuer = %self.issuer,
                    endpoint = %redact(&url),
                    mode = self.settings.mode.as_str(),
                    "discovered the opaque-token endpoint"
                );
                Ok(url)
            })
            .await
            .cloned()
    }

    /// One question, within `HTTP_TIMEOUT_MS` (waiting for a permit included).
    async fn ask_within_deadline(&self, token: &str) -> Result<(Answer, usize), FetchError> {
        let deadline = self.http.settings.timeout;
        let asked = async {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|e| FetchError::Other(e.to_string()))?;
            match self.ask(token).await {
                // 401, or 400 for a client authenticated in the form body (RFC 6749 §5.2).
                Err(FetchError::Status {
                    status: 400 | 401, ..
                }) if self.settings.mode == OpaqueMode::Introspection
                    && self.reread_secret().await =>
                {
                    self.ask(token).await
                }
                other => other,
            }
        };
        tokio::time::timeout(deadline, asked)
            .await
            .unwrap_or_else(|_| {
                Err(FetchError::Timeout {
                    url: self.describe(),
                    millis: deadline.as_millis(),
                })
            })
    }

    /// After the introspection endpoint refused the client (401): re-reads the secret
    /// (at most once per [`SECRET_REREAD`]); `true` when it changed, so asking again can help.
    async fn reread_secret(&self) -> bool {
        let Some((store, name)) = &self.secret_source else {
            return false;
        };
        let previous = {
            let Ok(mut read_at) = self.secret_read_at.lock() else {
                return false;
            };
            if read_at.elapsed() < SECRET_REREAD {
                return false;
            }
            std::mem::replace(&mut *read_at, Instant::now())
        };
        // A read cut short by the request's deadline does not count: the next 401 may try.
        let mut rearm = Rearm {
            slot: &self.secret_read_at,
            previous: Some(previous),
        };
        let read = store.get(name).await;
        rearm.previous = None;
        let Ok(Some(parameter)) = read else {
            tracing::warn!(parameter = %name, "introspection client secret could not be re-read");
            return false;
        };
        let fresh = Secret::new(parameter.value);
        let Ok(mut secret) = self.secret.write() else {
            return false;
        };
        if secret.as_ref() == Some(&fresh) {
            return false;
        }
        *secret = Some(fresh);
        tracing::info!(parameter = %name, "introspection client secret re-read after a 401 (rotated)");
        true
    }

    async fn ask(&self, token: &str) -> Result<(Answer, usize), FetchError> {
        let url = self.endpoint().await?;
        let shown = redact(&url);
        let unexpected = |message: String| FetchError::Other(format!("{shown}: {message}"));
        let (status, body) = match self.settings.mode {
            OpaqueMode::Userinfo => self.http.call(&url, Call::Bearer(token)).await?,
            OpaqueMode::Introspection => {
                let client_id = self.settings.client_id.clone().unwrap_or_default();
                let secret = self
                    .secret
                    .read()
                    .ok()
                    .and_then(|s| s.as_ref().map(|s| s.expose().to_owned()))
                    .unwrap_or_default();
                let form = [("token", token), ("token_type_hint", "access_token")];
                self.http
                    .call(
                        &url,
                        Call::Form {
                            form: &form,
                            client: (&client_id, &secret),
                            auth: self.settings.client_auth,
                        },
                    )
                    .await?
            }
        };
        if body.len() > MAX_ANSWER_BYTES {
            return Err(unexpected(format!(
                "the answer is larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        let bytes = body.len();
        let answer = match (self.settings.mode, status) {
            (OpaqueMode::Userinfo, 200) => {
                let claims = Claims::from_bytes(body).map_err(|e| {
                    unexpected(format!("the userinfo answer is not a JSON object ({e})"))
                })?;
                match claims.get("sub").and_then(|s| s.as_str()) {
                    Some(sub) if !sub.is_empty() => Answer::Valid(claims),
                    _ => return Err(unexpected("the userinfo answer has no sub".to_owned())),
                }
            }
            (OpaqueMode::Userinfo, 401 | 403) => Answer::Invalid(Refusal::new(
                Reason::TokenInactive,
                format!("the userinfo endpoint answered {status}"),
            )),
            (OpaqueMode::Introspection, 200) => {
                let mut claims = Claims::from_bytes(body).map_err(|e| {
                    unexpected(format!(
                        "the introspection answer is not a JSON object ({e})"
                    ))
                })?;
                match claims.remove("active") {
                    Some(Value::Bool(true)) => Answer::Valid(claims),
                    Some(Value::Bool(false)) => Answer::Invalid(Refusal::new(
                        Reason::TokenInactive,
                        "the introspection endpoint says active: false",
                    )),
                    _ => {
                        return Err(unexpected(
                            "the introspection answer has no boolean active member".to_owned(),
                        ));
                    }
                }
            }
            // About this token only: a malformed or oversized request for it.
            (OpaqueMode::Userinfo, 400 | 413 | 414 | 431)
            | (OpaqueMode::Introspection, 413 | 414 | 431) => Answer::Invalid(Refusal::new(
                Reason::TokenInactive,
                format!(
                    "the {} endpoint refused the request for this token ({status})",
                    self.settings.mode.as_str()
                ),
            )),
            // Rate-limited per user (Auth0's /userinfo): this token alone, briefly. An
            // introspection endpoint limits the client, so there a 429 is everyone's.
            (OpaqueMode::Userinfo, 429) => Answer::Invalid(unavailable(
                self,
                &format!(
                    "rate-limited (429); this token is refused for {} s",
                    FAILURE_BACKOFF.as_secs()
                ),
            )),
            // The provider or our client (an introspection 400 is our request: RFC 7662
            // answers an unknown token with active: false): every new token waits out the
            // back-off.
            (_, status) => return Err(FetchError::Status { url: shown, status }),
        };
        Ok((answer, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::http::{ClientAuth, HttpSettings};

    fn validator(cache_ttl: Duration) -> OpaqueValidator {
        OpaqueValidator::new(
            OpaqueSettings {
                mode: OpaqueMode::Userinfo,
                endpoint: Some(Url::parse("http://127.0.0.1:9/userinfo").unwrap()),
                client_id: None,
                client_secret_parameter: None,
                client_auth: ClientAuth::Basic,
                cache_ttl,
                audience: OpaqueAudience::Unbound,
            },
            "https://issuer.example/".into(),
            Arc::new(Http::new(HttpSettings::default()).unwrap()),
            None,
            None,
        )
    }

    fn key(n: usize) -> [u8; 32] {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&(n as u64).to_le_bytes());
        key
    }

    fn valid() -> Answer {
        Answer::Valid(Claims::parse(r#"{"sub":"u"}"#.to_owned()).unwrap())
    }

    #[test]
    fn a_flood_of_made_up_tokens_does_not_evict_the_valid_answers() {
        let v = validator(Duration::from_secs(60));
        for n in 0..100 {
            v.remember(key(n), &valid(), 100, 0.0);
        }
        let invalid = Answer::Invalid(Refusal::new(Reason::TokenInactive, "no"));
        for n in 100..100 + MAX_ENTRIES * 2 {
            v.remember(key(n), &invalid, 50, 0.0);
        }
        let cache = v.cache.lock().unwrap();
        assert!(cache.entries.len() <= MAX_ENTRIES);
        assert!(
            (0..100).all(|n| cache.entries.contains_key(&key(n))),
            "valid answers kept"
        );
        assert_eq!(cache.bytes, cache.bytes_now());
    }

    #[test]
    fn the_byte_budget_holds() {
        let v = validator(Duration::from_secs(60));
        for n in 0..2_000 {
            v.remember(key(n), &valid(), MAX_ANSWER_BYTES, 0.0);
        }
        let cache = v.cache.lock().unwrap();
        assert!(cache.bytes <= MAX_CACHE_BYTES, "{} bytes", cache.bytes);
    }

    #[test]
    fn debug_shows_neither_answers_nor_secrets() {
        let v = validator(Duration::from_secs(60));
        let claims = Claims::parse(r#"{"email":"jane@example.com"}"#.to_owned()).unwrap();
        v.remember(key(1), &Answer::Valid(claims), 10, 0.0);
        let shown = format!("{v:?}");
        assert!(!shown.contains("jane@example.com"), "{shown}");
        assert!(shown.contains("cached: 1"), "{shown}");
    }
}
