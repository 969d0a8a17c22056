//! A full disk, simulated at the storage boundary: a commit that fails leaves nothing of the
//! step behind, the operator is told, and the engine goes on once there is room again.

mod common;

use common::*;
use orderdesk::config::Config;
use orderdesk::engine::{Actor, Engine, EngineError};
use orderdesk::store::{Entry, MemStore, Store, StoreError, TreeId, WriteBatch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A store whose commits fail with ENOSPC while `full` is set.
struct FullDisk {
    inner: MemStore,
    full: Arc<AtomicBool>,
}

impl Store for FullDisk {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.range(tree, from, to, limit, reverse)
    }
    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(StoreError::Io(
                "No space left on device (os error 28)".into(),
            ));
        }
        self.inner.commit(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn count(&self, tree: TreeId) -> Result<usize, StoreError> {
        self.inner.count(tree)
    }
}

#[test]
fn a_full_disk_refuses_the_step_whole_and_the_engine_recovers() {
    let full = Arc::new(AtomicBool::new(false));
    let store = FullDisk {
        inner: MemStore::new(),
        full: Arc::clone(&full),
    };
    let mut engine = Engine::new(Box::new(store), Config::default());
    let sam = Actor::system();
    let lines = [
        sp_line("SP-1", true, &smart("D-1", true, "on")),
        request("SO-1", "disable_service", "SP-1", ""),
    ]
    .join("\n");
    let records = orderdesk::formats::parse_import(lines.as_bytes()).expect("parse");
    engine
        .import(&sam, at("2025-06-10T09:00:00Z"), records)
        .expect("import");
    let before = engine.show(&sam, "SO-1").expect("show");
    let audit_before = engine.audit(None, 0).expect("audit").len();

    full.store(true, Ordering::SeqCst);
    let err = engine
        .tick(&sam, at("2025-06-10T09:00:00Z"))
        .map(|r| r.failures.len());
    // The pass reports every record it could not commit; nothing of it is stored.
    assert!(
        matches!(err, Ok(n) if n > 0) || matches!(err, Err(EngineError::Store(_))),
        "{err:?}"
    );
    let after = engine.show(&sam, "SO-1").expect("show");
    assert_eq!(after.state, before.state);
    assert_eq!(after.log.len(), before.log.len());
    let discard = engine.discard(&sam, at("2025-06-10T09:01:00Z"), "SO-1", Some("x"));
    match discard {
        Err(EngineError::Store(e)) => assert!(e.to_string().contains("No space left"), "{e}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
    assert_eq!(
        engine.audit(None, 0).expect("audit").len(),
        audit_before,
        "no half-written audit line"
    );
    assert!(engine.check_consistency().expect("check").is_empty());

    full.store(false, Ordering::SeqCst);
    engine.tick(&sam, at("2025-06-10T09:02:00Z")).expect("tick");
    assert_eq!(
        engine.show(&sam, "SO-1").expect("show").state,
        "IN_PROGRESS"
    );
    assert!(engine.check_consistency().expect("check").is_empty());
}
