//! The strict JSON scanner every token payload goes through (`src/json/scan.rs`) against
//! serde_json (with duplicate names refused at every depth), on the workload's claims
//! mutated at random and on hand-picked cases: the same verdict on every text, and for
//! every object the scanner accepts, `Claims` reads the same members and values as
//! serde_json and writes each claim (compactly, and serialized) as serde_json does.
#![allow(missing_docs, clippy::unwrap_used, clippy::pedantic)]

use token_verifier::Claims;

use serde::de::{self, DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};

struct NoDup;
impl<'de> DeserializeSeed<'de> for NoDup {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NoDup)
    }
}
impl<'de> Visitor<'de> for NoDup {
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
        while seq.next_element_seed(NoDup)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut names: Vec<String> = Vec::new();
        while let Some(name) = access.next_key::<String>()? {
            if names.contains(&name) {
                return Err(de::Error::custom("duplicate member"));
            }
            names.push(name);
            access.next_value_seed(NoDup)?;
        }
        Ok(())
    }
}

fn reference(text: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(text);
    de.deserialize_any(NoDup).is_ok() && de.end().is_ok()
}

fn check(text: &[u8]) {
    let verdict = reference(text);
    let shown = String::from_utf8_lossy(text);
    skim(text, verdict);
    assert_eq!(
        token_verifier::testing::json::scan(text),
        verdict,
        "{shown:?}"
    );
    let object = text.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{');
    match Claims::from_bytes(text.to_vec()) {
        Ok(claims) => {
            assert!(verdict && object, "accepted {shown:?}");
            let read: serde_json::Value = serde_json::from_slice(text).unwrap();
            assert_eq!(
                serde_json::Value::Object(claims.to_map()),
                read,
                "{shown:?}"
            );
            // Each claim rewritten compactly is what serde_json writes for its value, with
            // members by name (serde_json's default map; the Cedar crates switch on its
            // `preserve_order`, which would keep the source's order instead).
            for (name, claim) in claims.iter() {
                let written = serde_json::to_string(&by_name(&read[&*name])).unwrap();
                assert_eq!(claim.compact(), written, "{name} in {shown:?}");
                // And a claim serialized by serde (the HTTP API 2.0 context) writes it too.
                assert_eq!(
                    serde_json::to_string(&claim).unwrap(),
                    written,
                    "{name} in {shown:?}"
                );
                if claim.is_compact() {
                    assert_eq!(claim.raw(), written, "{name} in {shown:?}");
                }
            }
        }
        Err(_) => assert!(!(verdict && object), "refused {shown:?}"),
    }
}

/// The event skimmer (`json::skim_members`, for text serde_json validated) finds the
/// members serde_json reads in every valid object, and on any other text still returns
/// without panicking.
fn skim(text: &[u8], verdict: bool) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let skimmed = token_verifier::testing::json::skim_members(text, 0);
    let Ok(serde_json::Value::Object(read)) = serde_json::from_str(text) else {
        return;
    };
    if !verdict {
        // Duplicate names: serde_json's map keeps one, the skimmer must list every one (the
        // event reader counts them: two credentials are refused).
        let every = every_member(text);
        let skimmed = skimmed.unwrap_or_else(|| panic!("skimmed nothing of {text:?}"));
        let names: Vec<String> = skimmed
            .iter()
            .map(|m| m.name.value(text).into_owned())
            .collect();
        assert_eq!(names, every, "{text:?}");
        return;
    }
    let skimmed = skimmed.unwrap_or_else(|| panic!("skimmed nothing of {text:?}"));
    assert_eq!(skimmed.len(), read.len(), "{text:?}");
    for member in skimmed {
        let name = member.name.value(text);
        let raw = &text[member.value.0 as usize..member.value.1 as usize];
        let value: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(Some(&value), read.get(&*name), "{name} in {text:?}");
        if let serde_json::Value::Array(items) = &value {
            let skimmed = token_verifier::testing::json::skim_items(text, member.value.0).unwrap();
            let skimmed: Vec<serde_json::Value> = skimmed
                .iter()
                .map(|((start, end), _)| {
                    serde_json::from_str(&text[*start as usize..*end as usize]).unwrap()
                })
                .collect();
            assert_eq!(&skimmed, items, "{name} in {text:?}");
        }
        assert_eq!(
            member.escaped,
            raw.starts_with('"') && raw.contains('\\'),
            "{text:?}"
        );
    }
}

/// Every top-level member name of a JSON object, duplicates included, as serde_json reads
/// them in order.
fn every_member(text: &str) -> Vec<String> {
    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Vec<String>, A::Error> {
            let mut names = Vec::new();
            while let Some(name) = access.next_key::<String>()? {
                access.next_value::<de::IgnoredAny>()?;
                names.push(name);
            }
            Ok(names)
        }
    }
    serde_json::Deserializer::from_str(text)
        .deserialize_map(Names)
        .unwrap()
}

#[test]
fn hand_picked() {
    for case in [
        &br#"{"a":1,"a":2}"#[..],
        br#"{"a":1,"\u0061":2}"#,
        br#"{"a":{"b":1,"b":2}}"#,
        br#"{"a":[{"b":1},{"b":2}]}"#,
        br#"{"a":"\ud800"}"#,
        br#"{"a":"\udc00"}"#,
        br#"{"a":"\ud800\udc00"}"#,
        br#"{"a":"\ud800\u0041"}"#,
        br#"{"a":"\x"}"#,
        b"{\"a\":\"\x01\"}",
        b"{\"a\":\"\xc3\xa9\"}",
        b"{\"a\":\"\xc3\"}",
        b"{\"a\":\"\xed\xa0\x80\"}",
        b"{\"a\xff\":1}",
        br#"{"a":1e400}"#,
        br#"{"a":-1e400}"#,
        br#"{"a":1e-400}"#,
        br#"{"a":01}"#,
        br#"{"a":1.}"#,
        br#"{"a":.1}"#,
        br#"{"a":-}"#,
        br#"{"a":1e}"#,
        br#"{"a":1E+2}"#,
        br#"{"a":-0.0e-0}"#,
        br#"{"a":tru}"#,
        br#"{"a":nul}"#,
        br#"{"a":[1,]}"#,
        br#"{"a":1,}"#,
        br#"{,}"#,
        br#" { "a" : [ 1 , 2 ] } "#,
        br#"{"a":1} x"#,
        br#"{"a":1}}"#,
        br#"[]"#,
        br#""\u00e9""#,
        br#"{"12345678":1,"12345678":2}"#,
        br#"{"123456789":1,"123456780":2}"#,
        br#"{"abcdefgh\"":1,"abcdefgh\"":2}"#,
        br#"{"x":"abcdefghijklmnop\"qrstuvwxyz\\"}"#,
        // Numbers and strings serde_json writes differently from how they arrived.
        br#"{"a":-0,"b":-0.0,"c":1E+2,"d":1.50,"e":12345678901234567890,"f":1e-7}"#,
        br#"{"a":{"z":1,"b":[1.50,"\u00e9\/",{"y":null,"x":true}],"a\u0000":"\t"}}"#,
        br#"{"a":[ 1 , "x" , [ ] , { } ]}"#,
        br#"{"a":123456789012345,"b":1234567890123456,"c":-123456789012345}"#,
        // Near f64::MAX the standard parser and serde_json round differently: the
        // scanner reads numbers as serde_json does.
        br#"{"exp":1.7976931348623158e308}"#,
        br#"{"a":17976931348623156673282e286}"#,
        br#"{"a":1.797693134862315807e308}"#,
        br#"{"a":1.79769313486231586e308}"#,
    ] {
        check(case);
    }
    // Objects past the name-by-name duplicate check: found by sorting at the object's end.
    let names = |n: usize, escaped: bool| -> Vec<String> {
        (0..n)
            .map(|i| {
                let name = format!("{:03}", i);
                if escaped { format!("\\/{name}") } else { name }
            })
            .collect()
    };
    for (n, escaped) in [
        (31, false),
        (32, true),
        (33, false),
        (40, true),
        (1_330, true),
        (1_700, false),
    ] {
        let names = names(n, escaped);
        let object = |names: &[String]| {
            let members: Vec<String> = names.iter().map(|m| format!("\"{m}\":0")).collect();
            format!("{{{}}}", members.join(","))
        };
        check(object(&names).as_bytes());
        for duplicate in [0, n / 2, n - 1] {
            let mut repeated = names.clone();
            repeated.push(names[duplicate].clone());
            check(object(&repeated).as_bytes());
            // The same name once escaped and once not.
            let mut spelled = names.clone();
            spelled.push(names[duplicate].replace("\\/", "/"));
            check(object(&spelled).as_bytes());
        }
    }
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    check(deep.as_bytes());
    let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    check(ok.as_bytes());
    let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
    check(ok.as_bytes());
    let big = format!(r#"{{"a":{}}}"#, "9".repeat(400));
    check(big.as_bytes());
}

#[test]
fn mutated_claims() {
    let base = serde_json::to_vec(&token_verifier::tool::dev::workload::claims()).unwrap();
    let alphabet = b"{}[]\",:\\ u0123456789aeE.-+tfnlrsx\x01\x7f\xc3\xa9\xff";
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    check(&base);
    for _ in 0..300_000 {
        let mut text = base.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % text.len();
            let byte = alphabet[(next() as usize) % alphabet.len()];
            match next() % 3 {
                0 => text[at] = byte,
                1 => text.insert(at, byte),
                _ => {
                    text.remove(at);
                }
            }
        }
        check(&text);
    }
}

/// Strings long and short, with a quote, backslash escape, `\u` escape, control
/// character, or non-ASCII character at every position: the scanner reads strings eight
/// bytes at a time, the event skimmer switches to `memchr` past 32 bytes (a token), and
/// each must stop exactly where serde_json does.
#[test]
fn every_special_byte_at_every_position() {
    let specials: [&[u8]; 7] = [
        b"\\\"",
        b"\\\\",
        b"\\u00e9",
        b"\x01",
        b"\x1f",
        b"\xc3\xa9",
        b"\"",
    ];
    for len in 0..=100 {
        for at in 0..=len {
            for special in specials {
                let mut text = br#"{"k":""#.to_vec();
                text.extend(std::iter::repeat_n(b'a', at));
                text.extend_from_slice(special);
                text.extend(std::iter::repeat_n(b'b', len - at));
                text.extend_from_slice(br#""}"#);
                check(&text);
            }
        }
    }
}

/// `value` with every object's members in name order, as serde_json writes them without
/// `preserve_order`.
fn by_name(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(members) => {
            let mut sorted: Vec<(&String, &serde_json::Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), by_name(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(by_name).collect())
        }
        other => other.clone(),
    }
}
