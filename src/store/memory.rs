//! An in-memory store with the same semantics as the sled one, for tests.

use super::{Store, StoreError, TreeId, WriteBatch};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// A store that lives and dies with the process.
#[derive(Debug, Default)]
pub struct MemStore {
    trees: Mutex<BTreeMap<TreeId, Tree>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<TreeId, Tree>>, StoreError> {
        self.trees
            .lock()
            .map_err(|_| StoreError::Io("the in-memory store was poisoned".into()))
    }
}

impl Store for MemStore {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.get(&tree).and_then(|t| t.get(key).cloned()))
    }

    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<super::Entry>, StoreError> {
        let trees = self.lock()?;
        let Some(t) = trees.get(&tree) else {
            return Ok(Vec::new());
        };
        let upper = match to {
            Some(to) => Bound::Excluded(to.to_vec()),
            None => Bound::Unbounded,
        };
        let range = t.range((Bound::Included(from.to_vec()), upper));
        let pick = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if reverse {
            range.rev().take(limit).map(pick).collect()
        } else {
            range.take(limit).map(pick).collect()
        })
    }

    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        let mut trees = self.lock()?;
        for (tree, key, value) in batch.ops() {
            let t = trees.entry(*tree).or_default();
            match value {
                Some(v) => {
                    t.insert(key.clone(), v.clone());
                }
                None => {
                    t.remove(key);
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn count(&self, tree: TreeId) -> Result<usize, StoreError> {
        Ok(self.lock()?.get(&tree).map_or(0, |t| t.len()))
    }
}
