//! The canary: a synthetic notification published to the stack's topic, in ElastiCache's shape,
//! that proves the alert path carries a message from SNS to the history.
//!
//! Its body is an ElastiCache message body (`{"ElastiCache:…": source}` plus metadata keys), with
//! an event name ElastiCache never sends ([`CANARY_EVENT_NAME`]) and a [`CANARY_ID`] that names
//! the run. Read by the one parser, it is marked when built ([`is_canary`]): kept as a drill (out
//! of normal searches, reports and pages) and never actionable, so it never pages as a real
//! event, whatever the configuration says.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::event::MaintenanceEvent;

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

/// Whether an event name is a canary's.
pub fn is_canary_name(event_name: Option<&str>) -> bool {
    event_name == Some(CANARY_EVENT_NAME)
}

/// Whether an event is a canary.
pub fn is_canary(event: &MaintenanceEvent) -> bool {
    is_canary_name(event.event_name.as_deref())
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
        DateTime::parse_from_rfc3339("2026-06-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
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
}
