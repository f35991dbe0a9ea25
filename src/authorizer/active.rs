//! One configuration, built: the verifier with its issuers' key caches, the gateway and
//! route settings, the HTTP client. Built at init and again when the document changes,
//! reusing what a reload leaves unchanged; read by every request.

use std::sync::Arc;

use super::error::InitError;
use crate::config::{Config, ConfigError};
#[cfg(feature = "cedar")]
use crate::decision::cedar::{CedarPolicies, Validated};
use crate::decision::{CalledRoute, check_scopes};
use crate::gateway::{Grant, Request};
use crate::http::Http;
use crate::keys::{JwksLocation, KeyCache, KeySet, ParameterSnapshots, RemoteJwks};
use crate::refusal::{Reason, Refusal};
use crate::replay::ReplayGuard;
use crate::settings::DpopSettings;
use crate::settings::{
    Algorithm, CacheSettings, GatewaySettings, HttpSettings, IssuerSettings, KeySource, RouteRules,
};
use crate::ssm::ParameterStore;
use crate::token::Claims;
use crate::verify::advice::tailor;
use crate::verify::dpop::ProofKeys;
use crate::verify::{Issuer, Opaque, OpaqueValidator, Secret, Verifier};

/// One configuration, built: what a request reads.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) verifier: Verifier,
    pub(crate) gateway: GatewaySettings,
    pub(crate) routes: RouteRules,
    /// How DPoP proofs are judged.
    pub(crate) dpop: DpopSettings,
    /// The proofs already used (kept across reloads that leave its settings alone).
    pub(crate) replay: Arc<ReplayGuard>,
    /// Recent clients' proof keys, parsed.
    pub(crate) proof_keys: ProofKeys,
    /// `DPOP_ALGORITHMS` as a DPoP challenge's `algs` names them (`ES256 EdDSA`).
    #[cfg(feature = "tower")]
    pub(crate) dpop_algs: String,
    http: Arc<Http>,
    http_settings: HttpSettings,
    /// The document's SSM version, when loaded from one.
    pub(crate) version: Option<i64>,
    /// The SSM version of `CEDAR_PARAMETER`, when the policies come from it.
    pub(crate) cedar_version: Option<i64>,
    /// The Cedar policies, validated, when configured.
    #[cfg(feature = "cedar")]
    pub(crate) cedar: Option<Arc<CedarPolicies>>,
}

/// What Cedar decided for a request, when it was asked.
pub(crate) type Trace = Option<super::record::PolicyTrace>;

impl Active {
    /// This request's verdict and the token's policy: the issuer's required scopes, then
    /// the route rules (every rule matching the route must hold), then the Cedar policies.
    pub(crate) fn permissions(
        &self,
        request: &Request,
        claims: &Claims,
        policy: &IssuerSettings,
    ) -> (Result<(), Refusal>, Grant, Trace) {
        if let Err(refusal) = check_scopes(claims, policy) {
            return (
                Err(tailor(refusal, policy)),
                Grant::deny_all(request, &self.gateway),
                None,
            );
        }
        if self.routes.is_empty() && !self.has_cedar() {
            return (Ok(()), Grant::allow_all(request, &self.gateway), None);
        }
        let Some(called) = CalledRoute::from_arn(&request.arn) else {
            let refusal = Refusal::new(
                Reason::RouteNotAllowed,
                "the route ARN has no stage/method/path, so no route rule or policy can be applied",
            );
            return (Err(refusal), Grant::deny_all(request, &self.gateway), None);
        };
        let verdict = self.routes.check(&called, claims, &policy.scope_claims);
        #[cfg(feature = "cedar")]
        if let Some(cedar) = &self.cedar {
            return self.with_cedar(cedar, request, &called, claims, policy, verdict);
        }
        let routes = self
            .routes
            .policy(&called.stage_prefix, claims, &policy.scope_claims);
        (
            verdict,
            Grant {
                allow: routes.allow,
                deny: routes.deny,
            },
            None,
        )
    }

    /// Whether Cedar policies are configured.
    #[cfg_attr(not(feature = "cedar"), allow(clippy::unused_self))]
    pub(crate) fn has_cedar(&self) -> bool {
        #[cfg(feature = "cedar")]
        return self.cedar.is_some();
        #[cfg(not(feature = "cedar"))]
        false
    }

    /// [`Active::permissions`] with Cedar: the route rules' verdict, then Cedar's.
    #[cfg(feature = "cedar")]
    fn with_cedar(
        &self,
        cedar: &CedarPolicies,
        request: &Request,
        called: &CalledRoute,
        claims: &Claims,
        policy: &IssuerSettings,
        routes_verdict: Result<(), Refusal>,
    ) -> (Result<(), Refusal>, Grant, Trace) {
        use super::cedar::{grant, judge};
        let simple = request.shape == crate::gateway::event::Shape::HttpV2
            && self.gateway.http_api_response == crate::settings::HttpApiResponse::Simple;
        if simple && routes_verdict.is_err() {
            return (
                routes_verdict,
                Grant::deny_all(request, &self.gateway),
                None,
            );
        }
        // A policy answer API Gateway may cache per token covers every action: not with
        // route rules beside Cedar (IAM cannot intersect the two policies), nor when a
        // policy reads the request's own context.
        let per_token = !simple && self.routes.is_empty() && cedar.request_dependent.is_empty();
        let mut judged = judge(
            cedar,
            called,
            claims,
            policy,
            request.source_ip.as_deref(),
            per_token,
        );
        let verdict = routes_verdict.and(judged.verdict.clone());
        let grant = if simple {
            Grant::deny_all(request, &self.gateway)
        } else {
            grant(cedar, &mut judged, called, &request.arn, verdict.is_ok())
        };
        (verdict, grant, Some(judged.trace))
    }

    /// One route's verdict, for front doors that decide per request (no policy): the
    /// issuer's required scopes, then every route rule matching it, then Cedar (no
    /// source IP: a tower service is handed none it could trust).
    #[cfg(feature = "tower")]
    pub(crate) fn verdict(
        &self,
        route: &CalledRoute,
        claims: &Claims,
        policy: &IssuerSettings,
    ) -> (Result<(), Refusal>, Trace) {
        if let Err(refusal) = api_verdict(claims, policy)
            .and_then(|()| self.routes.check(route, claims, &policy.scope_claims))
        {
            return (Err(refusal), None);
        }
        #[cfg(feature = "cedar")]
        if let Some(cedar) = &self.cedar {
            let judged = super::cedar::judge(cedar, route, claims, policy, None, false);
            return (judged.verdict, Some(judged.trace));
        }
        (Ok(()), None)
    }

    /// The scopes a route needs: the issuer's required ones and those of the route rules
    /// matching it.
    #[cfg(feature = "tower")]
    pub(crate) fn scopes_needed(
        &self,
        route: &CalledRoute,
        policy: &IssuerSettings,
    ) -> Vec<String> {
        let mut scopes = policy.required_scopes.clone();
        for scope in self.routes.scopes_for(route) {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
        scopes
    }
}

/// The verdict for a whole API (AppSync): the issuer's required scopes.
pub(crate) fn api_verdict(claims: &Claims, policy: &IssuerSettings) -> Result<(), Refusal> {
    check_scopes(claims, policy).map_err(|refusal| tailor(refusal, policy))
}

/// Builds one configuration. Key caches of `previous` are reused for issuers whose key
/// source, algorithms and timing are unchanged (a reload must not refetch every key set);
/// the returned list holds the caches that are new and need a prefetch.
pub(crate) fn build(
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
    #[cfg(feature = "cedar")]
    let beside = super::cedar::Beside::of(&config);
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
                    && !matches!(issuer.keys, KeySource::File(_) | KeySource::Inline(_))
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
    let replay = match previous {
        Some(p) if p.replay.built_from(&config.dpop) => Arc::clone(&p.replay),
        _ => Arc::new(ReplayGuard::new(&config.dpop)),
    };
    #[cfg(feature = "tower")]
    let dpop_algs = config
        .dpop
        .algorithms
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(" ");
    #[cfg(feature = "cedar")]
    let cedar = cedar_policies(config.cedar.as_ref(), beside)?;
    #[cfg(not(feature = "cedar"))]
    if let Some(settings) = &config.cedar {
        return Err(ConfigError {
            variable: settings.origin.clone(),
            message: "this build has no Cedar (cargo feature `cedar`, on by default)".to_owned(),
        }
        .into());
    }
    let active = Active {
        verifier,
        gateway: config.gateway,
        routes: config.routes,
        dpop: config.dpop,
        replay,
        proof_keys: ProofKeys::default(),
        #[cfg(feature = "tower")]
        dpop_algs,
        http,
        http_settings: config.http,
        version,
        cedar_version: None,
        #[cfg(feature = "cedar")]
        cedar,
    };
    Ok((active, new_caches))
}

/// The Cedar policies of a configuration, read, parsed and validated against their schema
/// (at init, and on every reload: a set that does not validate keeps the last good
/// configuration, as any invalid document does).
#[cfg(feature = "cedar")]
pub(crate) fn cedar_policies(
    settings: Option<&crate::settings::CedarSettings>,
    beside: super::cedar::Beside,
) -> Result<Option<Arc<CedarPolicies>>, ConfigError> {
    let Some(settings) = settings else {
        return Ok(None);
    };
    let policies = CedarPolicies::build(settings).map_err(|e| ConfigError {
        variable: settings.origin.clone(),
        message: e.message,
    })?;
    let (how, validation_ms) = match policies.validated {
        Validated::Here(took) => (
            "Cedar policies validated against their schema",
            Some(took.as_secs_f64() * 1000.0),
        ),
        Validated::BySeal => (
            "Cedar policies carry their own seal (check-config validated them): not validated again",
            None,
        ),
    };
    tracing::info!(
        namespace = %policies.namespace,
        policies = policies.policy_count(),
        actions = policies.action_count(),
        validation_ms,
        "{how}"
    );
    if validation_ms.is_some() && settings.seal.is_some() {
        tracing::warn!(
            seal = %policies.seal,
            "the configured Cedar seal is not these policies' own (they or their schema changed, or another version of Cedar or of the seal sealed them): they were validated here, and this is their seal"
        );
    }
    for advice in super::cedar::warnings(&policies, beside) {
        tracing::warn!("{advice}");
    }
    Ok(Some(Arc::new(policies)))
}

/// Client secrets of introspection clients, by parameter name.
pub(crate) type Secrets = std::collections::HashMap<String, Secret>;

/// Reads the client secret of every introspecting issuer from the parameter store.
pub(crate) async fn read_secrets(
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
    issuer: &IssuerSettings,
    http: &Arc<Http>,
    cache: CacheSettings,
    snapshots: Option<&(Arc<dyn ParameterStore>, String)>,
) -> Result<KeyCache, InitError> {
    let location = match &issuer.keys {
        KeySource::Discovery => JwksLocation::Discovery {
            issuer: issuer.issuer.clone(),
        },
        KeySource::Uri(url) => JwksLocation::Uri(url.clone()),
        KeySource::File(path) => {
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
        KeySource::Inline(json) => {
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

fn fixed_keys(
    variable: &str,
    bytes: &[u8],
    algorithms: &[Algorithm],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(capacity: &str) -> Config {
        // A remote key set: nothing is fetched while building.
        Config::from_lookup(|name| match name {
            "TOKEN_ISSUER" => Some("https://idp.example.com/".into()),
            "AUDIENCE" => Some("https://api.example.com".into()),
            "JWKS_URI" => Some("https://idp.example.com/jwks".into()),
            "SENDER_CONSTRAINT" => Some("allow".into()),
            "DPOP_REPLAY_CAPACITY" => Some(capacity.into()),
            _ => None,
        })
        .unwrap()
    }

    /// A reload that leaves the replay settings alone keeps what the environment
    /// remembers (a proof used before it stays used); one that changes them starts anew.
    #[test]
    fn a_reload_keeps_the_replay_memory_unless_its_settings_change() {
        let secrets = Secrets::new();
        let (first, _) = build(config("2048"), None, None, None, &secrets, None).unwrap();
        let (same, _) = build(config("2048"), Some(&first), None, None, &secrets, None).unwrap();
        assert!(Arc::ptr_eq(&first.replay, &same.replay));
        let (other, _) = build(config("4096"), Some(&same), None, None, &secrets, None).unwrap();
        assert!(!Arc::ptr_eq(&same.replay, &other.replay));
    }
}
