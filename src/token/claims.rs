//! A token's claims as they arrived: the payload's JSON text, scanned once by the strict
//! scanner ([`crate::json`]), with each member's name and value located in it. Nothing is
//! copied or built until a check asks for one claim, and then only that claim is read:
//! a string claim without escapes is a slice of the text, a number is parsed where it
//! lies. The verifier's checks, the scope and route decisions and the authorizer
//! context all read claims through this type.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

pub use crate::json::Kind;
use crate::json::{self, Member};

/// Verified (or still untrusted) claims: one JSON object, duplicate names refused at every
/// depth, members kept in name order (the order the authorizer context is written in).
#[derive(Clone, Default)]
pub struct Claims {
    text: String,
    members: Vec<Member>,
    /// Every member's name decoded, in member order, when some name holds an escape
    /// (decoded once here; `None`, the rule, when names are their text).
    names: Option<Vec<Box<str>>>,
    /// Where the claims every token is checked for are (see [`standard`]); `ABSENT`
    /// where they are not. Used only when there are fewer members than `ABSENT` (always,
    /// for a token or a provider's answer: both are capped at 16 KiB).
    slots: [u16; STANDARD],
}

const ABSENT: u16 = u16::MAX;

/// The claims the checks look up on every token: found once, when the claims are read.
const STANDARD_NAMES: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "scope",
    "scp",
    "permissions",
    "token_use",
    "typ",
    "nonce",
    "at_hash",
    "c_hash",
    "s_hash",
];

/// How many claim names [`standard`] knows.
const STANDARD: usize = STANDARD_NAMES.len();

/// The tags ([`json::tag_of`]) of the standard names, in their order.
const STANDARD_TAGS: [u64; STANDARD] = {
    let mut tags = [0; STANDARD];
    let mut i = 0;
    while i < STANDARD {
        tags[i] = json::const_tag(STANDARD_NAMES[i].as_bytes());
        i += 1;
    }
    tags
};

/// The slot of a standard claim name: one word compared per name (its first eight bytes
/// and length), then the name itself.
fn standard(name: &str) -> Option<usize> {
    standard_by_tag(json::tag_of(name), name)
}

fn standard_by_tag(tag: u64, name: &str) -> Option<usize> {
    let slot = STANDARD_TAGS.iter().position(|t| *t == tag)?;
    // A tag holds the whole of a name shorter than eight bytes (its length in the top
    // byte, where an eight-byte name has its last byte).
    (name.len() < 8 || STANDARD_NAMES[slot] == name).then_some(slot)
}

/// The slots of `members` (in their final order; `names` as in [`Claims`]).
fn slots(text: &str, members: &[Member], names: Option<&[Box<str>]>) -> [u16; STANDARD] {
    let mut slots = [ABSENT; STANDARD];
    for (at, member) in members.iter().enumerate().take(usize::from(ABSENT)) {
        let slot = match names {
            Some(names) => names.get(at).and_then(|name| standard(name)),
            None => standard_by_tag(member.name.tag(), member.name.raw(text)),
        };
        if let (Some(slot), Ok(at)) = (slot, u16::try_from(at)) {
            slots[slot] = at;
        }
    }
    slots
}

/// One claim's value: a slice of the payload text, strict JSON.
#[derive(Clone, Copy)]
pub struct Claim<'a> {
    text: &'a str,
    value: (u32, u32),
    escaped: bool,
}

impl Claims {
    /// Takes a JSON object's text: strict (the `json` scanner's rules).
    ///
    /// # Errors
    /// A short description when the text is not one strict JSON object.
    pub fn parse(text: String) -> Result<Claims, String> {
        match json::object_members(&text) {
            Ok(mut members) => {
                let names = if members.iter().any(|m| m.name.escaped) {
                    // Each name decoded once, then sorted with its member.
                    let mut decoded: Vec<(Box<str>, Member)> = members
                        .into_iter()
                        .map(|m| (m.name.value(&text).into(), m))
                        .collect();
                    decoded.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    let (names, sorted) = decoded.into_iter().unzip();
                    members = sorted;
                    Some(names)
                } else {
                    members.sort_unstable_by(|a, b| a.name.raw(&text).cmp(b.name.raw(&text)));
                    None
                };
                let slots = slots(&text, &members, names.as_deref());
                Ok(Claims {
                    text,
                    members,
                    names,
                    slots,
                })
            }
            // The refusal path only: serde_json names what is wrong and where.
            Err(json::Invalid) => Err(json::why_not_an_object(text.as_bytes())),
        }
    }

    /// Takes a JSON object's bytes (not UTF-8: refused).
    ///
    /// # Errors
    /// As [`Claims::parse`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Claims, String> {
        // Validating UTF-8 once, up front (SIMD in the standard library), lets the
        // scanner work on `str`.
        match String::from_utf8(bytes) {
            Ok(text) => Claims::parse(text),
            Err(e) => Err(format!("not valid UTF-8 ({})", e.utf8_error())),
        }
    }

    /// The claims of a JSON object value (tests and tools; never fails on a map).
    #[must_use]
    pub fn from_map(map: &Map<String, Value>) -> Claims {
        serde_json::to_string(map)
            .ok()
            .and_then(|text| Claims::parse(text).ok())
            .unwrap_or_default()
    }

    /// The claim named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Claim<'_>> {
        self.find(name).map(|m| self.claim(m))
    }

    /// Whether a claim named `name` is present (even `null`).
    #[must_use]
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The member named `name`. Every check looks claims up by name, about thirty times
    /// per token: the standard claims from their slots, others by one word compared per
    /// member (the name's first bytes and length), the bytes only on a match.
    fn find(&self, name: &str) -> Option<&Member> {
        if self.members.len() < usize::from(ABSENT)
            && let Some(slot) = standard(name)
        {
            return self.members.get(usize::from(self.slots[slot]));
        }
        self.members.get(self.position(name)?)
    }

    /// The position of the member named `name`, looked for member by member.
    fn position(&self, name: &str) -> Option<usize> {
        if let Some(names) = &self.names {
            return names.iter().position(|n| **n == *name);
        }
        let tag = json::tag_of(name);
        let text = self.text.as_bytes();
        self.members.iter().position(|m| {
            m.name.tag() == tag
                && text.get(m.name.start as usize..m.name.end as usize) == Some(name.as_bytes())
        })
    }

    /// The name of the claim at `at` in name order (`""` past the end).
    #[must_use]
    pub fn name_at(&self, at: usize) -> &str {
        match &self.names {
            Some(names) => names.get(at).map_or("", |n| n),
            None => self.members.get(at).map_or("", |m| m.name.raw(&self.text)),
        }
    }

    /// How many claims.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Names and values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, Claim<'_>)> {
        self.members
            .iter()
            .enumerate()
            .map(|(at, m)| (Cow::Borrowed(self.name_at(at)), self.claim(m)))
    }

    /// The name and value of the claim at `at` in name order.
    #[must_use]
    pub fn at(&self, at: usize) -> Option<(Cow<'_, str>, Claim<'_>)> {
        let member = self.members.get(at)?;
        Some((Cow::Borrowed(self.name_at(at)), self.claim(member)))
    }

    /// Takes out the claim named `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.position(name)?;
        let member = self.members.remove(at);
        if let Some(names) = &mut self.names {
            names.remove(at);
        }
        self.slots = slots(&self.text, &self.members, self.names.as_deref());
        Some(self.claim(&member).to_value())
    }

    /// The claims as a `serde_json` map (for reports; the request path never builds one).
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(name, value)| (name.into_owned(), value.to_value()))
            .collect()
    }

    fn claim(&self, member: &Member) -> Claim<'_> {
        Claim {
            text: &self.text,
            value: member.value,
            escaped: member.escaped,
        }
    }
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: claim values (e-mail addresses, ...) stay out of debug output.
        f.debug_set()
            .entries((0..self.members.len()).map(|at| self.name_at(at)))
            .finish()
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

impl Serialize for Claims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.members.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(&name, &value.to_value())?;
        }
        map.end()
    }
}

impl<'a> Claim<'a> {
    /// `null`, standing alone.
    pub const NULL: Claim<'static> = Claim {
        text: "null",
        value: (0, 4),
        escaped: false,
    };

    /// The value's JSON text, exactly as in the token.
    #[must_use]
    pub fn raw(&self) -> &'a str {
        self.text
            .get(self.value.0 as usize..self.value.1 as usize)
            .unwrap_or_default()
    }

    /// Its JSON type.
    #[must_use]
    pub fn kind(&self) -> Kind {
        Kind::at(self.text.as_bytes().get(self.value.0 as usize).copied())
    }

    /// Whether it is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    /// Whether it is a string.
    #[must_use]
    pub fn is_string(&self) -> bool {
        self.kind() == Kind::String
    }

    /// A string's value (escapes resolved; borrowed from the text when there are none).
    #[must_use]
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        if self.kind() != Kind::String {
            return None;
        }
        let content = json::Str::quoted(self.value, self.escaped);
        Some(content.value(self.text))
    }

    /// A number's value (finite: the scanner refuses others).
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        (self.kind() == Kind::Number)
            .then(|| json::number(self.raw()))
            .flatten()
    }

    /// A boolean's value.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.raw() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// An array's items (`None` when it is not an array).
    #[must_use]
    pub fn items(&self) -> Option<Vec<Claim<'a>>> {
        (self.kind() == Kind::Array).then(|| self.each_item().collect())
    }

    /// An array's items, one at a time (none when it is not an array).
    pub fn each_item(&self) -> impl Iterator<Item = Claim<'a>> + use<'a> {
        let text = self.text;
        json::items(text, self.value)
            .into_iter()
            .flatten()
            .map(move |(value, escaped)| Claim {
                text,
                value,
                escaped,
            })
    }

    /// Whether it is already the compact JSON `serde_json` writes for it
    /// (`json::is_compact`).
    #[must_use]
    pub fn is_compact(&self) -> bool {
        json::is_compact(self.text, self.value)
    }

    /// An object's member named `name`.
    #[must_use]
    pub fn member(&self, name: &str) -> Option<Claim<'a>> {
        if self.kind() != Kind::Object {
            return None;
        }
        json::members_at(self.text, self.value)?
            .into_iter()
            .find(|m| m.name.is(self.text, name))
            .map(|m| Claim {
                text: self.text,
                value: m.value,
                escaped: m.escaped,
            })
    }

    /// The value as the compact JSON text `serde_json` writes for it (members in name
    /// order), without building a `serde_json` value.
    #[must_use]
    pub fn compact(&self) -> String {
        if self.is_compact() {
            return self.raw().to_owned();
        }
        let mut out = String::with_capacity(self.raw().len());
        json::write_compact(&mut out, self.text, self.value, self.escaped);
        out
    }

    /// The value as a `serde_json` value (built on demand: nested claims, reports).
    #[must_use]
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.raw()).unwrap_or(Value::Null)
    }
}

/// A claim writes itself as the JSON value it is, from the token's text: strings with
/// escapes resolved, numbers as `serde_json` reads them, object members in name order
/// (as a `serde_json::Value` of it would write), with no `Value` built.
impl Serialize for Claim<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        match self.kind() {
            Kind::Null => serializer.serialize_unit(),
            Kind::Bool => serializer.serialize_bool(self.as_bool().unwrap_or_default()),
            Kind::String => serializer.serialize_str(&self.as_str().unwrap_or_default()),
            Kind::Number => match self.raw().parse::<serde_json::Number>() {
                Ok(n) => n.serialize(serializer),
                Err(_) => serializer.serialize_unit(),
            },
            Kind::Array => {
                let mut seq = serializer.serialize_seq(None)?;
                for item in self.each_item() {
                    seq.serialize_element(&item)?;
                }
                seq.end()
            }
            Kind::Object => {
                let mut members: Vec<(Cow<'_, str>, Claim<'_>)> =
                    json::members_at(self.text, self.value)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| {
                            let value = Claim {
                                text: self.text,
                                value: m.value,
                                escaped: m.escaped,
                            };
                            (m.name.value(self.text), value)
                        })
                        .collect();
                members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (name, value) in &members {
                    map.serialize_entry(&**name, value)?;
                }
                map.end()
            }
        }
    }
}

impl std::fmt::Debug for Claim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Claim({:?})", self.kind())
    }
}

impl PartialEq<&str> for Claim<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str().is_some_and(|s| s == *other)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(text: &str) -> Claims {
        Claims::parse(text.to_owned()).unwrap()
    }

    #[test]
    fn claims_read_as_serde_json_reads_them() {
        let text = r#"{"sub":"a\"b","exp":1.5e3,"aud":["x","y\u00e9"],"m":{"k":[1,{"z":null}]},"t":true,"n":null}"#;
        let c = claims(text);
        assert_eq!(c.len(), 6);
        assert_eq!(
            Value::Object(c.to_map()),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert_eq!(c.get("sub").unwrap().as_str().unwrap(), "a\"b");
        assert_eq!(c.get("exp").unwrap().as_f64(), Some(1500.0));
        let aud = c.get("aud").unwrap().items().unwrap();
        assert_eq!(aud[1].as_str().unwrap(), "yé");
        assert_eq!(
            c.get("m").unwrap().member("k").unwrap().to_value(),
            json!([1, {"z": null}])
        );
        assert_eq!(c.get("t").unwrap().as_bool(), Some(true));
        assert!(c.get("n").unwrap().is_null() && c.contains_key("n"));
        assert!(c.get("missing").is_none());
        let names: Vec<_> = c.iter().map(|(n, _)| n.into_owned()).collect();
        assert_eq!(names, ["aud", "exp", "m", "n", "sub", "t"], "name order");
    }

    #[test]
    fn every_standard_name_has_its_own_tag() {
        for (i, name) in STANDARD_NAMES.iter().enumerate() {
            assert_eq!(STANDARD_TAGS[i], json::tag_of(name), "{name}");
            assert_eq!(standard(name), Some(i), "{name}");
        }
        for name in [
            "is",
            "isss",
            "permission",
            "permissionsX",
            "token_usE",
            "",
            "sub\0",
            "at_hash\u{f}",
        ] {
            assert_eq!(standard(name), None, "{name}");
        }
    }

    #[test]
    fn claims_too_many_to_slot_are_still_found_by_name() {
        // `sub` sorts after 70,000 `m…` names: past what a slot can number.
        let members: Vec<String> = (0..70_000).map(|i| format!(r#""m{i}":{i}"#)).collect();
        let c = claims(&format!(r#"{{"sub":"s",{},"zz":1}}"#, members.join(",")));
        assert!(c.len() > usize::from(ABSENT));
        assert_eq!(c.get("sub").unwrap().as_str().unwrap(), "s");
        assert_eq!(c.get("m69999").unwrap().as_f64(), Some(69_999.0));
        assert!(c.get("iss").is_none() && c.contains_key("zz"));
    }

    #[test]
    fn escaped_member_names_are_found_by_their_value() {
        let c = claims(r#"{"s\u0075b":"x"}"#);
        assert_eq!(c.get("sub").unwrap().as_str().unwrap(), "x");
        assert!(Claims::parse(r#"{"sub":1,"s\u0075b":2}"#.into()).is_err());
    }

    #[test]
    fn removing_a_claim_returns_its_value() {
        let mut c = claims(r#"{"active":true,"sub":"u"}"#);
        assert_eq!(c.remove("active"), Some(Value::Bool(true)));
        assert_eq!(c.len(), 1);
        assert!(!c.contains_key("active"));
    }

    #[test]
    fn debug_output_names_claims_without_their_values() {
        let shown = format!("{:?}", claims(r#"{"email":"jane@example.com"}"#));
        assert!(
            shown.contains("email") && !shown.contains("jane"),
            "{shown}"
        );
    }
}
