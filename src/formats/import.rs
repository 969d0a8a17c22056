//! Import records (`orderdesk import`, `spec/formats.md` "Import records").
//!
//! Only the shape of a record is checked here. Whether its data is enough for the engine (a Cut
//! for Non-Payment without a past-due amount, an Enable without a service agreement, …) is the
//! engine's Validate step, which reports it with a §5.3 code.

mod feed;
mod reference;
mod work_order;

pub use crate::domain::{FeedCategory, FeedSubtype};
pub use feed::FeedItemRecord;
pub(super) use work_order::wo_status_any_case;
pub use work_order::{WoKind, WoOrigin, WoStatus, WorkOrderRecord};

use super::{read_records, unknown_kind, wire, FileErrors, LineError, Problem};
use crate::domain::{
    ActivityType, Building, CollectionData, Contact, Customer, Device, DeviceSpec, Instant,
    RequestInfo, ServicePoint,
};
use chrono::NaiveDate;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The `kind`s an import file may hold.
const KINDS: &[&str] = &[
    "building",
    "service_point",
    "customer",
    "request",
    "work_order",
    "move_out",
    "move_in",
    "feed_item",
];

/// Request types that are filed by their own commands, spelled as users tend to write them.
const NOT_IMPORTABLE: &[&str] = &[
    "cancel",
    "update",
    "cancel_orchestration",
    "update_orchestration",
];

/// One line of an import file.
///
/// The serde form is for storage and tests; files are read with [`parse_import`], which knows
/// the wire shape (a service point carries its device nested, not by id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// A file's records are read once and handed to the engine; boxing the large variants would cost
// every consumer a deref in its patterns to save memory only while the list exists.
#[allow(clippy::large_enum_variant)]
pub enum ImportRecord {
    /// A building that groups sites.
    Building(Building),
    /// A service point and, when one is installed, its device (`sp.device` is its id).
    ServicePoint {
        /// The service point.
        sp: ServicePoint,
        /// The installed device, registered in the device registry.
        device: Option<Device>,
    },
    /// A customer with its billing accounts.
    Customer(Customer),
    /// An orchestration request, stored in PENDING.
    Request(RequestRecord),
    /// A work order for the open queue.
    WorkOrder(WorkOrderRecord),
    /// A customer moving out of a site.
    MoveOut(MoveRecord),
    /// A customer moving in to a site.
    MoveIn(MoveRecord),
    /// An item for the customer activity feed.
    FeedItem(FeedItemRecord),
}

/// An orchestration request as filed by a requesting system (§1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRecord {
    /// The request id; the engine assigns one when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// One of the six request types (`type` in the file).
    #[serde(rename = "type", deserialize_with = "request_type")]
    pub request_type: ActivityType,
    /// The service point id.
    pub sp: String,
    /// When the request was received.
    #[serde(deserialize_with = "wire::instant")]
    pub service_datetime: Instant,
    /// A future time makes the request wait in WAIT_EFF_DATE.
    #[serde(default, deserialize_with = "wire::optional_instant")]
    pub effective_datetime: Option<Instant>,
    /// Service agreements (Enable and Back-to-Back need one; Validate checks).
    #[serde(default)]
    pub service_agreements: Vec<String>,
    /// Who to acknowledge and notify.
    #[serde(default)]
    pub request_info: RequestInfo,
    /// Arrears data (Cut for Non-Payment only).
    #[serde(default)]
    pub collection_data: Option<CollectionData>,
    /// A contact for the field crew.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Free-text comments.
    #[serde(default)]
    pub comments: Option<String>,
    /// The device to take out (Exchange Meter only).
    #[serde(default)]
    pub old_device_id: Option<String>,
    /// The device to put in (Exchange Meter only).
    #[serde(default)]
    pub new_device: Option<DeviceSpec>,
    /// Whether to connect the new device (Exchange Meter only).
    #[serde(default)]
    pub connect_new_device: Option<bool>,
    /// The customer moving out (Back-to-Back only).
    #[serde(default)]
    pub outgoing_customer: Option<String>,
    /// The customer moving in (Back-to-Back only).
    #[serde(default)]
    pub incoming_customer: Option<String>,
    /// The incoming customer's billing account (Back-to-Back only).
    #[serde(default)]
    pub incoming_account: Option<String>,
    /// Whether a meter read is needed (Back-to-Back only).
    #[serde(default)]
    pub read_required: Option<bool>,
}

/// A move-out or move-in (§6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRecord {
    /// The customer id.
    pub customer: String,
    /// The site (service point) id.
    pub site: String,
    /// The move date.
    #[serde(deserialize_with = "wire::date")]
    pub date: NaiveDate,
}

/// Parses an import file: every record with its line number, or every error in the file.
pub fn parse_import(bytes: &[u8]) -> Result<Vec<(usize, ImportRecord)>, FileErrors> {
    let mut parsed = read_records(bytes, record);
    parsed.errors.extend(duplicate_ids(&parsed.records));
    parsed.finish()
}

/// One line's record, from its `kind` and the rest of its object.
fn record(kind: &str, body: Map<String, Value>) -> Result<ImportRecord, Problem> {
    match kind {
        "building" => wire::from_body::<reference::BuildingLine>(body).map(ImportRecord::from),
        "service_point" => {
            wire::from_body::<reference::ServicePointLine>(body).map(ImportRecord::from)
        }
        "customer" => wire::from_body::<reference::CustomerLine>(body).map(ImportRecord::from),
        "request" => request(body).map(ImportRecord::Request),
        "work_order" => wire::from_body(body).map(ImportRecord::WorkOrder),
        "move_out" => wire::from_body(body).map(ImportRecord::MoveOut),
        "move_in" => wire::from_body(body).map(ImportRecord::MoveIn),
        "feed_item" => feed::feed_item(body).map(ImportRecord::FeedItem),
        _ => Err(unknown_kind(kind, KINDS)),
    }
}

/// A request, with its type-specific fields checked against its type.
fn request(body: Map<String, Value>) -> Result<RequestRecord, Problem> {
    let request: RequestRecord = wire::from_body(body)?;
    match misplaced_field(&request) {
        Some(field) => Err(Problem::field(
            field,
            format!("does not apply to {}", request.request_type),
        )),
        None => Ok(request),
    }
}

/// The first type-specific field (§1.3, §12.13) set on a request of another type.
///
/// A null counts as absent, as it does for every optional field.
fn misplaced_field(r: &RequestRecord) -> Option<&'static str> {
    use ActivityType::{BackToBack, CutForNonPayment, ExchangeMeter};
    let specific = [
        (
            "collection_data",
            CutForNonPayment,
            r.collection_data.is_some(),
        ),
        ("old_device_id", ExchangeMeter, r.old_device_id.is_some()),
        ("new_device", ExchangeMeter, r.new_device.is_some()),
        (
            "connect_new_device",
            ExchangeMeter,
            r.connect_new_device.is_some(),
        ),
        (
            "outgoing_customer",
            BackToBack,
            r.outgoing_customer.is_some(),
        ),
        (
            "incoming_customer",
            BackToBack,
            r.incoming_customer.is_some(),
        ),
        ("incoming_account", BackToBack, r.incoming_account.is_some()),
        ("read_required", BackToBack, r.read_required.is_some()),
    ];
    specific
        .into_iter()
        .find(|&(_, owner, present)| present && owner != r.request_type)
        .map(|(field, _, _)| field)
}

/// The request `type`: one of the six request types, with a pointer to the right command for the
/// two maintenance types.
fn request_type<'de, D: Deserializer<'de>>(d: D) -> Result<ActivityType, D::Error> {
    let text = String::deserialize(d)?;
    let requests = || ActivityType::ALL.iter().filter(|t| t.is_request());
    if let Some(&found) = requests().find(|t| t.code() == text) {
        return Ok(found);
    }
    if NOT_IMPORTABLE.contains(&text.as_str()) {
        return Err(D::Error::custom(format!(
            "`{text}` cannot be imported: cancels and updates are filed with \
             `orderdesk cancel` and `orderdesk update`"
        )));
    }
    Err(D::Error::custom(format!(
        "unknown request type `{text}`, expected one of {}",
        wire::one_of(requests())
    )))
}

/// Ids that appear twice among records of one kind, each reported on its later line. A feed
/// item's id is its customer's: two customers' feeds may both have `CALL-1`.
fn duplicate_ids(records: &[(usize, ImportRecord)]) -> Vec<LineError> {
    let mut first_seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut errors = Vec::new();
    for (line, record) in records {
        let scope = match record {
            ImportRecord::FeedItem(f) => f.customer.as_str(),
            _ => "",
        };
        for (kind, field, id) in ids(record) {
            match first_seen.get(&(kind, scope, id)) {
                Some(first) => {
                    let whose = if scope.is_empty() {
                        String::new()
                    } else {
                        format!(" in {scope}'s feed")
                    };
                    errors.push(
                        Problem::field(
                            field,
                            format!("duplicate {kind} id `{id}`{whose} (also on line {first})"),
                        )
                        .at(*line),
                    )
                }
                None => {
                    first_seen.insert((kind, scope, id), *line);
                }
            }
        }
    }
    errors
}

/// The ids a record defines, as (kind, field, id); devices are a kind of their own.
fn ids(record: &ImportRecord) -> Vec<(&'static str, &'static str, &str)> {
    match record {
        ImportRecord::Building(b) => vec![("building", "id", b.id.as_str())],
        ImportRecord::ServicePoint { sp, device } => {
            let mut ids = vec![("service_point", "id", sp.id.as_str())];
            ids.extend(
                device
                    .iter()
                    .map(|d| ("device", "device.id", d.id.as_str())),
            );
            ids
        }
        ImportRecord::Customer(c) => vec![("customer", "id", c.id.as_str())],
        ImportRecord::Request(r) => optional_id("request", &r.id),
        ImportRecord::WorkOrder(w) => optional_id("work_order", &w.id),
        ImportRecord::FeedItem(f) => optional_id("feed_item", &f.id),
        ImportRecord::MoveOut(_) | ImportRecord::MoveIn(_) => Vec::new(),
    }
}

/// The id of a record whose id is optional, if it has one.
fn optional_id<'r>(
    kind: &'static str,
    id: &'r Option<String>,
) -> Vec<(&'static str, &'static str, &'r str)> {
    id.iter().map(|id| (kind, "id", id.as_str())).collect()
}

#[cfg(test)]
mod tests;
