//! The strict scanner: one pass over a JSON text, every rule checked, nothing built.

#![allow(clippy::inline_always)]

use std::borrow::Cow;

use super::{
    HIGH, Invalid, MAX_DEPTH, Member, ONES, Str, number, quote_or_backslash, span, tag, tag_of,
};

/// Up to this many names an object's duplicates are looked for name by name as they come
/// (one word compared per name); past it, once, by sorting the names at the object's end,
/// so a token with thousands of members costs `n log n`, not `n²`.
const LINEAR_NAMES: usize = 32;

type Scan<T> = Result<T, Invalid>;

/// Scans a JSON object and returns its top-level members in text order.
///
/// # Errors
/// `Invalid` when `text` is not one strict JSON object (whitespace around it allowed),
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
pub(crate) fn members_at(text: &str, value: (u32, u32)) -> Option<Vec<Member>> {
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
