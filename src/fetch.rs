//! Getting a key set over HTTPS: one client for the process, hard time and size limits,
//! no redirects, `OpenID` Connect discovery of the `jwks_uri` when none is configured.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use crate::refusal::sanitize;
use crate::token::parse_object;

/// Default for `HTTP_CONNECT_TIMEOUT_MS`: 1.5 s to open a connection (TCP + TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Default for `HTTP_TIMEOUT_MS`: 3 s for a whole request, body included. Discovery plus
/// JWKS stay under API Gateway's 10 s authorizer limit with room to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Default for `JWKS_MAX_BYTES`: 256 KiB. Real key sets are 1 to 10 KiB; the cap is
/// counted while streaming, so a hostile endpoint cannot make the function buffer more.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// A boxed, sendable future (what trait objects return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

/// Which certificate authorities the HTTP client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsRoots {
    /// Mozilla's root store compiled into the binary (webpki-roots): no file to read at
    /// init, 0.1 ms instead of about 3 ms to build the client (BENCHMARKS.md).
    #[default]
    Bundled,
    /// The operating system's trust store (rustls-platform-verifier): for identity
    /// providers behind a private certificate authority installed on the system.
    System,
}

/// Limits of the one HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Connection (TCP + TLS) deadline.
    pub connect_timeout: Duration,
    /// Whole-request deadline, body included.
    pub timeout: Duration,
    /// Largest accepted body.
    pub max_bytes: usize,
    /// Trusted certificate authorities.
    pub roots: TlsRoots,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            roots: TlsRoots::Bundled,
        }
    }
}

/// A checked discovery document.
type Document = Arc<Map<String, Value>>;

/// The process's one HTTP client (rustls with aws-lc-rs, the platform's trust roots).
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    /// Its limits.
    pub settings: HttpSettings,
    /// Checked discovery documents by issuer, each fetched once (a failure is not kept)
    /// for every component that discovers an endpoint of that issuer: the key set and
    /// the opaque-token endpoint read one document, not two.
    discovered: std::sync::Mutex<HashMap<String, Arc<OnceCell<Document>>>>,
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

/// How a client authenticates to the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded id and secret.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
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

/// Something that yields a JWKS document: an HTTPS endpoint, later a parameter store.
pub trait JwksSource: Send + Sync {
    /// Fetches the current document.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, FetchError>>;
    /// Where the keys come from, for logs.
    fn describe(&self) -> String;
}

/// Where an issuer's JWKS lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksLocation {
    /// A configured `JWKS_URI`.
    Uri(Url),
    /// `{issuer}/.well-known/openid-configuration`, whose `issuer` must equal this one.
    Discovery {
        /// The configured issuer.
        issuer: String,
    },
}

/// An issuer's JWKS over HTTPS, with discovery resolved once and remembered.
pub struct RemoteJwks {
    http: Arc<Http>,
    location: JwksLocation,
    resolved: OnceCell<Url>,
}

impl RemoteJwks {
    /// A remote source.
    #[must_use]
    pub fn new(http: Arc<Http>, location: JwksLocation) -> Self {
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

/// A URL for logs: scheme, host, port and path only (no userinfo, query or fragment,
/// where a key URL could carry a secret).
#[must_use]
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The discovery document URL of an issuer (RFC 8414 §5 / OIDC Discovery §4).
#[must_use]
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

async fn discover(http: &Http, issuer: &str) -> Result<Url, FetchError> {
    let jwks_uri = discover_member(http, issuer, "jwks_uri", "").await?;
    tracing::info!(issuer, jwks_uri = %redact(&jwks_uri), "discovered jwks_uri");
    Ok(jwks_uri)
}

/// A URL member (`jwks_uri`, `userinfo_endpoint`, …) of `issuer`'s discovery document,
/// whose `issuer` must be exactly `issuer`; https only, as [`check_discovered_url`] says.
/// `hint` ends the message when the member is missing.
///
/// # Errors
/// The fetch failed, or the document is not one this issuer may use.
pub async fn discover_member(
    http: &Http,
    issuer: &str,
    member: &str,
    hint: &str,
) -> Result<Url, FetchError> {
    let doc = http.discovery_document(issuer).await?;
    let failure = |message: String| FetchError::Discovery {
        url: discovery_url(issuer),
        message,
    };
    let found = doc
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| failure(format!("no {member} member{hint}")))?;
    let found = Url::parse(found).map_err(|e| failure(format!("{member}: {e}")))?;
    check_discovered_url(issuer, &found)
        .map_err(|e| failure(format!("{member}: {}", sanitize(&e, 200))))?;
    Ok(found)
}

impl Http {
    /// `issuer`'s discovery document, whose `issuer` must be exactly `issuer`: fetched by
    /// the first caller, shared with every later and concurrent one.
    async fn discovery_document(&self, issuer: &str) -> Result<Document, FetchError> {
        let cell = {
            let mut discovered = self
                .discovered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(discovered.entry(issuer.to_owned()).or_default())
        };
        cell.get_or_try_init(|| async {
            let url_text = discovery_url(issuer);
            let failure = |message: String| FetchError::Discovery {
                url: url_text.clone(),
                message,
            };
            let url = Url::parse(&url_text).map_err(|e| failure(e.to_string()))?;
            let body = self.get(&url).await?;
            let doc = parse_object(&body).map_err(failure)?;
            match doc.get("issuer").and_then(Value::as_str) {
                Some(found) if found == issuer => Ok(Arc::new(doc)),
                Some(found) => Err(failure(format!(
                    "its issuer is {} but TOKEN_ISSUER is {issuer}; they must be identical",
                    sanitize(found, 200)
                ))),
                None => Err(failure("no issuer member".to_owned())),
            }
        })
        .await
        .cloned()
    }
}

/// A discovered key URL must be https; plain http only when the issuer itself is a
/// loopback http URL (tests): a discovery document must never point a production
/// authorizer at a local port such as the Lambda Runtime API.
///
/// # Errors
/// A message saying which rule the URL breaks.
pub fn check_discovered_url(issuer: &str, jwks_uri: &Url) -> Result<(), String> {
    let issuer_is_loopback =
        Url::parse(issuer).is_ok_and(|u| u.scheme() == "http" && is_loopback(&u));
    if jwks_uri.scheme() != "https" && !issuer_is_loopback {
        return Err(format!("{} is not https", redact(jwks_uri)));
    }
    check_key_url(jwks_uri)
}

/// Key URLs must be `https`, except on loopback hosts (local runs and tests).
///
/// # Errors
/// A message saying which rule the URL breaks.
pub fn check_key_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} is plain http; keys must come over https (http is allowed only on loopback hosts)"
        )),
        other => Err(format!("{url}: scheme {other} is not https")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_urls_must_be_https_except_on_loopback() {
        let ok = [
            "https://idp.example.com/jwks",
            "http://127.0.0.1:9/jwks",
            "http://localhost/x",
            "http://[::1]:80/",
        ];
        for u in ok {
            assert!(check_key_url(&Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        let bad = [
            "http://idp.example.com/jwks",
            "file:///etc/passwd",
            "ftp://x/y",
            "http://169.254.169.254/latest",
        ];
        for u in bad {
            assert!(check_key_url(&Url::parse(u).unwrap()).is_err(), "{u}");
        }
    }

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

    #[test]
    fn discovered_key_urls_must_be_https() {
        let local = Url::parse("http://127.0.0.1:9001/2018-06-01/runtime").unwrap();
        assert!(check_discovered_url("https://idp.example.com/", &local).is_err());
        assert!(check_discovered_url("http://127.0.0.1:8000", &local).is_ok());
        let https = Url::parse("https://idp.example.com/keys").unwrap();
        assert!(check_discovered_url("https://idp.example.com/", &https).is_ok());
    }

    #[test]
    fn logged_urls_lose_credentials_and_queries() {
        let url = Url::parse("https://user:pass@idp.example.com/keys?token=s3cret#x").unwrap();
        assert_eq!(redact(&url), "https://idp.example.com/keys");
    }

    #[test]
    fn discovery_url_ignores_a_trailing_slash() {
        assert_eq!(
            discovery_url("https://t.auth0.com/"),
            "https://t.auth0.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://idp/realms/x"),
            "https://idp/realms/x/.well-known/openid-configuration"
        );
    }
}
