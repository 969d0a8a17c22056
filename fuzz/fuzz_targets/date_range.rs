//! `parse_date` on the two halves of the input, then `validate_range` against a few fixed
//! todays (leap days, month ends, the calendar's ends) and history lengths: no panic, every
//! rejection says what was wrong, and every accepted range keeps the four rules of §7.4.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use orderdesk::feed::{add_months, history_window, parse_date, validate_range, RangeRule};

const TODAYS: &[(i32, u32, u32)] = &[
    (2024, 2, 29),
    (2025, 2, 28),
    (2023, 3, 31),
    (2025, 8, 31),
    (2025, 12, 31),
    (2025, 6, 15),
    (2000, 2, 29),
    (1, 1, 1),
    (9999, 12, 31),
];
const YEARS: &[u32] = &[0, 1, 2, 7, 400, u32::MAX];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // `..` if there is one, else the first line break, else the middle.
    let (a, b) = text
        .split_once("..")
        .or_else(|| text.split_once('\n'))
        .unwrap_or_else(|| text.split_at(text.floor_char_boundary(text.len() / 2)));
    let start = date(a);
    let end = date(b);
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let extremes = [NaiveDate::MIN, NaiveDate::MAX];
    let todays = TODAYS
        .iter()
        .map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("a real day"))
        .chain(extremes);
    for today in todays {
        for &years in YEARS {
            check(start, end, today, years);
        }
    }
});

/// The date `text` names, asserting a rejection says why and quotes the input.
fn date(text: &str) -> Option<NaiveDate> {
    match parse_date(text) {
        Ok(date) => {
            assert_eq!(date.format("%Y-%m-%d").to_string(), text.trim());
            Some(date)
        }
        Err(message) => {
            assert!(
                message.contains(text.trim()),
                "{message:?} does not quote {text:?}"
            );
            assert!(message.contains("YYYY-MM-DD") || message.contains("calendar"));
            None
        }
    }
}

fn check(start: NaiveDate, end: NaiveDate, today: NaiveDate, years: u32) {
    let earliest = history_window(today, years).start;
    let latest_end = add_months(start, 6);
    match validate_range(start, end, today, years) {
        Ok(range) => {
            assert_eq!((range.start, range.end), (start, end));
            assert!(start <= end && end <= today && earliest <= start && end <= latest_end);
        }
        Err(error) => {
            assert_eq!((error.start, error.end), (start, end));
            let broken = match error.rule {
                RangeRule::StartAfterEnd => start > end && error.limit == end,
                RangeRule::EndAfterToday => end > today && error.limit == today,
                RangeRule::BeforeHistory => start < earliest && error.limit == earliest,
                RangeRule::LongerThanSixMonths => end > latest_end && error.limit == latest_end,
            };
            assert!(
                broken,
                "{error:?} names a rule the range keeps ({today}, {years} years)"
            );
            let message = error.to_string();
            assert!(
                message.contains(&error.limit.to_string()),
                "{message:?} names no limit"
            );
        }
    }
}
