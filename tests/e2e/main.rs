//! End-to-end: the built `authorizer` binary under the AWS Lambda Runtime Interface
//! Emulator (the emulator `sam local invoke` runs in its container), driven over HTTP
//! exactly as Lambda drives it. Ignored by plain `cargo test` because the emulator comes
//! from the `aws-sam-cli` package (from `PyPI`); `scripts/test` installs it and runs these.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::needless_pass_by_value
)]

mod emulator;
mod samples;
#[path = "../authorizer/support.rs"]
mod support;
