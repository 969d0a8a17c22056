//! The customer activity feed in the engine (§7, §12.10): imported items, kept in a customer's
//! yearly buckets (`feed_buckets`), and the service orders the engine runs, under an ordered
//! (customer, time, sequence) index; a window is one range read of each. A reader: it derives
//! rows from the records and the index `keys` makes, and writes nothing (the importer stores
//! imported items).

use super::codec::{decode, read_activity};
use super::{Actor, Engine, EngineError};
use crate::domain::{Activity, Body, Customer, FeedCategory, FeedSubtype, Instant, ServicePoint};
use crate::feed::{self, Bucket, DateRange, FeedItem, FeedQuery};
use crate::store::{for_each_entry, seq_from_key_tail, Store, TreeId};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One feed row as the desk and `feed --json` show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedRow {
    /// The item id (a service order's activity id).
    pub id: String,
    /// The category code.
    pub category: String,
    /// The sub-type code.
    pub subtype: String,
    /// When it happened.
    pub at: Instant,
    /// The billing account, for account-level items.
    pub account: Option<String>,
    /// One line for the list.
    pub summary: String,
    /// The sub-type's detail fields.
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The activity to open, for service orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
}

/// A six-month bucket of the default view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedBucket {
    /// "2024-12-16 – 2025-06-15".
    pub label: String,
    /// The first day in the bucket.
    pub from: NaiveDate,
    /// The last day in the bucket.
    pub to: NaiveDate,
    /// Its items, newest first.
    pub items: Vec<FeedRow>,
}

/// The feed of one customer and billing account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedView {
    /// The customer.
    pub customer: String,
    /// The billing account viewed.
    pub account: Option<String>,
    /// The window shown: the history window or the custom range.
    pub from: NaiveDate,
    /// The window's last day.
    pub to: NaiveDate,
    /// The categories kept (empty: all).
    pub categories: Vec<String>,
    /// The default view's buckets (absent for a custom range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<FeedBucket>>,
    /// Every item, newest first.
    pub items: Vec<FeedRow>,
}

/// What the feed is asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedRequest {
    /// The billing account (default: the customer's first).
    pub account: Option<String>,
    /// Categories to keep (empty: all).
    pub categories: BTreeSet<FeedCategory>,
    /// A custom range, checked against the §7.4 rules.
    pub range: Option<(NaiveDate, NaiveDate)>,
}

/// What a customer search matched on; exact matches of an id come first, then names, then
/// partial ids and addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedOn {
    /// The customer id, exactly.
    CustomerId,
    /// One of the customer's billing accounts, exactly.
    BillingAccount,
    /// A service point id the customer is served at, exactly.
    ServicePoint,
    /// Every word typed is in the customer's name.
    Name,
    /// Part of the customer id, a billing account or a service point id.
    PartOfId,
    /// Part of the address of a service point the customer is served at.
    Address,
}

impl MatchedOn {
    /// Whether the whole of an id matched (such matches hide the partial ones).
    pub fn is_exact(self) -> bool {
        matches!(
            self,
            MatchedOn::CustomerId | MatchedOn::BillingAccount | MatchedOn::ServicePoint
        )
    }

    /// How the desk names it.
    pub fn label(self) -> &'static str {
        match self {
            MatchedOn::CustomerId => "customer id",
            MatchedOn::BillingAccount => "billing account",
            MatchedOn::ServicePoint => "service point",
            MatchedOn::Name => "name",
            MatchedOn::PartOfId => "part of an id",
            MatchedOn::Address => "address",
        }
    }
}

/// A customer found by [`Engine::find_customers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMatch {
    /// The customer id.
    pub id: String,
    /// The customer's name.
    pub name: String,
    /// The customer's billing accounts, the first being the default view.
    pub accounts: Vec<String>,
    /// The billing account the search named (by account or service point), to view first.
    pub account: Option<String>,
    /// What matched.
    pub matched_on: MatchedOn,
    /// The matching value: the account, "SP-3 at 12 Elm St", or the name.
    pub detail: String,
}

/// How many records a customer search reads per range read, so a scan never holds a whole tree.
const SEARCH_PAGE: usize = 256;

impl Engine {
    /// Customers whose name contains every word of `text`, or whose id, billing account or
    /// service point (id or address) matches it; at most `limit`, best first (case-insensitive).
    ///
    /// An exact id (customer, billing account or service point) hides partial matches, so
    /// typing `C-1` does not also offer `C-10`…`C-19`. This scans the customers and service
    /// points trees page by page: fine for a utility's desk today; a name index (words → ids,
    /// kept by the import) is later work.
    pub fn find_customers(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<CustomerMatch>, EngineError> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let store = self.store.as_ref();
        // The common case, an id typed whole, is one read.
        let upper = text.trim().to_uppercase();
        if let Some(bytes) = store.get(TreeId::Customers, upper.as_bytes())? {
            let c: Customer = decode(TreeId::Customers, upper.as_bytes(), &bytes)?;
            let detail = c.id.clone();
            return Ok(vec![customer_match(c, None, MatchedOn::CustomerId, detail)]);
        }
        let words: Vec<&str> = needle.split_whitespace().collect();
        let mut found: BTreeMap<String, CustomerMatch> = BTreeMap::new();
        let mut keep = |m: CustomerMatch| match found.get(&m.id) {
            Some(old) if old.matched_on <= m.matched_on => {}
            _ => {
                found.insert(m.id.clone(), m);
            }
        };
        scan(store, TreeId::Customers, |c: Customer| {
            if c.id.to_lowercase() == needle {
                let id = c.id.clone();
                keep(customer_match(c, None, MatchedOn::CustomerId, id));
            } else if let Some(account) = c
                .billing_accounts
                .iter()
                .find(|a| a.to_lowercase() == needle)
            {
                let account = account.clone();
                keep(customer_match(
                    c,
                    Some(account.clone()),
                    MatchedOn::BillingAccount,
                    account,
                ));
            } else if words.iter().all(|w| c.name.to_lowercase().contains(w)) {
                let name = c.name.clone();
                keep(customer_match(c, None, MatchedOn::Name, name));
            } else if let Some(hit) = std::iter::once(&c.id)
                .chain(&c.billing_accounts)
                .find(|id| id.to_lowercase().contains(&needle))
            {
                let hit = hit.clone();
                keep(customer_match(c, None, MatchedOn::PartOfId, hit));
            }
        })?;
        // A service point names its customer; the customer record is read once per hit.
        let mut served: BTreeMap<String, (MatchedOn, Option<String>, String)> = BTreeMap::new();
        scan(store, TreeId::ServicePoints, |sp: ServicePoint| {
            let Some(customer) = sp.customer.clone() else {
                return;
            };
            let on = if sp.id.to_lowercase() == needle {
                MatchedOn::ServicePoint
            } else if sp.id.to_lowercase().contains(&needle) {
                MatchedOn::PartOfId
            } else if sp.address.to_lowercase().contains(&needle) {
                MatchedOn::Address
            } else {
                return;
            };
            let detail = format!("{} at {}", sp.id, sp.address);
            match served.get(&customer) {
                Some((old, _, _)) if *old <= on => {}
                _ => {
                    served.insert(customer, (on, sp.account.clone(), detail));
                }
            }
        })?;
        for (customer, (on, account, detail)) in served {
            if let Some(bytes) = store.get(TreeId::Customers, customer.as_bytes())? {
                let c: Customer = decode(TreeId::Customers, customer.as_bytes(), &bytes)?;
                // An account the customer no longer holds is not offered.
                let account = account.filter(|a| c.billing_accounts.contains(a));
                keep(customer_match(c, account, on, detail));
            }
        }
        let mut matches: Vec<CustomerMatch> = found.into_values().collect();
        if matches.iter().any(|m| m.matched_on.is_exact()) {
            matches.retain(|m| m.matched_on.is_exact());
        }
        // Ids sort as people count: C-2 before C-10.
        matches.sort_by(|a, b| {
            (a.matched_on, a.id.len(), &a.id).cmp(&(b.matched_on, b.id.len(), &b.id))
        });
        matches.truncate(limit);
        Ok(matches)
    }
}

impl Engine {
    /// The customer's feed at `now` (today in the configured zone).
    pub fn feed(
        &self,
        _actor: &Actor,
        now: Instant,
        customer: &str,
        request: &FeedRequest,
    ) -> Result<FeedView, EngineError> {
        let store = self.store.as_ref();
        let cust: crate::domain::Customer =
            match store.get(TreeId::Customers, customer.as_bytes())? {
                Some(bytes) => decode(TreeId::Customers, customer.as_bytes(), &bytes)?,
                None => {
                    return Err(EngineError::BadInput(format!(
                        "unknown customer `{customer}`"
                    )))
                }
            };
        let account = match &request.account {
            Some(a) if !cust.billing_accounts.contains(a) => {
                return Err(EngineError::BadInput(format!(
                    "billing account `{a}` is not one of {customer}'s ({})",
                    cust.billing_accounts.join(", ")
                )))
            }
            Some(a) => Some(a.clone()),
            None => cust.billing_accounts.first().cloned(),
        };
        let tz = self.config.timezone;
        let years = self.config.feed_history_years;
        let today = now.with_timezone(&tz).date_naive();
        let range = match request.range {
            Some((start, end)) => Some(
                feed::validate_range(start, end, today, years)
                    .map_err(|e| EngineError::BadInput(e.to_string()))?,
            ),
            None => None,
        };
        let window = match &range {
            Some(r) => DateRange {
                start: r.start,
                end: r.end,
            },
            None => {
                let w = feed::history_window(today, years);
                DateRange {
                    start: w.start,
                    end: w.end,
                }
            }
        };
        let items = self.feed_items(customer, &window, tz)?;
        let query = FeedQuery {
            account: account.clone(),
            categories: request.categories.clone(),
            range,
        };
        let selected = feed::select(
            items.iter(),
            &query,
            today,
            years,
            tz,
            cust.billing_accounts.len(),
        );
        let rows: Vec<FeedRow> = selected.iter().map(|i| row(i)).collect();
        let buckets = query.range.is_none().then(|| {
            feed::group_into_buckets(&selected, today, years, tz)
                .into_iter()
                .map(|(b, items)| bucket_view(&b, &items))
                .collect()
        });
        Ok(FeedView {
            customer: customer.to_string(),
            account,
            from: window.start,
            to: window.end,
            categories: request
                .categories
                .iter()
                .map(|c| c.code().to_string())
                .collect(),
            buckets,
            items: rows,
        })
    }

    /// Every feed entry of `customer` inside the window's local days: the service orders'
    /// index entries and the imported items' buckets, one range read each.
    fn feed_items(
        &self,
        customer: &str,
        window: &DateRange,
        tz: chrono_tz::Tz,
    ) -> Result<Vec<FeedItem>, EngineError> {
        let store = self.store.as_ref();
        let from = local_start(window.start, tz);
        let to = local_start(window.end.succ_opt().unwrap_or(window.end), tz)
            - chrono::Duration::seconds(1);
        let mut items = super::feed_buckets::items_between(store, customer, from, to)?;
        let (start, end) = feed::feed_range(customer, from, to);
        for (key, _) in store.range(TreeId::Feed, &start, Some(&end), usize::MAX, true)? {
            let Some(seq) = seq_from_key_tail(&key) else {
                continue;
            };
            if let Some(item) = activity_item(&read_activity(store, seq)?) {
                items.push(item);
            }
        }
        Ok(items)
    }
}

fn customer_match(
    c: Customer,
    account: Option<String>,
    matched_on: MatchedOn,
    detail: String,
) -> CustomerMatch {
    CustomerMatch {
        id: c.id,
        name: c.name,
        accounts: c.billing_accounts,
        account,
        matched_on,
        detail,
    }
}

/// Calls `each` on every record of `tree`, reading [`SEARCH_PAGE`] entries at a time.
fn scan<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    tree: TreeId,
    mut each: impl FnMut(T),
) -> Result<(), EngineError> {
    for_each_entry::<EngineError>(store, tree, SEARCH_PAGE, |key, value| {
        each(decode(tree, key, value)?);
        Ok(())
    })
}

fn local_start(date: NaiveDate, tz: chrono_tz::Tz) -> Instant {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&chrono::Utc)
        }
        // A day that starts in a daylight-saving gap starts at the first valid instant.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(
                || chrono::Utc.from_utc_datetime(&midnight),
                |t| t.with_timezone(&chrono::Utc),
            ),
    }
}

/// The feed item a service order shows as (§7.1: type, status, SP address).
pub fn activity_item(a: &Activity) -> Option<FeedItem> {
    let Body::Orchestration(o) = &a.body else {
        return None;
    };
    let customer = o.customer.clone()?;
    let mut details = serde_json::Map::new();
    details.insert("type".into(), o.activity_type.label().into());
    details.insert("status".into(), a.state_code().into());
    details.insert("sp".into(), o.sp_id.clone().into());
    Some(FeedItem {
        seq: a.seq,
        id: a.id.clone(),
        customer,
        account: o.account.clone(),
        category: FeedCategory::ServiceOrder,
        subtype: FeedSubtype::ServiceOrder,
        at: o.service_datetime,
        summary: format!(
            "{} — {} — {}",
            o.activity_type.label(),
            a.state_code(),
            o.sp_id
        ),
        details,
        activity: Some(a.id.clone()),
    })
}

fn row(item: &FeedItem) -> FeedRow {
    FeedRow {
        id: item.id.clone(),
        category: item.category.code().to_string(),
        subtype: item.subtype.code().to_string(),
        at: item.at,
        account: item.account.clone(),
        summary: item.summary.clone(),
        details: item.details.clone(),
        activity: item.activity.clone(),
    }
}

fn bucket_view(bucket: &Bucket, items: &[&FeedItem]) -> FeedBucket {
    let from = if bucket.includes_after {
        bucket.after
    } else {
        bucket.after.succ_opt().unwrap_or(bucket.after)
    };
    FeedBucket {
        label: format!("{from} – {}", bucket.through),
        from,
        to: bucket.through,
        items: items.iter().map(|i| row(i)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::MemStore;

    const NOW: &str = "2025-06-10T09:00:00Z";

    /// Three customers, one with two accounts, and the service points they are served at.
    fn engine() -> Engine {
        let lines = [
            r#"{"kind":"customer","id":"C-1","name":"Ada Byron","billing_accounts":["BA-1","BA-2"]}"#,
            r#"{"kind":"customer","id":"C-10","name":"Grace Hopper","billing_accounts":["BA-10"]}"#,
            r#"{"kind":"customer","id":"C-2","name":"Ada Lovelace","billing_accounts":["BA-3"]}"#,
            r#"{"kind":"service_point","id":"SP-7","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"12 Elm St","customer":"C-1","account":"BA-2"}"#,
            r#"{"kind":"service_point","id":"SP-8","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"4 Oak Ave","customer":"C-10","account":"BA-10"}"#,
            r#"{"kind":"service_point","id":"SP-9","sp_kind":"meter","status":"active","connected_at_source":true,"division":"NORTH","address":"9 Elm St"}"#,
        ]
        .join("\n");
        let records = crate::formats::parse_import(lines.as_bytes()).expect("test records parse");
        let mut engine = Engine::new(Box::new(MemStore::new()), Config::default());
        let now = chrono::DateTime::parse_from_rfc3339(NOW)
            .expect("test time")
            .with_timezone(&chrono::Utc);
        engine
            .import(&Actor::system(), now, records)
            .expect("test import");
        engine
    }

    fn found(engine: &Engine, text: &str) -> Vec<(String, MatchedOn, Option<String>)> {
        engine
            .find_customers(text, 10)
            .expect("search")
            .into_iter()
            .map(|m| (m.id, m.matched_on, m.account))
            .collect()
    }

    #[test]
    fn an_exact_customer_id_is_the_only_match() {
        let engine = engine();
        assert_eq!(
            found(&engine, "c-1"),
            [("C-1".to_string(), MatchedOn::CustomerId, None)]
        );
    }

    #[test]
    fn every_word_of_a_name_must_match() {
        let engine = engine();
        let ids: Vec<String> = found(&engine, "ada").into_iter().map(|m| m.0).collect();
        assert_eq!(ids, ["C-1", "C-2"], "people order: C-1 before C-2");
        let ids: Vec<String> = found(&engine, "ADA love")
            .into_iter()
            .map(|m| m.0)
            .collect();
        assert_eq!(ids, ["C-2"]);
    }

    #[test]
    fn a_billing_account_picks_its_customer_and_that_account() {
        let engine = engine();
        assert_eq!(
            found(&engine, "ba-2"),
            [(
                "C-1".to_string(),
                MatchedOn::BillingAccount,
                Some("BA-2".to_string())
            )]
        );
    }

    #[test]
    fn a_service_point_picks_the_customer_served_there_and_its_account() {
        let engine = engine();
        let matches = engine.find_customers("SP-7", 10).expect("search");
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].id, "C-1");
        assert_eq!(matches[0].matched_on, MatchedOn::ServicePoint);
        assert_eq!(matches[0].account.as_deref(), Some("BA-2"));
        assert_eq!(matches[0].detail, "SP-7 at 12 Elm St");
        assert_eq!(matches[0].accounts, ["BA-1", "BA-2"]);
    }

    #[test]
    fn part_of_an_address_or_id_matches_when_nothing_matches_whole() {
        let engine = engine();
        // SP-9 has no customer: only C-1 is served on Elm St.
        assert_eq!(
            found(&engine, "elm"),
            [(
                "C-1".to_string(),
                MatchedOn::Address,
                Some("BA-2".to_string())
            )]
        );
        let ids: Vec<String> = found(&engine, "c-").into_iter().map(|m| m.0).collect();
        assert_eq!(ids, ["C-1", "C-2", "C-10"]);
    }

    #[test]
    fn nothing_blank_and_the_limit() {
        let engine = engine();
        assert!(found(&engine, "zebra").is_empty());
        assert!(found(&engine, "   ").is_empty());
        assert_eq!(engine.find_customers("c-", 2).expect("search").len(), 2);
        assert!(engine.find_customers("c-", 0).expect("search").is_empty());
    }

    #[test]
    fn a_scan_reads_past_one_page() {
        let lines: Vec<String> = (0..SEARCH_PAGE + 5)
            .map(|n| {
                format!(
                    r#"{{"kind":"customer","id":"C-{n}","name":"Person {n}","billing_accounts":["BA-{n}"]}}"#
                )
            })
            .collect();
        let records =
            crate::formats::parse_import(lines.join("\n").as_bytes()).expect("records parse");
        let mut engine = Engine::new(Box::new(MemStore::new()), Config::default());
        let now = chrono::DateTime::parse_from_rfc3339(NOW)
            .expect("test time")
            .with_timezone(&chrono::Utc);
        engine
            .import(&Actor::system(), now, records)
            .expect("import");
        let all = engine.find_customers("person", usize::MAX).expect("search");
        assert_eq!(all.len(), SEARCH_PAGE + 5);
        let last = format!("BA-{}", SEARCH_PAGE + 4);
        assert_eq!(found(&engine, &last)[0].2.as_deref(), Some(last.as_str()));
    }
}
