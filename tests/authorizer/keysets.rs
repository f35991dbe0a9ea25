//! What a JWKS document may contain, and which of its keys are ever used.

use serde_json::{Value, json};
use token_verifier::Algorithm;
use token_verifier::testing::{KeySet, Selection};

use crate::support::*;

const RS256: &[Algorithm] = &[Algorithm::RS256];

fn parse(doc: &Value, allowed: &[Algorithm]) -> KeySet {
    KeySet::parse(doc.to_string().as_bytes(), allowed).unwrap()
}

fn with(jwk: &Value, changes: Value) -> Value {
    let mut jwk = jwk.clone();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            jwk.as_object_mut().unwrap().remove(k);
        } else {
            jwk[k] = v.clone();
        }
    }
    jwk
}

#[test]
fn unusable_keys_are_left_out_with_a_reason_and_good_ones_kept() {
    let good = rsa_a().public_jwk();
    let weak: Value = serde_json::from_str(include_str!("../keys/rsa-1024.jwk.json")).unwrap();
    let bad = vec![
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
        json!({"kty": "oct", "kid": "empty", "k": ""}),
        with(&good, json!({"kid": "enc", "use": "enc"})),
        with(&good, json!({"kid": "ops", "key_ops": ["encrypt"]})),
        with(&good, json!({"kid": "private", "d": "AQAB"})),
        weak,
        // 16384 bits: refused without any expensive work (only the length is looked at).
        json!({"kty": "RSA", "kid": "huge", "n": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [0xC5; 2048]), "e": "AQAB"}),
        with(&good, json!({"kid": "e1", "e": "AQ"})),
        with(&good, json!({"kid": "even", "e": "AQAA"})),
        with(&good, json!({"kid": "noalg", "alg": "RS999"})),
        with(&good, json!({"kid": 7})),
        with(&good, json!({"kid": "no-n", "n": null})),
        with(&good, json!({"kid": "empty-n", "n": ""})),
        with(&good, json!({"kid": "zero-n", "n": "AA"})),
        json!({"kty": "EC", "kid": "bad-point", "crv": "P-256", "x": ec_p256().public_jwk()["x"], "y": ec_p256().public_jwk()["x"]}),
        json!({"kty": "EC", "kid": "short", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
        json!({"kty": "EC", "kid": "curve", "crv": "secp256k1", "x": "AAAA", "y": "AAAA"}),
        json!({"kty": "OKP", "kid": "x448", "crv": "X25519", "x": "AAAA"}),
        json!({"kty": "UNKNOWN", "kid": "u"}),
        json!("a string"),
        json!(null),
        json!(42),
    ];
    let mut keys = bad.clone();
    keys.push(good);
    let set = parse(&json!({"keys": keys}), &Algorithm::ALL);
    assert_eq!(set.len(), 1, "{:?}", set.skipped());
    assert_eq!(set.keys()[0].kid.as_deref(), Some("rsa-a"));
    assert_eq!(set.skipped().len(), bad.len());
    let reasons: Vec<&str> = set.skipped().iter().map(|s| s.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("symmetric")));
    assert!(reasons.iter().any(|r| r.contains("private key material")));
    assert!(reasons.iter().any(|r| r.contains("1024 bits")));
    assert!(reasons.iter().any(|r| r.contains("16384 bits")));
    assert!(reasons.iter().any(|r| r.contains("use is enc")));
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("rejected by the crypto library")),
        "{reasons:?}"
    );
}

#[test]
fn malformed_documents_are_errors() {
    for doc in [
        "not json",
        "[]",
        "{}",
        r#"{"keys":{}}"#,
        r#"{"keys":"x"}"#,
        r#"{"keys":[],"keys":[]}"#,
        "null",
    ] {
        assert!(KeySet::parse(doc.as_bytes(), RS256).is_err(), "{doc}");
    }
    assert!(KeySet::parse(br#"{"keys":[]}"#, RS256).unwrap().is_empty());
}

#[test]
fn a_key_is_parsed_for_every_allowed_algorithm_that_fits_it() {
    let bare = with(&rsa_a().public_jwk(), json!({"alg": null}));
    let set = parse(
        &json!({"keys": [bare]}),
        &[Algorithm::RS256, Algorithm::PS256, Algorithm::ES256],
    );
    let algs: Vec<Algorithm> = set.keys()[0].algorithms().collect();
    assert_eq!(algs, vec![Algorithm::RS256, Algorithm::PS256]);
    let declared = parse(
        &json!({"keys": [rsa_a().public_jwk()]}),
        &[Algorithm::RS256, Algorithm::PS256],
    );
    assert_eq!(
        declared.keys()[0].algorithms().collect::<Vec<_>>(),
        vec![Algorithm::RS256]
    );
    let not_allowed = parse(
        &json!({"keys": [rsa_a().public_jwk()]}),
        &[Algorithm::PS256],
    );
    assert!(not_allowed.is_empty());
}

#[test]
fn curves_must_fit_the_algorithm() {
    let p384 = ec_p384().public_jwk();
    let set = parse(
        &json!({"keys": [with(&p384, json!({"alg": "ES256"}))]}),
        &[Algorithm::ES256, Algorithm::ES384],
    );
    assert!(set.is_empty(), "a P-384 key declared ES256 is refused");
    let set = parse(
        &json!({"keys": [with(&p384, json!({"alg": null}))]}),
        &[Algorithm::ES256, Algorithm::ES384],
    );
    assert_eq!(
        set.keys()[0].algorithms().collect::<Vec<_>>(),
        vec![Algorithm::ES384]
    );
}

#[test]
fn selection_rules() {
    let (a, b, ec) = (rsa_a(), rsa_b(), ec_p256());
    let set = parse(
        &token_verifier::tool::dev::jwks(&[&a, &b, &ec]),
        &[Algorithm::RS256, Algorithm::ES256],
    );
    assert!(set.select(Some("rsa-a"), Algorithm::RS256).is_ok());
    assert_eq!(
        set.select(Some("nope"), Algorithm::RS256).unwrap_err(),
        Selection::Unknown
    );
    assert!(matches!(
        set.select(Some("rsa-a"), Algorithm::ES256),
        Err(Selection::AlgorithmMismatch(_))
    ));
    assert_eq!(
        set.select(None, Algorithm::RS256).unwrap_err(),
        Selection::Ambiguous(2)
    );
    assert!(
        set.select(None, Algorithm::ES256).is_ok(),
        "exactly one ES256 key"
    );
    assert_eq!(
        set.select(None, Algorithm::PS256).unwrap_err(),
        Selection::Unknown
    );
}

#[test]
fn every_algorithm_verifies_end_to_end() {
    let rsa = rsa_a();
    let cases = [
        (&rsa, Algorithm::RS256),
        (&rsa, Algorithm::RS384),
        (&rsa, Algorithm::RS512),
        (&rsa, Algorithm::PS256),
        (&rsa, Algorithm::PS384),
        (&rsa, Algorithm::PS512),
    ];
    let bare = with(&rsa.public_jwk(), json!({"alg": null}));
    let set = parse(&json!({"keys": [bare]}), &Algorithm::ALL);
    for (key, alg) in cases {
        let token = key
            .sign_parts(
                alg,
                format!(r#"{{"alg":"{alg}","kid":"rsa-a"}}"#).as_bytes(),
                b"{}",
            )
            .unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
        let k = set.select(Some("rsa-a"), alg).unwrap();
        assert!(k.verify(alg, input.as_bytes(), &sig), "{alg}");
        assert!(
            !k.verify(alg, format!("{input}x").as_bytes(), &sig),
            "{alg}"
        );
    }
    for (key, alg) in [
        (ec_p256(), Algorithm::ES256),
        (ec_p384(), Algorithm::ES384),
        (ed25519(), Algorithm::EdDSA),
    ] {
        let set = parse(&token_verifier::tool::dev::jwks(&[&key]), &Algorithm::ALL);
        let token = key.mint(&json!({"sub": "x"})).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
        assert!(
            set.select(Some(&key.kid), alg)
                .unwrap()
                .verify(alg, input.as_bytes(), &sig),
            "{alg}"
        );
    }
}
