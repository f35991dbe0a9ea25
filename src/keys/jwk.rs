//! A JWKS document turned into verification keys, each parsed once.
//!
//! Only keys that can safely verify a signature survive: `use` absent or `sig`,
//! `key_ops` (if any) containing `verify`, no private or symmetric material, RSA of 2048
//! to 8192 bits, EC points on their curve, and an algorithm in the allow-list. Every other
//! key is kept out with a reason, and one bad key never spoils the good ones.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::json::{json_type, parse_object};
use crate::refusal::sanitize;
use crate::settings::{Algorithm, KeyType};

/// At most this many keys of a document are considered. Real key sets hold 1 to 10; the
/// bound keeps a hostile or broken document from costing unbounded parsing time.
pub(crate) const MAX_KEYS: usize = 64;

/// Smallest accepted RSA modulus (RFC 7518 §3.3, RFC 8725 §3.5).
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// Largest accepted RSA modulus: larger keys only cost verification time.
pub(crate) const MAX_RSA_BITS: usize = 8192;

/// JWK members are base64url; some `IdPs` pad them, which is harmless for a public key.
const JWK_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One public key, parsed once for each algorithm it may verify.
pub struct VerificationKey {
    /// The JWK `kid`, when present.
    pub kid: Option<String>,
    /// The JWK `alg`, when present: tokens must then use exactly that algorithm.
    pub declared_alg: Option<Algorithm>,
    /// `RSA 2048`, `EC P-256`, `OKP Ed25519`: for logs and `explain`.
    pub description: String,
    /// The public members of the JWK (`kty`, `kid`, `alg`, `use`, `n`/`e`, `crv`/`x`/`y`).
    jwk: Map<String, Value>,
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("declared_alg", &self.declared_alg)
            .field("description", &self.description)
            .field("algorithms", &self.algorithms().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// One key from one JWK, usable with those of `allowed` that fit it: a DPoP proof's
    /// `jwk` (private members, `oct`, and keys that fit none of `allowed` are refused).
    ///
    /// # Errors
    /// Why the key cannot be used, in a short phrase.
    pub(crate) fn from_jwk(jwk: Value, allowed: &[Algorithm]) -> Result<Self, String> {
        parse_key(jwk, allowed)
    }

    /// [`VerificationKey::from_jwk`] for one algorithm, for the benches.
    #[doc(hidden)]
    #[must_use]
    pub fn from_jwk_for_bench(jwk: Value, alg: Algorithm) -> Option<Self> {
        parse_key(jwk, &[alg]).ok()
    }

    /// The key's JWK thumbprint (RFC 7638): base64url SHA-256 of its required members in
    /// lexicographic order, without whitespace (what `cnf.jkt` names, RFC 9449 §6.1).
    #[must_use]
    pub(crate) fn thumbprint(&self) -> String {
        let required: &[&str] = match self.jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => &["e", "kty", "n"],
            Some("EC") => &["crv", "kty", "x", "y"],
            _ => &["crv", "kty", "x"],
        };
        let mut canonical = String::with_capacity(256);
        canonical.push('{');
        for (at, name) in required.iter().enumerate() {
            if at > 0 {
                canonical.push(',');
            }
            let value = self
                .jwk
                .get(*name)
                .and_then(Value::as_str)
                .unwrap_or_default();
            canonical.push('"');
            canonical.push_str(name);
            canonical.push_str("\":");
            // Checked base64url or a curve name: nothing to escape, but escaped anyway.
            canonical.push_str(&serde_json::to_string(value).unwrap_or_default());
        }
        canonical.push('}');
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            canonical.as_bytes(),
        ))
    }

    /// The algorithms this key verifies (its own `alg`, or all allowed ones that fit).
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.parsed.iter().map(|(alg, _)| *alg)
    }

    /// Whether this key can verify `alg`.
    #[must_use]
    pub fn supports(&self, alg: Algorithm) -> bool {
        self.parsed.iter().any(|(a, _)| *a == alg)
    }

    /// Verifies `signature` over `message` with `alg`. `false` when the key does not
    /// support `alg` or the signature is wrong.
    #[must_use]
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }
}

/// A key the document held that will never be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Its `kid`, when it had a string one (truncated).
    pub kid: Option<String>,
    /// Why it was left out.
    pub reason: String,
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerificationKey>>,
    skipped: Vec<SkippedKey>,
}

/// The key set document itself is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JWKS document: {0}")]
pub struct JwksError(pub String);

/// Why no single key could be chosen for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No key has the token's `kid` (or, without a `kid`, none fits the algorithm).
    Unknown,
    /// Keys with this `kid` exist, but none for the token's algorithm.
    AlgorithmMismatch(String),
    /// More than one key fits.
    Ambiguous(usize),
}

impl KeySet {
    /// Parses a JWKS document, keeping the keys usable with `allowed` algorithms.
    ///
    /// # Errors
    /// `JwksError` when the document is not a JSON object with a `keys` array. Bad
    /// individual keys are not errors: they are listed in [`KeySet::skipped`].
    pub fn parse(document: &[u8], allowed: &[Algorithm]) -> Result<KeySet, JwksError> {
        let mut doc = parse_object(document).map_err(JwksError)?;
        let keys = match doc.remove("keys") {
            Some(Value::Array(keys)) => keys,
            Some(other) => {
                return Err(JwksError(format!(
                    "keys is {}, not an array",
                    json_type(&other)
                )));
            }
            None => return Err(JwksError("no keys member".to_owned())),
        };
        let mut set = KeySet::default();
        for (index, jwk) in keys.into_iter().enumerate() {
            if index >= MAX_KEYS {
                set.skipped.push(SkippedKey {
                    kid: None,
                    reason: format!("beyond the first {MAX_KEYS} keys"),
                });
                continue;
            }
            let kid = jwk
                .get("kid")
                .and_then(Value::as_str)
                .map(|k| sanitize(k, 64));
            match parse_key(jwk, allowed) {
                Ok(key) => set.keys.push(Arc::new(key)),
                Err(reason) => set.skipped.push(SkippedKey { kid, reason }),
            }
        }
        let duplicated: BTreeSet<String> = set
            .keys
            .iter()
            .filter_map(|k| k.kid.as_deref())
            .filter(|kid| {
                set.keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(*kid))
                    .count()
                    > 1
            })
            .map(|kid| sanitize(kid, 64))
            .collect();
        for kid in duplicated {
            set.skipped.push(SkippedKey {
                kid: Some(kid),
                reason: "kid used by several keys: a token naming it is refused as ambiguous when more than one of them fits its algorithm"
                    .to_owned(),
            });
        }
        Ok(set)
    }

    /// Builds a set from keys directly (tests, snapshots).
    #[must_use]
    pub fn from_keys(keys: Vec<VerificationKey>) -> Self {
        KeySet {
            keys: keys.into_iter().map(Arc::new).collect(),
            skipped: Vec::new(),
        }
    }

    /// The usable keys.
    #[must_use]
    pub fn keys(&self) -> &[Arc<VerificationKey>] {
        &self.keys
    }

    /// The keys that were left out, with reasons.
    #[must_use]
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Number of usable keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Chooses the one key for a token's `kid` and `alg`.
    ///
    /// With a `kid`, exactly one key with that `kid` must support `alg`. Without one, the
    /// token is accepted only if exactly one key of the whole set supports `alg`.
    ///
    /// # Errors
    /// [`Selection`] says why no single key fits.
    pub fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&Arc<VerificationKey>, Selection> {
        let mut named = 0usize;
        let mut found: Option<&Arc<VerificationKey>> = None;
        let mut fitting = 0usize;
        let mut mismatch = String::new();
        for key in &self.keys {
            if kid.is_some() && key.kid.as_deref() != kid {
                continue;
            }
            named += 1;
            if key.supports(alg) {
                fitting += 1;
                found = Some(key);
            } else if mismatch.is_empty() {
                mismatch = match key.declared_alg {
                    Some(declared) => format!("the key is declared for {declared}"),
                    None => format!("the key is {}", key.description),
                };
            }
        }
        match (fitting, found) {
            (1, Some(key)) => Ok(key),
            (0, _) if kid.is_some() && named > 0 => Err(Selection::AlgorithmMismatch(mismatch)),
            (0, _) => Err(Selection::Unknown),
            (n, _) => Err(Selection::Ambiguous(n)),
        }
    }

    /// The usable keys as a minimal JWKS document (public members only): what a
    /// last-known-good snapshot stores.
    #[must_use]
    pub fn minimal_document(&self) -> String {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| Value::Object(k.jwk.clone()))
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    /// The `kid`s of the usable keys, for logs.
    #[must_use]
    pub fn kids(&self) -> String {
        let mut out = String::new();
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}", key.kid.as_deref().unwrap_or("-"));
        }
        out
    }
}

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn parse_key(jwk: Value, allowed: &[Algorithm]) -> Result<VerificationKey, String> {
    let Value::Object(jwk) = jwk else {
        return Err(format!("entry is {}, not an object", json_type(&jwk)));
    };
    let kty = string_member(&jwk, "kty")?.ok_or("no kty")?;
    if kty == "oct" {
        return Err("symmetric (oct) key: never used for verification".to_owned());
    }
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(format!(
            "holds private key material ({member}); a JWKS must publish public keys only"
        ));
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(other) => return Err(format!("kid is {}, not a string", json_type(other))),
    };
    if let Some(usage) = string_member(&jwk, "use")?
        && usage != "sig"
    {
        return Err(format!("use is {}, not sig", sanitize(usage, 16)));
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => {}
        Some(_) => return Err("key_ops does not include verify".to_owned()),
    }
    let declared_alg = match string_member(&jwk, "alg")? {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            format!(
                "alg {} is not a supported signature algorithm",
                sanitize(name, 16)
            )
        })?),
    };

    let (key_type, key_bytes, description) = match kty {
        "RSA" => {
            let (der, bits) = rsa_public_key_der(&jwk)?;
            (KeyType::Rsa, der, format!("RSA {bits}"))
        }
        "EC" => {
            let crv = string_member(&jwk, "crv")?.ok_or("EC key without crv")?;
            let size = match crv {
                "P-256" => 32,
                "P-384" => 48,
                "P-521" => 66,
                other => return Err(format!("unsupported EC curve {}", sanitize(other, 16))),
            };
            let x = fixed_member(&jwk, "x", size)?;
            let y = fixed_member(&jwk, "y", size)?;
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let curve = match crv {
                "P-256" => "P-256",
                "P-384" => "P-384",
                _ => "P-521",
            };
            (KeyType::Ec(curve), point, format!("EC {crv}"))
        }
        "OKP" => {
            let crv = string_member(&jwk, "crv")?.ok_or("OKP key without crv")?;
            if crv != "Ed25519" {
                return Err(format!("unsupported OKP curve {}", sanitize(crv, 16)));
            }
            (
                KeyType::Ed25519,
                fixed_member(&jwk, "x", 32)?,
                "OKP Ed25519".to_owned(),
            )
        }
        other => return Err(format!("unsupported kty {}", sanitize(other, 16))),
    };

    let candidates: Vec<Algorithm> = match declared_alg {
        Some(alg) if alg.key_type() != key_type => {
            return Err(format!("alg {alg} does not fit a {description} key"));
        }
        Some(alg) if !allowed.contains(&alg) => {
            return Err(format!("alg {alg} is not in ALLOWED_ALGORITHMS"));
        }
        Some(alg) => vec![alg],
        None => allowed
            .iter()
            .copied()
            .filter(|alg| alg.key_type() == key_type)
            .collect(),
    };
    if candidates.is_empty() {
        return Err(format!(
            "no algorithm in ALLOWED_ALGORITHMS uses a {description} key"
        ));
    }
    let mut parsed = Vec::with_capacity(candidates.len());
    for alg in candidates {
        let key = ParsedPublicKey::new(alg.verification(), &key_bytes)
            .map_err(|e| format!("{description} key rejected by the crypto library ({e})"))?;
        parsed.push((alg, key));
    }
    let public: Map<String, Value> = jwk
        .into_iter()
        .filter(|(name, _)| {
            ["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"].contains(&name.as_str())
        })
        .collect();
    Ok(VerificationKey {
        kid,
        declared_alg,
        description,
        jwk: public,
        parsed,
    })
}

fn string_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{name} is {}, not a string", json_type(other))),
    }
}

fn bytes_member(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let text = string_member(jwk, name)?.ok_or_else(|| format!("missing {name}"))?;
    JWK_BASE64
        .decode(text)
        .map_err(|_| format!("{name} is not base64url"))
}

fn fixed_member(jwk: &Map<String, Value>, name: &str, len: usize) -> Result<Vec<u8>, String> {
    let bytes = bytes_member(jwk, name)?;
    if bytes.len() == len {
        Ok(bytes)
    } else {
        Err(format!("{name} is {} bytes, expected {len}", bytes.len()))
    }
}

/// The PKCS#1 `RSAPublicKey` DER for a JWK's `n` and `e`, and the modulus size in bits.
fn rsa_public_key_der(jwk: &Map<String, Value>) -> Result<(Vec<u8>, usize), String> {
    let n = bytes_member(jwk, "n")?;
    let e = bytes_member(jwk, "e")?;
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let Some(first) = n.first() else {
        return Err("RSA modulus is empty".to_owned());
    };
    let bits = n.len() * 8 - first.leading_zeros() as usize;
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!(
            "RSA modulus of {bits} bits (accepted: {MIN_RSA_BITS} to {MAX_RSA_BITS})"
        ));
    }
    if e.is_empty() || e.len() > 8 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
        return Err("RSA exponent is not a valid odd value above 1".to_owned());
    }
    let mut body = der_integer(n);
    body.extend(der_integer(e));
    Ok((der_tlv(0x30, &body), bits))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    der_tlv(0x02, &content)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let len_bytes = len.to_be_bytes();
        let significant = strip_leading_zeros(&len_bytes);
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}
