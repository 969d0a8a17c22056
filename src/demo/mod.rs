//! The deterministic demo world (`orderdesk demo`): customers with several billing accounts,
//! service points with every kind of device, three years of requests run through the real
//! lifecycle, open and failed work of every kind at `now`, work orders in every status, and
//! three years of customer activity feed.
//!
//! Everything goes through the engine's public API, at chosen instants before `now`: records are
//! imported, monitor passes and the throttle batch run, the simulated field work system and
//! head-end answer through [`Engine::inbound`] (in batches, so a large world does not pay one
//! transaction per answer), and operators (ada the supervisor, bo the clerk, sue from support)
//! retry, discard, cancel, update and work the queue. So every record rests in a state the rules
//! reached. The world depends only on the seed, the number of customers, `now` and the
//! configuration: a SplitMix64 random stream per customer and service point, no wall clock, no
//! hash-map order.
//!
//! The world is meant for `assets/demo/config.toml` (America/Chicago, operators ada, bo and sue);
//! any configuration works, the stories then follow its rules.

mod feed;
mod field;
mod names;
mod plan;
mod rng;
mod workorders;
mod world;

use crate::domain::{ActivityType, CollectionData, Contact, Instant, RequestInfo, Role};
use crate::engine::{Actor, Engine, EngineError};
use crate::formats::{ImportRecord, InboundMessage, RequestRecord};
use crate::lifecycle::{MaintState, OrchState};
use crate::store::{scan_prefix, text_prefix, TreeId};
use crate::throttle::{business_adjust, truncate_to_minute, BusinessHours};
use chrono::{Duration, NaiveDate, TimeZone};
use field::Answering;
use names::Names;
use plan::{FollowUp, Planned, Script, Stage, Variant, HISTORY_EPOCHS};
use rng::SplitMix64;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use world::World;

/// The size of the world the desk creates on a missing database.
pub const DEFAULT_CUSTOMERS: usize = 200;

/// Records per import call: big enough to amortise the flush, small enough to keep one
/// transaction's memory modest.
const IMPORT_CHUNK: usize = 10_000;

/// Up to this many customers, every story that calls for an operator gets one.
const OPERATOR_CUSTOMERS: usize = 2_000;

/// Customers whose feed is generated and imported together (about 10,000 items).
const FEED_CUSTOMERS_PER_IMPORT: usize = 100;

/// At most this many monitor passes settle one stage; stories need at most five.
const MAX_ROUNDS: usize = 10;

/// Simulated answers per engine transaction.
const ANSWER_BATCH: usize = 1_000;

/// The random stream of the answers.
const ANSWER_STREAM: u64 = 3;

/// What to build.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// How many customers.
    pub customers: usize,
    /// The engine time the world is built up to; every record is dated before it.
    pub now: Instant,
}

/// What was built.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DemoSummary {
    /// The seed.
    pub seed: u64,
    /// Customers created.
    pub customers: usize,
    /// Billing accounts across all customers.
    pub billing_accounts: usize,
    /// Service points created.
    pub service_points: usize,
    /// Requests imported.
    pub requests: usize,
    /// Every activity in the store: orchestrations, maintenance activities and their children.
    pub activities: usize,
    /// Orchestration and maintenance activities (what `list` shows).
    pub top_level: usize,
    /// Top-level activities by state code.
    pub states: BTreeMap<String, usize>,
    /// Outbound and inbound communications.
    pub communications: usize,
    /// Simulated answers from the field work system, the head-end and partners.
    pub answers: usize,
    /// Operator actions taken (retry, discard, cancel, update, work-order actions).
    pub operator_actions: usize,
    /// Operator actions the engine refused (each is in the audit log).
    pub refused: usize,
    /// Work orders created.
    pub work_orders: usize,
    /// Work orders open in the queue.
    pub open_work_orders: usize,
    /// Customer activity feed items imported.
    pub feed_items: usize,
}

/// Builds the demo world into `engine`, reporting progress through `progress`.
pub fn build(
    engine: &mut Engine,
    options: &DemoOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<DemoSummary, EngineError> {
    let names = Names::bundled();
    let timeline = Timeline::new(options.now, engine);
    progress(&format!("planning {} customers", options.customers));
    let world = World::generate(options.seed, options.customers, &names);
    let share = operator_share(options.customers);
    let planned = plan::plan(&world, options.seed, share);
    let mut desk = Desk {
        engine,
        names: &names,
        world: &world,
        timeline: &timeline,
        rng: SplitMix64::derive(options.seed, ANSWER_STREAM, 0),
        answering: BTreeMap::new(),
        maintenance: BTreeMap::new(),
        handled: BTreeSet::new(),
        summary: DemoSummary {
            seed: options.seed,
            customers: world.customers.len(),
            billing_accounts: world
                .customers
                .iter()
                .map(|c| c.record.billing_accounts.len())
                .sum(),
            service_points: world.sps.len(),
            ..DemoSummary::default()
        },
        progress,
    };
    desk.import_bulk("reference data", timeline.reference, world.records())?;
    let mut stages: Vec<Stage> = (0..HISTORY_EPOCHS).map(Stage::History).collect();
    stages.extend([Stage::Expired, Stage::Field, Stage::HeadEnd, Stage::Pending]);
    let work_orders = workorders::plan(&world, options.seed, share);
    let mut rest = planned.as_slice();
    for stage in stages {
        let split = rest
            .iter()
            .position(|p| p.stage != stage)
            .unwrap_or(rest.len());
        let (now_due, later) = rest.split_at(split);
        rest = later;
        match stage {
            Stage::Expired => {
                // Work orders are created in the fortnight before `now`, before today's work.
                workorders::run(&mut desk, &work_orders, 0)?;
                workorders::run(&mut desk, &work_orders, 1)?;
            }
            Stage::HeadEnd => workorders::run(&mut desk, &work_orders, 2)?,
            Stage::Pending => desk.import_feed(options.seed)?,
            _ => {}
        }
        desk.run_stage(stage, now_due)?;
    }
    // The history was sent and answered long ago: only what is still in flight is left for the
    // desk's sender, so opening the desk does not re-hand years of messages.
    (desk.progress)("settling answered messages");
    desk.engine.settle_answered(options.now)?;
    desk.finish()
}

/// The instants the world is built at, all before `now`.
pub(crate) struct Timeline {
    /// The configured time zone.
    pub tz: chrono_tz::Tz,
    /// `now`, truncated to the minute.
    pub now: Instant,
    /// The monthly history epochs, oldest first, each in business hours on a workday.
    pub history: Vec<Instant>,
    /// When the reference data is imported.
    pub reference: Instant,
    /// When the work orders are created, in three waves.
    pub work_orders: [Instant; 3],
    /// Four days ago.
    pub expired: Instant,
    /// A day ago.
    pub field: Instant,
    /// Half an hour ago.
    pub head_end: Instant,
    /// When the feed is imported.
    pub feed: Instant,
    /// Two minutes ago.
    pub pending: Instant,
}

impl Timeline {
    fn new(now: Instant, engine: &Engine) -> Timeline {
        let config = engine.config();
        let tz = config.timezone;
        let now = truncate_to_minute(now);
        let cut = config.type_config(ActivityType::CutForNonPayment);
        // History runs in office hours on a workday, so a smart meter's cut is due at once.
        let hours = BusinessHours {
            ensure: true,
            ..cut.hours
        };
        let calendar = config.calendar_for(ActivityType::CutForNonPayment);
        let today = now.with_timezone(&tz).date_naive();
        let history = (0..HISTORY_EPOCHS)
            .map(|j| {
                let date = today - Duration::days(30 * (HISTORY_EPOCHS - j) as i64);
                let ten = local_instant(date, 10, tz).unwrap_or(now);
                business_adjust(ten, &hours, calendar, tz).min(now - Duration::days(20))
            })
            .collect::<Vec<_>>();
        Timeline {
            tz,
            now,
            reference: history[0] - Duration::days(5),
            history,
            work_orders: [
                now - Duration::days(12),
                now - Duration::days(5),
                now - Duration::hours(6),
            ],
            expired: now - Duration::days(4),
            field: now - Duration::hours(26),
            head_end: now - Duration::minutes(30),
            feed: now - Duration::minutes(8),
            pending: now - Duration::minutes(2),
        }
    }

    /// When a stage's requests enter the engine, and when its operators act afterwards.
    fn stage(&self, stage: Stage) -> (Instant, Instant) {
        match stage {
            Stage::History(j) => (self.history[j], self.history[j] + Duration::hours(1)),
            Stage::Expired => (self.expired, self.expired + Duration::hours(1)),
            // Two hours on, unanswered messages have timed out (60 minutes by default).
            Stage::Field => (self.field, self.field + Duration::hours(2)),
            Stage::HeadEnd => (self.head_end, self.head_end + Duration::minutes(10)),
            Stage::Pending => (self.pending, self.pending),
        }
    }
}

/// `hour`:00 local time on `date`, if that exists.
fn local_instant(date: NaiveDate, hour: u32, tz: chrono_tz::Tz) -> Option<Instant> {
    let local = date.and_hms_opt(hour, 0, 0)?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The operators of the demo desk.
fn operator(name: &str, role: Role) -> Actor {
    Actor {
        operator: name.into(),
        role: Some(role),
        divisions: Vec::new(),
        read_only: false,
        channel: None,
        account: None,
    }
}

/// The engine being filled, with the simulators' and operators' state.
pub(crate) struct Desk<'a> {
    engine: &'a mut Engine,
    names: &'a Names,
    world: &'a World,
    timeline: &'a Timeline,
    rng: SplitMix64,
    /// How the field and head-end answer each service point's communications this stage.
    answering: BTreeMap<String, Answering>,
    /// Maintenance activities whose messages the field acknowledges (`true`) or ignores.
    maintenance: BTreeMap<String, bool>,
    /// Communications already answered under a script (a changed script answers again).
    handled: BTreeSet<(String, Script)>,
    summary: DemoSummary,
    progress: &'a mut dyn FnMut(&str),
}

impl Desk<'_> {
    /// Imports `records` in chunks at `at`.
    fn import(
        &mut self,
        what: &str,
        at: Instant,
        records: Vec<ImportRecord>,
    ) -> Result<Vec<String>, EngineError> {
        let total = records.len();
        let mut ids = Vec::with_capacity(total);
        let mut records = records.into_iter().enumerate().map(|(i, r)| (i + 1, r));
        let mut done = 0;
        loop {
            let chunk: Vec<(usize, ImportRecord)> = records.by_ref().take(IMPORT_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            done += chunk.len();
            let created = self.engine.import(&Actor::system(), at, chunk)?;
            ids.extend(created.into_iter().map(|c| c.id));
            if total > IMPORT_CHUNK {
                (self.progress)(&format!("{what}: {done}/{total}"));
            }
        }
        Ok(ids)
    }

    /// Imports reference data through the bulk import, in its slices.
    fn import_bulk(
        &mut self,
        what: &str,
        at: Instant,
        records: Vec<ImportRecord>,
    ) -> Result<(), EngineError> {
        let records = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r))
            .collect();
        let progress = &mut self.progress;
        self.engine
            .import_bulk(&Actor::system(), at, records, None, &mut |done, total| {
                if total > crate::engine::BULK_SLICE {
                    progress(&format!("{what}: {done}/{total}"));
                }
            })?;
        Ok(())
    }

    /// Imports every customer's feed, generated a slice of customers at a time so a large
    /// world never holds its millions of items in memory at once.
    fn import_feed(&mut self, seed: u64) -> Result<(), EngineError> {
        let customers = self.world.customers.len();
        let mut start = 0;
        while start < customers {
            let end = (start + FEED_CUSTOMERS_PER_IMPORT).min(customers);
            let items = feed::generate(self.world, self.names, seed, self.timeline, start..end);
            self.summary.feed_items += items.len();
            let records = items
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i + 1, r))
                .collect();
            self.engine.import_bulk(
                &Actor::system(),
                self.timeline.feed,
                records,
                None,
                &mut |_, _| {},
            )?;
            if (start / FEED_CUSTOMERS_PER_IMPORT) % 100 == 0 || end == customers {
                (self.progress)(&format!("feed: {end}/{customers} customers"));
            }
            start = end;
        }
        Ok(())
    }

    /// Runs one stage: its requests arrive, the desk works them to rest, operators follow up.
    fn run_stage(&mut self, stage: Stage, planned: &[Planned]) -> Result<(), EngineError> {
        let (at, follow_at) = self.timeline.stage(stage);
        let history = matches!(stage, Stage::History(_));
        if let Stage::History(j) = stage {
            if j % 6 == 0 {
                (self.progress)(&format!("history: month {}/{HISTORY_EPOCHS}", j + 1));
            }
        } else {
            let what = match stage {
                Stage::Expired => "four days ago",
                Stage::Field => "yesterday",
                Stage::HeadEnd => "half an hour ago",
                _ => "just now",
            };
            (self.progress)(&format!("requests {what}: {}", planned.len()));
        }
        self.answering.clear();
        self.handled.clear();
        let records: Vec<ImportRecord> = planned
            .iter()
            .enumerate()
            .map(|(i, p)| ImportRecord::Request(self.request(p, at, i)))
            .collect();
        for p in planned {
            let sp = self.world.sps[p.sp].record.id.clone();
            // A duplicate never gets children: its original's script decides.
            self.answering.entry(sp).or_insert_with(|| Answering {
                script: p.script,
                new_device: p.new_device.clone(),
            });
        }
        self.summary.requests += records.len();
        let ids = self.import("requests", at, records)?;
        if stage == Stage::Pending {
            // Requests that no monitor pass has seen yet: nothing else happens to them.
            return Ok(());
        }
        self.settle(at, history)?;
        let follow_ups = planned.iter().any(|p| p.follow_up != FollowUp::None);
        if follow_ups {
            self.follow_up(planned, &ids, follow_at)?;
        }
        // Outside history the later pass also lets unanswered messages time out.
        if follow_ups || !history {
            self.settle(follow_at, history)?;
        }
        Ok(())
    }

    /// The record of a planned request.
    fn request(&self, p: &Planned, at: Instant, index: usize) -> RequestRecord {
        let sp = &self.world.sps[p.sp];
        let customer = &self.world.customers[sp.customer].record;
        let number = p.sp * 100 + index % 100;
        let received = at - Duration::minutes(i64::from(p.received_minutes_before));
        let t = p.kind;
        let needs_agreement = matches!(t, ActivityType::EnableService | ActivityType::BackToBack)
            || (t == ActivityType::DisableService && p.sp % 2 == 0);
        let mut r = RequestRecord {
            id: None,
            request_type: t,
            sp: match p.variant {
                Variant::UnknownSp => format!("{}-OLD", sp.record.id),
                _ => sp.record.id.clone(),
            },
            service_datetime: received,
            effective_datetime: p
                .effective_in_days
                .map(|d| self.timeline.now + Duration::days(i64::from(d)) + Duration::hours(2)),
            service_agreements: if needs_agreement && p.variant != Variant::NoAgreement {
                vec![format!("SA-{}", sp.record.id.trim_start_matches("SP-"))]
            } else {
                Vec::new()
            },
            request_info: RequestInfo {
                requester: "CCB".into(),
                external_system: "CCB".into(),
                external_id: format!("CCB-{}-{number}", at.format("%Y%m%d")),
            },
            collection_data: None,
            contact: (p.sp % 3 != 0).then(|| Contact {
                name: Some(customer.name.clone()),
                phone: customer.phone.clone(),
                email: None,
            }),
            comments: None,
            old_device_id: None,
            new_device: None,
            connect_new_device: None,
            outgoing_customer: None,
            incoming_customer: None,
            incoming_account: None,
            read_required: None,
        };
        match t {
            ActivityType::CutForNonPayment => {
                let amount = if p.variant == Variant::ZeroArrears {
                    "0.00".to_string()
                } else {
                    arrears(p.sp, index)
                };
                r.collection_data = Some(CollectionData {
                    past_due_amount: Some(amount),
                    currency: Some("USD".into()),
                    collection_ref: Some(format!("COL-{number}")),
                    due_date: Some(
                        (received - Duration::days(30))
                            .format("%Y-%m-%d")
                            .to_string(),
                    ),
                });
            }
            ActivityType::ExchangeMeter => {
                r.old_device_id = p.old_device.clone();
                r.new_device = p.new_device.clone();
                r.comments = Some("AMI upgrade programme".into());
            }
            ActivityType::BackToBack => {
                r.outgoing_customer = Some(customer.id.clone());
                r.incoming_customer = Some(customer.id.clone());
                r.incoming_account = p.incoming_account.clone();
                r.read_required = Some(true);
            }
            _ => {}
        }
        r
    }

    /// Monitor passes, the throttle batch (history only) and the simulators' answers, until
    /// nothing is left to answer.
    fn settle(&mut self, from: Instant, history: bool) -> Result<(), EngineError> {
        let system = Actor::system();
        let mut at = from;
        for _ in 0..MAX_ROUNDS {
            self.engine.tick(&system, at)?;
            // In the past the batch ran with the throttle off, so history never waits for it;
            // today's smart-meter cuts wait for the desk's own batch.
            if history && self.throttled_waiting()? {
                self.engine.crwto(&system, at, Some(false))?;
            }
            if self.answer(at)? == 0 {
                break;
            }
            at += Duration::minutes(2);
        }
        Ok(())
    }

    /// True when a throttled command waits for the batch.
    fn throttled_waiting(&self) -> Result<bool, EngineError> {
        let store = self.engine.store();
        Ok(!store
            .range(TreeId::WaitingCmds, &[], None, 1, false)?
            .is_empty())
    }

    /// Answers what awaits a response, per the scripts; returns how many messages were sent.
    fn answer(&mut self, at: Instant) -> Result<usize, EngineError> {
        let outbox = self.engine.outbox(false)?;
        let mut messages = Vec::new();
        // Maintenance messages first: an update is acknowledged before the work it changes is
        // reported done, as a real field system would.
        for maintenance_pass in [true, false] {
            for comm in &outbox {
                let is_maintenance = matches!(comm.message.as_str(), "fa_cancel" | "fa_modify");
                if is_maintenance != maintenance_pass {
                    continue;
                }
                if is_maintenance {
                    let owner = comm.activity.clone().unwrap_or_default();
                    let key = (comm.id.clone(), Script::Complete);
                    if self.maintenance.get(&owner) == Some(&true) && self.handled.insert(key) {
                        messages.push(field::acknowledge(comm));
                    }
                    continue;
                }
                let Some(sp) = comm.payload.get("sp").and_then(|s| s.as_str()) else {
                    continue;
                };
                let Some(answering) = self.answering.get(sp) else {
                    continue;
                };
                if !self.handled.insert((comm.id.clone(), answering.script)) {
                    continue;
                }
                messages.extend(field::answer_field_or_head_end(
                    comm,
                    answering,
                    at,
                    &mut self.rng,
                    self.names,
                ));
            }
        }
        let sent = messages.len();
        self.deliver(at, messages)?;
        self.summary.answers += sent;
        Ok(sent)
    }

    /// Hands the simulators' messages to the engine, many per transaction rather than one each
    /// (the audit log gets one `inbound` line per batch, by the system operator).
    fn deliver(&mut self, at: Instant, messages: Vec<InboundMessage>) -> Result<(), EngineError> {
        let mut messages = messages.into_iter().enumerate().map(|(i, m)| (i + 1, m));
        loop {
            let batch: Vec<(usize, InboundMessage)> =
                messages.by_ref().take(ANSWER_BATCH).collect();
            if batch.is_empty() {
                return Ok(());
            }
            self.engine.inbound(&Actor::system(), at, batch)?;
        }
    }

    /// What the operators do once the stage's requests have come to rest.
    fn follow_up(
        &mut self,
        planned: &[Planned],
        ids: &[String],
        at: Instant,
    ) -> Result<(), EngineError> {
        let ada = operator("ada", Role::Supervisor);
        let bo = operator("bo", Role::Clerk);
        let sue = operator("sue", Role::Support);
        for (index, (p, id)) in planned.iter().zip(ids).enumerate() {
            let sp = self.world.sps[p.sp].record.id.clone();
            let outcome = match p.follow_up {
                FollowUp::None => continue,
                FollowUp::Discard => self
                    .engine
                    .discard(&ada, at, id, Some("duplicate of a corrected request"))
                    .map(drop),
                FollowUp::EditRetry => {
                    let fix = [(
                        "collection_data.past_due_amount".to_string(),
                        arrears(p.sp, index),
                    )];
                    self.engine
                        .edit(&bo, at, id, &fix)
                        .and_then(|_| self.engine.retry(&ada, at, id))
                        .map(drop)
                }
                FollowUp::Retry => {
                    self.set_script(&sp, Script::Complete);
                    self.engine.retry(&sue, at, id).map(drop)
                }
                FollowUp::Cancel { ack } => {
                    self.engine.cancel(&ada, at, id, "CR", None).map(|filed| {
                        self.maintenance.insert(filed.id, ack);
                    })
                }
                FollowUp::UpdateField { then_complete } => {
                    let Some(fa) = self.field_in_progress(id)? else {
                        continue;
                    };
                    let start = at + Duration::days(1);
                    let filed = self.engine.update(
                        &bo,
                        at,
                        id,
                        "Dog on premises: call the customer 30 minutes ahead",
                        Some(start),
                        Some(&fa),
                    );
                    if then_complete {
                        self.set_script(&sp, Script::Complete);
                    }
                    filed.map(|filed| {
                        self.maintenance.insert(filed.id, true);
                    })
                }
                FollowUp::UpdateWaiting => {
                    let later = self.timeline.now + Duration::days(14);
                    self.engine
                        .update(
                            &bo,
                            at,
                            id,
                            "customer asked for a later date",
                            Some(later),
                            None,
                        )
                        .map(drop)
                }
                FollowUp::UpdateFinal => self
                    .engine
                    .update(&bo, at, id, "please read the meter again", None, None)
                    .map(drop),
            };
            self.count_action(outcome)?;
        }
        Ok(())
    }

    /// Counts an operator action; a refusal is part of the story (it is audited), anything
    /// else stops the build.
    fn count_action(&mut self, outcome: Result<(), EngineError>) -> Result<(), EngineError> {
        match outcome {
            Ok(()) => self.summary.operator_actions += 1,
            Err(EngineError::Refused { .. } | EngineError::BadInput(_)) => {
                self.summary.refused += 1
            }
            Err(other) => return Err(other),
        }
        Ok(())
    }

    fn set_script(&mut self, sp: &str, script: Script) {
        if let Some(answering) = self.answering.get_mut(sp) {
            answering.script = script;
        }
    }

    /// The field activity of `id` that is out in the field, if any.
    fn field_in_progress(&self, id: &str) -> Result<Option<String>, EngineError> {
        let tree = self.engine.show(&Actor::system(), id)?;
        Ok(tree
            .children
            .iter()
            .find(|c| c.id.starts_with("FA-") && c.state == "COMM_IN_PROGRESS")
            .map(|c| c.id.clone()))
    }

    /// The summary, with the counts read back from the store.
    fn finish(mut self) -> Result<DemoSummary, EngineError> {
        let store = self.engine.store();
        self.summary.activities = store.count(TreeId::Activities)?;
        self.summary.communications = store.count(TreeId::Comms)?;
        self.summary.work_orders = store.count(TreeId::WorkOrders)?;
        self.summary.open_work_orders = self.engine.queue_len()?;
        // Orchestrations and maintenance activities share most state codes.
        let codes: BTreeSet<&str> = OrchState::ALL
            .iter()
            .map(|s| s.code())
            .chain(MaintState::ALL.iter().map(|s| s.code()))
            .collect();
        let mut states = BTreeMap::new();
        for code in codes {
            let n = scan_prefix(store, TreeId::ByState, &text_prefix(code), usize::MAX)?.len();
            if n > 0 {
                states.insert(code.to_string(), n);
            }
        }
        self.summary.top_level = states.values().sum();
        self.summary.states = states;
        self.engine.flush()?;
        Ok(self.summary)
    }
}

/// The share (per mille) of stories that involve an operator. Each operator action is flushed
/// to disk on its own, so worlds beyond [`OPERATOR_CUSTOMERS`] keep about the same number of
/// them in all instead of the same share: a large world builds in minutes.
fn operator_share(customers: usize) -> u64 {
    let customers = customers.max(1) as u64;
    (1000 * OPERATOR_CUSTOMERS as u64 / customers).min(1000)
}

/// A past-due amount that looks like arrears: 40.00 to 640.99 dollars.
fn arrears(sp: usize, index: usize) -> String {
    let mut rng = SplitMix64::new((sp as u64) << 20 | index as u64);
    format!("{}.{:02}", rng.between(40, 640), rng.below(100))
}
