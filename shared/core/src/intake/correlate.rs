//! One occurrence, two reports: the SNS notice (a name, no text) and the DescribeEvents record (a
//! text, no name) of the same event are stored once.
//!
//! SNS delivers `{"ElastiCache:NodeReplacementScheduled":"orders-0001-001"}` within seconds; the
//! poller later reads `The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled
//! ...` for the same occurrence, stamped a few seconds apart. Their ids differ (the times do), so
//! they are matched here instead: same source, same kind, close in time, and one of each shape.
//! The stored event keeps its id and gains what the other report knew (the window, the text, the
//! account). Two reports of the same shape are never merged: two texts or two notices close together
//! are two events (two nodes rebooted in the same minute, say).
//!
//! **Where a report comes from.** A report that knows its account (an SNS notice, from its
//! topic's ARN; a DescribeEvents record the poller read, stamped with where it read it) is
//! identified within its account and Region ([`crate::model::event::EventId::derive_in`]); one
//! that does not (a history kept before ids knew accounts, a DescribeEvents file ingested by hand)
//! keeps the id it always had. Two reports are of one place when their accounts, and their
//! Regions, are the same wherever both know them ([`MaintenanceEvent::places_agree`]). So:
//!
//! - a notice and a text of one occurrence are matched as above only when their places agree:
//!   `sessions-redis` of one account never takes the text of `sessions-redis` of another;
//! - the same report, once with its account and once without (same source, kind, node, second
//!   and shape), is one event ([`same_report`]): the stored one is kept, and gains the account
//!   when only the incoming report knew it;
//! - a report without an account that matches the reports of **several** accounts is taken as
//!   stored (it is one of them, nothing is lost) and merged into none, since which one cannot be
//!   told.

use chrono::Duration;

use crate::model::event::MaintenanceEvent;

/// Reports further apart than this are different occurrences.
pub const SAME_OCCURRENCE: Duration = Duration::minutes(5);

/// Whether an event is a named notice without a text (as SNS sends them).
pub fn is_notice(e: &MaintenanceEvent) -> bool {
    e.event_name.is_some() && e.message.is_none()
}

/// Whether an event is a text without a name (as DescribeEvents and the console show them).
pub fn is_text(e: &MaintenanceEvent) -> bool {
    e.event_name.is_none() && e.message.is_some()
}

/// Whether `a` and `b` report the same occurrence.
pub fn same_occurrence(a: &MaintenanceEvent, b: &MaintenanceEvent) -> bool {
    let shapes = (is_notice(a) && is_text(b)) || (is_text(a) && is_notice(b));
    let nodes = match (&a.node_id, &b.node_id) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    shapes
        && nodes
        && a.places_agree(b)
        && a.drill == b.drill
        && a.source_id == b.source_id
        && a.kind == b.kind
        && (a.occurred_at - b.occurred_at).abs() <= SAME_OCCURRENCE
}

/// Whether `a` and `b` are one report seen twice, from a source that knew its account and from
/// one that did not (or under the ids of before and after ids knew accounts): the same shape,
/// source, kind, node and second, from places that agree.
pub fn same_report(a: &MaintenanceEvent, b: &MaintenanceEvent) -> bool {
    is_notice(a) == is_notice(b)
        && is_text(a) == is_text(b)
        && a.places_agree(b)
        && a.drill == b.drill
        && a.source_id == b.source_id
        && a.kind == b.kind
        && a.node_id == b.node_id
        && a.occurred_at.timestamp() == b.occurred_at.timestamp()
}

/// `stored` completed with what `incoming` adds. The stored id, date and reception are kept.
pub fn merge(stored: &MaintenanceEvent, incoming: &MaintenanceEvent) -> MaintenanceEvent {
    let mut merged = stored.clone();
    macro_rules! fill {
        ($($field:ident),*) => {
            $( if merged.$field.is_none() { merged.$field = incoming.$field.clone(); } )*
        };
    }
    fill!(
        event_name,
        cluster_id,
        node_id,
        replication_group_id,
        window,
        previous_window,
        message,
        region,
        account_id,
        failover
    );
    for (key, value) in &incoming.attributes {
        merged
            .attributes
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    merged.actionable |= incoming.actionable;
    merged
}

/// What to do with an incoming event, given what is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// Not stored yet: store it.
    New,
    /// Already stored (this id, or an earlier report merged under another id).
    Duplicate(MaintenanceEvent),
    /// Another report of a stored event: store the merge under the stored id.
    Merge(MaintenanceEvent),
}

/// Decides an incoming event's fate from what is stored: `same`, the event stored under its id (or
/// the one it was merged into), and `near`, stored events close to it with the same source and kind.
pub fn decide(
    incoming: &MaintenanceEvent,
    same: Option<&MaintenanceEvent>,
    near: &[MaintenanceEvent],
) -> Disposition {
    if let Some(same) = same {
        return Disposition::Duplicate(same.clone());
    }
    if let Some(stored) = near.iter().find(|c| same_report(c, incoming)) {
        return if stored.account_id.is_none() && incoming.account_id.is_some() {
            Disposition::Merge(merge(stored, incoming))
        } else {
            Disposition::Duplicate(stored.clone())
        };
    }
    let mut twins = near.iter().filter(|c| same_occurrence(c, incoming));
    let Some(first) = twins.next() else {
        return Disposition::New;
    };
    if twins.any(|other| !other.places_agree(first)) {
        // The other report of an occurrence in one of several accounts, not knowing which.
        return Disposition::Duplicate(first.clone());
    }
    Disposition::Merge(merge(first, incoming))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::{ParseContext, parse_document};
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn one(input: &str) -> MaintenanceEvent {
        let mut events = parse_document(
            input,
            &ParseContext::received_at(at("2026-06-11T03:10:00Z")),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    const SNS: &str = r#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:eu-west-1:123456789012:cachewatch","Timestamp":"2026-06-11T03:10:04.100Z","Message":"{\"ElastiCache:NodeReplacementScheduled\":\"orders-0001-001\"}"}"#;
    const TEXT: &str = r#"{"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02.000Z","Message":"The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"}"#;

    #[test]
    fn the_notice_and_the_text_of_one_event_merge() {
        let notice = one(SNS);
        let text = one(TEXT);
        assert_ne!(notice.id, text.id);
        assert!(same_occurrence(&notice, &text));
        let Disposition::Merge(merged) = decide(&text, None, std::slice::from_ref(&notice)) else {
            panic!("expected a merge");
        };
        assert_eq!(merged.id, notice.id);
        assert_eq!(
            merged.event_name.as_deref(),
            Some("ElastiCache:NodeReplacementScheduled")
        );
        assert_eq!(merged.account_id.as_deref(), Some("123456789012"));
        assert_eq!(merged.node_id.as_ref().map(|n| n.as_str()), Some("0001"));
        assert_eq!(merged.window.unwrap().start, at("2026-06-25T19:00:00Z"));
    }

    #[test]
    fn two_texts_or_two_notices_are_never_one() {
        let text = one(TEXT);
        let mut other = text.clone();
        other.occurred_at = at("2026-06-11T03:11:00Z");
        assert!(!same_occurrence(&text, &other));
        let notice = one(SNS);
        let mut later = notice.clone();
        later.occurred_at = at("2026-06-11T03:11:00Z");
        assert!(!same_occurrence(&notice, &later));
    }

    #[test]
    fn far_apart_or_different_kinds_are_different_events() {
        let notice = one(SNS);
        let mut text = one(TEXT);
        text.occurred_at = at("2026-06-11T03:20:00Z");
        assert!(!same_occurrence(&notice, &text));
        let mut text = one(TEXT);
        text.kind = crate::EventKind::new(crate::EventKind::NODE_REPLACEMENT_CANCELED);
        assert!(!same_occurrence(&notice, &text));
    }

    #[test]
    fn a_notice_and_a_text_of_two_accounts_are_two_events() {
        let notice = one(SNS);
        let mut text = one(TEXT);
        text.stamp_place("444455556666", "eu-west-1");
        assert!(!same_occurrence(&notice, &text));
        text = one(TEXT);
        text.stamp_place("123456789012", "us-east-1");
        assert!(!same_occurrence(&notice, &text), "nor of two Regions");
        text = one(TEXT);
        text.stamp_place("123456789012", "eu-west-1");
        assert!(same_occurrence(&notice, &text));
    }

    #[test]
    fn a_redelivery_is_a_duplicate() {
        let notice = one(SNS);
        assert_eq!(
            decide(&notice, Some(&notice), &[]),
            Disposition::Duplicate(notice.clone())
        );
        let text = one(TEXT);
        assert_eq!(decide(&text, None, &[]), Disposition::New);
    }
}
