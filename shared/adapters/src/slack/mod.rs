//! Slack: the Web API client that posts, threads, updates and finds cachewatch's messages
//! ([`SlackClient`], bot token), and the incoming-webhook fallback that only posts
//! ([`SlackWebhook`]). Both implement [`ChatSink`]: they send the messages core built as data
//! and decide nothing about what they say.
//!
//! What they own is the conversation with Slack:
//! - **Failures.** A rate limit (HTTP 429) is waited out for its `Retry-After`; 5xx answers,
//!   timeouts, connection errors and Slack's passing error codes are retried with a doubling
//!   backoff, within one allowance of attempts per call ([`RetryPolicy`]). What is left when the
//!   attempts are spent is a [`DeliveryError::Retryable`]; a refusal (`channel_not_found`,
//!   `invalid_auth`, an unknown code, ...) ends the call at once as a
//!   [`DeliveryError::Permanent`] with Slack's code. See `answer.rs` for the classification and
//!   the Slack documents it follows.
//! - **Never doubled.** A post whose outcome is unknown is looked for by its delivery key before
//!   it is sent again (Web API only).
//! - **Pace.** One message per `min_interval` per channel, shared by all concurrent callers of a
//!   client and its clones.
//! - **Secrets.** The token and the webhook URL never appear in `Debug`, errors or logs.
//!
//! [`ChatSink`]: cachewatch_core::alerting::delivery::ChatSink
//! [`DeliveryError::Retryable`]: cachewatch_core::alerting::delivery::DeliveryError::Retryable
//! [`DeliveryError::Permanent`]: cachewatch_core::alerting::delivery::DeliveryError::Permanent

mod answer;
mod pacing;
mod retry;
mod settings;
mod web_api;
mod webhook;

pub use settings::{
    API_BASE_VAR, DEFAULT_API_BASE, RetryPolicy, SettingsError, SetupError, SlackSettings,
};
pub use web_api::SlackClient;
pub use webhook::SlackWebhook;

use std::time::Duration;

use answer::Failure;

/// The HTTP client both adapters use: one timeout for the whole exchange (sending, waiting,
/// reading the answer), no proxies from the environment (reqwest's `system-proxy` feature is
/// off).
fn http_client(timeout: Duration) -> Result<reqwest::Client, SetupError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("cachewatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| SetupError::HttpClient(err.without_url()))
}

/// Logs a failed request that is about to be tried again (never a URL or the token).
fn log_retry(failure: &Failure, failures: u32, wait: Duration) {
    tracing::warn!(
        error = %failure.describe(),
        failures,
        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        "Slack call failed; trying again"
    );
}
