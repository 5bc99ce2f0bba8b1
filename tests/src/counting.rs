//! A counting proxy between a function and the AWS emulator: every request is passed on to moto
//! unchanged but for one field, and counted by operation, so that a test or a benchmark can say
//! exactly which AWS requests one invocation made.
//!
//! An operation is named by the `X-Amz-Target` header of the JSON protocols (DynamoDB: `Query`,
//! `PutItem`, ...; Secrets Manager: `GetSecretValue`) or by the `Action=` parameter of the Query
//! protocol (ElastiCache, SNS, SQS). DynamoDB requests that can report consumed capacity are sent
//! on with `ReturnConsumedCapacity: TOTAL` (unless they ask for it themselves) and the capacity
//! the answer reports is summed.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The DynamoDB operations that take `ReturnConsumedCapacity`.
const REPORTS_CAPACITY: [&str; 10] = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
];

/// What went through the proxy since the last [`CountingProxy::take`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Requests by operation name.
    pub requests: BTreeMap<String, u64>,
    /// The DynamoDB capacity units the answers reported, summed.
    pub capacity: f64,
}

impl Counts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Requests of one operation.
    pub fn of(&self, operation: &str) -> u64 {
        self.requests.get(operation).copied().unwrap_or(0)
    }

    /// Requests that change the table (puts, updates, deletes, batch and transactional writes).
    pub fn writes(&self) -> u64 {
        [
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
        ]
        .iter()
        .map(|op| self.of(op))
        .sum()
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} requests (", self.total())?;
        let mut first = true;
        for (op, n) in &self.requests {
            if !first {
                write!(f, ", ")?;
            }
            first = false;
            write!(f, "{n} {op}")?;
        }
        write!(f, "), {:.1} capacity units", self.capacity)
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    counts: Mutex<Counts>,
}

/// The proxy, on a free loopback port. Stops when dropped.
pub struct CountingProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CountingProxy {
    /// A proxy passing every request on to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            counts: Mutex::new(Counts::default()),
        });
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("counting-proxy".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the proxy's runtime starts");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                        .await
                        .expect("the proxy binds 127.0.0.1:0");
                    address_tx
                        .send(listener.local_addr().expect("a bound socket's address"))
                        .expect("the caller waits for the address");
                    let app = Router::new().fallback(pass_on).with_state(state);
                    tokio::select! {
                        served = axum::serve(listener, app).into_future() => {
                            served.expect("the proxy serves");
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_background();
            })
            .expect("the proxy's thread starts");
        let address = address_rx.recv().expect("the proxy reports its address");
        Self {
            address,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`: the endpoint to give the function in place of the emulator's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// What went through since the last call, and starts counting again from zero.
    pub fn take(&self) -> Counts {
        std::mem::take(
            &mut *self
                .shared
                .counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The operation a request asks for: `X-Amz-Target`'s last part, else the `Action` parameter.
fn operation(headers: &HeaderMap, uri: &Uri, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let form = std::str::from_utf8(body).unwrap_or_default();
    let params = uri.query().unwrap_or_default();
    form.split('&')
        .chain(params.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="))
        .map_or_else(|| "unknown".to_owned(), str::to_owned)
}

/// The body to send on: a DynamoDB request that reports capacity asks for its total.
fn with_capacity(operation: &str, headers: &HeaderMap, body: Bytes) -> Bytes {
    let dynamodb = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("DynamoDB_"));
    if !dynamodb || !REPORTS_CAPACITY.contains(&operation) {
        return body;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut request)) => {
            request
                .entry("ReturnConsumedCapacity")
                .or_insert_with(|| Value::from("TOTAL"));
            Bytes::from(Value::Object(request).to_string())
        }
        _ => body,
    }
}

/// The capacity units a DynamoDB answer reports (one object, or one per table).
fn capacity(answer: &[u8]) -> f64 {
    let Ok(answer) = serde_json::from_slice::<Value>(answer) else {
        return 0.0;
    };
    let units = |c: &Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &answer["ConsumedCapacity"] {
        Value::Array(tables) => tables.iter().map(units).sum(),
        one @ Value::Object(_) => units(one),
        _ => 0.0,
    }
}

async fn pass_on(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let op = operation(&headers, &uri, &body);
    let body = with_capacity(&op, &headers, body);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .client
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let answer_headers = answer.headers().clone();
    let answer_body = answer.bytes().await.unwrap_or_default();
    {
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.requests.entry(op).or_default() += 1;
        counts.capacity += capacity(&answer_body);
    }
    let mut response = (status, answer_body).into_response();
    for (name, value) in &answer_headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
