//! DPoP (RFC 9449) through the real pieces: DPoP-bound tokens issued by a real OpenID
//! Provider (oidc-provider's `dPoP` feature) to a client key made at test time, judged by
//! the built authorizer under the Lambda emulator; and the replay table in DynamoDB
//! (moto), shared by two authorizer processes, as two Lambda execution environments share
//! it.

use serde_json::{Value, json};
use token_verifier::tool::dev::{SigningKey, jwks};

use crate::emulator::Emulator;
use crate::moto::Moto;
use crate::provider::Provider;
use crate::support::*;

const DOMAIN: &str = "abcdef1234.execute-api.us-east-1.amazonaws.com";
const URL: &str = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/messages";

#[allow(clippy::cast_precision_loss)]
fn now() -> f64 {
    unix_now() as f64
}

fn jti() -> String {
    let mut random = [0u8; 12];
    aws_lc_rs::rand::fill(&mut random).unwrap();
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random)
}

/// An HTTP API payload 2.0 event of `GET /prod/messages` with these credentials.
fn event(authorization: &str, proof: Option<&str>) -> Value {
    let mut event = http_v2(authorization);
    if let Some(proof) = proof {
        event["headers"]["dpop"] = json!(proof);
    }
    event["rawPath"] = json!("/prod/messages");
    event["requestContext"]["domainName"] = json!(DOMAIN);
    event
}

fn reasons(emulator: &Emulator) -> Vec<Value> {
    emulator
        .decisions()
        .iter()
        .map(|d| d["reason"].clone())
        .collect()
}

/// The provider binds the token to the client's key; the authorizer lets it through only
/// with a fresh proof by that key, once.
#[tokio::test]
#[ignore = "needs the Lambda emulator and Node; run scripts/test"]
async fn dpop_bound_provider_tokens_need_a_fresh_proof_by_their_key() {
    let provider = Provider::start("dpop", None, "1").await;
    let client = SigningKey::generate_es256("client").unwrap();
    let (token, token_type) = provider
        .dpop_access_token("https://api.example.com/es256", &client)
        .await;
    assert_eq!(token_type, "DPoP", "the provider issued a DPoP-bound token");
    let emulator = Emulator::start(
        "op-dpop",
        &[
            ("TOKEN_ISSUER", provider.issuer.as_str()),
            ("AUDIENCE", "https://api.example.com/es256"),
            ("ALLOWED_ALGORITHMS", "ES256"),
            ("SENDER_CONSTRAINT", "require"),
        ],
    )
    .await;
    let scheme = format!("DPoP {token}");
    let proof = client
        .dpop_proof("GET", URL, Some(&token), now(), &jti())
        .unwrap();
    let answer = emulator.invoke(&event(&scheme, Some(&proof))).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(
        answer["context"]["cnf"]["jkt"],
        json!(client.thumbprint()),
        "{answer}"
    );
    // The same proof again; the token as Bearer; a thief's proof; no proof.
    let replayed = emulator.invoke(&event(&scheme, Some(&proof))).await;
    assert_eq!(replayed["errorMessage"], "Unauthorized", "{replayed}");
    let bearer = emulator
        .invoke(&event(&format!("Bearer {token}"), None))
        .await;
    assert_eq!(bearer["errorMessage"], "Unauthorized", "{bearer}");
    let thief = SigningKey::generate_es256("thief").unwrap();
    let stolen = thief
        .dpop_proof("GET", URL, Some(&token), now(), &jti())
        .unwrap();
    let refused = emulator.invoke(&event(&scheme, Some(&stolen))).await;
    assert_eq!(refused["errorMessage"], "Unauthorized", "{refused}");
    let bare = emulator.invoke(&event(&scheme, None)).await;
    assert_eq!(bare["errorMessage"], "Unauthorized", "{bare}");
    // The provider's bearer tokens: require refuses them.
    let unbound = provider
        .access_token(Some("https://api.example.com/es256"))
        .await;
    let refused = emulator
        .invoke(&event(&format!("Bearer {unbound}"), None))
        .await;
    assert_eq!(refused["errorMessage"], "Unauthorized", "{refused}");
    assert_eq!(
        reasons(&emulator),
        [
            "ok",
            "proof_replayed",
            "bound_token_as_bearer",
            "proof_key_mismatch",
            "missing_proof",
            "token_not_bound"
        ]
    );
    // The log line never holds the token or the proof.
    let log = emulator.log();
    assert!(!log.contains(&token) && !log.contains(&proof));
}

/// Each Lambda execution environment has its own memory: a proof accepted by one is
/// refused by another only through the shared DynamoDB table. A table that cannot be
/// asked fails closed (500, which API Gateway does not cache).
#[tokio::test]
#[ignore = "needs the Lambda emulator and moto; run scripts/test"]
async fn a_proof_replayed_to_another_environment_is_refused_through_the_table() {
    let moto = Moto::start("dpop").await;
    moto.create_replay_table("proofs").await;
    let aws = moto.env();
    let keys = jwks(&[&rsa_a()]).to_string();
    let mut vars: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(&[
        ("TOKEN_ISSUER", ISSUER),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_JSON", keys.as_str()),
        ("SENDER_CONSTRAINT", "allow"),
        ("DPOP_REPLAY_TABLE", "proofs"),
    ]);
    let first = Emulator::start("dpop-table-1", &vars).await;
    let second = Emulator::start("dpop-table-2", &vars).await;
    let client = SigningKey::generate_es256("client").unwrap();
    let token = rsa_a()
        .mint(&claims(json!({"cnf": {"jkt": client.thumbprint()}})))
        .unwrap();
    let scheme = format!("DPoP {token}");
    let proof = client
        .dpop_proof("GET", URL, Some(&token), now(), &jti())
        .unwrap();
    let answer = first.invoke(&event(&scheme, Some(&proof))).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    let replayed = second.invoke(&event(&scheme, Some(&proof))).await;
    assert_eq!(replayed["errorMessage"], "Unauthorized", "{replayed}");
    let decision = &second.decisions()[0];
    assert_eq!(decision["reason"], "proof_replayed");
    assert!(
        decision["hint"]
            .as_str()
            .unwrap()
            .contains("another execution environment"),
        "{decision}"
    );
    // A fresh proof passes in the second environment too; the table holds both, and
    // neither the proof nor its jti (only a hash).
    let fresh = client
        .dpop_proof("GET", URL, Some(&token), now(), &jti())
        .unwrap();
    let answer = second.invoke(&event(&scheme, Some(&fresh))).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    assert_eq!(moto.items("proofs").await, 2);
    // Round trips to the table, as the decision lines time them (for BENCHMARKS.md).
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let proof = client
            .dpop_proof("GET", URL, Some(&token), now(), &jti())
            .unwrap();
        let answer = first.invoke(&event(&scheme, Some(&proof))).await;
        assert_eq!(answer["isAuthorized"], true, "{answer}");
    }
    for decision in first.decisions().iter().skip(1) {
        latencies.push(decision["latency_us"].as_u64().unwrap());
    }
    latencies.sort_unstable();
    eprintln!(
        "dpop decision with the moto table: median {} us, min {} us, max {} us",
        latencies[latencies.len() / 2],
        latencies[0],
        latencies[latencies.len() - 1]
    );
    // A table that does not exist: the proof's freshness is unknown, so it fails closed.
    let mut missing = vars.clone();
    missing.retain(|(k, _)| *k != "DPOP_REPLAY_TABLE");
    missing.push(("DPOP_REPLAY_TABLE", "no-such-table"));
    let broken = Emulator::start("dpop-table-missing", &missing).await;
    let proof = client
        .dpop_proof("GET", URL, Some(&token), now(), &jti())
        .unwrap();
    let answer = broken.invoke(&event(&scheme, Some(&proof))).await;
    assert!(
        answer["errorMessage"].is_string() && answer["errorMessage"] != "Unauthorized",
        "a 500, not a 401 or an Allow: {answer}"
    );
    assert_eq!(broken.decisions()[0]["reason"], "replay_store_unavailable");
}
