//! A local receiver for cachewatch's signed webhook: it records every request it is sent (headers
//! and body) and answers each with the status the test gives it (`503` for a while, say, then
//! `200`). On 127.0.0.1, stopped when dropped.

use crate::server::{LocalServer, Threads};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// Its body, exactly as sent.
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the webhook's body is JSON")
    }
}

#[derive(Debug, Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// The statuses of the next answers, first first; once empty, `otherwise`.
    script: Mutex<VecDeque<u16>>,
    otherwise: Mutex<u16>,
}

/// The receiver.
#[derive(Debug)]
pub struct WebhookReceiver {
    server: LocalServer,
    shared: Arc<Shared>,
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| *shared.otherwise.lock().unwrap());
    shared.received.lock().unwrap().push(Received {
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        answered: status,
    });
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl WebhookReceiver {
    /// Starts a receiver that answers 200.
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            otherwise: Mutex::new(200),
            ..Shared::default()
        });
        let server = LocalServer::start(
            "webhook-receiver",
            Threads::One,
            Router::new()
                .fallback(receive)
                .with_state(Arc::clone(&shared)),
        );
        Self { server, shared }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.server.address())
    }

    /// Answers the next requests with these statuses, in order.
    pub fn answer_next(&self, statuses: &[u16]) {
        self.shared.script.lock().unwrap().extend(statuses);
    }

    /// Answers every request not scripted with `status`.
    pub fn answer_otherwise(&self, status: u16) {
        *self.shared.otherwise.lock().unwrap() = status;
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}
