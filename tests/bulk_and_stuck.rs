//! Bulk actions by query count only verified items; the "stuck" lens finds what rests too long.

mod common;

use common::*;

const T0: &str = "2025-06-10T09:00:00Z";

/// Three disconnects whose head-end commands faulted: three parents in ACTIVITY_ERROR.
fn three_errors(w: &mut World) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 1..=3 {
        lines.push(sp_line(
            &format!("SP-{i}"),
            true,
            &smart(&format!("D-{i}"), true, "on"),
        ));
        lines.push(request(
            &format!("SO-{i}"),
            "disable_service",
            &format!("SP-{i}"),
            "",
        ));
    }
    w.import(T0, &lines.join("\n"));
    w.tick(T0);
    for i in 1..=3 {
        let sc = w.children(&format!("SO-{i}"))[0].id.clone();
        let co = w.open_comm(&sc);
        w.inbound(
            T0,
            &format!(r#"{{"kind":"command_result","comm":"{co}","outcome":"fault","code":"HE-TIMEOUT","message":"x"}}"#),
        );
    }
    (1..=3).map(|i| format!("SO-{i}")).collect()
}

#[test]
fn a_bulk_retry_counts_only_items_whose_transition_happened() {
    let mut w = World::new();
    let mut ids = three_errors(&mut w);
    assert_eq!(w.in_state("ACTIVITY_ERROR"), ids);
    // SO-3's new command will be in flight when the bulk reaches it: make it refusable by
    // retrying it once by hand first, so its child is COMM_IN_PROGRESS.
    w.retry("2025-06-10T09:01:00Z", "SO-3")
        .expect("retry by hand");
    ids.push("SO-404".into());
    let sam = w.supervisor.clone();
    let report = w
        .engine
        .bulk_retry(&sam, at("2025-06-10T09:02:00Z"), &ids)
        .expect("bulk");
    assert_eq!(report.requested, 4);
    assert_eq!(report.verified, ["SO-1", "SO-2"]);
    let refused: Vec<&str> = report.refused.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(refused, ["SO-3", "SO-404"], "{report:?}");
    assert_eq!(
        report.summary("retried"),
        "2 of 4 retried, 2 refused (ILLEGAL_TRANSITION, UNKNOWN_ID)"
    );
    for id in ["SO-1", "SO-2"] {
        assert_eq!(w.state(id), "IN_PROGRESS");
    }
}

#[test]
fn a_retry_that_fails_again_is_not_counted_as_retried() {
    let mut w = World::new();
    w.import(
        T0,
        &[
            sp_line("SP-1", true, &manual("D-1", "on")),
            cnp("SO-1", "SP-1", ""),
        ]
        .join("\n")
        .replace("\"120.50\"", "\"0\""),
    );
    w.tick(T0);
    assert_eq!(w.state("SO-1"), "VALIDATION_ERROR");
    let sam = w.supervisor.clone();
    let report = w
        .engine
        .bulk_retry(&sam, at("2025-06-10T09:05:00Z"), &["SO-1".to_string()])
        .expect("bulk");
    assert!(report.verified.is_empty(), "{report:?}");
    assert_eq!(report.back_in_error, ["SO-1"]);
}

#[test]
fn the_stuck_lens_finds_errors_left_alone_and_missed_timeouts() {
    let mut w = World::new();
    three_errors(&mut w);
    w.import(
        T0,
        &[
            sp_line("SP-9", true, "null"),
            request("SO-9", "enable_service", "SP-9", ""),
        ]
        .join("\n"),
    );
    w.tick(T0);
    let sam = w.supervisor.clone();
    // An hour later nothing is stuck yet.
    assert!(w
        .engine
        .stuck(&sam, at("2025-06-10T10:00:00Z"))
        .expect("stuck")
        .is_empty());
    // Two hours on, without a monitor pass, SO-9's fa_create is past its ack timeout.
    let later = w
        .engine
        .stuck(&sam, at("2025-06-10T11:10:00Z"))
        .expect("stuck");
    let ids: Vec<&str> = later.iter().map(|(r, _)| r.id.as_str()).collect();
    assert_eq!(ids, ["SO-9"]);
    assert!(
        later[0].1.contains("awaits an answer past its timeout"),
        "{}",
        later[0].1
    );
    // A day and more later, the errors left alone show too.
    let next_day = w
        .engine
        .stuck(&sam, at("2025-06-11T09:30:00Z"))
        .expect("stuck");
    let ids: Vec<&str> = next_day.iter().map(|(r, _)| r.id.as_str()).collect();
    assert_eq!(ids, ["SO-1", "SO-2", "SO-3", "SO-9"]);
    assert!(
        next_day[0].1.starts_with("in ACTIVITY_ERROR for 1 d"),
        "{}",
        next_day[0].1
    );
}
