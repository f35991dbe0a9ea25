//! Getting a document over HTTPS: one client for the process, hard time and size limits,
//! no redirects, answers cached per issuer for discovery.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use super::redact;
use crate::settings::http::{ClientAuth, HttpSettings, TlsRoots};

/// Why a document could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Connection, TLS or protocol failure.
    #[error("request to {url} failed: {message}")]
    Transport {
        /// Where.
        url: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The deadline passed.
    #[error("request to {url} timed out after {millis} ms")]
    Timeout {
        /// Where.
        url: String,
        /// The deadline.
        millis: u128,
    },
    /// Any status but 200 (redirects are not followed).
    #[error("{url} answered HTTP {status}, expected 200")]
    Status {
        /// Where.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body grew past the cap.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// Where.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The discovery document is unusable.
    #[error("discovery at {url}: {message}")]
    Discovery {
        /// Where.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key source that is not HTTP failed (file, parameter store).
    #[error("{0}")]
    Other(String),
}

/// A checked discovery document.
pub(crate) type Document = Arc<Map<String, Value>>;

/// The process's one HTTP client (rustls with aws-lc-rs, the platform's trust roots).
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    /// Its limits.
    pub settings: HttpSettings,
    /// Checked discovery documents by issuer, each fetched once (a failure is not kept)
    /// for every component that discovers an endpoint of that issuer: the key set and
    /// the opaque-token endpoint read one document, not two.
    pub(super) discovered: std::sync::Mutex<HashMap<String, Arc<OnceCell<Document>>>>,
}

impl Http {
    /// Builds the client: no redirects, connect and total timeouts.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(settings: HttpSettings) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("token-verifier/", env!("CARGO_PKG_VERSION")));
        if settings.roots == TlsRoots::Bundled {
            builder = builder.tls_backend_preconfigured(bundled_tls());
        }
        let client = builder.build()?;
        Ok(Http {
            client,
            settings,
            discovered: std::sync::Mutex::default(),
        })
    }

    /// GETs `url` and returns its body: status 200 only, at most `max_bytes`, within the
    /// total deadline however slowly the server sends.
    ///
    /// # Errors
    /// [`FetchError`] for every failure; nothing is retried here.
    pub async fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        match self.call(url, Call::Get).await? {
            (200, body) => Ok(body),
            (status, _) => Err(FetchError::Status {
                url: redact(url),
                status,
            }),
        }
    }

    /// Calls `url` and returns the status, and the body when it is 200 (at most
    /// `max_bytes`), within the total deadline however slowly the server sends.
    ///
    /// # Errors
    /// [`FetchError`] for a transport failure, a timeout or a body too large.
    pub async fn call(&self, url: &Url, call: Call<'_>) -> Result<(u16, Vec<u8>), FetchError> {
        let deadline = self.settings.timeout;
        match tokio::time::timeout(deadline, self.call_inner(url, call)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: redact(url),
                millis: deadline.as_millis(),
            }),
        }
    }

    async fn call_inner(&self, url: &Url, call: Call<'_>) -> Result<(u16, Vec<u8>), FetchError> {
        let shown = redact(url);
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout {
                    url: shown.clone(),
                    millis: self.settings.timeout.as_millis(),
                }
            } else {
                FetchError::Transport {
                    url: shown.clone(),
                    message: error_chain(&e.without_url()),
                }
            }
        };
        let sensitive = |value: String| {
            let mut value = reqwest::header::HeaderValue::from_str(&value)
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
            value.set_sensitive(true);
            value
        };
        let request = match call {
            Call::Get => self.client.get(url.clone()),
            Call::Bearer(token) => self.client.get(url.clone()).header(
                reqwest::header::AUTHORIZATION,
                sensitive(format!("Bearer {token}")),
            ),
            Call::Form { form, client, auth } => {
                let mut body = url::form_urlencoded::Serializer::new(String::new());
                body.extend_pairs(form.iter());
                let mut request = self.client.post(url.clone());
                match auth {
                    ClientAuth::Basic => {
                        // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
                        let encode = |part: &str| {
                            url::form_urlencoded::byte_serialize(part.as_bytes())
                                .collect::<String>()
                        };
                        let credentials = base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            format!("{}:{}", encode(client.0), encode(client.1)),
                        );
                        request = request.header(
                            reqwest::header::AUTHORIZATION,
                            sensitive(format!("Basic {credentials}")),
                        );
                    }
                    ClientAuth::Post => {
                        body.append_pair("client_id", client.0);
                        body.append_pair("client_secret", client.1);
                    }
                }
                request
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.finish())
            }
        };
        let mut response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Ok((status, Vec::new()));
        }
        let limit = self.settings.max_bytes;
        let too_large = || FetchError::TooLarge {
            url: shown.clone(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

/// How [`Http::call`] asks. Its `Debug` never shows a token or a secret.
#[derive(Clone, Copy)]
pub enum Call<'a> {
    /// A plain GET.
    Get,
    /// A GET with `Authorization: Bearer <token>` (userinfo).
    Bearer(&'a str),
    /// A POST of a form with client authentication (RFC 7662 introspection).
    Form {
        /// The form's pairs.
        form: &'a [(&'a str, &'a str)],
        /// Client id and secret.
        client: (&'a str, &'a str),
        /// How they are sent.
        auth: ClientAuth,
    },
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Call::Get => "Get",
            Call::Bearer(_) => "Bearer(***)",
            Call::Form { .. } => "Form(***)",
        })
    }
}

/// TLS 1.2 and 1.3 with aws-lc-rs (the crypto library of the verifier) and Mozilla's roots.
fn bundled_tls() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_or_else(
            |_| rustls::ClientConfig::builder().with_root_certificates(roots.clone()),
            |b| b.with_root_certificates(roots.clone()),
        )
        .with_no_client_auth()
}

/// An error and its sources, `: `-joined.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_trust_stores_build_a_client() {
        for roots in [TlsRoots::Bundled, TlsRoots::System] {
            let settings = HttpSettings {
                roots,
                ..HttpSettings::default()
            };
            assert!(Http::new(settings).is_ok(), "{roots:?}");
        }
    }
}
