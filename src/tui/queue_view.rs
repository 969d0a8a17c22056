//! The open work-order queue: a dispatch clerk's list, worked in bulk (marks, complete,
//! cancel, assign), of which only a window around the cursor is held.

use super::app::{App, Effect, Purpose, View, TYPE_THE_COUNT_ABOVE};
use super::columns::{self, Value};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, fit_title};
use super::windowed::{visible, Cursor, Windowed};
use super::wording::{orders, preview};
use crate::client::Request;
use crate::engine::EngineError;
use crate::listing;
use crate::workorders::{Assignee, WoStatus, WorkOrder};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::Frame;
use std::collections::BTreeSet;

/// What the queue holds: a window of the open orders, read for "mine" and the `/` filter.
#[derive(Debug, Clone, Default)]
pub struct QueueState {
    /// The window, its cursor and marks; read with (mine, filter).
    pub list: Windowed<WorkOrder, (bool, String)>,
    /// Only the orders scheduled for this operator.
    pub mine: bool,
}

/// Reads the window around the cursor, keeping only marks of orders still listed.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let (api, mine, filter, page) = (
        app.api.clone(),
        app.queue.mine,
        app.filter.clone(),
        app.page,
    );
    let mut read = |o, l, n| api.queue_window(mine, &filter, o, l, n);
    app.queue
        .list
        .read((mine, filter.clone()), page, &mut read)?;
    keep_listed_marks(app)
}

/// Moves the cursor, reading further rows when it leaves the window.
pub fn step(app: &mut App, delta: isize) -> Result<(), EngineError> {
    let (api, mine, filter, page) = (
        app.api.clone(),
        app.queue.mine,
        app.filter.clone(),
        app.page,
    );
    app.queue.list.step(delta, page);
    app.queue.list.follow(page, &mut |o, l, n| {
        api.queue_window(mine, &filter, o, l, n)
    })
}

/// Every order of the (filtered) queue: read whole only on an explicit action (mark all,
/// export), never on refresh.
pub fn whole(app: &App) -> Result<Vec<WorkOrder>, EngineError> {
    let (mine, filter) = (app.queue.mine, &app.filter);
    app.queue
        .list
        .whole(&mut |o, l, n| app.api.queue_window(mine, filter, o, l, n))
}

/// Puts the cursor on order `id` in the whole queue (`:wo ID`); a closed order opens in its
/// detail.
pub fn jump(app: &mut App, id: &str) -> Vec<Effect> {
    app.filter.clear();
    app.queue.mine = false;
    app.go(View::Queue);
    match app.api.queue_position(id) {
        Ok(Some(at)) => {
            app.queue.list.cursor.selected = at;
            app.queue.list.cursor.scroll_into_view(app.page);
            match step(app, 0) {
                Ok(()) => Vec::new(),
                Err(err) => app.say(&format!("cannot read the database: {err}"), true),
            }
        }
        Ok(None) => super::wo_view::open(app, id),
        Err(err) => app.say(&format!("cannot read the database: {err}"), true),
    }
}

/// The orders an action takes: the marked ones, or the selected one when nothing is marked;
/// in a work order's detail, the order shown.
pub fn targets(app: &App) -> Vec<String> {
    if app.view == View::WorkOrder {
        return super::wo_view::shown(app).into_iter().collect();
    }
    app.queue.list.marked_or_selected()
}

/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let acts_on_orders = matches!(
        action,
        KeyAction::Complete
            | KeyAction::Cancel
            | KeyAction::Assign
            | KeyAction::SetSent
            | KeyAction::SetSetup
            | KeyAction::ToggleMark
            | KeyAction::Open
    );
    (acts_on_orders && targets(app).is_empty()).then_some(super::commands::NOTHING_HERE)
}

/// The queue's own keys.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    match key {
        KeyAction::Open | KeyAction::Right => match app.queue.list.selected() {
            Some(w) => {
                let id = w.id.clone();
                super::wo_view::open(app, &id)
            }
            None => Vec::new(),
        },
        KeyAction::ToggleMark => {
            app.queue.list.toggle_selected();
            app.move_cursor(1)
        }
        KeyAction::MarkAll => match whole(app) {
            Ok(orders) => {
                app.queue.list.marks = orders.into_iter().map(|w| w.id).collect();
                let marked = app.queue.list.marks.len();
                app.say_marked(marked)
            }
            Err(err) => app.say(&format!("cannot read the database: {err}"), true),
        },
        KeyAction::ClearMarks => {
            app.queue.list.marks.clear();
            Vec::new()
        }
        KeyAction::ToggleMine => {
            app.queue.mine = !app.queue.mine;
            app.queue.list.cursor = Cursor::default();
            app.refresh();
            Vec::new()
        }
        _ => act(app, key),
    }
}

/// A queue action (complete, cancel, assign, sent, setup) on [`targets`]: the queue and a
/// work order's detail share it, refusals and confirmations included.
pub fn act(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let ids = targets(app);
    if ids.is_empty() {
        return Vec::new();
    }
    match key {
        KeyAction::Complete => {
            let question = format!("Complete {}? ({})", orders(ids.len()), preview(&ids));
            let rows = ids.len();
            app.confirm_rows(question, vec![Request::WoComplete { ids }], rows)
        }
        KeyAction::Cancel => {
            let prompt = format!("Reason for cancelling {}", orders(ids.len()));
            app.prompt(&prompt, String::new(), Purpose::CancelOrders(ids))
        }
        KeyAction::Assign => {
            // One order: its current assignee is the choice the list starts on.
            let current = match ids.as_slice() {
                [id] => app
                    .queue
                    .list
                    .rows
                    .iter()
                    .chain(app.work_order.detail.as_ref().map(|d| &d.order))
                    .find(|w| &w.id == id)
                    .map(|w| w.assignee.clone())
                    .unwrap_or(Assignee::Unassigned),
                _ => Assignee::Unassigned,
            };
            let prompt = format!(
                "Assign {} ({}): type to filter, Up/Down to choose, or internal:NAME:EMAIL",
                orders(ids.len()),
                preview(&ids)
            );
            let pick = super::assign_pick::pick(app, &current);
            let effects = app.prompt(&prompt, String::new(), Purpose::Assign(ids));
            app.pick = Some(pick);
            effects
        }
        KeyAction::SetSent | KeyAction::SetSetup => {
            let status = if key == KeyAction::SetSent {
                WoStatus::Sent
            } else {
                WoStatus::Setup
            };
            let question = format!("Set {} to {status}? ({})", orders(ids.len()), preview(&ids));
            let rows = ids.len();
            let requests = ids
                .into_iter()
                .map(|id| Request::WoSetStatus { id, status })
                .collect();
            if rows == 1 {
                // One row, and a status that can be set back: no question.
                app.send_confirmed(requests)
            } else {
                app.confirm_rows(question, requests, rows)
            }
        }
        _ => Vec::new(),
    }
}

/// The answer to a queue prompt: a cancel reason, or the assignee picked or typed.
pub fn answer(app: &mut App, purpose: Purpose, text: String) -> Vec<Effect> {
    match purpose {
        Purpose::CancelOrders(ids) if !text.is_empty() => {
            let question = format!(
                "Cancel {} ({}) with reason \"{text}\"?",
                orders(ids.len()),
                preview(&ids)
            );
            let rows = ids.len();
            app.confirm_rows(
                question,
                vec![Request::WoCancel { ids, reason: text }],
                rows,
            )
        }
        Purpose::Assign(ids) => {
            let chosen = app
                .pick
                .as_ref()
                .map_or_else(|| Assignee::parse(&text), |p| p.answer(&text));
            match chosen {
                Ok(assignee) => {
                    app.pick = None;
                    let rows = ids.len();
                    let question = format!(
                        "Assign {} ({}) to {}?",
                        orders(rows),
                        preview(&ids),
                        assignee.label()
                    );
                    let schedule_for = Some(app.operator().to_string());
                    let requests = ids
                        .into_iter()
                        .map(|id| Request::WoAssign {
                            id,
                            assignee: assignee.clone(),
                            schedule_for: schedule_for.clone(),
                        })
                        .collect();
                    // Assigning can be redone: only a large batch asks first.
                    if rows > TYPE_THE_COUNT_ABOVE {
                        app.confirm_rows(question, requests, rows)
                    } else {
                        app.send_confirmed(requests)
                    }
                }
                Err(e) => app.say(&e, true),
            }
        }
        _ => app.say("this needs an answer: type one, or Esc to leave it", true),
    }
}

/// What `copy` takes here: the selected order's id.
pub fn copy(app: &App) -> Option<String> {
    app.queue.list.selected().map(|w| w.id.clone())
}

/// Drops marks of orders that left the (filtered) queue, as a whole list would: by the
/// window when it holds the whole list, else by reading the marked orders only.
fn keep_listed_marks(app: &mut App) -> Result<(), EngineError> {
    let list = &app.queue.list;
    if list.marks.is_empty() {
        return Ok(());
    }
    if list.is_whole() {
        let rows = &list.rows;
        let kept = list
            .marks
            .iter()
            .filter(|id| rows.iter().any(|w| &&w.id == id))
            .cloned()
            .collect();
        app.queue.list.marks = kept;
        return Ok(());
    }
    let needle = app.filter.to_ascii_lowercase();
    let mut keep = BTreeSet::new();
    for id in &app.queue.list.marks {
        let Ok(wo) = app.api.work_order(id) else {
            continue;
        };
        let listed = crate::workorders::is_open(wo.status)
            && (!app.queue.mine || wo.scheduled_for.as_deref() == Some(app.operator()))
            && (needle.is_empty() || crate::workorders::matches_text(&wo, &needle));
        if listed {
            keep.insert(id.clone());
        }
    }
    app.queue.list.marks = keep;
    Ok(())
}

/// Draws the queue: only the rows on screen are built.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let list = &app.queue.list;
    let filter = if app.filter.is_empty() {
        String::new()
    } else {
        format!(" /{}", app.filter)
    };
    let mine = if app.queue.mine { " mine" } else { "" };
    let marked = if list.marks.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", list.marks.len())
    };
    let title = fit_title(
        &[
            format!("Open work orders ({}){mine}", list.total),
            marked,
            filter,
        ],
        area.width,
    );
    let shown = visible(&list.cursor, list.total, app.page);
    let times = super::views::times(app);
    let plain = Style::default();
    let rows: Vec<Vec<Value>> = shown
        .clone()
        .filter_map(|at| list.at(at))
        .map(|w| {
            let mark = if list.marks.contains(&w.id) {
                "●"
            } else {
                " "
            };
            let mut cells = vec![(mark.to_string(), plain)];
            cells.extend(columns::values(listing::QUEUE, w, &times, theme));
            cells
        })
        .collect();
    let selected = list.cursor.selected.checked_sub(shown.start);
    let table = columns::table(
        &columns::with_marks(listing::QUEUE),
        rows,
        selected,
        area.width,
        theme,
    )
    .block(block(title, theme));
    frame.render_widget(table, area);
    if list.total == 0 {
        empty(
            frame,
            area,
            "No open work orders here. Tab switches views; ? shows the keys.",
        );
    }
}
