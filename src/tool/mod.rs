//! The developer tools, built only with the `tools` feature (never in the Lambda binary):
//! development keys and tokens ([`dev`]), `explain` ([`explain`]) and the `token-verifier`
//! command line ([`cli`]).

pub mod cli;
pub mod dev;
pub mod explain;
