//! [`SlackWebhook`]: an incoming webhook, the simple fallback when no bot token is configured.
//! It posts to the one channel it was made for; it cannot thread, update or find a message.
//!
//! A webhook answers in plain text (`ok`, or a code with a 4xx status). Rate limits (429 with
//! `Retry-After`), 5xx, timeouts and connection errors are retried like the Web API's. A webhook
//! post whose answer was lost cannot be looked up, so a retry after one may post twice: the
//! price of the fallback.

use std::fmt;
use std::sync::Arc;

use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage};
use cachewatch_core::alerting::slack::SlackMessage;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::answer::{Failure, read_webhook_answer};
use super::pacing::Pacer;
use super::retry::RetryBudget;
use super::settings::{SetupError, SlackSettings};
use super::{http_client, log_retry};

/// The name failures of a webhook carry instead of a Web API method (never its URL).
const WEBHOOK: &str = "webhook";

/// An incoming webhook (`https://hooks.slack.com/services/…`). The URL is a secret: `Debug`
/// and errors never show it. Uses `timeout`, `retry` and `min_interval` of [`SlackSettings`];
/// `api_base` does not apply.
#[derive(Clone)]
pub struct SlackWebhook {
    http: reqwest::Client,
    url: SecretString,
    settings: SlackSettings,
    pacer: Arc<Pacer>,
}

impl fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("url", &"[redacted]")
            .field("timeout", &self.settings.timeout)
            .field("retry", &self.settings.retry)
            .field("min_interval", &self.settings.min_interval)
            .finish()
    }
}

impl SlackWebhook {
    /// A webhook posting to `url`.
    pub fn new(settings: SlackSettings, url: SecretString) -> Result<Self, SetupError> {
        let parsed = Url::parse(url.expose_secret().trim())
            .map_err(|source| SetupError::WebhookNotAUrl(Box::new(source)))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
            return Err(SetupError::WebhookNotHttp);
        }
        Ok(Self {
            http: http_client(settings.timeout)?,
            url: SecretString::from(parsed.to_string()),
            pacer: Arc::new(Pacer::new(settings.min_interval)),
            settings,
        })
    }
}

impl ChatSink for SlackWebhook {
    fn threads(&self) -> bool {
        false
    }

    /// Posts `text` and `blocks` to the webhook's channel; `channel`, `thread_ts` and metadata
    /// do not apply (the answer's `channel` is the one given, its `ts` is empty).
    async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        let body = webhook_body(message).to_string().into_bytes();
        let timeout = self.settings.timeout;
        let mut budget = RetryBudget::new(self.settings.retry);
        loop {
            // One webhook is one channel: one pace for all its posts.
            self.pacer.wait_turn(WEBHOOK).await;
            let sent = self
                .http
                .post(self.url.expose_secret())
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.clone())
                .send()
                .await;
            let answer = match sent {
                Ok(response) => read_webhook_answer(WEBHOOK, timeout, response).await,
                Err(err) => Err(Failure::transport(WEBHOOK, timeout, err)),
            };
            let failure = match answer {
                Ok(()) => {
                    return Ok(PostedMessage {
                        channel: channel.to_owned(),
                        ts: String::new(),
                    });
                }
                Err(failure) => failure,
            };
            let wait = budget.wait_after(&failure)?;
            if failure.retry_after().is_some() {
                self.pacer.hold(WEBHOOK, wait);
            }
            log_retry(&failure, budget.failures(), wait);
            tokio::time::sleep(wait).await;
        }
    }

    // A webhook can neither update a message nor read its channel: `update` and
    // `find_delivery` are the trait's, which send nothing and find nothing.
}

/// A webhook's JSON body: the text and, when there are any, the blocks.
fn webhook_body(message: &SlackMessage) -> Value {
    let mut body = Map::new();
    body.insert("text".into(), message.text.clone().into());
    if !message.blocks.is_empty() {
        body.insert("blocks".into(), message.blocks_json());
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_url() {
        let webhook = SlackWebhook::new(
            SlackSettings::default(),
            SecretString::from("https://hooks.slack.com/services/T0/B0/very-secret".to_owned()),
        )
        .unwrap();
        let debug = format!("{webhook:?}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("hooks"),
            "{debug}"
        );
    }

    #[test]
    fn a_url_that_is_not_one_is_refused_without_repeating_it() {
        let err = SlackWebhook::new(
            SlackSettings::default(),
            SecretString::from("hooks.slack.com/services/very-secret".to_owned()),
        )
        .unwrap_err();
        assert!(matches!(err, SetupError::WebhookNotAUrl(_)));
        assert!(!err.to_string().contains("very-secret"));
    }

    #[test]
    fn the_body_is_text_and_blocks_only() {
        let message = SlackMessage {
            text: "hello".to_owned(),
            blocks: vec![cachewatch_core::alerting::slack::Block::Divider],
            thread_ts: Some("1.2".to_owned()),
            metadata: Some(cachewatch_core::alerting::slack::MessageMetadata::for_delivery("k")),
        };
        assert_eq!(
            webhook_body(&message),
            serde_json::json!({"text": "hello", "blocks": [{"type": "divider"}]})
        );
    }
}
