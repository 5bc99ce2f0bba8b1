//! The local servers the tests stand up (Slack, the ElastiCache stand-in, the Lambda Runtime API,
//! the webhook receiver, the counting proxy) share one way to run: an axum router on an ephemeral
//! 127.0.0.1 port, served from a thread of its own, stopped when the owner is dropped.

use std::future::IntoFuture;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, Uri};

/// How many worker threads the server's runtime gets.
#[derive(Debug, Clone, Copy)]
pub enum Threads {
    /// One thread: the request handlers never block each other for long.
    One,
    /// A multi-threaded runtime with this many workers: for servers whose handlers wait on
    /// something (a long poll, an upstream) while others must answer.
    Workers(usize),
}

/// An axum router served on `127.0.0.1` at an ephemeral port. Dropping it stops the server at
/// once: answers still pending (hangs, long polls) are dropped instead of awaited.
#[derive(Debug)]
pub struct LocalServer {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LocalServer {
    /// Serves `app` on its own thread (named `name`, as the panics and the logs say).
    pub fn start(name: &str, threads: Threads, app: Router) -> Self {
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let label = name.to_owned();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = match threads {
                    Threads::One => tokio::runtime::Builder::new_current_thread(),
                    Threads::Workers(n) => {
                        let mut builder = tokio::runtime::Builder::new_multi_thread();
                        builder.worker_threads(n);
                        builder
                    }
                }
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{label}: the runtime starts: {e}"));
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                        .await
                        .unwrap_or_else(|e| panic!("{label}: binds 127.0.0.1:0: {e}"));
                    let address = listener
                        .local_addr()
                        .unwrap_or_else(|e| panic!("{label}: a bound socket's address: {e}"));
                    address_tx
                        .send(address)
                        .expect("the caller waits for the address");
                    tokio::select! {
                        served = axum::serve(listener, app).into_future() => {
                            served.unwrap_or_else(|e| panic!("{label}: serves: {e}"));
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_background();
            })
            .unwrap_or_else(|e| panic!("{name}: the thread starts: {e}"));
        let address = address_rx
            .recv()
            .unwrap_or_else(|_| panic!("{name} reports its address"));
        Self {
            address,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[test]
    fn serves_until_dropped() {
        let server = LocalServer::start(
            "probe",
            Threads::One,
            Router::new().route("/", get(|| async { "here" })),
        );
        let address = server.address();
        let mut stream = std::net::TcpStream::connect(address).expect("it listens");
        use std::io::{Read, Write};
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("here"), "{answer}");
        drop(server);
        assert!(
            std::net::TcpStream::connect(address).is_err(),
            "nothing listens on {address} once the server is dropped"
        );
    }
}

/// A request as a stand-in's catch-all handler takes it in: its method, URI, headers and whole
/// body (within the router's body limit).
#[derive(Debug)]
pub struct Received(pub Method, pub Uri, pub HeaderMap, pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Received {
    type Rejection = <Bytes as FromRequest<S>>::Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let body = Bytes::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Self(method, uri, headers, body))
    }
}
