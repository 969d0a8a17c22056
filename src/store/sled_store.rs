//! The durable store on sled 0.34.7.
//!
//! One `sled::Db` per process: sled takes an exclusive file lock, so a second process fails to
//! open and is told who holds the database. A [`WriteBatch`] is applied as one sled transaction
//! over every tree it touches; the closure only replays the batch, so sled may re-run it freely.

use super::{Store, StoreError, TreeId, WriteBatch};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::path::{Path, PathBuf};

/// The schema this build reads and writes. 2 stored compact values (see `engine::codec`); 3
/// keeps imported feed items in customer buckets and makes the error-code list a covering
/// index (version 2 was never released: only development builds wrote it, and it migrates as
/// version 1 does). An older database is refused until `orderdesk migrate` converts it.
pub const SCHEMA_VERSION: u32 = 3;

/// Where the meta tree keeps the schema version (four bytes, big-endian).
pub const SCHEMA_KEY: &[u8] = b"schema_version";
const HOLDER_FILE: &str = "orderdesk.holder";

/// A sled database with one tree per [`TreeId`].
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    path: PathBuf,
}

/// Removes the snapshot files a crash left half-written; returns how many.
///
/// sled 0.34.7 writes a snapshot to `snap.<lsn>.generating` and renames it when it is whole,
/// but when it opens a database it also considers the `.generating` files, and picks one left
/// by a kill -9 (it sorts last) only to refuse it as corrupt: the database would not open
/// again (upstream issues 1509, 1527). Such a file is by construction unfinished, and the log
/// and the previous snapshot hold everything, so it is removed and the open tried once more.
/// Called only after an open failed on corruption, so this process held the database's lock
/// and no other can be writing a snapshot.
fn remove_unfinished_snapshots(path: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("snap.") && name.ends_with(".generating")
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

impl SledStore {
    /// Opens (or creates) the database at `path`; `holder` says who we are if another process asks.
    pub fn open(path: &Path, holder: &str) -> Result<SledStore, StoreError> {
        let (store, found) = SledStore::open_any(path, holder)?;
        if found < SCHEMA_VERSION {
            return Err(StoreError::OlderSchema {
                path: path.to_path_buf(),
                found,
                current: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// Opens the database at `path` whatever its schema (a newer one is still refused) and
    /// says which it is: what a migration reads from. A new database is this build's.
    pub fn open_any(path: &Path, holder: &str) -> Result<(SledStore, u32), StoreError> {
        super::migration::finish_interrupted(path)?;
        create_private_dir(path)?;
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024);
        let db = match config.open() {
            Err(sled::Error::Corruption { .. }) if remove_unfinished_snapshots(path) > 0 => {
                config.open()
            }
            opened => opened,
        }
        .map_err(|e| open_error(path, e))?;
        let mut trees = Vec::with_capacity(TreeId::ALL.len());
        for tree in TreeId::ALL {
            trees.push(db.open_tree(tree.name()).map_err(|e| open_error(path, e))?);
        }
        let store = SledStore {
            db,
            trees,
            path: path.to_path_buf(),
        };
        let found = store.check_schema()?;
        // Best effort: the holder note only improves the "locked" message of a second process.
        let _ = std::fs::write(path.join(HOLDER_FILE), holder);
        Ok((store, found))
    }

    /// Writes `entries` to one tree in one sled batch, outside any transaction: for building a
    /// database nothing else reads yet (a migration), where a transaction per batch would only
    /// cost time.
    pub fn bulk_load(
        &self,
        tree: TreeId,
        entries: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in entries {
            batch.insert(key.as_slice(), value.as_slice());
        }
        self.tree(tree)
            .apply_batch(batch)
            .map_err(|e| open_error(&self.path, e))
    }

    /// True when sled recovered the database from an unclean shutdown.
    pub fn was_recovered(&self) -> bool {
        self.db.was_recovered()
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version stored (a new database is given this build's); a newer one is refused.
    fn check_schema(&self) -> Result<u32, StoreError> {
        let meta = self.tree(TreeId::Meta);
        let found = meta
            .get(SCHEMA_KEY)
            .map_err(|e| open_error(&self.path, e))?;
        match found {
            Some(bytes) => {
                let raw: [u8; 4] =
                    bytes
                        .as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Unreadable {
                            path: self.path.clone(),
                            message: "the schema version record is malformed".into(),
                        })?;
                let version = u32::from_be_bytes(raw);
                if version > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: self.path.clone(),
                        found: version,
                        supported: SCHEMA_VERSION,
                    });
                }
                Ok(version)
            }
            None => {
                meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())
                    .map_err(|e| open_error(&self.path, e))?;
                Ok(SCHEMA_VERSION)
            }
        }
    }

    fn tree(&self, id: TreeId) -> &sled::Tree {
        &self.trees[id.index()]
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path.join(HOLDER_FILE));
    }
}

fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|e| StoreError::Unreadable {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn open_error(path: &Path, error: sled::Error) -> StoreError {
    let message = error.to_string();
    if message.contains("lock") {
        let holder = std::fs::read_to_string(path.join(HOLDER_FILE))
            .map(|h| format!(" ({})", h.trim()))
            .unwrap_or_default();
        return StoreError::Locked {
            path: path.to_path_buf(),
            holder,
        };
    }
    StoreError::Unreadable {
        path: path.to_path_buf(),
        message,
    }
}

fn io(error: sled::Error) -> StoreError {
    StoreError::Io(error.to_string())
}

impl Store for SledStore {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<super::Entry>, StoreError> {
        let t = self.tree(tree);
        let iter = match to {
            Some(to) => t.range(from.to_vec()..to.to_vec()),
            None => t.range(from.to_vec()..),
        };
        let pick = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(io)
        };
        if reverse {
            iter.rev().take(limit).map(pick).collect()
        } else {
            iter.take(limit).map(pick).collect()
        }
    }

    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut touched: Vec<TreeId> = batch.ops().iter().map(|(t, _, _)| *t).collect();
        touched.sort();
        touched.dedup();
        let mut per_tree: Vec<sled::Batch> =
            touched.iter().map(|_| sled::Batch::default()).collect();
        for (tree, key, value) in batch.ops() {
            let slot = touched.binary_search(tree).unwrap_or(0);
            match value {
                Some(v) => per_tree[slot].insert(key.as_slice(), v.as_slice()),
                None => per_tree[slot].remove(key.as_slice()),
            }
        }
        if touched.len() == 1 {
            return self
                .tree(touched[0])
                .apply_batch(per_tree.remove(0))
                .map_err(io);
        }
        let trees: Vec<sled::Tree> = touched.iter().map(|&t| self.tree(t).clone()).collect();
        trees
            .as_slice()
            .transaction(|views| {
                for (view, writes) in views.iter().zip(&per_tree) {
                    view.apply_batch(writes)?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e: TransactionError<()>| StoreError::Io(format!("{e:?}")))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(io)
    }

    fn count(&self, tree: TreeId) -> Result<usize, StoreError> {
        Ok(self.tree(tree).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_over_several_trees_lands_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), "test").unwrap();
        let mut batch = WriteBatch::default();
        batch.put(TreeId::Activities, b"a".to_vec(), b"1".to_vec());
        batch.put(TreeId::ByState, b"s".to_vec(), Vec::new());
        batch.delete(TreeId::Due, b"nothing".to_vec());
        store.commit(&batch).unwrap();
        assert_eq!(
            store.get(TreeId::Activities, b"a").unwrap(),
            Some(b"1".to_vec())
        );
        assert_eq!(store.count(TreeId::ByState).unwrap(), 1);
    }

    #[test]
    fn a_snapshot_a_crash_left_unfinished_does_not_stop_the_database_from_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, "test").expect("open");
            let mut batch = WriteBatch::default();
            batch.put(TreeId::Meta, b"k".to_vec(), b"v".to_vec());
            store.commit(&batch).expect("commit");
            store.flush().expect("flush");
        }
        // What a kill -9 in the middle of writing a snapshot leaves behind.
        std::fs::write(
            path.join("snap.FFFFFFFFFFFFFFFF.generating"),
            b"half a snap",
        )
        .expect("snap");
        // sled lets go of its lock when its flusher thread ends, a moment after the drop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let store = loop {
            match SledStore::open(&path, "test") {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                opened => break opened.expect("opens all the same"),
            }
        };
        assert_eq!(
            store.get(TreeId::Meta, b"k").expect("read"),
            Some(b"v".to_vec())
        );
        assert!(!path.join("snap.FFFFFFFFFFFFFFFF.generating").exists());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, "test").unwrap();
            let mut batch = WriteBatch::default();
            batch.put(
                TreeId::Meta,
                SCHEMA_KEY.to_vec(),
                99u32.to_be_bytes().to_vec(),
            );
            store.commit(&batch).unwrap();
            store.flush().unwrap();
        }
        let err = SledStore::open(&path, "test").err().unwrap();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }
}
