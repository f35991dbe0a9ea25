//! Any bytes as the event Lambda hands over, read as lambda_runtime reads it, through the
//! whole request path with the dev key set: no panic, and an Allow only when the event
//! holds the one genuine dev token of the seed corpus (the fuzzer cannot forge a
//! signature, and no other credential may pass).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use token_verifier::{Authorizer, AuthorizerEvent, Config};

const JWKS: &str = include_str!("../../events/dev-jwks.json");
const GOOD_EVENT: &str = include_str!("../../events/rest-token.json");

fn good_token() -> &'static str {
    static GOOD: OnceLock<String> = OnceLock::new();
    GOOD.get_or_init(|| {
        let event: serde_json::Value = serde_json::from_str(GOOD_EVENT).expect("sample event");
        let header = event["authorizationToken"].as_str().expect("token");
        header.trim_start_matches("Bearer ").to_owned()
    })
}

fn authorizer() -> &'static Authorizer {
    static AUTHORIZER: OnceLock<Authorizer> = OnceLock::new();
    AUTHORIZER.get_or_init(|| {
        let config = Config::from_lookup(|name| match name {
            "TOKEN_ISSUER" => Some("https://dev-issuer.token-verifier.example/".into()),
            "AUDIENCE" => Some("https://api.example.com".into()),
            "JWKS_JSON" => Some(JWKS.into()),
            "ALLOWED_ALGORITHMS" => Some("RS256,ES256,EdDSA".into()),
            "TOKEN_QUERY_PARAM" => Some("token".into()),
            _ => None,
        })
        .expect("fuzz configuration");
        Authorizer::new(config).expect("fuzz authorizer")
    })
}

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
