//! One work order's detail: what it is, for whom and where, who does it and who assigned it,
//! the activities at its site (Enter opens one's hierarchy) and its history, newest first. It
//! opens from a queue row (Enter) or by id (`:wo WO-ID`), closed orders too; the queue's actions
//! (complete, cancel, assign, sent, setup) act on the order shown. The motion keys move over the
//! activities, then on through the history; a narrow terminal shows it all as one page that
//! scrolls with them, never cutting a value in two.

use super::app::{App, Cursor, Effect, View};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, fit_title};
use super::windowed::visible as window;
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
    /// The cursor over `activities`, then the history's entries.
    pub cursor: Cursor,
    /// The first part shown where the detail scrolls (the page on a narrow terminal, else the
    /// history).
    pub top: usize,
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
            app.work_order.top = 0;
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
    let len = items(app);
    app.work_order.cursor.step(0, len);
    Ok(())
}

/// How many rows the cursor moves over: the site's activities, then the history's entries.
fn items(app: &App) -> usize {
    let history = app
        .work_order
        .detail
        .as_ref()
        .map_or(0, |d| history(app, d).len());
    app.work_order.activities.len() + history
}

/// Moves over the site's activities, opens one, goes back; the queue's actions take this order.
/// Why `action` does nothing here now (`None`: it acts): an order that is closed takes no
/// queue action; Enter opens an activity of the site, not a history entry.
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let open = app
        .work_order
        .detail
        .as_ref()
        .is_some_and(|d| crate::workorders::is_open(d.order.status));
    match action {
        KeyAction::Complete
        | KeyAction::Cancel
        | KeyAction::Assign
        | KeyAction::SetSent
        | KeyAction::SetSetup
            if !open =>
        {
            Some("the order is closed")
        }
        KeyAction::Open | KeyAction::Right
            if app
                .work_order
                .activities
                .get(app.work_order.cursor.selected)
                .is_none() =>
        {
            Some("select an activity of the site")
        }
        _ => None,
    }
}

pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = items(app);
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
                None if app.work_order.activities.is_empty() => {
                    app.say("no activity at this site to open", true)
                }
                None => app.say(
                    "a history entry opens nothing: move up to an activity",
                    true,
                ),
            }
        }
        KeyAction::Complete
        | KeyAction::Cancel
        | KeyAction::Assign
        | KeyAction::SetSent
        | KeyAction::SetSetup => super::queue_view::act(app, key),
        _ => Vec::new(),
    }
}

/// Draws the facts, the site's activities and the history: side by side and stacked when
/// wide, else one page that scrolls.
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
    let order = &detail.order;
    let title = [
        format!("Work order {}", order.id),
        format!(" · {}", order.status.code()),
        " · Esc back".to_string(),
    ];
    if area.width < 100 {
        draw_page(frame, app, theme, area, &title, facts, history);
        return;
    }
    let fact_rows = facts.len() as u16 + 2;
    let [top, history_area] =
        Layout::vertical([Constraint::Length(fact_rows), Constraint::Min(3)]).areas(area);
    let [facts_area, activities_area] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    frame.render_widget(
        Paragraph::new(facts)
            .wrap(Wrap { trim: true })
            .block(block(fit_title(&title, facts_area.width), theme)),
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
    let width = history_area.width.saturating_sub(2);
    let parts: Vec<Part> = history
        .into_iter()
        .map(|line| Part::item(wrap_line(&line, width, HISTORY_INDENT)))
        .collect();
    let selected = app
        .work_order
        .cursor
        .selected
        .checked_sub(app.work_order.activities.len());
    draw_parts(
        frame,
        &mut app.work_order.top,
        theme,
        history_area,
        title,
        parts,
        selected,
    );
}

/// How far a history entry's continuation lines are indented: past its time.
const HISTORY_INDENT: usize = 13;

/// How far a fact's continuation lines are indented: past its label.
const FACT_INDENT: usize = 10;

/// One part of a scrolling pane: shown whole or not at all.
struct Part {
    lines: Vec<Line<'static>>,
    /// The cursor stops on it: an activity or a history entry, not a fact or a heading.
    item: bool,
}

impl Part {
    fn item(lines: Vec<Line<'static>>) -> Part {
        Part { lines, item: true }
    }

    fn text(lines: Vec<Line<'static>>) -> Part {
        Part { lines, item: false }
    }
}

/// The detail on a narrow terminal: the facts, the activities and the history as one page,
/// scrolled to keep the cursor's row in sight.
fn draw_page(
    frame: &mut Frame,
    app: &mut App,
    theme: &Theme,
    area: Rect,
    title: &[String],
    facts: Vec<Line<'static>>,
    history: Vec<Line<'static>>,
) {
    let width = area.width.saturating_sub(2);
    let site = app
        .work_order
        .detail
        .as_ref()
        .map_or(String::new(), |d| d.order.site.clone());
    let mut parts: Vec<Part> = facts
        .iter()
        .map(|line| Part::text(wrap_line(line, width, FACT_INDENT)))
        .collect();
    parts.push(Part::text(vec![Line::styled(
        format!("Activities at {site} (Enter opens)"),
        theme.header,
    )]));
    if app.work_order.activities.is_empty() {
        parts.push(Part::text(vec![Line::from("none on file")]));
    }
    parts.extend(app.work_order.activities.iter().map(|r| {
        let line = Line::from(vec![
            Span::raw(format!("{} ", r.id)),
            Span::styled(r.state.clone(), theme.state(&r.state)),
            Span::raw(format!(" {}", r.activity_type)),
        ]);
        Part::item(wrap_line(&line, width, 2))
    }));
    parts.push(Part::text(vec![Line::styled(
        format!("History ({}, newest first)", history.len()),
        theme.header,
    )]));
    parts.extend(
        history
            .iter()
            .map(|line| Part::item(wrap_line(line, width, HISTORY_INDENT))),
    );
    let selected = Some(app.work_order.cursor.selected);
    draw_parts(
        frame,
        &mut app.work_order.top,
        theme,
        area,
        fit_title(title, area.width),
        parts,
        selected,
    );
}

/// Draws the whole parts that fit from `top`, moved so the `selected`-th item is among them,
/// the item highlighted, and says in the bottom border when there is more.
fn draw_parts(
    frame: &mut Frame,
    top: &mut usize,
    theme: &Theme,
    area: Rect,
    title: String,
    parts: Vec<Part>,
    selected: Option<usize>,
) {
    let height = usize::from(area.height.saturating_sub(2));
    let at = selected.and_then(|n| {
        parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.item)
            .nth(n)
            .map(|(i, _)| i)
    });
    *top = (*top).min(parts.len().saturating_sub(1));
    if let Some(at) = at {
        if at < *top {
            // The heading over the first item of a list comes back into sight with it.
            *top = if at > 0 && !parts[at - 1].item {
                at - 1
            } else {
                at
            };
        }
        if selected == Some(0) && rows(&parts[..=at]) <= height {
            *top = 0;
        }
        while *top < at && rows(&parts[*top..=at]) > height {
            *top += 1;
        }
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut shown = *top;
    for (i, part) in parts.iter().enumerate().skip(*top) {
        // A part that does not fit whole waits for the next page, unless it is alone (a value
        // taller than the pane), which shows what it can.
        if lines.len() + part.lines.len() > height && !lines.is_empty() {
            break;
        }
        let style = if Some(i) == at {
            theme.selected
        } else {
            Style::default()
        };
        lines.extend(part.lines.iter().cloned().map(|l| l.patch_style(style)));
        shown = i + 1;
    }
    let mut block = block(title, theme);
    if *top > 0 || shown < parts.len() {
        let more = match (*top > 0, shown < parts.len()) {
            (true, true) => " ↑↓ more ",
            (true, false) => " ↑ more ",
            _ => " ↓ more ",
        };
        block = block.title_bottom(Line::from(more).right_aligned());
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn rows(parts: &[Part]) -> usize {
    parts.iter().map(|p| p.lines.len()).sum()
}

/// `line` broken at spaces into lines of at most `width` columns, the first keeping the spans'
/// styles (a label, a state), the others plain and indented by `indent`.
fn wrap_line(line: &Line<'static>, width: u16, indent: usize) -> Vec<Line<'static>> {
    let width = usize::from(width).max(1);
    if line.width() <= width {
        return vec![line.clone()];
    }
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let (first, mut rest) = split_at_width(&text, width);
    let mut out = vec![Line::from(first_spans(line, first.len()))];
    let room = width.saturating_sub(indent).max(1);
    let pad = " ".repeat(indent.min(width - 1));
    while !rest.is_empty() {
        let (piece, next) = split_at_width(rest, room);
        out.push(Line::from(format!("{pad}{piece}")));
        rest = next;
    }
    out
}

/// The longest start of `text` within `width` columns that ends before a space (or, for a
/// word longer than the line, as much of it as fits), and what follows, its spaces skipped.
fn split_at_width(text: &str, width: usize) -> (&str, &str) {
    use unicode_width::UnicodeWidthChar;
    let mut columns = 0;
    let mut fits = 0;
    let mut space = None;
    for (i, c) in text.char_indices() {
        columns += c.width().unwrap_or(0);
        if columns > width {
            break;
        }
        if c == ' ' && i > 0 {
            space = Some(i);
        }
        fits = i + c.len_utf8();
    }
    if fits == text.len() {
        return (text, "");
    }
    let cut = match space {
        Some(i) => i,
        None => fits.max(text.chars().next().map_or(0, char::len_utf8)),
    };
    (text[..cut].trim_end(), text[cut..].trim_start())
}

/// The spans of `line` up to byte `end` of its text.
fn first_spans(line: &Line<'static>, end: usize) -> Vec<Span<'static>> {
    let mut left = end;
    let mut spans = Vec::new();
    for span in &line.spans {
        if left == 0 {
            break;
        }
        let take = left.min(span.content.len());
        spans.push(Span::styled(span.content[..take].to_string(), span.style));
        left -= take;
    }
    spans
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
    let len = app.work_order.activities.len();
    // Down in the history, the list keeps its last rows in sight with none selected.
    let on_activity = cursor.selected < len;
    let mut shown = *cursor;
    if !on_activity {
        shown.selected = len.saturating_sub(1);
    }
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
        (!empty && on_activity)
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
