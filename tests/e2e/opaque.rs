//! Opaque tokens validated by the real OpenID Provider (oidc-provider's `/me` userinfo and
//! `/token/introspection`), through the built authorizer under the Lambda emulator, with
//! the introspection client's secret read from a `SecureString` of a real SSM API (moto).

use serde_json::Value;

use crate::emulator::{Emulator, policy_allows};
use crate::moto::Moto;
use crate::provider::Provider;
use crate::support::rest_token;

fn decision(emulator: &Emulator, index: usize) -> Value {
    emulator.decisions()[index].clone()
}

#[tokio::test]
#[ignore = "needs the Lambda emulator, moto and Node; run scripts/test"]
async fn introspection_with_a_secret_from_ssm_allows_the_providers_opaque_tokens() {
    let provider = Provider::start("introspection", None, "1").await;
    let moto = Moto::start("introspection").await;
    moto.put("/tv/introspection-secret", "svc-secret", true)
        .await;
    moto.put("/tv/wrong-secret", "not-the-secret", true).await;
    let ssm = moto.env();
    let mut vars: Vec<(&str, &str)> = ssm.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend([
        ("TOKEN_ISSUER", provider.issuer.as_str()),
        // The provider's opaque client-credentials tokens name no audience: bind them to
        // the client instead.
        ("AUDIENCE", "svc"),
        ("AUDIENCE_FALLBACK_CLAIM", "client_id"),
        ("OPAQUE_TOKENS", "introspection"),
        ("INTROSPECTION_CLIENT_ID", "svc"),
        ("INTROSPECTION_SECRET_PARAMETER", "/tv/introspection-secret"),
        ("PRINCIPAL_CLAIMS", "sub,client_id"),
        ("REQUIRED_SCOPES", "read:messages"),
    ]);
    let emulator = Emulator::start("opaque-introspection", &vars).await;

    let opaque = provider.access_token(None).await;
    assert!(!opaque.contains('.'));
    for _ in 0..3 {
        let answer = emulator.bearer(&opaque).await;
        assert!(policy_allows(&answer), "{answer}");
        assert_eq!(answer["principalId"], "svc");
        assert_eq!(answer["context"]["client_id"], "svc");
    }
    let first = decision(&emulator, 0);
    assert_eq!(first["opaque"], "introspection");
    assert_eq!(first["opaque_cache"], "miss");
    assert_eq!(decision(&emulator, 2)["opaque_cache"], "hit");
    let log = emulator.log();
    assert!(
        log.contains("\"message\":\"discovered the opaque-token endpoint\""),
        "{log}"
    );
    assert!(
        !log.contains(&opaque) && !log.contains("svc-secret"),
        "no token or secret in logs"
    );

    // A token the provider does not know is inactive.
    let unknown = "x".repeat(43);
    let answer = emulator.bearer(&unknown).await;
    assert_eq!(answer["errorMessage"], "Unauthorized");
    assert_eq!(decision(&emulator, 3)["reason"], "token_inactive");

    // The wrong client secret: the provider refuses the introspection call; fail closed.
    let mut wrong = vars.clone();
    for pair in &mut wrong {
        if pair.0 == "INTROSPECTION_SECRET_PARAMETER" {
            pair.1 = "/tv/wrong-secret";
        }
    }
    let misconfigured = Emulator::start("opaque-wrong-secret", &wrong).await;
    let answer = misconfigured.bearer(&opaque).await;
    assert_eq!(answer["errorType"], "introspection_unavailable", "{answer}");

    // A rotation: the function read the old secret at init; SSM now holds the new one.
    moto.put("/tv/rotating", "old-secret", true).await;
    for pair in &mut wrong {
        if pair.0 == "INTROSPECTION_SECRET_PARAMETER" {
            pair.1 = "/tv/rotating";
        }
    }
    let rotating = Emulator::start("opaque-rotation", &wrong).await;
    // Init happens at the first invoke; a credential too short to send starts it.
    let _ = rotating.invoke(&rest_token("Bearer warm-up")).await;
    moto.put("/tv/rotating", "svc-secret", true).await;
    let answer = rotating.bearer(&opaque).await;
    assert!(policy_allows(&answer), "{answer}");
    assert!(rotating.log().contains("re-read after a 401"));
}

#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn userinfo_allows_a_users_opaque_token_with_the_users_claims() {
    let provider = Provider::start("userinfo", None, "1").await;
    let emulator = Emulator::start(
        "opaque-userinfo",
        &[
            ("TOKEN_ISSUER", provider.issuer.as_str()),
            ("AUDIENCE", "https://api.example.com/rs256"),
            ("OPAQUE_TOKENS", "userinfo"),
            ("OPAQUE_AUDIENCE", "unbound"),
        ],
    )
    .await;
    let token = provider.user_access_token().await;
    let answer = emulator.bearer(&token).await;
    assert!(policy_allows(&answer), "{answer}");
    assert_eq!(answer["principalId"], "user-1");
    assert_eq!(answer["context"]["email"], "user-1@example.com");
    assert_eq!(decision(&emulator, 0)["opaque"], "userinfo");

    // A client-credentials token has no user: userinfo refuses it.
    let machine = provider.access_token(None).await;
    let answer = emulator.bearer(&machine).await;
    assert_eq!(answer["errorMessage"], "Unauthorized", "{answer}");
    assert_eq!(decision(&emulator, 1)["reason"], "token_inactive");
}
