//! What each record makes in the index trees, and how an index value names its record: the
//! one place key and index derivation lives, so the unit of work (which writes the entries),
//! the readers and the consistency check (which recompute them) share it without depending
//! on each other.

use super::codec::encode;
use crate::domain::{Activity, Body, CommBody, Communication, Instant, Outbound, Seq, Target};
use crate::feed;
use crate::lifecycle::{CommandState, OutState};
use crate::store::{pair_key, seq_key, text_seq_key, time_seq_key, TreeId};
use crate::workorders::WorkOrder;
use chrono::Datelike;
use serde::{Deserialize, Serialize};

/// Which record tree an id or index entry points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    /// An activity.
    Activity = 1,
    /// A communication.
    Comm = 2,
    /// A work order.
    WorkOrder = 3,
}

impl Tag {
    /// "an activity", "a communication"… for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Tag::Activity => "an activity",
            Tag::Comm => "a communication",
            Tag::WorkOrder => "a work order",
        }
    }

    /// The tag stored in index values.
    pub fn from_byte(b: u8) -> Option<Tag> {
        match b {
            1 => Some(Tag::Activity),
            2 => Some(Tag::Comm),
            3 => Some(Tag::WorkOrder),
            _ => None,
        }
    }
}

/// An index entry: its tree, key and value.
pub type IndexEntry = (TreeId, Vec<u8>, Vec<u8>);

/// Every index entry an activity should have.
pub fn activity_index(a: &Activity) -> Vec<IndexEntry> {
    let tag = vec![Tag::Activity as u8];
    let mut entries = Vec::new();
    // The state index and the error-code list cover the orchestration list's rows: a window
    // of either is one range read rather than an activity record read (and decoded, log and
    // all) per row.
    let row = a
        .is_top_level()
        .then(|| encode(&super::rows::row_of(a)).unwrap_or_default());
    if let Some(row) = &row {
        entries.push((
            TreeId::ByState,
            text_seq_key(a.state_code(), a.seq),
            row.clone(),
        ));
    }
    if a.is_error() {
        if let Some(reason) = &a.status_reason {
            let entry = match row {
                Some(row) => (TreeId::ByError, error_key(&reason.code, true, a.seq), row),
                None => (
                    TreeId::ByError,
                    error_key(&reason.code, false, a.seq),
                    tag.clone(),
                ),
            };
            entries.push(entry);
        }
    }
    if let Some(parent) = a.parent {
        entries.push((TreeId::Children, pair_key(parent, a.seq), tag.clone()));
    }
    match &a.body {
        Body::Orchestration(o) => {
            entries.push((TreeId::BySp, text_seq_key(&o.sp_id, a.seq), Vec::new()));
        }
        Body::Command(c) => {
            entries.push((
                TreeId::CmdByDevice,
                text_seq_key(&c.device_id, a.seq),
                Vec::new(),
            ));
            if c.throttled && c.state == CommandState::WaitEff {
                entries.push((
                    TreeId::WaitingCmds,
                    time_seq_key(c.effective, a.seq),
                    Vec::new(),
                ));
            }
        }
        Body::Maintenance(_) | Body::Field(_) => {}
    }
    if let Some(key) = activity_feed_key(a) {
        entries.push((TreeId::Feed, key, tag.clone()));
    }
    if let Some(due) = a.due_at {
        entries.push((TreeId::Due, time_seq_key(due, a.seq), tag));
    }
    entries
}

/// Every index entry a work order should have.
pub fn work_order_index(wo: &WorkOrder) -> Vec<IndexEntry> {
    let mut entries = vec![(TreeId::WoBySite, text_seq_key(&wo.site, wo.seq), Vec::new())];
    if crate::workorders::is_open(wo.status) {
        // The queue covers its rows: the entry holds the order, so a window of the queue is
        // one contiguous range read rather than a record read per row.
        let row = encode(wo).unwrap_or_default();
        entries.push((TreeId::Queue, queue_key(wo), row));
    }
    entries
}

/// The open-queue key: preferred date (none last), creation time, sequence (§12.10).
pub fn queue_key(wo: &WorkOrder) -> Vec<u8> {
    let mut key = Vec::with_capacity(21);
    match wo.preferred_date {
        Some(date) => {
            key.push(0);
            let days = (date.num_days_from_ce() as u32) ^ (1 << 31);
            key.extend_from_slice(&days.to_be_bytes());
        }
        None => {
            key.push(1);
            key.extend_from_slice(&[0; 4]);
        }
    }
    key.extend_from_slice(&time_seq_key(wo.created_at, wo.seq));
    key
}

/// The record a communication hangs under in hierarchies.
pub(super) fn comm_parent(c: &Communication) -> Option<Seq> {
    match &c.body {
        CommBody::Outbound(o) => Some(o.owner),
        CommBody::Inbound(i) => i.answers,
    }
}

/// Every index entry a communication should have.
pub fn comm_index(c: &Communication) -> Vec<IndexEntry> {
    let tag = vec![Tag::Comm as u8];
    let mut entries = Vec::new();
    if let Some(parent) = comm_parent(c) {
        entries.push((TreeId::Children, pair_key(parent, c.seq), tag.clone()));
    }
    if c.state_code().ends_with("_ERROR") {
        if let Some(reason) = &c.status_reason {
            entries.push((
                TreeId::ByError,
                error_key(&reason.code, false, c.seq),
                tag.clone(),
            ));
        }
    }
    if let CommBody::Outbound(o) = &c.body {
        if o.state == OutState::AwaitingResponse || o.state == OutState::Pending {
            entries.push((TreeId::Outbox, seq_key(c.seq).to_vec(), Vec::new()));
        }
        if o.awaits_delivery() {
            // The entry carries the message, so a courier's round reads the index alone.
            let waiting = Waiting::of(&c.id, o);
            let value = encode(&waiting).unwrap_or_default();
            entries.push((TreeId::Undelivered, undelivered_key(o.target, c.seq), value));
        }
        if let Some(ext) = &o.external_id {
            entries.push((TreeId::ByExternalId, text_seq_key(ext, c.seq), Vec::new()));
        }
    }
    if let Some(due) = c.due_at {
        entries.push((TreeId::Due, time_seq_key(due, c.seq), tag));
    }
    entries
}

/// The key of an error entry: the code, then the listed top-level activities (their entries
/// hold the list's row) apart from the children and communications in error (theirs hold the
/// record's tag), each by sequence. The error-code list is then one prefix of rows alone.
pub fn error_key(code: &str, listed: bool, seq: Seq) -> Vec<u8> {
    let mut key = error_prefix(code, listed);
    key.extend_from_slice(&seq_key(seq));
    key
}

/// The prefix of the error entries of `code` that are listed rows (`true`) or not.
pub fn error_prefix(code: &str, listed: bool) -> Vec<u8> {
    let mut key = code.as_bytes().to_vec();
    key.push(0);
    key.push(if listed { b'L' } else { b'O' });
    key
}

/// Whether an error entry's key is a listed row's (see [`error_key`]).
pub fn is_listed_error(key: &[u8]) -> bool {
    key.len() >= 9 && key[key.len() - 9] == b'L'
}

/// The key of an undelivered message: its target, then its sequence, so each partner's
/// courier reads only its own backlog, oldest first.
pub fn undelivered_key(target: Target, seq: Seq) -> Vec<u8> {
    text_seq_key(target.code(), seq)
}

/// The feed index entry of a service order (the engine makes those, §12.10).
pub fn activity_feed_key(a: &Activity) -> Option<Vec<u8>> {
    match &a.body {
        Body::Orchestration(o) => o
            .customer
            .as_ref()
            .map(|c| feed::feed_key(c, o.service_datetime, a.seq)),
        _ => None,
    }
}

/// An outbound message as a partner receives it (the `orderdesk outbox` fields a partner needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parcel {
    /// The communication id: the `comm` every answer names, and the idempotency key.
    pub id: String,
    /// `field_work` or `head_end`.
    pub target: String,
    /// `fa_create`, `fa_modify`, `fa_cancel`, `command`.
    pub message: String,
    /// The field activity, command or maintenance activity it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// When the engine wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(with = "crate::domain::stored_time::option")]
    pub sent_at: Option<Instant>,
    /// The message body.
    pub payload: serde_json::Value,
}

/// A message waiting for its partner, as its courier reads it from the outbox index (whose
/// entries carry it, so a round is read without decoding the records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    /// The message.
    pub parcel: Parcel,
    /// How many tries at delivering it failed so far.
    pub failed: u32,
}

impl Waiting {
    /// The entry of an outbound communication that awaits delivery.
    pub(super) fn of(id: &str, o: &Outbound) -> Waiting {
        Waiting {
            parcel: Parcel {
                id: id.to_string(),
                target: o.target.code().to_string(),
                message: o.message.code().to_string(),
                activity: Some(o.owner_id.clone()),
                sent_at: o.sent_at,
                payload: o.payload.clone(),
            },
            failed: o.attempts.iter().filter(|a| !a.ok).count() as u32,
        }
    }
}
