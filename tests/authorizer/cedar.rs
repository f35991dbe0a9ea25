//! Cedar policies evaluated in the authorizer: an exported Verified Permissions store
//! decides as its guides say, permit and forbid compose as Cedar specifies, groups are
//! parents, policy answers stay right under API Gateway's result cache, every front door
//! decides, and a bad set never starts.

use std::collections::HashMap;

use serde_json::{Value, json};
use token_verifier::testing::Lines;
use token_verifier::tool::dev::jwks;
use token_verifier::{Authorizer, Config, ConfigDocument, EnvConfig};

use crate::support::*;

const POOL: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE";
const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

fn petstore() -> (String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cedar/petstore");
    (
        std::fs::read_to_string(format!("{dir}/policies.cedar")).unwrap(),
        std::fs::read_to_string(format!("{dir}/schema.json")).unwrap(),
    )
}

fn env() -> EnvConfig {
    EnvConfig::from_lookup(|_| None::<String>).unwrap()
}

fn document(issuer: &str, cedar: Value, routes: Option<Value>) -> Value {
    let mut doc = json!({
        "issuers": [{"issuer": issuer, "audiences": [AUDIENCE], "jwks": jwks(&[&rsa_a()])}],
        "authorization": {"cedar": cedar},
    });
    if let Some(routes) = routes {
        doc["routes"] = routes;
    }
    doc
}

fn build(document: &Value) -> Result<Authorizer, String> {
    let doc =
        ConfigDocument::parse("test.json", &document.to_string()).map_err(|e| e.to_string())?;
    let config = Config::combine(&env(), Some(doc)).map_err(|e| e.to_string())?;
    Authorizer::new(config).map_err(|e| e.to_string())
}

fn petstore_authorizer() -> Authorizer {
    let (policies, schema) = petstore();
    build(&document(
        POOL,
        json!({"policies": policies, "schema": serde_json::from_str::<Value>(&schema).unwrap()}),
        None,
    ))
    .unwrap()
}

fn token(issuer: &str, extra: Value) -> String {
    let mut c = claims(extra);
    c["iss"] = json!(issuer);
    rsa_a().mint(&c).unwrap()
}

/// A REST REQUEST event for `METHOD/path`.
fn rest(method_and_path: &str, token: &str) -> Value {
    let mut event = rest_request(json!({"Authorization": format!("Bearer {token}")}));
    event["methodArn"] = json!(format!("{STAGE}/{method_and_path}"));
    event["requestContext"]["identity"] = json!({"sourceIp": "198.51.100.7"});
    event
}

fn v2(method_and_path: &str, token: &str) -> Value {
    let mut event = http_v2(&format!("Bearer {token}"));
    event["routeArn"] = json!(format!("{STAGE}/{method_and_path}"));
    event
}

fn effect_of(answer: &Value, effect: &str) -> Vec<String> {
    statements(answer)
        .into_iter()
        .filter(|(e, _)| e == effect)
        .flat_map(|(_, r)| r)
        .collect()
}

#[tokio::test]
async fn an_exported_verified_permissions_store_decides_as_its_guides_say() {
    let authorizer = petstore_authorizer();
    // The Cognito guide: a member of MyGroup may GET /pets and GET /pets/scrappy.
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    for route in ["GET/pets", "GET/pets/scrappy"] {
        let decided = decide(&authorizer, rest(route, &reader)).await;
        assert_eq!(decided.reason(), "ok", "{route}: {}", decided.detail());
        let trace = decided.record.cedar.as_ref().unwrap();
        assert_eq!(trace.determining, ["MyGroup"]);
    }
    assert_eq!(
        decide(&authorizer, rest("GET/pets/scrappy", &reader))
            .await
            .record
            .cedar
            .unwrap()
            .action
            .unwrap(),
        r#"PetStore::Action::"get /pets/{petId}""#
    );
    // ... and nothing else: POST /pets is no action of MyGroup's policy.
    let decided = decide(&authorizer, rest("POST/pets", &reader)).await;
    assert_eq!(decided.reason(), "policy_denied");
    assert!(
        decided.detail().contains(r#"Cedar denies PetStore::Action::"post /pets" to PetStore::User::"us-east-1_EXAMPLE|user-123": no permit policy applies"#),
        "{}",
        decided.detail()
    );
    // Its policy answer allows exactly its two routes, for every request of the token.
    let answer = decided.allowed();
    // Denied: the deeper paths GET/pets/* would let through (routes the schema does not
    // name), and the refused call by name.
    assert_eq!(
        effect_of(&answer, "Allow"),
        [format!("{STAGE}/GET/pets"), format!("{STAGE}/GET/pets/*")]
    );
    assert_eq!(
        effect_of(&answer, "Deny"),
        [
            format!("{STAGE}/GET/pets/*/*"),
            format!("{STAGE}/POST/pets")
        ]
    );
    // testgroup's members may call all four routes of the store.
    let tester = token(POOL, json!({"cognito:groups": ["testgroup"]}));
    for route in ["GET/", "GET/pets", "POST/pets", "GET/pets/7"] {
        assert_eq!(
            decide(&authorizer, rest(route, &tester)).await.reason(),
            "ok",
            "{route}"
        );
    }
    // A token of no group, or of a group of another pool, may call nothing: 403.
    for groups in [json!([]), json!(["testgroup-x"])] {
        let nobody = token(POOL, json!({"cognito:groups": groups}));
        let decided = decide(&authorizer, rest("GET/pets", &nobody)).await;
        assert_eq!(decided.reason(), "policy_denied");
        assert_eq!(
            effect_of(&decided.allowed(), "Deny"),
            [format!("{STAGE}/*")]
        );
    }
    // A route the schema does not name is refused, never allowed by default.
    let decided = decide(&authorizer, rest("DELETE/pets/7", &tester)).await;
    assert_eq!(decided.reason(), "policy_denied");
    assert!(
        decided
            .detail()
            .contains("no action of the Cedar schema names DELETE /pets/7"),
        "{}",
        decided.detail()
    );
    // ... and its answer is still the token's own, so that API Gateway caching it per token
    // does not shut the token out of the routes it may call.
    assert_eq!(
        decided.record.cedar.as_ref().unwrap().answer,
        Some("actions")
    );
    let allowed = effect_of(&decided.allowed(), "Allow");
    assert!(
        allowed.contains(&format!("{STAGE}/GET/pets")),
        "{allowed:?}"
    );
    assert!(
        !allowed.iter().any(|arn| arn.contains("DELETE")),
        "{allowed:?}"
    );
    // A route the API has and the schema does not name, under a permitted `*`: GET
    // /pets/{petId} allows GET/pets/*, which IAM also matches to GET/pets/7/photos. The
    // answer lets neither that call through nor, cached for the token, another like it,
    // and still lets the token's own routes through.
    let decided = decide(&authorizer, rest("GET/pets/7/photos", &tester)).await;
    assert_eq!(decided.reason(), "policy_denied");
    let answer = decided.allowed();
    assert_eq!(effect_of(&answer, "Allow").len(), 4, "{answer}");
    for refused in ["GET/pets/7/photos", "GET/pets/8/photos", "GET/pets/8/a/b"] {
        assert!(
            !lets_through(&answer, &format!("{STAGE}/{refused}")),
            "{refused}: {answer}"
        );
    }
    for permitted in ["GET/pets/8", "GET/pets", "POST/pets", "GET/"] {
        assert!(
            lets_through(&answer, &format!("{STAGE}/{permitted}")),
            "{permitted}: {answer}"
        );
    }
}

fn store(policies: &str, schema: &str) -> Value {
    json!({"policies": policies, "schema": schema})
}

const SCHEMA: &str = r#"
namespace MyAPI {
  entity UserGroup;
  entity Application;
  entity User in [UserGroup] { email?: String, plan?: String, level?: Long };
  type Token = { scope?: Set<String>, tenant?: String };
  action "get /users", "get /users/me", "get /users/{id}", "delete /users/{id}", "get /reports"
    appliesTo { principal: User, resource: Application,
                context: { token: Token, scopes: Set<String>, pathParameters: { id?: String }, sourceIp?: ipaddr } };
}
"#;

#[tokio::test]
async fn forbid_wins_over_permit_and_both_are_named() {
    let policies = r#"
        @id("members-read") permit(principal in MyAPI::UserGroup::"idp.example.com/|member", action in [MyAPI::Action::"get /users", MyAPI::Action::"get /users/{id}", MyAPI::Action::"get /users/me"], resource);
        @id("free-plan-no-list") forbid(principal, action == MyAPI::Action::"get /users", resource) when { principal has plan && principal.plan == "free" };
    "#;
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap();
    let pro = token(ISSUER, json!({"cognito:groups": ["member"], "plan": "pro"}));
    let free = token(
        ISSUER,
        json!({"cognito:groups": ["member"], "plan": "free"}),
    );
    let decided = decide(&authorizer, rest("GET/users", &pro)).await;
    assert_eq!(decided.reason(), "ok");
    assert_eq!(
        decided.record.cedar.as_ref().unwrap().determining,
        ["members-read"]
    );
    let decided = decide(&authorizer, rest("GET/users", &free)).await;
    assert_eq!(decided.reason(), "policy_denied");
    assert_eq!(
        decided.record.cedar.as_ref().unwrap().determining,
        ["free-plan-no-list"]
    );
    assert!(
        decided
            .detail()
            .contains("forbidden by `free-plan-no-list`"),
        "{}",
        decided.detail()
    );
    // The free plan's policy answer: the users it may read, the list denied.
    let answer = decided.allowed();
    assert_eq!(
        effect_of(&answer, "Allow"),
        [
            format!("{STAGE}/GET/users/me"),
            format!("{STAGE}/GET/users/*")
        ]
    );
    // (Actions in the order of their names: `get /users/me` < `get /users/{id}`.) Denied:
    // the deeper paths GET/users/* would let through, and the refused call by name.
    assert_eq!(
        effect_of(&answer, "Deny"),
        [
            format!("{STAGE}/GET/users/*/*"),
            format!("{STAGE}/GET/users")
        ],
        "{answer}"
    );
}

#[tokio::test]
async fn a_policy_that_errs_is_skipped_as_cedar_specifies() {
    // `level` is declared but absent from the token: the first policy errs and is
    // skipped (no permit from it, and no error for the request); the forbid that errs
    // forbids nothing.
    let policies = r#"
        @id("high-level") permit(principal, action == MyAPI::Action::"get /reports", resource) when { principal.level > 3 };
        @id("everyone-reads-reports") permit(principal, action == MyAPI::Action::"get /reports", resource) when { principal.email like "*@acme.example" };
        @id("broken-forbid") forbid(principal, action, resource) when { principal.level < 0 };
    "#;
    let schema = r#"namespace MyAPI {
      entity UserGroup; entity Application;
      entity User in [UserGroup] { email: String, level: Long };
      action "get /reports" appliesTo { principal: User, resource: Application };
    }"#;
    let authorizer = build(&document(ISSUER, store(policies, schema), None)).unwrap();
    let acme = token(ISSUER, json!({"email": "ana@acme.example"}));
    let decided = decide(&authorizer, rest("GET/reports", &acme)).await;
    assert_eq!(decided.reason(), "ok", "{}", decided.detail());
    let trace = decided.record.cedar.clone().unwrap();
    assert_eq!(trace.determining, ["everyone-reads-reports"]);
    assert_eq!(trace.errors.len(), 2, "{:?}", trace.errors);
    assert!(
        trace.errors.iter().any(|e| e.contains("high-level")),
        "{:?}",
        trace.errors
    );
    assert!(
        trace.errors.iter().any(|e| e.contains("broken-forbid")),
        "{:?}",
        trace.errors
    );
    let other = token(ISSUER, json!({"email": "eve@example.org"}));
    let decided = decide(&authorizer, rest("GET/reports", &other)).await;
    assert_eq!(decided.reason(), "policy_denied");
    assert!(
        decided
            .detail()
            .contains("2 policies erred and were skipped"),
        "{}",
        decided.detail()
    );
    // A policy answer covers every action for the token: the errors of another action's
    // policies, which shaped it, are named too.
    let policies = format!(
        r#"{policies} @id("audit-by-level") permit(principal, action == MyAPI::Action::"get /audit", resource) when {{ principal.level > 5 }};"#
    );
    let schema = schema.replace(
        r#"action "get /reports""#,
        r#"action "get /reports", "get /audit""#,
    );
    let authorizer = build(&document(ISSUER, store(&policies, &schema), None)).unwrap();
    let decided = decide(&authorizer, rest("GET/reports", &acme)).await;
    assert_eq!(decided.reason(), "ok", "{}", decided.detail());
    let trace = decided.record.cedar.clone().unwrap();
    assert_eq!(trace.answer, Some("actions"));
    assert!(
        trace.errors.iter().any(|e| e.contains("audit-by-level")),
        "{:?}",
        trace.errors
    );
}

#[tokio::test]
async fn groups_are_parents_from_the_configured_claim_or_pointer() {
    let policies = r#"@id("admins") permit(principal in MyAPI::UserGroup::"idp.example.com/|admin", action, resource);"#;
    let mut cedar = store(policies, SCHEMA);
    cedar["group_claim"] = json!("/realm_access/roles");
    let authorizer = build(&document(ISSUER, cedar, None)).unwrap();
    let admin = token(
        ISSUER,
        json!({"realm_access": {"roles": ["user", "admin"]}}),
    );
    assert_eq!(
        decide(&authorizer, rest("DELETE/users/9", &admin))
            .await
            .reason(),
        "ok"
    );
    let user = token(
        ISSUER,
        json!({"realm_access": {"roles": "user"}, "cognito:groups": ["admin"]}),
    );
    assert_eq!(
        decide(&authorizer, rest("DELETE/users/9", &user))
            .await
            .reason(),
        "policy_denied"
    );
    // A space-separated string is a list of groups too (Verified Permissions' OIDC rule).
    let spaced = token(ISSUER, json!({"realm_access": {"roles": "user admin"}}));
    assert_eq!(
        decide(&authorizer, rest("DELETE/users/9", &spaced))
            .await
            .reason(),
        "ok"
    );
}

#[tokio::test]
async fn policies_on_the_request_context_answer_for_the_called_route_alone() {
    let policies = r#"
        @id("own-record") permit(principal, action in [MyAPI::Action::"get /users/{id}", MyAPI::Action::"delete /users/{id}"], resource)
          when { context.pathParameters has id && context.token has tenant && context.pathParameters.id == context.token.tenant };
        @id("office") permit(principal, action == MyAPI::Action::"get /reports", resource)
          when { context has sourceIp && context.sourceIp.isInRange(ip("198.51.100.0/24")) };
    "#;
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap();
    let t = token(ISSUER, json!({"tenant": "42"}));
    let decided = decide(&authorizer, rest("GET/users/42", &t)).await;
    assert_eq!(decided.reason(), "ok", "{}", decided.detail());
    assert_eq!(decided.record.cedar.as_ref().unwrap().answer, Some("route"));
    assert_eq!(
        statements(&decided.allowed()),
        [("Allow".to_owned(), vec![format!("{STAGE}/GET/users/42")])]
    );
    let decided = decide(&authorizer, rest("GET/users/43", &t)).await;
    assert_eq!(decided.reason(), "policy_denied");
    assert_eq!(
        statements(&decided.allowed()),
        [("Deny".to_owned(), vec![format!("{STAGE}/GET/users/43")])]
    );
    // The source IP, from the event (REST: requestContext.identity.sourceIp).
    assert_eq!(
        decide(&authorizer, rest("GET/reports", &t)).await.reason(),
        "ok"
    );
    let mut elsewhere = rest("GET/reports", &t);
    elsewhere["requestContext"]["identity"]["sourceIp"] = json!("203.0.113.1");
    assert_eq!(
        decide(&authorizer, elsewhere).await.reason(),
        "policy_denied"
    );
}

#[tokio::test]
async fn http_api_simple_responses_decide_per_request_with_scopes_in_context() {
    let policies = r#"@id("readers") permit(principal, action == MyAPI::Action::"get /reports", resource) when { context.scopes.contains("read:reports") && context.token has scope && context.token.scope.contains("read:reports") };"#;
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap();
    let reader = token(ISSUER, json!({"scope": "openid read:reports"}));
    let other = token(ISSUER, json!({"scope": "openid"}));
    assert_eq!(
        decide(&authorizer, v2("GET/reports", &reader))
            .await
            .allowed()["isAuthorized"],
        true
    );
    let decided = decide(&authorizer, v2("GET/reports", &other)).await;
    assert_eq!(decided.allowed()["isAuthorized"], false);
    assert_eq!(decided.allowed()["context"]["reason"], "policy_denied");
}

#[tokio::test]
async fn route_rules_and_cedar_must_both_allow() {
    let policies = r#"@id("all") permit(principal, action, resource);"#;
    let routes =
        json!({"default": "allow", "rules": [{"route": "DELETE /users/*", "scopes": ["admin"]}]});
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), Some(routes))).unwrap();
    let t = token(ISSUER, json!({"scope": "openid"}));
    assert_eq!(
        decide(&authorizer, rest("GET/users/1", &t)).await.reason(),
        "ok"
    );
    let decided = decide(&authorizer, rest("DELETE/users/1", &t)).await;
    assert_eq!(decided.reason(), "insufficient_scope");
    // Beside route rules, the answer names the called route alone.
    assert_eq!(
        effect_of(&decided.allowed(), "Deny"),
        [format!("{STAGE}/DELETE/users/1")]
    );
    let forbid = r#"@id("all") permit(principal, action, resource); @id("no-delete") forbid(principal, action == MyAPI::Action::"delete /users/{id}", resource);"#;
    let routes =
        json!({"default": "allow", "rules": [{"route": "DELETE /users/*", "scopes": ["admin"]}]});
    let authorizer = build(&document(ISSUER, store(forbid, SCHEMA), Some(routes))).unwrap();
    let admin = token(ISSUER, json!({"scope": "admin"}));
    assert_eq!(
        decide(&authorizer, rest("DELETE/users/1", &admin))
            .await
            .reason(),
        "policy_denied"
    );
}

#[tokio::test]
async fn a_set_that_does_not_match_its_schema_is_refused_with_its_line_and_column() {
    let policies = "@id(\"ok\") permit(principal, action, resource);\n\n@id(\"typo\")\npermit(principal, action == MyAPI::Action::\"get /users\", resource)\n  when { principal.emial == \"a\" };\n";
    let error = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap_err();
    assert!(
        error.contains("policy `typo` does not match the schema: line 5, column 10"),
        "{error}"
    );
    assert!(
        error.contains("authorization.cedar of test.json"),
        "{error}"
    );
    // A syntax error: where it is.
    let error = build(&document(
        ISSUER,
        store("permit(principal, action resource);", SCHEMA),
        None,
    ))
    .unwrap_err();
    assert!(error.contains("line 1, column"), "{error}");
    // A schema error: its line and column in the schema.
    let error = build(&document(
        ISSUER,
        store(
            "permit(principal, action, resource);",
            "namespace X { entity User in [Nope]; }",
        ),
        None,
    ))
    .unwrap_err();
    assert!(
        error.contains("authorization.cedar of test.json: schema: line 1, column 31: "),
        "{error}"
    );
    // A schema's syntax error: its line and column.
    let error = build(&document(
        ISSUER,
        store(
            "permit(principal, action, resource);",
            "namespace X {\n  entity User;\n  entity Group in ;\n}",
        ),
        None,
    ))
    .unwrap_err();
    assert!(
        error.contains("schema: line 3, column 19: error parsing schema: unexpected token `;`"),
        "{error}"
    );
    // An unknown action is a validation error too.
    let error = build(&document(
        ISSUER,
        store(
            "permit(principal, action == MyAPI::Action::\"get /nope\", resource);",
            SCHEMA,
        ),
        None,
    ))
    .unwrap_err();
    assert!(
        error.contains("does not match the schema: line 1"),
        "{error}"
    );
}

/// The petstore set from its files, with the workload's issuer and keys and `more`
/// variables; `keep` leaves out every variable it does not name (the files included).
fn petstore_files(more: &[(&str, &str)], keep: Option<&[&str]>) -> Result<Config, String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cedar/petstore");
    let jwks_text = jwks(&[&rsa_a()]).to_string();
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("TOKEN_ISSUER", POOL.to_owned()),
        ("AUDIENCE", AUDIENCE.to_owned()),
        ("JWKS_JSON", jwks_text),
        ("CEDAR_POLICIES_FILE", format!("{dir}/policies.cedar")),
        ("CEDAR_SCHEMA_FILE", format!("{dir}/schema.json")),
    ]);
    vars.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    if let Some(keep) = keep {
        vars.retain(|name, _| keep.contains(name) || ["TOKEN_ISSUER", "AUDIENCE"].contains(name));
    }
    Config::from_lookup(|n| vars.get(n).cloned()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn cedar_files_for_local_runs() {
    let authorizer = Authorizer::new(petstore_files(&[], None).unwrap()).unwrap();
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    assert_eq!(
        decide(&authorizer, rest("GET/pets", &reader))
            .await
            .reason(),
        "ok"
    );
    // One without the other is refused: policies are validated against their schema.
    let error = petstore_files(&[], Some(&["CEDAR_POLICIES_FILE"])).unwrap_err();
    assert!(error.contains("CEDAR_SCHEMA_FILE"), "{error}");
    // A seal without the files it seals says where a document's seal goes.
    let error = petstore_files(&[("CEDAR_SEAL", "sha256:00")], Some(&["CEDAR_SEAL"])).unwrap_err();
    assert!(
        error.contains("CEDAR_SEAL") && error.contains("beside its policies, as `seal`"),
        "{error}"
    );
}

/// A set beside its check-config seal is parsed, not validated again, and decides the
/// same; a seal that is not the set's own is named in a warning, with the set's seal,
/// after the set was validated as always.
#[tokio::test]
async fn a_sealed_set_is_not_validated_again_and_a_stale_seal_is_named() {
    let (policies_text, schema_text) = petstore();
    let seal = token_verifier::tool::dev::workload::cedar_seal(&policies_text, &schema_text);
    let start = |seal: &str| {
        let config = petstore_files(&[("CEDAR_SEAL", seal)], None).unwrap();
        let (authorizer, lines) = Lines::capture(|| Authorizer::new(config).unwrap());
        (authorizer, lines.parsed())
    };
    let message = |lines: &[Value], text: &str| {
        lines
            .iter()
            .find(|line| {
                line["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(text))
            })
            .cloned()
    };

    let (sealed, lines) = start(&seal);
    assert!(
        message(&lines, "Cedar policies carry their own seal").is_some(),
        "{lines:?}"
    );
    assert!(
        message(&lines, "Cedar policies validated").is_none(),
        "{lines:?}"
    );
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    assert_eq!(
        decide(&sealed, rest("GET/pets", &reader)).await.reason(),
        "ok"
    );

    let stale = seal.replace("sha256:", "sha256:f");
    let (validated, lines) = start(&stale[..seal.len()]);
    assert!(
        message(&lines, "Cedar policies validated").is_some(),
        "{lines:?}"
    );
    let warning = message(
        &lines,
        "the configured Cedar seal is not these policies' own",
    )
    .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(warning["seal"], json!(seal));
    assert_eq!(
        decide(&validated, rest("GET/pets", &reader)).await.reason(),
        "ok"
    );
}

#[tokio::test]
async fn appsync_fields_cedar_does_not_permit_are_denied_fields() {
    let schema = r#"namespace Chat {
      entity UserGroup; entity Application; entity User in [UserGroup];
      action "Query.listMessages", "Mutation.deleteMessage" appliesTo { principal: User, resource: Application };
    }"#;
    let policies = r#"
        @id("read") permit(principal, action == Chat::Action::"Query.listMessages", resource);
        @id("moderators") permit(principal in Chat::UserGroup::"idp.example.com/|moderator", action, resource);
    "#;
    let authorizer = build(&document(ISSUER, store(policies, schema), None)).unwrap();
    let event = |token: &str| {
        json!({
            "authorizationToken": token,
            "requestContext": {"apiId": "aaaaaa123123123example123", "accountId": "111122223333",
                "requestId": "r-1", "queryString": "query { listMessages { id } }", "variables": {}},
            "requestHeaders": {"authorization": token},
        })
    };
    let user = token(ISSUER, json!({}));
    let answer = decide(&authorizer, event(&user)).await.allowed();
    assert_eq!(answer["isAuthorized"], true);
    assert_eq!(answer["deniedFields"], json!(["Mutation.deleteMessage"]));
    let moderator = token(ISSUER, json!({"cognito:groups": ["moderator"]}));
    let answer = decide(&authorizer, event(&moderator)).await.allowed();
    assert!(answer.get("deniedFields").is_none(), "{answer}");
}

#[tokio::test]
async fn the_tower_layer_asks_cedar_for_each_request() {
    use std::sync::Arc;
    use token_verifier::layer::VerifyLayer;
    use tower::{ServiceBuilder, ServiceExt as _, service_fn};
    let policies = r#"@id("members-read") permit(principal in MyAPI::UserGroup::"idp.example.com/|member", action in [MyAPI::Action::"get /users/{id}", MyAPI::Action::"get /users/me"], resource);"#;
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap();
    let layer = VerifyLayer::new(Arc::new(authorizer));
    let member = token(ISSUER, json!({"cognito:groups": ["member"]}));
    let status = |method: &'static str, path: &'static str| {
        let layer = layer.clone();
        let member = member.clone();
        async move {
            let service = ServiceBuilder::new().layer(layer).service(service_fn(
                |_: http::Request<String>| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
                },
            ));
            let request = http::Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {member}"))
                .body(String::new())
                .unwrap();
            service.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    assert_eq!(status("GET", "/users/me").await, 200);
    assert_eq!(status("GET", "/users/7").await, 200);
    assert_eq!(status("DELETE", "/users/7").await, 403);
    assert_eq!(status("GET", "/reports").await, 403);
}

#[tokio::test]
async fn a_reload_with_a_set_that_does_not_validate_keeps_the_last_good_one() {
    use std::sync::Arc;
    use std::time::Duration;
    use token_verifier::ParameterStore;
    let (policies, schema) = petstore();
    let good = document(POOL, json!({"policies": policies, "schema": schema}), None).to_string();
    let store = Arc::new(crate::sources::MemoryStore::default());
    store.set("/tv/config", &good);
    let authorizer = Authorizer::load_with(
        crate::sources::env(&[
            ("CONFIG_PARAMETER", "/tv/config"),
            ("CONFIG_TTL_SECONDS", "60"),
        ]),
        Some(Arc::clone(&store) as Arc<dyn ParameterStore>),
    )
    .await
    .unwrap();
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    assert_eq!(
        decide(&authorizer, rest("GET/pets", &reader))
            .await
            .reason(),
        "ok"
    );
    // A new set naming an action the schema lacks: logged, the last good one kept.
    let bad = policies.replace("get /pets/{petId}", "get /pets/{id}");
    store.set(
        "/tv/config",
        &document(POOL, json!({"policies": bad, "schema": schema}), None).to_string(),
    );
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(
        decide(&authorizer, rest("GET/pets/1", &reader))
            .await
            .reason(),
        "ok"
    );
    assert_eq!(authorizer.config_version(), Some(1));
    // A good new set is taken: MyGroup loses GET /pets/{petId}.
    let narrower = policies.replace(
        r#"action in [ PetStore::Action::"get /pets", PetStore::Action::"get /pets/{petId}" ]"#,
        r#"action in [ PetStore::Action::"get /pets" ]"#,
    );
    assert_ne!(narrower, policies);
    store.set(
        "/tv/config",
        &document(POOL, json!({"policies": narrower, "schema": schema}), None).to_string(),
    );
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(
        decide(&authorizer, rest("GET/pets/1", &reader))
            .await
            .reason(),
        "policy_denied"
    );
    assert_eq!(authorizer.config_version(), Some(3));
}

#[tokio::test]
async fn explain_prints_the_entities_and_the_determining_policies() {
    use token_verifier::tool::explain::explain;
    let authorizer = petstore_authorizer();
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    let options = explain_options;
    let arn = format!("{STAGE}/GET/pets/scrappy");
    let report = explain(Some(&authorizer), &reader, &options(Some(&arn))).await;
    let cedar = report.cedar.clone().unwrap();
    assert_eq!(
        cedar.principal,
        r#"PetStore::User::"us-east-1_EXAMPLE|user-123""#
    );
    assert_eq!(
        cedar.parents,
        [r#"PetStore::UserGroup::"us-east-1_EXAMPLE|MyGroup""#]
    );
    assert_eq!(cedar.resource, r#"PetStore::Application::"PetStore""#);
    assert_eq!(
        cedar.action.as_deref(),
        Some(r#"PetStore::Action::"get /pets/{petId}""#)
    );
    assert_eq!(cedar.determining.len(), 1);
    assert_eq!(cedar.determining[0].0, "MyGroup");
    assert!(
        cedar.determining[0]
            .1
            .contains(r#"PetStore::UserGroup::"us-east-1_EXAMPLE|MyGroup""#)
    );
    assert!(
        cedar
            .context
            .iter()
            .any(|c| c.contains(r#"petId: "scrappy""#)),
        "{:?}",
        cedar.context
    );
    assert_eq!(
        cedar.permitted,
        [
            r#"PetStore::Action::"get /pets""#,
            r#"PetStore::Action::"get /pets/{petId}""#
        ]
    );
    let text = report.render();
    assert!(
        text.contains("Cedar     (the entities built from the token)"),
        "{text}"
    );
    assert!(text.contains("determined by `MyGroup`"), "{text}");
    assert!(text.contains("pass  policies"), "{text}");
    // A route it may not call: the Policies check fails with the authorizer's reason.
    let report = explain(
        Some(&authorizer),
        &reader,
        &options(Some(&format!("{STAGE}/POST/pets"))),
    )
    .await;
    assert!(
        report
            .render()
            .contains("FAIL  policies          policy_denied"),
        "{}",
        report.render()
    );
    assert_eq!(
        report.to_json()["cedar"]["action"],
        r#"PetStore::Action::"post /pets""#
    );
    // Without --arn the route's decision is not checked, and the entities are shown.
    let report = explain(Some(&authorizer), &reader, &options(None)).await;
    assert!(
        report.render().contains("----  policies"),
        "{}",
        report.render()
    );
    assert!(report.cedar.is_some());
}

#[tokio::test]
async fn policies_of_their_own_ssm_parameter_are_loaded_and_reloaded() {
    use std::sync::Arc;
    use std::time::Duration;
    use token_verifier::ParameterStore;
    let (policies, schema) = petstore();
    let store = Arc::new(crate::sources::MemoryStore::default());
    store.set(
        "/tv/cedar",
        &json!({"policies": policies, "schema": schema}).to_string(),
    );
    let jwks_text = jwks(&[&rsa_a()]).to_string();
    let vars = [
        ("TOKEN_ISSUER", POOL),
        ("AUDIENCE", AUDIENCE),
        ("JWKS_JSON", jwks_text.as_str()),
        ("CEDAR_PARAMETER", "/tv/cedar"),
        ("CONFIG_TTL_SECONDS", "60"),
    ];
    let authorizer = Authorizer::load_with(
        crate::sources::env(&vars),
        Some(Arc::clone(&store) as Arc<dyn ParameterStore>),
    )
    .await
    .unwrap();
    let tester = token(POOL, json!({"cognito:groups": ["testgroup"]}));
    assert_eq!(
        decide(&authorizer, rest("POST/pets", &tester))
            .await
            .reason(),
        "ok"
    );
    // A broken new version: logged, the last good set kept.
    store.set(
        "/tv/cedar",
        &json!({"policies": "permit(", "schema": schema}).to_string(),
    );
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(
        decide(&authorizer, rest("POST/pets", &tester))
            .await
            .reason(),
        "ok"
    );
    // A good one without testgroup's policy is taken.
    let only_mygroup = &policies[policies.find("// The Cognito developer guide").unwrap()..];
    store.set(
        "/tv/cedar",
        &json!({"policies": only_mygroup, "schema": schema}).to_string(),
    );
    time_travel(Duration::from_secs(61)).await;
    assert_eq!(
        decide(&authorizer, rest("POST/pets", &tester))
            .await
            .reason(),
        "policy_denied"
    );
    // A parameter that is not one is refused at init with its name.
    store.set(
        "/tv/cedar",
        &json!({"policy": "permit(principal, action, resource);"}).to_string(),
    );
    let error = Authorizer::load_with(
        crate::sources::env(&vars),
        Some(Arc::clone(&store) as Arc<dyn ParameterStore>),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("CEDAR_PARAMETER /tv/cedar"), "{error}");
}

/// The policy files `scripts/bench-insitu` gives the authorizer in place (50 policies,
/// or 500 with `INSITU_CEDAR_POLICIES`) are the workload the criterion benches decide
/// by, so both measure the same sets.
#[test]
fn the_in_place_benchmark_files_are_the_workload() {
    use token_verifier::tool::dev::workload;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/cedar");
    for count in [50, 500] {
        assert_eq!(
            std::fs::read_to_string(format!("{dir}/workload-{count}.cedar")).unwrap(),
            workload::cedar_policies(count)
        );
    }
    assert_eq!(
        std::fs::read_to_string(format!("{dir}/workload.cedarschema")).unwrap(),
        workload::cedar_schema()
    );
}

/// The Lambda function and the tower layer start with `Authorizer::start`, which builds
/// the policy set beside the key fetch: once it returns, the keys are fetched and the set
/// decides, and the log lines of its building reach the caller's subscriber; a set that
/// does not validate fails init without waiting for keys that do not come. (That the two
/// overlap is measured, not asserted: `scripts/bench-insitu`'s cold starts with an IdP
/// `INSITU_IDP_MS` away.)
#[tokio::test]
async fn start_fetches_the_keys_installs_the_set_and_refuses_a_bad_one_at_once() {
    use std::time::{Duration, Instant};
    let server = JwksServer::start().await;
    server.set(
        "/jwks",
        Reply::Delayed(
            Duration::from_millis(200),
            Box::new(Reply::Json(jwks(&[&rsa_a()]).to_string())),
        ),
    );
    let url = server.url("/jwks");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cedar/petstore");
    let policies = format!("{dir}/policies.cedar");
    let schema = format!("{dir}/schema.json");
    let vars = |policies: &str| {
        crate::sources::env(&[
            ("TOKEN_ISSUER", POOL),
            ("AUDIENCE", AUDIENCE),
            ("JWKS_URI", &url),
            ("CEDAR_POLICIES_FILE", policies),
            ("CEDAR_SCHEMA_FILE", &schema),
            ("HTTP_TIMEOUT_MS", "8000"),
        ])
    };
    // Its log lines, those of the thread that builds the set too, go to this test's
    // subscriber.
    let lines = Lines::default();
    let guard = lines.install();
    let authorizer = Authorizer::start(vars(&policies)).await.unwrap();
    drop(guard);
    let validated = lines
        .parsed()
        .into_iter()
        .find(|line| line["message"] == "Cedar policies validated against their schema");
    let validated = validated.unwrap_or_else(|| panic!("{}", lines.text()));
    assert_eq!(validated["policies"], json!(2));
    // What API Gateway's cache must be keyed by, logged as check-config prints it: HTTP
    // API simple responses (the default) are decided per route.
    assert!(
        lines.parsed().iter().any(|line| line["level"] == "WARN"
            && line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Cedar decides an HTTP API simple response"))),
        "{}",
        lines.text()
    );
    // How long validation took, what a seal would save.
    assert!(
        validated["validation_ms"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "{validated}"
    );
    assert_eq!(server.hits("/jwks"), 1, "the keys are fetched at start");
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    let stranger = token(POOL, json!({"cognito:groups": ["nobody"]}));
    assert_eq!(
        decide(&authorizer, rest("GET/pets", &reader))
            .await
            .reason(),
        "ok"
    );
    assert_eq!(
        decide(&authorizer, rest("GET/pets", &stranger))
            .await
            .reason(),
        "policy_denied"
    );
    assert_eq!(server.hits("/jwks"), 1, "and cached");

    // Keys that never come (the client gives up after 8 s) do not hold up the refusal of
    // a set that does not validate.
    server.set("/jwks", Reply::Hang);
    let broken = format!(
        "{}/broken-{}.cedar",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    std::fs::write(
        &broken,
        "permit(principal, action, resource) when { nope };",
    )
    .unwrap();
    let started = Instant::now();
    let error = Authorizer::start(vars(&broken))
        .await
        .unwrap_err()
        .to_string();
    let waited = started.elapsed();
    std::fs::remove_file(&broken).unwrap();
    assert!(error.contains("CEDAR_POLICIES_FILE"), "{error}");
    assert!(
        waited < Duration::from_secs(4),
        "waited {waited:?}: {error}"
    );
}

/// Every front door that answers with a policy answers the token's own, over every action
/// of the schema: HTTP API 1.0, HTTP API 2.0 with `http_api_response: policy`, and
/// WebSocket (its route keys are actions as they are).
#[tokio::test]
async fn every_policy_answer_front_door_answers_for_the_token() {
    let (policies, schema) = petstore();
    let mut doc = document(
        POOL,
        json!({"policies": policies, "schema": serde_json::from_str::<Value>(&schema).unwrap()}),
        None,
    );
    doc["gateway"] = json!({"http_api_response": "policy"});
    let authorizer = build(&doc).unwrap();
    let reader = token(POOL, json!({"cognito:groups": ["MyGroup"]}));
    let expected = [format!("{STAGE}/GET/pets"), format!("{STAGE}/GET/pets/*")];
    let mut v1 = http_v1(&format!("Bearer {reader}"));
    v1["methodArn"] = json!(format!("{STAGE}/GET/pets/scrappy"));
    let mut v2 = v2("GET/pets/scrappy", &reader);
    v2["routeArn"] = json!(format!("{STAGE}/GET/pets/scrappy"));
    for (door, event) in [("HTTP API 1.0", v1), ("HTTP API 2.0 policy", v2)] {
        let decided = decide(&authorizer, event).await;
        assert_eq!(decided.reason(), "ok", "{door}: {}", decided.detail());
        assert_eq!(
            decided.record.cedar.as_ref().unwrap().answer,
            Some("actions"),
            "{door}"
        );
        let answer = decided.allowed();
        assert_eq!(effect_of(&answer, "Allow"), expected, "{door}");
        assert!(
            !lets_through(&answer, &format!("{STAGE}/POST/pets")),
            "{door}: {answer}"
        );
    }
    // WebSocket: $connect and a custom route key, permitted by group.
    let ws_schema = r#"namespace Chat {
      entity UserGroup; entity Application; entity User in [UserGroup];
      action "$connect", "$disconnect", "sendMessage" appliesTo { principal: User, resource: Application };
    }"#;
    let ws_policies = r#"@id("members-connect") permit(principal in Chat::UserGroup::"us-east-1_EXAMPLE|member", action in [Chat::Action::"$connect", Chat::Action::"$disconnect"], resource);"#;
    let mut doc = document(POOL, store(ws_policies, ws_schema), None);
    doc["gateway"] = json!({"token_query_param": "token"});
    let authorizer = build(&doc).unwrap();
    let ws_stage = WS_ARN.trim_end_matches("/$connect");
    let member = token(POOL, json!({"cognito:groups": ["member"]}));
    let decided = decide(&authorizer, websocket(&member)).await;
    assert_eq!(decided.reason(), "ok", "{}", decided.detail());
    let answer = decided.allowed();
    assert_eq!(
        effect_of(&answer, "Allow"),
        [
            format!("{ws_stage}/$connect"),
            format!("{ws_stage}/$disconnect")
        ]
    );
    assert!(!lets_through(&answer, &format!("{ws_stage}/sendMessage")));
    let stranger = token(POOL, json!({"cognito:groups": ["other"]}));
    let decided = decide(&authorizer, websocket(&stranger)).await;
    assert_eq!(decided.reason(), "policy_denied", "{}", decided.detail());
}

/// `explain`'s options for a token judged offline now, against `arn` if given.
fn explain_options(arn: Option<&str>) -> token_verifier::tool::explain::Options {
    token_verifier::tool::explain::Options {
        offline: true,
        audience_known: true,
        arn: arn.map(str::to_owned),
        now: token_verifier::now(),
        client_cert: None,
        dpop: None,
    }
}

/// `explain` lists as the principal's attributes the claims it carries: those the
/// policies read and Cedar can hold (a null or a fraction is left out of the entity).
#[tokio::test]
async fn explain_lists_the_attributes_the_principal_carries() {
    use token_verifier::tool::explain::explain;
    let policies = r#"
        @id("pro") permit(principal, action == MyAPI::Action::"get /reports", resource) when { principal has plan && principal.plan == "pro" };
        @id("low-level") forbid(principal, action, resource) when { principal has level && principal.level < 1 };
        @id("acme") forbid(principal, action, resource) when { principal has email && principal.email like "*@blocked.example" };
    "#;
    let authorizer = build(&document(ISSUER, store(policies, SCHEMA), None)).unwrap();
    let reader = token(ISSUER, json!({"plan": "pro", "level": 2.5, "email": null}));
    let options = explain_options(Some(&format!("{STAGE}/GET/reports")));
    let report = explain(Some(&authorizer), &reader, &options).await;
    let cedar = report.cedar.clone().unwrap();
    assert_eq!(cedar.attributes, ["plan"]);
    assert_eq!(cedar.permitted, [r#"MyAPI::Action::"get /reports""#]);
}
