//! What the request-path targets share: the dev key set's authorizer and its one genuine
//! token (from the sample event).

use std::sync::OnceLock;

use token_verifier::{Authorizer, Config};

const JWKS: &str = include_str!("../../events/dev-jwks.json");
const GOOD_EVENT: &str = include_str!("../../events/rest-token.json");

/// The genuine dev token: the only credential that may be allowed.
pub fn good_token() -> &'static str {
    static GOOD: OnceLock<String> = OnceLock::new();
    GOOD.get_or_init(|| {
        let event: serde_json::Value = serde_json::from_str(GOOD_EVENT).expect("sample event");
        let header = event["authorizationToken"].as_str().expect("token");
        header.trim_start_matches("Bearer ").to_owned()
    })
}

/// The authorizer for the dev key set (the token also taken from a `token` query
/// parameter, as WebSocket `$connect` events carry it).
pub fn authorizer() -> &'static Authorizer {
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
