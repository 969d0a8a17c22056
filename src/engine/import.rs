//! `import`: reference data and requests, checked whole against the database before anything
//! is written, then stored in one transaction (formats.md "Import records").

use super::flow::Flow;
use super::workorders::{Move, NewWorkOrder};
use super::{Actor, Engine, EngineError};
use crate::domain::{
    Activity, ActivityType, BackToBackState, Body, Capability, Device, ExchangeState, Instant,
    Notification, NotificationKind, Orchestration, Switch,
};
use crate::feed::FeedItem;
use crate::formats::{FeedItemRecord, ImportRecord, RequestRecord};
use crate::lifecycle::OrchState;
use crate::store::TreeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One record created by an import.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Created {
    /// The record kind (`service_point`, `request`…).
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// Records one unit of work of a bulk import stores: large enough to amortise the flush, small
/// enough that a unit stays a few megabytes.
pub const BULK_SLICE: usize = 10_000;

/// What a bulk import did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BulkImport {
    /// Records in the file.
    pub records: usize,
    /// Records an earlier, interrupted run of the same file had stored (skipped by this one).
    pub resumed_after: usize,
    /// Records this run stored.
    pub stored: usize,
    /// Units of work this run committed.
    pub slices: usize,
}

impl Engine {
    /// Imports a large file in slices of [`BULK_SLICE`] records, each its own durable unit of
    /// work: the whole file (what is left of it) is checked first, so a bad line still changes
    /// nothing. Each slice also records how far the file got, under a key made from the
    /// file's digest (`source`, [`file_digest`]): a run that was stopped (a kill, a full disk) resumes after the
    /// last stored slice when given the same file, and a file stored whole is not stored twice.
    /// Without a `source` nothing is recorded (the demo's generated history).
    pub fn import_bulk(
        &mut self,
        actor: &Actor,
        now: Instant,
        records: Vec<(usize, ImportRecord)>,
        source: Option<[u8; 16]>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<BulkImport, EngineError> {
        actor.check(Capability::CreateRequest)?;
        let mark = source.map(bulk_mark_key);
        let done = match &mark {
            Some(key) => match self.store.get(TreeId::Meta, key)? {
                Some(bytes) => super::codec::decode::<u64>(TreeId::Meta, key, &bytes)? as usize,
                None => 0,
            },
            None => 0,
        };
        let mut report = BulkImport {
            records: records.len(),
            resumed_after: done.min(records.len()),
            stored: 0,
            slices: 0,
        };
        let rest: Vec<(usize, ImportRecord)> = records.into_iter().skip(done).collect();
        if rest.is_empty() {
            return Ok(report);
        }
        self.check_import(&rest, now)?;
        let mut rest = rest.into_iter().peekable();
        while rest.peek().is_some() {
            let slice: Vec<(usize, ImportRecord)> = rest.by_ref().take(BULK_SLICE).collect();
            let (first, last) = (slice[0].0, slice[slice.len() - 1].0);
            let stored = slice.len();
            let reached = (done + report.stored + stored) as u64;
            let mark = mark.clone();
            self.act(
                actor,
                now,
                Capability::CreateRequest,
                "import",
                &[],
                |flow| {
                    for (_, record) in slice {
                        flow.store_record(record)?;
                    }
                    if let Some(key) = mark {
                        flow.tx.put_meta(key, Some(super::codec::encode(&reached)?));
                    }
                    Ok((
                        (),
                        Some(format!("bulk: lines {first}–{last}, {stored} record(s)")),
                    ))
                },
            )?;
            report.stored += stored;
            report.slices += 1;
            progress(done + report.stored, report.records);
        }
        Ok(report)
    }

    /// Imports parsed records: all or nothing.
    pub fn import(
        &mut self,
        actor: &Actor,
        now: Instant,
        records: Vec<(usize, ImportRecord)>,
    ) -> Result<Vec<Created>, EngineError> {
        actor.check(Capability::CreateRequest)?;
        self.check_import(&records, now)?;
        let ids: Vec<String> = records.iter().filter_map(|(_, r)| record_id(r)).collect();
        self.act(
            actor,
            now,
            Capability::CreateRequest,
            "import",
            &[],
            |flow| {
                let mut created = Vec::with_capacity(records.len());
                for (_, record) in records {
                    created.push(flow.store_record(record)?);
                }
                let detail = format!("{} record(s): {}", created.len(), summarize(&ids));
                Ok((created, Some(detail)))
            },
        )
    }

    /// The whole-file checks against what is already stored: taken ids, dangling references,
    /// records this engine does not take yet. Every problem is reported with its line.
    fn check_import(
        &self,
        records: &[(usize, ImportRecord)],
        now: Instant,
    ) -> Result<(), EngineError> {
        let store = self.store.as_ref();
        let in_file = |kind: &str| -> BTreeSet<String> {
            records
                .iter()
                .filter(|(_, r)| kind_of(r) == kind)
                .filter_map(|(_, r)| record_id(r))
                .collect()
        };
        let (buildings, customers) = (in_file("building"), in_file("customer"));
        let refs = References {
            store,
            customers: &customers,
            sites: &in_file("service_point"),
        };
        let mut errors = Vec::new();
        let mut feed_ids = FeedIds::default();
        for (line, record) in records {
            let taken =
                |tree: TreeId, id: &str| store.get(tree, id.as_bytes()).map(|v| v.is_some());
            match record {
                ImportRecord::Building(b) if taken(TreeId::Buildings, &b.id)? => {
                    errors.push(format!(
                        "line {line}: field `id`: building {} already exists",
                        b.id
                    ));
                }
                ImportRecord::Customer(c) if taken(TreeId::Customers, &c.id)? => {
                    errors.push(format!(
                        "line {line}: field `id`: customer {} already exists",
                        c.id
                    ));
                }
                ImportRecord::ServicePoint { sp, device } => {
                    if taken(TreeId::ServicePoints, &sp.id)? {
                        errors.push(format!(
                            "line {line}: field `id`: service point {} already exists",
                            sp.id
                        ));
                    }
                    if let Some(d) = device {
                        if taken(TreeId::Devices, &d.id)? {
                            errors.push(format!(
                                "line {line}: field `device.id`: device {} already exists",
                                d.id
                            ));
                        }
                    }
                    if let Some(b) = &sp.building {
                        if !buildings.contains(b) && !taken(TreeId::Buildings, b)? {
                            errors.push(format!(
                                "line {line}: field `building`: unknown building {b}"
                            ));
                        }
                    }
                    if let Some(c) = &sp.customer {
                        if !customers.contains(c) && !taken(TreeId::Customers, c)? {
                            errors.push(format!(
                                "line {line}: field `customer`: unknown customer {c}"
                            ));
                        }
                    }
                }
                ImportRecord::Request(r) => {
                    if let Some(id) = &r.id {
                        if taken(TreeId::Ids, id)? {
                            errors.push(format!("line {line}: field `id`: {id} is already taken"));
                        }
                    }
                }
                ImportRecord::WorkOrder(wo) => {
                    if let Some(id) = &wo.id {
                        if taken(TreeId::Ids, id)? {
                            errors.push(format!("line {line}: field `id`: {id} is already taken"));
                        }
                    }
                    refs.check(*line, "customer", &wo.customer, &mut errors)?;
                    refs.check(*line, "site", &wo.site, &mut errors)?;
                }
                ImportRecord::MoveIn(m) | ImportRecord::MoveOut(m) => {
                    refs.check(*line, "customer", &m.customer, &mut errors)?;
                    refs.check(*line, "site", &m.site, &mut errors)?;
                    if matches!(record, ImportRecord::MoveOut(_)) {
                        let today = now.with_timezone(&self.config.timezone).date_naive();
                        if let Err(e) = crate::workorders::check_move_out_date(
                            m.date,
                            today,
                            self.config.default_calendar(),
                        ) {
                            errors.push(format!("line {line}: field `date`: {e}"));
                        }
                    }
                }
                ImportRecord::FeedItem(item) => {
                    refs.check(*line, "customer", &item.customer, &mut errors)?;
                    if let Some(id) = &item.id {
                        if taken(TreeId::Ids, id)? {
                            errors.push(format!("line {line}: field `id`: {id} is already taken"));
                        } else if !feed_ids.fresh(store, &item.customer, id)? {
                            errors.push(format!(
                                "line {line}: field `id`: {}'s feed already has {id}",
                                item.customer
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        let shown = errors.len().min(20);
        let mut message = errors[..shown].join("\n");
        if errors.len() > shown {
            message.push_str(&format!("\n… and {} more", errors.len() - shown));
        }
        Err(EngineError::BadInput(message))
    }
}

impl Flow<'_, '_> {
    fn store_record(&mut self, record: ImportRecord) -> Result<Created, EngineError> {
        let kind = kind_of(&record).to_string();
        let id = match record {
            ImportRecord::Building(b) => {
                let id = b.id.clone();
                self.tx.put_building(b)?;
                id
            }
            ImportRecord::Customer(c) => {
                let id = c.id.clone();
                self.tx.put_customer(c)?;
                id
            }
            ImportRecord::ServicePoint { sp, device } => {
                let id = sp.id.clone();
                if let Some(device) = device {
                    self.tx.put_device(device)?;
                }
                self.tx.put_sp(sp)?;
                id
            }
            ImportRecord::Request(r) => self.store_request(r)?,
            ImportRecord::WorkOrder(wo) => self.create_work_order(NewWorkOrder {
                id: wo.id,
                kind: wo.wo_kind,
                customer: wo.customer,
                account: wo.account,
                site: wo.site,
                origin: wo.origin,
                status: wo.status,
                preferred_date: wo.preferred_date,
            })?,
            ImportRecord::MoveIn(m) | ImportRecord::MoveOut(m) => {
                let event = if kind == "move_in" {
                    Move::In
                } else {
                    Move::Out
                };
                let report = self.move_event(event, &m.customer, &m.site, m.date)?;
                report.created.unwrap_or_default()
            }
            ImportRecord::FeedItem(item) => self.store_feed_item(item)?,
        };
        Ok(Created { kind, id })
    }

    /// Stores a request in PENDING and queues its acknowledgement (formats.md).
    fn store_request(&mut self, r: RequestRecord) -> Result<String, EngineError> {
        let seq = self.tx.next_seq();
        let id = match r.id {
            Some(id) => id,
            None => self.tx.next_id("SO")?,
        };
        if let Some(new) = &r.new_device {
            // The request registers the device to be installed (§12.13).
            if self.tx.device(&new.id)?.is_none() {
                self.tx.put_device(Device {
                    id: new.id.clone(),
                    badge: new.badge.clone(),
                    smart: new.smart,
                    commissioned: new.commissioned,
                    switch: Switch::Off,
                    head_end_capable: None,
                    last_readings: Vec::new(),
                })?;
            }
        }
        let t = r.request_type;
        let now = self.now();
        let sp = self.tx.sp(&r.sp)?.cloned();
        let o = Orchestration {
            state: OrchState::Pending,
            activity_type: t,
            customer: sp.as_ref().and_then(|s| s.customer.clone()),
            account: sp.as_ref().and_then(|s| s.account.clone()),
            sp_id: r.sp,
            service_datetime: r.service_datetime,
            effective: r.effective_datetime,
            service_agreements: r.service_agreements,
            notifications: vec![Notification {
                kind: NotificationKind::Ack,
                at: now,
                to: r.request_info.requester.clone(),
            }],
            request_info: r.request_info,
            collection_data: r.collection_data,
            contact: r.contact,
            comments: r.comments,
            expiration: None,
            pass: 0,
            skip_kind: None,
            superseded_by: None,
            frozen_by: None,
            warnings: Vec::new(),
            exchange: (t == ActivityType::ExchangeMeter).then(|| ExchangeState {
                old_device_id: r.old_device_id,
                new_device: r.new_device,
                connect_new_device: r.connect_new_device,
                ..ExchangeState::default()
            }),
            back_to_back: (t == ActivityType::BackToBack).then(|| BackToBackState {
                outgoing_customer: r.outgoing_customer,
                incoming_customer: r.incoming_customer,
                incoming_account: r.incoming_account,
                read_required: r.read_required.unwrap_or(true),
                read_done: false,
            }),
        };
        self.tx.insert_activity(Activity {
            seq,
            id: id.clone(),
            parent: None,
            created_at: now,
            status_at: now,
            status_reason: None,
            due_at: Some(self.rule_now()),
            excused: false,
            log: Vec::new(),
            body: Body::Orchestration(o),
        });
        self.log_note(seq, "received; acknowledgement sent".into())?;
        Ok(id)
    }
}

/// The feed item ids of the customers an import names, stored and earlier in the file.
#[derive(Default)]
struct FeedIds(std::collections::BTreeMap<String, BTreeSet<String>>);

impl FeedIds {
    /// Whether `id` is new to the customer's feed; it is taken from then on.
    fn fresh(
        &mut self,
        store: &dyn crate::store::Store,
        customer: &str,
        id: &str,
    ) -> Result<bool, EngineError> {
        if !self.0.contains_key(customer) {
            let stored = super::feed_buckets::customer_ids(store, customer)?;
            self.0.insert(customer.to_string(), stored);
        }
        Ok(self
            .0
            .get_mut(customer)
            .is_some_and(|ids| ids.insert(id.to_string())))
    }
}

/// Customers and sites a record may refer to: in the file or already stored.
struct References<'a> {
    store: &'a dyn crate::store::Store,
    customers: &'a BTreeSet<String>,
    sites: &'a BTreeSet<String>,
}

impl References<'_> {
    fn check(
        &self,
        line: usize,
        field: &str,
        id: &str,
        errors: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        let (in_file, tree, what) = match field {
            "customer" => (self.customers, TreeId::Customers, "customer"),
            _ => (self.sites, TreeId::ServicePoints, "site"),
        };
        if !in_file.contains(id) && self.store.get(tree, id.as_bytes())?.is_none() {
            errors.push(format!("line {line}: field `{field}`: unknown {what} {id}"));
        }
        Ok(())
    }
}

/// What names a file to [`Engine::import_bulk`]: the first 16 bytes of its SHA-256.
pub fn file_digest(bytes: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut digest = [0; 16];
    digest.copy_from_slice(&Sha256::digest(bytes)[..16]);
    digest
}

/// The meta key of a bulk import's progress: `bulk_import/` and the file's digest.
fn bulk_mark_key(digest: [u8; 16]) -> Vec<u8> {
    let mut key = b"bulk_import/".to_vec();
    key.extend_from_slice(&digest);
    key
}

fn kind_of(record: &ImportRecord) -> &'static str {
    match record {
        ImportRecord::Building(_) => "building",
        ImportRecord::ServicePoint { .. } => "service_point",
        ImportRecord::Customer(_) => "customer",
        ImportRecord::Request(_) => "request",
        ImportRecord::WorkOrder(_) => "work_order",
        ImportRecord::MoveOut(_) => "move_out",
        ImportRecord::MoveIn(_) => "move_in",
        ImportRecord::FeedItem(_) => "feed_item",
    }
}

fn record_id(record: &ImportRecord) -> Option<String> {
    match record {
        ImportRecord::Building(b) => Some(b.id.clone()),
        ImportRecord::ServicePoint { sp, .. } => Some(sp.id.clone()),
        ImportRecord::Customer(c) => Some(c.id.clone()),
        ImportRecord::Request(r) => r.id.clone(),
        _ => None,
    }
}

fn summarize(ids: &[String]) -> String {
    if ids.len() <= 10 {
        ids.join(", ")
    } else {
        format!("{} … ({} in all)", ids[..10].join(", "), ids.len())
    }
}

impl Flow<'_, '_> {
    /// Stores an imported feed item under the feed index.
    pub fn store_feed_item(&mut self, record: FeedItemRecord) -> Result<String, EngineError> {
        let seq = self.tx.next_seq();
        let id = match record.id {
            Some(id) => id,
            None => self.tx.next_feed_id(&record.customer)?,
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
