//! A counting proxy between a function and the AWS emulator: every request is passed on to moto
//! unchanged but for one field, and counted by operation, so that a test or a benchmark can say
//! exactly which AWS requests one invocation made.
//!
//! An operation is named by the `X-Amz-Target` header of the JSON protocols (DynamoDB: `Query`,
//! `PutItem`, ...; Secrets Manager: `GetSecretValue`) or by the `Action=` parameter of the Query
//! protocol (ElastiCache, SNS, SQS). DynamoDB requests that can report consumed capacity are sent
//! on with `ReturnConsumedCapacity: TOTAL` (unless they ask for it themselves) and the capacity
//! the answer reports is summed. With `CACHEWATCH_PROXY_TRACE` set, each request is printed (its
//! operation and the start of its body) to standard error as it passes.

use crate::server::{LocalServer, Received, Threads};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
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

/// The DynamoDB operations that write.
const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// The size DynamoDB gives an item: its attribute names and values (strings and binaries by
/// their length, numbers by their digits, sets, lists and maps by what they hold).
pub fn item_size(item: &Value) -> usize {
    fn value(v: &Value) -> usize {
        let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
            return 0;
        };
        match (kind.as_str(), inner) {
            ("S" | "N", Value::String(s)) => s.len(),
            ("B", Value::String(s)) => s.len() * 3 / 4,
            ("BOOL" | "NULL", _) => 1,
            ("SS" | "NS", Value::Array(xs)) => {
                xs.iter().filter_map(Value::as_str).map(str::len).sum()
            }
            ("L", Value::Array(xs)) => 3 + xs.iter().map(|x| 1 + value(x)).sum::<usize>(),
            ("M", Value::Object(_)) => 3 + item_size(inner),
            _ => 0,
        }
    }
    item.as_object()
        .map(|o| o.iter().map(|(name, v)| name.len() + value(v)).sum())
        .unwrap_or(0)
}

/// How many of the table's indexes an item is in: one per `GSInPK` attribute it has.
fn indexes_of(item: &Value) -> usize {
    item.as_object().map_or(0, |o| {
        o.keys()
            .filter(|k| k.starts_with("GSI") && k.ends_with("PK"))
            .count()
    })
}

/// Units of `size` bytes in steps of `step`, at least one.
fn units(size: usize, step: usize) -> f64 {
    size.div_ceil(step).max(1) as f64
}

/// The read request units of a successful DynamoDB request, as the on-demand pricing page defines
/// them: a strongly consistent read of up to 4 KB is one unit, an eventually consistent one half;
/// a query is billed on the total size of the items it read, a batch read item by item.
pub fn read_units(operation: &str, sent: &Value, answered: &Value) -> f64 {
    let factor = if sent["ConsistentRead"] == Value::Bool(true) {
        1.0
    } else {
        0.5
    };
    let items_of = |v: &Value| -> Vec<Value> { v.as_array().cloned().unwrap_or_default() };
    match operation {
        "GetItem" => factor * units(item_size(&answered["Item"]), 4096),
        "Query" | "Scan" => {
            let total = items_of(&answered["Items"]).iter().map(item_size).sum();
            factor * units(total, 4096)
        }
        "BatchGetItem" => {
            let consistent = sent["RequestItems"]
                .as_object()
                .is_some_and(|t| t.values().all(|r| r["ConsistentRead"] == Value::Bool(true)));
            let factor = if consistent { 1.0 } else { 0.5 };
            answered["Responses"].as_object().map_or(0.0, |tables| {
                tables
                    .values()
                    .flat_map(items_of)
                    .map(|item| factor * units(item_size(&item), 4096))
                    .sum()
            })
        }
        _ => 0.0,
    }
}

/// The write request units of a successful DynamoDB request: one per KB of each item written,
/// again for each index the item is in, twice over in a transaction. An update or a delete is
/// counted as a write of one KB to the table and to each index its kind of item is in (the
/// item's size is not sent).
pub fn write_units(operation: &str, sent: &Value) -> f64 {
    let put = |item: &Value| units(item_size(item), 1024) * (1 + indexes_of(item)) as f64;
    // An event is in every index, a maintenance or a delivery in one, anything else in none.
    let keyed = |key: &Value| match key["PK"]["S"].as_str().unwrap_or_default().get(..2) {
        Some("E#") => 6.0,
        Some("M#" | "D#") => 2.0,
        _ => 1.0,
    };
    match operation {
        "PutItem" => put(&sent["Item"]),
        "UpdateItem" | "DeleteItem" => keyed(&sent["Key"]),
        "BatchWriteItem" => sent["RequestItems"].as_object().map_or(0.0, |tables| {
            tables
                .values()
                .filter_map(Value::as_array)
                .flatten()
                .map(|r| match r.get("PutRequest") {
                    Some(p) => put(&p["Item"]),
                    None => keyed(&r["DeleteRequest"]["Key"]),
                })
                .sum()
        }),
        "TransactWriteItems" => sent["TransactItems"].as_array().map_or(0.0, |items| {
            items
                .iter()
                .map(|t| {
                    2.0 * match (t.get("Put"), t.get("ConditionCheck")) {
                        (Some(p), _) => put(&p["Item"]),
                        (None, Some(_)) => 1.0,
                        _ => t
                            .as_object()
                            .and_then(|o| o.values().next())
                            .map_or(1.0, |w| keyed(&w["Key"])),
                    }
                })
                .sum()
        }),
        _ => 0.0,
    }
}

/// What went through the proxy since the last [`CountingProxy::take`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Requests by operation name.
    pub requests: BTreeMap<String, u64>,
    /// The DynamoDB capacity units the answers reported, summed.
    pub capacity: f64,
    /// Read request units DynamoDB would bill, worked out from the items' sizes (see
    /// [`read_units`]).
    pub read_units: f64,
    /// Write request units DynamoDB would bill, worked out from the items' sizes, the indexes
    /// they are in, and transactions (see [`write_units`]).
    pub write_units: f64,
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
        WRITES.iter().map(|op| self.of(op)).sum()
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
        write!(
            f,
            "), {:.1} capacity units (moto); {:.1} RRU + {:.1} WRU (item sizes)",
            self.capacity, self.read_units, self.write_units
        )
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    counts: Mutex<Counts>,
}

/// The proxy, on a free loopback port. Stops when dropped.
pub struct CountingProxy {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl CountingProxy {
    /// A proxy passing every request on to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            counts: Mutex::new(Counts::default()),
        });
        let server = LocalServer::start(
            "counting-proxy",
            Threads::Workers(2),
            Router::new()
                .fallback(pass_on)
                .with_state(Arc::clone(&shared)),
        );
        Self { server, shared }
    }

    /// `http://127.0.0.1:PORT`: the endpoint to give the function in place of the emulator's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.address())
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
    Received(method, uri, headers, body): Received,
) -> Response {
    let op = operation(&headers, &uri, &body);
    if std::env::var_os("CACHEWATCH_PROXY_TRACE").is_some() {
        let text = String::from_utf8_lossy(&body);
        eprintln!("PROXY {op} {}", &text[..text.len().min(400)]);
    }
    let body = with_capacity(&op, &headers, body);
    let body_sent = body.clone();
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
        let sent: Value = serde_json::from_slice(&body_sent).unwrap_or(Value::Null);
        let answered: Value = serde_json::from_slice(&answer_body).unwrap_or(Value::Null);
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.capacity += capacity(&answer_body);
        if status.is_success() {
            counts.read_units += read_units(&op, &sent, &answered);
            counts.write_units += write_units(&op, &sent);
        } else if WRITES.contains(&op.as_str()) {
            // A write refused on its condition is billed as a write of at least one unit.
            counts.write_units += if op == "TransactWriteItems" { 2.0 } else { 1.0 };
        }
        *counts.requests.entry(op).or_default() += 1;
    }
    let mut response = (status, answer_body).into_response();
    for (name, value) in &answer_headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
