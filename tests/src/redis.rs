//! A real `redis-server` (the Debian package) on a loopback port, without persistence, in a
//! temporary directory: started by a test, stopped and started again on the same port when the
//! test says, killed when dropped. Plus a tiny blocking client to seed data and give orders.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::moto::free_port;

/// A running (or deliberately stopped) `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    tls_port: Option<u16>,
}

impl RedisServer {
    /// Starts a primary on a free loopback port and waits until it answers `PING`.
    pub fn start() -> Self {
        Self::start_with(Vec::new())
    }

    /// Starts a replica of `primary` and waits until its replication link is up.
    pub fn start_replica_of(primary: &RedisServer) -> Self {
        let server = Self::start_with(vec![
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            primary.port.to_string(),
        ]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !server
            .command(&["INFO", "replication"])
            .contains("master_link_status:up")
        {
            assert!(
                Instant::now() < deadline,
                "the replica on port {} did not sync with its primary within 20 s",
                server.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts a primary that also speaks TLS on a second port, with a certificate for
    /// `localhost` and `127.0.0.1` signed by a certificate authority of its own
    /// ([`RedisServer::ca_file`]). The certificates are made with the `openssl` command.
    pub fn start_tls() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        make_certificates(dir.path());
        let tls_port = free_port();
        let extra = [
            "--tls-port",
            &tls_port.to_string(),
            "--tls-cert-file",
            "server.crt",
            "--tls-key-file",
            "server.key",
            "--tls-ca-cert-file",
            "ca.crt",
            "--tls-auth-clients",
            "no",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
            extra,
            tls_port: Some(tls_port),
        };
        server.spawn_and_wait();
        server
    }

    fn start_with(extra: Vec<String>) -> Self {
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            extra,
            tls_port: None,
        };
        server.spawn_and_wait();
        server
    }

    /// `rediss://localhost:TLS_PORT`, for a server started with [`RedisServer::start_tls`].
    pub fn tls_url(&self) -> String {
        let port = self.tls_port.expect("the server was started with TLS");
        format!("rediss://localhost:{port}")
    }

    /// The certificate authority that signed a TLS server's certificate (a PEM file).
    pub fn ca_file(&self) -> std::path::PathBuf {
        assert!(self.tls_port.is_some(), "the server was started with TLS");
        self.dir.path().join("ca.crt")
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and answers the moment just before.
    pub fn kill(&mut self) -> Instant {
        let child = self.child.as_mut().expect("the server is running");
        let at = Instant::now();
        child.kill().expect("redis-server can be killed");
        child.wait().expect("redis-server is reaped");
        self.child = None;
        at
    }

    /// Starts the server again on the same port and answers the moment it first answered `PING`.
    /// Without persistence it comes back empty.
    pub fn restart(&mut self) -> Instant {
        assert!(self.child.is_none(), "kill the server before restarting it");
        self.spawn_and_wait()
    }

    fn spawn_and_wait(&mut self) -> Instant {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--daemonize", "no"])
            .args(["--protected-mode", "no", "--loglevel", "warning"])
            .args(&self.extra)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (install the Debian package redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(reply) = try_command(self.port, &["PING"])
                && reply == "PONG"
            {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends one command and answers its reply as text: a status or error line as written
    /// (`OK`, `-ERR ...`), an integer's digits, a bulk string's content, an array's items one per
    /// line.
    pub fn command(&self, args: &[&str]) -> String {
        try_command(self.port, args)
            .unwrap_or_else(|e| panic!("{args:?} on port {}: {e}", self.port))
    }

    /// `MSET` of `count` keys `seed:0` ... into the database.
    pub fn seed(&self, count: usize) {
        let mut args = vec!["MSET".to_owned()];
        for i in 0..count {
            args.push(format!("seed:{i}"));
            args.push(i.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(self.command(&args), "OK");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn try_command(port: u16, args: &[&str]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())?;
    read_reply(&mut BufReader::new(stream))
}

fn read_reply(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end_matches("\r\n");
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("reply {line:?}"));
    let (tag, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    match tag {
        "+" | ":" => Ok(rest.to_owned()),
        "-" => Ok(line.to_owned()),
        "$" => {
            let Ok(len) = rest.parse::<usize>() else {
                return Ok(String::new());
            };
            let mut bytes = vec![0; len + 2];
            reader.read_exact(&mut bytes)?;
            bytes.truncate(len);
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        "*" => {
            let count = rest.parse::<usize>().unwrap_or(0);
            let items: std::io::Result<Vec<String>> =
                (0..count).map(|_| read_reply(reader)).collect();
            Ok(items?.join("\n"))
        }
        _ => Err(bad()),
    }
}

/// A certificate authority (`ca.crt`) and a server certificate and key for `localhost` and
/// `127.0.0.1` signed by it (`server.crt`, `server.key`), in `dir`.
fn make_certificates(dir: &std::path::Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("the extensions file is written");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=cachewatch test CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl runs (it comes with the Debian package ca-certificates)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
