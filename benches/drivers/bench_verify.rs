//! Our side of `scripts/bench-peers`: verification throughput on the same tokens and keys
//! as the peers, single-threaded, wall clock. usage: `bench_verify DIR SECONDS`
//! (DIR holds jwks.json and RS256.token, ES256.token, EdDSA.token). Prints one JSON line.

#![allow(clippy::unwrap_used, missing_docs, clippy::pedantic)]

use std::time::{Duration, Instant};

use serde_json::json;
use token_verifier::testing::KeyCache;
use token_verifier::testing::KeySet;
use token_verifier::tool::dev::workload::{self, AUDIENCE, ISSUER};
use token_verifier::{Authorizer, AuthorizerEvent, Config};
use token_verifier::{
    TokenFacts,
    testing::{Issuer, Verifier},
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rate(seconds: f64, mut f: impl FnMut()) -> u64 {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(300) {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    (n as f64 / start.elapsed().as_secs_f64()).round() as u64
}

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let seconds: f64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let jwks = std::fs::read_to_string(format!("{dir}/jwks.json")).unwrap();
    let config = Config::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(ISSUER.into()),
        "AUDIENCE" => Some(AUDIENCE.into()),
        "JWKS_JSON" => Some(jwks.clone()),
        "ALLOWED_ALGORITHMS" => Some("RS256,ES256,EdDSA".into()),
        _ => None,
    })
    .unwrap();
    let issuer = config.issuers[0].clone();
    let keys = KeySet::parse(jwks.as_bytes(), &issuer.algorithms).unwrap();
    let verifier = Verifier::new(
        vec![Issuer {
            config: issuer,
            keys: std::sync::Arc::new(KeyCache::fixed(keys)),
        }],
        16384,
    );
    let authorizer = Authorizer::new(config).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut verify = serde_json::Map::new();
    let mut handler = serde_json::Map::new();
    for alg in ["RS256", "ES256", "EdDSA"] {
        let token = std::fs::read_to_string(format!("{dir}/{alg}.token")).unwrap();
        let token = token.trim();
        let now = 1_800_000_000.0;
        runtime.block_on(async {
            let mut facts = TokenFacts::default();
            verifier.verify(token, now, &mut facts).await.unwrap();
        });
        let ops = rate(seconds, || {
            runtime.block_on(async {
                let mut facts = TokenFacts::default();
                std::hint::black_box(verifier.verify(token, now, &mut facts).await.unwrap());
            });
        });
        verify.insert(alg.into(), json!(ops));
        let event = workload::event(token);
        let ops = rate(seconds, || {
            runtime.block_on(async {
                let event: AuthorizerEvent = serde_json::from_slice(&event).unwrap();
                let (answer, _) = authorizer.decide(event, now).await;
                std::hint::black_box(serde_json::to_vec(&answer.unwrap()).unwrap());
            });
        });
        handler.insert(alg.into(), json!(ops));
    }
    println!(
        "{}",
        json!({"token-verifier (verify)": verify, "token-verifier (event to answer)": handler})
    );
}
