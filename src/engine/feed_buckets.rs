//! Imported feed items, kept in buckets of one customer and one calendar year (UTC).
//!
//! A utility's history is mostly feed: at three years it is most of the items the store holds.
//! One key per item (and an id entry and an index entry beside it) made the feed two thirds of
//! the store's keys, and sled's open time and resident memory follow the keys. A bucket holds a
//! customer's items of one year, ordered by (time, sequence): a customer's window is one short
//! range read, and the items cost a few keys per customer.
//!
//! Items are never changed once imported, so a bucket is only ever appended to: the unit of
//! work reads the bucket, merges its new items in and writes it back in the same batch.
//!
//! An item id is unique within its customer's feed (it names a record of the system the feed
//! comes from: a call, a bill) and is not one of the engine's activity, communication or work
//! order ids; it is checked against the customer's buckets, not a global id entry per item.

use super::codec::{decode, encode};
use super::EngineError;
use crate::domain::Instant;
use crate::feed::{self, FeedItem};
use crate::store::{for_each_entry, scan_prefix, Store, TreeId, WriteBatch};
use std::collections::{BTreeMap, BTreeSet};

/// How many buckets one consistency-check read takes.
const PAGE: usize = 256;

/// The customer's imported items from `from` through `to` (inclusive), in (time, sequence)
/// order: one range read over the years the window touches.
pub(crate) fn items_between(
    store: &dyn Store,
    customer: &str,
    from: Instant,
    to: Instant,
) -> Result<Vec<FeedItem>, EngineError> {
    let (first, last) = (feed::bucket_year(from), feed::bucket_year(to));
    let (start, end) = feed::bucket_range(customer, first, last);
    let mut items = Vec::new();
    for (key, value) in store.range(TreeId::FeedBuckets, &start, Some(&end), usize::MAX, false)? {
        let bucket: Vec<FeedItem> = decode(TreeId::FeedBuckets, &key, &value)?;
        items.extend(
            bucket
                .into_iter()
                .filter(|item| from <= item.at && item.at <= to),
        );
    }
    Ok(items)
}

/// The ids of every item in the customer's feed.
pub(crate) fn customer_ids(
    store: &dyn Store,
    customer: &str,
) -> Result<BTreeSet<String>, EngineError> {
    let mut ids = BTreeSet::new();
    let prefix = feed::bucket_prefix(customer);
    for (key, value) in scan_prefix(store, TreeId::FeedBuckets, &prefix, usize::MAX)? {
        let bucket: Vec<FeedItem> = decode(TreeId::FeedBuckets, &key, &value)?;
        ids.extend(bucket.into_iter().map(|item| item.id));
    }
    Ok(ids)
}

/// Stages `items` into their buckets: each bucket they fall in is read, merged and rewritten.
pub(crate) fn stage(
    store: &dyn Store,
    batch: &mut WriteBatch,
    items: &[FeedItem],
) -> Result<(), EngineError> {
    let mut grouped: BTreeMap<Vec<u8>, Vec<&FeedItem>> = BTreeMap::new();
    for item in items {
        grouped
            .entry(feed::bucket_key(&item.customer, feed::bucket_year(item.at)))
            .or_default()
            .push(item);
    }
    for (key, new) in grouped {
        let mut bucket: Vec<FeedItem> = match store.get(TreeId::FeedBuckets, &key)? {
            Some(bytes) => decode(TreeId::FeedBuckets, &key, &bytes)?,
            None => Vec::with_capacity(new.len()),
        };
        bucket.extend(new.into_iter().cloned());
        bucket.sort_by_key(|item| (item.at, item.seq));
        batch.put(TreeId::FeedBuckets, key, encode(&bucket)?);
    }
    Ok(())
}

/// What the consistency check finds wrong with the buckets: an item in another customer's or
/// another year's bucket, out of order, or with an id its customer's feed already has; an empty
/// bucket; a bucket of a customer who does not exist.
pub(crate) fn problems(store: &dyn Store) -> Result<Vec<String>, EngineError> {
    let mut problems = Vec::new();
    let mut customer = String::new();
    let mut ids = BTreeSet::new();
    for_each_entry::<EngineError>(store, TreeId::FeedBuckets, PAGE, |key, value| {
        let Some((owner, year)) = feed::bucket_of_key(key) else {
            problems.push(format!(
                "feed_buckets: key {} names no customer and year",
                String::from_utf8_lossy(key)
            ));
            return Ok(());
        };
        if owner != customer {
            customer = owner.to_string();
            ids.clear();
            if store.get(TreeId::Customers, owner.as_bytes())?.is_none() {
                problems.push(format!(
                    "feed_buckets: {owner} has feed items but no customer record"
                ));
            }
        }
        let bucket: Vec<FeedItem> = decode(TreeId::FeedBuckets, key, value)?;
        if bucket.is_empty() {
            problems.push(format!("feed_buckets: {owner}'s {year} bucket is empty"));
        }
        let mut last = None;
        for item in &bucket {
            let place = format!("feed item {} in {owner}'s {year} bucket", item.id);
            if item.customer != owner {
                problems.push(format!("{place} belongs to {}", item.customer));
            }
            if feed::bucket_year(item.at) != year {
                problems.push(format!("{place} is dated {}", item.at.to_rfc3339()));
            }
            if last.is_some_and(|l| l >= (item.at, item.seq)) {
                problems.push(format!("{place} is out of (time, sequence) order"));
            }
            last = Some((item.at, item.seq));
            if !ids.insert(item.id.clone()) {
                problems.push(format!("{place}: {owner}'s feed has the id twice"));
            }
        }
        Ok(())
    })?;
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::{Actor, Engine, FeedRequest};
    use crate::store::MemStore;

    fn at(text: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("test time")
            .with_timezone(&chrono::Utc)
    }

    fn import(engine: &mut Engine, lines: &[String]) -> Result<(), EngineError> {
        let records =
            crate::formats::parse_import(lines.join("\n").as_bytes()).expect("test records parse");
        engine
            .import(&Actor::system(), at("2025-06-10T09:00:00Z"), records)
            .map(|_| ())
    }

    fn item(id: Option<&str>, customer: &str, at: &str) -> String {
        let id = id.map(|id| format!(r#""id":"{id}","#)).unwrap_or_default();
        format!(
            r#"{{"kind":"feed_item",{id}"customer":"{customer}","category":"outage_call","at":"{at}","summary":"outage"}}"#
        )
    }

    /// Two customers, one request (SO-1) and nothing in the feed yet.
    fn engine() -> Engine {
        let mut engine = Engine::new(Box::new(MemStore::new()), Config::default());
        let lines = [
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1"]}"#,
            r#"{"kind":"customer","id":"C-10","name":"Grace Hopper","billing_accounts":["BA-10"]}"#,
            r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"12 Elm St","customer":"C-1","account":"BA-1"}"#,
            r#"{"kind":"request","id":"SO-1","type":"enable_service","sp":"SP-1","service_datetime":"2025-06-01T09:00:00Z","request_info":{"requester":"CCB","external_system":"CCB","external_id":"X-1"}}"#,
        ]
        .map(str::to_string);
        import(&mut engine, &lines).expect("reference data");
        engine
    }

    fn ids_in_feed(engine: &Engine, customer: &str) -> Vec<String> {
        engine
            .feed(
                &Actor::system(),
                at("2025-06-10T09:00:00Z"),
                customer,
                &FeedRequest::default(),
            )
            .expect("feed")
            .items
            .into_iter()
            .map(|row| row.id)
            .collect()
    }

    #[test]
    fn items_land_in_their_customer_s_yearly_buckets_in_time_order() {
        let mut engine = engine();
        import(
            &mut engine,
            &[
                item(Some("N-2"), "C-1", "2025-01-01T00:00:00Z"),
                item(Some("N-1"), "C-1", "2024-12-31T23:59:59Z"),
                item(Some("N-3"), "C-1", "2025-03-01T00:00:00Z"),
                item(Some("N-9"), "C-10", "2025-03-01T00:00:00Z"),
            ],
        )
        .expect("import");
        // A second import appends to the bucket already there.
        import(&mut engine, &[item(None, "C-1", "2025-02-01T00:00:00Z")]).expect("import");
        let store = engine.store.as_ref();
        let keys: Vec<Vec<u8>> = store
            .range(TreeId::FeedBuckets, &[], None, usize::MAX, false)
            .expect("range")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                feed::bucket_key("C-1", 2024),
                feed::bucket_key("C-1", 2025),
                feed::bucket_key("C-10", 2025)
            ]
        );
        let ids = |from: &str, to: &str| -> Vec<String> {
            items_between(store, "C-1", at(from), at(to))
                .expect("items")
                .into_iter()
                .map(|i| i.id)
                .collect()
        };
        assert_eq!(
            ids("2024-01-01T00:00:00Z", "2025-12-31T00:00:00Z"),
            ["N-1", "N-2", "F-1", "N-3"]
        );
        // The window's ends are inclusive, to the second.
        assert_eq!(
            ids("2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z"),
            ["N-1", "N-2"]
        );
        assert_eq!(ids_in_feed(&engine, "C-10"), ["N-9"]);
        assert!(engine.check_consistency().expect("check").is_empty());
    }

    #[test]
    fn an_id_is_unique_within_its_customer_s_feed_and_not_an_engine_id() {
        let mut engine = engine();
        import(
            &mut engine,
            &[item(Some("CALL-7"), "C-1", "2025-01-05T10:00:00Z")],
        )
        .expect("import");
        let refused = |engine: &mut Engine, lines: &[String]| {
            import(engine, lines).expect_err("refused").to_string()
        };
        let said = refused(
            &mut engine,
            &[
                item(Some("CALL-8"), "C-1", "2025-01-06T10:00:00Z"),
                item(Some("CALL-7"), "C-1", "2023-01-06T10:00:00Z"),
            ],
        );
        assert!(
            said.contains("line 2: field `id`: C-1's feed already has CALL-7"),
            "{said}"
        );
        // Twice in one file is the file's mistake, found before the database is read.
        let twice = [
            item(Some("CALL-9"), "C-1", "2025-01-06T10:00:00Z"),
            item(Some("CALL-9"), "C-10", "2025-01-07T10:00:00Z"),
            item(Some("CALL-9"), "C-1", "2025-01-07T10:00:00Z"),
        ];
        let parsed = crate::formats::parse_import(twice.join("\n").as_bytes());
        let said = format!("{:?}", parsed.expect_err("refused"));
        assert!(
            said.contains("line: 3") && said.contains("in C-1's feed (also on line 1)"),
            "{said}"
        );
        let said = refused(
            &mut engine,
            &[item(Some("SO-1"), "C-1", "2025-01-06T10:00:00Z")],
        );
        assert!(said.contains("SO-1 is already taken"), "{said}");
        // Nothing of a refused file is stored; another customer may use the same id.
        assert_eq!(ids_in_feed(&engine, "C-1"), ["SO-1", "CALL-7"]);
        import(
            &mut engine,
            &[item(Some("CALL-7"), "C-10", "2025-01-05T10:00:00Z")],
        )
        .expect("another customer's feed");
        assert!(engine.check_consistency().expect("check").is_empty());
    }

    #[test]
    fn generated_ids_skip_those_the_customer_s_feed_has() {
        let mut engine = engine();
        import(
            &mut engine,
            &[
                item(Some("F-1"), "C-1", "2025-01-05T10:00:00Z"),
                item(Some("F-2"), "C-1", "2024-01-05T10:00:00Z"),
            ],
        )
        .expect("import");
        import(
            &mut engine,
            &[
                item(None, "C-1", "2025-02-05T10:00:00Z"),
                item(None, "C-10", "2025-02-05T10:00:00Z"),
            ],
        )
        .expect("import");
        let mut ids = ids_in_feed(&engine, "C-1");
        ids.sort();
        assert_eq!(ids, ["F-1", "F-2", "F-3", "SO-1"]);
        assert_eq!(ids_in_feed(&engine, "C-10"), ["F-4"]);
    }

    #[test]
    fn the_check_finds_an_item_out_of_place() {
        let mut engine = engine();
        import(
            &mut engine,
            &[
                item(Some("A"), "C-1", "2025-01-05T10:00:00Z"),
                item(Some("B"), "C-1", "2025-02-05T10:00:00Z"),
            ],
        )
        .expect("import");
        let key = feed::bucket_key("C-1", 2025);
        let store = engine.store.as_ref();
        let mut bucket: Vec<FeedItem> = decode(
            TreeId::FeedBuckets,
            &key,
            &store
                .get(TreeId::FeedBuckets, &key)
                .expect("get")
                .expect("bucket"),
        )
        .expect("decode");
        bucket.swap(0, 1);
        bucket[0].customer = "C-10".into();
        bucket[1].id = "B".into();
        let mut batch = WriteBatch::default();
        batch.put(TreeId::FeedBuckets, key, encode(&bucket).expect("encode"));
        batch.put(
            TreeId::FeedBuckets,
            feed::bucket_key("C-404", 2025),
            encode(&Vec::<FeedItem>::new()).expect("encode"),
        );
        store.commit(&batch).expect("commit");
        let problems = engine.check_consistency().expect("check").join("\n");
        for expected in [
            "feed item B in C-1's 2025 bucket belongs to C-10",
            "feed item B in C-1's 2025 bucket is out of (time, sequence) order",
            "feed item B in C-1's 2025 bucket: C-1's feed has the id twice",
            "C-404 has feed items but no customer record",
            "C-404's 2025 bucket is empty",
        ] {
            assert!(problems.contains(expected), "{expected}:\n{problems}");
        }
    }
}
