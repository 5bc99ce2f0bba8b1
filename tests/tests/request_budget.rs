//! What one SNS notification costs in AWS requests, counted by proxies between the built ingest
//! function and moto: a re-delivery at most one request and no write, a new event that alerts
//! nobody at most three, a new replacement notice (stored, its maintenance worked out, its alert
//! recorded and sent) at most eight. The counts are deterministic: a budget cannot grow unseen.
//!
//! The replacement notice's eight, in order: the event's keyed read, with the mutes set in Slack
//! and the facts kept of its cluster (1), the other report of the same occurrence (1), the
//! insert with its alias check (1); the lifecycle group's events and stored maintenances (2);
//! the channel's lease taken with the delivery recorded as sending, on the condition that no
//! delivery of the event was recorded and that the channel has no pending mark (nothing else
//! is pending there, so nothing is read), with the new event's pointer and the maintenance
//! written in the same transaction (1); the cluster's facts looked up (1: the cluster does not
//! exist, and the facts kept were read with the event); the delivery marked sent, the thread
//! its message started (checklist posted) and the lease released, in one transaction (1). The
//! maintenance's deliveries are not read: the claim's condition stands for them.
//!
//! A real notice names a cluster that exists: its facts are found, and kept (a `PutItem`), after
//! DescribeCacheClusters, DescribeCacheParameters, DescribeReplicationGroups, DescribeSnapshots
//! and ListTagsForResource (of the group and of the cluster): fourteen requests, eight of them
//! DynamoDB's.

use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_tests::ingest_cost::{Rig, TABLE, replacement_notice, snapshot_notice};
use cachewatch_tests::slack::ALERTS;
use cachewatch_tests::workspace_bin;
use serde_json::json;

#[test]
fn a_redelivery_costs_one_request_a_quiet_event_three_and_a_replacement_notice_eight() {
    // Arrange: the function, warm (its start-up and first event are not what is measured).
    let rig = Rig::start(&workspace_bin("cachewatch-ingest"));
    let invoke = |event| rig.invoke(event);
    let warm_up = invoke(snapshot_notice(9999));
    assert_eq!(warm_up.answer()["new"], json!(1), "{:?}", warm_up.answer());
    // The first alert in a new table writes the mutes in force as their one item, once in the
    // table's life: a replacement notice before those measured.
    let first_alert = invoke(replacement_notice(9999));
    assert_eq!(first_alert.answer()["alerts_sent"], json!(1));

    // Act: a new replacement notice, its re-delivery, a snapshot notice, its re-delivery.
    let replacement = invoke(replacement_notice(1));
    let replacement_again = invoke(replacement_notice(1));
    let snapshot = invoke(snapshot_notice(2));
    let snapshot_again = invoke(snapshot_notice(2));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(rig.create_replacement_cluster(3));
    let existing = invoke(replacement_notice(3));

    for (what, measured) in [
        ("a new replacement notice", &replacement),
        ("its re-delivery", &replacement_again),
        ("a new snapshot notice", &snapshot),
        ("its re-delivery", &snapshot_again),
        (
            "a new replacement notice of a cluster that exists",
            &existing,
        ),
    ] {
        eprintln!("{what}: {}", measured.counts);
    }

    // Assert: each did its work...
    assert_eq!(replacement.answer()["new"], json!(1));
    assert_eq!(replacement.answer()["alerts_sent"], json!(1));
    assert_eq!(replacement_again.answer()["new"], json!(0));
    assert_eq!(replacement_again.answer()["alerts_sent"], json!(0));
    assert_eq!(snapshot.answer()["new"], json!(1));
    assert_eq!(snapshot.answer()["alerts_sent"], json!(0));
    assert_eq!(snapshot_again.answer()["new"], json!(0));
    assert_eq!(existing.answer()["alerts_sent"], json!(1));
    assert_eq!(existing.counts.of("DescribeReplicationGroups"), 1);
    let parents = rig.slack.parents(ALERTS);
    assert_eq!(
        parents
            .iter()
            .filter(|m| m.text.contains("bench0001"))
            .count(),
        1,
        "one alert for the replacement: {parents:?}"
    );
    let open = runtime.block_on(open_maintenances(&rig));
    assert_eq!(
        open.iter().filter(|m| m.group_key == "bench0001").count(),
        1,
        "one maintenance for the replacement: {open:?}"
    );

    // ...within its budget.
    for (what, measured, budget) in [
        ("a new replacement notice", &replacement, 8),
        ("its re-delivery", &replacement_again, 1),
        ("a new snapshot notice", &snapshot, 3),
        ("its re-delivery", &snapshot_again, 1),
        (
            "a new replacement notice of a cluster that exists",
            &existing,
            14,
        ),
    ] {
        assert!(
            measured.counts.total() <= budget,
            "{what} costs {}, over its budget of {budget}",
            measured.counts
        );
    }
    for (what, measured) in [
        ("a re-delivered replacement notice", &replacement_again),
        ("a re-delivered snapshot notice", &snapshot_again),
    ] {
        assert_eq!(
            measured.counts.writes(),
            0,
            "{what} wrote: {}",
            measured.counts
        );
    }
}

/// The open maintenances, read straight from moto.
async fn open_maintenances(rig: &Rig) -> Vec<Maintenance> {
    let sdk = rig.moto().sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), TABLE);
    store
        .open_maintenances(chrono::Utc::now(), false)
        .await
        .expect("the store answers")
}
