//! The authorizer: built once at init, then one event → one answer, one log line.
//!
//! [`Authorizer::handle`] is the whole request path: detect the event shape and take the
//! credential ([`crate::gateway::event`]), verify the token ([`crate::verify`]), check the
//! permissions ([`crate::decision`]), build the answer ([`crate::gateway::answer`]), log
//! the decision ([`record`]). What a request reads is one built configuration
//! ([`active`]), swapped whole when the document changes ([`reload`]). The tower layer
//! comes in through `call` (feature `tower`): an HTTP request instead of an event.

use std::sync::{Arc, RwLock};
use std::time::Instant;

pub(crate) mod active;
#[cfg(feature = "tower")]
pub(crate) mod call;
#[cfg(feature = "cedar")]
pub(crate) mod cedar;
pub(crate) mod error;
pub(crate) mod record;
pub(crate) mod reload;

use active::{Active, Secrets, build, read_secrets};
pub(crate) use error::InitError;
pub(crate) use record::{DecisionRecord, fingerprint, log_decision};
use reload::{Reload, read_cedar, read_document, with_cedar_parameter};

use crate::config::{Config, EnvConfig};
use crate::gateway::event::Shape;
use crate::gateway::{self, Answer, AuthorizerEvent, Failure};
use crate::refusal::{Outcome, Refusal};
use crate::ssm::{ParameterStore, Ssm};
use crate::token::UnixTime;
use crate::verify::binding;

/// Everything a request needs, built once per execution environment, and rebuilt when
/// the configuration document changes.
pub struct Authorizer {
    active: RwLock<Arc<Active>>,
    snapshots: Option<(Arc<dyn ParameterStore>, String)>,
    reload: Option<Reload>,
}

/// [`Authorizer::prefetch`] of one configuration.
async fn prefetch_keys(active: &Active) {
    // At once, not one issuer after another: a cold start waits for the slowest IdP, not
    // for the sum of them.
    let keys =
        futures_util::future::join_all(active.verifier.issuers().iter().map(|i| i.keys.prefetch()));
    let opaque = async {
        if let Some(opaque) = active.verifier.opaque() {
            opaque.validator.prefetch().await;
        }
    };
    let replay = active.replay.prepare();
    futures_util::future::join3(keys, opaque, replay).await;
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("active", &self.current())
            .finish_non_exhaustive()
    }
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

    /// Builds the authorizer from the environment, and from SSM when `CONFIG_PARAMETER`,
    /// `CEDAR_PARAMETER`, `JWKS_SNAPSHOT_PARAMETER` or an introspection client's secret
    /// parameter is set; without fetching keys ([`Authorizer::start`] fetches them, as the
    /// Lambda function and the layer start).
    ///
    /// # Errors
    /// [`InitError`] when the document cannot be read or is invalid, or as [`Authorizer::new`].
    pub async fn load(env: EnvConfig) -> Result<Self, InitError> {
        let store = Self::store_for(&env).await;
        Self::assemble(env, store, false).await
    }

    /// [`Authorizer::load`], then [`Authorizer::prefetch`], as the Lambda function and the
    /// tower layer start. A Cedar policy set is parsed and validated against its schema on
    /// a thread of its own while the keys are fetched, so a cold start waits for the
    /// longer of the two, not their sum; a set that does not validate still fails init.
    ///
    /// # Errors
    /// As [`Authorizer::load`].
    pub async fn start(env: EnvConfig) -> Result<Self, InitError> {
        let store = Self::store_for(&env).await;
        Self::assemble(env, store, true).await
    }

    /// The parameter store `env` reads from, if it names any parameter.
    async fn store_for(env: &EnvConfig) -> Option<Arc<dyn ParameterStore>> {
        let needs_ssm = env.sources.config_parameter.is_some()
            || env.sources.cedar_parameter.is_some()
            || env.sources.jwks_snapshot.is_some()
            || env
                .issuer
                .as_ref()
                .and_then(|i| i.opaque.as_ref())
                .is_some_and(|o| o.client_secret_parameter.is_some());
        if needs_ssm {
            Some(Arc::new(Ssm::from_env().await))
        } else {
            None
        }
    }

    /// [`Authorizer::load`] with a given parameter store (tests pass an in-memory one).
    ///
    /// # Errors
    /// As [`Authorizer::load`].
    pub async fn load_with(
        env: EnvConfig,
        store: Option<Arc<dyn ParameterStore>>,
    ) -> Result<Self, InitError> {
        Self::assemble(env, store, false).await
    }

    /// Reads the configuration and builds the authorizer; with `prefetch`, fetches the
    /// keys too, while a Cedar policy set is built beside them.
    async fn assemble(
        env: EnvConfig,
        store: Option<Arc<dyn ParameterStore>>,
        prefetch: bool,
    ) -> Result<Self, InitError> {
        let snapshots = match (&store, &env.sources.jwks_snapshot) {
            (Some(store), Some(prefix)) => Some((Arc::clone(store), prefix.clone())),
            _ => None,
        };
        let (document, version) = match (&store, &env.sources.config_parameter) {
            (Some(store), Some(parameter)) => {
                let (document, version) = read_document(store.as_ref(), parameter).await?;
                (Some(document), Some(version))
            }
            _ => (None, None),
        };
        let cedar = match (&store, &env.sources.cedar_parameter) {
            (Some(store), Some(parameter)) => Some(read_cedar(store.as_ref(), parameter).await?),
            _ => None,
        };
        let reload = match &store {
            Some(store)
                if env.sources.config_parameter.is_some()
                    || env.sources.cedar_parameter.is_some() =>
            {
                Some(Reload::new(&env, store))
            }
            _ => None,
        };
        let mut config = Config::combine(&env, document)?;
        let cedar_version = with_cedar_parameter(&mut config, cedar)?;
        let secrets = read_secrets(&config, store.as_deref()).await?;
        // The policy set on a blocking thread, built while the keys are fetched; its log
        // lines go where this task's go.
        #[cfg(feature = "cedar")]
        let cedar = match config.cedar.take() {
            Some(settings) if prefetch => {
                let beside = cedar::Beside::of(&config);
                let origin = settings.origin.clone();
                let dispatch = tracing::dispatcher::get_default(Clone::clone);
                let built = tokio::task::spawn_blocking(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        active::cedar_policies(Some(&settings), beside)
                    })
                });
                Some((origin, built))
            }
            settings => {
                config.cedar = settings;
                None
            }
        };
        let (mut active, _) = build(
            config,
            None,
            snapshots.as_ref(),
            version,
            &secrets,
            store.as_ref(),
        )?;
        active.cedar_version = cedar_version;
        if prefetch {
            // The set, if one is being built: a set that does not validate fails init at
            // once, keys or not.
            #[cfg(feature = "cedar")]
            let built = async {
                let Some((origin, built)) = cedar else {
                    return Ok(None);
                };
                let built = built.await.map_err(|failed| crate::config::ConfigError {
                    variable: origin,
                    message: format!("the policy set could not be built: {failed}"),
                })?;
                Ok::<_, InitError>(built?)
            };
            #[cfg(not(feature = "cedar"))]
            let built = async { Ok::<_, InitError>(()) };
            let keys = async {
                Box::pin(prefetch_keys(&active)).await;
                Ok(())
            };
            let (built, ()) = futures_util::future::try_join(built, keys).await?;
            #[cfg(feature = "cedar")]
            {
                active.cedar = built;
            }
            #[cfg(not(feature = "cedar"))]
            let () = built;
        }
        Ok(Authorizer {
            active: RwLock::new(Arc::new(active)),
            snapshots,
            reload,
        })
    }

    /// Fetches every issuer's keys and readies the opaque-token validator and the replay
    /// table's client (during init, where CPU is full and unbilled).
    pub async fn prefetch(&self) {
        prefetch_keys(&self.current()).await;
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
        if let Some(reload) = &self.reload
            && reload.due()
            && let Ok(_guard) = reload.lock.try_lock()
            && let Some(active) = reload
                .refresh(&self.current(), self.snapshots.as_ref())
                .await
        {
            match self.active.write() {
                Ok(mut guard) => *guard = Arc::new(active),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(active),
            }
        }
        self.current()
    }

    /// Answers one event now, and logs the decision.
    ///
    /// # Errors
    /// [`Failure::Unauthorized`] (401) or [`Failure::Error`] (500).
    pub async fn handle(&self, event: AuthorizerEvent) -> Result<Answer, Failure> {
        let started = Instant::now();
        let (result, record) = self.decide(event, crate::token::now()).await;
        log(&record, started);
        result
    }

    /// Answers one event at time `now`, returning the answer and the decision record
    /// without logging.
    pub async fn decide(
        &self,
        event: AuthorizerEvent,
        now: UnixTime,
    ) -> (Result<Answer, Failure>, DecisionRecord) {
        let mut record = DecisionRecord::new();
        let active = self.active().await;
        let request = match event.into_request(&active.gateway) {
            Ok(request) => request,
            Err(refusal) => return refuse(refusal, record, None),
        };
        let shape = request.shape;
        record.shape = Some(shape.as_str());
        let token = match &request.credential {
            Ok(token) => token,
            Err(refusal) => return refuse(refusal.clone(), record, Some(shape)),
        };
        let verified = match verify(&active, token, now, &mut record).await {
            Ok(verified) => verified,
            Err(refusal) => return refuse(refusal, record, Some(shape)),
        };
        let policy = &active.verifier.issuers()[verified.issuer].config;
        let presented = binding::Presented {
            token,
            scheme: request.scheme,
            client_cert: request.client_cert.as_deref(),
            dpop: request.dpop.as_ref(),
        };
        if let Err(refusal) = bind(&active, policy, &verified.claims, presented, now).await {
            return refuse(refusal, record, Some(shape));
        }
        if shape.is_appsync() {
            return appsync(&active, shape, verified, now, record);
        }
        let (verdict, grant, cedar) = active.permissions(&request, &verified.claims, policy);
        record.cedar = cedar;
        let (answer, omitted) = gateway::answer::verified(
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

/// AppSync's answer for a verified token: one for every operation of the token (the
/// fields it may not resolve), cached no longer than the token lives, nor, for an opaque
/// token, than this function would keep its provider's answer (`OPAQUE_CACHE_SECONDS`).
fn appsync(
    active: &Active,
    shape: Shape,
    verified: crate::verify::Verified,
    now: UnixTime,
    mut record: DecisionRecord,
) -> (Result<Answer, Failure>, DecisionRecord) {
    let policy = &active.verifier.issuers()[verified.issuer].config;
    if let Err(refusal) = active::api_verdict(&verified.claims, policy) {
        return refuse(refusal, record, Some(shape));
    }
    #[allow(unused_mut)]
    let mut denied = active
        .routes
        .denied_fields(&verified.claims, &policy.scope_claims);
    #[cfg(feature = "cedar")]
    if let Some(cedar) = &active.cedar {
        match cedar::denied_fields(cedar, &verified.claims, policy) {
            Ok((fields, trace)) => {
                for field in fields {
                    if !denied.contains(&field) {
                        denied.push(field);
                    }
                }
                record.cedar = Some(trace);
            }
            Err(refusal) => return refuse(refusal, record, Some(shape)),
        }
    }
    let mut bound = active.gateway.appsync_ttl;
    if verified.alg.is_none()
        && let Some(opaque) = &policy.opaque
    {
        bound = bound.min(u32::try_from(opaque.cache_ttl.as_secs()).unwrap_or(u32::MAX));
    }
    let ttl = appsync_ttl(&verified.claims, now, bound);
    let (answer, omitted) = gateway::answer::appsync(
        shape,
        verified.principal,
        verified.claims,
        denied,
        ttl,
        &active.gateway,
    );
    record.omitted = omitted.0;
    record.outcome = Outcome::Allow;
    (Ok(answer), record)
}

/// The token's binding checked against what the request presented, and a DPoP proof's
/// `jti` against the proofs already used (last: a proof refused for anything else is not
/// used up, and costs the replay table nothing).
pub(crate) async fn bind(
    active: &Active,
    policy: &crate::settings::IssuerSettings,
    claims: &crate::token::Claims,
    presented: binding::Presented<'_>,
    now: UnixTime,
) -> Result<(), Refusal> {
    let clock = binding::ProofClock {
        settings: &active.dpop,
        keys: &active.proof_keys,
        leeway: policy.leeway.as_secs(),
        now,
    };
    let proven = binding::check(claims, policy.sender_constraint, presented, clock)?;
    if let Some(proven) = proven {
        active
            .replay
            .check(proven.replay_key, proven.remember_until, now)
            .await?;
    }
    Ok(())
}

/// The token verified, its fingerprint and principal recorded.
async fn verify(
    active: &Active,
    token: &str,
    now: UnixTime,
    record: &mut DecisionRecord,
) -> Result<crate::verify::Verified, Refusal> {
    record.fingerprint = Some(fingerprint(token));
    let verified = active
        .verifier
        .verify(token, now, &mut record.facts)
        .await?;
    record.principal = Some(verified.principal.clone());
    Ok(verified)
}

/// The decision's log line and metric line, in one write.
fn log(record: &DecisionRecord, started: Instant) {
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let _lines = crate::telemetry::log::Batch::open();
    log_decision(record, latency_us);
    crate::telemetry::metrics::decision(&record.metrics(latency_us));
}

/// A refusal as the event's shape answers it: a Lambda error for API Gateway
/// (`Unauthorized` → 401, anything else → 500), `isAuthorized: false` for AppSync.
fn refuse(
    refusal: Refusal,
    mut record: DecisionRecord,
    shape: Option<Shape>,
) -> (Result<Answer, Failure>, DecisionRecord) {
    record.outcome = refusal.reason.outcome();
    let answer = match (shape.and_then(Answer::appsync_refusal), record.outcome) {
        (Some(appsync), _) => Ok(appsync),
        (None, Outcome::Error) => Err(Failure::Error(refusal.clone())),
        (None, _) => Err(Failure::Unauthorized),
    };
    record.refusal = Some(refusal);
    (answer, record)
}

/// How long AppSync may reuse an answer: the configured bound, never past the token's
/// `exp` (whole seconds left, rounded down).
fn appsync_ttl(claims: &crate::token::Claims, now: UnixTime, bound: u32) -> u32 {
    let left = claims
        .get("exp")
        .and_then(|exp| exp.as_f64())
        .map_or(0.0, |exp| (exp - now).floor())
        .clamp(0.0, f64::from(bound));
    // A whole number of seconds within 0..=bound (NaN, impossible for a verified `exp`,
    // becomes 0).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ttl = left as u32;
    ttl
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::log::Lines;

    /// README: a configuration warning is a `configuration warning` line when the
    /// authorizer is built (at init, and on reload).
    #[test]
    fn configuration_warnings_are_logged_when_the_authorizer_is_built() {
        let config = Config::from_lookup(|name| match name {
            "TOKEN_ISSUER" => Some("https://acme.us.auth0.com".into()),
            "AUDIENCE" => Some("https://api.acme.example".into()),
            "IDP_PRESET" => Some("auth0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
        let (_, lines) = Lines::capture(|| Authorizer::new(config).unwrap());
        let logged = lines.parsed();
        let warning = logged
            .iter()
            .find(|line| line["message"] == "configuration warning")
            .unwrap_or_else(|| panic!("{logged:?}"));
        assert_eq!(warning["level"], "WARN");
        assert!(
            warning["warning"]
                .as_str()
                .unwrap()
                .starts_with("preset auth0: issuer https://acme.us.auth0.com does not look like"),
            "{warning}"
        );
    }
}
