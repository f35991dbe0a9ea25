//! `serde_json` values with duplicate member names refused at every depth: what key sets,
//! discovery documents and the scanner's refusal path read.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::refusal::sanitize;

/// The JSON type of a value, for messages.
#[must_use]
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a JSON object, refusing duplicate member names at any depth (RFC 7519 §4 and
/// RFC 8725 §2.6: a duplicate `sub` or `exp` must not mean different things to different
/// readers). Depth is bounded by `serde_json`'s recursion limit (128).
///
/// # Errors
/// A short description when the bytes are not UTF-8 JSON, not an object, or repeat a name.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    // Validating UTF-8 once, up front, is several times faster than serde_json's
    // per-string validation of a byte slice.
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 ({e})"))?;
    match serde_json::from_str::<Strict>(text) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(Strict(other)) => Err(format!("not a JSON object but {}", json_type(&other))),
        Err(e) => Err(format!("not valid JSON ({e})")),
    }
}

/// Why `bytes` are not one strict JSON object, in `serde_json`'s words (the refusal path
/// of `Claims::parse`).
#[must_use]
pub(crate) fn why_not_an_object(bytes: &[u8]) -> String {
    match parse_object(bytes) {
        Err(why) => why,
        // The scanner refused what serde_json accepts: a difference the differential test
        // (`tests/json_scanner.rs`) exists to catch; refused all the same.
        Ok(_) => "not valid JSON (refused by the strict scanner)".to_owned(),
    }
}

/// A `serde_json::Value` that refuses duplicate object member names.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, Strict(value))) = access.next_entry::<String, Strict>()? {
            match map.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format!(
                        "duplicate member \"{}\"",
                        sanitize(slot.key(), 40)
                    )));
                }
            }
        }
        Ok(Value::Object(map))
    }
}
