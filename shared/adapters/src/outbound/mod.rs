//! The outputs beyond Slack `cachewatch.toml` names: a signed webhook ([`SignedWebhook`]) and an
//! SNS topic for Amazon Q Developer in chat applications ([`QDeveloperTopic`]). They send what
//! core built; the outbox decides what and when.
//!
//! The webhook's signing key is read like Slack's keys: from the variable `webhook.secret`
//! names, or from the key of that name in the deployment's Secrets Manager secret.
//! `CACHEWATCH_WEBHOOK_TIMEOUT_MS` (10000), `CACHEWATCH_WEBHOOK_RETRY_ATTEMPTS` (4) and
//! `CACHEWATCH_WEBHOOK_RETRY_DELAY_MS` (500, doubling) tune it.

mod q_developer;
mod webhook;

pub use q_developer::QDeveloperTopic;
pub use webhook::{
    DEDUP_KEY_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, SignedWebhook, TIMESTAMP_HEADER,
    WebhookSetupError, signature,
};

use std::time::Duration;

use aws_config::SdkConfig;
use cachewatch_core::alerting::delivery::DeliveryError;
use cachewatch_core::alerting::outbound::{OutboundEvent, Output};
use cachewatch_core::config::Config;
use secrecy::SecretString;

use crate::slack::RetryPolicy;

/// The outputs configured, ready to send.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The signed webhook.
    pub webhook: Option<SignedWebhook>,
    /// The Amazon Q Developer topic.
    pub q_developer: Option<QDeveloperTopic>,
}

/// Why the outputs cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    /// `[webhook]` is configured but its key is nowhere.
    #[error(
        "webhook.secret names {0}, but neither the environment nor the deployment's secret has it: set {0} to the webhook's signing key"
    )]
    MissingSecret(String),
    /// The webhook's client cannot be built.
    #[error(transparent)]
    Webhook(#[from] WebhookSetupError),
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
}

impl Outputs {
    /// The outputs `config` names, with the webhook's key and tuning from environment-like
    /// `lookup`. `sdk` is needed only when `[q_developer]` is configured (`None` then is an
    /// empty Q Developer output: the caller loads it when [`Outputs::needs_aws`] says so).
    pub fn from_config(
        config: &Config,
        lookup: impl Fn(&str) -> Option<String>,
        sdk: Option<&SdkConfig>,
    ) -> Result<Self, OutputsError> {
        let value = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let number = |name: &'static str, unit: &'static str, default: u64| {
            value(name).map_or(Ok(default), |v| {
                v.parse::<u64>().map_err(|_| OutputsError::NotANumber {
                    name,
                    unit,
                    value: v,
                })
            })
        };
        let webhook = match &config.webhook {
            Some(options) => {
                let secret = value(&options.secret)
                    .ok_or_else(|| OutputsError::MissingSecret(options.secret.clone()))?;
                let retry = RetryPolicy {
                    attempts: u32::try_from(
                        number("CACHEWATCH_WEBHOOK_RETRY_ATTEMPTS", "attempts", 4)?.max(1),
                    )
                    .unwrap_or(u32::MAX),
                    first_delay: Duration::from_millis(number(
                        "CACHEWATCH_WEBHOOK_RETRY_DELAY_MS",
                        "milliseconds",
                        500,
                    )?),
                    ..RetryPolicy::default()
                };
                let timeout = Duration::from_millis(number(
                    "CACHEWATCH_WEBHOOK_TIMEOUT_MS",
                    "milliseconds",
                    10_000,
                )?);
                Some(SignedWebhook::new(
                    &options.url,
                    SecretString::from(secret),
                    timeout,
                    retry,
                )?)
            }
            None => None,
        };
        let q_developer = match (&config.q_developer, sdk) {
            (Some(options), Some(sdk)) => Some(QDeveloperTopic::new(sdk, &options.topic_arn)),
            _ => None,
        };
        Ok(Self {
            webhook,
            q_developer,
        })
    }

    /// Whether `config` names an output that publishes through AWS.
    pub fn needs_aws(config: &Config) -> bool {
        config.q_developer.is_some()
    }

    /// The outputs ready to send.
    pub fn list(&self) -> Vec<Output> {
        let mut list = Vec::new();
        if self.webhook.is_some() {
            list.push(Output::Webhook);
        }
        if self.q_developer.is_some() {
            list.push(Output::QDeveloper);
        }
        list
    }

    /// Sends one alert to `output`.
    pub async fn deliver(
        &self,
        output: Output,
        event: &OutboundEvent,
    ) -> Result<(), DeliveryError> {
        let not_configured = || DeliveryError::Permanent {
            code: "output_not_configured".into(),
            detail: output.name().into(),
        };
        match output {
            Output::Webhook => match &self.webhook {
                Some(w) => w.send(event).await,
                None => Err(not_configured()),
            },
            Output::QDeveloper => match &self.q_developer {
                Some(q) => q.send(event).await,
                None => Err(not_configured()),
            },
        }
    }
}
