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
//! | AppSync GraphQL               | no `type`, `requestContext.queryString` | `isAuthorized`, `resolverContext`, `deniedFields` |
//! | AppSync Events                | no `type`, `requestContext.operation` `EVENT_*` | `isAuthorized`, `handlerContext` |
//!
//! AppSync passes the `Authorization` header's value as `authorizationToken`, as the
//! client sent it: a bare token or `Bearer <token>`, both accepted.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::credential::{bearer, credential, is_one_credential, is_ows, not_a_placeholder};
use crate::json::{self, Member, Str};
use crate::refusal::{Reason, Refusal};
use crate::settings::GatewaySettings;
use crate::verify::binding::{DpopRequest, Scheme};

/// The union of the authorizer event fields this function reads. Unknown fields are
/// ignored and every field may be absent or null, so a shape change is an
/// `unrecognised_event`, never a deserialization panic.
///
/// The maps (headers, query parameters) and the request context are kept as the JSON
/// text the event holds and read only when needed: an HTTP API 2.0 event's dozens of
/// headers and context members are never built into maps (`event/deserialize_http_v2`
/// in BENCHMARKS.md). `Debug` leaves out what holds the token.
#[derive(Clone, Default, Deserialize)]
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
    /// Request headers (REST: as sent; HTTP 2.0: lower-cased, repeated values
    /// comma-joined): a JSON object of strings.
    pub headers: Option<Box<RawValue>>,
    /// REST / HTTP 1.0: every value of every header: a JSON object of string lists.
    pub multi_value_headers: Option<Box<RawValue>>,
    /// Query-string parameters: a JSON object of strings.
    pub query_string_parameters: Option<Box<RawValue>>,
    /// REST / HTTP 1.0: every value of every query parameter: a JSON object of lists.
    pub multi_value_query_string_parameters: Option<Box<RawValue>>,
    /// Request context (WebSocket: `eventType`, `routeKey`): a JSON object.
    pub request_context: Option<Box<RawValue>>,
    /// REST and HTTP 1.0: the request's method.
    pub http_method: Option<String>,
    /// HTTP 2.0: the path the client called (a named stage's segment included).
    pub raw_path: Option<String>,
}

impl fmt::Debug for AuthorizerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizerEvent")
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("method_arn", &self.method_arn)
            .field("route_arn", &self.route_arn)
            .finish_non_exhaustive()
    }
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
    /// AppSync GraphQL API Lambda authorizer.
    AppSyncGraphql,
    /// AppSync Events API Lambda authorizer.
    AppSyncEvents,
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
            Shape::AppSyncGraphql => "appsync_graphql",
            Shape::AppSyncEvents => "appsync_events",
        }
    }

    /// Whether AppSync asks (its answer is `isAuthorized`, never a Lambda error).
    #[must_use]
    pub const fn is_appsync(self) -> bool {
        matches!(self, Shape::AppSyncGraphql | Shape::AppSyncEvents)
    }
}

/// An event reduced to what the decision needs. `Debug` shows the token's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// How to answer.
    pub shape: Shape,
    /// The route's ARN (`methodArn` or `routeArn`; empty for AppSync, which has none).
    pub arn: String,
    /// The bearer token, or why there is none.
    pub credential: Result<String, Refusal>,
    /// The client certificate (PEM) API Gateway's mutual TLS verified, when the event
    /// carries one (REQUEST, WebSocket, HTTP API 1.0: `requestContext.identity.clientCert`;
    /// HTTP API 2.0: `requestContext.authentication.clientCert`).
    pub client_cert: Option<String>,
    /// How the token came: `Bearer` or `DPoP`.
    pub scheme: Scheme,
    /// What a DPoP proof is checked against, when some issuer checks bindings and the
    /// event carries headers (REST REQUEST, HTTP API 1.0 and 2.0).
    pub dpop: Option<DpopRequest>,
    /// The caller's address as API Gateway saw it, when Cedar policies are configured
    /// (`requestContext.identity.sourceIp`; HTTP API 2.0: `requestContext.http.sourceIp`).
    pub source_ip: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = self
            .credential
            .as_ref()
            .map(|token| format!("{} bytes", token.len()));
        f.debug_struct("Request")
            .field("shape", &self.shape)
            .field("arn", &self.arn)
            .field("credential", &credential)
            .field(
                "client_cert",
                &self
                    .client_cert
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .field("scheme", &self.scheme)
            .field("dpop", &self.dpop)
            .field("source_ip", &self.source_ip)
            .finish()
    }
}

impl AuthorizerEvent {
    /// Detects the shape and extracts the credential.
    ///
    /// # Errors
    /// An `unrecognised_event` refusal when the event is no authorizer event.
    pub fn into_request(mut self, settings: &GatewaySettings) -> Result<Request, Refusal> {
        let shape = self.shape()?;
        if shape.is_appsync() {
            // No route ARN (AppSync's answers name fields, not routes), no mutual TLS; the
            // token as the client sent it.
            let value = self.authorization_token.take().unwrap_or_default();
            return Ok(Request {
                shape,
                arn: String::new(),
                credential: bare_or_bearer(&value, "authorizationToken"),
                client_cert: None,
                scheme: Scheme::Bearer,
                dpop: None,
                source_ip: None,
            });
        }
        let arn = match shape {
            Shape::HttpV2 => self.route_arn.take(),
            _ => self.method_arn.take(),
        }
        .filter(|arn| !arn.is_empty())
        .ok_or_else(|| unrecognised(format!("{} event without its route ARN", shape.as_str())))?;
        let mut scheme = Scheme::Bearer;
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
            _ => self.request_credential(settings).map(|(s, token)| {
                scheme = s;
                token
            }),
        };
        let client_cert = match shape {
            _ if !settings.client_certs => None,
            Shape::RestToken | Shape::AppSyncGraphql | Shape::AppSyncEvents => None,
            Shape::HttpV2 => self.client_cert("authentication")?,
            Shape::RestRequest | Shape::WebSocket | Shape::HttpV1 => {
                self.client_cert("identity")?
            }
        };
        let dpop = match shape {
            _ if !settings.dpop => None,
            Shape::RestRequest | Shape::HttpV1 | Shape::HttpV2 => {
                Some(self.dpop_request(shape, &arn, settings)?)
            }
            // No DPoP over WebSocket (browsers cannot set its headers) nor TOKEN events
            // (they carry one header): a DPoP credential there is refused as unproven.
            _ => None,
        };
        let source_ip = match shape {
            _ if !settings.source_ip => None,
            Shape::RestToken | Shape::AppSyncGraphql | Shape::AppSyncEvents => None,
            Shape::HttpV2 => self.source_ip("http")?,
            Shape::RestRequest | Shape::WebSocket | Shape::HttpV1 => self.source_ip("identity")?,
        };
        Ok(Request {
            shape,
            arn,
            credential,
            client_cert,
            scheme,
            dpop,
            source_ip,
        })
    }

    /// The `DPoP` header, the method and the URL the client called (README: DPoP):
    /// `PUBLIC_BASE_URL` and the path after the stage in the route's ARN when set;
    /// otherwise `https://` `requestContext.domainName` and `requestContext.path` (REST,
    /// HTTP 1.0: the stage or the custom domain's base path included) or `rawPath`
    /// (HTTP 2.0: a named stage's segment included).
    fn dpop_request(
        &self,
        shape: Shape,
        arn: &str,
        settings: &GatewaySettings,
    ) -> Result<DpopRequest, Refusal> {
        let headers = (
            (self.multi_value_headers.as_deref(), "multiValueHeaders"),
            (self.headers.as_deref(), "headers"),
        );
        let proof = match values(headers, "DPoP")? {
            Values::None => Ok(None),
            // HTTP API joins repeated headers with commas; a JWS holds none.
            Values::One(value) if value.contains(',') => {
                Err(several_proofs(value.split(',').count()))
            }
            Values::One(value) => Ok(Some(value.trim_matches(is_ows).to_owned())),
            Values::Several(n) => Err(several_proofs(n)),
        };
        let context = Object::read(self.request_context.as_deref(), "requestContext")?;
        let (method, path) = match (shape, &context) {
            (Shape::HttpV2, Some(context)) => {
                let method = match context.object("http")? {
                    Some(http) => http.string("method")?.map(Cow::into_owned),
                    None => None,
                };
                (method, self.raw_path.clone())
            }
            (_, Some(context)) => (
                self.http_method
                    .clone()
                    .or(context.string("httpMethod")?.map(Cow::into_owned)),
                context.string("path")?.map(Cow::into_owned),
            ),
            (_, None) => (self.http_method.clone(), None),
        };
        let url = if let Some(base) = &settings.public_base_url {
            Ok(format!(
                "{}/{}",
                base.trim_end_matches('/'),
                route_path(arn)
            ))
        } else {
            let domain = match &context {
                Some(context) => context.string("domainName")?,
                None => None,
            };
            match (domain, path) {
                (Some(domain), Some(path)) if !domain.is_empty() && path.starts_with('/') => {
                    Ok(format!("https://{domain}{path}"))
                }
                _ => Err(Refusal::new(
                    Reason::ProofRequestMismatch,
                    format!(
                        "the {} event does not say which URL the client called (requestContext.domainName and {}); set PUBLIC_BASE_URL",
                        shape.as_str(),
                        if shape == Shape::HttpV2 {
                            "rawPath"
                        } else {
                            "requestContext.path"
                        }
                    ),
                )),
            }
        };
        Ok(DpopRequest {
            proof,
            method: method.unwrap_or_default(),
            url,
        })
    }

    /// `requestContext.{holder}.sourceIp`, when there (`identity` for REST, WebSocket
    /// and HTTP API 1.0, `http` for HTTP API 2.0).
    fn source_ip(&self, holder: &'static str) -> Result<Option<String>, Refusal> {
        let Some(context) = Object::read(self.request_context.as_deref(), "requestContext")? else {
            return Ok(None);
        };
        let Some(holder) = context.object(holder)? else {
            return Ok(None);
        };
        Ok(holder
            .string("sourceIp")?
            .map(Cow::into_owned)
            .filter(|ip| !ip.is_empty()))
    }

    /// `requestContext.{holder}.clientCert.clientCertPem`, when there.
    fn client_cert(&self, holder: &'static str) -> Result<Option<String>, Refusal> {
        let Some(context) = Object::read(self.request_context.as_deref(), "requestContext")? else {
            return Ok(None);
        };
        let Some(holder) = context.object(holder)? else {
            return Ok(None);
        };
        let Some(cert) = holder.object("clientCert")? else {
            return Ok(None);
        };
        Ok(cert
            .string("clientCertPem")?
            .map(Cow::into_owned)
            .filter(|pem| !pem.is_empty()))
    }

    fn shape(&self) -> Result<Shape, Refusal> {
        if self.kind.is_none()
            && self.version.is_none()
            && let Some(shape) = self.appsync()?
        {
            return Ok(shape);
        }
        let kind = self.kind.as_deref().unwrap_or_default();
        match (self.version.as_deref(), kind) {
            (Some("2.0"), _) => Ok(Shape::HttpV2),
            (Some("1.0"), "REQUEST") => Ok(Shape::HttpV1),
            (_, "REQUEST") if self.websocket()? => Ok(Shape::WebSocket),
            (None, "TOKEN") => Ok(Shape::RestToken),
            (None, "REQUEST") => Ok(Shape::RestRequest),
            (version, _) => Err(unrecognised(format!(
                "type {:?}, version {:?}",
                self.kind.as_deref().unwrap_or("absent"),
                version.unwrap_or("absent")
            ))),
        }
    }

    /// A WebSocket `$connect`: `requestContext.eventType` is `CONNECT` or its `routeKey`
    /// is `$connect`.
    fn websocket(&self) -> Result<bool, Refusal> {
        let Some(context) = Object::read(self.request_context.as_deref(), "requestContext")? else {
            return Ok(false);
        };
        Ok(context.string("eventType")?.as_deref() == Some("CONNECT")
            || context.string("routeKey")?.as_deref() == Some("$connect"))
    }

    /// An AppSync authorizer event: no `type`, and a request context with the API's id and
    /// either the GraphQL `queryString` or an Events `operation` (`EVENT_CONNECT`,
    /// `EVENT_SUBSCRIBE`, `EVENT_PUBLISH`).
    fn appsync(&self) -> Result<Option<Shape>, Refusal> {
        let Some(context) = Object::read(self.request_context.as_deref(), "requestContext")? else {
            return Ok(None);
        };
        if context.string("apiId")?.is_none() {
            return Ok(None);
        }
        if context.string("queryString")?.is_some() {
            return Ok(Some(Shape::AppSyncGraphql));
        }
        Ok(context
            .string("operation")?
            .is_some_and(|op| op.starts_with("EVENT_"))
            .then_some(Shape::AppSyncEvents))
    }

    fn request_credential(&self, settings: &GatewaySettings) -> Result<(Scheme, String), Refusal> {
        let name = settings.token_header.as_str();
        let headers = (
            (self.multi_value_headers.as_deref(), "multiValueHeaders"),
            (self.headers.as_deref(), "headers"),
        );
        match values(headers, name)? {
            Values::One(value) => {
                return credential(&value, settings.dpop).map(|(s, t)| (s, t.to_owned()));
            }
            Values::Several(n) => {
                return Err(Refusal::new(
                    Reason::MissingToken,
                    format!("{n} {name} headers; send exactly one credential"),
                ));
            }
            Values::None => {}
        }
        if let Some(param) = settings.token_query.as_deref() {
            let parameters = (
                (
                    self.multi_value_query_string_parameters.as_deref(),
                    "multiValueQueryStringParameters",
                ),
                (
                    self.query_string_parameters.as_deref(),
                    "queryStringParameters",
                ),
            );
            match values(parameters, param)? {
                Values::One(value) => {
                    return bare_or_bearer(&value, &format!("query parameter {param}"))
                        .map(|t| (Scheme::Bearer, t));
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

/// A credential that may come with or without the `Bearer ` scheme (a WebSocket query
/// parameter, AppSync's `authorizationToken`): the header's rules, the scheme optional,
/// spaces and tabs around the value tolerated, nothing else trimmed away.
fn bare_or_bearer(value: &str, what: &str) -> Result<String, Refusal> {
    let value = value.trim_matches(is_ows);
    let scheme = value.split_once(is_ows).map_or(value, |(scheme, _)| scheme);
    if scheme.eq_ignore_ascii_case("bearer") {
        bearer(value).map(str::to_owned)
    } else if value.is_empty() || !is_one_credential(value) {
        Err(Refusal::new(
            Reason::MissingToken,
            format!(
                "{what} is empty, holds several values, or holds whitespace or control characters"
            ),
        ))
    } else {
        not_a_placeholder(value).map(|()| value.to_owned())
    }
}

// ---------------------------------------------------------------------------------------
// Reading the event's JSON text: the maps and the request context, kept as serde_json
// handed them over.

/// A JSON object of the event kept as text (headers, parameters, request context), with
/// its members' spans.
struct Object<'t> {
    what: &'static str,
    text: &'t str,
    members: Vec<Member>,
}

impl<'t> Object<'t> {
    /// `None` when the event has no such member (or null).
    ///
    /// # Errors
    /// `unrecognised_event` when it is not an object.
    fn read(raw: Option<&'t RawValue>, what: &'static str) -> Result<Option<Self>, Refusal> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let text = raw.get();
        let members = json::skim_members(text, 0).ok_or_else(|| {
            unrecognised(format!(
                "{what} is {}, not an object",
                json::Kind::of(text).name()
            ))
        })?;
        // A name whose escapes spell no Unicode text (serde_json lets `\udc00` through)
        // may or may not have been the header asked for: refused, not guessed at.
        if members
            .iter()
            .any(|m| m.name.escaped && m.name.try_value(text).is_none())
        {
            return Err(unrecognised(format!(
                "{what} has a member name holding an unpaired surrogate escape (\\ud800-\\udfff alone), which is no Unicode text"
            )));
        }
        Ok(Some(Object {
            what,
            text,
            members,
        }))
    }

    fn raw(&self, value: (u32, u32)) -> &'t str {
        self.text
            .get(value.0 as usize..value.1 as usize)
            .unwrap_or_default()
    }

    /// The object member `name` (`None` when absent or null), read as its own object.
    ///
    /// # Errors
    /// `unrecognised_event` when the member is there twice or is not an object.
    fn object(&self, name: &'static str) -> Result<Option<Object<'t>>, Refusal> {
        let mut named = self.members.iter().filter(|m| m.name.is(self.text, name));
        match (named.next(), named.next()) {
            (None, _) => Ok(None),
            (Some(member), None) => {
                let raw = self.raw(member.value);
                if raw == "null" {
                    return Ok(None);
                }
                let members = json::skim_members(raw, 0).ok_or_else(|| {
                    unrecognised(format!(
                        "{}.{name} is {}, not an object",
                        self.what,
                        json::Kind::of(raw).name()
                    ))
                })?;
                Ok(Some(Object {
                    what: name,
                    text: raw,
                    members,
                }))
            }
            (Some(_), Some(_)) => Err(unrecognised(format!("{} has {name} twice", self.what))),
        }
    }

    /// The string member `name` (`None` when absent or null).
    ///
    /// # Errors
    /// `unrecognised_event` when the member is there twice or is not a string.
    fn string(&self, name: &str) -> Result<Option<Cow<'t, str>>, Refusal> {
        let mut named = self.members.iter().filter(|m| m.name.is(self.text, name));
        match (named.next(), named.next()) {
            (None, _) => Ok(None),
            (Some(member), None) => self.string_value(member.value, member.escaped, || {
                format!("{}.{name}", self.what)
            }),
            (Some(_), Some(_)) => Err(unrecognised(format!("{} has {name} twice", self.what))),
        }
    }

    /// The string at `value` (`None` for null); `path` names it in a refusal
    /// (`multiValueHeaders.Authorization[1]`).
    fn string_value(
        &self,
        value: (u32, u32),
        escaped: bool,
        path: impl FnOnce() -> String,
    ) -> Result<Option<Cow<'t, str>>, Refusal> {
        let raw = self.raw(value);
        match raw.as_bytes().first() {
            Some(b'n') => Ok(None),
            Some(b'"') if raw.len() >= 2 => Str::quoted(value, escaped)
                .try_value(self.text)
                .map(Some)
                .ok_or_else(|| {
                    unrecognised(format!(
                        "{} holds an unpaired surrogate escape (\\ud800-\\udfff alone), which is no Unicode text",
                        path()
                    ))
                }),
            _ => Err(unrecognised(format!(
                "{} is {}, not a string",
                path(),
                json::Kind::of(raw).name()
            ))),
        }
    }
}

/// Several `DPoP` headers: RFC 9449 §4.3 allows exactly one.
fn several_proofs(n: usize) -> Refusal {
    Refusal::new(
        Reason::InvalidProof,
        format!("{n} DPoP headers; a request carries exactly one proof"),
    )
}

/// The path of the request within its stage, from the route's ARN
/// (`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}`): what follows
/// `PUBLIC_BASE_URL`.
fn route_path(arn: &str) -> &str {
    arn.splitn(4, '/').nth(3).unwrap_or_default()
}

/// `unrecognised_event`, naming what was found.
fn unrecognised(detail: String) -> Refusal {
    Refusal::new(Reason::UnrecognisedEvent, detail)
}

enum Values<'a> {
    None,
    One(Cow<'a, str>),
    Several(usize),
}

/// A map of the event as text, and its member name.
type Map<'a> = (Option<&'a RawValue>, &'static str);

/// Finds a header or parameter case-insensitively, preferring the multi-value map (which
/// reveals repeats) over the single-value one (which keeps only the last, and is not
/// read at all when the multi-value map has the name). Nulls are no values.
///
/// # Errors
/// `unrecognised_event` when a value found is not a string (or, in the multi-value map,
/// not a list of them).
fn values<'a>((multi, single): (Map<'a>, Map<'a>), name: &str) -> Result<Values<'a>, Refusal> {
    let mut found: Vec<Cow<'a, str>> = Vec::new();
    let named = |map: &Object<'a>, m: &Member| m.name.value(map.text).eq_ignore_ascii_case(name);
    if let Some(map) = &Object::read(multi.0, multi.1)? {
        for m in map.members.iter().filter(|m| named(map, m)) {
            let raw = map.raw(m.value);
            if raw == "null" {
                continue;
            }
            let shown = m.name.value(map.text);
            let items = json::skim_items(map.text, m.value.0).ok_or_else(|| {
                unrecognised(format!(
                    "{}.{shown} is {}, not an array",
                    map.what,
                    json::Kind::of(raw).name()
                ))
            })?;
            for (at, (item, escaped)) in items.into_iter().enumerate() {
                found.extend(
                    map.string_value(item, escaped, || format!("{}.{shown}[{at}]", map.what))?,
                );
            }
        }
    }
    if found.is_empty()
        && let Some(map) = &Object::read(single.0, single.1)?
    {
        for m in map.members.iter().filter(|m| named(map, m)) {
            found.extend(map.string_value(m.value, m.escaped, || {
                format!("{}.{}", map.what, m.name.value(map.text))
            })?);
        }
    }
    Ok(match found.len() {
        0 => Values::None,
        1 => Values::One(found.swap_remove(0)),
        several => Values::Several(several),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        for event in [
            serde_json::json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x"}),
            serde_json::json!({"type": "REQUEST", "headers": {"Authorization": format!("Bearer {token}")}, "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x"}),
        ] {
            let event: AuthorizerEvent = serde_json::from_value(event).unwrap();
            assert!(!format!("{event:?}").contains("eyJ"), "{event:?}");
            let request = event
                .into_request(&GatewaySettings {
                    token_header: "authorization".into(),
                    token_query: None,
                    http_api_response: crate::settings::HttpApiResponse::Simple,
                    policy_resource: crate::settings::PolicyResource::Stage,
                    context: crate::settings::ContextSettings {
                        claims: None,
                        max_bytes: 4096,
                    },
                    appsync_ttl: 300,
                    client_certs: false,
                    source_ip: false,
                    dpop: false,
                    public_base_url: None,
                })
                .unwrap();
            assert_eq!(request.credential.as_deref(), Ok(token));
            let shown = format!("{request:?}");
            assert!(
                !shown.contains("eyJ") && shown.contains(&format!("{} bytes", token.len())),
                "{shown}"
            );
        }
    }
}
