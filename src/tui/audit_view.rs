//! The audit view: operator actions, newest first, with their outcome. `/` filters by operator,
//! action, id or outcome (all words must match).

use super::app::{App, Cursor, Effect};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, style_row, window};
use crate::domain::{AuditEntry, AuditOutcome};
use crate::engine::EngineError;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

/// How many recent actions the view reads: a busy desk's day or two, read from the end of the
/// log in a few milliseconds at utility scale; `orderdesk audit` reads the whole log.
const RECENT: usize = 1_000;

/// The audit view's state.
#[derive(Debug, Default)]
pub struct AuditState {
    /// Matching entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The cursor.
    pub cursor: Cursor,
}

/// Re-reads the recent audit log through the filter.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let words: Vec<String> = app
        .filter
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let mut entries = app.api.audit(None, RECENT)?;
    entries.reverse();
    entries.retain(|e| words.iter().all(|w| haystack(e).contains(w.as_str())));
    app.audit.entries = entries;
    app.audit.cursor.step(0, app.audit.entries.len());
    Ok(())
}

fn haystack(e: &AuditEntry) -> String {
    let outcome = match &e.outcome {
        AuditOutcome::Done => "done".to_string(),
        AuditOutcome::Refused { code, .. } => format!("refused {code}"),
    };
    format!(
        "{} {} {} {} {}",
        e.operator,
        e.action,
        e.ids.join(" "),
        outcome,
        e.detail.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase()
}

/// Moves through the log; Esc clears the filter.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = app.audit.entries.len();
    let page = app.page as isize;
    let delta = match key {
        KeyAction::Back if !app.filter.is_empty() => {
            app.filter.clear();
            app.refresh();
            return Vec::new();
        }
        other => match super::app::motion(other, page) {
            Some(delta) => delta,
            None => return Vec::new(),
        },
    };
    app.audit.cursor.step(delta, len);
    app.audit.cursor.scroll_into_view(app.page);
    Vec::new()
}

/// The audit view has no prompt of its own.
pub fn input(_app: &mut App, _tag: &str, _text: String) -> Vec<Effect> {
    Vec::new()
}

/// Draws the log.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let times = super::views::times(app);
    let filter = if app.filter.is_empty() {
        String::new()
    } else {
        format!(" /{}", app.filter)
    };
    let title = format!(" Audit: {} action(s){filter} ", app.audit.entries.len());
    let visible = window(&app.audit.cursor, app.audit.entries.len(), app.page);
    let rows: Vec<Row> = app.audit.entries[visible.clone()]
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (outcome, style) = match &e.outcome {
                AuditOutcome::Done => ("done".to_string(), theme.ok),
                AuditOutcome::Refused { code, .. } => (format!("refused {code}"), theme.error),
            };
            let row = Row::new(vec![
                Cell::from(times.second(e.at)),
                Cell::from(e.operator.clone()),
                Cell::from(e.role.map_or("-".to_string(), |r| r.code().to_string())),
                Cell::from(e.action.clone()),
                Cell::from(e.ids.join(",")),
                Cell::from(outcome).style(style),
                Cell::from(e.detail.clone().unwrap_or_default()),
            ]);
            style_row(row, visible.start + i == app.audit.cursor.selected, theme)
        })
        .collect();
    let header = Row::new([
        "AT", "OPERATOR", "ROLE", "ACTION", "IDS", "OUTCOME", "DETAIL",
    ])
    .style(theme.header);
    let widths = [
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(16),
        Constraint::Length(26),
        Constraint::Min(10),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block(title, theme)),
        area,
    );
    if app.audit.entries.is_empty() {
        empty(
            frame,
            area,
            "No operator action matches. / filters by operator, action, id or outcome.",
        );
    }
}
