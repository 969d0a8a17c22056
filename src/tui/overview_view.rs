//! The overview a supervisor opens first: counts by state and by error code, the queue by
//! status, and the last 24 hours of transitions and errors. Enter on a line opens the matching
//! filtered list.

use super::app::{App, Cursor, Effect, View};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, style_row};
use super::windowed::visible as window;
use crate::engine::{EngineError, HourCounts};
use crate::lifecycle::OrchState;
use crate::workorders::WoStatus;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Sparkline, Table};
use ratatui::Frame;

/// Where a line of the overview leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jump {
    /// A section heading: nowhere.
    Heading,
    /// Orchestrations in this state.
    State(String),
    /// Activities with this error code.
    ErrorCode(String),
    /// The queue, filtered to this status.
    QueueStatus(WoStatus),
}

/// One line of the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What is counted.
    pub label: String,
    /// How many (none for headings).
    pub count: Option<usize>,
    /// Where Enter leads.
    pub jump: Jump,
}

/// The overview's state.
#[derive(Debug, Default)]
pub struct OverviewState {
    /// The lines, in sections.
    pub lines: Vec<Line>,
    /// The cursor.
    pub cursor: Cursor,
    /// The last 24 hours, oldest first.
    pub hours: Vec<(crate::domain::Instant, HourCounts)>,
    /// Disconnects the throttle batch released in each of those hours.
    pub releases: Vec<u64>,
}

/// Re-reads every count.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let mut lines = vec![heading("Orchestrations by state")];
    for (state, n) in app.api.counts_by_state()? {
        lines.push(Line {
            label: state.clone(),
            count: Some(n),
            jump: Jump::State(state),
        });
    }
    lines.push(heading("Error inbox by code"));
    for (code, n) in app.api.error_groups()? {
        lines.push(Line {
            label: code.clone(),
            count: Some(n),
            jump: Jump::ErrorCode(code),
        });
    }
    lines.push(heading("Open work orders by status"));
    for (status, n) in app.api.queue_counts()? {
        lines.push(Line {
            label: status.code().to_string(),
            count: Some(n),
            jump: Jump::QueueStatus(status),
        });
    }
    let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
    app.overview.hours = app.api.hourly(now, 24)?;
    app.overview.releases = hourly_releases(app, now)?;
    app.overview.lines = lines;
    let len = app.overview.lines.len();
    app.overview.cursor.step(0, len);
    Ok(())
}

/// Releases per hour over the same 24 hours, from the batch's run records.
fn hourly_releases(app: &App, now: crate::domain::Instant) -> Result<Vec<u64>, EngineError> {
    let tz = app.config().timezone;
    let today = now.with_timezone(&tz).date_naive();
    let mut runs = app.api.releases_on(today)?.runs;
    if let Some(yesterday) = today.pred_opt() {
        runs.extend(app.api.releases_on(yesterday)?.runs);
    }
    let hours = &app.overview.hours;
    Ok(hours
        .iter()
        .map(|(start, _)| {
            let end = *start + chrono::Duration::hours(1);
            runs.iter()
                .filter(|r| r.at >= *start && r.at < end)
                .map(|r| r.released as u64)
                .sum()
        })
        .collect())
}

fn heading(text: &str) -> Line {
    Line {
        label: text.to_string(),
        count: None,
        jump: Jump::Heading,
    }
}

/// Keys of the overview.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = app.overview.lines.len();
    let page = app.page as isize;
    let delta = match key {
        KeyAction::Open => {
            open(app);
            return Vec::new();
        }
        other => match super::app::motion(other, page) {
            Some(delta) => delta,
            None => return Vec::new(),
        },
    };
    app.overview.cursor.step(delta, len);
    app.overview.cursor.scroll_into_view(app.page);
    Vec::new()
}

fn open(app: &mut App) {
    let Some(line) = app
        .overview
        .lines
        .get(app.overview.cursor.selected)
        .cloned()
    else {
        return;
    };
    match line.jump {
        Jump::Heading => {}
        Jump::State(state) => {
            app.orchestrations.state = OrchState::parse(&state);
            app.orchestrations.code = None;
            app.orchestrations.stuck = false;
            app.go(View::Orchestrations);
        }
        Jump::ErrorCode(code) => {
            app.orchestrations.code = Some(code);
            app.orchestrations.state = None;
            app.orchestrations.stuck = false;
            app.go(View::Orchestrations);
        }
        Jump::QueueStatus(status) => {
            app.queue.mine = false;
            app.go(View::Queue);
            app.filter = status.code().to_ascii_lowercase();
            app.refresh();
        }
    }
}

/// The overview has no prompt of its own.
pub fn input(_app: &mut App, _tag: &str, _text: String) -> Vec<Effect> {
    Vec::new()
}

/// Draws the counts and the sparklines.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let visible = window(
        &app.overview.cursor,
        app.overview.lines.len(),
        usize::from(left.height.saturating_sub(2)),
    );
    let rows: Vec<Row> = app.overview.lines[visible.clone()]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let row = match l.count {
                None => Row::new(vec![l.label.clone(), String::new()]).style(theme.header),
                // A state's line in its class's colour (work-order statuses have none).
                Some(n) => Row::new(vec![
                    Cell::from(Span::styled(
                        format!("  {}", l.label),
                        theme.state(&l.label),
                    )),
                    Cell::from(n.to_string()),
                ]),
            };
            style_row(
                row,
                visible.start + i == app.overview.cursor.selected,
                theme,
            )
        })
        .collect();
    let table = Table::new(rows, [Constraint::Min(20), Constraint::Length(8)])
        .block(block(" Overview (Enter opens the list) ".into(), theme));
    frame.render_widget(table, left);

    let [top, middle, bottom] = Layout::vertical([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(right);
    let transitions: Vec<u64> = app
        .overview
        .hours
        .iter()
        .map(|(_, c)| c.transitions)
        .collect();
    let errors: Vec<u64> = app.overview.hours.iter().map(|(_, c)| c.errors).collect();
    let total_t: u64 = transitions.iter().sum();
    let total_e: u64 = errors.iter().sum();
    let spark = |data: &[u64], title: String| {
        Sparkline::default()
            .block(block(title, theme))
            .data(data.to_vec())
            .style(theme.header)
    };
    frame.render_widget(
        spark(&transitions, format!(" Transitions, last 24 h: {total_t} ")),
        top,
    );
    frame.render_widget(
        spark(&errors, format!(" Errors, last 24 h: {total_e} ")).style(theme.error),
        middle,
    );
    let total_r: u64 = app.overview.releases.iter().sum();
    frame.render_widget(
        spark(
            &app.overview.releases,
            format!(" Throttle releases, last 24 h: {total_r} "),
        ),
        bottom,
    );
}
