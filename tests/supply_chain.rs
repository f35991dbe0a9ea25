#![allow(clippy::unwrap_used)]

//! Dependency floors for every advisory that touches this authorizer's dependency tree,
//! checked offline against `Cargo.lock`. CI cannot reach the RustSec database (GitHub), and
//! jsonwebtoken's CVE-2026-25537 lives only in GitHub's advisory database anyway, so these
//! floors are what stops a downgrade. Sources: SECURITY.md, "Supply chain".

use std::collections::HashMap;

/// (crate, minimum version, advisory).
const FLOORS: [(&str, &str, &str); 9] = [
    (
        "jsonwebtoken",
        "10.3.0",
        "CVE-2026-25537 / GHSA-h395-gr6q-cpjc: wrong-typed nbf/exp treated as absent",
    ),
    ("aws-lc-sys", "0.39.0", "RUSTSEC-2026-0044..0048"),
    (
        "rustls-webpki",
        "0.103.13",
        "RUSTSEC-2026-0049, -0098, -0099, -0104",
    ),
    ("rustls", "0.23.18", "RUSTSEC-2024-0399, RUSTSEC-2024-0336"),
    ("tokio", "1.44.2", "RUSTSEC-2025-0023"),
    (
        "h2",
        "0.4.16",
        "RUSTSEC-2026-0258 (h2 is not in the tree today: reqwest is built without http2)",
    ),
    ("idna", "1.0.0", "RUSTSEC-2024-0421"),
    ("ring", "0.17.12", "RUSTSEC-2025-0009"),
    ("simple_asn1", "0.6.1", "RUSTSEC-2021-0125"),
];

/// Crates that must not be in the tree at all.
const BANNED: [(&str, &str); 3] = [
    (
        "rsa",
        "RUSTSEC-2023-0071 (Marvin); comes with jsonwebtoken's rust_crypto backend, which is not used",
    ),
    ("openssl-sys", "one TLS stack: rustls with aws-lc-rs"),
    ("native-tls", "one TLS stack: rustls with aws-lc-rs"),
];

fn locked_versions() -> HashMap<String, Vec<Vec<u64>>> {
    let lock = include_str!("../Cargo.lock");
    let mut versions: HashMap<String, Vec<Vec<u64>>> = HashMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            let parsed = v
                .trim_matches('"')
                .split(['.', '-', '+'])
                .take(3)
                .map(|p| p.parse().unwrap_or(0))
                .collect();
            versions.entry(n).or_default().push(parsed);
        }
    }
    versions
}

fn parse(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap()).collect()
}

#[test]
fn every_locked_version_is_at_or_above_its_advisory_floor() {
    let locked = locked_versions();
    assert!(locked.contains_key("jsonwebtoken"), "Cargo.lock not parsed");
    for (krate, floor, advisory) in FLOORS {
        for version in locked.get(krate).into_iter().flatten() {
            assert!(
                *version >= parse(floor),
                "{krate} {version:?} is below {floor}: {advisory}"
            );
        }
    }
}

#[test]
fn banned_crates_are_absent() {
    let locked = locked_versions();
    for (krate, why) in BANNED {
        assert!(
            !locked.contains_key(krate),
            "{krate} is in Cargo.lock: {why}"
        );
    }
}

#[test]
fn one_tls_stack_and_one_http_stack() {
    let locked = locked_versions();
    for krate in [
        "rustls",
        "hyper",
        "hyper-rustls",
        "aws-lc-rs",
        "tokio-rustls",
    ] {
        let versions = locked.get(krate).map_or(0, Vec::len);
        assert_eq!(
            versions, 1,
            "{krate}: {versions} versions in Cargo.lock (reqwest and the AWS SDK must share one)"
        );
    }
}
