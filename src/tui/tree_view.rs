//! An activity's whole hierarchy: the collapsible tree of its field activities, commands,
//! communications and notifications, with the selected node's detail read as words.

use super::activity_actions;
use super::app::{App, Effect, View};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, times};
use crate::client::Request;
use crate::engine::{ActivityTree, CommView, EngineError, TreeNode};
use crate::timefmt::Times;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

/// The hierarchy shown, where it was opened from, and the tree's open nodes and selection.
#[derive(Debug, Default)]
pub struct HierarchyState {
    /// The activity shown.
    pub tree: Option<ActivityTree>,
    /// The view Esc goes back to.
    pub from: Option<View>,
    /// Which nodes are open and which is selected.
    pub state: TreeState<String>,
}

/// Opens the hierarchy of activity `id`.
pub fn open(app: &mut App, id: &str) {
    match app.api.show(id) {
        Ok(tree) => {
            let h = &mut app.hierarchy;
            h.state = TreeState::default();
            h.state.open(vec![tree.id.clone()]);
            h.state.select(vec![tree.id.clone()]);
            h.tree = Some(tree);
            if app.view != View::Tree {
                h.from = Some(app.view);
            }
            app.view = View::Tree;
        }
        Err(err) => {
            app.say(&err.to_string(), true);
        }
    }
}

/// Reads the activity shown again.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    if let Some(id) = app.hierarchy.tree.as_ref().map(|t| t.id.clone()) {
        app.hierarchy.tree = Some(app.api.show(&id)?);
    }
    Ok(())
}

/// Esc: back to where the hierarchy was opened from.
pub fn back(app: &mut App) {
    app.go(app.hierarchy.from.unwrap_or(View::Orchestrations));
}

/// Moves the selection by `delta` visible nodes.
pub fn step(app: &mut App, delta: isize) {
    for _ in 0..delta.unsigned_abs().min(10_000) {
        if delta < 0 {
            app.hierarchy.state.key_up();
        } else {
            app.hierarchy.state.key_down();
        }
    }
}

/// The selected node, when it is a child activity (a field activity or a command): the
/// subject of retry, execute-now and the by-hand completion.
pub fn selected_node(app: &App) -> Option<String> {
    let path = app.hierarchy.state.selected();
    let last = path.last()?;
    let root = app.hierarchy.tree.as_ref()?;
    (path.len() > 1
        && !last.starts_with("CO-")
        && !last.starts_with("CI-")
        && last != &root.id
        && !last.contains('#'))
    .then(|| last.clone())
}

/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let state = app.hierarchy.tree.as_ref().map(|t| t.state.as_str());
    match action {
        KeyAction::CompleteFa | KeyAction::CancelFa if selected_node(app).is_none() => {
            Some("select a field activity first")
        }
        KeyAction::Edit if state != Some(crate::lifecycle::OrchState::ValidationError.code()) => {
            Some("only for a request in VALIDATION_ERROR")
        }
        _ if app.hierarchy.tree.is_none() && action.capability().is_some() => {
            Some(super::commands::NOTHING_HERE)
        }
        _ => None,
    }
}

/// The hierarchy's own keys.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let h = &mut app.hierarchy;
    match key {
        KeyAction::Expand | KeyAction::Right => {
            h.state.key_right();
            Vec::new()
        }
        KeyAction::Collapse | KeyAction::Left => {
            h.state.key_left();
            Vec::new()
        }
        KeyAction::ToggleNode | KeyAction::Open => {
            h.state.toggle_selected();
            Vec::new()
        }
        KeyAction::ExpandAll => {
            if let Some(tree) = &h.tree {
                for path in tree_paths(tree) {
                    h.state.open(path);
                }
            }
            Vec::new()
        }
        KeyAction::CollapseAll => {
            h.state.close_all();
            Vec::new()
        }
        KeyAction::CompleteFa => match selected_node(app) {
            Some(fa) => {
                let request = Request::CompleteFa {
                    id: fa.clone(),
                    report: Box::new(activity_actions::complete_report()),
                };
                app.confirm(
                    format!("Complete field activity {fa} by hand (status complete)?"),
                    request,
                )
            }
            None => app.say("select a field activity in the hierarchy first", true),
        },
        KeyAction::CancelFa => match selected_node(app) {
            Some(fa) => app.prompt(
                &format!("Cancel reason for {fa} (CR, CXS, D1-Undetermined, D1-AutoDiscarded)"),
                "CR".into(),
                super::app::Purpose::CancelFa(fa),
            ),
            None => app.say("select a field activity in the hierarchy first", true),
        },
        _ => match app.hierarchy.tree.as_ref().map(|t| t.id.clone()) {
            Some(id) => {
                let related = selected_node(app);
                activity_actions::on(app, key, id, related)
            }
            None => Vec::new(),
        },
    }
}

/// What `copy` takes here: the selected node's id.
pub fn copy(app: &App) -> Option<String> {
    app.hierarchy
        .state
        .selected()
        .last()
        .map(|id| id.split('#').next().unwrap_or(id).to_string())
}

/// Draws the tree on the left and the selected node's detail on the right.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let Some(tree) = app.hierarchy.tree.clone() else {
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
        frame.render_stateful_widget(widget, left, &mut app.hierarchy.state);
    }
    let selected = app
        .hierarchy
        .state
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
