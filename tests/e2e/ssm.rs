//! The configuration document and key snapshots through a real SSM API (moto), with the
//! built authorizer under the Lambda emulator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use serde_json::{Value, json};
use token_verifier::testing::snapshot_name;
use token_verifier::tool::dev::jwks;

use crate::emulator::{Emulator, allowed};
use crate::moto::Moto;
use crate::support::*;

const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

async fn emulator(name: &str, moto: &Moto, vars: &[(&str, &str)]) -> Emulator {
    let ssm = moto.env();
    let mut all: Vec<(&str, &str)> = ssm.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(vars);
    Emulator::start(name, &all).await
}

fn doc(audience: &str, server: &JwksServer) -> String {
    json!({"issuers": [{"issuer": ISSUER, "audiences": [audience], "jwks_uri": server.url("/jwks")}]}).to_string()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_secure_string_document_is_loaded_reloaded_and_a_bad_one_ignored() {
    let moto = Moto::start("reload").await;
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    moto.put("/tv/config", &doc("https://old-api", &server), true)
        .await;
    let emulator = emulator(
        "ssm-reload",
        &moto,
        &[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("CONFIG_TTL_SECONDS", "1"),
        ],
    )
    .await;
    let token = key
        .mint(&claims(json!({"aud": "https://new-api"})))
        .unwrap();
    assert!(!allowed(&emulator.bearer(&token).await));

    moto.put("/tv/config", &doc("https://new-api", &server), true)
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = emulator.bearer(&token).await;
    assert!(allowed(&answer), "{answer}\n{}", emulator.log());

    moto.put("/tv/config", "{\"issuers\": [}", true).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        allowed(&emulator.bearer(&token).await),
        "last good configuration kept"
    );
    let lines = emulator.json_lines();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "configuration reloaded" && l["version"] == 2)
    );
    assert!(
        lines.iter().any(|l| l["message"]
            == "the new configuration is invalid; keeping the last good configuration")
    );
    assert_eq!(
        server.hits("/jwks"),
        1,
        "the reload kept the issuer's key cache"
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_missing_parameter_or_invalid_document_fails_init_with_one_line() {
    let moto = Moto::start("init").await;
    moto.put(
        "/tv/bad",
        r#"{"issuers": [{"issuer": "https://x/", "audiences": []}]}"#,
        false,
    )
    .await;
    for (parameter, expected) in [
        (
            "/tv/none",
            "configuration error: CONFIG_PARAMETER /tv/none: no such parameter",
        ),
        (
            "/tv/bad",
            "configuration error: CONFIG_PARAMETER /tv/bad: issuers[0].audiences: at least one audience is required",
        ),
    ] {
        let emulator = emulator(
            &format!("ssm-init{}", parameter.replace('/', "-")),
            &moto,
            &[("CONFIG_PARAMETER", parameter)],
        )
        .await;
        let answer = emulator.invoke(&rest_token("Bearer x")).await;
        assert!(answer.get("policyDocument").is_none());
        let errors: Vec<Value> = emulator
            .json_lines()
            .into_iter()
            .filter(|l| l["level"] == "ERROR")
            .collect();
        assert_eq!(errors.len(), 1, "{}", emulator.log());
        assert!(
            errors[0]["error"].as_str().unwrap().starts_with(expected),
            "{}",
            errors[0]
        );
    }
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn several_issuers_presets_and_route_rules_in_both_api_shapes() {
    let moto = Moto::start("routes").await;
    let (auth0_key, cognito_key) = (rsa_a(), ec_p256());
    let cognito_iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool";
    let document = json!({
        "issuers": [
            {"issuer": ISSUER, "preset": "auth0", "audiences": [AUDIENCE], "jwks": jwks(&[&auth0_key])},
            {"issuer": cognito_iss, "preset": "cognito", "audiences": ["app-client"], "jwks": jwks(&[&cognito_key]), "algorithms": ["ES256"]},
        ],
        "routes": {"default": "deny", "rules": [
            {"route": "GET /messages", "scopes": ["read:messages", "readers"], "scope_match": "any"},
            {"route": "* /tenants/{tenant}/**", "claims": {"tenant_id": "{tenant}"}},
        ]},
    });
    moto.put("/tv/config", &document.to_string(), false).await;
    let emulator = emulator("ssm-routes", &moto, &[("CONFIG_PARAMETER", "/tv/config")]).await;
    let auth0 = auth0_key
        .mint(&claims(
            json!({"permissions": ["read:messages"], "tenant_id": "acme", "scope": null}),
        ))
        .unwrap();
    let now = unix_now();
    let cognito = cognito_key
        .mint(&json!({"iss": cognito_iss, "sub": "u-1", "username": "jane", "client_id": "app-client", "token_use": "access",
                      "cognito:groups": ["readers"], "iat": now, "exp": now + 600}))
        .unwrap();
    let rest = |route: &str, token: &str| {
        let mut event = rest_token(&format!("Bearer {token}"));
        event["methodArn"] = json!(format!("{STAGE}/{route}"));
        event
    };
    let v2 = |route: &str, token: &str| {
        let mut event = http_v2(&format!("Bearer {token}"));
        event["routeArn"] = json!(format!("{STAGE}/{route}"));
        event
    };
    // REST: one cache-safe policy per token listing exactly its routes.
    let answer = emulator.invoke(&rest("GET/messages", &auth0)).await;
    assert_eq!(
        answer["policyDocument"]["Statement"][0]["Resource"],
        json!([
            format!("{STAGE}/GET/messages"),
            format!("{STAGE}/*/tenants/acme/*")
        ])
    );
    let answer = emulator.invoke(&rest("GET/messages", &cognito)).await;
    assert_eq!(answer["principalId"], "jane");
    assert_eq!(answer["context"]["cognito:groups"], r#"["readers"]"#);
    // HTTP API: decided per route.
    assert_eq!(
        emulator.invoke(&v2("GET/tenants/acme/x", &auth0)).await["isAuthorized"],
        true
    );
    assert_eq!(
        emulator.invoke(&v2("GET/tenants/globex/x", &auth0)).await["isAuthorized"],
        false
    );
    assert_eq!(
        emulator.invoke(&v2("DELETE/other", &cognito)).await["isAuthorized"],
        false
    );
    let reasons: Vec<String> = emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        ["ok", "ok", "ok", "claim_mismatch", "route_not_allowed"]
    );
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_key_snapshot_carries_a_cold_start_through_an_idp_outage() {
    let moto = Moto::start("snapshot").await;
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let uri = server.url("/jwks");
    let vars = [
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_URI", uri.as_str()),
        ("JWKS_SNAPSHOT_PARAMETER", "/tv/jwks"),
    ];
    let token = key.mint(&claims(json!({}))).unwrap();
    {
        let warm = emulator("ssm-snapshot-1", &moto, &vars).await;
        assert!(allowed(&warm.bearer(&token).await));
    }
    let stored = moto
        .get(&snapshot_name("/tv/jwks", ISSUER))
        .await
        .expect("snapshot saved in SSM");
    assert!(stored.contains("rsa-a") && !stored.contains("\"d\""));

    server.set("/jwks", Reply::Status(503, "down".into()));
    let cold = emulator("ssm-snapshot-2", &moto, &vars).await;
    let answer = cold.bearer(&token).await;
    assert!(allowed(&answer), "{answer}\n{}", cold.log());
    assert_eq!(cold.decisions()[0]["keys"], "snapshot");
    let used = cold
        .json_lines()
        .into_iter()
        .find(|l| l["message"] == "the IdP is unreachable: using the last-known-good key snapshot")
        .unwrap();
    assert!(used["age_s"].is_u64());
}

/// A TCP proxy in front of moto that can go quiet: while `quiet` is set, what the function
/// sends (on new connections and on the ones it keeps) is read and never answered — an SSM
/// endpoint that accepted the call and hangs.
struct QuietableProxy {
    url: String,
    quiet: Arc<AtomicBool>,
}

impl QuietableProxy {
    async fn start(upstream: &str) -> QuietableProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let quiet = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&quiet);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let quiet = Arc::clone(&flag);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let requests = async {
                        let mut buffer = vec![0; 16 * 1024];
                        loop {
                            let n = client_read.read(&mut buffer).await.unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            if !quiet.load(Ordering::SeqCst) {
                                let _ = server_write.write_all(&buffer[..n]).await;
                            }
                        }
                    };
                    let answers = tokio::io::copy(&mut server_read, &mut client_write);
                    let _ = tokio::join!(requests, answers);
                });
            }
        });
        QuietableProxy { url, quiet }
    }
}

/// A reload against an SSM that stops answering holds the request that starts it for at
/// most half a second, answered with the last good configuration; the next read waits for
/// the back-off. An issuer a reload adds has its keys fetched with the trigger `reload`.
#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_reload_against_a_hanging_ssm_is_bounded_and_an_added_issuer_is_fetched_on_reload() {
    let moto = Moto::start("hang").await;
    let proxy = QuietableProxy::start(&moto.url).await;
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let other = JwksServer::with_keys(&[&key]).await;
    moto.put("/tv/config", &doc(AUDIENCE, &server), false).await;
    let vars: Vec<(&str, String)> = moto
        .env()
        .into_iter()
        .map(|(k, v)| {
            if k == "AWS_ENDPOINT_URL_SSM" {
                (k, proxy.url.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend([
        ("CONFIG_PARAMETER", "/tv/config"),
        ("CONFIG_TTL_SECONDS", "1"),
    ]);
    let emulator = Emulator::start("ssm-hang", &all).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    assert!(allowed(&emulator.bearer(&token).await));

    // A second issuer: the reload fetches its keys, labelled as a reload's.
    let added = json!({"issuers": [
        {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_uri": server.url("/jwks")},
        {"issuer": "https://second.example/", "audiences": [AUDIENCE], "jwks_uri": other.url("/jwks")},
    ]});
    moto.put("/tv/config", &added.to_string(), false).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(allowed(&emulator.bearer(&token).await));
    assert_eq!(other.hits("/jwks"), 1, "{}", emulator.log());

    // SSM goes quiet: one request waits for it, at most the bound, and is allowed.
    proxy.quiet.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(allowed(&emulator.bearer(&token).await));
    assert!(
        allowed(&emulator.bearer(&token).await),
        "not due again at once"
    );
    let lines = emulator.json_lines();
    let fetches: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "key set fetched")
        .map(|l| &l["trigger"])
        .collect();
    assert_eq!(
        fetches,
        [&json!("init"), &json!("reload")],
        "{}",
        emulator.log()
    );
    let metric_triggers: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("KeyFetches").is_some())
        .map(|l| &l["Trigger"])
        .collect();
    assert_eq!(metric_triggers, [&json!("init"), &json!("reload")]);
    let slow = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("configuration not re-read"))
        })
        .unwrap_or_else(|| panic!("no failed reload in {}", emulator.log()));
    assert!(
        slow["message"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{slow}"
    );
    let latencies: Vec<u64> = emulator
        .decisions()
        .iter()
        .map(|d| d["latency_us"].as_u64().unwrap())
        .collect();
    let held = latencies.iter().filter(|l| **l >= 400_000).count();
    assert_eq!(held, 1, "one request waited for SSM: {latencies:?}");
    assert!(
        latencies.iter().all(|l| *l < 1_500_000),
        "bounded: {latencies:?}"
    );
}
