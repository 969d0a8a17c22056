//! Work orders for the open queue (§6): move-outs and move-ins that create (and cancel) them by
//! the §6.2 rules, manual and automatic orders, and the clerks and partners who dispatch, book,
//! complete and cancel them. Three waves in the fortnight before `now`.

use super::rng::SplitMix64;
use super::world::World;
use super::{operator, Desk};
use crate::domain::Role;
use crate::engine::EngineError;
use crate::formats::{ImportRecord, InboundMessage, MoveRecord, WorkOrderRecord};
use crate::workorders::{Assignee, WoKind, WoOrigin, WoStatus};
use chrono::Duration;

/// The random stream of the work orders.
const STREAM: u64 = 4;

/// Ids per bulk complete or cancel: one clerk's selection of a busy morning.
const BULK: usize = 500;

/// How a work order comes about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Creation {
    /// The customer moves out (a disconnection, unless §6.2 says no).
    MoveOut { days_ago: i64 },
    /// The customer moves in (a reconnection; an active disconnection is cancelled).
    MoveIn { days_ahead: i64 },
    /// Created by hand or automatically (a special read).
    Record {
        kind: WoKind,
        origin: WoOrigin,
        preferred_in_days: Option<i64>,
    },
}

/// Where a work order ends up, and who moves it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Left NEW.
    New,
    /// Left NEW, scheduled for ada (her "mine" view).
    ScheduledForAda,
    /// A technician is assigned: the order is emailed and SENT.
    Technician { internal: bool, for_ada: bool },
    /// Assigned to the partner (UST) by a clerk: SENT.
    PartnerAssigned,
    /// The partner reports it SENT.
    PartnerSent,
    /// The partner reports it SENT, then SETUP.
    PartnerSetup,
    /// The partner reports it SENT, then COMPLETED.
    PartnerCompleted,
    /// A clerk completes it in a bulk action.
    BulkCompleted,
    /// A clerk cancels it in a bulk action.
    BulkCancelled,
}

/// One planned work order.
#[derive(Debug, Clone)]
pub struct WoPlan {
    wave: usize,
    customer: usize,
    sp: usize,
    creation: Creation,
    outcome: Outcome,
}

/// Every customer's work orders, in customer order; `share` (per mille) scales the orders a
/// clerk assigns by hand, the rest are dispatched by the partner.
pub fn plan(world: &World, seed: u64, share: u64) -> Vec<WoPlan> {
    let rest = 1000 - share.min(1000);
    // Weights in 1/1,000,000 of: new, scheduled for ada, technician, partner assigned,
    // partner sent, partner setup, partner completed, bulk completed, bulk cancelled.
    let weights = [
        26_000 + 10 * rest,
        10 * share,
        12 * share,
        5 * share,
        8_000 + 17 * rest,
        16_000,
        6_000,
        10_000,
        7_000,
    ];
    let mut out = Vec::new();
    for (customer, c) in world.customers.iter().enumerate() {
        let mut rng = SplitMix64::derive(seed, STREAM, customer as u64);
        let count = 1 + rng.weighted(&[15, 35, 35, 15]);
        for _ in 0..count {
            let sp = *rng.pick(&c.sps);
            let wave = rng.below(3) as usize;
            let creation = match rng.weighted(&[25, 12, 63]) {
                0 => Creation::MoveOut {
                    days_ago: rng.between(0, 5) as i64,
                },
                1 => Creation::MoveIn {
                    days_ahead: rng.between(1, 10) as i64,
                },
                _ => {
                    let (kind, origin) = *rng.pick(&[
                        (WoKind::NonPaymentDisconnection, WoOrigin::Manual),
                        (WoKind::NonPaymentDisconnection, WoOrigin::Manual),
                        (WoKind::SpecialRead, WoOrigin::AutoSpecialRead),
                        (WoKind::SpecialRead, WoOrigin::AutoSpecialRead),
                        (WoKind::FinalRead, WoOrigin::Manual),
                        (WoKind::MeterInvestigation, WoOrigin::Manual),
                        (WoKind::Connection, WoOrigin::Manual),
                        (WoKind::Reconnection, WoOrigin::Manual),
                    ]);
                    Creation::Record {
                        kind,
                        origin,
                        preferred_in_days: (!rng.percent(10)).then(|| rng.between(1, 30) as i64),
                    }
                }
            };
            let outcome = match rng.weighted(&weights) {
                0 => Outcome::New,
                1 => Outcome::ScheduledForAda,
                2 => Outcome::Technician {
                    internal: rng.percent(60),
                    for_ada: rng.percent(30),
                },
                3 => Outcome::PartnerAssigned,
                4 => Outcome::PartnerSent,
                5 => Outcome::PartnerSetup,
                6 => Outcome::PartnerCompleted,
                7 => Outcome::BulkCompleted,
                _ => Outcome::BulkCancelled,
            };
            out.push(WoPlan {
                wave,
                customer,
                sp,
                creation,
                outcome,
            });
        }
    }
    out
}

/// Runs one wave: the records arrive, then clerks and the partner work the new orders.
pub fn run(desk: &mut Desk<'_>, plans: &[WoPlan], wave: usize) -> Result<(), EngineError> {
    let at = desk.timeline.work_orders[wave];
    let today = desk.timeline.local_date(at);
    let wave_plans: Vec<&WoPlan> = plans.iter().filter(|p| p.wave == wave).collect();
    (desk.progress)(&format!(
        "work orders, wave {}: {}",
        wave + 1,
        wave_plans.len()
    ));
    let records: Vec<ImportRecord> = wave_plans
        .iter()
        .map(|p| {
            let customer = desk.world.customers[p.customer].record.id.clone();
            let site = desk.world.sps[p.sp].record.id.clone();
            match p.creation {
                Creation::MoveOut { days_ago } => ImportRecord::MoveOut(MoveRecord {
                    customer,
                    site,
                    date: today - Duration::days(days_ago),
                }),
                Creation::MoveIn { days_ahead } => ImportRecord::MoveIn(MoveRecord {
                    customer,
                    site,
                    date: today + Duration::days(days_ahead),
                }),
                Creation::Record {
                    kind,
                    origin,
                    preferred_in_days,
                } => ImportRecord::WorkOrder(WorkOrderRecord {
                    id: None,
                    wo_kind: kind,
                    customer,
                    account: None,
                    site,
                    origin,
                    status: WoStatus::New,
                    preferred_date: preferred_in_days.map(|d| today + Duration::days(d)),
                }),
            }
        })
        .collect();
    let ids = desk.import("work orders", at, records)?;
    let act_at = at + Duration::minutes(30);
    let bo = operator("bo", Role::Clerk);
    let mut complete = Vec::new();
    let mut cancel = Vec::new();
    let mut partner_messages = Vec::new();
    for (p, id) in wave_plans.iter().zip(ids) {
        // A move the §6.2 rules turned down created nothing.
        if id.is_empty() {
            continue;
        }
        let partner = |status: WoStatus| InboundMessage::WoStatus {
            wo: id.clone(),
            status,
            source: Some("UST".into()),
            at: Some(act_at),
        };
        let messages = match p.outcome {
            Outcome::New => Vec::new(),
            Outcome::PartnerSent => vec![partner(WoStatus::Sent)],
            Outcome::PartnerSetup => vec![partner(WoStatus::Sent), partner(WoStatus::Setup)],
            Outcome::PartnerCompleted => {
                vec![partner(WoStatus::Sent), partner(WoStatus::Completed)]
            }
            Outcome::BulkCompleted => {
                complete.push(id.clone());
                Vec::new()
            }
            Outcome::BulkCancelled => {
                cancel.push(id.clone());
                Vec::new()
            }
            Outcome::ScheduledForAda | Outcome::Technician { .. } | Outcome::PartnerAssigned => {
                let (assignee, for_ada) = match p.outcome {
                    Outcome::Technician { internal, for_ada } => {
                        let name = *desk.rng.pick(&desk.names.agents);
                        let email = format!(
                            "{}@{}",
                            name.to_ascii_lowercase().replace(['.', ' '], ""),
                            if internal {
                                "utility.example"
                            } else {
                                "contractor.example"
                            }
                        );
                        let who = if internal {
                            Assignee::Internal {
                                name: name.into(),
                                email,
                            }
                        } else {
                            Assignee::External {
                                name: name.into(),
                                email,
                            }
                        };
                        (who, for_ada)
                    }
                    Outcome::PartnerAssigned => (Assignee::Partner, false),
                    _ => (Assignee::Unassigned, true),
                };
                let schedule = for_ada.then(|| "ada".to_string());
                let outcome = desk
                    .engine
                    .wo_assign(&bo, act_at, &id, assignee, schedule)
                    .map(drop);
                desk.count_action(outcome)?;
                Vec::new()
            }
        };
        desk.summary.answers += messages.len();
        partner_messages.extend(messages);
    }
    desk.deliver(act_at, partner_messages)?;
    let bulk_at = act_at + Duration::minutes(10);
    for ids in complete.chunks(BULK) {
        let outcome = desk.engine.wo_complete(&bo, bulk_at, ids).map(drop);
        desk.count_action(outcome)?;
    }
    for ids in cancel.chunks(BULK) {
        let outcome = desk
            .engine
            .wo_cancel(&bo, bulk_at, ids, "customer withdrew the request")
            .map(drop);
        desk.count_action(outcome)?;
    }
    Ok(())
}
