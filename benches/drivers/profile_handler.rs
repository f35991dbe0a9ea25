//! Runs the warm request path in a loop, for profilers (`valgrind --tool=callgrind`,
//! `perf`): `cargo build --release --example profile_handler`. With `PROFILE_LOGGED=1`,
//! through `Authorizer::handle` with the decision log line written (to a sink) by the
//! subscriber `main` installs; with `PROFILE_EVENT=http_v2`, on the HTTP API 2.0 event;
//! with `PROFILE_EVENT=dpop`, on that event with a DPoP-bound token and a fresh ES256
//! proof each time (all signed before the loop: `decide` is the function to count).
//! With `PROFILE_CEDAR=N`, the workload's N Cedar policies over its 20 actions decide too
//! (groups from `permissions`); with `PROFILE_INIT=1` as well, the loop builds the
//! authorizer (policies parsed, validated, prepared) instead of deciding; with
//! `PROFILE_SEALED=1`, the set carries its check-config seal (parsed, not validated).

#![allow(clippy::unwrap_used, missing_docs, clippy::pedantic)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use token_verifier::Algorithm;
use token_verifier::tool::dev::workload::{self, AUDIENCE, ISSUER};
use token_verifier::tool::dev::{SigningKey, jwks};
use token_verifier::{Authorizer, AuthorizerEvent, Config, ConfigDocument, EnvConfig};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/rsa-a.pem"))
        .unwrap();
    let key = SigningKey::from_pem(&pem, "rsa-a", Algorithm::RS256).unwrap();
    let dpop = std::env::var("PROFILE_EVENT").as_deref() == Ok("dpop");
    let client_pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/keys/ec-p256.pem"
    ))
    .unwrap();
    let client = SigningKey::from_pem(&client_pem, "client", Algorithm::ES256).unwrap();
    let mut claims = workload::claims();
    if dpop {
        claims["cnf"] = serde_json::json!({"jkt": client.thumbprint()});
    }
    let token = key.mint(&claims).unwrap();
    let events: Vec<Vec<u8>> = if dpop {
        (0..iterations)
            .map(|i| {
                let proof = client
                    .dpop_proof(
                        "GET",
                        workload::HTTP_V2_URL,
                        Some(&token),
                        1_800_000_000.0,
                        &format!("jti-{i}"),
                    )
                    .unwrap();
                workload::http_v2_dpop_event(&token, &proof)
            })
            .collect()
    } else {
        Vec::new()
    };
    // PROFILE_EVENT=http_v2: the HTTP API payload 2.0 REQUEST event (simple response).
    let event = if std::env::var("PROFILE_EVENT").as_deref() == Ok("http_v2") {
        workload::http_v2_event(&token)
    } else {
        workload::event(&token)
    };
    let document = jwks(&[&key]).to_string();
    let cedar: Option<usize> = std::env::var("PROFILE_CEDAR")
        .ok()
        .and_then(|n| n.parse().ok());
    let env = EnvConfig::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(ISSUER.into()),
        "AUDIENCE" => Some(AUDIENCE.into()),
        "JWKS_JSON" => Some(document.clone()),
        "REQUIRED_SCOPES" => Some("read:messages".into()),
        "SENDER_CONSTRAINT" if dpop => Some("allow".into()),
        _ => None,
    })
    .unwrap();
    // The Cedar policies as a configuration document holds them (`authorization.cedar`).
    let cedar_document = cedar.map(|count| {
        serde_json::json!({"authorization": {"cedar": {
            "policies": workload::cedar_policies(count),
            "schema": workload::cedar_schema(),
            "group_claim": "permissions",
            "seal": std::env::var_os("PROFILE_SEALED").map(|_| workload::cedar_seal(
                &workload::cedar_policies(count),
                &workload::cedar_schema(),
            )),
        }}})
        .to_string()
    });
    let config = || {
        let document = cedar_document
            .as_deref()
            .map(|text| ConfigDocument::parse("profile.json", text).unwrap());
        Config::combine(&env, document).unwrap()
    };
    if cedar.is_some() && std::env::var_os("PROFILE_INIT").is_some() {
        for _ in 0..iterations {
            std::hint::black_box(Authorizer::new(config()).unwrap());
        }
        return;
    }
    let authorizer = Authorizer::new(config()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut total = 0;
    if std::env::var_os("PROFILE_LOGGED").is_some() {
        let filter = tracing_subscriber::EnvFilter::new(token_verifier::testing::filter_for(None));
        let subscriber = token_verifier::testing::subscriber(filter, std::io::sink);
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..iterations {
                let parsed: AuthorizerEvent =
                    token_verifier::tool::dev::lambda_event(&event).unwrap();
                let answer = runtime.block_on(authorizer.handle(parsed));
                total += serde_json::to_vec(&answer.unwrap()).unwrap().len();
            }
        });
        println!("{total}");
        return;
    }
    for i in 0..iterations {
        let event = events.get(i).unwrap_or(&event);
        let parsed: AuthorizerEvent = token_verifier::tool::dev::lambda_event(event).unwrap();
        let (answer, _) = runtime.block_on(authorizer.decide(parsed, 1_800_000_000.0));
        total += serde_json::to_vec(&answer.unwrap()).unwrap().len();
    }
    println!("{total}");
}
