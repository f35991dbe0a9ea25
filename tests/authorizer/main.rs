//! Integration tests: every event shape, every refusal reason and every cache promise,
//! through the public API, against a loopback JWKS server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_pass_by_value
)]

mod appsync;
mod attacks;
mod binding;
mod cache;
mod cedar;
mod concurrency;
mod docs;
mod dpop;
mod explain;
mod idps;
mod keysets;
mod layer;
mod opaque;
mod properties;
mod refusals;
mod reloads;
mod routes;
mod samples;
mod shapes;
mod sources;
mod support;
mod wycheproof;
