//! The first ceiling (kept to compare within one run). The ceiling under `handler/RS256`: the same decision for the same event and token,
//! built the fastest way we know. The event is read as `handler/RS256` reads it (the
//! owned `AuthorizerEvent`, through serde_path_to_error as lambda_runtime does); the
//! claims are never copied into a map: the payload is checked once (duplicate members
//! refused at every depth) and each top-level member is a slice of it, the standard
//! claims found in one pass; the answer is written as JSON text and returned as it is.
//!
//! Bench code, not a product path: it decides only this workload (it panics on anything
//! else), writes no refusal text, and keeps only the three log facts. What a zero-copy
//! redesign of claims and answers could reach at best (BENCHMARKS.md, "Is 0.85x
//! reachable?").

use std::borrow::Cow;
use std::ops::Range;

use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use token_verifier::AuthorizerEvent;
use token_verifier::algorithm::Algorithm;
use token_verifier::config::PolicyResource;
use token_verifier::jwk::VerificationKey;

use super::Policy;

/// The standard claims the checks read, found in one pass over the member names.
const STANDARD: usize = 16;

fn standard(name: &str) -> Option<usize> {
    Some(match name {
        "iss" => 0,
        "sub" => 1,
        "aud" => 2,
        "exp" => 3,
        "nbf" => 4,
        "iat" => 5,
        "scope" => 6,
        "scp" => 7,
        "permissions" => 8,
        "token_use" => 9,
        "typ" => 10,
        "nonce" => 11,
        "at_hash" => 12,
        "c_hash" => 13,
        "s_hash" => 14,
        "azp" => 15,
        _ => return None,
    })
}

/// The payload's text and, per top-level member, where its name and value are.
struct Claims {
    text: String,
    members: Vec<(Range<usize>, Range<usize>)>,
    slots: [Option<u8>; STANDARD],
}

impl Claims {
    fn parse(text: String) -> Claims {
        let mut members = {
            let mut de = serde_json::Deserializer::from_str(&text);
            let members = de.deserialize_map(Members(&text)).unwrap();
            de.end().unwrap();
            members
        };
        members.sort_unstable_by(|a, b| text[a.0.clone()].cmp(&text[b.0.clone()]));
        assert!(
            members
                .windows(2)
                .all(|w| text[w[0].0.clone()] != text[w[1].0.clone()]),
            "duplicate member"
        );
        let mut slots = [None; STANDARD];
        for (i, (name, value)) in members.iter().enumerate() {
            if let Some(slot) = standard(&text[name.clone()]) {
                slots[slot] = Some(u8::try_from(i).unwrap());
            }
            if text[value.clone()].contains('{') {
                // Objects inside: their member names must not repeat either.
                serde_json::Deserializer::from_str(&text[value.clone()])
                    .deserialize_any(NoDuplicates)
                    .unwrap();
            }
        }
        Claims {
            text,
            members,
            slots,
        }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        let member = self.slots[standard(name).unwrap()]?;
        Some(&self.text[self.members[usize::from(member)].1.clone()])
    }

    fn str(&self, name: &str) -> Option<Cow<'_, str>> {
        let raw = self.raw(name)?;
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        Some(if inner.contains('\\') {
            Cow::Owned(serde_json::from_str(raw).unwrap())
        } else {
            Cow::Borrowed(inner)
        })
    }

    /// A `NumericDate`: absent, or a number (anything else refused).
    fn time(&self, name: &str) -> Option<f64> {
        self.raw(name)
            .map(|raw| raw.parse::<f64>().ok().filter(|t| t.is_finite()).unwrap())
    }
}

struct Members<'t>(&'t str);

impl<'de> Visitor<'de> for Members<'_> {
    type Value = Vec<(Range<usize>, Range<usize>)>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let at = |s: &str| {
            let start = s.as_ptr() as usize - self.0.as_ptr() as usize;
            start..start + s.len()
        };
        let mut members = Vec::with_capacity(16);
        // Names with escapes would need unescaping: not in this workload.
        while let Some((name, value)) = access.next_entry::<&'de str, &'de RawValue>()? {
            members.push((at(name), at(value.get())));
        }
        Ok(members)
    }
}

/// Any JSON value whose objects never repeat a member name.
struct NoDuplicates;

impl<'de> de::DeserializeSeed<'de> for NoDuplicates {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NoDuplicates)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut names: Vec<Cow<'de, str>> = Vec::new();
        while let Some(name) = access.next_key::<Cow<'de, str>>()? {
            if names.contains(&name) {
                return Err(de::Error::custom("duplicate member"));
            }
            names.push(name);
            access.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    crit: Option<IgnoredAny>,
    b64: Option<IgnoredAny>,
    cty: Option<IgnoredAny>,
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        serde_json::to_writer(&mut *out, s).unwrap();
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Event bytes → answer bytes, and the three log facts.
pub fn decide(event: &[u8], key: &VerificationKey, policy: &Policy) -> (Vec<u8>, [String; 3]) {
    let event: AuthorizerEvent =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(event)).unwrap();
    assert_eq!(event.kind.as_deref(), Some("TOKEN"));
    let arn = event.method_arn.unwrap();
    let token = token_verifier::event::bearer(event.authorization_token.as_deref().unwrap())
        .unwrap()
        .to_owned();
    let fingerprint = token_verifier::authorizer::fingerprint(&token);
    assert!(token.len() <= 16 * 1024);
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (first, second) = (dots.next().unwrap(), dots.next().unwrap());
    assert!(dots.next().is_none());
    let decode = |s: &str| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(s).unwrap();
    let header_bytes = decode(&token[..first]);
    let header: Header = serde_json::from_str(std::str::from_utf8(&header_bytes).unwrap()).unwrap();
    assert!(header.crit.is_none() && header.b64.is_none() && header.cty.is_none());
    assert_eq!(header.alg, "RS256");
    assert!(matches!(
        header.typ.as_deref(),
        None | Some("at+jwt" | "JWT")
    ));
    let claims = Claims::parse(String::from_utf8(decode(&token[first + 1..second])).unwrap());
    let signature = decode(&token[second + 1..]);
    assert_eq!(header.kid.as_deref(), Some("rsa-a"));
    assert!(key.verify(Algorithm::RS256, &token.as_bytes()[..second], &signature));

    let facts = ["iss", "aud", "sub"]
        .map(|name| token_verifier::refusal::sanitize(claims.raw(name).unwrap_or("absent"), 200));
    assert_eq!(claims.str("iss").as_deref(), Some(policy.issuer));
    let (exp, nbf, iat) = (claims.time("exp"), claims.time("nbf"), claims.time("iat"));
    assert!(
        !["at_hash", "c_hash", "s_hash"]
            .iter()
            .any(|m| claims.raw(m).is_some())
    );
    assert!(claims.raw("token_use").is_none() && claims.raw("typ").is_none());
    assert!(claims.raw("nonce").is_none() || claims.raw("scope").is_some());
    let aud = claims.raw("aud").unwrap();
    let audiences: Vec<Cow<str>> = if aud.starts_with('[') {
        serde_json::from_str(aud).unwrap()
    } else {
        vec![claims.str("aud").unwrap()]
    };
    assert!(audiences.iter().any(|a| a == policy.audience));
    assert!(policy.now < exp.unwrap());
    assert!(nbf.is_none_or(|nbf| nbf <= policy.now + 60.0));
    assert!(iat.is_none_or(|iat| iat <= policy.now + 60.0));
    let scope = claims.str("scope").unwrap();
    assert!(scope.split(' ').any(|s| s == policy.required_scope));
    let principal = claims.str("sub").unwrap();
    let resource = token_verifier::response::resource(&arn, PolicyResource::Stage);

    let mut out = Vec::with_capacity(claims.text.len() + 512);
    out.extend_from_slice(br#"{"principalId":"#);
    json_string(&mut out, &principal);
    out.extend_from_slice(br#","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["#);
    json_string(&mut out, &resource);
    out.extend_from_slice(br#"]}]},"context":{"#);
    let start = out.len();
    for (name, value) in &claims.members {
        let (name, value) = (&claims.text[name.clone()], &claims.text[value.clone()]);
        if value == "null" || token_verifier::context::RESERVED_KEYS.contains(&name) {
            continue;
        }
        let mark = out.len();
        if mark > start {
            out.push(b',');
        }
        json_string(&mut out, name);
        out.push(b':');
        if value.starts_with(['[', '{']) {
            json_string(&mut out, value);
        } else {
            out.extend_from_slice(value.as_bytes());
        }
        if out.len() - start + 2 > 4096 {
            out.truncate(mark);
        }
    }
    out.extend_from_slice(b"}}");
    std::hint::black_box(fingerprint);
    (out, facts)
}
