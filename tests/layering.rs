//! The house stays in order: `src/lib.rs` declares the top-level modules in the order a
//! request travels through them, and a module may use only the modules declared before it
//! (and itself). Every `crate::…` path in the code of `src/` is read (comments aside, test
//! modules included), and `super::` paths that climb out of a folder count too.
//!
//! `cargo test --test layering -- --nocapture` prints each module's place and what it uses.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The top-level modules in the order `src/lib.rs` declares them.
fn declared_order(lib: &str) -> Vec<String> {
    code(lib)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_owned())
        })
        .collect()
}

/// The text without comments (line, doc and block comments) and without the contents of
/// string and character literals: a path named in prose or in a message is no dependency.
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (at(i + 1) == '#' || at(i + 1) == '"')
            && !at(i.wrapping_sub(1)).is_alphanumeric()
        {
            // A raw string: r"…" or r#"…"#, as many hashes closing as opening.
            let mut hashes = 0;
            let mut j = i + 1;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#')) {
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', b'"'); a lifetime ('a) is code.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("' '");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/`: `verify/checks.rs` → `[verify, checks]`,
/// `verify/mod.rs` → `[verify]`.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The top-level modules the paths of `text` name (`crate::x`, or `super::` climbing out
/// of `module`'s folder), other than `module`'s own.
fn used_modules(text: &str, module: &[String]) -> Vec<String> {
    let mut used = Vec::new();
    let bytes = text.as_bytes();
    let word_start =
        |at: usize| at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
    // `crate::x`
    for (at, _) in text.match_indices("crate::") {
        if !word_start(at) {
            continue;
        }
        let name: String = text[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.push(name);
        }
    }
    // `super::super::x`: the module a chain of `super` reaches, then its next segment.
    for (at, _) in text.match_indices("super::") {
        if !word_start(at) || text[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &text[at..];
        // Each `super` is the parent of the module the file is (`verify/checks.rs` is
        // `verify::checks`, `verify/mod.rs` is `verify`).
        let mut base: Vec<String> = module.to_vec();
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
        }
        if base.is_empty() {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.push(name);
            }
        }
    }
    used.retain(|name| Some(name) != module.first());
    used.sort();
    used.dedup();
    used
}

#[test]
fn modules_use_only_the_modules_declared_before_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared_order(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(order.len() > 5, "src/lib.rs declares {order:?}");
    let place = |name: &str| order.iter().position(|m| m == name);

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Per top-level module: what it uses, and each use against the order with its file.
    let mut uses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut against = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        // The binaries and the crate root sit above every module.
        if relative == Path::new("lib.rs") || relative == Path::new("main.rs") || first == "bin" {
            continue;
        }
        let module = module_of(relative);
        let top = module[0].clone();
        let Some(own) = place(&top) else {
            against.push(format!(
                "src/{} is not declared in src/lib.rs",
                relative.display()
            ));
            continue;
        };
        let text = code(&std::fs::read_to_string(path).unwrap());
        for used in used_modules(&text, &module) {
            match place(&used) {
                Some(at) if at < own => {}
                Some(_) => against.push(format!(
                    "src/{} ({}. {top}) uses crate::{used} ({}. in src/lib.rs)",
                    relative.display(),
                    own + 1,
                    place(&used).unwrap_or_default() + 1
                )),
                None => {}
            }
            let list = uses.entry(top.clone()).or_default();
            if !list.contains(&used) {
                list.push(used);
            }
        }
    }

    let mut table = String::new();
    for (at, name) in order.iter().enumerate() {
        let mut names = uses.get(name).cloned().unwrap_or_default();
        names.sort_by_key(|u| place(u));
        let _ = writeln!(
            table,
            "{:>3}. {name:<11} uses {}",
            at + 1,
            if names.is_empty() {
                "nothing of the crate".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    println!("the declared order (src/lib.rs), each module with what it uses:\n{table}");
    assert!(
        against.is_empty(),
        "{} imports against the declared order:\n  {}\n\nthe declared order (src/lib.rs), each module with what it uses:\n{table}",
        against.len(),
        against.join("\n  ")
    );
}

/// The reader of this test is held to its own rules: a use against the order is caught,
/// in a file and through `super::`, and prose is not code.
#[test]
fn the_reader_sees_paths_and_only_paths() {
    let module = |m: &str| m.split('/').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        used_modules(
            &code("use crate::token::Claims;\nlet x = crate::json::scan(t);"),
            &module("verify/checks")
        ),
        ["json", "token"]
    );
    assert_eq!(
        used_modules(
            &code("/// see [`crate::authorizer`]\n// crate::tool\nuse super::facts::X;"),
            &module("verify/checks")
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        used_modules(
            "use super::super::keys::KeyCache;",
            &module("verify/opaque/cache")
        ),
        Vec::<String>::new(),
        "super::super from verify/opaque/cache.rs is verify"
    );
    assert_eq!(
        used_modules("use super::keys::KeyCache;", &module("verify")),
        ["keys"],
        "super from verify/mod.rs is the crate"
    );
    assert_eq!(
        used_modules("use mycrate::x; let a = notcrate::b;", &module("verify")),
        Vec::<String>::new()
    );
    let literals =
        r##"let url = "https://x"; let q = b'"'; let s = r#"crate::tool "# ; use crate::keys::K;"##;
    assert_eq!(used_modules(&code(literals), &module("verify")), ["keys"]);
    assert_eq!(
        declared_order(
            "//! doc\nmod refusal;\npub mod settings;\n#[cfg(feature = \"tools\")]\npub mod tool;"
        ),
        ["refusal", "settings", "tool"]
    );
}
