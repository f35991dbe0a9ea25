//! Every front door without an authorizer, through the real Lambda runtime: the sample API
//! verifying tokens itself with token-verifier's tower layer (`lambda_http`), under the
//! AWS Lambda Runtime Interface Emulator, fed the proxy events of `events/front-doors/`
//! (API Gateway REST and HTTP API proxy integrations, a Function URL, an ALB).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../../tests/support/rie.rs"]
mod rie;
use rie::{emulator_path, free_port};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

struct Function {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Function {
    /// The sample API under the emulator, with the variables `events/env.json` gives it.
    fn start() -> Function {
        let env: Value =
            serde_json::from_str(&std::fs::read_to_string(root().join("events/env.json")).unwrap())
                .unwrap();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("front-doors.log");
        let port = free_port();
        let mut command = Command::new(emulator_path(root()));
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{}", free_port()))
            .arg(env!("CARGO_BIN_EXE_messages"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_FUNCTION_NAME", "messages")
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log).unwrap(),
            ));
        for (name, value) in env["MessagesVerifiedFunction"].as_object().unwrap() {
            command.env(name, value.as_str().unwrap());
        }
        let child = command.spawn().expect("the emulator starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the emulator did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Function {
            child,
            url: format!("http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"),
            log,
        }
    }

    async fn invoke(&self, event_file: &str) -> Value {
        let event =
            std::fs::read_to_string(root().join("events/front-doors").join(event_file)).unwrap();
        let response = reqwest::Client::new()
            .post(&self.url)
            .body(event)
            .send()
            .await
            .unwrap();
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    }

    fn decisions(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["message"] == "decision")
            .collect()
    }
}

fn header<'a>(answer: &'a Value, name: &str) -> Option<&'a str> {
    answer["headers"][name]
        .as_str()
        .or_else(|| answer["multiValueHeaders"][name][0].as_str())
}

fn body(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator from aws-sam-cli; run scripts/test"]
async fn every_front_door_through_the_emulator() {
    let function = Function::start();
    // Allowed through each front door: the handler read the caller from the layer.
    for (event, shape) in [
        ("apigw-rest-proxy.json", "apigw_rest_proxy"),
        ("apigw-http-proxy.json", "apigw_http_proxy"),
        ("function-url.json", "function_url"),
        ("alb.json", "alb"),
    ] {
        let answer = function.invoke(event).await;
        assert_eq!(answer["statusCode"], 200, "{event}: {answer}");
        let messages = body(&answer);
        assert_eq!(messages["messages"][0]["to"], "auth0|dev-user", "{event}");
        let decision = function.decisions().pop().unwrap();
        assert_eq!(
            (&decision["outcome"], &decision["shape"]),
            (&"allow".into(), &shape.into()),
            "{event}: {decision}"
        );
    }
    // Refused by the layer before the handler, as RFC 6750 says.
    for (event, status, challenge, reason) in [
        (
            "function-url-missing-token.json",
            401,
            r#"Bearer realm="messages""#,
            "missing_token",
        ),
        (
            "function-url-expired.json",
            401,
            r#"Bearer realm="messages", error="invalid_token", error_description="expired""#,
            "expired",
        ),
        (
            "alb-opaque-token.json",
            401,
            r#"Bearer realm="messages", error="invalid_token", error_description="opaque_token""#,
            "opaque_token",
        ),
        (
            "function-url-no-scope.json",
            403,
            r#"Bearer realm="messages", error="insufficient_scope", error_description="insufficient_scope", scope="read:messages""#,
            "insufficient_scope",
        ),
    ] {
        let answer = function.invoke(event).await;
        assert_eq!(answer["statusCode"], status, "{event}: {answer}");
        assert_eq!(
            header(&answer, "www-authenticate"),
            Some(challenge),
            "{event}"
        );
        assert_eq!(body(&answer)["error"], reason, "{event}");
        let decision = function.decisions().pop().unwrap();
        assert_eq!(decision["reason"], reason, "{event}: {decision}");
    }
    // The authorizer's EMF metric line beside each decision line.
    let log = std::fs::read_to_string(&function.log).unwrap();
    let metrics: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), function.decisions().len());
    assert_eq!(
        metrics
            .iter()
            .map(|m| m["Reason"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "ok",
            "ok",
            "ok",
            "ok",
            "missing_token",
            "expired",
            "opaque_token",
            "insufficient_scope"
        ]
    );
    // Never a token in the log.
    for event in std::fs::read_dir(root().join("events/front-doors")).unwrap() {
        let text = std::fs::read_to_string(event.unwrap().path()).unwrap();
        for word in text.split('"').filter(|w| w.starts_with("Bearer ey")) {
            assert!(!log.contains(&word[7..]), "a token in the log");
        }
    }
}
