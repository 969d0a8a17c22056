//! The engine in this process: reads straight from the shared store, writes through the
//! runtime's single writer, as one verified actor.

use super::{Api, Session, SessionInfo};
use crate::domain::{AuditEntry, AuditFilter, Instant};
use crate::engine::{
    ActionReport, ActivityRow, ActivityTree, Actor, BatchRun, BulkActionReport, BulkReport,
    CommView, CompleteFa, Created, CrwtoReport, CustomerMatch, DayReleases, EngineError,
    FeedRequest, FeedView, HourCounts, InboundReport, ListFilter, Move, MoveReport, Near,
    NewWorkOrder, Reader, TickReport, WaitingCommand,
};
use crate::runtime::{Clock, EngineHandle, Notice};
use crate::throttle::Candidate;
use crate::workorders::{Assignee, WoStatus, WorkOrder};
use chrono::NaiveDate;
use std::sync::Arc;

/// Lists the sessions a server holds, and ends one; `None` in a process that serves nobody.
pub trait Sessions: Send + Sync {
    /// The connected clients.
    fn list(&self) -> Vec<SessionInfo>;
    /// Ends a session; false when there is none with that id.
    fn end(&self, id: u64, by: &str) -> bool;
}

/// The engine in this process, acting as one actor.
#[derive(Clone)]
pub struct Local {
    reader: Reader,
    /// `None`: a client that only reads (a snapshot of a database no runtime writes to).
    handle: Option<EngineHandle>,
    actor: Actor,
    session: Session,
    sessions: Option<Arc<dyn Sessions>>,
}

impl Local {
    /// A client of `handle` acting as `actor`; `reach` says how it got here.
    pub fn new(handle: EngineHandle, actor: Actor, reach: &str) -> Local {
        let mut local = Local::reading(handle.reader().clone(), actor, *handle.clock());
        local.session.reach = reach.to_string();
        local.handle = Some(handle);
        local
    }

    /// A client that reads `reader` and refuses every change (nothing writes through it).
    pub fn reading(reader: Reader, actor: Actor, clock: Clock) -> Local {
        let session = Session {
            operator: actor.operator.clone(),
            role: actor.role,
            config: reader.shared_config(),
            clock,
            reach: "read-only, in this process".into(),
        };
        Local {
            reader,
            handle: None,
            actor,
            session,
            sessions: None,
        }
    }

    /// Shared, as the desk and the server hold it.
    pub fn shared(self) -> Arc<dyn Api> {
        Arc::new(self)
    }

    /// The same client, able to list and end the sessions of the server it runs in.
    pub fn with_sessions(mut self, sessions: Arc<dyn Sessions>) -> Local {
        self.sessions = Some(sessions);
        self
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    fn reader(&self) -> &Reader {
        &self.reader
    }

    fn handle(&self) -> Result<&EngineHandle, EngineError> {
        self.handle.as_ref().ok_or_else(|| {
            EngineError::refused(
                "READ_ONLY",
                "this client only reads the database: no change was made",
            )
        })
    }

    /// A write as this actor.
    fn write<R: Send + 'static>(
        &self,
        write: impl FnOnce(&mut crate::engine::Engine, &Actor, Instant) -> Result<R, EngineError>
            + Send
            + 'static,
    ) -> Result<R, EngineError> {
        let actor = self.actor.clone();
        self.handle()?
            .write(move |engine, now| write(engine, &actor, now))
    }
}

/// Refuses a partner name that is none of ours, naming those that are.
fn known_partner(name: &str) -> Result<(), EngineError> {
    if crate::runtime::partners::NAMES
        .iter()
        .any(|(n, _)| *n == name)
    {
        return Ok(());
    }
    Err(EngineError::BadInput(format!(
        "unknown partner `{name}`; the partners are field_work, head_end and email"
    )))
}

impl Api for Local {
    fn session(&self) -> &Session {
        &self.session
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        match &self.handle {
            Some(handle) => handle.subscribe(),
            // Nothing writes, so nothing will ever change: a stream that stays quiet.
            None => tokio::sync::broadcast::channel(1).1,
        }
    }

    fn show(&self, id: &str) -> Result<ActivityTree, EngineError> {
        self.reader().show(&self.actor, id)
    }

    fn list_window(
        &self,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<ActivityRow>, usize), EngineError> {
        self.reader()
            .list_window_near(&self.actor, filter, offset, limit, near)
    }

    fn queue_window(
        &self,
        mine: bool,
        text: &str,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<WorkOrder>, usize), EngineError> {
        self.reader()
            .queue_window_near(&self.actor, mine, text, offset, limit, near)
    }

    fn queue_position(&self, id: &str) -> Result<Option<usize>, EngineError> {
        self.reader().queue_position(id)
    }

    fn queue_len(&self) -> Result<usize, EngineError> {
        self.reader().queue_len()
    }

    fn queue_counts(&self) -> Result<Vec<(WoStatus, usize)>, EngineError> {
        self.reader().queue_counts()
    }

    fn counts_by_state(&self) -> Result<Vec<(String, usize)>, EngineError> {
        self.reader().counts_by_state()
    }

    fn error_groups(&self) -> Result<Vec<(String, usize)>, EngineError> {
        self.reader().error_groups()
    }

    fn stuck(&self, now: Instant) -> Result<Vec<(ActivityRow, String)>, EngineError> {
        self.reader().stuck(&self.actor, now)
    }

    fn hourly(
        &self,
        now: Instant,
        hours: usize,
    ) -> Result<Vec<(Instant, HourCounts)>, EngineError> {
        self.reader().hourly(now, hours)
    }

    fn work_order(&self, id: &str) -> Result<WorkOrder, EngineError> {
        self.reader().work_order(id)
    }

    fn wo_detail(&self, id: &str) -> Result<crate::engine::WoDetail, EngineError> {
        self.reader().wo_detail(id)
    }

    fn throttle_queue(&self) -> Result<Vec<Candidate>, EngineError> {
        self.reader().throttle_queue()
    }

    fn waiting_commands(&self, of: &[Candidate]) -> Result<Vec<WaitingCommand>, EngineError> {
        self.reader().waiting_commands(of)
    }

    fn releases_on(&self, day: NaiveDate) -> Result<DayReleases, EngineError> {
        self.reader().releases_on(day)
    }

    fn last_batch_run(&self) -> Result<Option<BatchRun>, EngineError> {
        self.reader().last_batch_run()
    }

    fn feed(
        &self,
        now: Instant,
        customer: &str,
        request: &FeedRequest,
    ) -> Result<FeedView, EngineError> {
        self.reader().feed(&self.actor, now, customer, request)
    }

    fn find_customers(&self, text: &str, limit: usize) -> Result<Vec<CustomerMatch>, EngineError> {
        self.reader().find_customers(text, limit)
    }

    fn audit(&self, filter: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>, EngineError> {
        self.reader().audit_where(filter, limit)
    }

    fn outbox(&self, all: bool) -> Result<Vec<CommView>, EngineError> {
        self.reader().outbox(all)
    }

    fn check(&self) -> Result<Vec<String>, EngineError> {
        self.reader().check_consistency()
    }

    fn partners(&self) -> Result<Vec<crate::runtime::PartnerStatus>, EngineError> {
        match &self.handle {
            Some(handle) => handle.partners(),
            // Nothing delivers for a client that only reads: every partner shows as such.
            None => crate::runtime::partners::statuses(
                &self.reader,
                &Default::default(),
                self.session.clock.now(),
            ),
        }
    }

    fn sessions(&self) -> Result<Vec<SessionInfo>, EngineError> {
        let Some(sessions) = &self.sessions else {
            return Ok(Vec::new());
        };
        let mut list = sessions.list();
        if self.actor.role != Some(crate::domain::Role::Supervisor) {
            // Others see how many are connected, not who.
            for info in &mut list {
                info.operator = String::new();
            }
        }
        Ok(list)
    }

    fn import(&self, jsonl: &[u8]) -> Result<Vec<Created>, EngineError> {
        let records = crate::formats::parse_import(jsonl)
            .map_err(|e| EngineError::BadInput(e.to_string()))?;
        self.write(move |engine, actor, now| engine.import(actor, now, records))
    }

    fn import_bulk(
        &self,
        jsonl: &[u8],
        mut progress: Box<dyn FnMut(usize, usize) + Send>,
    ) -> Result<crate::engine::BulkImport, EngineError> {
        let records = crate::formats::parse_import(jsonl)
            .map_err(|e| EngineError::BadInput(e.to_string()))?;
        // The file is named by its digest: a history of gigabytes is not copied to be hashed.
        let source = crate::engine::file_digest(jsonl);
        self.write(move |engine, actor, now| {
            engine.import_bulk(actor, now, records, Some(source), &mut *progress)
        })
    }

    fn inbound(&self, jsonl: &[u8]) -> Result<InboundReport, EngineError> {
        let messages = crate::formats::parse_inbound(jsonl)
            .map_err(|e| EngineError::BadInput(e.to_string()))?;
        self.write(move |engine, actor, now| engine.inbound(actor, now, messages))
    }

    fn tick(&self) -> Result<TickReport, EngineError> {
        self.handle()?.pass(self.actor.clone())
    }

    fn crwto(&self, throttle: Option<bool>) -> Result<CrwtoReport, EngineError> {
        self.handle()?.crwto(self.actor.clone(), throttle)
    }

    fn retry(&self, id: &str) -> Result<ActionReport, EngineError> {
        let id = id.to_string();
        self.write(move |engine, actor, now| engine.retry(actor, now, &id))
    }

    fn discard(&self, id: &str, reason: Option<&str>) -> Result<ActionReport, EngineError> {
        let (id, reason) = (id.to_string(), reason.map(str::to_string));
        self.write(move |engine, actor, now| engine.discard(actor, now, &id, reason.as_deref()))
    }

    fn execute_now(&self, id: &str) -> Result<ActionReport, EngineError> {
        let id = id.to_string();
        self.write(move |engine, actor, now| engine.execute_now(actor, now, &id))
    }

    fn cancel(
        &self,
        id: &str,
        reason: &str,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let (id, reason) = (id.to_string(), reason.to_string());
        let related = related.map(str::to_string);
        self.write(move |engine, actor, now| {
            engine.cancel(actor, now, &id, &reason, related.as_deref())
        })
    }

    fn update(
        &self,
        id: &str,
        comments: &str,
        start: Option<Instant>,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let (id, comments) = (id.to_string(), comments.to_string());
        let related = related.map(str::to_string);
        self.write(move |engine, actor, now| {
            engine.update(actor, now, &id, &comments, start, related.as_deref())
        })
    }

    fn complete_fa(&self, id: &str, report: CompleteFa) -> Result<ActionReport, EngineError> {
        let id = id.to_string();
        self.write(move |engine, actor, now| engine.complete_fa(actor, now, &id, report))
    }

    fn cancel_fa(&self, id: &str, reason: &str) -> Result<ActionReport, EngineError> {
        let (id, reason) = (id.to_string(), reason.to_string());
        self.write(move |engine, actor, now| engine.cancel_fa(actor, now, &id, &reason))
    }

    fn edit(&self, id: &str, sets: &[(String, String)]) -> Result<ActionReport, EngineError> {
        let (id, sets) = (id.to_string(), sets.to_vec());
        self.write(move |engine, actor, now| engine.edit(actor, now, &id, &sets))
    }

    fn bulk_retry(&self, ids: &[String]) -> Result<BulkActionReport, EngineError> {
        let ids = ids.to_vec();
        self.write(move |engine, actor, now| engine.bulk_retry(actor, now, &ids))
    }

    fn bulk_discard(&self, ids: &[String], reason: &str) -> Result<BulkActionReport, EngineError> {
        let (ids, reason) = (ids.to_vec(), reason.to_string());
        self.write(move |engine, actor, now| engine.bulk_discard(actor, now, &ids, &reason))
    }

    fn wo_complete(&self, ids: &[String]) -> Result<BulkReport, EngineError> {
        let ids = ids.to_vec();
        self.write(move |engine, actor, now| engine.wo_complete(actor, now, &ids))
    }

    fn wo_cancel(&self, ids: &[String], reason: &str) -> Result<BulkReport, EngineError> {
        let (ids, reason) = (ids.to_vec(), reason.to_string());
        self.write(move |engine, actor, now| engine.wo_cancel(actor, now, &ids, &reason))
    }

    fn wo_assign(
        &self,
        id: &str,
        assignee: Assignee,
        schedule_for: Option<String>,
    ) -> Result<WorkOrder, EngineError> {
        let id = id.to_string();
        self.write(move |engine, actor, now| {
            engine.wo_assign(actor, now, &id, assignee, schedule_for)
        })
    }

    fn wo_set_status(&self, id: &str, status: WoStatus) -> Result<WorkOrder, EngineError> {
        let id = id.to_string();
        self.write(move |engine, actor, now| engine.wo_set_status(actor, now, &id, status))
    }

    fn wo_create(&self, new: NewWorkOrder) -> Result<WorkOrder, EngineError> {
        self.write(move |engine, actor, now| {
            let id = engine.create_work_order(actor, now, new)?;
            engine.work_order(&id)
        })
    }

    fn move_event(
        &self,
        event: Move,
        customer: &str,
        site: &str,
        date: NaiveDate,
    ) -> Result<MoveReport, EngineError> {
        let (customer, site) = (customer.to_string(), site.to_string());
        self.write(move |engine, actor, now| {
            engine.move_event(actor, now, event, &customer, &site, date)
        })
    }

    fn end_session(&self, id: u64) -> Result<(), EngineError> {
        self.actor.check(crate::domain::Capability::EndSessions)?;
        match &self.sessions {
            Some(sessions) if sessions.end(id, &self.actor.operator) => Ok(()),
            _ => Err(EngineError::BadInput(format!(
                "session {id}: no such session is connected"
            ))),
        }
    }

    fn pause_partner(&self, name: &str, paused: bool) -> Result<bool, EngineError> {
        known_partner(name)?;
        let name = name.to_string();
        self.write(move |engine, actor, now| engine.set_partner_paused(actor, now, &name, paused))
    }
}
