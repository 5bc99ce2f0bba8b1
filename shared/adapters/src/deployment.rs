//! A deployed stack's parts, built from a function's environment once per cold start: the same
//! for the SNS function, the poller and the HTTP function, so that they cannot disagree.
//!
//! | variable | what |
//! |---|---|
//! | `CACHEWATCH_TABLE` | the DynamoDB table (required) |
//! | `CACHEWATCH_SECRET_ARN` | a Secrets Manager secret holding `SLACK_BOT_TOKEN`, `SLACK_WEBHOOK_URL`, `SLACK_SIGNING_SECRET`, `CACHEWATCH_LINK_SECRET` as one JSON object; each may also come from the environment (a secret wins) |
//! | `SLACK_CHANNEL` | the channel of alerts no route claims |
//! | `CACHEWATCH_CONFIG_TOML` | the text of `cachewatch.toml` (alerts, routes, mutes) |
//! | `CACHEWATCH_TZ` | the zone of times written as text (default UTC) |
//! | `CACHEWATCH_BASE_URL` | where runbook pages are served: alerts link there and carry buttons |
//! | `CACHEWATCH_LINK_TTL` | how long the signed links of alerts hold (default 30d; the secret is `CACHEWATCH_LINK_SECRET`) |
//! | `CACHEWATCH_TOPIC_ARN` | the stack's topic, which every cluster should publish to |
//! | `CACHEWATCH_ALARM_TOPIC_ARN` | the stack's alarm topic: a scheduled canary that is lost is published there |
//! | `CACHEWATCH_INGEST_ARN` | the ingest function, which should be subscribed to the topic (the daily audit checks it) |
//! | `CACHEWATCH_DEAD_LETTER_QUEUE_URL` | the dead-letter queue, which should be empty (the daily audit checks it) |
//! | `CACHEWATCH_LOOKBACK_MINUTES` | how far back each poll reads DescribeEvents (default 60) |
//! | `CACHEWATCH_SPOKE_EXTERNAL_ID` | the external id the spokes' reader roles require (`[[spokes]]` of the configuration; `infra/spoke.yaml`) |
//! | `CACHEWATCH_DIGEST_HOUR` | the hour (0–23, in `CACHEWATCH_TZ`) from which the daily digest and coverage audit are posted (default 9) |
//! | `CACHEWATCH_RUNBOOK_DIR` | runbook templates replacing the embedded ones (a layer, say) |
//!
//! and the standard AWS variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...). A variable that is set
//! but wrong stops the cold start with a message that names it: a function that cannot alert must
//! say so at once, not at 5 a.m.

use aws_config::SdkConfig;
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::config::{Config, ConfigError};
use cachewatch_core::links::{LinkSettingsError, LinkSigner};
use cachewatch_core::model::timefmt::{BadZone, Zone};
use cachewatch_core::runbook::Runbooks;
use chrono::{Duration, Utc};

use crate::alert_path::{AlertPath, PathSettings};
use crate::chat::{Chat, ChatConfigError, chat_with_outputs};
use crate::dynamo::DynamoStore;
use crate::elasticache::ElastiCache;
use crate::files::{FileError, read_runbooks};
use crate::placed_facts::PlacedFacts;
use crate::secrets::{SecretError, Secrets};

/// How far back a poll reads DescribeEvents unless `CACHEWATCH_LOOKBACK_MINUTES` says otherwise.
pub const DEFAULT_LOOKBACK: Duration = Duration::minutes(60);
/// The hour of the team's day from which the daily report is posted, unless
/// `CACHEWATCH_DIGEST_HOUR` says otherwise.
pub const DEFAULT_DIGEST_HOUR: u32 = 9;

/// Everything a function works with.
#[derive(Debug)]
pub struct Deployment {
    /// The history.
    pub store: DynamoStore,
    /// ElastiCache with the stack's own credentials: DescribeEvents, service updates, coverage.
    pub elasticache: ElastiCache,
    /// Facts for alerts, runbooks and routes by tag: read in the event's own account and Region
    /// (the stack's own, or a spoke's through its role).
    pub facts: PlacedFacts,
    /// The chat, when Slack is configured.
    pub chat: Option<Chat>,
    /// The runbooks.
    pub runbooks: Runbooks,
    /// The team's configuration, from the file (the use cases add the mutes set in Slack).
    pub config: Config,
    /// How alerts are sent.
    pub notify: NotifySettings,
    /// The named secrets.
    pub secrets: Secrets,
    /// The stack's topic.
    pub topic_arn: Option<String>,
    /// The stack's alarm topic, when there is one.
    pub alarm_topic_arn: Option<String>,
    /// SNS and SQS, for the audit of the alert path.
    pub alert_path: AlertPath,
    /// The ingest function subscribed to the topic, when known.
    pub ingest_endpoint: Option<String>,
    /// The dead-letter queue, when known.
    pub dead_letter_queue: Option<String>,
    /// How far back a poll reads.
    pub lookback: Duration,
    /// The hour of the team's day from which the daily report is posted.
    pub digest_hour: u32,
    /// The AWS configuration the clients were built from: a spoke's role is assumed with it.
    pub aws: SdkConfig,
}

/// Why a function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// A required variable is missing.
    #[error("{0} is not set: the stack sets it; set it when running the function elsewhere")]
    Missing(&'static str),
    /// The configuration does not read.
    #[error("CACHEWATCH_CONFIG_TOML: {0}")]
    Config(#[source] ConfigError),
    /// The secret cannot be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Slack's settings, or an output beyond Slack's (the webhook, Amazon Q Developer), do not
    /// work.
    #[error(transparent)]
    Chat(#[from] ChatConfigError),
    /// The zone is not one.
    #[error("CACHEWATCH_TZ: {0}")]
    Zone(#[source] BadZone),
    /// The link secret or lifetime does not work.
    #[error(transparent)]
    Links(#[from] LinkSettingsError),
    /// A runbook override does not read.
    #[error(transparent)]
    Runbooks(#[from] FileError),
    /// A number that is not one, or out of range.
    #[error("{name} must be {what}, not {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// What it must be.
        what: &'static str,
        /// Its value.
        value: String,
    },
}

impl Deployment {
    /// The deployment the process environment describes, for the function `function` (its name
    /// tells concurrent senders apart).
    pub async fn from_env(function: &str) -> Result<Self, DeploymentError> {
        let sdk = crate::aws::load().await;
        Self::from_lookup(&sdk, |name| std::env::var(name).ok(), function).await
    }

    /// The deployment `env` describes, with AWS clients from `sdk`.
    pub async fn from_lookup(
        sdk: &SdkConfig,
        env: impl Fn(&str) -> Option<String>,
        function: &str,
    ) -> Result<Self, DeploymentError> {
        let value = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let table =
            value("CACHEWATCH_TABLE").ok_or(DeploymentError::Missing("CACHEWATCH_TABLE"))?;
        let config = match env("CACHEWATCH_CONFIG_TOML") {
            Some(text) => Config::from_toml(&text).map_err(DeploymentError::Config)?,
            None => Config::default(),
        };
        let zone: Zone = value("CACHEWATCH_TZ")
            .unwrap_or_default()
            .parse()
            .map_err(DeploymentError::Zone)?;
        let (lookback, digest_hour) = schedule(&value)?;
        let secrets = match value("CACHEWATCH_SECRET_ARN") {
            Some(arn) => Secrets::read(&aws_sdk_secretsmanager::Client::new(sdk), &arn).await?,
            None => Secrets::default(),
        };
        let lookup = secrets.lookup(&env);
        let (chat, channel) = match chat_with_outputs(&lookup, &config, Some(sdk))? {
            Some((chat, channel)) => (Some(chat), channel),
            None => (None, value("SLACK_CHANNEL")),
        };
        let notify = notify_settings(&value, &lookup, channel, zone, function)?;
        drop(lookup);
        let runbook_dir = value("CACHEWATCH_RUNBOOK_DIR").map(std::path::PathBuf::from);
        let runbooks = read_runbooks(runbook_dir.as_deref())?;
        let spoke_external_id = value("CACHEWATCH_SPOKE_EXTERNAL_ID");
        let own = value("CACHEWATCH_TOPIC_ARN")
            .and_then(|topic| own_place(&topic, sdk.region().map(|r| r.as_ref())));
        let facts = PlacedFacts::new(
            ElastiCache::from_sdk_config(sdk),
            own,
            &config,
            sdk,
            spoke_external_id,
            function,
        );
        Ok(Self {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table),
            elasticache: ElastiCache::from_sdk_config(sdk),
            facts,
            chat,
            runbooks,
            config,
            notify,
            topic_arn: value("CACHEWATCH_TOPIC_ARN"),
            alarm_topic_arn: value("CACHEWATCH_ALARM_TOPIC_ARN"),
            alert_path: AlertPath::from_sdk_config(sdk),
            ingest_endpoint: value("CACHEWATCH_INGEST_ARN"),
            dead_letter_queue: value("CACHEWATCH_DEAD_LETTER_QUEUE_URL"),
            lookback,
            digest_hour,
            secrets,
            aws: sdk.clone(),
        })
    }
}

impl Deployment {
    /// The account and Region the functions read ElastiCache in with their own credentials
    /// (not a spoke's), known without a request: the account of the stack's topic
    /// (`CACHEWATCH_TOPIC_ARN`, in the account that deployed the stack), and the Region of the
    /// clients (Lambda sets `AWS_REGION`), else the topic's. `None` without a topic.
    pub fn own_place(&self) -> Option<(String, String)> {
        own_place(
            self.topic_arn.as_deref()?,
            self.aws.region().map(|r| r.as_ref()),
        )
    }
}

/// The account of `topic_arn` (`arn:aws:sns:REGION:ACCOUNT:NAME`) and `region`, else the topic's.
fn own_place(topic_arn: &str, region: Option<&str>) -> Option<(String, String)> {
    let parts: Vec<&str> = topic_arn.split(':').collect();
    let (Some(topic_region), Some(account)) = (parts.get(3), parts.get(4)) else {
        return None;
    };
    let region = region.filter(|r| !r.is_empty()).unwrap_or(topic_region);
    (!account.is_empty() && !region.is_empty()).then(|| ((*account).to_owned(), region.to_owned()))
}

/// The poller's lookback and the digest's hour, each checked.
fn schedule(value: &dyn Fn(&str) -> Option<String>) -> Result<(Duration, u32), DeploymentError> {
    let number = |name: &'static str, what: &'static str, range: std::ops::RangeInclusive<u32>| {
        value(name)
            .map(|raw| match raw.parse::<u32>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(DeploymentError::NotANumber {
                    name,
                    what,
                    value: raw,
                }),
            })
            .transpose()
    };
    let lookback = number(
        "CACHEWATCH_LOOKBACK_MINUTES",
        "a whole number of minutes, at least 1",
        1..=20_160,
    )?
    .map_or(DEFAULT_LOOKBACK, |m| Duration::minutes(i64::from(m)));
    let digest_hour = number("CACHEWATCH_DIGEST_HOUR", "an hour from 0 to 23", 0..=23)?
        .unwrap_or(DEFAULT_DIGEST_HOUR);
    Ok((lookback, digest_hour))
}

/// How this function sends alerts: its channel, links, buttons and name among senders.
fn notify_settings(
    value: &dyn Fn(&str) -> Option<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
    channel: Option<String>,
    zone: Zone,
    function: &str,
) -> Result<NotifySettings, DeploymentError> {
    let base_url = value("CACHEWATCH_BASE_URL").map(|u| u.trim_end_matches('/').to_owned());
    let links = LinkSigner::from_lookup(lookup)?;
    Ok(NotifySettings {
        channel,
        // Buttons only work where the HTTP function verifies Slack's requests.
        actions: base_url.is_some() && lookup("SLACK_SIGNING_SECRET").is_some(),
        base_url,
        zone,
        holder: format!(
            "{function}/{}",
            value("AWS_LAMBDA_LOG_STREAM_NAME").unwrap_or_else(|| format!(
                "{}-{}",
                std::process::id(),
                Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ))
        ),
        ignore_backoff: false,
        links,
    })
}

impl Deployment {
    /// The links of the alert path to audit, when the stack's topic is known.
    pub fn path_settings(&self) -> Option<PathSettings> {
        self.topic_arn.as_ref().map(|topic| PathSettings {
            topic_arn: topic.clone(),
            ingest_endpoint: self.ingest_endpoint.clone(),
            dead_letter_queue: self.dead_letter_queue.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn sdk() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .build()
    }

    async fn deployment(pairs: &[(&str, &str)]) -> Result<Deployment, DeploymentError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Deployment::from_lookup(&sdk(), |name| env.get(name).cloned(), "cachewatch-test").await
    }

    #[tokio::test]
    async fn the_hub_knows_its_own_account_from_its_topic_and_its_region_from_its_clients() {
        let with_topic = deployment(&[
            ("CACHEWATCH_TABLE", "history"),
            (
                "CACHEWATCH_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:cachewatch",
            ),
        ])
        .await
        .unwrap();
        assert_eq!(
            with_topic.own_place(),
            Some(("123456789012".to_owned(), "eu-west-1".to_owned()))
        );
        let without = deployment(&[("CACHEWATCH_TABLE", "history")])
            .await
            .unwrap();
        assert_eq!(without.own_place(), None);
        assert_eq!(
            own_place("arn:aws:sns:ap-south-1:111122223333:t", None),
            Some(("111122223333".to_owned(), "ap-south-1".to_owned()))
        );
        assert_eq!(own_place("not an arn", Some("eu-west-1")), None);
    }

    #[tokio::test]
    async fn the_table_alone_makes_a_deployment_that_keeps_history_without_slack() {
        let d = deployment(&[("CACHEWATCH_TABLE", "history")])
            .await
            .unwrap();
        assert_eq!(d.store.table(), "history");
        assert!(d.chat.is_none());
        assert!(d.notify.base_url.is_none() && !d.notify.actions);
        assert_eq!(d.lookback, DEFAULT_LOOKBACK);
        assert_eq!(d.digest_hour, DEFAULT_DIGEST_HOUR);
        assert!(d.notify.holder.starts_with("cachewatch-test/"));
    }

    #[tokio::test]
    async fn settings_from_the_environment_are_read_and_a_webhook_needs_no_channel() {
        let d = deployment(&[
            ("CACHEWATCH_TABLE", "history"),
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.example/services/T/B/x",
            ),
            ("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5"),
            (
                "CACHEWATCH_BASE_URL",
                "https://abc.lambda-url.eu-west-1.on.aws/",
            ),
            ("CACHEWATCH_TZ", "Asia/Tokyo"),
            ("CACHEWATCH_LOOKBACK_MINUTES", "90"),
            ("CACHEWATCH_DIGEST_HOUR", "8"),
            (
                "CACHEWATCH_CONFIG_TOML",
                "[[routes]]\nclusters = \"payments-*\"\nchannel = \"#payments\"",
            ),
        ])
        .await
        .unwrap();
        assert!(d.chat.is_some());
        assert_eq!(
            d.notify.base_url.as_deref(),
            Some("https://abc.lambda-url.eu-west-1.on.aws")
        );
        assert!(
            d.notify.actions,
            "a base URL and a signing secret: buttons work"
        );
        assert_eq!(d.notify.zone.to_string(), "Asia/Tokyo");
        assert_eq!(d.lookback, Duration::minutes(90));
        assert_eq!(d.digest_hour, 8);
        assert_eq!(d.config.routes.len(), 1);
    }

    #[tokio::test]
    async fn a_wrong_value_stops_the_start_and_names_its_variable() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[], "CACHEWATCH_TABLE"),
            (
                &[("CACHEWATCH_TABLE", "t"), ("CACHEWATCH_TZ", "Mars/Olympus")],
                "CACHEWATCH_TZ",
            ),
            (
                &[
                    ("CACHEWATCH_TABLE", "t"),
                    ("CACHEWATCH_LOOKBACK_MINUTES", "0"),
                ],
                "CACHEWATCH_LOOKBACK_MINUTES",
            ),
            (
                &[("CACHEWATCH_TABLE", "t"), ("CACHEWATCH_DIGEST_HOUR", "24")],
                "CACHEWATCH_DIGEST_HOUR",
            ),
            (
                &[
                    ("CACHEWATCH_TABLE", "t"),
                    ("CACHEWATCH_CONFIG_TOML", "[alerts\n"),
                ],
                "CACHEWATCH_CONFIG_TOML",
            ),
            (
                &[("CACHEWATCH_TABLE", "t"), ("SLACK_BOT_TOKEN", "xoxb-1")],
                "SLACK_CHANNEL",
            ),
        ];
        for (env, named) in cases {
            let err = deployment(env).await.expect_err(named);
            assert!(err.to_string().contains(named), "{named}: {err}");
        }
    }
}
