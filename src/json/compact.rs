//! A scanned value as the compact JSON `serde_json` writes for it (`serde_json::to_string`
//! of its `Value`), copied when the token already has that form, rebuilt when not.

use super::scan::{items, members_at};
use super::{Str, small_integer};

/// Whether the value at `value` of a scanned `text` is already the compact JSON
/// `serde_json` writes for it: no whitespace, no escapes, no numbers but integers of at
/// most 15 digits, and every object's member names in ascending order. Such a value is
/// copied as it is; any other is rebuilt by [`write_compact`].
#[must_use]
pub(crate) fn is_compact(text: &str, value: (u32, u32)) -> bool {
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

/// Writes the value at `value` of a scanned `text` as the compact JSON `serde_json`
/// writes for it (`serde_json::to_string` of its `Value`): no whitespace, object members
/// in name order, strings escaped as `serde_json` escapes them, numbers as it prints them.
pub(crate) fn write_compact(out: &mut String, text: &str, value: (u32, u32), escaped: bool) {
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
