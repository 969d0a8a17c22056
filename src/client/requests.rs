//! The desk's actions, applied through the [`Api`], and the sentence the desk shows for each.

use super::Api;
use crate::domain::Instant;
use crate::engine::{ActionReport, BulkActionReport, CompleteFa, EngineError};
use crate::workorders::{Assignee, WoStatus};

/// How many items of a bulk retry or discard go in one write: the rate bound that keeps monitor
/// passes and other operators' actions flowing while a big batch runs.
pub const BULK_SLICE: usize = 20;

/// An operator action the desk offers, applied through the [`Api`] as the desk's operator.
#[derive(Debug, Clone)]
pub enum Request {
    /// Retry an activity in an error state, or replay an inbound message in the error inbox.
    Retry {
        /// The activity or inbound communication.
        id: String,
    },
    /// Discard an orchestration or maintenance activity.
    Discard {
        /// The activity.
        id: String,
        /// The operator's text (a default is recorded when `None`).
        reason: Option<String>,
    },
    /// Execute a waiting orchestration or command now (§12.7).
    ExecuteNow {
        /// The waiting activity.
        id: String,
    },
    /// File a Cancel Orchestration.
    Cancel {
        /// The orchestration.
        id: String,
        /// The cancel reason code (`CR`, `CXS`…).
        reason: String,
        /// One child to cancel instead of the whole orchestration.
        related: Option<String>,
    },
    /// File an Update Orchestration.
    Update {
        /// The orchestration.
        id: String,
        /// The new comments or instructions.
        comments: String,
        /// A new start (effective) time.
        start: Option<Instant>,
        /// One child to update instead of the orchestration.
        related: Option<String>,
    },
    /// Correct fields of a request in VALIDATION_ERROR, then retry it (`retry`).
    Edit {
        /// The request orchestration.
        id: String,
        /// `(field, value)` as `orderdesk edit --set FIELD=VALUE` takes them.
        sets: Vec<(String, String)>,
        /// Retry it once corrected.
        retry: bool,
    },
    /// Complete a field activity by hand.
    CompleteFa {
        /// The field activity.
        id: String,
        /// What the crew reported.
        report: Box<CompleteFa>,
    },
    /// Cancel a field activity by hand (the field system is not told).
    CancelFa {
        /// The field activity.
        id: String,
        /// Why.
        reason: String,
    },
    /// Complete work orders (bulk).
    WoComplete {
        /// The work orders.
        ids: Vec<String>,
    },
    /// Cancel work orders (bulk) with one reason.
    WoCancel {
        /// The work orders.
        ids: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Assign a work order.
    WoAssign {
        /// The work order.
        id: String,
        /// Who does the work.
        assignee: Assignee,
        /// The user it is scheduled for ("mine").
        schedule_for: Option<String>,
    },
    /// Move a work order NEW → SENT → SETUP.
    WoSetStatus {
        /// The work order.
        id: String,
        /// SENT or SETUP.
        status: WoStatus,
    },
    /// Retry every id (a query's matches), in slices, in the background.
    RetryAll {
        /// The activities.
        ids: Vec<String>,
    },
    /// Discard every id (a query's matches), in slices, in the background.
    DiscardAll {
        /// The activities.
        ids: Vec<String>,
        /// Why.
        reason: String,
    },
    /// The supervisor's manual run of the throttle batch (audited).
    RunCrwto,
    /// A monitor pass now.
    MonitorNow,
    /// Pause (`paused`) or resume deliveries to a partner system (supervisors).
    PausePartner {
        /// `field_work`, `head_end` or `email`.
        partner: String,
        /// True to pause, false to resume.
        paused: bool,
    },
}

impl Request {
    /// True for the actions that may take a while, so the desk shows progress (`Busy`).
    pub fn is_long(&self) -> bool {
        match self {
            Request::WoComplete { ids } | Request::WoCancel { ids, .. } => ids.len() > 1,
            Request::RunCrwto | Request::MonitorNow => true,
            Request::RetryAll { .. } | Request::DiscardAll { .. } => true,
            _ => false,
        }
    }

    /// What the desk says while the action runs.
    pub fn describe(&self) -> String {
        match self {
            Request::Retry { id } => format!("retrying {id}"),
            Request::Discard { id, .. } => format!("discarding {id}"),
            Request::ExecuteNow { id } => format!("executing {id} now"),
            Request::Cancel { id, .. } => format!("filing a cancel of {id}"),
            Request::Update { id, .. } => format!("filing an update of {id}"),
            Request::Edit { id, .. } => format!("correcting {id}"),
            Request::CompleteFa { id, .. } => format!("completing {id} by hand"),
            Request::CancelFa { id, .. } => format!("cancelling {id} by hand"),
            Request::WoComplete { ids } => format!("completing {} work order(s)", ids.len()),
            Request::WoCancel { ids, .. } => format!("cancelling {} work order(s)", ids.len()),
            Request::WoAssign { id, .. } => format!("assigning {id}"),
            Request::WoSetStatus { id, .. } => format!("setting the status of {id}"),
            Request::RetryAll { ids } => format!("retrying {} activities", ids.len()),
            Request::DiscardAll { ids, .. } => format!("discarding {} activities", ids.len()),
            Request::RunCrwto => "running the throttle batch".into(),
            Request::MonitorNow => "running a monitor pass".into(),
            Request::PausePartner {
                partner,
                paused: true,
            } => format!("pausing {partner}"),
            Request::PausePartner { partner, .. } => format!("resuming {partner}"),
        }
    }
    /// Applies the action as the client's operator and returns the sentence for the toast;
    /// a bulk retry or discard goes in slices, telling `progress` after each.
    pub fn apply(
        self,
        api: &dyn Api,
        progress: &mut dyn FnMut(String),
    ) -> Result<String, EngineError> {
        Ok(match self {
            Request::RetryAll { ids } => {
                bulk(&ids, progress, "retrying", |slice| api.bulk_retry(slice))?.summary("retried")
            }
            Request::DiscardAll { ids, reason } => bulk(&ids, progress, "discarding", |slice| {
                api.bulk_discard(slice, &reason)
            })?
            .summary("discarded"),
            Request::Retry { id } => now_in("retried", api.retry(&id)?),
            Request::Discard { id, reason } => {
                now_in("discarded", api.discard(&id, reason.as_deref())?)
            }
            Request::ExecuteNow { id } => now_in("executed now", api.execute_now(&id)?),
            Request::Edit { id, sets, retry } => {
                let corrected = api.edit(&id, &sets)?;
                if retry {
                    now_in("corrected and retried", api.retry(&id)?)
                } else {
                    now_in("corrected", corrected)
                }
            }
            Request::Cancel {
                id,
                reason,
                related,
            } => {
                let filed = api.cancel(&id, &reason, related.as_deref())?;
                format!(
                    "{} filed: cancel of {} ({})",
                    filed.id,
                    target(&id, &related),
                    filed.state
                )
            }
            Request::Update {
                id,
                comments,
                start,
                related,
            } => {
                let filed = api.update(&id, &comments, start, related.as_deref())?;
                format!(
                    "{} filed: update of {} ({})",
                    filed.id,
                    target(&id, &related),
                    filed.state
                )
            }
            Request::CompleteFa { id, report } => {
                now_in("completed by hand", api.complete_fa(&id, *report)?)
            }
            Request::CancelFa { id, reason } => {
                now_in("cancelled by hand", api.cancel_fa(&id, &reason)?)
            }
            Request::WoComplete { ids } => api.wo_complete(&ids)?.summary,
            Request::WoCancel { ids, reason } => api.wo_cancel(&ids, &reason)?.summary,
            Request::WoAssign {
                id,
                assignee,
                schedule_for,
            } => {
                let label = assignee.label();
                let wo = api.wo_assign(&id, assignee, schedule_for)?;
                format!("{} assigned to {label}: now {}", wo.id, wo.status.code())
            }
            Request::WoSetStatus { id, status } => {
                let wo = api.wo_set_status(&id, status)?;
                format!("{} is now {}", wo.id, wo.status.code())
            }
            Request::RunCrwto => {
                let report = api.crwto(None)?;
                format!(
                    "throttle batch: released {}, remaining {}, not yet due {}",
                    report.released.len(),
                    report.remaining,
                    report.not_yet_due
                )
            }
            Request::MonitorNow => {
                let report = api.tick()?;
                format!(
                    "monitor pass: {} transition(s), {} failure(s)",
                    report.transitions.len(),
                    report.failures.len()
                )
            }
            Request::PausePartner { partner, paused } => {
                let changed = api.pause_partner(&partner, paused)?;
                paused_sentence(&partner, paused, changed)
            }
        })
    }
}

/// Runs a bulk action a slice at a time; every slice is its own write, so others' work
/// interleaves, and the report counts only what was verified.
fn bulk(
    ids: &[String],
    progress: &mut dyn FnMut(String),
    verb: &str,
    mut slice: impl FnMut(&[String]) -> Result<BulkActionReport, EngineError>,
) -> Result<BulkActionReport, EngineError> {
    let mut report = BulkActionReport::default();
    for chunk in ids.chunks(BULK_SLICE) {
        report.merge(slice(chunk)?);
        if report.requested < ids.len() {
            progress(format!(
                "{verb}: {} of {} done",
                report.requested,
                ids.len()
            ));
        }
    }
    Ok(report)
}

/// "field_work paused: its messages wait in the outbox", or that nothing changed.
fn paused_sentence(partner: &str, paused: bool, changed: bool) -> String {
    match (paused, changed) {
        (true, true) => format!("{partner} paused: its messages wait in the outbox"),
        (false, true) => format!("{partner} resumed: its waiting messages go out again"),
        (true, false) => format!("{partner} was already paused: nothing changed"),
        (false, false) => format!("{partner} was not paused: nothing changed"),
    }
}

/// "SO-2 retried: now IN_PROGRESS".
fn now_in(verb: &str, report: ActionReport) -> String {
    format!("{} {verb}: now {}", report.id, report.state)
}

/// "SO-1" or "FA-3 of SO-1".
fn target(id: &str, related: &Option<String>) -> String {
    match related {
        Some(child) => format!("{child} of {id}"),
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pausing_says_what_happened_to_the_messages() {
        assert_eq!(
            paused_sentence("field_work", true, true),
            "field_work paused: its messages wait in the outbox"
        );
        assert_eq!(
            paused_sentence("head_end", false, true),
            "head_end resumed: its waiting messages go out again"
        );
        assert_eq!(
            paused_sentence("email", true, false),
            "email was already paused: nothing changed"
        );
        assert_eq!(
            paused_sentence("email", false, false),
            "email was not paused: nothing changed"
        );
    }
}
