//! The engine: applies one command or one monitor batch as one storage transaction, and
//! answers the queries of the desk and the command line.
//!
//! The engine never reads the wall clock: every entry point takes `now`. Operator actions are
//! flushed to disk before they return, so "done" means durable.

mod actions;
pub mod codec;
mod consistency;
pub(crate) mod delivery;
mod feed;
mod feed_buckets;
mod flow;
mod import;
mod inbound;
mod keys;
pub mod migrate;
mod monitor;
mod queries;
mod rows;
mod settings;
mod tally;
pub(crate) mod tx;
mod window;
pub use window::{Near, Visit};
mod workorders;

pub use actions::{ActionReport, BulkActionReport, CompleteFa};
pub use delivery::{Backlog, Delivery, DELIVERY_FAILED};
pub use feed::{CustomerMatch, FeedBucket, FeedRequest, FeedRow, FeedView, MatchedOn};
pub use import::{file_digest, BulkImport, Created, BULK_SLICE};
pub use inbound::InboundReport;
pub use keys::{Parcel, Waiting};
pub use monitor::{BatchRun, CrwtoReport, DayReleases, TickReport, WaitingCommand};
pub use queries::{ActivityRow, ActivityTree, CommView, ListFilter, TreeNode};
pub use settings::{settle_config, ConfigChoice};
pub use tally::Tallies;
pub use tx::{transitions_by_state, HourCounts, TransitionNote};
pub use workorders::{BulkReport, Move, MoveReport, NewWorkOrder, WoDetail};

use crate::config::Config;
use crate::domain::{AuditEntry, AuditOutcome, Capability, Instant, Role};
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tx::Tx;

/// What can go wrong in the engine, with the exit code the command line uses.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A guard refused the operation; nothing changed (exit 1).
    #[error("{message}")]
    Refused {
        /// The refusal code (`AWAITING_FIELD_RESPONSE`, `PERMISSION_DENIED`…).
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// Bad input: an unknown id, a malformed file (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// The database failed (exit 3 when it cannot be opened).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record the engine needs is missing or inconsistent.
    #[error("internal inconsistency: {0}")]
    Corrupt(String),
    /// A server answered with an error of its own (unreachable, session ended…).
    #[error("{message}")]
    Server {
        /// The machine-readable code.
        code: String,
        /// What happened and what to do.
        message: String,
    },
}

impl EngineError {
    /// A refusal with a code.
    pub fn refused(code: &str, message: impl Into<String>) -> Self {
        EngineError::Refused {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The process exit code of the command line contract.
    pub fn exit_code(&self) -> i32 {
        match self {
            EngineError::Refused { .. } | EngineError::Corrupt(_) | EngineError::Server { .. } => 1,
            EngineError::BadInput(_) => 2,
            EngineError::Store(
                StoreError::Locked { .. }
                | StoreError::NewerSchema { .. }
                | StoreError::OlderSchema { .. }
                | StoreError::Unreadable { .. },
            ) => 3,
            EngineError::Store(_) => 1,
        }
    }

    /// The machine-readable code of `--json` errors.
    pub fn code(&self) -> &str {
        match self {
            EngineError::Refused { code, .. } => code,
            EngineError::BadInput(_) => "BAD_INPUT",
            EngineError::Store(StoreError::Locked { .. }) => "LOCKED",
            EngineError::Store(StoreError::NewerSchema { .. }) => "NEWER_SCHEMA",
            EngineError::Store(StoreError::OlderSchema { .. }) => "NEEDS_MIGRATION",
            EngineError::Store(_) => "DATABASE_ERROR",
            EngineError::Corrupt(_) => "CORRUPT",
            EngineError::Server { code, .. } => code,
        }
    }
}

/// Who is acting, with what rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The operator's name, as recorded in the audit log.
    pub operator: String,
    /// The operator's role; `None` may only look.
    pub role: Option<Role>,
    /// Divisions the operator may see when division restriction is on.
    pub divisions: Vec<String>,
    /// `--read-only`: refuse every change.
    pub read_only: bool,
    /// How the action arrived: `desk`, `cli` or `api` (`None`: the engine itself, a test).
    pub channel: Option<String>,
    /// The verified account (Unix user or token holder) when it acts as another operator.
    pub account: Option<String>,
}

impl Actor {
    /// The actor for `operator` under `config`.
    pub fn from_config(config: &Config, operator: &str, read_only: bool) -> Actor {
        let access = config.access_for(operator);
        Actor {
            operator: operator.to_string(),
            role: access.role,
            divisions: access.divisions,
            read_only,
            channel: None,
            account: None,
        }
    }

    /// An operator with `role` and no division restriction.
    pub fn with_role(operator: &str, role: Option<Role>) -> Actor {
        Actor {
            operator: operator.to_string(),
            role,
            divisions: Vec::new(),
            read_only: false,
            channel: None,
            account: None,
        }
    }

    /// The internal actor of the background runtime (monitors, batches, simulators).
    pub fn system() -> Actor {
        Actor {
            operator: "orderdesk".into(),
            role: Some(Role::Supervisor),
            divisions: Vec::new(),
            read_only: false,
            channel: None,
            account: None,
        }
    }

    /// The same actor, arrived through `channel` (`desk`, `cli`, `api`).
    pub fn via(mut self, channel: &str) -> Actor {
        self.channel = Some(channel.to_string());
        self
    }

    /// Refuses unless this actor may use `capability`.
    pub fn check(&self, capability: Capability) -> Result<(), EngineError> {
        if self.read_only {
            return Err(EngineError::refused(
                "READ_ONLY",
                "the desk is read-only (--read-only): no change was made",
            ));
        }
        match self.role {
            Some(role) if crate::domain::permits(role, capability) => Ok(()),
            role => Err(EngineError::refused(
                "PERMISSION_DENIED",
                crate::domain::refusal(&self.operator, role, capability),
            )),
        }
    }
}

/// The engine over a store.
pub struct Engine {
    store: Arc<dyn Store>,
    /// Shared with every reader: a reader (one per request on a server) copies no settings.
    config: Arc<Config>,
    /// The wall-clock time of the job being run, as its runner read it: the audit records it
    /// beside engine time (the engine reads no clock itself).
    wall: Option<Instant>,
}

/// A read-only view of the engine for the desk's views: it shares the store, and only the
/// engine's `&self` queries are reachable through it, so the engine stays the single writer.
pub struct Reader(Engine);

impl Clone for Reader {
    fn clone(&self) -> Reader {
        self.0.reader()
    }
}

impl std::ops::Deref for Reader {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.0
    }
}

impl Engine {
    /// An engine over `store` with `config`.
    pub fn new(store: Box<dyn Store>, config: Config) -> Engine {
        Engine {
            store: Arc::from(store),
            config: Arc::new(config),
            wall: None,
        }
    }

    /// A read-only handle on the same store, for another thread.
    pub fn reader(&self) -> Reader {
        Reader(Engine {
            store: Arc::clone(&self.store),
            config: Arc::clone(&self.config),
            wall: None,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration in force, shared.
    pub fn shared_config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// The store, for read-only tools (consistency checks, exports).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Sets the wall-clock time the next jobs' audit entries record (their runner reads it,
    /// as it reads engine time).
    pub fn set_wall_time(&mut self, wall: Instant) {
        self.wall = Some(wall);
    }

    /// The latest engine time this database has run at (`None`: never recorded), so that the
    /// next run's clock continues from it instead of going back.
    pub fn time_mark(&self) -> Result<Option<Instant>, EngineError> {
        tx::time_mark(self.store.as_ref())
    }

    /// Raises the database's engine-time mark to `now` (never lowers it): the runtime calls it
    /// as it runs, so a desk that does nothing but watch still moves the mark on.
    pub fn keep_time(&self, now: Instant) -> Result<(), EngineError> {
        let mut batch = crate::store::WriteBatch::default();
        tx::stage_time_mark(self.store.as_ref(), &mut batch, now)?;
        if !batch.is_empty() {
            self.store.commit(&batch)?;
        }
        Ok(())
    }

    /// Makes every committed change durable.
    pub fn flush(&self) -> Result<(), EngineError> {
        Ok(self.store.flush()?)
    }

    /// Runs `work` in one unit of work for an operator action: the permission check, the work,
    /// the audit line (done or refused) and the commit, flushed before returning.
    fn act<T>(
        &mut self,
        actor: &Actor,
        now: Instant,
        capability: Capability,
        action: &str,
        ids: &[String],
        work: impl FnOnce(&mut flow::Flow<'_, '_>) -> Result<(T, Option<String>), EngineError>,
    ) -> Result<T, EngineError> {
        let refusal = match actor.check(capability) {
            Ok(()) => {
                let mut tx = Tx::begin(self.store.as_ref(), now)?;
                let mut flow = flow::Flow::new(&mut tx, &self.config);
                match work(&mut flow) {
                    Ok((value, detail)) => {
                        tx.audit(self.audit_entry(
                            actor,
                            now,
                            action,
                            ids,
                            AuditOutcome::Done,
                            detail,
                        ));
                        tx.commit()?;
                        self.store.flush()?;
                        return Ok(value);
                    }
                    Err(err) => err,
                }
            }
            Err(err) => err,
        };
        // A refusal changes nothing but is itself audited (§12.2), unless the desk is read-only.
        if let EngineError::Refused { code, message } = &refusal {
            if !actor.read_only {
                let mut tx = Tx::begin(self.store.as_ref(), now)?;
                let outcome = AuditOutcome::Refused {
                    code: code.clone(),
                    message: message.clone(),
                };
                tx.audit(self.audit_entry(actor, now, action, ids, outcome, None));
                tx.commit()?;
                self.store.flush()?;
            }
        }
        Err(refusal)
    }

    /// An audit line for `actor`'s `action` at engine time `now`, with the job's wall time.
    fn audit_entry(
        &self,
        actor: &Actor,
        now: Instant,
        action: &str,
        ids: &[String],
        outcome: AuditOutcome,
        detail: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            seq: 0,
            at: now,
            wall: self.wall,
            operator: actor.operator.clone(),
            role: actor.role,
            channel: actor.channel.clone(),
            account: actor.account.clone(),
            action: action.to_string(),
            ids: ids.to_vec(),
            outcome,
            detail,
        }
    }
}
