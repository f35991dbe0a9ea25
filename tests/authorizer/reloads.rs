//! A reload never holds a request for long: against an SSM that stops answering, the
//! request that finds the document due waits at most `RELOAD_TIMEOUT` and is answered with
//! the last good configuration; the next reads back off; concurrent requests never wait.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use token_verifier::testing::RELOAD_TIMEOUT;

use crate::sources::{MemoryStore, bearer, document, load_document};
use crate::support::*;

/// Decides one request and says how long it took, in real time.
async fn timed(authorizer: &token_verifier::Authorizer, token: &str) -> (&'static str, Duration) {
    let started = Instant::now();
    let reason = decide(authorizer, bearer(token)).await.reason();
    (reason, started.elapsed())
}

/// Waits at most the reload's bound, with room for a busy host.
fn held_for_the_bound(waited: Duration) -> bool {
    waited >= RELOAD_TIMEOUT && waited < RELOAD_TIMEOUT + Duration::from_millis(700)
}

/// Not held at all.
fn not_held(waited: Duration) -> bool {
    waited < Duration::from_millis(200)
}

#[tokio::test]
async fn a_hanging_ssm_holds_one_request_for_the_bound_then_backs_off() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    let authorizer = load_document(&store, &server, "10").await;
    let token = key.mint(&claims(json!({}))).unwrap();
    let reads = || store.gets.load(Ordering::SeqCst);
    store.hang.store(true, Ordering::SeqCst);

    // Due: this request waits for SSM, at most the bound, and is allowed as before.
    time_travel(Duration::from_secs(11)).await;
    let (reason, waited) = timed(&authorizer, &token).await;
    assert_eq!(reason, "ok");
    assert!(held_for_the_bound(waited), "{waited:?}");
    assert_eq!(reads(), 2);
    // The next one, at once: not due, not held.
    let (reason, waited) = timed(&authorizer, &token).await;
    assert_eq!(reason, "ok");
    assert!(not_held(waited), "{waited:?}");

    // One failure: the next read after the TTL (10 s); two: after twice that (20 s).
    time_travel(Duration::from_secs(11)).await;
    let (_, waited) = timed(&authorizer, &token).await;
    assert!(held_for_the_bound(waited), "second read: {waited:?}");
    assert_eq!(reads(), 3);
    time_travel(Duration::from_secs(11)).await;
    let (_, waited) = timed(&authorizer, &token).await;
    assert!(not_held(waited), "backing off: {waited:?}");
    assert_eq!(reads(), 3, "no read during the back-off");
    time_travel(Duration::from_secs(10)).await;
    let (_, waited) = timed(&authorizer, &token).await;
    assert!(held_for_the_bound(waited), "third read: {waited:?}");
    assert_eq!(reads(), 4);

    // SSM answers again (after 40 s of back-off): the new document is read, and the
    // schedule is the TTL again.
    store.hang.store(false, Ordering::SeqCst);
    store.set("/tv/config", &document(&server, "https://another-api"));
    time_travel(Duration::from_secs(41)).await;
    let (reason, waited) = timed(&authorizer, &token).await;
    assert_eq!(reason, "wrong_audience", "the new document");
    assert!(not_held(waited), "{waited:?}");
    assert_eq!(authorizer.config_version(), Some(2));
    time_travel(Duration::from_secs(11)).await;
    timed(&authorizer, &token).await;
    assert_eq!(reads(), 6, "one read per TTL again");
}

#[tokio::test]
async fn concurrent_requests_go_on_while_one_waits_for_the_reload() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let store = Arc::new(MemoryStore::default());
    let authorizer = load_document(&store, &server, "10").await;
    let token = key.mint(&claims(json!({}))).unwrap();
    store.hang.store(true, Ordering::SeqCst);
    time_travel(Duration::from_secs(11)).await;

    // As on Lambda Managed Instances: several requests in flight in one environment. The
    // first to find the document due re-reads it; the others use the current configuration.
    let started = Instant::now();
    let finished = Mutex::new(Vec::new());
    let request = |_| async {
        let reason = decide(&authorizer, bearer(&token)).await.reason();
        finished.lock().unwrap().push((reason, started.elapsed()));
    };
    futures_util::future::join_all((0..8).map(request)).await;
    let finished = finished.into_inner().unwrap();
    assert!(
        finished.iter().all(|(reason, _)| *reason == "ok"),
        "{finished:?}"
    );
    let held = finished
        .iter()
        .filter(|(_, at)| *at >= RELOAD_TIMEOUT)
        .count();
    assert_eq!(held, 1, "only the request that reloads waits: {finished:?}");
    assert_eq!(
        store.gets.load(Ordering::SeqCst),
        2,
        "one read for all of them"
    );
}
