//! The command line of `spec/cli.md`: global options and subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// orderdesk: a terminal desk for a utility's service orders, with its own engine.
#[derive(Debug, Parser)]
#[command(name = "orderdesk", version, about, long_about = None)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do; without one, the desk opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The database directory (sled).
    #[arg(long, global = true, env = "ORDERDESK_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Configuration TOML. A database keeps the last configuration it was given that names
    /// operators ([operators]) and runs under it when --config is left out; a different one
    /// given here replaces it (audited as `config`). Without either, the platform's
    /// config.toml or the defaults (no [operators]: everyone may act).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Key bindings TOML.
    #[arg(long, global = true, value_name = "PATH")]
    pub keymap: Option<PathBuf>,
    /// Fix the engine's clock (RFC 3339 with offset, e.g. 2025-06-10T09:00:00-05:00).
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// Act as another operator (only for accounts listed in act_for_others of [access]);
    /// without it, the operator is the Unix user running orderdesk.
    #[arg(long, global = true, value_name = "NAME")]
    pub operator: Option<String>,
    /// Refuse every change.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// The server to use instead of the database's own socket: a socket path, or
    /// http(s)://HOST:PORT with the token in $ORDERDESK_TOKEN (and for https the certificate
    /// authority's PEM file in $ORDERDESK_CA).
    #[arg(long, global = true, value_name = "SOCKET|URL")]
    pub server: Option<String>,
    /// The desk: run the engine clock N times faster than the wall clock.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub speed: f64,
    /// The desk: no simulated field work system or head-end (connected to nothing).
    #[arg(long)]
    pub no_sim: bool,
}

/// yes / no.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// What to do with a partner.
#[derive(Debug, Subcommand)]
pub enum PartnerAction {
    /// Hold its messages in the outbox (their response timeouts still run).
    Pause {
        /// field_work, head_end or email.
        name: String,
    },
    /// Deliver its messages again.
    Resume {
        /// field_work, head_end or email.
        name: String,
    },
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import JSON Lines records (service points, customers, requests…); `-` reads stdin.
    Import {
        /// The file.
        file: PathBuf,
        /// Store a large file in durable slices of 10,000 records; run again with the same
        /// file to resume a run that was stopped.
        #[arg(long)]
        bulk: bool,
    },
    /// Feed messages from the field work system and the head-end (JSON Lines).
    Inbound {
        /// The file.
        file: PathBuf,
    },
    /// Run one monitor pass at the engine clock.
    Tick,
    /// Run the throttled command batch (D1-CRWTO).
    Crwto {
        /// Apply the throttle schedule (default: the Remote Disconnect throttle option).
        #[arg(long, value_enum)]
        throttle: Option<YesNo>,
    },
    /// List orchestration and maintenance activities.
    List {
        /// Only this state (e.g. ACTIVITY_ERROR).
        #[arg(long)]
        state: Option<String>,
        /// Only this type (e.g. cut_for_non_payment).
        #[arg(long = "type")]
        activity_type: Option<String>,
        /// Only this service point.
        #[arg(long)]
        sp: Option<String>,
        /// Only this status-reason code (e.g. EXPIRED).
        #[arg(long)]
        error_code: Option<String>,
    },
    /// Show one activity with its whole hierarchy.
    Show {
        /// The activity id.
        id: String,
    },
    /// Check that every index agrees with the records (read-only; exit 1 on a difference).
    Check,
    /// Convert a database written by an older orderdesk to this one's schema, with progress.
    /// The new database is built beside the old one and checked before it takes its place; the
    /// old one is kept as DB.v<N> until you remove it. A kill at any moment leaves one whole
    /// database: run it again to finish.
    Migrate {
        /// Rewrite a database already at this schema into a fresh one, the same way: the
        /// store reclaims the space that years of updates left behind.
        #[arg(long)]
        compact: bool,
    },
    /// Outbound communications awaiting a response.
    Outbox {
        /// Every outbound message, emails and answered ones included.
        #[arg(long)]
        all: bool,
    },
    /// Operator actions, oldest first: who, when, what, on which ids, outcome.
    Audit {
        /// Only actions on this id.
        id: Option<String>,
        /// Only this operator's actions (the global --operator says who acts, not whom to list).
        #[arg(long, value_name = "OPERATOR")]
        by: Option<String>,
        /// Only this action (retry, discard, execute-now, cancel, update, "wo cancel", import…).
        #[arg(long)]
        action: Option<String>,
        /// Only actions on or after this day (YYYY-MM-DD, in the configured time zone).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Only actions on or before this day (YYYY-MM-DD, in the configured time zone).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
    /// Retry an activity in an error state (or replay an inbound message).
    Retry {
        /// The id.
        id: String,
    },
    /// Discard an orchestration.
    Discard {
        /// The id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Execute a waiting orchestration or command now.
    ExecuteNow {
        /// The id.
        id: String,
    },
    /// File a Cancel Orchestration.
    Cancel {
        /// The orchestration id.
        id: String,
        /// The cancel reason code (CR, CXS, D1-Undetermined, D1-AutoDiscarded).
        #[arg(long)]
        reason: String,
        /// Cancel only this child.
        #[arg(long)]
        related: Option<String>,
    },
    /// File an Update Orchestration.
    Update {
        /// The orchestration id.
        id: String,
        /// New comments or instructions.
        #[arg(long)]
        comments: String,
        /// New start date/time (RFC 3339 with offset).
        #[arg(long)]
        start: Option<String>,
        /// Update only this child.
        #[arg(long)]
        related: Option<String>,
    },
    /// Complete a field activity by hand.
    CompleteFa {
        /// The field activity id.
        id: String,
        /// A JSON file with the fields of an fa_complete message.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Cancel a field activity by hand (the field system is not told).
    CancelFa {
        /// The field activity id.
        id: String,
        /// The cancel reason code.
        #[arg(long)]
        reason: String,
    },
    /// The open work-order queue.
    Queue {
        /// Only the orders scheduled for me.
        #[arg(long)]
        mine: bool,
    },
    /// Work-order actions.
    Wo {
        /// What to do.
        #[command(subcommand)]
        action: WoAction,
    },
    /// A customer moves in: a reconnection work order; an active disconnection is cancelled.
    MoveIn {
        /// The customer.
        #[arg(long)]
        customer: String,
        /// The site (service point).
        #[arg(long)]
        site: String,
        /// The preferred date (YYYY-MM-DD).
        #[arg(long)]
        date: String,
    },
    /// A customer moves out: a disconnection work order, unless a rule says no.
    MoveOut {
        /// The customer.
        #[arg(long)]
        customer: String,
        /// The site (service point).
        #[arg(long)]
        site: String,
        /// The move-out date (YYYY-MM-DD).
        #[arg(long)]
        date: String,
    },
    /// A customer's activity feed, newest first.
    Feed {
        /// The customer.
        customer: String,
        /// The billing account (default: the customer's first).
        #[arg(long)]
        account: Option<String>,
        /// Keep only these categories (repeatable).
        #[arg(long = "category")]
        categories: Vec<String>,
        /// Range start (YYYY-MM-DD); needs --to.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// Range end (YYYY-MM-DD); needs --from.
        #[arg(long, requires = "from")]
        to: Option<String>,
    },
    /// Correct a request in VALIDATION_ERROR.
    Edit {
        /// The request id.
        id: String,
        /// FIELD=VALUE (repeatable).
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        sets: Vec<String>,
    },
    /// Run the engine as a service for every desk, script and partner on this host.
    Serve,
    /// The clients connected to the server (names for supervisors).
    Sessions,
    /// Make an API token for NAME (a person or a partner system) for [server.tokens].
    Token {
        /// Who will hold it.
        name: String,
    },
    /// The partner systems: how each is reached, its state and backlog; or pause or resume
    /// deliveries to one (supervisors).
    Partners {
        /// Pause or resume; without one, the list.
        #[command(subcommand)]
        action: Option<PartnerAction>,
    },
    /// End a client's session on the server (supervisors).
    EndSession {
        /// The session id (from `orderdesk sessions`).
        id: u64,
    },
    /// Create (or with --reset recreate) the deterministic demo database.
    Demo {
        /// Delete an existing orderdesk database at --db first.
        #[arg(long)]
        reset: bool,
        /// The seed the world derives from (default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// How many customers (default 200; 50000 gives about a million activities).
        #[arg(long)]
        customers: Option<usize>,
    },
}

/// Work-order actions.
#[derive(Debug, Subcommand)]
pub enum WoAction {
    /// One work order, open or closed: customer and contact, site address, assignee, history.
    Show {
        /// The work order.
        id: String,
    },
    /// Complete open work orders (the rest are skipped, with the reason).
    Complete {
        /// The work orders.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Cancel open work orders with one reason.
    Cancel {
        /// The work orders.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Assign a work order: internal:NAME:EMAIL, external:NAME:EMAIL or partner.
    Assign {
        /// The work order.
        id: String,
        /// Who does the work.
        #[arg(long)]
        to: String,
        /// The user whose queue ("mine") shows it.
        #[arg(long)]
        schedule_for: Option<String>,
    },
    /// Move a work order to SENT or SETUP by hand.
    SetStatus {
        /// The work order.
        id: String,
        /// SENT or SETUP.
        status: String,
    },
    /// Create a work order by hand (e.g. a non-payment disconnection).
    Create {
        /// The kind (non_payment_disconnection, special_read, …).
        #[arg(long)]
        kind: String,
        /// The customer.
        #[arg(long)]
        customer: String,
        /// The site.
        #[arg(long)]
        site: String,
        /// The preferred date (YYYY-MM-DD).
        #[arg(long)]
        date: Option<String>,
    },
}
