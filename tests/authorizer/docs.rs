//! The documentation documents every configuration variable and every reason code, cites
//! tests that exist, and links only to files and sections that exist.

use token_verifier::Reason;
use token_verifier::testing::VARIABLES;

/// The configuration reference (the README links to it).
const CONFIGURATION: &str = include_str!("../../docs/configuration.md");

/// The reason codes' reference (the README links to it).
const REASONS: &str = include_str!("../../docs/reasons.md");

#[test]
fn every_variable_is_in_the_configuration_table() {
    for name in VARIABLES {
        assert!(
            CONFIGURATION.contains(&format!("| `{name}` |")),
            "docs/configuration.md lacks a row for {name}"
        );
    }
}

#[test]
fn every_reason_code_is_in_the_reason_table() {
    for reason in Reason::ALL {
        assert!(
            REASONS.contains(&format!("| `{}` |", reason.code())),
            "docs/reasons.md lacks a row for {}",
            reason.code()
        );
    }
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every relative link of the Markdown documents leads to a file that exists and, with a
/// `#fragment`, to a heading of it (so moving a section cannot break a link unnoticed).
#[test]
fn every_link_of_the_documentation_leads_somewhere() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let documents = [
        "README.md",
        "SECURITY.md",
        "BENCHMARKS.md",
        "docs/configuration.md",
        "docs/reasons.md",
        "docs/opaque-tokens.md",
        "docs/operations.md",
    ];
    let anchors_of = |path: &std::path::Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut in_code = false;
        text.lines()
            .filter(|line| {
                if line.starts_with("```") {
                    in_code = !in_code;
                }
                !in_code && line.starts_with('#')
            })
            .map(|line| anchor(line.trim_start_matches('#')))
            .collect()
    };
    let mut checked = 0;
    for document in documents {
        let path = root.join(document);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{document}: {e}"));
        for (at, _) in text.match_indices("](") {
            let target: String = text[at + 2..].chars().take_while(|c| *c != ')').collect();
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if file.is_empty() {
                path.clone()
            } else {
                path.parent().unwrap().join(file)
            };
            assert!(
                linked.exists(),
                "{document} links to {target}: no such file"
            );
            if !fragment.is_empty() {
                assert!(
                    anchors_of(&linked).iter().any(|a| a == fragment),
                    "{document} links to {target}: no such heading"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} links found");
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
