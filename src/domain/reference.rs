//! Reference data: service points, devices, customers and buildings (§1.1, §6.1, §12.5).

use super::kinds::{CommandKind, DeviceClass, SiteStatus, SpKind, SpStatus, Switch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A meter or item service point; it refers to its installed device by id (§12.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePoint {
    /// The service point id (`SP-1`).
    pub id: String,
    /// Meter or item.
    pub sp_kind: SpKind,
    /// Active or inactive.
    pub status: SpStatus,
    /// Whether the service point is connected at the source.
    pub connected_at_source: bool,
    /// The division, for access restriction.
    #[serde(default)]
    pub division: String,
    /// The street address sent to the field.
    #[serde(default)]
    pub address: String,
    /// The customer served here, if any.
    #[serde(default)]
    pub customer: Option<String>,
    /// The billing account served here, if any.
    #[serde(default)]
    pub account: Option<String>,
    /// The building the site belongs to.
    #[serde(default)]
    pub building: Option<String>,
    /// Energised, de-energised or unknown.
    #[serde(default)]
    pub site_status: Option<SiteStatus>,
    /// The installed device's id; `None` means no meter.
    #[serde(default)]
    pub device: Option<String>,
}

/// A device in the registry; it outlives its installation (§12.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The device id.
    pub id: String,
    /// The badge number printed on the device.
    #[serde(default)]
    pub badge: String,
    /// True when the head-end can reach it (AMI).
    pub smart: bool,
    /// Registered with the head-end.
    pub commissioned: bool,
    /// On or off.
    pub switch: Switch,
    /// Command kinds the head-end can run on it; `None` means the default for its kind.
    #[serde(default)]
    pub head_end_capable: Option<BTreeSet<CommandKind>>,
    /// The last reading taken, as (register, value).
    #[serde(default)]
    pub last_readings: Vec<Reading>,
}

impl Device {
    /// The §2.2 class of this device, as seen on a service point of `kind`.
    ///
    /// Items are never smart (§12.13): an item's device is always classed as manual, so the
    /// rows that need a smart device never match an item.
    pub fn class_on(&self, kind: SpKind) -> DeviceClass {
        match (kind, self.smart, self.commissioned) {
            (SpKind::Item, _, _) | (SpKind::Meter, false, _) => DeviceClass::Manual,
            (SpKind::Meter, true, false) => DeviceClass::SmartUncommissioned,
            (SpKind::Meter, true, true) => DeviceClass::SmartCommissioned,
        }
    }

    /// Whether the head-end can run `kind` on this device (§12.5 defaults).
    pub fn head_end_can(&self, kind: CommandKind) -> bool {
        match &self.head_end_capable {
            Some(kinds) => kinds.contains(&kind),
            None => self.smart,
        }
    }
}

/// One register reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// The register (`kWh`).
    pub register: String,
    /// The value, as a decimal string.
    pub value: String,
}

/// A customer (contact) with its billing accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The customer id.
    pub id: String,
    /// The name shown.
    pub name: String,
    /// Life-support customers never get a move-out disconnection (§6.2).
    #[serde(default)]
    pub life_support: bool,
    /// The billing accounts, the first being the default view.
    #[serde(default)]
    pub billing_accounts: Vec<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// A building that groups sites (§6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// The building id.
    pub id: String,
    /// The name shown.
    #[serde(default)]
    pub name: String,
    /// `Move-In/Out Work Orders Disable = Y`.
    #[serde(default)]
    pub wo_disable: bool,
}
