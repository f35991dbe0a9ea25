//! The README documents every configuration variable and every reason code.

use token_verifier::Reason;
use token_verifier::testing::VARIABLES;

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

#[test]
fn every_test_security_md_cites_exists() {
    let security = include_str!("../../SECURITY.md");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cited = 0;
    for cell in security.split('`') {
        let (path, name) = if let Some((file, name)) = cell.split_once(".rs::") {
            (root.join("tests").join(format!("{file}.rs")), name)
        } else if let Some((module, name)) = cell.split_once("::tests::") {
            // `verify/checks::tests::x`: src/verify/checks.rs; `config::tests::x`: the
            // tests of a folder, src/config/tests.rs (or its mod.rs).
            let src = root.join("src");
            let candidates = [
                src.join(format!("{module}.rs")),
                src.join(module).join("tests.rs"),
                src.join(module).join("mod.rs"),
            ];
            let found = candidates.iter().find(|p| p.exists());
            (found.unwrap_or(&candidates[0]).clone(), name)
        } else {
            continue;
        };
        if cell.contains(' ') || name.is_empty() {
            continue;
        }
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("SECURITY.md cites {}", path.display()));
        assert!(
            source.contains(&format!("fn {name}(")),
            "SECURITY.md cites {cell}, which does not exist"
        );
        cited += 1;
    }
    assert!(cited > 30, "only {cited} citations found");
}
