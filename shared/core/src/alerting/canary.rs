//! The canary: a synthetic notification published to the stack's topic, in ElastiCache's shape,
//! that proves the alert path carries a message from SNS to the history.
//!
//! Its body is an ElastiCache message body (`{"ElastiCache:…": source}` plus metadata keys), with
//! an event name ElastiCache never sends ([`CANARY_EVENT_NAME`]) and a [`CANARY_ID`] that names
//! the run. Read by the one parser, it is marked when built ([`is_canary`]): kept as a drill (out
//! of normal searches, reports and pages) and never actionable, so it never pages as a real
//! event, whatever the configuration says.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::event::MaintenanceEvent;
use crate::model::timefmt::Zone;

/// The event name of a canary: ElastiCache's prefix, a name ElastiCache does not use.
pub const CANARY_EVENT_NAME: &str = "ElastiCache:CachewatchCanary";
/// The source a canary names.
pub const CANARY_SOURCE: &str = "cachewatch-canary";
/// The metadata key (and stored attribute) that holds the canary's id.
pub const CANARY_ID: &str = "Canary ID";
/// The SNS message attribute a canary carries, for subscribers that filter on attributes.
pub const CANARY_MESSAGE_ATTRIBUTE: &str = "cachewatch_canary";

/// The body of the canary `id`, published at `at`.
pub fn canary_body(id: &str, at: DateTime<Utc>) -> String {
    json!({
        CANARY_EVENT_NAME: CANARY_SOURCE,
        CANARY_ID: id,
        "Date": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
    .to_string()
}

/// A canary to publish: its id names the millisecond it was published at, so that a record
/// holding only the id (the poller's schedule, kept as a lease) says when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// `canary-<nanoseconds since the epoch>`.
    pub id: String,
    /// When it is published, to the millisecond its body carries.
    pub published_at: DateTime<Utc>,
}

impl Canary {
    /// The canary published at `now` (truncated to the millisecond).
    pub fn at(now: DateTime<Utc>) -> Self {
        let published_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        Self {
            id: format!(
                "canary-{}",
                published_at.timestamp_nanos_opt().unwrap_or_default()
            ),
            published_at,
        }
    }

    /// The canary an id names, when it is one [`Canary::at`] makes.
    pub fn from_id(id: &str) -> Option<Self> {
        let nanos: i64 = id.strip_prefix("canary-")?.parse().ok()?;
        let published_at = DateTime::from_timestamp_millis(nanos / 1_000_000)?;
        (Self::at(published_at).id == id).then(|| Self {
            id: id.to_owned(),
            published_at,
        })
    }

    /// Its body.
    pub fn body(&self) -> String {
        canary_body(&self.id, self.published_at)
    }
}

/// What the poller makes of the last canary it published, seen at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheduled {
    /// It is in the history.
    Arrived,
    /// It is not, and may still come.
    Awaited,
    /// It is not, `within` after its publish: the alert path lost it.
    Lost(CanaryOutcome),
}

impl Scheduled {
    /// The state of `canary`, published to `topic`, given what the history holds of it.
    pub fn of(
        canary: &Canary,
        topic: &str,
        events: &[MaintenanceEvent],
        now: DateTime<Utc>,
        within: Duration,
    ) -> Self {
        if arrived(events, &canary.id).is_some() {
            return Scheduled::Arrived;
        }
        let waited = now - canary.published_at;
        if waited < within {
            return Scheduled::Awaited;
        }
        Scheduled::Lost(CanaryOutcome::of(
            &canary.id,
            topic,
            canary.published_at,
            None,
            waited,
        ))
    }
}

/// Whether a canary is due at `now`: none reached the history in the last `every` (`last` is
/// the latest that did).
pub fn due(last: Option<&LastCheck>, now: DateTime<Utc>, every: Duration) -> bool {
    last.is_none_or(|l| now - l.at >= every)
}

/// Whether an event name is a canary's.
pub fn is_canary_name(event_name: Option<&str>) -> bool {
    event_name == Some(CANARY_EVENT_NAME)
}

/// Whether an event is a canary.
pub fn is_canary(event: &MaintenanceEvent) -> bool {
    is_canary_name(event.event_name.as_deref())
}

/// Where a lost canary is said besides Slack: the stack's alarm topic.
pub trait AlarmTopic {
    /// Why a publish failed.
    type Error: std::fmt::Display;

    /// Publishes `subject` and `message` to `topic`; answers the message's id.
    fn publish_alarm(
        &self,
        topic: &str,
        subject: &str,
        message: &str,
    ) -> impl std::future::Future<Output = Result<String, Self::Error>> + Send;
}

/// The stack's topic, as the scheduled canary reaches it.
pub trait CanaryTopic {
    /// Why a publish failed.
    type Error: std::fmt::Display;

    /// Publishes `canary` to `topic`, marked as a canary; answers the message's id.
    fn publish_canary(
        &self,
        topic: &str,
        canary: &Canary,
    ) -> impl std::future::Future<Output = Result<String, Self::Error>> + Send;
}

/// What became of a canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanaryOutcome {
    /// It reached the history `took` after it was published.
    Arrived {
        /// Its id.
        id: String,
        /// The topic it was published to.
        topic: String,
        /// When it was published.
        published_at: DateTime<Utc>,
        /// From the publish to the history.
        took: Duration,
    },
    /// It was not in the history `waited` after it was published.
    Lost {
        /// Its id.
        id: String,
        /// The topic it was published to.
        topic: String,
        /// When it was published.
        published_at: DateTime<Utc>,
        /// How long it was waited for.
        waited: Duration,
    },
}

impl CanaryOutcome {
    /// The outcome of the canary `id` published to `topic` at `published_at`, given what the
    /// history holds of it (`arrived`) and how long it was waited for.
    pub fn of(
        id: &str,
        topic: &str,
        published_at: DateTime<Utc>,
        arrived: Option<&MaintenanceEvent>,
        waited: Duration,
    ) -> Self {
        let (id, topic) = (id.to_owned(), topic.to_owned());
        match arrived {
            Some(event) => CanaryOutcome::Arrived {
                id,
                topic,
                published_at,
                took: (event.received_at - published_at).max(Duration::zero()),
            },
            None => CanaryOutcome::Lost {
                id,
                topic,
                published_at,
                waited,
            },
        }
    }

    /// What the command line says of it: one sentence.
    pub fn sentence(&self) -> String {
        match self {
            CanaryOutcome::Arrived { id, took, .. } => format!(
                "Canary {id} arrived: {} end to end, from the topic to the history.",
                seconds(*took)
            ),
            CanaryOutcome::Lost { id, waited, .. } => format!(
                "canary {id} did not arrive within {}: the alert path is broken somewhere \
                 between the topic and the history; `cachewatch audit` checks each link",
                seconds(*waited)
            ),
        }
    }

    /// The subject and the message of the alarm a lost canary raises on the stack's alarm
    /// topic, read by people (email) and by tools (the first line); `None` for one that arrived.
    pub fn alarm(&self) -> Option<(String, String)> {
        let CanaryOutcome::Lost {
            id,
            topic,
            published_at,
            waited,
        } = self
        else {
            return None;
        };
        let subject = "cachewatch: the alert path lost a canary".to_owned();
        let message = format!(
            "ALARM: the cachewatch alert path lost a canary.\n\n\
             The test notification {id}, published to {topic} at {}, was not in the history \
             {} later. Alerts for real ElastiCache events may be lost the same way.\n\n\
             Check each link: cachewatch audit (and cachewatch audit --fix to repair).\n",
            published_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            seconds(*waited)
        );
        Some((subject, message))
    }
}

/// The last canary that arrived: when, and how long it took from the topic to the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    /// When it reached the history.
    pub at: DateTime<Utc>,
    /// From its publish (the `Date` it carries) to the history, in milliseconds.
    pub took_ms: i64,
}

impl LastCheck {
    /// The line the digest shows: `Alert path checked Tuesday 09:00 UTC, 3.8 s end to end`; a
    /// check older than a week shows its date.
    pub fn line(&self, now: DateTime<Utc>, zone: Zone) -> String {
        let when = if now - self.at < Duration::days(7) {
            zone.format_with(self.at, "%A %H:%M")
        } else {
            zone.format_with(self.at, "%Y-%m-%d %H:%M")
        };
        format!(
            "Alert path checked {when}, {} end to end",
            seconds(Duration::milliseconds(self.took_ms))
        )
    }
}

/// The last canary among `events` that arrived, as the digest shows it.
pub fn last_check(events: &[MaintenanceEvent]) -> Option<LastCheck> {
    events
        .iter()
        .filter(|e| is_canary(e))
        .max_by_key(|e| e.received_at)
        .map(|e| LastCheck {
            at: e.received_at,
            took_ms: (e.received_at - e.occurred_at).num_milliseconds().max(0),
        })
}

/// `3.8 s`.
pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.num_milliseconds() as f64 / 1000.0)
}

/// The search that finds the canaries stored since `since` (drills, which normal searches
/// leave out).
pub fn canaries_since(since: DateTime<Utc>) -> crate::history::query::EventQuery {
    crate::history::query::EventQuery {
        cluster: Some(CANARY_SOURCE.to_owned()),
        since: Some(since),
        include_drills: true,
        ..crate::history::query::EventQuery::default()
    }
}

/// The canary `id` among `events`, when it arrived.
pub fn arrived<'e>(events: &'e [MaintenanceEvent], id: &str) -> Option<&'e MaintenanceEvent> {
    events
        .iter()
        .find(|e| is_canary(e) && e.attributes.get(CANARY_ID).map(String::as_str) == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::{ParseContext, parse_document};

    fn at() -> DateTime<Utc> {
        crate::test_support::at("2026-06-23T09:00:00Z")
    }

    #[test]
    fn a_canary_reads_as_a_drill_and_is_found_by_its_id() {
        let body = canary_body("c-42", at());
        let events = parse_document(&body, &ParseContext::received_at(at())).unwrap();
        let [event] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert!(is_canary(event) && event.drill, "{event:?}");
        assert_eq!(
            arrived(&events, "c-42").map(|e| e.id.clone()),
            Some(event.id.clone())
        );
        assert!(arrived(&events, "c-43").is_none());
    }

    #[test]
    fn an_arrived_canary_is_timed_from_its_publish_and_raises_no_alarm() {
        let mut event = parse_document(&canary_body("c-1", at()), &ParseContext::received_at(at()))
            .unwrap()
            .remove(0);
        event.received_at = at() + Duration::milliseconds(3_840);
        let outcome = CanaryOutcome::of("c-1", "arn:t", at(), Some(&event), Duration::seconds(60));
        assert_eq!(
            outcome.sentence(),
            "Canary c-1 arrived: 3.8 s end to end, from the topic to the history."
        );
        assert_eq!(outcome.alarm(), None);
    }

    #[test]
    fn the_last_check_is_the_latest_canary_timed_from_the_date_it_carries() {
        let parse = |id: &str, published: DateTime<Utc>, took_ms: i64| {
            let mut e = parse_document(
                &canary_body(id, published),
                &ParseContext::received_at(at()),
            )
            .unwrap()
            .remove(0);
            e.received_at = published + Duration::milliseconds(took_ms);
            e
        };
        let events = [
            parse("c-1", at() - Duration::days(7), 1_200),
            parse("c-2", at(), 3_840),
        ];
        let last = last_check(&events).unwrap();
        assert_eq!(last.took_ms, 3_840);
        assert_eq!(
            last.line(at() + Duration::hours(1), Zone::Utc),
            "Alert path checked Tuesday 09:00 UTC, 3.8 s end to end"
        );
        assert_eq!(
            last.line(at() + Duration::days(8), Zone::Utc),
            "Alert path checked 2026-06-23 09:00 UTC, 3.8 s end to end"
        );
        assert_eq!(last_check(&[]), None);
    }

    #[test]
    fn a_canary_id_says_when_it_was_published_and_the_schedule_reads_it_back() {
        let canary = Canary::at(at() + Duration::nanoseconds(1_234_567));
        assert_eq!(canary.published_at, at() + Duration::milliseconds(1));
        assert_eq!(Canary::from_id(&canary.id), Some(canary.clone()));
        for bad in ["canary-", "canary-x", "canary-1234567", "other-1000000", ""] {
            assert_eq!(Canary::from_id(bad), None, "{bad}");
        }
        let events = parse_document(&canary.body(), &ParseContext::received_at(at())).unwrap();
        let within = Duration::minutes(15);
        let later = |m| canary.published_at + Duration::minutes(m);
        assert_eq!(
            Scheduled::of(&canary, "arn:t", &events, later(60), within),
            Scheduled::Arrived
        );
        assert_eq!(
            Scheduled::of(&canary, "arn:t", &[], later(14), within),
            Scheduled::Awaited
        );
        let Scheduled::Lost(outcome) = Scheduled::of(&canary, "arn:t", &[], later(15), within)
        else {
            panic!("a canary not there 15 minutes on is lost")
        };
        assert!(outcome.sentence().contains("within 900.0 s"), "{outcome:?}");
    }

    #[test]
    fn a_canary_is_due_when_none_arrived_within_the_interval() {
        let week = Duration::days(7);
        let last = LastCheck {
            at: at(),
            took_ms: 900,
        };
        assert!(due(None, at(), week));
        assert!(!due(Some(&last), at() + Duration::days(6), week));
        assert!(due(Some(&last), at() + week, week));
    }

    #[test]
    fn a_lost_canary_says_how_long_it_was_awaited_and_raises_an_alarm() {
        let outcome = CanaryOutcome::of("c-2", "arn:t", at(), None, Duration::seconds(60));
        assert!(outcome.sentence().contains("did not arrive within 60.0 s"));
        let (subject, message) = outcome.alarm().unwrap();
        assert!(subject.contains("lost a canary"), "{subject}");
        assert!(
            message.starts_with("ALARM:")
                && message.contains("c-2")
                && message.contains("arn:t")
                && message.contains("2026-06-23T09:00:00Z"),
            "{message}"
        );
    }
}
