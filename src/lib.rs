//! token-verifier verifies OAuth 2.0 / `OpenID` Connect JWT access tokens against the
//! issuer's cached JWKS and answers every API Gateway authorizer shape (REST TOKEN and
//! REQUEST, WebSocket, HTTP API 1.0 and 2.0) and AppSync's (GraphQL, Events). It is the
//! Lambda function `authorizer`, the library that function is built from, and (feature
//! `tower`) the same verifier as a tower layer for `lambda_http` and axum: `layer`.
//!
//! # Using it
//! Build an [`Authorizer`] once, from a [`Config`] (environment variables, an optional
//! configuration document, [`settings`] in code), then hand it each event:
//!
//! ```no_run
//! # async fn run(event: token_verifier::AuthorizerEvent) -> Result<(), token_verifier::InitError> {
//! let authorizer = token_verifier::Authorizer::new(token_verifier::Config::from_env()?)?;
//! authorizer.prefetch().await; // the issuers' keys, at init
//! match authorizer.handle(event).await {
//!     Ok(answer) => { /* an Allow or Deny policy, or a simple response */ }
//!     Err(failure) => { /* `Unauthorized` (401), or an error that fails closed (500) */ }
//! }
//! # Ok(()) }
//! ```
//! [`Authorizer::start`] builds it from the environment (and SSM) and prefetches the keys,
//! validating a Cedar policy set meanwhile, as the Lambda function does.
//! [`Authorizer::decide`] answers without logging and returns the [`DecisionRecord`]:
//! the [`Outcome`], the [`Refusal`] (its [`Reason`] is a stable code), what is known of
//! the token. Verified [`Claims`] reach the backend as the authorizer context.
//!
//! # The house
//! A request travels one way through the modules, declared below in that order; each uses
//! only those declared before it (`tests/layering.rs` holds the crate to it):
//! `digest` (SHA-256 in hex) → `refusal` (reason codes) → [`settings`] (validated settings, defaults) → `json` →
//! `token` (compact JWS, claims) → `telemetry` (log and metric lines) → `http` → `ssm` →
//! `replay` (used DPoP proofs) → `keys` (key sets, cache, snapshots) → `verify` (token →
//! verified claims, bindings, DPoP proofs) → `decision` (scopes, route rules) → [`gateway`] (API Gateway's and AppSync's events and answers) →
//! `config` (init only) → `authorizer` (one event in, one answer and one log line out) →
//! `layer` (the tower layer, with the `tower` feature only) → `tool` (the developer tools,
//! with the `tools` feature only).

#![forbid(unsafe_code)]

// The vocabulary: digests in hex, reason codes, then the validated settings every later
// module reads.
mod digest;
mod refusal;
pub mod settings;
// A token as it arrived: JSON read strictly in place, the compact JWS and its claims.
mod json;
mod token;
// What the function tells CloudWatch, and the clients of the outside world.
mod telemetry;
mod http;
mod ssm;
mod replay;
// Keys, then the verifier, then the decision on a verified token.
mod keys;
mod verify;
mod decision;
// The first front door: API Gateway's events in, its answers out.
pub mod gateway;
// Init: the configuration, and the authorizer built from it.
mod config;
mod authorizer;
// More front doors, on the same authorizer: a tower layer (`tower` feature).
#[cfg(feature = "tower")]
pub mod layer;
// The developer tools (`tools` feature), and the internals the crate's own tests use.
#[cfg(feature = "tools")]
pub mod tool;
pub mod testing;

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use authorizer::Authorizer;
pub use authorizer::error::{InitError, report_init_error};
pub use authorizer::record::DecisionRecord;
pub use config::combine::Config;
pub use config::document::ConfigDocument;
pub use config::env::{EnvConfig, Sources};
pub use config::error::ConfigError;
pub use gateway::{Answer, AuthorizerEvent, Failure};
pub use http::BoxFuture;
pub use keys::cache::KeyOrigin;
pub use refusal::{Outcome, Reason, Refusal};
pub use settings::Algorithm;
pub use ssm::{Parameter, ParameterStore};
pub use telemetry::log::init as init_logging;
pub use telemetry::metrics::init as init_metrics;
pub use token::claims::{Claim, Claims, Kind};
pub use token::time::{UnixTime, now};
pub use verify::checks::Check;
pub use verify::facts::TokenFacts;
pub use verify::opaque::Lookup;
