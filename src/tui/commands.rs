//! What the operator can do here, and whether they may now: one list per view, read by both
//! the hint bar (what is offered) and help (everything, with why a key does nothing).
//!
//! Whether an action is available has two parts: the operator's role may do it (else help
//! names the role that may), and the view has something for it to act on now (else help says
//! what is missing). The hint bar offers only what passes both, so no key it shows is dead.

use super::app::App;
use super::keymap::{Context, KeyAction};

/// Whether an action can be used here now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// It acts.
    Yes,
    /// Not for this operator's role: only for the roles named.
    OnlyFor(String),
    /// Nothing to act on here (an empty list).
    Empty,
    /// Not on what is selected now, and why ("only for a request in VALIDATION_ERROR").
    NotNow(&'static str),
}

/// What a view says when its list has nothing for an action to act on.
pub const NOTHING_HERE: &str = "nothing to act on here";

/// One thing the operator can do in a view.
#[derive(Debug, Clone)]
pub struct Command {
    /// Its keys ("j, Down").
    pub keys: String,
    /// The action.
    pub action: KeyAction,
    /// What it does.
    pub desc: String,
    /// Bound for every view rather than this one.
    pub global: bool,
    /// Whether it can be used now.
    pub offer: Offer,
}

/// Whether `action` can be used here now.
pub fn offer(app: &App, action: KeyAction) -> Offer {
    if let Some(capability) = action.capability().filter(|_| !app.may(action)) {
        return Offer::OnlyFor(crate::domain::roles_that_may(capability));
    }
    match app.unavailable(action) {
        Some(NOTHING_HERE) => Offer::Empty,
        Some(why) => Offer::NotNow(why),
        None => Offer::Yes,
    }
}

/// The commands of `context`: its own, then the global ones that reach it.
pub fn of(app: &App, context: Context) -> Vec<Command> {
    app.keymap
        .help(context)
        .into_iter()
        .map(|row| Command {
            offer: offer(app, row.action),
            keys: row.keys,
            action: row.action,
            desc: row.desc,
            global: row.context == Context::Global,
        })
        .collect()
}

/// At most `max` (key, label) pairs for the hint bar: what can be used now, the context's
/// own first, help kept when the bar is cut.
pub fn bar(app: &App, max: usize) -> Vec<(String, String)> {
    app.keymap.command_bar_for(app.context(), max, |action| {
        offer(app, action) == Offer::Yes
    })
}
