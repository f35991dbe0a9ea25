//! Re-reading the configuration document after `CONFIG_TTL_SECONDS`: a changed, valid
//! document is built (keeping the key caches it leaves unchanged) and swapped in; a
//! broken or unreadable one is logged and the last good configuration kept.
//!
//! A reload is optional — a good configuration is in hand — so it never holds the request
//! that starts it for long: reading the document (and any introspection secret it names)
//! may take [`RELOAD_TIMEOUT`], far less than init's [`crate::ssm::CALL_TIMEOUT`]; and after
//! a read that failed the next waits longer each time ([`backoff`]), so an SSM outage
//! costs one short wait per back-off, not one per TTL. Only the request holding
//! [`Reload::lock`] waits; concurrent ones go on with the current configuration.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant as TokioInstant;

use super::active::{Active, build, read_secrets};
use crate::config::{Config, ConfigDocument, ConfigError, EnvConfig};
use crate::settings::CedarSettings;
use crate::ssm::ParameterStore;

/// The longest a reload waits for SSM (the document, then the secrets it names): half a
/// second, against init's 4 s, because the last good configuration can serve meanwhile.
pub const RELOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest wait between reloads after failed reads: 15 minutes (or the TTL, if longer).
pub(crate) const MAX_RELOAD_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// The wait before the next reload after `failures` reads in a row failed: the TTL, doubled
/// per failure beyond the first, at most [`MAX_RELOAD_BACKOFF`] (or the TTL, if longer).
#[must_use]
pub(crate) fn backoff(ttl: Duration, failures: u32) -> Duration {
    let doubled = ttl.saturating_mul(1 << failures.saturating_sub(1).min(16));
    doubled.min(MAX_RELOAD_BACKOFF.max(ttl))
}

/// When the next check is due, and how many reads in a row failed.
#[derive(Clone, Copy)]
struct Schedule {
    next: TokioInstant,
    failures: u32,
}

/// Re-reading the configuration document (and `CEDAR_PARAMETER`) after
/// `CONFIG_TTL_SECONDS`.
pub(crate) struct Reload {
    env: EnvConfig,
    store: Arc<dyn ParameterStore>,
    /// `CONFIG_PARAMETER`.
    document: Option<String>,
    /// `CEDAR_PARAMETER`.
    cedar: Option<String>,
    ttl: Duration,
    schedule: std::sync::Mutex<Schedule>,
    /// Held by the one caller re-reading; the others go on with the current configuration.
    pub(crate) lock: tokio::sync::Mutex<()>,
}

impl Reload {
    /// Re-reads `CONFIG_PARAMETER` and `CEDAR_PARAMETER` of `store` every
    /// `CONFIG_TTL_SECONDS`, combining them with `env`.
    pub(crate) fn new(env: &EnvConfig, store: &Arc<dyn ParameterStore>) -> Self {
        Reload {
            env: env.clone(),
            store: Arc::clone(store),
            document: env.sources.config_parameter.clone(),
            cedar: env.sources.cedar_parameter.clone(),
            ttl: env.sources.config_ttl,
            schedule: std::sync::Mutex::new(Schedule {
                next: TokioInstant::now() + env.sources.config_ttl,
                failures: 0,
            }),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the next check is due: `CONFIG_TTL_SECONDS` after the last one, or the
    /// back-off after failed reads.
    pub(crate) fn due(&self) -> bool {
        self.schedule
            .lock()
            .map_or(true, |s| TokioInstant::now() >= s.next)
    }

    /// Seconds until the next check (for the log line of a failed read).
    fn retry_s(&self) -> u64 {
        self.schedule.lock().map_or(0, |s| {
            s.next
                .saturating_duration_since(TokioInstant::now())
                .as_secs()
        })
    }

    /// Schedules the next check after a read that succeeded (`ok`) or failed.
    fn reschedule(&self, ok: bool) {
        if let Ok(mut schedule) = self.schedule.lock() {
            schedule.failures = if ok {
                0
            } else {
                schedule.failures.saturating_add(1)
            };
            let wait = if ok {
                self.ttl
            } else {
                backoff(self.ttl, schedule.failures)
            };
            schedule.next = TokioInstant::now() + wait;
        }
    }

    /// Reads one parameter within [`RELOAD_TIMEOUT`]; a failure is logged and backs off.
    async fn read(&self, name: &str) -> Option<crate::ssm::Parameter> {
        let read = tokio::time::timeout(RELOAD_TIMEOUT, self.store.get(name)).await;
        match read {
            Ok(Ok(Some(parameter))) => Some(parameter),
            Ok(Ok(None)) => {
                self.reschedule(false);
                tracing::error!(parameter = %name, "configuration parameter not found; keeping the last good configuration");
                None
            }
            Ok(Err(error)) => {
                self.reschedule(false);
                tracing::warn!(parameter = %name, error = %error, retry_s = self.retry_s(), "configuration not re-read; keeping the last good configuration");
                None
            }
            Err(_) => {
                self.reschedule(false);
                tracing::warn!(
                    parameter = %name,
                    timeout_ms = u64::try_from(RELOAD_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                    retry_s = self.retry_s(),
                    "configuration not re-read: SSM did not answer in time; keeping the last good configuration"
                );
                None
            }
        }
    }

    /// Checks the parameters now (the caller holds [`Reload::lock`]): the configuration
    /// to swap in for `current`, when one of them changed and the whole is valid.
    pub(crate) async fn refresh(
        &self,
        current: &Active,
        snapshots: Option<&(Arc<dyn ParameterStore>, String)>,
    ) -> Option<Active> {
        // Not due again before the TTL while this read runs (a failure below pushes the next
        // read further out; a success starts the schedule over).
        if let Ok(mut schedule) = self.schedule.lock() {
            schedule.next = TokioInstant::now() + self.ttl;
        }
        let document = match &self.document {
            Some(name) => Some((name, self.read(name).await?)),
            None => None,
        };
        let cedar = match &self.cedar {
            Some(name) => Some((name, self.read(name).await?)),
            None => None,
        };
        self.reschedule(true);
        let version = document.as_ref().map(|(_, p)| p.version);
        let cedar_version = cedar.as_ref().map(|(_, p)| p.version);
        if current.version == version && current.cedar_version == cedar_version {
            return None;
        }
        let combined = match &document {
            Some((name, parameter)) => {
                ConfigDocument::parse(&format!("CONFIG_PARAMETER {name}"), &parameter.value)
                    .and_then(|document| Config::combine(&self.env, Some(document)))
            }
            None => Config::combine(&self.env, None),
        }
        .and_then(|mut config| {
            let settings = match &cedar {
                Some((name, parameter)) => Some(ConfigDocument::parse_cedar(
                    &format!("CEDAR_PARAMETER {name}"),
                    &parameter.value,
                )?),
                None => None,
            };
            with_cedar_parameter(&mut config, settings.map(|s| (s, 0)))?;
            Ok(config)
        });
        let config = match combined {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(
                    version,
                    cedar_version,
                    error = %error,
                    "the new configuration is invalid; keeping the last good configuration"
                );
                return None;
            }
        };
        let secrets = tokio::time::timeout(
            RELOAD_TIMEOUT,
            read_secrets(&config, Some(self.store.as_ref())),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ConfigError {
                variable: "INTROSPECTION_SECRET_PARAMETER".to_owned(),
                message: format!("not read within {} ms", RELOAD_TIMEOUT.as_millis()),
            }
            .into())
        });
        let built = match secrets {
            Ok(secrets) => build(
                config,
                Some(current),
                snapshots,
                version,
                &secrets,
                Some(&self.store),
            ),
            Err(error) => Err(error),
        };
        match built {
            Ok((mut active, new_caches)) => {
                active.cedar_version = cedar_version;
                futures_util::future::join_all(new_caches.iter().map(|c| c.prefetch_on_reload()))
                    .await;
                tracing::info!(
                    version,
                    cedar_version,
                    issuers = active.verifier.issuers().len(),
                    new_key_caches = new_caches.len(),
                    "configuration reloaded"
                );
                Some(active)
            }
            Err(error) => {
                tracing::error!(
                    version,
                    cedar_version,
                    error = %error,
                    "the new configuration is invalid; keeping the last good configuration"
                );
                None
            }
        }
    }
}

/// One parameter at init, labelled `VARIABLE /name` for its error lines: its value and
/// version, or why there is none.
async fn read_parameter(
    store: &dyn ParameterStore,
    label: &str,
    parameter: &str,
) -> Result<crate::ssm::Parameter, ConfigError> {
    let found = store.get(parameter).await.map_err(|message| ConfigError {
        variable: label.to_owned(),
        message: format!("cannot be read: {message}"),
    })?;
    found.ok_or_else(|| ConfigError {
        variable: label.to_owned(),
        message: "no such parameter".to_owned(),
    })
}

/// Reads and parses `CEDAR_PARAMETER`: the policies, the schema, and the version.
pub(crate) async fn read_cedar(
    store: &dyn ParameterStore,
    parameter: &str,
) -> Result<(CedarSettings, i64), ConfigError> {
    let label = format!("CEDAR_PARAMETER {parameter}");
    let found = read_parameter(store, &label, parameter).await?;
    let settings = ConfigDocument::parse_cedar(&label, &found.value)?;
    tracing::info!(parameter, version = found.version, "Cedar parameter loaded");
    Ok((settings, found.version))
}

/// Puts the policies of `CEDAR_PARAMETER` into `config` (a document naming its own as
/// well is an error): their version, when there are some.
pub(crate) fn with_cedar_parameter(
    config: &mut Config,
    cedar: Option<(CedarSettings, i64)>,
) -> Result<Option<i64>, ConfigError> {
    let Some((settings, version)) = cedar else {
        return Ok(None);
    };
    if let Some(other) = &config.cedar {
        return Err(ConfigError {
            variable: settings.origin,
            message: format!("and {} both hold Cedar policies: keep one", other.origin),
        });
    }
    config.cedar = Some(settings);
    config.gateway.source_ip = true;
    Ok(Some(version))
}

/// Reads and parses the configuration document from the parameter store.
pub(crate) async fn read_document(
    store: &dyn ParameterStore,
    parameter: &str,
) -> Result<(ConfigDocument, i64), ConfigError> {
    let label = format!("CONFIG_PARAMETER {parameter}");
    let found = read_parameter(store, &label, parameter).await?;
    let document = ConfigDocument::parse(&label, &found.value)?;
    tracing::info!(
        parameter,
        version = found.version,
        "configuration document loaded"
    );
    Ok((document, found.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_reads_back_off_from_the_ttl_to_fifteen_minutes() {
        let minute = Duration::from_secs(60);
        let waits: Vec<u64> = (1..=6).map(|n| backoff(minute, n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
        // A TTL longer than the cap is the wait: never more often than configured.
        assert_eq!(
            backoff(Duration::from_secs(3600), 4),
            Duration::from_secs(3600)
        );
        assert_eq!(backoff(Duration::from_secs(1), 40), MAX_RELOAD_BACKOFF);
    }
}
