//! [`SlackClient`]: Slack's Web API with a bot token. Posts (`chat.postMessage`), updates
//! (`chat.update`) and finds cachewatch's messages again by the delivery key in their metadata
//! (`conversations.history`, `conversations.replies`); opens modals (`views.open`).
//!
//! A post whose outcome is unknown (a timeout, a 5xx, `internal_error`) may be in the channel.
//! Before it is sent again, the client looks for it by its delivery key and returns the message
//! it finds instead of posting a second one; a post without a delivery key is sent again as is.
//! The bot therefore needs `channels:history` (and `groups:history` for private channels) besides
//! `chat:write`.

use std::fmt;
use std::sync::Arc;

use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage, SlackViews};
use cachewatch_core::alerting::slack::blockkit::View;
use cachewatch_core::alerting::slack::{MessageMetadata, SlackMessage};
use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::answer::{Class, Failure, read_api_answer};
use super::pacing::Pacer;
use super::retry::RetryBudget;
use super::settings::{RetryPolicy, SetupError, SlackSettings};
use super::{http_client, log_retry};

const POST_MESSAGE: &str = "chat.postMessage";
const UPDATE: &str = "chat.update";
const HISTORY: &str = "conversations.history";
const REPLIES: &str = "conversations.replies";
const VIEWS_OPEN: &str = "views.open";

/// The longest wait between two attempts to open a modal: Slack takes a trigger only within 3
/// seconds of the interaction that gave it.
const VIEW_RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// JSON with its charset, as Slack asks of JSON bodies.
const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Messages read per history page.
const PAGE_LIMIT: &str = "200";

/// How far before a post's first attempt its lost answer is looked for: Slack's clock and ours
/// may differ, and the key is unique, so a wide window costs only a longer read.
const LOST_ANSWER_LOOKBACK: chrono::Duration = chrono::Duration::minutes(10);

/// Slack's Web API with a bot token: threads and updates, one message per `min_interval` per
/// channel, passing failures retried (see [`SlackSettings`]). Clones share the HTTP connections
/// and the posting pace.
///
/// `Debug` shows the settings, never the token.
#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    /// `Bearer {token}`, marked sensitive so that the HTTP stack never logs it.
    authorization: HeaderValue,
    urls: Arc<MethodUrls>,
    settings: SlackSettings,
    pacer: Arc<Pacer>,
}

#[derive(Debug)]
struct MethodUrls {
    post_message: Url,
    update: Url,
    history: Url,
    replies: Url,
    views_open: Url,
}

impl fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackClient")
            .field("api_base", &self.settings.api_base.as_str())
            .field("timeout", &self.settings.timeout)
            .field("retry", &self.settings.retry)
            .field("min_interval", &self.settings.min_interval)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl SlackClient {
    /// A client of the Web API at `settings.api_base` that authenticates with the bot `token`
    /// (`xoxb-…`).
    pub fn new(settings: SlackSettings, token: SecretString) -> Result<Self, SetupError> {
        let token = token.expose_secret().trim();
        if token.is_empty() {
            return Err(SetupError::EmptyToken);
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(SetupError::TokenNotAHeader)?;
        authorization.set_sensitive(true);

        // `{base}/` so that joining a method keeps the base's path (`/api/chat.update`).
        let mut base = settings.api_base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let method_url = |method: &'static str| {
            base.join(method).map_err(|source| SetupError::MethodUrl {
                method,
                api_base: settings.api_base.to_string(),
                source: Box::new(source),
            })
        };
        let urls = MethodUrls {
            post_message: method_url(POST_MESSAGE)?,
            update: method_url(UPDATE)?,
            history: method_url(HISTORY)?,
            replies: method_url(REPLIES)?,
            views_open: method_url(VIEWS_OPEN)?,
        };
        Ok(Self {
            http: http_client(settings.timeout)?,
            authorization,
            urls: Arc::new(urls),
            pacer: Arc::new(Pacer::new(settings.min_interval)),
            settings,
        })
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &SlackSettings {
        &self.settings
    }

    /// One request, authenticated; its JSON answer when Slack says `ok`.
    async fn attempt(
        &self,
        method: &'static str,
        request: RequestBuilder,
    ) -> Result<Value, Failure> {
        let timeout = self.settings.timeout;
        let response = request
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(|err| Failure::transport(method, timeout, err))?;
        read_api_answer(method, timeout, response).await
    }

    /// A request tried until it succeeds, fails for good, or `budget` is spent.
    async fn call(
        &self,
        budget: &mut RetryBudget,
        method: &'static str,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<Value, DeliveryError> {
        loop {
            match self.attempt(method, request()).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => {
                    let wait = budget.wait_after(&failure)?;
                    log_retry(&failure, budget.failures(), wait);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn json_post(&self, url: &Url, body: &[u8]) -> RequestBuilder {
        self.http
            .post(url.clone())
            .header(CONTENT_TYPE, JSON_UTF8)
            .body(body.to_vec())
    }

    /// Looks through `channel` (or the thread `thread_ts`) since `since` for the message of
    /// delivery `key`, page by page.
    async fn search(
        &self,
        budget: &mut RetryBudget,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let (method, url) = match thread_ts {
            Some(_) => (REPLIES, &self.urls.replies),
            None => (HISTORY, &self.urls.history),
        };
        let oldest = slack_ts(since);
        let mut cursor: Option<String> = None;
        let mut cursors_seen = std::collections::HashSet::new();
        loop {
            let mut query = vec![
                ("channel", channel),
                ("oldest", oldest.as_str()),
                ("inclusive", "true"),
                ("include_all_metadata", "true"),
                ("limit", PAGE_LIMIT),
            ];
            if let Some(ts) = thread_ts {
                query.push(("ts", ts));
            }
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let answer = self
                .call(budget, method, || self.http.get(url.clone()).query(&query))
                .await;
            let page = match answer {
                // No thread, so no reply in it.
                Err(DeliveryError::Permanent { code, .. })
                    if code == "thread_not_found" && thread_ts.is_some() =>
                {
                    return Ok(None);
                }
                answer => answer?,
            };
            let page: HistoryPage =
                serde_json::from_value(page).map_err(|err| DeliveryError::Retryable {
                    reason: format!("{method}: the page is not the shape the API documents: {err}"),
                    retry_after: None,
                })?;
            let found = page.messages.into_iter().find(|message| {
                message
                    .metadata
                    .clone()
                    .and_then(|metadata| serde_json::from_value::<MessageMetadata>(metadata).ok())
                    .is_some_and(|metadata| metadata.carries(key))
            });
            if let Some(message) = found {
                return Ok(Some(PostedMessage {
                    channel: channel.to_owned(),
                    ts: message.ts,
                }));
            }
            match page
                .response_metadata
                .and_then(|meta| meta.next_cursor)
                .filter(|next| !next.is_empty())
            {
                None => return Ok(None),
                Some(next) if !cursors_seen.insert(next.clone()) => {
                    return Err(DeliveryError::Retryable {
                        reason: format!("{method}: Slack gave the same page cursor twice"),
                        retry_after: None,
                    });
                }
                Some(next) => cursor = Some(next),
            }
        }
    }
}

impl ChatSink for SlackClient {
    fn threads(&self) -> bool {
        true
    }

    async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        let body = post_body(channel, message).to_string().into_bytes();
        let key = message
            .metadata
            .as_ref()
            .and_then(MessageMetadata::delivery_key);
        let look_since = Utc::now() - LOST_ANSWER_LOOKBACK;
        let mut budget = RetryBudget::new(self.settings.retry);
        let mut maybe_posted = false;
        loop {
            if maybe_posted && let Some(key) = key {
                let found = self
                    .search(
                        &mut budget,
                        channel,
                        message.thread_ts.as_deref(),
                        key,
                        look_since,
                    )
                    .await
                    .map_err(|err| lost_answer_unchecked(err, channel))?;
                if let Some(posted) = found {
                    tracing::info!(
                        slack.method = POST_MESSAGE,
                        channel,
                        ts = %posted.ts,
                        "an unanswered post had arrived; not posting it again"
                    );
                    return Ok(posted);
                }
                maybe_posted = false;
            }
            self.pacer.wait_turn(channel).await;
            let answer = self
                .attempt(POST_MESSAGE, self.json_post(&self.urls.post_message, &body))
                .await;
            let failure = match answer.and_then(|answer| posted_from(POST_MESSAGE, channel, answer))
            {
                Ok(posted) => return Ok(posted),
                Err(failure) => failure,
            };
            if let Class::Retryable { outcome_unknown } = failure.class() {
                maybe_posted |= outcome_unknown;
            }
            let wait = budget.wait_after(&failure)?;
            if failure.retry_after().is_some() {
                // Slack's wait holds every post to the channel, not only this one.
                self.pacer.hold(channel, wait);
            }
            log_retry(&failure, budget.failures(), wait);
            tokio::time::sleep(wait).await;
        }
    }

    async fn update(
        &self,
        channel: &str,
        ts: &str,
        message: &SlackMessage,
    ) -> Result<(), DeliveryError> {
        let body = update_body(channel, ts, message).to_string().into_bytes();
        let mut budget = RetryBudget::new(self.settings.retry);
        self.call(&mut budget, UPDATE, || {
            self.json_post(&self.urls.update, &body)
        })
        .await
        .map(drop)
    }

    async fn find_delivery(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let mut budget = RetryBudget::new(self.settings.retry);
        self.search(&mut budget, channel, thread_ts, key, since)
            .await
    }
}

impl SlackViews for SlackClient {
    /// `views.open` with `{trigger_id, view}` (<https://docs.slack.dev/reference/methods/views.open>):
    /// at most two attempts, a short wait between them, as a trigger expires 3 seconds after the
    /// interaction; `expired_trigger_id` and the other refusals are final.
    async fn open_view(&self, trigger_id: &str, view: &View) -> Result<(), DeliveryError> {
        let body = json!({"trigger_id": trigger_id, "view": view})
            .to_string()
            .into_bytes();
        let policy = RetryPolicy {
            attempts: self.settings.retry.attempts.min(2),
            first_delay: self.settings.retry.first_delay.min(VIEW_RETRY_DELAY),
            max_delay: VIEW_RETRY_DELAY,
        };
        let mut budget = RetryBudget::new(policy);
        self.call(&mut budget, VIEWS_OPEN, || {
            self.json_post(&self.urls.views_open, &body)
        })
        .await
        .map(drop)
    }
}

/// A search for a post's lost answer failed: the post cannot be sent again safely.
fn lost_answer_unchecked(err: DeliveryError, channel: &str) -> DeliveryError {
    match err {
        DeliveryError::Permanent { code, detail } => DeliveryError::Permanent {
            code,
            detail: format!(
                "{HISTORY} (to check whether an unanswered post to {channel} arrived){}{detail}",
                if detail.is_empty() { "" } else { ": " }
            ),
        },
        DeliveryError::Retryable {
            reason,
            retry_after,
        } => DeliveryError::Retryable {
            reason: format!(
                "an unanswered post to {channel} may have arrived, and looking for it failed: {reason}"
            ),
            retry_after,
        },
    }
}

/// `chat.postMessage`'s JSON body.
fn post_body(channel: &str, message: &SlackMessage) -> Value {
    let mut body = Map::new();
    body.insert("channel".into(), channel.into());
    body.insert("text".into(), message.text.clone().into());
    if !message.blocks.is_empty() {
        body.insert("blocks".into(), message.blocks_json());
    }
    if let Some(thread_ts) = &message.thread_ts {
        body.insert("thread_ts".into(), thread_ts.clone().into());
    }
    if let Some(metadata) = &message.metadata {
        body.insert("metadata".into(), metadata_json(metadata));
    }
    body.insert("unfurl_links".into(), false.into());
    body.insert("unfurl_media".into(), false.into());
    Value::Object(body)
}

/// `chat.update`'s JSON body. `blocks` is always sent: an empty list clears the old blocks,
/// where leaving it out would keep them.
fn update_body(channel: &str, ts: &str, message: &SlackMessage) -> Value {
    let mut body = Map::new();
    body.insert("channel".into(), channel.into());
    body.insert("ts".into(), ts.into());
    body.insert("text".into(), message.text.clone().into());
    body.insert("blocks".into(), message.blocks_json());
    if let Some(metadata) = &message.metadata {
        body.insert("metadata".into(), metadata_json(metadata));
    }
    Value::Object(body)
}

fn metadata_json(metadata: &MessageMetadata) -> Value {
    json!({
        "event_type": metadata.event_type,
        "event_payload": metadata.event_payload,
    })
}

/// The message a `chat.postMessage` answer names.
fn posted_from(
    method: &'static str,
    channel: &str,
    answer: Value,
) -> Result<PostedMessage, Failure> {
    #[derive(Deserialize)]
    struct Posted {
        channel: Option<String>,
        ts: String,
    }
    let posted: Posted = serde_json::from_value(answer).map_err(|err| Failure::Unreadable {
        method,
        status: 200,
        source: Some(err),
    })?;
    Ok(PostedMessage {
        channel: posted.channel.unwrap_or_else(|| channel.to_owned()),
        ts: posted.ts,
    })
}

/// A time as Slack writes message timestamps: seconds and microseconds.
fn slack_ts(time: DateTime<Utc>) -> String {
    format!("{}.{:06}", time.timestamp(), time.timestamp_subsec_micros())
}

#[derive(Deserialize)]
struct HistoryPage {
    #[serde(default)]
    messages: Vec<HistoryMessage>,
    response_metadata: Option<ResponseMetadata>,
}

#[derive(Deserialize)]
struct HistoryMessage {
    ts: String,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
struct ResponseMetadata {
    next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachewatch_core::alerting::slack::Block;

    fn message() -> SlackMessage {
        SlackMessage {
            text: "Node replacement".to_owned(),
            blocks: vec![Block::Divider],
            thread_ts: Some("1700000000.000100".to_owned()),
            metadata: Some(MessageMetadata::for_delivery("evt-1")),
        }
    }

    #[test]
    fn a_post_carries_its_thread_metadata_and_no_unfurling() {
        assert_eq!(
            post_body("C1", &message()),
            json!({
                "channel": "C1",
                "text": "Node replacement",
                "blocks": [{"type": "divider"}],
                "thread_ts": "1700000000.000100",
                "metadata": {"event_type": "cachewatch_message", "event_payload": {"delivery": "evt-1"}},
                "unfurl_links": false,
                "unfurl_media": false,
            })
        );
    }

    #[test]
    fn a_post_without_blocks_sends_none() {
        let plain = SlackMessage {
            blocks: vec![],
            thread_ts: None,
            metadata: None,
            ..message()
        };
        let body = post_body("C1", &plain);
        assert!(body.get("blocks").is_none() && body.get("thread_ts").is_none());
        assert!(body.get("metadata").is_none());
    }

    #[test]
    fn an_update_always_replaces_the_blocks() {
        let plain = SlackMessage {
            blocks: vec![],
            ..message()
        };
        let body = update_body("C1", "1700000001.000200", &plain);
        assert_eq!(body["blocks"], json!([]));
        assert_eq!(body["ts"], "1700000001.000200");
        assert!(body.get("thread_ts").is_none());
    }

    #[test]
    fn times_are_written_as_slack_timestamps() {
        let time = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(slack_ts(time), "1700000000.123456");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let client = SlackClient::new(
            SlackSettings::default(),
            SecretString::from("xoxb-very-secret".to_owned()),
        )
        .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn a_base_with_a_path_keeps_it() {
        let settings = SlackSettings::default()
            .with_api_base("http://127.0.0.1:9/api")
            .unwrap();
        let client = SlackClient::new(settings, SecretString::from("xoxb-1".to_owned())).unwrap();
        assert_eq!(
            client.urls.post_message.as_str(),
            "http://127.0.0.1:9/api/chat.postMessage"
        );
    }

    #[test]
    fn an_empty_token_is_refused() {
        let err = SlackClient::new(SlackSettings::default(), SecretString::from(" ".to_owned()))
            .unwrap_err();
        assert!(matches!(err, SetupError::EmptyToken));
    }
}
