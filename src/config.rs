//! The configuration file, `config.toml` (`spec/formats.md` "Configuration", `spec/domain.md` §12.11).
//!
//! The text is read into private raw structures that reject unknown keys, then checked and turned
//! into [`Config`], so every problem is reported with the file, the line and the dotted key.

use crate::calendar::WorkCalendar;
use crate::domain::{ActivityType, Role};
use crate::throttle::{BusinessHours, Schedule, ScheduleRow};
use chrono::{NaiveDate, NaiveTime, Weekday, WeekdaySet};
use chrono_tz::Tz;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use thiserror::Error;
use toml::Spanned;

mod partners;
pub use partners::{Partner, Partners, Transport};

/// The name of the work calendar every configuration has.
pub const DEFAULT_CALENDAR: &str = "default";

/// The whole configuration, every key filled in (defaults where the file is silent).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The zone business hours, calendars, "today" and feed windows are evaluated in.
    pub timezone: Tz,
    /// How many years of history the customer activity feed offers.
    pub feed_history_years: u32,
    /// Whether operators see only the activity types of their divisions.
    pub division_restriction: bool,
    /// How often (engine minutes) the desk runs the D1-CRWTO throttle batch.
    pub crwto_every_minutes: u32,
    /// How often (wall seconds) the desk runs a monitor pass.
    pub monitor_every_seconds: u32,
    /// The `[operators]` table; `None` when the file has none (a one-person desk).
    pub operators: Option<BTreeMap<String, Operator>>,
    /// The settings of every activity type.
    pub activity_types: ActivityTypes,
    /// The work calendars by name; `default` is always there.
    pub work_calendars: WorkCalendars,
    /// The field work system.
    pub field_work: FieldWork,
    /// Work orders from move-ins and move-outs.
    pub work_orders: WorkOrders,
    /// Retrying unmatched inbound messages.
    pub inbound: Inbound,
    /// The desk's simulated field work system and head-end.
    pub simulators: Simulators,
    /// The terminal desk.
    pub desk: Desk,
    /// Response timeouts of outbound communications.
    pub communications: Communications,
    /// Smart meter command types.
    pub commands: Commands,
    /// `[access]`: who may act for others.
    pub access: AccessRules,
    /// `[server]`: `orderdesk serve`.
    pub server: Server,
    /// `[partners]`: the field work system and the head-end.
    pub partners: Partners,
    /// `[crews]`: the crews the desk offers when assigning work orders, by name.
    pub crews: Vec<Crew>,
    /// The file as written (empty for the defaults), so a server can hand its clients the
    /// very configuration it runs under.
    pub text: Source,
}

/// Whether a crew works for the utility or for a contractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrewKind {
    /// The utility's own technicians.
    Internal,
    /// A contractor's technicians.
    External,
}

/// One crew of `[crews]`: who a work order can be assigned to, and where it is emailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crew {
    /// The crew's name, as the assignment and its email show it.
    pub name: String,
    /// Internal or external.
    pub kind: CrewKind,
    /// Where an assigned work order is emailed.
    pub email: String,
}

/// A configuration's text as written. Two configurations that mean the same are equal however
/// they were written (comments, order, defaults spelled out), so the text never decides.
#[derive(Debug, Clone, Default)]
pub struct Source(pub String);

impl PartialEq for Source {
    fn eq(&self, _: &Source) -> bool {
        true
    }
}

/// `[access]`: identity rules beyond the `[operators]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessRules {
    /// The accounts (Unix users, token holders) that may name another operator with
    /// `--operator`; `"*"` lets anyone (meant for the demo only).
    pub act_for_others: Vec<String>,
}

impl AccessRules {
    /// True when `account` may act as another operator.
    pub fn may_act_for_others(&self, account: &str) -> bool {
        self.act_for_others.iter().any(|a| a == "*" || a == account)
    }
}

/// `[server]`: the long-running service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// A directory of daily log files (`server.YYYY-MM-DD.log`, 14 kept), besides stderr.
    pub log: Option<std::path::PathBuf>,
    /// The group the socket belongs to (mode 0660): the operators who may connect. Default:
    /// the server's own group.
    pub group: Option<String>,
    /// How long one request may take, its body included, before it is answered 408.
    pub request_timeout_seconds: u64,
    /// A TCP address to serve on as well as the socket (`"127.0.0.1:7878"`); off by default.
    pub listen: Option<String>,
    /// The TLS certificate chain (PEM) for `listen`; required unless it is a loopback address.
    pub tls_cert: Option<std::path::PathBuf>,
    /// The TLS private key (PEM) for `listen`.
    pub tls_key: Option<std::path::PathBuf>,
    /// `[server.tokens]`: account = "sha256:<hex of the token>"; over TCP the account is the
    /// holder of the token presented, and the file keeps only its hash.
    pub tokens: BTreeMap<String, String>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            log: None,
            group: None,
            request_timeout_seconds: 120,
            listen: None,
            tls_cert: None,
            tls_key: None,
            tokens: BTreeMap::new(),
        }
    }
}

impl Server {
    /// The account whose token is `token`, if the configuration knows it.
    pub fn token_holder(&self, token: &str) -> Option<&str> {
        let presented = token_hash(token);
        self.tokens
            .iter()
            .find(|(_, hash)| {
                hash.strip_prefix("sha256:")
                    .is_some_and(|h| constant_time_eq(h.as_bytes(), presented.as_bytes()))
            })
            .map(|(account, _)| account.as_str())
    }
}

/// `sha256:<hex>` of a token, as `[server.tokens]` stores it.
pub fn token_hash_line(token: &str) -> String {
    format!("sha256:{}", token_hash(token))
}

fn token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference, so timing tells nothing of a hash.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Default for Config {
    /// The configuration of a missing file.
    fn default() -> Self {
        Self {
            timezone: Tz::UTC,
            feed_history_years: 3,
            division_restriction: false,
            crwto_every_minutes: 15,
            monitor_every_seconds: 1,
            operators: None,
            activity_types: ActivityTypes::default(),
            work_calendars: WorkCalendars::default(),
            field_work: FieldWork::default(),
            work_orders: WorkOrders::default(),
            inbound: Inbound::default(),
            simulators: Simulators::default(),
            desk: Desk::default(),
            access: AccessRules::default(),
            server: Server::default(),
            partners: Partners::default(),
            crews: Vec::new(),
            text: Source::default(),
            communications: Communications::default(),
            commands: Commands::default(),
        }
    }
}

impl Config {
    /// The settings of one activity type.
    pub fn type_config(&self, activity: ActivityType) -> &TypeConfig {
        self.activity_types.get(activity)
    }

    /// The work calendar an activity type's business hours use.
    pub fn calendar_for(&self, activity: ActivityType) -> &WorkCalendar {
        // Validation guarantees the name exists; the fallback only guards hand-built configs.
        self.work_calendars
            .get(&self.type_config(activity).work_calendar)
            .unwrap_or_else(|| self.default_calendar())
    }

    /// The `default` work calendar (work-order business days use it, §12.10).
    pub fn default_calendar(&self) -> &WorkCalendar {
        self.work_calendars.default_calendar()
    }

    /// True when the Remote Disconnect throttle option is Allowed.
    pub fn throttle_allowed(&self) -> bool {
        self.commands.remote_disconnect.throttle == ThrottleOption::Allowed
    }

    /// The Remote Disconnect throttle schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.commands.remote_disconnect.schedule
    }

    /// What `operator` may do: without an `[operators]` table everyone is a supervisor; with one,
    /// an unlisted operator may only look. (A database once given an `[operators]` table keeps
    /// it and runs under it without `--config`: `engine::settle_config`.)
    pub fn access_for(&self, operator: &str) -> Access {
        match &self.operators {
            None => Access {
                role: Some(Role::Supervisor),
                divisions: Vec::new(),
            },
            Some(table) => table
                .get(operator)
                .map_or_else(Access::look_only, |entry| Access {
                    role: Some(entry.role),
                    divisions: entry.divisions.clone(),
                }),
        }
    }
}

/// One entry of the `[operators]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The operator's role.
    pub role: Role,
    /// The divisions the operator sees when division restriction is on.
    pub divisions: Vec<String>,
}

/// What an operator may do: a role, or none for look-only, plus their divisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The role; `None` means read-only.
    pub role: Option<Role>,
    /// The operator's divisions (meaningful only with division restriction).
    pub divisions: Vec<String>,
}

impl Access {
    /// Read-only access: the operator is not in the `[operators]` table.
    pub fn look_only() -> Self {
        Self {
            role: None,
            divisions: Vec::new(),
        }
    }
}

/// The settings of one activity type (§1.4, §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeConfig {
    /// Days an activity may stay in progress; 0 = never expires.
    pub expiration_days: u32,
    /// The engine's guard against re-evaluation loops.
    pub max_passes: u32,
    /// The division that may see activities of this type; `None` = everyone.
    pub division: Option<String>,
    /// Business hours for effective times.
    pub hours: BusinessHours,
    /// The name of the work calendar of those hours.
    pub work_calendar: String,
}

impl TypeConfig {
    /// The defaults for `activity`: only Cut for Non-Payment enforces business hours.
    pub fn default_for(activity: ActivityType) -> Self {
        Self {
            expiration_days: 2,
            max_passes: 5,
            division: None,
            hours: BusinessHours {
                ensure: activity == ActivityType::CutForNonPayment,
                ..BusinessHours::default()
            },
            work_calendar: DEFAULT_CALENDAR.to_owned(),
        }
    }
}

/// The settings of every activity type, one per [`ActivityType`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTypes {
    enable_service: TypeConfig,
    disable_service: TypeConfig,
    cut_for_non_payment: TypeConfig,
    reconnect_for_payment: TypeConfig,
    exchange_meter: TypeConfig,
    back_to_back: TypeConfig,
    cancel_orchestration: TypeConfig,
    update_orchestration: TypeConfig,
}

impl Default for ActivityTypes {
    /// Every type with its defaults.
    fn default() -> Self {
        use ActivityType as T;
        let d = TypeConfig::default_for;
        Self {
            enable_service: d(T::EnableService),
            disable_service: d(T::DisableService),
            cut_for_non_payment: d(T::CutForNonPayment),
            reconnect_for_payment: d(T::ReconnectForPayment),
            exchange_meter: d(T::ExchangeMeter),
            back_to_back: d(T::BackToBack),
            cancel_orchestration: d(T::CancelOrchestration),
            update_orchestration: d(T::UpdateOrchestration),
        }
    }
}

impl ActivityTypes {
    /// The settings of `activity`.
    pub fn get(&self, activity: ActivityType) -> &TypeConfig {
        use ActivityType as T;
        match activity {
            T::EnableService => &self.enable_service,
            T::DisableService => &self.disable_service,
            T::CutForNonPayment => &self.cut_for_non_payment,
            T::ReconnectForPayment => &self.reconnect_for_payment,
            T::ExchangeMeter => &self.exchange_meter,
            T::BackToBack => &self.back_to_back,
            T::CancelOrchestration => &self.cancel_orchestration,
            T::UpdateOrchestration => &self.update_orchestration,
        }
    }

    /// The settings of `activity`, for changing them.
    pub fn get_mut(&mut self, activity: ActivityType) -> &mut TypeConfig {
        use ActivityType as T;
        match activity {
            T::EnableService => &mut self.enable_service,
            T::DisableService => &mut self.disable_service,
            T::CutForNonPayment => &mut self.cut_for_non_payment,
            T::ReconnectForPayment => &mut self.reconnect_for_payment,
            T::ExchangeMeter => &mut self.exchange_meter,
            T::BackToBack => &mut self.back_to_back,
            T::CancelOrchestration => &mut self.cancel_orchestration,
            T::UpdateOrchestration => &mut self.update_orchestration,
        }
    }

    /// Every activity type with its settings, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (ActivityType, &TypeConfig)> + '_ {
        ActivityType::ALL.iter().map(move |t| (*t, self.get(*t)))
    }
}

/// The named work calendars; `default` always exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendars {
    default: WorkCalendar,
    others: BTreeMap<String, WorkCalendar>,
}

impl WorkCalendars {
    /// The calendar called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&WorkCalendar> {
        if name == DEFAULT_CALENDAR {
            Some(&self.default)
        } else {
            self.others.get(name)
        }
    }

    /// The `default` calendar.
    pub fn default_calendar(&self) -> &WorkCalendar {
        &self.default
    }

    /// Adds or replaces the calendar called `name`.
    pub fn insert(&mut self, name: String, calendar: WorkCalendar) {
        if name == DEFAULT_CALENDAR {
            self.default = calendar;
        } else {
            self.others.insert(name, calendar);
        }
    }

    /// Every calendar with its name, `default` first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &WorkCalendar)> + '_ {
        std::iter::once((DEFAULT_CALENDAR, &self.default))
            .chain(self.others.iter().map(|(name, cal)| (name.as_str(), cal)))
    }
}

/// `[field_work]`: the field work system.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldWork {
    /// The field work system's name; empty means NO_RECIPIENT.
    pub recipient: String,
}

impl Default for FieldWork {
    /// The recipient `MWM`.
    fn default() -> Self {
        Self {
            recipient: "MWM".to_owned(),
        }
    }
}

/// `[work_orders]`: work orders from move-ins and move-outs (§6.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkOrders {
    /// Whether move-ins and move-outs create work orders.
    pub move_in_out: bool,
    /// Business days from a move-out to its disconnection's preferred date.
    pub disconnection_business_days: u32,
}

impl Default for WorkOrders {
    /// On, 5 business days.
    fn default() -> Self {
        Self {
            move_in_out: true,
            disconnection_business_days: 5,
        }
    }
}

/// `[inbound]`: retrying unmatched inbound messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Inbound {
    /// How often an unmatched message is retried.
    pub retry_count: u32,
    /// Minutes between retries.
    pub retry_every_minutes: u32,
}

impl Default for Inbound {
    /// 3 retries, 5 minutes apart.
    fn default() -> Self {
        Self {
            retry_count: 3,
            retry_every_minutes: 5,
        }
    }
}

/// `[simulators]`: the desk's simulated field work system and head-end.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulators {
    /// The seed of the simulators' random numbers.
    pub seed: u64,
    /// Seconds before the field work system acknowledges.
    pub field_work_ack_seconds: u32,
    /// Minutes before field work completes.
    pub field_work_complete_minutes: u32,
    /// Share of field work that faults, in [0, 1].
    pub field_work_fault_rate: f64,
    /// Seconds before the head-end answers a command.
    pub head_end_result_seconds: u32,
    /// Share of commands that fault, in [0, 1].
    pub head_end_fault_rate: f64,
    /// Share of answers the external systems send twice, in [0, 1] (fault injection).
    pub duplicate_rate: f64,
    /// Share of answers that arrive only after the response timeout, in [0, 1].
    pub late_rate: f64,
    /// Chance, per message handed over, of a stray answer for a communication nobody sent.
    pub stray_rate: f64,
}

impl Default for Simulators {
    /// Seed 1, quick answers, 5 % faults.
    fn default() -> Self {
        Self {
            seed: 1,
            field_work_ack_seconds: 5,
            field_work_complete_minutes: 30,
            field_work_fault_rate: 0.05,
            head_end_result_seconds: 10,
            head_end_fault_rate: 0.05,
            duplicate_rate: 0.0,
            late_rate: 0.0,
            stray_rate: 0.0,
        }
    }
}

/// `[desk]`: the terminal desk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Desk {
    /// Whether the desk captures the mouse.
    pub mouse: bool,
    /// `[desk.stuck_minutes]`: per state code, how long an activity may rest there before the
    /// "stuck" lens shows it; states not listed use the built-in ages.
    pub stuck_minutes: BTreeMap<String, u32>,
    /// `[desk.start]`: the view each role's desk opens on.
    pub start: StartViews,
}

/// `[desk.start]`: the view a desk opens on, by the operator's role, so each starts where
/// their work is: supervisors on the error inbox, clerks on the queue, support on the feed,
/// and those who may only look on the overview.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StartViews {
    /// Supervisors' first view.
    pub supervisor: StartView,
    /// Dispatch clerks' first view.
    pub clerk: StartView,
    /// Support staff's first view.
    pub support: StartView,
    /// The first view of operators who may only look.
    pub look: StartView,
}

impl Default for StartViews {
    fn default() -> StartViews {
        StartViews {
            supervisor: StartView::Errors,
            clerk: StartView::Queue,
            support: StartView::Feed,
            look: StartView::Overview,
        }
    }
}

impl StartViews {
    /// The first view for `role` (`None`: may only look).
    pub fn for_role(&self, role: Option<crate::domain::Role>) -> StartView {
        use crate::domain::Role;
        match role {
            Some(Role::Supervisor) => self.supervisor,
            Some(Role::Clerk) => self.clerk,
            Some(Role::Support) => self.support,
            None => self.look,
        }
    }
}

/// A view a desk can open on, as `[desk.start]` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartView {
    /// Counts, errors and the last 24 hours.
    Overview,
    /// The open work-order queue.
    Queue,
    /// The orchestration list.
    Orchestrations,
    /// The error inbox.
    Errors,
    /// The customer activity feed.
    Feed,
    /// The throttle.
    Throttle,
    /// The partner systems.
    Partners,
    /// The audit log.
    Audit,
}

impl Desk {
    /// How long an activity may rest in `state` before it counts as stuck.
    pub fn stuck_after(&self, state: &str) -> chrono::Duration {
        let minutes = self
            .stuck_minutes
            .get(state)
            .copied()
            .unwrap_or(match state {
                // Transient states never rest: a minute there means a chain did not finish.
                "VALIDATE" | "ARE_SP_READY" | "RETRY" | "CANCEL_SPECIFIC" | "UPDATE_SPECIFIC" => 1,
                // Waiting for the next monitor pass.
                "PENDING" => 10,
                // Waiting for an answer from outside.
                "COMM_IN_PROGRESS" => 120,
                // Errors wait for a person; a day unattended is worth a look.
                "VALIDATION_ERROR" | "ACTIVITY_ERROR" | "COMM_ERROR" => 24 * 60,
                // In progress: bounded by expiration (checked separately); this is the fallback.
                _ => 3 * 24 * 60,
            });
        chrono::Duration::minutes(i64::from(minutes))
    }
}

/// `[communications]`: response timeouts of outbound communications (§12.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Communications {
    /// Minutes the head-end has to answer a command before RESPONSE_ERROR.
    pub head_end_response_minutes: u32,
    /// Minutes the field work system has to acknowledge before RESPONSE_ERROR.
    pub field_work_ack_minutes: u32,
}

impl Default for Communications {
    /// An hour each.
    fn default() -> Self {
        Self {
            head_end_response_minutes: 60,
            field_work_ack_minutes: 60,
        }
    }
}

/// `[commands]`: smart meter command types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commands {
    /// The Remote Disconnect command type.
    pub remote_disconnect: RemoteDisconnect,
}

/// `[commands.remote_disconnect]`: throttling of Remote Disconnect commands (§4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDisconnect {
    /// Whether throttling is allowed.
    pub throttle: ThrottleOption,
    /// The throttle schedule.
    pub schedule: Schedule,
}

impl Default for RemoteDisconnect {
    /// Allowed, 08:00–12:00 → 30 and 12:00–17:00 → 10.
    fn default() -> Self {
        Self {
            throttle: ThrottleOption::Allowed,
            schedule: Schedule {
                rows: vec![
                    ScheduleRow {
                        from: EIGHT,
                        to: NOON,
                        requests: 30,
                    },
                    ScheduleRow {
                        from: NOON,
                        to: FIVE_PM,
                        requests: 10,
                    },
                ],
            },
        }
    }
}

const EIGHT: NaiveTime = const_time(8);
const NOON: NaiveTime = const_time(12);
const FIVE_PM: NaiveTime = const_time(17);

/// A whole hour, checked when the crate compiles.
const fn const_time(hour: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, 0, 0) {
        Some(time) => time,
        None => panic!("not an hour of the day"),
    }
}

/// The throttle option of a command type (§1.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleOption {
    /// The D1-CRWTO batch may throttle.
    #[default]
    Allowed,
    /// The batch releases everything due.
    NotAllowed,
}

/// A configuration problem, naming the file, the line (when known) and the dotted key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the configuration file: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML, or a key is unknown or has the wrong type.
    #[error("{}", locate(.file, *.line, .key, .message))]
    Syntax {
        /// The file.
        file: String,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The dotted key, when known.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value is well-formed but not allowed.
    #[error("{}", locate(.file, *.line, .key, .message))]
    Invalid {
        /// The file.
        file: String,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The dotted key.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}

/// `file: line N: key: message`, leaving out what is unknown.
fn locate(file: &str, line: Option<usize>, key: &str, message: &str) -> String {
    let mut text = format!("{file}: ");
    if let Some(line) = line {
        text.push_str(&format!("line {line}: "));
    }
    if !key.is_empty() {
        text.push_str(key);
        text.push_str(": ");
    }
    text.push_str(message);
    text
}

/// Parses the text of a configuration file; `source` names the file in error messages.
pub fn parse(text: &str, source: &str) -> Result<Config, ConfigError> {
    let checker = Checker { file: source, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
    build(raw, &checker)
}

/// Reads and parses a configuration file; a missing file is an error (callers choose defaults).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file)
}

// ---- raw file structure ----

/// The file as written; `None` and empty maps mean "use the default".
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    timezone: Option<Spanned<String>>,
    feed_history_years: Option<Spanned<u32>>,
    division_restriction: Option<bool>,
    crwto_every_minutes: Option<Spanned<u32>>,
    monitor_every_seconds: Option<Spanned<u32>>,
    operators: Option<BTreeMap<String, Spanned<RawOperator>>>,
    activity_types: BTreeMap<Spanned<String>, RawTypeConfig>,
    work_calendars: BTreeMap<String, RawCalendar>,
    field_work: FieldWork,
    work_orders: WorkOrders,
    inbound: Inbound,
    simulators: RawSimulators,
    desk: Desk,
    communications: Communications,
    commands: RawCommands,
    access: AccessRules,
    server: Server,
    partners: partners::RawPartners,
    crews: BTreeMap<String, Spanned<RawCrew>>,
}

/// A `[crews]` entry: `name = { kind = "internal", email = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrew {
    kind: String,
    email: String,
}

/// An operator entry: `name = "role"` or `name = { role = "...", divisions = [...] }`.
#[derive(Debug)]
enum RawOperator {
    Role(String),
    Entry(RawOperatorEntry),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperatorEntry {
    role: String,
    #[serde(default)]
    divisions: Vec<String>,
}

impl<'de> Deserialize<'de> for RawOperator {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Hand-written so that a typo inside the table gets serde's precise message rather than
        // the untagged enum's "did not match any variant".
        struct OperatorVisitor;
        impl<'de> Visitor<'de> for OperatorVisitor {
            type Value = RawOperator;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a role name or a table { role, divisions }")
            }
            fn visit_str<E: de::Error>(self, role: &str) -> Result<RawOperator, E> {
                Ok(RawOperator::Role(role.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawOperator, A::Error> {
                RawOperatorEntry::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawOperator::Entry)
            }
        }
        deserializer.deserialize_any(OperatorVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTypeConfig {
    expiration_days: Option<u32>,
    max_passes: Option<Spanned<u32>>,
    division: Option<String>,
    ensure_business_hours: Option<bool>,
    start_hour: Option<Spanned<u32>>,
    end_hour: Option<Spanned<u32>>,
    work_calendar: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCalendar {
    workdays: Option<Spanned<Vec<Spanned<String>>>>,
    holidays: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSimulators {
    seed: Option<u64>,
    field_work_ack_seconds: Option<u32>,
    field_work_complete_minutes: Option<u32>,
    field_work_fault_rate: Option<Spanned<f64>>,
    head_end_result_seconds: Option<u32>,
    head_end_fault_rate: Option<Spanned<f64>>,
    duplicate_rate: Option<Spanned<f64>>,
    late_rate: Option<Spanned<f64>>,
    stray_rate: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCommands {
    remote_disconnect: RawRemoteDisconnect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawRemoteDisconnect {
    throttle: Option<Spanned<ThrottleOption>>,
    schedule: Option<Spanned<Vec<Spanned<RawScheduleRow>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheduleRow {
    from: Spanned<String>,
    to: Spanned<String>,
    requests: u32,
}

// ---- checking ----

/// Turns spans into lines and builds errors for one file.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    /// The 1-based line of a byte offset.
    fn line_at(&self, offset: usize) -> usize {
        let before = self.text.get(..offset).unwrap_or(self.text);
        before.matches('\n').count() + 1
    }

    /// An error about the value at `span` under `key`.
    fn invalid(&self, key: &str, span: Option<Range<usize>>, message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            line: span.map(|s| self.line_at(s.start)),
            key: key.to_owned(),
            message,
        }
    }

    /// An error from the TOML reader, with the key found by looking at the text around it.
    fn syntax(&self, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map(|s| s.start);
        ConfigError::Syntax {
            file: self.file.to_owned(),
            line: offset.map(|o| self.line_at(o)),
            key: offset.map(|o| key_at(self.text, o)).unwrap_or_default(),
            message: error.message().trim().replace('\n', "; "),
        }
    }
}

/// The dotted key a byte offset of a TOML text belongs to: the nearest table header above it
/// joined with the nearest `key =` at or above it. A heuristic for error messages only.
fn key_at(text: &str, offset: usize) -> String {
    let end = text
        .get(offset..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| offset + i);
    let mut key: Option<String> = None;
    for line in text.get(..end).unwrap_or(text).lines().rev() {
        let line = line.trim();
        if let Some(header) = table_header(line) {
            return match key {
                Some(key) => format!("{header}.{key}"),
                None => header,
            };
        }
        if key.is_none() {
            key = assigned_key(line);
        }
    }
    key.unwrap_or_default()
}

/// The name in a `[table]` or `[[array]]` header line (also an unclosed one, a common typo).
fn table_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?.trim_start_matches('[');
    let name = inner.find(']').map_or(inner, |end| &inner[..end]);
    Some(name.split('.').map(str::trim).collect::<Vec<_>>().join("."))
}

/// The key of a `key = value` line (a bare, dotted or quoted key only).
fn assigned_key(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c);
    (!key.is_empty() && key.chars().all(is_key_char))
        .then(|| key.split('.').map(str::trim).collect::<Vec<_>>().join("."))
}

/// Checks the raw file and fills in the defaults.
fn build(raw: RawConfig, ck: &Checker<'_>) -> Result<Config, ConfigError> {
    let defaults = Config::default();
    let work_calendars = work_calendars(raw.work_calendars, ck)?;
    let activity_types = activity_types(raw.activity_types, &work_calendars, ck)?;
    Ok(Config {
        timezone: match raw.timezone {
            Some(name) => timezone(name, ck)?,
            None => defaults.timezone,
        },
        feed_history_years: positive(
            raw.feed_history_years,
            "feed_history_years",
            defaults.feed_history_years,
            ck,
        )?,
        division_restriction: raw
            .division_restriction
            .unwrap_or(defaults.division_restriction),
        crwto_every_minutes: positive(
            raw.crwto_every_minutes,
            "crwto_every_minutes",
            defaults.crwto_every_minutes,
            ck,
        )?,
        monitor_every_seconds: positive(
            raw.monitor_every_seconds,
            "monitor_every_seconds",
            defaults.monitor_every_seconds,
            ck,
        )?,
        operators: raw
            .operators
            .map(|table| operators(table, ck))
            .transpose()?,
        activity_types,
        work_calendars,
        field_work: raw.field_work,
        work_orders: raw.work_orders,
        inbound: raw.inbound,
        simulators: simulators(raw.simulators, ck)?,
        desk: raw.desk,
        communications: raw.communications,
        commands: Commands {
            remote_disconnect: remote_disconnect(raw.commands.remote_disconnect, ck)?,
        },
        access: raw.access,
        server: raw.server,
        partners: partners::partners(raw.partners, ck)?,
        crews: crews(raw.crews, ck)?,
        text: Source(ck.text.to_string()),
    })
}

/// An IANA zone name.
fn timezone(name: Spanned<String>, ck: &Checker<'_>) -> Result<Tz, ConfigError> {
    name.get_ref().parse::<Tz>().map_err(|_| {
        let message = format!(
            "unknown time zone `{}`; use an IANA name such as \"America/Chicago\" or \"UTC\"",
            name.get_ref()
        );
        ck.invalid("timezone", Some(name.span()), message)
    })
}

/// A count that must be at least 1 (a zero interval would spin, a zero limit guards nothing).
fn positive(
    value: Option<Spanned<u32>>,
    key: &str,
    default: u32,
    ck: &Checker<'_>,
) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if *v.get_ref() == 0 => {
            Err(ck.invalid(key, Some(v.span()), "must be at least 1".to_owned()))
        }
        Some(v) => Ok(v.into_inner()),
    }
}

/// The `[operators]` table, each role checked.
fn operators(
    table: BTreeMap<String, Spanned<RawOperator>>,
    ck: &Checker<'_>,
) -> Result<BTreeMap<String, Operator>, ConfigError> {
    table
        .into_iter()
        .map(|(name, entry)| {
            let span = entry.span();
            let (role, divisions) = match entry.into_inner() {
                RawOperator::Role(role) => (role, Vec::new()),
                RawOperator::Entry(e) => (e.role, e.divisions),
            };
            let role = Role::parse(&role).ok_or_else(|| {
                let message = format!("unknown role `{role}`; use {}", codes(Role::ALL));
                ck.invalid(&format!("operators.{name}"), Some(span), message)
            })?;
            Ok((name, Operator { role, divisions }))
        })
        .collect()
}

/// The `[crews]` table, each kind and email checked: a crew must be assignable as written.
fn crews(
    table: BTreeMap<String, Spanned<RawCrew>>,
    ck: &Checker<'_>,
) -> Result<Vec<Crew>, ConfigError> {
    table
        .into_iter()
        .map(|(name, entry)| {
            let span = entry.span();
            let raw = entry.into_inner();
            let key = format!("crews.{name}");
            // The assignment is written `kind:NAME:EMAIL`, so a name may not hold a colon.
            if name.trim().is_empty() || name.contains(':') {
                let message = "a crew's name must be non-empty and hold no colon".to_owned();
                return Err(ck.invalid(&key, Some(span), message));
            }
            let kind = match raw.kind.as_str() {
                "internal" => CrewKind::Internal,
                "external" => CrewKind::External,
                other => {
                    let message =
                        format!("unknown kind `{other}`; use \"internal\" or \"external\"");
                    return Err(ck.invalid(&format!("{key}.kind"), Some(span), message));
                }
            };
            let email = raw.email.trim().to_owned();
            if !email.contains('@') || email.contains(':') {
                let message = format!("`{email}` is not an email address (name@host)");
                return Err(ck.invalid(&format!("{key}.email"), Some(span), message));
            }
            Ok(Crew { name, kind, email })
        })
        .collect()
}

/// `a, b or c` from a list of codes.
fn codes<T: Copy + fmt::Display>(all: &[T]) -> String {
    let names: Vec<String> = all.iter().map(|v| format!("\"{v}\"")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// The `[work_calendars]` tables, on top of the default calendar.
fn work_calendars(
    raw: BTreeMap<String, RawCalendar>,
    ck: &Checker<'_>,
) -> Result<WorkCalendars, ConfigError> {
    let mut calendars = WorkCalendars::default();
    for (name, raw_calendar) in raw {
        let calendar = work_calendar(&name, raw_calendar, ck)?;
        calendars.insert(name, calendar);
    }
    Ok(calendars)
}

/// One `[work_calendars.NAME]` table; workdays default to Monday–Friday.
fn work_calendar(
    name: &str,
    raw: RawCalendar,
    ck: &Checker<'_>,
) -> Result<WorkCalendar, ConfigError> {
    let key = |field: &str| format!("work_calendars.{name}.{field}");
    let workdays = match raw.workdays {
        None => WorkCalendar::MON_TO_FRI,
        Some(list) => weekdays(list, &key("workdays"), ck)?,
    };
    let holidays = raw
        .holidays
        .into_iter()
        .map(|day| {
            NaiveDate::parse_from_str(day.get_ref(), "%Y-%m-%d").map_err(|_| {
                let message = format!("bad date `{}`; write YYYY-MM-DD", day.get_ref());
                ck.invalid(&key("holidays"), Some(day.span()), message)
            })
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(WorkCalendar::new(workdays, holidays))
}

/// A non-empty list of weekday names.
fn weekdays(
    list: Spanned<Vec<Spanned<String>>>,
    key: &str,
    ck: &Checker<'_>,
) -> Result<WeekdaySet, ConfigError> {
    let span = list.span();
    let mut set = WeekdaySet::EMPTY;
    for day in list.into_inner() {
        let weekday = day.get_ref().parse::<Weekday>().map_err(|_| {
            let message = format!(
                "unknown weekday `{}`; use mon, tue, wed, thu, fri, sat or sun",
                day.get_ref()
            );
            ck.invalid(key, Some(day.span()), message)
        })?;
        set.insert(weekday);
    }
    if set.is_empty() {
        let message = "a work calendar needs at least one workday".to_owned();
        return Err(ck.invalid(key, Some(span), message));
    }
    Ok(set)
}

/// The `[activity_types.NAME]` tables; unnamed types keep their defaults.
fn activity_types(
    raw: BTreeMap<Spanned<String>, RawTypeConfig>,
    calendars: &WorkCalendars,
    ck: &Checker<'_>,
) -> Result<ActivityTypes, ConfigError> {
    let mut types = ActivityTypes::default();
    for (name, raw_type) in raw {
        // Exact spelling: these are table names, and `parse` would also accept other cases.
        let activity = ActivityType::ALL
            .iter()
            .copied()
            .find(|t| t.code() == name.get_ref())
            .ok_or_else(|| {
                let message = format!("unknown activity type; use {}", codes(ActivityType::ALL));
                let key = format!("activity_types.{}", name.get_ref());
                ck.invalid(&key, Some(name.span()), message)
            })?;
        *types.get_mut(activity) = type_config(activity, raw_type, calendars, ck)?;
    }
    Ok(types)
}

/// One activity type's table over its defaults.
fn type_config(
    activity: ActivityType,
    raw: RawTypeConfig,
    calendars: &WorkCalendars,
    ck: &Checker<'_>,
) -> Result<TypeConfig, ConfigError> {
    let key = |field: &str| format!("activity_types.{}.{field}", activity.code());
    let defaults = TypeConfig::default_for(activity);
    let hours = business_hours(&raw, defaults.hours, &key, ck)?;
    let work_calendar = match raw.work_calendar {
        None => defaults.work_calendar,
        Some(name) if calendars.get(name.get_ref()).is_some() => name.into_inner(),
        Some(name) => {
            let message = format!(
                "unknown work calendar `{0}`; add a [work_calendars.{0}] table or use \"{DEFAULT_CALENDAR}\"",
                name.get_ref()
            );
            return Err(ck.invalid(&key("work_calendar"), Some(name.span()), message));
        }
    };
    Ok(TypeConfig {
        expiration_days: raw.expiration_days.unwrap_or(defaults.expiration_days),
        max_passes: positive(raw.max_passes, &key("max_passes"), defaults.max_passes, ck)?,
        division: raw.division.filter(|d| !d.is_empty()),
        hours,
        work_calendar,
    })
}

/// Business hours with `0 <= start_hour < end_hour <= 24` (§4.1).
fn business_hours(
    raw: &RawTypeConfig,
    defaults: BusinessHours,
    key: &dyn Fn(&str) -> String,
    ck: &Checker<'_>,
) -> Result<BusinessHours, ConfigError> {
    let value = |v: &Option<Spanned<u32>>, default| v.as_ref().map_or(default, |v| *v.get_ref());
    let start_hour = value(&raw.start_hour, defaults.start_hour);
    let end_hour = value(&raw.end_hour, defaults.end_hour);
    if let Some(end) = raw.end_hour.as_ref().filter(|_| end_hour > 24) {
        let message = "must be at most 24 (midnight)".to_owned();
        return Err(ck.invalid(&key("end_hour"), Some(end.span()), message));
    }
    if start_hour >= end_hour {
        // Blame the key the file actually set, start_hour first.
        let blame = raw
            .start_hour
            .as_ref()
            .map(|start| {
                let message = format!("must be less than end_hour ({end_hour})");
                ("start_hour", start.span(), message)
            })
            .or_else(|| {
                raw.end_hour.as_ref().map(|end| {
                    let message = format!("must be greater than start_hour ({start_hour})");
                    ("end_hour", end.span(), message)
                })
            });
        if let Some((field, span, message)) = blame {
            return Err(ck.invalid(&key(field), Some(span), message));
        }
    }
    Ok(BusinessHours {
        ensure: raw.ensure_business_hours.unwrap_or(defaults.ensure),
        start_hour,
        end_hour,
    })
}

/// The `[simulators]` table, fault rates checked.
fn simulators(raw: RawSimulators, ck: &Checker<'_>) -> Result<Simulators, ConfigError> {
    let d = Simulators::default();
    Ok(Simulators {
        seed: raw.seed.unwrap_or(d.seed),
        field_work_ack_seconds: raw
            .field_work_ack_seconds
            .unwrap_or(d.field_work_ack_seconds),
        field_work_complete_minutes: raw
            .field_work_complete_minutes
            .unwrap_or(d.field_work_complete_minutes),
        field_work_fault_rate: rate(
            raw.field_work_fault_rate,
            "simulators.field_work_fault_rate",
            d.field_work_fault_rate,
            ck,
        )?,
        head_end_result_seconds: raw
            .head_end_result_seconds
            .unwrap_or(d.head_end_result_seconds),
        head_end_fault_rate: rate(
            raw.head_end_fault_rate,
            "simulators.head_end_fault_rate",
            d.head_end_fault_rate,
            ck,
        )?,
        duplicate_rate: rate(
            raw.duplicate_rate,
            "simulators.duplicate_rate",
            d.duplicate_rate,
            ck,
        )?,
        late_rate: rate(raw.late_rate, "simulators.late_rate", d.late_rate, ck)?,
        stray_rate: rate(raw.stray_rate, "simulators.stray_rate", d.stray_rate, ck)?,
    })
}

/// A probability in [0, 1].
fn rate(
    value: Option<Spanned<f64>>,
    key: &str,
    default: f64,
    ck: &Checker<'_>,
) -> Result<f64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if (0.0..=1.0).contains(v.get_ref()) => Ok(v.into_inner()),
        Some(v) => {
            let message = format!("must be between 0 and 1 (got {})", v.get_ref());
            Err(ck.invalid(key, Some(v.span()), message))
        }
    }
}

const SCHEDULE_KEY: &str = "commands.remote_disconnect.schedule";

/// `[commands.remote_disconnect]`: an Allowed throttle needs schedule rows.
fn remote_disconnect(
    raw: RawRemoteDisconnect,
    ck: &Checker<'_>,
) -> Result<RemoteDisconnect, ConfigError> {
    let defaults = RemoteDisconnect::default();
    let throttle = raw
        .throttle
        .as_ref()
        .map_or(defaults.throttle, |t| *t.get_ref());
    let blame = raw
        .schedule
        .as_ref()
        .map(Spanned::span)
        .or_else(|| raw.throttle.as_ref().map(Spanned::span));
    let schedule = match raw.schedule {
        None => defaults.schedule,
        Some(rows) => schedule(rows, ck)?,
    };
    if throttle == ThrottleOption::Allowed && schedule.rows.is_empty() {
        let message =
            "throttle is \"allowed\", so the schedule needs at least one row (or set throttle = \"not_allowed\")"
                .to_owned();
        return Err(ck.invalid(SCHEDULE_KEY, blame, message));
    }
    Ok(RemoteDisconnect { throttle, schedule })
}

/// Schedule rows with `HH:MM` times, checked for empty ranges and overlaps.
fn schedule(
    rows: Spanned<Vec<Spanned<RawScheduleRow>>>,
    ck: &Checker<'_>,
) -> Result<Schedule, ConfigError> {
    let span = rows.span();
    let rows = rows
        .into_inner()
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let row = row.into_inner();
            Ok(ScheduleRow {
                from: time_of_day(&row.from, i, "from", ck)?,
                to: time_of_day(&row.to, i, "to", ck)?,
                requests: row.requests,
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let schedule = Schedule { rows };
    schedule
        .validate()
        .map_err(|message| ck.invalid(SCHEDULE_KEY, Some(span), message))?;
    Ok(schedule)
}

/// An `HH:MM` time of a schedule row (`index` is 0-based, reported 1-based).
fn time_of_day(
    text: &Spanned<String>,
    index: usize,
    field: &str,
    ck: &Checker<'_>,
) -> Result<NaiveTime, ConfigError> {
    let value = text.get_ref();
    let parsed = (value.len() == 5)
        .then(|| NaiveTime::parse_from_str(value, "%H:%M").ok())
        .flatten();
    parsed.ok_or_else(|| {
        let message = format!(
            "row {}: bad time `{value}` in `{field}`; write HH:MM",
            index + 1
        );
        ck.invalid(SCHEDULE_KEY, Some(text.span()), message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "config.toml";

    fn parsed(text: &str) -> Config {
        match parse(text, FILE) {
            Ok(config) => config,
            Err(e) => panic!("expected a valid config, got: {e}"),
        }
    }

    fn error(text: &str) -> String {
        parse(text, FILE)
            .expect_err("expected a config error")
            .to_string()
    }

    /// Asserts that `message` names the file, `line` and `key`.
    fn assert_names(message: &str, line: usize, key: &str) {
        let prefix = format!("{FILE}: line {line}: {key}: ");
        assert!(
            message.starts_with(&prefix),
            "`{message}` should start with `{prefix}`"
        );
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    // Crews.

    #[test]
    fn crews_are_read_by_name_with_their_kind_and_email() {
        let config = parsed(
            "[crews]\nnorth = { kind = \"internal\", email = \"north@utility.example\" }\nvolt = { kind = \"external\", email = \"jobs@volt.example\" }\n",
        );
        assert_eq!(
            config.crews,
            vec![
                Crew {
                    name: "north".into(),
                    kind: CrewKind::Internal,
                    email: "north@utility.example".into()
                },
                Crew {
                    name: "volt".into(),
                    kind: CrewKind::External,
                    email: "jobs@volt.example".into()
                },
            ]
        );
        assert!(Config::default().crews.is_empty());
    }

    #[test]
    fn a_bad_crew_names_its_line_and_key() {
        let message = error("\n[crews]\nnorth = { kind = \"inhouse\", email = \"n@u.example\" }\n");
        assert_names(&message, 3, "crews.north.kind");
        assert!(
            message.contains("\"internal\" or \"external\""),
            "{message}"
        );
        let message = error("[crews]\nnorth = { kind = \"internal\", email = \"north\" }\n");
        assert_names(&message, 2, "crews.north.email");
        let message = error("[crews]\nnorth = { kind = \"internal\" }\n");
        assert!(
            message.contains("line 2") && message.contains("email"),
            "{message}"
        );
    }

    // Defaults.

    #[test]
    fn defaults_match_the_formats_contract() {
        let config = Config::default();
        assert_eq!(config.timezone, Tz::UTC);
        assert_eq!(config.feed_history_years, 3);
        assert!(!config.division_restriction);
        assert_eq!(config.crwto_every_minutes, 15);
        assert_eq!(config.monitor_every_seconds, 1);
        assert_eq!(config.operators, None);
        assert_eq!(config.field_work.recipient, "MWM");
        assert_eq!(config.work_orders, WorkOrders::default());
        assert!(config.work_orders.move_in_out);
        assert_eq!(config.work_orders.disconnection_business_days, 5);
        assert_eq!(
            (
                config.inbound.retry_count,
                config.inbound.retry_every_minutes
            ),
            (3, 5)
        );
        assert_eq!(config.simulators.seed, 1);
        assert_eq!(config.simulators.field_work_ack_seconds, 5);
        assert_eq!(config.simulators.field_work_complete_minutes, 30);
        assert_eq!(config.simulators.head_end_result_seconds, 10);
        assert!((config.simulators.field_work_fault_rate - 0.05).abs() < f64::EPSILON);
        assert!((config.simulators.head_end_fault_rate - 0.05).abs() < f64::EPSILON);
        assert!(!config.desk.mouse);
        assert_eq!(config.communications.head_end_response_minutes, 60);
        assert_eq!(config.communications.field_work_ack_minutes, 60);
    }

    #[test]
    fn every_activity_type_has_defaults_and_only_cnp_enforces_hours() {
        let config = Config::default();
        for &activity in ActivityType::ALL {
            let tc = config.type_config(activity);
            assert_eq!(tc.expiration_days, 2);
            assert_eq!(tc.max_passes, 5);
            assert_eq!(tc.division, None);
            assert_eq!((tc.hours.start_hour, tc.hours.end_hour), (8, 17));
            assert_eq!(tc.hours.ensure, activity == ActivityType::CutForNonPayment);
            assert_eq!(tc.work_calendar, DEFAULT_CALENDAR);
        }
        assert_eq!(
            config.activity_types.iter().count(),
            ActivityType::ALL.len()
        );
    }

    #[test]
    fn default_calendar_and_schedule() {
        let config = Config::default();
        assert_eq!(config.default_calendar(), &WorkCalendar::default());
        assert_eq!(
            config.calendar_for(ActivityType::CutForNonPayment),
            &WorkCalendar::default()
        );
        assert!(config.throttle_allowed());
        let rows: Vec<(String, u32)> = config
            .schedule()
            .rows
            .iter()
            .map(|r| (r.range_label(), r.requests))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("08:00-12:00".to_owned(), 30),
                ("12:00-17:00".to_owned(), 10)
            ]
        );
        let names: Vec<&str> = config.work_calendars.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec![DEFAULT_CALENDAR]);
    }

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(parsed(""), Config::default());
    }

    #[test]
    fn the_shipped_default_file_is_exactly_the_default() {
        assert_eq!(
            parsed(include_str!("../assets/default-config.toml")),
            Config::default()
        );
    }

    // Operators and access (§9, §12.11).

    #[test]
    fn without_an_operators_table_everyone_is_a_supervisor() {
        let access = Config::default().access_for("anyone");
        assert_eq!(access.role, Some(Role::Supervisor));
        assert!(access.divisions.is_empty());
    }

    #[test]
    fn with_an_operators_table_unlisted_operators_only_look() {
        let config = parsed(
            r#"
[operators]
ada = "supervisor"
bo = { role = "clerk", divisions = ["NORTH"] }
cy = { role = "Support" }
"#,
        );
        assert_eq!(config.access_for("ada").role, Some(Role::Supervisor));
        assert_eq!(
            config.access_for("bo"),
            Access {
                role: Some(Role::Clerk),
                divisions: vec!["NORTH".to_owned()],
            }
        );
        assert_eq!(config.access_for("cy").role, Some(Role::Support));
        assert_eq!(config.access_for("dee"), Access::look_only());
    }

    #[test]
    fn an_empty_operators_table_makes_everyone_look_only() {
        let config = parsed("[operators]\n");
        assert_eq!(config.access_for("ada").role, None);
    }

    // A full file.

    const FULL: &str = r#"
timezone = "America/Chicago"
feed_history_years = 2
division_restriction = true
crwto_every_minutes = 5
monitor_every_seconds = 2

[operators]
ada = "supervisor"
bo = { role = "clerk", divisions = ["NORTH"] }

[activity_types.enable_service]
expiration_days = 0
max_passes = 7
division = "NORTH"

[activity_types.cut_for_non_payment]
expiration_days = 3
ensure_business_hours = true
start_hour = 7
end_hour = 24
work_calendar = "collections"

[work_calendars.default]
workdays = ["mon","tue","wed","thu","fri"]
holidays = ["2025-07-04"]

[work_calendars.collections]
workdays = ["Monday", "tue", "wed", "thu", "fri", "sat"]

[field_work]
recipient = ""

[work_orders]
move_in_out = false
disconnection_business_days = 3

[inbound]
retry_count = 1
retry_every_minutes = 10

[simulators]
seed = 42
field_work_ack_seconds = 1
field_work_complete_minutes = 2
field_work_fault_rate = 0
head_end_result_seconds = 3
head_end_fault_rate = 1

[desk]
mouse = true

[communications]
head_end_response_minutes = 30
field_work_ack_minutes = 90

[commands.remote_disconnect]
throttle = "not_allowed"
schedule = [ { from = "09:00", to = "10:30", requests = 5 } ]
"#;

    #[test]
    fn a_full_file_sets_every_key() {
        let config = parsed(FULL);
        assert_eq!(config.timezone, chrono_tz::America::Chicago);
        assert_eq!(config.feed_history_years, 2);
        assert!(config.division_restriction);
        assert_eq!(
            (config.crwto_every_minutes, config.monitor_every_seconds),
            (5, 2)
        );
        assert_eq!(config.access_for("bo").divisions, vec!["NORTH".to_owned()]);

        let enable = config.type_config(ActivityType::EnableService);
        assert_eq!((enable.expiration_days, enable.max_passes), (0, 7));
        assert_eq!(enable.division.as_deref(), Some("NORTH"));

        let cnp = config.type_config(ActivityType::CutForNonPayment);
        assert_eq!(cnp.expiration_days, 3);
        assert_eq!(cnp.max_passes, 5);
        assert_eq!(
            cnp.hours,
            BusinessHours {
                ensure: true,
                start_hour: 7,
                end_hour: 24,
            }
        );
        let collections = config.calendar_for(ActivityType::CutForNonPayment);
        assert!(collections.is_workday(date(2025, 6, 14)));
        assert!(!collections.is_workday(date(2025, 6, 15)));
        assert!(!config.default_calendar().is_workday(date(2025, 7, 4)));
        assert_eq!(
            config.calendar_for(ActivityType::ExchangeMeter),
            config.default_calendar()
        );

        assert_eq!(config.field_work.recipient, "");
        assert!(!config.work_orders.move_in_out);
        assert_eq!(config.work_orders.disconnection_business_days, 3);
        assert_eq!(config.inbound.retry_count, 1);
        assert_eq!(config.simulators.seed, 42);
        assert_eq!(config.simulators.field_work_fault_rate, 0.0);
        assert_eq!(config.simulators.head_end_fault_rate, 1.0);
        assert!(config.desk.mouse);
        assert_eq!(config.communications.field_work_ack_minutes, 90);
        assert!(!config.throttle_allowed());
        assert_eq!(config.schedule().rows.len(), 1);
        assert_eq!(config.schedule().rows[0].range_label(), "09:00-10:30");
    }

    #[test]
    fn not_allowed_throttle_may_have_an_empty_schedule() {
        let config =
            parsed("[commands.remote_disconnect]\nthrottle = \"not_allowed\"\nschedule = []\n");
        assert!(config.schedule().rows.is_empty());
    }

    #[test]
    fn an_empty_division_means_none() {
        let config = parsed("[activity_types.back_to_back]\ndivision = \"\"\n");
        assert_eq!(config.type_config(ActivityType::BackToBack).division, None);
    }

    #[test]
    fn load_reads_a_file_and_names_a_missing_one() {
        let path =
            std::env::temp_dir().join(format!("orderdesk-config-{}.toml", std::process::id()));
        std::fs::write(&path, "timezone = \"Europe/Paris\"\n").expect("temp file is writable");
        let config = load(&path);
        std::fs::remove_file(&path).expect("temp file is removable");
        assert_eq!(
            config.expect("valid file").timezone,
            chrono_tz::Europe::Paris
        );

        let missing = load(&path).expect_err("the file is gone").to_string();
        assert!(
            missing.starts_with(&path.display().to_string()),
            "{missing}"
        );
    }

    // Errors: each names the file, the line and the key.

    #[test]
    fn the_documented_message_shape() {
        let text = "timezone = \"UTC\"\n\n# hours\n\n\n[activity_types.cut_for_non_payment]\nstart_hour = 17\n";
        assert_eq!(
            error(text),
            "config.toml: line 7: activity_types.cut_for_non_payment.start_hour: must be less than end_hour (17)"
        );
    }

    #[test]
    fn error_unknown_top_level_key() {
        let message = error("timezone = \"UTC\"\ntimezon = \"UTC\"\n");
        assert_names(&message, 2, "timezon");
        assert!(message.contains("unknown field `timezon`"), "{message}");
    }

    #[test]
    fn error_unknown_key_in_a_section() {
        let message = error("[desk.start]\nclerk = \"inbox\"\n");
        assert_names(&message, 2, "desk.start.clerk");
        let message = error("[desk]\nmous = true\n");
        assert_names(&message, 2, "desk.mous");
    }

    #[test]
    fn error_unknown_key_in_an_activity_type() {
        let message = error("[activity_types.cut_for_non_payment]\nstart_hours = 9\n");
        assert_names(
            &message,
            2,
            "activity_types.cut_for_non_payment.start_hours",
        );
    }

    #[test]
    fn error_unknown_table() {
        let message = error("[desk]\nmouse = true\n\n[desks]\nmouse = true\n");
        assert!(message.contains("desks"), "{message}");
        assert!(message.starts_with("config.toml: line 4: "), "{message}");
    }

    #[test]
    fn error_unknown_key_in_an_operator_entry() {
        let message = error("[operators]\nbo = { rol = \"clerk\" }\n");
        assert_names(&message, 2, "operators.bo");
        assert!(message.contains("rol"), "{message}");
    }

    #[test]
    fn error_unknown_key_in_a_schedule_row() {
        let message = error(
            "[commands.remote_disconnect]\nschedule = [\n  { from = \"08:00\", to = \"12:00\", request = 3 },\n]\n",
        );
        assert_names(&message, 3, "commands.remote_disconnect.schedule");
    }

    #[test]
    fn error_wrong_type() {
        let message = error("[activity_types.cut_for_non_payment]\nstart_hour = \"8\"\n");
        assert_names(&message, 2, "activity_types.cut_for_non_payment.start_hour");
        assert!(message.contains("invalid type"), "{message}");
        assert_names(
            &error("feed_history_years = \"three\"\n"),
            1,
            "feed_history_years",
        );
        assert_names(&error("[desk]\nmouse = 1\n"), 2, "desk.mouse");
    }

    #[test]
    fn error_toml_syntax() {
        let message = error("timezone = \"UTC\"\n[desk\nmouse = true\n");
        assert_names(&message, 2, "desk");
    }

    #[test]
    fn error_unknown_activity_type() {
        let message = error("[activity_types.cut_for_nonpayment]\nexpiration_days = 1\n");
        assert_names(&message, 1, "activity_types.cut_for_nonpayment");
        assert!(message.contains("\"cut_for_non_payment\""), "{message}");
    }

    #[test]
    fn error_bad_time_zone() {
        let message = error("timezone = \"America/Chicag\"\n");
        assert_names(&message, 1, "timezone");
        assert!(message.contains("IANA"), "{message}");
    }

    #[test]
    fn error_bad_role() {
        let message = error("[operators]\nada = \"admin\"\n");
        assert_names(&message, 2, "operators.ada");
        assert!(
            message.contains("\"clerk\", \"supervisor\" or \"support\""),
            "{message}"
        );
        assert_names(
            &error("[operators]\n\nbo = { role = \"boss\", divisions = [] }\n"),
            3,
            "operators.bo",
        );
    }

    #[test]
    fn error_start_hour_not_before_end_hour() {
        let message = error("[activity_types.enable_service]\nstart_hour = 9\nend_hour = 9\n");
        assert_names(&message, 2, "activity_types.enable_service.start_hour");
        assert!(
            message.ends_with("must be less than end_hour (9)"),
            "{message}"
        );
    }

    #[test]
    fn error_end_hour_alone_before_the_default_start() {
        let message = error("[activity_types.enable_service]\nend_hour = 6\n");
        assert_names(&message, 2, "activity_types.enable_service.end_hour");
        assert!(
            message.ends_with("must be greater than start_hour (8)"),
            "{message}"
        );
    }

    #[test]
    fn error_end_hour_past_midnight() {
        let message = error("[activity_types.cut_for_non_payment]\nend_hour = 25\n");
        assert_names(&message, 2, "activity_types.cut_for_non_payment.end_hour");
        assert!(message.contains("at most 24"), "{message}");
    }

    #[test]
    fn error_max_passes_zero() {
        let message = error("[activity_types.exchange_meter]\nmax_passes = 0\n");
        assert_names(&message, 2, "activity_types.exchange_meter.max_passes");
    }

    #[test]
    fn error_zero_intervals() {
        assert_names(
            &error("crwto_every_minutes = 0\n"),
            1,
            "crwto_every_minutes",
        );
        assert_names(
            &error("monitor_every_seconds = 0\n"),
            1,
            "monitor_every_seconds",
        );
        assert_names(&error("feed_history_years = 0\n"), 1, "feed_history_years");
    }

    #[test]
    fn error_bad_schedule_time() {
        let message = error(
            "[commands.remote_disconnect]\nschedule = [\n  { from = \"08:00\", to = \"12:00\", requests = 3 },\n  { from = \"8am\", to = \"13:00\", requests = 3 },\n]\n",
        );
        assert_names(&message, 4, "commands.remote_disconnect.schedule");
        assert!(
            message.contains("row 2: bad time `8am` in `from`"),
            "{message}"
        );
        let message = error(
            "[commands.remote_disconnect]\nschedule = [ { from = \"08:00\", to = \"24:00\", requests = 3 } ]\n",
        );
        assert!(message.contains("bad time `24:00` in `to`"), "{message}");
    }

    #[test]
    fn error_overlapping_schedule_rows() {
        let message = error(
            "[commands.remote_disconnect]\nschedule = [\n  { from = \"08:00\", to = \"12:30\", requests = 30 },\n  { from = \"12:00\", to = \"17:00\", requests = 10 },\n]\n",
        );
        assert_names(&message, 2, "commands.remote_disconnect.schedule");
        assert!(message.contains("overlap"), "{message}");
    }

    #[test]
    fn error_empty_schedule_range() {
        let message = error(
            "[commands.remote_disconnect]\nschedule = [ { from = \"12:00\", to = \"08:00\", requests = 1 } ]\n",
        );
        assert_names(&message, 2, "commands.remote_disconnect.schedule");
        assert!(message.contains("`from` must be before `to`"), "{message}");
    }

    #[test]
    fn error_throttle_allowed_without_rows() {
        let message =
            error("[commands.remote_disconnect]\nthrottle = \"allowed\"\nschedule = []\n");
        assert_names(&message, 3, "commands.remote_disconnect.schedule");
        assert!(message.contains("at least one row"), "{message}");
    }

    #[test]
    fn error_bad_throttle_option() {
        let message = error("[commands.remote_disconnect]\nthrottle = \"allow\"\n");
        assert_names(&message, 2, "commands.remote_disconnect.throttle");
        assert!(message.contains("not_allowed"), "{message}");
    }

    #[test]
    fn error_calendar_without_workdays() {
        let message = error("[work_calendars.default]\nworkdays = []\n");
        assert_names(&message, 2, "work_calendars.default.workdays");
        assert!(message.contains("at least one workday"), "{message}");
    }

    #[test]
    fn error_unknown_weekday() {
        let message = error("[work_calendars.north]\nworkdays = [\"mon\", \"mnday\"]\n");
        assert_names(&message, 2, "work_calendars.north.workdays");
        assert!(message.contains("`mnday`"), "{message}");
    }

    #[test]
    fn error_bad_holiday() {
        let message =
            error("[work_calendars.default]\nholidays = [\"2025-07-04\", \"2025-13-01\"]\n");
        assert_names(&message, 2, "work_calendars.default.holidays");
        assert!(message.contains("YYYY-MM-DD"), "{message}");
    }

    #[test]
    fn error_unknown_work_calendar() {
        let message = error("[activity_types.cut_for_non_payment]\nwork_calendar = \"north\"\n");
        assert_names(
            &message,
            2,
            "activity_types.cut_for_non_payment.work_calendar",
        );
        assert!(message.contains("[work_calendars.north]"), "{message}");
    }

    #[test]
    fn error_fault_rates_outside_zero_to_one() {
        assert_names(
            &error("[simulators]\nfield_work_fault_rate = 1.5\n"),
            2,
            "simulators.field_work_fault_rate",
        );
        assert_names(
            &error("[simulators]\nhead_end_fault_rate = -0.1\n"),
            2,
            "simulators.head_end_fault_rate",
        );
        assert_names(
            &error("[simulators]\nhead_end_fault_rate = nan\n"),
            2,
            "simulators.head_end_fault_rate",
        );
    }

    #[test]
    fn key_finder_handles_dotted_and_quoted_keys() {
        let text = "[activity_types]\ncut_for_non_payment.start_hour = \"x\"\n";
        assert_eq!(
            key_at(text, text.len() - 3),
            "activity_types.cut_for_non_payment.start_hour"
        );
        assert_eq!(key_at("a = 1\n", 4), "a");
        assert_eq!(key_at("# only a comment\n", 3), "");
    }
}
