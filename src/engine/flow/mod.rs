//! The lifecycle driver: runs enter, monitor and exit behaviours over a unit of work.
//!
//! Decisions come from the pure rules in [`crate::lifecycle`]; this layer applies them to the
//! staged records: it checks every transition against the lifecycle tables, writes the log
//! line, keeps `due_at` (the monitor work index) up to date and runs the hooks between
//! children and parents (§12.2: a child's error and its parent's reaction are one transaction).

mod children;
mod comms;
pub mod maintenance;
mod orchestration;

pub use orchestration::not_retryable;

use super::tx::Tx;
use super::EngineError;
use crate::config::Config;
use crate::domain::{
    Activity, Body, Communication, Instant, LogLine, Notification, NotificationKind, Seq,
    StatusReason,
};
use crate::lifecycle::LifecycleState;

/// The driver over one unit of work.
pub struct Flow<'t, 's> {
    /// The unit of work.
    pub tx: &'t mut Tx<'s>,
    /// The configuration in force.
    pub config: &'t Config,
}

impl<'t, 's> Flow<'t, 's> {
    /// A driver over `tx`.
    pub fn new(tx: &'t mut Tx<'s>, config: &'t Config) -> Self {
        Flow { tx, config }
    }

    /// Exact engine time.
    pub fn now(&self) -> Instant {
        self.tx.now
    }

    /// Engine time truncated to the minute (rules).
    pub fn rule_now(&self) -> Instant {
        self.tx.rule_now
    }

    /// Appends a note to an activity's log.
    pub fn log_note(&mut self, seq: Seq, note: String) -> Result<(), EngineError> {
        let at = self.now();
        self.tx.activity_mut(seq)?.log.push(LogLine {
            at,
            from: None,
            to: None,
            note,
        });
        Ok(())
    }

    /// Records a notification to the requester on a top-level activity.
    fn notify(&mut self, seq: Seq, kind: NotificationKind) -> Result<(), EngineError> {
        let at = self.now();
        let a = self.tx.activity_mut(seq)?;
        let (list, to) = match &mut a.body {
            Body::Orchestration(o) => (&mut o.notifications, o.request_info.requester.clone()),
            Body::Maintenance(m) => (&mut m.notifications, m.request_info.requester.clone()),
            _ => return Ok(()),
        };
        list.push(Notification { kind, at, to });
        Ok(())
    }

    /// The id of an activity.
    pub fn id_of(&mut self, seq: Seq) -> Result<String, EngineError> {
        Ok(self.tx.activity(seq)?.id.clone())
    }
}

/// Applies a checked transition to a lifecycle state and logs it.
///
/// `state` is the activity's current state (read out of its body by the caller), so one helper
/// serves every lifecycle.
fn record_transition<S: LifecycleState>(
    header_id: &str,
    state: &mut S,
    to: S,
) -> Result<(S, S), EngineError> {
    let from = *state;
    if !from.allows(to) {
        return Err(EngineError::refused(
            "ILLEGAL_TRANSITION",
            format!(
                "{header_id}: {} -> {} is not a transition of its lifecycle",
                from.code(),
                to.code()
            ),
        ));
    }
    *state = to;
    Ok((from, to))
}

fn log_transition(
    log: &mut Vec<LogLine>,
    at: Instant,
    from: &str,
    to: &str,
    reason: Option<&StatusReason>,
) {
    let note = reason
        .map(|r| match (&r.reference, &r.text) {
            (Some(reference), _) => format!("{} ({reference})", r.code),
            (None, Some(text)) => format!("{}: {text}", r.code),
            (None, None) => r.code.clone(),
        })
        .unwrap_or_default();
    log.push(LogLine {
        at,
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        note,
    });
}

/// Applies the common header changes of a transition to an activity.
fn finish_activity_transition(
    a: &mut Activity,
    at: Instant,
    from: &str,
    to: &str,
    reason: Option<StatusReason>,
) {
    log_transition(&mut a.log, at, from, to, reason.as_ref());
    a.status_at = at;
    a.status_reason = reason;
}

/// Applies the common header changes of a transition to a communication.
fn finish_comm_transition(
    c: &mut Communication,
    at: Instant,
    from: &str,
    to: &str,
    reason: Option<StatusReason>,
) {
    log_transition(&mut c.log, at, from, to, reason.as_ref());
    c.status_at = at;
    c.status_reason = reason;
}
