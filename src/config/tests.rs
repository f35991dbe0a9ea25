//! The configuration's rules, through [`Config::from_lookup`] and [`Config::combine`].

use std::collections::HashMap;
use std::time::Duration;

use super::layers::IssuerLayer;
use super::variables::VARIABLES;
use super::*;
use crate::settings::issuer::{DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES};
use crate::settings::{
    Algorithm, CacheSettings, HttpApiResponse, HttpSettings, KeySource, PolicyResource, ScopeMatch,
    TokenTypes,
};

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

const MINIMAL: [(&str, &str); 2] = [
    ("TOKEN_ISSUER", "https://tenant.example.com/"),
    ("AUDIENCE", "https://api.example.com"),
];

#[test]
fn two_variables_are_enough_and_defaults_apply() {
    let config = load(&MINIMAL).unwrap();
    let issuer = &config.issuers[0];
    assert_eq!(issuer.issuer, "https://tenant.example.com/");
    assert_eq!(issuer.audiences, vec!["https://api.example.com"]);
    assert_eq!(issuer.keys, KeySource::Discovery);
    assert_eq!(issuer.algorithms, vec![Algorithm::RS256]);
    assert_eq!(issuer.leeway, DEFAULT_LEEWAY);
    assert_eq!(issuer.principal_claims, vec!["sub"]);
    assert_eq!(issuer.scope_claims, vec!["scope", "scp", "permissions"]);
    assert_eq!(config.cache, CacheSettings::default());
    assert_eq!(config.http, HttpSettings::default());
    assert_eq!(config.gateway.token_header, "Authorization");
    assert_eq!(config.gateway.http_api_response, HttpApiResponse::Simple);
    assert_eq!(config.gateway.policy_resource, PolicyResource::Stage);
    assert_eq!(config.max_token_bytes, DEFAULT_MAX_TOKEN_BYTES);
}

/// Valid but probably not meant: an issuer that does not look like its preset's, and
/// (for a document issuer) an environment variable its preset hides.
#[test]
fn warnings_name_what_is_valid_but_probably_not_meant() {
    let env = EnvConfig::from_lookup(|name| match name {
        "PRINCIPAL_CLAIMS" => Some("employee_id".into()),
        "LEEWAY_SECONDS" => Some("30".into()),
        _ => None,
    })
    .unwrap();
    let document = ConfigDocument::parse(
            "doc.json",
            r#"{"issuers": [
                {"issuer": "https://dev-1.okta.com/oauth2/default", "audiences": ["api://default"], "preset": "okta"},
                {"issuer": "https://acme.us.auth0.com", "audiences": ["a"], "preset": "auth0", "principal_claims": ["nickname"]}
            ]}"#,
        )
        .unwrap();
    let config = Config::combine(&env, Some(document)).unwrap();
    assert_eq!(
        config.warnings,
        [
            "issuer https://dev-1.okta.com/oauth2/default: PRINCIPAL_CLAIMS from the environment is not used: its preset okta sets it; set principal_claims in the document's issuer entry to change it",
            "preset auth0: issuer https://acme.us.auth0.com does not look like this IdP's; its tokens carry https://{tenant}.{region}.auth0.com/ (with the trailing slash)",
        ]
    );
    // What the warnings say is what happens; LEEWAY_SECONDS, which no preset sets, applies.
    assert_eq!(config.issuers[0].principal_claims, ["uid", "sub"]);
    assert_eq!(config.issuers[1].principal_claims, ["nickname"]);
    assert_eq!(config.issuers[0].leeway, Duration::from_secs(30));

    // The issuer of TOKEN_ISSUER: the variables set beside its preset win, nothing to say.
    let config = load(&[
        ("TOKEN_ISSUER", "https://dev-1.okta.com/oauth2/default"),
        ("AUDIENCE", "api://default"),
        ("IDP_PRESET", "okta"),
        ("PRINCIPAL_CLAIMS", "employee_id"),
    ])
    .unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.issuers[0].principal_claims, ["employee_id"]);
}

/// The names a warning gives are real: each variable is read by this module, each
/// member is in the document schema's issuer.
#[test]
fn stated_settings_are_named_as_variables_and_document_members() {
    let all = IssuerLayer {
        audience_fallback_claim: Some(String::new()),
        algorithms: Some(Vec::new()),
        leeway: Some(Duration::ZERO),
        token_types: Some(Vec::new()),
        require_token_type: Some(true),
        principal_claims: Some(Vec::new()),
        required_scopes: Some(Vec::new()),
        scope_match: Some(ScopeMatch::All),
        scope_claims: Some(Vec::new()),
        required_claims: Some(Vec::new()),
        max_token_age: Some(Duration::ZERO),
        sender_constraint: Some(crate::settings::SenderConstraint::Allow),
    };
    let schema = include_str!("../../config.schema.json");
    let stated = all.stated();
    assert_eq!(stated.len(), 12);
    for (variable, member) in stated {
        assert!(VARIABLES.contains(&variable), "{variable}");
        assert!(schema.contains(&format!("\"{member}\"")), "{member}");
    }
    assert!(IssuerLayer::default().stated().is_empty());
}

#[test]
fn the_issuer_is_kept_exactly_as_given() {
    let with = load(&[("TOKEN_ISSUER", "https://x/"), ("AUDIENCE", "a")]).unwrap();
    let without = load(&[("TOKEN_ISSUER", "https://x"), ("AUDIENCE", "a")]).unwrap();
    assert_eq!(with.issuers[0].issuer, "https://x/");
    assert_eq!(without.issuers[0].issuer, "https://x");
}

#[test]
fn issuer_and_audience_are_required() {
    assert_eq!(
        load(&[("AUDIENCE", "a")]).unwrap_err().variable,
        "TOKEN_ISSUER"
    );
    assert_eq!(
        load(&[("TOKEN_ISSUER", "https://x/")])
            .unwrap_err()
            .variable,
        "AUDIENCE"
    );
    assert_eq!(
        load(&[("TOKEN_ISSUER", "https://x/"), ("AUDIENCE", " , ")])
            .unwrap_err()
            .variable,
        "AUDIENCE"
    );
}

#[test]
fn audiences_are_comma_separated() {
    let config = load(&[
        ("TOKEN_ISSUER", "https://x/"),
        ("AUDIENCE", "https://a, https://b ,"),
    ])
    .unwrap();
    assert_eq!(config.issuers[0].audiences, vec!["https://a", "https://b"]);
}

#[test]
fn none_and_hmac_algorithms_fail_at_startup() {
    for bad in ["none", "RS256,none", "HS256", "RS256, HS512", "RS257", ","] {
        let err = load(&[MINIMAL[0], MINIMAL[1], ("ALLOWED_ALGORITHMS", bad)]).unwrap_err();
        assert_eq!(err.variable, "ALLOWED_ALGORITHMS", "{bad}");
    }
    let ok = load(&[
        MINIMAL[0],
        MINIMAL[1],
        ("ALLOWED_ALGORITHMS", "RS256, PS256,ES256,EdDSA,RS256"),
    ])
    .unwrap();
    assert_eq!(
        ok.issuers[0].algorithms,
        vec![
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::EdDSA
        ]
    );
}

#[test]
fn key_urls_must_be_https_unless_loopback() {
    let err = load(&[
        MINIMAL[0],
        MINIMAL[1],
        ("JWKS_URI", "http://idp.example.com/jwks"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "JWKS_URI");
    assert!(err.to_string().contains("https"), "{err}");
    let ok = load(&[
        MINIMAL[0],
        MINIMAL[1],
        ("JWKS_URI", "http://127.0.0.1:9000/jwks"),
    ])
    .unwrap();
    assert!(matches!(ok.issuers[0].keys, KeySource::Uri(_)));
    let err = load(&[
        ("TOKEN_ISSUER", "http://idp.example.com/"),
        ("AUDIENCE", "a"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "TOKEN_ISSUER");
    let err = load(&[
        MINIMAL[0],
        MINIMAL[1],
        ("JWKS_URI", "https://x/j"),
        ("JWKS_FILE", "/k.json"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "JWKS_FILE");
}

#[test]
fn numbers_and_choices_are_validated_with_the_variable_named() {
    let cases = [
        ("LEEWAY_SECONDS", "-1"),
        ("LEEWAY_SECONDS", "301"),
        ("JWKS_CACHE_TTL_SECONDS", "0"),
        ("JWKS_CACHE_TTL_SECONDS", "ten"),
        ("HTTP_TIMEOUT_MS", "9000"),
        ("HTTP_CONNECT_TIMEOUT_MS", "0"),
        ("SCOPE_MATCH", "some"),
        ("HTTP_API_RESPONSE", "iam"),
        ("POLICY_RESOURCE", "method"),
        ("REQUIRE_TOKEN_TYPE", "maybe"),
        ("MAX_TOKEN_BYTES", "10"),
    ];
    for (name, value) in cases {
        let err = load(&[MINIMAL[0], MINIMAL[1], (name, value)]).unwrap_err();
        assert_eq!(err.variable, name, "{name}={value}");
    }
}

#[test]
fn scopes_and_types_are_parsed() {
    let config = load(&[
        MINIMAL[0],
        MINIMAL[1],
        ("REQUIRED_SCOPES", "read:messages write:messages,admin"),
        ("SCOPE_MATCH", "any"),
        ("ALLOWED_TOKEN_TYPES", "application/at+jwt"),
        ("REQUIRE_TOKEN_TYPE", "true"),
        ("CONTEXT_CLAIMS", "sub, scope"),
    ])
    .unwrap();
    let issuer = &config.issuers[0];
    assert_eq!(
        issuer.required_scopes,
        vec!["read:messages", "write:messages", "admin"]
    );
    assert_eq!(issuer.scope_match, ScopeMatch::Any);
    assert!(issuer.token_types.accepts(Some("AT+JWT")));
    assert!(issuer.token_types.accepts(Some("Application/at+JWT")));
    assert!(!issuer.token_types.accepts(Some("application-at+jwt")));
    assert!(!issuer.token_types.accepts(Some("application/")));
    assert!(!issuer.token_types.accepts(Some("é+jwt")));
    assert_eq!(TokenTypes::normalise("APPLICATION/At+Jwt"), "at+jwt");
    assert!(!issuer.token_types.accepts(Some("JWT")));
    assert!(!issuer.token_types.accepts(None));
    assert_eq!(
        config.gateway.context.claims,
        Some(vec!["sub".to_owned(), "scope".to_owned()])
    );
}
