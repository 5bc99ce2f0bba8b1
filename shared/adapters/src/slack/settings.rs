//! What the Slack adapters are configured with: where the Web API is, how long to wait for an
//! answer, how often to try again, and how fast to post. Values are read once, at the edge, by
//! the binary that builds the adapter ([`SlackSettings::from_lookup`]); nothing in here reads the
//! environment by itself.

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::Url;

/// Slack's Web API, where [`SlackSettings::api_base`] points unless told otherwise.
pub const DEFAULT_API_BASE: &str = "https://slack.com/api";

/// The variable that overrides [`DEFAULT_API_BASE`] (tests point it at a local stand-in).
pub const API_BASE_VAR: &str = "SLACK_API_BASE_URL";

/// How the Slack adapters talk to Slack.
///
/// The defaults suit Slack itself: a 10 s timeout per request, 4 attempts per call with a
/// backoff of 0.5 s, 1 s, 2 s (waits never longer than 10 s), and one message a second per
/// channel. A call therefore gives up after at most about `attempts × timeout + 3.5 s`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSettings {
    /// The Web API's base URL; methods are appended to it (`{api_base}/chat.postMessage`).
    pub api_base: Url,
    /// How long one request may take, from sending to the end of the answer.
    pub timeout: Duration,
    /// How passing failures are tried again.
    pub retry: RetryPolicy,
    /// The shortest time between two messages posted to one channel (Slack allows about one a
    /// second per channel). Zero turns pacing off.
    pub min_interval: Duration,
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self {
            api_base: Url::parse(DEFAULT_API_BASE).expect("the default API base is a URL"),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            min_interval: Duration::from_secs(1),
        }
    }
}

impl SlackSettings {
    /// The settings named by variables, looked up with `lookup` (for a binary:
    /// `|name| std::env::var(name).ok()`): [`API_BASE_VAR`] when set and not blank, the defaults
    /// for everything else.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut settings = Self::default();
        if let Some(raw) = lookup(API_BASE_VAR).filter(|raw| !raw.trim().is_empty()) {
            settings.api_base = parse_http_url(API_BASE_VAR, raw.trim())?;
        }
        Ok(settings)
    }

    /// These settings with another Web API base URL.
    pub fn with_api_base(mut self, raw: &str) -> Result<Self, SettingsError> {
        self.api_base = parse_http_url(API_BASE_VAR, raw.trim())?;
        Ok(self)
    }
}

/// How one call retries passing failures (HTTP 429, 5xx, timeouts, connection errors and
/// Slack's passing error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests tried for one call before giving up, the first one included (at least 1 is
    /// always tried). Every request a call makes (a post, the history pages read to check
    /// whether an unanswered post arrived) draws on the same allowance of failures.
    pub attempts: u32,
    /// The wait before the first retry; each further retry waits twice as long as the one
    /// before, up to `max_delay`.
    pub first_delay: Duration,
    /// The longest wait between two attempts. A `Retry-After` longer than this is not waited
    /// out: the call returns at once with [`DeliveryError::Retryable`] carrying it, so that the
    /// caller can schedule the next try instead of holding a process (or a Lambda) asleep.
    ///
    /// [`DeliveryError::Retryable`]: cachewatch_core::alerting::delivery::DeliveryError::Retryable
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry) when Slack did not say how
    /// long to wait: `first_delay × 2^(retry-1)`, at most `max_delay`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// Why settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The value is not a URL.
    #[error("{name} is not a URL: {value:?}")]
    NotAUrl {
        /// The variable.
        name: &'static str,
        /// What it says.
        value: String,
        /// Why it could not be read.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The value is a URL, but not an `http` or `https` one.
    #[error("{name} must be an http or https URL, not {value:?}")]
    NotHttp {
        /// The variable.
        name: &'static str,
        /// What it says.
        value: String,
    },
}

fn parse_http_url(name: &'static str, raw: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(raw).map_err(|source| SettingsError::NotAUrl {
        name,
        value: raw.to_owned(),
        source: Box::new(source),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(SettingsError::NotHttp {
            name,
            value: raw.to_owned(),
        });
    }
    Ok(url)
}

/// Why a Slack adapter could not be built. Never shows the token or the webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The bot token is empty.
    #[error("the Slack bot token is empty")]
    EmptyToken,
    /// The bot token has characters an HTTP header cannot carry.
    #[error("the Slack bot token has characters an HTTP header cannot carry")]
    TokenNotAHeader(#[source] reqwest::header::InvalidHeaderValue),
    /// The webhook URL is not a URL (what it says is not repeated: it is a secret).
    #[error("the Slack webhook URL is not a URL")]
    WebhookNotAUrl(#[source] Box<dyn StdError + Send + Sync>),
    /// The webhook URL is not an `http` or `https` one.
    #[error("the Slack webhook URL must be an http or https URL")]
    WebhookNotHttp,
    /// A Web API method's URL could not be made from the base URL.
    #[error("no URL for {method} can be made from the API base {api_base}")]
    MethodUrl {
        /// The method.
        method: &'static str,
        /// The base URL.
        api_base: String,
        /// Why.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The HTTP client could not be built (its TLS set-up failed).
    #[error("the HTTP client for Slack could not be built")]
    HttpClient(#[source] reqwest::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_variables_the_defaults_apply() {
        let settings = SlackSettings::from_lookup(|_| None).unwrap();
        assert_eq!(settings, SlackSettings::default());
        assert_eq!(settings.api_base.as_str(), "https://slack.com/api");
        assert_eq!(settings.timeout, Duration::from_secs(10));
        assert_eq!(settings.min_interval, Duration::from_secs(1));
    }

    #[test]
    fn the_api_base_comes_from_its_variable() {
        let settings = SlackSettings::from_lookup(|name| {
            (name == API_BASE_VAR).then(|| " http://127.0.0.1:9/api ".to_owned())
        })
        .unwrap();
        assert_eq!(settings.api_base.as_str(), "http://127.0.0.1:9/api");
    }

    #[test]
    fn a_blank_api_base_means_the_default() {
        let settings = SlackSettings::from_lookup(|_| Some("  ".to_owned())).unwrap();
        assert_eq!(settings.api_base.as_str(), DEFAULT_API_BASE);
    }

    #[test]
    fn an_api_base_that_is_not_an_http_url_is_refused_with_its_name() {
        let err = SlackSettings::from_lookup(|_| Some("slack.com/api".to_owned())).unwrap_err();
        assert!(matches!(
            err,
            SettingsError::NotAUrl {
                name: API_BASE_VAR,
                ..
            }
        ));
        assert!(std::error::Error::source(&err).is_some());

        let err =
            SlackSettings::from_lookup(|_| Some("ftp://slack.com/api".to_owned())).unwrap_err();
        assert!(matches!(err, SettingsError::NotHttp { .. }), "{err}");
    }

    #[test]
    fn backoff_doubles_up_to_the_longest_wait() {
        let policy = RetryPolicy {
            attempts: 10,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
        };
        let waits: Vec<_> = (1..=5).map(|retry| policy.backoff(retry)).collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 3000, 3000].map(Duration::from_millis)
        );
        assert_eq!(policy.backoff(200), Duration::from_secs(3));
    }
}
