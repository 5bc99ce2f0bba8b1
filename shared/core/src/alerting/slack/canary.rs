//! What a canary says in Slack: a quiet line when it arrived, and a loud alarm when it was lost.

use super::SlackMessage;
use super::blocks;
use super::mrkdwn::{self, DateStyle};
use crate::alerting::canary::{CanaryOutcome, seconds};
use crate::model::timefmt::Zone;

/// The message for `outcome`, times written in `zone` where Slack cannot show the reader's own.
/// A lost canary mentions `mention` (the team's default, `[reminders] mention`) when it is a
/// Slack user group or user.
pub fn canary(outcome: &CanaryOutcome, zone: Zone, mention: Option<&str>) -> SlackMessage {
    match outcome {
        CanaryOutcome::Arrived {
            id,
            published_at,
            took,
            ..
        } => {
            let headline = format!("Alert path checked: {} end to end", seconds(*took));
            blocks::message(
                &headline,
                vec![
                    blocks::section(&format!(
                        "✅ *Alert path checked* {}: a test notification went from the topic to \
                         the history in *{}*.",
                        mrkdwn::date(*published_at, zone, DateStyle::DateTime),
                        seconds(*took)
                    )),
                    blocks::context(&[format!("Canary {}", mrkdwn::code(id))]),
                ],
            )
        }
        CanaryOutcome::Lost {
            id,
            topic,
            published_at,
            waited,
        } => {
            let headline = "The alert path lost a canary: alerts may not be arriving";
            let call = mention
                .filter(|m| mrkdwn::is_mention(m))
                .map(|m| format!("{m} "))
                .unwrap_or_default();
            blocks::message(
                headline,
                vec![
                    blocks::header(&format!("🚨 {headline}")),
                    blocks::section(&format!(
                        "{call}A test notification published to {} {} was not in the \
                         history {} later. Alerts for real ElastiCache events may be lost the \
                         same way.",
                        mrkdwn::code(topic),
                        mrkdwn::date(*published_at, zone, DateStyle::DateTime),
                        seconds(*waited)
                    )),
                    blocks::section(
                        "Check each link with `cachewatch audit` (`cachewatch audit --fix` \
                         repairs the topic's policy and the subscription).",
                    ),
                    blocks::context(&[format!("Canary {}", mrkdwn::code(id))]),
                ],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::alerting::slack::limits::check;

    fn at() -> DateTime<Utc> {
        crate::test_support::at("2026-06-23T09:00:00Z")
    }

    #[test]
    fn an_arrived_canary_is_one_quiet_line_with_its_time_end_to_end() {
        let message = canary(
            &CanaryOutcome::Arrived {
                id: "canary-1".into(),
                topic: "arn:aws:sns:eu-west-1:123456789012:cachewatch".into(),
                published_at: at(),
                took: Duration::milliseconds(3_840),
            },
            Zone::Utc,
            Some("<!subteam^S0123>"),
        );
        assert_eq!(check(&message), vec![]);
        let blocks = serde_json::to_string(&message.blocks).unwrap();
        assert!(
            message.text.contains("3.8 s end to end"),
            "{}",
            message.text
        );
        assert!(!blocks.contains("subteam"), "nobody is called: {blocks}");
        assert!(blocks.contains("2026-06-23 09:00"), "{blocks}");
    }

    #[test]
    fn a_lost_canary_calls_the_team_and_escapes_the_topic() {
        let message = canary(
            &CanaryOutcome::Lost {
                id: "canary-2".into(),
                topic: "arn:<!channel>&".into(),
                published_at: at(),
                waited: Duration::seconds(60),
            },
            Zone::Utc,
            Some("<!subteam^S0123>"),
        );
        assert_eq!(check(&message), vec![]);
        let blocks = serde_json::to_string(&message.blocks).unwrap();
        assert!(
            blocks.contains("<!subteam^S0123> A test notification"),
            "{blocks}"
        );
        assert!(blocks.contains("🚨"), "{blocks}");
        assert!(blocks.contains("60.0 s later"), "{blocks}");
        assert!(!blocks.contains("<!channel>"), "{blocks}");
        assert!(blocks.contains("cachewatch audit"), "{blocks}");
    }

    #[test]
    fn a_mention_that_is_not_a_group_or_a_user_is_left_out() {
        let lost = CanaryOutcome::Lost {
            id: "canary-3".into(),
            topic: "arn:aws:sns:eu-west-1:123456789012:cachewatch".into(),
            published_at: at(),
            waited: Duration::seconds(60),
        };
        let message = canary(&lost, Zone::Utc, Some("<!channel>"));
        assert_eq!(check(&message), vec![]);
        let blocks = serde_json::to_string(&message.blocks).unwrap();
        assert!(!blocks.contains("<!channel>"), "{blocks}");
    }
}
