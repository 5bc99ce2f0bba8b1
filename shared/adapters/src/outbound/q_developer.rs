//! [`QDeveloperTopic`]: each alert published to an SNS topic as an Amazon Q Developer in chat
//! applications custom notification
//! (<https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>), which the
//! service posts to the chat channels the topic is mapped to. ElastiCache's own notifications are
//! not in a format it posts; this one is.
//!
//! The SDK retries throttling, server errors and timeouts itself (its standard retry mode); what
//! is left is a [`DeliveryError::Retryable`], and a refusal that no retry mends (no permission, no
//! such topic, a bad parameter) a [`DeliveryError::Permanent`] with SNS's code.

use aws_config::SdkConfig;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use cachewatch_core::alerting::delivery::DeliveryError;
use cachewatch_core::alerting::outbound::{OutboundEvent, q_developer_message};

/// SNS's codes for a refusal that trying again will not change.
const REFUSALS: &[&str] = &[
    "AuthorizationError",
    "NotFound",
    "NotFoundException",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidSecurity",
    "KMSDisabled",
    "KMSInvalidState",
    "KMSNotFound",
    "KMSAccessDenied",
    "EndpointDisabled",
    "AccessDenied",
    "AccessDeniedException",
];

/// The topic Amazon Q Developer reads.
#[derive(Debug, Clone)]
pub struct QDeveloperTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl QDeveloperTopic {
    /// Publishes to `topic_arn` with the standard AWS configuration, in the topic's own Region
    /// (the fourth field of its ARN).
    pub fn new(sdk: &SdkConfig, topic_arn: &str) -> Self {
        let mut config = aws_sdk_sns::config::Builder::from(sdk);
        if let Some(region) = topic_arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            config = config.region(aws_sdk_sns::config::Region::new(region.to_owned()));
        }
        Self {
            client: aws_sdk_sns::Client::from_conf(config.build()),
            topic_arn: topic_arn.to_owned(),
        }
    }

    /// The topic.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes one alert.
    pub async fn send(&self, event: &OutboundEvent) -> Result<(), DeliveryError> {
        let message = serde_json::to_string(&q_developer_message(event)).map_err(|e| {
            DeliveryError::Permanent {
                code: "unencodable".into(),
                detail: e.to_string(),
            }
        })?;
        match self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err @ SdkError::ServiceError(_))
                if err.code().is_some_and(|c| REFUSALS.contains(&c)) =>
            {
                Err(DeliveryError::Permanent {
                    code: err.code().unwrap_or_default().to_owned(),
                    detail: err.message().unwrap_or_default().to_owned(),
                })
            }
            Err(err) => Err(DeliveryError::Retryable {
                reason: format!(
                    "SNS did not take the notification: {}",
                    err.code().unwrap_or("no answer")
                ),
                retry_after: None,
            }),
        }
    }
}
