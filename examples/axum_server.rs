//! An axum server behind token-verifier's tower layer: the authorizer's configuration from
//! the environment (`TOKEN_ISSUER`, `AUDIENCE`, `IDP_PRESET`, `CONFIG_PARAMETER`, route
//! rules...), keys fetched at start, every request's bearer token verified before a handler
//! runs.
//!
//! ```sh
//! TOKEN_ISSUER=https://YOUR_TENANT.us.auth0.com/ AUDIENCE=https://api.example.com \
//!   cargo run --example axum_server            # listens on ADDR, default 127.0.0.1:3000
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
//! ```

use axum::Router;
use axum::routing::get;
use token_verifier::layer::{Verified, VerifyLayer};

/// Who the caller is, from the verified token alone.
async fn me(caller: Verified) -> String {
    serde_json::json!({
        "principal": caller.principal(),
        "issuer": caller.issuer(),
        "scopes": caller.scopes(),
        "client_id": caller.claim("client_id").map(|c| c.to_value()),
    })
    .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    token_verifier::init_logging();
    let layer = VerifyLayer::from_env().await?;
    let app = Router::new()
        .route("/me", get(me))
        .layer(layer.realm("example"));
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    // The address on stdout, for scripts and tests that pass port 0.
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
