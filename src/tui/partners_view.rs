//! The partner systems the engine delivers to (the field work system, the head-end; e-mail has
//! none yet): how each is reached, whether it takes messages, what waits for it and its last
//! failure, with the selected one's detail below. Supervisors pause and resume a partner.
//!
//! The couriers do not announce their state, so besides change notices the view re-reads the
//! board every [`REREAD_EVERY`] while it is shown.

use super::app::{App, Cursor, Effect};
use super::columns;
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty};
use super::windowed::visible as window;
use crate::client::Request;
use crate::domain::{permits, Capability, Instant};
use crate::engine::EngineError;
use crate::listing;
use crate::runtime::partners::board::age;
use crate::runtime::PartnerStatus;
use chrono_tz::Tz;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use std::time::Duration;

/// How often the board is re-read while the view is shown.
pub const REREAD_EVERY: Duration = Duration::from_secs(2);

/// The partners view's state.
#[derive(Debug, Default)]
pub struct PartnersState {
    /// One row per partner, in the engine's fixed order.
    pub rows: Vec<PartnerStatus>,
    /// The selected partner.
    pub cursor: Cursor,
    /// Rows the table showed at the last draw (for paging).
    pub page: usize,
    /// Why the last periodic re-read failed (the rows shown are from before).
    pub error: Option<String>,
    /// Clock ticks since the board was read.
    ticks: u32,
}

/// Re-reads the board.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let rows = app.api.partners()?;
    let state = &mut app.partners;
    state.rows = rows;
    state.cursor.step(0, state.rows.len());
    state.error = None;
    state.ticks = 0;
    Ok(())
}

/// One tick of the desk's clock while the view is shown: re-reads the board every
/// [`REREAD_EVERY`]. A failure is shown in the view, not as a toast every few seconds.
pub fn tick(app: &mut App) {
    app.partners.ticks += 1;
    let every = (REREAD_EVERY.as_millis() / super::CLOCK_TICK.as_millis()).max(1);
    if u128::from(app.partners.ticks) < every {
        return;
    }
    if let Err(err) = load(app) {
        app.partners.error = Some(err.to_string());
        app.partners.ticks = 0;
    }
}

/// Keys of the partners view: the list moves; pause asks first, resume does not.
/// Why `action` does nothing here now (`None`: it acts): a partner is paused only when it
/// is not, and resumed only when it is.
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let paused = app
        .partners
        .rows
        .get(app.partners.cursor.selected)
        .map(|r| r.state == "paused");
    match (action, paused) {
        (KeyAction::PausePartner | KeyAction::ResumePartner, None) => {
            Some(super::commands::NOTHING_HERE)
        }
        (KeyAction::PausePartner, Some(true)) => Some("the partner is paused"),
        (KeyAction::ResumePartner, Some(false)) => Some("the partner is not paused"),
        _ => None,
    }
}

pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let page = app.partners.page.max(1) as isize;
    let delta = match key {
        KeyAction::PausePartner => return pause_or_resume(app, true),
        KeyAction::ResumePartner => return pause_or_resume(app, false),
        other => match super::app::motion(other, page) {
            Some(delta) => delta,
            None => return Vec::new(),
        },
    };
    let state = &mut app.partners;
    state.cursor.step(delta, state.rows.len());
    // Before the first draw the table's height is not known: the draw scrolls then.
    if state.page > 0 {
        state.cursor.scroll_into_view(state.page);
    }
    Vec::new()
}

/// The selected partner's name (for copying).
pub fn selected_partner(app: &App) -> Option<String> {
    let state = &app.partners;
    state
        .rows
        .get(state.cursor.selected)
        .map(|r| r.name.clone())
}

/// The partners view has no prompt of its own.
pub fn input(_app: &mut App, _tag: &str, _text: String) -> Vec<Effect> {
    Vec::new()
}

/// Why this operator may not pause or resume a partner, in the engine's words; `None` when
/// they may. The desk says it before asking anything; the engine still decides.
fn refusal(app: &App) -> Option<String> {
    match app.role() {
        Some(role) if permits(role, Capability::Partners) => None,
        role => Some(crate::domain::refusal(
            app.operator(),
            role,
            Capability::Partners,
        )),
    }
}

/// Pausing stops deliveries, so it asks first; resuming goes at once. Both are refused before
/// anything is asked when the operator's role may not, and the board is re-read first so the
/// question counts what waits now.
fn pause_or_resume(app: &mut App, pause: bool) -> Vec<Effect> {
    if let Some(why) = refusal(app) {
        return app.say(&why, true);
    }
    if let Err(err) = load(app) {
        return app.say(&format!("cannot read the partners: {err}"), true);
    }
    let Some(row) = app.partners.rows.get(app.partners.cursor.selected).cloned() else {
        return Vec::new();
    };
    let name = row.name;
    let paused = row.state == "paused";
    match (pause, paused) {
        (true, true) => app.say(&format!("{name} is already paused"), true),
        (false, false) => app.say(&format!("{name} is not paused: nothing to resume"), true),
        (true, false) => {
            let waiting = match row.backlog {
                0 => "New messages".to_string(),
                1 => "Its 1 waiting message and new ones".to_string(),
                n => format!("Its {n} waiting messages and new ones"),
            };
            let question = format!(
                "Pause deliveries to {name}? {waiting} stay in the outbox until it is resumed; their response timeouts still run."
            );
            let request = Request::PausePartner {
                partner: name,
                paused: true,
            };
            app.confirm(question, request)
        }
        (false, true) => {
            vec![Effect::Send(Request::PausePartner {
                partner: name,
                paused: false,
            })]
        }
    }
}

/// An instant on the clocks of `tz`: the time today, else the date too (and the year when it
/// is not this year's).
fn when(t: Instant, now: Instant, tz: Tz) -> String {
    crate::timefmt::Times::new(tz, now).time_of_day(t)
}

/// Draws the table and the selected partner's detail below it.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
    let tz = app.config().timezone;
    let rows = u16::try_from(app.partners.rows.len()).unwrap_or(u16::MAX);
    // The table keeps its rows; the detail takes what is left (at least a line).
    let table_height = rows
        .max(1)
        .saturating_add(3)
        .min(area.height.saturating_sub(3));
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Length(table_height), Constraint::Min(3)]).areas(area);
    draw_table(frame, app, theme, table_area, now);
    draw_detail(frame, app, theme, detail_area, now, tz);
}

fn draw_table(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect, now: Instant) {
    let app_tz = app.config().timezone;
    let state = &mut app.partners;
    // The table shows `height - header - borders` rows; paging uses the same number.
    state.page = usize::from(area.height.saturating_sub(3)).max(1);
    state.cursor.scroll_into_view(state.page);
    // A table that has grown (or was scrolled while smaller) shows as many rows as fit.
    state.cursor.offset = state
        .cursor
        .offset
        .min(state.rows.len().saturating_sub(state.page));
    let visible = window(&state.cursor, state.rows.len(), state.page);
    let times = crate::timefmt::Times::new(app_tz, now);
    let rows: Vec<Vec<columns::Value>> = state.rows[visible.clone()]
        .iter()
        .map(|r| columns::values(listing::PARTNERS, r, &times, theme))
        .collect();
    let selected = state.cursor.selected.checked_sub(visible.start);
    let title = match &state.error {
        Some(err) => format!(" Partners · not refreshed: {} ", one_line(err)),
        None => " Partners ".to_string(),
    };
    frame.render_widget(
        columns::table(
            &columns::of(listing::PARTNERS),
            rows,
            selected,
            area.width,
            theme,
        )
        .block(block(title, theme)),
        area,
    );
    if state.rows.is_empty() {
        empty(frame, area, "The engine lists no partner.");
    }
}

/// The selected partner: the full last error, its tries since start, its state and how it is
/// reached, its backlog and last delivery; then what the states mean, when there is room.
fn draw_detail(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Instant, tz: Tz) {
    let state = &app.partners;
    let Some(r) = state.rows.get(state.cursor.selected) else {
        frame.render_widget(block(" Partner ".into(), theme), area);
        return;
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    // What a narrow desk must keep comes first: the last error in full, then the tries.
    let mut lines = vec![match (&r.last_error, r.last_error_at) {
        (Some(e), at) => Line::from(vec![
            Span::styled("last error", bold),
            Span::raw(match at {
                Some(at) => format!(" {} ({} ago): ", when(at, now, tz), age(now - at)),
                None => ": ".into(),
            }),
            Span::styled(e.clone(), theme.error),
        ]),
        (None, _) => Line::from("no error since start"),
    }];
    lines.push(Line::from(format!(
        "tries since start {}, failed {}",
        r.attempts, r.failures
    )));
    lines.push(Line::from(vec![
        Span::styled(r.state.clone(), theme.partner_state(&r.state)),
        Span::raw(format!(" · via {}", r.via)),
    ]));
    let backlog = match (r.backlog, r.oldest) {
        (0, _) => "nothing waits for it".to_string(),
        (n, Some(oldest)) => format!(
            "{n} waiting, the oldest written {} ({} ago)",
            when(oldest, now, tz),
            age(now - oldest)
        ),
        (n, None) => format!("{n} waiting"),
    };
    let delivery = match r.last_delivery {
        Some(at) => format!(
            "last delivery {} ({} ago)",
            when(at, now, tz),
            age(now - at)
        ),
        None => "no delivery since start".into(),
    };
    lines.push(Line::from(format!("{backlog} · {delivery}")));
    lines.push(Line::from(format!(
        "delivered in the last hour {}",
        r.delivered_last_hour
    )));
    if r.state == "paused" {
        lines.push(Line::from(Span::styled(
            "paused by a supervisor: its messages wait in the outbox until it is resumed",
            theme.warn,
        )));
    }
    lines.push(Line::from(""));
    for (name, meaning) in [
        ("connected", "took the messages of its last round"),
        (
            "failing",
            "its last round failed; the courier retries with backoff",
        ),
        ("paused", "a supervisor holds its messages in the outbox"),
        ("idle", "connected, nothing sent since start"),
        (
            "not connected",
            "nothing delivers to it here; its messages wait",
        ),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<13} "), theme.partner_state(name)),
            Span::styled(meaning, theme.dim),
        ]));
    }
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block(format!(" {} ", r.name), theme));
    frame.render_widget(paragraph, area);
}

/// A message on one line (a partner's error may carry a body with newlines).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_goes_first_then_the_last_error() {
        let columns = columns::of(listing::PARTNERS);
        let headers = |kept: Vec<usize>| -> Vec<&str> {
            kept.into_iter().map(|i| columns[i].header).collect()
        };
        // `field_work`, `not connected`, an age as long as `23 h 59 min`, a long URL.
        let natural = [10, 13, 7, 11, 9, 15, 30, 44];
        assert_eq!(columns::fit(&columns, &natural, 118).len(), 8);
        assert!(!headers(columns::fit(&columns, &natural, 90)).contains(&"VIA"));
        assert!(headers(columns::fit(&columns, &natural, 90)).contains(&"ERROR"));
        assert_eq!(
            headers(columns::fit(&columns, &natural, 58)),
            ["PARTNER", "STATE", "BACKLOG", "OLDEST", "LAST HOUR"]
        );
    }
}
