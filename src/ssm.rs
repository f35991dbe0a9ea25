//! SSM Parameter Store: the configuration document and last-known-good key snapshots.
//!
//! The client is `aws-sdk-ssm` built by `aws-config` with only the features a Lambda
//! needs, on the same rustls/hyper stack reqwest uses. It honours `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_SSM`, so any SSM-compatible endpoint (moto in the tests) works.

use std::sync::Arc;

use aws_lc_rs::digest;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use serde_json::{Value, json};

use crate::fetch::{BoxFuture, error_chain};
use crate::keys::{Snapshot, SnapshotStore};

/// The longest one SSM call may take, its retries included.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// One parameter's value and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The (decrypted) value.
    pub value: String,
    /// SSM's version number: a changed document has a new one.
    pub version: i64,
}

/// A parameter store (SSM, or an in-memory fake in tests).
pub trait ParameterStore: Send + Sync {
    /// The parameter, `None` when it does not exist.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Parameter>, String>>;
    /// Creates or overwrites a String parameter.
    fn put<'a>(&'a self, name: &'a str, value: String) -> BoxFuture<'a, Result<(), String>>;
}

/// SSM Parameter Store through `aws-sdk-ssm`.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    /// Builds the client from the environment (region, credentials, endpoint overrides).
    /// Every call is bounded ([`CALL_TIMEOUT`], retries included), so an SSM that does not
    /// answer delays an init or a reload by seconds, never until the Lambda timeout.
    pub async fn from_env() -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(1))
            .operation_attempt_timeout(std::time::Duration::from_secs(2))
            .operation_timeout(CALL_TIMEOUT)
            .build();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(timeouts)
            .load()
            .await;
        Ssm {
            client: aws_sdk_ssm::Client::new(&config),
        }
    }
}

impl ParameterStore for Ssm {
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Parameter>, String>> {
        Box::pin(async move {
            let result = self
                .client
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await;
            match result {
                Ok(output) => {
                    let parameter = output.parameter();
                    let value = parameter.and_then(|p| p.value()).unwrap_or_default();
                    Ok(Some(Parameter {
                        value: value.to_owned(),
                        version: parameter.map_or(0, aws_sdk_ssm::types::Parameter::version),
                    }))
                }
                Err(error) => {
                    if error
                        .as_service_error()
                        .is_some_and(aws_sdk_ssm::operation::get_parameter::GetParameterError::is_parameter_not_found)
                    {
                        Ok(None)
                    } else {
                        Err(format!("GetParameter {name}: {}", error_chain(&error)))
                    }
                }
            }
        })
    }

    fn put<'a>(&'a self, name: &'a str, value: String) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // Standard parameters hold 4 KB; larger key sets need the advanced tier,
            // which Intelligent-Tiering picks only when needed.
            let tier = if value.len() > 4096 {
                ParameterTier::IntelligentTiering
            } else {
                ParameterTier::Standard
            };
            self.client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .tier(tier)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("PutParameter {name}: {}", error_chain(&e)))
        })
    }
}

/// The snapshot parameter of one issuer: `{prefix}/{first 16 hex digits of SHA-256(iss)}`.
#[must_use]
pub fn snapshot_name(prefix: &str, issuer: &str) -> String {
    let hash = digest::digest(&digest::SHA256, issuer.as_bytes());
    let hex = hash.as_ref()[..8]
        .iter()
        .fold(String::with_capacity(16), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        });
    format!("{}/{hex}", prefix.trim_end_matches('/'))
}

/// One issuer's last-known-good key set in a parameter.
pub struct ParameterSnapshots {
    store: Arc<dyn ParameterStore>,
    name: String,
    issuer: String,
}

impl ParameterSnapshots {
    /// Snapshots of `issuer` under `prefix` in `store`.
    #[must_use]
    pub fn new(store: Arc<dyn ParameterStore>, prefix: &str, issuer: &str) -> Self {
        ParameterSnapshots {
            store,
            name: snapshot_name(prefix, issuer),
            issuer: issuer.to_owned(),
        }
    }
}

impl SnapshotStore for ParameterSnapshots {
    fn load(&self) -> BoxFuture<'_, Result<Option<Snapshot>, String>> {
        Box::pin(async move {
            let Some(parameter) = self.store.get(&self.name).await? else {
                return Ok(None);
            };
            let value: Value = serde_json::from_str(&parameter.value)
                .map_err(|e| format!("{}: not a key snapshot ({e})", self.name))?;
            if value["issuer"] != self.issuer.as_str() {
                return Err(format!(
                    "{}: the snapshot belongs to another issuer",
                    self.name
                ));
            }
            let fetched_at = value["fetched_at"]
                .as_u64()
                .ok_or_else(|| format!("{}: no fetched_at", self.name))?;
            Ok(Some(Snapshot {
                jwks: value["jwks"].to_string(),
                fetched_at,
            }))
        })
    }

    fn save(&self, snapshot: Snapshot) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let jwks: Value = serde_json::from_str(&snapshot.jwks).map_err(|e| e.to_string())?;
            let value = json!({
                "issuer": self.issuer,
                "fetched_at": snapshot.fetched_at,
                "jwks": jwks,
            })
            .to_string();
            self.store.put(&self.name, value).await?;
            tracing::info!(parameter = %self.name, issuer = %self.issuer, "key snapshot saved");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_stable_and_valid_parameter_names() {
        let name = snapshot_name("/token-verifier/jwks/", "https://acme.us.auth0.com/");
        assert_eq!(
            name,
            snapshot_name("/token-verifier/jwks", "https://acme.us.auth0.com/")
        );
        assert!(name.starts_with("/token-verifier/jwks/"));
        assert_eq!(name.len(), "/token-verifier/jwks/".len() + 16);
        assert_ne!(
            name,
            snapshot_name("/token-verifier/jwks", "https://acme.us.auth0.com")
        );
    }
}
