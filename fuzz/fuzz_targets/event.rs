//! Any bytes as the event Lambda hands over, read as lambda_runtime reads it, through the
//! whole request path with the dev key set: no panic, and an Allow only when the event
//! holds the one genuine dev token of the seed corpus (the fuzzer cannot forge a
//! signature, and no other credential may pass).
#![no_main]

mod dev;

use dev::{authorizer, good_token};
use libfuzzer_sys::fuzz_target;
use token_verifier::AuthorizerEvent;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = token_verifier::dev::lambda_event::<AuthorizerEvent>(data) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (answer, _) = runtime.block_on(authorizer().decide(event, 1_800_000_000.0));
    if answer.is_ok() {
        let text = String::from_utf8_lossy(data);
        assert!(
            text.contains(good_token()),
            "an event without the genuine token was allowed"
        );
    }
});
