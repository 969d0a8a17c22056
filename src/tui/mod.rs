//! The desk: a ratatui terminal UI over the one client interface ([`crate::client::Api`]).
//!
//! The event loop waits for a key, a runtime notice or the clock, drains everything else that
//! is queued, then draws once. The terminal is restored on quit, on error and on panic (a panic
//! on another thread ends the desk too: see `panic_watch`).

pub mod activity_actions;
pub mod app;
pub mod assign_pick;
pub mod audit_view;
pub mod columns;
pub mod commands;
pub mod correct;
pub mod errors_view;
pub mod export;
pub mod feed_view;
pub mod keymap;
pub mod log;
pub mod orch_view;
pub mod overview_view;
pub mod panic_watch;
pub mod partners_view;
pub mod queue_view;
pub mod theme;
pub mod throttle_view;
pub mod tree_view;
pub mod views;
pub mod windowed;
pub mod wo_view;
pub mod wording;

use crate::client::{Api, Connection};
use crate::runtime::Clock;
use app::{Action, App, Effect};
use crossterm::event::{
    Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use futures::{FutureExt, StreamExt};
use keymap::{Keymap, Match};
use std::sync::Arc;
use std::time::Duration;

/// How the desk is started.
pub struct DeskOptions {
    /// The live key bindings (defaults plus the user's file).
    pub keymap: Keymap,
    /// Where views keep their filters across restarts (the data dir); each operator's file
    /// is named after them beside it.
    pub state: Option<std::path::PathBuf>,
    /// Colours and emphasis (the built-in theme, `theme.toml`, `NO_COLOR`).
    pub theme: theme::Theme,
}

/// How long a message stays in the status line.
const TOAST_FOR: Duration = Duration::from_secs(6);

/// How often the event loop gives the model the engine clock (views that poll count these).
pub const CLOCK_TICK: Duration = Duration::from_millis(500);

/// Runs the desk over `api` until the operator quits or SIGTERM/SIGINT arrives; call it
/// inside a tokio runtime. The desk cannot tell whether the engine is in this process.
pub async fn run(api: Arc<dyn Api>, options: DeskOptions) -> color_eyre::Result<()> {
    let session = api.session().clone();
    let mut connection = Connection::new(Arc::clone(&api));
    let mut app = App::new(api, options.keymap);
    app.start(
        options
            .state
            .as_deref()
            .map(|base| state_file(base, &session.operator)),
    );
    let theme = options.theme;

    tracing::info!(operator = %session.operator, reach = %session.reach, "desk opened");
    let mouse = session.config.desk.mouse;
    let watch = panic_watch::PanicWatch::install();
    let mut terminal = watch.take_terminal(mouse)?;
    let result = event_loop(
        &mut terminal,
        &mut app,
        &mut connection,
        &session.clock,
        &theme,
        &watch,
    )
    .await;
    watch.give_back();
    // Actions the operator started are finished before the desk lets go of the engine.
    connection.finish().await;
    match &result {
        Err(e) => tracing::error!("desk stopped on an error: {e:#}"),
        Ok(()) => tracing::info!("desk closed"),
    }
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    connection: &mut Connection,
    clock: &Clock,
    theme: &theme::Theme,
    watch: &panic_watch::PanicWatch,
) -> color_eyre::Result<()> {
    let mut events = EventStream::new();
    let mut clock_tick = tokio::time::interval(CLOCK_TICK);
    let terminate = crate::runtime::terminate_signal();
    tokio::pin!(terminate);
    // Polled once now so the handlers are in place before the first frame shows: a SIGINT
    // that arrives as the desk appears still gives the terminal back.
    if (&mut terminate).now_or_never().is_some() {
        return Ok(());
    }
    let mut toast_since: Option<(std::time::Instant, app::Toast)> = None;
    app.update(Action::Clock(clock.now(), clock.speed()));
    loop {
        expire_toast(app, &mut toast_since);
        terminal.draw(|frame| views::draw(frame, app, theme))?;
        let mut effects = Vec::new();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => effects.extend(on_event(app, event)),
                Some(Err(err)) => return Err(err.into()),
                None => return Ok(()),
            },
            notice = connection.next_notice() => {
                if let Some(notice) = notice {
                    log_notice(&notice);
                    effects.extend(app.update(Action::Notice(notice)));
                }
            }
            _ = clock_tick.tick() => {
                effects.extend(app.update(Action::Clock(clock.now(), clock.speed())));
            }
            _ = &mut terminate => return Ok(()),
            // Another thread panicked: the desk ends rather than draw over its report.
            report = watch.panicked() => {
                return Err(color_eyre::eyre::eyre!("the desk stopped on an internal error: {report}"));
            }
        }
        // Drain whatever else is already queued, then draw once.
        while let Some(Some(Ok(event))) = events.next().now_or_never() {
            effects.extend(on_event(app, event));
        }
        while let Some(notice) = connection.try_notice() {
            log_notice(&notice);
            effects.extend(app.update(Action::Notice(notice)));
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Send(request) => {
                    connection.send(request);
                }
                Effect::Clipboard(text) => {
                    // OSC 52: the terminal sets its clipboard, which works over SSH too. A
                    // terminal that does not know the sequence ignores it.
                    use crossterm::clipboard::CopyToClipboard;
                    let copy = CopyToClipboard::to_clipboard_from(text.as_bytes());
                    let _ = crossterm::execute!(std::io::stdout(), copy);
                }
                Effect::WriteFile { path, contents } => {
                    let text = match std::fs::write(&path, contents) {
                        Ok(()) => format!("exported to {}", path.display()),
                        Err(e) => format!("cannot write {}: {e}", path.display()),
                    };
                    tracing::info!("{text}");
                    app.toast = Some(app::Toast {
                        error: text.starts_with("cannot"),
                        text,
                    });
                }
            }
        }
    }
}

/// The operator's own state file beside `base` (`desk.json` → `desk.ada.json`): what one
/// operator's views keep (the feed's customer, its filters) is never another's starting point.
pub fn state_file(base: &std::path::Path, operator: &str) -> std::path::PathBuf {
    let safe: String = operator
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "desk".into());
    base.with_file_name(format!("{stem}.{safe}.json"))
}

/// Writes `value` under `key` of the state file at `path`, keeping what other views saved.
pub(crate) fn save_state<T: serde::Serialize>(
    path: &std::path::Path,
    key: &str,
    value: &T,
) -> Result<(), String> {
    // A missing or unreadable file is started afresh: what views keep is a convenience.
    let mut all = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| match value {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    all.insert(key.to_string(), value);
    let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
    // Write then rename, so a crash mid-write leaves the old file, not half a new one.
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    std::fs::write(&temp, text).map_err(|e| e.to_string())?;
    std::fs::rename(&temp, path).map_err(|e| e.to_string())
}

/// What the state file at `path` holds under `key`, if it reads as a `T`.
pub(crate) fn read_state<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    key: &str,
) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut value: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(value.get_mut(key)?.take()).ok()
}

/// Writes what an operator or a supervisor would look for afterwards.
fn log_notice(notice: &crate::runtime::Notice) {
    use crate::runtime::Notice;
    match notice {
        Notice::Done { message, .. } => tracing::info!("done: {message}"),
        Notice::Refused { code, message, .. } => tracing::info!("refused {code}: {message}"),
        Notice::Failed { message, .. } => tracing::warn!("failed: {message}"),
        Notice::MonitorPass { failures, at, .. } if *failures > 0 => {
            tracing::warn!("monitor pass at {at}: {failures} record(s) failed");
        }
        _ => {}
    }
}

fn expire_toast(app: &mut App, since: &mut Option<(std::time::Instant, app::Toast)>) {
    match (&app.toast, since.as_ref()) {
        (Some(toast), Some((at, shown))) if toast == shown => {
            if at.elapsed() >= TOAST_FOR {
                app.toast = None;
                *since = None;
            }
        }
        (Some(toast), _) => *since = Some((std::time::Instant::now(), toast.clone())),
        (None, _) => *since = None,
    }
}

/// Turns a terminal event into actions: prompts take raw keys, everything else goes through
/// the keymap.
pub fn on_event(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => on_key(app, key),
        Event::Paste(text) => app.update(Action::Paste(text)),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollDown => app.update(Action::Key(keymap::KeyAction::Down)),
            MouseEventKind::ScrollUp => app.update(Action::Key(keymap::KeyAction::Up)),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// What a key does in a prompt: the readline keys users know from their shell (C-a, C-e,
/// C-u, C-k, C-w, C-y, Alt-b, Alt-f, arrows, Home, End); `None` for keys that are not text.
pub fn line_key(key: KeyEvent) -> Option<Action> {
    use tui_input::InputRequest;
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        // As in a shell: Ctrl-C abandons the line.
        KeyCode::Char('c') if control => Some(Action::Escape),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Esc => Some(Action::Escape),
        // A prompt with a pick list (assign) moves its choice; other prompts ignore them.
        KeyCode::Up => Some(Action::Pick(-1)),
        KeyCode::Down => Some(Action::Pick(1)),
        // Readline's C-u kills back to the start of the line, not the whole line.
        KeyCode::Char('u') if control => Some(Action::Edit(InputRequest::DeleteFromStart)),
        _ => tui_input::backend::crossterm::to_input_request(&Event::Key(key)).map(Action::Edit),
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    let ctrl_c = control && key.code == KeyCode::Char('c');
    if app.typing() {
        return match line_key(key) {
            Some(action) => app.update(action),
            None => Vec::new(),
        };
    }
    if ctrl_c {
        // Like every terminal tool: Ctrl-C leaves. Actions already started finish first.
        return vec![Effect::Quit];
    }
    let context = app.context();
    let mut pending = std::mem::take(&mut app.pending);
    let matched = app.keymap.feed(context, &mut pending, key);
    app.pending = pending;
    match matched {
        Match::Action(action) => app.update(Action::Key(action)),
        Match::Pending | Match::None => Vec::new(),
    }
}
