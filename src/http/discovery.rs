//! `OpenID` Connect discovery (RFC 8414, OIDC Discovery), read once per issuer, and the
//! rules a key or endpoint URL must follow before anything is fetched from it.

use std::sync::Arc;

use serde_json::Value;
use url::Url;

use super::client::{Document, FetchError, Http};
use super::redact;
use crate::json::parse_object;
use crate::refusal::sanitize;

/// The discovery document URL of an issuer (RFC 8414 §5 / OIDC Discovery §4).
#[must_use]
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// A URL member (`jwks_uri`, `userinfo_endpoint`, …) of `issuer`'s discovery document,
/// whose `issuer` must be exactly `issuer`; https only, as [`check_discovered_url`] says.
/// `hint` ends the message when the member is missing.
///
/// # Errors
/// The fetch failed, or the document is not one this issuer may use.
pub(crate) async fn discover_member(
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
pub(crate) fn check_discovered_url(issuer: &str, jwks_uri: &Url) -> Result<(), String> {
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
pub(crate) fn check_key_url(url: &Url) -> Result<(), String> {
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
