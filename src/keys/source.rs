//! Where an issuer's key set comes from: its `jwks_uri`, given or discovered, fetched
//! over HTTPS.

use std::sync::Arc;

use tokio::sync::OnceCell;
use url::Url;

use crate::http::{BoxFuture, FetchError, Http, discover_member, discovery_url, redact};

/// Something that yields a JWKS document: an HTTPS endpoint, later a parameter store.
pub trait JwksSource: Send + Sync {
    /// Fetches the current document.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, FetchError>>;
    /// Where the keys come from, for logs.
    fn describe(&self) -> String;
}

/// Where an issuer's JWKS lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwksLocation {
    /// A configured `JWKS_URI`.
    Uri(Url),
    /// `{issuer}/.well-known/openid-configuration`, whose `issuer` must equal this one.
    Discovery {
        /// The configured issuer.
        issuer: String,
    },
}

/// An issuer's JWKS over HTTPS, with discovery resolved once and remembered.
pub(crate) struct RemoteJwks {
    http: Arc<Http>,
    location: JwksLocation,
    resolved: OnceCell<Url>,
}

impl RemoteJwks {
    /// A remote source.
    #[must_use]
    pub(crate) fn new(http: Arc<Http>, location: JwksLocation) -> Self {
        RemoteJwks {
            http,
            location,
            resolved: OnceCell::new(),
        }
    }

    async fn jwks_uri(&self) -> Result<Url, FetchError> {
        match &self.location {
            JwksLocation::Uri(url) => Ok(url.clone()),
            JwksLocation::Discovery { issuer } => self
                .resolved
                .get_or_try_init(|| discover(&self.http, issuer))
                .await
                .cloned(),
        }
    }
}

impl JwksSource for RemoteJwks {
    /// Discovery (once) and the key set share one deadline, `HTTP_TIMEOUT_MS`, so a
    /// request that must fetch both never waits longer than that.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, FetchError>> {
        Box::pin(async move {
            let deadline = self.http.settings.timeout;
            let fetch = async {
                let uri = self.jwks_uri().await?;
                self.http.get(&uri).await
            };
            tokio::time::timeout(deadline, fetch)
                .await
                .unwrap_or_else(|_| {
                    Err(FetchError::Timeout {
                        url: self.describe(),
                        millis: deadline.as_millis(),
                    })
                })
        })
    }

    fn describe(&self) -> String {
        match (&self.location, self.resolved.get()) {
            (JwksLocation::Uri(url), _) => redact(url),
            (JwksLocation::Discovery { .. }, Some(url)) => format!("{} (discovered)", redact(url)),
            (JwksLocation::Discovery { issuer }, None) => discovery_url(issuer),
        }
    }
}

async fn discover(http: &Http, issuer: &str) -> Result<Url, FetchError> {
    let jwks_uri = discover_member(http, issuer, "jwks_uri", "").await?;
    tracing::info!(issuer, jwks_uri = %redact(&jwks_uri), "discovered jwks_uri");
    Ok(jwks_uri)
}
