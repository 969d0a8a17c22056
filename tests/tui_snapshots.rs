//! The desk's views, driven through `update` with actions and drawn on a TestBackend at 80×24
//! and 120×40: each view, the help overlay, a confirmation and an error toast.

mod common;

use common::*;
use orderdesk::tui::app::{Action, App, Effect, Popup, View};
use orderdesk::tui::keymap::{KeyAction, Keymap};

const T0: &str = "2025-06-10T09:00:00Z";

/// A small world: requests in several states and an open queue.
fn world() -> World {
    let mut w = World::new();
    w.import(
        T0,
        &[
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#.to_string(),
            sp_line("SP-1", true, "null"),
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            sp_line("SP-3", true, &manual("D-3", "on")),
            request("SO-1", "enable_service", "SP-1", ""),
            request("SO-2", "disable_service", "SP-2", ""),
            request("SO-3", "cut_for_non_payment", "SP-3", r#","collection_data":{"past_due_amount":"0"}"#),
            r#"{"kind":"work_order","id":"WO-1","wo_kind":"disconnection","customer":"C-1","site":"SP-1","origin":"manual","status":"NEW","preferred_date":"2025-06-12"}"#.to_string(),
            r#"{"kind":"work_order","id":"WO-2","wo_kind":"special_read","customer":"C-1","site":"SP-2","origin":"auto_special_read","status":"SENT"}"#.to_string(),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let co = w.open_comm(&w.children("SO-2")[0].id);
    w.inbound(
        "2025-06-10T09:01:00Z",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}}"#),
    );
    w
}

fn desk(w: &World) -> App {
    let keymap = Keymap::defaults().expect("default keymap");
    let mut app = App::new(
        orderdesk::client::Local::reading(
            w.engine.reader(),
            orderdesk::engine::Actor::with_role("sam", Some(orderdesk::domain::Role::Supervisor)),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        keymap,
    );
    app.update(Action::Clock(at("2025-06-10T09:05:00Z"), 1.0));
    app
}

fn both_sizes(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), screen(app, 120, 40));
}

#[test]
fn queue_view() {
    let w = world();
    let mut app = desk(&w);
    assert_eq!(app.view, View::Queue);
    app.update(Action::Key(KeyAction::ToggleMark));
    both_sizes("queue", &mut app);
}

#[test]
fn orchestrations_view() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoOrchestrations));
    both_sizes("orchestrations", &mut app);
}

#[test]
fn error_inbox_view() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoErrors));
    both_sizes("errors", &mut app);
}

#[test]
fn hierarchy_view_with_an_expanded_node() {
    let w = world();
    let mut app = desk(&w);
    app.open_tree("SO-2");
    app.update(Action::Key(KeyAction::ExpandAll));
    app.update(Action::Key(KeyAction::Down));
    app.update(Action::Key(KeyAction::Down));
    both_sizes("tree", &mut app);
}

#[test]
fn help_overlay() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Help));
    assert!(matches!(app.popup, Some(Popup::Help)));
    both_sizes("help", &mut app);
}

#[test]
fn confirmation_states_the_count() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::MarkAll));
    let effects = app.update(Action::Key(KeyAction::Complete));
    assert!(
        effects.is_empty(),
        "nothing is sent before the operator confirms"
    );
    match &app.popup {
        Some(Popup::Confirm { question, .. }) => assert!(
            question.starts_with("Complete 2 work orders?"),
            "{question}"
        ),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    both_sizes("confirm", &mut app);
    let effects = app.update(Action::Key(KeyAction::Confirm));
    assert!(matches!(effects.as_slice(), [Effect::Send(_)]));
}

#[test]
fn error_toast_says_why() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Notice(orderdesk::runtime::Notice::Refused {
        ticket: orderdesk::runtime::Ticket(1),
        code: "PERMISSION_DENIED".into(),
        message: "bo works as a clerk; only a supervisor or support staff may retry activities"
            .into(),
    }));
    both_sizes("toast", &mut app);
}

#[test]
fn a_tiny_terminal_says_so() {
    let w = world();
    let mut app = desk(&w);
    let text = screen(&mut app, 20, 5);
    assert!(text.replace('\n', " ").contains("at least 60×15"), "{text}");
    let _ = screen(&mut app, 1, 1);
}

#[test]
fn command_line_jumps_to_an_id() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::CommandLine));
    for c in "so SO-2".chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-2")
    );
}

#[test]
fn filter_narrows_every_list() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoOrchestrations));
    app.update(Action::Key(KeyAction::Filter));
    for c in "sp-2".chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
    assert_eq!(
        app.orchestrations
            .list
            .rows
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["SO-2"]
    );
}

#[test]
fn overview_view() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoOverview));
    both_sizes("overview", &mut app);
    // Enter on a state line opens the orchestrations filtered to it.
    let at = app
        .overview
        .lines
        .iter()
        .position(|l| l.label == "ACTIVITY_ERROR")
        .expect("a state line");
    for _ in 0..at {
        app.update(Action::Key(KeyAction::Down));
    }
    app.update(Action::Key(KeyAction::Open));
    assert_eq!(app.view, View::Orchestrations);
    assert_eq!(
        app.orchestrations
            .list
            .rows
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["SO-2"]
    );
}

#[test]
fn audit_view() {
    let mut w = world();
    let clerk = actor("bo", Some(orderdesk::domain::Role::Clerk));
    let _ = w.engine.retry(&clerk, at("2025-06-10T09:02:00Z"), "SO-2");
    w.retry("2025-06-10T09:03:00Z", "SO-2").expect("retry");
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoAudit));
    both_sizes("audit", &mut app);
    app.update(Action::Key(KeyAction::Filter));
    for c in "refused".chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
    assert_eq!(app.audit.entries.len(), 1);
    assert_eq!(app.audit.entries[0].operator, "bo");
}

#[test]
fn times_on_screen_are_in_the_configured_zone() {
    let mut w = World::with_toml("timezone = \"America/Chicago\"");
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::GoOrchestrations));
    let text = screen(&mut app, 120, 40);
    // 09:00 UTC is 04:00 in Chicago (CDT), the zone the status bar's clock is shown in.
    assert!(text.contains("06-10 04:00"), "{text}");
    assert!(!text.contains("06-10 09:00"), "{text}");
}

/// Types `:TEXT` and submits it.
fn command(app: &mut App, text: &str) {
    app.update(Action::Key(KeyAction::CommandLine));
    for c in text.chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
}

#[test]
fn service_point_and_work_order_jumps_match_ids_exactly() {
    let mut w = world();
    // SP-10 starts like SP-1: `:sp SP-1` must not show its orchestration.
    w.import(
        T0,
        &[
            sp_line("SP-10", true, "null"),
            request("SO-10", "enable_service", "SP-10", ""),
        ]
        .join("\n"),
    );
    let mut app = desk(&w);
    command(&mut app, "sp SP-1");
    assert_eq!(app.view, View::Orchestrations);
    let ids: Vec<&str> = app
        .orchestrations
        .list
        .rows
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["SO-1"]);
    assert!(screen(&mut app, 120, 40).contains("service point SP-1"));
    app.update(Action::Key(KeyAction::Back));
    assert!(
        app.orchestrations.list.rows.len() > 1,
        "Esc clears the service point"
    );

    // An id that does not exist stays in the command line, saying so.
    command(&mut app, "wo WO-999999");
    match &app.popup {
        Some(Popup::Input { error, .. }) => {
            assert_eq!(error.as_deref(), Some("there is no work order WO-999999"))
        }
        other => panic!("{other:?}"),
    }
}
