//! The ceiling under `handler/RS256`: the same decision for the same event and token,
//! built the fastest way we know. The event is read as lambda_runtime reads it (an owned
//! type, through serde_path_to_error over serde_json; the bearer token taken by the
//! product's `event::bearer`); the token's three parts are
//! decoded into one buffer; header and claims are checked by the product's strict JSON
//! scanner (`token_verifier::testing::json`), which keeps each top-level member as a slice; the
//! standard claims are found in fixed slots; the answer is written as JSON text and
//! returned as it is.
//!
//! Bench code, not a product path: it decides only this workload (it panics on anything
//! else), writes no refusal text, and keeps only the three log facts.
//! The first version (commit 21eb06f: serde_json with `RawValue` slices instead of the
//! scanner, a second pass for nested duplicates) measured 0.82–0.84× of bare, this one
//! 0.87–0.88× in release rounds (BENCHMARKS.md), with a copy of the scanner that is now
//! `src/json/scan.rs` (`tests/json_scanner.rs` checks it against serde_json).

use std::mem::MaybeUninit;

use serde::Deserialize;
use token_verifier::Algorithm;
use token_verifier::testing::VerificationKey;
use token_verifier::testing::json::{self, Member, Str};

/// The configuration `handler/RS256` runs with.
pub(crate) struct Policy<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub required_scope: &'a str,
    pub now: f64,
}

/// The REST TOKEN event, owned: what a TOKEN-only handler would take from lambda_runtime
/// (`LambdaEvent<TokenEvent>`). Unknown members ignored, every member optional.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TokenEvent {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub authorization_token: Option<String>,
    pub method_arn: Option<String>,
}

// ---------------------------------------------------------------------------------------
// The claims.

const ISS: usize = 0;
const SUB: usize = 1;
const AUD: usize = 2;
const EXP: usize = 3;
const NBF: usize = 4;
const IAT: usize = 5;
const SCOPE: usize = 6;
const TOKEN_USE: usize = 7;
const TYP: usize = 8;
const NONCE: usize = 9;
const AT_HASH: usize = 10;
const C_HASH: usize = 11;
const S_HASH: usize = 12;
const STANDARD: usize = 13;

fn standard(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"iss" => ISS,
        b"sub" => SUB,
        b"aud" => AUD,
        b"exp" => EXP,
        b"nbf" => NBF,
        b"iat" => IAT,
        b"scope" => SCOPE,
        b"token_use" => TOKEN_USE,
        b"typ" => TYP,
        b"nonce" => NONCE,
        b"at_hash" => AT_HASH,
        b"c_hash" => C_HASH,
        b"s_hash" => S_HASH,
        _ => return None,
    })
}

struct Claims<'t> {
    text: &'t str,
    members: Vec<Member>,
    slots: [Option<u8>; STANDARD],
}

impl<'t> Claims<'t> {
    fn parse(text: &'t str) -> Claims<'t> {
        let mut members = json::object_members(text).unwrap();
        // Name order, as the authorizer's claims (its context is written in it).
        members.sort_unstable_by(|a, b| {
            if a.name.escaped || b.name.escaped {
                a.name.value(text).cmp(&b.name.value(text))
            } else {
                a.name.raw(text).cmp(b.name.raw(text))
            }
        });
        let mut slots = [None; STANDARD];
        for (i, member) in members.iter().enumerate() {
            if let Some(slot) = standard(member.name.value(text).as_bytes()) {
                slots[slot] = Some(u8::try_from(i).unwrap());
            }
        }
        Claims {
            text,
            members,
            slots,
        }
    }

    fn member(&self, slot: usize) -> Option<&Member> {
        Some(&self.members[usize::from(self.slots[slot]?)])
    }

    fn raw(&self, slot: usize) -> Option<&'t str> {
        let (start, end) = self.member(slot)?.value;
        Some(&self.text[start as usize..end as usize])
    }

    /// A string claim (anything else refused).
    fn str(&self, slot: usize) -> Option<Str> {
        let member = self.member(slot)?;
        let (start, end) = member.value;
        assert_eq!(self.text.as_bytes()[start as usize], b'"');
        Some(Str::at(start + 1, end - 1, member.escaped))
    }

    /// A `NumericDate`: absent, or a number (anything else refused).
    fn time(&self, slot: usize) -> Option<f64> {
        self.raw(slot).map(|raw| json::number(raw).unwrap())
    }
}

// ---------------------------------------------------------------------------------------
// The answer.

fn plain(s: &[u8]) -> bool {
    s.iter().fold(0u8, |seen, &b| {
        seen | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    }) == 0
}

/// `s` as a JSON string.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if plain(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).unwrap();
    }
}

/// Checked JSON text (no control characters) as a JSON string.
fn json_text_string(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'"');
    let (mut from, mut i) = (0, 0);
    loop {
        while let Some(chunk) = text.get(i..i + 8) {
            let m = json::quote_or_backslash(u64::from_le_bytes(chunk.try_into().unwrap()));
            if m != 0 {
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < text.len() && text[i] != b'"' && text[i] != b'\\' {
            i += 1;
        }
        if i >= text.len() {
            break;
        }
        out.extend_from_slice(&text[from..i]);
        out.push(b'\\');
        out.push(text[i]);
        i += 1;
        from = i;
    }
    out.extend_from_slice(&text[from..]);
    out.push(b'"');
}

/// `token_verifier::testing::resource(arn, PolicyResource::Stage)`, written as a JSON
/// string.
fn write_resource(out: &mut Vec<u8>, arn: &str) {
    if let Some((prefix, path)) = arn.split_once('/')
        && prefix.starts_with("arn:")
        && prefix.contains(":execute-api:")
        && let Some((stage, _)) = path.split_once('/')
        && !stage.is_empty()
    {
        let whole = &arn[..prefix.len() + 1 + stage.len()];
        if plain(whole.as_bytes()) {
            out.push(b'"');
            out.extend_from_slice(whole.as_bytes());
            out.extend_from_slice(b"/*\"");
        } else {
            json_string(out, &format!("{whole}/*"));
        }
    } else {
        json_string(out, arn);
    }
}

/// Event bytes → answer bytes, and the three log facts.
pub(crate) fn decide(
    event: &[u8],
    key: &VerificationKey,
    policy: &Policy,
) -> (Vec<u8>, [String; 3]) {
    let event: TokenEvent = token_verifier::tool::dev::lambda_event(event).unwrap();
    assert_eq!(event.kind.as_deref(), Some("TOKEN"));
    let arn = event.method_arn.as_deref().unwrap();
    let token =
        token_verifier::testing::bearer(event.authorization_token.as_deref().unwrap()).unwrap();
    assert!(token.len() <= 16 * 1024);
    let fingerprint = token_verifier::testing::fingerprint(token);
    let token = token.as_bytes();
    let mut dots = memchr::memchr_iter(b'.', token);
    let (first, second) = (dots.next().unwrap(), dots.next().unwrap());
    assert!(dots.next().is_none());

    // The three parts, decoded into one buffer.
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    let (h, p, s) = (
        &token[..first],
        &token[first + 1..second],
        &token[second + 1..],
    );
    let (hn, pn, sn) = (
        b64.estimated_decoded_length(h.len()),
        b64.estimated_decoded_length(p.len()),
        b64.estimated_decoded_length(s.len()),
    );
    let mut buffer: Vec<u8> = Vec::with_capacity(hn + pn + sn);
    let spare: &mut [MaybeUninit<u8>] = &mut buffer.spare_capacity_mut()[..hn + pn + sn];
    let (hd, rest) = spare.split_at_mut(hn);
    let (pd, sd) = rest.split_at_mut(pn);
    let header = b64
        .decode(h, base64_simd::Out::from_uninit_slice(hd))
        .unwrap();
    let payload = b64
        .decode(p, base64_simd::Out::from_uninit_slice(pd))
        .unwrap();
    let signature = b64
        .decode(s, base64_simd::Out::from_uninit_slice(sd))
        .unwrap();
    let header = std::str::from_utf8(header).unwrap();
    let payload = std::str::from_utf8(payload).unwrap();

    // The header.
    let (mut alg, mut kid, mut typ) = (None, None, None);
    for member in json::object_members(header).unwrap() {
        let (start, end) = member.value;
        let value = &header[start as usize..end as usize];
        let string = Str::at(start + 1, end - 1, member.escaped);
        let is_string = value.starts_with('"');
        match &*member.name.value(header) {
            "alg" if is_string => alg = Some(string),
            "kid" if is_string => kid = Some(string),
            "typ" if is_string => typ = Some(string),
            "kid" | "typ" | "crit" | "b64" | "cty" if value == "null" => {}
            "alg" | "kid" | "typ" | "crit" | "b64" | "cty" => panic!("header"),
            _ => {}
        }
    }
    assert!(alg.unwrap().is(header, "RS256"));
    assert!(typ.is_none_or(|t| t.is(header, "at+jwt") || t.is(header, "JWT")));

    // The claims.
    let claims = Claims::parse(payload);
    assert!(kid.unwrap().is(header, "rsa-a"));
    assert!(key.verify(Algorithm::RS256, &token[..second], signature));

    let facts = [ISS, AUD, SUB]
        .map(|slot| token_verifier::testing::sanitize(claims.raw(slot).unwrap_or("absent"), 200));
    assert!(claims.str(ISS).unwrap().is(payload, policy.issuer));
    let (exp, nbf, iat) = (claims.time(EXP), claims.time(NBF), claims.time(IAT));
    assert!(
        ![AT_HASH, C_HASH, S_HASH]
            .iter()
            .any(|&m| claims.slots[m].is_some())
    );
    assert!(claims.slots[TOKEN_USE].is_none() && claims.slots[TYP].is_none());
    assert!(claims.slots[NONCE].is_none() || claims.slots[SCOPE].is_some());
    let aud = claims.member(AUD).unwrap().value;
    let audience = if payload.as_bytes()[aud.0 as usize] == b'[' {
        json::items(payload, aud)
            .unwrap()
            .any(|((start, end), escaped)| {
                Str::at(start + 1, end - 1, escaped).is(payload, policy.audience)
            })
    } else {
        claims.str(AUD).unwrap().is(payload, policy.audience)
    };
    assert!(audience);
    assert!(policy.now < exp.unwrap());
    assert!(nbf.is_none_or(|nbf| nbf <= policy.now + 60.0));
    assert!(iat.is_none_or(|iat| iat <= policy.now + 60.0));
    let scope = claims.str(SCOPE).unwrap();
    assert!(
        scope
            .value(payload)
            .split(' ')
            .any(|s| s == policy.required_scope)
    );
    let principal = claims.str(SUB).unwrap();

    let mut out = Vec::with_capacity(payload.len() + 512);
    out.extend_from_slice(br#"{"principalId":""#);
    // A checked JSON string's content is already JSON string text.
    out.extend_from_slice(principal.raw(payload).as_bytes());
    out.extend_from_slice(br#"","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["#);
    write_resource(&mut out, arn);
    out.extend_from_slice(br#"]}]},"context":{"#);
    let start = out.len();
    for member in &claims.members {
        let value = &payload.as_bytes()[member.value.0 as usize..member.value.1 as usize];
        let name = member.name.value(payload);
        if value == b"null" || token_verifier::testing::RESERVED_KEYS.contains(&&*name) {
            continue;
        }
        let mark = out.len();
        if mark > start {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(member.name.raw(payload).as_bytes());
        out.extend_from_slice(b"\":");
        if matches!(value[0], b'[' | b'{') {
            json_text_string(&mut out, value);
        } else {
            out.extend_from_slice(value);
        }
        if out.len() - start + 2 > 4096 {
            out.truncate(mark);
        }
    }
    out.extend_from_slice(b"}}");
    std::hint::black_box(fingerprint);
    (out, facts)
}
