//! Narrow terminals: at 80×24 and 60×15 the desk leaves out whole parts, never half of one:
//! the status bar never shows a cut count, lists never a cut id, code or date, and help never
//! cuts its own text.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::tui::app::{Action, App, View};
use orderdesk::tui::keymap::KeyAction;

const T0: &str = "2025-06-10T09:00:00Z";

/// Twelve Cut for Non-Payment requests without collection data (VALIDATION_ERROR: a two-digit
/// count) and twelve Enable Service requests in progress.
fn world() -> World {
    let mut w = World::new();
    let mut lines = Vec::new();
    for n in 1..=24 {
        lines.push(sp_line(&format!("SP-{n}"), true, "null"));
    }
    for n in 1..=12 {
        lines.push(request(
            &format!("SO-{n}"),
            "cut_for_non_payment",
            &format!("SP-{n}"),
            "",
        ));
    }
    for n in 13..=24 {
        lines.push(request(
            &format!("SO-{n}"),
            "enable_service",
            &format!("SP-{n}"),
            "",
        ));
    }
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    w
}

fn desk(w: &World) -> App {
    desk_at(w, "sam", Some(Role::Supervisor), "2025-06-10T09:05:00Z")
}

/// The `XX:n` counts a status line shows.
fn counts_in(line: &str) -> Vec<(String, usize)> {
    line.split_whitespace()
        .filter_map(|w| {
            let (abbr, n) = w.split_once(':')?;
            let n = n.parse().ok()?;
            abbr.chars()
                .all(|c| c.is_ascii_uppercase())
                .then(|| (abbr.to_string(), n))
        })
        .collect()
}

#[test]
fn the_status_bar_leaves_out_whole_counts_never_half_of_one() {
    let w = world();
    let mut app = desk(&w);
    let truth: Vec<(String, usize)> = app
        .status
        .counts
        .iter()
        .map(|(s, n)| (s.split('_').filter_map(|p| p.chars().next()).collect(), *n))
        .collect();
    assert!(truth.iter().any(|(_, n)| *n >= 10), "{truth:?}");
    for (width, height) in [(120, 40), (80, 24), (60, 15)] {
        let text = screen(&mut app, width, height);
        let status = text.lines().rev().nth(1).unwrap_or("").to_string();
        for shown in counts_in(&status) {
            assert!(
                truth.contains(&shown),
                "{width}×{height}: {shown:?} in `{status}`"
            );
        }
        // The operator is always there; errors outlast the other counts.
        assert!(status.contains("sam (supervisor)"), "{status}");
        assert!(status.contains("VE:12"), "{width}×{height}: {status}");
    }
}

#[test]
fn lists_drop_whole_columns_and_never_cut_a_value() {
    let w = world();
    let mut app = desk(&w);
    app.go(View::Orchestrations);
    for (width, height) in [(80, 24), (60, 15)] {
        let text = screen(&mut app, width, height);
        for line in text.lines().filter(|l| l.contains("SO-")) {
            for word in line.split(|c: char| c.is_whitespace() || c == '│') {
                if word.starts_with("VALIDATION") || word.starts_with("IN_PRO") {
                    assert!(
                        word == "VALIDATION_ERROR" || word == "IN_PROGRESS",
                        "{width}×{height}: `{word}` is cut in\n{text}"
                    );
                }
                if word.starts_with("MISSING") {
                    assert_eq!(word, "MISSING_COLLECTION_DATA", "{width}×{height}:\n{text}");
                }
            }
        }
    }
    let text = screen(&mut app, 60, 15);
    // The hint bar offers whole entries, help among them.
    let bar = text.lines().last().unwrap_or("");
    assert!(bar.trim_end().ends_with("help"), "{bar}");
    insta::assert_snapshot!("orchestrations_60x15", text);
}

#[test]
fn help_never_cuts_its_own_text() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Help));
    let text = screen(&mut app, 60, 15);
    // "Assign to an internal or external crew, or the partner" wraps, whole.
    let joined: String = text
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("Assign to an internal or external"),
        "{text}"
    );
    assert!(joined.contains("crew, or the partner"), "{text}");
    insta::assert_snapshot!("help_60x15", text);
}
