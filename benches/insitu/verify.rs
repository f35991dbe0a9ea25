//! Reference function for `scripts/bench-insitu`: the bare function plus one RS256
//! signature verify of the token (aws-lc-rs, the key parsed once at init from
//! `REFERENCE_RSA_DER`, a base64 PKCS#1 `RSAPublicKey`). No claim is read or checked: what
//! it costs above the bare function is the limit for any verifier.

#![allow(missing_docs)]

#[path = "reference.rs"]
mod reference;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), lambda_runtime::Error> {
    let der = STANDARD.decode(std::env::var("REFERENCE_RSA_DER")?)?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &der)
        .map_err(|e| format!("REFERENCE_RSA_DER: {e}"))?;
    let key: &'static ParsedPublicKey = Box::leak(Box::new(key));
    reference::run(
        move |event: lambda_runtime::LambdaEvent<reference::Event>| async move {
            let valid = event.payload.token().is_some_and(|token| {
                let Some((input, signature)) = token.rsplit_once('.') else {
                    return false;
                };
                URL_SAFE_NO_PAD
                    .decode(signature)
                    .is_ok_and(|signature| key.verify_sig(input.as_bytes(), &signature).is_ok())
            });
            Ok(event.payload.answer(valid))
        },
    )
}
