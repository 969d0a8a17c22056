//! The background runtime the desk runs on (tokio): the engine as the single writer, the monitor
//! loop, the throttle batch, the outbox sender with the simulated external systems, the clock,
//! and change notifications to the desk.
//!
//! The desk never blocks on the engine: it [`Runtime::send`]s a [`Request`] and gets a
//! [`Ticket`] back at once; the outcome arrives later as a [`Notice`] carrying that ticket, next
//! to the notices of the background work (after the manner of gitui's asyncgit). Its views read
//! through [`Runtime::reader`], which shares the store but cannot write.
//!
//! Who does what:
//! - the writer (its own OS thread, see `writer`) owns the [`Engine`] and runs jobs in arrival
//!   order: operator requests as the operator, monitor passes as [`Actor::system`];
//! - a pacing task on the tokio runtime asks for a pass every `monitor_every` of wall time;
//! - a pass delivers the simulators' due answers, runs the monitors, runs the D1-CRWTO batch
//!   when engine time crosses a multiple of `crwto_every_minutes`, and hands the outbox over.
//!
//! Shutdown ([`Runtime::shutdown`], on quit and on [`terminate_signal`]) stops the timer, lets
//! the writer finish the requests already accepted, flushes the database and joins the writer.
//! Dropping a [`Runtime`] starts the same stop without waiting for it.

mod clock;
mod requests;
mod simulators;
mod writer;

pub use clock::Clock;

use crate::config::Config;
use crate::domain::Instant;
use crate::engine::{Actor, CompleteFa, CrwtoReport, Engine, EngineError, Reader};
use crate::workorders::{Assignee, WoStatus};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use writer::{Job, Writer};

/// The shortest monitor interval: a zero interval would spin.
const MIN_MONITOR_EVERY: Duration = Duration::from_millis(1);

/// How the runtime paces its background work.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Engine time: the wall clock, `--now`, or the `--speed` demo clock.
    pub clock: Clock,
    /// How often (wall time) a monitor pass runs.
    pub monitor_every: Duration,
    /// How often (engine minutes) the throttle batch runs; 0 turns it off.
    pub crwto_every_minutes: u32,
    /// Whether the simulated field work system and head-end answer (`false`: `--no-sim`).
    pub simulate: bool,
}

impl RuntimeOptions {
    /// The options of `config` (`monitor_every_seconds`, `crwto_every_minutes`).
    pub fn from_config(config: &Config, clock: Clock, simulate: bool) -> RuntimeOptions {
        RuntimeOptions {
            clock,
            monitor_every: Duration::from_secs(u64::from(config.monitor_every_seconds)),
            crwto_every_minutes: config.crwto_every_minutes,
            simulate,
        }
    }
}

/// An operator action the desk offers, applied by the writer as the desk's operator.
#[derive(Debug, Clone)]
pub enum Request {
    /// Retry an activity in an error state, or replay an inbound message in the error inbox.
    Retry {
        /// The activity or inbound communication.
        id: String,
    },
    /// Discard an orchestration or maintenance activity.
    Discard {
        /// The activity.
        id: String,
        /// The operator's text (a default is recorded when `None`).
        reason: Option<String>,
    },
    /// Execute a waiting orchestration or command now (§12.7).
    ExecuteNow {
        /// The waiting activity.
        id: String,
    },
    /// File a Cancel Orchestration.
    Cancel {
        /// The orchestration.
        id: String,
        /// The cancel reason code (`CR`, `CXS`…).
        reason: String,
        /// One child to cancel instead of the whole orchestration.
        related: Option<String>,
    },
    /// File an Update Orchestration.
    Update {
        /// The orchestration.
        id: String,
        /// The new comments or instructions.
        comments: String,
        /// A new start (effective) time.
        start: Option<Instant>,
        /// One child to update instead of the orchestration.
        related: Option<String>,
    },
    /// Complete a field activity by hand.
    CompleteFa {
        /// The field activity.
        id: String,
        /// What the crew reported.
        report: Box<CompleteFa>,
    },
    /// Cancel a field activity by hand (the field system is not told).
    CancelFa {
        /// The field activity.
        id: String,
        /// Why.
        reason: String,
    },
    /// Complete work orders (bulk).
    WoComplete {
        /// The work orders.
        ids: Vec<String>,
    },
    /// Cancel work orders (bulk) with one reason.
    WoCancel {
        /// The work orders.
        ids: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Assign a work order.
    WoAssign {
        /// The work order.
        id: String,
        /// Who does the work.
        assignee: Assignee,
        /// The user it is scheduled for ("mine").
        schedule_for: Option<String>,
    },
    /// Move a work order NEW → SENT → SETUP.
    WoSetStatus {
        /// The work order.
        id: String,
        /// SENT or SETUP.
        status: WoStatus,
    },
    /// Retry every id (a query's matches), in slices, in the background.
    RetryAll {
        /// The activities.
        ids: Vec<String>,
    },
    /// Discard every id (a query's matches), in slices, in the background.
    DiscardAll {
        /// The activities.
        ids: Vec<String>,
        /// Why.
        reason: String,
    },
    /// The supervisor's manual run of the throttle batch (audited).
    RunCrwto,
    /// A monitor pass now.
    MonitorNow,
}

/// The receipt for a request; its outcome notice carries the same ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// What the runtime tells the desk.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Something changed: views re-read their window.
    Changed {
        /// Engine time of the change.
        at: Instant,
    },
    /// A monitor pass ran.
    MonitorPass {
        /// Engine time of the pass.
        at: Instant,
        /// How many transitions it made.
        transitions: usize,
        /// How many records failed their chain (they stay as they were).
        failures: usize,
    },
    /// The throttle batch ran.
    Crwto {
        /// Engine time of the run.
        at: Instant,
        /// What it released.
        report: CrwtoReport,
        /// Run by the operator (`RunCrwto`) rather than the schedule.
        manual: bool,
    },
    /// A request succeeded; `message` is the toast ("SO-2 retried: now IN_PROGRESS").
    Done {
        /// The request's ticket.
        ticket: Ticket,
        /// What happened.
        message: String,
    },
    /// A guard refused a request; nothing changed but the audit line.
    Refused {
        /// The request's ticket.
        ticket: Ticket,
        /// The refusal code (`PERMISSION_DENIED`, `AWAITING_FIELD_RESPONSE`…).
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// Something failed: a request (bad input, database error) or background work.
    Failed {
        /// The request's ticket, when a request failed.
        ticket: Option<Ticket>,
        /// What happened.
        message: String,
    },
    /// A long action started; its `Done`, `Refused` or `Failed` follows.
    Busy {
        /// What is running ("completing 40 work order(s)").
        what: String,
    },
    /// The writer has flushed the database and stopped; no notice follows.
    Stopped,
}

/// The running background runtime: the desk's handle on the engine.
pub struct Runtime {
    reader: Reader,
    clock: Clock,
    jobs: mpsc::UnboundedSender<Job>,
    notices: mpsc::UnboundedReceiver<Notice>,
    /// Notices the handle itself raises (a request sent after the writer stopped).
    local: Mutex<VecDeque<Notice>>,
    next_ticket: AtomicU64,
    stopping: Arc<AtomicBool>,
    timer: Option<tokio::task::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<Result<(), EngineError>>>,
}

impl Runtime {
    /// Starts the writer thread and the monitor timer; call it inside a tokio runtime.
    pub fn start(engine: Engine, operator: Actor, options: RuntimeOptions) -> Runtime {
        let reader = engine.reader();
        let (jobs, job_rx) = mpsc::unbounded_channel();
        let (notice_tx, notices) = mpsc::unbounded_channel();
        let pass_queued = Arc::new(AtomicBool::new(false));
        let stopping = Arc::new(AtomicBool::new(false));
        let state = Writer::new(
            engine,
            operator,
            &options,
            jobs.clone(),
            notice_tx,
            Arc::clone(&pass_queued),
            Arc::clone(&stopping),
        );
        let mut local = VecDeque::new();
        let writer = match std::thread::Builder::new()
            .name("orderdesk-engine".into())
            .spawn(move || state.run(job_rx))
        {
            Ok(handle) => Some(handle),
            Err(err) => {
                local.push_back(Notice::Failed {
                    ticket: None,
                    message: format!("could not start the engine thread: {err}"),
                });
                local.push_back(Notice::Stopped);
                None
            }
        };
        let every = options.monitor_every.max(MIN_MONITOR_EVERY);
        let timer = writer
            .is_some()
            .then(|| tokio::spawn(pace(every, jobs.clone(), pass_queued)));
        Runtime {
            reader,
            clock: options.clock,
            jobs,
            notices,
            local: Mutex::new(local),
            next_ticket: AtomicU64::new(0),
            stopping,
            timer,
            writer,
        }
    }

    /// A read-only view of the engine for the desk's views.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// The clock the engine runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Queues an operator action; returns at once with the ticket its outcome notice carries.
    pub fn send(&self, request: Request) -> Ticket {
        let ticket = Ticket(self.next_ticket.fetch_add(1, Ordering::Relaxed) + 1);
        if self
            .jobs
            .send(Job::Request(ticket, Box::new(request)))
            .is_err()
        {
            self.local().push_back(Notice::Failed {
                ticket: Some(ticket),
                message: "the engine has stopped, so the action was not applied; restart the desk"
                    .into(),
            });
        }
        ticket
    }

    /// The next notice if one is waiting (the desk drains these before it draws).
    pub fn try_notice(&mut self) -> Option<Notice> {
        if let Some(notice) = self.local().pop_front() {
            return Some(notice);
        }
        self.notices.try_recv().ok()
    }

    /// The next notice; `None` once the runtime has stopped and everything was read.
    /// Cancel-safe, so the desk's event loop can select on it.
    pub async fn next_notice(&mut self) -> Option<Notice> {
        // Bound first so the lock guard is gone before the await (the future stays Send).
        let local = self.local().pop_front();
        if local.is_some() {
            return local;
        }
        self.notices.recv().await
    }

    /// Stops the timer, lets the writer finish the requests already accepted, flushes the
    /// database and joins the writer.
    pub async fn shutdown(mut self) -> Result<(), EngineError> {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(timer) = self.timer.take() {
            timer.abort();
            // Cancelled is the expected outcome; the timer holds nothing to clean up.
            let _ = timer.await;
        }
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        // Behind every request already queued, so those are finished first.
        let _ = self.jobs.send(Job::Stop);
        match tokio::task::spawn_blocking(move || writer.join()).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(EngineError::Corrupt(
                "the engine thread stopped with a panic; check the database before going on".into(),
            )),
            Err(err) => Err(EngineError::Corrupt(format!(
                "could not wait for the engine thread: {err}"
            ))),
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, VecDeque<Notice>> {
        // The queue holds plain notices; a panic elsewhere cannot leave it half-written.
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Runtime {
    /// Starts the stop without waiting: the writer finishes, flushes and exits by itself.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
        if self.writer.take().is_some() {
            let _ = self.jobs.send(Job::Stop);
        }
    }
}

/// Asks the writer for a monitor pass every `every`, unless one is still queued.
async fn pace(every: Duration, jobs: mpsc::UnboundedSender<Job>, pass_queued: Arc<AtomicBool>) {
    let mut interval = tokio::time::interval(every);
    // A slow pass delays the next one instead of causing a burst of catch-up passes.
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if !pass_queued.swap(true, Ordering::SeqCst) && jobs.send(Job::Pass).is_err() {
            return;
        }
    }
}

/// Resolves when the process gets SIGTERM, so the desk can shut down cleanly; create it once,
/// pin it and select on it (never resolves where there is no SIGTERM or no handler).
pub async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}
