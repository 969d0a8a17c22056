//! `orderdesk serve`: the engine and its background work as a long-running service, with no
//! terminal UI; desks, scripts and partner systems are its clients over the database's socket.

use super::{database_path, load_config, parse_time, settle, tokio_runtime, Done, Failure, Global};
use orderdesk::engine::{Engine, EngineError};
use orderdesk::runtime::{Clock, Runtime, RuntimeOptions};
use orderdesk::server::{socket_path, Server};
use orderdesk::store::SledStore;
use std::io::Write;

/// Runs the server until SIGTERM or SIGINT.
pub fn run(global: &Global) -> Result<Done, Failure> {
    let given = load_config(global.config.as_deref())?;
    let db = database_path(global.db.as_deref())?;
    let socket = socket_path(&db);
    if let Ok(remote) = orderdesk::client::Remote::connect(
        &socket,
        orderdesk::client::Wanted {
            operator: None,
            read_only: true,
            channel: "api".into(),
        },
    ) {
        drop(remote);
        return Err(Failure {
            exit: 3,
            code: "LOCKED".into(),
            message: format!(
                "{} is already served on {}; its clients need nothing more",
                db.display(),
                socket.display()
            ),
        });
    }
    let holder = format!("orderdesk serve (pid {})", std::process::id());
    let store = SledStore::open(&db, &holder).map_err(EngineError::from)?;
    let (config, choice) = settle(global, &store, given)?;
    init_logging(config.server.log.as_deref())?;
    tracing::info!("{}", choice.describe());
    let mut engine = Engine::new(Box::new(store), config.clone());
    let start = global
        .now
        .as_deref()
        .map(|text| parse_time("--now", text))
        .transpose()?;
    let clock = Clock::for_run(start, global.speed, engine.time_mark()?);
    engine.set_wall_time(Clock::wall_time());
    let account = orderdesk::identity::real_user();
    let actor = orderdesk::identity::actor_for(&config, &account, None, false, "cli")?;
    engine.adopt_config(&actor, clock.now(), &choice)?;
    let options = RuntimeOptions::from_config(&config, clock, !global.no_sim);
    let served = async move {
        let runtime = Runtime::start(engine, options)?;
        let server = match Server::start(runtime.handle().clone(), &socket, &holder).await {
            Ok(server) => server,
            Err(err) => {
                runtime.shutdown().await?;
                let (exit, code) = match err {
                    orderdesk::server::ServeError::Config(_) => (2, "BAD_INPUT"),
                    _ => (3, "LOCKED"),
                };
                return Err(Failure {
                    exit,
                    code: code.into(),
                    message: err.to_string(),
                });
            }
        };
        // Polled once before the readiness line so the handlers are in place: a SIGTERM sent
        // as soon as the line shows still stops the server cleanly, instead of killing it.
        let terminate = orderdesk::runtime::terminate_signal();
        tokio::pin!(terminate);
        let early = futures::FutureExt::now_or_never(&mut terminate).is_some();
        // The readiness line: supervisors (systemd, scripts, tests) wait for it.
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "orderdesk: serving {} on {} (pid {})",
            db.display(),
            socket.display(),
            std::process::id()
        );
        let _ = out.flush();
        if !early {
            terminate.await;
        }
        tracing::info!("stop requested: finishing accepted work");
        server
            .stop(&format!(
                "the server of {} stopped; desks reconnect when it is back",
                db.display()
            ))
            .await;
        runtime.shutdown().await?;
        tracing::info!("stopped; the database is flushed");
        Ok(Done { exit: 0 })
    };
    tokio_runtime()?.block_on(served)
}

/// Logs to stderr, and to daily files in the directory `[server] log` when set (`RUST_LOG`
/// filters; default info).
fn init_logging(dir: Option<&std::path::Path>) -> Result<(), Failure> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let file_layer = match dir {
        Some(dir) => {
            // Unlike the desk's, a configured log that cannot be written stops the server: it
            // was asked for, and a server runs unattended.
            // A configuration written when `log` named one file still names that file: say
            // what it is now rather than write beside it.
            if dir.is_file() {
                return Err(Failure::bad_input(format!(
                    "[server] log {} is a file; it now names a directory that holds a file a day (server.YYYY-MM-DD.log, 14 kept): set it to a directory, such as {}",
                    dir.display(),
                    dir.with_extension("d").display()
                )));
            }
            let files = orderdesk::logs::daily_files(dir, "server")
                .map_err(|e| Failure::bad_input(format!("[server] log {}: {e}", dir.display())))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(files),
            )
        }
        None => None,
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init();
    Ok(())
}

/// `orderdesk token NAME`: a new random token, and the line that lets the server know it.
pub fn token(name: &str) -> Result<Done, Failure> {
    use std::io::Read;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(Failure::bad_input(format!(
            "token `{name}`: the name is a single word (the operator or system it is for)"
        )));
    }
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|e| Failure::bad_input(format!("cannot read /dev/urandom: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = std::io::stdout();
    writeln!(
        out,
        "token for {name} (give it to them; it is not stored anywhere):"
    )?;
    writeln!(out, "  {token}")?;
    writeln!(out, "add to the server's config.toml:")?;
    writeln!(out, "  [server.tokens]")?;
    writeln!(
        out,
        "  {name} = \"{}\"",
        orderdesk::config::token_hash_line(&token)
    )?;
    Ok(Done { exit: 0 })
}
