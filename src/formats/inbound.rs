//! Inbound messages (`orderdesk inbound`, `spec/formats.md` "Inbound messages", §8, §12.3) and
//! the completion file of `orderdesk complete-fa --from FILE`.
//!
//! Matching a message to its communication is the engine's work: a well-formed message that
//! answers nothing still parses here and goes to the error inbox there.
//!
//! The messages themselves are domain vocabulary ([`crate::domain::InboundMessage`]); what is
//! here is their wire contract: strict times and readings, and errors that name the field.

use super::import::{wo_status_any_case, WoStatus};
use super::{read_records, unknown_kind, wire, FileErrors, LineError, Problem, BOM};
pub use crate::domain::{
    CommandOutcome, CompletionReport, CompletionStatus, FaCompletion, FaInterim, InboundMessage,
    OldDevice,
};
use crate::domain::{DeviceSpec, Instant, Reading};
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_path_to_error::Track;

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
    FaComplete(#[serde(with = "FaCompletionLine")] FaCompletion),
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

/// The wire contract of an `fa_complete` line's body: [`FaCompletion`] with strict times and
/// readings.
#[derive(Deserialize)]
#[serde(remote = "FaCompletion", deny_unknown_fields)]
struct FaCompletionLine {
    comm: String,
    status: CompletionStatus,
    #[serde(default, deserialize_with = "wire::optional_instant")]
    at: Option<Instant>,
    #[serde(default)]
    remarks: Option<String>,
    #[serde(default)]
    device: Option<DeviceSpec>,
    #[serde(default)]
    old_device: Option<OldDevice>,
    #[serde(default, deserialize_with = "wire::readings")]
    readings: Vec<Reading>,
    #[serde(default)]
    external_id: Option<String>,
}

/// The wire contract of the `complete-fa --from` file: [`CompletionReport`] with strict times
/// and readings.
#[derive(Deserialize)]
#[serde(remote = "CompletionReport", deny_unknown_fields)]
struct CompletionReportLine {
    status: CompletionStatus,
    #[serde(default, deserialize_with = "wire::optional_instant")]
    at: Option<Instant>,
    #[serde(default)]
    remarks: Option<String>,
    #[serde(default)]
    device: Option<DeviceSpec>,
    #[serde(default)]
    old_device: Option<OldDevice>,
    #[serde(default, deserialize_with = "wire::readings")]
    readings: Vec<Reading>,
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
    let mut track = Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut json, &mut track);
    let report = CompletionReportLine::deserialize(tracked).map_err(|e| {
        let line = e.line();
        let problem = if e.is_data() {
            wire::schema_problem(&track.path(), wire::without_position(&e.to_string()))
        } else {
            wire::syntax_problem(e)
        };
        (line, problem)
    })?;
    json.end()
        .map_err(|e| (e.line(), wire::syntax_problem(e)))?;
    Ok(report)
}

#[cfg(test)]
mod tests;
