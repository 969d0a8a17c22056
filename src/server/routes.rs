//! The calls of `/v1`, each one method of the client interface ([`crate::client::Api`]) run
//! as the verified caller. `docs/api.md` documents every one with an example.

use super::errors::{ApiError, JsonBody, Params, RawBody};
use super::Peer;
use super::Registry;
use crate::client::{Api, Local, SessionInfo};
use crate::domain::Instant;
use crate::engine::{EngineError, FeedRequest, ListFilter, Move, Near, NewWorkOrder};
use crate::runtime::EngineHandle;
use crate::throttle::Candidate;
use crate::workorders::{Assignee, WoKind, WoOrigin, WoStatus};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// The header naming another operator to act as.
pub const OPERATOR: &str = "x-orderdesk-operator";
/// The header naming the channel: desk, cli (default api).
pub const CHANNEL: &str = "x-orderdesk-channel";
/// The header asking for read-only (`1`).
pub const READ_ONLY: &str = "x-orderdesk-read-only";
/// The header carrying a desk's session id (from its event stream).
pub const SESSION: &str = "x-orderdesk-session";

/// What every handler shares.
#[derive(Clone)]
pub struct State {
    /// The running engine.
    pub handle: EngineHandle,
    /// The connected sessions.
    pub registry: Arc<Registry>,
    /// Who holds the database ("orderdesk serve", "the desk of ada").
    pub holder: String,
    /// The gate scripts and partners pass through: one call at once per core but one. A
    /// desk's call does not wait at it, so an operator's keypress always finds a core, however
    /// hard scripts press the server (measured in BENCHMARKS.md).
    pub busy: Arc<tokio::sync::Semaphore>,
}

impl State {
    /// The gate for a server on this machine: one call per core but one, the one kept for
    /// the desks.
    pub fn gate() -> Arc<tokio::sync::Semaphore> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)))
    }
}

/// The client interface acting as the verified caller of one request.
struct Caller {
    local: Arc<Local>,
    peer: Peer,
    /// `None` for a desk: interactive calls skip the gate.
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl FromRequestParts<State> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Caller, ApiError> {
        let peer = parts.extensions.get::<Peer>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the caller's identity is unknown",
            )
        })?;
        let header = |name: &str| -> Result<Option<String>, ApiError> {
            match parts.headers.get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .map(|v| Some(v.trim().to_string()))
                    .map_err(|_| ApiError::bad_request(format!("header {name}: not plain text"))),
            }
        };
        if let Some(session) = header(SESSION)? {
            let id: u64 = session.parse().map_err(|_| {
                ApiError::bad_request(format!("header {SESSION}: `{session}` is not a session id"))
            })?;
            if let Some(why) = state.registry.ended_why(id) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "SESSION_ENDED",
                    why,
                ));
            }
        }
        let channel = header(CHANNEL)?.unwrap_or_else(|| "api".into());
        if !matches!(channel.as_str(), "desk" | "cli" | "api") {
            return Err(ApiError::bad_request(format!(
                "header {CHANNEL}: `{channel}`; use desk, cli or api"
            )));
        }
        let read_only = header(READ_ONLY)?.is_some_and(|v| v == "1" || v == "true");
        let operator = header(OPERATOR)?;
        let config = state.handle.reader().config();
        let account = match &peer.account {
            Some(account) => account.clone(),
            None => token_holder(&header("authorization")?, config)?,
        };
        let actor =
            crate::identity::actor_for(config, &account, operator.as_deref(), read_only, &channel)?;
        let local = Local::new(state.handle.clone(), actor, &state.holder)
            .with_sessions(Arc::clone(&state.registry) as Arc<dyn crate::client::Sessions>);
        Ok(Caller {
            local: Arc::new(local),
            peer,
            gate: (channel != "desk").then(|| Arc::clone(&state.busy)),
        })
    }
}

/// The account of the bearer token a TCP client presents.
fn token_holder(
    authorization: &Option<String>,
    config: &crate::config::Config,
) -> Result<String, ApiError> {
    let unauthenticated = |message: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            message.to_string(),
        )
    };
    let Some(value) = authorization else {
        return Err(unauthenticated(
            "over TCP every request presents a token: Authorization: Bearer <token>",
        ));
    };
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
    config
        .server
        .token_holder(token.trim())
        .map(str::to_string)
        .ok_or_else(|| unauthenticated("the token is not one the server knows"))
}

impl Caller {
    /// Runs `call` on the blocking pool (reads touch the disk, writes wait for the writer).
    async fn run<T: Serialize + Send + 'static>(
        self,
        call: impl FnOnce(&Local) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<Json<T>, ApiError> {
        let local = self.local;
        // Held until the call is done; a closed gate cannot happen (it is never closed).
        let _permit = match &self.gate {
            Some(gate) => Arc::clone(gate).acquire_owned().await.ok(),
            None => None,
        };
        match tokio::task::spawn_blocking(move || call(&local)).await {
            Ok(result) => Ok(Json(result?)),
            Err(err) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                format!("the call failed inside the server: {err}"),
            )),
        }
    }
}

/// Every route of the API; every call but the change stream answers within `timeout`.
pub fn router(state: State, timeout: Duration) -> Router {
    let calls = Router::new()
        .route("/session", get(session))
        .route("/sessions", get(sessions))
        .route("/sessions/{id}", delete(end_session))
        .route("/activities", get(list))
        .route("/activities/{id}", get(show))
        .route("/activities/{id}/retry", post(retry))
        .route("/activities/{id}/discard", post(discard))
        .route("/activities/{id}/execute-now", post(execute_now))
        .route("/activities/{id}/cancel", post(cancel))
        .route("/activities/{id}/update", post(update))
        .route("/activities/{id}/complete", post(complete_fa))
        .route("/activities/{id}/cancel-field", post(cancel_fa))
        .route("/activities/{id}/edit", post(edit))
        .route("/bulk/retry", post(bulk_retry))
        .route("/bulk/discard", post(bulk_discard))
        .route("/counts/states", get(counts_by_state))
        .route("/counts/errors", get(error_groups))
        .route("/stuck", get(stuck))
        .route("/hourly", get(hourly))
        .route("/queue", get(queue))
        .route("/queue/length", get(queue_len))
        .route("/queue/counts", get(queue_counts))
        .route("/queue/position/{id}", get(queue_position))
        .route("/work-orders", post(wo_create))
        .route("/work-orders/{id}", get(work_order))
        .route("/work-orders/{id}/detail", get(wo_detail))
        .route("/work-orders/{id}/assign", post(wo_assign))
        .route("/work-orders/{id}/status", post(wo_set_status))
        .route("/work-orders/complete", post(wo_complete))
        .route("/work-orders/cancel", post(wo_cancel))
        .route("/moves", post(move_event))
        .route("/feed", post(feed))
        .route("/customers", get(find_customers))
        .route("/throttle/queue", get(throttle_queue))
        .route("/throttle/waiting", post(waiting_commands))
        .route("/throttle/releases", get(releases_on))
        .route("/throttle/last-run", get(last_batch_run))
        .route("/throttle/run", post(crwto))
        .route("/monitor/pass", post(tick))
        .route("/audit", get(audit))
        .route("/outbox", get(outbox))
        .route("/check", get(check))
        .route("/import", post(import))
        .route("/inbound", post(inbound))
        .route("/partners", get(partners))
        .route("/partners/{name}/pause", post(pause_partner))
        .route("/partners/{name}/resume", post(resume_partner))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    move |_| async move { timed_out(timeout) },
                ))
                .timeout(timeout),
        );
    let v1 = calls
        .route("/events", get(events))
        .method_not_allowed_fallback(wrong_method);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .nest("/v1", v1)
        .fallback(unknown_call)
        .with_state(state)
}

fn timed_out(timeout: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "TIMEOUT",
        format!(
            "the request took longer than {} s (a client that stalls mid-request, or a very \
             large import: split it); nothing was changed unless its answer says so",
            timeout.as_secs()
        ),
    )
}

async fn unknown_call(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "UNKNOWN_CALL",
        format!(
            "no call {method} {}; the calls are listed in docs/api.md",
            uri.path()
        ),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "WRONG_METHOD",
        format!(
            "{} does not take {method}; see docs/api.md for its method",
            uri.path()
        ),
    )
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    holder: String,
    sessions: usize,
}

async fn healthz(axum::extract::State(state): axum::extract::State<State>) -> Json<Health> {
    use crate::client::Sessions;
    Json(Health {
        status: "ok",
        holder: state.holder.clone(),
        sessions: state.registry.list().len(),
    })
}

/// `GET /v1/session`: who the server takes the caller for, and what it runs under.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionReply {
    /// The operator the audit records.
    pub operator: String,
    /// Their role (absent: may only look).
    pub role: Option<crate::domain::Role>,
    /// The verified account, when it acts as another operator.
    pub account: Option<String>,
    /// Engine time now.
    pub now: Instant,
    /// Engine seconds per wall second.
    pub speed: f64,
    /// The configuration file the engine runs under (TOML).
    pub config: String,
    /// Who holds the database.
    pub holder: String,
}

async fn session(
    axum::extract::State(state): axum::extract::State<State>,
    caller: Caller,
) -> Json<SessionReply> {
    let actor = caller.local.actor();
    let clock = state.handle.clock();
    Json(SessionReply {
        operator: actor.operator.clone(),
        role: actor.role,
        account: actor.account.clone(),
        now: clock.now(),
        speed: clock.speed(),
        config: state.handle.reader().config().text.0.clone(),
        holder: state.holder.clone(),
    })
}

async fn events(
    axum::extract::State(state): axum::extract::State<State>,
    caller: Caller,
) -> Response {
    state
        .registry
        .stream(caller.local.actor(), &caller.peer)
        .into_response()
}

async fn sessions(caller: Caller) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    caller.run(|api| api.sessions()).await
}

async fn end_session(caller: Caller, Path(id): Path<u64>) -> Result<Json<Ended>, ApiError> {
    caller
        .run(move |api| api.end_session(id).map(|()| Ended { ended: id }))
        .await
}

#[derive(Serialize)]
struct Ended {
    ended: u64,
}

/// A window of a list: its rows and the whole list's length.
#[derive(Debug, Serialize, Deserialize)]
pub struct Window<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// How many rows the whole list has.
    pub total: usize,
}

/// A window's near row, when the caller holds one (query strings cannot nest, so the window's
/// fields sit beside each call's own).
fn near(at: Option<usize>, seq: Option<u64>) -> Option<Near> {
    Some(Near { at: at?, seq: seq? })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListArgs {
    state: Option<String>,
    #[serde(rename = "type")]
    activity_type: Option<crate::domain::ActivityType>,
    sp: Option<String>,
    error_code: Option<String>,
    text: String,
    offset: usize,
    limit: usize,
    near_at: Option<usize>,
    near_seq: Option<u64>,
}

async fn list(
    caller: Caller,
    Params(args): Params<ListArgs>,
) -> Result<Json<Window<crate::engine::ActivityRow>>, ApiError> {
    let filter = ListFilter {
        state: args.state,
        activity_type: args.activity_type,
        sp: args.sp,
        error_code: args.error_code,
        limit: 0,
        text: args.text,
    };
    let near = near(args.near_at, args.near_seq);
    let (offset, limit) = (args.offset, args.limit);
    caller
        .run(move |api| {
            let (rows, total) = api.list_window(&filter, offset, limit, near)?;
            Ok(Window { rows, total })
        })
        .await
}

async fn show(
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::engine::ActivityTree>, ApiError> {
    caller.run(move |api| api.show(&id)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueueArgs {
    mine: bool,
    text: String,
    offset: usize,
    limit: usize,
    near_at: Option<usize>,
    near_seq: Option<u64>,
}

async fn queue(
    caller: Caller,
    Params(args): Params<QueueArgs>,
) -> Result<Json<Window<crate::workorders::WorkOrder>>, ApiError> {
    let near = near(args.near_at, args.near_seq);
    let (offset, limit) = (args.offset, args.limit);
    caller
        .run(move |api| {
            let (rows, total) = api.queue_window(args.mine, &args.text, offset, limit, near)?;
            Ok(Window { rows, total })
        })
        .await
}

async fn queue_len(caller: Caller) -> Result<Json<usize>, ApiError> {
    caller.run(|api| api.queue_len()).await
}

async fn queue_counts(caller: Caller) -> Result<Json<Vec<(WoStatus, usize)>>, ApiError> {
    caller.run(|api| api.queue_counts()).await
}

async fn queue_position(
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Option<usize>>, ApiError> {
    caller.run(move |api| api.queue_position(&id)).await
}

async fn counts_by_state(caller: Caller) -> Result<Json<Vec<(String, usize)>>, ApiError> {
    caller.run(|api| api.counts_by_state()).await
}

async fn error_groups(caller: Caller) -> Result<Json<Vec<(String, usize)>>, ApiError> {
    caller.run(|api| api.error_groups()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AtArgs {
    /// Engine time to evaluate at (default: the server's clock).
    now: Option<Instant>,
    hours: Option<usize>,
}

async fn stuck(
    axum::extract::State(state): axum::extract::State<State>,
    caller: Caller,
    Params(args): Params<AtArgs>,
) -> Result<Json<Vec<(crate::engine::ActivityRow, String)>>, ApiError> {
    let now = args.now.unwrap_or_else(|| state.handle.clock().now());
    caller.run(move |api| api.stuck(now)).await
}

async fn hourly(
    axum::extract::State(state): axum::extract::State<State>,
    caller: Caller,
    Params(args): Params<AtArgs>,
) -> Result<Json<Vec<(Instant, crate::engine::HourCounts)>>, ApiError> {
    let now = args.now.unwrap_or_else(|| state.handle.clock().now());
    let hours = args.hours.unwrap_or(24).min(24 * 62);
    caller.run(move |api| api.hourly(now, hours)).await
}

async fn work_order(
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::workorders::WorkOrder>, ApiError> {
    caller.run(move |api| api.work_order(&id)).await
}

async fn wo_detail(
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::engine::WoDetail>, ApiError> {
    caller.run(move |api| api.wo_detail(&id)).await
}

async fn throttle_queue(caller: Caller) -> Result<Json<Vec<Candidate>>, ApiError> {
    caller.run(|api| api.throttle_queue()).await
}

async fn waiting_commands(
    caller: Caller,
    JsonBody(of): JsonBody<Vec<Candidate>>,
) -> Result<Json<Vec<crate::engine::WaitingCommand>>, ApiError> {
    caller.run(move |api| api.waiting_commands(&of)).await
}

#[derive(Debug, Deserialize)]
struct DayArgs {
    day: NaiveDate,
}

async fn releases_on(
    caller: Caller,
    Params(args): Params<DayArgs>,
) -> Result<Json<crate::engine::DayReleases>, ApiError> {
    caller.run(move |api| api.releases_on(args.day)).await
}

async fn last_batch_run(caller: Caller) -> Result<Json<Option<crate::engine::BatchRun>>, ApiError> {
    caller.run(|api| api.last_batch_run()).await
}

/// `POST /v1/feed`: a customer's feed (a read with a body: the request has a category set and
/// a range).
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedCall {
    /// The customer.
    pub customer: String,
    /// Engine time the six-month windows count back from (default: the server's clock).
    #[serde(default)]
    pub now: Option<Instant>,
    /// Account, categories and range.
    #[serde(default, flatten)]
    pub request: FeedRequest,
}

async fn feed(
    axum::extract::State(state): axum::extract::State<State>,
    caller: Caller,
    JsonBody(call): JsonBody<FeedCall>,
) -> Result<Json<crate::engine::FeedView>, ApiError> {
    let now = call.now.unwrap_or_else(|| state.handle.clock().now());
    caller
        .run(move |api| api.feed(now, &call.customer, &call.request))
        .await
}

#[derive(Debug, Deserialize)]
struct FindArgs {
    find: String,
    #[serde(default = "twenty")]
    limit: usize,
}

fn twenty() -> usize {
    20
}

async fn find_customers(
    caller: Caller,
    Params(args): Params<FindArgs>,
) -> Result<Json<Vec<crate::engine::CustomerMatch>>, ApiError> {
    let limit = args.limit.min(1_000);
    caller
        .run(move |api| api.find_customers(&args.find, limit))
        .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditArgs {
    id: Option<String>,
    operator: Option<String>,
    action: Option<String>,
    from: Option<Instant>,
    to: Option<Instant>,
    text: String,
    limit: usize,
}

async fn audit(
    caller: Caller,
    Params(args): Params<AuditArgs>,
) -> Result<Json<Vec<crate::domain::AuditEntry>>, ApiError> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(ApiError::bad_request(format!(
                "query parameters `from` and `to`: from {} is after to {}",
                from.to_rfc3339(),
                to.to_rfc3339()
            )));
        }
    }
    let filter = crate::domain::AuditFilter {
        id: args.id,
        operator: args.operator,
        action: args.action,
        from: args.from,
        to: args.to,
        text: args.text,
    };
    caller.run(move |api| api.audit(&filter, args.limit)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutboxArgs {
    all: bool,
}

async fn outbox(
    caller: Caller,
    Params(args): Params<OutboxArgs>,
) -> Result<Json<Vec<crate::engine::CommView>>, ApiError> {
    caller.run(move |api| api.outbox(args.all)).await
}

async fn check(caller: Caller) -> Result<Json<Vec<String>>, ApiError> {
    caller.run(|api| api.check()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImportArgs {
    bulk: bool,
}

/// `POST /v1/import`: the records, all or nothing; with `bulk=true`, in durable slices that a
/// second request with the same file resumes (the answer is then a summary, not a list).
async fn import(
    caller: Caller,
    Params(args): Params<ImportArgs>,
    RawBody(body): RawBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller
        .run(move |api| {
            let answer = match args.bulk {
                true => serde_json::to_value(api.import_bulk(&body, Box::new(|_, _| {}))?),
                false => serde_json::to_value(api.import(&body)?),
            };
            answer.map_err(|e| EngineError::Corrupt(format!("an answer cannot be encoded: {e}")))
        })
        .await
}

/// `POST /v1/inbound`: a partner presenting its `inbound_token` gets an answer per record
/// (see `runtime::partners::inbound`); an operator (`orderdesk inbound FILE`) gets the file's
/// all-or-nothing check and report. A token that is nobody's is refused before anything is read.
async fn inbound(
    axum::extract::State(state): axum::extract::State<State>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    use axum::extract::FromRequest;
    use axum::response::IntoResponse;
    let (mut parts, body) = request.into_parts();
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer {
        let config = state.handle.reader().config();
        if let Some(partner) = config.partners.token_holder(&token) {
            let request = axum::extract::Request::from_parts(parts, body);
            let RawBody(bytes) = RawBody::from_request(request, &state).await?;
            let _permit = Arc::clone(&state.busy).acquire_owned().await.ok();
            let handle = state.handle.clone();
            let answer = tokio::task::spawn_blocking(move || {
                crate::runtime::partners::inbound::receive(&handle, partner, &bytes)
            })
            .await
            .map_err(|err| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    format!("the call failed inside the server: {err}"),
                )
            })??;
            let status = if answer.rejected == 0 {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return Ok((status, Json(answer)).into_response());
        }
        if config.server.token_holder(&token).is_none() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the token is neither a partner's ([partners.*] inbound_token) nor an \
                 operator's ([server.tokens]); nothing was read",
            ));
        }
    }
    let caller = Caller::from_request_parts(&mut parts, &state).await?;
    let request = axum::extract::Request::from_parts(parts, body);
    let RawBody(bytes) = RawBody::from_request(request, &state).await?;
    Ok(caller
        .run(move |api| api.inbound(&bytes))
        .await?
        .into_response())
}

async fn partners(caller: Caller) -> Result<Json<Vec<crate::runtime::PartnerStatus>>, ApiError> {
    caller.run(|api| api.partners()).await
}

async fn pause_partner(caller: Caller, Path(name): Path<String>) -> Result<Json<bool>, ApiError> {
    caller.run(move |api| api.pause_partner(&name, true)).await
}

async fn resume_partner(caller: Caller, Path(name): Path<String>) -> Result<Json<bool>, ApiError> {
    caller.run(move |api| api.pause_partner(&name, false)).await
}

/// `GET /metrics`: the Prometheus text, for any authenticated caller.
async fn metrics(
    axum::extract::State(state): axum::extract::State<State>,
    _caller: Caller,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let handle = state.handle.clone();
    let text = tokio::task::spawn_blocking(move || handle.metrics().render(&handle))
        .await
        .map_err(|err| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                format!("the metrics failed inside the server: {err}"),
            )
        })??;
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], text).into_response())
}

async fn tick(caller: Caller) -> Result<Json<crate::engine::TickReport>, ApiError> {
    caller.run(|api| api.tick()).await
}

/// `POST /v1/throttle/run`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrwtoCall {
    /// Apply the throttle schedule (default: the configured Remote Disconnect option).
    pub throttle: Option<bool>,
}

async fn crwto(
    caller: Caller,
    JsonBody(call): JsonBody<CrwtoCall>,
) -> Result<Json<crate::engine::CrwtoReport>, ApiError> {
    caller.run(move |api| api.crwto(call.throttle)).await
}

type Report = Result<Json<crate::engine::ActionReport>, ApiError>;

async fn retry(caller: Caller, Path(id): Path<String>) -> Report {
    caller.run(move |api| api.retry(&id)).await
}

/// The body of the calls that take a reason (all optional but where the call says).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReasonCall {
    /// Why.
    pub reason: Option<String>,
    /// One child instead of the whole orchestration (cancel, update).
    pub related: Option<String>,
}

async fn discard(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<ReasonCall>,
) -> Report {
    caller
        .run(move |api| api.discard(&id, call.reason.as_deref()))
        .await
}

async fn execute_now(caller: Caller, Path(id): Path<String>) -> Report {
    caller.run(move |api| api.execute_now(&id)).await
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("request body: field `{field}` is required")))
}

async fn cancel(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<ReasonCall>,
) -> Report {
    let reason = required(call.reason, "reason")?;
    caller
        .run(move |api| api.cancel(&id, &reason, call.related.as_deref()))
        .await
}

/// `POST /v1/activities/{id}/update`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateCall {
    /// New comments or instructions.
    pub comments: Option<String>,
    /// A new start (effective) time.
    pub start: Option<Instant>,
    /// One child instead of the orchestration.
    pub related: Option<String>,
}

async fn update(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<UpdateCall>,
) -> Report {
    let comments = required(call.comments, "comments")?;
    caller
        .run(move |api| api.update(&id, &comments, call.start, call.related.as_deref()))
        .await
}

async fn complete_fa(caller: Caller, Path(id): Path<String>, RawBody(body): RawBody) -> Report {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        br#"{"status":"complete"}"#
    } else {
        &body
    };
    let report = crate::formats::parse_completion_report(body)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    caller.run(move |api| api.complete_fa(&id, report)).await
}

async fn cancel_fa(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<ReasonCall>,
) -> Report {
    let reason = required(call.reason, "reason")?;
    caller.run(move |api| api.cancel_fa(&id, &reason)).await
}

/// `POST /v1/activities/{id}/edit`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EditCall {
    /// FIELD → VALUE.
    pub set: std::collections::BTreeMap<String, String>,
}

async fn edit(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<EditCall>,
) -> Report {
    if call.set.is_empty() {
        return Err(ApiError::bad_request(
            "request body: field `set` must name at least one FIELD: VALUE",
        ));
    }
    let sets: Vec<(String, String)> = call.set.into_iter().collect();
    caller.run(move |api| api.edit(&id, &sets)).await
}

/// The body of the calls over many ids.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdsCall {
    /// The ids.
    pub ids: Vec<String>,
    /// Why (discard and cancel).
    pub reason: Option<String>,
}

impl IdsCall {
    /// The body for `ids`, with a reason when the call takes one.
    pub fn of(ids: &[String], reason: Option<&str>) -> IdsCall {
        IdsCall {
            ids: ids.to_vec(),
            reason: reason.map(str::to_string),
        }
    }
}

fn some_ids(call: &IdsCall) -> Result<(), ApiError> {
    if call.ids.is_empty() {
        return Err(ApiError::bad_request(
            "request body: field `ids` must name at least one id",
        ));
    }
    Ok(())
}

async fn bulk_retry(
    caller: Caller,
    JsonBody(call): JsonBody<IdsCall>,
) -> Result<Json<crate::engine::BulkActionReport>, ApiError> {
    some_ids(&call)?;
    caller.run(move |api| api.bulk_retry(&call.ids)).await
}

async fn bulk_discard(
    caller: Caller,
    JsonBody(call): JsonBody<IdsCall>,
) -> Result<Json<crate::engine::BulkActionReport>, ApiError> {
    some_ids(&call)?;
    let reason = required(call.reason, "reason")?;
    caller
        .run(move |api| api.bulk_discard(&call.ids, &reason))
        .await
}

async fn wo_complete(
    caller: Caller,
    JsonBody(call): JsonBody<IdsCall>,
) -> Result<Json<crate::engine::BulkReport>, ApiError> {
    some_ids(&call)?;
    caller.run(move |api| api.wo_complete(&call.ids)).await
}

async fn wo_cancel(
    caller: Caller,
    JsonBody(call): JsonBody<IdsCall>,
) -> Result<Json<crate::engine::BulkReport>, ApiError> {
    some_ids(&call)?;
    let reason = required(call.reason, "reason")?;
    caller
        .run(move |api| api.wo_cancel(&call.ids, &reason))
        .await
}

/// `POST /v1/work-orders/{id}/assign`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignCall {
    /// Who does the work.
    pub assignee: Assignee,
    /// The user whose queue ("mine") shows it.
    #[serde(default)]
    pub schedule_for: Option<String>,
}

type WoReply = Result<Json<crate::workorders::WorkOrder>, ApiError>;

async fn wo_assign(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<AssignCall>,
) -> WoReply {
    caller
        .run(move |api| api.wo_assign(&id, call.assignee, call.schedule_for))
        .await
}

/// `POST /v1/work-orders/{id}/status`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusCall {
    /// SENT or SETUP.
    pub status: WoStatus,
}

async fn wo_set_status(
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(call): JsonBody<StatusCall>,
) -> WoReply {
    caller
        .run(move |api| api.wo_set_status(&id, call.status))
        .await
}

/// `POST /v1/work-orders`: a work order made by hand.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCall {
    /// The kind.
    pub kind: WoKind,
    /// The customer.
    pub customer: String,
    /// The billing account (default: the customer's first).
    #[serde(default)]
    pub account: Option<String>,
    /// The site.
    pub site: String,
    /// The preferred date.
    #[serde(default)]
    pub preferred_date: Option<NaiveDate>,
}

async fn wo_create(caller: Caller, JsonBody(call): JsonBody<CreateCall>) -> WoReply {
    let new = NewWorkOrder {
        id: None,
        kind: call.kind,
        customer: call.customer,
        account: call.account,
        site: call.site,
        origin: WoOrigin::Manual,
        status: WoStatus::New,
        preferred_date: call.preferred_date,
    };
    caller.run(move |api| api.wo_create(new)).await
}

/// `POST /v1/moves`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveCall {
    /// in or out.
    pub event: Move,
    /// The customer.
    pub customer: String,
    /// The site.
    pub site: String,
    /// The date.
    pub date: NaiveDate,
}

async fn move_event(
    caller: Caller,
    JsonBody(call): JsonBody<MoveCall>,
) -> Result<Json<crate::engine::MoveReport>, ApiError> {
    caller
        .run(move |api| api.move_event(call.event, &call.customer, &call.site, call.date))
        .await
}
