//! Converting a database of an older schema to this build's: every value is read as the old
//! build wrote it and written as this one does, into a new database beside the old one,
//! which is checked before it takes the old one's place (see `store::migration` for why a kill
//! at any moment leaves one whole database).
//!
//! Schema 1 (or the unreleased 2) → 3: values go from JSON to the compact encoding (`codec`);
//! the queue's entries hold the orders they list, and the state index's and the error-code
//! list's the orchestration list's rows (covering indexes); imported feed items move from a
//! record, an id entry and an index entry each into their customer's yearly buckets
//! (`feed_buckets`). `--compact` rewrites a database of this schema the same way.

use super::codec::{self, JSON_VALUE};
use super::keys::{error_key, Tag};
use super::{Engine, EngineError};
use crate::domain::{
    Activity, AuditEntry, Building, Communication, Customer, Device, ServicePoint,
};
use crate::feed::FeedItem;
use crate::store::{
    for_each_entry, migration, seq_from_key_tail, SledStore, Store, StoreError, TreeId,
};
use crate::store::{SCHEMA_KEY, SCHEMA_VERSION};
use crate::workorders::WorkOrder;
use std::path::{Path, PathBuf};

/// Entries written per batch into the new database.
const BATCH: usize = 5_000;

/// What a migration did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationReport {
    /// The schema version the database had.
    pub from: u32,
    /// The version it has now.
    pub to: u32,
    /// Entries copied, over every tree.
    pub entries: u64,
    /// Values rewritten in the new encoding.
    pub rewritten: u64,
    /// Where the old database is kept.
    pub kept: PathBuf,
    /// The old database's size on disk.
    pub bytes_before: u64,
    /// The new one's.
    pub bytes_after: u64,
}

/// Migrates the database at `db`; `progress(done, total)` follows the entries copied.
/// `None`: it already has this build's schema and `compact` is not asked for (a run a kill
/// interrupted after the new database was complete is finished by opening it). With `compact`,
/// a database of this schema is rewritten the same way: sled reclaims the space of values
/// rewritten in place only partly, so a database built by years of updates holds several times
/// its data, and a fresh copy does not.
///
/// Refuses when a kept copy from an earlier migration is in the way: it is the operator's to
/// remove, not ours.
pub fn migrate(
    db: &Path,
    holder: &str,
    compact: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Option<MigrationReport>, EngineError> {
    let (old, from) = SledStore::open_any(db, holder)?;
    if from == SCHEMA_VERSION && !compact {
        return Ok(None);
    }
    let kept = migration::kept(db, from);
    if kept.exists() {
        return Err(EngineError::BadInput(format!(
            "{} is in the way: it holds the database as it was before an earlier migration; remove it (or move it elsewhere) first",
            kept.display()
        )));
    }
    let building = migration::building(db);
    if building.exists() {
        // Left by a run that was killed before it finished: never the database in use.
        std::fs::remove_dir_all(&building).map_err(|e| {
            EngineError::Store(StoreError::Unreadable {
                path: building.clone(),
                message: format!("cannot remove the unfinished migration: {e}"),
            })
        })?;
    }
    let total: u64 = TreeId::ALL
        .iter()
        .map(|tree| old.count(*tree).map(|n| n as u64))
        .sum::<Result<u64, StoreError>>()?;
    let (new, _) = SledStore::open_any(&building, holder)?;
    let mut report = MigrationReport {
        from,
        to: SCHEMA_VERSION,
        entries: 0,
        rewritten: 0,
        kept: kept.clone(),
        bytes_before: disk_size(db),
        bytes_after: 0,
    };
    let mut buckets = Buckets::default();
    for &tree in TreeId::ALL {
        let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(BATCH);
        for_each_entry(&old, tree, BATCH, |key, value| -> Result<(), EngineError> {
            report.entries += 1;
            match what_becomes_of(from, tree, key, value) {
                Becomes::Nothing => {}
                Becomes::Bucketed => {
                    let item =
                        codec::read_indexed(&old, TreeId::FeedItems, entry_seq(key)?, "feed item")?;
                    buckets.add(&new, item)?;
                    report.rewritten += 1;
                }
                Becomes::Entry => {
                    let (key, value, rewritten) = transcode(&old, from, tree, key, value)?;
                    report.rewritten += u64::from(rewritten);
                    batch.push((key, value));
                }
            }
            if report.entries % BATCH as u64 == 0 {
                new.bulk_load(tree, &batch)?;
                batch.clear();
                progress(report.entries, total);
                test_pause();
            }
            Ok(())
        })?;
        new.bulk_load(tree, &batch)?;
        progress(report.entries, total);
        test_pause();
    }
    let bucketed = buckets.finish(&new)?;
    let imported = old.count(TreeId::FeedItems)? as u64;
    if bucketed != imported {
        return Err(EngineError::Corrupt(format!(
            "the database at {} holds {imported} feed item(s) but its feed index names {bucketed}: run `orderdesk check` on it; it is unchanged",
            db.display()
        )));
    }
    // The live counts are recounted from what was copied: the old database's may lack one
    // this build keeps.
    let counts = super::tally::Tallies::recount(&new)?;
    new.bulk_load(
        TreeId::Meta,
        &[(super::tally::TALLIES_KEY.to_vec(), codec::encode(&counts)?)],
    )?;
    new.flush()?;
    drop(old);
    // The new database is checked before it replaces the old one.
    let engine = Engine::new(Box::new(new), crate::config::Config::default());
    let problems = engine.check_consistency()?;
    drop(engine);
    if let Some(first) = problems.first() {
        return Err(EngineError::Corrupt(format!(
            "the migrated database at {} does not check ({} problem(s), the first: {first}); the database at {} is unchanged",
            building.display(),
            problems.len(),
            db.display()
        )));
    }
    migration::mark_complete(&building, from)?;
    test_pause();
    migration::swap(db, &kept)?;
    report.bytes_after = disk_size(db);
    Ok(Some(report))
}

/// Schemas 1 and 2 tagged their feed items' id and index entries with this byte.
const SCHEMA_1_FEED_ITEM: u8 = 4;

/// What an entry of the old database becomes in the new one.
enum Becomes {
    /// An entry of the same tree and key.
    Entry,
    /// Its feed item, in its customer's bucket of the year.
    Bucketed,
    /// Nothing of its own: the schema marker (the new database has its own), a feed item's id
    /// entry (ids are checked in the buckets), a feed item record (bucketed through its index
    /// entry, which comes in (customer, time) order).
    Nothing,
}

fn what_becomes_of(from: u32, tree: TreeId, key: &[u8], value: &[u8]) -> Becomes {
    let feed_item = from < 3 && value.first() == Some(&SCHEMA_1_FEED_ITEM);
    match tree {
        TreeId::Meta if key == SCHEMA_KEY => Becomes::Nothing,
        TreeId::FeedItems => Becomes::Nothing,
        TreeId::Ids if feed_item => Becomes::Nothing,
        TreeId::Feed if feed_item => Becomes::Bucketed,
        _ => Becomes::Entry,
    }
}

/// The bucket being filled: the old feed index lists a customer's items by time, so each
/// bucket is complete when the next item falls outside it, and only one is held at a time.
#[derive(Default)]
struct Buckets {
    key: Vec<u8>,
    items: Vec<FeedItem>,
    pending: Vec<(Vec<u8>, Vec<u8>)>,
    count: u64,
}

impl Buckets {
    fn add(&mut self, new: &SledStore, item: FeedItem) -> Result<(), EngineError> {
        let key = crate::feed::bucket_key(&item.customer, crate::feed::bucket_year(item.at));
        if key != self.key {
            self.close(new)?;
            self.key = key;
        }
        self.items.push(item);
        self.count += 1;
        Ok(())
    }

    fn close(&mut self, new: &SledStore) -> Result<(), EngineError> {
        if !self.items.is_empty() {
            self.items.sort_by_key(|item| (item.at, item.seq));
            let value = codec::encode(&self.items)?;
            self.pending.push((std::mem::take(&mut self.key), value));
            self.items.clear();
        }
        if self.pending.len() >= BATCH / 10 {
            new.bulk_load(TreeId::FeedBuckets, &self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Writes what is left; the number of items bucketed.
    fn finish(mut self, new: &SledStore) -> Result<u64, EngineError> {
        self.close(new)?;
        new.bulk_load(TreeId::FeedBuckets, &self.pending)?;
        Ok(self.count)
    }
}

/// One entry as this build writes it, and whether its value changed: records are read as
/// their type and written anew; other encoded values (the meta tree's) go through JSON's own
/// value type; the covering indexes' entries are given the rows they cover, and the error
/// entries their place among the listed rows or the others; other index entries are copied as
/// they are.
fn transcode(
    old: &dyn Store,
    from: u32,
    tree: TreeId,
    key: &[u8],
    value: &[u8],
) -> Result<(Vec<u8>, Vec<u8>, bool), EngineError> {
    fn typed<T: serde::Serialize + serde::de::DeserializeOwned>(
        tree: TreeId,
        key: &[u8],
        value: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>, bool), EngineError> {
        let record: T = codec::decode(tree, key, value)?;
        Ok((key.to_vec(), codec::encode(&record)?, true))
    }
    match tree {
        TreeId::Activities => typed::<Activity>(tree, key, value),
        TreeId::Comms => typed::<Communication>(tree, key, value),
        TreeId::ServicePoints => typed::<ServicePoint>(tree, key, value),
        TreeId::Devices => typed::<Device>(tree, key, value),
        TreeId::Customers => typed::<Customer>(tree, key, value),
        TreeId::Buildings => typed::<Building>(tree, key, value),
        TreeId::Audit => typed::<AuditEntry>(tree, key, value),
        TreeId::WorkOrders => typed::<WorkOrder>(tree, key, value),
        TreeId::Undelivered => typed::<super::Waiting>(tree, key, value),
        TreeId::Queue => {
            let order = super::workorders::read_work_order(old, entry_seq(key)?)?;
            Ok((key.to_vec(), codec::encode(&order)?, true))
        }
        TreeId::ByState => {
            let activity = codec::read_activity(old, entry_seq(key)?)?;
            Ok((
                key.to_vec(),
                codec::encode(&super::rows::row_of(&activity))?,
                true,
            ))
        }
        TreeId::ByError if from < 3 => {
            // Schemas 1 and 2: the code, NUL, the sequence; the value the record's tag.
            let seq = entry_seq(key)?;
            let code = key
                .len()
                .checked_sub(9)
                .and_then(|end| std::str::from_utf8(&key[..end]).ok())
                .ok_or_else(|| {
                    EngineError::Corrupt(format!("an error entry without a code: {key:?}"))
                })?;
            let activity = match value.first() == Some(&(Tag::Activity as u8)) {
                true => Some(codec::read_activity(old, seq)?),
                false => None,
            };
            match activity.filter(|a| a.is_top_level()) {
                Some(a) => {
                    let row = codec::encode(&super::rows::row_of(&a))?;
                    Ok((error_key(code, true, seq), row, true))
                }
                None => Ok((error_key(code, false, seq), value.to_vec(), false)),
            }
        }
        TreeId::Meta if value.first() == Some(&JSON_VALUE) => {
            typed::<serde_json::Value>(tree, key, value)
        }
        _ => Ok((key.to_vec(), value.to_vec(), false)),
    }
}

/// The bytes of the files under `dir`.
fn disk_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => disk_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// The sequence number an index entry's key ends in.
fn entry_seq(key: &[u8]) -> Result<crate::domain::Seq, EngineError> {
    seq_from_key_tail(key)
        .ok_or_else(|| EngineError::Corrupt(format!("an index entry without a sequence: {key:?}")))
}

/// Lets the crash trials stop a migration in each of its phases: a pause after each batch, each
/// tree and before the move, when `ORDERDESK_TEST_MIGRATE_PAUSE_MS` is set.
fn test_pause() {
    if let Some(ms) = std::env::var("ORDERDESK_TEST_MIGRATE_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
