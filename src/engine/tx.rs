//! The unit of work: records read and changed by one command or one batch of a monitor pass.
//!
//! Reads go through the staged copies first, so a chain always sees its own changes. On commit,
//! every changed record is written with its index entries recomputed from scratch and diffed
//! against the entries of the version that was read: indexes agree with records by construction.

use super::codec::{decode, encode};
use super::keys::{activity_index, comm_index, comm_parent, work_order_index, IndexEntry, Tag};
use super::tally::Tallies;
use super::EngineError;
use crate::domain::{
    Activity, AuditEntry, Building, CommBody, Communication, Customer, Device, Instant, Seq,
    ServicePoint,
};
use crate::store::{
    prefix_end, scan_prefix, seq_from_key_tail, seq_key, text_prefix, time_seq_key, Store, TreeId,
    WriteBatch,
};
use crate::workorders::WorkOrder;
use std::collections::{BTreeMap, BTreeSet};

/// A record as read, and as it will be written.
#[derive(Debug)]
struct Staged<T> {
    original: Option<T>,
    current: T,
    dirty: bool,
}

/// The sequence and id counters, persisted in the meta tree.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    /// The next sequence number to hand out.
    pub next_seq: Seq,
    /// The next number per id prefix (`SO`, `FA`…).
    pub next_number: BTreeMap<String, u64>,
}

const COUNTERS_KEY: &[u8] = b"counters";

/// Transitions and errors made in one hour (engine time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HourCounts {
    /// Transitions of every record.
    pub transitions: u64,
    /// Transitions into an error state.
    pub errors: u64,
}

/// The Meta key of an hour's counters: `hour/` and the hour's start, order-preserving.
pub fn hour_key(at: Instant) -> Vec<u8> {
    let hour = at.timestamp().div_euclid(3600) * 3600;
    let start = chrono::DateTime::from_timestamp(hour, 0).unwrap_or(at);
    let mut key = b"hour/".to_vec();
    key.extend_from_slice(&crate::store::time_bytes(start));
    key
}

/// One transition made, for the tick report and the desk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransitionNote {
    /// The record's id.
    pub id: String,
    /// The state left.
    pub from: String,
    /// The state entered.
    pub to: String,
}

/// Transitions committed by this process, by the state entered (the `/metrics` counter).
static TRANSITIONS: std::sync::Mutex<BTreeMap<String, u64>> =
    std::sync::Mutex::new(BTreeMap::new());

fn count_transitions(notes: &[TransitionNote]) {
    if notes.is_empty() {
        return;
    }
    let mut counts = TRANSITIONS.lock().unwrap_or_else(|p| p.into_inner());
    for note in notes {
        *counts.entry(note.to.clone()).or_default() += 1;
    }
}

/// Transitions committed by this process so far, by the state entered.
pub fn transitions_by_state() -> BTreeMap<String, u64> {
    TRANSITIONS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// The unit of work.
pub struct Tx<'s> {
    store: &'s dyn Store,
    /// The exact engine time, for timestamps.
    pub now: Instant,
    /// Engine time truncated to the minute, for every rule comparison (§12.1).
    pub rule_now: Instant,
    counters: Counters,
    counters_dirty: bool,
    activities: BTreeMap<Seq, Staged<Activity>>,
    comms: BTreeMap<Seq, Staged<Communication>>,
    sps: BTreeMap<String, Staged<ServicePoint>>,
    devices: BTreeMap<String, Staged<Device>>,
    customers: BTreeMap<String, Staged<Customer>>,
    buildings: BTreeMap<String, Staged<Building>>,
    work_orders: BTreeMap<Seq, Staged<WorkOrder>>,
    feed_items: Vec<crate::feed::FeedItem>,
    /// The feed ids of customers this unit of work has generated an id for.
    feed_ids: BTreeMap<String, BTreeSet<String>>,
    new_ids: BTreeMap<String, (Tag, Seq)>,
    audit: Vec<AuditEntry>,
    /// Meta entries written by this unit of work (`None` deletes).
    meta: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Transitions made in this unit of work.
    pub transitions: Vec<TransitionNote>,
}

impl<'s> Tx<'s> {
    /// Starts a unit of work at `now`.
    pub fn begin(store: &'s dyn Store, now: Instant) -> Result<Tx<'s>, EngineError> {
        let counters = match store.get(TreeId::Meta, COUNTERS_KEY)? {
            Some(bytes) => decode(TreeId::Meta, COUNTERS_KEY, &bytes)?,
            None => Counters {
                next_seq: 1,
                ..Counters::default()
            },
        };
        Ok(Tx {
            store,
            now,
            rule_now: crate::throttle::truncate_to_minute(now),
            counters,
            counters_dirty: false,
            activities: BTreeMap::new(),
            comms: BTreeMap::new(),
            sps: BTreeMap::new(),
            devices: BTreeMap::new(),
            customers: BTreeMap::new(),
            buildings: BTreeMap::new(),
            work_orders: BTreeMap::new(),
            feed_items: Vec::new(),
            feed_ids: BTreeMap::new(),
            new_ids: BTreeMap::new(),
            audit: Vec::new(),
            meta: BTreeMap::new(),
            transitions: Vec::new(),
        })
    }

    // ---- ids and counters ----------------------------------------------------------------

    /// A new sequence number.
    pub fn next_seq(&mut self) -> Seq {
        let seq = self.counters.next_seq.max(1);
        self.counters.next_seq = seq + 1;
        self.counters_dirty = true;
        seq
    }

    /// A new `PREFIX-<n>` id that is not taken (§12.13: counters skip taken ids).
    pub fn next_id(&mut self, prefix: &str) -> Result<String, EngineError> {
        loop {
            let n = self
                .counters
                .next_number
                .entry(prefix.to_string())
                .or_insert(1);
            let id = format!("{prefix}-{n}");
            *n += 1;
            self.counters_dirty = true;
            if self.lookup(&id)?.is_none() {
                return Ok(id);
            }
        }
    }

    /// Finds an activity or communication by its string id.
    pub fn lookup(&self, id: &str) -> Result<Option<(Tag, Seq)>, EngineError> {
        if let Some(found) = self.new_ids.get(id) {
            return Ok(Some(*found));
        }
        let Some(bytes) = self.store.get(TreeId::Ids, id.as_bytes())? else {
            return Ok(None);
        };
        let tag = bytes.first().and_then(|b| Tag::from_byte(*b));
        match (tag, seq_from_key_tail(&bytes)) {
            (Some(tag), Some(seq)) if bytes.len() == 9 => Ok(Some((tag, seq))),
            _ => Err(EngineError::Corrupt(format!("id entry for {id}"))),
        }
    }

    /// Finds an activity's sequence number by id.
    pub fn activity_seq(&self, id: &str) -> Result<Option<Seq>, EngineError> {
        Ok(match self.lookup(id)? {
            Some((Tag::Activity, seq)) => Some(seq),
            _ => None,
        })
    }

    // ---- activities ----------------------------------------------------------------------

    fn load_activity(&mut self, seq: Seq) -> Result<(), EngineError> {
        load_by_seq(
            self.store,
            &mut self.activities,
            TreeId::Activities,
            seq,
            "activity",
        )
    }

    /// An activity, read.
    pub fn activity(&mut self, seq: Seq) -> Result<&Activity, EngineError> {
        self.load_activity(seq)?;
        Ok(&self.activities[&seq].current)
    }

    /// An activity, to change.
    pub fn activity_mut(&mut self, seq: Seq) -> Result<&mut Activity, EngineError> {
        self.load_activity(seq)?;
        let staged = self
            .activities
            .get_mut(&seq)
            .ok_or_else(|| EngineError::Corrupt(format!("activity #{seq}")))?;
        staged.dirty = true;
        Ok(&mut staged.current)
    }

    /// Stores a new activity.
    pub fn insert_activity(&mut self, record: Activity) {
        self.new_ids
            .insert(record.id.clone(), (Tag::Activity, record.seq));
        self.activities.insert(
            record.seq,
            Staged {
                original: None,
                current: record,
                dirty: true,
            },
        );
    }

    /// The children (activities) of an activity, ascending.
    pub fn child_activities(&mut self, parent: Seq) -> Result<Vec<Seq>, EngineError> {
        Ok(self
            .children(parent)?
            .into_iter()
            .filter(|(tag, _)| *tag == Tag::Activity)
            .map(|(_, seq)| seq)
            .collect())
    }

    fn children(&mut self, parent: Seq) -> Result<Vec<(Tag, Seq)>, EngineError> {
        let mut found = BTreeSet::new();
        for (key, value) in scan_prefix(self.store, TreeId::Children, &seq_key(parent), usize::MAX)?
        {
            if let (Some(seq), Some(tag)) = (
                seq_from_key_tail(&key),
                value.first().and_then(|b| Tag::from_byte(*b)),
            ) {
                found.insert((tag, seq));
            }
        }
        for (seq, staged) in &self.activities {
            if staged.original.is_none() && staged.current.parent == Some(parent) {
                found.insert((Tag::Activity, *seq));
            }
        }
        for (seq, staged) in &self.comms {
            if staged.original.is_none() && comm_parent(&staged.current) == Some(parent) {
                found.insert((Tag::Comm, *seq));
            }
        }
        let mut list: Vec<(Tag, Seq)> = found.into_iter().collect();
        list.sort_by_key(|(_, seq)| *seq);
        Ok(list)
    }

    /// Sequence numbers of index entries under a text key (`BySp`, `CmdByDevice`), plus new
    /// records that the caller filters itself.
    pub fn indexed_by_text(&mut self, tree: TreeId, text: &str) -> Result<Vec<Seq>, EngineError> {
        let mut found: BTreeSet<Seq> =
            scan_prefix(self.store, tree, &text_prefix(text), usize::MAX)?
                .iter()
                .filter_map(|(k, _)| seq_from_key_tail(k))
                .collect();
        for (seq, staged) in &self.activities {
            if staged.original.is_none() {
                found.insert(*seq);
            }
        }
        Ok(found.into_iter().collect())
    }

    // ---- communications ------------------------------------------------------------------

    fn load_comm(&mut self, seq: Seq) -> Result<(), EngineError> {
        load_by_seq(
            self.store,
            &mut self.comms,
            TreeId::Comms,
            seq,
            "communication",
        )
    }

    /// A communication, read.
    pub fn comm(&mut self, seq: Seq) -> Result<&Communication, EngineError> {
        self.load_comm(seq)?;
        Ok(&self.comms[&seq].current)
    }

    /// A communication, to change.
    pub fn comm_mut(&mut self, seq: Seq) -> Result<&mut Communication, EngineError> {
        self.load_comm(seq)?;
        let staged = self
            .comms
            .get_mut(&seq)
            .ok_or_else(|| EngineError::Corrupt(format!("communication #{seq}")))?;
        staged.dirty = true;
        Ok(&mut staged.current)
    }

    /// Marks an outbound communication as handed to its system.
    pub fn mark_delivered(&mut self, seq: Seq) -> Result<(), EngineError> {
        if let CommBody::Outbound(o) = &mut self.comm_mut(seq)?.body {
            o.delivered = true;
        }
        Ok(())
    }

    /// Stores a new communication.
    pub fn insert_comm(&mut self, record: Communication) {
        self.new_ids
            .insert(record.id.clone(), (Tag::Comm, record.seq));
        self.comms.insert(
            record.seq,
            Staged {
                original: None,
                current: record,
                dirty: true,
            },
        );
    }

    /// The outbound communication the field work system knows by `external_id`.
    pub fn comm_by_external_id(&mut self, external_id: &str) -> Result<Option<Seq>, EngineError> {
        for (seq, staged) in &self.comms {
            if let CommBody::Outbound(o) = &staged.current.body {
                if o.external_id.as_deref() == Some(external_id) {
                    return Ok(Some(*seq));
                }
            }
        }
        let hits = scan_prefix(
            self.store,
            TreeId::ByExternalId,
            &text_prefix(external_id),
            1,
        )?;
        Ok(hits.first().and_then(|(k, _)| seq_from_key_tail(k)))
    }

    // ---- work orders ---------------------------------------------------------------------

    /// A work order, to read or change (marked changed).
    pub fn work_order_mut(&mut self, seq: Seq) -> Result<&mut WorkOrder, EngineError> {
        load_by_seq(
            self.store,
            &mut self.work_orders,
            TreeId::WorkOrders,
            seq,
            "work order",
        )?;
        let staged = self
            .work_orders
            .get_mut(&seq)
            .ok_or_else(|| EngineError::Corrupt(format!("work order #{seq}")))?;
        staged.dirty = true;
        Ok(&mut staged.current)
    }

    /// Stores a new work order.
    pub fn insert_work_order(&mut self, record: WorkOrder) {
        self.new_ids
            .insert(record.id.clone(), (Tag::WorkOrder, record.seq));
        self.work_orders.insert(
            record.seq,
            Staged {
                original: None,
                current: record,
                dirty: true,
            },
        );
    }

    /// Stores a new feed item (items are never changed once imported).
    pub fn insert_feed_item(&mut self, item: crate::feed::FeedItem) {
        if let Some(ids) = self.feed_ids.get_mut(&item.customer) {
            ids.insert(item.id.clone());
        }
        self.feed_items.push(item);
    }

    /// A new `F-<n>` id that the customer's feed does not have yet: feed ids are unique per
    /// customer (see `feed_buckets`), so the check reads that customer's buckets once.
    pub fn next_feed_id(&mut self, customer: &str) -> Result<String, EngineError> {
        if !self.feed_ids.contains_key(customer) {
            let mut ids = super::feed_buckets::customer_ids(self.store, customer)?;
            ids.extend(
                self.feed_items
                    .iter()
                    .filter(|item| item.customer == customer)
                    .map(|item| item.id.clone()),
            );
            self.feed_ids.insert(customer.to_string(), ids);
        }
        loop {
            let n = self.counters.next_number.entry("F".into()).or_insert(1);
            let id = format!("F-{n}");
            *n += 1;
            self.counters_dirty = true;
            if !self
                .feed_ids
                .get(customer)
                .is_some_and(|ids| ids.contains(&id))
            {
                return Ok(id);
            }
        }
    }

    /// Work orders at a site (stored and new), ascending.
    pub fn work_orders_at(&mut self, site: &str) -> Result<Vec<Seq>, EngineError> {
        let mut found: BTreeSet<Seq> =
            scan_prefix(self.store, TreeId::WoBySite, &text_prefix(site), usize::MAX)?
                .iter()
                .filter_map(|(k, _)| seq_from_key_tail(k))
                .collect();
        for (seq, staged) in &self.work_orders {
            if staged.current.site == site {
                found.insert(*seq);
            }
        }
        Ok(found.into_iter().collect())
    }

    // ---- reference data ------------------------------------------------------------------

    /// A service point by id.
    pub fn sp(&mut self, id: &str) -> Result<Option<&ServicePoint>, EngineError> {
        load_by_id(self.store, &mut self.sps, TreeId::ServicePoints, id)?;
        Ok(self.sps.get(id).map(|s| &s.current))
    }

    /// A service point by id, to change.
    pub fn sp_mut(&mut self, id: &str) -> Result<Option<&mut ServicePoint>, EngineError> {
        load_by_id(self.store, &mut self.sps, TreeId::ServicePoints, id)?;
        Ok(self.sps.get_mut(id).map(|s| {
            s.dirty = true;
            &mut s.current
        }))
    }

    /// Stores a service point (new or replaced).
    pub fn put_sp(&mut self, sp: ServicePoint) -> Result<(), EngineError> {
        put_by_id(
            self.store,
            &mut self.sps,
            TreeId::ServicePoints,
            sp.id.clone(),
            sp,
        )
    }

    /// A device by id.
    pub fn device(&mut self, id: &str) -> Result<Option<&Device>, EngineError> {
        load_by_id(self.store, &mut self.devices, TreeId::Devices, id)?;
        Ok(self.devices.get(id).map(|s| &s.current))
    }

    /// A device by id, to change.
    pub fn device_mut(&mut self, id: &str) -> Result<Option<&mut Device>, EngineError> {
        load_by_id(self.store, &mut self.devices, TreeId::Devices, id)?;
        Ok(self.devices.get_mut(id).map(|s| {
            s.dirty = true;
            &mut s.current
        }))
    }

    /// Stores a device (new or replaced).
    pub fn put_device(&mut self, device: Device) -> Result<(), EngineError> {
        put_by_id(
            self.store,
            &mut self.devices,
            TreeId::Devices,
            device.id.clone(),
            device,
        )
    }

    /// A customer by id.
    pub fn customer(&mut self, id: &str) -> Result<Option<&Customer>, EngineError> {
        load_by_id(self.store, &mut self.customers, TreeId::Customers, id)?;
        Ok(self.customers.get(id).map(|s| &s.current))
    }

    /// Stores a customer (new or replaced).
    pub fn put_customer(&mut self, customer: Customer) -> Result<(), EngineError> {
        put_by_id(
            self.store,
            &mut self.customers,
            TreeId::Customers,
            customer.id.clone(),
            customer,
        )
    }

    /// A building by id.
    pub fn building(&mut self, id: &str) -> Result<Option<&Building>, EngineError> {
        load_by_id(self.store, &mut self.buildings, TreeId::Buildings, id)?;
        Ok(self.buildings.get(id).map(|s| &s.current))
    }

    /// Stores a building (new or replaced).
    pub fn put_building(&mut self, building: Building) -> Result<(), EngineError> {
        put_by_id(
            self.store,
            &mut self.buildings,
            TreeId::Buildings,
            building.id.clone(),
            building,
        )
    }

    // ---- audit and notes -----------------------------------------------------------------

    /// Appends an audit entry (written with the rest of the unit of work).
    pub fn audit(&mut self, mut entry: AuditEntry) {
        entry.seq = self.next_seq();
        self.audit.push(entry);
    }

    /// A meta entry, as this unit of work has left it so far.
    pub fn meta(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        match self.meta.get(key) {
            Some(staged) => Ok(staged.clone()),
            None => Ok(self.store.get(TreeId::Meta, key)?),
        }
    }

    /// Writes (or, with `None`, deletes) a meta entry with the rest of the unit.
    pub fn put_meta(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.meta.insert(key, value);
    }

    /// Records a transition for the report.
    pub fn note_transition(&mut self, id: &str, from: &str, to: &str) {
        self.transitions.push(TransitionNote {
            id: id.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        });
    }

    // ---- commit --------------------------------------------------------------------------

    /// Writes everything atomically; returns the transitions made.
    pub fn commit(self) -> Result<Vec<TransitionNote>, EngineError> {
        let mut batch = WriteBatch::default();
        // What this unit of work changes in the live counts, staged with the records below.
        let mut delta = Tallies::default();
        stage_by_seq(
            &mut batch,
            TreeId::Activities,
            &self.activities,
            activity_index,
            |a, n| delta.add_activity(a, n),
        )?;
        stage_by_seq(
            &mut batch,
            TreeId::Comms,
            &self.comms,
            comm_index,
            |c, n| delta.add_comm(c, n),
        )?;
        stage_by_seq(
            &mut batch,
            TreeId::WorkOrders,
            &self.work_orders,
            work_order_index,
            |w, n| delta.add_work_order(w, n),
        )?;
        super::feed_buckets::stage(self.store, &mut batch, &self.feed_items)?;
        stage_by_id(&mut batch, TreeId::ServicePoints, &self.sps)?;
        stage_by_id(&mut batch, TreeId::Devices, &self.devices)?;
        stage_by_id(&mut batch, TreeId::Customers, &self.customers)?;
        stage_by_id(&mut batch, TreeId::Buildings, &self.buildings)?;
        for (id, (tag, seq)) in &self.new_ids {
            let mut value = vec![*tag as u8];
            value.extend_from_slice(&seq_key(*seq));
            batch.put(TreeId::Ids, id.as_bytes().to_vec(), value);
        }
        for entry in &self.audit {
            stage_record(&mut batch, TreeId::Audit, &seq_key(entry.seq), entry)?;
        }
        if self.counters_dirty {
            batch.put(TreeId::Meta, COUNTERS_KEY.to_vec(), encode(&self.counters)?);
        }
        for (key, value) in &self.meta {
            match value {
                Some(value) => batch.put(TreeId::Meta, key.clone(), value.clone()),
                None => batch.delete(TreeId::Meta, key.clone()),
            }
        }
        self.stage_hourly(&mut batch)?;
        stage_time_mark(self.store, &mut batch, self.now)?;
        delta.prune();
        Tallies::stage(self.store, &mut batch, &delta)?;
        self.store.commit(&batch)?;
        count_transitions(&self.transitions);
        Ok(self.transitions)
    }

    /// Adds this unit's transitions and errors to the hour's counters (the overview's
    /// sparklines), in the same batch: the counters never disagree with what was committed.
    fn stage_hourly(&self, batch: &mut WriteBatch) -> Result<(), EngineError> {
        if self.transitions.is_empty() {
            return Ok(());
        }
        let errors = self
            .transitions
            .iter()
            .filter(|t| t.to.ends_with("_ERROR"))
            .count() as u64;
        let key = hour_key(self.now);
        let mut counts = match self.store.get(TreeId::Meta, &key)? {
            Some(bytes) => decode::<HourCounts>(TreeId::Meta, &key, &bytes)?,
            None => HourCounts::default(),
        };
        counts.transitions += self.transitions.len() as u64;
        counts.errors += errors;
        batch.put(TreeId::Meta, key, encode(&counts)?);
        Ok(())
    }
}

/// The meta key of engine time's high-water mark: the latest engine time a unit of work ran
/// at. A new run's clock starts no earlier, so the audit never goes back in engine time.
const TIME_MARK_KEY: &[u8] = b"engine_time";

/// The database's engine-time mark, when one was recorded.
pub(crate) fn time_mark(store: &dyn Store) -> Result<Option<Instant>, EngineError> {
    match store.get(TreeId::Meta, TIME_MARK_KEY)? {
        Some(bytes) => Ok(Some(decode(TreeId::Meta, TIME_MARK_KEY, &bytes)?)),
        None => Ok(None),
    }
}

/// Stages `now` as the mark when it is later than the one stored: the mark never goes back
/// (an explicit `--now` in the past leaves it where it is).
pub(crate) fn stage_time_mark(
    store: &dyn Store,
    batch: &mut WriteBatch,
    now: Instant,
) -> Result<(), EngineError> {
    if time_mark(store)?.is_some_and(|mark| mark >= now) {
        return Ok(());
    }
    batch.put(TreeId::Meta, TIME_MARK_KEY.to_vec(), encode(&now)?);
    Ok(())
}

/// Reads a record keyed by sequence into `map`, unless it is staged already.
fn load_by_seq<T: serde::de::DeserializeOwned + Clone>(
    store: &dyn Store,
    map: &mut BTreeMap<Seq, Staged<T>>,
    tree: TreeId,
    seq: Seq,
    what: &str,
) -> Result<(), EngineError> {
    if map.contains_key(&seq) {
        return Ok(());
    }
    let key = seq_key(seq);
    let bytes = store
        .get(tree, &key)?
        .ok_or_else(|| EngineError::Corrupt(format!("{what} #{seq} is missing")))?;
    let record: T = decode(tree, &key, &bytes)?;
    map.insert(
        seq,
        Staged {
            original: Some(record.clone()),
            current: record,
            dirty: false,
        },
    );
    Ok(())
}

/// Stages every changed record of `map` with its index entries diffed against the version read,
/// and tells `tally` what leaves (-1) and what arrives (+1) for the live counts.
fn stage_by_seq<T: serde::Serialize>(
    batch: &mut WriteBatch,
    tree: TreeId,
    map: &BTreeMap<Seq, Staged<T>>,
    index: fn(&T) -> Vec<IndexEntry>,
    mut tally: impl FnMut(&T, i64),
) -> Result<(), EngineError> {
    for (seq, staged) in map {
        if !staged.dirty {
            continue;
        }
        if let Some(old) = &staged.original {
            tally(old, -1);
        }
        tally(&staged.current, 1);
        stage_record(batch, tree, &seq_key(*seq), &staged.current)?;
        let old = staged.original.as_ref().map(index).unwrap_or_default();
        diff_index(batch, old, index(&staged.current));
    }
    Ok(())
}

fn load_by_id<T: serde::de::DeserializeOwned + Clone>(
    store: &dyn Store,
    map: &mut BTreeMap<String, Staged<T>>,
    tree: TreeId,
    id: &str,
) -> Result<(), EngineError> {
    if map.contains_key(id) {
        return Ok(());
    }
    if let Some(bytes) = store.get(tree, id.as_bytes())? {
        let record: T = decode(tree, id.as_bytes(), &bytes)?;
        map.insert(
            id.to_string(),
            Staged {
                original: Some(record.clone()),
                current: record,
                dirty: false,
            },
        );
    }
    Ok(())
}

fn put_by_id<T: serde::de::DeserializeOwned + Clone>(
    store: &dyn Store,
    map: &mut BTreeMap<String, Staged<T>>,
    tree: TreeId,
    id: String,
    record: T,
) -> Result<(), EngineError> {
    load_by_id(store, map, tree, &id)?;
    match map.get_mut(&id) {
        Some(staged) => {
            staged.current = record;
            staged.dirty = true;
        }
        None => {
            map.insert(
                id,
                Staged {
                    original: None,
                    current: record,
                    dirty: true,
                },
            );
        }
    }
    Ok(())
}

fn stage_record<T: serde::Serialize>(
    batch: &mut WriteBatch,
    tree: TreeId,
    key: &[u8],
    value: &T,
) -> Result<(), EngineError> {
    batch.put(tree, key.to_vec(), encode(value)?);
    Ok(())
}

fn stage_by_id<T: serde::Serialize>(
    batch: &mut WriteBatch,
    tree: TreeId,
    map: &BTreeMap<String, Staged<T>>,
) -> Result<(), EngineError> {
    for (id, staged) in map {
        if staged.dirty {
            stage_record(batch, tree, id.as_bytes(), &staged.current)?;
        }
    }
    Ok(())
}

fn diff_index(batch: &mut WriteBatch, old: Vec<IndexEntry>, new: Vec<IndexEntry>) {
    for entry in &old {
        if !new.iter().any(|n| n.0 == entry.0 && n.1 == entry.1) {
            batch.delete(entry.0, entry.1.clone());
        }
    }
    for entry in new {
        if !old.contains(&entry) {
            batch.put(entry.0, entry.1, entry.2);
        }
    }
}

/// Every due entry with `due <= now`, as (tag, seq), ascending by sequence (§12.2).
pub fn due_work(store: &dyn Store, now: Instant) -> Result<Vec<(Tag, Seq)>, EngineError> {
    let upper = time_seq_key(now, Seq::MAX);
    let end = prefix_end(&upper);
    let mut work: Vec<(Tag, Seq)> = store
        .range(TreeId::Due, &[], end.as_deref(), usize::MAX, false)?
        .into_iter()
        .filter_map(|(k, v)| Some((Tag::from_byte(*v.first()?)?, seq_from_key_tail(&k)?)))
        .collect();
    work.sort_by_key(|(_, seq)| *seq);
    work.dedup();
    Ok(work)
}
