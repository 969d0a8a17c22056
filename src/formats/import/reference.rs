//! Strict twins of the domain's reference types: those accept unknown fields (they are also
//! storage types), so import lines are read through these and converted.

use super::ImportRecord;
use crate::domain::{
    Building, CommandKind, Customer, Device, ServicePoint, SiteStatus, SpKind, SpStatus, Switch,
};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The wire form of a `building` line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BuildingLine {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    wo_disable: bool,
}

impl From<BuildingLine> for ImportRecord {
    fn from(b: BuildingLine) -> Self {
        ImportRecord::Building(Building {
            id: b.id,
            name: b.name,
            wo_disable: b.wo_disable,
        })
    }
}

/// The wire form of a `customer` line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CustomerLine {
    id: String,
    name: String,
    #[serde(default)]
    life_support: bool,
    #[serde(default)]
    billing_accounts: Vec<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl From<CustomerLine> for ImportRecord {
    fn from(c: CustomerLine) -> Self {
        ImportRecord::Customer(Customer {
            id: c.id,
            name: c.name,
            life_support: c.life_support,
            billing_accounts: c.billing_accounts,
            phone: c.phone,
            email: c.email,
        })
    }
}

/// The wire form of a `service_point` line: the device is nested, not referred to by id.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServicePointLine {
    id: String,
    sp_kind: SpKind,
    status: SpStatus,
    connected_at_source: bool,
    #[serde(default)]
    division: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    building: Option<String>,
    #[serde(default)]
    site_status: Option<SiteStatus>,
    #[serde(default)]
    device: Option<DeviceLine>,
}

/// The wire form of the device nested in a `service_point` line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceLine {
    id: String,
    #[serde(default)]
    badge: String,
    smart: bool,
    commissioned: bool,
    switch: Switch,
    #[serde(default)]
    head_end_capable: Option<BTreeSet<CommandKind>>,
}

impl From<ServicePointLine> for ImportRecord {
    fn from(line: ServicePointLine) -> Self {
        let device = line.device.map(|d| Device {
            id: d.id,
            badge: d.badge,
            smart: d.smart,
            commissioned: d.commissioned,
            switch: d.switch,
            head_end_capable: d.head_end_capable,
            last_readings: Vec::new(),
        });
        let sp = ServicePoint {
            id: line.id,
            sp_kind: line.sp_kind,
            status: line.status,
            connected_at_source: line.connected_at_source,
            division: line.division,
            address: line.address,
            customer: line.customer,
            account: line.account,
            building: line.building,
            site_status: line.site_status,
            device: device.as_ref().map(|d| d.id.clone()),
        };
        ImportRecord::ServicePoint { sp, device }
    }
}
