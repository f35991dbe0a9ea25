//! The authorizer: built once at init, then one event → one answer, one log line.
//!
//! `handle` is the whole request path: detect the event shape and take the credential
//! ([`crate::event`]), verify the token ([`crate::verify`]), check the permissions
//! ([`crate::decision`]), build the answer ([`crate::response`]), log the decision.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use tokio::time::Instant as TokioInstant;

use crate::config::{
    Config, ConfigDocument, ConfigError, EnvConfig, GatewaySettings, IssuerConfig, KeySourceConfig,
};
use crate::decision::check_scopes;
use crate::error::{Failure, InitError};
use crate::event::{AuthorizerEvent, Request};
use crate::fetch::HttpSettings;
use crate::fetch::{Http, JwksLocation, RemoteJwks};
use crate::jwk::KeySet;
use crate::keys::CacheSettings;
use crate::keys::KeyCache;
use crate::opaque::{OpaqueValidator, Secret};
use crate::refusal::Reason;
use crate::refusal::{Outcome, Refusal};
use crate::response::{self, Answer, Grant};
use crate::routes::{CalledRoute, RouteRules};
use crate::ssm::{ParameterSnapshots, ParameterStore, Ssm};
use crate::verify::{Issuer, Opaque, TokenFacts, UnixTime, Verifier};

/// Everything a request needs, built once per execution environment, and rebuilt when
/// the configuration document changes.
pub struct Authorizer {
    active: RwLock<Arc<Active>>,
    snapshots: Option<(Arc<dyn ParameterStore>, String)>,
    reload: Option<Reload>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("active", &self.current())
            .finish_non_exhaustive()
    }
}

/// One configuration, built: what a request reads.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) verifier: Verifier,
    gateway: GatewaySettings,
    pub(crate) routes: RouteRules,
    http: Arc<Http>,
    http_settings: HttpSettings,
    /// The document's SSM version, when loaded from one.
    version: Option<i64>,
}

/// Re-reading the configuration document after `CONFIG_TTL_SECONDS`.
struct Reload {
    env: EnvConfig,
    store: Arc<dyn ParameterStore>,
    parameter: String,
    ttl: Duration,
    last_check: std::sync::Mutex<TokioInstant>,
    lock: tokio::sync::Mutex<()>,
}

/// The record of one decision: what the log line says.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    /// The answer's kind.
    pub outcome: Outcome,
    /// Why, when not allowed.
    pub refusal: Option<Refusal>,
    /// What is known about the token (untrusted unless allowed).
    pub facts: TokenFacts,
    /// The principal, when verified.
    pub principal: Option<String>,
    /// First 16 bytes of SHA-256 of the token, hex: correlates log lines, reveals nothing.
    pub fingerprint: Option<String>,
    /// Claims left out of the context for size.
    pub omitted: Vec<String>,
    /// The event shape.
    pub shape: Option<&'static str>,
}

impl Authorizer {
    /// Builds the authorizer from a configuration, with no parameter store. Fixed key sets
    /// (`JWKS_FILE`, `JWKS_JSON`) are read and checked here; remote ones are fetched by
    /// [`Authorizer::prefetch`].
    ///
    /// # Errors
    /// [`InitError`] for an HTTP client failure or an unusable fixed key set.
    pub fn new(config: Config) -> Result<Self, InitError> {
        let (active, _) = build(config, None, None, None, &Secrets::new(), None)?;
        Ok(Authorizer {
            active: RwLock::new(Arc::new(active)),
            snapshots: None,
            reload: None,
        })
    }

    /// Builds the authorizer the way the Lambda function does: from the environment, and
    /// from SSM when `CONFIG_PARAMETER` or `JWKS_SNAPSHOT_PARAMETER` is set.
    ///
    /// # Errors
    /// [`InitError`] when the document cannot be read or is invalid, or as [`Authorizer::new`].
    pub async fn load(env: EnvConfig) -> Result<Self, InitError> {
        let needs_ssm = env.sources.config_parameter.is_some()
            || env.sources.jwks_snapshot.is_some()
            || env
                .issuer
                .as_ref()
                .and_then(|i| i.opaque.as_ref())
                .is_some_and(|o| o.client_secret_parameter.is_some());
        let store: Option<Arc<dyn ParameterStore>> = if needs_ssm {
            Some(Arc::new(Ssm::from_env().await))
        } else {
            None
        };
        Self::load_with(env, store).await
    }

    /// [`Authorizer::load`] with a given parameter store (tests pass an in-memory one).
    ///
    /// # Errors
    /// As [`Authorizer::load`].
    pub async fn load_with(
        env: EnvConfig,
        store: Option<Arc<dyn ParameterStore>>,
    ) -> Result<Self, InitError> {
        let snapshots = match (&store, &env.sources.jwks_snapshot) {
            (Some(store), Some(prefix)) => Some((Arc::clone(store), prefix.clone())),
            _ => None,
        };
        let (document, version, reload) = match (&store, &env.sources.config_parameter) {
            (Some(store), Some(parameter)) => {
                let (document, version) = read_document(store.as_ref(), parameter).await?;
                let reload = Reload {
                    env: env.clone(),
                    store: Arc::clone(store),
                    parameter: parameter.clone(),
                    ttl: env.sources.config_ttl,
                    last_check: std::sync::Mutex::new(TokioInstant::now()),
                    lock: tokio::sync::Mutex::new(()),
                };
                (Some(document), Some(version), Some(reload))
            }
            _ => (None, None, None),
        };
        let config = Config::combine(&env, document)?;
        let secrets = read_secrets(&config, store.as_deref()).await?;
        let (active, _) = build(
            config,
            None,
            snapshots.as_ref(),
            version,
            &secrets,
            store.as_ref(),
        )?;
        Ok(Authorizer {
            active: RwLock::new(Arc::new(active)),
            snapshots,
            reload,
        })
    }

    /// Fetches every issuer's keys (during init, where CPU is full and unbilled).
    pub async fn prefetch(&self) {
        let active = self.current();
        // At once, not one issuer after another: a cold start waits for the slowest IdP,
        // not for the sum of them.
        let keys = futures_util::future::join_all(
            active.verifier.issuers().iter().map(|i| i.keys.prefetch()),
        );
        let opaque = async {
            if let Some(opaque) = active.verifier.opaque() {
                opaque.validator.prefetch().await;
            }
        };
        futures_util::future::join(keys, opaque).await;
    }

    /// How many issuers the current configuration trusts (for tools and tests).
    #[must_use]
    pub fn issuer_count(&self) -> usize {
        self.current().verifier.issuers().len()
    }

    /// The SSM version of the current configuration document, if any.
    #[must_use]
    pub fn config_version(&self) -> Option<i64> {
        self.current().version
    }

    pub(crate) fn current(&self) -> Arc<Active> {
        match self.active.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The configuration to decide with: re-reads the document once `CONFIG_TTL_SECONDS`
    /// have passed (one caller at a time; the others go on with the current one).
    async fn active(&self) -> Arc<Active> {
        if let Some(reload) = &self.reload {
            let due = reload
                .last_check
                .lock()
                .map_or(true, |t| t.elapsed() >= reload.ttl);
            if due && let Ok(_guard) = reload.lock.try_lock() {
                self.reload(reload).await;
            }
        }
        self.current()
    }

    async fn reload(&self, reload: &Reload) {
        if let Ok(mut last) = reload.last_check.lock() {
            *last = TokioInstant::now();
        }
        let current = self.current();
        let label = format!("CONFIG_PARAMETER {}", reload.parameter);
        let parameter = match reload.store.get(&reload.parameter).await {
            Ok(Some(parameter)) => parameter,
            Ok(None) => {
                tracing::error!(parameter = %reload.parameter, "configuration parameter not found; keeping the last good configuration");
                return;
            }
            Err(error) => {
                tracing::warn!(parameter = %reload.parameter, error = %error, "configuration not re-read; keeping the last good configuration");
                return;
            }
        };
        if current.version == Some(parameter.version) {
            return;
        }
        let config = match ConfigDocument::parse(&label, &parameter.value)
            .and_then(|document| Config::combine(&reload.env, Some(document)))
        {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(
                    version = parameter.version,
                    error = %error,
                    "the new configuration is invalid; keeping the last good configuration"
                );
                return;
            }
        };
        let built = match read_secrets(&config, Some(reload.store.as_ref())).await {
            Ok(secrets) => build(
                config,
                Some(&current),
                self.snapshots.as_ref(),
                Some(parameter.version),
                &secrets,
                Some(&reload.store),
            ),
            Err(error) => Err(error),
        };
        match built {
            Ok((active, new_caches)) => {
                futures_util::future::join_all(new_caches.iter().map(|c| c.prefetch())).await;
                tracing::info!(
                    parameter = %reload.parameter,
                    version = parameter.version,
                    issuers = active.verifier.issuers().len(),
                    new_key_caches = new_caches.len(),
                    "configuration reloaded"
                );
                match self.active.write() {
                    Ok(mut guard) => *guard = Arc::new(active),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(active),
                }
            }
            Err(error) => tracing::error!(
                version = parameter.version,
                error = %error,
                "the new configuration is invalid; keeping the last good configuration"
            ),
        }
    }

    /// Answers one event now, and logs the decision.
    ///
    /// # Errors
    /// [`Failure::Unauthorized`] (401) or [`Failure::Error`] (500).
    pub async fn handle(&self, event: AuthorizerEvent) -> Result<Answer, Failure> {
        let started = Instant::now();
        let (result, record) = self.decide(event, crate::verify::now()).await;
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        // The decision's log line and metric line leave in one write.
        let _lines = crate::logging::Batch::open();
        log_decision(&record, latency_us);
        crate::metrics::decision(&crate::metrics::DecisionMetrics {
            outcome: record.outcome.as_str(),
            reason: record.refusal.as_ref().map_or("ok", |r| r.reason.code()),
            latency_us,
            key_origin: record.facts.key_origin,
            cooled_down: record.facts.cooled_down,
            opaque_lookup: record.facts.opaque_lookup,
        });
        result
    }

    /// Answers one event at time `now`, returning the answer and the decision record
    /// without logging.
    pub async fn decide(
        &self,
        event: AuthorizerEvent,
        now: UnixTime,
    ) -> (Result<Answer, Failure>, DecisionRecord) {
        let mut record = DecisionRecord {
            outcome: Outcome::Unauthorized,
            refusal: None,
            facts: TokenFacts::default(),
            principal: None,
            fingerprint: None,
            omitted: Vec::new(),
            shape: None,
        };
        let active = self.active().await;
        let request = match event.into_request(&active.gateway) {
            Ok(request) => request,
            Err(refusal) => return refuse(refusal, record),
        };
        record.shape = Some(request.shape.as_str());
        let token = match &request.credential {
            Ok(token) => token,
            Err(refusal) => return refuse(refusal.clone(), record),
        };
        record.fingerprint = Some(fingerprint(token));
        let verified = match active.verifier.verify(token, now, &mut record.facts).await {
            Ok(verified) => verified,
            Err(refusal) => return refuse(refusal, record),
        };
        record.principal = Some(verified.principal.clone());
        let policy = &active.verifier.issuers()[verified.issuer].config;
        let (verdict, grant) = active.permissions(&request, &verified.claims, policy);
        let (answer, omitted) = response::verified(
            &request,
            verified.principal,
            verified.claims,
            verdict.as_ref().map_err(|r| r.reason).copied(),
            grant,
            &active.gateway,
        );
        record.omitted = omitted.0;
        match verdict {
            Ok(()) => record.outcome = Outcome::Allow,
            Err(refusal) => {
                record.outcome = Outcome::Deny;
                record.refusal = Some(refusal);
            }
        }
        (Ok(answer), record)
    }
}

impl Active {
    /// This request's verdict and the token's policy: the issuer's required scopes, then
    /// the route rules (every rule matching the route must hold).
    fn permissions(
        &self,
        request: &Request,
        claims: &crate::claims::Claims,
        policy: &crate::config::IssuerConfig,
    ) -> (Result<(), Refusal>, Grant) {
        if let Err(refusal) = check_scopes(claims, policy) {
            return (Err(refusal), Grant::deny_all(request, &self.gateway));
        }
        if self.routes.is_empty() {
            return (Ok(()), Grant::allow_all(request, &self.gateway));
        }
        let Some(called) = CalledRoute::from_arn(&request.arn) else {
            let refusal = Refusal::new(
                Reason::RouteNotAllowed,
                "the route ARN has no stage/method/path, so no route rule can be applied",
            );
            return (Err(refusal), Grant::deny_all(request, &self.gateway));
        };
        let verdict = self.routes.check(&called, claims, &policy.scope_claims);
        let routes = self
            .routes
            .policy(&called.stage_prefix, claims, &policy.scope_claims);
        (
            verdict,
            Grant {
                allow: routes.allow,
                deny: routes.deny,
            },
        )
    }
}

fn refuse(
    refusal: Refusal,
    mut record: DecisionRecord,
) -> (Result<Answer, Failure>, DecisionRecord) {
    record.outcome = refusal.reason.outcome();
    let failure = match record.outcome {
        Outcome::Error => Failure::Error(refusal.clone()),
        _ => Failure::Unauthorized,
    };
    record.refusal = Some(refusal);
    (Err(failure), record)
}

/// Builds one configuration. Key caches of `previous` are reused for issuers whose key
/// source, algorithms and timing are unchanged (a reload must not refetch every key set);
/// the returned list holds the caches that are new and need a prefetch.
fn build(
    config: Config,
    previous: Option<&Active>,
    snapshots: Option<&(Arc<dyn ParameterStore>, String)>,
    version: Option<i64>,
    secrets: &Secrets,
    store: Option<&Arc<dyn ParameterStore>>,
) -> Result<(Active, Vec<Arc<KeyCache>>), InitError> {
    for warning in &config.warnings {
        tracing::warn!(warning = %warning, "configuration warning");
    }
    let http = match previous {
        Some(p) if p.http_settings == config.http => Arc::clone(&p.http),
        _ => Arc::new(Http::new(config.http)?),
    };
    let mut issuers = Vec::with_capacity(config.issuers.len());
    let mut new_caches = Vec::new();
    for issuer in config.issuers {
        let reusable = previous.and_then(|p| {
            p.verifier.issuers().iter().find(|old| {
                old.config.issuer == issuer.issuer
                    && old.config.keys == issuer.keys
                    && old.keys.parameters() == (issuer.algorithms.as_slice(), config.cache)
                    && !matches!(
                        issuer.keys,
                        KeySourceConfig::File(_) | KeySourceConfig::Inline(_)
                    )
            })
        });
        let keys = if let Some(old) = reusable {
            Arc::clone(&old.keys)
        } else {
            let cache = Arc::new(key_cache(&issuer, &http, config.cache, snapshots)?);
            new_caches.push(Arc::clone(&cache));
            cache
        };
        issuers.push(Issuer {
            config: issuer,
            keys,
        });
    }
    let opaque = opaque_validation(&issuers, &http, secrets, store)?;
    let mut verifier = Verifier::new(issuers, config.max_token_bytes);
    if let Some(opaque) = opaque {
        verifier = verifier.with_opaque(opaque);
    }
    let active = Active {
        verifier,
        gateway: config.gateway,
        routes: config.routes,
        http,
        http_settings: config.http,
        version,
    };
    Ok((active, new_caches))
}

/// Client secrets of introspection clients, by parameter name.
type Secrets = std::collections::HashMap<String, Secret>;

/// Reads the client secret of every introspecting issuer from the parameter store.
async fn read_secrets(
    config: &Config,
    store: Option<&dyn ParameterStore>,
) -> Result<Secrets, InitError> {
    let mut secrets = Secrets::new();
    for issuer in &config.issuers {
        let Some(name) = issuer
            .opaque
            .as_ref()
            .and_then(|o| o.client_secret_parameter.as_ref())
        else {
            continue;
        };
        let error = |message: String| ConfigError {
            variable: format!("INTROSPECTION_SECRET_PARAMETER {name}"),
            message,
        };
        let Some(store) = store else {
            return Err(error("no parameter store to read it from".to_owned()).into());
        };
        match store.get(name).await {
            Ok(Some(parameter)) if !parameter.value.is_empty() => {
                secrets.insert(name.clone(), Secret::new(parameter.value));
            }
            Ok(Some(_)) => return Err(error("is empty".to_owned()).into()),
            Ok(None) => return Err(error("no such parameter".to_owned()).into()),
            Err(message) => return Err(error(format!("cannot be read: {message}")).into()),
        }
    }
    Ok(secrets)
}

/// The opaque-token validator of the (at most one) issuer configured for it.
fn opaque_validation(
    issuers: &[Issuer],
    http: &Arc<Http>,
    secrets: &Secrets,
    store: Option<&Arc<dyn ParameterStore>>,
) -> Result<Option<Opaque>, InitError> {
    let Some((index, settings)) = issuers
        .iter()
        .enumerate()
        .find_map(|(i, issuer)| issuer.config.opaque.clone().map(|o| (i, o)))
    else {
        return Ok(None);
    };
    let secret = match &settings.client_secret_parameter {
        None => None,
        Some(name) => Some(secrets.get(name).cloned().ok_or_else(|| ConfigError {
            variable: format!("INTROSPECTION_SECRET_PARAMETER {name}"),
            message: "not read (the authorizer must be loaded with a parameter store)".to_owned(),
        })?),
    };
    let issuer = issuers[index].config.issuer.clone();
    tracing::info!(
        issuer = %issuer,
        mode = settings.mode.as_str(),
        cache_s = settings.cache_ttl.as_secs(),
        "opaque tokens are validated by the identity provider"
    );
    Ok(Some(Opaque {
        issuer: index,
        validator: OpaqueValidator::new(settings, issuer, Arc::clone(http), secret, store.cloned()),
    }))
}

fn key_cache(
    issuer: &IssuerConfig,
    http: &Arc<Http>,
    cache: CacheSettings,
    snapshots: Option<&(Arc<dyn ParameterStore>, String)>,
) -> Result<KeyCache, InitError> {
    let location = match &issuer.keys {
        KeySourceConfig::Discovery => JwksLocation::Discovery {
            issuer: issuer.issuer.clone(),
        },
        KeySourceConfig::Uri(url) => JwksLocation::Uri(url.clone()),
        KeySourceConfig::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| ConfigError {
                variable: "JWKS_FILE".into(),
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            return Ok(KeyCache::fixed(fixed_keys(
                "JWKS_FILE",
                &bytes,
                &issuer.algorithms,
            )?));
        }
        KeySourceConfig::Inline(json) => {
            return Ok(KeyCache::fixed(fixed_keys(
                "JWKS_JSON",
                json.as_bytes(),
                &issuer.algorithms,
            )?));
        }
    };
    let mut keys = KeyCache::new(
        Arc::new(RemoteJwks::new(Arc::clone(http), location)),
        issuer.algorithms.clone(),
        cache,
    );
    if let Some((store, prefix)) = snapshots {
        keys = keys.with_snapshots(Arc::new(ParameterSnapshots::new(
            Arc::clone(store),
            prefix,
            &issuer.issuer,
        )));
    }
    Ok(keys)
}

/// Reads and parses the configuration document from the parameter store.
async fn read_document(
    store: &dyn ParameterStore,
    parameter: &str,
) -> Result<(ConfigDocument, i64), ConfigError> {
    let label = format!("CONFIG_PARAMETER {parameter}");
    let found = store.get(parameter).await.map_err(|message| ConfigError {
        variable: label.clone(),
        message: format!("cannot be read: {message}"),
    })?;
    let Some(found) = found else {
        return Err(ConfigError {
            variable: label,
            message: "no such parameter".to_owned(),
        });
    };
    let document = ConfigDocument::parse(&label, &found.value)?;
    tracing::info!(
        parameter,
        version = found.version,
        "configuration document loaded"
    );
    Ok((document, found.version))
}

fn fixed_keys(
    variable: &str,
    bytes: &[u8],
    algorithms: &[crate::algorithm::Algorithm],
) -> Result<KeySet, ConfigError> {
    let set = KeySet::parse(bytes, algorithms).map_err(|e| ConfigError {
        variable: variable.into(),
        message: e.to_string(),
    })?;
    if set.is_empty() {
        let reasons: Vec<String> = set
            .skipped()
            .iter()
            .map(|s| format!("{}: {}", s.kid.as_deref().unwrap_or("-"), s.reason))
            .collect();
        return Err(ConfigError {
            variable: variable.into(),
            message: format!("no usable key ({})", reasons.join("; ")),
        });
    }
    for skipped in set.skipped() {
        tracing::warn!(source = variable, kid = skipped.kid.as_deref().unwrap_or("-"), reason = %skipped.reason, "key left out of the key set");
    }
    Ok(set)
}

/// SHA-256 of the token's last 96 bytes (all of it when shorter), first 16 bytes in hex.
#[must_use]
pub fn fingerprint(token: &str) -> String {
    // The last 96 bytes of a JWS are signature bytes, unique per token: hashing them
    // identifies the token as well as hashing all of it, at a tenth of the cost.
    let tail = &token.as_bytes()[token.len().saturating_sub(96)..];
    let hash = digest::digest(&digest::SHA256, tail);
    let mut out = String::with_capacity(32);
    for byte in &hash.as_ref()[..16] {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// Writes the one structured line of a decision. Never the token or its signature.
pub fn log_decision(record: &DecisionRecord, latency_us: u64) {
    let reason = record.refusal.as_ref().map_or("ok", |r| r.reason.code());
    let hint = record.refusal.as_ref().map(Refusal::hint);
    let facts = &record.facts;
    let omitted = (!record.omitted.is_empty()).then(|| record.omitted.join(","));
    macro_rules! decision {
        ($level:ident) => {
            tracing::$level!(
                target: "decision",
                outcome = record.outcome.as_str(),
                reason,
                hint = hint.as_deref(),
                shape = record.shape,
                principal = record.principal.as_deref(),
                iss = facts.iss.as_deref(),
                aud = facts.aud.as_deref(),
                sub = facts.sub.as_deref(),
                kid = facts.kid.as_deref(),
                alg = facts.alg.as_deref(),
                typ = facts.typ.as_deref(),
                keys = facts.key_origin.map(|o| o.as_str()),
                opaque = facts.opaque,
                opaque_cache = facts.opaque_lookup.map(crate::opaque::Lookup::as_str),
                token_fp = record.fingerprint.as_deref(),
                context_omitted = omitted.as_deref(),
                latency_us,
                "decision"
            )
        };
    }
    if record.outcome == Outcome::Error {
        decision!(error);
    } else {
        decision!(info);
    }
}
