//! A title describes exactly the rows under it: the stuck lens applies the filters its title
//! names, the error inbox's total is broken down by the same states the status bar counts, and
//! help explains the status bar's abbreviations.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::lifecycle::OrchState;
use orderdesk::tui::app::{Action, App};
use orderdesk::tui::keymap::KeyAction;

const T0: &str = "2025-06-10T09:00:00Z";

/// Two Disable Service requests whose commands failed (ACTIVITY_ERROR) and two Cut for
/// Non-Payment requests without collection data (VALIDATION_ERROR).
fn world() -> World {
    let mut w = World::new();
    let mut lines = Vec::new();
    for n in 1..=4 {
        lines.push(sp_line(
            &format!("SP-{n}"),
            true,
            &smart(&format!("D-{n}"), true, "on"),
        ));
    }
    for n in 1..=2 {
        lines.push(request(
            &format!("SO-{n}"),
            "disable_service",
            &format!("SP-{n}"),
            "",
        ));
    }
    for n in 3..=4 {
        lines.push(request(
            &format!("SO-{n}"),
            "cut_for_non_payment",
            &format!("SP-{n}"),
            "",
        ));
    }
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    for n in 1..=2 {
        let child = w.children(&format!("SO-{n}"))[0].id.clone();
        let co = w.open_comm(&child);
        w.inbound(
            "2025-06-10T09:01:00Z",
            &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"no answer"}}"#),
        );
    }
    w
}

/// A supervisor's desk whose clock is `now`.
fn desk(w: &World, now: &str) -> App {
    desk_at(w, "sam", Some(Role::Supervisor), now)
}

#[test]
fn the_stuck_lens_applies_the_state_filter_its_title_names() {
    let w = world();
    // Three days later every error has rested past its day.
    let mut app = desk(&w, "2025-06-13T09:00:00Z");
    app.update(Action::Key(KeyAction::GoOrchestrations));
    app.update(Action::Key(KeyAction::ToggleStuck));
    assert_eq!(
        app.orchestrations.list.total, 4,
        "{:?}",
        app.orchestrations.list.rows
    );
    app.orchestrations.state = Some(OrchState::ActivityError);
    app.refresh();
    let ids: Vec<&str> = app
        .orchestrations
        .list
        .rows
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["SO-1", "SO-2"]);
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        let title = text.lines().nth(1).unwrap_or("");
        assert!(
            title.contains("Orchestrations (2)"),
            "{width}×{height}: {title}"
        );
    }
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("state ACTIVITY_ERROR"), "{text}");
    assert!(!text.contains("SO-3"), "{text}");
}

#[test]
fn the_error_inbox_total_adds_up_to_the_status_bar() {
    let w = world();
    let mut app = desk(&w, "2025-06-10T09:05:00Z");
    app.update(Action::Key(KeyAction::GoErrors));
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("Error inbox: 4 activities in error · 2 VALIDATION_ERROR + 2 ACTIVITY_ERROR")
            || text.contains(
                "Error inbox: 4 activities in error · 2 ACTIVITY_ERROR + 2 VALIDATION_ERROR"
            ),
        "{text}"
    );
    let status = text.lines().rev().nth(1).unwrap_or("");
    assert!(
        status.contains("AE:2") && status.contains("VE:2"),
        "{status}"
    );
    // `?` says what the abbreviations mean.
    app.update(Action::Key(KeyAction::Help));
    for _ in 0..60 {
        app.update(Action::Key(KeyAction::Down));
    }
    let help = screen(&mut app, 120, 40);
    assert!(
        help.contains("status bar: activities in ACTIVITY_ERROR"),
        "{help}"
    );
}
