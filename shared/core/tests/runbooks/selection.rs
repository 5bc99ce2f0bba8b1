//! Which template is chosen for which event, engine, role and maintenance state.

use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::model::event::MaintenanceEvent;
use cachewatch_core::model::kind::EventKind;
use cachewatch_core::runbook::{Owners, RunbookInput, Runbooks};

use crate::cases;

#[test]
fn every_case_selects_its_template() {
    // Arrange
    let runbooks = Runbooks::embedded();
    let owners = Owners::default();

    for case in cases::all() {
        // Act
        let chosen = runbooks.select(&case.input(&owners)).unwrap();

        // Assert
        assert_eq!(chosen.name, case.template, "{}", case.name);
    }
}

/// The event of the `redis-role-unknown` case (no maintenance), turned into `kind`.
fn event_of_kind(kind: &str) -> MaintenanceEvent {
    let mut event = cases::named("redis-role-unknown").event;
    event.kind = EventKind::new(kind);
    event.category = event.kind.category();
    event
}

#[test]
fn the_template_follows_the_kind_the_engine_and_the_role() {
    let runbooks = Runbooks::embedded();
    let owners = Owners::default();
    let facts = |engine: Option<Engine>, role: Option<NodeRole>| ClusterFacts {
        engine,
        node_role: role,
        ..ClusterFacts::default()
    };
    let redis = Some(Engine::Redis);
    let valkey = Some(Engine::Valkey);
    let memcached = Some(Engine::Memcached);
    let primary = Some(NodeRole::Primary);
    let replica = Some(NodeRole::Replica);
    let cases = [
        (
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            facts(redis, primary),
            "redis-node-replacement.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            facts(redis, replica),
            "redis-node-replacement.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            facts(valkey, None),
            "redis-node-replacement.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            facts(None, None),
            "redis-node-replacement.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            facts(memcached, None),
            "memcached-node-replacement.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_RESCHEDULED,
            facts(redis, primary),
            "replacement-changed.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_RESCHEDULED,
            facts(memcached, None),
            "replacement-changed.md",
        ),
        (
            EventKind::NODE_REPLACEMENT_CANCELED,
            facts(None, None),
            "replacement-changed.md",
        ),
        (
            EventKind::CACHE_NODE_REPLACE_STARTED,
            facts(redis, primary),
            "failover-happened.md",
        ),
        (
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            facts(valkey, replica),
            "failover-happened.md",
        ),
        (
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            facts(memcached, None),
            "memcached-node-replacement.md",
        ),
        (
            EventKind::FAILOVER_COMPLETE,
            facts(redis, None),
            "failover-happened.md",
        ),
        (
            EventKind::FAILOVER_COMPLETE,
            facts(None, None),
            "failover-happened.md",
        ),
        (
            EventKind::SNAPSHOT_FAILED,
            facts(redis, primary),
            "generic.md",
        ),
        (
            EventKind::CACHE_NODES_REBOOTED,
            facts(memcached, None),
            "generic.md",
        ),
        ("some_future_event", facts(None, None), "generic.md"),
    ];
    for (kind, facts, expected) in cases {
        let event = event_of_kind(kind);
        let input = RunbookInput::new(&event, &facts, &owners, cases::now());
        let chosen = runbooks.select(&input).unwrap();
        assert_eq!(
            chosen.name, expected,
            "{kind} with {:?} {:?}",
            facts.engine, facts.node_role
        );
    }
}

#[test]
fn a_scheduled_notice_whose_window_has_passed_gets_the_checks_after_the_work() {
    // Arrange
    let runbooks = Runbooks::embedded();
    let owners = Owners::default();
    let event = event_of_kind(EventKind::NODE_REPLACEMENT_SCHEDULED);
    let facts = ClusterFacts {
        engine: Some(Engine::Redis),
        ..ClusterFacts::default()
    };
    let later = cases::window().end + chrono::Duration::hours(1);

    // Act
    let chosen = runbooks
        .select(&RunbookInput::new(&event, &facts, &owners, later))
        .unwrap();

    // Assert
    assert_eq!(chosen.name, "failover-happened.md");
}

#[test]
fn the_maintenance_state_wins_over_the_kind_of_the_event_asked_about() {
    // Arrange: the canceled maintenance, asked about by its first (scheduled) event.
    let runbooks = Runbooks::embedded();
    let owners = Owners::default();
    let case = cases::named("canceled");
    let first = case.events[0].clone();
    assert!(first.kind.is(EventKind::NODE_REPLACEMENT_SCHEDULED));
    let input = RunbookInput::new(&first, &case.facts, &owners, cases::now())
        .with_maintenance(case.maintenance.as_ref().unwrap(), &case.events);

    // Act
    let runbook = runbooks.render(&input).unwrap();

    // Assert
    assert_eq!(runbook.template, "replacement-changed.md");
    assert!(
        runbook.title.starts_with("Replacement canceled"),
        "{}",
        runbook.title
    );
}
