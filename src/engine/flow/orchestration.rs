//! The parent orchestration lifecycle (§3.1): Validate, Waiting for Effective Date, the
//! "Are SP and Device Ready?" loop, Activity in Progress with its monitors, and the operator's
//! retry, discard and execute-now.

use super::{finish_activity_transition, record_transition, Flow};
use crate::domain::{
    ActivityType, Body, ChildKind, Device, NotificationKind, Orchestration, Seq, StatusReason,
};
use crate::engine::EngineError;
use crate::lifecycle::{
    plan_pass, validate_request, ChildSpec, CommandState, FaState, LifecycleState, OrchState,
    OutState, Plan, Snapshot,
};
use crate::store::TreeId;
use chrono::Duration;

impl Flow<'_, '_> {
    /// The orchestration body of an activity.
    pub fn orch(&mut self, seq: Seq) -> Result<&Orchestration, EngineError> {
        match &self.tx.activity(seq)?.body {
            Body::Orchestration(o) => Ok(o),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not an orchestration"
            ))),
        }
    }

    /// The orchestration body of an activity, to change.
    pub fn orch_mut(&mut self, seq: Seq) -> Result<&mut Orchestration, EngineError> {
        match &mut self.tx.activity_mut(seq)?.body {
            Body::Orchestration(o) => Ok(o),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not an orchestration"
            ))),
        }
    }

    /// Moves an orchestration to `to`, with its exit and non-chaining enter behaviours.
    pub fn orch_to(
        &mut self,
        seq: Seq,
        to: OrchState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let a = self.tx.activity_mut(seq)?;
        let id = a.id.clone();
        let Body::Orchestration(o) = &mut a.body else {
            return Err(EngineError::Corrupt(format!(
                "{id} is not an orchestration"
            )));
        };
        let (from, to) = record_transition(&id, &mut o.state, to)?;
        if from == OrchState::InProgress {
            // Reset on every exit, so each pass gets a fresh allowance (§5.1).
            o.expiration = None;
        }
        finish_activity_transition(a, now, from.code(), to.code(), reason);
        self.tx.note_transition(&id, from.code(), to.code());
        match to {
            OrchState::Completed => self.notify(seq, NotificationKind::Success)?,
            OrchState::Discarded => self.notify(seq, NotificationKind::Failure)?,
            _ => {}
        }
        self.schedule_orch(seq)
    }

    /// Sets the orchestration's next monitor time from its state.
    pub fn schedule_orch(&mut self, seq: Seq) -> Result<(), EngineError> {
        let rule_now = self.rule_now();
        let a = self.tx.activity_mut(seq)?;
        let Body::Orchestration(o) = &a.body else {
            return Ok(());
        };
        a.due_at = match o.state {
            OrchState::Pending => Some(rule_now),
            OrchState::WaitEffDate => o.effective,
            // Expiration fires when now > expiration, at minute resolution (§12.1).
            OrchState::InProgress => o.expiration.map(|e| e + Duration::minutes(1)),
            _ => None,
        };
        Ok(())
    }

    /// Chains an orchestration's enter algorithms until it rests (§12.2).
    pub fn run_orch(&mut self, seq: Seq) -> Result<(), EngineError> {
        loop {
            match self.orch(seq)?.state {
                OrchState::Validate => self.orch_validate(seq)?,
                OrchState::AreSpReady => self.are_sp_ready(seq)?,
                OrchState::Retry => self.orch_to(seq, OrchState::AreSpReady, None)?,
                _ => return Ok(()),
            }
        }
    }

    fn orch_validate(&mut self, seq: Seq) -> Result<(), EngineError> {
        let o = self.orch(seq)?.clone();
        let sp = self.tx.sp(&o.sp_id)?.cloned();
        let duplicate = self.earlier_same_sp(seq, &o, |other| other == o.activity_type)?;
        if let Err(reason) = validate_request(&o, sp.as_ref(), duplicate.as_deref()) {
            return self.orch_to(seq, OrchState::ValidationError, Some(reason));
        }
        self.note_conflicts(seq, &o)?;
        if o.activity_type == ActivityType::ReconnectForPayment {
            self.supersede_cuts(seq, &o)?;
        }
        match o.effective {
            Some(eff) if eff > self.rule_now() => self.orch_to(seq, OrchState::WaitEffDate, None),
            _ => self.orch_to(seq, OrchState::AreSpReady, None),
        }
    }

    /// The id of an earlier (smaller sequence) non-final orchestration on the same service
    /// point whose type satisfies `matches` (§5.2).
    fn earlier_same_sp(
        &mut self,
        seq: Seq,
        o: &Orchestration,
        matches: impl Fn(ActivityType) -> bool,
    ) -> Result<Option<String>, EngineError> {
        for other in self.tx.indexed_by_text(TreeId::BySp, &o.sp_id)? {
            if other >= seq {
                continue;
            }
            let a = self.tx.activity(other)?;
            if let Body::Orchestration(x) = &a.body {
                if x.sp_id == o.sp_id && matches(x.activity_type) && !x.state.is_final() {
                    return Ok(Some(a.id.clone()));
                }
            }
        }
        Ok(None)
    }

    /// Every other non-final orchestration on the same service point.
    fn others_on_sp(&mut self, seq: Seq, sp_id: &str) -> Result<Vec<Seq>, EngineError> {
        let mut found = Vec::new();
        for other in self.tx.indexed_by_text(TreeId::BySp, sp_id)? {
            if other == seq {
                continue;
            }
            if let Body::Orchestration(x) = &self.tx.activity(other)?.body {
                if x.sp_id == sp_id && !x.state.is_final() {
                    found.push(other);
                }
            }
        }
        Ok(found)
    }

    /// Logs a warning (not an error) for an opposing request on the same SP (§5.2).
    fn note_conflicts(&mut self, seq: Seq, o: &Orchestration) -> Result<(), EngineError> {
        let Some(opposite) = opposing(o.activity_type) else {
            return Ok(());
        };
        for other in self.others_on_sp(seq, &o.sp_id)? {
            let a = self.tx.activity(other)?;
            let other_id = a.id.clone();
            if a.activity_type() == Some(opposite) {
                let warning = format!("conflicts with {other_id} ({})", opposite.label());
                let mine = self.orch_mut(seq)?;
                if !mine.warnings.contains(&warning) {
                    mine.warnings.push(warning.clone());
                    self.log_note(seq, format!("warning: {warning}"))?;
                }
            }
        }
        Ok(())
    }

    /// A Reconnect that passes Validate flags every non-final CNP on its SP (§12.7).
    fn supersede_cuts(&mut self, seq: Seq, o: &Orchestration) -> Result<(), EngineError> {
        let me = self.id_of(seq)?;
        for other in self.others_on_sp(seq, &o.sp_id)? {
            if self.tx.activity(other)?.activity_type() == Some(ActivityType::CutForNonPayment) {
                self.orch_mut(other)?.superseded_by = Some(me.clone());
                self.log_note(
                    other,
                    format!("superseded by {me}: an operator decides whether to cancel it"),
                )?;
            }
        }
        Ok(())
    }

    /// One pass of "Are SP and Device Ready?" (§2.2).
    fn are_sp_ready(&mut self, seq: Seq) -> Result<(), EngineError> {
        let activity_type = self.orch(seq)?.activity_type;
        let max_passes = self.config.type_config(activity_type).max_passes;
        let pass = {
            let o = self.orch_mut(seq)?;
            o.pass += 1;
            o.pass
        };
        if pass > max_passes {
            return self.orch_to(
                seq,
                OrchState::ActivityError,
                Some(StatusReason::code("NO_PROGRESS")),
            );
        }
        let o = self.orch(seq)?.clone();
        let Some(sp) = self.tx.sp(&o.sp_id)?.cloned() else {
            return self.orch_to(
                seq,
                OrchState::ActivityError,
                Some(StatusReason::with_ref("SP_NOT_FOUND", &o.sp_id)),
            );
        };
        let device = self.load_device(sp.device.as_deref())?;
        let old_id = o.exchange.as_ref().and_then(|x| x.old_device_id.clone());
        let old_device = self.load_device(old_id.as_deref())?;
        let snapshot = Snapshot {
            sp: &sp,
            device: device.as_ref(),
            old_device: old_device.as_ref(),
        };
        let plan = plan_pass(&o, &snapshot, self.config.throttle_allowed());
        let (children, updates) = match plan {
            Plan::Complete => return self.complete_orch(seq),
            Plan::Error(code) => {
                return self.orch_to(
                    seq,
                    OrchState::ActivityError,
                    Some(StatusReason::code(code)),
                )
            }
            Plan::Children(children, updates) => (children, updates),
        };
        {
            let o = self.orch_mut(seq)?;
            if let Some(x) = o.exchange.as_mut() {
                if let Some(flag) = updates.connect_new_device {
                    x.connect_new_device.get_or_insert(flag);
                }
                if let Some(flag) = updates.old_was_smart_commissioned {
                    x.old_was_smart_commissioned = flag;
                }
            }
        }
        let skip = o.skip_kind;
        let children: Vec<ChildSpec> = children
            .into_iter()
            .filter(|c| Some(c.kind()) != skip)
            .collect();
        if children.is_empty() {
            return self.complete_orch(seq);
        }
        self.orch_to(seq, OrchState::InProgress, None)?;
        let mut created = Vec::with_capacity(children.len());
        for spec in &children {
            created.push(self.create_child(seq, &o, &sp, spec)?);
        }
        self.set_expiration(seq, &created)?;
        // Children run their chains after the parent has entered IN_PROGRESS (§12.13).
        for child in created {
            self.run_child(child)?;
        }
        Ok(())
    }

    fn load_device(&mut self, id: Option<&str>) -> Result<Option<Device>, EngineError> {
        match id {
            Some(id) => Ok(self.tx.device(id)?.cloned()),
            None => Ok(None),
        }
    }

    /// COMPLETED, recording `PARTIAL(kind)` when a cancelled kind was skipped (§12.7).
    fn complete_orch(&mut self, seq: Seq) -> Result<(), EngineError> {
        let reason = self
            .orch(seq)?
            .skip_kind
            .map(|kind| StatusReason::with_ref("PARTIAL", &kind.to_string()));
        self.hand_over_sp(seq)?;
        self.orch_to(seq, OrchState::Completed, reason)
    }

    /// A completing Back-to-Back passes its service point to the incoming customer and account
    /// (§2.2 B5), in the same transaction, so the next request there is stamped with them.
    fn hand_over_sp(&mut self, seq: Seq) -> Result<(), EngineError> {
        let o = self.orch(seq)?;
        if o.activity_type != ActivityType::BackToBack {
            return Ok(());
        }
        let sp_id = o.sp_id.clone();
        let b2b = o.back_to_back.clone().unwrap_or_default();
        let Some(customer) = b2b.incoming_customer else {
            return Ok(());
        };
        // Without a named account the incoming customer's first one is served.
        let account = match b2b.incoming_account {
            Some(account) => Some(account),
            None => self
                .tx
                .customer(&customer)?
                .and_then(|c| c.billing_accounts.first().cloned()),
        };
        let Some(sp) = self.tx.sp_mut(&sp_id)? else {
            return Ok(());
        };
        sp.customer = Some(customer.clone());
        sp.account = account.clone();
        let to = match account {
            Some(account) => format!("{customer} ({account})"),
            None => customer,
        };
        self.log_note(seq, format!("{sp_id} passes to {to}"))
    }

    /// Expiration = max(entry, latest effective time of the new children) + expiration days
    /// (§12.7); 0 days means never.
    fn set_expiration(&mut self, seq: Seq, children: &[Seq]) -> Result<(), EngineError> {
        let activity_type = self.orch(seq)?.activity_type;
        let days = self.config.type_config(activity_type).expiration_days;
        let mut start = self.rule_now();
        for &child in children {
            if let Some(eff) = self.child_effective(child)? {
                start = start.max(eff);
            }
        }
        let expiration = (days > 0).then(|| start + Duration::days(i64::from(days)));
        self.orch_mut(seq)?.expiration = expiration;
        self.schedule_orch(seq)
    }

    /// The monitors of IN_PROGRESS: all children final, then expiration (§3.1, §12.7).
    pub fn monitor_in_progress(&mut self, seq: Seq) -> Result<(), EngineError> {
        let o = self.orch(seq)?.clone();
        if o.frozen_by.is_some() {
            // A Cancel is acting on this orchestration: it must not re-create what is being
            // cancelled. The Cancel pokes it when it lets go.
            self.tx.activity_mut(seq)?.due_at = None;
            return Ok(());
        }
        let mut all_final = true;
        let mut not_completed = None;
        for child in self.tx.child_activities(seq)? {
            let a = self.tx.activity(child)?;
            if !a.is_final() {
                all_final = false;
                break;
            }
            let failed = matches!(a.state_code(), "CANCELLED" | "DISCARDED");
            if failed && !a.excused && not_completed.is_none() {
                not_completed = Some(a.id.clone());
            }
        }
        if all_final {
            return match not_completed {
                Some(child) => self.orch_to(
                    seq,
                    OrchState::ActivityError,
                    Some(StatusReason::with_ref("CHILD_NOT_COMPLETED", &child)),
                ),
                None => {
                    self.orch_to(seq, OrchState::AreSpReady, None)?;
                    self.run_orch(seq)
                }
            };
        }
        if o.expiration.is_some_and(|e| self.rule_now() > e) {
            return self.orch_to(
                seq,
                OrchState::ActivityError,
                Some(StatusReason::code("EXPIRED")),
            );
        }
        self.schedule_orch(seq)
    }

    /// The monitor of WAIT_EFF_DATE.
    pub fn monitor_wait_eff_date(&mut self, seq: Seq) -> Result<(), EngineError> {
        let effective = self.orch(seq)?.effective;
        if effective.is_none_or(|e| self.rule_now() >= e) {
            self.orch_to(seq, OrchState::AreSpReady, None)?;
            return self.run_orch(seq);
        }
        self.schedule_orch(seq)
    }

    /// The child-error hook (§12.13): a parent in IN_PROGRESS goes to ACTIVITY_ERROR; a parent
    /// already in ACTIVITY_ERROR only logs it.
    pub fn child_failed(&mut self, child: Seq) -> Result<(), EngineError> {
        let a = self.tx.activity(child)?;
        let (Some(parent), child_id, state) = (a.parent, a.id.clone(), a.state_code()) else {
            return Ok(());
        };
        match self.orch(parent)?.state {
            OrchState::InProgress => self.orch_to(
                parent,
                OrchState::ActivityError,
                Some(StatusReason::with_ref("CHILD_ERROR", &child_id)),
            ),
            _ => self.log_note(parent, format!("child {child_id} entered {state}")),
        }
    }

    /// A child became final: the parent's "all children final" monitor looks at the next pass.
    pub fn child_finished(&mut self, child: Seq) -> Result<(), EngineError> {
        let Some(parent) = self.tx.activity(child)?.parent else {
            return Ok(());
        };
        let rule_now = self.rule_now();
        let a = self.tx.activity_mut(parent)?;
        if let Body::Orchestration(o) = &a.body {
            if o.state == OrchState::InProgress && o.frozen_by.is_none() {
                a.due_at = Some(a.due_at.map_or(rule_now, |d| d.min(rule_now)));
            }
        }
        Ok(())
    }

    /// Operator Retry on an orchestration (§3.1, §5.4, §12.7).
    pub fn retry_orch(&mut self, seq: Seq) -> Result<(), EngineError> {
        match self.orch(seq)?.state {
            OrchState::ValidationError => {
                self.orch_to(seq, OrchState::Validate, None)?;
                self.run_orch(seq)
            }
            OrchState::ActivityError => {
                self.guard_in_flight(seq)?;
                if let Some(cancel) = self.orch(seq)?.frozen_by {
                    // A re-plan would re-create what the Cancel is cancelling (§12.7).
                    return Err(EngineError::refused(
                        "AWAITING_FIELD_RESPONSE",
                        format!(
                            "{} is cancelling this orchestration and awaits the field work system: wait for its answer",
                            self.id_of(cancel)?
                        ),
                    ));
                }
                if let Some(fa) = self.field_out_in_field(seq, &[OutState::AwaitingResponse])? {
                    return Err(EngineError::refused(
                        "AWAITING_FIELD_RESPONSE",
                        format!(
                            "{fa} is out in the field and its response is awaited: complete or cancel it, or wait"
                        ),
                    ));
                }
                self.orch_to(seq, OrchState::Retry, None)?;
                self.reject_children(seq)?;
                let o = self.orch_mut(seq)?;
                o.pass = 0;
                o.skip_kind = None;
                self.run_orch(seq)
            }
            other => Err(not_retryable(&self.id_of(seq)?, other.code())),
        }
    }

    /// Operator Discard on an orchestration (§3.1, §12.7).
    pub fn discard_orch(&mut self, seq: Seq, text: &str) -> Result<(), EngineError> {
        let state = self.orch(seq)?.state;
        let id = self.id_of(seq)?;
        if !state.allows(OrchState::Discarded) {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!("{id} is {} and cannot be discarded", state.code()),
            ));
        }
        self.guard_in_flight(seq)?;
        let reached = [OutState::AwaitingResponse, OutState::Completed];
        if let Some(fa) = self.field_out_in_field(seq, &reached)? {
            return Err(EngineError::refused(
                "NEEDS_CANCEL_ACTIVITY",
                format!(
                    "{fa} has reached the field work system: file a Cancel Orchestration instead"
                ),
            ));
        }
        self.reject_children(seq)?;
        self.orch_to(
            seq,
            OrchState::Discarded,
            Some(StatusReason::with_text("DISCARDED_BY_USER", text)),
        )
    }

    /// Operator execute-now on a parent waiting for its effective date (§12.7, §12.13).
    pub fn execute_now_orch(&mut self, seq: Seq) -> Result<(), EngineError> {
        let state = self.orch(seq)?.state;
        if state != OrchState::WaitEffDate {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{} is {}: execute-now applies to WAIT_EFF_DATE",
                    self.id_of(seq)?,
                    state.code()
                ),
            ));
        }
        let now = self.rule_now();
        self.orch_mut(seq)?.effective = Some(now);
        self.orch_to(seq, OrchState::AreSpReady, None)?;
        self.run_orch(seq)
    }

    /// `COMMAND_IN_FLIGHT` while a child command awaits the head-end (§12.7).
    fn guard_in_flight(&mut self, seq: Seq) -> Result<(), EngineError> {
        for child in self.tx.child_activities(seq)? {
            let a = self.tx.activity(child)?;
            if let Body::Command(c) = &a.body {
                if c.state == CommandState::CommInProgress {
                    return Err(EngineError::refused(
                        "COMMAND_IN_FLIGHT",
                        format!(
                            "{} is awaiting the head-end; its result may still come",
                            a.id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The first non-final child field activity whose `fa_create` is in one of `states`.
    fn field_out_in_field(
        &mut self,
        seq: Seq,
        states: &[OutState],
    ) -> Result<Option<String>, EngineError> {
        for child in self.tx.child_activities(seq)? {
            let a = self.tx.activity(child)?;
            let (id, comm) = match &a.body {
                Body::Field(f) if !f.state.is_final() => (a.id.clone(), f.comm),
                _ => continue,
            };
            if let Some(comm) = comm {
                let out_state = self.tx.comm(comm)?.outbound().map(|o| o.state);
                if out_state.is_some_and(|s| states.contains(&s)) {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// Moves every non-final child to its Reject state and excuses every failed child, so the
    /// next pass re-derives what is needed (§5.4).
    fn reject_children(&mut self, seq: Seq) -> Result<(), EngineError> {
        for child in self.tx.child_activities(seq)? {
            if !self.tx.activity(child)?.is_final() {
                self.reject_child(child, false)?;
            }
            let a = self.tx.activity(child)?;
            if matches!(a.state_code(), "CANCELLED" | "DISCARDED") && !a.excused {
                self.tx.activity_mut(child)?.excused = true;
            }
        }
        Ok(())
    }

    /// Releases a parent frozen by a Cancel and lets its monitors look again.
    pub fn unfreeze(&mut self, parent: Seq, cancel: Seq) -> Result<(), EngineError> {
        let rule_now = self.rule_now();
        let a = self.tx.activity_mut(parent)?;
        if let Body::Orchestration(o) = &mut a.body {
            if o.frozen_by == Some(cancel) {
                o.frozen_by = None;
                if o.state == OrchState::InProgress {
                    a.due_at = Some(rule_now);
                }
            }
        }
        Ok(())
    }

    /// Sets a flag on the parent when a child's completion means a step is done (§12.13).
    pub fn mark_step_done(&mut self, child: Seq) -> Result<(), EngineError> {
        let a = self.tx.activity(child)?.clone();
        let Some(parent) = a.parent else {
            return Ok(());
        };
        let o = self.orch_mut(parent)?;
        match a.child_kind() {
            Some(ChildKind::Field(task))
                if task.effect() == crate::domain::TaskEffect::Exchange =>
            {
                if let Some(x) = o.exchange.as_mut() {
                    x.exchange_done = true;
                }
            }
            Some(ChildKind::Field(task)) if task.effect() == crate::domain::TaskEffect::Read => {
                if let Some(b) = o.back_to_back.as_mut() {
                    b.read_done = true;
                }
            }
            Some(ChildKind::Command(crate::domain::CommandKind::OnDemandRead)) => {
                if let Some(b) = o.back_to_back.as_mut() {
                    b.read_done = true;
                }
            }
            Some(ChildKind::Command(crate::domain::CommandKind::Decommission)) => {
                if let (Some(x), Body::Command(c)) = (o.exchange.as_mut(), &a.body) {
                    if x.old_device_id.as_deref() == Some(c.device_id.as_str()) {
                        x.old_decommissioned = true;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// True when this field activity is in a state an operator may complete or cancel.
    pub fn fa_manual_allowed(state: FaState) -> bool {
        matches!(
            state,
            FaState::CommInProgress | FaState::CommError | FaState::CompletionError
        )
    }
}

/// The type that opposes `t` on the same SP (CNP vs Reconnect, Enable vs Disable).
fn opposing(t: ActivityType) -> Option<ActivityType> {
    match t {
        ActivityType::CutForNonPayment => Some(ActivityType::ReconnectForPayment),
        ActivityType::ReconnectForPayment => Some(ActivityType::CutForNonPayment),
        ActivityType::EnableService => Some(ActivityType::DisableService),
        ActivityType::DisableService => Some(ActivityType::EnableService),
        _ => None,
    }
}

/// The refusal for a retry in a state that has none.
pub fn not_retryable(id: &str, state: &str) -> EngineError {
    EngineError::refused(
        "ILLEGAL_TRANSITION",
        format!("{id} is {state}: retry applies to an activity in an error state"),
    )
}
