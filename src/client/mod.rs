//! The one client interface: every query and action of the engine, as the desk, the command
//! line and the server's handlers call it, whether the engine runs in this process
//! ([`Local`]) or in `orderdesk serve` on the other end of a socket ([`Remote`]).
//!
//! Who acts is not a parameter: a [`Local`] acts as the identity it was opened with (the
//! process's real user, or the peer a server verified), a [`Remote`] as the server decides.

mod connection;
mod local;
mod remote;
mod requests;

pub use connection::Connection;
pub use local::{Local, Sessions};
pub use remote::{Endpoint, Remote, RemoteError, Wanted};
pub use requests::Request;

use crate::config::Config;
use crate::domain::{AuditEntry, AuditFilter, Instant, Role};
use crate::engine::{
    ActionReport, ActivityRow, ActivityTree, BatchRun, BulkActionReport, BulkReport, CommView,
    CompleteFa, Created, CrwtoReport, CustomerMatch, DayReleases, EngineError, FeedRequest,
    FeedView, HourCounts, InboundReport, ListFilter, Move, MoveReport, Near, NewWorkOrder,
    TickReport, WaitingCommand, WoDetail,
};
use crate::runtime::{Clock, Notice};
use crate::throttle::Candidate;
use crate::workorders::{Assignee, WoStatus, WorkOrder};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who a client acts as, and what it runs under.
#[derive(Debug, Clone)]
pub struct Session {
    /// The operator whose name the audit records.
    pub operator: String,
    /// Their role (`None`: may only look).
    pub role: Option<Role>,
    /// The configuration the engine runs under (the server's, for a remote client).
    pub config: std::sync::Arc<Config>,
    /// Engine time.
    pub clock: Clock,
    /// How this client reaches the engine ("in this process", "server at PATH").
    pub reach: String,
}

/// One connected client of a server, as `GET /v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's id.
    pub id: u64,
    /// The verified operator (the Unix user, or the token's holder).
    pub operator: String,
    /// desk, cli or api.
    pub channel: String,
    /// When it connected (wall clock).
    pub since: Instant,
}

/// What every front end calls. Reads never wait for writes; writes return once durable.
pub trait Api: Send + Sync {
    /// Who acts, under which configuration and clock.
    fn session(&self) -> &Session;
    /// The change stream: notices of every change, whoever made it.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Notice>;

    // ---- reads ------------------------------------------------------------------------------

    /// One activity with its whole hierarchy.
    fn show(&self, id: &str) -> Result<ActivityTree, EngineError>;
    /// Rows `[offset, offset + limit)` of the filtered activity list, and its length.
    fn list_window(
        &self,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<ActivityRow>, usize), EngineError>;
    /// Rows `[offset, offset + limit)` of the open work-order queue, and its length.
    fn queue_window(
        &self,
        mine: bool,
        text: &str,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<WorkOrder>, usize), EngineError>;
    /// Where an open order stands in the queue.
    fn queue_position(&self, id: &str) -> Result<Option<usize>, EngineError>;
    /// How many orders are open.
    fn queue_len(&self) -> Result<usize, EngineError>;
    /// Open orders by status.
    fn queue_counts(&self) -> Result<Vec<(WoStatus, usize)>, EngineError>;
    /// Top-level activities by state.
    fn counts_by_state(&self) -> Result<Vec<(String, usize)>, EngineError>;
    /// Activities in error by status-reason code.
    fn error_groups(&self) -> Result<Vec<(String, usize)>, EngineError>;
    /// What rests too long at `now`, with why.
    fn stuck(&self, now: Instant) -> Result<Vec<(ActivityRow, String)>, EngineError>;
    /// Transitions and errors per hour for the `hours` hours up to `now`.
    fn hourly(&self, now: Instant, hours: usize)
        -> Result<Vec<(Instant, HourCounts)>, EngineError>;
    /// One work order.
    fn work_order(&self, id: &str) -> Result<WorkOrder, EngineError>;
    /// One work order, open or closed, with its customer, site address and audit trail.
    fn wo_detail(&self, id: &str) -> Result<WoDetail, EngineError>;
    /// The commands waiting for the throttle batch, in release order.
    fn throttle_queue(&self) -> Result<Vec<Candidate>, EngineError>;
    /// Ids and service points of some waiting commands.
    fn waiting_commands(&self, of: &[Candidate]) -> Result<Vec<WaitingCommand>, EngineError>;
    /// What the batch released on a day (the configured zone's date).
    fn releases_on(&self, day: NaiveDate) -> Result<DayReleases, EngineError>;
    /// The last run of the batch.
    fn last_batch_run(&self) -> Result<Option<BatchRun>, EngineError>;
    /// A customer's activity feed as of `now`.
    fn feed(
        &self,
        now: Instant,
        customer: &str,
        request: &FeedRequest,
    ) -> Result<FeedView, EngineError>;
    /// Customers whose id, name or service point matches `text`.
    fn find_customers(&self, text: &str, limit: usize) -> Result<Vec<CustomerMatch>, EngineError>;
    /// Audit entries that `filter` keeps, newest last: the newest `limit` of them (0: all).
    fn audit(&self, filter: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>, EngineError>;
    /// Outbound messages awaiting an answer (`all`: every one).
    fn outbox(&self, all: bool) -> Result<Vec<CommView>, EngineError>;
    /// Index disagreements with the records (empty: consistent).
    fn check(&self) -> Result<Vec<String>, EngineError>;
    /// The clients connected to the server (names only for supervisors).
    fn sessions(&self) -> Result<Vec<SessionInfo>, EngineError>;
    /// The partner connections: how each is reached, its state and backlog.
    fn partners(&self) -> Result<Vec<crate::runtime::PartnerStatus>, EngineError>;

    // ---- writes -----------------------------------------------------------------------------

    /// Imports JSON Lines records, all or nothing.
    fn import(&self, jsonl: &[u8]) -> Result<Vec<Created>, EngineError>;
    /// Imports a large file of records in durable slices, resuming a stopped run of the same
    /// file; `progress(done, total)` follows the records stored (in process only).
    fn import_bulk(
        &self,
        jsonl: &[u8],
        progress: Box<dyn FnMut(usize, usize) + Send>,
    ) -> Result<crate::engine::BulkImport, EngineError>;
    /// Applies JSON Lines messages from the field work system and the head-end.
    fn inbound(&self, jsonl: &[u8]) -> Result<InboundReport, EngineError>;
    /// One monitor pass now.
    fn tick(&self) -> Result<TickReport, EngineError>;
    /// The throttled command batch now.
    fn crwto(&self, throttle: Option<bool>) -> Result<CrwtoReport, EngineError>;
    /// Retries an activity in error (or replays an inbound message).
    fn retry(&self, id: &str) -> Result<ActionReport, EngineError>;
    /// Discards an orchestration.
    fn discard(&self, id: &str, reason: Option<&str>) -> Result<ActionReport, EngineError>;
    /// Executes a waiting activity now.
    fn execute_now(&self, id: &str) -> Result<ActionReport, EngineError>;
    /// Files a Cancel Orchestration.
    fn cancel(
        &self,
        id: &str,
        reason: &str,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError>;
    /// Files an Update Orchestration.
    fn update(
        &self,
        id: &str,
        comments: &str,
        start: Option<Instant>,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError>;
    /// Completes a field activity by hand.
    fn complete_fa(&self, id: &str, report: CompleteFa) -> Result<ActionReport, EngineError>;
    /// Cancels a field activity by hand.
    fn cancel_fa(&self, id: &str, reason: &str) -> Result<ActionReport, EngineError>;
    /// Corrects a request in VALIDATION_ERROR.
    fn edit(&self, id: &str, sets: &[(String, String)]) -> Result<ActionReport, EngineError>;
    /// Retries many activities (one slice of a query's matches).
    fn bulk_retry(&self, ids: &[String]) -> Result<BulkActionReport, EngineError>;
    /// Discards many activities.
    fn bulk_discard(&self, ids: &[String], reason: &str) -> Result<BulkActionReport, EngineError>;
    /// Completes work orders.
    fn wo_complete(&self, ids: &[String]) -> Result<BulkReport, EngineError>;
    /// Cancels work orders with one reason.
    fn wo_cancel(&self, ids: &[String], reason: &str) -> Result<BulkReport, EngineError>;
    /// Assigns a work order.
    fn wo_assign(
        &self,
        id: &str,
        assignee: Assignee,
        schedule_for: Option<String>,
    ) -> Result<WorkOrder, EngineError>;
    /// Moves a work order to SENT or SETUP.
    fn wo_set_status(&self, id: &str, status: WoStatus) -> Result<WorkOrder, EngineError>;
    /// Creates a work order by hand.
    fn wo_create(&self, new: NewWorkOrder) -> Result<WorkOrder, EngineError>;
    /// A customer moves in or out of a site.
    fn move_event(
        &self,
        event: Move,
        customer: &str,
        site: &str,
        date: NaiveDate,
    ) -> Result<MoveReport, EngineError>;
    /// Ends another client's session (supervisors).
    fn end_session(&self, id: u64) -> Result<(), EngineError>;
    /// Pauses (`true`) or resumes deliveries to a partner; true when that changed something.
    fn pause_partner(&self, name: &str, paused: bool) -> Result<bool, EngineError>;
}

/// Every row of the filtered activity list, a window at a time, so a list of any length is
/// never held whole (the command line streams it).
pub fn list_each<E: From<EngineError>>(
    api: &dyn Api,
    filter: &ListFilter,
    mut visit: impl FnMut(ActivityRow) -> Result<(), E>,
) -> Result<(), E> {
    const PAGE: usize = 2_000;
    let mut offset = 0;
    let mut near = None;
    loop {
        let (rows, total) = api.list_window(filter, offset, PAGE, near)?;
        let read = rows.len();
        if let Some(last) = rows.last() {
            near = Some(Near {
                at: offset + read - 1,
                seq: last.seq,
            });
        }
        for row in rows {
            visit(row)?;
        }
        offset += read;
        if read == 0 || offset >= total {
            return Ok(());
        }
    }
}
