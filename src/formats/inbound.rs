//! Inbound messages (`orderdesk inbound`, `spec/formats.md` "Inbound messages", §8, §12.3) and
//! the completion file of `orderdesk complete-fa --from FILE`.
//!
//! Matching a message to its communication is the engine's work: a well-formed message that
//! answers nothing still parses here and goes to the error inbox there.

use super::import::{wo_status_any_case, WoStatus};
use super::{read_records, unknown_kind, wire, FileErrors, LineError, Problem, BOM};
use crate::domain::{code_enum, DeviceSpec, Instant, Reading};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `kind`s an inbound file may hold.
const KINDS: &[&str] = &[
    "ack",
    "fault",
    "fa_status",
    "fa_complete",
    "fa_cancelled",
    "command_result",
    "wo_status",
];

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
        at: Option<Instant>,
    },
}

/// The wire contract of an inbound line, read as `{kind: body}`.
///
/// serde's internally tagged enums buffer the body before choosing the variant, and that loses
/// the path of an error inside it; this externally tagged twin keeps the path. `remote` makes the
/// compiler check that it builds exactly [`InboundMessage`].
#[derive(Deserialize)]
#[serde(
    remote = "InboundMessage",
    rename_all = "snake_case",
    deny_unknown_fields
)]
enum InboundLine {
    Ack {
        comm: String,
        #[serde(default)]
        external_id: Option<String>,
    },
    Fault {
        comm: String,
        code: String,
        message: String,
    },
    FaStatus {
        external_id: String,
        status: FaInterim,
        #[serde(deserialize_with = "wire::instant")]
        at: Instant,
    },
    FaComplete(FaCompletion),
    FaCancelled {
        external_id: String,
        reason: String,
    },
    CommandResult {
        comm: String,
        outcome: CommandOutcome,
        #[serde(default, deserialize_with = "wire::optional_instant")]
        at: Option<Instant>,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default, deserialize_with = "wire::readings")]
        readings: Vec<Reading>,
    },
    WoStatus {
        wo: String,
        #[serde(deserialize_with = "wo_status_any_case")]
        status: WoStatus,
        #[serde(default)]
        source: Option<String>,
        #[serde(default, deserialize_with = "wire::optional_instant")]
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
    #[serde(default, deserialize_with = "wire::optional_instant")]
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
    #[serde(default, deserialize_with = "wire::readings")]
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
    #[serde(default, deserialize_with = "wire::optional_instant")]
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
    #[serde(default, deserialize_with = "wire::readings")]
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

/// Parses an inbound file: every message with its line number, or every error in the file.
pub fn parse_inbound(bytes: &[u8]) -> Result<Vec<(usize, InboundMessage)>, FileErrors> {
    read_records(bytes, message).finish()
}

/// Parses each line on its own, as a partner's request is answered record by record: the
/// good messages and the problems, each with its line.
pub fn parse_inbound_lines(bytes: &[u8]) -> (Vec<(usize, InboundMessage)>, Vec<LineError>) {
    let parsed = read_records(bytes, message);
    (parsed.records, parsed.errors)
}

/// One line's message, from its `kind` and the rest of its object.
fn message(kind: &str, body: Map<String, Value>) -> Result<InboundMessage, Problem> {
    if !KINDS.contains(&kind) {
        return Err(unknown_kind(kind, KINDS));
    }
    let tagged = Value::Object(Map::from_iter([(kind.to_owned(), Value::Object(body))]));
    let message = wire::from_value_with(tagged, |d| InboundLine::deserialize(d))?;
    check(&message)?;
    Ok(message)
}

/// Rules one field cannot express on its own.
fn check(message: &InboundMessage) -> Result<(), Problem> {
    match message {
        InboundMessage::CommandResult {
            outcome: CommandOutcome::Fault,
            code: None,
            ..
        } => Err(Problem::field(
            "code",
            "missing: a command_result with outcome fault needs a code",
        )),
        _ => Ok(()),
    }
}

/// Parses the file of `orderdesk complete-fa --from FILE`: one JSON object (it may span lines)
/// with the fields of an `fa_complete` message other than `kind`, `comm` and `external_id`.
pub fn parse_completion_report(bytes: &[u8]) -> Result<CompletionReport, FileErrors> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    read_report(bytes).map_err(|(line, problem)| FileErrors(vec![problem.at(line.max(1))]))
}

/// The report in `bytes`, or the line and description of the first problem.
fn read_report(bytes: &[u8]) -> Result<CompletionReport, (usize, Problem)> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let report = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let line = e.inner().line();
        let problem = if e.inner().is_data() {
            wire::schema_problem(e.path(), wire::without_position(&e.inner().to_string()))
        } else {
            wire::syntax_problem(e.into_inner())
        };
        (line, problem)
    })?;
    json.end()
        .map_err(|e| (e.line(), wire::syntax_problem(e)))?;
    Ok(report)
}

#[cfg(test)]
mod tests;
