//! The reminder posted in a maintenance's thread while nobody has acknowledged it.

use chrono::{DateTime, Utc};

use super::blockkit::{Block, Text};
use super::mrkdwn::{self, DateStyle};
use super::{MessageMetadata, SlackMessage, limits};
use crate::lifecycle::Maintenance;
use crate::model::timefmt::{self, Zone};

/// What a reminder says.
#[derive(Debug, Clone, Copy)]
pub struct ReminderText<'a> {
    /// The maintenance.
    pub maintenance: &'a Maintenance,
    /// Its deadline (the start of its window).
    pub deadline: DateTime<Utc>,
    /// Whom it mentions: a Slack mention checked by [`mrkdwn::is_mention`].
    pub mention: Option<&'a str>,
    /// The key of the step, carried in the message's metadata.
    pub key: &'a str,
    /// The thread it replies in.
    pub thread_ts: &'a str,
    /// When it is posted.
    pub now: DateTime<Utc>,
}

/// `@platform Nobody has acknowledged the replacement of `orders-0001-002` node `0001`; its window
/// opens <date> (in 24 hours). Acknowledge it with the button above or `/cachewatch ack <id>`.`
pub fn reminder(r: &ReminderText<'_>, zone: Zone) -> SlackMessage {
    let m = r.maintenance;
    let left = timefmt::human_duration(r.deadline - r.now);
    let body = format!(
        "Nobody has acknowledged the maintenance of {}: its window opens {} (in {}). Acknowledge it with the button above or {}.",
        mrkdwn::code(&m.subject_label()),
        mrkdwn::date(r.deadline, zone, DateStyle::DateTime),
        mrkdwn::escape_line(&left),
        mrkdwn::code(&format!("/cachewatch ack {}", m.id)),
    );
    let fallback = format!(
        "Nobody has acknowledged the maintenance of {}: its window opens {} (in {left}).",
        mrkdwn::escape_line(&m.subject_label()),
        mrkdwn::escape_line(&zone.format(r.deadline)),
    );
    // A mention is only `<`, `!subteam^` or `@`, an id and `>`: it is kept as is so that Slack
    // notifies the people it names; anything else is left out.
    let lead = r
        .mention
        .filter(|m| mrkdwn::is_mention(m))
        .map(|m| format!("{m} "))
        .unwrap_or_default();
    SlackMessage {
        text: mrkdwn::truncate(&format!("{lead}{fallback}"), limits::MESSAGE_TEXT),
        blocks: vec![Block::section(Text::mrkdwn(mrkdwn::truncate(
            &format!("⏰ {lead}{body}"),
            2900,
        )))],
        thread_ts: Some(r.thread_ts.to_owned()),
        metadata: Some(MessageMetadata::for_delivery(r.key)),
    }
}
