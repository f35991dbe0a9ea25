//! DPoP (RFC 9449; README "DPoP-bound tokens"): with `SENDER_CONSTRAINT`, a token bound
//! to a client key (`cnf.jkt`) passes only as `Authorization: DPoP` with one fresh proof
//! signed by that key for this request (`htm`, `htu`) and this token (`ath`), once. Every
//! attack of the issue is here with its exact reason.

use std::sync::Arc;

use serde_json::{Value, json};
use token_verifier::Authorizer;
use token_verifier::tool::dev::SigningKey;

use crate::support::*;

/// The URL a client calls for the test API's `GET /messages` on the default endpoint:
/// the stage is part of the path.
const URL: &str = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/messages";

/// The client's key, made at test time: its thumbprint is what the token is bound to.
fn client_key() -> SigningKey {
    SigningKey::generate_es256("client").unwrap()
}

fn bound_token(client: &SigningKey) -> String {
    rsa_a()
        .mint(&claims(json!({"cnf": {"jkt": client.thumbprint()}})))
        .unwrap()
}

/// Another token bound to the same key (another `jti`).
fn another_bound_token(client: &SigningKey) -> String {
    rsa_a()
        .mint(&claims(
            json!({"cnf": {"jkt": client.thumbprint()}, "jti": "another"}),
        ))
        .unwrap()
}

fn jti() -> String {
    let mut random = [0u8; 12];
    aws_lc_rs::rand::fill(&mut random).unwrap();
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random)
}

/// A fresh proof by `client` for `GET {URL}` with `token`.
fn proof(client: &SigningKey, token: &str) -> String {
    client
        .dpop_proof("GET", URL, Some(token), now(), &jti())
        .unwrap()
}

#[allow(clippy::cast_precision_loss)]
fn now() -> f64 {
    unix_now() as f64
}

/// A REST REQUEST event as API Gateway sends it: the `Authorization` and `DPoP` headers
/// (every value in `multiValueHeaders`), the domain and the path with the stage.
fn rest(authorization: &str, proofs: &[&str]) -> Value {
    let mut event = rest_request(json!({"Authorization": authorization}));
    if let Some(last) = proofs.last() {
        event["headers"]["DPoP"] = json!(last);
        event["multiValueHeaders"]["DPoP"] = json!(proofs);
    }
    event["requestContext"]["domainName"] = json!("abcdef1234.execute-api.us-east-1.amazonaws.com");
    event["requestContext"]["path"] = json!("/prod/messages");
    event
}

/// An HTTP API payload 2.0 event: lower-cased headers, repeats joined by commas, the
/// named stage in `rawPath`.
fn http_v2_dpop(authorization: &str, proofs: &[&str]) -> Value {
    let mut event = http_v2(authorization);
    if !proofs.is_empty() {
        event["headers"]["dpop"] = json!(proofs.join(","));
    }
    event["rawPath"] = json!("/prod/messages");
    event["requestContext"]["domainName"] = json!("abcdef1234.execute-api.us-east-1.amazonaws.com");
    event
}

fn dpop_authorizer(vars: &[(&str, &str)]) -> Authorizer {
    let mut all = vec![("SENDER_CONSTRAINT", "allow")];
    all.extend_from_slice(vars);
    fixed_authorizer(&[&rsa_a()], &all)
}

#[tokio::test]
async fn a_fresh_proof_by_the_bound_key_passes_on_every_front_door_with_headers() {
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let scheme = format!("DPoP {token}");
    let rest_event = rest(&scheme, &[&proof(&client, &token)]);
    assert_eq!(decide(&authorizer, rest_event).await.reason(), "ok");
    let v2 = http_v2_dpop(&scheme, &[&proof(&client, &token)]);
    assert_eq!(decide(&authorizer, v2).await.reason(), "ok");
    let mut v1 = http_v1(&scheme);
    v1["headers"]["dpop"] = json!(proof(&client, &token));
    v1["requestContext"]["domainName"] = json!("abcdef1234.execute-api.us-east-1.amazonaws.com");
    v1["requestContext"]["path"] = json!("/prod/messages");
    assert_eq!(decide(&authorizer, v1).await.reason(), "ok");
    // The scheme is case-insensitive; the proof may come with an iat a little ahead
    // (within the leeway), with a query on the request and none in htu, and with the
    // URL spelled differently but equal once normalised.
    let ahead = client
        .dpop_proof("GET", URL, Some(&token), now() + 30.0, &jti())
        .unwrap();
    let spelled = client
        .dpop_proof(
            "GET",
            "HTTPS://ABCDEF1234.execute-api.us-east-1.amazonaws.com:443/prod/./messages?page=2",
            Some(&token),
            now(),
            &jti(),
        )
        .unwrap();
    for proof in [ahead, spelled] {
        let event = rest(&format!("dpop {token}"), &[&proof]);
        assert_eq!(decide(&authorizer, event).await.reason(), "ok");
    }
    // Every proof algorithm: Ed25519, RSA and P-384 client keys.
    for client in [ed25519(), rsa_a(), ec_p384()] {
        let token = bound_token(&client);
        let event = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
        assert_eq!(
            decide(&authorizer, event).await.reason(),
            "ok",
            "{client:?}"
        );
    }
}

/// One valid proof, then each field of it changed alone: every change is refused with
/// its own reason (an attack of the issue each).
#[tokio::test]
async fn each_attack_on_a_proof_is_refused_with_its_reason() {
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let ath = token_verifier::testing::access_token_hash(&token);
    let good_claims = || json!({"jti": jti(), "htm": "GET", "htu": URL, "iat": now(), "ath": ath});
    let header = client.dpop_header();
    let signed = |header: &Value, claims: &Value| client.dpop_proof_with(header, claims).unwrap();
    let with = |name: &str, value: Value| {
        let mut claims = good_claims();
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value;
        }
        signed(&header, &claims)
    };
    let header_with = |name: &str, value: Value| {
        let mut header = client.dpop_header();
        header[name] = value;
        signed(&header, &good_claims())
    };
    let other = client_key();
    // Signed by another key than the jwk it carries.
    let foreign = {
        let mut header = client.dpop_header();
        header["jwk"] = other.bare_public_jwk();
        signed(&header, &good_claims())
    };
    let mut private_jwk = client.bare_public_jwk();
    private_jwk["d"] = json!("c2VjcmV0");
    let unsigned = {
        let header = json!({"typ": "dpop+jwt", "alg": "none", "jwk": client.bare_public_jwk()});
        let b64 = |v: &Value| {
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                v.to_string(),
            )
        };
        format!("{}.{}.c2ln", b64(&header), b64(&good_claims()))
    };
    let hmac = {
        let header =
            json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}});
        let b64 = |v: &Value| {
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                v.to_string(),
            )
        };
        format!("{}.{}.c2ln", b64(&header), b64(&good_claims()))
    };
    let other_token = another_bound_token(&client);
    let for_other_token = client
        .dpop_proof("GET", URL, Some(&other_token), now(), &jti())
        .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "signed by another key than its jwk",
            foreign,
            "invalid_proof",
        ),
        (
            "jwk with a private member",
            header_with("jwk", private_jwk),
            "invalid_proof",
        ),
        (
            "jwk of kty oct",
            header_with("jwk", json!({"kty": "oct", "k": "c2VjcmV0"})),
            "invalid_proof",
        ),
        ("alg none", unsigned, "invalid_proof"),
        ("alg HS256", hmac, "invalid_proof"),
        ("no jwk", header_with("jwk", Value::Null), "invalid_proof"),
        ("typ JWT", header_with("typ", json!("JWT")), "invalid_proof"),
        (
            "another method",
            with("htm", json!("POST")),
            "proof_request_mismatch",
        ),
        (
            "another host",
            with("htu", json!("https://evil.example/prod/messages")),
            "proof_request_mismatch",
        ),
        (
            "another path",
            with(
                "htu",
                json!("https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/admin"),
            ),
            "proof_request_mismatch",
        ),
        (
            "the path smuggled in a query",
            with(
                "htu",
                json!(
                    "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/admin?x=/prod/messages"
                ),
            ),
            "proof_request_mismatch",
        ),
        (
            "the stage left out",
            with(
                "htu",
                json!("https://abcdef1234.execute-api.us-east-1.amazonaws.com/messages"),
            ),
            "proof_request_mismatch",
        ),
        (
            "iat too old",
            with("iat", json!(now() - 120.0)),
            "invalid_proof",
        ),
        (
            "iat in the future",
            with("iat", json!(now() + 600.0)),
            "invalid_proof",
        ),
        ("iat a string", with("iat", json!("now")), "invalid_proof"),
        ("no jti", with("jti", Value::Null), "invalid_proof"),
        (
            "wrong ath",
            with("ath", json!("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")),
            "proof_token_mismatch",
        ),
        ("no ath", with("ath", Value::Null), "proof_token_mismatch"),
        (
            "a proof for another token",
            for_other_token,
            "proof_token_mismatch",
        ),
        ("not a JWS", "not-a-proof".to_owned(), "invalid_proof"),
    ];
    for (attack, proof, expected) in cases {
        let decided = decide(&authorizer, rest(&format!("DPoP {token}"), &[&proof])).await;
        assert_eq!(decided.reason(), expected, "{attack}: {}", decided.detail());
        let says = match attack {
            "signed by another key than its jwk" => "does not verify with the jwk in its header",
            "jwk with a private member" => "private key material (d)",
            "jwk of kty oct" => "symmetric (oct) key",
            "alg none" => "an unsigned proof proves nothing",
            "alg HS256" => "HS256, symmetric",
            "no jwk" => "jwk is null",
            "typ JWT" => "not dpop+jwt",
            "another method" => "htm is POST",
            "iat too old" => "DPOP_MAX_AGE_SECONDS allows 60",
            "iat in the future" => "in the future",
            "iat a string" => "not a number",
            "no jti" => "no jti",
            "no ath" => "has no ath",
            "wrong ath" | "a proof for another token" => "made for another token",
            "not a JWS" => "no usable JWS",
            _ => "the proof's htu is",
        };
        assert!(
            decided.detail().contains(says),
            "{attack}: {}",
            decided.detail()
        );
        assert!(decided.answer.is_err(), "{attack}: a 401");
        assert!(
            !decided.detail().contains(&token) && !decided.detail().contains(&proof),
            "{attack}: {}",
            decided.detail()
        );
    }
}

#[tokio::test]
async fn the_binding_itself_is_checked() {
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    // A proof by another client's key: valid as a proof, not the key the token names.
    let thief = client_key();
    let stolen = rest(&format!("DPoP {token}"), &[&proof(&thief, &token)]);
    let decided = decide(&authorizer, stolen).await;
    assert_eq!(decided.reason(), "proof_key_mismatch");
    assert!(
        decided.detail().contains(&client.thumbprint()),
        "{}",
        decided.detail()
    );
    // The bound token as Bearer, with or without a proof beside it.
    let bearer = rest(&format!("Bearer {token}"), &[&proof(&client, &token)]);
    assert_eq!(
        decide(&authorizer, bearer).await.reason(),
        "bound_token_as_bearer"
    );
    // DPoP without a proof; DPoP through a TOKEN authorizer, which sees one header only.
    let bare = rest(&format!("DPoP {token}"), &[]);
    assert_eq!(decide(&authorizer, bare).await.reason(), "missing_proof");
    let token_event = rest_token(&format!("Bearer {token}"));
    assert_eq!(
        decide(&authorizer, token_event).await.reason(),
        "bound_token_as_bearer"
    );
    // Two proofs: RFC 9449 §4.3 allows one (REST lists both, HTTP API joins them).
    let two = [proof(&client, &token), proof(&client, &token)];
    let rest_two = rest(&format!("DPoP {token}"), &[&two[0], &two[1]]);
    assert_eq!(
        decide(&authorizer, rest_two).await.reason(),
        "invalid_proof"
    );
    let v2_two = http_v2_dpop(&format!("DPoP {token}"), &[&two[0], &two[1]]);
    let decided = decide(&authorizer, v2_two).await;
    assert_eq!(decided.reason(), "invalid_proof");
    assert!(
        decided.detail().contains("2 DPoP headers"),
        "{}",
        decided.detail()
    );
    // An unbound token with the DPoP scheme: nothing binds it to the proof's key.
    let plain = rsa_a().mint(&claims(json!({}))).unwrap();
    let unbound = rest(&format!("DPoP {plain}"), &[&proof(&client, &plain)]);
    assert_eq!(
        decide(&authorizer, unbound).await.reason(),
        "token_not_bound"
    );
    // With SENDER_CONSTRAINT off nothing reads DPoP: the scheme is no bearer token.
    let off = fixed_authorizer(&[&rsa_a()], &[]);
    let event = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
    let decided = decide(&off, event).await;
    assert_eq!(decided.reason(), "missing_token");
    assert!(
        decided.detail().contains("SENDER_CONSTRAINT"),
        "{}",
        decided.detail()
    );
}

/// A proof is good for one request: replayed in the same execution environment it is
/// refused (across environments, the DynamoDB table of tests/e2e/dpop.rs).
#[tokio::test]
async fn a_replayed_proof_is_refused() {
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let once = proof(&client, &token);
    let event = rest(&format!("DPoP {token}"), &[&once]);
    assert_eq!(decide(&authorizer, event.clone()).await.reason(), "ok");
    let replayed = decide(&authorizer, event).await;
    assert_eq!(replayed.reason(), "proof_replayed");
    assert!(replayed.answer.is_err(), "a 401");
    // A proof refused for something else is not used up by it: the same jti, first
    // sent for another token, then for its own.
    let jti = jti();
    let other = another_bound_token(&client);
    let wrong = client
        .dpop_proof("GET", URL, Some(&other), now(), &jti)
        .unwrap();
    let right = client
        .dpop_proof("GET", URL, Some(&token), now(), &jti)
        .unwrap();
    let first = decide(&authorizer, rest(&format!("DPoP {token}"), &[&wrong])).await;
    assert_eq!(first.reason(), "proof_token_mismatch");
    let second = decide(&authorizer, rest(&format!("DPoP {token}"), &[&right])).await;
    assert_eq!(second.reason(), "ok");
}

/// Bounded memory fails closed: when it holds `DPOP_REPLAY_CAPACITY` proofs still in
/// their window, a new proof is refused (500, not cached) rather than one forgotten early.
#[tokio::test]
async fn a_full_replay_memory_fails_closed() {
    let authorizer = dpop_authorizer(&[("DPOP_REPLAY_CAPACITY", "1024")]);
    let client = client_key();
    let token = bound_token(&client);
    for _ in 0..1024 {
        let event = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
        assert_eq!(decide(&authorizer, event).await.reason(), "ok");
    }
    let event = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
    let decided = decide(&authorizer, event).await;
    assert_eq!(decided.reason(), "replay_store_unavailable");
    assert!(
        matches!(decided.answer, Err(token_verifier::Failure::Error(_))),
        "a 500 API Gateway does not cache"
    );
}

/// The URL API Gateway's event reports, and `PUBLIC_BASE_URL` for what it cannot tell
/// (an HTTP API custom domain with an API mapping key, a CDN in front).
#[tokio::test]
async fn the_request_url_comes_from_the_event_or_the_public_base_url() {
    let client = client_key();
    let token = bound_token(&client);
    // A REST custom domain with a base path mapping: requestContext.path holds it.
    let custom = client
        .dpop_proof(
            "GET",
            "https://api.example.com/v1/messages",
            Some(&token),
            now(),
            &jti(),
        )
        .unwrap();
    let mut event = rest(&format!("DPoP {token}"), &[&custom]);
    event["requestContext"]["domainName"] = json!("api.example.com");
    event["requestContext"]["path"] = json!("/v1/messages");
    let authorizer = dpop_authorizer(&[]);
    assert_eq!(decide(&authorizer, event).await.reason(), "ok");
    // PUBLIC_BASE_URL and the path after the stage in the route's ARN.
    let behind = client
        .dpop_proof(
            "GET",
            "https://api.example.com/orders/messages",
            Some(&token),
            now(),
            &jti(),
        )
        .unwrap();
    let based = dpop_authorizer(&[("PUBLIC_BASE_URL", "https://api.example.com/orders/")]);
    let event = http_v2_dpop(&format!("DPoP {token}"), &[&behind]);
    assert_eq!(decide(&based, event).await.reason(), "ok");
    // An event without the domain: the URL cannot be known, and the refusal says so.
    let mut event = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
    event["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("domainName");
    let decided = decide(&authorizer, event).await;
    assert_eq!(decided.reason(), "proof_request_mismatch");
    assert!(
        decided.detail().contains("PUBLIC_BASE_URL"),
        "{}",
        decided.detail()
    );
}

#[test]
fn the_settings_are_checked_at_init() {
    for (name, value, expected) in [
        ("DPOP_ALGORITHMS", "HS256", "symmetric"),
        ("DPOP_MAX_AGE_SECONDS", "3600", "at most 600"),
        ("DPOP_REPLAY_CAPACITY", "10", "at least 1024"),
        ("PUBLIC_BASE_URL", "api.example.com/v1", "not a URL"),
        (
            "PUBLIC_BASE_URL",
            "https://api.example.com/v1?x=1",
            "no query",
        ),
    ] {
        let error = token_verifier::Config::from_lookup(|n| match n {
            "TOKEN_ISSUER" => Some(ISSUER.into()),
            "AUDIENCE" => Some(AUDIENCE.into()),
            n if n == name => Some(value.into()),
            _ => None,
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains(name) && error.contains(expected),
            "{name}: {error}"
        );
    }
    let document = json!({"issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "sender_constraint": "require"}],
                          "dpop": {"algorithms": ["ES256"], "max_age_seconds": 30, "replay_table": "proofs"},
                          "gateway": {"public_base_url": "https://api.example.com"}});
    let document =
        token_verifier::ConfigDocument::parse("test.json", &document.to_string()).unwrap();
    let env = token_verifier::EnvConfig::from_lookup(|_| None).unwrap();
    let config = token_verifier::Config::combine(&env, Some(document)).unwrap();
    assert_eq!(config.dpop.algorithms, [token_verifier::Algorithm::ES256]);
    assert_eq!(config.dpop.max_age.as_secs(), 30);
    assert_eq!(config.dpop.replay_table.as_deref(), Some("proofs"));
    assert_eq!(
        config.gateway.public_base_url.as_deref(),
        Some("https://api.example.com")
    );
    let bad = json!({"dpop": {"max_age_seconds": 0}});
    let error = token_verifier::ConfigDocument::parse("test.json", &bad.to_string())
        .unwrap_err()
        .to_string();
    assert!(error.contains("dpop.max_age_seconds"), "{error}");
}

/// `explain --dpop PROOF --method M --url U` judges the proof as the authorizer does;
/// without it a DPoP-bound token's binding is not checked, never passed.
#[tokio::test]
async fn explain_judges_the_proof_given() {
    use token_verifier::tool::explain::{Options, Proof, Status, Verdict, explain};
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let options = |proof: Option<String>, url: &str| Options {
        offline: false,
        audience_known: true,
        arn: None,
        now: token_verifier::now(),
        client_cert: None,
        dpop: proof.map(|proof| Proof {
            proof,
            method: "GET".to_owned(),
            url: url.to_owned(),
        }),
    };
    let binding = binding_status;
    let good = explain(
        Some(&authorizer),
        &token,
        &options(Some(proof(&client, &token)), URL),
    )
    .await;
    assert_eq!(good.verdict(), Verdict::Allow);
    assert_eq!(binding(&good), Status::Pass);
    let without = explain(Some(&authorizer), &token, &options(None, URL)).await;
    assert_eq!(binding(&without), Status::NotChecked);
    let elsewhere = explain(
        Some(&authorizer),
        &token,
        &options(
            Some(proof(&client, &token)),
            "https://evil.example/prod/messages",
        ),
    )
    .await;
    match elsewhere.verdict() {
        Verdict::Refused(refusal) => assert_eq!(refusal.reason.code(), "proof_request_mismatch"),
        verdict => panic!("{verdict:?}"),
    }
}

/// The tower layer reads the same headers, and RFC 9449 §7.1's `DPoP` challenge names the
/// algorithms a proof may use. The URL is `PUBLIC_BASE_URL` and the path (or the domain
/// AWS reports to `lambda_http`), never the client's own `Host` header: a proof made for
/// another server must not pass here because the client says it is that server.
#[tokio::test]
async fn the_tower_layer_checks_proofs_and_answers_with_a_dpop_challenge() {
    use tower::{ServiceBuilder, ServiceExt as _, service_fn};
    let layer_with = |vars: &[(&str, &str)]| {
        let mut all = vec![("DPOP_ALGORITHMS", "ES256,EdDSA")];
        all.extend_from_slice(vars);
        token_verifier::layer::VerifyLayer::new(Arc::new(dpop_authorizer(&all)))
    };
    let layer = layer_with(&[("PUBLIC_BASE_URL", "https://api.example.com")]);
    let hosted = layer_with(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let call =
        |layer: &token_verifier::layer::VerifyLayer, proofs: Vec<String>, scheme: &'static str| {
            let layer = layer.clone();
            let token = token.clone();
            async move {
                let service = ServiceBuilder::new().layer(layer).service(service_fn(
                    |_: http::Request<String>| async {
                        Ok::<_, std::convert::Infallible>(http::Response::new("ok".to_owned()))
                    },
                ));
                let mut request = http::Request::builder()
                    .uri("/messages")
                    .header("host", "api.example.com")
                    .header("authorization", format!("{scheme} {token}"));
                for proof in proofs {
                    request = request.header("dpop", proof);
                }
                let response = service
                    .oneshot(request.body(String::new()).unwrap())
                    .await
                    .unwrap();
                (
                    response.status().as_u16(),
                    response
                        .headers()
                        .get("www-authenticate")
                        .map(|v| v.to_str().unwrap().to_owned()),
                )
            }
        };
    let url = "https://api.example.com/messages";
    let good = client
        .dpop_proof("GET", url, Some(&token), now(), &jti())
        .unwrap();
    assert_eq!(call(&layer, vec![good.clone()], "DPoP").await, (200, None));
    let (status, challenge) = call(&layer, vec![good], "DPoP").await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some(
            r#"DPoP realm="api", error="invalid_dpop_proof", error_description="proof_replayed", algs="ES256 EdDSA""#
        )
    );
    let (status, challenge) = call(&layer, vec![], "Bearer").await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().starts_with(
        r#"DPoP realm="api", error="invalid_token", error_description="bound_token_as_bearer""#
    ));
    // Without PUBLIC_BASE_URL and without a domain from AWS, the Host header is not
    // taken for the URL: the proof is refused, the challenge says so.
    let fresh = client
        .dpop_proof("GET", url, Some(&token), now(), &jti())
        .unwrap();
    let (status, challenge) = call(&hosted, vec![fresh], "DPoP").await;
    assert_eq!(status, 401);
    assert!(
        challenge
            .unwrap()
            .contains(r#"error_description="proof_request_mismatch""#),
        "the Host header is no URL to check a proof against"
    );
}

/// What the event cannot say reliably is refused, never guessed: no method, a path with
/// `#`, `?` or a backslash in it (which the URL parser would cut or rewrite).
#[tokio::test]
async fn an_unreliable_method_or_path_refuses_the_proof() {
    let authorizer = dpop_authorizer(&[]);
    let client = client_key();
    let token = bound_token(&client);
    let mut no_method = rest(&format!("DPoP {token}"), &[&proof(&client, &token)]);
    no_method.as_object_mut().unwrap().remove("httpMethod");
    no_method["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("httpMethod");
    let decided = decide(&authorizer, no_method).await;
    assert_eq!(decided.reason(), "proof_request_mismatch");
    assert!(decided.detail().contains("method"), "{}", decided.detail());
    for path in ["/prod/messages#x", "/prod/messages?x", "/prod\\messages"] {
        let proof = client
            .dpop_proof(
                "GET",
                &format!("https://abcdef1234.execute-api.us-east-1.amazonaws.com{path}"),
                Some(&token),
                now(),
                &jti(),
            )
            .unwrap();
        let mut event = rest(&format!("DPoP {token}"), &[&proof]);
        event["requestContext"]["path"] = json!(path);
        let decided = decide(&authorizer, event).await;
        assert_eq!(decided.reason(), "proof_request_mismatch", "{path}");
    }
    // The detail shows the proof's htu without its query, which may carry secrets.
    let leaky = client
        .dpop_proof(
            "GET",
            "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/admin?api_key=s3cr3t",
            Some(&token),
            now(),
            &jti(),
        )
        .unwrap();
    let decided = decide(&authorizer, rest(&format!("DPoP {token}"), &[&leaky])).await;
    assert_eq!(decided.reason(), "proof_request_mismatch");
    assert!(!decided.detail().contains("s3cr3t"), "{}", decided.detail());
}
