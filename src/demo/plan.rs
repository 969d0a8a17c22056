//! The story of every service point: a few requests over three years that the field and the
//! head-end carry out, then one recent request chosen to land in a particular state at rest.
//!
//! The planner follows each service point's device through the §2.2 decision tables (a
//! [`Snapshot`] per step), so it knows which request type leads to a field activity first,
//! which to a head-end command, and what a completed request leaves behind. The engine then
//! makes every decision itself; the plan only chooses inputs and answers.

use super::rng::SplitMix64;
use super::world::{Class, Snapshot, World};
use crate::domain::{ActivityType, DeviceSpec, SpKind, SpStatus};

/// The random stream of the plan.
const STREAM: u64 = 2;

/// Monthly history epochs, oldest first (the last is a month before `now`).
pub const HISTORY_EPOCHS: usize = 36;

/// When a request enters the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// A monthly epoch of the past three years (index into the history epochs).
    History(usize),
    /// Four days ago: field work that will have expired by now.
    Expired,
    /// A day ago: most of today's open and failed work.
    Field,
    /// Half an hour ago: answers still awaited from the field and the head-end.
    HeadEnd,
    /// Minutes ago: requests not yet picked up by a monitor pass.
    Pending,
}

/// How the simulated field work system and head-end answer a request's communications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Script {
    /// Every field activity is done and every command succeeds.
    Complete,
    /// Field activities are acknowledged and stay in the field; commands succeed.
    InField,
    /// Field activities are never acknowledged (still within the timeout at `now`).
    Unacked,
    /// The field work system refuses the field activity.
    FieldFault,
    /// The crew reports the work not done.
    NotDone,
    /// Field work is done; the head-end has not answered yet.
    HeadEndPending,
    /// Field work is done; the head-end faults the command (HE-TIMEOUT).
    HeadEndFault,
    /// Nobody answers anything, until the response timeout fires.
    Silent,
}

/// What an operator does once the request has come to rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// Nothing.
    None,
    /// A supervisor discards it.
    Discard,
    /// A clerk corrects the arrears and a supervisor retries it.
    EditRetry,
    /// Support retries it after a head-end fault; the head-end then answers.
    Retry,
    /// A supervisor files a Cancel Orchestration; the field acknowledges it when `ack`.
    Cancel {
        /// Whether the field work system acknowledges the cancel.
        ack: bool,
    },
    /// A clerk updates the field activity's instructions; the field acknowledges, then finishes
    /// the work when `then_complete`.
    UpdateField {
        /// Whether the crew completes the work after the update.
        then_complete: bool,
    },
    /// A clerk moves a waiting request's effective date.
    UpdateWaiting,
    /// A clerk files an update on a request that has already completed (refused in VALIDATE).
    UpdateFinal,
}

/// How a request record deviates from a well-formed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Well formed.
    Normal,
    /// A Cut for Non-Payment with zero arrears (MISSING_COLLECTION_DATA).
    ZeroArrears,
    /// An Enable Service without a service agreement (MISSING_SERVICE_AGREEMENT).
    NoAgreement,
    /// An Exchange Meter without the old device (MISSING_EXCHANGE_DEVICE).
    NoOldDevice,
    /// A service point the utility has since retired from its records (SP_NOT_FOUND).
    UnknownSp,
}

/// One request of a service point's story.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Index of the service point in the world.
    pub sp: usize,
    /// When it enters the engine.
    pub stage: Stage,
    /// The request type.
    pub kind: ActivityType,
    /// How its record deviates.
    pub variant: Variant,
    /// How the field and head-end answer it.
    pub script: Script,
    /// What an operator does afterwards.
    pub follow_up: FollowUp,
    /// Days after `now` it is to take effect (WAIT_EFF_DATE).
    pub effective_in_days: Option<u32>,
    /// The device to take out (exchange).
    pub old_device: Option<String>,
    /// The device the field installs (exchange, or an install for Enable Service).
    pub new_device: Option<DeviceSpec>,
    /// The billing account the site moves to (Back-to-Back).
    pub incoming_account: Option<String>,
    /// Minutes before its stage that the requester received it.
    pub received_minutes_before: u32,
}

/// The recent request a service point ends its story with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recent {
    Quiet,
    Completed,
    InField,
    Expired,
    Unacked,
    HeadEndPending,
    CnpWaiting,
    WaitEffDate,
    Pending,
    ZeroArrears,
    NoAgreement,
    Duplicate,
    Inactive,
    NoOldDevice,
    UnknownSp,
    HeadEndFault,
    FieldFault,
    NotDone,
    ResponseTimeout,
    NoDevice,
    Discarded,
    Cancelled,
    CancelTimeout,
    CancelInFlight,
    UpdateField,
    UpdateWaiting,
    UpdateFinal,
    Retried,
}

impl Recent {
    /// Every scenario with its weight among the service points.
    const ALL: &'static [(Recent, u64)] = &[
        (Recent::Quiet, 160),
        (Recent::Completed, 40),
        (Recent::InField, 30),
        (Recent::Expired, 8),
        (Recent::Unacked, 8),
        (Recent::HeadEndPending, 10),
        (Recent::CnpWaiting, 25),
        (Recent::WaitEffDate, 14),
        (Recent::Pending, 14),
        (Recent::ZeroArrears, 5),
        (Recent::NoAgreement, 4),
        (Recent::Duplicate, 4),
        (Recent::Inactive, 1),
        (Recent::NoOldDevice, 3),
        (Recent::UnknownSp, 2),
        (Recent::HeadEndFault, 6),
        (Recent::FieldFault, 5),
        (Recent::NotDone, 5),
        (Recent::ResponseTimeout, 4),
        (Recent::NoDevice, 3),
        (Recent::Discarded, 4),
        (Recent::Cancelled, 3),
        (Recent::CancelTimeout, 1),
        (Recent::CancelInFlight, 1),
        (Recent::UpdateField, 3),
        (Recent::UpdateWaiting, 2),
        (Recent::UpdateFinal, 1),
        (Recent::Retried, 2),
    ];
}

impl Recent {
    /// True when an operator acts in the scenario.
    fn has_operator(self) -> bool {
        matches!(
            self,
            Recent::Discarded
                | Recent::Cancelled
                | Recent::CancelTimeout
                | Recent::CancelInFlight
                | Recent::UpdateField
                | Recent::UpdateWaiting
                | Recent::UpdateFinal
                | Recent::Retried
        )
    }
}

/// What a request's first child must be for its script to mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any path that completes.
    Any,
    /// A field activity first.
    Field,
    /// A head-end command first (never a throttled disconnect).
    Command,
}

/// Plans every service point's story, sorted by stage (service point order inside a stage).
///
/// `share` (per mille) scales the stories in which an operator acts (see `operator_share`).
pub fn plan(world: &World, seed: u64, share: u64) -> Vec<Planned> {
    let mut planner = Planner {
        seen: Vec::new(),
        out: Vec::new(),
        share,
    };
    for index in 0..world.sps.len() {
        let mut rng = SplitMix64::derive(seed, STREAM, index as u64);
        let mut story = Story {
            world,
            index,
            kind: world.sps[index].record.sp_kind,
            snap: world.sps[index].initial.clone(),
            installs: 0,
            rng: &mut rng,
        };
        planner.service_point(&mut story);
    }
    // A stable sort keeps service point order inside a stage, and a duplicate after its original.
    planner.out.sort_by_key(|p| p.stage);
    planner.out
}

struct Planner {
    /// Recent scenarios used so far; an unseen one that fits is preferred, so that even a
    /// small world shows every state.
    seen: Vec<Recent>,
    out: Vec<Planned>,
    /// The share (per mille) of operator stories to keep.
    share: u64,
}

/// One service point being planned.
struct Story<'a> {
    world: &'a World,
    index: usize,
    kind: SpKind,
    snap: Snapshot,
    installs: u32,
    rng: &'a mut SplitMix64,
}

impl Story<'_> {
    /// A well-formed request of type `kind` at `stage`.
    fn request(&mut self, stage: Stage, kind: ActivityType) -> Planned {
        let received_minutes_before = match stage {
            Stage::History(_) => self.rng.between(30, 3 * 24 * 60) as u32,
            Stage::Pending => self.rng.between(0, 20) as u32,
            _ => self.rng.between(5, 90) as u32,
        };
        let mut p = Planned {
            sp: self.index,
            stage,
            kind,
            variant: Variant::Normal,
            script: Script::Complete,
            follow_up: FollowUp::None,
            effective_in_days: None,
            old_device: None,
            new_device: None,
            incoming_account: None,
            received_minutes_before,
        };
        self.fill_devices(&mut p);
        p
    }

    /// A request whose first step is what `need` asks for, with `script`; `None` when the
    /// device does not allow one.
    fn shaped(&mut self, stage: Stage, need: Need, script: Script) -> Option<Planned> {
        let mut kinds = match need {
            Need::Field => field_kinds(&self.snap, self.kind),
            Need::Command => command_kinds(&self.snap, self.kind),
            // Only history runs the throttle batch that a smart meter's cut waits for.
            Need::Any => complete_kinds(&self.snap, self.kind, matches!(stage, Stage::History(_))),
        };
        if need == Need::Any {
            // Upgrades and changes of account are rarer than the everyday connect and cut work.
            for (rare, percent) in [
                (ActivityType::ExchangeMeter, 30),
                (ActivityType::BackToBack, 40),
            ] {
                if kinds.len() > 1 && !self.rng.percent(percent) {
                    kinds.retain(|k| *k != rare);
                }
            }
        }
        if kinds.is_empty() {
            return None;
        }
        let kind = *self.rng.pick(&kinds);
        let mut p = self.request(stage, kind);
        p.script = script;
        Some(p)
    }

    /// The devices an exchange or an install uses, and the account a Back-to-Back moves to.
    fn fill_devices(&mut self, p: &mut Planned) {
        let smart_percent = match p.kind {
            ActivityType::ExchangeMeter => 85,
            ActivityType::EnableService if self.snap.class == Class::Empty => 70,
            ActivityType::BackToBack => {
                let accounts = &self.world.customers[self.world.sps[self.index].customer]
                    .record
                    .billing_accounts;
                // The site moves to another of the customer's accounts when there is one.
                let other = accounts.iter().find(|a| **a != self.snap.account);
                p.incoming_account = Some(other.unwrap_or(&self.snap.account).clone());
                return;
            }
            _ => return,
        };
        if p.kind == ActivityType::ExchangeMeter {
            p.old_device = self.snap.device.clone();
        }
        self.installs += 1;
        let smart = self.kind == SpKind::Meter && self.rng.percent(smart_percent);
        p.new_device = Some(DeviceSpec {
            id: format!("D-{}-{}", self.index + 1, self.installs),
            badge: format!("B-{}-{}", self.index + 1, self.installs),
            smart,
            commissioned: false,
            switch: None,
        });
    }
}

impl Planner {
    fn service_point(&mut self, s: &mut Story<'_>) {
        if s.world.sps[s.index].record.status == SpStatus::Inactive {
            if s.rng.percent(60) {
                let p = s.request(Stage::Field, ActivityType::EnableService);
                self.seen.push(Recent::Inactive);
                self.out.push(p);
            }
            return;
        }
        // The history: a few requests on distinct monthly epochs, oldest first.
        let count = s.rng.between(3, 8) as usize;
        let mut epochs: Vec<usize> = Vec::with_capacity(count);
        while epochs.len() < count {
            let e = s.rng.below(HISTORY_EPOCHS as u64) as usize;
            if !epochs.contains(&e) {
                epochs.push(e);
            }
        }
        epochs.sort_unstable();
        for e in epochs {
            let stage = Stage::History(e);
            // Weights in 1/100,000: discard, edit and retry, retry, cancel, update.
            let operator: Vec<u64> = [3000, 2000, 3000, 3000, 3000]
                .iter()
                .map(|w| w * self.share / 1000)
                .collect();
            let mut weights = vec![100_000 - operator.iter().sum::<u64>()];
            weights.extend(operator);
            let planned = match s.rng.weighted(&weights) {
                1 => {
                    // A malformed request a supervisor throws away.
                    let (t, variant) = if s.rng.percent(50) {
                        (ActivityType::CutForNonPayment, Variant::ZeroArrears)
                    } else {
                        (ActivityType::EnableService, Variant::NoAgreement)
                    };
                    let mut p = s.request(stage, t);
                    p.variant = variant;
                    p.follow_up = FollowUp::Discard;
                    Some((p, false))
                }
                2 if s.snap.on => {
                    // Arrears missing, corrected by a clerk and retried: then it runs.
                    let mut p = s.request(stage, ActivityType::CutForNonPayment);
                    p.variant = Variant::ZeroArrears;
                    p.follow_up = FollowUp::EditRetry;
                    Some((p, true))
                }
                3 => s
                    .shaped(stage, Need::Command, Script::HeadEndFault)
                    .map(|mut p| {
                        p.follow_up = FollowUp::Retry;
                        (p, true)
                    }),
                4 => s.shaped(stage, Need::Field, Script::InField).map(|mut p| {
                    p.follow_up = FollowUp::Cancel { ack: true };
                    (p, false)
                }),
                5 => s.shaped(stage, Need::Field, Script::InField).map(|mut p| {
                    p.follow_up = FollowUp::UpdateField {
                        then_complete: true,
                    };
                    (p, true)
                }),
                _ => None,
            };
            let Some((p, completes)) = planned.or_else(|| {
                s.shaped(stage, Need::Any, Script::Complete)
                    .map(|p| (p, true))
            }) else {
                continue;
            };
            if completes {
                s.snap = complete(&p, &s.snap);
            }
            self.out.push(p);
        }
        self.recent(s);
    }

    /// The recent request: an unseen scenario that fits first, then one by weight.
    fn recent(&mut self, s: &mut Story<'_>) {
        // A smart meter's only field work is an exchange: let most of them show head-end work.
        let field = !field_kinds(&s.snap, s.kind).is_empty()
            && (s.snap.class != Class::Smart || s.rng.percent(35));
        let command = !command_kinds(&s.snap, s.kind).is_empty();
        let snap = &s.snap;
        let fits = |r: Recent| -> bool {
            match r {
                Recent::Inactive => false,
                Recent::InField
                | Recent::Expired
                | Recent::Unacked
                | Recent::FieldFault
                | Recent::NotDone
                | Recent::Duplicate
                | Recent::Cancelled
                | Recent::CancelTimeout
                | Recent::CancelInFlight
                | Recent::UpdateField => field,
                Recent::HeadEndPending | Recent::HeadEndFault | Recent::Retried => command,
                Recent::ResponseTimeout => field || command,
                Recent::CnpWaiting => {
                    s.kind == SpKind::Meter && snap.class == Class::Smart && snap.on
                }
                Recent::NoOldDevice => snap.device.is_some(),
                Recent::NoDevice => snap.class == Class::Empty,
                _ => true,
            }
        };
        let unseen = Recent::ALL
            .iter()
            .map(|&(r, _)| r)
            .find(|&r| r != Recent::Quiet && !self.seen.contains(&r) && fits(r));
        let scenario = match unseen {
            Some(r) => r,
            None => {
                let share = self.share;
                let weights: Vec<u64> = Recent::ALL
                    .iter()
                    .map(|&(r, w)| match (fits(r), r.has_operator()) {
                        (false, _) => 0,
                        (true, true) => w * share,
                        (true, false) => w * 1000,
                    })
                    .collect();
                Recent::ALL[s.rng.weighted(&weights)].0
            }
        };
        self.seen.push(scenario);
        let (f, a) = (Stage::Field, Stage::HeadEnd);
        let planned = match scenario {
            Recent::Quiet | Recent::Inactive => None,
            Recent::Completed => s.shaped(f, Need::Any, Script::Complete),
            Recent::InField => s.shaped(f, Need::Field, Script::InField),
            Recent::Expired => s.shaped(Stage::Expired, Need::Field, Script::InField),
            Recent::Unacked => s.shaped(a, Need::Field, Script::Unacked),
            Recent::HeadEndPending => s.shaped(a, Need::Command, Script::HeadEndPending),
            Recent::CnpWaiting => Some(s.request(f, ActivityType::CutForNonPayment)),
            Recent::WaitEffDate | Recent::UpdateWaiting => {
                let t = *s.rng.pick(&[
                    ActivityType::EnableService,
                    ActivityType::DisableService,
                    ActivityType::ReconnectForPayment,
                ]);
                let mut p = s.request(f, t);
                p.effective_in_days = Some(s.rng.between(1, 12) as u32);
                if scenario == Recent::UpdateWaiting {
                    p.follow_up = FollowUp::UpdateWaiting;
                }
                Some(p)
            }
            Recent::Pending => s.shaped(Stage::Pending, Need::Any, Script::Complete),
            Recent::ZeroArrears | Recent::Discarded => {
                let mut p = s.request(f, ActivityType::CutForNonPayment);
                p.variant = Variant::ZeroArrears;
                if scenario == Recent::Discarded {
                    p.follow_up = FollowUp::Discard;
                }
                Some(p)
            }
            Recent::NoAgreement => {
                Some(s.request(f, ActivityType::EnableService)).map(|p| Planned {
                    variant: Variant::NoAgreement,
                    ..p
                })
            }
            Recent::NoOldDevice => {
                Some(s.request(f, ActivityType::ExchangeMeter)).map(|p| Planned {
                    variant: Variant::NoOldDevice,
                    old_device: None,
                    ..p
                })
            }
            Recent::UnknownSp => {
                Some(s.request(f, ActivityType::DisableService)).map(|p| Planned {
                    variant: Variant::UnknownSp,
                    ..p
                })
            }
            Recent::Duplicate => {
                // The same request filed twice: the second waits in VALIDATION_ERROR (§5.2).
                if let Some(original) = s.shaped(f, Need::Field, Script::InField) {
                    let again = Planned {
                        received_minutes_before: original.received_minutes_before / 2,
                        script: Script::Complete,
                        ..original.clone()
                    };
                    self.out.push(original);
                    self.out.push(again);
                }
                None
            }
            Recent::HeadEndFault => s.shaped(f, Need::Command, Script::HeadEndFault),
            Recent::Retried => s
                .shaped(f, Need::Command, Script::HeadEndFault)
                .map(|p| Planned {
                    follow_up: FollowUp::Retry,
                    ..p
                }),
            Recent::FieldFault => s.shaped(f, Need::Field, Script::FieldFault),
            Recent::NotDone => s.shaped(f, Need::Field, Script::NotDone),
            Recent::ResponseTimeout => {
                let need = if field { Need::Field } else { Need::Command };
                s.shaped(f, need, Script::Silent)
            }
            Recent::NoDevice => Some(s.request(f, ActivityType::ReconnectForPayment)),
            Recent::Cancelled | Recent::CancelTimeout => {
                let ack = scenario == Recent::Cancelled;
                s.shaped(f, Need::Field, Script::InField).map(|p| Planned {
                    follow_up: FollowUp::Cancel { ack },
                    ..p
                })
            }
            Recent::CancelInFlight => s.shaped(a, Need::Field, Script::InField).map(|p| Planned {
                follow_up: FollowUp::Cancel { ack: false },
                ..p
            }),
            Recent::UpdateField => s.shaped(f, Need::Field, Script::InField).map(|p| Planned {
                follow_up: FollowUp::UpdateField {
                    then_complete: false,
                },
                ..p
            }),
            Recent::UpdateFinal => s.shaped(f, Need::Any, Script::Complete).map(|p| Planned {
                follow_up: FollowUp::UpdateFinal,
                ..p
            }),
        };
        self.out.extend(planned);
    }
}

/// Request types whose first child is a field activity on this device.
fn field_kinds(snap: &Snapshot, kind: SpKind) -> Vec<ActivityType> {
    use ActivityType::*;
    let mut kinds = match (snap.class, snap.on) {
        (Class::Empty, _) => vec![EnableService],
        (Class::Manual | Class::SmartNew, true) => vec![DisableService, CutForNonPayment],
        (Class::Manual, false) => vec![EnableService, ReconnectForPayment],
        (Class::SmartNew, false) => vec![ReconnectForPayment],
        (Class::Smart, _) => Vec::new(),
    };
    if snap.device.is_some() {
        kinds.push(ExchangeMeter);
    }
    // Items have no read task (§2.1), and a smart meter is read by the head-end.
    if kind == SpKind::Meter && matches!(snap.class, Class::Manual | Class::SmartNew) {
        kinds.push(BackToBack);
    }
    kinds
}

/// Request types whose first child is a head-end command (never a throttled disconnect).
fn command_kinds(snap: &Snapshot, kind: SpKind) -> Vec<ActivityType> {
    use ActivityType::*;
    if kind == SpKind::Item {
        return Vec::new();
    }
    match (snap.class, snap.on) {
        (Class::Smart, true) => vec![DisableService, BackToBack],
        (Class::Smart, false) => vec![EnableService, ReconnectForPayment, BackToBack],
        // Enable on an S- meter that is off commissions it (E5); one that is on is done (E7).
        (Class::SmartNew, false) => vec![EnableService],
        _ => Vec::new(),
    }
}

/// Request types that run to completion on this device; `throttle_ok` allows a Cut for
/// Non-Payment of a smart meter, whose disconnect waits for the throttle batch.
fn complete_kinds(snap: &Snapshot, kind: SpKind, throttle_ok: bool) -> Vec<ActivityType> {
    use ActivityType::*;
    if snap.class == Class::Empty {
        return vec![EnableService];
    }
    let mut kinds = vec![ExchangeMeter];
    if snap.on {
        kinds.push(DisableService);
        if throttle_ok || snap.class != Class::Smart {
            kinds.extend([CutForNonPayment, CutForNonPayment]);
        }
    } else {
        kinds.extend([EnableService, ReconnectForPayment, ReconnectForPayment]);
    }
    if kind == SpKind::Meter {
        kinds.push(BackToBack);
    }
    kinds
}

/// What a completed request leaves behind, following the §2.2 tables and the answers the
/// simulated field gives (new devices are installed, then commissioned and connected).
fn complete(p: &Planned, snap: &Snapshot) -> Snapshot {
    use ActivityType::*;
    let mut s = snap.clone();
    let installed = |d: &DeviceSpec| if d.smart { Class::Smart } else { Class::Manual };
    match p.kind {
        EnableService => match (s.class, s.on) {
            (Class::Empty, _) => {
                if let Some(d) = &p.new_device {
                    s.device = Some(d.id.clone());
                    s.class = installed(d);
                    s.on = true;
                    s.src = true;
                }
            }
            (_, true) => {}
            (Class::Manual, false) => {
                s.on = true;
                s.src = true;
            }
            (Class::SmartNew | Class::Smart, false) => {
                s.class = Class::Smart;
                s.on = true;
            }
        },
        DisableService | CutForNonPayment => s.on = false,
        ReconnectForPayment => s.on = s.class != Class::Empty,
        ExchangeMeter => {
            // The new device is connected exactly when the old one was (D1-CONPRECON).
            if let Some(d) = &p.new_device {
                s.device = Some(d.id.clone());
                s.class = installed(d);
            }
        }
        BackToBack => {
            if !s.on {
                s.on = true;
                s.src = true;
                if s.class == Class::SmartNew {
                    s.class = Class::Smart;
                }
            }
            if let Some(account) = &p.incoming_account {
                s.account = account.clone();
            }
        }
        CancelOrchestration | UpdateOrchestration => {}
    }
    s
}
