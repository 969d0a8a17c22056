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
    /// `[server]` asks for something that cannot be served safely or at all.
    #[error("{0}")]
    Config(String),
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
    /// The Unix user's name; `None` over TCP, where each request presents a token.
    pub account: Option<String>,
    /// The peer's process, when the system says.
    pub pid: Option<i32>,
    /// The peer's address over TCP.
    pub address: Option<std::net::SocketAddr>,
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
            busy: routes::State::gate(),
        };
        let (stop, stopped) = watch::channel(false);
        let tcp = match &settings.listen {
            Some(address) => {
                let partners = &handle.reader().config().partners;
                let partner_tokens = partners.each().any(|(_, p)| p.inbound_token.is_some());
                Some(tcp_listener(address, &settings, partner_tokens).await?)
            }
            None => None,
        };
        let router = routes::router(state, timeout);
        let header_timeout = HEADER_TIMEOUT.min(timeout);
        let accept = tokio::spawn(accept_loop(listener, tcp, router, header_timeout, stopped));
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

/// A TCP listener for `[server] listen`, with TLS when configured (required off loopback).
struct Tcp {
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

async fn tcp_listener(
    address: &str,
    settings: &crate::config::Server,
    partner_tokens: bool,
) -> Result<Tcp, ServeError> {
    let parsed: std::net::SocketAddr = address.parse().map_err(|_| {
        ServeError::Config(format!(
            "[server] listen = \"{address}\": not an address; write IP:PORT, e.g. \"127.0.0.1:7878\""
        ))
    })?;
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
        (None, None) if parsed.ip().is_loopback() => None,
        (None, None) => {
            return Err(ServeError::Config(format!(
                "[server] listen = \"{address}\" is reachable from other machines: TLS is \
                 required there; set tls_cert and tls_key (PEM), or listen on 127.0.0.1"
            )))
        }
        _ => {
            return Err(ServeError::Config(
                "[server] tls_cert and tls_key go together: set both or neither".into(),
            ))
        }
    };
    if settings.tokens.is_empty() && !partner_tokens {
        return Err(ServeError::Config(
            "[server] listen needs [server.tokens] or a partner's inbound_token: over TCP every \
             client presents a token (make one with `orderdesk token NAME`)"
                .into(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(parsed)
        .await
        .map_err(|source| ServeError::Listen {
            path: PathBuf::from(address),
            source,
        })?;
    tracing::info!(%address, tls = tls.is_some(), "serving the API over TCP");
    Ok(Tcp { listener, tls })
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &Path, err: &dyn std::fmt::Display| {
        ServeError::Config(format!("[server] {}: {err}", what.display()))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Config(format!("TLS: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| ServeError::Config(format!("[server] tls_cert and tls_key: {e}")))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until told to stop, then drains the ones in flight.
async fn accept_loop(
    listener: UnixListener,
    tcp: Option<Tcp>,
    router: axum::Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let serve = |io, peer: Peer| {
        let service = hyper_util::service::TowerToHyperService::new(
            router.clone().layer(axum::Extension(peer)),
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(io, service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = watched.await {
                tracing::debug!(%err, "connection closed");
            }
        });
    };
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
                        account: Some(crate::identity::user_name(cred.uid())),
                        pid: cred.pid(),
                        address: None,
                    },
                    Err(err) => {
                        tracing::warn!(%err, "a client without peer credentials was turned away");
                        continue;
                    }
                };
                serve(TokioIo::new(Box::new(stream) as Box<dyn Stream>), peer);
            }
            accepted = accept_tcp(tcp.as_ref()) => {
                let Some((stream, address)) = accepted else { continue };
                let peer = Peer { account: None, pid: None, address: Some(address) };
                match tcp.as_ref().and_then(|t| t.tls.clone()) {
                    None => serve(TokioIo::new(Box::new(stream) as Box<dyn Stream>), peer),
                    Some(tls) => {
                        // The handshake runs off the accept loop, bounded like a request's headers.
                        let handshake = tokio::time::timeout(header_timeout, tls.accept(stream)).await;
                        match handshake {
                            Ok(Ok(stream)) => serve(TokioIo::new(Box::new(stream) as Box<dyn Stream>), peer),
                            Ok(Err(err)) => tracing::info!(%address, %err, "TLS handshake failed"),
                            Err(_) => tracing::info!(%address, "TLS handshake timed out"),
                        }
                    }
                }
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    drop(tcp);
    if tokio::time::timeout(DRAIN_FOR, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_FOR:?} were cut off");
    }
}

/// A connection's byte stream, whichever listener it came from.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// The next TCP connection, or never when there is no TCP listener.
async fn accept_tcp(tcp: Option<&Tcp>) -> Option<(tokio::net::TcpStream, std::net::SocketAddr)> {
    match tcp {
        Some(tcp) => match tcp.listener.accept().await {
            Ok(accepted) => Some(accepted),
            Err(err) => {
                tracing::warn!(%err, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                None
            }
        },
        None => std::future::pending().await,
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
