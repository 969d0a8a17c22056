//! Property: no sequence of commands leaves a lifecycle graph (§3, §12.6).
//!
//! Random worlds (a few service points with random snapshots) receive random commands: imports
//! of requests of random types, monitor passes at increasing times, inbound answers to whatever
//! is in the outbox (and some that answer the wrong thing or nothing), operator actions on random
//! ids, and the throttle batch. After every step:
//!
//! - every transition-log line of every activity and communication is an edge of its lifecycle
//!   table (`LifecycleState::allows`), and the lines chain from PENDING to the current state;
//! - nothing follows a final state;
//! - every orchestration in COMPLETED or DISCARDED has only final children (§3.1);
//! - no outbound communication stays open once its owner is final (§12.3).
//!
//! Refusals and bad input are fine answers to an operator. A failed monitor chain, an `Err` from
//! `inbound` or `crwto`, an error that is neither `Refused` nor `BadInput`, and a refusal raised by
//! the transition check itself (the engine tried an edge its own table lacks) are failures.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::lifecycle_graph::check_log;
use common::*;
use orderdesk::domain::Role;
use orderdesk::engine::{CommView, EngineError, ListFilter, TreeNode};
use orderdesk::formats::{CompletionReport, CompletionStatus};
use orderdesk::lifecycle::{
    CommandState, FaState, InState, LifecycleState, MaintState, OrchState, OutState,
};
use proptest::prelude::*;

/// The message `record_transition` gives when the engine itself tries an edge its table lacks.
const TABLE_VIOLATION: &str = "is not a transition of its lifecycle";

/// A service point snapshot: its device as (smart, commissioned, switched On) if it has one,
/// whether it is connected at the source, whether it is active.
type Profile = (Option<(bool, bool, bool)>, bool, bool);

const PROFILES: &[Profile] = &[
    (None, true, true),
    (None, false, true),
    (Some((false, false, false)), true, true),
    (Some((false, false, true)), true, true),
    (Some((true, false, false)), true, true),
    (Some((true, true, true)), true, true),
    (Some((true, true, false)), false, true),
    (Some((true, false, true)), true, true),
    (Some((true, true, true)), true, false),
];

const TYPES: &[&str] = &[
    "enable_service",
    "disable_service",
    "cut_for_non_payment",
    "reconnect_for_payment",
    "exchange_meter",
    "back_to_back",
];

/// How far a monitor pass moves the clock, in minutes: same minute, a little, past the response
/// timeouts, past an expiration.
const STEPS: &[i64] = &[0, 1, 5, 16, 61, 6 * 60, 24 * 60 + 1, 3 * 24 * 60];

/// States that Retry and Discard are for.
const ERRORS: &[&str] = &[
    "VALIDATION_ERROR",
    "ACTIVITY_ERROR",
    "COMM_ERROR",
    "COMPLETION_ERROR",
];

/// States of an orchestration with something to cancel or update.
const BUSY: &[&str] = &[
    "WAIT_EFF_DATE",
    "IN_PROGRESS",
    "ACTIVITY_ERROR",
    "VALIDATION_ERROR",
];

/// States in which a field activity may be completed or cancelled by hand.
const MANUAL: &[&str] = &["COMM_IN_PROGRESS", "COMM_ERROR", "COMPLETION_ERROR"];

/// One command of a random sequence. `pick` values choose among what exists when it runs.
#[derive(Debug, Clone)]
enum Op {
    Import {
        sp: usize,
        kind: usize,
        future: bool,
        valid: bool,
    },
    Tick {
        step: usize,
    },
    Inbound {
        pick: usize,
        answer: usize,
        smart: bool,
    },
    Unmatched,
    Retry {
        pick: usize,
    },
    Discard {
        pick: usize,
    },
    ExecuteNow {
        pick: usize,
    },
    Cancel {
        pick: usize,
        child: Option<usize>,
    },
    Update {
        pick: usize,
        child: Option<usize>,
        start: bool,
    },
    CompleteFa {
        pick: usize,
        status: usize,
    },
    CancelFa {
        pick: usize,
    },
    Crwto {
        throttle: Option<bool>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let pick = 0usize..64;
    prop_oneof![
        3 => (0usize..4, 0..TYPES.len(), any::<bool>(), prop::bool::weighted(0.85))
            .prop_map(|(sp, kind, future, valid)| Op::Import { sp, kind, future, valid }),
        6 => (0..STEPS.len()).prop_map(|step| Op::Tick { step }),
        8 => (pick.clone(), 0usize..12, any::<bool>())
            .prop_map(|(pick, answer, smart)| Op::Inbound { pick, answer, smart }),
        1 => Just(Op::Unmatched),
        2 => pick.clone().prop_map(|pick| Op::Retry { pick }),
        1 => pick.clone().prop_map(|pick| Op::Discard { pick }),
        1 => pick.clone().prop_map(|pick| Op::ExecuteNow { pick }),
        1 => (pick.clone(), prop::option::of(0usize..4))
            .prop_map(|(pick, child)| Op::Cancel { pick, child }),
        1 => (pick.clone(), prop::option::of(0usize..4), any::<bool>())
            .prop_map(|(pick, child, start)| Op::Update { pick, child, start }),
        1 => (pick.clone(), 0usize..3).prop_map(|(pick, status)| Op::CompleteFa { pick, status }),
        1 => pick.prop_map(|pick| Op::CancelFa { pick }),
        1 => prop::option::of(any::<bool>()).prop_map(|throttle| Op::Crwto { throttle }),
    ]
}

/// The world under test, with its clock and counters for fresh names.
struct Run {
    w: World,
    now: DateTime<Utc>,
    sps: Vec<String>,
    fresh: usize,
}

/// Configurations the worlds run under: the defaults, no field work system (field activities
/// stop in VALIDATION_ERROR), and unthrottled disconnects with tight limits.
const CONFIGS: &[&str] = &[
    "",
    "[field_work]\nrecipient = \"\"\n",
    r#"
[commands.remote_disconnect]
throttle = "not_allowed"
schedule = []
[activity_types.enable_service]
expiration_days = 1
max_passes = 3
[activity_types.cut_for_non_payment]
expiration_days = 0
ensure_business_hours = false
[communications]
head_end_response_minutes = 5
field_work_ack_minutes = 5
"#,
];

impl Run {
    fn new(config: usize, profiles: &[usize]) -> Run {
        let mut w = World::with_toml(CONFIGS[config % CONFIGS.len()]);
        let now = at("2025-06-10T09:00:00Z");
        let mut lines = Vec::new();
        let mut sps = Vec::new();
        for (i, &p) in profiles.iter().enumerate() {
            let (device, src, active) = PROFILES[p % PROFILES.len()];
            let device = match device {
                None => "null".to_string(),
                Some((smart, commissioned, on)) => format!(
                    r#"{{"id":"D-{i}","badge":"B-{i}","smart":{smart},"commissioned":{commissioned},"switch":"{}"}}"#,
                    if on { "on" } else { "off" }
                ),
            };
            let status = if active { "active" } else { "inactive" };
            lines.push(format!(
                r#"{{"kind":"service_point","id":"SP-{i}","sp_kind":"meter","status":"{status}","connected_at_source":{src},"division":"NORTH","address":"{i} Main St","device":{device}}}"#
            ));
            sps.push(format!("SP-{i}"));
        }
        w.import("2025-06-10T09:00:00Z", &lines.join("\n"));
        Run {
            w,
            now,
            sps,
            fresh: 0,
        }
    }

    fn fresh(&mut self) -> usize {
        self.fresh += 1;
        self.fresh
    }

    /// Every activity as (id, kind, state): top-level ones and their children, ascending.
    fn activities(&self) -> Vec<(String, String, String)> {
        let mut found = Vec::new();
        let rows = self
            .w
            .engine
            .list(&self.w.supervisor, &ListFilter::default())
            .expect("list");
        for row in rows {
            let tree = self.w.show(&row.id);
            found.push((row.id.clone(), row.activity_type.clone(), row.state.clone()));
            for child in &tree.children {
                found.push((child.id.clone(), child.kind.clone(), child.state.clone()));
            }
        }
        found
    }

    /// An activity of a kind `keep` accepts; three times in four one whose state is in
    /// `preferred` when there is one, so actions mostly meet the states they are meant for.
    fn pick_where(
        &self,
        pick: usize,
        preferred: &[&str],
        keep: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let all: Vec<(String, String)> = self
            .activities()
            .into_iter()
            .filter(|(_, kind, _)| keep(kind))
            .map(|(id, _, state)| (id, state))
            .collect();
        let fitting: Vec<&(String, String)> = all
            .iter()
            .filter(|(_, state)| preferred.contains(&state.as_str()))
            .collect();
        if pick % 4 != 0 && !fitting.is_empty() {
            return Some(fitting[pick % fitting.len()].0.clone());
        }
        (!all.is_empty()).then(|| all[pick % all.len()].0.clone())
    }

    fn is_orchestration(kind: &str) -> bool {
        TYPES.contains(&kind)
    }

    /// Runs one command; `Err` is a property failure.
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let sam = self.w.supervisor.clone();
        let now = self.now;
        match op {
            Op::Import {
                sp,
                kind,
                future,
                valid,
            } => {
                let sp = self.sps[sp % self.sps.len()].clone();
                let line = self.request_line(&sp, TYPES[*kind], *future, *valid);
                let records = orderdesk::formats::parse_import(line.as_bytes())
                    .map_err(|e| format!("generated import does not parse: {e}\n{line}"))?;
                operator(self.w.engine.import(&sam, now, records))
            }
            Op::Tick { step } => {
                self.now += Duration::minutes(STEPS[*step]);
                let report = self
                    .w
                    .engine
                    .tick(&sam, self.now)
                    .map_err(|e| format!("tick: {e:?}"))?;
                if report.failures.is_empty() {
                    Ok(())
                } else {
                    Err(format!("tick failures: {:?}", report.failures))
                }
            }
            Op::Inbound {
                pick,
                answer,
                smart,
            } => {
                let comms = self.w.engine.outbox(true).expect("outbox");
                if comms.is_empty() {
                    return Ok(());
                }
                // Mostly the open ones, sometimes any (late and second answers).
                let open: Vec<&CommView> = comms
                    .iter()
                    .filter(|c| c.state == "AWAITING_RESPONSE")
                    .collect();
                let comm = if !open.is_empty() && pick % 4 != 0 {
                    open[pick % open.len()].clone()
                } else {
                    comms[pick % comms.len()].clone()
                };
                let line = self.answer(&comm, *answer, *smart);
                self.inbound(&line)
            }
            Op::Unmatched => {
                let line =
                    r#"{"kind":"command_result","comm":"CO-999","outcome":"ok"}"#.to_string();
                self.inbound(&line)
            }
            Op::Retry { pick } => {
                // Activities, and now and then an inbound message in the error inbox.
                let inbox = self.w.engine.error_inbox().expect("error inbox");
                let id = if pick % 5 == 0 && !inbox.is_empty() {
                    Some(inbox[pick % inbox.len()].id.clone())
                } else {
                    self.pick_where(*pick, ERRORS, |_| true)
                };
                match id {
                    Some(id) => operator(self.w.engine.retry(&sam, now, &id)),
                    None => Ok(()),
                }
            }
            Op::Discard { pick } => match self.pick_where(*pick, ERRORS, |_| true) {
                Some(id) => operator(self.w.engine.discard(&sam, now, &id, Some("prop"))),
                None => Ok(()),
            },
            Op::ExecuteNow { pick } => {
                match self.pick_where(*pick, &["WAIT_EFF_DATE", "WAIT_EFF"], |_| true) {
                    Some(id) => operator(self.w.engine.execute_now(&sam, now, &id)),
                    None => Ok(()),
                }
            }
            Op::Cancel { pick, child } => {
                let Some(id) = self.pick_where(*pick, BUSY, Run::is_orchestration) else {
                    return Ok(());
                };
                let related = child.and_then(|c| self.child_of(&id, c));
                let reason = if pick % 7 == 0 { "" } else { "CR" };
                operator(
                    self.w
                        .engine
                        .cancel(&sam, now, &id, reason, related.as_deref()),
                )
            }
            Op::Update { pick, child, start } => {
                let Some(id) = self.pick_where(*pick, BUSY, Run::is_orchestration) else {
                    return Ok(());
                };
                let related = child.and_then(|c| self.child_of(&id, c));
                let start = start.then(|| now + Duration::hours(2));
                operator(self.w.engine.update(
                    &sam,
                    now,
                    &id,
                    "gate code 1234",
                    start,
                    related.as_deref(),
                ))
            }
            Op::CompleteFa { pick, status } => {
                let Some(id) = self.pick_where(*pick, MANUAL, |k| k.starts_with("D1-")) else {
                    return Ok(());
                };
                let n = self.fresh();
                let status = [
                    CompletionStatus::Complete,
                    CompletionStatus::NotDone,
                    CompletionStatus::Cancelled,
                ][*status];
                let report = CompletionReport {
                    status,
                    at: Some(now),
                    remarks: Some("by hand".into()),
                    device: Some(device_spec(n, pick % 2 == 0)),
                    old_device: None,
                    readings: Vec::new(),
                };
                operator(self.w.engine.complete_fa(&sam, now, &id, report))
            }
            Op::CancelFa { pick } => match self.pick_where(*pick, MANUAL, |k| k.starts_with("D1-"))
            {
                Some(id) => operator(self.w.engine.cancel_fa(&sam, now, &id, "CR")),
                None => Ok(()),
            },
            Op::Crwto { throttle } => self
                .w
                .engine
                .crwto(&sam, now, *throttle)
                .map(|_| ())
                .map_err(|e| format!("crwto: {e:?}")),
        }
    }

    fn child_of(&self, parent: &str, pick: usize) -> Option<String> {
        let children = self.w.children(parent);
        (!children.is_empty()).then(|| children[pick % children.len()].id.clone())
    }

    fn inbound(&mut self, line: &str) -> Result<(), String> {
        let messages = orderdesk::formats::parse_inbound(line.as_bytes())
            .map_err(|e| format!("generated inbound does not parse: {e}\n{line}"))?;
        let sam = self.w.supervisor.clone();
        self.w
            .engine
            .inbound(&sam, self.now, messages)
            .map(|_| ())
            .map_err(|e| format!("inbound {line}: {e:?}"))
    }

    /// A request line of `kind` on `sp`; `valid = false` leaves out what Validate requires.
    fn request_line(&mut self, sp: &str, kind: &str, future: bool, valid: bool) -> String {
        let n = self.fresh();
        let mut extra = String::new();
        if future {
            let eff = (self.now + Duration::hours(3)).to_rfc3339();
            extra.push_str(&format!(r#","effective_datetime":"{eff}""#));
        }
        let agreements = if valid { r#"["SA-1"]"# } else { "[]" };
        match kind {
            "cut_for_non_payment" => {
                let amount = if valid { "120.50" } else { "0" };
                extra.push_str(&format!(
                    r#","collection_data":{{"past_due_amount":"{amount}","currency":"USD"}}"#
                ));
            }
            "exchange_meter" => {
                let index = sp.trim_start_matches("SP-");
                let old = if valid {
                    format!("D-{index}")
                } else {
                    String::new()
                };
                let new = serde_json::to_string(&device_spec(n, n % 2 == 0)).expect("json");
                extra.push_str(&format!(r#","old_device_id":"{old}","new_device":{new}"#));
            }
            "back_to_back" => extra.push_str(
                r#","outgoing_customer":"C-1","incoming_customer":"C-2","incoming_account":"BA-2""#,
            ),
            _ => {}
        }
        format!(
            r#"{{"kind":"request","type":"{kind}","sp":"{sp}","service_datetime":"2025-06-10T09:00:00Z","service_agreements":{agreements},"request_info":{{"requester":"CCB","external_system":"CCB","external_id":"X-{n}"}}{extra}}}"#
        )
    }

    /// An answer to `comm`: mostly the kind its target expects, sometimes the wrong kind.
    fn answer(&mut self, comm: &CommView, answer: usize, smart: bool) -> String {
        let id = &comm.id;
        let ext = comm
            .external_id
            .clone()
            .unwrap_or_else(|| format!("EXT-{id}"));
        let n = self.fresh();
        let device = serde_json::to_string(&device_spec(n, smart)).expect("json");
        // Acks and completions twice: they are what the field mostly sends.
        let field = [
            format!(r#"{{"kind":"ack","comm":"{id}","external_id":"EXT-{id}"}}"#),
            format!(r#"{{"kind":"ack","comm":"{id}","external_id":"EXT-{id}"}}"#),
            format!(
                r#"{{"kind":"fa_complete","comm":"{id}","status":"complete","device":{device}}}"#
            ),
            format!(
                r#"{{"kind":"fa_complete","comm":"{id}","status":"complete","device":{device}}}"#
            ),
            format!(r#"{{"kind":"fa_complete","comm":"{id}","status":"not_done"}}"#),
            format!(r#"{{"kind":"fa_complete","comm":"{id}","status":"cancelled"}}"#),
            format!(r#"{{"kind":"fa_cancelled","external_id":"{ext}","reason":"CXS"}}"#),
            format!(r#"{{"kind":"fault","comm":"{id}","code":"E42","message":"refused"}}"#),
            format!(
                r#"{{"kind":"fa_status","external_id":"{ext}","status":"en_route","at":"{}"}}"#,
                self.now.to_rfc3339()
            ),
            format!(
                r#"{{"kind":"fa_complete","comm":"{id}","status":"complete","external_id":"OTHER","device":{device}}}"#
            ),
        ];
        let head_end = [
            format!(r#"{{"kind":"command_result","comm":"{id}","outcome":"ok"}}"#),
            format!(
                r#"{{"kind":"command_result","comm":"{id}","outcome":"ok","readings":[{{"register":"kWh","value":"10"}}]}}"#
            ),
            format!(
                r#"{{"kind":"command_result","comm":"{id}","outcome":"fault","code":"HE-1","message":"no answer"}}"#
            ),
            format!(r#"{{"kind":"ack","comm":"{id}"}}"#),
            format!(r#"{{"kind":"fault","comm":"{id}","code":"E1","message":"bad"}}"#),
        ];
        // One time in twelve, the other system's vocabulary: it must land in the error inbox.
        let wrong = answer == 11;
        match (comm.target.as_deref(), wrong) {
            (Some("head_end"), false) | (Some("field_work"), true) => {
                head_end[answer % head_end.len()].clone()
            }
            _ => field[answer % field.len()].clone(),
        }
    }

    /// Checks every invariant of the module docs.
    fn check(&self) -> Result<(), String> {
        let rows = self
            .w
            .engine
            .list(&self.w.supervisor, &ListFilter::default())
            .map_err(|e| format!("list: {e:?}"))?;
        for row in rows {
            let tree = self.w.show(&row.id);
            if Run::is_orchestration(&tree.activity_type) {
                check_log::<OrchState>(&tree.id, &tree.state, &tree.log)?;
            } else {
                check_log::<MaintState>(&tree.id, &tree.state, &tree.log)?;
            }
            for comm in &tree.communications {
                check_comm(comm)?;
            }
            for child in &tree.children {
                check_child(child)?;
            }
            // COMPLETED needs every child final; DISCARDED cancels the non-final ones (§3.1).
            let parent_final = matches!(tree.state.as_str(), "COMPLETED" | "DISCARDED");
            if parent_final && Run::is_orchestration(&tree.activity_type) {
                for child in &tree.children {
                    if !child_is_final(child)? {
                        return Err(format!(
                            "{} is {} but its child {} is {}",
                            tree.id, tree.state, child.id, child.state
                        ));
                    }
                }
            }
        }
        for comm in self
            .w
            .engine
            .outbox(true)
            .map_err(|e| format!("outbox: {e:?}"))?
        {
            check_comm(&comm)?;
            // An owner that becomes final cancels its open communication (§12.3).
            let open = !OutState::parse(&comm.state)
                .ok_or("bad outbound state")?
                .is_final();
            let owner = comm.activity.as_deref().unwrap_or_default();
            if open && !self.is_open(owner)? {
                return Err(format!(
                    "{} is {} but its owner {owner} is final ({})",
                    comm.id,
                    comm.state,
                    self.w.state(owner)
                ));
            }
        }
        for comm in self
            .w
            .engine
            .error_inbox()
            .map_err(|e| format!("error inbox: {e:?}"))?
        {
            check_comm(&comm)?;
        }
        Ok(())
    }

    /// True when the activity `id` is in a non-final state.
    fn is_open(&self, id: &str) -> Result<bool, String> {
        let tree = self.w.show(id);
        let state = tree.state.as_str();
        let kind = tree.activity_type.as_str();
        let is_final = if Run::is_orchestration(kind) {
            OrchState::parse(state).map(OrchState::is_final)
        } else if kind.ends_with("_orchestration") {
            MaintState::parse(state).map(MaintState::is_final)
        } else if kind.starts_with("D1-") {
            FaState::parse(state).map(FaState::is_final)
        } else {
            CommandState::parse(state).map(CommandState::is_final)
        };
        is_final
            .map(|f| !f)
            .ok_or_else(|| format!("{id}: unknown state {state}"))
    }
}

/// A new device for a completion or an exchange.
fn device_spec(n: usize, smart: bool) -> orderdesk::domain::DeviceSpec {
    serde_json::from_value(serde_json::json!({
        "id": format!("DN-{n}"),
        "badge": format!("BN-{n}"),
        "smart": smart,
        "commissioned": false,
    }))
    .expect("device spec")
}

/// An operator action's result: refusals and bad input are fine answers, unless the refusal
/// comes from the engine's own transition check.
fn operator<T>(result: Result<T, EngineError>) -> Result<(), String> {
    match result {
        Ok(_) => Ok(()),
        Err(EngineError::Refused { message, .. }) if message.contains(TABLE_VIOLATION) => {
            Err(format!("the engine tried an illegal edge: {message}"))
        }
        Err(EngineError::Refused { .. } | EngineError::BadInput(_)) => Ok(()),
        Err(other) => Err(format!("operator action failed: {other:?}")),
    }
}

fn check_child(child: &TreeNode) -> Result<(), String> {
    if child.kind.starts_with("D1-") {
        check_log::<FaState>(&child.id, &child.state, &child.log)?;
    } else {
        check_log::<CommandState>(&child.id, &child.state, &child.log)?;
    }
    for comm in &child.communications {
        check_comm(comm)?;
    }
    if !child.children.is_empty() {
        return Err(format!("{} is a child with children", child.id));
    }
    Ok(())
}

fn child_is_final(child: &TreeNode) -> Result<bool, String> {
    Ok(if child.kind.starts_with("D1-") {
        FaState::parse(&child.state)
            .ok_or("bad FA state")?
            .is_final()
    } else {
        CommandState::parse(&child.state)
            .ok_or("bad command state")?
            .is_final()
    })
}

fn check_comm(comm: &CommView) -> Result<(), String> {
    if comm.direction == "outbound" {
        check_log::<OutState>(&comm.id, &comm.state, &comm.log)?;
    } else {
        check_log::<InState>(&comm.id, &comm.state, &comm.log)?;
    }
    for reply in &comm.replies {
        check_comm(reply)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_command_sequence_leaves_a_lifecycle_graph(
        config in prop::sample::select(vec![0usize, 0, 1, 2]),
        profiles in prop::collection::vec(0..PROFILES.len(), 4),
        ops in prop::collection::vec(op(), 1..48),
    ) {
        let mut run = Run::new(config, &profiles);
        for (step, op) in ops.iter().enumerate() {
            if let Err(failure) = run.apply(op) {
                prop_assert!(false, "step {step} {op:?}: {failure}");
            }
            if let Err(broken) = run.check() {
                prop_assert!(false, "after step {step} {op:?}: {broken}");
            }
        }
        // Roles that may not act are refused, never half-obeyed.
        let clerk = actor("cleo", Some(Role::Clerk));
        if let Some(id) = run.pick_where(0, &[], |_| true) {
            let refused = run.w.engine.retry(&clerk, run.now, &id);
            let denied = matches!(&refused, Err(e) if e.code() == "PERMISSION_DENIED");
            prop_assert!(denied, "a clerk's retry of {}: {:?}", id, refused);
        }
        prop_assert!(run.check().is_ok());
    }
}
