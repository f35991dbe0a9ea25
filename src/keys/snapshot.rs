//! Last-known-good key sets kept outside the process (SSM Parameter Store), for cold
//! starts while the identity provider cannot be reached.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::http::BoxFuture;
use crate::ssm::ParameterStore;

/// A key set kept outside the process, with when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// A minimal JWKS document (public members only).
    pub jwks: String,
    /// When it was fetched from the `IdP`, in Unix seconds.
    pub fetched_at: u64,
}

/// Where last-known-good key sets are kept (SSM Parameter Store in production).
pub trait SnapshotStore: Send + Sync {
    /// The stored snapshot, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<Snapshot>, String>>;
    /// Replaces the stored snapshot.
    fn save(&self, snapshot: Snapshot) -> BoxFuture<'_, Result<(), String>>;
}

/// The snapshot parameter of one issuer: `{prefix}/{first 16 hex digits of SHA-256(iss)}`.
#[must_use]
pub fn snapshot_name(prefix: &str, issuer: &str) -> String {
    let hex = crate::digest::sha256_hex([issuer.as_bytes()], 8);
    format!("{}/{hex}", prefix.trim_end_matches('/'))
}

/// One issuer's last-known-good key set in a parameter.
pub(crate) struct ParameterSnapshots {
    store: Arc<dyn ParameterStore>,
    name: String,
    issuer: String,
}

impl ParameterSnapshots {
    /// Snapshots of `issuer` under `prefix` in `store`.
    #[must_use]
    pub(crate) fn new(store: Arc<dyn ParameterStore>, prefix: &str, issuer: &str) -> Self {
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
        // Named as before: snapshots already stored keep being found.
        assert_eq!(name, "/token-verifier/jwks/8d1eb7aa2a38ffb8");
        assert_ne!(
            name,
            snapshot_name("/token-verifier/jwks", "https://acme.us.auth0.com")
        );
    }
}
