//! Marks and roles at the desk: every list that offers marks takes them (queue, orchestrations,
//! error groups), every action that can take several rows takes the marked ones and says how
//! many; a role's impossible actions are not offered, and are refused before any prompt.

mod common;

use common::*;
use orderdesk::client::Request;
use orderdesk::domain::Role;
use orderdesk::tui::app::{Action, App, Effect, Popup, View};
use orderdesk::tui::keymap::KeyAction;

const T0: &str = "2025-06-10T09:00:00Z";

/// Four Disable Service requests whose commands failed (ACTIVITY_ERROR, CHILD_ERROR), one
/// Cut for Non-Payment without collection data, and two open work orders.
fn world() -> World {
    let mut w = World::new();
    let mut lines = vec![
        r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#
            .to_string(),
    ];
    for n in 1..=5 {
        lines.push(sp_line(
            &format!("SP-{n}"),
            true,
            &smart(&format!("D-{n}"), true, "on"),
        ));
    }
    for n in 1..=4 {
        lines.push(request(
            &format!("SO-{n}"),
            "disable_service",
            &format!("SP-{n}"),
            "",
        ));
    }
    lines.push(request("SO-5", "cut_for_non_payment", "SP-5", ""));
    for n in 1..=2 {
        lines.push(format!(
            r#"{{"kind":"work_order","id":"WO-{n}","wo_kind":"special_read","customer":"C-1","site":"SP-1","origin":"manual","status":"NEW"}}"#
        ));
    }
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    for n in 1..=4 {
        let child = w.children(&format!("SO-{n}"))[0].id.clone();
        let co = w.open_comm(&child);
        w.inbound(
            "2025-06-10T09:01:00Z",
            &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}}"#),
        );
    }
    w
}

fn desk_as(w: &World, operator: &str, role: Option<Role>) -> App {
    desk_at(w, operator, role, "2025-06-10T09:05:00Z")
}

fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    app.update(Action::Key(key))
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

fn question(app: &App) -> String {
    match &app.popup {
        Some(Popup::Confirm { question, .. }) => question.clone(),
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

#[test]
fn marked_orchestrations_are_what_retry_and_execute_now_take() {
    let w = world();
    let mut app = desk_as(&w, "sam", Some(Role::Supervisor));
    key(&mut app, KeyAction::GoOrchestrations);
    app.orchestrations.state = Some(orderdesk::lifecycle::OrchState::ActivityError);
    app.refresh();
    assert_eq!(app.orchestrations.list.total, 4);
    key(&mut app, KeyAction::ToggleMark);
    key(&mut app, KeyAction::ToggleMark);
    assert_eq!(app.orchestrations.list.marks.len(), 2);
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("2 marked"), "{width}×{height}:\n{text}");
        assert!(text.contains('●'), "{text}");
    }
    assert!(sent(&key(&mut app, KeyAction::Retry)).is_empty());
    assert!(
        question(&app).starts_with("Retry 2 activities marked"),
        "{}",
        question(&app)
    );
    let effects = key(&mut app, KeyAction::Confirm);
    match sent(&effects).as_slice() {
        [Request::RetryAll { ids }] => assert_eq!(ids.len(), 2),
        other => panic!("{other:?}"),
    }
    // The marks stay until the work is done; execute-now takes them too, one request each.
    key(&mut app, KeyAction::ExecuteNow);
    assert!(question(&app).starts_with("Execute 2 activities now"));
    let effects = key(&mut app, KeyAction::Confirm);
    assert_eq!(sent(&effects).len(), 2);
    // U clears; C-a marks every row of the list.
    key(&mut app, KeyAction::ClearMarks);
    assert!(app.orchestrations.list.marks.is_empty());
    key(&mut app, KeyAction::MarkAll);
    assert_eq!(app.orchestrations.list.marks.len(), 4);
}

#[test]
fn one_marked_orchestration_is_acted_on_even_when_the_cursor_is_elsewhere() {
    let w = world();
    let mut app = desk_as(&w, "sam", Some(Role::Supervisor));
    key(&mut app, KeyAction::GoOrchestrations);
    app.orchestrations.state = Some(orderdesk::lifecycle::OrchState::ActivityError);
    app.refresh();
    key(&mut app, KeyAction::ToggleMark);
    let marked = app
        .orchestrations
        .list
        .marks
        .iter()
        .next()
        .cloned()
        .expect("one mark");
    assert_ne!(
        app.orchestrations
            .list
            .at(app.orchestrations.list.cursor.selected)
            .map(|r| r.id.clone()),
        Some(marked.clone())
    );
    let effects = key(&mut app, KeyAction::Retry);
    match sent(&effects).as_slice() {
        [Request::Retry { id }] => assert_eq!(id, &marked),
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_groups_take_marks_and_act_on_their_activities() {
    let w = world();
    let mut app = desk_as(&w, "sam", Some(Role::Supervisor));
    key(&mut app, KeyAction::GoErrors);
    assert!(app.errors.groups.len() >= 2, "{:?}", app.errors.groups);
    let (code, count) = app.errors.groups[0].clone();
    key(&mut app, KeyAction::ToggleMark);
    assert!(app.errors.marks.contains(&code));
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("1 group marked"), "{text}");
    }
    key(&mut app, KeyAction::Retry);
    let q = question(&app);
    assert!(q.starts_with(&format!("Retry {count} activit")), "{q}");
    assert!(q.contains(&format!("in error {code}")), "{q}");
    let effects = key(&mut app, KeyAction::Confirm);
    match sent(&effects).as_slice() {
        [Request::RetryAll { ids }] => assert_eq!(ids.len(), count),
        other => panic!("{other:?}"),
    }
    key(&mut app, KeyAction::MarkAll);
    assert_eq!(app.errors.marks.len(), app.errors.groups.len());
    key(&mut app, KeyAction::ClearMarks);
    assert!(app.errors.marks.is_empty());
}

#[test]
fn set_sent_takes_the_marked_work_orders() {
    let w = world();
    let mut app = desk_as(&w, "cleo", Some(Role::Clerk));
    key(&mut app, KeyAction::MarkAll);
    assert_eq!(app.queue.list.marks.len(), 2);
    key(&mut app, KeyAction::SetSent);
    assert!(
        question(&app).starts_with("Set 2 work orders to SENT"),
        "{}",
        question(&app)
    );
    let effects = key(&mut app, KeyAction::Confirm);
    assert_eq!(sent(&effects).len(), 2);
    assert_eq!(
        app.queue.list.marks.len(),
        2,
        "the marks stay until the work is done"
    );
}

#[test]
fn a_role_is_offered_only_what_it_may_do() {
    let w = world();
    let mut clerk = desk_as(&w, "bo", Some(Role::Clerk));
    key(&mut clerk, KeyAction::GoOrchestrations);
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut clerk, width, height);
        let bar = text.lines().last().unwrap_or("").to_string();
        assert!(!bar.contains("retry") && !bar.contains("discard"), "{bar}");
        assert!(bar.contains("update"), "a clerk may file updates: {bar}");
    }
    // Help lists what the clerk may not do, with who may.
    key(&mut clerk, KeyAction::Help);
    let help = screen(&mut clerk, 120, 40);
    assert!(help.contains("(only a supervisor"), "{help}");
    key(&mut clerk, KeyAction::Back);
    // The refusal comes before the prompt, in plain words naming the role that may.
    let effects = key(&mut clerk, KeyAction::Discard);
    assert!(effects.is_empty());
    assert!(
        clerk.popup.is_none(),
        "no prompt for what the clerk may not do"
    );
    let toast = clerk.toast.clone().expect("a refusal");
    assert!(
        toast.error && toast.text.contains("only a supervisor"),
        "{toast:?}"
    );
    assert!(!toast.text.contains('§'), "{toast:?}");

    // Support staff cannot work the queue: refused before the confirmation.
    let mut support = desk_as(&w, "sue", Some(Role::Support));
    assert_eq!(support.view, View::Queue);
    key(&mut support, KeyAction::Complete);
    assert!(support.popup.is_none());
    let toast = support.toast.clone().expect("a refusal");
    assert!(toast.text.contains("sue"), "{toast:?}");
    let bar = screen(&mut support, 60, 15);
    let bar = bar.lines().last().unwrap_or("");
    assert!(!bar.contains("complete"), "{bar}");
}
