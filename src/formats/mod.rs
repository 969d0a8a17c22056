//! The JSON Lines files orderdesk reads: import records and inbound messages (`spec/formats.md`).
//!
//! A file is checked whole: either every line parses, or the caller gets every error, each naming
//! its line and, where there is one, the field path (`device.switch`, `readings[0].value`).
//! Lines are split on `\n` (a trailing `\r` is dropped) and blank lines are skipped.

mod import;
mod inbound;
mod wire;

#[cfg(test)]
mod tests;

pub use import::{
    parse_import, FeedCategory, FeedItemRecord, FeedSubtype, ImportRecord, MoveRecord,
    RequestRecord, WoKind, WoOrigin, WoStatus, WorkOrderRecord,
};
pub use inbound::{
    parse_completion_report, parse_inbound, parse_inbound_lines, CommandOutcome, CompletionReport,
    CompletionStatus, FaCompletion, FaInterim, InboundMessage, OldDevice,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

/// The longest line accepted, in bytes (without its line break).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// At most this many errors are listed when a [`FileErrors`] is displayed.
const ERRORS_SHOWN: usize = 20;

/// Editors on some systems start a UTF-8 file with a byte-order mark; it is not part of the JSON.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One problem in one line of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// The 1-based line number.
    pub line: usize,
    /// The field path (`sp`, `device.switch`, `readings[0].value`), when the problem has one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: field `{field}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for LineError {}

/// Every problem found in a file, in line order; a file with any of them is rejected whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[error("{}", summarize(.0))]
pub struct FileErrors(pub Vec<LineError>);

/// One error per line of text, the first [`ERRORS_SHOWN`] of them, then a count of the rest.
fn summarize(errors: &[LineError]) -> String {
    let mut lines: Vec<String> = errors
        .iter()
        .take(ERRORS_SHOWN)
        .map(|e| e.to_string())
        .collect();
    if errors.len() > ERRORS_SHOWN {
        lines.push(format!("… and {} more", errors.len() - ERRORS_SHOWN));
    }
    lines.join("\n")
}

/// A problem found in a record before its line number is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    field: Option<String>,
    message: String,
}

impl Problem {
    /// A problem with one field.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A problem with the line as a whole.
    pub(crate) fn line(message: impl Into<String>) -> Self {
        Problem {
            field: None,
            message: message.into(),
        }
    }

    /// Attaches the line number.
    pub(crate) fn at(self, line: usize) -> LineError {
        LineError {
            line,
            field: self.field,
            message: self.message,
        }
    }
}

/// The records of a file read so far and the errors found on the way.
pub(crate) struct Parsed<T> {
    pub(crate) records: Vec<(usize, T)>,
    pub(crate) errors: Vec<LineError>,
}

impl<T> Parsed<T> {
    /// The records, or every error in line order.
    pub(crate) fn finish(mut self) -> Result<Vec<(usize, T)>, FileErrors> {
        if self.errors.is_empty() {
            return Ok(self.records);
        }
        // Stable, so the errors of one line keep the order they were found in.
        self.errors.sort_by_key(|e| e.line);
        Err(FileErrors(self.errors))
    }
}

/// Reads every non-blank line of `bytes` as a JSON object and hands its `kind` and the rest of the
/// object to `record`, collecting what it returns.
pub(crate) fn read_records<T>(
    bytes: &[u8],
    mut record: impl FnMut(&str, Map<String, Value>) -> Result<T, Problem>,
) -> Parsed<T> {
    let mut parsed = Parsed {
        records: Vec::new(),
        errors: Vec::new(),
    };
    for (line, raw) in lines(bytes) {
        let outcome = line_text(line, raw)
            .and_then(object_with_kind)
            .and_then(|(kind, body)| record(&kind, body));
        match outcome {
            Ok(value) => parsed.records.push((line, value)),
            Err(problem) => parsed.errors.push(problem.at(line)),
        }
    }
    parsed
}

/// The non-blank lines, numbered from 1, without their line breaks.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
}

/// The text of one line, if it is short enough and UTF-8.
fn line_text(line: usize, raw: &[u8]) -> Result<&str, Problem> {
    if raw.len() > MAX_LINE_BYTES {
        return Err(Problem::line(format!("longer than {MAX_LINE_BYTES} bytes")));
    }
    let raw = match line {
        1 => raw.strip_prefix(BOM).unwrap_or(raw),
        _ => raw,
    };
    std::str::from_utf8(raw).map_err(|e| {
        Problem::line(format!(
            "not valid UTF-8 (byte {}); save the file as UTF-8",
            e.valid_up_to() + 1
        ))
    })
}

/// Splits a line into its `kind` and the rest of its object.
fn object_with_kind(text: &str) -> Result<(String, Map<String, Value>), Problem> {
    let value: Value = serde_json::from_str(text).map_err(wire::syntax_problem)?;
    let Value::Object(mut body) = value else {
        return Err(Problem::line(format!(
            "expected a JSON object, found {}",
            wire::describe(&value)
        )));
    };
    match body.remove("kind") {
        Some(Value::String(kind)) => Ok((kind, body)),
        Some(other) => Err(Problem::field(
            "kind",
            format!("expected a string, found {}", wire::describe(&other)),
        )),
        None => Err(Problem::field("kind", "missing: every line names its kind")),
    }
}

/// The error for a `kind` this file does not take.
pub(crate) fn unknown_kind(kind: &str, known: &[&str]) -> Problem {
    Problem::field(
        "kind",
        format!(
            "unknown kind `{kind}`, expected one of {}",
            known.join(", ")
        ),
    )
}
