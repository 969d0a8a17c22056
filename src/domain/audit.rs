//! The audit log: every operator action, who, when, what, on which ids, and the outcome.

use super::kinds::{Instant, Role, Seq};
use serde::{Deserialize, Serialize};

/// How an operator action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// The action was carried out.
    Done,
    /// A guard refused it; nothing changed.
    Refused {
        /// The refusal code (`AWAITING_FIELD_RESPONSE`, `PERMISSION_DENIED`…).
        code: String,
        /// The message shown to the operator.
        message: String,
    },
}

/// One audit line. The log is append-only: no command edits or deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The internal sequence number.
    pub seq: Seq,
    /// Engine time of the action.
    #[serde(with = "crate::domain::stored_time")]
    pub at: Instant,
    /// Wall-clock time of the action; absent in entries written before it was recorded, and
    /// for work that ran outside the runtime (a demo build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(with = "crate::domain::stored_time::option")]
    pub wall: Option<Instant>,
    /// Who acted.
    pub operator: String,
    /// The operator's role, if any.
    pub role: Option<Role>,
    /// How the action arrived: desk, cli or api (absent for the engine's own work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The verified account, when it acted as another operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The action (`retry`, `discard`, `import`…).
    pub action: String,
    /// The ids it touched.
    pub ids: Vec<String>,
    /// Done or refused.
    #[serde(flatten)]
    pub outcome: AuditOutcome,
    /// Extra words (a reason, "bypassed the throttle").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditEntry {
    /// The outcome in a word or two: `done`, `refused PERMISSION_DENIED`.
    pub fn outcome_label(&self) -> String {
        match &self.outcome {
            AuditOutcome::Done => "done".to_string(),
            AuditOutcome::Refused { code, .. } => format!("refused {code}"),
        }
    }

    /// Everything a text search looks in, lowercased: operator, account, action, ids, outcome,
    /// refusal message and detail.
    fn haystack(&self) -> String {
        let message = match &self.outcome {
            AuditOutcome::Done => "",
            AuditOutcome::Refused { message, .. } => message.as_str(),
        };
        format!(
            "{} {} {} {} {} {} {}",
            self.operator,
            self.account.as_deref().unwrap_or(""),
            self.action,
            self.ids.join(" "),
            self.outcome_label(),
            message,
            self.detail.as_deref().unwrap_or("")
        )
        .to_lowercase()
    }
}

/// Which audit entries a read keeps: each field that is set must match (all of them).
///
/// The read applies it to the whole log, so an operator's actions of last month are found
/// however many came after them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Only entries naming this id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Only this operator's actions (letter case aside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Only this action (`retry`, `discard`…; letter case aside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Only entries at or after this engine time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub from: Option<Instant>,
    /// Only entries before this engine time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, with = "crate::domain::stored_time::option")]
    pub to: Option<Instant>,
    /// Words that must all appear in the entry (operator, action, ids, outcome, detail).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl AuditFilter {
    /// Only the entries naming `id`, or every entry.
    pub fn id(id: Option<&str>) -> AuditFilter {
        AuditFilter {
            id: id.map(str::to_string),
            ..AuditFilter::default()
        }
    }

    /// True when the filter keeps every entry.
    pub fn is_everything(&self) -> bool {
        *self == AuditFilter::default()
    }

    /// Whether `entry` passes the filter.
    pub fn keeps(&self, entry: &AuditEntry) -> bool {
        let same = |want: &Option<String>, have: &str| {
            want.as_ref()
                .is_none_or(|w| w.trim().eq_ignore_ascii_case(have))
        };
        let words_ok = || {
            let haystack = entry.haystack();
            self.text
                .split_whitespace()
                .all(|w| haystack.contains(&w.to_lowercase()))
        };
        self.id
            .as_ref()
            .is_none_or(|id| entry.ids.iter().any(|i| i == id))
            && same(&self.operator, &entry.operator)
            && same(&self.action, &entry.action)
            && self.from.is_none_or(|from| entry.at >= from)
            && self.to.is_none_or(|to| entry.at < to)
            && words_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_written_before_wall_time_was_kept_still_reads() {
        let old = r#"{"seq":7,"at":"2025-06-10T14:00:00Z","operator":"ada","role":"supervisor",
            "action":"retry","ids":["SO-1"],"outcome":"done"}"#;
        let entry: AuditEntry = serde_json::from_str(old).expect("an old entry reads");
        assert_eq!(entry.wall, None);
        assert_eq!(entry.operator, "ada");
        // And a new one without a wall time writes no field for it.
        let text = serde_json::to_string(&entry).expect("writes");
        assert!(!text.contains("wall"), "{text}");
    }

    fn entry(operator: &str, action: &str, at: &str) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: at.parse().expect("a time"),
            wall: None,
            operator: operator.into(),
            role: None,
            channel: None,
            account: None,
            action: action.into(),
            ids: vec!["SO-1".into()],
            outcome: AuditOutcome::Refused {
                code: "NOT_IN_ERROR".into(),
                message: "SO-1 is not in error".into(),
            },
            detail: None,
        }
    }

    #[test]
    fn a_filter_keeps_only_entries_matching_every_field_it_sets() {
        let e = entry("bo", "retry", "2025-06-10T14:00:00Z");
        assert!(AuditFilter::default().keeps(&e));
        let by = |f: AuditFilter| f.keeps(&e);
        assert!(by(AuditFilter {
            operator: Some("BO".into()),
            action: Some("Retry".into()),
            ..Default::default()
        }));
        assert!(!by(AuditFilter {
            operator: Some("ada".into()),
            ..Default::default()
        }));
        assert!(!by(AuditFilter {
            action: Some("discard".into()),
            ..Default::default()
        }));
        // The range is half-open: from its start, up to (not at) its end.
        let at = |t: &str| Some(t.parse().expect("a time"));
        assert!(by(AuditFilter {
            from: at("2025-06-10T14:00:00Z"),
            to: at("2025-06-10T14:00:01Z"),
            ..Default::default()
        }));
        assert!(!by(AuditFilter {
            to: at("2025-06-10T14:00:00Z"),
            ..Default::default()
        }));
        assert!(by(AuditFilter {
            text: "not in ERROR so-1".into(),
            ..Default::default()
        }));
        assert!(!by(AuditFilter {
            text: "retry discard".into(),
            ..Default::default()
        }));
    }
}
