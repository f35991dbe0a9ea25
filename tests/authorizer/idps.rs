//! Tokens shaped like those of Auth0, Amazon Cognito, Okta, Keycloak and Entra ID (their
//! real claim layouts, signed with test keys), each with the configuration a user of that
//! IdP writes, asserting what the backend receives.

use serde_json::{Value, json};
use token_verifier::Algorithm;

use crate::support::*;

/// Signs `payload` with `rsa-a` under `header` exactly (IdPs differ in their headers).
fn token(header: &Value, payload: &Value) -> String {
    rsa_a()
        .sign_parts(
            Algorithm::RS256,
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
        )
        .unwrap()
}

async fn answer(vars: &[(&str, &str)], event: Value) -> Decided {
    let authorizer = fixed_authorizer(&[&rsa_a()], vars);
    decide(&authorizer, event).await
}

#[tokio::test]
async fn auth0_access_token_with_rbac_permissions_and_namespaced_claims() {
    let now = unix_now();
    let iss = "https://acme.us.auth0.com/";
    let payload = json!({
        "iss": iss, "sub": "auth0|64f1c2a9e1b2c3d4e5f60718",
        "aud": ["https://api.acme.example", "https://acme.us.auth0.com/userinfo"],
        "iat": now - 60, "exp": now + 86_400, "azp": "8mQ2yMn0QkqG1dY2xVbFh3ZcPpR4sT6u",
        "scope": "openid profile email", "permissions": ["read:messages", "write:messages"],
        "https://acme.example/roles": ["editor"],
        "https://acme.example/user_meta": {"plan": "gold", "locale": "de"},
    });
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"});
    let vars = [
        ("TOKEN_ISSUER", iss),
        ("AUDIENCE", "https://api.acme.example"),
        ("REQUIRED_SCOPES", "read:messages"),
    ];
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &payload))),
    )
    .await;
    let allowed = decided.allowed();
    assert_eq!(allowed["principalId"], "auth0|64f1c2a9e1b2c3d4e5f60718");
    let context = &allowed["context"];
    assert_eq!(
        context["permissions"],
        r#"["read:messages","write:messages"]"#
    );
    assert_eq!(context["https://acme.example/roles"], r#"["editor"]"#);
    assert_eq!(
        context["https://acme.example/user_meta"],
        r#"{"locale":"de","plan":"gold"}"#
    );
    assert_eq!(context["azp"], "8mQ2yMn0QkqG1dY2xVbFh3ZcPpR4sT6u");
    // The same token through an HTTP API keeps native JSON.
    let decided = answer(
        &vars,
        http_v2(&format!("Bearer {}", token(&header, &payload))),
    )
    .await;
    let context = &decided.allowed()["context"];
    assert_eq!(context["https://acme.example/user_meta"]["plan"], "gold");
    assert_eq!(
        context["permissions"],
        json!(["read:messages", "write:messages"])
    );
}

#[tokio::test]
async fn cognito_access_token_has_client_id_instead_of_aud() {
    let now = unix_now();
    let iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";
    let client_id = "4k2ls0m1qvq7hq6r2vbq0l5c1a";
    let access = json!({
        "sub": "3c8d3f5e-1b2a-4c5d-9e8f-7a6b5c4d3e2f", "cognito:groups": ["admins", "readers"],
        "iss": iss, "version": 2, "client_id": client_id, "origin_jti": "0b5e7c2d-0000-4000-8000-000000000001",
        "token_use": "access", "scope": "openid https://api.acme.example/messages.read",
        "auth_time": now - 120, "exp": now + 3600, "iat": now - 120,
        "jti": "6f3a2c1d-0000-4000-8000-000000000002", "username": "jane",
    });
    let header = json!({"kid": "rsa-a", "alg": "RS256"});
    let vars = [
        ("TOKEN_ISSUER", iss),
        ("AUDIENCE", client_id),
        ("AUDIENCE_FALLBACK_CLAIM", "client_id"),
        ("SCOPE_CLAIMS", "scope,cognito:groups"),
        ("REQUIRED_SCOPES", "https://api.acme.example/messages.read"),
        ("PRINCIPAL_CLAIMS", "username,sub"),
    ];
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &access))),
    )
    .await;
    let allowed = decided.allowed();
    assert_eq!(allowed["principalId"], "jane");
    assert_eq!(
        allowed["context"]["cognito:groups"],
        r#"["admins","readers"]"#
    );
    assert_eq!(allowed["context"]["token_use"], "access");

    // Groups work as permissions too.
    let admins = [
        &vars[..4],
        &[
            ("REQUIRED_SCOPES", "admins"),
            ("SCOPE_CLAIMS", "cognito:groups"),
        ],
    ]
    .concat();
    assert_eq!(
        answer(
            &admins,
            rest_token(&format!("Bearer {}", token(&header, &access)))
        )
        .await
        .reason(),
        "ok"
    );

    // A Cognito ID token (aud = the client id, token_use = id) sent instead.
    let id = json!({
        "sub": "3c8d3f5e-1b2a-4c5d-9e8f-7a6b5c4d3e2f", "aud": client_id, "email_verified": true,
        "token_use": "id", "auth_time": now - 120, "iss": iss, "cognito:username": "jane",
        "exp": now + 3600, "iat": now - 120, "email": "jane@example.com",
    });
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &id))),
    )
    .await;
    assert_eq!(decided.reason(), "id_token");
    // Without AUDIENCE_FALLBACK_CLAIM the access token is refused for having no aud, and says so.
    let decided = answer(
        &[vars[0], vars[1]],
        rest_token(&format!("Bearer {}", token(&header, &access))),
    )
    .await;
    assert_eq!(decided.reason(), "wrong_audience");
    assert!(decided.record.refusal.unwrap().detail.contains("no aud"));
}

#[tokio::test]
async fn okta_access_token_with_scp_array_cid_and_uid() {
    let now = unix_now();
    let iss = "https://dev-123456.okta.com/oauth2/default";
    let payload = json!({
        "ver": 1, "jti": "AT.xl5wzXH9c3o0N5sRBP5Xl8k-4e_5xYzQmZ_yZrX2o0Y", "iss": iss, "aud": "api://default",
        "iat": now - 30, "exp": now + 3600, "cid": "0oa1b2c3d4E5F6g7H8i9", "uid": "00u1a2b3c4D5E6f7G8h9",
        "scp": ["openid", "messages.read"], "auth_time": now - 40, "sub": "jane@example.com",
    });
    let header = json!({"kid": "rsa-a", "alg": "RS256"});
    let vars = [
        ("TOKEN_ISSUER", iss),
        ("AUDIENCE", "api://default"),
        ("SCOPE_CLAIMS", "scp"),
        ("REQUIRED_SCOPES", "messages.read"),
        ("PRINCIPAL_CLAIMS", "uid,sub"),
    ];
    let decided = answer(
        &vars,
        http_v1(&format!("Bearer {}", token(&header, &payload))),
    )
    .await;
    let allowed = decided.allowed();
    assert_eq!(allowed["principalId"], "00u1a2b3c4D5E6f7G8h9");
    assert_eq!(allowed["context"]["scp"], r#"["openid","messages.read"]"#);
    assert_eq!(allowed["context"]["cid"], "0oa1b2c3d4E5F6g7H8i9");
    let missing = [&vars[..4], &[("REQUIRED_SCOPES", "messages.write")]].concat();
    assert_eq!(
        answer(
            &missing,
            http_v1(&format!("Bearer {}", token(&header, &payload)))
        )
        .await
        .reason(),
        "insufficient_scope"
    );
}

#[tokio::test]
async fn keycloak_access_token_with_an_audience_mapper_and_realm_and_client_roles() {
    let now = unix_now();
    let iss = "https://sso.acme.example/realms/acme";
    let payload = json!({
        "exp": now + 300, "iat": now - 5, "auth_time": now - 60, "jti": "onrtac:8f2e7c1d-aaaa-bbbb-cccc-0123456789ab",
        // An audience mapper (client scope) puts the API's client id into aud.
        "iss": iss, "aud": ["messages-api", "account"], "sub": "f1e2d3c4-b5a6-4789-9abc-def012345678", "typ": "Bearer",
        "azp": "web-app", "sid": "5d6e7f80-1111-2222-3333-444455556666", "acr": "1",
        "allowed-origins": ["https://app.acme.example"],
        "realm_access": {"roles": ["default-roles-acme", "offline_access", "messages-reader"]},
        "resource_access": {"web-app": {"roles": ["editor"]}, "account": {"roles": ["manage-account"]}},
        "scope": "openid email profile", "email_verified": true, "preferred_username": "jane",
        "nonce": "older Keycloak versions put the login nonce into access tokens too",
    });
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"});
    let vars = [
        ("TOKEN_ISSUER", iss),
        ("AUDIENCE", "messages-api"),
        (
            "SCOPE_CLAIMS",
            "/realm_access/roles,/resource_access/web-app/roles",
        ),
        ("REQUIRED_SCOPES", "messages-reader editor"),
        ("PRINCIPAL_CLAIMS", "preferred_username,sub"),
    ];
    let decided = answer(
        &vars,
        rest_request(json!({"Authorization": format!("Bearer {}", token(&header, &payload))})),
    )
    .await;
    let allowed = decided.allowed();
    assert_eq!(allowed["principalId"], "jane");
    assert_eq!(
        allowed["context"]["realm_access"],
        r#"{"roles":["default-roles-acme","offline_access","messages-reader"]}"#
    );
    // A role of another client does not count.
    let other = [&vars[..3], &[("REQUIRED_SCOPES", "manage-account")]].concat();
    // Without the mapper, aud is only "account": refused, never judged by azp instead.
    let mut unmapped = payload.clone();
    unmapped["aud"] = json!("account");
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &unmapped))),
    )
    .await;
    assert_eq!(decided.reason(), "wrong_audience");
    let decided = answer(
        &other,
        rest_token(&format!("Bearer {}", token(&header, &payload))),
    )
    .await;
    assert_eq!(decided.reason(), "insufficient_scope");
    // Keycloak's ID token: payload typ "ID".
    let mut id = payload.clone();
    id["typ"] = json!("ID");
    id["aud"] = json!("web-app");
    id.as_object_mut().unwrap().remove("scope");
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &id))),
    )
    .await;
    assert_eq!(decided.reason(), "id_token");
}

#[tokio::test]
async fn entra_id_v2_and_v1_access_tokens() {
    let now = unix_now();
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let api = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let v2_iss = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    let v2 = json!({
        "aud": api, "iss": v2_iss, "iat": now - 10, "nbf": now - 10, "exp": now + 3600,
        "aio": "AWQAm/8UAAAA", "azp": "a4c2f1e0-0000-4000-8000-0000000000aa", "azpacr": "0",
        "name": "Jane Doe", "oid": "0f9e8d7c-6b5a-4321-8fed-cba987654321",
        "preferred_username": "jane@acme.example", "rh": "0.AXEA", "roles": ["Messages.Admin"],
        "scp": "access_as_user Messages.Read", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": tenant, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0",
    });
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "rsa-a"});
    let vars = [
        ("TOKEN_ISSUER", v2_iss.as_str()),
        ("AUDIENCE", &format!("{api},api://{api}")),
        ("SCOPE_CLAIMS", "scp,roles"),
        ("REQUIRED_SCOPES", "Messages.Read"),
        ("PRINCIPAL_CLAIMS", "oid,sub"),
    ];
    let decided = answer(&vars, http_v2(&format!("Bearer {}", token(&header, &v2)))).await;
    let allowed = decided.allowed();
    assert_eq!(
        allowed["context"]["principalId"],
        "0f9e8d7c-6b5a-4321-8fed-cba987654321"
    );
    assert_eq!(allowed["context"]["roles"], json!(["Messages.Admin"]));
    // App roles are permissions too (client-credentials tokens carry roles and no scp).
    let admin = [
        &vars[..3],
        &[
            ("REQUIRED_SCOPES", "Messages.Admin"),
            ("PRINCIPAL_CLAIMS", "oid,sub"),
        ],
    ]
    .concat();
    assert_eq!(
        answer(&admin, http_v2(&format!("Bearer {}", token(&header, &v2))))
            .await
            .reason(),
        "ok"
    );

    // v1 tokens: another issuer (sts.windows.net, with a trailing slash) and api:// audience.
    let v1_iss = format!("https://sts.windows.net/{tenant}/");
    let mut v1 = v2.clone();
    v1["iss"] = json!(v1_iss);
    v1["aud"] = json!(format!("api://{api}"));
    v1["ver"] = json!("1.0");
    v1["appid"] = json!("a4c2f1e0-0000-4000-8000-0000000000aa");
    let v1_vars = [&[("TOKEN_ISSUER", v1_iss.as_str())], &vars[1..]].concat();
    assert_eq!(
        answer(
            &v1_vars,
            http_v2(&format!("Bearer {}", token(&header, &v1)))
        )
        .await
        .reason(),
        "ok"
    );
    // A v1 token against the v2 configuration: the issuer differs.
    assert_eq!(
        answer(&vars, http_v2(&format!("Bearer {}", token(&header, &v1))))
            .await
            .reason(),
        "wrong_issuer"
    );
}

/// The same layouts with nothing but the preset: one line of configuration per IdP.
#[tokio::test]
async fn each_preset_alone_fits_its_idp() {
    let now = unix_now();
    let header = json!({"alg": "RS256", "kid": "rsa-a", "typ": "JWT"});
    let cases = [
        (
            "auth0",
            "https://acme.us.auth0.com/",
            "https://api.acme.example",
            "read:messages",
            json!({"sub": "auth0|1", "aud": ["https://api.acme.example", "https://acme.us.auth0.com/userinfo"], "permissions": ["read:messages"]}),
            "auth0|1",
        ),
        (
            "cognito",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
            "client-1",
            "editors",
            json!({"sub": "s-1", "username": "jane", "client_id": "client-1", "token_use": "access", "cognito:groups": ["editors"]}),
            "jane",
        ),
        (
            "okta",
            "https://dev-1.okta.com/oauth2/default",
            "api://default",
            "messages.read",
            json!({"sub": "jane@example.com", "uid": "00u1", "cid": "0oa1", "aud": "api://default", "scp": ["messages.read"]}),
            "00u1",
        ),
        (
            "keycloak",
            "https://sso.acme.example/realms/acme",
            "messages-api",
            "editor",
            json!({"sub": "f1e2", "preferred_username": "jane", "aud": ["messages-api", "account"], "azp": "web",
                "realm_access": {"roles": ["user"]}, "resource_access": {"messages-api": {"roles": ["editor"]}}}),
            "jane",
        ),
        (
            "entra",
            "https://login.microsoftonline.com/tid/v2.0",
            "6e74172b",
            "Messages.Read",
            json!({"sub": "pairwise", "oid": "0f9e", "aud": "6e74172b", "scp": "access_as_user Messages.Read", "ver": "2.0"}),
            "0f9e",
        ),
    ];
    for (preset, iss, audience, scope, extra, principal) in cases {
        let mut payload = json!({"iss": iss, "iat": now - 5, "exp": now + 600});
        for (k, v) in extra.as_object().unwrap() {
            payload[k] = v.clone();
        }
        let vars = [
            ("TOKEN_ISSUER", iss),
            ("AUDIENCE", audience),
            ("IDP_PRESET", preset),
            ("REQUIRED_SCOPES", scope),
        ];
        let decided = answer(
            &vars,
            rest_token(&format!("Bearer {}", token(&header, &payload))),
        )
        .await;
        assert_eq!(
            decided.reason(),
            "ok",
            "{preset}: {:?}",
            decided.record.refusal
        );
        assert_eq!(
            decided.record.principal.as_deref(),
            Some(principal),
            "{preset}"
        );
    }
}

/// A preset fills in only what the configuration leaves unset: a variable set beside
/// `IDP_PRESET` wins over the preset's choice for the same setting.
#[tokio::test]
async fn variables_set_beside_a_preset_win_over_it() {
    let now = unix_now();
    let header = json!({"alg": "RS256", "kid": "rsa-a", "typ": "JWT"});
    let iss = "https://dev-1.okta.com/oauth2/default";
    // Okta's preset takes the principal from `uid` and scopes from `scp`.
    let payload = json!({"iss": iss, "iat": now - 5, "exp": now + 600, "aud": "api://default",
        "sub": "jane@example.com", "uid": "00u1", "scp": ["messages.read"],
        "employee_id": "E-7", "groups": ["messages.write"]});
    let okta = |extra: &[(&'static str, &'static str)]| {
        let mut vars = vec![
            ("TOKEN_ISSUER", iss),
            ("AUDIENCE", "api://default"),
            ("IDP_PRESET", "okta"),
        ];
        vars.extend_from_slice(extra);
        vars
    };
    let bearer = format!("Bearer {}", token(&header, &payload));

    let decided = answer(&okta(&[]), rest_token(&bearer)).await;
    assert_eq!(
        decided.record.principal.as_deref(),
        Some("00u1"),
        "the preset alone"
    );

    let decided = answer(
        &okta(&[
            ("PRINCIPAL_CLAIMS", "employee_id"),
            ("SCOPE_CLAIMS", "groups"),
            ("REQUIRED_SCOPES", "messages.write"),
        ]),
        rest_token(&bearer),
    )
    .await;
    assert_eq!(decided.reason(), "ok", "{:?}", decided.record.refusal);
    assert_eq!(decided.record.principal.as_deref(), Some("E-7"));

    // Cognito's preset requires `token_use`; REQUIRED_CLAIMS set beside it replaces that
    // list, as every explicit list replaces a default one.
    let cognito = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool";
    let payload = json!({"iss": cognito, "iat": now - 5, "exp": now + 600, "sub": "s-1",
        "client_id": "client-1", "token_use": "access", "username": "jane"});
    let vars = [
        ("TOKEN_ISSUER", cognito),
        ("AUDIENCE", "client-1"),
        ("IDP_PRESET", "cognito"),
        ("REQUIRED_CLAIMS", "jti"),
    ];
    let decided = answer(
        &vars,
        rest_token(&format!("Bearer {}", token(&header, &payload))),
    )
    .await;
    assert_eq!(
        decided.reason(),
        "missing_claim",
        "{:?}",
        decided.record.refusal
    );
}

/// Each preset's users are told the fix in their IdP's own terms, in the decision (what the
/// log line's `hint` carries) and in `explain` alike: a token for another audience, an ID
/// token, an opaque token.
#[tokio::test]
async fn every_preset_advises_in_its_idps_own_terms() {
    use token_verifier::tool::explain::{Options, Status, explain};
    let now = unix_now();
    // preset, issuer, audience, what its wrong_audience, id_token and opaque_token hints say
    let cases: [(&str, &str, &str, [&str; 3]); 5] = [
        (
            "auth0",
            "https://acme.us.auth0.com/",
            "https://api.acme.example",
            [
                "authorizationParams.audience",
                "Auth0 ID token",
                "opaque Auth0 access token",
            ],
        ),
        (
            "cognito",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
            "4k2ls0m1qvq7hq6r2vbq0l5c1a",
            [
                "no audience to request, only the app client id",
                "Cognito ID token (token_use: id)",
                "Cognito issues only JWT access tokens",
            ],
        ),
        (
            "okta",
            "https://dev-1.okta.com/oauth2/default",
            "api://default",
            [
                "Okta authorization server's audience",
                "okta-auth-js",
                "custom authorization server",
            ],
        ),
        (
            "keycloak",
            "https://sso.acme.example/realms/acme",
            "messages-api",
            ["Audience mapper", "keycloak.token", "keycloak.token"],
        ),
        (
            "entra",
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "6e74172b-be56-4843-9ff4-e66a39bb12e3",
            [
                "Application ID URI",
                "acquireTokenSilent",
                "this is an opaque token",
            ],
        ),
    ];
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"});
    for (preset, iss, audience, [wrong_audience, id_token, opaque]) in cases {
        let vars = [
            ("TOKEN_ISSUER", iss),
            ("AUDIENCE", audience),
            ("IDP_PRESET", preset),
        ];
        let authorizer = fixed_authorizer(&[&rsa_a()], &vars);
        let base = json!({"iss": iss, "sub": "user-1", "iat": now - 10, "exp": now + 600,
            "scope": "openid", "token_use": "access"});
        let mut other_audience = base.clone();
        if preset == "cognito" {
            other_audience["client_id"] = json!("another-app-client");
        } else {
            other_audience["aud"] = json!("https://another-api.example");
        }
        let mut id = base.clone();
        id["aud"] = json!(audience);
        id["at_hash"] = json!("h4sh");
        id["token_use"] = json!("id");
        let credentials = [
            (
                "wrong_audience",
                token(&header, &other_audience),
                wrong_audience,
            ),
            ("id_token", token(&header, &id), id_token),
            (
                "opaque_token",
                "LR7c_Q_yzswhQm0RFjydd96UtHyaglMUpKaHAFtU1KW".to_owned(),
                opaque,
            ),
        ];
        for (reason, credential, says) in credentials {
            let decided = decide(&authorizer, rest_token(&format!("Bearer {credential}"))).await;
            assert_eq!(decided.reason(), reason, "{preset}");
            let hint = decided.record.refusal.as_ref().unwrap().hint();
            assert!(hint.contains(says), "{preset} {reason}: {hint}");
            let options = Options {
                offline: true,
                audience_known: true,
                arn: None,
                now: token_verifier::now(),
                client_cert: None,
                dpop: None,
            };
            let report = explain(Some(&authorizer), &credential, &options).await;
            let failed = report
                .steps
                .iter()
                .find_map(|step| match &step.status {
                    Status::Fail(refusal) if refusal.reason.code() == reason => {
                        Some(refusal.hint())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{preset} {reason}: {}", report.render()));
            assert_eq!(
                failed, hint,
                "{preset} {reason}: explain says what the log line says"
            );
        }
    }
}

/// Issuers from a configuration document are advised with the document's members.
#[tokio::test]
async fn a_document_issuer_is_advised_with_its_members() {
    let now = unix_now();
    let document = token_verifier::ConfigDocument::parse(
        "doc",
        &json!({"issuers": [
            {"issuer": "https://first.example/", "audiences": ["a"], "jwks": token_verifier::tool::dev::jwks(&[&rsa_a()])},
            {"issuer": "https://second.example/", "audiences": ["b"], "jwks": token_verifier::tool::dev::jwks(&[&rsa_a()])},
        ]})
        .to_string(),
    )
    .unwrap();
    let config =
        token_verifier::Config::combine(&token_verifier::EnvConfig::default(), Some(document))
            .unwrap();
    let authorizer = token_verifier::Authorizer::new(config).unwrap();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"});
    let wrong = token(
        &header,
        &json!({"iss": "https://second.example/", "sub": "u", "aud": "a", "exp": now + 600}),
    );
    let decided = decide(&authorizer, rest_token(&format!("Bearer {wrong}"))).await;
    assert_eq!(decided.reason(), "wrong_audience");
    let hint = decided.record.refusal.as_ref().unwrap().hint();
    assert!(hint.contains("issuers[1].audiences"), "{hint}");
    assert!(!hint.contains("AUDIENCE"), "{hint}");
    let stranger = token(
        &header,
        &json!({"iss": "https://third.example/", "sub": "u", "aud": "a", "exp": now + 600}),
    );
    let decided = decide(&authorizer, rest_token(&format!("Bearer {stranger}"))).await;
    assert_eq!(decided.reason(), "wrong_issuer");
    let hint = decided.record.refusal.as_ref().unwrap().hint();
    assert!(hint.contains("issuers[].issuer"), "{hint}");
    assert!(!hint.contains("TOKEN_ISSUER"), "{hint}");
}
