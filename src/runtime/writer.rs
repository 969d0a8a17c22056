//! The writer: the one thread that owns the [`Engine`] (architecture rule 2, "one writer").
//!
//! It takes jobs in arrival order: the operator's requests, and the monitor passes the pacing
//! timer asks for. A pass delivers the simulators' due answers, runs the lifecycle monitors,
//! runs the throttle batch when engine time crosses its schedule, and hands the outbox to the
//! external systems. The engine is synchronous (sled I/O and flushes), so it lives on its own
//! OS thread rather than a tokio worker: timers and the desk never wait behind it.

use super::simulators::Simulators;
use super::{requests, Clock, Notice, Request, RuntimeOptions, Ticket};
use crate::domain::{ActivityType, Capability, DeviceSpec, FieldTask, Instant, TaskEffect};
use crate::engine::{Actor, CommView, Engine, EngineError, ListFilter};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// How many outbound messages the sender hands over per pass.
const SEND_BATCH: usize = 500;

/// What the writer is asked to do.
pub(super) enum Job {
    /// An operator's action, answered with a notice carrying its ticket (boxed: a completion
    /// report is large, and passes should not pay for it).
    Request(Ticket, Box<Request>),
    /// The next slice of a bulk retry or discard.
    Bulk(Box<Bulk>),
    /// A scheduled monitor pass.
    Pass,
    /// Finish, flush and stop.
    Stop,
}

/// How many items of a bulk action run between other jobs: the rate bound that keeps monitor
/// passes and the operator's other actions flowing while a big batch runs.
const BULK_SLICE: usize = 20;

/// A bulk retry or discard in progress.
pub(super) struct Bulk {
    ticket: Ticket,
    /// `Some(reason)` for a discard.
    discard: Option<String>,
    pending: std::collections::VecDeque<String>,
    report: crate::engine::BulkActionReport,
}

/// The engine's owner, with the state of the background work.
pub(super) struct Writer {
    engine: Engine,
    operator: Actor,
    clock: Clock,
    crwto_every_minutes: u32,
    /// The last crwto schedule slot seen, so the batch runs once per crossing.
    crwto_slot: Option<i64>,
    /// `None` when the desk is connected to nothing (`--no-sim`).
    simulators: Option<Simulators>,
    notices: UnboundedSender<Notice>,
    /// The writer's own queue, for the next slice of a bulk action.
    jobs: UnboundedSender<Job>,
    /// Set by the pacing timer when it queues a pass, so slow passes do not pile up.
    pass_queued: Arc<AtomicBool>,
    /// Set at shutdown: queued passes are skipped, queued requests still run.
    stopping: Arc<AtomicBool>,
}

impl Writer {
    /// A writer for `engine`, acting for `operator` on requests.
    pub(super) fn new(
        engine: Engine,
        operator: Actor,
        options: &RuntimeOptions,
        jobs: UnboundedSender<Job>,
        notices: UnboundedSender<Notice>,
        pass_queued: Arc<AtomicBool>,
        stopping: Arc<AtomicBool>,
    ) -> Writer {
        let simulators = options
            .simulate
            .then(|| Simulators::new(&engine.config().simulators));
        Writer {
            crwto_slot: crwto_slot(options.clock.now(), options.crwto_every_minutes),
            engine,
            operator,
            clock: options.clock,
            crwto_every_minutes: options.crwto_every_minutes,
            simulators,
            notices,
            jobs,
            pass_queued,
            stopping,
        }
    }

    /// Runs jobs until `Stop` (or until every sender is gone), then flushes the database.
    pub(super) fn run(mut self, mut jobs: UnboundedReceiver<Job>) -> Result<(), EngineError> {
        while let Some(job) = jobs.blocking_recv() {
            match job {
                Job::Stop => {
                    // Work already accepted is finished: the rest of any bulk action runs now.
                    while let Ok(job) = jobs.try_recv() {
                        match job {
                            Job::Bulk(bulk) => self.finish_bulk(*bulk),
                            Job::Request(ticket, request) => {
                                self.guarded(Some(ticket), |w| w.request(ticket, *request))
                            }
                            Job::Pass | Job::Stop => {}
                        }
                    }
                    break;
                }
                Job::Bulk(bulk) => {
                    let ticket = bulk.ticket;
                    let mut slot = Some(*bulk);
                    self.guarded(Some(ticket), |w| {
                        if let Some(bulk) = slot.take() {
                            w.bulk_step(bulk);
                        }
                    });
                }
                Job::Pass => {
                    if !self.stopping.load(Ordering::SeqCst) {
                        self.guarded(None, Writer::scheduled_pass);
                    }
                    // Cleared after the pass: ticks that fell inside it are dropped, not queued.
                    self.pass_queued.store(false, Ordering::SeqCst);
                }
                Job::Request(ticket, request) => {
                    self.guarded(Some(ticket), |w| w.request(ticket, *request));
                }
            }
        }
        let flushed = self.engine.flush();
        if let Err(err) = &flushed {
            self.notify(Notice::Failed {
                ticket: None,
                message: format!("the database could not be flushed at shutdown: {err}"),
            });
        }
        self.notify(Notice::Stopped);
        flushed
    }

    /// Runs one job; a panic in the engine becomes a notice instead of killing the writer,
    /// because the store only ever sees whole transactions and the desk can go on.
    fn guarded(&mut self, ticket: Option<Ticket>, job: impl FnOnce(&mut Writer)) {
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| job(self))) {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            self.notify(Notice::Failed {
                ticket,
                message: format!(
                    "internal error in the engine ({what}); the work may not have been applied, \
                     check it and try again"
                ),
            });
        }
    }

    fn notify(&self, notice: Notice) {
        // A desk that has gone away reads no notices; the work itself is already durable.
        let _ = self.notices.send(notice);
    }

    fn request(&mut self, ticket: Ticket, request: Request) {
        if request.is_long() {
            self.notify(Notice::Busy {
                what: request.describe(),
            });
        }
        let now = self.clock.now();
        let (ids, discard) = match &request {
            Request::RetryAll { ids } => (Some(ids.clone()), None),
            Request::DiscardAll { ids, reason } => (Some(ids.clone()), Some(reason.clone())),
            _ => (None, None),
        };
        if let Some(ids) = ids {
            let bulk = Bulk {
                ticket,
                discard,
                pending: ids.into(),
                report: Default::default(),
            };
            return self.bulk_step(bulk);
        }
        let result = match request {
            Request::RunCrwto => self.manual_crwto(now),
            Request::MonitorNow => self.monitor_now(),
            other => requests::apply(&mut self.engine, &self.operator, now, other),
        };
        match result {
            Ok(message) => {
                self.notify(Notice::Done { ticket, message });
                self.notify(Notice::Changed { at: now });
            }
            Err(EngineError::Refused { code, message }) => {
                self.notify(Notice::Refused {
                    ticket,
                    code,
                    message,
                });
                // The refusal itself is an audit line (§12.2).
                self.notify(Notice::Changed { at: now });
            }
            Err(err) => self.notify(Notice::Failed {
                ticket: Some(ticket),
                message: err.to_string(),
            }),
        }
    }

    /// Runs one slice of a bulk action, then queues the rest behind whatever else is waiting.
    fn bulk_step(&mut self, mut bulk: Bulk) {
        if !self.run_slice(&mut bulk) {
            return;
        }
        if bulk.pending.is_empty() {
            return self.bulk_done(&bulk);
        }
        let done = bulk.report.requested;
        let total = done + bulk.pending.len();
        let verb = if bulk.discard.is_some() {
            "discarding"
        } else {
            "retrying"
        };
        self.notify(Notice::Busy {
            what: format!("{verb}: {done} of {total} done"),
        });
        if let Err(tokio::sync::mpsc::error::SendError(Job::Bulk(rest))) =
            self.jobs.send(Job::Bulk(Box::new(bulk)))
        {
            self.finish_bulk(*rest);
        }
    }

    /// Runs a bulk action to its end without yielding (shutdown).
    fn finish_bulk(&mut self, mut bulk: Bulk) {
        while !bulk.pending.is_empty() {
            if !self.run_slice(&mut bulk) {
                return;
            }
        }
        self.bulk_done(&bulk);
    }

    /// One slice through the engine; false (after a notice) when the engine failed.
    fn run_slice(&mut self, bulk: &mut Bulk) -> bool {
        let take = bulk.pending.len().min(BULK_SLICE);
        let slice: Vec<String> = bulk.pending.drain(..take).collect();
        let now = self.clock.now();
        let result = match &bulk.discard {
            Some(reason) => self
                .engine
                .bulk_discard(&self.operator, now, &slice, reason),
            None => self.engine.bulk_retry(&self.operator, now, &slice),
        };
        match result {
            Ok(report) => {
                bulk.report.merge(report);
                self.notify(Notice::Changed { at: now });
                true
            }
            Err(err) => {
                self.notify(Notice::Failed {
                    ticket: Some(bulk.ticket),
                    message: err.to_string(),
                });
                false
            }
        }
    }

    fn bulk_done(&self, bulk: &Bulk) {
        let verb = if bulk.discard.is_some() {
            "discarded"
        } else {
            "retried"
        };
        self.notify(Notice::Done {
            ticket: bulk.ticket,
            message: bulk.report.summary(verb),
        });
    }

    /// The supervisor's run of the batch: audited, as the operator.
    fn manual_crwto(&mut self, now: Instant) -> Result<String, EngineError> {
        let report = self.engine.crwto(&self.operator, now, None)?;
        let message = format!(
            "throttle batch: released {}, remaining {}, not yet due {}",
            report.released.len(),
            report.remaining,
            report.not_yet_due
        );
        self.notify(Notice::Crwto {
            at: now,
            report,
            manual: true,
        });
        Ok(message)
    }

    /// A pass now, at the operator's request: checked against the operator's rights first so a
    /// read-only desk delivers and sends nothing either.
    fn monitor_now(&mut self) -> Result<String, EngineError> {
        self.operator.check(Capability::Monitor)?;
        let operator = self.operator.clone();
        let (transitions, failures) = self.pass(&operator)?;
        Ok(format!(
            "monitor pass: {transitions} transition(s), {failures} failure(s)"
        ))
    }

    fn scheduled_pass(&mut self) {
        if let Err(err) = self.pass(&Actor::system()) {
            self.notify(Notice::Failed {
                ticket: None,
                message: format!("monitor pass failed: {err}"),
            });
        }
    }

    /// One pass: answers due, monitors, the batch when due, then the outbox. Returns the
    /// transitions and failures of the monitors.
    fn pass(&mut self, actor: &Actor) -> Result<(usize, usize), EngineError> {
        let now = self.clock.now();
        let mut changed = self.deliver_answers(now);
        let result = self.monitor_and_send(actor, now, &mut changed);
        if changed {
            self.notify(Notice::Changed { at: now });
        }
        result
    }

    fn monitor_and_send(
        &mut self,
        actor: &Actor,
        now: Instant,
        changed: &mut bool,
    ) -> Result<(usize, usize), EngineError> {
        let report = self.engine.tick(actor, now)?;
        let (transitions, failures) = (report.transitions.len(), report.failures.len());
        *changed |= transitions > 0;
        self.notify(Notice::MonitorPass {
            at: now,
            transitions,
            failures,
        });
        self.scheduled_crwto(now, changed);
        *changed |= self.send_outbox(now)?;
        Ok((transitions, failures))
    }

    /// Feeds the simulators' due answers to the engine, as the external systems would.
    fn deliver_answers(&mut self, now: Instant) -> bool {
        let due = match self.simulators.as_mut() {
            Some(simulators) => simulators.due(now),
            None => return false,
        };
        let mut changed = false;
        for message in due {
            match self.engine.receive_from_system(now, message) {
                Ok(_) => changed = true,
                Err(err) => self.notify(Notice::Failed {
                    ticket: None,
                    message: format!("a simulated answer could not be stored: {err}"),
                }),
            }
        }
        changed
    }

    /// Runs the batch when engine time has crossed a multiple of `crwto_every_minutes` since
    /// the last run (one run per crossing, however far the clock jumped).
    fn scheduled_crwto(&mut self, now: Instant, changed: &mut bool) {
        let slot = crwto_slot(now, self.crwto_every_minutes);
        if slot <= self.crwto_slot {
            return;
        }
        self.crwto_slot = slot;
        match self.engine.crwto_scheduled(now) {
            Ok(report) => {
                *changed |= !report.released.is_empty();
                self.notify(Notice::Crwto {
                    at: now,
                    report,
                    manual: false,
                });
            }
            Err(err) => self.notify(Notice::Failed {
                ticket: None,
                message: format!("the throttle batch failed: {err}"),
            }),
        }
    }

    /// The outbox sender: hands each undelivered message to its system, then marks it
    /// delivered. A crash in between re-sends; the receiver tells by the communication id.
    fn send_outbox(&mut self, now: Instant) -> Result<bool, EngineError> {
        let outgoing = self.engine.undelivered(SEND_BATCH)?;
        if outgoing.is_empty() {
            return Ok(false);
        }
        if let Some(simulators) = self.simulators.as_mut() {
            for comm in &outgoing {
                let registered = registered_device(&self.engine, comm);
                simulators.hand_over(now, comm, registered.as_ref());
            }
        }
        let ids: Vec<String> = outgoing.into_iter().map(|c| c.id).collect();
        self.engine.mark_delivered(now, &ids)?;
        self.engine.flush()?;
        Ok(true)
    }
}

/// The schedule slot of `now`: engine minutes since the epoch divided by the interval; `None`
/// when the batch is off (an interval of 0).
fn crwto_slot(now: Instant, every_minutes: u32) -> Option<i64> {
    (every_minutes > 0).then(|| {
        now.timestamp()
            .div_euclid(60)
            .div_euclid(i64::from(every_minutes))
    })
}

/// The device an exchange request registered for installation, for an exchange `fa_create`.
///
/// Workaround: the `fa_create` payload does not carry it, so this finds the orchestration on
/// the payload's service point whose child is the field activity, and reads its exchange
/// fields. Only exchanges pay for the lookup.
fn registered_device(engine: &Engine, comm: &CommView) -> Option<DeviceSpec> {
    let text = |key: &str| comm.payload.get(key).and_then(|v| v.as_str());
    let task = FieldTask::parse(text("field_task")?)?;
    if comm.message != "fa_create" || task.effect() != TaskEffect::Exchange {
        return None;
    }
    let (fa, sp) = (text("fa")?, text("sp")?);
    let system = Actor::system();
    let filter = ListFilter {
        sp: Some(sp.to_string()),
        activity_type: Some(ActivityType::ExchangeMeter),
        ..ListFilter::default()
    };
    for row in engine.list(&system, &filter).ok()? {
        let Ok(tree) = engine.show(&system, &row.id) else {
            continue;
        };
        if tree.children.iter().any(|child| child.id == fa) {
            let device = tree.fields.get("exchange")?.get("new_device")?;
            return serde_json::from_value(device.clone()).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::crwto_slot;
    use chrono::TimeZone;

    #[test]
    fn crwto_slots_turn_over_on_multiples_of_the_interval() {
        let at = |h, m, s| chrono::Utc.with_ymd_and_hms(2025, 6, 10, h, m, s).unwrap();
        assert_eq!(crwto_slot(at(9, 0, 0), 15), crwto_slot(at(9, 14, 59), 15));
        assert!(crwto_slot(at(9, 15, 0), 15) > crwto_slot(at(9, 14, 59), 15));
        assert_eq!(crwto_slot(at(9, 15, 0), 0), None);
    }
}
