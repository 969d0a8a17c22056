//! The background runtime's bulk work: a monitor pass over N due activities and the throttle
//! batch releasing N waiting commands, each beside its raw baseline in the same run.
//!
//! The world: N customers, each with one active smart service point and one Cut for Non-Payment
//! request, imported PENDING (`ORDERDESK_BENCH_DUE`, default 2,000 for a smoke run; the target
//! is 100,000). One monitor pass takes each request PENDING → VALIDATE → ARE_SP_READY →
//! IN_PROGRESS and files its throttled Remote Disconnect, which goes PENDING → VALIDATE →
//! WAIT_EFF: five transitions per request. Every sample starts from a copy of that prepared
//! database, so each pass does the same work on the same data, and ends durable (flushed).
//!
//! Baselines: `raw_sled_apply_batch_same_bytes` replays the exact write batches one pass made
//! (captured once, untimed) into a copy of the same database with plain `apply_batch` per tree and
//! one flush; `throughput` is in bytes there and in transitions for the pass, and BENCHMARKS.md
//! reports their ratio.

use orderdesk::config::Config;
use orderdesk::domain::Instant;
use orderdesk::engine::{Actor, Engine};
use orderdesk::store::{SledStore, Store, StoreError, TreeId, WriteBatch};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

fn main() {
    divan::main();
}

/// The engine time of every pass: a Tuesday at 09:00 in Chicago, inside the throttle schedule.
const NOW: &str = "2025-06-10T09:00:00-05:00";

/// A throttle schedule that lets one batch run release every waiting command it is asked to.
const CONFIG: &str = r#"
timezone = "America/Chicago"
[commands.remote_disconnect]
throttle = "allowed"
schedule = [ { from = "08:00", to = "17:00", requests = 1000000 } ]
"#;

/// The prepared databases, built once per run.
struct Prepared {
    /// N PENDING requests, nothing run yet.
    pending: PathBuf,
    /// The same after one monitor pass: N Remote Disconnects waiting in WAIT_EFF.
    waiting: PathBuf,
    /// Transitions one pass over `pending` makes.
    transitions: usize,
    /// The batches that pass committed, in order.
    batches: Vec<WriteBatch>,
    /// Their bytes (keys and values).
    bytes: usize,
    /// The batches one throttle batch run over `waiting` commits.
    release_batches: Vec<WriteBatch>,
    /// Their bytes.
    release_bytes: usize,
    config: Config,
    now: Instant,
    _dir: tempfile::TempDir,
}

fn due() -> usize {
    std::env::var("ORDERDESK_BENCH_DUE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

fn prepared() -> &'static Prepared {
    static PREPARED: OnceLock<Prepared> = OnceLock::new();
    PREPARED.get_or_init(|| {
        let n = due();
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, CONFIG).expect("config");
        let config = orderdesk::config::load(&config_path).expect("bench config");
        let now: Instant = NOW.parse().expect("time");
        let pending = dir.path().join("pending");
        let started = std::time::Instant::now();
        {
            let store = SledStore::open(&pending, "bench").expect("sled");
            let mut engine = Engine::new(Box::new(store), config.clone());
            import_requests(&mut engine, now, n);
            engine.flush().expect("flush");
        }
        let waiting = dir.path().join("waiting");
        copy_dir(&pending, &waiting);
        let recorder = Recorder {
            inner: SledStore::open(&waiting, "bench").expect("sled"),
            batches: Mutex::new(Vec::new()),
        };
        let recorded = std::sync::Arc::new(recorder);
        let mut engine = Engine::new(Box::new(Shared(recorded.clone())), config.clone());
        let report = engine.tick(&Actor::system(), now).expect("tick");
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        drop(engine);
        let recorded = std::sync::Arc::try_unwrap(recorded)
            .ok()
            .expect("engine dropped");
        let batches = recorded.batches.into_inner().expect("batches");
        eprintln!("monitor pass writes: {}", tree_bytes(&batches));
        let release_batches = release_writes(&waiting, &config, now, n.min(RELEASE));
        eprintln!("batch release writes: {}", tree_bytes(&release_batches));
        let release_bytes = release_batches.iter().map(batch_bytes).sum();
        let bytes = batches.iter().map(batch_bytes).sum();
        eprintln!(
            "world: {n} due requests, {} transitions, {} batches, {bytes} bytes written, prepared in {:.1} s",
            report.transitions.len(),
            batches.len(),
            started.elapsed().as_secs_f64()
        );
        Prepared {
            pending,
            waiting,
            transitions: report.transitions.len(),
            batches,
            bytes,
            release_batches,
            release_bytes,
            config,
            now,
            _dir: dir,
        }
    })
}

/// Imports `n` customers, smart service points and Cut for Non-Payment requests, in slices.
fn import_requests(engine: &mut Engine, now: Instant, n: usize) {
    const SLICE: usize = 5_000;
    let mut start = 1;
    while start <= n {
        let end = (start + SLICE - 1).min(n);
        let mut text = String::new();
        for i in start..=end {
            text.push_str(&format!(
                concat!(
                    r#"{{"kind":"customer","id":"C-{i}","name":"Customer {i}","life_support":false,"billing_accounts":["BA-{i}"]}}"#,
                    "\n",
                    r#"{{"kind":"service_point","id":"SP-{i}","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"{i} Elm St","customer":"C-{i}","account":"BA-{i}","site_status":"energised","device":{{"id":"D-{i}","badge":"B-{i}","smart":true,"commissioned":true,"switch":"on"}}}}"#,
                    "\n",
                    r#"{{"kind":"request","id":"SO-{i}","type":"cut_for_non_payment","sp":"SP-{i}","service_datetime":"{now}","effective_datetime":null,"service_agreements":["SA-{i}"],"request_info":{{"requester":"CCB","external_system":"CCB","external_id":"X-{i}"}},"collection_data":{{"past_due_amount":"120.50","currency":"USD"}}}}"#,
                    "\n"
                ),
                i = i,
                now = NOW
            ));
        }
        let records = orderdesk::formats::parse_import(text.as_bytes()).expect("records");
        engine
            .import(&Actor::system(), now, records)
            .expect("import");
        start = end + 1;
    }
}

fn batch_bytes(batch: &WriteBatch) -> usize {
    batch
        .ops()
        .iter()
        .map(|(_, k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
        .sum()
}

/// A copy of a closed sled database directory.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A fresh copy of `from` in its own temporary directory, for one sample.
fn fresh_copy(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db");
    copy_dir(from, &path);
    (dir, path)
}

/// A sled store that keeps a copy of every batch committed through it.
struct Recorder {
    inner: SledStore,
    batches: Mutex<Vec<WriteBatch>>,
}

/// The recorder behind an `Arc`, so the bench can take the batches back from the engine.
struct Shared(std::sync::Arc<Recorder>);

impl Store for Shared {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.inner.get(tree, key)
    }
    fn range(
        &self,
        tree: TreeId,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.0.inner.range(tree, from, to, limit, reverse)
    }
    fn commit(&self, batch: &WriteBatch) -> Result<(), StoreError> {
        self.0.batches.lock().expect("batches").push(batch.clone());
        self.0.inner.commit(batch)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.0.inner.flush()
    }
    fn count(&self, tree: TreeId) -> Result<usize, StoreError> {
        self.0.inner.count(tree)
    }
}

/// One monitor pass over N due requests on a fresh copy, durable at its end.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn monitor_pass(bencher: divan::Bencher) {
    let p = prepared();
    bencher
        .counter(divan::counter::ItemsCount::new(p.transitions))
        .with_inputs(|| {
            let (dir, path) = fresh_copy(&p.pending);
            let store = SledStore::open(&path, "bench").expect("sled");
            (dir, Engine::new(Box::new(store), p.config.clone()))
        })
        .bench_local_values(|(dir, mut engine)| {
            let report = engine.tick(&Actor::system(), p.now).expect("tick");
            assert_eq!(report.transitions.len(), p.transitions);
            (dir, engine)
        });
}

/// The baseline: the same batches as one monitor pass, applied to a copy of the same database
/// with plain sled `apply_batch` (one batch per tree, no cross-tree transaction), one flush.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn raw_sled_apply_batch_same_bytes(bencher: divan::Bencher) {
    let p = prepared();
    raw_replay(bencher, &p.pending, &p.batches, p.bytes);
}

/// The throttle batch's baseline: the batches one release commits, replayed the same way into
/// a copy of the database it ran on.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn raw_sled_apply_batch_release_bytes(bencher: divan::Bencher) {
    let p = prepared();
    raw_replay(bencher, &p.waiting, &p.release_batches, p.release_bytes);
}

/// Replays `batches` into a fresh copy of `db` with plain `apply_batch` per tree and one flush.
fn raw_replay(bencher: divan::Bencher, db: &Path, batches: &[WriteBatch], bytes: usize) {
    bencher
        .counter(divan::counter::BytesCount::new(bytes))
        .with_inputs(|| {
            let (dir, path) = fresh_copy(db);
            let db = sled::Config::new()
                .path(&path)
                .cache_capacity(64 * 1024 * 1024)
                .open()
                .expect("sled");
            let trees: Vec<sled::Tree> = TreeId::ALL
                .iter()
                .map(|t| db.open_tree(t.name()).expect("tree"))
                .collect();
            (dir, db, trees)
        })
        .bench_local_values(|(dir, db, trees)| {
            for batch in batches {
                let mut per_tree: Vec<Option<sled::Batch>> = vec![None; TreeId::ALL.len()];
                for (tree, key, value) in batch.ops() {
                    let at = TreeId::ALL.iter().position(|t| t == tree).expect("tree");
                    let b = per_tree[at].get_or_insert_with(sled::Batch::default);
                    match value {
                        Some(v) => b.insert(key.as_slice(), v.as_slice()),
                        None => b.remove(key.as_slice()),
                    }
                }
                for (at, b) in per_tree.into_iter().enumerate() {
                    if let Some(b) = b {
                        trees[at].apply_batch(b).expect("apply");
                    }
                }
            }
            db.flush().expect("flush");
            (dir, db, trees)
        });
}

/// The throttle batch (D1-CRWTO) releasing `min(N, 10,000)` of the N waiting Remote
/// Disconnects: selection from the waiting index, release, run record, durable on return.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn throttle_batch_release(bencher: divan::Bencher) {
    let p = prepared();
    let release = released(p);
    bencher
        .counter(divan::counter::ItemsCount::new(release))
        .with_inputs(|| {
            let (dir, path) = fresh_copy(&p.waiting);
            let mut config = p.config.clone();
            config.commands.remote_disconnect.schedule = limit_schedule(release);
            let store = SledStore::open(&path, "bench").expect("sled");
            (dir, Engine::new(Box::new(store), config))
        })
        .bench_local_values(|(dir, mut engine)| {
            let report = engine.crwto_scheduled(p.now).expect("crwto");
            assert_eq!(report.released.len(), release);
            (dir, engine)
        });
}

/// The bench schedule with its one row limited to `requests`.
fn limit_schedule(requests: usize) -> orderdesk::throttle::Schedule {
    let text = format!(
        "timezone = \"America/Chicago\"\n[commands.remote_disconnect]\nthrottle = \"allowed\"\n\
         schedule = [ {{ from = \"08:00\", to = \"17:00\", requests = {requests} }} ]\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("config");
    orderdesk::config::load(&path)
        .expect("config")
        .commands
        .remote_disconnect
        .schedule
}

/// How many commands the throttle bench releases: 10,000, or all of a smaller world's.
const RELEASE: usize = 10_000;

fn released(p: &Prepared) -> usize {
    (p.transitions / TRANSITIONS_PER_REQUEST).min(RELEASE)
}

/// One request's transitions in the pass (three of the order, two of its command).
const TRANSITIONS_PER_REQUEST: usize = 5;

/// The batches one release of `count` commands commits, on a copy of `waiting`.
fn release_writes(waiting: &Path, config: &Config, now: Instant, count: usize) -> Vec<WriteBatch> {
    let (_dir, path) = fresh_copy(waiting);
    let recorder = std::sync::Arc::new(Recorder {
        inner: SledStore::open(&path, "bench").expect("sled"),
        batches: Mutex::new(Vec::new()),
    });
    let mut config = config.clone();
    config.commands.remote_disconnect.schedule = limit_schedule(count);
    let mut engine = Engine::new(Box::new(Shared(recorder.clone())), config);
    engine.crwto_scheduled(now).expect("crwto");
    drop(engine);
    let batches = recorder.batches.lock().expect("batches").clone();
    batches
}

/// Writes and bytes per tree: what a pass costs the store, and where.
fn tree_bytes(batches: &[WriteBatch]) -> String {
    let mut per: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (tree, key, value) in batches.iter().flat_map(|b| b.ops()) {
        let entry = per.entry(tree.name()).or_default();
        entry.0 += 1;
        entry.1 += key.len() + value.as_ref().map_or(0, Vec::len);
    }
    per.iter()
        .map(|(tree, (writes, bytes))| format!("{tree} {writes} writes {bytes} B"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A utility's history to import: N customers, each with a service point and its meter, one
/// request, one work order and three years of feed (a bill and a payment a month, a call a
/// quarter), as records ready for `Engine::import`, in the slices the import takes.
struct History {
    /// The slices, each one import call.
    slices: Vec<Vec<(usize, orderdesk::formats::ImportRecord)>>,
    /// Records over all slices.
    records: usize,
    /// The batches one import of every slice committed into an empty database.
    batches: Vec<WriteBatch>,
    /// Their bytes.
    bytes: usize,
}

/// Customers of the import bench (`ORDERDESK_BENCH_IMPORT`, default 500: about 45,000 records).
fn import_customers() -> usize {
    std::env::var("ORDERDESK_BENCH_IMPORT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
}

/// Records per import call, as the demo imports.
const IMPORT_SLICE: usize = 10_000;

fn history() -> &'static History {
    static HISTORY: OnceLock<History> = OnceLock::new();
    HISTORY.get_or_init(|| {
        let n = import_customers();
        let now: Instant = NOW.parse().expect("time");
        let mut lines = Vec::new();
        for i in 1..=n {
            lines.push(format!(
                r#"{{"kind":"customer","id":"C-{i}","name":"Customer {i}","life_support":false,"billing_accounts":["BA-{i}"],"phone":"555-{i:04}","email":"c{i}@example.org"}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"service_point","id":"SP-{i}","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"{i} Elm St","customer":"C-{i}","account":"BA-{i}","site_status":"energised","device":{{"id":"D-{i}","badge":"B-{i}","smart":true,"commissioned":true,"switch":"on"}}}}"#
            ));
        }
        for i in 1..=n {
            lines.push(format!(
                r#"{{"kind":"request","type":"enable_service","sp":"SP-{i}","service_datetime":"2025-07-01T09:00:00-05:00","service_agreements":["SA-{i}"],"request_info":{{"requester":"CCB","external_system":"CCB","external_id":"X-{i}"}}}}"#
            ));
            lines.push(format!(
                r#"{{"kind":"work_order","wo_kind":"special_read","customer":"C-{i}","account":"BA-{i}","site":"SP-{i}","origin":"manual","status":"NEW","preferred_date":"2025-06-20"}}"#
            ));
            for month in 0..36u32 {
                let (year, m) = (2022 + (5 + month) / 12, (5 + month) % 12 + 1);
                lines.push(format!(
                    r#"{{"kind":"feed_item","customer":"C-{i}","account":"BA-{i}","category":"financial_information","subtype":"bill","at":"{year}-{m:02}-03T08:00:00Z","summary":"Bill {year}-{m:02}: 84.20 USD","details":{{"amount":"84.20","currency":"USD","due":"{year}-{m:02}-24"}}}}"#
                ));
                lines.push(format!(
                    r#"{{"kind":"feed_item","customer":"C-{i}","account":"BA-{i}","category":"financial_information","subtype":"payment","at":"{year}-{m:02}-20T15:30:00Z","summary":"Payment 84.20 USD","details":{{"amount":"84.20","method":"direct debit"}}}}"#
                ));
                if month % 3 == 0 {
                    lines.push(format!(
                        r#"{{"kind":"feed_item","customer":"C-{i}","account":"BA-{i}","category":"conversation_message","subtype":"call","at":"{year}-{m:02}-11T14:30:00Z","summary":"Inbound call: billing question","details":{{"agent":"J. Ortiz","direction":"inbound","resolution":"explained bill"}}}}"#
                    ));
                }
            }
        }
        let records = lines.len();
        let slices: Vec<Vec<(usize, orderdesk::formats::ImportRecord)>> = lines
            .chunks(IMPORT_SLICE)
            .map(|chunk| orderdesk::formats::parse_import(chunk.join("\n").as_bytes()).expect("records"))
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = std::sync::Arc::new(Recorder {
            inner: SledStore::open(&dir.path().join("db"), "bench").expect("sled"),
            batches: Mutex::new(Vec::new()),
        });
        let mut engine = Engine::new(Box::new(Shared(recorder.clone())), Config::default());
        for slice in &slices {
            engine
                .import(&Actor::system(), now, slice.clone())
                .expect("import");
        }
        engine.flush().expect("flush");
        drop(engine);
        let batches = recorder.batches.lock().expect("batches").clone();
        eprintln!("import writes: {}", tree_bytes(&batches));
        let bytes = batches.iter().map(batch_bytes).sum();
        eprintln!("history: {n} customers, {records} records, {bytes} bytes written");
        History {
            slices,
            records,
            batches,
            bytes,
        }
    })
}

/// Importing the history into an empty database, slice by slice as the demo does (each slice
/// checked whole, then one unit of work), durable at the end.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn import_history(bencher: divan::Bencher) {
    let h = history();
    let now: Instant = NOW.parse().expect("time");
    bencher
        .counter(divan::counter::BytesCount::new(h.bytes))
        .with_inputs(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = SledStore::open(&dir.path().join("db"), "bench").expect("sled");
            (
                dir,
                Engine::new(Box::new(store), Config::default()),
                h.slices.clone(),
            )
        })
        .bench_local_values(|(dir, mut engine, slices)| {
            let mut created = 0;
            for slice in slices {
                created += engine
                    .import(&Actor::system(), now, slice)
                    .expect("import")
                    .len();
            }
            engine.flush().expect("flush");
            assert_eq!(created, h.records);
            (dir, engine)
        });
}

/// The import's baseline: the batches it committed, replayed into an empty database with plain
/// `apply_batch` per tree and one flush.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn raw_sled_apply_batch_import_bytes(bencher: divan::Bencher) {
    let h = history();
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().join("db");
    drop(SledStore::open(&path, "bench").expect("sled"));
    raw_replay(bencher, &path, &h.batches, h.bytes);
}
