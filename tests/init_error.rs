//! A function that cannot start tells Lambda why: the authorizer binary, given a broken
//! configuration, logs its one line and posts the same line to the Runtime API's
//! `/runtime/init/error` before it exits — here a Runtime API of our own on loopback, which
//! records what it is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// One request as the fake Runtime API received it.
#[derive(Debug)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A Runtime API that answers every request `202 Accepted` and hands it over.
fn runtime_api() -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_owned();
            let path = parts.next().unwrap_or_default().to_owned();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = stream.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 16\r\nconnection: close\r\n\r\n{\"status\":\"OK\"}\n",
            );
            let _ = sender.send(Received {
                method,
                path,
                headers,
                body,
            });
        }
    });
    (address, received)
}

/// Starts the authorizer with only `vars` (and the Runtime API), waits for it to exit, and
/// returns its exit status, its log lines and what the Runtime API received.
fn start(vars: &[(&str, &str)]) -> (std::process::ExitStatus, Vec<Value>, Vec<Received>) {
    let (api, received) = runtime_api();
    let mut command = Command::new(env!("CARGO_BIN_EXE_authorizer"));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let lines = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let mut requests = Vec::new();
    while let Ok(request) = received.recv_timeout(Duration::from_millis(200)) {
        requests.push(request);
    }
    (output.status, lines, requests)
}

#[test]
fn a_configuration_error_reaches_the_runtime_api_with_the_variable_at_fault() {
    let (status, lines, requests) = start(&[("TOKEN_ISSUER", "https://acme.us.auth0.com/")]);
    assert!(!status.success(), "{status}");
    let logged = lines
        .iter()
        .find(|line| line["message"] == "cannot start")
        .unwrap_or_else(|| panic!("no 'cannot start' line in {lines:?}"));
    let message = logged["error"].as_str().unwrap();
    assert!(
        message.starts_with("configuration error: AUDIENCE: is required"),
        "{message}"
    );
    assert_eq!(logged["error_type"], "Config.AUDIENCE");

    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/2018-06-01/runtime/init/error");
    assert_eq!(
        request.header("Lambda-Runtime-Function-Error-Type"),
        Some("Config.AUDIENCE")
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["errorMessage"], message, "the same line as the log");
    assert_eq!(body["errorType"], "Config.AUDIENCE");
}

#[test]
fn a_key_set_that_cannot_be_read_names_its_variable() {
    let (status, _, requests) = start(&[
        ("TOKEN_ISSUER", "https://acme.us.auth0.com/"),
        ("AUDIENCE", "https://api.acme.example"),
        ("JWKS_FILE", "/nonexistent/jwks.json"),
    ]);
    assert!(!status.success());
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["errorType"], "Config.JWKS_FILE");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("configuration error: JWKS_FILE: cannot read /nonexistent/jwks.json"),
        "{body}"
    );
}

#[test]
fn a_function_that_starts_reports_no_init_error() {
    // A valid configuration: the function starts and polls for its first event, which
    // this Runtime API never gives it; no init error is posted.
    let (api, received) = runtime_api();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authorizer"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("TOKEN_ISSUER", "https://dev-issuer.token-verifier.example/")
        .env("AUDIENCE", "https://api.example.com")
        .env("JWKS_JSON", include_str!("../events/dev-jwks.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = received.recv_timeout(Duration::from_secs(10)).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/2018-06-01/runtime/invocation/next");
}
