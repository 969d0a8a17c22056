//! The engine on a server: every call of [`Api`] as a request to `/v1` over the database's
//! Unix socket, and the server's change stream kept open (and reopened after a restart) on a
//! thread of its own, so the desk's event loop never waits on the network.

use super::{Api, Session, SessionInfo};
use crate::config::Config;
use crate::domain::{AuditEntry, AuditFilter, Instant};
use crate::engine::{
    ActionReport, ActivityRow, ActivityTree, BatchRun, BulkActionReport, BulkReport, CommView,
    CompleteFa, Created, CrwtoReport, CustomerMatch, DayReleases, EngineError, FeedRequest,
    FeedView, HourCounts, InboundReport, ListFilter, Move, MoveReport, Near, NewWorkOrder,
    TickReport, WaitingCommand,
};
use crate::runtime::{Clock, Notice};
use crate::server::routes::{
    AssignCall, CreateCall, CrwtoCall, EditCall, FeedCall, IdsCall, MoveCall, ReasonCall,
    SessionReply, StatusCall, UpdateCall, Window, CHANNEL, OPERATOR, READ_ONLY, SESSION,
};
use crate::throttle::Candidate;
use crate::workorders::{Assignee, WoStatus, WorkOrder};
use axum::body::Bytes;
use chrono::NaiveDate;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How long a call may take before the client gives up on it (a bulk write can be long).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest pause between two attempts to reach a server that went away.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Who a client asks to act as, and how it arrives.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// `--operator`: another operator (only for accounts allowed to act for others).
    pub operator: Option<String>,
    /// `--read-only`.
    pub read_only: bool,
    /// desk, cli or api.
    pub channel: String,
}

/// Why a server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// Nothing listens on the socket: the caller may open the database itself.
    #[error("no server is running")]
    NotRunning,
    /// Something listens but does not answer as an orderdesk server.
    #[error("the server does not answer: {0}")]
    Unreachable(String),
    /// The server refused this client (its operator, or the session).
    #[error(transparent)]
    Refused(EngineError),
}

/// What the client thread is asked to do.
enum Job {
    /// One request, answered on `reply`.
    Call {
        request: Request<Full<Bytes>>,
        reply: std::sync::mpsc::SyncSender<Result<(StatusCode, Bytes), String>>,
    },
    /// Keep the change stream open for as long as the client lives.
    Follow(Follow),
}

/// What following the change stream needs.
struct Follow {
    endpoint: Endpoint,
    wanted: Wanted,
    changes: broadcast::Sender<Notice>,
    session_id: Arc<Mutex<Option<u64>>>,
}

/// The engine on a server.
pub struct Remote {
    endpoint: Endpoint,
    session: Session,
    wanted: Wanted,
    calls: mpsc::UnboundedSender<Job>,
    changes: broadcast::Sender<Notice>,
    session_id: Arc<Mutex<Option<u64>>>,
    /// The change stream is opened by the first client that asks for it (a desk; a command
    /// of the command line never does, and so is no session).
    following: std::sync::Once,
}

impl Remote {
    /// Connects to the server on `socket`; [`RemoteError::NotRunning`] when none listens.
    pub fn connect(socket: &Path, wanted: Wanted) -> Result<Remote, RemoteError> {
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(RemoteError::NotRunning)
            }
            Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(RemoteError::Unreachable(format!(
                    "permission denied: the socket is open to its owner and its group only \
                     (`group` of [server] in the server's configuration); ask to be added ({err})"
                )))
            }
            Err(err) => return Err(RemoteError::Unreachable(err.to_string())),
        }
        Remote::open(Endpoint::Unix(socket.to_path_buf()), wanted)
    }

    /// Connects to the server at `endpoint`.
    pub fn open(endpoint: Endpoint, wanted: Wanted) -> Result<Remote, RemoteError> {
        let (calls, call_rx) = mpsc::unbounded_channel();
        let (changes, _) = broadcast::channel(1024);
        let thread_endpoint = endpoint.clone();
        std::thread::Builder::new()
            .name("orderdesk-client".into())
            .spawn(move || serve_calls(thread_endpoint, call_rx))
            .map_err(|e| {
                RemoteError::Unreachable(format!("cannot start the client thread: {e}"))
            })?;
        let placeholder = Session {
            operator: String::new(),
            role: None,
            config: Default::default(),
            clock: Clock::wall(),
            reach: String::new(),
        };
        let place = endpoint.to_string();
        let mut remote = Remote {
            endpoint,
            session: placeholder,
            wanted,
            calls,
            changes,
            session_id: Arc::new(Mutex::new(None)),
            following: std::sync::Once::new(),
        };
        let reply: SessionReply = remote.get("/v1/session", &()).map_err(|err| match err {
            EngineError::Server { code, message } if code == "SERVER_UNREACHABLE" => {
                RemoteError::Unreachable(message)
            }
            other => RemoteError::Refused(other),
        })?;
        let config = if reply.config.trim().is_empty() {
            Config::default()
        } else {
            crate::config::parse(&reply.config, "the server's configuration")
                .map_err(|e| RemoteError::Unreachable(e.to_string()))?
        };
        remote.session = Session {
            operator: reply.operator,
            role: reply.role,
            config: std::sync::Arc::new(config),
            clock: Clock::starting_at(reply.now, reply.speed),
            reach: format!("{} at {place}", reply.holder),
        };
        Ok(remote)
    }

    /// Shared, as the desk and the command line hold it.
    pub fn shared(self) -> Arc<dyn Api> {
        Arc::new(self)
    }

    /// Opens the change stream on the client thread, reopening it when the server comes back.
    fn listen(&self) {
        let _ = self.calls.send(Job::Follow(Follow {
            endpoint: self.endpoint.clone(),
            wanted: self.wanted.clone(),
            changes: self.changes.clone(),
            session_id: Arc::clone(&self.session_id),
        }));
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, EngineError> {
        let session = *self.session_id.lock().unwrap_or_else(|e| e.into_inner());
        let request = build(&self.endpoint, &self.wanted, session, method, path, body)?;
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        if self.calls.send(Job::Call { request, reply }).is_err() {
            return Err(self.unreachable("the client thread stopped"));
        }
        let (status, bytes) = match answer.recv_timeout(CALL_TIMEOUT) {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => return Err(self.unreachable(&err)),
            Err(_) => return Err(self.unreachable("no answer in time")),
        };
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| EngineError::Server {
                code: "BAD_ANSWER".into(),
                message: format!("the server's answer to {path} could not be read: {e}"),
            });
        }
        Err(error_from(status, &bytes))
    }

    fn unreachable(&self, why: &str) -> EngineError {
        EngineError::Server {
            code: "SERVER_UNREACHABLE".into(),
            message: format!(
                "the server at {} does not answer ({why}){}",
                self.endpoint,
                if self.wanted.channel == "desk" {
                    "; the desk reconnects by itself"
                } else {
                    ""
                }
            ),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &impl Serialize,
    ) -> Result<T, EngineError> {
        let query = serde_urlencoded::to_string(query).map_err(|e| {
            EngineError::BadInput(format!("the query for {path} could not be written: {e}"))
        })?;
        let path = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        self.call(Method::GET, &path, Vec::new())
    }

    fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, EngineError> {
        let body = serde_json::to_vec(body).map_err(|e| {
            EngineError::BadInput(format!("the request to {path} could not be written: {e}"))
        })?;
        self.call(Method::POST, path, body)
    }

    fn post_raw<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T, EngineError> {
        self.call(Method::POST, path, body.to_vec())
    }
}

/// A path segment with `/`, `?`, `#` and `%` escaped.
fn segment(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn build(
    endpoint: &Endpoint,
    wanted: &Wanted,
    session: Option<u64>,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> Result<Request<Full<Bytes>>, EngineError> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "orderdesk")
        .header(CHANNEL, wanted.channel.as_str());
    if let Some(operator) = &wanted.operator {
        builder = builder.header(OPERATOR, operator.as_str());
    }
    if wanted.read_only {
        builder = builder.header(READ_ONLY, "1");
    }
    if let Some(id) = session {
        builder = builder.header(SESSION, id.to_string());
    }
    if !body.is_empty() {
        builder = builder.header("content-type", "application/json");
    }
    if let Endpoint::Tcp { token, .. } = endpoint {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| EngineError::BadInput(format!("the request to {path} is not valid: {e}")))
}

/// The engine's error from a server's error answer.
fn error_from(status: StatusCode, bytes: &[u8]) -> EngineError {
    let (code, message) = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(doc) => (
            doc["error"]["code"]
                .as_str()
                .unwrap_or("SERVER")
                .to_string(),
            doc["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned()),
        ),
        Err(_) => (
            "SERVER".to_string(),
            format!(
                "the server answered {status}: {}",
                String::from_utf8_lossy(bytes)
            ),
        ),
    };
    match status {
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::PAYLOAD_TOO_LARGE => {
            EngineError::BadInput(message)
        }
        StatusCode::FORBIDDEN | StatusCode::CONFLICT => EngineError::Refused { code, message },
        _ => EngineError::Server { code, message },
    }
}

/// The client thread: a small tokio runtime that runs every call on a fresh connection.
fn serve_calls(endpoint: Endpoint, mut calls: mpsc::UnboundedReceiver<Job>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let idle: Idle = Arc::new(Mutex::new(Vec::new()));
    runtime.block_on(async move {
        while let Some(job) = calls.recv().await {
            match job {
                Job::Call { request, reply } => {
                    let endpoint = endpoint.clone();
                    let idle = Arc::clone(&idle);
                    tokio::spawn(async move {
                        let _ = reply.send(send(&endpoint, &idle, request).await);
                    });
                }
                Job::Follow(follow) => {
                    tokio::spawn(follow.run());
                }
            }
        }
    });
}

/// Connections kept open between calls (keep-alive), so a keypress does not pay a connect.
type Idle = Arc<Mutex<Vec<hyper::client::conn::http1::SendRequest<Full<Bytes>>>>>;

/// How many idle connections a client keeps.
const KEEP_IDLE: usize = 8;

/// Sends one request, on an idle connection when one is ready, and reads the whole answer.
async fn send(
    endpoint: &Endpoint,
    idle: &Idle,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    let reused = loop {
        let Some(mut sender) = idle.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
            break None;
        };
        if sender.ready().await.is_ok() {
            break Some(sender);
        }
    };
    // A read may be sent again on a fresh connection if the kept one turns out dead; a write is
    // never sent twice.
    let again = (request.method() == Method::GET && reused.is_some()).then(|| copy(&request));
    let first = match reused {
        Some(sender) => exchange(sender, request).await,
        None => exchange(connect(endpoint).await?, request).await,
    };
    let (sender, answer) = match (first, again) {
        (Err(_), Some(request)) => exchange(connect(endpoint).await?, request).await?,
        (first, _) => first?,
    };
    let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
    if idle.len() < KEEP_IDLE && !sender.is_closed() {
        idle.push(sender);
    }
    Ok(answer)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(endpoint: &Endpoint) -> Result<Sender, String> {
    let stream = endpoint.open().await.map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(stream)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

async fn exchange(
    mut sender: Sender,
    request: Request<Full<Bytes>>,
) -> Result<(Sender, (StatusCode, Bytes)), String> {
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((sender, (status, body)))
}

fn copy(request: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

impl Follow {
    /// Reads the change stream into `changes`; when the server goes away, says so and tries
    /// again until it is back (or this session was ended, or the client is gone).
    async fn run(self) {
        let mut down_since: Option<String> = None;
        let mut pause = Duration::from_millis(100);
        loop {
            if self.changes.receiver_count() == 0 && down_since.is_some() {
                // Nobody listens any more: the desk has closed.
                return;
            }
            match self.read(&mut down_since, &mut pause).await {
                Ok(Outcome::Ended) => return,
                Ok(Outcome::Closed) | Err(_) => self.down(&mut down_since),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    fn down(&self, down_since: &mut Option<String>) {
        if down_since.is_none() {
            let message = format!("lost the server at {}; reconnecting…", self.endpoint);
            let _ = self.changes.send(Notice::Link {
                up: false,
                message: message.clone(),
            });
            *down_since = Some(message);
        }
        *self.session_id.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// One life of the stream.
    async fn read(
        &self,
        down_since: &mut Option<String>,
        pause: &mut Duration,
    ) -> Result<Outcome, String> {
        let request = build(
            &self.endpoint,
            &self.wanted,
            None,
            Method::GET,
            "/v1/events",
            Vec::new(),
        )
        .map_err(|e| e.to_string())?;
        let stream = self.endpoint.open().await.map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(stream)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            let err = error_from(status, &bytes);
            let _ = self.changes.send(Notice::Ended {
                message: err.to_string(),
            });
            return Ok(Outcome::Ended);
        }
        if down_since.take().is_some() {
            let _ = self.changes.send(Notice::Link {
                up: true,
                message: format!("reconnected to the server at {}", self.endpoint),
            });
        }
        *pause = Duration::from_millis(100);
        let mut buffer = String::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| e.to_string())?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buffer.push_str(&String::from_utf8_lossy(&data));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if self.dispatch(&event, down_since) {
                    return Ok(Outcome::Ended);
                }
            }
        }
        Ok(Outcome::Closed)
    }

    /// Handles one server-sent event; true when the session is over for good.
    fn dispatch(&self, event: &str, down_since: &mut Option<String>) -> bool {
        let mut kind = "message";
        let mut data = String::new();
        for line in event.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                kind = value.trim();
            } else if let Some(value) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value.strip_prefix(' ').unwrap_or(value));
            }
        }
        match kind {
            "session" => {
                let id = serde_json::from_str::<serde_json::Value>(&data)
                    .ok()
                    .and_then(|v| v["session"].as_u64());
                *self.session_id.lock().unwrap_or_else(|e| e.into_inner()) = id;
                false
            }
            "notice" => match serde_json::from_str::<Notice>(&data) {
                Ok(notice) => {
                    let ended = matches!(notice, Notice::Ended { .. });
                    if let Notice::Link { up: false, message } = &notice {
                        // The server said why it goes; that stays the word until it is back.
                        *down_since = Some(message.clone());
                    }
                    let _ = self.changes.send(notice);
                    ended
                }
                Err(_) => false,
            },
            _ => false,
        }
    }
}

/// How a life of the change stream ended.
enum Outcome {
    /// The session is over: do not reconnect.
    Ended,
    /// The server closed the stream: reconnect.
    Closed,
}

#[derive(Serialize)]
struct ListQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    activity_type: Option<crate::domain::ActivityType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sp: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    text: &'a str,
    #[serde(flatten)]
    window: WindowQuery,
}

#[derive(Serialize)]
struct QueueQuery<'a> {
    mine: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    text: &'a str,
    #[serde(flatten)]
    window: WindowQuery,
}

#[derive(Serialize)]
struct WindowQuery {
    offset: usize,
    limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    near_at: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    near_seq: Option<u64>,
}

impl WindowQuery {
    fn new(offset: usize, limit: usize, near: Option<Near>) -> WindowQuery {
        WindowQuery {
            offset,
            limit,
            near_at: near.map(|n| n.at),
            near_seq: near.map(|n| n.seq),
        }
    }
}

#[derive(Serialize)]
struct AtQuery {
    now: Instant,
    #[serde(skip_serializing_if = "Option::is_none")]
    hours: Option<usize>,
}

impl Api for Remote {
    fn session(&self) -> &Session {
        &self.session
    }

    fn changes(&self) -> broadcast::Receiver<Notice> {
        let changes = self.changes.subscribe();
        self.following.call_once(|| self.listen());
        changes
    }

    fn show(&self, id: &str) -> Result<ActivityTree, EngineError> {
        self.get(&format!("/v1/activities/{}", segment(id)), &())
    }

    fn list_window(
        &self,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<ActivityRow>, usize), EngineError> {
        let query = ListQuery {
            state: filter.state.as_deref(),
            activity_type: filter.activity_type,
            sp: filter.sp.as_deref(),
            error_code: filter.error_code.as_deref(),
            text: &filter.text,
            window: WindowQuery::new(offset, limit, near),
        };
        let window: Window<ActivityRow> = self.get("/v1/activities", &query)?;
        Ok((window.rows, window.total))
    }

    fn queue_window(
        &self,
        mine: bool,
        text: &str,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<WorkOrder>, usize), EngineError> {
        let query = QueueQuery {
            mine,
            text,
            window: WindowQuery::new(offset, limit, near),
        };
        let window: Window<WorkOrder> = self.get("/v1/queue", &query)?;
        Ok((window.rows, window.total))
    }

    fn queue_position(&self, id: &str) -> Result<Option<usize>, EngineError> {
        self.get(&format!("/v1/queue/position/{}", segment(id)), &())
    }

    fn queue_len(&self) -> Result<usize, EngineError> {
        self.get("/v1/queue/length", &())
    }

    fn queue_counts(&self) -> Result<Vec<(WoStatus, usize)>, EngineError> {
        self.get("/v1/queue/counts", &())
    }

    fn counts_by_state(&self) -> Result<Vec<(String, usize)>, EngineError> {
        self.get("/v1/counts/states", &())
    }

    fn error_groups(&self) -> Result<Vec<(String, usize)>, EngineError> {
        self.get("/v1/counts/errors", &())
    }

    fn stuck(&self, now: Instant) -> Result<Vec<(ActivityRow, String)>, EngineError> {
        self.get("/v1/stuck", &AtQuery { now, hours: None })
    }

    fn hourly(
        &self,
        now: Instant,
        hours: usize,
    ) -> Result<Vec<(Instant, HourCounts)>, EngineError> {
        let query = AtQuery {
            now,
            hours: Some(hours),
        };
        self.get("/v1/hourly", &query)
    }

    fn work_order(&self, id: &str) -> Result<WorkOrder, EngineError> {
        self.get(&format!("/v1/work-orders/{}", segment(id)), &())
    }

    fn wo_detail(&self, id: &str) -> Result<crate::engine::WoDetail, EngineError> {
        self.get(&format!("/v1/work-orders/{}/detail", segment(id)), &())
    }

    fn throttle_queue(&self) -> Result<Vec<Candidate>, EngineError> {
        self.get("/v1/throttle/queue", &())
    }

    fn waiting_commands(&self, of: &[Candidate]) -> Result<Vec<WaitingCommand>, EngineError> {
        self.post("/v1/throttle/waiting", &of)
    }

    fn releases_on(&self, day: NaiveDate) -> Result<DayReleases, EngineError> {
        self.get("/v1/throttle/releases", &[("day", day.to_string())])
    }

    fn last_batch_run(&self) -> Result<Option<BatchRun>, EngineError> {
        self.get("/v1/throttle/last-run", &())
    }

    fn feed(
        &self,
        now: Instant,
        customer: &str,
        request: &FeedRequest,
    ) -> Result<FeedView, EngineError> {
        let call = FeedCall {
            customer: customer.to_string(),
            now: Some(now),
            request: request.clone(),
        };
        self.post("/v1/feed", &call)
    }

    fn find_customers(&self, text: &str, limit: usize) -> Result<Vec<CustomerMatch>, EngineError> {
        self.get(
            "/v1/customers",
            &[("find", text.to_string()), ("limit", limit.to_string())],
        )
    }

    fn audit(&self, filter: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>, EngineError> {
        let mut query = vec![("limit", limit.to_string())];
        let texts = [
            ("id", filter.id.clone()),
            ("operator", filter.operator.clone()),
            ("action", filter.action.clone()),
            ("from", filter.from.map(|t| t.to_rfc3339())),
            ("to", filter.to.map(|t| t.to_rfc3339())),
            ("text", Some(filter.text.clone()).filter(|t| !t.is_empty())),
        ];
        query.extend(texts.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        self.get("/v1/audit", &query)
    }

    fn outbox(&self, all: bool) -> Result<Vec<CommView>, EngineError> {
        self.get("/v1/outbox", &[("all", all)])
    }

    fn check(&self) -> Result<Vec<String>, EngineError> {
        self.get("/v1/check", &())
    }

    fn partners(&self) -> Result<Vec<crate::runtime::PartnerStatus>, EngineError> {
        self.get("/v1/partners", &())
    }

    fn sessions(&self) -> Result<Vec<SessionInfo>, EngineError> {
        self.get("/v1/sessions", &())
    }

    fn import(&self, jsonl: &[u8]) -> Result<Vec<Created>, EngineError> {
        self.post_raw("/v1/import", jsonl)
    }

    fn import_bulk(
        &self,
        jsonl: &[u8],
        _progress: Box<dyn FnMut(usize, usize) + Send>,
    ) -> Result<crate::engine::BulkImport, EngineError> {
        // The server stores the slices; its answer comes when the last one is stored.
        self.post_raw("/v1/import?bulk=true", jsonl)
    }

    fn inbound(&self, jsonl: &[u8]) -> Result<InboundReport, EngineError> {
        self.post_raw("/v1/inbound", jsonl)
    }

    fn tick(&self) -> Result<TickReport, EngineError> {
        self.post("/v1/monitor/pass", &serde_json::json!({}))
    }

    fn crwto(&self, throttle: Option<bool>) -> Result<CrwtoReport, EngineError> {
        self.post("/v1/throttle/run", &CrwtoCall { throttle })
    }

    fn retry(&self, id: &str) -> Result<ActionReport, EngineError> {
        self.post(
            &format!("/v1/activities/{}/retry", segment(id)),
            &serde_json::json!({}),
        )
    }

    fn discard(&self, id: &str, reason: Option<&str>) -> Result<ActionReport, EngineError> {
        let call = ReasonCall {
            reason: reason.map(str::to_string),
            related: None,
        };
        self.post(&format!("/v1/activities/{}/discard", segment(id)), &call)
    }

    fn execute_now(&self, id: &str) -> Result<ActionReport, EngineError> {
        let path = format!("/v1/activities/{}/execute-now", segment(id));
        self.post(&path, &serde_json::json!({}))
    }

    fn cancel(
        &self,
        id: &str,
        reason: &str,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let call = ReasonCall {
            reason: Some(reason.to_string()),
            related: related.map(str::to_string),
        };
        self.post(&format!("/v1/activities/{}/cancel", segment(id)), &call)
    }

    fn update(
        &self,
        id: &str,
        comments: &str,
        start: Option<Instant>,
        related: Option<&str>,
    ) -> Result<ActionReport, EngineError> {
        let call = UpdateCall {
            comments: Some(comments.to_string()),
            start,
            related: related.map(str::to_string),
        };
        self.post(&format!("/v1/activities/{}/update", segment(id)), &call)
    }

    fn complete_fa(&self, id: &str, report: CompleteFa) -> Result<ActionReport, EngineError> {
        self.post(&format!("/v1/activities/{}/complete", segment(id)), &report)
    }

    fn cancel_fa(&self, id: &str, reason: &str) -> Result<ActionReport, EngineError> {
        let call = ReasonCall {
            reason: Some(reason.to_string()),
            related: None,
        };
        self.post(
            &format!("/v1/activities/{}/cancel-field", segment(id)),
            &call,
        )
    }

    fn edit(&self, id: &str, sets: &[(String, String)]) -> Result<ActionReport, EngineError> {
        let call = EditCall {
            set: sets.iter().cloned().collect(),
        };
        self.post(&format!("/v1/activities/{}/edit", segment(id)), &call)
    }

    fn bulk_retry(&self, ids: &[String]) -> Result<BulkActionReport, EngineError> {
        self.post("/v1/bulk/retry", &IdsCall::of(ids, None))
    }

    fn bulk_discard(&self, ids: &[String], reason: &str) -> Result<BulkActionReport, EngineError> {
        self.post("/v1/bulk/discard", &IdsCall::of(ids, Some(reason)))
    }

    fn wo_complete(&self, ids: &[String]) -> Result<BulkReport, EngineError> {
        self.post("/v1/work-orders/complete", &IdsCall::of(ids, None))
    }

    fn wo_cancel(&self, ids: &[String], reason: &str) -> Result<BulkReport, EngineError> {
        self.post("/v1/work-orders/cancel", &IdsCall::of(ids, Some(reason)))
    }

    fn wo_assign(
        &self,
        id: &str,
        assignee: Assignee,
        schedule_for: Option<String>,
    ) -> Result<WorkOrder, EngineError> {
        let call = AssignCall {
            assignee,
            schedule_for,
        };
        self.post(&format!("/v1/work-orders/{}/assign", segment(id)), &call)
    }

    fn wo_set_status(&self, id: &str, status: WoStatus) -> Result<WorkOrder, EngineError> {
        let call = StatusCall { status };
        self.post(&format!("/v1/work-orders/{}/status", segment(id)), &call)
    }

    fn wo_create(&self, new: NewWorkOrder) -> Result<WorkOrder, EngineError> {
        let call = CreateCall {
            kind: new.kind,
            customer: new.customer,
            account: new.account,
            site: new.site,
            preferred_date: new.preferred_date,
        };
        self.post("/v1/work-orders", &call)
    }

    fn move_event(
        &self,
        event: Move,
        customer: &str,
        site: &str,
        date: NaiveDate,
    ) -> Result<MoveReport, EngineError> {
        let call = MoveCall {
            event,
            customer: customer.to_string(),
            site: site.to_string(),
            date,
        };
        self.post("/v1/moves", &call)
    }

    fn end_session(&self, id: u64) -> Result<(), EngineError> {
        let _: serde_json::Value =
            self.call(Method::DELETE, &format!("/v1/sessions/{id}"), Vec::new())?;
        Ok(())
    }

    fn pause_partner(&self, name: &str, paused: bool) -> Result<bool, EngineError> {
        let verb = if paused { "pause" } else { "resume" };
        let name = form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>();
        self.post(
            &format!("/v1/partners/{name}/{verb}"),
            &serde_json::json!({}),
        )
    }
}

/// Where a server listens: the database's Unix socket, or a TCP address (with TLS for https).
#[derive(Clone)]
pub enum Endpoint {
    /// A Unix socket: the operator is the Unix user.
    Unix(PathBuf),
    /// A TCP address: the operator is the holder of `token`.
    Tcp {
        /// host:port.
        address: String,
        /// TLS, and the name the server's certificate must carry.
        tls: Option<(
            tokio_rustls::TlsConnector,
            rustls_pki_types::ServerName<'static>,
        )>,
        /// The bearer token.
        token: String,
    },
}

/// A connection's byte stream, whichever the endpoint.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

impl Endpoint {
    /// `http://HOST:PORT` (loopback only, by the server's rule) or `https://HOST:PORT`, with
    /// the token to present and, for https, the PEM file of the certificate authority to trust.
    pub fn url(url: &str, token: &str, ca: Option<&Path>) -> Result<Endpoint, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!(
                "--server {url}: use a socket path, http://HOST:PORT or https://HOST:PORT"
            ));
        };
        let address = rest.trim_end_matches('/').to_string();
        let host = address
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(|c| c == '[' || c == ']'))
            .ok_or_else(|| format!("--server {url}: the port is missing"))?;
        if token.is_empty() {
            return Err(
                "a server over TCP needs a token: set ORDERDESK_TOKEN (an administrator makes one \
                 with `orderdesk token NAME`)"
                    .into(),
            );
        }
        let tls = if tls {
            let ca = ca.ok_or_else(|| {
                "https needs the certificate authority to trust: set ORDERDESK_CA to its PEM file"
                    .to_string()
            })?;
            Some(tls_connector(ca, host)?)
        } else {
            None
        };
        Ok(Endpoint::Tcp {
            address,
            tls,
            token: token.to_string(),
        })
    }

    async fn open(&self) -> std::io::Result<TokioIo<Box<dyn Stream>>> {
        let stream: Box<dyn Stream> = match self {
            Endpoint::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
            Endpoint::Tcp { address, tls, .. } => {
                let tcp = tokio::net::TcpStream::connect(address.as_str()).await?;
                match tls {
                    None => Box::new(tcp),
                    Some((connector, name)) => {
                        Box::new(connector.connect(name.clone(), tcp).await?)
                    }
                }
            }
        };
        Ok(TokioIo::new(stream))
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "{}", path.display()),
            Endpoint::Tcp { address, tls, .. } => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                write!(f, "{scheme}://{address}")
            }
        }
    }
}

fn tls_connector(
    ca: &Path,
    host: &str,
) -> Result<
    (
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    ),
    String,
> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host}: {e}"))?;
    Ok((
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)),
        name,
    ))
}
