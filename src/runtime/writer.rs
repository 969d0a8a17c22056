//! The writer: the one thread that owns the [`Engine`] (architecture rule 2, "one writer").
//!
//! It takes jobs in arrival order: the operators' writes, the partners' answers and the
//! couriers' delivery records, and the monitor passes the pacing timer asks for. A pass runs
//! the lifecycle monitors and the throttle batch when engine time crosses its schedule. The
//! engine is synchronous (sled I/O and flushes), so it lives on its own OS thread rather than
//! a tokio worker: timers and clients never wait behind it.

use super::{Clock, Metrics, Notice, RuntimeOptions};
use crate::domain::{Capability, Instant};
use crate::engine::{Actor, CrwtoReport, Engine, EngineError, TickReport};
use crate::throttle::batch_slot;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::mpsc::UnboundedReceiver;

/// A write: run on the writer thread, it answers its caller itself.
pub(super) type WriteJob = Box<dyn FnOnce(&mut Writer) + Send>;

/// What the writer is asked to do.
pub(super) enum Job {
    /// An operator's write (or a pass an operator asked for).
    Run(WriteJob),
    /// A scheduled monitor pass.
    Pass,
    /// Finish the writes already queued, flush and stop.
    Stop,
}

/// The engine's owner, with the state of the background work.
pub(super) struct Writer {
    engine: Engine,
    clock: Clock,
    crwto_every_minutes: u32,
    /// The last crwto schedule slot seen, so the batch runs once per crossing.
    crwto_slot: Option<i64>,
    metrics: Arc<Metrics>,
    changes: broadcast::Sender<Notice>,
    /// Set by the pacing timer when it queues a pass, so slow passes do not pile up.
    pass_queued: Arc<AtomicBool>,
    /// Set at shutdown: queued passes are skipped, queued writes still run.
    stopping: Arc<AtomicBool>,
    /// No background work (the command line): a pass asked for runs the monitors only.
    manual: bool,
    /// For tests only: every operator write panics (see [`PANIC_ON_WRITE`]).
    panic_on_write: bool,
}

/// For tests only: when this environment variable is set, every operator write panics on the
/// writer thread, so the desk's answer to an engine panic can be tested through the binary.
pub const PANIC_ON_WRITE: &str = "ORDERDESK_TEST_PANIC_ON_WRITE";

impl Writer {
    /// A writer for `engine`.
    pub(super) fn new(
        engine: Engine,
        options: &RuntimeOptions,
        changes: broadcast::Sender<Notice>,
        pass_queued: Arc<AtomicBool>,
        stopping: Arc<AtomicBool>,
        metrics: Arc<Metrics>,
    ) -> Writer {
        Writer {
            crwto_slot: batch_slot(options.clock.now(), options.crwto_every_minutes),
            engine,
            clock: options.clock,
            crwto_every_minutes: options.crwto_every_minutes,
            metrics,
            changes,
            pass_queued,
            stopping,
            manual: options.monitor_every.is_none(),
            panic_on_write: std::env::var_os(PANIC_ON_WRITE).is_some(),
        }
    }

    /// Runs jobs until `Stop` (or until every sender is gone), then flushes the database.
    pub(super) fn run(mut self, mut jobs: UnboundedReceiver<Job>) -> Result<(), EngineError> {
        while let Some(job) = jobs.blocking_recv() {
            match job {
                Job::Stop => {
                    // Work already accepted is finished.
                    while let Ok(job) = jobs.try_recv() {
                        if let Job::Run(write) = job {
                            self.guarded(write);
                        }
                    }
                    break;
                }
                Job::Pass => {
                    if !self.stopping.load(Ordering::SeqCst) {
                        self.guarded(Box::new(Writer::scheduled_pass));
                    }
                    // Cleared after the pass: ticks that fell inside it are dropped, not queued.
                    self.pass_queued.store(false, Ordering::SeqCst);
                }
                Job::Run(write) => self.guarded(write),
            }
        }
        // The clock's last reading becomes the database's mark, so the next run goes on from it.
        let kept = self.engine.keep_time(self.clock.now());
        let flushed = kept.and_then(|()| self.engine.flush());
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
    /// because the store only ever sees whole transactions and the clients can go on. (The
    /// job's caller sees its answer channel close and reports the failure itself.)
    fn guarded(&mut self, job: WriteJob) {
        self.engine.set_wall_time(Clock::wall_time());
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| job(self))) {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            self.notify(Notice::Failed {
                ticket: None,
                message: format!(
                    "internal error in the engine ({what}); the work may not have been applied, \
                     check it and try again"
                ),
            });
        }
    }

    fn notify(&self, notice: Notice) {
        // Nobody listening is fine: the work itself is already durable.
        let _ = self.changes.send(notice);
    }

    /// One operator write at the engine clock; every write is announced, a refusal too (its
    /// audit line is a change).
    pub(super) fn write<R>(
        &mut self,
        write: impl FnOnce(&mut Engine, Instant) -> Result<R, EngineError>,
    ) -> Result<R, EngineError> {
        if self.panic_on_write {
            panic!("{PANIC_ON_WRITE} is set: the engine panics on a write, as a test asked");
        }
        let now = self.clock.now();
        let result = write(&mut self.engine, now);
        self.notify(Notice::Changed { at: now });
        result
    }

    /// An operator's run of the batch: audited, as the operator.
    pub(super) fn manual_crwto(
        &mut self,
        actor: &Actor,
        throttle: Option<bool>,
    ) -> Result<CrwtoReport, EngineError> {
        let now = self.clock.now();
        let report = self.engine.crwto(actor, now, throttle);
        if let Ok(report) = &report {
            self.metrics.released(report.released.len() as u64);
            self.notify(Notice::Crwto {
                at: now,
                report: report.clone(),
                manual: true,
            });
        }
        self.notify(Notice::Changed { at: now });
        report
    }

    /// A pass now, at an operator's request: checked against the operator's rights first so a
    /// read-only desk delivers and sends nothing either.
    pub(super) fn pass_for(&mut self, actor: &Actor) -> Result<TickReport, EngineError> {
        actor.check(Capability::Monitor)?;
        if self.manual {
            return self.write(|engine, now| engine.tick(actor, now));
        }
        self.pass(actor)
    }

    fn scheduled_pass(&mut self) {
        if let Err(err) = self.pass(&Actor::system()) {
            self.notify(Notice::Failed {
                ticket: None,
                message: format!("monitor pass failed: {err}"),
            });
        }
    }

    /// One pass: the monitors, then the batch when due. Returns what the monitors did.
    fn pass(&mut self, actor: &Actor) -> Result<TickReport, EngineError> {
        let now = self.clock.now();
        let started = std::time::Instant::now();
        // Engine time is kept as the runtime runs (the pass flushes it), not only when
        // something changes, so a restart never goes back behind what the desk showed.
        if let Err(err) = self.engine.keep_time(now) {
            self.notify(Notice::Failed {
                ticket: None,
                message: format!("engine time could not be recorded: {err}"),
            });
        }
        let report = self.engine.tick(actor, now);
        self.metrics.monitor_pass(started.elapsed().as_secs_f64());
        let report = report?;
        let (transitions, failures) = (report.transitions.len(), report.failures.len());
        let mut changed = transitions > 0;
        self.notify(Notice::MonitorPass {
            at: now,
            transitions,
            failures,
        });
        self.scheduled_crwto(now, &mut changed);
        if changed {
            self.notify(Notice::Changed { at: now });
        }
        Ok(report)
    }

    /// Runs the batch when engine time has crossed a multiple of `crwto_every_minutes` since
    /// the last run (one run per crossing, however far the clock jumped).
    fn scheduled_crwto(&mut self, now: Instant, changed: &mut bool) {
        let slot = batch_slot(now, self.crwto_every_minutes);
        if slot <= self.crwto_slot {
            return;
        }
        self.crwto_slot = slot;
        match self.engine.crwto_scheduled(now) {
            Ok(report) => {
                *changed |= !report.released.is_empty();
                self.metrics.released(report.released.len() as u64);
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
}
