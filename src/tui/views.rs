//! Drawing: a pure function of the model. Lists build rows only for the visible slice.

use super::app::{App, Cursor, Popup, TypedCount, View};
use super::columns::{self, Column, Value};
use super::keymap::Context;
use super::theme::Theme;
use crate::engine::{ActivityRow, ActivityTree, CommView, TreeNode};
use crate::lifecycle::OrchState;
use crate::timefmt::Times;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem};

/// The smallest terminal the desk draws in.
pub const MIN_SIZE: (u16, u16) = (60, 15);

/// Draws the whole desk.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "The terminal is {}×{}; the desk needs at least {}×{}. Enlarge it, or press q to quit.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [tabs, body, status, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, app, theme, tabs);
    // The list shows `height - header - borders` rows; paging uses the same number.
    app.page = usize::from(body.height.saturating_sub(3)).max(1);
    match app.view {
        View::Queue => draw_queue(frame, app, theme, body),
        View::Orchestrations => draw_orchestrations(frame, app, theme, body),
        View::Errors => draw_errors(frame, app, theme, body),
        View::Tree => draw_tree(frame, app, theme, body),
        View::Feed => super::feed_view::draw(frame, app, theme, body),
        View::Throttle => super::throttle_view::draw(frame, app, theme, body),
        View::Partners => super::partners_view::draw(frame, app, theme, body),
        View::Audit => super::audit_view::draw(frame, app, theme, body),
        View::Overview => super::overview_view::draw(frame, app, theme, body),
        View::WorkOrder => super::wo_view::draw(frame, app, theme, body),
    }
    draw_status(frame, app, theme, status);
    draw_bar(frame, app, theme, bar);
    match app.popup.clone() {
        Some(Popup::Help) => draw_help(frame, app, theme, body),
        Some(Popup::Confirm {
            question, typed, ..
        }) => draw_confirm(frame, theme, body, &question, typed.as_ref()),
        Some(Popup::Input {
            prompt,
            input,
            error,
            ..
        }) => {
            // Room for the prompt, its line, an error and the borders; the rest lists choices.
            let rows = usize::from(body.height.saturating_sub(7)).clamp(1, 8);
            let choices = app
                .pick
                .as_ref()
                .map(|pick| super::assign_pick::lines(pick, input.value(), rows, theme))
                .unwrap_or_default();
            draw_input(
                frame,
                theme,
                body,
                (&prompt, &input),
                error.as_deref(),
                choices,
            )
        }
        None => {}
    }
}

fn draw_tabs(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // The longest names that fit: full titles, then short names, then short names packed
    // closer (an 80-column desk), then only the current tab named (the others show their
    // digit), so every tab stays visible.
    let labels = |naming: Naming| -> Vec<String> {
        View::TABS
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let name = match naming {
                    Naming::Titles => v.title(),
                    Naming::Short | Naming::Packed => v.tab(),
                    Naming::Current
                        if *v == app.view || (*v == View::Queue && app.view == View::WorkOrder) =>
                    {
                        v.tab()
                    }
                    Naming::Current => "",
                };
                match (v, name.is_empty()) {
                    (View::Tree, true) => v.tab().to_string(),
                    (View::Tree, false) => name.to_string(),
                    (_, true) => format!("{i}"),
                    (_, false) => format!("{i} {name}"),
                }
            })
            .collect()
    };
    use crate::width::columns;
    let width = |labels: &[String], divider: &str| {
        let dividers = columns(divider) * labels.len().saturating_sub(1);
        labels.iter().map(|l| columns(l)).sum::<usize>() + dividers
    };
    let (titles, divider) = [Naming::Titles, Naming::Short, Naming::Packed]
        .into_iter()
        .map(|naming| (labels(naming), naming.divider()))
        .find(|(titles, divider)| width(titles, divider) <= usize::from(area.width))
        .unwrap_or_else(|| (labels(Naming::Current), Naming::Current.divider()));
    let titles: Vec<Line> = titles.into_iter().map(Line::from).collect();
    // A work order's detail belongs to the queue's tab.
    let current = match app.view {
        View::WorkOrder => View::Queue,
        view => view,
    };
    let selected = View::TABS.iter().position(|v| *v == current).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.dim)
        .highlight_style(theme.selected)
        .padding("", "")
        .divider(divider);
    frame.render_widget(tabs, area);
}

/// How the tab bar names the views, from the widest to the narrowest.
#[derive(Debug, Clone, Copy)]
enum Naming {
    /// Every view by its title.
    Titles,
    /// Every view by its short name.
    Short,
    /// Short names with narrower dividers.
    Packed,
    /// Only the current view named; the others by their digit.
    Current,
}

impl Naming {
    /// What goes between two tabs.
    fn divider(self) -> &'static str {
        match self {
            Naming::Packed => "│",
            _ => " │ ",
        }
    }
}

/// Times as the desk shows them: in the configured zone (the status bar names it), read at
/// the engine's "now", so a date of another year says its year.
pub fn times(app: &App) -> Times {
    let now = app
        .status
        .clock
        .unwrap_or_else(|| app.api.session().clock.now());
    Times::new(app.config().timezone, now)
}

/// A bordered block with a title.
pub fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title)
}

/// The visible slice of `len` rows for a cursor and a body height.
pub fn window(cursor: &Cursor, len: usize, rows: usize) -> std::ops::Range<usize> {
    let start = cursor.offset.min(len);
    start..(start + rows).min(len)
}

fn draw_queue(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let filter = if app.filter.is_empty() {
        String::new()
    } else {
        format!(" /{}", app.filter)
    };
    let mine = if app.mine { " mine" } else { "" };
    let marked = if app.marks.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", app.marks.len())
    };
    let title = fit_title(
        &[
            format!("Open work orders ({}){mine}", app.orders_total),
            marked,
            filter,
        ],
        area.width,
    );
    // Only the window around the cursor is held: rows are built for what is on screen.
    let visible = window(&app.queue_cursor, app.orders_total, app.page);
    let plain = Style::default();
    let rows: Vec<Vec<Value>> = visible
        .clone()
        .filter_map(|at| app.order_at(at))
        .map(|w| {
            let mark = if app.marks.contains(&w.id) {
                "●"
            } else {
                " "
            };
            vec![
                (mark.to_string(), plain),
                (w.id.clone(), plain),
                (w.status.code().to_string(), plain),
                (crate::workorders::kind_label(w.kind).to_string(), plain),
                (w.customer.clone(), plain),
                (w.site.clone(), plain),
                (
                    w.preferred_date.map_or("-".into(), |d| d.to_string()),
                    plain,
                ),
                (w.assignee.label(), plain),
            ]
        })
        .collect();
    const COLUMNS: [Column; 8] = [
        Column::value("", 10),
        Column::value("ID", 10),
        Column::value("STATUS", 8),
        Column::text("KIND", 4, 12),
        Column::value("CUSTOMER", 6),
        Column::value("SITE", 5),
        Column::value("PREFERRED", 7),
        Column::text("ASSIGNEE", 3, 10),
    ];
    let selected = app.queue_cursor.selected.checked_sub(visible.start);
    let table =
        columns::table(&COLUMNS, rows, selected, area.width, theme).block(block(title, theme));
    frame.render_widget(table, area);
    if app.orders_total == 0 {
        empty(
            frame,
            area,
            "No open work orders here. Tab switches views; ? shows the keys.",
        );
    }
}

/// A block title from `parts`, the most important first, for a block `width` wide: a part
/// that does not fit is left out whole (a count or a code is never cut in half).
pub fn fit_title(parts: &[String], width: u16) -> String {
    let room = usize::from(width).saturating_sub(4);
    let mut title = String::new();
    for (i, part) in parts.iter().enumerate() {
        let wider = Span::raw(format!("{title}{part}")).width();
        if i == 0 || wider <= room {
            title.push_str(part);
        }
    }
    format!(" {title} ")
}

/// A row, reversed when selected.
pub fn style_row<'a>(row: Row<'a>, selected: bool, theme: &Theme) -> Row<'a> {
    if selected {
        row.style(theme.selected)
    } else {
        row
    }
}

/// A hint inside an empty list.
pub fn empty(frame: &mut Frame, area: Rect, text: &str) {
    let inner = Rect {
        x: area.x + 2,
        y: area.y + 2,
        width: area.width.saturating_sub(4),
        height: 1,
    };
    frame.render_widget(Paragraph::new(text.to_string()), inner);
}

fn draw_orchestrations(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // Times in the operator's zone, as the status bar shows the clock.
    let times = times(app);
    let mut parts = Vec::new();
    if let Some(s) = app.state_filter {
        parts.push(format!("state {}", s.code()));
    }
    if let Some(t) = app.type_filter {
        parts.push(format!("type {}", t.code()));
    }
    if let Some(c) = &app.code_filter {
        parts.push(format!("error {c}"));
    }
    if let Some(sp) = &app.sp_filter {
        parts.push(format!("service point {sp} (Esc clears)"));
    }
    if !app.filter.is_empty() {
        parts.push(format!("/{}", app.filter));
    }
    if app.stuck {
        parts.insert(0, "stuck lens (f k leaves)".to_string());
    }
    let filters = if parts.is_empty() {
        String::new()
    } else {
        format!(" · {}", parts.join(" · "))
    };
    let marked = if app.orch_marks.is_empty() {
        String::new()
    } else {
        format!(" · {} marked", app.orch_marks.len())
    };
    let title = fit_title(
        &[
            format!("Orchestrations ({})", app.activities_total),
            marked,
            filters,
        ],
        area.width,
    );
    let visible = window(&app.orch_cursor, app.activities_total, app.page);
    let plain = Style::default();
    // When activities wait for their effective date, the list says when each becomes
    // effective: the column is there for that filter, or when such a row is on screen.
    let waiting = |r: &ActivityRow| r.state == OrchState::WaitEffDate.code();
    let shows_effective = app.state_filter == Some(OrchState::WaitEffDate)
        || visible
            .clone()
            .filter_map(|at| app.activity_at(at))
            .any(waiting);
    let rows: Vec<Vec<Value>> = visible
        .clone()
        .filter_map(|at| app.activity_at(at))
        .map(|r| {
            // The code alone, so a narrow list shows it whole or drops it; the record it
            // points at is in the hierarchy.
            let reason = match app.stuck_why.get(&r.id).filter(|_| app.stuck) {
                Some(why) => why.clone(),
                None => r
                    .status_reason
                    .as_ref()
                    .map_or(String::new(), |s| s.code.clone()),
            };
            let flags = match (&r.superseded_by, r.warnings.is_empty()) {
                (Some(_), _) => "⚠ superseded",
                (None, false) => "⚠ conflict",
                _ => "",
            };
            let mark = if app.orch_marks.contains(&r.id) {
                "●"
            } else {
                " "
            };
            vec![
                (mark.to_string(), plain),
                (r.id.clone(), plain),
                (r.activity_type.clone(), plain),
                (r.state.clone(), theme.state(&r.state)),
                (reason, plain),
                (r.sp.clone().or(r.target.clone()).unwrap_or_default(), plain),
                (times.minute(r.status_at), plain),
                (
                    r.effective
                        .filter(|_| waiting(r))
                        .map_or(String::new(), |at| times.minute(at)),
                    plain,
                ),
                (flags.to_string(), plain),
            ]
        })
        .map(|mut row| {
            if !shows_effective {
                row.remove(7);
            }
            row
        })
        .collect();
    // The stuck lens's reason is a sentence saying why the row is there: it matters more
    // there, and may be shortened; elsewhere it is a code, whole or not at all.
    let reason = if app.stuck {
        Column::text("WHY", 8, 12)
    } else {
        Column::value("REASON", 6)
    };
    let mut columns = vec![
        Column::value("", 10),
        Column::value("ID", 10),
        Column::value("TYPE", 5),
        Column::value("STATE", 9),
        reason,
        Column::value("SP/TARGET", 4),
        Column::value("SINCE", 3),
        // Filtered to WAIT_EFF_DATE, when is what the operator asks: kept before the others.
        Column::value("EFFECTIVE", 7),
        Column::text("", 2, 3),
    ];
    if !shows_effective {
        columns.remove(7);
    }
    let selected = app.orch_cursor.selected.checked_sub(visible.start);
    frame.render_widget(
        columns::table(&columns, rows, selected, area.width, theme).block(block(title, theme)),
        area,
    );
    if app.activities_total == 0 {
        empty(
            frame,
            area,
            "No activity matches. f s cycles the state filter, f t the type; Esc clears.",
        );
    }
}

fn draw_errors(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let total: usize = app.error_groups.iter().map(|(_, n)| n).sum();
    let marked = match app.error_marks.len() {
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
    let visible = window(&app.errors_cursor, app.error_groups.len(), app.page);
    let plain = Style::default();
    let rows: Vec<Vec<Value>> = app.error_groups[visible.clone()]
        .iter()
        .map(|(code, n)| {
            let mark = if app.error_marks.contains(code) {
                "●"
            } else {
                " "
            };
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
    let selected = app.errors_cursor.selected.checked_sub(visible.start);
    frame.render_widget(
        columns::table(&COLUMNS, rows, selected, area.width, theme).block(block(title, theme)),
        area,
    );
    if app.error_groups.is_empty() {
        empty(
            frame,
            area,
            "Nothing in error. Enter on a code lists its activities.",
        );
    }
}

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

/// Every path of the hierarchy (for expand-all).
pub fn tree_paths(tree: &ActivityTree) -> Vec<Vec<String>> {
    let mut paths = vec![vec![tree.id.clone()]];
    fn walk(path: &[String], node: &TreeNode, out: &mut Vec<Vec<String>>) {
        let mut here = path.to_vec();
        here.push(node.id.clone());
        out.push(here.clone());
        for c in &node.communications {
            let mut p = here.clone();
            p.push(c.id.clone());
            out.push(p);
        }
        for child in &node.children {
            walk(&here, child, out);
        }
    }
    for c in &tree.communications {
        paths.push(vec![tree.id.clone(), c.id.clone()]);
    }
    for child in &tree.children {
        walk(std::slice::from_ref(&tree.id), child, &mut paths);
    }
    paths
}

/// "ID kind STATE reason" with the state in its class's colour.
fn labelled(prefix: String, state: &str, suffix: String, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::raw(prefix),
        Span::styled(state.to_string(), theme.state(state)),
        Span::raw(suffix),
    ])
}

fn comm_item(c: &CommView, theme: &Theme) -> TreeItem<'static, String> {
    let arrow = if c.direction == "outbound" {
        "→"
    } else {
        "←"
    };
    let ack = if c.acknowledged { " ack'd" } else { "" };
    let text = labelled(
        format!("{arrow} {} {} ", c.id, c.message),
        &c.state,
        ack.to_string(),
        theme,
    );
    let replies: Vec<TreeItem<'static, String>> =
        c.replies.iter().map(|r| comm_item(r, theme)).collect();
    TreeItem::new(c.id.clone(), text.clone(), replies)
        .unwrap_or_else(|_| TreeItem::new_leaf(c.id.clone(), text))
}

fn node_item(n: &TreeNode, theme: &Theme) -> TreeItem<'static, String> {
    let reason = n
        .status_reason
        .as_ref()
        .map_or(String::new(), |r| format!(" {}", r.code));
    let text = labelled(format!("{} {} ", n.id, n.kind), &n.state, reason, theme);
    let mut children: Vec<TreeItem<'static, String>> = n
        .communications
        .iter()
        .map(|c| comm_item(c, theme))
        .collect();
    for (i, e) in n.events.iter().enumerate() {
        let name = serde_json::to_value(&e.kind)
            .ok()
            .and_then(|v| v.get("event").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        children.push(TreeItem::new_leaf(
            format!("{}#event{i}", n.id),
            labelled(format!("· {name} "), e.state.code(), String::new(), theme),
        ));
    }
    children.extend(n.children.iter().map(|c| node_item(c, theme)));
    TreeItem::new(n.id.clone(), text.clone(), children)
        .unwrap_or_else(|_| TreeItem::new_leaf(n.id.clone(), text))
}

/// The hierarchy as tree items: the activity, its communications, notifications and children.
pub fn tree_items(
    tree: &ActivityTree,
    times: Times,
    theme: &Theme,
) -> Vec<TreeItem<'static, String>> {
    let reason = tree
        .status_reason
        .as_ref()
        .map_or(String::new(), |r| format!(" {}", r.code));
    let text = labelled(
        format!("{} {} ", tree.id, tree.activity_type),
        &tree.state,
        reason,
        theme,
    );
    let mut children: Vec<TreeItem<'static, String>> = Vec::new();
    for (i, n) in tree.notifications.iter().enumerate() {
        children.push(TreeItem::new_leaf(
            format!("{}#note{i}", tree.id),
            format!("✉ {:?} to {} at {}", n.kind, n.to, times.minute(n.at)),
        ));
    }
    children.extend(tree.communications.iter().map(|c| comm_item(c, theme)));
    children.extend(tree.children.iter().map(|n| node_item(n, theme)));
    vec![TreeItem::new(tree.id.clone(), text.clone(), children)
        .unwrap_or_else(|_| TreeItem::new_leaf(tree.id.clone(), text))]
}

fn draw_tree(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let Some(tree) = app.tree.clone() else {
        frame.render_widget(block(" Hierarchy ".into(), theme), area);
        empty(
            frame,
            area,
            "Open an activity: Enter on the orchestration list, or :so ID.",
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let times = times(app);
    let items = tree_items(&tree, times, theme);
    let title = format!(" {} {} ", tree.id, tree.activity_type);
    if let Ok(widget) = Tree::new(&items) {
        let widget = widget
            .block(block(title, theme))
            .highlight_style(theme.selected);
        frame.render_stateful_widget(widget, left, &mut app.tree_state);
    }
    let selected = app
        .tree_state
        .selected()
        .last()
        .cloned()
        .unwrap_or_else(|| tree.id.clone());
    let detail = detail_lines(&tree, &selected, times, theme);
    let paragraph = Paragraph::new(detail)
        .wrap(Wrap { trim: false })
        .block(block(format!(" {selected} "), theme));
    frame.render_widget(paragraph, right);
}

/// How many delivery attempts of a communication the detail pane lists (the latest).
const ATTEMPTS_SHOWN: usize = 20;

/// "reason: CHILD_ERROR (SC-12): meter did not answer" — read as words, not as JSON.
fn reason_text(reason: &crate::domain::StatusReason) -> String {
    let mut text = format!("reason: {}", reason.code);
    if let Some(reference) = &reason.reference {
        text.push_str(&format!(" ({reference})"));
    }
    if let Some(why) = &reason.text {
        text.push_str(&format!(": {why}"));
    }
    text
}

/// The detail pane of the selected node: fields, status reason, delivery attempts, payload,
/// transition log.
fn detail_lines(tree: &ActivityTree, id: &str, times: Times, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let push_log = |lines: &mut Vec<Line<'static>>, log: &[crate::domain::LogLine]| {
        lines.push(Line::from(Span::styled(
            "log",
            Style::default().add_modifier(Modifier::BOLD),
        )));
        for l in log.iter().rev().take(30) {
            let arrow = match (&l.from, &l.to) {
                (Some(f), Some(t)) => format!("{f} → {t} "),
                _ => String::new(),
            };
            lines.push(Line::from(format!(
                "  {} {arrow}{}",
                times.minute(l.at),
                l.note
            )));
        }
    };
    let fields = |lines: &mut Vec<Line<'static>>, value: &serde_json::Value| {
        field_lines(lines, value, &times, 0);
    };
    if id == tree.id {
        lines.push(labelled(
            format!("{} ", tree.activity_type),
            &tree.state,
            String::new(),
            theme,
        ));
        if let Some(r) = &tree.status_reason {
            lines.push(Line::from(reason_text(r)));
        }
        fields(&mut lines, &tree.fields);
        push_log(&mut lines, &tree.log);
        return lines;
    }
    if let Some(node) = find_node(&tree.children, id) {
        lines.push(labelled(
            format!("{} ", node.kind),
            &node.state,
            String::new(),
            theme,
        ));
        if let Some(r) = &node.status_reason {
            lines.push(Line::from(reason_text(r)));
        }
        fields(&mut lines, &node.fields);
        push_log(&mut lines, &node.log);
        return lines;
    }
    if let Some(c) = find_comm(tree, id) {
        lines.push(labelled(
            format!("{} {} ", c.direction, c.message),
            &c.state,
            String::new(),
            theme,
        ));
        if let Some(t) = &c.target {
            lines.push(Line::from(format!("target: {t}")));
        }
        if let Some(r) = &c.status_reason {
            lines.push(Line::from(reason_text(r)));
        }
        lines.extend(attempt_lines(&c.attempts, times, theme));
        lines.push(Line::from("message:"));
        field_lines(&mut lines, &c.payload, &times, 1);
        push_log(&mut lines, &c.log);
        return lines;
    }
    lines.push(Line::from(id.to_string()));
    lines
}

/// Fields read as words: "service point: SP-2", lists joined, nested records indented, times
/// in the desk's zone; internal bookkeeping (the readiness pass, the log shown apart) left out.
fn field_lines(
    lines: &mut Vec<Line<'static>>,
    value: &serde_json::Value,
    times: &Times,
    depth: usize,
) {
    use serde_json::Value;
    let Some(map) = value.as_object() else {
        return;
    };
    let indent = "  ".repeat(depth);
    for (key, v) in map {
        let empty = v.is_null()
            || v.as_array().is_some_and(|a| a.is_empty())
            || v.as_object().is_some_and(|o| o.is_empty());
        if empty || matches!(key.as_str(), "log" | "pass" | "seq") {
            continue;
        }
        let label = key.replace('_', " ");
        let scalar = |v: &Value| match v {
            // A time reads as every time on the desk does, not as stored (UTC).
            Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) => times.minute(t.to_utc()),
                Err(_) => s.clone(),
            },
            other => other.to_string(),
        };
        match v {
            Value::Object(_) => {
                lines.push(Line::from(format!("{indent}{label}:")));
                field_lines(lines, v, times, depth + 1);
            }
            Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                let text: Vec<String> = items.iter().map(scalar).collect();
                lines.push(Line::from(format!("{indent}{label}: {}", text.join(", "))));
            }
            Value::Array(items) => {
                lines.push(Line::from(format!("{indent}{label}:")));
                for item in items {
                    field_lines(lines, item, times, depth + 1);
                }
            }
            other => lines.push(Line::from(format!("{indent}{label}: {}", scalar(other)))),
        }
    }
}

/// A communication's tries at reaching its partner, one line each, the latest last; nothing
/// when there were none (inbound, or not sent yet).
fn attempt_lines(
    attempts: &[crate::domain::DeliveryAttempt],
    times: Times,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if attempts.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::from(Span::styled(
        "delivery attempts",
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    let earlier = attempts.len().saturating_sub(ATTEMPTS_SHOWN);
    if earlier > 0 {
        lines.push(Line::from(Span::styled(
            format!("  … {earlier} earlier"),
            theme.dim,
        )));
    }
    for a in &attempts[earlier..] {
        let (outcome, style) = if a.ok {
            ("ok    ", theme.ok)
        } else {
            ("failed", theme.error)
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {}  ", times.time_of_day(a.at))),
            Span::styled(outcome, style),
            Span::raw(format!("  {}", a.detail)),
        ]));
    }
    lines
}

fn find_node<'a>(nodes: &'a [TreeNode], id: &str) -> Option<&'a TreeNode> {
    for n in nodes {
        if n.id == id {
            return Some(n);
        }
        if let Some(found) = find_node(&n.children, id) {
            return Some(found);
        }
    }
    None
}

fn find_comm<'a>(tree: &'a ActivityTree, id: &str) -> Option<&'a CommView> {
    fn in_comms<'a>(comms: &'a [CommView], id: &str) -> Option<&'a CommView> {
        for c in comms {
            if c.id == id {
                return Some(c);
            }
            if let Some(found) = in_comms(&c.replies, id) {
                return Some(found);
            }
        }
        None
    }
    fn in_nodes<'a>(nodes: &'a [TreeNode], id: &str) -> Option<&'a CommView> {
        for n in nodes {
            if let Some(c) = in_comms(&n.communications, id).or_else(|| in_nodes(&n.children, id)) {
                return Some(c);
            }
        }
        None
    }
    in_comms(&tree.communications, id).or_else(|| in_nodes(&tree.children, id))
}

fn draw_status(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // Each fact is a part with a weight; a narrow bar leaves out whole parts, the lightest
    // first, and never shows half a count ("AE:1" for 19).
    let mut parts: Vec<StatusPart> = Vec::new();
    let mut part = |group: u8, keep: u8, text: String, style: Style| {
        parts.push(StatusPart {
            group,
            keep,
            text,
            style,
        })
    };
    if let Some(clock) = app.status.clock {
        let speed = if (app.status.speed - 1.0).abs() < f64::EPSILON {
            String::new()
        } else {
            format!(" ×{}", app.status.speed)
        };
        // Operators read local time: the configured zone, as every rule does; the status bar
        // names it for every time on the desk.
        part(
            0,
            8,
            format!("{}{speed}", times(app).labelled(clock)),
            theme.header,
        );
    }
    let role = app
        .role()
        .map_or("look only".to_string(), |r| r.code().to_string());
    part(
        1,
        9,
        format!("{} ({role})", app.operator()),
        Style::default(),
    );
    if let Some(link) = &app.status.link {
        part(2, 10, format!("⚠ {link}"), theme.error);
    }
    if let Some((count, names)) = &app.status.peers {
        let text = if names.is_empty() {
            format!("{count} connected")
        } else {
            format!("connected: {}", names.join(", "))
        };
        part(3, 5, text, theme.dim);
    }
    for (state, n) in &app.status.counts {
        // Errors are what a supervisor watches the bar for; finished work matters least.
        let keep = match super::theme::StateClass::of(state) {
            super::theme::StateClass::Error => 7,
            super::theme::StateClass::Done | super::theme::StateClass::Ended => 1,
            _ => 4,
        };
        part(
            4,
            keep,
            format!("{}:{n}", abbreviate(state)),
            theme.state(state),
        );
    }
    part(
        5,
        6,
        format!("queue {}", app.status.open_orders),
        Style::default(),
    );
    if let Some((at, n)) = app.status.last_monitor {
        part(
            6,
            2,
            format!("monitor {} +{n}", times(app).time_of_day(at)),
            theme.dim,
        );
    }
    if let Some((released, waiting)) = app.status.throttle {
        part(
            7,
            3,
            format!("throttle released {released}, waiting {waiting}"),
            Style::default(),
        );
    }
    if let Some(busy) = &app.status.busy {
        part(8, 9, format!("⏳ {busy}"), theme.warn);
    }
    let shown = fit_status(&parts, area.width);
    frame.render_widget(Paragraph::new(status_line(&parts, &shown)), area);
}

/// One fact of the status bar.
struct StatusPart {
    /// Facts of one group sit together between separators (the counts by state).
    group: u8,
    /// How much it matters: the lightest is left out first.
    keep: u8,
    text: String,
    style: Style,
}

/// The parts shown in `width` columns (indices, in order).
fn fit_status(parts: &[StatusPart], width: u16) -> Vec<usize> {
    let weights: Vec<u8> = parts.iter().map(|p| p.keep).collect();
    columns::keep_fitting(&weights, |shown| {
        status_line(parts, shown).width() <= usize::from(width)
    })
}

/// The bar: " clock  operator │ AE:3 IP:2 │ queue 4 ".
fn status_line<'a>(parts: &[StatusPart], shown: &[usize]) -> Line<'a> {
    let mut spans = Vec::new();
    let mut group = None;
    for &i in shown {
        let part = &parts[i];
        let separator = match group {
            None => " ",
            Some(g) if g == part.group => " ",
            Some(_) => " │ ",
        };
        spans.push(Span::raw(separator));
        spans.push(Span::styled(part.text.clone(), part.style));
        group = Some(part.group);
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn abbreviate(state: &str) -> String {
    state.split('_').filter_map(|w| w.chars().next()).collect()
}

fn draw_bar(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if let Some(toast) = &app.toast {
        let style = if toast.error { theme.error } else { theme.ok };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {}", toast.text), style)),
            area,
        );
        return;
    }
    if let Some(Popup::Confirm {
        typed: Some(typed), ..
    }) = &app.popup
    {
        let text = format!(
            " type {} then Enter to go ahead · Esc leaves",
            typed.expected
        );
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let context = app.context();
    let mut entries = app.keymap.command_bar_for(context, 8, |a| app.offers(a));
    // Whole entries only: a narrow bar offers fewer, keeping help (the last) for the rest.
    let width = |entries: &[(String, String)]| -> usize {
        entries
            .iter()
            .map(|(k, d)| Span::raw(format!(" {k} {d} ")).width())
            .sum()
    };
    while entries.len() > 1 && width(&entries) > usize::from(area.width) {
        match entries.iter().rposition(|(_, label)| label != "help") {
            Some(at) => entries.remove(at),
            None => break,
        };
    }
    let mut spans = Vec::new();
    for (keys, desc) in entries {
        spans.push(Span::styled(format!(" {keys} "), theme.key));
        spans.push(Span::raw(format!("{desc} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn draw_help(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let context = app.view.context();
    let popup = centered(area, 72, area.height.saturating_sub(2));
    // Help never cuts its own text: a long description wraps onto more lines.
    const KEYS: u16 = 14;
    const SCOPE: u16 = 6;
    let text_width = popup.width.saturating_sub(2 + KEYS + SCOPE + 2).max(10);
    let mut lines: Vec<(String, String, String, Style)> = Vec::new();
    for h in app.keymap.help(context) {
        let scope = if h.context == Context::Global {
            "global"
        } else {
            "here"
        };
        // What this operator may not do is listed, dimmed, with the role that may.
        match h.action.capability().filter(|_| !app.may(h.action)) {
            Some(capability) => lines.push((
                h.keys,
                format!(
                    "{} (only {})",
                    h.desc,
                    crate::domain::roles_that_may(capability)
                ),
                "—".to_string(),
                theme.dim,
            )),
            None => lines.push((h.keys, h.desc, scope.to_string(), Style::default())),
        }
    }
    // The status bar's abbreviations, explained where every key is.
    for (state, _) in &app.status.counts {
        lines.push((
            abbreviate(state),
            format!("status bar: activities in {state}"),
            String::new(),
            theme.dim,
        ));
    }
    let rows: Vec<Row> = lines
        .into_iter()
        .skip(app.help_scroll)
        .map(|(keys, desc, scope, style)| {
            let keys = wrap(&keys, KEYS);
            let desc = wrap(&desc, text_width);
            let height = keys.len().max(desc.len()) as u16;
            Row::new(vec![
                Cell::from(Text::from(keys.join("\n"))),
                Cell::from(Text::from(desc.join("\n"))),
                Cell::from(scope),
            ])
            .height(height)
            .style(style)
        })
        .collect();
    frame.render_widget(Clear, popup);
    let widths = [
        Constraint::Length(KEYS),
        Constraint::Min(text_width),
        Constraint::Length(SCOPE),
    ];
    let title = if popup.width >= 44 {
        format!(" Keys: {} (j/k scroll, Esc closes) ", app.view.title())
    } else {
        format!(" Keys: {} ", app.view.title())
    };
    let table = Table::new(rows, widths)
        .header(Row::new(["KEYS", "ACTION", ""]).style(theme.header))
        .block(block(title, theme));
    frame.render_widget(table, popup);
}

/// How many rows help lists for the current view (its keys, then the status bar's legend).
pub fn help_len(app: &App) -> usize {
    app.keymap.help(app.view.context()).len() + app.status.counts.len()
}

/// `text` broken at spaces into lines of at most `width` columns (a word longer than a line
/// is cut, which only a pathological key name would be).
pub fn wrap(text: &str, width: u16) -> Vec<String> {
    let width = usize::from(width.max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wanted = Span::raw(format!("{line} {word}")).width();
        if !line.is_empty() && wanted > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_confirm(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    question: &str,
    typed: Option<&TypedCount>,
) {
    let width = 64.min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let mut text = vec![Line::from(question.to_string()), Line::from("")];
    let mut cursor_row = None;
    match typed {
        None => text.push(Line::from(vec![
            Span::styled(" y ", theme.key),
            Span::raw(" yes    "),
            Span::styled(" n ", theme.key),
            Span::raw(" no"),
        ])),
        Some(typed) => {
            text.push(Line::from(format!(
                "This acts on {} rows: type {} and Enter to go ahead, Esc to leave.",
                typed.expected, typed.expected
            )));
            cursor_row = Some(text.len());
            text.push(Line::from(format!("> {}", typed.input.value())));
            if let Some(error) = &typed.error {
                text.push(Line::styled(error.clone(), theme.error));
            }
        }
    }
    // Height from the wrapped text, so a long question is never cut.
    let rows: usize = text.iter().map(|l| wrapped_rows(l, inner)).sum();
    let popup = centered(area, width, (rows as u16).saturating_add(2));
    frame.render_widget(Clear, popup);
    let above: usize = cursor_row.map_or(0, |at| {
        text[..at].iter().map(|l| wrapped_rows(l, inner)).sum()
    });
    let paragraph = Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .block(block(" Confirm ".into(), theme));
    frame.render_widget(paragraph, popup);
    if let (Some(_), Some(typed)) = (cursor_row, typed) {
        let x = popup.x + 1 + 2 + typed.input.visual_cursor() as u16;
        let y = popup.y + 1 + above as u16;
        if x < popup.right().saturating_sub(1) && y < popup.bottom().saturating_sub(1) {
            frame.set_cursor_position((x, y));
        }
    }
}

/// How many rows `line` takes when wrapped at `width` columns (at least one).
fn wrapped_rows(line: &Line<'_>, width: usize) -> usize {
    line.width().div_ceil(width).max(1)
}

/// A prompt and its line, the error that kept it open, and `choices` (a pick list) under them.
fn draw_input(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    (prompt, input): (&str, &tui_input::Input),
    error: Option<&str>,
    choices: Vec<Line<'static>>,
) {
    let width = 72.min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let mut lines = vec![Line::from(prompt.to_string())];
    let prompt_rows = wrapped_rows(&lines[0], inner);
    // The line scrolls sideways to keep the cursor in sight: a long entry never hides its end.
    let field = inner.saturating_sub(2).max(1);
    let scroll = input.visual_scroll(field);
    let shown: String = skip_columns(input.value(), scroll, field);
    lines.push(Line::from(vec![Span::raw("> "), Span::raw(shown)]));
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), theme.error));
    }
    lines.extend(choices);
    let rows: usize = lines.iter().map(|l| wrapped_rows(l, inner)).sum();
    let popup = centered(area, width, (rows as u16).saturating_add(2));
    frame.render_widget(Clear, popup);
    let title = if width >= 40 {
        " Enter to apply, Esc to cancel "
    } else {
        " Enter / Esc "
    };
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block(title.into(), theme));
    frame.render_widget(paragraph, popup);
    let x = popup.x + 1 + 2 + (input.visual_cursor().saturating_sub(scroll)) as u16;
    let y = popup.y + 1 + prompt_rows as u16;
    if x < popup.right() && y < popup.bottom() {
        frame.set_cursor_position((x, y));
    }
}

/// The part of `text` from display column `skip`, at most `width` columns wide.
fn skip_columns(text: &str, skip: usize, width: usize) -> String {
    use ratatui::text::Span;
    let mut column = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = Span::raw(c.to_string()).width();
        if column >= skip && column + w <= skip + width {
            out.push(c);
        }
        column += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DeliveryAttempt;
    use chrono::TimeZone;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_long_list_of_attempts_keeps_the_latest() {
        let t0 = chrono::Utc
            .with_ymd_and_hms(2025, 6, 10, 9, 0, 0)
            .single()
            .expect("valid time");
        let attempts: Vec<DeliveryAttempt> = (0..25)
            .map(|i| DeliveryAttempt {
                at: t0 + chrono::Duration::seconds(i),
                ok: i == 24,
                detail: format!("try {i}"),
            })
            .collect();
        let lines = attempt_lines(&attempts, Times::new(chrono_tz::UTC, t0), &Theme::new(true));
        let lines: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(lines.len(), 2 + ATTEMPTS_SHOWN);
        assert_eq!(lines[0], "delivery attempts");
        assert_eq!(lines[1], "  … 5 earlier");
        assert_eq!(lines[2], "  09:00:05  failed  try 5");
        assert_eq!(lines[21], "  09:00:24  ok      try 24");
        assert!(attempt_lines(&[], Times::new(chrono_tz::UTC, t0), &Theme::new(true)).is_empty());
    }
}
