//! Cedar policies in the authorizer (issue: a decision with 50 policies over 20 actions,
//! the all-actions policy answer, init with 500 policies), each against the same
//! authorizer without Cedar in the same run: the difference is what Cedar costs.

use std::hint::black_box;

use criterion::Criterion;
use serde_json::json;
use token_verifier::tool::dev::workload::{self, AUDIENCE, ISSUER};
use token_verifier::tool::dev::{SigningKey, jwks};
use token_verifier::{Authorizer, Config, ConfigDocument, EnvConfig};

use super::{decisions, lambda_event};

/// A configuration document for the workload's issuer, with `policies` Cedar policies
/// (groups from `permissions`), or none.
pub(crate) fn document(rsa: &SigningKey, policies: Option<usize>) -> String {
    document_with(rsa, policies, false)
}

/// The same, with the set's seal (as `check-config` prints it) when `sealed`.
fn document_with(rsa: &SigningKey, policies: Option<usize>, sealed: bool) -> String {
    let mut doc = json!({
        "issuers": [{"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks(&[rsa])}],
    });
    if let Some(count) = policies {
        doc["authorization"] = json!({"cedar": {
            "policies": workload::cedar_policies(count),
            "schema": workload::cedar_schema(),
            "group_claim": "permissions",
        }});
        if sealed {
            doc["authorization"]["cedar"]["seal"] =
                workload::cedar_seal(&workload::cedar_policies(count), &workload::cedar_schema())
                    .into();
        }
    }
    doc.to_string()
}

pub(crate) fn authorizer(text: &str) -> Authorizer {
    let env = EnvConfig::from_lookup(|_| None).unwrap();
    let document = ConfigDocument::parse("bench.json", text).unwrap();
    Authorizer::new(Config::combine(&env, Some(document)).unwrap()).unwrap()
}

pub(crate) fn bench_cedar(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    rsa: &SigningKey,
    now: f64,
) {
    let token = rsa.mint(&workload::claims()).unwrap();
    let plain = authorizer(&document(rsa, None));
    let cedar = authorizer(&document(rsa, Some(50)));
    let http_v2 = workload::http_v2_event(&token);
    let rest = workload::event(&token);
    // The workload's token may call GET /messages (readers-3, group-0 ...), and its REST
    // policy answer names what it may call of the 20 actions.
    for event in [&http_v2, &rest] {
        let (answer, record) = runtime.block_on(cedar.decide(lambda_event(event), now));
        assert!(
            answer.is_ok() && record.refusal.is_none(),
            "{:?}",
            record.refusal
        );
    }
    let (answer, record) = runtime.block_on(cedar.decide(lambda_event(&rest), now));
    assert_eq!(record.cedar.as_ref().unwrap().answer, Some("actions"));
    let policy = serde_json::to_value(answer.unwrap()).unwrap();
    assert!(
        policy["policyDocument"]["Statement"][0]["Resource"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
    c.bench_function("cedar/handler_http_v2_without_cedar", |b| {
        b.iter_custom(|n| decisions(runtime, &plain, &http_v2, now, n));
    });
    c.bench_function("cedar/handler_http_v2_50_policies", |b| {
        b.iter_custom(|n| decisions(runtime, &cedar, &http_v2, now, n));
    });
    c.bench_function("cedar/handler_rest_without_cedar", |b| {
        b.iter_custom(|n| decisions(runtime, &plain, &rest, now, n));
    });
    c.bench_function("cedar/handler_rest_50_policies_all_20_actions", |b| {
        b.iter_custom(|n| decisions(runtime, &cedar, &rest, now, n));
    });
    let plain_text = document(rsa, None);
    let text_50 = document(rsa, Some(50));
    let text_500 = document(rsa, Some(500));
    c.bench_function("cedar/init_without_cedar", |b| {
        b.iter(|| black_box(authorizer(black_box(&plain_text))));
    });
    c.bench_function("cedar/init_50_policies", |b| {
        b.iter(|| black_box(authorizer(black_box(&text_50))));
    });
    c.bench_function("cedar/init_500_policies", |b| {
        b.iter(|| black_box(authorizer(black_box(&text_500))));
    });
    // Sealed by check-config: parsed and prepared, not validated again.
    let sealed_50 = document_with(rsa, Some(50), true);
    let sealed_500 = document_with(rsa, Some(500), true);
    c.bench_function("cedar/init_50_policies_sealed", |b| {
        b.iter(|| black_box(authorizer(black_box(&sealed_50))));
    });
    c.bench_function("cedar/init_500_policies_sealed", |b| {
        b.iter(|| black_box(authorizer(black_box(&sealed_500))));
    });
    // The floor under a sealed init: Cedar's own parser on the same 500 policies, with
    // nothing of token-verifier's, from Cedar's text and from its JSON policy format.
    let policies_500 = workload::cedar_policies(500);
    let json_500 = policies_500
        .parse::<cedar_policy::PolicySet>()
        .unwrap()
        .to_json()
        .unwrap()
        .to_string();
    c.bench_function("cedar/parse_500_policies_cedar_alone", |b| {
        b.iter(|| {
            black_box(
                black_box(&policies_500)
                    .parse::<cedar_policy::PolicySet>()
                    .unwrap(),
            )
        });
    });
    c.bench_function("cedar/parse_500_policies_cedar_json_alone", |b| {
        b.iter(|| black_box(cedar_policy::PolicySet::from_json_str(black_box(&json_500)).unwrap()));
    });
}
