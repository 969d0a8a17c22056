//! Cancel Orchestration and Update Orchestration (§3.2, §12.7, §12.13).
//!
//! `cancel` and `update` always file a maintenance activity; every problem with the target is
//! found in its VALIDATE and lands in VALIDATION_ERROR, retryable. A whole-orchestration Cancel
//! freezes its target's monitors only while it acts (CANCEL_SPECIFIC, COMM_IN_PROGRESS).

use super::{finish_activity_transition, record_transition, Flow};
use crate::domain::{
    Activity, ActivityType, Body, Instant, Maintenance, MessageKind, NotificationKind, RequestInfo,
    Seq, StatusReason, Target,
};
use crate::engine::EngineError;
use crate::lifecycle::{CommandState, LifecycleState, MaintState, OrchState, OutState};
use serde_json::json;

/// What an operator files as a maintenance activity.
#[derive(Debug, Clone)]
pub struct MaintenanceRequest {
    /// Cancel or Update Orchestration.
    pub activity_type: ActivityType,
    /// The orchestration's id.
    pub target_id: String,
    /// One child to act on, if any.
    pub related_id: Option<String>,
    /// Cancel reason (Cancel).
    pub cancel_reason: Option<String>,
    /// Comments (Update).
    pub comments: Option<String>,
    /// New start (Update).
    pub start: Option<Instant>,
    /// Who asked.
    pub requester: String,
}

impl Flow<'_, '_> {
    /// Files a maintenance activity in PENDING (acknowledged); its validation runs on the next
    /// monitor pass.
    pub fn file_maintenance(
        &mut self,
        request: MaintenanceRequest,
    ) -> Result<(Seq, String), EngineError> {
        let seq = self.tx.next_seq();
        let id = self.tx.next_id("MA")?;
        let now = self.now();
        self.tx.insert_activity(Activity {
            seq,
            id: id.clone(),
            parent: None,
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: Some(self.rule_now()),
            excused: false,
            log: Vec::new(),
            body: Body::Maintenance(Maintenance {
                state: MaintState::Pending,
                activity_type: request.activity_type,
                target_id: request.target_id,
                related_id: request.related_id,
                cancel_reason: request.cancel_reason,
                comments: request.comments,
                start: request.start,
                request_info: RequestInfo {
                    requester: request.requester,
                    external_system: "orderdesk".into(),
                    external_id: id.clone(),
                },
                notifications: Vec::new(),
                comms: Vec::new(),
            }),
        });
        self.log_note(seq, "filed".into())?;
        self.notify(seq, NotificationKind::Ack)?;
        Ok((seq, id))
    }

    /// The maintenance body.
    pub fn maint(&mut self, seq: Seq) -> Result<&Maintenance, EngineError> {
        match &self.tx.activity(seq)?.body {
            Body::Maintenance(m) => Ok(m),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not a maintenance activity"
            ))),
        }
    }

    fn maint_mut(&mut self, seq: Seq) -> Result<&mut Maintenance, EngineError> {
        match &mut self.tx.activity_mut(seq)?.body {
            Body::Maintenance(m) => Ok(m),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not a maintenance activity"
            ))),
        }
    }

    /// Moves a maintenance activity.
    pub fn maint_to(
        &mut self,
        seq: Seq,
        to: MaintState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let rule_now = self.rule_now();
        let a = self.tx.activity_mut(seq)?;
        let id = a.id.clone();
        let Body::Maintenance(m) = &mut a.body else {
            return Err(EngineError::Corrupt(format!(
                "{id} is not a maintenance activity"
            )));
        };
        let (from, to) = record_transition(&id, &mut m.state, to)?;
        a.due_at = (to == MaintState::Pending).then_some(rule_now);
        finish_activity_transition(a, now, from.code(), to.code(), reason);
        self.tx.note_transition(&id, from.code(), to.code());
        if !matches!(to, MaintState::CancelSpecific | MaintState::CommInProgress) {
            self.release_target(seq)?;
        }
        match to {
            MaintState::Completed => self.notify(seq, NotificationKind::Success),
            MaintState::Discarded => self.notify(seq, NotificationKind::Failure),
            _ => Ok(()),
        }
    }

    /// Chains a maintenance activity until it rests.
    pub fn run_maint(&mut self, seq: Seq) -> Result<(), EngineError> {
        loop {
            let m = self.maint(seq)?.clone();
            match m.state {
                MaintState::Validate => self.maint_validate(seq)?,
                MaintState::CancelSpecific => self.cancel_specific(seq)?,
                MaintState::UpdateSpecific => self.update_specific(seq)?,
                MaintState::Retry => {
                    // No communication-level retry: the owner's retry cancels what is still
                    // open and sends anew (§12.3).
                    self.cancel_maint_comms(seq)?;
                    self.maint_to(seq, specific_state(m.activity_type), None)?
                }
                _ => return Ok(()),
            }
        }
    }

    /// The target orchestration and the related child, resolved by id.
    fn maint_targets(&mut self, seq: Seq) -> Result<(Option<Seq>, Option<Seq>), EngineError> {
        let m = self.maint(seq)?.clone();
        let target = match self.tx.activity_seq(&m.target_id)? {
            Some(t) if matches!(self.tx.activity(t)?.body, Body::Orchestration(_)) => Some(t),
            _ => None,
        };
        let related = match &m.related_id {
            Some(rid) => self.tx.activity_seq(rid)?,
            None => None,
        };
        Ok((target, related))
    }

    fn maint_validate(&mut self, seq: Seq) -> Result<(), EngineError> {
        match self.maint_check(seq)? {
            Ok(()) => {
                let t = self.maint(seq)?.activity_type;
                self.maint_to(seq, specific_state(t), None)
            }
            Err(reason) => self.maint_to(seq, MaintState::ValidationError, Some(reason)),
        }
    }

    /// The checks of VALIDATE, in the §5.3 order; `COMMAND_IN_FLIGHT` last (§12.13).
    fn maint_check(&mut self, seq: Seq) -> Result<Result<(), StatusReason>, EngineError> {
        let m = self.maint(seq)?.clone();
        let (target, related) = self.maint_targets(seq)?;
        let Some(target) = target else {
            return Ok(Err(StatusReason::with_ref(
                "TARGET_NOT_FOUND",
                &m.target_id,
            )));
        };
        let parent = self.orch(target)?.clone();
        if parent.state.is_final() {
            return Ok(Err(StatusReason::with_ref("TARGET_FINAL", &m.target_id)));
        }
        if let Some(rid) = &m.related_id {
            let Some(child) = related.filter(|&r| self.is_child_of(r, target)) else {
                return Ok(Err(StatusReason::with_ref("TARGET_NOT_CHILD", rid)));
            };
            if self.tx.activity(child)?.is_final() {
                return Ok(Err(StatusReason::with_ref("TARGET_FINAL", rid)));
            }
        }
        let cancel = m.activity_type == ActivityType::CancelOrchestration;
        if cancel
            && m.cancel_reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
        {
            return Ok(Err(StatusReason::code("MISSING_CANCEL_REASON")));
        }
        if !cancel && m.comments.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Ok(Err(StatusReason::code("MISSING_COMMENTS")));
        }
        if !cancel {
            let updatable = match related {
                Some(child) => match &self.tx.activity(child)?.body {
                    Body::Command(c) => c.state == CommandState::WaitEff,
                    _ => true,
                },
                None => matches!(
                    parent.state,
                    OrchState::Pending | OrchState::ValidationError | OrchState::WaitEffDate
                ),
            };
            if !updatable {
                return Ok(Err(StatusReason::code("NOT_UPDATABLE")));
            }
            return Ok(Ok(()));
        }
        if let Some(command) = self.targeted_command_in_flight(seq)? {
            return Ok(Err(StatusReason::with_ref("COMMAND_IN_FLIGHT", &command)));
        }
        Ok(Ok(()))
    }

    /// A command the Cancel targets that awaits the head-end: it cannot be recalled (§12.13).
    fn targeted_command_in_flight(&mut self, seq: Seq) -> Result<Option<String>, EngineError> {
        let victims = match self.maint_targets(seq)? {
            (_, Some(child)) => vec![child],
            (Some(target), None) => self.tx.child_activities(target)?,
            (None, None) => Vec::new(),
        };
        for v in victims {
            let a = self.tx.activity(v)?;
            if let Body::Command(c) = &a.body {
                if c.state == CommandState::CommInProgress {
                    return Ok(Some(a.id.clone()));
                }
            }
        }
        Ok(None)
    }

    fn is_child_of(&mut self, child: Seq, parent: Seq) -> bool {
        self.tx
            .activity(child)
            .map(|a| a.parent == Some(parent))
            .unwrap_or(false)
    }

    /// True when a field activity's `fa_create` has gone out and is not yet answered.
    fn field_was_sent(&mut self, fa: Seq) -> Result<bool, EngineError> {
        let Some(comm) = self.field(fa)?.comm else {
            return Ok(false);
        };
        let state = self.outbound(comm)?.state;
        Ok(matches!(
            state,
            OutState::AwaitingResponse | OutState::ResponseError
        ))
    }

    fn cancel_specific(&mut self, seq: Seq) -> Result<(), EngineError> {
        let (Some(target), related) = self.maint_targets(seq)? else {
            return self.maint_to(
                seq,
                MaintState::CommError,
                Some(StatusReason::code("TARGET_NOT_FOUND")),
            );
        };
        let reason = self.maint(seq)?.cancel_reason.clone().unwrap_or_default();
        let victims = match related {
            Some(child) => vec![child],
            None => {
                self.orch_mut(target)?.frozen_by = Some(seq);
                self.tx.child_activities(target)?
            }
        };
        let mut sent = Vec::new();
        for v in victims {
            if self.tx.activity(v)?.is_final() {
                continue;
            }
            let is_field = matches!(self.tx.activity(v)?.body, Body::Field(_));
            if is_field && self.field_was_sent(v)? {
                let fa_id = self.id_of(v)?;
                let external_id = self.field(v)?.external_id.clone();
                let payload =
                    json!({ "fa": fa_id, "external_id": external_id, "cancel_reason": reason });
                let comm =
                    self.send_outbound(seq, Target::FieldWork, MessageKind::FaCancel, payload)?;
                self.field_mut(v)?.cancel_by = Some(seq);
                sent.push(comm);
            } else {
                self.reject_child(v, true)?;
            }
        }
        if sent.is_empty() {
            return self.finish_cancel(seq);
        }
        self.maint_mut(seq)?.comms = sent;
        self.maint_to(seq, MaintState::CommInProgress, None)
    }

    /// Every targeted child is final: discard the orchestration (whole cancel) or mark the
    /// skipped kind (one child), then complete the Cancel.
    fn finish_cancel(&mut self, seq: Seq) -> Result<(), EngineError> {
        let (Some(target), related) = self.maint_targets(seq)? else {
            return self.maint_to(seq, MaintState::Completed, None);
        };
        let reason = self.maint(seq)?.cancel_reason.clone().unwrap_or_default();
        match related {
            None => {
                if !self.orch(target)?.state.is_final() {
                    self.orch_mut(target)?.frozen_by = None;
                    self.orch_to(
                        target,
                        OrchState::Discarded,
                        Some(StatusReason::code(&reason)),
                    )?;
                }
            }
            Some(child) => {
                let kind = self.tx.activity(child)?.child_kind();
                self.orch_mut(target)?.skip_kind = kind;
                self.child_finished(child)?;
            }
        }
        self.maint_to(seq, MaintState::Completed, None)
    }

    fn update_specific(&mut self, seq: Seq) -> Result<(), EngineError> {
        let m = self.maint(seq)?.clone();
        let (Some(target), related) = self.maint_targets(seq)? else {
            return self.maint_to(
                seq,
                MaintState::CommError,
                Some(StatusReason::code("TARGET_NOT_FOUND")),
            );
        };
        match related {
            None => {
                let o = self.orch_mut(target)?;
                if let Some(start) = m.start {
                    o.effective = Some(start);
                }
                o.comments = m.comments.clone();
                self.schedule_orch(target)?;
                let id = m.request_info.external_id.clone();
                self.log_note(target, format!("updated by {id}"))?;
            }
            Some(child) => match self.tx.activity(child)?.body.clone() {
                Body::Field(_) if self.field_was_sent(child)? => {
                    let payload = json!({
                        "fa": self.id_of(child)?,
                        "external_id": self.field(child)?.external_id,
                        "instructions": m.comments,
                        "start": m.start,
                    });
                    let comm =
                        self.send_outbound(seq, Target::FieldWork, MessageKind::FaModify, payload)?;
                    self.maint_mut(seq)?.comms = vec![comm];
                    return self.maint_to(seq, MaintState::CommInProgress, None);
                }
                Body::Field(_) => self.patch_field(child, m.comments.clone(), m.start)?,
                Body::Command(c) => {
                    if let Some(start) = m.start {
                        self.command_mut(child)?.effective = start;
                        if !c.throttled {
                            self.tx.activity_mut(child)?.due_at = Some(start);
                        }
                    }
                }
                _ => {}
            },
        }
        self.maint_to(seq, MaintState::Completed, None)
    }

    fn patch_field(
        &mut self,
        fa: Seq,
        comments: Option<String>,
        start: Option<Instant>,
    ) -> Result<(), EngineError> {
        let f = self.field_mut(fa)?;
        if comments.is_some() {
            f.instructions = comments;
        }
        if let Some(start) = start {
            f.effective = start;
        }
        self.log_note(fa, "instructions updated".into())
    }

    /// The field work system acknowledged a maintenance activity's `fa_cancel` or `fa_modify`
    /// (the ack is the response, §12.3); the communication is already COMPLETED.
    pub fn maint_comm_answered(&mut self, comm: Seq) -> Result<(), EngineError> {
        let out = self.outbound(comm)?.clone();
        let owner = out.owner;
        let fa = match out.payload.get("fa").and_then(|v| v.as_str()) {
            Some(fa_id) => self.tx.activity_seq(fa_id)?,
            None => None,
        };
        let m = self.maint(owner)?.clone();
        match (out.message, fa) {
            (MessageKind::FaCancel, Some(fa)) if !self.tx.activity(fa)?.is_final() => {
                self.field_mut(fa)?.cancel_by = None;
                self.cancel_open_comm(fa)?;
                self.tx.activity_mut(fa)?.excused = true;
                let reason = m.cancel_reason.clone().unwrap_or_default();
                self.field_to(
                    fa,
                    crate::lifecycle::FaState::Cancelled,
                    Some(StatusReason::code(&reason)),
                )?;
            }
            (MessageKind::FaModify, Some(fa)) => {
                let comments = out
                    .payload
                    .get("instructions")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                let start = out
                    .payload
                    .get("start")
                    .and_then(|v| serde_json::from_value::<Instant>(v.clone()).ok());
                self.patch_field(fa, comments, start)?;
            }
            _ => {}
        }
        if m.state != MaintState::CommInProgress {
            return Ok(());
        }
        for c in &m.comms {
            if self.outbound(*c)?.state != OutState::Completed {
                return Ok(());
            }
        }
        match m.activity_type {
            ActivityType::CancelOrchestration => self.finish_cancel(owner),
            _ => self.maint_to(owner, MaintState::Completed, None),
        }
    }

    /// A maintenance activity's communication faulted or timed out: only that activity goes to
    /// COMM_ERROR (§12.3).
    pub fn maint_comm_failed(&mut self, seq: Seq, reason: StatusReason) -> Result<(), EngineError> {
        self.maint_to(seq, MaintState::CommError, Some(reason))
    }

    /// A targeted field activity completed before the cancel was acknowledged (§12.7).
    pub fn cancel_target_completed(&mut self, cancel: Seq, fa: Seq) -> Result<(), EngineError> {
        if self.maint(cancel)?.state != MaintState::CommInProgress {
            return Ok(());
        }
        let fa_id = self.id_of(fa)?;
        for comm in self.maint(cancel)?.comms.clone() {
            let payload_fa = self
                .outbound(comm)?
                .payload
                .get("fa")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if payload_fa.as_deref() == Some(fa_id.as_str())
                && !self.outbound(comm)?.state.is_final()
            {
                self.comm_to(comm, OutState::Cancelled, None)?;
            }
        }
        self.maint_to(
            cancel,
            MaintState::CommError,
            Some(StatusReason::with_ref("TARGET_COMPLETED", &fa_id)),
        )
    }

    /// Lets go of a frozen target when the Cancel stops acting on it.
    fn release_target(&mut self, seq: Seq) -> Result<(), EngineError> {
        if let (Some(target), None) = self.maint_targets(seq)? {
            self.unfreeze(target, seq)?;
        }
        Ok(())
    }

    /// Operator retry of a maintenance activity.
    pub fn retry_maint(&mut self, seq: Seq) -> Result<(), EngineError> {
        let to = match self.maint(seq)?.state {
            MaintState::ValidationError => MaintState::Validate,
            MaintState::CommError => {
                // RETRY returns to CANCEL_SPECIFIC past VALIDATE's in-flight check, so the
                // retry itself is refused while a targeted command is in flight (§12.7).
                let cancel = self.maint(seq)?.activity_type == ActivityType::CancelOrchestration;
                if let Some(command) = self.targeted_command_in_flight(seq)?.filter(|_| cancel) {
                    return Err(EngineError::refused(
                        "COMMAND_IN_FLIGHT",
                        format!("{command} is awaiting the head-end; its result may still come"),
                    ));
                }
                MaintState::Retry
            }
            other => {
                return Err(super::orchestration::not_retryable(
                    &self.id_of(seq)?,
                    other.code(),
                ))
            }
        };
        self.maint_to(seq, to, None)?;
        self.run_maint(seq)
    }

    /// Operator discard of a maintenance activity.
    pub fn discard_maint(&mut self, seq: Seq, text: &str) -> Result<(), EngineError> {
        let state = self.maint(seq)?.state;
        if !state.allows(MaintState::Discarded) {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{} is {} and cannot be discarded",
                    self.id_of(seq)?,
                    state.code()
                ),
            ));
        }
        // A final owner leaves no communication open (§12.3).
        self.cancel_maint_comms(seq)?;
        self.maint_to(
            seq,
            MaintState::Discarded,
            Some(StatusReason::with_text("DISCARDED_BY_USER", text)),
        )
    }

    /// Cancels the maintenance activity's communications that are still open (§12.3).
    fn cancel_maint_comms(&mut self, seq: Seq) -> Result<(), EngineError> {
        for comm in self.maint(seq)?.comms.clone() {
            if !self.outbound(comm)?.state.is_final() {
                self.comm_to(comm, OutState::Cancelled, None)?;
            }
        }
        Ok(())
    }
}

fn specific_state(t: ActivityType) -> MaintState {
    if t == ActivityType::CancelOrchestration {
        MaintState::CancelSpecific
    } else {
        MaintState::UpdateSpecific
    }
}
