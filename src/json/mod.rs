//! JSON as the verifier reads it: strictly, in place, without building values.
//!
//! - [`scan`]: the strict scanner every token payload goes through: RFC 8259 grammar,
//!   escapes and surrogate pairs, no control characters in strings, numbers finite as
//!   `f64` (as `serde_json` reads them), `serde_json`'s nesting bound, and duplicate member
//!   names refused at every depth (RFC 7519 §4, RFC 8725 §2.6: a duplicate `sub` or `exp`
//!   must not mean different things to different readers). It builds nothing: it checks
//!   the text in one pass and reports where each member's name and value lie, so
//!   `token::Claims` can keep the payload as it arrived and read a claim only when a check
//!   asks for it. `tests/json_scanner.rs` holds it to `serde_json`'s verdict (with
//!   duplicates refused) on 300,000 mutated payloads.
//! - [`skim`]: members and items of text `serde_json` already validated (the event's maps).
//! - [`compact`]: a value as the compact JSON `serde_json` writes (the authorizer context).
//! - [`value`]: `serde_json` values with duplicate members refused (key sets, discovery
//!   documents, the refusal path of the scanner).
//!
//! This file holds what they share: string and member spans, value types, name tags.

// The scanner's small helpers are forced inline, as in the ceiling bench it was measured
// in (benches/ceiling): they sit in the per-byte loops.
#![allow(clippy::inline_always)]

use std::borrow::Cow;

pub(crate) mod compact;
pub(crate) mod scan;
pub(crate) mod skim;
pub(crate) mod value;

pub(crate) use compact::{is_compact, write_compact};
pub(crate) use scan::{items, members_at, object_members};
pub(crate) use skim::{skim_items, skim_members};
pub(crate) use value::{json_type, parse_object, why_not_an_object};

/// `serde_json`'s recursion limit: 127 nested arrays or objects below the top.
pub(crate) const MAX_DEPTH: usize = 127;

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
    /// different tags differ (names without escapes; see `tag_of`).
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
pub(crate) fn tag_of(name: &str) -> u64 {
    tag(name.as_bytes(), 0, name.len())
}

/// [`tag_of`], at compile time.
#[must_use]
pub(crate) const fn const_tag(name: &[u8]) -> u64 {
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
