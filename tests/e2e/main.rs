//! End-to-end: the built `authorizer` binary under the AWS Lambda Runtime Interface
//! Emulator (the emulator `sam local invoke` runs in its container), driven over HTTP
//! exactly as Lambda drives it, against loopback key servers and a real OpenID Provider
//! (`tests/op`). Ignored by plain `cargo test` because the emulator comes from the
//! `aws-sam-cli` package (from `PyPI`) and the provider from npm; `scripts/test` installs
//! both and runs these.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_pass_by_value
)]

mod axum;
mod cedar;
mod dpop;
mod emulator;
mod explain;
mod idp;
mod metrics;
mod moto;
mod opaque;
mod provider;
#[path = "../support/rie.rs"]
mod rie;
mod samples;
mod ssm;
#[path = "../authorizer/support.rs"]
mod support;
