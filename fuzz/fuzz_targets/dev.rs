//! What the request-path targets share: the dev key set's authorizer and its one genuine
//! token (from the sample event).

use std::sync::OnceLock;

use token_verifier::settings::GatewaySettings;
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

/// The configuration: the dev key set, the token also taken from a `token` query
/// parameter (as WebSocket `$connect` events carry it).
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::from_lookup(|name| match name {
            "TOKEN_ISSUER" => Some("https://dev-issuer.token-verifier.example/".into()),
            "AUDIENCE" => Some("https://api.example.com".into()),
            "JWKS_JSON" => Some(JWKS.into()),
            "ALLOWED_ALGORITHMS" => Some("RS256,ES256,EdDSA".into()),
            "TOKEN_QUERY_PARAM" => Some("token".into()),
            _ => None,
        })
        .expect("fuzz configuration")
    })
}

/// The authorizer for [`config`].
pub fn authorizer() -> &'static Authorizer {
    static AUTHORIZER: OnceLock<Authorizer> = OnceLock::new();
    AUTHORIZER.get_or_init(|| Authorizer::new(config().clone()).expect("fuzz authorizer"))
}

/// Where the authorizer looks for the credential.
#[allow(dead_code)] // the event target's; the token target builds its events itself
pub fn gateway() -> &'static GatewaySettings {
    &config().gateway
}

/// One runtime for every input (building one per input costs more than a decision).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}
