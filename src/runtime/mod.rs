//! The background runtime (tokio): the engine as the single writer, the monitor loop, the
//! throttle batch, the partner connections (couriers, file drops, the simulated partners), the
//! clock, the metrics, and the stream of change notifications every client listens to.
//!
//! Who does what:
//! - the writer (its own OS thread, see `writer`) owns the [`Engine`] and runs jobs in arrival
//!   order: the operators' writes, each as its verified [`Actor`], and the monitor passes;
//! - a pacing task on the tokio runtime asks for a pass every `monitor_every` of wall time;
//! - a pass runs the monitors and runs the D1-CRWTO batch when engine time crosses a multiple
//!   of `crwto_every_minutes`;
//! - one courier per partner hands the outbox over, and answers come back through the writer
//!   like any other write (see `partners`).
//!
//! Every front end reaches the running engine through an [`EngineHandle`]: reads go straight to
//! the shared store (they never queue behind writes), writes are closures the writer runs, and
//! [`EngineHandle::subscribe`] is the change stream (after the manner of gitui's asyncgit).
//!
//! Shutdown ([`Runtime::shutdown`]) stops the timer, lets the writer finish the writes already
//! accepted, flushes the database and joins the writer. Dropping a [`Runtime`] starts the same
//! stop without waiting for it.

mod clock;
pub mod metrics;
pub mod partners;
mod writer;

pub use clock::Clock;
pub use metrics::Metrics;
pub use partners::board::PartnerStatus;

use crate::config::Config;
use crate::domain::Instant;
use crate::engine::{Actor, CrwtoReport, Engine, EngineError, Reader, TickReport};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use writer::{Job, Writer};

/// The shortest monitor interval: a zero interval would spin.
const MIN_MONITOR_EVERY: Duration = Duration::from_millis(1);

/// How many change notices a slow listener may fall behind before it is told to re-read.
const CHANGE_BACKLOG: usize = 1024;

/// How the runtime paces its background work.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Engine time: the wall clock, `--now`, or the `--speed` demo clock.
    pub clock: Clock,
    /// How often (wall time) a monitor pass runs; `None`: only when asked (the command line).
    pub monitor_every: Option<Duration>,
    /// How often (engine minutes) the throttle batch runs; 0 turns it off.
    pub crwto_every_minutes: u32,
    /// Whether simulated partners stand in for those `[partners]` leaves out (`false`:
    /// `--no-sim`).
    pub simulate: bool,
}

impl RuntimeOptions {
    /// The options of `config` (`monitor_every_seconds`, `crwto_every_minutes`).
    pub fn from_config(config: &Config, clock: Clock, simulate: bool) -> RuntimeOptions {
        RuntimeOptions {
            clock,
            monitor_every: Some(Duration::from_secs(u64::from(config.monitor_every_seconds))),
            crwto_every_minutes: config.crwto_every_minutes,
            simulate,
        }
    }

    /// No background work at all: one command of the command line, then stop.
    pub fn manual(clock: Clock) -> RuntimeOptions {
        RuntimeOptions {
            clock,
            monitor_every: None,
            crwto_every_minutes: 0,
            simulate: false,
        }
    }
}

/// The receipt for a desk action; its outcome notice carries the same ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ticket(pub u64);

/// What the engine tells its clients: the change stream, and the outcome of a desk's actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
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
        /// Run by an operator rather than the schedule.
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
    /// A long action started or moved on; its `Done`, `Refused` or `Failed` follows.
    Busy {
        /// What is running ("completing 40 work order(s)").
        what: String,
    },
    /// The link to the server went down or came back (a desk on a server).
    Link {
        /// True when connected again.
        up: bool,
        /// What happened and what the desk does about it.
        message: String,
    },
    /// Who else is connected changed.
    Sessions {
        /// How many clients are connected, this one included.
        count: usize,
        /// Their operators' names (for supervisors; empty for others).
        names: Vec<String>,
    },
    /// This session is over (a supervisor ended it, or the server stopped for good).
    Ended {
        /// Why, and what to run.
        message: String,
    },
    /// The writer has flushed the database and stopped; no notice follows.
    Stopped,
}

/// A cloneable handle on the running engine, shared by every front end of this process.
#[derive(Clone)]
pub struct EngineHandle {
    reader: Reader,
    clock: Clock,
    jobs: mpsc::UnboundedSender<Job>,
    changes: broadcast::Sender<Notice>,
    board: Arc<partners::board::Board>,
    metrics: Arc<Metrics>,
}

impl EngineHandle {
    /// A read-only view of the engine (reads never wait for the writer).
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// The clock the engine runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The live state of the partner connections.
    pub fn partner_board(&self) -> &partners::board::Board {
        &self.board
    }

    /// This process's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Every partner connection with its backlog, in a fixed order (field work, head-end,
    /// e-mail).
    pub fn partners(&self) -> Result<Vec<PartnerStatus>, EngineError> {
        partners::statuses(&self.reader, &self.board, self.clock.now())
    }

    /// The change stream: every notice the writer announces from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.changes.subscribe()
    }

    /// Tells every listener (a session list changed, the server stops…).
    pub fn announce(&self, notice: Notice) {
        // Nobody listening is fine: the work itself is already durable.
        let _ = self.changes.send(notice);
    }

    /// Runs `write` on the writer thread at the engine clock's `now`, waits for it, and
    /// announces the change. Blocks: call it from a plain thread or `spawn_blocking`.
    pub fn write<R: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Engine, Instant) -> Result<R, EngineError> + Send + 'static,
    ) -> Result<R, EngineError> {
        self.run(move |writer| writer.write(write))
    }

    /// A whole monitor pass now (answers due, monitors, the batch when due, the outbox), at
    /// `actor`'s request; checked against the actor's rights first.
    pub fn pass(&self, actor: Actor) -> Result<TickReport, EngineError> {
        self.run(move |writer| writer.pass_for(&actor))
    }

    /// The operator's run of the throttle batch: audited, announced as a manual run.
    pub fn crwto(&self, actor: Actor, throttle: Option<bool>) -> Result<CrwtoReport, EngineError> {
        self.run(move |writer| writer.manual_crwto(&actor, throttle))
    }

    fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Writer) -> Result<R, EngineError> + Send + 'static,
    ) -> Result<R, EngineError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job = Job::Run(Box::new(move |writer: &mut Writer| {
            let _ = tx.send(job(writer));
        }));
        if self.jobs.send(job).is_err() {
            return Err(stopped());
        }
        // A dropped sender means the job panicked (the writer caught it) or never ran.
        rx.recv().unwrap_or_else(|_| {
            Err(EngineError::Corrupt(
                "the engine stopped before the action finished; check it and try again".into(),
            ))
        })
    }
}

fn stopped() -> EngineError {
    EngineError::refused(
        "ENGINE_STOPPED",
        "the engine has stopped, so the action was not applied; start orderdesk again",
    )
}

/// The running background runtime.
pub struct Runtime {
    handle: EngineHandle,
    stopping: Arc<AtomicBool>,
    timer: Option<tokio::task::JoinHandle<()>>,
    /// The couriers, file-drop watchers and simulated partners.
    background: Vec<tokio::task::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<Result<(), EngineError>>>,
}

impl Runtime {
    /// Starts the writer thread and, when `options` pace passes, the monitor timer and the
    /// partner connections (which need a tokio runtime).
    pub fn start(mut engine: Engine, options: RuntimeOptions) -> Result<Runtime, EngineError> {
        let background_work = options.monitor_every.is_some();
        if background_work {
            // A database from before the outbox was kept per partner still delivers.
            engine.rekey_undelivered()?;
        }
        let config = engine.shared_config();
        let reader = engine.reader();
        let (jobs, job_rx) = mpsc::unbounded_channel();
        let (changes, _) = broadcast::channel(CHANGE_BACKLOG);
        let pass_queued = Arc::new(AtomicBool::new(false));
        let stopping = Arc::new(AtomicBool::new(false));
        let metrics = Arc::new(Metrics::new());
        let state = Writer::new(
            engine,
            &options,
            changes.clone(),
            Arc::clone(&pass_queued),
            Arc::clone(&stopping),
            Arc::clone(&metrics),
        );
        let writer = std::thread::Builder::new()
            .name("orderdesk-engine".into())
            .spawn(move || state.run(job_rx))
            .map_err(|err| {
                EngineError::Corrupt(format!("could not start the engine thread: {err}"))
            })?;
        let timer = options.monitor_every.map(|every| {
            tokio::spawn(pace(
                every.max(MIN_MONITOR_EVERY),
                jobs.clone(),
                pass_queued,
            ))
        });
        let mut runtime = Runtime {
            handle: EngineHandle {
                reader,
                clock: options.clock,
                jobs,
                changes,
                board: Arc::default(),
                metrics,
            },
            stopping,
            timer,
            background: Vec::new(),
            writer: Some(writer),
        };
        if background_work {
            // On failure the runtime is dropped, which stops the writer again.
            runtime.background = partners::start(&runtime.handle, &config, options.simulate)
                .map_err(EngineError::BadInput)?;
        }
        Ok(runtime)
    }

    /// The handle every front end of this process uses.
    pub fn handle(&self) -> &EngineHandle {
        &self.handle
    }

    /// Stops the timer, lets the writer finish the writes already accepted, flushes the
    /// database and joins the writer.
    pub async fn shutdown(mut self) -> Result<(), EngineError> {
        self.stop_timer();
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        // Behind every write already queued, so those are finished first.
        let _ = self.handle.jobs.send(Job::Stop);
        match tokio::task::spawn_blocking(move || writer.join()).await {
            Ok(joined) => joined_result(joined),
            Err(err) => Err(EngineError::Corrupt(format!(
                "could not wait for the engine thread: {err}"
            ))),
        }
    }

    /// [`Runtime::shutdown`] for a caller with no tokio runtime (the command line).
    pub fn shutdown_blocking(mut self) -> Result<(), EngineError> {
        self.stop_timer();
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let _ = self.handle.jobs.send(Job::Stop);
        joined_result(writer.join())
    }

    fn stop_timer(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(timer) = self.timer.take() {
            // Cancelled is the expected outcome; the timer holds nothing to clean up.
            timer.abort();
        }
        // A courier stopped mid-delivery sends that message again next time (at least once).
        for task in self.background.drain(..) {
            task.abort();
        }
    }
}

fn joined_result(joined: std::thread::Result<Result<(), EngineError>>) -> Result<(), EngineError> {
    joined.unwrap_or_else(|_| {
        Err(EngineError::Corrupt(
            "the engine thread stopped with a panic; check the database before going on".into(),
        ))
    })
}

impl Drop for Runtime {
    /// Starts the stop without waiting: the writer finishes, flushes and exits by itself.
    fn drop(&mut self) {
        self.stop_timer();
        if self.writer.take().is_some() {
            let _ = self.handle.jobs.send(Job::Stop);
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

/// Resolves when the process gets SIGTERM or SIGINT, so a server or a desk can stop cleanly;
/// create it once, pin it and select on it.
pub async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
    }
    std::future::pending::<()>().await
}
