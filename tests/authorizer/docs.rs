//! The README documents every configuration variable and every reason code.

use token_verifier::config::VARIABLES;
use token_verifier::refusal::Reason;

const README: &str = include_str!("../../README.md");

#[test]
fn every_variable_is_in_the_configuration_table() {
    for name in VARIABLES {
        assert!(
            README.contains(&format!("| `{name}` |")),
            "README lacks a row for {name}"
        );
    }
}

#[test]
fn every_reason_code_is_in_the_reason_table() {
    for reason in Reason::ALL {
        assert!(
            README.contains(&format!("| `{}` |", reason.code())),
            "README lacks a row for {}",
            reason.code()
        );
    }
}
