//! Re-reading the configuration document after `CONFIG_TTL_SECONDS`: a changed, valid
//! document is built (keeping the key caches it leaves unchanged) and swapped in; a
//! broken or unreadable one is logged and the last good configuration kept.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant as TokioInstant;

use super::active::{Active, build, read_secrets};
use crate::config::{Config, ConfigDocument, ConfigError, EnvConfig};
use crate::ssm::ParameterStore;

/// Re-reading the configuration document after `CONFIG_TTL_SECONDS`.
pub(crate) struct Reload {
    env: EnvConfig,
    store: Arc<dyn ParameterStore>,
    parameter: String,
    ttl: Duration,
    last_check: std::sync::Mutex<TokioInstant>,
    /// Held by the one caller re-reading; the others go on with the current configuration.
    pub(crate) lock: tokio::sync::Mutex<()>,
}

impl Reload {
    /// Re-reads `parameter` of `store` every `CONFIG_TTL_SECONDS`, combining it with `env`.
    pub(crate) fn new(env: &EnvConfig, store: &Arc<dyn ParameterStore>, parameter: &str) -> Self {
        Reload {
            env: env.clone(),
            store: Arc::clone(store),
            parameter: parameter.to_owned(),
            ttl: env.sources.config_ttl,
            last_check: std::sync::Mutex::new(TokioInstant::now()),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether `CONFIG_TTL_SECONDS` have passed since the last check.
    pub(crate) fn due(&self) -> bool {
        self.last_check
            .lock()
            .map_or(true, |t| t.elapsed() >= self.ttl)
    }

    /// Checks the document now (the caller holds [`Reload::lock`]): the configuration to
    /// swap in for `current`, when the document changed and is valid.
    pub(crate) async fn refresh(
        &self,
        current: &Active,
        snapshots: Option<&(Arc<dyn ParameterStore>, String)>,
    ) -> Option<Active> {
        if let Ok(mut last) = self.last_check.lock() {
            *last = TokioInstant::now();
        }
        let label = format!("CONFIG_PARAMETER {}", self.parameter);
        let parameter = match self.store.get(&self.parameter).await {
            Ok(Some(parameter)) => parameter,
            Ok(None) => {
                tracing::error!(parameter = %self.parameter, "configuration parameter not found; keeping the last good configuration");
                return None;
            }
            Err(error) => {
                tracing::warn!(parameter = %self.parameter, error = %error, "configuration not re-read; keeping the last good configuration");
                return None;
            }
        };
        if current.version == Some(parameter.version) {
            return None;
        }
        let config = match ConfigDocument::parse(&label, &parameter.value)
            .and_then(|document| Config::combine(&self.env, Some(document)))
        {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(
                    version = parameter.version,
                    error = %error,
                    "the new configuration is invalid; keeping the last good configuration"
                );
                return None;
            }
        };
        let built = match read_secrets(&config, Some(self.store.as_ref())).await {
            Ok(secrets) => build(
                config,
                Some(current),
                snapshots,
                Some(parameter.version),
                &secrets,
                Some(&self.store),
            ),
            Err(error) => Err(error),
        };
        match built {
            Ok((active, new_caches)) => {
                futures_util::future::join_all(new_caches.iter().map(|c| c.prefetch())).await;
                tracing::info!(
                    parameter = %self.parameter,
                    version = parameter.version,
                    issuers = active.verifier.issuers().len(),
                    new_key_caches = new_caches.len(),
                    "configuration reloaded"
                );
                Some(active)
            }
            Err(error) => {
                tracing::error!(
                    version = parameter.version,
                    error = %error,
                    "the new configuration is invalid; keeping the last good configuration"
                );
                None
            }
        }
    }
}

/// Reads and parses the configuration document from the parameter store.
pub(crate) async fn read_document(
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
