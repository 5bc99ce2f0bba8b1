//! Slack messages as data: what an alert, a reply in its thread, a grouped message or a checklist
//! says, built as Block Kit values. The adapter only sends them; the wording, the escaping of
//! event text (`&`, `<`, `>`) and Slack's size limits are decided here.
//!
//! - [`alert`]: the thread parent of a maintenance, showing its current state (also what
//!   replaces the parent with `chat.update`);
//! - [`update`]: a reply in the thread, for one event;
//! - [`grouped`]: one summary for many new maintenances hitting a channel at once;
//! - [`checklist`]: a rendered runbook as checklist messages for the thread;
//! - [`to_text`]: any of them as plain text, for a terminal;
//! - [`blockkit`]: the Block Kit types they are made of (and the modal the HTTP door opens).
//!
//! Every message is within Slack's limits whatever the event holds ([`limits::check`] says
//! so), and no text from an event can mention, ping or link anyone: in mrkdwn, `<` only ever
//! opens a date token cachewatch wrote. Times are `<!date^…>` tokens, which Slack shows in each
//! reader's own zone, with a fallback in the team's zone. Messages come without `thread_ts` and
//! `metadata`: which thread and which delivery they belong to is the sender's business.

mod alert;
pub mod blockkit;
mod blocks;
mod burst;
mod canary;
mod checklist;
pub mod digest;
mod grouped;
pub mod limits;
pub mod mrkdwn;
mod plain;
mod reminder;
mod situation;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::facts::ClusterFacts;
use crate::lifecycle::Maintenance;
use crate::model::event::MaintenanceEvent;
use crate::model::timefmt::Zone;
use crate::runbook::Owners;

pub use alert::{alert, update};
pub use blockkit::Block;
pub use burst::{ANNOUNCED_PER_MESSAGE, announcements, shared_checklist_intro};
pub use canary::canary;
pub use checklist::{checklist, shared_checklist};
pub use digest::{alert_path, coverage, digest};
pub use grouped::grouped;
pub use plain::to_text;
pub use reminder::{ReminderText, reminder};

/// The `action_id` of the button that acknowledges an alert.
pub const ACTION_ACKNOWLEDGE: &str = "cachewatch_acknowledge";
/// The `action_id` of the button that posts the runbook checklist in the thread.
pub const ACTION_CHECKLIST: &str = "cachewatch_checklist";
/// The `action_id` of the button that records how a maintenance went.
pub const ACTION_OUTCOME: &str = "cachewatch_outcome";
/// The `action_id` of the button that opens the runbook page (Slack sends an interaction for
/// link buttons too; it needs no answer beyond the acknowledgement).
pub const ACTION_RUNBOOK: &str = "cachewatch_runbook";

/// Who acknowledged an alert, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The person, as shown: a Slack user name or id (shown as text, never as a mention).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Everything a message about one event of one maintenance is built from.
#[derive(Debug, Clone)]
pub struct AlertContext<'a> {
    /// The event the message is about (for [`alert`], the maintenance's latest event).
    pub event: &'a MaintenanceEvent,
    /// Its maintenance, in its current state (`None` outside a lifecycle).
    pub maintenance: Option<&'a Maintenance>,
    /// The maintenance's events in the order they happened (or just the event).
    pub events: &'a [MaintenanceEvent],
    /// The maintenance `maintenance.repeat_of` names, when it is a repeat.
    pub previous: Option<&'a Maintenance>,
    /// What enrichment knows about the cluster (maybe nothing, or why the lookup failed).
    pub facts: &'a ClusterFacts,
    /// The runbook page, when a base URL is configured.
    pub runbook_url: Option<String>,
    /// How the two teams are called.
    pub owners: &'a Owners,
    /// Now: distances are measured from it.
    pub now: DateTime<Utc>,
    /// The zone of fallback and plain texts (Slack readers see their own).
    pub zone: Zone,
    /// Whether to add the Acknowledge, Post checklist and Record outcome buttons.
    pub actions: bool,
    /// Who acknowledged the alert, if someone has.
    pub acknowledged: Option<Acknowledgement>,
    /// The names of AWS accounts, by id (`[accounts]` of `cachewatch.toml`).
    pub accounts: &'a BTreeMap<String, String>,
}

/// No account names.
pub static NO_ACCOUNT_NAMES: BTreeMap<String, String> = BTreeMap::new();

impl<'a> AlertContext<'a> {
    /// A context for `event` alone: no maintenance, no link, no buttons, UTC.
    pub fn new(
        event: &'a MaintenanceEvent,
        facts: &'a ClusterFacts,
        owners: &'a Owners,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            event,
            maintenance: None,
            events: std::slice::from_ref(event),
            previous: None,
            facts,
            runbook_url: None,
            owners,
            now,
            zone: Zone::Utc,
            actions: false,
            acknowledged: None,
            accounts: &NO_ACCOUNT_NAMES,
        }
    }

    crate::model::about_a_maintenance!('a);
}

/// A message to post or to put in place of an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// The notification text, and what is shown where blocks are not (at most 3,000 characters,
    /// escaped for Slack).
    pub text: String,
    /// Block Kit blocks (at most 50).
    pub blocks: Vec<Block>,
    /// The thread to reply in, if any.
    pub thread_ts: Option<String>,
    /// What cachewatch knows the message is about, stored with the message by Slack so that a
    /// send whose answer was lost can be recognised later.
    pub metadata: Option<MessageMetadata>,
}

impl SlackMessage {
    /// The blocks as JSON, as Slack reads them.
    pub fn blocks_json(&self) -> serde_json::Value {
        // Blocks hold strings, booleans, numbers and lists only: they always serialise.
        serde_json::to_value(&self.blocks).unwrap_or_default()
    }
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

/// The payload key that names a message's delivery (see [`crate::alerting::delivery`]).
pub const DELIVERY_KEY: &str = "delivery";

/// The payload key that names, space-separated, the further deliveries one message carries out
/// (the announcement of many maintenances).
pub const DELIVERIES_KEY: &str = "deliveries";

impl MessageMetadata {
    /// Metadata naming the delivery a message carries out.
    pub fn for_delivery(key: &str) -> Self {
        Self {
            event_type: METADATA_EVENT_TYPE.to_owned(),
            event_payload: [(DELIVERY_KEY.to_owned(), key.to_owned())].into(),
        }
    }

    /// Metadata naming the deliveries one message carries out: `key` for the message itself,
    /// and each of `keys`.
    pub fn for_deliveries(key: &str, keys: &[&str]) -> Self {
        let mut metadata = Self::for_delivery(key);
        metadata
            .event_payload
            .insert(DELIVERIES_KEY.to_owned(), keys.join(" "));
        metadata
    }

    /// The delivery a message carries out, if it is one of cachewatch's.
    pub fn delivery_key(&self) -> Option<&str> {
        (self.event_type == METADATA_EVENT_TYPE)
            .then(|| self.event_payload.get(DELIVERY_KEY).map(String::as_str))
            .flatten()
    }

    /// Whether the message carries out the delivery `key`: its own, or one of those it names.
    pub fn carries(&self, key: &str) -> bool {
        self.delivery_key() == Some(key)
            || (self.event_type == METADATA_EVENT_TYPE
                && self
                    .event_payload
                    .get(DELIVERIES_KEY)
                    .is_some_and(|keys| keys.split(' ').any(|k| k == key)))
    }
}
