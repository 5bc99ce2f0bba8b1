//! Saying what became of a canary: in Slack (the quiet line when it arrived, the loud alarm when
//! it was lost) and, for a lost one, on the stack's alarm topic. `cachewatch canary` and the
//! poller's scheduled canary say it the same way.

use cachewatch_core::alerting::canary::{AlarmTopic, CanaryOutcome};
use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage};
use cachewatch_core::alerting::slack;
use cachewatch_core::model::timefmt::Zone;

/// Where a canary's outcome is said.
#[derive(Debug)]
pub struct Audience<'a, C, A> {
    /// Slack and its channel, when Slack is configured.
    pub slack: Option<(&'a C, &'a str)>,
    /// The alarm topic and its ARN, when one is configured.
    pub alarm: Option<(&'a A, &'a str)>,
    /// The zone of the times said.
    pub zone: Zone,
    /// Who a lost canary mentions in Slack (`[reminders] mention`).
    pub mention: Option<&'a str>,
}

/// What each place answered.
#[derive(Debug)]
pub struct Told {
    /// Slack's answer, when Slack is configured.
    pub slack: Option<Result<PostedMessage, DeliveryError>>,
    /// The alarm topic's answer (the message id, or why not), when the canary was lost and a
    /// topic is configured.
    pub alarm: Option<Result<String, String>>,
}

/// Says `outcome` in Slack and, when the canary was lost, on the alarm topic.
pub async fn tell<C: ChatSink, A: AlarmTopic>(
    outcome: &CanaryOutcome,
    to: Audience<'_, C, A>,
) -> Told {
    let slack = match to.slack {
        Some((chat, channel)) => {
            let message = slack::canary(outcome, to.zone, to.mention);
            Some(chat.post(channel, &message).await)
        }
        None => None,
    };
    let alarm = match (to.alarm, outcome.alarm()) {
        (Some((topic, arn)), Some((subject, message))) => Some(
            topic
                .publish_alarm(arn, &subject, &message)
                .await
                .map_err(|e| e.to_string()),
        ),
        _ => None,
    };
    Told { slack, alarm }
}
