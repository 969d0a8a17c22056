//! The Remote Disconnect throttle (§4): the schedule rows and the last batch, and the
//! supervisor's "run the batch now".

use super::app::{App, Effect};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::block;
use crate::engine::EngineError;
use crate::runtime::Request;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

/// The throttle view's state.
#[derive(Debug, Default)]
pub struct ThrottleState {}

/// The throttle view reads the configuration and the status; nothing to load yet.
pub fn load(_app: &mut App) -> Result<(), EngineError> {
    Ok(())
}

/// Keys of the throttle view.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    match key {
        KeyAction::RunBatch => app.confirm("Run the D1-CRWTO batch now?".into(), Request::RunCrwto),
        _ => Vec::new(),
    }
}

/// The throttle view has no prompt of its own.
pub fn input(_app: &mut App, _tag: &str, _text: String) -> Vec<Effect> {
    Vec::new()
}

/// Draws the schedule rows.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let config = app.reader.config();
    let rows: Vec<Row> = config
        .schedule()
        .rows
        .iter()
        .map(|r| Row::new(vec![r.range_label(), r.requests.to_string()]))
        .collect();
    let (released, waiting) = app.status.throttle.unwrap_or((0, 0));
    let title = format!(
        " Throttle ({}): last batch released {released}, {waiting} waiting ",
        if config.throttle_allowed() {
            "allowed"
        } else {
            "not allowed"
        }
    );
    let header = Row::new(["ROW", "LIMIT PER RUN"]).style(theme.header);
    frame.render_widget(
        Table::new(rows, [Constraint::Length(14), Constraint::Min(10)])
            .header(header)
            .block(block(title, theme)),
        area,
    );
}
