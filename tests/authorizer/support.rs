//! What the integration tests share: the test keys, a loopback JWKS server that counts
//! requests and misbehaves on demand, event builders, and an authorizer factory.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use token_verifier::Algorithm;
use token_verifier::DecisionRecord;
use token_verifier::tool::dev::{SigningKey, jwks};
use token_verifier::{Answer, Authorizer, AuthorizerEvent, Config, Failure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) const ISSUER: &str = "https://idp.example.com/";
pub(crate) const AUDIENCE: &str = "https://api.example.com";
pub(crate) const METHOD_ARN: &str =
    "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/messages";
pub(crate) const STAGE_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*";

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A test key from `tests/keys` (see its README for how each was made).
pub(crate) fn key(file: &str, kid: &str, alg: Algorithm) -> SigningKey {
    let pem = std::fs::read_to_string(repo_path(&format!("tests/keys/{file}"))).unwrap();
    SigningKey::from_pem(&pem, kid, alg).unwrap()
}

pub(crate) fn rsa_a() -> SigningKey {
    key("rsa-a.pem", "rsa-a", Algorithm::RS256)
}
pub(crate) fn rsa_b() -> SigningKey {
    key("rsa-b.pem", "rsa-b", Algorithm::RS256)
}
pub(crate) fn ec_p256() -> SigningKey {
    key("ec-p256.pem", "ec-p256", Algorithm::ES256)
}
pub(crate) fn ec_p384() -> SigningKey {
    key("ec-p384.pem", "ec-p384", Algorithm::ES384)
}
pub(crate) fn ed25519() -> SigningKey {
    key("ed25519.pem", "ed25519", Algorithm::EdDSA)
}

pub(crate) fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// Valid access-token claims for [`ISSUER`] and [`AUDIENCE`], merged with `extra`
/// (a `null` in `extra` removes the claim).
pub(crate) fn claims(extra: Value) -> Value {
    let now = unix_now();
    let mut base = json!({
        "iss": ISSUER, "sub": "user-123", "aud": AUDIENCE, "iat": now - 10, "exp": now + 600,
        "scope": "openid read:messages", "client_id": "spa-client", "jti": "abc",
    });
    if let Value::Object(extra) = extra {
        for (name, value) in extra {
            if value.is_null() {
                base.as_object_mut().unwrap().remove(&name);
            } else {
                base[name] = value;
            }
        }
    }
    base
}

// ---------------------------------------------------------------- events

pub(crate) fn rest_token(authorization: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN})
}

pub(crate) fn rest_request(headers: Value) -> Value {
    let multi: Map<String, Value> = headers
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    json!({
        "type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/messages", "path": "/messages",
        "httpMethod": "GET", "headers": headers, "multiValueHeaders": multi,
        "queryStringParameters": {}, "multiValueQueryStringParameters": {},
        "pathParameters": {}, "stageVariables": {},
        "requestContext": {"accountId": "123456789012", "apiId": "abcdef1234", "stage": "prod",
                           "httpMethod": "GET", "resourcePath": "/messages", "requestId": "r-1"},
    })
}

pub(crate) fn http_v1(authorization: &str) -> Value {
    json!({
        "version": "1.0", "type": "REQUEST", "methodArn": METHOD_ARN,
        "identitySource": authorization, "authorizationToken": authorization,
        "resource": "/messages", "path": "/messages", "httpMethod": "GET",
        "headers": {"authorization": authorization, "host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
        "queryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": {"accountId": "123456789012", "apiId": "abcdef1234", "stage": "prod",
                           "httpMethod": "GET", "routeKey": "GET /messages", "requestId": "r-1"},
    })
}

pub(crate) fn http_v2(authorization: &str) -> Value {
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": METHOD_ARN, "identitySource": [authorization], "routeKey": "GET /messages",
        "rawPath": "/messages", "rawQueryString": "",
        "headers": {"authorization": authorization, "host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {"accountId": "123456789012", "apiId": "abcdef1234", "stage": "prod",
                           "http": {"method": "GET", "path": "/messages", "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9", "userAgent": "curl/8"},
                           "requestId": "r-1", "routeKey": "GET /messages", "timeEpoch": 1_700_000_000_000_i64},
    })
}

pub(crate) const WS_ARN: &str =
    "arn:aws:execute-api:us-east-1:123456789012:wsapi12345/prod/$connect";

pub(crate) fn websocket(query_token: &str) -> Value {
    json!({
        "type": "REQUEST", "methodArn": WS_ARN,
        "headers": {"Host": "wsapi12345.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Host": ["wsapi12345.execute-api.us-east-1.amazonaws.com"], "Sec-WebSocket-Version": ["13"]},
        "queryStringParameters": {"token": query_token},
        "multiValueQueryStringParameters": {"token": [query_token]},
        "stageVariables": {},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "messageDirection": "IN",
                           "connectionId": "c-1", "apiId": "wsapi12345", "stage": "prod", "requestId": "r-1"},
    })
}

// ---------------------------------------------------------------- authorizer

pub(crate) fn config(vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::from([
        ("TOKEN_ISSUER".to_owned(), ISSUER.to_owned()),
        ("AUDIENCE".to_owned(), AUDIENCE.to_owned()),
    ]);
    for (k, v) in vars {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_lookup(|name| map.get(name).cloned()).unwrap()
}

/// An authorizer whose keys come from `server`, prefetched.
pub(crate) async fn authorizer(server: &JwksServer, vars: &[(&str, &str)]) -> Authorizer {
    let uri = server.url("/jwks");
    let mut all = vec![("JWKS_URI", uri.as_str())];
    all.extend_from_slice(vars);
    let authorizer = Authorizer::new(config(&all)).unwrap();
    authorizer.prefetch().await;
    authorizer
}

/// An authorizer with a fixed key set (no network).
pub(crate) fn fixed_authorizer(keys: &[&SigningKey], vars: &[(&str, &str)]) -> Authorizer {
    let document = jwks(keys).to_string();
    let mut all = vec![("JWKS_JSON", document.as_str())];
    all.extend_from_slice(vars);
    Authorizer::new(config(&all)).unwrap()
}

pub(crate) struct Decided {
    pub answer: Result<Value, Failure>,
    pub record: DecisionRecord,
}

impl Decided {
    pub(crate) fn reason(&self) -> &'static str {
        self.record
            .refusal
            .as_ref()
            .map_or("ok", |r| r.reason.code())
    }
    /// What exactly was wrong (the refusal's detail), or "" when allowed.
    pub(crate) fn detail(&self) -> &str {
        self.record
            .refusal
            .as_ref()
            .map_or("", |r| r.detail.as_str())
    }
    pub(crate) fn allowed(&self) -> Value {
        match &self.answer {
            Ok(v) => v.clone(),
            Err(e) => panic!(
                "expected an answer, got {e:?}; refusal {:?}",
                self.record.refusal
            ),
        }
    }
}

/// The status `explain` gives the binding check (`SENDER_CONSTRAINT`).
pub(crate) fn binding_status(
    report: &token_verifier::tool::explain::Report,
) -> token_verifier::tool::explain::Status {
    report
        .steps
        .iter()
        .find(|s| s.check == token_verifier::Check::Binding)
        .map(|s| s.status.clone())
        .unwrap()
}

/// A policy answer's statements: effect and resources, in order.
pub(crate) fn statements(answer: &Value) -> Vec<(String, Vec<String>)> {
    answer["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let resources = s["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            (s["Effect"].as_str().unwrap().to_owned(), resources)
        })
        .collect()
}

/// Whether API Gateway lets a call to `arn` through under a policy answer, as IAM
/// evaluates it: an explicit Deny wins, then an Allow; `*` spans any characters, `/` too.
pub(crate) fn lets_through(answer: &Value, arn: &str) -> bool {
    let resources = |effect: &str| -> Vec<String> {
        statements(answer)
            .into_iter()
            .filter(|(e, _)| e == effect)
            .flat_map(|(_, resources)| resources)
            .collect()
    };
    token_verifier::testing::iam_allows(&resources("Allow"), &resources("Deny"), arn)
}

pub(crate) async fn decide(authorizer: &Authorizer, event: Value) -> Decided {
    decide_text(authorizer, &event.to_string()).await
}

/// The event's JSON text read as `lambda_runtime` reads it, then decided.
pub(crate) async fn decide_text(authorizer: &Authorizer, event: &str) -> Decided {
    let event: AuthorizerEvent = token_verifier::tool::dev::lambda_event(event.as_bytes()).unwrap();
    let (answer, record) = authorizer.decide(event, token_verifier::now()).await;
    Decided {
        answer: answer.map(|a: Answer| serde_json::to_value(a).unwrap()),
        record,
    }
}

// ---------------------------------------------------------------- JWKS server

/// How the server answers one path.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// 200 with this JSON body.
    Json(String),
    /// This status and body.
    Status(u16, String),
    /// 302 to this location.
    Redirect(String),
    /// Accept, read the request, never answer.
    Hang,
    /// 200 with a body sent one byte per interval.
    Trickle(String, Duration),
    /// Close the connection without answering.
    Close,
    /// Wait, then answer as the inner reply.
    Delayed(Duration, Box<Reply>),
    /// 200 with a chunked body that never ends, sent as fast as the client reads.
    Endless,
    /// 200 announcing a longer body than it sends, then keeping the connection open.
    ShortBody,
}

#[derive(Default)]
struct ServerState {
    routes: HashMap<String, Reply>,
    hits: HashMap<String, usize>,
}

/// A loopback HTTP/1.1 server that serves key sets and discovery documents, counts
/// requests per path, and misbehaves on demand.
#[derive(Clone)]
pub(crate) struct JwksServer {
    pub port: u16,
    state: Arc<Mutex<ServerState>>,
    total: Arc<AtomicUsize>,
}

impl JwksServer {
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = JwksServer {
            port,
            state: Arc::default(),
            total: Arc::default(),
        };
        let accept = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = accept.clone();
                tokio::spawn(async move { handler.serve(stream).await });
            }
        });
        server
    }

    /// A server whose `/jwks` serves these keys.
    pub(crate) async fn with_keys(keys: &[&SigningKey]) -> Self {
        let server = Self::start().await;
        server.set_keys(keys);
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn set(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_owned(), reply);
    }

    pub(crate) fn set_keys(&self, keys: &[&SigningKey]) {
        self.set("/jwks", Reply::Json(jwks(keys).to_string()));
    }

    pub(crate) fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn total_hits(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    async fn serve(&self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
        self.total.fetch_add(1, Ordering::SeqCst);
        let reply = {
            let mut state = self.state.lock().unwrap();
            *state.hits.entry(path.clone()).or_default() += 1;
            state.routes.get(&path).cloned()
        };
        let reply = reply.unwrap_or(Reply::Status(404, "not found".into()));
        Self::answer(&mut stream, reply).await;
    }

    async fn answer(stream: &mut TcpStream, mut reply: Reply) {
        while let Reply::Delayed(delay, inner) = reply {
            tokio::time::sleep(delay).await;
            reply = *inner;
        }
        let response = match reply {
            Reply::Json(body) => http(200, "application/json", &body, None),
            Reply::Status(code, body) => http(code, "text/html", &body, None),
            Reply::Redirect(location) => http(302, "text/plain", "", Some(&location)),
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Close => return,
            Reply::Trickle(body, interval) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for byte in body.bytes() {
                    tokio::time::sleep(interval).await;
                    if stream.write_all(&[byte]).await.is_err() {
                        return;
                    }
                }
                return;
            }
            Reply::Endless => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut chunk = format!("{:x}\r\n{{\"keys\":[", 64 * 1024).into_bytes();
                chunk.extend(std::iter::repeat_n(b' ', 64 * 1024 - 9));
                chunk.extend_from_slice(b"\r\n");
                // Ends only when the client hangs up (its size cap or its deadline).
                while stream.write_all(&chunk).await.is_ok() {}
                return;
            }
            Reply::ShortBody => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n{\"keys\":[";
                if stream.write_all(head.as_bytes()).await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                return;
            }
            Reply::Delayed(..) => unreachable!(),
        };
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }
}

fn http(code: u16, content_type: &str, body: &str, location: Option<&str>) -> String {
    let location = location
        .map(|l| format!("location: {l}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {code} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{location}connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Moves tokio's clock forward by `by` while real I/O keeps working before and after
/// (the clock is paused only for the jump).
pub(crate) async fn time_travel(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}
