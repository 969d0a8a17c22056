//! The error inbox: the activities in error, grouped by error code; a supervisor retries or
//! discards whole groups, or opens one to work its activities.

use super::activity_actions;
use super::app::{App, Effect, View};
use super::columns::{self, Column, Value};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, fit_title};
use super::windowed::{visible, Cursor};
use crate::engine::{EngineError, ListFilter};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::Frame;
use std::collections::BTreeSet;

/// The groups, the cursor and the marked groups.
#[derive(Debug, Clone, Default)]
pub struct ErrorsState {
    /// Each error code with how many activities are in it.
    pub groups: Vec<(String, usize)>,
    /// The cursor over the groups.
    pub cursor: Cursor,
    /// The marked codes.
    pub marks: BTreeSet<String>,
}

/// Reads the groups.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let e = &mut app.errors;
    e.groups = app.api.error_groups()?;
    e.cursor.step(0, e.groups.len());
    Ok(())
}

/// The selected group's code.
pub fn selected(app: &App) -> Option<String> {
    app.errors
        .groups
        .get(app.errors.cursor.selected)
        .map(|(c, _)| c.clone())
}

/// Moves the cursor.
pub fn step(app: &mut App, delta: isize) {
    let e = &mut app.errors;
    e.cursor.step(delta, e.groups.len());
    e.cursor.scroll_into_view(app.page);
}

/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let empty = app.errors.groups.is_empty();
    let on_groups = matches!(
        action,
        KeyAction::Open
            | KeyAction::ToggleMark
            | KeyAction::MarkAll
            | KeyAction::Retry
            | KeyAction::Discard
            | KeyAction::RetryAll
            | KeyAction::DiscardAll
    );
    match action {
        // These act on one activity: the group's list has them.
        KeyAction::ExecuteNow
        | KeyAction::CancelOrchestration
        | KeyAction::Update
        | KeyAction::Edit => Some("open a group (Enter) to act on its activities"),
        KeyAction::FilterState | KeyAction::FilterType => Some("filters the orchestration list"),
        _ => (empty && on_groups).then_some(super::commands::NOTHING_HERE),
    }
}

/// The inbox's own keys.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    match key {
        KeyAction::Open | KeyAction::Right => {
            if let Some(code) = selected(app) {
                super::orch_view::in_error(app, &code);
            }
            Vec::new()
        }
        KeyAction::ToggleMark => {
            if let Some(code) = selected(app) {
                if !app.errors.marks.remove(&code) {
                    app.errors.marks.insert(code);
                }
            }
            app.move_cursor(1)
        }
        KeyAction::MarkAll => {
            app.errors.marks = app.errors.groups.iter().map(|(c, _)| c.clone()).collect();
            let marked = app.errors.marks.len();
            app.say_marked(marked)
        }
        KeyAction::ClearMarks => {
            app.errors.marks.clear();
            Vec::new()
        }
        KeyAction::Retry | KeyAction::Discard => on_groups(app, key == KeyAction::Retry, false),
        KeyAction::RetryAll | KeyAction::DiscardAll => {
            on_groups(app, key == KeyAction::RetryAll, true)
        }
        KeyAction::ToggleErrorInbox => {
            app.orchestrations.list.cursor = Cursor::default();
            app.go(View::Orchestrations);
            Vec::new()
        }
        KeyAction::ToggleStuck => {
            app.orchestrations.stuck = true;
            app.orchestrations.list.cursor = Cursor::default();
            app.go(View::Orchestrations);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Retry or discard the activities of the marked groups (or the selected one), or with
/// `all`, of every group in the inbox.
fn on_groups(app: &mut App, retry: bool, all: bool) -> Vec<Effect> {
    let codes: Vec<String> = if all {
        app.errors.groups.iter().map(|(c, _)| c.clone()).collect()
    } else if app.errors.marks.is_empty() {
        selected(app).into_iter().collect()
    } else {
        app.errors.marks.iter().cloned().collect()
    };
    let mut ids = Vec::new();
    for code in &codes {
        let filter = ListFilter {
            error_code: Some(code.clone()),
            ..ListFilter::default()
        };
        match app.api.list_window(&filter, 0, 0, None) {
            Ok((rows, _)) => ids.extend(rows.into_iter().map(|r| r.id)),
            Err(err) => return app.say(&format!("cannot read the database: {err}"), true),
        }
    }
    if ids.is_empty() {
        return app.say(
            "no activity is in these error groups now: nothing to do",
            true,
        );
    }
    let which = match codes.as_slice() {
        [code] => format!("in error {code}"),
        _ => format!(
            "in {} error groups ({})",
            codes.len(),
            super::wording::preview(&codes)
        ),
    };
    activity_actions::retry_or_discard(app, retry, ids, &which)
}

/// What `copy` takes here: the selected code.
pub fn copy(app: &App) -> Option<String> {
    selected(app)
}

/// Draws the inbox.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let e = &app.errors;
    let total: usize = e.groups.iter().map(|(_, n)| n).sum();
    let marked = match e.marks.len() {
        0 => String::new(),
        1 => " · 1 group marked".to_string(),
        n => format!(" · {n} groups marked"),
    };
    // The states the status bar counts, so the two always add up where a person compares them.
    let by_state: Vec<String> = app
        .status
        .counts
        .iter()
        .filter(|(state, _)| state.ends_with("_ERROR"))
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let by_state = if by_state.is_empty() {
        String::new()
    } else {
        format!(" · {}", by_state.join(" + "))
    };
    let title = fit_title(
        &[
            format!(
                "Error inbox: {total} activit{} in error",
                if total == 1 { "y" } else { "ies" }
            ),
            marked,
            by_state,
        ],
        area.width,
    );
    let shown = visible(&e.cursor, e.groups.len(), app.page);
    let plain = Style::default();
    let rows: Vec<Vec<Value>> = e.groups[shown.clone()]
        .iter()
        .map(|(code, n)| {
            let mark = if e.marks.contains(code) { "●" } else { " " };
            vec![
                (mark.to_string(), plain),
                (code.clone(), plain),
                (n.to_string(), plain),
                (describe_code(code).to_string(), plain),
            ]
        })
        .collect();
    const COLUMNS: [Column; 4] = [
        Column::value("", 10),
        Column::value("CODE", 9),
        Column::value("COUNT", 8),
        Column::text("MEANING", 3, 10),
    ];
    let selected = e.cursor.selected.checked_sub(shown.start);
    frame.render_widget(
        columns::table(&COLUMNS, rows, selected, area.width, theme).block(block(title, theme)),
        area,
    );
    if e.groups.is_empty() {
        empty(
            frame,
            area,
            "Nothing in error. Enter on a code lists its activities.",
        );
    }
}

/// What an error code means, in a few words.
fn describe_code(code: &str) -> &'static str {
    match code {
        "CHILD_ERROR" => "a child field activity or command failed",
        "CHILD_NOT_COMPLETED" => "a child was cancelled or discarded",
        "EXPIRED" => "in progress longer than its expiration",
        "NO_PROGRESS" => "the readiness loop hit its pass cap",
        "NO_DEVICE" => "there is no device to act on",
        "UNSUPPORTED_STATE" => "the decision table cannot decide",
        "DUPLICATE_REQUEST" => "an earlier request of the same type is open on the SP",
        "MISSING_COLLECTION_DATA" => "cut without a past-due amount",
        "MISSING_SERVICE_AGREEMENT" => "no service agreement",
        "MISSING_EXCHANGE_DEVICE" => "a meter exchange names no new device",
        "SP_NOT_FOUND" | "SP_INACTIVE" => "the service point is unknown or inactive",
        "TARGET_NOT_FOUND" | "TARGET_FINAL" | "TARGET_NOT_CHILD" => {
            "the maintenance target is wrong"
        }
        "COMMAND_IN_FLIGHT" => "a command awaits the head-end",
        "RESPONSE_TIMEOUT" => "no answer in time",
        "TARGET_COMPLETED" => "the field finished before the cancel",
        _ => "",
    }
}
