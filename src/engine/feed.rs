//! The customer activity feed in the engine (§7, §12.10): imported items and the service orders
//! the engine runs, under one ordered (customer, time, sequence) index, so a window is one range
//! read.

use super::codec::decode;
use super::flow::Flow;
use super::queries::read_activity;
use super::tx::Tag;
use super::{Actor, Engine, EngineError};
use crate::domain::{Activity, Body, Instant};
use crate::feed::{self, Bucket, DateRange, FeedItem, FeedQuery};
use crate::formats::{FeedCategory, FeedItemRecord, FeedSubtype};
use crate::store::{seq_from_key_tail, seq_key, TreeId};
use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use std::collections::BTreeSet;

/// One feed row as the desk and `feed --json` show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
}

/// A six-month bucket of the default view.
#[derive(Debug, Clone, Serialize, PartialEq)]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<FeedBucket>>,
    /// Every item, newest first.
    pub items: Vec<FeedRow>,
}

/// What the feed is asked for.
#[derive(Debug, Clone, Default)]
pub struct FeedRequest {
    /// The billing account (default: the customer's first).
    pub account: Option<String>,
    /// Categories to keep (empty: all).
    pub categories: BTreeSet<FeedCategory>,
    /// A custom range, checked against the §7.4 rules.
    pub range: Option<(NaiveDate, NaiveDate)>,
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

    /// Every feed entry of `customer` inside the window's local days: one range read.
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
        let (start, end) = feed::feed_range(customer, from, to);
        let mut items = Vec::new();
        for (key, value) in store.range(TreeId::Feed, &start, Some(&end), usize::MAX, true)? {
            let Some(seq) = seq_from_key_tail(&key) else {
                continue;
            };
            match value.first().and_then(|b| Tag::from_byte(*b)) {
                Some(Tag::FeedItem) => {
                    let k = seq_key(seq);
                    let bytes = store.get(TreeId::FeedItems, &k)?.ok_or_else(|| {
                        EngineError::Corrupt(format!("feed item #{seq} is indexed but missing"))
                    })?;
                    items.push(decode(TreeId::FeedItems, &k, &bytes)?);
                }
                Some(Tag::Activity) => {
                    if let Some(item) = activity_item(&read_activity(store, seq)?) {
                        items.push(item);
                    }
                }
                _ => {}
            }
        }
        Ok(items)
    }
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

impl Flow<'_, '_> {
    /// Stores an imported feed item under the feed index.
    pub fn store_feed_item(&mut self, record: FeedItemRecord) -> Result<String, EngineError> {
        let seq = self.tx.next_seq();
        let id = match record.id {
            Some(id) => id,
            None => self.tx.next_id("F")?,
        };
        self.tx.insert_feed_item(FeedItem {
            seq,
            id: id.clone(),
            customer: record.customer,
            account: record.account,
            category: record.category,
            subtype: record.subtype,
            at: record.at,
            summary: record.summary,
            details: record.details,
            activity: None,
        });
        Ok(id)
    }
}

/// The feed index entry of a service order (the engine makes those, §12.10).
pub fn activity_feed_key(a: &Activity) -> Option<Vec<u8>> {
    match &a.body {
        Body::Orchestration(o) => o
            .customer
            .as_ref()
            .map(|c| feed::feed_key(c, o.service_datetime, a.seq)),
        _ => None,
    }
}

/// The feed index key of an imported item.
pub fn item_feed_key(item: &FeedItem) -> Vec<u8> {
    feed::feed_key(&item.customer, item.at, item.seq)
}
