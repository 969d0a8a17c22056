//! Work orders and the open work-order queue (`spec/domain.md` §6, §12.10): the record, its
//! status graph, the queue predicate and order, the move-in / move-out rules, assignment and
//! bulk outcomes. Pure: dates and calendars are inputs.

use crate::calendar::WorkCalendar;
use crate::domain::{Instant, LogLine, Seq, SiteStatus};
pub use crate::domain::{WoKind, WoOrigin, WoStatus};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who the work order is assigned to (§6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Assignee {
    /// Nobody yet.
    Unassigned,
    /// An internal technician.
    Internal {
        /// The technician's name.
        name: String,
        /// Where the work order is emailed.
        email: String,
    },
    /// An external technician.
    External {
        /// The technician's name.
        name: String,
        /// Where the work order is emailed.
        email: String,
    },
    /// The partner provider (UST), through its channel.
    Partner,
}

impl Assignee {
    /// Parses `internal:NAME:EMAIL`, `external:NAME:EMAIL` or `partner`.
    pub fn parse(text: &str) -> Result<Assignee, String> {
        let parts: Vec<&str> = text.splitn(3, ':').map(str::trim).collect();
        match parts.as_slice() {
            ["partner"] => Ok(Assignee::Partner),
            [kind @ ("internal" | "external"), name, email]
                if !name.is_empty() && email.contains('@') =>
            {
                let (name, email) = (name.to_string(), email.to_string());
                Ok(if *kind == "internal" {
                    Assignee::Internal { name, email }
                } else {
                    Assignee::External { name, email }
                })
            }
            _ => Err(format!(
                "`{text}`: expected internal:NAME:EMAIL, external:NAME:EMAIL or partner"
            )),
        }
    }

    /// The form [`Assignee::parse`] reads back (empty for nobody): a prompt's current value.
    pub fn entry(&self) -> String {
        match self {
            Assignee::Unassigned => String::new(),
            Assignee::Internal { name, email } => format!("internal:{name}:{email}"),
            Assignee::External { name, email } => format!("external:{name}:{email}"),
            Assignee::Partner => "partner".into(),
        }
    }

    /// A short label for tables.
    pub fn label(&self) -> String {
        match self {
            Assignee::Unassigned => "-".into(),
            Assignee::Internal { name, .. } => format!("{name} (internal)"),
            Assignee::External { name, .. } => format!("{name} (external)"),
            Assignee::Partner => "partner (UST)".into(),
        }
    }
}

/// A work order (§6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrder {
    /// The internal sequence number.
    pub seq: Seq,
    /// `WO-<n>` or the imported id.
    pub id: String,
    /// What it is for.
    pub kind: WoKind,
    /// The customer.
    pub customer: String,
    /// The billing account.
    pub account: Option<String>,
    /// The site (service point).
    pub site: String,
    /// The building of the site.
    pub building: Option<String>,
    /// What created it.
    pub origin: WoOrigin,
    /// Its status.
    pub status: WoStatus,
    /// The date the work should happen; `None` sorts last.
    pub preferred_date: Option<NaiveDate>,
    /// Who does the work.
    pub assignee: Assignee,
    /// The user who scheduled it ("mine").
    pub scheduled_for: Option<String>,
    /// The site state at creation, and later notes.
    pub site_notes: String,
    /// When it was created.
    #[serde(with = "crate::domain::stored_time")]
    pub created_at: Instant,
    /// When it last changed.
    pub updated_at: Instant,
    /// When it was completed.
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub completed_at: Option<Instant>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// What happened to it.
    pub log: Vec<LogLine>,
}

/// The allowed status edges (§6.3); everything else is refused.
pub fn allows(from: WoStatus, to: WoStatus) -> bool {
    use WoStatus::*;
    matches!(
        (from, to),
        (New, Sent)
            | (New, Setup)
            | (Sent, Setup)
            | (New | Sent | Setup, Completed)
            | (New | Sent | Setup, Cancelled)
    )
}

/// The open-queue predicate (§6.4): NEW, SENT or SETUP.
pub fn is_open(status: WoStatus) -> bool {
    matches!(status, WoStatus::New | WoStatus::Sent | WoStatus::Setup)
}

/// True when the id, status, kind, customer, site or assignee contains `needle`, which is
/// lower case (the desk's `/` filter over the queue).
pub fn matches_text(w: &WorkOrder, needle: &str) -> bool {
    [
        w.id.as_str(),
        w.status.code(),
        w.kind.code(),
        &w.customer,
        &w.site,
        &w.assignee.label(),
    ]
    .iter()
    .any(|f| f.to_ascii_lowercase().contains(needle))
}

/// The queue order: preferred date (none last), then creation time, then sequence (§12.10).
pub fn queue_order(wo: &WorkOrder) -> (bool, Option<NaiveDate>, Instant, Seq) {
    (
        wo.preferred_date.is_none(),
        wo.preferred_date,
        wo.created_at,
        wo.seq,
    )
}

/// Why a move-out creates no disconnection (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDisconnection {
    /// Move-in / move-out work orders are switched off for the tenant.
    FeatureOff,
    /// The building disables them (`Move-In/Out Work Orders Disable = Y`).
    BuildingDisabled,
    /// The customer is on life support.
    LifeSupport,
    /// The site is already de-energised.
    AlreadyDeEnergised,
}

impl NoDisconnection {
    /// Why, in words.
    pub fn describe(self) -> &'static str {
        match self {
            NoDisconnection::FeatureOff => "move-in/out work orders are switched off",
            NoDisconnection::BuildingDisabled => "the building disables move-in/out work orders",
            NoDisconnection::LifeSupport => "the customer is on life support",
            NoDisconnection::AlreadyDeEnergised => "the site is already de-energised",
        }
    }
}

/// What a move-out knows about the site.
#[derive(Debug, Clone, Copy)]
pub struct MoveOutFacts {
    /// `[work_orders] move_in_out`.
    pub feature_on: bool,
    /// The building's `wo_disable`.
    pub building_disabled: bool,
    /// The customer's life-support flag.
    pub life_support: bool,
    /// The site's status, if known.
    pub site_status: Option<SiteStatus>,
}

/// The disconnection a move-out creates: its preferred date, or why there is none (§6.2).
pub fn move_out_disconnection(
    move_out: NaiveDate,
    facts: MoveOutFacts,
    calendar: &WorkCalendar,
    business_days: u32,
) -> Result<NaiveDate, NoDisconnection> {
    if !facts.feature_on {
        return Err(NoDisconnection::FeatureOff);
    }
    if facts.building_disabled {
        return Err(NoDisconnection::BuildingDisabled);
    }
    if facts.life_support {
        return Err(NoDisconnection::LifeSupport);
    }
    if facts.site_status == Some(SiteStatus::DeEnergised) {
        return Err(NoDisconnection::AlreadyDeEnergised);
    }
    Ok(calendar.add_business_days(move_out, business_days))
}

/// The reconnection date for a move-in: the preferred date rolled forward to a business day.
pub fn move_in_reconnection(preferred: NaiveDate, calendar: &WorkCalendar) -> NaiveDate {
    calendar.next_workday_on_or_after(preferred)
}

/// A move-out date may be in the future or up to 10 business days in the past (S27).
pub fn check_move_out_date(
    date: NaiveDate,
    today: NaiveDate,
    calendar: &WorkCalendar,
) -> Result<(), String> {
    if date >= today {
        return Ok(());
    }
    let mut earliest = today;
    for _ in 0..10 {
        earliest = previous_workday(earliest, calendar);
    }
    if date >= earliest {
        Ok(())
    } else {
        Err(format!(
            "move-out date {date} is more than 10 business days in the past (the earliest allowed is {earliest})"
        ))
    }
}

fn previous_workday(date: NaiveDate, calendar: &WorkCalendar) -> NaiveDate {
    let mut d = date;
    for _ in 0..3660 {
        match d.pred_opt() {
            Some(prev) => d = prev,
            None => return date,
        }
        if calendar.is_workday(d) {
            return d;
        }
    }
    date
}

/// The site status that completing this kind of work order leaves (§6.2).
pub fn site_status_after(kind: WoKind) -> Option<SiteStatus> {
    match kind {
        WoKind::Disconnection | WoKind::NonPaymentDisconnection => Some(SiteStatus::DeEnergised),
        WoKind::Reconnection | WoKind::Connection => Some(SiteStatus::Energised),
        _ => None,
    }
}

/// The email that assigns a work order to a technician (§6.3): to, subject, body.
pub fn assignment_email(
    wo: &WorkOrder,
    name: &str,
    email: &str,
    address: &str,
) -> (String, String, String) {
    let date = wo
        .preferred_date
        .map_or("as soon as possible".to_string(), |d| d.to_string());
    let subject = format!(
        "Work order {}: {} at {}",
        wo.id,
        kind_label(wo.kind),
        wo.site
    );
    let body = format!(
        "Hello {name},\n\nWork order {id} is assigned to you.\n\nKind: {kind}\nSite: {site} {address}\nCustomer: {customer}\nPreferred date: {date}\nNotes: {notes}\n",
        id = wo.id,
        kind = kind_label(wo.kind),
        site = wo.site,
        customer = wo.customer,
        notes = if wo.site_notes.is_empty() { "-" } else { &wo.site_notes },
    );
    (email.to_string(), subject, body)
}

/// The name a clerk reads.
pub fn kind_label(kind: WoKind) -> &'static str {
    match kind {
        WoKind::Connection => "Connection",
        WoKind::Reconnection => "Reconnection",
        WoKind::Disconnection => "Disconnection",
        WoKind::NonPaymentDisconnection => "Non-payment disconnection",
        WoKind::SpecialRead => "Special read",
        WoKind::FinalRead => "Final read",
        WoKind::MeterInvestigation => "Meter investigation",
    }
}

/// One row of a bulk action's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowOutcome {
    /// The work order.
    pub id: String,
    /// `completed`, `cancelled`, `skipped`.
    pub outcome: String,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// "2 completed, 1 skipped: already CANCELLED" (§6.4).
pub fn summarize(verb: &str, rows: &[RowOutcome]) -> String {
    let done = rows.iter().filter(|r| r.outcome == verb).count();
    let skipped: Vec<&RowOutcome> = rows.iter().filter(|r| r.outcome != verb).collect();
    let mut text = format!("{done} {verb}");
    if !skipped.is_empty() {
        let mut reasons: Vec<String> = skipped.iter().filter_map(|r| r.reason.clone()).collect();
        reasons.sort();
        reasons.dedup();
        text.push_str(&format!(
            ", {} skipped: {}",
            skipped.len(),
            reasons.join("; ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn facts() -> MoveOutFacts {
        MoveOutFacts {
            feature_on: true,
            building_disabled: false,
            life_support: false,
            site_status: None,
        }
    }

    #[test]
    fn status_graph() {
        use WoStatus::*;
        assert!(allows(New, Sent) && allows(Sent, Setup) && allows(Setup, Completed));
        assert!(!allows(Sent, New), "assignment never moves an order back");
        assert!(!allows(Completed, Cancelled) && !allows(Cancelled, Completed));
        assert!(is_open(New) && is_open(Sent) && is_open(Setup));
        assert!(!is_open(Completed) && !is_open(Cancelled));
    }

    #[test]
    fn tv_19_move_out_rules() {
        let cal = WorkCalendar::default();
        assert_eq!(
            move_out_disconnection(d("2025-06-13"), facts(), &cal, 5),
            Ok(d("2025-06-20"))
        );
        let life = MoveOutFacts {
            life_support: true,
            ..facts()
        };
        assert_eq!(
            move_out_disconnection(d("2025-06-13"), life, &cal, 5),
            Err(NoDisconnection::LifeSupport)
        );
        let dead = MoveOutFacts {
            site_status: Some(SiteStatus::DeEnergised),
            ..facts()
        };
        assert_eq!(
            move_out_disconnection(d("2025-06-13"), dead, &cal, 5),
            Err(NoDisconnection::AlreadyDeEnergised)
        );
        let building = MoveOutFacts {
            building_disabled: true,
            ..facts()
        };
        assert_eq!(
            move_out_disconnection(d("2025-06-13"), building, &cal, 5),
            Err(NoDisconnection::BuildingDisabled)
        );
    }

    #[test]
    fn tv_20_reconnection_rolls_to_a_business_day() {
        assert_eq!(
            move_in_reconnection(d("2025-06-21"), &WorkCalendar::default()),
            d("2025-06-23")
        );
    }

    #[test]
    fn move_out_dates_may_be_ten_business_days_back() {
        let cal = WorkCalendar::default();
        let today = d("2025-06-16");
        assert!(check_move_out_date(d("2025-07-01"), today, &cal).is_ok());
        assert!(check_move_out_date(d("2025-06-02"), today, &cal).is_ok());
        let err = check_move_out_date(d("2025-05-30"), today, &cal).unwrap_err();
        assert!(err.contains("2025-06-02"), "{err}");
    }

    #[test]
    fn assignee_parsing() {
        assert_eq!(Assignee::parse("partner"), Ok(Assignee::Partner));
        assert!(matches!(
            Assignee::parse("internal:Jo:jo@x.org"),
            Ok(Assignee::Internal { .. })
        ));
        assert!(Assignee::parse("internal:Jo").is_err());
        assert!(Assignee::parse("vendor:Jo:jo@x.org").is_err());
    }

    #[test]
    fn bulk_summary() {
        let rows = vec![
            RowOutcome {
                id: "WO-1".into(),
                outcome: "completed".into(),
                reason: None,
            },
            RowOutcome {
                id: "WO-3".into(),
                outcome: "completed".into(),
                reason: None,
            },
            RowOutcome {
                id: "WO-4".into(),
                outcome: "skipped".into(),
                reason: Some("already CANCELLED".into()),
            },
        ];
        assert_eq!(
            summarize("completed", &rows),
            "2 completed, 1 skipped: already CANCELLED"
        );
    }
}
