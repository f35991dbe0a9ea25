//! Opaque tokens, deliberately: validated by the issuer's userinfo or RFC 7662
//! introspection endpoint (a loopback server here; `tests/e2e/opaque.rs` uses the real
//! OpenID Provider), cached by fingerprint for a bounded time, failing closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use token_verifier::EnvConfig;
use token_verifier::Lookup;
use token_verifier::Outcome;
use token_verifier::ParameterStore;
use token_verifier::tool::explain::{Options, Verdict, explain};
use token_verifier::{Authorizer, Failure};

use crate::sources::MemoryStore;
use crate::support::*;

const OPAQUE: &str = "8xLOxBtZp8nJvUWO2Jv9k1rE3fGzQ_hQ";
const SECRET_PARAMETER: &str = "/token-verifier/introspection-secret";

fn env(vars: &[(&str, &str)]) -> Result<EnvConfig, String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    EnvConfig::from_lookup(|name| map.get(name).cloned()).map_err(|e| e.to_string())
}

async fn load(server: &JwksServer, mode: &str, extra: &[(&str, &str)]) -> Authorizer {
    let store = Arc::new(MemoryStore::default());
    store.set(SECRET_PARAMETER, "s3cret");
    load_using(server, mode, extra, store).await
}

/// [`load`] with the client secret in `store`.
async fn load_using(
    server: &JwksServer,
    mode: &str,
    extra: &[(&str, &str)],
    store: Arc<dyn ParameterStore>,
) -> Authorizer {
    let endpoint = server.url("/opaque");
    let jwks = server.url("/jwks");
    let mut vars = vec![
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_URI", jwks.as_str()),
        ("OPAQUE_TOKENS", mode),
        ("OPAQUE_ENDPOINT", endpoint.as_str()),
        ("HTTP_TIMEOUT_MS", "1000"),
    ];
    if mode == "introspection" {
        vars.push(("INTROSPECTION_CLIENT_ID", "authorizer"));
        vars.push(("INTROSPECTION_SECRET_PARAMETER", SECRET_PARAMETER));
    } else if !extra.iter().any(|(k, _)| *k == "OPAQUE_AUDIENCE") {
        vars.push(("OPAQUE_AUDIENCE", "unbound"));
    }
    vars.extend_from_slice(extra);
    let authorizer = Authorizer::load_with(env(&vars).unwrap(), Some(store))
        .await
        .unwrap();
    authorizer.prefetch().await;
    authorizer
}

fn introspected(extra: Value) -> String {
    let now = unix_now();
    let mut answer = json!({
        "active": true, "iss": ISSUER, "aud": AUDIENCE, "client_id": "spa", "sub": "user-9",
        "scope": "openid read:messages", "exp": now + 600, "iat": now - 5, "token_type": "Bearer",
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            answer.as_object_mut().unwrap().remove(k);
        } else {
            answer[k] = v.clone();
        }
    }
    answer.to_string()
}

async fn bearer(authorizer: &Authorizer, token: &str) -> Decided {
    decide(authorizer, rest_token(&format!("Bearer {token}"))).await
}

#[tokio::test]
async fn opaque_tokens_stay_refused_unless_asked_for() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    assert_eq!(bearer(&authorizer, OPAQUE).await.reason(), "opaque_token");
}

#[tokio::test]
async fn introspection_allows_an_active_token_with_its_claims_and_caches_the_answer() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Json(introspected(json!({}))));
    let authorizer = load(
        &server,
        "introspection",
        &[("REQUIRED_SCOPES", "read:messages")],
    )
    .await;
    let first = bearer(&authorizer, OPAQUE).await;
    assert_eq!(first.reason(), "ok", "{:?}", first.record.refusal);
    let answer = first.allowed();
    assert_eq!(answer["principalId"], "user-9");
    assert_eq!(answer["context"]["client_id"], "spa");
    assert!(
        answer["context"].get("active").is_none(),
        "active is not a claim"
    );
    assert_eq!(first.record.facts.opaque, Some("introspection"));
    assert_eq!(first.record.facts.opaque_lookup, Some(Lookup::Asked));
    for _ in 0..5 {
        let again = bearer(&authorizer, OPAQUE).await;
        assert_eq!(again.reason(), "ok");
        assert_eq!(again.record.facts.opaque_lookup, Some(Lookup::Cached));
    }
    assert_eq!(server.hits("/opaque"), 1, "one question for six requests");
    // Another token is another question; JWTs never reach the endpoint.
    bearer(&authorizer, "another-opaque-token-value-0123456789").await;
    assert_eq!(server.hits("/opaque"), 2);
    let jwt = rsa_a().mint(&claims(json!({}))).unwrap();
    assert_eq!(bearer(&authorizer, &jwt).await.reason(), "ok");
    assert_eq!(server.hits("/opaque"), 2);
}

#[tokio::test]
async fn an_inactive_token_is_a_401_and_that_answer_is_cached_too() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Json(json!({"active": false}).to_string()));
    let authorizer = load(&server, "introspection", &[]).await;
    for _ in 0..3 {
        let decided = bearer(&authorizer, OPAQUE).await;
        assert_eq!(decided.reason(), "token_inactive");
        assert_eq!(decided.answer, Err(Failure::Unauthorized));
    }
    assert_eq!(server.hits("/opaque"), 1);
}

#[tokio::test]
async fn the_answer_is_judged_like_a_token() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer = load(
        &server,
        "introspection",
        &[("REQUIRED_SCOPES", "write:messages")],
    )
    .await;
    let cases = [
        (json!({"aud": "https://other.example"}), "wrong_audience"),
        (json!({"iss": "https://evil.example/"}), "wrong_issuer"),
        (json!({"exp": unix_now() - 3600}), "expired"),
        (json!({"sub": null}), "missing_claim"),
        (json!({}), "insufficient_scope"),
    ];
    for (n, (extra, reason)) in cases.into_iter().enumerate() {
        server.set("/opaque", Reply::Json(introspected(extra)));
        let token = format!("{OPAQUE}{n}");
        let decided = bearer(&authorizer, &token).await;
        assert_eq!(decided.reason(), reason);
    }
    // With the audience it names, the token is accepted; the scope decides (a 403).
    server.set(
        "/opaque",
        Reply::Json(introspected(json!({"aud": [AUDIENCE]}))),
    );
    let decided = bearer(&authorizer, "opaque-with-our-audience-000000000").await;
    assert_eq!(decided.record.outcome, Outcome::Deny);
}

#[tokio::test]
async fn a_provider_that_fails_or_hangs_fails_closed_within_the_deadline_and_is_not_cached() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let big = json!({"active": true, "blob": "x".repeat(20_000)}).to_string();
    for reply in [
        Reply::Status(500, "oops".into()),
        Reply::Status(401, "bad client".into()),
        Reply::Json("[]".into()),
        Reply::Json(json!({"active": "yes"}).to_string()),
        Reply::Json(big),
        Reply::Hang,
    ] {
        // A fresh function each time: after a failure, new tokens are not asked about
        // for a moment (tested below).
        let authorizer = load(&server, "introspection", &[]).await;
        server.set("/opaque", reply);
        let started = Instant::now();
        let decided = bearer(&authorizer, OPAQUE).await;
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(decided.reason(), "introspection_unavailable");
        let Err(Failure::Error(refusal)) = &decided.answer else {
            panic!("a 500: {:?}", decided.answer)
        };
        assert!(!refusal.to_string().contains(OPAQUE));
    }
    let authorizer = load(&server, "introspection", &[]).await;
    server.set("/opaque", Reply::Status(500, "oops".into()));
    assert_eq!(
        bearer(&authorizer, OPAQUE).await.reason(),
        "introspection_unavailable"
    );
    tokio::time::sleep(token_verifier::testing::FAILURE_BACKOFF).await;
    server.set("/opaque", Reply::Json(introspected(json!({}))));
    assert_eq!(
        bearer(&authorizer, OPAQUE).await.reason(),
        "ok",
        "failures are not cached"
    );
}

#[tokio::test]
async fn userinfo_vouches_with_a_sub_and_refuses_with_401() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|42", "email": "a@example.com"}).to_string()),
    );
    let authorizer = load(&server, "userinfo", &[]).await;
    let decided = bearer(&authorizer, OPAQUE).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.allowed()["principalId"], "auth0|42");
    assert_eq!(decided.record.facts.opaque, Some("userinfo"));
    server.set("/opaque", Reply::Status(401, "invalid_token".into()));
    assert_eq!(
        bearer(&authorizer, "expired-opaque-token-000000000000")
            .await
            .reason(),
        "token_inactive"
    );
    server.set(
        "/opaque",
        Reply::Json(json!({"email": "a@example.com"}).to_string()),
    );
    assert_eq!(
        bearer(&authorizer, "no-sub-opaque-token-0000000000000")
            .await
            .reason(),
        "introspection_unavailable"
    );
}

#[tokio::test]
async fn the_cache_never_outlives_the_token_nor_the_setting() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set(
        "/opaque",
        Reply::Json(introspected(json!({"exp": unix_now() + 1}))),
    );
    let authorizer = load(&server, "introspection", &[("OPAQUE_CACHE_SECONDS", "300")]).await;
    bearer(&authorizer, OPAQUE).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    bearer(&authorizer, OPAQUE).await;
    assert_eq!(
        server.hits("/opaque"),
        2,
        "the answer expired with the token"
    );
    let uncached = load(&server, "introspection", &[("OPAQUE_CACHE_SECONDS", "0")]).await;
    server.set("/opaque", Reply::Json(introspected(json!({}))));
    bearer(&uncached, OPAQUE).await;
    bearer(&uncached, OPAQUE).await;
    assert_eq!(server.hits("/opaque"), 4);
}

#[tokio::test]
async fn explain_asks_the_provider_as_the_authorizer_does() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set(
        "/opaque",
        Reply::Json(introspected(json!({"aud": "https://other"}))),
    );
    let authorizer = load(&server, "introspection", &[]).await;
    let options = Options {
        offline: false,
        audience_known: true,
        arn: None,
        now: token_verifier::now(),
        client_cert: None,
        dpop: None,
    };
    let report = explain(Some(&authorizer), OPAQUE, &options).await;
    let decided = bearer(&authorizer, OPAQUE).await;
    let Verdict::Refused(first) = report.verdict() else {
        panic!("{:?}", report.verdict())
    };
    assert_eq!(Some(first), decided.record.refusal);
    assert!(
        report.render().contains("vouches for it"),
        "{}",
        report.render()
    );
    let offline = explain(
        Some(&authorizer),
        "other-opaque-0000000000000000",
        &Options {
            offline: true,
            ..options
        },
    )
    .await;
    assert!(matches!(offline.verdict(), Verdict::Incomplete(_)));
}

#[test]
fn opaque_settings_are_checked_at_init() {
    let base = [("TOKEN_ISSUER", ISSUER), ("AUDIENCE", AUDIENCE)];
    let with = |extra: &[(&str, &str)]| env(&[&base[..], extra].concat()).map(|_| ());
    assert!(
        with(&[
            ("OPAQUE_TOKENS", "userinfo"),
            ("OPAQUE_AUDIENCE", "unbound")
        ])
        .is_ok()
    );
    // Userinfo answers name no audience: accepting that must be said.
    let config = |extra: &[(&str, &str)]| {
        token_verifier::Config::combine(&env(&[&base[..], extra].concat()).unwrap(), None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert!(
        config(&[("OPAQUE_TOKENS", "userinfo")])
            .unwrap_err()
            .starts_with("OPAQUE_AUDIENCE")
    );
    assert!(
        config(&[
            ("OPAQUE_TOKENS", "userinfo"),
            ("OPAQUE_AUDIENCE", "unbound")
        ])
        .is_ok()
    );
    let cases: [(&[(&str, &str)], &str); 8] = [
        (&[("OPAQUE_TOKENS", "sometimes")], "OPAQUE_TOKENS"),
        (
            &[("OPAQUE_TOKENS", "introspection")],
            "INTROSPECTION_CLIENT_ID",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "introspection"),
                ("INTROSPECTION_CLIENT_ID", "c"),
            ],
            "INTROSPECTION_SECRET_PARAMETER",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("INTROSPECTION_CLIENT_ID", "c"),
            ],
            "INTROSPECTION_CLIENT_ID",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("OPAQUE_ENDPOINT", "http://idp.example.com/me"),
            ],
            "OPAQUE_ENDPOINT",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("OPAQUE_CACHE_SECONDS", "301"),
            ],
            "OPAQUE_CACHE_SECONDS",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("INTROSPECTION_CLIENT_AUTH", "post"),
            ],
            "INTROSPECTION_CLIENT_AUTH",
        ),
        (
            &[
                ("OPAQUE_TOKENS", "userinfo"),
                ("OPAQUE_AUDIENCE", "sometimes"),
            ],
            "OPAQUE_AUDIENCE",
        ),
    ];
    for (extra, variable) in cases {
        let error = with(extra).unwrap_err();
        assert!(error.starts_with(variable), "{extra:?}: {error}");
    }
}

#[tokio::test]
async fn only_one_issuer_can_validate_opaque_tokens_and_its_secret_must_exist() {
    let document = json!({"issuers": [
        {"issuer": "https://a.example/", "audiences": ["x"], "opaque_tokens": {"mode": "userinfo", "audience": "unbound"}},
        {"issuer": "https://b.example/", "audiences": ["x"], "opaque_tokens": {"mode": "userinfo", "audience": "unbound"}},
    ]});
    let parsed = token_verifier::ConfigDocument::parse("doc", &document.to_string()).unwrap();
    let error = token_verifier::Config::combine(&EnvConfig::default(), Some(parsed)).unwrap_err();
    assert!(error.to_string().contains("only one issuer"), "{error}");

    let store: Arc<dyn ParameterStore> = Arc::new(MemoryStore::default());
    let vars = [
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("OPAQUE_TOKENS", "introspection"),
        ("INTROSPECTION_CLIENT_ID", "c"),
        ("INTROSPECTION_SECRET_PARAMETER", "/missing"),
    ];
    let error = Authorizer::load_with(env(&vars).unwrap(), Some(store))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("INTROSPECTION_SECRET_PARAMETER /missing: no such parameter"),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_without_an_audience_is_refused_unless_unbound_is_chosen() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Json(introspected(json!({"aud": null}))));
    let enforced = load(&server, "introspection", &[]).await;
    let decided = bearer(&enforced, OPAQUE).await;
    assert_eq!(decided.reason(), "wrong_audience");
    assert!(decided.detail().contains("names no audience"));
    let unbound = load(&server, "introspection", &[("OPAQUE_AUDIENCE", "unbound")]).await;
    assert_eq!(bearer(&unbound, OPAQUE).await.reason(), "ok");
    // Bound to the app instead: the client id must be one of AUDIENCE.
    let by_client = load(
        &server,
        "introspection",
        &[
            ("AUDIENCE_FALLBACK_CLAIM", "client_id"),
            ("AUDIENCE", "spa"),
        ],
    )
    .await;
    assert_eq!(bearer(&by_client, OPAQUE).await.reason(), "ok");
    server.set(
        "/opaque",
        Reply::Json(introspected(json!({"aud": null, "client_id": "other-app"}))),
    );
    assert_eq!(
        bearer(&by_client, "another-opaque-token-for-other-app")
            .await
            .reason(),
        "wrong_audience"
    );
}

#[tokio::test]
async fn refresh_and_id_tokens_the_provider_vouches_for_are_not_access_tokens() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer = load(&server, "introspection", &[]).await;
    for (n, extra) in [
        json!({"token_type": "refresh_token"}),
        json!({"typ": "Refresh"}),
        json!({"token_type": "id_token"}),
        json!({"token_use": "refresh_token"}),
    ]
    .into_iter()
    .enumerate()
    {
        server.set("/opaque", Reply::Json(introspected(extra.clone())));
        let decided = bearer(&authorizer, &format!("{OPAQUE}-refresh-{n}")).await;
        assert_eq!(decided.reason(), "wrong_token_type", "{extra}");
    }
    for (n, extra) in [
        json!({"token_type": "Bearer"}),
        json!({"token_type": "access_token", "token_use": "access_token"}),
        json!({"token_type": "DPoP"}),
    ]
    .into_iter()
    .enumerate()
    {
        server.set("/opaque", Reply::Json(introspected(extra.clone())));
        let decided = bearer(&authorizer, &format!("{OPAQUE}-access-{n}")).await;
        assert_eq!(decided.reason(), "ok", "{extra}");
    }
}

#[tokio::test]
async fn a_jwe_goes_to_the_provider_too_and_short_strings_never_do() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|7"}).to_string()),
    );
    let authorizer = load(&server, "userinfo", &[]).await;
    let jwe = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv-part.ciphertext-part.tag-part";
    let decided = bearer(&authorizer, jwe).await;
    assert_eq!(
        decided.reason(),
        "ok",
        "Auth0's no-audience JWE, vouched for by userinfo"
    );
    assert_eq!(server.hits("/opaque"), 1);
    let decided = bearer(&authorizer, "0123456789").await;
    assert_eq!(decided.reason(), "opaque_token", "too short to be sent");
    // Placeholders are no token at all: the client sent none (and they are not sent on).
    for placeholder in ["undefined", "null"] {
        let decided = bearer(&authorizer, placeholder).await;
        assert_eq!(decided.reason(), "missing_token", "{placeholder}");
    }
    assert_eq!(server.hits("/opaque"), 1, "never sent");
    // Five segments with characters no JWE has: not sent either.
    let not_a_jwe = "eyJhbGciOiJkaXIifQ..iv+part.cipher/text.tag=";
    assert_eq!(
        bearer(&authorizer, not_a_jwe).await.reason(),
        "encrypted_token"
    );
    assert_eq!(server.hits("/opaque"), 1, "never sent");
    let rejecting = fixed_authorizer(&[&rsa_a()], &[]);
    assert_eq!(bearer(&rejecting, jwe).await.reason(), "encrypted_token");
}

#[tokio::test]
async fn after_a_failure_new_tokens_are_refused_without_asking_for_a_moment() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Status(503, "down".into()));
    let authorizer = load(&server, "introspection", &[]).await;
    assert_eq!(
        bearer(&authorizer, OPAQUE).await.reason(),
        "introspection_unavailable"
    );
    for n in 0..20 {
        let decided = bearer(&authorizer, &format!("{OPAQUE}-flood-{n}")).await;
        assert_eq!(decided.reason(), "introspection_unavailable");
        assert_eq!(
            decided.record.facts.opaque_lookup,
            Some(Lookup::NotAsked),
            "neither a lookup nor a cache hit in the metrics"
        );
    }
    assert_eq!(
        server.hits("/opaque"),
        1,
        "one question during the back-off"
    );
    tokio::time::sleep(token_verifier::testing::FAILURE_BACKOFF).await;
    server.set("/opaque", Reply::Json(introspected(json!({}))));
    assert_eq!(bearer(&authorizer, OPAQUE).await.reason(), "ok");
}

#[tokio::test]
async fn a_rotated_client_secret_is_re_read_after_a_401() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Status(401, "invalid_client".into()));
    let store = Arc::new(MemoryStore::default());
    store.set(SECRET_PARAMETER, "old-secret");
    let authorizer = load_using(&server, "introspection", &[], store.clone()).await;
    store.set(SECRET_PARAMETER, "rotated-secret");
    let decided = bearer(&authorizer, OPAQUE).await;
    assert_eq!(decided.reason(), "introspection_unavailable");
    assert_eq!(
        server.hits("/opaque"),
        2,
        "asked again with the re-read secret"
    );
    assert!(!format!("{:?}", decided.record).contains("rotated-secret"));
}

#[tokio::test]
async fn a_refusal_about_one_token_does_not_hold_up_the_others() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer = load(&server, "userinfo", &[("OPAQUE_AUDIENCE", "unbound")]).await;
    // Malformed or oversized requests for one token: that token's negative answer.
    for (n, status) in [400u16, 413, 414, 431].into_iter().enumerate() {
        server.set("/opaque", Reply::Status(status, String::new()));
        let decided = bearer(&authorizer, &format!("{OPAQUE}-bad-{n}")).await;
        assert_eq!(decided.reason(), "token_inactive", "{status}");
        assert_eq!(decided.record.outcome, Outcome::Unauthorized);
    }
    // The next token is asked at once: no back-off.
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|7"}).to_string()),
    );
    assert_eq!(bearer(&authorizer, OPAQUE).await.reason(), "ok");
    assert_eq!(server.hits("/opaque"), 5);
}

#[tokio::test]
async fn a_rate_limited_token_is_refused_alone_for_a_moment() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Status(429, "slow down".into()));
    let authorizer = load(&server, "userinfo", &[("OPAQUE_AUDIENCE", "unbound")]).await;
    let limited = format!("{OPAQUE}-limited");
    for _ in 0..3 {
        let decided = bearer(&authorizer, &limited).await;
        assert_eq!(decided.reason(), "introspection_unavailable");
        assert_eq!(
            decided.record.outcome,
            Outcome::Error,
            "a 500: nothing cached by API Gateway"
        );
    }
    assert_eq!(
        server.hits("/opaque"),
        1,
        "not asked again during the back-off"
    );
    assert_eq!(
        bearer(&authorizer, &limited)
            .await
            .record
            .facts
            .opaque_lookup,
        Some(Lookup::NotAsked),
        "a remembered rate limit is not a cache hit"
    );
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|7"}).to_string()),
    );
    assert_eq!(
        bearer(&authorizer, OPAQUE).await.reason(),
        "ok",
        "others go on"
    );
    tokio::time::sleep(token_verifier::testing::FAILURE_BACKOFF).await;
    assert_eq!(bearer(&authorizer, &limited).await.reason(), "ok");
}

#[tokio::test]
async fn an_introspection_400_or_429_is_our_failure_and_backs_off() {
    // RFC 7662 answers an unknown token with active: false; a 400 means our request (the
    // client authentication, a parameter) and a 429 means our client is rate-limited.
    for (status, body) in [
        (400u16, json!({"error": "invalid_request"}).to_string()),
        (400, json!({"error": "invalid_client"}).to_string()),
        (429, String::new()),
    ] {
        let server = JwksServer::with_keys(&[&rsa_a()]).await;
        server.set("/opaque", Reply::Status(status, body.clone()));
        let authorizer = load(&server, "introspection", &[]).await;
        let decided = bearer(&authorizer, OPAQUE).await;
        assert_eq!(
            decided.reason(),
            "introspection_unavailable",
            "{status} {body}"
        );
        assert_eq!(decided.record.outcome, Outcome::Error);
        let other = bearer(&authorizer, &format!("{OPAQUE}-other")).await;
        assert_eq!(other.reason(), "introspection_unavailable");
        assert_eq!(other.record.facts.opaque_lookup, Some(Lookup::NotAsked));
    }
}

#[tokio::test]
async fn a_credential_too_long_to_be_a_token_is_never_sent() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|7"}).to_string()),
    );
    let authorizer = load(&server, "userinfo", &[("OPAQUE_AUDIENCE", "unbound")]).await;
    let long = "a".repeat(token_verifier::testing::MAX_TOKEN_CHARS + 1);
    let decided = bearer(&authorizer, &long).await;
    assert_eq!(decided.reason(), "opaque_token");
    assert_eq!(decided.record.facts.opaque_lookup, Some(Lookup::NotAsked));
    assert_eq!(server.hits("/opaque"), 0);
}

/// SSM that answers the first read (init) at once and later ones after `delay`,
/// counting every read started.
struct SlowRereads {
    inner: MemoryStore,
    delay: Duration,
    started: std::sync::atomic::AtomicUsize,
}

impl ParameterStore for SlowRereads {
    fn get<'a>(
        &'a self,
        name: &'a str,
    ) -> token_verifier::BoxFuture<'a, Result<Option<token_verifier::Parameter>, String>> {
        Box::pin(async move {
            if self
                .started
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                > 0
            {
                tokio::time::sleep(self.delay).await;
            }
            self.inner.get(name).await
        })
    }
    fn put<'a>(
        &'a self,
        name: &'a str,
        value: String,
    ) -> token_verifier::BoxFuture<'a, Result<(), String>> {
        self.inner.put(name, value)
    }
}

#[tokio::test]
async fn a_secret_re_read_cut_short_by_the_deadline_may_be_tried_again() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Status(401, "invalid_client".into()));
    let store = Arc::new(SlowRereads {
        inner: MemoryStore::default(),
        delay: Duration::from_millis(1500),
        started: std::sync::atomic::AtomicUsize::new(0),
    });
    store.inner.set(SECRET_PARAMETER, "old-secret");
    let authorizer = load_using(&server, "introspection", &[], store.clone()).await;
    let reads = || store.started.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(reads(), 1, "read at init");
    // A 401 starts a re-read, which the 1 s request deadline cuts short.
    let decided = bearer(&authorizer, OPAQUE).await;
    assert_eq!(decided.reason(), "introspection_unavailable");
    assert_eq!(reads(), 2);
    tokio::time::sleep(token_verifier::testing::FAILURE_BACKOFF).await;
    // The next 401 may re-read at once, not a minute later.
    let _ = bearer(&authorizer, &format!("{OPAQUE}-2")).await;
    assert_eq!(
        reads(),
        3,
        "the unfinished re-read did not use up the minute"
    );
}

#[tokio::test]
async fn the_endpoint_is_discovered_like_the_keys_and_a_missing_one_is_named() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let issuer = server.url("/");
    let discovery = |member: Option<&str>| {
        let mut doc = json!({"issuer": issuer, "jwks_uri": server.url("/jwks")});
        if let Some(member) = member {
            doc[member] = json!(server.url("/opaque"));
        }
        Reply::Json(doc.to_string())
    };
    server.set(
        "/opaque",
        Reply::Json(json!({"sub": "auth0|7"}).to_string()),
    );
    let vars = [
        ("TOKEN_ISSUER", issuer.as_str()),
        ("AUDIENCE", AUDIENCE),
        ("OPAQUE_TOKENS", "userinfo"),
        ("OPAQUE_AUDIENCE", "unbound"),
    ];
    server.set(
        "/.well-known/openid-configuration",
        discovery(Some("userinfo_endpoint")),
    );
    let found = Authorizer::load_with(env(&vars).unwrap(), None)
        .await
        .unwrap();
    found.prefetch().await;
    assert_eq!(bearer(&found, OPAQUE).await.reason(), "ok");
    assert_eq!(
        server.hits("/.well-known/openid-configuration"),
        1,
        "one discovery document serves the key set and the endpoint"
    );

    server.set("/.well-known/openid-configuration", discovery(None));
    let missing = Authorizer::load_with(env(&vars).unwrap(), None)
        .await
        .unwrap();
    missing.prefetch().await;
    let decided = bearer(&missing, OPAQUE).await;
    assert_eq!(decided.reason(), "introspection_unavailable");
    assert!(
        decided
            .detail()
            .contains("no userinfo_endpoint member; set OPAQUE_ENDPOINT"),
        "{}",
        decided.detail()
    );
}

/// AppSync keeps an answer for an opaque token no longer than this function keeps the
/// provider's: `ttlOverride` is at most `OPAQUE_CACHE_SECONDS`.
#[tokio::test]
async fn an_appsync_answer_for_an_opaque_token_is_cached_no_longer_than_the_providers() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    server.set("/opaque", Reply::Json(introspected(json!({}))));
    let authorizer = load(&server, "introspection", &[("OPAQUE_CACHE_SECONDS", "45")]).await;
    let event = json!({
        "authorizationToken": OPAQUE,
        "requestContext": {"apiId": "api", "accountId": "1", "requestId": "r", "queryString": "{ me }"},
    });
    let decided = decide(&authorizer, event).await;
    assert_eq!(decided.reason(), "ok", "{:?}", decided.record.refusal);
    let ttl = decided.allowed()["ttlOverride"].as_u64().unwrap();
    assert!(ttl > 0 && ttl <= 45, "ttlOverride {ttl}");
}
