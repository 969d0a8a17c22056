//! Colours and emphasis.
//!
//! Text is drawn in the terminal's own foreground unless colour means something, so the desk
//! reads on light and dark themes alike: no grey text, no fixed background. Colour carries the
//! state of work: in error (red, bold), waiting (magenta), in the field or in flight (blue),
//! done (green); ended without doing (discarded, cancelled) stays plain. The colours are the
//! terminal's own ANSI palette, which every light and dark theme adjusts to its background
//! (yellow and the greys do not read on white, so none is used).
//!
//! A `theme.toml` in the config dir overrides any of it, as k9s skins and yazi themes do:
//!
//! ```toml
//! [styles]
//! header = { fg = "cyan", modifiers = ["bold"] }
//! [states]
//! waiting = { fg = "#b58900" }
//! ```
//!
//! `NO_COLOR` still wins: colours (the file's too) are dropped and emphasis (bold, reverse)
//! alone marks errors and selection.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use toml::Spanned;

/// What a state means to the person reading it, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateClass {
    /// Needs a person: any `…_ERROR` state.
    Error,
    /// Waiting for a date, a pass, a retry or an answer.
    Waiting,
    /// Out in the field or in flight to a partner.
    InField,
    /// Done.
    Done,
    /// Ended without being done: discarded, cancelled.
    Ended,
    /// Passing through (validation, readiness checks).
    Other,
}

impl StateClass {
    /// The class of a state code of any lifecycle (orchestrations, field activities, commands,
    /// communications, partners).
    pub fn of(state: &str) -> StateClass {
        match state {
            s if s.ends_with("_ERROR") || s == "ERROR" || s == "failing" => StateClass::Error,
            "PENDING" | "WAIT_EFF_DATE" | "WAIT_EFF" | "RETRY" | "AWAITING_RESPONSE" | "paused" => {
                StateClass::Waiting
            }
            "IN_PROGRESS" | "COMM_IN_PROGRESS" | "EXECUTED" | "CONNECTION_READY"
            | "EVALUATE_RESPONSE" | "EXEC_COMPLETION" => StateClass::InField,
            "COMPLETED" | "connected" => StateClass::Done,
            "DISCARDED" | "CANCELLED" | "not connected" => StateClass::Ended,
            _ => StateClass::Other,
        }
    }

    /// The name a theme file gives the class.
    fn name(self) -> &'static str {
        match self {
            StateClass::Error => "error",
            StateClass::Waiting => "waiting",
            StateClass::InField => "field",
            StateClass::Done => "done",
            StateClass::Ended => "ended",
            StateClass::Other => "other",
        }
    }

    const ALL: [StateClass; 6] = [
        StateClass::Error,
        StateClass::Waiting,
        StateClass::InField,
        StateClass::Done,
        StateClass::Ended,
        StateClass::Other,
    ];
}

/// The styles the views use.
#[derive(Debug, Clone)]
pub struct Theme {
    /// The selected row or tab.
    pub selected: Style,
    /// Table headers and the clock.
    pub header: Style,
    /// Borders.
    pub border: Style,
    /// Secondary text.
    pub dim: Style,
    /// Key names in the command bar.
    pub key: Style,
    /// A success message.
    pub ok: Style,
    /// An error or refusal.
    pub error: Style,
    /// Work in progress, or held back.
    pub warn: Style,
    /// The style of each class of state.
    states: BTreeMap<&'static str, Style>,
}

impl Theme {
    /// The built-in theme: colour unless `no_color`.
    pub fn new(no_color: bool) -> Theme {
        let colour = !no_color;
        let c = |style: Style, color: Color| if colour { style.fg(color) } else { style };
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let states = StateClass::ALL
            .into_iter()
            .map(|class| {
                let style = match class {
                    StateClass::Error => c(bold, Color::Red),
                    StateClass::Waiting => c(Style::default(), Color::Magenta),
                    StateClass::InField => c(Style::default(), Color::Blue),
                    StateClass::Done => c(Style::default(), Color::Green),
                    StateClass::Ended | StateClass::Other => Style::default(),
                };
                (class.name(), style)
            })
            .collect();
        Theme {
            selected: Style::default().add_modifier(Modifier::REVERSED),
            header: bold,
            border: Style::default(),
            dim: Style::default(),
            key: Style::default().add_modifier(Modifier::REVERSED),
            ok: c(Style::default(), Color::Green),
            error: c(bold, Color::Red),
            warn: c(Style::default(), Color::Magenta),
            states,
        }
    }

    /// The theme from the environment (`NO_COLOR` set and non-empty: no colour).
    pub fn from_env() -> Theme {
        Theme::new(no_color())
    }

    /// The built-in theme with the overrides of the theme file at `path` (`None`: no file);
    /// under `NO_COLOR` the file's colours are dropped and its emphasis kept.
    pub fn load(path: Option<&Path>) -> Result<Theme, String> {
        let no_color = no_color();
        let theme = Theme::new(no_color);
        let Some(path) = path else {
            return Ok(theme);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the theme: {e}", path.display()))?;
        theme.with_file(&text, &path.display().to_string(), no_color)
    }

    /// This theme with the overrides of a theme file's `text`; errors name `source`, the line
    /// and the key.
    pub fn with_file(mut self, text: &str, source: &str, no_color: bool) -> Result<Theme, String> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawTheme = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(s.start));
            format!("{source}: line {line}: {}", e.message())
        })?;
        for (key, raw_style) in &raw.styles {
            let style = raw_style.style(no_color).map_err(|(span, why)| {
                format!(
                    "{source}: line {}: styles.{}: {why}",
                    line_of(span),
                    key.get_ref()
                )
            })?;
            let slot = match key.get_ref().as_str() {
                "selected" => &mut self.selected,
                "header" => &mut self.header,
                "border" => &mut self.border,
                "dim" => &mut self.dim,
                "key" => &mut self.key,
                "ok" => &mut self.ok,
                "error" => &mut self.error,
                "warn" => &mut self.warn,
                other => {
                    return Err(format!(
                        "{source}: line {}: styles.{other}: unknown style (selected, header, \
                         border, dim, key, ok, error, warn)",
                        line_of(key.span().start)
                    ))
                }
            };
            *slot = style;
        }
        for (key, raw_style) in &raw.states {
            let style = raw_style.style(no_color).map_err(|(span, why)| {
                format!(
                    "{source}: line {}: states.{}: {why}",
                    line_of(span),
                    key.get_ref()
                )
            })?;
            let Some(class) = StateClass::ALL
                .into_iter()
                .find(|c| c.name() == key.get_ref())
            else {
                return Err(format!(
                    "{source}: line {}: states.{}: unknown class of state (error, waiting, \
                     field, done, ended, other)",
                    line_of(key.span().start),
                    key.get_ref()
                ));
            };
            self.states.insert(class.name(), style);
        }
        Ok(self)
    }

    /// The style of a list cell with `tone` holding `text`.
    pub fn tone(&self, tone: crate::listing::Tone, text: &str) -> Style {
        use crate::listing::Tone;
        match tone {
            Tone::Plain => Style::default(),
            Tone::State => self.state(text),
            Tone::Outcome if text == "done" => self.ok,
            Tone::Outcome => self.error,
            Tone::Partner => self.partner_state(text),
        }
    }

    /// The style of a state code: its class's colour.
    pub fn state(&self, state: &str) -> Style {
        self.states
            .get(StateClass::of(state).name())
            .copied()
            .unwrap_or_default()
    }

    /// The style of a partner connection's state: failing as an error, paused as work held
    /// back, connected as done.
    pub fn partner_state(&self, state: &str) -> Style {
        self.state(state)
    }
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// A theme file: `[styles]` and `[states]`, each a table of styles.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    #[serde(default)]
    styles: BTreeMap<Spanned<String>, RawStyle>,
    #[serde(default)]
    states: BTreeMap<Spanned<String>, RawStyle>,
}

/// One style as written: colours by name (`red`, `lightblue`), index (`42`) or `#rrggbb`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStyle {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

impl RawStyle {
    /// The style, or where and why it is wrong (the byte offset of the bad value).
    fn style(&self, no_color: bool) -> Result<Style, (usize, String)> {
        let colour = |value: &Spanned<String>| {
            Color::from_str(value.get_ref()).map_err(|_| {
                (
                    value.span().start,
                    format!(
                        "`{}` is not a colour (a name such as red or lightblue, an index 0-255, \
                         or #rrggbb)",
                        value.get_ref()
                    ),
                )
            })
        };
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            let fg = colour(fg)?;
            if !no_color {
                style = style.fg(fg);
            }
        }
        if let Some(bg) = &self.bg {
            let bg = colour(bg)?;
            if !no_color {
                style = style.bg(bg);
            }
        }
        for m in &self.modifiers {
            let modifier = match m.get_ref().to_ascii_lowercase().as_str() {
                "bold" => Modifier::BOLD,
                "dim" => Modifier::DIM,
                "italic" => Modifier::ITALIC,
                "underlined" => Modifier::UNDERLINED,
                "reversed" => Modifier::REVERSED,
                "crossed_out" => Modifier::CROSSED_OUT,
                other => {
                    return Err((
                        m.span().start,
                        format!(
                            "`{other}` is not a modifier (bold, dim, italic, underlined, \
                             reversed, crossed_out)"
                        ),
                    ))
                }
            };
            style = style.add_modifier(modifier);
        }
        Ok(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_coloured_by_what_they_mean() {
        let theme = Theme::new(false);
        assert_eq!(theme.state("ACTIVITY_ERROR").fg, Some(Color::Red));
        assert_eq!(theme.state("COMM_ERROR").fg, Some(Color::Red));
        assert_eq!(theme.state("WAIT_EFF_DATE").fg, Some(Color::Magenta));
        assert_eq!(theme.state("IN_PROGRESS").fg, Some(Color::Blue));
        assert_eq!(theme.state("COMPLETED").fg, Some(Color::Green));
        assert_ne!(
            theme.state("ACTIVITY_ERROR"),
            theme.state("COMPLETED"),
            "an error never looks like a completion"
        );
        assert_eq!(theme.state("DISCARDED"), Style::default());
    }

    #[test]
    fn plain_text_uses_the_terminals_own_foreground() {
        let theme = Theme::new(false);
        for style in [theme.header, theme.border, theme.dim, theme.key] {
            assert_eq!(style.fg, None, "{style:?}");
            assert_eq!(style.bg, None, "{style:?}");
        }
    }

    #[test]
    fn partner_states_are_coloured_as_the_other_states() {
        let theme = Theme::new(false);
        assert_eq!(theme.partner_state("failing").fg, Some(Color::Red));
        assert_eq!(theme.partner_state("paused").fg, Some(Color::Magenta));
        assert_eq!(theme.partner_state("connected").fg, Some(Color::Green));
        assert_eq!(theme.partner_state("idle"), Style::default());
        let plain = Theme::new(true);
        assert_eq!(plain.partner_state("failing").fg, None);
        assert!(plain
            .partner_state("failing")
            .add_modifier
            .contains(Modifier::BOLD));
        assert_eq!(plain.partner_state("connected"), Style::default());
    }

    #[test]
    fn a_theme_file_overrides_styles_and_states() {
        let text = "[styles]\nheader = { fg = \"cyan\", modifiers = [\"bold\"] }\n\n[states]\nwaiting = { fg = \"#b58900\" }\n";
        let theme = Theme::new(false)
            .with_file(text, "theme.toml", false)
            .expect("a good file");
        assert_eq!(theme.header.fg, Some(Color::Cyan));
        assert_eq!(
            theme.state("PENDING").fg,
            Some(Color::Rgb(0xb5, 0x89, 0x00))
        );
        assert_eq!(
            theme.state("COMPLETED").fg,
            Some(Color::Green),
            "the rest stays"
        );
    }

    #[test]
    fn no_color_drops_the_files_colours_and_keeps_its_emphasis() {
        let text = "[states]\ndone = { fg = \"green\", modifiers = [\"italic\"] }\n";
        let theme = Theme::new(true)
            .with_file(text, "theme.toml", true)
            .expect("a good file");
        assert_eq!(theme.state("COMPLETED").fg, None);
        assert!(theme
            .state("COMPLETED")
            .add_modifier
            .contains(Modifier::ITALIC));
    }

    #[test]
    fn a_bad_theme_file_names_the_line_and_the_key() {
        let error = |text: &str| {
            Theme::new(false)
                .with_file(text, "theme.toml", false)
                .expect_err("a bad file")
        };
        let e = error("[styles]\n\nheader = { fg = \"purplish\" }\n");
        assert!(
            e.starts_with("theme.toml: line 3: styles.header: `purplish` is not a colour"),
            "{e}"
        );
        let e = error("[states]\nbusy = { fg = \"red\" }\n");
        assert!(
            e.starts_with("theme.toml: line 2: states.busy: unknown class"),
            "{e}"
        );
        let e = error("[styles]\nheader = { fg = \"red\", modifiers = [\"blink\"] }\n");
        assert!(
            e.starts_with("theme.toml: line 2: styles.header: `blink`"),
            "{e}"
        );
        let e = error("[colours]\n");
        assert!(e.starts_with("theme.toml: line 1:"), "{e}");
        let e = error("[styles]\nheader = { fg = \"red\"\n");
        assert!(e.starts_with("theme.toml: line 2:"), "{e}");
    }
}
