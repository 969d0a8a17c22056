//! Illegal transitions and refused actions through the engine API (§3, §9, §12.2, §12.6, §12.13).
//!
//! Every refusal is a guard that fails before any transition: nothing changes (the hierarchy and
//! every outbound communication compare equal before and after), an audit line with outcome
//! `refused` and the code is written (except on a read-only desk), and the command line exits 1.
//! An unknown id is bad input: exit 2.

mod common;

use common::*;
use orderdesk::config::Config;
use orderdesk::domain::{AuditOutcome, Role};
use orderdesk::engine::{Actor, EngineError};
use orderdesk::formats::{CompletionReport, CompletionStatus};
use serde_json::Value;

const T0: &str = "2025-06-10T09:00:00Z";
const T1: &str = "2025-06-10T09:10:00Z";

/// Everything a refused action must leave alone: the activity's whole hierarchy and every
/// outbound communication.
fn snapshot(w: &World, id: &str) -> Value {
    serde_json::json!({
        "tree": serde_json::to_value(w.show(id)).expect("tree serializes"),
        "outbox": serde_json::to_value(w.engine.outbox(true).expect("outbox")).expect("serializes"),
    })
}

/// Asserts a refusal with `code` and exit 1.
fn assert_refused<T: std::fmt::Debug>(result: Result<T, EngineError>, code: &str) {
    match result {
        Err(err @ EngineError::Refused { .. }) => {
            assert_eq!(err.code(), code, "{err}");
            assert_eq!(err.exit_code(), 1, "{err}");
        }
        other => panic!("expected a refusal {code}, got {other:?}"),
    }
}

/// Asserts that `result` is refused with `code`, that `id`'s hierarchy did not change, and that
/// the last audit line naming `id` is `action` refused with `code`.
fn assert_guarded<T: std::fmt::Debug>(
    w: &World,
    id: &str,
    before: &Value,
    action: &str,
    result: Result<T, EngineError>,
    code: &str,
) {
    assert_refused(result, code);
    assert_eq!(&snapshot(w, id), before, "a refused {action} changed {id}");
    let audit = w.engine.audit(Some(id), 0).expect("audit");
    let last = audit
        .last()
        .unwrap_or_else(|| panic!("no audit line for {id}"));
    assert_eq!(last.action, action);
    match &last.outcome {
        AuditOutcome::Refused { code: audited, .. } => assert_eq!(audited, code),
        other => panic!("audit outcome {other:?}, expected refused {code}"),
    }
}

/// Asserts bad input (an unknown id): exit 2.
fn assert_unknown<T: std::fmt::Debug>(result: Result<T, EngineError>) {
    match result {
        Err(err @ EngineError::BadInput(_)) => assert_eq!(err.exit_code(), 2, "{err}"),
        other => panic!("expected bad input, got {other:?}"),
    }
}

fn completion(status: CompletionStatus) -> CompletionReport {
    CompletionReport {
        status,
        at: None,
        remarks: None,
        device: None,
        old_device: None,
        readings: Vec::new(),
    }
}

// ---- scenarios -------------------------------------------------------------------------------

/// Enable on SP-1 {none, src=true}, ticked: SO-1 IN_PROGRESS, its install FA out in the field
/// (COMM_IN_PROGRESS, `fa_create` awaiting). Returns the FA id.
fn enable_with_fa_out(w: &mut World) -> String {
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "IN_PROGRESS");
    let fa = w.children("SO-1")[0].id.clone();
    assert_eq!(w.state(&fa), "COMM_IN_PROGRESS");
    fa
}

/// Enable on a service point whose manual meter is already On: SO-2 completes in its first pass.
fn completed_enable(w: &mut World) {
    w.import(
        T0,
        &[
            sp_line("SP-2", true, &manual("D-2", "on")),
            request("SO-2", "enable_service", "SP-2", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-2"), "COMPLETED");
}

/// CNP on SP-3 {S+, On} at T0 (inside business hours): SO-3 IN_PROGRESS with a throttled RD in
/// WAIT_EFF. Returns the RD id.
fn cnp_with_waiting_rd(w: &mut World) -> String {
    w.import(
        T0,
        &[
            sp_line("SP-3", true, &smart("D-3", true, "on")),
            cnp("SO-3", "SP-3", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-3"), "IN_PROGRESS");
    let rd = w.children("SO-3")[0].id.clone();
    assert_eq!(w.state(&rd), "WAIT_EFF");
    rd
}

/// Disable on SP-4 {S+, On}: SO-4 IN_PROGRESS with an unthrottled RD sent at once
/// (COMM_IN_PROGRESS). Returns the RD id.
fn disable_with_command_in_flight(w: &mut World) -> String {
    w.import(
        T0,
        &[
            sp_line("SP-4", true, &smart("D-4", true, "on")),
            request("SO-4", "disable_service", "SP-4", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-4"), "IN_PROGRESS");
    let rd = w.children("SO-4")[0].id.clone();
    assert_eq!(w.state(&rd), "COMM_IN_PROGRESS");
    rd
}

// ---- orchestrations --------------------------------------------------------------------------

#[test]
fn retry_of_an_orchestration_in_progress_is_illegal() {
    let mut w = World::new();
    enable_with_fa_out(&mut w);
    let before = snapshot(&w, "SO-1");
    let result = w.retry(T1, "SO-1");
    assert_guarded(&w, "SO-1", &before, "retry", result, "ILLEGAL_TRANSITION");
}

#[test]
fn retry_of_a_completed_orchestration_is_illegal() {
    let mut w = World::new();
    completed_enable(&mut w);
    let before = snapshot(&w, "SO-2");
    let result = w.retry(T1, "SO-2");
    assert_guarded(&w, "SO-2", &before, "retry", result, "ILLEGAL_TRANSITION");
}

#[test]
fn retry_of_a_pending_orchestration_is_illegal() {
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    let before = snapshot(&w, "SO-1");
    let result = w.retry(T0, "SO-1");
    assert_guarded(&w, "SO-1", &before, "retry", result, "ILLEGAL_TRANSITION");
}

#[test]
fn discard_of_a_completed_orchestration_is_illegal() {
    let mut w = World::new();
    completed_enable(&mut w);
    let before = snapshot(&w, "SO-2");
    let result = w.discard(T1, "SO-2");
    assert_guarded(&w, "SO-2", &before, "discard", result, "ILLEGAL_TRANSITION");
}

#[test]
fn discard_of_a_discarded_orchestration_is_illegal() {
    let mut w = World::new();
    cnp_with_waiting_rd(&mut w);
    assert_eq!(
        w.discard(T1, "SO-3").expect("TV-15: discard allowed"),
        "DISCARDED"
    );
    let before = snapshot(&w, "SO-3");
    let result = w.discard(T1, "SO-3");
    assert_guarded(&w, "SO-3", &before, "discard", result, "ILLEGAL_TRANSITION");
}

#[test]
fn discard_and_retry_with_a_command_in_flight_are_refused() {
    let mut w = World::new();
    let rd = disable_with_command_in_flight(&mut w);
    let before = snapshot(&w, "SO-4");
    let result = w.discard(T1, "SO-4");
    assert_guarded(&w, "SO-4", &before, "discard", result, "COMMAND_IN_FLIGHT");
    // The command times out: the parent goes to ACTIVITY_ERROR, the RD to COMM_ERROR.
    w.tick("2025-06-10T10:00:00Z");
    assert_eq!(w.state(&rd), "COMM_ERROR");
    assert_eq!(w.state("SO-4"), "ACTIVITY_ERROR");
    // Retrying the RD puts it back in flight; the parent's retry is then refused.
    assert_eq!(
        w.retry("2025-06-10T10:01:00Z", &rd).expect("child retry"),
        "COMM_IN_PROGRESS"
    );
    let before = snapshot(&w, "SO-4");
    let result = w.retry("2025-06-10T10:02:00Z", "SO-4");
    assert_guarded(&w, "SO-4", &before, "retry", result, "COMMAND_IN_FLIGHT");
}

#[test]
fn discard_with_a_field_activity_out_needs_a_cancel() {
    let mut w = World::new();
    enable_with_fa_out(&mut w);
    let before = snapshot(&w, "SO-1");
    let result = w.discard(T1, "SO-1");
    assert_guarded(
        &w,
        "SO-1",
        &before,
        "discard",
        result,
        "NEEDS_CANCEL_ACTIVITY",
    );
}

#[test]
fn execute_now_on_an_orchestration_not_waiting_is_illegal() {
    let mut w = World::new();
    enable_with_fa_out(&mut w);
    let before = snapshot(&w, "SO-1");
    let supervisor = w.supervisor.clone();
    let result = w.engine.execute_now(&supervisor, at(T1), "SO-1");
    assert_guarded(
        &w,
        "SO-1",
        &before,
        "execute-now",
        result,
        "ILLEGAL_TRANSITION",
    );
}

#[test]
fn execute_now_on_a_command_not_waiting_is_illegal() {
    let mut w = World::new();
    let rd = disable_with_command_in_flight(&mut w);
    let before = snapshot(&w, "SO-4");
    let supervisor = w.supervisor.clone();
    let result = w.engine.execute_now(&supervisor, at(T1), &rd);
    assert_refused(result, "ILLEGAL_TRANSITION");
    assert_eq!(snapshot(&w, "SO-4"), before);
    let audit = w.engine.audit(Some(&rd), 0).expect("audit");
    assert!(matches!(
        &audit.last().expect("audited").outcome,
        AuditOutcome::Refused { code, .. } if code == "ILLEGAL_TRANSITION"
    ));
}

#[test]
fn execute_now_on_a_field_activity_is_illegal() {
    let mut w = World::new();
    let fa = enable_with_fa_out(&mut w);
    let before = snapshot(&w, "SO-1");
    let supervisor = w.supervisor.clone();
    let result = w.engine.execute_now(&supervisor, at(T1), &fa);
    assert_refused(result, "ILLEGAL_TRANSITION");
    assert_eq!(snapshot(&w, "SO-1"), before);
}

#[test]
fn execute_now_on_a_waiting_throttled_command_releases_it() {
    // The legal counterpart: execute-now bypasses the throttle and is audited as such (§12.7).
    let mut w = World::new();
    let rd = cnp_with_waiting_rd(&mut w);
    let supervisor = w.supervisor.clone();
    let done = w
        .engine
        .execute_now(&supervisor, at(T1), &rd)
        .expect("execute-now");
    assert_eq!(done.state, "COMM_IN_PROGRESS");
    let audit = w.engine.audit(Some(&rd), 0).expect("audit");
    let last = audit.last().expect("audited");
    assert_eq!(last.outcome, AuditOutcome::Done);
    assert!(
        last.detail
            .as_deref()
            .is_some_and(|d| d.contains("throttle")),
        "{last:?}"
    );
}

// ---- maintenance activities ------------------------------------------------------------------

#[test]
fn retry_and_discard_of_a_completed_maintenance_activity_are_illegal() {
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request(
                "SO-1",
                "enable_service",
                "SP-1",
                r#","effective_datetime":"2025-06-12T08:00:00Z""#,
            ),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");
    let supervisor = w.supervisor.clone();
    let filed = w
        .engine
        .update(&supervisor, at(T1), "SO-1", "call first", None, None)
        .expect("update filed");
    w.tick(T1);
    assert_eq!(w.state(&filed.id), "COMPLETED");
    let before = snapshot(&w, &filed.id);
    let result = w.retry(T1, &filed.id);
    assert_guarded(
        &w,
        &filed.id,
        &before,
        "retry",
        result,
        "ILLEGAL_TRANSITION",
    );
    let result = w.discard(T1, &filed.id);
    assert_guarded(
        &w,
        &filed.id,
        &before,
        "discard",
        result,
        "ILLEGAL_TRANSITION",
    );
}

#[test]
fn cancel_of_an_unknown_orchestration_is_filed_and_fails_its_validation() {
    // §12.13: cancel and update always file (exit 0); the target is checked in VALIDATE.
    let mut w = World::new();
    let supervisor = w.supervisor.clone();
    let filed = w
        .engine
        .cancel(&supervisor, at(T0), "SO-404", "CR", None)
        .expect("cancel filed");
    assert_eq!(filed.state, "PENDING");
    w.tick(T0);
    assert_eq!(w.state(&filed.id), "VALIDATION_ERROR");
    assert_eq!(w.reason(&filed.id).as_deref(), Some("TARGET_NOT_FOUND"));
}

// ---- children ----------------------------------------------------------------------------------

#[test]
fn retry_of_a_child_not_in_error_is_illegal() {
    let mut w = World::new();
    let fa = enable_with_fa_out(&mut w);
    let (before, child_before) = (snapshot(&w, "SO-1"), snapshot(&w, &fa));
    let result = w.retry(T1, &fa);
    assert_guarded(
        &w,
        &fa,
        &child_before,
        "retry",
        result,
        "ILLEGAL_TRANSITION",
    );
    assert_eq!(snapshot(&w, "SO-1"), before);

    let rd = cnp_with_waiting_rd(&mut w);
    let before = snapshot(&w, "SO-3");
    let result = w.retry(T1, &rd);
    assert_refused(result, "ILLEGAL_TRANSITION");
    assert_eq!(snapshot(&w, "SO-3"), before);
}

#[test]
fn retry_of_a_field_activity_not_done_is_refused() {
    let mut w = World::new();
    let fa = enable_with_fa_out(&mut w);
    let comm = w.open_comm(&fa);
    w.inbound(T1, &format!(r#"{{"kind":"fa_complete","comm":"{comm}","status":"not_done","remarks":"locked gate"}}"#));
    assert_eq!(w.state(&fa), "COMPLETION_ERROR");
    assert_eq!(w.reason(&fa).as_deref(), Some("NOT_DONE"));
    assert_eq!(w.state("SO-1"), "ACTIVITY_ERROR");
    let before = snapshot(&w, "SO-1");
    let result = w.retry("2025-06-10T09:20:00Z", &fa);
    assert_refused(result, "NOT_DONE");
    assert_eq!(snapshot(&w, "SO-1"), before);
    let audit = w.engine.audit(Some(&fa), 0).expect("audit");
    assert!(matches!(
        &audit.last().expect("audited").outcome,
        AuditOutcome::Refused { code, .. } if code == "NOT_DONE"
    ));
}

#[test]
fn manual_completion_of_a_completed_field_activity_is_illegal() {
    let mut w = World::new();
    let fa = enable_with_fa_out(&mut w);
    let comm = w.open_comm(&fa);
    w.inbound(
        T1,
        &format!(
            r#"{{"kind":"fa_complete","comm":"{comm}","status":"complete","device":{}}}"#,
            smart("D-9", false, "off")
        ),
    );
    assert_eq!(w.state(&fa), "COMPLETED");
    let before = snapshot(&w, "SO-1");
    let supervisor = w.supervisor.clone();
    let result = w.engine.complete_fa(
        &supervisor,
        at(T1),
        &fa,
        completion(CompletionStatus::Complete),
    );
    assert_refused(result, "ILLEGAL_TRANSITION");
    let result = w.engine.cancel_fa(&supervisor, at(T1), &fa, "CR");
    assert_refused(result, "ILLEGAL_TRANSITION");
    assert_eq!(snapshot(&w, "SO-1"), before);
    let audit = w.engine.audit(Some(&fa), 0).expect("audit");
    let refused: Vec<&str> = audit
        .iter()
        .filter(|e| matches!(&e.outcome, AuditOutcome::Refused { code, .. } if code == "ILLEGAL_TRANSITION"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(refused, ["complete-fa", "cancel-fa"]);
}

#[test]
fn manual_completion_of_a_field_activity_that_never_went_out_is_illegal() {
    // No field work system configured: the FA stops in VALIDATION_ERROR (NO_RECIPIENT) before
    // any communication exists, so there is nothing to complete by hand (§3.4, §12.6).
    let mut w = World::with_toml("[field_work]\nrecipient = \"\"\n");
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let fa = w.children("SO-1")[0].id.clone();
    assert_eq!(w.state(&fa), "VALIDATION_ERROR");
    assert_eq!(w.reason(&fa).as_deref(), Some("NO_RECIPIENT"));
    let before = snapshot(&w, "SO-1");
    let supervisor = w.supervisor.clone();
    let result = w.engine.complete_fa(
        &supervisor,
        at(T1),
        &fa,
        completion(CompletionStatus::Complete),
    );
    assert_refused(result, "ILLEGAL_TRANSITION");
    assert_eq!(snapshot(&w, "SO-1"), before);
}

#[test]
fn field_actions_on_a_command_are_bad_input() {
    let mut w = World::new();
    let rd = cnp_with_waiting_rd(&mut w);
    let supervisor = w.supervisor.clone();
    let result = w.engine.cancel_fa(&supervisor, at(T1), &rd, "CR");
    assert_unknown(result);
}

// ---- permissions -------------------------------------------------------------------------------

#[test]
fn a_clerk_may_not_retry() {
    let mut w = World::new();
    let rd = disable_with_command_in_flight(&mut w);
    w.tick("2025-06-10T10:00:00Z");
    assert_eq!(w.state(&rd), "COMM_ERROR");
    let (before, child_before) = (snapshot(&w, "SO-4"), snapshot(&w, &rd));
    let clerk = actor("cleo", Some(Role::Clerk));
    let result = w.engine.retry(&clerk, at("2025-06-10T10:01:00Z"), &rd);
    assert_guarded(&w, &rd, &child_before, "retry", result, "PERMISSION_DENIED");
    assert_eq!(snapshot(&w, "SO-4"), before);
    let audit = w.engine.audit(Some(&rd), 0).expect("audit");
    assert_eq!(audit.last().expect("audited").operator, "cleo");
}

#[test]
fn support_may_not_discard() {
    let mut w = World::new();
    cnp_with_waiting_rd(&mut w);
    let before = snapshot(&w, "SO-3");
    let support = actor("sue", Some(Role::Support));
    let result = w.engine.discard(&support, at(T1), "SO-3", Some("no"));
    assert_guarded(&w, "SO-3", &before, "discard", result, "PERMISSION_DENIED");
}

#[test]
fn support_and_clerks_may_not_execute_now_or_run_the_batch() {
    let mut w = World::new();
    let rd = cnp_with_waiting_rd(&mut w);
    let before = snapshot(&w, "SO-3");
    for role in [Role::Support, Role::Clerk] {
        let who = actor("pat", Some(role));
        assert_refused(w.engine.execute_now(&who, at(T1), &rd), "PERMISSION_DENIED");
        assert_refused(w.engine.crwto(&who, at(T1), None), "PERMISSION_DENIED");
    }
    assert_eq!(snapshot(&w, "SO-3"), before);
}

#[test]
fn an_operator_missing_from_the_operators_table_may_only_look() {
    let mut w = World::with_toml("[operators]\nada = \"supervisor\"\n");
    cnp_with_waiting_rd(&mut w);
    let before = snapshot(&w, "SO-3");
    let stranger = Actor::from_config(w.engine.config(), "zed", false);
    assert_eq!(stranger.role, None);
    assert!(
        w.engine.show(&stranger, "SO-3").is_ok(),
        "looking is allowed"
    );
    let result = w.engine.discard(&stranger, at(T1), "SO-3", None);
    assert_guarded(&w, "SO-3", &before, "discard", result, "PERMISSION_DENIED");
    let result = w.engine.retry(&stranger, at(T1), "SO-3");
    assert_guarded(&w, "SO-3", &before, "retry", result, "PERMISSION_DENIED");
    let ada = Actor::from_config(w.engine.config(), "ada", false);
    assert_eq!(ada.role, Some(Role::Supervisor));
}

#[test]
fn a_read_only_desk_refuses_every_change_without_an_audit_line() {
    let mut w = World::new();
    let rd = cnp_with_waiting_rd(&mut w);
    let before = snapshot(&w, "SO-3");
    let audit_before = w.engine.audit(None, 0).expect("audit").len();
    let viewer = Actor::from_config(&Config::default(), "sam", true);
    assert_eq!(
        viewer.role,
        Some(Role::Supervisor),
        "no [operators] table: a supervisor"
    );
    assert_refused(w.engine.discard(&viewer, at(T1), "SO-3", None), "READ_ONLY");
    assert_refused(w.engine.retry(&viewer, at(T1), "SO-3"), "READ_ONLY");
    assert_refused(w.engine.execute_now(&viewer, at(T1), &rd), "READ_ONLY");
    assert_refused(w.engine.crwto(&viewer, at(T1), None), "READ_ONLY");
    assert_refused(
        w.engine.cancel(&viewer, at(T1), "SO-3", "CR", None),
        "READ_ONLY",
    );
    assert_refused(
        w.engine.update(&viewer, at(T1), "SO-3", "x", None, None),
        "READ_ONLY",
    );
    assert_refused(w.engine.tick(&viewer, at(T1)), "READ_ONLY");
    assert_eq!(snapshot(&w, "SO-3"), before);
    assert_eq!(
        w.engine.audit(None, 0).expect("audit").len(),
        audit_before,
        "no audit line"
    );
}

// ---- unknown ids -------------------------------------------------------------------------------

#[test]
fn unknown_ids_are_bad_input() {
    let mut w = World::new();
    let audit_before = w.engine.audit(None, 0).expect("audit").len();
    let sam = w.supervisor.clone();
    assert_unknown(w.engine.retry(&sam, at(T0), "SO-404"));
    assert_unknown(w.engine.discard(&sam, at(T0), "SO-404", None));
    assert_unknown(w.engine.execute_now(&sam, at(T0), "SC-404"));
    assert_unknown(w.engine.complete_fa(
        &sam,
        at(T0),
        "FA-404",
        completion(CompletionStatus::Complete),
    ));
    assert_unknown(w.engine.cancel_fa(&sam, at(T0), "FA-404", "CR"));
    assert_unknown(w.engine.show(&sam, "SO-404"));
    assert_eq!(w.engine.audit(None, 0).expect("audit").len(), audit_before);
}

// ---- guards around a Cancel Orchestration ------------------------------------------------------

/// Enable on SP-1 {none, src=true}; its install FA's `fa_create` times out, so SO-1 is in
/// ACTIVITY_ERROR (CHILD_ERROR) with the FA in COMM_ERROR. A whole Cancel is filed and acts: its
/// `fa_cancel` awaits the field work system. Returns (FA, Cancel).
fn cancel_acting_on_a_failed_enable(w: &mut World) -> (String, String) {
    let fa = enable_with_fa_out(w);
    w.tick("2025-06-10T10:00:00Z");
    assert_eq!(w.state(&fa), "COMM_ERROR");
    assert_eq!(w.state("SO-1"), "ACTIVITY_ERROR");
    let supervisor = w.supervisor.clone();
    let cancel = w
        .engine
        .cancel(&supervisor, at("2025-06-10T10:05:00Z"), "SO-1", "CR", None)
        .expect("cancel filed")
        .id;
    w.tick("2025-06-10T10:05:00Z");
    assert_eq!(w.state(&cancel), "COMM_IN_PROGRESS");
    (fa, cancel)
}

#[test]
fn retry_of_a_parent_that_a_cancel_is_acting_on_is_refused() {
    // §12.7: while a whole Cancel acts, nothing may re-create what is being cancelled; a parent
    // Retry would re-plan, and the Cancel would then discard the parent over a live new child.
    let mut w = World::new();
    let (_fa, cancel) = cancel_acting_on_a_failed_enable(&mut w);
    let before = snapshot(&w, "SO-1");
    let result = w.retry("2025-06-10T10:06:00Z", "SO-1");
    assert_guarded(
        &w,
        "SO-1",
        &before,
        "retry",
        result,
        "AWAITING_FIELD_RESPONSE",
    );
    // The field acknowledges the cancel: the parent is discarded with only final children.
    let comm = w.open_comm(&cancel);
    w.inbound(
        "2025-06-10T10:07:00Z",
        &format!(r#"{{"kind":"ack","comm":"{comm}"}}"#),
    );
    assert_eq!(w.state(&cancel), "COMPLETED");
    assert_eq!(w.state("SO-1"), "DISCARDED");
    assert!(w
        .children("SO-1")
        .iter()
        .all(|c| c.state == "CANCELLED" || c.state == "DISCARDED"));
}

#[test]
fn retry_of_a_cancel_while_a_targeted_command_is_in_flight_is_refused() {
    // The Cancel's `fa_cancel` faults (COMM_ERROR), the field completes the FA anyway, and the
    // parent's next pass sends a Commission. Retrying the Cancel now would have to recall a
    // command in flight: refused with COMMAND_IN_FLIGHT (§12.7, §12.13), nothing changes.
    let mut w = World::new();
    let fa = enable_with_fa_out(&mut w);
    let supervisor = w.supervisor.clone();
    let cancel = w
        .engine
        .cancel(&supervisor, at(T1), "SO-1", "CR", None)
        .expect("filed")
        .id;
    w.tick(T1);
    assert_eq!(w.state(&cancel), "COMM_IN_PROGRESS");
    let fa_cancel = w.open_comm(&cancel);
    w.inbound(
        T1,
        &format!(r#"{{"kind":"fault","comm":"{fa_cancel}","code":"E42","message":"busy"}}"#),
    );
    assert_eq!(w.state(&cancel), "COMM_ERROR");
    let fa_create = w.open_comm(&fa);
    w.inbound(
        "2025-06-10T09:20:00Z",
        &format!(
            r#"{{"kind":"fa_complete","comm":"{fa_create}","status":"complete","device":{}}}"#,
            smart("D-9", false, "off")
        ),
    );
    assert_eq!(w.state(&fa), "COMPLETED");
    w.tick("2025-06-10T09:21:00Z");
    let children = w.children("SO-1");
    let commission = children.last().expect("a new child");
    assert_eq!(
        (commission.kind.as_str(), commission.state.as_str()),
        ("commission", "COMM_IN_PROGRESS")
    );
    let before = snapshot(&w, "SO-1");
    let cancel_before = snapshot(&w, &cancel);
    let result = w.retry("2025-06-10T09:22:00Z", &cancel);
    assert_guarded(
        &w,
        &cancel,
        &cancel_before,
        "retry",
        result,
        "COMMAND_IN_FLIGHT",
    );
    assert_eq!(snapshot(&w, "SO-1"), before);
}

#[test]
fn retry_of_a_cancel_cancels_its_open_communication() {
    // §12.3: no communication-level retry; the owner's RETRY cancels the open one and sends anew.
    let mut w = World::new();
    enable_with_fa_out(&mut w);
    let supervisor = w.supervisor.clone();
    let cancel = w
        .engine
        .cancel(&supervisor, at(T1), "SO-1", "CR", None)
        .expect("filed")
        .id;
    w.tick(T1);
    let first = w.open_comm(&cancel);
    w.inbound(
        T1,
        &format!(r#"{{"kind":"fault","comm":"{first}","code":"E42","message":"busy"}}"#),
    );
    assert_eq!(w.state(&cancel), "COMM_ERROR");
    assert_eq!(
        w.retry("2025-06-10T09:20:00Z", &cancel).expect("retry"),
        "COMM_IN_PROGRESS"
    );
    let comms = w.show(&cancel).communications;
    let states: Vec<(&str, &str)> = comms
        .iter()
        .map(|c| (c.id.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(comms.len(), 2, "{states:?}");
    assert_eq!(states[0], (first.as_str(), "CANCELLED"));
    assert_eq!(comms[1].state, "AWAITING_RESPONSE");
    // The new one faults too; discarding the Cancel then leaves nothing open (§12.3).
    let second = comms[1].id.clone();
    w.inbound(
        "2025-06-10T09:21:00Z",
        &format!(r#"{{"kind":"fault","comm":"{second}","code":"E42","message":"busy"}}"#),
    );
    assert_eq!(w.state(&cancel), "COMM_ERROR");
    assert_eq!(
        w.discard("2025-06-10T09:22:00Z", &cancel).expect("discard"),
        "DISCARDED"
    );
    let states: Vec<String> = w
        .show(&cancel)
        .communications
        .iter()
        .map(|c| c.state.clone())
        .collect();
    assert_eq!(states, ["CANCELLED", "CANCELLED"]);
}

#[test]
fn division_restriction_hides_and_guards_other_divisions() {
    let mut w = World::with_toml(
        r#"
division_restriction = true
[operators]
sam = "supervisor"
bo = { role = "clerk", divisions = ["NORTH"] }
[activity_types.enable_service]
division = "SOUTH"
"#,
    );
    w.import(
        "2025-06-10T09:00:00Z",
        &[
            sp_line("SP-1", true, "null"),
            request(
                "SO-1",
                "enable_service",
                "SP-1",
                r#","service_agreements":[]"#,
            ),
        ]
        .join("\n"),
    );
    w.tick("2025-06-10T09:00:00Z");
    let bo = orderdesk::engine::Actor::from_config(w.engine.config(), "bo", false);
    let listed = w
        .engine
        .list(&bo, &orderdesk::engine::ListFilter::default())
        .expect("list");
    assert!(
        listed.is_empty(),
        "a clerk of NORTH must not see SOUTH activities: {listed:?}"
    );
    let err = w
        .engine
        .edit(
            &bo,
            common::at("2025-06-10T09:01:00Z"),
            "SO-1",
            &[("service_agreements".into(), "SA-9".into())],
        )
        .expect_err("refused");
    assert_eq!(err.code(), "PERMISSION_DENIED");
    let sam = w.supervisor.clone();
    assert_eq!(
        w.engine
            .list(&sam, &orderdesk::engine::ListFilter::default())
            .expect("list")
            .len(),
        1
    );
}
