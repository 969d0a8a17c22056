//! A real `orderdesk serve` for the tests: started on a demo database, waited for by its
//! readiness line, killed (SIGKILL) or stopped (SIGTERM) on demand.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_orderdesk")
}

/// A running server.
pub struct Served {
    pub child: Child,
    pub db: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Served {
    /// Starts `orderdesk serve` on `db` under `config` and waits for its readiness line.
    pub fn start(db: &Path, config: &Path, extra: &[&str]) -> Served {
        let log = db.with_extension(format!("serve-{}.log", std::process::id()));
        let mut child = Command::new(bin())
            .arg("--db")
            .arg(db)
            .arg("--config")
            .arg(config)
            .args(extra)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("server log"))
            .spawn()
            .expect("start orderdesk serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no readiness line; log:\n{}", read(&log)));
        assert!(
            line.starts_with("orderdesk: serving"),
            "readiness line: {line:?}; log:\n{}",
            read(&log)
        );
        Served {
            child,
            db: db.to_path_buf(),
            config: config.to_path_buf(),
            log,
        }
    }

    /// The socket.
    pub fn socket(&self) -> PathBuf {
        orderdesk::server::socket_path(&self.db)
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        read(&self.log)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Runs the command line on `db` (through the server when one runs), as root.
pub fn cli(db: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--db")
        .arg(db)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run orderdesk")
}

/// Runs the command line on `db` as the Unix user `user`.
pub fn cli_as(user: &str, db: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", user, "--", bin(), "--db"])
        .arg(db)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run orderdesk as another user")
}

/// The stdout of a command that must succeed.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A Unix user for the identity tests, in `group` (both created when missing).
pub fn unix_user(name: &str, group: &str) {
    let _ = Command::new("groupadd").args(["-f", group]).status();
    let exists = Command::new("id")
        .arg("-u")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let status = Command::new("useradd")
            .args(["-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name])
            .status()
            .expect("useradd");
        // Another test may have created it at the same moment.
        assert!(
            status.success()
                || Command::new("id")
                    .arg("-u")
                    .arg(name)
                    .output()
                    .is_ok_and(|o| o.status.success()),
            "could not create the user {name}"
        );
    }
}

/// One raw HTTP/1.1 exchange on the socket: the status code and the body.
pub fn http(socket: &Path, request: &[u8]) -> (u16, String) {
    let stream = UnixStream::connect(socket).expect("connect to the socket");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    exchange(stream, request)
}

/// One raw HTTP/1.1 exchange over TCP to `address` (host:port): the status and the body.
pub fn tcp_http(address: &str, request: &[u8]) -> (u16, String) {
    let stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    exchange(stream, request)
}

fn exchange<S: Read + Write>(mut stream: S, request: &[u8]) -> (u16, String) {
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    status_and_body(&String::from_utf8_lossy(&answer))
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

/// A token made by `orderdesk token NAME`: the token, and its line for `[server.tokens]`.
pub fn token(name: &str) -> (String, String) {
    let out = ok(&Command::new(bin())
        .args(["token", name])
        .output()
        .expect("token"));
    let lines: Vec<&str> = out.lines().collect();
    (lines[1].trim().to_string(), lines[4].trim().to_string())
}

/// An HTTP/1.1 answer's status code and body (0 and empty when it is not one).
pub fn status_and_body(text: &str) -> (u16, String) {
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A request with `Connection: close`, so [`http`] reads to its end.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: orderdesk\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}
