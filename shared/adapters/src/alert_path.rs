//! The alert path past the clusters, read and repaired over SNS and SQS: the topic's attributes
//! (`Policy`, `KmsMasterKeyId`), its subscriptions, the dead-letter queue's depth; setting the
//! policy, subscribing the ingest endpoint, and publishing (the canary).
//!
//! What to make of what is read is decided by [`cachewatch_core::alerting::alert_path::audit_path`].

use aws_config::SdkConfig;
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use cachewatch_core::alerting::alert_path::{
    DeadLetters, PathAudit, PathFacts, PathFix, TopicSubscription, audit_path,
};
use cachewatch_core::alerting::canary::{
    AlarmTopic, CANARY_MESSAGE_ATTRIBUTE, Canary, CanaryTopic,
};
use cachewatch_core::fleet::audit_coverage;

use crate::elasticache::{ElastiCache, ElastiCacheError};

/// Why a link could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum AlertPathError {
    /// An SNS or SQS call failed.
    #[error("{operation} failed{}", crate::aws::describe(.code, .message))]
    Call {
        /// The call (`GetTopicAttributes`).
        operation: &'static str,
        /// The AWS error code, when there is one (`NotFound`, `AuthorizationError`).
        code: Option<String>,
        /// The AWS error message, when there is one.
        message: Option<String>,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The clusters could not be read.
    #[error("cannot list the clusters: {0}")]
    Clusters(#[from] ElastiCacheError),
    /// A request could not be built.
    #[error("the SNS request could not be built: {0}")]
    Build(#[from] aws_sdk_sns::error::BuildError),
    /// SQS answered a depth that is not a number.
    #[error("SQS GetQueueAttributes answered {0:?} messages, not a number")]
    Depth(String),
}

impl AlertPathError {
    fn call<E>(operation: &'static str, err: E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Self::Call {
            operation,
            code: err.code().map(str::to_owned),
            message: err.message().map(str::to_owned),
            source: Box::new(err),
        }
    }
}

/// Where the path goes: the topic, and optionally the ingest endpoint and the dead-letter queue.
#[derive(Debug, Clone, Default)]
pub struct PathSettings {
    /// The stack's topic.
    pub topic_arn: String,
    /// The ingest function's ARN (or an HTTP endpoint's URL), when known.
    pub ingest_endpoint: Option<String>,
    /// The dead-letter queue's URL, when known.
    pub dead_letter_queue: Option<String>,
}

/// SNS and SQS, for the alert path.
#[derive(Debug, Clone)]
pub struct AlertPath {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
}

impl AlertPath {
    /// Clients from `sdk`.
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Self {
            sns: aws_sdk_sns::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }

    /// Every link: the clusters' topics from `elasticache`, the rest from SNS and SQS.
    pub async fn audit(
        &self,
        elasticache: &ElastiCache,
        settings: &PathSettings,
    ) -> Result<PathAudit, AlertPathError> {
        let fleet = elasticache.coverage().await?;
        let facts = self.facts(settings).await?;
        Ok(audit_path(
            audit_coverage(&fleet, &settings.topic_arn),
            &facts,
        ))
    }

    /// What SNS and SQS say of the links past the clusters.
    pub async fn facts(&self, settings: &PathSettings) -> Result<PathFacts, AlertPathError> {
        let topic = settings.topic_arn.as_str();
        let attributes = self
            .sns
            .get_topic_attributes()
            .topic_arn(topic)
            .send()
            .await
            .map_err(|e| AlertPathError::call("SNS GetTopicAttributes", e.into_service_error()))?;
        let attribute = |name: &str| attributes.attributes().and_then(|a| a.get(name)).cloned();
        let dead_letters = match &settings.dead_letter_queue {
            Some(queue) => Some(DeadLetters {
                queue: queue.clone(),
                messages: self.depth(queue).await?,
            }),
            None => None,
        };
        Ok(PathFacts {
            policy: attribute("Policy"),
            kms_master_key_id: attribute("KmsMasterKeyId"),
            subscriptions: self.subscriptions(topic).await?,
            ingest_endpoint: settings.ingest_endpoint.clone(),
            dead_letters,
        })
    }

    /// Every subscription of `topic`, through every page.
    async fn subscriptions(&self, topic: &str) -> Result<Vec<TopicSubscription>, AlertPathError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(topic)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    AlertPathError::call("SNS ListSubscriptionsByTopic", e.into_service_error())
                })?;
            out.extend(page.subscriptions().iter().map(|s| TopicSubscription {
                protocol: s.protocol().unwrap_or_default().to_owned(),
                endpoint: s.endpoint().unwrap_or_default().to_owned(),
                subscription_arn: s.subscription_arn().unwrap_or_default().to_owned(),
            }));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    /// How many messages wait in `queue`, visible or being received.
    async fn depth(&self, queue: &str) -> Result<u64, AlertPathError> {
        let answer = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| AlertPathError::call("SQS GetQueueAttributes", e.into_service_error()))?;
        let mut total = 0;
        for (_, value) in answer.attributes().into_iter().flatten() {
            total += value
                .parse::<u64>()
                .map_err(|_| AlertPathError::Depth(value.clone()))?;
        }
        Ok(total)
    }

    /// Makes one change of `--fix` on `topic`.
    pub async fn apply(&self, topic: &str, fix: &PathFix) -> Result<(), AlertPathError> {
        match fix {
            PathFix::Policy { policy, .. } => {
                self.sns
                    .set_topic_attributes()
                    .topic_arn(topic)
                    .attribute_name("Policy")
                    .attribute_value(policy)
                    .send()
                    .await
                    .map_err(|e| {
                        AlertPathError::call("SNS SetTopicAttributes", e.into_service_error())
                    })?;
            }
            PathFix::Subscribe { protocol, endpoint } => {
                self.sns
                    .subscribe()
                    .topic_arn(topic)
                    .protocol(protocol)
                    .endpoint(endpoint)
                    .return_subscription_arn(true)
                    .send()
                    .await
                    .map_err(|e| AlertPathError::call("SNS Subscribe", e.into_service_error()))?;
            }
        }
        Ok(())
    }
}

impl AlarmTopic for AlertPath {
    type Error = AlertPathError;

    /// Publishes an alarm (`subject`, `message`) to `topic`, the stack's alarm topic; answers
    /// SNS's message id.
    async fn publish_alarm(
        &self,
        topic: &str,
        subject: &str,
        message: &str,
    ) -> Result<String, AlertPathError> {
        let published = self
            .sns
            .publish()
            .topic_arn(topic)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map_err(|e| AlertPathError::call("SNS Publish", e.into_service_error()))?;
        Ok(published.message_id().unwrap_or_default().to_owned())
    }
}

impl CanaryTopic for AlertPath {
    type Error = AlertPathError;

    /// Publishes `canary` to `topic`, carrying the canary message attribute; answers SNS's
    /// message id.
    async fn publish_canary(&self, topic: &str, canary: &Canary) -> Result<String, AlertPathError> {
        let marker = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(&canary.id)
            .build()?;
        let body = canary.body();
        let published = self
            .sns
            .publish()
            .topic_arn(topic)
            .subject("cachewatch canary")
            .message(body)
            .message_attributes(CANARY_MESSAGE_ATTRIBUTE, marker)
            .send()
            .await
            .map_err(|e| AlertPathError::call("SNS Publish", e.into_service_error()))?;
        Ok(published.message_id().unwrap_or_default().to_owned())
    }
}
