//! Throttling vectors TH-1 … TH-8 and business-hours vectors BH-1 … BH-7 of `spec/domain.md`
//! §4.3, driven through the engine: every throttled Remote Disconnect is made the real way, by a
//! Cut for Non-Payment on a smart, commissioned, switched-On service point, ticked so that it
//! creates its RD child in WAIT_EFF with `throttled = true`.
//!
//! Config unless stated: UTC, Mon–Fri, CNP hours 08–17, schedule `08:00–12:00 → 30`,
//! `12:00–17:00 → 10`, throttle Allowed. 2025-06-09 is a Monday.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use orderdesk::engine::CrwtoReport;

/// Monday of the §4.3 week.
const MON: &str = "2025-06-09";

/// `date` at `hh:mm` UTC, as RFC 3339.
fn utc(date: &str, hhmm: &str) -> String {
    format!("{date}T{hhmm}:00Z")
}

/// Imports `n` CNPs on their own smart, commissioned, switched-On service points (ids
/// `SO-{tag}{i}`, `SP-{tag}{i}`, `D-{tag}{i}`), ticks at `tick`, and returns their Remote
/// Disconnects in creation order, each checked to wait throttled in WAIT_EFF.
fn throttled_rds(w: &mut World, tag: &str, n: usize, tick: &str) -> Vec<String> {
    let mut lines = Vec::with_capacity(2 * n);
    for i in 1..=n {
        let sp = format!("SP-{tag}{i}");
        lines.push(sp_line(
            &sp,
            true,
            &smart(&format!("D-{tag}{i}"), true, "on"),
        ));
        lines.push(cnp(&format!("SO-{tag}{i}"), &sp, ""));
    }
    w.import(tick, &lines.join("\n"));
    w.tick(tick);
    (1..=n)
        .map(|i| {
            let so = w.show(&format!("SO-{tag}{i}"));
            assert_eq!(
                so.state, "IN_PROGRESS",
                "SO-{tag}{i}: {:?}",
                so.status_reason
            );
            assert_eq!(so.children.len(), 1, "SO-{tag}{i} children");
            let rd = &so.children[0];
            assert_eq!(rd.kind, "remote_disconnect");
            assert_eq!(rd.state, "WAIT_EFF", "{}", rd.id);
            assert_eq!(rd.fields["throttled"], true, "{}", rd.id);
            rd.id.clone()
        })
        .collect()
}

/// The effective time of a command.
fn effective(w: &World, id: &str) -> DateTime<Utc> {
    let text = w.show(id).fields["effective"]
        .as_str()
        .unwrap_or_else(|| panic!("{id} has no effective time"))
        .to_string();
    at(&text)
}

/// Moves a waiting RD's effective time with an Update Orchestration on the related command
/// (§3.2: "Update, related command X in WAIT_EFF: patch the effective date/time").
fn reschedule(w: &mut World, now: &str, so: &str, rd: &str, start: &str) {
    let supervisor = w.supervisor.clone();
    let filed = w
        .engine
        .update(
            &supervisor,
            at(now),
            so,
            "move the disconnect",
            Some(at(start)),
            Some(rd),
        )
        .expect("update filed");
    w.tick(now);
    assert_eq!(
        w.state(&filed.id),
        "COMPLETED",
        "{}: {:?}",
        filed.id,
        w.reason(&filed.id)
    );
    assert_eq!(effective(w, rd), at(start), "{rd} rescheduled");
    assert_eq!(w.state(rd), "WAIT_EFF");
}

/// Released commands rest in COMM_IN_PROGRESS with a `remote_disconnect` command awaiting the
/// head-end (§12.8); held-back ones still wait throttled.
fn assert_released(w: &World, released: &[String], held: &[String]) {
    let outbox = w.outbox();
    for id in released {
        assert_eq!(w.state(id), "COMM_IN_PROGRESS", "{id}");
        let comm = outbox
            .iter()
            .find(|c| c.activity.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id} has no awaiting outbound command"));
        assert_eq!(comm.message, "command");
        assert_eq!(comm.target.as_deref(), Some("head_end"));
        assert_eq!(comm.state, "AWAITING_RESPONSE");
        assert_eq!(comm.payload["command_kind"], "remote_disconnect");
        let path: Vec<(String, String)> = w
            .show(id)
            .log
            .iter()
            .filter_map(|l| Some((l.from.clone()?, l.to.clone()?)))
            .collect();
        let tail = &path[path.len().saturating_sub(2)..];
        let through_ready = [
            ("WAIT_EFF".to_string(), "CONNECTION_READY".to_string()),
            (
                "CONNECTION_READY".to_string(),
                "COMM_IN_PROGRESS".to_string(),
            ),
        ];
        assert_eq!(tail, through_ready, "{id} goes on through CONNECTION_READY");
    }
    for id in held {
        assert_eq!(w.state(id), "WAIT_EFF", "{id}");
        assert!(
            outbox
                .iter()
                .all(|c| c.activity.as_deref() != Some(id.as_str())),
            "{id} was not released but has an outbound communication"
        );
    }
}

fn report(
    released: &[String],
    remaining: usize,
    not_yet_due: usize,
    row: Option<usize>,
) -> CrwtoReport {
    CrwtoReport {
        released: released.to_vec(),
        remaining,
        not_yet_due,
        row,
    }
}

/// 50 RDs with effective times at or before Monday 09:00: 20 from a Sunday tick (business hours
/// move them to Monday 08:00), then 30 ticked at Monday 08:30 (effective 08:30).
fn fifty_due_by_nine(w: &mut World) -> Vec<String> {
    let mut rds = throttled_rds(w, "A", 20, "2025-06-08T12:00:00Z");
    rds.extend(throttled_rds(w, "B", 30, &utc(MON, "08:30")));
    for rd in &rds[..20] {
        assert_eq!(effective(w, rd), at(&utc(MON, "08:00")));
    }
    for rd in &rds[20..] {
        assert_eq!(effective(w, rd), at(&utc(MON, "08:30")));
    }
    rds
}

#[test]
fn th_1_first_run_releases_the_thirty_oldest() {
    let mut w = World::new();
    let rds = fifty_due_by_nine(&mut w);
    let run = w.crwto(&utc(MON, "09:00"), None);
    assert_eq!(run, report(&rds[..30], 20, 0, Some(0)));
    assert_released(&w, &rds[..30], &rds[30..]);
}

#[test]
fn th_2_second_run_in_the_same_range_releases_the_rest() {
    let mut w = World::new();
    let rds = fifty_due_by_nine(&mut w);
    w.crwto(&utc(MON, "09:00"), None);
    let run = w.crwto(&utc(MON, "09:30"), None);
    assert_eq!(
        run,
        report(&rds[30..], 0, 0, Some(0)),
        "no memory between runs (§4.2)"
    );
    assert_released(&w, &rds, &[]);
    let third = w.crwto(&utc(MON, "09:45"), None);
    assert_eq!(third, report(&[], 0, 0, Some(0)));
}

#[test]
fn th_3_afternoon_row_releases_ten() {
    let mut w = World::new();
    let rds = throttled_rds(&mut w, "A", 50, &utc(MON, "12:30"));
    let run = w.crwto(&utc(MON, "13:00"), None);
    assert_eq!(run, report(&rds[..10], 40, 0, Some(1)));
    assert_released(&w, &rds[..10], &rds[10..]);
}

/// 50 RDs created on Friday afternoon, effective Friday 15:00: waiting since Friday.
fn fifty_since_friday(w: &mut World) -> Vec<String> {
    let rds = throttled_rds(w, "F", 50, "2025-06-06T15:00:00Z");
    for rd in &rds {
        assert_eq!(effective(w, rd), at("2025-06-06T15:00:00Z"));
    }
    rds
}

#[test]
fn th_4_no_row_before_opening_releases_nothing() {
    let mut w = World::new();
    let rds = fifty_since_friday(&mut w);
    let run = w.crwto(&utc(MON, "07:00"), None);
    assert_eq!(run, report(&[], 50, 0, None));
    assert_released(&w, &[], &rds);
}

#[test]
fn th_5_throttle_off_releases_everything_due() {
    let mut w = World::new();
    let rds = fifty_since_friday(&mut w);
    let run = w.crwto(&utc(MON, "07:00"), Some(false));
    assert_eq!(run, report(&rds, 0, 0, None));
    assert_released(&w, &rds, &[]);
}

#[test]
fn th_6_not_yet_due_commands_are_counted_apart() {
    let mut w = World::new();
    let rds = throttled_rds(&mut w, "A", 40, &utc(MON, "08:15"));
    // 15 of them are moved to 10:00 by Update Orchestrations on the commands.
    for (i, rd) in rds.iter().enumerate().skip(25) {
        reschedule(
            &mut w,
            &utc(MON, "08:30"),
            &format!("SO-A{}", i + 1),
            rd,
            &utc(MON, "10:00"),
        );
    }
    let run = w.crwto(&utc(MON, "09:00"), None);
    assert_eq!(run, report(&rds[..25], 0, 15, Some(0)));
    assert_released(&w, &rds[..25], &rds[25..]);
}

#[test]
fn th_7_a_zero_row_is_a_blackout() {
    let mut w = World::with_toml(
        r#"
[commands.remote_disconnect]
throttle = "allowed"
schedule = [
  { from = "08:00", to = "12:00", requests = 30 },
  { from = "12:00", to = "13:00", requests = 0 },
  { from = "13:00", to = "17:00", requests = 10 },
]
"#,
    );
    let rds = throttled_rds(&mut w, "A", 5, &utc(MON, "11:00"));
    let run = w.crwto(&utc(MON, "12:30"), None);
    assert_eq!(run, report(&[], 5, 0, Some(1)));
    assert_released(&w, &[], &rds);
}

#[test]
fn th_8_order_is_effective_then_sequence() {
    let mut w = World::with_toml(
        r#"
[commands.remote_disconnect]
throttle = "allowed"
schedule = [ { from = "08:00", to = "12:00", requests = 2 } ]
"#,
    );
    // Three RDs made on Sunday, in creation order first ("3"), second ("7"), third ("9"); all
    // effective Monday 08:00. The first two are then moved to 09:00.
    let rds = throttled_rds(&mut w, "A", 3, "2025-06-08T12:00:00Z");
    let (first, second, third) = (&rds[0], &rds[1], &rds[2]);
    for (so, rd) in [("SO-A1", first), ("SO-A2", second)] {
        reschedule(&mut w, &utc(MON, "07:00"), so, rd, &utc(MON, "09:00"));
    }
    assert_eq!(effective(&w, third), at(&utc(MON, "08:00")));
    let run = w.crwto(&utc(MON, "09:00"), None);
    let expected = [third.clone(), first.clone()];
    assert_eq!(run, report(&expected, 1, 0, Some(0)));
    assert_released(&w, &expected, std::slice::from_ref(second));
}

#[test]
fn th_1_in_a_configured_zone_reads_the_schedule_in_local_time() {
    // Monday 09:00 in Chicago is 14:00 UTC: the morning row (30) applies, not the afternoon one.
    let mut w = World::with_toml(r#"timezone = "America/Chicago""#);
    let rds = throttled_rds(&mut w, "A", 50, "2025-06-08T12:00:00-05:00");
    assert_eq!(effective(&w, &rds[0]), at("2025-06-09T08:00:00-05:00"));
    let run = w.crwto("2025-06-09T09:00:00-05:00", None);
    assert_eq!(run, report(&rds[..30], 20, 0, Some(0)));
    assert_released(&w, &rds[..30], &rds[30..]);
}

#[test]
fn throttle_not_allowed_leaves_the_disconnect_to_its_monitor() {
    // §12.6: a CNP's RD is throttled exactly when the option is Allowed; otherwise the WAIT_EFF
    // monitor sends it at its business-adjusted time and the batch has nothing to do (§12.8).
    let mut w = World::with_toml(
        r#"
[commands.remote_disconnect]
throttle = "not_allowed"
schedule = []
"#,
    );
    let sp = sp_line("SP-1", true, &smart("D-1", true, "on"));
    w.import(
        "2025-06-08T12:00:00Z",
        &[sp, cnp("SO-1", "SP-1", "")].join("\n"),
    );
    w.tick("2025-06-08T12:00:00Z");
    let rd = w.children("SO-1")[0].clone();
    assert_eq!(
        (rd.kind.as_str(), rd.state.as_str()),
        ("remote_disconnect", "WAIT_EFF")
    );
    assert_eq!(rd.fields["throttled"], false);
    assert_eq!(effective(&w, &rd.id), at(&utc(MON, "08:00")));
    assert_eq!(w.crwto(&utc(MON, "07:00"), None), report(&[], 0, 0, None));
    w.tick(&utc(MON, "07:59"));
    assert_eq!(w.state(&rd.id), "WAIT_EFF");
    w.tick(&utc(MON, "08:00"));
    assert_released(&w, std::slice::from_ref(&rd.id), &[]);
}

// ---- business hours: the RD's effective time after a CNP tick (§4.1, §12.13) -----------------

/// Ticks one CNP on a smart, commissioned, On service point at `tick` and returns its RD's
/// effective time.
fn rd_effective_after_tick(w: &mut World, tick: &str) -> DateTime<Utc> {
    let rds = throttled_rds(w, "X", 1, tick);
    effective(w, &rds[0])
}

#[test]
fn bh_1_saturday_moves_to_monday_opening() {
    let mut w = World::new();
    let eff = rd_effective_after_tick(&mut w, "2025-06-14T10:00:00Z");
    assert_eq!(eff, at("2025-06-16T08:00:00Z"));
}

#[test]
fn bh_1_in_a_configured_zone_uses_local_hours() {
    // Saturday 10:00 in Chicago (CDT, UTC-5) → Monday 08:00 in Chicago.
    let mut w = World::with_toml(r#"timezone = "America/Chicago""#);
    let eff = rd_effective_after_tick(&mut w, "2025-06-14T10:00:00-05:00");
    assert_eq!(eff, at("2025-06-16T08:00:00-05:00"));
}

#[test]
fn bh_2_early_morning_moves_to_same_day_opening() {
    let mut w = World::new();
    let eff = rd_effective_after_tick(&mut w, "2025-06-17T07:15:00Z");
    assert_eq!(eff, at("2025-06-17T08:00:00Z"));
}

#[test]
fn bh_3_a_minute_before_close_stays() {
    let mut w = World::new();
    let eff = rd_effective_after_tick(&mut w, "2025-06-17T16:59:00Z");
    assert_eq!(eff, at("2025-06-17T16:59:00Z"));
}

#[test]
fn bh_4_end_hour_is_exclusive() {
    let mut w = World::new();
    let eff = rd_effective_after_tick(&mut w, "2025-06-17T17:00:00Z");
    assert_eq!(eff, at("2025-06-18T08:00:00Z"));
}

#[test]
fn bh_5_holiday_is_skipped() {
    let mut w = World::with_toml(
        r#"
[work_calendars.default]
workdays = ["mon","tue","wed","thu","fri"]
holidays = ["2025-06-18"]
"#,
    );
    let eff = rd_effective_after_tick(&mut w, "2025-06-17T17:30:00Z");
    assert_eq!(eff, at("2025-06-19T08:00:00Z"));
}

#[test]
fn bh_6_ensure_off_leaves_saturday_alone() {
    let mut w = World::with_toml(
        r#"
[activity_types.cut_for_non_payment]
ensure_business_hours = false
"#,
    );
    let eff = rd_effective_after_tick(&mut w, "2025-06-14T10:00:00Z");
    assert_eq!(eff, at("2025-06-14T10:00:00Z"));
}

#[test]
fn bh_7_future_effective_waits_then_keeps_its_time() {
    let mut w = World::new();
    let sp = sp_line("SP-1", true, &smart("D-1", true, "on"));
    let so = cnp(
        "SO-1",
        "SP-1",
        r#","effective_datetime":"2025-06-11T11:00:00Z""#,
    );
    w.import(&utc(MON, "09:00"), &[sp, so].join("\n"));
    w.tick(&utc(MON, "09:00"));
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");
    assert!(w.children("SO-1").is_empty());
    w.tick("2025-06-11T10:59:00Z");
    assert_eq!(w.state("SO-1"), "WAIT_EFF_DATE");
    w.tick("2025-06-11T11:00:00Z");
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.children.len(), 1);
    let rd = &so.children[0];
    assert_eq!(
        (rd.kind.as_str(), rd.state.as_str()),
        ("remote_disconnect", "WAIT_EFF")
    );
    assert_eq!(rd.fields["throttled"], true);
    assert_eq!(effective(&w, &rd.id), at("2025-06-11T11:00:00Z"));
}
