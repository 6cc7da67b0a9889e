//! The import rules of `docs/architecture.md`, checked on the source: each
//! room lists the rooms it must not use. A rule nothing checks drifts; this
//! test fails on the first `crate::…` path (or `diesel`) that crosses one.

use std::fs;
use std::path::{Path, PathBuf};

/// A room (a folder or file under `src/`) and the names it must not use.
const RULES: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "crate::app",
            "crate::auth",
            "crate::cluster",
            "crate::db",
            "crate::http",
            "crate::session",
            "crate::store",
            "crate::wire",
        ],
    ),
    ("wire", &["crate::app", "crate::cluster", "crate::db", "crate::http", "crate::session", "crate::store"]),
    ("store", &["crate::app", "crate::cluster", "crate::http", "crate::session"]),
    ("cluster", &["crate::app", "crate::http", "crate::session"]),
    ("session", &["crate::app", "crate::cluster", "crate::http"]),
    ("db", &["crate::app", "crate::cluster", "crate::http", "crate::session", "crate::store", "crate::wire"]),
    ("auth", &["crate::app", "crate::cluster", "crate::http", "crate::session", "crate::store"]),
    ("ops", &["crate::app", "crate::cluster", "crate::http", "crate::session", "crate::store"]),
    ("media", &["crate::app", "crate::cluster", "crate::http", "crate::session", "crate::store"]),
    ("http", &["diesel"]),
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// Where `name` is used as a path (`name::` or `name;`/`name}` at a use's
/// end), outside comments.
fn uses(line: &str, name: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (room, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(room), &mut files);
        rust_files(&src.join(format!("{room}.rs")), &mut files);
        assert!(!files.is_empty(), "room {room} has no files: update the rules with the layout");
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for name in forbidden.iter().filter(|name| uses(line, name)) {
                    found.push(format!("{}:{}: {room} uses {name}", file.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn no_room_imports_what_the_architecture_forbids() {
    let found = violations();
    assert!(found.is_empty(), "forbidden imports (see docs/architecture.md):\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_a_forbidden_path() {
    assert!(uses("use crate::session::protocol::Topics;", "crate::session"));
    assert!(uses("    let e: diesel::result::Error;", "diesel"));
    assert!(!uses("use crate::sessions;", "crate::session"));
    assert!(!uses("// crate::http is fine in a comment", "crate::http"));
}
