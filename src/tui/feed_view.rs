//! The customer activity feed (§7): find a customer, switch billing account, filter by category
//! and date range, read the items newest first under their six-month buckets, and open a service
//! order's hierarchy. What the operator chose is saved under the `feed` key of the desk's state
//! file and restored when the view first loads after a restart.

use super::app::{App, Cursor, Effect, Purpose};
use super::keymap::{Context, KeyAction};
use super::theme::Theme;
use super::views::block;
use crate::engine::{EngineError, FeedRequest, FeedRow};
use crate::feed::{self, RangeError, RangeRule};
use crate::formats::{FeedCategory, FeedSubtype};
use crate::timefmt::Times;
use chrono::NaiveDate;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The most customers a search offers; more asks the operator to type more.
const PICK_LIMIT: usize = 50;

/// The key of this view in the desk's state file.
const STATE_KEY: &str = "feed";

/// The feed view's state.
#[derive(Debug, Default)]
pub struct FeedState {
    /// The customer shown.
    pub customer: Option<String>,
    /// The customer's name, for the title.
    pub name: String,
    /// The customer's billing accounts, in the order `switch_account` cycles through them.
    pub accounts: Vec<String>,
    /// What is asked of the feed: account, categories, custom range.
    pub request: FeedRequest,
    /// The items shown, newest first (bucket by bucket in the default view).
    pub items: Vec<FeedRow>,
    /// The rows drawn: bucket headers and items.
    pub lines: Vec<FeedLine>,
    /// `selected` is an index into `items`; `offset` is the first row of `lines` on screen.
    pub cursor: Cursor,
    /// The days shown (the history window or the custom range).
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Why the last date range was refused (the previous range stays in force).
    pub refusal: Option<String>,
    /// Something the operator should know about what is shown (a saved choice that no longer fits).
    pub notice: Option<String>,
    /// The customers a search found, while the operator picks one.
    pub picker: Option<CustomerPicker>,
    /// The "Filter by" popup, while it is open.
    pub categories: Option<CategoryPicker>,
    /// Item rows the list showed at the last draw (for paging).
    pub rows_shown: usize,
    /// Whether the saved choice has been read (once, when the view first loads).
    restored: bool,
}

/// One row of the feed list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedLine {
    /// A six-month bucket of the default view, with how many items it holds.
    Bucket {
        /// "2024-12-11 – 2025-06-10".
        label: String,
        /// Items in it (after the filters).
        count: usize,
    },
    /// An item: its index in [`FeedState::items`].
    Item(usize),
}

/// A customer the operator may pick after a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerChoice {
    /// The customer id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The billing accounts.
    pub accounts: Vec<String>,
    /// The account the search named, viewed first.
    pub account: Option<String>,
    /// What matched, for the list: "service point: SP-3 at 12 Elm St".
    pub why: String,
}

/// The pick list of a customer search.
#[derive(Debug, Clone, Default)]
pub struct CustomerPicker {
    /// What was typed.
    pub query: String,
    /// The customers found, best first.
    pub choices: Vec<CustomerChoice>,
    /// More matched than are listed.
    pub more: bool,
    /// The selected choice.
    pub cursor: Cursor,
}

/// The "Filter by" popup: a multi-select of categories, applied on Enter.
#[derive(Debug, Clone, Default)]
pub struct CategoryPicker {
    /// The highlighted row of [`FeedCategory::ALL`].
    pub cursor: usize,
    /// The categories ticked so far (none ticked keeps every category).
    pub ticked: BTreeSet<FeedCategory>,
}

/// What survives a restart, under the state file's `feed` key.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Saved {
    customer: Option<String>,
    account: Option<String>,
    /// Category codes; an unknown code (from another build) is skipped, not fatal.
    categories: Vec<String>,
    range: Option<SavedRange>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedRange {
    start: NaiveDate,
    end: NaiveDate,
}

// ---- data ------------------------------------------------------------------------------------

/// Re-reads the customer's feed (and, the first time, restores the saved choice).
pub fn load(app: &mut App) -> Result<(), EngineError> {
    if !app.feed.restored {
        app.feed.restored = true;
        restore(app)?;
    }
    let Some(customer) = app.feed.customer.clone() else {
        app.feed.items.clear();
        app.feed.lines.clear();
        app.feed.window = None;
        return Ok(());
    };
    let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
    let view = match app.api.feed(now, &customer, &app.feed.request) {
        Ok(view) => view,
        // The customer or account went away, or a range went stale overnight: say so, show nothing.
        Err(EngineError::BadInput(message)) => {
            app.feed.notice = Some(format!(
                "{message} ({} resets the filters, {} picks a customer)",
                press(app, KeyAction::ResetFilters),
                press(app, KeyAction::PickCustomer)
            ));
            app.feed.items.clear();
            app.feed.lines.clear();
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    let selected = app
        .feed
        .items
        .get(app.feed.cursor.selected)
        .map(|i| i.id.clone());
    let needle = app.filter.to_lowercase();
    let keep = |row: &FeedRow| needle.is_empty() || row_matches(row, &needle);
    let mut items = Vec::new();
    let mut lines = Vec::new();
    match view.buckets {
        Some(buckets) => {
            for bucket in buckets {
                let rows: Vec<FeedRow> = bucket.items.into_iter().filter(keep).collect();
                lines.push(FeedLine::Bucket {
                    label: bucket.label,
                    count: rows.len(),
                });
                for row in rows {
                    lines.push(FeedLine::Item(items.len()));
                    items.push(row);
                }
            }
        }
        None => {
            for row in view.items.into_iter().filter(keep) {
                lines.push(FeedLine::Item(items.len()));
                items.push(row);
            }
        }
    }
    app.feed.window = Some((view.from, view.to));
    app.feed.request.account = view.account;
    app.feed.items = items;
    app.feed.lines = lines;
    // New items arrive on top: keep the operator on the item they were reading.
    if let Some(at) = selected.and_then(|id| app.feed.items.iter().position(|i| i.id == id)) {
        app.feed.cursor.selected = at;
    }
    app.feed.cursor.step(0, app.feed.items.len());
    Ok(())
}

fn row_matches(row: &FeedRow, needle: &str) -> bool {
    [&row.id, &row.category, &row.subtype, &row.summary]
        .iter()
        .any(|f| f.to_lowercase().contains(needle))
}

/// Today in the configured zone, by the engine clock.
fn today(app: &App) -> NaiveDate {
    let now = app.status.clock.unwrap_or_else(chrono::Utc::now);
    feed::local_date(now, app.config().timezone)
}

fn history_years(app: &App) -> u32 {
    app.config().feed_history_years
}

// ---- keys ------------------------------------------------------------------------------------

/// Keys of the feed view: the pick list and the "Filter by" popup take them first.
/// Why `action` does nothing here now (`None`: it acts).
pub fn unavailable(app: &App, action: KeyAction) -> Option<&'static str> {
    match action {
        KeyAction::Open if app.feed.items.get(app.feed.cursor.selected).is_none() => {
            Some(super::commands::NOTHING_HERE)
        }
        KeyAction::SwitchAccount if app.feed.accounts.len() < 2 => {
            Some("the customer has one account")
        }
        KeyAction::DateRange | KeyAction::FilterCategories | KeyAction::SwitchAccount
            if app.feed.customer.is_none() =>
        {
            Some("pick a customer first (p)")
        }
        _ => None,
    }
}

pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    if app.feed.picker.is_some() {
        return picker_key(app, key);
    }
    if app.feed.categories.is_some() {
        return categories_key(app, key);
    }
    let rows = app.feed.rows_shown.max(1) as isize;
    let delta = match key {
        KeyAction::PickCustomer => {
            let current = app.feed.customer.clone().unwrap_or_default();
            return app.prompt(
                "Find a customer: name, customer id, service point or billing account",
                current,
                Purpose::View("customer"),
            );
        }
        KeyAction::SwitchAccount => return switch_account(app),
        KeyAction::FilterCategories => {
            app.feed.categories = Some(CategoryPicker {
                cursor: 0,
                ticked: app.feed.request.categories.clone(),
            });
            return Vec::new();
        }
        // The current range, to be edited (C-u clears it, as in a shell).
        KeyAction::DateRange => {
            let current = app
                .feed
                .request
                .range
                .map(|(start, end)| format!("{start} {end}"))
                .unwrap_or_default();
            return app.prompt(
                "From and to, YYYY-MM-DD YYYY-MM-DD (≤ 6 months; empty: whole history)",
                current,
                Purpose::View("range"),
            );
        }
        KeyAction::ResetFilters => return reset(app),
        KeyAction::Open => return open(app),
        KeyAction::Back => {
            if !app.filter.is_empty() {
                app.filter.clear();
                app.refresh();
            } else {
                app.feed.refusal = None;
                app.feed.notice = None;
            }
            return Vec::new();
        }
        other => match super::app::motion(other, rows) {
            Some(delta) => delta,
            None => return Vec::new(),
        },
    };
    app.feed.cursor.step(delta, app.feed.items.len());
    Vec::new()
}

fn picker_key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let Some(picker) = app.feed.picker.as_mut() else {
        return Vec::new();
    };
    let len = picker.choices.len();
    match key {
        KeyAction::Up => picker.cursor.step(-1, len),
        KeyAction::Down => picker.cursor.step(1, len),
        KeyAction::PageUp => picker.cursor.step(-10, len),
        KeyAction::PageDown => picker.cursor.step(10, len),
        KeyAction::Top => picker.cursor.step(isize::MIN / 2, len),
        KeyAction::Bottom => picker.cursor.step(isize::MAX / 2, len),
        KeyAction::Open | KeyAction::Right => {
            let choice = picker.choices.get(picker.cursor.selected).cloned();
            app.feed.picker = None;
            if let Some(choice) = choice {
                choose(app, choice);
            }
        }
        KeyAction::Back | KeyAction::Left => app.feed.picker = None,
        // Searching again from the list is the natural thing to try.
        KeyAction::PickCustomer => {
            let query = picker.query.clone();
            app.feed.picker = None;
            return app.prompt(
                "Find a customer: name, customer id, service point or billing account",
                query,
                Purpose::View("customer"),
            );
        }
        _ => {}
    }
    Vec::new()
}

fn categories_key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let Some(popup) = app.feed.categories.as_mut() else {
        return Vec::new();
    };
    let last = FeedCategory::ALL.len().saturating_sub(1);
    match key {
        KeyAction::Up => popup.cursor = popup.cursor.saturating_sub(1),
        KeyAction::Down => popup.cursor = (popup.cursor + 1).min(last),
        KeyAction::Top | KeyAction::PageUp => popup.cursor = 0,
        KeyAction::Bottom | KeyAction::PageDown => popup.cursor = last,
        // Space reaches a view only through `toggle_mark`, which the keymap does not yet allow in
        // the feed context; Left and Right (h, l, arrows) reach it today, so they toggle too.
        KeyAction::ToggleMark | KeyAction::Right | KeyAction::Left => {
            if let Some(&category) = FeedCategory::ALL.get(popup.cursor) {
                if !popup.ticked.remove(&category) {
                    popup.ticked.insert(category);
                }
            }
        }
        KeyAction::Open => {
            let ticked = std::mem::take(&mut popup.ticked);
            app.feed.categories = None;
            app.feed.request.categories = ticked;
            changed(app);
        }
        // "Filter by → Reset": every category again, at once.
        KeyAction::ResetFilters => {
            app.feed.categories = None;
            app.feed.request.categories.clear();
            changed(app);
        }
        KeyAction::Back => app.feed.categories = None,
        _ => {}
    }
    Vec::new()
}

/// Answers of the feed's prompts: `customer` (a search) and `range` (two dates).
pub fn input(app: &mut App, tag: &str, text: String) -> Vec<Effect> {
    match tag {
        "customer" if text.is_empty() => app.say("nothing typed: the customer is unchanged", true),
        "customer" => search(app, &text),
        "range" => set_range(app, &text),
        _ => Vec::new(),
    }
}

fn search(app: &mut App, text: &str) -> Vec<Effect> {
    let found = match app.api.find_customers(text, PICK_LIMIT + 1) {
        Ok(found) => found,
        Err(err) => return app.say(&format!("cannot search the customers: {err}"), true),
    };
    let more = found.len() > PICK_LIMIT;
    let mut choices: Vec<CustomerChoice> = found
        .into_iter()
        .take(PICK_LIMIT)
        .map(|m| CustomerChoice {
            // A name match repeats the name column: say only what matched.
            why: if m.detail == m.name {
                m.matched_on.label().to_string()
            } else {
                format!("{}: {}", m.matched_on.label(), m.detail)
            },
            id: m.id,
            name: m.name,
            accounts: m.accounts,
            account: m.account,
        })
        .collect();
    match choices.len() {
        0 => app.say(
            &format!("no customer matches `{text}`: try part of a name, C-12, SP-3 or BA-7 (p)"),
            true,
        ),
        1 if !more => {
            if let Some(choice) = choices.pop() {
                choose(app, choice);
            }
            Vec::new()
        }
        _ => {
            app.feed.picker = Some(CustomerPicker {
                query: text.to_string(),
                choices,
                more,
                cursor: Cursor::default(),
            });
            Vec::new()
        }
    }
}

fn choose(app: &mut App, choice: CustomerChoice) {
    app.feed.request.account = choice
        .account
        .clone()
        .or_else(|| choice.accounts.first().cloned());
    app.feed.customer = Some(choice.id);
    app.feed.name = choice.name;
    app.feed.accounts = choice.accounts;
    app.feed.items.clear();
    changed(app);
}

fn switch_account(app: &mut App) -> Vec<Effect> {
    let Some(customer) = app.feed.customer.clone() else {
        return app.say("pick a customer first (p)", true);
    };
    let accounts = &app.feed.accounts;
    if accounts.len() < 2 {
        let only = accounts.first().map_or("no billing account".into(), |a| {
            format!("one billing account, {a}")
        });
        return app.say(
            &format!("{customer} has {only}: nothing to switch to"),
            false,
        );
    }
    let at = app
        .feed
        .request
        .account
        .as_ref()
        .and_then(|a| accounts.iter().position(|x| x == a))
        .map_or(0, |i| (i + 1) % accounts.len());
    app.feed.request.account = accounts.get(at).cloned();
    changed(app);
    Vec::new()
}

fn set_range(app: &mut App, text: &str) -> Vec<Effect> {
    if text.is_empty() {
        // "Date Range → Reset".
        app.feed.request.range = None;
        changed(app);
        return app.say("date range reset: the whole history is shown", false);
    }
    let (start, end) = match parse_range(text) {
        Ok(range) => range,
        Err(message) => {
            app.feed.refusal = Some(format!("{message}. {}", still_showing(app)));
            // An error keeps the range in its prompt for correction; the view says the rest.
            return app.say(&message, true);
        }
    };
    match feed::validate_range(start, end, today(app), history_years(app)) {
        Ok(range) => {
            app.feed.request.range = Some((range.start, range.end));
            changed(app);
            Vec::new()
        }
        Err(err) => {
            app.feed.refusal = Some(format!("{}. {}", refusal(&err), still_showing(app)));
            app.say(&refusal(&err), true)
        }
    }
}

/// Two `YYYY-MM-DD` dates, separated by spaces, "to" or "..".
fn parse_range(text: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let spaced = text.replace("..", " ");
    let words: Vec<&str> = spaced
        .split_whitespace()
        .filter(|w| !matches!(*w, "to" | "-" | "–"))
        .collect();
    match words.as_slice() {
        [start, end] => Ok((feed::parse_date(start)?, feed::parse_date(end)?)),
        _ => Err(format!(
            "`{text}` is not a date range: type two dates, YYYY-MM-DD YYYY-MM-DD"
        )),
    }
}

/// "Refused by rule 4 (longer_than_six_months): …" — the rule as §7.4 numbers it, and why.
fn refusal(err: &RangeError) -> String {
    let number = match err.rule {
        RangeRule::StartAfterEnd => 1,
        RangeRule::EndAfterToday => 2,
        RangeRule::BeforeHistory => 3,
        RangeRule::LongerThanSixMonths => 4,
    };
    // The rule first, so a narrow screen that cuts the message still names it.
    format!("Refused by rule {number} ({}): {err}", err.rule.code())
}

fn still_showing(app: &App) -> String {
    match (app.feed.request.range, app.feed.window) {
        (Some((start, end)), _) => format!("The range {start} – {end} stays."),
        (None, Some((start, end))) => format!("The whole history {start} – {end} stays."),
        (None, None) => "The whole history stays.".to_string(),
    }
}

fn reset(app: &mut App) -> Vec<Effect> {
    app.feed.request.categories.clear();
    app.feed.request.range = None;
    changed(app);
    let years = history_years(app);
    app.say(
        &format!("filters reset: every category over the whole {years}-year history"),
        false,
    )
}

fn open(app: &mut App) -> Vec<Effect> {
    let Some(item) = app.feed.items.get(app.feed.cursor.selected) else {
        return app.say(
            "nothing selected: pick a customer (p) or move to an item",
            true,
        );
    };
    match item.activity.clone() {
        Some(id) => {
            app.open_tree(&id);
            Vec::new()
        }
        None => {
            let what = format!("{} {}", subtype_label(&item.subtype), item.id);
            app.say(
                &format!(
                    "{what} has no hierarchy: its details are in the pane; service orders open"
                ),
                false,
            )
        }
    }
}

/// What is shown changed: start at the top, drop stale messages, save, re-read.
fn changed(app: &mut App) {
    app.feed.cursor = Cursor::default();
    app.feed.refusal = None;
    app.feed.notice = None;
    save(app);
    app.refresh();
}

// ---- the state file --------------------------------------------------------------------------

/// Writes the feed's choice under its key, keeping what other views saved.
fn save(app: &mut App) {
    let Some(path) = app.state_path.clone() else {
        return;
    };
    let saved = Saved {
        customer: app.feed.customer.clone(),
        account: app.feed.request.account.clone(),
        categories: app
            .feed
            .request
            .categories
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        range: app
            .feed
            .request
            .range
            .map(|(start, end)| SavedRange { start, end }),
    };
    if let Err(err) = super::save_state(&path, STATE_KEY, &saved) {
        app.say(
            &format!(
                "cannot save the feed's filters to {}: {err} (they last until you quit)",
                path.display()
            ),
            true,
        );
    }
}

/// Restores the saved choice; a part that no longer fits is dropped and the operator told.
fn restore(app: &mut App) -> Result<(), EngineError> {
    let Some(saved) = app
        .state_path
        .as_deref()
        .and_then(|p| super::read_state::<Saved>(p, STATE_KEY))
    else {
        return Ok(());
    };
    let mut dropped = Vec::new();
    app.feed.request.categories = saved
        .categories
        .iter()
        .filter_map(|code| FeedCategory::parse(code))
        .collect();
    if let Some(SavedRange { start, end }) = saved.range {
        match feed::validate_range(start, end, today(app), history_years(app)) {
            Ok(range) => app.feed.request.range = Some((range.start, range.end)),
            Err(err) => dropped.push(format!(
                "the saved range {start} – {end} no longer fits (rule {}), so the whole history is shown",
                err.rule.code()
            )),
        }
    }
    if let Some(id) = saved.customer {
        let found = app.api.find_customers(&id, 1)?;
        match found.into_iter().find(|m| m.id == id) {
            Some(m) => {
                app.feed.request.account = saved
                    .account
                    .filter(|a| m.accounts.contains(a))
                    .or_else(|| m.accounts.first().cloned());
                app.feed.customer = Some(m.id);
                app.feed.name = m.name;
                app.feed.accounts = m.accounts;
            }
            None => dropped.push(format!(
                "the saved customer {id} is no longer in the database"
            )),
        }
    }
    if !dropped.is_empty() {
        app.feed.notice = Some(capitalised(&dropped.join("; ")));
    }
    Ok(())
}

/// The name an operator reads for a detail key: "wrap_up_notes" → "Wrap up notes".
fn field_label(key: &str) -> String {
    match key {
        "sp" => "Service point".to_string(),
        other => capitalised(&other.replace('_', " ")),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---- drawing ---------------------------------------------------------------------------------

/// Draws the feed: the list with its bucket headers, the detail pane (right, or below when
/// narrow), and the pick list or the "Filter by" popup over them.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    if app.feed.customer.is_none() {
        draw_no_customer(frame, app, theme, area);
    } else if area.width >= 100 {
        let [list, detail] =
            Layout::horizontal([Constraint::Min(50), Constraint::Percentage(38)]).areas(area);
        draw_list(frame, app, theme, list);
        draw_detail(frame, app, theme, detail);
    } else {
        let below = (area.height / 3).clamp(5, 9);
        let [list, detail] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(below)]).areas(area);
        draw_list(frame, app, theme, list);
        draw_detail(frame, app, theme, detail);
    }
    if app.feed.picker.is_some() {
        draw_picker(frame, app, theme, area);
    } else if app.feed.categories.is_some() {
        draw_categories(frame, app, theme, area);
    }
}

/// The first key bound to `action` in the feed (or global) context, as help shows it.
fn key_of(app: &App, action: KeyAction) -> Option<String> {
    app.keymap
        .help(Context::Feed)
        .into_iter()
        .find(|row| row.action == action)
        .and_then(|row| row.keys.split(", ").next().map(str::to_string))
}

/// "p" for an action, or its `run` name in brackets when nothing is bound to it.
fn press(app: &App, action: KeyAction) -> String {
    key_of(app, action).unwrap_or_else(|| format!("[{}]", action.name()))
}

fn draw_no_customer(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut lines = vec![
        Line::from(format!(
            "Press {} and type part of a name, a customer id (C-12), a service point (SP-3) or a billing account (BA-7).",
            press(app, KeyAction::PickCustomer)
        )),
        Line::from(""),
        Line::from(Span::styled(
            format!(
                "Then {} switches billing account · {} filters by category · {} sets a date range · {} resets · {} opens a service order.",
                press(app, KeyAction::SwitchAccount),
                press(app, KeyAction::FilterCategories),
                press(app, KeyAction::DateRange),
                press(app, KeyAction::ResetFilters),
                press(app, KeyAction::Open),
            ),
            theme.dim,
        )),
    ];
    if let Some(notice) = &app.feed.notice {
        lines.insert(0, Line::from(""));
        lines.insert(0, Line::from(Span::styled(notice.clone(), theme.warn)));
    }
    let title = format!(
        " Customer activity feed — no customer chosen ({} picks one) ",
        press(app, KeyAction::PickCustomer)
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, theme)),
        area,
    );
}

/// What is shown, as the title says it, in parts (see [`super::views::fit_title`]).
fn title(app: &App) -> Vec<String> {
    let state = &app.feed;
    let customer = state.customer.as_deref().unwrap_or("");
    let account = match &state.request.account {
        Some(a) => {
            let at = state
                .accounts
                .iter()
                .position(|x| x == a)
                .map_or(0, |i| i + 1);
            format!("{a} ({at} of {})", state.accounts.len())
        }
        None => "no billing account".to_string(),
    };
    let filter = if app.filter.is_empty() {
        String::new()
    } else {
        format!(" · /{}", app.filter)
    };
    // Most important first: a narrow title leaves out whole parts, never half of a count.
    vec![
        format!("Feed of {} ({customer})", state.name),
        format!(
            " · {} item{}",
            state.items.len(),
            if state.items.len() == 1 { "" } else { "s" }
        ),
        ", newest first".to_string(),
        filter,
        format!(" · {account}"),
    ]
}

/// The window and the categories, as the line under the title says them.
fn scope(app: &App) -> String {
    let state = &app.feed;
    let days = match (state.request.range, state.window) {
        (Some((start, end)), _) => format!("Range {start} – {end}"),
        (None, Some((start, end))) => format!("History {start} – {end} by six months"),
        (None, None) => "History by six months".to_string(),
    };
    let categories = if state.request.categories.is_empty() {
        "every category".to_string()
    } else {
        let names: Vec<&str> = state
            .request
            .categories
            .iter()
            .map(|c| feed::category_label(*c))
            .collect();
        format!("only {}", names.join(", "))
    };
    format!("{days} · {categories}")
}

fn draw_list(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let outer = block(super::views::fit_title(&title(app), area.width), theme);
    let inner = outer.inner(area);
    frame.render_widget(outer, area);
    let width = usize::from(inner.width).max(1);
    let mut messages: Vec<(String, Style)> = Vec::new();
    if let Some(refusal) = &app.feed.refusal {
        messages.push((refusal.clone(), theme.error));
    }
    if let Some(notice) = &app.feed.notice {
        messages.push((notice.clone(), theme.warn));
    }
    let scope = scope(app);
    // A short list area keeps the scope to one (cut) row so an item still shows.
    let scope_rows = if inner.height < 8 {
        1
    } else {
        wrapped_rows(&scope, width).min(2)
    };
    let message_rows: u16 = messages
        .iter()
        .map(|(text, _)| wrapped_rows(text, width))
        .sum::<u16>()
        .min(inner.height.saturating_sub(scope_rows + 1));
    let [scope_area, message_area, rows_area] = Layout::vertical([
        Constraint::Length(scope_rows),
        Constraint::Length(message_rows),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Span::styled(scope, theme.dim)).wrap(Wrap { trim: true }),
        scope_area,
    );
    let message_lines: Vec<Line> = messages
        .into_iter()
        .map(|(text, style)| Line::from(Span::styled(text, style)))
        .collect();
    frame.render_widget(
        Paragraph::new(message_lines).wrap(Wrap { trim: true }),
        message_area,
    );
    let height = usize::from(rows_area.height).max(1);
    app.feed.rows_shown = height;
    scroll(app, height);
    let tz = app.config().timezone;
    let narrow = width < 90;
    let state = &app.feed;
    let selected_line = state
        .lines
        .iter()
        .position(|l| *l == FeedLine::Item(state.cursor.selected));
    let lines: Vec<Line> = state
        .lines
        .iter()
        .enumerate()
        .skip(state.cursor.offset)
        .take(height)
        .map(|(at, line)| match line {
            FeedLine::Bucket { label, count } => {
                let count = match count {
                    0 => "no items".to_string(),
                    1 => "1 item".to_string(),
                    n => format!("{n} items"),
                };
                Line::from(Span::styled(
                    format!("── {label} · {count} ──"),
                    theme.header,
                ))
            }
            FeedLine::Item(i) => {
                let text = state
                    .items
                    .get(*i)
                    .map_or(String::new(), |row| item_text(row, tz, narrow));
                // One screen row per item (cut, never wrapped), padded so the highlight spans it.
                let line = Line::from(crate::width::fit_pad(&text, width));
                if Some(at) == selected_line {
                    line.style(theme.selected)
                } else {
                    line
                }
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), rows_area);
    if state.items.is_empty() {
        // The hint may need more than one row; it goes under the (empty) bucket headers.
        let used = u16::try_from(state.lines.len().saturating_add(1)).unwrap_or(u16::MAX);
        let [_, hint_area] =
            Layout::vertical([Constraint::Length(used), Constraint::Min(0)]).areas(rows_area);
        frame.render_widget(
            Paragraph::new(Span::styled(empty_hint(app), theme.dim)).wrap(Wrap { trim: true }),
            hint_area,
        );
    }
}

/// Rows `text` takes when wrapped word by word at `width` (as the Paragraph wraps it), 1 to 4.
fn wrapped_rows(text: &str, width: usize) -> u16 {
    let width = width.max(1);
    let mut rows = 1;
    let mut used = 0;
    for word in text.split_whitespace() {
        let len = crate::width::columns(word);
        let needed = if used == 0 { len } else { used + 1 + len };
        if needed <= width {
            used = needed;
        } else {
            // A word longer than the row is broken across rows.
            rows += 1 + len.saturating_sub(1) / width;
            used = len % width;
        }
    }
    u16::try_from(rows.clamp(1, 4)).unwrap_or(4)
}

fn empty_hint(app: &App) -> String {
    let account = app
        .feed
        .request
        .account
        .as_deref()
        .unwrap_or("this customer");
    let mut hint = format!(
        "Nothing for {account} here. {} resets the filters · {} switches account · {} picks another customer",
        press(app, KeyAction::ResetFilters),
        press(app, KeyAction::SwitchAccount),
        press(app, KeyAction::PickCustomer)
    );
    if !app.filter.is_empty() {
        hint.push_str(&format!(
            " · {} clears /{}",
            press(app, KeyAction::Back),
            app.filter
        ));
    }
    hint
}

/// Keeps the selected item on screen, with its bucket header when it is the bucket's first.
fn scroll(app: &mut App, height: usize) {
    let state = &mut app.feed;
    let Some(selected) = state
        .lines
        .iter()
        .position(|l| *l == FeedLine::Item(state.cursor.selected))
    else {
        state.cursor.offset = 0;
        return;
    };
    let top = match selected.checked_sub(1).and_then(|i| state.lines.get(i)) {
        Some(FeedLine::Bucket { .. }) => selected - 1,
        _ => selected,
    };
    let offset = &mut state.cursor.offset;
    if top < *offset {
        *offset = top;
    } else if selected >= *offset + height {
        *offset = selected + 1 - height;
    }
    // Never leave blank rows below the last line while earlier lines are hidden.
    *offset = (*offset).min(state.lines.len().saturating_sub(height));
}

/// One list row: when (local), what, and the summary with the §7.1 list columns it lacks.
fn item_text(row: &FeedRow, tz: chrono_tz::Tz, narrow: bool) -> String {
    // The feed spans years: its rows always carry the year.
    let (when, kind_width) = if narrow {
        (crate::feed::local_date(row.at, tz).to_string(), 17)
    } else {
        (Times::new(tz, row.at).dated(row.at), 24)
    };
    let kind = fit(&subtype_label(&row.subtype), kind_width);
    let mut text = row.summary.clone();
    if let Some(subtype) = FeedSubtype::parse(&row.subtype) {
        let lower = row.summary.to_lowercase();
        for key in feed::list_columns(subtype) {
            if let Some(value) = row.details.get(*key).map(value_text) {
                if !value.is_empty() && !lower.contains(&value.to_lowercase()) {
                    text.push_str(" · ");
                    text.push_str(&value);
                }
            }
        }
    }
    format!("{when}  {}  {text}", crate::width::pad(&kind, kind_width))
}

/// `text` cut to `width` columns, with an ellipsis when cut.
fn fit(text: &str, width: usize) -> String {
    crate::width::fit(text, width)
}

fn subtype_label(code: &str) -> String {
    FeedSubtype::parse(code).map_or(code.to_string(), |s| feed::subtype_label(s).to_string())
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn draw_detail(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(row) = app.feed.items.get(app.feed.cursor.selected) else {
        frame.render_widget(block(" Detail ".into(), theme), area);
        return;
    };
    let tz = app.config().timezone;
    let subtype = FeedSubtype::parse(&row.subtype);
    let category = subtype.map_or(row.category.clone(), |s| {
        feed::category_label(s.category()).to_string()
    });
    let account = match &row.account {
        Some(a) => format!("account {a}"),
        None => "the contact's (on every account)".to_string(),
    };
    // The sub-type's fields (§7.1 "detail shows"), those present, after the summary.
    let mut fields = vec![("Summary".to_string(), row.summary.clone())];
    for key in subtype.map_or(&[][..], feed::detail_fields) {
        if let Some(value) = row.details.get(*key).map(value_text) {
            if !value.is_empty() {
                fields.push((field_label(key), value));
            }
        }
    }
    // Labels align up to ten characters; a longer one ("Wrap up notes") just pushes its value.
    let label_width = fields
        .iter()
        .map(|(name, _)| crate::width::columns(name))
        .max()
        .unwrap_or(0)
        .min(10);
    let when = Times::new(tz, row.at).labelled(row.at);
    let mut lines = vec![Line::from(Span::styled(
        format!("{when} · {category} · {account}"),
        theme.dim,
    ))];
    lines.extend(fields.into_iter().map(|(name, value)| {
        Line::from(vec![
            Span::styled(
                format!("{} ", crate::width::pad(&name, label_width)),
                theme.header,
            ),
            Span::raw(value),
        ])
    }));
    if let Some(activity) = &row.activity {
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", press(app, KeyAction::Open)), theme.key),
            Span::raw(format!(" opens the hierarchy of {activity}")),
        ]));
    }
    let title = format!(" {} {} ", subtype_label(&row.subtype), row.id);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(title, theme)),
        area,
    );
}

/// A box of `width` × `height` centred in `area` (cut to fit).
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

/// The first of `len` rows to show so that `selected` is inside `height` rows.
fn first_shown(selected: usize, len: usize, height: usize) -> usize {
    let height = height.max(1);
    selected
        .saturating_sub(height - 1)
        .min(len.saturating_sub(height))
}

fn draw_picker(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    use crate::width::{fit_pad, pad};
    let Some(picker) = &app.feed.picker else {
        return;
    };
    let rows = u16::try_from(picker.choices.len()).unwrap_or(u16::MAX);
    let popup = centred(area, 84, rows.saturating_add(4));
    frame.render_widget(Clear, popup);
    let more = if picker.more {
        format!(", the first {PICK_LIMIT}: type more to narrow")
    } else {
        String::new()
    };
    let title = format!(
        " {} customers match `{}`{more} ",
        picker.choices.len(),
        picker.query
    );
    let outer = block(title, theme);
    let inner = outer.inner(popup);
    frame.render_widget(outer, popup);
    let [list, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let height = usize::from(list.height);
    let first = first_shown(picker.cursor.selected, picker.choices.len(), height);
    let lines: Vec<Line> = picker
        .choices
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, c)| {
            // Narrow screens drop the accounts and shorten names so what matched still shows.
            let text = if inner.width >= 80 {
                format!(
                    "{} {} {} {}",
                    pad(&c.id, 7),
                    fit_pad(&c.name, 24),
                    fit_pad(&c.accounts.join(", "), 16),
                    c.why
                )
            } else {
                format!("{} {} {}", pad(&c.id, 7), fit_pad(&c.name, 16), c.why)
            };
            let width = usize::from(inner.width);
            let line = Line::from(fit_pad(&text, width));
            if i == picker.cursor.selected {
                line.style(theme.selected)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    let text = format!(
        "{}/{} move · {} picks · {} closes · {} searches again",
        press(app, KeyAction::Down),
        press(app, KeyAction::Up),
        press(app, KeyAction::Open),
        press(app, KeyAction::Back),
        press(app, KeyAction::PickCustomer)
    );
    frame.render_widget(Paragraph::new(Span::styled(text, theme.dim)), hint);
}

fn draw_categories(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(popup_state) = &app.feed.categories else {
        return;
    };
    let all = FeedCategory::ALL;
    let rows = u16::try_from(all.len()).unwrap_or(u16::MAX);
    let popup = centred(area, 52, rows.saturating_add(5));
    frame.render_widget(Clear, popup);
    let ticked = popup_state.ticked.len();
    let title = if ticked == 0 {
        " Filter by: none ticked = every category ".to_string()
    } else {
        format!(" Filter by: {ticked} ticked ")
    };
    let outer = block(title, theme);
    let inner = outer.inner(popup);
    frame.render_widget(outer, popup);
    let [list, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let height = usize::from(list.height);
    let first = first_shown(popup_state.cursor, all.len(), height);
    let lines: Vec<Line> = all
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, c)| {
            let mark = if popup_state.ticked.contains(c) {
                "[x]"
            } else {
                "[ ]"
            };
            let line = Line::from(format!("{mark} {}", feed::category_label(*c)));
            if i == popup_state.cursor {
                line.style(theme.selected)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    let toggles: Vec<String> = [KeyAction::ToggleMark, KeyAction::Right]
        .into_iter()
        .filter_map(|a| key_of(app, a))
        .collect();
    let text = format!(
        "{} toggles · {} applies · {} clears all · {} leaves it unchanged",
        toggles.join("/"),
        press(app, KeyAction::Open),
        press(app, KeyAction::ResetFilters),
        press(app, KeyAction::Back)
    );
    frame.render_widget(
        Paragraph::new(Span::styled(text, theme.dim)).wrap(Wrap { trim: true }),
        hint,
    );
}
