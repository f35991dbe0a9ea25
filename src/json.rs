//! The strict JSON scanner every token payload goes through: RFC 8259 grammar, escapes and
//! surrogate pairs, no control characters in strings, numbers finite as `f64` (as
//! `serde_json` reads them), `serde_json`'s nesting bound, and duplicate member names
//! refused at every depth (RFC 7519 §4, RFC 8725 §2.6: a duplicate `sub` or `exp` must not
//! mean different things to different readers).
//!
//! It builds nothing: it checks the text in one pass and reports where each member's
//! name and value lie, so [`crate::claims::Claims`] can keep the payload as it arrived and
//! read a claim only when a check asks for it. `tests/json_scanner.rs` holds it to
//! `serde_json`'s verdict (with duplicates refused) on 300,000 mutated payloads.

// The scanner's small helpers are forced inline, as in the ceiling bench it was measured
// in (benches/ceiling): they sit in the per-byte loops.
#![allow(clippy::inline_always)]

use std::borrow::Cow;

/// `serde_json`'s recursion limit: 127 nested arrays or objects below the top.
pub const MAX_DEPTH: usize = 127;

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

/// Per byte of `w`, its high bit set where the byte is `"` or `\`.
#[inline(always)]
#[must_use]
pub fn quote_or_backslash(w: u64) -> u64 {
    let q = w ^ (ONES * u64::from(b'"'));
    let q = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let s = s.wrapping_sub(ONES) & !s;
    (q | s) & HIGH
}

/// Eight bytes from `at` (zero-padded past the end), little-endian.
#[inline(always)]
fn word(text: &[u8], at: usize) -> u64 {
    let mut eight = [0u8; 8];
    let available = text.get(at..).unwrap_or_default();
    let n = available.len().min(8);
    eight[..n].copy_from_slice(&available[..n]);
    u64::from_le_bytes(eight)
}

/// A JSON string in a text: the span of its content (between the quotes), whether it
/// holds escapes, and (for member names) its first bytes and length, to compare fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str {
    /// First byte of the content.
    pub start: u32,
    /// One past the last byte of the content (the closing quote).
    pub end: u32,
    /// Whether the content holds a backslash escape.
    pub escaped: bool,
    tag: u64,
}

impl Str {
    /// The string whose content lies at `start..end`.
    #[must_use]
    pub const fn at(start: u32, end: u32, escaped: bool) -> Str {
        Str {
            start,
            end,
            escaped,
            tag: 0,
        }
    }

    /// The string whose JSON text, quotes included, spans `value` (a member's or an item's
    /// value span). An empty or one-byte span gives empty content.
    #[must_use]
    pub const fn quoted(value: (u32, u32), escaped: bool) -> Str {
        let start = value.0.saturating_add(1);
        let end = value.1.saturating_sub(1);
        Str::at(start, if end < start { start } else { end }, escaped)
    }

    /// The content as written (escapes not resolved).
    #[must_use]
    pub fn raw<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// The string's value, escapes resolved.
    #[must_use]
    pub fn value<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.try_value(text).unwrap_or_default()
    }

    /// The string's value, escapes resolved; `None` when they spell no Unicode text (a
    /// lone surrogate `\udc00`: the strict scanner refuses it, `serde_json`'s `RawValue`
    /// lets it through).
    #[must_use]
    pub fn try_value<'t>(&self, text: &'t str) -> Option<Cow<'t, str>> {
        if self.escaped {
            let quoted = text.get(self.start.checked_sub(1)? as usize..self.end as usize + 1)?;
            serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(self.raw(text)))
        }
    }

    /// A name's first eight bytes and length folded into one word: two names with
    /// different tags differ (names without escapes; see [`tag_of`]).
    #[must_use]
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// Whether the string's value is `s`.
    #[must_use]
    pub fn is(&self, text: &str, s: &str) -> bool {
        if self.escaped {
            self.try_value(text).is_some_and(|value| value == s)
        } else {
            self.raw(text) == s
        }
    }
}

/// A JSON value's type (a claim's, an event member's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// The type of the value that starts with `first` in text already scanned or
    /// validated (nothing there: null).
    #[must_use]
    pub const fn at(first: Option<u8>) -> Kind {
        match first {
            Some(b'"') => Kind::String,
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') | None => Kind::Null,
            Some(_) => Kind::Number,
        }
    }

    /// The type of the JSON value `raw` (leading whitespace allowed).
    #[must_use]
    pub fn of(raw: &str) -> Kind {
        Kind::at(raw.trim_start().as_bytes().first().copied())
    }

    /// The type's name, for messages ("a string").
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// The tag of a member name written without escapes, as the scanner computes it.
#[must_use]
pub fn tag_of(name: &str) -> u64 {
    tag(name.as_bytes(), 0, name.len())
}

/// [`tag_of`], at compile time.
#[must_use]
pub const fn const_tag(name: &[u8]) -> u64 {
    let mut first = 0u64;
    let mut i = 0;
    while i < name.len() && i < 8 {
        first |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    first ^ (name.len() as u64).rotate_right(8)
}

fn tag(bytes: &[u8], start: usize, len: usize) -> u64 {
    let keep = if len >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * len)) - 1
    };
    (word(bytes, start) & keep) ^ (len as u64).rotate_right(8)
}

/// Up to this many names an object's duplicates are looked for name by name as they come
/// (one word compared per name); past it, once, by sorting the names at the object's end,
/// so a token with thousands of members costs `n log n`, not `n²`.
const LINEAR_NAMES: usize = 32;

/// An object member: its name and its value's span (`start..end` in the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The name.
    pub name: Str,
    /// Where the value lies.
    pub value: (u32, u32),
    /// Whether the value is a string holding escapes.
    pub escaped: bool,
}

/// The text is not strict JSON (the cold path asks `serde_json` to say why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

type Scan<T> = Result<T, Invalid>;

/// Scans a JSON object and returns its top-level members in text order.
///
/// # Errors
/// [`Invalid`] when `text` is not one strict JSON object (whitespace around it allowed),
/// or is 4 GiB or more.
pub fn object_members(text: &str) -> Result<Vec<Member>, Invalid> {
    u32::try_from(text.len()).map_err(|_| Invalid)?;
    let mut members = Vec::with_capacity(16);
    let mut scanner = Scanner::new(text, 32);
    scanner.ws();
    if scanner.peek()? != b'{' {
        return Err(Invalid);
    }
    scanner.object(MAX_DEPTH, |sc, name, (start, end)| {
        members.push(Member {
            name,
            value: (span(start), span(end)),
            escaped: sc.bytes[start] == b'"' && sc.escaped,
        });
        Ok(())
    })?;
    scanner.end()?;
    Ok(members)
}

/// The members of the object at `value` in an already scanned `text`, or `None` when it
/// is not an object.
#[must_use]
pub fn members_at(text: &str, value: (u32, u32)) -> Option<Vec<Member>> {
    let mut scanner = Scanner::new(text, 8);
    scanner.i = value.0 as usize;
    if scanner.peek().ok()? != b'{' {
        return None;
    }
    let mut members = Vec::new();
    scanner
        .object(MAX_DEPTH, |sc, name, (start, end)| {
            members.push(Member {
                name,
                value: (span(start), span(end)),
                escaped: sc.bytes[start] == b'"' && sc.escaped,
            });
            Ok(())
        })
        .ok()?;
    Some(members)
}

/// The items of the array at `value` in an already scanned `text`, one at a time (nothing
/// allocated), or `None` when it is not an array.
#[must_use]
pub fn items(text: &str, value: (u32, u32)) -> Option<Items<'_>> {
    let mut scanner = Scanner::new(text, 0);
    scanner.i = value.0 as usize;
    if scanner.peek().ok()? != b'[' {
        return None;
    }
    scanner.i += 1;
    scanner.ws();
    let done = scanner.peek().ok()? == b']';
    Some(Items { scanner, done })
}

/// An array's items: their spans, and whether each is a string holding escapes.
pub struct Items<'t> {
    scanner: Scanner<'t>,
    done: bool,
}

impl Iterator for Items<'_> {
    type Item = ((u32, u32), bool);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let scanner = &mut self.scanner;
        scanner.ws();
        let start = scanner.i;
        let item = scanner.value(MAX_DEPTH).ok().map(|()| {
            let escaped = scanner.bytes[start] == b'"' && scanner.escaped;
            ((span(start), span(scanner.i)), escaped)
        });
        scanner.ws();
        match (item, scanner.peek()) {
            (Some(item), Ok(b',')) => {
                scanner.i += 1;
                Some(item)
            }
            (Some(item), Ok(b']')) => {
                self.done = true;
                Some(item)
            }
            _ => {
                self.done = true;
                None
            }
        }
    }
}

/// Whether the value at `value` of a scanned `text` is already the compact JSON
/// `serde_json` writes for it: no whitespace, no escapes, no numbers but integers of at
/// most 15 digits, and every object's member names in ascending order. Such a value is
/// copied as it is; any other is rebuilt by [`write_compact`].
#[must_use]
pub fn is_compact(text: &str, value: (u32, u32)) -> bool {
    let Some(b) = text.as_bytes().get(value.0 as usize..value.1 as usize) else {
        return false;
    };
    // Per open array or object: whether it is an object, and its last member name.
    let mut open: [(bool, Option<(usize, usize)>); 16] = [(false, None); 16];
    let mut depth: usize = 0;
    let mut expect_name = false;
    let mut digits = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                let start = i + 1;
                let Some(len) = memchr::memchr2(b'"', b'\\', &b[start..]) else {
                    return false;
                };
                let end = start + len;
                if b[end] == b'\\' {
                    return false;
                }
                if expect_name {
                    let Some(frame) = depth.checked_sub(1).and_then(|d| open.get_mut(d)) else {
                        return false;
                    };
                    if frame.1.is_some_and(|(s, e)| b[s..e] >= b[start..end]) {
                        return false;
                    }
                    frame.1 = Some((start, end));
                    expect_name = false;
                }
                i = end + 1;
                digits = 0;
                continue;
            }
            b'{' | b'[' => {
                let Some(frame) = open.get_mut(depth) else {
                    return false;
                };
                *frame = (c == b'{', None);
                depth += 1;
                expect_name = c == b'{';
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                expect_name = false;
            }
            b',' => expect_name = depth > 0 && open[depth - 1].0,
            b':' => {}
            b'0'..=b'9' => {
                digits += 1;
                if digits > 15 {
                    return false;
                }
                i += 1;
                continue;
            }
            // `true`, `false`, `null`; never after a digit (`1e5` is written `100000.0`).
            b't' | b'r' | b'u' | b'e' | b'f' | b'a' | b'l' | b's' | b'n' if digits == 0 => {}
            _ => return false,
        }
        digits = 0;
        i += 1;
    }
    true
}

/// The scanner's verdict on a whole document, any value at the top.
#[must_use]
pub fn scan(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    if u32::try_from(text.len()).is_err() {
        return false;
    }
    let mut scanner = Scanner::new(text, 16);
    scanner.ws();
    scanner.value(MAX_DEPTH).is_ok() && scanner.end().is_ok()
}

/// Offsets are below 4 GiB: [`object_members`] refuses longer texts.
#[allow(clippy::cast_possible_truncation)]
fn span(at: usize) -> u32 {
    at as u32
}

/// A JSON number's value, when finite, exactly as `serde_json` reads it. Integers of up
/// to 15 digits (every `NumericDate` a token carries) are read digit by digit (exact);
/// the rest by `serde_json`.
#[must_use]
#[allow(clippy::cast_precision_loss)] // below 2^53: exact
pub fn number(raw: &str) -> Option<f64> {
    if let Some(n) = small_integer(raw) {
        return Some(n as f64);
    }
    // serde_json's own reading (not the standard parser: the two round differently near
    // f64::MAX, so they would disagree on which numbers are finite).
    raw.parse::<serde_json::Number>()
        .ok()?
        .as_f64()
        .filter(|t| t.is_finite())
}

/// A non-negative integer of at most 15 digits (below 2^53: exact as an `f64`).
fn small_integer(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 15 {
        return None;
    }
    raw.bytes().try_fold(0u64, |n, d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// Writes the value at `value` of a scanned `text` as the compact JSON `serde_json`
/// writes for it (`serde_json::to_string` of its `Value`): no whitespace, object members
/// in name order, strings escaped as `serde_json` escapes them, numbers as it prints them.
pub fn write_compact(out: &mut String, text: &str, value: (u32, u32), escaped: bool) {
    let raw = text
        .get(value.0 as usize..value.1 as usize)
        .unwrap_or_default();
    match raw.as_bytes().first() {
        Some(b'"') => {
            if escaped {
                let content = Str::quoted(value, true).value(text);
                out.push_str(&serde_json::to_string(&*content).unwrap_or_default());
            } else {
                // Without escapes the content holds no quote, backslash or control
                // character: serde_json writes it as it is.
                out.push_str(raw);
            }
        }
        Some(b'{') => {
            let mut members = members_at(text, value).unwrap_or_default();
            members.sort_unstable_by(|a, b| a.name.value(text).cmp(&b.name.value(text)));
            out.push('{');
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let name = member.name;
                write_compact(out, text, (name.start - 1, name.end + 1), name.escaped);
                out.push(':');
                write_compact(out, text, member.value, member.escaped);
            }
            out.push('}');
        }
        Some(b'[') => {
            out.push('[');
            for (i, (item, escaped)) in items(text, value).into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, text, item, escaped);
            }
            out.push(']');
        }
        Some(b't' | b'f' | b'n') => out.push_str(raw),
        _ if small_integer(raw).is_some() => out.push_str(raw),
        _ => match raw.parse::<serde_json::Number>() {
            Ok(n) => out.push_str(&n.to_string()),
            Err(_) => out.push_str("null"),
        },
    }
}

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    i: usize,
    /// Member names of the objects being scanned (innermost last): the tag of each name's
    /// value and the value, decoded once when it holds escapes.
    names: Vec<(u64, Cow<'t, str>)>,
    /// Whether the last string scanned held escapes.
    escaped: bool,
}

impl<'t> Scanner<'t> {
    fn new(text: &'t str, names: usize) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            i: 0,
            names: Vec::with_capacity(names),
            escaped: false,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Scan<u8> {
        self.bytes.get(self.i).copied().ok_or(Invalid)
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.bytes.get(self.i) {
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
            Err(Invalid)
        }
    }

    /// At a `"`: the string, checked. The text is `str`, so its bytes are UTF-8 already.
    #[inline]
    fn string(&mut self) -> Scan<Str> {
        self.eat(b'"')?;
        let b = self.bytes;
        let start = self.i;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the next quote, backslash or control character.
            while let Some(chunk) = b.get(self.i..self.i + 8) {
                let Ok(eight) = <[u8; 8]>::try_from(chunk) else {
                    break;
                };
                let w = u64::from_le_bytes(eight);
                let ctrl = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
                let m = ctrl | quote_or_backslash(w);
                if m != 0 {
                    self.i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            loop {
                let c = *b.get(self.i).ok_or(Invalid)?;
                match c {
                    b'"' => {
                        let end = self.i;
                        self.i += 1;
                        self.escaped = escaped;
                        return Ok(Str {
                            start: span(start),
                            end: span(end),
                            escaped,
                            tag: 0,
                        });
                    }
                    b'\\' => {
                        escaped = true;
                        self.escape()?;
                        break;
                    }
                    0..0x20 => return Err(Invalid),
                    _ => self.i += 1,
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
                    return Err(Invalid);
                }
                if (0xD800..0xDC00).contains(&u) {
                    if self.bytes.get(self.i..self.i + 2) != Some(b"\\u") {
                        return Err(Invalid);
                    }
                    self.i += 2;
                    if !(0xDC00..0xE000).contains(&self.hex4()?) {
                        return Err(Invalid);
                    }
                }
                Ok(())
            }
            _ => Err(Invalid),
        }
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self.bytes.get(self.i..self.i + 4).ok_or(Invalid)?;
        let mut u = 0;
        for &d in digits {
            u = u * 16 + char::from(d).to_digit(16).ok_or(Invalid)?;
        }
        self.i += 4;
        Ok(u)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.bytes.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number: RFC 8259 grammar, and (as `serde_json`) finite as an f64.
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
            _ => return Err(Invalid),
        }
        if self.bytes.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        let mut exponent = false;
        if matches!(self.bytes.get(self.i), Some(b'e' | b'E')) {
            exponent = true;
            self.i += 1;
            if matches!(self.bytes.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        // Without an exponent, fewer than 300 digits cannot overflow an f64.
        if (exponent || self.i - start > 300)
            && number(self.text.get(start..self.i).unwrap_or_default()).is_none()
        {
            return Err(Invalid);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        if self.bytes.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Invalid)
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
            _ => Err(Invalid),
        }
    }

    fn array(&mut self, depth: usize) -> Scan<()> {
        let depth = depth.checked_sub(1).ok_or(Invalid)?;
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
                _ => return Err(Invalid),
            }
        }
    }

    /// An object whose member names never repeat; `member` sees each name and value span.
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, Str, (usize, usize)) -> Scan<()>,
    ) -> Scan<()> {
        let depth = depth.checked_sub(1).ok_or(Invalid)?;
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
            name.tag = tag(
                self.bytes,
                name.start as usize,
                (name.end - name.start) as usize,
            );
            let key = if name.escaped {
                let value = name.value(self.text);
                (tag_of(&value), value)
            } else {
                (name.tag, Cow::Borrowed(name.raw(self.text)))
            };
            let seen = &self.names[base..];
            if seen.len() < LINEAR_NAMES
                && seen
                    .iter()
                    .any(|(tag, value)| *tag == key.0 && *value == key.1)
            {
                return Err(Invalid);
            }
            self.names.push(key);
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
                _ => return Err(Invalid),
            }
        }
        let names = &mut self.names[base..];
        if names.len() > LINEAR_NAMES {
            names.sort_unstable_by(|a, b| a.1.cmp(&b.1));
            if names.windows(2).any(|pair| pair[0].1 == pair[1].1) {
                return Err(Invalid);
            }
        }
        self.names.truncate(base);
        Ok(())
    }

    /// After the last value: only whitespace left.
    fn end(&mut self) -> Scan<()> {
        self.ws();
        if self.i == self.bytes.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }
}

/// The members of the object at byte `at` of `valid`, text `serde_json` has already
/// validated (an authorizer event, handed over as a `RawValue`), found without checking
/// the grammar again: strings are skipped eight bytes at a time (long ones with `memchr`),
/// other values by their brackets. Duplicate names are not looked for: the reader of a
/// member asks whether its name is there twice. `None` when the value at `at` is no
/// object; on text that is not valid JSON the answer means nothing, but nothing panics
/// and every step moves forward.
#[must_use]
pub fn skim_members(valid: &str, at: u32) -> Option<Vec<Member>> {
    Skim::at(valid, at)?.members()
}

/// The items of the array at byte `at` of `valid` (text `serde_json` validated, as for
/// [`skim_members`]): each item's span, and whether it is a string holding escapes.
/// `None` when the value at `at` is no array.
#[must_use]
pub fn skim_items(valid: &str, at: u32) -> Option<Vec<((u32, u32), bool)>> {
    Skim::at(valid, at)?.items()
}

/// A cursor over text `serde_json` has validated.
struct Skim<'t> {
    b: &'t [u8],
    i: usize,
}

impl<'t> Skim<'t> {
    /// At the value starting at byte `at` (whitespace before it skipped); `None` for a
    /// text too long for `u32` spans.
    fn at(valid: &'t str, at: u32) -> Option<Self> {
        u32::try_from(valid.len()).ok()?;
        let mut skim = Skim {
            b: valid.as_bytes(),
            i: at as usize,
        };
        skim.ws();
        Some(skim)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// At `{`: its members, and past it.
    fn members(&mut self) -> Option<Vec<Member>> {
        if self.peek()? != b'{' {
            return None;
        }
        self.i += 1;
        let mut members = Vec::with_capacity(16);
        loop {
            self.ws();
            match self.peek()? {
                b'}' => {
                    self.i += 1;
                    return Some(members);
                }
                b',' => self.i += 1,
                b'"' => {
                    let name = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    let (value, escaped) = self.item()?;
                    members.push(Member {
                        name,
                        value,
                        escaped,
                    });
                }
                _ => return None,
            }
        }
    }

    /// At `[`: its items, and past it.
    fn items(&mut self) -> Option<Vec<((u32, u32), bool)>> {
        if self.peek()? != b'[' {
            return None;
        }
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            match self.peek()? {
                b']' => {
                    self.i += 1;
                    return Some(items);
                }
                b',' => self.i += 1,
                _ => items.push(self.item()?),
            }
        }
    }

    /// Past one value: its span, and whether it is a string holding escapes. `None` when
    /// nothing there is a value.
    fn item(&mut self) -> Option<((u32, u32), bool)> {
        let start = self.i;
        let escaped = self.value()?;
        (self.i > start).then_some(((span(start), span(self.i)), escaped))
    }

    /// At `"`: the string's content span, and past its closing quote.
    fn string(&mut self) -> Option<Str> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            let mut words = 0;
            while let Some(Ok(eight)) = self.b.get(self.i..self.i + 8).map(<[u8; 8]>::try_from) {
                let m = quote_or_backslash(u64::from_le_bytes(eight));
                if m != 0 {
                    self.i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
                words += 1;
                if words == 4 {
                    // A long string (a token): the rest with memchr.
                    let rest = self.b.get(self.i..).unwrap_or_default();
                    self.i += memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
                    break;
                }
            }
            match self.peek()? {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Some(Str::at(span(start), span(end), escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 2;
                }
                _ => self.i += 1,
            }
        }
    }

    /// Past one value; whether it is a string holding escapes.
    fn value(&mut self) -> Option<bool> {
        match self.peek()? {
            b'"' => self.string().map(|s| s.escaped),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.i += 1;
                                return Some(false);
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                Some(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_span_gives_the_content_between_the_quotes() {
        let text = r#"{"a":"xyz","b":""}"#;
        let members = object_members(text).unwrap();
        assert_eq!(Str::quoted(members[0].value, false).raw(text), "xyz");
        assert_eq!(Str::quoted(members[1].value, false).raw(text), "");
        // Spans too short for two quotes give empty content, never an inverted range.
        assert_eq!(Str::quoted((4, 4), false).raw(text), "");
        assert_eq!(Str::quoted((4, 5), false).raw(text), "");
    }
}
