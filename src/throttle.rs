//! Business hours and the D1-CRWTO throttle batch as pure arithmetic (`spec/domain.md` §4, §12.8).
//!
//! Nothing here reads a clock or a store: the engine passes `now`, the candidates and the
//! configuration, and records what comes back.

use crate::calendar::WorkCalendar;
use crate::domain::{Instant, Seq};
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How far a local time inside a daylight-saving gap is moved forward at most; real gaps are an
/// hour or two, and a skipped calendar day (Pacific/Apia, 2011) is the extreme.
const MAX_GAP_MINUTES: i64 = 24 * 60;

/// How many days `business_adjust` looks ahead before giving up (a calendar without workdays).
const SEARCH_LIMIT_DAYS: u64 = 3660;

/// The batch slot `t` falls in: whole minutes since the Unix epoch divided by the interval, so
/// the D1-CRWTO batch runs when the slot turns over; `None` when the batch is off (an interval
/// of 0).
///
/// The grid counts UTC minutes, not the configured zone's: it only moves forward, so a
/// daylight-saving change never repeats or skips a run, and the runtime that runs the batch and
/// the desk that projects it agree in every zone (Asia/Kolkata at +05:30 with a 60-minute
/// interval runs at half past each local hour).
pub fn batch_slot(t: Instant, every_minutes: u32) -> Option<i64> {
    (every_minutes > 0).then(|| {
        t.timestamp()
            .div_euclid(60)
            .div_euclid(i64::from(every_minutes))
    })
}

/// True when the whole minute `t` starts a batch slot (a scheduled run happens then).
pub fn starts_batch_slot(t: Instant, every_minutes: u32) -> bool {
    every_minutes > 0
        && t.timestamp().rem_euclid(60) == 0
        && t.timestamp()
            .div_euclid(60)
            .rem_euclid(i64::from(every_minutes))
            == 0
}

/// `t` with its seconds and fractions dropped: rules compare against the minute (§12.1).
pub fn truncate_to_minute(t: Instant) -> Instant {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

/// The business-hours parameters of an activity type (§4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    /// Whether effective times are moved into business hours at all.
    pub ensure: bool,
    /// The local hour business opens (inclusive).
    pub start_hour: u32,
    /// The local hour business closes (exclusive); 24 means midnight.
    pub end_hour: u32,
}

impl Default for BusinessHours {
    /// 08–17, not enforced.
    fn default() -> Self {
        Self {
            ensure: false,
            start_hour: 8,
            end_hour: 17,
        }
    }
}

impl BusinessHours {
    /// True when the local `hour` lies inside `[start_hour, end_hour)`.
    pub fn contains_hour(&self, hour: u32) -> bool {
        self.start_hour <= hour && hour < self.end_hour
    }
}

/// Moves `t` into business hours on a workday of `calendar`, evaluated in the local time of `tz` (§4.1).
///
/// Returns `t` unchanged when `hours.ensure` is off or `t` is already inside. An opening time that a
/// daylight-saving change makes ambiguous resolves to its earlier instant; one that does not exist
/// moves forward to the first instant that does.
pub fn business_adjust(
    t: Instant,
    hours: &BusinessHours,
    calendar: &WorkCalendar,
    tz: Tz,
) -> Instant {
    if !hours.ensure {
        return t;
    }
    let local = t.with_timezone(&tz);
    let today = local.date_naive();
    if calendar.is_workday(today) && local.hour() < hours.end_hour {
        if local.hour() >= hours.start_hour {
            return t;
        }
        if let Some(open) = opening(today, hours, tz) {
            // A clock turned back past the opening hour must still not move `t` backwards.
            return open.max(t);
        }
    }
    opening_after(today, hours, calendar, tz).unwrap_or(t)
}

/// The next instant at or after `now` at which business hours are open (`ensure` forced on).
pub fn next_opening(
    now: Instant,
    hours: &BusinessHours,
    calendar: &WorkCalendar,
    tz: Tz,
) -> Instant {
    let enforced = BusinessHours {
        ensure: true,
        ..*hours
    };
    business_adjust(now, &enforced, calendar, tz)
}

/// The opening of the first workday after `day` that has one.
fn opening_after(
    day: NaiveDate,
    hours: &BusinessHours,
    calendar: &WorkCalendar,
    tz: Tz,
) -> Option<Instant> {
    (1..=SEARCH_LIMIT_DAYS)
        .map_while(|n| day.checked_add_days(Days::new(n)))
        .filter(|d| calendar.is_workday(*d))
        .find_map(|d| opening(d, hours, tz))
}

/// The instant business opens on `date`, or `None` when a daylight-saving gap swallows the window.
fn opening(date: NaiveDate, hours: &BusinessHours, tz: Tz) -> Option<Instant> {
    let instant = resolve_local(date.and_hms_opt(hours.start_hour, 0, 0)?, tz)?;
    let local = instant.with_timezone(&tz);
    (local.date_naive() == date && local.hour() < hours.end_hour).then_some(instant)
}

/// The earliest instant showing `naive` on the clocks of `tz`, or the first one after it when
/// `naive` falls into a gap.
fn resolve_local(naive: NaiveDateTime, tz: Tz) -> Option<Instant> {
    (0..=MAX_GAP_MINUTES)
        .find_map(|minutes| {
            let shifted = naive.checked_add_signed(TimeDelta::minutes(minutes))?;
            tz.from_local_datetime(&shifted).earliest()
        })
        .map(|t| t.to_utc())
}

/// One row of the Remote Disconnect throttle schedule: up to `requests` per run in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRow {
    /// Local start of the range (inclusive).
    pub from: NaiveTime,
    /// Local end of the range (exclusive).
    pub to: NaiveTime,
    /// How many commands one batch run may release in this range.
    pub requests: u32,
}

impl ScheduleRow {
    /// True when the local time `t` lies inside `[from, to)`.
    pub fn covers(&self, t: NaiveTime) -> bool {
        self.from <= t && t < self.to
    }

    /// The range as an operator writes it, e.g. `08:00-12:00`.
    pub fn range_label(&self) -> String {
        format!("{}-{}", self.from.format("%H:%M"), self.to.format("%H:%M"))
    }
}

/// The throttle schedule of the Remote Disconnect command type (§4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The rows, in the order the configuration lists them.
    pub rows: Vec<ScheduleRow>,
}

impl Schedule {
    /// Checks that every row has `from < to` and that no two rows overlap (§4.2, §12.8).
    pub fn validate(&self) -> Result<(), String> {
        let labelled =
            |i: usize, row: &ScheduleRow| format!("row {} ({})", i + 1, row.range_label());
        if let Some((i, row)) = self.rows.iter().enumerate().find(|(_, r)| r.from >= r.to) {
            return Err(format!("{}: `from` must be before `to`", labelled(i, row)));
        }
        let mut by_start: Vec<(usize, &ScheduleRow)> = self.rows.iter().enumerate().collect();
        by_start.sort_by_key(|(_, row)| row.from);
        for ((i, a), (j, b)) in by_start.iter().zip(by_start.iter().skip(1)) {
            if a.to > b.from {
                let (first, second) = if i < j {
                    ((*i, *a), (*j, *b))
                } else {
                    ((*j, *b), (*i, *a))
                };
                return Err(format!(
                    "{} and {} overlap",
                    labelled(first.0, first.1),
                    labelled(second.0, second.1)
                ));
            }
        }
        Ok(())
    }

    /// The index of the row covering the local time `local`, if any.
    pub fn row_at(&self, local: NaiveTime) -> Option<usize> {
        self.rows.iter().position(|row| row.covers(local))
    }
}

/// A throttled command waiting in WAIT_EFF, as the batch sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The command's sequence number (the tie-break, §12.1).
    pub seq: Seq,
    /// The command's effective time: never released before it.
    pub effective: Instant,
}

/// The outcome of one D1-CRWTO run (§4.2 step 6, §12.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The released commands, in release order.
    pub released: Vec<Seq>,
    /// Due but held back by the schedule.
    pub remaining: usize,
    /// Not due yet (effective after `now`).
    pub not_yet_due: usize,
    /// The 0-based schedule row used; `None` with throttling off or no row covering `now`.
    pub row: Option<usize>,
}

/// Chooses which candidates one D1-CRWTO run at `now` releases (§4.2).
///
/// Due candidates (effective at or before the minute of `now`) go out oldest first, ties broken by
/// sequence. With `throttle` off all of them go; otherwise the schedule row covering `now`'s local
/// time caps the count, and no covering row releases none. Runs keep no memory of each other.
pub fn select_release(
    candidates: &[Candidate],
    now: Instant,
    tz: Tz,
    schedule: &Schedule,
    throttle: bool,
) -> Release {
    let now = truncate_to_minute(now);
    let mut due: Vec<&Candidate> = candidates.iter().filter(|c| c.effective <= now).collect();
    due.sort_by_key(|c| (c.effective, c.seq));
    let (limit, row) = if throttle {
        let row = schedule.row_at(now.with_timezone(&tz).time());
        let limit = row
            .and_then(|i| schedule.rows.get(i))
            .map_or(0, |r| usize::try_from(r.requests).unwrap_or(usize::MAX));
        (limit, row)
    } else {
        (due.len(), None)
    };
    let released: Vec<Seq> = due.iter().take(limit).map(|c| c.seq).collect();
    Release {
        remaining: due.len() - released.len(),
        not_yet_due: candidates.len() - due.len(),
        released,
        row,
    }
}

/// What a throttle projection simulates: the batch settings and how far ahead to look.
#[derive(Debug, Clone, Copy)]
pub struct BatchPlan<'a> {
    /// The zone the schedule and business hours are read in.
    pub tz: Tz,
    /// The throttle schedule.
    pub schedule: &'a Schedule,
    /// Whether the batch throttles (as `select_release`).
    pub throttle: bool,
    /// Batch runs start each slot of this many minutes ([`batch_slot`]; 0 counts as 1).
    pub every_minutes: u32,
    /// Business hours applied to each candidate's effective time first.
    pub hours: &'a BusinessHours,
    /// The work calendar of those business hours.
    pub calendar: &'a WorkCalendar,
    /// How many days of runs to simulate.
    pub horizon_days: u32,
}

/// When each candidate would be released by batch runs from `from` on, `None` beyond the horizon.
///
/// A what-if view: effective times are first moved into `plan.hours` (a no-op for times already
/// adjusted with the same hours), then runs are simulated where the runtime runs them, at the
/// start of each batch slot of `plan.every_minutes` ([`batch_slot`]). Results come in queue order (effective, then sequence).
pub fn project_releases(
    candidates: &[Candidate],
    from: Instant,
    plan: &BatchPlan<'_>,
) -> Vec<(Seq, Option<Instant>)> {
    let mut queue: Vec<Candidate> = candidates
        .iter()
        .map(|c| Candidate {
            effective: business_adjust(c.effective, plan.hours, plan.calendar, plan.tz),
            ..*c
        })
        .collect();
    queue.sort_by_key(|c| (c.effective, c.seq));
    let mut released_at: HashMap<Seq, Instant> = HashMap::new();
    let mut pending = queue.clone();
    for run in batch_runs(from, plan) {
        if pending.is_empty() {
            break;
        }
        let release = select_release(&pending, run, plan.tz, plan.schedule, plan.throttle);
        if release.released.is_empty() {
            continue;
        }
        released_at.extend(release.released.iter().map(|seq| (*seq, run)));
        pending.retain(|c| !released_at.contains_key(&c.seq));
    }
    queue
        .iter()
        .map(|c| (c.seq, released_at.get(&c.seq).copied()))
        .collect()
}

/// The instants of the batch runs in the plan's horizon: whole minutes at or after `from` that
/// start a batch slot ([`starts_batch_slot`]), as the runtime runs them.
fn batch_runs<'a>(from: Instant, plan: &BatchPlan<'a>) -> impl Iterator<Item = Instant> + 'a {
    let first = match truncate_to_minute(from) {
        t if t < from => t + TimeDelta::minutes(1),
        t => t,
    };
    let end = first + TimeDelta::days(i64::from(plan.horizon_days));
    let every = plan.every_minutes.max(1);
    std::iter::successors(Some(first), |t| Some(*t + TimeDelta::minutes(1)))
        .take_while(move |t| *t < end)
        .filter(move |t| starts_batch_slot(*t, every))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::WeekdaySet;

    #[test]
    fn batch_slots_turn_over_on_multiples_of_the_interval() {
        let at = |h, m, s| chrono::Utc.with_ymd_and_hms(2025, 6, 10, h, m, s).unwrap();
        assert_eq!(batch_slot(at(9, 0, 0), 15), batch_slot(at(9, 14, 59), 15));
        assert!(batch_slot(at(9, 15, 0), 15) > batch_slot(at(9, 14, 59), 15));
        assert_eq!(batch_slot(at(9, 15, 0), 0), None);
        assert!(starts_batch_slot(at(9, 15, 0), 15));
        assert!(!starts_batch_slot(at(9, 16, 0), 15));
        assert!(!starts_batch_slot(at(9, 15, 30), 15));
        assert!(!starts_batch_slot(at(9, 15, 0), 0));
    }

    #[test]
    fn batch_slots_in_kolkata_turn_over_at_half_past_the_local_hour() {
        // Given Asia/Kolkata (+05:30) and a 60-minute interval,
        let tz = chrono_tz::Asia::Kolkata;
        let local = |h, m| tz.with_ymd_and_hms(2025, 6, 10, h, m, 0).unwrap().to_utc();
        // when the slot turns over, then it does so at hh:30 local (a whole UTC hour),
        assert!(starts_batch_slot(local(14, 30), 60));
        assert!(!starts_batch_slot(local(15, 0), 60));
        assert_eq!(batch_slot(local(14, 30), 60), batch_slot(local(15, 29), 60));
        assert!(batch_slot(local(15, 30), 60) > batch_slot(local(15, 29), 60));
        // and the projected runs land on the very minutes the runtime's slot turns over.
        let hours = BusinessHours::default();
        let calendar = WorkCalendar::default();
        let schedule = Schedule::default();
        let plan = BatchPlan {
            tz,
            schedule: &schedule,
            throttle: true,
            every_minutes: 60,
            hours: &hours,
            calendar: &calendar,
            horizon_days: 1,
        };
        let runs: Vec<Instant> = batch_runs(local(14, 0), &plan).take(2).collect();
        assert_eq!(runs, vec![local(14, 30), local(15, 30)]);
        for run in runs {
            let before = batch_slot(run - TimeDelta::seconds(1), 60);
            assert!(batch_slot(run, 60) > before);
        }
    }
    use chrono_tz::America::Chicago;
    use std::collections::BTreeSet;

    /// The local time `h:m` on 2025-`month`-`day` in `tz`, as an instant.
    fn local(tz: Tz, month: u32, day: u32, h: u32, m: u32) -> Instant {
        tz.with_ymd_and_hms(2025, month, day, h, m, 0)
            .earliest()
            .expect("test time exists")
            .to_utc()
    }

    /// Monday 2025-06-09 at `h:m` in Chicago (the §4.3 week).
    fn mon(h: u32, m: u32) -> Instant {
        local(Chicago, 6, 9, h, m)
    }

    fn utc(month: u32, day: u32, h: u32, m: u32) -> Instant {
        local(Tz::UTC, month, day, h, m)
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn row(from: (u32, u32), to: (u32, u32), requests: u32) -> ScheduleRow {
        ScheduleRow {
            from: time(from.0, from.1),
            to: time(to.0, to.1),
            requests,
        }
    }

    /// The §4.3 schedule: 08:00–12:00 → 30, 12:00–17:00 → 10.
    fn schedule() -> Schedule {
        Schedule {
            rows: vec![row((8, 0), (12, 0), 30), row((12, 0), (17, 0), 10)],
        }
    }

    /// `n` candidates with sequences 1..=n, the k-th effective k minutes before `latest`.
    fn waiting(n: u64, latest: Instant) -> Vec<Candidate> {
        (1..=n)
            .map(|seq| Candidate {
                seq,
                effective: latest - TimeDelta::minutes(i64::try_from(seq).unwrap_or(0)),
            })
            .collect()
    }

    /// The sequences of `candidates` in queue order (oldest effective first).
    fn oldest_first(candidates: &[Candidate]) -> Vec<Seq> {
        let mut sorted = candidates.to_vec();
        sorted.sort_by_key(|c| (c.effective, c.seq));
        sorted.iter().map(|c| c.seq).collect()
    }

    fn without(candidates: &[Candidate], released: &[Seq]) -> Vec<Candidate> {
        candidates
            .iter()
            .filter(|c| !released.contains(&c.seq))
            .copied()
            .collect()
    }

    #[test]
    fn th_1_first_run_releases_the_thirty_oldest() {
        let candidates = waiting(50, mon(9, 0));
        let release = select_release(&candidates, mon(9, 0), Chicago, &schedule(), true);
        assert_eq!(release.released, oldest_first(&candidates)[..30].to_vec());
        assert_eq!(release.remaining, 20);
        assert_eq!(release.not_yet_due, 0);
        assert_eq!(release.row, Some(0));
    }

    #[test]
    fn th_2_second_run_in_the_same_range_releases_the_rest() {
        let candidates = waiting(50, mon(9, 0));
        let first = select_release(&candidates, mon(9, 0), Chicago, &schedule(), true);
        let left = without(&candidates, &first.released);
        let second = select_release(&left, mon(9, 30), Chicago, &schedule(), true);
        assert_eq!(second.released.len(), 20);
        assert_eq!(second.remaining, 0);
        assert_eq!(second.row, Some(0));
    }

    #[test]
    fn th_3_afternoon_row_releases_ten() {
        let candidates = waiting(50, mon(13, 0));
        let release = select_release(&candidates, mon(13, 0), Chicago, &schedule(), true);
        assert_eq!(release.released.len(), 10);
        assert_eq!(release.remaining, 40);
        assert_eq!(release.row, Some(1));
    }

    #[test]
    fn th_4_no_row_before_opening_releases_nothing() {
        let candidates = waiting(50, mon(7, 0));
        let release = select_release(&candidates, mon(7, 0), Chicago, &schedule(), true);
        assert!(release.released.is_empty());
        assert_eq!(release.remaining, 50);
        assert_eq!(release.row, None);
    }

    #[test]
    fn th_5_throttle_off_releases_everything_due() {
        let candidates = waiting(50, mon(7, 0));
        let release = select_release(&candidates, mon(7, 0), Chicago, &schedule(), false);
        assert_eq!(release.released, oldest_first(&candidates));
        assert_eq!(release.remaining, 0);
        assert_eq!(release.row, None);
    }

    #[test]
    fn th_6_not_yet_due_candidates_are_counted_apart() {
        let mut candidates = waiting(25, mon(9, 0));
        candidates.extend((26..=40).map(|seq| Candidate {
            seq,
            effective: mon(10, 0),
        }));
        let release = select_release(&candidates, mon(9, 0), Chicago, &schedule(), true);
        assert_eq!(release.released.len(), 25);
        assert_eq!(release.remaining, 0);
        assert_eq!(release.not_yet_due, 15);
    }

    #[test]
    fn th_7_a_zero_row_is_a_blackout() {
        let blackout = Schedule {
            rows: vec![
                row((8, 0), (12, 0), 30),
                row((12, 0), (13, 0), 0),
                row((13, 0), (17, 0), 10),
            ],
        };
        let candidates = waiting(5, mon(12, 0));
        let release = select_release(&candidates, mon(12, 30), Chicago, &blackout, true);
        assert!(release.released.is_empty());
        assert_eq!(release.remaining, 5);
        assert_eq!(release.row, Some(1));
    }

    #[test]
    fn th_8_order_is_effective_then_sequence() {
        let small = Schedule {
            rows: vec![row((8, 0), (12, 0), 2)],
        };
        let candidates = [
            Candidate {
                seq: 7,
                effective: mon(9, 0),
            },
            Candidate {
                seq: 3,
                effective: mon(9, 0),
            },
            Candidate {
                seq: 9,
                effective: mon(8, 0),
            },
        ];
        let release = select_release(&candidates, mon(9, 0), Chicago, &small, true);
        assert_eq!(release.released, vec![9, 3]);
        assert_eq!(release.remaining, 1);
    }

    #[test]
    fn th_selection_works_in_utc_too() {
        let candidates = waiting(50, utc(6, 9, 9, 0));
        let release = select_release(&candidates, utc(6, 9, 9, 0), Tz::UTC, &schedule(), true);
        assert_eq!(release.released.len(), 30);
        assert_eq!(release.row, Some(0));
    }

    #[test]
    fn tv_07_a_third_run_releases_nothing() {
        let mut candidates = waiting(50, mon(9, 0));
        for (now, expected) in [(mon(9, 0), 30), (mon(9, 45), 20), (mon(10, 0), 0)] {
            let release = select_release(&candidates, now, Chicago, &schedule(), true);
            assert_eq!(release.released.len(), expected);
            candidates = without(&candidates, &release.released);
        }
    }

    #[test]
    fn tv_08_after_hours_only_an_unthrottled_run_releases() {
        let candidates = waiting(12, mon(18, 0));
        let throttled = select_release(&candidates, mon(18, 0), Chicago, &schedule(), true);
        let unthrottled = select_release(&candidates, mon(18, 0), Chicago, &schedule(), false);
        assert!(throttled.released.is_empty());
        assert_eq!(unthrottled.released.len(), 12);
    }

    #[test]
    fn due_is_judged_against_the_minute_of_now() {
        let candidates = [Candidate {
            seq: 1,
            effective: mon(9, 0) + TimeDelta::seconds(30),
        }];
        let release = select_release(
            &candidates,
            mon(9, 0) + TimeDelta::seconds(45),
            Chicago,
            &schedule(),
            true,
        );
        assert!(release.released.is_empty());
        assert_eq!(release.not_yet_due, 1);
    }

    #[test]
    fn release_serializes_for_the_batch_report() {
        let release = Release {
            released: vec![9, 3],
            remaining: 1,
            not_yet_due: 0,
            row: None,
        };
        let json = serde_json::to_string(&release).expect("serializable");
        assert_eq!(
            json,
            r#"{"released":[9,3],"remaining":1,"not_yet_due":0,"row":null}"#
        );
    }

    #[test]
    fn truncation_drops_seconds_and_fractions() {
        let t = mon(9, 0) + TimeDelta::milliseconds(59_999);
        assert_eq!(truncate_to_minute(t), mon(9, 0));
    }

    // Business hours (§4.3, BH-*): Mon–Fri, 08–17, in Chicago.

    fn cnp_hours() -> BusinessHours {
        BusinessHours {
            ensure: true,
            start_hour: 8,
            end_hour: 17,
        }
    }

    fn adjust(t: Instant) -> Instant {
        business_adjust(t, &cnp_hours(), &WorkCalendar::default(), Chicago)
    }

    #[test]
    fn bh_1_saturday_moves_to_monday_opening() {
        assert_eq!(
            adjust(local(Chicago, 6, 14, 10, 0)),
            local(Chicago, 6, 16, 8, 0)
        );
    }

    #[test]
    fn bh_2_early_morning_moves_to_same_day_opening() {
        assert_eq!(
            adjust(local(Chicago, 6, 10, 7, 15)),
            local(Chicago, 6, 10, 8, 0)
        );
    }

    #[test]
    fn bh_3_a_minute_before_close_stays() {
        let t = local(Chicago, 6, 10, 16, 59);
        assert_eq!(adjust(t), t);
    }

    #[test]
    fn bh_4_end_hour_is_exclusive() {
        assert_eq!(
            adjust(local(Chicago, 6, 10, 17, 0)),
            local(Chicago, 6, 11, 8, 0)
        );
    }

    #[test]
    fn bh_5_holiday_is_skipped() {
        let wednesday = NaiveDate::from_ymd_opt(2025, 6, 11).expect("valid date");
        let calendar = WorkCalendar::new(WorkCalendar::MON_TO_FRI, BTreeSet::from([wednesday]));
        let adjusted = business_adjust(
            local(Chicago, 6, 10, 17, 30),
            &cnp_hours(),
            &calendar,
            Chicago,
        );
        assert_eq!(adjusted, local(Chicago, 6, 12, 8, 0));
    }

    #[test]
    fn bh_6_ensure_off_leaves_saturday_alone() {
        let hours = BusinessHours {
            ensure: false,
            ..cnp_hours()
        };
        let t = local(Chicago, 6, 14, 10, 0);
        assert_eq!(
            business_adjust(t, &hours, &WorkCalendar::default(), Chicago),
            t
        );
    }

    #[test]
    fn bh_7_future_effective_inside_hours_is_kept() {
        // The RD gets business_adjust(max(now, parent effective)) (§12.13).
        let now = local(Chicago, 6, 9, 9, 0);
        let effective = local(Chicago, 6, 11, 11, 0);
        assert_eq!(adjust(now.max(effective)), effective);
    }

    #[test]
    fn next_opening_ignores_the_ensure_flag() {
        let hours = BusinessHours {
            ensure: false,
            ..cnp_hours()
        };
        let saturday = local(Chicago, 6, 14, 10, 0);
        let opening = next_opening(saturday, &hours, &WorkCalendar::default(), Chicago);
        assert_eq!(opening, local(Chicago, 6, 16, 8, 0));
    }

    #[test]
    fn end_hour_24_runs_until_midnight() {
        let hours = BusinessHours {
            end_hour: 24,
            ..cnp_hours()
        };
        let late = local(Chicago, 6, 10, 23, 59);
        assert_eq!(
            business_adjust(late, &hours, &WorkCalendar::default(), Chicago),
            late
        );
    }

    #[test]
    fn a_calendar_without_workdays_returns_the_input() {
        let never = WorkCalendar::new(WeekdaySet::EMPTY, BTreeSet::new());
        let t = local(Chicago, 6, 14, 10, 0);
        assert_eq!(business_adjust(t, &cnp_hours(), &never, Chicago), t);
    }

    // Daylight saving in Chicago: 2025-03-09 02:00 CST jumps to 03:00 CDT; 2025-11-02 02:00 CDT
    // falls back to 01:00 CST. Both are Sundays, so these tests open every day.

    fn every_day(start_hour: u32, end_hour: u32) -> (BusinessHours, WorkCalendar) {
        let hours = BusinessHours {
            ensure: true,
            start_hour,
            end_hour,
        };
        (hours, WorkCalendar::new(WeekdaySet::ALL, BTreeSet::new()))
    }

    #[test]
    fn dst_spring_forward_missing_opening_moves_to_first_valid_instant() {
        let (hours, calendar) = every_day(2, 17);
        let before = utc(3, 9, 6, 30); // 00:30 CST
                                       // 02:00 does not exist; the first valid instant is 03:00 CDT = 08:00 UTC.
        assert_eq!(
            business_adjust(before, &hours, &calendar, Chicago),
            utc(3, 9, 8, 0)
        );
    }

    #[test]
    fn dst_spring_forward_after_close_moves_into_the_gap_day() {
        let (hours, calendar) = every_day(2, 17);
        let saturday_evening = utc(3, 9, 0, 0); // Sat 18:00 CST
        assert_eq!(
            business_adjust(saturday_evening, &hours, &calendar, Chicago),
            utc(3, 9, 8, 0)
        );
    }

    #[test]
    fn dst_spring_forward_regular_opening_uses_daylight_offset() {
        let (hours, calendar) = every_day(8, 17);
        // 08:00 CDT = 13:00 UTC (not 14:00 as in winter).
        assert_eq!(
            business_adjust(utc(3, 9, 6, 30), &hours, &calendar, Chicago),
            utc(3, 9, 13, 0)
        );
    }

    #[test]
    fn dst_gap_swallowing_the_whole_window_moves_to_the_next_day() {
        let (hours, calendar) = every_day(2, 3);
        // Mon 2025-03-10 02:00 CDT = 07:00 UTC.
        assert_eq!(
            business_adjust(utc(3, 9, 6, 30), &hours, &calendar, Chicago),
            utc(3, 10, 7, 0)
        );
    }

    #[test]
    fn dst_fall_back_ambiguous_opening_takes_the_earlier_instant() {
        let (hours, calendar) = every_day(1, 17);
        let before = utc(11, 2, 5, 30); // 00:30 CDT
                                        // 01:00 happens twice; the first is 01:00 CDT = 06:00 UTC.
        assert_eq!(
            business_adjust(before, &hours, &calendar, Chicago),
            utc(11, 2, 6, 0)
        );
    }

    #[test]
    fn dst_fall_back_openings_at_two_and_eight_use_standard_offset() {
        let before = utc(11, 2, 5, 30); // 00:30 CDT
        let (two, calendar) = every_day(2, 17);
        assert_eq!(
            business_adjust(before, &two, &calendar, Chicago),
            utc(11, 2, 8, 0)
        );
        let (eight, calendar) = every_day(8, 17);
        assert_eq!(
            business_adjust(before, &eight, &calendar, Chicago),
            utc(11, 2, 14, 0)
        );
    }

    #[test]
    fn dst_fall_back_repeated_hour_inside_the_window_is_kept() {
        let (hours, calendar) = every_day(1, 17);
        let second_one_thirty = utc(11, 2, 7, 30); // 01:30 CST, the second time round
        assert_eq!(
            business_adjust(second_one_thirty, &hours, &calendar, Chicago),
            second_one_thirty
        );
    }

    /// True when `t` is inside business hours on a workday, in local time.
    fn is_open(t: Instant, hours: &BusinessHours, calendar: &WorkCalendar, tz: Tz) -> bool {
        let local = t.with_timezone(&tz);
        calendar.is_workday(local.date_naive()) && hours.contains_hour(local.hour())
    }

    #[test]
    fn property_every_minute_of_a_week_lands_on_the_first_open_minute() {
        let holiday = NaiveDate::from_ymd_opt(2025, 3, 11).expect("valid date");
        let cases = [
            (every_day(2, 17), utc(3, 6, 0, 0)),
            (every_day(1, 3), utc(10, 30, 0, 0)),
            (every_day(0, 24), utc(10, 30, 0, 0)),
            (
                (
                    cnp_hours(),
                    WorkCalendar::new(WorkCalendar::MON_TO_FRI, BTreeSet::from([holiday])),
                ),
                utc(3, 6, 0, 0),
            ),
        ];
        for ((hours, calendar), start) in cases {
            for minute in 0..7 * 24 * 60 {
                let t = start + TimeDelta::minutes(minute);
                let adjusted = business_adjust(t, &hours, &calendar, Chicago);
                assert!(adjusted >= t, "{t} moved back to {adjusted}");
                assert!(
                    is_open(adjusted, &hours, &calendar, Chicago),
                    "{t} -> {adjusted} is closed"
                );
                if is_open(t, &hours, &calendar, Chicago) {
                    assert_eq!(adjusted, t);
                } else {
                    let just_before = adjusted - TimeDelta::minutes(1);
                    assert!(
                        just_before < t || !is_open(just_before, &hours, &calendar, Chicago),
                        "{t} -> {adjusted} skipped an earlier opening"
                    );
                }
            }
        }
    }

    // Schedules.

    #[test]
    fn schedule_rows_are_half_open() {
        let schedule = schedule();
        assert_eq!(schedule.row_at(time(8, 0)), Some(0));
        assert_eq!(schedule.row_at(time(11, 59)), Some(0));
        assert_eq!(schedule.row_at(time(12, 0)), Some(1));
        assert_eq!(schedule.row_at(time(17, 0)), None);
        assert_eq!(schedule.row_at(time(7, 59)), None);
    }

    #[test]
    fn schedule_validation_accepts_adjacent_rows() {
        assert_eq!(schedule().validate(), Ok(()));
        assert_eq!(Schedule::default().validate(), Ok(()));
    }

    #[test]
    fn schedule_validation_rejects_an_empty_range() {
        let bad = Schedule {
            rows: vec![row((8, 0), (12, 0), 30), row((13, 0), (13, 0), 5)],
        };
        let message = bad.validate().expect_err("empty range");
        assert!(message.contains("row 2 (13:00-13:00)"), "{message}");
    }

    #[test]
    fn schedule_validation_rejects_overlaps_in_any_order() {
        let bad = Schedule {
            rows: vec![row((12, 0), (17, 0), 10), row((8, 0), (12, 30), 30)],
        };
        let message = bad.validate().expect_err("overlap");
        assert_eq!(
            message,
            "row 1 (12:00-17:00) and row 2 (08:00-12:30) overlap"
        );
    }

    // Projection.

    fn plan<'a>(
        schedule: &'a Schedule,
        hours: &'a BusinessHours,
        calendar: &'a WorkCalendar,
    ) -> BatchPlan<'a> {
        BatchPlan {
            tz: Chicago,
            schedule,
            throttle: true,
            every_minutes: 15,
            hours,
            calendar,
            horizon_days: 7,
        }
    }

    #[test]
    fn projection_spreads_a_backlog_over_runs() {
        let (schedule, hours, calendar) = (schedule(), cnp_hours(), WorkCalendar::default());
        let candidates = waiting(50, mon(7, 0));
        let projected =
            project_releases(&candidates, mon(7, 0), &plan(&schedule, &hours, &calendar));
        assert_eq!(projected.len(), 50);
        let at_eight = projected
            .iter()
            .filter(|(_, t)| *t == Some(mon(8, 0)))
            .count();
        let at_quarter_past = projected
            .iter()
            .filter(|(_, t)| *t == Some(mon(8, 15)))
            .count();
        assert_eq!((at_eight, at_quarter_past), (30, 20));
        // Business hours moved every effective time to 08:00, so the sequence decides the order.
        let order: Vec<Seq> = projected.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(order, (1..=50).collect::<Vec<_>>());
    }

    #[test]
    fn projection_applies_business_hours_to_effective_times() {
        let (schedule, hours, calendar) = (schedule(), cnp_hours(), WorkCalendar::default());
        let saturday = Candidate {
            seq: 1,
            effective: local(Chicago, 6, 14, 10, 0),
        };
        let projected = project_releases(
            &[saturday],
            saturday.effective,
            &plan(&schedule, &hours, &calendar),
        );
        assert_eq!(projected, vec![(1, Some(local(Chicago, 6, 16, 8, 0)))]);
    }

    #[test]
    fn projection_runs_align_to_the_local_clock() {
        let (schedule, calendar) = (schedule(), WorkCalendar::default());
        let hours = BusinessHours::default();
        let mut unthrottled = plan(&schedule, &hours, &calendar);
        unthrottled.throttle = false;
        let candidate = Candidate {
            seq: 4,
            effective: mon(9, 7),
        };
        let projected = project_releases(
            &[candidate],
            mon(9, 7) + TimeDelta::seconds(1),
            &unthrottled,
        );
        assert_eq!(projected, vec![(4, Some(mon(9, 15)))]);
    }

    #[test]
    fn projection_reports_none_beyond_the_horizon() {
        let (calendar, hours) = (WorkCalendar::default(), cnp_hours());
        let empty = Schedule::default();
        let candidate = Candidate {
            seq: 2,
            effective: mon(9, 0),
        };
        let projected = project_releases(&[candidate], mon(9, 0), &plan(&empty, &hours, &calendar));
        assert_eq!(projected, vec![(2, None)]);
    }
}
