//! How a person reads a time: in the configured zone (`timezone` of the configuration), to the
//! minute or the second and never finer, and with the year whenever the date is not in the
//! current year (`12-18 11:00` for a 2023 entry would read as this December).
//!
//! One place for every front end: the desk's views and detail panes, the command line's text
//! output and the desk's CSV and JSON exports. Each says which zone it shows: a column header or
//! the status bar names the zone ([`Times::zone`], [`Times::header`]), a time on its own carries
//! the zone's abbreviation ([`Times::labelled`]), and an export writes RFC 3339 with the offset
//! ([`Times::rfc3339`]). Pure: "now" (for "the current year" and "today") is an input.

use crate::domain::Instant;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat};
use chrono_tz::Tz;

/// Times as a person reads them, in one zone, relative to one "now".
#[derive(Debug, Clone, Copy)]
pub struct Times {
    tz: Tz,
    now: Instant,
    today: NaiveDate,
}

impl Times {
    /// Times in `tz`, as read at `now` (which decides "this year" and "today").
    pub fn new(tz: Tz, now: Instant) -> Times {
        Times {
            tz,
            now,
            today: now.with_timezone(&tz).date_naive(),
        }
    }

    /// How long before "now" `t` was, as a person says it: `40 s`, `5 min`, `2 h 10 min`.
    pub fn age(&self, t: Instant) -> String {
        age(self.now - t)
    }

    /// The zone's name, for labels: `America/Chicago`.
    pub fn zone(&self) -> &'static str {
        self.tz.name()
    }

    /// A column header naming the zone: `AT (America/Chicago)`.
    pub fn header(&self, column: &str) -> String {
        format!("{column} ({})", self.zone())
    }

    fn local(&self, t: Instant) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    /// To the minute, with the date: `06-10 09:00` this year, `2023-12-18 11:00` otherwise.
    pub fn minute(&self, t: Instant) -> String {
        let local = self.local(t);
        if local.year() == self.today.year() {
            local.format("%m-%d %H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        }
    }

    /// To the second, with the date: `06-10 09:00:05` this year, with the year otherwise.
    pub fn second(&self, t: Instant) -> String {
        let local = self.local(t);
        if local.year() == self.today.year() {
            local.format("%m-%d %H:%M:%S").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M:%S").to_string()
        }
    }

    /// The time of day alone when `t` is today (`09:00:05`), else [`Times::second`].
    pub fn time_of_day(&self, t: Instant) -> String {
        let local = self.local(t);
        if local.date_naive() == self.today {
            local.format("%H:%M:%S").to_string()
        } else {
            self.second(t)
        }
    }

    /// To the minute with the year always, for text that outlives the day (the command line):
    /// `2025-06-10 09:00`.
    pub fn dated(&self, t: Instant) -> String {
        self.local(t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// To the second with the year always: `2025-06-10 09:00:05`.
    pub fn dated_second(&self, t: Instant) -> String {
        self.local(t).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// [`Times::dated`] with the zone's abbreviation, for a time on its own line:
    /// `2025-06-10 09:00 CDT`.
    pub fn labelled(&self, t: Instant) -> String {
        self.local(t).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// The engine times from the start of day `from` to the end of day `to` in the zone (the
    /// start of the day after), for a range of whole days; refused, naming both, when `from`
    /// is after `to`.
    pub fn days(&self, from: NaiveDate, to: NaiveDate) -> Result<(Instant, Instant), String> {
        if from > to {
            return Err(format!(
                "the range starts {from}, after it ends {to}: put the earlier date first"
            ));
        }
        Ok((
            self.start_of(from),
            self.start_of(to + chrono::Days::new(1)),
        ))
    }

    /// The first instant of `day` in the zone (where midnight is skipped, the first hour that
    /// exists).
    pub fn start_of(&self, day: NaiveDate) -> Instant {
        (0..24)
            .find_map(|hour| {
                day.and_hms_opt(hour, 0, 0)
                    .and_then(|t| t.and_local_timezone(self.tz).earliest())
            })
            .map_or_else(
                || day.and_time(chrono::NaiveTime::MIN).and_utc(),
                |t| t.to_utc(),
            )
    }

    /// RFC 3339 in the zone, to the second, with the offset: `2025-06-10T09:00:00-05:00`.
    pub fn rfc3339(&self, t: Instant) -> String {
        self.local(t).to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

/// A span as a person says it: `40 s`, `5 min`, `2 h 10 min`, `3 d 4 h`.
pub fn age(span: chrono::Duration) -> String {
    let secs = span.num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::Chicago;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Instant {
        chrono::Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn times() -> Times {
        // Read on 2025-06-10 at 09:00 in Chicago.
        Times::new(Chicago, utc(2025, 6, 10, 14, 0, 0))
    }

    #[test]
    fn a_date_in_the_current_year_goes_without_the_year() {
        assert_eq!(times().minute(utc(2025, 3, 4, 17, 30, 0)), "03-04 11:30");
        assert_eq!(times().second(utc(2025, 3, 4, 17, 30, 5)), "03-04 11:30:05");
    }

    #[test]
    fn a_date_in_another_year_says_its_year() {
        // 2023-12-18 11:00 in Chicago must not read as this December.
        let t = utc(2023, 12, 18, 17, 0, 0);
        assert_eq!(times().minute(t), "2023-12-18 11:00");
        assert_eq!(times().second(t), "2023-12-18 11:00:00");
        assert_eq!(times().time_of_day(t), "2023-12-18 11:00:00");
    }

    #[test]
    fn the_year_is_the_zone_s_year() {
        // 2025-01-01 03:00 UTC is still New Year's Eve of 2024 in Chicago.
        let t = utc(2025, 1, 1, 3, 0, 0);
        assert_eq!(times().minute(t), "2024-12-31 21:00");
    }

    #[test]
    fn today_reads_as_a_time_of_day() {
        assert_eq!(times().time_of_day(utc(2025, 6, 10, 15, 4, 5)), "10:04:05");
        assert_eq!(
            times().time_of_day(utc(2025, 6, 9, 15, 4, 5)),
            "06-09 10:04:05"
        );
    }

    #[test]
    fn every_form_names_its_zone_or_offset() {
        let t = utc(2025, 6, 10, 14, 0, 0);
        assert_eq!(times().zone(), "America/Chicago");
        assert_eq!(times().header("AT"), "AT (America/Chicago)");
        assert_eq!(times().labelled(t), "2025-06-10 09:00 CDT");
        assert_eq!(times().rfc3339(t), "2025-06-10T09:00:00-05:00");
    }

    #[test]
    fn no_form_shows_fractions_of_a_second() {
        let t = utc(2025, 6, 10, 14, 0, 7) + chrono::Duration::nanoseconds(123_456_789);
        for text in [
            times().minute(t),
            times().second(t),
            times().time_of_day(t),
            times().dated(t),
            times().dated_second(t),
            times().labelled(t),
            times().rfc3339(t),
        ] {
            assert!(!text.contains('.'), "{text}");
            assert!(!text.contains("123"), "{text}");
        }
        assert_eq!(times().rfc3339(t), "2025-06-10T09:00:07-05:00");
    }

    #[test]
    fn the_repeated_hour_of_the_fall_back_keeps_its_two_offsets() {
        // 2025-11-02 in Chicago: 01:30 happens twice, first in CDT (-05:00), then in CST.
        let first = utc(2025, 11, 2, 6, 30, 0);
        let second = utc(2025, 11, 2, 7, 30, 0);
        assert_eq!(times().minute(first), times().minute(second));
        assert_eq!(times().minute(first), "11-02 01:30");
        assert_eq!(times().rfc3339(first), "2025-11-02T01:30:00-05:00");
        assert_eq!(times().rfc3339(second), "2025-11-02T01:30:00-06:00");
        assert_eq!(times().labelled(first), "2025-11-02 01:30 CDT");
        assert_eq!(times().labelled(second), "2025-11-02 01:30 CST");
    }

    #[test]
    fn a_range_of_days_runs_from_the_first_midnight_to_the_next_day_s() {
        let day = |t: &str| t.parse::<NaiveDate>().unwrap();
        let (from, to) = times()
            .days(day("2025-06-01"), day("2025-06-10"))
            .expect("in order");
        assert_eq!(from, utc(2025, 6, 1, 5, 0, 0));
        assert_eq!(to, utc(2025, 6, 11, 5, 0, 0));
        let refused = times().days(day("2025-06-10"), day("2025-06-01"));
        assert_eq!(
            refused,
            Err(
                "the range starts 2025-06-10, after it ends 2025-06-01: put the earlier date first"
                    .into()
            )
        );
    }

    #[test]
    fn the_skipped_hour_of_the_spring_forward_is_never_shown() {
        // 2025-03-09 in Chicago jumps from 02:00 CST to 03:00 CDT.
        assert_eq!(times().minute(utc(2025, 3, 9, 7, 59, 0)), "03-09 01:59");
        assert_eq!(times().minute(utc(2025, 3, 9, 8, 0, 0)), "03-09 03:00");
    }
}
