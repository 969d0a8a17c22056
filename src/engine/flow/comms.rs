//! Outbound communications (§3.5, §12.3): created in the same transaction as the state change
//! that needs them, answered by inbound messages, timed out by the monitor.

use super::{finish_comm_transition, record_transition, Flow};
use crate::domain::{
    Body, CommBody, Communication, MessageKind, Outbound, Seq, StatusReason, Target,
};
use crate::engine::EngineError;
use crate::lifecycle::{CommandState, FaState, LifecycleState, MaintState, OutState};
use chrono::Duration;
use serde_json::json;

impl Flow<'_, '_> {
    /// The outbound part of a communication.
    pub fn outbound(&mut self, seq: Seq) -> Result<&Outbound, EngineError> {
        match &self.tx.comm(seq)?.body {
            CommBody::Outbound(o) => Ok(o),
            CommBody::Inbound(_) => Err(EngineError::Corrupt(format!("#{seq} is not outbound"))),
        }
    }

    /// The outbound part of a communication, to change.
    pub fn outbound_mut(&mut self, seq: Seq) -> Result<&mut Outbound, EngineError> {
        match &mut self.tx.comm_mut(seq)?.body {
            CommBody::Outbound(o) => Ok(o),
            CommBody::Inbound(_) => Err(EngineError::Corrupt(format!("#{seq} is not outbound"))),
        }
    }

    /// Writes an outbound communication into the outbox: PENDING → VALIDATE →
    /// AWAITING_RESPONSE (or COMPLETED for an email, which needs no response).
    pub fn send_outbound(
        &mut self,
        owner: Seq,
        target: Target,
        message: MessageKind,
        payload: serde_json::Value,
    ) -> Result<Seq, EngineError> {
        let seq = self.tx.next_seq();
        let id = self.tx.next_id("CO")?;
        let owner_id = self.id_of(owner)?;
        let now = self.now();
        self.tx.insert_comm(Communication {
            seq,
            id: id.clone(),
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: None,
            log: Vec::new(),
            body: CommBody::Outbound(Outbound {
                state: OutState::Pending,
                owner,
                owner_id,
                target,
                message,
                payload,
                sent_at: None,
                acknowledged: false,
                external_id: None,
                delivered: false,
                attempts: Vec::new(),
            }),
        });
        self.comm_to(seq, OutState::Validate, None)?;
        let done = if message == MessageKind::Email {
            OutState::Completed
        } else {
            OutState::AwaitingResponse
        };
        self.outbound_mut(seq)?.sent_at = Some(self.tx.rule_now);
        self.comm_to(seq, done, None)?;
        self.log_note(
            owner,
            format!("sent {id} ({} to {})", message.code(), target.code()),
        )?;
        Ok(seq)
    }

    /// Moves an outbound communication and keeps its timeout current.
    pub fn comm_to(
        &mut self,
        seq: Seq,
        to: OutState,
        reason: Option<StatusReason>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        let head_end = i64::from(self.config.communications.head_end_response_minutes);
        let field_ack = i64::from(self.config.communications.field_work_ack_minutes);
        let c = self.tx.comm_mut(seq)?;
        let id = c.id.clone();
        let CommBody::Outbound(o) = &mut c.body else {
            return Err(EngineError::Corrupt(format!("{id} is not outbound")));
        };
        let (from, to) = record_transition(&id, &mut o.state, to)?;
        c.due_at = match (to, o.sent_at) {
            (OutState::AwaitingResponse, Some(sent)) => match (o.target, o.acknowledged) {
                (Target::HeadEnd, _) => Some(sent + Duration::minutes(head_end)),
                // Once acknowledged, only the parent's expiration bounds field work (§3.5).
                (Target::FieldWork, false) => Some(sent + Duration::minutes(field_ack)),
                _ => None,
            },
            _ => None,
        };
        finish_comm_transition(c, now, from.code(), to.code(), reason);
        self.tx.note_transition(&id, from.code(), to.code());
        Ok(())
    }

    /// Cancels the owner's open communication (no side effect), e.g. on a retry (§12.3).
    pub fn cancel_open_comm(&mut self, owner: Seq) -> Result<(), EngineError> {
        let comm = match &self.tx.activity(owner)?.body {
            Body::Field(f) => f.comm,
            Body::Command(c) => c.comm,
            _ => None,
        };
        if let Some(comm) = comm {
            if !self.outbound(comm)?.state.is_final() {
                self.comm_to(comm, OutState::Cancelled, None)?;
            }
        }
        Ok(())
    }

    /// Sends `fa_create` for a field activity (D1-FieldActivityOBComm, §8).
    pub fn send_fa_create(&mut self, seq: Seq) -> Result<(), EngineError> {
        let f = self.field(seq)?.clone();
        let id = self.id_of(seq)?;
        let (badge, contact) = self.field_context(seq, f.device_id.as_deref())?;
        // An exchange tells the crew which device to install (§12.13).
        let new_device = match self.tx.activity(seq)?.parent {
            Some(parent) => self
                .orch(parent)?
                .exchange
                .as_ref()
                .and_then(|x| x.new_device.clone()),
            None => None,
        };
        let payload = json!({
            "new_device": new_device,
            "fa": id,
            "field_task": f.task.code(),
            "sp": f.sp_id,
            "address": f.address,
            "device": f.device_id,
            "badge": badge,
            "instructions": f.instructions,
            "effective": f.effective,
            "contact": contact,
            "recipient": self.config.field_work.recipient,
        });
        let comm = self.send_outbound(seq, Target::FieldWork, MessageKind::FaCreate, payload)?;
        self.field_mut(seq)?.comm = Some(comm);
        Ok(())
    }

    fn field_context(
        &mut self,
        seq: Seq,
        device: Option<&str>,
    ) -> Result<(Option<String>, Option<crate::domain::Contact>), EngineError> {
        let badge = match device {
            Some(d) => self.tx.device(d)?.map(|d| d.badge.clone()),
            None => None,
        };
        let contact = match self.tx.activity(seq)?.parent {
            Some(parent) => self.orch(parent)?.contact.clone(),
            None => None,
        };
        Ok((badge, contact))
    }

    /// Sends a head-end command.
    pub fn send_command(&mut self, seq: Seq) -> Result<(), EngineError> {
        let c = self.command(seq)?.clone();
        let payload = json!({
            "command_kind": c.kind.code(),
            "device_id": c.device_id,
            "sp": c.sp_id,
            "effective": c.effective,
        });
        let comm = self.send_outbound(seq, Target::HeadEnd, MessageKind::Command, payload)?;
        self.command_mut(seq)?.comm = Some(comm);
        Ok(())
    }

    /// The monitor of AWAITING_RESPONSE: no answer in time → RESPONSE_ERROR, and the owner
    /// goes to its error state in the same transaction (§3.5, TV-09).
    pub fn monitor_comm_timeout(&mut self, seq: Seq) -> Result<(), EngineError> {
        let c = self.tx.comm(seq)?.clone();
        let Some(o) = c.outbound() else {
            return Ok(());
        };
        let due = c.due_at.is_some_and(|d| self.rule_now() >= d);
        if o.state != OutState::AwaitingResponse || !due {
            return Ok(());
        }
        let reason = StatusReason::code("RESPONSE_TIMEOUT");
        self.comm_to(seq, OutState::ResponseError, Some(reason.clone()))?;
        self.owner_comm_failed(seq, reason)
    }

    /// An outbound communication failed (fault or timeout): its owner goes to COMM_ERROR.
    pub fn owner_comm_failed(
        &mut self,
        comm: Seq,
        reason: StatusReason,
    ) -> Result<(), EngineError> {
        let owner = self.outbound(comm)?.owner;
        let comm_id = self.tx.comm(comm)?.id.clone();
        let reason = StatusReason {
            reference: Some(comm_id),
            ..reason
        };
        match self.tx.activity(owner)?.body.clone() {
            Body::Field(f) if f.comm == Some(comm) && f.state == FaState::CommInProgress => {
                self.field_to(owner, FaState::CommError, Some(reason))
            }
            Body::Command(c) if c.comm == Some(comm) && c.state == CommandState::CommInProgress => {
                self.command_to(owner, CommandState::CommError, Some(reason))
            }
            Body::Maintenance(m)
                if m.state == MaintState::CommInProgress && m.comms.contains(&comm) =>
            {
                self.maint_comm_failed(owner, reason)
            }
            _ => self.log_note(
                owner,
                format!(
                    "{} failed after its owner moved on",
                    reason.reference.unwrap_or_default()
                ),
            ),
        }
    }
}
