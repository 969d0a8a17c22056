//! What the desk does with a panic while it owns the terminal.
//!
//! A panic on the desk's own thread unwinds through the desk, so the terminal is given back
//! first and the report printed after. A panic on any other thread (the engine's writer, a
//! courier, the server) does not stop the desk by itself: the writer even catches it and goes
//! on. Printing its report then would write over a desk that keeps drawing, so the report is
//! kept instead and the desk ends itself: terminal given back once, the report after, exit 1.

use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

/// Watches for panics while the desk owns the terminal (see the module comment).
pub struct PanicWatch {
    shared: Arc<Shared>,
}

struct Shared {
    /// The thread the desk draws from.
    desk: ThreadId,
    /// Whether the terminal is the desk's (raw mode, alternate screen).
    terminal_up: AtomicBool,
    /// The first report of a panic elsewhere.
    report: Mutex<Option<String>>,
    /// Wakes the desk's event loop.
    wake: tokio::sync::Notify,
}

impl PanicWatch {
    /// Installs the watch in front of the panic hook already there (color-eyre's), for a desk
    /// drawn from the calling thread; call it before the terminal is taken.
    pub fn install() -> PanicWatch {
        let shared = Arc::new(Shared {
            desk: std::thread::current().id(),
            terminal_up: AtomicBool::new(false),
            report: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
        });
        let previous = std::panic::take_hook();
        let watch = Arc::clone(&shared);
        std::panic::set_hook(Box::new(move |info| {
            let elsewhere = std::thread::current().id() != watch.desk;
            if elsewhere && watch.terminal_up.load(Ordering::SeqCst) {
                let mut report = watch.report.lock().unwrap_or_else(|e| e.into_inner());
                report.get_or_insert_with(|| describe(info));
                drop(report);
                watch.wake.notify_one();
                return;
            }
            if watch.terminal_up.swap(false, Ordering::SeqCst) {
                give_back_terminal();
            }
            previous(info);
        }));
        PanicWatch { shared }
    }

    /// Takes the terminal for the desk: raw mode, the alternate screen, bracketed paste (a
    /// paste arrives as text, never as keys) and, when asked, the mouse.
    pub fn take_terminal(&self, mouse: bool) -> std::io::Result<ratatui::DefaultTerminal> {
        self.shared.terminal_up.store(true, Ordering::SeqCst);
        crossterm::terminal::enable_raw_mode()?;
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::event::EnableBracketedPaste
        )?;
        if mouse {
            crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        }
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
    }

    /// Gives the terminal back, once: later panics print as usual.
    pub fn give_back(&self) {
        if self.shared.terminal_up.swap(false, Ordering::SeqCst) {
            give_back_terminal();
        }
    }

    /// Resolves with the report of the first panic on another thread while the desk was up.
    pub async fn panicked(&self) -> String {
        loop {
            let report = self
                .shared
                .report
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(report) = report {
                return report;
            }
            self.shared.wake.notified().await;
        }
    }
}

impl Drop for PanicWatch {
    /// A desk that ends in any way gives the terminal back.
    fn drop(&mut self) {
        self.give_back();
    }
}

/// Paste and mouse as they were, raw mode off, the main screen back, the cursor shown.
fn give_back_terminal() {
    // Turning off what was never on is harmless: these are plain mode resets.
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableBracketedPaste,
        crossterm::event::DisableMouseCapture
    );
    ratatui::restore();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
}

/// "panic in thread 'orderdesk-engine' at src/x.rs:1:2: what".
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    match info.location() {
        Some(at) => format!("panic in thread '{name}' at {at}: {what}"),
        None => format!("panic in thread '{name}': {what}"),
    }
}
