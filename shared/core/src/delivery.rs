//! Sending messages to a chat: the [`ChatSink`] trait the Slack adapter implements, and what a
//! send can come back with.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::slack::SlackMessage;

/// A message the chat accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    /// The channel it went to (Slack's id when the API says it).
    pub channel: String,
    /// Its timestamp, which names it in `chat.update` and as a thread. Empty for sinks without
    /// threads (an incoming webhook).
    pub ts: String,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A passing condition (rate limited, server error, timeout) that survived the sink's own
    /// retries: try again later.
    #[error("the chat is unavailable: {reason}")]
    Retryable {
        /// What happened.
        reason: String,
        /// How long the chat asked us to wait (Slack's `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The chat refused for good (`channel_not_found`, `invalid_auth`, ...): trying again will not
    /// help until someone changes the configuration.
    #[error("the chat refused: {code}{}", if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    Permanent {
        /// Slack's error code.
        code: String,
        /// More about it.
        detail: String,
    },
}

impl DeliveryError {
    /// Whether trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Retryable { .. })
    }
}

/// A chat to post to: Slack's Web API (threads, updates) or an incoming webhook (neither).
///
/// Implementations retry passing failures themselves (honouring `Retry-After`, with a bounded
/// backoff), keep to Slack's pace of one message a second per channel, and return an error only
/// once that is spent.
pub trait ChatSink: Send + Sync {
    /// Whether messages can be threaded and updated (`false` for a webhook).
    fn threads(&self) -> bool;

    /// Posts a message (in `message.thread_ts`'s thread if set) to `channel`.
    fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> impl Future<Output = Result<PostedMessage, DeliveryError>> + Send;

    /// Replaces the message `ts` of `channel` with `message`.
    fn update(
        &self,
        channel: &str,
        ts: &str,
        message: &SlackMessage,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// A message cachewatch posted to `channel` (in the thread `thread_ts`, when given) since
    /// `since` for the delivery `key` (see [`crate::slack::MessageMetadata::for_delivery`]), if
    /// Slack has it: how a send whose answer was lost is told apart from one that never arrived.
    /// `Ok(None)` when the sink cannot tell (a webhook).
    fn find_delivery(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<PostedMessage>, DeliveryError>> + Send;
}
