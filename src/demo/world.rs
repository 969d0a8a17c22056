//! The reference data of the demo world: customers with their billing accounts, buildings, and
//! service points with the device each starts with. Generated per customer from its own random
//! stream, so customer 17 is the same person whatever the size of the world.

use super::names::Names;
use super::rng::SplitMix64;
use crate::domain::{
    Building, Customer, Device, ServicePoint, SiteStatus, SpKind, SpStatus, Switch,
};
use crate::formats::ImportRecord;

/// The random stream of the reference data.
const STREAM: u64 = 1;

/// Customers per building: every eighth block of customers shares one.
const CUSTOMERS_PER_BUILDING: usize = 8;

/// Divisions the service points are spread over.
const DIVISIONS: &[&str] = &["NORTH", "SOUTH", "EAST", "WEST"];

/// The device a service point has, as the §2.2 decision tables classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// No device installed.
    Empty,
    /// A manual (not smart) meter or item.
    Manual,
    /// A smart meter not yet commissioned (S-).
    SmartNew,
    /// A smart, commissioned meter (S+).
    Smart,
}

/// What the planner believes a service point looks like at a point of its story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The installed device's class.
    pub class: Class,
    /// Whether the device is switched on.
    pub on: bool,
    /// Whether the service point is connected at the source.
    pub src: bool,
    /// The installed device's id.
    pub device: Option<String>,
    /// The billing account served.
    pub account: String,
}

/// One customer.
#[derive(Debug, Clone)]
pub struct CustomerPlan {
    /// The customer record.
    pub record: Customer,
    /// Indexes of its service points in [`World::sps`].
    pub sps: Vec<usize>,
}

/// One service point as first imported.
#[derive(Debug, Clone)]
pub struct SpPlan {
    /// The service point record.
    pub record: ServicePoint,
    /// The device it starts with.
    pub device: Option<Device>,
    /// Index of its customer in [`World::customers`].
    pub customer: usize,
    /// The snapshot it starts with.
    pub initial: Snapshot,
}

/// The reference data of the whole world.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Customers, in id order.
    pub customers: Vec<CustomerPlan>,
    /// Service points, in id order.
    pub sps: Vec<SpPlan>,
    /// Buildings, in id order.
    pub buildings: Vec<Building>,
    /// The next device number (devices the field installs continue the sequence).
    pub next_device: u64,
}

impl World {
    /// Generates `customers` customers from `seed`.
    pub fn generate(seed: u64, customers: usize, names: &Names) -> World {
        let mut world = World {
            next_device: 1,
            ..World::default()
        };
        let mut next_account = 1;
        for c in 0..customers {
            let mut rng = SplitMix64::derive(seed, STREAM, c as u64);
            let first = *rng.pick(&names.first);
            let last = *rng.pick(&names.last);
            let accounts = 1 + rng.weighted(&[50, 35, 15]);
            let billing_accounts: Vec<String> = (0..accounts)
                .map(|_| {
                    next_account += 1;
                    format!("BA-{}", next_account - 1)
                })
                .collect();
            let building = rng.percent(25).then(|| {
                let index = c / CUSTOMERS_PER_BUILDING;
                while world.buildings.len() <= index {
                    let n = world.buildings.len();
                    world.buildings.push(Building {
                        id: format!("BLD-{}", n + 1),
                        name: format!("{} Court", names.streets[n % names.streets.len()]),
                        // Some landlords manage move-in/out work themselves (§6.2, TV-19 d).
                        wo_disable: n % 10 == 3,
                    });
                }
                world.buildings[index].id.clone()
            });
            let record = Customer {
                id: format!("C-{}", c + 1),
                name: format!("{first} {last}"),
                // Customer 2 is always on life support so every small world shows the rule.
                life_support: c == 1 || rng.percent(3),
                billing_accounts,
                phone: Some(format!("555-{:04}", rng.below(10_000))),
                email: Some(format!(
                    "{}.{}{}@example.org",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase(),
                    c + 1
                )),
            };
            let count = 1 + rng.weighted(&[60, 40]);
            let mut sps = Vec::with_capacity(count);
            for k in 0..count {
                let index = world.sps.len();
                let account =
                    record.billing_accounts[k.min(record.billing_accounts.len() - 1)].clone();
                let mut draft = world.service_point(&mut rng, names, index, c, &record.id, account);
                draft.building = building.clone();
                world.sps.push(draft.finish());
                sps.push(index);
            }
            world.customers.push(CustomerPlan { record, sps });
        }
        world
    }

    fn service_point(
        &mut self,
        rng: &mut SplitMix64,
        names: &Names,
        index: usize,
        customer: usize,
        customer_id: &str,
        account: String,
    ) -> SpDraft {
        let kind = if rng.percent(6) {
            SpKind::Item
        } else {
            SpKind::Meter
        };
        // The fourth service point is always inactive, so even a small world has one to refuse.
        let active = index != 3 && !rng.percent(2);
        let class = match kind {
            SpKind::Item if rng.percent(85) => Class::Manual,
            SpKind::Item => Class::Empty,
            SpKind::Meter => match rng.weighted(&[12, 36, 14, 38]) {
                0 => Class::Empty,
                1 => Class::Manual,
                2 => Class::SmartNew,
                _ => Class::Smart,
            },
        };
        let on = class != Class::Empty && rng.percent(80);
        // Items have no "connect at source" tasks (§2.1), so an item is always connected.
        let src = kind == SpKind::Item || class != Class::Empty || rng.percent(50);
        let device = (class != Class::Empty).then(|| {
            let n = self.next_device;
            self.next_device += 1;
            Device {
                id: format!("D-{n}"),
                badge: format!("B-{}", 100_000 + n),
                smart: matches!(class, Class::SmartNew | Class::Smart),
                commissioned: class == Class::Smart,
                switch: if on { Switch::On } else { Switch::Off },
                head_end_capable: None,
                last_readings: Vec::new(),
            }
        });
        let site_status = match rng.weighted(&[70, 25, 5]) {
            0 if on => Some(SiteStatus::Energised),
            0 | 1 => None,
            _ => Some(SiteStatus::DeEnergised),
        };
        let record = ServicePoint {
            id: format!("SP-{}", index + 1),
            sp_kind: kind,
            status: if active {
                SpStatus::Active
            } else {
                SpStatus::Inactive
            },
            connected_at_source: src,
            division: (*rng.pick(DIVISIONS)).to_string(),
            address: format!("{} {}", rng.between(10, 9899), rng.pick(&names.streets)),
            customer: Some(customer_id.to_string()),
            account: Some(account.clone()),
            building: None,
            site_status,
            device: device.as_ref().map(|d| d.id.clone()),
        };
        SpDraft {
            initial: Snapshot {
                class,
                on,
                src,
                device: device.as_ref().map(|d| d.id.clone()),
                account,
            },
            record,
            device,
            customer,
            building: None,
        }
    }

    /// The import records of the reference data: buildings, customers, then service points.
    pub fn records(&self) -> Vec<ImportRecord> {
        let mut records =
            Vec::with_capacity(self.buildings.len() + self.customers.len() + self.sps.len());
        records.extend(self.buildings.iter().cloned().map(ImportRecord::Building));
        records.extend(
            self.customers
                .iter()
                .map(|c| ImportRecord::Customer(c.record.clone())),
        );
        records.extend(self.sps.iter().map(|sp| ImportRecord::ServicePoint {
            sp: sp.record.clone(),
            device: sp.device.clone(),
        }));
        records
    }
}

/// A service point before its building is known.
struct SpDraft {
    record: ServicePoint,
    device: Option<Device>,
    customer: usize,
    initial: Snapshot,
    building: Option<String>,
}

impl SpDraft {
    fn finish(self) -> SpPlan {
        SpPlan {
            record: ServicePoint {
                building: self.building,
                ..self.record
            },
            device: self.device,
            customer: self.customer,
            initial: self.initial,
        }
    }
}
