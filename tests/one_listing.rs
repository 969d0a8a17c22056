//! A list's columns are defined once: the desk's table, the command line's table and the
//! desk's CSV export of the queue, the orchestration list, the audit and the partners board
//! all follow the same
//! field list, in the same order.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::listing::{self, Field, Form};
use orderdesk::timefmt::Times;
use orderdesk::tui::app::View;
use std::process::Command;

const T0: &str = "2025-06-10T09:00:00Z";

fn world() -> World {
    let mut w = World::new();
    let lines = [
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        request("SO-1", "disable_service", "SP-1", ""),
        request("SO-2", "reconnect_for_payment", "SP-1", ""),
    ];
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    w
}

/// The headers a desk 200 columns wide shows for `fields`, in order.
fn desk_headers<T>(fields: &[Field<T>]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|f| f.on_desk)
        .map(|f| f.header)
        .collect()
}

/// The words of the table header line (columns are two or more spaces apart).
fn header_cells(line: &str) -> Vec<String> {
    line.trim_matches(|c| c == '│' || c == ' ')
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_desk_and_its_export_follow_each_lists_fields() {
    let w = world();
    let mut app = desk_at(&w, "sam", Some(Role::Supervisor), T0);
    let times = Times::new(chrono_tz::UTC, at(T0));
    for view in [
        View::Queue,
        View::Orchestrations,
        View::Audit,
        View::Partners,
    ] {
        app.go(view);
        let (desk, export): (Vec<&str>, Vec<String>) = match view {
            View::Queue => (
                desk_headers(listing::QUEUE),
                listing::headers(listing::QUEUE, &times, Form::Export),
            ),
            View::Orchestrations => {
                // EFFECTIVE shows only while an activity waits for its date: none does here.
                let mut desk = desk_headers(listing::ORCHESTRATIONS);
                desk.retain(|h| *h != "EFFECTIVE");
                (
                    desk,
                    listing::headers(listing::ORCHESTRATIONS, &times, Form::Export),
                )
            }
            View::Audit => (
                desk_headers(listing::AUDIT),
                listing::headers(listing::AUDIT, &times, Form::Export),
            ),
            _ => (
                desk_headers(listing::PARTNERS),
                listing::headers(listing::PARTNERS, &times, Form::Export),
            ),
        };
        let text = screen(&mut app, 200, 30);
        let header = text.lines().nth(2).unwrap_or("");
        let shown = header
            .trim_matches(|c| c == '│' || c == ' ')
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(shown, desk.join(" "), "{view:?}:\n{text}");
        let csv = orderdesk::tui::export::current_list(&app, false).expect("a list");
        let first = csv.lines().next().unwrap_or("");
        assert_eq!(first, export.join(","), "{view:?}");
    }
}

#[test]
fn the_command_lines_tables_follow_the_same_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("db");
    let import = dir.path().join("import.jsonl");
    let lines = [
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        request("SO-1", "disable_service", "SP-1", ""),
    ];
    std::fs::write(&import, lines.join("\n")).expect("write");
    let run = |args: &[&str]| -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_orderdesk"))
            .arg("--db")
            .arg(&db)
            .args(["--now", T0])
            .args(args)
            .output()
            .expect("run orderdesk");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["import", import.to_str().unwrap_or_default()]);
    let times = Times::new(chrono_tz::UTC, at(T0));
    for (args, expected) in [
        (
            vec!["list"],
            listing::headers(listing::ORCHESTRATIONS, &times, Form::Text),
        ),
        (
            vec!["queue"],
            listing::headers(listing::QUEUE, &times, Form::Text),
        ),
        (
            vec!["audit"],
            listing::headers(listing::AUDIT, &times, Form::Text),
        ),
    ] {
        let out = run(&args);
        let header = out.lines().next().unwrap_or("");
        assert_eq!(header_cells(header), expected, "{args:?}:\n{out}");
    }
}
