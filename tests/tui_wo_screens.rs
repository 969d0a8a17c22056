//! The desk's missing screens: a work order's detail (from a queue row, or by id for a closed
//! order) with the queue's actions on it, assigning from a pick list of known crews and the
//! partner, correcting a request in VALIDATION_ERROR before its retry, and when each activity
//! waiting for its effective date becomes effective.

mod common;

use common::*;
use orderdesk::client::Request;
use orderdesk::domain::Role;
use orderdesk::lifecycle::OrchState;
use orderdesk::tui::app::{Action, App, Effect, Popup, View};
use orderdesk::tui::keymap::KeyAction;
use orderdesk::tui::line_key;
use orderdesk::workorders::Assignee;

const T0: &str = "2025-06-10T09:00:00Z";

const CREWS: &str = r#"
[crews]
"North Crew" = { kind = "internal", email = "north@utility.example" }
"Volt Contracting" = { kind = "external", email = "dispatch@volt.example" }
"#;

/// A customer with a phone and an email at SP-1 (1 Main St), a Disable Service there, two
/// open work orders (WO-1 assigned by ada to Jo), and WO-3, completed.
fn world() -> World {
    let mut w = World::with_toml(CREWS);
    let lines = [
        r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"],"phone":"555-0100","email":"ada@example.org"}"#.to_string(),
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        request("SO-1", "disable_service", "SP-1", ""),
        wo("WO-1"),
        wo("WO-2"),
        wo("WO-3"),
    ];
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    let ada = actor("ada", Some(Role::Supervisor));
    let jo = Assignee::Internal {
        name: "Jo".into(),
        email: "jo@utility.example".into(),
    };
    w.engine
        .wo_assign(&ada, at("2025-06-10T09:02:00Z"), "WO-1", jo, None)
        .expect("assign");
    w.engine
        .wo_complete(&ada, at("2025-06-10T09:03:00Z"), &["WO-3".to_string()])
        .expect("complete");
    w
}

fn wo(id: &str) -> String {
    format!(
        r#"{{"kind":"work_order","id":"{id}","wo_kind":"special_read","customer":"C-1","site":"SP-1","origin":"manual","status":"NEW","preferred_date":"2025-06-12"}}"#
    )
}

fn desk_as(w: &World, operator: &str, role: Option<Role>) -> App {
    desk_at(w, operator, role, "2025-06-10T09:05:00Z")
}

fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    app.update(Action::Key(key))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

/// Clears the prompt's line (C-u from the end).
fn clear(app: &mut App) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for (code, modifiers) in [
        (KeyCode::End, KeyModifiers::NONE),
        (KeyCode::Char('u'), KeyModifiers::CONTROL),
    ] {
        if let Some(action) = line_key(KeyEvent::new(code, modifiers)) {
            app.update(action);
        }
    }
}

fn sent(effects: &[Effect]) -> Vec<&Request> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn toast(app: &App) -> String {
    app.toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn prompt(app: &App) -> (String, String) {
    match &app.popup {
        Some(Popup::Input { prompt, input, .. }) => (prompt.clone(), input.value().to_string()),
        other => panic!("expected a prompt, got {other:?}"),
    }
}

fn command(app: &mut App, line: &str) {
    key(app, KeyAction::CommandLine);
    typed(app, line);
    app.update(Action::Submit);
}

#[test]
fn enter_on_a_queue_row_opens_the_work_orders_detail() {
    let w = world();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    assert_eq!(app.view, View::Queue);
    assert_eq!(app.queue.list.at(0).map(|o| o.id.as_str()), Some("WO-1"));
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::WorkOrder);
    let text = screen(&mut app, 120, 40);
    for expected in [
        "Work order WO-1",
        "Special read",
        "Ada Byron (C-1)",
        "SP-1 · 1 Main St",
        "555-0100 · ada@example.org",
        "2025-06-12",
        "Jo (internal) · by ada 06-10 09:02",
        "Activities at SP-1",
        "SO-1",
        "assigned to Jo (internal) · by ada",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    insta::assert_snapshot!("wo_detail_120x40", text);
    let text = screen(&mut app, 60, 15);
    for expected in ["Work order WO-1", "Ada Byron", "1 Main St"] {
        assert!(text.contains(expected), "60×15 {expected}:\n{text}");
    }
    insta::assert_snapshot!("wo_detail_60x15", text);
    // Enter opens the activity at the site; Esc comes back to the detail, then the queue.
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-1")
    );
    key(&mut app, KeyAction::Back);
    assert_eq!(app.view, View::WorkOrder);
    key(&mut app, KeyAction::Back);
    assert_eq!(app.view, View::Queue);
}

#[test]
fn the_history_shows_each_event_once_with_who_did_it() {
    let mut w = world();
    let ada = actor("ada", Some(Role::Supervisor));
    // A refusal changed nothing, so it is the audit's alone and stays in the history.
    w.engine
        .wo_complete(&ada, at("2025-06-10T09:04:00Z"), &["WO-3".to_string()])
        .expect("complete again");
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    key(&mut app, KeyAction::Open);
    let text = screen(&mut app, 120, 40);
    assert_eq!(text.matches("assigned to Jo").count(), 1, "{text}");
    assert!(!text.contains("wo assign (ada)"), "{text}");
    assert!(text.contains("NEW → SENT dispatched · by ada"), "{text}");
    assert!(text.contains("History (3, newest first)"), "{text}");
    command(&mut app, "wo WO-3");
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("NEW → COMPLETED by the desk · by ada"),
        "{text}"
    );
    assert!(
        text.contains("wo complete (ada) 0 completed, 1 skipped"),
        "{text}"
    );
}

#[test]
fn at_60x15_the_motion_keys_scroll_the_detail_through_the_whole_history() {
    let mut w = world();
    let ada = actor("ada", Some(Role::Supervisor));
    w.engine
        .wo_set_status(
            &ada,
            at("2025-06-10T09:03:00Z"),
            "WO-1",
            orderdesk::workorders::WoStatus::Setup,
        )
        .expect("setup");
    w.engine
        .wo_assign(
            &ada,
            at("2025-06-10T09:04:00Z"),
            "WO-1",
            Assignee::Partner,
            None,
        )
        .expect("assign");
    let reason = "the customer asked to move the visit to next month, after the holidays";
    w.engine
        .wo_cancel(
            &ada,
            at("2025-06-10T09:04:00Z"),
            &["WO-2".to_string()],
            reason,
        )
        .expect("cancel");
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::WorkOrder);
    let first = screen(&mut app, 60, 15);
    for expected in ["Work order WO-1", "Ada Byron", "SO-1 IN_PROGRESS", "↓ more"] {
        assert!(first.contains(expected), "{expected}:\n{first}");
    }
    let entries = [
        "09:04  assigned to partner (UST) · by ada",
        "09:03  SENT → SETUP by the desk · by ada",
        "09:02  assigned to Jo (internal) · by ada",
        "09:02  NEW → SENT dispatched · by ada",
        "09:00  → NEW created (manual)",
    ];
    let mut seen = vec![first];
    for _ in 0..entries.len() {
        key(&mut app, KeyAction::Down);
        seen.push(screen(&mut app, 60, 15));
    }
    for entry in entries {
        assert!(
            seen.iter().any(|s| s.contains(entry)),
            "{entry} is never shown:\n{}",
            seen.join("\n")
        );
    }
    let last = seen.last().expect("screens");
    assert!(last.contains("09:00  → NEW created (manual)"), "{last}");
    assert!(last.contains("↑ more"), "{last}");
    assert!(last.contains("Work order WO-1"), "the title stays:\n{last}");
    // A history entry opens nothing; Top goes back to the facts and the first activity.
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::WorkOrder);
    assert!(toast(&app).contains("opens nothing"), "{}", toast(&app));
    key(&mut app, KeyAction::Top);
    let body = |text: &str| text.lines().take(14).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&screen(&mut app, 60, 15)), body(&seen[0]));
    key(&mut app, KeyAction::Open);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-1")
    );

    // A long value is wrapped under its label, never cut.
    key(&mut app, KeyAction::Back);
    command(&mut app, "wo WO-2");
    assert_eq!(app.view, View::WorkOrder, "{}", toast(&app));
    let text = screen(&mut app, 60, 15);
    assert!(
        text.contains("│Status    CANCELLED (the customer asked to move the visit"),
        "{text}"
    );
    assert!(
        text.contains("│          to next month, after the holidays)"),
        "{text}"
    );
    key(&mut app, KeyAction::Bottom);
    let text = screen(&mut app, 60, 15);
    let joined: String = text
        .lines()
        .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains(&format!("NEW → CANCELLED by the desk: {reason} · by ada")),
        "{text}"
    );
}

#[test]
fn a_closed_order_opens_by_id_and_a_missing_one_is_named() {
    let w = world();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    command(&mut app, "wo WO-3");
    assert_eq!(app.view, View::WorkOrder, "{}", toast(&app));
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("WO-3"), "{width}×{height}:\n{text}");
        assert!(text.contains("COMPLETED"), "{width}×{height}:\n{text}");
    }
    // A missing id is named, in the prompt, to be corrected there.
    command(&mut app, "wo WO-999");
    match &app.popup {
        Some(Popup::Input { error, .. }) => {
            assert_eq!(error.as_deref(), Some("there is no work order WO-999"))
        }
        other => panic!("{other:?}"),
    }
    app.update(Action::Escape);
    command(&mut app, "wo SO-1");
    match &app.popup {
        Some(Popup::Input { error, .. }) => {
            assert!(
                error.as_deref().unwrap_or("").contains("not a work order"),
                "{error:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    app.update(Action::Escape);
    // An open order still jumps to its row in the queue.
    command(&mut app, "wo WO-2");
    assert_eq!(app.view, View::Queue);
    assert_eq!(app.queue.list.cursor.selected, 1);
}

#[test]
fn the_queue_actions_act_on_the_order_shown_with_the_same_refusals() {
    let w = world();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    command(&mut app, "wo WO-3");
    command(&mut app, "wo WO-2");
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::WorkOrder);
    key(&mut app, KeyAction::Complete);
    match &app.popup {
        Some(Popup::Confirm {
            question, requests, ..
        }) => {
            assert!(
                question.starts_with("Complete 1 work order? (WO-2)"),
                "{question}"
            );
            assert!(
                matches!(requests.as_slice(), [Request::WoComplete { ids }] if ids == &["WO-2"])
            );
        }
        other => panic!("{other:?}"),
    }
    key(&mut app, KeyAction::Deny);
    let effects = key(&mut app, KeyAction::SetSent);
    assert!(
        matches!(sent(&effects).as_slice(), [Request::WoSetStatus { id, .. }] if id == "WO-2"),
        "{effects:?}"
    );
    key(&mut app, KeyAction::Cancel);
    assert!(prompt(&app)
        .0
        .contains("Reason for cancelling 1 work order"));
    app.update(Action::Escape);
    // Support may look but not work the queue: refused before any question, the bar says why.
    let mut app = desk_as(&w, "sue", Some(Role::Support));
    key(&mut app, KeyAction::GoQueue);
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::WorkOrder);
    key(&mut app, KeyAction::Complete);
    assert!(app.popup.is_none());
    assert!(toast(&app).contains("clerk"), "{}", toast(&app));
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(!text.contains(" complete "), "no dead keys:\n{text}");
    }
}

#[test]
fn assign_offers_the_partner_the_crews_and_the_technicians_at_work() {
    let w = world();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    command(&mut app, "wo WO-2");
    key(&mut app, KeyAction::Open);
    key(&mut app, KeyAction::Assign);
    assert_eq!(
        prompt(&app).1,
        "",
        "the list, not a typed value, holds the choices"
    );
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        for expected in ["partner (UST)", "North Crew (internal)"] {
            assert!(
                text.contains(expected),
                "{width}×{height} {expected}:\n{text}"
            );
        }
    }
    let text = screen(&mut app, 120, 40);
    for expected in [
        "Volt Contracting (external)",
        "Jo (internal) jo@utility.example",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    // Typing filters; Enter takes the chosen crew.
    typed(&mut app, "volt");
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("▸ Volt Contracting") && !text.contains("North Crew"),
        "{text}"
    );
    let effects = app.update(Action::Submit);
    match sent(&effects).as_slice() {
        [Request::WoAssign { id, assignee, .. }] => {
            assert_eq!(id, "WO-2");
            assert_eq!(
                assignee,
                &Assignee::External {
                    name: "Volt Contracting".into(),
                    email: "dispatch@volt.example".into()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // Down moves the choice; a whole assignee typed by hand is taken as written.
    key(&mut app, KeyAction::Assign);
    app.update(Action::Pick(1));
    let effects = app.update(Action::Submit);
    assert!(
        matches!(sent(&effects).as_slice(), [Request::WoAssign { assignee: Assignee::Internal { name, .. }, .. }] if name == "North Crew"),
        "{effects:?}"
    );
    key(&mut app, KeyAction::Assign);
    typed(&mut app, "external:Zed:zed@example.org");
    let effects = app.update(Action::Submit);
    assert!(
        matches!(sent(&effects).as_slice(), [Request::WoAssign { assignee: Assignee::External { name, .. }, .. }] if name == "Zed"),
        "{effects:?}"
    );
    // Nothing matches and nothing whole is typed: the prompt stays, saying why.
    key(&mut app, KeyAction::Assign);
    typed(&mut app, "nobody");
    assert!(app.update(Action::Submit).is_empty());
    match &app.popup {
        Some(Popup::Input {
            error: Some(error), ..
        }) => {
            assert!(error.contains("no crew matches `nobody`"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}

/// A Cut for Non-Payment with nothing past due stops in VALIDATION_ERROR.
fn invalid_cnp() -> World {
    let mut w = World::new();
    let lines = [
        sp_line("SP-1", true, &manual("D-1", "on")),
        cnp("SO-1", "SP-1", "").replace("\"120.50\"", "\"0\""),
        sp_line("SP-2", true, &smart("D-2", true, "on")),
        request("SO-2", "disable_service", "SP-2", ""),
    ];
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "VALIDATION_ERROR");
    w
}

#[test]
fn a_validation_error_is_corrected_field_by_field_then_retried() {
    let mut w = invalid_cnp();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    key(&mut app, KeyAction::GoOrchestrations);
    app.orchestrations.state = Some(OrchState::ValidationError);
    app.refresh();
    key(&mut app, KeyAction::Edit);
    let (asked, value) = prompt(&app);
    assert!(
        asked.starts_with("Correct SO-1 (1/11): effective_datetime"),
        "{asked}"
    );
    assert_eq!(value, "");
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("Correct SO-1"), "{width}×{height}:\n{text}");
    }
    // Each field comes prefilled; Enter keeps it.
    app.update(Action::Submit);
    assert_eq!(prompt(&app).1, "SP-1");
    app.update(Action::Submit);
    assert_eq!(prompt(&app).1, "SA-1");
    while !prompt(&app).0.contains("collection_data.past_due_amount") {
        app.update(Action::Submit);
    }
    assert_eq!(prompt(&app).1, "0");
    clear(&mut app);
    typed(&mut app, "120.50");
    while matches!(app.popup, Some(Popup::Input { .. })) {
        app.update(Action::Submit);
    }
    let request = match &app.popup {
        Some(Popup::Confirm {
            question, requests, ..
        }) => {
            assert_eq!(
                question,
                "Correct SO-1 (collection_data.past_due_amount=120.50) and retry it?"
            );
            requests[0].clone()
        }
        other => panic!("{other:?}"),
    };
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("retry it?"), "{width}×{height}:\n{text}");
    }
    let Request::Edit { id, sets, retry } = request else {
        panic!("{request:?}");
    };
    assert!(retry);
    // The same engine call as `orderdesk edit`, then the retry: the request moves on.
    let bo = actor("bo", Some(Role::Clerk));
    w.engine
        .edit(&bo, at("2025-06-10T09:06:00Z"), &id, &sets)
        .expect("edit");
    w.retry("2025-06-10T09:06:00Z", &id).expect("retry");
    assert_ne!(w.state("SO-1"), "VALIDATION_ERROR");
}

#[test]
fn only_a_request_in_validation_error_is_corrected_and_only_by_roles_that_may() {
    let w = invalid_cnp();
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    command(&mut app, "so SO-2");
    assert_eq!(app.view, View::Tree);
    assert!(
        !screen(&mut app, 120, 40).contains("E edit"),
        "not offered where it does not apply"
    );
    key(&mut app, KeyAction::Edit);
    assert!(app.popup.is_none());
    assert!(
        toast(&app).contains("only a request in VALIDATION_ERROR is corrected"),
        "{}",
        toast(&app)
    );
    let mut app = desk_as(&w, "lee", None);
    command(&mut app, "so SO-1");
    key(&mut app, KeyAction::Edit);
    assert!(
        app.popup.is_none(),
        "one who may only look is refused first"
    );
    // The help generated from the keymap offers the key in the hierarchy.
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    command(&mut app, "so SO-1");
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("E edit"), "{text}");
}

#[test]
fn waiting_for_the_effective_date_shows_when() {
    let mut w = World::new();
    let lines = [
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        request(
            "SO-1",
            "disable_service",
            "SP-1",
            r#","effective_datetime":"2025-06-12T08:00:00Z""#,
        ),
        sp_line("SP-2", true, &smart("D-2", true, "on")),
        request("SO-2", "disable_service", "SP-2", ""),
    ];
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");
    let mut app = desk_as(&w, "bo", Some(Role::Clerk));
    key(&mut app, KeyAction::GoOrchestrations);
    for filtered in [false, true] {
        if filtered {
            app.orchestrations.state = Some(OrchState::WaitEffDate);
            app.refresh();
        }
        for (width, height) in [(120, 40), (60, 15)] {
            let text = screen(&mut app, width, height);
            assert!(text.contains("EFFECTIVE"), "{width}×{height}:\n{text}");
            let row = text.lines().find(|l| l.contains("SO-1")).unwrap_or("");
            assert!(row.contains("06-12 08:00"), "{width}×{height}:\n{text}");
        }
    }
    // The export says it too, in the zone with its offset.
    let csv = orderdesk::tui::export::current_list(&app, false).expect("a list to export");
    let mut lines = csv.lines();
    assert!(lines.next().unwrap_or("").contains(",effective"), "{csv}");
    assert!(csv.contains("2025-06-12T08:00:00+00:00"), "{csv}");
    // With no row waiting, the column is not there.
    app.orchestrations.state = Some(OrchState::InProgress);
    app.refresh();
    assert!(!screen(&mut app, 120, 40).contains("EFFECTIVE"));
}
