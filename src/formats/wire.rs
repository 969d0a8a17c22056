//! serde helpers shared by the file formats: strict times, dates and readings, and the translation
//! of serde's errors into [`Problem`]s that name the field path.

use super::Problem;
use crate::domain::{Instant, Reading};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_path_to_error::{Path, Segment, Track};
use std::fmt::{Display, Write as _};

/// How a time must look, shown in error messages.
const TIME_EXAMPLE: &str = "2025-06-10T09:00:00-05:00";

/// A required RFC 3339 time with an explicit offset.
pub(crate) fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
    let text = String::deserialize(d)?;
    parse_instant(&text).map_err(D::Error::custom)
}

/// An optional (absent or null) RFC 3339 time with an explicit offset.
pub(crate) fn optional_instant<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Instant>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| parse_instant(&text))
        .transpose()
        .map_err(D::Error::custom)
}

/// chrono's own `FromStr` accepts more than RFC 3339; a time without an offset would be read in
/// an unknown zone, so it is refused with a hint instead.
fn parse_instant(text: &str) -> Result<Instant, String> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(time) => Ok(time.with_timezone(&Utc)),
        Err(_) if NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok() => Err(
            format!("time `{text}` has no offset; add one, like {TIME_EXAMPLE}"),
        ),
        Err(_) => Err(format!(
            "expected an RFC 3339 time with an offset, like {TIME_EXAMPLE}, found `{text}`"
        )),
    }
}

/// A required calendar date (`2025-06-12`).
pub(crate) fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(d)?;
    parse_date(&text).map_err(D::Error::custom)
}

/// An optional (absent or null) calendar date.
pub(crate) fn optional_date<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| parse_date(&text))
        .transpose()
        .map_err(D::Error::custom)
}

/// A date as `YYYY-MM-DD`, the only form the formats use.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date like 2025-06-12, found `{text}`"))
}

/// Register readings, refusing unknown fields (the domain's `Reading` accepts them).
pub(crate) fn readings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Reading>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ReadingLine {
        register: String,
        value: String,
    }
    let lines = Vec::<ReadingLine>::deserialize(d)?;
    Ok(lines
        .into_iter()
        .map(|r| Reading {
            register: r.register,
            value: r.value,
        })
        .collect())
}

/// Deserializes the body of a line (its object without `kind`).
pub(crate) fn from_body<T: DeserializeOwned>(body: Map<String, Value>) -> Result<T, Problem> {
    from_value_with(Value::Object(body), |d| T::deserialize(d))
}

/// Runs `deserialize` on `value`, tracking where an error happens so the problem names the field.
pub(crate) fn from_value_with<T>(
    value: Value,
    deserialize: impl FnOnce(
        serde_path_to_error::Deserializer<'_, '_, Value>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, Problem> {
    let mut track = Track::new();
    let result = deserialize(serde_path_to_error::Deserializer::new(value, &mut track));
    result.map_err(|e| schema_problem(&track.path(), &e.to_string()))
}

/// A serde error at `path`, reworded for someone editing the file.
pub(crate) fn schema_problem(path: &Path, message: &str) -> Problem {
    let path = path_text(path);
    let child = |name: &str| match &path {
        Some(parent) => format!("{parent}.{name}"),
        None => name.to_owned(),
    };
    // serde reports a missing field at its parent; the reader wants the field itself.
    if let Some(name) = quoted_after(message, "missing field `") {
        return Problem::field(child(name), "missing (required)");
    }
    if let Some(name) = quoted_after(message, "unknown field `") {
        let name = key_text(name);
        let field = match &path {
            Some(p) if *p == name || p.ends_with(&format!(".{name}")) => p.clone(),
            _ => child(&name),
        };
        let expected = message.split_once(", ").map_or("", |(_, rest)| rest);
        return Problem::field(field, format!("unknown field; {expected}"));
    }
    let message = reword(message);
    match path {
        Some(field) => Problem::field(field, message),
        None => Problem::line(message),
    }
}

/// serde's "invalid type: X, expected Y" puts the found value first; readers look for the
/// expected one.
fn reword(message: &str) -> String {
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!("expected {expected}, found {found}");
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    message.to_owned()
}

/// The text between `prefix` (at the start of `message`) and the next backtick.
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}

/// `device.switch`, `readings[0].value`; `None` for the whole line.
fn path_text(path: &Path) -> Option<String> {
    let mut text = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(text, "[{index}]");
            }
            Segment::Map { key } => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(&key_text(key));
            }
            // The inbound reader wraps a line as `{kind: body}`; the kind is not a field.
            Segment::Enum { .. } => {}
            _ => text.push_str(".?"),
        }
    }
    (!text.is_empty()).then_some(text)
}

/// A key as a field path shows it: one that would read as blank or as another path (empty,
/// whitespace, control characters, `.`, `[`, quotes, backticks) in JSON quotes (`""`, `"\t"`).
fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && !key
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ".[]\"`".contains(c));
    match plain {
        true => key.to_owned(),
        false => Value::from(key).to_string(),
    }
}

/// A JSON syntax error; the line is known, so only the column is kept.
pub(crate) fn syntax_problem(error: serde_json::Error) -> Problem {
    let text = error.to_string();
    Problem::line(format!(
        "not valid JSON: {} (column {})",
        without_position(&text),
        error.column()
    ))
}

/// A serde_json message without the "at line L column C" it ends with.
pub(crate) fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((what, position))
            if position
                .split(" column ")
                .all(|n| n.parse::<usize>().is_ok()) =>
        {
            what
        }
        _ => message,
    }
}

/// The kind of a JSON value, for "expected …, found …" messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `a, b, c`, for "expected one of" messages.
pub(crate) fn one_of<T: Display>(values: impl IntoIterator<Item = T>) -> String {
    let codes: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    codes.join(", ")
}
