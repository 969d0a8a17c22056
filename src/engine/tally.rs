//! Live counts kept in the Meta tree: top-level activities by (state, type), top-level
//! activities in error by status-reason code, open work orders by status, and outbound
//! messages waiting to be handed to each partner.
//!
//! Every commit adds what its changed records contribute and subtracts what their originals
//! contributed, in the same write batch, so the counts agree with the records by construction
//! and the status bar, the overview and list totals read them in O(states) instead of walking
//! an index of a million entries on every refresh. Derived from records only: the unit of work
//! stages the deltas, and nothing here calls back into it.

use super::codec::{decode, encode, read_activity, read_comm};
use super::EngineError;
use crate::domain::{Activity, CommBody, Communication};
use crate::store::{for_each_entry, seq_from_key_tail, seq_key, Store, TreeId, WriteBatch};
use crate::workorders::WorkOrder;
use std::collections::BTreeMap;

/// How many index entries a recount reads at a time.
const PAGE: usize = 1024;

/// The Meta key of the live counts.
pub const TALLIES_KEY: &[u8] = b"tallies";

/// The live counts (signed, so a bad delta shows as a negative count in the check).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tallies {
    /// Top-level activities by state code, then activity type code.
    pub states: BTreeMap<String, BTreeMap<String, i64>>,
    /// Top-level activities in an error state, by status-reason code.
    pub errors: BTreeMap<String, i64>,
    /// Open work orders by status code.
    pub queue: BTreeMap<String, i64>,
    /// Outbound messages no partner has taken yet, by target code (the partners board's
    /// backlog). Absent from counts stored before it was kept: a migration recounts.
    #[serde(default)]
    pub undelivered: BTreeMap<String, i64>,
}

impl Tallies {
    /// Adds (`sign` = 1) or removes (-1) what one activity contributes.
    pub fn add_activity(&mut self, a: &Activity, sign: i64) {
        if !a.is_top_level() {
            return;
        }
        let kind = a.activity_type().map_or("-", |t| t.code());
        *self
            .states
            .entry(a.state_code().to_string())
            .or_default()
            .entry(kind.to_string())
            .or_default() += sign;
        if a.is_error() {
            if let Some(reason) = &a.status_reason {
                *self.errors.entry(reason.code.clone()).or_default() += sign;
            }
        }
    }

    /// Adds (`sign` = 1) or removes (-1) what one work order contributes.
    pub fn add_work_order(&mut self, wo: &WorkOrder, sign: i64) {
        if crate::workorders::is_open(wo.status) {
            *self.queue.entry(wo.status.code().to_string()).or_default() += sign;
        }
    }

    /// Adds (`sign` = 1) or removes (-1) what one communication contributes.
    pub fn add_comm(&mut self, c: &Communication, sign: i64) {
        if let CommBody::Outbound(o) = &c.body {
            if o.awaits_delivery() {
                *self
                    .undelivered
                    .entry(o.target.code().to_string())
                    .or_default() += sign;
            }
        }
    }

    /// Adds every count of `delta`.
    pub fn merge(&mut self, delta: &Tallies) {
        for (state, kinds) in &delta.states {
            let mine = self.states.entry(state.clone()).or_default();
            for (kind, n) in kinds {
                *mine.entry(kind.clone()).or_default() += n;
            }
        }
        for (code, n) in &delta.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
        for (status, n) in &delta.queue {
            *self.queue.entry(status.clone()).or_default() += n;
        }
        for (target, n) in &delta.undelivered {
            *self.undelivered.entry(target.clone()).or_default() += n;
        }
        self.prune();
    }

    /// Drops zero counts, so an unchanged unit of work leaves an empty delta.
    pub fn prune(&mut self) {
        for kinds in self.states.values_mut() {
            kinds.retain(|_, n| *n != 0);
        }
        self.states.retain(|_, kinds| !kinds.is_empty());
        self.errors.retain(|_, n| *n != 0);
        self.queue.retain(|_, n| *n != 0);
        self.undelivered.retain(|_, n| *n != 0);
    }

    /// True when there is no count at all.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
            && self.errors.is_empty()
            && self.queue.is_empty()
            && self.undelivered.is_empty()
    }

    /// Top-level activities in `state`, over every type.
    pub fn in_state(&self, state: &str) -> i64 {
        self.states
            .get(state)
            .map_or(0, |kinds| kinds.values().sum())
    }

    /// The stored counts, or `None` for a database written before they were kept.
    pub fn load(store: &dyn Store) -> Result<Option<Tallies>, EngineError> {
        match store.get(TreeId::Meta, TALLIES_KEY)? {
            Some(bytes) => Ok(Some(decode(TreeId::Meta, TALLIES_KEY, &bytes)?)),
            None => Ok(None),
        }
    }

    /// The stored counts; for an older database, counted once from the indexes.
    pub fn current(store: &dyn Store) -> Result<Tallies, EngineError> {
        match Tallies::load(store)? {
            Some(t) => Ok(t),
            None => Tallies::recount(store),
        }
    }

    /// Counts from the indexes and the records they point to: every top-level activity (the
    /// state index holds exactly those), every open work order (the queue index) and every
    /// message waiting for its partner (the undelivered index). Walks both
    /// indexes, a page at a time: only for a database that has no stored counts yet.
    pub fn recount(store: &dyn Store) -> Result<Tallies, EngineError> {
        let mut t = Tallies::default();
        for_each_entry::<EngineError>(store, TreeId::ByState, PAGE, |key, _| {
            if let Some(seq) = seq_from_key_tail(key) {
                t.add_activity(&read_activity(store, seq)?, 1);
            }
            Ok(())
        })?;
        for_each_entry::<EngineError>(store, TreeId::Queue, PAGE, |key, _| {
            if let Some(seq) = seq_from_key_tail(key) {
                let key = seq_key(seq);
                let bytes = store.get(TreeId::WorkOrders, &key)?.ok_or_else(|| {
                    EngineError::Corrupt(format!("work order #{seq} is queued but missing"))
                })?;
                let wo: WorkOrder = decode(TreeId::WorkOrders, &key, &bytes)?;
                t.add_work_order(&wo, 1);
            }
            Ok(())
        })?;
        for_each_entry::<EngineError>(store, TreeId::Undelivered, PAGE, |key, _| {
            if let Some(seq) = seq_from_key_tail(key) {
                t.add_comm(&read_comm(store, seq)?, 1);
            }
            Ok(())
        })?;
        t.prune();
        Ok(t)
    }

    /// Stages `delta` onto the stored counts in `batch` (nothing when the delta is empty).
    pub fn stage(
        store: &dyn Store,
        batch: &mut WriteBatch,
        delta: &Tallies,
    ) -> Result<(), EngineError> {
        if delta.is_empty() {
            return Ok(());
        }
        let mut counts = Tallies::current(store)?;
        counts.merge(delta);
        batch.put(TreeId::Meta, TALLIES_KEY.to_vec(), encode(&counts)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_drops_what_cancels_out() {
        let mut a = Tallies::default();
        a.queue.insert("NEW".into(), 1);
        let mut d = Tallies::default();
        d.queue.insert("NEW".into(), -1);
        d.queue.insert("SENT".into(), 1);
        a.merge(&d);
        assert_eq!(a.queue.get("NEW"), None);
        assert_eq!(a.queue.get("SENT"), Some(&1));
    }
}
