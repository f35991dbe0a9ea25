//! Verified claims → the authorizer context the backend reads.
//!
//! REST and HTTP API 1.0 accept only strings, numbers and booleans as context values;
//! anything else makes API Gateway answer 500. [`FlatContext`] cannot hold anything
//! else: scalar claims pass as they are, arrays and objects (`permissions`,
//! `https://my-app.example.com/user_meta`) as compact JSON strings the backend can
//! parse. HTTP API 2.0 accepts native JSON, so [`native`] keeps the values as they are.
//! Both are bounded by `CONTEXT_MAX_BYTES` and limited to `CONTEXT_CLAIMS` when set.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::settings::ContextSettings;
use crate::token::{Claim, Claims, Kind};

/// Context keys API Gateway reserves or fills itself; claims with these names are left out.
pub const RESERVED_KEYS: [&str; 3] = ["principalId", "claims", "integrationLatency"];

/// A REST context value: only the three types API Gateway accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A string (also every array or object claim, as compact JSON).
    Str(String),
    /// A number.
    Num(Number),
    /// A boolean.
    Bool(bool),
}

/// A context that is valid for REST and HTTP API 1.0 by construction, in claim-name order.
/// It owns the verified claims and writes each entry from the token's text when the
/// answer is serialized: nothing is copied out of the claims but the nested ones that
/// must be rebuilt.
#[derive(Clone, Default, PartialEq)]
pub struct FlatContext {
    claims: Claims,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// A string or boolean claim (by position), as it is.
    Scalar(usize),
    /// A number claim (by position), its value read once when the size was counted.
    Number(usize, Number),
    /// An array claim whose token text is already compact JSON: that text, as a string.
    Text(usize),
    /// An array or object claim, rebuilt as compact JSON.
    Json(usize, String),
    /// An entry the authorizer sets itself.
    Own(String, Scalar),
}

impl Serialize for FlatContext {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for entry in &self.entries {
            match self.entry(entry) {
                // Strings and booleans only: numbers are `Written::Number`.
                (name, Written::Scalar(claim)) => match claim.as_str() {
                    Some(string) => map.serialize_entry(&*name, &*string)?,
                    None => map.serialize_entry(&*name, &claim.as_bool())?,
                },
                (name, Written::Number(value)) => map.serialize_entry(&*name, value)?,
                (name, Written::Text(text)) => map.serialize_entry(&*name, text)?,
                (name, Written::Own(value)) => map.serialize_entry(&*name, value)?,
            }
        }
        map.end()
    }
}

impl std::fmt::Debug for FlatContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys only: claim values (e-mail addresses, ...) stay out of debug output.
        f.debug_set()
            .entries(self.entries.iter().map(|e| self.entry(e).0))
            .finish()
    }
}

/// An entry's value, ready to write.
enum Written<'a> {
    Scalar(Claim<'a>),
    Number(&'a Number),
    Text(&'a str),
    Own(&'a Scalar),
}

impl FlatContext {
    /// Adds an entry (for values the authorizer sets itself).
    pub fn insert(&mut self, key: &str, value: Scalar) {
        let kept: Vec<Entry> = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|e| self.entry(e).0 != key)
            .collect();
        self.entries = kept;
        self.entries.push(Entry::Own(key.to_owned(), value));
    }

    /// Whether the context is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn entry<'a>(&'a self, entry: &'a Entry) -> (Cow<'a, str>, Written<'a>) {
        let claim = |at: usize| {
            self.claims
                .at(at)
                .unwrap_or((Cow::Borrowed(""), Claim::NULL))
        };
        match entry {
            Entry::Scalar(at) => {
                let (name, value) = claim(*at);
                (name, Written::Scalar(value))
            }
            Entry::Number(at, value) => (claim(*at).0, Written::Number(value)),
            Entry::Text(at) => {
                let (name, value) = claim(*at);
                (name, Written::Text(value.raw()))
            }
            Entry::Json(at, text) => (claim(*at).0, Written::Text(text)),
            Entry::Own(name, value) => (Cow::Borrowed(name), Written::Own(value)),
        }
    }
}

/// A number claim's value (the scanner accepted it, so it parses).
fn number(claim: Claim<'_>) -> Number {
    claim.raw().parse().unwrap_or_else(|_| Number::from(0))
}

/// What did not fit in the context (logged, never silent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Omitted(pub Vec<String>);

fn selected(name: &str, value: Claim<'_>, settings: &ContextSettings) -> bool {
    !value.is_null()
        && !RESERVED_KEYS.contains(&name)
        && settings
            .claims
            .as_ref()
            .is_none_or(|only| only.iter().any(|c| c == name))
}

/// The REST / HTTP 1.0 context of `claims` (moved in: the context writes from them), in
/// claim-name order, within the size bound.
#[must_use]
pub fn flat(claims: Claims, settings: &ContextSettings) -> (FlatContext, Omitted) {
    let mut entries = Vec::with_capacity(claims.len());
    let mut omitted = Omitted::default();
    let mut size = 2;
    for (at, (name, value)) in claims.iter().enumerate() {
        if !selected(&name, value, settings) {
            continue;
        }
        let (entry, length) = match value.kind() {
            Kind::String => (
                Entry::Scalar(at),
                json_string_len(&value.as_str().unwrap_or_default()),
            ),
            Kind::Number => {
                let value = number(value);
                let length = json_number_len(&value);
                (Entry::Number(at, value), length)
            }
            Kind::Bool => (Entry::Scalar(at), 5),
            Kind::Array | Kind::Object if value.is_compact() => {
                (Entry::Text(at), json_string_len(value.raw()))
            }
            Kind::Array | Kind::Object | Kind::Null => {
                let text = value.compact();
                let length = json_string_len(&text);
                (Entry::Json(at, text), length)
            }
        };
        let cost = name.len() + 4 + length;
        if size + cost > settings.max_bytes {
            omitted.0.push(name.into_owned());
            continue;
        }
        size += cost;
        entries.push(entry);
    }
    (FlatContext { claims, entries }, omitted)
}

/// An HTTP API 2.0 context: native JSON values. Like [`FlatContext`], it owns the claims
/// and writes each value from their text when the answer is serialized (no
/// `serde_json::Value` is built for a claim).
#[derive(Clone, Default, PartialEq)]
pub struct NativeContext {
    claims: Claims,
    entries: Vec<NativeEntry>,
}

#[derive(Debug, Clone, PartialEq)]
enum NativeEntry {
    /// A claim (by position), as its JSON value.
    Claim(usize),
    /// An entry the authorizer sets itself.
    Own(String, Value),
}

impl NativeContext {
    /// Adds an entry (for values the authorizer sets itself).
    pub fn insert(&mut self, key: &str, value: Value) {
        let kept: Vec<NativeEntry> = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|e| self.name(e) != key)
            .collect();
        self.entries = kept;
        self.entries.push(NativeEntry::Own(key.to_owned(), value));
    }

    /// The context as a `serde_json` map (tests and tools).
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .map(|e| {
                let value = match e {
                    NativeEntry::Claim(at) => self
                        .claims
                        .at(*at)
                        .map_or(Value::Null, |(_, claim)| claim.to_value()),
                    NativeEntry::Own(_, value) => value.clone(),
                };
                (self.name(e).to_owned(), value)
            })
            .collect()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the context is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn name<'a>(&'a self, entry: &'a NativeEntry) -> &'a str {
        match entry {
            NativeEntry::Claim(at) => self.claims.name_at(*at),
            NativeEntry::Own(name, _) => name,
        }
    }
}

impl Serialize for NativeContext {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for entry in &self.entries {
            match entry {
                NativeEntry::Claim(at) => {
                    if let Some((name, claim)) = self.claims.at(*at) {
                        map.serialize_entry(&*name, &claim)?;
                    }
                }
                NativeEntry::Own(name, value) => map.serialize_entry(name, value)?,
            }
        }
        map.end()
    }
}

impl std::fmt::Debug for NativeContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys only: claim values (e-mail addresses, ...) stay out of debug output.
        f.debug_set()
            .entries(self.entries.iter().map(|e| self.name(e)))
            .finish()
    }
}

/// The HTTP API 2.0 context of `claims` (moved in: the context writes from them), native
/// JSON values, within the size bound.
#[must_use]
pub fn native(claims: Claims, settings: &ContextSettings) -> (NativeContext, Omitted) {
    let mut entries = Vec::with_capacity(claims.len());
    let mut omitted = Omitted::default();
    let mut size = 2;
    for (at, (name, claim)) in claims.iter().enumerate() {
        if !selected(&name, claim, settings) {
            continue;
        }
        let length = match claim.kind() {
            Kind::String => json_string_len(&claim.as_str().unwrap_or_default()),
            Kind::Number => json_number_len(&number(claim)),
            _ if claim.is_compact() => claim.raw().len(),
            _ => claim.compact().len(),
        };
        let cost = name.len() + 4 + length;
        if size + cost > settings.max_bytes {
            omitted.0.push(name.into_owned());
            continue;
        }
        size += cost;
        entries.push(NativeEntry::Claim(at));
    }
    (NativeContext { claims, entries }, omitted)
}

/// The length of a string serialised as JSON, without serialising it.
fn json_string_len(s: &str) -> usize {
    // Quotes and backslashes take 1 more byte, control characters at most 5 more
    // (`\u00XX`). Counted per 255-byte chunk in u8 lanes, branch-free: the compiler
    // vectorises that 16 bytes at a time even at the SSE2 baseline (a usize sum took
    // 2 lanes).
    let mut extra = 0;
    for chunk in s.as_bytes().chunks(255) {
        let (escaped, control) = chunk.iter().fold((0u8, 0u8), |(e, c), &b| {
            (
                e + u8::from(b == b'"' || b == b'\\'),
                c + u8::from(b < 0x20),
            )
        });
        extra += usize::from(escaped) + 5 * usize::from(control);
    }
    2 + s.len() + extra
}

/// The length of a number as JSON, without building the text.
fn json_number_len(n: &Number) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = std::fmt::Write::write_fmt(&mut count, format_args!("{n}"));
    count.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(max_bytes: usize) -> ContextSettings {
        ContextSettings {
            claims: None,
            max_bytes,
        }
    }

    fn claims(v: Value) -> Claims {
        let Value::Object(m) = v else { unreachable!() };
        Claims::from_map(&m)
    }

    #[test]
    fn arrays_and_objects_become_json_strings_and_scalars_stay() {
        let c = claims(json!({
            "sub": "auth0|123", "exp": 1_800_000_000, "email_verified": true, "scope": "read:messages",
            "permissions": ["read:messages", "write:messages"],
            "https://my-app.example.com/user_meta": {"tier": "gold", "langs": ["en"]},
            "nothing": null,
        }));
        let (ctx, omitted) = flat(c.clone(), &settings(4096));
        assert!(omitted.0.is_empty());
        let out = serde_json::to_value(&ctx).unwrap();
        assert_eq!(
            out,
            json!({
                "sub": "auth0|123", "exp": 1_800_000_000, "email_verified": true, "scope": "read:messages",
                "permissions": "[\"read:messages\",\"write:messages\"]",
                "https://my-app.example.com/user_meta": "{\"langs\":[\"en\"],\"tier\":\"gold\"}",
            })
        );
        for value in out.as_object().unwrap().values() {
            assert!(value.is_string() || value.is_number() || value.is_boolean());
        }
    }

    #[test]
    fn number_claims_pass_as_serde_json_reads_them() {
        let text = r#"{"a":1.50,"b":-0,"c":1E+2,"d":12345678901234567890,"e":-7,"f":1e-7}"#;
        let c = Claims::from_bytes(text.as_bytes().to_vec()).unwrap();
        let (ctx, omitted) = flat(c, &settings(4096));
        assert!(omitted.0.is_empty());
        let written = serde_json::to_string(&ctx).unwrap();
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(written, serde_json::to_string(&expected).unwrap());
    }

    #[test]
    fn sizes_are_exactly_what_serde_json_writes() {
        let long_quoted = "\"a\\b\"".repeat(300);
        let controls: String = (0u8..0x20).map(char::from).collect::<String>().repeat(20);
        for s in [
            "",
            "auth0|123",
            "é ü 日本",
            long_quoted.as_str(),
            controls.as_str(),
            &"x".repeat(1000),
        ] {
            let written = serde_json::to_string(s).unwrap().len();
            assert!(json_string_len(s) >= written, "{s:?}");
            // Only control characters with a short escape (\n, \t, ...) are estimated high.
            if !s.bytes().any(|b| b < 0x20) {
                assert_eq!(json_string_len(s), written, "{s:?}");
            }
        }
        for n in [
            json!(0),
            json!(-17),
            json!(u64::MAX),
            json!(1.5),
            json!(1e-7),
        ] {
            let Value::Number(n) = n else { unreachable!() };
            assert_eq!(
                json_number_len(&n),
                serde_json::to_string(&n).unwrap().len()
            );
        }
    }

    #[test]
    fn the_size_bound_holds_and_what_did_not_fit_is_reported() {
        let c = claims(json!({"a": "x".repeat(100), "b": "y".repeat(5000), "c": 1}));
        let (ctx, omitted) = flat(c.clone(), &settings(300));
        assert_eq!(omitted.0, vec!["b"]);
        assert!(serde_json::to_vec(&ctx).unwrap().len() <= 300);
        let (native_ctx, omitted) = native(c.clone(), &settings(300));
        assert_eq!(omitted.0, vec!["b"]);
        assert!(serde_json::to_vec(&native_ctx).unwrap().len() <= 300);
    }

    #[test]
    fn only_listed_claims_and_never_reserved_keys() {
        let c = claims(json!({"sub": "s", "email": "e", "claims": "x", "principalId": "p"}));
        let only = ContextSettings {
            claims: Some(vec!["sub".into(), "claims".into()]),
            max_bytes: 4096,
        };
        let (ctx, _) = flat(c.clone(), &only);
        assert_eq!(serde_json::to_value(&ctx).unwrap(), json!({"sub": "s"}));
        let (all, _) = flat(c.clone(), &settings(4096));
        assert_eq!(
            serde_json::to_value(&all).unwrap(),
            json!({"sub": "s", "email": "e"})
        );
    }

    #[test]
    fn debug_output_names_keys_without_values() {
        let c = claims(json!({"email": "jane@example.com", "roles": {"admin": "secret-role"}}));
        let (ctx, _) = flat(c, &settings(4096));
        let shown = format!("{ctx:?}");
        assert!(
            shown.contains("email") && shown.contains("roles"),
            "{shown}"
        );
        assert!(
            !shown.contains("jane") && !shown.contains("secret-role"),
            "{shown}"
        );
    }

    #[test]
    fn native_context_keeps_json_types() {
        let c = Claims::parse(
            r#"{"permissions":["a", "b\u00e9"],"meta":{"z":1.50,"k":[-0,1e2,true,null]},"s":"x\/y"}"#
                .to_owned(),
        )
        .unwrap();
        let expected = json!({"permissions": ["a", "bé"], "meta": {"k": [-0.0, 100.0, true, null], "z": 1.5}, "s": "x/y"});
        let (mut ctx, _) = native(c, &settings(4096));
        // Written from the token's text exactly as serde_json writes the same values
        // (members by name, as its default map keeps them; with `preserve_order`, which
        // the Cedar crates switch on, serde_json itself would keep the source's order).
        assert_eq!(
            serde_json::to_string(&ctx).unwrap(),
            r#"{"meta":{"k":[-0.0,100.0,true,null],"z":1.5},"permissions":["a","bé"],"s":"x/y"}"#
        );
        assert_eq!(Value::Object(ctx.to_map()), expected);
        ctx.insert("principalId", json!("p"));
        ctx.insert("principalId", json!("q"));
        assert_eq!(ctx.len(), 4);
        assert_eq!(ctx.to_map()["principalId"], "q");
    }
}
