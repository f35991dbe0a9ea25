//! One test per refusal reason, and per classic mistake users ask identity-provider forums about.
//! Each asserts the reason code, the 401/403/500 outcome, and the hint a user needs.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use token_verifier::Algorithm;
use token_verifier::Failure;
use token_verifier::{Outcome, Reason};

use crate::support::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn refused(vars: &[(&str, &str)], token: &str) -> Decided {
    let authorizer = fixed_authorizer(&[&rsa_a()], vars);
    decide(&authorizer, rest_token(&format!("Bearer {token}"))).await
}

fn hint(decided: &Decided) -> String {
    decided
        .record
        .refusal
        .as_ref()
        .map(token_verifier::Refusal::hint)
        .unwrap_or_default()
}

fn assert_401(decided: &Decided, code: &str) {
    assert_eq!(decided.reason(), code, "hint: {}", hint(decided));
    assert_eq!(decided.answer, Err(Failure::Unauthorized));
    assert_eq!(decided.record.outcome, Outcome::Unauthorized);
}

fn signed(extra: Value) -> String {
    rsa_a().mint(&claims(extra)).unwrap()
}

#[tokio::test]
async fn a_valid_token_is_allowed() {
    let decided = refused(&[], &signed(json!({}))).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(decided.record.outcome, Outcome::Allow);
    assert_eq!(decided.record.principal.as_deref(), Some("user-123"));
}

#[tokio::test]
async fn missing_token() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    for value in [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        &signed(json!({})),
    ] {
        let decided = decide(&authorizer, rest_token(value)).await;
        assert_401(&decided, "missing_token");
    }
}

/// `undefined`, `null`, `[object Object]`: a client that sent no token at all, said so —
/// not an opaque token "because the app asked for no API audience".
#[tokio::test]
async fn a_placeholder_is_a_missing_token_and_the_hint_says_so() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    for value in ["Bearer undefined", "Bearer null", "Bearer [object Object]"] {
        let decided = decide(&authorizer, rest_token(value)).await;
        assert_401(&decided, "missing_token");
        let hint = decided.record.refusal.as_ref().unwrap().hint();
        assert!(
            hint.contains("the client sent no token at all"),
            "{value}: {hint}"
        );
        assert!(!hint.contains("audience"), "{value}: {hint}");
    }
}

#[tokio::test]
async fn token_too_large() {
    let big = format!("{}.{}.{}", "a".repeat(10_000), "b".repeat(10_000), "c");
    assert_401(&refused(&[], &big).await, "token_too_large");
    let small_cap = refused(&[("MAX_TOKEN_BYTES", "512")], &signed(json!({}))).await;
    assert_401(&small_cap, "token_too_large");
}

#[tokio::test]
async fn opaque_token_names_the_audience_fix() {
    // What an IdP returns when the app requested no audience (Auth0: 32 chars; oidc-provider: 43).
    for opaque in [
        "LR7c_Q_yzswhQm0RFjydd96UtHyaglMUpKaHAFtU1KW",
        "8xLOxBtZp8NO2bAlXDEzOhNpZX5zBtJZ",
    ] {
        let decided = refused(&[], opaque).await;
        assert_401(&decided, "opaque_token");
        assert!(hint(&decided).contains("audience"), "{}", hint(&decided));
    }
}

#[tokio::test]
async fn encrypted_token_is_named_with_the_same_fix() {
    let header = b64(br#"{"alg":"dir","enc":"A256GCM","iss":"https://idp.example.com/"}"#);
    let jwe = format!(
        "{header}..{}.{}.{}",
        b64(b"iv-iv-iv-iv"),
        b64(b"ciphertext"),
        b64(b"tag")
    );
    let decided = refused(&[], &jwe).await;
    assert_401(&decided, "encrypted_token");
    assert!(hint(&decided).contains("enc A256GCM"), "{}", hint(&decided));
    assert!(hint(&decided).contains("audience"));
}

#[tokio::test]
async fn malformed_token() {
    let good = signed(json!({}));
    let (h, rest) = good.split_once('.').unwrap();
    for bad in [
        format!("{h}.{rest}.extra"),
        format!("{h}.!!!.x"),
        format!("{h}..x"),
        "a.b".to_owned(),
    ] {
        assert_401(&refused(&[], &bad).await, "malformed_token");
    }
}

#[tokio::test]
async fn unsupported_header() {
    let key = rsa_a();
    let payload = claims(json!({})).to_string();
    for header in [
        json!({"alg": "RS256", "kid": "rsa-a", "crit": ["exp"]}),
        json!({"alg": "RS256", "kid": "rsa-a", "b64": false, "crit": ["b64"]}),
        json!({"alg": "RS256", "kid": "rsa-a", "cty": "JWT"}),
    ] {
        let token = key
            .sign_parts(
                Algorithm::RS256,
                header.to_string().as_bytes(),
                payload.as_bytes(),
            )
            .unwrap();
        assert_401(&refused(&[], &token).await, "unsupported_header");
    }
}

#[tokio::test]
async fn algorithm_not_allowed() {
    let key = rsa_a();
    let payload = claims(json!({})).to_string();
    // alg none in several spellings, with an empty and with a real signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "kid": "rsa-a"}).to_string();
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(payload.as_bytes()));
        let decided = refused(&[], &unsigned).await;
        assert!(["malformed_token", "algorithm_not_allowed"].contains(&decided.reason()));
        let real_sig = key
            .sign_parts(Algorithm::RS256, header.as_bytes(), payload.as_bytes())
            .unwrap();
        assert_401(&refused(&[], &real_sig).await, "algorithm_not_allowed");
    }
    // A correctly signed PS256 token when only RS256 is allowed.
    let ps = key
        .sign_parts(
            Algorithm::PS256,
            json!({"alg": "PS256", "kid": "rsa-a"})
                .to_string()
                .as_bytes(),
            payload.as_bytes(),
        )
        .unwrap();
    let decided = refused(&[], &ps).await;
    assert_401(&decided, "algorithm_not_allowed");
    assert!(
        hint(&decided).contains("ALLOWED_ALGORITHMS (RS256)"),
        "{}",
        hint(&decided)
    );
}

#[tokio::test]
async fn rs_to_hs_key_confusion_is_refused_whatever_the_key_encoding() {
    let key = rsa_a();
    let jwk = key.public_jwk();
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa-a.pem"))
        .unwrap();
    let secrets: Vec<Vec<u8>> = vec![
        jwk.to_string().into_bytes(),
        jwk["n"].as_str().unwrap().as_bytes().to_vec(),
        pem.into_bytes(),
        Vec::new(),
    ];
    let payload = b64(claims(json!({})).to_string().as_bytes());
    for alg in ["HS256", "HS384", "HS512"] {
        let header = b64(json!({"alg": alg, "kid": "rsa-a", "typ": "JWT"})
            .to_string()
            .as_bytes());
        let input = format!("{header}.{payload}");
        for secret in &secrets {
            let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
            let token = format!("{input}.{}", b64(mac.as_ref()));
            let decided = refused(&[], &token).await;
            assert_401(&decided, "algorithm_not_allowed");
            assert!(hint(&decided).contains("symmetric"));
        }
    }
}

#[tokio::test]
async fn wrong_token_type() {
    let key = rsa_a();
    let payload = claims(json!({})).to_string();
    let logout = key
        .sign_parts(
            Algorithm::RS256,
            json!({"alg": "RS256", "kid": "rsa-a", "typ": "logout+jwt"})
                .to_string()
                .as_bytes(),
            payload.as_bytes(),
        )
        .unwrap();
    assert_401(&refused(&[], &logout).await, "wrong_token_type");
    let plain = key
        .sign_parts(
            Algorithm::RS256,
            json!({"alg": "RS256", "kid": "rsa-a", "typ": "JWT"})
                .to_string()
                .as_bytes(),
            payload.as_bytes(),
        )
        .unwrap();
    assert_eq!(refused(&[], &plain).await.reason(), "ok");
    let strict = [
        ("ALLOWED_TOKEN_TYPES", "at+jwt"),
        ("REQUIRE_TOKEN_TYPE", "true"),
    ];
    assert_401(&refused(&strict, &plain).await, "wrong_token_type");
    let untyped = key
        .sign_parts(
            Algorithm::RS256,
            json!({"alg": "RS256", "kid": "rsa-a"})
                .to_string()
                .as_bytes(),
            payload.as_bytes(),
        )
        .unwrap();
    assert_eq!(refused(&[], &untyped).await.reason(), "ok");
    assert_401(&refused(&strict, &untyped).await, "wrong_token_type");
    assert_eq!(refused(&strict, &signed(json!({}))).await.reason(), "ok");
    assert_401(
        &refused(&[], &signed(json!({"token_use": "refresh"}))).await,
        "wrong_token_type",
    );
}

#[tokio::test]
async fn wrong_issuer_and_the_trailing_slash() {
    let decided = refused(&[], &signed(json!({"iss": "https://idp.example.com"}))).await;
    assert_401(&decided, "wrong_issuer");
    assert!(
        hint(&decided).contains("trailing slash"),
        "{}",
        hint(&decided)
    );
    for iss in [
        "https://evil.example.com/",
        "https://IDP.example.com/",
        "https://idp.example.com/.evil",
        "https://idp.example.com%2F",
    ] {
        assert_401(
            &refused(&[], &signed(json!({"iss": iss}))).await,
            "wrong_issuer",
        );
    }
    assert_401(
        &refused(&[], &signed(json!({"iss": ["https://evil/", ISSUER]}))).await,
        "invalid_claim",
    );
    assert_401(
        &refused(&[], &signed(json!({"iss": 5}))).await,
        "invalid_claim",
    );
    assert_401(
        &refused(&[], &signed(json!({"iss": null}))).await,
        "missing_claim",
    );
}

#[tokio::test]
async fn unknown_kid() {
    let token = rsa_b().mint(&claims(json!({}))).unwrap();
    assert_401(&refused(&[], &token).await, "unknown_kid");
}

#[tokio::test]
async fn ambiguous_key_without_kid_or_with_a_duplicate_kid() {
    let a = rsa_a();
    let b = rsa_b();
    let payload = claims(json!({})).to_string();
    let no_kid = a
        .sign_parts(Algorithm::RS256, br#"{"alg":"RS256"}"#, payload.as_bytes())
        .unwrap();
    // With exactly one RS256 key, a kid-less token is accepted...
    assert_eq!(refused(&[], &no_kid).await.reason(), "ok");
    // ...with two it is ambiguous.
    let two = fixed_authorizer(&[&a, &b], &[]);
    assert_401(
        &decide(&two, rest_token(&format!("Bearer {no_kid}"))).await,
        "ambiguous_key",
    );
    // Two keys published under one kid.
    let twin = token_verifier::tool::dev::SigningKey::from_pem(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa-b.pem"))
            .unwrap(),
        "rsa-a",
        Algorithm::RS256,
    )
    .unwrap();
    let dup = fixed_authorizer(&[&a, &twin], &[]);
    let decided = decide(
        &dup,
        rest_token(&format!("Bearer {}", a.mint(&claims(json!({}))).unwrap())),
    )
    .await;
    assert_401(&decided, "ambiguous_key");
}

#[tokio::test]
async fn key_algorithm_mismatch() {
    // The JWK says RS256; a PS256 token signed by the same RSA key is refused.
    let key = rsa_a();
    let authorizer = fixed_authorizer(&[&key], &[("ALLOWED_ALGORITHMS", "RS256,PS256")]);
    let ps = key
        .sign_parts(
            Algorithm::PS256,
            br#"{"alg":"PS256","kid":"rsa-a"}"#,
            claims(json!({})).to_string().as_bytes(),
        )
        .unwrap();
    let decided = decide(&authorizer, rest_token(&format!("Bearer {ps}"))).await;
    assert_401(&decided, "key_algorithm_mismatch");
    assert!(
        hint(&decided).contains("declared for RS256"),
        "{}",
        hint(&decided)
    );
    // An ES256 token naming an RSA key.
    let ec = ec_p256();
    let es = ec
        .sign_parts(
            Algorithm::ES256,
            br#"{"alg":"ES256","kid":"rsa-a"}"#,
            claims(json!({})).to_string().as_bytes(),
        )
        .unwrap();
    let both = fixed_authorizer(&[&key], &[("ALLOWED_ALGORITHMS", "RS256,ES256")]);
    assert_401(
        &decide(&both, rest_token(&format!("Bearer {es}"))).await,
        "key_algorithm_mismatch",
    );
}

#[tokio::test]
async fn invalid_signature() {
    let token = signed(json!({}));
    let (input, sig) = token.rsplit_once('.').unwrap();
    // Another key's signature under our kid.
    let forged = format!(
        "{input}.{}",
        rsa_b()
            .mint(&claims(json!({})))
            .unwrap()
            .rsplit_once('.')
            .unwrap()
            .1
    );
    assert_401(&refused(&[], &forged).await, "invalid_signature");
    // A payload changed after signing.
    let (header, _) = input.split_once('.').unwrap();
    let admin = b64(claims(json!({"scope": "admin"})).to_string().as_bytes());
    assert_401(
        &refused(&[], &format!("{header}.{admin}.{sig}")).await,
        "invalid_signature",
    );
    // Truncated signature.
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    bytes.truncate(bytes.len() - 3);
    assert_401(
        &refused(&[], &format!("{input}.{}", b64(&bytes))).await,
        "invalid_signature",
    );
    // Every single-bit flip of the signature.
    let bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    for bit in (0..bytes.len() * 8).step_by(97) {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_401(
            &refused(&[], &format!("{input}.{}", b64(&flipped))).await,
            "invalid_signature",
        );
    }
}

#[tokio::test]
async fn id_token_sent_as_access_token() {
    let decided = refused(&[], &signed(json!({"aud": "my-spa-client-id", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "scope": null}))).await;
    assert_401(&decided, "id_token");
    assert!(
        hint(&decided).contains("send the access token"),
        "{}",
        hint(&decided)
    );
    assert_401(
        &refused(&[], &signed(json!({"token_use": "id"}))).await,
        "id_token",
    );
    // Without nonce/at_hash: an audience refusal that still names the suspicion.
    let decided = refused(
        &[],
        &signed(json!({"aud": "my-spa-client-id", "email": "a@b.c", "scope": null})),
    )
    .await;
    assert_401(&decided, "wrong_audience");
    assert!(hint(&decided).contains("ID token"), "{}", hint(&decided));
}

#[tokio::test]
async fn wrong_audience_says_what_was_found_and_expected() {
    let decided = refused(
        &[],
        &signed(json!({"aud": ["https://other.example.com", "https://idp.example.com/userinfo"]})),
    )
    .await;
    assert_401(&decided, "wrong_audience");
    let h = hint(&decided);
    assert!(
        h.contains("https://other.example.com") && h.contains(AUDIENCE),
        "{h}"
    );
    let slash = refused(&[], &signed(json!({"aud": "https://api.example.com/"}))).await;
    assert!(hint(&slash).contains("trailing slash"));
    // Auth0 puts /userinfo next to the API audience: accepted.
    let auth0 = refused(
        &[],
        &signed(json!({"aud": [AUDIENCE, "https://idp.example.com/userinfo"]})),
    )
    .await;
    assert_eq!(auth0.reason(), "ok");
    // Several accepted audiences.
    let several = refused(
        &[("AUDIENCE", "https://a.example.com, https://api.example.com")],
        &signed(json!({})),
    )
    .await;
    assert_eq!(several.reason(), "ok");
}

#[tokio::test]
async fn expired_not_yet_valid_and_issued_in_future() {
    let now = unix_now();
    let decided = refused(&[], &signed(json!({"exp": now - 3600}))).await;
    assert_401(&decided, "expired");
    assert!(
        hint(&decided).contains("expired 1h 0m ago") || hint(&decided).contains("expired 59m"),
        "{}",
        hint(&decided)
    );
    assert_eq!(
        refused(&[], &signed(json!({"exp": now - 30})))
            .await
            .reason(),
        "ok"
    );
    assert_401(
        &refused(
            &[("LEEWAY_SECONDS", "0")],
            &signed(json!({"exp": now - 30})),
        )
        .await,
        "expired",
    );
    assert_401(
        &refused(&[], &signed(json!({"nbf": now + 3600}))).await,
        "not_yet_valid",
    );
    assert_401(
        &refused(&[], &signed(json!({"iat": now + 3600}))).await,
        "issued_in_future",
    );
}

#[tokio::test]
async fn token_too_old() {
    let now = unix_now();
    let old = signed(json!({"iat": now - 7200, "exp": now + 600}));
    assert_eq!(refused(&[], &old).await.reason(), "ok");
    assert_401(
        &refused(&[("MAX_TOKEN_AGE_SECONDS", "3600")], &old).await,
        "token_too_old",
    );
}

#[tokio::test]
async fn missing_claim() {
    assert_401(
        &refused(&[], &signed(json!({"exp": null}))).await,
        "missing_claim",
    );
    assert_401(
        &refused(&[], &signed(json!({"sub": null}))).await,
        "missing_claim",
    );
    assert_401(
        &refused(
            &[("REQUIRED_CLAIMS", "client_id,jti")],
            &signed(json!({"jti": null})),
        )
        .await,
        "missing_claim",
    );
    let by_email = refused(
        &[("PRINCIPAL_CLAIMS", "email,sub")],
        &signed(json!({"email": "u@example.com"})),
    )
    .await;
    assert_eq!(by_email.record.principal.as_deref(), Some("u@example.com"));
}

#[tokio::test]
async fn invalid_claim_including_the_string_nbf_cve_class() {
    // CVE-2026-25537: a string nbf must not be treated as absent.
    let now = unix_now();
    assert_401(
        &refused(&[], &signed(json!({"nbf": (now + 99_999_999).to_string()}))).await,
        "invalid_claim",
    );
    assert_401(
        &refused(&[], &signed(json!({"exp": "9999999999"}))).await,
        "invalid_claim",
    );
    assert_401(
        &refused(&[], &signed(json!({"aud": 123}))).await,
        "invalid_claim",
    );
}

#[tokio::test]
async fn insufficient_scope_is_a_deny() {
    let decided = refused(&[("REQUIRED_SCOPES", "write:messages")], &signed(json!({}))).await;
    assert_eq!(decided.reason(), "insufficient_scope");
    assert_eq!(decided.record.outcome, Outcome::Deny);
    assert!(
        hint(&decided).contains("missing [write:messages]"),
        "{}",
        hint(&decided)
    );
}

#[tokio::test]
async fn jwks_unavailable_fails_closed_with_an_error() {
    let server = JwksServer::start().await;
    server.set("/jwks", Reply::Status(503, "down".into()));
    let authorizer = authorizer(&server, &[]).await;
    let decided = decide(
        &authorizer,
        rest_token(&format!("Bearer {}", signed(json!({})))),
    )
    .await;
    assert_eq!(decided.reason(), "jwks_unavailable");
    assert_eq!(decided.record.outcome, Outcome::Error);
    let Err(Failure::Error(refusal)) = decided.answer else {
        panic!("expected an error")
    };
    assert!(refusal.to_string().contains("503"), "{refusal}");
}

#[tokio::test]
async fn every_reason_has_a_test_here_or_in_the_files_of_its_feature() {
    let source = [
        include_str!("refusals.rs"),
        include_str!("shapes.rs"),
        include_str!("cache.rs"),
        include_str!("routes.rs"),
        include_str!("opaque.rs"),
        include_str!("binding.rs"),
        include_str!("dpop.rs"),
        include_str!("cedar.rs"),
    ]
    .concat();
    for reason in Reason::ALL {
        assert!(
            source.contains(&format!("\"{}\"", reason.code())),
            "no test names {}",
            reason.code()
        );
    }
}

#[tokio::test]
async fn no_token_or_signature_reaches_the_decision_record() {
    let token = signed(json!({}));
    let signature = token.rsplit_once('.').unwrap().1.to_owned();
    for vars in [
        &[][..],
        &[("REQUIRED_SCOPES", "admin")][..],
        &[("AUDIENCE", "other")][..],
    ] {
        let decided = refused(vars, &token).await;
        let text = format!(
            "{:?} {}",
            decided.record,
            decided
                .answer
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
        );
        assert!(
            !text.contains(&token) && !text.contains(&signature),
            "{text}"
        );
    }
}
