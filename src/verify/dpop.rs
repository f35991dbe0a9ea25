//! DPoP proofs (RFC 9449 §4.3): a JWT the client signs for each request with the key its
//! access token is bound to (`cnf.jkt`). Checked in the RFC's order: one well-formed JWS;
//! `typ: dpop+jwt`; an asymmetric `alg` of `DPOP_ALGORITHMS`; a public `jwk` in the header
//! (no private members, no `oct`) that verifies the signature; `htm` the request's method;
//! `htu` its URL without query and fragment, both normalised (RFC 3986 §6.2.2, §6.2.3);
//! `iat` within `DPOP_MAX_AGE_SECONDS` past and the leeway ahead; a `jti`; `ath` the
//! base64url SHA-256 of the access token; the key's RFC 7638 thumbprint the token's
//! `cnf.jkt`. Pure: whether the `jti` was seen before is the replay guard's question.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keys::VerificationKey;
use crate::refusal::{Reason, Refusal, sanitize};
use crate::settings::{Algorithm, DpopSettings};
use crate::token::{Claims, Kind, UnixTime, jws};

/// A proof is a few hundred bytes (an RSA 4096 `jwk` makes it about 1.5 KB).
pub(crate) const MAX_PROOF_BYTES: usize = 8192;

/// A `jti` longer than this is no random identifier but padding.
const MAX_JTI_BYTES: usize = 256;

/// How many client keys [`ProofKeys`] keeps parsed.
const KEPT_KEYS: usize = 256;

/// The proof keys of recent clients, parsed once: a client signs every proof with the
/// same key, so its `jwk` (the exact JSON text) is turned into a key and a thumbprint on
/// its first proof only (about 2.3 µs saved per later proof, BENCHMARKS.md). Bounded; the
/// oldest is forgotten first.
#[derive(Debug, Default)]
pub(crate) struct ProofKeys {
    kept: Mutex<Kept>,
}

/// The parsed keys by their `jwk` text, and those texts oldest first.
type Kept = (HashMap<Box<str>, Arc<ProofKey>>, VecDeque<Box<str>>);

/// One client key, the algorithm it was parsed for, and its RFC 7638 thumbprint.
#[derive(Debug)]
struct ProofKey {
    key: VerificationKey,
    alg: Algorithm,
    thumbprint: String,
}

impl ProofKeys {
    /// The key of a proof's `jwk` (its JSON text) for `alg`, parsed once.
    fn get(&self, jwk: crate::token::Claim<'_>, alg: Algorithm) -> Result<Arc<ProofKey>, Refusal> {
        let text = jwk.raw();
        if let Some(found) = self.lock().0.get(text).filter(|k| k.alg == alg) {
            return Ok(Arc::clone(found));
        }
        let key = VerificationKey::from_jwk(jwk.to_value(), &[alg]).map_err(|why| {
            Refusal::new(
                Reason::InvalidProof,
                format!("the proof's jwk is unusable: {why}"),
            )
        })?;
        let parsed = Arc::new(ProofKey {
            thumbprint: key.thumbprint(),
            key,
            alg,
        });
        let mut kept = self.lock();
        if kept.0.len() >= KEPT_KEYS
            && let Some(oldest) = kept.1.pop_front()
        {
            kept.0.remove(&oldest);
        }
        if kept.0.insert(text.into(), Arc::clone(&parsed)).is_none() {
            kept.1.push_back(text.into());
        }
        Ok(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        match self.kept.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The request a proof must have been made for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofRequest<'a> {
    /// The HTTP method, as the request used it (`GET`).
    pub(crate) method: &'a str,
    /// The URL the client called (`https://host/stage/path`), query and fragment ignored.
    pub(crate) url: &'a str,
}

/// A proof that passed every check but the replay check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proven {
    /// The RFC 7638 thumbprint of the proof's key (what `cnf.jkt` names).
    pub(crate) jkt: String,
    /// What the replay guard remembers: 16 bytes of SHA-256 over the key and the `jti`
    /// (so one client cannot use up another's identifiers, and no `jti` is stored).
    pub(crate) replay_key: [u8; 16],
    /// Until when it must be remembered: past this, the proof is too old anyway.
    pub(crate) remember_until: UnixTime,
}

/// Verifies a DPoP proof for `token`, bound by `jkt` (the token's `cnf.jkt`), sent with
/// `request`, at `now`; `leeway` bounds how far ahead the proof's `iat` may be.
///
/// # Errors
/// `invalid_proof` (framing, `typ`, `alg`, `jwk`, signature, `iat`, `jti`, missing claims),
/// `proof_request_mismatch` (`htm`, `htu`), `proof_token_mismatch` (`ath`) or
/// `proof_key_mismatch` (the key is not the one `cnf.jkt` names).
#[allow(clippy::too_many_arguments)]
pub(crate) fn verify(
    proof: &str,
    request: ProofRequest<'_>,
    token: &str,
    jkt: &str,
    settings: &DpopSettings,
    keys: &ProofKeys,
    leeway: u64,
    now: UnixTime,
) -> Result<Proven, Refusal> {
    let invalid = |detail: String| Refusal::new(Reason::InvalidProof, detail);
    let (jws, header) = jws::parse_keeping_header(proof, MAX_PROOF_BYTES)
        .map_err(|r| invalid(format!("the DPoP proof is no usable JWS: {}", r.detail)))?;
    match jws.header.typ.as_deref() {
        Some(typ) if typ.eq_ignore_ascii_case("dpop+jwt") => {}
        Some(typ) => {
            return Err(invalid(format!(
                "the proof's typ is {}, not dpop+jwt",
                sanitize(typ, 32)
            )));
        }
        None => return Err(invalid("the proof has no typ (dpop+jwt)".to_owned())),
    }
    let alg = proof_algorithm(&jws.header.alg, &settings.algorithms)?;
    let proof_key = proof_key(&header, alg, keys)?;
    let key = &proof_key.key;
    if !key.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(invalid(format!(
            "the proof's {alg} signature does not verify with the jwk in its header"
        )));
    }
    let claims = &jws.claims;
    let jti = string_claim(claims, "jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI_BYTES {
        return Err(invalid(format!(
            "the proof's jti is {} bytes; it must be 1 to {MAX_JTI_BYTES}",
            jti.len()
        )));
    }
    check_iat(claims, settings, leeway, now)?;
    if request.method.is_empty() {
        return Err(Refusal::new(
            Reason::ProofRequestMismatch,
            "the event does not say the request's method, so no proof can be checked against it",
        ));
    }
    if let Some(problem) = unusable_url(request.url) {
        return Err(Refusal::new(Reason::ProofRequestMismatch, problem));
    }
    let htm = string_claim(claims, "htm")?;
    if htm != request.method {
        return Err(Refusal::new(
            Reason::ProofRequestMismatch,
            format!(
                "the proof's htm is {}, the request's method is {}",
                sanitize(&htm, 16),
                sanitize(request.method, 16)
            ),
        ));
    }
    let htu = string_claim(claims, "htu")?;
    // Most clients sign exactly the URL they call: then no normalising is needed.
    if htu != request.url && !same_url(request.url, &htu) {
        return Err(Refusal::new(
            Reason::ProofRequestMismatch,
            format!(
                "the proof's htu is {}, the request's URL is {} (query and fragment ignored; PUBLIC_BASE_URL sets the URL clients call when API Gateway's event cannot tell it)",
                // Without its query, which may carry secrets.
                normalise_url(&htu).map_or_else(
                    || format!("no absolute http(s) URL ({} bytes)", htu.len()),
                    |u| sanitize(&u, 160)
                ),
                sanitize(request.url, 160)
            ),
        ));
    }
    let ath = match claims.get("ath") {
        None => {
            return Err(Refusal::new(
                Reason::ProofTokenMismatch,
                "the proof has no ath (the hash of the access token it is sent with)",
            ));
        }
        Some(_) => string_claim(claims, "ath")?,
    };
    if ath != access_token_hash(token) {
        return Err(Refusal::new(
            Reason::ProofTokenMismatch,
            "the proof's ath is not the hash of this access token: the proof was made for another token",
        ));
    }
    let thumbprint = &proof_key.thumbprint;
    if thumbprint != jkt {
        return Err(Refusal::new(
            Reason::ProofKeyMismatch,
            format!(
                "the token is bound to key {} (cnf.jkt), the proof is signed by key {thumbprint}",
                sanitize(jkt, 64)
            ),
        ));
    }
    let mut input = Vec::with_capacity(thumbprint.len() + 1 + jti.len());
    input.extend_from_slice(thumbprint.as_bytes());
    input.push(0);
    input.extend_from_slice(jti.as_bytes());
    let digest = digest::digest(&digest::SHA256, &input);
    let mut replay_key = [0; 16];
    replay_key.copy_from_slice(&digest.as_ref()[..16]);
    #[allow(clippy::cast_precision_loss)]
    let remember_until = now + settings.max_age.as_secs() as f64 + leeway as f64 + 1.0;
    Ok(Proven {
        jkt: thumbprint.clone(),
        replay_key,
        remember_until,
    })
}

/// RFC 9449 §4.2 `ath`: base64url (no padding) of the SHA-256 of the access token's ASCII.
#[must_use]
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// The proof's `alg`, when `DPOP_ALGORITHMS` has it.
fn proof_algorithm(alg: &str, allowed: &[Algorithm]) -> Result<Algorithm, Refusal> {
    if let Some(a) = Algorithm::from_name(alg).filter(|a| allowed.contains(a)) {
        return Ok(a);
    }
    let shown = sanitize(alg, 32);
    let detail = if alg.eq_ignore_ascii_case("none") {
        format!("the proof's alg is {shown}: an unsigned proof proves nothing")
    } else if crate::settings::algorithm::is_hmac_name(alg) {
        format!(
            "the proof's alg is {shown}, symmetric: a proof must be signed with the client's private key"
        )
    } else {
        let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
        format!(
            "the proof's alg {shown} is not in DPOP_ALGORITHMS ({})",
            names.join(", ")
        )
    };
    Err(Refusal::new(Reason::InvalidProof, detail))
}

/// The public key in the proof's header, usable with `alg`.
fn proof_key(header: &Claims, alg: Algorithm, keys: &ProofKeys) -> Result<Arc<ProofKey>, Refusal> {
    let invalid = |detail: String| Refusal::new(Reason::InvalidProof, detail);
    let jwk = header.get("jwk").ok_or_else(|| {
        invalid("the proof's header has no jwk (the client's public key)".to_owned())
    })?;
    if jwk.kind() != Kind::Object {
        return Err(invalid(format!(
            "the proof's jwk is {}, not an object",
            jwk.kind().name()
        )));
    }
    keys.get(jwk, alg)
}

/// Why the request's URL cannot be compared, if it cannot: API Gateway hands over paths
/// as called, and a decoded `?`, `#` or `\\`, or a control character, would be cut or
/// rewritten by the URL parser and let a proof for another path pass.
fn unusable_url(url: &str) -> Option<&'static str> {
    let path = url.split_once("://").map_or(url, |(_, rest)| rest);
    path.bytes()
        .any(|b| matches!(b, b'?' | b'#' | b'\\') || b < 0x20 || b == 0x7f)
        .then_some("the request's path holds ?, #, a backslash or a control character, which a proof's htu cannot be compared with reliably")
}

/// Whether two URLs are one once normalised ([`normalise_url`]); never for what is no
/// absolute `http(s)` URL.
fn same_url(request: &str, htu: &str) -> bool {
    match (normalise_url(request), normalise_url(htu)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The string claim `name` of the proof.
fn string_claim(claims: &Claims, name: &str) -> Result<String, Refusal> {
    match claims.get(name) {
        None => Err(Refusal::new(
            Reason::InvalidProof,
            format!("the proof has no {name}"),
        )),
        Some(value) => value
            .as_str()
            .map(std::borrow::Cow::into_owned)
            .ok_or_else(|| {
                Refusal::new(
                    Reason::InvalidProof,
                    format!(
                        "the proof's {name} is {}, not a string",
                        value.kind().name()
                    ),
                )
            }),
    }
}

/// `iat`: a number, no older than `max_age`, no further ahead than `leeway`.
fn check_iat(
    claims: &Claims,
    settings: &DpopSettings,
    leeway: u64,
    now: UnixTime,
) -> Result<(), Refusal> {
    let invalid = |detail: String| Refusal::new(Reason::InvalidProof, detail);
    let iat = match claims.get("iat") {
        None => return Err(invalid("the proof has no iat".to_owned())),
        Some(iat) => iat.as_f64().ok_or_else(|| {
            invalid(format!(
                "the proof's iat is {}, not a number",
                iat.kind().name()
            ))
        })?,
    };
    #[allow(clippy::cast_precision_loss)]
    let (max_age, leeway) = (settings.max_age.as_secs() as f64, leeway as f64);
    if iat < now - max_age {
        return Err(invalid(format!(
            "the proof was made {:.0} s ago; DPOP_MAX_AGE_SECONDS allows {max_age:.0} (a proof is made for one request, just before it)",
            now - iat
        )));
    }
    if iat > now + leeway {
        return Err(invalid(format!(
            "the proof's iat is {:.0} s in the future (leeway {leeway:.0} s): check the client's clock",
            iat - now
        )));
    }
    Ok(())
}

/// A URL as RFC 9449 compares `htu`: without query and fragment, syntax- and
/// scheme-normalised (lowercase scheme and host, no default port, dot segments removed,
/// an empty path `/`, percent-encodings in uppercase and unreserved characters decoded).
/// `None` for what is no absolute `http(s)` URL.
#[must_use]
pub fn normalise_url(text: &str) -> Option<String> {
    let mut url = url::Url::parse(text).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let path = normalise_percent(url.path());
    url.set_path(&path);
    Some(url.into())
}

/// RFC 3986 §6.2.2.1–2: hex digits of percent-encodings in uppercase, and encoded
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`) decoded.
fn normalise_percent(path: &str) -> String {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') {
        return path.to_owned();
    }
    let mut out = String::with_capacity(path.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && let Some(hex) = path.get(at + 1..at + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            at += 3;
            continue;
        }
        // `path` is valid UTF-8 and `%` is ASCII: copy up to the next `%` whole.
        let next = bytes[at + 1..]
            .iter()
            .position(|&b| b == b'%')
            .map_or(bytes.len(), |p| at + 1 + p);
        out.push_str(&path[at..next]);
        at = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ath_is_the_rfc_9449_example() {
        // RFC 9449 §7.1: the access token and the ath of its proof.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    /// RFC 7638 §3.1 (RSA), RFC 9449 §4.1 (the EC key of its examples, whose `cnf.jkt`
    /// §6.1 shows), RFC 8037 §A.3 (Ed25519); members beside the required ones change
    /// nothing.
    #[test]
    fn thumbprints_are_the_rfcs_examples() {
        let rsa = serde_json::json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"});
        let ed = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "use": "sig",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        for (jwk, alg, expected) in [
            (
                rsa,
                Algorithm::RS256,
                "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
            ),
            (
                ec,
                Algorithm::ES256,
                "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
            ),
            (
                ed,
                Algorithm::EdDSA,
                "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
            ),
        ] {
            let key = VerificationKey::from_jwk(jwk, &[alg]).unwrap();
            assert_eq!(key.thumbprint(), expected, "{alg}");
        }
    }

    /// A client's key is parsed once, for its own algorithm only, and the memory of keys
    /// stays bounded.
    #[test]
    fn proof_keys_are_parsed_once_per_jwk_text_and_algorithm() {
        let header = |x: &str| {
            Claims::parse(format!(
                r#"{{"jwk":{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}}}"#
            ))
            .unwrap()
        };
        let keys = ProofKeys::default();
        let one = header("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        let first = keys.get(one.get("jwk").unwrap(), Algorithm::EdDSA).unwrap();
        let again = keys.get(one.get("jwk").unwrap(), Algorithm::EdDSA).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(
            first.thumbprint,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        let other = keys
            .get(one.get("jwk").unwrap(), Algorithm::Ed25519)
            .unwrap();
        assert!(!Arc::ptr_eq(&first, &other) && other.alg == Algorithm::Ed25519);
        assert!(keys.get(one.get("jwk").unwrap(), Algorithm::ES256).is_err());
        for n in 0..KEPT_KEYS + 10 {
            let mut x = [0u8; 32];
            x[..8].copy_from_slice(&(n as u64).to_le_bytes());
            // Not every 32 bytes are a valid point; those that are get kept.
            let _ = keys.get(
                header(&URL_SAFE_NO_PAD.encode(x)).get("jwk").unwrap(),
                Algorithm::EdDSA,
            );
        }
        let kept = keys.lock();
        assert!(kept.0.len() <= KEPT_KEYS && kept.0.len() == kept.1.len());
    }

    #[test]
    fn urls_compare_as_rfc_3986_normalises_them() {
        let same = [
            (
                "https://server.example.com/path",
                "https://server.example.com/path",
            ),
            (
                "https://Server.Example.COM/path",
                "https://server.example.com/path",
            ),
            (
                "HTTPS://server.example.com:443/path",
                "https://server.example.com/path",
            ),
            (
                "https://server.example.com/a/./b/../path",
                "https://server.example.com/a/path",
            ),
            (
                "https://server.example.com/path?x=1#frag",
                "https://server.example.com/path",
            ),
            ("https://server.example.com", "https://server.example.com/"),
            (
                "https://server.example.com/%7Euser/%2f",
                "https://server.example.com/~user/%2F",
            ),
        ];
        for (a, b) in same {
            assert_eq!(normalise_url(a), normalise_url(b), "{a} vs {b}");
            assert!(normalise_url(a).is_some(), "{a}");
        }
        let different = [
            (
                "https://server.example.com/path",
                "https://other.example.com/path",
            ),
            (
                "https://server.example.com/path",
                "https://server.example.com/path/",
            ),
            (
                "https://server.example.com/path",
                "http://server.example.com/path",
            ),
            (
                "https://server.example.com/path",
                "https://server.example.com:8443/path",
            ),
            (
                "https://server.example.com/Path",
                "https://server.example.com/path",
            ),
            (
                "https://server.example.com/a%2Fb",
                "https://server.example.com/a/b",
            ),
        ];
        for (a, b) in different {
            assert_ne!(normalise_url(a), normalise_url(b), "{a} vs {b}");
        }
        for bad in [
            "/path",
            "server.example.com/path",
            "ftp://server.example.com/",
            "https://user:pw@server.example.com/",
            "",
        ] {
            assert_eq!(normalise_url(bad), None, "{bad}");
        }
    }
}
