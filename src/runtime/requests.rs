//! The operator's requests, applied by the writer, and the sentence the desk shows for each.

use super::Request;
use crate::domain::Instant;
use crate::engine::{ActionReport, Actor, Engine, EngineError};

impl Request {
    /// True for the actions that may take a while, so the desk shows progress (`Busy`).
    pub(super) fn is_long(&self) -> bool {
        match self {
            Request::WoComplete { ids } | Request::WoCancel { ids, .. } => ids.len() > 1,
            Request::RunCrwto | Request::MonitorNow => true,
            Request::RetryAll { .. } | Request::DiscardAll { .. } => true,
            _ => false,
        }
    }

    /// What the desk says while the action runs.
    pub(super) fn describe(&self) -> String {
        match self {
            Request::Retry { id } => format!("retrying {id}"),
            Request::Discard { id, .. } => format!("discarding {id}"),
            Request::ExecuteNow { id } => format!("executing {id} now"),
            Request::Cancel { id, .. } => format!("filing a cancel of {id}"),
            Request::Update { id, .. } => format!("filing an update of {id}"),
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
        }
    }
}

/// Applies one operator action (everything but the batch and the monitor pass, which the writer
/// runs itself) and returns the sentence for the desk's toast.
pub(super) fn apply(
    engine: &mut Engine,
    actor: &Actor,
    now: Instant,
    request: Request,
) -> Result<String, EngineError> {
    Ok(match request {
        Request::RetryAll { ids } => engine.bulk_retry(actor, now, &ids)?.summary("retried"),
        Request::DiscardAll { ids, reason } => engine
            .bulk_discard(actor, now, &ids, &reason)?
            .summary("discarded"),
        Request::Retry { id } => now_in("retried", engine.retry(actor, now, &id)?),
        Request::Discard { id, reason } => now_in(
            "discarded",
            engine.discard(actor, now, &id, reason.as_deref())?,
        ),
        Request::ExecuteNow { id } => now_in("executed now", engine.execute_now(actor, now, &id)?),
        Request::Cancel {
            id,
            reason,
            related,
        } => {
            let filed = engine.cancel(actor, now, &id, &reason, related.as_deref())?;
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
            let filed = engine.update(actor, now, &id, &comments, start, related.as_deref())?;
            format!(
                "{} filed: update of {} ({})",
                filed.id,
                target(&id, &related),
                filed.state
            )
        }
        Request::CompleteFa { id, report } => now_in(
            "completed by hand",
            engine.complete_fa(actor, now, &id, *report)?,
        ),
        Request::CancelFa { id, reason } => now_in(
            "cancelled by hand",
            engine.cancel_fa(actor, now, &id, &reason)?,
        ),
        Request::WoComplete { ids } => engine.wo_complete(actor, now, &ids)?.summary,
        Request::WoCancel { ids, reason } => engine.wo_cancel(actor, now, &ids, &reason)?.summary,
        Request::WoAssign {
            id,
            assignee,
            schedule_for,
        } => {
            let label = assignee.label();
            let wo = engine.wo_assign(actor, now, &id, assignee, schedule_for)?;
            format!("{} assigned to {label}: now {}", wo.id, wo.status.code())
        }
        Request::WoSetStatus { id, status } => {
            let wo = engine.wo_set_status(actor, now, &id, status)?;
            format!("{} is now {}", wo.id, wo.status.code())
        }
        Request::RunCrwto | Request::MonitorNow => {
            return Err(EngineError::Corrupt(
                "the writer runs the batch and the monitor pass itself".into(),
            ))
        }
    })
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
