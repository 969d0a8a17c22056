//! The orchestration list: every service order activity, filtered by state, type, error code,
//! service point or words, and the stuck lens; a supervisor's list, of which only a window
//! around the cursor is held.

use super::activity_actions;
use super::app::{App, Effect, View};
use super::columns::{self, Column, Value};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, fit_title};
use super::windowed::{visible, Cursor, Windowed};
use crate::domain::ActivityType;
use crate::engine::{ActivityRow, EngineError, ListFilter};
use crate::lifecycle::OrchState;
use crate::listing;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::Frame;
use std::collections::BTreeMap;

/// The list's window, its filters and the stuck lens.
#[derive(Debug, Clone, Default)]
pub struct OrchListState {
    /// The window, its cursor and marks; read with the engine's filter.
    pub list: Windowed<ActivityRow, ListFilter>,
    /// Only this state (`f s` cycles).
    pub state: Option<OrchState>,
    /// Only this type (`f t` cycles).
    pub kind: Option<ActivityType>,
    /// Only this error code (from the error inbox).
    pub code: Option<String>,
    /// Only this service point, exactly (`:sp ID`).
    pub sp: Option<String>,
    /// The stuck lens: activities that should have moved and have not.
    pub stuck: bool,
    /// Why each row of the stuck lens is there.
    pub stuck_why: BTreeMap<String, String>,
}

/// The list's filters as the engine takes them.
pub fn filter(app: &App) -> ListFilter {
    let o = &app.orchestrations;
    ListFilter {
        state: o.state.map(|s| s.code().to_string()),
        activity_type: o.kind,
        sp: o.sp.clone(),
        error_code: o.code.clone(),
        limit: 0,
        text: app.filter.clone(),
    }
}

/// Reads the window around the cursor; the stuck lens is found by a scan and held whole.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let filter = filter(app);
    if app.orchestrations.stuck {
        let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
        let rows = app.api.stuck(now)?;
        // Narrowed by the same filters as the list, so its title (which names them) describes
        // exactly these rows.
        let o = &mut app.orchestrations;
        o.stuck_why = rows
            .iter()
            .map(|(r, why)| (r.id.clone(), why.clone()))
            .collect();
        o.list.hold(
            rows.into_iter()
                .map(|(r, _)| r)
                .filter(|r| filter.keeps(r))
                .collect(),
        );
        return Ok(());
    }
    let (api, page) = (app.api.clone(), app.page);
    let mut read = |o, l, n| api.list_window(&filter, o, l, n);
    app.orchestrations
        .list
        .read(filter.clone(), page, &mut read)
}

/// Moves the cursor, reading further rows when it leaves the window.
pub fn step(app: &mut App, delta: isize) -> Result<(), EngineError> {
    let (api, page, filter) = (app.api.clone(), app.page, filter(app));
    app.orchestrations.list.step(delta, page);
    app.orchestrations
        .list
        .follow(page, &mut |o, l, n| api.list_window(&filter, o, l, n))
}

/// Every row of the (filtered) list: read whole only on an explicit action (retry all,
/// discard all, export), never on refresh.
pub fn whole(app: &App) -> Result<Vec<ActivityRow>, EngineError> {
    let filter = filter(app);
    app.orchestrations
        .list
        .whole(&mut |o, l, n| app.api.list_window(&filter, o, l, n))
}

/// The selected activity's id.
pub fn selected(app: &App) -> Option<String> {
    app.orchestrations.list.selected().map(|r| r.id.clone())
}

/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let row = app.orchestrations.list.selected();
    match action {
        KeyAction::Edit if row.is_none_or(|r| r.state != OrchState::ValidationError.code()) => {
            Some("only for a request in VALIDATION_ERROR")
        }
        KeyAction::Open
        | KeyAction::ToggleMark
        | KeyAction::Retry
        | KeyAction::Discard
        | KeyAction::ExecuteNow
        | KeyAction::CancelOrchestration
        | KeyAction::Update
        | KeyAction::RetryAll
        | KeyAction::DiscardAll
            if row.is_none() && app.orchestrations.list.marks.is_empty() =>
        {
            Some(super::commands::NOTHING_HERE)
        }
        _ => None,
    }
}

/// Esc: leaves an error code's list for the inbox, then drops the service point, then the
/// words.
pub fn back(app: &mut App) {
    if app.orchestrations.code.is_some() {
        app.orchestrations.code = None;
        app.go(View::Errors);
    } else if app.orchestrations.sp.is_some() {
        app.orchestrations.sp = None;
        app.refresh();
    } else if !app.filter.is_empty() {
        app.filter.clear();
        app.refresh();
    }
}

/// Shows the activities of one service point, exactly (`:sp SP-1` is not SP-19).
pub fn at_service_point(app: &mut App, sp: &str) {
    let o = &mut app.orchestrations;
    o.sp = Some(sp.to_ascii_uppercase());
    o.state = None;
    o.code = None;
    app.filter.clear();
    app.view = View::Orchestrations;
    app.refresh();
}

/// Shows the activities in error `code` (Enter on the error inbox).
pub fn in_error(app: &mut App, code: &str) {
    let o = &mut app.orchestrations;
    o.stuck = false;
    o.code = Some(code.to_string());
    o.state = None;
    o.list.cursor = Cursor::default();
    app.go(View::Orchestrations);
}

/// The list's own keys.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    match key {
        KeyAction::Open | KeyAction::Right => {
            if let Some(id) = selected(app) {
                app.open_tree(&id);
            }
            Vec::new()
        }
        KeyAction::ToggleMark => {
            app.orchestrations.list.toggle_selected();
            app.move_cursor(1)
        }
        KeyAction::MarkAll => match whole(app) {
            Ok(rows) => {
                app.orchestrations.list.marks = rows.into_iter().map(|r| r.id).collect();
                let marked = app.orchestrations.list.marks.len();
                app.say_marked(marked)
            }
            Err(err) => app.say(&format!("cannot read the database: {err}"), true),
        },
        KeyAction::ClearMarks => {
            app.orchestrations.list.marks.clear();
            Vec::new()
        }
        KeyAction::Retry
        | KeyAction::Discard
        | KeyAction::ExecuteNow
        | KeyAction::CancelOrchestration
        | KeyAction::Update
            if !app.orchestrations.list.marks.is_empty() =>
        {
            let ids: Vec<String> = app.orchestrations.list.marks.iter().cloned().collect();
            activity_actions::on_marked(app, key, ids)
        }
        KeyAction::FilterState => {
            app.orchestrations.state = next_in(OrchState::ALL, app.orchestrations.state);
            app.orchestrations.list.cursor = Cursor::default();
            app.refresh();
            Vec::new()
        }
        KeyAction::FilterType => {
            app.orchestrations.kind = next_in(ActivityType::ALL, app.orchestrations.kind);
            app.orchestrations.list.cursor = Cursor::default();
            app.refresh();
            Vec::new()
        }
        KeyAction::RetryAll | KeyAction::DiscardAll => {
            let ids: Vec<String> = match whole(app) {
                Ok(rows) => rows.into_iter().map(|r| r.id).collect(),
                Err(err) => return app.say(&format!("cannot read the database: {err}"), true),
            };
            if ids.is_empty() {
                return app.say("the list is empty: nothing to do", true);
            }
            activity_actions::retry_or_discard(app, key == KeyAction::RetryAll, ids, "in this list")
        }
        KeyAction::ToggleStuck => {
            app.orchestrations.stuck = !app.orchestrations.stuck;
            app.orchestrations.list.cursor = Cursor::default();
            app.go(View::Orchestrations);
            Vec::new()
        }
        KeyAction::ToggleErrorInbox => {
            app.go(View::Errors);
            Vec::new()
        }
        _ => match selected(app) {
            Some(id) => activity_actions::on(app, key, id, None),
            None => Vec::new(),
        },
    }
}

/// What `copy` takes here: the selected activity's id.
pub fn copy(app: &App) -> Option<String> {
    selected(app)
}

/// The next value in `all` after `current`, then back to none.
fn next_in<T: Copy + PartialEq>(all: &[T], current: Option<T>) -> Option<T> {
    match current {
        None => all.first().copied(),
        Some(c) => {
            let at = all.iter().position(|x| *x == c)?;
            all.get(at + 1).copied()
        }
    }
}

/// The title: the count, the marks, then every filter in force (so it describes exactly the
/// rows under it).
fn title(app: &App, width: u16) -> String {
    let o = &app.orchestrations;
    let mut parts = Vec::new();
    if let Some(s) = o.state {
        parts.push(format!("state {}", s.code()));
    }
    if let Some(t) = o.kind {
        parts.push(format!("type {}", t.code()));
    }
    if let Some(c) = &o.code {
        parts.push(format!("error {c}"));
    }
    if let Some(sp) = &o.sp {
        parts.push(format!("service point {sp} (Esc clears)"));
    }
    if !app.filter.is_empty() {
        parts.push(format!("/{}", app.filter));
    }
    if o.stuck {
        parts.insert(0, "stuck lens (f k leaves)".to_string());
    }
    let filters = if parts.is_empty() {
        String::new()
    } else {
        format!(" · {}", parts.join(" · "))
    };
    let marked = if o.list.marks.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", o.list.marks.len())
    };
    fit_title(
        &[
            format!("Orchestrations ({})", o.list.total),
            marked,
            filters,
        ],
        width,
    )
}

/// Draws the list: only the rows on screen are built.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let o = &app.orchestrations;
    let times = super::views::times(app);
    let shown = visible(&o.list.cursor, o.list.total, app.page);
    let plain = Style::default();
    // EFFECTIVE says when a waiting activity becomes effective: it is there for that filter,
    // or when such a row is on screen.
    let shows_effective = o.state == Some(OrchState::WaitEffDate)
        || shown
            .clone()
            .filter_map(|at| o.list.at(at))
            .any(listing::waits);
    let rows: Vec<Vec<Value>> = shown
        .clone()
        .filter_map(|at| o.list.at(at))
        .map(|r| {
            let mark = if o.list.marks.contains(&r.id) {
                "●"
            } else {
                " "
            };
            let mut cells = vec![(mark.to_string(), plain)];
            cells.extend(columns::values(listing::ORCHESTRATIONS, r, &times, theme));
            // The stuck lens says why each row is there where the reason code would be.
            if let Some(why) = o.stuck_why.get(&r.id).filter(|_| o.stuck) {
                cells[1 + 3] = (why.clone(), plain);
            }
            if !shows_effective {
                cells.remove(1 + listing::EFFECTIVE);
            }
            cells
        })
        .collect();
    let mut columns = columns::with_marks(listing::ORCHESTRATIONS);
    if o.stuck {
        // A sentence saying why the row is there: it matters more, and may be shortened.
        columns[1 + 3] = Column::text("WHY", 8, 12);
    }
    if !shows_effective {
        columns.remove(1 + listing::EFFECTIVE);
    }
    let selected = o.list.cursor.selected.checked_sub(shown.start);
    frame.render_widget(
        columns::table(&columns, rows, selected, area.width, theme)
            .block(block(title(app, area.width), theme)),
        area,
    );
    if o.list.total == 0 {
        empty(
            frame,
            area,
            "No activity matches. f s cycles the state filter, f t the type; Esc clears.",
        );
    }
}
