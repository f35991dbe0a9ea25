//! Cedar policies end to end: the set in its own SSM parameter (moto), the built
//! authorizer under the Lambda emulator, real access tokens of the OpenID Provider; the
//! decision line names the determining policies, and a new set is taken on reload; a set
//! under its own seal is not validated again, at init or on reload.

use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::{Emulator, policy_allows};
use crate::moto::Moto;
use crate::provider::Provider;

const RESOURCE: &str = "https://api.example.com/rs256";
const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";

const SCHEMA: &str = r#"namespace Messages {
  entity UserGroup;
  entity Application;
  entity User in [UserGroup];
  action "get /messages", "post /messages", "delete /messages/{id}"
    appliesTo { principal: User, resource: Application, context: { scopes: Set<String> } };
}"#;

/// The set with a seal: its own (as `check-config` prints it), or another set's.
fn sealed(policies: &str, seal_of: &str) -> String {
    let seal = token_verifier::tool::dev::workload::cedar_seal(seal_of, SCHEMA);
    json!({"policies": policies, "schema": SCHEMA, "seal": seal}).to_string()
}

/// The resources the answer's first statement allows.
fn allows(answer: &Value) -> Vec<String> {
    if !policy_allows(answer) {
        return Vec::new();
    }
    answer["policyDocument"]["Statement"][0]["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

fn event(route: &str, token: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": format!("{STAGE}/{route}")})
}

#[tokio::test]
#[ignore = "needs the Lambda emulator, moto and Node; run scripts/test"]
async fn provider_tokens_are_judged_by_policies_from_ssm_and_a_new_set_is_taken() {
    let provider = Provider::start("cedar", None, "1").await;
    let moto = Moto::start("cedar").await;
    // The provider's client `svc` as Verified Permissions names an OIDC principal: the
    // issuer without its scheme, a bar, the sub.
    let principal = format!(
        "Messages::User::\"{}|svc\"",
        provider
            .issuer
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    );
    let readers = format!(
        "@id(\"readers\") permit(principal, action == Messages::Action::\"get /messages\", resource) when {{ context.scopes.contains(\"read:messages\") }};\n\
         @id(\"svc-writes\") permit(principal == {principal}, action == Messages::Action::\"post /messages\", resource);\n\
         @id(\"no-deletes\") forbid(principal, action == Messages::Action::\"delete /messages/{{id}}\", resource);\n\
         @id(\"svc-deletes\") permit(principal == {principal}, action == Messages::Action::\"delete /messages/{{id}}\", resource);"
    );
    // Sealed, as check-config printed it: the function starts without validating it again.
    moto.put("/tv/cedar", &sealed(&readers, &readers), false)
        .await;
    let ssm = moto.env();
    let mut vars: Vec<(&str, &str)> = ssm.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend_from_slice(&[
        ("TOKEN_ISSUER", provider.issuer.as_str()),
        ("AUDIENCE", RESOURCE),
        ("CEDAR_PARAMETER", "/tv/cedar"),
        ("CONFIG_TTL_SECONDS", "1"),
    ]);
    let emulator = Emulator::start("cedar", &vars).await;
    let token = provider.access_token(Some(RESOURCE)).await;

    let answer = emulator.invoke(&event("GET/messages", &token)).await;
    assert!(policy_allows(&answer), "{answer}\n{}", emulator.log());
    assert!(
        emulator
            .log()
            .contains("Cedar policies carry their own seal"),
        "{}",
        emulator.log()
    );
    // One policy for every route of the token: the two it may call.
    let allowed = &answer["policyDocument"]["Statement"][0]["Resource"];
    assert_eq!(
        allowed,
        &json!([
            format!("{STAGE}/GET/messages"),
            format!("{STAGE}/POST/messages")
        ]),
        "{answer}"
    );
    // forbid wins over the permit of the same principal: the same policy (DELETE is not
    // in it: API Gateway answers 403), and the decision line names the forbid.
    let answer = emulator.invoke(&event("DELETE/messages/7", &token)).await;
    assert!(
        !allows(&answer).contains(&format!("{STAGE}/DELETE/messages/7")),
        "{answer}"
    );
    assert_eq!(allows(&answer).len(), 2, "{answer}");
    let decisions = emulator.decisions();
    let last = decisions.last().unwrap();
    assert_eq!(last["reason"], "policy_denied", "{last}");
    assert_eq!(last["cedar_policies"], "no-deletes", "{last}");
    assert_eq!(
        last["cedar_action"],
        "Messages::Action::\"delete /messages/{id}\""
    );
    assert!(
        last["hint"].as_str().unwrap().contains(&principal),
        "{last}"
    );
    assert!(
        !emulator.log().contains(&token),
        "the token is never logged"
    );

    // A set that does not validate, under the good set's seal: validated all the same,
    // logged, the last good one kept.
    moto.put(
        "/tv/cedar",
        &sealed(
            "permit(principal, action == Messages::Action::\"get /nothing\", resource);",
            &readers,
        ),
        false,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = emulator.invoke(&event("POST/messages", &token)).await;
    assert!(
        allows(&answer).contains(&format!("{STAGE}/POST/messages")),
        "{answer}"
    );
    assert!(
        emulator
            .log()
            .contains("keeping the last good configuration"),
        "{}",
        emulator.log()
    );
    // A good new set is taken, under its own seal, which the reload trusts as init did:
    // svc may no longer write.
    let next = readers.replace("post /messages", "delete /messages/{id}");
    moto.put("/tv/cedar", &sealed(&next, &next), false).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = emulator.invoke(&event("POST/messages", &token)).await;
    assert_eq!(
        allows(&answer),
        [format!("{STAGE}/GET/messages")],
        "{answer}\n{}",
        emulator.log()
    );
    assert_eq!(
        emulator.decisions().last().unwrap()["reason"],
        "policy_denied"
    );
    assert_eq!(
        emulator
            .log()
            .matches("Cedar policies carry their own seal")
            .count(),
        2,
        "at init and on this reload: {}",
        emulator.log()
    );
}
