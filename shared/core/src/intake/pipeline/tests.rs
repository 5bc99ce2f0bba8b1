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

/// The notice of `cluster` published to a topic of `account` in eu-west-1 at 03:10:04.
fn notice_from(account: &str, cluster: &str, message_id: &str) -> String {
    NOTICE
        .replace("123456789012", account)
        .replace("orders-0001-001", cluster)
        .replace("m-1", message_id)
}

#[test]
fn one_name_in_two_accounts_in_the_same_second_is_two_events_and_two_maintenances() {
    let store = MemoryStore::default();
    let policy = AlertPolicy::default();
    let input = format!(
        "{}\n{}",
        notice_from("111122223333", "sessions-redis", "m-1"),
        notice_from("444455556666", "sessions-redis", "m-2")
    );
    let outcome = block_on(ingest(&store, parse(&input), &policy)).unwrap();
    assert_eq!(outcome.new_count(), 2);
    let (prod, staging) = (&outcome.events[0].event, &outcome.events[1].event);
    assert_ne!(prod.id, staging.id);
    let maintenances = &outcome.maintenances["sessions-redis"];
    assert_eq!(maintenances.len(), 2, "{maintenances:#?}");
    let mut accounts: Vec<_> = maintenances
        .iter()
        .map(|m| (m.account_id.clone().unwrap(), m.event_ids.clone()))
        .collect();
    accounts.sort();
    assert_eq!(
        accounts,
        [
            ("111122223333".to_owned(), vec![prod.id.clone()]),
            ("444455556666".to_owned(), vec![staging.id.clone()]),
        ]
    );
    assert_ne!(prod.maintenance_id, staging.maintenance_id);
}

#[test]
fn a_text_read_without_its_account_joins_the_notice_of_the_one_account_that_has_it() {
    let store = MemoryStore::default();
    let policy = AlertPolicy::default();
    block_on(ingest(&store, parse(NOTICE), &policy)).unwrap();
    // A describe-events file ingested by hand: no account.
    let text = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    assert_eq!(text.new_count(), 1, "only the snapshot is new");
    let merged = &text.events[0].event;
    assert_eq!(merged.account_id.as_deref(), Some("123456789012"));
    assert!(merged.window.is_some() && merged.event_name.is_some());
    assert_eq!(text.maintenances["orders"].len(), 1);
}

#[test]
fn a_text_without_an_account_near_the_notices_of_two_accounts_is_merged_into_neither() {
    let store = MemoryStore::default();
    let policy = AlertPolicy::default();
    let input = format!(
        "{}\n{}",
        notice_from("111122223333", "orders-0001-001", "m-1"),
        notice_from("444455556666", "orders-0001-001", "m-2")
    );
    block_on(ingest(&store, parse(&input), &policy)).unwrap();
    let text = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    assert_eq!(text.new_count(), 1, "only the snapshot is new");
    for account in ["111122223333", "444455556666"] {
        let found = block_on(store.search(&crate::EventQuery {
            account: Some(account.to_owned()),
            ..crate::EventQuery::default()
        }))
        .unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.is_none(), "the text went to no account");
    }
}

#[test]
fn the_same_text_with_and_without_its_account_is_one_event_either_way_round() {
    let policy = AlertPolicy::default();
    let placed = || {
        let mut events = parse(SCHEDULED);
        for e in &mut events {
            e.stamp_place("123456789012", "eu-west-1");
        }
        events
    };
    // Kept without an account (an older history), then read by the poller with it: the stored
    // event gains the account, and keeps its id.
    let store = MemoryStore::default();
    let old = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    let read = block_on(ingest(&store, placed(), &policy)).unwrap();
    assert_eq!(read.new_count(), 0);
    assert_eq!(read.events[0].event.id, old.events[0].event.id);
    assert_eq!(
        read.events[0].event.account_id.as_deref(),
        Some("123456789012")
    );
    let again = block_on(ingest(&store, placed(), &policy)).unwrap();
    assert_eq!(again.new_count(), 0);
    assert_eq!(again.events[0].event.id, old.events[0].event.id);
    // Read with its account first, then ingested from a file without it: a duplicate.
    let store = MemoryStore::default();
    let first = block_on(ingest(&store, placed(), &policy)).unwrap();
    let file = block_on(ingest(&store, parse(SCHEDULED), &policy)).unwrap();
    assert_eq!(file.new_count(), 0);
    assert_eq!(file.events[0].event.id, first.events[0].event.id);
    assert_eq!(
        block_on(store.search(&crate::EventQuery::default()))
            .unwrap()
            .len(),
        2
    );
}
