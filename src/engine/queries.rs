//! Read-only queries for the desk and the command line. Each reads a window through an ordered
//! index; none loads every record unless asked for every record.

use super::codec::{decode, read_activity, read_comm};
use super::keys::Tag;
pub(super) use super::rows::row_of;
pub use super::rows::ActivityRow;
use super::window::Visit;
use super::{Actor, Engine, EngineError};
use crate::domain::{
    Activity, ActivityType, AuditEntry, AuditFilter, Body, CommBody, Communication,
    CompletionEvent, Instant, LogLine, Notification, Role, Seq, StatusReason,
};
use crate::store::{scan_prefix, seq_from_key_tail, seq_key, text_prefix, Store, TreeId};
use serde::{Deserialize, Serialize};

/// Which orchestration activities `list` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListFilter {
    /// Only this state (code, any case).
    pub state: Option<String>,
    /// Only this type.
    pub activity_type: Option<ActivityType>,
    /// Only this service point.
    pub sp: Option<String>,
    /// Only this status-reason code, in an error state.
    pub error_code: Option<String>,
    /// At most this many rows (0 = no limit).
    pub limit: usize,
    /// Only rows whose id, type, state, reason or service point contain this (any case).
    pub text: String,
}

impl ListFilter {
    /// True when `row` passes every filter but the limit: for lists found another way (the
    /// stuck lens) that must still show exactly what their title says.
    pub fn keeps(&self, row: &ActivityRow) -> bool {
        let reason = row.status_reason.as_ref().map(|s| s.code.as_str());
        self.state
            .as_ref()
            .is_none_or(|s| row.state.eq_ignore_ascii_case(s))
            && self
                .activity_type
                .is_none_or(|t| row.activity_type == t.code())
            && self
                .sp
                .as_ref()
                .is_none_or(|sp| row.sp.as_ref() == Some(sp))
            && self
                .error_code
                .as_ref()
                .is_none_or(|c| row.state.ends_with("_ERROR") && reason == Some(c.as_str()))
            && (self.text.is_empty() || row.matches(&self.text.to_ascii_lowercase()))
    }
}

/// A communication as `outbox` and `show` present it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommView {
    /// `CO-<n>` / `CI-<n>`.
    pub id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// field_work, head_end or email (outbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The message kind.
    pub message: String,
    /// The activity it belongs to (outbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// The state code.
    pub state: String,
    /// Why it is in its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<StatusReason>,
    /// When it was sent (outbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Instant>,
    /// Acknowledged by the field work system.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
    /// The external system's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The payload (outbound) or the message as received (inbound).
    pub payload: serde_json::Value,
    /// Inbound communications answering this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<CommView>,
    /// The transition log.
    pub log: Vec<LogLine>,
    /// Its tries at reaching its partner (outbound), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<crate::domain::DeliveryAttempt>,
}

/// A node of an activity hierarchy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeNode {
    /// The id.
    pub id: String,
    /// The activity type, field task or command kind.
    pub kind: String,
    /// The state code.
    pub state: String,
    /// Why it is in its state.
    pub status_reason: Option<StatusReason>,
    /// The kind-specific fields.
    pub fields: serde_json::Value,
    /// Child activities.
    pub children: Vec<TreeNode>,
    /// Its communications, with their replies.
    pub communications: Vec<CommView>,
    /// Completion events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<CompletionEvent>,
    /// The transition log.
    pub log: Vec<LogLine>,
}

/// `show`: one activity with its whole hierarchy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityTree {
    /// The id.
    pub id: String,
    /// The type or kind.
    #[serde(rename = "type")]
    pub activity_type: String,
    /// The state code.
    pub state: String,
    /// Why it is in its state.
    pub status_reason: Option<StatusReason>,
    /// The service point.
    pub sp: Option<String>,
    /// The kind-specific fields.
    pub fields: serde_json::Value,
    /// Notifications sent to the requester.
    pub notifications: Vec<Notification>,
    /// Child activities.
    pub children: Vec<TreeNode>,
    /// Its own communications.
    pub communications: Vec<CommView>,
    /// Completion events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<CompletionEvent>,
    /// The transition log.
    pub log: Vec<LogLine>,
}

impl Engine {
    /// Orchestration and maintenance activities matching `filter`, ascending by sequence.
    pub fn list(
        &self,
        actor: &Actor,
        filter: &ListFilter,
    ) -> Result<Vec<ActivityRow>, EngineError> {
        let mut rows = Vec::new();
        self.list_each(actor, filter, |row| {
            rows.push(row);
            let full = filter.limit > 0 && rows.len() >= filter.limit;
            Ok::<_, EngineError>(if full { Visit::Stop } else { Visit::More })
        })?;
        Ok(rows)
    }

    /// One activity (any level) with its whole hierarchy.
    pub fn show(&self, actor: &Actor, id: &str) -> Result<ActivityTree, EngineError> {
        let store = self.store.as_ref();
        let seq = match lookup(store, id)? {
            Some((Tag::Activity, seq)) => seq,
            Some((tag, _)) => {
                return Err(EngineError::BadInput(format!(
                    "{id} is {}: `orderdesk show` takes an activity id",
                    tag.describe()
                )))
            }
            None => return Err(unknown_id(id)),
        };
        let a = read_activity(store, seq)?;
        if !self.visible(actor, &a) {
            return Err(EngineError::refused(
                "PERMISSION_DENIED",
                format!(
                    "{id} belongs to a division {} does not work in, so {} may not see it",
                    actor.operator, actor.operator
                ),
            ));
        }
        let node = self.node(&a)?;
        let notifications = match &a.body {
            Body::Orchestration(o) => o.notifications.clone(),
            Body::Maintenance(m) => m.notifications.clone(),
            _ => Vec::new(),
        };
        Ok(ActivityTree {
            id: node.id,
            activity_type: node.kind,
            state: node.state,
            status_reason: node.status_reason,
            sp: a.sp_id().map(str::to_string),
            fields: node.fields,
            notifications,
            children: node.children,
            communications: node.communications,
            events: node.events,
            log: node.log,
        })
    }

    fn node(&self, a: &Activity) -> Result<TreeNode, EngineError> {
        let store = self.store.as_ref();
        let mut children = Vec::new();
        let mut communications = Vec::new();
        for (tag, seq) in children_of(store, a.seq)? {
            match tag {
                Tag::Activity => children.push(self.node(&read_activity(store, seq)?)?),
                Tag::Comm => communications.push(self.comm_view(&read_comm(store, seq)?)?),
                Tag::WorkOrder => {}
            }
        }
        let events = match &a.body {
            Body::Field(f) => f.events.clone(),
            Body::Command(c) => c.events.clone(),
            _ => Vec::new(),
        };
        Ok(TreeNode {
            id: a.id.clone(),
            kind: a.kind_name(),
            state: a.state_code().to_string(),
            status_reason: a.status_reason.clone(),
            fields: body_fields(a),
            children,
            communications,
            events,
            log: a.log.clone(),
        })
    }

    pub(super) fn comm_view(&self, c: &Communication) -> Result<CommView, EngineError> {
        let store = self.store.as_ref();
        let mut replies = Vec::new();
        for (tag, seq) in children_of(store, c.seq)? {
            if tag == Tag::Comm {
                replies.push(self.comm_view(&read_comm(store, seq)?)?);
            }
        }
        Ok(match &c.body {
            CommBody::Outbound(o) => CommView {
                id: c.id.clone(),
                direction: "outbound".into(),
                target: Some(o.target.code().to_string()),
                message: o.message.code().to_string(),
                activity: Some(o.owner_id.clone()),
                state: c.state_code().to_string(),
                status_reason: c.status_reason.clone(),
                sent_at: o.sent_at,
                acknowledged: o.acknowledged,
                external_id: o.external_id.clone(),
                payload: o.payload.clone(),
                replies,
                log: c.log.clone(),
                attempts: o.attempts.clone(),
            },
            CommBody::Inbound(i) => CommView {
                id: c.id.clone(),
                direction: "inbound".into(),
                target: None,
                message: serde_json::to_value(&i.message)
                    .ok()
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                    .unwrap_or_default(),
                activity: None,
                state: c.state_code().to_string(),
                status_reason: c.status_reason.clone(),
                sent_at: None,
                acknowledged: false,
                external_id: None,
                payload: serde_json::to_value(&i.message).unwrap_or_default(),
                replies,
                log: c.log.clone(),
                attempts: Vec::new(),
            },
        })
    }

    /// Outbound communications awaiting a response (`all`: every outbound message), ascending.
    pub fn outbox(&self, all: bool) -> Result<Vec<CommView>, EngineError> {
        let store = self.store.as_ref();
        let seqs: Vec<Seq> = if all {
            store
                .range(TreeId::Comms, &[], None, usize::MAX, false)?
                .iter()
                .filter_map(|(k, _)| seq_from_key_tail(k))
                .collect()
        } else {
            store
                .range(TreeId::Outbox, &[], None, usize::MAX, false)?
                .iter()
                .filter_map(|(k, _)| seq_from_key_tail(k))
                .collect()
        };
        let mut views = Vec::new();
        for seq in seqs {
            let c = read_comm(store, seq)?;
            if c.outbound().is_some() {
                views.push(self.comm_view(&c)?);
            }
        }
        Ok(views)
    }

    /// The "stuck" lens: non-final orchestration and maintenance activities resting longer
    /// than their state allows (`[desk.stuck_minutes]`), in progress past their expiration,
    /// or with a communication still awaiting an answer past its timeout. Each with why.
    pub fn stuck(
        &self,
        actor: &Actor,
        now: Instant,
    ) -> Result<Vec<(ActivityRow, String)>, EngineError> {
        let store = self.store.as_ref();
        let mut found: std::collections::BTreeMap<Seq, String> = std::collections::BTreeMap::new();
        let resting = crate::lifecycle::OrchState::ALL
            .iter()
            .filter(|s| !crate::lifecycle::LifecycleState::is_final(**s))
            .map(|s| s.code())
            .chain(
                crate::lifecycle::MaintState::ALL
                    .iter()
                    .filter(|s| !crate::lifecycle::LifecycleState::is_final(**s))
                    .map(|s| s.code()),
            )
            .collect::<std::collections::BTreeSet<_>>();
        for code in resting {
            for seq in keys_under(store, TreeId::ByState, &text_prefix(code))? {
                let a = read_activity(store, seq)?;
                if let Some(why) = self.stuck_reason(&a, now) {
                    found.insert(seq, why);
                }
            }
        }
        // Communications whose timeout passed without the monitor acting on them.
        let grace = chrono::Duration::minutes(5);
        for (tag, seq) in crate::engine::tx::due_work(store, now - grace)? {
            if tag != Tag::Comm {
                continue;
            }
            let c = read_comm(store, seq)?;
            let Some(out) = c.outbound() else { continue };
            let mut top = read_activity(store, out.owner)?;
            while let Some(parent) = top.parent {
                top = read_activity(store, parent)?;
            }
            found
                .entry(top.seq)
                .or_insert_with(|| format!("{} awaits an answer past its timeout", c.id));
        }
        let mut rows = Vec::new();
        for (seq, why) in found {
            let a = read_activity(store, seq)?;
            if a.is_top_level() && self.visible(actor, &a) {
                rows.push((row_of(&a), why));
            }
        }
        Ok(rows)
    }

    fn stuck_reason(&self, a: &Activity, now: Instant) -> Option<String> {
        let state = a.state_code();
        if let Body::Orchestration(o) = &a.body {
            match (o.state, o.expiration, o.effective) {
                (crate::lifecycle::OrchState::InProgress, Some(exp), _) if now > exp => {
                    return Some(format!(
                        "in progress past its expiration ({})",
                        crate::timefmt::Times::new(self.config.timezone, now).labelled(exp)
                    ));
                }
                (crate::lifecycle::OrchState::InProgress, Some(_), _) => return None,
                (crate::lifecycle::OrchState::WaitEffDate, _, Some(eff)) => {
                    let late = now - eff;
                    return (late > self.config.desk.stuck_after("PENDING"))
                        .then(|| format!("effective date passed {} min ago", late.num_minutes()));
                }
                _ => {}
            }
        }
        let rested = now - a.status_at;
        (rested > self.config.desk.stuck_after(state))
            .then(|| format!("in {state} for {}", span(rested)))
    }

    /// Transitions and errors per hour for the `hours` hours up to `now`, oldest first (every
    /// hour present, zero when nothing happened).
    pub fn hourly(
        &self,
        now: Instant,
        hours: usize,
    ) -> Result<Vec<(Instant, crate::engine::tx::HourCounts)>, EngineError> {
        let mut out = Vec::with_capacity(hours);
        for back in (0..hours as i64).rev() {
            let at = now - chrono::Duration::hours(back);
            let key = crate::engine::tx::hour_key(at);
            let counts = match self.store.get(TreeId::Meta, &key)? {
                Some(bytes) => decode(TreeId::Meta, &key, &bytes)?,
                None => Default::default(),
            };
            let hour = chrono::DateTime::from_timestamp(at.timestamp().div_euclid(3600) * 3600, 0)
                .unwrap_or(at);
            out.push((hour, counts));
        }
        Ok(out)
    }

    /// Outbound messages no partner has taken yet, by partner and oldest first, at most `limit`.
    pub fn undelivered(&self, limit: usize) -> Result<Vec<CommView>, EngineError> {
        let store = self.store.as_ref();
        let mut views = Vec::new();
        for (key, _) in store.range(TreeId::Undelivered, &[], None, limit, false)? {
            if let Some(seq) = seq_from_key_tail(&key) {
                views.push(self.comm_view(&read_comm(store, seq)?)?);
            }
        }
        Ok(views)
    }

    /// Inbound communications in the error inbox, ascending.
    pub fn error_inbox(&self) -> Result<Vec<CommView>, EngineError> {
        let store = self.store.as_ref();
        let mut views = Vec::new();
        for (key, value) in store.range(TreeId::ByError, &[], None, usize::MAX, false)? {
            if !super::keys::is_listed_error(&key) && value.first() == Some(&(Tag::Comm as u8)) {
                if let Some(seq) = seq_from_key_tail(&key) {
                    let comm = read_comm(store, seq)?;
                    if comm.outbound().is_none() {
                        views.push(self.comm_view(&comm)?);
                    }
                }
            }
        }
        Ok(views)
    }

    /// Audit entries, oldest first; with `id`, only those naming it; at most `limit` (0 = all).
    pub fn audit(&self, id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>, EngineError> {
        self.audit_where(&AuditFilter::id(id), limit)
    }

    /// Audit entries that `filter` keeps, oldest first: the newest `limit` of them (0 = all).
    pub fn audit_where(
        &self,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, EngineError> {
        let store = self.store.as_ref();
        let mut entries = Vec::new();
        // The newest `limit` are wanted: walk back from the end, and without a filter read no
        // more than that.
        let newest_first = limit > 0;
        let read = if filter.is_everything() && limit > 0 {
            limit
        } else {
            usize::MAX
        };
        for (key, value) in store.range(TreeId::Audit, &[], None, read, newest_first)? {
            let entry: AuditEntry = decode(TreeId::Audit, &key, &value)?;
            if filter.keeps(&entry) {
                entries.push(entry);
                if limit > 0 && entries.len() >= limit {
                    break;
                }
            }
        }
        if newest_first {
            entries.reverse();
        }
        Ok(entries)
    }

    /// Division restriction (§9, §12.11): clerks see only their divisions' activity types.
    pub(crate) fn visible(&self, actor: &Actor, a: &Activity) -> bool {
        self.visible_type(actor, a.activity_type())
    }

    /// Division restriction by activity type alone (what the live counts are kept by).
    pub(crate) fn visible_type(&self, actor: &Actor, t: Option<ActivityType>) -> bool {
        if !self.config.division_restriction || actor.role != Some(Role::Clerk) {
            return true;
        }
        let Some(t) = t else {
            return true;
        };
        match self.config.type_config(t).division.as_deref() {
            None | Some("") => true,
            Some(d) => actor.divisions.iter().any(|mine| mine == d),
        }
    }
}

pub(super) fn matches_filter(a: &Activity, f: &ListFilter) -> bool {
    let state_ok = f
        .state
        .as_ref()
        .is_none_or(|s| a.state_code().eq_ignore_ascii_case(s));
    let type_ok = f.activity_type.is_none_or(|t| a.activity_type() == Some(t));
    let sp_ok =
        f.sp.as_ref()
            .is_none_or(|sp| a.sp_id() == Some(sp.as_str()));
    let code_ok = f
        .error_code
        .as_ref()
        .is_none_or(|c| a.is_error() && a.status_reason.as_ref().is_some_and(|r| &r.code == c));
    state_ok && type_ok && sp_ok && code_ok
}

/// The kind-specific fields of an activity, without the lists shown elsewhere in the tree.
fn body_fields(a: &Activity) -> serde_json::Value {
    let mut value = match &a.body {
        Body::Orchestration(o) => serde_json::to_value(o),
        Body::Maintenance(m) => serde_json::to_value(m),
        Body::Field(f) => serde_json::to_value(f),
        Body::Command(c) => serde_json::to_value(c),
    }
    .unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        for key in ["state", "notifications", "events", "comms"] {
            map.remove(key);
        }
        map.insert(
            "created_at".into(),
            serde_json::to_value(a.created_at).unwrap_or_default(),
        );
    }
    value
}

/// "3 h 20 min", "2 d 4 h".
fn span(d: chrono::Duration) -> String {
    let minutes = d.num_minutes();
    match minutes {
        m if m >= 24 * 60 => format!("{} d {} h", m / (24 * 60), (m % (24 * 60)) / 60),
        m if m >= 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{m} min"),
    }
}

fn unknown_id(id: &str) -> EngineError {
    EngineError::BadInput(format!(
        "unknown id `{id}`: no activity or communication has it"
    ))
}

/// Looks up an id in the store (outside a unit of work).
pub(crate) fn lookup(store: &dyn Store, id: &str) -> Result<Option<(Tag, Seq)>, EngineError> {
    let Some(bytes) = store.get(TreeId::Ids, id.as_bytes())? else {
        return Ok(None);
    };
    let Some(tag) = bytes.first().and_then(|b| Tag::from_byte(*b)) else {
        return Err(EngineError::Corrupt(format!("id entry for {id}")));
    };
    seq_from_key_tail(&bytes)
        .map(|seq| Some((tag, seq)))
        .ok_or_else(|| EngineError::Corrupt(format!("id entry for {id}")))
}

fn keys_under(store: &dyn Store, tree: TreeId, prefix: &[u8]) -> Result<Vec<Seq>, EngineError> {
    Ok(scan_prefix(store, tree, prefix, usize::MAX)?
        .iter()
        .filter_map(|(k, _)| seq_from_key_tail(k))
        .collect())
}

fn children_of(store: &dyn Store, parent: Seq) -> Result<Vec<(Tag, Seq)>, EngineError> {
    Ok(
        scan_prefix(store, TreeId::Children, &seq_key(parent), usize::MAX)?
            .iter()
            .filter_map(|(k, v)| {
                let tag = match v.first() {
                    Some(1) => Tag::Activity,
                    Some(2) => Tag::Comm,
                    _ => return None,
                };
                Some((tag, seq_from_key_tail(k)?))
            })
            .collect(),
    )
}
