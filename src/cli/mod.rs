//! The command-line front end: parses arguments, opens the engine, runs one subcommand, and
//! maps every failure to the exit codes of `spec/cli.md` (0 done, 1 refused, 2 bad input,
//! 3 database cannot be opened).

mod args;
mod output;

pub use args::{Cli, Command, Global};

use args::YesNo;
use orderdesk::config::{self, Config};
use orderdesk::domain::{ActivityType, Instant};
use orderdesk::engine::{Actor, Engine, EngineError, ListFilter};
use orderdesk::store::SledStore;
use std::io::Read;
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
    let config = load_config(global.config.as_deref())?;
    let now = engine_now(global.now.as_deref())?;
    let operator = global
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into());
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
            };
            output::list(out, &engine.list(&actor, &filter)?, json)?;
        }
        Command::Show { id } => output::show(out, &engine.show(&actor, &id)?, json)?,
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
