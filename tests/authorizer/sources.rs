//! The configuration document and key snapshots from a parameter store (an in-memory one
//! here; `tests/e2e/ssm.rs` runs the same against a real SSM API served by moto).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use token_verifier::Authorizer;
use token_verifier::BoxFuture;
use token_verifier::EnvConfig;
use token_verifier::KeyOrigin;
use token_verifier::{Parameter, ParameterStore, testing::snapshot_name};

use crate::support::*;

/// An in-memory parameter store that counts reads, and hangs (never answers) while
/// `hang` is set: an SSM that accepted the call and went quiet.
#[derive(Default)]
pub(crate) struct MemoryStore {
    parameters: Mutex<HashMap<String, Parameter>>,
    pub gets: AtomicUsize,
    pub hang: AtomicBool,
}

impl MemoryStore {
    pub(crate) fn set(&self, name: &str, value: &str) {
        let mut parameters = self.parameters.lock().unwrap();
        let version = parameters.get(name).map_or(1, |p| p.version + 1);
        parameters.insert(
            name.to_owned(),
            Parameter {
                value: value.to_owned(),
                version,
            },
        );
    }
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        self.parameters
            .lock()
            .unwrap()
            .get(name)
            .map(|p| p.value.clone())
    }
}

impl ParameterStore for MemoryStore {
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Parameter>, String>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        if self.hang.load(Ordering::SeqCst) {
            return Box::pin(std::future::pending());
        }
        let found = self.parameters.lock().unwrap().get(name).cloned();
        Box::pin(async move { Ok(found) })
    }
    fn put<'a>(&'a self, name: &'a str, value: String) -> BoxFuture<'a, Result<(), String>> {
        self.set(name, &value);
        Box::pin(async { Ok(()) })
    }
}

pub(crate) fn env(vars: &[(&str, &str)]) -> EnvConfig {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    EnvConfig::from_lookup(|name| map.get(name).cloned()).unwrap()
}

/// The snapshot parameter's name in these tests.
pub(crate) const SNAPSHOT: &str = "/tv/jwks";

/// One issuer whose keys come from `jwks_uri`, snapshotted to [`SNAPSHOT`].
pub(crate) fn snapshotting(jwks_uri: &str) -> [(&'static str, &str); 4] {
    [
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_URI", jwks_uri),
        ("JWKS_SNAPSHOT_PARAMETER", SNAPSHOT),
    ]
}

pub(crate) fn document(server: &JwksServer, audience: &str) -> String {
    json!({"issuers": [{"issuer": ISSUER, "audiences": [audience], "jwks_uri": server.url("/jwks")}]}).to_string()
}

pub(crate) async fn load(store: &Arc<MemoryStore>, vars: &[(&str, &str)]) -> Authorizer {
    let store: Arc<dyn ParameterStore> = Arc::clone(store) as Arc<dyn ParameterStore>;
    let authorizer = Authorizer::load_with(env(vars), Some(store)).await.unwrap();
    authorizer.prefetch().await;
    authorizer
}

/// An authorizer whose one issuer (keys from `server`) comes from the document
/// `/tv/config` in `store`, re-read every `ttl_seconds`.
pub(crate) async fn load_document(
    store: &Arc<MemoryStore>,
    server: &JwksServer,
    ttl_seconds: &str,
) -> Authorizer {
    store.set("/tv/config", &document(server, AUDIENCE));
    load(
        store,
        &[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("CONFIG_TTL_SECONDS", ttl_seconds),
        ],
    )
    .await
}

pub(crate) fn bearer(token: &str) -> Value {
    rest_token(&format!("Bearer {token}"))
}

#[tokio::test]
async fn the_document_is_loaded_at_init_and_reloaded_after_the_ttl() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    store.set("/tv/config", &document(&server, "https://old-api"));
    let authorizer = load(
        &store,
        &[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("CONFIG_TTL_SECONDS", "60"),
        ],
    )
    .await;
    assert_eq!(authorizer.config_version(), Some(1));
    let new_aud = key
        .mint(&claims(json!({"aud": "https://new-api"})))
        .unwrap();
    assert_eq!(
        decide(&authorizer, bearer(&new_aud)).await.reason(),
        "wrong_audience"
    );

    store.set("/tv/config", &document(&server, "https://new-api"));
    for _ in 0..10 {
        assert_eq!(
            decide(&authorizer, bearer(&new_aud)).await.reason(),
            "wrong_audience",
            "within the TTL"
        );
    }
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        1,
        "no read within the TTL"
    );
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(
        decide(&authorizer, bearer(&new_aud)).await.reason(),
        "ok",
        "reloaded"
    );
    assert_eq!(authorizer.config_version(), Some(2));
    assert_eq!(
        server.hits("/jwks"),
        1,
        "the unchanged issuer kept its key cache"
    );
    // An unchanged version costs one read per TTL and rebuilds nothing.
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(decide(&authorizer, bearer(&new_aud)).await.reason(), "ok");
    assert_eq!(store.gets.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_bad_new_document_is_logged_and_the_last_good_one_kept() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    let authorizer = load_document(&store, &server, "60").await;
    let token = key.mint(&claims(json!({}))).unwrap();
    for bad in [
        "{not json".to_owned(),
        json!({"issuers": [{"issuer": ISSUER, "audiences": []}]}).to_string(),
        json!({"issuers": [{"issuer": ISSUER, "audiences": ["a"], "algorithms": ["none"]}]})
            .to_string(),
    ] {
        store.set("/tv/config", &bad);
        time_travel(Duration::from_secs(61)).await;
        assert_eq!(decide(&authorizer, bearer(&token)).await.reason(), "ok");
        assert_eq!(authorizer.config_version(), Some(1));
    }
}

#[tokio::test]
async fn a_missing_or_invalid_document_fails_init_with_one_line() {
    let store: Arc<dyn ParameterStore> = Arc::new(MemoryStore::default());
    let error = Authorizer::load_with(
        env(&[("CONFIG_PARAMETER", "/tv/none")]),
        Some(Arc::clone(&store)),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "configuration error: CONFIG_PARAMETER /tv/none: no such parameter"
    );
    let memory = Arc::new(MemoryStore::default());
    memory.set(
        "/tv/bad",
        r#"{"issuers": [{"issuer": "https://x/", "audiences": ["a"], "audince": 1}]}"#,
    );
    let store: Arc<dyn ParameterStore> = memory;
    let error = Authorizer::load_with(env(&[("CONFIG_PARAMETER", "/tv/bad")]), Some(store))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "configuration error: CONFIG_PARAMETER /tv/bad: issuers[0].audince: unknown field"
        ),
        "{error}"
    );
    assert_eq!(error.lines().count(), 1);
}

#[tokio::test]
async fn the_environment_issuer_and_the_document_combine() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    store.set(
        "/tv/config",
        &json!({"routes": {"rules": [{"route": "POST /messages", "scopes": ["write:messages"]}]}})
            .to_string(),
    );
    let uri = server.url("/jwks");
    let authorizer = load(
        &store,
        &[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("TOKEN_ISSUER", ISSUER),
            ("AUDIENCE", AUDIENCE),
            ("JWKS_URI", &uri),
        ],
    )
    .await;
    assert_eq!(
        authorizer.issuer_count(),
        1,
        "the document lists no issuers: the environment's stays"
    );
    let token = key
        .mint(&claims(json!({"scope": "read:messages"})))
        .unwrap();
    let mut event = bearer(&token);
    event["methodArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/messages");
    assert_eq!(
        decide(&authorizer, event).await.reason(),
        "insufficient_scope",
        "the document's route rule applies"
    );
}

#[tokio::test]
async fn key_snapshots_are_saved_and_used_when_the_idp_is_down_at_cold_start() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    let uri = server.url("/jwks");
    let vars = snapshotting(&uri);
    let first = load(&store, &vars).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    assert_eq!(decide(&first, bearer(&token)).await.reason(), "ok");
    let saved = store
        .value(&snapshot_name(SNAPSHOT, ISSUER))
        .expect("a snapshot was saved");
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["issuer"], ISSUER);
    assert_eq!(saved["jwks"]["keys"][0]["kid"], "rsa-a");
    assert!(saved["jwks"]["keys"][0].get("d").is_none());

    // A new execution environment while the IdP is down: the snapshot serves.
    server.set("/jwks", Reply::Status(503, "down".into()));
    let cold = load(&store, &vars).await;
    let decided = decide(&cold, bearer(&token)).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.facts.key_origin, Some(KeyOrigin::Snapshot));
    // Without a snapshot store the same cold start fails closed.
    let bare = Authorizer::load_with(env(&vars[..3]), None).await.unwrap();
    bare.prefetch().await;
    assert_eq!(
        decide(&bare, bearer(&token)).await.reason(),
        "jwks_unavailable"
    );
}

#[tokio::test]
async fn a_snapshot_older_than_the_stale_window_is_not_used() {
    let key = rsa_a();
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Status(503, "down".into()));
    let store = Arc::new(MemoryStore::default());
    let old = json!({"issuer": ISSUER, "fetched_at": 1_000, "jwks": token_verifier::tool::dev::jwks(&[&key])});
    store.set(&snapshot_name(SNAPSHOT, ISSUER), &old.to_string());
    let uri = server.url("/jwks");
    let authorizer = load(&store, &snapshotting(&uri)).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    assert_eq!(
        decide(&authorizer, bearer(&token)).await.reason(),
        "jwks_unavailable"
    );
}
