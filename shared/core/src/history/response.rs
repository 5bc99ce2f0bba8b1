//! What people did about a maintenance: acknowledged it, ticked checklist steps, recorded how it
//! went; and the clusters they muted. Recorded from Slack's buttons, the runbook page, and the CLI
//! alike, and read back by alerts (who acknowledged), drill reports (how long each took) and the
//! yearly maintenance log.
//!
//! Everything is recorded against an **event id**: maintenances are named by their first event,
//! which can change when an earlier event arrives late, while event ids never do. A maintenance's
//! responses are those recorded against any of its events.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::history::store::StoreError;
use crate::model::event::{EventId, rfc3339};

/// Someone took a maintenance on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The event it was recorded against (any event of the maintenance).
    pub event_id: EventId,
    /// Who: a Slack user id, or a name given on the command line.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// A checklist step marked done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDone {
    /// The event it was recorded against.
    pub event_id: EventId,
    /// The step's number in the runbook.
    pub step: u32,
    /// Who.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// How a maintenance was handled, for the team's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The event it was recorded against.
    pub event_id: EventId,
    /// How it was handled: `manual-failover`, `waited`, `moved-window`, `restored-backup`, ...
    pub handled: String,
    /// Whether the site was put into maintenance.
    pub site_maintenance: bool,
    /// How long users were affected, if measured.
    #[serde(default, with = "optional_seconds")]
    pub downtime: Option<Duration>,
    /// Anything worth remembering.
    pub note: Option<String>,
    /// Who recorded it.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

/// Clusters muted from Slack (`/cachewatch mute`), beside those of `cachewatch.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteRecord {
    /// The cluster pattern.
    pub clusters: String,
    /// Until when.
    #[serde(with = "rfc3339")]
    pub until: DateTime<Utc>,
    /// Who muted.
    pub by: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
}

mod optional_seconds {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.num_seconds()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<i64>::deserialize(d)?.map(Duration::seconds))
    }
}

/// Where people's responses are kept.
pub trait ResponseStore: Send + Sync {
    /// Records an acknowledgement (the first one of a maintenance is the one shown).
    fn record_acknowledgement(
        &self,
        ack: &Acknowledgement,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The acknowledgements recorded against any of `events`, oldest first.
    fn acknowledgements(
        &self,
        events: &[EventId],
    ) -> impl Future<Output = Result<Vec<Acknowledgement>, StoreError>> + Send;

    /// Records a checklist step done (again is harmless: the first time counts).
    fn record_step(&self, step: &StepDone) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The steps done against any of `events`, oldest first.
    fn steps(
        &self,
        events: &[EventId],
    ) -> impl Future<Output = Result<Vec<StepDone>, StoreError>> + Send;

    /// Records an outcome (a later one replaces an earlier one for the same event).
    fn record_outcome(
        &self,
        outcome: &Outcome,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The outcomes recorded against any of `events`.
    fn outcomes(
        &self,
        events: &[EventId],
    ) -> impl Future<Output = Result<Vec<Outcome>, StoreError>> + Send;

    /// Every outcome recorded between `start` and `end` (for the yearly log).
    fn outcomes_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Outcome>, StoreError>> + Send;

    /// Records a mute.
    fn record_mute(&self, mute: &MuteRecord)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The mutes still in force at `now`.
    fn mutes(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<MuteRecord>, StoreError>> + Send;
}

/// How a maintenance can have been handled: the value stored in [`Outcome::handled`], and how
/// people are asked (the Slack form; the CLI's `--handled` takes the same values).
pub const HANDLED: [(&str, &str); 7] = [
    (
        "manual-failover",
        "Failed over by hand, ahead of the window",
    ),
    ("waited", "Let it run in its maintenance window"),
    ("moved-window", "Moved the maintenance window"),
    ("restored-backup", "Restored from a backup"),
    ("test-failover", "Rehearsed with ElastiCache's TestFailover"),
    ("canceled", "Canceled: nothing happened"),
    ("other", "Something else (see the note)"),
];

/// The first acknowledgement of each maintenance counts: who took it on, and when.
pub fn first_acknowledgement(acks: &[Acknowledgement]) -> Option<&Acknowledgement> {
    acks.iter().min_by_key(|a| (a.at, a.by.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_keep_their_downtime_in_seconds() {
        let outcome = Outcome {
            event_id: EventId::parse("0123456789abcdef0123").unwrap(),
            handled: "manual-failover".into(),
            site_maintenance: false,
            downtime: Some(Duration::seconds(125)),
            note: Some("about two minutes, as rehearsed".into()),
            by: "U0ONCALL".into(),
            at: DateTime::parse_from_rfc3339("2026-06-25T19:20:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["downtime"], 125);
        assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
    }

    #[test]
    fn the_first_acknowledgement_counts() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let id = EventId::parse("0123456789abcdef0123").unwrap();
        let acks = [
            Acknowledgement {
                event_id: id.clone(),
                by: "U2".into(),
                at: at("2026-06-25T19:05:00Z"),
            },
            Acknowledgement {
                event_id: id,
                by: "U1".into(),
                at: at("2026-06-25T19:01:00Z"),
            },
        ];
        assert_eq!(first_acknowledgement(&acks).unwrap().by, "U1");
        assert!(first_acknowledgement(&[]).is_none());
    }
}
