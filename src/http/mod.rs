//! The process's one HTTP client ([`client`]) and what it fetches with: `OpenID` Connect
//! discovery and the rules every key or endpoint URL must follow ([`discovery`]).

use std::future::Future;
use std::pin::Pin;

use url::Url;

pub(crate) mod client;
pub(crate) mod discovery;

pub(crate) use client::{Call, FetchError, Http};
pub(crate) use discovery::{check_key_url, discover_member, discovery_url};

/// A boxed, sendable future (what trait objects return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A URL for logs: scheme, host, port and path only (no userinfo, query or fragment,
/// where a key URL could carry a secret).
#[must_use]
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}
