//! The assign pick list: the partner, the crews of `[crews]` and the technicians already
//! assigned to open orders, under the assign prompt. What is typed filters the list; Up and
//! Down choose; Enter takes the chosen one, or the typed text when it is a whole assignee
//! (`internal:NAME:EMAIL`, `external:NAME:EMAIL`, `partner`), so a new crew can still be typed.

use super::app::App;
use super::theme::Theme;
use crate::config::CrewKind;
use crate::workorders::Assignee;
use ratatui::text::Line;

/// One assignee the list offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the operator reads: "North Crew (internal) north@utility.example".
    pub label: String,
    /// Who it is.
    pub assignee: Assignee,
}

/// The list while the assign prompt is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pick {
    /// Every choice, the partner first, then the configured crews, then the others.
    pub choices: Vec<Choice>,
    /// The chosen row among those the typed text matches.
    pub selected: usize,
}

impl Pick {
    /// The choices whose label contains every word of `typed` (any case).
    pub fn matching(&self, typed: &str) -> Vec<&Choice> {
        let words: Vec<String> = typed.split_whitespace().map(str::to_lowercase).collect();
        self.choices
            .iter()
            .filter(|c| {
                let label = c.label.to_lowercase();
                words.iter().all(|w| label.contains(w.as_str()))
            })
            .collect()
    }

    /// Moves the choice by `delta` among the rows `typed` matches.
    pub fn step(&mut self, delta: isize, typed: &str) {
        let len = self.matching(typed).len();
        if len == 0 {
            self.selected = 0;
            return;
        }
        let at = self.selected.min(len - 1) as isize + delta;
        self.selected = at.clamp(0, len as isize - 1) as usize;
    }

    /// Who Enter assigns to: a whole assignee typed wins (free entry), else the chosen row.
    pub fn answer(&self, typed: &str) -> Result<Assignee, String> {
        let typed = typed.trim();
        if let Ok(assignee) = Assignee::parse(typed) {
            return Ok(assignee);
        }
        let matching = self.matching(typed);
        match matching.get(self.selected.min(matching.len().saturating_sub(1))) {
            Some(choice) => Ok(choice.assignee.clone()),
            None => Err(format!(
                "no crew matches `{typed}`: pick one with Up/Down, or type internal:NAME:EMAIL, external:NAME:EMAIL or partner"
            )),
        }
    }
}

/// The pick list for assigning, `current` chosen first when it is listed.
pub fn pick(app: &App, current: &Assignee) -> Pick {
    let mut choices = vec![choice(Assignee::Partner)];
    for crew in &app.config().crews {
        let (name, email) = (crew.name.clone(), crew.email.clone());
        choices.push(choice(match crew.kind {
            CrewKind::Internal => Assignee::Internal { name, email },
            CrewKind::External => Assignee::External { name, email },
        }));
    }
    // The technicians already at work on open orders: read only when the list opens.
    let mut used: Vec<Assignee> = app
        .api
        .queue_window(false, "", 0, 0, None)
        .map(|(orders, _)| orders.into_iter().map(|w| w.assignee).collect())
        .unwrap_or_default();
    used.sort_by_key(|a| a.entry());
    for assignee in used {
        if assignee != Assignee::Unassigned && !choices.iter().any(|c| c.assignee == assignee) {
            choices.push(choice(assignee));
        }
    }
    if *current != Assignee::Unassigned && !choices.iter().any(|c| &c.assignee == current) {
        choices.push(choice(current.clone()));
    }
    let selected = choices
        .iter()
        .position(|c| &c.assignee == current)
        .unwrap_or(0);
    Pick { choices, selected }
}

fn choice(assignee: Assignee) -> Choice {
    let label = match &assignee {
        Assignee::Internal { email, .. } | Assignee::External { email, .. } => {
            format!("{} {email}", assignee.label())
        }
        other => other.label(),
    };
    Choice { label, assignee }
}

/// The rows drawn under the prompt: at most `rows` matching choices around the chosen one.
pub fn lines(pick: &Pick, typed: &str, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let matching = pick.matching(typed);
    if matching.is_empty() {
        return vec![Line::from("  (no crew matches: Enter takes what is typed)")];
    }
    let selected = pick.selected.min(matching.len() - 1);
    let rows = rows.max(1);
    let start = (selected + 1).saturating_sub(rows);
    matching
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, c)| {
            if i == selected {
                Line::styled(format!("▸ {}", c.label), theme.selected)
            } else {
                Line::from(format!("  {}", c.label))
            }
        })
        .collect()
}
