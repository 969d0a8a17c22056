//! The throttle view's what-if (when each waiting disconnect goes out if nothing changes) against
//! the throttle vectors TH-1 … TH-8 of `spec/domain.md` §4.3, and the engine's read-only throttle
//! queries: the waiting queue, the recorded batch runs and the day's releases per schedule row.
//!
//! Config unless stated: UTC, Mon–Fri, CNP hours 08–17 enforced, schedule `08:00–12:00 → 30`,
//! `12:00–17:00 → 10`, throttle Allowed, a batch run every 15 minutes. 2025-06-09 is a Monday.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use orderdesk::calendar::WorkCalendar;
use orderdesk::domain::{ActivityType, Role};
use orderdesk::store::{prefix_end, TreeId, WriteBatch};
use orderdesk::throttle::{
    project_releases, BatchPlan, BusinessHours, Candidate, Schedule, ScheduleRow,
};
use std::collections::BTreeMap;

/// Monday of the §4.3 week.
const MON: &str = "2025-06-09";

/// `date` at `hh:mm` UTC, as RFC 3339.
fn utc(date: &str, hhmm: &str) -> String {
    format!("{date}T{hhmm}:00Z")
}

/// Monday at `hh:mm` UTC.
fn mon(hhmm: &str) -> DateTime<Utc> {
    at(&utc(MON, hhmm))
}

// ---- the pure projection ----------------------------------------------------------------------

/// The §4.3 business hours and calendar, and a schedule.
struct Fixture {
    schedule: Schedule,
    hours: BusinessHours,
    calendar: WorkCalendar,
    throttle: bool,
}

impl Fixture {
    /// The §4.3 configuration.
    fn new() -> Fixture {
        Fixture::with_rows(&[("08:00", "12:00", 30), ("12:00", "17:00", 10)])
    }

    /// The §4.3 hours with other schedule rows.
    fn with_rows(rows: &[(&str, &str, u32)]) -> Fixture {
        let time = |t: &str| chrono::NaiveTime::parse_from_str(t, "%H:%M").expect("test time");
        Fixture {
            schedule: Schedule {
                rows: rows
                    .iter()
                    .map(|(from, to, requests)| ScheduleRow {
                        from: time(from),
                        to: time(to),
                        requests: *requests,
                    })
                    .collect(),
            },
            hours: BusinessHours {
                ensure: true,
                start_hour: 8,
                end_hour: 17,
            },
            calendar: WorkCalendar::default(),
            throttle: true,
        }
    }

    /// When each candidate goes out from `from` on, in release order.
    fn project(
        &self,
        candidates: &[Candidate],
        from: DateTime<Utc>,
    ) -> Vec<(u64, Option<DateTime<Utc>>)> {
        let plan = BatchPlan {
            tz: chrono_tz::UTC,
            schedule: &self.schedule,
            throttle: self.throttle,
            every_minutes: 15,
            hours: &self.hours,
            calendar: &self.calendar,
            horizon_days: 7,
        };
        project_releases(candidates, from, &plan)
    }
}

/// `n` candidates with sequences `first..first + n`, all effective at `effective`.
fn waiting(first: u64, n: u64, effective: DateTime<Utc>) -> Vec<Candidate> {
    (first..first + n)
        .map(|seq| Candidate { seq, effective })
        .collect()
}

/// How many go out at each instant, in time order.
fn per_run(projected: &[(u64, Option<DateTime<Utc>>)]) -> Vec<(Option<DateTime<Utc>>, usize)> {
    let mut runs: BTreeMap<Option<DateTime<Utc>>, usize> = BTreeMap::new();
    for (_, at) in projected {
        *runs.entry(*at).or_default() += 1;
    }
    runs.into_iter().collect()
}

#[test]
fn th_1_and_th_2_fifty_waiting_go_out_thirty_then_twenty() {
    // 20 effective 08:00 and 30 effective 08:30: all due by Monday 09:00.
    let mut candidates = waiting(1, 20, mon("08:00"));
    candidates.extend(waiting(21, 30, mon("08:30")));
    let projected = Fixture::new().project(&candidates, mon("09:00"));
    assert_eq!(
        per_run(&projected),
        [(Some(mon("09:00")), 30), (Some(mon("09:15")), 20)]
    );
    let order: Vec<u64> = projected.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(order, (1..=50).collect::<Vec<_>>(), "the oldest go first");
    assert!(projected[..30]
        .iter()
        .all(|(_, t)| *t == Some(mon("09:00"))));
}

#[test]
fn th_3_the_afternoon_row_releases_ten_a_run() {
    let projected = Fixture::new().project(&waiting(1, 50, mon("12:30")), mon("13:00"));
    let expected: Vec<_> = ["13:00", "13:15", "13:30", "13:45", "14:00"]
        .iter()
        .map(|t| (Some(mon(t)), 10))
        .collect();
    assert_eq!(per_run(&projected), expected);
}

#[test]
fn th_4_before_any_row_they_wait_for_the_first_row() {
    // Waiting since Friday 15:00; at Monday 07:00 no row covers the run.
    let since_friday = at("2025-06-06T15:00:00Z");
    let projected = Fixture::new().project(&waiting(1, 50, since_friday), mon("07:00"));
    assert_eq!(
        per_run(&projected),
        [(Some(mon("08:00")), 30), (Some(mon("08:15")), 20)]
    );
}

#[test]
fn th_5_throttle_off_releases_everything_at_the_next_run() {
    let mut fixture = Fixture::new();
    fixture.throttle = false;
    let since_friday = at("2025-06-06T15:00:00Z");
    let projected = fixture.project(&waiting(1, 50, since_friday), mon("07:00"));
    assert_eq!(per_run(&projected), [(Some(mon("07:00")), 50)]);
}

#[test]
fn th_6_not_yet_due_go_out_when_they_fall_due() {
    let mut candidates = waiting(1, 25, mon("08:15"));
    candidates.extend(waiting(26, 15, mon("10:00")));
    let projected = Fixture::new().project(&candidates, mon("09:00"));
    assert_eq!(
        per_run(&projected),
        [(Some(mon("09:00")), 25), (Some(mon("10:00")), 15)]
    );
}

#[test]
fn th_7_a_blackout_row_holds_them_until_the_next_row() {
    let fixture = Fixture::with_rows(&[
        ("08:00", "12:00", 30),
        ("12:00", "13:00", 0),
        ("13:00", "17:00", 10),
    ]);
    let projected = fixture.project(&waiting(1, 5, mon("11:00")), mon("12:30"));
    assert_eq!(per_run(&projected), [(Some(mon("13:00")), 5)]);
}

#[test]
fn th_8_order_is_effective_then_sequence() {
    let fixture = Fixture::with_rows(&[("08:00", "12:00", 2)]);
    let candidates = [
        Candidate {
            seq: 7,
            effective: mon("09:00"),
        },
        Candidate {
            seq: 3,
            effective: mon("09:00"),
        },
        Candidate {
            seq: 9,
            effective: mon("08:00"),
        },
    ];
    let projected = fixture.project(&candidates, mon("09:00"));
    assert_eq!(
        projected,
        [
            (9, Some(mon("09:00"))),
            (3, Some(mon("09:00"))),
            (7, Some(mon("09:15")))
        ]
    );
}

#[test]
fn tv_08_after_closing_they_go_out_with_the_next_morning_row() {
    let projected = Fixture::new().project(&waiting(1, 12, mon("16:00")), mon("18:00"));
    assert_eq!(
        per_run(&projected),
        [(Some(at("2025-06-10T08:00:00Z")), 12)]
    );
}

#[test]
fn a_friday_backlog_goes_out_on_saturday_morning() {
    // The schedule rows have no calendar: business hours bound only the earliest release
    // (§12.8), so what Friday's rows did not release goes with Saturday's 08:00 run.
    let friday = |t: &str| at(&format!("2025-06-13T{t}:00Z"));
    let projected = Fixture::new().project(&waiting(1, 25, friday("16:00")), friday("16:50"));
    assert_eq!(
        per_run(&projected),
        [(Some(friday("17:00") + TimeDelta::hours(15)), 25)]
    );
}

#[test]
fn without_rows_nothing_goes_out_within_the_horizon() {
    let fixture = Fixture::with_rows(&[]);
    let projected = fixture.project(&waiting(1, 3, mon("08:00")), mon("09:00"));
    assert_eq!(per_run(&projected), [(None, 3)]);
}

// ---- the engine: waiting disconnects made the real way -----------------------------------------

/// Imports `n` CNPs on their own smart, commissioned, switched-On service points (ids
/// `SO-{tag}{i}`, `SP-{tag}{i}`), ticks at `tick`, and returns their Remote Disconnects in
/// creation order (each waits throttled in WAIT_EFF).
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
            let rd = w.children(&format!("SO-{tag}{i}"))[0].clone();
            assert_eq!(
                (rd.kind.as_str(), rd.state.as_str()),
                ("remote_disconnect", "WAIT_EFF")
            );
            assert_eq!(rd.fields["throttled"], true, "{}", rd.id);
            rd.id
        })
        .collect()
}

/// Moves a waiting RD's effective time with an Update Orchestration on it (§3.2).
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
    assert_eq!(w.state(&filed.id), "COMPLETED");
}

/// The what-if for the engine's queue and configuration, as `(id, release)` in release order.
fn engine_whatif(w: &World, from: DateTime<Utc>) -> Vec<(String, Option<DateTime<Utc>>)> {
    let config = w.engine.config();
    let hours = config.type_config(ActivityType::CutForNonPayment).hours;
    let plan = BatchPlan {
        tz: config.timezone,
        schedule: config.schedule(),
        throttle: config.throttle_allowed(),
        every_minutes: config.crwto_every_minutes,
        hours: &hours,
        calendar: config.calendar_for(ActivityType::CutForNonPayment),
        horizon_days: 7,
    };
    let ids: BTreeMap<u64, String> = w
        .engine
        .throttle_waiting()
        .expect("waiting")
        .into_iter()
        .map(|c| (c.seq, c.id))
        .collect();
    let queue = w.engine.throttle_queue().expect("queue");
    project_releases(&queue, from, &plan)
        .into_iter()
        .map(|(seq, release)| (ids[&seq].clone(), release))
        .collect()
}

/// Runs the desk's scheduled batch every 15 minutes from `from` through `until` and returns
/// when each command went out, in release order.
fn run_the_schedule(
    w: &mut World,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(String, Option<DateTime<Utc>>)> {
    let mut released = Vec::new();
    let mut now = from;
    while now <= until {
        let run = w.engine.crwto_scheduled(now).expect("scheduled run");
        released.extend(run.released.into_iter().map(|id| (id, Some(now))));
        now += TimeDelta::minutes(15);
    }
    released
}

#[test]
fn th_1_the_what_if_is_what_the_scheduled_batch_does() {
    let mut w = World::new();
    let mut rds = throttled_rds(&mut w, "A", 20, "2025-06-08T12:00:00Z");
    rds.extend(throttled_rds(&mut w, "B", 30, &utc(MON, "08:30")));
    let whatif = engine_whatif(&w, mon("09:00"));
    let at_nine = whatif
        .iter()
        .filter(|(_, t)| *t == Some(mon("09:00")))
        .count();
    assert_eq!(at_nine, 30);
    assert_eq!(
        whatif.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        rds,
        "release order is queue order"
    );
    assert_eq!(run_the_schedule(&mut w, mon("09:00"), mon("10:00")), whatif);
    assert!(w.engine.throttle_waiting().expect("waiting").is_empty());
}

#[test]
fn th_6_the_what_if_holds_for_commands_not_yet_due() {
    let mut w = World::new();
    let rds = throttled_rds(&mut w, "A", 40, &utc(MON, "08:15"));
    for (i, rd) in rds.iter().enumerate().skip(25) {
        let so = format!("SO-A{}", i + 1);
        reschedule(&mut w, &utc(MON, "08:30"), &so, rd, &utc(MON, "10:00"));
    }
    let whatif = engine_whatif(&w, mon("09:00"));
    assert_eq!(
        per_run(&whatif.iter().map(|(_, t)| (0, *t)).collect::<Vec<_>>()),
        [(Some(mon("09:00")), 25), (Some(mon("10:00")), 15)]
    );
    assert_eq!(run_the_schedule(&mut w, mon("09:00"), mon("10:30")), whatif);
}

#[test]
fn th_8_waiting_commands_come_in_queue_order_with_their_service_points() {
    let mut w = World::with_toml(
        r#"
[commands.remote_disconnect]
throttle = "allowed"
schedule = [ { from = "08:00", to = "12:00", requests = 2 } ]
"#,
    );
    let rds = throttled_rds(&mut w, "A", 3, "2025-06-08T12:00:00Z");
    for (so, rd) in [("SO-A1", &rds[0]), ("SO-A2", &rds[1])] {
        reschedule(&mut w, &utc(MON, "07:00"), so, rd, &utc(MON, "09:00"));
    }
    let waiting = w.engine.throttle_waiting().expect("waiting");
    let seen: Vec<(&str, &str, DateTime<Utc>)> = waiting
        .iter()
        .map(|c| (c.id.as_str(), c.sp.as_str(), c.effective))
        .collect();
    assert_eq!(
        seen,
        [
            (rds[2].as_str(), "SP-A3", mon("08:00")),
            (rds[0].as_str(), "SP-A1", mon("09:00")),
            (rds[1].as_str(), "SP-A2", mon("09:00")),
        ]
    );
    let whatif = engine_whatif(&w, mon("09:00"));
    assert_eq!(
        whatif,
        [
            (rds[2].clone(), Some(mon("09:00"))),
            (rds[0].clone(), Some(mon("09:00"))),
            (rds[1].clone(), Some(mon("09:15"))),
        ]
    );
}

// ---- recorded runs and the day's releases -------------------------------------------------------

/// A recorded run as (time, row, released, operator).
type RunLine<'a> = (DateTime<Utc>, Option<usize>, usize, Option<&'a str>);

#[test]
fn the_days_releases_count_manual_and_scheduled_runs_per_row() {
    let mut w = World::new();
    throttled_rds(&mut w, "A", 50, &utc(MON, "08:30"));
    let manual = w.crwto(&utc(MON, "09:00"), None);
    let scheduled = w.engine.crwto_scheduled(mon("09:15")).expect("run");
    throttled_rds(&mut w, "B", 15, &utc(MON, "12:30"));
    let afternoon = w.engine.crwto_scheduled(mon("13:00")).expect("run");
    let off = w.crwto(&utc(MON, "18:00"), Some(false));
    w.engine
        .crwto_scheduled(at("2025-06-10T08:00:00Z"))
        .expect("Tuesday's run");
    assert_eq!(
        [
            manual.released.len(),
            scheduled.released.len(),
            afternoon.released.len(),
            off.released.len()
        ],
        [30, 20, 10, 5]
    );

    let day = w
        .engine
        .releases_on(mon("00:00").date_naive())
        .expect("releases");
    assert_eq!(day.per_row, [50, 10]);
    assert_eq!(day.unscheduled, 5, "the throttle-off run used no row");
    let runs: Vec<RunLine> = day
        .runs
        .iter()
        .map(|r| (r.at, r.row, r.released, r.by.as_deref()))
        .collect();
    assert_eq!(
        runs,
        [
            (mon("09:00"), Some(0), 30, Some("sam")),
            (mon("09:15"), Some(0), 20, None),
            (mon("13:00"), Some(1), 10, None),
            (mon("18:00"), None, 5, Some("sam")),
        ]
    );
    let last = w.engine.last_batch_run().expect("last run").expect("a run");
    assert_eq!((last.at, last.released), (at("2025-06-10T08:00:00Z"), 0));
}

#[test]
fn a_refused_run_records_nothing() {
    let mut w = World::new();
    throttled_rds(&mut w, "A", 3, &utc(MON, "08:30"));
    let clerk = actor("bo", Some(Role::Clerk));
    let refused = w.engine.crwto(&clerk, mon("09:00"), None);
    assert!(
        matches!(&refused, Err(orderdesk::engine::EngineError::Refused { code, .. }) if code == "PERMISSION_DENIED"),
        "{refused:?}"
    );
    let day = w
        .engine
        .releases_on(mon("00:00").date_naive())
        .expect("releases");
    assert!(day.runs.is_empty());
    assert_eq!(w.engine.throttle_waiting().expect("waiting").len(), 3);
    let audit = w.engine.audit(None, 0).expect("audit");
    let last = audit.last().expect("the refusal is audited");
    assert_eq!(
        (last.operator.as_str(), last.action.as_str()),
        ("bo", "crwto")
    );
}

#[test]
fn a_run_known_only_to_the_audit_log_still_counts() {
    // A database from before runs were recorded: the manual run is in the audit log only.
    let mut w = World::new();
    throttled_rds(&mut w, "A", 12, &utc(MON, "12:30"));
    w.crwto(&utc(MON, "13:00"), None);
    let store = w.engine.store();
    let end = prefix_end(b"crwto/");
    let records = store
        .range(TreeId::Meta, b"crwto/", end.as_deref(), usize::MAX, false)
        .expect("records");
    assert_eq!(records.len(), 1, "one record per run");
    let mut forget = WriteBatch::default();
    for (key, _) in records {
        forget.delete(TreeId::Meta, key);
    }
    store.commit(&forget).expect("forget the record");

    let day = w
        .engine
        .releases_on(mon("00:00").date_naive())
        .expect("releases");
    assert_eq!(day.per_row, [0, 10]);
    assert_eq!(day.runs.len(), 1);
    assert_eq!(day.runs[0].by.as_deref(), Some("sam"));
    assert_eq!((day.runs[0].remaining, day.runs[0].not_yet_due), (2, 0));
}

#[test]
fn the_day_is_the_configured_zones_day() {
    let mut w = World::with_toml(r#"timezone = "America/Chicago""#);
    throttled_rds(&mut w, "A", 4, "2025-06-09T09:00:00-05:00");
    // Monday 23:30 in Chicago is Tuesday 04:30 UTC.
    w.crwto("2025-06-09T23:30:00-05:00", Some(false));
    let monday = w
        .engine
        .releases_on(mon("00:00").date_naive())
        .expect("releases");
    let tuesday = w
        .engine
        .releases_on(at("2025-06-10T12:00:00Z").date_naive())
        .expect("releases");
    assert_eq!((monday.unscheduled, monday.runs.len()), (4, 1));
    assert!(tuesday.runs.is_empty());
}

#[test]
fn two_runs_in_one_second_are_both_kept() {
    let mut w = World::new();
    throttled_rds(&mut w, "A", 40, &utc(MON, "08:30"));
    w.engine.crwto_scheduled(mon("09:00")).expect("scheduled");
    w.crwto(&utc(MON, "09:00"), None);
    let day = w
        .engine
        .releases_on(mon("00:00").date_naive())
        .expect("releases");
    let released: Vec<usize> = day.runs.iter().map(|r| r.released).collect();
    assert_eq!(released, [30, 10]);
    assert_eq!(day.per_row, [40, 0]);
}

#[test]
fn records_older_than_eight_days_are_dropped_by_a_later_run() {
    let mut w = World::new();
    w.engine
        .crwto_scheduled(mon("09:00"))
        .expect("Monday's run");
    let monday = mon("00:00").date_naive();
    assert_eq!(
        w.engine.releases_on(monday).expect("releases").runs.len(),
        1
    );
    w.engine
        .crwto_scheduled(mon("09:00") + TimeDelta::days(9))
        .expect("a run nine days later");
    assert!(w
        .engine
        .releases_on(monday)
        .expect("releases")
        .runs
        .is_empty());
}
