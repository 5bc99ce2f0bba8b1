//! What the runbook and the Slack cases are made of, built one way for both: a node's events
//! from what differs (kind, cluster, node, when), the scenarios both render (a replacement
//! announced again, moved or canceled, a drill, a failed snapshot, a failover) and the facts of
//! the two usual clusters. Each case file adds what it renders and the facts it needs beyond.

use chrono::{DateTime, Utc};

use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::intake::parse::{EventDraft, ParseContext};
use cachewatch_core::model::event::{FailoverNodes, MaintenanceEvent, Origin, Window};
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use cachewatch_core::model::kind::EventKind;

/// Now, unless a case says otherwise: Monday 22 June 2026, 09:00 UTC.
pub const NOW: &str = "2026-06-22T09:00:00Z";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The announced window: Thursday 25 June 2026, 19:00 to 20:00 UTC.
pub fn window() -> Window {
    Window {
        start: at("2026-06-25T19:00:00Z"),
        end: at("2026-06-25T20:00:00Z"),
    }
}

fn later_window() -> Window {
    Window {
        start: at("2026-07-02T19:00:00Z"),
        end: at("2026-07-02T20:00:00Z"),
    }
}

/// What a node event needs: kind, cluster, node, when.
pub struct Node<'a> {
    pub kind: &'a str,
    pub cluster: &'a str,
    pub node: &'a str,
    pub group: Option<&'a str>,
    pub at: &'a str,
    pub window: Option<Window>,
    pub previous: Option<Window>,
    pub message: Option<String>,
    pub region: Option<&'a str>,
    pub drill: bool,
}

impl<'a> Node<'a> {
    pub fn new(kind: &'a str, cluster: &'a str, node: &'a str, at: &'a str) -> Self {
        Self {
            kind,
            cluster,
            node,
            group: None,
            at,
            window: None,
            previous: None,
            message: None,
            region: Some("us-east-1"),
            drill: false,
        }
    }

    pub fn finish(self) -> MaintenanceEvent {
        let mut d = EventDraft::new(
            EventKind::new(self.kind),
            "cache-cluster".into(),
            SourceId::parse(self.cluster).unwrap(),
            Origin::DescribeEvents,
        );
        d.cluster_id = Some(ClusterId::parse(self.cluster).unwrap());
        d.node_id = Some(NodeId::parse(self.node).unwrap());
        d.replication_group_id = self.group.map(|g| ReplicationGroupId::parse(g).unwrap());
        d.occurred_at = Some(at(self.at));
        d.window = self.window;
        d.previous_window = self.previous;
        d.message = self.message;
        d.region = self.region.map(Into::into);
        d.account_id = self.region.map(|_| "123456789012".into());
        let ctx = ParseContext {
            received_at: at(self.at),
            drill: self.drill,
        };
        d.finish(&ctx)
    }
}

pub fn scheduled_text(cluster: &str, node: &str) -> String {
    format!(
        "The node with Cache Cluster ID: {cluster}, Node ID: {node} is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"
    )
}

pub fn scheduled(cluster: &str, node: &str, group: Option<&str>) -> MaintenanceEvent {
    Node {
        group,
        window: Some(window()),
        message: Some(scheduled_text(cluster, node)),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            cluster,
            node,
            "2026-06-18T03:12:00Z",
        )
    }
    .finish()
}

/// The replication group `group` failed over from `from` to `to` at `when`.
pub fn failover(from: &str, to: &str, group: &str, when: &str) -> MaintenanceEvent {
    let mut d = EventDraft::new(
        EventKind::new(EventKind::FAILOVER_COMPLETE),
        "replication-group".into(),
        SourceId::parse(group).unwrap(),
        Origin::Sns,
    );
    d.event_name = Some("ElastiCache:FailoverComplete".into());
    d.replication_group_id = Some(ReplicationGroupId::parse(group).unwrap());
    d.occurred_at = Some(at(when));
    d.message = Some(format!(
        "Failover from master node {from} to replica node {to} completed"
    ));
    d.failover = Some(FailoverNodes {
        from: Some(from.into()),
        to: Some(to.into()),
    });
    d.region = Some("us-east-1".into());
    d.account_id = Some("123456789012".into());
    d.finish(&ParseContext::received_at(at(when)))
}

/// The replacement of `billing-0001-001` 0001 announced, in eu-west-1.
pub fn billing_scheduled() -> MaintenanceEvent {
    Node {
        window: Some(window()),
        message: Some(scheduled_text("billing-0001-001", "0001")),
        region: Some("eu-west-1"),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "billing-0001-001",
            "0001",
            "2026-06-18T03:12:00Z",
        )
    }
    .finish()
}

/// `node` of `cluster` (in `group`) being replaced, from `at`.
pub fn replace_started(
    cluster: &str,
    node: &str,
    group: Option<&str>,
    at: &str,
) -> MaintenanceEvent {
    let message = format!("Recovering cache nodes {node}");
    let started = Node::new(EventKind::CACHE_NODE_REPLACE_STARTED, cluster, node, at);
    replacement_step(started, group, message)
}

/// `node` of `cluster` (in `group`) replaced, at `at`.
pub fn replace_completed(
    cluster: &str,
    node: &str,
    group: Option<&str>,
    at: &str,
) -> MaintenanceEvent {
    let message = format!("Finished recovery for cache nodes {node}");
    let completed = Node::new(EventKind::CACHE_NODE_REPLACE_COMPLETE, cluster, node, at);
    replacement_step(completed, group, message)
}

/// A step of a replacement: `node`'s event in `group`, saying `message`.
fn replacement_step<'a>(
    node: Node<'a>,
    group: Option<&'a str>,
    message: String,
) -> MaintenanceEvent {
    Node {
        group,
        message: Some(message),
        ..node
    }
    .finish()
}

/// A replacement of memcached node `sessions-mc` 0002 done on 20 June, announced again for
/// the window: three events.
pub fn memcached_repeat() -> Vec<MaintenanceEvent> {
    let first_window = Window {
        start: at("2026-06-20T19:00:00Z"),
        end: at("2026-06-20T20:00:00Z"),
    };
    let first = Node {
        window: Some(first_window),
        message: Some(
            "The node with Cache Cluster ID: sessions-mc, Node ID: 0002 is scheduled for replacement during the maintenance window from Start Time: Jun 20 19:00 UTC, End Time: Jun 20 20:00 UTC".into(),
        ),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "sessions-mc",
            "0002",
            "2026-06-12T03:12:00Z",
        )
    }
    .finish();
    let done = replace_completed("sessions-mc", "0002", None, "2026-06-20T19:24:00Z");
    let again = Node {
        window: Some(window()),
        message: Some(scheduled_text("sessions-mc", "0002")),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "sessions-mc",
            "0002",
            "2026-06-21T03:12:00Z",
        )
    }
    .finish();
    vec![first, done, again]
}

/// The replacement of `orders-0001-001` 0001 announced, then moved a week later.
pub fn rescheduled() -> Vec<MaintenanceEvent> {
    let moved = Node {
        window: Some(later_window()),
        previous: Some(window()),
        message: Some(
            "The replacement in maintenance window for node with Cache Cluster ID: orders-0001-001, Node ID: 0001 has re-scheduled from Previous Start Time: Jun 25 19:00 UTC, Previous End Time: Jun 25 20:00 UTC to New Start Time: Jul 02 19:00 UTC, New End Time: Jul 02 20:00 UTC".into(),
        ),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_RESCHEDULED,
            "orders-0001-001",
            "0001",
            "2026-06-21T16:40:00Z",
        )
    }
    .finish();
    vec![scheduled("orders-0001-001", "0001", None), moved]
}

/// The replacement of `orders-0001-001` 0001 announced, then canceled.
pub fn canceled() -> Vec<MaintenanceEvent> {
    let canceled = Node {
        window: Some(window()),
        message: Some(
            "The replacement for Cache Cluster ID: orders-0001-001, Node ID: 0001 scheduled during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC has been canceled".into(),
        ),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_CANCELED,
            "orders-0001-001",
            "0001",
            "2026-06-21T16:40:00Z",
        )
    }
    .finish();
    vec![scheduled("orders-0001-001", "0001", None), canceled]
}

/// A drill's replacement of `orders-0001-001` 0001, announced five minutes ago.
pub fn drill() -> MaintenanceEvent {
    Node {
        window: Some(window()),
        message: Some(scheduled_text("orders-0001-001", "0001")),
        drill: true,
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "orders-0001-001",
            "0001",
            "2026-06-22T08:55:00Z",
        )
    }
    .finish()
}

/// A failed snapshot of `orders-0001-002`: actionable, about no node, no template of its own.
pub fn snapshot_failed() -> MaintenanceEvent {
    let mut event = Node {
        message: Some(
            "Snapshot failed for snapshot with ID 'orders-nightly' of cache cluster with ID 'orders-0001-002'".into(),
        ),
        ..Node::new(
            EventKind::SNAPSHOT_FAILED,
            "orders-0001-002",
            "0001",
            "2026-06-22T03:15:00Z",
        )
    }
    .finish();
    event.node_id = None;
    event.actionable = true;
    event
}

/// The replacement of Valkey node `feeds-001` 0001 (group `feeds`) announced, in `region`.
pub fn feeds_scheduled(region: Option<&'static str>) -> MaintenanceEvent {
    Node {
        group: Some("feeds"),
        window: Some(window()),
        message: Some(scheduled_text("feeds-001", "0001")),
        region,
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            "feeds-001",
            "0001",
            "2026-06-18T03:12:00Z",
        )
    }
    .finish()
}

/// A Redis OSS 7.1 primary of a cluster-mode-disabled group with two replicas and automatic
/// failover: the healthy, common case.
pub fn redis_primary_facts() -> ClusterFacts {
    ClusterFacts {
        engine: Some(Engine::Redis),
        engine_version: Some("7.1.0".into()),
        replication_group_id: Some("orders".into()),
        cluster_mode_enabled: Some(false),
        node_role: Some(NodeRole::Primary),
        multi_az: Some(true),
        automatic_failover: Some(true),
        replicas_per_shard: Some(2),
        node_group_id: Some("0001".into()),
        replica_cluster_ids: Some(vec!["orders-0001-002".into(), "orders-0001-003".into()]),
        node_endpoint: Some("orders-0001-001.orders.abc123.use1.cache.amazonaws.com".into()),
        primary_endpoint: Some("master.orders.abc123.use1.cache.amazonaws.com".into()),
        reader_endpoint: Some("replica.orders.abc123.use1.cache.amazonaws.com".into()),
        configuration_endpoint: None,
        port: Some(6379),
        tls_in_transit: Some(true),
        preferred_maintenance_window: Some("thu:19:00-thu:20:00".into()),
        snapshot_retention_days: Some(7),
        latest_snapshot_at: Some(at("2026-06-22T03:10:00Z")),
        pending_reboot_parameters: Some(vec![]),
        production: Some(true),
        unavailable: None,
        auth_token_enabled: Some(false),
        user_group_ids: Some(vec![]),
        ..ClusterFacts::default()
    }
}

/// `orders-0001-002`, the one replica of its shard, on the facts of its primary `primary`.
pub fn orders_replica(primary: ClusterFacts) -> ClusterFacts {
    ClusterFacts {
        node_role: Some(NodeRole::Replica),
        replicas_per_shard: Some(1),
        replica_cluster_ids: Some(vec!["orders-0001-002".into()]),
        node_endpoint: Some("orders-0001-002.orders.abc123.use1.cache.amazonaws.com".into()),
        ..primary
    }
}

pub fn memcached_facts() -> ClusterFacts {
    ClusterFacts {
        engine: Some(Engine::Memcached),
        engine_version: Some("1.6.22".into()),
        configuration_endpoint: Some("sessions-mc.x1y2z3.cfg.use1.cache.amazonaws.com".into()),
        port: Some(11211),
        pending_reboot_parameters: Some(vec![]),
        production: Some(true),
        ..ClusterFacts::default()
    }
}
