//! The throttle view, driven through `update` and drawn on a TestBackend at 80×24, 120×40 and
//! the smallest desk (60×15): the schedule rows with the last run and what waits, the day's
//! releases, business hours, the what-if list, and the supervisor's "run the batch now".
//!
//! The world (UTC, the §4.3 schedule): 20 disconnects waiting since Sunday (effective Monday
//! 08:00) and 30 made at 08:30; a supervisor's run at 09:00 released 30. Then 12 more made at
//! 09:02, three of them moved to 13:30. The desk's clock reads Monday 09:05.

mod common;

use common::*;
use orderdesk::client::Request;
use orderdesk::domain::Role;
use orderdesk::tui::app::{Action, App, Effect, Popup, View};
use orderdesk::tui::keymap::KeyAction;

/// Imports `n` CNPs on smart, commissioned, On service points and ticks at `tick`; returns the
/// throttled Remote Disconnects they made.
fn throttled_rds(w: &mut World, tag: &str, n: usize, tick: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 1..=n {
        let sp = format!("SP-{tag}{i}");
        lines.push(sp_line(
            &sp,
            true,
            &smart(&format!("D-{tag}{i}"), true, "on"),
        ));
        lines.push(cnp(&format!("SO-{tag}{i}"), &sp, ""));
    }
    w.import(tick, &lines.join("\n"));
    w.tick(tick);
    (1..=n)
        .map(|i| w.children(&format!("SO-{tag}{i}"))[0].id.clone())
        .collect()
}

fn world() -> World {
    let mut w = World::new();
    throttled_rds(&mut w, "A", 20, "2025-06-08T12:00:00Z");
    throttled_rds(&mut w, "B", 30, "2025-06-09T08:30:00Z");
    w.crwto("2025-06-09T09:00:00Z", None);
    let late = throttled_rds(&mut w, "C", 12, "2025-06-09T09:02:00Z");
    let supervisor = w.supervisor.clone();
    for (i, rd) in late.iter().enumerate().skip(9) {
        w.engine
            .update(
                &supervisor,
                at("2025-06-09T09:03:00Z"),
                &format!("SO-C{}", i + 1),
                "after lunch",
                Some(at("2025-06-09T13:30:00Z")),
                Some(rd),
            )
            .expect("update filed");
    }
    w.tick("2025-06-09T09:03:00Z");
    w
}

fn desk_as(w: &World, operator: &str, role: Role) -> App {
    let mut app = desk_at(w, operator, Some(role), "2025-06-09T09:05:00Z");
    app.update(Action::Key(KeyAction::GoThrottle));
    assert_eq!(app.view, View::Throttle);
    app
}

fn desk(w: &World) -> App {
    desk_as(w, "sam", Role::Supervisor)
}

fn both_sizes(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), screen(app, 120, 40));
}

#[test]
fn throttle_view() {
    let w = world();
    let mut app = desk(&w);
    both_sizes("throttle", &mut app);
    insta::assert_snapshot!("throttle_60x15", screen(&mut app, 60, 15));
}

#[test]
fn the_what_if_counts_every_waiting_disconnect() {
    let w = world();
    let app = desk(&w);
    let releases: Vec<String> = app
        .throttle
        .whatif
        .iter()
        .map(|w| {
            w.release
                .map_or("-".into(), |t| t.format("%H:%M").to_string())
        })
        .collect();
    assert_eq!(releases.len(), 32);
    assert!(releases[..29].iter().all(|t| t == "09:15"), "{releases:?}");
    assert!(releases[29..].iter().all(|t| t == "13:30"), "{releases:?}");
    assert_eq!(app.throttle.released, [30, 0], "the 09:00 run, per row");
}

#[test]
fn j_and_k_scroll_the_what_if_list() {
    let w = world();
    let mut app = desk(&w);
    let _ = screen(&mut app, 80, 24);
    for _ in 0..31 {
        app.update(Action::Key(KeyAction::Down));
    }
    assert_eq!(app.throttle.cursor.selected, 31, "stops at the last row");
    app.update(Action::Key(KeyAction::Up));
    assert_eq!(app.throttle.cursor.selected, 30);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("SC-62"), "{text}");
    assert!(
        app.throttle.cursor.offset > 0,
        "the selection is kept on screen"
    );
    insta::assert_snapshot!("throttle_scrolled_80x24", text);
    app.update(Action::Key(KeyAction::Top));
    assert_eq!(
        (app.throttle.cursor.selected, app.throttle.cursor.offset),
        (0, 0)
    );
}

#[test]
fn the_selection_stays_on_its_command_when_the_batch_runs() {
    let mut w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Bottom));
    let chosen = orderdesk::tui::throttle_view::selected_command(&app).expect("a selection");
    w.engine
        .crwto_scheduled(at("2025-06-09T09:15:00Z"))
        .expect("scheduled run");
    app.update(Action::Clock(at("2025-06-09T09:16:00Z"), 1.0));
    app.update(Action::Refresh);
    assert_eq!(app.throttle.whatif.len(), 3);
    assert_eq!(
        orderdesk::tui::throttle_view::selected_command(&app).as_deref(),
        Some(chosen.as_str())
    );
    assert_eq!(app.throttle.released, [59, 0]);
}

#[test]
fn running_the_batch_asks_first_and_says_what_it_would_do() {
    let w = world();
    let mut app = desk(&w);
    let effects = app.update(Action::Key(KeyAction::RunBatch));
    assert!(
        effects.is_empty(),
        "nothing is sent before the operator confirms"
    );
    match &app.popup {
        Some(Popup::Confirm { question, .. }) => assert_eq!(
            question,
            "Run D1-CRWTO now (09:05)? Row 08:00-12:00 allows 30: it would release 29 of 32 waiting (0 due stay, 3 not yet due)."
        ),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    both_sizes("throttle_confirm", &mut app);
    let effects = app.update(Action::Key(KeyAction::Confirm));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send(Request::RunCrwto)]
    ));
}

#[test]
fn a_clerk_is_refused_before_the_confirmation_and_told_why() {
    let w = world();
    let mut app = desk_as(&w, "bo", Role::Clerk);
    let effects = app.update(Action::Key(KeyAction::RunBatch));
    assert!(effects.is_empty(), "nothing is sent");
    assert!(
        app.popup.is_none(),
        "no question for what the clerk may not do"
    );
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("bo works as a clerk"), "{text}");
    assert!(text.contains("only a supervisor"), "{text}");
    assert_eq!(app.throttle.whatif.len(), 32, "nothing was released");
}

#[test]
fn enter_opens_the_selected_disconnect() {
    let w = world();
    let mut app = desk(&w);
    app.update(Action::Key(KeyAction::Down));
    let chosen = orderdesk::tui::throttle_view::selected_command(&app).expect("a selection");
    app.update(Action::Key(KeyAction::Open));
    assert_eq!(app.view, View::Tree);
    assert_eq!(
        app.hierarchy.tree.as_ref().map(|t| t.id.as_str()),
        Some(chosen.as_str())
    );
}

#[test]
fn an_empty_throttle_says_nothing_waits() {
    let w = World::new();
    let mut app = desk(&w);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("Nothing waits for the batch"), "{text}");
    assert!(text.contains("no batch run yet"), "{text}");
}

#[test]
fn with_the_scheduled_batch_off_only_a_manual_run_releases() {
    // The configuration file asks for at least 1; a hand-built one may turn the batch off.
    let config = orderdesk::config::Config {
        crwto_every_minutes: 0,
        ..orderdesk::config::Config::default()
    };
    let mut w = World::with_config(config);
    throttled_rds(&mut w, "A", 3, "2025-06-09T08:30:00Z");
    let mut app = desk(&w);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("scheduled batch off"), "{text}");
    assert!(text.contains("by hand"), "{text}");
    assert!(app.throttle.whatif.iter().all(|w| w.release.is_none()));
}

#[test]
fn a_closed_row_counts_what_is_due_by_its_window_tomorrow() {
    let w = world();
    let mut app = desk(&w);
    // At 12:30 the morning row is over for today: its counts are for tomorrow's 08:00-12:00.
    app.update(Action::Clock(at("2025-06-09T12:30:00Z"), 1.0));
    app.update(Action::Refresh);
    let text = screen(&mut app, 120, 40);
    let morning = text
        .lines()
        .find(|l| l.contains("08:00-12:00"))
        .expect("the morning row");
    let cells: Vec<&str> = morning.split_whitespace().collect();
    // │ ROW LIMIT LAST-RUN RELEASED DUE NOT-YET-DUE ││ (the chart)
    assert_eq!(
        cells[1..7],
        ["08:00-12:00", "30", "09:00", "30", "32", "0"],
        "{morning}"
    );
    let afternoon = text
        .lines()
        .find(|l| l.contains("▶ 12:00-17:00"))
        .expect("the afternoon row is the current one");
    assert!(afternoon.contains(" 32 "), "{afternoon}");
}

#[test]
fn without_throttling_the_view_says_runs_release_every_due_command() {
    let w = World::with_toml(
        r#"
[commands.remote_disconnect]
throttle = "not_allowed"
schedule = []
"#,
    );
    let mut app = desk(&w);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("Throttle not allowed · 0 waiting"), "{text}");
    assert!(text.contains("No schedule applies"), "{text}");
    assert!(
        text.contains("throttle not allowed: a run releases every due command"),
        "{text}"
    );
}
