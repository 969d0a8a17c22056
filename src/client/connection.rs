//! The desk's side of a client: actions sent without blocking the event loop, their outcomes
//! and the change stream merged into one queue of notices the desk drains before it draws.

use super::{Api, Request};
use crate::engine::EngineError;
use crate::runtime::{Notice, Ticket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// A desk's connection to the engine, in this process or on a server.
pub struct Connection {
    api: Arc<dyn Api>,
    outcomes: mpsc::UnboundedSender<Notice>,
    notices: mpsc::UnboundedReceiver<Notice>,
    changes: broadcast::Receiver<Notice>,
    next_ticket: AtomicU64,
    in_flight: tokio::task::JoinSet<()>,
}

impl Connection {
    /// A connection over `api`; call it inside a tokio runtime.
    pub fn new(api: Arc<dyn Api>) -> Connection {
        let (outcomes, notices) = mpsc::unbounded_channel();
        let changes = api.changes();
        Connection {
            api,
            outcomes,
            notices,
            changes,
            next_ticket: AtomicU64::new(0),
            in_flight: tokio::task::JoinSet::new(),
        }
    }

    /// The client interface itself, for the views' reads.
    pub fn api(&self) -> &Arc<dyn Api> {
        &self.api
    }

    /// Starts an action; returns at once with the ticket its outcome notice carries.
    pub fn send(&mut self, request: Request) -> Ticket {
        let ticket = Ticket(self.next_ticket.fetch_add(1, Ordering::Relaxed) + 1);
        let (api, outcomes) = (Arc::clone(&self.api), self.outcomes.clone());
        if request.is_long() {
            let _ = outcomes.send(Notice::Busy {
                what: request.describe(),
            });
        }
        self.in_flight.spawn_blocking(move || {
            let progress = outcomes.clone();
            let mut tell = |what: String| {
                let _ = progress.send(Notice::Busy { what });
            };
            let notice = match request.apply(api.as_ref(), &mut tell) {
                Ok(message) => Notice::Done { ticket, message },
                Err(EngineError::Refused { code, message }) => Notice::Refused {
                    ticket,
                    code,
                    message,
                },
                Err(err) => Notice::Failed {
                    ticket: Some(ticket),
                    message: err.to_string(),
                },
            };
            let _ = outcomes.send(notice);
        });
        ticket
    }

    /// The next notice if one is waiting (the desk drains these before it draws).
    pub fn try_notice(&mut self) -> Option<Notice> {
        while self.in_flight.try_join_next().is_some() {}
        if let Ok(notice) = self.notices.try_recv() {
            return Some(notice);
        }
        match self.changes.try_recv() {
            Ok(notice) => Some(notice),
            Err(broadcast::error::TryRecvError::Lagged(_)) => Some(re_read()),
            Err(_) => None,
        }
    }

    /// The next notice; `None` once the engine has stopped and everything was read.
    /// Cancel-safe, so the desk's event loop can select on it.
    pub async fn next_notice(&mut self) -> Option<Notice> {
        tokio::select! {
            biased;
            Some(notice) = self.notices.recv() => Some(notice),
            change = self.changes.recv() => match change {
                Ok(notice) => Some(notice),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(re_read()),
                Err(broadcast::error::RecvError::Closed) => self.notices.recv().await,
            },
        }
    }

    /// Waits for the actions still running (at quit: accepted work is finished).
    pub async fn finish(&mut self) {
        while self.in_flight.join_next().await.is_some() {}
    }
}

/// Fell behind the change stream: everything may have changed.
fn re_read() -> Notice {
    Notice::Changed {
        at: chrono::DateTime::UNIX_EPOCH,
    }
}
