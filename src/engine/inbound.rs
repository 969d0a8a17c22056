//! Inbound messages from the field work system and the head-end (§3.6, §12.3).
//!
//! Each message becomes an inbound communication and is handled as one synchronous chain in
//! one transaction: communication → child → completion events → snapshot, with the child-error
//! hook and any maintenance activity the message completes (§12.2). A well-formed message that
//! matches nothing, or answers a communication already COMPLETED, is kept in VALIDATION_ERROR
//! (the error inbox) and auto-retried; it is never dropped.
//!
//! Reading chosen where the spec is silent: a field completion that answers an `fa_create`
//! already CANCELLED or DISCARDED (its activity was retried or discarded meanwhile) goes to the
//! error inbox as `ALREADY_FINAL`, because work done in the field must be seen by a person.

use super::flow::Flow;
use super::keys::Tag;
use super::tx::Tx;
use super::{Actor, Engine, EngineError};
use crate::domain::{
    Body, Capability, CommBody, CommandOutcome, Communication, CompletionStatus, FaCompletion,
    FieldCompletion, Inbound, InboundMessage, Interim, MessageKind, Seq, StatusReason,
};
use crate::lifecycle::{command_events, CommandState, FaState, InState, LifecycleState, OutState};
use crate::store::{seq_from_key_tail, walk_pages, TreeId};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;

/// What happened to one inbound line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundLine {
    /// The line of the file.
    pub line: usize,
    /// The inbound communication created for it.
    pub comm: String,
    /// Its state: COMPLETED, or VALIDATION_ERROR (the error inbox).
    pub state: String,
    /// The outbound communication it answered, when matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    /// Why it is in the error inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StatusReason>,
    /// The very same message was received before: `comm` is that first one, and nothing
    /// happened a second time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// The result of an `inbound` file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InboundReport {
    /// One entry per message.
    pub results: Vec<InboundLine>,
}

impl InboundReport {
    /// How many messages went to the error inbox.
    pub fn errors(&self) -> usize {
        self.results.iter().filter(|r| r.error.is_some()).count()
    }
}

impl Engine {
    /// Receives parsed inbound messages (the file was checked whole before this call).
    pub fn inbound(
        &mut self,
        actor: &Actor,
        now: crate::domain::Instant,
        messages: Vec<(usize, InboundMessage)>,
    ) -> Result<InboundReport, EngineError> {
        let ids: Vec<String> = Vec::new();
        self.act(actor, now, Capability::Inbound, "inbound", &ids, |flow| {
            let mut results = Vec::with_capacity(messages.len());
            for (line, message) in messages {
                let (seq, duplicate) = flow.receive_once(message)?;
                results.push(flow.inbound_line(line, seq, duplicate)?);
            }
            let detail = format!(
                "{} message(s): {}",
                results.len(),
                results
                    .iter()
                    .map(|r| r.comm.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok((InboundReport { results }, Some(detail)))
        })
    }

    /// Marks delivered every undelivered outbound message that no longer awaits its response,
    /// a page at a time; returns how many. A world built with its history already answered
    /// (the demo) leaves only the messages still in flight for the desk's sender to hand over.
    pub fn settle_answered(&mut self, now: crate::domain::Instant) -> Result<usize, EngineError> {
        const PAGE: usize = 512;
        let mut settled = 0;
        let store = self.store.as_ref();
        walk_pages::<EngineError>(
            store,
            TreeId::Undelivered,
            (&[], None),
            PAGE,
            false,
            |page| {
                let mut tx = Tx::begin(store, now)?;
                for (key, _) in page {
                    let Some(seq) = seq_from_key_tail(key) else {
                        continue;
                    };
                    let answered = match &tx.comm(seq)?.body {
                        CommBody::Outbound(o) => o.state != OutState::AwaitingResponse,
                        CommBody::Inbound(_) => false,
                    };
                    if answered {
                        tx.mark_delivered(seq)?;
                        settled += 1;
                    }
                }
                tx.commit()?;
                Ok(ControlFlow::Continue(()))
            },
        )?;
        Ok(settled)
    }

    /// Records that the sender handed these outbound messages to their systems (not audited:
    /// the sender is the runtime, not an operator).
    pub fn mark_delivered(
        &mut self,
        now: crate::domain::Instant,
        ids: &[String],
    ) -> Result<(), EngineError> {
        let mut tx = Tx::begin(self.store.as_ref(), now)?;
        for id in ids {
            if let Some((Tag::Comm, seq)) = tx.lookup(id)? {
                tx.mark_delivered(seq)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Receives messages from a partner system, numbered as the partner sent them, in one
    /// transaction (not audited: each becomes an inbound communication with its own log).
    pub fn receive_from_system(
        &mut self,
        now: crate::domain::Instant,
        messages: Vec<(usize, InboundMessage)>,
    ) -> Result<Vec<InboundLine>, EngineError> {
        let mut tx = Tx::begin(self.store.as_ref(), now)?;
        let mut flow = Flow::new(&mut tx, &self.config);
        let mut lines = Vec::with_capacity(messages.len());
        for (number, message) in messages {
            let (seq, duplicate) = flow.receive_once(message)?;
            lines.push(flow.inbound_line(number, seq, duplicate)?);
        }
        tx.commit()?;
        Ok(lines)
    }
}

/// The meta key that remembers a message: `seen/` and the first 16 bytes of the SHA-256 of
/// its canonical JSON (the fields in their fixed order, whatever order the partner wrote).
fn seen_key(message: &InboundMessage) -> Result<Vec<u8>, EngineError> {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::to_vec(message).map_err(|err| {
        EngineError::Corrupt(format!("an inbound message cannot be encoded: {err}"))
    })?;
    let digest = Sha256::digest(&canonical);
    let mut key = b"seen/".to_vec();
    key.extend_from_slice(&digest[..16]);
    Ok(key)
}

impl Flow<'_, '_> {
    fn inbound(&mut self, seq: Seq) -> Result<&Inbound, EngineError> {
        match &self.tx.comm(seq)?.body {
            CommBody::Inbound(i) => Ok(i),
            CommBody::Outbound(_) => Err(EngineError::Corrupt(format!("#{seq} is not inbound"))),
        }
    }

    fn inbound_mut(&mut self, seq: Seq) -> Result<&mut Inbound, EngineError> {
        match &mut self.tx.comm_mut(seq)?.body {
            CommBody::Inbound(i) => Ok(i),
            CommBody::Outbound(_) => Err(EngineError::Corrupt(format!("#{seq} is not inbound"))),
        }
    }

    fn inbound_line(
        &mut self,
        line: usize,
        seq: Seq,
        duplicate: bool,
    ) -> Result<InboundLine, EngineError> {
        let c = self.tx.comm(seq)?.clone();
        let answers = match &c.body {
            CommBody::Inbound(i) => match i.answers {
                Some(a) => Some(self.tx.comm(a)?.id.clone()),
                None => None,
            },
            CommBody::Outbound(_) => None,
        };
        let error = (c.state_code() == InState::ValidationError.code())
            .then(|| c.status_reason.clone())
            .flatten();
        Ok(InboundLine {
            line,
            state: c.state_code().to_string(),
            comm: c.id,
            answers,
            error,
            duplicate,
        })
    }

    /// Receives a message unless the very same one came before (a partner delivers at least
    /// once, so a resend after a lost answer is normal): then returns the first one's
    /// sequence and `true`, and nothing happens again. A message that differs in any field
    /// is a new message.
    pub fn receive_once(&mut self, message: InboundMessage) -> Result<(Seq, bool), EngineError> {
        let key = seen_key(&message)?;
        if let Some(bytes) = self.tx.meta(&key)? {
            if let Some(seq) = crate::store::seq_from_key_tail(&bytes) {
                return Ok((seq, true));
            }
        }
        let seq = self.receive(message)?;
        self.tx
            .put_meta(key, Some(crate::store::seq_key(seq).to_vec()));
        Ok((seq, false))
    }

    /// Stores a message as an inbound communication and evaluates it.
    pub fn receive(&mut self, message: InboundMessage) -> Result<Seq, EngineError> {
        let seq = self.tx.next_seq();
        let id = self.tx.next_id("CI")?;
        let now = self.now();
        self.tx.insert_comm(Communication {
            seq,
            id,
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: None,
            log: Vec::new(),
            body: CommBody::Inbound(Inbound {
                state: InState::Pending,
                message,
                answers: None,
                tries: 0,
            }),
        });
        self.in_to(seq, InState::Validate, None)?;
        self.evaluate_inbound(seq)?;
        Ok(seq)
    }

    fn in_to(
        &mut self,
        seq: Seq,
        to: InState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let c = self.tx.comm_mut(seq)?;
        let id = c.id.clone();
        let CommBody::Inbound(i) = &mut c.body else {
            return Err(EngineError::Corrupt(format!("{id} is not inbound")));
        };
        let from = i.state;
        if !from.allows(to) {
            return Err(EngineError::refused(
                "ILLEGAL_TRANSITION",
                format!(
                    "{id}: {} -> {} is not a transition of its lifecycle",
                    from.code(),
                    to.code()
                ),
            ));
        }
        i.state = to;
        c.due_at = None;
        c.log.push(crate::domain::LogLine {
            at: now,
            from: Some(from.code().into()),
            to: Some(to.code().into()),
            note: reason.as_ref().map(|r| r.code.clone()).unwrap_or_default(),
        });
        c.status_at = now;
        c.status_reason = reason;
        self.tx.note_transition(&id, from.code(), to.code());
        Ok(())
    }

    /// VALIDATE: match the message; apply it, or keep it in the error inbox (auto-retried).
    fn evaluate_inbound(&mut self, seq: Seq) -> Result<(), EngineError> {
        let message = {
            let i = self.inbound_mut(seq)?;
            i.tries += 1;
            i.message.clone()
        };
        match self.match_message(&message)? {
            Err(reason) => {
                self.in_to(seq, InState::ValidationError, Some(reason))?;
                let (tries, limit) = (self.inbound(seq)?.tries, self.config.inbound.retry_count);
                if tries <= limit {
                    let every = i64::from(self.config.inbound.retry_every_minutes);
                    self.tx.comm_mut(seq)?.due_at =
                        Some(self.rule_now() + Duration::minutes(every));
                }
                Ok(())
            }
            Ok(answered) => {
                self.inbound_mut(seq)?.answers = answered;
                self.in_to(seq, InState::EvaluateResponse, None)?;
                let ci = self.tx.comm(seq)?.id.clone();
                self.apply_message(&message, answered, &ci)?;
                self.in_to(seq, InState::Completed, None)
            }
        }
    }

    /// The monitor of an inbound communication in the error inbox: try matching again.
    pub fn retry_inbound(&mut self, seq: Seq) -> Result<(), EngineError> {
        if self.inbound(seq)?.state != InState::ValidationError {
            return Ok(());
        }
        self.in_to(seq, InState::Validate, None)?;
        self.evaluate_inbound(seq)
    }

    /// The outbound communication a message answers, by id.
    fn outbound_by_id(&mut self, id: &str) -> Result<Option<Seq>, EngineError> {
        match self.tx.lookup(id)? {
            Some((Tag::Comm, seq)) if self.tx.comm(seq)?.outbound().is_some() => Ok(Some(seq)),
            _ => Ok(None),
        }
    }

    /// Finds what the message answers, or says why it matches nothing.
    fn match_message(
        &mut self,
        message: &InboundMessage,
    ) -> Result<Result<Option<Seq>, StatusReason>, EngineError> {
        let unmatched = |what: &str| Err(StatusReason::with_ref("UNMATCHED_MESSAGE", what));
        let (comm, expected): (Option<Seq>, &[MessageKind]) = match message {
            InboundMessage::Ack { comm, .. } | InboundMessage::Fault { comm, .. } => {
                match self.outbound_by_id(comm)? {
                    Some(seq) => (Some(seq), &[]),
                    None => return Ok(unmatched(comm)),
                }
            }
            InboundMessage::FaComplete(c) => match self.outbound_by_id(&c.comm)? {
                Some(seq) => (Some(seq), &[MessageKind::FaCreate]),
                None => return Ok(unmatched(&c.comm)),
            },
            InboundMessage::CommandResult { comm, .. } => match self.outbound_by_id(comm)? {
                Some(seq) => (Some(seq), &[MessageKind::Command]),
                None => return Ok(unmatched(comm)),
            },
            InboundMessage::FaStatus { external_id, .. }
            | InboundMessage::FaCancelled { external_id, .. } => {
                match self.tx.comm_by_external_id(external_id)? {
                    Some(seq) => (Some(seq), &[MessageKind::FaCreate]),
                    None => return Ok(unmatched(external_id)),
                }
            }
            InboundMessage::WoStatus { wo, status, .. } => {
                return Ok(self.check_wo_status(wo, *status)?.map(|_| None));
            }
        };
        let Some(comm) = comm else {
            return Ok(Ok(None));
        };
        let out = self.outbound(comm)?.clone();
        let comm_id = self.tx.comm(comm)?.id.clone();
        if !expected.is_empty() && !expected.contains(&out.message) {
            return Ok(Err(StatusReason::with_text(
                "UNMATCHED_MESSAGE",
                &format!(
                    "{comm_id} is a {} message, not one this answers",
                    out.message.code()
                ),
            )));
        }
        if let InboundMessage::FaComplete(FaCompletion {
            external_id: Some(ext),
            ..
        }) = message
        {
            if out.external_id.as_ref().is_some_and(|known| known != ext) {
                return Ok(Err(StatusReason::with_ref(
                    "EXTERNAL_ID_MISMATCH",
                    &comm_id,
                )));
            }
        }
        let is_answer = !matches!(message, InboundMessage::FaStatus { .. });
        let answered_twice = is_answer && out.state == OutState::Completed;
        let field_work_lost = matches!(
            message,
            InboundMessage::FaComplete(_) | InboundMessage::FaCancelled { .. }
        ) && matches!(out.state, OutState::Cancelled | OutState::Discarded);
        if answered_twice || field_work_lost {
            return Ok(Err(StatusReason::with_ref("ALREADY_FINAL", &comm_id)));
        }
        Ok(Ok(Some(comm)))
    }

    /// Applies a matched message (EVALUATE_RESPONSE).
    fn apply_message(
        &mut self,
        message: &InboundMessage,
        comm: Option<Seq>,
        ci: &str,
    ) -> Result<(), EngineError> {
        if let InboundMessage::WoStatus {
            wo, status, source, ..
        } = message
        {
            if let Ok(seq) = self.check_wo_status(wo, *status)? {
                let by = format!(
                    "reported by {} ({ci})",
                    source.as_deref().unwrap_or("partner")
                );
                self.wo_to(seq, *status, None, &by)?;
            }
            return Ok(());
        }
        let Some(comm) = comm else {
            return Ok(());
        };
        let out = self.outbound(comm)?.clone();
        let open = matches!(
            out.state,
            OutState::AwaitingResponse | OutState::ResponseError
        );
        match message {
            InboundMessage::Ack { external_id, .. } => self.apply_ack(comm, external_id.clone()),
            InboundMessage::Fault { code, message, .. } => {
                if out.state == OutState::AwaitingResponse {
                    let reason = StatusReason::with_text(code, message);
                    self.comm_to(comm, OutState::ResponseError, Some(reason.clone()))?;
                    self.owner_comm_failed(comm, reason)?;
                }
                Ok(())
            }
            InboundMessage::FaStatus { status, at, .. } => {
                let owner = out.owner;
                self.field_mut(owner)?.interim = Some(Interim {
                    status: status.code().to_string(),
                    at: *at,
                });
                self.log_note(owner, format!("field status {} ({ci})", status.code()))
            }
            InboundMessage::FaComplete(c) => {
                let completion = FieldCompletion {
                    status: c.status.code().to_string(),
                    at: c.at,
                    remarks: c.remarks.clone(),
                    device: c.device.clone(),
                    old_device: c.old_device.as_ref().map(|d| crate::domain::DeviceSpec {
                        id: d.id.clone(),
                        badge: d.badge.clone(),
                        ..Default::default()
                    }),
                    readings: c.readings.clone(),
                    source: Some(ci.to_string()),
                };
                self.field_answer(comm, c.external_id.clone(), completion)
            }
            InboundMessage::FaCancelled { reason, .. } => {
                let completion = FieldCompletion {
                    status: CompletionStatus::Cancelled.code().to_string(),
                    at: None,
                    remarks: Some(reason.clone()),
                    device: None,
                    old_device: None,
                    readings: Vec::new(),
                    source: Some(ci.to_string()),
                };
                self.field_answer(comm, None, completion)
            }
            InboundMessage::CommandResult {
                outcome: CommandOutcome::Ok,
                readings,
                ..
            } => {
                let owner = out.owner;
                if open {
                    self.comm_to(comm, OutState::Completed, None)?;
                    let state = self.command(owner)?.state;
                    if matches!(
                        state,
                        CommandState::CommInProgress | CommandState::CommError
                    ) {
                        return self.accept_command_result(owner, readings.clone());
                    }
                }
                // The meter did switch: apply the device effect whatever the command's state.
                let c = self.command(owner)?.clone();
                let events = self.execute_events(
                    &c.sp_id,
                    Some(&c.device_id),
                    command_events(c.kind, readings),
                    Some(ci.into()),
                )?;
                let done = events.iter().all(|e| e.error.is_none());
                self.log_note(
                    owner,
                    format!(
                        "late result {ci} applied to {} ({})",
                        c.device_id,
                        if done { "ok" } else { "failed" }
                    ),
                )
            }
            InboundMessage::CommandResult { code, message, .. } => {
                if out.state == OutState::AwaitingResponse {
                    let code = code.clone().unwrap_or_else(|| "FAULT".into());
                    let reason = StatusReason::with_text(
                        &code,
                        message.as_deref().unwrap_or("head-end fault"),
                    );
                    self.comm_to(comm, OutState::ResponseError, Some(reason.clone()))?;
                    self.owner_comm_failed(comm, reason)?;
                }
                Ok(())
            }
            InboundMessage::WoStatus { .. } => Ok(()),
        }
    }

    /// An `ack`: records the external id; for `fa_modify`/`fa_cancel` it is the response.
    fn apply_ack(&mut self, comm: Seq, external_id: Option<String>) -> Result<(), EngineError> {
        let out = self.outbound(comm)?.clone();
        let open = matches!(
            out.state,
            OutState::AwaitingResponse | OutState::ResponseError
        );
        match out.message {
            MessageKind::FaCreate if open => {
                self.mark_acknowledged(comm, external_id)?;
                if out.state == OutState::ResponseError {
                    // A late ack returns the communication and its field activity to waiting.
                    self.comm_to(comm, OutState::AwaitingResponse, None)?;
                    if self.field(out.owner)?.state == FaState::CommError
                        && self.field(out.owner)?.comm == Some(comm)
                    {
                        self.field_to(out.owner, FaState::CommInProgress, None)?;
                    }
                }
                Ok(())
            }
            MessageKind::FaCancel | MessageKind::FaModify if open => {
                self.comm_to(comm, OutState::Completed, None)?;
                self.maint_comm_answered(comm)
            }
            _ => Ok(()),
        }
    }

    fn mark_acknowledged(
        &mut self,
        comm: Seq,
        external_id: Option<String>,
    ) -> Result<(), EngineError> {
        let owner = {
            let c = self.tx.comm_mut(comm)?;
            let owner = match &mut c.body {
                CommBody::Outbound(o) => {
                    o.acknowledged = true;
                    if external_id.is_some() {
                        o.external_id = external_id.clone();
                    }
                    o.owner
                }
                CommBody::Inbound(_) => return Ok(()),
            };
            // Acknowledged field work has no further timeout (§3.5).
            c.due_at = None;
            owner
        };
        if let Some(ext) = external_id {
            if let Body::Field(f) = &mut self.tx.activity_mut(owner)?.body {
                f.external_id = Some(ext);
            }
        }
        Ok(())
    }

    /// A field completion or cancellation answering an `fa_create`.
    fn field_answer(
        &mut self,
        comm: Seq,
        external_id: Option<String>,
        completion: FieldCompletion,
    ) -> Result<(), EngineError> {
        let out = self.outbound(comm)?.clone();
        if !out.acknowledged {
            // A completion that arrives before the ack counts as the ack (§12.13).
            self.mark_acknowledged(comm, external_id)?;
        }
        self.comm_to(comm, OutState::Completed, None)?;
        let owner = out.owner;
        let state = self.field(owner)?.state;
        if matches!(state, FaState::CommInProgress | FaState::CommError)
            && self.field(owner)?.comm == Some(comm)
        {
            return self.accept_field_completion(owner, completion);
        }
        self.log_note(
            owner,
            format!("completion received while {}: recorded only", state.code()),
        )
    }
}
