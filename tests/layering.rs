//! The layering of the source, checked by reading it: the pure core names no outer layer, and
//! inside the engine the unit of work, the feed, the tallies and the consistency check depend
//! on each other only downwards (see `src/engine/keys.rs`).
//!
//! A failure names the file and line, and what it mentions.

use std::fs;
use std::path::{Path, PathBuf};

/// The pure core: domain vocabulary and rules, no storage, wire format, terminal or network.
const PURE_CORE: &[&str] = &[
    "src/domain",
    "src/lifecycle",
    "src/throttle.rs",
    "src/feed.rs",
    "src/calendar.rs",
    "src/workorders.rs",
];

/// What the pure core must not mention.
const OUTER: &[&str] = &[
    "crate::engine",
    "crate::store",
    "crate::formats",
    "crate::tui",
    "crate::server",
    "crate::client",
    "tokio",
    "sled",
    "ratatui",
];

/// The engine modules that once formed a cycle, and which of the others each may use: the unit
/// of work stages the tallies' delta; the consistency check reads with all of them.
const ENGINE_EDGES: &[(&str, &[&str])] = &[
    ("tx", &["tally"]),
    ("feed", &[]),
    ("tally", &[]),
    ("consistency", &["tx", "feed", "tally"]),
];

#[test]
fn the_pure_core_names_no_outer_layer() {
    let mut problems = Vec::new();
    for file in PURE_CORE.iter().flat_map(|p| rust_files(Path::new(p))) {
        for (line, text) in lines(&file) {
            for word in OUTER.iter().filter(|w| text.contains(*w)) {
                problems.push(format!("{}:{line}: mentions `{word}`", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn tx_feed_and_tally_depend_only_downwards_and_nothing_uses_the_consistency_check() {
    let mut problems = Vec::new();
    for (module, allowed) in ENGINE_EDGES {
        let file = PathBuf::from(format!("src/engine/{module}.rs"));
        for (other, _) in ENGINE_EDGES {
            if other == module || allowed.contains(other) {
                continue;
            }
            for line in uses(&file, other) {
                problems.push(format!("{}:{line}: uses engine::{other}", file.display()));
            }
        }
    }
    for file in rust_files(Path::new("src")) {
        if file.ends_with("engine/consistency.rs") {
            continue;
        }
        for line in uses(&file, "consistency") {
            problems.push(format!(
                "{}:{line}: uses engine::consistency",
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_use_is_found_in_a_path_and_in_an_import_group() {
    let found = |source: &str| uses_in(source, "tx");
    assert_eq!(found("let t = super::tx::Tx::begin(s, now);"), [1]);
    assert_eq!(found("use crate::engine::tx;"), [1]);
    assert_eq!(found("use super::{\n    codec,\n    tx::Tx,\n};"), [3]);
    assert_eq!(found("use super::{\n    a::{b, c},\n    tx,\n};"), [3]);
    assert!(found("use super::{txt, keys::Tag};\n// the tx commits").is_empty());
}

/// The lines (1-based) of `file` that use the engine module `module`.
fn uses(file: &Path, module: &str) -> Vec<usize> {
    uses_in(&read(file), module)
}

/// The lines that name `module` after `super::` or `engine::`, directly or in a `{…}` group.
fn uses_in(source: &str, module: &str) -> Vec<usize> {
    let mut found = Vec::new();
    // How deep inside a `super::{…}` or `engine::{…}` group the line starts; 0 outside one.
    let mut depth = 0usize;
    for (index, text) in source.lines().enumerate() {
        let code = text.split("//").next().unwrap_or("");
        let opens = code.contains("super::{") || code.contains("engine::{");
        let direct = ["super::", "engine::"].iter().any(|prefix| {
            code.split(prefix)
                .skip(1)
                .any(|rest| first_word(rest) == module)
        });
        let grouped = (depth > 0 || opens)
            && code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == module);
        if direct || grouped {
            found.push(index + 1);
        }
        if depth > 0 || opens {
            let braces = |c| code.matches(c).count();
            depth = (depth + braces('{')).saturating_sub(braces('}'));
        }
    }
    found
}

/// The identifier at the start of `text`.
fn first_word(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Every line of `file`, numbered from 1.
fn lines(file: &Path) -> Vec<(usize, String)> {
    read(file)
        .lines()
        .enumerate()
        .map(|(index, text)| (index + 1, text.to_owned()))
        .collect()
}

fn read(file: &Path) -> String {
    fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// `path` itself when it is a file, else every `.rs` file under it, sorted.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if !root().join(path).is_dir() {
        return match path.extension().is_some_and(|e| e == "rs") {
            true => vec![path.to_path_buf()],
            false => Vec::new(),
        };
    }
    let mut files = Vec::new();
    let entries =
        fs::read_dir(root().join(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for entry in entries {
        let name = entry.expect("directory entry").file_name();
        files.extend(rust_files(&path.join(name)));
    }
    files.sort();
    files
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
