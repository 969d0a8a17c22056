//! Children of an orchestration: field activities (§3.4) and smart meter commands (§3.3),
//! their chains, completion events, and the operator's actions on them.

use super::{finish_activity_transition, record_transition, Flow};
use crate::domain::{
    Activity, ActivityType, Body, Command, CommandKind, CompletionEvent, EventKind, FieldActivity,
    FieldCompletion, Instant, Orchestration, Seq, ServicePoint, StatusReason, Switch,
};
use crate::engine::EngineError;
use crate::lifecycle::{
    command_events, field_events, validate_command, validate_field, ChildSpec, CommandState,
    EventState, FaState, LifecycleState,
};
use crate::store::TreeId;

impl Flow<'_, '_> {
    /// Creates a child in PENDING for `spec` and logs it on the parent.
    pub fn create_child(
        &mut self,
        parent: Seq,
        o: &Orchestration,
        sp: &ServicePoint,
        spec: &ChildSpec,
    ) -> Result<Seq, EngineError> {
        let base = o
            .effective
            .map_or(self.rule_now(), |e| e.max(self.rule_now()));
        let seq = self.tx.next_seq();
        let (prefix, body) = match spec {
            ChildSpec::Field(task) => (
                "FA",
                Body::Field(FieldActivity {
                    state: FaState::Pending,
                    task: *task,
                    sp_id: sp.id.clone(),
                    device_id: sp.device.clone(),
                    address: sp.address.clone(),
                    effective: base,
                    instructions: o.comments.clone(),
                    external_id: None,
                    interim: None,
                    comm: None,
                    completion: None,
                    events: Vec::new(),
                    cancel_by: None,
                }),
            ),
            ChildSpec::Command {
                kind,
                device_id,
                throttled,
            } => {
                let effective = if o.activity_type == ActivityType::CutForNonPayment
                    && *kind == CommandKind::RemoteDisconnect
                {
                    self.business_adjusted(base)
                } else {
                    base
                };
                (
                    "SC",
                    Body::Command(Command {
                        state: CommandState::Pending,
                        kind: *kind,
                        device_id: device_id.clone(),
                        sp_id: sp.id.clone(),
                        effective,
                        throttled: *throttled,
                        comm: None,
                        readings: Vec::new(),
                        events: Vec::new(),
                    }),
                )
            }
        };
        let id = self.tx.next_id(prefix)?;
        let now = self.now();
        self.tx.insert_activity(Activity {
            seq,
            id: id.clone(),
            parent: Some(parent),
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: None,
            excused: false,
            log: Vec::new(),
            body,
        });
        let kind = match spec {
            ChildSpec::Field(task) => task.code().to_string(),
            ChildSpec::Command {
                kind,
                throttled: true,
                ..
            } => format!("{} (throttled)", kind.code()),
            ChildSpec::Command { kind, .. } => kind.code().to_string(),
        };
        self.log_note(parent, format!("created {id} ({kind})"))?;
        Ok(seq)
    }

    /// A CNP remote disconnect's effective time: the business-hours adjustment (§4.1).
    fn business_adjusted(&self, t: Instant) -> Instant {
        let cnp = ActivityType::CutForNonPayment;
        let hours = &self.config.type_config(cnp).hours;
        crate::throttle::business_adjust(
            t,
            hours,
            self.config.calendar_for(cnp),
            self.config.timezone,
        )
    }

    /// The effective time of a child.
    pub fn child_effective(&mut self, child: Seq) -> Result<Option<Instant>, EngineError> {
        Ok(match &self.tx.activity(child)?.body {
            Body::Field(f) => Some(f.effective),
            Body::Command(c) => Some(c.effective),
            _ => None,
        })
    }

    /// Chains a child until it rests.
    pub fn run_child(&mut self, seq: Seq) -> Result<(), EngineError> {
        match &self.tx.activity(seq)?.body {
            Body::Field(_) => self.run_field(seq),
            Body::Command(_) => self.run_command(seq),
            _ => Ok(()),
        }
    }

    // ---- field activities ----------------------------------------------------------------

    /// The field activity body.
    pub fn field(&mut self, seq: Seq) -> Result<&FieldActivity, EngineError> {
        match &self.tx.activity(seq)?.body {
            Body::Field(f) => Ok(f),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not a field activity"
            ))),
        }
    }

    /// The field activity body, to change.
    pub fn field_mut(&mut self, seq: Seq) -> Result<&mut FieldActivity, EngineError> {
        match &mut self.tx.activity_mut(seq)?.body {
            Body::Field(f) => Ok(f),
            _ => Err(EngineError::Corrupt(format!(
                "#{seq} is not a field activity"
            ))),
        }
    }

    /// Moves a field activity, running the error and final hooks towards its parent.
    pub fn field_to(
        &mut self,
        seq: Seq,
        to: FaState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let a = self.tx.activity_mut(seq)?;
        let id = a.id.clone();
        let Body::Field(f) = &mut a.body else {
            return Err(EngineError::Corrupt(format!(
                "{id} is not a field activity"
            )));
        };
        let (from, to) = record_transition(&id, &mut f.state, to)?;
        finish_activity_transition(a, now, from.code(), to.code(), reason);
        self.tx.note_transition(&id, from.code(), to.code());
        self.after_child_transition(seq, to.code(), to.is_final())
    }

    fn after_child_transition(
        &mut self,
        seq: Seq,
        to: &str,
        is_final: bool,
    ) -> Result<(), EngineError> {
        if to.ends_with("_ERROR") {
            self.child_failed(seq)?;
        }
        if is_final {
            self.child_finished(seq)?;
        }
        Ok(())
    }

    fn run_field(&mut self, seq: Seq) -> Result<(), EngineError> {
        loop {
            match self.field(seq)?.state {
                FaState::Pending => self.field_to(seq, FaState::Validate, None)?,
                FaState::Validate => {
                    let f = self.field(seq)?.clone();
                    let sp_kind = self.tx.sp(&f.sp_id)?.map(|sp| sp.sp_kind);
                    let recipient = self.config.field_work.recipient.clone();
                    let check = match sp_kind {
                        Some(kind) => validate_field(f.task, kind, &recipient),
                        None => Err(StatusReason::with_ref("SP_NOT_FOUND", &f.sp_id)),
                    };
                    match check {
                        Ok(()) => {
                            self.field_to(seq, FaState::CommInProgress, None)?;
                            self.send_fa_create(seq)?;
                        }
                        Err(reason) => {
                            self.field_to(seq, FaState::ValidationError, Some(reason))?
                        }
                    }
                }
                FaState::Retry => {
                    self.cancel_open_comm(seq)?;
                    self.field_to(seq, FaState::CommInProgress, None)?;
                    self.send_fa_create(seq)?;
                }
                FaState::ExecCompletion => self.execute_field_completion(seq)?,
                _ => return Ok(()),
            }
        }
    }

    /// Accepts a completion (inbound or by hand) for a field activity waiting on the field.
    pub fn accept_field_completion(
        &mut self,
        seq: Seq,
        completion: FieldCompletion,
    ) -> Result<(), EngineError> {
        self.field_mut(seq)?.completion = Some(completion);
        self.field_to(seq, FaState::ExecCompletion, None)?;
        self.run_field(seq)
    }

    /// Runs "Completion Events When Successful" or "When Canceled" (§3.4, §12.4).
    fn execute_field_completion(&mut self, seq: Seq) -> Result<(), EngineError> {
        let f = self.field(seq)?.clone();
        let Some(completion) = f.completion.clone() else {
            return self.field_to(
                seq,
                FaState::CompletionError,
                Some(StatusReason::with_text(
                    "COMPLETION_FAILED",
                    "no completion data",
                )),
            );
        };
        self.fail_pending_cancel(seq)?;
        match completion.status.as_str() {
            "cancelled" => {
                let text = completion
                    .remarks
                    .clone()
                    .unwrap_or_else(|| "cancelled in the field".into());
                return self.field_to(
                    seq,
                    FaState::Cancelled,
                    Some(StatusReason::with_text("CXS", &text)),
                );
            }
            "not_done" => {
                let text = completion
                    .remarks
                    .clone()
                    .unwrap_or_else(|| "the work was not done".into());
                return self.field_to(
                    seq,
                    FaState::CompletionError,
                    Some(StatusReason::with_text("NOT_DONE", &text)),
                );
            }
            _ => {}
        }
        let expected_new = self.expected_new_device(seq)?;
        let planned = field_events(
            f.task,
            f.device_id.as_deref(),
            &completion,
            expected_new.as_ref(),
        );
        let kinds = match planned {
            Ok(kinds) => kinds,
            Err(reason) => return self.field_to(seq, FaState::CompletionError, Some(reason)),
        };
        let events = self.execute_events(&f.sp_id, None, kinds, completion.source.clone())?;
        let failure = events.iter().find_map(|e| e.error.clone());
        self.field_mut(seq)?.events.extend(events);
        match failure {
            Some(text) => {
                let code = if text.contains("badge") {
                    "BADGE_MISMATCH"
                } else {
                    "COMPLETION_FAILED"
                };
                self.field_to(
                    seq,
                    FaState::CompletionError,
                    Some(StatusReason::with_text(code, &text)),
                )
            }
            None => {
                self.mark_step_done(seq)?;
                self.field_to(seq, FaState::Completed, None)
            }
        }
    }

    /// A targeted field activity finished before its cancel was acknowledged: the Cancel goes
    /// to COMM_ERROR `TARGET_COMPLETED` (§12.7).
    fn fail_pending_cancel(&mut self, seq: Seq) -> Result<(), EngineError> {
        if let Some(cancel) = self.field_mut(seq)?.cancel_by.take() {
            self.cancel_target_completed(cancel, seq)?;
        }
        Ok(())
    }

    /// The device an exchange request registered for installation (§12.13).
    fn expected_new_device(
        &mut self,
        seq: Seq,
    ) -> Result<Option<crate::domain::DeviceSpec>, EngineError> {
        let Some(parent) = self.tx.activity(seq)?.parent else {
            return Ok(None);
        };
        Ok(self
            .orch(parent)?
            .exchange
            .as_ref()
            .and_then(|x| x.new_device.clone()))
    }

    // ---- commands ------------------------------------------------------------------------

    /// The command body.
    pub fn command(&mut self, seq: Seq) -> Result<&Command, EngineError> {
        match &self.tx.activity(seq)?.body {
            Body::Command(c) => Ok(c),
            _ => Err(EngineError::Corrupt(format!("#{seq} is not a command"))),
        }
    }

    /// The command body, to change.
    pub fn command_mut(&mut self, seq: Seq) -> Result<&mut Command, EngineError> {
        match &mut self.tx.activity_mut(seq)?.body {
            Body::Command(c) => Ok(c),
            _ => Err(EngineError::Corrupt(format!("#{seq} is not a command"))),
        }
    }

    /// Moves a command, running the error and final hooks towards its parent.
    pub fn command_to(
        &mut self,
        seq: Seq,
        to: CommandState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let a = self.tx.activity_mut(seq)?;
        let id = a.id.clone();
        let Body::Command(c) = &mut a.body else {
            return Err(EngineError::Corrupt(format!("{id} is not a command")));
        };
        let (from, to) = record_transition(&id, &mut c.state, to)?;
        // Non-throttled commands wait for a monitor; throttled ones only for the batch (§4.2).
        a.due_at = match (to, c.throttled) {
            (CommandState::WaitEff, false) => Some(c.effective),
            _ => None,
        };
        finish_activity_transition(a, now, from.code(), to.code(), reason);
        self.tx.note_transition(&id, from.code(), to.code());
        self.after_child_transition(seq, to.code(), to.is_final())
    }

    /// Chains a command until it rests.
    pub fn run_command(&mut self, seq: Seq) -> Result<(), EngineError> {
        loop {
            let c = self.command(seq)?.clone();
            match c.state {
                CommandState::Pending => self.command_to(seq, CommandState::Validate, None)?,
                CommandState::Validate => {
                    let device = self.tx.device(&c.device_id)?.cloned();
                    let duplicate = self.earlier_command(seq, &c)?;
                    match validate_command(c.kind, device.as_ref(), duplicate.as_deref()) {
                        Ok(()) => self.command_to(seq, CommandState::WaitEff, None)?,
                        Err(reason) => {
                            self.command_to(seq, CommandState::ValidationError, Some(reason))?
                        }
                    }
                }
                CommandState::WaitEff if !c.throttled && c.effective <= self.rule_now() => {
                    self.command_to(seq, CommandState::ConnectionReady, None)?;
                }
                CommandState::ConnectionReady => {
                    self.command_to(seq, CommandState::CommInProgress, None)?;
                    self.send_command(seq)?;
                }
                CommandState::Retry => {
                    self.cancel_open_comm(seq)?;
                    self.command_to(seq, CommandState::CommInProgress, None)?;
                    self.send_command(seq)?;
                }
                CommandState::ExecCompletion => self.execute_command_completion(seq)?,
                _ => return Ok(()),
            }
        }
    }

    /// An earlier non-final command of the same kind on the same device (S7 duplicate guard).
    fn earlier_command(&mut self, seq: Seq, c: &Command) -> Result<Option<String>, EngineError> {
        for other in self.tx.indexed_by_text(TreeId::CmdByDevice, &c.device_id)? {
            if other >= seq {
                continue;
            }
            let a = self.tx.activity(other)?;
            if let Body::Command(x) = &a.body {
                if x.device_id == c.device_id && x.kind == c.kind && !x.state.is_final() {
                    return Ok(Some(a.id.clone()));
                }
            }
        }
        Ok(None)
    }

    /// Releases a waiting command (the throttle batch or execute-now).
    pub fn release_command(&mut self, seq: Seq) -> Result<(), EngineError> {
        self.command_to(seq, CommandState::ConnectionReady, None)?;
        self.run_command(seq)
    }

    /// Accepts a successful head-end result for a command waiting on it.
    pub fn accept_command_result(
        &mut self,
        seq: Seq,
        readings: Vec<crate::domain::Reading>,
    ) -> Result<(), EngineError> {
        self.command_mut(seq)?.readings = readings;
        self.command_to(seq, CommandState::ExecCompletion, None)?;
        self.run_command(seq)
    }

    fn execute_command_completion(&mut self, seq: Seq) -> Result<(), EngineError> {
        let c = self.command(seq)?.clone();
        let kinds = command_events(c.kind, &c.readings);
        let source = match c.comm {
            Some(comm) => Some(self.tx.comm(comm)?.id.clone()),
            None => None,
        };
        let events = self.execute_events(&c.sp_id, Some(&c.device_id), kinds, source)?;
        let failure = events.iter().find_map(|e| e.error.clone());
        self.command_mut(seq)?.events = events;
        match failure {
            Some(text) => self.command_to(
                seq,
                CommandState::CompletionError,
                Some(StatusReason::with_text("COMPLETION_FAILED", &text)),
            ),
            None => {
                self.mark_step_done(seq)?;
                self.command_to(seq, CommandState::Completed, None)
            }
        }
    }

    // ---- completion events ---------------------------------------------------------------

    /// Executes events in order; the first failure stops the rest (they stay PENDING).
    ///
    /// `device` is the command's own device; field events act on the service point's current
    /// device, which an install event changes as it goes.
    pub fn execute_events(
        &mut self,
        sp_id: &str,
        device: Option<&str>,
        kinds: Vec<EventKind>,
        source: Option<String>,
    ) -> Result<Vec<CompletionEvent>, EngineError> {
        let mut events = Vec::with_capacity(kinds.len());
        let mut failed = false;
        for kind in kinds {
            let mut event = CompletionEvent {
                kind,
                state: EventState::Pending,
                source: source.clone(),
                error: None,
            };
            if !failed {
                match self.apply_event(sp_id, device, &event.kind)? {
                    Ok(()) => event.state = EventState::Executed,
                    Err(message) => {
                        event.state = EventState::Error;
                        event.error = Some(message);
                        failed = true;
                    }
                }
            }
            events.push(event);
        }
        Ok(events)
    }

    /// Applies one event to the snapshot; the inner error is a validation failure (§3.7).
    pub fn apply_event(
        &mut self,
        sp_id: &str,
        device: Option<&str>,
        kind: &EventKind,
    ) -> Result<Result<(), String>, EngineError> {
        let Some(sp) = self.tx.sp(sp_id)?.cloned() else {
            return Ok(Err(format!("service point {sp_id} no longer exists")));
        };
        let focus = device.map(str::to_string).or(sp.device.clone());
        match kind {
            EventKind::RemoveDevice { device_id, badge } => {
                if let Some(badge) = badge.as_ref().filter(|b| !b.is_empty()) {
                    let known = self.tx.device(device_id)?.map(|d| d.badge.clone());
                    if known.as_ref().is_some_and(|k| k != badge) {
                        return Ok(Err(format!(
                            "badge {badge} does not match device {device_id} (badge {})",
                            known.unwrap_or_default()
                        )));
                    }
                }
                if let Some(sp) = self.tx.sp_mut(sp_id)? {
                    if sp.device.as_deref() == Some(device_id.as_str()) {
                        sp.device = None;
                    }
                }
            }
            EventKind::InstallDevice { device } => {
                let existing = self.tx.device(&device.id)?.cloned();
                self.tx.put_device(crate::domain::Device {
                    id: device.id.clone(),
                    badge: device.badge.clone(),
                    smart: device.smart,
                    commissioned: device.commissioned,
                    switch: Switch::Off,
                    head_end_capable: existing.and_then(|d| d.head_end_capable),
                    last_readings: Vec::new(),
                })?;
                if let Some(sp) = self.tx.sp_mut(sp_id)? {
                    sp.device = Some(device.id.clone());
                }
            }
            EventKind::ConnectAtSource => {
                if let Some(sp) = self.tx.sp_mut(sp_id)? {
                    sp.connected_at_source = true;
                }
            }
            EventKind::Remarks { .. } => {}
            EventKind::SwitchOn
            | EventKind::SwitchOff
            | EventKind::Commissioning
            | EventKind::Decommissioning
            | EventKind::CreateImd { .. } => {
                let Some(id) = focus else {
                    return Ok(Err("no device is installed".into()));
                };
                let Some(d) = self.tx.device_mut(&id)? else {
                    return Ok(Err(format!("device {id} is not in the registry")));
                };
                match kind {
                    EventKind::SwitchOn => d.switch = Switch::On,
                    EventKind::SwitchOff => d.switch = Switch::Off,
                    EventKind::Commissioning => d.commissioned = true,
                    EventKind::Decommissioning => d.commissioned = false,
                    EventKind::CreateImd { readings } => d.last_readings = readings.clone(),
                    _ => {}
                }
            }
        }
        Ok(Ok(()))
    }

    // ---- rejection and operator actions ---------------------------------------------------

    /// Moves a non-final child to its Reject state (DISCARDED), cancelling its open
    /// communication; the child is excused, so it does not count as a failure of the pass.
    pub fn reject_child(&mut self, seq: Seq, cancelled: bool) -> Result<(), EngineError> {
        self.cancel_open_comm(seq)?;
        self.tx.activity_mut(seq)?.excused = true;
        match self.tx.activity(seq)?.body {
            Body::Field(_) => {
                let to = if cancelled {
                    FaState::Cancelled
                } else {
                    FaState::Discarded
                };
                self.field_to(seq, to, None)
            }
            Body::Command(_) => self.command_to(seq, CommandState::Discarded, None),
            _ => Ok(()),
        }
    }

    /// Operator retry on a child (§5.4, §12.6).
    pub fn retry_child(&mut self, seq: Seq) -> Result<(), EngineError> {
        let id = self.id_of(seq)?;
        match self.tx.activity(seq)?.body.clone() {
            Body::Field(f) => {
                let to = match f.state {
                    FaState::ValidationError => FaState::Validate,
                    FaState::CommError => FaState::Retry,
                    FaState::CompletionError => {
                        let reason = self.tx.activity(seq)?.status_reason.clone();
                        if reason.is_some_and(|r| r.code == "NOT_DONE") {
                            return Err(EngineError::refused(
                                "NOT_DONE",
                                format!(
                                    "{id}: the work was not done; cancel it or retry its parent"
                                ),
                            ));
                        }
                        FaState::ExecCompletion
                    }
                    other => return Err(super::orchestration::not_retryable(&id, other.code())),
                };
                self.field_to(seq, to, None)?;
                self.run_field(seq)
            }
            Body::Command(c) => {
                let to = match c.state {
                    CommandState::ValidationError => CommandState::Validate,
                    CommandState::CommError => CommandState::Retry,
                    CommandState::CompletionError => CommandState::ExecCompletion,
                    other => return Err(super::orchestration::not_retryable(&id, other.code())),
                };
                self.command_to(seq, to, None)?;
                self.run_command(seq)
            }
            _ => Ok(()),
        }
    }

    /// Operator execute-now on a waiting command: bypasses the effective date, business hours
    /// and the throttle (§12.7).
    pub fn execute_now_command(&mut self, seq: Seq) -> Result<(), EngineError> {
        let state = self.command(seq)?.state;
        if state != CommandState::WaitEff {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{} is {}: execute-now applies to WAIT_EFF",
                    self.id_of(seq)?,
                    state.code()
                ),
            ));
        }
        self.release_command(seq)
    }

    /// Manual completion of a field activity (§3.4, §12.6).
    pub fn complete_field_by_hand(
        &mut self,
        seq: Seq,
        completion: FieldCompletion,
    ) -> Result<(), EngineError> {
        self.guard_manual(seq)?;
        self.cancel_open_comm(seq)?;
        self.accept_field_completion(seq, completion)
    }

    /// Manual cancellation of a field activity; the field system is not told (§12.6).
    pub fn cancel_field_by_hand(&mut self, seq: Seq, reason: &str) -> Result<(), EngineError> {
        self.guard_manual(seq)?;
        self.cancel_open_comm(seq)?;
        self.field_to(seq, FaState::Cancelled, Some(StatusReason::code(reason)))
    }

    fn guard_manual(&mut self, seq: Seq) -> Result<(), EngineError> {
        let state = self.field(seq)?.state;
        if Self::fa_manual_allowed(state) {
            return Ok(());
        }
        Err(EngineError::refused(
            "ILLEGAL_TRANSITION",
            format!(
                "{} is {}: manual completion or cancellation applies in COMM_IN_PROGRESS, COMM_ERROR or COMPLETION_ERROR",
                self.id_of(seq)?,
                state.code()
            ),
        ))
    }
}
