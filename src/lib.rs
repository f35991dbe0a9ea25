//! token-verifier: an API Gateway Lambda authorizer that verifies OAuth 2.0 / `OpenID`
//! Connect JWT access tokens against the issuer's cached JWKS and answers every API
//! Gateway shape (REST TOKEN and REQUEST, WebSocket, HTTP API 1.0 and 2.0).
//!
//! A request travels one way through the modules:
//! [`event`] (shape + credential) → [`verify`] (token → [`claims`], using [`token`],
//! [`json`], [`keys`], [`jwk`], [`fetch`]) → [`decision`] (scopes) → [`response`] (+
//! [`context`]) → [`authorizer`] logs one line. Every refusal is a [`refusal::Reason`] with a
//! stable code; [`error`] maps them to Lambda's error shape.

#![forbid(unsafe_code)]

pub mod algorithm;
pub mod authorizer;
pub mod claims;
pub mod config;
pub mod context;
pub mod decision;
pub mod dev;
pub mod document;
pub mod error;
pub mod event;
pub mod explain;
pub mod fetch;
pub mod json;
pub mod jwk;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod opaque;
pub mod presets;
pub mod refusal;
pub mod response;
pub mod routes;
pub mod ssm;
pub mod token;
pub mod verify;

pub use authorizer::Authorizer;
pub use config::Config;
pub use error::{Failure, InitError};
pub use event::AuthorizerEvent;
pub use response::Answer;
