//! `POST /sns`: an SNS HTTP(S) subscription endpoint.
//!
//! Every message is verified first ([`verify`]): from SNS, for an allowed topic. Then:
//! - `SubscriptionConfirmation`: the `SubscribeURL`, checked, is visited: the subscription is
//!   confirmed;
//! - `Notification`: the fields SNS signed, and only those, go through the one ingest entry
//!   (`cachewatch_app::ingest`): read, stored, and the alerts of what is new recorded and sent,
//!   with the mutes set in Slack;
//! - `UnsubscribeConfirmation`: noted in the log.
//!
//! Answers follow SNS's retry rules: a message that can never pass (not SNS's, not ours, not an
//! event) gets a 4xx and is not sent again; a passing failure on our side (the certificate or the
//! store unavailable) gets a 5xx, and SNS delivers again, reusing the `MessageId`: ingest is
//! idempotent. Retried and replayed notifications store and alert nothing twice.

pub mod fetch;
pub mod message;
pub mod verify;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cachewatch_app::{Alerting, Alerts, Door, IngestError, IngestRequest, Input};
use chrono::Utc;
use serde_json::json;

use crate::door::{App, Parts};
pub use fetch::{FetchError, HttpsFetcher, SnsFetcher};
pub use message::{MessageType, SignatureVersion, SnsMessage};
pub use verify::{SnsVerifier, VerifyError};

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `POST /sns`.
pub(crate) async fn receive<P: Parts>(State(app): State<Arc<App<P>>>, body: Bytes) -> Response {
    let now = Utc::now();
    let message = match SnsMessage::parse(&body) {
        Ok(message) => message,
        Err(e) => {
            tracing::warn!(error = %e, "/sns: not an SNS message");
            return answer(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}));
        }
    };
    if let Err(e) = app.sns.verify(&message, now).await {
        tracing::warn!(error = %e, topic = %message.topic_arn, message_id = %message.message_id, "/sns: message refused");
        let status = if e.is_retryable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::FORBIDDEN
        };
        return answer(status, json!({"error": e.to_string()}));
    }
    match message.kind {
        MessageType::SubscriptionConfirmation => confirm(&app, &message).await,
        MessageType::UnsubscribeConfirmation => {
            tracing::warn!(topic = %message.topic_arn, "/sns: the subscription was removed");
            answer(StatusCode::OK, json!({"unsubscribed": message.topic_arn}))
        }
        MessageType::Notification => notification(&app, &message, now).await,
    }
}

async fn confirm<P: Parts>(app: &App<P>, message: &SnsMessage) -> Response {
    let url = match verify::check_subscribe_url(
        message.subscribe_url.as_deref().unwrap_or_default(),
        &message.topic_arn,
    ) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "/sns: confirmation refused");
            return answer(StatusCode::FORBIDDEN, json!({"error": e.to_string()}));
        }
    };
    match app.sns.fetcher().confirm_subscription(&url).await {
        Ok(()) => {
            tracing::info!(topic = %message.topic_arn, "/sns: subscription confirmed");
            answer(StatusCode::OK, json!({"confirmed": message.topic_arn}))
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "/sns: the subscription could not be confirmed");
            answer(StatusCode::BAD_GATEWAY, json!({"error": e.to_string()}))
        }
    }
}

async fn notification<P: Parts>(
    app: &App<P>,
    message: &SnsMessage,
    now: chrono::DateTime<Utc>,
) -> Response {
    let ports = app.ports();
    let document = message.signed_document();
    let request = IngestRequest {
        door: Door::Sns,
        input: Input::Document(&document),
        config: &app.config,
        settings: &app.notify,
        alerting: Alerting::Now,
        progress: None,
        now,
    };
    let ingested = match cachewatch_app::ingest(ports, request).await {
        Ok(ingested) => ingested,
        Err(IngestError::Parse(e)) => {
            // From SNS, for our topic, but not an ElastiCache event: sending it again won't help.
            tracing::error!(error = %e, "/sns: a notification carries no ElastiCache event");
            return answer(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}));
        }
        Err(IngestError::Store(e)) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "/sns: the store failed");
            let status = if e.is_retryable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return answer(status, json!({"error": e.to_string()}));
        }
    };
    // The events are stored: an alert that cannot be sent now stays pending for the next run.
    let sent = match &ingested.alerts {
        Alerts::NotSent => 0,
        Alerts::Sent(report) => {
            for (id, reason) in &report.failed {
                tracing::error!(event = %id, %reason, "Slack refused an alert");
            }
            report.sent.len()
        }
        Alerts::Failed(e) => {
            tracing::error!(error = %e, "/sns: stored, but the alerts could not be sent yet");
            0
        }
    };
    let outcome = &ingested.outcome;
    answer(
        StatusCode::OK,
        json!({"events": outcome.events.len(), "new": outcome.new_count(), "alerts_sent": sent}),
    )
}

#[cfg(test)]
mod test_signer;
#[cfg(test)]
mod tests;
