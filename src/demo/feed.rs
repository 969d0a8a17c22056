//! Three years of customer activity feed (§7): monthly bills and payments per billing account,
//! calls and chats on specific accounts, contact-level emails, tasks and customer information,
//! credit and collection processes, outage calls. Service orders join the feed by themselves.

use super::names::Names;
use super::rng::SplitMix64;
use super::world::World;
use super::{local_instant, Timeline};
use crate::domain::Instant;
use crate::formats::{FeedItemRecord, FeedSubtype, ImportRecord};
use chrono::{Datelike, Duration, Months, NaiveDate};
use serde_json::{json, Map, Value};

/// The random stream of the feed.
const STREAM: u64 = 5;

/// Months of bills and payments per account (the configured history is three years).
const MONTHS: u32 = 36;

/// The credit and collection processes, one of which every customer has had.
const COLLECTION: &[FeedSubtype] = &[
    FeedSubtype::CollectionProcess,
    FeedSubtype::SeveranceProcess,
    FeedSubtype::WriteOffProcess,
    FeedSubtype::PayPlanOverdueProcess,
    FeedSubtype::PaymentArrangement,
    FeedSubtype::CutProcess,
    FeedSubtype::CreditRatingHistory,
    FeedSubtype::CashOnlyHistory,
];

/// The feed of the customers `range`, in customer order, each item before `now`.
pub fn generate(
    world: &World,
    names: &Names,
    seed: u64,
    timeline: &Timeline,
    range: std::ops::Range<usize>,
) -> Vec<ImportRecord> {
    let tz_now = timeline.now;
    let mut out = Vec::new();
    for index in range {
        let customer = &world.customers[index];
        let mut rng = SplitMix64::derive(seed, STREAM, index as u64);
        let mut feed = CustomerFeed {
            customer: &customer.record.id,
            accounts: &customer.record.billing_accounts,
            email: customer.record.email.clone().unwrap_or_default(),
            now: tz_now,
            timeline,
            names,
            rng: &mut rng,
            out: &mut out,
        };
        feed.bills_and_payments();
        feed.conversations();
        feed.contact_level();
        feed.collection(index);
    }
    out
}

struct CustomerFeed<'a> {
    customer: &'a str,
    accounts: &'a [String],
    email: String,
    now: Instant,
    timeline: &'a Timeline,
    names: &'a Names,
    rng: &'a mut SplitMix64,
    out: &'a mut Vec<ImportRecord>,
}

impl CustomerFeed<'_> {
    fn today(&self) -> NaiveDate {
        self.timeline.local_date(self.now)
    }

    /// A random instant in office-ish hours on a random day of the last three years.
    fn some_time(&mut self) -> Instant {
        let days = self.rng.between(1, 3 * 365 - 2) as i64;
        let date = self.today() - Duration::days(days);
        self.at(date)
    }

    fn at(&mut self, date: NaiveDate) -> Instant {
        let hour = self.rng.between(8, 19) as u32;
        let minute = self.rng.below(60) as i64;
        let at = self.timeline.local(date, hour) + Duration::minutes(minute);
        at.min(self.now - Duration::hours(1))
    }

    fn push(
        &mut self,
        subtype: FeedSubtype,
        account: Option<&str>,
        at: Instant,
        summary: String,
        details: Value,
    ) {
        let details: Map<String, Value> = match details {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self.out.push(ImportRecord::FeedItem(FeedItemRecord {
            id: None,
            customer: self.customer.to_string(),
            account: account.map(str::to_string),
            category: subtype.category(),
            subtype,
            at,
            summary,
            details,
        }));
    }

    fn account(&mut self) -> String {
        self.rng.pick(self.accounts).clone()
    }

    /// A bill every month on the main account (every quarter on the others: holiday homes and
    /// small side services), and the payment that usually follows.
    fn bills_and_payments(&mut self) {
        let today = self.today();
        let start = today - Months::new(MONTHS);
        for (k, account) in self.accounts.iter().enumerate() {
            let bill_day = self.rng.between(1, 28) as u32;
            let base = self.rng.between(45, 220);
            let every = if k == 0 { 1 } else { 3 };
            for m in (0..=MONTHS).step_by(every) {
                let month = start + Months::new(m);
                let Some(date) = NaiveDate::from_ymd_opt(month.year(), month.month(), bill_day)
                else {
                    continue;
                };
                if date <= start || date >= today {
                    continue;
                }
                // Summer air conditioning and winter heating show on the bill.
                let season = match date.month() {
                    6..=8 => 140,
                    12 | 1 | 2 => 125,
                    _ => 100,
                };
                let amount = base * season / 100 + self.rng.below(30);
                let cents = self.rng.below(100);
                let billed = self.timeline.local(date, 6);
                self.push(
                    FeedSubtype::Bill,
                    Some(account),
                    billed,
                    format!("Bill {} — ${amount}.{cents:02}", date.format("%b %Y")),
                    json!({ "amount": format!("{amount}.{cents:02}"), "due_date": (date + Duration::days(21)).to_string() }),
                );
                if self.rng.percent(92) {
                    let paid_on = date + Duration::days(self.rng.between(5, 20) as i64);
                    if paid_on >= today {
                        continue;
                    }
                    let method = *self
                        .rng
                        .pick(&["autopay", "card", "bank transfer", "check"]);
                    let at = self.at(paid_on);
                    self.push(
                        FeedSubtype::Payment,
                        Some(account),
                        at,
                        format!("Payment ${amount}.{cents:02} ({method})"),
                        json!({ "amount": format!("{amount}.{cents:02}"), "method": method }),
                    );
                }
            }
        }
    }

    /// Calls and chats, each on one billing account (§7.2: they are filtered by account).
    fn conversations(&mut self) {
        for _ in 0..self.rng.between(3, 8) {
            let at = self.some_time();
            let account = self.account();
            let topic = *self.rng.pick(&self.names.topics);
            let agent = *self.rng.pick(&self.names.agents);
            let direction = if self.rng.percent(80) {
                "inbound"
            } else {
                "outbound"
            };
            self.push(
                FeedSubtype::Call,
                Some(&account),
                at,
                format!("{} call: {topic}", capitalised(direction)),
                json!({ "direction": direction, "agent": agent, "resolution": "explained and resolved on the call", "wrap_up_notes": topic }),
            );
        }
        for _ in 0..self.rng.between(1, 3) {
            let at = self.some_time();
            let account = self.account();
            let topic = *self.rng.pick(&self.names.topics);
            let agent = *self.rng.pick(&self.names.agents);
            self.push(
                FeedSubtype::Chat,
                Some(&account),
                at,
                format!("Chat: {topic}"),
                json!({ "agent": agent, "started_by": "customer", "resolution": "answered in chat", "summary": topic }),
            );
        }
        for _ in 0..self.rng.between(0, 2) {
            let at = self.some_time();
            let account = self.account();
            let (title, severity) = *self.rng.pick(&[
                ("Flickering lights reported", "medium"),
                ("Damaged meter seal", "high"),
                ("Streetlight out", "low"),
                ("Billing address correction", "low"),
            ]);
            let status = *self.rng.pick(&["open", "in progress", "closed", "closed"]);
            self.push(
                FeedSubtype::ServiceRequest,
                Some(&account),
                at,
                format!("Service request: {title} ({status})"),
                json!({ "title": title, "status": status, "severity": severity, "category": "service", "description": title }),
            );
        }
    }

    /// Items tied to the contact, not to an account.
    fn contact_level(&mut self) {
        for _ in 0..self.rng.between(2, 5) {
            let at = self.some_time();
            let subject = *self.rng.pick(&[
                "Your e-bill is ready",
                "Planned maintenance in your area",
                "Payment received — thank you",
                "Save energy this season",
                "Re: question about my bill",
            ]);
            self.push(
                FeedSubtype::Email,
                None,
                at,
                format!("Email: {subject}"),
                json!({ "to": self.email, "from": "care@utility.example", "subject": subject, "body": format!("{subject}.") }),
            );
        }
        for _ in 0..self.rng.between(1, 2) {
            let at = self.some_time();
            let task = *self.rng.pick(&[
                "Paperless billing enrolment",
                "Autopay set-up",
                "Mailing address update",
                "Budget billing sign-up",
            ]);
            self.push(
                FeedSubtype::ServiceTask,
                None,
                at,
                format!("Self-service: {task}"),
                json!({ "task_type": task, "notes": "completed online" }),
            );
        }
        let info: [(FeedSubtype, u64, u64); 3] = [
            (FeedSubtype::CustomerContact, 1, 2),
            (FeedSubtype::Case, 0, 2),
            (FeedSubtype::RebateClaim, 0, 1),
        ];
        for (subtype, lo, hi) in info {
            for _ in 0..self.rng.between(lo, hi) {
                let at = self.some_time();
                let (summary, details) = match subtype {
                    FeedSubtype::CustomerContact => {
                        let kind = *self.rng.pick(&["walk-in", "letter", "callback request"]);
                        (
                            format!("Customer contact: {kind}"),
                            json!({ "contact_type": kind, "notes": "logged by the front office" }),
                        )
                    }
                    FeedSubtype::Case => {
                        let kind =
                            *self
                                .rng
                                .pick(&["billing dispute", "damage claim", "complaint"]);
                        (
                            format!("Case opened: {kind}"),
                            json!({ "case_type": kind, "notes": "assigned to customer care" }),
                        )
                    }
                    _ => {
                        let program =
                            *self
                                .rng
                                .pick(&["smart thermostat", "heat pump", "LED lighting"]);
                        (
                            format!("Rebate claim: {program}"),
                            json!({ "program": program, "notes": "claim received" }),
                        )
                    }
                };
                self.push(subtype, None, at, summary, details);
            }
        }
        for _ in 0..self.rng.between(0, 2) {
            let at = self.some_time();
            self.push(
                FeedSubtype::OutageCall,
                None,
                at,
                "Outage call: power out on the street".into(),
                json!({ "notes": "crew dispatched; power restored within 3 hours" }),
            );
        }
    }

    /// Credit and collection processes; customer `index` always has the `index mod 8`th kind,
    /// so every process shows up in any world of eight customers or more.
    fn collection(&mut self, index: usize) {
        let mut kinds = vec![COLLECTION[index % COLLECTION.len()]];
        for _ in 0..self.rng.between(0, 2) {
            kinds.push(*self.rng.pick(COLLECTION));
        }
        for subtype in kinds {
            let at = self.some_time();
            let account = self.account();
            let status = *self.rng.pick(&["closed", "closed", "active"]);
            let label = crate::feed::subtype_label(subtype);
            self.push(
                subtype,
                Some(&account),
                at,
                format!("{label} ({status})"),
                json!({ "status": status, "notes": format!("{label} on {account}") }),
            );
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Timeline {
    /// The local date of `at` in the configured zone.
    pub(crate) fn local_date(&self, at: Instant) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// `hour`:00 local on `date` (the next hour when a daylight-saving gap swallows it).
    pub(crate) fn local(&self, date: NaiveDate, hour: u32) -> Instant {
        local_instant(date, hour, self.tz)
            .or_else(|| local_instant(date, hour + 1, self.tz))
            .unwrap_or(self.now)
    }
}
