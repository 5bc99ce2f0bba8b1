//! A local implementation of the Lambda Runtime API, to run the built functions as Lambda does.
//!
//! Lambda runs a custom runtime (`provided.al2023`) as a process that asks
//! `GET /2018-06-01/runtime/invocation/next` for work, and answers each invocation with
//! `POST …/invocation/{request id}/response` or `…/error`; an initialization failure goes to
//! `POST …/runtime/init/error`. This stand-in plays that API on `127.0.0.1`: a test queues an
//! event with [`LambdaRuntime::invoke`], the function process (started with
//! [`LambdaRuntime::spawn`], which sets `AWS_LAMBDA_RUNTIME_API` and the variables Lambda sets)
//! picks it up, and `invoke` returns what the function answered.

use crate::server::{LocalServer, Threads};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::elasticache::ElastiCacheStandIn;
use crate::moto::Moto;
use crate::slack::{ALERTS, SlackStandIn};

/// The stack's history table.
pub const TABLE: &str = "cachewatch-history";
/// The stack's topic, which the team's clusters publish to.
pub const OURS: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";

/// The deployment's variables the functions share, as the stack sets them, pointing at moto
/// (with the table and the Slack secret made there), the ElastiCache stand-in and Slack's.
pub async fn stack_environment(
    moto: &Moto,
    stand_in: &ElastiCacheStandIn,
    slack: &SlackStandIn,
) -> Vec<(&'static str, String)> {
    let secret = moto.create_table_and_secret(TABLE, slack.token()).await;
    let mut env = moto.env();
    env.extend([
        ("AWS_ENDPOINT_URL_ELASTICACHE", stand_in.endpoint()),
        ("CACHEWATCH_TABLE", TABLE.to_owned()),
        ("CACHEWATCH_SECRET_ARN", secret),
        ("CACHEWATCH_TOPIC_ARN", OURS.to_owned()),
        ("CACHEWATCH_TZ", "UTC".to_owned()),
        ("SLACK_CHANNEL", ALERTS.to_owned()),
        ("SLACK_API_BASE_URL", slack.api_base()),
        ("SLACK_MIN_INTERVAL_MS", "0".to_owned()),
        ("SLACK_RETRY_ATTEMPTS", "2".to_owned()),
        ("SLACK_RETRY_DELAY_MS", "10".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]);
    env
}

/// The event EventBridge Scheduler hands the poller at `at`.
pub fn scheduled_event(at: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339(),
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/cachewatch-poll"],
        "detail": {}
    })
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function answered with this JSON.
    Response(Value),
    /// The function reported an error: its `errorType` and `errorMessage`.
    Error {
        /// `errorType` (also sent as the `Lambda-Runtime-Function-Error-Type` header).
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

impl Outcome {
    /// The function's answer; panics, saying why, when it reported an error.
    pub fn answer(&self) -> &Value {
        match self {
            Outcome::Response(v) => v,
            Outcome::Error {
                error_type,
                message,
            } => panic!("the function failed: {error_type}: {message}"),
        }
    }
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The request id the function was given.
    pub request_id: String,
    /// What it answered.
    pub outcome: Outcome,
    /// From handing the event over to the answer.
    pub took: Duration,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<(String, Value)>,
    started: BTreeMap<String, Instant>,
    done: BTreeMap<String, Invocation>,
    init_error: Option<Value>,
    next_id: u64,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The stand-in. Stops (and kills the functions it spawned) when dropped.
pub struct LambdaRuntime {
    server: LocalServer,
    shared: Arc<Shared>,
    children: Vec<Child>,
}

impl Drop for LambdaRuntime {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl LambdaRuntime {
    /// Starts the API on a free loopback port.
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let server = LocalServer::start(
            "lambda-runtime-api",
            Threads::Workers(2),
            Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next))
                .route(
                    "/2018-06-01/runtime/invocation/{id}/response",
                    post(response),
                )
                .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
                .route("/2018-06-01/runtime/init/error", post(init_error))
                .with_state(Arc::clone(&shared)),
        );
        Self {
            server,
            shared,
            children: Vec::new(),
        }
    }

    /// A runtime with the workspace's function binary `name` started on it, as [`Self::spawn`].
    pub fn running(name: &str, env: &[(&str, String)]) -> Self {
        let mut runtime = Self::start();
        runtime.spawn(&crate::workspace_bin(name), name, env);
        runtime
    }

    /// `127.0.0.1:PORT`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.address().to_string()
    }

    /// Starts a function binary as Lambda would, with the Runtime API's address, the variables
    /// Lambda sets for every function, and `env`. Its output goes to this process's stderr.
    pub fn spawn(&mut self, binary: &Path, name: &str, env: &[(&str, String)]) -> u32 {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef",
            )
            .env("_HANDLER", "bootstrap")
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the function starts");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Hands `event` to the function and waits (up to `within`) for its answer.
    pub fn invoke(&self, event: Value, within: Duration) -> Invocation {
        let id = {
            let mut q = self.shared.lock();
            q.next_id += 1;
            let id = format!("00000000-0000-4000-8000-{:012}", q.next_id);
            q.waiting.push_back((id.clone(), event));
            id
        };
        self.shared.changed.notify_all();
        let deadline = Instant::now() + within;
        let mut q = self.shared.lock();
        loop {
            if let Some(done) = q.done.remove(&id) {
                return done;
            }
            if let Some(init) = &q.init_error {
                panic!("the function failed to start: {init}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the function did not answer invocation {id} within {within:?}"
            );
            q = self
                .shared
                .changed
                .wait_timeout(q, left.min(Duration::from_millis(200)))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// The error the function reported while starting, if any.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.lock().init_error.clone()
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    // Long poll, as Lambda's does: the answer waits for the next event.
    loop {
        let taken = {
            let mut q = shared.lock();
            let taken = q.waiting.pop_front();
            if let Some((id, _)) = &taken {
                q.started.insert(id.clone(), Instant::now());
            }
            taken
        };
        if let Some((id, event)) = taken {
            let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            set("lambda-runtime-aws-request-id", id);
            set("lambda-runtime-deadline-ms", deadline.to_string());
            set(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:111122223333:function:cachewatch".to_owned(),
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
            );
            set("content-type", "application/json".to_owned());
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn finish(shared: &Shared, id: String, outcome: Outcome) -> StatusCode {
    let mut q = shared.lock();
    let Some(started) = q.started.remove(&id) else {
        return StatusCode::BAD_REQUEST;
    };
    q.done.insert(
        id.clone(),
        Invocation {
            request_id: id,
            outcome,
            took: started.elapsed(),
        },
    );
    drop(q);
    shared.changed.notify_all();
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&shared, id, Outcome::Response(value))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error_type = value
        .get("errorType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let message = value
        .get("errorMessage")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    finish(
        &shared,
        id,
        Outcome::Error {
            error_type,
            message,
        },
    )
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.lock().init_error = Some(value);
    shared.changed.notify_all();
    StatusCode::ACCEPTED
}

/// The peak resident memory of a process so far (`VmHWM`), in kilobytes, on Linux.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
