//! The background runtime: the writer, the monitor loop, the batch, the outbox sender and the
//! simulated external systems, driven on a fast clock (600×: a wall second is ten engine
//! minutes) over an in-memory store. Given / when / then.

use chrono::{DateTime, Utc};
use orderdesk::client::{Connection, Local, Request};
use orderdesk::config::Config;
use orderdesk::domain::Role;
use orderdesk::engine::Reader;
use orderdesk::engine::{Actor, Engine};
use orderdesk::runtime::{Clock, Notice, Runtime, RuntimeOptions, Ticket};
use orderdesk::store::MemStore;
use std::time::Duration;

const T0: &str = "2025-06-10T09:00:00Z";

/// How long any wait may take before the test fails (wall time).
const PATIENCE: Duration = Duration::from_secs(8);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test time")
        .with_timezone(&Utc)
}

fn actor(name: &str, role: Role) -> Actor {
    Actor {
        operator: name.into(),
        role: Some(role),
        divisions: Vec::new(),
        read_only: false,
        channel: None,
        account: None,
    }
}

/// The default configuration with the simulators' fault rates set.
fn config(field_work_fault_rate: f64, head_end_fault_rate: f64) -> Config {
    let mut config = Config::default();
    config.simulators.field_work_fault_rate = field_work_fault_rate;
    config.simulators.head_end_fault_rate = head_end_fault_rate;
    config
}

/// An engine holding an Enable Service (SO-1) on SP-1, which has no meter yet.
fn enable_without_meter(config: Config) -> Engine {
    let mut engine = Engine::new(Box::new(MemStore::new()), config);
    let lines = [
        r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"1 Main St","device":null}"#,
        r#"{"kind":"request","id":"SO-1","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}"#,
    ]
    .join("\n");
    let records = orderdesk::formats::parse_import(lines.as_bytes()).expect("import parses");
    engine
        .import(&actor("sam", Role::Supervisor), at(T0), records)
        .expect("import");
    engine
}

fn options(simulate: bool) -> RuntimeOptions {
    RuntimeOptions {
        clock: Clock::starting_at(at(T0), 600.0),
        monitor_every: Some(Duration::from_millis(10)),
        crwto_every_minutes: 15,
        simulate,
    }
}

/// A desk's side of the runtime: the engine in this process, and the desk's connection to it.
struct Desk {
    runtime: Runtime,
    connection: Connection,
}

impl Desk {
    fn start(engine: Engine, actor: Actor, options: RuntimeOptions) -> Desk {
        let runtime = Runtime::start(engine, options).expect("runtime starts");
        let local = Local::new(runtime.handle().clone(), actor.via("desk"), "test");
        let connection = Connection::new(local.shared());
        Desk {
            runtime,
            connection,
        }
    }

    fn reader(&self) -> &Reader {
        self.runtime.handle().reader()
    }

    fn send(&mut self, request: Request) -> Ticket {
        self.connection.send(request)
    }

    fn try_notice(&mut self) -> Option<Notice> {
        self.connection.try_notice()
    }

    /// Quits as the desk does: the actions started are finished, then the engine stops.
    async fn shutdown(mut self) -> Result<(), orderdesk::engine::EngineError> {
        self.connection.finish().await;
        self.runtime.shutdown().await
    }
}

/// The state code of an activity, read as the desk's views read it.
fn state(runtime: &Desk, id: &str) -> String {
    runtime
        .reader()
        .show(&Actor::system(), id)
        .map(|tree| tree.state)
        .unwrap_or_else(|e| format!("<{e}>"))
}

/// Drains notices into `seen` until `done` holds; panics after [`PATIENCE`].
async fn wait_for(
    runtime: &mut Desk,
    seen: &mut Vec<Notice>,
    what: &str,
    done: impl Fn(&Desk, &[Notice]) -> bool,
) {
    let start = tokio::time::Instant::now();
    loop {
        while let Some(notice) = runtime.try_notice() {
            seen.push(notice);
        }
        if done(runtime, seen) {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for {what}; SO-1 is {}; last notices: {:?}",
            state(runtime, "SO-1"),
            &seen[seen.len().saturating_sub(5)..]
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The outcome notice of `ticket`, once it arrived.
fn outcome(seen: &[Notice], ticket: Ticket) -> Option<&Notice> {
    seen.iter().find(|n| match n {
        Notice::Done { ticket: t, .. } | Notice::Refused { ticket: t, .. } => *t == ticket,
        Notice::Failed { ticket: t, .. } => *t == Some(ticket),
        _ => false,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn simulators_drive_an_enable_without_meter_to_completed() {
    // Given an Enable on a service point with no meter, and simulators that never fault
    let engine = enable_without_meter(config(0.0, 0.0));
    let mut runtime = Desk::start(engine, actor("sam", Role::Supervisor), options(true));
    let mut seen = Vec::new();
    // When the runtime runs: the install is acked and completed, the new meter commissioned
    // and connected by the head-end
    wait_for(&mut runtime, &mut seen, "SO-1 COMPLETED", |rt, _| {
        state(rt, "SO-1") == "COMPLETED"
    })
    .await;
    // Then every child completed, the desk heard about it, and the batch ran on its schedule
    let tree = runtime
        .reader()
        .show(&Actor::system(), "SO-1")
        .expect("show");
    assert!(tree.children.len() >= 2, "{:?}", tree.children);
    assert!(tree.children.iter().all(|c| c.state == "COMPLETED"));
    assert!(seen.iter().any(|n| matches!(n, Notice::Changed { .. })));
    assert!(seen
        .iter()
        .any(|n| matches!(n, Notice::MonitorPass { transitions, .. } if *transitions > 0)));
    assert!(seen
        .iter()
        .any(|n| matches!(n, Notice::Crwto { manual: false, .. })));
    assert!(runtime.reader().error_inbox().expect("inbox").is_empty());
    runtime.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_end_in_activity_error_and_a_supervisor_retry_is_done() {
    // Given simulators that always fault
    let engine = enable_without_meter(config(1.0, 1.0));
    let mut runtime = Desk::start(engine, actor("sam", Role::Supervisor), options(true));
    let mut seen = Vec::new();
    // When the field work system rejects the install
    wait_for(&mut runtime, &mut seen, "SO-1 ACTIVITY_ERROR", |rt, _| {
        state(rt, "SO-1") == "ACTIVITY_ERROR"
    })
    .await;
    // Then the supervisor's retry is done, with the toast the desk shows
    let ticket = runtime.send(Request::Retry { id: "SO-1".into() });
    wait_for(&mut runtime, &mut seen, "the retry's outcome", |_, seen| {
        outcome(seen, ticket).is_some()
    })
    .await;
    match outcome(&seen, ticket) {
        Some(Notice::Done { message, .. }) => {
            assert!(message.starts_with("SO-1 retried: now "), "{message}")
        }
        other => panic!("expected Done, got {other:?}"),
    }
    runtime.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_retry_is_refused_and_dropping_the_runtime_does_not_hang() {
    // Given a clerk's desk on an orchestration in ACTIVITY_ERROR
    let engine = enable_without_meter(config(1.0, 1.0));
    let mut runtime = Desk::start(engine, actor("bo", Role::Clerk), options(true));
    let mut seen = Vec::new();
    wait_for(&mut runtime, &mut seen, "SO-1 ACTIVITY_ERROR", |rt, _| {
        state(rt, "SO-1") == "ACTIVITY_ERROR"
    })
    .await;
    // When the clerk retries
    let ticket = runtime.send(Request::Retry { id: "SO-1".into() });
    wait_for(&mut runtime, &mut seen, "the retry's outcome", |_, seen| {
        outcome(seen, ticket).is_some()
    })
    .await;
    // Then it is refused, and nothing moved
    assert!(
        matches!(outcome(&seen, ticket), Some(Notice::Refused { code, .. }) if code == "PERMISSION_DENIED"),
        "{:?}",
        outcome(&seen, ticket)
    );
    assert_eq!(state(&runtime, "SO-1"), "ACTIVITY_ERROR");
    // And dropping the runtime instead of shutting it down returns at once
    let Desk {
        runtime,
        connection,
    } = runtime;
    drop(connection);
    let dropped = tokio::task::spawn_blocking(move || drop(runtime));
    tokio::time::timeout(Duration::from_secs(2), dropped)
        .await
        .expect("drop does not hang")
        .expect("drop does not panic");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_finishes_accepted_requests_and_stops_cleanly() {
    // Given a supervisor's desk
    let engine = enable_without_meter(config(0.0, 0.0));
    let reader = engine.reader();
    let mut runtime = Desk::start(engine, actor("sam", Role::Supervisor), options(true));
    let mut seen = Vec::new();
    // When the supervisor runs the batch by hand
    let ticket = runtime.send(Request::RunCrwto);
    wait_for(&mut runtime, &mut seen, "the batch's outcome", |_, seen| {
        outcome(seen, ticket).is_some()
    })
    .await;
    // Then the desk saw it start, its report, and its toast
    assert!(seen.iter().any(|n| matches!(n, Notice::Busy { .. })));
    assert!(seen
        .iter()
        .any(|n| matches!(n, Notice::Crwto { manual: true, .. })));
    assert!(
        matches!(outcome(&seen, ticket), Some(Notice::Done { message, .. }) if message.starts_with("throttle batch: released 0"))
    );
    // And a request sent just before quitting is still applied before the shutdown returns
    runtime.send(Request::RunCrwto);
    runtime.shutdown().await.expect("clean shutdown");
    let runs = reader
        .audit(None, 0)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "crwto")
        .count();
    assert_eq!(runs, 2, "both manual batches are audited");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_partners_messages_wait_in_the_outbox_and_are_never_answered() {
    // Given a desk connected to nothing (--no-sim, no [partners])
    let engine = enable_without_meter(config(0.0, 0.0));
    let mut runtime = Desk::start(engine, actor("sam", Role::Supervisor), options(false));
    let mut seen = Vec::new();
    // When the install's fa_create has been written
    wait_for(&mut runtime, &mut seen, "the fa_create written", |rt, _| {
        !rt.reader().outbox(false).expect("outbox").is_empty()
    })
    .await;
    // Then, long after the field work system would have acked (here 3 engine minutes), nobody has
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outbox = runtime.reader().outbox(false).expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].message, "fa_create");
    assert_eq!(outbox[0].state, "AWAITING_RESPONSE");
    assert!(!outbox[0].acknowledged);
    assert!(outbox[0].replies.is_empty());
    assert_eq!(state(&runtime, "SO-1"), "IN_PROGRESS");
    // and it waits for a field work system nobody connected
    let waiting = runtime.reader().undelivered(10).expect("undelivered");
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].attempts.is_empty(), "nobody tried to deliver it");
    runtime.shutdown().await.expect("clean shutdown");
}

/// The desk may keep the runtime in a task on any worker: the handle and its notice future are
/// `Send` (checked by the compiler).
#[test]
fn the_handle_and_its_notices_can_cross_threads() {
    fn send<T: Send>(_: &T) {}
    fn check(runtime: &mut Runtime, connection: &mut Connection) {
        send(runtime);
        send(runtime.handle());
        send(connection);
        send(&connection.next_notice());
    }
    let _ = check as fn(&mut Runtime, &mut Connection);
}
