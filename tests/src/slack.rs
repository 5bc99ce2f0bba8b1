//! A local HTTP server that plays Slack, for tests of everything that talks to Slack: the Slack
//! adapter, the delivery orchestration, the Lambda functions and the HTTP door.
//!
//! [`SlackStandIn`] binds `127.0.0.1` on an ephemeral port, runs on its own thread (so sync and
//! async tests can use it alike) and stops when dropped. It plays:
//!
//! | endpoint | path | what it does |
//! | --- | --- | --- |
//! | `chat.postMessage` | `POST /api/chat.postMessage` (JSON) | stores the message, answers `{ok, channel, ts, message}` |
//! | `chat.update` | `POST /api/chat.update` (JSON) | replaces text, blocks (when given) and metadata (when given); keeps every version |
//! | `conversations.history` | `GET`/`POST /api/conversations.history` (query or form) | the channel's parents, newest first, paged with `cursor` |
//! | `conversations.replies` | `GET`/`POST /api/conversations.replies` (query or form) | a thread, parent first, paged with `cursor` |
//! | `views.open` | `POST /api/views.open` (JSON) | takes a trigger it made, once, within 3 seconds; records the view, answers `{ok, view}` |
//! | webhook | `POST /services/T0STANDIN/B0STANDIN/…` (JSON) | stores the message in the webhook's channel, answers `ok` as text |
//!
//! Like Slack, Web API answers are HTTP 200 with `ok: false` and a code for refusals: a missing
//! `Authorization: Bearer` header is `not_authed`, a wrong token `invalid_auth`; a channel it does
//! not know is `channel_not_found` (`chat.postMessage` accepts a channel's ID or name,
//! `chat.update` and the reads only its ID, as Slack does); a message without text or blocks is
//! `no_text`; `chat.update` of an unknown `ts` is `message_not_found`; a `thread_ts` or `ts` that
//! names no message is `thread_not_found`. Reads return `metadata` only with
//! `include_all_metadata=true`, and honour `oldest`, `latest`, `inclusive` and `limit` (capped at
//! the stand-in's page size, 100 unless [`SlackStandInBuilder::page_size`] says otherwise). A
//! webhook answers `400 invalid_payload`/`no_text`, `403 invalid_token` (right path, wrong
//! secret) or `404 no_service` (unknown path), as Slack does.
//!
//! Message timestamps come from the wall clock (microseconds), strictly increasing, so `oldest`
//! works with real times.
//!
//! # Requests from Slack
//!
//! The stand-in also plays the other direction, Slack calling the app: [`SlackStandIn::slash_command`],
//! [`SlackStandIn::block_action`] and [`SlackStandIn::view_submission`] build the requests Slack
//! sends to an app's Request URLs, form-encoded and signed as Slack signs them
//! (`X-Slack-Signature: v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")`,
//! <https://api.slack.com/authentication/verifying-requests-from-slack>) with
//! [`SlackStandIn::signing_secret`]. Each one carries a fresh `trigger_id` that `views.open`
//! accepts once, within 3 seconds, as Slack does (`invalid_trigger_id`, `exchanged_trigger_id`,
//! `expired_trigger_id` otherwise); the views opened are read back with
//! [`SlackStandIn::views`].
//!
//! # Faults
//!
//! Every request first takes a fault, if one is due: the first matching entry of the scripted
//! queue ([`SlackStandIn::fail_next`], [`SlackStandIn::fail_next_n`],
//! [`SlackStandIn::fail_next_to`]), else, with [`SlackStandIn::fail_randomly`], a seeded draw.
//! A failed request stores nothing, except [`Fault::LostAnswer`] (stored, then HTTP 500: the
//! answer lost on the way back) and [`Fault::SlowAnswer`] (stored, answered late).
//!
//! # Assertions
//!
//! Every request is recorded ([`SlackStandIn::requests`], [`SlackStandIn::count`]) with its
//! headers, body, arrival time and answer; messages are read back per channel
//! ([`SlackStandIn::messages`], [`SlackStandIn::parents`], [`SlackStandIn::replies`],
//! [`SlackStandIn::versions`]).
//!
//! # Use
//!
//! Point the code under test at the stand-in: in process, build the adapter with
//! [`SlackStandIn::api_base`] and [`SlackStandIn::token`] (or [`SlackStandIn::webhook_url`]);
//! for a binary or a function run as a child process, set `SLACK_API_BASE_URL`,
//! `SLACK_BOT_TOKEN` (or `SLACK_WEBHOOK_URL`) to the same values. Use the channel IDs [`ALERTS`]
//! and [`OPS`] (or add channels with [`SlackStandIn::builder`]).
//!
//! ```no_run
//! use std::process::Command;
//!
//! use cachewatch_tests::slack::{ALERTS, Fault, SlackStandIn};
//!
//! let slack = SlackStandIn::start();
//! slack.fail_next(Fault::RateLimited { retry_after_secs: 1 });
//! let status = Command::new("cachewatch")
//!     .args(["notify"])
//!     .env("SLACK_API_BASE_URL", slack.api_base())
//!     .env("SLACK_BOT_TOKEN", slack.token())
//!     .env("SLACK_CHANNEL", ALERTS)
//!     .status()
//!     .unwrap();
//! assert!(status.success());
//! assert_eq!(slack.parents(ALERTS).len(), 1);
//! ```

use crate::server::{LocalServer, Received, Threads};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cachewatch_adapters::slack::{RetryPolicy, SlackClient, SlackSettings};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The bot token the stand-in accepts unless told otherwise.
pub const STAND_IN_TOKEN: &str = "xoxb-0000000000-stand-in-token";

/// A channel every stand-in knows: ID `C0ALERTS`, name `alerts`; also the webhook's channel
/// unless told otherwise.
pub const ALERTS: &str = "C0ALERTS";

/// A second channel every stand-in knows: ID `C0OPS`, name `ops`.
pub const OPS: &str = "C0OPS";

/// The signing secret the stand-in signs its requests to the app with unless told otherwise.
pub const STAND_IN_SIGNING_SECRET: &str = "stand-in-signing-secret-0f1e2d3c4b5a";

/// How long a `trigger_id` may be exchanged for a modal, as Slack documents.
const TRIGGER_LIFETIME: Duration = Duration::from_secs(3);

/// The webhook path up to its secret.
const WEBHOOK_PREFIX: &str = "/services/T0STANDIN/B0STANDIN/";

/// The webhook's secret (the last part of its URL).
const WEBHOOK_SECRET: &str = "stand-in-webhook-secret";

/// Which Slack endpoint a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `chat.postMessage`.
    PostMessage,
    /// `chat.update`.
    Update,
    /// `conversations.history`.
    History,
    /// `conversations.replies`.
    Replies,
    /// `views.open`.
    ViewsOpen,
    /// The incoming webhook (any path under `/services/`).
    Webhook,
    /// Any other path (answered `unknown_method` under `/api/`, 404 elsewhere).
    Other,
}

impl Endpoint {
    /// Slack's name for it (`chat.postMessage`, ...; `webhook`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::PostMessage => "chat.postMessage",
            Endpoint::Update => "chat.update",
            Endpoint::History => "conversations.history",
            Endpoint::Replies => "conversations.replies",
            Endpoint::ViewsOpen => "views.open",
            Endpoint::Webhook => "webhook",
            Endpoint::Other => "other",
        }
    }

    fn of(path: &str) -> Self {
        match path {
            "/api/chat.postMessage" => Endpoint::PostMessage,
            "/api/chat.update" => Endpoint::Update,
            "/api/conversations.history" => Endpoint::History,
            "/api/conversations.replies" => Endpoint::Replies,
            "/api/views.open" => Endpoint::ViewsOpen,
            _ if path.starts_with("/services/") => Endpoint::Webhook,
            _ => Endpoint::Other,
        }
    }
}

/// A fault the stand-in plays instead of (or around) a normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: {retry_after_secs}` and `{"ok":false,"error":"ratelimited"}`
    /// (a webhook: the text `rate_limited`). Nothing stored.
    RateLimited {
        /// The `Retry-After` header, in seconds (0 is allowed, for fast tests).
        retry_after_secs: u64,
    },
    /// This HTTP status (500, 502, 503, ...) with a short text body. Nothing stored.
    HttpStatus(u16),
    /// Slack's refusal with this code: HTTP 200 `{"ok":false,"error":code}` for the Web API; for
    /// a webhook, the code as text with the status Slack gives it (400, 403, 404, 410; 500 for
    /// `rollup_error`). Nothing stored.
    SlackError(String),
    /// Waits this long, then answers HTTP 500; nothing stored. A client with a shorter timeout
    /// sees Slack hang.
    Hang(Duration),
    /// Carries the request out (a post is stored), then answers HTTP 500: Slack did it, the
    /// answer was lost on the way back. Refusals are answered as usual.
    LostAnswer,
    /// Carries the request out, then waits this long before answering normally: a success that
    /// arrives after the client's timeout.
    SlowAnswer(Duration),
}

/// Failures drawn at random, reproducibly: each request not already given a scripted fault
/// fails with probability `rate`, with one of `faults` (drawn with the same seeded generator).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFailures {
    /// The share of requests that fail, from 0.0 to 1.0.
    pub rate: f64,
    /// The generator's seed: the same seed and the same sequence of requests give the same
    /// failures.
    pub seed: u64,
    /// The faults to pick from (an empty list fails nothing).
    pub faults: Vec<Fault>,
    /// Only requests to this endpoint fail (`None`: any).
    pub only: Option<Endpoint>,
}

impl RandomFailures {
    /// A flaky Slack: 30% of requests fail, with a 500, a 429 (retry at once) or an answer lost
    /// after the message was stored.
    pub fn thirty_percent(seed: u64) -> Self {
        Self {
            rate: 0.3,
            seed,
            faults: vec![
                Fault::HttpStatus(500),
                Fault::RateLimited {
                    retry_after_secs: 0,
                },
                Fault::LostAnswer,
            ],
            only: None,
        }
    }
}

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The HTTP method (`POST`, `GET`).
    pub method: String,
    /// The path (`/api/chat.postMessage`).
    pub path: String,
    /// The query string's parameters.
    pub query: BTreeMap<String, String>,
    /// The headers, names in lower case (repeated headers joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The body as text.
    pub raw_body: String,
    /// When it arrived.
    pub received: Instant,
    /// The fault it was given, if any.
    pub fault: Option<Fault>,
    /// The HTTP status answered; `None` while the answer is still pending (a hang).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// A header's value (`name` in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A parameter of the request, from the JSON body or the query string (or a form body).
    pub fn param(&self, name: &str) -> Option<String> {
        match self.body.get(name) {
            Some(Value::String(text)) => Some(text.clone()),
            Some(value) => Some(value.to_string()),
            None => self.query.get(name).cloned(),
        }
    }
}

/// A message as the stand-in holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// The channel's ID.
    pub channel: String,
    /// Its timestamp.
    pub ts: String,
    /// The thread it replies in (`None` for a parent).
    pub thread_ts: Option<String>,
    /// The current text.
    pub text: String,
    /// The current blocks.
    pub blocks: Vec<Value>,
    /// The current metadata (`{event_type, event_payload}`), if any.
    pub metadata: Option<Value>,
    /// How it arrived: [`Endpoint::PostMessage`], [`Endpoint::Webhook`], or
    /// [`Endpoint::Other`] for [`SlackStandIn::insert_message`].
    pub via: Endpoint,
    /// Every version, the original first, then one per `chat.update`.
    pub versions: Vec<MessageVersion>,
}

impl StoredMessage {
    /// The delivery key in its metadata (`metadata.event_payload.delivery`), if any.
    pub fn delivery_key(&self) -> Option<&str> {
        self.metadata
            .as_ref()?
            .pointer("/event_payload/delivery")?
            .as_str()
    }

    /// Every delivery it carries out: its own key, and those an announcement of many names
    /// (`metadata.event_payload.deliveries`, space-separated).
    pub fn delivery_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.delivery_key().into_iter().collect();
        if let Some(more) = self
            .metadata
            .as_ref()
            .and_then(|m| m.pointer("/event_payload/deliveries"))
            .and_then(Value::as_str)
        {
            keys.extend(more.split(' ').filter(|k| !k.is_empty()));
        }
        keys
    }

    /// Whether its text or its blocks say `what`.
    pub fn mentions(&self, what: &str) -> bool {
        self.text.contains(what) || Value::Array(self.blocks.clone()).to_string().contains(what)
    }

    /// Whether it is a thread's parent (or a message without a thread).
    pub fn is_parent(&self) -> bool {
        self.thread_ts.is_none()
    }
}

/// One version of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageVersion {
    /// Its text.
    pub text: String,
    /// Its blocks.
    pub blocks: Vec<Value>,
    /// Its metadata.
    pub metadata: Option<Value>,
    /// When the stand-in stored it.
    pub at: Instant,
}

/// A modal opened with `views.open`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedView {
    /// The trigger it was opened with.
    pub trigger_id: String,
    /// The view, as sent.
    pub view: Value,
}

/// A request Slack sends to the app (a slash command, a button press, a modal submitted),
/// form-encoded and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackRequest {
    /// The app's path it goes to (`/slack/commands`, `/slack/interactions`).
    pub path: String,
    /// The form-encoded body.
    pub body: String,
    /// `X-Slack-Request-Timestamp`: Unix seconds.
    pub timestamp: i64,
    /// `X-Slack-Signature`: `v0=` and the lowercase hex HMAC.
    pub signature: String,
    /// The `trigger_id` it carries.
    pub trigger_id: String,
}

impl SlackRequest {
    /// The headers Slack sends with it: content type, timestamp and signature.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("x-slack-request-timestamp", self.timestamp.to_string()),
            ("x-slack-signature", self.signature.clone()),
        ]
    }

    /// The request, ready for a router (`tower::ServiceExt::oneshot`) or to be rebuilt for a
    /// client.
    pub fn to_request(&self) -> axum::http::Request<axum::body::Body> {
        let mut request = axum::http::Request::post(self.path.as_str());
        for (name, value) in self.headers() {
            request = request.header(name, value);
        }
        request
            .body(axum::body::Body::from(self.body.clone()))
            .expect("a request of static parts builds")
    }

    /// The same request signed again, at `timestamp` (to play a late or early delivery).
    pub fn signed_at(&self, secret: &str, timestamp: i64) -> Self {
        Self {
            timestamp,
            signature: sign(secret, timestamp, &self.body),
            ..self.clone()
        }
    }
}

/// Slack's request signature: `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}` under
/// `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v0={hex}")
}

/// `application/x-www-form-urlencoded`, as browsers and Slack write it.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(char::from(byte));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
        out
    }
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sets a stand-in up: token, channels, page size, the webhook's channel.
#[derive(Debug, Clone)]
pub struct SlackStandInBuilder {
    token: String,
    signing_secret: String,
    channels: Vec<(String, String)>,
    page_size: usize,
    webhook_channel: String,
}

impl Default for SlackStandInBuilder {
    fn default() -> Self {
        Self {
            token: STAND_IN_TOKEN.to_owned(),
            signing_secret: STAND_IN_SIGNING_SECRET.to_owned(),
            channels: vec![
                (ALERTS.to_owned(), "alerts".to_owned()),
                (OPS.to_owned(), "ops".to_owned()),
            ],
            page_size: 100,
            webhook_channel: ALERTS.to_owned(),
        }
    }
}

impl SlackStandInBuilder {
    /// The bot token it accepts (default [`STAND_IN_TOKEN`]).
    pub fn token(mut self, token: &str) -> Self {
        token.clone_into(&mut self.token);
        self
    }

    /// The signing secret of the requests it sends to the app (default
    /// [`STAND_IN_SIGNING_SECRET`]).
    pub fn signing_secret(mut self, secret: &str) -> Self {
        secret.clone_into(&mut self.signing_secret);
        self
    }

    /// One more channel it knows, by ID (`C…`) and name (without `#`), besides [`ALERTS`] and
    /// [`OPS`].
    pub fn channel(mut self, id: &str, name: &str) -> Self {
        self.channels.push((id.to_owned(), name.to_owned()));
        self
    }

    /// The most messages a history or replies page holds (default 100), to test paging.
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The channel (ID) the webhook posts to (default [`ALERTS`]).
    pub fn webhook_channel(mut self, id: &str) -> Self {
        id.clone_into(&mut self.webhook_channel);
        self
    }

    /// Starts the stand-in on `127.0.0.1` (an ephemeral port), on its own thread.
    pub fn start(self) -> SlackStandIn {
        let shared = Arc::new(Shared {
            token: self.token,
            signing_secret: self.signing_secret,
            page_size: self.page_size,
            webhook_channel: self.webhook_channel,
            state: Mutex::new(StandInState {
                channels: self.channels,
                ..StandInState::default()
            }),
        });
        let server = LocalServer::start(
            "slack-stand-in",
            Threads::One,
            Router::new()
                .fallback(handle)
                .with_state(Arc::clone(&shared)),
        );
        SlackStandIn { server, shared }
    }
}

/// A local server that plays Slack's Web API and an incoming webhook (see the module's
/// documentation). Stops when dropped.
#[derive(Debug)]
pub struct SlackStandIn {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl SlackStandIn {
    /// A stand-in with the defaults: token [`STAND_IN_TOKEN`], channels [`ALERTS`] (`alerts`,
    /// also the webhook's) and [`OPS`] (`ops`), pages of 100.
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// A stand-in set up otherwise.
    pub fn builder() -> SlackStandInBuilder {
        SlackStandInBuilder::default()
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// The Web API base URL to configure (`SLACK_API_BASE_URL`): `http://127.0.0.1:PORT/api`.
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.server.address())
    }

    /// The incoming webhook's URL (`SLACK_WEBHOOK_URL`).
    pub fn webhook_url(&self) -> String {
        format!(
            "http://{}{WEBHOOK_PREFIX}{WEBHOOK_SECRET}",
            self.server.address()
        )
    }

    /// The secret part of [`Self::webhook_url`], to check that it never leaks.
    pub fn webhook_secret(&self) -> &'static str {
        WEBHOOK_SECRET
    }

    /// The bot token it accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The Slack adapter's client of this stand-in, with its token: each request waits at most
    /// `timeout` and is tried `attempts` times, 5 to 20 ms apart; no pacing between posts.
    pub fn client(&self, timeout: Duration, attempts: u32) -> SlackClient {
        let settings = SlackSettings {
            timeout,
            retry: RetryPolicy {
                attempts,
                first_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
            },
            min_interval: Duration::ZERO,
            ..SlackSettings::default()
        }
        .with_api_base(&self.api_base())
        .expect("the stand-in's address is a base URL");
        SlackClient::new(settings, SecretString::from(self.token().to_owned()))
            .expect("a client of the stand-in")
    }

    fn state(&self) -> MutexGuard<'_, StandInState> {
        self.shared.lock()
    }

    // --- Requests to the app ----------------------------------------------------------------

    /// The signing secret its requests to the app are signed with (`SLACK_SIGNING_SECRET`).
    pub fn signing_secret(&self) -> &str {
        &self.shared.signing_secret
    }

    /// `/cachewatch {text}` typed by `user` in `channel`, as Slack posts it to the app's
    /// `/slack/commands`, signed now.
    pub fn slash_command(&self, text: &str, user: &str, channel: &str) -> SlackRequest {
        let trigger_id = self.new_trigger();
        let body = form_encode(&[
            ("token", "deprecated-verification-token"),
            ("team_id", "T0STANDIN"),
            ("team_domain", "stand-in"),
            ("channel_id", channel),
            ("channel_name", "alerts"),
            ("user_id", user),
            ("user_name", &user.to_ascii_lowercase()),
            ("command", "/cachewatch"),
            ("text", text),
            ("api_app_id", "A0STANDIN"),
            ("is_enterprise_install", "false"),
            (
                "response_url",
                &format!("http://{}/commands/response", self.server.address()),
            ),
            ("trigger_id", &trigger_id),
        ]);
        self.signed("/slack/commands", body, trigger_id)
    }

    /// `user` pressing the button `action_id` (with `value`) on the message `message_ts` of
    /// `channel`, as Slack posts it to the app's `/slack/interactions` (`block_actions`), signed
    /// now.
    pub fn block_action(
        &self,
        action_id: &str,
        value: &str,
        user: &str,
        channel: &str,
        message_ts: &str,
    ) -> SlackRequest {
        let action = json!({
            "type": "button",
            "action_id": action_id,
            "block_id": "cachewatch",
            "value": value,
            "text": {"type": "plain_text", "text": action_id},
            "action_ts": "1700000000.000001",
        });
        self.action(action, user, channel, message_ts)
    }

    /// `user` picking the option `value` of the select `action_id` on the message `message_ts`
    /// of `channel` (`block_actions`, the action carrying `selected_option`), signed now.
    pub fn select_action(
        &self,
        action_id: &str,
        value: &str,
        user: &str,
        channel: &str,
        message_ts: &str,
    ) -> SlackRequest {
        let action = json!({
            "type": "static_select",
            "action_id": action_id,
            "block_id": "cachewatch",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
            "action_ts": "1700000000.000001",
        });
        self.action(action, user, channel, message_ts)
    }

    fn action(&self, action: Value, user: &str, channel: &str, message_ts: &str) -> SlackRequest {
        let trigger_id = self.new_trigger();
        let message = self
            .message(channel, message_ts)
            .map(|m| rendered(&m, false))
            .unwrap_or_else(|| json!({"type": "message", "ts": message_ts}));
        let payload = json!({
            "type": "block_actions",
            "user": {"id": user, "username": user.to_ascii_lowercase(), "name": user.to_ascii_lowercase(), "team_id": "T0STANDIN"},
            "api_app_id": "A0STANDIN",
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": false},
            "trigger_id": trigger_id,
            "team": {"id": "T0STANDIN", "domain": "stand-in"},
            "channel": {"id": channel, "name": "alerts"},
            "message": message,
            "response_url": format!("http://{}/actions/response", self.server.address()),
            "actions": [action],
        });
        let body = form_encode(&[("payload", &payload.to_string())]);
        self.signed("/slack/interactions", body, trigger_id)
    }

    /// `user` submitting the modal `view` (as opened with `views.open`) with the input `values`
    /// (`{block_id: {action_id: {type, value | selected_option}}}`, as in `view.state.values`),
    /// as Slack posts it to the app's `/slack/interactions` (`view_submission`), signed now.
    pub fn view_submission(&self, view: &Value, values: Value, user: &str) -> SlackRequest {
        let trigger_id = self.new_trigger();
        let mut submitted = view.clone();
        submitted["id"] = json!("V0STANDIN");
        submitted["team_id"] = json!("T0STANDIN");
        submitted["state"] = json!({"values": values});
        let payload = json!({
            "type": "view_submission",
            "team": {"id": "T0STANDIN", "domain": "stand-in"},
            "user": {"id": user, "username": user.to_ascii_lowercase(), "name": user.to_ascii_lowercase(), "team_id": "T0STANDIN"},
            "api_app_id": "A0STANDIN",
            "token": "deprecated-verification-token",
            "trigger_id": trigger_id,
            "view": submitted,
            "response_urls": [],
        });
        let body = form_encode(&[("payload", &payload.to_string())]);
        self.signed("/slack/interactions", body, trigger_id)
    }

    /// The modals opened with `views.open`, in order.
    pub fn views(&self) -> Vec<OpenedView> {
        self.state().views.clone()
    }

    fn new_trigger(&self) -> String {
        let mut state = self.state();
        state.triggers_made += 1;
        let trigger = format!(
            "{}.{}.standin{:06}",
            1_700_000_000 + state.triggers_made,
            42,
            state.triggers_made
        );
        state.triggers.insert(trigger.clone(), Instant::now());
        trigger
    }

    fn signed(&self, path: &str, body: String, trigger_id: String) -> SlackRequest {
        let timestamp = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_secs(),
        )
        .expect("seconds since 1970 fit an i64");
        SlackRequest {
            path: path.to_owned(),
            signature: sign(&self.shared.signing_secret, timestamp, &body),
            body,
            timestamp,
            trigger_id,
        }
    }

    // --- Faults ------------------------------------------------------------------------------

    /// The next request, whichever endpoint, gets `fault`. Scripted faults queue up in order.
    pub fn fail_next(&self, fault: Fault) {
        self.state().scripted.push_back((None, fault));
    }

    /// The next `n` requests, whichever endpoints, get `fault`.
    pub fn fail_next_n(&self, n: usize, fault: Fault) {
        let mut state = self.state();
        state.scripted.extend(std::iter::repeat_n((None, fault), n));
    }

    /// The next request to `endpoint` gets `fault` (requests to other endpoints pass it by).
    pub fn fail_next_to(&self, endpoint: Endpoint, fault: Fault) {
        self.state().scripted.push_back((Some(endpoint), fault));
    }

    /// Fails requests at random from now on (after the scripted faults), reproducibly.
    pub fn fail_randomly(&self, failures: RandomFailures) {
        let mut state = self.state();
        state.rng = SplitMix64(failures.seed);
        state.random = Some(failures);
    }

    /// Stops failing at random and forgets the scripted faults not yet played.
    pub fn stop_failing(&self) {
        let mut state = self.state();
        state.random = None;
        state.scripted.clear();
    }

    // --- Requests ----------------------------------------------------------------------------

    /// Every request received, in the order they arrived.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The requests to `endpoint`, in the order they arrived.
    pub fn requests_to(&self, endpoint: Endpoint) -> Vec<RecordedRequest> {
        self.state()
            .requests
            .iter()
            .filter(|request| request.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// How many requests went to `endpoint`.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|request| request.endpoint == endpoint)
            .count()
    }

    /// How many requests went to each endpoint.
    pub fn counts(&self) -> BTreeMap<Endpoint, usize> {
        let mut counts = BTreeMap::new();
        for request in &self.state().requests {
            *counts.entry(request.endpoint).or_insert(0) += 1;
        }
        counts
    }

    // --- Messages ----------------------------------------------------------------------------

    /// Every message of a channel (ID or name), parents and replies, oldest first.
    pub fn messages(&self, channel: &str) -> Vec<StoredMessage> {
        let state = self.state();
        state
            .channel_id(channel)
            .and_then(|id| state.messages.get(&id))
            .cloned()
            .unwrap_or_default()
    }

    /// The parents of a channel (messages not in a thread), oldest first.
    pub fn parents(&self, channel: &str) -> Vec<StoredMessage> {
        self.messages(channel)
            .into_iter()
            .filter(StoredMessage::is_parent)
            .collect()
    }

    /// The replies in the thread `thread_ts` of a channel, oldest first (not the parent).
    pub fn replies(&self, channel: &str, thread_ts: &str) -> Vec<StoredMessage> {
        self.messages(channel)
            .into_iter()
            .filter(|message| message.thread_ts.as_deref() == Some(thread_ts))
            .collect()
    }

    /// A message by its timestamp.
    pub fn message(&self, channel: &str, ts: &str) -> Option<StoredMessage> {
        self.messages(channel)
            .into_iter()
            .find(|message| message.ts == ts)
    }

    /// A message's versions, the original first, then one per `chat.update` (empty when there
    /// is no such message).
    pub fn versions(&self, channel: &str, ts: &str) -> Vec<MessageVersion> {
        self.message(channel, ts)
            .map(|message| message.versions)
            .unwrap_or_default()
    }

    /// Puts a message in a channel without a request (to set up a history); returns its `ts`.
    ///
    /// # Panics
    /// When the channel or the thread is unknown.
    pub fn insert_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        metadata: Option<Value>,
    ) -> String {
        let mut state = self.state();
        let id = state
            .channel_id(channel)
            .unwrap_or_else(|| panic!("the stand-in knows no channel {channel}"));
        let thread_ts = thread_ts.map(|ts| {
            state
                .thread_root(&id, ts)
                .unwrap_or_else(|| panic!("{channel} has no message {ts}"))
        });
        state
            .store(&id, thread_ts, text, Vec::new(), metadata, Endpoint::Other)
            .ts
    }
}

// --- The server ------------------------------------------------------------------------------

#[derive(Debug)]
struct Shared {
    token: String,
    signing_secret: String,
    page_size: usize,
    webhook_channel: String,
    state: Mutex<StandInState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StandInState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct StandInState {
    /// (ID, name).
    channels: Vec<(String, String)>,
    /// Per channel ID, oldest first.
    messages: BTreeMap<String, Vec<StoredMessage>>,
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<(Option<Endpoint>, Fault)>,
    random: Option<RandomFailures>,
    rng: SplitMix64,
    last_ts_micros: u128,
    /// Triggers made for requests to the app, and when; taken by `views.open`.
    triggers: BTreeMap<String, Instant>,
    /// Triggers already exchanged for a view.
    exchanged: Vec<String>,
    views: Vec<OpenedView>,
    triggers_made: u64,
}

impl StandInState {
    /// A channel's ID from its ID or name (`#name` too).
    fn channel_id(&self, channel: &str) -> Option<String> {
        let name = channel.strip_prefix('#').unwrap_or(channel);
        self.channels
            .iter()
            .find(|(id, known)| id == channel || known == name)
            .map(|(id, _)| id.clone())
    }

    /// A known channel ID, as `chat.update` and the reads want it.
    fn is_channel_id(&self, channel: &str) -> bool {
        self.channels.iter().any(|(id, _)| id == channel)
    }

    /// The thread a message `ts` belongs to (itself for a parent).
    fn thread_root(&self, channel: &str, ts: &str) -> Option<String> {
        self.messages
            .get(channel)?
            .iter()
            .find(|message| message.ts == ts)
            .map(|message| message.thread_ts.clone().unwrap_or_else(|| ts.to_owned()))
    }

    fn next_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_micros();
        let micros = now.max(self.last_ts_micros + 1);
        self.last_ts_micros = micros;
        format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    }

    fn store(
        &mut self,
        channel: &str,
        thread_ts: Option<String>,
        text: &str,
        blocks: Vec<Value>,
        metadata: Option<Value>,
        via: Endpoint,
    ) -> StoredMessage {
        let ts = self.next_ts();
        let message = StoredMessage {
            channel: channel.to_owned(),
            ts,
            thread_ts,
            text: text.to_owned(),
            blocks: blocks.clone(),
            metadata: metadata.clone(),
            via,
            versions: vec![MessageVersion {
                text: text.to_owned(),
                blocks,
                metadata,
                at: Instant::now(),
            }],
        };
        self.messages
            .entry(channel.to_owned())
            .or_default()
            .push(message.clone());
        message
    }

    /// The fault due for a request to `endpoint`, if any.
    fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let scripted = self
            .scripted
            .iter()
            .position(|(only, _)| only.is_none_or(|only| only == endpoint));
        if let Some(index) = scripted {
            return self.scripted.remove(index).map(|(_, fault)| fault);
        }
        let random = self.random.as_ref()?;
        if random.faults.is_empty() || random.only.is_some_and(|only| only != endpoint) {
            return None;
        }
        let (rate, faults) = (random.rate, random.faults.clone());
        if self.rng.next_f64() >= rate {
            return None;
        }
        let pick = self.rng.next_u64() % faults.len() as u64;
        faults.into_iter().nth(usize::try_from(pick).ok()?)
    }
}

/// A small seeded generator (SplitMix64), enough for reproducible failure draws.
#[derive(Debug, Default, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What the stand-in answers: a status, headers and a JSON or text body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: AnswerBody,
    /// Whether the request was carried out (a message stored or updated).
    done: bool,
}

#[derive(Debug)]
enum AnswerBody {
    Json(Value),
    Text(String),
}

impl Answer {
    fn json(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            retry_after: None,
            body: AnswerBody::Json(body),
            done: true,
        }
    }

    /// A Web API refusal: HTTP 200, `ok: false`.
    fn refusal(code: &str) -> Self {
        Self {
            done: false,
            ..Self::json(json!({"ok": false, "error": code}))
        }
    }

    fn text(status: StatusCode, text: &str) -> Self {
        Self {
            status,
            retry_after: None,
            body: AnswerBody::Text(text.to_owned()),
            done: status.is_success(),
        }
    }

    fn rate_limited(endpoint: Endpoint, retry_after_secs: u64) -> Self {
        let mut answer = if endpoint == Endpoint::Webhook {
            Self::text(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        } else {
            Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..Self::refusal("ratelimited")
            }
        };
        answer.retry_after = Some(retry_after_secs);
        answer
    }

    fn server_error(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::text(status, &format!("stand-in: HTTP {}", status.as_u16()))
    }

    fn slack_error(endpoint: Endpoint, code: &str) -> Self {
        if endpoint == Endpoint::Webhook {
            Self::text(webhook_status(code), code)
        } else {
            Self::refusal(code)
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            AnswerBody::Json(body) => (self.status, axum::Json(body)).into_response(),
            AnswerBody::Text(text) => (self.status, text).into_response(),
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The status Slack gives a webhook's error code.
fn webhook_status(code: &str) -> StatusCode {
    match code {
        "action_prohibited" | "invalid_token" | "posting_to_general_channel_denied" => {
            StatusCode::FORBIDDEN
        }
        "channel_not_found" | "no_service" | "no_team" => StatusCode::NOT_FOUND,
        "channel_is_archived" => StatusCode::GONE,
        "rollup_error" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// What a request asked, read once.
#[derive(Debug)]
struct Asked {
    endpoint: Endpoint,
    method: Method,
    path: String,
    headers: HeaderMap,
    /// The JSON body (`Null` when none).
    json: Value,
    /// Query string and form body parameters.
    params: BTreeMap<String, String>,
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Received(method, uri, headers, body): Received,
) -> Response {
    let received = Instant::now();
    let endpoint = Endpoint::of(uri.path());
    let query = Query::<BTreeMap<String, String>>::try_from_uri(&uri)
        .map(|Query(query)| query)
        .unwrap_or_default();
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let mut params = query.clone();
    if is_form {
        let form_uri: Uri = format!("/?{raw_body}").parse().unwrap_or_default();
        if let Ok(Query(form)) = Query::<BTreeMap<String, String>>::try_from_uri(&form_uri) {
            params.extend(form);
        }
    }

    let (index, fault) = {
        let mut state = shared.lock();
        let fault = state.take_fault(endpoint);
        state.requests.push(RecordedRequest {
            endpoint,
            method: method.to_string(),
            path: uri.path().to_owned(),
            query,
            headers: header_map(&headers),
            body: json.clone(),
            raw_body,
            received,
            fault: fault.clone(),
            status: None,
        });
        (state.requests.len() - 1, fault)
    };

    let asked = Asked {
        endpoint,
        method,
        path: uri.path().to_owned(),
        headers,
        json,
        params,
    };
    let answer = match fault {
        None => carry_out(&shared, &asked),
        Some(Fault::RateLimited { retry_after_secs }) => {
            Answer::rate_limited(endpoint, retry_after_secs)
        }
        Some(Fault::HttpStatus(status)) => Answer::server_error(status),
        Some(Fault::SlackError(code)) => Answer::slack_error(endpoint, &code),
        Some(Fault::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            Answer::server_error(500)
        }
        Some(Fault::LostAnswer) => {
            let answer = carry_out(&shared, &asked);
            if answer.done {
                Answer::server_error(500)
            } else {
                answer
            }
        }
        Some(Fault::SlowAnswer(wait)) => {
            let answer = carry_out(&shared, &asked);
            tokio::time::sleep(wait).await;
            answer
        }
    };
    if let Some(request) = shared.lock().requests.get_mut(index) {
        request.status = Some(answer.status.as_u16());
    }
    answer.into_response()
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map = BTreeMap::<String, String>::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

/// Does what the request asks, as Slack would.
fn carry_out(shared: &Shared, asked: &Asked) -> Answer {
    match asked.endpoint {
        Endpoint::Webhook => return webhook(shared, asked),
        Endpoint::Other if asked.path.starts_with("/api/") => {}
        Endpoint::Other => return Answer::text(StatusCode::NOT_FOUND, "not found"),
        _ => {}
    }
    match asked
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        None => return Answer::refusal("not_authed"),
        Some(value) if value != format!("Bearer {}", shared.token) => {
            return Answer::refusal("invalid_auth");
        }
        Some(_) => {}
    }
    let mut state = shared.lock();
    match asked.endpoint {
        Endpoint::PostMessage if asked.method == Method::POST => post_message(&mut state, asked),
        Endpoint::Update if asked.method == Method::POST => update(&mut state, asked),
        Endpoint::History => read(&state, asked, shared.page_size, false),
        Endpoint::Replies => read(&state, asked, shared.page_size, true),
        Endpoint::ViewsOpen if asked.method == Method::POST => views_open(&mut state, asked),
        Endpoint::PostMessage | Endpoint::Update | Endpoint::ViewsOpen => {
            Answer::refusal("invalid_arguments")
        }
        _ => Answer::refusal("unknown_method"),
    }
}

fn blocks_of(json: &Value) -> Option<Vec<Value>> {
    json.get("blocks").and_then(Value::as_array).cloned()
}

/// Metadata as `chat.postMessage` and `chat.update` take it: `{event_type, event_payload}`.
fn metadata_of(json: &Value) -> Result<Option<Value>, Answer> {
    match json.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(metadata)
            if metadata.get("event_type").is_some_and(Value::is_string)
                && metadata.get("event_payload").is_some_and(Value::is_object) =>
        {
            Ok(Some(json!({
                "event_type": metadata["event_type"],
                "event_payload": metadata["event_payload"],
            })))
        }
        Some(_) => Err(Answer::refusal("invalid_metadata_format")),
    }
}

fn post_message(state: &mut StandInState, asked: &Asked) -> Answer {
    let json = &asked.json;
    if !json.is_object() {
        return Answer::refusal("invalid_arguments");
    }
    let Some(channel) = json
        .get("channel")
        .and_then(Value::as_str)
        .and_then(|channel| state.channel_id(channel))
    else {
        return Answer::refusal("channel_not_found");
    };
    let text = json.get("text").and_then(Value::as_str).unwrap_or_default();
    let blocks = blocks_of(json).unwrap_or_default();
    if text.is_empty() && blocks.is_empty() {
        return Answer::refusal("no_text");
    }
    let metadata = match metadata_of(json) {
        Ok(metadata) => metadata,
        Err(refusal) => return refusal,
    };
    let thread_ts = match json.get("thread_ts").and_then(Value::as_str) {
        None => None,
        Some(ts) => match state.thread_root(&channel, ts) {
            Some(root) => Some(root),
            None => return Answer::refusal("thread_not_found"),
        },
    };
    let message = state.store(
        &channel,
        thread_ts,
        text,
        blocks,
        metadata,
        Endpoint::PostMessage,
    );
    Answer::json(json!({
        "ok": true,
        "channel": channel,
        "ts": message.ts,
        "message": rendered(&message, true),
    }))
}

fn update(state: &mut StandInState, asked: &Asked) -> Answer {
    let json = &asked.json;
    let channel = json
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !state.is_channel_id(channel) {
        return Answer::refusal("channel_not_found");
    }
    let metadata = match metadata_of(json) {
        Ok(metadata) => metadata,
        Err(refusal) => return refusal,
    };
    let ts = json.get("ts").and_then(Value::as_str).unwrap_or_default();
    let Some(message) = state
        .messages
        .get_mut(channel)
        .and_then(|messages| messages.iter_mut().find(|message| message.ts == ts))
    else {
        return Answer::refusal("message_not_found");
    };
    if let Some(text) = json.get("text").and_then(Value::as_str) {
        text.clone_into(&mut message.text);
    }
    if let Some(blocks) = blocks_of(json) {
        message.blocks = blocks;
    }
    if metadata.is_some() {
        message.metadata = metadata;
    }
    message.versions.push(MessageVersion {
        text: message.text.clone(),
        blocks: message.blocks.clone(),
        metadata: message.metadata.clone(),
        at: Instant::now(),
    });
    Answer::json(json!({
        "ok": true,
        "channel": channel,
        "ts": ts,
        "text": message.text,
        "message": rendered(message, true),
    }))
}

/// A message as the Web API shows it.
fn rendered(message: &StoredMessage, with_metadata: bool) -> Value {
    let mut shown = Map::new();
    shown.insert("type".into(), "message".into());
    shown.insert("subtype".into(), "bot_message".into());
    shown.insert("bot_id".into(), "B0STANDIN".into());
    shown.insert("text".into(), message.text.clone().into());
    shown.insert("ts".into(), message.ts.clone().into());
    if let Some(thread_ts) = &message.thread_ts {
        shown.insert("thread_ts".into(), thread_ts.clone().into());
    }
    if !message.blocks.is_empty() {
        shown.insert("blocks".into(), message.blocks.clone().into());
    }
    if with_metadata && let Some(metadata) = &message.metadata {
        shown.insert("metadata".into(), metadata.clone());
    }
    Value::Object(shown)
}

/// `conversations.history` (a channel's parents, newest first) or `conversations.replies` (a
/// thread, parent first).
fn read(state: &StandInState, asked: &Asked, page_size: usize, replies: bool) -> Answer {
    let params = &asked.params;
    let channel = params
        .get("channel")
        .map(String::as_str)
        .unwrap_or_default();
    if !state.is_channel_id(channel) {
        return Answer::refusal("channel_not_found");
    }
    let messages = state.messages.get(channel).cloned().unwrap_or_default();
    let mut selected: Vec<StoredMessage> = if replies {
        let Some(root) = params
            .get("ts")
            .and_then(|ts| state.thread_root(channel, ts))
        else {
            return Answer::refusal("thread_not_found");
        };
        messages
            .into_iter()
            .filter(|message| message.ts == root || message.thread_ts.as_deref() == Some(&root))
            .collect()
    } else {
        let mut parents: Vec<_> = messages
            .into_iter()
            .filter(StoredMessage::is_parent)
            .collect();
        parents.reverse();
        parents
    };
    let inclusive = params
        .get("inclusive")
        .is_some_and(|value| value == "true" || value == "1");
    let bound = |name: &str| params.get(name).and_then(|ts| ts.parse::<f64>().ok());
    let (oldest, latest) = (bound("oldest"), bound("latest"));
    selected.retain(|message| {
        let ts: f64 = message.ts.parse().unwrap_or_default();
        let after = oldest.is_none_or(|oldest| ts > oldest || (inclusive && ts == oldest));
        let before = latest.is_none_or(|latest| ts < latest || (inclusive && ts == latest));
        after && before
    });

    let limit = params
        .get("limit")
        .and_then(|limit| limit.parse::<usize>().ok())
        .filter(|limit| *limit > 0)
        .unwrap_or(100)
        .min(page_size);
    let offset = match params.get("cursor").filter(|cursor| !cursor.is_empty()) {
        None => 0,
        Some(cursor) => match cursor
            .strip_prefix("stand-in:")
            .and_then(|offset| offset.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => return Answer::refusal("invalid_cursor"),
        },
    };
    let with_metadata = params
        .get("include_all_metadata")
        .is_some_and(|value| value == "true" || value == "1");
    let page: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(limit)
        .map(|message| rendered(message, with_metadata))
        .collect();
    let has_more = offset + limit < selected.len();
    let next_cursor = if has_more {
        format!("stand-in:{}", offset + limit)
    } else {
        String::new()
    };
    Answer::json(json!({
        "ok": true,
        "messages": page,
        "has_more": has_more,
        "response_metadata": {"next_cursor": next_cursor},
    }))
}

/// `views.open`: a trigger the stand-in made, not exchanged yet and at most 3 seconds old, and
/// a modal view.
fn views_open(state: &mut StandInState, asked: &Asked) -> Answer {
    let json = &asked.json;
    let trigger = json
        .get("trigger_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(view) = json.get("view").filter(|v| v.is_object()).cloned() else {
        return Answer::refusal("invalid_arguments");
    };
    if view.get("type").and_then(Value::as_str) != Some("modal")
        || view.get("title").is_none()
        || !view.get("blocks").is_some_and(Value::is_array)
    {
        return Answer::refusal("invalid_arguments");
    }
    if state.exchanged.contains(&trigger) {
        return Answer::refusal("exchanged_trigger_id");
    }
    let Some(made) = state.triggers.remove(&trigger) else {
        return Answer::refusal("invalid_trigger_id");
    };
    if made.elapsed() > TRIGGER_LIFETIME {
        return Answer::refusal("expired_trigger_id");
    }
    state.exchanged.push(trigger.clone());
    state.views.push(OpenedView {
        trigger_id: trigger,
        view: view.clone(),
    });
    let mut shown = view;
    shown["id"] = json!("V0STANDIN");
    Answer::json(json!({"ok": true, "view": shown}))
}

fn webhook(shared: &Shared, asked: &Asked) -> Answer {
    let Some(secret) = asked.path.strip_prefix(WEBHOOK_PREFIX) else {
        return Answer::text(StatusCode::NOT_FOUND, "no_service");
    };
    if secret != WEBHOOK_SECRET {
        return Answer::text(StatusCode::FORBIDDEN, "invalid_token");
    }
    if asked.method != Method::POST || !asked.json.is_object() {
        return Answer::text(StatusCode::BAD_REQUEST, "invalid_payload");
    }
    let text = asked
        .json
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let blocks = blocks_of(&asked.json).unwrap_or_default();
    if text.is_empty() && blocks.is_empty() {
        return Answer::text(StatusCode::BAD_REQUEST, "no_text");
    }
    let mut state = shared.lock();
    let channel = shared.webhook_channel.clone();
    state.store(&channel, None, text, blocks, None, Endpoint::Webhook);
    Answer::text(StatusCode::OK, "ok")
}
