//! [`SignedWebhook`]: each alert POSTed as JSON to the team's URL, signed so that the receiver
//! can tell it came from cachewatch and was not replayed.
//!
//! The request carries:
//! - `Cachewatch-Timestamp`: the Unix time of the send, in seconds;
//! - `Cachewatch-Signature`: `v1=` and the lowercase hex HMAC-SHA256, keyed with the shared
//!   secret, of `{timestamp}.{body}` (the body's exact bytes);
//! - `Cachewatch-Delivery`: the event id, the same on every retry of one alert;
//! - `Cachewatch-Dedup-Key`: the maintenance id, shared by every alert of one maintenance.
//!
//! A 2xx answer delivers. 429 (waiting out `Retry-After`), 408, 5xx, timeouts and connection
//! errors are retried with a doubling backoff within the call; any other answer is a refusal.

use std::fmt;
use std::time::Duration;

use cachewatch_core::alerting::delivery::DeliveryError;
use cachewatch_core::alerting::outbound::{OutboundEvent, webhook_body};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::slack::RetryPolicy;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Cachewatch-Signature";
/// The header carrying the time signed.
pub const TIMESTAMP_HEADER: &str = "Cachewatch-Timestamp";
/// The header carrying the delivery's id (the event id).
pub const DELIVERY_HEADER: &str = "Cachewatch-Delivery";
/// The header carrying the dedup key (the maintenance id).
pub const DEDUP_KEY_HEADER: &str = "Cachewatch-Dedup-Key";

/// The signature of `body` sent at `timestamp` (Unix seconds): `v1=` and the hex HMAC-SHA256
/// of `{timestamp}.{body}` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(3 + digest.len() * 2);
    hex.push_str("v1=");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Why the webhook cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum WebhookSetupError {
    /// The HTTP client could not be built.
    #[error("cannot build the webhook's HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The URL does not parse.
    #[error("webhook.url is not a URL: {0}")]
    Url(String),
}

/// The signed webhook. The secret never appears in `Debug`, errors or logs.
#[derive(Clone)]
pub struct SignedWebhook {
    http: reqwest::Client,
    url: reqwest::Url,
    secret: SecretString,
    retry: RetryPolicy,
}

impl fmt::Debug for SignedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedWebhook")
            .field("host", &self.url.host_str())
            .field("secret", &"[redacted]")
            .field("retry", &self.retry)
            .finish()
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SignedWebhook {
    /// A webhook POSTing to `url`, signing with `secret`, within `timeout` per request.
    pub fn new(
        url: &str,
        secret: SecretString,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, WebhookSetupError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("cachewatch/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(WebhookSetupError::Client)?;
        let url =
            reqwest::Url::parse(url.trim()).map_err(|e| WebhookSetupError::Url(e.to_string()))?;
        Ok(Self {
            http,
            url,
            secret,
            retry,
        })
    }

    /// Sends one alert, retrying passing failures within the call.
    pub async fn send(&self, event: &OutboundEvent) -> Result<(), DeliveryError> {
        let body =
            serde_json::to_vec(&webhook_body(event)).map_err(|e| DeliveryError::Permanent {
                code: "unencodable".into(),
                detail: e.to_string(),
            })?;
        let mut failures = 0u32;
        loop {
            // Signed again at every try: a retry is not refused as a replay.
            let timestamp = unix_now();
            let answer = self
                .http
                .post(self.url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(
                    SIGNATURE_HEADER,
                    signature(self.secret.expose_secret().as_bytes(), timestamp, &body),
                )
                .header(DELIVERY_HEADER, &event.event_id)
                .header(DEDUP_KEY_HEADER, &event.dedup_key)
                .body(body.clone())
                .send()
                .await;
            let (reason, retry_after) = match answer {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    let status = r.status();
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::REQUEST_TIMEOUT
                        || status.is_server_error();
                    if !retryable {
                        return Err(DeliveryError::Permanent {
                            code: format!("http_{}", status.as_u16()),
                            detail: "the webhook refused the alert".into(),
                        });
                    }
                    let after = r
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    (format!("the webhook answered {status}"), after)
                }
                Err(e) => (
                    format!("the webhook did not answer: {}", e.without_url()),
                    None,
                ),
            };
            failures += 1;
            let wait = retry_after.unwrap_or_else(|| self.retry.backoff(failures));
            if failures >= self.retry.attempts.max(1) || wait > self.retry.max_delay {
                return Err(DeliveryError::Retryable {
                    reason,
                    retry_after,
                });
            }
            tracing::warn!(error = %reason, failures, "webhook send failed; trying again");
            tokio::time::sleep(wait).await;
        }
    }
}
