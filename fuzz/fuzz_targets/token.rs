//! Any bytes as a bearer credential, through the whole request path with the dev key set:
//! no panic, and an Allow only for the one genuine dev token of the seed corpus (the
//! fuzzer cannot forge an RS256 signature, and no other spelling of it may pass).
#![no_main]

mod dev;

use dev::{authorizer, good_token, runtime};
use libfuzzer_sys::fuzz_target;
use token_verifier::AuthorizerEvent;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = token_verifier::testing::parse(&text, 16 * 1024);
    let event: AuthorizerEvent = serde_json::from_value(serde_json::json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {text}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/x",
    }))
    .expect("event");
    let (answer, _) = runtime().block_on(authorizer().decide(event, 1_800_000_000.0));
    if answer.is_ok() {
        assert_eq!(
            text.trim_matches([' ', '\t']),
            good_token(),
            "a forged credential was allowed"
        );
    }
});
