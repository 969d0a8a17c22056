//! `docs/cli.md` is the command line's reference for users: every subcommand and every long
//! option the parser knows is in it, every one has a `--help` text, and its examples exit as
//! the document says when run against a fresh demo database.

use clap::CommandFactory;
use std::path::Path;
use std::process::Command;

// The parser is the binary's own: read from its source, so the document is checked against
// exactly what `orderdesk` parses. Only the parser is used here, not every field it fills.
#[allow(dead_code)]
#[path = "../src/cli/args.rs"]
mod args;

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"))
        .expect("docs/cli.md")
}

/// Every command below `cmd` with its path (`["wo", "assign"]`), the root (`[]`) first.
fn commands(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
    out.push((path.clone(), cmd.clone()));
    // clap's own `help` is documented once, as `orderdesk help`: its copies of the tree are not
    // walked.
    if cmd.get_name() == "help" {
        return;
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" && !path.is_empty() {
            continue;
        }
        let mut deeper = path.clone();
        deeper.push(sub.get_name().to_string());
        commands(sub, deeper, out);
    }
}

/// Whether `doc` has `option` as a whole word (`--to` is not found in `--token`).
fn mentions(doc: &str, option: &str) -> bool {
    doc.match_indices(option).any(|(at, _)| {
        doc[at + option.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    })
}

fn every_command() -> Vec<(Vec<String>, clap::Command)> {
    let mut cli = args::Cli::command();
    // Built, so clap's own `help` subcommand and `--help`/`--version` are walked too.
    cli.build();
    let mut out = Vec::new();
    commands(&cli, Vec::new(), &mut out);
    out
}

#[test]
fn every_subcommand_and_long_option_is_in_docs_cli_md() {
    let doc = doc();
    let mut missing = Vec::new();
    for (path, cmd) in every_command() {
        let name = format!("orderdesk {}", path.join(" "));
        if !path.is_empty() && !doc.contains(&format!("`{name}")) {
            missing.push(format!("the command `{name}`"));
        }
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                if !mentions(&doc, &format!("--{long}")) {
                    missing.push(format!("`--{long}` of `{}`", name.trim_end()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/cli.md leaves out:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_command_and_option_has_a_help_text() {
    let mut missing = Vec::new();
    for (path, cmd) in every_command() {
        let name = format!("orderdesk {}", path.join(" "));
        if cmd.get_about().is_none() {
            missing.push(format!("the command `{}`", name.trim_end()));
        }
        for arg in cmd.get_arguments() {
            if arg.get_help().is_none() {
                missing.push(format!("`{}` of `{}`", arg.get_id(), name.trim_end()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no --help text:\n{}",
        missing.join("\n")
    );
}

/// The lines of the first ```sh block under `## Examples` that say their exit code, with
/// their line numbers: (line, words, exit code).
fn examples(doc: &str) -> Vec<(usize, Vec<String>, i32)> {
    let start = doc
        .find("## Examples")
        .expect("docs/cli.md has ## Examples");
    let before = doc[..start].lines().count();
    let mut found = Vec::new();
    let mut inside = false;
    for (n, line) in doc[start..].lines().enumerate() {
        if line.starts_with("```sh") {
            inside = true;
            continue;
        }
        if inside && line.starts_with("```") {
            break;
        }
        let Some((command, comment)) = line.split_once('#') else {
            continue;
        };
        let Some(code) = comment.trim().strip_prefix("exit ") else {
            continue;
        };
        let code: i32 = code
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("docs/cli.md:{}: `# exit N` needs a number", before + n));
        let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        assert_eq!(
            words.first().map(String::as_str),
            Some("orderdesk"),
            "docs/cli.md:{}: an example runs orderdesk",
            before + n
        );
        found.push((before + n, words, code));
    }
    found
}

#[test]
fn the_examples_exit_as_documented() {
    let doc = doc();
    let examples = examples(&doc);
    assert!(examples.len() >= 4, "too few examples: {examples:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("od-demo");
    for (line, words, expected) in examples {
        // The block sets ORDERDESK_DB; the test sets it to its own directory instead.
        let out = Command::new(env!("CARGO_BIN_EXE_orderdesk"))
            .args(&words[1..])
            .env("ORDERDESK_DB", &db)
            .env_remove("ORDERDESK_TOKEN")
            .env_remove("ORDERDESK_CA")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run orderdesk");
        assert_eq!(
            out.status.code(),
            Some(expected),
            "docs/cli.md:{line}: `{}`\nstdout: {}\nstderr: {}",
            words.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
