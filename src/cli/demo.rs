//! `orderdesk demo [--reset] [--seed N] [--customers N]`: creates the deterministic demo
//! database (`orderdesk::demo`). An existing database is replaced only with `--reset`, and only
//! when the directory really is a database: nothing else is ever deleted.

use super::{database_path, demo_now, load_config, output, settle, Done, Failure, Global};
use orderdesk::demo::{DemoOptions, DemoSummary, DEFAULT_CUSTOMERS};
use orderdesk::engine::{Actor, Engine, EngineError};
use orderdesk::progress::Progress;
use orderdesk::store::{SledStore, StoreError};
use std::io::Write;
use std::path::Path;

/// The seed when `--seed` is not given.
const DEFAULT_SEED: u64 = 1;

/// Builds the demo world at `--db`, at `--now`, else at the start of the current hour, so the
/// same seed gives the same database.
pub fn run(
    global: &Global,
    reset: bool,
    seed: Option<u64>,
    customers: Option<usize>,
) -> Result<Done, Failure> {
    if global.read_only {
        return Err(Failure {
            exit: 1,
            code: "READ_ONLY".into(),
            message: "the desk is read-only (--read-only): no demo world was built".into(),
        });
    }
    // Read before anything is deleted, so a bad file leaves the old database alone.
    let given = load_config(global.config.as_deref())?;
    let now = demo_now(global.now.as_deref())?;
    let db = database_path(global.db.as_deref())?;
    let holder = format!("pid {}, orderdesk demo", std::process::id());
    make_room(&db, reset, &holder)?;
    let store = SledStore::open(&db, &holder).map_err(EngineError::from)?;
    let (config, choice) = settle(global, &store, given)?;
    let mut engine = Engine::new(Box::new(store), config);
    engine.adopt_config(&Actor::system(), now, &choice)?;
    let options = DemoOptions {
        seed: seed.unwrap_or(DEFAULT_SEED),
        customers: customers.unwrap_or(DEFAULT_CUSTOMERS),
        now,
    };
    let started = std::time::Instant::now();
    let progress = Progress::steps("orderdesk demo");
    let summary = orderdesk::demo::build(&mut engine, &options, &mut |step| progress.step(step))?;
    progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    let out = &mut std::io::stdout().lock();
    if global.json {
        output::json(out, &summary)?;
    } else {
        human(out, &db, &summary)?;
    }
    if progress.is_drawn() {
        eprintln!("orderdesk demo: built in {elapsed:.1} s");
    }
    Ok(Done { exit: 0 })
}

/// Refuses to build over an existing database unless `reset`, and then deletes it only if it
/// is one (sled's `db` and `conf` files) and no other process holds it.
fn make_room(db: &Path, reset: bool, holder: &str) -> Result<(), Failure> {
    let empty = match std::fs::read_dir(db) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Failure::bad_input(format!(
                "{}: {e}: pass --db PATH with a directory orderdesk may create",
                db.display()
            )))
        }
    };
    if empty {
        return Ok(());
    }
    let is_database = db.join("db").is_file() && db.join("conf").is_file();
    if !is_database {
        return Err(Failure::bad_input(format!(
            "{} exists and is not an orderdesk database (no sled `db` and `conf` files): \
             nothing was deleted; pass --db with a new or database directory",
            db.display()
        )));
    }
    if !reset {
        return Err(Failure::bad_input(format!(
            "{} already holds a database: use --reset to replace it with the demo world",
            db.display()
        )));
    }
    // Deleting a database another desk has open would pull it from under that desk.
    match SledStore::open(db, holder) {
        Ok(store) => drop(store),
        Err(err @ StoreError::Locked { .. }) => return Err(EngineError::from(err).into()),
        // A database this build cannot read (newer schema, damage) is still replaced on --reset.
        Err(_) => {}
    }
    std::fs::remove_dir_all(db).map_err(|e| Failure {
        exit: 1,
        code: "IO".into(),
        message: format!("cannot delete {} for --reset: {e}", db.display()),
    })
}

/// The summary a person reads.
fn human(out: &mut dyn Write, db: &Path, s: &DemoSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "demo world (seed {}) in {}: {} customers, {} billing accounts, {} service points",
        s.seed,
        db.display(),
        s.customers,
        s.billing_accounts,
        s.service_points
    )?;
    writeln!(
        out,
        "activities: {} in all, {} orchestration and maintenance activities",
        s.activities, s.top_level
    )?;
    let states: Vec<String> = s.states.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "states: {}", states.join(", "))?;
    writeln!(
        out,
        "communications: {}; answers from the field and head-end: {}; operator actions: {} ({} refused)",
        s.communications, s.answers, s.operator_actions, s.refused
    )?;
    writeln!(
        out,
        "work orders: {} ({} open); feed items: {}",
        s.work_orders, s.open_work_orders, s.feed_items
    )
}
