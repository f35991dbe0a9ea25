//! Criterion benchmarks: the warm request path per algorithm against the bare signature
//! verification it cannot beat, and the pieces around it. `scripts/bench` runs them and
//! prints the ratios BENCHMARKS.md reports.
//!
//! Workload (as in shared/reference/performance-anchors.md): one Auth0-style access token
//! of about 1.1 KB — iss, sub, aud[2], iat, exp, azp, six scopes, three permissions, a
//! namespaced object claim and org_id — in a REST TOKEN event; keys cached.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::pedantic
)]

use std::hint::black_box;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use token_verifier::Algorithm;
use token_verifier::testing::KeySet;
use token_verifier::tool::dev::workload::{self, AUDIENCE, ISSUER};
use token_verifier::tool::dev::{SigningKey, jwks};
use token_verifier::{Authorizer, AuthorizerEvent, Config};

mod cedar;
mod ceiling;

// The allocator the Lambda binary ships with (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn key(file: &str, kid: &str, alg: Algorithm) -> SigningKey {
    let pem = std::fs::read_to_string(format!("{}/tests/keys/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    SigningKey::from_pem(&pem, kid, alg).unwrap()
}

struct Case {
    alg: Algorithm,
    token: String,
    event: Vec<u8>,
}

fn cases() -> (Vec<SigningKey>, Vec<Case>) {
    let rsa = key("rsa-a.pem", "rsa-a", Algorithm::RS256);
    let keys = vec![
        rsa,
        key("rsa-b.pem", "rsa-ps", Algorithm::PS256),
        key("ec-p256.pem", "ec-p256", Algorithm::ES256),
        key("ed25519.pem", "ed25519", Algorithm::EdDSA),
    ];
    let cases = keys
        .iter()
        .map(|k| {
            let token = k.mint(&workload::claims()).unwrap();
            let event = workload::event(&token);
            Case {
                alg: k.alg,
                token,
                event,
            }
        })
        .collect();
    (keys, cases)
}

/// The key set of `keys` as a JWKS document, and the configuration that verifies the
/// workload with it (the authorizer's also requires a scope).
fn workload_config(keys: &[SigningKey], required_scopes: Option<&str>) -> (Config, String) {
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let document = jwks(&refs).to_string();
    let config = Config::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(ISSUER.into()),
        "AUDIENCE" => Some(AUDIENCE.into()),
        "JWKS_JSON" => Some(document.clone()),
        "ALLOWED_ALGORITHMS" => Some("RS256,PS256,ES256,EdDSA".into()),
        "REQUIRED_SCOPES" => required_scopes.map(str::to_owned),
        _ => None,
    })
    .unwrap();
    (config, document)
}

fn authorizer(keys: &[SigningKey]) -> Authorizer {
    Authorizer::new(workload_config(keys, Some("read:messages")).0).unwrap()
}

/// A JWKS source that answers from memory.
struct InMemory(Vec<u8>);

impl token_verifier::testing::JwksSource for InMemory {
    fn fetch(
        &self,
    ) -> token_verifier::BoxFuture<'_, Result<Vec<u8>, token_verifier::testing::FetchError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

/// The event as lambda_runtime reads it (`dev::lambda_event`).
fn lambda_event(bytes: &[u8]) -> AuthorizerEvent {
    token_verifier::tool::dev::lambda_event(bytes).unwrap()
}

/// `iterations` decisions as in the Lambda runtime: already inside the async runtime, one
/// event after another, from the event's JSON bytes to the answer's JSON bytes.
fn decisions(
    runtime: &tokio::runtime::Runtime,
    authorizer: &Authorizer,
    event: &[u8],
    now: f64,
    iterations: u64,
) -> Duration {
    runtime.block_on(async {
        let started = std::time::Instant::now();
        for _ in 0..iterations {
            let (answer, _record) = authorizer.decide(lambda_event(black_box(event)), now).await;
            black_box(serde_json::to_vec(&answer.unwrap()).unwrap());
        }
        started.elapsed()
    })
}

/// Decisions of `events`, one after another, as [`decisions`] times one event.
fn decisions_of(
    runtime: &tokio::runtime::Runtime,
    authorizer: &Authorizer,
    events: &[Vec<u8>],
    now: f64,
) -> Duration {
    runtime.block_on(async {
        let started = std::time::Instant::now();
        for event in events {
            let (answer, record) = authorizer.decide(lambda_event(black_box(event)), now).await;
            debug_assert!(record.refusal.is_none(), "{:?}", record.refusal);
            black_box(serde_json::to_vec(&answer.unwrap()).unwrap());
        }
        started.elapsed()
    })
}

/// DPoP (RFC 9449): a whole decision of an HTTP API event with a DPoP-bound RS256 token
/// and a fresh ES256 proof (each iteration its own `jti`: the proofs are signed before
/// the clock starts), against the same authorizer's decision of a bearer token; and the
/// in-memory replay check alone.
fn bench_dpop(c: &mut Criterion, runtime: &tokio::runtime::Runtime, now: f64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use token_verifier::testing::{ReplayMemory, Seen};
    let rsa = key("rsa-a.pem", "rsa-a", Algorithm::RS256);
    let client = key("ec-p256.pem", "client", Algorithm::ES256);
    let document = jwks(&[&rsa]).to_string();
    let config = Config::from_lookup(|name| match name {
        "TOKEN_ISSUER" => Some(ISSUER.into()),
        "AUDIENCE" => Some(AUDIENCE.into()),
        "JWKS_JSON" => Some(document.clone()),
        "REQUIRED_SCOPES" => Some("read:messages".into()),
        "SENDER_CONSTRAINT" => Some("allow".into()),
        // Room for every proof of the run: `now` is fixed, so none expires.
        "DPOP_REPLAY_CAPACITY" => Some("10000000".into()),
        _ => None,
    })
    .unwrap();
    let authorizer = Authorizer::new(config).unwrap();
    let mut claims = workload::claims();
    claims["cnf"] = serde_json::json!({"jkt": client.thumbprint()});
    let bound = rsa.mint(&claims).unwrap();
    let bearer = rsa.mint(&workload::claims()).unwrap();
    let counter = AtomicU64::new(0);
    let proof = |jti: u64| {
        client
            .dpop_proof(
                "GET",
                workload::HTTP_V2_URL,
                Some(&bound),
                now,
                &format!("jti-{jti}"),
            )
            .unwrap()
    };
    let first = workload::http_v2_dpop_event(&bound, &proof(u64::MAX));
    let (answer, record) = runtime.block_on(authorizer.decide(lambda_event(&first), now));
    assert!(
        answer.is_ok() && record.refusal.is_none(),
        "{:?}",
        record.refusal
    );
    c.bench_function("dpop/handler_http_v2_ES256_proof", |b| {
        // Proofs are signed in batches of 64 before the clock starts for them (so the
        // events are in cache, as one event in the function is).
        b.iter_custom(|n| {
            let mut total = Duration::ZERO;
            let mut left = n;
            while left > 0 {
                let batch = left.min(64);
                left -= batch;
                let events: Vec<Vec<u8>> = (0..batch)
                    .map(|_| {
                        let jti = counter.fetch_add(1, Ordering::Relaxed);
                        workload::http_v2_dpop_event(&bound, &proof(jti))
                    })
                    .collect();
                total += decisions_of(runtime, &authorizer, &events, now);
            }
            total
        });
    });
    // The proof alone, and its parts: the checks the RFC asks for around one ES256
    // verification (parsing, the jwk, the thumbprint, the URL, the hash of the token).
    let settings = token_verifier::settings::DpopSettings::default();
    let one = proof(0);
    let jkt = client.thumbprint();
    assert!(
        token_verifier::testing::verify_proof(
            &one,
            "GET",
            workload::HTTP_V2_URL,
            &bound,
            &jkt,
            &settings,
            60,
            now
        )
        .is_ok()
    );
    c.bench_function("dpop/proof_ES256", |b| {
        b.iter(|| {
            token_verifier::testing::verify_proof(
                black_box(&one),
                "GET",
                workload::HTTP_V2_URL,
                black_box(&bound),
                &jkt,
                &settings,
                60,
                now,
            )
        });
    });
    let jwk = client.bare_public_jwk();
    c.bench_function("dpop/parts/jwk_to_key", |b| {
        b.iter(|| {
            token_verifier::testing::VerificationKey::from_jwk_for_bench(
                black_box(jwk.clone()),
                Algorithm::ES256,
            )
        });
    });
    c.bench_function("dpop/parts/normalise_url", |b| {
        b.iter(|| token_verifier::testing::normalise_url(black_box(workload::HTTP_V2_URL)));
    });
    c.bench_function("dpop/parts/ath", |b| {
        b.iter(|| token_verifier::testing::access_token_hash(black_box(&bound)));
    });
    // The same event again and again: every check runs, and the replay check refuses it
    // at the end (no insert into the replay memory).
    let replayed = workload::http_v2_dpop_event(&bound, &proof(u64::MAX - 1));
    c.bench_function("dpop/handler_http_v2_replayed_proof", |b| {
        b.iter(|| runtime.block_on(authorizer.decide(lambda_event(black_box(&replayed)), now)));
    });
    let bearer_event = workload::http_v2_event(&bearer);
    c.bench_function("dpop/handler_http_v2_bearer", |b| {
        b.iter_custom(|n| decisions(runtime, &authorizer, &bearer_event, now, n));
    });
    c.bench_function("dpop/replay_memory", |b| {
        b.iter_custom(|n| {
            let mut memory = ReplayMemory::new(usize::MAX);
            let keys: Vec<[u8; 16]> = (0..n)
                .map(|i| {
                    let digest =
                        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &i.to_le_bytes());
                    let mut key = [0; 16];
                    key.copy_from_slice(&digest.as_ref()[..16]);
                    key
                })
                .collect();
            let started = std::time::Instant::now();
            for key in keys {
                assert_eq!(memory.record(black_box(key), now + 61.0, now), Seen::Fresh);
            }
            started.elapsed()
        });
    });
}

fn bench(c: &mut Criterion) {
    let (keys, cases) = cases();
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let set = KeySet::parse(jwks(&refs).to_string().as_bytes(), &Algorithm::ALL).unwrap();
    let authorizer = authorizer(&keys);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let now = 1_800_000_000.0;
    bench_dpop(c, &runtime, now);
    cedar::bench_cedar(
        c,
        &runtime,
        &key("rsa-a.pem", "rsa-a", Algorithm::RS256),
        now,
    );

    for case in &cases {
        let (input, sig) = case.token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let kid = serde_json::from_slice::<Value>(
            &URL_SAFE_NO_PAD
                .decode(input.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned();
        let verifying = set.select(Some(&kid), case.alg).unwrap();
        assert!(verifying.verify(case.alg, input.as_bytes(), &sig));
        c.bench_function(&format!("bare_verify/{}", case.alg), |b| {
            b.iter(|| {
                assert!(verifying.verify(case.alg, black_box(input.as_bytes()), black_box(&sig)))
            });
        });
        c.bench_function(&format!("handler/{}", case.alg), |b| {
            b.iter_custom(|n| decisions(&runtime, &authorizer, &case.event, now, n));
        });
        if case.alg == Algorithm::RS256 {
            // The decision alone: the event already read (a clone of it), the answer not
            // serialized. handler − this = what lambda_runtime's serde contract costs.
            let parsed: AuthorizerEvent = lambda_event(&case.event);
            c.bench_function("decide_only/RS256", |b| {
                b.iter_custom(|n| {
                    runtime.block_on(async {
                        let started = std::time::Instant::now();
                        for _ in 0..n {
                            let (answer, _record) =
                                authorizer.decide(black_box(&parsed).clone(), now).await;
                            black_box(answer.unwrap());
                        }
                        started.elapsed()
                    })
                });
            });
        }
    }

    // The same token through the tower layer (src/layer): an HTTP request as lambda_http or
    // axum hands it over, verified, the route judged, `Verified` put in its extensions,
    // the inner service called. Against bare_verify as the handler is.
    {
        use tower::{Service as _, ServiceExt as _};
        let shared = Authorizer::new(workload_config(&keys, Some("read:messages")).0).unwrap();
        let layer = token_verifier::layer::VerifyLayer::new(std::sync::Arc::new(shared));
        let mut service = tower::ServiceBuilder::new()
            .layer(layer)
            .service(tower::service_fn(
                |request: http::Request<String>| async move {
                    let verified = request
                        .extensions()
                        .get::<token_verifier::layer::Verified>()
                        .is_some();
                    Ok::<_, std::convert::Infallible>(http::Response::new(if verified {
                        String::new()
                    } else {
                        "refused".to_owned()
                    }))
                },
            ));
        let bearer = format!("Bearer {}", cases[0].token);
        let request = || {
            http::Request::get("/messages")
                .header("host", "abcdef1234.execute-api.us-east-1.amazonaws.com")
                .header("user-agent", "curl/8.5.0")
                .header("authorization", black_box(bearer.as_str()))
                .body(String::new())
                .unwrap()
        };
        let first = runtime
            .block_on(async { service.ready().await.unwrap().call(request()).await })
            .unwrap();
        assert_eq!(
            (first.status().as_u16(), first.body().as_str()),
            (200, ""),
            "the layer allows"
        );
        c.bench_function("layer/RS256", |b| {
            b.iter_custom(|n| {
                runtime.block_on(async {
                    let started = std::time::Instant::now();
                    for _ in 0..n {
                        let response = service.ready().await.unwrap().call(request()).await;
                        black_box(response.unwrap());
                    }
                    started.elapsed()
                })
            });
        });
    }

    // The same token in an HTTP API payload 2.0 REQUEST event (simple response): the
    // bigger event most new HTTP APIs send.
    let http_v2 = workload::http_v2_event(&cases[0].token);
    let http_v2_answer = runtime
        .block_on(authorizer.decide(lambda_event(&http_v2), now))
        .0;
    assert_eq!(
        serde_json::to_value(http_v2_answer.unwrap()).unwrap()["isAuthorized"],
        true,
        "the HTTP API 2.0 event is allowed, with a simple response"
    );
    c.bench_function("handler_http_v2/RS256", |b| {
        b.iter_custom(|n| decisions(&runtime, &authorizer, &http_v2, now, n));
    });
    c.bench_function("event/deserialize_http_v2", |b| {
        b.iter(|| black_box(lambda_event(black_box(&http_v2))));
    });

    // The same with the decision log line formatted as in Lambda (JSON, to a sink): the
    // subscriber `main` installs, then tracing-subscriber's own JSON format for comparison.
    let logged_event = cases[0].event.clone();
    let mut logged = |name: &str, subscriber: tracing::Dispatch| {
        tracing::dispatcher::with_default(&subscriber, || {
            c.bench_function(name, |b| {
                b.iter_custom(|iterations| {
                    runtime.block_on(async {
                        let started = std::time::Instant::now();
                        for _ in 0..iterations {
                            let event = lambda_event(black_box(&logged_event));
                            black_box(
                                serde_json::to_vec(&authorizer.handle(event).await.unwrap())
                                    .unwrap(),
                            );
                        }
                        started.elapsed()
                    })
                });
            });
        });
    };
    let filter = || tracing_subscriber::EnvFilter::new(token_verifier::testing::filter_for(None));
    logged(
        "handler_logged/RS256",
        tracing::Dispatch::new(token_verifier::testing::subscriber(filter(), std::io::sink)),
    );
    logged(
        "handler_logged_generic/RS256",
        tracing::Dispatch::new(token_verifier::tool::dev::generic_json_subscriber(
            filter(),
            std::io::sink,
        )),
    );

    let claims = match workload::claims() {
        Value::Object(map) => token_verifier::Claims::from_map(&map),
        _ => unreachable!(),
    };
    let context = token_verifier::settings::ContextSettings {
        claims: None,
        max_bytes: 4096,
    };
    c.bench_function("context/flat", |b| {
        b.iter_batched(
            || claims.clone(),
            |c| black_box(token_verifier::testing::flat(c, &context)),
            criterion::BatchSize::SmallInput,
        );
    });
    c.bench_function("context/native", |b| {
        b.iter_batched(
            || claims.clone(),
            |c| black_box(token_verifier::testing::native(c, &context)),
            criterion::BatchSize::SmallInput,
        );
    });
    let document = jwks(&refs).to_string();
    c.bench_function("jwks/parse_4_keys", |b| {
        b.iter(|| {
            black_box(KeySet::parse(black_box(document.as_bytes()), &Algorithm::ALL).unwrap())
        });
    });
    // A refresh as the cache does it when the TTL ran out or an unknown kid arrived:
    // fetch (here an in-memory source, so the network is not measured: the cold-start
    // script measures a loopback fetch), parse and check every key, swap the set in.
    let refreshing = token_verifier::testing::KeyCache::new(
        std::sync::Arc::new(InMemory(document.clone().into_bytes())),
        Algorithm::ALL.to_vec(),
        token_verifier::settings::CacheSettings {
            ttl: Duration::ZERO,
            stale: Duration::from_secs(3600),
            cooldown: Duration::ZERO,
            retry: Duration::ZERO,
        },
    );
    runtime.block_on(async {
        refreshing
            .key(Some("rsa-a"), Algorithm::RS256)
            .await
            .unwrap();
        refreshing
            .key(Some("rsa-a"), Algorithm::RS256)
            .await
            .unwrap();
    });
    assert_eq!(refreshing.fetch_count(), 2, "every lookup refreshes");
    c.bench_function("jwks/refresh_4_keys", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = std::time::Instant::now();
                for _ in 0..iterations {
                    black_box(
                        refreshing
                            .key(Some("rsa-a"), Algorithm::RS256)
                            .await
                            .unwrap(),
                    );
                }
                started.elapsed()
            })
        });
    });

    let token = &cases[0].token;
    let verifier = {
        let (config, document) = workload_config(&keys, None);
        let issuer = config.issuers.into_iter().next().unwrap();
        let keys = KeySet::parse(document.as_bytes(), &issuer.algorithms).unwrap();
        token_verifier::testing::Verifier::new(
            vec![token_verifier::testing::Issuer {
                config: issuer,
                keys: std::sync::Arc::new(token_verifier::testing::KeyCache::fixed(keys)),
            }],
            16384,
        )
    };
    c.bench_function("verify/RS256", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let started = std::time::Instant::now();
                for _ in 0..iterations {
                    let mut facts = token_verifier::TokenFacts::default();
                    black_box(
                        verifier
                            .verify(black_box(token), now, &mut facts)
                            .await
                            .unwrap(),
                    );
                }
                started.elapsed()
            })
        });
    });
    c.bench_function("event/deserialize", |b| {
        b.iter(|| black_box(lambda_event(black_box(&cases[0].event))));
    });
    // The event read for the decision: shape, route ARN, credential.
    let gateway = workload_config(&keys, None).0.gateway;
    for (name, event) in [
        ("event/into_request", &cases[0].event),
        ("event/into_request_http_v2", &http_v2),
    ] {
        let event = lambda_event(event);
        c.bench_function(name, |b| {
            b.iter_batched(
                || event.clone(),
                |event| black_box(event.into_request(&gateway).unwrap()),
                criterion::BatchSize::SmallInput,
            );
        });
    }
    let answer = runtime
        .block_on(authorizer.decide(lambda_event(&cases[0].event), now))
        .0
        .unwrap();
    c.bench_function("answer/serialize", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&answer)).unwrap()))
    });
    c.bench_function("token/parse", |b| {
        b.iter(|| black_box(token_verifier::testing::parse(black_box(token), 16384).unwrap()))
    });
    let metrics = token_verifier::settings::MetricsSettings::default();
    c.bench_function("metrics/decision_line", |b| {
        b.iter(|| {
            black_box(token_verifier::testing::decision_line(
                &metrics,
                &token_verifier::testing::DecisionMetrics {
                    outcome: "allow",
                    reason: "ok",
                    latency_us: 17,
                    stale_keys: false,
                    cooled_down: false,
                    opaque: None,
                },
                1_800_000_000_000,
            ))
        })
    });
    // The floor under `token/parse`: what any JSON reading of the same claims costs. How
    // much a zero-copy claims representation could save (BENCHMARKS.md).
    let payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    let payload = std::str::from_utf8(&payload).unwrap();
    c.bench_function("json_floor/strict_map", |b| {
        b.iter(|| {
            black_box(token_verifier::testing::parse_object(black_box(payload.as_bytes())).unwrap())
        })
    });
    c.bench_function("json_floor/value", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(payload)).unwrap()))
    });
    c.bench_function("json_floor/raw_slices", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_str::<
                    std::collections::BTreeMap<&str, &serde_json::value::RawValue>,
                >(black_box(payload))
                .unwrap(),
            )
        })
    });
    c.bench_function("json_floor/validate_only", |b| {
        b.iter(|| {
            black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(payload)).unwrap())
        })
    });
    c.bench_function("claims/workload", |b| {
        b.iter(|| black_box(token_verifier::Claims::parse(black_box(payload).to_owned()).unwrap()))
    });
    // A payload built to make duplicate detection expensive: 1,330 member names, each with
    // an escape (about 12 KB, under the 16 KiB token cap). Quadratic detection took 78 ms
    // here; sorted at the object's end it is n log n.
    let crowded = format!(
        "{{{}}}",
        (0..1_330)
            .map(|i| format!(r#""\/{i:04}":0"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    c.bench_function("claims/1330_escaped_names", |b| {
        b.iter(|| black_box(token_verifier::Claims::parse(black_box(&crowded).clone()).unwrap()))
    });
    c.bench_function("json_floor/1330_escaped_names_strict_map", |b| {
        b.iter(|| {
            black_box(token_verifier::testing::parse_object(black_box(crowded.as_bytes())).unwrap())
        })
    });
    // The floor under `handler/RS256`: the least any authorizer must do between the
    // event's bytes and the answer's — read the event without copying, split and decode
    // the token, check that header and payload are JSON (reading no claim, checking none),
    // verify the signature, write an Allow with the payload as it is. What is left for
    // every check, the context conversion and the log facts (BENCHMARKS.md).
    let rsa = set.select(Some("rsa-a"), Algorithm::RS256).unwrap();
    let rsa_event = cases[0].event.clone();
    c.bench_function("floor/pipeline_RS256", |b| {
        b.iter(|| black_box(floor_pipeline(black_box(&rsa_event), rsa)))
    });
    // The ceiling: the same decision, zero-copy, its JSON read by a hand-written strict
    // scanner (benches/ceiling/mod.rs). Same answer.
    let policy = ceiling::Policy {
        issuer: ISSUER,
        audience: AUDIENCE,
        required_scope: "read:messages",
        now,
    };
    let (written, _) = ceiling::decide(&rsa_event, rsa, &policy);
    // (Objects flattened into context strings compared as JSON: their members' order is
    // serde_json's, which its `preserve_order` feature — switched on by the Cedar crates —
    // makes the source's, while the authorizer writes them by name.)
    let unflat = |mut answer: Value| {
        if let Some(context) = answer["context"].as_object_mut() {
            for value in context.values_mut() {
                if let Some(inner) = value.as_str().and_then(|s| serde_json::from_str(s).ok()) {
                    *value = inner;
                }
            }
        }
        answer
    };
    assert_eq!(
        unflat(serde_json::from_slice::<Value>(&written).unwrap()),
        unflat(serde_json::to_value(&answer).unwrap()),
        "the ceiling answers exactly what the authorizer answers"
    );
    c.bench_function("ceiling/zero_copy_RS256", |b| {
        b.iter(|| black_box(ceiling::decide(black_box(&rsa_event), rsa, &policy)))
    });
    c.bench_function("fingerprint", |b| {
        b.iter(|| black_box(token_verifier::testing::fingerprint(black_box(token))))
    });
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MinimalEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    authorization_token: &'a str,
    method_arn: &'a str,
}

fn floor_pipeline(event: &[u8], key: &token_verifier::testing::VerificationKey) -> Vec<u8> {
    use serde::de::IgnoredAny;
    let event: MinimalEvent = serde_json::from_slice(event).unwrap();
    assert_eq!(event.kind, "TOKEN");
    let token = event.authorization_token.strip_prefix("Bearer ").unwrap();
    let mut dots = memchr::memchr_iter(b'.', token.as_bytes());
    let (first, second) = (dots.next().unwrap(), dots.next().unwrap());
    assert!(dots.next().is_none());
    let decode = |s: &str| base64_simd::URL_SAFE_NO_PAD.decode_to_vec(s).unwrap();
    let header = decode(&token[..first]);
    serde_json::from_slice::<IgnoredAny>(&header).unwrap();
    let payload = String::from_utf8(decode(&token[first + 1..second])).unwrap();
    serde_json::from_str::<IgnoredAny>(&payload).unwrap();
    let signature = decode(&token[second + 1..]);
    assert!(key.verify(Algorithm::RS256, &token.as_bytes()[..second], &signature));
    let mut answer = Vec::with_capacity(payload.len() + 256);
    answer.extend_from_slice(br#"{"principalId":"user","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":[""#);
    answer.extend_from_slice(event.method_arn.as_bytes());
    answer.extend_from_slice(br#""]}]},"context":"#);
    answer.extend_from_slice(payload.as_bytes());
    answer.push(b'}');
    answer
}

fn config() -> Criterion {
    let quick = std::env::var("BENCH_QUICK").is_ok();
    Criterion::default()
        .warm_up_time(Duration::from_millis(if quick { 100 } else { 1000 }))
        .measurement_time(Duration::from_millis(if quick { 300 } else { 3000 }))
        .sample_size(if quick { 10 } else { 50 })
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);
