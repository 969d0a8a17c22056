//! Colours and emphasis; `NO_COLOR` keeps emphasis (bold, reverse) and drops colour.

use ratatui::style::{Color, Modifier, Style};

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
    /// Work in progress.
    pub warn: Style,
    colour: bool,
}

impl Theme {
    /// The theme for this terminal: colour unless `no_color`.
    pub fn new(no_color: bool) -> Theme {
        let colour = !no_color;
        let c = |style: Style, color: Color| if colour { style.fg(color) } else { style };
        Theme {
            selected: Style::default().add_modifier(Modifier::REVERSED),
            header: c(Style::default().add_modifier(Modifier::BOLD), Color::Cyan),
            border: c(Style::default(), Color::DarkGray),
            dim: c(Style::default(), Color::Gray),
            key: Style::default().add_modifier(Modifier::REVERSED),
            ok: c(Style::default(), Color::Green),
            error: c(Style::default().add_modifier(Modifier::BOLD), Color::Red),
            warn: c(Style::default(), Color::Yellow),
            colour,
        }
    }

    /// The theme from the environment (`NO_COLOR` set and non-empty: no colour).
    pub fn from_env() -> Theme {
        Theme::new(std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()))
    }

    /// The style of a state code: errors red, final states dim, waiting yellow.
    pub fn state(&self, state: &str) -> Style {
        if !self.colour {
            return if state.ends_with("_ERROR") {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
        }
        match state {
            s if s.ends_with("_ERROR") => {
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            "COMPLETED" => Style::default().fg(Color::Green),
            "DISCARDED" | "CANCELLED" => Style::default().fg(Color::DarkGray),
            "WAIT_EFF_DATE" | "WAIT_EFF" | "PENDING" => Style::default().fg(Color::Yellow),
            _ => Style::default(),
        }
    }

    /// The style of a partner connection's state: failing as an error, paused as work held
    /// back, connected as a success; without colour only failing stands out (bold).
    pub fn partner_state(&self, state: &str) -> Style {
        match state {
            "failing" => self.error,
            "paused" => self.warn,
            "connected" => self.ok,
            "not connected" => self.dim,
            _ => Style::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_states_are_coloured_as_the_other_states() {
        let theme = Theme::new(false);
        assert_eq!(theme.partner_state("failing").fg, Some(Color::Red));
        assert_eq!(theme.partner_state("paused").fg, Some(Color::Yellow));
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
}
