//! The customer activity feed (`spec/domain.md` §7, §12.10): items, billing-account scoping, the
//! history window and its six-month buckets, custom date ranges, and the keys of the store's
//! ordered (customer, time, sequence) index.
//!
//! Everything here is pure: "today" and the time zone are inputs. An item is placed on its local
//! date in the configured zone, so a daylight-saving day does the right thing. All date bounds are
//! inclusive days unless a doc comment says otherwise.

use crate::domain::Instant;
use crate::domain::{FeedCategory, FeedSubtype};
use chrono::{Datelike, Months, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::fmt;

/// The months in one bucket of the default view, and the longest custom range (§7.4).
pub const SIX_MONTHS: i32 = 6;

/// How many of the most recent items the Overview panel shows (§7.3).
pub const RECENT_ITEMS: usize = 10;

/// One item of a customer's activity feed, as the store keeps it (§7.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The internal sequence number (§12.1); newer wins a tie on `at`.
    pub seq: u64,
    /// The item id: the source system's, or one the engine assigned.
    pub id: String,
    /// The customer (contact) id.
    pub customer: String,
    /// The billing account; `None` for contact-level items.
    #[serde(default)]
    pub account: Option<String>,
    /// The category.
    pub category: FeedCategory,
    /// The subtype, one of the category's.
    pub subtype: FeedSubtype,
    /// When it happened.
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
    /// The one-line summary shown in the list.
    pub summary: String,
    /// Detail fields; [`list_columns`] and [`detail_fields`] name the ones the desk shows.
    #[serde(default)]
    pub details: Map<String, Value>,
    /// The engine activity id, for `service_order` and `field_order` items.
    #[serde(default)]
    pub activity: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Dates

/// `date` moved by `months` calendar months; a day the month lacks becomes its last day (§7.4).
///
/// Saturates at the first or last date chrono can represent.
pub fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let step = Months::new(months.unsigned_abs());
    if months >= 0 {
        date.checked_add_months(step).unwrap_or(NaiveDate::MAX)
    } else {
        date.checked_sub_months(step).unwrap_or(NaiveDate::MIN)
    }
}

/// The date `at` falls on in the zone `tz`.
pub fn local_date(at: Instant, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Reads a `YYYY-MM-DD` date, with a message that says what was expected.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(format!(
            "`{text}` is not a date: expected YYYY-MM-DD, e.g. 2025-06-15"
        ));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a day of the calendar: check the month and day"))
}

/// The months in `years` years, saturating (a history that long reaches the first date anyway).
fn months_in_years(years: u32) -> i32 {
    i32::try_from(years)
        .ok()
        .and_then(|y| y.checked_mul(12))
        .unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------------
// The history window and its buckets

/// The days the default view covers: `[today − history, today]`, both inclusive (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryWindow {
    /// The oldest day shown.
    pub start: NaiveDate,
    /// Today.
    pub end: NaiveDate,
}

impl HistoryWindow {
    /// Whether `date` is inside the window.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

/// The history window of `years` years ending `today` (TV-23).
pub fn history_window(today: NaiveDate, years: u32) -> HistoryWindow {
    HistoryWindow {
        start: add_months(today, -months_in_years(years)),
        end: today,
    }
}

/// A six-month increment of the default view: `(after, through]`, or `[after, through]` for the
/// oldest bucket, which is cut at the window start (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// 0 for the newest bucket (the one ending today).
    pub index: usize,
    /// The day before the bucket, except for the oldest bucket, whose first day it is.
    pub after: NaiveDate,
    /// The last day in the bucket.
    pub through: NaiveDate,
    /// Whether `after` belongs to the bucket (only the oldest one).
    pub includes_after: bool,
}

impl Bucket {
    /// The first day in the bucket.
    pub fn first_day(&self) -> NaiveDate {
        if self.includes_after {
            self.after
        } else {
            self.after.succ_opt().unwrap_or(self.after)
        }
    }

    /// Whether `date` falls in the bucket.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first_day() <= date && date <= self.through
    }

    /// The days it covers, as the desk heads it: "2024-12-16 – 2025-06-15".
    pub fn label(&self) -> String {
        format!("{} – {}", self.first_day(), self.through)
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The buckets of the history window, newest first: `B0 = (today−6m, today]`,
/// `B1 = (today−12m, today−6m]`, … down to the window start (§7.4, TV-23).
pub fn six_month_buckets(today: NaiveDate, years: u32) -> Vec<Bucket> {
    let start = history_window(today, years).start;
    let mut buckets = Vec::new();
    loop {
        let index = buckets.len();
        let through = bucket_edge(today, index);
        let after = bucket_edge(today, index + 1);
        if after <= start {
            buckets.push(Bucket {
                index,
                after: start,
                through,
                includes_after: true,
            });
            return buckets;
        }
        buckets.push(Bucket {
            index,
            after,
            through,
            includes_after: false,
        });
    }
}

/// `today − 6·steps` months, counted from today each time so month-end clamping does not drift.
fn bucket_edge(today: NaiveDate, steps: usize) -> NaiveDate {
    let months = i32::try_from(steps)
        .ok()
        .and_then(|s| s.checked_mul(SIX_MONTHS))
        .unwrap_or(i32::MAX);
    add_months(today, -months)
}

// ---------------------------------------------------------------------------------------------
// Custom date ranges

/// The four rules a custom date range must keep, in the order they are checked (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeRule {
    /// Rule 1: the start is on or before the end.
    StartAfterEnd,
    /// Rule 2: the end is on or before today.
    EndAfterToday,
    /// Rule 3: the start is inside the configured history.
    BeforeHistory,
    /// Rule 4: the end is at most six calendar months after the start.
    LongerThanSixMonths,
}

impl RangeRule {
    /// The external code of the rule.
    pub fn code(self) -> &'static str {
        match self {
            RangeRule::StartAfterEnd => "start_after_end",
            RangeRule::EndAfterToday => "end_after_today",
            RangeRule::BeforeHistory => "before_history",
            RangeRule::LongerThanSixMonths => "longer_than_six_months",
        }
    }
}

impl fmt::Display for RangeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A custom range, both days inclusive, that keeps every rule of §7.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// The first day.
    pub start: NaiveDate,
    /// The last day.
    pub end: NaiveDate,
}

impl DateRange {
    /// Whether `date` is inside the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl From<HistoryWindow> for DateRange {
    fn from(window: HistoryWindow) -> Self {
        DateRange {
            start: window.start,
            end: window.end,
        }
    }
}

/// A custom range that breaks a rule of §7.4; the caller keeps the previous range in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeError {
    /// The first rule broken.
    pub rule: RangeRule,
    /// The start asked for.
    pub start: NaiveDate,
    /// The end asked for.
    pub end: NaiveDate,
    /// The bound the rule sets: the end (rule 1), today (2), the earliest start (3), the latest end (4).
    pub limit: NaiveDate,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = self.limit;
        match self.rule {
            RangeRule::StartAfterEnd => write!(
                f,
                "the start may not be after the end: {} is after {limit}",
                self.start
            ),
            RangeRule::EndAfterToday => {
                write!(f, "the range may not end after today: the latest end is {limit}")
            }
            RangeRule::BeforeHistory => write!(
                f,
                "the range may not start before the configured history: the earliest start is {limit}"
            ),
            RangeRule::LongerThanSixMonths => write!(
                f,
                "the range may be six months or less: the latest end for a start of {} is {limit}",
                self.start
            ),
        }
    }
}

impl std::error::Error for RangeError {}

/// Checks a custom range against the four rules of §7.4, in order (TV-24).
pub fn validate_range(
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
    years: u32,
) -> Result<DateRange, RangeError> {
    let earliest_start = history_window(today, years).start;
    let latest_end = add_months(start, SIX_MONTHS);
    let rules = [
        (RangeRule::StartAfterEnd, start > end, end),
        (RangeRule::EndAfterToday, end > today, today),
        (
            RangeRule::BeforeHistory,
            start < earliest_start,
            earliest_start,
        ),
        (RangeRule::LongerThanSixMonths, end > latest_end, latest_end),
    ];
    match rules.into_iter().find(|&(_, broken, _)| broken) {
        Some((rule, _, limit)) => Err(RangeError {
            rule,
            start,
            end,
            limit,
        }),
        None => Ok(DateRange { start, end }),
    }
}

// ---------------------------------------------------------------------------------------------
// Billing-account scoping

/// How a category is scoped when one billing account is viewed (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountScope {
    /// Calls and chats: the viewed account only; unlinked ones only when the contact has one account.
    Conversation,
    /// Items of an account or its SPs: the viewed account, and items with no account.
    Account,
    /// Items tied to the contact: always shown.
    Contact,
}

/// The scope of a category (§7.2); outage calls are contact-level.
pub fn account_scope(category: FeedCategory) -> AccountScope {
    use FeedCategory::*;
    match category {
        ConversationMessage => AccountScope::Conversation,
        FinancialInformation | ServiceRequest | CreditAndCollection | ServiceOrder | FieldOrder => {
            AccountScope::Account
        }
        Email | ServiceTask | CustomerInformation | OutageCall => AccountScope::Contact,
    }
}

/// Whether `item` shows while the account `viewed` is selected, for a contact with
/// `customer_account_count` billing accounts (§7.2, TV-25).
pub fn visible_on_account(item: &FeedItem, viewed: &str, customer_account_count: usize) -> bool {
    let on_viewed = item.account.as_deref().map(|account| account == viewed);
    match account_scope(item.category) {
        AccountScope::Conversation => on_viewed.unwrap_or(customer_account_count <= 1),
        AccountScope::Account => on_viewed.unwrap_or(true),
        AccountScope::Contact => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

/// What the drawer asks for: an account, a category filter and a date range (§7.3).
///
/// The default (no range, no categories) is the whole history window; the two resets return to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedQuery {
    /// The billing account viewed; `None` applies no account scoping (the caller picks the
    /// customer's first account when none is named, §12.10).
    pub account: Option<String>,
    /// The categories kept; empty keeps all.
    pub categories: BTreeSet<FeedCategory>,
    /// A range from [`validate_range`]; `None` is the default history window.
    pub range: Option<DateRange>,
}

impl FeedQuery {
    /// Filter By → Reset: every category again.
    pub fn reset_categories(&mut self) {
        self.categories.clear();
    }

    /// Date Range → Reset: the whole history window again.
    pub fn reset_range(&mut self) {
        self.range = None;
    }

    /// Whether the category filter keeps `category`.
    pub fn keeps(&self, category: FeedCategory) -> bool {
        self.categories.is_empty() || self.categories.contains(&category)
    }

    /// The days shown: the custom range cut to the history window, or the whole window.
    pub fn days(&self, today: NaiveDate, years: u32) -> DateRange {
        let window = history_window(today, years);
        match self.range {
            Some(range) => DateRange {
                start: range.start.max(window.start),
                end: range.end.min(window.end),
            },
            None => window.into(),
        }
    }
}

/// The items of one customer that `query` shows, newest first (ties: higher `seq` first).
///
/// `items` are the customer's items (one [`feed_range`] read); each is placed on its local date
/// in `tz`. `account_count` is the number of the customer's billing accounts.
pub fn select<'a>(
    items: impl IntoIterator<Item = &'a FeedItem>,
    query: &FeedQuery,
    today: NaiveDate,
    years: u32,
    tz: Tz,
    account_count: usize,
) -> Vec<&'a FeedItem> {
    let days = query.days(today, years);
    let mut shown: Vec<&FeedItem> = items
        .into_iter()
        .filter(|item| query.keeps(item.category))
        .filter(|item| days.contains(local_date(item.at, tz)))
        .filter(|item| {
            query
                .account
                .as_deref()
                .is_none_or(|viewed| visible_on_account(item, viewed, account_count))
        })
        .collect();
    newest_first(&mut shown);
    shown
}

/// The default view: every bucket of the window, newest first, even when empty, each with its
/// items newest first; items outside the window are left out (§7.4).
pub fn group_into_buckets<'a>(
    items: &[&'a FeedItem],
    today: NaiveDate,
    years: u32,
    tz: Tz,
) -> Vec<(Bucket, Vec<&'a FeedItem>)> {
    let mut groups: Vec<(Bucket, Vec<&FeedItem>)> = six_month_buckets(today, years)
        .into_iter()
        .map(|bucket| (bucket, Vec::new()))
        .collect();
    for &item in items {
        let date = local_date(item.at, tz);
        if let Some((_, members)) = groups.iter_mut().find(|(bucket, _)| bucket.contains(date)) {
            members.push(item);
        }
    }
    for (_, members) in &mut groups {
        newest_first(members);
    }
    groups
}

/// Sorts newest first, a tie on time going to the higher sequence number.
fn newest_first(items: &mut [&FeedItem]) {
    items.sort_by_key(|item| Reverse((item.at, item.seq)));
}

// ---------------------------------------------------------------------------------------------
// What the desk shows

/// The `details` keys a list row shows after the time and summary (§7.1 "list row shows").
pub fn list_columns(subtype: FeedSubtype) -> &'static [&'static str] {
    use FeedSubtype::*;
    match subtype {
        Call => &["direction"],
        Chat | OutageCall => &[],
        Email => &["to", "from", "subject"],
        ServiceTask => &["task_type"],
        Bill | Payment => &["amount"],
        ServiceRequest => &["title", "status", "severity", "category"],
        CustomerContact => &["contact_type"],
        Case => &["case_type"],
        RebateClaim => &["program"],
        // A service order names its service point; the hierarchy shows the rest.
        ServiceOrder => &["type", "status", "sp"],
        FieldOrder => &["type", "status", "address"],
        CollectionProcess
        | SeveranceProcess
        | WriteOffProcess
        | PayPlanOverdueProcess
        | PaymentArrangement
        | CutProcess
        | CreditRatingHistory
        | CashOnlyHistory => &["status"],
    }
}

/// The `details` keys the detail pane shows after the time (§7.1 "detail shows").
pub fn detail_fields(subtype: FeedSubtype) -> &'static [&'static str] {
    use FeedSubtype::*;
    match subtype {
        Call => &["agent", "resolution", "wrap_up_notes"],
        Chat => &["agent", "started_by", "resolution", "summary", "transcript"],
        Email => &["to", "from", "subject", "body"],
        ServiceTask => &["task_type", "notes"],
        Bill => &[],
        Payment => &["amount"],
        ServiceRequest => &["title", "status", "severity", "category", "description"],
        CustomerContact => &["contact_type", "notes"],
        Case => &["case_type", "notes"],
        RebateClaim => &["program", "notes"],
        ServiceOrder => &["type", "status", "sp"],
        FieldOrder => &["type", "status", "address", "notes"],
        CollectionProcess
        | SeveranceProcess
        | WriteOffProcess
        | PayPlanOverdueProcess
        | PaymentArrangement
        | CutProcess
        | CreditRatingHistory
        | CashOnlyHistory => &["status", "notes"],
        OutageCall => &["notes"],
    }
}

/// The name an operator reads for a category (§7.1).
pub fn category_label(category: FeedCategory) -> &'static str {
    use FeedCategory::*;
    match category {
        ConversationMessage => "Conversation Message",
        Email => "Email",
        ServiceTask => "Service Task",
        FinancialInformation => "Financial Information",
        ServiceRequest => "Service Request",
        CustomerInformation => "Customer Information",
        ServiceOrder => "Service Order",
        FieldOrder => "Field Order",
        CreditAndCollection => "Credit and Collection",
        OutageCall => "Outage Call",
    }
}

/// The name an operator reads for a subtype; it is the "type" of a credit & collection row (§7.1).
pub fn subtype_label(subtype: FeedSubtype) -> &'static str {
    use FeedSubtype::*;
    match subtype {
        Call => "Call",
        Chat => "Chat",
        Email => "Email",
        ServiceTask => "Self-service Task",
        Bill => "Bill",
        Payment => "Payment",
        ServiceRequest => "Service Request",
        CustomerContact => "Customer Contact",
        Case => "Case",
        RebateClaim => "Rebate Claim",
        ServiceOrder => "Service Order",
        FieldOrder => "Field Order",
        CollectionProcess => "Collection Process",
        SeveranceProcess => "Severance Process",
        WriteOffProcess => "Write Off Process",
        PayPlanOverdueProcess => "Pay Plan Overdue Process",
        PaymentArrangement => "Payment Arrangement",
        CutProcess => "Cut Process",
        CreditRatingHistory => "Credit Rating History",
        CashOnlyHistory => "Cash Only History",
        OutageCall => "Outage Call",
    }
}

// ---------------------------------------------------------------------------------------------
// Store keys

/// The key of a feed entry in the store's ordered index: the customer's bytes, `0x00`, the time
/// (whole seconds since the epoch as a `u64` with the sign bit flipped, big-endian) and the
/// sequence number (big-endian).
///
/// Byte order is (customer, time, seq) order, so a customer's window is one range read
/// ([`feed_range`]). Customer ids must not contain NUL; times within one second order by `seq`.
pub fn feed_key(customer: &str, at: Instant, seq: u64) -> Vec<u8> {
    key_of(customer, time_bits(at), seq)
}

/// The `[start, end)` key bounds of a customer's entries from `from` through `to_inclusive`
/// (whole seconds: `to_inclusive`'s second is in): one range read covers the window.
///
/// An empty range (`start == end`) when `to_inclusive` is before `from`.
pub fn feed_range(customer: &str, from: Instant, to_inclusive: Instant) -> (Vec<u8>, Vec<u8>) {
    let (first, last) = (time_bits(from), time_bits(to_inclusive));
    let start = key_of(customer, first, 0);
    if last < first {
        return (start.clone(), start);
    }
    let end = match last.checked_add(1) {
        Some(next) => key_of(customer, next, 0),
        None => after_customer(customer),
    };
    (start, end)
}

/// The calendar year (UTC) an imported item is bucketed under.
pub fn bucket_year(at: Instant) -> i32 {
    at.year()
}

/// The key of a customer's bucket of imported items for one year: the customer's bytes, `0x00`,
/// the year as an order-preserving big-endian `u32` (sign bit flipped).
///
/// A customer's buckets are consecutive and in year order, so a window is one range read
/// ([`bucket_range`]); the NUL keeps `C-1`'s buckets before `C-10`'s.
pub fn bucket_key(customer: &str, year: i32) -> Vec<u8> {
    let mut key = Vec::with_capacity(customer.len() + 5);
    key.extend_from_slice(customer.as_bytes());
    key.push(0);
    key.extend_from_slice(&((year as u32) ^ (1 << 31)).to_be_bytes());
    key
}

/// The `[start, end)` key bounds of a customer's buckets from year `first` through `last`.
pub fn bucket_range(customer: &str, first: i32, last: i32) -> (Vec<u8>, Vec<u8>) {
    let start = bucket_key(customer, first);
    if last < first {
        return (start.clone(), start);
    }
    let end = match last.checked_add(1) {
        Some(next) => bucket_key(customer, next),
        None => after_customer(customer),
    };
    (start, end)
}

/// Every bucket key of `customer` starts with this.
pub fn bucket_prefix(customer: &str) -> Vec<u8> {
    let mut key = customer.as_bytes().to_vec();
    key.push(0);
    key
}

/// The customer and year a bucket key names; `None` for a key no [`bucket_key`] makes.
pub fn bucket_of_key(key: &[u8]) -> Option<(&str, i32)> {
    let (head, year) = key.split_at_checked(key.len().checked_sub(4)?)?;
    let (customer, nul) = head.split_at_checked(head.len().checked_sub(1)?)?;
    if nul != [0] {
        return None;
    }
    let bits = u32::from_be_bytes(year.try_into().ok()?);
    Some((
        std::str::from_utf8(customer).ok()?,
        (bits ^ (1 << 31)) as i32,
    ))
}

/// An instant as an order-preserving `u64`: whole seconds since the epoch, sign bit flipped.
fn time_bits(at: Instant) -> u64 {
    (at.timestamp() as u64) ^ (1 << 63)
}

/// The key of a customer, a time in [`time_bits`] form and a sequence number.
fn key_of(customer: &str, time: u64, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(customer.len() + 17);
    key.extend_from_slice(customer.as_bytes());
    key.push(0);
    key.extend_from_slice(&time.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The smallest key after every key of `customer`.
fn after_customer(customer: &str) -> Vec<u8> {
    let mut key = customer.as_bytes().to_vec();
    key.push(1);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use chrono_tz::America::Chicago;
    use proptest::prelude::*;
    use FeedSubtype::{Bill, Call, Chat, Email, OutageCall, Payment};

    fn day(text: &str) -> NaiveDate {
        parse_date(text).expect("a test date")
    }

    fn at(text: &str) -> Instant {
        DateTime::parse_from_rfc3339(text)
            .expect("a test time")
            .with_timezone(&Utc)
    }

    fn item(
        id: &str,
        seq: u64,
        subtype: FeedSubtype,
        account: Option<&str>,
        when: &str,
    ) -> FeedItem {
        FeedItem {
            seq,
            id: id.into(),
            customer: "C".into(),
            account: account.map(Into::into),
            category: subtype.category(),
            subtype,
            at: at(when),
            summary: format!("{} {id}", subtype_label(subtype)),
            details: Map::new(),
            activity: None,
        }
    }

    fn ids<'a>(items: &[&'a FeedItem]) -> Vec<&'a str> {
        items.iter().map(|item| item.id.as_str()).collect()
    }

    /// The ids in each bucket, newest bucket first.
    fn grouped<'a>(groups: &[(Bucket, Vec<&'a FeedItem>)]) -> Vec<Vec<&'a str>> {
        groups.iter().map(|(_, members)| ids(members)).collect()
    }

    fn on_account(account: &str) -> FeedQuery {
        FeedQuery {
            account: Some(account.into()),
            ..FeedQuery::default()
        }
    }

    #[test]
    fn tv_23_default_window_six_buckets() {
        // Given today 2025-06-15 (Chicago), a 3-year history and bills on 2022-06-14 and 2022-06-15
        let today = day("2025-06-15");
        let bills = [
            item("X-old", 1, Bill, Some("BA-1"), "2022-06-14T12:00:00-05:00"),
            item(
                "X-first",
                2,
                Bill,
                Some("BA-1"),
                "2022-06-15T12:00:00-05:00",
            ),
        ];
        // When the default view is built
        let window = history_window(today, 3);
        let buckets = six_month_buckets(today, 3);
        let shown = select(&bills, &FeedQuery::default(), today, 3, Chicago, 1);
        let groups = group_into_buckets(&shown, today, 3, Chicago);
        // Then the window is 2022-06-15..2025-06-15 in six contiguous buckets
        assert_eq!(window.start, day("2022-06-15"));
        assert_eq!(window.end, today);
        assert_eq!(buckets.len(), 6);
        assert_eq!(
            buckets[0],
            Bucket {
                index: 0,
                after: day("2024-12-15"),
                through: today,
                includes_after: false
            }
        );
        assert_eq!(buckets[0].label(), "2024-12-16 – 2025-06-15");
        assert_eq!(
            buckets[5],
            Bucket {
                index: 5,
                after: day("2022-06-15"),
                through: day("2022-12-15"),
                includes_after: true
            }
        );
        assert_eq!(buckets[5].to_string(), "2022-06-15 – 2022-12-15");
        assert!(buckets.windows(2).all(|w| w[1].through == w[0].after));
        // And only the bill on the window's first day is shown, in the last bucket
        assert_eq!(ids(&shown), ["X-first"]);
        let expected: Vec<Vec<&str>> =
            vec![vec![], vec![], vec![], vec![], vec![], vec!["X-first"]];
        assert_eq!(grouped(&groups), expected);
    }

    #[test]
    fn tv_24_custom_range_rules() {
        // Given today 2025-06-15 and a 2-year history
        let today = day("2025-06-15");
        let cases = [
            (
                "2025-01-01",
                "2025-07-01",
                Some((RangeRule::EndAfterToday, "2025-06-15")),
            ),
            ("2024-12-31", "2025-06-15", None),
            (
                "2024-11-01",
                "2025-05-02",
                Some((RangeRule::LongerThanSixMonths, "2025-05-01")),
            ),
            (
                "2023-06-01",
                "2023-11-30",
                Some((RangeRule::BeforeHistory, "2023-06-15")),
            ),
            (
                "2025-08-01",
                "2025-07-01",
                Some((RangeRule::StartAfterEnd, "2025-07-01")),
            ),
            (
                "2023-01-01",
                "2025-07-01",
                Some((RangeRule::EndAfterToday, "2025-06-15")),
            ),
        ];
        for (start, end, expected) in cases {
            // When the range is checked
            let outcome = validate_range(day(start), day(end), today, 2);
            // Then it is accepted, or refused by the first rule it breaks, naming the limit
            match (outcome, expected) {
                (Ok(range), None) => assert_eq!(
                    range,
                    DateRange {
                        start: day(start),
                        end: day(end)
                    }
                ),
                (Err(error), Some((rule, limit))) => {
                    assert_eq!(
                        (error.rule, error.limit),
                        (rule, day(limit)),
                        "[{start}, {end}]"
                    )
                }
                (outcome, _) => panic!("[{start}, {end}]: expected {expected:?}, got {outcome:?}"),
            }
        }
        let too_long = validate_range(day("2024-11-01"), day("2025-05-02"), today, 2);
        assert_eq!(
            too_long.map_err(|e| (e.rule.code(), e.to_string())),
            Err((
                "longer_than_six_months",
                "the range may be six months or less: the latest end for a start of 2024-11-01 is 2025-05-01"
                    .to_string()
            ))
        );
    }

    #[test]
    fn tv_24_reset_returns_to_the_full_two_year_window() {
        // Given a 2-year history, a custom range and a category filter in force
        let today = day("2025-06-15");
        let items = [
            item("X1", 1, Bill, Some("BA-1"), "2023-06-15T08:00:00-05:00"),
            item("K1", 2, Call, Some("BA-1"), "2024-01-10T08:00:00-06:00"),
            item("M1", 3, Email, None, "2025-02-01T08:00:00-06:00"),
        ];
        let mut query = on_account("BA-1");
        query.categories.insert(FeedCategory::Email);
        query.range = validate_range(day("2024-12-31"), today, today, 2).ok();
        assert_eq!(ids(&select(&items, &query, today, 2, Chicago, 2)), ["M1"]);
        // When both are reset
        query.reset_range();
        query.reset_categories();
        // Then every record in 2023-06-15..2025-06-15 shows again
        assert_eq!(query, on_account("BA-1"));
        assert_eq!(
            query.days(today, 2),
            DateRange {
                start: day("2023-06-15"),
                end: today
            }
        );
        assert_eq!(
            ids(&select(&items, &query, today, 2, Chicago, 2)),
            ["M1", "K1", "X1"]
        );
    }

    #[test]
    fn tv_25_calls_and_chats_follow_the_billing_account() {
        // Given contact C with BA-1 and BA-2 and its five items
        let today = day("2025-06-15");
        let items = [
            item("X1", 1, Bill, Some("BA-1"), "2025-06-01T10:00:00-05:00"),
            item("M1", 2, Email, None, "2025-06-02T10:00:00-05:00"),
            item("H1", 3, Chat, Some("BA-2"), "2025-06-03T10:00:00-05:00"),
            item("K2", 4, Call, Some("BA-2"), "2025-06-04T10:00:00-05:00"),
            item("K1", 5, Call, Some("BA-1"), "2025-06-05T10:00:00-05:00"),
        ];
        let view = |query: &FeedQuery| ids(&select(&items, query, today, 3, Chicago, 2));
        // When BA-1 is viewed, then K1, M1, X1
        assert_eq!(view(&on_account("BA-1")), ["K1", "M1", "X1"]);
        // When BA-2 is viewed, then K2, H1, M1
        assert_eq!(view(&on_account("BA-2")), ["K2", "H1", "M1"]);
        // When BA-2 is filtered to Conversation Message, then K2, H1
        let mut conversations = on_account("BA-2");
        conversations
            .categories
            .insert(FeedCategory::ConversationMessage);
        assert_eq!(view(&conversations), ["K2", "H1"]);
    }

    #[test]
    fn items_without_an_account_follow_their_scope() {
        // Given a call, a payment, an outage call and a case with no account link
        let unlinked = [
            item("K0", 1, Call, None, "2025-06-01T10:00:00-05:00"),
            item("P0", 2, Payment, None, "2025-06-01T10:00:00-05:00"),
            item("O0", 3, OutageCall, None, "2025-06-01T10:00:00-05:00"),
            item(
                "C0",
                4,
                FeedSubtype::Case,
                None,
                "2025-06-01T10:00:00-05:00",
            ),
        ];
        let shown = |count| -> Vec<&str> {
            unlinked
                .iter()
                .filter(|item| visible_on_account(item, "BA-1", count))
                .map(|item| item.id.as_str())
                .collect()
        };
        // Then the call shows only for a one-account contact; the rest always show
        assert_eq!(shown(1), ["K0", "P0", "O0", "C0"]);
        assert_eq!(shown(2), ["P0", "O0", "C0"]);
        // And an outage call on another account is still shown (contact-level)
        let elsewhere = item(
            "O2",
            5,
            OutageCall,
            Some("BA-2"),
            "2025-06-01T10:00:00-05:00",
        );
        assert!(visible_on_account(&elsewhere, "BA-1", 2));
        let bill_elsewhere = item("X2", 6, Bill, Some("BA-2"), "2025-06-01T10:00:00-05:00");
        assert!(!visible_on_account(&bill_elsewhere, "BA-1", 2));
    }

    #[test]
    fn add_months_clamps_month_ends() {
        // Given days at the ends of months, when moved, then a missing day becomes the month's last
        let cases = [
            ("2024-12-31", 6, "2025-06-30"),
            ("2024-08-31", -6, "2024-02-29"),
            ("2025-08-31", -6, "2025-02-28"),
            ("2025-01-31", 1, "2025-02-28"),
            ("2025-05-31", -1, "2025-04-30"),
            ("2025-03-31", 0, "2025-03-31"),
            ("2025-06-30", 6, "2025-12-30"),
        ];
        for (from, months, expected) in cases {
            assert_eq!(
                add_months(day(from), months),
                day(expected),
                "{from} {months:+}"
            );
        }
        assert_eq!(add_months(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_months(NaiveDate::MIN, -1), NaiveDate::MIN);
    }

    #[test]
    fn leap_days_shift_and_bound_windows() {
        // Given 2024-02-29, when moved by six months and a year, then it clamps where needed
        let leap = day("2024-02-29");
        assert_eq!(add_months(leap, 6), day("2024-08-29"));
        assert_eq!(add_months(leap, -6), day("2023-08-29"));
        assert_eq!(add_months(leap, 12), day("2025-02-28"));
        assert_eq!(add_months(leap, -12), day("2023-02-28"));
        // And one-year windows ending on and after it include the right first day
        assert_eq!(history_window(leap, 1).start, day("2023-02-28"));
        let next_year = history_window(day("2025-02-28"), 1);
        assert_eq!(next_year.start, day("2024-02-28"));
        assert!(next_year.contains(leap));
        // And a range starting on it may end six months later, not a day more
        let today = day("2024-09-01");
        assert!(validate_range(leap, day("2024-08-29"), today, 1).is_ok());
        let refused = validate_range(leap, day("2024-08-30"), today, 1);
        assert_eq!(
            refused.map_err(|e| (e.rule, e.limit)),
            Err((RangeRule::LongerThanSixMonths, day("2024-08-29")))
        );
        // And buckets from a month end put the leap day in the older bucket
        let buckets = six_month_buckets(day("2024-08-31"), 1);
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets[0].after, leap);
        assert!(!buckets[0].contains(leap));
        assert!(buckets[1].contains(leap));
        assert_eq!(buckets[1].label(), "2023-08-31 – 2024-02-29");
    }

    #[test]
    fn zero_year_history_is_today_only() {
        // Given no history, when the buckets are built, then one bucket holds today alone
        let today = day("2025-06-15");
        let buckets = six_month_buckets(today, 0);
        assert_eq!(buckets.len(), 1);
        assert_eq!(buckets[0].label(), "2025-06-15 – 2025-06-15");
        assert!(!buckets[0].contains(day("2025-06-14")));
    }

    #[test]
    fn spring_forward_day_in_chicago_buckets_by_local_date() {
        // Given today 2025-09-09, so B0 = (2025-03-09, 2025-09-09], and items around 2025-03-09,
        // when the clocks jumped 02:00 CST → 03:00 CDT
        let today = day("2025-09-09");
        let items = [
            item("before-jump", 1, Call, None, "2025-03-09T01:30:00-06:00"),
            item("after-jump", 2, Call, None, "2025-03-09T03:30:00-05:00"),
            item("late", 3, Call, None, "2025-03-09T23:30:00-05:00"),
            item("next-day", 4, Call, None, "2025-03-10T00:30:00-05:00"),
        ];
        // When they are grouped in Chicago
        let all: Vec<&FeedItem> = items.iter().collect();
        let groups = group_into_buckets(&all, today, 3, Chicago);
        // Then the three on local 2025-03-09 are in B1 (although "late" is 03-10 in UTC)
        assert_eq!(local_date(items[2].at, Chicago), day("2025-03-09"));
        assert_eq!(local_date(items[2].at, Tz::UTC), day("2025-03-10"));
        assert_eq!(groups[0].0.after, day("2025-03-09"));
        assert_eq!(ids(&groups[0].1), ["next-day"]);
        assert_eq!(ids(&groups[1].1), ["late", "after-jump", "before-jump"]);
    }

    #[test]
    fn fall_back_day_in_chicago_buckets_by_local_date() {
        // Given today 2025-05-03, so B0 = (2024-11-03, 2025-05-03], and 01:30 twice on 2024-11-03
        let today = day("2025-05-03");
        let items = [
            item("cdt", 1, Chat, None, "2024-11-03T01:30:00-05:00"),
            item("cst", 2, Chat, None, "2024-11-03T01:30:00-06:00"),
            item("late", 3, Chat, None, "2024-11-03T23:30:00-06:00"),
            item("next-day", 4, Chat, None, "2024-11-04T00:00:00-06:00"),
        ];
        // When they are grouped in Chicago
        let all: Vec<&FeedItem> = items.iter().collect();
        let groups = group_into_buckets(&all, today, 3, Chicago);
        // Then both 01:30s and the late one stay on 2024-11-03, in B1, newest first
        assert!(items[..3]
            .iter()
            .all(|item| local_date(item.at, Chicago) == day("2024-11-03")));
        assert_eq!(ids(&groups[0].1), ["next-day"]);
        assert_eq!(ids(&groups[1].1), ["late", "cst", "cdt"]);
    }

    #[test]
    fn a_range_of_exactly_six_months_is_accepted_and_one_day_more_refused() {
        // Given today 2025-08-01 and a 3-year history
        let today = day("2025-08-01");
        let check = |start: &str, end: &str| {
            validate_range(day(start), day(end), today, 3).map_err(|e| (e.rule, e.limit))
        };
        // Then six months to the day is accepted, and one day more is refused
        assert!(check("2025-01-15", "2025-07-15").is_ok());
        assert_eq!(
            check("2025-01-15", "2025-07-16"),
            Err((RangeRule::LongerThanSixMonths, day("2025-07-15")))
        );
        // And from a month end the limit is the clamped day
        assert!(check("2024-08-31", "2025-02-28").is_ok());
        assert_eq!(
            check("2024-08-31", "2025-03-01"),
            Err((RangeRule::LongerThanSixMonths, day("2025-02-28")))
        );
        // And a one-day range is fine
        assert!(check("2025-08-01", "2025-08-01").is_ok());
    }

    #[test]
    fn items_exactly_on_bucket_edges() {
        // Given today 2025-06-15, 3 years, and items on either side of each edge (Chicago time)
        let today = day("2025-06-15");
        let items = [
            item(
                "window-start-eve",
                1,
                Bill,
                None,
                "2022-06-14T23:59:59-05:00",
            ),
            item("window-start", 2, Bill, None, "2022-06-15T00:00:00-05:00"),
            item("b1-last", 3, Bill, None, "2024-12-15T23:59:59-06:00"),
            item("b0-first", 4, Bill, None, "2024-12-16T00:00:00-06:00"),
            item("today-last", 5, Bill, None, "2025-06-15T23:59:59-05:00"),
            item("tomorrow", 6, Bill, None, "2025-06-16T00:00:00-05:00"),
        ];
        // When the default view is built
        let shown = select(&items, &FeedQuery::default(), today, 3, Chicago, 1);
        let groups = group_into_buckets(&shown, today, 3, Chicago);
        // Then the edges fall where (after, through] says, and nothing outside the window shows
        assert_eq!(
            ids(&shown),
            ["today-last", "b0-first", "b1-last", "window-start"]
        );
        let expected: Vec<Vec<&str>> = vec![
            vec!["today-last", "b0-first"],
            vec!["b1-last"],
            vec![],
            vec![],
            vec![],
            vec!["window-start"],
        ];
        assert_eq!(grouped(&groups), expected);
        // And grouping items the window does not hold drops them
        let all: Vec<&FeedItem> = items.iter().collect();
        let total: usize = group_into_buckets(&all, today, 3, Chicago)
            .iter()
            .map(|(_, members)| members.len())
            .sum();
        assert_eq!(total, 4);
    }

    #[test]
    fn a_query_with_no_range_and_no_categories_is_the_whole_window() {
        // Given items of every scope in the window and a reset query on no account
        let today = day("2025-06-15");
        let items = [
            item("K1", 1, Call, Some("BA-1"), "2025-06-01T10:00:00-05:00"),
            item("K2", 2, Call, Some("BA-2"), "2024-06-01T10:00:00-05:00"),
            item("X1", 3, Bill, Some("BA-1"), "2023-06-01T10:00:00-05:00"),
        ];
        // When selected, then every item in the window shows, newest first
        let shown = select(&items, &FeedQuery::default(), today, 3, Chicago, 2);
        assert_eq!(ids(&shown), ["K1", "K2", "X1"]);
        assert_eq!(
            FeedQuery::default().days(today, 3),
            history_window(today, 3).into()
        );
    }

    #[test]
    fn a_custom_range_is_cut_to_the_history_window() {
        // Given a range validated yesterday whose start has since left the window
        let range = validate_range(day("2022-06-14"), day("2022-12-01"), day("2025-06-14"), 3);
        let query = FeedQuery {
            range: range.ok(),
            ..FeedQuery::default()
        };
        // When shown today, then its first day is the window's
        let days = query.days(day("2025-06-15"), 3);
        assert_eq!(
            days,
            DateRange {
                start: day("2022-06-15"),
                end: day("2022-12-01")
            }
        );
    }

    #[test]
    fn ties_on_time_go_to_the_higher_sequence() {
        // Given two items at the same instant
        let items = [
            item("first", 7, Email, None, "2025-06-01T10:00:00-05:00"),
            item("second", 8, Email, None, "2025-06-01T10:00:00-05:00"),
        ];
        // When selected, then the later-made one comes first
        let shown = select(
            &items,
            &FeedQuery::default(),
            day("2025-06-15"),
            3,
            Chicago,
            1,
        );
        assert_eq!(ids(&shown), ["second", "first"]);
    }

    #[test]
    fn bucket_keys_order_by_customer_then_year_and_name_both() {
        let keys = [
            bucket_key("C-1", -40),
            bucket_key("C-1", 1999),
            bucket_key("C-1", 2025),
            bucket_key("C-10", 1999),
        ];
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(bucket_of_key(&keys[2]), Some(("C-1", 2025)));
        assert_eq!(bucket_of_key(&keys[0]), Some(("C-1", -40)));
        assert_eq!(bucket_of_key(b"C-1"), None);
        let (start, end) = bucket_range("C-1", 1999, 2025);
        assert!(start <= keys[1] && keys[2] < end && end <= keys[3]);
        assert!(keys[0] < start);
        assert!(keys[1..3]
            .iter()
            .all(|k| k.starts_with(&bucket_prefix("C-1"))));
        assert!(!keys[3].starts_with(&bucket_prefix("C-1")));
        assert_eq!(bucket_year(at("2024-12-31T23:59:59Z")), 2024);
    }

    #[test]
    fn feed_keys_order_by_customer_time_and_seq() {
        // Given keys of two customers whose ids share a prefix, before and after the epoch
        let old = at("1960-01-01T00:00:00Z");
        let new = at("2025-06-01T10:00:00Z");
        let c1_old = feed_key("C-1", old, 9);
        let c1_new = feed_key("C-1", new, 1);
        let c1_new_later = feed_key("C-1", new, 2);
        let c10_old = feed_key("C-10", old, 1);
        // Then bytes order like (customer, time, seq)
        assert!(c1_old < c1_new && c1_new < c1_new_later && c1_new_later < c10_old);
        assert_eq!(c1_new.len(), 3 + 1 + 8 + 8);
        assert_eq!(&c1_new[..4], b"C-1\0");
        assert_eq!(&c1_new[12..], &1u64.to_be_bytes());
        // And a window's bounds hold exactly its seconds, for that customer only
        let (start, end) = feed_range("C-1", old, new);
        let inside = |key: &Vec<u8>| start <= *key && *key < end;
        assert!(inside(&c1_old) && inside(&c1_new) && inside(&c1_new_later));
        assert!(!inside(&c10_old));
        assert!(!inside(&feed_key("C-1", at("2025-06-01T10:00:01Z"), 0)));
        assert!(!inside(&feed_key(
            "C-1",
            at("1959-12-31T23:59:59Z"),
            u64::MAX
        )));
        // And a reversed window is empty
        let (start, end) = feed_range("C-1", new, old);
        assert_eq!(start, end);
    }

    #[test]
    fn parse_date_accepts_only_calendar_days_as_yyyy_mm_dd() {
        assert_eq!(parse_date(" 2024-02-29 "), Ok(day("2024-02-29")));
        for bad in [
            "2025-6-1",
            "15/06/2025",
            "2025-06-15T00:00",
            "",
            "+2025-06-1",
        ] {
            let message = parse_date(bad).expect_err(bad);
            assert!(message.contains("expected YYYY-MM-DD"), "{bad}: {message}");
        }
        let message = parse_date("2025-02-29").expect_err("no leap day in 2025");
        assert!(message.contains("not a day of the calendar"), "{message}");
    }

    #[test]
    fn columns_and_fields_name_the_details_the_desk_shows() {
        assert_eq!(list_columns(Call), ["direction"]);
        assert_eq!(
            detail_fields(Call),
            ["agent", "resolution", "wrap_up_notes"]
        );
        assert_eq!(list_columns(Bill), ["amount"]);
        assert!(detail_fields(Bill).is_empty());
        for &subtype in FeedSubtype::ALL {
            let mut keys: Vec<&str> = detail_fields(subtype).to_vec();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), detail_fields(subtype).len(), "{subtype}");
            assert!(!subtype_label(subtype).is_empty());
            assert!(!category_label(subtype.category()).is_empty());
        }
    }

    #[test]
    fn feed_items_round_trip_through_json() {
        let mut call = item("K1", 1, Call, Some("BA-1"), "2025-05-02T14:30:00-05:00");
        call.details.insert("direction".into(), "inbound".into());
        let text = serde_json::to_string(&call).expect("serializes");
        let back: FeedItem = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, call);
    }

    proptest! {
        #[test]
        fn feed_key_order_is_time_then_seq(
            a in -50_000_000_000i64..50_000_000_000, b in -50_000_000_000i64..50_000_000_000,
            s in any::<u64>(), t in any::<u64>(),
        ) {
            let (Some(x), Some(y)) = (DateTime::from_timestamp(a, 0), DateTime::from_timestamp(b, 0)) else {
                return Ok(());
            };
            prop_assert_eq!(feed_key("C", x, s).cmp(&feed_key("C", y, t)), (a, s).cmp(&(b, t)));
        }

        #[test]
        fn buckets_partition_the_window(
            today_offset in 0i64..20_000, years in 0u32..5, probe in -2_200i64..10,
        ) {
            let base = day("1990-01-01");
            let today = base + chrono::Days::new(today_offset.unsigned_abs());
            let date = today + chrono::Duration::days(probe);
            let holders = six_month_buckets(today, years)
                .iter()
                .filter(|bucket| bucket.contains(date))
                .count();
            prop_assert_eq!(holders, usize::from(history_window(today, years).contains(date)));
        }

        #[test]
        fn parse_date_never_panics_and_names_its_input(text in "\\PC{0,16}") {
            match parse_date(&text) {
                Ok(date) => prop_assert_eq!(date.format("%Y-%m-%d").to_string(), text.trim()),
                Err(message) => prop_assert!(message.contains(text.trim()), "{}", message),
            }
        }

        #[test]
        fn a_written_date_parses_back(offset in 0u64..3_652_059) {
            let date = day("0000-01-01") + chrono::Days::new(offset);
            prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Ok(date));
        }

        /// The range is accepted exactly when it keeps all four rules; a refusal names the first
        /// broken one and its limit. Todays around leap days and month ends (TV-24).
        #[test]
        fn validate_range_applies_the_first_broken_rule(
            today in prop::sample::select(vec![
                "2024-02-29", "2025-02-28", "2023-03-31", "2025-08-31", "2025-12-31", "2000-02-29",
                "0000-01-01", "9999-12-31",
            ]),
            years in prop::sample::select(vec![0u32, 1, 2, 7, 400, u32::MAX]),
            start_offset in -800i64..50, length in -40i64..400,
        ) {
            let today = day(today);
            let start = today + chrono::Duration::days(start_offset);
            let end = start + chrono::Duration::days(length);
            let earliest = history_window(today, years).start;
            let latest_end = add_months(start, SIX_MONTHS);
            let rules = [
                (RangeRule::StartAfterEnd, start > end, end),
                (RangeRule::EndAfterToday, end > today, today),
                (RangeRule::BeforeHistory, start < earliest, earliest),
                (RangeRule::LongerThanSixMonths, end > latest_end, latest_end),
            ];
            let first_broken = rules.iter().find(|(_, broken, _)| *broken);
            match (validate_range(start, end, today, years), first_broken) {
                (Ok(range), None) => prop_assert_eq!(range, DateRange { start, end }),
                (Err(error), Some(&(rule, _, limit))) => {
                    prop_assert_eq!(error, RangeError { rule, start, end, limit });
                    prop_assert!(error.to_string().contains(&limit.to_string()));
                }
                (outcome, expected) => prop_assert!(false, "{:?} but expected {:?}", outcome, expected),
            }
        }
    }
}
