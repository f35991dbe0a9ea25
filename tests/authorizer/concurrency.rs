//! The cache promises under concurrency (Lambda Managed Instances send many requests to
//! one execution environment at once): on a multi-threaded runtime, 100 simultaneous
//! requests share one key cache, one HTTP client and one opaque-token cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use token_verifier::Algorithm;
use token_verifier::Authorizer;

use crate::support::*;

const N: usize = 100;

/// `N` simultaneous decisions of `token`, on as many tasks; their reasons and latencies.
async fn simultaneous(
    authorizer: &Arc<Authorizer>,
    tokens: Vec<String>,
) -> Vec<(String, Duration)> {
    let start = Arc::new(tokio::sync::Barrier::new(tokens.len()));
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let authorizer = Arc::clone(authorizer);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                let began = Instant::now();
                let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
                (decided.reason().to_owned(), began.elapsed())
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

fn reasons(results: &[(String, Duration)]) -> Vec<&str> {
    let mut r: Vec<&str> = results.iter().map(|(r, _)| r.as_str()).collect();
    r.dedup();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cold_environment_hit_by_100_simultaneous_requests_fetches_once() {
    let server = JwksServer::start().await;
    server.set(
        "/jwks",
        Reply::Delayed(
            Duration::from_millis(200),
            Box::new(Reply::Json(
                token_verifier::tool::dev::jwks(&[&rsa_a()]).to_string(),
            )),
        ),
    );
    let uri = server.url("/jwks");
    // No prefetch: the first requests find an empty cache.
    let authorizer = Arc::new(Authorizer::new(config(&[("JWKS_URI", uri.as_str())])).unwrap());
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let results = simultaneous(&authorizer, vec![token; N]).await;
    assert_eq!(reasons(&results), ["ok"]);
    assert_eq!(server.hits("/jwks"), 1, "one fetch for 100 cold requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotation_seen_by_100_simultaneous_requests_refetches_once() {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let authorizer = Arc::new(authorizer(&server, &[]).await);
    server.set_keys(&[&old, &new]);
    let rotated = new.mint(&claims(json!({}))).unwrap();
    let results = simultaneous(&authorizer, vec![rotated; N]).await;
    assert_eq!(reasons(&results), ["ok"]);
    assert_eq!(
        server.hits("/jwks"),
        2,
        "init, then one refetch for the new kid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kid_flood_of_100_simultaneous_requests_stays_bounded() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer = Arc::new(authorizer(&server, &[]).await);
    let tokens: Vec<String> = (0..N)
        .map(|i| {
            key("rsa-b.pem", &format!("random-kid-{i}"), Algorithm::RS256)
                .mint(&claims(json!({})))
                .unwrap()
        })
        .collect();
    let results = simultaneous(&authorizer, tokens).await;
    assert_eq!(reasons(&results), ["unknown_kid"]);
    assert!(
        server.hits("/jwks") <= 2,
        "at most one refetch: {}",
        server.hits("/jwks")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn during_an_outage_100_simultaneous_requests_are_served_stale_keys_with_one_attempt() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer = Arc::new(
        authorizer(
            &server,
            &[
                ("JWKS_CACHE_TTL_SECONDS", "1"),
                ("JWKS_RETRY_SECONDS", "60"),
            ],
        )
        .await,
    );
    server.set("/jwks", Reply::Status(503, "down".into()));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let results = simultaneous(&authorizer, vec![token; N]).await;
    assert_eq!(reasons(&results), ["ok"]);
    assert_eq!(
        server.hits("/jwks"),
        2,
        "init, then one failed attempt for 100 requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_refresh_does_not_hold_up_requests_whose_key_is_cached() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = Arc::new(authorizer(&server, &[("JWKS_CACHE_TTL_SECONDS", "1")]).await);
    server.set(
        "/jwks",
        Reply::Delayed(
            Duration::from_millis(1500),
            Box::new(Reply::Json(
                token_verifier::tool::dev::jwks(&[&key]).to_string(),
            )),
        ),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    let results = simultaneous(&authorizer, vec![token; N]).await;
    assert_eq!(reasons(&results), ["ok"]);
    let slow = results
        .iter()
        .filter(|(_, took)| *took > Duration::from_secs(1))
        .count();
    assert!(
        slow <= 1,
        "only the refreshing request waits for the network: {slow} waited"
    );
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_opaque_token_in_100_simultaneous_requests_is_asked_about_once() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let now = unix_now();
    server.set(
        "/userinfo",
        Reply::Delayed(
            Duration::from_millis(200),
            Box::new(Reply::Json(
                json!({"sub": "u", "iss": ISSUER, "exp": now + 600}).to_string(),
            )),
        ),
    );
    let endpoint = server.url("/userinfo");
    let authorizer = Arc::new(
        authorizer(
            &server,
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("OPAQUE_AUDIENCE", "unbound"),
                ("OPAQUE_ENDPOINT", endpoint.as_str()),
            ],
        )
        .await,
    );
    let results = simultaneous(
        &authorizer,
        vec!["opaque-token-shared-by-100-requests".to_owned(); N],
    )
    .await;
    assert_eq!(reasons(&results), ["ok"]);
    assert_eq!(
        server.hits("/userinfo"),
        1,
        "one question for 100 simultaneous requests"
    );
}

/// A parameter store whose writes take a while (SSM under load).
#[derive(Default)]
struct SlowWrites {
    puts: std::sync::atomic::AtomicUsize,
}

impl token_verifier::ParameterStore for SlowWrites {
    fn get<'a>(
        &'a self,
        _: &'a str,
    ) -> token_verifier::BoxFuture<'a, Result<Option<token_verifier::Parameter>, String>> {
        Box::pin(async { Ok(None) })
    }
    fn put<'a>(
        &'a self,
        _: &'a str,
        _: String,
    ) -> token_verifier::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            self.puts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_snapshot_save_does_not_hold_up_a_rotation() {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let store = Arc::new(SlowWrites::default());
    let uri = server.url("/jwks");
    let dyn_store: Arc<dyn token_verifier::ParameterStore> = store.clone();
    let authorizer = Arc::new(
        Authorizer::load_with(
            crate::sources::env(&crate::sources::snapshotting(&uri)),
            Some(dyn_store),
        )
        .await
        .unwrap(),
    );
    authorizer.prefetch().await;
    server.set_keys(&[&old, &new]);
    let rotated = new.mint(&claims(json!({}))).unwrap();
    let results = simultaneous(&authorizer, vec![rotated; N]).await;
    assert_eq!(reasons(&results), ["ok"]);
    // The request that fetched writes the snapshot (a Lambda may freeze a background
    // task); every other one is served as soon as the new keys are in.
    let waited = results
        .iter()
        .filter(|(_, took)| *took >= Duration::from_secs(2))
        .count();
    assert!(
        waited <= 1,
        "only the fetching request waits for the 2 s snapshot write: {waited} waited"
    );
    assert_eq!(server.hits("/jwks"), 2);
    // The write itself still happens, once per key set.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(store.puts.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// The init save holds the store for 2 s; a rotation's key set (the old key and a new one)
/// waits behind it; then, once the 1 s TTL has passed, the IdP answers `then` to the
/// refetch. How many key sets were saved.
async fn saves_after_a_refetch_behind_a_waiting_save(then: Reply) -> usize {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let store = Arc::new(SlowWrites::default());
    let uri = server.url("/jwks");
    let mut env = crate::sources::snapshotting(&uri).to_vec();
    env.push(("JWKS_CACHE_TTL_SECONDS", "1"));
    let dyn_store: Arc<dyn token_verifier::ParameterStore> = store.clone();
    let authorizer = Arc::new(
        Authorizer::load_with(crate::sources::env(&env), Some(dyn_store))
            .await
            .unwrap(),
    );
    let init = tokio::spawn({
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.prefetch().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.set_keys(&[&old, &new]);
    let rotation = tokio::spawn({
        let authorizer = Arc::clone(&authorizer);
        let token = new.mint(&claims(json!({}))).unwrap();
        async move { decide(&authorizer, rest_token(&format!("Bearer {token}"))).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.set("/jwks", then);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = new.mint(&claims(json!({}))).unwrap();
    let after = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_eq!(after.reason(), "ok");
    assert_eq!(server.hits("/jwks"), 3, "init, the rotation, the refetch");
    init.await.unwrap();
    assert_eq!(rotation.await.unwrap().reason(), "ok");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    store.puts.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_refetch_while_a_save_waits_does_not_cancel_that_save() {
    // The rotated keys are still the ones served (stale), so they are saved.
    let puts = saves_after_a_refetch_behind_a_waiting_save(Reply::Status(503, "down".into())).await;
    assert_eq!(puts, 2, "the init key set and the rotated one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_newer_key_set_replaces_a_save_still_waiting() {
    // The refetch publishes a third key set (the old key retired) before the rotated
    // one's turn: only the keys served are saved.
    let third = token_verifier::tool::dev::jwks(&[&rsa_b()]).to_string();
    let puts = saves_after_a_refetch_behind_a_waiting_save(Reply::Json(third)).await;
    assert_eq!(
        puts, 2,
        "the init key set and the newest one, not the one in between"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cold_start_fetches_the_issuers_keys_at_once_not_one_after_another() {
    let (a, b) = (rsa_a(), rsa_b());
    let (slow_a, slow_b) = (
        JwksServer::with_keys(&[&a]).await,
        JwksServer::with_keys(&[&b]).await,
    );
    for (server, key) in [(&slow_a, &a), (&slow_b, &b)] {
        server.set(
            "/jwks",
            Reply::Delayed(
                Duration::from_millis(800),
                Box::new(Reply::Json(
                    token_verifier::tool::dev::jwks(&[key]).to_string(),
                )),
            ),
        );
    }
    let store = Arc::new(crate::sources::MemoryStore::default());
    store.set(
        "/tv/config",
        &json!({"issuers": [
            {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks_uri": slow_a.url("/jwks")},
            {"issuer": "https://other.example/", "audiences": [AUDIENCE], "jwks_uri": slow_b.url("/jwks")},
        ]})
        .to_string(),
    );
    let dyn_store: Arc<dyn token_verifier::ParameterStore> = store;
    let authorizer = Authorizer::load_with(
        crate::sources::env(&[("CONFIG_PARAMETER", "/tv/config")]),
        Some(dyn_store),
    )
    .await
    .unwrap();
    let started = Instant::now();
    authorizer.prefetch().await;
    let took = started.elapsed();
    assert_eq!((slow_a.hits("/jwks"), slow_b.hits("/jwks")), (1, 1));
    assert!(
        took < Duration::from_millis(1500),
        "two 800 ms key sets fetched together, not in turn: {took:?}"
    );
    let token = b
        .mint(&claims(json!({"iss": "https://other.example/"})))
        .unwrap();
    let results = simultaneous(&Arc::new(authorizer), vec![token]).await;
    assert_eq!(reasons(&results), ["ok"]);
}
