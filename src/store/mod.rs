//! The storage boundary: a small ordered key-value API over named trees.
//!
//! The engine speaks only this trait; [`SledStore`] is the durable implementation and
//! [`MemStore`] the in-memory one its tests use. Every change is a [`WriteBatch`] applied
//! atomically over all the trees it touches, so a crash leaves all of a step or none of it.
//! Paged reads of a tree go through the one walk here ([`walk_pages`]).

mod keys;
mod memory;
pub mod migration;
mod sled_store;

pub use keys::*;
pub use memory::MemStore;
pub use sled_store::{SledStore, SCHEMA_KEY, SCHEMA_VERSION};

use std::ops::ControlFlow;
use std::path::PathBuf;

/// The named trees: records, and the ordered secondary indexes over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreeId {
    /// Schema version, counters.
    Meta,
    /// String id → (record tree, sequence).
    Ids,
    /// Activities by sequence.
    Activities,
    /// Communications by sequence.
    Comms,
    /// Service points by id.
    ServicePoints,
    /// Devices by id.
    Devices,
    /// Customers by id.
    Customers,
    /// Buildings by id.
    Buildings,
    /// The audit log by sequence (append-only).
    Audit,
    /// Top-level activities by (state, sequence).
    ByState,
    /// Activities and communications in error by (code, sequence).
    ByError,
    /// Children by (parent, child): activities under orchestrations, comms under activities.
    Children,
    /// Orchestrations by (service point, sequence).
    BySp,
    /// Commands by (device, sequence), for the duplicate-command guard.
    CmdByDevice,
    /// Throttled commands waiting in WAIT_EFF by (effective, sequence).
    WaitingCmds,
    /// Monitor work by (due time, sequence).
    Due,
    /// Outbound communications awaiting a response, by sequence.
    Outbox,
    /// Outbound communications by the external id the field work system gave.
    ByExternalId,
    /// Work orders by sequence.
    WorkOrders,
    /// Open work orders by (preferred date with none last, created, sequence).
    Queue,
    /// Work orders by (site, sequence).
    WoBySite,
    /// Schema 1's imported feed items by sequence: read only by the migration, empty since.
    FeedItems,
    /// Imported feed items in buckets of one customer and one year.
    FeedBuckets,
    /// The service orders in the customer activity feed by (customer, time, sequence).
    Feed,
    /// Outbound messages the sender has not yet handed to their system, by sequence.
    Undelivered,
}

impl TreeId {
    /// Every tree, in a fixed order.
    pub const ALL: &'static [TreeId] = &[
        TreeId::Meta,
        TreeId::Ids,
        TreeId::Activities,
        TreeId::Comms,
        TreeId::ServicePoints,
        TreeId::Devices,
        TreeId::Customers,
        TreeId::Buildings,
        TreeId::Audit,
        TreeId::ByState,
        TreeId::ByError,
        TreeId::Children,
        TreeId::BySp,
        TreeId::CmdByDevice,
        TreeId::WaitingCmds,
        TreeId::Due,
        TreeId::Outbox,
        TreeId::ByExternalId,
        TreeId::WorkOrders,
        TreeId::Queue,
        TreeId::WoBySite,
        TreeId::FeedItems,
        TreeId::FeedBuckets,
        TreeId::Feed,
        TreeId::Undelivered,
    ];

    /// The tree's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            TreeId::Meta => "meta",
            TreeId::Ids => "ids",
            TreeId::Activities => "activities",
            TreeId::Comms => "comms",
            TreeId::ServicePoints => "service_points",
            TreeId::Devices => "devices",
            TreeId::Customers => "customers",
            TreeId::Buildings => "buildings",
            TreeId::Audit => "audit",
            TreeId::ByState => "idx_state",
            TreeId::ByError => "idx_error",
            TreeId::Children => "idx_children",
            TreeId::BySp => "idx_sp",
            TreeId::CmdByDevice => "idx_cmd_device",
            TreeId::WaitingCmds => "idx_waiting_cmds",
            TreeId::Due => "idx_due",
            TreeId::Outbox => "idx_outbox",
            TreeId::ByExternalId => "idx_external_id",
            TreeId::WorkOrders => "work_orders",
            TreeId::Queue => "idx_queue",
            TreeId::WoBySite => "idx_wo_site",
            TreeId::FeedItems => "feed_items",
            TreeId::FeedBuckets => "feed_buckets",
            TreeId::Feed => "idx_feed",
            TreeId::Undelivered => "idx_undelivered",
        }
    }

    fn index(self) -> usize {
        TreeId::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }
}

/// One key-value entry as read from a tree.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One write: the tree, the key, and the value (`None` deletes).
pub type Write = (TreeId, Vec<u8>, Option<Vec<u8>>);

/// A set of writes applied atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    ops: Vec<Write>,
}

impl WriteBatch {
    /// Sets `key` to `value` in `tree`.
    pub fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((tree, key, Some(value)));
    }
    /// Removes `key` from `tree`.
    pub fn delete(&mut self, tree: TreeId, key: Vec<u8>) {
        self.ops.push((tree, key, None));
    }
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// The number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// The writes, in order.
    pub fn ops(&self) -> &[Write] {
        &self.ops
    }
}

/// What can go wrong below the engine.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database.
    #[error("another orderdesk is using {path}{holder}")]
    Locked {
        /// The database path.
        path: PathBuf,
        /// Who holds it, when known (`" (pid 123, operator ada)"`).
        holder: String,
    },
    /// The database was written by a newer orderdesk.
    #[error("the database at {path} has schema version {found}; this orderdesk reads up to {supported}: upgrade orderdesk")]
    NewerSchema {
        /// The database path.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The database was written by an older orderdesk and must be migrated first.
    #[error("the database at {path} has schema version {found}; this orderdesk works on version {current}: run `orderdesk migrate --db {path}` to convert it (the old database is kept beside it until you remove it)")]
    OlderSchema {
        /// The database path.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The version this build works on.
        current: u32,
    },
    /// The database could not be opened or read.
    #[error("cannot open the database at {path}: {message}")]
    Unreadable {
        /// The database path.
        path: PathBuf,
        /// The underlying error.
        message: String,
    },
    /// A read or write failed after opening.
    #[error("database error: {0}")]
    Io(String),
    /// A stored value could not be decoded.
    #[error("corrupt record in {tree} at key {key}: {message}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// The key, printed.
        key: String,
        /// What was wrong.
        message: String,
    },
}

/// An ordered key-value store over named trees.
pub trait Store: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` entries with `from <= key < to` (`to = None`: no upper bound), ascending,
    /// or descending from the top of the range when `reverse`.
    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Entry>, StoreError>;
    /// Applies every write of `batch` atomically.
    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError>;
    /// Makes every committed write durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// The number of entries in `tree` (may walk the tree).
    fn count(&self, tree: TreeId) -> Result<usize, StoreError>;
}

/// Every entry whose key starts with `prefix`, ascending, up to `limit`.
pub fn scan_prefix(
    store: &dyn Store,
    tree: TreeId,
    prefix: &[u8],
    limit: usize,
) -> Result<Vec<Entry>, StoreError> {
    let end = prefix_end(prefix);
    store.range(tree, prefix, end.as_deref(), limit, false)
}

/// One page of up to `limit` entries with `from <= key < to`, ascending (or descending from the
/// top when `reverse`), resuming after `last`: the last key of the previous page, if any.
pub fn page_after(
    store: &dyn Store,
    tree: TreeId,
    (from, to): (&[u8], Option<&[u8]>),
    last: Option<&[u8]>,
    limit: usize,
    reverse: bool,
) -> Result<Vec<Entry>, StoreError> {
    match (last, reverse) {
        (Some(last), true) => store.range(tree, from, Some(last), limit, true),
        (Some(last), false) => {
            // The smallest key after `last`.
            let mut after = last.to_vec();
            after.push(0);
            store.range(tree, &after, to, limit, false)
        }
        (None, _) => store.range(tree, from, to, limit, reverse),
    }
}

/// Hands `each` the entries with `from <= key < to` a page of `limit` at a time, ascending (or
/// descending when `reverse`), until they run out or `each` breaks: the store's one paged walk,
/// so a large tree is never read whole in one call.
pub fn walk_pages<E: From<StoreError>>(
    store: &dyn Store,
    tree: TreeId,
    span: (&[u8], Option<&[u8]>),
    limit: usize,
    reverse: bool,
    mut each: impl FnMut(&[Entry]) -> Result<ControlFlow<()>, E>,
) -> Result<(), E> {
    let mut last: Option<Vec<u8>> = None;
    loop {
        let page = page_after(store, tree, span, last.as_deref(), limit, reverse)?;
        if page.is_empty() || each(&page)?.is_break() || page.len() < limit {
            return Ok(());
        }
        last = page.last().map(|(key, _)| key.clone());
    }
}

/// Calls `each` on every entry of `tree`, ascending, reading `limit` entries at a time.
pub fn for_each_entry<E: From<StoreError>>(
    store: &dyn Store,
    tree: TreeId,
    limit: usize,
    mut each: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    walk_pages(store, tree, (&[], None), limit, false, |page| {
        for (key, value) in page {
            each(key, value)?;
        }
        Ok(ControlFlow::Continue(()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store holding keys `a`…`e` in `tree`.
    fn five(tree: TreeId) -> MemStore {
        let store = MemStore::new();
        let mut batch = WriteBatch::default();
        for key in [b"a", b"b", b"c", b"d", b"e"] {
            batch.put(tree, key.to_vec(), Vec::new());
        }
        store.commit(&batch).expect("commit");
        store
    }

    /// The keys `walk_pages` hands over, one string per page.
    fn pages(store: &MemStore, span: (&[u8], Option<&[u8]>), reverse: bool) -> Vec<String> {
        let mut seen = Vec::new();
        walk_pages::<StoreError>(store, TreeId::Meta, span, 2, reverse, |page| {
            seen.push(page.iter().map(|(k, _)| k[0] as char).collect());
            Ok(ControlFlow::Continue(()))
        })
        .expect("walk");
        seen
    }

    #[test]
    fn a_walk_reads_every_entry_of_its_span_a_page_at_a_time() {
        let store = five(TreeId::Meta);
        assert_eq!(pages(&store, (&[], None), false), ["ab", "cd", "e"]);
        assert_eq!(pages(&store, (&[], None), true), ["ed", "cb", "a"]);
        assert_eq!(pages(&store, (b"b", Some(b"e")), false), ["bc", "d"]);
        assert_eq!(pages(&store, (b"b", Some(b"e")), true), ["dc", "b"]);
        assert_eq!(pages(&store, (b"x", None), false), Vec::<String>::new());
    }

    #[test]
    fn a_walk_stops_when_told() {
        let store = five(TreeId::Meta);
        let mut read = 0;
        walk_pages::<StoreError>(&store, TreeId::Meta, (&[], None), 2, false, |page| {
            read += page.len();
            Ok(ControlFlow::Break(()))
        })
        .expect("walk");
        assert_eq!(read, 2);
    }
}
