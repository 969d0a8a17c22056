//! Activities: orchestrations, maintenance activities, field activities and smart meter
//! commands, with their transition log, status reason and completion events (§1.2, §1.3).

use super::kinds::{ActivityType, CommandKind, FieldTask, Instant, Seq};
use super::reference::Reading;
use super::request::{CollectionData, Contact, DeviceSpec, RequestInfo};
use super::states::{CommandState, EventState, FaState, LifecycleState, MaintState, OrchState};
use serde::{Deserialize, Serialize};

/// Why an activity is in its state: `{code, ref?, text?}` (§12.9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReason {
    /// The code (`EXPIRED`, `CHILD_ERROR`, `DUPLICATE_REQUEST`, a cancel reason…).
    pub code: String,
    /// The id of the record the reason points at, if any.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Free text (an operator's discard text, a fault message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl StatusReason {
    /// A reason with just a code.
    pub fn code(code: &str) -> Self {
        StatusReason {
            code: code.to_string(),
            reference: None,
            text: None,
        }
    }
    /// A reason pointing at another record.
    pub fn with_ref(code: &str, reference: &str) -> Self {
        StatusReason {
            reference: Some(reference.to_string()),
            ..StatusReason::code(code)
        }
    }
    /// A reason with free text.
    pub fn with_text(code: &str, text: &str) -> Self {
        StatusReason {
            text: Some(text.to_string()),
            ..StatusReason::code(code)
        }
    }
}

/// One line of an activity's transition log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When it happened (engine time).
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
    /// The state left, for a transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The state entered, for a transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What happened, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What kind of child an orchestration creates: a field task or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "child", content = "kind", rename_all = "snake_case")]
pub enum ChildKind {
    /// A field activity for this task.
    Field(FieldTask),
    /// A smart meter command of this kind.
    Command(CommandKind),
}

impl std::fmt::Display for ChildKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChildKind::Field(task) => f.write_str(task.code()),
            ChildKind::Command(kind) => f.write_str(kind.code()),
        }
    }
}

/// A message to the requesting system (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The request was received.
    Ack,
    /// The request completed.
    Success,
    /// The request was discarded or cancelled.
    Failure,
}

/// A notification recorded on the activity (§12.3 formats: "recorded on the activity").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Ack, success or failure.
    pub kind: NotificationKind,
    /// When it was sent.
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
    /// The requesting system.
    pub to: String,
}

/// The Exchange Meter flags (§2.2 Exchange, §12.13).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeState {
    /// The device to be removed.
    pub old_device_id: Option<String>,
    /// The device to be installed, when the requester names it.
    pub new_device: Option<DeviceSpec>,
    /// Whether the new device should be connected (D1-CONPRECON).
    pub connect_new_device: Option<bool>,
    /// The exchange field activity completed.
    pub exchange_done: bool,
    /// The old device was smart and commissioned when the exchange was planned.
    pub old_was_smart_commissioned: bool,
    /// The old device's Decommission completed.
    pub old_decommissioned: bool,
}

/// The Back-to-Back fields (§1.3, §2.2 Back-to-Back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackToBackState {
    /// The customer moving out.
    pub outgoing_customer: Option<String>,
    /// The customer moving in.
    pub incoming_customer: Option<String>,
    /// The incoming customer's billing account.
    pub incoming_account: Option<String>,
    /// Whether a read is needed (default true).
    pub read_required: bool,
    /// The read child completed.
    pub read_done: bool,
}

/// A request orchestration (one of the six request types) (§1.3, §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Orchestration {
    /// Its lifecycle state.
    pub state: OrchState,
    /// One of the six request types.
    pub activity_type: ActivityType,
    /// The service point.
    pub sp_id: String,
    /// The customer served at the service point when the request arrived (the feed's owner).
    #[serde(default)]
    pub customer: Option<String>,
    /// The billing account served there.
    #[serde(default)]
    pub account: Option<String>,
    /// When the request was received.
    #[serde(with = "crate::domain::stored_time")]
    pub service_datetime: Instant,
    /// A future value makes the activity wait in WAIT_EFF_DATE.
    pub effective: Option<Instant>,
    /// Service agreements.
    pub service_agreements: Vec<String>,
    /// The requester.
    pub request_info: RequestInfo,
    /// Arrears data (CNP).
    pub collection_data: Option<CollectionData>,
    /// The contact person.
    pub contact: Option<Contact>,
    /// Comments and instructions.
    pub comments: Option<String>,
    /// Set on entry to IN_PROGRESS, cleared on exit (§5.1).
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub expiration: Option<Instant>,
    /// How many ARE_SP_READY passes ran since creation or the last retry.
    pub pass: u32,
    /// A kind the next passes must not recreate (cancel of one child, §3.2).
    pub skip_kind: Option<ChildKind>,
    /// A Reconnect that supersedes this CNP (§12.7).
    pub superseded_by: Option<String>,
    /// A whole-orchestration Cancel acting on this activity freezes its monitors (§12.7).
    pub frozen_by: Option<Seq>,
    /// Conflict warnings (an opposing request on the same SP, §5.2).
    pub warnings: Vec<String>,
    /// Notifications sent to the requester.
    pub notifications: Vec<Notification>,
    /// Exchange Meter flags.
    pub exchange: Option<ExchangeState>,
    /// Back-to-Back fields.
    pub back_to_back: Option<BackToBackState>,
}

/// A Cancel or Update Orchestration (§3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    /// Its lifecycle state.
    pub state: MaintState,
    /// Cancel or Update Orchestration.
    pub activity_type: ActivityType,
    /// The orchestration id it targets, as given.
    pub target_id: String,
    /// The related child id, as given.
    pub related_id: Option<String>,
    /// The cancel reason code (Cancel).
    pub cancel_reason: Option<String>,
    /// New comments or instructions (Update).
    pub comments: Option<String>,
    /// New start date/time (Update).
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub start: Option<Instant>,
    /// The requester (the operator for desk-filed activities).
    pub request_info: RequestInfo,
    /// Notifications sent to the requester.
    pub notifications: Vec<Notification>,
    /// The outbound communications of the current attempt.
    pub comms: Vec<Seq>,
}

/// Interim status the field reports (`en_route`, `started`) — an attribute, not a state (S24).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interim {
    /// The status code.
    pub status: String,
    /// When the field reported it.
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
}

/// The completion data a field activity received (inbound or by hand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCompletion {
    /// complete, not_done or cancelled.
    pub status: String,
    /// When the work was done.
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub at: Option<Instant>,
    /// The crew's remarks.
    pub remarks: Option<String>,
    /// The device found or installed.
    pub device: Option<DeviceSpec>,
    /// The device removed, as identified by the crew.
    pub old_device: Option<DeviceSpec>,
    /// Readings taken.
    pub readings: Vec<Reading>,
    /// The inbound communication that carried it (none when entered by hand).
    pub source: Option<String>,
}

/// A service order field activity (§3.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldActivity {
    /// Its lifecycle state.
    pub state: FaState,
    /// The field task type.
    pub task: FieldTask,
    /// The service point.
    pub sp_id: String,
    /// The device at the service point when created.
    pub device_id: Option<String>,
    /// The address sent to the field.
    pub address: String,
    /// When the work may start.
    #[serde(with = "crate::domain::stored_time")]
    pub effective: Instant,
    /// Instructions for the crew.
    pub instructions: Option<String>,
    /// The field work system's id (from its ack).
    pub external_id: Option<String>,
    /// The last interim status from the field.
    pub interim: Option<Interim>,
    /// The open outbound communication (`fa_create`).
    pub comm: Option<Seq>,
    /// The completion received, kept so a COMPLETION_ERROR retry can re-run its events.
    pub completion: Option<FieldCompletion>,
    /// The completion events.
    pub events: Vec<CompletionEvent>,
    /// The maintenance activity whose `fa_cancel` awaits the field's acknowledgement.
    pub cancel_by: Option<Seq>,
}

/// A smart meter command (§3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Its lifecycle state.
    pub state: CommandState,
    /// What the head-end is asked to do.
    pub kind: CommandKind,
    /// The device it acts on (kept so Decommission finds the old meter, §12.5).
    pub device_id: String,
    /// The service point.
    pub sp_id: String,
    /// The earliest time it may be sent.
    #[serde(with = "crate::domain::stored_time")]
    pub effective: Instant,
    /// Only the D1-CRWTO batch releases a throttled command (§4.2).
    pub throttled: bool,
    /// The open outbound communication.
    pub comm: Option<Seq>,
    /// Readings returned (on-demand read).
    pub readings: Vec<Reading>,
    /// The completion events.
    pub events: Vec<CompletionEvent>,
}

/// What a completion event does to the snapshot (§2.1, §12.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The device leaves the service point (checked against the crew's badge).
    RemoveDevice {
        /// The device removed.
        device_id: String,
        /// The badge the crew reported, when given.
        badge: Option<String>,
    },
    /// A device is installed, switch Off.
    InstallDevice {
        /// The device installed.
        device: DeviceSpec,
    },
    /// The service point is connected at the source.
    ConnectAtSource,
    /// The switch is set On.
    SwitchOn,
    /// The switch is set Off.
    SwitchOff,
    /// A reading is stored (Create IMD).
    CreateImd {
        /// The readings.
        readings: Vec<Reading>,
    },
    /// The device is registered with the head-end.
    Commissioning,
    /// The device is removed from the head-end.
    Decommissioning,
    /// Remarks only.
    Remarks {
        /// The text.
        text: String,
    },
}

/// A completion event with its state (§3.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionEvent {
    /// What it does.
    pub kind: EventKind,
    /// PENDING, EXECUTED, ERROR or DISCARDED.
    pub state: EventState,
    /// The inbound communication it came from.
    pub source: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// The four kinds of activity record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Body {
    /// A request orchestration.
    Orchestration(Orchestration),
    /// A Cancel or Update Orchestration.
    Maintenance(Maintenance),
    /// A field activity.
    Field(FieldActivity),
    /// A smart meter command.
    Command(Command),
}

/// An activity record: the common header and its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// The internal sequence number.
    pub seq: Seq,
    /// The string id (`SO-1`, `FA-3`…).
    pub id: String,
    /// The parent orchestration (children only).
    pub parent: Option<Seq>,
    /// When it was created.
    #[serde(with = "crate::domain::stored_time")]
    pub created_at: Instant,
    /// When it entered its current state.
    pub status_at: Instant,
    /// Why it is in its state.
    pub status_reason: Option<StatusReason>,
    /// When a monitor must look at it next.
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub due_at: Option<Instant>,
    /// A child cancelled or rejected by a Cancel, Retry or Discard: not a failure of the pass.
    pub excused: bool,
    /// The transition log.
    pub log: Vec<LogLine>,
    /// The kind-specific part.
    pub body: Body,
}

impl Activity {
    /// The current state's code.
    pub fn state_code(&self) -> &'static str {
        match &self.body {
            Body::Orchestration(o) => o.state.code(),
            Body::Maintenance(m) => m.state.code(),
            Body::Field(f) => f.state.code(),
            Body::Command(c) => c.state.code(),
        }
    }
    /// True when the activity can no longer change.
    pub fn is_final(&self) -> bool {
        match &self.body {
            Body::Orchestration(o) => o.state.is_final(),
            Body::Maintenance(m) => m.state.is_final(),
            Body::Field(f) => f.state.is_final(),
            Body::Command(c) => c.state.is_final(),
        }
    }
    /// True for orchestrations and maintenance activities (what `list` shows).
    pub fn is_top_level(&self) -> bool {
        matches!(self.body, Body::Orchestration(_) | Body::Maintenance(_))
    }
    /// The kind name shown in hierarchies: the activity type, task code or command kind.
    pub fn kind_name(&self) -> String {
        match &self.body {
            Body::Orchestration(o) => o.activity_type.code().to_string(),
            Body::Maintenance(m) => m.activity_type.code().to_string(),
            Body::Field(f) => f.task.code().to_string(),
            Body::Command(c) => c.kind.code().to_string(),
        }
    }
    /// The child kind, for children.
    pub fn child_kind(&self) -> Option<ChildKind> {
        match &self.body {
            Body::Field(f) => Some(ChildKind::Field(f.task)),
            Body::Command(c) => Some(ChildKind::Command(c.kind)),
            _ => None,
        }
    }
    /// The service point it acts on (maintenance activities act on none directly).
    pub fn sp_id(&self) -> Option<&str> {
        match &self.body {
            Body::Orchestration(o) => Some(&o.sp_id),
            Body::Field(f) => Some(&f.sp_id),
            Body::Command(c) => Some(&c.sp_id),
            Body::Maintenance(_) => None,
        }
    }
    /// The activity type for top-level activities.
    pub fn activity_type(&self) -> Option<ActivityType> {
        match &self.body {
            Body::Orchestration(o) => Some(o.activity_type),
            Body::Maintenance(m) => Some(m.activity_type),
            _ => None,
        }
    }
    /// True when the state is one an operator must look at (an error state).
    pub fn is_error(&self) -> bool {
        self.state_code().ends_with("_ERROR")
    }
}
