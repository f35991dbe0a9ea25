//! Starts the Lambda Runtime Interface Emulator with the authorizer binary and invokes it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulator binary (`TV_RIE`, or the pinned aws-sam-cli's), the tools installed once
/// for all tests first.
fn emulator_path() -> PathBuf {
    if std::env::var("TV_RIE").is_err() {
        crate::provider::ensure_tools();
    }
    crate::rie::emulator_path(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// One emulator process running one authorizer process.
pub(crate) struct Emulator {
    child: Child,
    url: String,
    log: PathBuf,
    client: reqwest::Client,
}

impl Emulator {
    /// Starts the emulator with the authorizer and these environment variables (and no
    /// other `AWS_*` or configuration variable of the test process).
    // The child that listens moves into the Emulator, whose Drop kills and waits for it.
    #[allow(clippy::zombie_processes)]
    pub(crate) async fn start(name: &str, vars: &[(&str, &str)]) -> Emulator {
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}.log"));
        // A port found free can be taken by a parallel test before the emulator binds it
        // (then the emulator exits at once): start again on other ports, twice at most.
        let mut attempt = 0;
        let (child, port) = loop {
            attempt += 1;
            let port = crate::rie::free_port();
            let api_port = crate::rie::free_port();
            let mut command = Command::new(emulator_path());
            command
                .arg("--runtime-interface-emulator-address")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--runtime-api-address")
                .arg(format!("127.0.0.1:{api_port}"))
                .arg(env!("CARGO_BIN_EXE_authorizer"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
                .env("AWS_REGION", "us-east-1")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(Stdio::from(
                    std::fs::File::options().append(true).open(&log).unwrap(),
                ));
            for (k, v) in vars {
                command.env(k, v);
            }
            let mut child = command.spawn().expect("the emulator starts");
            let started = Instant::now();
            let mut exited = false;
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if child.try_wait().ok().flatten().is_some() {
                    exited = true;
                    break;
                }
                if started.elapsed() >= Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("emulator did not listen");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if !exited {
                break (child, port);
            }
            assert!(
                attempt < 3,
                "the emulator exited at start three times: {}",
                log.display()
            );
        };
        Emulator {
            child,
            url: format!("http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"),
            log,
            client: reqwest::Client::new(),
        }
    }

    /// Invokes with a REST TOKEN event carrying `Bearer {token}`.
    pub(crate) async fn bearer(&self, token: &str) -> Value {
        self.invoke(&crate::support::rest_token(&format!("Bearer {token}")))
            .await
    }

    /// Invokes the function with `event` and returns what Lambda would return to API
    /// Gateway (errors arrive as HTTP 200 with `errorType`/`errorMessage`).
    pub(crate) async fn invoke(&self, event: &Value) -> Value {
        let response = self
            .client
            .post(&self.url)
            .body(event.to_string())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the emulator answers");
        let text = response.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// Everything the emulator and the function printed so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The function's JSON log lines.
    pub(crate) fn json_lines(&self) -> Vec<Value> {
        self.log()
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The decision log lines, in order.
    pub(crate) fn decisions(&self) -> Vec<Value> {
        self.json_lines()
            .into_iter()
            .filter(|l| l["target"] == "decision")
            .collect()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether an authorizer answer is a policy whose first statement allows.
pub(crate) fn policy_allows(answer: &Value) -> bool {
    answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
}

/// Whether an authorizer answer lets the request through: an Allow policy, or a simple
/// response with `isAuthorized`.
pub(crate) fn allowed(answer: &Value) -> bool {
    policy_allows(answer) || answer["isAuthorized"] == true
}
