//! Crash suite, after sled's own crash test: this test binary re-executes itself as a child
//! (`ORDERDESK_CRASH_CHILD` selects the role) that works on a database — imports requests, runs
//! monitor passes, answers what the outbox lists, hands undelivered messages to a recording
//! "sender", and performs operator actions — printing one `@` line per action only after the
//! engine returned it (so after the flush). The parent SIGKILLs the child at a random moment,
//! sometimes while it is still opening the database, then reopens the database in-process and
//! checks that:
//!
//! - every action the child reported done is there (records, audit lines, transitions);
//! - every activity's and communication's log follows its lifecycle table, a COMPLETED or
//!   DISCARDED orchestration has only final children, and a child in an error state has its
//!   parent in ACTIVITY_ERROR unless it is excused;
//! - no outbound message appears twice: ids are unique, each `fa_create`/`command` message
//!   belongs to exactly one owner of the right kind, an owner has at most one open one, and the
//!   sender never hands over a message again once its delivery was reported durable (a re-send
//!   is only allowed for a message whose delivery was never acknowledged, i.e. after a crash);
//! - every index entry agrees with the records (`Engine::check_consistency`).
//!
//! `ORDERDESK_CRASH_TRIALS` sets the number of trials (default 20).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::lifecycle_graph::check_log;
use orderdesk::config::Config;
use orderdesk::domain::{
    Activity, AuditEntry, AuditOutcome, Body, CommBody, Communication, MessageKind, Role,
};
use orderdesk::engine::{Actor, Engine, EngineError};
use orderdesk::lifecycle::{
    CommandState, FaState, InState, LifecycleState, MaintState, OrchState, OutState,
};
use orderdesk::store::{SledStore, Store, TreeId};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant as WallClock;

/// Selects the child role; its value is the database directory.
const CHILD_ENV: &str = "ORDERDESK_CRASH_CHILD";
/// The child's trial number (its clock window and its random seed).
const TRIAL_ENV: &str = "ORDERDESK_CRASH_TRIAL";
/// A child stops by itself after this long, in case the parent's kill comes late.
const CHILD_LIFETIME_MS: u128 = 3_000;
/// A fresh database every so many trials, so the checks stay quick in a long run.
const TRIALS_PER_DATABASE: usize = 10;

// ---- the child ---------------------------------------------------------------------------

/// The child role: a no-op unless `ORDERDESK_CRASH_CHILD` is set.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let trial: u64 = std::env::var(TRIAL_ENV)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    Child::open(Path::new(&dir), trial).run();
}

/// A small deterministic generator (splitmix64): the child needs no crate for randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct Child {
    engine: Engine,
    sam: Actor,
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    rng: Rng,
    trial: u64,
    n: u64,
}

/// Service point snapshots: no device, manual, smart and commissioned (on and off), smart and
/// not commissioned; so requests take every kind of path.
const SPS: &[&str] = &[
    "null",
    r#"{"id":"D-1","badge":"B-1","smart":false,"commissioned":false,"switch":"on"}"#,
    r#"{"id":"D-2","badge":"B-2","smart":true,"commissioned":true,"switch":"on"}"#,
    r#"{"id":"D-3","badge":"B-3","smart":true,"commissioned":true,"switch":"off"}"#,
    r#"{"id":"D-4","badge":"B-4","smart":true,"commissioned":false,"switch":"off"}"#,
];

const TYPES: &[&str] = &[
    "enable_service",
    "disable_service",
    "cut_for_non_payment",
    "reconnect_for_payment",
    "exchange_meter",
];

/// How far a monitor pass moves the clock, in minutes.
const STEPS: &[i64] = &[0, 1, 5, 16, 61, 6 * 60];

fn base() -> DateTime<Utc> {
    common::at("2025-06-10T09:00:00Z")
}

/// The engine-time window of a trial: trials run one after another, so time never goes back.
fn window(trial: u64) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = base() + Duration::days(10 * trial as i64);
    (start, start + Duration::days(10) - Duration::minutes(1))
}

/// One reported line: written whole and flushed, so the parent never sees half a report.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "@{line}");
    let _ = out.flush();
}

impl Child {
    fn open(dir: &Path, trial: u64) -> Child {
        let store = SledStore::open(dir, "crash child").expect("child opens the database");
        let (now, end) = window(trial);
        Child {
            engine: Engine::new(Box::new(store), Config::default()),
            sam: common::actor("sam", Some(Role::Supervisor)),
            now,
            end,
            rng: Rng(trial.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed),
            trial,
            n: 0,
        }
    }

    fn run(mut self) {
        self.reference_data();
        let started = WallClock::now();
        while started.elapsed().as_millis() < CHILD_LIFETIME_MS {
            match self.rng.below(12) {
                0..=1 => self.import_request(),
                2..=3 => self.tick(),
                4..=6 => self.answer(),
                7 => self.send(),
                _ => self.operator_action(),
            }
        }
    }

    /// The service points, once per database, in one import: all of them or none.
    fn reference_data(&mut self) {
        if self
            .engine
            .store()
            .get(TreeId::ServicePoints, b"SP-0")
            .unwrap()
            .is_some()
        {
            return;
        }
        let lines: Vec<String> = SPS
            .iter()
            .enumerate()
            .map(|(i, device)| common::sp_line(&format!("SP-{i}"), true, device))
            .collect();
        let records = orderdesk::formats::parse_import(lines.join("\n").as_bytes()).unwrap();
        self.engine
            .import(&self.sam, self.now, records)
            .expect("reference data");
        report("reference SP-0");
    }

    fn fresh(&mut self) -> String {
        self.n += 1;
        format!("{}-{}", self.trial, self.n)
    }

    fn import_request(&mut self) {
        let n = self.fresh();
        let id = format!("R-{n}");
        let sp = format!("SP-{}", self.rng.below(SPS.len()));
        let kind = TYPES[self.rng.below(TYPES.len())];
        let mut extra = String::new();
        if self.rng.below(3) == 0 {
            let eff = (self.now + Duration::hours(2)).to_rfc3339();
            extra.push_str(&format!(r#","effective_datetime":"{eff}""#));
        }
        match kind {
            "cut_for_non_payment" => extra
                .push_str(r#","collection_data":{"past_due_amount":"120.50","currency":"USD"}"#),
            "exchange_meter" => {
                let new = format!(
                    r#"{{"id":"DN-{n}","badge":"BN-{n}","smart":true,"commissioned":false}}"#
                );
                let old = sp.replace("SP-", "D-");
                extra.push_str(&format!(r#","old_device_id":"{old}","new_device":{new}"#));
            }
            _ => {}
        }
        let line = common::request(&id, kind, &sp, &extra);
        let records = orderdesk::formats::parse_import(line.as_bytes()).expect("request parses");
        match self.engine.import(&self.sam, self.now, records) {
            Ok(_) => report(&format!("import {id}")),
            Err(e @ EngineError::Store(_) | e @ EngineError::Corrupt(_)) => {
                panic!("import {id}: {e}")
            }
            Err(_) => {}
        }
    }

    fn advance(&mut self, minutes: i64) {
        self.now = (self.now + Duration::minutes(minutes)).min(self.end);
    }

    fn tick(&mut self) {
        let step = STEPS[self.rng.below(STEPS.len())];
        self.advance(step);
        let tick = self.engine.tick(&self.sam, self.now).expect("tick");
        assert!(
            tick.failures.is_empty(),
            "tick failures: {:?}",
            tick.failures
        );
        for t in tick.transitions {
            report(&format!("moved {} {} {}", t.id, t.from, t.to));
        }
    }

    /// Answers one communication of the outbox the way its system would (sometimes wrongly).
    fn answer(&mut self) {
        let open = self.engine.outbox(false).expect("outbox");
        if open.is_empty() {
            return;
        }
        let comm = &open[self.rng.below(open.len())];
        let id = &comm.id;
        let n = self.fresh();
        let device =
            format!(r#"{{"id":"DF-{n}","badge":"BF-{n}","smart":true,"commissioned":false}}"#);
        let line = match (comm.target.as_deref(), comm.message.as_str()) {
            (Some("head_end"), _) => match self.rng.below(5) {
                0 => format!(r#"{{"kind":"fault","comm":"{id}","code":"E1","message":"bad"}}"#),
                1 => format!(
                    r#"{{"kind":"command_result","comm":"{id}","outcome":"fault","code":"HE-1","message":"no answer"}}"#
                ),
                _ => format!(r#"{{"kind":"command_result","comm":"{id}","outcome":"ok"}}"#),
            },
            (_, "fa_create") if !comm.acknowledged => match self.rng.below(6) {
                0 => {
                    format!(r#"{{"kind":"fault","comm":"{id}","code":"E42","message":"refused"}}"#)
                }
                _ => format!(r#"{{"kind":"ack","comm":"{id}","external_id":"EXT-{id}"}}"#),
            },
            (_, "fa_create") => match self.rng.below(6) {
                0 => format!(r#"{{"kind":"fa_complete","comm":"{id}","status":"not_done"}}"#),
                1 => format!(r#"{{"kind":"fa_complete","comm":"{id}","status":"cancelled"}}"#),
                _ => format!(
                    r#"{{"kind":"fa_complete","comm":"{id}","status":"complete","device":{device}}}"#
                ),
            },
            _ => format!(r#"{{"kind":"ack","comm":"{id}","external_id":"EXT-{id}"}}"#),
        };
        let messages = orderdesk::formats::parse_inbound(line.as_bytes()).expect("inbound parses");
        let result = self
            .engine
            .inbound(&self.sam, self.now, messages)
            .unwrap_or_else(|e| panic!("inbound {line}: {e}"));
        for r in result.results {
            report(&format!("inbound {}", r.comm));
        }
    }

    /// The sender: hands undelivered messages to the recording system, then marks them
    /// delivered and makes that durable.
    fn send(&mut self) {
        let pending = self.engine.undelivered(16).expect("undelivered");
        let ids: Vec<String> = pending.into_iter().map(|c| c.id).collect();
        for id in &ids {
            report(&format!("sent {id}"));
        }
        if ids.is_empty() {
            return;
        }
        self.engine
            .mark_delivered(self.now, &ids)
            .expect("mark delivered");
        self.engine.flush().expect("flush");
        for id in &ids {
            report(&format!("delivered {id}"));
        }
    }

    fn operator_action(&mut self) {
        let activities = read_all::<Activity>(self.engine.store(), TreeId::Activities);
        if activities.is_empty() {
            return;
        }
        let errors: Vec<&Activity> = activities.iter().filter(|a| a.is_error()).collect();
        let pool = if !errors.is_empty() && self.rng.below(4) != 0 {
            errors
        } else {
            activities.iter().collect()
        };
        let target = pool[self.rng.below(pool.len())].clone();
        let id = target.id.as_str();
        let (action, result) = match self.rng.below(6) {
            0 | 1 => ("retry", self.engine.retry(&self.sam, self.now, id)),
            2 => (
                "discard",
                self.engine.discard(&self.sam, self.now, id, Some("crash")),
            ),
            3 => (
                "execute-now",
                self.engine.execute_now(&self.sam, self.now, id),
            ),
            4 if target.is_top_level() => (
                "cancel",
                self.engine.cancel(&self.sam, self.now, id, "CR", None),
            ),
            _ if matches!(target.body, Body::Field(_)) => (
                "cancel-fa",
                self.engine.cancel_fa(&self.sam, self.now, id, "CR"),
            ),
            _ => ("retry", self.engine.retry(&self.sam, self.now, id)),
        };
        match result {
            Ok(done) if action == "cancel" => report(&format!("filed {}", done.id)),
            Ok(_) => report(&format!("done {action} {id}")),
            Err(EngineError::Refused { code, .. }) => {
                report(&format!("refused {action} {id} {code}"))
            }
            Err(EngineError::BadInput(_)) => {}
            Err(e) => panic!("{action} {id}: {e}"),
        }
    }
}

// ---- reading the database ------------------------------------------------------------------

/// Every record of `tree`, decoded as the engine writes it (see `engine::codec`).
fn read_all<T: serde::de::DeserializeOwned>(store: &dyn Store, tree: TreeId) -> Vec<T> {
    store
        .range(tree, &[], None, usize::MAX, false)
        .expect("range")
        .into_iter()
        .map(|(key, value)| {
            assert_eq!(
                value.first(),
                Some(&orderdesk::engine::codec::VALUE_VERSION),
                "{}: value version",
                tree.name()
            );
            orderdesk::engine::codec::decode(tree, &key, &value)
                .unwrap_or_else(|e| panic!("{} {key:?}: {e}", tree.name()))
        })
        .collect()
}

// ---- the parent ----------------------------------------------------------------------------

/// What the parent learned from the children's reports, across trials of one database.
#[derive(Default)]
struct Ledger {
    /// Reported lines, for the checks after each crash.
    lines: Vec<String>,
    /// Per message id: the trial that last handed it over, and whether its delivery was
    /// reported durable.
    sent: BTreeMap<String, (usize, bool)>,
}

#[derive(Default)]
struct Figures {
    trials: usize,
    kills: usize,
    early_kills: usize,
    reports: usize,
    violations: Vec<String>,
}

#[test]
fn crash_trials_keep_every_invariant() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let trials: usize = std::env::var("ORDERDESK_CRASH_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(20);
    let started = WallClock::now();
    let root = tempfile::tempdir().expect("tempdir");
    let mut figures = Figures::default();
    let mut rng = Rng(0xc0ffee);
    let mut ledger = Ledger::default();
    let mut db = PathBuf::new();
    for trial in 0..trials {
        if trial % TRIALS_PER_DATABASE == 0 {
            db = root.path().join(format!("db-{trial}"));
            ledger = Ledger::default();
        }
        // A quarter of the kills land in the first milliseconds: during start-up and open.
        let delay = if rng.below(4) == 0 {
            rng.below(25) as u64
        } else {
            25 + rng.below(400) as u64
        };
        let outcome = run_child(&db, trial, delay);
        figures.trials += 1;
        figures.kills += usize::from(outcome.killed);
        figures.early_kills += usize::from(outcome.killed && outcome.lines.is_empty());
        figures.reports += outcome.lines.len();
        if let Some(failure) = outcome.failure {
            figures.violations.push(format!("trial {trial}: {failure}"));
        }
        for line in &outcome.lines {
            let mut words = line.split(' ');
            match (words.next(), words.next()) {
                (Some("sent"), Some(id)) => {
                    if let Some(&(before, delivered)) = ledger.sent.get(id) {
                        if before == trial || delivered {
                            figures.violations.push(format!(
                                "trial {trial}: {id} handed over again (first in trial {before}, delivery reported: {delivered})"
                            ));
                        }
                    }
                    ledger.sent.insert(id.to_string(), (trial, false));
                }
                (Some("delivered"), Some(id)) => {
                    ledger.sent.insert(id.to_string(), (trial, true));
                }
                _ => {}
            }
        }
        ledger.lines.extend(outcome.lines);
        for violation in check_database(&db, &ledger) {
            figures
                .violations
                .push(format!("trial {trial}: {violation}"));
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "crash suite: {} trials, {} kills ({} before the first report), {} reports, {} violations, {:.1}s",
        figures.trials,
        figures.kills,
        figures.early_kills,
        figures.reports,
        figures.violations.len(),
        elapsed.as_secs_f64()
    );
    assert!(
        figures.violations.is_empty(),
        "{} violation(s):\n{}",
        figures.violations.len(),
        figures.violations[..figures.violations.len().min(40)].join("\n")
    );
}

struct Outcome {
    killed: bool,
    lines: Vec<String>,
    failure: Option<String>,
}

/// Runs one child on `db` and SIGKILLs it after `delay_ms`.
fn run_child(db: &Path, trial: usize, delay_ms: u64) -> Outcome {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, db)
        .env(TRIAL_ENV, trial.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut buf = std::io::BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match buf.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // Only whole lines count: a line cut by the kill was never reported.
                Ok(_) if line.ends_with('\n') => {
                    if let Some(report) = line.trim_end().strip_prefix('@') {
                        lines.push(report.to_string());
                    }
                }
                Ok(_) => break,
            }
        }
        lines
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let killed = child.try_wait().expect("try_wait").is_none();
    if killed {
        child.kill().expect("SIGKILL the child");
    }
    let status = child.wait().expect("wait");
    let lines = reader.join().expect("reader");
    let errors = errors.join().expect("stderr reader");
    let failure = (!killed && !status.success()).then(|| {
        let tail: Vec<&str> = errors.lines().rev().take(15).collect();
        format!(
            "the child failed ({status}):\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    });
    Outcome {
        killed,
        lines,
        failure,
    }
}

/// Reopens the database in-process and checks every invariant of the module docs.
fn check_database(db: &Path, ledger: &Ledger) -> Vec<String> {
    if !db.exists() {
        return Vec::new();
    }
    let store = match SledStore::open(db, "crash parent") {
        Ok(store) => store,
        Err(e) => return vec![format!("reopen: {e}")],
    };
    let engine = Engine::new(Box::new(store), Config::default());
    let mut problems = match engine.check_consistency() {
        Ok(list) => list,
        Err(e) => return vec![format!("check_consistency: {e}")],
    };
    let store = engine.store();
    let activities: Vec<Activity> = read_all(store, TreeId::Activities);
    let comms: Vec<Communication> = read_all(store, TreeId::Comms);
    let audit: Vec<AuditEntry> = read_all(store, TreeId::Audit);
    let has_sp = |sp: &str| {
        store
            .get(TreeId::ServicePoints, sp.as_bytes())
            .is_ok_and(|v| v.is_some())
    };
    problems.extend(check_reports(ledger, &activities, &comms, &audit, has_sp));
    problems.extend(check_graphs(&activities, &comms));
    problems.extend(check_outbound(&activities, &comms));
    problems
}

/// Every action reported done is in the database.
fn check_reports(
    ledger: &Ledger,
    activities: &[Activity],
    comms: &[Communication],
    audit: &[AuditEntry],
    has_sp: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut logs: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    for (id, log) in activities
        .iter()
        .map(|a| (a.id.as_str(), &a.log))
        .chain(comms.iter().map(|c| (c.id.as_str(), &c.log)))
    {
        ids.insert(id);
        let edges = logs.entry(id).or_default();
        for line in log {
            if let (Some(from), Some(to)) = (&line.from, &line.to) {
                edges.insert((from.clone(), to.clone()));
            }
        }
    }
    let mut audited: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for entry in audit {
        let outcome = match &entry.outcome {
            AuditOutcome::Done => "done".to_string(),
            AuditOutcome::Refused { code, .. } => format!("refused {code}"),
        };
        let id = entry.ids.first().cloned().unwrap_or_default();
        *audited
            .entry((outcome, entry.action.clone(), id))
            .or_default() += 1;
    }
    let mut wanted: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for line in &ledger.lines {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["import", id] | ["inbound", id] | ["filed", id] => {
                if !ids.contains(id) {
                    problems.push(format!("reported `{line}` but {id} is not in the database"));
                }
            }
            ["moved", id, from, to] => {
                let found = logs
                    .get(id)
                    .is_some_and(|edges| edges.contains(&(from.to_string(), to.to_string())));
                if !found {
                    problems.push(format!("reported `{line}` but {id}'s log lacks it"));
                }
            }
            ["done", action, id] => {
                *wanted
                    .entry(("done".into(), action.to_string(), id.to_string()))
                    .or_default() += 1;
            }
            ["refused", action, id, code] => {
                *wanted
                    .entry((
                        format!("refused {code}"),
                        action.to_string(),
                        id.to_string(),
                    ))
                    .or_default() += 1;
            }
            ["reference", sp] => {
                if !has_sp(sp) {
                    problems.push(format!("reported `{line}` but {sp} is not in the database"));
                }
            }
            ["sent", _] | ["delivered", _] => {}
            _ => problems.push(format!("unknown report `{line}`")),
        }
    }
    for (key, count) in wanted {
        let have = audited.get(&key).copied().unwrap_or(0);
        if have < count {
            problems.push(format!(
                "{count} `{} {}` of {} reported, {have} in the audit log",
                key.0, key.1, key.2
            ));
        }
    }
    problems
}

/// Logs follow the tables; parents agree with children.
fn check_graphs(activities: &[Activity], comms: &[Communication]) -> Vec<String> {
    let mut problems = Vec::new();
    let by_seq: BTreeMap<u64, &Activity> = activities.iter().map(|a| (a.seq, a)).collect();
    for a in activities {
        let state = a.state_code();
        let checked = match &a.body {
            Body::Orchestration(_) => check_log::<OrchState>(&a.id, state, &a.log),
            Body::Maintenance(_) => check_log::<MaintState>(&a.id, state, &a.log),
            Body::Field(_) => check_log::<FaState>(&a.id, state, &a.log),
            Body::Command(_) => check_log::<CommandState>(&a.id, state, &a.log),
        };
        if let Err(e) = checked {
            problems.push(e);
        }
        let Some(parent_seq) = a.parent else {
            continue;
        };
        let Some(parent) = by_seq.get(&parent_seq) else {
            problems.push(format!("{}: its parent #{parent_seq} does not exist", a.id));
            continue;
        };
        if matches!(parent.state_code(), "COMPLETED" | "DISCARDED") && !a.is_final() {
            problems.push(format!(
                "{} is {} but its child {} is {state}",
                parent.id,
                parent.state_code(),
                a.id
            ));
        }
        if a.is_error() && !a.excused && parent.state_code() != "ACTIVITY_ERROR" {
            problems.push(format!(
                "{} is in {state} but its parent {} is {}",
                a.id,
                parent.id,
                parent.state_code()
            ));
        }
    }
    for c in comms {
        let checked = match &c.body {
            CommBody::Outbound(_) => check_log::<OutState>(&c.id, c.state_code(), &c.log),
            CommBody::Inbound(_) => check_log::<InState>(&c.id, c.state_code(), &c.log),
        };
        if let Err(e) = checked {
            problems.push(e);
        }
    }
    problems
}

/// No outbound message twice: unique ids, one owner of the right kind, one open per owner.
fn check_outbound(activities: &[Activity], comms: &[Communication]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for id in activities
        .iter()
        .map(|a| &a.id)
        .chain(comms.iter().map(|c| &c.id))
    {
        if !seen.insert(id) {
            problems.push(format!("the id {id} is used twice"));
        }
    }
    let by_seq: BTreeMap<u64, &Activity> = activities.iter().map(|a| (a.seq, a)).collect();
    let mut open: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for c in comms {
        let CommBody::Outbound(o) = &c.body else {
            continue;
        };
        let kind_fits = |a: &Activity| match o.message {
            MessageKind::FaCreate => matches!(a.body, Body::Field(_)),
            MessageKind::Command => matches!(a.body, Body::Command(_)),
            _ => true,
        };
        if !matches!(o.message, MessageKind::FaCreate | MessageKind::Command) {
            continue;
        }
        match by_seq.get(&o.owner) {
            None => problems.push(format!("{}: its owner #{} does not exist", c.id, o.owner)),
            Some(owner) if !kind_fits(owner) || owner.id != o.owner_id => problems.push(format!(
                "{} ({}) names {} as owner, which is {}",
                c.id,
                o.message.code(),
                o.owner_id,
                owner.kind_name()
            )),
            Some(_) => {}
        }
        if !o.state.is_final() {
            open.entry(o.owner).or_default().push(&c.id);
        }
    }
    for (owner, ids) in open {
        if ids.len() > 1 {
            let name = by_seq.get(&owner).map_or("?", |a| a.id.as_str());
            problems.push(format!("{name} has {} open messages: {ids:?}", ids.len()));
        }
    }
    problems
}
