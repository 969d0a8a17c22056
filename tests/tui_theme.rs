//! The desk reads on light and dark terminals: text is drawn in the terminal's own foreground
//! and background (no grey, no yellow, no fixed background) except where colour means
//! something, and then an error never looks like a completion.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::tui::app::{Action, App, View};
use orderdesk::tui::keymap::KeyAction;
use orderdesk::tui::theme::Theme;
use ratatui::style::Color;

const T0: &str = "2025-06-10T09:00:00Z";

fn world() -> World {
    let mut w = World::new();
    w.import(
        T0,
        &[
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#
                .to_string(),
            sp_line("SP-1", true, "null"),
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            request("SO-1", "enable_service", "SP-1", ""),
            request("SO-2", "disable_service", "SP-2", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let co = w.open_comm(&w.children("SO-2")[0].id);
    w.inbound(
        "2025-06-10T09:01:00Z",
        &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"meter did not answer"}}"#),
    );
    w
}

fn desk(w: &World) -> App {
    desk_at(w, "sam", Some(Role::Supervisor), "2025-06-10T09:05:00Z")
}

/// The desk drawn with colour: each cell's symbol, foreground and background.
fn cells(app: &mut App, width: u16, height: u16) -> Vec<(String, Color, Color)> {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
    let theme = Theme::new(false);
    terminal
        .draw(|frame| orderdesk::tui::views::draw(frame, app, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .iter()
        .map(|c| (c.symbol().to_string(), c.fg, c.bg))
        .collect()
}

/// The colours of the first cell of `needle` on screen.
fn colour_of(cells: &[(String, Color, Color)], width: u16, needle: &str) -> Option<Color> {
    let text: Vec<String> = cells
        .chunks(usize::from(width))
        .map(|row| row.iter().map(|c| c.0.as_str()).collect())
        .collect();
    for (y, line) in text.iter().enumerate() {
        if let Some(x) = line.find(needle) {
            let column = line[..x].chars().count();
            return Some(cells[y * usize::from(width) + column].1);
        }
    }
    None
}

#[test]
fn no_view_draws_text_that_fades_on_a_light_or_dark_background() {
    let w = world();
    let mut app = desk(&w);
    // Every tab but the hierarchy, which needs an activity opened (tested below).
    for view in View::TABS.into_iter().filter(|v| *v != View::Tree) {
        app.go(view);
        for (width, height) in [(120, 40), (60, 15)] {
            for (symbol, fg, bg) in cells(&mut app, width, height) {
                assert!(
                    !matches!(
                        fg,
                        Color::Gray
                            | Color::DarkGray
                            | Color::White
                            | Color::Yellow
                            | Color::LightYellow
                    ),
                    "{view:?} {width}×{height}: `{symbol}` is drawn in {fg:?}"
                );
                assert_eq!(bg, Color::Reset, "{view:?}: `{symbol}` has a background");
            }
        }
    }
}

#[test]
fn an_error_never_looks_like_a_completion() {
    let w = world();
    let mut app = desk(&w);
    app.go(View::Orchestrations);
    let width = 120;
    let drawn = cells(&mut app, width, 40);
    assert_eq!(colour_of(&drawn, width, "ACTIVITY_ERROR"), Some(Color::Red));
    assert_eq!(colour_of(&drawn, width, "IN_PROGRESS"), Some(Color::Blue));
    // The hierarchy colours its states too.
    app.open_tree("SO-2");
    app.update(Action::Key(KeyAction::ExpandAll));
    let drawn = cells(&mut app, width, 40);
    assert_eq!(colour_of(&drawn, width, "ACTIVITY_ERROR"), Some(Color::Red));
}

#[test]
fn the_hierarchy_detail_reads_as_words_not_json() {
    let w = world();
    let mut app = desk(&w);
    app.open_tree("SO-2");
    for (width, height) in [(120, 40), (60, 15)] {
        let text = common::screen(&mut app, width, height);
        assert!(
            !text.contains('{') && !text.contains("\":"),
            "{width}×{height}:\n{text}"
        );
    }
    let text = common::screen(&mut app, 120, 40);
    assert!(text.contains("reason: CHILD_ERROR"), "{text}");
    assert!(text.contains("external system: CCB"), "{text}");
    assert!(
        !text.contains("pass:"),
        "internal bookkeeping is left out:\n{text}"
    );
}
