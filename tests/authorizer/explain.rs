//! `explain` agrees with the authorizer: for every kind of token the first check it fails
//! is the authorizer's refusal, with the same code and detail, and a token it passes is
//! one the authorizer allows. Unlike the authorizer, it goes on after a failure.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use token_verifier::Authorizer;
use token_verifier::Check;
use token_verifier::Outcome;
use token_verifier::tool::explain::{Options, Status, TokenKind, Verdict, explain};

use crate::support::*;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn options() -> Options {
    Options {
        offline: false,
        audience_known: true,
        arn: Some(METHOD_ARN.to_owned()),
        now: token_verifier::now(),
        client_cert: None,
        dpop: None,
    }
}

async fn agree(authorizer: &Authorizer, token: &str) -> token_verifier::tool::explain::Report {
    let decided = decide(authorizer, rest_token(&format!("Bearer {token}"))).await;
    let report = explain(Some(authorizer), token, &options()).await;
    match (&decided.record.refusal, report.verdict()) {
        (None, Verdict::Allow) => assert_eq!(decided.record.outcome, Outcome::Allow),
        (Some(refusal), Verdict::Refused(first)) => assert_eq!(refusal, &first),
        (refusal, verdict) => panic!("authorizer {refusal:?}, explain {verdict:?}"),
    }
    assert_eq!(
        report.steps.iter().map(|s| s.check).collect::<Vec<_>>(),
        Check::ALL,
        "every check, once, in order"
    );
    report
}

#[tokio::test]
async fn explain_and_the_authorizer_agree_on_every_kind_of_token() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[("REQUIRED_SCOPES", "read:messages")]);
    let signed = |extra: Value| rsa_a().mint(&claims(extra)).unwrap();
    let now = unix_now();
    let tokens = vec![
        signed(json!({})),
        "0123456789abcdefghijklmnopqrstuv".to_owned(),
        format!("{}.a.b.c.d", b64(&json!({"alg": "dir", "enc": "A256GCM"}))),
        "not a token".to_owned(),
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none"})),
            b64(&claims(json!({})))
        ),
        format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "HS256", "kid": "rsa-a"})),
            b64(&claims(json!({})))
        ),
        signed(json!({"at_hash": "x", "nonce": "n", "scope": null})),
        signed(json!({"iss": "https://idp.example.com"})),
        signed(json!({"iss": "https://other.example.com/"})),
        rsa_b().mint(&claims(json!({}))).unwrap(),
        signed(json!({"aud": "https://api.example.com/"})),
        signed(json!({"aud": ["https://a", "https://b"]})),
        signed(json!({"exp": now - 3600})),
        signed(json!({"nbf": now + 3600})),
        signed(json!({"iat": now + 3600})),
        signed(json!({"exp": null})),
        signed(json!({"nbf": "0"})),
        signed(json!({"token_use": "id"})),
        signed(json!({"sub": null})),
        signed(json!({"scope": "openid"})),
    ];
    let mut tampered = signed(json!({}));
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    for token in tokens.iter().chain([&tampered]) {
        agree(&authorizer, token).await;
    }
}

#[tokio::test]
async fn explain_goes_on_after_a_failure_and_names_every_problem() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let token = rsa_a()
        .mint(&claims(json!({
            "iss": "https://idp.example.com", "aud": "https://elsewhere", "exp": unix_now() - 60,
        })))
        .unwrap();
    let report = agree(&authorizer, &token).await;
    let failed: Vec<(&str, &str)> = report
        .steps
        .iter()
        .filter_map(|s| match &s.status {
            Status::Fail(r) => Some((s.check.name(), r.reason.code())),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("issuer", "wrong_issuer"),
            ("audience", "wrong_audience"),
            ("expiry", "expired")
        ]
    );
    let signature = report
        .steps
        .iter()
        .find(|s| s.check == Check::Signature)
        .unwrap();
    assert_eq!(
        signature.status,
        Status::Pass,
        "one issuer: its rules still apply"
    );
    assert_eq!(report.kind, TokenKind::AccessToken);
}

#[tokio::test]
async fn kinds_are_named_with_their_fix() {
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let cases = [
        (
            "0123456789abcdefghijklmnopqrstuv".to_owned(),
            TokenKind::Opaque,
        ),
        (
            format!(
                "{}.a.b.c.d",
                b64(&json!({"alg": "RSA-OAEP", "enc": "A256GCM"}))
            ),
            TokenKind::Encrypted,
        ),
        (
            rsa_a().mint(&claims(json!({"at_hash": "x"}))).unwrap(),
            TokenKind::IdToken,
        ),
        ("a.b".to_owned(), TokenKind::Malformed),
        (String::new(), TokenKind::Empty),
    ];
    for (token, kind) in cases {
        let report = explain(Some(&authorizer), &token, &options()).await;
        assert_eq!(report.kind, kind, "{token}");
        if matches!(
            kind,
            TokenKind::Opaque | TokenKind::Encrypted | TokenKind::IdToken
        ) {
            assert!(kind.advice().unwrap().contains("audience"), "{kind:?}");
            assert!(report.render().contains(kind.advice().unwrap()));
        }
    }
    let jwe = explain(
        Some(&authorizer),
        &format!(
            "{}.a.b.c.d",
            b64(&json!({"alg": "RSA-OAEP", "enc": "A256GCM"}))
        ),
        &options(),
    )
    .await;
    assert_eq!(
        jwe.header.unwrap()["enc"],
        "A256GCM",
        "the JWE header is shown"
    );
}

#[tokio::test]
async fn without_configuration_only_what_needs_none_is_judged() {
    let token = rsa_a()
        .mint(&claims(json!({"exp": unix_now() - 7200})))
        .unwrap();
    let report = explain(None, &token, &options()).await;
    let status = |check: Check| {
        report
            .steps
            .iter()
            .find(|s| s.check == check)
            .unwrap()
            .status
            .clone()
    };
    for check in [
        Check::Issuer,
        Check::Algorithm,
        Check::Key,
        Check::Signature,
        Check::Audience,
        Check::Scopes,
    ] {
        assert_eq!(status(check), Status::NotChecked, "{check:?}");
    }
    assert!(matches!(status(Check::Expiry), Status::Fail(r) if r.reason.code() == "expired"));
    assert!(
        report.render().contains("expired 2h 0m ago"),
        "{}",
        report.render()
    );
    let valid = explain(None, &rsa_a().mint(&claims(json!({}))).unwrap(), &options()).await;
    assert!(matches!(valid.verdict(), Verdict::Incomplete(_)));
    assert_eq!(
        valid.exit_code(),
        1,
        "0 only when the authorizer would allow it"
    );
}

#[tokio::test]
async fn offline_explain_says_the_signature_was_not_checked() {
    let server = JwksServer::with_keys(&[&rsa_a()]).await;
    let authorizer =
        Authorizer::new(config(&[("JWKS_URI", server.url("/jwks").as_str())])).unwrap();
    let token = rsa_a().mint(&claims(json!({}))).unwrap();
    let offline = explain(
        Some(&authorizer),
        &token,
        &Options {
            offline: true,
            ..options()
        },
    )
    .await;
    assert_eq!(
        offline.verdict(),
        Verdict::Incomplete(vec![Check::Key, Check::Signature])
    );
    assert_eq!(server.total_hits(), 0);
    let online = agree(&authorizer, &token).await;
    assert_eq!(online.verdict(), Verdict::Allow);
    assert_eq!(online.exit_code(), 0);
}
