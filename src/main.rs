//! The Lambda function: configuration (environment, and SSM when asked) → authorizer
//! (keys prefetched) → runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use token_verifier::config::EnvConfig;
use token_verifier::{Authorizer, AuthorizerEvent, InitError};

/// mimalloc: the request path allocates a few dozen small objects; measured 2 % faster
/// than glibc's allocator on the warm path (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    token_verifier::logging::init();
    let loaded = match EnvConfig::from_lookup(|name| std::env::var(name).ok()) {
        Ok(env) => {
            let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
            token_verifier::metrics::init(&env.metrics, level.as_deref());
            Authorizer::load(env).await
        }
        Err(error) => Err(InitError::from(error)),
    };
    let authorizer = match loaded {
        Ok(authorizer) => authorizer,
        Err(error) => {
            tracing::error!(error = %error, "cannot start");
            return Err(error.into());
        }
    };
    authorizer.prefetch().await;
    tracing::info!(
        init_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "ready"
    );
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<AuthorizerEvent>| async move {
            authorizer.handle(event.payload).await
        },
    ))
    .await
}
