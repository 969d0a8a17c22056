//! The audit at the desk: Enter shows an entry in full and opens the activity it names; `f o`,
//! `f a` and `f d` keep one operator, one action or a range of days, each named in the title,
//! applied by the engine to the whole log; a bad range is refused in its prompt; the export
//! carries every field.

mod common;

use common::*;
use orderdesk::client::Api;
use orderdesk::domain::{AuditFilter, Role};
use orderdesk::tui::app::{Action, App, Popup, View};
use orderdesk::tui::keymap::{KeyAction, Keymap};

const MAY: &str = "2025-05-02T15:00:00Z";
const JUNE: &str = "2025-06-10T14:00:00Z";

/// Given a clerk's refused retry in May, then in June a supervisor's retry and discard.
fn world() -> World {
    let mut w = World::with_toml("timezone = \"America/Chicago\"");
    w.import(
        MAY,
        &[
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#
                .to_string(),
            sp_line("SP-1", true, &smart("D-1", true, "on")),
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            request("SO-1", "disable_service", "SP-1", ""),
            request("SO-2", "disable_service", "SP-2", ""),
        ]
        .join("\n"),
    );
    w.tick(MAY);
    for so in ["SO-1", "SO-2"] {
        let co = w.open_comm(&w.children(so)[0].id);
        w.inbound(
            MAY,
            &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}}"#),
        );
    }
    let clerk = actor("bo", Some(Role::Clerk));
    let refused = w.engine.retry(&clerk, at("2025-05-02T16:00:00Z"), "SO-2");
    assert!(refused.is_err(), "a clerk may not retry");
    w.retry(JUNE, "SO-2").expect("retry");
    w.discard("2025-06-10T14:05:00Z", "SO-1").expect("discard");
    w
}

fn desk(w: &World) -> App {
    let mut app = App::new(
        orderdesk::client::Local::reading(
            w.engine.reader(),
            actor("sam", Some(Role::Supervisor)),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        Keymap::defaults().expect("default keymap"),
    );
    app.update(Action::Clock(at("2025-06-10T14:10:00Z"), 1.0));
    app.update(Action::Key(KeyAction::GoAudit));
    app
}

fn key(app: &mut App, key: KeyAction) {
    app.update(Action::Key(key));
}

/// Opens the prompt of `action` and submits `text` in it.
fn answer(app: &mut App, action: KeyAction, text: &str) {
    key(app, action);
    assert!(
        matches!(app.popup, Some(Popup::Input { .. })),
        "{action:?} opens a prompt"
    );
    // Whatever the prompt holds (the current value) goes first, as C-u would.
    app.update(Action::Edit(tui_input::InputRequest::DeleteLine));
    for c in text.chars() {
        app.update(Action::Char(c));
    }
    app.update(Action::Submit);
}

/// The text a refused prompt keeps, and why it was refused.
fn refused(app: &App) -> (String, String) {
    match &app.popup {
        Some(Popup::Input {
            input,
            error: Some(why),
            ..
        }) => (input.value().to_string(), why.clone()),
        other => panic!("the prompt stays open with why, got {other:?}"),
    }
}

fn operators(app: &App) -> Vec<String> {
    app.audit
        .entries
        .iter()
        .map(|e| e.operator.clone())
        .collect()
}

fn title(app: &mut App) -> String {
    let text = screen(app, 120, 40);
    text.lines().nth(1).unwrap_or_default().to_string()
}

#[test]
fn enter_shows_the_entry_in_full_and_then_opens_its_activity() {
    let w = world();
    let mut app = desk(&w);
    // The clerk's refused retry, after June's actions (the list is newest first).
    let row = operators(&app)
        .iter()
        .position(|o| o == "bo")
        .expect("bo's row");
    for _ in 0..row {
        key(&mut app, KeyAction::Down);
    }
    key(&mut app, KeyAction::Open);
    assert!(app.audit.detail);
    let text = screen(&mut app, 120, 40);
    for shown in [
        "Engine time",
        "2025-05-02 11:00:00 (America/Chicago)",
        "Wall clock",
        "Operator    bo",
        "Role        clerk",
        "Action      retry",
        "Ids         SO-2",
        "refused, PERMISSION_DENIED",
        "Reason",
    ] {
        assert!(text.contains(shown), "{shown:?} in\n{text}");
    }
    insta::assert_snapshot!("audit_detail_120x40", text);
    insta::assert_snapshot!("audit_detail_60x15", screen(&mut app, 60, 15));
    // Esc goes back to the list; Enter twice opens SO-2's hierarchy.
    key(&mut app, KeyAction::Back);
    assert!(!app.audit.detail);
    key(&mut app, KeyAction::Open);
    key(&mut app, KeyAction::Open);
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-2")
    );
}

#[test]
fn o_opens_the_activity_straight_from_the_list() {
    let w = world();
    let mut app = desk(&w);
    key(&mut app, KeyAction::OpenActivity);
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some("SO-1")
    );
}

#[test]
fn the_detail_names_a_supervisor_s_reason() {
    let w = world();
    let mut app = desk(&w);
    // The newest: the discard of SO-1, with its reason.
    key(&mut app, KeyAction::Open);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("Action      discard"), "{text}");
    assert!(text.contains("Detail      test"), "{text}");
    assert!(text.contains("Outcome     done"), "{text}");
    assert!(text.contains("Channel     not recorded"), "{text}");
}

#[test]
fn f_o_keeps_one_operator_and_says_so_in_the_title() {
    let w = world();
    let mut app = desk(&w);
    // The import and the inbound messages were sam's too.
    assert_eq!(app.audit.entries.len(), 6);
    answer(&mut app, KeyAction::FilterOperator, "bo");
    assert_eq!(operators(&app), ["bo"]);
    assert!(
        title(&mut app).contains("Audit: 1 action(s) · by bo"),
        "{}",
        title(&mut app)
    );
    insta::assert_snapshot!("audit_by_operator_60x15", screen(&mut app, 60, 15));
    // Empty: every operator again.
    answer(&mut app, KeyAction::FilterOperator, "");
    assert_eq!(app.audit.entries.len(), 6);
    // Two words are no operator: refused in the prompt, which keeps them.
    answer(&mut app, KeyAction::FilterOperator, "bo sam");
    let (kept, why) = refused(&app);
    assert_eq!(kept, "bo sam");
    assert!(why.contains("`bo sam` is not an operator"), "{why}");
}

#[test]
fn f_a_keeps_one_action() {
    let w = world();
    let mut app = desk(&w);
    answer(&mut app, KeyAction::FilterAction, "retry");
    assert_eq!(app.audit.entries.len(), 2);
    assert!(app.audit.entries.iter().all(|e| e.action == "retry"));
    assert!(title(&mut app).contains("Audit: 2 action(s) · action retry"));
    // The filters combine, and f r resets them all.
    answer(&mut app, KeyAction::FilterOperator, "sam");
    assert_eq!(operators(&app), ["sam"]);
    assert!(title(&mut app).contains("· by sam · action retry"));
    // An action of two words is one action, spaced as the log writes it.
    answer(&mut app, KeyAction::FilterAction, "wo   cancel");
    assert_eq!(app.audit.action.as_deref(), Some("wo cancel"));
    assert!(app.audit.entries.is_empty());
    assert!(title(&mut app).contains("Audit: 0 action(s) · by sam · action wo cancel"));
    key(&mut app, KeyAction::ResetFilters);
    assert_eq!(app.audit.entries.len(), 6);
    assert!(title(&mut app).contains("Audit: 6 action(s) "));
}

#[test]
fn f_d_keeps_a_range_of_days_and_refuses_a_bad_one_in_its_prompt() {
    let w = world();
    let mut app = desk(&w);
    answer(&mut app, KeyAction::DateRange, "2025-05-01 2025-05-31");
    // May's import, two inbound messages and the clerk's refusal.
    assert_eq!(operators(&app), ["bo", "sam", "sam", "sam"]);
    assert!(app.audit.entries.iter().all(|e| e.at < at(JUNE)));
    assert!(title(&mut app).contains("· 2025-05-01 to 2025-05-31"));
    insta::assert_snapshot!("audit_by_days_120x40", screen(&mut app, 120, 40));
    answer(&mut app, KeyAction::DateRange, "2025-06-10");
    assert_eq!(app.audit.entries.len(), 2);
    assert!(title(&mut app).contains("· on 2025-06-10"));
    for (bad, why) in [
        (
            "2025-06-10 2025-05-01",
            "the range starts 2025-06-10, after it ends 2025-05-01",
        ),
        ("2025-13-01", "`2025-13-01` is not a day of the calendar"),
        ("June", "`June` is not a date"),
        ("2025-05-01 2025-05-02 2025-05-03", "is not a range of days"),
    ] {
        answer(&mut app, KeyAction::DateRange, bad);
        let (kept, said) = refused(&app);
        assert_eq!(kept, bad);
        assert!(said.contains(why), "{bad}: {said}");
        app.update(Action::Escape);
        // The range in force stays.
        assert!(title(&mut app).contains("· on 2025-06-10"));
    }
}

#[test]
fn the_filters_reach_past_the_newest_thousand() {
    let w = world();
    let api = orderdesk::client::Local::reading(
        w.engine.reader(),
        actor("sam", Some(Role::Supervisor)),
        orderdesk::runtime::Clock::wall(),
    );
    // Asked for the newest one, the filter is applied first: bo's May action, behind June's.
    let filter = AuditFilter {
        operator: Some("bo".into()),
        ..AuditFilter::default()
    };
    let found = api.audit(&filter, 1).expect("audit");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].operator, "bo");
    let newest = api.audit(&AuditFilter::default(), 1).expect("audit");
    assert_eq!(newest[0].action, "discard");
}

#[test]
fn the_export_carries_role_channel_detail_reason_and_the_wall_clock() {
    let w = world();
    let app = desk(&w);
    let csv = orderdesk::tui::export::current_list(&app, false).expect("a list");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("at,wall_clock,operator,account,role,channel,action,ids,outcome,code,reason,detail")
    );
    let refused = csv.lines().find(|l| l.contains(",bo,")).expect("bo's line");
    assert!(
        refused.starts_with("2025-05-02T11:00:00-05:00,"),
        "{refused}"
    );
    assert!(
        refused.contains(",clerk,,retry,SO-2,refused,PERMISSION_DENIED,"),
        "{refused}"
    );
    let discard = csv
        .lines()
        .find(|l| l.contains("discard"))
        .expect("discard");
    assert!(discard.ends_with(",done,,,test"), "{discard}");
    let json = orderdesk::tui::export::current_list(&app, true).expect("a list");
    let values: serde_json::Value = serde_json::from_str(&json).expect("json");
    let bo = values
        .as_array()
        .and_then(|a| a.iter().find(|e| e["operator"] == "bo"))
        .expect("bo");
    assert_eq!(bo["role"], "clerk");
    assert_eq!(bo["code"], "PERMISSION_DENIED");
    assert_eq!(bo["at"], "2025-05-02T11:00:00-05:00");
    assert!(bo["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// `operator`'s desk on the audit view, keeping its state in their own file beside `base`.
fn desk_of(w: &World, operator: &str, base: &std::path::Path) -> App {
    let mut app = App::new(
        orderdesk::client::Local::reading(
            w.engine.reader(),
            actor(operator, Some(Role::Supervisor)),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        Keymap::defaults().expect("default keymap"),
    );
    app.state_path = Some(orderdesk::tui::state_file(base, operator));
    app.update(Action::Clock(at("2025-06-10T14:10:00Z"), 1.0));
    app.update(Action::Key(KeyAction::GoAudit));
    app
}

#[test]
fn each_operator_finds_their_own_filters_after_a_restart() {
    let w = world();
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("desk.json");
    let mut sam = desk_of(&w, "sam", &base);
    answer(&mut sam, KeyAction::FilterOperator, "bo");
    answer(&mut sam, KeyAction::DateRange, "2025-05-01 2025-05-31");
    let mut ada = desk_of(&w, "ada", &base);
    answer(&mut ada, KeyAction::FilterAction, "retry");
    drop((sam, ada));

    let mut sam = desk_of(&w, "sam", &base);
    assert_eq!(sam.audit.operator.as_deref(), Some("bo"));
    assert_eq!(sam.audit.action, None);
    assert_eq!(operators(&sam), ["bo"]);
    let shown = title(&mut sam);
    assert!(
        shown.contains("· by bo") && shown.contains("· 2025-05-01 to 2025-05-31"),
        "{shown}"
    );
    let mut ada = desk_of(&w, "ada", &base);
    assert_eq!(ada.audit.operator, None);
    assert_eq!(ada.audit.days, None);
    assert_eq!(ada.audit.action.as_deref(), Some("retry"));
    assert_eq!(ada.audit.entries.len(), 2);
    assert!(title(&mut ada).contains("· action retry"));

    // A reset is kept too; what the other views saved stays in the file.
    key(&mut sam, KeyAction::ResetFilters);
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(orderdesk::tui::state_file(&base, "sam")).expect("read"),
    )
    .expect("json");
    assert_eq!(saved["audit"]["operator"], serde_json::Value::Null);
    let again = desk_of(&w, "sam", &base);
    assert_eq!(again.audit.entries.len(), 6);
}
