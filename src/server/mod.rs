//! The engine's API (`/v1`), served over HTTP/1.1 on a Unix socket next to the database, by
//! `orderdesk serve` and by an embedded desk while it holds the database.
//!
//! Who calls is established by the operating system: every connection's peer credentials name
//! its Unix user, mapped to a role by `[operators]`; `X-Orderdesk-Operator` names another
//! operator only for accounts that `[access] act_for_others` lists. Reads run on tokio's
//! blocking pool straight against the store, so they never queue behind the single writer.
//!
//! The wire format is plain JSON over HTTP with a server-sent-events stream of change notices
//! (`GET /v1/events`), so `curl --unix-socket` and partner systems speak it too. Every call is
//! documented, with an example, in `docs/api.md`.

mod errors;
mod events;
pub mod routes;

pub use errors::ApiError;
pub use events::Registry;

use crate::runtime::{EngineHandle, Notice};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::sync::watch;

/// The longest a client may take to send a request's headers before it is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stop waits for requests in flight before it lets go of them.
const DRAIN_FOR: Duration = Duration::from_secs(10);

/// The socket of the database at `db`: `<db>.sock`, beside it.
pub fn socket_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".sock");
    PathBuf::from(name)
}

/// Why the API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another process already answers on the socket.
    #[error("{0} is already served by another orderdesk; connect to it instead")]
    AlreadyServed(PathBuf),
    /// The socket could not be created.
    #[error("cannot listen on {path}: {source}")]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The verified peer of one connection.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The Unix user's name.
    pub account: String,
    /// The peer's process, when the system says.
    pub pid: Option<i32>,
}

/// A running API server.
pub struct Server {
    registry: Arc<Registry>,
    handle: EngineHandle,
    socket: PathBuf,
    stop: watch::Sender<bool>,
    accept: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens on `socket` (mode 0660: the owner and the owner's group) for clients of the
    /// engine behind `handle`; `holder` names the process in what clients are told.
    pub async fn start(
        handle: EngineHandle,
        socket: &Path,
        holder: &str,
    ) -> Result<Server, ServeError> {
        if socket.exists() {
            if tokio::net::UnixStream::connect(socket).await.is_ok() {
                return Err(ServeError::AlreadyServed(socket.to_path_buf()));
            }
            // Left by a process that died: nobody answers, so it is ours to replace.
            let _ = std::fs::remove_file(socket);
        }
        let listen_error = |source| ServeError::Listen {
            path: socket.to_path_buf(),
            source,
        };
        let listener = UnixListener::bind(socket).map_err(listen_error)?;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
            .map_err(listen_error)?;
        let settings = handle.reader().config().server.clone();
        if let Some(group) = &settings.group {
            give_to_group(socket, group).map_err(listen_error)?;
        }
        let timeout = Duration::from_secs(settings.request_timeout_seconds.max(1));
        let registry = Arc::new(Registry::new(handle.clone()));
        let state = routes::State {
            handle: handle.clone(),
            registry: Arc::clone(&registry),
            holder: holder.to_string(),
        };
        let (stop, stopped) = watch::channel(false);
        let router = routes::router(state, timeout);
        let header_timeout = HEADER_TIMEOUT.min(timeout);
        let accept = tokio::spawn(accept_loop(listener, router, header_timeout, stopped));
        tracing::info!(socket = %socket.display(), holder, "serving the API");
        Ok(Server {
            registry,
            handle,
            socket: socket.to_path_buf(),
            stop,
            accept,
        })
    }

    /// The sessions it holds, for the in-process desk to list and end.
    pub fn sessions(&self) -> Arc<dyn crate::client::Sessions> {
        Arc::clone(&self.registry) as Arc<dyn crate::client::Sessions>
    }

    /// Counts the desk of this process among the sessions (it listens in-process).
    pub fn attend(&self, actor: &crate::engine::Actor) {
        self.registry.attend(actor);
    }

    /// The socket it listens on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops: tells every client why (and what to run), lets requests in flight finish, and
    /// removes the socket.
    pub async fn stop(self, why: &str) {
        self.handle.announce(Notice::Link {
            up: false,
            message: why.to_string(),
        });
        self.registry.close_all();
        let _ = self.stop.send(true);
        let _ = self.accept.await;
        let _ = std::fs::remove_file(&self.socket);
        tracing::info!(socket = %self.socket.display(), "stopped serving");
    }
}

/// Accepts connections until told to stop, then drains the ones in flight.
async fn accept_loop(
    listener: UnixListener,
    router: axum::Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let peer = match stream.peer_cred() {
                    Ok(cred) => Peer {
                        account: crate::identity::user_name(cred.uid()),
                        pid: cred.pid(),
                    },
                    Err(err) => {
                        tracing::warn!(%err, "a client without peer credentials was turned away");
                        continue;
                    }
                };
                let service = hyper_util::service::TowerToHyperService::new(
                    router.clone().layer(axum::Extension(peer)),
                );
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = watched.await {
                        tracing::debug!(%err, "connection closed");
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_FOR, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_FOR:?} were cut off");
    }
}

/// Hands the socket to `group`, so its members (and only they, with the owner) may connect.
fn give_to_group(socket: &Path, group: &str) -> std::io::Result<()> {
    let found = nix::unistd::Group::from_name(group).map_err(std::io::Error::from)?;
    let Some(found) = found else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("[server] group `{group}` does not exist on this system"),
        ));
    };
    nix::unistd::chown(socket, None, Some(found.gid)).map_err(std::io::Error::from)
}
