//! `cachewatch canary`: publishes a synthetic ElastiCache-shaped notification to the stack's
//! topic and waits, bounded, for it to appear in the history: proof that the alert path carries
//! a message end to end. It is stored as a canary, never alerted, and kept out of normal searches.
//!
//! With Slack configured, the result is posted there and Slack's answer confirms the post. A
//! canary that does not arrive alerts loudly: in Slack, and on the stack's alarm topic.

use std::io::Write;
use std::time::Duration;

use anyhow::anyhow;
use cachewatch_adapters::alert_path::AlertPath;
use cachewatch_app::canary::Audience;
use cachewatch_core::alerting::canary::{
    Canary, CanaryOutcome, CanaryTopic as _, arrived, canaries_since,
};
use cachewatch_core::history::store::EventStore;
use chrono::Utc;

use super::notify::configured_chat;
use super::{Context, Failure};
use crate::args::CanaryArgs;

/// How often the history is read while waiting.
const POLL: Duration = Duration::from_millis(250);

/// `value` as an SNS topic ARN, or why not (named by `flag`).
fn topic_arn(value: Option<&str>, flag: &str) -> Result<Option<String>, Failure> {
    let Some(value) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let parts: Vec<&str> = value.split(':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "sns"
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_graphic()));
    if !valid {
        return Err(Failure::Input(anyhow!(
            "{flag} {:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            value.chars().take(200).collect::<String>()
        )));
    }
    Ok(Some(value.to_owned()))
}

/// Publishes a canary to `topic` and waits, at most `wait`, for it to reach the history.
async fn publish_and_wait<S: EventStore>(
    ctx: &Context<S>,
    path: &AlertPath,
    topic: &str,
    wait: Duration,
) -> Result<CanaryOutcome, Failure> {
    // To the millisecond, as the body's `Date` carries it: the digest times it the same way.
    let canary = Canary::at(Utc::now());
    let (id, published_at) = (canary.id.clone(), canary.published_at);
    path.publish_canary(topic, &canary)
        .await
        .map_err(|e| Failure::Other(anyhow!(e).context("cannot publish the canary")))?;
    let query = canaries_since(published_at - chrono::Duration::minutes(5));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let events = ctx.store.search(&query).await?;
        if let Some(event) = arrived(&events, &id) {
            let zero = chrono::Duration::zero();
            return Ok(CanaryOutcome::of(
                &id,
                topic,
                published_at,
                Some(event),
                zero,
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            let waited = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            return Ok(CanaryOutcome::of(&id, topic, published_at, None, waited));
        }
        tokio::time::sleep(POLL).await;
    }
}

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &CanaryArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let topic = topic_arn(args.topic.as_deref(), "--topic")?.ok_or_else(|| {
        Failure::Input(anyhow!(
            "which topic? --topic ARN or CACHEWATCH_TOPIC_ARN (the stack's TopicArn output)"
        ))
    })?;
    let alarm_topic = topic_arn(args.alarm_topic.as_deref(), "--alarm-topic")?;
    if ctx.elasticache.is_none() {
        return Err(Failure::Input(anyhow!(
            "the canary is looked for in the deployed history: --store dynamodb --table NAME"
        )));
    }
    // Read before publishing: a configuration mistake is said before anything is sent.
    let chat = configured_chat(ctx).await?;
    let path = AlertPath::from_sdk_config(&cachewatch_adapters::aws::load().await);
    let outcome = publish_and_wait(ctx, &path, &topic, Duration::from_secs(args.wait)).await?;
    // Slack: the quiet line, or the loud alarm; either way Slack's answer is the confirmation.
    let slack = chat
        .as_ref()
        .filter(|(chat, _)| chat.has_slack())
        .map(|(chat, channel)| (chat, channel.as_deref().unwrap_or_default()));
    let audience = Audience {
        slack,
        alarm: alarm_topic.as_deref().map(|arn| (&path, arn)),
        zone: ctx.zone,
        mention: ctx.config.reminders.mention.as_deref(),
    };
    let told = cachewatch_app::canary::tell(&outcome, audience).await;
    match outcome {
        CanaryOutcome::Arrived { .. } => {
            writeln!(out, "{}", outcome.sentence())?;
            match told.slack {
                Some(Ok(message)) if message.ts.is_empty() => {
                    writeln!(out, "Slack accepted the post.")?;
                }
                Some(Ok(message)) => {
                    writeln!(out, "Slack confirmed the post (message {}).", message.ts)?;
                }
                Some(Err(reason)) => {
                    return Err(Failure::Other(anyhow!(
                        "the canary arrived, but Slack refused its post: {reason}"
                    )));
                }
                None => writeln!(out, "No Slack configured: nothing posted.")?,
            }
            Ok(())
        }
        CanaryOutcome::Lost { .. } => {
            let slack = match told.slack {
                Some(Ok(_)) => "alerted in Slack".to_owned(),
                Some(Err(reason)) => format!("Slack refused the alarm: {reason}"),
                None => "no Slack configured".to_owned(),
            };
            let alarm = match (told.alarm, &alarm_topic) {
                (Some(Ok(_)), Some(arn)) => format!("alarm published to {arn}"),
                (Some(Err(e)), Some(arn)) => format!("cannot publish the alarm to {arn}: {e}"),
                _ => "no alarm topic (--alarm-topic)".to_owned(),
            };
            Err(Failure::Other(anyhow!(
                "{} ({slack}; {alarm})",
                outcome.sentence()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_must_be_an_sns_arn() {
        let ok = "arn:aws:sns:eu-west-1:123456789012:cachewatch";
        assert_eq!(topic_arn(Some(ok), "--topic").unwrap().as_deref(), Some(ok));
        assert!(topic_arn(Some("  "), "--topic").unwrap().is_none());
        for bad in [
            "cachewatch",
            "arn:aws:sqs:eu-west-1:123456789012:q",
            "arn:aws:sns:eu-west-1:123456789012:a b",
            "arn:aws:sns:eu-west-1::x",
        ] {
            assert!(
                matches!(topic_arn(Some(bad), "--topic"), Err(Failure::Input(_))),
                "{bad}"
            );
        }
    }
}
