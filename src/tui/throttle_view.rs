//! The Remote Disconnect throttle (§4, §12.8): each schedule row with its limit, what the last
//! run in it released and what still waits; the day's releases per row; the CNP business hours
//! and the next opening; and a what-if list of when each waiting disconnect goes out if nothing
//! changes. Supervisors run the batch now.
//!
//! The what-if is `throttle::project_releases` over the waiting-command index: it needs only
//! effective times and sequences, so it is computed from index keys, and ids and service points
//! are read for the rows near the screen only. It is recomputed when the queue or the next batch
//! run changes, not on every refresh.

use super::app::{App, Cursor, Effect};
use super::keymap::KeyAction;
use super::theme::Theme;
use super::views::{block, empty, style_row};
use super::windowed::visible as window;
use crate::client::Request;
use crate::domain::{ActivityType, Instant, Seq};
use crate::engine::EngineError;
use crate::throttle::{
    business_adjust, next_opening, project_releases, select_release, starts_batch_slot,
    truncate_to_minute, BatchPlan, Candidate, Schedule, ScheduleRow,
};
use crate::timefmt::Times;
use chrono::{NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, Cell, Paragraph, Row, Table};
use ratatui::Frame;
use std::collections::HashMap;

/// How many days of batch runs the what-if simulates; a backlog beyond shows as such.
const HORIZON_DAYS: u32 = 7;

/// How many what-if rows get their ids and service points read at a time: more than any
/// screen shows, few enough to read on every refresh.
const DETAIL_ROWS: usize = 200;

/// The narrowest body that shows the bar chart beside the schedule.
const CHART_MIN_WIDTH: u16 = 78;

/// One waiting disconnect in the what-if list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhatIf {
    /// The command's sequence number.
    pub seq: Seq,
    /// Its effective time.
    pub effective: Instant,
    /// When the batch would release it if nothing changes; `None` when no scheduled run does
    /// within the horizon (or the scheduled batch is off).
    pub release: Option<Instant>,
}

/// The id and service point of a what-if row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The command's id.
    pub id: String,
    /// Its service point.
    pub sp: String,
}

/// A batch run as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// When it ran.
    pub at: Instant,
    /// The schedule row it used.
    pub row: Option<usize>,
    /// How many it released.
    pub released: usize,
    /// The operator of a manual run; `None` for a scheduled one.
    pub by: Option<String>,
}

/// The throttle view's state.
#[derive(Debug, Default)]
pub struct ThrottleState {
    /// The engine time the data was read at.
    pub read_at: Option<Instant>,
    /// The waiting-command index: throttled disconnects in queue order.
    pub queue: Vec<Candidate>,
    /// The what-if list, in projected release order.
    pub whatif: Vec<WhatIf>,
    /// Ids and service points of the what-if rows near the cursor, by sequence.
    pub details: HashMap<Seq, Detail>,
    /// The what-if list's cursor.
    pub cursor: Cursor,
    /// Rows the what-if list showed at the last draw (for paging).
    pub page: usize,
    /// The local day `released` counts.
    pub day: Option<NaiveDate>,
    /// Released that day per schedule row.
    pub released: Vec<usize>,
    /// Released that day by runs outside any row (throttling off).
    pub released_unscheduled: usize,
    /// The day's latest run in each schedule row.
    pub last_in_row: Vec<Option<RunSummary>>,
    /// The latest run recorded, any day.
    pub last_run: Option<RunSummary>,
    /// The queue and the first batch run the what-if was computed for.
    projected_for: Option<(Vec<Candidate>, Option<Instant>)>,
}

/// Re-reads the queue, the day's runs and, when either changed, the what-if.
pub fn load(app: &mut App) -> Result<(), EngineError> {
    let Some(now) = app.status.clock else {
        return Ok(());
    };
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let tz = config.timezone;
    let day = now.with_timezone(&tz).date_naive();
    let queue = app.api.throttle_queue()?;
    let releases = app.api.releases_on(day)?;
    let last_run = app.api.last_batch_run()?;
    let next_run = next_batch_run(now, config.crwto_every_minutes);

    let state = &mut app.throttle;
    let rows = config.schedule().rows.len();
    state.read_at = Some(now);
    state.day = Some(day);
    state.released = releases.per_row;
    state.released_unscheduled = releases.unscheduled;
    state.last_in_row = vec![None; rows];
    for run in &releases.runs {
        if let Some(slot) = run.row.and_then(|r| state.last_in_row.get_mut(r)) {
            *slot = Some(summary(run.at, run.row, run.released, run.by.clone()));
        }
    }
    state.last_run = last_run.map(|run| summary(run.at, run.row, run.released, run.by));

    let key = (queue, next_run);
    if state.projected_for.as_ref() != Some(&key) {
        let selected = state.whatif.get(state.cursor.selected).map(|w| w.seq);
        let hours = config.type_config(ActivityType::CutForNonPayment).hours;
        let plan = BatchPlan {
            tz,
            schedule: config.schedule(),
            throttle: config.throttle_allowed(),
            every_minutes: config.crwto_every_minutes,
            hours: &hours,
            calendar: config.calendar_for(ActivityType::CutForNonPayment),
            horizon_days: HORIZON_DAYS,
        };
        state.whatif = whatif(&key.0, now, next_run.is_some(), &plan);
        if let Some(at) = selected.and_then(|seq| state.whatif.iter().position(|w| w.seq == seq)) {
            state.cursor.selected = at;
        }
        state.cursor.step(0, state.whatif.len());
        state.cursor.scroll_into_view(state.page.max(1));
        state.queue.clone_from(&key.0);
        state.projected_for = Some(key);
    }
    read_details(app)
}

/// The what-if list: the projection in release order; with the scheduled batch off, the queue
/// with no release times (only a manual run releases).
///
/// Runs release strictly in queue order, so no more than the horizon's capacity (the sum of
/// the runs' limits) can go out within it: only that head of the queue is simulated, which
/// keeps a backlog of thousands cheap.
fn whatif(queue: &[Candidate], now: Instant, scheduled: bool, plan: &BatchPlan<'_>) -> Vec<WhatIf> {
    if !scheduled {
        return queue
            .iter()
            .map(|c| WhatIf {
                seq: c.seq,
                effective: c.effective,
                release: None,
            })
            .collect();
    }
    let mut ordered: Vec<(Instant, Candidate)> = queue
        .iter()
        .map(|c| {
            let due = business_adjust(c.effective, plan.hours, plan.calendar, plan.tz);
            (due, *c)
        })
        .collect();
    ordered.sort_by_key(|(due, c)| (*due, c.seq));
    let head = horizon_capacity(now, plan).map_or(ordered.len(), |cap| cap.min(ordered.len()));
    let simulated: Vec<Candidate> = ordered[..head].iter().map(|(_, c)| *c).collect();
    let effective: HashMap<Seq, Instant> = queue.iter().map(|c| (c.seq, c.effective)).collect();
    let projected = project_releases(&simulated, now, plan);
    let beyond = ordered[head..].iter().map(|(_, c)| (c.seq, None));
    projected
        .into_iter()
        .chain(beyond)
        .filter_map(|(seq, release)| {
            Some(WhatIf {
                seq,
                effective: *effective.get(&seq)?,
                release,
            })
        })
        .collect()
}

/// The most the scheduled runs within the plan's horizon can release; `None` when the batch
/// does not throttle.
fn horizon_capacity(now: Instant, plan: &BatchPlan<'_>) -> Option<usize> {
    if !plan.throttle {
        return None;
    }
    let every = plan.every_minutes.max(1);
    let first = next_batch_run(now, every)?;
    let minutes = i64::from(plan.horizon_days) * 24 * 60;
    let mut capacity = 0usize;
    // Every minute is looked at, as the simulation does, with the runtime's own slot rule.
    for m in 0..minutes {
        let at = first + TimeDelta::minutes(m);
        if !starts_batch_slot(at, every) {
            continue;
        }
        let local = at.with_timezone(&plan.tz);
        let limit = plan
            .schedule
            .row_at(local.time())
            .and_then(|i| plan.schedule.rows.get(i))
            .map_or(0, |row| usize::try_from(row.requests).unwrap_or(usize::MAX));
        capacity = capacity.saturating_add(limit);
    }
    Some(capacity)
}

/// Reads ids and service points for the rows from the list's first visible row on, keeping
/// those already read.
fn read_details(app: &mut App) -> Result<(), EngineError> {
    let state = &mut app.throttle;
    let start = state.cursor.offset.min(state.whatif.len());
    let near = &state.whatif[start..(start + DETAIL_ROWS).min(state.whatif.len())];
    state
        .details
        .retain(|seq, _| near.iter().any(|w| w.seq == *seq));
    let missing: Vec<Candidate> = near
        .iter()
        .filter(|w| !state.details.contains_key(&w.seq))
        .map(|w| Candidate {
            seq: w.seq,
            effective: w.effective,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for command in app.api.waiting_commands(&missing)? {
        state.details.insert(
            command.seq,
            Detail {
                id: command.id,
                sp: command.sp,
            },
        );
    }
    Ok(())
}

fn summary(at: Instant, row: Option<usize>, released: usize, by: Option<String>) -> RunSummary {
    RunSummary {
        at,
        row,
        released,
        by,
    }
}

/// Keys of the throttle view: the what-if list moves; `run_batch` asks, then runs the batch.
pub fn key(app: &mut App, key: KeyAction) -> Vec<Effect> {
    let page = app.throttle.page.max(1) as isize;
    let delta = match key {
        KeyAction::RunBatch => return ask_to_run(app),
        KeyAction::Open => return open_selected(app),
        other => match super::app::motion(other, page) {
            Some(delta) => delta,
            None => return Vec::new(),
        },
    };
    let state = &mut app.throttle;
    state.cursor.step(delta, state.whatif.len());
    state.cursor.scroll_into_view(state.page.max(1));
    if let Err(err) = read_details(app) {
        return app.say(&format!("cannot read the waiting commands: {err}"), true);
    }
    Vec::new()
}

/// The confirmation states what the run would do now, from the queue as last read.
fn ask_to_run(app: &mut App) -> Vec<Effect> {
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let tz = config.timezone;
    let Some(now) = app.status.clock else {
        return app.confirm("Run the D1-CRWTO batch now?".into(), Request::RunCrwto);
    };
    let throttle = config.throttle_allowed();
    let queue = &app.throttle.queue;
    let release = select_release(queue, now, tz, config.schedule(), throttle);
    let time = local(now, tz).format("%H:%M");
    let rule = match (
        throttle,
        release.row.and_then(|r| config.schedule().rows.get(r)),
    ) {
        (false, _) => "Throttle off: every due command goes".to_string(),
        (true, Some(row)) => format!("Row {} allows {}", row.range_label(), row.requests),
        (true, None) => "No schedule row is open".to_string(),
    };
    let question = format!(
        "Run D1-CRWTO now ({time})? {rule}: it would release {} of {} waiting ({} due stay, {} not yet due).",
        release.released.len(),
        queue.len(),
        release.remaining,
        release.not_yet_due
    );
    app.confirm(question, Request::RunCrwto)
}

/// Enter opens the selected command's hierarchy.
fn open_selected(app: &mut App) -> Vec<Effect> {
    let state = &app.throttle;
    let id = state
        .whatif
        .get(state.cursor.selected)
        .and_then(|w| state.details.get(&w.seq))
        .map(|d| d.id.clone());
    match id {
        Some(id) => {
            app.open_tree(&id);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// The id of the selected waiting command (for copying).
pub fn selected_command(app: &App) -> Option<String> {
    let state = &app.throttle;
    let seq = state.whatif.get(state.cursor.selected)?.seq;
    state.details.get(&seq).map(|d| d.id.clone())
}

/// The throttle view has no prompt of its own.
pub fn input(_app: &mut App, _tag: &str, _text: String) -> Vec<Effect> {
    Vec::new()
}

/// Draws the schedule with the day's releases beside it, the business-hours line and the
/// what-if list.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let Some(now) = app.throttle.read_at.and(app.status.clock) else {
        frame.render_widget(block(" Throttle ".into(), theme), area);
        empty(frame, area, "Waiting for the engine clock…");
        return;
    };
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let tz = config.timezone;
    let schedule = config.schedule();
    let facts = facts(app, now);
    let info = wrap_facts(&facts, area.width.saturating_sub(1));
    // A short desk keeps rows for the what-if: the facts past the second line wait for room.
    let info_lines = if area.height >= 16 { 3 } else { 2 };
    let info_height = u16::try_from(info.len())
        .unwrap_or(u16::MAX)
        .min(info_lines);
    let top_height = u16::try_from(schedule.rows.len())
        .unwrap_or(u16::MAX)
        .saturating_add(3)
        .max(5)
        .min(area.height / 2);
    let [top, info_area, list] = Layout::vertical([
        Constraint::Length(top_height),
        Constraint::Length(info_height),
        Constraint::Min(3),
    ])
    .areas(area);

    if top.width >= CHART_MIN_WIDTH {
        let [table, chart] =
            Layout::horizontal([Constraint::Min(57), Constraint::Percentage(35)]).areas(top);
        draw_schedule(frame, app, theme, table, now);
        draw_chart(frame, app, theme, chart);
    } else {
        draw_schedule(frame, app, theme, top, now);
    }
    let lines: Vec<Line> = info.into_iter().map(Line::from).collect();
    frame.render_widget(Paragraph::new(lines).style(theme.dim), info_area);
    draw_whatif(frame, app, theme, list, now, tz);
}

/// Per schedule row: limit, the day's last run in it, and what waits due by the end of its next
/// window vs later.
fn draw_schedule(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Instant) {
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let tz = config.timezone;
    let schedule = config.schedule();
    let state = &app.throttle;
    let current = schedule.row_at(truncate_to_minute(now).with_timezone(&tz).time());
    let rows: Vec<Row> = schedule
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let (due, later) = waiting_by_end(&state.queue, now, row, tz);
            let last = state.last_in_row.get(i).cloned().flatten();
            let marker = if current == Some(i) { "▶" } else { "" };
            let cells = vec![
                Cell::from(marker),
                Cell::from(row.range_label()),
                Cell::from(row.requests.to_string()),
                Cell::from(
                    last.as_ref()
                        .map_or("-".into(), |r| local(r.at, tz).format("%H:%M").to_string()),
                ),
                Cell::from(last.map_or("-".into(), |r| r.released.to_string())),
                Cell::from(due.to_string()),
                Cell::from(later.to_string()),
            ];
            Row::new(cells)
        })
        .collect();
    let header = Row::new([
        "",
        "ROW",
        "LIMIT",
        "LAST RUN",
        "RELEASED",
        "DUE",
        "NOT YET DUE",
    ])
    .style(theme.header);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Min(11),
    ];
    let allowed = if config.throttle_allowed() {
        "allowed"
    } else {
        "not allowed"
    };
    let title = format!(
        " Throttle {allowed} · {} waiting · times {} ",
        state.queue.len(),
        tz.name()
    );
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block(title, theme)),
        area,
    );
    if schedule.rows.is_empty() {
        let hint = if config.throttle_allowed() {
            "No schedule rows: a throttled run releases nothing."
        } else {
            "No schedule applies: a run releases every due command."
        };
        empty(frame, area, hint);
    }
}

/// Waiting commands due before the row's next window closes (today's, or tomorrow's once
/// today's is over), and those due later.
fn waiting_by_end(queue: &[Candidate], now: Instant, row: &ScheduleRow, tz: Tz) -> (usize, usize) {
    let today = local(now, tz).date_naive();
    let end = local_instant(today, row.to, tz)
        .filter(|end| *end > now)
        .or_else(|| local_instant(today.succ_opt()?, row.to, tz));
    // The queue is in effective order, so one search splits it.
    let due = end.map_or(queue.len(), |end| {
        queue.partition_point(|c| c.effective < end)
    });
    (due, queue.len() - due)
}

/// The day's releases as a horizontal bar per schedule row (and one for runs outside rows).
fn draw_chart(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let state = &app.throttle;
    let mut bars: Vec<Bar> = config
        .schedule()
        .rows
        .iter()
        .zip(&state.released)
        .map(|(row, n)| bar(short_label(row), *n))
        .collect();
    if state.released_unscheduled > 0 {
        bars.push(bar("off".into(), state.released_unscheduled));
    }
    let total: usize = state.released.iter().sum::<usize>() + state.released_unscheduled;
    let title = format!(" Released today: {total} ");
    frame.render_widget(
        BarChart::horizontal(bars)
            .bar_width(1)
            .bar_gap(0)
            .bar_style(theme.ok)
            .value_style(theme.selected)
            .block(block(title, theme)),
        area,
    );
}

fn bar(label: String, value: usize) -> Bar<'static> {
    Bar::with_label(label, u64::try_from(value).unwrap_or(u64::MAX))
}

/// `08-12`, or `08:30-12` when a bound is not on the hour.
fn short_label(row: &ScheduleRow) -> String {
    let hm = |t: NaiveTime| {
        if t.minute() == 0 {
            t.format("%H").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    format!("{}-{}", hm(row.from), hm(row.to))
}

/// The one-line facts under the schedule: business hours, the next opening, the batch cadence
/// and the last run.
fn facts(app: &App, now: Instant) -> Vec<String> {
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let tz = config.timezone;
    let hours = config.type_config(ActivityType::CutForNonPayment).hours;
    let calendar = config.calendar_for(ActivityType::CutForNonPayment);
    let mut facts = Vec::new();
    let days = weekdays(calendar.workdays());
    let holidays = match calendar.holidays().len() {
        0 => String::new(),
        n => format!(" less {n} holiday{}", if n == 1 { "" } else { "s" }),
    };
    let enforced = if hours.ensure {
        "enforced"
    } else {
        "not enforced"
    };
    facts.push(format!(
        "CNP business hours {days} {:02}:00–{:02}:00{holidays} ({enforced})",
        hours.start_hour, hours.end_hour
    ));
    let local_now = local(now, tz);
    let open = calendar.is_workday(local_now.date_naive()) && hours.contains_hour(local_now.hour());
    // `next_opening` hands `now` back both when open and when the calendar has no workday.
    let opening = next_opening(now, &hours, calendar, tz);
    if open {
        facts.push(format!("open now, closes {:02}:00", hours.end_hour));
    } else if opening <= now {
        facts.push("no business day ahead".into());
    } else {
        facts.push(format!(
            "next opening {} {}",
            local(opening, tz).format("%a"),
            Times::new(tz, now).minute(opening)
        ));
    }
    match next_batch_run(now, config.crwto_every_minutes) {
        Some(next) => facts.push(format!(
            "batch every {} min, next {}",
            config.crwto_every_minutes,
            local(next, tz).format("%H:%M")
        )),
        None => facts.push("scheduled batch off (crwto_every_minutes = 0)".into()),
    }
    if !config.throttle_allowed() {
        facts.push("throttle not allowed: a run releases every due command".into());
    }
    match &app.throttle.last_run {
        Some(run) => {
            let when = local(run.at, tz);
            let when = if Some(when.date_naive()) == app.throttle.day {
                when.format("%H:%M").to_string()
            } else {
                format!(
                    "{} {}",
                    when.format("%a"),
                    Times::new(tz, now).minute(run.at)
                )
            };
            let by = run
                .by
                .as_deref()
                .map_or("scheduled".into(), |o| format!("by {o}"));
            facts.push(format!("last run {when} ({by}) released {}", run.released));
        }
        None => facts.push("no batch run yet".into()),
    }
    facts
}

/// `Mon–Fri`, or the days listed when they do not run in one stretch.
fn weekdays(set: chrono::WeekdaySet) -> String {
    const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let days: Vec<usize> = (0..7).filter(|i| set.contains(WEEK[*i])).collect();
    match (days.first(), days.last()) {
        (None, _) | (_, None) => "no workdays".into(),
        (Some(&first), Some(&last)) if last - first + 1 == days.len() && days.len() > 2 => {
            format!("{}–{}", WEEK[first], WEEK[last])
        }
        _ => days
            .iter()
            .map(|i| WEEK[*i].to_string())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Facts joined by ` · ` into lines of at most `width` columns; a fact is never split.
fn wrap_facts(facts: &[String], width: u16) -> Vec<String> {
    use crate::width::columns;
    let width = usize::from(width).max(1);
    let mut lines: Vec<String> = Vec::new();
    for fact in facts {
        match lines.last_mut() {
            Some(line) if columns(line) + 3 + columns(fact) <= width => {
                line.push_str(" · ");
                line.push_str(fact);
            }
            _ => lines.push(format!(" {fact}")),
        }
    }
    lines
}

/// Every waiting disconnect with when it goes out if nothing changes.
fn draw_whatif(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect, now: Instant, tz: Tz) {
    let api = std::sync::Arc::clone(&app.api);
    let config = &api.session().config;
    let schedule = config.schedule();
    let throttle = config.throttle_allowed();
    let scheduled = config.crwto_every_minutes > 0;
    let state = &mut app.throttle;
    // The list shows `height - header - borders` rows; paging uses the same number.
    state.page = usize::from(area.height.saturating_sub(3)).max(1);
    state.cursor.scroll_into_view(state.page);
    let visible = window(&state.cursor, state.whatif.len(), state.page);
    // A narrow desk drops the effective time: when a command goes out matters more.
    let narrow = area.width < 72;
    let today = local(now, tz).date_naive();
    let rows: Vec<Row> = state.whatif[visible.clone()]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let position = visible.start + i;
            let detail = state.details.get(&w.seq);
            let (release, wait, row) = match w.release {
                Some(at) => {
                    let at_local = local(at, tz);
                    let format = if at_local.date_naive() == today {
                        "%H:%M"
                    } else {
                        "%a %H:%M"
                    };
                    (
                        Cell::from(at_local.format(format).to_string()),
                        Cell::from(until(now, at)),
                        Cell::from(row_label(schedule, throttle, at, tz)),
                    )
                }
                None if !scheduled => (
                    Cell::from("by hand").style(theme.warn),
                    Cell::from("-"),
                    Cell::from("-"),
                ),
                None => (
                    Cell::from(format!("> {HORIZON_DAYS} days")).style(theme.warn),
                    Cell::from("-"),
                    Cell::from("-"),
                ),
            };
            let mut cells = vec![
                Cell::from((position + 1).to_string()),
                Cell::from(detail.map_or("…".into(), |d| d.id.clone())),
                release,
                wait,
                row,
                Cell::from(detail.map_or("…".into(), |d| d.sp.clone())),
            ];
            if !narrow {
                cells.push(Cell::from(Times::new(tz, now).minute(w.effective)));
            }
            style_row(Row::new(cells), position == state.cursor.selected, theme)
        })
        .collect();
    let mut header = vec!["#", "COMMAND", "RELEASE AT", "IN", "ROW", "SP"];
    let mut widths = vec![
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Min(8),
    ];
    if !narrow {
        header.push("EFFECTIVE");
        widths[5] = Constraint::Length(10);
        widths.push(Constraint::Min(11));
    }
    let header = Row::new(header).style(theme.header);
    let title = super::views::fit_title(&whatif_title(state, scheduled, tz), area.width);
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(block(title, theme)),
        area,
    );
    if state.whatif.is_empty() {
        empty(
            frame,
            area,
            "Nothing waits for the batch: no throttled disconnect is in WAIT_EFF.",
        );
    }
}

/// The what-if list's title in parts (the count, then when they are all out): a narrow
/// title leaves the second out whole rather than cutting its time.
fn whatif_title(state: &ThrottleState, scheduled: bool, tz: Tz) -> Vec<String> {
    let n = state.whatif.len();
    let head = format!("What if nothing changes: {n} waiting");
    if n == 0 {
        return vec![head];
    }
    if !scheduled {
        return vec![head, " · only a manual run (b) releases them".into()];
    }
    let unreleased = state.whatif.iter().filter(|w| w.release.is_none()).count();
    match state.whatif.iter().filter_map(|w| w.release).max() {
        _ if unreleased > 0 => vec![
            head,
            format!(" · {unreleased} not within {HORIZON_DAYS} days"),
        ],
        Some(last) => vec![
            head,
            format!(" · all out by {}", local(last, tz).format("%a %H:%M")),
        ],
        None => vec![head],
    }
}

/// The schedule row a release at `at` falls in, `off` when the batch does not throttle.
fn row_label(schedule: &Schedule, throttle: bool, at: Instant, tz: Tz) -> String {
    if !throttle {
        return "off".into();
    }
    schedule
        .row_at(local(at, tz).time())
        .and_then(|i| schedule.rows.get(i))
        .map_or("-".into(), short_label)
}

/// `now`, `15m`, `2h05`, `1d 23h`: how long until `at`.
fn until(now: Instant, at: Instant) -> String {
    let minutes = (at - truncate_to_minute(now)).num_minutes();
    match minutes {
        m if m <= 0 => "now".into(),
        m if m < 60 => format!("{m}m"),
        m if m < 24 * 60 => format!("{}h{:02}", m / 60, m % 60),
        m => format!("{}d {}h", m / (24 * 60), (m % (24 * 60)) / 60),
    }
}

/// The first batch run at or after `now`: the first whole minute that starts a batch slot, as
/// the runtime counts them (and the what-if simulates them); `None` when the batch is off.
fn next_batch_run(now: Instant, every_minutes: u32) -> Option<Instant> {
    if every_minutes == 0 {
        return None;
    }
    let first = match truncate_to_minute(now) {
        t if t < now => t + TimeDelta::minutes(1),
        t => t,
    };
    (0..=24 * 60)
        .map(|m| first + TimeDelta::minutes(m))
        .find(|t| starts_batch_slot(*t, every_minutes))
}

/// `t` on the clocks of `tz`.
fn local(t: Instant, tz: Tz) -> chrono::DateTime<Tz> {
    t.with_timezone(&tz)
}

/// The instant the clocks of `tz` show `time` on `day`: the earlier of two in a fall-back hour,
/// the end of the gap in a spring-forward one.
fn local_instant(day: NaiveDate, time: NaiveTime, tz: Tz) -> Option<Instant> {
    let naive = day.and_time(time);
    (0..=180).find_map(|minutes| {
        let shifted = naive.checked_add_signed(TimeDelta::minutes(minutes))?;
        tz.from_local_datetime(&shifted)
            .earliest()
            .map(|t| t.to_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::throttle::BusinessHours;
    use chrono_tz::America::Chicago;

    fn chicago(day: u32, h: u32, m: u32) -> Instant {
        Chicago
            .with_ymd_and_hms(2025, 6, day, h, m, 0)
            .earliest()
            .expect("test time exists")
            .to_utc()
    }

    #[test]
    fn simulating_only_the_head_of_the_queue_changes_no_release() {
        let time = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("valid time");
        let schedule = Schedule {
            rows: vec![ScheduleRow {
                from: time(8),
                to: time(12),
                requests: 2,
            }],
        };
        let hours = BusinessHours {
            ensure: true,
            start_hour: 8,
            end_hour: 17,
        };
        let calendar = WorkCalendar::default();
        let plan = BatchPlan {
            tz: Chicago,
            schedule: &schedule,
            throttle: true,
            every_minutes: 15,
            hours: &hours,
            calendar: &calendar,
            horizon_days: HORIZON_DAYS,
        };
        // 300 waiting: Saturday ones move to Monday 08:00 and tie with Monday's, so business
        // hours reorder them by sequence; the horizon's runs hold at most 7 × 16 × 2 = 224, so
        // the last 76 are never simulated.
        let queue: Vec<Candidate> = (1..=300)
            .map(|seq| Candidate {
                seq,
                effective: if seq % 3 == 0 {
                    chicago(14, 10, 0)
                } else {
                    chicago(16, 8, 0)
                },
            })
            .collect();
        let mut sorted = queue.clone();
        sorted.sort_by_key(|c| (c.effective, c.seq));
        let now = chicago(13, 18, 0);
        let full: Vec<(Seq, Option<Instant>)> = project_releases(&sorted, now, &plan);
        let head: Vec<(Seq, Option<Instant>)> = whatif(&sorted, now, true, &plan)
            .iter()
            .map(|w| (w.seq, w.release))
            .collect();
        assert_eq!(head, full);
        assert_eq!(horizon_capacity(now, &plan), Some(224));
        // Nothing is due before Monday 08:00: the weekend's runs find nothing, and the five
        // weekday mornings to Friday release 5 × 32.
        assert_eq!(full.iter().filter(|(_, t)| t.is_some()).count(), 160);
    }

    #[test]
    fn until_reads_minutes_hours_and_days() {
        let now = chicago(9, 9, 0);
        assert_eq!(until(now, now), "now");
        assert_eq!(until(now, chicago(9, 9, 15)), "15m");
        assert_eq!(until(now, chicago(9, 11, 5)), "2h05");
        assert_eq!(until(now, chicago(11, 8, 0)), "1d 23h");
    }

    #[test]
    fn the_next_batch_run_is_on_the_runtime_grid() {
        let now = chicago(9, 9, 7) + TimeDelta::seconds(30);
        assert_eq!(next_batch_run(now, 15), Some(chicago(9, 9, 15)));
        assert_eq!(
            next_batch_run(chicago(9, 9, 15), 15),
            Some(chicago(9, 9, 15))
        );
        assert_eq!(next_batch_run(now, 0), None);
    }

    #[test]
    fn in_kolkata_the_view_expects_the_batch_when_the_runtime_runs_it() {
        // Given +05:30 and an hourly batch, the view's next run is the minute the runtime's
        // slot turns over: half past the local hour, not the local hour.
        let tz = chrono_tz::Asia::Kolkata;
        let now = tz.with_ymd_and_hms(2025, 6, 10, 14, 5, 0).unwrap().to_utc();
        let next = next_batch_run(now, 60).expect("a run");
        assert_eq!(local(next, tz).format("%H:%M").to_string(), "14:30");
        let slot = |t| crate::throttle::batch_slot(t, 60);
        assert!(slot(next) > slot(next - TimeDelta::seconds(1)));
        assert_eq!(slot(now), slot(next - TimeDelta::seconds(1)));
    }

    #[test]
    fn weekdays_read_as_a_stretch_or_a_list() {
        assert_eq!(weekdays(WorkCalendar::MON_TO_FRI), "Mon–Fri");
        let odd = chrono::WeekdaySet::from_array([Weekday::Mon, Weekday::Wed]);
        assert_eq!(weekdays(odd), "Mon Wed");
        assert_eq!(weekdays(chrono::WeekdaySet::EMPTY), "no workdays");
    }

    #[test]
    fn facts_wrap_whole() {
        let facts = ["aaaa".to_string(), "bbbb".to_string(), "cc".to_string()];
        assert_eq!(wrap_facts(&facts, 12), [" aaaa · bbbb", " cc"]);
    }
}
