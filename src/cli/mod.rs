//! The command-line front end: parses arguments, opens the engine, runs one subcommand, and
//! maps every failure to the exit codes of `spec/cli.md` (0 done, 1 refused, 2 bad input,
//! 3 database cannot be opened).

mod args;
mod demo;
mod output;

pub use args::{Cli, Command, Global};

use args::{WoAction, YesNo};
use orderdesk::config::{self, Config};
use orderdesk::domain::{ActivityType, Instant};
use orderdesk::engine::{Actor, Engine, EngineError, ListFilter};
use orderdesk::engine::{FeedRequest, Move, NewWorkOrder, Visit};
use orderdesk::formats::FeedCategory;
use orderdesk::store::SledStore;
use orderdesk::workorders::{Assignee, WoKind, WoOrigin, WoStatus};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

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

/// Runs a subcommand.
pub fn run(global: &Global, command: Command) -> Result<Done, Failure> {
    if let Command::Demo {
        reset,
        seed,
        customers,
    } = command
    {
        // Before anything opens the database: --reset may have to delete it first.
        return demo::run(global, reset, seed, customers);
    }
    let config = load_config(global.config.as_deref())?;
    let now = engine_now(global.now.as_deref())?;
    let operator = operator_name(global);
    let actor = Actor::from_config(&config, &operator, global.read_only);
    let db = database_path(global.db.as_deref())?;
    let store = SledStore::open(
        &db,
        &format!("pid {}, operator {operator}", std::process::id()),
    )
    .map_err(EngineError::from)?;
    let mut engine = Engine::new(Box::new(store), config);
    let json = global.json;
    let out = &mut std::io::stdout().lock();
    match command {
        Command::Import { file } => {
            let bytes = read_input(&file)?;
            let records = orderdesk::formats::parse_import(&bytes)
                .map_err(|e| Failure::bad_input(prefix_errors(&file, &e.to_string())))?;
            let created = engine
                .import(&actor, now, records)
                .map_err(|e| with_file(&file, e))?;
            output::json_lines(out, &created)?;
        }
        Command::Inbound { file } => {
            let bytes = read_input(&file)?;
            let messages = orderdesk::formats::parse_inbound(&bytes)
                .map_err(|e| Failure::bad_input(prefix_errors(&file, &e.to_string())))?;
            let report = engine.inbound(&actor, now, messages)?;
            output::inbound(out, &report, json)?;
            if report.errors() > 0 {
                return Ok(Done { exit: 1 });
            }
        }
        Command::Tick => output::json(out, &engine.tick(&actor, now)?)?,
        Command::Crwto { throttle } => {
            let throttle = throttle.map(|t| matches!(t, YesNo::Yes));
            output::json(out, &engine.crwto(&actor, now, throttle)?)?;
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
                engine.list_each(&actor, &filter, |row| {
                    array.item(out, &row)?;
                    Ok::<_, Failure>(Visit::More)
                })?;
                array.end(out)?;
            } else {
                let mut cells = Vec::new();
                engine.list_each(&actor, &filter, |row| {
                    cells.push(output::list_cells(&row));
                    Ok::<_, Failure>(Visit::More)
                })?;
                output::list_table(out, &cells)?;
            }
        }
        Command::Show { id } => output::show(out, &engine.show(&actor, &id)?, json)?,
        Command::Check => {
            let problems = engine.check_consistency()?;
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
        Command::Outbox { all } => output::outbox(out, &engine.outbox(all)?, json)?,
        Command::Audit { id } => output::audit(out, &engine.audit(id.as_deref(), 0)?, json)?,
        Command::Retry { id } => {
            output::action(out, "retried", &engine.retry(&actor, now, &id)?, json)?
        }
        Command::Discard { id, reason } => output::action(
            out,
            "discarded",
            &engine.discard(&actor, now, &id, reason.as_deref())?,
            json,
        )?,
        Command::ExecuteNow { id } => output::action(
            out,
            "executed now",
            &engine.execute_now(&actor, now, &id)?,
            json,
        )?,
        Command::Cancel {
            id,
            reason,
            related,
        } => {
            let filed = engine.cancel(&actor, now, &id, &reason, related.as_deref())?;
            output::filed(out, &filed, json)?;
        }
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
            let filed = engine.update(&actor, now, &id, &comments, start, related.as_deref())?;
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
            output::action(
                out,
                "completed",
                &engine.complete_fa(&actor, now, &id, report)?,
                json,
            )?;
        }
        Command::CancelFa { id, reason } => output::action(
            out,
            "cancelled",
            &engine.cancel_fa(&actor, now, &id, &reason)?,
            json,
        )?,
        Command::Queue { mine } => output::queue(out, &engine.queue(&actor, mine, 0, 0)?, json)?,
        Command::Wo { action } => work_order(out, &mut engine, &actor, now, action, json)?,
        Command::MoveIn {
            customer,
            site,
            date,
        } => {
            let report = engine.move_event(
                &actor,
                now,
                Move::In,
                &customer,
                &site,
                parse_date("--date", &date)?,
            )?;
            output::json(out, &report)?;
        }
        Command::MoveOut {
            customer,
            site,
            date,
        } => {
            let report = engine.move_event(
                &actor,
                now,
                Move::Out,
                &customer,
                &site,
                parse_date("--date", &date)?,
            )?;
            output::json(out, &report)?;
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
            output::feed(out, &engine.feed(&actor, now, &customer, &request)?, json)?;
        }
        Command::Demo { .. } => unreachable!("demo is handled before the database opens"),
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
            output::action(
                out,
                "corrected",
                &engine.edit(&actor, now, &id, &pairs)?,
                json,
            )?;
        }
    }
    Ok(Done { exit: 0 })
}

fn work_order(
    out: &mut dyn std::io::Write,
    engine: &mut Engine,
    actor: &Actor,
    now: Instant,
    action: WoAction,
    json: bool,
) -> Result<(), Failure> {
    match action {
        WoAction::Complete { ids } => {
            output::bulk(out, &engine.wo_complete(actor, now, &ids)?, json)?
        }
        WoAction::Cancel { ids, reason } => {
            output::bulk(out, &engine.wo_cancel(actor, now, &ids, &reason)?, json)?
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
                &[engine.wo_assign(actor, now, &id, assignee, schedule_for)?],
                json,
            )?;
        }
        WoAction::SetStatus { id, status } => {
            let to = WoStatus::parse(&status).ok_or_else(|| {
                Failure::bad_input(format!("status `{status}`: expected SENT or SETUP"))
            })?;
            output::queue(out, &[engine.wo_set_status(actor, now, &id, to)?], json)?;
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
            let id = engine.create_work_order(actor, now, new)?;
            output::queue(out, &[engine.work_order(&id)?], json)?;
        }
    }
    Ok(())
}

fn parse_date(option: &str, text: &str) -> Result<chrono::NaiveDate, Failure> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|e| Failure::bad_input(format!("{option} {text}: {e}; use YYYY-MM-DD")))
}

/// Opens the desk: a missing database is created and filled with the demo world first.
pub fn desk(global: &Global) -> Result<(), Failure> {
    if !(global.speed > 0.0 && global.speed.is_finite()) {
        return Err(Failure::bad_input(format!(
            "--speed {}: must be a positive number",
            global.speed
        )));
    }
    let config = load_config(global.config.as_deref())?;
    let keymap = load_keymap(global.keymap.as_deref())?;
    let now = global
        .now
        .as_deref()
        .map(|t| parse_time("--now", t))
        .transpose()?;
    let operator = operator_name(global);
    let db = database_path(global.db.as_deref())?;
    let fresh = !db.join("conf").exists();
    let store = SledStore::open(
        &db,
        &format!("pid {}, operator {operator}", std::process::id()),
    )
    .map_err(EngineError::from)?;
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
        orderdesk::demo::build(&mut engine, &options, &mut |step| eprintln!("  {step}"))?;
    }
    let options = orderdesk::tui::DeskOptions {
        config,
        keymap,
        operator,
        read_only: global.read_only,
        now,
        speed: global.speed,
        simulate: !global.no_sim,
        log: Some(db.with_extension("log")),
        state: Some(db.with_extension("desk.json")),
    };
    orderdesk::tui::run(engine, options).map_err(|e| Failure {
        exit: 1,
        code: "DESK".into(),
        message: format!("{e:#}"),
    })
}

fn operator_name(global: &Global) -> String {
    global
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into())
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

/// The engine clock for this command: `--now`, else the wall clock (the only place it is read).
pub fn engine_now(now: Option<&str>) -> Result<Instant, Failure> {
    match now {
        Some(text) => parse_time("--now", text),
        None => Ok(chrono::Utc::now()),
    }
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
        Failure {
            exit: 1,
            code: "IO".into(),
            message: format!("cannot write the output: {err}"),
        }
    }
}
