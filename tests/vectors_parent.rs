//! Test vectors TV-01 … TV-18 of `spec/domain.md` §10, one scenario each: given / when / then.

mod common;

use common::*;
use orderdesk::domain::{AuditOutcome, NotificationKind};
use orderdesk::engine::EngineError;

const T0: &str = "2025-06-10T09:00:00Z";

/// Enable on SP-1 {none, src=true}.
fn enable_without_meter(w: &mut World) {
    w.import(
        T0,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
}

#[test]
fn tv_01_enable_no_meter_creates_install_fa() {
    let mut w = World::new();
    enable_without_meter(&mut w);
    assert_eq!(w.state("SO-1"), "PENDING");
    w.tick(T0);
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.fields["expiration"], "2025-06-12T09:00:00Z");
    assert_eq!(so.children.len(), 1);
    let fa = &so.children[0];
    assert_eq!(fa.kind, "D1-InstallMeter");
    assert_eq!(fa.state, "COMM_IN_PROGRESS");
    let outbox = w.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].message, "fa_create");
    assert_eq!(outbox[0].state, "AWAITING_RESPONSE");
    let second = w.tick("2025-06-10T09:30:00Z");
    assert!(second.transitions.is_empty(), "{:?}", second.transitions);
}

// ---- helpers -------------------------------------------------------------------------------

/// A smart install completion: the crew installed `id`, smart and not commissioned (S-).
fn installed_s_minus(comm: &str, id: &str) -> String {
    format!(
        r#"{{"kind":"fa_complete","comm":"{comm}","status":"complete","device":{{"id":"{id}","badge":"B-{id}","smart":true,"commissioned":false}}}}"#
    )
}

/// The field work system's ack of `comm`, giving it `external_id`.
fn ack(comm: &str, external_id: &str) -> String {
    format!(r#"{{"kind":"ack","comm":"{comm}","external_id":"{external_id}"}}"#)
}

/// A successful head-end result for `comm`.
fn command_ok(comm: &str) -> String {
    format!(r#"{{"kind":"command_result","comm":"{comm}","outcome":"ok"}}"#)
}

/// Feeds inbound lines and asserts every one matched (none went to the error inbox).
fn answer(w: &mut World, now: &str, lines: &str) {
    let report = w.inbound(now, lines);
    assert_eq!(report.errors(), 0, "inbound: {:?}", report.results);
}

/// The transitions of an activity's log, as `FROM->TO`.
fn transitions(w: &World, id: &str) -> Vec<String> {
    w.show(id)
        .log
        .iter()
        .filter_map(|l| Some(format!("{}->{}", l.from.as_ref()?, l.to.as_ref()?)))
        .collect()
}

/// The notification kinds sent to the requester, in order.
fn notifications(w: &World, id: &str) -> Vec<NotificationKind> {
    w.show(id).notifications.iter().map(|n| n.kind).collect()
}

/// Asserts `result` is a guard refusal with `code` (exit 1) and that it is audited as refused.
fn assert_refused(w: &World, id: &str, result: Result<String, EngineError>, code: &str) {
    match result {
        Err(err @ EngineError::Refused { .. }) => {
            assert_eq!(err.code(), code, "{err}");
            assert_eq!(err.exit_code(), 1);
        }
        other => panic!("expected a refusal {code}, got {other:?}"),
    }
    let audit = w.engine.audit(Some(id), 0).expect("audit");
    assert!(
        audit.iter().any(|e| matches!(
            &e.outcome,
            AuditOutcome::Refused { code: c, .. } if c == code
        )),
        "no refused {code} audit entry for {id}: {audit:?}"
    );
}

/// The children of an activity as (kind, state).
fn kinds(w: &World, id: &str) -> Vec<(String, String)> {
    w.children(id)
        .into_iter()
        .map(|c| (c.kind, c.state))
        .collect()
}

/// A (kind, state) pair as `kinds` returns them.
fn pair(kind: &str, state: &str) -> (String, String) {
    (kind.to_string(), state.to_string())
}

// ---- TV-02 … TV-18 -------------------------------------------------------------------------

#[test]
fn tv_02_enable_loops_to_completion() {
    // Given TV-01: the install FA is out in the field.
    let mut w = World::new();
    enable_without_meter(&mut w);
    w.tick(T0);
    let co1 = w.open_comm("FA-1");
    answer(&mut w, "2025-06-10T09:05:00Z", &ack(&co1, "MWM-1"));

    // When the FA completes with an Install Device event (new device S-, Off).
    answer(
        &mut w,
        "2025-06-10T11:00:00Z",
        &installed_s_minus(&co1, "D-9"),
    );
    assert_eq!(w.state("FA-1"), "COMPLETED");
    assert_eq!(
        w.state("SO-1"),
        "IN_PROGRESS",
        "the parent waits for its monitor"
    );

    // Tick 1: ARE_SP_READY (expiration cleared) → SMC Commission → IN_PROGRESS, new expiration.
    w.tick("2025-06-10T11:00:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.fields["expiration"], "2025-06-12T11:00:00Z");
    assert_eq!(
        kinds(&w, "SO-1"),
        [
            pair("D1-InstallMeter", "COMPLETED"),
            pair("commission", "COMM_IN_PROGRESS")
        ]
    );
    let t = transitions(&w, "SO-1");
    assert!(
        t.ends_with(&[
            "IN_PROGRESS->ARE_SP_READY".into(),
            "ARE_SP_READY->IN_PROGRESS".into()
        ]),
        "{t:?}"
    );
    let commission = so.children[1].id.clone();

    // The commission completes (commissioned = true). Tick 2: SMC Remote Connect.
    let co = w.open_comm(&commission);
    answer(&mut w, "2025-06-10T11:01:00Z", &command_ok(&co));
    assert_eq!(w.state(&commission), "COMPLETED");
    w.tick("2025-06-10T11:01:00Z");
    let children = w.children("SO-1");
    assert_eq!(children.len(), 3);
    assert_eq!(
        (children[2].kind.as_str(), children[2].state.as_str()),
        ("remote_connect", "COMM_IN_PROGRESS")
    );
    let connect = children[2].id.clone();

    // The connect completes (switch = On). Tick 3: ARE_SP_READY → COMPLETED, success, pass = 4.
    let co = w.open_comm(&connect);
    answer(&mut w, "2025-06-10T11:02:00Z", &command_ok(&co));
    w.tick("2025-06-10T11:02:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "COMPLETED");
    assert_eq!(so.fields["pass"], 4);
    assert_eq!(so.fields["expiration"], serde_json::Value::Null);
    assert_eq!(so.children.len(), 3, "the last pass creates nothing");
    assert_eq!(
        notifications(&w, "SO-1"),
        [NotificationKind::Ack, NotificationKind::Success]
    );
    assert!(w.outbox().is_empty());
}

#[test]
fn tv_03_future_effective_date_waits_until_exactly_due() {
    // Given Disable on SP-2 {S+, On} with effective 2025-06-11 08:00.
    let mut w = World::new();
    let eff = r#","effective_datetime":"2025-06-11T08:00:00Z""#;
    w.import(
        T0,
        &[
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            request("SO-1", "disable_service", "SP-2", eff),
        ]
        .join("\n"),
    );

    // When ticked at t0: WAIT_EFF_DATE.
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");
    assert!(w.children("SO-1").is_empty());

    // A minute early: unchanged.
    let early = w.tick("2025-06-11T07:59:00Z");
    assert!(early.transitions.is_empty(), "{:?}", early.transitions);
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");

    // At 08:00 exactly: ARE_SP_READY → RD (not throttled) → IN_PROGRESS.
    w.tick("2025-06-11T08:00:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert!(transitions(&w, "SO-1").ends_with(&[
        "WAIT_EFF_DATE->ARE_SP_READY".into(),
        "ARE_SP_READY->IN_PROGRESS".into()
    ]));
    assert_eq!(so.children.len(), 1);
    let rd = &so.children[0];
    assert_eq!(rd.kind, "remote_disconnect");
    assert_eq!(rd.fields["throttled"], false);
    assert_eq!(
        rd.state, "COMM_IN_PROGRESS",
        "a due, non-throttled RD goes out at once"
    );
    assert_eq!(w.open_comm(&rd.id), w.outbox()[0].id);
    assert_eq!(w.outbox()[0].message, "command");
}

#[test]
fn tv_04_duplicate_request_then_retry_after_the_first_completes() {
    // Given CNP #10 on SP-3 {M, On} in IN_PROGRESS.
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-3", true, &manual("D-3", "on")),
            cnp("SO-10", "SP-3", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-10"), "IN_PROGRESS");

    // When CNP #11 on SP-3 is created and ticked: VALIDATION_ERROR DUPLICATE_REQUEST(ref=10).
    w.import("2025-06-10T09:10:00Z", &cnp("SO-11", "SP-3", ""));
    w.tick("2025-06-10T09:10:00Z");
    let so11 = w.show("SO-11");
    assert_eq!(so11.state, "VALIDATION_ERROR");
    let reason = so11.status_reason.expect("a status reason");
    assert_eq!(reason.code, "DUPLICATE_REQUEST");
    assert_eq!(reason.reference.as_deref(), Some("SO-10"));

    // #10 completes: its cut FA is done (device now Off), and its next pass completes it.
    let fa = w.children("SO-10")[0].id.clone();
    assert_eq!(w.children("SO-10")[0].kind, "D1-CutForNonPayment");
    let co = w.open_comm(&fa);
    answer(
        &mut w,
        "2025-06-10T10:00:00Z",
        &format!(r#"{{"kind":"fa_complete","comm":"{co}","status":"complete"}}"#),
    );
    w.tick("2025-06-10T10:00:00Z");
    assert_eq!(w.state("SO-10"), "COMPLETED");
    assert_eq!(
        w.state("SO-11"),
        "VALIDATION_ERROR",
        "#11 waits for the user"
    );

    // The user retries #11: VALIDATE passes → ARE_SP_READY (Off) → COMPLETED, no children.
    assert_eq!(
        w.retry("2025-06-10T10:05:00Z", "SO-11").expect("retry"),
        "COMPLETED"
    );
    assert!(w.children("SO-11").is_empty());
    assert!(transitions(&w, "SO-11").ends_with(&[
        "VALIDATION_ERROR->VALIDATE".into(),
        "VALIDATE->ARE_SP_READY".into(),
        "ARE_SP_READY->COMPLETED".into()
    ]));
    assert_eq!(w.reason("SO-11"), None);
}

#[test]
fn tv_05_missing_collection_data_edit_and_retry() {
    // Given a CNP with past_due_amount = 0.
    let mut w = World::new();
    let zero = r#","collection_data":{"past_due_amount":"0","currency":"USD"}"#;
    w.import(
        T0,
        &[
            sp_line("SP-1", true, &manual("D-1", "on")),
            request("SO-1", "cut_for_non_payment", "SP-1", zero),
        ]
        .join("\n"),
    );

    // Tick → VALIDATION_ERROR MISSING_COLLECTION_DATA.
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "VALIDATION_ERROR");
    assert_eq!(w.reason("SO-1").as_deref(), Some("MISSING_COLLECTION_DATA"));

    // The user edits it to 120.50 and retries → VALIDATE passes.
    let supervisor = w.supervisor.clone();
    let sets = [(
        "collection_data.past_due_amount".to_string(),
        "120.50".to_string(),
    )];
    let edited = w
        .engine
        .edit(&supervisor, at("2025-06-10T09:05:00Z"), "SO-1", &sets)
        .expect("edit");
    assert_eq!(
        edited.state, "VALIDATION_ERROR",
        "an edit does not retry by itself"
    );
    assert_eq!(
        w.show("SO-1").fields["collection_data"]["past_due_amount"],
        "120.50"
    );
    let state = w.retry("2025-06-10T09:06:00Z", "SO-1").expect("retry");
    assert_eq!(state, "IN_PROGRESS");
    assert!(transitions(&w, "SO-1").ends_with(&[
        "VALIDATION_ERROR->VALIDATE".into(),
        "VALIDATE->ARE_SP_READY".into(),
        "ARE_SP_READY->IN_PROGRESS".into()
    ]));
    assert_eq!(
        kinds(&w, "SO-1"),
        [pair("D1-CutForNonPayment", "COMM_IN_PROGRESS")]
    );
}

#[test]
fn tv_06_cnp_smart_meter_moves_into_business_hours() {
    // Given a CNP on SP-4 {S+, On}, ensure=Y 08–17, throttle allowed, created Sat 2025-06-14 10:00.
    let mut w = World::new();
    let sat = "2025-06-14T10:00:00Z";
    w.import(
        sat,
        &[
            sp_line("SP-4", true, &smart("D-4", true, "on")),
            cnp("SO-1", "SP-4", ""),
        ]
        .join("\n"),
    );

    // Tick.
    w.tick(sat);

    // RD created, throttled, eff = Mon 2025-06-16 08:00, in WAIT_EFF; parent IN_PROGRESS.
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.children.len(), 1);
    let rd = &so.children[0];
    assert_eq!(rd.kind, "remote_disconnect");
    assert_eq!(rd.fields["throttled"], true);
    assert_eq!(rd.fields["effective"], "2025-06-16T08:00:00Z");
    assert_eq!(rd.state, "WAIT_EFF");
    assert!(
        w.outbox().is_empty(),
        "nothing is sent before the batch releases it"
    );
    // Expiration = max(entry, latest child eff) + 2 days (§12.7).
    assert_eq!(so.fields["expiration"], "2025-06-18T08:00:00Z");
}

/// Imports `n` CNPs on distinct smart S+ On service points at `now` and ticks, so each leaves a
/// throttled RD waiting in WAIT_EFF; returns the RD ids in creation order.
fn waiting_rds(w: &mut World, now: &str, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 1..=n {
        lines.push(sp_line(
            &format!("SP-{i}"),
            true,
            &smart(&format!("D-{i}"), true, "on"),
        ));
        lines.push(cnp(&format!("SO-{i}"), &format!("SP-{i}"), ""));
    }
    w.import(now, &lines.join("\n"));
    w.tick(now);
    (1..=n)
        .map(|i| {
            let rd = w.children(&format!("SO-{i}")).remove(0);
            assert_eq!(
                (rd.state.as_str(), &rd.fields["throttled"]),
                ("WAIT_EFF", &serde_json::json!(true))
            );
            rd.id
        })
        .collect()
}

#[test]
fn tv_07_crwto_twice_in_the_same_range() {
    // Given 50 throttled RDs in WAIT_EFF with eff ≤ Mon 09:00; row 08:00–12:00 limit 30.
    let mut w = World::new();
    let rds = waiting_rds(&mut w, "2025-06-09T08:00:00Z", 50);

    // run_crwto(Mon 09:00, Y) → 30 released (the 30 oldest).
    let first = w.crwto("2025-06-09T09:00:00Z", Some(true));
    assert_eq!(first.released, rds[..30]);
    assert_eq!(
        (first.remaining, first.not_yet_due, first.row),
        (20, 0, Some(0))
    );
    for rd in &rds[..30] {
        assert!(
            transitions(&w, rd).ends_with(&[
                "WAIT_EFF->CONNECTION_READY".into(),
                "CONNECTION_READY->COMM_IN_PROGRESS".into()
            ]),
            "{rd}"
        );
    }
    assert_eq!(w.outbox().len(), 30);

    // run_crwto(Mon 09:45, Y) → 20 released.
    let second = w.crwto("2025-06-09T09:45:00Z", Some(true));
    assert_eq!(second.released, rds[30..]);
    assert_eq!(second.remaining, 0);

    // A third run → 0.
    let third = w.crwto("2025-06-09T10:00:00Z", Some(true));
    assert!(third.released.is_empty());
    assert_eq!(third.remaining, 0);
    assert_eq!(w.outbox().len(), 50);
}

#[test]
fn tv_08_crwto_outside_any_row_then_throttle_off() {
    // Given 12 waiting, all eff ≤ Mon 18:00.
    let mut w = World::new();
    let rds = waiting_rds(&mut w, "2025-06-09T08:00:00Z", 12);

    // run_crwto(Mon 18:00, Y) → 0 (no row covers 18:00).
    let throttled = w.crwto("2025-06-09T18:00:00Z", Some(true));
    assert!(throttled.released.is_empty());
    assert_eq!((throttled.remaining, throttled.row), (12, None));
    assert!(rds.iter().all(|rd| w.state(rd) == "WAIT_EFF"));
    // Without --throttle the batch throttles, the option being Allowed (§12.8).
    assert_eq!(w.crwto("2025-06-09T18:00:00Z", None), throttled);

    // run_crwto(Mon 18:00, N) → 12: business hours bound only the earliest release (§12.8).
    let off = w.crwto("2025-06-09T18:00:00Z", Some(false));
    assert_eq!(off.released, rds);
    assert_eq!((off.remaining, off.row), (0, None));
    assert!(rds.iter().all(|rd| w.state(rd) == "COMM_IN_PROGRESS"));
}

#[test]
fn tv_09_child_comm_timeout_puts_the_parent_in_activity_error() {
    // Given an RD in COMM_IN_PROGRESS (Disable on {S+, On}).
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-2", true, &smart("D-2", true, "on")),
            request("SO-1", "disable_service", "SP-2", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let rd = w.children("SO-1")[0].id.clone();
    assert_eq!(w.state(&rd), "COMM_IN_PROGRESS");
    let co = w.open_comm(&rd);
    let quiet = w.tick("2025-06-10T09:59:00Z");
    assert!(quiet.transitions.is_empty(), "{:?}", quiet.transitions);

    // When no result comes within the head-end response timeout (60 min).
    let report = w.tick("2025-06-10T10:00:00Z");

    // Then OB comm RESPONSE_ERROR → RD COMM_ERROR → parent ACTIVITY_ERROR, one pass.
    let seen: Vec<(String, String)> = report
        .transitions
        .iter()
        .map(|t| (t.id.clone(), t.to.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (co.clone(), "RESPONSE_ERROR".to_string()),
            (rd.clone(), "COMM_ERROR".to_string()),
            ("SO-1".to_string(), "ACTIVITY_ERROR".to_string())
        ]
    );
    let rd_reason = w.show(&rd).status_reason.expect("RD reason");
    assert_eq!(w.state(&rd), "COMM_ERROR");
    assert_eq!(rd_reason.code, "RESPONSE_TIMEOUT");
    assert_eq!(rd_reason.reference.as_deref(), Some(co.as_str()));
    let so = w.show("SO-1");
    assert_eq!(so.state, "ACTIVITY_ERROR");
    let reason = so.status_reason.expect("reason");
    assert_eq!(reason.code, "CHILD_ERROR");
    assert_eq!(reason.reference.as_deref(), Some(rd.as_str()));
}

/// TV-10's world: Enable on SP-1 {none, src=true} with `expiration_days = 1`, its install FA
/// acknowledged by the field, and the parent expired at t0 + 1 day + 1 min.
fn expired_with_fa_in_the_field() -> World {
    let mut w = World::with_toml("[activity_types.enable_service]\nexpiration_days = 1\n");
    enable_without_meter(&mut w);
    w.tick(T0);
    assert_eq!(w.show("SO-1").fields["expiration"], "2025-06-11T09:00:00Z");
    let co = w.open_comm("FA-1");
    answer(&mut w, "2025-06-10T09:05:00Z", &ack(&co, "MWM-1"));
    w.tick("2025-06-11T09:00:00Z");
    assert_eq!(w.state("SO-1"), "IN_PROGRESS", "expiration is strict");
    w.tick("2025-06-11T09:01:00Z");
    w
}

#[test]
fn tv_10_retry_refused_while_awaiting_field_response() {
    // Given the FA is in the field (its fa_create AWAITING_RESPONSE) and the parent expired.
    let mut w = expired_with_fa_in_the_field();
    assert_eq!(w.state("SO-1"), "ACTIVITY_ERROR");
    assert_eq!(w.reason("SO-1").as_deref(), Some("EXPIRED"));
    let co = w.open_comm("FA-1");
    assert_eq!(w.outbox()[0].state, "AWAITING_RESPONSE");
    assert!(w.outbox()[0].acknowledged);
    let before = serde_json::to_value(w.show("SO-1")).expect("json");

    // When the user retries.
    let result = w.retry("2025-06-11T09:30:00Z", "SO-1");

    // Then refused AWAITING_FIELD_RESPONSE (exit 1), nothing changed, the refusal audited.
    assert_refused(&w, "SO-1", result, "AWAITING_FIELD_RESPONSE");
    let after = serde_json::to_value(w.show("SO-1")).expect("json");
    assert_eq!(before, after, "no state, child or log change");
    assert_eq!(w.state("FA-1"), "COMM_IN_PROGRESS");
    assert_eq!(w.open_comm("FA-1"), co);
}

#[test]
fn tv_11_retry_accepted_after_the_fa_completes() {
    // Given TV-10.
    let mut w = expired_with_fa_in_the_field();
    let co = w.open_comm("FA-1");

    // The FA completes (new device S-, Off): FA COMPLETED, the parent stays in ACTIVITY_ERROR.
    answer(
        &mut w,
        "2025-06-11T10:00:00Z",
        &installed_s_minus(&co, "D-9"),
    );
    assert_eq!(w.state("FA-1"), "COMPLETED");
    w.tick("2025-06-11T10:00:00Z");
    assert_eq!(
        w.state("SO-1"),
        "ACTIVITY_ERROR",
        "§5.4: its next action is the user's"
    );
    assert_eq!(w.reason("SO-1").as_deref(), Some("EXPIRED"));

    // When the user retries.
    let state = w.retry("2025-06-11T10:30:00Z", "SO-1").expect("retry");

    // Then RETRY → ARE_SP_READY → SMC Commission → IN_PROGRESS with a fresh expiration.
    assert_eq!(state, "IN_PROGRESS");
    assert!(transitions(&w, "SO-1").ends_with(&[
        "ACTIVITY_ERROR->RETRY".into(),
        "RETRY->ARE_SP_READY".into(),
        "ARE_SP_READY->IN_PROGRESS".into()
    ]));
    let so = w.show("SO-1");
    assert_eq!(so.fields["expiration"], "2025-06-12T10:30:00Z");
    assert_eq!(so.fields["pass"], 1, "retry resets the pass count");
    assert_eq!(
        kinds(&w, "SO-1"),
        [
            pair("D1-InstallMeter", "COMPLETED"),
            pair("commission", "COMM_IN_PROGRESS")
        ]
    );
    assert_eq!(w.reason("SO-1"), None);
}

/// Enable without a meter entering IN_PROGRESS at 2025-06-10 10:00, its FA acknowledged.
fn in_progress_at_ten() -> World {
    let mut w = World::new();
    let ten = "2025-06-10T10:00:00Z";
    w.import(
        ten,
        &[
            sp_line("SP-1", true, "null"),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    w.tick(ten);
    assert_eq!(w.state("SO-1"), "IN_PROGRESS");
    let co = w.open_comm("FA-1");
    answer(&mut w, "2025-06-10T10:05:00Z", &ack(&co, "MWM-1"));
    w
}

#[test]
fn tv_12_expiration_is_strict() {
    // Given the parent entered IN_PROGRESS at 10:00 with expiration_days = 2.
    let mut w = in_progress_at_ten();
    assert_eq!(w.show("SO-1").fields["expiration"], "2025-06-12T10:00:00Z");

    // Tick at 2025-06-12 10:00 → still IN_PROGRESS.
    w.tick("2025-06-12T10:00:00Z");
    assert_eq!(w.state("SO-1"), "IN_PROGRESS");

    // Tick at 10:01 → ACTIVITY_ERROR EXPIRED; the child is left as it is.
    w.tick("2025-06-12T10:01:00Z");
    assert_eq!(w.state("SO-1"), "ACTIVITY_ERROR");
    assert_eq!(w.reason("SO-1").as_deref(), Some("EXPIRED"));
    assert_eq!(w.state("FA-1"), "COMM_IN_PROGRESS");
}

#[test]
fn tv_13_expiration_resets_per_pass() {
    // Given the parent entered IN_PROGRESS at 06-10 10:00; its child completes 06-11 09:00.
    let mut w = in_progress_at_ten();
    let co = w.open_comm("FA-1");
    answer(
        &mut w,
        "2025-06-11T09:00:00Z",
        &installed_s_minus(&co, "D-9"),
    );

    // Tick at 06-11 09:00 → ARE_SP_READY → a new child → IN_PROGRESS, expiration 06-13 09:00.
    w.tick("2025-06-11T09:00:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.fields["expiration"], "2025-06-13T09:00:00Z");
    assert_eq!(so.children.len(), 2);
    assert_eq!(so.children[1].kind, "commission");
    assert!(transitions(&w, "SO-1").ends_with(&[
        "IN_PROGRESS->ARE_SP_READY".into(),
        "ARE_SP_READY->IN_PROGRESS".into()
    ]));
}

#[test]
fn tv_14_discard_blocked_by_a_dispatched_fa_then_cancel() {
    // Given a parent IN_PROGRESS whose FA is out (fa_create AWAITING_RESPONSE, acknowledged).
    let mut w = World::new();
    enable_without_meter(&mut w);
    w.tick(T0);
    let create = w.open_comm("FA-1");
    answer(&mut w, "2025-06-10T09:05:00Z", &ack(&create, "MWM-1"));

    // When the user discards: refused NEEDS_CANCEL_ACTIVITY, nothing changes.
    let result = w.discard("2025-06-10T09:10:00Z", "SO-1");
    assert_refused(&w, "SO-1", result, "NEEDS_CANCEL_ACTIVITY");
    assert_eq!(w.state("SO-1"), "IN_PROGRESS");
    assert_eq!(w.state("FA-1"), "COMM_IN_PROGRESS");

    // Then a Cancel Orchestration (reason CR, no related activity) is filed and validated.
    let supervisor = w.supervisor.clone();
    let filed = w
        .engine
        .cancel(&supervisor, at("2025-06-10T09:11:00Z"), "SO-1", "CR", None)
        .expect("cancel");
    assert_eq!(filed.state, "PENDING");
    let ma = filed.id;
    w.tick("2025-06-10T09:11:00Z");
    // VALIDATE → CANCEL_SPECIFIC → FaCancel sent → COMM_IN_PROGRESS.
    assert_eq!(w.state(&ma), "COMM_IN_PROGRESS");
    assert_eq!(
        transitions(&w, &ma),
        [
            "PENDING->VALIDATE",
            "VALIDATE->CANCEL_SPECIFIC",
            "CANCEL_SPECIFIC->COMM_IN_PROGRESS"
        ]
    );
    let cancel = w
        .outbox()
        .into_iter()
        .find(|c| c.activity.as_deref() == Some(ma.as_str()))
        .expect("fa_cancel");
    assert_eq!(cancel.message, "fa_cancel");
    assert_eq!(cancel.target.as_deref(), Some("field_work"));
    assert_eq!(cancel.payload["fa"], "FA-1");
    assert_eq!(cancel.payload["external_id"], "MWM-1");
    assert_eq!(cancel.payload["cancel_reason"], "CR");
    assert_eq!(
        w.state("SO-1"),
        "IN_PROGRESS",
        "the parent waits for the field"
    );

    // The FWS acks → FA CANCELLED → parent DISCARDED (CR, failure) → Cancel COMPLETED.
    answer(
        &mut w,
        "2025-06-10T09:20:00Z",
        &format!(r#"{{"kind":"ack","comm":"{}"}}"#, cancel.id),
    );
    assert_eq!(w.state("FA-1"), "CANCELLED");
    assert_eq!(w.reason("FA-1").as_deref(), Some("CR"));
    let so = w.show("SO-1");
    assert_eq!(so.state, "DISCARDED");
    assert_eq!(so.status_reason.map(|r| r.code).as_deref(), Some("CR"));
    assert_eq!(
        notifications(&w, "SO-1"),
        [NotificationKind::Ack, NotificationKind::Failure]
    );
    assert_eq!(w.state(&ma), "COMPLETED");
    assert_eq!(
        notifications(&w, &ma),
        [NotificationKind::Ack, NotificationKind::Success]
    );
    assert!(
        w.outbox().is_empty(),
        "the fa_create was cancelled with its FA"
    );
}

#[test]
fn tv_15_discard_allowed_when_the_only_child_waits() {
    // Given a parent IN_PROGRESS whose only child is an RD in WAIT_EFF (a throttled CNP cut).
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-4", true, &smart("D-4", true, "on")),
            cnp("SO-1", "SP-4", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "IN_PROGRESS");
    let rd = w.children("SO-1")[0].id.clone();
    assert_eq!(w.state(&rd), "WAIT_EFF");

    // When the user discards.
    let state = w.discard("2025-06-10T09:10:00Z", "SO-1").expect("discard");

    // Then RD DISCARDED → parent DISCARDED; failure notification sent.
    assert_eq!(state, "DISCARDED");
    assert_eq!(w.state(&rd), "DISCARDED");
    assert_eq!(w.state("SO-1"), "DISCARDED");
    assert_eq!(
        notifications(&w, "SO-1"),
        [NotificationKind::Ack, NotificationKind::Failure]
    );
    let audit = w.engine.audit(Some("SO-1"), 0).expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.action == "discard" && e.outcome == AuditOutcome::Done));
    // The batch no longer sees it.
    assert!(w
        .crwto("2025-06-10T09:15:00Z", Some(false))
        .released
        .is_empty());
}

#[test]
fn tv_16_update_on_a_final_parent_fails_validation() {
    // Given a COMPLETED orchestration (Enable on {S+, On}: E7, nothing to do).
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-1", true, &smart("D-1", true, "on")),
            request("SO-1", "enable_service", "SP-1", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "COMPLETED");

    // When an Update targets it: filed (exit 0), and its VALIDATE fails on the next pass.
    let supervisor = w.supervisor.clone();
    let filed = w
        .engine
        .update(
            &supervisor,
            at("2025-06-10T09:10:00Z"),
            "SO-1",
            "call first",
            None,
            None,
        )
        .expect("update is filed");
    assert_eq!(filed.state, "PENDING");
    w.tick("2025-06-10T09:10:00Z");

    // Then VALIDATION_ERROR TARGET_FINAL.
    let ma = w.show(&filed.id);
    assert_eq!(ma.state, "VALIDATION_ERROR");
    let reason = ma.status_reason.expect("reason");
    assert_eq!(reason.code, "TARGET_FINAL");
    assert_eq!(reason.reference.as_deref(), Some("SO-1"));
    assert_eq!(w.state("SO-1"), "COMPLETED");
}

#[test]
fn tv_17_update_fa_instructions() {
    // Given an FA in COMM_IN_PROGRESS, out in the field.
    let mut w = World::new();
    enable_without_meter(&mut w);
    w.tick(T0);
    let create = w.open_comm("FA-1");
    answer(&mut w, "2025-06-10T09:05:00Z", &ack(&create, "MWM-1"));
    let parent_before = w.show("SO-1");

    // When an Update (related = the FA, "Dog on premises", start 06-12 13:00) is filed and run.
    let supervisor = w.supervisor.clone();
    let start = at("2025-06-12T13:00:00Z");
    let filed = w
        .engine
        .update(
            &supervisor,
            at("2025-06-10T09:10:00Z"),
            "SO-1",
            "Dog on premises",
            Some(start),
            Some("FA-1"),
        )
        .expect("update");
    let ma = filed.id;
    w.tick("2025-06-10T09:10:00Z");

    // UPDATE_SPECIFIC → FaModify → COMM_IN_PROGRESS.
    assert_eq!(
        transitions(&w, &ma),
        [
            "PENDING->VALIDATE",
            "VALIDATE->UPDATE_SPECIFIC",
            "UPDATE_SPECIFIC->COMM_IN_PROGRESS"
        ]
    );
    let modify = w
        .outbox()
        .into_iter()
        .find(|c| c.activity.as_deref() == Some(ma.as_str()))
        .expect("fa_modify");
    assert_eq!(modify.message, "fa_modify");
    assert_eq!(modify.payload["external_id"], "MWM-1");
    assert_eq!(modify.payload["instructions"], "Dog on premises");
    assert_eq!(
        w.show("FA-1").fields["instructions"],
        serde_json::Value::Null,
        "patched on the ack"
    );

    // The field acks → COMPLETED; the FA shows the new instructions; the parent is unchanged.
    answer(
        &mut w,
        "2025-06-10T09:15:00Z",
        &format!(r#"{{"kind":"ack","comm":"{}"}}"#, modify.id),
    );
    assert_eq!(w.state(&ma), "COMPLETED");
    let fa = w.show("FA-1");
    assert_eq!(fa.state, "COMM_IN_PROGRESS");
    assert_eq!(fa.fields["instructions"], "Dog on premises");
    assert_eq!(fa.fields["effective"], "2025-06-12T13:00:00Z");
    let parent_after = w.show("SO-1");
    assert_eq!(parent_after.state, parent_before.state);
    assert_eq!(parent_after.fields, parent_before.fields);
    assert_eq!(
        w.open_comm("FA-1"),
        create,
        "the fa_create still awaits the completion"
    );
}

#[test]
fn tv_18_exchange_meter_connects_if_previously_connected() {
    // Given Exchange on SP-5 {old S+ On}, connect_new_device unset, new device D-6 registered.
    let mut w = World::new();
    let extra = r#","old_device_id":"D-5","new_device":{"id":"D-6","badge":"B-D-6","smart":true,"commissioned":false}"#;
    w.import(
        T0,
        &[
            sp_line("SP-5", true, &smart("D-5", true, "on")),
            request("SO-1", "exchange_meter", "SP-5", extra),
        ]
        .join("\n"),
    );

    // Pass 1: flag := true, FA D1-ExchangeMeter.
    w.tick(T0);
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.fields["exchange"]["connect_new_device"], true);
    assert_eq!(
        kinds(&w, "SO-1"),
        [pair("D1-ExchangeMeter", "COMM_IN_PROGRESS")]
    );

    // The FA completes (new device S-, Off; the old meter removed).
    let co = w.open_comm("FA-1");
    let done = format!(
        r#"{{"kind":"fa_complete","comm":"{co}","status":"complete","device":{{"id":"D-6","badge":"B-D-6","smart":true,"commissioned":false}},"old_device":{{"id":"D-5","badge":"B-D-5"}}}}"#
    );
    answer(&mut w, "2025-06-10T11:00:00Z", &done);
    assert_eq!(w.state("FA-1"), "COMPLETED");
    assert_eq!(w.show("SO-1").fields["exchange"]["exchange_done"], true);

    // Pass 2: SMC Decommission(old) and SMC Commission(new).
    w.tick("2025-06-10T11:00:00Z");
    let children = w.children("SO-1");
    assert_eq!(children.len(), 3);
    let (decommission, commission) = (&children[1], &children[2]);
    assert_eq!(
        (
            decommission.kind.as_str(),
            &decommission.fields["device_id"]
        ),
        ("decommission", &serde_json::json!("D-5"))
    );
    assert_eq!(
        (commission.kind.as_str(), &commission.fields["device_id"]),
        ("commission", &serde_json::json!("D-6"))
    );
    let replies: Vec<String> = [&decommission.id, &commission.id]
        .iter()
        .map(|id| command_ok(&w.open_comm(id)))
        .collect();
    answer(&mut w, "2025-06-10T11:01:00Z", &replies.join("\n"));
    assert_eq!(w.state(&decommission.id), "COMPLETED");
    assert_eq!(w.state(&commission.id), "COMPLETED");
    assert_eq!(
        w.show("SO-1").fields["exchange"]["old_decommissioned"],
        true
    );

    // Pass 3: SMC Remote Connect(new).
    w.tick("2025-06-10T11:01:00Z");
    let children = w.children("SO-1");
    assert_eq!(children.len(), 4);
    let connect = &children[3];
    assert_eq!(
        (connect.kind.as_str(), &connect.fields["device_id"]),
        ("remote_connect", &serde_json::json!("D-6"))
    );
    let reply = command_ok(&w.open_comm(&connect.id));
    answer(&mut w, "2025-06-10T11:02:00Z", &reply);

    // Pass 4: COMPLETED.
    w.tick("2025-06-10T11:02:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "COMPLETED");
    assert_eq!(so.fields["pass"], 4);
    assert_eq!(so.children.len(), 4);
    assert_eq!(
        notifications(&w, "SO-1"),
        [NotificationKind::Ack, NotificationKind::Success]
    );
}
