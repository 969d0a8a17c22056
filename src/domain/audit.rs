//! The audit log: every operator action, who, when, what, on which ids, and the outcome (§9).

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
    pub at: Instant,
    /// Wall-clock time of the action; absent in entries written before it was recorded, and
    /// for work that ran outside the runtime (a demo build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
}
