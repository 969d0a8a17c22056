//! A row of the orchestration list, as every list shows it: derived from the activity alone,
//! so the state index can hold it (a covering index) and the queries can build it alike.

use crate::domain::{Activity, Body, Instant, Seq, StatusReason};
use serde::{Deserialize, Serialize};

/// One row of `list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityRow {
    /// The internal sequence number (where the row stands in the indexes; not shown).
    #[serde(skip)]
    pub seq: Seq,
    /// The id.
    pub id: String,
    /// The activity type.
    #[serde(rename = "type")]
    pub activity_type: String,
    /// The state code.
    pub state: String,
    /// Why it is in its state.
    pub status_reason: Option<StatusReason>,
    /// The service point (orchestrations) or the target (maintenance).
    pub sp: Option<String>,
    /// The targeted orchestration (maintenance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// When it was created.
    #[serde(with = "crate::domain::stored_time")]
    pub created_at: Instant,
    /// When it entered its state.
    #[serde(with = "crate::domain::stored_time")]
    pub status_at: Instant,
    /// When an orchestration becomes effective (it waits in WAIT_EFF_DATE until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(with = "crate::domain::stored_time::option")]
    pub effective: Option<Instant>,
    /// A Reconnect that supersedes this CNP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// Conflict warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ActivityRow {
    /// True when the id, type, state, reason code or service point contains `needle`, which
    /// is lower case (the desk's `/` filter).
    pub fn matches(&self, needle: &str) -> bool {
        let reason = self
            .status_reason
            .as_ref()
            .map(|s| s.code.as_str())
            .unwrap_or("");
        [
            self.id.as_str(),
            &self.activity_type,
            &self.state,
            reason,
            self.sp.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|f| f.to_ascii_lowercase().contains(needle))
    }
}

pub(crate) fn row_of(a: &Activity) -> ActivityRow {
    let (superseded_by, warnings, target, effective) = match &a.body {
        Body::Orchestration(o) => (
            o.superseded_by.clone(),
            o.warnings.clone(),
            None,
            o.effective,
        ),
        Body::Maintenance(m) => (None, Vec::new(), Some(m.target_id.clone()), None),
        _ => (None, Vec::new(), None, None),
    };
    ActivityRow {
        seq: a.seq,
        id: a.id.clone(),
        activity_type: a.kind_name(),
        state: a.state_code().to_string(),
        status_reason: a.status_reason.clone(),
        sp: a.sp_id().map(str::to_string),
        target,
        created_at: a.created_at,
        status_at: a.status_at,
        effective,
        superseded_by,
        warnings,
    }
}
