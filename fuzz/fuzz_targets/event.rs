//! Any bytes as the event Lambda hands over, read as lambda_runtime reads it, through the
//! whole request path with the dev key set: no panic, and an Allow only when the
//! credential the event yields (escapes resolved) is the one genuine dev token of the
//! seed corpus (the fuzzer cannot forge a signature, and no other credential may pass).
#![no_main]

mod dev;

use dev::{authorizer, gateway, good_token, runtime};
use libfuzzer_sys::fuzz_target;
use token_verifier::AuthorizerEvent;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = token_verifier::tool::dev::lambda_event::<AuthorizerEvent>(data) else {
        return;
    };
    let credential = event.clone().into_request(gateway()).map(|r| r.credential);
    let (answer, _) = runtime().block_on(authorizer().decide(event, 1_800_000_000.0));
    if answer.is_ok() {
        assert_eq!(
            credential.ok().and_then(Result::ok).as_deref(),
            Some(good_token()),
            "an event whose credential is not the genuine token was allowed"
        );
    }
});
