//! Operator actions: retry, discard, execute-now, cancel, update, manual field-activity
//! completion and cancellation, and correcting a request in VALIDATION_ERROR.
//!
//! Each is one transaction with its audit line, flushed before it returns. A guard that refuses
//! (§12.2) changes nothing and is audited as `refused`.
//!
//! Reading chosen between §12.11 ("an unknown id on the command line is exit 2") and §12.13
//! ("`cancel` and `update` always file a maintenance activity … TARGET_NOT_FOUND"): the ids that
//! an action acts on directly must exist (exit 2), while `cancel` and `update` file their
//! maintenance activity whatever the target, and its VALIDATE reports `TARGET_NOT_FOUND`.

use super::flow::maintenance::MaintenanceRequest;
use super::keys::Tag;
use super::queries::lookup;
use super::{Actor, Engine, EngineError};
use crate::domain::{
    ActivityType, Body, Capability, CollectionData, CompletionReport, Contact, FieldCompletion,
    Instant, Seq,
};
use crate::lifecycle::OrchState;
use serde::{Deserialize, Serialize};

/// What an action did to its activity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActionReport {
    /// The activity acted on (or filed).
    pub id: String,
    /// Its state afterwards.
    pub state: String,
}

/// The result of a retry or discard over many activities (a query's matches).
///
/// An item counts as done only once its transition has happened and been read back — not when
/// the action was accepted — so the report never claims work that did not take place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BulkActionReport {
    /// How many ids were asked for.
    pub requested: usize,
    /// Ids whose transition happened and that left their error state (retry) or are
    /// DISCARDED (discard).
    pub verified: Vec<String>,
    /// Ids that moved but came back to an error state (a retry that failed again).
    pub back_in_error: Vec<String>,
    /// Ids a guard refused, with the code.
    pub refused: Vec<(String, String)>,
}

impl BulkActionReport {
    /// Adds another slice's outcome.
    pub fn merge(&mut self, other: BulkActionReport) {
        self.requested += other.requested;
        self.verified.extend(other.verified);
        self.back_in_error.extend(other.back_in_error);
        self.refused.extend(other.refused);
    }

    /// "12 retried, 3 back in error, 2 refused (AWAITING_FIELD_RESPONSE)".
    pub fn summary(&self, verb: &str) -> String {
        let mut text = format!("{} of {} {verb}", self.verified.len(), self.requested);
        if !self.back_in_error.is_empty() {
            text.push_str(&format!(", {} back in error", self.back_in_error.len()));
        }
        if !self.refused.is_empty() {
            let mut codes: Vec<&str> = self.refused.iter().map(|(_, c)| c.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            text.push_str(&format!(
                ", {} refused ({})",
                self.refused.len(),
                codes.join(", ")
            ));
        }
        text
    }
}

/// The completion an operator enters by hand (`complete-fa --from FILE`).
pub type CompleteFa = CompletionReport;

impl Engine {
    fn resolve(&self, id: &str) -> Result<(Tag, Seq), EngineError> {
        lookup(self.store.as_ref(), id)?.ok_or_else(|| {
            EngineError::BadInput(format!(
                "unknown id `{id}`: no activity or communication has it"
            ))
        })
    }

    fn resolve_activity(&self, id: &str) -> Result<Seq, EngineError> {
        match self.resolve(id)? {
            (Tag::Activity, seq) => Ok(seq),
            (tag, _) => Err(EngineError::BadInput(format!(
                "{id} is {}, not an activity",
                tag.describe()
            ))),
        }
    }

    /// Division restriction (§9, §12.11): a clerk acts only on activity types of their divisions.
    fn guard_division(&self, actor: &Actor, id: &str) -> Result<(), EngineError> {
        if let Some((Tag::Activity, seq)) = lookup(self.store.as_ref(), id)? {
            let mut a = super::codec::read_activity(self.store.as_ref(), seq)?;
            while let Some(parent) = a.parent {
                a = super::codec::read_activity(self.store.as_ref(), parent)?;
            }
            if !self.visible(actor, &a) {
                return Err(EngineError::refused(
                    "PERMISSION_DENIED",
                    format!(
                        "{id} belongs to a division {} does not work in, so {} may not act on it",
                        actor.operator, actor.operator
                    ),
                ));
            }
        }
        Ok(())
    }

    fn report(&self, seq: Seq) -> Result<ActionReport, EngineError> {
        let a = super::codec::read_activity(self.store.as_ref(), seq)?;
        Ok(ActionReport {
            state: a.state_code().to_string(),
            id: a.id,
        })
    }

    /// Retries an activity in an error state, or replays an inbound message in the error inbox.
    pub fn retry(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
    ) -> Result<ActionReport, EngineError> {
        let (tag, seq) = self.resolve(id)?;
        self.act(
            actor,
            now,
            Capability::Retry,
            "retry",
            &[id.to_string()],
            |flow| {
                match tag {
                    Tag::Comm => flow.retry_inbound_now(seq)?,
                    Tag::WorkOrder => {
                        return Err(EngineError::BadInput(format!(
                            "{id} is {}: retry applies to activities and inbound messages",
                            tag.describe()
                        )))
                    }
                    Tag::Activity => match flow.tx.activity(seq)?.body {
                        Body::Orchestration(_) => flow.retry_orch(seq)?,
                        Body::Maintenance(_) => flow.retry_maint(seq)?,
                        Body::Field(_) | Body::Command(_) => flow.retry_child(seq)?,
                    },
                }
                Ok(((), None))
            },
        )?;
        match tag {
            Tag::Activity | Tag::WorkOrder => self.report(seq),
            Tag::Comm => {
                let c = super::codec::read_comm(self.store.as_ref(), seq)?;
                Ok(ActionReport {
                    id: c.id.clone(),
                    state: c.state_code().to_string(),
                })
            }
        }
    }

    /// Retries each of `ids` (each its own audited action) and reads each back.
    pub fn bulk_retry(
        &mut self,
        actor: &Actor,
        now: Instant,
        ids: &[String],
    ) -> Result<BulkActionReport, EngineError> {
        self.bulk_each(
            ids,
            |engine, id| engine.retry(actor, now, id).map(|_| ()),
            |state| !state.ends_with("_ERROR"),
        )
    }

    /// Discards each of `ids` (each its own audited action) and reads each back.
    pub fn bulk_discard(
        &mut self,
        actor: &Actor,
        now: Instant,
        ids: &[String],
        reason: &str,
    ) -> Result<BulkActionReport, EngineError> {
        self.bulk_each(
            ids,
            |engine, id| engine.discard(actor, now, id, Some(reason)).map(|_| ()),
            |state| state == "DISCARDED",
        )
    }

    fn bulk_each(
        &mut self,
        ids: &[String],
        mut action: impl FnMut(&mut Engine, &str) -> Result<(), EngineError>,
        done: impl Fn(&str) -> bool,
    ) -> Result<BulkActionReport, EngineError> {
        let mut report = BulkActionReport {
            requested: ids.len(),
            ..BulkActionReport::default()
        };
        for id in ids {
            let before = self.transitions_of(id)?;
            match action(self, id) {
                Ok(()) => {}
                Err(EngineError::Refused { code, .. }) => {
                    report.refused.push((id.clone(), code));
                    continue;
                }
                Err(EngineError::BadInput(_)) => {
                    report.refused.push((id.clone(), "UNKNOWN_ID".into()));
                    continue;
                }
                Err(other) => return Err(other),
            }
            // Read back: the item counts once its next transition is in the store.
            let (moved, state) = match self.transitions_of(id)? {
                Some((count, state)) => (before.is_none_or(|(b, _)| count > b), state),
                None => (false, String::new()),
            };
            if moved && done(&state) {
                report.verified.push(id.clone());
            } else {
                report.back_in_error.push(id.clone());
            }
        }
        Ok(report)
    }

    /// How many transitions an activity has logged, and its state.
    fn transitions_of(&self, id: &str) -> Result<Option<(usize, String)>, EngineError> {
        let Some((Tag::Activity, seq)) = lookup(self.store.as_ref(), id)? else {
            return Ok(None);
        };
        let a = super::codec::read_activity(self.store.as_ref(), seq)?;
        let transitions = a.log.iter().filter(|l| l.to.is_some()).count();
        Ok(Some((transitions, a.state_code().to_string())))
    }

    /// Discards an orchestration or maintenance activity.
    pub fn discard(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        reason: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let seq = self.resolve_activity(id)?;
        let text = reason.unwrap_or("discarded by operator").to_string();
        self.act(
            actor,
            now,
            Capability::CancelOrDiscard,
            "discard",
            &[id.to_string()],
            |flow| {
                match flow.tx.activity(seq)?.body {
                    Body::Orchestration(_) => flow.discard_orch(seq, &text)?,
                    Body::Maintenance(_) => flow.discard_maint(seq, &text)?,
                    _ => {
                        return Err(EngineError::refused(
                            "ILLEGAL_TRANSITION",
                            format!("{id} is a child: discard its orchestration, or retry it"),
                        ))
                    }
                }
                Ok(((), Some(text.clone())))
            },
        )?;
        self.report(seq)
    }

    /// Executes a waiting orchestration or command now, bypassing effective date, business
    /// hours and the throttle (§12.7).
    pub fn execute_now(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
    ) -> Result<ActionReport, EngineError> {
        let seq = self.resolve_activity(id)?;
        self.act(
            actor,
            now,
            Capability::ExecuteNow,
            "execute-now",
            &[id.to_string()],
            |flow| {
                match flow.tx.activity(seq)?.body {
                    Body::Orchestration(_) => flow.execute_now_orch(seq)?,
                    Body::Command(_) => flow.execute_now_command(seq)?,
                    _ => {
                        return Err(EngineError::refused(
                            "ILLEGAL_TRANSITION",
                            format!(
                                "{id}: execute-now applies to a waiting orchestration or command"
                            ),
                        ))
                    }
                }
                Ok((
                    (),
                    Some("bypassed the effective date, business hours and the throttle".into()),
                ))
            },
        )?;
        self.report(seq)
    }

    /// Files a Cancel Orchestration for `id` (optionally one child); returns the new id.
    pub fn cancel(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        reason: &str,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let request = MaintenanceRequest {
            activity_type: ActivityType::CancelOrchestration,
            target_id: id.to_string(),
            related_id: related.map(str::to_string),
            cancel_reason: Some(reason.to_string()),
            comments: None,
            start: None,
            requester: actor.operator.clone(),
        };
        self.file(actor, now, Capability::CancelOrDiscard, "cancel", request)
    }

    /// Files an Update Orchestration for `id`; returns the new id.
    pub fn update(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        comments: &str,
        start: Option<Instant>,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let request = MaintenanceRequest {
            activity_type: ActivityType::UpdateOrchestration,
            target_id: id.to_string(),
            related_id: related.map(str::to_string),
            cancel_reason: None,
            comments: Some(comments.to_string()),
            start,
            requester: actor.operator.clone(),
        };
        self.file(actor, now, Capability::Update, "update", request)
    }

    fn file(
        &mut self,
        actor: &Actor,
        now: Instant,
        capability: Capability,
        action: &str,
        request: MaintenanceRequest,
    ) -> Result<ActionReport, EngineError> {
        self.guard_division(actor, &request.target_id)?;
        let mut ids = vec![request.target_id.clone()];
        ids.extend(request.related_id.clone());
        let (seq, new_id) = self.act(actor, now, capability, action, &ids, |flow| {
            let detail = request
                .cancel_reason
                .clone()
                .or_else(|| request.comments.clone());
            let (seq, id) = flow.file_maintenance(request)?;
            Ok(((seq, id.clone()), detail.map(|d| format!("{id}: {d}"))))
        })?;
        let _ = new_id;
        self.report(seq)
    }

    /// Completes a field activity by hand (§3.4, §12.6).
    pub fn complete_fa(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        report: CompleteFa,
    ) -> Result<ActionReport, EngineError> {
        let seq = self.resolve_field(id)?;
        let completion = FieldCompletion {
            status: report.status.code().to_string(),
            at: report.at,
            remarks: report.remarks,
            device: report.device,
            old_device: report.old_device.map(|d| crate::domain::DeviceSpec {
                id: d.id,
                badge: d.badge,
                ..Default::default()
            }),
            readings: report.readings,
            source: None,
        };
        self.act(
            actor,
            now,
            Capability::ManualFieldActivity,
            "complete-fa",
            &[id.to_string()],
            |flow| {
                flow.complete_field_by_hand(seq, completion)?;
                Ok(((), None))
            },
        )?;
        self.report(seq)
    }

    /// Cancels a field activity by hand; the field system is not told (§12.6).
    pub fn cancel_fa(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        reason: &str,
    ) -> Result<ActionReport, EngineError> {
        let seq = self.resolve_field(id)?;
        self.act(
            actor,
            now,
            Capability::ManualFieldActivity,
            "cancel-fa",
            &[id.to_string()],
            |flow| {
                flow.cancel_field_by_hand(seq, reason)?;
                Ok(((), Some(reason.to_string())))
            },
        )?;
        self.report(seq)
    }

    fn resolve_field(&self, id: &str) -> Result<Seq, EngineError> {
        let seq = self.resolve_activity(id)?;
        match super::codec::read_activity(self.store.as_ref(), seq)?.body {
            Body::Field(_) => Ok(seq),
            _ => Err(EngineError::BadInput(format!(
                "{id} is not a field activity"
            ))),
        }
    }

    /// Corrects fields of a request in VALIDATION_ERROR (§5.3, §12.11); the operator retries.
    pub fn edit(
        &mut self,
        actor: &Actor,
        now: Instant,
        id: &str,
        sets: &[(String, String)],
    ) -> Result<ActionReport, EngineError> {
        let seq = self.resolve_activity(id)?;
        self.guard_division(actor, id)?;
        let detail = sets
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.act(
            actor,
            now,
            Capability::Edit,
            "edit",
            &[id.to_string()],
            |flow| {
                let state = match &flow.tx.activity(seq)?.body {
                    Body::Orchestration(o) => o.state,
                    _ => {
                        return Err(EngineError::BadInput(format!(
                            "{id} is not a request orchestration"
                        )))
                    }
                };
                if state != OrchState::ValidationError {
                    return Err(EngineError::refused(
                        "ILLEGAL_TRANSITION",
                        format!(
                            "{id} is {}: fields are corrected in VALIDATION_ERROR",
                            state.code()
                        ),
                    ));
                }
                for (field, value) in sets {
                    apply_edit(flow.orch_mut(seq)?, field, value)?;
                }
                flow.log_note(seq, format!("corrected {detail}"))?;
                Ok(((), Some(detail.clone())))
            },
        )?;
        self.report(seq)
    }
}

/// Applies one `FIELD=VALUE` correction (the editable fields of §5.3).
fn apply_edit(
    o: &mut crate::domain::Orchestration,
    field: &str,
    value: &str,
) -> Result<(), EngineError> {
    let text = || (!value.trim().is_empty()).then(|| value.trim().to_string());
    match field {
        "effective_datetime" => {
            o.effective = if value.trim().is_empty() || value == "null" {
                None
            } else {
                Some(
                    chrono::DateTime::parse_from_rfc3339(value.trim())
                        .map_err(|e| EngineError::BadInput(format!("field `effective_datetime`: {e} (use RFC 3339 with an offset)")))?
                        .with_timezone(&chrono::Utc),
                )
            }
        }
        "sp" | "sp_id" => {
            o.sp_id = text().ok_or_else(|| EngineError::BadInput("field `sp`: must not be empty".into()))?
        }
        "service_agreements" => {
            o.service_agreements = value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        }
        "collection_data.past_due_amount" => {
            o.collection_data.get_or_insert_with(CollectionData::default).past_due_amount = text()
        }
        "collection_data.currency" => o.collection_data.get_or_insert_with(CollectionData::default).currency = text(),
        "collection_data.collection_ref" => {
            o.collection_data.get_or_insert_with(CollectionData::default).collection_ref = text()
        }
        "collection_data.due_date" => o.collection_data.get_or_insert_with(CollectionData::default).due_date = text(),
        "contact.name" => o.contact.get_or_insert_with(Contact::default).name = text(),
        "contact.phone" => o.contact.get_or_insert_with(Contact::default).phone = text(),
        "contact.email" => o.contact.get_or_insert_with(Contact::default).email = text(),
        "comments" => o.comments = text(),
        other => {
            return Err(EngineError::BadInput(format!(
                "field `{other}` cannot be edited; editable: effective_datetime, sp, service_agreements, \
                 collection_data.past_due_amount, collection_data.currency, collection_data.collection_ref, \
                 collection_data.due_date, contact.name, contact.phone, contact.email, comments"
            )))
        }
    }
    Ok(())
}

impl super::flow::Flow<'_, '_> {
    /// An operator's replay of an inbound message in the error inbox.
    fn retry_inbound_now(&mut self, seq: Seq) -> Result<(), EngineError> {
        let c = self.tx.comm(seq)?;
        if c.state_code() != crate::lifecycle::InState::ValidationError.code() {
            return Err(super::flow::not_retryable(&c.id.clone(), c.state_code()));
        }
        self.retry_inbound(seq)
    }
}
