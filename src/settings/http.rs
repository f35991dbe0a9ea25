//! The HTTP client's limits and trust roots, and how an introspection client authenticates.

use std::time::Duration;

/// Default for `HTTP_CONNECT_TIMEOUT_MS`: 1.5 s to open a connection (TCP + TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);

/// Default for `HTTP_TIMEOUT_MS`: 3 s for a whole request, body included. Discovery plus
/// JWKS stay under API Gateway's 10 s authorizer limit with room to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Default for `JWKS_MAX_BYTES`: 256 KiB. Real key sets are 1 to 10 KiB; the cap is
/// counted while streaming, so a hostile endpoint cannot make the function buffer more.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// Largest accepted `HTTP_TIMEOUT_MS`.
pub const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(8);

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

/// How a client authenticates to the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded id and secret.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}
