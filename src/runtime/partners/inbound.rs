//! Answers from a partner, record by record: what `POST /v1/inbound` with a partner's token
//! and the simulated partners go through. Each well-formed record is applied (or kept in the
//! error inbox, as `orderdesk inbound` does); a malformed one is rejected with its line and
//! field; a record received before is acknowledged as a duplicate and changes nothing.

use crate::engine::EngineError;
use crate::formats::{parse_inbound_lines, InboundMessage};
use crate::runtime::EngineHandle;
use serde::{Deserialize, Serialize};

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAnswer {
    /// Its line in the request (its place, for a JSON array), from 1.
    pub record: usize,
    /// `accepted`, `duplicate` (received before; nothing happened again) or `rejected`.
    pub status: String,
    /// The inbound communication that holds it (for a duplicate, the first one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// The outbound message it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    /// Why it was rejected: `BAD_RECORD` (fix it and send it again) or the error inbox's code
    /// (`UNMATCHED_MESSAGE`, `ALREADY_FINAL`…: kept for a person, do not send it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
}

/// A rejected record's code and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// The machine-readable code.
    pub code: String,
    /// What is wrong, naming the line and the field.
    pub message: String,
}

/// The answer to a partner's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerAnswer {
    /// The partner the token belongs to.
    pub partner: String,
    /// Records applied.
    pub accepted: usize,
    /// Records received before.
    pub duplicates: usize,
    /// Records rejected.
    pub rejected: usize,
    /// One entry per record, in order.
    pub results: Vec<RecordAnswer>,
}

/// Splits a request body into numbered lines: JSON Lines as sent, a JSON array one element per
/// line, one (possibly pretty-printed) object as one line.
fn as_lines(body: &[u8]) -> Vec<u8> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        if let Ok(items) = serde_json::from_slice::<Vec<serde_json::Value>>(trimmed) {
            let mut lines = Vec::new();
            for item in items {
                lines.extend(serde_json::to_vec(&item).unwrap_or_default());
                lines.push(b'\n');
            }
            return lines;
        }
    }
    if let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_slice(trimmed) {
        return serde_json::to_vec(&value).unwrap_or_default();
    }
    body.to_vec()
}

/// Applies `partner`'s records in `body`; blocks while the writer applies them.
pub fn receive(
    handle: &EngineHandle,
    partner: &str,
    body: &[u8],
) -> Result<PartnerAnswer, EngineError> {
    let (messages, problems) = parse_inbound_lines(&as_lines(body));
    let mut results: Vec<RecordAnswer> = problems
        .into_iter()
        .map(|problem| RecordAnswer {
            record: problem.line,
            status: "rejected".into(),
            comm: None,
            answers: None,
            error: Some(RecordError {
                code: "BAD_RECORD".into(),
                message: problem.to_string(),
            }),
        })
        .collect();
    results.extend(apply(handle, messages)?);
    results.sort_by_key(|r| r.record);
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    let answer = PartnerAnswer {
        partner: partner.to_string(),
        accepted: count("accepted"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        results,
    };
    handle.metrics().inbound(partner, &answer);
    Ok(answer)
}

/// Applies well-formed messages in one transaction; one answer each.
pub(crate) fn apply(
    handle: &EngineHandle,
    messages: Vec<(usize, InboundMessage)>,
) -> Result<Vec<RecordAnswer>, EngineError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    // Durable before the partner hears "accepted": it will not send the record again.
    let lines = handle.write(move |engine, now| {
        let lines = engine.receive_from_system(now, messages)?;
        engine.flush()?;
        Ok(lines)
    })?;
    Ok(lines
        .into_iter()
        .map(|line| {
            let status = match (&line.error, line.duplicate) {
                (_, true) => "duplicate",
                (Some(_), false) => "rejected",
                (None, false) => "accepted",
            };
            RecordAnswer {
                record: line.line,
                status: status.into(),
                comm: Some(line.comm),
                answers: line.answers,
                error: line
                    .error
                    .filter(|_| !line.duplicate)
                    .map(|reason| RecordError {
                        message: reason
                            .text
                            .clone()
                            .unwrap_or_else(|| reason.code.replace('_', " ").to_lowercase()),
                        code: reason.code,
                    }),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::as_lines;

    #[test]
    fn arrays_and_single_objects_become_numbered_lines() {
        let array = br#" [{"kind":"ack","comm":"CO-1"},
            {"kind":"ack","comm":"CO-2"}]"#;
        assert_eq!(
            String::from_utf8(as_lines(array)).unwrap(),
            "{\"comm\":\"CO-1\",\"kind\":\"ack\"}\n{\"comm\":\"CO-2\",\"kind\":\"ack\"}\n"
        );
        let pretty = b"{\n  \"kind\": \"ack\",\n  \"comm\": \"CO-1\"\n}\n";
        assert_eq!(as_lines(pretty).iter().filter(|&&b| b == b'\n').count(), 0);
        let lines = b"{\"kind\":\"ack\",\"comm\":\"CO-1\"}\n{\"kind\":\"ack\"}\n";
        assert_eq!(as_lines(lines), lines.to_vec());
    }
}
