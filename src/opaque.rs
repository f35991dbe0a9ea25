//! Opaque access tokens, deliberately: when an issuer is configured for it, a token that
//! is not a JWT is validated by asking its identity provider — its `/userinfo` endpoint
//! (what Auth0 suggests for tokens issued without an audience) or an RFC 7662
//! introspection endpoint — instead of being refused with `opaque_token`.
//!
//! The answer is cached by the token's SHA-256 for a short, bounded time (never past the
//! token's `exp`), positive and negative alike, so a busy API does not call the provider
//! on every request; failures and timeouts are not cached and fail closed
//! (`introspection_unavailable`, a 500). The token goes only to the configured issuer's
//! endpoint, in a header or a form body, never in a URL or a log line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use futures_util::FutureExt as _;
use futures_util::future::Shared;

use crate::fetch::{
    BoxFuture, Call, FetchError, Http, check_discovered_url, discovery_url, redact,
};
use crate::refusal::{Reason, Refusal, sanitize};
use crate::token::parse_object;

/// Default for `OPAQUE_CACHE_SECONDS`: answers are reused for a minute.
pub const DEFAULT_CACHE: Duration = Duration::from_secs(60);

/// Largest `OPAQUE_CACHE_SECONDS`: a revoked opaque token stops working within 5 minutes.
pub const MAX_CACHE: Duration = Duration::from_secs(300);

/// At most this many answers are cached; beyond it, expired ones are dropped, then all.
pub const MAX_ENTRIES: usize = 10_000;

/// How opaque tokens are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpaqueMode {
    /// `GET userinfo` with the token as bearer: 200 and a `sub` mean valid.
    Userinfo,
    /// RFC 7662 `POST introspection` with client credentials: `active: true` means valid.
    Introspection,
}

impl OpaqueMode {
    /// The name in configuration and logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            OpaqueMode::Userinfo => "userinfo",
            OpaqueMode::Introspection => "introspection",
        }
    }

    /// The discovery member naming the endpoint.
    #[must_use]
    pub const fn discovery_member(self) -> &'static str {
        match self {
            OpaqueMode::Userinfo => "userinfo_endpoint",
            OpaqueMode::Introspection => "introspection_endpoint",
        }
    }
}

/// An issuer's opaque-token settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueSettings {
    /// How.
    pub mode: OpaqueMode,
    /// The endpoint; `None`: from the issuer's discovery document.
    pub endpoint: Option<Url>,
    /// The introspection client's id.
    pub client_id: Option<String>,
    /// The SSM parameter (`SecureString`) holding the introspection client's secret.
    pub client_secret_parameter: Option<String>,
    /// How long an answer is reused (0: never).
    pub cache_ttl: Duration,
}

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
#[derive(Debug, Clone)]
enum Answer {
    Valid(Map<String, Value>),
    Invalid(Refusal),
}

/// The validator of one issuer's opaque tokens.
#[derive(Debug)]
pub struct OpaqueValidator {
    asker: Arc<Asker>,
    cache: Mutex<HashMap<[u8; 32], (Instant, Answer)>>,
    in_flight: Mutex<HashMap<[u8; 32], Pending>>,
}

/// A question to the provider that concurrent requests for the same token share.
type Pending = Shared<BoxFuture<'static, Result<Answer, FetchError>>>;

/// Asks the provider: what a shared question needs, owned.
#[derive(Debug)]
struct Asker {
    settings: OpaqueSettings,
    issuer: String,
    http: Arc<Http>,
    secret: Option<Secret>,
    endpoint: OnceCell<Url>,
    /// At most [`MAX_IN_FLIGHT`] questions at once, whatever the traffic.
    permits: tokio::sync::Semaphore,
}

/// At most this many questions to the provider at once; more wait (within the deadline).
pub const MAX_IN_FLIGHT: usize = 64;

/// How one validation went, for the decision log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Answered from the cache.
    Cached,
    /// Asked the provider.
    Asked,
}

impl OpaqueValidator {
    /// A validator; nothing is fetched yet.
    #[must_use]
    pub fn new(
        settings: OpaqueSettings,
        issuer: String,
        http: Arc<Http>,
        secret: Option<Secret>,
    ) -> Self {
        OpaqueValidator {
            asker: Arc::new(Asker {
                settings,
                issuer,
                http,
                secret,
                endpoint: OnceCell::new(),
                permits: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            }),
            cache: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The mode.
    #[must_use]
    pub fn mode(&self) -> OpaqueMode {
        self.asker.settings.mode
    }

    /// Asks the provider about `token` (or reuses a recent answer) and returns the claims
    /// it vouches for.
    ///
    /// # Errors
    /// `token_inactive` when the provider says the token is not valid;
    /// `introspection_unavailable` when it cannot be asked or answers unexpectedly.
    pub async fn validate(
        &self,
        token: &str,
        now: crate::verify::UnixTime,
    ) -> (Result<Map<String, Value>, Refusal>, Lookup) {
        let key: [u8; 32] = digest::digest(&digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .unwrap_or([0; 32]);
        if let Some(answer) = self.cached(&key) {
            return (answer, Lookup::Cached);
        }
        // Concurrent requests with the same token share one question.
        let pending = {
            let Ok(mut in_flight) = self.in_flight.lock() else {
                return (
                    Err(unavailable(&self.asker, "internal lock poisoned")),
                    Lookup::Asked,
                );
            };
            in_flight
                .entry(key)
                .or_insert_with(|| {
                    let asker = Arc::clone(&self.asker);
                    let token = token.to_owned();
                    let question: BoxFuture<'static, Result<Answer, FetchError>> =
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
            Ok(answer) => {
                self.remember(key, &answer, now);
                (into_result(answer), Lookup::Asked)
            }
            Err(error) => (
                Err(Refusal::new(
                    Reason::IntrospectionUnavailable,
                    format!(
                        "{} of {}: {error}",
                        self.asker.settings.mode.as_str(),
                        self.asker.issuer
                    ),
                )),
                Lookup::Asked,
            ),
        }
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Result<Map<String, Value>, Refusal>> {
        let cache = self.cache.lock().ok()?;
        let (until, answer) = cache.get(key)?;
        (Instant::now() < *until).then(|| into_result(answer.clone()))
    }

    fn remember(&self, key: [u8; 32], answer: &Answer, now: crate::verify::UnixTime) {
        let mut ttl = self.asker.settings.cache_ttl;
        if let Answer::Valid(claims) = answer
            && let Some(exp) = claims.get("exp").and_then(Value::as_f64)
        {
            let left = (exp - now).max(0.0).min(ttl.as_secs_f64());
            ttl = Duration::from_secs_f64(left);
        }
        if ttl.is_zero() {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let instant = Instant::now();
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, (until, _)| *until > instant);
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (instant + ttl, answer.clone()));
    }

    /// Where the tokens go, for logs.
    #[must_use]
    pub fn describe(&self) -> String {
        self.asker.describe()
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
                let url = discover_endpoint(&self.http, &self.issuer, self.settings.mode).await?;
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
    async fn ask_within_deadline(&self, token: &str) -> Result<Answer, FetchError> {
        let deadline = self.http.settings.timeout;
        let asked = async {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|e| FetchError::Other(e.to_string()))?;
            self.ask(token).await
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

    async fn ask(&self, token: &str) -> Result<Answer, FetchError> {
        let url = self.endpoint().await?;
        let shown = redact(&url);
        let unexpected = |message: String| FetchError::Other(format!("{shown}: {message}"));
        match self.settings.mode {
            OpaqueMode::Userinfo => {
                let (status, body) = self.http.call(&url, Call::Bearer(token)).await?;
                match status {
                    200 => {
                        let claims = parse_object(&body).map_err(|e| {
                            unexpected(format!("the userinfo answer is not a JSON object ({e})"))
                        })?;
                        match claims.get("sub") {
                            Some(Value::String(sub)) if !sub.is_empty() => {
                                Ok(Answer::Valid(claims))
                            }
                            _ => Err(unexpected("the userinfo answer has no sub".to_owned())),
                        }
                    }
                    401 | 403 => Ok(Answer::Invalid(Refusal::new(
                        Reason::TokenInactive,
                        format!("the userinfo endpoint answered {status}"),
                    ))),
                    other => Err(FetchError::Status {
                        url: shown,
                        status: other,
                    }),
                }
            }
            OpaqueMode::Introspection => {
                let client_id = self.settings.client_id.as_deref().unwrap_or_default();
                let secret = self.secret.as_ref().map_or("", Secret::expose);
                let form = [("token", token), ("token_type_hint", "access_token")];
                let (status, body) = self
                    .http
                    .call(
                        &url,
                        Call::Form {
                            form: &form,
                            basic: (client_id, secret),
                        },
                    )
                    .await?;
                if status != 200 {
                    return Err(FetchError::Status { url: shown, status });
                }
                let mut claims = parse_object(&body).map_err(|e| {
                    unexpected(format!(
                        "the introspection answer is not a JSON object ({e})"
                    ))
                })?;
                match claims.remove("active") {
                    Some(Value::Bool(true)) => Ok(Answer::Valid(claims)),
                    Some(Value::Bool(false)) => Ok(Answer::Invalid(Refusal::new(
                        Reason::TokenInactive,
                        "the introspection endpoint says active: false",
                    ))),
                    _ => Err(unexpected(
                        "the introspection answer has no boolean active member".to_owned(),
                    )),
                }
            }
        }
    }
}

fn into_result(answer: Answer) -> Result<Map<String, Value>, Refusal> {
    match answer {
        Answer::Valid(claims) => Ok(claims),
        Answer::Invalid(refusal) => Err(refusal),
    }
}

/// The userinfo or introspection endpoint of an issuer's discovery document; https only
/// (plain http only for a loopback http issuer, as for keys).
async fn discover_endpoint(http: &Http, issuer: &str, mode: OpaqueMode) -> Result<Url, FetchError> {
    let url_text = discovery_url(issuer);
    let failure = |message: String| FetchError::Discovery {
        url: url_text.clone(),
        message,
    };
    let url = Url::parse(&url_text).map_err(|e| failure(e.to_string()))?;
    let body = http.get(&url).await?;
    let doc = parse_object(&body).map_err(failure)?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(failure(format!("its issuer is not {issuer}")));
    }
    let member = mode.discovery_member();
    let endpoint = doc
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| failure(format!("no {member} member; set OPAQUE_ENDPOINT")))?;
    let endpoint = Url::parse(endpoint).map_err(|e| failure(format!("{member}: {e}")))?;
    check_discovered_url(issuer, &endpoint)
        .map_err(|e| failure(format!("{member}: {}", sanitize(&e, 200))))?;
    Ok(endpoint)
}
