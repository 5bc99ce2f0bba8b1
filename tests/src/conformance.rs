//! The behaviour every event store shares, as cases generic over the store: each case is
//! something a user relies on (an event delivered twice is stored once, a search by replication
//! group finds its members, an alert is recorded once, ...), written on realistic ElastiCache
//! payloads and, where that is what a user does, through the ingest pipeline.
//!
//! `tests/tests/conformance.rs` runs every case against each store, on an empty store per case:
//! the in-memory reference, SQLite on a temporary file, and DynamoDB on the local emulator.
//! [`conformance_cases!`](crate::conformance_cases) lists the cases, so that a new case runs on
//! every store.
//!
//! Times are relative to now (to the minute), as the product sees them: stores may bound
//! searches without `since` to recent history (DynamoDB looks back 90 days).

use std::collections::{BTreeMap, BTreeSet};

use cachewatch_core::alerting::delivery::{
    Claim, ClaimRequest, Delivery, DeliveryState, DeliveryStore, LeaseRequest, OutboxWrite, Thread,
};
use cachewatch_core::alerting::outbound::Output;
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::cluster::kept::{FactsRecord, FactsStore};
use cachewatch_core::history::response::{
    Acknowledgement, MuteRecord, Outcome, ResponseStore, StepDone,
};
use cachewatch_core::history::store::{EventStore, EventWrite, WriteOutcome};
use cachewatch_core::intake::parse::{ParseContext, parse_document};
use cachewatch_core::lifecycle::MaintenanceState;
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use cachewatch_core::{AlertPolicy, Category, EventKind, EventQuery, IngestOutcome, ingest};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

/// Lists every conformance case: `conformance_cases!(m)` expands to `m! { case, case, ... }`.
#[macro_export]
macro_rules! conformance_cases {
    ($each:ident) => {
        $each! {
            the_same_event_delivered_twice_is_stored_once,
            an_event_reads_back_as_it_was_stored,
            a_notice_and_the_text_of_one_occurrence_are_stored_as_one_event,
            a_merged_reports_id_is_not_stored_again_as_a_new_event,
            one_cluster_name_in_two_accounts_in_the_same_second_is_two_events_and_two_maintenances,
            a_report_kept_without_its_account_is_one_event_with_its_read_with_the_account,
            a_report_read_with_its_account_is_one_event_with_its_file_copy_without,
            an_event_kept_under_the_id_of_before_is_not_stored_again_by_its_spoke,
            events_learn_the_maintenance_they_belong_to,
            a_maintenance_is_found_by_its_id_and_by_any_of_its_events,
            only_maintenances_not_over_yet_are_open,
            a_replication_group_search_finds_its_member_clusters,
            a_node_search_finds_only_that_node,
            a_search_by_kind_or_category_keeps_only_those_events,
            since_and_until_bound_a_search,
            text_search_needs_every_word_in_the_message_or_identifiers,
            text_search_does_not_match_part_of_a_word,
            drills_are_left_out_of_searches_unless_asked_for,
            actionable_only_keeps_the_events_people_must_act_on,
            searches_return_the_newest_events_first_up_to_the_limit,
            an_id_prefix_resolves_to_the_events_it_starts,
            a_delivery_is_recorded_once,
            an_event_has_one_delivery_per_output_beside_slacks,
            deliveries_fall_due_by_their_next_attempt_oldest_first,
            deliveries_are_listed_by_state_latest_change_first,
            a_saved_delivery_reads_back_as_saved,
            threads_are_found_by_channel_and_anchor,
            a_lease_is_held_by_one_holder_until_it_expires,
            a_claim_takes_the_lease_and_the_delivery_as_recorded_or_nothing,
            an_alert_left_pending_is_read_by_the_next_claim_in_its_channel,
            maintenances_held_for_a_claim_are_saved_by_it_or_before_anything_else,
            outbox_writes_saved_together_give_the_lease_back_only_to_its_holder,
            concurrent_writes_of_one_event_store_it_once,
            concurrent_ingests_of_one_notification_store_it_once,
            acknowledgements_of_any_event_of_a_maintenance_read_back_oldest_first,
            a_step_done_twice_counts_the_first_time,
            a_later_outcome_replaces_an_earlier_one_and_the_year_lists_them_in_order,
            mutes_hold_until_they_expire,
            the_latest_facts_read_of_a_cluster_come_back_with_the_time_they_were_read,
        }
    };
}

/// Said when a search word matched part of a word.
const PART_OF_A_WORD: &str = "a word matches whole words only";

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch";
const CHANNEL: &str = "C0ALERTS";

/// Now, to the minute (maintenance texts give windows to the minute).
pub fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::minutes(1))
        .expect("now is a representable time")
}

/// A time as ElastiCache's texts write window bounds: `Jun 25 19:00 UTC`.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

/// One DescribeEvents record.
fn record(at: DateTime<Utc>, source: &str, source_type: &str, message: &str) -> Value {
    json!({
        "SourceIdentifier": source,
        "SourceType": source_type,
        "Date": at.to_rfc3339(),
        "Message": message,
    })
}

/// DescribeEvents output, as the AWS CLI prints it.
fn describe_events(records: &[Value]) -> String {
    json!({ "Events": records }).to_string()
}

/// An SNS HTTP notification carrying an ElastiCache message body.
fn sns(at: DateTime<Utc>, message_id: &str, body: Value) -> String {
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Subject": "ElastiCache notification",
        "Message": body.to_string(),
        "Timestamp": at.to_rfc3339(),
    })
    .to_string()
}

/// The text of a replacement scheduled for `[start, start + 1h]`.
fn scheduled(cluster: &str, node: &str, start: DateTime<Utc>) -> String {
    format!(
        "The node with Cache Cluster ID: {cluster}, Node ID: {node} is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
        text_time(start),
        text_time(start + Duration::hours(1))
    )
}

/// DescribeEvents text of one event of cache cluster `cluster` at `at`.
fn cluster_text(at: DateTime<Utc>, cluster: &str, message: &str) -> String {
    describe_events(&[record(at, cluster, "cache-cluster", message)])
}

/// DescribeEvents text of `cluster` node 0001's replacement, announced at `at` for `start`.
fn scheduled_text(at: DateTime<Utc>, cluster: &str, start: DateTime<Utc>) -> String {
    cluster_text(at, cluster, &scheduled(cluster, "0001", start))
}

/// One occurrence reported twice: the poller's text of `cluster`'s maintenance starting
/// `starts_in` from now, read six hours ago, and SNS's notice `message_id`, stamped `later`.
fn text_and_notice(
    cluster: &str,
    starts_in: Duration,
    later: Duration,
    message_id: &str,
) -> (String, String) {
    let now = now();
    let at = now - Duration::hours(6);
    (
        scheduled_text(at, cluster, now + starts_in),
        scheduled_notice(at + later, message_id, cluster),
    )
}

/// SNS's notice, at `at`, of `cluster`'s node replacement.
fn scheduled_notice(at: DateTime<Utc>, message_id: &str, cluster: &str) -> String {
    sns(
        at,
        message_id,
        json!({"ElastiCache:NodeReplacementScheduled": cluster}),
    )
}

fn snapshot_failed(cluster: &str) -> String {
    format!(
        "Snapshot failed for snapshot with ID 'automatic.{cluster}-nightly' of cache cluster with ID '{cluster}'"
    )
}

fn snapshot_succeeded(cluster: &str) -> String {
    format!(
        "Snapshot succeeded for snapshot with ID 'automatic.{cluster}-nightly' of cache cluster with ID '{cluster}'"
    )
}

fn parse_with(input: &str, drill: bool) -> Vec<MaintenanceEvent> {
    let ctx = ParseContext {
        received_at: now(),
        drill,
    };
    parse_document(input, &ctx).expect("the input is a realistic payload")
}

/// The events of an input, as the parser reads them.
fn parse(input: &str) -> Vec<MaintenanceEvent> {
    parse_with(input, false)
}

/// Ingests an input as `cachewatch ingest` and the functions do.
async fn ingest_input<S: EventStore>(store: &S, input: &str) -> IngestOutcome {
    ingest(store, parse(input), &AlertPolicy::default())
        .await
        .expect("the store takes the events")
}

/// Ingests an input as a drill does.
async fn ingest_drill<S: EventStore>(store: &S, input: &str) -> IngestOutcome {
    ingest(store, parse_with(input, true), &AlertPolicy::default())
        .await
        .expect("the store takes the events")
}

/// A query for everything but what `set` changes.
fn query(set: impl FnOnce(&mut EventQuery)) -> EventQuery {
    let mut query = EventQuery::default();
    set(&mut query);
    query
}

async fn search<S: EventStore>(store: &S, query: EventQuery) -> Vec<MaintenanceEvent> {
    store.search(&query).await.expect("the search runs")
}

fn ids(events: &[MaintenanceEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id.clone()).collect()
}

fn id_set(events: &[MaintenanceEvent]) -> BTreeSet<EventId> {
    events.iter().map(|e| e.id.clone()).collect()
}

/// `events` newest first, as searches order them.
fn newest_first(events: &[MaintenanceEvent]) -> Vec<EventId> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| (b.occurred_at, &b.id).cmp(&(a.occurred_at, &a.id)));
    ids(&sorted)
}

fn event_id(hex: &str) -> EventId {
    EventId::parse(hex).expect("a twenty-digit hex id")
}

/// A week of one team's history: three replication groups' members, a replication group event,
/// a standalone Memcached cluster, snapshots, a failover, a replacement.
fn fleet_history(now: DateTime<Utc>) -> Vec<Value> {
    let h = Duration::hours;
    vec![
        record(
            now - h(150),
            "orders-0001-001",
            "cache-cluster",
            &snapshot_succeeded("orders-0001-001"),
        ),
        record(
            now - h(126),
            "orders-0002-001",
            "cache-cluster",
            &snapshot_failed("orders-0002-001"),
        ),
        record(
            now - h(100),
            "orders",
            "replication-group",
            "Failover to replica node orders-0001-002 completed",
        ),
        record(
            now - h(99),
            "orders-0001-002",
            "cache-cluster",
            "Failover to replica node orders-0001-002 completed",
        ),
        record(
            now - h(80),
            "payments-0001-001",
            "cache-cluster",
            &snapshot_failed("payments-0001-001"),
        ),
        record(
            now - h(60),
            "sessions-mc",
            "cache-cluster",
            "Recovering cache nodes 0002",
        ),
        record(
            now - h(59),
            "sessions-mc",
            "cache-cluster",
            "Finished recovery for cache nodes 0002",
        ),
        record(
            now - h(40),
            "ordersx-0001-001",
            "cache-cluster",
            &snapshot_succeeded("ordersx-0001-001"),
        ),
        record(
            now - h(20),
            "orders-0001-001",
            "cache-cluster",
            &scheduled("orders-0001-001", "0001", now + h(30)),
        ),
        record(
            now - h(10),
            "sessions-mc",
            "cache-cluster",
            "Recovering cache nodes 0001",
        ),
        record(
            now - h(2),
            "payments-0001-001",
            "cache-cluster",
            &snapshot_succeeded("payments-0001-001"),
        ),
    ]
}

/// Ingests [`fleet_history`] and returns its events.
async fn with_fleet_history<S: EventStore>(store: &S) -> Vec<MaintenanceEvent> {
    let outcome = ingest_input(store, &describe_events(&fleet_history(now()))).await;
    assert_eq!(
        outcome.new_count(),
        11,
        "every record is an event of its own"
    );
    outcome.events.into_iter().map(|e| e.event).collect()
}

/// The events of `events` about `source`.
fn about(events: &[MaintenanceEvent], source: &str) -> BTreeSet<EventId> {
    events
        .iter()
        .filter(|e| e.source_id.as_str() == source)
        .map(|e| e.id.clone())
        .collect()
}

/// An SNS notice and the same event delivered again; the same record twice in one
/// DescribeEvents page.
pub async fn the_same_event_delivered_twice_is_stored_once<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    let notice = scheduled_notice(
        now - Duration::hours(1),
        "b5e1f0c2-1111-4a4a-9d9d-000000000001",
        "orders-0001-001",
    );
    let first = ingest_input(store, &notice).await;
    assert_eq!(first.new_count(), 1);
    let again = ingest_input(store, &notice).await;
    assert_eq!(again.new_count(), 0, "a redelivery is not a new event");
    assert_eq!(again.events[0].event.id, first.events[0].event.id);

    let text = record(
        now - Duration::hours(3),
        "payments-0001-001",
        "cache-cluster",
        &snapshot_failed("payments-0001-001"),
    );
    let page = ingest_input(store, &describe_events(&[text.clone(), text])).await;
    assert_eq!(page.new_count(), 1, "a record repeated within one page");

    let all = search(store, query(|q| q.include_drills = true)).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    let stored = store.event(&first.events[0].event.id).await.unwrap();
    assert_eq!(
        stored.and_then(|e| e.event_name).as_deref(),
        Some("ElastiCache:NodeReplacementScheduled")
    );
}

/// Every field of the normalized event survives the store: windows, previous windows, failover
/// nodes, metadata attributes, region and account, origin, reception time.
pub async fn an_event_reads_back_as_it_was_stored<S: EventStore + DeliveryStore>(store: &S) {
    let now = now();
    let (w1, w2) = (now + Duration::days(2), now + Duration::days(5));
    let reschedule = record(
        now - Duration::hours(5),
        "mc-sessions",
        "cache-cluster",
        &format!(
            "The replacement in maintenance window for node with Cache Cluster ID: mc-sessions, Node ID: 0002 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
            text_time(w1),
            text_time(w1 + Duration::hours(1)),
            text_time(w2),
            text_time(w2 + Duration::hours(1))
        ),
    );
    let failover = record(
        now - Duration::hours(4),
        "ledger",
        "replication-group",
        "Failover from master node ledger-0001-001 to replica node ledger-0001-002 completed",
    );
    let mut inputs = vec![describe_events(&[reschedule, failover])];
    inputs.push(sns(
        now - Duration::hours(2),
        "b5e1f0c2-2222-4a4a-9d9d-000000000002",
        json!({
            "Replication Group ID": "catalog",
            "Service Update Name": "elasticache-20260914-valkey-patch",
            "Cache Cluster ID": "catalog-0001-002",
            "ElastiCache:ServiceUpdateAvailable": "catalog",
        }),
    ));
    let mut written = Vec::new();
    for input in &inputs {
        written.extend(ingest_input(store, input).await.events);
    }
    assert_eq!(written.len(), 3);
    for w in written {
        let stored = store.event(&w.event.id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&w.event), "{}", w.event.kind);
    }
}

/// The poller's DescribeEvents text arrives first; SNS's notice of the same occurrence, stamped a
/// few seconds later, is merged into it; both delivered again stay one event.
pub async fn a_notice_and_the_text_of_one_occurrence_are_stored_as_one_event<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let (text, notice) = text_and_notice(
        "orders-0001-001",
        Duration::days(3),
        Duration::seconds(3),
        "b5e1f0c2-3333-4a4a-9d9d-000000000003",
    );
    let stored = ingest_input(store, &text).await;
    assert_eq!(stored.new_count(), 1);
    let text_id = stored.events[0].event.id.clone();

    let merged = ingest_input(store, &notice).await;
    assert_eq!(merged.new_count(), 0, "the notice is the same occurrence");
    assert_eq!(
        merged.events[0].event.id, text_id,
        "stored under the first id"
    );
    let notice_id = parse(&notice)[0].id.clone();
    assert_ne!(notice_id, text_id);

    let e = store.event(&text_id).await.unwrap().expect("stored");
    assert_eq!(
        e.event_name.as_deref(),
        Some("ElastiCache:NodeReplacementScheduled"),
        "the notice's name is kept"
    );
    assert!(e.message.is_some(), "the text is kept");
    assert!(e.window.is_some());
    assert_eq!(e.account_id.as_deref(), Some("111122223333"));
    let by_alias = store.event(&notice_id).await.unwrap();
    assert_eq!(
        by_alias.as_ref().map(|e| &e.id),
        Some(&text_id),
        "the notice's id finds it"
    );

    for input in [&notice, &text] {
        let again = ingest_input(store, input).await;
        assert_eq!(again.new_count(), 0, "delivered again, still a duplicate");
        assert_eq!(again.events[0].event.id, text_id);
    }
    let all = search(store, EventQuery::default()).await;
    assert_eq!(ids(&all), [text_id]);
}

/// A writer that decided on stale candidates (another ingest merged the notice a moment
/// earlier) stores the notice as new: the store refuses, because the notice's id already names
/// the merged event.
pub async fn a_merged_reports_id_is_not_stored_again_as_a_new_event<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let (text, notice) = text_and_notice(
        "payments-0001-001",
        Duration::days(2),
        Duration::seconds(4),
        "b5e1f0c2-7777-4a4a-9d9d-000000000007",
    );
    ingest_input(store, &text).await;
    assert_eq!(ingest_input(store, &notice).await.new_count(), 0);

    let late = parse(&notice).remove(0);
    let outcome = store
        .write(&[EventWrite::Insert(late.clone())])
        .await
        .unwrap();
    assert_eq!(outcome, [WriteOutcome::AlreadyStored]);
    let all = search(store, EventQuery::default()).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_ne!(all[0].id, late.id);
}

/// `sns` published to a topic of `account` in eu-west-1.
fn sns_from(account: &str, at: DateTime<Utc>, message_id: &str, body: Value) -> String {
    sns(at, message_id, body).replace("111122223333", account)
}

/// The events of an input, as the poller reads them in `account` and eu-west-1.
fn read_in(account: &str, input: &str) -> Vec<MaintenanceEvent> {
    let mut events = parse(input);
    for e in &mut events {
        e.stamp_place(account, "eu-west-1");
    }
    events
}

async fn ingest_events<S: EventStore>(store: &S, events: Vec<MaintenanceEvent>) -> IngestOutcome {
    ingest(store, events, &AlertPolicy::default())
        .await
        .expect("the store takes the events")
}

/// `sessions-redis` in prod and in staging, both scheduled for replacement in the same second:
/// two events, two maintenances, each of its account; delivered again, nothing changes.
pub async fn one_cluster_name_in_two_accounts_in_the_same_second_is_two_events_and_two_maintenances<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let at = now() - Duration::hours(1);
    let body = json!({"ElastiCache:NodeReplacementScheduled": "sessions-redis"});
    let prod = sns_from(
        "111122223333",
        at,
        "b5e1f0c2-0a0a-4a4a-9d9d-00000000000a",
        body.clone(),
    );
    let staging = sns_from(
        "444455556666",
        at,
        "b5e1f0c2-0b0b-4a4a-9d9d-00000000000b",
        body,
    );
    let both = ingest_input(store, &format!("{prod}\n{staging}")).await;
    assert_eq!(both.new_count(), 2);
    for input in [&prod, &staging] {
        assert_eq!(ingest_input(store, input).await.new_count(), 0);
    }
    let stored = search(store, query(|q| q.cluster = Some("sessions-redis".into()))).await;
    assert_eq!(stored.len(), 2, "{stored:#?}");
    let mut places = BTreeMap::new();
    for e in &stored {
        let m = store
            .maintenance(&e.id)
            .await
            .unwrap()
            .expect("its maintenance");
        assert_eq!(m.event_ids, std::slice::from_ref(&e.id), "{m:#?}");
        assert_eq!(m.account_id, e.account_id);
        places.insert(e.account_id.clone().unwrap(), m.id);
    }
    assert_eq!(places.len(), 2);
    let open = store.open_maintenances(now(), false).await.unwrap();
    assert_eq!(
        open.iter()
            .filter(|m| m.group_key == "sessions-redis")
            .count(),
        2,
        "{open:#?}"
    );
}

/// A history kept before ids knew accounts holds the text without one; the poller reads it
/// again with its account: the same event, which learns its account and keeps its id.
pub async fn a_report_kept_without_its_account_is_one_event_with_its_read_with_the_account<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let text = scheduled_text(
        now - Duration::hours(2),
        "carts-0001-001",
        now + Duration::days(3),
    );
    let kept = ingest_input(store, &text).await.events.remove(0).event;
    assert_eq!(kept.account_id, None);
    for _ in 0..2 {
        let read = ingest_events(store, read_in("111122223333", &text)).await;
        assert_eq!(read.new_count(), 0);
        assert_eq!(read.events[0].event.id, kept.id);
    }
    let all = search(store, EventQuery::default()).await;
    assert_eq!(ids(&all), std::slice::from_ref(&kept.id));
    assert_eq!(all[0].account_id.as_deref(), Some("111122223333"));
    let m = store
        .maintenance(&kept.id)
        .await
        .unwrap()
        .expect("its maintenance");
    assert_eq!(m.event_ids, [kept.id]);
}

/// The poller read the text with its account; someone ingests a describe-events file of the
/// same day, which knows no account: nothing new.
pub async fn a_report_read_with_its_account_is_one_event_with_its_file_copy_without<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let text = scheduled_text(
        now - Duration::hours(2),
        "carts-0001-001",
        now + Duration::days(3),
    );
    let read = ingest_events(store, read_in("111122223333", &text)).await;
    let placed = read.events[0].event.clone();
    assert!(placed.id_without_place().is_some());
    let file = ingest_input(store, &text).await;
    assert_eq!(file.new_count(), 0);
    assert_eq!(file.events[0].event.id, placed.id);
    assert_eq!(
        ids(&search(store, EventQuery::default()).await),
        [placed.id]
    );
}

/// An event a spoke's poller stored with its account but under the id of before (as versions
/// whose ids did not know accounts wrote it) is not stored again when the poller reads it now.
pub async fn an_event_kept_under_the_id_of_before_is_not_stored_again_by_its_spoke<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let text = scheduled_text(
        now - Duration::hours(2),
        "web-0001-001",
        now + Duration::days(3),
    );
    let mut before = parse(&text).remove(0);
    before.account_id = Some("444455556666".into());
    before.region = Some("eu-west-1".into());
    store
        .write(&[EventWrite::Insert(before.clone())])
        .await
        .unwrap();
    let read = ingest_events(store, read_in("444455556666", &text)).await;
    assert_eq!(read.new_count(), 0);
    assert_eq!(read.events[0].event.id, before.id);
    // Another account's cluster of the same name is its own event.
    let other = ingest_events(store, read_in("111122223333", &text)).await;
    assert_eq!(other.new_count(), 1);
    assert_eq!(search(store, EventQuery::default()).await.len(), 2);
}

/// One node's replacement: scheduled, started in its window, finished.
fn replacement(now: DateTime<Utc>) -> String {
    let window = now - Duration::days(2);
    describe_events(&[
        record(
            now - Duration::days(3),
            "orders-0001-001",
            "cache-cluster",
            &scheduled("orders-0001-001", "0001", window),
        ),
        record(
            window + Duration::minutes(2),
            "orders-0001-001",
            "cache-cluster",
            "Recovering cache nodes 0001",
        ),
        record(
            window + Duration::minutes(20),
            "orders-0001-001",
            "cache-cluster",
            "Finished recovery for cache nodes 0001",
        ),
    ])
}

/// After ingest, each event of a replacement names its maintenance, wherever it is read from.
pub async fn events_learn_the_maintenance_they_belong_to<S: EventStore + DeliveryStore>(store: &S) {
    let outcome = ingest_input(store, &replacement(now())).await;
    let events: Vec<MaintenanceEvent> = outcome.events.into_iter().map(|e| e.event).collect();
    let first = events[0].id.clone();
    for e in &events {
        assert_eq!(e.maintenance_id.as_ref(), Some(&first), "{}", e.kind);
        let stored = store.event(&e.id).await.unwrap().expect("stored");
        assert_eq!(stored.maintenance_id.as_ref(), Some(&first), "{}", e.kind);
    }
    for e in search(store, EventQuery::default()).await {
        assert_eq!(e.maintenance_id.as_ref(), Some(&first), "{}", e.kind);
    }
    let groups = store.group_events(&["orders".to_owned()]).await.unwrap();
    assert_eq!(groups.keys().collect::<Vec<_>>(), ["orders"]);
    assert_eq!(id_set(&groups["orders"]), id_set(&events));
}

/// `cachewatch show` of any id a person has seen: the maintenance's, a member event's, or the id
/// of a notice that was merged into one.
pub async fn a_maintenance_is_found_by_its_id_and_by_any_of_its_events<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let outcome = ingest_input(store, &replacement(now)).await;
    let notice = scheduled_notice(
        now - Duration::days(3) + Duration::seconds(2),
        "b5e1f0c2-4444-4a4a-9d9d-000000000004",
        "orders-0001-001",
    );
    assert_eq!(ingest_input(store, &notice).await.new_count(), 0);
    let other = ingest_input(
        store,
        &cluster_text(
            now - Duration::hours(1),
            "orders-0001-001",
            &snapshot_succeeded("orders-0001-001"),
        ),
    )
    .await;

    let events: Vec<&MaintenanceEvent> = outcome.events.iter().map(|e| &e.event).collect();
    let by_id = store
        .maintenance(&events[0].id)
        .await
        .unwrap()
        .expect("found by its id");
    assert_eq!(by_id.id, events[0].id);
    assert_eq!(by_id.state, MaintenanceState::Completed);
    let member_ids: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(by_id.event_ids, member_ids);
    for e in &events[1..] {
        let by_member = store.maintenance(&e.id).await.unwrap();
        assert_eq!(by_member.as_ref(), Some(&by_id), "{}", e.kind);
    }
    let notice_id = parse(&notice)[0].id.clone();
    assert_eq!(
        store.maintenance(&notice_id).await.unwrap().as_ref(),
        Some(&by_id)
    );
    assert_eq!(
        store.maintenance(&other.events[0].event.id).await.unwrap(),
        None,
        "a snapshot"
    );
    assert_eq!(
        store
            .maintenance(&event_id("0123456789abcdef0123"))
            .await
            .unwrap(),
        None
    );
}

/// `cachewatch upcoming`: a window ahead is open, a window that passed without news is not, a
/// completed replacement is not, and a drill's only when drills are asked for.
pub async fn only_maintenances_not_over_yet_are_open<S: EventStore + DeliveryStore>(store: &S) {
    let now = now();
    let h = Duration::hours;
    let ahead = ingest_input(
        store,
        &scheduled_text(now - h(1), "orders-0001-001", now + h(20)),
    )
    .await;
    let passed = ingest_input(
        store,
        &scheduled_text(now - h(72), "payments-0001-002", now - h(48)),
    )
    .await;
    ingest_input(store, &replacement(now)).await;
    let drill = ingest_drill(
        store,
        &scheduled_text(now - h(2), "drill-0001-001", now + h(10)),
    )
    .await;
    let id_of = |o: &IngestOutcome| o.events[0].event.id.clone();

    let open: BTreeSet<EventId> = store
        .open_maintenances(now, false)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(open, BTreeSet::from([id_of(&ahead)]));
    let with_drills: BTreeSet<EventId> = store
        .open_maintenances(now, true)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(with_drills, BTreeSet::from([id_of(&ahead), id_of(&drill)]));
    assert!(!with_drills.contains(&id_of(&passed)));
    let later = store.open_maintenances(now + h(22), true).await.unwrap();
    assert!(later.is_empty(), "every window has passed: {later:#?}");
}

/// `--cluster orders` finds the events of `orders-0001-001`, `orders-0002-001` and of the
/// replication group itself; `--cluster orders-0001-001` only that member's.
pub async fn a_replication_group_search_finds_its_member_clusters<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let events = with_fleet_history(store).await;
    let by_cluster = |cluster: &str| EventQuery {
        cluster: Some(cluster.to_owned()),
        ..EventQuery::default()
    };
    let orders: BTreeSet<EventId> = [
        "orders",
        "orders-0001-001",
        "orders-0001-002",
        "orders-0002-001",
    ]
    .iter()
    .flat_map(|s| about(&events, s))
    .collect();
    assert_eq!(orders.len(), 5);
    let found = search(store, by_cluster("orders")).await;
    assert_eq!(id_set(&found), orders, "not ordersx's");
    assert_eq!(ids(&found), newest_first(&found));

    let member = search(store, by_cluster("orders-0001-001")).await;
    assert_eq!(id_set(&member), about(&events, "orders-0001-001"));
    let standalone = search(store, by_cluster("sessions-mc")).await;
    assert_eq!(id_set(&standalone), about(&events, "sessions-mc"));
    assert!(search(store, by_cluster("inventory")).await.is_empty());
}

/// `--node 0001` finds that node's events only.
pub async fn a_node_search_finds_only_that_node<S: EventStore + DeliveryStore>(store: &S) {
    let events = with_fleet_history(store).await;
    let node = |n: &str, cluster: Option<&str>| EventQuery {
        node: Some(n.to_owned()),
        cluster: cluster.map(str::to_owned),
        ..EventQuery::default()
    };
    let with_node = |n: &str| -> BTreeSet<EventId> {
        events
            .iter()
            .filter(|e| e.node_id.as_ref().is_some_and(|id| id.as_str() == n))
            .map(|e| e.id.clone())
            .collect()
    };
    assert_eq!(with_node("0002").len(), 2);
    assert_eq!(
        id_set(&search(store, node("0002", None)).await),
        with_node("0002")
    );
    let found = search(store, node("0001", Some("sessions-mc"))).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source_id.as_str(), "sessions-mc");
    assert!(search(store, node("0009", None)).await.is_empty());
}

/// `--kind snapshot_failed`, `--category failover`.
pub async fn a_search_by_kind_or_category_keeps_only_those_events<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let events = with_fleet_history(store).await;
    let of_kind = |kind: &str| -> BTreeSet<EventId> {
        events
            .iter()
            .filter(|e| e.kind.as_str() == kind)
            .map(|e| e.id.clone())
            .collect()
    };
    let failed = search(
        store,
        query(|q| q.kind = Some(EventKind::new(EventKind::SNAPSHOT_FAILED))),
    )
    .await;
    assert_eq!(id_set(&failed), of_kind(EventKind::SNAPSHOT_FAILED));
    assert_eq!(failed.len(), 2);

    let failovers = search(store, query(|q| q.category = Some(Category::Failover))).await;
    assert_eq!(id_set(&failovers), of_kind(EventKind::FAILOVER_COMPLETE));
    assert_eq!(failovers.len(), 2);

    let replacements = search(
        store,
        query(|q| {
            q.category = Some(Category::NodeReplacement);
            q.cluster = Some("sessions-mc".into());
        }),
    )
    .await;
    assert_eq!(replacements.len(), 3);
    let started_in_orders = search(
        store,
        query(|q| {
            q.kind = Some(EventKind::new(EventKind::CACHE_NODE_REPLACE_STARTED));
            q.cluster = Some("orders".into());
        }),
    )
    .await;
    assert!(started_in_orders.is_empty());
}

/// `--since` includes its instant, `--until` leaves its instant out.
pub async fn since_and_until_bound_a_search<S: EventStore + DeliveryStore>(store: &S) {
    let now = now();
    let times = [
        now - Duration::days(5),
        now - Duration::days(3),
        now - Duration::days(1),
        now - Duration::hours(1),
    ];
    let records: Vec<Value> = times
        .iter()
        .map(|t| {
            record(
                *t,
                "orders-0001-001",
                "cache-cluster",
                &snapshot_succeeded("orders-0001-001"),
            )
        })
        .collect();
    let events: Vec<MaintenanceEvent> = ingest_input(store, &describe_events(&records))
        .await
        .events
        .into_iter()
        .map(|e| e.event)
        .collect();
    let window = |since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>| EventQuery {
        since,
        until,
        ..EventQuery::default()
    };
    let found = search(store, window(Some(times[1]), Some(times[2]))).await;
    assert_eq!(ids(&found), [events[1].id.clone()]);
    let found = search(store, window(Some(times[1]), None)).await;
    assert_eq!(
        ids(&found),
        [
            events[3].id.clone(),
            events[2].id.clone(),
            events[1].id.clone()
        ]
    );
    let found = search(store, window(None, Some(times[2]))).await;
    assert_eq!(ids(&found), [events[1].id.clone(), events[0].id.clone()]);
    let found = search(
        store,
        EventQuery {
            cluster: Some("orders".into()),
            ..window(
                Some(times[0] + Duration::seconds(1)),
                Some(times[3] + Duration::seconds(1)),
            )
        },
    )
    .await;
    assert_eq!(
        ids(&found),
        [
            events[3].id.clone(),
            events[2].id.clone(),
            events[1].id.clone()
        ]
    );
    assert!(
        search(store, window(Some(times[2]), Some(times[1])))
            .await
            .is_empty()
    );
}

fn text(words: &str) -> EventQuery {
    EventQuery {
        text: Some(words.to_owned()),
        ..EventQuery::default()
    }
}

/// `--text "snapshot failed"`: every word must appear, in any case, in the message or the
/// identifiers (cluster, group, node, kind).
pub async fn text_search_needs_every_word_in_the_message_or_identifiers<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let events = with_fleet_history(store).await;
    let failed: BTreeSet<EventId> = events
        .iter()
        .filter(|e| e.kind.is(EventKind::SNAPSHOT_FAILED))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(
        id_set(&search(store, text("Snapshot FAILED")).await),
        failed
    );
    let payments = search(store, text("failed payments")).await;
    assert_eq!(
        id_set(&payments),
        about(&events, "payments-0001-001")
            .intersection(&failed)
            .cloned()
            .collect()
    );
    assert!(search(store, text("failed sessions")).await.is_empty());

    let by_node = search(store, text("recovery 0002")).await;
    assert_eq!(by_node.len(), 1, "the node id is a word of the event");
    let by_group = search(store, text("payments nightly")).await;
    assert_eq!(
        by_group.len(),
        2,
        "the group's name is a word of its members' ids"
    );
    let by_kind = search(store, text("replace complete")).await;
    assert_eq!(by_kind.len(), 1, "the kind's words");
    let narrowed = search(
        store,
        EventQuery {
            cluster: Some("orders-0002-001".into()),
            ..text("nightly")
        },
    )
    .await;
    assert_eq!(id_set(&narrowed), about(&events, "orders-0002-001"));
    let syntax = search(store, text(r#"failed" OR "x*"#)).await;
    assert!(
        syntax.is_empty(),
        "words only, no search syntax: {syntax:#?}"
    );
}

/// `--text fail` does not find `failed` or `failover`: words are whole words.
pub async fn text_search_does_not_match_part_of_a_word<S: EventStore + DeliveryStore>(store: &S) {
    let events = with_fleet_history(store).await;
    assert_eq!(search(store, text("failed")).await.len(), 2);
    let orders: BTreeSet<EventId> = ["orders-0001-001", "orders-0002-001"]
        .iter()
        .flat_map(|s| about(&events, s))
        .filter(|id| {
            events
                .iter()
                .any(|e| &e.id == id && e.message.as_deref().is_some_and(|m| m.contains("nightly")))
        })
        .collect();
    let found = search(store, text("orders nightly")).await;
    assert_eq!(id_set(&found), orders, "{PART_OF_A_WORD}: not ordersx's");
    for part in ["fail", "snap", "order", "0000"] {
        let found = search(store, text(part)).await;
        assert!(
            found.is_empty(),
            "{PART_OF_A_WORD}: {part:?} found {}",
            found.len()
        );
    }
}

/// Drill events stay out of the history people read, unless they ask for drills.
pub async fn drills_are_left_out_of_searches_unless_asked_for<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    let real = ingest_input(
        store,
        &cluster_text(
            now - Duration::hours(3),
            "orders-0001-001",
            "Recovering cache nodes 0001",
        ),
    )
    .await;
    let drill = ingest_drill(
        store,
        &cluster_text(
            now - Duration::hours(2),
            "orders-0001-001",
            "Recovering cache nodes 0001",
        ),
    )
    .await;
    assert!(drill.events[0].event.drill);
    let real_id = real.events[0].event.id.clone();
    let drill_id = drill.events[0].event.id.clone();
    for query in [
        EventQuery::default(),
        EventQuery {
            cluster: Some("orders".into()),
            ..EventQuery::default()
        },
        EventQuery {
            kind: Some(EventKind::new(EventKind::CACHE_NODE_REPLACE_STARTED)),
            ..EventQuery::default()
        },
        text("recovering"),
    ] {
        assert_eq!(
            ids(&search(store, query.clone()).await),
            std::slice::from_ref(&real_id),
            "{query:?}"
        );
        let asked = EventQuery {
            include_drills: true,
            ..query
        };
        assert_eq!(
            ids(&search(store, asked.clone()).await),
            [drill_id.clone(), real_id.clone()],
            "{asked:?}"
        );
    }
}

/// `--actionable`: replacements and failovers, not snapshots.
pub async fn actionable_only_keeps_the_events_people_must_act_on<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let events = with_fleet_history(store).await;
    let actionable: BTreeSet<EventId> = events
        .iter()
        .filter(|e| e.actionable)
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(actionable.len(), 6);
    let found = search(store, query(|q| q.actionable_only = true)).await;
    assert_eq!(id_set(&found), actionable);
    let in_orders = search(
        store,
        query(|q| {
            q.actionable_only = true;
            q.cluster = Some("orders".into());
        }),
    )
    .await;
    assert_eq!(
        in_orders.len(),
        3,
        "two failover reports and the scheduled replacement"
    );
}

/// `cachewatch events --limit 7` over a busy fortnight: the seven newest, newest first, and the
/// same order without a limit; over the whole history, a cluster and a kind.
pub async fn searches_return_the_newest_events_first_up_to_the_limit<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let clusters = ["orders-0001-001", "orders-0002-001", "payments-0001-001"];
    let records: Vec<Value> = (0..42)
        .map(|i| {
            let cluster = clusters[i % clusters.len()];
            let at = now - Duration::hours(8 * i as i64 + 1) - Duration::minutes(i as i64);
            let message = if i % 4 == 0 {
                snapshot_failed(cluster)
            } else {
                snapshot_succeeded(cluster)
            };
            record(at, cluster, "cache-cluster", &message)
        })
        .collect();
    // Two events in the same second, told apart by their ids.
    let mut records = records;
    records.push(record(
        now - Duration::hours(1),
        "payments-0002-001",
        "cache-cluster",
        &snapshot_succeeded("payments-0002-001"),
    ));
    let events: Vec<MaintenanceEvent> = ingest_input(store, &describe_events(&records))
        .await
        .events
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events.len(), 43);
    let everything = newest_first(&events);

    let limited = search(store, query(|q| q.limit = 7)).await;
    assert_eq!(ids(&limited), everything[..7]);
    let all = search(store, query(|q| q.limit = 1000)).await;
    assert_eq!(ids(&all), everything);
    let one = search(store, query(|q| q.limit = 1)).await;
    assert_eq!(ids(&one), everything[..1]);
    assert!(
        search(
            store,
            EventQuery {
                limit: 0,
                ..EventQuery::default()
            }
        )
        .await
        .is_empty()
    );

    let orders: Vec<MaintenanceEvent> = events
        .iter()
        .filter(|e| e.cluster_group() == "orders")
        .cloned()
        .collect();
    let found = search(
        store,
        query(|q| {
            q.cluster = Some("orders".into());
            q.limit = 5;
        }),
    )
    .await;
    assert_eq!(ids(&found), newest_first(&orders)[..5]);
    let failed: Vec<MaintenanceEvent> = events
        .iter()
        .filter(|e| e.kind.is(EventKind::SNAPSHOT_FAILED))
        .cloned()
        .collect();
    let found = search(
        store,
        query(|q| {
            q.kind = Some(EventKind::new(EventKind::SNAPSHOT_FAILED));
            q.limit = 4;
        }),
    )
    .await;
    assert_eq!(ids(&found), newest_first(&failed)[..4]);
    let found = search(
        store,
        EventQuery {
            limit: 6,
            ..text("failed")
        },
    )
    .await;
    assert_eq!(ids(&found), newest_first(&failed)[..6]);
}

/// `cachewatch show 3f9a`: a prefix typed by a person names its events in id order; an
/// ambiguous prefix names several, and the limit caps them.
pub async fn an_id_prefix_resolves_to_the_events_it_starts<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    // Find two events whose ids share their first four digits.
    let candidates = parse(&describe_events(
        &(0..3000)
            .map(|i| {
                record(
                    now - Duration::hours(2),
                    &format!("shop-{i:04}"),
                    "cache-cluster",
                    "Recovering cache nodes 0001",
                )
            })
            .collect::<Vec<_>>(),
    ));
    let mut seen: BTreeMap<String, &MaintenanceEvent> = BTreeMap::new();
    let pair = candidates
        .iter()
        .find_map(|e| {
            seen.insert(e.id.as_str()[..4].to_owned(), e)
                .map(|earlier| (earlier.clone(), e.clone()))
        })
        .expect("3000 ids share a four-digit prefix somewhere");
    let others: Vec<MaintenanceEvent> = candidates
        .iter()
        .filter(|e| e.id.as_str()[..4] != pair.0.id.as_str()[..4])
        .take(5)
        .cloned()
        .collect();
    let mut events = vec![pair.0.clone(), pair.1.clone()];
    events.extend(others.iter().cloned());
    let outcome = ingest(store, events, &AlertPolicy::default())
        .await
        .unwrap();
    assert_eq!(outcome.new_count(), 7);

    let prefix = EventId::parse_prefix(&pair.0.id.as_str()[..4]).unwrap();
    let mut both = vec![pair.0.id.clone(), pair.1.id.clone()];
    both.sort();
    assert_eq!(store.resolve(&prefix, 6).await.unwrap(), both, "ambiguous");
    assert_eq!(store.resolve(&prefix, 1).await.unwrap(), both[..1]);
    let whole = EventId::parse_prefix(others[0].id.as_str()).unwrap();
    assert_eq!(
        store.resolve(&whole, 6).await.unwrap(),
        [others[0].id.clone()]
    );
    let longer = EventId::parse_prefix(&others[1].id.as_str()[..9]).unwrap();
    assert_eq!(
        store.resolve(&longer, 6).await.unwrap(),
        [others[1].id.clone()]
    );
    let unknown = (0..=0xffff_u32)
        .map(|n| format!("{n:04x}"))
        .find(|p| events_missing_prefix(&outcome, p))
        .and_then(|p| EventId::parse_prefix(&p))
        .unwrap();
    assert!(store.resolve(&unknown, 6).await.unwrap().is_empty());
}

fn events_missing_prefix(outcome: &IngestOutcome, prefix: &str) -> bool {
    outcome
        .events
        .iter()
        .all(|e| !e.event.id.as_str().starts_with(prefix))
}

fn delivery(hex: &str, state: DeliveryState, created: DateTime<Utc>) -> Delivery {
    Delivery::new(
        event_id(hex),
        CHANNEL.to_owned(),
        Some("orders".to_owned()),
        state,
        created,
    )
}

/// An alert is recorded once per event, however often the event is seen; the first record
/// stands.
pub async fn a_delivery_is_recorded_once<S: EventStore + DeliveryStore>(store: &S) {
    let now = now();
    let a = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
    let b = delivery("bbbbbbbbbbbbbbbbbbb2", DeliveryState::Skipped, now);
    assert_eq!(
        store
            .record_deliveries(&[a.clone(), b.clone()])
            .await
            .unwrap(),
        [true, true]
    );
    let mut a_again = a.clone();
    a_again.state = DeliveryState::Muted;
    a_again.channel = "C0OTHER".into();
    let c = delivery("ccccccccccccccccccc3", DeliveryState::Pending, now);
    assert_eq!(
        store
            .record_deliveries(&[a_again, c.clone()])
            .await
            .unwrap(),
        [false, true]
    );
    let found = store
        .deliveries(&[
            c.event_id.clone(),
            a.event_id.clone(),
            event_id("ddddddddddddddddddd4"),
            b.event_id.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(
        found,
        [c, a, b],
        "in the order asked, the first record of each"
    );
}

/// Beside Slack's, an event has one delivery per output (a webhook, Amazon Q Developer), each
/// recorded once, saved, due and listed on its own.
pub async fn an_event_has_one_delivery_per_output_beside_slacks<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    let slack = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
    let webhook = Delivery {
        channel: Output::Webhook.channel().to_owned(),
        ..slack.clone()
    };
    let q = Delivery {
        channel: Output::QDeveloper.channel().to_owned(),
        ..slack.clone()
    };
    assert_eq!(
        store
            .record_deliveries(&[slack.clone(), webhook.clone(), q.clone()])
            .await
            .unwrap(),
        [true, true, true]
    );
    let again = Delivery {
        state: DeliveryState::Muted,
        ..webhook.clone()
    };
    assert_eq!(store.record_deliveries(&[again]).await.unwrap(), [false]);
    let lanes = |found: &[Delivery]| -> Vec<&'static str> {
        let mut lanes: Vec<&'static str> = found.iter().map(Delivery::lane).collect();
        lanes.sort_unstable();
        lanes
    };
    let found = deliveries_of(store, &slack.event_id).await;
    assert_eq!(lanes(&found), ["", "q-developer", "webhook"]);
    assert!(found.iter().all(|d| d.state == DeliveryState::Pending));

    // The webhook's is sent; Slack's and Q Developer's are still due.
    let mut sent = webhook.clone();
    sent.state = DeliveryState::Sent;
    sent.attempts = 1;
    sent.updated_at = now + Duration::seconds(1);
    store.save_delivery(&sent).await.unwrap();
    let due = store
        .due_deliveries(now + Duration::minutes(1), 100)
        .await
        .unwrap();
    assert_eq!(lanes(&due), ["", "q-developer"]);
    let listed = store.deliveries_in(DeliveryState::Sent, 10).await.unwrap();
    assert_eq!(listed, [sent.clone()]);
    let found = deliveries_of(store, &slack.event_id).await;
    assert_eq!(found.len(), 3);
    assert!(found.contains(&sent) && found.contains(&slack) && found.contains(&q));
}

/// The poller sends what is due: pending or sending deliveries whose next attempt has come,
/// the oldest first.
pub async fn deliveries_fall_due_by_their_next_attempt_oldest_first<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let mut waiting = delivery(
        "aaaaaaaaaaaaaaaaaaa1",
        DeliveryState::Pending,
        now - Duration::hours(3),
    );
    waiting.next_attempt_at = now - Duration::minutes(1);
    let mut later = delivery(
        "bbbbbbbbbbbbbbbbbbb2",
        DeliveryState::Pending,
        now - Duration::hours(2),
    );
    later.next_attempt_at = now + Duration::minutes(10);
    let mut unsure = delivery(
        "ccccccccccccccccccc3",
        DeliveryState::Sending,
        now - Duration::hours(4),
    );
    unsure.next_attempt_at = now;
    let mut sent = delivery(
        "ddddddddddddddddddd4",
        DeliveryState::Sent,
        now - Duration::hours(5),
    );
    sent.next_attempt_at = now - Duration::hours(5);
    let failed = delivery(
        "eeeeeeeeeeeeeeeeeee5",
        DeliveryState::Failed,
        now - Duration::hours(6),
    );
    let muted = delivery(
        "fffffffffffffffffff6",
        DeliveryState::Muted,
        now - Duration::hours(6),
    );
    let all = [
        waiting.clone(),
        later.clone(),
        unsure.clone(),
        sent,
        failed,
        muted,
    ];
    store.record_deliveries(&all).await.unwrap();

    let due = store.due_deliveries(now, 10).await.unwrap();
    assert_eq!(due, [unsure.clone(), waiting.clone()]);
    assert_eq!(
        store.due_deliveries(now, 1).await.unwrap(),
        [unsure.clone()]
    );
    let due = store
        .due_deliveries(now + Duration::hours(1), 10)
        .await
        .unwrap();
    assert_eq!(due, [unsure, waiting.clone(), later.clone()]);
    assert!(
        store
            .due_deliveries(now - Duration::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The pending ones alone: a send whose answer was lost is not among them.
    assert_eq!(
        store.pending_deliveries(now, 10).await.unwrap(),
        [waiting.clone()]
    );
    assert_eq!(
        store
            .pending_deliveries(now + Duration::hours(1), 10)
            .await
            .unwrap(),
        [waiting.clone(), later]
    );
    assert_eq!(
        store
            .pending_deliveries(now + Duration::hours(1), 1)
            .await
            .unwrap(),
        [waiting]
    );
}

/// `cachewatch notify --failed`: deliveries in a state, the latest change first.
pub async fn deliveries_are_listed_by_state_latest_change_first<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    let mut failed = Vec::new();
    for (i, hex) in [
        "aaaaaaaaaaaaaaaaaaa1",
        "bbbbbbbbbbbbbbbbbbb2",
        "ccccccccccccccccccc3",
    ]
    .iter()
    .enumerate()
    {
        let mut d = delivery(hex, DeliveryState::Failed, now - Duration::hours(10));
        d.updated_at = now - Duration::hours([5, 1, 3][i]);
        d.reason = Some("channel_not_found".into());
        failed.push(d);
    }
    let pending = delivery("ddddddddddddddddddd4", DeliveryState::Pending, now);
    store.record_deliveries(&failed).await.unwrap();
    store
        .record_deliveries(std::slice::from_ref(&pending))
        .await
        .unwrap();

    let listed = store
        .deliveries_in(DeliveryState::Failed, 10)
        .await
        .unwrap();
    assert_eq!(
        listed,
        [failed[1].clone(), failed[2].clone(), failed[0].clone()]
    );
    assert_eq!(
        store.deliveries_in(DeliveryState::Failed, 2).await.unwrap(),
        listed[..2]
    );
    assert_eq!(
        store
            .deliveries_in(DeliveryState::Pending, 10)
            .await
            .unwrap(),
        [pending]
    );
    assert!(
        store
            .deliveries_in(DeliveryState::Sent, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A send's outcome is saved over the recorded delivery and read back whole; a sent alert is no
/// longer due.
pub async fn a_saved_delivery_reads_back_as_saved<S: EventStore + DeliveryStore>(store: &S) {
    let now = now();
    let d = delivery(
        "aaaaaaaaaaaaaaaaaaa1",
        DeliveryState::Pending,
        now - Duration::minutes(5),
    );
    store
        .record_deliveries(std::slice::from_ref(&d))
        .await
        .unwrap();
    assert_eq!(
        store.due_deliveries(now, 10).await.unwrap(),
        std::slice::from_ref(&d)
    );

    let mut sending = d.clone();
    sending.state = DeliveryState::Sending;
    sending.attempts = 1;
    sending.next_attempt_at = now + Duration::minutes(2);
    sending.updated_at = now;
    store.save_delivery(&sending).await.unwrap();
    assert!(
        store.due_deliveries(now, 10).await.unwrap().is_empty(),
        "leased for two minutes"
    );

    let mut sent = sending.clone();
    sent.state = DeliveryState::Sent;
    sent.ts = Some("1718075402.000100".into());
    sent.thread_ts = Some("1718075402.000100".into());
    sent.updated_at = now + Duration::seconds(1);
    store.save_delivery(&sent).await.unwrap();
    assert_eq!(
        deliveries_of(store, &d.event_id).await,
        std::slice::from_ref(&sent)
    );
    assert!(
        store
            .due_deliveries(now + Duration::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.deliveries_in(DeliveryState::Sent, 10).await.unwrap(),
        [sent]
    );
    assert!(
        store
            .deliveries_in(DeliveryState::Sending, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .deliveries_in(DeliveryState::Pending, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The deliveries of one event.
async fn deliveries_of<S: DeliveryStore>(store: &S, id: &EventId) -> Vec<Delivery> {
    store.deliveries(std::slice::from_ref(id)).await.unwrap()
}

/// The threads of one anchor event in `channel`.
async fn threads_of<S: DeliveryStore>(store: &S, channel: &str, anchor: &EventId) -> Vec<Thread> {
    store
        .threads(channel, std::slice::from_ref(anchor))
        .await
        .unwrap()
}

/// Whether `holder` took (or renewed) `lease` at `at`, until `until`.
async fn acquired<S: DeliveryStore>(
    store: &S,
    lease: &str,
    holder: &str,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> bool {
    store
        .acquire_lease(LeaseRequest::new(lease, holder, at, until))
        .await
        .unwrap()
}

/// Who holds `lease`, if anyone.
async fn lease_holder<S: DeliveryStore>(store: &S, lease: &str) -> Option<String> {
    store.lease(lease).await.unwrap().map(|(holder, _)| holder)
}

/// `holder`'s claim at `at` of `lease` for a minute, with `recorded` becoming `next`.
async fn claim<S: DeliveryStore>(
    store: &S,
    lease: &str,
    holder: &str,
    at: DateTime<Utc>,
    recorded: Option<&Delivery>,
    next: &Delivery,
) -> Claim {
    store
        .claim(ClaimRequest {
            lease: LeaseRequest::new(lease, holder, at, at + Duration::seconds(60)),
            was: recorded,
            becomes: next,
        })
        .await
        .unwrap()
}

/// Asserts what a claim taken by `holder` leaves: the delivery as `next` alone, and the lease
/// `holder`'s.
async fn assert_taken_by<S: DeliveryStore>(store: &S, lease: &str, holder: &str, next: &Delivery) {
    assert_eq!(
        deliveries_of(store, &next.event_id).await,
        std::slice::from_ref(next)
    );
    assert_eq!(lease_holder(store, lease).await, Some(holder.into()));
}

fn thread(channel: &str, anchor: &str, ts: &str) -> Thread {
    Thread {
        channel: channel.to_owned(),
        channel_id: format!("{channel}-ID"),
        anchor: event_id(anchor),
        group_key: "orders".to_owned(),
        thread_ts: ts.to_owned(),
        message_ts: ts.to_owned(),
        rendered: None,
        checklist_posted: false,
    }
}

/// A maintenance's thread is found again in its channel by its anchor event, and its updates
/// are saved over it.
pub async fn threads_are_found_by_channel_and_anchor<S: EventStore + DeliveryStore>(store: &S) {
    let first = thread(CHANNEL, "aaaaaaaaaaaaaaaaaaa1", "1718075402.000100");
    let second = thread(CHANNEL, "bbbbbbbbbbbbbbbbbbb2", "1718075999.000200");
    let elsewhere = thread("#cache-oncall", "aaaaaaaaaaaaaaaaaaa1", "1718076000.000300");
    for t in [&first, &second, &elsewhere] {
        store.save_thread(t).await.unwrap();
    }
    let found = store
        .threads(
            CHANNEL,
            &[
                second.anchor.clone(),
                event_id("ccccccccccccccccccc3"),
                first.anchor.clone(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(found, [second.clone(), first.clone()]);
    assert_eq!(
        threads_of(store, "#cache-oncall", &first.anchor).await,
        [elsewhere]
    );
    assert!(threads_of(store, "C0NONE", &first.anchor).await.is_empty());

    let mut updated = first.clone();
    updated.rendered = Some("completed:3".into());
    updated.checklist_posted = true;
    store.save_thread(&updated).await.unwrap();
    assert_eq!(threads_of(store, CHANNEL, &first.anchor).await, [updated]);
}

/// Only the holder of a channel's lease sends to it: the lease is exclusive, its holder may
/// renew it, it is free again when it expires or its holder gives it back, and only its holder
/// can give it back.
pub async fn a_lease_is_held_by_one_holder_until_it_expires<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let now = now();
    let s = Duration::seconds;
    let lease = "send:C0ALERTS";
    assert!(acquired(store, lease, "poller-1", now, now + s(60)).await);
    assert!(!acquired(store, lease, "ingest-7", now + s(1), now + s(61)).await);
    assert!(
        acquired(store, "send:C0OTHER", "ingest-7", now + s(1), now + s(61)).await,
        "another lease"
    );
    assert!(
        acquired(store, lease, "poller-1", now + s(30), now + s(120)).await,
        "renewed"
    );
    assert!(
        !acquired(store, lease, "ingest-7", now + s(90), now + s(150)).await,
        "the renewal holds"
    );
    assert!(
        acquired(store, lease, "ingest-7", now + s(120), now + s(180)).await,
        "expired"
    );
    let held = |held: Option<(String, DateTime<Utc>)>| held.map(|(h, u)| (h, u.timestamp_millis()));
    assert_eq!(
        held(store.lease(lease).await.unwrap()),
        Some(("ingest-7".to_owned(), (now + s(180)).timestamp_millis())),
        "its holder and end read back"
    );
    assert_eq!(store.lease("send:C0NEVER").await.unwrap(), None);
    assert!(!acquired(store, lease, "poller-1", now + s(121), now + s(181)).await);

    store.release_lease(lease, "poller-1").await.unwrap();
    assert!(
        !acquired(store, lease, "cli", now + s(122), now + s(182)).await,
        "not poller-1's to give back"
    );
    store.release_lease(lease, "ingest-7").await.unwrap();
    assert_eq!(store.lease(lease).await.unwrap(), None, "given back");
    assert!(
        acquired(store, lease, "cli", now + s(123), now + s(183)).await,
        "given back"
    );
}

/// A delivery as a sender marks it before posting: `sending`, one attempt more, changed at `at`.
fn sending(d: &Delivery, at: DateTime<Utc>) -> Delivery {
    let mut d = d.clone();
    d.state = DeliveryState::Sending;
    d.attempts += 1;
    d.updated_at = at;
    d.next_attempt_at = at + Duration::minutes(5);
    d
}

/// A sender that recorded an alert takes the channel's lease and marks the alert `sending` in
/// one step: both, or nothing when another holds the lease or the alert is no longer as it was
/// recorded (another sender took it).
pub async fn a_claim_takes_the_lease_and_the_delivery_as_recorded_or_nothing<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let s = Duration::seconds;
    let lease = "chat:C0ALERTS";
    let a = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
    let b = delivery("bbbbbbbbbbbbbbbbbbb2", DeliveryState::Pending, now);
    store
        .record_deliveries(&[a.clone(), b.clone()])
        .await
        .unwrap();

    // Another holder has the lease: nothing is written.
    assert!(acquired(store, lease, "poller-1", now, now + s(60)).await);
    let a_sending = sending(&a, now + s(1));
    assert_eq!(
        claim(store, lease, "ingest-7", now + s(1), Some(&a), &a_sending).await,
        Claim::Busy
    );
    assert_eq!(
        deliveries_of(store, &a.event_id).await,
        std::slice::from_ref(&a)
    );
    assert_eq!(lease_holder(store, lease).await, Some("poller-1".into()));

    // The lease is free again, and the alert as recorded: both are taken.
    store.release_lease(lease, "poller-1").await.unwrap();
    assert_eq!(
        claim(store, lease, "ingest-7", now + s(2), Some(&a), &a_sending).await,
        Claim::Taken
    );
    assert_taken_by(store, lease, "ingest-7", &a_sending).await;
    assert!(
        !acquired(store, lease, "poller-1", now + s(3), now + s(63)).await,
        "the claimed lease is held"
    );

    // Another sender took `b` in the meantime: the claim writes nothing, the lease stays free.
    store.release_lease(lease, "ingest-7").await.unwrap();
    let b_taken = sending(&b, now + s(4));
    store.save_delivery(&b_taken).await.unwrap();
    assert_eq!(
        claim(
            store,
            lease,
            "ingest-8",
            now + s(5),
            Some(&b),
            &sending(&b, now + s(5))
        )
        .await,
        Claim::Changed
    );
    assert_eq!(deliveries_of(store, &b.event_id).await, [b_taken]);
    assert_eq!(store.lease(lease).await.unwrap(), None, "not taken");

    // A delivery never recorded is not as it was either.
    let c = delivery("ccccccccccccccccccc3", DeliveryState::Pending, now);
    let c_sending = sending(&c, now + s(6));
    assert_eq!(
        claim(store, lease, "ingest-8", now + s(6), Some(&c), &c_sending).await,
        Claim::Changed
    );
    assert!(deliveries_of(store, &c.event_id).await.is_empty());

    // Claimed as not recorded: it is recorded as it is sent, with the lease.
    assert_eq!(
        claim(store, lease, "ingest-8", now + s(7), None, &c_sending).await,
        Claim::Taken
    );
    assert_taken_by(store, lease, "ingest-8", &c_sending).await;

    // Recorded by another sender meanwhile: not claimed as unrecorded.
    store.release_lease(lease, "ingest-8").await.unwrap();
    assert_eq!(
        claim(
            store,
            lease,
            "ingest-9",
            now + s(8),
            None,
            &sending(&c, now + s(8))
        )
        .await,
        Claim::Changed
    );
    assert_eq!(store.deliveries(&[c.event_id]).await.unwrap(), [c_sending]);
    assert_eq!(store.lease(lease).await.unwrap(), None, "not taken");
}

/// A sent alert and the thread its message started are saved together, and the last thread
/// write goes with the lease given back; a lease another holder has taken meanwhile stays
/// theirs, and the other writes are kept all the same.
pub async fn outbox_writes_saved_together_give_the_lease_back_only_to_its_holder<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let s = Duration::seconds;
    let lease = "chat:C0ALERTS";
    let a = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
    store
        .record_deliveries(std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(acquired(store, lease, "ingest-7", now, now + s(60)).await);
    let mut sent = sending(&a, now + s(1));
    sent.state = DeliveryState::Sent;
    sent.ts = Some("1718075402.000100".to_owned());
    let mut started = thread(CHANNEL, "aaaaaaaaaaaaaaaaaaa1", "1718075402.000100");
    let other = thread("#cache-oncall", "bbbbbbbbbbbbbbbbbbb2", "1718075999.000200");

    store
        .save_together(&[OutboxWrite::Delivery(&sent), OutboxWrite::Thread(&started)])
        .await
        .unwrap();
    assert_eq!(
        deliveries_of(store, &a.event_id).await,
        std::slice::from_ref(&sent)
    );
    assert_eq!(
        threads_of(store, CHANNEL, &started.anchor).await,
        [started.clone()]
    );

    // The last write of an item stands; the lease is given back by its holder.
    let mut first = started.clone();
    first.rendered = Some("before".to_owned());
    started.checklist_posted = true;
    store
        .save_together(&[
            OutboxWrite::Thread(&first),
            OutboxWrite::Thread(&other),
            OutboxWrite::Thread(&started),
            OutboxWrite::Release {
                name: lease,
                holder: "ingest-7",
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        threads_of(store, CHANNEL, &started.anchor).await,
        [started.clone()]
    );
    assert_eq!(
        threads_of(store, "#cache-oncall", &other.anchor).await,
        std::slice::from_ref(&other)
    );
    assert_eq!(store.lease(lease).await.unwrap(), None, "given back");

    // Not the holder's any more: the lease stays, the thread is written.
    assert!(acquired(store, lease, "poller-1", now + s(2), now + s(62)).await);
    started.rendered = Some("after".to_owned());
    store
        .save_together(&[
            OutboxWrite::Thread(&started),
            OutboxWrite::Release {
                name: lease,
                holder: "ingest-7",
            },
        ])
        .await
        .unwrap();
    assert_eq!(threads_of(store, CHANNEL, &started.anchor).await, [started]);
    assert_eq!(lease_holder(store, lease).await, Some("poller-1".into()));
}

/// Four writers store the same new event at once (two functions and two retries): one stores
/// it, the others are told it was stored already.
pub async fn concurrent_writes_of_one_event_store_it_once<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let event = parse(&sns(
        now() - Duration::minutes(3),
        "b5e1f0c2-5555-4a4a-9d9d-000000000005",
        json!({"ElastiCache:CacheNodeReplaceStarted": "pricing-mc"}),
    ))
    .remove(0);
    let write = [EventWrite::Insert(event.clone())];
    let (a, b, c, d) = tokio::join!(
        store.write(&write),
        store.write(&write),
        store.write(&write),
        store.write(&write)
    );
    let outcomes: Vec<WriteOutcome> = [a, b, c, d].into_iter().flat_map(Result::unwrap).collect();
    let inserted = outcomes
        .iter()
        .filter(|o| **o == WriteOutcome::Inserted)
        .count();
    let already = outcomes
        .iter()
        .filter(|o| **o == WriteOutcome::AlreadyStored)
        .count();
    assert_eq!((inserted, already), (1, 3), "{outcomes:?}");
    assert_eq!(store.event(&event.id).await.unwrap(), Some(event));
    assert_eq!(search(store, EventQuery::default()).await.len(), 1);
}

/// SNS delivers one notification to two concurrent ingests (a retry racing the first attempt):
/// the history gains one event, and both report it.
pub async fn concurrent_ingests_of_one_notification_store_it_once<S: EventStore + DeliveryStore>(
    store: &S,
) {
    let notice = sns(
        now() - Duration::minutes(1),
        "b5e1f0c2-6666-4a4a-9d9d-000000000006",
        json!({"ElastiCache:FailoverComplete": "orders-0001-002"}),
    );
    let (a, b) = tokio::join!(ingest_input(store, &notice), ingest_input(store, &notice));
    assert_eq!(a.new_count() + b.new_count(), 1);
    assert_eq!(a.events[0].event.id, b.events[0].event.id);
    assert_eq!(search(store, EventQuery::default()).await.len(), 1);
}

/// Acknowledgements are recorded against whichever event the button was on; a maintenance's
/// acknowledgements are those of any of its events, the first one first (it is the one shown).
pub async fn acknowledgements_of_any_event_of_a_maintenance_read_back_oldest_first<
    S: ResponseStore,
>(
    store: &S,
) {
    let now = now();
    let (notice, reminder, other) = (
        event_id("aaaaaaaaaaaaaaaaaaa1"),
        event_id("aaaaaaaaaaaaaaaaaaa2"),
        event_id("bbbbbbbbbbbbbbbbbbb3"),
    );
    let ack = |event: &EventId, by: &str, minutes: i64| Acknowledgement {
        event_id: event.clone(),
        by: by.to_owned(),
        at: now - Duration::minutes(minutes),
    };
    let later = ack(&notice, "U0MARTA", 5);
    let first = ack(&reminder, "U0DEV", 30);
    let elsewhere = ack(&other, "U0SAM", 60);
    for a in [&later, &first, &elsewhere] {
        store.record_acknowledgement(a).await.unwrap();
    }
    let found = store
        .acknowledgements(&[notice.clone(), reminder.clone()])
        .await
        .unwrap();
    assert_eq!(found, [first.clone(), later]);
    assert_eq!(
        cachewatch_core::history::response::first_acknowledgement(&found),
        Some(&first)
    );
    assert!(
        store
            .acknowledgements(&[event_id("ccccccccccccccccccc4")])
            .await
            .unwrap()
            .is_empty()
    );
}

/// A checklist step ticked twice (two people, or a page reloaded) keeps who ticked it first.
pub async fn a_step_done_twice_counts_the_first_time<S: ResponseStore>(store: &S) {
    let now = now();
    let event = event_id("aaaaaaaaaaaaaaaaaaa1");
    let step = |n: u32, by: &str, minutes: i64| StepDone {
        event_id: event.clone(),
        step: n,
        by: by.to_owned(),
        at: now - Duration::minutes(minutes),
    };
    let backup = step(2, "U0MARTA", 20);
    let stop_jobs = step(1, "U0MARTA", 40);
    store.record_step(&backup).await.unwrap();
    store.record_step(&stop_jobs).await.unwrap();
    store.record_step(&step(2, "U0DEV", 10)).await.unwrap();
    assert_eq!(
        store.steps(std::slice::from_ref(&event)).await.unwrap(),
        [stop_jobs, backup],
        "in the order they were done, the first tick of each"
    );
}

/// The outcome of an event can be corrected: the later record replaces the earlier one. The
/// yearly log lists outcomes recorded in its interval (end excluded), in time order.
pub async fn a_later_outcome_replaces_an_earlier_one_and_the_year_lists_them_in_order<
    S: ResponseStore,
>(
    store: &S,
) {
    let now = now();
    let outcome = |hex: &str, handled: &str, days: i64| Outcome {
        event_id: event_id(hex),
        handled: handled.to_owned(),
        site_maintenance: handled == "waited",
        downtime: Some(Duration::seconds(40)),
        note: Some("backup taken <first>; keys counted & compared".to_owned()),
        by: "U0MARTA".to_owned(),
        at: now - Duration::days(days),
    };
    let orders = outcome("aaaaaaaaaaaaaaaaaaa1", "waited", 30);
    let orders_corrected = Outcome {
        downtime: None,
        note: None,
        ..outcome("aaaaaaaaaaaaaaaaaaa1", "manual-failover", 29)
    };
    let sessions = outcome("bbbbbbbbbbbbbbbbbbb2", "moved-window", 200);
    let last_year = outcome("ccccccccccccccccccc3", "waited", 400);
    for o in [&orders, &sessions, &last_year, &orders_corrected] {
        store.record_outcome(o).await.unwrap();
    }
    assert_eq!(
        store
            .outcomes(&[orders.event_id.clone(), event_id("ddddddddddddddddddd4")])
            .await
            .unwrap(),
        std::slice::from_ref(&orders_corrected)
    );
    let year = store
        .outcomes_between(now - Duration::days(365), now)
        .await
        .unwrap();
    assert_eq!(year, [sessions.clone(), orders_corrected.clone()]);
    let up_to_sessions = store
        .outcomes_between(now - Duration::days(365), sessions.at)
        .await
        .unwrap();
    assert!(
        up_to_sessions.is_empty(),
        "the end is excluded: {up_to_sessions:?}"
    );
    assert_eq!(
        store
            .outcomes_between(sessions.at, sessions.at + Duration::seconds(1))
            .await
            .unwrap(),
        [sessions],
        "the start is included"
    );
}

/// A mute from Slack holds until its time, then no longer.
pub async fn mutes_hold_until_they_expire<S: ResponseStore>(store: &S) {
    let now = now();
    let mute = |clusters: &str, hours: i64| MuteRecord {
        clusters: clusters.to_owned(),
        until: now + Duration::hours(hours),
        by: "U0DEV".to_owned(),
        at: now - Duration::hours(1),
    };
    let staging = mute("staging-*", 24);
    let expired = mute("load-test-*", -1);
    store.record_mute(&staging).await.unwrap();
    store.record_mute(&expired).await.unwrap();
    assert_eq!(
        store.mutes(now).await.unwrap(),
        std::slice::from_ref(&staging)
    );
    assert!(store.mutes(staging.until).await.unwrap().is_empty());
}

/// Facts read from ElastiCache come back for their cluster only, the latest reading first,
/// with the time they were read and everything that was read.
pub async fn the_latest_facts_read_of_a_cluster_come_back_with_the_time_they_were_read<
    S: FactsStore,
>(
    store: &S,
) {
    let now = now();
    let reading = |cluster: &str, hours_ago: i64, version: &str| FactsRecord {
        cluster_id: cluster.to_owned(),
        read_at: now - Duration::hours(hours_ago),
        facts: ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some(version.to_owned()),
            cluster_mode_enabled: Some(false),
            multi_az: Some(true),
            automatic_failover: Some(true),
            replicas_per_shard: Some(2),
            node_role: Some(NodeRole::Primary),
            replica_cluster_ids: Some(vec!["ledger-002".into(), "ledger-003".into()]),
            unavailable: Some("ListTagsForResource: AccessDenied".into()),
            ..ClusterFacts::default()
        },
    };
    assert_eq!(store.latest_facts("ledger-001").await.unwrap(), None);
    let older = reading("ledger-001", 120, "6.2.6");
    let latest = reading("ledger-001", 1, "7.1.0");
    let other = reading("billing-001", 0, "7.0.7");
    // Recorded out of order: the latest by read time wins, not the last written.
    store.record_facts(&latest).await.unwrap();
    store.record_facts(&older).await.unwrap();
    store.record_facts(&other).await.unwrap();
    assert_eq!(
        store.latest_facts("ledger-001").await.unwrap(),
        Some(latest)
    );
    assert_eq!(
        store.latest_facts("billing-001").await.unwrap(),
        Some(other)
    );
    assert_eq!(
        store.latest_facts("ledger").await.unwrap(),
        None,
        "no prefix match"
    );
}

/// What is pending in `channel`, but `own`.
async fn pending_in<S: DeliveryStore>(
    store: &S,
    channel: &str,
    own: &EventId,
    at: DateTime<Utc>,
) -> Vec<EventId> {
    let pending = store.pending_deliveries(at, 100).await.unwrap();
    pending
        .into_iter()
        .filter(|d| d.channel == channel && d.event_id != *own)
        .map(|d| d.event_id)
        .collect()
}

/// Claims `d`, not recorded before, in `lease` at `at`, and says whether the store says
/// nothing else is pending in its channel; when it says so, nothing is.
async fn claimed_alone<S: DeliveryStore>(
    store: &S,
    lease: &str,
    at: DateTime<Utc>,
    d: &Delivery,
) -> bool {
    let sending = sending(d, at);
    assert_eq!(
        claim(store, lease, "ingest-1", at, None, &sending).await,
        Claim::Taken
    );
    let alone = store.nothing_else_pending(&d.channel);
    assert!(!store.nothing_else_pending(&d.channel), "said once");
    if alone {
        assert_eq!(
            pending_in(store, &d.channel, &d.event_id, at).await,
            [],
            "said alone with alerts pending"
        );
    }
    alone
}

/// A sender that claims its alert learns from the claim whether anything else is pending in the
/// channel (a store that cannot tell says it may be): an alert left pending there (recorded
/// while another sender held the lease, or saved again after a failed send) is read by the next
/// claim, never skipped.
pub async fn an_alert_left_pending_is_read_by_the_next_claim_in_its_channel<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let s = Duration::seconds;
    let lease = "chat:C0ALERTS";
    let release = OutboxWrite::Release {
        name: lease,
        holder: "ingest-1",
    };
    // Recorded while another sender held the lease.
    let a = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
    store
        .record_deliveries(std::slice::from_ref(&a))
        .await
        .unwrap();
    let b = delivery("bbbbbbbbbbbbbbbbbbb2", DeliveryState::Pending, now);
    assert!(!claimed_alone(store, lease, now + s(1), &b).await);
    // The claimant reads it and sends it with its own.
    assert_eq!(
        pending_in(store, CHANNEL, &b.event_id, now + s(1)).await,
        std::slice::from_ref(&a.event_id)
    );
    let mut a_sent = sending(&a, now + s(2));
    a_sent.state = DeliveryState::Sent;
    let mut b_sent = sending(&b, now + s(2));
    b_sent.state = DeliveryState::Sent;
    let writes = [
        OutboxWrite::Delivery(&a_sent),
        OutboxWrite::Delivery(&b_sent),
        release,
    ];
    store.save_together(&writes).await.unwrap();

    // Nothing pending: a store that can tell says so.
    let c = delivery("ccccccccccccccccccc3", DeliveryState::Pending, now);
    claimed_alone(store, lease, now + s(3), &c).await;
    // Its send failed: saved pending again, for a later try.
    let mut c_again = sending(&c, now + s(4));
    c_again.state = DeliveryState::Pending;
    c_again.next_attempt_at = now + s(4);
    store
        .save_together(&[OutboxWrite::Delivery(&c_again), release])
        .await
        .unwrap();
    let d = delivery("ddddddddddddddddddd4", DeliveryState::Pending, now);
    assert!(!claimed_alone(store, lease, now + s(5), &d).await);
    store.release_lease(lease, "ingest-1").await.unwrap();

    // A pending alert saved alone, and one recorded in another channel.
    let mut d_again = sending(&d, now + s(6));
    d_again.state = DeliveryState::Pending;
    d_again.next_attempt_at = now + s(6);
    store.save_delivery(&d_again).await.unwrap();
    let mut elsewhere = delivery("fffffffffffffffffff6", DeliveryState::Pending, now);
    elsewhere.channel = "C0OTHER".into();
    store.record_deliveries(&[elsewhere]).await.unwrap();
    let e = delivery("eeeeeeeeeeeeeeeeeee5", DeliveryState::Pending, now);
    assert!(!claimed_alone(store, lease, now + s(7), &e).await);
}

/// An ingest that alerts right away may have its maintenances' writes held back for the claim
/// of its alert: they are made with the claim, before any other call of the store (which reads
/// them), when the claim is refused, and when the ingest ends.
pub async fn maintenances_held_for_a_claim_are_saved_by_it_or_before_anything_else<
    S: EventStore + DeliveryStore,
>(
    store: &S,
) {
    let now = now();
    let s = Duration::seconds;
    let start = now + Duration::days(3);
    let lease = "chat:C0ALERTS";
    let maintenance_of = |outcome: &IngestOutcome| {
        let m = outcome.maintenances.values().flatten().next().cloned();
        m.expect("the ingest worked out a maintenance")
    };
    let alert_of = |outcome: &IngestOutcome| {
        let mut d = delivery("aaaaaaaaaaaaaaaaaaa1", DeliveryState::Pending, now);
        d.event_id = outcome.events[0].event.id.clone();
        sending(&d, now)
    };

    // Saved with the claim.
    store.hold_maintenances();
    let orders = ingest_input(store, &scheduled_text(now, "orders-0001-001", start)).await;
    let d = alert_of(&orders);
    assert_eq!(
        claim(store, lease, "ingest-1", now, None, &d).await,
        Claim::Taken
    );
    store.flush_held().await.unwrap();
    let id = &orders.events[0].event.id;
    assert_eq!(
        store.maintenance(id).await.unwrap(),
        Some(maintenance_of(&orders))
    );
    let stored = store.event(id).await.unwrap().expect("stored");
    assert_eq!(stored.maintenance_id, Some(maintenance_of(&orders).id));
    store.release_lease(lease, "ingest-1").await.unwrap();

    // Read before any claim.
    store.hold_maintenances();
    let payments = ingest_input(store, &scheduled_text(now, "payments-0001-001", start)).await;
    let id = &payments.events[0].event.id;
    assert_eq!(
        store.maintenance(id).await.unwrap(),
        Some(maintenance_of(&payments))
    );
    store.flush_held().await.unwrap();

    // The claim is refused: the lease is another's.
    assert!(acquired(store, lease, "poller-1", now, now + s(60)).await);
    store.hold_maintenances();
    let sessions = ingest_input(store, &scheduled_text(now, "sessions-0001-001", start)).await;
    let d = alert_of(&sessions);
    assert_eq!(
        claim(store, lease, "ingest-1", now + s(1), None, &d).await,
        Claim::Busy
    );
    let id = sessions.events[0].event.id.clone();
    let open = store.open_maintenances(now, false).await.unwrap();
    assert!(open.contains(&maintenance_of(&sessions)), "{open:?}");
    store.flush_held().await.unwrap();
    assert_eq!(
        store.maintenance(&id).await.unwrap(),
        Some(maintenance_of(&sessions))
    );

    // Held until the ingest ends.
    store.hold_maintenances();
    let carts = ingest_input(store, &scheduled_text(now, "carts-0001-001", start)).await;
    store.flush_held().await.unwrap();
    let id = &carts.events[0].event.id;
    assert_eq!(
        store.maintenance(id).await.unwrap(),
        Some(maintenance_of(&carts))
    );
}
