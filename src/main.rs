//! The Lambda function: configuration → authorizer (keys prefetched) → runtime loop.

use lambda_runtime::{LambdaEvent, service_fn};
use token_verifier::{Authorizer, AuthorizerEvent, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    token_verifier::logging::init();
    let authorizer = match Config::from_env()
        .map_err(token_verifier::InitError::from)
        .and_then(Authorizer::new)
    {
        Ok(authorizer) => authorizer,
        Err(error) => {
            tracing::error!(error = %error, "cannot start");
            return Err(error.into());
        }
    };
    authorizer.prefetch().await;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<AuthorizerEvent>| async move {
        authorizer.handle(event.payload).await
    }))
    .await
}
