//! Communications with the field work system and the head-end, and emails (§3.5, §3.6).

use super::activity::{LogLine, StatusReason};
use super::kinds::{Instant, Seq};
use super::messages::InboundMessage;
use super::states::{InState, LifecycleState, OutState};
use serde::{Deserialize, Serialize};

/// The external system a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The field work system.
    FieldWork,
    /// The meter head-end.
    HeadEnd,
    /// An email (work-order assignment).
    Email,
}

impl Target {
    /// The snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Target::FieldWork => "field_work",
            Target::HeadEnd => "head_end",
            Target::Email => "email",
        }
    }
}

/// The kind of outbound message (formats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Create a field activity in the field work system.
    FaCreate,
    /// Change a field activity (Update Orchestration).
    FaModify,
    /// Cancel a field activity (Cancel Orchestration).
    FaCancel,
    /// A head-end command.
    Command,
    /// An email.
    Email,
}

impl MessageKind {
    /// The snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            MessageKind::FaCreate => "fa_create",
            MessageKind::FaModify => "fa_modify",
            MessageKind::FaCancel => "fa_cancel",
            MessageKind::Command => "command",
            MessageKind::Email => "email",
        }
    }
}

/// An outbound communication (D1-COMMOUT).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    /// Its lifecycle state.
    pub state: OutState,
    /// The activity (or work order) it belongs to.
    pub owner: Seq,
    /// The owner's string id.
    pub owner_id: String,
    /// Where it goes.
    pub target: Target,
    /// What it is.
    pub message: MessageKind,
    /// The message body (formats.md "Outbound messages").
    pub payload: serde_json::Value,
    /// When it was handed to the outbox.
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub sent_at: Option<Instant>,
    /// The field work system acknowledged it (field work only).
    pub acknowledged: bool,
    /// The external system's id for it.
    pub external_id: Option<String>,
    /// The partner has taken it (its courier sets this after a successful delivery).
    pub delivered: bool,
    /// Every delivery attempt, oldest first: what a supervisor reads when a partner fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<DeliveryAttempt>,
}

impl Outbound {
    /// True while a courier should still hand it to its partner: not yet taken, and still
    /// wanted (awaiting its answer, or an e-mail, which is complete when written).
    pub fn awaits_delivery(&self) -> bool {
        !self.delivered
            && match self.target {
                Target::Email => self.state == OutState::Completed,
                Target::FieldWork | Target::HeadEnd => self.state == OutState::AwaitingResponse,
            }
    }
}

/// One try at handing an outbound message to its partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// When it ended (engine time).
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
    /// True when the partner took the message.
    pub ok: bool,
    /// What happened: `HTTP 200 in 12 ms`, `HTTP 503: busy`, `timed out after 10 s`…
    pub detail: String,
}

/// An inbound communication (D1-COMMIN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    /// Its lifecycle state.
    pub state: InState,
    /// The message as received.
    pub message: InboundMessage,
    /// The outbound communication it answers, once matched.
    pub answers: Option<Seq>,
    /// How many times matching was tried.
    pub tries: u32,
}

/// Outbound or inbound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "direction", rename_all = "snake_case")]
pub enum CommBody {
    /// Sent by the engine.
    Outbound(Outbound),
    /// Received from outside.
    Inbound(Inbound),
}

/// A communication record with the common header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    /// The internal sequence number.
    pub seq: Seq,
    /// `CO-<n>` or `CI-<n>`.
    pub id: String,
    /// When it was created.
    #[serde(with = "crate::domain::stored_time")]
    pub created_at: Instant,
    /// When it entered its current state.
    pub status_at: Instant,
    /// Why it is in its state.
    pub status_reason: Option<StatusReason>,
    /// When a monitor must look at it next (response timeout, inbound auto-retry).
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub due_at: Option<Instant>,
    /// The transition log.
    pub log: Vec<LogLine>,
    /// Outbound or inbound.
    pub body: CommBody,
}

impl Communication {
    /// The current state's code.
    pub fn state_code(&self) -> &'static str {
        match &self.body {
            CommBody::Outbound(o) => o.state.code(),
            CommBody::Inbound(i) => i.state.code(),
        }
    }
    /// True when final.
    pub fn is_final(&self) -> bool {
        match &self.body {
            CommBody::Outbound(o) => o.state.is_final(),
            CommBody::Inbound(i) => i.state.is_final(),
        }
    }
    /// The outbound part, if outbound.
    pub fn outbound(&self) -> Option<&Outbound> {
        match &self.body {
            CommBody::Outbound(o) => Some(o),
            CommBody::Inbound(_) => None,
        }
    }
}
