//! The chat the environment configures, the same way for the CLI and the functions:
//! `SLACK_BOT_TOKEN` (with `SLACK_CHANNEL`) for the Web API with threads, else `SLACK_WEBHOOK_URL`
//! for an incoming webhook, else none. `SLACK_API_BASE_URL` points the Web API elsewhere (tests);
//! `SLACK_MIN_INTERVAL_MS` (default 1000: Slack's pace of one message a second per channel),
//! `SLACK_RETRY_ATTEMPTS` (4) and `SLACK_RETRY_DELAY_MS` (500, doubling) tune the client.

use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage, SlackViews};
use cachewatch_core::alerting::slack::SlackMessage;
use cachewatch_core::alerting::slack::blockkit::View;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use cachewatch_core::alerting::outbound::{OutboundEvent, Output};

use aws_config::SdkConfig;
use cachewatch_core::config::Config;

use crate::outbound::{Outputs, OutputsError};
use crate::slack::{SettingsError, SetupError, SlackClient, SlackSettings, SlackWebhook};

/// A configured chat: Slack, and the outputs beyond it every alert also goes to. A team without
/// Slack (a pager or Amazon Q Developer only) has a chat of outputs alone.
#[derive(Debug, Clone)]
pub struct Chat {
    /// How Slack is reached; `None` when only outputs are configured.
    pub slack: Option<Slack>,
    /// The outputs beyond Slack (none until [`Chat::with_outputs`]).
    pub outputs: Outputs,
}

/// How Slack is reached.
#[derive(Debug, Clone)]
pub enum Slack {
    /// Slack's Web API: threads, updates, lookups.
    Api(SlackClient),
    /// An incoming webhook: one message per alert, no threads.
    Webhook(SlackWebhook),
}

impl Chat {
    /// Slack alone.
    pub fn new(slack: Slack) -> Self {
        Self {
            slack: Some(slack),
            outputs: Outputs::default(),
        }
    }

    /// The outputs alone, without Slack.
    pub fn outputs_only(outputs: Outputs) -> Self {
        Self {
            slack: None,
            outputs,
        }
    }

    /// This chat, with every alert also sent to `outputs`.
    pub fn with_outputs(mut self, outputs: Outputs) -> Self {
        self.outputs = outputs;
        self
    }

    /// Whether Slack is reached through the Web API.
    pub fn is_api(&self) -> bool {
        matches!(self.slack, Some(Slack::Api(_)))
    }

    /// Whether Slack is configured (else only outputs are).
    pub fn has_slack(&self) -> bool {
        self.slack.is_some()
    }

    fn slack(&self) -> Result<&Slack, DeliveryError> {
        self.slack.as_ref().ok_or_else(|| DeliveryError::Permanent {
            code: NO_SLACK.to_owned(),
            detail: "Slack is not configured: set SLACK_BOT_TOKEN and SLACK_CHANNEL, or SLACK_WEBHOOK_URL".to_owned(),
        })
    }
}

/// Why the chat's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ChatConfigError {
    /// A variable has a value that does not work.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The client cannot be built from it.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A tuning variable that is not a number.
    #[error("{name} must be a whole number of {unit}, not {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// What it counts.
        unit: &'static str,
        /// Its value.
        value: String,
    },
    /// An output beyond Slack that cannot be used.
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    /// A bot token without a channel to post to.
    #[error("SLACK_BOT_TOKEN is set but SLACK_CHANNEL is not: say which channel alerts go to")]
    NoChannel,
}

/// The chat and its default channel, from environment-like `lookup`; `None` when neither a bot
/// token nor a webhook is configured. `settings` adjusts timeouts and pacing (tests shorten them).
pub fn chat_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    adjust: impl FnOnce(SlackSettings) -> SlackSettings,
) -> Result<Option<(Chat, Option<String>)>, ChatConfigError> {
    let value = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let number = |name: &'static str, unit: &'static str| -> Result<Option<u64>, ChatConfigError> {
        value(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| ChatConfigError::NotANumber {
                    name,
                    unit,
                    value: v,
                })
            })
            .transpose()
    };
    let mut settings = SlackSettings::from_lookup(&lookup)?;
    if let Some(ms) = number("SLACK_MIN_INTERVAL_MS", "milliseconds")? {
        settings.min_interval = std::time::Duration::from_millis(ms);
    }
    if let Some(n) = number("SLACK_RETRY_ATTEMPTS", "attempts")? {
        settings.retry.attempts = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    }
    if let Some(ms) = number("SLACK_RETRY_DELAY_MS", "milliseconds")? {
        settings.retry.first_delay = std::time::Duration::from_millis(ms);
    }
    let settings = adjust(settings);
    let channel = value("SLACK_CHANNEL");
    if let Some(token) = value("SLACK_BOT_TOKEN") {
        if channel.is_none() {
            return Err(ChatConfigError::NoChannel);
        }
        let client = SlackClient::new(settings, SecretString::from(token))?;
        return Ok(Some((Chat::new(Slack::Api(client)), channel)));
    }
    if let Some(url) = value("SLACK_WEBHOOK_URL") {
        let webhook = SlackWebhook::new(settings, SecretString::from(url))?;
        // A webhook posts to its own channel: alerts are routed to it whatever the routes say.
        return Ok(Some((
            Chat::new(Slack::Webhook(webhook)),
            Some(channel.unwrap_or_else(|| "webhook".to_owned())),
        )));
    }
    Ok(None)
}

/// The chat the environment and `config` configure: Slack as [`chat_from_lookup`] reads it, with
/// the outputs beyond it `config` names (their keys read through `lookup` too); the outputs alone
/// when Slack is not configured; `None` when neither is. `sdk` reaches Amazon Q Developer's topic.
pub fn chat_with_outputs(
    lookup: impl Fn(&str) -> Option<String>,
    config: &Config,
    sdk: Option<&SdkConfig>,
) -> Result<Option<(Chat, Option<String>)>, ChatConfigError> {
    let slack = chat_from_lookup(&lookup, |settings| settings)?;
    let outputs = Outputs::from_config(config, &lookup, sdk)?;
    Ok(match slack {
        Some((chat, channel)) => Some((chat.with_outputs(outputs), channel)),
        None if !outputs.list().is_empty() => Some((Chat::outputs_only(outputs), None)),
        None => None,
    })
}

impl ChatSink for Chat {
    fn threads(&self) -> bool {
        match &self.slack {
            Some(Slack::Api(c)) => c.threads(),
            Some(Slack::Webhook(w)) => w.threads(),
            None => false,
        }
    }

    async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        match self.slack()? {
            Slack::Api(c) => c.post(channel, message).await,
            Slack::Webhook(w) => w.post(channel, message).await,
        }
    }

    async fn update(
        &self,
        channel: &str,
        ts: &str,
        message: &SlackMessage,
    ) -> Result<(), DeliveryError> {
        match self.slack()? {
            Slack::Api(c) => c.update(channel, ts, message).await,
            Slack::Webhook(w) => w.update(channel, ts, message).await,
        }
    }

    async fn find_delivery(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        match &self.slack {
            None => Ok(None),
            Some(Slack::Api(c)) => c.find_delivery(channel, thread_ts, key, since).await,
            Some(Slack::Webhook(w)) => w.find_delivery(channel, thread_ts, key, since).await,
        }
    }

    fn outputs(&self) -> Vec<Output> {
        self.outputs.list()
    }

    async fn deliver(&self, output: Output, event: &OutboundEvent) -> Result<(), DeliveryError> {
        self.outputs.deliver(output, event).await
    }
}

/// The code of the refusal a chat of outputs alone gives when asked to post to Slack.
pub const NO_SLACK: &str = "slack_not_configured";

/// The code of the refusal a webhook gives when asked to open a modal.
pub const WEBHOOK_HAS_NO_VIEWS: &str = "webhook_cannot_open_views";

impl SlackViews for Chat {
    async fn open_view(&self, trigger_id: &str, view: &View) -> Result<(), DeliveryError> {
        match self.slack()? {
            Slack::Api(c) => c.open_view(trigger_id, view).await,
            Slack::Webhook(_) => Err(DeliveryError::Permanent {
                code: WEBHOOK_HAS_NO_VIEWS.to_owned(),
                detail: "an incoming webhook cannot open Slack modals: configure SLACK_BOT_TOKEN (and SLACK_CHANNEL) to use the Web API".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_bot_token_and_a_channel_make_the_web_api() {
        let found = chat_from_lookup(
            env(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_CHANNEL", "C1")]),
            |s| s,
        )
        .unwrap();
        let (chat, channel) = found.unwrap();
        assert!(chat.is_api());
        assert!(chat.threads());
        assert_eq!(channel.as_deref(), Some("C1"));
    }

    #[test]
    fn a_webhook_is_the_fallback_and_nothing_is_nothing() {
        let (chat, _) = chat_from_lookup(
            env(&[("SLACK_WEBHOOK_URL", "https://hooks.example/T/B/x")]),
            |s| s,
        )
        .unwrap()
        .unwrap();
        assert!(!chat.threads());
        assert!(chat_from_lookup(env(&[]), |s| s).unwrap().is_none());
        assert!(
            chat_from_lookup(env(&[("SLACK_BOT_TOKEN", " ")]), |s| s)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn tuning_variables_must_be_numbers() {
        let err = chat_from_lookup(
            env(&[
                ("SLACK_WEBHOOK_URL", "https://h.example/x"),
                ("SLACK_MIN_INTERVAL_MS", "fast"),
            ]),
            |s| s,
        )
        .unwrap_err();
        assert!(err.to_string().contains("SLACK_MIN_INTERVAL_MS"), "{err}");
    }

    #[tokio::test]
    async fn a_webhook_refuses_to_open_a_modal_for_good() {
        let (chat, _) = chat_from_lookup(
            env(&[("SLACK_WEBHOOK_URL", "https://hooks.example/T/B/x")]),
            |s| s,
        )
        .unwrap()
        .unwrap();
        let modal = View::Modal(cachewatch_core::alerting::slack::blockkit::Modal {
            callback_id: None,
            private_metadata: None,
            title: cachewatch_core::alerting::slack::blockkit::Text::plain("Modal"),
            submit: None,
            close: None,
            blocks: Vec::new(),
        });
        let err = chat.open_view("1.2.abc", &modal).await.unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(WEBHOOK_HAS_NO_VIEWS), "{err}");
        assert!(err.to_string().contains("SLACK_BOT_TOKEN"), "{err}");
    }

    #[test]
    fn a_token_without_a_channel_is_refused_by_name() {
        let err = chat_from_lookup(env(&[("SLACK_BOT_TOKEN", "xoxb-1")]), |s| s).unwrap_err();
        assert!(err.to_string().contains("SLACK_CHANNEL"), "{err}");
    }
}
