//! The desk's model and its update function (The Elm Architecture).
//!
//! `update` takes the model and one action and returns effects (requests for the runtime, quit);
//! it never touches the terminal and never waits on the engine. Data for the views is read
//! through the [`crate::client::Api`] when the view or the data changes, not per frame.

use super::keymap::{Context, KeyAction, Keymap};
use crate::client::Request;
use crate::domain::{Capability, Instant, Role};
use crate::runtime::Notice;
use tui_input::{Input, InputRequest};

/// The views of the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Counts, errors and the last 24 hours.
    Overview,
    /// The open work-order queue.
    Queue,
    /// One work order's detail, open or closed.
    WorkOrder,
    /// Orchestration activities.
    Orchestrations,
    /// The error inbox: counts by error code.
    Errors,
    /// One activity's hierarchy.
    Tree,
    /// A customer's activity feed.
    Feed,
    /// The Remote Disconnect throttle.
    Throttle,
    /// The partner systems the engine delivers to.
    Partners,
    /// Operator actions.
    Audit,
}

impl View {
    /// The keymap context of the view.
    pub fn context(self) -> Context {
        match self {
            View::Queue => Context::Queue,
            View::WorkOrder => Context::WorkOrder,
            View::Orchestrations | View::Errors => Context::Orchestrations,
            View::Tree => Context::Tree,
            View::Feed => Context::Feed,
            // The overview has no keys of its own but Enter, which the global table binds.
            View::Overview => Context::Global,
            View::Throttle => Context::Throttle,
            View::Partners => Context::Partners,
            View::Audit => Context::Audit,
        }
    }

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            View::Queue => "Queue",
            View::WorkOrder => "Work order",
            View::Orchestrations => "Orchestrations",
            View::Errors => "Error inbox",
            View::Tree => "Hierarchy",
            View::Feed => "Feed",
            View::Overview => "Overview",
            View::Throttle => "Throttle",
            View::Partners => "Partners",
            View::Audit => "Audit",
        }
    }

    /// The view `[desk.start]` names.
    pub fn from_start(start: crate::config::StartView) -> View {
        use crate::config::StartView as S;
        match start {
            S::Overview => View::Overview,
            S::Queue => View::Queue,
            S::Orchestrations => View::Orchestrations,
            S::Errors => View::Errors,
            S::Feed => View::Feed,
            S::Throttle => View::Throttle,
            S::Partners => View::Partners,
            S::Audit => View::Audit,
        }
    }

    /// The short name on the tab bar.
    pub fn tab(self) -> &'static str {
        match self {
            View::Errors => "Errors",
            View::Orchestrations => "Orch",
            View::Tree => "Tree",
            View::WorkOrder => "WO",
            other => other.title(),
        }
    }

    /// The views reachable with next/previous, in tab order (the digit keys follow it; the
    /// hierarchy opens from a list and has no digit).
    pub const TABS: [View; 9] = [
        View::Overview,
        View::Queue,
        View::Orchestrations,
        View::Errors,
        View::Feed,
        View::Throttle,
        View::Partners,
        View::Audit,
        View::Tree,
    ];
}

/// What a text prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// `/`: filter the current list.
    Filter,
    /// `:`: jump to a view or an id.
    CommandLine,
    /// The reason for cancelling the marked work orders.
    CancelOrders(Vec<String>),
    /// Who to assign the marked (or selected) work orders to.
    Assign(Vec<String>),
    /// The cancel reason code for a Cancel Orchestration (optionally one child).
    CancelOrchestration { id: String, related: Option<String> },
    /// Comments for an Update Orchestration (optionally one child).
    Update { id: String, related: Option<String> },
    /// The text of a discard.
    Discard(String),
    /// The reason for cancelling a field activity by hand.
    CancelFa(String),
    /// The file to export the current list to (.csv or .json).
    Export,
    /// The reason for discarding every activity of a list.
    DiscardAll(Vec<String>),
    /// The cancel reason code for a Cancel Orchestration of each marked orchestration.
    CancelMarked(Vec<String>),
    /// Comments for an Update Orchestration of each marked orchestration.
    UpdateMarked(Vec<String>),
    /// Text for the current view's own prompt (the tag says which).
    View(&'static str),
    /// One field of a request in VALIDATION_ERROR being corrected.
    Correct(Box<super::correct::Correction>),
}

/// A popup over the view.
#[derive(Debug, Clone)]
pub enum Popup {
    /// The help overlay, generated from the live keymap.
    Help,
    /// A yes/no question before a destructive action.
    Confirm {
        /// The question, stating what and how many.
        question: String,
        /// What to do on yes: one request per row acted on, or one bulk request.
        requests: Vec<Request>,
        /// For more than [`TYPE_THE_COUNT_ABOVE`] rows: the count the operator must type.
        typed: Option<TypedCount>,
    },
    /// A one-line text prompt.
    Input {
        /// What is asked.
        prompt: String,
        /// The line being edited (cursor, readline keys, yank).
        input: Input,
        /// What it is for.
        purpose: Purpose,
        /// Why the last submission was refused: the text stays for correction.
        error: Option<String>,
        /// The prefilled value is untouched: typing replaces it, as a selected field does;
        /// moving the cursor keeps it for editing.
        fresh: bool,
    },
}

/// A bulk action on more rows than this asks for the number to be typed, not just `y`.
pub const TYPE_THE_COUNT_ABOVE: usize = 50;

/// The count a large bulk action waits for, and what has been typed so far.
#[derive(Debug, Clone)]
pub struct TypedCount {
    /// How many rows the action takes.
    pub expected: usize,
    /// What the operator typed.
    pub input: Input,
    /// Why the last answer was not taken.
    pub error: Option<String>,
}

/// A message shown for a few seconds in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// What happened.
    pub text: String,
    /// An error or refusal (shown in red).
    pub error: bool,
}

/// What the event loop must do after an update.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Send a request to the engine task.
    Send(Request),
    /// Leave the desk.
    Quit,
    /// Put text on the clipboard (OSC 52, so it works over SSH).
    Clipboard(String),
    /// Write an export file.
    WriteFile {
        /// Where.
        path: std::path::PathBuf,
        /// What.
        contents: String,
    },
}

/// One input to `update`.
#[derive(Debug, Clone)]
pub enum Action {
    /// A bound command.
    Key(KeyAction),
    /// A typed character while a prompt is open.
    Char(char),
    /// Backspace in a prompt.
    Backspace,
    /// A line-editing key in a prompt (cursor motion, readline deletions, yank).
    Edit(InputRequest),
    /// Text pasted into the terminal (bracketed paste): typed into the prompt, never run as keys.
    Paste(String),
    /// Up (-1) or Down (1) in a prompt: moves the choice of its pick list.
    Pick(isize),
    /// Enter in a prompt.
    Submit,
    /// Esc in a prompt.
    Escape,
    /// A notice from the runtime.
    Notice(Notice),
    /// The data may have changed: re-read the current view.
    Refresh,
    /// The engine clock, for the status bar.
    Clock(Instant, f64),
}

pub use super::windowed::Cursor;

/// How far a motion key moves a list cursor, `page` rows being one screen; `None` for other keys.
/// Top and bottom are "very far", which `Cursor::step` clamps to the list's ends.
pub fn motion(key: KeyAction, page: isize) -> Option<isize> {
    match key {
        KeyAction::Up => Some(-1),
        KeyAction::Down => Some(1),
        KeyAction::PageUp => Some(-page),
        KeyAction::PageDown => Some(page),
        KeyAction::Top => Some(isize::MIN / 2),
        KeyAction::Bottom => Some(isize::MAX / 2),
        _ => None,
    }
}

/// Requests sent together after one question, answered one by one.
#[derive(Debug, Clone, Default)]
pub struct Outstanding {
    /// How many were sent.
    pub total: usize,
    /// How many are answered.
    pub answered: usize,
    /// The last success's message.
    pub last: Option<String>,
    /// Every refusal or failure, in order.
    pub refused: Vec<String>,
}

/// The status bar's facts.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Engine time.
    pub clock: Option<Instant>,
    /// Clock speed.
    pub speed: f64,
    /// Orchestrations by state (non-zero).
    pub counts: Vec<(String, usize)>,
    /// The last monitor pass: when and how many transitions.
    pub last_monitor: Option<(Instant, usize)>,
    /// The last batch: released, and how many still wait.
    pub throttle: Option<(usize, usize)>,
    /// Open work orders.
    pub open_orders: usize,
    /// A long action in progress.
    pub busy: Option<String>,
    /// Why the desk cannot reach its server right now (`None`: connected or in-process).
    pub link: Option<String>,
    /// Who is connected to the server: how many, and their names for supervisors.
    pub peers: Option<(usize, Vec<String>)>,
}

/// The desk's model.
pub struct App {
    /// The engine, in this process or on a server: the views read through it.
    pub api: std::sync::Arc<dyn crate::client::Api>,
    /// The live key bindings.
    pub keymap: Keymap,
    /// The current view.
    pub view: View,
    /// The open work-order queue.
    pub queue: super::queue_view::QueueState,
    /// The orchestration list.
    pub orchestrations: super::orch_view::OrchListState,
    /// The error inbox.
    pub errors: super::errors_view::ErrorsState,
    /// The text filter of each list (`/`).
    pub filter: String,
    /// The hierarchy of one activity.
    pub hierarchy: super::tree_view::HierarchyState,
    /// The requests of the last confirmation, while some are unanswered.
    pub outstanding: Option<Outstanding>,
    /// The popup, if any.
    pub popup: Option<Popup>,
    /// The latest message.
    pub toast: Option<Toast>,
    /// Status bar facts.
    pub status: Status,
    /// Rows the list area showed at the last draw (for paging).
    pub page: usize,
    /// Keys of a chord typed so far.
    pub pending: super::keymap::Pending,
    /// The first help row shown.
    pub help_scroll: usize,
    /// The customer feed view.
    pub feed: super::feed_view::FeedState,
    /// The throttle view.
    pub throttle: super::throttle_view::ThrottleState,
    /// The partners view.
    pub partners: super::partners_view::PartnersState,
    /// The audit view.
    pub audit: super::audit_view::AuditState,
    /// The overview.
    pub overview: super::overview_view::OverviewState,
    /// One work order's detail.
    pub work_order: super::wo_view::WoState,
    /// The assign prompt's pick list, while it is open.
    pub pick: Option<super::assign_pick::Pick>,
    /// Where views keep what must survive a restart (filters, windows); none in tests.
    pub state_path: Option<std::path::PathBuf>,
}

impl App {
    /// A desk over `api`, for the operator it acts as.
    pub fn new(api: std::sync::Arc<dyn crate::client::Api>, keymap: Keymap) -> App {
        let mut app = App {
            api,
            keymap,
            view: View::Queue,
            queue: Default::default(),
            orchestrations: Default::default(),
            errors: Default::default(),
            filter: String::new(),
            hierarchy: Default::default(),
            outstanding: None,
            popup: None,
            toast: None,
            status: Status {
                speed: 1.0,
                ..Status::default()
            },
            page: 10,
            pending: super::keymap::Pending::default(),
            help_scroll: 0,
            feed: Default::default(),
            throttle: Default::default(),
            partners: Default::default(),
            audit: Default::default(),
            overview: Default::default(),
            work_order: Default::default(),
            pick: None,
            state_path: None,
        };
        app.refresh();
        app
    }

    /// The keymap context in force (a popup's, else the view's).
    pub fn context(&self) -> Context {
        match &self.popup {
            Some(Popup::Help) => Context::Help,
            Some(Popup::Confirm { .. }) => Context::Confirm,
            _ => self.view.context(),
        }
    }

    /// True while a text prompt (or a count to type) takes the keys.
    pub fn typing(&self) -> bool {
        self.line().is_some()
    }

    /// The line being edited, if a prompt or a count to type is open.
    fn line(&self) -> Option<&Input> {
        match &self.popup {
            Some(Popup::Input { input, .. }) => Some(input),
            Some(Popup::Confirm {
                typed: Some(typed), ..
            }) => Some(&typed.input),
            _ => None,
        }
    }

    fn line_mut(&mut self) -> Option<&mut Input> {
        match &mut self.popup {
            Some(Popup::Input { input, .. }) => Some(input),
            Some(Popup::Confirm {
                typed: Some(typed), ..
            }) => Some(&mut typed.input),
            _ => None,
        }
    }

    fn edit(&mut self, request: InputRequest) -> Vec<Effect> {
        if let Some(Popup::Input { input, fresh, .. }) = &mut self.popup {
            if std::mem::take(fresh) {
                match request {
                    InputRequest::InsertChar(_) => *input = Input::default(),
                    InputRequest::DeletePrevChar | InputRequest::DeleteNextChar => {
                        *input = Input::default();
                        self.typed_anew();
                        return Vec::new();
                    }
                    _ => {}
                }
            }
        }
        if let Some(input) = self.line_mut() {
            if input.handle(request).is_some_and(|change| change.value) {
                self.typed_anew();
            }
        }
        Vec::new()
    }

    /// The text of the prompt changed: a pick list chooses among the new matches from the top.
    fn typed_anew(&mut self) {
        if let Some(pick) = &mut self.pick {
            pick.selected = 0;
        }
    }

    /// Moves the pick list's choice.
    fn pick_step(&mut self, delta: isize) -> Vec<Effect> {
        let typed = self
            .line()
            .map(|i| i.value().to_string())
            .unwrap_or_default();
        if let Some(pick) = &mut self.pick {
            pick.step(delta, &typed);
        }
        Vec::new()
    }

    /// A paste is text, whatever it holds: line breaks become spaces, so a pasted `Enter`
    /// never submits the prompt and nothing after it runs as desk keys.
    fn paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(Popup::Input { input, fresh, .. }) = &mut self.popup {
            if std::mem::take(fresh) {
                *input = Input::default();
            }
        }
        let Some(input) = self.line_mut() else {
            return self.say("pasted text is only taken by a prompt (/ or :)", true);
        };
        let flat: String = text
            .trim_end_matches(['\r', '\n'])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        for c in flat.chars() {
            input.handle(InputRequest::InsertChar(c));
        }
        self.typed_anew();
        Vec::new()
    }

    /// Applies one action; returns what the event loop must do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Char(c) => self.edit(InputRequest::InsertChar(c)),
            Action::Backspace => self.edit(InputRequest::DeletePrevChar),
            Action::Edit(request) => self.edit(request),
            Action::Paste(text) => self.paste(&text),
            Action::Pick(delta) => self.pick_step(delta),
            Action::Submit => match &self.popup {
                Some(Popup::Confirm { .. }) => self.answer_typed_count(),
                _ => self.submit(),
            },
            Action::Escape => {
                if matches!(self.popup, Some(Popup::Confirm { .. })) {
                    self.toast = Some(Toast {
                        text: "nothing was changed".into(),
                        error: false,
                    });
                }
                self.popup = None;
                self.pick = None;
                Vec::new()
            }
            Action::Notice(notice) => {
                self.on_notice(notice);
                Vec::new()
            }
            Action::Refresh => {
                self.refresh();
                Vec::new()
            }
            Action::Clock(at, speed) => {
                self.status.clock = Some(at);
                self.status.speed = speed;
                // The partners' state is not announced by notices: the view polls while shown.
                if self.view == View::Partners {
                    super::partners_view::tick(self);
                }
                Vec::new()
            }
        }
    }

    fn on_key(&mut self, key: KeyAction) -> Vec<Effect> {
        match (&self.popup, key) {
            (Some(Popup::Confirm { typed: None, .. }), KeyAction::Confirm) => {
                let Some(Popup::Confirm { requests, .. }) = self.popup.take() else {
                    return Vec::new();
                };
                return self.send_confirmed(requests);
            }
            (Some(Popup::Confirm { .. }), KeyAction::Deny | KeyAction::Back) => {
                self.popup = None;
                self.toast = Some(Toast {
                    text: "nothing was changed".into(),
                    error: false,
                });
                return Vec::new();
            }
            (Some(Popup::Help), KeyAction::Back | KeyAction::Help | KeyAction::Quit) => {
                self.popup = None;
                return Vec::new();
            }
            (Some(Popup::Help), KeyAction::Up | KeyAction::PageUp | KeyAction::Top) => {
                let step = if key == KeyAction::Up { 1 } else { self.page };
                self.help_scroll = if key == KeyAction::Top {
                    0
                } else {
                    self.help_scroll.saturating_sub(step)
                };
                return Vec::new();
            }
            (Some(Popup::Help), KeyAction::Down | KeyAction::PageDown | KeyAction::Bottom) => {
                let rows = super::views::help_len(self);
                let step = if key == KeyAction::Down { 1 } else { self.page };
                self.help_scroll = (self.help_scroll + step).min(rows.saturating_sub(1));
                return Vec::new();
            }
            (Some(_), _) => return Vec::new(),
            (None, _) => {}
        }
        // A role's impossible action is refused before any prompt or confirmation.
        if let Some(refusal) = key.capability().and_then(|c| self.refusal(c)) {
            return self.say(&refusal, true);
        }
        match key {
            KeyAction::Quit => vec![Effect::Quit],
            KeyAction::Help => {
                self.help_scroll = 0;
                self.popup = Some(Popup::Help);
                Vec::new()
            }
            KeyAction::CommandLine => self.prompt(":", String::new(), Purpose::CommandLine),
            KeyAction::Filter => self.prompt("/", self.filter.clone(), Purpose::Filter),
            KeyAction::NextView | KeyAction::PrevView => {
                let current = match self.view {
                    View::WorkOrder => View::Queue,
                    view => view,
                };
                let at = View::TABS.iter().position(|v| *v == current).unwrap_or(0);
                let step = if key == KeyAction::NextView {
                    1
                } else {
                    View::TABS.len() - 1
                };
                self.go(View::TABS[(at + step) % View::TABS.len()]);
                Vec::new()
            }
            KeyAction::GoQueue => self.go_then(View::Queue),
            KeyAction::GoOrchestrations => self.go_then(View::Orchestrations),
            KeyAction::GoErrors => self.go_then(View::Errors),
            KeyAction::GoFeed => self.go_then(View::Feed),
            KeyAction::GoOverview => self.go_then(View::Overview),
            KeyAction::GoThrottle => self.go_then(View::Throttle),
            KeyAction::GoPartners => self.go_then(View::Partners),
            KeyAction::GoAudit => self.go_then(View::Audit),
            KeyAction::Copy => match self.copy_text() {
                Some(text) => {
                    self.toast = Some(Toast {
                        text: format!("copied {}", first_line(&text)),
                        error: false,
                    });
                    vec![Effect::Clipboard(text)]
                }
                None => self.say("nothing selected to copy", true),
            },
            KeyAction::Export => {
                let name = format!("orderdesk-{}.csv", self.view.tab().to_ascii_lowercase());
                self.prompt("Export the list to (.csv or .json)", name, Purpose::Export)
            }
            KeyAction::Refresh => {
                self.refresh();
                vec![Effect::Send(Request::MonitorNow)]
            }
            k if self.has_list() && motion(k, self.page as isize).is_some() => {
                let delta = motion(k, self.page as isize).unwrap_or(0);
                self.move_cursor(delta)
            }
            KeyAction::Back if self.has_list() => {
                self.back();
                Vec::new()
            }
            _ => match self.view {
                View::Feed => super::feed_view::key(self, key),
                View::Throttle => super::throttle_view::key(self, key),
                View::Partners => super::partners_view::key(self, key),
                View::Audit => super::audit_view::key(self, key),
                View::Overview => super::overview_view::key(self, key),
                View::WorkOrder => super::wo_view::key(self, key),
                View::Queue => super::queue_view::key(self, key),
                View::Orchestrations => super::orch_view::key(self, key),
                View::Errors => super::errors_view::key(self, key),
                View::Tree => super::tree_view::key(self, key),
            },
        }
    }

    /// True for the views whose lists this module moves (the others move their own).
    fn has_list(&self) -> bool {
        matches!(
            self.view,
            View::Queue | View::Orchestrations | View::Errors | View::Tree
        )
    }

    fn go_then(&mut self, view: View) -> Vec<Effect> {
        self.go(view);
        Vec::new()
    }

    /// Switches to a view and reads its data.
    pub fn go(&mut self, view: View) {
        if self.view != view {
            self.filter.clear();
        }
        self.view = view;
        self.refresh();
    }

    fn back(&mut self) {
        match self.view {
            View::Tree => super::tree_view::back(self),
            View::Orchestrations => super::orch_view::back(self),
            _ if !self.filter.is_empty() => {
                self.filter.clear();
                self.refresh();
            }
            _ => {}
        }
    }

    /// Opens a one-line prompt.
    pub fn prompt(&mut self, prompt: &str, text: String, purpose: Purpose) -> Vec<Effect> {
        self.popup = Some(Popup::Input {
            prompt: prompt.to_string(),
            fresh: !text.is_empty(),
            input: Input::new(text),
            purpose,
            error: None,
        });
        self.toast = None;
        self.pick = None;
        Vec::new()
    }

    /// Asks before sending `request`.
    pub fn confirm(&mut self, question: String, request: Request) -> Vec<Effect> {
        self.confirm_rows(question, vec![request], 1)
    }

    /// Asks before sending `requests`, which act on `rows` rows: above
    /// [`TYPE_THE_COUNT_ABOVE`] the operator types the count instead of `y`, because a slip of
    /// one key must not change a hundred orders.
    pub fn confirm_rows(
        &mut self,
        question: String,
        requests: Vec<Request>,
        rows: usize,
    ) -> Vec<Effect> {
        let typed = (rows > TYPE_THE_COUNT_ABOVE).then(|| TypedCount {
            expected: rows,
            input: Input::default(),
            error: None,
        });
        self.popup = Some(Popup::Confirm {
            question,
            requests,
            typed,
        });
        // The bar shows the answers, not an older message.
        self.toast = None;
        Vec::new()
    }

    /// Enter on a confirmation that waits for the count: the count goes ahead, anything
    /// else stays open with why.
    fn answer_typed_count(&mut self) -> Vec<Effect> {
        let Some(Popup::Confirm {
            typed: Some(typed), ..
        }) = &mut self.popup
        else {
            return Vec::new();
        };
        let answer = typed.input.value().trim().to_string();
        if answer.parse::<usize>().ok() == Some(typed.expected) {
            let Some(Popup::Confirm { requests, .. }) = self.popup.take() else {
                return Vec::new();
            };
            return self.send_confirmed(requests);
        }
        typed.error = Some(if answer.is_empty() {
            format!("type {} to go ahead, or Esc", typed.expected)
        } else {
            format!(
                "{answer} is not {}: type {} to go ahead, or Esc",
                typed.expected, typed.expected
            )
        });
        Vec::new()
    }

    /// Sends requests already agreed to, saying the desk is at work.
    pub fn send_confirmed(&mut self, requests: Vec<Request>) -> Vec<Effect> {
        self.toast = Some(Toast {
            text: "working…".into(),
            error: false,
        });
        self.outstanding = (requests.len() > 1).then(|| Outstanding {
            total: requests.len(),
            ..Outstanding::default()
        });
        requests.into_iter().map(Effect::Send).collect()
    }

    /// Counts one answer to a request of the batch sent together; `Some(summary)` once the
    /// last is in (the summary is an error when any was refused), `None` while some are
    /// outstanding, and the answer itself when no batch is out.
    fn answered(&mut self, outcome: Result<String, String>) -> Option<Toast> {
        let Some(batch) = &mut self.outstanding else {
            let (text, error) = match outcome {
                Ok(text) => (text, false),
                Err(text) => (text, true),
            };
            return Some(Toast { text, error });
        };
        match outcome {
            Ok(text) => batch.last = Some(text),
            Err(text) => batch.refused.push(text),
        }
        let answered = batch.answered + 1;
        batch.answered = answered;
        if answered < batch.total {
            return Some(Toast {
                text: format!("working… {answered} of {} answered", batch.total),
                error: false,
            });
        }
        let batch = self.outstanding.take()?;
        let done = batch.total - batch.refused.len();
        Some(match batch.refused.first() {
            None => Toast {
                text: format!(
                    "all {} done (the last: {})",
                    batch.total,
                    batch.last.unwrap_or_default()
                ),
                error: false,
            },
            Some(first) => Toast {
                text: format!(
                    "{done} of {} done, {} refused; the first: {first}",
                    batch.total,
                    batch.refused.len()
                ),
                error: true,
            },
        })
    }

    /// Moves the current list's cursor by `delta` rows.
    pub fn move_cursor(&mut self, delta: isize) -> Vec<Effect> {
        let read = match self.view {
            View::Queue => super::queue_view::step(self, delta),
            View::Orchestrations => super::orch_view::step(self, delta),
            View::Errors => {
                super::errors_view::step(self, delta);
                Ok(())
            }
            View::Tree => {
                super::tree_view::step(self, delta);
                Ok(())
            }
            // These views move their own lists.
            View::Feed
            | View::Throttle
            | View::Partners
            | View::Audit
            | View::Overview
            | View::WorkOrder => Ok(()),
        };
        if let Err(err) = read {
            return self.say(&format!("cannot read the database: {err}"), true);
        }
        Vec::new()
    }

    /// Opens the hierarchy of an activity.
    pub fn open_tree(&mut self, id: &str) {
        super::tree_view::open(self, id);
    }

    /// Why this operator may not use `capability`, in the engine's own words (`None`: they may).
    pub fn refusal(&self, capability: Capability) -> Option<String> {
        let session = self.api.session();
        match session.role {
            Some(role) if crate::domain::permits(role, capability) => None,
            role => Some(crate::domain::refusal(&session.operator, role, capability)),
        }
    }

    /// Whether this operator may do what `action` does (the hint bar offers only those).
    pub fn may(&self, action: KeyAction) -> bool {
        action
            .capability()
            .is_none_or(|capability| self.refusal(capability).is_none())
    }

    /// Why `action` does nothing in this view now (`None`: it acts): the view knows (a
    /// correction only for a request in VALIDATION_ERROR, a queue action only on an order).
    pub fn unavailable(&self, action: KeyAction) -> Option<&'static str> {
        match self.view {
            View::Queue => super::queue_view::unavailable(self, action),
            View::Orchestrations => super::orch_view::unavailable(self, action),
            View::Errors => super::errors_view::unavailable(self, action),
            View::Tree => super::tree_view::unavailable(self, action),
            View::Audit => super::audit_view::unavailable(self, action),
            View::Feed => super::feed_view::unavailable(self, action),
            View::Partners => super::partners_view::unavailable(self, action),
            View::WorkOrder => super::wo_view::unavailable(self, action),
            View::Throttle | View::Overview => None,
        }
    }

    /// Whether the hint bar offers `action` here: the role may, and it acts on what is
    /// selected, so no key offered is dead.
    pub fn offers(&self, action: KeyAction) -> bool {
        self.may(action) && self.unavailable(action).is_none()
    }

    /// Opens the view the configuration gives this operator's role, reading its saved state
    /// (the feed's customer and filters) from `state_path`, which belongs to this operator.
    pub fn start(&mut self, state_path: Option<std::path::PathBuf>) {
        self.state_path = state_path;
        let view = View::from_start(self.config().desk.start.for_role(self.role()));
        self.view = view;
        self.refresh();
    }

    /// Who is at the desk.
    pub fn operator(&self) -> &str {
        &self.api.session().operator
    }

    /// Their role (`None`: may only look).
    pub fn role(&self) -> Option<Role> {
        self.api.session().role
    }

    /// The configuration the engine runs under (the server's, on a server).
    pub fn config(&self) -> &crate::config::Config {
        &self.api.session().config
    }

    /// Tells how many rows are marked now.
    pub fn say_marked(&mut self, marked: usize) -> Vec<Effect> {
        let text = format!("{marked} marked: the next action takes them all (U clears)");
        self.say(&text, false)
    }

    /// Shows a message in the status line.
    pub fn say(&mut self, text: &str, error: bool) -> Vec<Effect> {
        self.toast = Some(Toast {
            text: text.to_string(),
            error,
        });
        Vec::new()
    }

    // ---- prompts -----------------------------------------------------------------------------

    fn submit(&mut self) -> Vec<Effect> {
        let Some(Popup::Input {
            prompt,
            input,
            purpose,
            ..
        }) = self.popup.take()
        else {
            return Vec::new();
        };
        let text = input.value().trim().to_string();
        self.toast = None;
        let effects = self.apply_input(text, purpose.clone());
        // A refused entry stays in its prompt, with why, to be corrected rather than retyped.
        if self.popup.is_none() && effects.is_empty() {
            if let Some(refusal) = self.toast.take_if(|t| t.error) {
                self.popup = Some(Popup::Input {
                    prompt,
                    input,
                    purpose,
                    error: Some(refusal.text),
                    fresh: false,
                });
            }
        }
        effects
    }

    fn apply_input(&mut self, text: String, purpose: Purpose) -> Vec<Effect> {
        match purpose {
            Purpose::Filter => {
                self.filter = text;
                self.queue.list.cursor = Cursor::default();
                self.orchestrations.list.cursor = Cursor::default();
                self.refresh();
                Vec::new()
            }
            Purpose::CommandLine => self.command_line(&text),
            Purpose::Correct(correction) => super::correct::answer(self, *correction, text),
            Purpose::Export if !text.is_empty() => {
                let json = text.to_ascii_lowercase().ends_with(".json");
                match super::export::current_list(self, json) {
                    Some(contents) => vec![Effect::WriteFile {
                        path: text.into(),
                        contents,
                    }],
                    None => self.say("this view has no list to export", true),
                }
            }
            Purpose::View(tag) => match self.view {
                View::Feed => super::feed_view::input(self, tag, text),
                View::Throttle => super::throttle_view::input(self, tag, text),
                View::Partners => super::partners_view::input(self, tag, text),
                View::Audit => super::audit_view::input(self, tag, text),
                View::Overview => super::overview_view::input(self, tag, text),
                _ => Vec::new(),
            },
            Purpose::CancelOrders(_) | Purpose::Assign(_) => {
                super::queue_view::answer(self, purpose, text)
            }
            purpose => super::activity_actions::answer(self, purpose, text),
        }
    }

    /// `:` — a view name, or a kind and an id (`:so SO-12`, `:wo WO-3`, `:sp SP-1`).
    fn command_line(&mut self, text: &str) -> Vec<Effect> {
        let mut words = text.split_whitespace();
        let head = words.next().unwrap_or("").to_ascii_lowercase();
        let arg = words.next().map(str::to_string);
        match (head.as_str(), arg) {
            ("q" | "quit", _) => vec![Effect::Quit],
            ("queue" | "wo", None) => self.go_then(View::Queue),
            ("orch" | "orchestrations" | "so", None) => self.go_then(View::Orchestrations),
            ("errors" | "error", None) => self.go_then(View::Errors),
            ("so" | "ma" | "fa" | "sc" | "show", Some(id)) => {
                self.open_tree(&id.to_ascii_uppercase());
                Vec::new()
            }
            ("wo", Some(id)) => super::queue_view::jump(self, &id.to_ascii_uppercase()),
            ("sp", Some(sp)) => {
                super::orch_view::at_service_point(self, &sp);
                Vec::new()
            }
            _ if text.contains('-') && !text.contains(' ') => {
                self.open_tree(&text.to_ascii_uppercase());
                Vec::new()
            }
            _ => self.say(&format!("unknown command `:{text}` (try :queue, :orch, :errors, :so ID, :wo ID, :sp ID)"), true),
        }
    }

    // ---- notices and data --------------------------------------------------------------------

    fn on_notice(&mut self, notice: Notice) {
        match notice {
            Notice::Changed { .. } => self.refresh(),
            Notice::MonitorPass {
                at, transitions, ..
            } => {
                self.status.last_monitor = Some((at, transitions));
                if transitions > 0 {
                    self.refresh();
                }
            }
            Notice::Crwto { report, manual, .. } => {
                self.status.throttle =
                    Some((report.released.len(), report.remaining + report.not_yet_due));
                if manual {
                    self.toast = Some(Toast {
                        text: format!(
                            "D1-CRWTO released {}, {} still waiting",
                            report.released.len(),
                            report.remaining + report.not_yet_due
                        ),
                        error: false,
                    });
                }
                self.refresh();
            }
            Notice::Done { message, .. } => {
                self.status.busy = None;
                self.queue.list.marks.clear();
                self.orchestrations.list.marks.clear();
                self.errors.marks.clear();
                self.toast = self.answered(Ok(message));
                self.refresh();
            }
            Notice::Refused { code, message, .. } => {
                self.status.busy = None;
                self.toast = self.answered(Err(format!("refused ({code}): {message}")));
            }
            Notice::Failed {
                ticket: Some(_),
                message,
            } => {
                self.status.busy = None;
                self.toast = self.answered(Err(message));
            }
            Notice::Failed {
                ticket: None,
                message,
            } => {
                self.status.busy = None;
                self.toast = Some(Toast {
                    text: message,
                    error: true,
                });
            }
            Notice::Busy { what } => self.status.busy = Some(what),
            Notice::Link { up, message } => {
                self.status.link = (!up).then(|| message.clone());
                self.toast = Some(Toast {
                    text: message,
                    error: !up,
                });
                if up {
                    self.refresh();
                }
            }
            Notice::Sessions { count, names } => self.status.peers = Some((count, names)),
            Notice::Ended { message } => {
                self.status.link = Some(message.clone());
                self.toast = Some(Toast {
                    text: message,
                    error: true,
                });
            }
            Notice::Stopped => {}
        }
    }

    /// What `copy` takes: the selected id, or in the hierarchy the selected node's id.
    fn copy_text(&self) -> Option<String> {
        match self.view {
            View::Queue => super::queue_view::copy(self),
            View::Orchestrations => super::orch_view::copy(self),
            View::Errors => super::errors_view::copy(self),
            View::Tree => super::tree_view::copy(self),
            View::Feed => self
                .feed
                .items
                .get(self.feed.cursor.selected)
                .map(|i| i.id.clone()),
            View::Audit => self
                .audit
                .entries
                .get(self.audit.cursor.selected)
                .map(|e| e.ids.join(",")),
            View::Throttle => super::throttle_view::selected_command(self),
            View::Partners => super::partners_view::selected_partner(self),
            View::Overview => None,
            View::WorkOrder => super::wo_view::shown(self),
        }
    }

    /// Re-reads the current view's data and the status counts.
    pub fn refresh(&mut self) {
        if let Err(err) = self.load() {
            self.toast = Some(Toast {
                text: format!("cannot read the database: {err}"),
                error: true,
            });
        }
    }

    fn load(&mut self) -> Result<(), crate::engine::EngineError> {
        self.status.open_orders = self.api.queue_len()?;
        self.status.counts = self.api.counts_by_state()?;
        match self.view {
            View::Queue => super::queue_view::load(self)?,
            View::Orchestrations => super::orch_view::load(self)?,
            View::Errors => super::errors_view::load(self)?,
            View::Tree => super::tree_view::load(self)?,
            View::Feed => super::feed_view::load(self)?,
            View::Throttle => super::throttle_view::load(self)?,
            View::Partners => super::partners_view::load(self)?,
            View::Audit => super::audit_view::load(self)?,
            View::Overview => super::overview_view::load(self)?,
            View::WorkOrder => super::wo_view::load(self)?,
        }
        Ok(())
    }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    line.get(..60).unwrap_or(line)
}
