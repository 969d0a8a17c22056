//! Key bindings: the default `keymap.toml`, a user's file layered on it, chord matching, and the
//! help rows and command bar generated from the live bindings so they never drift.
//!
//! The file has one array of tables per context, rows of `{ on, run, desc }` (yazi's
//! `keymap-default.toml` style); every mistake is a [`KeymapError`] naming the file and line.

use crate::domain::Capability;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;
use toml::Spanned;

/// The default bindings, the repository's `keymap.toml`.
const DEFAULT_KEYMAP: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/keymap.toml"));

/// The name the default file goes by in error messages.
const DEFAULT_SOURCE: &str = "keymap.toml";

/// The `run` value that unbinds a row's keys.
const NOOP: &str = "noop";

// ---------------------------------------------------------------------------------------------
// Contexts

/// Where a binding applies: a view, a dialog, or everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere a more specific context does not bind the key (except `Confirm`).
    Global,
    /// The work-order queue.
    Queue,
    /// One work order's detail.
    WorkOrder,
    /// The orchestration list.
    Orchestrations,
    /// One activity's hierarchy.
    Tree,
    /// A customer's activity feed.
    Feed,
    /// The throttle view.
    Throttle,
    /// The partner systems the engine delivers to.
    Partners,
    /// The audit log.
    Audit,
    /// A yes/no dialog; modal, so global keys do not reach it.
    Confirm,
    /// The help overlay.
    Help,
}

impl Context {
    /// Every context, in file-documentation order.
    pub const ALL: [Context; 11] = [
        Context::Global,
        Context::Queue,
        Context::WorkOrder,
        Context::Orchestrations,
        Context::Tree,
        Context::Feed,
        Context::Throttle,
        Context::Partners,
        Context::Audit,
        Context::Confirm,
        Context::Help,
    ];

    /// The table name in `keymap.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Queue => "queue",
            Context::WorkOrder => "work_order",
            Context::Orchestrations => "orchestrations",
            Context::Tree => "tree",
            Context::Feed => "feed",
            Context::Throttle => "throttle",
            Context::Partners => "partners",
            Context::Audit => "audit",
            Context::Confirm => "confirm",
            Context::Help => "help",
        }
    }

    /// The context a table name names, if any.
    pub fn parse(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether unshadowed `global` bindings also apply here.
    fn inherits_global(self) -> bool {
        !matches!(self, Context::Global | Context::Confirm)
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

/// Which contexts a family of actions is valid in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Scrolling and leaving: every list, global and help.
    Motion,
    /// Every list and global.
    Navigation,
    /// Global only.
    Global,
    /// Marking rows: queue and orchestrations.
    Marks,
    /// Work-order actions: queue.
    Queue,
    /// Orchestration actions: orchestrations and tree.
    Activity,
    /// Orchestration list filters: orchestrations.
    Orchestrations,
    /// Tree folding and field activities: tree.
    Tree,
    /// Feed choices: feed.
    Feed,
    /// Date range and reset of a view's filters: feed and audit.
    Filters,
    /// Audit filters and opening an entry's activity: audit.
    Audit,
    /// The throttle batch: throttle.
    Throttle,
    /// Pausing and resuming a partner: partners.
    Partners,
    /// Answers: confirm.
    Confirm,
}

impl Family {
    /// The contexts this family's actions may be bound in.
    fn contexts(self) -> &'static [Context] {
        use Context as C;
        match self {
            Family::Motion => &[
                C::Global,
                C::Queue,
                C::WorkOrder,
                C::Orchestrations,
                C::Tree,
                C::Feed,
                C::Throttle,
                C::Partners,
                C::Audit,
                C::Help,
            ],
            Family::Navigation => &[
                C::Global,
                C::Queue,
                C::WorkOrder,
                C::Orchestrations,
                C::Tree,
                C::Feed,
                C::Throttle,
                C::Partners,
                C::Audit,
            ],
            Family::Global => &[C::Global],
            Family::Marks => &[C::Queue, C::Orchestrations, C::Feed],
            Family::Queue => &[C::Queue, C::WorkOrder],
            Family::Activity => &[C::Orchestrations, C::Tree],
            Family::Orchestrations => &[C::Orchestrations],
            Family::Tree => &[C::Tree],
            Family::Feed => &[C::Feed],
            Family::Filters => &[C::Feed, C::Audit],
            Family::Audit => &[C::Audit],
            Family::Throttle => &[C::Throttle],
            Family::Partners => &[C::Partners],
            Family::Confirm => &[C::Confirm],
        }
    }
}

/// Declares [`KeyAction`] from one table: variant, `run` name, short label, family, whether the
/// command bar shows it.
macro_rules! key_actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $label:literal, $family:ident, $bar:literal;)*) => {
        /// What a key does: the `run` value of a row.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum KeyAction {
            $($(#[$doc])* $variant,)*
        }

        impl KeyAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [KeyAction] = &[$(KeyAction::$variant,)*];

            /// The `run` name in `keymap.toml`.
            pub fn name(self) -> &'static str {
                match self {
                    $(KeyAction::$variant => $name,)*
                }
            }

            /// A one- or two-word label for the command bar.
            pub fn label(self) -> &'static str {
                match self {
                    $(KeyAction::$variant => $label,)*
                }
            }

            /// The family that decides where the action may be bound.
            fn family(self) -> Family {
                match self {
                    $(KeyAction::$variant => Family::$family,)*
                }
            }

            /// Whether the command bar shows the action.
            fn in_command_bar(self) -> bool {
                match self {
                    $(KeyAction::$variant => $bar,)*
                }
            }
        }
    };
}

key_actions! {
    /// Move the selection up.
    Up => "up", "up", Motion, false;
    /// Move the selection down.
    Down => "down", "down", Motion, false;
    /// Move up a page.
    PageUp => "page_up", "page up", Motion, false;
    /// Move down a page.
    PageDown => "page_down", "page down", Motion, false;
    /// Go to the first row.
    Top => "top", "top", Motion, false;
    /// Go to the last row.
    Bottom => "bottom", "bottom", Motion, false;
    /// Go back, or close the overlay.
    Back => "back", "back", Motion, true;
    /// Move left (previous column or pane).
    Left => "left", "left", Navigation, false;
    /// Move right (next column or pane).
    Right => "right", "right", Navigation, false;
    /// Open the selected row.
    Open => "open", "open", Navigation, true;
    /// Filter the list.
    Filter => "filter", "filter", Navigation, true;
    /// Reload the view.
    Refresh => "refresh", "refresh", Navigation, false;
    /// Quit the desk.
    Quit => "quit", "quit", Global, true;
    /// Show the key bindings.
    Help => "help", "help", Global, true;
    /// Open the `:` command line.
    CommandLine => "command_line", "command", Global, true;
    /// Switch to the next view.
    NextView => "next_view", "next view", Global, false;
    /// Switch to the previous view.
    PrevView => "prev_view", "prev view", Global, false;
    /// Go to the work-order queue.
    GoQueue => "go_queue", "queue", Global, false;
    /// Go to the orchestrations.
    GoOrchestrations => "go_orchestrations", "orchestrations", Global, false;
    /// Go to the error inbox.
    GoErrors => "go_errors", "errors", Global, false;
    /// Go to the overview.
    GoOverview => "go_overview", "overview", Global, false;
    /// Go to the customer activity feed.
    GoFeed => "go_feed", "feed", Global, false;
    /// Go to the throttle view.
    GoThrottle => "go_throttle", "throttle", Global, false;
    /// Go to the partner systems.
    GoPartners => "go_partners", "partners", Global, false;
    /// Go to the audit log.
    GoAudit => "go_audit", "audit", Global, false;
    /// Copy the selected id.
    Copy => "copy", "copy", Global, false;
    /// Export the list.
    Export => "export", "export", Global, false;
    /// Mark or unmark the selected row.
    ToggleMark => "toggle_mark", "mark", Marks, true;
    /// Mark every row shown.
    MarkAll => "mark_all", "mark all", Marks, false;
    /// Clear every mark.
    ClearMarks => "clear_marks", "unmark all", Marks, false;
    /// Complete the work order(s).
    Complete => "complete", "complete", Queue, true;
    /// Cancel the work order(s).
    Cancel => "cancel", "cancel", Queue, true;
    /// Assign the work order(s).
    Assign => "assign", "assign", Queue, true;
    /// Set a work order's status to SENT.
    SetSent => "set_sent", "sent", Queue, true;
    /// Set a work order's status to SETUP.
    SetSetup => "set_setup", "setup", Queue, true;
    /// Show only my work orders, or all.
    ToggleMine => "toggle_mine", "mine", Queue, true;
    /// Retry the failed activity.
    Retry => "retry", "retry", Activity, true;
    /// Discard the orchestration.
    Discard => "discard", "discard", Activity, true;
    /// Execute the waiting activity now.
    ExecuteNow => "execute_now", "run now", Activity, true;
    /// File a Cancel Orchestration.
    CancelOrchestration => "cancel_orchestration", "cancel", Activity, true;
    /// File an Update Orchestration.
    Update => "update", "update", Activity, true;
    /// Correct a request in VALIDATION_ERROR, field by field, then offer the retry.
    Edit => "edit", "edit", Activity, true;
    /// Filter the orchestrations by state.
    FilterState => "filter_state", "state", Orchestrations, true;
    /// Filter the orchestrations by activity type.
    FilterType => "filter_type", "type", Orchestrations, true;
    /// Show only the error inbox, or all.
    ToggleErrorInbox => "toggle_error_inbox", "errors", Orchestrations, true;
    /// Show only stuck orchestrations, or all.
    ToggleStuck => "toggle_stuck", "stuck", Orchestrations, true;
    /// Retry every activity the list shows (dry-run count, confirmation, in the background).
    RetryAll => "retry_all", "retry all", Orchestrations, true;
    /// Discard every activity the list shows (dry-run count, confirmation, in the background).
    DiscardAll => "discard_all", "discard all", Orchestrations, true;
    /// Expand the node.
    Expand => "expand", "expand", Tree, false;
    /// Collapse the node.
    Collapse => "collapse", "collapse", Tree, false;
    /// Expand or collapse the node.
    ToggleNode => "toggle_node", "fold", Tree, false;
    /// Expand every node.
    ExpandAll => "expand_all", "expand all", Tree, false;
    /// Collapse every node.
    CollapseAll => "collapse_all", "collapse all", Tree, false;
    /// Complete the field activity by hand.
    CompleteFa => "complete_fa", "complete FA", Tree, true;
    /// Cancel the field activity by hand.
    CancelFa => "cancel_fa", "cancel FA", Tree, true;
    /// Pick the customer whose feed is shown.
    PickCustomer => "pick_customer", "customer", Feed, true;
    /// Switch the billing account.
    SwitchAccount => "switch_account", "account", Feed, true;
    /// Filter the feed by category.
    FilterCategories => "filter_categories", "categories", Feed, true;
    /// Set the view's date range (the feed, the audit).
    DateRange => "date_range", "dates", Filters, true;
    /// Reset the view's filters (the feed, the audit).
    ResetFilters => "reset_filters", "reset", Filters, true;
    /// Show only one operator's actions in the audit.
    FilterOperator => "filter_operator", "operator", Audit, true;
    /// Show only one action in the audit.
    FilterAction => "filter_action", "action", Audit, true;
    /// Open the activity the audit entry names.
    OpenActivity => "open_activity", "activity", Audit, false;
    /// Run the throttled command batch now.
    RunBatch => "run_batch", "run batch", Throttle, true;
    /// Pause deliveries to the selected partner (supervisors; asks first).
    PausePartner => "pause_partner", "pause", Partners, true;
    /// Resume deliveries to the selected partner (supervisors).
    ResumePartner => "resume_partner", "resume", Partners, true;
    /// Answer yes.
    Confirm => "confirm", "yes", Confirm, true;
    /// Answer no.
    Deny => "deny", "no", Confirm, true;
}

impl KeyAction {
    /// What the engine asks of an operator for this action (`None`: looking and moving, which
    /// everyone may do). The desk offers only what the operator's role permits.
    pub fn capability(self) -> Option<Capability> {
        use KeyAction as K;
        Some(match self {
            K::Complete | K::Cancel | K::Assign | K::SetSent | K::SetSetup => {
                Capability::WorkOrders
            }
            K::Retry | K::RetryAll => Capability::Retry,
            K::Discard | K::DiscardAll | K::CancelOrchestration => Capability::CancelOrDiscard,
            K::ExecuteNow => Capability::ExecuteNow,
            K::RunBatch => Capability::ThrottleBatch,
            K::Update => Capability::Update,
            K::Edit => Capability::Edit,
            K::CompleteFa | K::CancelFa => Capability::ManualFieldActivity,
            K::PausePartner | K::ResumePartner => Capability::Partners,
            _ => return None,
        })
    }

    /// The action a `run` name names, if any (`noop` is not an action).
    pub fn parse(name: &str) -> Option<KeyAction> {
        KeyAction::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The contexts the action may be bound in.
    pub fn contexts(self) -> &'static [Context] {
        self.family().contexts()
    }

    /// Whether the action may be bound in `context`.
    pub fn is_valid_in(self, context: Context) -> bool {
        self.contexts().contains(&context)
    }
}

impl fmt::Display for KeyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

/// The named keys, as written in the file and shown in help.
const NAMED_KEYS: [(&str, KeyCode); 16] = [
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Space", KeyCode::Char(' ')),
    ("Backspace", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
];

/// The modifier prefixes, in the order they are written.
const MODIFIER_PREFIXES: [(&str, KeyModifiers); 3] = [
    ("C-", KeyModifiers::CONTROL),
    ("A-", KeyModifiers::ALT),
    ("S-", KeyModifiers::SHIFT),
];

/// One key with its modifiers, normalised so that a binding and a terminal event compare equal.
///
/// A character carries its own shift (`Q`, `?`), so SHIFT is dropped from characters; with Ctrl a
/// letter is lowercase (terminals cannot tell `C-d` from `C-D`); Shift-Tab is `BackTab`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl Key {
    /// A key from a code and modifiers, normalised.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let shift = modifiers.contains(KeyModifiers::SHIFT);
        let ctrl = modifiers.contains(KeyModifiers::CONTROL);
        match code {
            KeyCode::Char(c) => {
                let c = if ctrl {
                    c.to_ascii_lowercase()
                } else if shift {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                Key {
                    code: KeyCode::Char(c),
                    modifiers: modifiers - KeyModifiers::SHIFT,
                }
            }
            KeyCode::Tab if shift => Key {
                code: KeyCode::BackTab,
                modifiers: modifiers - KeyModifiers::SHIFT,
            },
            KeyCode::BackTab => Key {
                code,
                modifiers: modifiers - KeyModifiers::SHIFT,
            },
            _ => Key { code, modifiers },
        }
    }

    /// The key a terminal event stands for; `None` unless it is a press.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        (event.kind == KeyEventKind::Press).then(|| Key::new(event.code, event.modifiers))
    }

    /// The key code.
    pub fn code(&self) -> KeyCode {
        self.code
    }

    /// The modifiers (never SHIFT on a character).
    pub fn modifiers(&self) -> KeyModifiers {
        self.modifiers
    }
}

/// Why a key name does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyNameError {
    /// Nothing was written.
    #[error("an empty key name; write `Space` for the space bar")]
    Empty,
    /// A modifier prefix with nothing after it.
    #[error("a key after the modifier is missing")]
    MissingAfterModifier,
    /// `S-` before a character that is not a letter.
    #[error("`S-` goes with named keys and letters; write the shifted character itself (`?`, not `S-/`)")]
    ShiftOnSymbol,
    /// A name that is no key.
    #[error("not a key; write one character or a named key (Enter, Esc, Tab, BackTab, Space, Backspace, Delete, Insert, Up, Down, Left, Right, Home, End, PageUp, PageDown, F1..F12), with C-, A- or S- before it")]
    Unknown,
}

impl FromStr for Key {
    type Err = KeyNameError;

    fn from_str(text: &str) -> Result<Key, KeyNameError> {
        if text.is_empty() {
            return Err(KeyNameError::Empty);
        }
        let (modifiers, rest) = split_modifiers(text);
        if rest.is_empty() {
            return Err(KeyNameError::MissingAfterModifier);
        }
        let code = key_code(rest)?;
        if let KeyCode::Char(c) = code {
            if modifiers.contains(KeyModifiers::SHIFT) && !c.is_ascii_alphabetic() {
                return Err(KeyNameError::ShiftOnSymbol);
            }
        }
        Ok(Key::new(code, modifiers))
    }
}

/// Strips the `C-`, `A-` and `S-` prefixes, returning their modifiers and the rest.
fn split_modifiers(text: &str) -> (KeyModifiers, &str) {
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = text;
    while let Some((prefix, modifier)) = MODIFIER_PREFIXES
        .iter()
        .find(|(prefix, _)| rest.starts_with(prefix))
    {
        modifiers |= *modifier;
        rest = &rest[prefix.len()..];
    }
    (modifiers, rest)
}

/// The code a key name (without modifiers) stands for.
fn key_code(name: &str) -> Result<KeyCode, KeyNameError> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return if c.is_control() || c.is_whitespace() {
            Err(KeyNameError::Unknown)
        } else {
            Ok(KeyCode::Char(c))
        };
    }
    if let Some((_, code)) = NAMED_KEYS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
    {
        return Ok(*code);
    }
    function_key(name).ok_or(KeyNameError::Unknown)
}

/// `F1`..`F12`.
fn function_key(name: &str) -> Option<KeyCode> {
    let digits = name.strip_prefix(['F', 'f'])?;
    if digits.starts_with('0') {
        return None;
    }
    let n: u8 = digits.parse().ok()?;
    (1..=12).contains(&n).then_some(KeyCode::F(n))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (prefix, modifier) in MODIFIER_PREFIXES {
            if self.modifiers.contains(modifier) {
                f.write_str(prefix)?;
            }
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            code => match NAMED_KEYS.iter().find(|(_, known)| *known == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

/// A chord as written in help: the keys separated by spaces.
fn chord_text(keys: &[Key]) -> String {
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A keymap file that cannot be used, with the file and line to fix.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    /// Something on a line is wrong.
    #[error("{file}: line {line}: {problem}")]
    Invalid {
        /// The file's name as given.
        file: String,
        /// The 1-based line.
        line: usize,
        /// What is wrong there.
        problem: Problem,
    },
    /// The file cannot be read.
    #[error("{file}: cannot read the keymap: {source}")]
    Read {
        /// The file's path.
        file: String,
        /// Why.
        source: std::io::Error,
    },
}

impl KeymapError {
    /// The 1-based line the error names, if it names one.
    pub fn line(&self) -> Option<usize> {
        match self {
            KeymapError::Invalid { line, .. } => Some(*line),
            KeymapError::Read { .. } => None,
        }
    }
}

/// What is wrong on a keymap line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// TOML syntax, or a value of the wrong type.
    #[error("{0}")]
    Toml(String),
    /// A table that is no context.
    #[error("unknown context `{0}`; the contexts are global, queue, orchestrations, tree, feed, throttle, partners, audit, confirm and help")]
    UnknownContext(String),
    /// A context written as something other than rows.
    #[error("[{0}] is not a list of rows; give each row its own [[{0}]] header (two brackets)")]
    NotRows(Context),
    /// A `run` that is no action.
    #[error("unknown action `{name}`; [{context}] takes: {valid}")]
    UnknownAction {
        /// What was written.
        name: String,
        /// The row's context.
        context: Context,
        /// The actions that context takes.
        valid: String,
    },
    /// An action bound where it does nothing.
    #[error("`{action}` does not work in [{context}]; it works in {valid}")]
    WrongContext {
        /// The action.
        action: KeyAction,
        /// The row's context.
        context: Context,
        /// The contexts it works in.
        valid: String,
    },
    /// A key name that does not parse.
    #[error("`{key}`: {reason}")]
    BadKey {
        /// What was written.
        key: String,
        /// Why it is no key.
        reason: KeyNameError,
    },
    /// `on` that is neither a key nor a list of keys.
    #[error("`on` must be a key or a list of keys, e.g. on = \"q\" or on = [\"g\", \"g\"]")]
    BadOn,
    /// A row without `on` or `run`.
    #[error("this row has no `{0}`; every row needs `on` and `run` (`desc` is optional)")]
    Missing(&'static str),
    /// The same keys twice in one context of one file.
    #[error("`{keys}` is bound twice in [{context}], first on line {first}; keep one row")]
    Duplicate {
        /// The keys.
        keys: String,
        /// The context.
        context: Context,
        /// The line of the first row.
        first: usize,
    },
    /// Keys that start, or are started by, another binding's keys in the same context.
    #[error("`{keys}` conflicts with `{other}` on {other_at}: in [{context}] a key cannot both act and start a longer chord; rebind one, or unbind it with run = \"noop\"")]
    Conflict {
        /// The later binding's keys.
        keys: String,
        /// The earlier binding's keys.
        other: String,
        /// Where the earlier binding is ("line 3", or "line 3 of keymap.toml").
        other_at: String,
        /// The context.
        context: Context,
    },
}

/// Builds errors for one file.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// The 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// The 1-based line a span starts on.
    fn line_of_span(&self, span: Range<usize>) -> usize {
        self.line_of(span.start)
    }

    /// An error on `line`.
    fn error(&self, line: usize, problem: Problem) -> KeymapError {
        KeymapError::Invalid {
            file: self.name.to_string(),
            line,
            problem,
        }
    }

    /// The error for a TOML parse or type failure.
    fn toml_error(&self, error: &toml::de::Error) -> KeymapError {
        let line = error.span().map_or(1, |span| self.line_of_span(span));
        let message: Vec<&str> = error.message().lines().map(str::trim).collect();
        let mut message = message.join("; ");
        if message.is_empty() {
            // toml gives no words for some bad characters (a NUL in a comment): name the character.
            let at = error.span().map_or(0, |span| span.start);
            message = match self.text.get(at..).and_then(|rest| rest.chars().next()) {
                Some(c) if c.is_control() => format!(
                    "not valid TOML: control character U+{:04X} is not allowed here",
                    u32::from(c)
                ),
                Some(c) => format!("not valid TOML: `{c}` is not allowed here"),
                None => "not valid TOML: the file ends too early".to_owned(),
            };
        }
        self.error(line, Problem::Toml(message))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a file

/// One row as TOML gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    on: Option<Spanned<toml::Value>>,
    run: Option<Spanned<String>>,
    desc: Option<String>,
}

/// A whole file as TOML gives it: context name to rows.
type RawFile = BTreeMap<Spanned<String>, Vec<Spanned<RawRow>>>;

/// What a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Bind the keys to an action.
    Bind(KeyAction),
    /// Remove the keys' binding.
    Unbind,
}

/// A checked row of one file.
#[derive(Debug, Clone)]
struct Row {
    context: Context,
    keys: Vec<Key>,
    run: Run,
    desc: String,
    /// The line of `on`.
    line: usize,
}

/// Reads and checks every row of one file, in line order, without looking at other files.
fn read_rows(source: &Source<'_>) -> Result<Vec<Row>, KeymapError> {
    check_tables(source)?;
    let raw: RawFile = toml::from_str(source.text).map_err(|e| source.toml_error(&e))?;
    let mut rows = Vec::new();
    for (name, raw_rows) in raw {
        let context = read_context(source, &name)?;
        for raw_row in raw_rows {
            rows.push(read_row(source, context, raw_row)?);
        }
    }
    rows.sort_by_key(|row| row.line);
    check_duplicates(source, &rows)?;
    Ok(rows)
}

/// Fails, at the first in line order, on a table that is no context or is not a list of rows.
fn check_tables(source: &Source<'_>) -> Result<(), KeymapError> {
    let tables: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(source.text).map_err(|e| source.toml_error(&e))?;
    let mut tables: Vec<_> = tables.into_iter().collect();
    tables.sort_by_key(|(name, _)| name.span().start);
    for (name, value) in tables {
        let context = read_context(source, &name)?;
        let is_rows = value
            .get_ref()
            .as_array()
            .is_some_and(|items| items.iter().all(toml::Value::is_table));
        if !is_rows {
            let line = source.line_of_span(value.span());
            return Err(source.error(line, Problem::NotRows(context)));
        }
    }
    Ok(())
}

/// The context a table name names.
fn read_context(source: &Source<'_>, name: &Spanned<String>) -> Result<Context, KeymapError> {
    Context::parse(name.get_ref()).ok_or_else(|| {
        source.error(
            source.line_of_span(name.span()),
            Problem::UnknownContext(name.get_ref().clone()),
        )
    })
}

/// Checks one row.
fn read_row(
    source: &Source<'_>,
    context: Context,
    raw: Spanned<RawRow>,
) -> Result<Row, KeymapError> {
    let header = source.line_of_span(raw.span());
    let raw = raw.into_inner();
    let on = raw
        .on
        .ok_or_else(|| source.error(header, Problem::Missing("on")))?;
    let run = raw
        .run
        .ok_or_else(|| source.error(header, Problem::Missing("run")))?;
    let line = source.line_of_span(on.span());
    let keys = read_keys(on.get_ref()).map_err(|problem| source.error(line, problem))?;
    let run_line = source.line_of_span(run.span());
    let run_value = read_run(context, run.get_ref()).map_err(|p| source.error(run_line, p))?;
    let desc = match (raw.desc, run_value) {
        (Some(desc), _) => desc,
        (None, Run::Bind(action)) => action.label().to_string(),
        (None, Run::Unbind) => String::new(),
    };
    Ok(Row {
        context,
        keys,
        run: run_value,
        desc,
        line,
    })
}

/// The keys of `on`: a key, keys separated by spaces, or a list of keys.
fn read_keys(on: &toml::Value) -> Result<Vec<Key>, Problem> {
    let names: Vec<&str> = match on {
        toml::Value::String(text) => text.split_whitespace().collect(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or(Problem::BadOn))
            .collect::<Result<_, _>>()?,
        _ => return Err(Problem::BadOn),
    };
    if names.is_empty() {
        return Err(Problem::BadKey {
            key: String::new(),
            reason: KeyNameError::Empty,
        });
    }
    names.into_iter().map(read_key).collect()
}

/// One key name.
fn read_key(name: &str) -> Result<Key, Problem> {
    name.parse().map_err(|reason| Problem::BadKey {
        key: name.to_string(),
        reason,
    })
}

/// The `run` value of a row in `context`.
fn read_run(context: Context, name: &str) -> Result<Run, Problem> {
    if name == NOOP {
        return Ok(Run::Unbind);
    }
    let action = KeyAction::parse(name).ok_or_else(|| Problem::UnknownAction {
        name: name.to_string(),
        context,
        valid: actions_in(context),
    })?;
    if !action.is_valid_in(context) {
        return Err(Problem::WrongContext {
            action,
            context,
            valid: contexts_text(action.contexts()),
        });
    }
    Ok(Run::Bind(action))
}

/// The `run` names a context takes, for error messages.
fn actions_in(context: Context) -> String {
    let mut names: Vec<&str> = KeyAction::ALL
        .iter()
        .filter(|action| action.is_valid_in(context))
        .map(|action| action.name())
        .collect();
    names.push(NOOP);
    names.join(", ")
}

/// `[queue], [tree]`, for error messages.
fn contexts_text(contexts: &[Context]) -> String {
    contexts
        .iter()
        .map(|context| format!("[{context}]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fails on two rows with the same keys in the same context.
fn check_duplicates(source: &Source<'_>, rows: &[Row]) -> Result<(), KeymapError> {
    for (i, row) in rows.iter().enumerate() {
        let first = rows[..i]
            .iter()
            .find(|earlier| earlier.context == row.context && earlier.keys == row.keys);
        if let Some(first) = first {
            return Err(source.error(
                row.line,
                Problem::Duplicate {
                    keys: chord_text(&row.keys),
                    context: row.context,
                    first: first.line,
                },
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The keymap

/// Where a binding was written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    /// 0 for the first file applied, 1 for the next…
    layer: usize,
    file: String,
    line: usize,
}

impl Origin {
    /// Which of two bindings was written later.
    fn order(&self) -> (usize, usize) {
        (self.layer, self.line)
    }
}

/// One live binding.
#[derive(Debug, Clone)]
struct Binding {
    context: Context,
    keys: Vec<Key>,
    action: KeyAction,
    desc: String,
    origin: Origin,
}

/// The live key bindings: the defaults with a user's file layered on them.
#[derive(Debug, Clone)]
pub struct Keymap {
    /// In file order: a user's replacement keeps its place, additions go last.
    bindings: Vec<Binding>,
    /// How many files have been applied.
    layers: usize,
}

impl Keymap {
    /// The bindings of the repository's `keymap.toml`, built into the binary.
    pub fn defaults() -> Result<Keymap, KeymapError> {
        Keymap::parse(DEFAULT_KEYMAP, DEFAULT_SOURCE)
    }

    /// The bindings of one file; `source_name` is how errors name it.
    pub fn parse(text: &str, source_name: &str) -> Result<Keymap, KeymapError> {
        let empty = Keymap {
            bindings: Vec::new(),
            layers: 0,
        };
        empty.with_user(text, source_name)
    }

    /// These bindings with a user's file layered on: same keys in the same context replace,
    /// new keys add, `run = "noop"` unbinds.
    pub fn with_user(mut self, text: &str, source_name: &str) -> Result<Keymap, KeymapError> {
        let source = Source {
            name: source_name,
            text,
        };
        let rows = read_rows(&source)?;
        let layer = self.layers;
        self.layers += 1;
        for row in &rows {
            self.apply(row, layer, source_name);
        }
        self.check_conflicts(layer)?;
        Ok(self)
    }

    /// `default` with the user's file at `path` layered on, or `default` alone without a path.
    ///
    /// A path that cannot be read is an error: pass the config-dir file only when it exists.
    pub fn load(default: Keymap, path: Option<&Path>) -> Result<Keymap, KeymapError> {
        let Some(path) = path else {
            return Ok(default);
        };
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeymapError::Read {
            file: file.clone(),
            source,
        })?;
        default.with_user(&text, &file)
    }

    /// Applies one row: unbind, replace in place, or add at the end.
    fn apply(&mut self, row: &Row, layer: usize, file: &str) {
        let same_keys = |b: &Binding| b.context == row.context && b.keys == row.keys;
        let action = match row.run {
            Run::Unbind => {
                self.bindings.retain(|b| !same_keys(b));
                return;
            }
            Run::Bind(action) => action,
        };
        let binding = Binding {
            context: row.context,
            keys: row.keys.clone(),
            action,
            desc: row.desc.clone(),
            origin: Origin {
                layer,
                file: file.to_string(),
                line: row.line,
            },
        };
        match self.bindings.iter_mut().find(|b| same_keys(b)) {
            Some(existing) => *existing = binding,
            None => self.bindings.push(binding),
        }
    }

    /// Fails on a binding of `layer` whose keys start, or are started by, an earlier binding's.
    fn check_conflicts(&self, layer: usize) -> Result<(), KeymapError> {
        let mut new: Vec<&Binding> = self
            .bindings
            .iter()
            .filter(|b| b.origin.layer == layer)
            .collect();
        new.sort_by_key(|b| b.origin.line);
        for binding in new {
            if let Some(other) = self.bindings.iter().find(|other| {
                other.context == binding.context
                    && other.origin.order() < binding.origin.order()
                    && overlaps(&other.keys, &binding.keys)
            }) {
                return Err(conflict(binding, other));
            }
        }
        Ok(())
    }

    /// The bindings that apply in `context`: its own, then the global ones it does not shadow.
    fn active(&self, context: Context) -> impl Iterator<Item = &Binding> + '_ {
        let own = move || self.bindings.iter().filter(move |b| b.context == context);
        let inherited = self.bindings.iter().filter(move |global| {
            context.inherits_global()
                && global.context == Context::Global
                && !own().any(|b| overlaps(&b.keys, &global.keys))
        });
        own().chain(inherited)
    }

    /// Feeds one terminal event: an action, a chord still being typed, or nothing.
    ///
    /// Only presses count; a release or repeat returns `Match::None` and leaves `pending` as is.
    /// A key that neither completes nor continues a binding clears `pending`.
    pub fn feed(&self, context: Context, pending: &mut Pending, event: KeyEvent) -> Match {
        let Some(key) = Key::from_event(&event) else {
            return Match::None;
        };
        pending.keys.push(key);
        let mut continues = false;
        for binding in self.active(context) {
            if binding.keys == pending.keys {
                pending.clear();
                return Match::Action(binding.action);
            }
            continues |= binding.keys.starts_with(&pending.keys);
        }
        if continues {
            Match::Pending
        } else {
            pending.clear();
            Match::None
        }
    }

    /// The help overlay's rows for `context`: its own bindings, then the global ones that reach
    /// it; keys of one action are merged into one row ("k, Up").
    pub fn help(&self, context: Context) -> Vec<HelpRow> {
        let mut rows: Vec<HelpRow> = Vec::new();
        for binding in self.active(context) {
            let keys = chord_text(&binding.keys);
            let same = rows
                .iter_mut()
                .find(|r| r.context == binding.context && r.action == binding.action);
            match same {
                Some(row) => {
                    row.keys.push_str(", ");
                    row.keys.push_str(&keys);
                }
                None => rows.push(HelpRow {
                    keys,
                    action: binding.action,
                    desc: binding.desc.clone(),
                    context: binding.context,
                }),
            }
        }
        rows
    }

    /// At most `max` (key, label) pairs for the command bar: the context's actions first, then
    /// global ones, in file order, one key per action; `help` is kept when the bar is cut.
    pub fn command_bar(&self, context: Context, max: usize) -> Vec<(String, String)> {
        self.command_bar_for(context, max, |_| true)
    }

    /// As [`Keymap::command_bar`], offering only the actions `offered` keeps (those the
    /// operator's role permits).
    pub fn command_bar_for(
        &self,
        context: Context,
        max: usize,
        offered: impl Fn(KeyAction) -> bool,
    ) -> Vec<(String, String)> {
        let mut actions: Vec<(&Binding, KeyAction)> = Vec::new();
        for binding in self.active(context) {
            let action = binding.action;
            if action.in_command_bar()
                && offered(action)
                && !actions.iter().any(|(_, a)| *a == action)
            {
                actions.push((binding, action));
            }
        }
        if actions.len() > max {
            let help = actions.iter().position(|(_, a)| *a == KeyAction::Help);
            match help {
                Some(at) if max > 0 && at >= max => {
                    let help = actions.remove(at);
                    actions.truncate(max - 1);
                    actions.push(help);
                }
                _ => actions.truncate(max),
            }
        }
        actions
            .into_iter()
            .map(|(b, a)| (chord_text(&b.keys), a.label().to_string()))
            .collect()
    }
}

/// Whether one key sequence starts with the other (equal included).
fn overlaps(a: &[Key], b: &[Key]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// The error for `binding` conflicting with the earlier `other`.
fn conflict(binding: &Binding, other: &Binding) -> KeymapError {
    let other_at = if other.origin.layer == binding.origin.layer {
        format!("line {}", other.origin.line)
    } else {
        format!("line {} of {}", other.origin.line, other.origin.file)
    };
    KeymapError::Invalid {
        file: binding.origin.file.clone(),
        line: binding.origin.line,
        problem: Problem::Conflict {
            keys: chord_text(&binding.keys),
            other: chord_text(&other.keys),
            other_at,
            context: binding.context,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Matching

/// The keys of a chord typed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    keys: Vec<Key>,
}

impl Pending {
    /// The keys typed so far.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Whether no chord is under way.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forgets the keys typed so far.
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

impl fmt::Display for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&chord_text(&self.keys))
    }
}

/// What a key event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// A binding is complete: do this.
    Action(KeyAction),
    /// The keys so far start a chord: wait for the next key.
    Pending,
    /// Nothing is bound to these keys.
    None,
}

/// One row of the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    /// The keys, as written in the file ("g g, Home").
    pub keys: String,
    /// What they do.
    pub action: KeyAction,
    /// The row's `desc`.
    pub desc: String,
    /// The context the binding comes from (the asked one, or `Global`).
    pub context: Context,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn defaults() -> Keymap {
        Keymap::defaults().expect("the default keymap.toml parses")
    }

    fn event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    fn char_event(c: char) -> KeyEvent {
        event(KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// Feeds each event in turn and returns what each did.
    fn feed_all(map: &Keymap, context: Context, events: &[KeyEvent]) -> Vec<Match> {
        let mut pending = Pending::default();
        events
            .iter()
            .map(|e| map.feed(context, &mut pending, *e))
            .collect()
    }

    /// The single action a key sequence written as in the file triggers in `context`.
    fn action_of(map: &Keymap, context: Context, keys: &str) -> Match {
        let events: Vec<KeyEvent> = keys
            .split_whitespace()
            .map(|name| {
                let key: Key = name.parse().expect("test key names are valid");
                event(key.code(), key.modifiers())
            })
            .collect();
        *feed_all(map, context, &events)
            .last()
            .expect("at least one key")
    }

    fn error_text(text: &str) -> String {
        Keymap::parse(text, "test.toml")
            .expect_err("the file is invalid")
            .to_string()
    }

    // ----------------------------------------------------------------- the default file

    #[test]
    fn default_file_parses() {
        let map = defaults();
        assert!(!map.bindings.is_empty());
    }

    #[test]
    fn default_file_binds_every_action_in_a_valid_context() {
        let map = defaults();
        for action in KeyAction::ALL {
            let bound = map
                .bindings
                .iter()
                .any(|b| b.action == *action && action.is_valid_in(b.context));
            assert!(bound, "`{action}` has no default binding");
        }
    }

    #[test]
    fn default_file_gives_vim_keys_and_arrows() {
        let map = defaults();
        let g = Context::Queue;
        for (keys, action) in [
            ("j", KeyAction::Down),
            ("Down", KeyAction::Down),
            ("k", KeyAction::Up),
            ("Up", KeyAction::Up),
            ("g g", KeyAction::Top),
            ("Home", KeyAction::Top),
            ("G", KeyAction::Bottom),
            ("End", KeyAction::Bottom),
            ("C-d", KeyAction::PageDown),
            ("PageDown", KeyAction::PageDown),
            ("C-u", KeyAction::PageUp),
            ("PageUp", KeyAction::PageUp),
            ("Enter", KeyAction::Open),
            ("Esc", KeyAction::Back),
            ("/", KeyAction::Filter),
            (":", KeyAction::CommandLine),
            ("?", KeyAction::Help),
            ("q", KeyAction::Quit),
            ("Tab", KeyAction::NextView),
            ("BackTab", KeyAction::PrevView),
            ("1", KeyAction::GoQueue),
            ("6", KeyAction::GoPartners),
            ("7", KeyAction::GoAudit),
            ("Space", KeyAction::ToggleMark),
            ("c", KeyAction::Complete),
            ("C", KeyAction::Cancel),
        ] {
            assert_eq!(action_of(&map, g, keys), Match::Action(action), "{keys}");
        }
    }

    #[test]
    fn default_file_orchestration_and_tree_keys() {
        let map = defaults();
        for context in [Context::Orchestrations, Context::Tree] {
            for (keys, action) in [
                ("r", KeyAction::Retry),
                ("d", KeyAction::Discard),
                ("x", KeyAction::ExecuteNow),
                ("C", KeyAction::CancelOrchestration),
                ("u", KeyAction::Update),
            ] {
                assert_eq!(action_of(&map, context, keys), Match::Action(action));
            }
        }
        assert_eq!(
            action_of(&map, Context::Tree, "l"),
            Match::Action(KeyAction::Expand)
        );
    }

    // ----------------------------------------------------------------- errors name the line

    #[test]
    fn unknown_context_names_the_header_line() {
        let text =
            "[[global]]\non = \"q\"\nrun = \"quit\"\n\n[[queu]]\non = \"c\"\nrun = \"complete\"\n";
        let message = error_text(text);
        assert!(
            message.starts_with("test.toml: line 5: unknown context `queu`"),
            "{message}"
        );
    }

    #[test]
    fn unknown_context_is_reported_before_its_rows_are_read() {
        let message = error_text("[[global]]\non = \"q\"\nrun = \"quit\"\n\n[queu]\non = 5\n");
        assert!(
            message.starts_with("test.toml: line 5: unknown context `queu`"),
            "{message}"
        );
    }

    #[test]
    fn a_context_written_as_one_table_is_an_error() {
        let message = error_text("# rows\n[queue]\non = \"c\"\nrun = \"complete\"\n");
        assert_eq!(
            message,
            "test.toml: line 2: [queue] is not a list of rows; give each row its own [[queue]] header (two brackets)"
        );
    }

    #[test]
    fn unknown_action_names_the_run_line() {
        let text = "[[global]]\non = \"q\"\nrun = \"quti\"\n";
        let message = error_text(text);
        assert!(
            message.starts_with("test.toml: line 3: unknown action `quti`"),
            "{message}"
        );
        assert!(message.contains("quit"), "lists what [global] takes");
    }

    #[test]
    fn action_in_the_wrong_context_is_an_error() {
        let text = "[[queue]]\non = \"r\"\nrun = \"retry\"\n";
        let message = error_text(text);
        assert_eq!(
            message,
            "test.toml: line 3: `retry` does not work in [queue]; it works in [orchestrations], [tree]"
        );
    }

    #[test]
    fn modifier_without_a_key_names_the_on_line() {
        let text = "# keys\n\n[[global]]\nrun = \"quit\"\non = \"C-\"\n";
        let message = error_text(text);
        assert_eq!(
            message,
            "test.toml: line 5: `C-`: a key after the modifier is missing"
        );
    }

    #[test]
    fn unknown_key_name_is_an_error() {
        let message = error_text("[[global]]\non = [\"g\", \"Entr\"]\nrun = \"top\"\n");
        assert!(
            message.starts_with("test.toml: line 2: `Entr`: not a key"),
            "{message}"
        );
    }

    #[test]
    fn shift_on_a_symbol_is_an_error() {
        let message = error_text("[[global]]\non = \"S-/\"\nrun = \"help\"\n");
        assert!(message.starts_with("test.toml: line 2: `S-/`: `S-` goes with"));
    }

    #[test]
    fn empty_on_is_an_error() {
        let message = error_text("[[global]]\non = []\nrun = \"help\"\n");
        assert!(message.starts_with("test.toml: line 2: ``: an empty key name"));
    }

    #[test]
    fn on_of_the_wrong_type_is_an_error() {
        let message = error_text("[[global]]\non = 5\nrun = \"help\"\n");
        assert!(message.starts_with("test.toml: line 2: `on` must be a key"));
    }

    #[test]
    fn missing_run_names_the_row() {
        let message = error_text("[[global]]\non = \"q\"\n\n[[global]]\non = \"x\"\n");
        assert!(
            message.starts_with("test.toml: line 1: this row has no `run`"),
            "{message}"
        );
    }

    #[test]
    fn missing_on_names_the_row() {
        let message =
            error_text("[[global]]\non = \"q\"\nrun = \"quit\"\n[[help]]\nrun = \"back\"\n");
        assert!(
            message.starts_with("test.toml: line 4: this row has no `on`"),
            "{message}"
        );
    }

    #[test]
    fn unknown_field_names_its_line() {
        let message = error_text("[[global]]\non = \"q\"\nrnu = \"quit\"\n");
        assert!(
            message.starts_with("test.toml: line 3: unknown field `rnu`"),
            "{message}"
        );
    }

    #[test]
    fn toml_syntax_error_names_its_line() {
        let message = error_text("[[global]]\non = \"q\"\nrun = quit\n");
        assert!(message.starts_with("test.toml: line 3: "), "{message}");
    }

    /// Found by `cargo fuzz run keymap`: toml's message for a NUL in a comment is empty.
    #[test]
    fn a_control_character_in_a_comment_is_named() {
        let message = error_text("[[global]]\n# a\0b\non = \"q\"\nrun = \"quit\"\n");
        assert_eq!(
            message,
            "test.toml: line 2: not valid TOML: control character U+0000 is not allowed here"
        );
    }

    #[test]
    fn duplicate_binding_in_one_file_is_an_error() {
        let text =
            "[[global]]\non = \"q\"\nrun = \"quit\"\n\n[[global]]\non = \"q\"\nrun = \"help\"\n";
        let message = error_text(text);
        assert_eq!(
            message,
            "test.toml: line 6: `q` is bound twice in [global], first on line 2; keep one row"
        );
    }

    #[test]
    fn same_keys_in_two_contexts_are_no_duplicate() {
        let text = "[[orchestrations]]\non = \"r\"\nrun = \"retry\"\n[[tree]]\non = \"r\"\nrun = \"retry\"\n";
        assert!(Keymap::parse(text, "test.toml").is_ok());
    }

    #[test]
    fn prefix_conflict_names_both_lines() {
        let text = "[[global]]\non = \"g\"\nrun = \"top\"\n\n[[global]]\non = \"G\"\nrun = \"bottom\"\n\n[[global]]\non = [\"g\", \"g\"]\nrun = \"top\"\n";
        let message = error_text(text);
        assert!(
            message.starts_with("test.toml: line 10: `g g` conflicts with `g` on line 2"),
            "{message}"
        );
    }

    #[test]
    fn chord_in_a_context_does_not_conflict_with_a_global_key() {
        let text = "[[global]]\non = \"f\"\nrun = \"filter\"\n[[feed]]\non = \"f c\"\nrun = \"filter_categories\"\n";
        assert!(Keymap::parse(text, "test.toml").is_ok());
    }

    // ----------------------------------------------------------------- a user's file

    #[test]
    fn user_row_with_the_same_keys_replaces_the_default_in_place() {
        let before = defaults();
        let position = |map: &Keymap| {
            map.bindings
                .iter()
                .position(|b| b.context == Context::Global && chord_text(&b.keys) == "q")
        };
        let user = "[[global]]\non = \"q\"\nrun = \"help\"\ndesc = \"Help, not quit\"\n";
        let after = before
            .clone()
            .with_user(user, "user.toml")
            .expect("valid user file");
        assert_eq!(
            action_of(&after, Context::Queue, "q"),
            Match::Action(KeyAction::Help)
        );
        assert_eq!(position(&before), position(&after));
        assert_eq!(before.bindings.len(), after.bindings.len());
    }

    #[test]
    fn user_row_with_new_keys_adds_to_the_defaults() {
        let user = "[[global]]\non = \"C-c\"\nrun = \"quit\"\n";
        let map = defaults().with_user(user, "user.toml").expect("valid");
        assert_eq!(
            action_of(&map, Context::Feed, "C-c"),
            Match::Action(KeyAction::Quit)
        );
        assert_eq!(
            action_of(&map, Context::Feed, "q"),
            Match::Action(KeyAction::Quit)
        );
    }

    #[test]
    fn user_noop_unbinds_the_keys() {
        let user = "[[global]]\non = \"q\"\nrun = \"noop\"\n";
        let map = defaults().with_user(user, "user.toml").expect("valid");
        assert_eq!(action_of(&map, Context::Queue, "q"), Match::None);
        assert!(map
            .help(Context::Global)
            .iter()
            .all(|r| r.action != KeyAction::Quit));
    }

    #[test]
    fn user_noop_frees_a_chord_prefix_for_a_single_key() {
        let user = "[[global]]\non = \"g\"\nrun = \"bottom\"\n\n[[global]]\non = \"g g\"\nrun = \"noop\"\n";
        let map = defaults().with_user(user, "user.toml").expect("valid");
        assert_eq!(
            action_of(&map, Context::Queue, "g"),
            Match::Action(KeyAction::Bottom)
        );
    }

    #[test]
    fn user_conflict_with_a_default_names_the_default_file() {
        let user = "[[global]]\non = \"g\"\nrun = \"bottom\"\n";
        let message = defaults()
            .with_user(user, "user.toml")
            .expect_err("g conflicts with g g")
            .to_string();
        assert!(
            message.starts_with("user.toml: line 2: `g` conflicts with `g g` on line "),
            "{message}"
        );
        assert!(message.contains("of keymap.toml"), "{message}");
    }

    #[test]
    fn user_errors_name_the_user_file() {
        let message = defaults()
            .with_user("[[global]]\non = \"q\"\nrun = \"bogus\"\n", "user.toml")
            .expect_err("bogus")
            .to_string();
        assert!(message.starts_with("user.toml: line 3: unknown action `bogus`"));
    }

    #[test]
    fn load_without_a_path_is_the_default() {
        let map = Keymap::load(defaults(), None).expect("no file");
        assert_eq!(map.bindings.len(), defaults().bindings.len());
    }

    #[test]
    fn load_reads_the_user_file() {
        let path = std::env::temp_dir().join(format!("keymap-test-{}.toml", std::process::id()));
        std::fs::write(&path, "[[global]]\non = \"Q\"\nrun = \"quit\"\n").expect("temp file");
        let loaded = Keymap::load(defaults(), Some(&path));
        let _ = std::fs::remove_file(&path);
        let map = loaded.expect("valid user file");
        assert_eq!(
            action_of(&map, Context::Queue, "Q"),
            Match::Action(KeyAction::Quit)
        );
    }

    #[test]
    fn load_of_a_missing_file_is_a_read_error() {
        let path = Path::new("/nonexistent/orderdesk/keymap.toml");
        let error = Keymap::load(defaults(), Some(path)).expect_err("missing");
        assert!(matches!(error, KeymapError::Read { .. }));
        assert!(error
            .to_string()
            .starts_with("/nonexistent/orderdesk/keymap.toml: "));
    }

    // ----------------------------------------------------------------- matching

    #[test]
    fn g_g_goes_to_the_top() {
        let matches = feed_all(
            &defaults(),
            Context::Queue,
            &[char_event('g'), char_event('g')],
        );
        assert_eq!(matches, [Match::Pending, Match::Action(KeyAction::Top)]);
    }

    #[test]
    fn g_then_j_matches_nothing_and_clears_the_chord() {
        let map = defaults();
        let mut pending = Pending::default();
        assert_eq!(
            map.feed(Context::Queue, &mut pending, char_event('g')),
            Match::Pending
        );
        assert_eq!(pending.to_string(), "g");
        assert_eq!(
            map.feed(Context::Queue, &mut pending, char_event('j')),
            Match::None
        );
        assert!(pending.is_empty());
        assert_eq!(
            map.feed(Context::Queue, &mut pending, char_event('j')),
            Match::Action(KeyAction::Down)
        );
    }

    #[test]
    fn a_context_chord_works() {
        let map = defaults();
        assert_eq!(
            action_of(&map, Context::Orchestrations, "f s"),
            Match::Action(KeyAction::FilterState)
        );
        assert_eq!(
            action_of(&map, Context::Tree, "z R"),
            Match::Action(KeyAction::ExpandAll)
        );
    }

    #[test]
    fn release_and_repeat_events_are_ignored() {
        let map = defaults();
        let mut pending = Pending::default();
        map.feed(Context::Queue, &mut pending, char_event('g'));
        let mut release = char_event('g');
        release.kind = KeyEventKind::Release;
        assert_eq!(map.feed(Context::Queue, &mut pending, release), Match::None);
        assert_eq!(pending.keys().len(), 1, "the chord survives a release");
        assert_eq!(
            map.feed(Context::Queue, &mut pending, char_event('g')),
            Match::Action(KeyAction::Top)
        );
    }

    #[test]
    fn uppercase_binding_matches_with_or_without_shift() {
        let map = defaults();
        for e in [
            event(KeyCode::Char('G'), KeyModifiers::NONE),
            event(KeyCode::Char('G'), KeyModifiers::SHIFT),
            event(KeyCode::Char('g'), KeyModifiers::SHIFT),
        ] {
            assert_eq!(
                feed_all(&map, Context::Queue, &[e]),
                [Match::Action(KeyAction::Bottom)]
            );
        }
    }

    #[test]
    fn lowercase_binding_does_not_match_uppercase() {
        let map = Keymap::parse("[[global]]\non = \"q\"\nrun = \"quit\"\n", "t").expect("valid");
        let shifted = event(KeyCode::Char('Q'), KeyModifiers::SHIFT);
        assert_eq!(feed_all(&map, Context::Queue, &[shifted]), [Match::None]);
    }

    #[test]
    fn ctrl_and_shift_named_keys_match() {
        let map = defaults();
        let ctrl_d = event(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            feed_all(&map, Context::Queue, &[ctrl_d]),
            [Match::Action(KeyAction::PageDown)]
        );
        let back_tab = event(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            feed_all(&map, Context::Queue, &[back_tab]),
            [Match::Action(KeyAction::PrevView)]
        );
        let plain_d = char_event('d');
        assert_eq!(feed_all(&map, Context::Queue, &[plain_d]), [Match::None]);
    }

    #[test]
    fn the_specific_context_wins_over_global() {
        let map = defaults();
        assert_eq!(
            action_of(&map, Context::Tree, "l"),
            Match::Action(KeyAction::Expand)
        );
        assert_eq!(
            action_of(&map, Context::Queue, "l"),
            Match::Action(KeyAction::Right)
        );
        assert_eq!(
            action_of(&map, Context::Help, "q"),
            Match::Action(KeyAction::Back)
        );
    }

    #[test]
    fn confirm_is_modal() {
        let map = defaults();
        assert_eq!(action_of(&map, Context::Confirm, "q"), Match::None);
        assert_eq!(
            action_of(&map, Context::Confirm, "y"),
            Match::Action(KeyAction::Confirm)
        );
        assert_eq!(
            action_of(&map, Context::Confirm, "Esc"),
            Match::Action(KeyAction::Deny)
        );
    }

    // ----------------------------------------------------------------- keys

    #[test]
    fn key_names_parse_and_display_as_written() {
        for name in [
            "q",
            "Q",
            "?",
            "/",
            ":",
            "1",
            "-",
            "Enter",
            "Esc",
            "Tab",
            "BackTab",
            "Space",
            "Backspace",
            "Delete",
            "Insert",
            "Up",
            "Down",
            "Left",
            "Right",
            "Home",
            "End",
            "PageUp",
            "PageDown",
            "F1",
            "F12",
            "C-d",
            "A-x",
            "S-Up",
            "C-A-Delete",
            "C--",
        ] {
            let key: Key = name.parse().expect("valid key name");
            assert_eq!(key.to_string(), name);
        }
    }

    #[test]
    fn key_spellings_normalise() {
        let parse = |name: &str| name.parse::<Key>().expect("valid");
        assert_eq!(parse("S-Tab"), parse("BackTab"));
        assert_eq!(parse("S-a"), parse("A"));
        assert_eq!(parse("C-D"), parse("C-d"));
        assert_eq!(parse("enter"), parse("Enter"));
        assert_eq!(parse("Space").code(), KeyCode::Char(' '));
    }

    #[test]
    fn bad_key_names_say_why() {
        assert_eq!("".parse::<Key>(), Err(KeyNameError::Empty));
        assert_eq!("A-".parse::<Key>(), Err(KeyNameError::MissingAfterModifier));
        assert_eq!("F13".parse::<Key>(), Err(KeyNameError::Unknown));
        assert_eq!("F0".parse::<Key>(), Err(KeyNameError::Unknown));
        assert_eq!("Ctrl-d".parse::<Key>(), Err(KeyNameError::Unknown));
        assert_eq!("S-1".parse::<Key>(), Err(KeyNameError::ShiftOnSymbol));
    }

    #[test]
    fn context_and_action_names_round_trip() {
        for context in Context::ALL {
            assert_eq!(Context::parse(context.name()), Some(context));
        }
        for action in KeyAction::ALL {
            assert_eq!(KeyAction::parse(action.name()), Some(*action));
            assert!(!action.contexts().is_empty());
        }
        assert_eq!(KeyAction::parse("noop"), None);
    }

    // ----------------------------------------------------------------- help and command bar

    #[test]
    fn help_lists_context_rows_then_global() {
        let rows = defaults().help(Context::Queue);
        let first_global = rows
            .iter()
            .position(|r| r.context == Context::Global)
            .expect("global rows follow");
        assert!(first_global > 0);
        assert!(rows[..first_global]
            .iter()
            .all(|r| r.context == Context::Queue));
        assert!(rows[first_global..]
            .iter()
            .all(|r| r.context == Context::Global));
        assert_eq!(rows[0].action, KeyAction::ToggleMark);
        assert_eq!(rows[0].keys, "Space");
    }

    #[test]
    fn help_merges_the_keys_of_one_action() {
        let rows = defaults().help(Context::Queue);
        let top = rows
            .iter()
            .find(|r| r.action == KeyAction::Top)
            .expect("top is bound");
        assert_eq!(top.keys, "g g, Home");
        assert_eq!(top.desc, "Go to the top");
    }

    #[test]
    fn help_leaves_out_shadowed_global_rows() {
        let rows = defaults().help(Context::Tree);
        assert!(rows.iter().all(|r| r.action != KeyAction::Right));
        assert!(rows.iter().any(|r| r.action == KeyAction::Expand));
    }

    #[test]
    fn help_follows_a_user_override() {
        let user = "[[queue]]\non = \"Enter\"\nrun = \"complete\"\ndesc = \"Complete it\"\n";
        let map = defaults().with_user(user, "user.toml").expect("valid");
        let rows = map.help(Context::Queue);
        let complete = rows
            .iter()
            .find(|r| r.action == KeyAction::Complete)
            .expect("complete is bound");
        assert_eq!(complete.keys, "c, Enter");
        assert!(rows.iter().all(|r| r.action != KeyAction::Open));
    }

    #[test]
    fn command_bar_shows_context_actions_then_keeps_help() {
        let bar = defaults().command_bar(Context::Queue, 4);
        let expected = [
            ("Space", "mark"),
            ("c", "complete"),
            ("C", "cancel"),
            ("?", "help"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, l)| (k.to_string(), l.to_string()))
            .collect();
        assert_eq!(bar, expected);
    }

    #[test]
    fn command_bar_ends_with_global_essentials_when_there_is_room() {
        let bar = defaults().command_bar(Context::Throttle, 10);
        let labels: Vec<&str> = bar.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "run batch",
                "open",
                "back",
                "filter",
                "command",
                "help",
                "quit"
            ]
        );
        assert!(defaults().command_bar(Context::Queue, 0).is_empty());
    }

    #[test]
    fn default_file_partners_keys() {
        let map = defaults();
        assert_eq!(
            action_of(&map, Context::Partners, "p"),
            Match::Action(KeyAction::PausePartner)
        );
        assert_eq!(
            action_of(&map, Context::Partners, "r"),
            Match::Action(KeyAction::ResumePartner)
        );
        assert_eq!(
            action_of(&map, Context::Partners, "j"),
            Match::Action(KeyAction::Down)
        );
        let bar = defaults().command_bar(Context::Partners, 3);
        let labels: Vec<&str> = bar.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(labels, ["pause", "resume", "help"]);
    }

    // ----------------------------------------------------------------- never panics

    /// A keymap-looking file built from arbitrary pieces.
    fn keymap_like() -> impl Strategy<Value = String> {
        let context = prop::sample::select(vec![
            "global", "queue", "tree", "confirm", "help", "queu", "",
        ]);
        let on = prop_oneof![
            "[A-Za-z0-9?/: -]{0,8}".prop_map(|s| format!("{s:?}")),
            prop::collection::vec("[A-Za-z-]{0,5}", 0..3).prop_map(|v| format!("{v:?}")),
            Just("5".to_string()),
        ];
        let run = prop::sample::select(vec!["quit", "top", "retry", "noop", "bogus", "confirm"]);
        let row = (context, on, run).prop_map(|(c, on, run)| {
            format!("[[{c}]]\non = {on}\nrun = \"{run}\"\ndesc = \"d\"\n")
        });
        prop::collection::vec(row, 0..8).prop_map(|rows| rows.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC*") {
            let _ = Keymap::parse(&text, "p.toml");
            let _ = defaults().with_user(&text, "p.toml");
        }

        #[test]
        fn keymap_like_text_never_panics(text in keymap_like()) {
            if let Ok(map) = Keymap::parse(&text, "p.toml") {
                let _ = map.help(Context::Queue);
                let _ = map.command_bar(Context::Tree, 5);
            }
            let _ = defaults().with_user(&text, "p.toml");
        }

        #[test]
        fn errors_name_a_line_within_the_file(text in keymap_like()) {
            if let Err(error) = Keymap::parse(&text, "p.toml") {
                let line = error.line().unwrap_or(0);
                prop_assert!(line >= 1 && line <= text.lines().count().max(1));
            }
        }

        #[test]
        fn a_parsed_key_displays_as_a_name_that_parses_back(name in "\\PC{0,12}") {
            if let Ok(key) = name.parse::<Key>() {
                prop_assert_eq!(key.to_string().parse::<Key>(), Ok(key));
            }
        }
    }
}
