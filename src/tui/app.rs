//! The desk's model and its update function (The Elm Architecture).
//!
//! `update` takes the model and one action and returns effects (requests for the runtime, quit);
//! it never touches the terminal and never waits on the engine. Data for the views is read
//! through the [`crate::client::Api`] when the view or the data changes, not per frame.

use super::keymap::{Context, KeyAction, Keymap};
use crate::client::Request;
use crate::domain::{ActivityType, Capability, Instant, Role};
use crate::engine::{ActivityRow, ActivityTree, ListFilter, Near};
use crate::lifecycle::OrchState;
use crate::runtime::Notice;
use crate::workorders::{Assignee, WorkOrder};
use std::collections::BTreeSet;
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

/// A list's cursor: the selected row and the first row on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The selected row.
    pub selected: usize,
    /// The first visible row.
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len`.
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, len as isize - 1) as usize;
    }

    /// Keeps the selection on screen for a list `height` rows high.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }
}

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
    /// The window of open work orders read around the cursor, in queue order (after filters).
    pub orders: Vec<WorkOrder>,
    /// The position of `orders[0]` in the whole (filtered) queue.
    pub orders_from: usize,
    /// What `orders` was read with (mine, text): a later window is walked from a held row
    /// only when it belongs to the same list.
    orders_read_with: Option<(bool, String)>,
    /// How many orders the whole (filtered) queue has.
    pub orders_total: usize,
    /// The queue's cursor.
    pub queue_cursor: Cursor,
    /// Marked work orders.
    pub marks: BTreeSet<String>,
    /// Marked orchestrations (activity ids) in the orchestration list.
    pub orch_marks: BTreeSet<String>,
    /// Marked error groups (error codes) in the error inbox.
    pub error_marks: BTreeSet<String>,
    /// Only the orders scheduled for me.
    pub mine: bool,
    /// The window of orchestration rows read around the cursor (after filters).
    pub activities: Vec<ActivityRow>,
    /// The position of `activities[0]` in the whole (filtered) list.
    pub activities_from: usize,
    /// The filter `activities` was read with (`None`: the stuck lens, held whole).
    activities_read_with: Option<ListFilter>,
    /// How many rows the whole (filtered) list has.
    pub activities_total: usize,
    /// The orchestration list's cursor.
    pub orch_cursor: Cursor,
    /// State filter (None: all).
    pub state_filter: Option<OrchState>,
    /// Type filter (None: all).
    pub type_filter: Option<ActivityType>,
    /// Error-code filter, from the error inbox.
    pub code_filter: Option<String>,
    /// Service-point filter, from `:sp` (the exact id).
    pub sp_filter: Option<String>,
    /// The "stuck" lens is on: the list shows what rests too long, with why.
    pub stuck: bool,
    /// Why each row of the stuck lens is there, by id.
    pub stuck_why: std::collections::BTreeMap<String, String>,
    /// The error inbox: (code, count).
    pub error_groups: Vec<(String, usize)>,
    /// The error inbox's cursor.
    pub errors_cursor: Cursor,
    /// The text filter of each list (`/`).
    pub filter: String,
    /// The activity shown in the hierarchy.
    pub tree: Option<ActivityTree>,
    /// The view the hierarchy was opened from (Esc returns there).
    pub tree_from: View,
    /// The hierarchy's expand/select state.
    pub tree_state: tui_tree_widget::TreeState<String>,
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
            orders: Vec::new(),
            orders_from: 0,
            orders_read_with: None,
            orders_total: 0,
            queue_cursor: Cursor::default(),
            marks: BTreeSet::new(),
            orch_marks: BTreeSet::new(),
            error_marks: BTreeSet::new(),
            mine: false,
            activities: Vec::new(),
            activities_from: 0,
            activities_read_with: None,
            activities_total: 0,
            orch_cursor: Cursor::default(),
            state_filter: None,
            type_filter: None,
            code_filter: None,
            sp_filter: None,
            stuck: false,
            stuck_why: std::collections::BTreeMap::new(),
            error_groups: Vec::new(),
            errors_cursor: Cursor::default(),
            filter: String::new(),
            tree: None,
            tree_from: View::Orchestrations,
            tree_state: tui_tree_widget::TreeState::default(),
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
                _ if matches!(key, KeyAction::Open | KeyAction::Right)
                    && self.view != View::Tree =>
                {
                    self.open()
                }
                View::Queue => self.queue_key(key),
                View::Orchestrations | View::Errors => self.orch_key(key),
                View::Tree => self.tree_key(key),
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
            View::Tree => self.go(self.tree_from),
            View::Orchestrations if self.code_filter.is_some() => {
                self.code_filter = None;
                self.go(View::Errors);
            }
            View::Orchestrations if self.sp_filter.is_some() => {
                self.sp_filter = None;
                self.refresh();
            }
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

    fn send_confirmed(&mut self, requests: Vec<Request>) -> Vec<Effect> {
        self.toast = Some(Toast {
            text: "working…".into(),
            error: false,
        });
        requests.into_iter().map(Effect::Send).collect()
    }

    fn move_cursor(&mut self, delta: isize) -> Vec<Effect> {
        let page = self.page;
        match self.view {
            View::Queue => {
                self.queue_cursor.step(delta, self.orders_total);
                self.queue_cursor.scroll_into_view(page);
                self.follow_cursor();
            }
            View::Orchestrations => {
                self.orch_cursor.step(delta, self.activities_total);
                self.orch_cursor.scroll_into_view(page);
                self.follow_cursor();
            }
            View::Errors => {
                self.errors_cursor.step(delta, self.error_groups.len());
                self.errors_cursor.scroll_into_view(page);
            }
            View::Tree => {
                let steps = delta.unsigned_abs().min(10_000);
                for _ in 0..steps {
                    if delta < 0 {
                        self.tree_state.key_up();
                    } else {
                        self.tree_state.key_down();
                    }
                }
            }
            // These views move their own lists.
            View::Feed
            | View::Throttle
            | View::Partners
            | View::Audit
            | View::Overview
            | View::WorkOrder => {}
        }
        Vec::new()
    }

    fn open(&mut self) -> Vec<Effect> {
        match self.view {
            View::Queue => {
                if let Some(id) = self.selected_order().map(|w| w.id.clone()) {
                    return super::wo_view::open(self, &id);
                }
            }
            View::Orchestrations => {
                if let Some(row) = self.activity_at(self.orch_cursor.selected) {
                    let id = row.id.clone();
                    self.open_tree(&id);
                }
            }
            View::Errors => {
                if let Some((code, _)) = self.error_groups.get(self.errors_cursor.selected) {
                    self.stuck = false;
                    self.code_filter = Some(code.clone());
                    self.state_filter = None;
                    self.orch_cursor = Cursor::default();
                    self.go(View::Orchestrations);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Opens the hierarchy of an activity.
    pub fn open_tree(&mut self, id: &str) {
        match self.api.show(id) {
            Ok(tree) => {
                self.tree_state = tui_tree_widget::TreeState::default();
                self.tree_state.open(vec![tree.id.clone()]);
                self.tree_state.select(vec![tree.id.clone()]);
                self.tree = Some(tree);
                if self.view != View::Tree {
                    self.tree_from = self.view;
                }
                self.view = View::Tree;
            }
            Err(err) => {
                self.toast = Some(Toast {
                    text: err.to_string(),
                    error: true,
                })
            }
        }
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

    /// Whether the hint bar offers `action` here: the role may, and it applies to what is
    /// selected (a correction only to a request in VALIDATION_ERROR), so no key is dead.
    pub fn offers(&self, action: KeyAction) -> bool {
        if !self.may(action) {
            return false;
        }
        if action != KeyAction::Edit {
            return true;
        }
        let state = match self.view {
            View::Orchestrations => self
                .activity_at(self.orch_cursor.selected)
                .map(|r| r.state.as_str()),
            View::Tree => self.tree.as_ref().map(|t| t.state.as_str()),
            _ => None,
        };
        state == Some(OrchState::ValidationError.code())
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

    // ---- queue ------------------------------------------------------------------------------

    fn selected_order(&self) -> Option<&WorkOrder> {
        self.order_at(self.queue_cursor.selected)
    }

    /// The order at `at` in the whole (filtered) queue, when it is in the window read.
    pub fn order_at(&self, at: usize) -> Option<&WorkOrder> {
        self.orders.get(at.checked_sub(self.orders_from)?)
    }

    /// The row at `at` in the whole (filtered) list, when it is in the window read.
    pub fn activity_at(&self, at: usize) -> Option<&ActivityRow> {
        self.activities.get(at.checked_sub(self.activities_from)?)
    }

    /// Every order of the (filtered) queue: read whole only on an explicit action (mark all,
    /// export), never on refresh.
    pub fn whole_queue(&self) -> Result<Vec<WorkOrder>, crate::engine::EngineError> {
        if self.orders_from == 0 && self.orders.len() == self.orders_total {
            return Ok(self.orders.clone());
        }
        Ok(self
            .api
            .queue_window(self.mine, &self.filter, 0, 0, None)?
            .0)
    }

    /// Every row of the (filtered) orchestration list: read whole only on an explicit action
    /// (retry all, discard all, export), never on refresh.
    pub fn whole_list(&self) -> Result<Vec<ActivityRow>, crate::engine::EngineError> {
        if self.activities_from == 0 && self.activities.len() == self.activities_total {
            return Ok(self.activities.clone());
        }
        Ok(self.api.list_window(&self.list_filter(), 0, 0, None)?.0)
    }

    /// The marked orders, or the selected one when nothing is marked; in a work order's
    /// detail, the order shown.
    pub fn targets(&self) -> Vec<String> {
        if self.view == View::WorkOrder {
            return super::wo_view::shown(self).into_iter().collect();
        }
        if self.marks.is_empty() {
            self.selected_order()
                .map(|w| vec![w.id.clone()])
                .unwrap_or_default()
        } else {
            self.marks.iter().cloned().collect()
        }
    }

    /// A queue action (complete, cancel, assign, sent, setup) on [`App::targets`]: the queue
    /// and a work order's detail share it, refusals and confirmations included.
    pub fn queue_action(&mut self, key: KeyAction) -> Vec<Effect> {
        self.queue_key(key)
    }

    fn queue_key(&mut self, key: KeyAction) -> Vec<Effect> {
        match key {
            KeyAction::ToggleMark => {
                if let Some(id) = self.selected_order().map(|w| w.id.clone()) {
                    toggle(&mut self.marks, id);
                }
                self.move_cursor(1)
            }
            KeyAction::MarkAll => match self.whole_queue() {
                Ok(orders) => {
                    self.marks = orders.into_iter().map(|w| w.id).collect();
                    self.say_marked(self.marks.len())
                }
                Err(err) => self.say(&format!("cannot read the database: {err}"), true),
            },
            KeyAction::ClearMarks => {
                self.marks.clear();
                Vec::new()
            }
            KeyAction::ToggleMine => {
                self.mine = !self.mine;
                self.queue_cursor = Cursor::default();
                self.refresh();
                Vec::new()
            }
            KeyAction::Complete => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                let question = format!("Complete {}? ({})", orders(ids.len()), preview(&ids));
                let rows = ids.len();
                self.confirm_rows(question, vec![Request::WoComplete { ids }], rows)
            }
            KeyAction::Cancel => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                let prompt = format!("Reason for cancelling {}", orders(ids.len()));
                self.prompt(&prompt, String::new(), Purpose::CancelOrders(ids))
            }
            KeyAction::Assign => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                // One order: its current assignee is the choice the list starts on.
                let current = match ids.as_slice() {
                    [id] => self
                        .orders
                        .iter()
                        .chain(self.work_order.detail.as_ref().map(|d| &d.order))
                        .find(|w| &w.id == id)
                        .map(|w| w.assignee.clone())
                        .unwrap_or(Assignee::Unassigned),
                    _ => Assignee::Unassigned,
                };
                let prompt = format!(
                    "Assign {} ({}): type to filter, Up/Down to choose, or internal:NAME:EMAIL",
                    orders(ids.len()),
                    preview(&ids)
                );
                let pick = super::assign_pick::pick(self, &current);
                let effects = self.prompt(&prompt, String::new(), Purpose::Assign(ids));
                self.pick = Some(pick);
                effects
            }
            KeyAction::SetSent | KeyAction::SetSetup => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                let status = if key == KeyAction::SetSent {
                    crate::workorders::WoStatus::Sent
                } else {
                    crate::workorders::WoStatus::Setup
                };
                let question =
                    format!("Set {} to {status}? ({})", orders(ids.len()), preview(&ids));
                let rows = ids.len();
                let requests = ids
                    .into_iter()
                    .map(|id| Request::WoSetStatus { id, status })
                    .collect();
                if rows == 1 {
                    // One row, and a status that can be set back: no question.
                    self.send_confirmed(requests)
                } else {
                    self.confirm_rows(question, requests, rows)
                }
            }
            _ => Vec::new(),
        }
    }

    /// Tells how many rows are marked now.
    fn say_marked(&mut self, marked: usize) -> Vec<Effect> {
        let text = format!("{marked} marked: the next action takes them all (U clears)");
        self.say(&text, false)
    }

    // ---- orchestrations and the hierarchy ------------------------------------------------------

    fn selected_activity(&self) -> Option<String> {
        match self.view {
            View::Orchestrations => self
                .activity_at(self.orch_cursor.selected)
                .map(|r| r.id.clone()),
            View::Tree => self.tree.as_ref().map(|t| t.id.clone()),
            _ => None,
        }
    }

    /// The node selected in the hierarchy, when it is a child activity (for `--related`).
    pub fn selected_node(&self) -> Option<String> {
        let path = self.tree_state.selected();
        let last = path.last()?;
        let root = self.tree.as_ref()?;
        (path.len() > 1
            && !last.starts_with("CO-")
            && !last.starts_with("CI-")
            && last != &root.id
            && !last.contains('#'))
        .then(|| last.clone())
    }

    fn orch_key(&mut self, key: KeyAction) -> Vec<Effect> {
        match key {
            KeyAction::ToggleMark => {
                match self.view {
                    View::Errors => {
                        if let Some((code, _)) = self.error_groups.get(self.errors_cursor.selected)
                        {
                            toggle(&mut self.error_marks, code.clone());
                        }
                    }
                    _ => {
                        if let Some(id) = self
                            .activity_at(self.orch_cursor.selected)
                            .map(|r| r.id.clone())
                        {
                            toggle(&mut self.orch_marks, id);
                        }
                    }
                }
                self.move_cursor(1)
            }
            KeyAction::MarkAll => match self.view {
                View::Errors => {
                    self.error_marks = self.error_groups.iter().map(|(c, _)| c.clone()).collect();
                    self.say_marked(self.error_marks.len())
                }
                _ => match self.whole_list() {
                    Ok(rows) => {
                        self.orch_marks = rows.into_iter().map(|r| r.id).collect();
                        self.say_marked(self.orch_marks.len())
                    }
                    Err(err) => self.say(&format!("cannot read the database: {err}"), true),
                },
            },
            KeyAction::ClearMarks => {
                self.orch_marks.clear();
                self.error_marks.clear();
                Vec::new()
            }
            KeyAction::Retry | KeyAction::Discard if self.view == View::Errors => {
                self.on_error_groups(key == KeyAction::Retry, false)
            }
            KeyAction::RetryAll | KeyAction::DiscardAll if self.view == View::Errors => {
                self.on_error_groups(key == KeyAction::RetryAll, true)
            }
            KeyAction::Retry
            | KeyAction::Discard
            | KeyAction::ExecuteNow
            | KeyAction::CancelOrchestration
            | KeyAction::Update
                if !self.orch_marks.is_empty() && self.view == View::Orchestrations =>
            {
                let ids: Vec<String> = self.orch_marks.iter().cloned().collect();
                self.on_marked_activities(key, ids)
            }
            KeyAction::FilterState => {
                self.state_filter = next_in(OrchState::ALL, self.state_filter);
                self.orch_cursor = Cursor::default();
                self.refresh();
                Vec::new()
            }
            KeyAction::FilterType => {
                let requests: Vec<ActivityType> = ActivityType::ALL.to_vec();
                self.type_filter = next_in(&requests, self.type_filter);
                self.orch_cursor = Cursor::default();
                self.refresh();
                Vec::new()
            }
            KeyAction::RetryAll | KeyAction::DiscardAll => {
                let ids: Vec<String> = match self.whole_list() {
                    Ok(rows) => rows.into_iter().map(|r| r.id).collect(),
                    Err(err) => return self.say(&format!("cannot read the database: {err}"), true),
                };
                if ids.is_empty() {
                    return self.say("the list is empty: nothing to do", true);
                }
                self.retry_or_discard(key == KeyAction::RetryAll, ids, "in this list")
            }
            KeyAction::ToggleStuck => {
                self.stuck = !self.stuck;
                self.orch_cursor = Cursor::default();
                self.go(View::Orchestrations);
                Vec::new()
            }
            KeyAction::ToggleErrorInbox => {
                let to = if self.view == View::Errors {
                    View::Orchestrations
                } else {
                    View::Errors
                };
                self.go(to);
                Vec::new()
            }
            _ => self.activity_key(key, None),
        }
    }

    /// Retry or discard many activities: a confirmation (retry) or a reason (discard) that
    /// states how many, then one bulk request run in the background.
    fn retry_or_discard(&mut self, retry: bool, ids: Vec<String>, which: &str) -> Vec<Effect> {
        let rows = ids.len();
        if !retry {
            let prompt = format!("Discard {} {which}: why?", activities(rows));
            return self.prompt(&prompt, String::new(), Purpose::DiscardAll(ids));
        }
        let question = format!(
            "Retry {} {which} ({})? It runs in the background; the report counts an item only once its next transition has happened.",
            activities(rows),
            preview(&ids)
        );
        self.confirm_rows(question, vec![Request::RetryAll { ids }], rows)
    }

    /// Retry or discard the activities of the marked error groups (or the selected one), or
    /// with `all`, of every group in the inbox.
    fn on_error_groups(&mut self, retry: bool, all: bool) -> Vec<Effect> {
        let codes: Vec<String> = if all {
            self.error_groups.iter().map(|(c, _)| c.clone()).collect()
        } else if self.error_marks.is_empty() {
            self.error_groups
                .get(self.errors_cursor.selected)
                .map(|(c, _)| vec![c.clone()])
                .unwrap_or_default()
        } else {
            self.error_marks.iter().cloned().collect()
        };
        let mut ids = Vec::new();
        for code in &codes {
            let filter = ListFilter {
                error_code: Some(code.clone()),
                ..ListFilter::default()
            };
            match self.api.list_window(&filter, 0, 0, None) {
                Ok((rows, _)) => ids.extend(rows.into_iter().map(|r| r.id)),
                Err(err) => return self.say(&format!("cannot read the database: {err}"), true),
            }
        }
        if ids.is_empty() {
            return self.say(
                "no activity is in these error groups now: nothing to do",
                true,
            );
        }
        let which = match codes.as_slice() {
            [code] => format!("in error {code}"),
            _ => format!("in {} error groups ({})", codes.len(), preview(&codes)),
        };
        self.retry_or_discard(retry, ids, &which)
    }

    /// An activity action on several marked orchestrations: each is sent on its own, after
    /// one question (or one prompt) that says how many.
    fn on_marked_activities(&mut self, key: KeyAction, ids: Vec<String>) -> Vec<Effect> {
        let rows = ids.len();
        if let [id] = ids.as_slice() {
            // One marked row is acted on as if it were the selected one.
            return self.activity_key_on(key, id.clone(), None);
        }
        match key {
            KeyAction::Retry | KeyAction::Discard => {
                self.retry_or_discard(key == KeyAction::Retry, ids, "marked")
            }
            KeyAction::ExecuteNow => {
                let question = format!(
                    "Execute {} now ({})? This bypasses their effective dates, business hours and the throttle.",
                    activities(rows),
                    preview(&ids)
                );
                let requests = ids
                    .into_iter()
                    .map(|id| Request::ExecuteNow { id })
                    .collect();
                self.confirm_rows(question, requests, rows)
            }
            KeyAction::CancelOrchestration => self.prompt(
                &format!(
                    "Cancel {} ({}): reason code (CR, CXS, D1-Undetermined, D1-AutoDiscarded)",
                    activities(rows),
                    preview(&ids)
                ),
                "CR".into(),
                Purpose::CancelMarked(ids),
            ),
            KeyAction::Update => self.prompt(
                &format!("Update {} ({}): comments", activities(rows), preview(&ids)),
                String::new(),
                Purpose::UpdateMarked(ids),
            ),
            _ => Vec::new(),
        }
    }

    fn tree_key(&mut self, key: KeyAction) -> Vec<Effect> {
        match key {
            KeyAction::Expand | KeyAction::Right => {
                self.tree_state.key_right();
                Vec::new()
            }
            KeyAction::Collapse | KeyAction::Left => {
                self.tree_state.key_left();
                Vec::new()
            }
            KeyAction::ToggleNode | KeyAction::Open => {
                self.tree_state.toggle_selected();
                Vec::new()
            }
            KeyAction::ExpandAll => {
                if let Some(tree) = &self.tree {
                    for path in super::views::tree_paths(tree) {
                        self.tree_state.open(path);
                    }
                }
                Vec::new()
            }
            KeyAction::CollapseAll => {
                self.tree_state.close_all();
                Vec::new()
            }
            KeyAction::CompleteFa => match self.selected_node() {
                Some(fa) => {
                    let request = Request::CompleteFa {
                        id: fa.clone(),
                        report: Box::new(complete_report()),
                    };
                    self.confirm(
                        format!("Complete field activity {fa} by hand (status complete)?"),
                        request,
                    )
                }
                None => self.say("select a field activity in the hierarchy first", true),
            },
            KeyAction::CancelFa => match self.selected_node() {
                Some(fa) => self.prompt(
                    &format!("Cancel reason for {fa} (CR, CXS, D1-Undetermined, D1-AutoDiscarded)"),
                    "CR".into(),
                    Purpose::CancelFa(fa),
                ),
                None => self.say("select a field activity in the hierarchy first", true),
            },
            _ => {
                let related = self.selected_node();
                self.activity_key(key, related)
            }
        }
    }

    /// Actions on the selected activity (and, in the hierarchy, the selected child).
    fn activity_key(&mut self, key: KeyAction, related: Option<String>) -> Vec<Effect> {
        match self.selected_activity() {
            Some(id) => self.activity_key_on(key, id, related),
            None => Vec::new(),
        }
    }

    /// Actions on activity `id` (and optionally its child `related`).
    fn activity_key_on(
        &mut self,
        key: KeyAction,
        id: String,
        related: Option<String>,
    ) -> Vec<Effect> {
        // In the hierarchy a selected child is the subject of retry and execute-now.
        let subject = related.clone().unwrap_or_else(|| id.clone());
        match key {
            KeyAction::Retry => vec![Effect::Send(Request::Retry { id: subject })],
            KeyAction::ExecuteNow => {
                let q = format!("Execute {subject} now? This bypasses its effective date, business hours and the throttle.");
                self.confirm(q, Request::ExecuteNow { id: subject })
            }
            KeyAction::Discard => self.prompt(
                &format!("Discard {id}: why?"),
                String::new(),
                Purpose::Discard(id),
            ),
            KeyAction::CancelOrchestration => {
                let what = related
                    .as_ref()
                    .map_or(id.clone(), |r| format!("{r} of {id}"));
                self.prompt(
                    &format!(
                        "Cancel {what}: reason code (CR, CXS, D1-Undetermined, D1-AutoDiscarded)"
                    ),
                    "CR".into(),
                    Purpose::CancelOrchestration { id, related },
                )
            }
            KeyAction::Edit => super::correct::start(self, &id),
            KeyAction::Update => {
                let what = related
                    .as_ref()
                    .map_or(id.clone(), |r| format!("{r} of {id}"));
                self.prompt(
                    &format!("Update {what}: comments"),
                    String::new(),
                    Purpose::Update { id, related },
                )
            }
            _ => Vec::new(),
        }
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
                });
            }
        }
        effects
    }

    fn apply_input(&mut self, text: String, purpose: Purpose) -> Vec<Effect> {
        match purpose {
            Purpose::Filter => {
                self.filter = text;
                self.queue_cursor = Cursor::default();
                self.orch_cursor = Cursor::default();
                self.refresh();
                Vec::new()
            }
            Purpose::CommandLine => self.command_line(&text),
            Purpose::Correct(correction) => super::correct::answer(self, *correction, text),
            Purpose::Export if !text.is_empty() => {
                let json = text.to_ascii_lowercase().ends_with(".json");
                match super::export::current_list(self, json) {
                    Some(contents) => vec![Effect::WriteFile { path: text.into(), contents }],
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
            Purpose::CancelOrders(ids) if !text.is_empty() => {
                let question = format!("Cancel {} ({}) with reason \"{text}\"?", orders(ids.len()), preview(&ids));
                let rows = ids.len();
                self.confirm_rows(question, vec![Request::WoCancel { ids, reason: text }], rows)
            }
            Purpose::Assign(ids) => match self.pick.as_ref().map_or_else(|| Assignee::parse(&text), |p| p.answer(&text)) {
                Ok(assignee) => {
                    self.pick = None;
                    let rows = ids.len();
                    let question = format!("Assign {} ({}) to {}?", orders(rows), preview(&ids), assignee.label());
                    let schedule_for = Some(self.operator().to_string());
                    let requests = ids
                        .into_iter()
                        .map(|id| Request::WoAssign { id, assignee: assignee.clone(), schedule_for: schedule_for.clone() })
                        .collect();
                    // Assigning can be redone: only a large batch asks first.
                    if rows > TYPE_THE_COUNT_ABOVE {
                        self.confirm_rows(question, requests, rows)
                    } else {
                        self.send_confirmed(requests)
                    }
                }
                Err(e) => self.say(&e, true),
            },
            Purpose::CancelMarked(ids) if !text.is_empty() => {
                let rows = ids.len();
                let question = format!("File a Cancel Orchestration for {} ({}) with reason {text}?", activities(rows), preview(&ids));
                let requests = ids.into_iter().map(|id| Request::Cancel { id, reason: text.clone(), related: None }).collect();
                self.confirm_rows(question, requests, rows)
            }
            Purpose::UpdateMarked(ids) if !text.is_empty() => {
                let rows = ids.len();
                let question = format!("File an Update Orchestration for {} ({}) with \"{text}\"?", activities(rows), preview(&ids));
                let requests = ids.into_iter().map(|id| Request::Update { id, comments: text.clone(), start: None, related: None }).collect();
                self.confirm_rows(question, requests, rows)
            }
            Purpose::CancelOrchestration { id, related } if !text.is_empty() => {
                let what = related.as_ref().map_or(id.clone(), |r| format!("{r} of {id}"));
                self.confirm(format!("File a Cancel Orchestration for {what} (reason {text})?"), Request::Cancel { id, reason: text, related })
            }
            Purpose::Update { id, related } if !text.is_empty() => {
                vec![Effect::Send(Request::Update { id, comments: text, start: None, related })]
            }
            Purpose::Discard(id) => {
                let reason = if text.is_empty() { "discarded at the desk".to_string() } else { text };
                self.confirm(format!("Discard {id}? ({reason})"), Request::Discard { id, reason: Some(reason) })
            }
            Purpose::DiscardAll(ids) if !text.is_empty() => {
                let rows = ids.len();
                let question = format!("Discard {} ({}) with reason \"{text}\"?", activities(rows), preview(&ids));
                self.confirm_rows(question, vec![Request::DiscardAll { ids, reason: text }], rows)
            }
            Purpose::CancelFa(id) if !text.is_empty() => {
                self.confirm(format!("Cancel field activity {id} by hand (reason {text})? The field system is not told."), Request::CancelFa { id, reason: text })
            }
            _ => self.say("this needs an answer: type one, or Esc to leave it", true),
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
            ("wo", Some(id)) => {
                self.filter.clear();
                self.mine = false;
                self.go(View::Queue);
                let id = id.to_ascii_uppercase();
                match self.api.queue_position(&id) {
                    Ok(Some(at)) => {
                        self.queue_cursor.selected = at;
                        self.queue_cursor.scroll_into_view(self.page);
                        self.follow_cursor();
                        Vec::new()
                    }
                    // Not in the open queue: a closed order opens in its detail.
                    Ok(None) => super::wo_view::open(self, &id),
                    Err(err) => self.say(&format!("cannot read the database: {err}"), true),
                }
            }
            ("sp", Some(sp)) => {
                // The exact service point, not every id that starts the same (SP-1 ≠ SP-19).
                self.sp_filter = Some(sp.to_ascii_uppercase());
                self.filter.clear();
                self.state_filter = None;
                self.code_filter = None;
                self.go_keep_filter(View::Orchestrations);
                Vec::new()
            }
            _ if text.contains('-') && !text.contains(' ') => {
                self.open_tree(&text.to_ascii_uppercase());
                Vec::new()
            }
            _ => self.say(&format!("unknown command `:{text}` (try :queue, :orch, :errors, :so ID, :wo ID, :sp ID)"), true),
        }
    }

    fn go_keep_filter(&mut self, view: View) {
        self.view = view;
        self.refresh();
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
                self.marks.clear();
                self.orch_marks.clear();
                self.error_marks.clear();
                self.toast = Some(Toast {
                    text: message,
                    error: false,
                });
                self.refresh();
            }
            Notice::Refused { code, message, .. } => {
                self.status.busy = None;
                self.toast = Some(Toast {
                    text: format!("refused ({code}): {message}"),
                    error: true,
                });
            }
            Notice::Failed { message, .. } => {
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
            View::Queue => self.selected_order().map(|w| w.id.clone()),
            View::Orchestrations => self
                .activity_at(self.orch_cursor.selected)
                .map(|r| r.id.clone()),
            View::Errors => self
                .error_groups
                .get(self.errors_cursor.selected)
                .map(|(c, _)| c.clone()),
            View::Tree => self
                .tree_state
                .selected()
                .last()
                .map(|id| id.split('#').next().unwrap_or(id).to_string()),
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
            View::Queue => {
                self.read_queue_window(false)?;
                self.queue_cursor.step(0, self.orders_total);
                self.follow_cursor();
                self.keep_listed_marks()?;
            }
            View::Orchestrations if self.stuck => {
                let now = self.status.clock.unwrap_or_else(chrono::Utc::now);
                let rows = self.api.stuck(now)?;
                // The lens is found by a scan, then narrowed by the same filters as the list,
                // so its title (which names them) describes exactly these rows.
                let filter = self.list_filter();
                self.stuck_why = rows
                    .iter()
                    .map(|(r, why)| (r.id.clone(), why.clone()))
                    .collect();
                // The stuck lens is found by a scan anyway and is short: it is held whole.
                self.activities = rows
                    .into_iter()
                    .map(|(r, _)| r)
                    .filter(|r| filter.keeps(r))
                    .collect();
                self.activities_from = 0;
                self.activities_read_with = None;
                self.activities_total = self.activities.len();
                self.orch_cursor.step(0, self.activities_total);
            }
            View::Orchestrations => {
                self.read_list_window(false)?;
                self.orch_cursor.step(0, self.activities_total);
                self.follow_cursor();
            }
            View::Errors => {
                self.error_groups = self.api.error_groups()?;
                self.errors_cursor.step(0, self.error_groups.len());
            }
            View::Tree => {
                if let Some(id) = self.tree.as_ref().map(|t| t.id.clone()) {
                    self.tree = Some(self.api.show(&id)?);
                }
            }
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

impl App {
    /// Rows read per window: a few screens, so paging within them reads nothing.
    fn window_span(&self) -> usize {
        (self.page * 4).max(200)
    }

    /// Where a window around `cursor` starts: a screen above its first visible row.
    fn window_start(&self, cursor: &Cursor) -> usize {
        cursor.offset.min(cursor.selected).saturating_sub(self.page)
    }

    /// The orchestration list's filters as the engine takes them.
    fn list_filter(&self) -> ListFilter {
        ListFilter {
            state: self.state_filter.map(|s| s.code().to_string()),
            activity_type: self.type_filter,
            sp: self.sp_filter.clone(),
            error_code: self.code_filter.clone(),
            limit: 0,
            text: self.filter.clone(),
        }
    }

    /// Reads the queue's window around the cursor; `sliding` (the cursor moved, nothing
    /// changed) reads only the rows the held window lacks.
    fn read_queue_window(&mut self, sliding: bool) -> Result<(), crate::engine::EngineError> {
        let start = self.window_start(&self.queue_cursor);
        let span = self.window_span();
        let list = (self.mine, self.filter.clone());
        let same_list = self.orders_read_with.as_ref() == Some(&list);
        let (api, mine, filter) = (&self.api, self.mine, &self.filter);
        let (rows, from, total) = slide(
            (&self.orders, self.orders_from),
            same_list,
            sliding,
            (start, span),
            |w| w.seq,
            |offset, limit, near| api.queue_window(mine, filter, offset, limit, near),
        )?;
        self.orders = rows;
        self.orders_from = from;
        self.orders_read_with = Some(list);
        self.orders_total = total;
        Ok(())
    }

    /// As [`App::read_queue_window`], for the orchestration list.
    fn read_list_window(&mut self, sliding: bool) -> Result<(), crate::engine::EngineError> {
        let start = self.window_start(&self.orch_cursor);
        let span = self.window_span();
        let filter = self.list_filter();
        let same_list = self.activities_read_with.as_ref() == Some(&filter);
        let api = &self.api;
        let (rows, from, total) = slide(
            (&self.activities, self.activities_from),
            same_list,
            sliding,
            (start, span),
            |r| r.seq,
            |offset, limit, near| api.list_window(&filter, offset, limit, near),
        )?;
        self.activities = rows;
        self.activities_from = from;
        self.activities_read_with = Some(filter);
        self.activities_total = total;
        Ok(())
    }

    /// Re-reads the current list's window when the rows on screen (and the selection) are no
    /// longer inside it, so a cursor can travel the whole list while only a window is held.
    fn follow_cursor(&mut self) {
        let page = self.page;
        let covered = |cursor: &Cursor, from: usize, len: usize, total: usize| {
            let shown = super::views::window(cursor, total, page);
            let wanted = shown.start.min(cursor.selected)..shown.end.max(cursor.selected + 1);
            total == 0 || (wanted.start >= from && wanted.end.min(total) <= from + len)
        };
        let result = match self.view {
            View::Queue
                if !covered(
                    &self.queue_cursor,
                    self.orders_from,
                    self.orders.len(),
                    self.orders_total,
                ) =>
            {
                self.read_queue_window(true)
            }
            View::Orchestrations
                if !self.stuck
                    && !covered(
                        &self.orch_cursor,
                        self.activities_from,
                        self.activities.len(),
                        self.activities_total,
                    ) =>
            {
                self.read_list_window(true)
            }
            _ => Ok(()),
        };
        if let Err(err) = result {
            self.toast = Some(Toast {
                text: format!("cannot read the database: {err}"),
                error: true,
            });
        }
    }

    /// Drops marks of orders that left the (filtered) queue, as a whole list would: by the
    /// window when it holds the whole list, else by reading the marked orders only.
    fn keep_listed_marks(&mut self) -> Result<(), crate::engine::EngineError> {
        if self.marks.is_empty() {
            return Ok(());
        }
        if self.orders_from == 0 && self.orders.len() == self.orders_total {
            let orders = &self.orders;
            self.marks.retain(|id| orders.iter().any(|w| &w.id == id));
            return Ok(());
        }
        let needle = self.filter.to_ascii_lowercase();
        let mut keep = BTreeSet::new();
        for id in &self.marks {
            let Ok(wo) = self.api.work_order(id) else {
                continue;
            };
            let listed = crate::workorders::is_open(wo.status)
                && (!self.mine || wo.scheduled_for.as_deref() == Some(self.operator()))
                && (needle.is_empty() || crate::workorders::matches_text(&wo, &needle));
            if listed {
                keep.insert(id.clone());
            }
        }
        self.marks = keep;
        Ok(())
    }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("");
    line.get(..60).unwrap_or(line)
}

/// The next value in `all` after `current`, then back to none.
fn next_in<T: Copy + PartialEq>(all: &[T], current: Option<T>) -> Option<T> {
    match current {
        None => all.first().copied(),
        Some(c) => {
            let at = all.iter().position(|x| *x == c)?;
            all.get(at + 1).copied()
        }
    }
}

/// "1 work order", "3 work orders".
fn orders(n: usize) -> String {
    format!("{n} work order{}", plural(n))
}

/// "1 activity", "3 activities".
fn activities(n: usize) -> String {
    if n == 1 {
        "1 activity".into()
    } else {
        format!("{n} activities")
    }
}

/// Marks `id` if unmarked, else unmarks it.
fn toggle(marks: &mut BTreeSet<String>, id: String) {
    if !marks.remove(&id) {
        marks.insert(id);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn preview(ids: &[String]) -> String {
    if ids.len() <= 4 {
        ids.join(", ")
    } else {
        format!("{}, … and {} more", ids[..3].join(", "), ids.len() - 3)
    }
}

/// A by-hand completion with no crew data: status complete.
fn complete_report() -> crate::engine::CompleteFa {
    crate::engine::CompleteFa {
        status: crate::formats::CompletionStatus::Complete,
        at: None,
        remarks: Some("completed at the desk".into()),
        device: None,
        old_device: None,
        readings: Vec::new(),
    }
}

/// Moves a held window of rows `[from, from + rows.len())` to `[start, start + span)` and
/// returns the new rows, their first position and the list's total. Sliding (the cursor moved,
/// nothing changed), the rows already held are kept and only the missing ones are read, walked
/// from the held row next to them; otherwise the whole window is read, from the held window's
/// first row when it is the same list. `read(offset, limit, near)` reads a window.
fn slide<T: Clone>(
    (rows, from): (&[T], usize),
    same_list: bool,
    sliding: bool,
    (start, span): (usize, usize),
    seq_of: impl Fn(&T) -> crate::domain::Seq,
    mut read: impl FnMut(
        usize,
        usize,
        Option<Near>,
    ) -> Result<(Vec<T>, usize), crate::engine::EngineError>,
) -> Result<(Vec<T>, usize, usize), crate::engine::EngineError> {
    let end = start + span;
    let held_end = from + rows.len();
    if same_list && sliding {
        if let (Some(last), true) = (
            rows.last(),
            start >= from && start < held_end && end > held_end,
        ) {
            let near = Near {
                at: held_end - 1,
                seq: seq_of(last),
            };
            let (more, total) = read(held_end, end - held_end, Some(near))?;
            let mut kept = rows[start - from..].to_vec();
            kept.extend(more);
            return Ok((kept, start.min(total), total));
        }
        if let (Some(first), true) = (rows.first(), start < from && end > from && end <= held_end) {
            let near = Near {
                at: from,
                seq: seq_of(first),
            };
            let (mut more, total) = read(start, from - start, Some(near))?;
            more.extend_from_slice(&rows[..end - from]);
            return Ok((more, start.min(total), total));
        }
    }
    let near = rows.first().filter(|_| same_list).map(|r| Near {
        at: from,
        seq: seq_of(r),
    });
    let (rows, total) = read(start, span, near)?;
    Ok((rows, start.min(total), total))
}
