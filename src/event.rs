//! The API Gateway authorizer events, detected from the event itself, reduced to what a
//! decision needs: the shape (how to answer), the credential, and the called route's ARN.
//!
//! | event                         | detected by                          | answer          |
//! |-------------------------------|--------------------------------------|-----------------|
//! | REST TOKEN                    | `type: TOKEN`                        | IAM policy      |
//! | REST REQUEST                  | `type: REQUEST`, no `version`        | IAM policy      |
//! | WebSocket `$connect`          | `type: REQUEST`, `eventType: CONNECT`| IAM policy      |
//! | HTTP API payload 1.0          | `type: REQUEST`, `version: "1.0"`    | IAM policy      |
//! | HTTP API payload 2.0          | `version: "2.0"`                     | simple / policy |

use std::collections::HashMap;

use serde::Deserialize;

use crate::config::GatewaySettings;
use crate::refusal::{Reason, Refusal};

/// The union of the authorizer event fields this function reads. Unknown fields are
/// ignored and every field may be absent or null, so a shape change is an
/// `unrecognised_event`, never a deserialization panic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizerEvent {
    /// `TOKEN` or `REQUEST` (REST, WebSocket, HTTP 1.0; HTTP 2.0 also sends `REQUEST`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `1.0` or `2.0` on HTTP API events.
    pub version: Option<String>,
    /// TOKEN: the identity source value.
    pub authorization_token: Option<String>,
    /// REST, WebSocket and HTTP 1.0: the called method's ARN.
    pub method_arn: Option<String>,
    /// HTTP 2.0: the called route's ARN.
    pub route_arn: Option<String>,
    /// Request headers (REST: as sent; HTTP 2.0: lower-cased, repeated values comma-joined).
    pub headers: Option<HashMap<String, Option<String>>>,
    /// REST / HTTP 1.0: every value of every header.
    pub multi_value_headers: Option<HashMap<String, Option<Vec<String>>>>,
    /// Query-string parameters.
    pub query_string_parameters: Option<HashMap<String, Option<String>>>,
    /// REST / HTTP 1.0: every value of every query parameter.
    pub multi_value_query_string_parameters: Option<HashMap<String, Option<Vec<String>>>>,
    /// HTTP 2.0 route key, e.g. `GET /pets`.
    pub route_key: Option<String>,
    /// Request context (WebSocket: `eventType`, `routeKey`).
    pub request_context: Option<RequestContext>,
}

/// The part of `requestContext` used for detection and logs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestContext {
    /// WebSocket: `CONNECT`.
    pub event_type: Option<String>,
    /// WebSocket / HTTP 2.0 route key.
    pub route_key: Option<String>,
}

/// How to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// REST API TOKEN authorizer.
    RestToken,
    /// REST API REQUEST authorizer.
    RestRequest,
    /// WebSocket API `$connect` REQUEST authorizer.
    WebSocket,
    /// HTTP API Lambda authorizer, payload format 1.0.
    HttpV1,
    /// HTTP API Lambda authorizer, payload format 2.0.
    HttpV2,
}

impl Shape {
    /// Name for logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::RestToken => "rest_token",
            Shape::RestRequest => "rest_request",
            Shape::WebSocket => "websocket",
            Shape::HttpV1 => "http_v1",
            Shape::HttpV2 => "http_v2",
        }
    }
}

/// An event reduced to what the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// How to answer.
    pub shape: Shape,
    /// The route's ARN (`methodArn` or `routeArn`).
    pub arn: String,
    /// The bearer token, or why there is none.
    pub credential: Result<String, Refusal>,
}

impl AuthorizerEvent {
    /// Detects the shape and extracts the credential.
    ///
    /// # Errors
    /// An `unrecognised_event` refusal when the event is no authorizer event.
    pub fn into_request(mut self, settings: &GatewaySettings) -> Result<Request, Refusal> {
        let shape = self.shape()?;
        let arn = match shape {
            Shape::HttpV2 => self.route_arn.take(),
            _ => self.method_arn.take(),
        }
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| {
            Refusal::new(
                Reason::UnrecognisedEvent,
                format!("{} event without its route ARN", shape.as_str()),
            )
        })?;
        let credential = match shape {
            // The event's own string, cut down to the token: no copy of it is made.
            Shape::RestToken => {
                let mut value = self.authorization_token.take().unwrap_or_default();
                bearer(&value)
                    .map(|token| {
                        (
                            token.as_ptr() as usize - value.as_ptr() as usize,
                            token.len(),
                        )
                    })
                    .map(|(start, len)| {
                        value.truncate(start + len);
                        value.replace_range(..start, "");
                        value
                    })
            }
            _ => self.request_credential(settings).map(str::to_owned),
        };
        Ok(Request {
            shape,
            arn,
            credential,
        })
    }

    fn shape(&self) -> Result<Shape, Refusal> {
        let kind = self.kind.as_deref().unwrap_or_default();
        let websocket = self.request_context.as_ref().is_some_and(|c| {
            c.event_type.as_deref() == Some("CONNECT") || c.route_key.as_deref() == Some("$connect")
        });
        match (self.version.as_deref(), kind) {
            (Some("2.0"), _) => Ok(Shape::HttpV2),
            (Some("1.0"), "REQUEST") => Ok(Shape::HttpV1),
            (_, "REQUEST") if websocket => Ok(Shape::WebSocket),
            (None, "TOKEN") => Ok(Shape::RestToken),
            (None, "REQUEST") => Ok(Shape::RestRequest),
            (version, _) => Err(Refusal::new(
                Reason::UnrecognisedEvent,
                format!(
                    "type {:?}, version {:?}",
                    self.kind.as_deref().unwrap_or("absent"),
                    version.unwrap_or("absent")
                ),
            )),
        }
    }

    fn request_credential(&self, settings: &GatewaySettings) -> Result<&str, Refusal> {
        let name = settings.token_header.as_str();
        match values(
            self.multi_value_headers.as_ref(),
            self.headers.as_ref(),
            name,
        ) {
            Values::One(value) => return bearer(value),
            Values::Several(n) => {
                return Err(Refusal::new(
                    Reason::MissingToken,
                    format!("{n} {name} headers; send exactly one credential"),
                ));
            }
            Values::None => {}
        }
        if let Some(param) = settings.token_query.as_deref() {
            match values(
                self.multi_value_query_string_parameters.as_ref(),
                self.query_string_parameters.as_ref(),
                param,
            ) {
                Values::One(value) => {
                    let value = value.trim();
                    return match value.get(..7) {
                        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => bearer(value),
                        _ if value.is_empty() || value.contains([' ', ',']) => Err(Refusal::new(
                            Reason::MissingToken,
                            format!("query parameter {param} is empty or holds several values"),
                        )),
                        _ => Ok(value),
                    };
                }
                Values::Several(n) => {
                    return Err(Refusal::new(
                        Reason::MissingToken,
                        format!("{n} {param} query parameters; send exactly one credential"),
                    ));
                }
                Values::None => {}
            }
        }
        Err(Refusal::new(
            Reason::MissingToken,
            match settings.token_query.as_deref() {
                Some(param) => format!("no {name} header and no {param} query parameter"),
                None => format!("no {name} header"),
            },
        ))
    }
}

enum Values<'a> {
    None,
    One(&'a str),
    Several(usize),
}

/// Finds a header or parameter case-insensitively, preferring the multi-value map (which
/// reveals repeats) over the single-value one (which keeps only the last).
fn values<'a>(
    multi: Option<&'a HashMap<String, Option<Vec<String>>>>,
    single: Option<&'a HashMap<String, Option<String>>>,
    name: &str,
) -> Values<'a> {
    let mut found: Vec<&str> = Vec::new();
    if let Some(map) = multi {
        for (key, list) in map {
            if key.eq_ignore_ascii_case(name) {
                found.extend(list.iter().flatten().map(String::as_str));
            }
        }
    }
    if found.is_empty()
        && let Some(map) = single
    {
        for (key, value) in map {
            if key.eq_ignore_ascii_case(name) {
                found.extend(value.as_deref());
            }
        }
    }
    match found.as_slice() {
        [] => Values::None,
        [one] => Values::One(one),
        several => Values::Several(several.len()),
    }
}

/// Authorization schemes a refusal may name (IANA HTTP Authentication Scheme Registry).
const KNOWN_SCHEMES: [&str; 10] = [
    "Basic",
    "Digest",
    "DPoP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "OAuth",
    "SCRAM-SHA-256",
    "Token",
];

/// Extracts the token from `Bearer <token>`: the scheme matched case-insensitively,
/// spaces and tabs around it tolerated (HTTP's optional whitespace), exactly one
/// credential (RFC 6750 §2.1). Any other whitespace or control character is refused.
///
/// # Errors
/// A `missing_token` refusal saying what was found instead.
pub fn bearer(value: &str) -> Result<&str, Refusal> {
    let missing = |detail: &str| Refusal::new(Reason::MissingToken, detail.to_owned());
    let is_ows = |c: char| c == ' ' || c == '\t';
    let value = value.trim_matches(is_ows);
    if value.is_empty() {
        return Err(missing("the credential is empty"));
    }
    let Some((scheme, rest)) = value.split_once(is_ows) else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            missing("Bearer without a token")
        } else {
            missing("no `Bearer ` scheme before the token")
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Name only well-known schemes: an unknown "scheme" may be part of a secret.
        let shown = KNOWN_SCHEMES
            .iter()
            .find(|known| scheme.eq_ignore_ascii_case(known))
            .map_or("an unrecognised scheme", |known| *known);
        return Err(Refusal::new(
            Reason::MissingToken,
            format!("the credential uses {shown}, not Bearer"),
        ));
    }
    let token = rest.trim_start_matches(is_ows);
    // Bytes, not chars: a credential is ASCII; any non-ASCII byte is refused later as
    // malformed, and this scan runs on every request.
    // No early exit: a branch-free fold the compiler vectorises.
    let unexpected = token.bytes().fold(0u8, |seen, b| {
        seen | u8::from(b <= b' ') | u8::from(b >= 0x7f) | u8::from(b == b',')
    }) != 0;
    if unexpected && token.bytes().any(|b| b <= b' ' || b == 0x7f || b == b',') {
        return Err(missing(
            "more than one credential, or whitespace or control characters, after Bearer",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_case_insensitive_and_takes_exactly_one_token() {
        assert_eq!(bearer("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(bearer("bearer abc"), Ok("abc"));
        assert_eq!(bearer("BEARER   abc  "), Ok("abc"));
        assert_eq!(bearer(" Bearer\tabc"), Ok("abc"));
        for bad in [
            "",
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            "abc.def.ghi",
            "Bearer a b",
            "Bearer a, Bearer b",
            "Bearerabc",
            "Token abc",
            "Bearer abc\n",
            "Bearer abc\r\nX-Evil: 1",
            "Bearer a\u{0}b",
            "Bearer\nabc",
        ] {
            let refusal = bearer(bad).unwrap_err();
            assert!(
                !refusal.detail.contains("dXNlcjpw") && !refusal.detail.contains("abc.def"),
                "{refusal:?}"
            );
            assert_eq!(
                bearer(bad).unwrap_err().reason,
                Reason::MissingToken,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn an_unknown_scheme_is_never_echoed() {
        let refusal = bearer("s3cr3tT0kenValue x").unwrap_err();
        assert!(!refusal.detail.contains("s3cr3t"), "{}", refusal.detail);
        assert!(
            bearer("Basic dXNlcjpwYXNz")
                .unwrap_err()
                .detail
                .contains("Basic")
        );
    }
}
