//! Development keys and tokens, for local runs, the sample events and tests. Nothing here
//! runs in the Lambda request path.
//!
//! [`SigningKey::mint`] signs with `jsonwebtoken` — an implementation independent of the
//! verifier, so a token it mints that verifies proves interoperability, not agreement
//! with ourselves. [`SigningKey::sign_parts`] signs arbitrary header and payload bytes
//! with aws-lc-rs, for the malformed and hostile tokens of the attack tests.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, PublicKeyComponents};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::settings::{Algorithm, KeyType};

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str),
    Ed(Ed25519KeyPair),
}

/// A private key that signs tokens, with its `kid` and algorithm.
pub struct SigningKey {
    /// The `kid` its tokens and its JWK carry.
    pub kid: String,
    /// The algorithm its tokens use by default.
    pub alg: Algorithm,
    pair: Pair,
    pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Decodes the base64 body of a PEM block.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD
        .decode(body)
        .map_err(|e| format!("not a PEM key: {e}"))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// Loads a PKCS#8 PEM private key (as `openssl genpkey` writes) for `alg`.
    ///
    /// # Errors
    /// When the key is not PKCS#8 PEM or does not fit `alg`.
    pub fn from_pem(pem: &str, kid: &str, alg: Algorithm) -> Result<Self, String> {
        let der = pem_body(pem)?;
        let pair = match alg.key_type() {
            KeyType::Rsa => {
                Pair::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("not an RSA key: {e}"))?)
            }
            KeyType::Ec(curve) => {
                let signing = match curve {
                    "P-256" => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    "P-384" => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                    _ => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                };
                Pair::Ec(
                    EcdsaKeyPair::from_pkcs8(signing, &der)
                        .map_err(|e| format!("not an EC {curve} key: {e}"))?,
                    curve,
                )
            }
            KeyType::Ed25519 => Pair::Ed(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|e| format!("not an Ed25519 key: {e}"))?,
            ),
        };
        Ok(SigningKey {
            kid: kid.to_owned(),
            alg,
            pair,
            pem: pem.to_owned(),
        })
    }

    /// The public JWK (`kid`, `alg`, `use: sig`).
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.bare_public_jwk();
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg.name());
        jwk["use"] = json!("sig");
        jwk
    }

    /// The public JWK with only the key members (`kty`, `n`/`e`, `crv`/`x`/`y`).
    #[must_use]
    pub fn bare_public_jwk(&self) -> Value {
        match &self.pair {
            Pair::Rsa(pair) => {
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "n": b64(&components.n), "e": b64(&components.e)})
            }
            Pair::Ec(pair, curve) => {
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                json!({
                    "kty": "EC", "crv": curve,
                    "x": b64(&point[1..=half]), "y": b64(&point[1 + half..]),
                })
            }
            Pair::Ed(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    /// Signs `signing_input` with `alg` (which must fit the key), raw JWS signature bytes.
    ///
    /// # Errors
    /// When `alg` does not fit the key.
    pub fn signature(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    other => return Err(format!("{other} does not use an RSA key")),
                };
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, signing_input, &mut sig)
                    .map_err(|e| e.to_string())?;
                Ok(sig)
            }
            Pair::Ec(pair, _) => pair
                .sign(&rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| e.to_string()),
            Pair::Ed(pair) => Ok(pair.sign(signing_input).as_ref().to_vec()),
        }
    }

    /// A compact JWS over exactly these header and payload bytes, signed with `alg`.
    ///
    /// # Errors
    /// When `alg` does not fit the key.
    pub fn sign_parts(
        &self,
        alg: Algorithm,
        header: &[u8],
        payload: &[u8],
    ) -> Result<String, String> {
        let input = format!("{}.{}", b64(header), b64(payload));
        let sig = self.signature(alg, input.as_bytes())?;
        Ok(format!("{input}.{}", b64(&sig)))
    }

    /// A token with header `{alg, kid, typ: "at+jwt"}` and these claims, signed by
    /// `jsonwebtoken` (ES512 and `Ed25519`, which it does not offer, by aws-lc-rs).
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint(&self, claims: &Value) -> Result<String, String> {
        use jsonwebtoken::{EncodingKey, Header};
        let jwt_alg = match self.alg {
            Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::RS384 => jsonwebtoken::Algorithm::RS384,
            Algorithm::RS512 => jsonwebtoken::Algorithm::RS512,
            Algorithm::PS256 => jsonwebtoken::Algorithm::PS256,
            Algorithm::PS384 => jsonwebtoken::Algorithm::PS384,
            Algorithm::PS512 => jsonwebtoken::Algorithm::PS512,
            Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            Algorithm::ES384 => jsonwebtoken::Algorithm::ES384,
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Algorithm::ES512 | Algorithm::Ed25519 => {
                let header = json!({"alg": self.alg.name(), "kid": self.kid, "typ": "at+jwt"});
                return self.sign_parts(
                    self.alg,
                    header.to_string().as_bytes(),
                    claims.to_string().as_bytes(),
                );
            }
        };
        let key = match self.alg.key_type() {
            KeyType::Rsa => EncodingKey::from_rsa_pem(self.pem.as_bytes()),
            KeyType::Ec(_) => EncodingKey::from_ec_pem(self.pem.as_bytes()),
            KeyType::Ed25519 => EncodingKey::from_ed_pem(self.pem.as_bytes()),
        }
        .map_err(|e| e.to_string())?;
        let mut header = Header::new(jwt_alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".to_owned());
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| e.to_string())
    }
}

impl SigningKey {
    /// A fresh P-256 key for `ES256`, made now (a DPoP client's key in the tests).
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn generate_es256(kid: &str) -> Result<Self, String> {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|e| e.to_string())?;
        let der = pair.to_pkcs8v1().map_err(|e| e.to_string())?;
        let body = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        SigningKey::from_pem(&pem, kid, Algorithm::ES256)
    }

    /// Its JWK thumbprint (RFC 7638), what a token bound to it carries as `cnf.jkt`.
    #[must_use]
    pub fn thumbprint(&self) -> String {
        let jwk = self.bare_public_jwk();
        let members: &[&str] = match jwk["kty"].as_str() {
            Some("RSA") => &["e", "kty", "n"],
            Some("EC") => &["crv", "kty", "x", "y"],
            _ => &["crv", "kty", "x"],
        };
        let canonical: Map<String, Value> = members
            .iter()
            .map(|m| ((*m).to_owned(), jwk[*m].clone()))
            .collect();
        // serde_json's map is ordered by name: exactly RFC 7638's form.
        let text = Value::Object(canonical).to_string();
        b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
    }

    /// A DPoP proof (RFC 9449 §4.2) by this key for one request with `token`: header
    /// `{typ: dpop+jwt, alg, jwk}`, claims `{jti, htm, htu, iat, ath}`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn dpop_proof(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        iat: f64,
        jti: &str,
    ) -> Result<String, String> {
        let mut claims = json!({"jti": jti, "htm": method, "htu": url, "iat": iat.floor()});
        if let Some(token) = token {
            claims["ath"] = json!(b64(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                token.as_bytes()
            )
            .as_ref()));
        }
        self.dpop_proof_with(&self.dpop_header(), &claims)
    }

    /// The header of this key's proofs.
    #[must_use]
    pub fn dpop_header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg.name(), "jwk": self.bare_public_jwk()})
    }

    /// A proof of exactly this header and these claims, signed by this key with its
    /// algorithm (for the attack tests: another `jwk`, another `typ`, a missing claim).
    ///
    /// # Errors
    /// When signing fails.
    pub fn dpop_proof_with(&self, header: &Value, claims: &Value) -> Result<String, String> {
        self.sign_parts(
            self.alg,
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
        )
    }
}

/// A self-signed X.509 certificate made now (ECDSA P-256, CN `common_name`, valid a
/// day from an hour ago), as PEM: a mutual-TLS client's certificate in the tests, made
/// at test time rather than kept in the repository.
///
/// # Errors
/// When the system has no randomness.
pub fn self_signed_certificate(common_name: &str) -> Result<String, String> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(u8::try_from(len).unwrap_or(0));
        } else if len < 0x100 {
            out.extend([0x81, u8::try_from(len).unwrap_or(0)]);
        } else {
            out.extend([
                0x82,
                u8::try_from(len >> 8).unwrap_or(0),
                u8::try_from(len & 0xff).unwrap_or(0),
            ]);
        }
        out.extend_from_slice(content);
        out
    }
    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    fn utc(unix: u64) -> Vec<u8> {
        let (days, secs) = (unix / 86_400, unix % 86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = i64::try_from(days).unwrap_or(0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let text = format!(
            "{:02}{month:02}{day:02}{:02}{:02}{:02}Z",
            year % 100,
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        tlv(0x17, text.as_bytes())
    }
    let oid = |der: &[u8]| tlv(0x06, der);
    let ecdsa_sha256 = seq(&[oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])]);
    let name = seq(&[tlv(
        0x31,
        &seq(&[oid(&[0x55, 0x04, 0x03]), tlv(0x0c, common_name.as_bytes())]),
    )]);
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|e| e.to_string())?;
    let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
        .map_err(|e| e.to_string())?;
    let mut point = vec![0];
    point.extend_from_slice(pair.public_key().as_ref());
    let spki = seq(&[
        seq(&[
            oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
            oid(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
        ]),
        tlv(0x03, &point),
    ]);
    let mut serial = [0u8; 8];
    aws_lc_rs::rand::fill(&mut serial).map_err(|e| e.to_string())?;
    serial[0] &= 0x7f;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &serial),
        ecdsa_sha256.clone(),
        name.clone(),
        seq(&[utc(now - 3600), utc(now + 86_400)]),
        name,
        spki,
    ]);
    let sig = pair.sign(&rng, &tbs).map_err(|e| e.to_string())?;
    let mut bits = vec![0];
    bits.extend_from_slice(sig.as_ref());
    let der = seq(&[tbs, ecdsa_sha256, tlv(0x03, &bits)]);
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Ok(pem)
}

/// A JWKS document of these keys' public JWKs.
#[must_use]
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
}

/// The workload every benchmark, profile and load test uses
/// (`shared/reference/performance-anchors.md`): an Auth0-style access token for
/// [`workload::AUDIENCE`], about 1.1 KB when signed, in a REST TOKEN event.
pub mod workload {
    use serde_json::{Value, json};

    /// The issuer of the workload's token.
    pub const ISSUER: &str = "https://acme.us.auth0.com/";
    /// The API the workload's token is for.
    pub const AUDIENCE: &str = "https://api.acme.example";

    /// iss, sub, aud (two of them), iat, exp (2100), azp, six scopes, three permissions, a
    /// namespaced object claim and `org_id`.
    #[must_use]
    pub fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "auth0|64f1c2a9e1b2c3d4e5f60718",
            "aud": [AUDIENCE, "https://acme.us.auth0.com/userinfo"],
            "iat": 1_795_000_000u64, "exp": 4_102_444_800u64, "azp": "8mQ2yMn0QkqG1dY2xVbFh3ZcPpR4sT6u",
            "scope": "openid profile email read:messages write:messages offline_access",
            "permissions": ["read:messages", "write:messages", "delete:messages"],
            "https://acme.example/claims": {"tenant_id": "acme", "roles": ["editor", "viewer"], "email": "jane@acme.example", "email_verified": true},
            "org_id": "org_9AbCdEfGhIjKlMnO",
        })
    }

    /// The REST TOKEN event carrying `token`, as JSON bytes.
    #[must_use]
    pub fn event(token: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/messages",
        }))
        .unwrap_or_default()
    }

    /// The URL [`http_v2_event`] reports (its `requestContext.domainName` and `rawPath`):
    /// what a DPoP proof sent with it must name as `htu`.
    pub const HTTP_V2_URL: &str = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/messages";

    /// [`http_v2_event`] with `Authorization: DPoP <token>` and a `DPoP` header.
    #[must_use]
    pub fn http_v2_dpop_event(token: &str, proof: &str) -> Vec<u8> {
        let mut event: Value =
            serde_json::from_str(include_str!("../../events/http-api-v2.json")).unwrap_or_default();
        let credential = Value::String(format!("DPoP {token}"));
        event["identitySource"] = Value::Array(vec![credential.clone()]);
        event["headers"]["authorization"] = credential;
        event["headers"]["dpop"] = Value::String(proof.to_owned());
        serde_json::to_vec(&event).unwrap_or_default()
    }

    #[cfg(feature = "cedar")]
    pub use crate::decision::cedar::workload::{CEDAR_ACTIONS, cedar_policies, cedar_schema};

    /// The seal `check-config` prints for a Cedar policy set and its schema (text), for
    /// benchmarks that start with a sealed set.
    #[cfg(feature = "cedar")]
    #[must_use]
    pub fn cedar_seal(policies: &str, schema: &str) -> String {
        crate::decision::cedar::seal(policies, schema)
    }

    /// An HTTP API payload 2.0 REQUEST event carrying `token`: `events/http-api-v2.json`
    /// (as API Gateway sends it; the identity source and the header both hold the token)
    /// with its development token replaced.
    #[must_use]
    pub fn http_v2_event(token: &str) -> Vec<u8> {
        let mut event: Value =
            serde_json::from_str(include_str!("../../events/http-api-v2.json")).unwrap_or_default();
        let bearer = Value::String(format!("Bearer {token}"));
        event["identitySource"] = Value::Array(vec![bearer.clone()]);
        event["headers"]["authorization"] = bearer;
        serde_json::to_vec(&event).unwrap_or_default()
    }
}

/// An event read as `lambda_runtime` reads it: `serde_json` through `serde_path_to_error` (which
/// costs more than plain `serde_json`: it records each member name for its error path).
///
/// # Errors
/// When the bytes are not JSON of that type.
pub fn lambda_event<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
}

/// tracing-subscriber's own JSON format, set up as the authorizer used it before
/// `telemetry::log::LambdaJson`: the reference that formatter is tested and benchmarked
/// against.
pub fn generic_json_subscriber<W>(
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::EnvFilter;

    use super::*;
    use crate::telemetry::log::Lines;
    use crate::telemetry::log::subscriber;
    use crate::telemetry::log::tests::log_everything;

    /// The authorizer's line formatter writes what tracing-subscriber's JSON format wrote
    /// (`telemetry::log`'s own tests cover its other promises).
    #[test]
    fn lines_are_the_objects_tracing_subscribers_json_format_wrote() {
        let ours = Lines::default();
        let theirs = Lines::default();
        let filter = || EnvFilter::new("trace");
        tracing::subscriber::with_default(subscriber(filter(), ours.clone()), log_everything);
        let reference = generic_json_subscriber(filter(), theirs.clone());
        tracing::subscriber::with_default(reference, log_everything);
        // The same text after the timestamp, byte for byte: keys, order, escapes, numbers.
        let after_stamp = |lines: &Lines| -> Vec<String> {
            lines
                .text()
                .lines()
                .map(|line| {
                    let (stamp, rest) = line.split_once(r#"","level":"#).unwrap();
                    let stamp = stamp.strip_prefix(r#"{"timestamp":""#).unwrap();
                    // 2026-11-22T21:49:37.123456Z
                    assert_eq!(stamp.len(), 27, "{stamp}");
                    assert!(stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T');
                    rest.to_owned()
                })
                .collect()
        };
        assert_eq!(after_stamp(&ours), after_stamp(&theirs));
        let ours = ours.parsed();
        assert_eq!(ours.len(), 3);
        assert_eq!(ours[0]["nan"], Value::Null);
        assert_eq!(ours[0]["one"], json!(1.0));
        assert_eq!(ours[0]["error"], json!("connect \"refused\""));
        assert_eq!(ours[2]["level"], "ERROR");
    }
}
