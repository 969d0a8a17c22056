//! Text entry at the desk: a real line editor in every prompt (readline keys, cursor motion,
//! a long entry that keeps its end in sight), pastes that are text and never keys, a refused
//! entry that stays for correction, and large bulk actions that ask for the count.

mod common;
mod pty;

use common::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use orderdesk::tui::app::{Action, App, Effect, Popup, TYPE_THE_COUNT_ABOVE};
use orderdesk::tui::keymap::KeyAction;
use orderdesk::tui::line_key;

const T0: &str = "2025-06-10T09:00:00Z";

fn world(orders: usize) -> World {
    let mut w = World::new();
    let mut lines = vec![
        r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#
            .to_string(),
        sp_line("SP-1", true, "null"),
    ];
    for n in 1..=orders {
        lines.push(format!(
            r#"{{"kind":"work_order","id":"WO-{n}","wo_kind":"special_read","customer":"C-1","site":"SP-1","origin":"manual","status":"NEW"}}"#
        ));
    }
    w.import(T0, &lines.join("\n"));
    w
}

fn desk(w: &World) -> App {
    desk_at(
        w,
        "sam",
        Some(orderdesk::domain::Role::Supervisor),
        "2025-06-10T09:05:00Z",
    )
}

/// Presses a key as the terminal sends it, through the desk's prompt key map.
fn press(app: &mut App, code: KeyCode, modifiers: KeyModifiers) -> Vec<Effect> {
    match line_key(KeyEvent::new(code, modifiers)) {
        Some(action) => app.update(action),
        None => Vec::new(),
    }
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn line(app: &App) -> String {
    match &app.popup {
        Some(Popup::Input { input, .. }) => input.value().to_string(),
        other => panic!("no prompt open: {other:?}"),
    }
}

const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const NONE: KeyModifiers = KeyModifiers::NONE;

#[test]
fn prompts_take_the_readline_keys() {
    let w = world(3);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Filter));
    typed(&mut app, "special read");
    // C-u kills back to the start of the line, as in a shell: no "u" is typed.
    press(&mut app, KeyCode::Char('u'), CTRL);
    assert_eq!(line(&app), "");
    typed(&mut app, "ord WO");
    // Home then a character inserts at the start; End goes back.
    press(&mut app, KeyCode::Home, NONE);
    typed(&mut app, "x");
    assert_eq!(line(&app), "xord WO");
    press(&mut app, KeyCode::Delete, NONE);
    press(&mut app, KeyCode::End, NONE);
    typed(&mut app, "-2");
    assert_eq!(line(&app), "xrd WO-2");
    // Left moves; C-k kills to the end; C-y yanks it back.
    press(&mut app, KeyCode::Left, NONE);
    press(&mut app, KeyCode::Left, NONE);
    press(&mut app, KeyCode::Char('k'), CTRL);
    assert_eq!(line(&app), "xrd WO");
    press(&mut app, KeyCode::Char('y'), CTRL);
    assert_eq!(line(&app), "xrd WO-2");
    // C-w kills the word before the cursor; C-a and C-e move to the ends.
    press(&mut app, KeyCode::Char('w'), CTRL);
    assert_eq!(line(&app), "xrd WO-");
    press(&mut app, KeyCode::Char('a'), CTRL);
    press(&mut app, KeyCode::Char('d'), KeyModifiers::NONE);
    press(&mut app, KeyCode::Char('e'), CTRL);
    typed(&mut app, "3");
    assert_eq!(line(&app), "dxrd WO-3");
    // Ctrl-C abandons the line and quits nothing.
    let effects = press(&mut app, KeyCode::Char('c'), CTRL);
    assert!(effects.is_empty() && app.popup.is_none());
}

#[test]
fn a_long_entry_keeps_its_end_in_sight_at_every_width() {
    let w = world(1);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Filter));
    let long = "a very long filter text that runs past the edge of the prompt, ending here:END";
    typed(&mut app, long);
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("here:END"), "{width}×{height}:\n{text}");
    }
    // Back at the start, the start shows again.
    press(&mut app, KeyCode::Home, NONE);
    let text = screen(&mut app, 60, 15);
    assert!(text.contains("> a very long"), "{text}");
    insta::assert_snapshot!("prompt_long_entry_60x15", text);
}

#[test]
fn a_paste_is_text_even_with_a_line_break() {
    let w = world(1);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Filter));
    let effects = app.update(Action::Paste("Reconnection\nq".into()));
    assert!(effects.is_empty(), "a pasted line break runs nothing");
    assert!(app.typing(), "the prompt is still open");
    assert_eq!(line(&app), "Reconnection q");
    // Outside a prompt a paste runs no key either.
    app.update(Action::Escape);
    let effects = app.update(Action::Paste("q".into()));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn a_refused_entry_stays_in_its_prompt_to_be_corrected() {
    let w = world(2);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Assign));
    typed(&mut app, "internal:Jo");
    app.update(Action::Submit);
    match &app.popup {
        Some(Popup::Input { input, error, .. }) => {
            assert_eq!(input.value(), "internal:Jo");
            assert!(error.is_some(), "the prompt says why");
        }
        other => panic!("the prompt closed: {other:?}"),
    }
    for (width, height) in [(120, 40), (60, 15)] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("> internal:Jo"), "{text}");
    }
    // Corrected in place, it goes.
    typed(&mut app, ":jo@example.org");
    let effects = app.update(Action::Submit);
    assert!(app.popup.is_none());
    assert!(
        matches!(effects.as_slice(), [Effect::Send(_)]),
        "{effects:?}"
    );
}

#[test]
fn a_prefilled_value_is_replaced_by_typing_and_kept_by_moving() {
    let w = world(2);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Filter));
    typed(&mut app, "WO-1");
    app.update(Action::Submit);
    // The filter prompt opens on the filter in force; typing replaces it, as in a selected field.
    app.update(Action::Key(KeyAction::Filter));
    assert_eq!(line(&app), "WO-1");
    typed(&mut app, "WO-2");
    assert_eq!(line(&app), "WO-2");
    app.update(Action::Submit);
    // Moving first keeps it for editing.
    app.update(Action::Key(KeyAction::Filter));
    press(&mut app, KeyCode::End, NONE);
    press(&mut app, KeyCode::Backspace, NONE);
    typed(&mut app, "1");
    assert_eq!(line(&app), "WO-1");
    // Backspace on the untouched value clears it whole.
    app.update(Action::Escape);
    app.update(Action::Key(KeyAction::Filter));
    press(&mut app, KeyCode::Backspace, NONE);
    assert_eq!(line(&app), "");
}

#[test]
fn a_bulk_action_on_more_than_fifty_rows_asks_for_the_count() {
    let orders = TYPE_THE_COUNT_ABOVE + 7;
    let w = world(orders);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::MarkAll));
    assert_eq!(app.queue.list.marks.len(), orders);
    app.update(Action::Key(KeyAction::Complete));
    // `y` is not enough: it is typed as text.
    let effects = press(&mut app, KeyCode::Char('y'), NONE);
    assert!(effects.is_empty());
    let effects = app.update(Action::Submit);
    assert!(effects.is_empty());
    match &app.popup {
        Some(Popup::Confirm {
            typed: Some(typed), ..
        }) => {
            assert_eq!(typed.expected, orders);
            assert!(typed.error.as_deref().unwrap_or("").contains("y is not 57"));
        }
        other => panic!("{other:?}"),
    }
    for (width, height, name) in [(120, 40, "120x40"), (60, 15, "60x15")] {
        let text = screen(&mut app, width, height);
        assert!(text.contains("type 57"), "{text}");
        insta::assert_snapshot!(format!("bulk_count_{name}"), text);
    }
    press(&mut app, KeyCode::Char('u'), CTRL);
    typed(&mut app, &orders.to_string());
    let effects = app.update(Action::Submit);
    assert_eq!(effects.len(), 1, "one bulk request for {orders} orders");
    assert!(app.popup.is_none());
}

#[test]
fn fifty_rows_or_fewer_are_confirmed_with_y() {
    let w = world(TYPE_THE_COUNT_ABOVE);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::MarkAll));
    app.update(Action::Key(KeyAction::Complete));
    assert!(!app.typing());
    let effects = app.update(Action::Key(KeyAction::Confirm));
    assert_eq!(effects.len(), 1);
}

#[test]
fn a_paste_into_the_running_desk_is_typed_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = pty::demo_db(dir.path());
    let mut desk = pty::Desk::open(&db, "ada");
    desk.keys("1");
    desk.wait_for("Open work orders");
    desk.keys("/");
    // What a terminal sends for a pasted "Reconnection⏎q" with bracketed paste on.
    desk.keys("\x1b[200~Reconnection\rq\x1b[201~");
    desk.wait_for("Reconnection q");
    desk.keys("\x1b");
    assert!(desk.text().contains("Open work orders"), "{}", desk.text());
    let (status, _) = desk.quit();
    assert!(status.ends_with(", 0)"), "{status}");
}

#[test]
fn requests_sent_together_are_reported_together_once_all_are_answered() {
    use orderdesk::runtime::{Notice, Ticket};
    let w = world(3);
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::MarkAll));
    app.update(Action::Key(KeyAction::Assign));
    typed(&mut app, "internal:Jo:jo@example.org");
    let effects = app.update(Action::Submit);
    assert_eq!(effects.len(), 3, "{effects:?}");
    let toast = |app: &App| {
        app.toast
            .clone()
            .map(|t| (t.text, t.error))
            .unwrap_or_default()
    };
    app.update(Action::Notice(Notice::Done {
        ticket: Ticket(1),
        message: "WO-1 assigned to Jo".into(),
    }));
    assert_eq!(toast(&app), ("working… 1 of 3 answered".into(), false));
    app.update(Action::Notice(Notice::Refused {
        ticket: Ticket(2),
        code: "ILLEGAL_TRANSITION".into(),
        message: "WO-2 is closed".into(),
    }));
    app.update(Action::Notice(Notice::Done {
        ticket: Ticket(3),
        message: "WO-3 assigned to Jo".into(),
    }));
    let (text, error) = toast(&app);
    assert!(error, "{text}");
    assert!(
        text.starts_with(
            "2 of 3 done, 1 refused; the first: refused (ILLEGAL_TRANSITION): WO-2 is closed"
        ),
        "{text}"
    );
    // One request alone is told as it is.
    app.update(Action::Notice(Notice::Done {
        ticket: Ticket(4),
        message: "WO-1 completed".into(),
    }));
    assert_eq!(toast(&app), ("WO-1 completed".into(), false));
}
