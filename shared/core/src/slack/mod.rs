//! Slack messages as data: what an alert, a reply in its thread, a grouped message or a checklist
//! says, built as Block Kit values. The adapter only sends them; the wording, the escaping of
//! event text (`&`, `<`, `>`) and Slack's size limits are decided here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A message to post or to put in place of an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// The notification text, and what is shown where blocks are not (at most 3,000 characters,
    /// escaped for Slack).
    pub text: String,
    /// Block Kit blocks (at most 50).
    pub blocks: Vec<serde_json::Value>,
    /// The thread to reply in, if any.
    pub thread_ts: Option<String>,
    /// What cachewatch knows the message is about, stored with the message by Slack so that a
    /// send whose answer was lost can be recognised later.
    pub metadata: Option<MessageMetadata>,
}

/// Slack message metadata (`metadata.event_type` and `metadata.event_payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMetadata {
    /// `cachewatch_alert`, `cachewatch_update`, ...
    pub event_type: String,
    /// String values only.
    pub event_payload: BTreeMap<String, String>,
}

/// The metadata event type of every message cachewatch posts.
pub const METADATA_EVENT_TYPE: &str = "cachewatch_message";

/// The payload key that names a message's delivery (see [`crate::delivery`]).
pub const DELIVERY_KEY: &str = "delivery";

impl MessageMetadata {
    /// Metadata naming the delivery a message carries out.
    pub fn for_delivery(key: &str) -> Self {
        Self {
            event_type: METADATA_EVENT_TYPE.to_owned(),
            event_payload: [(DELIVERY_KEY.to_owned(), key.to_owned())].into(),
        }
    }

    /// The delivery a message carries out, if it is one of cachewatch's.
    pub fn delivery_key(&self) -> Option<&str> {
        (self.event_type == METADATA_EVENT_TYPE)
            .then(|| self.event_payload.get(DELIVERY_KEY).map(String::as_str))
            .flatten()
    }
}
