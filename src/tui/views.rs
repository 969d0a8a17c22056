//! Drawing: a pure function of the model. Lists build rows only for the visible slice.

use super::app::{App, Popup, TypedCount, View};
use super::columns;
use super::commands::Offer;
use super::theme::Theme;
use crate::timefmt::Times;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Tabs, Wrap};
use ratatui::Frame;

/// The smallest terminal the desk draws in.
pub const MIN_SIZE: (u16, u16) = (60, 15);

/// Draws the whole desk.
pub fn draw(frame: &mut Frame, app: &mut App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "The terminal is {}×{}; the desk needs at least {}×{}. Enlarge it, or press q to quit.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [tabs, body, status, bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, app, theme, tabs);
    // The list shows `height - header - borders` rows; paging uses the same number.
    app.page = usize::from(body.height.saturating_sub(3)).max(1);
    match app.view {
        View::Queue => super::queue_view::draw(frame, app, theme, body),
        View::Orchestrations => super::orch_view::draw(frame, app, theme, body),
        View::Errors => super::errors_view::draw(frame, app, theme, body),
        View::Tree => super::tree_view::draw(frame, app, theme, body),
        View::Feed => super::feed_view::draw(frame, app, theme, body),
        View::Throttle => super::throttle_view::draw(frame, app, theme, body),
        View::Partners => super::partners_view::draw(frame, app, theme, body),
        View::Audit => super::audit_view::draw(frame, app, theme, body),
        View::Overview => super::overview_view::draw(frame, app, theme, body),
        View::WorkOrder => super::wo_view::draw(frame, app, theme, body),
    }
    draw_status(frame, app, theme, status);
    draw_bar(frame, app, theme, bar);
    match app.popup.clone() {
        Some(Popup::Help) => draw_help(frame, app, theme, body),
        Some(Popup::Confirm {
            question, typed, ..
        }) => draw_confirm(frame, theme, body, &question, typed.as_ref()),
        Some(Popup::Input {
            prompt,
            input,
            error,
            fresh,
            ..
        }) => {
            // Room for the prompt, its line, an error and the borders; the rest lists choices.
            let rows = usize::from(body.height.saturating_sub(7)).clamp(1, 8);
            let choices = app
                .pick
                .as_ref()
                .map(|pick| super::assign_pick::lines(pick, input.value(), rows, theme))
                .unwrap_or_default();
            draw_input(
                frame,
                theme,
                body,
                (&prompt, &input, fresh),
                error.as_deref(),
                choices,
            )
        }
        None => {}
    }
}

fn draw_tabs(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // The longest names that fit: full titles, then short names, then short names packed
    // closer (an 80-column desk), then only the current tab named (the others show their
    // digit), so every tab stays visible.
    let labels = |naming: Naming| -> Vec<String> {
        View::TABS
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let name = match naming {
                    Naming::Titles => v.title(),
                    Naming::Short | Naming::Packed => v.tab(),
                    Naming::Current
                        if *v == app.view || (*v == View::Queue && app.view == View::WorkOrder) =>
                    {
                        v.tab()
                    }
                    Naming::Current => "",
                };
                match (v, name.is_empty()) {
                    (View::Tree, true) => v.tab().to_string(),
                    (View::Tree, false) => name.to_string(),
                    (_, true) => format!("{i}"),
                    (_, false) => format!("{i} {name}"),
                }
            })
            .collect()
    };
    use crate::width::columns;
    let width = |labels: &[String], divider: &str| {
        let dividers = columns(divider) * labels.len().saturating_sub(1);
        labels.iter().map(|l| columns(l)).sum::<usize>() + dividers
    };
    let (titles, divider) = [Naming::Titles, Naming::Short, Naming::Packed]
        .into_iter()
        .map(|naming| (labels(naming), naming.divider()))
        .find(|(titles, divider)| width(titles, divider) <= usize::from(area.width))
        .unwrap_or_else(|| (labels(Naming::Current), Naming::Current.divider()));
    let titles: Vec<Line> = titles.into_iter().map(Line::from).collect();
    // A work order's detail belongs to the queue's tab.
    let current = match app.view {
        View::WorkOrder => View::Queue,
        view => view,
    };
    let selected = View::TABS.iter().position(|v| *v == current).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.dim)
        .highlight_style(theme.selected)
        .padding("", "")
        .divider(divider);
    frame.render_widget(tabs, area);
}

/// How the tab bar names the views, from the widest to the narrowest.
#[derive(Debug, Clone, Copy)]
enum Naming {
    /// Every view by its title.
    Titles,
    /// Every view by its short name.
    Short,
    /// Short names with narrower dividers.
    Packed,
    /// Only the current view named; the others by their digit.
    Current,
}

impl Naming {
    /// What goes between two tabs.
    fn divider(self) -> &'static str {
        match self {
            Naming::Packed => "│",
            _ => " │ ",
        }
    }
}

/// Times as the desk shows them: in the configured zone (the status bar names it), read at
/// the engine's "now", so a date of another year says its year.
pub fn times(app: &App) -> Times {
    let now = app
        .status
        .clock
        .unwrap_or_else(|| app.api.session().clock.now());
    Times::new(app.config().timezone, now)
}

/// A bordered block with a title.
pub fn block<'a>(title: String, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(title)
}

/// A block title from `parts`, the most important first, for a block `width` wide: a part
/// that does not fit is left out whole (a count or a code is never cut in half).
pub fn fit_title(parts: &[String], width: u16) -> String {
    let room = usize::from(width).saturating_sub(4);
    let mut title = String::new();
    for (i, part) in parts.iter().enumerate() {
        let wider = Span::raw(format!("{title}{part}")).width();
        if i == 0 || wider <= room {
            title.push_str(part);
        }
    }
    format!(" {title} ")
}

/// A row, reversed when selected.
pub fn style_row<'a>(row: Row<'a>, selected: bool, theme: &Theme) -> Row<'a> {
    if selected {
        row.style(theme.selected)
    } else {
        row
    }
}

/// A hint inside an empty list.
pub fn empty(frame: &mut Frame, area: Rect, text: &str) {
    let inner = Rect {
        x: area.x + 2,
        y: area.y + 2,
        width: area.width.saturating_sub(4),
        height: 1,
    };
    frame.render_widget(Paragraph::new(text.to_string()), inner);
}

fn draw_status(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // Each fact is a part with a weight; a narrow bar leaves out whole parts, the lightest
    // first, and never shows half a count ("AE:1" for 19).
    let mut parts: Vec<StatusPart> = Vec::new();
    let mut part = |group: u8, keep: u8, text: String, style: Style| {
        parts.push(StatusPart {
            group,
            keep,
            text,
            style,
        })
    };
    if let Some(clock) = app.status.clock {
        let speed = if (app.status.speed - 1.0).abs() < f64::EPSILON {
            String::new()
        } else {
            format!(" ×{}", app.status.speed)
        };
        // Operators read local time: the configured zone, as every rule does; the status bar
        // names it for every time on the desk.
        part(
            0,
            8,
            format!("{}{speed}", times(app).labelled(clock)),
            theme.header,
        );
    }
    let role = app
        .role()
        .map_or("look only".to_string(), |r| r.code().to_string());
    part(
        1,
        9,
        format!("{} ({role})", app.operator()),
        Style::default(),
    );
    if let Some(link) = &app.status.link {
        part(2, 10, format!("⚠ {link}"), theme.error);
    }
    if let Some((count, names)) = &app.status.peers {
        let text = if names.is_empty() {
            format!("{count} connected")
        } else {
            format!("connected: {}", names.join(", "))
        };
        part(3, 5, text, theme.dim);
    }
    for (state, n) in &app.status.counts {
        // Errors are what a supervisor watches the bar for; finished work matters least.
        let keep = match super::theme::StateClass::of(state) {
            super::theme::StateClass::Error => 7,
            super::theme::StateClass::Done | super::theme::StateClass::Ended => 1,
            _ => 4,
        };
        part(
            4,
            keep,
            format!("{}:{n}", abbreviate(state)),
            theme.state(state),
        );
    }
    part(
        5,
        6,
        format!("queue {}", app.status.open_orders),
        Style::default(),
    );
    if let Some((at, n)) = app.status.last_monitor {
        part(
            6,
            2,
            format!("monitor {} +{n}", times(app).time_of_day(at)),
            theme.dim,
        );
    }
    if let Some((released, waiting)) = app.status.throttle {
        part(
            7,
            3,
            format!("throttle released {released}, waiting {waiting}"),
            Style::default(),
        );
    }
    if let Some(busy) = &app.status.busy {
        part(8, 9, format!("⏳ {busy}"), theme.warn);
    }
    let shown = fit_status(&parts, area.width);
    frame.render_widget(Paragraph::new(status_line(&parts, &shown)), area);
}

/// One fact of the status bar.
struct StatusPart {
    /// Facts of one group sit together between separators (the counts by state).
    group: u8,
    /// How much it matters: the lightest is left out first.
    keep: u8,
    text: String,
    style: Style,
}

/// The parts shown in `width` columns (indices, in order).
fn fit_status(parts: &[StatusPart], width: u16) -> Vec<usize> {
    let weights: Vec<u8> = parts.iter().map(|p| p.keep).collect();
    columns::keep_fitting(&weights, |shown| {
        status_line(parts, shown).width() <= usize::from(width)
    })
}

/// The bar: " clock  operator │ AE:3 IP:2 │ queue 4 ".
fn status_line<'a>(parts: &[StatusPart], shown: &[usize]) -> Line<'a> {
    let mut spans = Vec::new();
    let mut group = None;
    for &i in shown {
        let part = &parts[i];
        let separator = match group {
            None => " ",
            Some(g) if g == part.group => " ",
            Some(_) => " │ ",
        };
        spans.push(Span::raw(separator));
        spans.push(Span::styled(part.text.clone(), part.style));
        group = Some(part.group);
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn abbreviate(state: &str) -> String {
    state.split('_').filter_map(|w| w.chars().next()).collect()
}

fn draw_bar(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if let Some(toast) = &app.toast {
        let style = if toast.error { theme.error } else { theme.ok };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {}", toast.text), style)),
            area,
        );
        return;
    }
    if let Some(Popup::Confirm {
        typed: Some(typed), ..
    }) = &app.popup
    {
        let text = format!(
            " type {} then Enter to go ahead · Esc leaves",
            typed.expected
        );
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let mut entries = super::commands::bar(app, 8);
    // Whole entries only: a narrow bar offers fewer, keeping help (the last) for the rest.
    let width = |entries: &[(String, String)]| -> usize {
        entries
            .iter()
            .map(|(k, d)| Span::raw(format!(" {k} {d} ")).width())
            .sum()
    };
    while entries.len() > 1 && width(&entries) > usize::from(area.width) {
        match entries.iter().rposition(|(_, label)| label != "help") {
            Some(at) => entries.remove(at),
            None => break,
        };
    }
    let mut spans = Vec::new();
    for (keys, desc) in entries {
        spans.push(Span::styled(format!(" {keys} "), theme.key));
        spans.push(Span::raw(format!("{desc} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn draw_help(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let context = app.view.context();
    let popup = centered(area, 72, area.height.saturating_sub(2));
    // Help never cuts its own text: a long description wraps onto more lines.
    const KEYS: u16 = 14;
    const SCOPE: u16 = 6;
    let text_width = popup.width.saturating_sub(2 + KEYS + SCOPE + 2).max(10);
    let mut lines: Vec<(String, String, String, Style)> = Vec::new();
    for command in super::commands::of(app, context) {
        let scope = if command.global { "global" } else { "here" };
        // What this operator may not do is listed, dimmed, with the role that may; what has
        // nothing to act on now, dimmed, with what is missing.
        match command.offer {
            Offer::Yes => lines.push((
                command.keys,
                command.desc,
                scope.to_string(),
                Style::default(),
            )),
            Offer::OnlyFor(roles) => lines.push((
                command.keys,
                format!("{} (only {roles})", command.desc),
                "—".to_string(),
                theme.dim,
            )),
            Offer::Empty => lines.push((command.keys, command.desc, scope.to_string(), theme.dim)),
            Offer::NotNow(why) => lines.push((
                command.keys,
                format!("{} (now: {why})", command.desc),
                scope.to_string(),
                theme.dim,
            )),
        }
    }
    // The status bar's abbreviations, explained where every key is.
    for (state, _) in &app.status.counts {
        lines.push((
            abbreviate(state),
            format!("status bar: activities in {state}"),
            String::new(),
            theme.dim,
        ));
    }
    let rows: Vec<Row> = lines
        .into_iter()
        .skip(app.help_scroll)
        .map(|(keys, desc, scope, style)| {
            let keys = wrap(&keys, KEYS);
            let desc = wrap(&desc, text_width);
            let height = keys.len().max(desc.len()) as u16;
            Row::new(vec![
                Cell::from(Text::from(keys.join("\n"))),
                Cell::from(Text::from(desc.join("\n"))),
                Cell::from(scope),
            ])
            .height(height)
            .style(style)
        })
        .collect();
    frame.render_widget(Clear, popup);
    let widths = [
        Constraint::Length(KEYS),
        Constraint::Min(text_width),
        Constraint::Length(SCOPE),
    ];
    let title = if popup.width >= 44 {
        format!(" Keys: {} (j/k scroll, Esc closes) ", app.view.title())
    } else {
        format!(" Keys: {} ", app.view.title())
    };
    let table = Table::new(rows, widths)
        .header(Row::new(["KEYS", "ACTION", ""]).style(theme.header))
        .block(block(title, theme));
    frame.render_widget(table, popup);
}

/// How many rows help lists for the current view (its keys, then the status bar's legend).
pub fn help_len(app: &App) -> usize {
    app.keymap.help(app.view.context()).len() + app.status.counts.len()
}

/// `text` broken at spaces into lines of at most `width` columns (a word longer than a line
/// is cut, which only a pathological key name would be).
pub fn wrap(text: &str, width: u16) -> Vec<String> {
    let width = usize::from(width.max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let wanted = Span::raw(format!("{line} {word}")).width();
        if !line.is_empty() && wanted > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_confirm(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    question: &str,
    typed: Option<&TypedCount>,
) {
    let width = 64.min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let mut text = vec![Line::from(question.to_string()), Line::from("")];
    let mut cursor_row = None;
    match typed {
        None => text.push(Line::from(vec![
            Span::styled(" y ", theme.key),
            Span::raw(" yes    "),
            Span::styled(" n ", theme.key),
            Span::raw(" no"),
        ])),
        Some(typed) => {
            text.push(Line::from(format!(
                "This acts on {} rows: type {} and Enter to go ahead, Esc to leave.",
                typed.expected, typed.expected
            )));
            cursor_row = Some(text.len());
            text.push(Line::from(format!("> {}", typed.input.value())));
            if let Some(error) = &typed.error {
                text.push(Line::styled(error.clone(), theme.error));
            }
        }
    }
    // Height from the wrapped text, so a long question is never cut.
    let rows: usize = text.iter().map(|l| wrapped_rows(l, inner)).sum();
    let popup = centered(area, width, (rows as u16).saturating_add(2));
    frame.render_widget(Clear, popup);
    let above: usize = cursor_row.map_or(0, |at| {
        text[..at].iter().map(|l| wrapped_rows(l, inner)).sum()
    });
    let paragraph = Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .block(block(" Confirm ".into(), theme));
    frame.render_widget(paragraph, popup);
    if let (Some(_), Some(typed)) = (cursor_row, typed) {
        let x = popup.x + 1 + 2 + typed.input.visual_cursor() as u16;
        let y = popup.y + 1 + above as u16;
        if x < popup.right().saturating_sub(1) && y < popup.bottom().saturating_sub(1) {
            frame.set_cursor_position((x, y));
        }
    }
}

/// How many rows `line` takes when wrapped at `width` columns (at least one).
fn wrapped_rows(line: &Line<'_>, width: usize) -> usize {
    line.width().div_ceil(width).max(1)
}

/// A prompt and its line, the error that kept it open, and `choices` (a pick list) under them.
fn draw_input(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    (prompt, input, fresh): (&str, &tui_input::Input, bool),
    error: Option<&str>,
    choices: Vec<Line<'static>>,
) {
    let width = 72.min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let mut lines = vec![Line::from(prompt.to_string())];
    let prompt_rows = wrapped_rows(&lines[0], inner);
    // The line scrolls sideways to keep the cursor in sight: a long entry never hides its end.
    let field = inner.saturating_sub(2).max(1);
    let scroll = input.visual_scroll(field);
    let shown: String = skip_columns(input.value(), scroll, field);
    // A prefilled value that typing replaces is shown selected, as a field's would be.
    let style = if fresh {
        theme.selected
    } else {
        Style::default()
    };
    lines.push(Line::from(vec![
        Span::raw("> "),
        Span::styled(shown, style),
    ]));
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), theme.error));
    }
    lines.extend(choices);
    let rows: usize = lines.iter().map(|l| wrapped_rows(l, inner)).sum();
    let popup = centered(area, width, (rows as u16).saturating_add(2));
    frame.render_widget(Clear, popup);
    let title = if width >= 40 {
        " Enter to apply, Esc to cancel "
    } else {
        " Enter / Esc "
    };
    let paragraph = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block(title.into(), theme));
    frame.render_widget(paragraph, popup);
    let x = popup.x + 1 + 2 + (input.visual_cursor().saturating_sub(scroll)) as u16;
    let y = popup.y + 1 + prompt_rows as u16;
    if x < popup.right() && y < popup.bottom() {
        frame.set_cursor_position((x, y));
    }
}

/// The part of `text` from display column `skip`, at most `width` columns wide.
fn skip_columns(text: &str, skip: usize, width: usize) -> String {
    use ratatui::text::Span;
    let mut column = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = Span::raw(c.to_string()).width();
        if column >= skip && column + w <= skip + width {
            out.push(c);
        }
        column += w;
    }
    out
}
