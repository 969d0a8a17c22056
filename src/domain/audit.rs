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
