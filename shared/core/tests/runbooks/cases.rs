//! The runbook cases: one event (and maintenance) per template and topology, with the facts
//! enrichment would have found. The golden files under `tests/golden/` are these cases rendered.

use chrono::{DateTime, Duration, Utc};

use crate::scenes;

use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::intake::parse::ParseContext;
use cachewatch_core::lifecycle::{self, Maintenance};
use cachewatch_core::model::event::MaintenanceEvent;
use cachewatch_core::model::ids::ReplicationGroupId;
use cachewatch_core::model::kind::EventKind;
use cachewatch_core::runbook::{Owners, RunbookInput};

pub use crate::scenes::{NOW, at, window};
use crate::scenes::{Node, failover, scheduled, scheduled_text};

pub fn now() -> DateTime<Utc> {
    at(NOW)
}

/// A runbook case.
pub struct Case {
    pub name: &'static str,
    pub event: MaintenanceEvent,
    pub maintenance: Option<Maintenance>,
    pub events: Vec<MaintenanceEvent>,
    pub facts: ClusterFacts,
    /// The template the case must select.
    pub template: &'static str,
}

impl Case {
    pub fn input<'a>(&'a self, owners: &'a Owners) -> RunbookInput<'a> {
        let input = RunbookInput::new(&self.event, &self.facts, owners, now());
        match &self.maintenance {
            Some(m) => input.with_maintenance(m, &self.events),
            None => input,
        }
    }
}

/// The maintenance `event` belongs to, among those `events` make.
fn maintenance_of(event: &MaintenanceEvent, events: &[MaintenanceEvent]) -> Maintenance {
    lifecycle::assemble(events)
        .into_iter()
        .find(|m| m.event_ids.contains(&event.id))
        .expect("the event belongs to a maintenance")
}

/// A case for the last of `events`, within its maintenance.
fn in_maintenance(
    name: &'static str,
    events: Vec<MaintenanceEvent>,
    facts: ClusterFacts,
    template: &'static str,
) -> Case {
    let event = events.last().unwrap().clone();
    let maintenance = maintenance_of(&event, &events);
    let own: Vec<MaintenanceEvent> = events
        .iter()
        .filter(|e| maintenance.event_ids.contains(&e.id))
        .cloned()
        .collect();
    Case {
        name,
        event,
        maintenance: Some(maintenance),
        events: own,
        facts,
        template,
    }
}

/// The healthy, common Redis OSS primary, with what the runbooks read beyond an alert: one
/// shard of one node, its parameter group and reserved memory.
pub fn redis_primary_facts() -> ClusterFacts {
    ClusterFacts {
        data_tiering: Some(false),
        node_group_count: Some(1),
        num_cache_nodes: Some(1),
        cache_parameter_group: Some("default.redis7".into()),
        reserved_memory_percent: Some(25),
        reserved_memory_bytes: Some(0),
        ..scenes::redis_primary_facts()
    }
}

/// A node of `catalog`, a cluster-mode-enabled group of three shards reached through its
/// configuration endpoint; each case names the node, its shard and its role.
fn catalog_facts() -> ClusterFacts {
    ClusterFacts {
        replication_group_id: Some("catalog".into()),
        cluster_mode_enabled: Some(true),
        primary_endpoint: None,
        reader_endpoint: None,
        configuration_endpoint: Some("clustercfg.catalog.abc123.use1.cache.amazonaws.com".into()),
        node_group_count: Some(3),
        ..redis_primary_facts()
    }
}

/// The Memcached cluster, with its window and its three nodes.
fn memcached_facts() -> ClusterFacts {
    ClusterFacts {
        preferred_maintenance_window: Some("thu:19:00-thu:20:00".into()),
        num_cache_nodes: Some(3),
        ..scenes::memcached_facts()
    }
}

fn redis_primary() -> Case {
    in_maintenance(
        "redis-primary",
        vec![scheduled("orders-0001-001", "0001", None)],
        redis_primary_facts(),
        "redis-node-replacement.md",
    )
}

fn redis_replica() -> Case {
    in_maintenance(
        "redis-replica",
        vec![scheduled("orders-0001-002", "0001", None)],
        ClusterFacts {
            tls_in_transit: Some(false),
            ..scenes::orders_replica(redis_primary_facts())
        },
        "redis-node-replacement.md",
    )
}

fn redis_role_unknown() -> Case {
    let event = scenes::billing_scheduled();
    Case {
        name: "redis-role-unknown",
        event,
        maintenance: None,
        events: vec![],
        facts: ClusterFacts {
            unavailable: Some("DescribeCacheClusters was denied (AccessDenied)".into()),
            ..ClusterFacts::default()
        },
        template: "redis-node-replacement.md",
    }
}

fn redis_promote_old_engine() -> Case {
    in_maintenance(
        "redis-automatic-failover-off",
        vec![scheduled("legacy-001", "0001", Some("legacy"))],
        ClusterFacts {
            engine_version: Some("4.0.10".into()),
            replication_group_id: Some("legacy".into()),
            multi_az: Some(false),
            automatic_failover: Some(false),
            replicas_per_shard: Some(1),
            replica_cluster_ids: Some(vec!["legacy-002".into()]),
            node_endpoint: Some("legacy-001.legacy.abc123.use1.cache.amazonaws.com".into()),
            primary_endpoint: Some("legacy.abc123.ng.0001.use1.cache.amazonaws.com".into()),
            reader_endpoint: None,
            tls_in_transit: None,
            snapshot_retention_days: Some(1),
            latest_snapshot_at: Some(at("2026-06-19T03:10:00Z")),
            pending_reboot_parameters: Some(vec!["maxmemory-policy".into()]),
            production: None,
            cache_parameter_group: Some("default.redis4.0".into()),
            reserved_memory_percent: None,
            reserved_memory_bytes: Some(0),
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

fn redis_single_node() -> Case {
    in_maintenance(
        "redis-no-replica",
        vec![scheduled("cart-001", "0001", Some("cart"))],
        ClusterFacts {
            replication_group_id: Some("cart".into()),
            multi_az: Some(false),
            automatic_failover: Some(false),
            replicas_per_shard: Some(0),
            replica_cluster_ids: Some(vec![]),
            node_endpoint: Some("cart-001.cart.abc123.use1.cache.amazonaws.com".into()),
            primary_endpoint: Some("master.cart.abc123.use1.cache.amazonaws.com".into()),
            reader_endpoint: None,
            production: Some(false),
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

fn redis_cluster_mode_enabled() -> Case {
    in_maintenance(
        "redis-cluster-mode-enabled",
        vec![scheduled("catalog-0002-001", "0001", Some("catalog"))],
        ClusterFacts {
            node_group_id: Some("0002".into()),
            replica_cluster_ids: Some(vec!["catalog-0002-002".into(), "catalog-0002-003".into()]),
            node_endpoint: Some("catalog-0002-001.catalog.abc123.use1.cache.amazonaws.com".into()),
            ..catalog_facts()
        },
        "redis-node-replacement.md",
    )
}

fn valkey_primary() -> Case {
    in_maintenance(
        "valkey-primary",
        vec![scenes::feeds_scheduled(None)],
        ClusterFacts {
            engine: Some(Engine::Valkey),
            engine_version: Some("8.0.1".into()),
            replication_group_id: Some("feeds".into()),
            replica_cluster_ids: Some(vec!["feeds-002".into(), "feeds-003".into()]),
            node_endpoint: Some("feeds-001.feeds.abc123.use1.cache.amazonaws.com".into()),
            primary_endpoint: Some("master.feeds.abc123.use1.cache.amazonaws.com".into()),
            tls_in_transit: Some(false),
            production: None,
            cache_parameter_group: Some("feeds-valkey8".into()),
            reserved_memory_percent: Some(30),
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

fn memcached_scheduled() -> Case {
    in_maintenance(
        "memcached",
        vec![scheduled("sessions-mc", "0002", None)],
        memcached_facts(),
        "memcached-node-replacement.md",
    )
}

fn memcached_repeat() -> Case {
    in_maintenance(
        "memcached-repeat",
        scenes::memcached_repeat(),
        memcached_facts(),
        "memcached-node-replacement.md",
    )
}

fn memcached_replaced() -> Case {
    let done = scenes::replace_completed("sessions-mc", "0002", None, "2026-06-22T07:41:00Z");
    let started = scenes::replace_started("sessions-mc", "0002", None, "2026-06-22T07:30:00Z");
    in_maintenance(
        "memcached-replaced",
        vec![started, done],
        memcached_facts(),
        "memcached-node-replacement.md",
    )
}

fn failover_event() -> MaintenanceEvent {
    failover(
        "orders-0001-001",
        "orders-0001-002",
        "orders",
        "2026-06-22T05:02:00Z",
    )
}

fn failover_unplanned() -> Case {
    in_maintenance(
        "failover-unplanned",
        vec![failover_event()],
        ClusterFacts {
            node_role: None,
            latest_snapshot_at: Some(at("2026-06-20T03:10:00Z")),
            ..redis_primary_facts()
        },
        "failover-happened.md",
    )
}

/// A failover on a cluster nothing is known about: the runbook starts by finding out.
fn failover_facts_unknown() -> Case {
    Case {
        name: "failover-facts-unknown",
        event: failover_event(),
        maintenance: None,
        events: vec![],
        facts: ClusterFacts::default(),
        template: "failover-happened.md",
    }
}

fn redis_replaced_without_notice() -> Case {
    let started = scenes::replace_started(
        "orders-0001-001",
        "0001",
        Some("orders"),
        "2026-06-22T04:10:00Z",
    );
    let done = scenes::replace_completed(
        "orders-0001-001",
        "0001",
        Some("orders"),
        "2026-06-22T04:25:00Z",
    );
    in_maintenance(
        "redis-replaced-without-notice",
        vec![started, done],
        redis_primary_facts(),
        "failover-happened.md",
    )
}

fn rescheduled() -> Case {
    in_maintenance(
        "rescheduled",
        scenes::rescheduled(),
        redis_primary_facts(),
        "replacement-changed.md",
    )
}

fn canceled() -> Case {
    in_maintenance(
        "canceled",
        scenes::canceled(),
        redis_primary_facts(),
        "replacement-changed.md",
    )
}

fn generic() -> Case {
    Case {
        name: "generic",
        event: scenes::snapshot_failed(),
        maintenance: None,
        events: vec![],
        facts: ClusterFacts::default(),
        template: "generic.md",
    }
}

fn drill() -> Case {
    in_maintenance(
        "drill",
        vec![scenes::drill()],
        redis_primary_facts(),
        "redis-node-replacement.md",
    )
}

/// Names, texts and facts chosen to break every output: Slack mentions, HTML, Markdown
/// structure, template code and shell syntax.
pub const HOSTILE_CLUSTER: &str = "<!channel> `x` *y* $(reboot)";

fn hostile_names() -> Case {
    let mut event = Node {
        window: Some(window()),
        message: Some(
            "<!channel> ```\n- [app] forged step\n## Forged section\n{{ 7 * 7 }} {% if true %}x{% endif %}\n<script>alert(1)</script>".into(),
        ),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            HOSTILE_CLUSTER,
            "0001",
            "2026-06-18T03:12:00Z",
        )
    }
    .finish();
    event.replication_group_id = Some(ReplicationGroupId::parse("grp;rm -rf ~").unwrap());
    in_maintenance(
        "hostile-names",
        vec![event],
        ClusterFacts {
            replication_group_id: Some("grp;rm -rf ~".into()),
            replica_cluster_ids: Some(vec!["<@U0123>".into()]),
            primary_endpoint: Some("`host` & <b>".into()),
            pending_reboot_parameters: Some(vec!["<b>x</b> & **y**".into()]),
            latest_snapshot_at: Some(at("2026-06-22T03:10:00Z") - Duration::days(2)),
            cache_parameter_group: Some("pg`x` $(id) <b>".into()),
            reserved_memory_percent: Some(0),
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

/// A Memcached-shaped notice (node `0002`) for a cluster nothing is known about.
fn memcached_inferred() -> Case {
    let event = Node {
        window: Some(window()),
        message: Some(scheduled_text("pricing-mc", "0002")),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "pricing-mc",
            "0002",
            "2026-06-18T03:12:00Z",
        )
    }
    .finish();
    Case {
        name: "memcached-inferred",
        event,
        maintenance: None,
        events: vec![],
        facts: ClusterFacts::default(),
        template: "memcached-node-replacement.md",
    }
}

/// A Redis OSS 5.0.3 primary with Multi-AZ and an AUTH token: a version AWS's Multi-AZ page does
/// not cover, in Extended Support.
fn redis_version_not_covered() -> Case {
    in_maintenance(
        "redis-5-0-3",
        vec![scheduled("queue-001", "0001", Some("queue"))],
        ClusterFacts {
            engine_version: Some("5.0.3".into()),
            replication_group_id: Some("queue".into()),
            replicas_per_shard: Some(1),
            replica_cluster_ids: Some(vec!["queue-002".into()]),
            node_endpoint: Some("queue-001.queue.abc123.use1.cache.amazonaws.com".into()),
            primary_endpoint: Some("master.queue.abc123.use1.cache.amazonaws.com".into()),
            auth_token_enabled: Some(true),
            cache_parameter_group: Some("default.redis5.0".into()),
            reserved_memory_percent: None,
            reserved_memory_bytes: None,
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

/// A replica of a cluster-mode-enabled group with two replicas per shard.
fn redis_cluster_mode_enabled_replica() -> Case {
    in_maintenance(
        "redis-cluster-mode-enabled-replica",
        vec![scheduled("catalog-0003-002", "0001", Some("catalog"))],
        ClusterFacts {
            node_role: Some(NodeRole::Replica),
            node_group_id: Some("0003".into()),
            replica_cluster_ids: Some(vec!["catalog-0003-002".into(), "catalog-0003-003".into()]),
            node_endpoint: Some("catalog-0003-002.catalog.abc123.use1.cache.amazonaws.com".into()),
            ..catalog_facts()
        },
        "redis-node-replacement.md",
    )
}

/// A Valkey 9 primary of the secondary member of a Global Datastore, durable (synchronous
/// writes), with data tiering, TLS and role-based access control.
fn valkey_global_secondary() -> Case {
    in_maintenance(
        "valkey-global-secondary",
        vec![scheduled("ledger-001", "0001", Some("ledger"))],
        ClusterFacts {
            engine: Some(Engine::Valkey),
            engine_version: Some("9.0".into()),
            replication_group_id: Some("ledger".into()),
            replica_cluster_ids: Some(vec!["ledger-002".into(), "ledger-003".into()]),
            node_endpoint: Some("ledger-001.ledger.abc123.euw1.cache.amazonaws.com".into()),
            primary_endpoint: Some("master.ledger.abc123.euw1.cache.amazonaws.com".into()),
            reader_endpoint: Some("replica.ledger.abc123.euw1.cache.amazonaws.com".into()),
            user_group_ids: Some(vec!["ledger-users".into()]),
            data_tiering: Some(true),
            global_datastore_id: Some("ldgnf-ledger".into()),
            global_datastore_role: Some("secondary".into()),
            durability: Some("sync".into()),
            cache_parameter_group: Some("ledger-valkey9".into()),
            reserved_memory_percent: Some(10),
            ..redis_primary_facts()
        },
        "redis-node-replacement.md",
    )
}

/// A failover 19 days ago: CloudWatch keeps no 60-second data that old.
fn failover_19_days_ago() -> Case {
    let mut event = failover_event();
    event.occurred_at = at("2026-06-03T05:02:00Z");
    Case {
        name: "failover-19-days-ago",
        event,
        maintenance: None,
        events: vec![],
        facts: redis_primary_facts(),
        template: "failover-happened.md",
    }
}

/// Every case.
pub fn all() -> Vec<Case> {
    vec![
        redis_primary(),
        redis_replica(),
        redis_role_unknown(),
        redis_promote_old_engine(),
        redis_single_node(),
        redis_cluster_mode_enabled(),
        valkey_primary(),
        memcached_scheduled(),
        memcached_repeat(),
        memcached_replaced(),
        failover_unplanned(),
        failover_facts_unknown(),
        redis_replaced_without_notice(),
        rescheduled(),
        canceled(),
        generic(),
        drill(),
        hostile_names(),
        memcached_inferred(),
        redis_version_not_covered(),
        redis_cluster_mode_enabled_replica(),
        failover_19_days_ago(),
        valkey_global_secondary(),
        health_service_update(),
        health_engine_end_of_life(),
    ]
}

/// The first event of an AWS Health fixture, in the maintenance its communication makes.
fn health_case(name: &'static str, fixture: &str, template: &'static str) -> Case {
    let events = cachewatch_core::parse_document(fixture, &ParseContext::received_at(at(NOW)))
        .expect("the AWS Health fixture reads");
    let event = events[0].clone();
    let maintenance = lifecycle::assemble(std::slice::from_ref(&event)).remove(0);
    Case {
        name,
        event: event.clone(),
        maintenance: Some(maintenance),
        events: vec![event],
        facts: ClusterFacts::default(),
        template,
    }
}

/// A service update due for replication group `orders`, announced by AWS Health.
fn health_service_update() -> Case {
    health_case(
        "health-service-update",
        include_str!("../../../../tests/fixtures/health/service_update_due.json"),
        "service-update-due.md",
    )
}

/// An engine's end of standard support for cluster `legacy-cache-001`, announced by AWS Health.
fn health_engine_end_of_life() -> Case {
    health_case(
        "health-engine-end-of-life",
        include_str!("../../../../tests/fixtures/health/planned_lifecycle.json"),
        "engine-end-of-life.md",
    )
}

/// The case named `name`.
pub fn named(name: &str) -> Case {
    all()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}
