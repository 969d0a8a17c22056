//! The customer activity feed (§7): pick a customer, read their items newest first.

use super::app::{App, Cursor, Effect, Purpose};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, style_row, window};
use crate::engine::{EngineError, FeedRequest, FeedRow};
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Row, Table};
use ratatui::Frame;

/// The feed view's state.
#[derive(Debug, Default)]
pub struct FeedState {
    /// The customer shown.
    pub customer: Option<String>,
    /// What is asked of the feed.
    pub request: FeedRequest,
    /// The items, newest first.
    pub items: Vec<FeedRow>,
    /// The cursor.
    pub cursor: Cursor,
    /// The window shown, for the title.
    pub window: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
}

/// Re-reads the customer's feed.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let Some(customer) = app.feed.customer.clone() else {
        return Ok(());
    };
    let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
    let actor = app.look_actor();
    let view = app.reader.feed(&actor, now, &customer, &app.feed.request)?;
    app.feed.window = Some((view.from, view.to));
    app.feed.items = view.items;
    app.feed.cursor.step(0, app.feed.items.len());
    Ok(())
}

/// Keys of the feed view.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = app.feed.items.len();
    let page = app.page as isize;
    let delta = match key {
        KeyAction::PickCustomer => {
            return app.prompt("Customer id", String::new(), Purpose::View("customer"));
        }
        KeyAction::Open => {
            if let Some(id) = app
                .feed
                .items
                .get(app.feed.cursor.selected)
                .and_then(|i| i.activity.clone())
            {
                app.open_tree(&id);
            }
            return Vec::new();
        }
        KeyAction::Up => -1,
        KeyAction::Down => 1,
        KeyAction::PageUp => -page,
        KeyAction::PageDown => page,
        KeyAction::Top => isize::MIN / 2,
        KeyAction::Bottom => isize::MAX / 2,
        _ => return Vec::new(),
    };
    app.feed.cursor.step(delta, len);
    app.feed.cursor.scroll_into_view(app.page);
    Vec::new()
}

/// Answers of the feed's prompts.
pub fn input(app: &mut App, tag: &str, text: String) -> Vec<Effect> {
    if tag == "customer" && !text.is_empty() {
        app.feed.customer = Some(text.to_ascii_uppercase());
        app.feed.cursor = Cursor::default();
        app.refresh();
    }
    Vec::new()
}

/// Draws the feed.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: ratatui::layout::Rect) {
    let title = match (&app.feed.customer, app.feed.window) {
        (Some(c), Some((from, to))) => format!(
            " Feed of {c}: {from} – {to} ({} items) ",
            app.feed.items.len()
        ),
        _ => " Customer activity feed ".to_string(),
    };
    let visible = window(&app.feed.cursor, app.feed.items.len(), app.page);
    let rows: Vec<Row> = app.feed.items[visible.clone()]
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let row = Row::new(vec![
                item.at.format("%Y-%m-%d %H:%M").to_string(),
                item.subtype.clone(),
                item.id.clone(),
                item.summary.clone(),
            ]);
            style_row(row, visible.start + i == app.feed.cursor.selected, theme)
        })
        .collect();
    let header = Row::new(["AT", "TYPE", "ID", "SUMMARY"]).style(theme.header);
    let widths = [
        Constraint::Length(17),
        Constraint::Length(22),
        Constraint::Length(12),
        Constraint::Min(10),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block(title, theme)),
        area,
    );
    if app.feed.customer.is_none() {
        empty(frame, area as Rect, "Press p to pick a customer.");
    }
}
