//! The audit view: operator actions, newest first, with their outcome. Enter shows an entry in
//! full and, from there, opens the activity it names. `f o`, `f a` and `f d` keep one operator,
//! one action or a range of days, `/` keeps entries containing every word typed; the engine
//! applies them to the whole log, so last month's actions are found however busy the desk was.

use super::app::{App, Cursor, Effect, Purpose};
use super::columns::{self, Value};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty};
use super::windowed::visible as window;
use crate::domain::{AuditEntry, AuditFilter, AuditOutcome};
use crate::engine::EngineError;
use crate::listing;
use crate::timefmt::Times;
use chrono::NaiveDate;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;
use serde::{Deserialize, Serialize};

/// How many actions the view reads: the newest that pass the filters, a busy desk's day or
/// two, read in a few milliseconds at utility scale; `orderdesk audit` reads them all.
pub const RECENT: usize = 1_000;

/// The audit view's state.
#[derive(Debug, Default)]
pub struct AuditState {
    /// Matching entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The cursor.
    pub cursor: Cursor,
    /// Only this operator's actions (`f o`).
    pub operator: Option<String>,
    /// Only this action (`f a`).
    pub action: Option<String>,
    /// Only these days, first and last, in the configured zone (`f d`).
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// The selected entry is shown in full.
    pub detail: bool,
    /// The operator's saved filters have been read.
    pub restored: bool,
}

/// The state file's key for the filters.
const STATE_KEY: &str = "audit";

/// The filters that survive a restart, under the state file's `audit` key.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Saved {
    operator: Option<String>,
    action: Option<String>,
    days: Option<SavedDays>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedDays {
    first: NaiveDate,
    last: NaiveDate,
}

/// The filter the view reads with: its own filters and the `/` words.
pub fn filter(app: &App) -> AuditFilter {
    let times = super::views::times(app);
    let (from, to) = match app.audit.days {
        // The range was checked when it was typed.
        Some((first, last)) => times
            .days(first, last)
            .map_or((None, None), |(f, t)| (Some(f), Some(t))),
        None => (None, None),
    };
    AuditFilter {
        operator: app.audit.operator.clone(),
        action: app.audit.action.clone(),
        from,
        to,
        text: app.filter.clone(),
        ..AuditFilter::default()
    }
}

/// Re-reads the newest matching entries (and, the first time, restores the saved filters).
pub fn load(app: &mut App) -> Result<(), EngineError> {
    if !app.audit.restored {
        app.audit.restored = true;
        restore(app);
    }
    let mut entries = app.api.audit(&filter(app), RECENT)?;
    entries.reverse();
    app.audit.entries = entries;
    app.audit.cursor.step(0, app.audit.entries.len());
    if app.audit.entries.is_empty() {
        app.audit.detail = false;
    }
    Ok(())
}

/// Moves through the log, opens an entry, sets the filters; Esc closes the entry, then clears
/// the `/` words.
/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    let entry = app.audit.entries.get(app.audit.cursor.selected);
    match action {
        KeyAction::Open | KeyAction::OpenActivity if entry.is_none() => {
            Some(super::commands::NOTHING_HERE)
        }
        KeyAction::OpenActivity if entry.is_some_and(|e| e.ids.is_empty()) => {
            Some("the entry names no activity")
        }
        _ => None,
    }
}

pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let len = app.audit.entries.len();
    let page = app.page as isize;
    let delta = match key {
        KeyAction::Open if !app.audit.detail => {
            if len == 0 {
                return app.say("no entry to show: the filters keep none", true);
            }
            app.audit.detail = true;
            return Vec::new();
        }
        KeyAction::Open | KeyAction::OpenActivity => return open_activity(app),
        KeyAction::Back if app.audit.detail => {
            app.audit.detail = false;
            return Vec::new();
        }
        KeyAction::Back if !app.filter.is_empty() => {
            app.filter.clear();
            app.refresh();
            return Vec::new();
        }
        KeyAction::FilterOperator => {
            let current = app.audit.operator.clone().unwrap_or_default();
            return app.prompt(
                "Only this operator's actions (empty: every operator)",
                current,
                Purpose::View("operator"),
            );
        }
        KeyAction::FilterAction => {
            let current = app.audit.action.clone().unwrap_or_default();
            return app.prompt(
                "Only this action, e.g. retry, discard, wo cancel (empty: every action)",
                current,
                Purpose::View("action"),
            );
        }
        KeyAction::DateRange => {
            let current = app
                .audit
                .days
                .map(|(first, last)| format!("{first} {last}"))
                .unwrap_or_default();
            return app.prompt(
                "Days, YYYY-MM-DD YYYY-MM-DD or one day (empty: every day)",
                current,
                Purpose::View("range"),
            );
        }
        KeyAction::ResetFilters => {
            app.audit.operator = None;
            app.audit.action = None;
            app.audit.days = None;
            app.filter.clear();
            return changed(app, "filters reset: every operator, action and day");
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

/// Opens the first activity the selected entry names.
fn open_activity(app: &mut App) -> Vec<Effect> {
    let Some(entry) = app.audit.entries.get(app.audit.cursor.selected) else {
        return app.say("no entry selected", true);
    };
    let ids = entry.ids.clone();
    match ids.iter().find(|id| app.api.show(id).is_ok()) {
        Some(id) => {
            app.open_tree(id);
            Vec::new()
        }
        None if ids.is_empty() => app.say("this entry names no id, so no activity to open", true),
        None => app.say(
            &format!("{} names no activity: nothing to open", ids.join(", ")),
            true,
        ),
    }
}

/// The answers to the view's prompts: a bad one is refused and stays in its prompt.
pub fn input(app: &mut App, tag: &str, text: String) -> Vec<Effect> {
    let text = text.trim().to_string();
    match tag {
        // Operators are one word; actions may be two (`wo cancel`, `pause partner`).
        "operator" if text.split_whitespace().count() > 1 => app.say(
            &format!("`{text}` is not an operator: type one name, without spaces"),
            true,
        ),
        "operator" => {
            let said = if text.is_empty() {
                "every operator's actions".to_string()
            } else {
                format!("only {text}'s actions")
            };
            app.audit.operator = (!text.is_empty()).then_some(text);
            changed(app, &said)
        }
        "action" => {
            // One space between words, as the log writes them.
            let action = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let said = if action.is_empty() {
                "every action".to_string()
            } else {
                format!("only {action}")
            };
            app.audit.action = (!action.is_empty()).then_some(action);
            changed(app, &said)
        }
        "range" => match parse_days(&super::views::times(app), &text) {
            Ok(days) => {
                app.audit.days = days;
                let said = match days {
                    None => "every day".to_string(),
                    Some((first, last)) => format!("from {first} to {last}"),
                };
                changed(app, &said)
            }
            Err(message) => app.say(&message, true),
        },
        _ => Vec::new(),
    }
}

/// Two days (`YYYY-MM-DD YYYY-MM-DD`, also with "to" or ".."), one day, or nothing (every day).
fn parse_days(times: &Times, text: &str) -> Result<Option<(NaiveDate, NaiveDate)>, String> {
    let spaced = text.replace("..", " ");
    let words: Vec<&str> = spaced
        .split_whitespace()
        .filter(|w| !matches!(*w, "to" | "-" | "–"))
        .collect();
    let (first, last) = match words.as_slice() {
        [] => return Ok(None),
        [day] => (crate::feed::parse_date(day)?, crate::feed::parse_date(day)?),
        [first, last] => (
            crate::feed::parse_date(first)?,
            crate::feed::parse_date(last)?,
        ),
        _ => {
            return Err(format!(
                "`{text}` is not a range of days: type one day or two, YYYY-MM-DD YYYY-MM-DD"
            ))
        }
    };
    times.days(first, last)?;
    Ok(Some((first, last)))
}

/// A filter changed: start at the top, save, re-read.
fn changed(app: &mut App, said: &str) -> Vec<Effect> {
    app.audit.cursor = Cursor::default();
    app.audit.detail = false;
    let unsaved = save(app);
    app.refresh();
    let shown = app.audit.entries.len();
    match unsaved {
        Some(why) => app.say(&format!("audit: {said} ({shown} shown); {why}"), true),
        None => app.say(&format!("audit: {said} ({shown} shown)"), false),
    }
}

/// Writes the filters under their key; why they could not be, if so.
fn save(app: &App) -> Option<String> {
    let path = app.state_path.as_deref()?;
    let saved = Saved {
        operator: app.audit.operator.clone(),
        action: app.audit.action.clone(),
        days: app
            .audit
            .days
            .map(|(first, last)| SavedDays { first, last }),
    };
    super::save_state(path, STATE_KEY, &saved).err().map(|err| {
        format!(
            "cannot save the filters to {}: {err} (they last until you quit)",
            path.display()
        )
    })
}

/// Restores the saved filters; a range the configured zone can no longer read is dropped.
fn restore(app: &mut App) {
    let Some(saved) = app
        .state_path
        .as_deref()
        .and_then(|p| super::read_state::<Saved>(p, STATE_KEY))
    else {
        return;
    };
    app.audit.operator = saved.operator.filter(|o| !o.trim().is_empty());
    app.audit.action = saved.action.filter(|a| !a.trim().is_empty());
    let times = super::views::times(app);
    app.audit.days = saved
        .days
        .map(|d| (d.first, d.last))
        .filter(|(first, last)| times.days(*first, *last).is_ok());
}

/// The title: how many rows and every filter that chose them.
pub fn title(app: &App) -> String {
    let n = app.audit.entries.len();
    let mut title = if n >= RECENT {
        format!(" Audit: the newest {n} actions")
    } else {
        format!(" Audit: {n} action(s)")
    };
    if let Some(operator) = &app.audit.operator {
        title.push_str(&format!(" · by {operator}"));
    }
    if let Some(action) = &app.audit.action {
        title.push_str(&format!(" · action {action}"));
    }
    match app.audit.days {
        Some((first, last)) if first == last => title.push_str(&format!(" · on {first}")),
        Some((first, last)) => title.push_str(&format!(" · {first} to {last}")),
        None => {}
    }
    if !app.filter.is_empty() {
        title.push_str(&format!(" · /{}", app.filter));
    }
    title.push(' ');
    title
}

/// Draws the log, and over it the selected entry when it is open.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let times = super::views::times(app);
    let visible = window(&app.audit.cursor, app.audit.entries.len(), app.page);
    let rows: Vec<Vec<Value>> = app.audit.entries[visible.clone()]
        .iter()
        .map(|e| columns::values(listing::AUDIT, e, &times, theme))
        .collect();
    let selected = app.audit.cursor.selected.checked_sub(visible.start);
    frame.render_widget(
        columns::table(
            &columns::of(listing::AUDIT),
            rows,
            selected,
            area.width,
            theme,
        )
        .block(block(title(app), theme)),
        area,
    );
    if app.audit.entries.is_empty() {
        empty(
            frame,
            area,
            "No operator action matches. f r resets the filters; / filters by words.",
        );
    } else if app.audit.detail {
        if let Some(entry) = app.audit.entries.get(app.audit.cursor.selected) {
            draw_detail(frame, entry, &times, theme, area);
        }
    }
}

/// Below this height the detail puts who and what on one line each.
const COMPACT_BELOW: u16 = 16;

/// One entry in full, over the list: every field, labelled, times in the configured zone.
fn draw_detail(frame: &mut Frame, e: &AuditEntry, times: &Times, theme: &Theme, area: Rect) {
    let zoned = |t| format!("{} ({})", times.dated_second(t), times.zone());
    let none = "—".to_string();
    let (outcome, style, reason) = match &e.outcome {
        AuditOutcome::Done => ("done".to_string(), theme.ok, None),
        AuditOutcome::Refused { code, message } => (
            format!("refused, {code}"),
            theme.error,
            Some(message.clone()),
        ),
    };
    let plain = Style::default();
    let role = e.role.map_or(none.clone(), |r| r.code().to_string());
    let channel = e.channel.clone().unwrap_or_else(|| "not recorded".into());
    let account = e
        .account
        .as_ref()
        .map_or(none.clone(), |a| format!("{a}, acting as {}", e.operator));
    let ids = if e.ids.is_empty() {
        none.clone()
    } else {
        e.ids.join(", ")
    };
    let wall = e.wall.map_or("not recorded".to_string(), zoned);
    let mut fields = vec![
        ("Engine time", zoned(e.at), plain),
        ("Wall clock", wall, plain),
    ];
    // A short screen gets who and what on one line each, so the outcome and its reason show.
    if area.height < COMPACT_BELOW {
        let mut who = format!("{}, {role}", e.operator);
        if let Some(c) = &e.channel {
            who.push_str(&format!(", via {c}"));
        }
        if let Some(a) = &e.account {
            who.push_str(&format!(", account {a}"));
        }
        fields.push(("Operator", who, plain));
        fields.push(("Action", format!("{} on {ids}", e.action), plain));
    } else {
        fields.extend([
            ("Operator", e.operator.clone(), plain),
            ("Role", role, plain),
            ("Channel", channel, plain),
            ("Account", account, plain),
            ("Action", e.action.clone(), plain),
            ("Ids", ids, plain),
        ]);
    }
    fields.push(("Outcome", outcome, style));
    if let Some(reason) = reason {
        fields.push(("Reason", reason, plain));
    }
    fields.push(("Detail", e.detail.clone().unwrap_or(none), plain));
    let lines: Vec<Line> = fields
        .into_iter()
        .map(|(label, value, style)| {
            Line::from(vec![
                Span::styled(format!("{label:<12}"), theme.header),
                Span::styled(value, style),
            ])
        })
        .collect();
    let title = format!(" {} by {} · Esc back to the list ", e.action, e.operator);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(title, theme)),
        area,
    );
}
