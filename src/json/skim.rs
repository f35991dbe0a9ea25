//! Members and items of text `serde_json` has already validated (an authorizer event's
//! maps, handed over as `RawValue`s), found without checking the grammar again.

use super::{Member, Str, quote_or_backslash, span};

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
