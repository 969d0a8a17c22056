//! The command-line front end: parses arguments, opens the engine, runs one subcommand, and
//! maps every failure to the exit codes of `spec/cli.md` (0 done, 1 refused, 2 bad input,
//! 3 database cannot be opened).

mod args;
mod demo;
mod output;
mod serve;

pub use args::{Cli, Command, Global};

use args::{WoAction, YesNo};
use orderdesk::client::{Api, Endpoint, Local, Remote, RemoteError, Wanted};
use orderdesk::config::{self, Config};
use orderdesk::domain::{ActivityType, AuditFilter, Instant};
use orderdesk::engine::{
    ConfigChoice, Engine, EngineError, FeedRequest, ListFilter, Move, NewWorkOrder,
};
use orderdesk::formats::FeedCategory;
use orderdesk::runtime::{Clock, Runtime, RuntimeOptions};
use orderdesk::store::SledStore;
use orderdesk::timefmt::Times;
use orderdesk::workorders::{Assignee, WoKind, WoOrigin, WoStatus};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The code of a failure that is no failure: the output's reader closed it early.
pub const BROKEN_PIPE: &str = "BROKEN_PIPE";

/// A failure with its exit code and machine-readable code.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub exit: i32,
    /// The `--json` error code.
    pub code: String,
    /// What went wrong, where, and what to do.
    pub message: String,
}

impl Failure {
    fn bad_input(message: impl Into<String>) -> Failure {
        Failure {
            exit: 2,
            code: "BAD_INPUT".into(),
            message: message.into(),
        }
    }
}

impl From<EngineError> for Failure {
    fn from(err: EngineError) -> Failure {
        Failure {
            exit: err.exit_code(),
            code: err.code().to_string(),
            message: err.to_string(),
        }
    }
}

/// What a command prints on success, and its exit code (inbound exits 1 on unmatched lines).
pub struct Done {
    /// The exit code.
    pub exit: i32,
}

/// Runs a subcommand: through the server of the database when one runs, else on the
/// database directly (the engine in this process for the length of the command).
pub fn run(global: &Global, command: Command) -> Result<Done, Failure> {
    match command {
        // Before anything opens the database: --reset may have to delete it first.
        Command::Demo {
            reset,
            seed,
            customers,
        } => demo::run(global, reset, seed, customers),
        Command::Serve => serve::run(global),
        Command::Token { name } => serve::token(&name),
        // The database cannot be opened as this build's until it is migrated.
        Command::Migrate { compact } => migrate(global, compact),
        command => {
            let reach = open(global, "cli")?;
            let result = execute(reach.api(), command, global.json);
            reach.close()?;
            result
        }
    }
}

/// `migrate`: converts the database in this process (a server holding it must be stopped).
fn migrate(global: &Global, compact: bool) -> Result<Done, Failure> {
    let db = database_path(global.db.as_deref())?;
    if !is_database(&db) && !orderdesk::store::migration::building(&db).exists() {
        return Err(Failure::bad_input(format!(
            "{} holds no orderdesk database to migrate",
            db.display()
        )));
    }
    let mut bar: Option<orderdesk::progress::Progress> = None;
    let mut shown = 0;
    let report = orderdesk::engine::migrate::migrate(
        &db,
        &lock_holder(global),
        compact,
        &mut |done, total| {
            let bar =
                bar.get_or_insert_with(|| orderdesk::progress::Progress::counted("migrate", total));
            bar.advance(done - shown);
            shown = done;
        },
    );
    if let Some(bar) = &bar {
        bar.finish();
    }
    let out = &mut std::io::stdout();
    let Some(report) = report? else {
        if global.json {
            output::json(out, &serde_json::json!({ "migrated": false }))?;
        } else {
            writeln!(
                out,
                "{} already has schema version {}: nothing to migrate",
                db.display(),
                orderdesk::store::SCHEMA_VERSION
            )?;
        }
        return Ok(Done { exit: 0 });
    };
    if global.json {
        output::json(out, &report)?;
    } else {
        let what = match report.from == report.to {
            true => format!("compacted {} (schema version {})", db.display(), report.to),
            false => format!(
                "migrated {} from schema version {} to {}",
                db.display(),
                report.from,
                report.to
            ),
        };
        writeln!(
            out,
            "{what}: {} entries, {} values rewritten, {} MB on disk before, {} MB after; checked: every index agrees with the records",
            report.entries,
            report.rewritten,
            report.bytes_before / 1_000_000,
            report.bytes_after / 1_000_000
        )?;
        writeln!(
            out,
            "the database as it was is kept at {}: remove it once you no longer need it",
            report.kept.display()
        )?;
    }
    Ok(Done { exit: 0 })
}

/// The engine as this process reaches it.
pub enum Reach {
    /// The server of the database answered on its socket.
    Server(Arc<dyn Api>),
    /// This process opened the database itself.
    Here {
        /// The runtime it started.
        runtime: Box<Runtime>,
        /// The client acting as the verified operator.
        local: Arc<dyn Api>,
    },
}

impl Reach {
    /// The client interface.
    pub fn api(&self) -> &dyn Api {
        match self {
            Reach::Server(api) | Reach::Here { local: api, .. } => api.as_ref(),
        }
    }

    /// Lets go: the engine in this process finishes, flushes and stops.
    pub fn close(self) -> Result<(), Failure> {
        match self {
            Reach::Server(_) => Ok(()),
            Reach::Here { runtime, local } => {
                drop(local);
                Ok(runtime.shutdown_blocking()?)
            }
        }
    }
}

/// Connects to the server of the database, or opens the database here when none runs.
pub fn open(global: &Global, channel: &str) -> Result<Reach, Failure> {
    let db = database_path(global.db.as_deref())?;
    if let Some(api) = connect(global, &db, channel)? {
        return Ok(Reach::Server(api));
    }
    refuse_missing_read_only(global, &db)?;
    let start = global
        .now
        .as_deref()
        .map(|text| parse_time("--now", text))
        .transpose()?;
    let given = load_config(global.config.as_deref())?;
    let store = SledStore::open(&db, &lock_holder(global)).map_err(EngineError::from)?;
    let (config, choice) = settle(global, &store, given)?;
    let actor = actor_here(global, &config, channel)?;
    let mut engine = Engine::new(Box::new(store), config);
    // A command takes no time of its own: `--now` stands still, else engine time goes on
    // from the database's mark.
    let clock = match start {
        Some(start) => Clock::starting_at(start, 0.0),
        None => Clock::for_run(None, 1.0, engine.time_mark()?),
    };
    engine.set_wall_time(Clock::wall_time());
    engine.adopt_config(&actor, clock.now(), &choice)?;
    let runtime = Runtime::start(engine, RuntimeOptions::manual(clock))?;
    let local = Local::new(runtime.handle().clone(), actor, "in this process").shared();
    Ok(Reach::Here {
        runtime: Box::new(runtime),
        local,
    })
}

/// Who holds the database while this process has it open, for another process's refusal.
fn lock_holder(global: &Global) -> String {
    let operator = global
        .operator
        .clone()
        .unwrap_or_else(orderdesk::identity::real_user);
    format!("pid {}, operator {operator}", std::process::id())
}

/// The configuration a run on `store` uses: `--config` when given, else the one stored in the
/// database, else the platform's `config.toml` or the defaults (see `engine::settle_config`).
/// `given` is read (and checked) before the database is opened, so a bad file changes nothing.
pub fn settle(
    global: &Global,
    store: &SledStore,
    given: Config,
) -> Result<(Config, ConfigChoice), Failure> {
    let source = match &global.config {
        Some(path) => path.display().to_string(),
        None => "the platform's config.toml".to_string(),
    };
    Ok(orderdesk::engine::settle_config(
        store,
        given,
        &source,
        global.config.is_some(),
    )?)
}

/// Whether `db` already holds a database (sled writes its `conf` file first).
fn is_database(db: &Path) -> bool {
    db.join("conf").exists()
}

/// A read-only run opens an existing database and never creates one (not even the demo world
/// a desk builds on a missing database).
fn refuse_missing_read_only(global: &Global, db: &Path) -> Result<(), Failure> {
    if global.read_only && !is_database(db) {
        return Err(Failure::bad_input(format!(
            "{}: there is no database here, and --read-only creates nothing; check --db, or \
             leave out --read-only to create one",
            db.display()
        )));
    }
    Ok(())
}

/// Who acts in this process: its real Unix user, or the operator `--operator` names when the
/// configuration lets that user act for others.
fn actor_here(
    global: &Global,
    config: &Config,
    channel: &str,
) -> Result<orderdesk::engine::Actor, Failure> {
    Ok(orderdesk::identity::actor_for(
        config,
        &orderdesk::identity::real_user(),
        global.operator.as_deref(),
        global.read_only,
        channel,
    )?)
}

/// The server named by `--server`, else the server of `db` when one answers on its socket.
fn connect(global: &Global, db: &Path, channel: &str) -> Result<Option<Arc<dyn Api>>, Failure> {
    let socket = orderdesk::server::socket_path(db);
    let wanted = Wanted {
        operator: global.operator.clone(),
        read_only: global.read_only,
        channel: channel.to_string(),
    };
    let connected = match &global.server {
        Some(server) if server.starts_with("http://") || server.starts_with("https://") => {
            let token = std::env::var("ORDERDESK_TOKEN").unwrap_or_default();
            let ca = std::env::var_os("ORDERDESK_CA").map(PathBuf::from);
            let endpoint =
                Endpoint::url(server, &token, ca.as_deref()).map_err(Failure::bad_input)?;
            Remote::open(endpoint, wanted)
        }
        Some(socket) => Remote::open(Endpoint::Unix(PathBuf::from(socket)), wanted),
        None => Remote::connect(&socket, wanted),
    };
    let socket = global.server.clone().map(PathBuf::from).unwrap_or(socket);
    match connected {
        Ok(remote) => {
            if global.now.is_some() {
                return Err(Failure::bad_input(format!(
                    "--now: a server runs this database ({}), and the engine runs on its clock; \
                     leave out --now",
                    socket.display()
                )));
            }
            Ok(Some(remote.shared()))
        }
        Err(RemoteError::NotRunning) => Ok(None),
        Err(RemoteError::Refused(err)) => Err(err.into()),
        Err(err) => Err(Failure {
            exit: 3,
            code: "SERVER".into(),
            message: format!("{}: {err}", socket.display()),
        }),
    }
}

/// Runs one subcommand through the client interface.
fn execute(api: &dyn Api, command: Command, json: bool) -> Result<Done, Failure> {
    let out = &mut std::io::stdout().lock();
    // Text output reads in the configured zone, as the desk does.
    let times = &Times::new(api.session().config.timezone, api.session().clock.now());
    match command {
        Command::Import { file, bulk: true } => {
            let bytes = read_input(&file)?;
            let records = count_lines(&bytes);
            let progress =
                orderdesk::progress::Progress::counted("orderdesk import", records as u64);
            let reached = progress.reached();
            let report = api
                .import_bulk(&bytes, Box::new(move |done, _| reached(done as u64)))
                .map_err(|e| with_file(&file, e))?;
            progress.finish();
            output::bulk_import(out, &report, json)?;
        }
        Command::Import { file, bulk: false } => {
            let bytes = read_input(&file)?;
            // The import is one transaction: its progress is a spinner until it is done.
            let progress = orderdesk::progress::Progress::steps("orderdesk import");
            progress.step(&format!("{} records", count_lines(&bytes)));
            let created = api.import(&bytes).map_err(|e| with_file(&file, e))?;
            progress.finish();
            output::json_lines(out, &created)?;
        }
        Command::Inbound { file } => {
            let bytes = read_input(&file)?;
            let report = api.inbound(&bytes).map_err(|e| with_file(&file, e))?;
            output::inbound(out, &report, json)?;
            if report.errors() > 0 {
                return Ok(Done { exit: 1 });
            }
        }
        Command::Tick => output::json(out, &api.tick()?)?,
        Command::Crwto { throttle } => {
            let throttle = throttle.map(|t| matches!(t, YesNo::Yes));
            output::json(out, &api.crwto(throttle)?)?;
        }
        Command::List {
            state,
            activity_type,
            sp,
            error_code,
        } => {
            let activity_type = match activity_type {
                Some(t) => Some(ActivityType::parse(&t).ok_or_else(|| {
                    Failure::bad_input(format!(
                        "--type {t}: unknown activity type; one of {}",
                        ActivityType::ALL
                            .iter()
                            .map(|t| t.code())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?),
                None => None,
            };
            let filter = ListFilter {
                state,
                activity_type,
                sp,
                error_code,
                limit: 0,
                text: String::new(),
            };
            // Streamed: the whole list of a large utility is never held at once.
            if json {
                let mut array = output::JsonArray::begin(out)?;
                orderdesk::client::list_each(api, &filter, |row| {
                    array.item(out, &row).map_err(Failure::from)
                })?;
                array.end(out)?;
            } else {
                let mut cells = Vec::new();
                orderdesk::client::list_each(api, &filter, |row| {
                    cells.push(output::list_cells(&row, times));
                    Ok::<_, Failure>(())
                })?;
                output::list_table(out, &cells, times)?;
            }
        }
        Command::Show { id } => output::show(out, &api.show(&id)?, json, times)?,
        Command::Check => {
            let problems = api.check()?;
            if json {
                output::json(out, &problems)?;
            } else if problems.is_empty() {
                writeln!(out, "consistent: every index agrees with the records")?;
            } else {
                for problem in &problems {
                    writeln!(out, "{problem}")?;
                }
            }
            if !problems.is_empty() {
                return Ok(Done { exit: 1 });
            }
        }
        Command::Outbox { all } => output::outbox(out, &api.outbox(all)?, json, times)?,
        Command::Audit {
            id,
            by,
            action,
            from,
            to,
        } => {
            let mut filter = AuditFilter {
                operator: by,
                action,
                ..AuditFilter::id(id.as_deref())
            };
            let from = from.map(|d| parse_date("--from", &d)).transpose()?;
            let to = to.map(|d| parse_date("--to", &d)).transpose()?;
            if let (Some(from), Some(to)) = (from, to) {
                times
                    .days(from, to)
                    .map_err(|e| Failure::bad_input(format!("--from and --to: {e}")))?;
            }
            // A missing end is open: the whole log before or after the one date given.
            filter.from = from.map(|day| times.start_of(day));
            filter.to = to.map(|day| times.start_of(day + chrono::Days::new(1)));
            output::audit(out, &api.audit(&filter, 0)?, json, times)?
        }
        Command::Retry { id } => output::action(out, "retried", &api.retry(&id)?, json)?,
        Command::Discard { id, reason } => output::action(
            out,
            "discarded",
            &api.discard(&id, reason.as_deref())?,
            json,
        )?,
        Command::ExecuteNow { id } => {
            output::action(out, "executed now", &api.execute_now(&id)?, json)?
        }
        Command::Cancel {
            id,
            reason,
            related,
        } => output::filed(out, &api.cancel(&id, &reason, related.as_deref())?, json)?,
        Command::Update {
            id,
            comments,
            start,
            related,
        } => {
            let start = start
                .as_deref()
                .map(|s| parse_time("--start", s))
                .transpose()?;
            let filed = api.update(&id, &comments, start, related.as_deref())?;
            output::filed(out, &filed, json)?;
        }
        Command::CompleteFa { id, from } => {
            let report = match from {
                Some(file) => {
                    let bytes = read_input(&file)?;
                    orderdesk::formats::parse_completion_report(&bytes)
                        .map_err(|e| Failure::bad_input(prefix_errors(&file, &e.to_string())))?
                }
                None => orderdesk::formats::parse_completion_report(br#"{"status":"complete"}"#)
                    .map_err(|e| Failure::bad_input(e.to_string()))?,
            };
            output::action(out, "completed", &api.complete_fa(&id, report)?, json)?;
        }
        Command::CancelFa { id, reason } => {
            output::action(out, "cancelled", &api.cancel_fa(&id, &reason)?, json)?
        }
        Command::Queue { mine } => {
            output::queue(out, &api.queue_window(mine, "", 0, 0, None)?.0, json, times)?
        }
        Command::Wo { action } => work_order(out, api, action, json, times)?,
        Command::MoveIn {
            customer,
            site,
            date,
        } => {
            let date = parse_date("--date", &date)?;
            output::json(out, &api.move_event(Move::In, &customer, &site, date)?)?;
        }
        Command::MoveOut {
            customer,
            site,
            date,
        } => {
            let date = parse_date("--date", &date)?;
            output::json(out, &api.move_event(Move::Out, &customer, &site, date)?)?;
        }
        Command::Feed {
            customer,
            account,
            categories,
            from,
            to,
        } => {
            let mut request = FeedRequest {
                account,
                ..FeedRequest::default()
            };
            for c in &categories {
                request
                    .categories
                    .insert(FeedCategory::parse(c).ok_or_else(|| {
                        Failure::bad_input(format!(
                            "--category {c}: unknown category; one of {}",
                            FeedCategory::ALL
                                .iter()
                                .map(|c| c.code())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?);
            }
            if let (Some(from), Some(to)) = (from, to) {
                request.range = Some((parse_date("--from", &from)?, parse_date("--to", &to)?));
            }
            let now = api.session().clock.now();
            output::feed(out, &api.feed(now, &customer, &request)?, json, times)?;
        }
        Command::Sessions => output::sessions(out, &api.sessions()?, json, times)?,
        Command::Partners { action } => match action {
            None => {
                let now = api.session().clock.now();
                output::partners(out, &api.partners()?, now, json)?
            }
            Some(args::PartnerAction::Pause { name }) => {
                let changed = api.pause_partner(&name, true)?;
                let what = if changed {
                    "paused"
                } else {
                    "was already paused"
                };
                writeln!(out, "{name} {what}: its messages wait in the outbox")?;
            }
            Some(args::PartnerAction::Resume { name }) => {
                let changed = api.pause_partner(&name, false)?;
                let what = if changed { "resumed" } else { "was not paused" };
                writeln!(out, "{name} {what}: its messages are delivered")?;
            }
        },
        Command::EndSession { id } => {
            api.end_session(id)?;
            writeln!(out, "session {id} ended")?;
        }
        Command::Edit { id, sets } => {
            let pairs = sets
                .iter()
                .map(|s| {
                    s.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                        .ok_or_else(|| {
                            Failure::bad_input(format!("--set {s}: expected FIELD=VALUE"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            output::action(out, "corrected", &api.edit(&id, &pairs)?, json)?;
        }
        Command::Demo { .. } | Command::Serve | Command::Token { .. } | Command::Migrate { .. } => {
            unreachable!("demo, serve, token and migrate are handled before the engine is reached")
        }
    }
    Ok(Done { exit: 0 })
}

fn work_order(
    out: &mut dyn std::io::Write,
    api: &dyn Api,
    action: WoAction,
    json: bool,
    times: &Times,
) -> Result<(), Failure> {
    match action {
        WoAction::Show { id } => output::wo_detail(out, &api.wo_detail(&id)?, json, times)?,
        WoAction::Complete { ids } => output::bulk(out, &api.wo_complete(&ids)?, json)?,
        WoAction::Cancel { ids, reason } => {
            output::bulk(out, &api.wo_cancel(&ids, &reason)?, json)?
        }
        WoAction::Assign {
            id,
            to,
            schedule_for,
        } => {
            let assignee =
                Assignee::parse(&to).map_err(|e| Failure::bad_input(format!("--to {e}")))?;
            output::queue(
                out,
                &[api.wo_assign(&id, assignee, schedule_for)?],
                json,
                times,
            )?;
        }
        WoAction::SetStatus { id, status } => {
            let to = WoStatus::parse(&status).ok_or_else(|| {
                Failure::bad_input(format!("status `{status}`: expected SENT or SETUP"))
            })?;
            output::queue(out, &[api.wo_set_status(&id, to)?], json, times)?;
        }
        WoAction::Create {
            kind,
            customer,
            site,
            date,
        } => {
            let kind = WoKind::parse(&kind).ok_or_else(|| {
                Failure::bad_input(format!(
                    "--kind {kind}: one of {}",
                    WoKind::ALL
                        .iter()
                        .map(|k| k.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let preferred_date = date
                .as_deref()
                .map(|d| parse_date("--date", d))
                .transpose()?;
            let new = NewWorkOrder {
                id: None,
                kind,
                customer,
                account: None,
                site,
                origin: WoOrigin::Manual,
                status: WoStatus::New,
                preferred_date,
            };
            output::queue(out, &[api.wo_create(new)?], json, times)?;
        }
    }
    Ok(())
}

fn parse_date(option: &str, text: &str) -> Result<chrono::NaiveDate, Failure> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| Failure::bad_input(format!("{option} {text}: {e}; use YYYY-MM-DD")))
}

/// Opens the desk: on the server of the database when one runs; else the engine starts in
/// this process (a missing database is created and filled with the demo world first) and
/// serves the same API on the database's socket while the desk is open.
pub fn desk(global: &Global) -> Result<(), Failure> {
    if !(global.speed > 0.0 && global.speed.is_finite()) {
        return Err(Failure::bad_input(format!(
            "--speed {}: must be a positive number",
            global.speed
        )));
    }
    let keymap = load_keymap(global.keymap.as_deref())?;
    let db = database_path(global.db.as_deref())?;
    let options = orderdesk::tui::DeskOptions {
        keymap,
        state: Some(db.with_extension("desk.json")),
        theme: load_theme()?,
    };
    let failed = |e: color_eyre::Report| Failure {
        exit: 1,
        code: "DESK".into(),
        message: format!("{e:#}"),
    };
    if let Some(api) = connect(global, &db, "desk")? {
        // The database's directory belongs to the server: a client desk keeps its log and its
        // views' filters in the operator's own data directory.
        let own = directories::ProjectDirs::from("", "", "orderdesk").map(|d| {
            let dir = d.data_dir().to_path_buf();
            let _ = std::fs::create_dir_all(&dir);
            dir
        });
        if let Some(own) = &own {
            orderdesk::tui::log::start(&own.join("logs"));
        }
        let options = orderdesk::tui::DeskOptions {
            state: own.as_ref().map(|d| d.join("desk.json")),
            ..options
        };
        return tokio_runtime()?
            .block_on(orderdesk::tui::run(api, options))
            .map_err(failed);
    }
    refuse_missing_read_only(global, &db)?;
    let given = load_config(global.config.as_deref())?;
    let now = global
        .now
        .as_deref()
        .map(|t| parse_time("--now", t))
        .transpose()?;
    let fresh = !is_database(&db);
    let store = match SledStore::open(&db, &lock_holder(global)) {
        // The demo database the desk made for itself (no --db) is brought up to date as it
        // opens; a database someone named is theirs to migrate.
        Err(orderdesk::store::StoreError::OlderSchema { .. }) if global.db.is_none() => {
            eprintln!(
                "orderdesk: the demo database {} is from an older orderdesk; migrating it …",
                db.display()
            );
            migrate(global, false)?;
            SledStore::open(&db, &lock_holder(global))
        }
        opened => opened,
    }
    .map_err(EngineError::from)?;
    let (config, choice) = settle(global, &store, given)?;
    let actor = actor_here(global, &config, "desk")?;
    let mut engine = Engine::new(Box::new(store), config.clone());
    if fresh {
        let options = orderdesk::demo::DemoOptions {
            seed: config.simulators.seed,
            customers: orderdesk::demo::DEFAULT_CUSTOMERS,
            now: match now {
                Some(t) => t,
                None => demo_now(None)?,
            },
        };
        eprintln!("orderdesk: creating a demo world in {} …", db.display());
        let progress = orderdesk::progress::Progress::steps("demo world");
        orderdesk::demo::build(&mut engine, &options, &mut |step| progress.step(step))?;
        progress.finish();
    }
    let clock = Clock::for_run(now, global.speed, engine.time_mark()?);
    engine.set_wall_time(Clock::wall_time());
    engine.adopt_config(&actor, clock.now(), &choice)?;
    let runtime_options = RuntimeOptions::from_config(&config, clock, !global.no_sim);
    let socket = orderdesk::server::socket_path(&db);
    let closing = format!(
        "the desk of {} closed, and with it the engine of {}; start `orderdesk serve --db {}` to \
         keep the database open for everyone",
        actor.operator,
        db.display(),
        db.display()
    );
    // The engine, its partner connections and the desk log beside the database.
    orderdesk::tui::log::start(&db.with_extension("logs"));
    tracing::info!("{}", choice.describe());
    let embedded = async move {
        let runtime = Runtime::start(engine, runtime_options)?;
        let handle = runtime.handle().clone();
        let holder = format!("the desk of {}", actor.operator);
        let mut local = Local::new(handle.clone(), actor.clone(), "in this process");
        // Serving is what lets a second desk or a script in; a desk that cannot serve (a
        // read-only directory) still works alone, and says why in its log.
        let server = match orderdesk::server::Server::start(handle, &socket, &holder).await {
            Ok(server) => {
                server.attend(&actor);
                local = local.with_sessions(server.sessions());
                Some(server)
            }
            Err(err) => {
                tracing::warn!("not serving other clients: {err}");
                None
            }
        };
        let result = orderdesk::tui::run(Arc::new(local), options).await;
        if let Some(server) = server {
            server.stop(&closing).await;
        }
        // The desk's own failure is the one to report, a failed shutdown the next.
        let shutdown = runtime.shutdown().await;
        result?;
        Ok(shutdown?)
    };
    tokio_runtime()?.block_on(embedded).map_err(failed)
}

/// The desk's and the server's tokio runtime: two workers (the engine has its own thread).
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure {
            exit: 1,
            code: "RUNTIME".into(),
            message: format!("cannot start the runtime: {e}"),
        })
}

/// The key bindings: the built-in defaults plus `--keymap` or the platform config dir's file.
fn load_keymap(explicit: Option<&Path>) -> Result<orderdesk::tui::keymap::Keymap, Failure> {
    use orderdesk::tui::keymap::Keymap;
    let defaults = Keymap::defaults().map_err(|e| Failure::bad_input(e.to_string()))?;
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => directories::ProjectDirs::from("", "", "orderdesk")
            .map(|dirs| dirs.config_dir().join("keymap.toml"))
            .filter(|p| p.exists()),
    };
    Keymap::load(defaults, path.as_deref()).map_err(|e| Failure::bad_input(e.to_string()))
}

/// The desk's theme: the built-in one, with `theme.toml` of the config dir over it if present.
fn load_theme() -> Result<orderdesk::tui::theme::Theme, Failure> {
    let path = directories::ProjectDirs::from("", "", "orderdesk")
        .map(|dirs| dirs.config_dir().join("theme.toml"))
        .filter(|p| p.exists());
    orderdesk::tui::theme::Theme::load(path.as_deref()).map_err(Failure::bad_input)
}

/// The configuration: `--config` must exist; the platform file is optional.
pub fn load_config(explicit: Option<&Path>) -> Result<Config, Failure> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => match directories::ProjectDirs::from("", "", "orderdesk") {
            Some(dirs) if dirs.config_dir().join("config.toml").exists() => {
                dirs.config_dir().join("config.toml")
            }
            _ => return Ok(Config::default()),
        },
    };
    config::load(&path).map_err(|e| Failure::bad_input(e.to_string()))
}

/// The database directory: `--db`, `$ORDERDESK_DB`, else the platform data dir.
pub fn database_path(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    directories::ProjectDirs::from("", "", "orderdesk")
        .map(|dirs| dirs.data_dir().join("db"))
        .ok_or_else(|| Failure::bad_input("no home directory: pass --db PATH or set ORDERDESK_DB"))
}

/// The instant a demo world is built at: `--now`, else the start of the current hour — a fixed
/// point, so `demo --seed N` twice gives the same database, close enough to the wall clock that
/// the desk opens on a world that is still current (no hour of missed timeouts).
pub fn demo_now(now: Option<&str>) -> Result<Instant, Failure> {
    match now {
        Some(text) => parse_time("--now", text),
        None => {
            let now = chrono::Utc::now();
            Ok(chrono::DateTime::from_timestamp(
                now.timestamp() - now.timestamp().rem_euclid(3600),
                0,
            )
            .unwrap_or(now))
        }
    }
}

fn parse_time(option: &str, text: &str) -> Result<Instant, Failure> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            Failure::bad_input(format!(
                "{option} {text}: {e}; use RFC 3339 with an offset, e.g. 2025-06-10T09:00:00-05:00"
            ))
        })
}

/// The non-blank lines of a JSON Lines input: its records, for a progress line.
fn count_lines(bytes: &[u8]) -> usize {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .count()
}

fn read_input(file: &Path) -> Result<Vec<u8>, Failure> {
    if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::bad_input(format!("stdin: {e}")))?;
        return Ok(bytes);
    }
    std::fs::read(file).map_err(|e| Failure::bad_input(format!("{}: {e}", file.display())))
}

fn prefix_errors(file: &Path, errors: &str) -> String {
    let name = if file == Path::new("-") {
        "stdin".to_string()
    } else {
        file.display().to_string()
    };
    errors
        .lines()
        .map(|line| format!("{name}: {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn with_file(file: &Path, err: EngineError) -> Failure {
    match err {
        EngineError::BadInput(message) => Failure::bad_input(prefix_errors(file, &message)),
        other => other.into(),
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`orderdesk list | head`): nothing is wrong.
            return Failure {
                exit: 0,
                code: BROKEN_PIPE.into(),
                message: String::new(),
            };
        }
        Failure {
            exit: 1,
            code: "IO".into(),
            message: format!("cannot write the output: {err}"),
        }
    }
}
