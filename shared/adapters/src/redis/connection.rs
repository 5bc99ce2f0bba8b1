//! One connection to a Redis server, plain or TLS, logged in and on its database.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cachewatch_core::operations::probe::ErrorKind;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use super::resp::{self, Reply, RespError};
use super::target::RedisTarget;

/// Why talking to Redis failed.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The host name did not resolve.
    #[error("cannot resolve {host}")]
    Resolve {
        /// The host name.
        host: String,
        /// What the resolver said.
        #[source]
        source: io::Error,
    },
    /// No TCP connection could be opened.
    #[error("cannot connect to {addr}")]
    Connect {
        /// The address tried last.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The system's trusted certificates could not be loaded for TLS.
    #[error("no trusted certificates for TLS: {0}")]
    TlsRoots(String),
    /// The TLS handshake failed.
    #[error("TLS handshake with {host} failed")]
    Tls {
        /// The host name the certificate was checked against.
        host: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Reading or writing failed on an open connection.
    #[error("connection lost")]
    Io(#[source] io::Error),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// No answer in time.
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The server answered with an error.
    #[error("the server answered: {0}")]
    Reply(String),
    /// The server's bytes are not RESP.
    #[error(transparent)]
    Protocol(#[from] RespError),
    /// A well-formed reply that is not the one the command gives.
    #[error("{command} answered {reply}, not {expected}")]
    Unexpected {
        /// The command sent.
        command: &'static str,
        /// What came back, shortened.
        reply: String,
        /// What should have come back.
        expected: &'static str,
    },
    /// `GET` returned something else than the value just written.
    #[error("GET returned {got}, not the value just written")]
    WrongValue {
        /// What it returned, shortened.
        got: String,
    },
}

impl RedisError {
    /// The kind an operator tells this failure apart by.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RedisError::Resolve { .. } => ErrorKind::Dns,
            RedisError::Connect { source, .. } => match source.kind() {
                io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
                io::ErrorKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Other,
            },
            RedisError::TlsRoots(_) | RedisError::Tls { .. } => ErrorKind::Tls,
            RedisError::Io(source) => match source.kind() {
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => ErrorKind::ConnectionLost,
                io::ErrorKind::TimedOut => ErrorKind::Timeout,
                _ => ErrorKind::Other,
            },
            RedisError::Closed => ErrorKind::ConnectionLost,
            RedisError::Timeout(_) => ErrorKind::Timeout,
            RedisError::Reply(message) => ErrorKind::of_error_reply(message),
            RedisError::Protocol(_) | RedisError::Unexpected { .. } => ErrorKind::Protocol,
            RedisError::WrongValue { .. } => ErrorKind::WrongValue,
        }
    }

    /// The message with its causes (`cannot connect to 127.0.0.1:6379: Connection refused (os
    /// error 111)`).
    pub fn full_message(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// Whether the connection that gave this error cannot carry another command: it is closed,
    /// or a reply may still be on its way (a timeout), or its bytes made no sense. Error replies
    /// leave it usable.
    pub fn breaks_connection(&self) -> bool {
        !matches!(
            self,
            RedisError::Reply(_) | RedisError::WrongValue { .. } | RedisError::Unexpected { .. }
        )
    }

    /// Whether the connection that gave this error is not worth keeping: a broken one, and one
    /// answering `READONLY` or `MOVED` too (a failover moved the primary: connecting again
    /// resolves the endpoint's name again and finds it).
    pub fn drops_connection(&self) -> bool {
        match self {
            RedisError::Reply(message) => matches!(
                ErrorKind::of_error_reply(message),
                ErrorKind::Readonly | ErrorKind::Moved
            ),
            _ => self.breaks_connection(),
        }
    }
}

/// Opens connections to one target: resolves its name each time (a failover changes what an
/// endpoint's name points at), and holds the TLS settings.
#[derive(Clone)]
pub struct Connector {
    target: RedisTarget,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("target", &self.target.display_url())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Connector {
    /// A connector for `target`. With TLS, server certificates are checked against the system's
    /// trusted certificates (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured).
    pub fn new(target: RedisTarget) -> Result<Connector, RedisError> {
        let tls = if target.tls {
            Some(tls_connector()?)
        } else {
            None
        };
        Ok(Connector { target, tls })
    }

    /// The target.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// A new connection, logged in and on the target's database, within `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Result<Connection, RedisError> {
        tokio::time::timeout(timeout, self.connect_now())
            .await
            .unwrap_or(Err(RedisError::Timeout(timeout)))
    }

    async fn connect_now(&self) -> Result<Connection, RedisError> {
        let target = &self.target;
        let resolve_error = |source| RedisError::Resolve {
            host: target.host.clone(),
            source,
        };
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(resolve_error)?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(source) => last = Some(RedisError::Connect { addr, source }),
            }
        }
        let tcp = match (tcp, last) {
            (Some(tcp), _) => tcp,
            (None, Some(error)) => return Err(error),
            (None, None) => {
                return Err(resolve_error(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no address",
                )));
            }
        };
        // Commands are small and answered one at a time: send each at once.
        tcp.set_nodelay(true).map_err(RedisError::Io)?;
        let stream: Box<dyn Stream> = match &self.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let tls_error = |source| RedisError::Tls {
                    host: target.host.clone(),
                    source,
                };
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| tls_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
                Box::new(tls.connect(name, tcp).await.map_err(tls_error)?)
            }
        };
        let mut connection = Connection {
            stream,
            buf: Vec::with_capacity(4096),
        };
        if let Some(password) = &target.password {
            let password = password.expose_secret().as_bytes();
            let reply = match &target.username {
                Some(user) => {
                    connection
                        .command(&[b"AUTH", user.as_bytes(), password])
                        .await?
                }
                None => connection.command(&[b"AUTH", password]).await?,
            };
            expect_ok("AUTH", reply)?;
        }
        if target.db != 0 {
            let db = target.db.to_string();
            let reply = connection.command(&[b"SELECT", db.as_bytes()]).await?;
            expect_ok("SELECT", reply)?;
        }
        Ok(connection)
    }
}

/// A byte stream to the server: TCP, or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open connection. Commands are sent one at a time; a command cut short (by a timeout) leaves
/// the connection in an unknown state, so drop it then.
pub struct Connection {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl Connection {
    /// Sends one command and reads its reply. An error reply is `Err(RedisError::Reply)`.
    pub async fn command(&mut self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        self.stream
            .write_all(&resp::encode(args))
            .await
            .map_err(RedisError::Io)?;
        self.stream.flush().await.map_err(RedisError::Io)?;
        match self.read_reply().await? {
            Reply::Error(message) => Err(RedisError::Reply(message)),
            reply => Ok(reply),
        }
    }

    async fn read_reply(&mut self) -> Result<Reply, RedisError> {
        loop {
            if let Some((reply, used)) = resp::parse(&self.buf)? {
                self.buf.drain(..used);
                return Ok(reply);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.map_err(RedisError::Io)?;
            if n == 0 {
                return Err(RedisError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// `DBSIZE`: how many keys the database holds.
    pub async fn dbsize(&mut self) -> Result<u64, RedisError> {
        match self.command(&[b"DBSIZE"]).await? {
            Reply::Integer(n) => Ok(u64::try_from(n).unwrap_or(0)),
            other => Err(unexpected("DBSIZE", &other, "an integer")),
        }
    }

    /// `INFO replication`, as text.
    pub async fn info_replication(&mut self) -> Result<String, RedisError> {
        match self.command(&[b"INFO", b"replication"]).await? {
            Reply::Bulk(Some(bytes)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            other => Err(unexpected("INFO", &other, "a bulk string")),
        }
    }
}

/// `+OK`, or the reply that came instead.
pub(crate) fn expect_ok(command: &'static str, reply: Reply) -> Result<(), RedisError> {
    match reply {
        Reply::Simple(s) if s == "OK" => Ok(()),
        other => Err(unexpected(command, &other, "+OK")),
    }
}

pub(crate) fn unexpected(
    command: &'static str,
    reply: &Reply,
    expected: &'static str,
) -> RedisError {
    RedisError::Unexpected {
        command,
        reply: shorten(&reply.to_string()),
        expected,
    }
}

/// At most 80 characters of `text`.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// TLS as ElastiCache in-transit encryption needs it: TLS 1.2 or 1.3, the system's trusted
/// certificates, the aws-lc-rs provider named explicitly (other crates of the build may enable a
/// second one, and then no default would be chosen).
fn tls_connector() -> Result<TlsConnector, RedisError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "the system has none".to_owned());
        return Err(RedisError::TlsRoots(why));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RedisError::TlsRoots(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
