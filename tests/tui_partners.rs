//! The partners view, driven through `update` and drawn on a TestBackend at 80×24, 120×40 and
//! the smallest desk (60×15): one row per partner with its state, backlog, oldest message, last
//! hour and last error; the selected partner's detail; a supervisor's pause (asked first) and
//! resume (at once); a clerk or support refused before anything is asked; the periodic re-read;
//! and a communication's delivery attempts in the hierarchy.
//!
//! The world (UTC): an Enable Service on a service point without a meter (a field activity for
//! the field work system) and a Disable Service on a smart meter (a command for the head-end),
//! both made at 09:00. The desk's clock reads 09:05. The engine in these tests has no couriers,
//! so what they would have reported is staged: the field work system fails with HTTP 500, the
//! head-end (simulated) takes everything, e-mail has no partner.

mod common;

use common::*;
use orderdesk::client::{Api, Local, Request, Session, SessionInfo};
use orderdesk::domain::{AuditEntry, Instant, Role};
use orderdesk::engine::{
    ActionReport, ActivityRow, ActivityTree, Actor, BatchRun, BulkActionReport, BulkReport,
    CommView, CompleteFa, Created, CrwtoReport, CustomerMatch, DayReleases, Delivery, Engine,
    EngineError, FeedRequest, FeedView, HourCounts, InboundReport, ListFilter, Move, MoveReport,
    Near, NewWorkOrder, TickReport, WaitingCommand,
};
use orderdesk::runtime::{Clock, Notice, PartnerStatus, Ticket};
use orderdesk::throttle::Candidate;
use orderdesk::tui::app::{Action, App, Effect, Popup, View};
use orderdesk::tui::keymap::{KeyAction, Keymap};
use orderdesk::workorders::{Assignee, WoStatus, WorkOrder};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const T0: &str = "2025-06-10T09:00:00Z";
const NOW: &str = "2025-06-10T09:05:00Z";

/// An Enable Service (a field activity for the field work system) and a Disable Service (a
/// command for the head-end), made and ticked at 09:00.
fn world(toml: &str) -> World {
    let mut w = World::with_toml(toml);
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            request("SO-1", "enable_service", "SP-1", ""),
            request("SO-2", "disable_service", "SP-2", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    w
}

/// What the couriers would have reported, by partner.
fn live() -> BTreeMap<String, PartnerStatus> {
    let mut live = BTreeMap::new();
    live.insert(
        "field_work".to_string(),
        PartnerStatus {
            name: "field_work".into(),
            via: "https://fieldwork.example.net/api/v1/orders".into(),
            state: "failing".into(),
            last_delivery: Some(at("2025-06-10T09:02:00Z")),
            last_error: Some(
                "HTTP 500: internal server error (the upstream database is unavailable, try again later)"
                    .into(),
            ),
            last_error_at: Some(at("2025-06-10T09:04:20Z")),
            delivered_last_hour: 8,
            attempts: 14,
            failures: 6,
            ..PartnerStatus::default()
        },
    );
    live.insert(
        "head_end".to_string(),
        PartnerStatus {
            name: "head_end".into(),
            via: "simulated, http://127.0.0.1:40111/head_end".into(),
            state: "connected".into(),
            last_delivery: Some(at("2025-06-10T09:04:58Z")),
            delivered_last_hour: 21,
            attempts: 21,
            ..PartnerStatus::default()
        },
    );
    live
}

/// A client of the test world whose partner board is staged: backlogs and pause flags are read
/// from the database as the engine reads them, the couriers' side comes from `live`. Writes of
/// a pause go to the engine as the client's actor (so the engine's own check applies).
struct Staged {
    inner: Local,
    engine: Mutex<Engine>,
    actor: Actor,
    live: Mutex<BTreeMap<String, PartnerStatus>>,
}

impl Staged {
    fn new(engine: Engine, actor: Actor) -> Arc<Staged> {
        let inner = Local::reading(engine.reader(), actor.clone(), Clock::wall());
        Arc::new(Staged {
            inner,
            engine: Mutex::new(engine),
            actor,
            live: Mutex::new(live()),
        })
    }

    fn paused(&self, partner: &str) -> bool {
        self.engine
            .lock()
            .expect("engine")
            .partner_paused(partner)
            .expect("pause flag")
    }

    fn audit_len(&self) -> usize {
        self.engine
            .lock()
            .expect("engine")
            .audit(None, 0)
            .expect("audit")
            .len()
    }
}

/// Passes a read or write straight to the read-only client.
macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> $ret {
            self.inner.$name($($arg),*)
        })*
    };
}

impl Api for Staged {
    fn session(&self) -> &Session {
        self.inner.session()
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        self.inner.changes()
    }

    fn partners(&self) -> Result<Vec<PartnerStatus>, EngineError> {
        let live = self.live.lock().expect("live");
        Ok(self
            .inner
            .partners()?
            .into_iter()
            .map(|read| match live.get(&read.name) {
                Some(staged) => PartnerStatus {
                    backlog: read.backlog,
                    oldest: read.oldest,
                    state: if read.state == "paused" {
                        read.state.clone()
                    } else {
                        staged.state.clone()
                    },
                    ..staged.clone()
                },
                None => read,
            })
            .collect())
    }

    fn pause_partner(&self, name: &str, paused: bool) -> Result<bool, EngineError> {
        self.engine
            .lock()
            .expect("engine")
            .set_partner_paused(&self.actor, at(NOW), name, paused)
    }

    delegate! {
        fn show(&self, id: &str) -> Result<ActivityTree, EngineError>;
        fn list_window(&self, filter: &ListFilter, offset: usize, limit: usize, near: Option<Near>) -> Result<(Vec<ActivityRow>, usize), EngineError>;
        fn queue_window(&self, mine: bool, text: &str, offset: usize, limit: usize, near: Option<Near>) -> Result<(Vec<WorkOrder>, usize), EngineError>;
        fn queue_position(&self, id: &str) -> Result<Option<usize>, EngineError>;
        fn queue_len(&self) -> Result<usize, EngineError>;
        fn queue_counts(&self) -> Result<Vec<(WoStatus, usize)>, EngineError>;
        fn counts_by_state(&self) -> Result<Vec<(String, usize)>, EngineError>;
        fn error_groups(&self) -> Result<Vec<(String, usize)>, EngineError>;
        fn stuck(&self, now: Instant) -> Result<Vec<(ActivityRow, String)>, EngineError>;
        fn hourly(&self, now: Instant, hours: usize) -> Result<Vec<(Instant, HourCounts)>, EngineError>;
        fn work_order(&self, id: &str) -> Result<WorkOrder, EngineError>;
        fn wo_detail(&self, id: &str) -> Result<orderdesk::engine::WoDetail, EngineError>;
        fn throttle_queue(&self) -> Result<Vec<Candidate>, EngineError>;
        fn waiting_commands(&self, of: &[Candidate]) -> Result<Vec<WaitingCommand>, EngineError>;
        fn releases_on(&self, day: chrono::NaiveDate) -> Result<DayReleases, EngineError>;
        fn last_batch_run(&self) -> Result<Option<BatchRun>, EngineError>;
        fn feed(&self, now: Instant, customer: &str, request: &FeedRequest) -> Result<FeedView, EngineError>;
        fn find_customers(&self, text: &str, limit: usize) -> Result<Vec<CustomerMatch>, EngineError>;
        fn audit(&self, filter: &orderdesk::domain::AuditFilter, limit: usize) -> Result<Vec<AuditEntry>, EngineError>;
        fn outbox(&self, all: bool) -> Result<Vec<CommView>, EngineError>;
        fn check(&self) -> Result<Vec<String>, EngineError>;
        fn sessions(&self) -> Result<Vec<SessionInfo>, EngineError>;
        fn import(&self, jsonl: &[u8]) -> Result<Vec<Created>, EngineError>;
        fn import_bulk(&self, jsonl: &[u8], progress: Box<dyn FnMut(usize, usize) + Send>) -> Result<orderdesk::engine::BulkImport, EngineError>;
        fn inbound(&self, jsonl: &[u8]) -> Result<InboundReport, EngineError>;
        fn tick(&self) -> Result<TickReport, EngineError>;
        fn crwto(&self, throttle: Option<bool>) -> Result<CrwtoReport, EngineError>;
        fn retry(&self, id: &str) -> Result<ActionReport, EngineError>;
        fn discard(&self, id: &str, reason: Option<&str>) -> Result<ActionReport, EngineError>;
        fn execute_now(&self, id: &str) -> Result<ActionReport, EngineError>;
        fn cancel(&self, id: &str, reason: &str, related: Option<&str>) -> Result<ActionReport, EngineError>;
        fn update(&self, id: &str, comments: &str, start: Option<Instant>, related: Option<&str>) -> Result<ActionReport, EngineError>;
        fn complete_fa(&self, id: &str, report: CompleteFa) -> Result<ActionReport, EngineError>;
        fn cancel_fa(&self, id: &str, reason: &str) -> Result<ActionReport, EngineError>;
        fn edit(&self, id: &str, sets: &[(String, String)]) -> Result<ActionReport, EngineError>;
        fn bulk_retry(&self, ids: &[String]) -> Result<BulkActionReport, EngineError>;
        fn bulk_discard(&self, ids: &[String], reason: &str) -> Result<BulkActionReport, EngineError>;
        fn wo_complete(&self, ids: &[String]) -> Result<BulkReport, EngineError>;
        fn wo_cancel(&self, ids: &[String], reason: &str) -> Result<BulkReport, EngineError>;
        fn wo_assign(&self, id: &str, assignee: Assignee, schedule_for: Option<String>) -> Result<WorkOrder, EngineError>;
        fn wo_set_status(&self, id: &str, status: WoStatus) -> Result<WorkOrder, EngineError>;
        fn wo_create(&self, new: NewWorkOrder) -> Result<WorkOrder, EngineError>;
        fn move_event(&self, event: Move, customer: &str, site: &str, date: chrono::NaiveDate) -> Result<MoveReport, EngineError>;
        fn end_session(&self, id: u64) -> Result<(), EngineError>;
    }
}

/// A desk on the Partners view as `operator`, over the staged board.
fn desk_as(w: World, operator: &str, role: Role) -> (App, Arc<Staged>) {
    let staged = Staged::new(w.engine, Actor::with_role(operator, Some(role)));
    let api: Arc<dyn Api> = staged.clone();
    let mut app = App::new(api, Keymap::defaults().expect("default keymap"));
    app.update(Action::Clock(at(NOW), 1.0));
    app.update(Action::Key(KeyAction::GoPartners));
    assert_eq!(app.view, View::Partners);
    (app, staged)
}

fn desk(w: World) -> (App, Arc<Staged>) {
    desk_as(w, "sam", Role::Supervisor)
}

/// What the event loop would do with the desk's request: apply it, and hand the outcome back.
fn run(app: &mut App, api: &dyn Api, request: Request) {
    let notice = match request.apply(api, &mut |_| {}) {
        Ok(message) => Notice::Done {
            ticket: Ticket(1),
            message,
        },
        Err(EngineError::Refused { code, message }) => Notice::Refused {
            ticket: Ticket(1),
            code,
            message,
        },
        Err(err) => panic!("the request failed: {err}"),
    };
    app.update(Action::Notice(notice));
}

/// The table row that names `partner`.
fn row_of(text: &str, partner: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(&format!("│{partner} ")))
        .unwrap_or_else(|| panic!("no row for {partner} in\n{text}"))
        .to_string()
}

/// The detail pane's text, its wrapped lines joined by spaces.
fn detail_of(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("└"))
        .skip(2)
        .take_while(|l| !l.starts_with("└"))
        .map(|l| l.trim_matches('│').trim())
        .collect();
    lines.join(" ")
}

#[test]
fn partners_view() {
    let (mut app, _) = desk(world(""));
    let states: Vec<(&str, &str, u64)> = app
        .partners
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.state.as_str(), r.backlog))
        .collect();
    assert_eq!(
        states,
        [
            ("field_work", "failing", 1),
            ("head_end", "connected", 1),
            ("email", "not connected", 0)
        ]
    );
    let text = screen(&mut app, 120, 40);
    let field_work = row_of(&text, "field_work");
    for cell in [
        "failing",
        " 1 ",
        "5 min",
        " 8 ",
        "40 s ago",
        "HTTP 500: internal",
    ] {
        assert!(field_work.contains(cell), "{cell}: {field_work}");
    }
    assert!(
        field_work.contains("https://fieldwork.example.n…"),
        "{field_work}"
    );
    // The detail has the whole error, and the tries since start.
    let detail = detail_of(&text);
    assert!(
        detail.contains(
            "last error 09:04:20 (40 s ago): HTTP 500: internal server error (the upstream database is unavailable, try again later)"
        ),
        "{detail}"
    );
    assert!(
        detail.contains("tries since start 14, failed 6"),
        "{detail}"
    );
    // The help and the hint bar list the view's keys.
    // field_work is not paused: the bar offers pause, not resume.
    assert!(text.contains(" p pause "), "{text}");
    assert!(!text.contains("r resume"), "{text}");
    insta::assert_snapshot!("partners_120x40", text);
    insta::assert_snapshot!("partners_80x24", screen(&mut app, 80, 24));
}

#[test]
fn at_60x15_the_via_and_last_error_columns_go_first() {
    let (mut app, _) = desk(world(""));
    let text = screen(&mut app, 60, 15);
    let header = text
        .lines()
        .find(|l| l.contains("PARTNER"))
        .expect("the header");
    for kept in ["STATE", "BACKLOG", "OLDEST", "LAST HOUR"] {
        assert!(header.contains(kept), "{header}");
    }
    for dropped in ["VIA", "LAST ERROR"] {
        assert!(!header.contains(dropped), "{header}");
    }
    assert!(row_of(&text, "field_work").contains("failing"), "{text}");
    assert!(row_of(&text, "email").contains("not connected"), "{text}");
    assert!(text.contains("last error"), "the detail keeps it: {text}");
    insta::assert_snapshot!("partners_60x15", text);
    // At 80 columns the last error comes back, VIA not yet.
    let text = screen(&mut app, 80, 24);
    let header = text
        .lines()
        .find(|l| l.contains("PARTNER"))
        .expect("header");
    assert!(
        header.contains("LAST ERROR") && !header.contains("VIA"),
        "{header}"
    );
}

#[test]
fn no_size_panics() {
    let (mut app, _) = desk(world(""));
    for width in (40..=160).step_by(3) {
        for height in [5, 14, 15, 16, 18, 24, 40] {
            let _ = screen(&mut app, width, height);
        }
    }
    app.update(Action::Key(KeyAction::PausePartner));
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    for width in [60, 61, 79, 80] {
        let _ = screen(&mut app, width, 15);
    }
}

#[test]
fn j_and_k_move_the_selection_and_the_detail_follows() {
    let (mut app, _) = desk(world(""));
    app.update(Action::Key(KeyAction::Down));
    assert_eq!(app.partners.cursor.selected, 1);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("┌ head_end ─"), "{text}");
    assert!(
        row_of(&text, "field_work").contains("failing"),
        "all rows stay shown"
    );
    assert!(text.contains("no error since start"), "{text}");
    app.update(Action::Key(KeyAction::Down));
    app.update(Action::Key(KeyAction::Down));
    assert_eq!(app.partners.cursor.selected, 2, "stops at the last row");
    app.update(Action::Key(KeyAction::Up));
    app.update(Action::Key(KeyAction::Top));
    assert_eq!(app.partners.cursor.selected, 0);
}

#[test]
fn a_clerk_or_support_is_refused_before_anything_is_asked() {
    for (operator, role, person) in [
        ("bo", Role::Clerk, "works as a clerk"),
        ("cy", Role::Support, "works in support"),
    ] {
        let (mut app, staged) = desk_as(world(""), operator, role);
        let audited = staged.audit_len();
        let refusal =
            format!("{operator} {person}; only a supervisor may pause or resume a partner system");
        for key in [KeyAction::PausePartner, KeyAction::ResumePartner] {
            let effects = app.update(Action::Key(key));
            assert!(effects.is_empty(), "nothing is sent: {effects:?}");
            assert!(app.popup.is_none(), "nothing is asked");
            let toast = app.toast.clone().expect("a refusal");
            assert!(toast.error);
            assert_eq!(toast.text, refusal);
            let text = screen(&mut app, 120, 40);
            assert!(text.contains(&refusal), "{text}");
        }
        assert!(!staged.paused("field_work"), "nothing changed");
        assert_eq!(staged.audit_len(), audited, "nothing was attempted");
        assert_eq!(app.partners.rows[0].state, "failing");
        // The engine, asked anyway, refuses in the same words.
        let asked = Request::PausePartner {
            partner: "field_work".into(),
            paused: true,
        }
        .apply(staged.as_ref(), &mut |_| {});
        match asked {
            Err(EngineError::Refused { code, message }) => {
                assert_eq!(code, "PERMISSION_DENIED");
                assert_eq!(message, refusal);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(!staged.paused("field_work"));
    }
}

#[test]
fn a_supervisor_pauses_after_confirming_and_resumes_at_once() {
    let (mut app, staged) = desk(world(""));
    let effects = app.update(Action::Key(KeyAction::PausePartner));
    assert!(
        effects.is_empty(),
        "nothing is sent before the confirmation"
    );
    match &app.popup {
        Some(Popup::Confirm { question, .. }) => assert_eq!(
            question,
            "Pause deliveries to field_work? Its 1 waiting message and new ones stay in the outbox until it is resumed; their response timeouts still run."
        ),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    insta::assert_snapshot!("partners_confirm_pause_80x24", screen(&mut app, 80, 24));
    let effects = app.update(Action::Key(KeyAction::Confirm));
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("expected one request, got {effects:?}");
    };
    assert!(matches!(
        request,
        Request::PausePartner { partner, paused: true } if partner == "field_work"
    ));
    run(&mut app, staged.as_ref(), request.clone());
    assert!(staged.paused("field_work"));
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("field_work paused: its messages wait in the outbox"),
        "{text}"
    );
    assert!(row_of(&text, "field_work").contains("paused"), "{text}");

    // Pausing again asks nothing; resuming goes without a question.
    assert!(app.update(Action::Key(KeyAction::PausePartner)).is_empty());
    assert!(app.popup.is_none());
    assert_eq!(
        app.toast.as_ref().map(|t| t.text.as_str()),
        Some("field_work is already paused")
    );
    let effects = app.update(Action::Key(KeyAction::ResumePartner));
    assert!(app.popup.is_none(), "resuming is not asked");
    let [Effect::Send(request)] = effects.as_slice() else {
        panic!("expected one request, got {effects:?}");
    };
    run(&mut app, staged.as_ref(), request.clone());
    assert!(!staged.paused("field_work"));
    assert_eq!(
        app.toast.as_ref().map(|t| t.text.as_str()),
        Some("field_work resumed: its waiting messages go out again")
    );
    assert_eq!(app.partners.rows[0].state, "failing");
    // The head-end was never paused: nothing to resume.
    app.update(Action::Key(KeyAction::Down));
    assert!(app.update(Action::Key(KeyAction::ResumePartner)).is_empty());
    assert_eq!(
        app.toast.as_ref().map(|t| t.text.as_str()),
        Some("head_end is not paused: nothing to resume")
    );
}

#[test]
fn the_board_is_re_read_every_few_seconds_and_on_a_change() {
    let (mut app, staged) = desk(world(""));
    let recover = |staged: &Staged, state: &str| {
        let mut live = staged.live.lock().expect("live");
        live.get_mut("field_work").expect("field_work").state = state.into();
    };
    recover(&staged, "connected");
    // The clock ticks every half second; the board is re-read every two seconds.
    for _ in 0..3 {
        app.update(Action::Clock(at(NOW), 1.0));
    }
    assert_eq!(app.partners.rows[0].state, "failing", "not yet re-read");
    app.update(Action::Clock(at(NOW), 1.0));
    assert_eq!(app.partners.rows[0].state, "connected");
    // A change notice re-reads at once.
    recover(&staged, "failing");
    app.update(Action::Notice(Notice::Changed { at: at(NOW) }));
    assert_eq!(app.partners.rows[0].state, "failing");
    // Other views do not poll the board.
    app.update(Action::Key(KeyAction::GoQueue));
    recover(&staged, "connected");
    for _ in 0..10 {
        app.update(Action::Clock(at(NOW), 1.0));
    }
    assert_eq!(app.partners.rows[0].state, "failing");
}

#[test]
fn the_help_lists_the_partners_keys() {
    let (mut app, _) = desk(world(""));
    app.update(Action::Key(KeyAction::Help));
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("Keys: Partners"), "{text}");
    assert!(
        text.contains("Pause deliveries to the partner (asks first)"),
        "{text}"
    );
    assert!(text.contains("Resume deliveries to the partner"), "{text}");
    assert!(text.contains("│6 "), "{text}");
}

#[test]
fn the_hierarchy_lists_a_messages_delivery_attempts_in_local_time() {
    let mut w = world(r#"timezone = "America/Chicago""#);
    let co = w.open_comm(&w.children("SO-1")[0].id);
    let tries = [
        (
            "2025-06-10T09:00:05Z",
            false,
            "HTTP 500: internal server error",
        ),
        ("2025-06-10T09:00:35Z", false, "no answer within 10 s"),
        ("2025-06-10T09:01:40Z", true, "HTTP 202 in 3 ms"),
    ];
    for (when, ok, detail) in tries {
        w.engine
            .record_deliveries(
                at(when),
                &[Delivery {
                    comm: co.clone(),
                    ok,
                    detail: detail.into(),
                    give_up: false,
                }],
            )
            .expect("recorded");
    }
    let (mut app, _) = desk(w);
    app.open_tree("SO-1");
    let tree = app.hierarchy.tree.clone().expect("the hierarchy");
    let fa = tree.children[0].id.clone();
    app.hierarchy.state.open(vec![tree.id.clone(), fa.clone()]);
    app.hierarchy
        .state
        .select(vec![tree.id.clone(), fa.clone(), co.clone()]);
    let text = screen(&mut app, 120, 40);
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.rsplit('│').nth(1))
        .map(str::trim)
        .collect();
    let at = lines
        .iter()
        .position(|l| *l == "delivery attempts")
        .unwrap_or_else(|| panic!("no attempts in\n{text}"));
    assert_eq!(
        lines[at + 1..at + 4],
        [
            "04:00:05  failed  HTTP 500: internal server error",
            "04:00:35  failed  no answer within 10 s",
            "04:01:40  ok      HTTP 202 in 3 ms",
        ],
        "{text}"
    );
    // The field activity itself has no attempts.
    app.hierarchy.state.select(vec![tree.id.clone(), fa]);
    let text = screen(&mut app, 120, 40);
    assert!(!text.contains("delivery attempts"), "{text}");
}
