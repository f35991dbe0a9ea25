//! The ceiling under `handler/RS256`: the same decision for the same event and token,
//! built the fastest way we know. The event is read as lambda_runtime reads it (an owned
//! type, through serde_path_to_error over serde_json; the bearer token taken by the
//! product's `event::bearer`); the token's three parts are
//! decoded into one buffer; header and claims are checked by one strict JSON scanner in
//! a single pass each (RFC 8259 grammar, escapes and surrogate pairs, no control
//! characters, numbers in range, depth bound, duplicate member names refused at every
//! depth, UTF-8 checked in every string that holds a non-ASCII byte), which keeps each top-level member as a slice; the answer
//! is written as JSON text and returned as it is.
//!
//! Bench code, not a product path: it decides only this workload (it panics on anything
//! else), writes no refusal text, and keeps only the three log facts.
//! The first version (commit 21eb06f: serde_json with `RawValue` slices instead of the
//! scanner, a second pass for nested duplicates) measured 0.82–0.84× of bare, this one
//! 0.87–0.88× in release rounds (BENCHMARKS.md). `tests/ceiling_scanner.rs` checks the scanner against
//! serde_json.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use serde::Deserialize;
use token_verifier::algorithm::Algorithm;
use token_verifier::jwk::VerificationKey;

/// The configuration `handler/RS256` runs with.
pub struct Policy<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub required_scope: &'a str,
    pub now: f64,
}

/// The REST TOKEN event, owned: what a TOKEN-only handler would take from lambda_runtime
/// (`LambdaEvent<TokenEvent>`). Unknown members ignored, every member optional.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TokenEvent {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub authorization_token: Option<String>,
    pub method_arn: Option<String>,
}

// ---------------------------------------------------------------------------------------
// The strict JSON scanner, on bytes. Outside strings only ASCII is grammatical; a string
// holding any other byte is checked as UTF-8, so a scanned text is UTF-8.

/// serde_json's recursion limit: 127 nested arrays or objects.
const MAX_DEPTH: usize = 127;

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

/// Per byte of `w`, its high bit set where the byte is `"` or `\`.
#[inline(always)]
fn quote_or_backslash(w: u64) -> u64 {
    let q = w ^ (ONES * u64::from(b'"'));
    let q = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let s = s.wrapping_sub(ONES) & !s;
    (q | s) & HIGH
}

/// A JSON string in the text: the span of its content (between the quotes), whether it
/// holds escapes, and (for member names) its first bytes and length, to compare fast.
#[derive(Clone, Copy)]
struct Str {
    start: u32,
    end: u32,
    escaped: bool,
    tag: u64,
}

impl Str {
    fn raw<'t>(&self, text: &'t [u8]) -> &'t [u8] {
        &text[self.start as usize..self.end as usize]
    }

    /// The string's value.
    fn value<'t>(&self, text: &'t [u8]) -> Cow<'t, [u8]> {
        if self.escaped {
            let quoted = &text[self.start as usize - 1..self.end as usize + 1];
            Cow::Owned(
                serde_json::from_slice::<String>(quoted)
                    .unwrap()
                    .into_bytes(),
            )
        } else {
            Cow::Borrowed(self.raw(text))
        }
    }

    fn is(&self, text: &[u8], s: &str) -> bool {
        if self.escaped {
            *self.value(text) == *s.as_bytes()
        } else {
            self.raw(text) == s.as_bytes()
        }
    }
}

fn same_name(text: &[u8], a: Str, b: Str) -> bool {
    if !a.escaped && !b.escaped {
        a.tag == b.tag && a.raw(text) == b.raw(text)
    } else {
        a.value(text) == b.value(text)
    }
}

struct Scanner<'t> {
    text: &'t [u8],
    i: usize,
    /// Member names of the objects being scanned (innermost last).
    names: Vec<Str>,
    /// Whether the last string scanned held escapes.
    escaped: bool,
}

type Scan<T> = Result<T, ()>;

impl<'t> Scanner<'t> {
    fn new(text: &'t [u8], names: usize) -> Self {
        Scanner {
            text,
            i: 0,
            names: Vec::with_capacity(names),
            escaped: false,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Scan<u8> {
        self.text.get(self.i).copied().ok_or(())
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.text.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> Scan<()> {
        if self.peek()? == c {
            self.i += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    /// At a `"`: the string, checked.
    #[inline]
    fn string(&mut self) -> Scan<Str> {
        self.eat(b'"')?;
        let b = self.text;
        let start = self.i;
        let mut escaped = false;
        let mut high = 0u64;
        loop {
            // Eight bytes at a time to the next quote, backslash or control character.
            while let Some(chunk) = b.get(self.i..self.i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap());
                let ctrl = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
                let m = ctrl | quote_or_backslash(w);
                if m != 0 {
                    let before = ((m & m.wrapping_neg()) >> 7).wrapping_sub(1);
                    high |= w & before;
                    self.i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                high |= w;
                self.i += 8;
            }
            loop {
                let c = *b.get(self.i).ok_or(())?;
                match c {
                    b'"' => {
                        let end = self.i;
                        self.i += 1;
                        if high & HIGH != 0 && std::str::from_utf8(&b[start..end]).is_err() {
                            return Err(());
                        }
                        self.escaped = escaped;
                        return Ok(Str {
                            start: start as u32,
                            end: end as u32,
                            escaped,
                            tag: 0,
                        });
                    }
                    b'\\' => {
                        escaped = true;
                        self.escape()?;
                        break;
                    }
                    0..0x20 => return Err(()),
                    _ => {
                        high |= u64::from(c);
                        self.i += 1;
                    }
                }
            }
        }
    }

    /// At a backslash.
    #[cold]
    fn escape(&mut self) -> Scan<()> {
        self.i += 1;
        let c = self.peek()?;
        self.i += 1;
        match c {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let u = self.hex4()?;
                if (0xDC00..0xE000).contains(&u) {
                    return Err(());
                }
                if (0xD800..0xDC00).contains(&u) {
                    if self.text.get(self.i..self.i + 2) != Some(b"\\u") {
                        return Err(());
                    }
                    self.i += 2;
                    if !(0xDC00..0xE000).contains(&self.hex4()?) {
                        return Err(());
                    }
                }
                Ok(())
            }
            _ => Err(()),
        }
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.text.get(self.i..self.i + 4).ok_or(())?;
        let mut u = 0;
        for &d in digits {
            u = u * 16 + char::from(d).to_digit(16).ok_or(())?;
        }
        self.i += 4;
        Ok(u)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.text.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number: RFC 8259 grammar, and (as serde_json) finite as an f64.
    fn number(&mut self) -> Scan<()> {
        let start = self.i;
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(()),
        }
        if self.text.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(());
            }
        }
        let mut exponent = false;
        if matches!(self.text.get(self.i), Some(b'e' | b'E')) {
            exponent = true;
            self.i += 1;
            if matches!(self.text.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(());
            }
        }
        if (exponent || self.i - start > 300) && number(&self.text[start..self.i]).is_none() {
            return Err(());
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.text.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(())
        }
    }

    /// Any value (whitespace before it skipped by the caller).
    fn value(&mut self, depth: usize) -> Scan<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth, |_, _, _| Ok(())),
            b'[' => self.array(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(()),
        }
    }

    fn array(&mut self, depth: usize) -> Scan<()> {
        let depth = depth.checked_sub(1).ok_or(())?;
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(()),
            }
        }
    }

    /// An object whose member names never repeat; `member` sees each name and value span.
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, Str, (usize, usize)) -> Scan<()>,
    ) -> Scan<()> {
        let depth = depth.checked_sub(1).ok_or(())?;
        self.i += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        let base = self.names.len();
        loop {
            self.ws();
            let mut name = self.string()?;
            let len = (name.end - name.start) as usize;
            let first = match self.text.get(name.start as usize..name.start as usize + 8) {
                Some(eight) => u64::from_le_bytes(eight.try_into().unwrap()),
                None => {
                    let mut first = [0u8; 8];
                    first[..len.min(8)]
                        .copy_from_slice(&self.text[name.start as usize..][..len.min(8)]);
                    u64::from_le_bytes(first)
                }
            };
            let keep = if len >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * len)) - 1
            };
            name.tag = (first & keep) ^ (len as u64).rotate_right(8);
            if self.names[base..]
                .iter()
                .any(|&seen| same_name(self.text, seen, name))
            {
                return Err(());
            }
            self.names.push(name);
            self.ws();
            self.eat(b':')?;
            self.ws();
            let start = self.i;
            self.value(depth)?;
            member(self, name, (start, self.i))?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return Err(()),
            }
        }
        self.names.truncate(base);
        Ok(())
    }

    /// After the last value: only whitespace left.
    fn end(&mut self) -> Scan<()> {
        self.ws();
        if self.i == self.text.len() {
            Ok(())
        } else {
            Err(())
        }
    }
}

/// A JSON number's value, when finite.
fn number(raw: &[u8]) -> Option<f64> {
    std::str::from_utf8(raw)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
}

/// A member: its name, its value's span, and whether that value is a string with escapes.
#[derive(Clone, Copy)]
struct Member {
    name: Str,
    value: (u32, u32),
    escaped: bool,
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
    text: &'t [u8],
    members: Vec<Member>,
    slots: [Option<u8>; STANDARD],
}

impl<'t> Claims<'t> {
    fn parse(text: &'t [u8]) -> Claims<'t> {
        let mut members = Vec::with_capacity(16);
        let mut scanner = Scanner::new(text, 32);
        scanner.ws();
        assert_eq!(scanner.peek(), Ok(b'{'));
        scanner
            .object(MAX_DEPTH, |sc, name, (start, end)| {
                members.push(Member {
                    name,
                    value: (start as u32, end as u32),
                    escaped: sc.text[start] == b'"' && sc.escaped,
                });
                Ok(())
            })
            .unwrap();
        scanner.end().unwrap();
        // Name order, as the authorizer's claims map (its context is written in it).
        members.sort_unstable_by(|a, b| {
            if a.name.escaped || b.name.escaped {
                a.name.value(text).cmp(&b.name.value(text))
            } else {
                a.name.raw(text).cmp(b.name.raw(text))
            }
        });
        let mut slots = [None; STANDARD];
        for (i, member) in members.iter().enumerate() {
            if let Some(slot) = standard(&member.name.value(text)) {
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

    fn raw(&self, slot: usize) -> Option<&'t [u8]> {
        let (start, end) = self.member(slot)?.value;
        Some(&self.text[start as usize..end as usize])
    }

    /// A string claim (anything else refused).
    fn str(&self, slot: usize) -> Option<Str> {
        let member = self.member(slot)?;
        let (start, end) = member.value;
        assert_eq!(self.text[start as usize], b'"');
        Some(Str {
            start: start + 1,
            end: end - 1,
            escaped: member.escaped,
            tag: 0,
        })
    }

    /// A `NumericDate`: absent, or a number (anything else refused).
    fn time(&self, slot: usize) -> Option<f64> {
        self.raw(slot).map(|raw| number(raw).unwrap())
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
            let m = quote_or_backslash(u64::from_le_bytes(chunk.try_into().unwrap()));
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

/// `token_verifier::response::resource(arn, PolicyResource::Stage)`, written as a JSON
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
pub fn decide(event: &[u8], key: &VerificationKey, policy: &Policy) -> (Vec<u8>, [String; 3]) {
    let event: TokenEvent = token_verifier::dev::lambda_event(event).unwrap();
    assert_eq!(event.kind.as_deref(), Some("TOKEN"));
    let arn = event.method_arn.as_deref().unwrap();
    let token =
        token_verifier::event::bearer(event.authorization_token.as_deref().unwrap()).unwrap();
    assert!(token.len() <= 16 * 1024);
    let fingerprint = token_verifier::authorizer::fingerprint(token);
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
    let (header, payload): (&[u8], &[u8]) = (header, payload);

    // The header.
    let (mut alg, mut kid, mut typ) = (None, None, None);
    let mut scanner = Scanner::new(header, 8);
    scanner.ws();
    assert_eq!(scanner.peek(), Ok(b'{'));
    scanner
        .object(MAX_DEPTH, |sc, name, (start, end)| {
            let value = &sc.text[start..end];
            let string = Str {
                start: start as u32 + 1,
                end: end as u32 - 1,
                escaped: sc.escaped,
                tag: 0,
            };
            let is_string = value[0] == b'"';
            match &*name.value(sc.text) {
                b"alg" if is_string => alg = Some(string),
                b"kid" if is_string => kid = Some(string),
                b"typ" if is_string => typ = Some(string),
                b"kid" | b"typ" | b"crit" | b"b64" | b"cty" if value == b"null" => {}
                b"alg" | b"kid" | b"typ" | b"crit" | b"b64" | b"cty" => return Err(()),
                _ => {}
            }
            Ok(())
        })
        .unwrap();
    scanner.end().unwrap();
    assert!(alg.unwrap().is(header, "RS256"));
    assert!(typ.is_none_or(|t| t.is(header, "at+jwt") || t.is(header, "JWT")));

    // The claims.
    let claims = Claims::parse(payload);
    assert!(kid.unwrap().is(header, "rsa-a"));
    assert!(key.verify(Algorithm::RS256, &token[..second], signature));

    let facts = [ISS, AUD, SUB].map(|slot| {
        token_verifier::refusal::sanitize(
            claims
                .raw(slot)
                .map_or("absent", |raw| std::str::from_utf8(raw).unwrap()),
            200,
        )
    });
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
    let audience = if payload[aud.0 as usize] == b'[' {
        let mut scanner = Scanner::new(&payload[..aud.1 as usize], 0);
        scanner.i = aud.0 as usize + 1;
        let mut found = false;
        loop {
            scanner.ws();
            if scanner.peek() == Ok(b']') {
                break;
            }
            found |= scanner.string().unwrap().is(payload, policy.audience);
            scanner.ws();
            if scanner.peek() == Ok(b',') {
                scanner.i += 1;
            }
        }
        found
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
            .split(|&b| b == b' ')
            .any(|s| s == policy.required_scope.as_bytes())
    );
    let principal = claims.str(SUB).unwrap();

    let mut out = Vec::with_capacity(payload.len() + 512);
    out.extend_from_slice(br#"{"principalId":""#);
    // A checked JSON string's content is already JSON string text.
    out.extend_from_slice(principal.raw(payload));
    out.extend_from_slice(br#"","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["#);
    write_resource(&mut out, arn);
    out.extend_from_slice(br#"]}]},"context":{"#);
    let start = out.len();
    for member in &claims.members {
        let value = &payload[member.value.0 as usize..member.value.1 as usize];
        let name = member.name.value(payload);
        if value == b"null"
            || token_verifier::context::RESERVED_KEYS
                .iter()
                .any(|k| k.as_bytes() == &*name)
        {
            continue;
        }
        let mark = out.len();
        if mark > start {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(member.name.raw(payload));
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

/// The scanner's verdict on a whole document, any value at the top (for tests).
#[allow(dead_code)]
pub fn scan(text: &[u8]) -> bool {
    let mut scanner = Scanner::new(text, 16);
    scanner.ws();
    scanner.value(MAX_DEPTH).is_ok() && scanner.end().is_ok()
}
