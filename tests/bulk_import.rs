//! `orderdesk import --bulk`: a utility's history stored in durable slices. The whole file is
//! checked before anything is stored; a kill -9 at any moment leaves whole slices only, and
//! running the same command again stores the rest, each record once.

mod common;

use orderdesk::config::Config;
use orderdesk::engine::Engine;
use orderdesk::feed::FeedItem;
use orderdesk::store::{SledStore, Store, TreeId};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const NOW: &str = "2025-06-10T09:00:00-05:00";
const CUSTOMERS: usize = 1_500;
const ITEMS_PER_CUSTOMER: usize = 30;
const SLICE: usize = 10_000;

/// Customers and their service points, then three years of bills per customer: 48,000 records.
fn history(dir: &Path) -> (PathBuf, usize) {
    let mut lines = Vec::new();
    for i in 1..=CUSTOMERS {
        lines.push(format!(
            r#"{{"kind":"customer","id":"C-{i}","name":"Customer {i}","billing_accounts":["BA-{i}"]}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"service_point","id":"SP-{i}","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"{i} Elm St","customer":"C-{i}","account":"BA-{i}"}}"#
        ));
    }
    for i in 1..=CUSTOMERS {
        for month in 0..ITEMS_PER_CUSTOMER {
            let (year, m) = (2022 + (month + 6) / 12, (month + 6) % 12 + 1);
            lines.push(format!(
                r#"{{"kind":"feed_item","customer":"C-{i}","account":"BA-{i}","category":"financial_information","subtype":"bill","at":"{year}-{m:02}-03T08:00:00Z","summary":"Bill {year}-{m:02}","details":{{"amount":"84.20"}}}}"#
            ));
        }
    }
    let path = dir.join("history.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the history");
    (path, lines.len())
}

fn orderdesk(db: &Path, args: &[&str]) -> Command {
    common::cli::orderdesk(db, NOW, args)
}

fn run(db: &Path, args: &[&str]) -> Output {
    common::cli::run(db, NOW, args)
}

/// What the database holds: customers, service points and feed items, and whether every index
/// agrees with the records.
fn stored(db: &Path) -> (usize, usize, usize) {
    let store = SledStore::open(db, "test").expect("open");
    let mut items = 0;
    for (key, value) in store
        .range(TreeId::FeedBuckets, &[], None, usize::MAX, false)
        .expect("buckets")
    {
        let bucket: Vec<FeedItem> =
            orderdesk::engine::codec::decode(TreeId::FeedBuckets, &key, &value).expect("bucket");
        items += bucket.len();
    }
    let customers = store.count(TreeId::Customers).expect("count");
    let sps = store.count(TreeId::ServicePoints).expect("count");
    let engine = Engine::new(Box::new(store), Config::default());
    let problems = engine.check_consistency().expect("check");
    assert!(problems.is_empty(), "{problems:?}");
    (customers, sps, items)
}

#[test]
fn a_bulk_import_stores_slices_and_a_second_run_stores_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, records) = history(dir.path());
    let db = dir.path().join("db");
    let file = file.to_str().expect("path");
    let out = run(&db, &["import", "--bulk", file, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["records"], records);
    assert_eq!(report["stored"], records);
    assert_eq!(report["slices"], records.div_ceil(SLICE));
    assert_eq!(
        stored(&db),
        (CUSTOMERS, CUSTOMERS, CUSTOMERS * ITEMS_PER_CUSTOMER)
    );
    let again = run(&db, &["import", "--bulk", file]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains(&format!(
            "all {records} records of this file are already stored"
        )),
        "{said}"
    );
    assert_eq!(stored(&db).2, CUSTOMERS * ITEMS_PER_CUSTOMER);
}

#[test]
fn a_bad_line_anywhere_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, records) = history(dir.path());
    let mut text = std::fs::read_to_string(&file).expect("read");
    text.push_str(r#"{"kind":"feed_item","customer":"C-99999","category":"outage_call","at":"2025-01-01T00:00:00Z","summary":"x"}"#);
    std::fs::write(&file, text).expect("write");
    let db = dir.path().join("db");
    let out = run(&db, &["import", "--bulk", file.to_str().expect("path")]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{said}{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        said.contains(&format!(
            "line {}: field `customer`: unknown customer C-99999",
            records + 1
        )),
        "{said}"
    );
    assert_eq!(stored(&db), (0, 0, 0));
}

#[test]
fn a_kill_at_any_moment_of_a_bulk_import_leaves_whole_slices_and_the_rerun_finishes() {
    let mut moments = common::cli::Moments::new(0x9e37_79b9_7f4a_7c15);
    let dir = tempfile::tempdir().expect("tempdir");
    let (file, records) = history(dir.path());
    let file = file.to_str().expect("path");
    let span = {
        let db = dir.path().join("timed");
        let started = std::time::Instant::now();
        assert!(run(&db, &["import", "--bulk", file]).status.success());
        started.elapsed().as_millis() as u64
    };
    let (mut none, mut some, mut all) = (0, 0, 0);
    for trial in 0..12 {
        let db = dir.path().join(format!("db-{trial}"));
        let mut child = orderdesk(&db, &["import", "--bulk", file])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(moments.below(span + span / 5)));
        let _ = child.kill();
        child.wait().expect("wait");
        if !db.join("conf").exists() {
            // Killed before sled created the database: nothing to look at.
            none += 1;
        } else {
            // Whole slices only: the records stored are a multiple of the slice, or all.
            let (customers, sps, items) = stored(&db);
            let count = customers + sps + items;
            assert!(
                count % SLICE == 0 || count == records,
                "trial {trial}: {count} records stored"
            );
            match count {
                0 => none += 1,
                n if n == records => all += 1,
                _ => some += 1,
            }
        }
        // The same command again stores the rest, each record once.
        let out = run(&db, &["import", "--bulk", file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stored(&db),
            (CUSTOMERS, CUSTOMERS, CUSTOMERS * ITEMS_PER_CUSTOMER),
            "trial {trial}"
        );
    }
    assert!(
        some > 0,
        "some kills landed between slices ({none} none, {all} all)"
    );
}
