//! A claim by name, or by JSON Pointer (RFC 6901): how every setting that names a claim
//! (`PRINCIPAL_CLAIMS`, `SCOPE_CLAIMS`, `REQUIRED_CLAIMS`, route rules) reaches it.

use super::claims::{Claim, Claims, Kind};

/// A claim by name, or by JSON Pointer (RFC 6901) when `path` starts with `/`:
/// `/realm_access/roles` reaches Keycloak's nested roles. Names never contain a pointer
/// by accident: a claim name starting with `/` is not a thing IdPs emit.
#[must_use]
pub(crate) fn claim<'a>(claims: &'a Claims, path: &str) -> Option<Claim<'a>> {
    let Some(pointer) = path.strip_prefix('/') else {
        return claims.get(path);
    };
    let mut segments = pointer.split('/');
    let first = unescape_pointer(segments.next()?);
    let mut value = claims.get(first.as_str())?;
    for segment in segments {
        let segment = unescape_pointer(segment);
        value = match value.kind() {
            Kind::Object => value.member(&segment)?,
            Kind::Array => *value.items()?.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
