//! Every cache promise, proved by counting requests at a loopback JWKS server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use token_verifier::KeyOrigin;

use crate::support::*;

fn event_for(token: &str) -> serde_json::Value {
    rest_token(&format!("Bearer {token}"))
}

#[tokio::test]
async fn keys_are_fetched_once_at_init_and_reused_by_warm_calls() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[]).await;
    assert_eq!(server.hits("/jwks"), 1, "prefetched during init");
    let token = key.mint(&claims(json!({}))).unwrap();
    for _ in 0..50 {
        let decided = decide(&authorizer, event_for(&token)).await;
        assert_eq!(decided.reason(), "ok");
        assert_eq!(decided.record.facts.key_origin, Some(KeyOrigin::Cached));
    }
    assert_eq!(server.hits("/jwks"), 1);
}

#[tokio::test]
async fn rotation_is_picked_up_with_one_refetch() {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let authorizer = authorizer(&server, &[]).await;
    server.set_keys(&[&old, &new]);
    let token = new.mint(&claims(json!({}))).unwrap();
    let decided = decide(&authorizer, event_for(&token)).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.facts.key_origin, Some(KeyOrigin::Fetched));
    assert_eq!(server.hits("/jwks"), 2);
    for _ in 0..10 {
        assert_eq!(decide(&authorizer, event_for(&token)).await.reason(), "ok");
    }
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_one_fetch_per_cooldown() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[]).await;
    let good = key.mint(&claims(json!({}))).unwrap();
    for i in 0..200 {
        let forged = token_verifier::tool::dev::SigningKey::from_pem(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa-b.pem"))
                .unwrap(),
            &format!("random-{i}"),
            token_verifier::Algorithm::RS256,
        )
        .unwrap()
        .mint(&claims(json!({})))
        .unwrap();
        assert_eq!(
            decide(&authorizer, event_for(&forged)).await.reason(),
            "unknown_kid"
        );
        // Known kids keep verifying during the cool-down.
        if i % 50 == 0 {
            assert_eq!(decide(&authorizer, event_for(&good)).await.reason(), "ok");
        }
    }
    assert_eq!(
        server.hits("/jwks"),
        2,
        "init + one refetch for the first unknown kid"
    );
    time_travel(Duration::from_secs(16)).await;
    let forged = rsa_b().mint(&claims(json!({}))).unwrap();
    assert_eq!(
        decide(&authorizer, event_for(&forged)).await.reason(),
        "unknown_kid"
    );
    assert_eq!(server.hits("/jwks"), 3, "one more after the 15 s cool-down");
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let (old, new) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&old]).await;
    let authorizer = Arc::new(authorizer(&server, &[]).await);
    server.set(
        "/jwks",
        Reply::Delayed(
            Duration::from_millis(200),
            Box::new(Reply::Json(
                token_verifier::tool::dev::jwks(&[&old, &new]).to_string(),
            )),
        ),
    );
    let token = new.mint(&claims(json!({}))).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (authorizer, token) = (Arc::clone(&authorizer), token.clone());
        tasks.spawn(async move { decide(&authorizer, event_for(&token)).await.reason() });
    }
    while let Some(reason) = tasks.join_next().await {
        assert_eq!(reason.unwrap(), "ok");
    }
    assert_eq!(server.hits("/jwks"), 2, "init + exactly one shared refetch");
}

#[tokio::test]
async fn a_cold_start_with_the_idp_down_fails_closed_fast_then_recovers() {
    let key = rsa_a();
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Status(500, "<html>oops</html>".into()));
    let authorizer = authorizer(&server, &[]).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(
            decide(&authorizer, event_for(&token)).await.reason(),
            "jwks_unavailable"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        server.hits("/jwks"),
        1,
        "no retry within JWKS_RETRY_SECONDS"
    );
    server.set_keys(&[&key]);
    time_travel(Duration::from_secs(6)).await;
    assert_eq!(decide(&authorizer, event_for(&token)).await.reason(), "ok");
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn keys_are_refreshed_after_the_ttl_and_a_removed_key_stops_verifying() {
    let (a, b) = (rsa_a(), rsa_b());
    let server = JwksServer::with_keys(&[&a, &b]).await;
    let authorizer = authorizer(&server, &[]).await;
    let token_a = a.mint(&claims(json!({}))).unwrap();
    assert_eq!(
        decide(&authorizer, event_for(&token_a)).await.reason(),
        "ok"
    );
    server.set_keys(&[&b]);
    time_travel(Duration::from_secs(599)).await;
    assert_eq!(
        decide(&authorizer, event_for(&token_a)).await.reason(),
        "ok",
        "still within the TTL"
    );
    assert_eq!(server.hits("/jwks"), 1);
    time_travel(Duration::from_secs(2)).await;
    let decided = decide(&authorizer, event_for(&token_a)).await;
    assert_eq!(
        decided.reason(),
        "unknown_kid",
        "revoked once the TTL passed"
    );
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn stale_keys_serve_during_an_outage_with_throttled_retries_then_expire() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[("JWKS_STALE_SECONDS", "3600")]).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    server.set("/jwks", Reply::Status(502, "bad gateway".into()));
    time_travel(Duration::from_secs(601)).await;
    for _ in 0..30 {
        let decided = decide(&authorizer, event_for(&token)).await;
        assert_eq!(decided.reason(), "ok");
        assert_eq!(decided.record.facts.key_origin, Some(KeyOrigin::Stale));
    }
    assert_eq!(
        server.hits("/jwks"),
        2,
        "one failed refresh, then JWKS_RETRY_SECONDS"
    );
    time_travel(Duration::from_secs(6)).await;
    assert_eq!(decide(&authorizer, event_for(&token)).await.reason(), "ok");
    assert_eq!(server.hits("/jwks"), 3);
    time_travel(Duration::from_secs(3600)).await;
    assert_eq!(
        decide(&authorizer, event_for(&token)).await.reason(),
        "jwks_unavailable"
    );
}

#[tokio::test]
async fn an_empty_key_set_from_the_idp_is_authoritative_not_an_outage() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[]).await;
    let token = key.mint(&claims(json!({}))).unwrap();
    // The IdP withdraws every key (or leaves only ones this authorizer cannot use).
    server.set(
        "/jwks",
        Reply::Json(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "rsa-a"}]}).to_string()),
    );
    time_travel(Duration::from_secs(601)).await;
    assert_eq!(
        decide(&authorizer, event_for(&token)).await.reason(),
        "unknown_kid",
        "revoked, not served stale"
    );
    // A malformed answer, by contrast, is an outage: the last good keys would serve.
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer_for(&server).await;
    server.set("/jwks", Reply::Json("{\"keys\": \"oops\"}".into()));
    time_travel(Duration::from_secs(601)).await;
    let decided = decide(&authorizer, event_for(&token)).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.facts.key_origin, Some(KeyOrigin::Stale));
}

/// Once keys are cached, a refresh that fails — an error status, a document that is no
/// key set, a closed connection — is an outage: the last good keys keep serving
/// (`keys: stale`) instead of refusing valid tokens. (Faults that only cost time, such as
/// a hang, are the cold-start test's below.)
#[tokio::test]
async fn refresh_faults_after_warm_up_serve_the_last_good_keys() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let faults = [
        Reply::Status(500, "oops".into()),
        Reply::Status(503, "maintenance".into()),
        Reply::Status(404, "nope".into()),
        Reply::Status(429, "slow down".into()),
        Reply::Json("<html>login</html>".into()),
        Reply::Json("not json".into()),
        Reply::Json("[]".into()),
        Reply::Json("{}".into()),
        Reply::Json("{\"keys\":{}}".into()),
        Reply::Json(format!(
            "{{\"keys\":[],\"keys\":{}}}",
            token_verifier::tool::dev::jwks(&[&key])["keys"]
        )),
        Reply::Close,
    ];
    for fault in faults {
        let server = JwksServer::with_keys(&[&key]).await;
        let authorizer = authorizer_for(&server).await;
        server.set("/jwks", fault.clone());
        time_travel(Duration::from_secs(601)).await;
        let decided = decide(&authorizer, event_for(&token)).await;
        assert_eq!(decided.reason(), "ok", "{fault:?}");
        assert_eq!(
            decided.record.facts.key_origin,
            Some(KeyOrigin::Stale),
            "{fault:?}"
        );
        assert_eq!(server.hits("/jwks"), 2, "{fault:?}: one refresh tried");
    }
}

async fn authorizer_for(server: &JwksServer) -> token_verifier::Authorizer {
    authorizer(server, &[]).await
}

#[tokio::test]
async fn an_unknown_kid_whose_refetch_fails_is_an_outage_not_a_bad_token() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[]).await;
    server.set("/jwks", Reply::Status(503, "down".into()));
    let rotated = rsa_b().mint(&claims(json!({}))).unwrap();
    let decided = decide(&authorizer, event_for(&rotated)).await;
    assert_eq!(
        decided.reason(),
        "jwks_unavailable",
        "500, not a cached 401 for a possibly valid token"
    );
    // Known kids keep working, and the next unknown kid backs off instead of refetching.
    let token = key.mint(&claims(json!({}))).unwrap();
    assert_eq!(decide(&authorizer, event_for(&token)).await.reason(), "ok");
    let decided = decide(&authorizer, event_for(&rotated)).await;
    assert_eq!(decided.reason(), "unknown_kid");
    assert!(decided.detail().contains("JWKS_RETRY_SECONDS"));
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn discovery_finds_the_jwks_uri_once() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let issuer = server.url("/");
    server.set(
        "/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/jwks")}).to_string()),
    );
    let authorizer = token_verifier::Authorizer::new(config(&[("TOKEN_ISSUER", &issuer)])).unwrap();
    authorizer.prefetch().await;
    let token = key.mint(&claims(json!({"iss": issuer}))).unwrap();
    assert_eq!(decide(&authorizer, event_for(&token)).await.reason(), "ok");
    let rotated = rsa_b();
    server.set_keys(&[&key, &rotated]);
    let token_b = rotated.mint(&claims(json!({"iss": issuer}))).unwrap();
    assert_eq!(
        decide(&authorizer, event_for(&token_b)).await.reason(),
        "ok"
    );
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn discovery_refuses_a_document_for_another_issuer() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let issuer = server.url("/");
    server.set(
        "/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": server.url(""), "jwks_uri": server.url("/jwks")}).to_string()),
    );
    let authorizer = token_verifier::Authorizer::new(config(&[("TOKEN_ISSUER", &issuer)])).unwrap();
    authorizer.prefetch().await;
    let token = key.mint(&claims(json!({"iss": issuer}))).unwrap();
    let decided = decide(&authorizer, event_for(&token)).await;
    assert_eq!(decided.reason(), "jwks_unavailable");
    assert!(decided.detail().contains("must be identical"));
    assert_eq!(server.hits("/jwks"), 0);
}

#[tokio::test]
async fn an_unknown_issuer_causes_no_request_at_all() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let authorizer = authorizer(&server, &[]).await;
    let before = server.total_hits();
    for iss in [
        "http://169.254.169.254/latest/meta-data/",
        &server.url("/attacker/"),
    ] {
        let token = key.mint(&claims(json!({"iss": iss}))).unwrap();
        assert_eq!(
            decide(&authorizer, event_for(&token)).await.reason(),
            "wrong_issuer"
        );
    }
    assert_eq!(server.total_hits(), before);
}

#[tokio::test]
async fn key_urls_from_the_token_header_are_never_fetched() {
    let key = rsa_a();
    let server = JwksServer::with_keys(&[&key]).await;
    let attacker = JwksServer::with_keys(&[&rsa_b()]).await;
    let authorizer = authorizer(&server, &[]).await;
    let header = json!({
        "alg": "RS256", "kid": "rsa-b", "jku": attacker.url("/jwks"), "x5u": attacker.url("/cert"),
        "jwk": rsa_b().public_jwk(),
    });
    let token = rsa_b()
        .sign_parts(
            token_verifier::Algorithm::RS256,
            header.to_string().as_bytes(),
            claims(json!({})).to_string().as_bytes(),
        )
        .unwrap();
    assert_eq!(
        decide(&authorizer, event_for(&token)).await.reason(),
        "unknown_kid"
    );
    assert_eq!(attacker.total_hits(), 0);
}

#[tokio::test]
async fn fetch_faults_fail_within_the_deadline_and_redirects_are_not_followed() {
    let key = rsa_a();
    let token = key.mint(&claims(json!({}))).unwrap();
    let good = JwksServer::with_keys(&[&key]).await;
    let big = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(300_000));
    let faults = [
        Reply::Status(404, "nope".into()),
        Reply::Status(429, "slow down".into()),
        Reply::Status(500, "oops".into()),
        Reply::Status(503, "maintenance".into()),
        Reply::Redirect(good.url("/jwks")),
        Reply::Json("<html>login</html>".into()),
        Reply::Json("{\"keys\":{}}".into()),
        Reply::Json(big),
        Reply::Close,
        Reply::Hang,
        Reply::Endless,
        Reply::ShortBody,
        Reply::Trickle(
            token_verifier::tool::dev::jwks(&[&key]).to_string(),
            Duration::from_millis(50),
        ),
    ];
    for fault in faults {
        let server = JwksServer::start().await;
        server.set("/jwks", fault.clone());
        let started = Instant::now();
        let authorizer = authorizer(
            &server,
            &[
                ("HTTP_TIMEOUT_MS", "500"),
                ("HTTP_CONNECT_TIMEOUT_MS", "200"),
            ],
        )
        .await;
        let decided = decide(&authorizer, event_for(&token)).await;
        assert_eq!(decided.reason(), "jwks_unavailable", "{fault:?}");
        if matches!(fault, Reply::Endless) {
            let detail = &decided.record.refusal.as_ref().unwrap().detail;
            assert!(detail.contains("sent more than 262144 bytes"), "{detail}");
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{fault:?} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        good.hits("/jwks"),
        0,
        "the redirect target was never requested"
    );
    // Nothing listening at all: the connection is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!(
        "http://127.0.0.1:{}/jwks",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let started = Instant::now();
    let authorizer =
        token_verifier::Authorizer::new(config(&[("JWKS_URI", uri.as_str())])).unwrap();
    authorizer.prefetch().await;
    assert_eq!(
        decide(&authorizer, event_for(&token)).await.reason(),
        "jwks_unavailable"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
}

/// TLS is verified: a key URL whose certificate no trusted authority signed is a fetch
/// failure (`jwks_unavailable`, fail closed), and no HTTP request ever reaches it.
#[tokio::test]
async fn a_key_url_with_an_untrusted_certificate_fails_closed() {
    use tokio::io::AsyncWriteExt;
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject};

    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/");
    let certs =
        rustls::pki_types::CertificateDer::pem_file_iter(format!("{keys}tls-self-signed.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
    let private =
        rustls::pki_types::PrivateKeyDer::from_pem_file(format!("{keys}tls-self-signed.key"))
            .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, private)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (handshakes, served) = (
        Arc::new(AtomicCount::default()),
        Arc::new(AtomicCount::default()),
    );
    let (h, s) = (Arc::clone(&handshakes), Arc::clone(&served));
    let body = token_verifier::tool::dev::jwks(&[&rsa_a()]).to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            h.add();
            if let Ok(mut tls) = acceptor.accept(stream).await {
                s.add();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
            }
        }
    });

    let uri = format!("https://127.0.0.1:{port}/jwks");
    let authorizer =
        token_verifier::Authorizer::new(config(&[("JWKS_URI", uri.as_str())])).unwrap();
    authorizer.prefetch().await;
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let decided = decide(&authorizer, event_for(&token)).await;
    assert_eq!(decided.reason(), "jwks_unavailable");
    let detail = &decided.record.refusal.as_ref().unwrap().detail;
    assert!(detail.contains("certificate"), "{detail}");
    assert!(handshakes.get() >= 1, "the client did connect");
    assert_eq!(
        served.get(),
        0,
        "no handshake completed, so no request was sent"
    );
}

#[derive(Default)]
struct AtomicCount(std::sync::atomic::AtomicUsize);

impl AtomicCount {
    fn add(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
