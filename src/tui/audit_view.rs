//! The audit view: operator actions, newest first, with their outcome. `/` filters by operator,
//! action, id or outcome (all words must match).

use super::app::{App, Cursor, Effect};
use super::columns::{self, Column, Value};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, window};
use crate::domain::{AuditEntry, AuditOutcome};
use crate::engine::EngineError;
use ratatui::layout::Rect;
use ratatui::style::Style;
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
    let plain = Style::default();
    let rows: Vec<Vec<Value>> = app.audit.entries[visible.clone()]
        .iter()
        .map(|e| {
            let (outcome, style) = match &e.outcome {
                AuditOutcome::Done => ("done".to_string(), theme.ok),
                AuditOutcome::Refused { code, .. } => (format!("refused {code}"), theme.error),
            };
            vec![
                (times.second(e.at), plain),
                (e.operator.clone(), plain),
                (
                    e.role.map_or("-".to_string(), |r| r.code().to_string()),
                    plain,
                ),
                (e.action.clone(), plain),
                (e.ids.join(","), plain),
                (outcome, style),
                (e.detail.clone().unwrap_or_default(), plain),
            ]
        })
        .collect();
    const COLUMNS: [Column; 7] = [
        Column::value("AT", 9),
        Column::value("OPERATOR", 8),
        Column::value("ROLE", 3),
        Column::value("ACTION", 7),
        Column::text("IDS", 5, 8),
        Column::value("OUTCOME", 6),
        Column::text("DETAIL", 2, 10),
    ];
    let selected = app.audit.cursor.selected.checked_sub(visible.start);
    frame.render_widget(
        columns::table(&COLUMNS, rows, selected, area.width, theme).block(block(title, theme)),
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
