//! What a supervisor does to activities (retry, discard, execute now, cancel, update,
//! correct), shared by the orchestration list, the error inbox and the hierarchy: one
//! activity, or many after one question that says how many.

use super::app::{App, Effect, Purpose};
use super::keymap::KeyAction;
use super::wording::{activities, preview};
use crate::client::Request;

/// An action on activity `id`; in the hierarchy, `related` is the selected child, the subject
/// of retry and execute-now.
pub fn on(app: &mut App, key: KeyAction, id: String, related: Option<String>) -> Vec<Effect> {
    let subject = related.clone().unwrap_or_else(|| id.clone());
    let what = related
        .as_ref()
        .map_or(id.clone(), |r| format!("{r} of {id}"));
    match key {
        KeyAction::Retry => vec![Effect::Send(Request::Retry { id: subject })],
        KeyAction::ExecuteNow => {
            let q = format!("Execute {subject} now? This bypasses its effective date, business hours and the throttle.");
            app.confirm(q, Request::ExecuteNow { id: subject })
        }
        KeyAction::Discard => app.prompt(
            &format!("Discard {id}: why?"),
            String::new(),
            Purpose::Discard(id),
        ),
        KeyAction::CancelOrchestration => app.prompt(
            &format!("Cancel {what}: reason code (CR, CXS, D1-Undetermined, D1-AutoDiscarded)"),
            "CR".into(),
            Purpose::CancelOrchestration { id, related },
        ),
        KeyAction::Edit => super::correct::start(app, &id),
        KeyAction::Update => app.prompt(
            &format!("Update {what}: comments"),
            String::new(),
            Purpose::Update { id, related },
        ),
        _ => Vec::new(),
    }
}

/// An action on several marked activities: each is sent on its own, after one question (or
/// one prompt) that says how many.
pub fn on_marked(app: &mut App, key: KeyAction, ids: Vec<String>) -> Vec<Effect> {
    let rows = ids.len();
    if let [id] = ids.as_slice() {
        // One marked row is acted on as if it were the selected one.
        return on(app, key, id.clone(), None);
    }
    match key {
        KeyAction::Retry | KeyAction::Discard => {
            retry_or_discard(app, key == KeyAction::Retry, ids, "marked")
        }
        KeyAction::ExecuteNow => {
            let question = format!(
                "Execute {} now ({})? This bypasses their effective dates, business hours and the throttle.",
                activities(rows),
                preview(&ids)
            );
            let requests = ids
                .into_iter()
                .map(|id| Request::ExecuteNow { id })
                .collect();
            app.confirm_rows(question, requests, rows)
        }
        KeyAction::CancelOrchestration => app.prompt(
            &format!(
                "Cancel {} ({}): reason code (CR, CXS, D1-Undetermined, D1-AutoDiscarded)",
                activities(rows),
                preview(&ids)
            ),
            "CR".into(),
            Purpose::CancelMarked(ids),
        ),
        KeyAction::Update => app.prompt(
            &format!("Update {} ({}): comments", activities(rows), preview(&ids)),
            String::new(),
            Purpose::UpdateMarked(ids),
        ),
        _ => Vec::new(),
    }
}

/// Retry or discard many activities: a confirmation (retry) or a reason (discard) that
/// states how many, then one bulk request run in the background.
pub fn retry_or_discard(app: &mut App, retry: bool, ids: Vec<String>, which: &str) -> Vec<Effect> {
    let rows = ids.len();
    if !retry {
        let prompt = format!("Discard {} {which}: why?", activities(rows));
        return app.prompt(&prompt, String::new(), Purpose::DiscardAll(ids));
    }
    let question = format!(
        "Retry {} {which} ({})? It runs in the background; the report counts an item only once its next transition has happened.",
        activities(rows),
        preview(&ids)
    );
    app.confirm_rows(question, vec![Request::RetryAll { ids }], rows)
}

/// The answer to an activity prompt: a reason or comments, then the question that sends it.
pub fn answer(app: &mut App, purpose: Purpose, text: String) -> Vec<Effect> {
    match purpose {
        Purpose::CancelMarked(ids) if !text.is_empty() => {
            let rows = ids.len();
            let question = format!(
                "File a Cancel Orchestration for {} ({}) with reason {text}?",
                activities(rows),
                preview(&ids)
            );
            let requests = ids
                .into_iter()
                .map(|id| Request::Cancel {
                    id,
                    reason: text.clone(),
                    related: None,
                })
                .collect();
            app.confirm_rows(question, requests, rows)
        }
        Purpose::UpdateMarked(ids) if !text.is_empty() => {
            let rows = ids.len();
            let question = format!(
                "File an Update Orchestration for {} ({}) with \"{text}\"?",
                activities(rows),
                preview(&ids)
            );
            let requests = ids
                .into_iter()
                .map(|id| Request::Update {
                    id,
                    comments: text.clone(),
                    start: None,
                    related: None,
                })
                .collect();
            app.confirm_rows(question, requests, rows)
        }
        Purpose::CancelOrchestration { id, related } if !text.is_empty() => {
            let what = related
                .as_ref()
                .map_or(id.clone(), |r| format!("{r} of {id}"));
            app.confirm(
                format!("File a Cancel Orchestration for {what} (reason {text})?"),
                Request::Cancel {
                    id,
                    reason: text,
                    related,
                },
            )
        }
        Purpose::Update { id, related } if !text.is_empty() => {
            vec![Effect::Send(Request::Update {
                id,
                comments: text,
                start: None,
                related,
            })]
        }
        Purpose::Discard(id) => {
            let reason = if text.is_empty() {
                "discarded at the desk".to_string()
            } else {
                text
            };
            app.confirm(
                format!("Discard {id}? ({reason})"),
                Request::Discard {
                    id,
                    reason: Some(reason),
                },
            )
        }
        Purpose::DiscardAll(ids) if !text.is_empty() => {
            let rows = ids.len();
            let question = format!(
                "Discard {} ({}) with reason \"{text}\"?",
                activities(rows),
                preview(&ids)
            );
            app.confirm_rows(
                question,
                vec![Request::DiscardAll { ids, reason: text }],
                rows,
            )
        }
        Purpose::CancelFa(id) if !text.is_empty() => app.confirm(
            format!(
                "Cancel field activity {id} by hand (reason {text})? The field system is not told."
            ),
            Request::CancelFa { id, reason: text },
        ),
        _ => app.say("this needs an answer: type one, or Esc to leave it", true),
    }
}

/// A by-hand completion with no crew data: status complete.
pub fn complete_report() -> crate::engine::CompleteFa {
    crate::engine::CompleteFa {
        status: crate::formats::CompletionStatus::Complete,
        at: None,
        remarks: Some("completed at the desk".into()),
        device: None,
        old_device: None,
        readings: Vec::new(),
    }
}
