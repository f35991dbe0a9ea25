//! The real OpenID Provider of `tests/op` (panva/oidc-provider) on a loopback port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Installs the pinned tools (emulator, OpenID Provider) once per test process.
pub(crate) fn ensure_tools() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new(root.join("scripts/tools"))
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .expect("scripts/tools runs");
        assert!(status.success(), "scripts/tools failed");
    });
}

/// A running provider. Its keys are generated at start; restarting with another
/// `generation` rotates every key (new kids).
pub(crate) struct Provider {
    child: Child,
    pub port: u16,
    pub issuer: String,
    client: reqwest::Client,
    log: PathBuf,
}

impl Provider {
    pub(crate) async fn start(name: &str, port: Option<u16>, generation: &str) -> Provider {
        ensure_tools();
        let port = port.unwrap_or_else(|| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let log =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("op-{name}-{generation}.log"));
        let child = Command::new("node")
            .arg(root.join("tests/op/op.mjs"))
            .env("PORT", port.to_string())
            .env("KEY_GENERATION", generation)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("node starts the provider");
        let provider = Provider {
            child,
            port,
            issuer: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            log,
        };
        let started = Instant::now();
        loop {
            let ready = provider
                .client
                .get(format!(
                    "{}/.well-known/openid-configuration",
                    provider.issuer
                ))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "provider did not start:\n{}",
                provider.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        provider
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A `client_credentials` access token; a JWT for `resource`, opaque without one.
    pub(crate) async fn access_token(&self, resource: Option<&str>) -> String {
        self.client_credentials(resource, ("svc", "svc-secret"), None, None)
            .await
            .0
    }

    /// A DPoP-bound (RFC 9449) access token of `svc` for `resource`, requested with a
    /// proof by `key` for the token endpoint: the provider binds it to that key
    /// (`cnf.jkt`). Returns it with the answer's `token_type`.
    pub(crate) async fn dpop_access_token(
        &self,
        resource: &str,
        key: &token_verifier::tool::dev::SigningKey,
    ) -> (String, String) {
        #[allow(clippy::cast_precision_loss)]
        let now = crate::support::unix_now() as f64;
        let endpoint = format!("{}/token", self.issuer);
        let proof = key
            .dpop_proof("POST", &endpoint, None, now, &format!("token-{now}"))
            .unwrap();
        self.client_credentials(Some(resource), ("svc", "svc-secret"), None, Some(&proof))
            .await
    }

    /// A certificate-bound (RFC 8705) access token of the client `svc-mtls` for `resource`,
    /// bound to `certificate` (PEM), which the provider reads from `x-ssl-client-cert` as
    /// from a TLS-terminating proxy.
    pub(crate) async fn bound_access_token(&self, resource: &str, certificate: &str) -> String {
        self.client_credentials(
            Some(resource),
            ("svc-mtls", "svc-mtls-secret"),
            Some(certificate),
            None,
        )
        .await
        .0
    }

    async fn client_credentials(
        &self,
        resource: Option<&str>,
        (client, secret): (&str, &str),
        certificate: Option<&str>,
        dpop: Option<&str>,
    ) -> (String, String) {
        let mut body = "grant_type=client_credentials&scope=read%3Amessages".to_owned();
        if let Some(resource) = resource {
            body.push_str("&resource=");
            body.push_str(&resource.replace(':', "%3A").replace('/', "%2F"));
        }
        let mut request = self
            .client
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(certificate) = certificate {
            let encoded: String = certificate
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            request = request.header("x-ssl-client-cert", encoded);
        }
        if let Some(proof) = dpop {
            request = request.header("dpop", proof);
        }
        let response: Value = request
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        let token = response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {response}"))
            .to_owned();
        (
            token,
            response["token_type"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// An opaque access token of `user-1` (scope `openid email`), as after a login.
    pub(crate) async fn user_access_token(&self) -> String {
        self.test_token("/test/user-access-token", "access_token")
            .await
    }

    /// An ID token the provider signs for the client `svc`.
    pub(crate) async fn id_token(&self) -> String {
        self.test_token("/test/id-token", "id_token").await
    }

    /// The `member` of what the provider's test route `path` answers.
    async fn test_token(&self, path: &str, member: &str) -> String {
        let response: Value = self
            .client
            .get(format!("{}{path}", self.issuer))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        response[member]
            .as_str()
            .unwrap_or_else(|| panic!("no {member}: {response}"))
            .to_owned()
    }

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
