//! The messages partners send back (§8, §12.3, §12.10) and the crew's completion report: the
//! vocabulary the communication records and the lifecycle speak, so it lives in the domain and
//! the file formats read into it (their strict wire rules are in `formats`).

use super::{code_enum, DeviceSpec, Instant, Reading, WoStatus};
use serde::{Deserialize, Serialize};

/// One message from the field work system, the head-end or a work-order partner.
///
/// Serialized, a message is exactly its line in an inbound file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InboundMessage {
    /// The receiver took an outbound communication; the field work system adds its own id.
    Ack {
        /// The outbound communication answered.
        comm: String,
        /// The external system's id for the work.
        external_id: Option<String>,
    },
    /// The receiver refused an outbound communication.
    Fault {
        /// The outbound communication answered.
        comm: String,
        /// The receiver's error code.
        code: String,
        /// The receiver's explanation.
        message: String,
    },
    /// An interim field status; it updates attributes only.
    FaStatus {
        /// The field work system's id for the work.
        external_id: String,
        /// The interim status.
        status: FaInterim,
        /// When the status was reached.
        #[serde(with = "crate::domain::stored_time")]
        at: Instant,
    },
    /// The field work is done, not done or cancelled.
    FaComplete(FaCompletion),
    /// The field cancelled the work.
    FaCancelled {
        /// The field work system's id for the work.
        external_id: String,
        /// The cancel reason code (`CXS`).
        reason: String,
    },
    /// The head-end's result for a command.
    CommandResult {
        /// The outbound communication answered.
        comm: String,
        /// Whether the command worked.
        outcome: CommandOutcome,
        /// When the head-end ran it.
        #[serde(default, with = "crate::domain::stored_time::option")]
        at: Option<Instant>,
        /// The fault code (required for a fault).
        code: Option<String>,
        /// The fault explanation.
        message: Option<String>,
        /// Readings taken (on-demand read).
        #[serde(default)]
        readings: Vec<Reading>,
    },
    /// A partner's work-order status (§12.10).
    WoStatus {
        /// The work-order id.
        wo: String,
        /// The new status.
        status: WoStatus,
        /// Who reported it (`partner`).
        source: Option<String>,
        /// When it changed.
        #[serde(default, with = "crate::domain::stored_time::option")]
        at: Option<Instant>,
    },
}

/// A field completion message (`fa_complete`), matched by `comm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaCompletion {
    /// The outbound communication (`fa_create`) answered.
    pub comm: String,
    /// Complete, not done or cancelled.
    pub status: CompletionStatus,
    /// When the work finished.
    #[serde(default)]
    #[serde(with = "crate::domain::stored_time::option")]
    pub at: Option<Instant>,
    /// The crew's remarks.
    #[serde(default)]
    pub remarks: Option<String>,
    /// The device installed.
    #[serde(default)]
    pub device: Option<DeviceSpec>,
    /// The device removed (exchange, removal).
    #[serde(default)]
    pub old_device: Option<OldDevice>,
    /// Readings taken.
    #[serde(default)]
    pub readings: Vec<Reading>,
    /// The field work system's id; when given it must agree with the communication's.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// What the crew reports, without the message routing: the file `complete-fa --from` reads.
///
/// The field activity is named on the command line, and a manual completion may answer no open
/// communication, so there is no `comm` or `external_id` here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionReport {
    /// Complete, not done or cancelled.
    pub status: CompletionStatus,
    /// When the work finished.
    #[serde(default)]
    #[serde(with = "crate::domain::stored_time::option")]
    pub at: Option<Instant>,
    /// The crew's remarks.
    #[serde(default)]
    pub remarks: Option<String>,
    /// The device installed.
    #[serde(default)]
    pub device: Option<DeviceSpec>,
    /// The device removed (exchange, removal).
    #[serde(default)]
    pub old_device: Option<OldDevice>,
    /// Readings taken.
    #[serde(default)]
    pub readings: Vec<Reading>,
}

impl From<FaCompletion> for CompletionReport {
    fn from(c: FaCompletion) -> Self {
        CompletionReport {
            status: c.status,
            at: c.at,
            remarks: c.remarks,
            device: c.device,
            old_device: c.old_device,
            readings: c.readings,
        }
    }
}

/// The device a crew took out, to be checked against the one on record (§12.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OldDevice {
    /// The device id.
    pub id: String,
    /// The badge read in the field.
    pub badge: String,
}

code_enum! {
    /// The interim statuses of field work (§8).
    FaInterim { EnRoute => "en_route", Started => "started", Suspended => "suspended" }
}

code_enum! {
    /// How field work ended (§8); `cancelled` means the same as an `fa_cancelled` message.
    CompletionStatus { Complete => "complete", NotDone => "not_done", Cancelled => "cancelled" }
}

code_enum! {
    /// Whether a head-end command worked.
    CommandOutcome { Ok => "ok", Fault => "fault" }
}
