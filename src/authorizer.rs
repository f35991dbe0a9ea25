//! The authorizer: built once at init, then one event → one answer, one log line.
//!
//! `handle` is the whole request path: detect the event shape and take the credential
//! ([`crate::event`]), verify the token ([`crate::verify`]), check the permissions
//! ([`crate::decision`]), build the answer ([`crate::response`]), log the decision.

use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::digest;

use crate::config::{Config, ConfigError, GatewaySettings, KeySourceConfig};
use crate::decision::check_scopes;
use crate::error::{Failure, InitError};
use crate::event::{AuthorizerEvent, Request};
use crate::fetch::{Http, JwksLocation, RemoteJwks};
use crate::jwk::KeySet;
use crate::keys::KeyCache;
use crate::refusal::Reason;
use crate::refusal::{Outcome, Refusal};
use crate::response::{self, Answer, Grant};
use crate::routes::{CalledRoute, RouteRules};
use crate::verify::{Issuer, TokenFacts, UnixTime, Verifier};

/// Everything a request needs, built once per execution environment.
#[derive(Debug)]
pub struct Authorizer {
    verifier: Verifier,
    gateway: GatewaySettings,
    routes: RouteRules,
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
    /// Builds the verifier and its key caches from a configuration. Fixed key sets
    /// (`JWKS_FILE`, `JWKS_JSON`) are read and checked here; remote ones are fetched by
    /// [`Authorizer::prefetch`].
    ///
    /// # Errors
    /// [`InitError`] for an HTTP client failure or an unusable fixed key set.
    pub fn new(config: Config) -> Result<Self, InitError> {
        let http = Arc::new(Http::new(config.http)?);
        let mut issuers = Vec::with_capacity(config.issuers.len());
        for issuer in config.issuers {
            let keys = match &issuer.keys {
                KeySourceConfig::Discovery => remote(
                    &http,
                    JwksLocation::Discovery {
                        issuer: issuer.issuer.clone(),
                    },
                    &issuer.algorithms,
                    config.cache,
                ),
                KeySourceConfig::Uri(url) => remote(
                    &http,
                    JwksLocation::Uri(url.clone()),
                    &issuer.algorithms,
                    config.cache,
                ),
                KeySourceConfig::File(path) => {
                    let bytes = std::fs::read(path).map_err(|e| ConfigError {
                        variable: "JWKS_FILE".into(),
                        message: format!("cannot read {}: {e}", path.display()),
                    })?;
                    KeyCache::fixed(fixed_keys("JWKS_FILE", &bytes, &issuer.algorithms)?)
                }
                KeySourceConfig::Inline(json) => KeyCache::fixed(fixed_keys(
                    "JWKS_JSON",
                    json.as_bytes(),
                    &issuer.algorithms,
                )?),
            };
            issuers.push(Issuer {
                config: issuer,
                keys,
            });
        }
        Ok(Authorizer {
            verifier: Verifier::new(issuers, config.max_token_bytes),
            gateway: config.gateway,
            routes: config.routes,
        })
    }

    /// Fetches every issuer's keys (during init, where CPU is full and unbilled).
    pub async fn prefetch(&self) {
        for issuer in self.verifier.issuers() {
            issuer.keys.prefetch().await;
        }
    }

    /// The verifier (for tools and tests).
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Answers one event now, and logs the decision.
    ///
    /// # Errors
    /// [`Failure::Unauthorized`] (401) or [`Failure::Error`] (500).
    pub async fn handle(&self, event: AuthorizerEvent) -> Result<Answer, Failure> {
        let started = Instant::now();
        let (result, record) = self.decide(event, crate::verify::now()).await;
        log_decision(&record, started.elapsed().as_micros());
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
        let request = match event.into_request(&self.gateway) {
            Ok(request) => request,
            Err(refusal) => return refuse(refusal, record),
        };
        record.shape = Some(request.shape.as_str());
        let token = match &request.credential {
            Ok(token) => token,
            Err(refusal) => return refuse(refusal.clone(), record),
        };
        record.fingerprint = Some(fingerprint(token));
        let verified = match self.verifier.verify(token, now, &mut record.facts).await {
            Ok(verified) => verified,
            Err(refusal) => return refuse(refusal, record),
        };
        record.principal = Some(verified.principal.clone());
        let policy = &self.verifier.issuers()[verified.issuer].config;
        let (verdict, grant) = self.permissions(&request, &verified.claims, policy);
        let (answer, omitted) = response::verified(
            &request,
            &verified.principal,
            &verified.claims,
            verdict.as_ref().map_err(|r| r.reason).copied(),
            &grant,
            &self.gateway,
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

    /// This request's verdict and the token's policy: the issuer's required scopes, then
    /// the route rules (every rule matching the route must hold).
    fn permissions(
        &self,
        request: &Request,
        claims: &serde_json::Map<String, serde_json::Value>,
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

    /// The request as the decision sees it (for tools).
    ///
    /// # Errors
    /// `unrecognised_event`.
    pub fn request(&self, event: AuthorizerEvent) -> Result<Request, Refusal> {
        event.into_request(&self.gateway)
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

fn remote(
    http: &Arc<Http>,
    location: JwksLocation,
    algorithms: &[crate::algorithm::Algorithm],
    cache: crate::keys::CacheSettings,
) -> KeyCache {
    KeyCache::new(
        Arc::new(RemoteJwks::new(Arc::clone(http), location)),
        algorithms.to_vec(),
        cache,
    )
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

/// SHA-256 of the token, first 16 bytes in hex.
#[must_use]
pub fn fingerprint(token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = String::with_capacity(32);
    for byte in &hash.as_ref()[..16] {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// Writes the one structured line of a decision. Never the token or its signature.
pub fn log_decision(record: &DecisionRecord, latency_us: u128) {
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
                token_fp = record.fingerprint.as_deref(),
                context_omitted = omitted.as_deref(),
                latency_us = u64::try_from(latency_us).unwrap_or(u64::MAX),
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
