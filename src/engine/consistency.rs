//! A read-only consistency check: every index tree compared with the entries recomputed from
//! the records, by the same functions the unit of work uses on commit.
//!
//! Indexes agree with records by construction (each commit diffs recomputed entries), so any
//! difference found here means a write bypassed the unit of work or a step was not atomic.
//! The check walks every record and index tree once, in pages, and holds the expected entries
//! in memory: it is a tool for tests and `orderdesk check`, not for the desk's hot paths.
//! It sits on top: it uses the unit of work's keys and the tallies, and nothing uses it.

use super::codec::decode;
use super::keys::{activity_index, comm_index, work_order_index, Tag};
use super::tally::Tallies;
use super::{Engine, EngineError};
use crate::domain::{Activity, Communication};
use crate::store::{for_each_entry, seq_key, TreeId};
use crate::workorders::WorkOrder;
use std::collections::BTreeMap;

/// The trees that are derived from records and must agree with them.
const INDEX_TREES: &[TreeId] = &[
    TreeId::Ids,
    TreeId::ByState,
    TreeId::ByError,
    TreeId::Children,
    TreeId::BySp,
    TreeId::CmdByDevice,
    TreeId::WaitingCmds,
    TreeId::Due,
    TreeId::Outbox,
    TreeId::ByExternalId,
    TreeId::Queue,
    TreeId::WoBySite,
    TreeId::Feed,
    TreeId::Undelivered,
];

/// How many entries one read takes, so a large tree is never read whole in one range call.
const PAGE: usize = 1024;

/// At most this many problems are listed; the last line says how many more there were.
const MAX_PROBLEMS: usize = 1000;

type Expected = BTreeMap<(TreeId, Vec<u8>), Vec<u8>>;

impl Engine {
    /// Compares each index tree with the entries recomputed from the records; an empty list
    /// means they agree. Reads only.
    pub fn check_consistency(&self) -> Result<Vec<String>, EngineError> {
        let store = self.store.as_ref();
        let mut expected = Expected::new();
        let mut problems = Vec::new();
        let mut tallies = Tallies::default();
        for_each_entry::<EngineError>(store, TreeId::Activities, PAGE, |key, value| {
            let a: Activity = decode(TreeId::Activities, key, value)?;
            tallies.add_activity(&a, 1);
            check_key(&mut problems, "activity", &a.id, a.seq, key);
            expect_id(&mut expected, &a.id, Tag::Activity, a.seq);
            expect(&mut expected, activity_index(&a));
            Ok(())
        })?;
        for_each_entry::<EngineError>(store, TreeId::Comms, PAGE, |key, value| {
            let c: Communication = decode(TreeId::Comms, key, value)?;
            tallies.add_comm(&c, 1);
            check_key(&mut problems, "communication", &c.id, c.seq, key);
            expect_id(&mut expected, &c.id, Tag::Comm, c.seq);
            expect(&mut expected, comm_index(&c));
            Ok(())
        })?;
        for_each_entry::<EngineError>(store, TreeId::WorkOrders, PAGE, |key, value| {
            let wo: WorkOrder = decode(TreeId::WorkOrders, key, value)?;
            tallies.add_work_order(&wo, 1);
            check_key(&mut problems, "work order", &wo.id, wo.seq, key);
            expect_id(&mut expected, &wo.id, Tag::WorkOrder, wo.seq);
            expect(&mut expected, work_order_index(&wo));
            Ok(())
        })?;
        problems.extend(super::feed_buckets::problems(store)?);
        if store.count(TreeId::FeedItems)? > 0 {
            problems.push(
                "feed_items: holds schema 1's items, which this schema keeps in feed_buckets"
                    .into(),
            );
        }
        for &tree in INDEX_TREES {
            for_each_entry::<EngineError>(store, tree, PAGE, |key, value| {
                match expected.remove(&(tree, key.to_vec())) {
                    None => problems.push(format!(
                        "{}: entry {} has no record that makes it",
                        tree.name(),
                        printable(key)
                    )),
                    Some(want) if want != value => problems.push(format!(
                        "{}: entry {} holds {} but its record makes {}",
                        tree.name(),
                        printable(key),
                        printable(value),
                        printable(&want)
                    )),
                    Some(_) => {}
                }
                Ok(())
            })?;
        }
        for (tree, key) in expected.keys() {
            problems.push(format!(
                "{}: entry {} is missing",
                tree.name(),
                printable(key)
            ));
        }
        tallies.prune();
        // No stored counts is an older database: they are recounted when read, not wrong.
        if let Some(stored) = Tallies::load(store)? {
            compare_tallies(&mut problems, &stored, &tallies);
        }
        if problems.len() > MAX_PROBLEMS {
            let more = problems.len() - MAX_PROBLEMS;
            problems.truncate(MAX_PROBLEMS);
            problems.push(format!("… and {more} more"));
        }
        Ok(problems)
    }
}

/// Lists every live count that differs from the count recomputed from the records.
fn compare_tallies(problems: &mut Vec<String>, stored: &Tallies, want: &Tallies) {
    let flat = |t: &Tallies| {
        let mut all: BTreeMap<String, i64> = BTreeMap::new();
        for (state, kinds) in &t.states {
            for (kind, n) in kinds {
                all.insert(format!("state {state} type {kind}"), *n);
            }
        }
        for (code, n) in &t.errors {
            all.insert(format!("error {code}"), *n);
        }
        for (status, n) in &t.queue {
            all.insert(format!("open work orders {status}"), *n);
        }
        for (target, n) in &t.undelivered {
            all.insert(format!("undelivered messages to {target}"), *n);
        }
        all
    };
    let (have, want) = (flat(stored), flat(want));
    for key in have
        .keys()
        .chain(want.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (h, w) = (
            have.get(key).copied().unwrap_or(0),
            want.get(key).copied().unwrap_or(0),
        );
        if h != w {
            problems.push(format!(
                "meta: count of {key} is {h} but the records make {w}"
            ));
        }
    }
}

/// A record must be stored under the key of its own sequence number.
fn check_key(problems: &mut Vec<String>, what: &str, id: &str, seq: u64, key: &[u8]) {
    if key != seq_key(seq) {
        problems.push(format!(
            "{what} {id} (#{seq}) is stored under key {}",
            printable(key)
        ));
    }
}

fn expect_id(expected: &mut Expected, id: &str, tag: Tag, seq: u64) {
    let mut value = vec![tag as u8];
    value.extend_from_slice(&seq_key(seq));
    expected.insert((TreeId::Ids, id.as_bytes().to_vec()), value);
}

fn expect(expected: &mut Expected, entries: Vec<(TreeId, Vec<u8>, Vec<u8>)>) {
    for (tree, key, value) in entries {
        expected.insert((tree, key), value);
    }
}

/// A key or value as text where it is text, hex bytes elsewhere.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::{Entry, MemStore, WriteBatch};

    fn engine_with_one_request() -> Engine {
        let mut engine = Engine::new(Box::new(MemStore::new()), Config::default());
        let lines = concat!(
            r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"1 Main St","device":null}"#,
            "\n",
            r#"{"kind":"request","id":"SO-9","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z","service_agreements":["SA-1"],"request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}"#,
        );
        let records = crate::formats::parse_import(lines.as_bytes()).unwrap();
        let now = "2025-06-10T09:00:00Z".parse().unwrap();
        engine
            .import(&super::super::Actor::system(), now, records)
            .unwrap();
        engine
    }

    #[test]
    fn a_fresh_database_is_consistent() {
        let engine = engine_with_one_request();
        assert_eq!(engine.check_consistency().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_live_count_is_reported() {
        let engine = engine_with_one_request();
        let mut counts = Tallies::load(engine.store())
            .unwrap()
            .expect("counts are kept");
        assert_eq!(
            counts.states.values().flat_map(|k| k.values()).sum::<i64>(),
            1
        );
        counts.queue.insert("NEW".into(), 3);
        let mut batch = WriteBatch::default();
        batch.put(
            TreeId::Meta,
            super::super::tally::TALLIES_KEY.to_vec(),
            super::super::codec::encode(&counts).unwrap(),
        );
        engine.store().commit(&batch).unwrap();
        let problems = engine.check_consistency().unwrap();
        assert_eq!(
            problems,
            ["meta: count of open work orders NEW is 3 but the records make 0"]
        );
    }

    #[test]
    fn a_stray_or_missing_index_entry_is_reported() {
        let engine = engine_with_one_request();
        let mut batch = WriteBatch::default();
        batch.put(
            TreeId::ByState,
            b"NOWHERE\0\0\0\0\0\0\0\0\x63".to_vec(),
            vec![],
        );
        let due: Vec<Entry> = engine
            .store()
            .range(TreeId::Due, &[], None, 1, false)
            .unwrap();
        batch.delete(TreeId::Due, due[0].0.clone());
        engine.store().commit(&batch).unwrap();
        let problems = engine.check_consistency().unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("idx_state: entry NOWHERE"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("idx_due: entry"), "{problems:?}");
        assert!(problems[1].ends_with("is missing"), "{problems:?}");
    }
}
