//! The change stream (`GET /v1/events`) and the sessions it makes: every desk listening is a
//! session the server lists, counts for the others, and a supervisor can end.

use super::Peer;
use crate::client::{SessionInfo, Sessions};
use crate::domain::Role;
use crate::engine::Actor;
use crate::runtime::{EngineHandle, Notice};
use axum::response::sse::{Event, KeepAlive, Sse};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;

/// How often an idle stream sends a comment, so a dead peer is noticed and proxies keep it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

struct Entry {
    info: SessionInfo,
    /// Set to the reason when a supervisor ends the session.
    ended: watch::Sender<Option<String>>,
}

/// The sessions of one server.
pub struct Registry {
    handle: EngineHandle,
    next: std::sync::atomic::AtomicU64,
    entries: Mutex<BTreeMap<u64, Entry>>,
    /// Ids ended by a supervisor: their later requests are refused.
    ended: Mutex<BTreeMap<u64, String>>,
    closing: watch::Sender<bool>,
}

impl Registry {
    /// An empty registry announcing through `handle`.
    pub fn new(handle: EngineHandle) -> Registry {
        Registry {
            handle,
            next: std::sync::atomic::AtomicU64::new(1),
            entries: Mutex::new(BTreeMap::new()),
            ended: Mutex::new(BTreeMap::new()),
            closing: watch::channel(false).0,
        }
    }

    /// Why session `id` was ended, if it was.
    pub fn ended_why(&self, id: u64) -> Option<String> {
        lock(&self.ended).get(&id).cloned()
    }

    /// Ends every stream (the server stops).
    pub fn close_all(&self) {
        let _ = self.closing.send(true);
    }

    /// Counts the desk of the process that serves (an embedded desk) among the sessions.
    pub fn attend(&self, actor: &Actor) -> u64 {
        let peer = Peer {
            account: Some(
                actor
                    .account
                    .clone()
                    .unwrap_or_else(|| actor.operator.clone()),
            ),
            pid: Some(std::process::id() as i32),
            address: None,
        };
        self.open(actor, &peer).0
    }

    fn open(&self, actor: &Actor, peer: &Peer) -> (u64, watch::Receiver<Option<String>>) {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (ended, ended_rx) = watch::channel(None);
        let info = SessionInfo {
            id,
            operator: actor.operator.clone(),
            channel: actor.channel.clone().unwrap_or_else(|| "api".into()),
            since: chrono::Utc::now(),
        };
        tracing::info!(session = id, operator = %actor.operator, account = ?peer.account,
            pid = ?peer.pid, address = ?peer.address, "session opened");
        lock(&self.entries).insert(id, Entry { info, ended });
        self.announce();
        (id, ended_rx)
    }

    fn close(&self, id: u64) {
        if lock(&self.entries).remove(&id).is_some() {
            tracing::info!(session = id, "session closed");
            self.announce();
        }
    }

    /// Tells every stream who is connected now (each stream keeps the names only for
    /// supervisors).
    fn announce(&self) {
        self.handle.announce(self.sessions_notice());
    }

    /// The stream of one session: its id first, then every notice, until the client goes,
    /// the session is ended or the server stops.
    pub fn stream(
        self: &Arc<Self>,
        actor: &Actor,
        peer: &Peer,
    ) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
        let (id, mut ended) = self.open(actor, peer);
        let supervisor = actor.role == Some(Role::Supervisor);
        let mut changes = self.handle.subscribe();
        let mut closing = self.closing.subscribe();
        let (tx, rx) = mpsc::unbounded_channel::<Event>();
        let hello = serde_json::json!({ "session": id, "operator": actor.operator });
        let _ = tx.send(Event::default().event("session").data(hello.to_string()));
        // Who is connected, as this session may see it, right away.
        let _ = tx.send(notice_event(&visible(self.sessions_notice(), supervisor)));
        let registry = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tx.closed() => break,
                    _ = closing.changed() => break,
                    changed = ended.changed() => {
                        let why = ended.borrow().clone();
                        if let (Ok(()), Some(message)) = (changed, why) {
                            let _ = tx.send(notice_event(&Notice::Ended { message }));
                        }
                        break;
                    }
                    change = changes.recv() => match change {
                        Ok(notice) => {
                            let notice = visible(notice, supervisor);
                            let last = matches!(notice, Notice::Stopped);
                            if tx.send(notice_event(&notice)).is_err() || last {
                                break;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            let at = chrono::Utc::now();
                            let _ = tx.send(notice_event(&Notice::Changed { at }));
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
            // A server that stops told everyone through the change stream already; what is
            // still queued here is sent before the stream ends.
            while let Ok(change) = changes.try_recv() {
                if tx.send(notice_event(&visible(change, supervisor))).is_err() {
                    break;
                }
            }
            registry.close(id);
        });
        let stream = UnboundedReceiverStream::new(rx).map(Ok);
        Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
    }

    /// Who is connected, with every name (a stream keeps them only for a supervisor).
    fn sessions_notice(&self) -> Notice {
        let names: Vec<String> = lock(&self.entries)
            .values()
            .map(|e| e.info.operator.clone())
            .collect();
        Notice::Sessions {
            count: names.len(),
            names,
        }
    }
}

impl Sessions for Registry {
    fn list(&self) -> Vec<SessionInfo> {
        lock(&self.entries)
            .values()
            .map(|e| e.info.clone())
            .collect()
    }

    fn end(&self, id: u64, by: &str) -> bool {
        let entries = lock(&self.entries);
        let Some(entry) = entries.get(&id) else {
            return false;
        };
        let why = format!(
            "{by} ended this session ({} on the {}); reopen orderdesk to work again",
            entry.info.operator, entry.info.channel
        );
        tracing::info!(session = id, by, "session ended by a supervisor");
        lock(&self.ended).insert(id, why.clone());
        let _ = entry.ended.send(Some(why));
        true
    }
}

/// The notice as a session may see it: names of who is connected only for supervisors.
fn visible(notice: Notice, supervisor: bool) -> Notice {
    match notice {
        Notice::Sessions { count, .. } if !supervisor => Notice::Sessions {
            count,
            names: Vec::new(),
        },
        other => other,
    }
}

fn notice_event(notice: &Notice) -> Event {
    let data = serde_json::to_string(notice).unwrap_or_else(|_| "{}".into());
    Event::default().event("notice").data(data)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain maps: a panic elsewhere cannot leave them half-written.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
