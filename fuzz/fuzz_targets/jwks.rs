//! Any bytes as a JWKS document: no panic, and no symmetric or private key ever usable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_verifier::Algorithm;
use token_verifier::testing::KeySet;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = KeySet::parse(data, &Algorithm::ALL) {
        for key in set.keys() {
            assert!(
                key.description.starts_with("RSA")
                    || key.description.starts_with("EC")
                    || key.description.starts_with("OKP"),
                "{key:?}"
            );
        }
    }
});
