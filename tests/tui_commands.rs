//! Each view says what can be done there now: the hint bar offers only keys that act on what
//! is selected, and help lists the rest, dimmed, with why.

mod common;

use common::*;
use orderdesk::domain::Role;
use orderdesk::tui::app::View;
use orderdesk::tui::commands::{self, Offer};
use orderdesk::tui::keymap::{Context, KeyAction};

const T0: &str = "2025-06-10T09:00:00Z";

/// A Disable Service waiting on its command and a Cut for Non-Payment without collection data
/// (VALIDATION_ERROR).
fn world() -> World {
    let mut w = World::new();
    let lines = [
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        sp_line("SP-2", true, &smart("D-2", true, "on")),
        request("SO-1", "disable_service", "SP-1", ""),
        request("SO-2", "cut_for_non_payment", "SP-2", ""),
    ];
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    w
}

fn offer(app: &orderdesk::tui::app::App, action: KeyAction) -> Offer {
    commands::offer(app, action)
}

fn bar(app: &orderdesk::tui::app::App) -> Vec<String> {
    commands::bar(app, 20).into_iter().map(|(_, l)| l).collect()
}

#[test]
fn a_correction_is_offered_only_on_a_request_in_validation_error() {
    let w = world();
    let mut app = desk_at(&w, "sam", Some(Role::Supervisor), T0);
    app.go(View::Orchestrations);
    let at = |app: &orderdesk::tui::app::App, id: &str| {
        (0..app.orchestrations.list.total)
            .find(|&i| app.orchestrations.list.at(i).is_some_and(|r| r.id == id))
            .expect("listed")
    };
    app.orchestrations.list.cursor.selected = at(&app, "SO-2");
    assert_eq!(offer(&app, KeyAction::Edit), Offer::Yes);
    assert!(bar(&app).contains(&KeyAction::Edit.label().to_string()));
    app.orchestrations.list.cursor.selected = at(&app, "SO-1");
    assert_eq!(
        offer(&app, KeyAction::Edit),
        Offer::NotNow("only for a request in VALIDATION_ERROR")
    );
    assert!(!bar(&app).contains(&KeyAction::Edit.label().to_string()));
    // Help still lists it, saying why it does nothing now.
    app.update(orderdesk::tui::app::Action::Key(KeyAction::Help));
    let mut pages = Vec::new();
    for _ in 0..6 {
        pages.push(screen(&mut app, 120, 40));
        app.update(orderdesk::tui::app::Action::Key(KeyAction::PageDown));
    }
    let help = pages.join("\n");
    assert!(help.contains("(now: only for a request in"), "{help}");
}

#[test]
fn the_error_inbox_offers_only_what_acts_on_groups() {
    let w = world();
    let mut app = desk_at(&w, "sam", Some(Role::Supervisor), T0);
    app.go(View::Errors);
    for action in [
        KeyAction::ExecuteNow,
        KeyAction::CancelOrchestration,
        KeyAction::Update,
    ] {
        assert!(
            matches!(offer(&app, action), Offer::NotNow(_)),
            "{action:?}"
        );
    }
    assert_eq!(offer(&app, KeyAction::Retry), Offer::Yes);
    let labels = bar(&app);
    assert!(
        labels.contains(&KeyAction::Retry.label().to_string()),
        "{labels:?}"
    );
    assert!(
        !labels.contains(&KeyAction::ExecuteNow.label().to_string()),
        "{labels:?}"
    );
}

#[test]
fn an_empty_queue_offers_no_order_action_and_a_role_sees_what_only_others_may() {
    let w = world();
    let app = desk_at(&w, "sue", Some(Role::Support), T0);
    // No work order: nothing to complete, whoever asks.
    assert_eq!(
        offer(&app, KeyAction::Complete),
        Offer::OnlyFor("a clerk or a supervisor".into())
    );
    let clerk = desk_at(&w, "bo", Some(Role::Clerk), T0);
    assert_eq!(offer(&clerk, KeyAction::Complete), Offer::Empty);
    assert!(!bar(&clerk).contains(&KeyAction::Complete.label().to_string()));
    // Help and the bar read the same list.
    let listed: Vec<KeyAction> = commands::of(&clerk, Context::Queue)
        .into_iter()
        .map(|c| c.action)
        .collect();
    assert!(listed.contains(&KeyAction::Complete));
}
