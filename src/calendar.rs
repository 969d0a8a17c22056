//! Work calendars: working weekdays minus holidays (`spec/domain.md` §4.1, §6.2, §12.10).

use chrono::{Datelike, Days, NaiveDate, Weekday, WeekdaySet};
use std::collections::BTreeSet;

/// How far the calendar walks before giving up: a calendar with no working day would loop forever.
/// Ten years covers any realistic run of holidays.
const SEARCH_LIMIT_DAYS: u64 = 3660;

/// A set of working weekdays plus a list of holiday dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    workdays: WeekdaySet,
    holidays: BTreeSet<NaiveDate>,
}

impl Default for WorkCalendar {
    /// Monday to Friday, no holidays (§4.1).
    fn default() -> Self {
        Self::new(Self::MON_TO_FRI, BTreeSet::new())
    }
}

impl WorkCalendar {
    /// Monday to Friday: the default working week.
    pub const MON_TO_FRI: WeekdaySet = WeekdaySet::from_array([
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]);

    /// A calendar with these working weekdays and holidays.
    pub fn new(workdays: WeekdaySet, holidays: BTreeSet<NaiveDate>) -> Self {
        Self { workdays, holidays }
    }

    /// The working weekdays.
    pub fn workdays(&self) -> WeekdaySet {
        self.workdays
    }

    /// The holiday dates.
    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// True when `date` falls on a working weekday and is not a holiday.
    pub fn is_workday(&self, date: NaiveDate) -> bool {
        self.workdays.contains(date.weekday()) && !self.holidays.contains(&date)
    }

    /// The first workday on or after `date` (`date` itself when no workday is found).
    pub fn next_workday_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        self.first_workday_from(date, 0).unwrap_or(date)
    }

    /// `date` moved forward by `n` workdays; the start date itself does not count.
    ///
    /// A move-out on Fri 2025-06-13 plus 5 business days is Fri 2025-06-20 (TV-19). Returns `date`
    /// when the calendar runs out of workdays.
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut current = date;
        for _ in 0..n {
            match self.first_workday_from(current, 1) {
                Some(next) if days_between(date, next) <= SEARCH_LIMIT_DAYS => current = next,
                _ => return date,
            }
        }
        current
    }

    /// The first workday at least `skip` days after `date`, within the search limit.
    fn first_workday_from(&self, date: NaiveDate, skip: u64) -> Option<NaiveDate> {
        (skip..=SEARCH_LIMIT_DAYS)
            .map_while(|offset| date.checked_add_days(Days::new(offset)))
            .find(|day| self.is_workday(*day))
    }
}

/// Whole days from `from` to `to` (zero when `to` is earlier).
fn days_between(from: NaiveDate, to: NaiveDate) -> u64 {
    u64::try_from((to - from).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn default_is_monday_to_friday_without_holidays() {
        let calendar = WorkCalendar::default();
        assert!(calendar.is_workday(date(2025, 6, 9)));
        assert!(calendar.is_workday(date(2025, 6, 13)));
        assert!(!calendar.is_workday(date(2025, 6, 14)));
        assert!(!calendar.is_workday(date(2025, 6, 15)));
        assert!(calendar.holidays().is_empty());
    }

    #[test]
    fn a_holiday_is_not_a_workday() {
        let calendar =
            WorkCalendar::new(WorkCalendar::MON_TO_FRI, BTreeSet::from([date(2025, 7, 4)]));
        assert!(!calendar.is_workday(date(2025, 7, 4)));
        assert!(calendar.is_workday(date(2025, 7, 3)));
    }

    #[test]
    fn tv_19_move_out_plus_five_business_days() {
        // Given a move-out on Fri 2025-06-13, when 5 business days are added, then Fri 2025-06-20.
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.add_business_days(date(2025, 6, 13), 5),
            date(2025, 6, 20)
        );
    }

    #[test]
    fn tv_20_saturday_preferred_date_rolls_to_monday() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.next_workday_on_or_after(date(2025, 6, 21)),
            date(2025, 6, 23)
        );
        assert_eq!(
            calendar.next_workday_on_or_after(date(2025, 6, 23)),
            date(2025, 6, 23)
        );
    }

    #[test]
    fn business_days_skip_holidays() {
        let calendar =
            WorkCalendar::new(WorkCalendar::MON_TO_FRI, BTreeSet::from([date(2025, 7, 4)]));
        // Thu 07-03 + 1 skips the holiday Friday and the weekend.
        assert_eq!(
            calendar.add_business_days(date(2025, 7, 3), 1),
            date(2025, 7, 7)
        );
    }

    #[test]
    fn zero_business_days_is_the_same_date() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.add_business_days(date(2025, 6, 14), 0),
            date(2025, 6, 14)
        );
    }

    #[test]
    fn a_calendar_without_workdays_gives_back_the_input() {
        let calendar = WorkCalendar::new(WeekdaySet::EMPTY, BTreeSet::new());
        let start = date(2025, 6, 14);
        assert_eq!(calendar.next_workday_on_or_after(start), start);
        assert_eq!(calendar.add_business_days(start, 3), start);
    }
}
