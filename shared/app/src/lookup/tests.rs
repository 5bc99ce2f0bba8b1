//! The runbook every door shows, rendered from a real SQLite history.

use cachewatch_core::history::response::{Outcome, ResponseStore};
use cachewatch_core::model::ids::ClusterId;
use cachewatch_core::operations::drill::{DrillTarget, Scenario, events_for};
use cachewatch_core::runbook::{Owners, RunbookFormat, Runbooks};
use chrono::Duration;

use super::*;
use crate::ingest::tests::{NoFacts, World, at};
use crate::ingest::{Door, Input};

/// A primary-replacement drill of `cluster`, stored through the ingest; its events' ids.
async fn drill_of(world: &World, cluster: &str) -> Vec<EventId> {
    let target = DrillTarget {
        cluster: ClusterId::parse(cluster).unwrap(),
        node: None,
        replication_group: None,
    };
    let run = events_for(
        Scenario::PrimaryReplacement,
        &target,
        at("2026-06-01T10:00:00Z"),
    )
    .unwrap();
    let ingested = world
        .ingest(Door::Drill, Input::Events(run.events), false)
        .await
        .unwrap();
    ingested
        .outcome
        .events
        .iter()
        .map(|e| e.event.id.clone())
        .collect()
}

/// A real notice of a scheduled replacement of `cluster`'s node 0001; its id.
async fn notice_of(world: &World, cluster: &str) -> EventId {
    let record = format!(
        r#"{{"Events": [{{"SourceIdentifier": "{cluster}", "SourceType": "cache-cluster", "Date": "2026-06-10T09:00:00Z", "Message": "The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 20 02:00 UTC, End Time: Jun 20 03:00 UTC"}}]}}"#
    );
    let ingested = world
        .ingest(Door::Text, Input::Document(&record), false)
        .await
        .unwrap();
    ingested.outcome.events[0].event.id.clone()
}

async fn runbook_text(world: &World, id: &EventId) -> (Runbook, String) {
    let subject = subject(&world.store, id).await.unwrap().expect("stored");
    let runbook = subject
        .runbook(
            &world.store,
            &Runbooks::embedded(),
            FactsFrom::source(&NoFacts),
            &Owners::default(),
            at("2026-06-10T15:23:00Z"),
        )
        .await
        .unwrap();
    let text = runbook.render(RunbookFormat::Markdown);
    (runbook, text)
}

#[tokio::test]
async fn a_runbook_shows_the_teams_last_measured_rehearsal_wherever_it_is_asked_for() {
    // Arrange: a rehearsal of orders-0001-001 measured at 4 seconds, and real notices for it
    // and for a cluster never rehearsed.
    let world = World::new();
    let drill = drill_of(&world, "orders-0001-001").await;
    world
        .store
        .record_outcome(&Outcome {
            event_id: drill[0].clone(),
            handled: "test-failover".to_owned(),
            site_maintenance: false,
            downtime: Some(Duration::seconds(4)),
            note: None,
            by: "alice".to_owned(),
            at: at("2026-06-01T10:30:00Z"),
        })
        .await
        .unwrap();
    let rehearsed = notice_of(&world, "orders-0001-001").await;
    let never = notice_of(&world, "billing-0001-001").await;

    // Act
    let (_, with) = runbook_text(&world, &rehearsed).await;
    let (_, without) = runbook_text(&world, &never).await;

    // Assert
    assert!(
        with.contains("Your team's last measured rehearsal of this cluster"),
        "{with}"
    );
    assert!(
        with.contains("unavailable for 4 seconds at the longest"),
        "{with}"
    );
    assert!(!without.contains("measured rehearsal"), "{without}");
}

#[tokio::test]
async fn a_drills_runbook_takes_the_facts_its_scenario_assumes_as_its_alert_did() {
    // Arrange: a primary-replacement drill, with no facts source that knows the cluster.
    let world = World::new();
    let drill = drill_of(&world, "orders-0001-001").await;

    // Act
    let (runbook, text) = runbook_text(&world, &drill[0]).await;

    // Assert: the primary's runbook, said to be a drill, as the drill's alert rendered it.
    assert!(runbook.drill, "{text}");
    assert!(text.contains("The node was the primary"), "{text}");
}
