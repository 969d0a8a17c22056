//! One work order's detail: what it is, for whom and where, who does it and who assigned it,
//! the activities at its site (Enter opens one's hierarchy) and its history, newest first. It
//! opens from a queue row (Enter) or by id (`:wo WO-ID`), closed orders too; the queue's actions
//! (complete, cancel, assign, sent, setup) act on the order shown.

use super::app::{App, Cursor, Effect, View};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, fit_title, window};
use crate::engine::{ActivityRow, EngineError, ListFilter, WoDetail};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

/// How many of the site's activities the detail lists: the recent ones tell where the order
/// came from; `:sp` lists them all.
const SITE_ACTIVITIES: usize = 20;

/// The detail view's state.
#[derive(Debug, Default)]
pub struct WoState {
    /// The order shown, with its customer, address and audit trail.
    pub detail: Option<WoDetail>,
    /// The activities at the order's site, newest first.
    pub activities: Vec<ActivityRow>,
    /// The cursor over `activities`.
    pub cursor: Cursor,
    /// The view the detail was opened from (Esc returns there).
    pub from: Option<View>,
}

/// Opens the detail of work order `id`, open or closed; a missing id says so.
pub fn open(app: &mut App, id: &str) -> Vec<Effect> {
    match app.api.wo_detail(id) {
        Ok(detail) => {
            if app.view != View::WorkOrder {
                app.work_order.from = Some(app.view);
            }
            app.work_order.detail = Some(detail);
            app.work_order.cursor = Cursor::default();
            app.view = View::WorkOrder;
            app.refresh();
            Vec::new()
        }
        // An id of something else says what it is; an unknown one says there is no such order.
        Err(EngineError::BadInput(why)) if why.contains("not a work order") => app.say(&why, true),
        Err(EngineError::BadInput(_)) => app.say(&format!("there is no work order {id}"), true),
        Err(err) => app.say(&format!("cannot read the database: {err}"), true),
    }
}

/// The id of the order shown.
pub fn shown(app: &App) -> Option<String> {
    app.work_order.detail.as_ref().map(|d| d.order.id.clone())
}

/// Re-reads the order and the activities at its site.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let Some(id) = shown(app) else {
        return Ok(());
    };
    let detail = app.api.wo_detail(&id)?;
    let filter = ListFilter {
        sp: Some(detail.order.site.clone()),
        ..ListFilter::default()
    };
    let (mut rows, _) = app.api.list_window(&filter, 0, 0, None)?;
    // Newest first: the activity that led to the order is usually the latest at its site.
    rows.sort_by_key(|r| std::cmp::Reverse(r.status_at));
    rows.truncate(SITE_ACTIVITIES);
    app.work_order.activities = rows;
    app.work_order.detail = Some(detail);
    app.work_order
        .cursor
        .step(0, app.work_order.activities.len());
    Ok(())
}

/// Moves over the site's activities, opens one, goes back; the queue's actions take this order.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = app.work_order.activities.len();
    if let Some(delta) = super::app::motion(key, app.page as isize) {
        app.work_order.cursor.step(delta, len);
        return Vec::new();
    }
    match key {
        KeyAction::Back => {
            let to = app.work_order.from.unwrap_or(View::Queue);
            app.go(to);
            Vec::new()
        }
        KeyAction::Open | KeyAction::Right => {
            match app
                .work_order
                .activities
                .get(app.work_order.cursor.selected)
            {
                Some(row) => {
                    let id = row.id.clone();
                    app.open_tree(&id);
                    Vec::new()
                }
                None => app.say("no activity at this site to open", true),
            }
        }
        KeyAction::Complete
        | KeyAction::Cancel
        | KeyAction::Assign
        | KeyAction::SetSent
        | KeyAction::SetSetup => app.queue_action(key),
        _ => Vec::new(),
    }
}

/// Draws the facts, the site's activities and the history.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let Some(detail) = app.work_order.detail.as_ref() else {
        frame.render_widget(
            Paragraph::new("No work order shown: Enter on a queue row, or :wo WO-ID.")
                .block(block(" Work order ".into(), theme)),
            area,
        );
        return;
    };
    let facts = facts(app, detail, theme);
    let history = history(app, detail);
    let wide = area.width >= 100;
    let fact_rows = facts.len() as u16 + 2;
    // Wide: facts beside the activities, the history below. Narrow: all stacked, the facts
    // first, since they are what the operator came for.
    let (facts_area, activities_area, history_area) = if wide {
        let [top, bottom] =
            Layout::vertical([Constraint::Length(fact_rows), Constraint::Min(3)]).areas(area);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
        (left, right, bottom)
    } else {
        // Short terminals keep the facts whole and one activity row; the history gets what
        // is left, if anything.
        let listed = app.work_order.activities.len().clamp(1, 3) as u16 + 2;
        let listed = listed.min(area.height.saturating_sub(fact_rows).max(3));
        let [a, b, c] = Layout::vertical([
            Constraint::Length(fact_rows),
            Constraint::Length(listed),
            Constraint::Fill(1),
        ])
        .areas(area);
        (a, b, c)
    };
    let order = &detail.order;
    let title = fit_title(
        &[
            format!("Work order {}", order.id),
            format!(" · {}", order.status.code()),
            " · Esc back".to_string(),
        ],
        facts_area.width,
    );
    frame.render_widget(
        Paragraph::new(facts)
            .wrap(Wrap { trim: true })
            .block(block(title, theme)),
        facts_area,
    );
    draw_activities(frame, app, theme, activities_area);
    let title = fit_title(
        &[
            "History".to_string(),
            format!(" ({}, newest first)", history.len()),
        ],
        history_area.width,
    );
    let shown = usize::from(history_area.height.saturating_sub(2));
    let lines: Vec<Line> = history.into_iter().take(shown).collect();
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, theme)),
        history_area,
    );
}

/// The facts of the order, one per line, labelled.
fn facts(app: &App, detail: &WoDetail, theme: &Theme) -> Vec<Line<'static>> {
    let times = super::views::times(app);
    let order = &detail.order;
    let label = |text: &str| Span::styled(format!("{text:<10}"), theme.header);
    let customer = match &detail.customer_name {
        Some(name) => format!("{name} ({})", order.customer),
        None => order.customer.clone(),
    };
    let site = match &detail.address {
        Some(address) => format!("{} · {address}", order.site),
        None => order.site.clone(),
    };
    let contact = [detail.phone.clone(), detail.email.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let assigned = match detail.assigned_by() {
        Some(entry) => format!(
            "{} · by {} {}",
            order.assignee.label(),
            entry.operator,
            times.minute(entry.at)
        ),
        None => order.assignee.label(),
    };
    // The title names the status; a closed order also says when or why.
    let closed = match (&order.completed_at, &order.cancel_reason) {
        (Some(at), _) => Some(format!("{} {}", order.status.code(), times.minute(*at))),
        (None, Some(reason)) => Some(format!("{} ({reason})", order.status.code())),
        _ => None,
    };
    let rows = [
        (
            "Kind",
            Some(crate::workorders::kind_label(order.kind).to_string()),
        ),
        ("Status", closed),
        ("Customer", Some(customer)),
        ("Site", Some(site)),
        (
            "Contact",
            Some(if contact.is_empty() {
                "-".into()
            } else {
                contact
            }),
        ),
        (
            "Preferred",
            Some(
                order
                    .preferred_date
                    .map_or("-".into(), |d| d.format("%Y-%m-%d").to_string()),
            ),
        ),
        ("Assignee", Some(assigned)),
        (
            "Origin",
            Some(format!(
                "{} · created {}",
                order.origin.code().replace('_', " "),
                times.minute(order.created_at)
            )),
        ),
    ];
    rows.into_iter()
        .filter_map(|(name, value)| Some(Line::from(vec![label(name), Span::raw(value?)])))
        .collect()
}

/// The order's log and the operator actions that named it, merged, newest first: each event
/// once.
fn history(app: &App, detail: &WoDetail) -> Vec<Line<'static>> {
    let times = super::views::times(app);
    // An action that went through wrote both an audit entry (who) and the order's log lines
    // (what) at the same instant: they are one event, shown as the log line and its operator.
    // Refusals, and actions that changed nothing on this order, have only the audit entry.
    let done_by = |at: crate::domain::Instant| {
        detail
            .audit
            .iter()
            .find(|e| e.at == at && matches!(e.outcome, crate::domain::AuditOutcome::Done))
    };
    let mut lines: Vec<(crate::domain::Instant, String)> = detail
        .order
        .log
        .iter()
        .map(|l| {
            let change = match (&l.from, &l.to) {
                (Some(from), Some(to)) => format!("{from} → {to} "),
                (None, Some(to)) => format!("→ {to} "),
                _ => String::new(),
            };
            let by = done_by(l.at).map_or(String::new(), |e| format!(" · by {}", e.operator));
            (l.at, format!("{change}{}{by}", l.note))
        })
        .collect();
    let logged = |at| detail.order.log.iter().any(|l| l.at == at);
    lines.extend(
        detail
            .audit
            .iter()
            .filter(|e| !(logged(e.at) && matches!(e.outcome, crate::domain::AuditOutcome::Done)))
            .map(|e| {
                let outcome = match &e.outcome {
                    crate::domain::AuditOutcome::Done => String::new(),
                    crate::domain::AuditOutcome::Refused { code, .. } => {
                        format!(" refused {code}")
                    }
                };
                let detail = e
                    .detail
                    .as_deref()
                    .map_or(String::new(), |d| format!(" {d}"));
                (
                    e.at,
                    format!("{} ({}){outcome}{detail}", e.action, e.operator),
                )
            }),
    );
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    lines
        .into_iter()
        .map(|(at, text)| Line::from(format!("{}  {text}", times.minute(at))))
        .collect()
}

fn draw_activities(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let site = app
        .work_order
        .detail
        .as_ref()
        .map_or(String::new(), |d| d.order.site.clone());
    let title = fit_title(
        &[
            format!("Activities at {site}"),
            " (Enter opens)".to_string(),
        ],
        area.width,
    );
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let cursor = &app.work_order.cursor;
    let mut shown = *cursor;
    shown.scroll_into_view(rows);
    let visible = window(&shown, app.work_order.activities.len(), rows);
    let items: Vec<ListItem> = app.work_order.activities[visible.clone()]
        .iter()
        .map(|r| {
            ListItem::new(Line::from(vec![
                Span::raw(format!("{} ", r.id)),
                Span::styled(r.state.clone(), theme.state(&r.state)),
                Span::raw(format!(" {}", r.activity_type)),
            ]))
        })
        .collect();
    let empty = items.is_empty();
    let list = List::new(items)
        .block(block(title, theme))
        .highlight_style(theme.selected);
    let mut state = ListState::default().with_selected(
        (!empty)
            .then(|| cursor.selected.checked_sub(visible.start))
            .flatten(),
    );
    frame.render_stateful_widget(list, area, &mut state);
    if empty {
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2).min(1),
        };
        frame.render_widget(
            Paragraph::new(Span::styled("none on file", Style::default())),
            inner,
        );
    }
}
