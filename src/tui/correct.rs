//! Correcting a request in VALIDATION_ERROR at the desk, the twin of `orderdesk edit`: one
//! prompt per correctable field, prefilled with its current value (Enter keeps or changes it),
//! then one question that corrects the request and retries it, so the retry does not bounce
//! straight back to VALIDATION_ERROR.

use super::app::{App, Effect, Purpose};
use crate::client::Request;
use crate::engine::ActivityTree;
use crate::lifecycle::OrchState;
use crate::timefmt::Times;
use serde_json::Value;

/// A correction under way: the fields asked, the one asked now, and what changed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The request orchestration.
    pub id: String,
    /// Each correctable field with its current value, as `edit --set` reads it back.
    pub fields: Vec<(&'static str, String)>,
    /// The field asked now.
    pub at: usize,
    /// The fields changed so far, with their new values.
    pub sets: Vec<(String, String)>,
}

/// Starts correcting request `id`: refused, with why, unless it is in VALIDATION_ERROR.
pub fn start(app: &mut App, id: &str) -> Vec<Effect> {
    let tree = match app.api.show(id) {
        Ok(tree) => tree,
        Err(err) => return app.say(&err.to_string(), true),
    };
    let stuck = OrchState::ValidationError.code();
    if tree.state != stuck {
        let message = format!(
            "{id} is {}: only a request in {stuck} is corrected (then retried)",
            tree.state
        );
        return app.say(&message, true);
    }
    let times = super::views::times(app);
    let correction = Correction {
        id: tree.id.clone(),
        fields: fields(&tree, &times),
        at: 0,
        sets: Vec::new(),
    };
    ask(app, correction)
}

/// Opens the prompt for the field `correction.at`.
fn ask(app: &mut App, correction: Correction) -> Vec<Effect> {
    let (field, current) = correction.fields[correction.at].clone();
    let hint = match field {
        "effective_datetime" => " (2025-06-12T08:00:00-05:00; empty: none)",
        "service_agreements" => " (comma-separated)",
        _ => "",
    };
    let prompt = format!(
        "Correct {} ({}/{}): {field}{hint}. Enter keeps or changes it; Esc leaves the request as it was",
        correction.id,
        correction.at + 1,
        correction.fields.len()
    );
    app.prompt(&prompt, current, Purpose::Correct(Box::new(correction)))
}

/// The answer for the field asked: kept or changed, then the next field, or the question.
pub fn answer(app: &mut App, mut correction: Correction, text: String) -> Vec<Effect> {
    let (field, current) = correction.fields[correction.at].clone();
    if text != current.trim() {
        if let Err(why) = check(field, &text) {
            return app.say(&why, true);
        }
        correction.sets.push((field.to_string(), text));
    }
    correction.at += 1;
    if correction.at < correction.fields.len() {
        return ask(app, correction);
    }
    let Correction { id, sets, .. } = correction;
    if sets.is_empty() {
        return app.say(
            &format!("{id} was not corrected: every field kept its value"),
            false,
        );
    }
    let list = sets
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    app.confirm(
        format!("Correct {id} ({list}) and retry it?"),
        Request::Edit {
            id,
            sets,
            retry: true,
        },
    )
}

/// Catches at the prompt what the engine would refuse, so the entry can be corrected there.
fn check(field: &str, text: &str) -> Result<(), String> {
    match field {
        "effective_datetime" if !text.is_empty() => chrono::DateTime::parse_from_rfc3339(text)
            .map(|_| ())
            .map_err(|e| {
                format!("effective_datetime `{text}`: {e}; write it as 2025-06-12T08:00:00-05:00")
            }),
        "sp" if text.is_empty() => Err("sp: a request needs a service point".into()),
        _ => Ok(()),
    }
}

/// The correctable fields of a request, with their current values; the arrears fields only
/// for a request that carries them or a Cut for Non-Payment.
fn fields(tree: &ActivityTree, times: &Times) -> Vec<(&'static str, String)> {
    let f = &tree.fields;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let effective = f["effective"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(String::new(), |t| times.rfc3339(t.to_utc()));
    let agreements = f["service_agreements"]
        .as_array()
        .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let mut fields = vec![
        ("effective_datetime", effective),
        ("sp", text(&f["sp_id"])),
        ("service_agreements", agreements),
        ("contact.name", text(&f["contact"]["name"])),
        ("contact.phone", text(&f["contact"]["phone"])),
        ("contact.email", text(&f["contact"]["email"])),
        ("comments", text(&f["comments"])),
    ];
    if !f["collection_data"].is_null() || tree.activity_type == "cut_for_non_payment" {
        let c = &f["collection_data"];
        fields.extend([
            (
                "collection_data.past_due_amount",
                text(&c["past_due_amount"]),
            ),
            ("collection_data.currency", text(&c["currency"])),
            ("collection_data.collection_ref", text(&c["collection_ref"])),
            ("collection_data.due_date", text(&c["due_date"])),
        ]);
    }
    fields
}
