//! The pipeline on the in-memory store: idempotence, correlation, lifecycle updates.

use chrono::{DateTime, Utc};

use super::*;
use crate::history::store::MemoryStore;
use crate::intake::parse::{ParseContext, parse_document};
use crate::lifecycle::MaintenanceState;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn parse(input: &str) -> Vec<MaintenanceEvent> {
    parse_document(
        input,
        &ParseContext::received_at(at("2026-06-11T03:10:30Z")),
    )
    .unwrap()
}

/// Runs a future to completion on this thread: the memory store never waits.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const SCHEDULED: &str = r#"{"Events":[{"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02Z","Message":"The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"},{"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T04:00:00Z","Message":"Snapshot succeeded for snapshot with ID 'nightly' of cache cluster with ID 'orders-0001-001'"}]}"#;
const NOTICE: &str = r#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:eu-west-1:123456789012:cachewatch","Timestamp":"2026-06-11T03:10:04.100Z","Message":"{\"ElastiCache:NodeReplacementScheduled\":\"orders-0001-001\"}"}"#;

#[test]
fn ingesting_twice_stores_once() {
    let store = MemoryStore::default();
    let policy = AlertPolicy::default();
    let first = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    assert_eq!(first.new_count(), 2);
    assert!(first.events[0].event.actionable);
    assert!(!first.events[1].event.actionable);
    let again = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    assert_eq!(again.new_count(), 0);
    assert_eq!(again.events.len(), 2);
    assert_eq!(again.events[0].event.id, first.events[0].event.id);
}

#[test]
fn the_sns_notice_of_a_stored_text_is_not_a_new_event() {
    let store = MemoryStore::default();
    let policy = AlertPolicy::default();
    block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    let notice = block_on(ingest(&store, parse(NOTICE), &policy)).unwrap();
    assert_eq!(notice.new_count(), 0);
    let stored = &notice.events[0].event;
    assert_eq!(
        stored.event_name.as_deref(),
        Some("ElastiCache:NodeReplacementScheduled")
    );
    assert!(stored.window.is_some(), "kept what the text said");
    assert_eq!(
        stored.account_id.as_deref(),
        Some("123456789012"),
        "gained what the notice said"
    );
    // Delivered again, the notice is still the same event.
    let redelivered = block_on(ingest(&store, parse(NOTICE), &policy)).unwrap();
    assert_eq!(redelivered.new_count(), 0);
    assert_eq!(redelivered.events[0].event.id, stored.id);
}

#[test]
fn the_notice_then_the_text_in_one_input_is_one_event() {
    let store = MemoryStore::default();
    let input = format!("{NOTICE}\n{}", SCHEDULED.replace('\n', ""));
    let outcome = block_on(ingest(&store, parse(&input), &AlertPolicy::default())).unwrap();
    assert_eq!(outcome.new_count(), 2, "the notice, and the snapshot");
    assert_eq!(outcome.events[0].event.id, outcome.events[1].event.id);
    let maintenance = &outcome.maintenances["orders"][0];
    assert_eq!(maintenance.state, MaintenanceState::Scheduled);
    assert!(maintenance.window.is_some());
}

#[test]
fn events_learn_their_maintenance() {
    let store = MemoryStore::default();
    let outcome = block_on(ingest(&store, parse(SCHEDULED), &AlertPolicy::default())).unwrap();
    let scheduled = &outcome.events[0].event;
    assert_eq!(scheduled.maintenance_id.as_ref(), Some(&scheduled.id));
    assert_eq!(
        outcome.events[1].event.maintenance_id, None,
        "a snapshot has no maintenance"
    );
    let m = block_on(store.maintenance(&scheduled.id)).unwrap().unwrap();
    assert_eq!(m.event_ids, vec![scheduled.id.clone()]);
}

#[test]
fn a_notice_repeated_after_merging_with_a_text_in_one_input_is_stored_once() {
    let store = MemoryStore::default();
    let input = format!("{NOTICE}\n{}\n{NOTICE}", SCHEDULED.replace('\n', ""));
    let outcome = block_on(ingest(&store, parse(&input), &AlertPolicy::default())).unwrap();
    assert_eq!(outcome.new_count(), 2, "the occurrence and the snapshot");
    let ids: Vec<_> = outcome.events.iter().map(|e| e.event.id.clone()).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[0], ids[3], "the repeated notice is the same event");
    let stored = block_on(store.search(&crate::EventQuery {
        limit: 100,
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(stored.len(), 2);
}

#[test]
fn a_canary_is_stored_and_never_actionable_even_when_every_kind_alerts() {
    let store = MemoryStore::default();
    let body = crate::alerting::canary::canary_body("c-42", at("2026-06-11T03:10:00Z"));
    let events = parse(&body);
    let mut everything = AlertPolicy::default();
    everything.kinds.insert(events[0].kind.as_str().to_owned());
    assert!(
        everything.is_actionable(&events[0].kind),
        "the kind alone would page"
    );
    let outcome = block_on(ingest(&store, events, &everything)).unwrap();
    assert_eq!(outcome.new_count(), 1);
    assert!(!outcome.events[0].event.actionable);
    assert!(outcome.events[0].event.drill, "kept out of normal searches");
}
