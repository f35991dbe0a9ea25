//! SHA-256 written in hex, wherever a digest is shown or named: a token's fingerprint in
//! the decision line, the parameter of an issuer's key snapshot, a Cedar policy set's seal.

use aws_lc_rs::digest::{Context, SHA256};

/// The SHA-256 of `parts` one after the other, its first `bytes` bytes (at most 32) in
/// lowercase hex.
pub(crate) fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>, bytes: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    let digest = context.finish();
    let mut out = String::with_capacity(2 * bytes);
    for byte in digest.as_ref().iter().take(bytes) {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_in_hex_whole_or_its_first_bytes() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex([b"abc".as_slice()], 32), abc);
        assert_eq!(sha256_hex([b"a".as_slice(), b"", b"bc"], 32), abc);
        assert_eq!(sha256_hex([b"abc".as_slice()], 8), abc[..16]);
    }
}
