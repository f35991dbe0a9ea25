//! `token-verifier`: the developer tool beside the Lambda binary — `mint`, `jwks`,
//! `check-config`, `explain` (usage and exit status: `token_verifier::tool::cli`). Built
//! with the `tools` feature: `cargo run --features tools --bin token-verifier -- …`.

fn main() -> std::process::ExitCode {
    token_verifier::tool::cli::main()
}
